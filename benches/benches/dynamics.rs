//! Teacher-mixture dynamics: online-SGD simulator steps at N = 10⁴ (O(N) per step) and
//! one ODE solve of configuration A to t = 100.
//!
//! Run: `cargo bench --manifest-path benches/Cargo.toml --bench dynamics`.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use gdlab_core::Seed;
use gdlab_dynamics::model::TeacherMixtureConfig;
use gdlab_dynamics::ode::{solve, Integrator, OrderParams};
use gdlab_dynamics::sim::OnlineSgd;

fn simulator(c: &mut Criterion) {
    let model = TeacherMixtureConfig::config_a()
        .build()
        .expect("config A is valid");
    let mut group = c.benchmark_group("dynamics/sgd_step");
    let n = 10_000usize;
    let mut sgd = OnlineSgd::new(&model, n, Seed(1)).expect("n ≥ 3");
    // 100 steps per iteration; throughput counts steps.
    group.throughput(Throughput::Elements(100));
    group.bench_with_input(
        BenchmarkId::new("config_a", format!("dim={n}")),
        &n,
        |b, _| {
            b.iter(|| {
                for _ in 0..100 {
                    black_box(sgd.step());
                }
            });
        },
    );
    group.finish();
}

fn ode_solve(c: &mut Criterion) {
    let model = TeacherMixtureConfig::config_a()
        .build()
        .expect("config A is valid");
    let times: Vec<f64> = (0..=400).map(|i| 0.25 * f64::from(i)).collect();
    let mut group = c.benchmark_group("dynamics/ode_solve");
    for (name, integ) in [
        ("dopri5_tol1e-10", Integrator::default()),
        ("rk4_dt0.01", Integrator::Rk4 { dt: 0.01 }),
    ] {
        group.bench_function(BenchmarkId::new(name, "t=100"), |b| {
            b.iter(|| {
                black_box(solve(
                    &model,
                    OrderParams::initial(1e-4),
                    black_box(&times),
                    integ,
                ))
            });
        });
    }
    group.finish();
}

criterion_group!(dynamics, simulator, ode_solve);
criterion_main!(dynamics);
