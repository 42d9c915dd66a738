//! diffusers' `Transformer2DModel` (SD-1.x variant: 1×1-conv projections, one
//! `BasicTransformerBlock`) with the attention hook on `attn1` and `attn2`.

use candle_core::{Module, Tensor, D};
use candle_nn::{Conv2d, GroupNorm, LayerNorm, Linear, VarBuilder};

use crate::attention::{linear_tokens as lin, HookedAttention};
use crate::control::{AttentionController, AttnKind, AttnSite, UNetPart};
use crate::error::Result;

/// The GELU of the GEGLU gate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Gelu {
    /// Exact `x·Φ(x)` (PyTorch's `F.gelu`, used by diffusers and LDM).
    Erf,
    /// The tanh approximation (what candle-transformers' SD UNet uses).
    #[cfg_attr(not(test), allow(dead_code))]
    Tanh,
}

/// `ff`: GEGLU `net.0.proj` (dim → 2·4·dim) then `net.2` (4·dim → dim).
#[derive(Debug, Clone)]
struct GegluFeedForward {
    proj: Linear,
    out: Linear,
    gelu: Gelu,
}

impl GegluFeedForward {
    fn new(dim: usize, gelu: Gelu, vb: VarBuilder<'_>) -> Result<Self> {
        let vb = vb.pp("net");
        Ok(GegluFeedForward {
            proj: candle_nn::linear(dim, 2 * 4 * dim, vb.pp("0").pp("proj"))?,
            out: candle_nn::linear(4 * dim, dim, vb.pp("2"))?,
            gelu,
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let h = lin(&self.proj, x)?;
        let half = h.dim(D::Minus1)? / 2;
        let (a, gate) = (
            h.narrow(D::Minus1, 0, half)?,
            h.narrow(D::Minus1, half, half)?,
        );
        let gate = match self.gelu {
            Gelu::Erf => gate.gelu_erf()?,
            Gelu::Tanh => gate.gelu()?,
        };
        lin(&self.out, &(a * gate)?)
    }
}

/// `transformer_blocks.0`: pre-LN self-attention, cross-attention, GEGLU feed-forward.
#[derive(Debug, Clone)]
struct BasicTransformerBlock {
    norm1: LayerNorm,
    attn1: HookedAttention,
    norm2: LayerNorm,
    attn2: HookedAttention,
    norm3: LayerNorm,
    ff: GegluFeedForward,
}

impl BasicTransformerBlock {
    fn new(
        dim: usize,
        context_dim: usize,
        heads: usize,
        gelu: Gelu,
        vb: VarBuilder<'_>,
    ) -> Result<Self> {
        Ok(BasicTransformerBlock {
            norm1: candle_nn::layer_norm(dim, 1e-5, vb.pp("norm1"))?,
            attn1: HookedAttention::new(dim, dim, heads, vb.pp("attn1"), "to_out.0")?,
            norm2: candle_nn::layer_norm(dim, 1e-5, vb.pp("norm2"))?,
            attn2: HookedAttention::new(dim, context_dim, heads, vb.pp("attn2"), "to_out.0")?,
            norm3: candle_nn::layer_norm(dim, 1e-5, vb.pp("norm3"))?,
            ff: GegluFeedForward::new(dim, gelu, vb.pp("ff"))?,
        })
    }
}

/// Where a [`SpatialTransformer`] sits: enough to name its two [`AttnSite`]s for any grid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SiteSlot {
    /// Ordinal of `attn1`; `attn2` has `ordinal + 1`.
    pub(crate) ordinal: usize,
    /// Block of the UNet.
    pub(crate) part: UNetPart,
    /// `j` of `attentions.j`.
    pub(crate) index: usize,
    /// Heads.
    pub(crate) heads: usize,
}

impl SiteSlot {
    /// The `(attn1, attn2)` sites for a token grid.
    pub(crate) fn sites(&self, grid: (usize, usize)) -> [AttnSite; 2] {
        let site = |ordinal, kind| AttnSite {
            ordinal,
            part: self.part,
            index: self.index,
            grid,
            kind,
            heads: self.heads,
        };
        [
            site(self.ordinal, AttnKind::SelfAttn),
            site(self.ordinal + 1, AttnKind::CrossAttn),
        ]
    }
}

/// `attentions.j` (diffusers `Transformer2DModel`): `norm` (GroupNorm, eps 1e-6), `proj_in`
/// (1×1 conv), one transformer block, `proj_out` (1×1 conv), residual.
#[derive(Debug, Clone)]
pub(crate) struct SpatialTransformer {
    norm: GroupNorm,
    proj_in: Conv2d,
    block: BasicTransformerBlock,
    proj_out: Conv2d,
    slot: SiteSlot,
}

impl SpatialTransformer {
    pub(crate) fn new(
        channels: usize,
        groups: usize,
        context_dim: usize,
        slot: SiteSlot,
        gelu: Gelu,
        vb: VarBuilder<'_>,
    ) -> Result<Self> {
        let conv1 = candle_nn::Conv2dConfig::default();
        Ok(SpatialTransformer {
            norm: candle_nn::group_norm(groups, channels, 1e-6, vb.pp("norm"))?,
            proj_in: candle_nn::conv2d(channels, channels, 1, conv1, vb.pp("proj_in"))?,
            block: BasicTransformerBlock::new(
                channels,
                context_dim,
                slot.heads,
                gelu,
                vb.pp("transformer_blocks").pp("0"),
            )?,
            proj_out: candle_nn::conv2d(channels, channels, 1, conv1, vb.pp("proj_out"))?,
            slot,
        })
    }

    /// Where this transformer sits.
    pub(crate) fn slot(&self) -> SiteSlot {
        self.slot
    }

    /// `x` `(B, C, H, W)`, `context` `(B, L, C_ctx)` → `(B, C, H, W)`.
    pub(crate) fn forward(
        &self,
        x: &Tensor,
        context: &Tensor,
        mut ctrl: Option<&mut (dyn AttentionController + '_)>,
    ) -> Result<Tensor> {
        let (b, c, h, w) = x.dims4()?;
        let [self_site, cross_site] = self.slot.sites((h, w));
        let t = self.proj_in.forward(&self.norm.forward(x)?)?;
        let t = t.permute((0, 2, 3, 1))?.reshape((b, h * w, c))?;
        let blk = &self.block;
        let n = blk.norm1.forward(&t)?;
        let t = (&t + blk.attn1.forward(&n, &n, &self_site, ctrl.as_deref_mut())?)?;
        let n = blk.norm2.forward(&t)?;
        let t = (&t + blk.attn2.forward(&n, context, &cross_site, ctrl)?)?;
        let t = (&t + blk.ff.forward(&blk.norm3.forward(&t)?)?)?;
        let t = t
            .reshape((b, h, w, c))?
            .permute((0, 3, 1, 2))?
            .contiguous()?;
        Ok((self.proj_out.forward(&t)? + x)?)
    }
}
