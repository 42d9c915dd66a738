//! Gradient estimators: how the direction `v_t` is formed from a stochastic oracle.
//!
//! Plain SGD uses `v_t = ∇f(x_t; ξ_t)`. Variance-reduced methods need more: STORM/SSVR
//! evaluate `∇f(x_t; ξ_t)` **and** `∇f(x_{t−1}; ξ_t)` on the same sample, SSVR-FS adds a
//! periodic full gradient at a snapshot. An estimator owns that logic and its state
//! (`v_{t−1}`, `x_{t−1}`, snapshot); a [`Transform`] (sign, then
//! `−η`) turns the estimate into the update. So SSVR is
//! `Storm` + [`sign_sgd`](crate::alias::sign_sgd): no special case inside `Transform`.
//!
//! [`run_estimator`] connects an estimator, a transform and a [`Runner`]: the runner's
//! "gradient" at each step is the estimator's `v_t`.
//!
//! | estimator | `v_t` | component gradients per step |
//! |---|---|---|
//! | [`Minibatch`] | `∇f(x_t; ξ_t)` | `B` |
//! | [`Storm`] | `∇f(x_t; ξ_t) + (1 − β)(v_{t−1} − ∇f(x_{t−1}; ξ_t))` | `2B` (`B₀` at t = 0) |
//! | [`FiniteSumVr`] | blend of SARAH and SVRG with a full gradient every `I` steps | `3B`, or `m` at a checkpoint |

mod finite_sum;
mod minibatch;
mod storm;

pub use finite_sum::{FiniteSumVr, FiniteSumVrConfig, FiniteSumVrState};
pub use minibatch::Minibatch;
pub use storm::{Storm, StormConfig, StormState, StormTheorySchedule};

use gdlab_core::runner::{Observer, RunSummary, Runner};
use gdlab_core::{CoreError, GdRng, Seed, Transform};

/// What one call to [`GradientEstimator::estimate`] cost and saw.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct EstimateInfo {
    /// The (minibatch) loss at `x_t` on the sample drawn, or the full loss at a checkpoint.
    pub loss: f64,
    /// Component gradients evaluated by this call (one per sample per point).
    pub n_component_grads: u64,
}

/// Forms the direction `v_t` at `x_t` from problem `P` (a
/// [`StochasticOracle`](gdlab_core::objective::StochasticOracle) or a
/// [`FiniteSum`](gdlab_core::objective::FiniteSum), depending on the estimator).
pub trait GradientEstimator<P: ?Sized>: Send + Sync {
    /// Everything that evolves (previous estimate, previous point, snapshot).
    type State: Clone + std::fmt::Debug + Send;

    /// The state before the first step, at `x0`.
    fn init(&self, x0: &[f64]) -> Self::State;

    /// Writes `v_t` at `x` (= `x_t`) into `out`, drawing samples from `rng`.
    fn estimate(
        &self,
        problem: &P,
        state: &mut Self::State,
        x: &[f64],
        rng: &mut GdRng,
        out: &mut [f64],
    ) -> EstimateInfo;
}

/// Runs `transform ∘ estimator` on `problem` from `x` with `runner`.
///
/// The sample stream is `seed.rng()`; observers see the estimator's loss and `‖v_t‖₂`.
/// Returns the run summary and the total number of component gradients evaluated.
///
/// # Errors
/// As [`Runner::run`].
pub fn run_estimator<P, E, T>(
    runner: &Runner,
    estimator: &E,
    problem: &P,
    transform: &T,
    x: &mut [f64],
    seed: Seed,
    observers: &mut [&mut dyn Observer<f64>],
) -> Result<(RunSummary, u64), CoreError>
where
    P: ?Sized,
    E: GradientEstimator<P>,
    T: Transform<f64>,
{
    let mut state = estimator.init(x);
    let mut rng = seed.rng();
    let mut evals = 0u64;
    let summary = runner.run(
        transform,
        x,
        |_, p: &[f64], g: &mut [f64]| {
            let info = estimator.estimate(problem, &mut state, p, &mut rng, g);
            evals += info.n_component_grads;
            info.loss
        },
        observers,
    )?;
    Ok((summary, evals))
}
