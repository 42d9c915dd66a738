//! The Stable Diffusion VAE (`AutoencoderKL`) with a deterministic encoder.
//!
//! candle-transformers' `AutoEncoderKL::encode` returns a distribution whose mean is
//! private and whose `sample()` draws from candle's unseeded RNG. Zero-1-to-3 needs the
//! **mode** (`encode(x).mode()`, spec §1.2), so the encoder here is assembled from
//! candle's public blocks (`DownEncoderBlock2D`, `UNetMidBlock2D`) and returns the mean
//! half of the moments. The decoder mirrors candle's (`UpDecoderBlock2D`). Keys are
//! diffusers' (`encoder.down_blocks.0.resnets.0.conv1.weight`, …); the mid-block attention
//! accepts both `to_q/to_k/to_v/to_out.0` and the older `query/key/value/proj_attn`
//! (candle's `AttentionBlock` probes for `to_q.weight`), stored as linears or 1×1 convs.

use candle_core::{Module, Tensor};
use candle_nn as nn;
use candle_nn::VarBuilder;
use candle_transformers::models::stable_diffusion::unet_2d_blocks::{
    DownEncoderBlock2D, DownEncoderBlock2DConfig, UNetMidBlock2D, UNetMidBlock2DConfig,
    UpDecoderBlock2D, UpDecoderBlock2DConfig,
};

use crate::error::{DiffusionError, Result};

/// Configuration of the VAE (diffusers `AutoencoderKL` `config.json` fields).
#[derive(Clone, Debug, PartialEq)]
pub struct VaeConfig {
    /// Channels per resolution level (`block_out_channels`; SD: `[128, 256, 512, 512]`).
    pub block_out_channels: Vec<usize>,
    /// Resnets per encoder level (the decoder has one more), SD: 2.
    pub layers_per_block: usize,
    /// Latent channels (SD: 4).
    pub latent_channels: usize,
    /// GroupNorm groups (SD: 32).
    pub norm_num_groups: usize,
    /// The latent scale factor (SD 1.x: 0.18215): the diffusion model sees
    /// `scaling_factor · z`, and `decode` expects `z = latent / scaling_factor`.
    pub scaling_factor: f64,
}

impl VaeConfig {
    /// Zero-1-to-3's VAE (`ch=128`, `ch_mult=[1,2,4,4]`, `z_channels=4`,
    /// `scale_factor=0.18215`; spec §1.1).
    #[must_use]
    pub fn zero123() -> Self {
        VaeConfig {
            block_out_channels: vec![128, 256, 512, 512],
            layers_per_block: 2,
            latent_channels: 4,
            norm_num_groups: 32,
            scaling_factor: 0.18215,
        }
    }

    /// Spatial downsampling factor image → latent (`2^(levels − 1)`; SD: 8).
    #[must_use]
    pub fn downsample_factor(&self) -> usize {
        1 << self.block_out_channels.len().saturating_sub(1)
    }

    /// Checks the configuration.
    ///
    /// # Errors
    /// [`DiffusionError::OutOfRange`] naming the field: no levels, a zero size, channels not
    /// divisible by the group count, a non-positive scale.
    pub fn validate(&self) -> Result<()> {
        let bad = |field, value: f64, allowed| {
            Err(DiffusionError::OutOfRange {
                field,
                value,
                allowed,
            })
        };
        if self.block_out_channels.is_empty() || self.block_out_channels.len() > 8 {
            return bad(
                "block_out_channels",
                self.block_out_channels.len() as f64,
                "1 to 8 levels",
            );
        }
        if self.norm_num_groups == 0 {
            return bad("norm_num_groups", 0.0, "≥ 1");
        }
        for &c in &self.block_out_channels {
            if c == 0 || c % self.norm_num_groups != 0 {
                return bad(
                    "block_out_channels",
                    c as f64,
                    "positive multiples of norm_num_groups",
                );
            }
        }
        if self.layers_per_block == 0 {
            return bad("layers_per_block", 0.0, "≥ 1");
        }
        if self.latent_channels == 0 {
            return bad("latent_channels", 0.0, "≥ 1");
        }
        if !(self.scaling_factor.is_finite() && self.scaling_factor > 0.0) {
            return bad("scaling_factor", self.scaling_factor, "> 0");
        }
        Ok(())
    }
}

/// The VAE: a deterministic encoder (mode) and the decoder.
#[derive(Debug)]
pub struct Vae {
    enc_conv_in: nn::Conv2d,
    enc_down: Vec<DownEncoderBlock2D>,
    enc_mid: UNetMidBlock2D,
    enc_norm: nn::GroupNorm,
    enc_conv_out: nn::Conv2d,
    quant_conv: nn::Conv2d,
    post_quant_conv: nn::Conv2d,
    dec_conv_in: nn::Conv2d,
    dec_mid: UNetMidBlock2D,
    dec_up: Vec<UpDecoderBlock2D>,
    dec_norm: nn::GroupNorm,
    dec_conv_out: nn::Conv2d,
    cfg: VaeConfig,
}

fn conv3(cin: usize, cout: usize, vb: VarBuilder) -> candle_core::Result<nn::Conv2d> {
    let c = nn::Conv2dConfig {
        padding: 1,
        ..Default::default()
    };
    nn::conv2d(cin, cout, 3, c, vb)
}

impl Vae {
    /// Builds the VAE from `vb` (diffusers keys `encoder.*`, `decoder.*`, `quant_conv.*`,
    /// `post_quant_conv.*`).
    ///
    /// # Errors
    /// Configuration errors ([`VaeConfig::validate`]); missing or misshaped tensors.
    pub fn new(vb: VarBuilder, cfg: &VaeConfig) -> Result<Self> {
        cfg.validate()?;
        let ch = &cfg.block_out_channels;
        let (first, last) = (ch[0], ch[ch.len() - 1]);
        let g = cfg.norm_num_groups;
        let lat = cfg.latent_channels;
        let mid_cfg = UNetMidBlock2DConfig {
            resnet_eps: 1e-6,
            output_scale_factor: 1.0,
            attn_num_head_channels: None,
            resnet_groups: Some(g),
            ..Default::default()
        };
        // Encoder.
        let e = vb.pp("encoder");
        let enc_conv_in = conv3(3, first, e.pp("conv_in"))?;
        let mut enc_down = Vec::with_capacity(ch.len());
        for (i, &out) in ch.iter().enumerate() {
            let cin = if i == 0 { first } else { ch[i - 1] };
            let c = DownEncoderBlock2DConfig {
                num_layers: cfg.layers_per_block,
                resnet_eps: 1e-6,
                resnet_groups: g,
                add_downsample: i + 1 < ch.len(),
                downsample_padding: 0,
                ..Default::default()
            };
            enc_down.push(DownEncoderBlock2D::new(
                e.pp("down_blocks").pp(i.to_string()),
                cin,
                out,
                c,
            )?);
        }
        let enc_mid = UNetMidBlock2D::new(e.pp("mid_block"), last, None, mid_cfg)?;
        let enc_norm = nn::group_norm(g, last, 1e-6, e.pp("conv_norm_out"))?;
        let enc_conv_out = conv3(last, 2 * lat, e.pp("conv_out"))?;
        let quant_conv = nn::conv2d(2 * lat, 2 * lat, 1, Default::default(), vb.pp("quant_conv"))?;
        // Decoder.
        let post_quant_conv =
            nn::conv2d(lat, lat, 1, Default::default(), vb.pp("post_quant_conv"))?;
        let d = vb.pp("decoder");
        let dec_conv_in = conv3(lat, last, d.pp("conv_in"))?;
        let dec_mid = UNetMidBlock2D::new(d.pp("mid_block"), last, None, mid_cfg)?;
        let rev: Vec<usize> = ch.iter().rev().copied().collect();
        let mut dec_up = Vec::with_capacity(ch.len());
        for (i, &out) in rev.iter().enumerate() {
            let cin = if i == 0 { rev[0] } else { rev[i - 1] };
            let c = UpDecoderBlock2DConfig {
                num_layers: cfg.layers_per_block + 1,
                resnet_eps: 1e-6,
                resnet_groups: g,
                add_upsample: i + 1 < ch.len(),
                ..Default::default()
            };
            dec_up.push(UpDecoderBlock2D::new(
                d.pp("up_blocks").pp(i.to_string()),
                cin,
                out,
                c,
            )?);
        }
        let dec_norm = nn::group_norm(g, first, 1e-6, d.pp("conv_norm_out"))?;
        let dec_conv_out = conv3(first, 3, d.pp("conv_out"))?;
        Ok(Vae {
            enc_conv_in,
            enc_down,
            enc_mid,
            enc_norm,
            enc_conv_out,
            quant_conv,
            post_quant_conv,
            dec_conv_in,
            dec_mid,
            dec_up,
            dec_norm,
            dec_conv_out,
            cfg: cfg.clone(),
        })
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &VaeConfig {
        &self.cfg
    }

    /// The mode (mean) of the posterior `q(z | x)` for images `x` `(B, 3, H, W)` in
    /// [−1, 1]: `(B, latent_channels, H/f, W/f)`, **unscaled** (multiply by
    /// `scaling_factor` for the diffusion latent; Zero-1-to-3's `c_concat` uses it
    /// unscaled, spec pitfall 12).
    ///
    /// # Errors
    /// [`DiffusionError::Shape`] if `H` or `W` is not a multiple of the downsampling
    /// factor; tensor errors.
    pub fn encode_mode(&self, x: &Tensor) -> Result<Tensor> {
        let (_, c, h, w) = x.dims4()?;
        let f = self.cfg.downsample_factor();
        if c != 3 || h % f != 0 || w % f != 0 {
            return Err(DiffusionError::Shape {
                op: "Vae::encode_mode".into(),
                expected: format!("(B, 3, H, W) with H, W multiples of {f}"),
                got: format!("{:?}", x.dims()),
            });
        }
        let mut h = self.enc_conv_in.forward(x)?;
        for b in &self.enc_down {
            h = b.forward(&h)?;
        }
        let h = self.enc_mid.forward(&h, None)?;
        let h = candle_nn::ops::silu(&self.enc_norm.forward(&h)?)?;
        let moments = self.quant_conv.forward(&self.enc_conv_out.forward(&h)?)?;
        Ok(moments.narrow(1, 0, self.cfg.latent_channels)?)
    }

    /// Decodes unscaled latents `z` `(B, latent_channels, h, w)` to images in (about)
    /// [−1, 1] `(B, 3, h·f, w·f)`.
    ///
    /// # Errors
    /// Tensor errors (wrong channel count).
    pub fn decode(&self, z: &Tensor) -> Result<Tensor> {
        let h = self.post_quant_conv.forward(z)?;
        let mut h = self.dec_mid.forward(&self.dec_conv_in.forward(&h)?, None)?;
        for b in &self.dec_up {
            h = b.forward(&h)?;
        }
        let h = candle_nn::ops::silu(&self.dec_norm.forward(&h)?)?;
        Ok(self.dec_conv_out.forward(&h)?)
    }
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // bitwise comparisons against candle's own decoder
mod tests {
    use super::*;
    use candle_core::{DType, Device};
    use candle_transformers::models::stable_diffusion::vae::{AutoEncoderKL, AutoEncoderKLConfig};

    fn tiny() -> VaeConfig {
        VaeConfig {
            block_out_channels: vec![16, 32],
            layers_per_block: 1,
            latent_channels: 4,
            norm_num_groups: 8,
            scaling_factor: 0.18215,
        }
    }

    fn varmap_random(cfg: &VaeConfig) -> (candle_nn::VarMap, Vae) {
        let vm = candle_nn::VarMap::new();
        let vb = VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu);
        let vae = Vae::new(vb, cfg).unwrap();
        (vm, vae)
    }

    #[test]
    fn encoder_mode_matches_candle_when_the_variance_vanishes() {
        // candle's encode().sample() = mean + exp(logvar/2)·ξ. With the logvar rows of
        // quant_conv set to weight 0, bias −80 the noise term is e^{-40}·ξ < 1e-17, so
        // candle's sample equals our mode to f32 precision, an independent check of the
        // encoder assembly (same weights, candle's own Encoder).
        let cfg = tiny();
        let (vm, vae) = varmap_random(&cfg);
        {
            let data = vm.data().lock().unwrap();
            let w = &data["quant_conv.weight"];
            let b = &data["quant_conv.bias"];
            let mut wv = w
                .as_tensor()
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap();
            let mut bv = b.as_tensor().to_vec1::<f32>().unwrap();
            for o in 4..8 {
                for i in 0..8 {
                    wv[o * 8 + i] = 0.0;
                }
                bv[o] = -80.0;
            }
            w.set(&Tensor::from_vec(wv, (8, 8, 1, 1), &Device::Cpu).unwrap())
                .unwrap();
            b.set(&Tensor::from_vec(bv, 8, &Device::Cpu).unwrap())
                .unwrap();
        }
        let theirs = AutoEncoderKL::new(
            VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu),
            3,
            3,
            AutoEncoderKLConfig {
                block_out_channels: cfg.block_out_channels.clone(),
                layers_per_block: cfg.layers_per_block,
                latent_channels: 4,
                norm_num_groups: 8,
                use_quant_conv: true,
                use_post_quant_conv: true,
            },
        )
        .unwrap();
        let x = Tensor::randn(0f32, 0.5, (2, 3, 8, 8), &Device::Cpu).unwrap();
        let ours = vae.encode_mode(&x).unwrap();
        assert_eq!(ours.dims(), &[2, 4, 4, 4]);
        let s = theirs.encode(&x).unwrap().sample().unwrap();
        let d = (&ours - &s)
            .unwrap()
            .abs()
            .unwrap()
            .max_all()
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        assert!(d < 1e-6, "max |Δ| = {d}");
        // The decoder is candle's, bit for bit.
        let z = Tensor::randn(0f32, 1.0, (1, 4, 4, 4), &Device::Cpu).unwrap();
        let a = vae.decode(&z).unwrap();
        let b = theirs.decode(&z).unwrap();
        assert_eq!(a.dims(), &[1, 3, 8, 8]);
        assert_eq!(
            a.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
            b.flatten_all().unwrap().to_vec1::<f32>().unwrap()
        );
        // Deterministic: the mode twice is bit-identical.
        assert_eq!(
            ours.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
            vae.encode_mode(&x)
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap()
        );
        assert!(vae
            .encode_mode(&Tensor::zeros((1, 3, 5, 8), DType::F32, &Device::Cpu).unwrap())
            .is_err());
    }

    #[test]
    fn config_validation_names_fields() {
        assert_eq!(VaeConfig::zero123().downsample_factor(), 8);
        VaeConfig::zero123().validate().unwrap();
        let e = VaeConfig {
            block_out_channels: vec![30],
            ..tiny()
        }
        .validate()
        .unwrap_err()
        .to_string();
        assert!(e.contains("block_out_channels"), "{e}");
        let e = VaeConfig {
            scaling_factor: 0.0,
            ..tiny()
        }
        .validate()
        .unwrap_err()
        .to_string();
        assert!(e.contains("scaling_factor"), "{e}");
    }
}
