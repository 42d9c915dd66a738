//! The CLIP ViT image tower with projection (Zero-1-to-3's `FrozenCLIPImageEmbedder`,
//! OpenAI ViT-L/14), on candle-transformers' `ClipVisionTransformer`, and its
//! preprocessing (spec §1.2).
//!
//! Keys are Hugging Face `CLIPVisionModelWithProjection`'s: `vision_model.*` and
//! `visual_projection.weight`.

use candle_core::{Module, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::clip::text_model::Activation;
use candle_transformers::models::clip::vision_model::{ClipVisionConfig, ClipVisionTransformer};

use super::image::resize_bicubic_tensor;
use crate::error::{DiffusionError, Result};

/// CLIP's per-channel normalisation mean (OpenAI CLIP, used by Zero-1-to-3).
pub const CLIP_MEAN: [f64; 3] = [0.481_454_66, 0.457_827_5, 0.408_210_73];
/// CLIP's per-channel normalisation standard deviation.
pub const CLIP_STD: [f64; 3] = [0.268_629_54, 0.261_302_58, 0.275_777_11];

/// Configuration of the image tower (HF `CLIPVisionConfig` fields).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClipImageConfig {
    /// Width of the transformer (`hidden_size`; ViT-L/14: 1024).
    pub hidden_size: usize,
    /// MLP width (ViT-L/14: 4096).
    pub intermediate_size: usize,
    /// Transformer layers (ViT-L/14: 24).
    pub num_hidden_layers: usize,
    /// Attention heads (ViT-L/14: 16).
    pub num_attention_heads: usize,
    /// Output embedding size (ViT-L/14: 768).
    pub projection_dim: usize,
    /// Input resolution (ViT-L/14: 224).
    pub image_size: usize,
    /// Patch size (ViT-L/14: 14).
    pub patch_size: usize,
}

impl ClipImageConfig {
    /// OpenAI CLIP ViT-L/14 (`openai/clip-vit-large-patch14`), Zero-1-to-3's encoder.
    #[must_use]
    pub fn vit_l14() -> Self {
        ClipImageConfig {
            hidden_size: 1024,
            intermediate_size: 4096,
            num_hidden_layers: 24,
            num_attention_heads: 16,
            projection_dim: 768,
            image_size: 224,
            patch_size: 14,
        }
    }

    /// Checks the configuration.
    ///
    /// # Errors
    /// [`DiffusionError::OutOfRange`] naming the field: zero sizes, heads not dividing the
    /// width, a patch size not dividing the image size.
    pub fn validate(&self) -> Result<()> {
        let bad = |field, value: usize, allowed| {
            Err(DiffusionError::OutOfRange {
                field,
                value: value as f64,
                allowed,
            })
        };
        for (f, v) in [
            ("hidden_size", self.hidden_size),
            ("intermediate_size", self.intermediate_size),
            ("num_hidden_layers", self.num_hidden_layers),
            ("num_attention_heads", self.num_attention_heads),
            ("projection_dim", self.projection_dim),
            ("image_size", self.image_size),
            ("patch_size", self.patch_size),
        ] {
            if v == 0 {
                return bad(f, v, "≥ 1");
            }
        }
        if self.hidden_size % self.num_attention_heads != 0 {
            return bad(
                "num_attention_heads",
                self.num_attention_heads,
                "a divisor of hidden_size",
            );
        }
        if self.image_size % self.patch_size != 0 {
            return bad("patch_size", self.patch_size, "a divisor of image_size");
        }
        Ok(())
    }

    fn to_candle(&self) -> ClipVisionConfig {
        ClipVisionConfig {
            embed_dim: self.hidden_size,
            activation: Activation::QuickGelu,
            intermediate_size: self.intermediate_size,
            num_hidden_layers: self.num_hidden_layers,
            num_attention_heads: self.num_attention_heads,
            projection_dim: self.projection_dim,
            num_channels: 3,
            image_size: self.image_size,
            patch_size: self.patch_size,
        }
    }

    /// Tensors candle's constructor only probes for (it substitutes an unseeded random
    /// tensor when `class_embedding` is absent), so the pre-flight check must require them
    /// explicitly.
    #[must_use]
    pub fn probed_tensors(&self) -> Vec<(String, Vec<usize>)> {
        vec![(
            "vision_model.embeddings.class_embedding".into(),
            vec![self.hidden_size],
        )]
    }
}

/// The image tower: `(B, 3, S, S)` preprocessed pixels → `(B, projection_dim)`.
#[derive(Debug)]
pub struct ClipImageEncoder {
    vision: ClipVisionTransformer,
    projection: candle_nn::Linear,
    cfg: ClipImageConfig,
}

impl ClipImageEncoder {
    /// Builds the tower from HF keys (`vision_model.*`, `visual_projection.weight`).
    ///
    /// # Errors
    /// Configuration errors; missing or misshaped tensors.
    pub fn new(vb: VarBuilder, cfg: &ClipImageConfig) -> Result<Self> {
        cfg.validate()?;
        let vision = ClipVisionTransformer::new(vb.pp("vision_model"), &cfg.to_candle())?;
        let projection = candle_nn::linear_no_bias(
            cfg.hidden_size,
            cfg.projection_dim,
            vb.pp("visual_projection"),
        )?;
        Ok(ClipImageEncoder {
            vision,
            projection,
            cfg: cfg.clone(),
        })
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &ClipImageConfig {
        &self.cfg
    }

    /// Zero-1-to-3's preprocessing of images `x` `(B, 3, H, W)` in [−1, 1]: bicubic
    /// resize to `image_size` with `align_corners = true` (kornia, no antialiasing), map
    /// to [0, 1], normalise with [`CLIP_MEAN`] / [`CLIP_STD`].
    ///
    /// # Errors
    /// Tensor errors.
    pub fn preprocess(&self, x: &Tensor) -> Result<Tensor> {
        let s = self.cfg.image_size;
        let x = resize_bicubic_tensor(x, (s, s), true)?;
        let x = x.affine(0.5, 0.5)?;
        let dev = x.device();
        let mean = Tensor::new(&CLIP_MEAN.map(|v| v as f32), dev)?.reshape((1, 3, 1, 1))?;
        let std = Tensor::new(&CLIP_STD.map(|v| v as f32), dev)?.reshape((1, 3, 1, 1))?;
        Ok(x.broadcast_sub(&mean)?.broadcast_div(&std)?)
    }

    /// The projected embedding of preprocessed pixels: `visual_projection(post_layernorm(
    /// cls token))` (HF `image_embeds`, OpenAI `encode_image`; not normalised).
    ///
    /// # Errors
    /// Tensor errors (wrong input size).
    pub fn embed_preprocessed(&self, pixels: &Tensor) -> Result<Tensor> {
        let pooled = self.vision.forward(pixels)?;
        Ok(self.projection.forward(&pooled)?)
    }

    /// [`ClipImageEncoder::preprocess`] then [`ClipImageEncoder::embed_preprocessed`].
    ///
    /// # Errors
    /// Tensor errors.
    pub fn embed(&self, x: &Tensor) -> Result<Tensor> {
        self.embed_preprocessed(&self.preprocess(x)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device};

    fn tiny() -> ClipImageConfig {
        ClipImageConfig {
            hidden_size: 32,
            intermediate_size: 64,
            num_hidden_layers: 2,
            num_attention_heads: 4,
            projection_dim: 24,
            image_size: 28,
            patch_size: 14,
        }
    }

    #[test]
    fn tiny_tower_shapes_and_preprocessing() {
        let vm = candle_nn::VarMap::new();
        let enc = ClipImageEncoder::new(
            VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu),
            &tiny(),
        )
        .unwrap();
        // The constructor probed class_embedding; a VarMap does not hold it, so the
        // check must list it.
        assert_eq!(tiny().probed_tensors()[0].1, vec![32]);
        let x = Tensor::zeros((2, 3, 16, 16), DType::F32, &Device::Cpu).unwrap();
        let p = enc.preprocess(&x).unwrap();
        assert_eq!(p.dims(), &[2, 3, 28, 28]);
        // Grey (0 in [−1, 1]) → 0.5 → (0.5 − mean)/std per channel.
        let v = p.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        for c in 0..3 {
            let want = ((0.5 - CLIP_MEAN[c]) / CLIP_STD[c]) as f32;
            assert!(
                (v[c * 28 * 28] - want).abs() < 1e-6,
                "{} vs {want}",
                v[c * 28 * 28]
            );
        }
        let e = enc.embed(&x).unwrap();
        assert_eq!(e.dims(), &[2, 24]);
        // Identical inputs, identical rows.
        let e = e.to_vec2::<f32>().unwrap();
        assert_eq!(e[0], e[1]);
    }

    #[test]
    fn validation_names_fields() {
        ClipImageConfig::vit_l14().validate().unwrap();
        let e = ClipImageConfig {
            patch_size: 5,
            ..tiny()
        }
        .validate()
        .unwrap_err()
        .to_string();
        assert!(e.contains("patch_size"), "{e}");
        let e = ClipImageConfig {
            num_attention_heads: 5,
            ..tiny()
        }
        .validate()
        .unwrap_err()
        .to_string();
        assert!(e.contains("num_attention_heads"), "{e}");
    }
}
