//! Wasserstein particle kernels: the interaction-energy gradient
//! `(1/n) Σⱼ ∇W(xᵢ − xⱼ)` (O(n²) pairs) for the isotropic double well at n = 10⁴ in d = 2
//! and d = 10, and the sliced-Wasserstein gradient (50 directions) at n = 10⁴, d = 10.
//!
//! Run: `cargo bench --manifest-path benches/Cargo.toml --bench wasserstein`.
//! The peer comparison (NumPy, POT) is `benches/peers/wasserstein.py`.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use gdlab_core::Seed;
use gdlab_wasserstein::discrepancy::SlicedWasserstein;
use gdlab_wasserstein::functional::{Functional, InteractionEnergy};
use gdlab_wasserstein::kernel::PairKernel;
use gdlab_wasserstein::matrix::SpdMatrix;
use gdlab_wasserstein::Particles;

fn interaction(c: &mut Criterion) {
    let mut group = c.benchmark_group("wasserstein/interaction_wgrad");
    group.sample_size(10);
    let n = 10_000usize;
    for dim in [2usize, 10] {
        let x = Particles::gaussian(n, dim, 1.0, None, Seed(0)).expect("valid sizes");
        let w = InteractionEnergy::new(PairKernel::double_well(SpdMatrix::identity(dim)));
        let mut g = vec![0.0; n * dim];
        group.throughput(Throughput::Elements((n * n) as u64));
        group.bench_with_input(
            BenchmarkId::new("double_well", format!("n={n}/dim={dim}")),
            &dim,
            |b, _| {
                b.iter(|| {
                    w.wgrad(black_box(&x), &mut g).expect("shapes match");
                    black_box(&g);
                });
            },
        );
    }
    group.finish();
}

fn sliced(c: &mut Criterion) {
    let mut group = c.benchmark_group("wasserstein/sliced_wgrad");
    group.sample_size(10);
    let (n, dim, l) = (10_000usize, 10usize, 50usize);
    let x = Particles::gaussian(n, dim, 1.0, None, Seed(1)).expect("valid sizes");
    let y = Particles::gaussian(n, dim, 1.5, None, Seed(2)).expect("valid sizes");
    let sw = SlicedWasserstein::random(y, l, Seed(3)).expect("L ≥ 1");
    let mut g = vec![0.0; n * dim];
    group.throughput(Throughput::Elements((n * l) as u64));
    group.bench_with_input(
        BenchmarkId::new("projections=50", format!("n={n}/dim={dim}")),
        &dim,
        |b, _| {
            b.iter(|| {
                sw.wgrad(black_box(&x), &mut g).expect("shapes match");
                black_box(&g);
            });
        },
    );
    group.finish();
}

criterion_group!(benches, interaction, sliced);
criterion_main!(benches);
