//! Zero-1-to-3 with user-supplied weights (spec §4.2), with and without Zero-to-Hero.

pub mod clip;
pub mod image;
pub mod ldm;
pub mod pipeline;
pub mod pose;
pub mod tensors;
pub mod vae;
pub mod weights;
