//! Cross-entropy and accuracy.

use candle_core::{DType, Tensor, D};

use crate::error::{NnError, Result};

/// Mean cross-entropy of `logits` (`[batch, classes]`) against integer `labels`
/// (`[batch]`, dtype `u32`):
///
/// $$ \ell = -\frac{1}{B}\sum_{b} \log \operatorname{softmax}(z_b)_{y_b} $$
///
/// computed as candle-nn's `cross_entropy` (a max-shifted `log_softmax`, then the negative
/// log-likelihood), i.e. PyTorch's `F.cross_entropy` with `reduction="mean"`.
///
/// # Errors
/// [`NnError::Shape`] if the shapes disagree; a candle error otherwise.
///
/// # Examples
/// ```
/// use candle_core::{Device, Tensor};
/// let logits = Tensor::new(&[[0.0_f64, 0.0], [2.0, 0.0]], &Device::Cpu).unwrap();
/// let labels = Tensor::new(&[0_u32, 1], &Device::Cpu).unwrap();
/// let l = gdlab_nn::cross_entropy(&logits, &labels).unwrap().to_scalar::<f64>().unwrap();
/// let expected = (2f64.ln() + (1.0 + 2f64.exp()).ln() - 0.0) / 2.0;
/// assert!((l - expected).abs() < 1e-14);
/// ```
pub fn cross_entropy(logits: &Tensor, labels: &Tensor) -> Result<Tensor> {
    check_shapes("cross_entropy", logits, labels)?;
    Ok(candle_nn::loss::cross_entropy(logits, labels)?)
}

fn check_shapes(op: &'static str, logits: &Tensor, labels: &Tensor) -> Result<()> {
    match (logits.dims(), labels.dims()) {
        (&[b, c], &[bl]) if b == bl && c >= 1 && labels.dtype() == DType::U32 => Ok(()),
        (l, y) => Err(NnError::Shape {
            op,
            expected: "logits [batch, classes] and u32 labels [batch]".into(),
            got: format!("logits {l:?}, labels {y:?} ({:?})", labels.dtype()),
        }),
    }
}

/// Number of rows whose arg-max equals the label.
///
/// # Errors
/// As [`cross_entropy`].
pub fn n_correct(logits: &Tensor, labels: &Tensor) -> Result<usize> {
    check_shapes("n_correct", logits, labels)?;
    let pred = logits.argmax(D::Minus1)?;
    let eq = pred.eq(labels)?.to_dtype(DType::U32)?.sum_all()?;
    Ok(eq.to_scalar::<u32>()? as usize)
}

/// Fraction of rows whose arg-max equals the label.
///
/// # Errors
/// As [`cross_entropy`].
pub fn accuracy(logits: &Tensor, labels: &Tensor) -> Result<f64> {
    let n = labels.dims1()?;
    if n == 0 {
        return Ok(f64::NAN);
    }
    Ok(n_correct(logits, labels)? as f64 / n as f64)
}
