//! Gradient-transformation blocks. Each block is one fused pass over the buffers.
//!
//! | block | effect on the update `u` |
//! |---|---|
//! | [`ScaleByLearningRate`] | `u ← −η(t) u` (the last block of every optimizer) |
//! | [`Scale`] | `u ← c u` |
//! | [`AddDecayedWeights`] | `u ← u + λ θ` |
//! | [`ScaleByMomentum`] | heavy-ball buffer, PyTorch convention |
//! | [`ScaleByAdam`] | Adam's bias-corrected ratio, PyTorch convention |

mod adam;
mod momentum;
mod scale;
mod weight_decay;

pub use adam::{AdamConfig, ScaleByAdam, ScaleByAdamState};
pub use momentum::{MomentumConfig, ScaleByMomentum, ScaleByMomentumState};
pub use scale::{Scale, ScaleByLearningRate};
pub use weight_decay::AddDecayedWeights;
