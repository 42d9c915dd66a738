//! Rough timing of the toy model (training steps, one guided evaluation of a large batch).
//! Not a benchmark; use `benches/` for measured numbers.
#![allow(clippy::unwrap_used, clippy::print_stdout)]
use std::time::Instant;

use candle_core::{DType, Device, Tensor};
use candle_nn::Optimizer;
use gdlab_core::Seed;
use gdlab_diffusion::turntable::model::ToyConfig;
use gdlab_diffusion::turntable::train::init_model;

fn main() {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    pool.install(run);
}

fn run() {
    let steps: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let rows: usize = std::env::args()
        .nth(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(384);
    let cfg = ToyConfig::default();
    let dev = Device::Cpu;
    let (vm, m) = init_model(&cfg, Seed(0), &dev).unwrap();
    let mut opt = candle_nn::AdamW::new(vm.all_vars(), Default::default()).unwrap();
    let x = Tensor::ones((32, 36, 48), DType::F32, &dev).unwrap();
    let p = Tensor::ones((32, 4), DType::F32, &dev).unwrap();
    let (mut tf, mut tb, mut to) = (0.0, 0.0, 0.0);
    for _ in 0..steps {
        let t = Instant::now();
        let y = m.forward(&x, &x, &p, &[500; 32], None).unwrap();
        let loss = y.sqr().unwrap().mean_all().unwrap();
        tf += t.elapsed().as_secs_f64();
        let t = Instant::now();
        let g = loss.backward().unwrap();
        tb += t.elapsed().as_secs_f64();
        let t = Instant::now();
        opt.step(&g).unwrap();
        to += t.elapsed().as_secs_f64();
    }
    let n = steps as f64;
    println!(
        "train step batch 32: fwd {:.0} ms, bwd {:.0} ms, opt {:.0} ms",
        1e3 * tf / n,
        1e3 * tb / n,
        1e3 * to / n
    );
    let md = m.detached(&vm).unwrap();
    let x = Tensor::ones((rows, 36, 48), DType::F32, &dev).unwrap();
    let p = Tensor::ones((rows, 4), DType::F32, &dev).unwrap();
    let t = Instant::now();
    for _ in 0..3 {
        md.forward(&x, &x, &p, &vec![500; rows], None).unwrap();
    }
    println!(
        "detached forward batch {rows}: {:.1} ms",
        1e3 * t.elapsed().as_secs_f64() / 3.0
    );
}
