//! Noise calibration for one Gaussian release of `C X` with L2 sensitivity `Δ` (spec §4).
//!
//! Two methods, selectable and labelled in every output:
//!
//! * [`Calibration::Analytic`] — the exact analytic Gaussian mechanism (Balle & Wang 2018):
//!   with `μ = Δ/σ`, the mechanism is `(ε, δ)`-DP iff
//!   $$ δ(ε) = Φ(−ε/μ + μ/2) − e^{ε}\,Φ(−ε/μ − μ/2) ≤ δ, $$
//!   and `σ` is the smallest such value, found by bisection (δ(ε) decreases in `σ`). This is
//!   what a PLD accountant (`dp_accounting`) computes for a single Gaussian event, up to its
//!   discretization. `Φ` uses `libm::erfc` (`Φ(x) = erfc(−x/√2)/2`), accurate in the tails.
//! * [`Calibration::Classical`] — `σ = Δ·√(2 ln(1.25/δ))/ε`, the formula of the BSR authors'
//!   code (their σ = 0.54 at (9, 1e−5)). Only proven for `ε < 1` (Dwork & Roth, Thm A.1);
//!   [`Calibrated::classical_proven`] says whether that holds.
//!
//! No amplification by subsampling (the paper's setting, spec §4).

use gdlab_core::ConfigError;
use serde::Serialize;

use crate::error::{PrivacyError, Result};

/// The calibration method.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Calibration {
    /// Exact analytic Gaussian mechanism (bisection).
    Analytic,
    /// `√(2 ln(1.25/δ))/ε` (only proven for ε < 1).
    Classical,
}

impl Calibration {
    /// `analytic` or `classical`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Calibration::Analytic => "analytic",
            Calibration::Classical => "classical",
        }
    }
}

/// A calibrated noise scale.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Calibrated {
    /// The method.
    pub method: Calibration,
    /// Target ε.
    pub epsilon: f64,
    /// Target δ.
    pub delta: f64,
    /// The L2 sensitivity Δ.
    pub sensitivity: f64,
    /// Noise multiplier `σ/Δ` (the noise std for a sensitivity-1 release).
    pub noise_multiplier: f64,
    /// Absolute noise std `σ`.
    pub sigma: f64,
    /// The exact δ(ε) of the analytic Gaussian mechanism at this σ.
    pub achieved_delta: f64,
    /// For the classical method: whether `ε < 1`, where the formula is proven.
    pub classical_proven: bool,
}

/// The standard normal CDF `Φ(x) = erfc(−x/√2)/2`.
#[must_use]
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * libm::erfc(-x / std::f64::consts::SQRT_2)
}

/// `δ(ε)` of the Gaussian mechanism with noise std `sigma` and sensitivity `sensitivity`.
/// The second term is evaluated as `exp(ε + ln Φ(·))` so that large ε does not overflow.
#[must_use]
pub fn analytic_gaussian_delta(epsilon: f64, sigma: f64, sensitivity: f64) -> f64 {
    let mu = sensitivity / sigma;
    let a = normal_cdf(-epsilon / mu + mu / 2.0);
    let phi_b = normal_cdf(-epsilon / mu - mu / 2.0);
    let b = if phi_b > 0.0 {
        (epsilon + phi_b.ln()).exp()
    } else {
        0.0
    };
    (a - b).max(0.0)
}

fn validate(epsilon: f64, delta: f64, sensitivity: f64) -> Result<()> {
    if !(epsilon > 0.0 && epsilon <= 500.0) {
        return Err(ConfigError::OutOfRange {
            field: "epsilon",
            value: epsilon,
            allowed: "(0, 500]",
        }
        .into());
    }
    if !(delta > 0.0 && delta < 1.0) {
        return Err(ConfigError::OutOfRange {
            field: "delta",
            value: delta,
            allowed: "(0, 1)",
        }
        .into());
    }
    ConfigError::check_positive("sensitivity", sensitivity)?;
    Ok(())
}

/// The noise std for one Gaussian release at `(ε, δ)` with L2 sensitivity `Δ`.
///
/// # Errors
/// [`ConfigError::OutOfRange`] for `ε ∉ (0, 500]`, `δ ∉ (0, 1)` or `Δ ≤ 0`;
/// [`PrivacyError::Numerical`] if the bisection cannot bracket the root.
///
/// # Examples
/// ```
/// use gdlab_privacy::accounting::{calibrate, Calibration};
/// let c = calibrate(9.0, 1e-5, 1.0, Calibration::Classical).unwrap();
/// assert!((c.sigma - 0.538).abs() < 1e-3); // the BSR authors' σ = 0.54 at (9, 1e−5)
/// let a = calibrate(1.0, 1e-5, 1.0, Calibration::Analytic).unwrap();
/// assert!((a.achieved_delta - 1e-5).abs() < 1e-15);
/// assert!(a.sigma < calibrate(1.0, 1e-5, 1.0, Calibration::Classical).unwrap().sigma);
/// ```
pub fn calibrate(
    epsilon: f64,
    delta: f64,
    sensitivity: f64,
    method: Calibration,
) -> Result<Calibrated> {
    validate(epsilon, delta, sensitivity)?;
    let multiplier = match method {
        Calibration::Classical => (2.0 * (1.25 / delta).ln()).sqrt() / epsilon,
        Calibration::Analytic => {
            let d = |m: f64| analytic_gaussian_delta(epsilon, m, 1.0);
            let (mut lo, mut hi) = (1e-3, 1.0);
            while d(lo) <= delta {
                lo *= 0.5;
                if lo < 1e-12 {
                    return Err(PrivacyError::numerical(
                        "calibrate",
                        "cannot bracket σ from below",
                    ));
                }
            }
            while d(hi) > delta {
                hi *= 2.0;
                if hi > 1e12 {
                    return Err(PrivacyError::numerical(
                        "calibrate",
                        "cannot bracket σ from above",
                    ));
                }
            }
            for _ in 0..200 {
                let mid = 0.5 * (lo + hi);
                if mid <= lo || mid >= hi {
                    break;
                }
                if d(mid) > delta {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            hi
        }
    };
    let sigma = multiplier * sensitivity;
    Ok(Calibrated {
        method,
        epsilon,
        delta,
        sensitivity,
        noise_multiplier: multiplier,
        sigma,
        achieved_delta: analytic_gaussian_delta(epsilon, sigma, sensitivity),
        classical_proven: epsilon < 1.0,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use gdlab_core::assert_close;

    #[test]
    fn cdf_reference_values() {
        // Φ(−5) = 2.866515718791939e−7, Φ(1) = 0.8413447460685429 (scipy.stats.norm.cdf)
        assert_close!(normal_cdf(-5.0), 2.866_515_718_791_939e-7, rel = 1e-14);
        assert_close!(normal_cdf(1.0), 0.841_344_746_068_542_9, rel = 1e-15);
    }

    #[test]
    fn analytic_is_monotone_and_tight() {
        for (e, d) in [(0.5, 1e-5), (1.0, 1e-5), (2.0, 1e-6), (8.0, 1e-5)] {
            let c = calibrate(e, d, 2.0, Calibration::Analytic).unwrap();
            assert_close!(c.achieved_delta, d, rel = 1e-9);
            assert_close!(c.sigma, 2.0 * c.noise_multiplier, rel = 1e-15);
            assert!(analytic_gaussian_delta(e, c.sigma * 0.999, 2.0) > d);
        }
    }

    #[test]
    fn rejects_bad_input() {
        assert!(calibrate(0.0, 1e-5, 1.0, Calibration::Analytic).is_err());
        assert!(calibrate(-1.0, 1e-5, 1.0, Calibration::Analytic).is_err());
        assert!(calibrate(1.0, 0.0, 1.0, Calibration::Analytic).is_err());
        assert!(calibrate(1.0, 1.0, 1.0, Calibration::Analytic).is_err());
        assert!(calibrate(1.0, 1e-5, 0.0, Calibration::Classical).is_err());
        assert!(calibrate(f64::NAN, 1e-5, 1.0, Calibration::Classical).is_err());
    }
}
