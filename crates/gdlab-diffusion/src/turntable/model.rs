//! The tiny view-conditioned U-ViT denoiser (spec §4.3 "Model").
//!
//! Tokens are 4×4 patches of the noisy target concatenated with the matching source patch
//! (the `c_concat` analogue). Five pre-LN blocks `enc1, enc2, mid, dec1, dec2` with long
//! skips enc1→dec2 and enc2→dec1 (concat + linear); each block has self-attention, a
//! **single-token** cross-attention to the context token `MLP(pose ‖ t-embedding)` (whose
//! softmax is identically 1, as in Zero-1-to-3), and an MLP ×4.
//!
//! ## Output parameterisation
//!
//! [`ToyUvit::forward`] always returns `ε̂` (what the sampler needs). By default
//! ([`Prediction::X0`]) the network's own output `F` is the clean image, converted as
//! `ε̂ = (x_t − √ᾱ_t·F)/√(1−ᾱ_t)`, so a DDIM step's `x̂_0` is `F` itself. The spec's plain
//! ε-network ([`Prediction::Eps`]) has to copy the 48 per-pixel noise values of a token
//! through the 64-wide residual stream that also carries the source patch; trained as the
//! study does (300 steps) it plateaus at ε-MSE ≈ 0.23 at every t ≥ 400, where `ε̂ = x_t`
//! alone scores 0.006 at t = 981, and `x̂_0 = (x_t − √(1−ᾱ)ε̂)/√ᾱ` multiplies that error
//! by ≈ 15 at t ≈ 980, so every sample was saturated colour noise (PSNR ≈ 3.5 dB). The
//! velocity network ([`Prediction::V`], `v = √ᾱ_t·ε − √(1−ᾱ_t)·x_0`) keeps `x̂_0` bounded
//! but still has to output per-pixel noise at middle t and left visible noise in every
//! sample (PSNR ≈ 10.8 dB); the clean image is smooth (a few shaded spheres on white), so
//! it fits the narrow stream, and the noise is removed by the conversion exactly.

use candle_core::{DType, Device, Tensor};
use candle_nn::{linear, Linear, VarBuilder};

use crate::attention::{linear_tokens as lin, HookedAttention};
use crate::control::{AttentionController, AttnKind, AttnSite, UNetPart};
use crate::error::{DiffusionError, Result};
use crate::schedule::NoiseSchedule;

/// What the network's last layer predicts (see the [module docs](self)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Prediction {
    /// The noise `ε` directly (the spec's ε-network).
    Eps,
    /// The velocity `v = √ᾱ_t·ε − √(1−ᾱ_t)·x_0`, converted as
    /// `ε̂ = √(1−ᾱ_t)·x_t + √ᾱ_t·v̂`.
    V,
    /// The clean image `x_0`, converted as `ε̂ = (x_t − √ᾱ_t·x̂_0)/√(1−ᾱ_t)` (default).
    #[default]
    X0,
}

/// Sizes of the toy model (defaults: spec §4.3).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ToyConfig {
    /// Image side (24).
    pub image: usize,
    /// Patch side (4 ⇒ a 6×6 token grid).
    pub patch: usize,
    /// Model width d (64).
    pub dim: usize,
    /// Attention heads (4 × 16).
    pub heads: usize,
    /// MLP expansion (4).
    pub mlp_ratio: usize,
    /// Sinusoidal timestep-embedding width (32; study's choice).
    pub t_dim: usize,
    /// Output parameterisation (default [`Prediction::X0`]).
    pub prediction: Prediction,
}

impl Default for ToyConfig {
    fn default() -> Self {
        ToyConfig {
            image: 24,
            patch: 4,
            dim: 64,
            heads: 4,
            mlp_ratio: 4,
            t_dim: 32,
            prediction: Prediction::X0,
        }
    }
}

impl ToyConfig {
    /// Tokens per side.
    #[must_use]
    pub fn grid(&self) -> usize {
        self.image / self.patch
    }
    /// Tokens per image.
    #[must_use]
    pub fn tokens(&self) -> usize {
        self.grid() * self.grid()
    }
    /// Values per patch (`p²·3`).
    #[must_use]
    pub fn patch_dim(&self) -> usize {
        self.patch * self.patch * 3
    }
    fn validate(&self) -> Result<()> {
        if self.patch == 0 || self.image % self.patch != 0 {
            return Err(DiffusionError::OutOfRange {
                field: "patch",
                value: self.patch as f64,
                allowed: "a divisor of image",
            });
        }
        if self.heads == 0 || self.dim % self.heads != 0 {
            return Err(DiffusionError::OutOfRange {
                field: "heads",
                value: self.heads as f64,
                allowed: "a divisor of dim",
            });
        }
        if self.t_dim < 2 || self.t_dim % 2 != 0 {
            return Err(DiffusionError::OutOfRange {
                field: "t_dim",
                value: self.t_dim as f64,
                allowed: "even, ≥ 2",
            });
        }
        Ok(())
    }
}

/// Layer norm (with the differentiable candle path; candle's fused kernel has no
/// backward pass).
#[derive(Debug, Clone)]
struct Norm {
    w: Tensor,
    b: Tensor,
}

impl Norm {
    fn new(dim: usize, vb: VarBuilder<'_>) -> Result<Self> {
        Ok(Norm {
            w: vb.get_with_hints(dim, "weight", candle_nn::Init::Const(1.0))?,
            b: vb.get_with_hints(dim, "bias", candle_nn::Init::Const(0.0))?,
        })
    }
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        if x.track_op() || self.w.track_op() {
            Ok(candle_nn::ops::layer_norm_slow(x, &self.w, &self.b, 1e-5)?)
        } else {
            // Inference on detached weights: candle's fused kernel (no backward needed).
            Ok(candle_nn::ops::layer_norm(
                &x.contiguous()?,
                &self.w,
                &self.b,
                1e-5,
            )?)
        }
    }
}

#[derive(Debug, Clone)]
struct Block {
    norm1: Norm,
    attn1: HookedAttention,
    norm2: Norm,
    attn2: HookedAttention,
    norm3: Norm,
    ff1: Linear,
    ff2: Linear,
    self_site: AttnSite,
    cross_site: AttnSite,
}

impl Block {
    fn new(cfg: &ToyConfig, part: UNetPart, ordinal: usize, vb: VarBuilder<'_>) -> Result<Self> {
        let d = cfg.dim;
        let g = cfg.grid();
        let site = |ordinal, kind| AttnSite {
            ordinal,
            part,
            index: 0,
            grid: (g, g),
            kind,
            heads: cfg.heads,
        };
        Ok(Block {
            norm1: Norm::new(d, vb.pp("norm1"))?,
            attn1: HookedAttention::new(d, d, cfg.heads, vb.pp("attn1"), "to_out")?,
            norm2: Norm::new(d, vb.pp("norm2"))?,
            attn2: HookedAttention::new(d, d, cfg.heads, vb.pp("attn2"), "to_out")?,
            norm3: Norm::new(d, vb.pp("norm3"))?,
            ff1: linear(d, d * cfg.mlp_ratio, vb.pp("ff1"))?,
            ff2: linear(d * cfg.mlp_ratio, d, vb.pp("ff2"))?,
            self_site: site(2 * ordinal, AttnKind::SelfAttn),
            cross_site: site(2 * ordinal + 1, AttnKind::CrossAttn),
        })
    }
    fn forward(
        &self,
        x: &Tensor,
        ctx: &Tensor,
        mut ctrl: Option<&mut (dyn AttentionController + '_)>,
    ) -> Result<Tensor> {
        let h = self.norm1.forward(x)?;
        let x = (x + self
            .attn1
            .forward(&h, &h, &self.self_site, ctrl.as_deref_mut())?)?;
        let h = self.norm2.forward(&x)?;
        let x = (&x + self.attn2.forward(&h, ctx, &self.cross_site, ctrl)?)?;
        let h = self.norm3.forward(&x)?;
        let h = lin(&self.ff2, &lin(&self.ff1, &h)?.gelu_erf()?)?;
        Ok((x + h)?)
    }
}

/// The toy denoiser `ε̂(x_t, source, pose, t)`.
///
/// Attention sites: block `b` (0 = enc1 … 4 = dec2) has self-attention ordinal `2b` and
/// cross-attention ordinal `2b + 1`; parts `Down(0), Down(1), Mid, Up(0), Up(1)`.
#[derive(Debug, Clone)]
pub struct ToyUvit {
    cfg: ToyConfig,
    embed: Linear,
    pos: Tensor,
    ctx1: Linear,
    ctx2: Linear,
    blocks: Vec<Block>,
    skip1: Linear,
    skip2: Linear,
    norm_out: Norm,
    out: Linear,
    sched: NoiseSchedule,
}

/// The parts of the five blocks, in forward order.
pub const BLOCK_PARTS: [UNetPart; 5] = [
    UNetPart::Down(0),
    UNetPart::Down(1),
    UNetPart::Mid,
    UNetPart::Up(0),
    UNetPart::Up(1),
];

impl ToyUvit {
    /// Builds the model from `vb` (a `VarMap`-backed builder initialises fresh weights).
    ///
    /// # Errors
    /// [`DiffusionError::OutOfRange`] for an invalid configuration; candle errors.
    pub fn new(cfg: &ToyConfig, vb: VarBuilder<'_>) -> Result<Self> {
        cfg.validate()?;
        let d = cfg.dim;
        let blocks = BLOCK_PARTS
            .iter()
            .enumerate()
            .map(|(i, p)| Block::new(cfg, *p, i, vb.pp(format!("blocks.{i}"))))
            .collect::<Result<Vec<_>>>()?;
        Ok(ToyUvit {
            cfg: cfg.clone(),
            embed: linear(2 * cfg.patch_dim(), d, vb.pp("embed"))?,
            pos: vb.get_with_hints(
                (cfg.tokens(), d),
                "pos",
                candle_nn::Init::Randn {
                    mean: 0.0,
                    stdev: 0.02,
                },
            )?,
            ctx1: linear(4 + cfg.t_dim, d, vb.pp("ctx1"))?,
            ctx2: linear(d, d, vb.pp("ctx2"))?,
            blocks,
            skip1: linear(2 * d, d, vb.pp("skip1"))?,
            skip2: linear(2 * d, d, vb.pp("skip2"))?,
            norm_out: Norm::new(d, vb.pp("norm_out"))?,
            out: linear(d, cfg.patch_dim(), vb.pp("out"))?,
            sched: NoiseSchedule::stable_diffusion(),
        })
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &ToyConfig {
        &self.cfg
    }

    /// Every attention site, in forward order.
    #[must_use]
    pub fn sites(&self) -> Vec<AttnSite> {
        self.blocks
            .iter()
            .flat_map(|b| [b.self_site.clone(), b.cross_site.clone()])
            .collect()
    }

    /// Sinusoidal embedding of integer timesteps `(B)` → `(B, t_dim)`:
    /// `[sin(t·ω_i), cos(t·ω_i)]`, `ω_i = 10000^{−i/(t_dim/2)}`.
    ///
    /// # Errors
    /// Tensor errors.
    pub fn time_embedding(&self, t: &[usize], device: &Device) -> Result<Tensor> {
        let half = self.cfg.t_dim / 2;
        let mut v = Vec::with_capacity(t.len() * self.cfg.t_dim);
        for &ti in t {
            for i in 0..half {
                let w = (-(10_000f64.ln()) * i as f64 / half as f64).exp();
                v.push((ti as f64 * w).sin() as f32);
            }
            for i in 0..half {
                let w = (-(10_000f64.ln()) * i as f64 / half as f64).exp();
                v.push((ti as f64 * w).cos() as f32);
            }
        }
        Ok(Tensor::from_vec(v, (t.len(), self.cfg.t_dim), device)?)
    }

    /// `ε̂` for noisy patches `x` `(B, N, p²·3)`, source patches `src` (same shape), pose
    /// vectors `pose` `(B, 4)` and timesteps `t` (one per row, absolute SD timesteps
    /// `0..1000`, the same integers as in training): the network output of
    /// [`ToyUvit::forward_raw`] converted to `ε̂` (see [`Prediction`]).
    ///
    /// # Errors
    /// Tensor or controller errors; [`DiffusionError::Shape`] if `t` has the wrong length;
    /// [`DiffusionError::OutOfRange`] if a timestep is ≥ 1000.
    pub fn forward(
        &self,
        x: &Tensor,
        src: &Tensor,
        pose: &Tensor,
        t: &[usize],
        ctrl: Option<&mut (dyn AttentionController + '_)>,
    ) -> Result<Tensor> {
        let raw = self.forward_raw(x, src, pose, t, ctrl)?;
        match self.cfg.prediction {
            Prediction::Eps => Ok(raw),
            Prediction::V => {
                // ε̂ = √(1−ᾱ)·x_t + √ᾱ·v̂, per row.
                let (c_x, c_v) =
                    self.coefficients(t, x.device(), |a| ((1.0 - a).sqrt(), a.sqrt()))?;
                Ok((x.broadcast_mul(&c_x)? + raw.broadcast_mul(&c_v)?)?)
            }
            Prediction::X0 => {
                // ε̂ = x_t/√(1−ᾱ) − √(ᾱ/(1−ᾱ))·x̂0, per row.
                let (c_x, c_0) = self.coefficients(t, x.device(), |a| {
                    (1.0 / (1.0 - a).sqrt(), -(a / (1.0 - a)).sqrt())
                })?;
                Ok((x.broadcast_mul(&c_x)? + raw.broadcast_mul(&c_0)?)?)
            }
        }
    }

    /// Per-row coefficients `f(ᾱ_t)` as two `(B, 1, 1)` tensors.
    fn coefficients(
        &self,
        t: &[usize],
        device: &Device,
        f: impl Fn(f64) -> (f64, f64),
    ) -> Result<(Tensor, Tensor)> {
        let mut cx = Vec::with_capacity(t.len());
        let mut cv = Vec::with_capacity(t.len());
        for &ti in t {
            if ti >= self.sched.n_train() {
                return Err(DiffusionError::OutOfRange {
                    field: "timestep",
                    value: ti as f64,
                    allowed: "0..T (T = 1000)",
                });
            }
            let (p, q) = f(self.sched.alpha_bar(ti));
            cx.push(p as f32);
            cv.push(q as f32);
        }
        Ok((
            Tensor::from_vec(cx, (t.len(), 1, 1), device)?,
            Tensor::from_vec(cv, (t.len(), 1, 1), device)?,
        ))
    }

    /// The network output in its own parameterisation ([`ToyConfig::prediction`]): `ε̂`
    /// or `v̂`, same shape as `x`. Training fits this to the matching target.
    ///
    /// # Errors
    /// As [`ToyUvit::forward`].
    pub fn forward_raw(
        &self,
        x: &Tensor,
        src: &Tensor,
        pose: &Tensor,
        t: &[usize],
        mut ctrl: Option<&mut (dyn AttentionController + '_)>,
    ) -> Result<Tensor> {
        let b = x.dim(0)?;
        if t.len() != b {
            return Err(DiffusionError::Shape {
                op: "ToyUvit::forward timesteps".into(),
                expected: format!("{b}"),
                got: format!("{}", t.len()),
            });
        }
        if let Some(&bad) = t.iter().find(|&&ti| ti >= self.sched.n_train()) {
            return Err(DiffusionError::OutOfRange {
                field: "timestep",
                value: bad as f64,
                allowed: "0..T (T = 1000)",
            });
        }
        let temb = self.time_embedding(t, x.device())?;
        let c = Tensor::cat(&[pose, &temb], 1)?;
        let ctx = lin(&self.ctx2, &lin(&self.ctx1, &c)?.silu()?)?.unsqueeze(1)?;
        let h = lin(&self.embed, &Tensor::cat(&[x, src], 2)?)?.broadcast_add(&self.pos)?;
        let e1 = self.blocks[0].forward(&h, &ctx, ctrl.as_deref_mut())?;
        let e2 = self.blocks[1].forward(&e1, &ctx, ctrl.as_deref_mut())?;
        let m = self.blocks[2].forward(&e2, &ctx, ctrl.as_deref_mut())?;
        let d1_in = lin(&self.skip1, &Tensor::cat(&[&m, &e2], 2)?)?;
        let d1 = self.blocks[3].forward(&d1_in, &ctx, ctrl.as_deref_mut())?;
        let d2_in = lin(&self.skip2, &Tensor::cat(&[&d1, &e1], 2)?)?;
        let d2 = self.blocks[4].forward(&d2_in, &ctx, ctrl)?;
        lin(&self.out, &self.norm_out.forward(&d2)?)
    }
}

impl ToyUvit {
    /// A copy of the model on detached weights (no gradient tracking), which runs the
    /// fused inference kernels (layer norm, softmax). Same numbers up to f32 rounding.
    ///
    /// # Errors
    /// Candle errors.
    pub fn detached(&self, vm: &candle_nn::VarMap) -> Result<ToyUvit> {
        let data = vm.data().lock().map_err(|_| DiffusionError::Protocol {
            controller: "ToyUvit::detached",
            message: "poisoned VarMap lock".into(),
        })?;
        let tensors: std::collections::HashMap<String, Tensor> = data
            .iter()
            .map(|(k, v)| (k.clone(), v.as_tensor().detach()))
            .collect();
        let dev = self.pos.device().clone();
        drop(data);
        ToyUvit::new(
            &self.cfg,
            VarBuilder::from_tensors(tensors, DType::F32, &dev),
        )
    }
}

/// A fresh model and its variables (f32, CPU or the given device).
///
/// # Errors
/// As [`ToyUvit::new`].
pub fn fresh(cfg: &ToyConfig, device: &Device) -> Result<(candle_nn::VarMap, ToyUvit)> {
    let vm = candle_nn::VarMap::new();
    let vb = VarBuilder::from_varmap(&vm, DType::F32, device);
    let m = ToyUvit::new(cfg, vb)?;
    Ok((vm, m))
}
