//! One optimizer step on a candle MLP: gdlab's Adam through the `gdlab-nn` adapter
//! (read gradients out of candle, one fused f32 pass, write the parameters back) against
//! candle-nn's own `AdamW` (weight decay 0) on the same network and the same gradients.
//!
//! Run: `cargo bench --manifest-path benches/Cargo.toml --bench nn`.

use candle_core::{Device, Tensor};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};
use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use gdlab_core::Seed;
use gdlab_nn::{cross_entropy, GdOptimizer, Mlp, MlpConfig, Model};
use gdlab_optim::alias::adam;
use gdlab_optim::transform::AdamConfig;

fn adam_step(c: &mut Criterion) {
    let dev = Device::Cpu;
    let mut group = c.benchmark_group("nn/adam_step");
    for sizes in [vec![784usize, 256, 256, 10], vec![784, 1024, 1024, 10]] {
        let tag = sizes
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join("-");
        let cfg = MlpConfig::relu(&sizes);
        let batch = 64;
        let x = Tensor::randn(0f32, 1.0, (batch, sizes[0]), &dev).expect("input");
        let labels: Vec<u32> = (0..batch as u32).map(|i| i % 10).collect();
        let y = Tensor::new(labels.as_slice(), &dev).expect("labels");
        // gdlab's Adam through the adapter.
        let ours = Mlp::new::<f32>(&cfg, Seed(0), &dev).expect("mlp");
        let n = ours.params().n_params();
        let grads = cross_entropy(&ours.forward(&x).expect("fwd"), &y)
            .and_then(|l| Ok(l.backward()?))
            .expect("grads");
        let mut opt = GdOptimizer::<f32, _>::new(
            adam(1e-3, AdamConfig::default(), 0.0).expect("adam"),
            ours.params(),
        )
        .expect("adapter");
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(
            BenchmarkId::new("gdlab_adapter", format!("mlp={tag}/params={n}")),
            &n,
            |b, _| b.iter(|| opt.step(black_box(&grads)).expect("step")),
        );
        // candle-nn's AdamW (weight decay 0) on a copy of the same network.
        let theirs = Mlp::new::<f32>(&cfg, Seed(0), &dev).expect("mlp");
        let grads = cross_entropy(&theirs.forward(&x).expect("fwd"), &y)
            .and_then(|l| Ok(l.backward()?))
            .expect("grads");
        let mut adamw = AdamW::new(
            theirs.params().vars(),
            ParamsAdamW {
                lr: 1e-3,
                beta1: 0.9,
                beta2: 0.999,
                eps: 1e-8,
                weight_decay: 0.0,
            },
        )
        .expect("adamw");
        group.bench_with_input(
            BenchmarkId::new("candle_adamw", format!("mlp={tag}/params={n}")),
            &n,
            |b, _| b.iter(|| adamw.step(black_box(&grads)).expect("step")),
        );
    }
    group.finish();
}

criterion_group!(nn, adam_step);
criterion_main!(nn);
