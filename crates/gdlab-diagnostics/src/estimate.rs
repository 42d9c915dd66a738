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

/// How per-layer estimates become one number for a network (spec §2.3 step 6, §7
/// pitfall 6: the paper's aggregation is unverified; `Mean` is the spec's default).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LayerAgg {
    /// The arithmetic mean of the per-layer values (`+∞` if any layer is `+∞`).
    #[default]
    Mean,
    /// The [`median`] of the per-layer values (robust to one degenerate layer).
    Median,
}

impl LayerAgg {
    /// `"mean"` or `"median"`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            LayerAgg::Mean => "mean",
            LayerAgg::Median => "median",
        }
    }

    /// The aggregate of `values`; NaN for an empty slice.
    ///
    /// # Examples
    /// ```
    /// use gdlab_diagnostics::estimate::LayerAgg;
    /// assert_eq!(LayerAgg::Mean.apply(&[1.0, 1.2, 2.3]), 1.5);
    /// assert_eq!(LayerAgg::Median.apply(&[1.0, 1.2, 2.3]), 1.2);
    /// ```
    #[must_use]
    pub fn apply(self, values: &[f64]) -> f64 {
        match self {
            LayerAgg::Mean if values.is_empty() => f64::NAN,
            LayerAgg::Mean => values.iter().sum::<f64>() / values.len() as f64,
            LayerAgg::Median => median(values),
        }
    }
}

impl std::str::FromStr for LayerAgg {
    type Err = gdlab_core::ConfigError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "mean" => Ok(LayerAgg::Mean),
            "median" => Ok(LayerAgg::Median),
            _ => Err(gdlab_core::ConfigError::Invalid {
                field: "layer-agg".into(),
                reason: format!("`{s}` is not one of mean, median"),
            }),
        }
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

    /// Hand-computed aggregates; the median ignores one degenerate (`+∞`) layer.
    #[test]
    fn layer_aggregation() {
        let v = [1.1, 1.3, 1.6, 2.0];
        assert_eq!(LayerAgg::Mean.apply(&v), (1.1 + 1.3 + 1.6 + 2.0) / 4.0);
        assert_eq!(LayerAgg::Median.apply(&v), 0.5 * (1.3 + 1.6));
        assert_eq!(LayerAgg::Median.apply(&[1.2, f64::INFINITY, 1.4]), 1.4);
        assert_eq!(LayerAgg::Mean.apply(&[1.2, f64::INFINITY]), f64::INFINITY);
        assert!(LayerAgg::Mean.apply(&[]).is_nan());
        assert_eq!("median".parse::<LayerAgg>().unwrap(), LayerAgg::Median);
        assert!("max".parse::<LayerAgg>().is_err());
        assert_eq!(LayerAgg::default(), LayerAgg::Mean);
    }
}
