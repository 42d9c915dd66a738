//! Error metrics of a factorization (spec §1.5) and the general lower bound (spec §5).
//!
//! With unit noise multiplier and clip 1 (the privacy factor is common to all methods):
//!
//! | name | formula |
//! |---|---|
//! | `rmse` (the paper's `E`) | `‖B‖_F · sens / √n` |
//! | `mean_se` | `‖B‖_F² · sens² / n` (= `E²`) |
//! | `max_se` | `max_i ‖B[i, :]‖² · sens²` (last row for Toeplitz `B`) |
//!
//! The squared errors follow jax_privacy's conventions (`MeanSE`, `MaxSE`).

use faer::dyn_stack::{MemBuffer, MemStack};
use faer::{Mat, Par};
use serde::Serialize;

use crate::error::{PrivacyError, Result};
use crate::sensitivity::Participation;
use crate::workload::Workload;

/// The error metrics of one factorization.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct ErrorMetrics {
    /// `‖B‖_F`.
    pub frobenius_b: f64,
    /// The sensitivity used.
    pub sensitivity: f64,
    /// `E = ‖B‖_F·sens/√n` (RMSE over the `n` prefix queries).
    pub rmse: f64,
    /// `max_i ‖B[i,:]‖²·sens²`.
    pub max_se: f64,
    /// `‖B‖_F²·sens²/n`.
    pub mean_se: f64,
}

/// Metrics from `‖B‖_F²`, the largest squared row norm of `B`, `n` and the sensitivity.
#[must_use]
pub fn errors_from_norms(
    frobenius_sq: f64,
    max_row_sq: f64,
    n: usize,
    sensitivity: f64,
) -> ErrorMetrics {
    let nf = n as f64;
    ErrorMetrics {
        frobenius_b: frobenius_sq.sqrt(),
        sensitivity,
        rmse: frobenius_sq.sqrt() * sensitivity / nf.sqrt(),
        max_se: max_row_sq * sensitivity * sensitivity,
        mean_se: frobenius_sq * sensitivity * sensitivity / nf,
    }
}

/// Nuclear norm `‖A‖_*` (sum of singular values) of the workload, by faer's SVD with
/// `Par::Seq` (so the value does not depend on the thread count). `O(n³)`.
///
/// # Errors
/// [`PrivacyError::Numerical`] if the SVD fails.
pub fn nuclear_norm(workload: &Workload) -> Result<f64> {
    let n = workload.n();
    let a: Mat<f64> = workload.coefs().materialize(n);
    let mut s = faer::diag::Diag::<f64>::zeros(n);
    let par = Par::Seq;
    let mut mem = MemBuffer::new(faer::linalg::svd::svd_scratch::<f64>(
        n,
        n,
        faer::linalg::svd::ComputeSvdVectors::No,
        faer::linalg::svd::ComputeSvdVectors::No,
        par,
        Default::default(),
    ));
    faer::linalg::svd::svd(
        a.as_ref(),
        s.as_mut(),
        None,
        None,
        par,
        MemStack::new(&mut mem),
        Default::default(),
    )
    .map_err(|e| PrivacyError::numerical("nuclear norm", format!("{e:?}")))?;
    Ok(s.column_vector().iter().map(|x| x.abs()).sum())
}

/// The general lower bound `E(B, C) ≥ √k · ‖A‖_* / n` for any factorization (spec §5
/// item 1, derived: `sens² ≥ (k/n)‖C‖_F²` and `‖B‖_F‖C‖_F ≥ ‖A‖_*`), with `k` the
/// effective number of participations (1 for single participation). Valid but not tight;
/// use as a floor only.
///
/// # Errors
/// As [`nuclear_norm`].
///
/// # Examples
/// ```
/// use gdlab_privacy::metrics::lower_bound;
/// use gdlab_privacy::sensitivity::Participation;
/// use gdlab_privacy::workload::Workload;
/// let a = Workload::prefix_sum(200).unwrap();
/// let lb = lower_bound(&a, Participation::Single).unwrap();
/// assert!((lb - 2.394).abs() < 1e-3); // spec §5: ‖A‖_*/n = 2.394 at n = 200
/// ```
pub fn lower_bound(workload: &Workload, participation: Participation) -> Result<f64> {
    let n = workload.n();
    let k = participation.effective_k(n) as f64;
    Ok(k.sqrt() * nuclear_norm(workload)? / n as f64)
}
