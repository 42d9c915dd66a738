//! Lower-triangular Toeplitz matrices, stored as their first column (coefficient space).
//!
//! An `n × n` lower-triangular Toeplitz matrix `T` has `T[i, j] = t_{i−j}` for `i ≥ j` and 0
//! above the diagonal. These matrices form a commutative algebra isomorphic to power series
//! truncated at degree `n` (spec §2.1): the matrix product is the convolution of the
//! coefficient vectors, the inverse is the series reciprocal and the principal square root
//! is the series square root. Every operation here works on coefficients and costs
//! `O(n·p)` (with `p` the number of stored coefficients) or `O(n²)` for the generic square
//! root; [`Toeplitz::materialize`] builds the dense matrix for tests.
//!
//! A [`Toeplitz`] stores `len()` coefficients `t_0..t_{len−1}`; coefficients beyond are zero.
//! So a *banded* matrix with bandwidth `p` (the diagonal plus `p − 1` sub-diagonals, spec §2.2)
//! is simply a vector of length `p`.

use faer::Mat;
use gdlab_core::ConfigError;

use crate::error::{PrivacyError, Result};

/// A lower-triangular Toeplitz matrix of any size `n`, given by its first column (entries
/// beyond the stored ones are zero).
///
/// # Examples
/// ```
/// use gdlab_privacy::toeplitz::Toeplitz;
/// // Prefix sums: a_m = 1. Its square root has coefficients binom(2m, m)/4^m.
/// let a = Toeplitz::new(vec![1.0; 6]).unwrap();
/// let c = a.sqrt(6).unwrap();
/// gdlab_core::assert_close!(c.coefs()[..4], [1.0, 0.5, 0.375, 0.3125], rel = 1e-15);
/// // C·C = A (reconstruct).
/// let cc = c.multiply(&c, 6);
/// gdlab_core::assert_close!(cc.coefs(), a.coefs(), rel = 1e-15);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Toeplitz {
    coefs: Vec<f64>,
}

impl Toeplitz {
    /// The matrix with first column `coefs` (zeros beyond).
    ///
    /// # Errors
    /// [`ConfigError`] if `coefs` is empty or holds a non-finite value.
    pub fn new(coefs: Vec<f64>) -> Result<Self> {
        if coefs.is_empty() {
            return Err(ConfigError::Invalid {
                field: "coefficients".into(),
                reason: "need at least one coefficient (the diagonal)".into(),
            }
            .into());
        }
        if let Some(i) = coefs.iter().position(|c| !c.is_finite()) {
            return Err(ConfigError::Invalid {
                field: "coefficients".into(),
                reason: format!("coefficient {i} is {} (must be finite)", coefs[i]),
            }
            .into());
        }
        Ok(Toeplitz { coefs })
    }

    /// Internal constructor for coefficient vectors known to be valid.
    pub(crate) fn from_vec(coefs: Vec<f64>) -> Self {
        debug_assert!(!coefs.is_empty());
        Toeplitz { coefs }
    }

    /// The identity matrix (one coefficient, 1).
    #[must_use]
    pub fn identity() -> Self {
        Toeplitz { coefs: vec![1.0] }
    }

    /// The stored coefficients `t_0, t_1, …` (first column).
    #[must_use]
    pub fn coefs(&self) -> &[f64] {
        &self.coefs
    }

    /// Coefficient `t_m` (zero beyond the stored ones).
    #[must_use]
    pub fn coef(&self, m: usize) -> f64 {
        self.coefs.get(m).copied().unwrap_or(0.0)
    }

    /// Number of stored coefficients (the bandwidth when trailing ones are nonzero).
    #[must_use]
    pub fn len(&self) -> usize {
        self.coefs.len()
    }

    /// Always false: a Toeplitz matrix stores at least its diagonal.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.coefs.is_empty()
    }

    /// The first `n` coefficients, padded with zeros.
    #[must_use]
    pub fn coefs_padded(&self, n: usize) -> Vec<f64> {
        let mut v = vec![0.0; n];
        let k = n.min(self.coefs.len());
        v[..k].copy_from_slice(&self.coefs[..k]);
        v
    }

    /// The product `self · other` restricted to size `n` (truncated convolution,
    /// `O(n · min(len))`).
    #[must_use]
    pub fn multiply(&self, other: &Toeplitz, n: usize) -> Toeplitz {
        let out_len = n.min(self.len() + other.len() - 1).max(1);
        let mut out = vec![0.0; out_len];
        let (short, long) = if self.len() <= other.len() {
            (&self.coefs, &other.coefs)
        } else {
            (&other.coefs, &self.coefs)
        };
        for (m, o) in out.iter_mut().enumerate() {
            let mut s = 0.0;
            let j_hi = m.min(short.len() - 1);
            for (j, sj) in short.iter().enumerate().take(j_hi + 1) {
                if let Some(l) = long.get(m - j) {
                    s += sj * l;
                }
            }
            *o = s;
        }
        Toeplitz::from_vec(out)
    }

    /// The series quotient `self · den⁻¹` restricted to size `n`: the coefficients of the
    /// decoder `B = A·C⁻¹` when `self = A`, `den = C` (forward substitution,
    /// `b_m = (a_m − Σ_{j=1}^{min(m,p−1)} c_j b_{m−j}) / c_0`, `O(n·p)`, spec §2.2).
    ///
    /// # Errors
    /// [`PrivacyError::Numerical`] if `den`'s diagonal is zero.
    pub fn divide(&self, den: &Toeplitz, n: usize) -> Result<Toeplitz> {
        let c0 = den.coefs[0];
        if c0 == 0.0 {
            return Err(PrivacyError::numerical(
                "toeplitz divide",
                "the divisor's diagonal is 0 (singular matrix)",
            ));
        }
        let p = den.len();
        let mut b = vec![0.0; n.max(1)];
        for m in 0..n {
            let mut s = self.coef(m);
            let j_hi = m.min(p - 1);
            for j in 1..=j_hi {
                s -= den.coefs[j] * b[m - j];
            }
            b[m] = s / c0;
        }
        Ok(Toeplitz::from_vec(b))
    }

    /// The inverse restricted to size `n` (series reciprocal, `O(n·p)`).
    ///
    /// # Errors
    /// [`PrivacyError::Numerical`] if the diagonal is zero.
    pub fn inverse(&self, n: usize) -> Result<Toeplitz> {
        Toeplitz::identity().divide(self, n)
    }

    /// The principal square root restricted to size `n`, by the generic recursion
    /// `c_0 = √a_0`, `c_m = (a_m − Σ_{j=1}^{m−1} c_j c_{m−j}) / (2 c_0)` (spec §2.1; the
    /// authors' `compute_square_root` and jax_privacy use it). `O(n²)`.
    ///
    /// # Errors
    /// [`PrivacyError::Numerical`] if `a_0 ≤ 0` (no real principal root).
    pub fn sqrt(&self, n: usize) -> Result<Toeplitz> {
        let a0 = self.coefs[0];
        if a0 <= 0.0 {
            return Err(PrivacyError::numerical(
                "toeplitz sqrt",
                format!("the diagonal a_0 = {a0} must be > 0 for a real principal square root"),
            ));
        }
        let mut c = vec![0.0; n.max(1)];
        c[0] = a0.sqrt();
        let two_c0 = 2.0 * c[0];
        for m in 1..n {
            let mut s = self.coef(m);
            for j in 1..m {
                s -= c[j] * c[m - j];
            }
            c[m] = s / two_c0;
        }
        Ok(Toeplitz::from_vec(c))
    }

    /// The banded matrix keeping the diagonal and `bandwidth − 1` sub-diagonals (spec §2.2;
    /// `bandwidth = 1` keeps only the diagonal).
    ///
    /// # Errors
    /// [`ConfigError::OutOfRangeInt`] if `bandwidth = 0`.
    pub fn banded(&self, bandwidth: usize) -> Result<Toeplitz> {
        if bandwidth == 0 {
            return Err(ConfigError::OutOfRangeInt {
                field: "bandwidth",
                value: 0,
                allowed: "[1, n]",
            }
            .into());
        }
        let mut v = self.coefs_padded(bandwidth);
        // Drop nothing: trailing zeros keep the requested band explicit.
        v.truncate(bandwidth);
        Ok(Toeplitz::from_vec(v))
    }

    /// The dense `n × n` matrix (for tests and small sizes).
    #[must_use]
    pub fn materialize(&self, n: usize) -> Mat<f64> {
        Mat::from_fn(n, n, |i, j| if i >= j { self.coef(i - j) } else { 0.0 })
    }

    /// `‖T‖_F²` at size `n`: `Σ_{m<n} (n − m) t_m²`.
    #[must_use]
    pub fn frobenius_sq(&self, n: usize) -> f64 {
        self.coefs
            .iter()
            .take(n)
            .enumerate()
            .map(|(m, t)| (n - m) as f64 * t * t)
            .sum()
    }

    /// `‖T[i, :]‖²` for the last row `i = n − 1` (the largest row norm): `Σ_{m<n} t_m²`.
    #[must_use]
    pub fn last_row_norm_sq(&self, n: usize) -> f64 {
        self.coefs.iter().take(n).map(|t| t * t).sum()
    }

    /// True when every stored coefficient is `≥ 0` and the sequence never increases
    /// (the condition of the paper's Theorem 2).
    #[must_use]
    pub fn is_nonneg_nonincreasing(&self) -> bool {
        self.coefs.iter().all(|c| *c >= 0.0) && self.coefs.windows(2).all(|w| w[1] <= w[0])
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use gdlab_core::assert_close;

    fn dense_max_diff(a: &Mat<f64>, b: &Mat<f64>) -> f64 {
        gdlab_core::linalg::max_abs_diff(a, b)
    }

    #[test]
    fn product_matches_dense() {
        let a = Toeplitz::new(vec![1.0, 0.7, -0.2, 0.3]).unwrap();
        let b = Toeplitz::new(vec![2.0, 0.1]).unwrap();
        let n = 7;
        let ab = a.multiply(&b, n).materialize(n);
        let dense = &a.materialize(n) * &b.materialize(n);
        assert!(dense_max_diff(&ab, &dense) < 1e-14);
    }

    #[test]
    fn inverse_and_divide_reconstruct() {
        let c = Toeplitz::new(vec![1.0, 0.5, 0.375]).unwrap();
        let n = 12;
        let inv = c.inverse(n).unwrap();
        let prod = c.multiply(&inv, n);
        assert_close!(
            prod.coefs_padded(n),
            Toeplitz::identity().coefs_padded(n),
            rel = 0.0,
            abs = 1e-15
        );
        let a = Toeplitz::new(vec![1.0; n]).unwrap();
        let b = a.divide(&c, n).unwrap();
        // B·C = A
        assert_close!(
            b.multiply(&c, n).coefs_padded(n),
            a.coefs_padded(n),
            rel = 1e-14,
            abs = 1e-15
        );
        assert!(Toeplitz::new(vec![0.0, 1.0]).unwrap().inverse(3).is_err());
    }

    #[test]
    fn sqrt_reconstructs_and_rejects_nonpositive_diagonal() {
        let a = Toeplitz::new(vec![4.0, 1.0, 0.5, 0.25, 0.1]).unwrap();
        let c = a.sqrt(5).unwrap();
        assert_close!(c.multiply(&c, 5).coefs(), a.coefs(), rel = 1e-14);
        assert!(Toeplitz::new(vec![-1.0]).unwrap().sqrt(3).is_err());
        assert!(Toeplitz::new(vec![]).is_err());
        assert!(Toeplitz::new(vec![f64::NAN]).is_err());
    }

    #[test]
    fn banding_and_norms() {
        let a = Toeplitz::new(vec![1.0, 2.0, 3.0]).unwrap();
        assert_eq!(a.banded(2).unwrap().coefs(), &[1.0, 2.0]);
        assert_eq!(a.banded(5).unwrap().coefs(), &[1.0, 2.0, 3.0, 0.0, 0.0]);
        assert!(a.banded(0).is_err());
        let n = 4;
        let m = a.materialize(n);
        let fro: f64 = (0..n)
            .flat_map(|i| (0..n).map(move |j| (i, j)))
            .map(|(i, j)| m[(i, j)] * m[(i, j)])
            .sum();
        assert_close!(a.frobenius_sq(n), fro, rel = 1e-15);
        assert_close!(a.last_row_norm_sq(n), 14.0, rel = 1e-15);
    }
}
