//! Full-batch softmax cross-entropy gradient at the `heavy-tailed` quick study's size
//! (n = 896, d = 1024, c = 127: two 896×1024×127 products and the softmax pass), in f32
//! (what the study runs) and f64, plus the bigram model's gradient from sparse counts.
//!
//! Ids: `softmax/loss_grad/f32/n=896,d=1024,c=127`. Throughput: the FLOPs of the two
//! products, `4·n·d·c`. Run:
//! `cargo bench --manifest-path benches/Cargo.toml --bench imbalance -- --warm-up-time 1 --measurement-time 3`

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use gdlab_core::Seed;
use gdlab_imbalance::bigram::BigramModel;
use gdlab_imbalance::softmax::{Float, SoftmaxLinear, Workspace};
use gdlab_imbalance::synthetic::SyntheticConfig;
use gdlab_imbalance::text::{zipf_corpus, BigramCounts};

fn softmax_grad<F: Float>(c: &mut Criterion) {
    let data = SyntheticConfig::paper(7).generate::<F>(Seed(0)).unwrap();
    let model = SoftmaxLinear::new(data.n_features(), data.n_classes(), true).unwrap();
    let params = model.init::<F>(Seed(1));
    let mut grad = vec![F::zero(); model.n_params()];
    let mut ws = Workspace::default();
    let (n, d, k) = (data.n_samples(), data.n_features(), data.n_classes());
    let mut group = c.benchmark_group("softmax/loss_grad");
    group.throughput(Throughput::Elements((4 * n * d * k) as u64));
    group.bench_function(
        BenchmarkId::new(F::NAME, format!("n={n},d={d},c={k}")),
        |b| {
            b.iter(|| {
                model
                    .loss_grad(black_box(&data), black_box(&params), &mut grad, &mut ws)
                    .unwrap()
            });
        },
    );
    group.finish();
}

fn bigram_grad(c: &mut Criterion) {
    let v = 1000;
    let text = zipf_corpus(200_000, 5000, 1.0, Seed(2)).unwrap();
    // Ids by rank, capped to the vocabulary (rank ≥ v → UNK = v − 1).
    let ids: Vec<usize> = text
        .split_ascii_whitespace()
        .map(|w| w[1..].parse::<usize>().unwrap().min(v) - 1)
        .collect();
    let counts = BigramCounts::from_ids(&ids, v).unwrap();
    let model = BigramModel::new(v).unwrap();
    let params = model.init::<f32>(Seed(3));
    let mut grad = vec![0.0_f32; model.n_params()];
    let mut sums = Vec::new();
    let mut group = c.benchmark_group("bigram/loss_grad");
    group.throughput(Throughput::Elements((v * v) as u64));
    group.bench_function(BenchmarkId::new("f32", format!("V={v}")), |b| {
        b.iter(|| {
            model
                .loss_grad(black_box(&counts), black_box(&params), &mut grad, &mut sums)
                .unwrap()
        });
    });
    group.finish();
}

criterion_group!(benches, softmax_grad<f32>, softmax_grad<f64>, bigram_grad);
criterion_main!(benches);
