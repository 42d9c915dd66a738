//! The hooked attention core shared by every model of this crate.

use candle_core::Tensor;

use crate::control::{softmax_last, AttentionController, AttnSite};
use crate::error::Result;

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
