//! Sampler and epoch-operator costs.
//!
//! Run: `cargo bench --manifest-path benches/Cargo.toml --bench samplers`.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use gdlab_core::sampler::{IndexSampler, Replacement, Sampler};
use gdlab_core::Seed;

fn epoch_orders(c: &mut Criterion) {
    let mut group = c.benchmark_group("sampler/epoch_order");
    for (name, r) in [
        ("with", Replacement::With),
        ("without", Replacement::Without),
    ] {
        for n in [1_000usize, 100_000] {
            let s = Sampler::new(n, r, Seed(7)).expect("n > 0");
            let mut out = Vec::with_capacity(n);
            group.throughput(Throughput::Elements(n as u64));
            group.bench_with_input(BenchmarkId::new(name, format!("n={n}")), &n, |b, _| {
                let mut epoch = 0;
                b.iter(|| {
                    s.epoch_order(black_box(epoch), &mut out);
                    epoch += 1;
                    black_box(&out);
                });
            });
        }
    }
    group.finish();
}

criterion_group!(samplers, epoch_orders);
criterion_main!(samplers);
