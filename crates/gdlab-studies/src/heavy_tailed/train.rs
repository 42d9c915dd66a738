//! The optimizers of the paper (spec §2) as gdlab-optim aliases, and a full-batch training
//! loop that records the overall loss and the per-frequency-group losses at every step.

use gdlab_core::transform::{update_and_apply, Transform};
use gdlab_imbalance::groups::FrequencyGroups;
use gdlab_imbalance::softmax::Float;
use gdlab_optim::alias::{adam, normalized_gd, sgd, sign_momentum, sign_sgd};
use gdlab_optim::transform::{AdamConfig, MomentumConfig};
use gdlab_optim::tune::DIVERGENCE_THRESHOLD;
use serde::{Deserialize, Serialize};

use crate::study::StudyError;

/// The full-batch oracle of a training run: `oracle(params, grad, class_loss_sums)` writes
/// the gradient and the per-class loss sums and returns the mean loss.
pub type Oracle<'a, F> = dyn FnMut(&[F], &mut [F], &mut Vec<f64>) -> Result<f64, StudyError> + 'a;

/// An optimizer of the paper's experiments (spec §2), PyTorch semantics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// GD, no momentum (`torch.optim.SGD(lr)`).
    Gd,
    /// Adam, β = (0.9, 0.999), ε = 1e-8, bias correction.
    Adam,
    /// Sign descent `θ ← θ − η sign(g)`, `sign(0) = 0`.
    Sign,
    /// Normalized GD `θ ← θ − η g/‖g‖₂` (global norm), no momentum.
    NormalizedGd,
    /// GD with heavy-ball momentum 0.9 (buffer starts at `g₁`).
    GdMomentum,
    /// Heavy-ball momentum 0.9 on `sign(g)` (not Signum).
    SignMomentum,
    /// Adam with `β₁ = 0`.
    AdamNoMomentum,
    /// Normalized GD with heavy-ball momentum 0.9.
    NormalizedGdMomentum,
}

impl Method {
    /// Short label used in tables, plots and metric names.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Method::Gd => "GD",
            Method::Adam => "Adam",
            Method::Sign => "Sign",
            Method::NormalizedGd => "NormGD",
            Method::GdMomentum => "GD+M",
            Method::SignMomentum => "Sign+M",
            Method::AdamNoMomentum => "Adam(β1=0)",
            Method::NormalizedGdMomentum => "NormGD+M",
        }
    }

    /// A file-name-safe key.
    #[must_use]
    pub fn key(self) -> &'static str {
        match self {
            Method::Gd => "gd",
            Method::Adam => "adam",
            Method::Sign => "sign",
            Method::NormalizedGd => "normgd",
            Method::GdMomentum => "gd_m",
            Method::SignMomentum => "sign_m",
            Method::AdamNoMomentum => "adam_b1_0",
            Method::NormalizedGdMomentum => "normgd_m",
        }
    }

    /// Trains from `params` for `n_steps` full-batch steps at `learning_rate`.
    ///
    /// `oracle(params, grad, class_loss_sums)` writes the gradient and the per-class loss
    /// sums and returns the mean loss.
    ///
    /// # Errors
    /// [`StudyError::Config`] for an invalid step size; errors of `oracle`.
    pub fn train<F: Float>(
        self,
        learning_rate: f64,
        params: Vec<F>,
        n_steps: usize,
        groups: &FrequencyGroups,
        oracle: &mut Oracle<'_, F>,
    ) -> Result<RunTrace, StudyError> {
        let heavy_ball = MomentumConfig {
            momentum: 0.9,
            ..MomentumConfig::default()
        };
        match self {
            Method::Gd => run(
                &sgd(learning_rate, MomentumConfig::default(), 0.0)?,
                params,
                n_steps,
                groups,
                oracle,
            ),
            Method::GdMomentum => run(
                &sgd(learning_rate, heavy_ball, 0.0)?,
                params,
                n_steps,
                groups,
                oracle,
            ),
            Method::Adam => run(
                &adam(learning_rate, AdamConfig::default(), 0.0)?,
                params,
                n_steps,
                groups,
                oracle,
            ),
            Method::AdamNoMomentum => run(
                &adam(
                    learning_rate,
                    AdamConfig {
                        beta1: 0.0,
                        ..AdamConfig::default()
                    },
                    0.0,
                )?,
                params,
                n_steps,
                groups,
                oracle,
            ),
            Method::Sign => run(&sign_sgd(learning_rate)?, params, n_steps, groups, oracle),
            Method::SignMomentum => run(
                &sign_momentum(learning_rate, 0.9)?,
                params,
                n_steps,
                groups,
                oracle,
            ),
            Method::NormalizedGd => run(
                &normalized_gd(learning_rate, 0.0)?,
                params,
                n_steps,
                groups,
                oracle,
            ),
            Method::NormalizedGdMomentum => run(
                &normalized_gd(learning_rate, 0.9)?,
                params,
                n_steps,
                groups,
                oracle,
            ),
        }
    }
}

/// What one training run recorded.
#[derive(Clone, Debug, PartialEq)]
pub struct RunTrace {
    /// Mean training loss at `θ_0, …, θ_T` (shorter when the run diverged).
    pub losses: Vec<f64>,
    /// Per-group losses at the same points (`None` for an empty group).
    pub group_losses: Vec<Vec<Option<f64>>>,
    /// Per-class loss sums at the last recorded point.
    pub final_class_sums: Vec<f64>,
    /// The step at which the loss became non-finite or exceeded the divergence threshold.
    pub diverged_at: Option<usize>,
}

impl RunTrace {
    /// The final loss, or `+∞` when the run diverged (the tuner's score).
    #[must_use]
    pub fn score(&self) -> f64 {
        if self.diverged_at.is_some() {
            f64::INFINITY
        } else {
            self.losses.last().copied().unwrap_or(f64::INFINITY)
        }
    }
}

fn run<F: Float, T: Transform<F>>(
    opt: &T,
    mut params: Vec<F>,
    n_steps: usize,
    groups: &FrequencyGroups,
    oracle: &mut Oracle<'_, F>,
) -> Result<RunTrace, StudyError> {
    let mut state = opt.init(&params);
    let mut grad = vec![F::zero(); params.len()];
    let mut sums = Vec::new();
    let mut trace = RunTrace {
        losses: Vec::with_capacity(n_steps + 1),
        group_losses: Vec::with_capacity(n_steps + 1),
        final_class_sums: Vec::new(),
        diverged_at: None,
    };
    for step in 0..=n_steps {
        let loss = oracle(&params, &mut grad, &mut sums)?;
        if !loss.is_finite() || loss > DIVERGENCE_THRESHOLD {
            trace.diverged_at = Some(step);
            break;
        }
        trace.losses.push(loss);
        trace.group_losses.push(
            groups
                .group_losses_from_class_sums(&sums)
                .map_err(super::component)?,
        );
        if step == n_steps {
            break;
        }
        update_and_apply(opt, &mut params, &mut grad, &mut state, step as u64).map_err(|e| {
            StudyError::Component {
                component: "gdlab-optim",
                message: e.to_string(),
            }
        })?;
    }
    trace.final_class_sums = sums;
    Ok(trace)
}
