//! The adapter against candle-nn's own optimizer, and the STORM/SSVR wrapper against
//! hand-computed combinations.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)] // test helpers

use candle_core::{Device, Tensor};
use candle_nn::optim::{AdamW, Optimizer, ParamsAdamW};
use gdlab_core::Seed;
use gdlab_nn::{cross_entropy, Dataset, GdOptimizer, Mlp, MlpConfig, Model, StormOptimizer};
use gdlab_optim::alias::{adam, sgd};
use gdlab_optim::transform::{AdamConfig, MomentumConfig};

/// A random 4-class problem in 20 dimensions (inputs from the seeded Box–Muller stream,
/// labels from the sign pattern of the first two coordinates).
fn toy_data(n: usize, seed: Seed) -> Dataset<f32> {
    let mut rng = seed.rng();
    let mut xs = vec![0.0_f64; n * 20];
    gdlab_core::normal::fill_normals(&mut rng, &mut xs);
    let ys = (0..n)
        .map(|i| u32::from(xs[i * 20] > 0.0) + 2 * u32::from(xs[i * 20 + 1] > 0.0))
        .collect();
    Dataset::new(xs.iter().map(|&x| x as f32).collect(), vec![20], ys, 4).unwrap()
}

/// ‖a − b‖∞ / ‖b‖∞ per tensor, the worst over tensors.
fn worst_rel(a: &Mlp, b: &Mlp) -> f64 {
    let mut worst = 0.0_f64;
    for ((na, va), (_, vb)) in a.params().iter().zip(b.params().iter()) {
        let x = va.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let y = vb.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let diff = x
            .iter()
            .zip(&y)
            .map(|(p, q)| f64::from((p - q).abs()))
            .fold(0.0, f64::max);
        let scale = y.iter().map(|q| f64::from(q.abs())).fold(0.0, f64::max);
        assert!(scale > 0.0, "{na} is all zeros");
        worst = worst.max(diff / scale);
    }
    worst
}

/// gdlab's Adam through the adapter vs `candle_nn::AdamW` with weight decay 0 on the same
/// MLP, the same initial weights and the same minibatches, in f32, 40 steps.
///
/// The two differ only by rounding, but they do differ: candle rounds `1 − β₁` from f64
/// and applies the bias corrections as separate tensor ops (`m̂ = m/(1−β₁ᵏ)`,
/// `v̂ = v/(1−β₂ᵏ)`, `θ − η m̂/(√v̂ + ε)`); gdlab's fused kernel uses `1 − f32(β₁)` and
/// multiplies by reciprocal bias corrections rounded once from f64. Measured: after one step
/// the worst tensor differs by 8.8e-8 relative (≈ 1 f32 ulp of θ), and the difference grows
/// by about one ulp per step (9.4e-7 after 19 steps, 1.01e-6 after 21).
///
/// So the test asserts, with `r_k = max over tensors of ‖θ_a − θ_b‖∞/‖θ_b‖∞` after step k:
/// * `r_k ≤ 1e-6` (the tolerance) for the first 16 steps;
/// * `r_k ≤ (k + 1) · 2 · 2⁻²³` (two f32 ulps of relative drift per step) for all 40,
///   i.e. the drift stays at rounding level and does not blow up.
///
/// Both are far below the size of one step (η = 1e-3 on weights of size ~0.2: 5e-3
/// relative), and the weights do move (checked at the end).
#[test]
fn adam_through_adapter_matches_candle_adamw_step_for_step() {
    let dev = Device::Cpu;
    let cfg = MlpConfig::relu(&[20, 32, 32, 4]);
    let a = Mlp::new::<f32>(&cfg, Seed(7), &dev).unwrap();
    let b = Mlp::new::<f32>(&cfg, Seed(7), &dev).unwrap();
    assert!(worst_rel(&a, &b) == 0.0, "same seed, same weights");
    let lr = 1e-3;
    let mut ours =
        GdOptimizer::<f32, _>::new(adam(lr, AdamConfig::default(), 0.0).unwrap(), a.params())
            .unwrap();
    let mut theirs = AdamW::new(
        b.params().vars(),
        ParamsAdamW {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
        },
    )
    .unwrap();
    let data = toy_data(256, Seed(11));
    let mut batches = data.batches(32, Seed(12), false).unwrap();
    let mut max_seen = 0.0_f64;
    for step in 0..40 {
        let (x, y) = data.gather(batches.next_batch(), &dev).unwrap();
        let la = cross_entropy(&a.forward(&x).unwrap(), &y).unwrap();
        let lb = cross_entropy(&b.forward(&x).unwrap(), &y).unwrap();
        ours.backward_step(&la).unwrap();
        theirs.backward_step(&lb).unwrap();
        let r = worst_rel(&a, &b);
        max_seen = max_seen.max(r);
        if step < 16 {
            assert!(r <= 1e-6, "step {step}: relative difference {r:e} > 1e-6");
        }
        let drift = (step as f64 + 1.0) * 2.0 * f64::from(f32::EPSILON);
        assert!(
            r <= drift,
            "step {step}: relative difference {r:e} > {drift:e}"
        );
    }
    // The weights really moved (the comparison is not between two frozen networks).
    let init = Mlp::new::<f32>(&cfg, Seed(7), &dev).unwrap();
    assert!(worst_rel(&a, &init) > 1e-3);
    eprintln!("max relative difference over 40 steps: {max_seen:e}");
}

/// The adapter's flat copy and the candle variables agree after every step, and the
/// adapter equals the plain-buffer optimizer on the same gradients (bitwise).
#[test]
fn adapter_equals_flat_update_and_apply_bitwise() {
    use gdlab_core::transform::{update_and_apply, Transform};
    let dev = Device::Cpu;
    let mlp = Mlp::new::<f32>(&MlpConfig::relu(&[20, 16, 4]), Seed(1), &dev).unwrap();
    let opt = sgd(
        0.05,
        MomentumConfig {
            momentum: 0.9,
            ..MomentumConfig::default()
        },
        1e-4,
    )
    .unwrap();
    let mut theta: Vec<f32> = mlp.params().to_flat().unwrap();
    let mut state = opt.init(&theta);
    let mut ad = GdOptimizer::<f32, _>::new(opt, mlp.params()).unwrap();
    let data = toy_data(64, Seed(2));
    let mut batches = data.batches(16, Seed(3), false).unwrap();
    for step in 0..10 {
        let (x, y) = data.gather(batches.next_batch(), &dev).unwrap();
        let loss = cross_entropy(&mlp.forward(&x).unwrap(), &y).unwrap();
        let grads = loss.backward().unwrap();
        let mut g = vec![0.0_f32; theta.len()];
        mlp.params().read_grads_into(&grads, &mut g).unwrap();
        update_and_apply(ad.transform(), &mut theta, &mut g, &mut state, step).unwrap();
        ad.step(&grads).unwrap();
        assert_eq!(ad.params_flat(), &theta[..], "step {step}");
        assert_eq!(mlp.params().to_flat::<f32>().unwrap(), theta, "step {step}");
    }
}

/// With β = 1, STORM is plain minibatch SGD: bitwise the same as [`GdOptimizer`].
/// With β = 0.5 the second estimate is `g₂ + ½(g₁ − ∇f(θ₁; ξ₂))`, checked against gradients
/// computed independently at the two iterates.
#[test]
fn storm_reduces_to_sgd_and_combines_same_sample_gradients() {
    let dev = Device::Cpu;
    let cfg = MlpConfig::relu(&[20, 8, 4]);
    let data = toy_data(64, Seed(5));
    let batch = |i: usize| {
        let idx: Vec<usize> = (i * 16..(i + 1) * 16).collect();
        data.gather(&idx, &dev).unwrap()
    };
    let lr_sgd = || sgd(0.1, MomentumConfig::default(), 0.0).unwrap();

    let a = Mlp::new::<f32>(&cfg, Seed(9), &dev).unwrap();
    let b = Mlp::new::<f32>(&cfg, Seed(9), &dev).unwrap();
    let mut storm = StormOptimizer::<f32, _>::new(1.0, lr_sgd(), a.params()).unwrap();
    let mut plain = GdOptimizer::<f32, _>::new(lr_sgd(), b.params()).unwrap();
    for i in 0..4 {
        let (x, y) = batch(i);
        storm.step(|| cross_entropy(&a.forward(&x)?, &y)).unwrap();
        plain
            .backward_step(&cross_entropy(&b.forward(&x).unwrap(), &y).unwrap())
            .unwrap();
        assert_eq!(storm.inner().params_flat(), plain.params_flat(), "step {i}");
    }

    // β = 0.5, by hand.
    let c = Mlp::new::<f32>(&cfg, Seed(9), &dev).unwrap();
    let grad_at = |theta: &[f32], x: &Tensor, y: &Tensor| {
        c.params().write_flat(theta).unwrap();
        let l = cross_entropy(&c.forward(x).unwrap(), y).unwrap();
        let g = l.backward().unwrap();
        let mut out = vec![0.0_f32; theta.len()];
        c.params().read_grads_into(&g, &mut out).unwrap();
        out
    };
    let theta0: Vec<f32> = c.params().to_flat().unwrap();
    let (x1, y1) = batch(0);
    let (x2, y2) = batch(1);
    let g1 = grad_at(&theta0, &x1, &y1);
    let theta1: Vec<f32> = theta0
        .iter()
        .zip(&g1)
        .map(|(t, g)| t + g * -0.1_f32)
        .collect();
    let g2 = grad_at(&theta1, &x2, &y2);
    let g2_prev = grad_at(&theta0, &x2, &y2);
    c.params().write_flat(&theta0).unwrap();
    let mut s = StormOptimizer::<f32, _>::new(0.5, lr_sgd(), c.params()).unwrap();
    s.step(|| cross_entropy(&c.forward(&x1)?, &y1)).unwrap();
    assert_eq!(s.inner().params_flat(), &theta1[..]);
    s.step(|| cross_entropy(&c.forward(&x2)?, &y2)).unwrap();
    let expected: Vec<f32> = g2
        .iter()
        .zip(&g1)
        .zip(&g2_prev)
        .map(|((a, v), p)| a + 0.5_f32 * (v - p))
        .collect();
    assert_eq!(s.estimate(), &expected[..]);
    assert!(StormOptimizer::<f32, _>::new(0.0, lr_sgd(), c.params()).is_err());
}

/// Missing gradients, wrong dtypes and non-finite losses are errors, not panics.
#[test]
fn adapter_reports_bad_input() {
    let dev = Device::Cpu;
    let a = Mlp::new::<f32>(&MlpConfig::relu(&[2, 3, 2]), Seed(0), &dev).unwrap();
    let b = Mlp::new::<f32>(&MlpConfig::relu(&[2, 3, 2]), Seed(1), &dev).unwrap();
    let mut opt = GdOptimizer::<f32, _>::new(
        sgd(0.1, MomentumConfig::default(), 0.0).unwrap(),
        a.params(),
    )
    .unwrap();
    let x = Tensor::new(&[[1.0_f32, 2.0]], &dev).unwrap();
    let y = Tensor::new(&[1_u32], &dev).unwrap();
    // A loss of another network has no gradient for `a`'s parameters.
    let other = cross_entropy(&b.forward(&x).unwrap(), &y).unwrap();
    assert!(matches!(
        opt.backward_step(&other),
        Err(gdlab_nn::NnError::MissingGrad { .. })
    ));
    let nan = (cross_entropy(&a.forward(&x).unwrap(), &y).unwrap() * f64::NAN).unwrap();
    assert!(matches!(
        opt.backward_step(&nan),
        Err(gdlab_nn::NnError::NonFinite { .. })
    ));
    assert_eq!(opt.step_count(), 0);
    assert!(GdOptimizer::<f64, _>::new(
        sgd(0.1, MomentumConfig::default(), 0.0).unwrap(),
        a.params()
    )
    .is_err());
}
