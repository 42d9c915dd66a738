//! Small dense symmetric matrices: validation, inverse, square roots and log-determinants
//! through faer's symmetric eigendecomposition.
//!
//! Every matrix function here is `f(A) = U f(Λ) Uᵀ` for the symmetrised input
//! `(A + Aᵀ)/2`; nothing is factorised by hand. After faer products the SIMD state is
//! cleared ([`gdlab_core::linalg::clear_simd_state`]).

use faer::{Mat, Side};

use crate::error::{Result, WassersteinError};

/// Relative asymmetry `max |A − Aᵀ| / max |A|` above which a matrix is rejected.
pub const SYMMETRY_TOL: f64 = 1e-10;

/// `f(A) = U f(Λ) Uᵀ` for the symmetric part of a square matrix.
///
/// # Errors
/// [`WassersteinError::Linalg`] if the eigensolver fails or `a` is not square.
pub fn sym_fn(a: &Mat<f64>, f: impl Fn(f64) -> f64) -> Result<Mat<f64>> {
    let (vals, u) = sym_eigen(a)?;
    let n = a.nrows();
    let fv: Vec<f64> = vals.iter().map(|&l| f(l)).collect();
    let mut out = Mat::<f64>::zeros(n, n);
    for i in 0..n {
        for j in 0..=i {
            let mut s = 0.0;
            for (k, fk) in fv.iter().enumerate() {
                s += u[(i, k)] * fk * u[(j, k)];
            }
            out[(i, j)] = s;
            out[(j, i)] = s;
        }
    }
    Ok(out)
}

/// Eigenvalues (ascending) and eigenvectors (columns) of the symmetric part of `a`.
///
/// # Errors
/// [`WassersteinError::Linalg`] if the eigensolver fails or `a` is not square.
pub fn sym_eigen(a: &Mat<f64>) -> Result<(Vec<f64>, Mat<f64>)> {
    if a.nrows() != a.ncols() {
        return Err(WassersteinError::Linalg {
            op: "sym_eigen",
            reason: format!("matrix is {}×{}, not square", a.nrows(), a.ncols()),
        });
    }
    let s = symmetrize(a);
    let e = s
        .self_adjoint_eigen(Side::Lower)
        .map_err(|e| WassersteinError::Linalg {
            op: "sym_eigen",
            reason: format!("{e:?}"),
        })?;
    let vals: Vec<f64> = e.S().column_vector().iter().copied().collect();
    let u = e.U().to_owned();
    gdlab_core::linalg::clear_simd_state();
    Ok((vals, u))
}

/// `(A + Aᵀ)/2`.
#[must_use]
pub fn symmetrize(a: &Mat<f64>) -> Mat<f64> {
    Mat::from_fn(a.nrows(), a.ncols(), |i, j| 0.5 * (a[(i, j)] + a[(j, i)]))
}

/// `A·B`, with the SIMD state cleared afterwards.
#[must_use]
pub fn matmul(a: &Mat<f64>, b: &Mat<f64>) -> Mat<f64> {
    let c = a * b;
    gdlab_core::linalg::clear_simd_state();
    c
}

/// A symmetric positive-definite `dim × dim` matrix, validated at construction, with its
/// eigendecomposition cached.
///
/// # Examples
/// ```
/// use gdlab_wasserstein::matrix::SpdMatrix;
/// let p = SpdMatrix::from_rows("P", &[vec![4.0, 0.0], vec![0.0, 9.0]]).unwrap();
/// let r = p.sqrt();
/// assert!((r[(0, 0)] - 2.0).abs() < 1e-14 && (r[(1, 1)] - 3.0).abs() < 1e-14);
/// assert!(SpdMatrix::from_rows("P", &[vec![1.0, 2.0], vec![2.0, 1.0]]).is_err());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct SpdMatrix {
    mat: Mat<f64>,
    eigenvalues: Vec<f64>,
    eigenvectors: Mat<f64>,
}

impl SpdMatrix {
    /// Validates `a`: square, finite, symmetric to [`SYMMETRY_TOL`] (relative), smallest
    /// eigenvalue `> 0`. The stored matrix is the exact symmetrisation `(A + Aᵀ)/2`.
    ///
    /// # Errors
    /// [`WassersteinError::NotPositiveDefinite`] naming `what`, or
    /// [`WassersteinError::NonFinite`].
    pub fn new(what: &'static str, a: &Mat<f64>) -> Result<Self> {
        let n = a.nrows();
        if n == 0 || a.ncols() != n {
            return Err(WassersteinError::NotPositiveDefinite {
                what,
                reason: format!(
                    "matrix is {}×{}, expected a non-empty square matrix",
                    n,
                    a.ncols()
                ),
            });
        }
        let mut scale = 0.0_f64;
        let mut asym = 0.0_f64;
        for i in 0..n {
            for j in 0..n {
                let v = a[(i, j)];
                if !v.is_finite() {
                    return Err(WassersteinError::NonFinite {
                        what: what.to_string(),
                        index: i * n + j,
                        value: v,
                    });
                }
                scale = scale.max(v.abs());
                asym = asym.max((v - a[(j, i)]).abs());
            }
        }
        if asym > SYMMETRY_TOL * scale {
            return Err(WassersteinError::NotPositiveDefinite {
                what,
                reason: format!("not symmetric (max |A − Aᵀ| = {asym:e})"),
            });
        }
        let mat = symmetrize(a);
        let (eigenvalues, eigenvectors) = sym_eigen(&mat)?;
        let min = eigenvalues.first().copied().unwrap_or(f64::NAN);
        if min.is_nan() || min <= 0.0 {
            return Err(WassersteinError::NotPositiveDefinite {
                what,
                reason: format!("smallest eigenvalue is {min:e}"),
            });
        }
        Ok(SpdMatrix {
            mat,
            eigenvalues,
            eigenvectors,
        })
    }

    /// From rows (`rows[i][j]` = entry `(i, j)`).
    ///
    /// # Errors
    /// As [`SpdMatrix::new`]; ragged rows are [`WassersteinError::Dim`].
    pub fn from_rows(what: &'static str, rows: &[Vec<f64>]) -> Result<Self> {
        let n = rows.len();
        if let Some(r) = rows.iter().find(|r| r.len() != n) {
            return Err(WassersteinError::Dim {
                op: what,
                expected: n,
                got: r.len(),
            });
        }
        Self::new(what, &Mat::from_fn(n, n, |i, j| rows[i][j]))
    }

    /// `diag(values)`.
    ///
    /// # Errors
    /// As [`SpdMatrix::new`] (every value must be `> 0`).
    pub fn diagonal(what: &'static str, values: &[f64]) -> Result<Self> {
        let n = values.len();
        Self::new(
            what,
            &Mat::from_fn(n, n, |i, j| if i == j { values[i] } else { 0.0 }),
        )
    }

    /// The `dim × dim` identity.
    ///
    /// # Panics
    /// Never for `dim ≥ 1`; `dim = 0` is a programmer error.
    #[must_use]
    #[allow(clippy::expect_used)] // the identity is PD by construction
    pub fn identity(dim: usize) -> Self {
        Self::diagonal("identity", &vec![1.0; dim]).expect("the identity is SPD")
    }

    /// The dimension.
    #[must_use]
    pub fn dim(&self) -> usize {
        self.mat.nrows()
    }

    /// The matrix.
    #[must_use]
    pub fn mat(&self) -> &Mat<f64> {
        &self.mat
    }

    /// Entry `(i, j)`.
    #[must_use]
    pub fn get(&self, i: usize, j: usize) -> f64 {
        self.mat[(i, j)]
    }

    /// Eigenvalues, ascending.
    #[must_use]
    pub fn eigenvalues(&self) -> &[f64] {
        &self.eigenvalues
    }

    /// Row-major entries.
    #[must_use]
    pub fn to_row_major(&self) -> Vec<f64> {
        let n = self.dim();
        (0..n * n).map(|k| self.mat[(k / n, k % n)]).collect()
    }

    fn spectral(&self, f: impl Fn(f64) -> f64) -> Mat<f64> {
        let n = self.dim();
        let u = &self.eigenvectors;
        let fv: Vec<f64> = self.eigenvalues.iter().map(|&l| f(l)).collect();
        Mat::from_fn(n, n, |i, j| {
            fv.iter()
                .enumerate()
                .map(|(k, fk)| u[(i, k)] * fk * u[(j, k)])
                .sum()
        })
    }

    /// `A⁻¹` (spectral).
    #[must_use]
    pub fn inverse(&self) -> Mat<f64> {
        symmetrize(&self.spectral(|l| 1.0 / l))
    }

    /// `A^{1/2}` (the symmetric PD square root).
    #[must_use]
    pub fn sqrt(&self) -> Mat<f64> {
        symmetrize(&self.spectral(f64::sqrt))
    }

    /// `A^{−1/2}`.
    #[must_use]
    pub fn inv_sqrt(&self) -> Mat<f64> {
        symmetrize(&self.spectral(|l| 1.0 / l.sqrt()))
    }

    /// `log det A = Σ log λᵢ`.
    #[must_use]
    pub fn log_det(&self) -> f64 {
        self.eigenvalues.iter().map(|l| l.ln()).sum()
    }

    /// `out = A x` for a vector of length `dim`.
    pub fn apply(&self, x: &[f64], out: &mut [f64]) {
        let n = self.dim();
        debug_assert!(x.len() == n && out.len() == n);
        for (i, o) in out.iter_mut().enumerate() {
            *o = (0..n).map(|j| self.mat[(i, j)] * x[j]).sum();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gdlab_core::assert_close;

    #[test]
    fn reconstruct_sqrt_and_inverse() {
        let a = SpdMatrix::from_rows(
            "A",
            &[
                vec![4.0, 1.0, 0.5],
                vec![1.0, 3.0, -0.2],
                vec![0.5, -0.2, 2.0],
            ],
        )
        .unwrap();
        let r = a.sqrt();
        let rr = matmul(&r, &r);
        let inv = a.inverse();
        let id = matmul(&inv, a.mat());
        for i in 0..3 {
            for j in 0..3 {
                assert_close!(rr[(i, j)], a.get(i, j), abs = 1e-14);
                assert_close!(id[(i, j)], if i == j { 1.0 } else { 0.0 }, abs = 1e-14);
            }
        }
        // log det vs faer's LU determinant
        let det = a.mat().determinant();
        assert_close!(a.log_det(), det.ln(), rel = 1e-13);
    }

    #[test]
    fn rejects_bad_matrices() {
        assert!(matches!(
            SpdMatrix::from_rows("S", &[vec![1.0, 0.0], vec![0.0, -1.0]]),
            Err(WassersteinError::NotPositiveDefinite { what: "S", .. })
        ));
        assert!(SpdMatrix::from_rows("S", &[vec![1.0, 0.5], vec![0.0, 1.0]]).is_err());
        assert!(SpdMatrix::from_rows("S", &[vec![1.0, f64::NAN], vec![0.0, 1.0]]).is_err());
        assert!(SpdMatrix::from_rows("S", &[vec![1.0, 0.0], vec![0.0]]).is_err());
        assert!(SpdMatrix::diagonal("S", &[]).is_err());
    }
}

/// Solves `A X = B` by LU with partial pivoting (faer), sequentially (`Par::Seq`), so the
/// result does not depend on the thread count. Returns `None` when the solution is not
/// finite (a singular or numerically singular `A`).
///
/// # Panics
/// If `A` is not square or `B` has a different number of rows (a programmer error).
#[must_use]
pub fn solve_seq(mut a: Mat<f64>, mut b: Mat<f64>) -> Option<Mat<f64>> {
    use faer::dyn_stack::{MemBuffer, MemStack};
    use faer::linalg::lu::partial_pivoting::{factor, solve};
    use faer::Par;
    let n = a.nrows();
    assert!(
        a.ncols() == n && b.nrows() == n,
        "solve_seq: shape mismatch"
    );
    let mut perm = vec![0usize; n];
    let mut perm_inv = vec![0usize; n];
    let req = factor::lu_in_place_scratch::<usize, f64>(n, n, Par::Seq, Default::default()).or(
        solve::solve_in_place_scratch::<usize, f64>(n, b.ncols(), Par::Seq),
    );
    let mut buf = MemBuffer::new(req);
    let stack = MemStack::new(&mut buf);
    let (_, p) = factor::lu_in_place(
        a.as_mut(),
        &mut perm,
        &mut perm_inv,
        Par::Seq,
        stack,
        Default::default(),
    );
    solve::solve_in_place(a.as_ref(), a.as_ref(), p, b.as_mut(), Par::Seq, stack);
    gdlab_core::linalg::clear_simd_state();
    let finite = (0..b.ncols()).all(|j| (0..n).all(|i| b[(i, j)].is_finite()));
    finite.then_some(b)
}

#[cfg(test)]
mod solve_tests {
    use super::*;

    #[test]
    fn solve_reconstructs_the_right_hand_side() {
        let a = Mat::from_fn(5, 5, |i, j| {
            if i == j {
                4.0
            } else {
                1.0 / (1.0 + (i + 2 * j) as f64)
            }
        });
        let b = Mat::from_fn(5, 2, |i, j| (i as f64) - 2.0 * j as f64);
        let x = solve_seq(a.clone(), b.clone()).unwrap();
        let r = matmul(&a, &x);
        for i in 0..5 {
            for j in 0..2 {
                assert!((r[(i, j)] - b[(i, j)]).abs() < 1e-14);
            }
        }
        assert!(solve_seq(Mat::zeros(2, 2), Mat::from_fn(2, 1, |_, _| 1.0)).is_none());
    }
}
