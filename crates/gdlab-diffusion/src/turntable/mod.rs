//! "Turntable-Blobs" (spec §4.3): the in-project view-synthesis demonstration —
//! procedural sphere scenes, a tiny U-ViT denoiser conditioned like Zero-1-to-3, its
//! training, and a classifier-free-guided [`Denoiser`].

pub mod model;
pub mod render;
pub mod train;

use candle_core::Tensor;

use crate::control::AttentionController;
use crate::error::{DiffusionError, Result};
use crate::sampler::{cfg_combine, Denoiser};
use model::ToyUvit;

/// The toy model under classifier-free guidance.
///
/// The network batch is `[uncond(B); cond(B)]`: the unconditional half has zero source
/// patches and a zero pose vector (as in training's condition dropout; Zero-1-to-3's
/// `c_concat = 0`, `c_crossattn = 0`), the conditional half the given ones. `ε = ε_u +
/// s·(ε_c − ε_u)`.
#[derive(Debug)]
pub struct GuidedToy<'a> {
    model: &'a ToyUvit,
    src2: Tensor,
    pose2: Tensor,
    scale: f64,
}

impl<'a> GuidedToy<'a> {
    /// `src` `(B, N, p²·3)` and `pose` `(B, 4)` for the `B` rows of the sampler's batch.
    ///
    /// # Errors
    /// Tensor errors (mismatched shapes).
    pub fn new(model: &'a ToyUvit, src: &Tensor, pose: &Tensor, scale: f64) -> Result<Self> {
        if src.dim(0)? != pose.dim(0)? {
            return Err(DiffusionError::Shape {
                op: "GuidedToy::new rows of src and pose".into(),
                expected: format!("{}", src.dim(0)?),
                got: format!("{}", pose.dim(0)?),
            });
        }
        Ok(GuidedToy {
            model,
            src2: Tensor::cat(&[&src.zeros_like()?, src], 0)?,
            pose2: Tensor::cat(&[&pose.zeros_like()?, pose], 0)?,
            scale,
        })
    }
}

impl Denoiser for GuidedToy<'_> {
    fn eps(
        &self,
        z: &Tensor,
        t: usize,
        ctrl: Option<&mut (dyn AttentionController + '_)>,
    ) -> Result<Tensor> {
        let b = z.dim(0)?;
        let x2 = Tensor::cat(&[z, z], 0)?;
        let e = self
            .model
            .forward(&x2, &self.src2, &self.pose2, &vec![t; 2 * b], ctrl)?;
        cfg_combine(&e.narrow(0, 0, b)?, &e.narrow(0, b, b)?, self.scale)
    }
}
