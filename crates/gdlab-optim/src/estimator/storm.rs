use gdlab_core::objective::StochasticOracle;
use gdlab_core::{ConfigError, GdRng};
use serde::{Deserialize, Serialize};

use super::{EstimateInfo, GradientEstimator};
use crate::kernel::storm_combine;

/// Hyperparameters of the STORM / SSVR estimator (spec `sign-methods-ssvr.md` §2.2).
///
/// `beta` is the weight of the **fresh** gradient, the theory's convention (β → 0 for long
/// runs). A "momentum" parameter in the sense of the old estimate's weight is `1 − beta`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StormConfig {
    /// `β ∈ (0, 1]`; `β = 1` is plain minibatch SGD. Default 0.1.
    pub beta: f64,
    /// Initial batch `B₀ ≥ 1` for `v_1`. Default 1 (the single-sample start restated by the
    /// follow-up paper; the SSVR paper's own `B₀` is unverified).
    pub initial_batch: usize,
    /// Minibatch `B ≥ 1` per step. Default 1.
    pub batch_size: usize,
}

impl Default for StormConfig {
    fn default() -> Self {
        StormConfig {
            beta: 0.1,
            initial_batch: 1,
            batch_size: 1,
        }
    }
}

impl StormConfig {
    /// Validates and builds the estimator.
    ///
    /// # Errors
    /// [`ConfigError`] if `beta ∉ (0, 1]` or a batch size is 0.
    pub fn build(&self) -> Result<Storm, ConfigError> {
        if !(self.beta > 0.0 && self.beta <= 1.0) {
            return Err(ConfigError::OutOfRange {
                field: "beta",
                value: self.beta,
                allowed: "(0, 1]",
            });
        }
        for (field, v) in [
            ("initial_batch", self.initial_batch),
            ("batch_size", self.batch_size),
        ] {
            if v == 0 {
                return Err(ConfigError::OutOfRangeInt {
                    field,
                    value: 0,
                    allowed: "[1, ∞)",
                });
            }
        }
        Ok(Storm { cfg: *self })
    }
}

/// The STORM recursive-momentum estimator used by SSVR.
///
/// $$ v_1 = \frac{1}{B_0}\sum_{b \le B_0} \nabla f(x_1; \xi_{1,b}), \qquad
///    v_t = \nabla f(x_t; \xi_t) + (1-\beta)\big(v_{t-1} - \nabla f(x_{t-1}; \xi_t)\big) $$
///
/// with the **same** minibatch `ξ_t` at `x_t` and `x_{t−1}` (drawn once through
/// [`StochasticOracle::draw`], evaluated twice with
/// [`StochasticOracle::loss_grad_pair`]). Two gradient evaluations per sample per step.
///
/// # References
/// Cutkosky & Orabona, "Momentum-Based Variance Reduction in Non-Convex SGD", NeurIPS 2019
/// (STORM); Jiang, Yang, Yang & Zhang, "Efficient Sign-Based Optimization", NeurIPS 2024,
/// SSVR (estimator form per the spec; the paper's Algorithm 1 text was not readable).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Storm {
    cfg: StormConfig,
}

impl Storm {
    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &StormConfig {
        &self.cfg
    }
}

/// State of [`Storm`].
#[derive(Clone, Debug, PartialEq)]
pub struct StormState {
    /// `v_{t−1}` (empty before the first step).
    pub v: Vec<f64>,
    /// `x_{t−1}` (empty before the first step).
    pub x_prev: Vec<f64>,
    g_prev: Vec<f64>,
}

impl<O: StochasticOracle + ?Sized> GradientEstimator<O> for Storm {
    type State = StormState;

    fn init(&self, _x0: &[f64]) -> StormState {
        StormState {
            v: Vec::new(),
            x_prev: Vec::new(),
            g_prev: Vec::new(),
        }
    }

    fn estimate(
        &self,
        oracle: &O,
        s: &mut StormState,
        x: &[f64],
        rng: &mut GdRng,
        out: &mut [f64],
    ) -> EstimateInfo {
        let info = if s.v.is_empty() {
            let xi = oracle.draw(self.cfg.initial_batch, rng);
            let loss = oracle.loss_grad_at(&xi, x, out);
            EstimateInfo {
                loss,
                n_component_grads: self.cfg.initial_batch as u64,
            }
        } else {
            let xi = oracle.draw(self.cfg.batch_size, rng);
            s.g_prev.resize(x.len(), 0.0);
            let (loss, _) = oracle.loss_grad_pair(&xi, x, &s.x_prev, out, &mut s.g_prev);
            // out = g; v ← g + (1 − β)(v − g_prev), written back into out.
            storm_combine(&mut s.v, out, &s.g_prev, self.cfg.beta);
            out.copy_from_slice(&s.v);
            EstimateInfo {
                loss,
                n_component_grads: 2 * self.cfg.batch_size as u64,
            }
        };
        s.v.clear();
        s.v.extend_from_slice(out);
        s.x_prev.clear();
        s.x_prev.extend_from_slice(x);
        info
    }
}

/// The theory-driven SSVR parameters for a horizon of `T` steps (spec §2.2, the follow-up
/// paper's Corollary 3 specialised to one worker without compression):
/// `u = 1/(√T + T^{2/3})`, `β = u`, `η = H·u/(L·√d)`, `B₀ = ⌈1/(u²·T)⌉`, `B = 1`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct StormTheorySchedule {
    /// `β`.
    pub beta: f64,
    /// `η`.
    pub learning_rate: f64,
    /// `B₀`.
    pub initial_batch: usize,
}

impl StormTheorySchedule {
    /// The schedule for `n_steps = T`, dimension `d`, smoothness `L` and gradient
    /// second-moment bound `H`.
    ///
    /// # Errors
    /// [`ConfigError`] if `n_steps` or `dim` is 0, or `smoothness`/`grad_bound` is not
    /// positive and finite.
    pub fn new(
        n_steps: u64,
        dim: usize,
        smoothness: f64,
        grad_bound: f64,
    ) -> Result<Self, ConfigError> {
        if n_steps == 0 || dim == 0 {
            return Err(ConfigError::OutOfRangeInt {
                field: if n_steps == 0 { "n_steps" } else { "dim" },
                value: 0,
                allowed: "[1, ∞)",
            });
        }
        ConfigError::check_positive("smoothness", smoothness)?;
        ConfigError::check_positive("grad_bound", grad_bound)?;
        let t = n_steps as f64;
        let u = 1.0 / (t.sqrt() + t.powf(2.0 / 3.0));
        Ok(StormTheorySchedule {
            beta: u,
            learning_rate: grad_bound * u / (smoothness * (dim as f64).sqrt()),
            initial_batch: (1.0 / (u * u * t)).ceil() as usize,
        })
    }

    /// The estimator configuration (`B = 1`).
    #[must_use]
    pub fn config(&self) -> StormConfig {
        StormConfig {
            beta: self.beta,
            initial_batch: self.initial_batch,
            batch_size: 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estimator::Minibatch;
    use gdlab_core::objective::{DiagonalQuadraticSum, MinibatchOracle};
    use gdlab_core::Seed;

    fn problem() -> DiagonalQuadraticSum {
        DiagonalQuadraticSum {
            curvatures: vec![vec![1.0, 2.0], vec![3.0, 0.5], vec![0.25, 1.0]],
            centres: vec![vec![1.0, -1.0], vec![0.0, 2.0], vec![-2.0, 0.5]],
        }
    }

    /// With `β = 1` the correction `(1 − β)(v − g_prev)` is multiplied by exactly 0, so
    /// STORM is the minibatch estimator on the same sample stream, bit for bit.
    #[test]
    fn beta_one_is_the_minibatch_gradient() {
        let f = problem();
        let oracle = MinibatchOracle(&f);
        let storm = StormConfig {
            beta: 1.0,
            initial_batch: 2,
            batch_size: 2,
        }
        .build()
        .unwrap();
        let plain = Minibatch { batch_size: 2 };
        let (mut a, mut b) = (
            GradientEstimator::<MinibatchOracle<'_, DiagonalQuadraticSum>>::init(&storm, &[0.0; 2]),
            (),
        );
        let (mut ra, mut rb) = (Seed(1).rng(), Seed(1).rng());
        let (mut va, mut vb) = ([0.0; 2], [0.0; 2]);
        let mut x = [0.5, -0.5];
        for t in 0..20 {
            let ia = storm.estimate(&oracle, &mut a, &x, &mut ra, &mut va);
            let ib = plain.estimate(&oracle, &mut b, &x, &mut rb, &mut vb);
            assert_eq!(va.map(f64::to_bits), vb.map(f64::to_bits), "step {t}");
            assert_eq!(ia.n_component_grads, if t == 0 { 2 } else { 4 });
            assert_eq!(ib.n_component_grads, 2);
            x[0] -= 0.1 * va[0];
            x[1] -= 0.1 * va[1];
        }
    }

    #[test]
    fn invalid_configs_name_the_field() {
        for (cfg, needle) in [
            (
                StormConfig {
                    beta: 0.0,
                    ..StormConfig::default()
                },
                "`beta` must be in (0, 1]",
            ),
            (
                StormConfig {
                    beta: f64::NAN,
                    ..StormConfig::default()
                },
                "`beta`",
            ),
            (
                StormConfig {
                    initial_batch: 0,
                    ..StormConfig::default()
                },
                "`initial_batch`",
            ),
            (
                StormConfig {
                    batch_size: 0,
                    ..StormConfig::default()
                },
                "`batch_size`",
            ),
        ] {
            let e = cfg.build().unwrap_err().to_string();
            assert!(e.contains(needle), "{e}");
        }
    }
}
