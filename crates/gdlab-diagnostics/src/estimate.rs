//! [`Estimate`]: a point estimate with its standard error and sample size.

use serde::{Deserialize, Serialize};

/// A point estimate, never a bare `f64` (STYLE.md §5).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// The estimate. Block estimators can return `+∞` when their denominator is `≤ 0`
    /// (see [`crate::mmo`]); such values are reported, not clipped.
    pub value: f64,
    /// Its standard error, when the estimator has one.
    pub std_err: Option<f64>,
    /// Number of samples the estimate used (after truncation).
    pub n_used: usize,
}

impl Estimate {
    /// The value clipped to the tail-index range `(0, 2]`: values above 2 become 2 and
    /// non-positive or NaN values become NaN (the spec's optional clip, §2.1).
    #[must_use]
    pub fn clipped(&self) -> f64 {
        if self.value > 0.0 {
            self.value.min(2.0)
        } else {
            f64::NAN
        }
    }
}

/// The median of `xs` (the mean of the two middle values for an even count); NaN for an
/// empty slice. `+∞` sorts last; NaN values are ignored.
#[must_use]
pub fn median(xs: &[f64]) -> f64 {
    let mut v: Vec<f64> = xs.iter().copied().filter(|x| !x.is_nan()).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact values (closed forms, bitwise reproducibility)
mod tests {
    use super::*;

    #[test]
    fn median_and_clip() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(median(&[1.0, f64::INFINITY, 2.0]), 2.0);
        assert!(median(&[]).is_nan());
        let e = Estimate {
            value: 2.3,
            std_err: None,
            n_used: 10,
        };
        assert_eq!(e.clipped(), 2.0);
        let e = Estimate {
            value: -1.0,
            std_err: None,
            n_used: 10,
        };
        assert!(e.clipped().is_nan());
    }
}
