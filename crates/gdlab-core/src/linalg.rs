//! Small dense linear-algebra helpers on top of faer.
//!
//! gdlab does not hand-write factorizations: eigenvalues and singular values come from
//! faer. This module only adapts row-major `Vec<f64>` data and names the quantities the
//! studies need.

use faer::{Mat, Side};

use crate::error::CoreError;

/// A dense `n × m` matrix (faer's column-major `Mat<f64>`).
pub type Matrix = Mat<f64>;

/// Leaves the CPU's vector registers clean after a faer matrix product.
///
/// faer's x86 GEMM kernels (`private-gemm-x86`, hand-written AVX-512) return with the upper
/// halves of the vector registers dirty (no `vzeroupper`). gdlab's scalar and
/// auto-vectorised loops are compiled for baseline x86-64 (legacy SSE encoding), and on
/// AVX-512 CPUs every such instruction then pays the AVX–SSE transition penalty: a softmax
/// pass right after a product measured ≈ 30× slower (35 ms instead of 1.2 ms at 896 × 127),
/// as did every later scalar loop of the thread and of threads spawned from it. Any faer
/// SIMD routine ends with `vzeroupper` (inserted by LLVM), so running a tiny one restores
/// full speed; `black_box` keeps it from being optimised away. Call it after every
/// `faer::linalg::matmul::matmul` whose caller goes on with scalar work. It changes no
/// value, only timing.
///
/// ```
/// gdlab_core::linalg::clear_simd_state();
/// ```
pub fn clear_simd_state() {
    let v = faer::Col::<f64>::from_fn(64, |i| i as f64);
    std::hint::black_box(std::hint::black_box(&v).norm_l2());
}

/// The `n × n` identity.
#[must_use]
pub fn identity(n: usize) -> Matrix {
    Mat::identity(n, n)
}

/// Builds a matrix from rows.
///
/// # Panics
/// If the rows do not all have the same length (a programmer error).
#[must_use]
pub fn from_rows(rows: &[Vec<f64>]) -> Matrix {
    let n = rows.len();
    let m = rows.first().map_or(0, Vec::len);
    assert!(rows.iter().all(|r| r.len() == m), "ragged rows");
    Mat::from_fn(n, m, |i, j| rows[i][j])
}

/// The rows of a matrix.
#[must_use]
pub fn to_rows(a: &Matrix) -> Vec<Vec<f64>> {
    (0..a.nrows())
        .map(|i| (0..a.ncols()).map(|j| a[(i, j)]).collect())
        .collect()
}

/// Eigenvalues of the symmetric part `(A + Aᵀ)/2`, ascending.
///
/// # Errors
/// [`CoreError::Linalg`] if the matrix is not square or the solver does not converge.
pub fn sym_eigenvalues(a: &Matrix) -> Result<Vec<f64>, CoreError> {
    if a.nrows() != a.ncols() {
        return Err(CoreError::Linalg {
            op: "sym_eigenvalues",
            reason: format!("matrix is {}×{}, not square", a.nrows(), a.ncols()),
        });
    }
    let s = Mat::from_fn(a.nrows(), a.ncols(), |i, j| 0.5 * (a[(i, j)] + a[(j, i)]));
    let mut ev = s
        .self_adjoint_eigenvalues(Side::Lower)
        .map_err(|e| CoreError::Linalg {
            op: "sym_eigenvalues",
            reason: format!("{e:?}"),
        })?;
    ev.sort_by(f64::total_cmp);
    Ok(ev)
}

/// Spectral norm of a symmetric matrix: `max |λᵢ|` (not the largest signed eigenvalue).
///
/// # Errors
/// As [`sym_eigenvalues`].
pub fn sym_spectral_norm(a: &Matrix) -> Result<f64, CoreError> {
    Ok(sym_eigenvalues(a)?
        .iter()
        .fold(0.0_f64, |m, v| m.max(v.abs())))
}

/// Spectral norm (largest singular value) of any matrix.
///
/// # Errors
/// [`CoreError::Linalg`] if the SVD does not converge.
pub fn spectral_norm(a: &Matrix) -> Result<f64, CoreError> {
    if a.nrows() == 0 || a.ncols() == 0 {
        return Ok(0.0);
    }
    let sv = a.singular_values().map_err(|e| CoreError::Linalg {
        op: "spectral_norm",
        reason: format!("{e:?}"),
    })?;
    Ok(sv.iter().fold(0.0_f64, |m, v| m.max(*v)))
}

/// Largest absolute entry of `a − b`.
///
/// # Panics
/// If the shapes differ (a programmer error).
#[must_use]
pub fn max_abs_diff(a: &Matrix, b: &Matrix) -> f64 {
    assert_eq!(
        (a.nrows(), a.ncols()),
        (b.nrows(), b.ncols()),
        "shape mismatch"
    );
    let mut m = 0.0_f64;
    for j in 0..a.ncols() {
        for i in 0..a.nrows() {
            m = m.max((a[(i, j)] - b[(i, j)]).abs());
        }
    }
    m
}

/// `a^k` by repeated squaring (`a` square).
///
/// # Panics
/// If `a` is not square (a programmer error).
#[must_use]
pub fn matrix_power(a: &Matrix, mut k: u32) -> Matrix {
    assert_eq!(a.nrows(), a.ncols(), "matrix_power needs a square matrix");
    let mut result = identity(a.nrows());
    let mut base = a.clone();
    while k > 0 {
        if k & 1 == 1 {
            result = &result * &base;
        }
        k >>= 1;
        if k > 0 {
            base = &base * &base;
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assert_close;

    #[test]
    fn spectra_of_known_matrices() {
        // [[2, 1], [1, 2]] has eigenvalues 1 and 3.
        let a = from_rows(&[vec![2.0, 1.0], vec![1.0, 2.0]]);
        assert_close!(sym_eigenvalues(&a).unwrap(), vec![1.0, 3.0], rel = 1e-14);
        // The negative eigenvalue dominates the norm: diag(−5, 1) has norm 5.
        let b = from_rows(&[vec![-5.0, 0.0], vec![0.0, 1.0]]);
        assert_close!(sym_spectral_norm(&b).unwrap(), 5.0, rel = 1e-14);
        // Rotation-scaling: singular values of [[0, −2], [2, 0]] are both 2.
        let c = from_rows(&[vec![0.0, -2.0], vec![2.0, 0.0]]);
        assert_close!(spectral_norm(&c).unwrap(), 2.0, rel = 1e-14);
    }

    #[test]
    fn power_matches_repeated_product() {
        let a = from_rows(&[vec![0.5, 0.1], vec![0.2, 0.9]]);
        let mut p = identity(2);
        for _ in 0..7 {
            p = &p * &a;
        }
        assert!(max_abs_diff(&matrix_power(&a, 7), &p) < 1e-15);
    }

    #[test]
    fn non_square_is_an_error() {
        let a = Mat::<f64>::zeros(2, 3);
        assert!(sym_eigenvalues(&a).is_err());
    }
}
