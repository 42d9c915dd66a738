//! One conformance suite for all optimizers (after optax's `alias_test`).
//!
//! Each row of [`rows`] must: converge on a quadratic and on Rosenbrock within a budget;
//! keep its state's shape; give identical trajectories from a cloned state; survive a zero
//! gradient without NaN; match PyTorch for 12 steps at `rel ≤ 1e-12` in f64; round-trip its
//! spec through text and serde; and agree in f32 with its f64 run at `rel ≤ 1e-5`.
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

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers

use gdlab_core::objective::{DiagonalQuadraticSum, Objective, Rosenbrock};
use gdlab_core::runner::{Runner, Stop};
use gdlab_core::tol::{REL_F32_PEER, REL_INDEPENDENT_F64};
use gdlab_core::transform::{StepCtx, Transform};
use gdlab_core::{assert_close, Real};
use gdlab_optim::replay::replay;
use gdlab_optim::OptimizerSpec;
use serde::Deserialize;

/// (name, spec for quadratic/unit tests, spec for Rosenbrock, Rosenbrock step budget)
fn rows() -> Vec<(&'static str, &'static str, &'static str, u64)> {
    vec![
        ("sgd", "sgd(lr=0.1)", "sgd(lr=1e-3)", 200_000),
        (
            "momentum",
            "sgd(lr=0.1,momentum=0.9)",
            "sgd(lr=1e-3,momentum=0.9)",
            50_000,
        ),
        (
            "nesterov",
            "sgd(lr=0.1,momentum=0.9,nesterov=true)",
            "sgd(lr=1e-3,momentum=0.9,nesterov=true)",
            50_000,
        ),
        ("adam", "adam(lr=0.05)", "adam(lr=0.02)", 50_000),
        (
            "adam_amsgrad",
            "adam(lr=0.05,amsgrad=true)",
            "adam(lr=0.02,amsgrad=true)",
            50_000,
        ),
        (
            "adamw",
            "adamw(lr=0.05,weight_decay=0)",
            "adamw(lr=0.02,weight_decay=0)",
            50_000,
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
    for (name, s, _, _) in rows() {
        let t = spec(s).build::<f64>().unwrap();
        let mut x = vec![5.0, 5.0, 5.0];
        let out = Runner::new(20_000)
            .target_loss(f.loss(&f.minimizer()) + 1e-10)
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

#[test]
fn converges_on_rosenbrock() {
    let f = Rosenbrock { dim: 2 };
    for (name, _, s, budget) in rows() {
        let t = spec(s).build::<f64>().unwrap();
        let mut x = vec![-1.0, 1.5];
        let out = Runner::new(budget)
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
            "{name}: {out:?} at {x:?}"
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
    for (name, s, _, _) in rows() {
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
    for (name, s, _, _) in rows() {
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
    for (name, s, _, _) in rows() {
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
    for (name, s, _, _) in rows() {
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
