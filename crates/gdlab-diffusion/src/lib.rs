//! # gdlab-diffusion
//!
//! Test-time attention control for diffusion models, after Zero-to-Hero (Sobol, Xu & Litany,
//! NeurIPS 2024; spec `papers/zero-to-hero-attention-filtering.md`):
//!
//! | module | what it holds |
//! |---|---|
//! | [`control`] | the [`AttentionController`](control::AttentionController) hook, `NoControl`, `Compose`, `AttentionStore`, `AttentionReplace`, `MutualSelfAttention`, `AttentionMapFilter` |
//! | [`attention`] | the hooked scaled-dot-product attention every model calls |
//! | [`schedule`] | SD noise schedule, uniform (LDM "+1") and Hourglass timestep lists |
//! | [`sampler`] | DDIM with explicit `(t, t_next)` pairs, re-noising, resampling, CFG, η |
//! | [`mechanism`] | the deterministic min-pooling mechanism test of spec §4.3 |
//! | [`sd`] | the hooked SD-1.x latent UNet (Zero-1-to-3, diffusers key layout) and the shape-only `VarBuilder` |
//! | [`turntable`] | the in-project "Turntable-Blobs" renderer, toy U-ViT, training and CFG wrapper |
//! | [`zero123`] | Zero-1-to-3 with user-supplied weights (diffusers or LDM layout): VAE, CLIP, pose, the guided sampler, plain and Zero-to-Hero |
//!
//! ## Notation (paper ↔ API)
//!
//! | paper | API |
//! |---|---|
//! | `M_{t,r}` (pre-softmax self-attention logits) | the `logits` passed to `on_logits` |
//! | `M̃_{t,r}` (filtered map) | what `AttentionMapFilter::on_logits` returns |
//! | `H_t` (history) | per-site state of `AttentionMapFilter`, updated in `end_step` |
//! | `α_c`, `α_h` | `AmfConfig::alpha_c`, `AmfConfig::alpha_h` |
//! | `R` | `SamplerConfig::resample_r` |
//! | `τ_k` | `SamplerConfig::timesteps[k]`, `EvalCtx::t` |
//! | `ᾱ_t` | `NoiseSchedule::alpha_bar(t)` |
//!
//! ## Example
//!
//! ```
//! use gdlab_diffusion::control::AmfConfig;
//! use gdlab_diffusion::schedule::{hourglass, HOURGLASS_STAGES};
//! use gdlab_diffusion::sampler::SamplerConfig;
//! let ts = hourglass(&HOURGLASS_STAGES, 1000).unwrap();
//! let cfg = SamplerConfig { timesteps: ts, eta: 1.0, resample_r: 5, resample_min_t: 800 };
//! assert_eq!(cfg.nfe(), 66); // Tab. 1: "T = 26, NFE = 66"
//! let amf = AmfConfig::default().build().unwrap();
//! assert_eq!(amf.config().alpha_c, 0.2);
//! ```
//!
//! Devices: CPU by default; the `cuda` feature enables candle's CUDA backend.

pub mod attention;
pub mod control;
pub mod error;
pub mod mechanism;
pub mod sampler;
pub mod schedule;
pub mod sd;
pub mod turntable;
pub mod zero123;

pub use error::{DiffusionError, Result};
