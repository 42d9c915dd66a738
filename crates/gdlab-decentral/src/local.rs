//! Agent-local kernels: the least-squares residual and gradient by two faer mat-vecs,
//! top-k truncation, soft-thresholding and the ℓ1-ball projection.

use faer::linalg::matmul::matmul;
use faer::{Accum, ColMut, ColRef, MatRef, Par};

use crate::data::LocalData;
use crate::dgd::{MixOrder, TruncVariant, Truncation};

/// `r = X w − y`; returns `‖r‖²` (one faer mat-vec: the held-out loss of the
/// `ValidationLoss` stopping rule).
pub(crate) fn residual_sq(data: &LocalData, dim: usize, w: &[f64], r: &mut [f64]) -> f64 {
    let n = data.y.len();
    let x = MatRef::from_row_major_slice(&data.x, n, dim);
    matmul(
        ColMut::from_slice_mut(r).as_mat_mut(),
        Accum::Replace,
        x,
        ColRef::from_slice(w).as_mat(),
        1.0,
        Par::Seq,
    );
    gdlab_core::linalg::clear_simd_state();
    let mut rr = 0.0;
    for (ri, yi) in r.iter_mut().zip(&data.y) {
        *ri -= yi;
        rr += *ri * *ri;
    }
    rr
}

/// `r = X w − y`, `g = Xᵀ r / n`; returns `‖r‖²`. Two sequential faer mat-vecs
/// (`2·n·d` multiply-adds each); the agents run in parallel around this.
pub(crate) fn residual_grad(
    data: &LocalData,
    dim: usize,
    w: &[f64],
    r: &mut [f64],
    g: &mut [f64],
) -> f64 {
    let n = data.y.len();
    let rr = residual_sq(data, dim, w, r);
    let x = MatRef::from_row_major_slice(&data.x, n, dim);
    matmul(
        ColMut::from_slice_mut(g).as_mat_mut(),
        Accum::Replace,
        x.transpose(),
        ColRef::from_slice(r).as_mat(),
        1.0 / n as f64,
        Par::Seq,
    );
    gdlab_core::linalg::clear_simd_state();
    rr
}

/// `Trun_k`: keeps the `k` largest `|x_j|` (ties: lowest index) and zeroes the rest, in
/// place (spec §2.3). `idx` is scratch of any length.
pub(crate) fn truncate_top_k(x: &mut [f64], k: usize, idx: &mut Vec<usize>) {
    let d = x.len();
    if k >= d {
        return;
    }
    if k == 0 {
        x.iter_mut().for_each(|v| *v = 0.0);
        return;
    }
    idx.clear();
    idx.extend(0..d);
    // Total order: larger |x| first, then lower index; NaN sorts as largest (total_cmp).
    let key = |a: &usize, b: &usize| x[*b].abs().total_cmp(&x[*a].abs()).then(a.cmp(b));
    idx.select_nth_unstable_by(k - 1, key);
    let mut keep = vec![false; d];
    for &j in &idx[..k] {
        keep[j] = true;
    }
    for (v, kp) in x.iter_mut().zip(keep) {
        if !kp {
            *v = 0.0;
        }
    }
}

/// Soft-thresholding `S_τ(x)_j = sign(x_j)·max(|x_j| − τ, 0)`, in place.
pub(crate) fn soft_threshold(x: &mut [f64], tau: f64) {
    for v in x {
        let a = v.abs() - tau;
        *v = if a > 0.0 { a.copysign(*v) } else { 0.0 };
    }
}

/// Euclidean projection onto `{‖x‖₁ ≤ radius}` by sorting (Duchi et al. 2008), in place.
pub(crate) fn project_l1_ball(x: &mut [f64], radius: f64, scratch: &mut Vec<f64>) {
    let l1: f64 = x.iter().map(|v| v.abs()).sum();
    if l1 <= radius {
        return;
    }
    scratch.clear();
    scratch.extend(x.iter().map(|v| v.abs()));
    scratch.sort_unstable_by(|a, b| b.total_cmp(a));
    let mut cum = 0.0;
    let mut theta = 0.0;
    for (k, &mu) in scratch.iter().enumerate() {
        cum += mu;
        let t = (cum - radius) / (k + 1) as f64;
        if mu - t > 0.0 {
            theta = t;
        } else {
            break;
        }
    }
    soft_threshold(x, theta);
}

/// One agent's iterate `w = u⊙u − v⊙v`, written into `w`; returns `‖w − w*‖²`. Shared by the
/// simulation ([`crate::dgd`]) and the one-agent-per-rank run ([`crate::dist`]), so both add
/// in the same order.
pub(crate) fn hadamard_iterate(u: &[f64], v: &[f64], w_star: &[f64], w: &mut [f64]) -> f64 {
    let mut err = 0.0;
    for j in 0..u.len() {
        let wj = u[j] * u[j] - v[j] * v[j];
        w[j] = wj;
        err += (wj - w_star[j]) * (wj - w_star[j]);
    }
    err
}

/// One agent's outgoing messages of a DGD round with local gradient `g` (`step = 4η`):
/// ATC sends the adapted `u − step·u⊙g`, `v + step·v⊙g` (top-k truncated for T-DGD); CTA and
/// the mass-preserving T-DGD variant send `u`, `v` (truncated for the latter) and keep the
/// local deltas in `du`, `dv`, added after mixing. Shared by [`crate::dgd`] and
/// [`crate::dist`].
#[allow(clippy::too_many_arguments)]
pub(crate) fn dgd_messages(
    order: MixOrder,
    truncation: Option<Truncation>,
    step: f64,
    u: &[f64],
    v: &[f64],
    g: &[f64],
    su: &mut [f64],
    sv: &mut [f64],
    du: &mut [f64],
    dv: &mut [f64],
    idx: &mut Vec<usize>,
) {
    let d = u.len();
    match (order, truncation) {
        (MixOrder::Atc, None) => {
            for j in 0..d {
                su[j] = u[j] - step * u[j] * g[j];
                sv[j] = v[j] + step * v[j] * g[j];
            }
        }
        (
            MixOrder::Atc,
            Some(Truncation {
                k,
                variant: TruncVariant::Paper,
            }),
        ) => {
            for j in 0..d {
                su[j] = u[j] - step * u[j] * g[j];
                sv[j] = v[j] + step * v[j] * g[j];
            }
            truncate_top_k(su, k, idx);
            truncate_top_k(sv, k, idx);
        }
        (
            MixOrder::Atc,
            Some(Truncation {
                k,
                variant: TruncVariant::MassPreserving,
            }),
        ) => {
            su.copy_from_slice(u);
            sv.copy_from_slice(v);
            truncate_top_k(su, k, idx);
            truncate_top_k(sv, k, idx);
            for j in 0..d {
                du[j] = u[j] - su[j] - step * u[j] * g[j];
                dv[j] = v[j] - sv[j] + step * v[j] * g[j];
            }
        }
        (MixOrder::Cta, _) => {
            su.copy_from_slice(u);
            sv.copy_from_slice(v);
            for j in 0..d {
                du[j] = -step * u[j] * g[j];
                dv[j] = step * v[j] * g[j];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::float_cmp,
        clippy::needless_range_loop
    )]
    use super::*;

    #[test]
    fn residual_grad_matches_naive_loops() {
        let (n, d) = (3, 4);
        let x: Vec<f64> = (0..n * d).map(|k| (k as f64 * 0.7).sin()).collect();
        let y = vec![0.5, -1.0, 2.0];
        let data = LocalData {
            x: x.clone(),
            y: y.clone(),
        };
        let w = vec![0.1, -0.2, 0.3, 0.4];
        let (mut r, mut g) = (vec![0.0; n], vec![0.0; d]);
        let rr = residual_grad(&data, d, &w, &mut r, &mut g);
        let rn: Vec<f64> = (0..n)
            .map(|i| (0..d).map(|j| x[i * d + j] * w[j]).sum::<f64>() - y[i])
            .collect();
        let gn: Vec<f64> = (0..d)
            .map(|j| (0..n).map(|i| x[i * d + j] * rn[i]).sum::<f64>() / n as f64)
            .collect();
        for i in 0..n {
            assert!((r[i] - rn[i]).abs() < 1e-14);
        }
        for j in 0..d {
            assert!((g[j] - gn[j]).abs() < 1e-14);
        }
        assert!((rr - rn.iter().map(|v| v * v).sum::<f64>()).abs() < 1e-13);
    }

    #[test]
    fn top_k_ties_lowest_index() {
        let mut x = vec![1.0, -3.0, 2.0, -2.0, 0.5];
        truncate_top_k(&mut x, 2, &mut Vec::new());
        assert_eq!(x, vec![0.0, -3.0, 2.0, 0.0, 0.0]);
        let mut y = vec![1.0; 5];
        truncate_top_k(&mut y, 3, &mut Vec::new());
        assert_eq!(y, vec![1.0, 1.0, 1.0, 0.0, 0.0]);
    }

    #[test]
    fn l1_projection() {
        // Projection of (3, 1, 0) onto the ℓ1 ball of radius 2: θ = 1, result (2, 0, 0).
        let mut x = vec![3.0, -1.0, 0.0];
        project_l1_ball(&mut x, 2.0, &mut Vec::new());
        assert_eq!(x, vec![2.0, 0.0, 0.0]);
        // (1, 1) onto radius 1: θ = 0.5.
        let mut z = vec![1.0, -1.0];
        project_l1_ball(&mut z, 1.0, &mut Vec::new());
        assert_eq!(z, vec![0.5, -0.5]);
        let mut inside = vec![0.1, 0.2];
        project_l1_ball(&mut inside, 1.0, &mut Vec::new());
        assert_eq!(inside, vec![0.1, 0.2]);
    }
}
