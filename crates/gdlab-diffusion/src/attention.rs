//! The hooked attention core shared by every model of this crate.

use candle_core::{Module, Tensor};
use candle_nn::{Linear, VarBuilder};

use crate::control::{softmax_last, AttentionController, AttnSite};
use crate::error::Result;

/// A linear layer on `(B, N, C)` tokens as one `(B·N, C)` matrix product (other ranks are
/// passed to the layer as they are).
pub(crate) fn linear_tokens(l: &Linear, x: &Tensor) -> Result<Tensor> {
    let dims = x.dims().to_vec();
    if dims.len() == 3 {
        let y = l.forward(&x.reshape((dims[0] * dims[1], dims[2]))?)?;
        let out = y.dim(1)?;
        Ok(y.reshape((dims[0], dims[1], out))?)
    } else {
        Ok(l.forward(x)?)
    }
}

/// Multi-head attention as in LDM/diffusers' `CrossAttention`: bias-free `to_q`, `to_k`,
/// `to_v`, a biased output projection, logits scale `d_head^{-1/2}`, and [`attend`] (the
/// hook) in between. Self-attention passes the tokens as their own context.
#[derive(Debug, Clone)]
pub(crate) struct HookedAttention {
    to_q: Linear,
    to_k: Linear,
    to_v: Linear,
    to_out: Linear,
    heads: usize,
    scale: f64,
}

impl HookedAttention {
    /// Queries of width `dim`, keys and values from a context of width `context_dim`;
    /// the output projection's variables live under `vb.pp(out_key)` (`"to_out.0"` in
    /// diffusers, `"to_out"` in the toy).
    pub(crate) fn new(
        dim: usize,
        context_dim: usize,
        heads: usize,
        vb: VarBuilder<'_>,
        out_key: &str,
    ) -> Result<Self> {
        Ok(HookedAttention {
            to_q: candle_nn::linear_no_bias(dim, dim, vb.pp("to_q"))?,
            to_k: candle_nn::linear_no_bias(context_dim, dim, vb.pp("to_k"))?,
            to_v: candle_nn::linear_no_bias(context_dim, dim, vb.pp("to_v"))?,
            to_out: candle_nn::linear(dim, dim, vb.pp(out_key))?,
            heads,
            scale: 1.0 / ((dim / heads) as f64).sqrt(),
        })
    }

    /// `x` `(B, N, dim)` attending over `context` `(B, L, context_dim)`.
    pub(crate) fn forward(
        &self,
        x: &Tensor,
        context: &Tensor,
        site: &AttnSite,
        ctrl: Option<&mut (dyn AttentionController + '_)>,
    ) -> Result<Tensor> {
        let q = split_heads(&linear_tokens(&self.to_q, x)?, self.heads)?;
        let k = split_heads(&linear_tokens(&self.to_k, context)?, self.heads)?;
        let v = split_heads(&linear_tokens(&self.to_v, context)?, self.heads)?;
        let o = attend(site, &q, k, v, self.scale, ctrl)?;
        linear_tokens(&self.to_out, &merge_heads(&o, self.heads)?)
    }
}

/// `(B, N, h·d)` → `(B·h, N, d)`.
///
/// # Errors
/// Tensor errors from candle (e.g. `h` does not divide the last dimension).
pub fn split_heads(x: &Tensor, heads: usize) -> Result<Tensor> {
    let (b, n, c) = x.dims3()?;
    Ok(x.reshape((b, n, heads, c / heads))?
        .transpose(1, 2)?
        .contiguous()?
        .reshape((b * heads, n, c / heads))?)
}

/// `(B·h, N, d)` → `(B, N, h·d)`.
///
/// # Errors
/// Tensor errors from candle.
pub fn merge_heads(x: &Tensor, heads: usize) -> Result<Tensor> {
    let (bh, n, d) = x.dims3()?;
    Ok(x.reshape((bh / heads, heads, n, d))?
        .transpose(1, 2)?
        .contiguous()?
        .reshape((bh / heads, n, heads * d))?)
}

/// Scaled dot-product attention with the control hook:
///
/// $$ \mathrm{out} = \mathrm{softmax}(\mathrm{on\_logits}(q k'^\top \cdot s)) \, v', \quad (k', v') = \mathrm{on\_qkv}(q, k, v) $$
///
/// with `q` `(B·h, N_q, d)`, `k`, `v` `(B·h, N_k, d)` and `scale = s` (normally
/// `d^{-1/2}`). With `ctrl = None` the same arithmetic runs without any hook (the
/// "unhooked" path of check T0); a controller that changes nothing yields bit-identical
/// output.
///
/// # Errors
/// Tensor errors from candle or from the controller.
///
/// # Examples
/// ```
/// use candle_core::{Device, Tensor};
/// use gdlab_diffusion::attention::attend;
/// use gdlab_diffusion::control::{AttnKind, AttnSite, NoControl, UNetPart};
/// let dev = Device::Cpu;
/// let q = Tensor::ones((1, 2, 4), candle_core::DType::F32, &dev).unwrap();
/// let v = Tensor::new(&[[[1f32, 0., 0., 0.], [0., 1., 0., 0.]]], &dev).unwrap();
/// let site = AttnSite { ordinal: 0, part: UNetPart::Mid, index: 0, grid: (1, 2),
///                       kind: AttnKind::SelfAttn, heads: 1 };
/// let out = attend(&site, &q, q.clone(), v.clone(), 0.5, Some(&mut NoControl)).unwrap();
/// // equal logits ⇒ uniform weights ⇒ the mean of the values
/// assert_eq!(out.to_vec3::<f32>().unwrap()[0][0], vec![0.5, 0.5, 0.0, 0.0]);
/// ```
pub fn attend(
    site: &AttnSite,
    q: &Tensor,
    k: Tensor,
    v: Tensor,
    scale: f64,
    ctrl: Option<&mut (dyn AttentionController + '_)>,
) -> Result<Tensor> {
    match ctrl {
        None => {
            let logits = q.matmul(&k.t()?)?.affine(scale, 0.0)?;
            let probs = softmax_last(&logits)?;
            Ok(probs.matmul(&v)?)
        }
        Some(c) => {
            let (k, v) = c.on_qkv(site, q, k, v)?;
            let logits = q.matmul(&k.t()?)?.affine(scale, 0.0)?;
            let logits = c.on_logits(site, logits)?;
            let probs = softmax_last(&logits)?;
            let probs = c.on_probs(site, probs)?;
            Ok(probs.matmul(&v)?)
        }
    }
}
