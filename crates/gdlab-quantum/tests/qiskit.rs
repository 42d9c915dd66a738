//! `Circuit::run` against Qiskit's `Statevector` on the circuits in `scripts/reference/quantum/`.
//!
//! Fixture: `tests/fixtures/qiskit_statevector.json`, made by
//! `scripts/reference/quantum_statevector.py` (qiskit 2.6.2):
//! ```python
//! sv = Statevector.from_label("0" * n)        # or Statevector(initial)
//! sv = sv.evolve(qc)                          # qc built gate by gate from the JSON
//! z = sv.expectation_value(SparsePauliOp("I"*(n-1-q) + "Z" + "I"*q))
//! ```
//! Tolerance: independent f64 implementations, 1e-12 absolute on every amplitude (the issue's
//! acceptance bound).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use gdlab_quantum::circuit::Circuit;
use gdlab_quantum::state::MemoryBudget;

#[test]
fn every_reference_circuit_matches_qiskit_to_1e_12() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let fixture: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/qiskit_statevector.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert!(fixture["source"]["library"]
        .as_str()
        .unwrap()
        .contains("qiskit"));
    let cases = fixture["cases"].as_array().unwrap();
    assert!(cases.len() >= 7);
    for case in cases {
        let path = root.join(case["circuit"].as_str().unwrap());
        let circuit =
            Circuit::from_json(&std::fs::read_to_string(&path).unwrap(), "fixture").unwrap();
        let r = circuit.run(&MemoryBudget::bytes(1 << 30)).unwrap();
        let want = case["amplitudes"].as_array().unwrap();
        assert_eq!(want.len(), r.amplitudes.len());
        let mut worst = 0.0f64;
        for (a, w) in r.amplitudes.iter().zip(want) {
            let (re, im) = (w[0].as_f64().unwrap(), w[1].as_f64().unwrap());
            worst = worst.max((a[0] - re).abs()).max((a[1] - im).abs());
        }
        assert!(worst <= 1e-12, "{}: max |Δ| = {worst:e}", path.display());
        for (z, w) in r.expect_z.iter().zip(case["expect_z"].as_array().unwrap()) {
            assert!(
                (z - w.as_f64().unwrap()).abs() <= 1e-12,
                "{}",
                path.display()
            );
        }
    }
}
