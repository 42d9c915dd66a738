//! Gradient-transformation blocks. Each block is one fused pass over the buffers.
//!
//! | block | effect on the update `u` |
//! |---|---|
//! | [`ScaleByLearningRate`] | `u ← −η(t) u` (the last block of every optimizer) |
//! | [`Scale`] | `u ← c u` |
//! | [`AddDecayedWeights`] | `u ← u + λ θ` |
//! | [`ScaleByMomentum`] | heavy-ball buffer, PyTorch convention |
//! | [`ScaleByAdam`] | Adam's bias-corrected ratio, PyTorch convention |
//! | [`ScaleBySign`] | `u ← sign(u)`, `sign(0) = 0` |
//! | [`ScaleByEma`] | `m ← βm + (1−β)u`, `u ← m` (`m₀ = 0`) |
//! | [`ScaleBySignOfEma`] | Signum's EMA and sign, fused |
//! | [`NormalizeByGlobalNorm`] | `u ← u/‖u‖₂` (global) |
//! | [`ScaleBySignTimesL1`] | `u ← sign(u)·‖u‖₁` (global) |

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
