#!/usr/bin/env python3
"""Reference final states for `gdlab quantum simulate`, computed with Qiskit's Statevector.

Writes the circuits to scripts/reference/quantum/<name>.json (the JSON circuit format of
gdlab-quantum: n_qubits, optional initial [re, im] amplitudes, gates by name) and the
expected amplitudes and <Z_q> to crates/gdlab-quantum/tests/fixtures/qiskit_statevector.json.

Qiskit's qubit order is little-endian (qubit 0 = least-significant bit), the same as
gdlab-quantum, so no permutation is needed.

Run (outside the repo's environment):
    python3 -m venv /work/venv-q && /work/venv-q/bin/pip install qiskit numpy
    /work/venv-q/bin/python scripts/reference/quantum_statevector.py
"""
import json
import os

import numpy as np
import qiskit
from qiskit import QuantumCircuit
from qiskit.circuit.library import QFT, UnitaryGate
from qiskit.quantum_info import SparsePauliOp, Statevector

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CIRCUITS = os.path.join(ROOT, "scripts", "reference", "quantum")
FIXTURE = os.path.join(ROOT, "crates", "gdlab-quantum", "tests", "fixtures", "qiskit_statevector.json")

ONE_Q = ["h", "x", "y", "z", "s", "sdg", "t", "tdg", "sx"]
ONE_Q_PARAM = ["rx", "ry", "rz", "p"]
TWO_Q = ["cx", "cz", "swap"]


def apply(qc, g, n):
    name, qs, ps = g["name"], g.get("qubits", []), g.get("params", [])
    if name in ONE_Q:
        getattr(qc, name)(qs[0])
    elif name in ONE_Q_PARAM:
        getattr(qc, name)(ps[0], qs[0])
    elif name == "u":
        qc.u(ps[0], ps[1], ps[2], qs[0])
    elif name in TWO_Q:
        getattr(qc, name)(qs[0], qs[1])
    elif name == "qft":
        qc.append(QFT(n), range(n))
    elif name == "iqft":
        qc.append(QFT(n, inverse=True), range(n))
    elif name == "walsh_hadamard":
        for q in range(n):
            qc.h(q)
    elif name == "phases":
        qc.append(UnitaryGate(np.diag(np.exp(1j * np.array(ps)))), range(n))
    else:
        raise ValueError(name)


def random_circuit(rng, n, n_gates, with_initial, whole_register):
    gates = []
    for _ in range(n_gates):
        kind = rng.integers(0, 4 if n > 1 else 2)
        if kind == 0:
            gates.append({"name": str(rng.choice(ONE_Q)), "qubits": [int(rng.integers(n))]})
        elif kind == 1:
            name = str(rng.choice(ONE_Q_PARAM + ["u"]))
            k = 3 if name == "u" else 1
            gates.append({"name": name, "qubits": [int(rng.integers(n))],
                          "params": [float(v) for v in rng.uniform(-np.pi, np.pi, k)]})
        else:
            a, b = rng.choice(n, 2, replace=False)
            gates.append({"name": str(rng.choice(TWO_Q)), "qubits": [int(a), int(b)]})
    if whole_register:
        gates.insert(len(gates) // 2, {"name": "qft"})
        gates.append({"name": "phases", "params": [float(v) for v in rng.uniform(-np.pi, np.pi, 2 ** n)]})
        gates.append({"name": "walsh_hadamard"})
        gates.append({"name": "iqft"})
    c = {"n_qubits": n, "gates": gates}
    if with_initial:
        v = rng.normal(size=2 ** n) + 1j * rng.normal(size=2 ** n)
        v /= np.linalg.norm(v)
        c["initial"] = [[float(z.real), float(z.imag)] for z in v]
    return c


def model_circuit(rng, n, layers):
    """The spec §2.0 model: L × (Bob: diag(e^{i s x}) then H_N; Alice: diag(e^{iθ}) then H_N)."""
    x = rng.uniform(-1, 1, 2 ** n)
    gates = []
    for _ in range(layers):
        gates.append({"name": "phases", "params": [float(v) for v in np.pi * x]})
        gates.append({"name": "walsh_hadamard"})
        gates.append({"name": "phases", "params": [float(v) for v in rng.uniform(0, 2 * np.pi, 2 ** n)]})
        gates.append({"name": "walsh_hadamard"})
    return {"n_qubits": n, "gates": gates}


def main():
    rng = np.random.default_rng(20240610)
    specs = [
        ("bell", {"n_qubits": 2, "gates": [{"name": "h", "qubits": [0]}, {"name": "cx", "qubits": [0, 1]}]}),
        ("ghz5", {"n_qubits": 5, "gates": [{"name": "h", "qubits": [0]}] +
                  [{"name": "cx", "qubits": [q, q + 1]} for q in range(4)]}),
        ("random_1q", random_circuit(rng, 1, 12, False, False)),
        ("random_3q", random_circuit(rng, 3, 40, False, True)),
        ("random_4q_initial", random_circuit(rng, 4, 60, True, True)),
        ("random_6q", random_circuit(rng, 6, 120, False, True)),
        ("model_n4_L3", model_circuit(rng, 4, 3)),
    ]
    os.makedirs(CIRCUITS, exist_ok=True)
    os.makedirs(os.path.dirname(FIXTURE), exist_ok=True)
    cases = []
    for name, c in specs:
        n = c["n_qubits"]
        qc = QuantumCircuit(n)
        for g in c["gates"]:
            apply(qc, g, n)
        if "initial" in c:
            sv = Statevector(np.array([complex(a, b) for a, b in c["initial"]]))
        else:
            sv = Statevector.from_label("0" * n)
        sv = sv.evolve(qc)
        z = [float(np.real(sv.expectation_value(SparsePauliOp("I" * (n - 1 - q) + "Z" + "I" * q))))
             for q in range(n)]
        with open(os.path.join(CIRCUITS, name + ".json"), "w") as f:
            json.dump(c, f, indent=1)
            f.write("\n")
        cases.append({
            "circuit": f"scripts/reference/quantum/{name}.json",
            "amplitudes": [[float(a.real), float(a.imag)] for a in sv.data],
            "expect_z": z,
        })
    out = {
        "source": {
            "script": "scripts/reference/quantum_statevector.py",
            "library": f"qiskit {qiskit.__version__}, numpy {np.__version__}",
            "command": "/work/venv-q/bin/python scripts/reference/quantum_statevector.py",
            "what": "Statevector.from_label('0'*n) (or the given initial amplitudes).evolve(circuit); "
                    "expectation_value(SparsePauliOp) for <Z_q>; little-endian order",
        },
        "cases": cases,
    }
    with open(FIXTURE, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"wrote {len(cases)} circuits and {FIXTURE}")


if __name__ == "__main__":
    main()
