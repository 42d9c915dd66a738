//! # gdlab-diagnostics
//!
//! Tail-index estimators for SGD trajectories and heavy-tailed samples (Şimşekli, Sener,
//! Deligiannidis & Erdogdu, "Hausdorff Dimension, Heavy Tails, and Generalization in Neural
//! Networks", NeurIPS 2020; spec `tail-index-hausdorff.md`), and a symmetric α-stable
//! sampler to test them.
//!
//! | module | what it holds |
//! |---|---|
//! | [`mmo`] | the Mohammadi–Mohammadpour–Ogata block estimator (Cor. 2.4), its multi-K1 median, and the order-statistic Cor. 2.2 ([`Estimator`]) |
//! | [`k1`] | which rows and block sizes to use for `T` iterates: the reference table and the generic rule |
//! | [`trajectory`] | [`tail_index`](trajectory::tail_index) of a `T × D` trajectory: projected (default), full, mean, scalar, increments; `fixed_sz`; [`ProjectedStream`](trajectory::ProjectedStream) for layers too large to hold |
//! | [`hill`] | [`HillEstimator`](hill::HillEstimator), with its standard error |
//! | [`stable`] | [`SymmetricStable`](stable::SymmetricStable) (Chambers–Mallows–Stuck) and [`SubGaussianStable`](stable::SubGaussianStable) vectors |
//! | [`estimate`] | [`Estimate`] `{ value, std_err, n_used }`, [`median`](estimate::median), [`LayerAgg`] (mean/median over layers) |
//!
//! ## Notation
//!
//! | symbol | API name |
//! |---|---|
//! | `α` | `alpha`, the tail index (`α ∈ (0, 2]`; 2 = Gaussian) |
//! | `K`, `K1`, `K2 = K/K1` | rows, block size `k1`, number of blocks |
//! | `sz` | rows used (the last `sz` of `T`), [`K1Plan::sz`](k1::K1Plan::sz) |
//! | `T × D` | iterates × coordinates of one layer |
//! | `W̄`, `Z = W − W̄` | time average, centred iterates |
//! | `u_r` (`R = 10`) | random unit directions, `n_directions` |
//! | `k` (Hill) | order statistics used |
//!
//! ## Example
//!
//! ```
//! use gdlab_core::Seed;
//! use gdlab_diagnostics::stable::iid_matrix;
//! use gdlab_diagnostics::trajectory::{tail_index, Mode, TailIndexConfig};
//!
//! // 756 iterates of a 20-coordinate "layer" with i.i.d. SαS(1.2) entries.
//! let w = iid_matrix(1.2, 756, 20, Seed(0)).unwrap();
//! let cfg = TailIndexConfig { mode: Mode::Projected, ..TailIndexConfig::default() };
//! let ti = tail_index(&w, 756, 20, &cfg).unwrap();
//! assert!((ti.estimate.value - 1.2).abs() < 0.2);
//! assert_eq!(ti.estimate.n_used, ti.plan.sz);
//! ```

pub mod error;
pub mod estimate;
pub mod hill;
pub mod k1;
pub mod mmo;
pub mod stable;
pub mod trajectory;

pub use error::{DiagError, Result};
pub use estimate::{Estimate, LayerAgg};
pub use mmo::Estimator;

#[cfg(test)]
mod send_sync {
    fn check<T: Send + Sync + std::fmt::Debug>() {}

    #[test]
    fn public_types_are_send_sync_debug() {
        check::<crate::Estimate>();
        check::<crate::DiagError>();
        check::<crate::trajectory::TailIndex>();
        check::<crate::trajectory::TailIndexConfig>();
        check::<crate::stable::SymmetricStable>();
        check::<crate::hill::HillEstimator>();
        check::<crate::trajectory::ProjectedStream>();
        check::<crate::Estimator>();
        check::<crate::LayerAgg>();
    }
}
