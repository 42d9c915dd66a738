//! One optimization run of the study: a method, its hyperparameters and a seed in; the
//! exact-gradient metric, a curve and the gradient count out.
//!
//! Every run is independent and sequential, so the study runs them in parallel over a
//! fixed-order job list and collects them in that order: results never depend on the
//! number of threads.

use gdlab_core::error::ObserveError;
use gdlab_core::objective::{MinibatchOracle, Objective};
use gdlab_core::runner::{Every, Observer, Runner, StepRecord, Stop};
use gdlab_core::Seed;
use gdlab_optim::alias;
use gdlab_optim::estimator::{run_estimator, FiniteSumVrConfig, Minibatch, StormConfig};

use crate::problems::NonConvexLogistic;
use crate::study::StudyError;

/// The estimator and sign rule of one run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Kind {
    /// signSGD: `Minibatch` estimator, `alias::sign_sgd`.
    SignSgd,
    /// Signum: `Minibatch` estimator, `alias::signum(η, momentum)`.
    Signum {
        /// EMA momentum.
        momentum: f64,
    },
    /// SSVR: `Storm` estimator (`β`, `B₀`), `alias::ssvr`.
    Ssvr {
        /// Fresh-gradient weight β.
        beta: f64,
        /// Initial batch `B₀`.
        initial_batch: usize,
    },
    /// SSVR-FS: `FiniteSumVr` estimator, `alias::ssvr_finite_sum`, reset at checkpoints.
    SsvrFs {
        /// Blend weight β (0 = SARAH, 1 = SVRG).
        beta: f64,
        /// Checkpoint period `I`.
        period: usize,
    },
}

/// Everything that defines one run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct RunSpec {
    pub kind: Kind,
    pub learning_rate: f64,
    pub batch_size: usize,
    pub n_steps: u64,
    pub seed: Seed,
    /// Record the exact-gradient curve (the tail metric is always recorded).
    pub record_curve: bool,
    /// Curve schedule: multiples of `n_steps / curve_points`, plus log-spaced steps.
    pub curve_points: u64,
    pub curve_per_decade: u32,
}

/// What one run produced.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct RunOutcome {
    /// Mean of the exact `‖∇f(x_k)‖₁` over the tail window; `+∞` if the run diverged.
    pub tail_mean: f64,
    /// The step at which the run diverged, if it did.
    pub diverged_at: Option<u64>,
    /// Recorded steps `k` (iterate after `k` updates) and the exact `‖∇f(x_k)‖₁` there.
    pub curve_steps: Vec<u64>,
    pub curve: Vec<f64>,
    /// Component gradients the estimator evaluated (all `T + 1` calls of the runner).
    pub n_component_grads: u64,
    /// The last iterate.
    pub final_x: Vec<f64>,
}

/// First step of the tail window: the window is the last `⌊T/10⌋` iterates, i.e. the
/// points after updates `T − ⌊T/10⌋ + 1, …, T` (spec §5a: "the last 10% of iterations").
pub(super) fn tail_start(n_steps: u64) -> u64 {
    n_steps - n_steps / 10 + 1
}

/// Whether the curve records step `k`.
fn curve_hits(spec: &RunSpec, step: u64) -> bool {
    let every = (spec.n_steps / spec.curve_points.max(1)).max(1);
    step % every == 0
        || step == spec.n_steps
        || Every::LogSpaced {
            per_decade: spec.curve_per_decade,
        }
        .hits(step)
}

/// The observer of the metric: the exact full gradient at the tail iterates and at the
/// curve steps.
struct ExactGradient<'a> {
    problem: &'a NonConvexLogistic,
    spec: RunSpec,
    tail_start: u64,
    grad: Vec<f64>,
    tail_sum: f64,
    tail_count: u64,
    steps: Vec<u64>,
    values: Vec<f64>,
}

impl Observer<f64> for ExactGradient<'_> {
    fn on_step(&mut self, rec: &StepRecord<'_, f64>) -> Result<(), ObserveError> {
        let in_tail = rec.step >= self.tail_start;
        let in_curve = self.spec.record_curve && curve_hits(&self.spec, rec.step);
        if in_tail || in_curve {
            self.problem.grad_into(rec.params, &mut self.grad);
            let l1: f64 = self.grad.iter().map(|g| g.abs()).sum();
            if in_tail {
                self.tail_sum += l1;
                self.tail_count += 1;
            }
            if in_curve {
                self.steps.push(rec.step);
                self.values.push(l1);
            }
        }
        Ok(())
    }
}

/// Runs `spec` on `problem` from `x₁ = (1, …, 1)`.
///
/// # Errors
/// A [`StudyError`] if a configuration is invalid or the runner fails (divergence is an
/// outcome, not an error: it gives `tail_mean = +∞`).
pub(super) fn run(problem: &NonConvexLogistic, spec: &RunSpec) -> Result<RunOutcome, StudyError> {
    let d = problem.dim();
    let runner = Runner::new(spec.n_steps);
    let mut x = vec![1.0; d];
    let mut obs = ExactGradient {
        problem,
        spec: *spec,
        tail_start: tail_start(spec.n_steps),
        grad: vec![0.0; d],
        tail_sum: 0.0,
        tail_count: 0,
        steps: Vec::new(),
        values: Vec::new(),
    };
    let oracle = MinibatchOracle(problem);
    let b = spec.batch_size;
    let (summary, n_grads) = match spec.kind {
        Kind::SignSgd => run_estimator(
            &runner,
            &Minibatch { batch_size: b },
            &oracle,
            &alias::sign_sgd(spec.learning_rate)?,
            &mut x,
            spec.seed,
            &mut [&mut obs],
        )?,
        Kind::Signum { momentum } => run_estimator(
            &runner,
            &Minibatch { batch_size: b },
            &oracle,
            &alias::signum(spec.learning_rate, momentum)?,
            &mut x,
            spec.seed,
            &mut [&mut obs],
        )?,
        Kind::Ssvr {
            beta,
            initial_batch,
        } => {
            let (est, sign) = alias::ssvr(
                spec.learning_rate,
                StormConfig {
                    beta,
                    initial_batch,
                    batch_size: b,
                },
            )?;
            run_estimator(
                &runner,
                &est,
                &oracle,
                &sign,
                &mut x,
                spec.seed,
                &mut [&mut obs],
            )?
        }
        Kind::SsvrFs { beta, period } => {
            let (est, sign) = alias::ssvr_finite_sum(
                spec.learning_rate,
                FiniteSumVrConfig {
                    beta,
                    period,
                    batch_size: b,
                    reset_at_checkpoint: true,
                },
            )?;
            run_estimator(
                &runner,
                &est,
                problem,
                &sign,
                &mut x,
                spec.seed,
                &mut [&mut obs],
            )?
        }
    };
    let window = spec.n_steps / 10;
    let diverged_at = match summary.stop {
        Stop::Diverged { step, .. } => Some(step),
        _ => None,
    };
    let tail_mean = if diverged_at.is_some() || obs.tail_count != window || window == 0 {
        f64::INFINITY
    } else {
        obs.tail_sum / window as f64
    };
    Ok(RunOutcome {
        tail_mean,
        diverged_at,
        curve_steps: obs.steps,
        curve: obs.values,
        n_component_grads: n_grads,
        final_x: x,
    })
}

/// The closed-form number of component gradients the estimator of `spec` evaluates in
/// its first `calls` calls (the runner makes `T + 1` calls: one per update and one at the
/// final point), for a problem with `m` components:
///
/// * signSGD, Signum: `B` per call;
/// * SSVR: `B₀` at the first call, then `2B` (same sample at `x_t` and `x_{t−1}`);
/// * SSVR-FS (reset at checkpoints): `m` at calls `0, I, 2I, …` (the full gradient), `3B`
///   otherwise (`x_t`, `x_{t−1}`, `x̃`): `m·c + 3B·(calls − c)` with `c = ⌈calls/I⌉`.
pub(super) fn closed_form_grads(spec: &RunSpec, m: usize, calls: u64) -> u64 {
    let b = spec.batch_size as u64;
    match spec.kind {
        Kind::SignSgd | Kind::Signum { .. } => calls * b,
        Kind::Ssvr { initial_batch, .. } => {
            if calls == 0 {
                0
            } else {
                initial_batch as u64 + 2 * b * (calls - 1)
            }
        }
        Kind::SsvrFs { period, .. } => {
            let i = period.max(1) as u64;
            let c = calls.div_ceil(i);
            m as u64 * c + 3 * b * (calls - c)
        }
    }
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // bitwise equality is what these tests check
mod tests {
    use super::*;
    use crate::problems::LogisticConfig;

    fn tiny() -> NonConvexLogistic {
        LogisticConfig {
            n_samples: 40,
            dim: 6,
            ..LogisticConfig::default()
        }
        .generate(Seed(2))
        .unwrap()
    }

    fn spec(kind: Kind, n_steps: u64, batch_size: usize) -> RunSpec {
        RunSpec {
            kind,
            learning_rate: 1e-2,
            batch_size,
            n_steps,
            seed: Seed(4),
            record_curve: true,
            curve_points: 10,
            curve_per_decade: 5,
        }
    }

    #[test]
    fn gradient_counts_match_the_closed_forms() {
        let f = tiny();
        for kind in [
            Kind::SignSgd,
            Kind::Signum { momentum: 0.9 },
            Kind::Ssvr {
                beta: 0.1,
                initial_batch: 3,
            },
            Kind::SsvrFs {
                beta: 0.1,
                period: 7,
            },
            Kind::SsvrFs {
                beta: 0.0,
                period: 40,
            },
        ] {
            for (t, b) in [(50, 1), (23, 2)] {
                let s = spec(kind, t, b);
                let out = run(&f, &s).unwrap();
                assert_eq!(
                    out.n_component_grads,
                    closed_form_grads(&s, 40, t + 1),
                    "{kind:?}"
                );
                assert!(out.tail_mean.is_finite() && out.diverged_at.is_none());
            }
        }
        // B₀ + 2B(T−1) at T calls; m per checkpoint otherwise 3B
        let s = spec(
            Kind::Ssvr {
                beta: 0.5,
                initial_batch: 4,
            },
            10,
            2,
        );
        assert_eq!(closed_form_grads(&s, 40, 5), 4 + 2 * 2 * 4);
        let s = spec(
            Kind::SsvrFs {
                beta: 0.5,
                period: 3,
            },
            10,
            1,
        );
        assert_eq!(closed_form_grads(&s, 40, 7), 40 * 3 + 3 * 4); // calls 0, 3, 6 are checkpoints
    }

    #[test]
    fn tail_window_is_the_last_tenth() {
        assert_eq!(tail_start(6000), 5401); // steps 5401..=6000: 600 iterates
        let f = tiny();
        let out = run(&f, &spec(Kind::SignSgd, 100, 1)).unwrap();
        // the curve records step 0, the multiples of T/10, log-spaced steps and T
        assert_eq!(out.curve_steps.first(), Some(&0));
        assert_eq!(out.curve_steps.last(), Some(&100));
        assert!(out.curve_steps.windows(2).all(|w| w[0] < w[1]));
        // the tail mean is the mean of the exact ‖∇f‖₁ at steps 91..=100
        let mut x = vec![1.0; 6];
        let mut g = vec![0.0; 6];
        let mut rng = Seed(4).rng();
        let oracle = MinibatchOracle(&f);
        let mut sum = 0.0;
        use gdlab_core::objective::StochasticOracle;
        for step in 0..=100u64 {
            if step >= tail_start(100) {
                f.grad_into(&x, &mut g);
                sum += g.iter().map(|v| v.abs()).sum::<f64>();
            }
            let xi = oracle.draw(1, &mut rng);
            oracle.loss_grad_at(&xi, &x, &mut g);
            for (xj, gj) in x.iter_mut().zip(&g) {
                *xj -= 1e-2 * gdlab_optim::kernel::sign(*gj);
            }
        }
        assert_eq!(out.tail_mean.to_bits(), (sum / 10.0).to_bits());
    }
}
