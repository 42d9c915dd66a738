//! Gradient-transformation blocks. Each update is one fused pass over the buffers.
//!
//! Affine blocks (`u ↦ (u + λθ)·c`) run no pass of their own in a chain: they fold into
//! the neighbouring block's loop through [`gdlab_core::transform::Fuse`]. Element-wise
//! blocks write their loop once, with [`gdlab_core::transform::Fuse::run`], and serve
//! `update`, `update_fused` and `apply_fused` (the step that also writes `θ`) from it.
//!
//! | block | effect on the update `u` | passes |
//! |---|---|---|
//! | [`ScaleByLearningRate`] | `u ← −η(t) u` (the last block of every optimizer) | affine: 0 in a chain |
//! | [`Scale`] | `u ← c u` | affine: 0 in a chain |
//! | [`AddDecayedWeights`] | `u ← u + λ θ` | affine: 0 in a chain |
//! | [`ScaleByMomentum`] | heavy-ball buffer, PyTorch convention | 1 (affine when `μ = 0`) |
//! | [`ScaleByAdam`] | Adam's bias-corrected ratio, PyTorch convention | 1 |
//! | [`ScaleBySign`] | `u ← sign(u)`, `sign(0) = 0` | 1 |
//! | [`ScaleByEma`] | `m ← βm + (1−β)u`, `u ← m` (`m₀ = 0`) | 1 |
//! | [`ScaleBySignOfEma`] | Signum's EMA and sign, fused | 1 |
//! | [`NormalizeByGlobalNorm`] | `u ← u/‖u‖₂` (global) | 2 (norm, then scale) |
//! | [`ScaleBySignTimesL1`] | `u ← sign(u)·‖u‖₁` (global) | 2 (norm, then scale) |

mod adam;
mod momentum;
mod scale;
mod sign;
mod weight_decay;

pub use adam::{AdamConfig, ScaleByAdam, ScaleByAdamState};
pub use momentum::{MomentumConfig, ScaleByMomentum, ScaleByMomentumState};
pub use scale::{Scale, ScaleByLearningRate};
pub use sign::{
    NormalizeByGlobalNorm, ScaleByEma, ScaleBySign, ScaleBySignOfEma, ScaleBySignTimesL1,
};
pub use weight_decay::AddDecayedWeights;
