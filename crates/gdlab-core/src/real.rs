//! The floating-point element type of parameter buffers.
//!
//! Optimizer kernels are written once, generic over [`Real`], and run on `f32` (networks)
//! and `f64` (studies, reference comparisons) alike.

/// A floating-point element of a parameter buffer: `f32` or `f64`.
pub trait Real:
    num_traits::Float + std::fmt::Debug + std::fmt::Display + Default + Send + Sync + 'static
{
    /// Converts from `f64`, rounding to nearest for `f32`.
    fn from_f64(x: f64) -> Self;
    /// Widens to `f64` (exact).
    fn as_f64(self) -> f64;
    /// Name of the type, for messages and file headers.
    const NAME: &'static str;
}

impl Real for f32 {
    #[inline]
    fn from_f64(x: f64) -> Self {
        x as f32
    }
    #[inline]
    fn as_f64(self) -> f64 {
        f64::from(self)
    }
    const NAME: &'static str = "f32";
}

impl Real for f64 {
    #[inline]
    fn from_f64(x: f64) -> Self {
        x
    }
    #[inline]
    fn as_f64(self) -> f64 {
        self
    }
    const NAME: &'static str = "f64";
}

/// Sum of squares of a buffer, accumulated in `f64` in index order.
#[must_use]
pub fn sum_squares<F: Real>(xs: &[F]) -> f64 {
    xs.iter()
        .map(|&x| {
            let v = x.as_f64();
            v * v
        })
        .sum()
}

/// Euclidean norm of a buffer, accumulated in `f64`.
#[must_use]
pub fn l2_norm<F: Real>(xs: &[F]) -> f64 {
    sum_squares(xs).sqrt()
}

/// True when every element is finite.
#[must_use]
pub fn all_finite<F: Real>(xs: &[F]) -> bool {
    xs.iter().all(|x| x.is_finite())
}
