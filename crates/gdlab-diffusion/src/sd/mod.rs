//! The Stable-Diffusion-1.x latent UNet with the attention hook (spec §1.1, §4.2), in the
//! diffusers key layout, and tools for building models without weights.
//!
//! | module | what it holds |
//! |---|---|
//! | [`shape_only`] | a recording, zero-cost `VarBuilder` backend: list the tensors a model needs, check key names and parameter counts without weights |

pub mod shape_only;
