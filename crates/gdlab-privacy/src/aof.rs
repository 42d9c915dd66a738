//! AOF: the approximately optimal factorization, found by numerical optimization over the
//! Gram matrix `S = CᵀC` (spec §3).
//!
//! $$ \min_S \; \operatorname{tr}(AᵀA\,S^{-1}) \quad\text{s.t.}\quad S ≻ 0,\;
//! \operatorname{diag}(S) = 1,\; S_{ij} = 0 \text{ for } |i−j| ≥ b $$
//!
//! (the band constraint only under b-min-separation). With unit diagonal and the band,
//! `sens² = k` exactly, and `E = √(k·tr(AᵀA S⁻¹)/n)`. `C` is the "reversed" Cholesky
//! factor (lower triangular with `CᵀC = S`), `B = A C⁻¹`.
//!
//! **Solver.** L-BFGS (memory 10) on the free entries `S_ij` (`i > j`, inside the band),
//! minimizing `log tr(AᵀA S⁻¹)` (scale-free, spec §7.1 item 3). The gradient of
//! `tr(AᵀA S⁻¹)` is `−S⁻¹AᵀA S⁻¹` (doubled for an off-diagonal pair), masked to the free
//! entries — the diagonal and the band are fixed by construction (the projection). The
//! backtracking line search rejects every trial point where the Cholesky factorization
//! fails, so `S` stays positive definite (spec §9: a solver that returns a large value with
//! zero gradient on failure stalls). One evaluation costs a Cholesky factorization, two
//! triangular solves and one product (`≈ 3.3 n³` flops), all with faer, sequential
//! (`Par::Seq`) so results do not depend on the thread count.
//!
//! Stops at `max_iters`, at `max_seconds` (a safety cap: a run that hits it is not
//! reproducible bit for bit, and says so in [`AofResult::stop`]), when the gradient's
//! max-norm falls below `grad_tol`, or when the line search cannot decrease the objective.

use std::time::Instant;

use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::triangular_solve::{
    solve_lower_triangular_in_place, solve_upper_triangular_in_place,
};
use faer::{Mat, Par};
use gdlab_core::ConfigError;
use serde::Serialize;

use crate::error::{PrivacyError, Result};
use crate::sensitivity::Participation;
use crate::workload::Workload;

/// Options of the AOF solver.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AofOptions {
    /// Iteration cap (spec §7.1: 3000).
    pub max_iters: usize,
    /// Wall-clock cap in seconds (spec §7.1: 10 s per instance).
    pub max_seconds: f64,
    /// Stop when `max |∇ log f| < grad_tol` over the free entries.
    pub grad_tol: f64,
    /// L-BFGS memory.
    pub memory: usize,
}

impl Default for AofOptions {
    /// 3000 iterations, 10 s, gradient tolerance 1e-9, memory 10 (spec §7.1 item 3).
    fn default() -> Self {
        AofOptions {
            max_iters: 3000,
            max_seconds: 10.0,
            grad_tol: 1e-9,
            memory: 10,
        }
    }
}

/// Why the solver stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AofStop {
    /// The gradient max-norm fell below `grad_tol`.
    Converged,
    /// `max_iters` reached.
    MaxIters,
    /// `max_seconds` reached.
    TimeLimit,
    /// The line search found no decrease (at the limit of f64 precision).
    NoProgress,
}

/// The result of [`optimize`].
#[derive(Clone, Debug)]
pub struct AofResult {
    /// The optimized Gram matrix `S = CᵀC` (unit diagonal).
    pub gram: Mat<f64>,
    /// `tr(AᵀA S⁻¹) = ‖B‖_F²`.
    pub trace: f64,
    /// Per-row squared norms of `B = A C⁻¹` (`diag(A S⁻¹ Aᵀ)`).
    pub row_norms_sq: Vec<f64>,
    /// Iterations done.
    pub iterations: usize,
    /// Objective evaluations (Cholesky factorizations) done.
    pub evaluations: usize,
    /// Why it stopped.
    pub stop: AofStop,
    /// Wall-clock seconds.
    pub seconds: f64,
}

impl AofResult {
    /// The strategy `C`: lower triangular with `CᵀC = S` (reversed Cholesky: with `J` the
    /// exchange matrix and `J S J = L Lᵀ`, `C = J Lᵀ J`).
    ///
    /// # Errors
    /// [`PrivacyError::Numerical`] if `S` is not positive definite.
    pub fn strategy(&self) -> Result<Mat<f64>> {
        let n = self.gram.nrows();
        let flipped = Mat::from_fn(n, n, |i, j| self.gram[(n - 1 - i, n - 1 - j)]);
        let l = cholesky_lower(&flipped)?;
        Ok(Mat::from_fn(n, n, |i, j| {
            if i >= j {
                l[(n - 1 - j, n - 1 - i)]
            } else {
                0.0
            }
        }))
    }
}

/// Lower Cholesky factor with `Par::Seq`.
pub(crate) fn cholesky_lower(s: &Mat<f64>) -> Result<Mat<f64>> {
    try_cholesky(s).ok_or_else(|| {
        PrivacyError::numerical("cholesky", "matrix is not (numerically) positive definite")
    })
}

fn try_cholesky(s: &Mat<f64>) -> Option<Mat<f64>> {
    let n = s.nrows();
    let mut l = Mat::from_fn(n, n, |i, j| if i >= j { s[(i, j)] } else { 0.0 });
    let par = Par::Seq;
    let mut mem = MemBuffer::new(
        faer::linalg::cholesky::llt::factor::cholesky_in_place_scratch::<f64>(
            n,
            par,
            Default::default(),
        ),
    );
    let stack = MemStack::new(&mut mem);
    faer::linalg::cholesky::llt::factor::cholesky_in_place(
        l.as_mut(),
        Default::default(),
        par,
        stack,
        Default::default(),
    )
    .ok()?;
    for j in 0..n {
        for i in 0..j {
            l[(i, j)] = 0.0;
        }
    }
    Some(l)
}

/// One evaluation: `f = tr(AᵀA S⁻¹)`, `G = S⁻¹AᵀA S⁻¹`, and row norms of `B`.
struct Eval {
    f: f64,
    grad_mat: Mat<f64>,
    w_col_norms: Vec<f64>,
}

fn evaluate(s: &Mat<f64>, a_t: &Mat<f64>, want_grad: bool) -> Option<Eval> {
    let l = try_cholesky(s)?;
    // W = L⁻¹ Aᵀ, f = ‖W‖_F², V = L⁻ᵀ W = S⁻¹ Aᵀ, G = V Vᵀ.
    let mut w = a_t.clone();
    solve_lower_triangular_in_place(l.as_ref(), w.as_mut(), Par::Seq);
    let n = s.nrows();
    let mut f = 0.0;
    let mut w_col_norms = vec![0.0; n];
    for (j, cn) in w_col_norms.iter_mut().enumerate() {
        let mut c = 0.0;
        for i in 0..n {
            c += w[(i, j)] * w[(i, j)];
        }
        *cn = c;
        f += c;
    }
    if !f.is_finite() {
        return None;
    }
    let grad_mat = if want_grad {
        solve_upper_triangular_in_place(l.transpose(), w.as_mut(), Par::Seq);
        let mut g = Mat::<f64>::zeros(n, n);
        faer::linalg::matmul::matmul(
            g.as_mut(),
            faer::Accum::Replace,
            w.as_ref(),
            w.transpose(),
            1.0,
            Par::Seq,
        );
        gdlab_core::linalg::clear_simd_state();
        g
    } else {
        Mat::zeros(0, 0)
    };
    Some(Eval {
        f,
        grad_mat,
        w_col_norms,
    })
}

/// Runs the AOF optimization for `workload` under `participation`.
///
/// # Errors
/// [`ConfigError`] for bad options; [`PrivacyError::Numerical`] if the start point fails.
///
/// # Examples
/// ```
/// use gdlab_privacy::aof::{optimize, AofOptions};
/// use gdlab_privacy::sensitivity::Participation;
/// use gdlab_privacy::workload::Workload;
/// let a = Workload::prefix_sum(16).unwrap();
/// let r = optimize(&a, Participation::Single, AofOptions::default()).unwrap();
/// // Better than the identity (‖A‖_F² = n(n+1)/2 = 136) and the full square root.
/// assert!(r.trace < 136.0);
/// ```
pub fn optimize(
    workload: &Workload,
    participation: Participation,
    opts: AofOptions,
) -> Result<AofResult> {
    if opts.max_iters == 0 || opts.memory == 0 {
        return Err(ConfigError::Invalid {
            field: "aof options".into(),
            reason: "max_iters and memory must be ≥ 1".into(),
        }
        .into());
    }
    ConfigError::check_positive("max_seconds", opts.max_seconds)?;
    let start = Instant::now();
    let n = workload.n();
    let band = match participation {
        Participation::Single => n,
        Participation::MinSeparation { min_sep, .. } => min_sep,
    };
    let a = workload.coefs().materialize(n);
    let a_t = a.transpose().to_owned();
    // free entries (i > j, i − j < band), column-major order
    let free: Vec<(usize, usize)> = (0..n)
        .flat_map(|j| ((j + 1)..n.min(j + band)).map(move |i| (i, j)))
        .collect();
    let dim = free.len();
    let build = |x: &[f64]| {
        let mut s = Mat::<f64>::identity(n, n);
        for (v, &(i, j)) in x.iter().zip(&free) {
            s[(i, j)] = *v;
            s[(j, i)] = *v;
        }
        s
    };
    let grad_of = |e: &Eval| -> Vec<f64> {
        // d log f / d x_ij = −2 G_ij / f
        free.iter()
            .map(|&(i, j)| -2.0 * e.grad_mat[(i, j)] / e.f)
            .collect()
    };
    let mut x = vec![0.0; dim];
    let mut cur = evaluate(&build(&x), &a_t, true)
        .ok_or_else(|| PrivacyError::numerical("aof", "identity start is not PD"))?;
    let mut g = grad_of(&cur);
    let mut evaluations = 1;
    let mut s_hist: Vec<Vec<f64>> = Vec::new();
    let mut y_hist: Vec<Vec<f64>> = Vec::new();
    let mut iterations = 0;
    let max_abs = |v: &[f64]| v.iter().fold(0.0_f64, |m, x| m.max(x.abs()));
    let stop = loop {
        if dim == 0 || max_abs(&g) < opts.grad_tol {
            break AofStop::Converged;
        }
        if iterations >= opts.max_iters {
            break AofStop::MaxIters;
        }
        if start.elapsed().as_secs_f64() >= opts.max_seconds {
            break AofStop::TimeLimit;
        }
        // two-loop recursion
        let mut q = g.clone();
        let m = s_hist.len();
        let mut alphas = vec![0.0; m];
        for idx in (0..m).rev() {
            let rho = 1.0 / dot(&y_hist[idx], &s_hist[idx]);
            let al = rho * dot(&s_hist[idx], &q);
            alphas[idx] = al;
            axpy(-al, &y_hist[idx], &mut q);
        }
        if m > 0 {
            let gamma = dot(&s_hist[m - 1], &y_hist[m - 1]) / dot(&y_hist[m - 1], &y_hist[m - 1]);
            q.iter_mut().for_each(|v| *v *= gamma);
        } else {
            // first step: a small move relative to the gradient scale
            let gmax = max_abs(&g);
            let scale = 0.1 / gmax.max(1e-300);
            q.iter_mut().for_each(|v| *v *= scale);
        }
        for idx in 0..m {
            let rho = 1.0 / dot(&y_hist[idx], &s_hist[idx]);
            let be = rho * dot(&y_hist[idx], &q);
            axpy(alphas[idx] - be, &s_hist[idx], &mut q);
        }
        let mut dir: Vec<f64> = q.iter().map(|v| -v).collect();
        let mut slope = dot(&g, &dir);
        if slope >= 0.0 {
            // not a descent direction: reset memory, use steepest descent
            s_hist.clear();
            y_hist.clear();
            let scale = 0.1 / max_abs(&g).max(1e-300);
            dir = g.iter().map(|v| -v * scale).collect();
            slope = dot(&g, &dir);
        }
        // backtracking Armijo line search that rejects non-PD points
        let f0 = cur.f.ln();
        let mut t = 1.0;
        let mut accepted = None;
        for _ in 0..60 {
            let xt: Vec<f64> = x.iter().zip(&dir).map(|(a, d)| a + t * d).collect();
            evaluations += 1;
            if let Some(e) = evaluate(&build(&xt), &a_t, true) {
                if e.f.ln() <= f0 + 1e-4 * t * slope {
                    accepted = Some((xt, e));
                    break;
                }
            }
            t *= 0.5;
        }
        let Some((xn, en)) = accepted else {
            break AofStop::NoProgress;
        };
        let gn = grad_of(&en);
        let sv: Vec<f64> = xn.iter().zip(&x).map(|(a, b)| a - b).collect();
        let yv: Vec<f64> = gn.iter().zip(&g).map(|(a, b)| a - b).collect();
        let sy = dot(&sv, &yv);
        if sy > 1e-12 * dot(&yv, &yv).sqrt() * dot(&sv, &sv).sqrt() && sy > 0.0 {
            if s_hist.len() == opts.memory {
                s_hist.remove(0);
                y_hist.remove(0);
            }
            s_hist.push(sv);
            y_hist.push(yv);
        }
        x = xn;
        cur = en;
        g = gn;
        iterations += 1;
    };
    let gram = build(&x);
    Ok(AofResult {
        trace: cur.f,
        row_norms_sq: cur.w_col_norms.clone(),
        gram,
        iterations,
        evaluations,
        stop,
        seconds: start.elapsed().as_secs_f64(),
    })
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn axpy(a: f64, x: &[f64], y: &mut [f64]) {
    y.iter_mut().zip(x).for_each(|(yi, xi)| *yi += a * xi);
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::float_cmp)] // exact zeros are what these tests check
mod tests {
    use super::*;
    use gdlab_core::assert_close;

    #[test]
    fn reversed_cholesky_reconstructs_gram_and_is_lower() {
        let a = Workload::momentum(1.0, 0.5, 12).unwrap();
        let part = Participation::min_separation(4, 3, 12).unwrap();
        let opts = AofOptions {
            max_iters: 200,
            ..AofOptions::default()
        };
        let r = optimize(&a, part, opts).unwrap();
        let c = r.strategy().unwrap();
        let ctc = c.transpose() * &c;
        assert!(gdlab_core::linalg::max_abs_diff(&ctc, &r.gram) < 1e-12);
        for j in 0..12 {
            for i in 0..j {
                assert_eq!(c[(i, j)], 0.0);
            }
            assert_close!(r.gram[(j, j)], 1.0, rel = 0.0);
            for i in (j + 4)..12 {
                assert_eq!(r.gram[(i, j)], 0.0);
            }
        }
        // B = A C⁻¹: ‖B‖_F² equals the reported trace
        let am = a.coefs().materialize(12);
        let mut bt = am.transpose().to_owned(); // solve Cᵀ Bᵀ = Aᵀ
        solve_upper_triangular_in_place(c.transpose(), bt.as_mut(), Par::Seq);
        let fro: f64 = (0..12)
            .flat_map(|j| (0..12).map(move |i| (i, j)))
            .map(|(i, j)| bt[(i, j)] * bt[(i, j)])
            .sum();
        assert_close!(fro, r.trace, rel = 1e-10);
    }

    #[test]
    fn improves_on_identity_and_sqrt_single_participation() {
        let n = 32;
        let a = Workload::prefix_sum(n).unwrap();
        let r = optimize(&a, Participation::Single, AofOptions::default()).unwrap();
        let e_aof = (r.trace / n as f64).sqrt();
        let c = a.coefs().sqrt(n).unwrap();
        let e_sqrt = c.frobenius_sq(n).sqrt() * c.last_row_norm_sq(n).sqrt() / (n as f64).sqrt();
        assert!(e_aof < e_sqrt, "{e_aof} vs {e_sqrt}");
    }
}
