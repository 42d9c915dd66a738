//! Zero-1-to-3 with user-supplied weights (spec §4.2), plain and with Zero-to-Hero.
//!
//! | module | what it holds |
//! |---|---|
//! | [`weights`] | [`WeightsDir`](weights::WeightsDir): the diffusers layout and its `config.json` files, the LDM checkpoint, the pre-flight tensor check; [`write_random_weights`](weights::write_random_weights) for tests |
//! | [`tensors`] | weight files without memory maps (safetensors header reader, PyTorch checkpoints through candle), renaming backend, header checks |
//! | [`ldm`] | LDM → diffusers key renaming (UNet, VAE, OpenAI CLIP with fused `in_proj` split) |
//! | [`vae`] | the SD VAE with a deterministic encoder (posterior mode) |
//! | [`clip`] | the CLIP ViT image tower with projection, and Zero-1-to-3's preprocessing |
//! | [`pose`] | the relative pose vector `T = [Δθ, sin Δφ, cos Δφ, Δr]` |
//! | [`image`] | PNG in/out, PyTorch-style bicubic resizing, strips, attention heatmaps |
//! | [`pipeline`] | [`Zero123`](pipeline::Zero123), the guided [`Denoiser`](crate::sampler::Denoiser), baseline and Zero-to-Hero sampling |
//!
//! ## Notation (spec ↔ API)
//!
//! | spec | API |
//! |---|---|
//! | `c_concat = VAE.encode(src).mode()` (unscaled) | [`Conditioning::latent`](pipeline::Conditioning::latent) |
//! | `CLIP(src)` | [`Conditioning::clip`](pipeline::Conditioning::clip) |
//! | `T` | [`RelativePose::vector`](pose::RelativePose::vector) |
//! | `cc_projection(clip ‖ T)` | [`Zero123::context`](pipeline::Zero123::context) |
//! | `s` (CFG scale), `η` | [`SampleOptions::guidance_scale`](pipeline::SampleOptions::guidance_scale), [`SampleOptions::eta`](pipeline::SampleOptions::eta) |
//! | batch `[src_u, tgt_u, src_c, tgt_c]` | [`GuidedZero123`](pipeline::GuidedZero123) with rows `[source, target]` |
//! | `0.18215` | [`VaeConfig::scaling_factor`](vae::VaeConfig::scaling_factor) |
//!
//! ## Example (tiny random weights; real weights load the same way)
//!
//! ```no_run
//! use candle_core::Device;
//! use gdlab_core::Seed;
//! use gdlab_diffusion::zero123::{image::RgbImage, pose::RelativePose};
//! use gdlab_diffusion::zero123::pipeline::{Method, SampleOptions, Zero123, ZeroToHeroConfig};
//! use gdlab_diffusion::zero123::weights::{write_random_weights, WeightsDir, Zero123Config};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = std::env::temp_dir().join("z123-doc");
//! write_random_weights(&dir, &Zero123Config::tiny(), Seed(0))?;
//! let model = Zero123::load(&WeightsDir::open(&dir)?, &Device::Cpu)?;
//! let s = model.image_size();
//! let img = RgbImage::filled(s, s, [1.0, 0.5, 0.0]).to_tensor(&Device::Cpu)?;
//! let pose = RelativePose::new(15.0, 30.0, 0.0)?;
//! let opts = SampleOptions {
//!     method: Method::ZeroToHero(ZeroToHeroConfig::default()),
//!     ..SampleOptions::default()
//! };
//! let out = model.sample(&img, &pose, &opts)?;
//! assert_eq!(out.nfe, 66);
//! # Ok(()) }
//! ```
//!
//! Conventions: images are `(1, 3, S, S)` in [−1, 1] with `S` the model's size (256);
//! weights are loaded as f32; everything is deterministic by seed on a given device.

pub mod clip;
pub mod image;
pub mod ldm;
pub mod pipeline;
pub mod pose;
pub mod tensors;
pub mod vae;
pub mod weights;
