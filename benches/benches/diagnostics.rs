//! Tail-index estimators: the projected MMO estimator on the spec's 5000 × 50 matrix (§5.1
//! A2), the scalar multi-K1 MMO estimator on 10 000 samples (A1), its Corollary 2.2
//! variant, and Hill's estimator.
//!
//! Run: `cargo bench --manifest-path benches/Cargo.toml --bench diagnostics`.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use gdlab_core::Seed;
use gdlab_diagnostics::hill::HillEstimator;
use gdlab_diagnostics::mmo::{mmo_multi, mmo_multi_with, Estimator};
use gdlab_diagnostics::stable::iid_matrix;
use gdlab_diagnostics::trajectory::{tail_index, TailIndexConfig};

fn estimators(c: &mut Criterion) {
    let mut group = c.benchmark_group("diagnostics");
    let (t, d) = (5000, 50);
    let w = iid_matrix(1.5, t, d, Seed(1)).expect("sample");
    let cfg = TailIndexConfig::default();
    group.throughput(Throughput::Elements((t * d) as u64));
    group.bench_with_input(
        BenchmarkId::new("mmo_projected", format!("{t}x{d}/directions=10")),
        &w,
        |b, w| b.iter(|| tail_index(black_box(w), t, d, &cfg).expect("estimate")),
    );
    let x = iid_matrix(1.5, 10_000, 1, Seed(2)).expect("sample");
    let k1s = [2, 4, 5, 10, 20, 25, 50];
    group.throughput(Throughput::Elements(x.len() as u64));
    group.bench_with_input(
        BenchmarkId::new("mmo_multi", "K=10000/k1s=7"),
        &x,
        |b, x| b.iter(|| mmo_multi(black_box(x), 1, &k1s).expect("estimate")),
    );
    group.bench_with_input(
        BenchmarkId::new("mmo_cor22_multi", "K=10000/k1s=7"),
        &x,
        |b, x| {
            b.iter(|| {
                mmo_multi_with(black_box(x), 1, &k1s, Estimator::COR22_MEDIAN).expect("estimate")
            })
        },
    );
    let hill = HillEstimator::new(1000).expect("k");
    group.bench_with_input(BenchmarkId::new("hill", "n=10000/k=1000"), &x, |b, x| {
        b.iter(|| hill.estimate(black_box(x)).expect("estimate"))
    });
    group.finish();
}

criterion_group!(diagnostics, estimators);
criterion_main!(diagnostics);
