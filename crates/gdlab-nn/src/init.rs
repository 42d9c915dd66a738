//! Deterministic parameter initialisation from a [`Seed`](gdlab_core::Seed) (candle's own initialisers draw
//! from a thread-local generator, so they are not reproducible).

use candle_core::{Device, Shape, Var};
use gdlab_core::normal::uniform;
use gdlab_core::{GdRng, Real};

use crate::error::Result;
use crate::real::NnReal;

/// PyTorch's default initialisation of `nn.Linear` / `nn.Conv2d` weights and biases:
/// `U(−b, b)` with `b = 1/√fan_in` (`kaiming_uniform_(a = √5)` gives exactly this bound for
/// the weight, and PyTorch draws the bias from the same interval).
///
/// Draws `shape.elem_count()` values from `rng` in row-major order.
///
/// # Errors
/// A candle error if the variable cannot be created on `device`.
pub fn uniform_fan_in<F: NnReal>(
    shape: impl Into<Shape>,
    fan_in: usize,
    rng: &mut GdRng,
    device: &Device,
) -> Result<Var> {
    let shape = shape.into();
    let bound = 1.0 / (fan_in.max(1) as f64).sqrt();
    let data: Vec<F> = (0..shape.elem_count())
        .map(|_| <F as Real>::from_f64((2.0 * uniform(rng) - 1.0) * bound))
        .collect();
    Ok(Var::from_vec(data, shape, device)?)
}
