//! The paper's synthetic heavy-tailed classification data (spec §4.4, authors'
//! `synthetic_dataset.generate_dataset`).
//!
//! Size `m`: for each tier `i = 0..m−1` there are `2^i` classes with `2^{m−i}` samples
//! each, so `n = m·2^m`, `c = 2^m − 1`, every tier holds `n/m` samples and the most
//! frequent class has `2^{m−1}` times the samples of the rarest (a step approximation of
//! `π ∝ 1/rank`). Labels do not depend on the inputs. Inputs are i.i.d.
//! `Uniform[0, 1)` (`torch.rand`) in `d = (m+1)·2^m > n` dimensions, so the data are
//! linearly separable. Variants (appendix): Gaussian inputs with a mean shift and scale,
//! a smaller `d` (e.g. 400), and a constant bias feature appended to the inputs.
//!
//! Classes are numbered tier by tier (class 0 is tier 0, classes 1–2 tier 1, …), samples
//! class by class.

use gdlab_core::{ConfigError, Seed};
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::softmax::{Dataset, Float};

/// How the inputs are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum Inputs {
    /// i.i.d. `Uniform[0, 1)` (the paper's main experiment).
    Uniform,
    /// i.i.d. `N(mean, scale²)` (appendix "changing inputs").
    Gaussian {
        /// Mean of every feature.
        mean: f64,
        /// Standard deviation of every feature (> 0).
        scale: f64,
    },
}

/// The generator's settings.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyntheticConfig {
    /// The size `m` (1 ≤ m ≤ 20).
    pub size: u32,
    /// Input distribution.
    pub inputs: Inputs,
    /// Number of random features; `None` = the paper's `(m+1)·2^m`.
    pub n_features: Option<usize>,
    /// Append a constant feature 1 to every input (the "built-in bias" variant; use it
    /// with a model without bias).
    pub bias_feature: bool,
}

impl SyntheticConfig {
    /// The paper's main setting at size `m`: uniform inputs, `d = (m+1)·2^m`, no bias
    /// feature.
    #[must_use]
    pub fn paper(size: u32) -> Self {
        SyntheticConfig {
            size,
            inputs: Inputs::Uniform,
            n_features: None,
            bias_feature: false,
        }
    }

    /// Number of classes `c = 2^m − 1`.
    #[must_use]
    pub fn n_classes(&self) -> usize {
        (1_usize << self.size) - 1
    }

    /// Number of samples `n = m·2^m`.
    #[must_use]
    pub fn n_samples(&self) -> usize {
        self.size as usize * (1_usize << self.size)
    }

    /// Total input dimension (random features, plus one with `bias_feature`).
    #[must_use]
    pub fn dim(&self) -> usize {
        self.n_features
            .unwrap_or((self.size as usize + 1) * (1_usize << self.size))
            + usize::from(self.bias_feature)
    }

    fn validate(&self) -> Result<()> {
        if !(1..=20).contains(&self.size) {
            return Err(ConfigError::OutOfRangeInt {
                field: "size",
                value: i128::from(self.size),
                allowed: "[1, 20]",
            }
            .into());
        }
        if self.n_features == Some(0) {
            return Err(ConfigError::OutOfRangeInt {
                field: "n_features",
                value: 0,
                allowed: "[1, ∞)",
            }
            .into());
        }
        if let Inputs::Gaussian { mean, scale } = self.inputs {
            if !mean.is_finite() {
                return Err(ConfigError::OutOfRange {
                    field: "mean",
                    value: mean,
                    allowed: "finite",
                }
                .into());
            }
            if !(scale > 0.0 && scale.is_finite()) {
                return Err(ConfigError::OutOfRange {
                    field: "scale",
                    value: scale,
                    allowed: "(0, ∞)",
                }
                .into());
            }
        }
        Ok(())
    }

    /// The labels: class `k` of tier `i` repeated `2^{m−i}` times, class by class.
    ///
    /// # Errors
    /// [`ConfigError`] for a size outside `[1, 20]`.
    pub fn labels(&self) -> Result<Vec<usize>> {
        self.validate()?;
        let m = self.size;
        let mut labels = Vec::with_capacity(self.n_samples());
        let mut class = 0;
        for tier in 0..m {
            for _ in 0..(1_usize << tier) {
                labels.extend(std::iter::repeat_n(class, 1_usize << (m - tier)));
                class += 1;
            }
        }
        Ok(labels)
    }

    /// Generates the data set; the inputs are a pure function of `seed`.
    ///
    /// # Errors
    /// [`ConfigError`] for a size outside `[1, 20]`, `n_features = 0`, or a non-finite
    /// mean / non-positive scale.
    ///
    /// # Examples
    /// ```
    /// use gdlab_core::Seed;
    /// use gdlab_imbalance::synthetic::SyntheticConfig;
    /// let data = SyntheticConfig::paper(3).generate::<f64>(Seed(0)).unwrap();
    /// // m = 3: n = 24, c = 7, d = 32; tiers of 1, 2, 4 classes with 8, 4, 2 samples.
    /// assert_eq!((data.n_samples(), data.n_classes(), data.n_features()), (24, 7, 32));
    /// assert_eq!(data.class_counts(), vec![8, 4, 4, 2, 2, 2, 2]);
    /// ```
    pub fn generate<F: Float>(&self, seed: Seed) -> Result<Dataset<F>> {
        let labels = self.labels()?;
        let n = labels.len();
        let d = self.dim();
        let d_random = d - usize::from(self.bias_feature);
        let mut rng = seed.rng();
        let mut x = Vec::with_capacity(n * d);
        for _ in 0..n {
            match self.inputs {
                Inputs::Uniform => {
                    x.extend((0..d_random).map(|_| F::from_f64(rng.random::<f64>())));
                }
                Inputs::Gaussian { mean, scale } => {
                    let mut k = 0;
                    while k < d_random {
                        let (z0, z1) = box_muller(&mut rng);
                        x.push(F::from_f64(mean + scale * z0));
                        if k + 1 < d_random {
                            x.push(F::from_f64(mean + scale * z1));
                        }
                        k += 2;
                    }
                }
            }
            if self.bias_feature {
                x.push(F::one());
            }
        }
        Dataset::new(x, labels, d, self.n_classes())
    }
}

/// Two independent standard normals from two uniforms (Box–Muller, with `u1 ∈ (0, 1]`).
fn box_muller<R: Rng>(rng: &mut R) -> (f64, f64) {
    let u1 = 1.0 - rng.random::<f64>();
    let u2 = rng.random::<f64>();
    let r = (-2.0 * u1.ln()).sqrt();
    let t = std::f64::consts::TAU * u2;
    (r * t.cos(), r * t.sin())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_exact() {
        for m in 1..=11_u32 {
            let cfg = SyntheticConfig::paper(m);
            let labels = cfg.labels().unwrap();
            assert_eq!(labels.len(), m as usize * (1 << m));
            let mut counts = vec![0_usize; cfg.n_classes()];
            for &y in &labels {
                counts[y] += 1;
            }
            let mut k = 0;
            for tier in 0..m {
                for _ in 0..(1 << tier) {
                    assert_eq!(counts[k], 1 << (m - tier), "m={m} class {k}");
                    k += 1;
                }
            }
            assert_eq!(k, (1 << m) - 1);
            assert_eq!(cfg.dim(), (m as usize + 1) * (1 << m));
        }
        // The quick study's size (spec §5a) and the paper's (spec §4.4).
        let q = SyntheticConfig::paper(7);
        assert_eq!((q.n_samples(), q.n_classes(), q.dim()), (896, 127, 1024));
        let p = SyntheticConfig::paper(11);
        assert_eq!(
            (p.n_samples(), p.n_classes(), p.dim()),
            (22_528, 2047, 24_576)
        );
    }

    #[test]
    fn inputs_follow_their_distribution() {
        let data = SyntheticConfig::paper(5).generate::<f64>(Seed(1)).unwrap();
        let x = data.features();
        assert!(x.iter().all(|&v| (0.0..1.0).contains(&v)));
        let mean = x.iter().sum::<f64>() / x.len() as f64;
        // 30 720 uniforms: standard error of the mean 0.289/√30720 = 0.0016.
        assert!((mean - 0.5).abs() < 5.0 * 0.0017);
        let g = SyntheticConfig {
            size: 5,
            inputs: Inputs::Gaussian {
                mean: 2.0,
                scale: 3.0,
            },
            n_features: Some(400),
            bias_feature: true,
        };
        let data = g.generate::<f64>(Seed(2)).unwrap();
        assert_eq!(data.n_features(), 401);
        let x = data.features();
        let vals: Vec<f64> = x
            .chunks(401)
            .flat_map(|r| r[..400].iter().copied())
            .collect();
        assert!(x.chunks(401).all(|r| r[400].to_bits() == 1.0_f64.to_bits()));
        let m = vals.iter().sum::<f64>() / vals.len() as f64;
        let v = vals.iter().map(|a| (a - m) * (a - m)).sum::<f64>() / vals.len() as f64;
        // 64 000 normals: se(mean) = 3/253 = 0.012, se(var) ≈ 9·√(2/64000) = 0.05.
        assert!((m - 2.0).abs() < 5.0 * 0.012);
        assert!((v - 9.0).abs() < 5.0 * 0.05);
    }

    #[test]
    fn seeded_and_validated() {
        let a = SyntheticConfig::paper(4).generate::<f32>(Seed(3)).unwrap();
        let b = SyntheticConfig::paper(4).generate::<f32>(Seed(3)).unwrap();
        let c = SyntheticConfig::paper(4).generate::<f32>(Seed(4)).unwrap();
        assert_eq!(a, b);
        assert_ne!(a.features(), c.features());
        assert!(SyntheticConfig::paper(0).labels().is_err());
        assert!(SyntheticConfig::paper(21).labels().is_err());
        let bad = SyntheticConfig {
            inputs: Inputs::Gaussian {
                mean: 0.0,
                scale: 0.0,
            },
            ..SyntheticConfig::paper(3)
        };
        assert!(bad.generate::<f64>(Seed(0)).is_err());
    }
}
