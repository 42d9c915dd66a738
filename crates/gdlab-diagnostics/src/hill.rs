//! Hill's estimator of the tail index, an estimator independent of the MMO block sums.

use gdlab_core::ConfigError;
use serde::{Deserialize, Serialize};

use crate::error::{DiagError, Result};
use crate::estimate::Estimate;

/// Hill's estimator on the `k` largest of `|x_i|`.
///
/// With `X_(1) ≥ X_(2) ≥ …` the order statistics of `|x_i|`:
///
/// $$ \hat\alpha = \left(\frac{1}{k}\sum_{i=1}^{k} \ln\frac{X_{(i)}}{X_{(k+1)}}\right)^{-1},
///    \qquad \operatorname{se}(\hat\alpha) = \hat\alpha/\sqrt{k} $$
///
/// (the asymptotic standard error under a Pareto tail). The convention is the tail
/// exponent of `P(|X| > x) ~ x^{−α}`, the same α as a stable law's index for `α < 2`.
///
/// # Examples
/// ```
/// use gdlab_diagnostics::hill::HillEstimator;
/// // Exact Pareto(2) quantiles: x_i = (i/n)^{−1/2}.
/// let n = 10_000;
/// let xs: Vec<f64> = (1..=n).map(|i| (i as f64 / n as f64).powf(-0.5)).collect();
/// let e = HillEstimator::new(1000).unwrap().estimate(&xs).unwrap();
/// assert!((e.value - 2.0).abs() < 0.05);
/// assert_eq!(e.n_used, 1001);
/// ```
///
/// # References
/// Hill, "A simple general approach to inference about the tail of a distribution", Ann.
/// Statist. 3 (1975).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HillEstimator {
    k: usize,
}

impl HillEstimator {
    /// The estimator on the top `k ≥ 1` order statistics.
    ///
    /// # Errors
    /// [`ConfigError::OutOfRangeInt`] for `k = 0`.
    pub fn new(k: usize) -> Result<Self, ConfigError> {
        if k == 0 {
            return Err(ConfigError::OutOfRangeInt {
                field: "k",
                value: 0,
                allowed: "[1, n − 1]",
            });
        }
        Ok(HillEstimator { k })
    }

    /// `k = ⌈fraction·n⌉` for a sample of size `n` (a common default is 10%).
    ///
    /// # Errors
    /// [`ConfigError::OutOfRange`] unless `fraction ∈ (0, 1)`.
    pub fn with_fraction(fraction: f64, n: usize) -> Result<Self, ConfigError> {
        if !(fraction > 0.0 && fraction < 1.0) {
            return Err(ConfigError::OutOfRange {
                field: "fraction",
                value: fraction,
                allowed: "(0, 1)",
            });
        }
        Self::new(((fraction * n as f64).ceil() as usize).max(1))
    }

    /// The number of order statistics used.
    #[must_use]
    pub fn k(&self) -> usize {
        self.k
    }

    /// Estimates α from `xs` (absolute values are taken).
    ///
    /// # Errors
    /// [`DiagError::NonFinite`] for NaN/∞; [`DiagError::TooShort`] if `n ≤ k`;
    /// [`DiagError::Shape`] if `X_(k+1) = 0` or the top `k + 1` values are all equal.
    pub fn estimate(&self, xs: &[f64]) -> Result<Estimate> {
        if let Some(i) = xs.iter().position(|v| !v.is_finite()) {
            return Err(DiagError::NonFinite {
                row: i,
                col: 0,
                value: xs[i],
            });
        }
        let k = self.k;
        if xs.len() <= k {
            return Err(DiagError::TooShort {
                what: format!("Hill estimator with k = {k}"),
                got: xs.len(),
                needed: k + 1,
            });
        }
        let mut a: Vec<f64> = xs.iter().map(|v| v.abs()).collect();
        a.sort_by(|x, y| y.total_cmp(x));
        let threshold = a[k];
        if threshold <= 0.0 {
            return Err(DiagError::Shape {
                op: "Hill estimator",
                reason: format!("the (k+1)-th largest |x| is 0 (k = {k}); use a smaller k"),
            });
        }
        let lt = threshold.ln();
        let mean_excess = a[..k].iter().map(|v| v.ln() - lt).sum::<f64>() / k as f64;
        if mean_excess <= 0.0 {
            return Err(DiagError::Shape {
                op: "Hill estimator",
                reason: "the top k + 1 values are equal".into(),
            });
        }
        let alpha = 1.0 / mean_excess;
        Ok(Estimate {
            value: alpha,
            std_err: Some(alpha / (k as f64).sqrt()),
            n_used: k + 1,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gdlab_core::normal::uniform;
    use gdlab_core::Seed;

    /// Exact Pareto(α) samples `U^{−1/α}`: for Pareto data Hill's 1/α̂ is the mean of `k`
    /// i.i.d. Exp(α) excesses, so α̂ is within 5 standard errors of α.
    #[test]
    fn recovers_pareto_alpha_within_its_standard_error() {
        for alpha in [0.8, 1.5, 3.0] {
            let mut rng = Seed(9).rng();
            let xs: Vec<f64> = (0..20_000)
                .map(|_| (1.0 - uniform(&mut rng)).powf(-1.0 / alpha))
                .collect();
            let e = HillEstimator::new(2000).unwrap().estimate(&xs).unwrap();
            let se = e.std_err.unwrap();
            assert!(
                (e.value - alpha).abs() < 5.0 * se,
                "α={alpha}: {} ± {se}",
                e.value
            );
            gdlab_core::assert_close!(se, e.value / 2000f64.sqrt(), rel = 1e-15);
        }
    }

    /// Hand-computed: |x| sorted = 8, 4, 2, 1; k = 2 → excesses ln 4, ln 2 → α̂ = 2/ln 8.
    #[test]
    fn closed_form_small_case() {
        let e = HillEstimator::new(2)
            .unwrap()
            .estimate(&[1.0, -8.0, 2.0, 4.0])
            .unwrap();
        gdlab_core::assert_close!(e.value, 2.0 / 8f64.ln(), rel = 1e-15);
    }

    #[test]
    fn bad_input() {
        let h = HillEstimator::new(3).unwrap();
        assert!(h.estimate(&[1.0, 2.0, 3.0]).is_err());
        assert!(h.estimate(&[1.0, 2.0, f64::NAN, 4.0]).is_err());
        assert!(h.estimate(&[0.0, 0.0, 0.0, 0.0, 1.0]).is_err());
        assert!(HillEstimator::new(0).is_err());
        assert!(HillEstimator::with_fraction(1.5, 10).is_err());
        assert_eq!(HillEstimator::with_fraction(0.1, 95).unwrap().k(), 10);
    }
}
