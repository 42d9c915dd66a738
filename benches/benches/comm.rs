//! DGD rounds with one agent per rank on the in-process backend (threads + channels) vs
//! the single-process simulation, at the study size (m = 4 on a ring, d = 1000, n_i = 30),
//! and the bit-packing of a sign vote. Bytes on the wire per round are fixed by the
//! algorithm (`2|E|·2·8d` = 128 000 B here) and printed; MPI is measured with the CLI (see
//! README "Running on several machines").
//!
//! Run: `cargo bench --manifest-path benches/Cargo.toml --bench comm`.

use std::time::Duration;

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use gdlab_comm::{Communicator, InProcess, PackedSigns};
use gdlab_core::Seed;
use gdlab_decentral::{DgdConfig, Graph, MixingMatrix, SparseRegressionConfig, WeightRule};

const ROUNDS: usize = 50;

fn dgd_rounds(c: &mut Criterion) {
    let problem = SparseRegressionConfig {
        dim: 1000,
        n_agents: 4,
        ..SparseRegressionConfig::default()
    }
    .generate(Seed(0))
    .expect("valid sizes");
    let w =
        MixingMatrix::new(&Graph::ring(4).expect("ring"), WeightRule::Metropolis).expect("mixing");
    let cfg = DgdConfig {
        n_rounds: ROUNDS,
        ..DgdConfig::default()
    };
    let bytes = InProcess::run(4, Duration::from_secs(60), |comm| {
        let r = comm.rank();
        cfg.run_agent(comm, &w, &problem.agents()[r], problem.w_star())
            .map(|o| o.wire_algorithm.bytes)
    })
    .expect("threads")
    .into_iter()
    .map(|b| b.expect("run"))
    .sum::<u64>();
    println!(
        "dgd m=4 ring d=1000: {} bytes per round in neighbour exchanges (all ranks)",
        bytes / ROUNDS as u64
    );
    let mut group = c.benchmark_group("comm");
    group.sample_size(10);
    group.throughput(Throughput::Elements(ROUNDS as u64));
    group.bench_function(BenchmarkId::new("dgd_rounds", "single/m=4,d=1000"), |b| {
        b.iter(|| black_box(cfg.run(&problem, &w).expect("run").trace.final_err()));
    });
    group.bench_function(
        BenchmarkId::new("dgd_rounds", "in_process/m=4,d=1000"),
        |b| {
            b.iter(|| {
                let out = InProcess::run(4, Duration::from_secs(60), |comm| {
                    let r = comm.rank();
                    cfg.run_agent(comm, &w, &problem.agents()[r], problem.w_star())
                        .map(|o| o.trace.final_err())
                })
                .expect("threads");
                black_box(out)
            });
        },
    );
    group.finish();
}

fn pack_signs(c: &mut Criterion) {
    let d = 1_000_000;
    let x: Vec<f64> = (0..d)
        .map(|k| if k % 3 == 0 { -1.0 } else { 1.0 })
        .collect();
    let mut out = vec![0.0; d];
    let mut group = c.benchmark_group("comm");
    group.throughput(Throughput::Elements(d as u64));
    group.bench_function(
        BenchmarkId::new("pack_unpack_signs", format!("dim={d}")),
        |b| {
            b.iter(|| {
                let p = PackedSigns::decode(&PackedSigns::from_signs(black_box(&x)).encode())
                    .expect("decode");
                p.to_signs(&mut out);
                black_box(out[7])
            });
        },
    );
    group.finish();
}

criterion_group!(benches, dgd_rounds, pack_signs);
criterion_main!(benches);
