//! A small JSON circuit description, run by `gdlab quantum simulate`.
//!
//! ```json
//! {
//!   "n_qubits": 3,
//!   "initial": [[0.6, 0.0], [0.8, 0.0], ...],   // optional: 2^n [re, im] pairs, normalised
//!   "gates": [
//!     {"name": "h", "qubits": [0]},
//!     {"name": "cx", "qubits": [0, 1]},            // control, target
//!     {"name": "ry", "qubits": [2], "params": [0.3]},
//!     {"name": "walsh_hadamard"},                  // H on every qubit (fast transform)
//!     {"name": "phases", "params": [...]}          // diag(e^{iφ_j}), 2^n angles
//!   ]
//! }
//! ```
//!
//! Gate names (Qiskit's, lower case): `id`, `h`, `x`, `y`, `z`, `s`, `sdg`, `t`, `tdg`,
//! `sx`, `rx`, `ry`, `rz`, `p`, `u` (θ, φ, λ), `cx`/`cnot`, `cz`, `swap`, `qft`, `iqft`,
//! `walsh_hadamard`, `phases`. Qubit order is little-endian (Qiskit's).

use num_complex::Complex64;
use serde::{Deserialize, Serialize};

use crate::error::{QuantumError, Result};
use crate::state::{gates, MemoryBudget, StateVector};

/// The gate names [`Circuit::run`] accepts.
pub const KNOWN_GATES: &str = "id, h, x, y, z, s, sdg, t, tdg, sx, rx, ry, rz, p, u, cx (cnot), cz, swap, qft, iqft, walsh_hadamard, phases";

/// One gate of a [`Circuit`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gate {
    /// Gate name (see [`KNOWN_GATES`]).
    pub name: String,
    /// Qubits it acts on (for `cx`: control then target).
    #[serde(default)]
    pub qubits: Vec<usize>,
    /// Angles (radians).
    #[serde(default)]
    pub params: Vec<f64>,
}

/// A circuit: register size, optional initial amplitudes and a gate list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Circuit {
    /// Number of qubits.
    pub n_qubits: usize,
    /// Optional initial amplitudes as `[re, im]` pairs (normalised on load); `|0…0⟩` when
    /// absent.
    #[serde(default)]
    pub initial: Option<Vec<[f64; 2]>>,
    /// The gates, applied in order.
    pub gates: Vec<Gate>,
}

/// The result of running a circuit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SimulationResult {
    /// Number of qubits.
    pub n_qubits: usize,
    /// Final amplitudes as `[re, im]` (little-endian index order).
    pub amplitudes: Vec<[f64; 2]>,
    /// ⟨Z_q⟩ for q = 0..n.
    pub expect_z: Vec<f64>,
    /// ⟨P₀⟩ on qubit 0 (probability that qubit 0 reads 0).
    pub expect_p0: f64,
    /// ‖ψ‖ (1 up to rounding).
    pub norm: f64,
}

fn arity(name: &str) -> Option<(usize, usize)> {
    // (number of qubits, number of params); usize::MAX qubits = whole register
    Some(match name {
        "id" | "h" | "x" | "y" | "z" | "s" | "sdg" | "t" | "tdg" | "sx" => (1, 0),
        "rx" | "ry" | "rz" | "p" => (1, 1),
        "u" => (1, 3),
        "cx" | "cnot" | "cz" | "swap" => (2, 0),
        "qft" | "iqft" | "walsh_hadamard" => (usize::MAX, 0),
        "phases" => (usize::MAX, usize::MAX),
        _ => return None,
    })
}

impl Circuit {
    /// Parses a JSON circuit.
    ///
    /// # Errors
    /// [`QuantumError::Parse`] with serde's message (line 0 = not line-specific).
    pub fn from_json(text: &str, path: &str) -> Result<Self> {
        serde_json::from_str(text).map_err(|e| QuantumError::Parse {
            path: path.to_string(),
            line: e.line(),
            reason: e.to_string(),
        })
    }

    /// Checks every gate (name, qubit count and range, angle count and finiteness) and the
    /// register size against `budget`, without allocating the register.
    ///
    /// # Errors
    /// [`QuantumError::UnknownGate`], [`QuantumError::QubitOutOfRange`],
    /// [`QuantumError::BadGate`], [`QuantumError::TooManyQubits`],
    /// [`QuantumError::BadState`] for bad initial amplitudes.
    pub fn validate(&self, budget: &MemoryBudget) -> Result<()> {
        if self.n_qubits == 0 {
            return Err(QuantumError::BadState {
                field: "n_qubits",
                reason: "must be ≥ 1".into(),
            });
        }
        budget.check(self.n_qubits, 1, 0, "the circuit's state vector")?;
        let dim = 1usize << self.n_qubits;
        if let Some(init) = &self.initial {
            if init.len() != dim {
                return Err(QuantumError::BadState {
                    field: "initial",
                    reason: format!(
                        "expected 2^{} = {dim} amplitudes, got {}",
                        self.n_qubits,
                        init.len()
                    ),
                });
            }
        }
        for (index, g) in self.gates.iter().enumerate() {
            let (nq, np) = arity(&g.name).ok_or_else(|| QuantumError::UnknownGate {
                name: g.name.clone(),
                index,
                known: KNOWN_GATES,
            })?;
            let bad = |reason: String| QuantumError::BadGate {
                gate: g.name.clone(),
                index,
                reason,
            };
            if nq == usize::MAX {
                if !g.qubits.is_empty() {
                    return Err(bad("acts on the whole register; give no `qubits`".into()));
                }
            } else {
                if g.qubits.len() != nq {
                    return Err(bad(format!("needs {nq} qubit(s), got {}", g.qubits.len())));
                }
                for &q in &g.qubits {
                    if q >= self.n_qubits {
                        return Err(QuantumError::QubitOutOfRange {
                            op: format!("gate `{}` (gate {index})", g.name),
                            qubit: q,
                            n_qubits: self.n_qubits,
                        });
                    }
                }
                if nq == 2 && g.qubits[0] == g.qubits[1] {
                    return Err(bad(format!("both qubits are {}", g.qubits[0])));
                }
            }
            let want = if np == usize::MAX { dim } else { np };
            if g.params.len() != want {
                return Err(bad(format!(
                    "needs {want} angle(s), got {}",
                    g.params.len()
                )));
            }
            if g.params.iter().any(|p| !p.is_finite()) {
                return Err(bad("angles must be finite".into()));
            }
        }
        Ok(())
    }

    /// Validates, then runs the circuit.
    ///
    /// # Errors
    /// As [`Circuit::validate`].
    ///
    /// # Examples
    /// ```
    /// use gdlab_quantum::circuit::Circuit;
    /// use gdlab_quantum::state::MemoryBudget;
    /// let c = Circuit::from_json(
    ///     r#"{"n_qubits": 2, "gates": [{"name": "h", "qubits": [0]}, {"name": "cx", "qubits": [0, 1]}]}"#,
    ///     "bell.json",
    /// ).unwrap();
    /// let r = c.run(&MemoryBudget::bytes(1 << 20)).unwrap();
    /// assert!((r.amplitudes[3][0] - 0.5f64.sqrt()).abs() < 1e-15);
    /// assert!(r.expect_z[0].abs() < 1e-15);
    /// ```
    pub fn run(&self, budget: &MemoryBudget) -> Result<SimulationResult> {
        self.validate(budget)?;
        let mut psi = match &self.initial {
            Some(init) => StateVector::from_amplitudes(
                init.iter()
                    .map(|&[re, im]| Complex64::new(re, im))
                    .collect(),
            )?,
            None => StateVector::zeros(self.n_qubits, budget)?,
        };
        for g in &self.gates {
            let q = |i: usize| g.qubits[i];
            let a = |i: usize| g.params[i];
            let pi = std::f64::consts::PI;
            match g.name.as_str() {
                "id" => {}
                "h" => psi.apply_1q(&gates::h(), q(0))?,
                "x" => psi.apply_1q(&gates::x(), q(0))?,
                "y" => psi.apply_1q(&gates::y(), q(0))?,
                "z" => psi.apply_1q(&gates::z(), q(0))?,
                "s" => psi.apply_1q(&gates::p(pi / 2.0), q(0))?,
                "sdg" => psi.apply_1q(&gates::p(-pi / 2.0), q(0))?,
                "t" => psi.apply_1q(&gates::p(pi / 4.0), q(0))?,
                "tdg" => psi.apply_1q(&gates::p(-pi / 4.0), q(0))?,
                "sx" => {
                    let h = Complex64::new(0.5, 0.5);
                    let l = Complex64::new(0.5, -0.5);
                    psi.apply_1q(&[[h, l], [l, h]], q(0))?;
                }
                "rx" => psi.apply_1q(&gates::rx(a(0)), q(0))?,
                "ry" => psi.apply_1q(&gates::ry(a(0)), q(0))?,
                "rz" => psi.apply_1q(&gates::rz(a(0)), q(0))?,
                "p" => psi.apply_1q(&gates::p(a(0)), q(0))?,
                "u" => psi.apply_1q(&gates::u(a(0), a(1), a(2)), q(0))?,
                "cx" | "cnot" => psi.cnot(q(0), q(1))?,
                "cz" => psi.cz(q(0), q(1))?,
                "swap" => psi.swap(q(0), q(1))?,
                "qft" => psi.qft(false),
                "iqft" => psi.qft(true),
                "walsh_hadamard" => psi.walsh_hadamard(),
                "phases" => psi.apply_phases(&g.params),
                other => {
                    return Err(QuantumError::UnknownGate {
                        name: other.to_string(),
                        index: 0,
                        known: KNOWN_GATES,
                    })
                }
            }
        }
        let expect_z = (0..self.n_qubits).map(|q| psi.expect_z(q)).collect();
        Ok(SimulationResult {
            n_qubits: self.n_qubits,
            amplitudes: psi.amplitudes().iter().map(|c| [c.re, c.im]).collect(),
            expect_z,
            expect_p0: psi.expect_p0(0),
            norm: psi.norm(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Circuit {
        Circuit::from_json(s, "t.json").unwrap()
    }

    #[test]
    fn errors_name_the_problem() {
        let b = MemoryBudget::bytes(1 << 30);
        let e = parse(r#"{"n_qubits": 2, "gates": [{"name": "foo", "qubits": [0]}]}"#)
            .run(&b)
            .unwrap_err();
        assert!(e.to_string().contains("unknown gate `foo`"), "{e}");
        let e = parse(r#"{"n_qubits": 2, "gates": [{"name": "h", "qubits": [2]}]}"#)
            .run(&b)
            .unwrap_err();
        assert!(e.to_string().contains("qubit 2 out of range"), "{e}");
        let e = parse(r#"{"n_qubits": 2, "gates": [{"name": "rx", "qubits": [0]}]}"#)
            .run(&b)
            .unwrap_err();
        assert!(e.to_string().contains("needs 1 angle"), "{e}");
        let e = parse(r#"{"n_qubits": 36, "gates": []}"#)
            .run(&b)
            .unwrap_err();
        assert!(matches!(e, QuantumError::TooManyQubits { .. }), "{e}");
        assert!(Circuit::from_json(r#"{"n_qubits": 2}"#, "x").is_err());
        assert!(Circuit::from_json(r#"{"n_qubits": 2, "gates": [], "extra": 1}"#, "x").is_err());
    }

    #[test]
    fn sx_squared_is_x_and_u_matches_ry() {
        let b = MemoryBudget::bytes(1 << 20);
        let r = parse(
            r#"{"n_qubits": 1, "gates": [{"name": "sx", "qubits": [0]}, {"name": "sx", "qubits": [0]}]}"#,
        )
        .run(&b)
        .unwrap();
        assert!((r.amplitudes[1][0] - 1.0).abs() < 1e-15);
        let u = parse(
            r#"{"n_qubits": 1, "gates": [{"name": "u", "qubits": [0], "params": [0.7, 0, 0]}]}"#,
        )
        .run(&b)
        .unwrap();
        let y =
            parse(r#"{"n_qubits": 1, "gates": [{"name": "ry", "qubits": [0], "params": [0.7]}]}"#)
                .run(&b)
                .unwrap();
        for (p, q) in u.amplitudes.iter().zip(&y.amplitudes) {
            assert!((p[0] - q[0]).abs() < 1e-15 && (p[1] - q[1]).abs() < 1e-15);
        }
    }
}
