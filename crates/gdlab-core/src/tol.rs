//! The tolerance policy, in one place.
//!
//! | comparison | tolerance |
//! |---|---|
//! | same code, same seed (determinism, golden values) | bitwise `==` |
//! | our f64 vs an independent f64 implementation | [`REL_INDEPENDENT_F64`] = 1e-12 |
//! | vs an f32 peer (PyTorch default dtype) | [`REL_F32_PEER`] = 1e-5 |
//! | linear-algebra residuals | [`linalg_residual`]`(c, n, norm)` = `c·n·ε·‖A‖` |
//! | Monte Carlo estimates | a bound derived from the sample size, written at the call site |
//!
//! [`assert_close!`](crate::assert_close) compares scalars or slices and reports the worst element.

/// Relative tolerance between two independent f64 implementations of one algorithm.
pub const REL_INDEPENDENT_F64: f64 = 1e-12;
/// Relative tolerance against a peer computing in f32.
pub const REL_F32_PEER: f64 = 1e-5;

/// Residual bound `c · n · f64::EPSILON · norm` for an n-dimensional linear-algebra result.
#[must_use]
pub fn linalg_residual(c: f64, n: usize, norm: f64) -> f64 {
    c * n as f64 * f64::EPSILON * norm
}

/// Values that can be compared element-wise as `f64`.
pub trait CloseTo {
    /// The elements, widened to `f64`.
    fn elements(&self) -> Vec<f64>;
}

impl CloseTo for f64 {
    fn elements(&self) -> Vec<f64> {
        vec![*self]
    }
}
impl CloseTo for f32 {
    fn elements(&self) -> Vec<f64> {
        vec![f64::from(*self)]
    }
}
impl CloseTo for [f64] {
    fn elements(&self) -> Vec<f64> {
        self.to_vec()
    }
}
impl CloseTo for [f32] {
    fn elements(&self) -> Vec<f64> {
        self.iter().map(|&x| f64::from(x)).collect()
    }
}
impl<const N: usize> CloseTo for [f64; N] {
    fn elements(&self) -> Vec<f64> {
        self.to_vec()
    }
}
impl<const N: usize> CloseTo for [f32; N] {
    fn elements(&self) -> Vec<f64> {
        self.iter().map(|&x| f64::from(x)).collect()
    }
}
impl CloseTo for Vec<f64> {
    fn elements(&self) -> Vec<f64> {
        self.clone()
    }
}
impl CloseTo for Vec<f32> {
    fn elements(&self) -> Vec<f64> {
        self.iter().map(|&x| f64::from(x)).collect()
    }
}
impl<T: CloseTo + ?Sized> CloseTo for &T {
    fn elements(&self) -> Vec<f64> {
        (**self).elements()
    }
}

/// Checks `|a − e| ≤ abs + rel·|e|` element-wise.
///
/// # Errors
/// A message naming the length mismatch or the worst element (index, values, error,
/// allowed error).
pub fn check_close<A: CloseTo + ?Sized, E: CloseTo + ?Sized>(
    actual: &A,
    expected: &E,
    rel: f64,
    abs: f64,
) -> Result<(), String> {
    let (a, e) = (actual.elements(), expected.elements());
    if a.len() != e.len() {
        return Err(format!(
            "length mismatch: actual has {}, expected has {}",
            a.len(),
            e.len()
        ));
    }
    let mut worst: Option<(usize, f64)> = None;
    for (i, (x, y)) in a.iter().zip(&e).enumerate() {
        let allowed = abs + rel * y.abs();
        let err = (x - y).abs();
        // NaN never compares as close, even to NaN.
        let excess = if err.is_nan() {
            f64::INFINITY
        } else {
            err - allowed
        };
        if excess > 0.0 && worst.is_none_or(|(_, w)| excess > w) {
            worst = Some((i, excess));
        }
    }
    match worst {
        None => Ok(()),
        Some((i, _)) => Err(format!(
            "element {i} of {}: actual {:e}, expected {:e}, |diff| {:e} > allowed {:e} (rel {rel:e}, abs {abs:e})",
            a.len(),
            a[i],
            e[i],
            (a[i] - e[i]).abs(),
            abs + rel * e[i].abs()
        )),
    }
}

/// Asserts that two scalars or slices are close: `|a − e| ≤ abs + rel·|e|` element-wise.
///
/// Give `rel = …`, `abs = …`, or both (a missing one is 0). On failure the message names
/// the worst element.
///
/// # Examples
/// ```
/// use gdlab_core::assert_close;
/// assert_close!(1.0 + 1e-14, 1.0, rel = 1e-12);
/// assert_close!([1.0_f64, 2.0], vec![1.0, 2.0 + 1e-13], rel = 1e-12, abs = 0.0);
/// ```
#[macro_export]
macro_rules! assert_close {
    ($actual:expr, $expected:expr, rel = $rel:expr, abs = $abs:expr $(,)?) => {{
        if let Err(msg) = $crate::tol::check_close(&$actual, &$expected, $rel, $abs) {
            panic!(
                "assert_close!({}, {}) failed: {}",
                stringify!($actual),
                stringify!($expected),
                msg
            );
        }
    }};
    ($actual:expr, $expected:expr, abs = $abs:expr, rel = $rel:expr $(,)?) => {
        $crate::assert_close!($actual, $expected, rel = $rel, abs = $abs)
    };
    ($actual:expr, $expected:expr, rel = $rel:expr $(,)?) => {
        $crate::assert_close!($actual, $expected, rel = $rel, abs = 0.0)
    };
    ($actual:expr, $expected:expr, abs = $abs:expr $(,)?) => {
        $crate::assert_close!($actual, $expected, rel = 0.0, abs = $abs)
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_worst_element() {
        let err = check_close(&[1.0, 2.0, 3.0][..], &[1.0, 2.1, 3.5][..], 1e-12, 0.0).unwrap_err();
        assert!(err.starts_with("element 2 of 3"), "{err}");
    }

    #[test]
    fn nan_is_never_close() {
        assert!(check_close(&f64::NAN, &f64::NAN, 1.0, 1.0).is_err());
    }

    #[test]
    #[should_panic(expected = "assert_close!")]
    fn macro_panics() {
        assert_close!(1.0, 2.0, rel = 1e-3);
    }
}
