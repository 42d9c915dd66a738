//! # gdlab-nn
//!
//! Small neural networks on [candle](https://github.com/huggingface/candle) (CPU by
//! default; `--features cuda` for candle's CUDA backend), trained by **any gdlab
//! optimizer** through an adapter that runs the project's fused kernels on the network's
//! parameters.
//!
//! | module | what it holds |
//! |---|---|
//! | [`params`] | [`ParamSet`]: named candle variables in a fixed order, flat copies in and out of candle storage |
//! | [`adapter`] | [`GdOptimizer`] (any [`gdlab_core::Transform`] chain trains a network), [`StormOptimizer`] (STORM/SSVR) |
//! | [`mlp`] | [`Mlp`], [`MlpConfig`], [`Activation`] |
//! | [`cnn`] | [`LeNet`](cnn::LeNet) (`LeNetFamily(n_convs, n_linear)`), [`Vgg`](cnn::Vgg) (VGG4–19 without batch norm) |
//! | [`model`] | the [`Model`] trait (forward + parameters) |
//! | [`loss`] | [`cross_entropy`], [`accuracy`], [`n_correct`] |
//! | [`data`] | [`Dataset`]: in-memory examples + labels, shuffled minibatches |
//! | [`record`] | [`TrajectoryRecorder`]: every iterate of a chosen window, per layer, memory or `.npy` on disk |
//! | [`init`] | seeded PyTorch-default initialisation |
//! | [`real`] | [`NnReal`]: `f32` / `f64` element types shared by candle and gdlab kernels |
//!
//! ## Notation
//!
//! | symbol | API name |
//! |---|---|
//! | `θ` | the flat parameter buffer, [`GdOptimizer::params_flat`], laid out by [`ParamSet::layout`] |
//! | `g = ∇ℓ(θ; ξ)` | the gradient of a minibatch loss, from candle's backward pass |
//! | `W_i`, `b_i` | `linear{i}.weight` (`[out, in]`), `linear{i}.bias` |
//! | `B` | `batch_size` |
//! | `β` (STORM) | `beta`, weight of the fresh gradient |
//!
//! **Sign convention** (gdlab's): updates are added, `θ ← θ + T(g)`; every optimizer alias
//! ends with `−η`.
//!
//! ## Example
//!
//! ```
//! use candle_core::Device;
//! use gdlab_core::Seed;
//! use gdlab_nn::{cross_entropy, Dataset, GdOptimizer, Mlp, MlpConfig, Model};
//! use gdlab_optim::{alias::adam, transform::AdamConfig};
//!
//! let dev = Device::Cpu;
//! // Two well-separated classes in 2-D.
//! let xs: Vec<f32> = (0..64).flat_map(|i| { let s = if i % 2 == 0 { 1.0 } else { -1.0 }; [s + 0.01 * i as f32, s] }).collect();
//! let ys: Vec<u32> = (0..64).map(|i| (i % 2) as u32).collect();
//! let data = Dataset::new(xs, vec![2], ys, 2).unwrap();
//! let mlp = Mlp::new::<f32>(&MlpConfig::relu(&[2, 16, 2]), Seed(0), &dev).unwrap();
//! let mut opt = GdOptimizer::<f32, _>::new(adam(0.01, AdamConfig::default(), 0.0).unwrap(), mlp.params()).unwrap();
//! let mut batches = data.batches(16, Seed(1), false).unwrap();
//! for _ in 0..40 {
//!     let (x, y) = data.gather(batches.next_batch(), &dev).unwrap();
//!     opt.backward_step(&cross_entropy(&mlp.forward(&x).unwrap(), &y).unwrap()).unwrap();
//! }
//! let (x, y) = data.gather(&(0..64).collect::<Vec<_>>(), &dev).unwrap();
//! assert_eq!(gdlab_nn::accuracy(&mlp.forward(&x).unwrap(), &y).unwrap(), 1.0);
//! ```

pub mod adapter;
pub mod cnn;
pub mod data;
pub mod error;
pub mod init;
pub mod loss;
pub mod mlp;
pub mod model;
pub mod params;
pub mod real;
pub mod record;

pub use adapter::{GdOptimizer, StormOptimizer};
pub use data::Dataset;
pub use error::{NnError, Result};
pub use loss::{accuracy, cross_entropy, n_correct};
pub use mlp::{Activation, Mlp, MlpConfig};
pub use model::Model;
pub use params::ParamSet;
pub use real::NnReal;
pub use record::{RecordSink, Trajectory, TrajectoryRecorder};

/// Re-exported so that callers use the same candle as this crate.
pub use candle_core;
/// Re-exported so that callers use the same candle-nn as this crate.
pub use candle_nn;

#[cfg(test)]
mod send_sync {
    fn check<T: Send + Sync + std::fmt::Debug>() {}

    #[test]
    fn public_types_are_send_sync_debug() {
        check::<crate::ParamSet>();
        check::<crate::Mlp>();
        check::<crate::Dataset<f32>>();
        check::<crate::NnError>();
        check::<crate::GdOptimizer<f32, gdlab_optim::alias::Adam>>();
    }
}
