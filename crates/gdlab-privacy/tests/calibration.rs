//! `calibrate` against `dp_accounting` (PLD accountant, one Gaussian event) and a 60-digit
//! mpmath solution of the analytic formula: fixture made by
//! `scripts/reference/dp_calibrate.py` (dp-accounting 0.6.0; see the fixture's `source`).
//!
//! ```python
//! dp_accounting.calibrate_dp_mechanism(
//!     lambda: PLDAccountant(value_discretization_interval=1e-4),
//!     dp_accounting.GaussianDpEvent, eps, delta, bracket_interval=..., tol=1e-12)
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used)]

use gdlab_privacy::accounting::{calibrate, Calibration};

#[test]
fn analytic_sigma_matches_dp_accounting_and_mpmath() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/dp_calibrate.json"
    );
    let f: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    assert!(f["source"]["script"]
        .as_str()
        .unwrap()
        .contains("dp_calibrate.py"));
    let cases = f["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 4);
    for c in cases {
        let eps = c["epsilon"].as_f64().unwrap();
        let delta = c["delta"].as_f64().unwrap();
        let ours = calibrate(eps, delta, 1.0, Calibration::Analytic)
            .unwrap()
            .noise_multiplier;
        // acceptance: 1e-6 relative vs the PLD accountant (they agree to ~1e-12 here)
        gdlab_core::assert_close!(ours, c["sigma_pld"].as_f64().unwrap(), rel = 1e-6);
        // our f64 bisection vs a 60-digit solution of the same formula
        gdlab_core::assert_close!(ours, c["sigma_analytic"].as_f64().unwrap(), rel = 1e-10);
        // σ scales linearly with the sensitivity
        let s3 = calibrate(eps, delta, 3.0, Calibration::Analytic)
            .unwrap()
            .sigma;
        gdlab_core::assert_close!(s3, 3.0 * ours, rel = 1e-12);
    }
}
