//! One conformance suite for all optimizers (after optax's `alias_test`).
//!
//! Each row of [`rows`] must: converge on a quadratic and on Rosenbrock within a budget;
//! keep its state's shape; give identical trajectories from a cloned state; survive a zero
//! gradient without NaN; match its reference fixture (PyTorch for sgd/adam/adamw, the NumPy
//! transcription for the sign methods) for 12 steps at `rel ≤ 1e-12` in f64; round-trip its
//! spec through text and serde; and agree in f32 with its f64 run at `rel ≤ 1e-5`.
//!
//! The variance-reduced optimizers (`ssvr`, `ssvr_fs`) are an estimator plus a transform, so
//! they have their own section at the end ("estimator-level conformance"): replayed
//! trajectories against the NumPy transcription (f64 and f32), convergence on a finite sum
//! through the estimator, the SVRG special case, the same-sample property, cloned estimator
//! state, and the theory schedule's closed form.
//!
//! The PyTorch fixture `tests/fixtures/torch_optim.json` was produced by
//! `scripts/reference/torch_optim.py` (its `source` object names torch's version and the
//! command). Its core, for each case:
//!
//! ```python
//! p = torch.tensor(params0, requires_grad=True)           # float64
//! opt = torch.optim.Adam([p], lr=..., foreach=False)       # or SGD / AdamW
//! for g in grads:
//!     p.grad = torch.tensor(g); opt.step(); traj.append(p.detach().clone())
//! ```
//!
//! The NumPy fixture `tests/fixtures/numpy_sign_vr.json` was produced by
//! `scripts/reference/sign_vr_numpy.py`, a transcription of the spec's pseudocode
//! (`sign-methods-ssvr.md` §2.1–2.3), not of our Rust. Its core:
//!
//! ```python
//! x = x - lr * np.sign(g)                                          # sign_sgd
//! m = beta * m + (1 - beta) * g; x = x - lr * np.sign(m)           # signum, m0 = 0
//! b = d if t == 0 else mu * b + d; x = x - lr * b                  # heavy ball on d = sign(g),
//!                                                                  #   g/||g||_2, sign(g)*||g||_1
//! v = g if t == 0 else g + (1 - beta) * (v - g_prev)               # ssvr, then x -= lr*sign(v)
//! if t % period == 0:                                              # ssvr_fs
//!     mu = mu_t
//!     v = mu if reset or v is None else (1 - beta) * (v + g - g_prev) + beta * mu
//! else:
//!     v = (1 - beta) * (v + g - g_prev) + beta * (g - g_snap + mu)
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)] // test helpers

use std::sync::Mutex;

use gdlab_core::error::ObserveError;
use gdlab_core::objective::{
    DiagonalQuadraticSum, FiniteSum, MinibatchOracle, Objective, Rosenbrock, StochasticOracle,
};
use gdlab_core::runner::{Observer, Runner, StepRecord, Stop};
use gdlab_core::schedule::ScheduleSpec;
use gdlab_core::tol::{REL_F32_PEER, REL_INDEPENDENT_F64};
use gdlab_core::transform::{BoxedTransform, StepCtx, Transform};
use gdlab_core::{assert_close, GdRng, Real, Seed, TransformExt};
use gdlab_optim::alias;
use gdlab_optim::estimator::{
    run_estimator, FiniteSumVrConfig, GradientEstimator, Minibatch, StormConfig,
    StormTheorySchedule,
};
use gdlab_optim::kernel::sign;
use gdlab_optim::replay::{replay, replay_finite_sum_vr, replay_spec, replay_storm};
use gdlab_optim::spec::EstimatorSpec;
use gdlab_optim::transform::{Scale, ScaleByLearningRate};
use gdlab_optim::OptimizerSpec;
use serde::Deserialize;

/// One optimizer of the suite.
///
/// **Targets.** Methods that converge to the optimum (sgd, adam, `rescaled_sign`) must reach
/// `f* + 1e-10` on the quadratic. Sign methods with a constant step only reach a limit cycle
/// around the optimum: each coordinate moves by ±η per step (η/(1 − μ) with a heavy-ball
/// buffer on signs; a step of ℓ2 length η for `normalized_gd`), so once every coordinate is
/// within `η_eff` of `x*` the gap is below the closed-form bound `½ Σ_j H_jj η_eff²`
/// = `2.5·η_eff²` for [`quadratic`] (`H = diag(1.5, 2.5, 1.0)`); their `quadratic_gap` is
/// that bound.
///
/// On Rosenbrock, signSGD with a constant step is caught in a limit cycle of the lattice
/// `x₀ + ηZ²` away from the optimum (from (−1, 1.5) with η = 1e-3 it stalls at (0.7, 0.49),
/// loss 0.09, in a NumPy check), so no constant-step target of order η exists there. The
/// sign rows therefore use the exponential step decay `η_t = η₀·γ^t`
/// (`rosenbrock_decay = (η₀, γ)`, total path `η₀/(1 − γ)`) on top of their spec written
/// with `lr = 1`, and must reach the same `1e-6` as the other rows.
struct Row {
    name: &'static str,
    /// Spec for the quadratic and the unit tests (cloned state, shapes, zero gradient).
    quadratic: &'static str,
    /// Loss target on the quadratic, above its minimum.
    quadratic_gap: f64,
    /// Spec for Rosenbrock.
    rosenbrock: &'static str,
    /// `(η₀, γ)`: run `rosenbrock` (written with `lr=1`) with `η_t = η₀·γ^t`.
    rosenbrock_decay: Option<(f64, f64)>,
    /// Step budget on Rosenbrock (target loss 1e-6).
    rosenbrock_budget: u64,
}

const fn row(
    name: &'static str,
    quadratic: &'static str,
    quadratic_gap: f64,
    rosenbrock: &'static str,
    rosenbrock_decay: Option<(f64, f64)>,
    rosenbrock_budget: u64,
) -> Row {
    Row {
        name,
        quadratic,
        quadratic_gap,
        rosenbrock,
        rosenbrock_decay,
        rosenbrock_budget,
    }
}

fn rows() -> Vec<Row> {
    vec![
        row("sgd", "sgd(lr=0.1)", 1e-10, "sgd(lr=1e-3)", None, 200_000),
        row(
            "momentum",
            "sgd(lr=0.1,momentum=0.9)",
            1e-10,
            "sgd(lr=1e-3,momentum=0.9)",
            None,
            50_000,
        ),
        row(
            "nesterov",
            "sgd(lr=0.1,momentum=0.9,nesterov=true)",
            1e-10,
            "sgd(lr=1e-3,momentum=0.9,nesterov=true)",
            None,
            50_000,
        ),
        row(
            "adam",
            "adam(lr=0.05)",
            1e-10,
            "adam(lr=0.02)",
            None,
            50_000,
        ),
        row(
            "adam_amsgrad",
            "adam(lr=0.05,amsgrad=true)",
            1e-10,
            "adam(lr=0.02,amsgrad=true)",
            None,
            50_000,
        ),
        row(
            "adamw",
            "adamw(lr=0.05,weight_decay=0)",
            1e-10,
            "adamw(lr=0.02,weight_decay=0)",
            None,
            50_000,
        ),
        // Quadratic: η = 1e-3, gap bound 2.5·η² (met after ~6 600 steps).
        // Rosenbrock: η₀ = 1e-2, γ = 0.9995 (NumPy calibration: 1e-6 after ~17 000 steps).
        row(
            "sign_sgd",
            "sign_sgd(lr=1e-3)",
            2.5e-6,
            "sign_sgd(lr=1)",
            Some((1e-2, 0.9995)),
            50_000,
        ),
        // Signum moves each coordinate by ±η like signSGD: same bound. Rosenbrock ~11 000.
        row(
            "signum",
            "signum(lr=1e-3,momentum=0.9)",
            2.5e-6,
            "signum(lr=1,momentum=0.9)",
            Some((1e-2, 0.9995)),
            50_000,
        ),
        // Heavy ball on signs: η_eff = η/(1 − μ) = 1e-3. Rosenbrock ~7 000.
        row(
            "sign_momentum",
            "sign_momentum(lr=1e-4,momentum=0.9)",
            2.5e-6,
            "sign_momentum(lr=1,momentum=0.9)",
            Some((1e-3, 0.9995)),
            50_000,
        ),
        // Steps of ℓ2 length η: ‖x − x*‖₂ ≤ η gives gap ≤ ½·2.5·η² < 2.5·η² (~9 700 steps).
        // Rosenbrock ~9 400.
        row(
            "normalized_gd",
            "normalized_gd(lr=1e-3)",
            2.5e-6,
            "normalized_gd(lr=1)",
            Some((1e-2, 0.9995)),
            50_000,
        ),
        // sign(g)·‖g‖₁ is steepest descent for ‖·‖_∞: the step vanishes with the gradient, so
        // it converges to the optimum with a constant step (Rosenbrock ~56 000 steps).
        row(
            "rescaled_sign",
            "rescaled_sign(lr=0.05)",
            1e-10,
            "rescaled_sign(lr=2e-4)",
            None,
            200_000,
        ),
    ]
}

fn spec(text: &str) -> OptimizerSpec {
    text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn quadratic() -> DiagonalQuadraticSum {
    DiagonalQuadraticSum {
        curvatures: vec![vec![1.0, 4.0, 0.5], vec![2.0, 1.0, 1.5]],
        centres: vec![vec![1.0, -2.0, 0.5], vec![3.0, 0.0, -1.0]],
    }
}

#[test]
fn converges_on_quadratic() {
    let f = quadratic();
    for r in rows() {
        let (name, s) = (r.name, r.quadratic);
        let t = spec(s).build::<f64>().unwrap();
        let mut x = vec![5.0, 5.0, 5.0];
        let out = Runner::new(20_000)
            .target_loss(f.loss(&f.minimizer()) + r.quadratic_gap)
            .run(
                &t,
                &mut x,
                |_, p: &[f64], g: &mut [f64]| f.loss_grad(p, g),
                &mut [],
            )
            .unwrap();
        assert!(
            matches!(out.stop, Stop::TargetLoss { .. }),
            "{name}: {out:?}"
        );
    }
}

/// `rosenbrock` as written, or (with `lr = 1`) followed by `·(−1)` and the decayed `−η₀γ^t`.
fn rosenbrock_transform(r: &Row) -> BoxedTransform<f64> {
    let t = spec(r.rosenbrock).build::<f64>().unwrap();
    match r.rosenbrock_decay {
        None => t,
        Some((init, rate)) => {
            let sched = ScheduleSpec::Exponential {
                init,
                rate,
                every: 1,
                staircase: false,
            }
            .build()
            .unwrap();
            BoxedTransform::new(
                t.then(Scale(-1.0))
                    .then(ScaleByLearningRate::scheduled(sched)),
            )
        }
    }
}

#[test]
fn converges_on_rosenbrock() {
    let f = Rosenbrock { dim: 2 };
    for r in rows() {
        let t = rosenbrock_transform(&r);
        let mut x = vec![-1.0, 1.5];
        let out = Runner::new(r.rosenbrock_budget)
            .target_loss(1e-6)
            .run(
                &t,
                &mut x,
                |_, p: &[f64], g: &mut [f64]| f.loss_grad(p, g),
                &mut [],
            )
            .unwrap();
        assert!(
            matches!(out.stop, Stop::TargetLoss { .. }),
            "{}: {out:?} at {x:?}",
            r.name
        );
    }
}

fn trajectory<T: Transform<f64>>(t: &T, state: &mut T::State, x0: &[f64], n: u64) -> Vec<f64> {
    let f = quadratic();
    let mut x = x0.to_vec();
    let mut g = vec![0.0; x.len()];
    let mut out = Vec::new();
    for step in 0..n {
        f.loss_grad(&x, &mut g);
        t.update(&mut g, state, &StepCtx::new(step, &x)).unwrap();
        gdlab_core::transform::apply_update(&mut x, &g).unwrap();
        out.extend_from_slice(&x);
    }
    out
}

#[test]
fn cloned_state_replays_bitwise() {
    for Row {
        name, quadratic: s, ..
    } in rows()
    {
        let t = spec(s).build::<f64>().unwrap();
        let x0 = [0.3, -0.2, 1.0];
        let mut state = t.init(&x0);
        let _ = trajectory(&t, &mut state, &x0, 5);
        let mut copy = state.clone();
        let a = trajectory(&t, &mut state, &x0, 7);
        let b = trajectory(&t, &mut copy, &x0, 7);
        assert_eq!(a, b, "{name}");
    }
}

#[test]
fn state_shape_is_kept_and_mismatch_is_an_error() {
    for Row {
        name, quadratic: s, ..
    } in rows()
    {
        let t = spec(s).build::<f64>().unwrap();
        let x0 = [0.3, -0.2, 1.0];
        let mut state = t.init(&x0);
        let _ = trajectory(&t, &mut state, &x0, 3);
        // A wrong-length update is rejected by every block that checks it, never a panic.
        let mut short = vec![1.0; 2];
        let err = t.update(&mut short, &mut state, &StepCtx::new(3, &x0));
        assert!(err.is_err(), "{name}: wrong length accepted");
        // And the state still works at the right length.
        let _ = trajectory(&t, &mut state, &x0, 2);
    }
}

#[test]
fn zero_gradient_gives_no_nan() {
    for Row {
        name, quadratic: s, ..
    } in rows()
    {
        let t = spec(s).build::<f64>().unwrap();
        let x = [0.0; 4];
        let mut state = t.init(&x);
        for step in 0..3 {
            let mut g = [0.0; 4];
            t.update(&mut g, &mut state, &StepCtx::new(step, &x))
                .unwrap();
            assert!(
                g.iter().all(|v| v.is_finite() && *v == 0.0),
                "{name}: {g:?}"
            );
        }
    }
}

#[test]
fn spec_round_trips() {
    for Row {
        name, quadratic: s, ..
    } in rows()
    {
        let a = spec(s);
        assert_eq!(spec(&a.to_string()), a, "{name}");
        let j = serde_json::to_string(&a).unwrap();
        assert_eq!(
            serde_json::from_str::<OptimizerSpec>(&j).unwrap(),
            a,
            "{name}"
        );
    }
}

fn run_typed<F: Real>(s: &OptimizerSpec, x0: &[f64], grads: &[Vec<f64>]) -> Vec<f64> {
    let t = s.build::<F>().unwrap();
    let p: Vec<F> = x0.iter().map(|&v| F::from_f64(v)).collect();
    let g: Vec<Vec<F>> = grads
        .iter()
        .map(|r| r.iter().map(|&v| F::from_f64(v)).collect())
        .collect();
    replay(&t, &p, &g)
        .unwrap()
        .concat()
        .into_iter()
        .map(Real::as_f64)
        .collect()
}

#[derive(Deserialize)]
struct Fixture {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    spec: String,
    params0: Vec<f64>,
    grads: Vec<Vec<f64>>,
    params: Vec<Vec<f64>>,
    /// torch's float32 trajectory from the inputs rounded to float32.
    params_f32: Vec<Vec<f64>>,
}

fn fixture() -> Fixture {
    let text = include_str!("fixtures/torch_optim.json");
    serde_json::from_str(text).unwrap()
}

#[test]
fn matches_pytorch_f64() {
    let fx = fixture();
    assert_eq!(fx.cases.len(), 12);
    for c in &fx.cases {
        let s = spec(&c.spec);
        let ours = run_typed::<f64>(&s, &c.params0, &c.grads);
        let theirs = c.params.concat();
        if let Err(msg) = gdlab_core::tol::check_close(&ours, &theirs, REL_INDEPENDENT_F64, 0.0) {
            panic!("{} ({}): {msg}", c.name, c.spec);
        }
    }
}

/// Our f32 path against `torch.optim` run in float32 on the same (rounded) inputs: the
/// issue's `rel ≤ 1e-6` in f32. A coordinate that passes near zero loses its relative
/// accuracy to cancellation in either implementation, so the bound also admits an absolute
/// error of 4 f32 ulps of the case's largest parameter (`4·ε₃₂·max|θ|` ≈ 1e-6 here).
#[test]
fn matches_pytorch_f32() {
    let fx = fixture();
    for c in &fx.cases {
        let s = spec(&c.spec);
        let ours = run_typed::<f32>(&s, &c.params0, &c.grads);
        let theirs = c.params_f32.concat();
        let scale = theirs.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
        let abs = 4.0 * f64::from(f32::EPSILON) * scale;
        if let Err(msg) = gdlab_core::tol::check_close(&ours, &theirs, 1e-6, abs) {
            panic!("{} ({}): {msg}", c.name, c.spec);
        }
    }
}

#[test]
fn f32_tracks_f64() {
    let fx = fixture();
    for c in &fx.cases {
        let s = spec(&c.spec);
        let a = run_typed::<f32>(&s, &c.params0, &c.grads);
        let b = run_typed::<f64>(&s, &c.params0, &c.grads);
        // f32 rounding accumulates over 12 steps; an absolute floor covers coordinates near 0.
        assert_close!(a, b, rel = REL_F32_PEER, abs = 1e-5);
    }
}

// ---------------------------------------------------------------------------------------
// NumPy transcription of the sign methods and the variance-reduced replays
// ---------------------------------------------------------------------------------------

#[derive(Deserialize)]
struct NumpyFixture {
    cases: Vec<NumpyCase>,
}

#[derive(Deserialize)]
struct NumpyCase {
    name: String,
    method: String,
    spec: String,
    rows: Vec<String>,
    params0: Vec<f64>,
    /// (n_steps, dim) for transform-only methods, (n_steps, k, dim) for ssvr/ssvr_fs.
    grads: serde_json::Value,
    params: Vec<Vec<f64>>,
}

impl NumpyCase {
    /// The gradients as `(n_steps, k, dim)` (k = 1 for transform-only methods).
    fn grads3(&self) -> Vec<Vec<Vec<f64>>> {
        let num = |v: &serde_json::Value| v.as_f64().unwrap();
        let row = |r: &serde_json::Value| r.as_array().unwrap().iter().map(num).collect();
        self.grads
            .as_array()
            .unwrap()
            .iter()
            .map(|step| {
                if self.rows.len() == 1 {
                    vec![row(step)]
                } else {
                    step.as_array().unwrap().iter().map(row).collect()
                }
            })
            .collect()
    }
}

fn numpy_fixture() -> NumpyFixture {
    serde_json::from_str(include_str!("fixtures/numpy_sign_vr.json")).unwrap()
}

/// Replays a case through [`replay_spec`] in `F`, widened back to f64.
fn replay_case<F: Real>(c: &NumpyCase) -> Vec<f64> {
    let s = spec(&c.spec);
    let p: Vec<F> = c.params0.iter().map(|&v| F::from_f64(v)).collect();
    let g: Vec<Vec<Vec<F>>> = c
        .grads3()
        .iter()
        .map(|st| {
            st.iter()
                .map(|r| r.iter().map(|&v| F::from_f64(v)).collect())
                .collect()
        })
        .collect();
    replay_spec(&s, &p, &g)
        .unwrap()
        .concat()
        .into_iter()
        .map(Real::as_f64)
        .collect()
}

/// Largest `|a − e|/|e|` over elements with `e ≠ 0` (all parameters here are nonzero).
fn max_rel(a: &[f64], e: &[f64]) -> f64 {
    a.iter()
        .zip(e)
        .filter(|(_, e)| **e != 0.0)
        .map(|(a, e)| ((a - e) / e).abs())
        .fold(0.0, f64::max)
}

#[test]
fn numpy_fixture_covers_every_sign_and_vr_method() {
    let fx = numpy_fixture();
    assert!(fx.cases.len() >= 18);
    for method in [
        "sign_sgd",
        "signum",
        "sign_momentum",
        "normalized_gd",
        "rescaled_sign",
        "ssvr",
        "ssvr_fs",
    ] {
        assert!(
            fx.cases.iter().any(|c| c.method == method),
            "{method}: no fixture case"
        );
    }
    for c in &fx.cases {
        assert!(c.params.len() >= 5, "{}: fewer than 5 steps", c.name);
        assert_eq!(
            c.rows,
            gdlab_optim::replay::row_layout(&spec(&c.spec)),
            "{}",
            c.name
        );
    }
    // The SSVR-FS variants the spec asks for: blended and SARAH (β = 0), reset on and off.
    for name in [
        "ssvr_fs_blend_reset",
        "ssvr_fs_blend_continue",
        "ssvr_fs_sarah_reset",
        "ssvr_fs_sarah_continue",
    ] {
        assert!(fx.cases.iter().any(|c| c.name == name), "{name}");
    }
}

/// Every case (12 steps, dim 6) at `rel ≤ 1e-12` in f64. The transform-only cases are also
/// replayed through the row's plain [`replay`] path, which must agree bitwise.
#[test]
fn matches_numpy_f64() {
    let mut worst = 0.0_f64;
    for c in &numpy_fixture().cases {
        let ours = replay_case::<f64>(c);
        let theirs = c.params.concat();
        if let Err(msg) = gdlab_core::tol::check_close(&ours, &theirs, REL_INDEPENDENT_F64, 0.0) {
            panic!("{} ({}): {msg}", c.name, c.spec);
        }
        worst = worst.max(max_rel(&ours, &theirs));
        if c.rows.len() == 1 {
            let plain: Vec<Vec<f64>> = c.grads3().into_iter().map(|mut s| s.remove(0)).collect();
            let direct = run_typed::<f64>(&spec(&c.spec), &c.params0, &plain);
            assert!(direct == ours, "{}: replay and replay_spec differ", c.name);
        }
    }
    eprintln!("max rel difference vs NumPy, f64: {worst:e}");
}

/// f32 runs (inputs rounded to f32) against the NumPy f64 trajectory and against our f64
/// run, at `rel ≤ 1e-5` with an absolute floor of 1e-5 for coordinates near 0. No sign can
/// flip through rounding: the fixture asserts that every nonzero value fed to `sign` has
/// magnitude ≥ 1e-4 (`min_abs_direction`).
#[test]
fn f32_matches_numpy_and_f64() {
    let (mut worst, mut worst_abs) = (0.0_f64, 0.0_f64);
    for c in &numpy_fixture().cases {
        let a = replay_case::<f32>(c);
        let b = replay_case::<f64>(c);
        let theirs = c.params.concat();
        if let Err(msg) = gdlab_core::tol::check_close(&a, &theirs, REL_F32_PEER, 1e-5) {
            panic!("{} ({}) f32 vs NumPy: {msg}", c.name, c.spec);
        }
        assert_close!(a, b, rel = REL_F32_PEER, abs = 1e-5);
        worst = worst.max(max_rel(&a, &theirs));
        worst_abs = a
            .iter()
            .zip(&theirs)
            .map(|(x, y)| (x - y).abs())
            .fold(worst_abs, f64::max);
    }
    // Measured: rel 1.1e-5 at a coordinate passing near 0 (|x| ≈ 0.014), abs ≤ 2.8e-7.
    eprintln!("max difference vs NumPy, f32: rel {worst:e}, abs {worst_abs:e}");
}

// ---------------------------------------------------------------------------------------
// Estimator-level conformance: SSVR (STORM estimator) and SSVR-FS (finite-sum estimator)
// ---------------------------------------------------------------------------------------

/// Variance-reduced specs: as text and JSON round trips, and a zero gradient gives no NaN
/// (the direction is `sign(0) = 0`, the parameters stay put).
#[test]
fn vr_specs_round_trip_and_survive_zero_gradients() {
    for (text, k) in [
        ("ssvr(lr=1e-3,beta=0.1)", 2),
        ("ssvr(lr=1e-3,beta=1,initial_batch=4,batch_size=2)", 2),
        ("ssvr_fs(lr=1e-3,beta=0.1,period=3)", 4),
        (
            "ssvr_fs(lr=1e-3,beta=0,period=3,reset_at_checkpoint=false)",
            4,
        ),
    ] {
        let a = spec(text);
        assert_eq!(spec(&a.to_string()), a, "{text}");
        let j = serde_json::to_string(&a).unwrap();
        assert_eq!(
            serde_json::from_str::<OptimizerSpec>(&j).unwrap(),
            a,
            "{text}"
        );
        assert!(a.estimator().is_some());
        let zeros = vec![vec![vec![0.0_f64; 4]; k]; 7];
        let traj = replay_spec(&a, &[1.0, -2.0, 0.0, 3.0], &zeros).unwrap();
        assert!(traj.iter().all(|x| x == &[1.0, -2.0, 0.0, 3.0]), "{text}");
    }
}

/// `m = 8` quadratics in dimension 4 with different curvatures and centres: the gradient
/// noise at the minimiser is of order 1, so a sign method without variance reduction
/// wanders around it.
fn finite_sum() -> DiagonalQuadraticSum {
    let (m, d) = (8, 4);
    DiagonalQuadraticSum {
        curvatures: (0..m)
            .map(|i| {
                (0..d)
                    .map(|j| 0.5 + ((i * 3 + j * 5) % 7) as f64 * 0.25)
                    .collect()
            })
            .collect(),
        centres: (0..m)
            .map(|i| {
                (0..d)
                    .map(|j| ((i * 7 + j * 3) % 11) as f64 / 5.0 - 1.0)
                    .collect()
            })
            .collect(),
    }
}

/// Records the parameters at every evaluated point (`x_0, x_1, …`).
#[derive(Default)]
struct Params(Vec<Vec<f64>>);

impl Observer<f64> for Params {
    fn on_step(&mut self, rec: &StepRecord<'_, f64>) -> Result<(), ObserveError> {
        self.0.push(rec.params.to_vec());
        Ok(())
    }
}

/// Mean ℓ∞ distance to `x*` over the last 10% of the recorded points.
fn tail_distance(points: &[Vec<f64>], x_star: &[f64]) -> f64 {
    let tail = &points[points.len() * 9 / 10..];
    tail.iter()
        .map(|x| {
            x.iter()
                .zip(x_star)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max)
        })
        .sum::<f64>()
        / tail.len() as f64
}

/// SSVR (η = 1e-3, β = 0.1, B = 1) through `MinibatchOracle` + `run_estimator` for 20 000
/// steps from distance ≈ 3.1: the mean ℓ∞ distance to the minimiser over the last 10% of
/// iterates, averaged over seeds 0–3, must be ≤ 0.08 and ≤ 0.6× signSGD's on the same
/// samples budget. Observed: SSVR 0.043 (per seed 0.039–0.048), signSGD 0.159 (ratio
/// 0.27). A constant-step sign method cannot do better than a band of width ~η around
/// `x*`; the band's size is set by how often the estimate's sign is wrong, which the
/// STORM correction reduces.
#[test]
fn ssvr_gets_close_to_the_minimiser_of_a_finite_sum() {
    let f = finite_sum();
    let x_star = f.minimizer();
    let n_steps = 20_000;
    let (storm, sign_lr) = alias::ssvr(1e-3, StormConfig::default()).unwrap();
    let plain = alias::sign_sgd(1e-3).unwrap();
    let (mut d_ssvr, mut d_sign) = (0.0, 0.0);
    for seed in 0..4 {
        let mut x = vec![3.0; 4];
        let mut obs = Params::default();
        let (summary, evals) = run_estimator(
            &Runner::new(n_steps),
            &storm,
            &MinibatchOracle(&f),
            &sign_lr,
            &mut x,
            Seed(seed),
            &mut [&mut obs],
        )
        .unwrap();
        assert_eq!(summary.stop, Stop::MaxSteps);
        // B₀ = 1 at the start, then 2 gradients per step (plus the runner's final point).
        assert_eq!(evals, 1 + 2 * n_steps);
        d_ssvr += tail_distance(&obs.0, &x_star) / 4.0;

        let mut x = vec![3.0; 4];
        let mut obs = Params::default();
        run_estimator(
            &Runner::new(n_steps),
            &Minibatch { batch_size: 1 },
            &MinibatchOracle(&f),
            &plain,
            &mut x,
            Seed(seed),
            &mut [&mut obs],
        )
        .unwrap();
        d_sign += tail_distance(&obs.0, &x_star) / 4.0;
    }
    eprintln!("tail ℓ∞ distance: ssvr {d_ssvr:.4}, sign_sgd {d_sign:.4}");
    assert!(d_ssvr <= 0.08, "ssvr: {d_ssvr}");
    assert!(d_ssvr <= 0.6 * d_sign, "ssvr {d_ssvr} vs sign_sgd {d_sign}");
}

/// SSVR-FS with β = 1 and reset is the SVRG-sign recursion, written out here on its own:
/// every `I` steps `x̃ = x`, `μ = ∇f(x̃)`, `v = μ`; otherwise draw `S` and
/// `v = ∇f_S(x) − ∇f_S(x̃) + μ`; `x ← x − η·sign(v)`. Same samples (the estimator draws
/// nothing at a reset checkpoint), so the trajectories agree bitwise: with β = 1 the blend's
/// SARAH part is multiplied by exactly 0.
#[test]
fn ssvr_fs_with_beta_one_and_reset_is_svrg_sign() {
    let f = finite_sum();
    let (period, lr, n_steps, batch) = (5_usize, 1e-2, 60_u64, 2_usize);
    let cfg = FiniteSumVrConfig {
        beta: 1.0,
        period,
        batch_size: batch,
        reset_at_checkpoint: true,
    };
    let (est, sign_lr) = alias::ssvr_finite_sum(lr, cfg).unwrap();
    let mut x = vec![2.0, -1.0, 0.5, 3.0];
    let mut obs = Params::default();
    run_estimator(
        &Runner::new(n_steps),
        &est,
        &f,
        &sign_lr,
        &mut x,
        Seed(7),
        &mut [&mut obs],
    )
    .unwrap();

    let oracle = MinibatchOracle(&f);
    let mut rng = Seed(7).rng();
    let mut y = vec![2.0, -1.0, 0.5, 3.0];
    let (mut snap, mut mu) = (y.clone(), vec![0.0; 4]);
    let (mut g, mut gs, mut v) = (vec![0.0; 4], vec![0.0; 4], vec![0.0; 4]);
    let mut ours = vec![y.clone()];
    for t in 0..n_steps as usize {
        if t % period == 0 {
            snap.clone_from(&y);
            f.loss_grad(&snap, &mut mu);
            v.clone_from(&mu);
        } else {
            let s = oracle.draw(batch, &mut rng);
            oracle.loss_grad_at(&s, &y, &mut g);
            oracle.loss_grad_at(&s, &snap, &mut gs);
            for j in 0..4 {
                v[j] = g[j] - gs[j] + mu[j];
            }
        }
        for j in 0..4 {
            y[j] -= lr * sign(v[j]);
        }
        ours.push(y.clone());
    }
    assert!(obs.0 == ours, "SSVR-FS(β = 1, reset) is not SVRG-sign");
}

/// A finite sum that logs every evaluation: `("full", [], x, ∇f(x))` or
/// `("batch", S, x, ∇f_S(x))`.
struct Logged {
    inner: DiagonalQuadraticSum,
    log: Mutex<Vec<Call>>,
}

#[derive(Clone, Debug, PartialEq)]
struct Call {
    full: bool,
    sample: Vec<usize>,
    x: Vec<f64>,
    grad: Vec<f64>,
}

impl Logged {
    fn new(inner: DiagonalQuadraticSum) -> Self {
        Logged {
            inner,
            log: Mutex::new(Vec::new()),
        }
    }
    fn take(&self) -> Vec<Call> {
        std::mem::take(&mut *self.log.lock().unwrap())
    }
}

impl Objective for Logged {
    fn dim(&self) -> usize {
        self.inner.dim()
    }
    fn loss(&self, x: &[f64]) -> f64 {
        self.inner.loss(x)
    }
    fn loss_grad(&self, x: &[f64], grad: &mut [f64]) -> f64 {
        let l = self.inner.loss_grad(x, grad);
        self.log.lock().unwrap().push(Call {
            full: true,
            sample: Vec::new(),
            x: x.to_vec(),
            grad: grad.to_vec(),
        });
        l
    }
}

impl FiniteSum for Logged {
    fn n_components(&self) -> usize {
        self.inner.n_components()
    }
    fn component_loss_grad(&self, i: usize, x: &[f64], grad: &mut [f64]) -> f64 {
        self.inner.component_loss_grad(i, x, grad)
    }
    fn minibatch_loss_grad(&self, batch: &[usize], x: &[f64], grad: &mut [f64]) -> f64 {
        let l = self.inner.minibatch_loss_grad(batch, x, grad);
        self.log.lock().unwrap().push(Call {
            full: false,
            sample: batch.to_vec(),
            x: x.to_vec(),
            grad: grad.to_vec(),
        });
        l
    }
}

/// Per step: the evaluations made and the component-gradient count reported.
type StepCalls = Vec<(Vec<Call>, u64)>;

/// Drives `est` by hand with `x ← x − η·sign(v)` and returns `x_0..x_n` and, per step, the
/// calls it made and the component-gradient count it reported.
fn drive<P: ?Sized, E: GradientEstimator<P>>(
    est: &E,
    problem: &P,
    log: &Logged,
    x0: &[f64],
    lr: f64,
    n: usize,
) -> (Vec<Vec<f64>>, StepCalls) {
    let mut state = est.init(x0);
    let mut rng: GdRng = Seed(3).rng();
    let mut x = x0.to_vec();
    let mut v = vec![0.0; x.len()];
    let (mut xs, mut calls) = (vec![x.clone()], Vec::new());
    for _ in 0..n {
        let info = est.estimate(problem, &mut state, &x, &mut rng, &mut v);
        calls.push((log.take(), info.n_component_grads));
        for (xi, vi) in x.iter_mut().zip(&v) {
            *xi -= lr * sign(*vi);
        }
        xs.push(x.clone());
    }
    (xs, calls)
}

/// The same-sample property of the STORM estimator, proven by a logging oracle: at every
/// step `t ≥ 1` it makes exactly two evaluations, on the **identical** sample, at `x_t` and
/// then at `x_{t−1}`; step 0 makes one evaluation of `B₀` samples at `x_0`. The reported
/// gradient counts match the calls. Replaying the logged gradients with [`replay_storm`]
/// reproduces the trajectory bitwise.
#[test]
fn storm_evaluates_one_sample_at_both_points() {
    let f = Logged::new(finite_sum());
    let cfg = StormConfig {
        beta: 0.3,
        initial_batch: 5,
        batch_size: 3,
    };
    let (storm, sign_lr) = alias::ssvr(0.05, cfg).unwrap();
    let oracle = MinibatchOracle(&f);
    let (xs, calls) = drive(&storm, &oracle, &f, &[2.0, -1.0, 0.5, 3.0], 0.05, 40);
    let mut rows = Vec::new();
    for (t, (c, n)) in calls.iter().enumerate() {
        if t == 0 {
            assert_eq!(c.len(), 1);
            assert_eq!((c[0].sample.len(), &c[0].x), (5, &xs[0]));
            assert_eq!(*n, 5);
            rows.push(vec![c[0].grad.clone(), vec![f64::NAN; 4]]); // g_prev_0 is ignored
        } else {
            assert_eq!(c.len(), 2, "step {t}");
            assert!(!c[0].full && !c[1].full);
            assert_eq!(c[0].sample, c[1].sample, "step {t}: two different samples");
            assert_eq!(c[0].sample.len(), 3);
            assert!(
                c[0].x == xs[t] && c[1].x == xs[t - 1],
                "step {t}: wrong points"
            );
            assert_eq!(*n, 6);
            rows.push(vec![c[0].grad.clone(), c[1].grad.clone()]);
        }
    }
    // Fresh samples per step (8 components, batches of 3: a repeat of all 39 is impossible).
    assert!(calls
        .windows(2)
        .any(|w| w[0].0[0].sample != w[1].0[0].sample));
    let replayed = replay_storm(&storm, &sign_lr, &xs[0], &rows).unwrap();
    assert!(
        replayed == xs[1..],
        "replay of the logged gradients differs"
    );
}

/// The same property for SSVR-FS, reset on and off: a checkpoint evaluates the full
/// gradient at `x_t` (and, without reset, one sample at `x_t` and `x_{t−1}`); any other
/// step evaluates one sample at `x_t`, `x_{t−1}` and the snapshot `x̃` (the last
/// checkpoint's point). Counts match, and [`replay_finite_sum_vr`] of the logged gradients
/// reproduces the trajectory bitwise.
#[test]
fn finite_sum_vr_evaluates_one_sample_at_three_points() {
    for reset in [true, false] {
        let f = Logged::new(finite_sum());
        let period = 4;
        let cfg = FiniteSumVrConfig {
            beta: 0.2,
            period,
            batch_size: 2,
            reset_at_checkpoint: reset,
        };
        let (est, sign_lr) = alias::ssvr_finite_sum(0.05, cfg).unwrap();
        let (xs, calls) = drive(&est, &f, &f, &[2.0, -1.0, 0.5, 3.0], 0.05, 30);
        let m = f.n_components() as u64;
        let mut rows = Vec::new();
        let mut snapshot = xs[0].clone();
        let junk = vec![f64::NAN; 4]; // rows a step ignores
        for (t, (c, n)) in calls.iter().enumerate() {
            let checkpoint = t % period == 0;
            if checkpoint {
                snapshot.clone_from(&xs[t]);
                assert!(c[0].full && c[0].x == xs[t], "step {t}");
            }
            if checkpoint && (reset || t == 0) {
                assert_eq!((c.len(), *n), (1, m), "step {t}");
                rows.push(vec![
                    junk.clone(),
                    junk.clone(),
                    junk.clone(),
                    c[0].grad.clone(),
                ]);
            } else if checkpoint {
                assert_eq!((c.len(), *n), (3, m + 4), "step {t}");
                assert_eq!(c[1].sample, c[2].sample);
                assert!(c[1].x == xs[t] && c[2].x == xs[t - 1]);
                rows.push(vec![
                    c[1].grad.clone(),
                    c[2].grad.clone(),
                    junk.clone(),
                    c[0].grad.clone(),
                ]);
            } else {
                assert_eq!((c.len(), *n), (3, 6), "step {t}");
                assert!(c.iter().all(|k| !k.full && k.sample == c[0].sample));
                assert!(c[0].x == xs[t] && c[1].x == xs[t - 1] && c[2].x == snapshot);
                rows.push(vec![
                    c[0].grad.clone(),
                    c[1].grad.clone(),
                    c[2].grad.clone(),
                    junk.clone(),
                ]);
            }
        }
        let replayed = replay_finite_sum_vr(&est, &sign_lr, &xs[0], &rows).unwrap();
        assert!(replayed == xs[1..], "reset = {reset}: replay differs");
    }
}

/// Cloning the estimator state (and the sample stream) is a checkpoint: continuing from
/// the clone reproduces the continuation bitwise, for both estimators.
#[test]
fn cloned_estimator_state_replays_bitwise() {
    fn check<P: ?Sized, E: GradientEstimator<P>>(est: &E, problem: &P, name: &str) {
        let step = |st: &mut E::State, rng: &mut GdRng, x: &mut Vec<f64>, n: usize| {
            let mut v = vec![0.0; x.len()];
            let mut out = Vec::new();
            for _ in 0..n {
                est.estimate(problem, st, x, rng, &mut v);
                for (xi, vi) in x.iter_mut().zip(&v) {
                    *xi -= 0.02 * sign(*vi);
                }
                out.extend_from_slice(&v);
                out.extend_from_slice(x);
            }
            out
        };
        let mut x = vec![1.0, -0.5, 2.0, 0.25];
        let mut st = est.init(&x);
        let mut rng = Seed(5).rng();
        let _ = step(&mut st, &mut rng, &mut x, 6);
        let (mut st2, mut rng2, mut x2) = (st.clone(), rng.clone(), x.clone());
        let a = step(&mut st, &mut rng, &mut x, 11);
        let b = step(&mut st2, &mut rng2, &mut x2, 11);
        assert!(a == b, "{name}");
    }
    let f = finite_sum();
    let storm = StormConfig::default().build().unwrap();
    check(&storm, &MinibatchOracle(&f), "storm");
    for reset in [true, false] {
        let fs = FiniteSumVrConfig {
            period: 4,
            reset_at_checkpoint: reset,
            ..FiniteSumVrConfig::default()
        }
        .build()
        .unwrap();
        check(&fs, &f, "finite_sum_vr");
    }
}

/// The spec's theory schedule (§2.2) for `T = 1000`, `d = 16`, `L = 4`, `H = 2`:
/// `u = 1/(√T + T^{2/3}) = 1/(√1000 + 100)`, `β = u`, `η = H·u/(L·√d) = u/8`,
/// `B₀ = ⌈1/(u²T)⌉ = ⌈(√1000 + 100)²/1000⌉ = ⌈17.3246⌉ = 18`.
#[test]
fn storm_theory_schedule_closed_form() {
    let s = StormTheorySchedule::new(1000, 16, 4.0, 2.0).unwrap();
    let u = 1.0 / (1000f64.sqrt() + 100.0);
    assert_close!(s.beta, u, rel = 1e-14);
    assert_close!(s.learning_rate, u / 8.0, rel = 1e-14);
    assert_eq!(s.initial_batch, 18);
    let cfg = s.config();
    assert_eq!((cfg.initial_batch, cfg.batch_size), (18, 1));
    assert!(cfg.build().is_ok());
    // It plugs into the spec: ssvr(lr=η, beta=β, initial_batch=B₀).
    let text = format!(
        "ssvr(lr={},beta={},initial_batch={})",
        s.learning_rate, s.beta, s.initial_batch
    );
    assert_eq!(spec(&text).estimator(), Some(EstimatorSpec::Storm(cfg)));
    for bad in [
        StormTheorySchedule::new(0, 16, 4.0, 2.0),
        StormTheorySchedule::new(1000, 0, 4.0, 2.0),
        StormTheorySchedule::new(1000, 16, 0.0, 2.0),
        StormTheorySchedule::new(1000, 16, 4.0, f64::NAN),
    ] {
        assert!(bad.is_err());
    }
}
