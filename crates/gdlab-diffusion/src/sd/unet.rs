//! The SD-1.x `UNet2DConditionModel` (diffusers key layout) with the attention hook.

use candle_core::{Module, Tensor};
use candle_nn::{Conv2d, GroupNorm, VarBuilder};
use candle_transformers::models::stable_diffusion::embeddings::{TimestepEmbedding, Timesteps};
use candle_transformers::models::stable_diffusion::resnet::{ResnetBlock2D, ResnetBlock2DConfig};
use candle_transformers::models::stable_diffusion::unet_2d::{
    BlockConfig, UNet2DConditionModelConfig,
};

use super::transformer::{Gelu, SiteSlot, SpatialTransformer};
use crate::control::{AttentionController, AttnSite, UNetPart};
use crate::error::{DiffusionError, Result};

/// Sizes of an SD-1.x UNet (diffusers `UNet2DConditionModel` with `CrossAttnDownBlock2D`
/// / `DownBlock2D` levels, one transformer block per attention, 1×1-conv projections).
#[derive(Clone, Debug, PartialEq)]
pub struct UNetConfig {
    /// Input channels (Zero-1-to-3: 8 = 4 noisy + 4 source latent).
    pub in_channels: usize,
    /// Output channels (4: `ε̂`).
    pub out_channels: usize,
    /// Channels per level (`[320, 640, 1280, 1280]`); `block_out_channels[0]` is also the
    /// width of the sinusoidal time projection, the time embedding is 4× that.
    pub block_out_channels: Vec<usize>,
    /// Resnets per down block (2); up blocks have one more.
    pub layers_per_block: usize,
    /// Whether level `i` has attention (`[true, true, true, false]`); the mid block always
    /// has one.
    pub attention_levels: Vec<bool>,
    /// Attention **head count** at every level (8; diffusers calls it
    /// `attention_head_dim`, spec pitfall 13). Head dim = channels / heads.
    pub heads: usize,
    /// Width of the cross-attention context tokens (768).
    pub cross_attention_dim: usize,
    /// GroupNorm groups (32).
    pub norm_num_groups: usize,
    /// GroupNorm ε of the resnets and the output norm (1e-5); the transformers' input norm
    /// uses 1e-6 and their LayerNorms 1e-5, as in diffusers.
    pub norm_eps: f64,
}

impl UNetConfig {
    /// candle-transformers' configuration of the same network, for building its
    /// `UNet2DConditionModel` (no hook) from the same weights, e.g. to compare outputs or
    /// speed. candle's down/up resnets always use 32 groups, so the two agree only when
    /// `norm_num_groups` is 32.
    #[must_use]
    pub fn candle_transformers_config(&self) -> UNet2DConditionModelConfig {
        UNet2DConditionModelConfig {
            center_input_sample: false,
            flip_sin_to_cos: true,
            freq_shift: 0.0,
            blocks: self
                .block_out_channels
                .iter()
                .zip(&self.attention_levels)
                .map(|(&c, &a)| BlockConfig {
                    out_channels: c,
                    use_cross_attn: a.then_some(1),
                    attention_head_dim: self.heads,
                })
                .collect(),
            layers_per_block: self.layers_per_block,
            downsample_padding: 1,
            mid_block_scale_factor: 1.0,
            norm_num_groups: self.norm_num_groups,
            norm_eps: self.norm_eps,
            cross_attention_dim: self.cross_attention_dim,
            sliced_attention_size: None,
            use_linear_projection: false,
        }
    }

    /// Zero-1-to-3's UNet (spec §1.1): 8 → 4 channels, `[320, 640, 1280, 1280]`, 2 layers
    /// per block, attention on the first three levels, 8 heads, context 768, 32 groups,
    /// ε 1e-5.
    #[must_use]
    pub fn zero123() -> Self {
        UNetConfig {
            in_channels: 8,
            out_channels: 4,
            block_out_channels: vec![320, 640, 1280, 1280],
            layers_per_block: 2,
            attention_levels: vec![true, true, true, false],
            heads: 8,
            cross_attention_dim: 768,
            norm_num_groups: 32,
            norm_eps: 1e-5,
        }
    }

    /// Number of resolution levels.
    #[must_use]
    pub fn levels(&self) -> usize {
        self.block_out_channels.len()
    }

    /// Checks every field.
    ///
    /// # Errors
    /// [`DiffusionError::OutOfRange`] naming the first offending field.
    pub fn validate(&self) -> Result<()> {
        let bad = |field, value: usize, allowed| {
            Err(DiffusionError::OutOfRange {
                field,
                value: value as f64,
                allowed,
            })
        };
        if self.in_channels == 0 {
            return bad("in_channels", 0, "≥ 1");
        }
        if self.out_channels == 0 {
            return bad("out_channels", 0, "≥ 1");
        }
        if self.block_out_channels.is_empty() {
            return bad("block_out_channels", 0, "at least one level");
        }
        if self.layers_per_block == 0 {
            return bad("layers_per_block", 0, "≥ 1");
        }
        if self.attention_levels.len() != self.block_out_channels.len() {
            return bad(
                "attention_levels",
                self.attention_levels.len(),
                "one entry per block_out_channels level",
            );
        }
        if self.heads == 0 {
            return bad("heads", 0, "≥ 1");
        }
        if self.cross_attention_dim == 0 {
            return bad("cross_attention_dim", 0, "≥ 1");
        }
        if self.norm_num_groups == 0 {
            return bad("norm_num_groups", 0, "≥ 1");
        }
        if !(self.norm_eps.is_finite() && self.norm_eps > 0.0) {
            return Err(DiffusionError::OutOfRange {
                field: "norm_eps",
                value: self.norm_eps,
                allowed: "finite, > 0",
            });
        }
        for &c in &self.block_out_channels {
            if c == 0 || c % self.norm_num_groups != 0 {
                return bad(
                    "block_out_channels",
                    c,
                    "positive multiples of norm_num_groups",
                );
            }
            if c % self.heads != 0 {
                return bad("block_out_channels", c, "multiples of heads");
            }
        }
        if self.block_out_channels[0] % 2 != 0 {
            return bad(
                "block_out_channels",
                self.block_out_channels[0],
                "an even first level (the sinusoidal time projection)",
            );
        }
        Ok(())
    }
}

fn conv3(cin: usize, cout: usize, stride: usize, vb: VarBuilder<'_>) -> Result<Conv2d> {
    let cfg = candle_nn::Conv2dConfig {
        padding: 1,
        stride,
        ..Default::default()
    };
    Ok(candle_nn::conv2d(cin, cout, 3, cfg, vb)?)
}

/// A down or up block: resnets, optional attentions (one after each resnet), optional
/// resampler conv (`downsamplers.0.conv` stride 2 / `upsamplers.0.conv` after nearest ×2).
#[derive(Debug)]
struct Level {
    resnets: Vec<ResnetBlock2D>,
    attentions: Vec<SpatialTransformer>,
    resample: Option<Conv2d>,
}

/// The hooked SD-1.x latent UNet (diffusers key layout; see the [module docs](super)).
///
/// Attention sites: every `attentions.j` has a self-attention site (`attn1`) and a
/// cross-attention site (`attn2`) with consecutive ordinals, in forward order (down blocks,
/// mid block, up blocks); [`AttnSite::part`] is `Down(i)`/`Mid`/`Up(i)` with the diffusers
/// block index `i`, [`AttnSite::index`] is `j`, [`AttnSite::grid`] is the token grid of that
/// level and [`AttnSite::heads`] is [`UNetConfig::heads`].
///
/// # Examples
/// ```
/// use candle_core::{DType, Device, Tensor};
/// use candle_nn::{VarBuilder, VarMap};
/// use gdlab_diffusion::control::{AttnKind, NoControl, UNetPart};
/// use gdlab_diffusion::sd::{SdUNet, UNetConfig};
/// let cfg = UNetConfig {
///     in_channels: 8, out_channels: 4, block_out_channels: vec![16, 32],
///     layers_per_block: 1, attention_levels: vec![true, false], heads: 2,
///     cross_attention_dim: 8, norm_num_groups: 8, norm_eps: 1e-5,
/// };
/// let dev = Device::Cpu;
/// let vm = VarMap::new();
/// let unet = SdUNet::new(VarBuilder::from_varmap(&vm, DType::F32, &dev), &cfg).unwrap();
/// let x = Tensor::zeros((2, 8, 8, 8), DType::F32, &dev).unwrap();
/// let ctx = Tensor::zeros((2, 1, 8), DType::F32, &dev).unwrap();
/// let eps = unet.forward(&x, 981, &ctx, Some(&mut NoControl)).unwrap();
/// assert_eq!(eps.dims(), &[2, 4, 8, 8]);
/// // down_blocks.0.attentions.0, mid_block.attentions.0, up_blocks.1.attentions.{0,1}
/// let selfs: Vec<_> = unet.sites(8, 8).into_iter()
///     .filter(|s| s.kind == AttnKind::SelfAttn).map(|s| (s.part, s.index, s.grid)).collect();
/// assert_eq!(selfs, vec![(UNetPart::Down(0), 0, (8, 8)), (UNetPart::Mid, 0, (4, 4)),
///                        (UNetPart::Up(1), 0, (8, 8)), (UNetPart::Up(1), 1, (8, 8))]);
/// ```
#[derive(Debug)]
pub struct SdUNet {
    cfg: UNetConfig,
    conv_in: Conv2d,
    time_proj: Timesteps,
    time_embedding: TimestepEmbedding,
    down: Vec<Level>,
    mid: (ResnetBlock2D, SpatialTransformer, ResnetBlock2D),
    up: Vec<Level>,
    conv_norm_out: GroupNorm,
    conv_out: Conv2d,
}

impl SdUNet {
    /// Builds the UNet from `vb` (diffusers key names at the root: `conv_in.weight`,
    /// `down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight`, …). A
    /// `VarMap`-backed builder initialises fresh weights; a safetensors-backed one loads
    /// them (a missing key or a wrong shape is a candle error naming the key).
    ///
    /// # Errors
    /// [`DiffusionError::OutOfRange`] for an invalid configuration; candle errors.
    pub fn new(vb: VarBuilder<'_>, cfg: &UNetConfig) -> Result<Self> {
        Self::build(vb, cfg, Gelu::Erf)
    }

    /// [`SdUNet::new`] with a choice of GEGLU activation (tests compare with
    /// candle-transformers' UNet, which uses the tanh approximation).
    pub(crate) fn build(vb: VarBuilder<'_>, cfg: &UNetConfig, gelu: Gelu) -> Result<Self> {
        cfg.validate()?;
        let ch = &cfg.block_out_channels;
        let n = ch.len();
        let c0 = ch[0];
        let temb = 4 * c0;
        let g = cfg.norm_num_groups;
        let ctx_dim = cfg.cross_attention_dim;
        let resnet = |cin: usize, cout: usize, vb: VarBuilder<'_>| -> Result<ResnetBlock2D> {
            let rc = ResnetBlock2DConfig {
                out_channels: Some(cout),
                temb_channels: Some(temb),
                groups: g,
                groups_out: None,
                eps: cfg.norm_eps,
                use_in_shortcut: None,
                output_scale_factor: 1.0,
            };
            Ok(ResnetBlock2D::new(vb, cin, rc)?)
        };
        let mut ordinal = 0;
        let mut transformer =
            |c: usize, part: UNetPart, index: usize, vb: VarBuilder<'_>| -> Result<_> {
                let slot = SiteSlot {
                    ordinal,
                    part,
                    index,
                    heads: cfg.heads,
                };
                ordinal += 2;
                SpatialTransformer::new(c, g, ctx_dim, slot, gelu, vb)
            };

        let conv_in = conv3(cfg.in_channels, c0, 1, vb.pp("conv_in"))?;
        let time_embedding = TimestepEmbedding::new(vb.pp("time_embedding"), c0, temb)?;

        let vbd = vb.pp("down_blocks");
        let mut down = Vec::with_capacity(n);
        for (i, &cout) in ch.iter().enumerate() {
            let vbi = vbd.pp(i);
            let cin = if i == 0 { c0 } else { ch[i - 1] };
            let mut level = Level {
                resnets: Vec::new(),
                attentions: Vec::new(),
                resample: None,
            };
            for j in 0..cfg.layers_per_block {
                let rin = if j == 0 { cin } else { cout };
                level
                    .resnets
                    .push(resnet(rin, cout, vbi.pp("resnets").pp(j))?);
                if cfg.attention_levels[i] {
                    level.attentions.push(transformer(
                        cout,
                        UNetPart::Down(i),
                        j,
                        vbi.pp("attentions").pp(j),
                    )?);
                }
            }
            if i + 1 < n {
                level.resample = Some(conv3(cout, cout, 2, vbi.pp("downsamplers.0.conv"))?);
            }
            down.push(level);
        }

        let cl = ch[n - 1];
        let vbm = vb.pp("mid_block");
        let mid0 = resnet(cl, cl, vbm.pp("resnets.0"))?;
        let mid_attn = transformer(cl, UNetPart::Mid, 0, vbm.pp("attentions.0"))?;
        let mid1 = resnet(cl, cl, vbm.pp("resnets.1"))?;

        let vbu = vb.pp("up_blocks");
        let mut up = Vec::with_capacity(n);
        for i in 0..n {
            let lvl = n - 1 - i;
            let vbi = vbu.pp(i);
            let cout = ch[lvl];
            let prev_out = if i == 0 { cl } else { ch[lvl + 1] };
            let skip_in = ch[lvl.saturating_sub(1)];
            let mut level = Level {
                resnets: Vec::new(),
                attentions: Vec::new(),
                resample: None,
            };
            for j in 0..=cfg.layers_per_block {
                let skip = if j == cfg.layers_per_block {
                    skip_in
                } else {
                    cout
                };
                let rin = if j == 0 { prev_out } else { cout };
                level
                    .resnets
                    .push(resnet(rin + skip, cout, vbi.pp("resnets").pp(j))?);
                if cfg.attention_levels[lvl] {
                    level.attentions.push(transformer(
                        cout,
                        UNetPart::Up(i),
                        j,
                        vbi.pp("attentions").pp(j),
                    )?);
                }
            }
            if i + 1 < n {
                level.resample = Some(conv3(cout, cout, 1, vbi.pp("upsamplers.0.conv"))?);
            }
            up.push(level);
        }

        Ok(SdUNet {
            cfg: cfg.clone(),
            conv_in,
            time_proj: Timesteps::new(c0, true, 0.0),
            time_embedding,
            down,
            mid: (mid0, mid_attn, mid1),
            up,
            conv_norm_out: candle_nn::group_norm(g, c0, cfg.norm_eps, vb.pp("conv_norm_out"))?,
            conv_out: conv3(c0, cfg.out_channels, 1, vb.pp("conv_out"))?,
        })
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &UNetConfig {
        &self.cfg
    }

    /// Every attention site for an `(h, w)` latent, in forward (ordinal) order.
    #[must_use]
    pub fn sites(&self, h: usize, w: usize) -> Vec<AttnSite> {
        let grid = |lvl: usize| {
            // conv stride 2, padding 1: ⌈x/2⌉ per level
            (0..lvl).fold((h, w), |(a, b), _| (a.div_ceil(2), b.div_ceil(2)))
        };
        let n = self.cfg.levels();
        let mut out = Vec::new();
        for (i, l) in self.down.iter().enumerate() {
            for a in &l.attentions {
                out.extend(a.slot().sites(grid(i)));
            }
        }
        out.extend(self.mid.1.slot().sites(grid(n - 1)));
        for (i, l) in self.up.iter().enumerate() {
            for a in &l.attentions {
                out.extend(a.slot().sites(grid(n - 1 - i)));
            }
        }
        out
    }

    fn check_inputs(&self, x: &Tensor, context: &Tensor) -> Result<()> {
        let shape_err = |op: &str, expected: String, got: String| DiffusionError::Shape {
            op: format!("SdUNet::forward {op}"),
            expected,
            got,
        };
        let &[b, c, h, w] = x.dims() else {
            return Err(shape_err(
                "x",
                "(B, in_channels, H, W)".into(),
                format!("{:?}", x.dims()),
            ));
        };
        if c != self.cfg.in_channels {
            return Err(shape_err(
                "x channels",
                format!("{}", self.cfg.in_channels),
                format!("{c}"),
            ));
        }
        let m = 1usize << (self.cfg.levels() - 1);
        for (name, v) in [("x height", h), ("x width", w)] {
            if v == 0 || v % m != 0 {
                return Err(shape_err(
                    name,
                    format!("a positive multiple of {m} (2^(levels-1))"),
                    format!("{v}"),
                ));
            }
        }
        let &[cb, l, cd] = context.dims() else {
            return Err(shape_err(
                "context",
                "(B, L, cross_attention_dim)".into(),
                format!("{:?}", context.dims()),
            ));
        };
        if cb != b {
            return Err(shape_err(
                "context batch",
                format!("{b} (the batch of x)"),
                format!("{cb}"),
            ));
        }
        if l == 0 {
            return Err(shape_err("context length", "≥ 1".into(), "0".into()));
        }
        if cd != self.cfg.cross_attention_dim {
            return Err(shape_err(
                "context width (cross_attention_dim)",
                format!("{}", self.cfg.cross_attention_dim),
                format!("{cd}"),
            ));
        }
        Ok(())
    }

    /// `ε̂` for latents `x` `(B, in_channels, H, W)` (H and W divisible by
    /// `2^(levels−1)`), one timestep `t` for the whole batch and context tokens `context`
    /// `(B, L, cross_attention_dim)`: returns `(B, out_channels, H, W)`.
    ///
    /// Every attention layer calls [`attend`](crate::attention::attend) with its
    /// [`AttnSite`]; `ctrl = None` runs no hook, and a controller that changes nothing
    /// (e.g. [`NoControl`](crate::control::NoControl)) gives bit-identical output.
    ///
    /// # Errors
    /// [`DiffusionError::Shape`] naming the input (`x`, its channels, height or width,
    /// `context`, its batch or width) that does not fit; candle or controller errors.
    pub fn forward(
        &self,
        x: &Tensor,
        t: usize,
        context: &Tensor,
        mut ctrl: Option<&mut (dyn AttentionController + '_)>,
    ) -> Result<Tensor> {
        self.check_inputs(x, context)?;
        let b = x.dim(0)?;
        let tt = Tensor::full(t as f32, b, x.device())?.to_dtype(x.dtype())?;
        let emb = self.time_embedding.forward(&self.time_proj.forward(&tt)?)?;
        let emb = Some(&emb);

        let mut h = self.conv_in.forward(x)?;
        let mut skips = vec![h.clone()];
        for l in &self.down {
            for (j, r) in l.resnets.iter().enumerate() {
                h = r.forward(&h, emb)?;
                if let Some(a) = l.attentions.get(j) {
                    h = a.forward(&h, context, ctrl.as_deref_mut())?;
                }
                skips.push(h.clone());
            }
            if let Some(conv) = &l.resample {
                h = conv.forward(&h)?;
                skips.push(h.clone());
            }
        }

        h = self.mid.0.forward(&h, emb)?;
        h = self.mid.1.forward(&h, context, ctrl.as_deref_mut())?;
        h = self.mid.2.forward(&h, emb)?;

        for l in &self.up {
            for (j, r) in l.resnets.iter().enumerate() {
                let skip = skips.pop().ok_or_else(|| DiffusionError::Shape {
                    op: "SdUNet::forward skip connections".into(),
                    expected: "one per up-block resnet".into(),
                    got: "too few".into(),
                })?;
                h = r.forward(&Tensor::cat(&[&h, &skip], 1)?, emb)?;
                if let Some(a) = l.attentions.get(j) {
                    h = a.forward(&h, context, ctrl.as_deref_mut())?;
                }
            }
            if let Some(conv) = &l.resample {
                let (_, _, hh, ww) = h.dims4()?;
                h = conv.forward(&h.upsample_nearest2d(2 * hh, 2 * ww)?)?;
            }
        }

        let h = candle_nn::ops::silu(&self.conv_norm_out.forward(&h)?)?;
        Ok(self.conv_out.forward(&h)?)
    }
}
