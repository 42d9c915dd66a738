//! Gradients of every layer of the crate (linear, tanh/ReLU, 5×5 and 3×3 convolutions,
//! max-pooling, cross-entropy) against central finite differences, in f64.
//!
//! For a coordinate `θ_j`, `(ℓ(θ + h e_j) − ℓ(θ − h e_j)) / 2h` has truncation error
//! `h²/6 · ∂³ℓ` and rounding error `≈ ε·|ℓ|/h`; with `h = 1e-5` both are below 1e-9 for these
//! losses of order 1, so the test asks for `|analytic − fd| ≤ 1e-6 · max(1, |analytic|)`.
//! ReLU and max-pooling are piecewise smooth: a coordinate whose ±h perturbation crosses a
//! kink would disagree, which has probability ~1e-5 per coordinate with random data; the
//! seeds are fixed, so the test is deterministic.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)] // test helpers

use candle_core::{Device, Tensor};
use gdlab_core::Seed;
use gdlab_nn::cnn::{LeNet, LeNetConfig, Vgg, VggConfig, VggLayer};
use gdlab_nn::{cross_entropy, Activation, Mlp, MlpConfig, Model};

fn random_input(shape: &[usize], n_classes: u32, seed: Seed) -> (Tensor, Tensor) {
    let mut rng = seed.rng();
    let n: usize = shape.iter().product();
    let mut x = vec![0.0_f64; n];
    gdlab_core::normal::fill_normals(&mut rng, &mut x);
    let b = shape[0];
    let y: Vec<u32> = (0..b as u32).map(|i| (i * 7 + 3) % n_classes).collect();
    (
        Tensor::from_vec(x, shape, &Device::Cpu).unwrap(),
        Tensor::from_vec(y, b, &Device::Cpu).unwrap(),
    )
}

/// Checks up to `per_tensor` coordinates of every parameter tensor; returns how many.
fn check_model(model: &dyn Model, x: &Tensor, y: &Tensor, per_tensor: usize) -> usize {
    let ps = model.params();
    let loss = cross_entropy(&model.forward(x).unwrap(), y).unwrap();
    let grads = loss.backward().unwrap();
    let mut g = vec![0.0_f64; ps.n_params()];
    ps.read_grads_into(&grads, &mut g).unwrap();
    let theta: Vec<f64> = ps.to_flat().unwrap();
    let loss_at = |t: &[f64]| {
        ps.write_flat(t).unwrap();
        cross_entropy(&model.forward(x).unwrap(), y)
            .unwrap()
            .to_scalar::<f64>()
            .unwrap()
    };
    let h = 1e-5;
    let mut checked = 0;
    for (name, range) in ps.layout().iter() {
        let stride = (range.len() / per_tensor).max(1);
        for j in range.clone().step_by(stride).take(per_tensor) {
            let mut t = theta.clone();
            t[j] = theta[j] + h;
            let up = loss_at(&t);
            t[j] = theta[j] - h;
            let down = loss_at(&t);
            let fd = (up - down) / (2.0 * h);
            let tol = 1e-6 * g[j].abs().max(1.0);
            assert!(
                (g[j] - fd).abs() <= tol,
                "{name}[{}]: analytic {} vs finite difference {fd}",
                j - range.start,
                g[j]
            );
            checked += 1;
        }
    }
    ps.write_flat(&theta).unwrap();
    // The gradient is not trivially zero.
    assert!(g.iter().any(|v| v.abs() > 1e-3));
    checked
}

#[test]
fn mlp_tanh_and_relu_gradients_match_finite_differences() {
    for act in [Activation::Tanh, Activation::Relu] {
        let cfg = MlpConfig {
            sizes: vec![6, 10, 7, 3],
            activation: act,
            bias: true,
        };
        let mlp = Mlp::new::<f64>(&cfg, Seed(3), &Device::Cpu).unwrap();
        let (x, y) = random_input(&[5, 6], 3, Seed(4));
        let n = check_model(&mlp, &x, &y, 25);
        assert!(n >= 6 * 10, "{n} coordinates checked");
    }
}

#[test]
fn lenet_conv_pool_gradients_match_finite_differences() {
    let cfg = LeNetConfig {
        n_convs: 2,
        n_linear: 3,
        in_channels: 1,
        image_size: 16,
        n_classes: 4,
    };
    let net = LeNet::new::<f64>(&cfg, Seed(5), &Device::Cpu).unwrap();
    let (x, y) = random_input(&[3, 1, 16, 16], 4, Seed(6));
    let n = check_model(&net, &x, &y, 12);
    assert!(n >= 60, "{n} coordinates checked");
}

#[test]
fn vgg_conv3x3_gradients_match_finite_differences() {
    let cfg = VggConfig {
        layers: vec![
            VggLayer::Conv(4),
            VggLayer::MaxPool,
            VggLayer::Conv(6),
            VggLayer::MaxPool,
        ],
        in_channels: 2,
        image_size: 8,
        n_classes: 3,
        bias: true,
    };
    let net = Vgg::new::<f64>(&cfg, Seed(7), &Device::Cpu).unwrap();
    let (x, y) = random_input(&[3, 2, 8, 8], 3, Seed(8));
    let n = check_model(&net, &x, &y, 15);
    assert!(n >= 55, "{n} coordinates checked"); // 15 + 4 + 15 + 6 + 15 + 3
}
