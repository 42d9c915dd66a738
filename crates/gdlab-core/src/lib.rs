//! # gdlab-core
//!
//! The foundation every gdlab crate builds on:
//!
//! | module | what it holds |
//! |---|---|
//! | [`seed`] | [`Seed`] with a stable derivation tree and the one generator [`GdRng`] |
//! | [`real`] | the [`Real`] element type (`f32`/`f64`) of parameter buffers |
//! | [`transform`] | [`Transform`], [`Chain`], [`chain!`], [`BoxedTransform`](transform::BoxedTransform) |
//! | [`schedule`] | [`Schedule`](schedule::Schedule) and the serializable [`ScheduleSpec`](schedule::ScheduleSpec) |
//! | [`objective`] | [`Objective`](objective::Objective), [`FiniteSum`](objective::FiniteSum), the same-sample [`StochasticOracle`](objective::StochasticOracle) |
//! | [`sampler`] | index samplers [`Replacement`](sampler::Replacement)`::{With, Without, ShuffleOnce, Fixed}` |
//! | [`runner`] | [`Runner`](runner::Runner), [`Observer`](runner::Observer), [`Stop`](runner::Stop), [`Trace`](runner::Trace) |
//! | [`linalg`] | small dense helpers over faer: symmetric spectra, spectral norms, products |
//! | [`normal`] | [`BoxMuller`](normal::BoxMuller) and [`fill_normals`](normal::fill_normals): value-stable uniforms and standard normals from a [`GdRng`] |
//! | [`tol`] | the tolerance policy and [`assert_close!`] |
//! | [`layout`] | [`Layout`](layout::Layout): named ranges of a flat parameter buffer |
//! | [`io`] | [`atomic_write`](io::atomic_write) |
//!
//! ## Notation
//!
//! | symbol | API name |
//! |---|---|
//! | `x`, `θ` | `params` |
//! | `g = ∇f(x; ξ)` | `grad`, the incoming `update` of a transform |
//! | `ξ` | an oracle `Sample` |
//! | `t` (0-based) | `step` |
//! | `η` | `learning_rate` |
//!
//! **Sign convention**: updates are added, `params += update`; the last block of every
//! optimizer multiplies by `−learning_rate`.
//!
//! ## Example
//!
//! ```
//! use gdlab_core::objective::{DiagonalQuadraticSum, Objective};
//! use gdlab_core::runner::Runner;
//! use gdlab_core::transform::{StepCtx, Transform};
//! use gdlab_core::error::StepError;
//!
//! struct Descend(f64); // update = −η g
//! impl Transform<f64> for Descend {
//!     type State = ();
//!     fn init(&self, _: &[f64]) {}
//!     fn update(&self, u: &mut [f64], _: &mut (), _: &StepCtx<'_, f64>) -> Result<(), StepError> {
//!         u.iter_mut().for_each(|g| *g *= -self.0);
//!         Ok(())
//!     }
//! }
//! let f = DiagonalQuadraticSum { curvatures: vec![vec![1.0, 2.0]], centres: vec![vec![3.0, -1.0]] };
//! let mut x = vec![0.0, 0.0];
//! let out = Runner::new(200).run(&Descend(0.4), &mut x, |_, p: &[f64], g: &mut [f64]| f.loss_grad(p, g), &mut []).unwrap();
//! gdlab_core::assert_close!(x, f.minimizer(), abs = 1e-12);
//! ```

pub mod error;
pub mod io;
pub mod layout;
pub mod linalg;
pub mod normal;
pub mod objective;
pub mod real;
pub mod runner;
pub mod sampler;
pub mod schedule;
pub mod seed;
pub mod tol;
pub mod transform;

pub use error::{ConfigError, CoreError, StepError};
pub use real::Real;
pub use seed::{GdRng, Seed};
pub use transform::{Chain, StepCtx, Transform, TransformExt};

#[cfg(test)]
mod send_sync {
    //! Public types are `Send + Sync + Debug` (argmin's `send_sync_test!`).
    fn check<T: Send + Sync + std::fmt::Debug>() {}

    #[test]
    fn public_types_are_send_sync_debug() {
        check::<crate::Seed>();
        check::<crate::GdRng>();
        check::<crate::ConfigError>();
        check::<crate::StepError>();
        check::<crate::CoreError>();
        check::<crate::transform::Identity>();
        check::<crate::transform::Chain<crate::transform::Identity, crate::transform::Identity>>();
        check::<crate::transform::BoxedTransform<f64>>();
        check::<crate::schedule::ScheduleSpec>();
        check::<crate::schedule::BuiltSchedule>();
        check::<crate::sampler::Sampler>();
        check::<crate::sampler::Replacement>();
        check::<crate::runner::Runner>();
        check::<crate::runner::Stop>();
        check::<crate::runner::Trace>();
        check::<crate::runner::RunSummary>();
        check::<crate::layout::Layout>();
        check::<crate::objective::DiagonalQuadraticSum>();
        check::<crate::objective::Rosenbrock>();
    }
}
