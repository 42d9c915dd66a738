//! One DGD round at scale: m = 100 agents, d = 40 000, n_i = 50 (issue 6 "Speed").
//!
//! A round is, per agent, `r = X_i w − y_i` and `g = X_iᵀ r / n_i` (two faer mat-vecs,
//! `2·n_i·d` multiply-adds each, i.e. `4·n_i·d` flops per agent), the multiplicative update,
//! the per-round metrics, and the mixing of u and v over an ER graph. Throughput is
//! reported in mat-vec flops per second (criterion's "elem/s" = flop/s), and the achieved
//! GFLOP/s is also printed. X for all agents is 100·50·40 000 f64 = 1.6 GB, so the round is
//! bound by memory bandwidth (each X_i is streamed twice per round).
//!
//! Run: `cargo bench --manifest-path benches/Cargo.toml --bench decentral`.

use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use gdlab_core::Seed;
use gdlab_decentral::{
    DgdConfig, DgdRunner, Graph, MixingMatrix, SparseRegressionConfig, WeightRule,
};

const M: usize = 100;
const D: usize = 40_000;
const N_I: usize = 50;

fn dgd_round(c: &mut Criterion) {
    let problem = SparseRegressionConfig {
        dim: D,
        sparsity: 11,
        n_agents: M,
        samples_per_agent: N_I,
        total_samples: None,
        noise_std: 0.5,
        magnitude: 1.0,
    }
    .generate(Seed(0))
    .expect("valid sizes");
    let graph = Graph::erdos_renyi(M, 0.1, Seed(1)).expect("connected ER");
    let w = MixingMatrix::new(&graph, WeightRule::Metropolis).expect("mixing");
    let cfg = DgdConfig {
        n_rounds: 1_000_000,
        ..DgdConfig::default()
    };
    let flops = (4 * N_I * D * M) as u64;
    let mut runner = DgdRunner::new(cfg, &problem, &w).expect("valid config");
    // One timed round outside criterion, for the printed GFLOP/s.
    let t0 = Instant::now();
    let rounds = 5;
    for _ in 0..rounds {
        runner.step();
    }
    let s = t0.elapsed().as_secs_f64() / rounds as f64;
    println!(
        "dgd round m={M} d={D} n_i={N_I} ({} edges): {:.3} s/round, {:.2} GFLOP/s (mat-vec flops {:.2e}/round)",
        graph.n_edges(),
        s,
        flops as f64 / s / 1e9,
        flops as f64
    );
    let mut group = c.benchmark_group("decentral");
    group.sample_size(10);
    group.throughput(Throughput::Elements(flops));
    group.bench_function("dgd_round_m100_d40000_n50", |b| b.iter(|| runner.step()));
    group.finish();
}

/// The study's size (spec §5): m = 10, d = 1000, n_i = 30, ER(p = 0.5).
fn dgd_round_study_size(c: &mut Criterion) {
    let problem = SparseRegressionConfig::default()
        .generate(Seed(0))
        .expect("valid sizes");
    let graph = Graph::erdos_renyi(10, 0.5, Seed(1)).expect("connected ER");
    let w = MixingMatrix::new(&graph, WeightRule::Metropolis).expect("mixing");
    let cfg = DgdConfig {
        n_rounds: 100_000_000,
        ..DgdConfig::default()
    };
    let mut runner = DgdRunner::new(cfg, &problem, &w).expect("valid config");
    let mut group = c.benchmark_group("decentral");
    group.throughput(Throughput::Elements((4 * 30 * 1000 * 10) as u64));
    group.bench_function("dgd_round_study_m10_d1000_n30", |b| {
        b.iter(|| runner.step())
    });
    group.finish();
}

criterion_group!(decentral, dgd_round_study_size, dgd_round);
criterion_main!(decentral);
