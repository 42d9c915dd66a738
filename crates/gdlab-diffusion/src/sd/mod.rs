//! The Stable-Diffusion-1.x latent UNet with the attention hook (spec §1.1, §4.2), in the
//! diffusers key layout, and tools for building models without weights.
//!
//! | module / item | what it holds |
//! |---|---|
//! | [`UNetConfig`], [`SdUNet`] | the hooked `UNet2DConditionModel` (Zero-1-to-3: [`UNetConfig::zero123`]) |
//! | [`shape_only`] | a recording, zero-cost `VarBuilder` backend: list the tensors a model needs, check key names and parameter counts without weights |
//!
//! ## Structure and key names (diffusers)
//!
//! `conv_in` → `time_embedding.linear_{1,2}` (sinusoidal projection of width
//! `block_out_channels[0]`, `flip_sin_to_cos`, shift 0) → `down_blocks.i` (`resnets.j`,
//! `attentions.j` on attention levels, `downsamplers.0.conv` 3×3 stride 2 except on the
//! last level) → `mid_block` (`resnets.0`, `attentions.0`, `resnets.1`) → `up_blocks.i`
//! (`layers_per_block + 1` resnets fed with the skip connections, `attentions.j` on
//! attention levels, `upsamplers.0.conv` after nearest ×2 except on the last block) →
//! `conv_norm_out`, SiLU, `conv_out`.
//!
//! Each `attentions.j` is a `Transformer2DModel`: `norm` (GroupNorm, ε 1e-6), `proj_in` and
//! `proj_out` (1×1 convs: SD-1.x has `use_linear_projection = false`) around
//! `transformer_blocks.0` = `norm1`, `attn1` (self), `norm2`, `attn2` (cross, keys and
//! values from the context), `norm3`, `ff.net.0.proj` (GEGLU, dim → 2·4·dim, exact GELU)
//! and `ff.net.2`. `to_q`/`to_k`/`to_v` have no bias; the logits scale is
//! `d_head^{-1/2}` with `d_head = channels / heads` (40/80/160 for Zero-1-to-3).
//!
//! The resnets and the time embedding are candle-transformers' `ResnetBlock2D`,
//! `Timesteps` and `TimestepEmbedding`; the attention blocks are this crate's, because
//! candle's have no hook. A test builds candle-transformers' `UNet2DConditionModel` from
//! the same variables and checks that both agree.
//!
//! ## Zero-1-to-3 attention sites at a 32×32 latent (spec §1.1)
//!
//! | part | `index` | grid | channels | heads × d_head |
//! |---|---|---|---|---|
//! | `Down(0)` | 0, 1 | 32×32 | 320 | 8×40 |
//! | `Down(1)` | 0, 1 | 16×16 | 640 | 8×80 |
//! | `Down(2)` | 0, 1 | 8×8 | 1280 | 8×160 |
//! | `Mid` | 0 | 4×4 | 1280 | 8×160 |
//! | `Up(1)` | 0, 1, 2 | 8×8 | 1280 | 8×160 |
//! | `Up(2)` | 0, 1, 2 | 16×16 | 640 | 8×80 |
//! | `Up(3)` | 0, 1, 2 | 32×32 | 320 | 8×40 |
//!
//! Each row is one self-attention (`attn1`) and one cross-attention (`attn2`) site; the
//! context is a single token, so cross-attention probabilities are exactly 1.

pub mod shape_only;
#[cfg(test)]
mod tests;
mod transformer;
mod unet;

pub use unet::{SdUNet, UNetConfig};
