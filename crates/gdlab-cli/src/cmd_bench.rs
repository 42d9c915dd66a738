//! `gdlab bench ...`: time optimizer steps and a STREAM-style triad on flat buffers.
//!
//! Used by `benches/peers/optim.py`, which runs PyTorch on the same work in the same run.
//! One step of an optimizer is [`update_and_apply`]: `θ ← θ + T(g)`, one fused pass, the
//! work of `torch.optim.Adam(fused=True).step()`. The gradient stays fixed across steps
//! (as `p.grad` does in the peer script); the fused passes only read it.
//!
//! **Byte accounting** (`bytes_per_step`): every buffer the step reads or writes, counted
//! once, `size_of::<dtype>()` bytes per coordinate each; write-allocate traffic is not
//! counted (the STREAM convention). `gb_per_s` is `bytes_per_step / seconds_per_step / 10⁹`.
//!
//! | optimizer | reads | writes | buffers |
//! |---|---|---|---|
//! | `adam` | `g, m, v, θ` | `m, v, θ` | 7 |
//! | `sign_sgd` | `g, θ` | `θ` | 3 |
//! | `signum` | `g, m, θ` | `m, θ` | 5 |
//! | `ssvr` | `g, g_prev, v, θ` | `v, θ` | 6 |
//! | `triad` (`a ← b + s·c`) | `b, c` | `a` | 3 |
//!
//! `seconds_per_step` is the median over `--steps` timed steps after three warm-up steps.
//! With `--threads N > 1` the buffers are split into fixed chunks of [`CHUNK`] coordinates
//! (independent of `N`), each with its own optimizer state, processed by a rayon pool of
//! `N` threads. Every update here is element-wise, so the numbers are bitwise the same as
//! with one thread.

use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use gdlab_core::transform::{update_and_apply, Transform};
use gdlab_core::{Real, Seed};
use gdlab_optim::alias;
use gdlab_optim::kernel::storm_sign_step;
use gdlab_optim::transform::AdamConfig;
use rayon::prelude::*;
use serde::Serialize;

use crate::{out, Outcome};

/// Coordinates per parallel chunk (256 KiB of f32): fixed, so the split does not depend on
/// the thread count.
pub(crate) const CHUNK: usize = 1 << 16;

/// Warm-up steps before timing (page faults, caches, lazily zeroed state).
const WARMUP_STEPS: usize = 3;

/// Learning rate of every benchmarked optimizer (the peer script uses the same).
const LEARNING_RATE: f64 = 1e-3;
/// Signum's momentum.
const SIGNUM_MOMENTUM: f64 = 0.9;
/// SSVR's `β` (weight of the fresh gradient).
const SSVR_BETA: f64 = 0.1;
/// The triad's scalar.
const TRIAD_SCALAR: f64 = 3.0;

#[derive(Debug, Subcommand)]
pub(crate) enum BenchCmd {
    /// Time one optimizer step, θ ← θ + T(g), fused into one pass over the buffers.
    Optim {
        /// The update to time.
        #[arg(long, value_enum)]
        optimizer: BenchOptimizer,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Time the STREAM triad a ← b + s·c, the memory-bandwidth reference.
    Triad {
        #[command(flatten)]
        common: CommonArgs,
    },
}

#[derive(Debug, Args)]
pub(crate) struct CommonArgs {
    /// Number of coordinates.
    #[arg(long, default_value_t = 10_000_000, value_parser = clap::value_parser!(u64).range(1..=(1u64 << 34)))]
    dim: u64,
    /// Element type.
    #[arg(long, value_enum, default_value_t = BenchDtype::F32)]
    dtype: BenchDtype,
    /// Worker threads (fixed chunks of 65536 coordinates; 1 = no pool, one pass).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=1024))]
    threads: u64,
    /// Timed steps (after 3 warm-up steps); the median is reported.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    steps: u64,
    /// Print one JSON object instead of a sentence.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum BenchOptimizer {
    /// `alias::adam(1e-3, defaults, 0)`.
    Adam,
    /// `alias::sign_sgd(1e-3)`.
    #[value(name = "sign_sgd")]
    SignSgd,
    /// `alias::signum(1e-3, 0.9)`.
    Signum,
    /// The SSVR step: STORM estimator (β = 0.1) and sign step, `kernel::storm_sign_step`.
    Ssvr,
}

impl BenchOptimizer {
    fn name(self) -> &'static str {
        match self {
            BenchOptimizer::Adam => "adam",
            BenchOptimizer::SignSgd => "sign_sgd",
            BenchOptimizer::Signum => "signum",
            BenchOptimizer::Ssvr => "ssvr",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum BenchDtype {
    F32,
    F64,
}

/// What is timed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kernel {
    Optim(BenchOptimizer),
    Triad,
}

impl Kernel {
    fn name(self) -> &'static str {
        match self {
            Kernel::Optim(o) => o.name(),
            Kernel::Triad => "triad",
        }
    }

    /// Buffers read or written once per step (see the module docs).
    fn buffers(self) -> u64 {
        match self {
            Kernel::Optim(BenchOptimizer::Adam) => 7,
            Kernel::Optim(BenchOptimizer::SignSgd) | Kernel::Triad => 3,
            Kernel::Optim(BenchOptimizer::Signum) => 5,
            Kernel::Optim(BenchOptimizer::Ssvr) => 6,
        }
    }
}

/// The JSON printed by `--json`.
#[derive(Debug, Serialize)]
struct Measurement {
    optimizer: &'static str,
    dim: u64,
    dtype: &'static str,
    threads: u64,
    steps: u64,
    seconds_per_step: f64,
    bytes_per_step: u64,
    gb_per_s: f64,
}

pub(crate) fn dispatch(cmd: BenchCmd) -> Result<Outcome> {
    let (kernel, common) = match cmd {
        BenchCmd::Optim { optimizer, common } => (Kernel::Optim(optimizer), common),
        BenchCmd::Triad { common } => (Kernel::Triad, common),
    };
    let dim = usize::try_from(common.dim).context("`--dim` does not fit this machine")?;
    let threads = usize::try_from(common.threads).context("`--threads` is too large")?;
    let steps = usize::try_from(common.steps).context("`--steps` is too large")?;
    let (seconds, dtype, size) = match common.dtype {
        BenchDtype::F32 => (time_kernel::<f32>(kernel, dim, threads, steps)?, "f32", 4),
        BenchDtype::F64 => (time_kernel::<f64>(kernel, dim, threads, steps)?, "f64", 8),
    };
    let bytes_per_step = kernel.buffers() * size * common.dim;
    let m = Measurement {
        optimizer: kernel.name(),
        dim: common.dim,
        dtype,
        threads: common.threads,
        steps: common.steps,
        seconds_per_step: seconds,
        bytes_per_step,
        gb_per_s: bytes_per_step as f64 / seconds / 1e9,
    };
    if common.json {
        out(&(serde_json::to_string(&m)? + "\n"))?;
    } else {
        out(&format!(
            "{} {} dim={} threads={}: {:.3} ms/step (median of {}), {} bytes/step, {:.2} GB/s\n",
            m.optimizer,
            m.dtype,
            m.dim,
            m.threads,
            m.seconds_per_step * 1e3,
            m.steps,
            m.bytes_per_step,
            m.gb_per_s
        ))?;
    }
    Ok(Outcome::Ok)
}

/// A zero buffer of `n` elements, or an error (not an abort) when memory is short.
fn zeros<F: Real>(n: usize) -> Result<Vec<F>> {
    let mut v = Vec::new();
    v.try_reserve_exact(n)
        .with_context(|| format!("allocating {n} {} for the benchmark", F::NAME))?;
    v.resize(n, F::zero());
    Ok(v)
}

/// Deterministic data in [−1, 1) from a SplitMix64 stream.
fn filled<F: Real>(n: usize, seed: Seed) -> Result<Vec<F>> {
    let mut v = zeros(n)?;
    for (i, x) in v.iter_mut().enumerate() {
        let bits =
            gdlab_core::seed::splitmix64(seed.0 ^ (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        *x = F::from_f64((bits >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0);
    }
    Ok(v)
}

/// Median seconds of `steps` timed calls of `step(k)` after [`WARMUP_STEPS`] untimed ones.
fn median_seconds(steps: usize, mut step: impl FnMut(u64) -> Result<()>) -> Result<f64> {
    for k in 0..WARMUP_STEPS {
        step(k as u64)?;
    }
    let mut times = Vec::with_capacity(steps);
    for k in 0..steps {
        let t = Instant::now();
        step((WARMUP_STEPS + k) as u64)?;
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    let mid = times.len() / 2;
    Ok(if times.len() % 2 == 1 {
        times[mid]
    } else {
        0.5 * (times[mid - 1] + times[mid])
    })
}

/// The buffers of one benchmark and how to advance them by one step.
pub(crate) struct Workload<F: Real> {
    kernel: Kernel,
    /// `θ` (or the triad's `a`).
    pub(crate) params: Vec<F>,
    /// `g` (or the triad's `b`).
    grad: Vec<F>,
    /// SSVR's `g_prev` (or the triad's `c`); empty otherwise.
    grad_prev: Vec<F>,
    /// SSVR's estimator `v`; empty otherwise.
    pub(crate) v: Vec<F>,
}

impl<F: Real> Workload<F> {
    pub(crate) fn new(kernel: Kernel, dim: usize) -> Result<Self> {
        let two_inputs = matches!(kernel, Kernel::Optim(BenchOptimizer::Ssvr) | Kernel::Triad);
        Ok(Workload {
            kernel,
            params: if kernel == Kernel::Triad {
                zeros(dim)?
            } else {
                filled(dim, Seed(1))?
            },
            grad: filled(dim, Seed(2))?,
            grad_prev: if two_inputs {
                filled(dim, Seed(3))?
            } else {
                Vec::new()
            },
            v: if kernel == Kernel::Optim(BenchOptimizer::Ssvr) {
                filled(dim, Seed(4))?
            } else {
                Vec::new()
            },
        })
    }

    /// Runs `steps` timed steps on `threads` threads; returns the median seconds per step.
    pub(crate) fn time(&mut self, threads: usize, steps: usize) -> Result<f64> {
        let pool = (threads > 1)
            .then(|| rayon::ThreadPoolBuilder::new().num_threads(threads).build())
            .transpose()
            .context("starting the thread pool")?;
        let par = pool.is_some();
        let mut run = || -> Result<f64> {
            let lr = LEARNING_RATE;
            match self.kernel {
                Kernel::Optim(BenchOptimizer::Adam) => {
                    let opt = alias::adam(lr, AdamConfig::default(), 0.0)?;
                    self.time_transform(&opt, par, steps)
                }
                Kernel::Optim(BenchOptimizer::SignSgd) => {
                    self.time_transform(&alias::sign_sgd(lr)?, par, steps)
                }
                Kernel::Optim(BenchOptimizer::Signum) => {
                    self.time_transform(&alias::signum(lr, SIGNUM_MOMENTUM)?, par, steps)
                }
                Kernel::Optim(BenchOptimizer::Ssvr) => self.time_ssvr(par, steps),
                Kernel::Triad => self.time_triad(par, steps),
            }
        };
        match &pool {
            Some(pool) => pool.install(run),
            None => run(),
        }
    }

    fn time_transform<T: Transform<F>>(&mut self, opt: &T, par: bool, steps: usize) -> Result<f64> {
        let (params, grad) = (&mut self.params, &mut self.grad);
        if !par {
            let mut state = opt.init(params);
            return median_seconds(steps, |k| {
                Ok(update_and_apply(opt, params, grad, &mut state, k)?)
            });
        }
        let mut states: Vec<T::State> = params.chunks(CHUNK).map(|p| opt.init(p)).collect();
        median_seconds(steps, |k| {
            params
                .par_chunks_mut(CHUNK)
                .zip(grad.par_chunks_mut(CHUNK))
                .zip(states.par_iter_mut())
                .try_for_each(|((p, g), s)| update_and_apply(opt, p, g, s, k))?;
            Ok(())
        })
    }

    fn time_ssvr(&mut self, par: bool, steps: usize) -> Result<f64> {
        let beta = F::from_f64(SSVR_BETA);
        let (params, v, g, gp) = (&mut self.params, &mut self.v, &self.grad, &self.grad_prev);
        median_seconds(steps, |_| {
            if par {
                params
                    .par_chunks_mut(CHUNK)
                    .zip(v.par_chunks_mut(CHUNK))
                    .zip(g.par_chunks(CHUNK).zip(gp.par_chunks(CHUNK)))
                    .for_each(|((p, v), (g, gp))| {
                        storm_sign_step(p, v, g, gp, beta, LEARNING_RATE)
                    });
            } else {
                storm_sign_step(params, v, g, gp, beta, LEARNING_RATE);
            }
            Ok(())
        })
    }

    fn time_triad(&mut self, par: bool, steps: usize) -> Result<f64> {
        let s = F::from_f64(TRIAD_SCALAR);
        let (a, b, c) = (&mut self.params, &self.grad, &self.grad_prev);
        median_seconds(steps, |_| {
            if par {
                a.par_chunks_mut(CHUNK)
                    .zip(b.par_chunks(CHUNK).zip(c.par_chunks(CHUNK)))
                    .for_each(|(a, (b, c))| triad(a, b, c, s));
            } else {
                triad(a, b, c, s);
            }
            Ok(())
        })
    }
}

/// `a ← b + s·c`.
fn triad<F: Real>(a: &mut [F], b: &[F], c: &[F], s: F) {
    for ((ai, &bi), &ci) in a.iter_mut().zip(b).zip(c) {
        *ai = bi + s * ci;
    }
}

fn time_kernel<F: Real>(kernel: Kernel, dim: usize, threads: usize, steps: usize) -> Result<f64> {
    Workload::<F>::new(kernel, dim)?.time(threads, steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bits<F: Real>(xs: &[F]) -> Vec<u64> {
        xs.iter().map(|x| x.as_f64().to_bits()).collect()
    }

    /// Runs `steps` steps and returns `(θ, v, g)` after them.
    fn after<F: Real>(kernel: Kernel, dim: usize, threads: usize) -> [Vec<u64>; 3] {
        let mut w = Workload::<F>::new(kernel, dim).unwrap();
        w.time(threads, 4).unwrap();
        [bits(&w.params), bits(&w.v), bits(&w.grad)]
    }

    #[test]
    fn threads_do_not_change_a_bit() {
        // Three and a half chunks, so the last chunk is partial.
        let dim = 3 * CHUNK + CHUNK / 2 + 7;
        for kernel in [
            Kernel::Optim(BenchOptimizer::Adam),
            Kernel::Optim(BenchOptimizer::SignSgd),
            Kernel::Optim(BenchOptimizer::Signum),
            Kernel::Optim(BenchOptimizer::Ssvr),
            Kernel::Triad,
        ] {
            let one = after::<f32>(kernel, dim, 1);
            assert_eq!(after::<f32>(kernel, dim, 4), one, "{kernel:?} f32");
            assert_eq!(
                after::<f64>(kernel, dim, 3),
                after::<f64>(kernel, dim, 1),
                "{kernel:?} f64"
            );
            // The parameters moved, and the fused step only read the gradient, so every
            // timed step saw the same gradient (as `p.grad` in the peer script).
            let fresh = Workload::<f32>::new(kernel, dim).unwrap();
            assert_ne!(one[0], bits(&fresh.params), "{kernel:?} did not move");
            assert_eq!(one[2], bits(&fresh.grad), "{kernel:?} wrote the gradient");
        }
    }

    #[test]
    fn bytes_per_step_match_the_table() {
        let b = |k: Kernel| k.buffers();
        assert_eq!(b(Kernel::Optim(BenchOptimizer::Adam)), 7);
        assert_eq!(b(Kernel::Optim(BenchOptimizer::SignSgd)), 3);
        assert_eq!(b(Kernel::Optim(BenchOptimizer::Signum)), 5);
        assert_eq!(b(Kernel::Optim(BenchOptimizer::Ssvr)), 6);
        assert_eq!(b(Kernel::Triad), 3);
    }
}
