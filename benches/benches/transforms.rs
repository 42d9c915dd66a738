//! Optimizer update throughput on flat f32 buffers of 10⁶ and 10⁷ coordinates.
//!
//! Ids encode the parameters: `adam/update/f32/dim=10000000`. Inputs are built outside the
//! timed closure. Run:
//! `cargo bench --manifest-path benches/Cargo.toml --bench transforms -- --warm-up-time 1 --measurement-time 3`
//!
//! Two operations per optimizer:
//!
//! * `<name>/update/…`: [`Transform::update`], `u ← T(g)` (gdlab's contract; each update
//!   is one fused pass). Every iteration transforms a fresh copy of the same gradient,
//!   made in criterion's untimed setup (`iter_batched_ref`), so only the pass is timed.
//!   (Feeding the update back in as the next gradient is not an option: under plain Adam
//!   it decays into subnormals within a few hundred steps and times the slow path.)
//! * `<name>/step/…`: [`update_and_apply`], `θ ← θ + T(g)` in one pass, what
//!   `torch.optim.Adam(fused=True).step()` does. The gradient is only read.
//!
//! `Throughput::Bytes` is the traffic of the operation: every buffer the fused pass reads
//! or writes, once, `size_of::<f32>()` bytes per coordinate each (4 bytes; write-allocate
//! traffic is not counted, as in STREAM):
//!
//! | id | reads | writes | bytes/coordinate |
//! |---|---|---|---|
//! | `adam/update` | `g, m, v` | `m, v, u` | 24 |
//! | `adam/step` | `g, m, v, θ` | `m, v, θ` | 28 |
//! | `adamw/step` (λ = 0.01) | `g, m, v, θ` | `m, v, θ` | 28 |
//! | `sign_sgd/update` | `g` | `u` | 8 |
//! | `sign_sgd/step` | `g, θ` | `θ` | 12 |
//! | `signum/update` | `g, m` | `m, u` | 16 |
//! | `signum/step` | `g, m, θ` | `m, θ` | 20 |
//! | `ssvr/step` | `g, g_prev, v, θ` | `v, θ` | 24 |
//! | `ssvr/unfused` | as `ssvr/step` (same bytes, so the GB/s compare) | | 24 |
//! | `triad` (`a ← b + s·c`) | `b, c` | `a` | 12 |
//!
//! `ssvr/step` is [`storm_sign_step`]; `ssvr/unfused` is the same step as separate passes
//! ([`storm_combine`]: 4 buffers; copying `v` into the update buffer: 2; `sign_sgd`'s
//! update: 2; `apply_update`: 3), which actually touches 11 buffers, 44 bytes per
//! coordinate.

use criterion::{
    black_box, criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput,
};
use gdlab_core::transform::{apply_update, update_and_apply, StepCtx, Transform};
use gdlab_core::{Real, Seed};
use gdlab_optim::alias;
use gdlab_optim::kernel::{storm_combine, storm_sign_step};
use gdlab_optim::transform::AdamConfig;

const DIMS: [usize; 2] = [1_000_000, 10_000_000];
const F32: usize = std::mem::size_of::<f32>();

/// Deterministic inputs in [−1, 1) from a SplitMix64 stream (enough for benchmark data).
fn fill<F: Real>(n: usize, seed: Seed) -> Vec<F> {
    (0..n as u64)
        .map(|i| {
            let bits = gdlab_core::seed::splitmix64(seed.0 ^ i.wrapping_mul(0x9e37_79b9_7f4a_7c15));
            F::from_f64((bits >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0)
        })
        .collect()
}

/// Benches `update` and `update_and_apply` of one optimizer at every size in [`DIMS`].
fn bench_optimizer<T: Transform<f32>>(
    c: &mut Criterion,
    name: &str,
    opt: &T,
    update_streams: usize,
    step_streams: usize,
) {
    let mut group = c.benchmark_group(format!("{name}/update/f32"));
    group.sample_size(20);
    for dim in DIMS {
        let params: Vec<f32> = fill(dim, Seed(1));
        let grad: Vec<f32> = fill(dim, Seed(2));
        let mut state = opt.init(&params);
        group.throughput(Throughput::Bytes((update_streams * F32 * dim) as u64));
        group.bench_with_input(
            BenchmarkId::from_parameter(format!("dim={dim}")),
            &dim,
            |b, _| {
                let mut step = 0u64;
                b.iter_batched_ref(
                    || grad.clone(),
                    |u| {
                        opt.update(black_box(u), &mut state, &StepCtx::new(step, &params))
                            .expect("update");
                        step += 1;
                    },
                    BatchSize::LargeInput,
                );
            },
        );
    }
    group.finish();

    let mut group = c.benchmark_group(format!("{name}/step/f32"));
    group.sample_size(20);
    for dim in DIMS {
        let mut params: Vec<f32> = fill(dim, Seed(1));
        let mut grad: Vec<f32> = fill(dim, Seed(2));
        let mut state = opt.init(&params);
        group.throughput(Throughput::Bytes((step_streams * F32 * dim) as u64));
        group.bench_with_input(
            BenchmarkId::from_parameter(format!("dim={dim}")),
            &dim,
            |b, _| {
                let mut step = 0u64;
                b.iter(|| {
                    update_and_apply(opt, black_box(&mut params), &mut grad, &mut state, step)
                        .expect("step");
                    step += 1;
                });
            },
        );
    }
    group.finish();
}

fn bench_ssvr(c: &mut Criterion) {
    let (beta, lr) = (0.1_f32, 1e-3);
    let sign = alias::sign_sgd(lr).expect("valid");
    let mut group = c.benchmark_group("ssvr/step/f32");
    group.sample_size(20);
    for dim in DIMS {
        let mut params: Vec<f32> = fill(dim, Seed(1));
        let g: Vec<f32> = fill(dim, Seed(2));
        let g_prev: Vec<f32> = fill(dim, Seed(3));
        let mut v: Vec<f32> = fill(dim, Seed(4));
        group.throughput(Throughput::Bytes((6 * F32 * dim) as u64));
        group.bench_with_input(
            BenchmarkId::from_parameter(format!("dim={dim}")),
            &dim,
            |b, _| {
                b.iter(|| storm_sign_step(black_box(&mut params), &mut v, &g, &g_prev, beta, lr));
            },
        );
    }
    group.finish();

    let mut group = c.benchmark_group("ssvr/unfused/f32");
    group.sample_size(20);
    for dim in DIMS {
        let mut params: Vec<f32> = fill(dim, Seed(1));
        let g: Vec<f32> = fill(dim, Seed(2));
        let g_prev: Vec<f32> = fill(dim, Seed(3));
        let mut v: Vec<f32> = fill(dim, Seed(4));
        let mut u = vec![0.0_f32; dim];
        group.throughput(Throughput::Bytes((6 * F32 * dim) as u64));
        group.bench_with_input(
            BenchmarkId::from_parameter(format!("dim={dim}")),
            &dim,
            |b, _| {
                let mut step = 0u64;
                b.iter(|| {
                    storm_combine(black_box(&mut v), &g, &g_prev, beta);
                    u.copy_from_slice(&v);
                    sign.update(&mut u, &mut ((), ()), &StepCtx::new(step, &params))
                        .expect("update");
                    apply_update(&mut params, &u).expect("apply");
                    step += 1;
                });
            },
        );
    }
    group.finish();
}

/// STREAM's triad `a ← b + s·c`, the reference for what the memory system sustains.
fn bench_triad(c: &mut Criterion) {
    let mut group = c.benchmark_group("triad/f32");
    group.sample_size(20);
    for dim in DIMS {
        let mut a = vec![0.0_f32; dim];
        let b: Vec<f32> = fill(dim, Seed(2));
        let cc: Vec<f32> = fill(dim, Seed(3));
        let s = black_box(3.0_f32);
        group.throughput(Throughput::Bytes((3 * F32 * dim) as u64));
        group.bench_with_input(
            BenchmarkId::from_parameter(format!("dim={dim}")),
            &dim,
            |bench, _| {
                bench.iter(|| {
                    for ((ai, &bi), &ci) in black_box(&mut a).iter_mut().zip(&b).zip(&cc) {
                        *ai = bi + s * ci;
                    }
                });
            },
        );
    }
    group.finish();
}

fn benches(c: &mut Criterion) {
    let adam = alias::adam(1e-3, AdamConfig::default(), 0.0).expect("valid");
    bench_optimizer(c, "adam", &adam, 6, 7);
    let adamw = alias::adamw(1e-3, AdamConfig::default(), 0.01).expect("valid");
    bench_optimizer(c, "adamw", &adamw, 7, 7);
    let sign = alias::sign_sgd(1e-3).expect("valid");
    bench_optimizer(c, "sign_sgd", &sign, 2, 3);
    let signum = alias::signum(1e-3, 0.9).expect("valid");
    bench_optimizer(c, "signum", &signum, 4, 5);
    bench_ssvr(c);
    bench_triad(c);
}

criterion_group!(transforms, benches);
criterion_main!(transforms);
