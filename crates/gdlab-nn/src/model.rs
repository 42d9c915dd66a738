//! The [`Model`] trait shared by every network of the crate.

use candle_core::Tensor;

use crate::error::Result;
use crate::params::ParamSet;

/// A network: a forward pass and its trainable parameters.
pub trait Model: Send + Sync {
    /// Logits for a batch `x` (first dimension = batch).
    ///
    /// # Errors
    /// A candle error on a shape mismatch.
    fn forward(&self, x: &Tensor) -> Result<Tensor>;

    /// The trainable parameters, in the order the optimizer's flat buffer uses.
    fn params(&self) -> &ParamSet;

    /// The expected shape of one input example (without the batch dimension).
    fn input_shape(&self) -> Vec<usize>;
}
