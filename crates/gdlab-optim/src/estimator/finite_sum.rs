use gdlab_core::objective::{FiniteSum, MinibatchOracle, StochasticOracle};
use gdlab_core::{ConfigError, GdRng};
use serde::{Deserialize, Serialize};

use super::{EstimateInfo, GradientEstimator};
use crate::kernel::sarah_svrg_combine;

/// Hyperparameters of the SSVR-FS finite-sum estimator (spec §2.3).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FiniteSumVrConfig {
    /// `β ∈ [0, 1]`: 0 is the SARAH/SPIDER recursion (the variant with a verified rate),
    /// 1 the SVRG estimator, in between the blend. Default 0.1 (spec §5a).
    pub beta: f64,
    /// Checkpoint period `I ≥ 1` (a full gradient every `I` steps). Default 0 = `m / B`
    /// (one pass over the data), resolved when the estimator first sees the problem.
    pub period: usize,
    /// Minibatch `B ≥ 1`. Default 1.
    pub batch_size: usize,
    /// At a checkpoint set `v = μ` (true, default) or keep the recursion running and only
    /// refresh the snapshot (false). The paper's choice is unverified (spec §2.3).
    pub reset_at_checkpoint: bool,
}

impl Default for FiniteSumVrConfig {
    fn default() -> Self {
        FiniteSumVrConfig {
            beta: 0.1,
            period: 0,
            batch_size: 1,
            reset_at_checkpoint: true,
        }
    }
}

impl FiniteSumVrConfig {
    /// Validates and builds the estimator.
    ///
    /// # Errors
    /// [`ConfigError`] if `beta ∉ [0, 1]` or `batch_size = 0`.
    pub fn build(&self) -> Result<FiniteSumVr, ConfigError> {
        ConfigError::check_closed("beta", self.beta, 0.0, 1.0, "[0, 1]")?;
        if self.batch_size == 0 {
            return Err(ConfigError::OutOfRangeInt {
                field: "batch_size",
                value: 0,
                allowed: "[1, ∞)",
            });
        }
        Ok(FiniteSumVr { cfg: *self })
    }
}

/// The SSVR-FS estimator: a full gradient `μ = ∇f(x̃)` at a snapshot every `I` steps, and
/// in between the blend
///
/// $$ v_t = (1-\beta)\big(v_{t-1} + \nabla f_{S_t}(x_t) - \nabla f_{S_t}(x_{t-1})\big)
///        + \beta\big(\nabla f_{S_t}(x_t) - \nabla f_{S_t}(\tilde x) + \mu\big) $$
///
/// on one minibatch `S_t` (uniform with replacement) evaluated at three points.
///
/// # Provenance
/// The blend and the checkpoint handling are the spec's reconstruction (§2.3, \[memory\]);
/// `β = 0` (SARAH-sign) is the variant with a verified guarantee.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FiniteSumVr {
    cfg: FiniteSumVrConfig,
}

impl FiniteSumVr {
    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &FiniteSumVrConfig {
        &self.cfg
    }

    /// The checkpoint period for a problem with `m` components.
    #[must_use]
    pub fn period_for(&self, m: usize) -> usize {
        if self.cfg.period > 0 {
            self.cfg.period
        } else {
            (m / self.cfg.batch_size).max(1)
        }
    }
}

/// State of [`FiniteSumVr`].
#[derive(Clone, Debug, PartialEq)]
pub struct FiniteSumVrState {
    /// Steps taken.
    pub step: u64,
    /// `v_{t−1}`.
    pub v: Vec<f64>,
    /// `x_{t−1}`.
    pub x_prev: Vec<f64>,
    /// Snapshot `x̃`.
    pub snapshot: Vec<f64>,
    /// Full gradient `μ = ∇f(x̃)`.
    pub mu: Vec<f64>,
    g_prev: Vec<f64>,
    g_snap: Vec<f64>,
}

impl<P: FiniteSum + ?Sized> GradientEstimator<P> for FiniteSumVr {
    type State = FiniteSumVrState;

    fn init(&self, _x0: &[f64]) -> FiniteSumVrState {
        FiniteSumVrState {
            step: 0,
            v: Vec::new(),
            x_prev: Vec::new(),
            snapshot: Vec::new(),
            mu: Vec::new(),
            g_prev: Vec::new(),
            g_snap: Vec::new(),
        }
    }

    fn estimate(
        &self,
        problem: &P,
        s: &mut FiniteSumVrState,
        x: &[f64],
        rng: &mut GdRng,
        out: &mut [f64],
    ) -> EstimateInfo {
        let d = x.len();
        let m = problem.n_components();
        let period = self.period_for(m) as u64;
        let oracle = MinibatchOracle(problem);
        let checkpoint = s.step % period == 0;
        let mut info = EstimateInfo::default();
        if checkpoint {
            s.mu.resize(d, 0.0);
            info.loss = problem.loss_grad(x, &mut s.mu);
            info.n_component_grads += m as u64;
            s.snapshot.clear();
            s.snapshot.extend_from_slice(x);
        }
        if checkpoint && (self.cfg.reset_at_checkpoint || s.v.is_empty()) {
            out.copy_from_slice(&s.mu);
        } else {
            let xi = oracle.draw(self.cfg.batch_size, rng);
            s.g_prev.resize(d, 0.0);
            s.g_snap.resize(d, 0.0);
            let (loss, _) = oracle.loss_grad_pair(&xi, x, &s.x_prev, out, &mut s.g_prev);
            if checkpoint {
                // x̃ = x_t: the SVRG term is exactly μ.
                s.g_snap.copy_from_slice(out);
                info.n_component_grads += 2 * self.cfg.batch_size as u64;
            } else {
                info.loss = loss;
                oracle.loss_grad_at(&xi, &s.snapshot, &mut s.g_snap);
                info.n_component_grads += 3 * self.cfg.batch_size as u64;
            }
            sarah_svrg_combine(&mut s.v, out, &s.g_prev, &s.g_snap, &s.mu, self.cfg.beta);
            out.copy_from_slice(&s.v);
        }
        s.v.clear();
        s.v.extend_from_slice(out);
        s.x_prev.clear();
        s.x_prev.extend_from_slice(x);
        s.step += 1;
        info
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gdlab_core::objective::{DiagonalQuadraticSum, Objective};
    use gdlab_core::Seed;

    fn problem() -> DiagonalQuadraticSum {
        DiagonalQuadraticSum {
            curvatures: vec![vec![1.0, 2.0], vec![3.0, 0.5], vec![0.25, 1.0]],
            centres: vec![vec![1.0, -1.0], vec![0.0, 2.0], vec![-2.0, 0.5]],
        }
    }

    /// Period 1 with reset: every step is a checkpoint, `v_t = ∇f(x_t)` exactly, `m`
    /// component gradients per step and no sample drawn.
    #[test]
    fn period_one_with_reset_is_the_full_gradient() {
        let f = problem();
        let est = FiniteSumVrConfig {
            period: 1,
            ..FiniteSumVrConfig::default()
        }
        .build()
        .unwrap();
        let mut s = GradientEstimator::<DiagonalQuadraticSum>::init(&est, &[0.0; 2]);
        let mut rng = Seed(2).rng();
        let untouched = rng.clone();
        let (mut v, mut g) = ([0.0; 2], [0.0; 2]);
        let mut x = [0.5, -0.5];
        for _ in 0..10 {
            let info = est.estimate(&f, &mut s, &x, &mut rng, &mut v);
            let loss = f.loss_grad(&x, &mut g);
            assert_eq!((v, info.loss.to_bits()), (g, loss.to_bits()));
            assert_eq!(info.n_component_grads, 3);
            x[0] -= 0.1 * v[0];
            x[1] -= 0.1 * v[1];
        }
        assert_eq!(rng, untouched, "a reset checkpoint draws no sample");
    }

    #[test]
    fn default_period_is_one_pass() {
        let est = FiniteSumVrConfig {
            batch_size: 4,
            ..FiniteSumVrConfig::default()
        }
        .build()
        .unwrap();
        assert_eq!(est.period_for(2000), 500);
        assert_eq!(est.period_for(3), 1);
        let e = FiniteSumVrConfig {
            beta: 1.5,
            ..FiniteSumVrConfig::default()
        }
        .build()
        .unwrap_err();
        assert_eq!(e.to_string(), "`beta` must be in [0, 1], got 1.5");
    }
}
