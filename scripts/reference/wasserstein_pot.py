#!/usr/bin/env python3
"""Reference values for gdlab-wasserstein from POT (Python Optimal Transport), issue 9.

Cases:
1. sliced Wasserstein SW_2 with EXPLICIT projection directions (exported, so the Rust
   comparison is exact up to rounding): `ot.sliced_wasserstein_distance(X, Y, a, b,
   projections=Theta)` with Theta of shape (d, L), uniform weights; n = m and n != m
   (POT solves each 1-D problem with `emd_1d`, exact for unequal sizes).
2. the same with POT's own random projections (`n_projections=L, seed=...`): the Rust
   test compares its own random-direction estimate with a tolerance derived from the
   number of projections.
3. Gaussian W_2 between N(m0, S0) and N(m1, S1): `ot.gaussian.bures_wasserstein_distance`.

Output: crates/gdlab-wasserstein/tests/fixtures/pot_reference.json

Run (outside CI; throwaway venv):
    python3 -m venv /work/venv-w && /work/venv-w/bin/pip install numpy pot scipy
    /work/venv-w/bin/python scripts/reference/wasserstein_pot.py
"""
import json
import os
import platform

import numpy as np
import ot

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "crates", "gdlab-wasserstein",
                   "tests", "fixtures", "pot_reference.json")


def sliced_case(name, n, m, d, L, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    Y = rng.standard_normal((m, d)) @ np.diag(np.linspace(0.5, 2.0, d)) + 1.0
    theta = rng.standard_normal((d, L))
    theta /= np.linalg.norm(theta, axis=0, keepdims=True)
    a = np.full(n, 1.0 / n)
    b = np.full(m, 1.0 / m)
    sw = ot.sliced_wasserstein_distance(X, Y, a, b, projections=theta)
    return {
        "name": name, "n": n, "m": m, "dim": d, "n_projections": L,
        "x": X.tolist(), "y": Y.tolist(),
        "directions": theta.T.tolist(),  # L x d (gdlab's layout)
        "sw": float(sw),
    }


def random_case(name, n, m, d, L, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    Y = rng.standard_normal((m, d)) * 1.5 + np.arange(d) * 0.3
    sw = ot.sliced_wasserstein_distance(X, Y, n_projections=L, seed=seed)
    return {"name": name, "n": n, "m": m, "dim": d, "n_projections": L,
            "x": X.tolist(), "y": Y.tolist(), "sw": float(sw), "pot_seed": seed}


def gaussian_case(seed, d):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((d, d))
    B = rng.standard_normal((d, d))
    S0 = A @ A.T + 0.5 * np.eye(d)
    S1 = B @ B.T + 0.2 * np.eye(d)
    m0 = rng.standard_normal(d)
    m1 = rng.standard_normal(d)
    w = ot.gaussian.bures_wasserstein_distance(m0, m1, S0, S1)
    return {"dim": d, "m0": m0.tolist(), "m1": m1.tolist(), "s0": S0.tolist(),
            "s1": S1.tolist(), "w2": float(w)}


def main():
    fixture = {
        "source": {
            "script": "scripts/reference/wasserstein_pot.py",
            "library": "POT (ot) {} / numpy {}".format(ot.__version__, np.__version__),
            "python": platform.python_version(),
            "command": "/work/venv-w/bin/python scripts/reference/wasserstein_pot.py",
            "functions": "ot.sliced_wasserstein_distance (p=2, uniform weights), "
                         "ot.gaussian.bures_wasserstein_distance",
            "note": "sw is SW_2 = sqrt(mean over directions of the 1-D W_2^2); w2 is W_2 (not squared)",
        },
        "sliced_exact": [
            sliced_case("equal sizes", 40, 40, 3, 50, 1),
            sliced_case("unequal sizes", 30, 45, 4, 25, 2),
        ],
        "sliced_random": [random_case("random directions", 300, 300, 5, 2000, 3)],
        "gaussian_w2": [gaussian_case(4, 3), gaussian_case(5, 6)],
    }
    with open(OUT, "w") as f:
        json.dump(fixture, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
