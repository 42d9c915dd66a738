//! # gdlab-optim
//!
//! Optimizers as chains of small gradient transformations (after optax), with PyTorch's
//! semantics, running on `f32` and `f64` buffers alike.
//!
//! * [`transform`]: the blocks: [`ScaleByLearningRate`](transform::ScaleByLearningRate),
//!   [`AddDecayedWeights`](transform::AddDecayedWeights),
//!   [`ScaleByMomentum`](transform::ScaleByMomentum), [`ScaleByAdam`](transform::ScaleByAdam),
//!   [`ScaleBySign`](transform::ScaleBySign), [`ScaleByEma`](transform::ScaleByEma),
//!   [`NormalizeByGlobalNorm`](transform::NormalizeByGlobalNorm), … Element-wise neighbours
//!   fuse, so each alias's update is one pass over the buffers where the method allows.
//! * [`alias`]: recipes [`sgd`](alias::sgd), [`adam`](alias::adam), [`adamw`](alias::adamw),
//!   [`sign_sgd`](alias::sign_sgd), [`signum`](alias::signum),
//!   [`sign_momentum`](alias::sign_momentum), [`normalized_gd`](alias::normalized_gd),
//!   [`rescaled_sign`](alias::rescaled_sign), [`ssvr`](alias::ssvr),
//!   [`ssvr_finite_sum`](alias::ssvr_finite_sum).
//! * [`estimator`]: how the direction is formed from the same-sample oracle: minibatch,
//!   STORM/SSVR, SSVR-FS; [`run_estimator`](estimator::run_estimator).
//! * [`majority_vote`]: distributed sign methods with simulated workers (signSGD-MV,
//!   SSVR-MV options 1 and 2) with bit accounting.
//! * [`kernel`]: the fused element-wise kernels every method shares.
//! * [`spec`]: [`OptimizerSpec`], the run-time form
//!   (`adam(lr=1e-3,beta1=0.9)`, `ssvr(lr=1e-3,beta=0.1)`) used by configs and the CLI.
//! * [`replay`](mod@replay): apply an optimizer to a given gradient sequence.
//! * [`tune`]: step-size search on a log₁₀ grid (sparse, then dense; lowest final loss).
//!
//! ## Notation
//!
//! | symbol | API name |
//! |---|---|
//! | `η` | `learning_rate` |
//! | `μ`, `τ` | `momentum`, `dampening` |
//! | `β₁`, `β₂`, `ε` | `beta1`, `beta2`, `eps` |
//! | `λ` | `weight_decay` |
//! | `m`, `v` | `ScaleByAdamState::{mu, nu}` |
//! | `β` (SSVR: weight of the fresh gradient) | `beta` (momentum = `1 − beta`) |
//! | `v_t` (estimator) | the estimator's output |
//! | `R` (stochastic sign radius) | `radius` |
//!
//! **Sign convention**: every alias ends with `−η`, so `θ ← θ + update`.
//!
//! ## Example
//!
//! ```
//! use gdlab_core::objective::{Objective, Rosenbrock};
//! use gdlab_core::runner::{Runner, Stop};
//! use gdlab_optim::{alias::adam, transform::AdamConfig};
//!
//! let f = Rosenbrock { dim: 2 };
//! let opt = adam(0.02, AdamConfig::default(), 0.0).unwrap();
//! let mut x = vec![-1.0, 1.5];
//! let out = Runner::new(20_000).target_loss(1e-8)
//!     .run(&opt, &mut x, |_, p: &[f64], g: &mut [f64]| f.loss_grad(p, g), &mut [])
//!     .unwrap();
//! assert!(matches!(out.stop, Stop::TargetLoss { .. }));
//! ```

pub mod alias;
pub mod error;
pub mod estimator;
pub mod kernel;
pub mod majority_vote;
pub mod replay;
pub mod spec;
pub mod transform;
pub mod tune;

pub use error::SpecError;
pub use spec::OptimizerSpec;

/// The README's example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;

#[cfg(test)]
mod send_sync {
    fn check<T: Send + Sync + std::fmt::Debug>() {}

    #[test]
    fn public_types_are_send_sync_debug() {
        check::<crate::alias::Sgd>();
        check::<crate::alias::Adam>();
        check::<crate::alias::AdamW>();
        check::<crate::OptimizerSpec>();
        check::<crate::SpecError>();
        check::<crate::transform::ScaleByMomentumState<f32>>();
        check::<crate::transform::ScaleByAdamState<f64>>();
    }
}
