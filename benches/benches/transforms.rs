//! Optimizer update throughput: one `update` call of each alias on a flat buffer.
//!
//! Ids encode the parameters (`adam/update/f32/dim=1000000`). Inputs are built outside the
//! timed closure. Run: `cargo bench --manifest-path benches/Cargo.toml --bench transforms`.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use gdlab_core::transform::{StepCtx, Transform};
use gdlab_core::{Real, Seed};
use gdlab_optim::OptimizerSpec;

/// Deterministic inputs in [−1, 1) from a SplitMix64 stream (enough for benchmark data).
fn fill<F: Real>(n: usize, seed: Seed) -> Vec<F> {
    (0..n as u64)
        .map(|i| {
            let bits = gdlab_core::seed::splitmix64(seed.0 ^ i.wrapping_mul(0x9e37_79b9_7f4a_7c15));
            F::from_f64((bits >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0)
        })
        .collect()
}

fn bench_update<F: Real>(c: &mut Criterion, dtype: &str) {
    let specs = [
        ("sgd", "sgd(lr=0.01)"),
        ("momentum", "sgd(lr=0.01,momentum=0.9)"),
        ("adam", "adam(lr=1e-3)"),
        ("adamw", "adamw(lr=1e-3)"),
    ];
    for (name, text) in specs {
        let mut group = c.benchmark_group(format!("{name}/update/{dtype}"));
        for dim in [1_000usize, 1_000_000] {
            let spec: OptimizerSpec = text.parse().expect("valid spec");
            let t = spec.build::<F>().expect("valid optimizer");
            let params: Vec<F> = fill(dim, Seed(1));
            let grad: Vec<F> = fill(dim, Seed(2));
            let mut state = t.init(&params);
            let mut u = grad.clone();
            group.throughput(Throughput::Elements(dim as u64));
            group.bench_with_input(BenchmarkId::new("dim", dim), &dim, |b, _| {
                let mut step = 0u64;
                b.iter(|| {
                    u.copy_from_slice(&grad);
                    t.update(black_box(&mut u), &mut state, &StepCtx::new(step, &params))
                        .expect("update");
                    step += 1;
                    black_box(&u);
                });
            });
        }
        group.finish();
    }
}

fn benches(c: &mut Criterion) {
    bench_update::<f32>(c, "f32");
    bench_update::<f64>(c, "f64");
}

criterion_group!(transforms, benches);
criterion_main!(transforms);
