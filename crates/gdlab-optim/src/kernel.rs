//! Fused element-wise kernels shared by the sign-based and variance-reduced methods.
//!
//! Each kernel is one pass over its buffers, generic over [`Real`] (`f32` for networks,
//! `f64` for studies). Blocks in [`crate::transform`] and estimators in
//! [`crate::estimator`] call these, so every method has exactly one implementation of its
//! arithmetic.
//!
//! **Sign convention**: `sign(0) = 0` (as `torch.sign`), `sign(NaN) = NaN` (so a diverging
//! run is detected downstream instead of being hidden as a zero step).

use gdlab_core::Real;
use rand::Rng;

use gdlab_core::GdRng;

/// `sign(x)` with `sign(±0) = 0` and `sign(NaN) = NaN`.
///
/// # Examples
/// ```
/// use gdlab_optim::kernel::sign;
/// assert_eq!(sign(-2.5_f64), -1.0);
/// assert_eq!(sign(0.0_f32), 0.0);
/// assert!(sign(f64::NAN).is_nan());
/// ```
#[inline]
#[must_use]
pub fn sign<F: Real>(x: F) -> F {
    if x > F::zero() {
        F::one()
    } else if x < F::zero() {
        -F::one()
    } else {
        // ±0 → 0; NaN → NaN.
        x + x
    }
}

/// `u ← sign(u)` in place.
#[inline]
pub fn sign_in_place<F: Real>(u: &mut [F]) {
    u.iter_mut().for_each(|x| *x = sign(*x));
}

/// The STORM / SSVR recursive estimator, fused:
/// `v ← g + (1 − β)(v − g_prev)`, with `g = ∇f(x_t; ξ_t)` and `g_prev = ∇f(x_{t−1}; ξ_t)`
/// on the same sample ξ_t (spec `sign-methods-ssvr.md` §2.2).
///
/// # Panics
/// If the slices differ in length (a programmer error; callers check shapes).
///
/// # Examples
/// ```
/// use gdlab_optim::kernel::storm_combine;
/// let mut v = [1.0_f64, -1.0];
/// storm_combine(&mut v, &[2.0, 0.0], &[1.0, 1.0], 0.25);
/// assert_eq!(v, [2.0, -1.5]); // 2 + 0.75·(1 − 1), 0 + 0.75·(−1 − 1)
/// ```
#[inline]
pub fn storm_combine<F: Real>(v: &mut [F], g: &[F], g_prev: &[F], beta: F) {
    assert!(
        v.len() == g.len() && g.len() == g_prev.len(),
        "storm_combine: length mismatch"
    );
    let keep = F::one() - beta;
    for ((vi, &gi), &pi) in v.iter_mut().zip(g).zip(g_prev) {
        *vi = gi + keep * (*vi - pi);
    }
}

/// One SSVR step in a single pass: the STORM estimator update, the sign step and its
/// application to the parameters,
///
/// $$ v \leftarrow g + (1-\beta)(v - g_{\text{prev}}), \qquad
///    \theta \leftarrow \theta + (-\eta)\,\mathrm{sign}(v) $$
///
/// with the same numbers, bit for bit, as [`storm_combine`] followed by
/// [`crate::alias::sign_sgd`]`(η)`'s update and [`gdlab_core::transform::apply_update`].
/// It reads `g`, `g_prev`, `v`, `θ` and writes `v`, `θ`: six buffer streams (24 bytes per
/// f32 coordinate), against eleven for the separate passes (the combine, a copy of `v`
/// into the update buffer, the sign pass and `apply_update`). For `η`, the step uses
/// `F::from_f64(−η)` as [`crate::transform::ScaleByLearningRate`] does.
///
/// # Panics
/// If the slices differ in length (a programmer error; callers check shapes).
///
/// # Examples
/// ```
/// use gdlab_optim::kernel::storm_sign_step;
/// let (mut theta, mut v) = ([1.0_f64, 1.0], [1.0, -1.0]);
/// storm_sign_step(&mut theta, &mut v, &[2.0, 0.0], &[1.0, 1.0], 0.25, 0.1);
/// assert_eq!(v, [2.0, -1.5]);
/// assert_eq!(theta, [1.0 - 0.1, 1.0 + 0.1]);
/// ```
#[inline]
pub fn storm_sign_step<F: Real>(
    params: &mut [F],
    v: &mut [F],
    g: &[F],
    g_prev: &[F],
    beta: F,
    learning_rate: f64,
) {
    let n = params.len();
    assert!(
        v.len() == n && g.len() == n && g_prev.len() == n,
        "storm_sign_step: length mismatch"
    );
    let keep = F::one() - beta;
    let step = F::from_f64(-learning_rate);
    for (((p, vi), &gi), &pi) in params.iter_mut().zip(v.iter_mut()).zip(g).zip(g_prev) {
        let fresh = gi + keep * (*vi - pi);
        *vi = fresh;
        *p = *p + sign(fresh) * step;
    }
}

/// The blended finite-sum estimator of SSVR-FS, fused (spec §2.3):
/// `v ← (1 − β)(v + g − g_prev) + β(g − g_snap + μ)`.
///
/// `β = 0` is the SARAH/SPIDER recursion, `β = 1` the SVRG estimator.
///
/// # Panics
/// If the slices differ in length (a programmer error).
#[inline]
pub fn sarah_svrg_combine<F: Real>(
    v: &mut [F],
    g: &[F],
    g_prev: &[F],
    g_snap: &[F],
    mu: &[F],
    beta: F,
) {
    let n = v.len();
    assert!(
        g.len() == n && g_prev.len() == n && g_snap.len() == n && mu.len() == n,
        "sarah_svrg_combine: length mismatch"
    );
    let keep = F::one() - beta;
    for i in 0..n {
        v[i] = keep * (v[i] + g[i] - g_prev[i]) + beta * (g[i] - g_snap[i] + mu[i]);
    }
}

/// The stochastic sign `S_R` (spec §2.4): coordinate `k` is `+1` with probability
/// `(1 + v_k/R)/2`, else `−1`, so `E[S_R(v)] = v/R` for `|v_k| ≤ R`. Inputs outside
/// `[−R, R]` are clipped first (documented deviation: the theory assumes `‖v‖_∞ ≤ R`).
/// Draws one uniform per coordinate from `rng`, in index order.
///
/// # Panics
/// If `out.len() != v.len()` (a programmer error).
pub fn stochastic_sign_into<F: Real>(v: &[F], radius: f64, rng: &mut GdRng, out: &mut [F]) {
    assert_eq!(v.len(), out.len(), "stochastic_sign_into: length mismatch");
    for (o, &x) in out.iter_mut().zip(v) {
        let r = (x.as_f64() / radius).clamp(-1.0, 1.0);
        let p_plus = 0.5 * (1.0 + r);
        let u: f64 = rng.random::<f64>();
        *o = if u < p_plus { F::one() } else { -F::one() };
    }
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact values: `==` is a deliberate bitwise check
mod tests {
    use super::*;
    use gdlab_core::Seed;

    #[test]
    fn sign_conventions() {
        assert!(sign(-0.0_f64) == 0.0);
        assert!(sign(3.0_f32) == 1.0);
    }

    #[test]
    fn combines_reduce_to_their_special_cases() {
        let (g, gp, gs, mu) = ([1.0, 2.0], [0.5, -1.0], [0.25, 0.0], [3.0, -2.0]);
        // β = 1: STORM is plain SGD.
        let mut v = [9.0, 9.0];
        storm_combine(&mut v, &g, &gp, 1.0);
        assert!(v == g);
        // β = 0: the blend is SARAH; β = 1: SVRG.
        let mut sarah = [4.0, 5.0];
        sarah_svrg_combine(&mut sarah, &g, &gp, &gs, &mu, 0.0);
        assert!(sarah == [4.0 + 1.0 - 0.5, 5.0 + 2.0 + 1.0]);
        let mut svrg = [4.0, 5.0];
        sarah_svrg_combine(&mut svrg, &g, &gp, &gs, &mu, 1.0);
        assert!(svrg == [1.0 - 0.25 + 3.0, 2.0 - 0.0 - 2.0]);
    }

    #[test]
    fn fused_ssvr_step_equals_the_three_passes_bitwise() {
        use gdlab_core::transform::{apply_update, StepCtx, Transform};
        let n = 29;
        let f = |k: usize, i: usize| match (i + k) % 5 {
            0 => 0.0_f32,
            _ => ((i * 7 + k * 3) as f32 * 0.43).sin() * 2.0,
        };
        let (beta, lr) = (0.1_f32, 1e-2);
        let opt = crate::alias::sign_sgd(lr).unwrap();
        let (mut theta_a, mut v_a) = ((0..n).map(|i| f(9, i)).collect::<Vec<_>>(), vec![0.5; n]);
        let (mut theta_b, mut v_b) = (theta_a.clone(), v_a.clone());
        for k in 0..4 {
            let g: Vec<f32> = (0..n).map(|i| f(k, i)).collect();
            let gp: Vec<f32> = (0..n).map(|i| f(k + 11, i)).collect();
            storm_sign_step(&mut theta_a, &mut v_a, &g, &gp, beta, lr);
            storm_combine(&mut v_b, &g, &gp, beta);
            let mut u = v_b.clone();
            opt.update(&mut u, &mut ((), ()), &StepCtx::new(k as u64, &theta_b))
                .unwrap();
            apply_update(&mut theta_b, &u).unwrap();
        }
        assert!(v_a
            .iter()
            .zip(&v_b)
            .all(|(a, b)| a.to_bits() == b.to_bits()));
        assert!(theta_a
            .iter()
            .zip(&theta_b)
            .all(|(a, b)| a.to_bits() == b.to_bits()));
    }

    #[test]
    fn stochastic_sign_is_unbiased() {
        // E[S_R(v)] = v/R: with 200 000 draws the mean is within 5 standard errors
        // (std of one draw ≤ 1, so 5/√200000 ≈ 0.0112).
        let v = [0.3_f64, -1.2, 0.0, 2.0];
        let r = 2.0;
        let mut rng = Seed(11).rng();
        let mut acc = [0.0; 4];
        let mut out = [0.0; 4];
        let n = 200_000;
        for _ in 0..n {
            stochastic_sign_into(&v, r, &mut rng, &mut out);
            for k in 0..4 {
                acc[k] += out[k];
            }
        }
        for k in 0..4 {
            let mean = acc[k] / f64::from(n);
            assert!(
                (mean - v[k] / r).abs() < 5.0 / f64::from(n).sqrt(),
                "{k}: {mean}"
            );
        }
    }
}
