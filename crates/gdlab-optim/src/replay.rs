//! Replaying an optimizer on a given sequence of gradients.
//!
//! This is how gdlab's optimizers are checked step by step against PyTorch, optax or a NumPy
//! transcription: feed both the same initial parameters and the same gradients, compare the
//! trajectories.
//!
//! Transform-only optimizers take one gradient row per step ([`replay`]). The
//! variance-reduced ones evaluate one sample at several points, so each step takes several
//! rows, in the order given by [`row_layout`]:
//!
//! | optimizer | rows per step `k` | rows of step `t` |
//! |---|---|---|
//! | transform-only (`sgd`, `adam`, `sign_sgd`, ...) | 1 | `g_t` |
//! | `ssvr` ([`replay_storm`]) | 2 | `g_t = ∇f(x_t; ξ_t)`, `g_prev_t = ∇f(x_{t−1}; ξ_t)` |
//! | `ssvr_fs` ([`replay_finite_sum_vr`]) | 4 | `g_t`, `g_prev_t`, `g_snap_t = ∇f_{S_t}(x̃)`, `mu_t` |
//!
//! Rows a step does not use are ignored (they must still be there, with the right length);
//! which ones is stated on each function. The arithmetic is the estimators' own
//! ([`crate::kernel::storm_combine`], [`crate::kernel::sarah_svrg_combine`]), so a replay of
//! the gradients an estimator evaluated reproduces its trajectory bit for bit.

use gdlab_core::transform::{apply_update, check_len, StepCtx, Transform};
use gdlab_core::{ConfigError, Real, StepError};

use crate::error::{ReplayError, SpecError};
use crate::estimator::{FiniteSumVr, Storm};
use crate::kernel::{sarah_svrg_combine, storm_combine};
use crate::spec::OptimizerSpec;

/// Row names of one step's gradients for transform-only optimizers.
const ROWS_PLAIN: &[&str] = &["g_t"];
/// Row names of one step's gradients for `ssvr`.
const ROWS_STORM: &[&str] = &["g_t", "g_prev_t"];
/// Row names of one step's gradients for `ssvr_fs`.
const ROWS_FINITE_SUM: &[&str] = &["g_t", "g_prev_t", "g_snap_t", "mu_t"];

/// The gradient rows one replayed step of `spec` takes, in order (their number is `k` in
/// the shape `(n_steps, k, dim)`): `["g_t"]` for transform-only optimizers,
/// `["g_t", "g_prev_t"]` for `ssvr`, `["g_t", "g_prev_t", "g_snap_t", "mu_t"]` for `ssvr_fs`.
///
/// # Examples
/// ```
/// use gdlab_optim::{replay::row_layout, OptimizerSpec};
/// let s: OptimizerSpec = "ssvr(lr=1e-3)".parse().unwrap();
/// assert_eq!(row_layout(&s), ["g_t", "g_prev_t"]);
/// ```
#[must_use]
pub fn row_layout(spec: &OptimizerSpec) -> &'static [&'static str] {
    match spec {
        OptimizerSpec::Ssvr { .. } => ROWS_STORM,
        OptimizerSpec::SsvrFiniteSum { .. } => ROWS_FINITE_SUM,
        _ => ROWS_PLAIN,
    }
}

/// Applies `transform` to `params0` with the gradients `grads` (one row per step) and
/// returns the parameters after each step (`grads.len()` rows).
///
/// # Errors
/// [`StepError::Dim`] when a gradient row's length differs from the parameters'.
///
/// # Examples
/// ```
/// use gdlab_optim::{alias::sgd, replay::replay, transform::MomentumConfig};
/// let opt = sgd(0.5, MomentumConfig::default(), 0.0).unwrap();
/// let traj = replay(&opt, &[1.0_f64], &[vec![1.0], vec![1.0]]).unwrap();
/// assert_eq!(traj, vec![vec![0.5], vec![0.0]]);
/// ```
pub fn replay<F: Real, T: Transform<F>>(
    transform: &T,
    params0: &[F],
    grads: &[Vec<F>],
) -> Result<Vec<Vec<F>>, StepError> {
    let mut params = params0.to_vec();
    let mut state = transform.init(&params);
    let mut out = Vec::with_capacity(grads.len());
    for (step, g) in grads.iter().enumerate() {
        check_len("replay: gradient row", params.len(), g.len())?;
        let mut u = g.clone();
        transform.update(&mut u, &mut state, &StepCtx::new(step as u64, &params))?;
        apply_update(&mut params, &u)?;
        out.push(params.clone());
    }
    Ok(out)
}

/// Checks that step `step` has `layout.len()` rows of length `dim`.
fn check_step<F>(
    optimizer: &'static str,
    layout: &'static [&'static str],
    step: usize,
    rows: &[Vec<F>],
    dim: usize,
) -> Result<(), ReplayError> {
    let shape = |got: String| ReplayError::Shape {
        optimizer,
        rows: layout.len(),
        layout: match layout.len() {
            1 => "g_t",
            2 => "g_t, g_prev_t",
            _ => "g_t, g_prev_t, g_snap_t, mu_t",
        },
        step,
        got,
    };
    if rows.len() != layout.len() {
        return Err(shape(format!("{} rows", rows.len())));
    }
    if let Some((i, r)) = rows.iter().enumerate().find(|(_, r)| r.len() != dim) {
        return Err(shape(format!(
            "row {} ({}) of length {} (dim = {dim})",
            i,
            layout[i],
            r.len()
        )));
    }
    Ok(())
}

/// Applies the direction `v_t` through `transform` and records the parameters.
fn step_with<F: Real, T: Transform<F>>(
    transform: &T,
    state: &mut T::State,
    step: usize,
    v: &[F],
    params: &mut [F],
    out: &mut Vec<Vec<F>>,
) -> Result<(), StepError> {
    let mut u = v.to_vec();
    transform.update(&mut u, state, &StepCtx::new(step as u64, params))?;
    apply_update(params, &u)?;
    out.push(params.to_vec());
    Ok(())
}

/// Replays SSVR's estimator ([`Storm`]) followed by `transform` (for SSVR, the
/// [`sign_sgd`](crate::alias::sign_sgd) of the same alias: `sign`, then `−η`).
///
/// Step `t` (0-based) takes the rows `[g_t, g_prev_t]` with `g_t = ∇f(x_t; ξ_t)` and
/// `g_prev_t = ∇f(x_{t−1}; ξ_t)` on the **same** sample ξ_t:
///
/// $$ v_0 = g_0, \qquad v_t = g_t + (1-\beta)\,(v_{t-1} - g^{\text{prev}}_t)\ (t \ge 1),
///    \qquad x_{t+1} = x_t + \mathrm{transform}(v_t) $$
///
/// `g_prev_0` is ignored (there is no `x_{−1}`). `β` is the fresh-gradient weight (the
/// old estimate's weight, a "momentum", is `1 − β`). The batch sizes `B₀`, `B` of the
/// estimator play no role: each row is already the minibatch mean.
///
/// # Errors
/// [`ReplayError::Shape`] when a step does not have 2 rows of the parameters' length;
/// [`ReplayError::Step`] from the transform.
///
/// # Examples
/// ```
/// use gdlab_optim::{alias::ssvr, estimator::StormConfig, replay::replay_storm};
/// let (storm, sign) = ssvr(0.1, StormConfig { beta: 0.5, ..Default::default() }).unwrap();
/// // v₀ = g₀ = 1 → x₁ = −0.1; v₁ = −1 + 0.5·(1 − 3) = −2 → x₂ = 0.
/// let traj = replay_storm(&storm, &sign, &[0.0_f64],
///                         &[vec![vec![1.0], vec![9.0]], vec![vec![-1.0], vec![3.0]]]).unwrap();
/// assert_eq!(traj, vec![vec![-0.1], vec![0.0]]);
/// ```
pub fn replay_storm<F: Real, T: Transform<F>>(
    estimator: &Storm,
    transform: &T,
    params0: &[F],
    grads: &[Vec<Vec<F>>],
) -> Result<Vec<Vec<F>>, ReplayError> {
    let beta = F::from_f64(estimator.config().beta);
    let mut params = params0.to_vec();
    let mut state = transform.init(&params);
    let mut v: Vec<F> = Vec::new();
    let mut out = Vec::with_capacity(grads.len());
    for (step, rows) in grads.iter().enumerate() {
        check_step("ssvr", ROWS_STORM, step, rows, params.len())?;
        if step == 0 {
            v.clone_from(&rows[0]);
        } else {
            storm_combine(&mut v, &rows[0], &rows[1], beta);
        }
        step_with(transform, &mut state, step, &v, &mut params, &mut out)?;
    }
    Ok(out)
}

/// Replays SSVR-FS's estimator ([`FiniteSumVr`]) followed by `transform` (`sign`, then
/// `−η` for SSVR-FS), with the checkpoint and reset semantics of the estimator.
///
/// Step `t` (0-based) takes the rows `[g_t, g_prev_t, g_snap_t, mu_t]`: `g_t = ∇f_{S_t}(x_t)`,
/// `g_prev_t = ∇f_{S_t}(x_{t−1})`, `g_snap_t = ∇f_{S_t}(x̃)` on one minibatch `S_t`, and
/// `mu_t = ∇f(x_t)`, the full gradient. With `I = period`:
///
/// * **checkpoint** (`t mod I = 0`): `x̃ := x_t`, `μ := mu_t`. With
///   `reset_at_checkpoint` (and always at `t = 0`) `v_t = μ`, and `g_t`, `g_prev_t`,
///   `g_snap_t` are ignored. Without reset the recursion continues with the SVRG term
///   evaluated at `x̃ = x_t`, i.e. `g_snap_t` is taken to be `g_t` (the given `g_snap_t` is
///   ignored) and the term equals `μ` exactly.
/// * **otherwise**: `mu_t` is ignored (`μ` stays the last checkpoint's) and
///
/// $$ v_t = (1-\beta)\,(v_{t-1} + g_t - g^{\text{prev}}_t) + \beta\,(g_t - g^{\text{snap}}_t + \mu) $$
///
/// then `x_{t+1} = x_t + transform(v_t)`. `β = 0` is SARAH/SPIDER, `β = 1` SVRG.
///
/// # Errors
/// [`ReplayError::Spec`] when the estimator's `period` is 0 (its default, "one pass over
/// the data", needs the data: give the period explicitly); [`ReplayError::Shape`] when a step
/// does not have 4 rows of the parameters' length; [`ReplayError::Step`] from the transform.
pub fn replay_finite_sum_vr<F: Real, T: Transform<F>>(
    estimator: &FiniteSumVr,
    transform: &T,
    params0: &[F],
    grads: &[Vec<Vec<F>>],
) -> Result<Vec<Vec<F>>, ReplayError> {
    let cfg = estimator.config();
    if cfg.period == 0 {
        return Err(ConfigError::OutOfRangeInt {
            field: "period",
            value: 0,
            allowed: "[1, ∞) for a replay (0 means one pass over the data, which a replay does not have)",
        }
        .into());
    }
    let period = cfg.period;
    let beta = F::from_f64(cfg.beta);
    let mut params = params0.to_vec();
    let mut state = transform.init(&params);
    let mut v: Vec<F> = Vec::new();
    let mut mu: Vec<F> = Vec::new();
    let mut out = Vec::with_capacity(grads.len());
    for (step, rows) in grads.iter().enumerate() {
        check_step("ssvr_fs", ROWS_FINITE_SUM, step, rows, params.len())?;
        let (g, g_prev, g_snap, mu_t) = (&rows[0], &rows[1], &rows[2], &rows[3]);
        let checkpoint = step % period == 0;
        if checkpoint {
            mu.clone_from(mu_t);
        }
        if checkpoint && (cfg.reset_at_checkpoint || v.is_empty()) {
            v.clone_from(&mu);
        } else {
            // At a checkpoint x̃ = x_t, so ∇f_S(x̃) = g_t.
            let g_snap = if checkpoint { g } else { g_snap };
            sarah_svrg_combine(&mut v, g, g_prev, g_snap, &mu, beta);
        }
        step_with(transform, &mut state, step, &v, &mut params, &mut out)?;
    }
    Ok(out)
}

/// Replays any optimizer given as a spec, with `grads[t]` holding the
/// [`row_layout`]`(spec)` rows of step `t` (one row for transform-only optimizers).
///
/// Dispatches to [`replay`], [`replay_storm`] or [`replay_finite_sum_vr`]; for `ssvr` and
/// `ssvr_fs` the transform is the spec's `sign → −η`.
///
/// # Errors
/// [`ReplayError::Spec`] for an invalid spec (or `ssvr_fs` with `period = 0`);
/// [`ReplayError::Shape`] for mis-shaped gradients; [`ReplayError::Step`] from a block.
///
/// # Examples
/// ```
/// use gdlab_optim::{replay::replay_spec, OptimizerSpec};
/// let s: OptimizerSpec = "ssvr_fs(lr=0.5,beta=0,period=2)".parse().unwrap();
/// // t = 0: checkpoint, v = μ = 1 → x = −0.5. t = 1: v = 1 + 2 − 4 = −1 → x = 0.
/// let g = vec![vec![vec![7.0], vec![7.0], vec![7.0], vec![1.0]],
///              vec![vec![2.0], vec![4.0], vec![7.0], vec![7.0]]];
/// assert_eq!(replay_spec(&s, &[0.0_f64], &g).unwrap(), vec![vec![-0.5], vec![0.0]]);
/// ```
pub fn replay_spec<F: Real>(
    spec: &OptimizerSpec,
    params0: &[F],
    grads: &[Vec<Vec<F>>],
) -> Result<Vec<Vec<F>>, ReplayError> {
    let (_, transform) = spec.build_with_estimator::<F>()?;
    match spec {
        OptimizerSpec::Ssvr { estimator, .. } => {
            let storm = estimator.build().map_err(SpecError::from)?;
            replay_storm(&storm, &transform, params0, grads)
        }
        OptimizerSpec::SsvrFiniteSum { estimator, .. } => {
            let fs = estimator.build().map_err(SpecError::from)?;
            replay_finite_sum_vr(&fs, &transform, params0, grads)
        }
        _ => {
            let optimizer = spec.name();
            let mut rows = Vec::with_capacity(grads.len());
            for (step, r) in grads.iter().enumerate() {
                check_step(optimizer, ROWS_PLAIN, step, r, params0.len())?;
                rows.push(r[0].clone());
            }
            Ok(replay(&transform, params0, &rows)?)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alias;
    use crate::estimator::{FiniteSumVrConfig, StormConfig};

    fn spec(s: &str) -> OptimizerSpec {
        s.parse().unwrap()
    }

    #[test]
    fn new_public_types_are_send_sync_debug() {
        fn check<T: Send + Sync + std::fmt::Debug>() {}
        check::<ReplayError>();
        check::<crate::spec::EstimatorSpec>();
    }

    #[test]
    fn storm_beta_one_is_sign_sgd_and_ignores_g_prev() {
        let g = [
            vec![1.0_f64, -2.0, 0.0],
            vec![-3.0, 0.5, 0.0],
            vec![0.0, 4.0, -1.0],
        ];
        let vr: Vec<Vec<Vec<f64>>> = g.iter().map(|r| vec![r.clone(), vec![9.0; 3]]).collect();
        let a = replay_spec(&spec("ssvr(lr=0.1,beta=1)"), &[0.0; 3], &vr).unwrap();
        let b = replay(&alias::sign_sgd(0.1).unwrap(), &[0.0; 3], &g).unwrap();
        assert!(a == b);
    }

    #[test]
    fn finite_sum_reset_and_continue_differ_only_after_a_checkpoint() {
        let row = |a: f64, b: f64, c: f64, d: f64| vec![vec![a], vec![b], vec![c], vec![d]];
        let g = vec![
            row(5.0, 5.0, 5.0, 1.0),   // t=0: checkpoint, v = μ = 1
            row(2.0, 1.0, 0.5, 99.0),  // t=1: v = 0.5(1+2−1) + 0.5(2−0.5+1) = 2.25
            row(-4.0, 1.0, 9.0, -1.0), // t=2: checkpoint, μ = −1
        ];
        let reset = replay_spec(&spec("ssvr_fs(lr=1,beta=0.5,period=2)"), &[0.0], &g).unwrap();
        // reset: v₂ = μ = −1 → x₃ = −1 − 1 + 1.
        assert!(reset == vec![vec![-1.0], vec![-2.0], vec![-1.0]]);
        let cont = replay_spec(
            &spec("ssvr_fs(lr=1,beta=0.5,period=2,reset_at_checkpoint=false)"),
            &[0.0],
            &g,
        )
        .unwrap();
        // continue: v₂ = 0.5(2.25 − 4 − 1) + 0.5(−4 − (−4) − 1) = −1.375 − 0.5 < 0.
        assert!(cont == vec![vec![-1.0], vec![-2.0], vec![-1.0]]);
        let g2 = vec![g[0].clone(), g[1].clone(), row(10.0, 1.0, 9.0, -1.0)];
        // continue: v₂ = 0.5(2.25 + 10 − 1) + 0.5(−1) > 0 while reset gives μ < 0.
        let c2 = replay_spec(
            &spec("ssvr_fs(lr=1,beta=0.5,period=2,reset_at_checkpoint=false)"),
            &[0.0],
            &g2,
        )
        .unwrap();
        assert!(c2[2] == vec![-3.0]);
    }

    #[test]
    fn shapes_and_period_are_checked() {
        let s = spec("ssvr(lr=0.1)");
        let e = replay_spec(&s, &[0.0_f64; 2], &[vec![vec![1.0, 2.0]]]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "gradients for `ssvr` must have shape (n_steps, 2, dim) with rows [g_t, g_prev_t]; \
             step 0 has 1 rows"
        );
        let e = replay_spec(
            &s,
            &[0.0_f64; 2],
            &[
                vec![vec![1.0, 2.0], vec![1.0, 2.0]],
                vec![vec![1.0, 2.0], vec![1.0]],
            ],
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("step 1 has row 1 (g_prev_t) of length 1 (dim = 2)"),
            "{e}"
        );
        let e = replay_spec(&spec("ssvr_fs(lr=0.1)"), &[0.0_f64], &[]).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("`period` must be in [1, ∞) for a replay"),
            "{e}"
        );
        let e = replay_spec(
            &spec("sgd(lr=0.1)"),
            &[0.0_f64],
            &[vec![vec![1.0], vec![1.0]]],
        )
        .unwrap_err();
        assert!(e.to_string().contains("(n_steps, 1, dim)"), "{e}");
        // The generic functions check too.
        let fs = FiniteSumVrConfig {
            period: 2,
            ..Default::default()
        }
        .build()
        .unwrap();
        let sign = alias::sign_sgd(0.1).unwrap();
        assert!(replay_finite_sum_vr(&fs, &sign, &[0.0_f32], &[vec![vec![1.0]; 3]]).is_err());
        let st = StormConfig::default().build().unwrap();
        assert!(replay_storm(&st, &sign, &[0.0_f32], &[vec![vec![1.0]; 4]]).is_err());
    }
}
