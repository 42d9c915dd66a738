//! `gdlab`: run reproduction studies, replay optimizers, inspect components.
//!
//! Exit codes: 0 when every requested study ran (PASS or FAIL) or the command succeeded;
//! 1 when a study FAILed under `--strict`; 2 on any error (bad input, I/O, a study that
//! could not reach a verdict). A closed output pipe counts as success.

// The binary's job is printing.
#![allow(clippy::print_stdout)]

mod cmd_bench;
mod cmd_decentral;
mod cmd_diagnostics;
mod cmd_distributed;
mod cmd_dynamics;
mod cmd_heavy_tailed;
mod cmd_optim;
mod cmd_privacy;
mod cmd_quantum;
mod cmd_sampling;
mod cmd_study;
mod cmd_wasserstein;
mod cmd_zero123;
mod input;

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc instead of the system allocator. candle allocates and frees a fresh buffer for
/// every tensor op; glibc's malloc hands buffers above its mmap threshold back to the OS
/// and trims the heap, so each training step of the `zero-to-hero` toy took ~10 M minor
/// page faults per run. Measured with `crates/gdlab-diffusion/examples/toy_timing.rs`
/// (one thread, loaded machine): backward pass 224 ms (glibc) → 119 ms (mimalloc), page
/// faults 322 k → 3 k for 10 steps.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// gdlab: gradient-descent research components, reproduction studies and their reports.
///
/// With no command, runs every study in quick mode into `gdlab-out/`
/// (the same as `gdlab study run all`).
#[derive(Debug, Parser)]
#[command(name = "gdlab", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List and run the paper reproduction studies.
    #[command(subcommand)]
    Study(cmd_study::StudyCmd),
    /// Optimizer tools.
    #[command(subcommand)]
    Optim(cmd_optim::OptimCmd),
    /// Sampling-order tools (random reshuffling vs with-replacement).
    #[command(subcommand)]
    Sampling(cmd_sampling::SamplingCmd),
    /// Time optimizer steps and a STREAM triad (for `benches/peers/optim.py`).
    #[command(subcommand)]
    Bench(cmd_bench::BenchCmd),
    /// Heavy-tailed class imbalance on your own corpus (bigram model, GD vs Adam vs sign).
    #[command(subcommand)]
    HeavyTailed(cmd_heavy_tailed::HeavyTailedCmd),
    /// Differential privacy: matrix factorizations (BSR, baselines, AOF) and calibration.
    #[command(subcommand)]
    Privacy(cmd_privacy::PrivacyCmd),
    /// Decentralized GD: graphs, mixing matrices and ρ, configured experiments.
    #[command(subcommand)]
    Decentral(cmd_decentral::DecentralCmd),
    /// High-dimensional SGD dynamics: teacher-mixture ODEs vs simulation, phase diagrams.
    #[command(subcommand)]
    Dynamics(cmd_dynamics::DynamicsCmd),
    /// Wasserstein flows on particles: GD, mirror descent, preconditioned GD.
    #[command(subcommand)]
    Wasserstein(cmd_wasserstein::WassersteinCmd),
    /// Trajectory diagnostics: tail-index (α̂) estimation of iterates or samples.
    #[command(subcommand)]
    Diagnostics(cmd_diagnostics::DiagnosticsCmd),
    /// Quantum communication: protocol counts and a JSON-circuit state-vector simulator.
    #[command(subcommand)]
    Quantum(cmd_quantum::QuantumCmd),
    /// Zero-1-to-3 novel-view synthesis with your own weights, plain and Zero-to-Hero.
    #[command(subcommand)]
    Zero123(cmd_zero123::Zero123Cmd),
}

/// How a command ended, mapped to the process exit code.
pub(crate) enum Outcome {
    /// Everything requested ran.
    Ok,
    /// A study failed under `--strict`.
    StrictFail,
}

/// Writes to stdout; a closed pipe is reported as `BrokenPipe` so `main` can exit 0.
pub(crate) fn out(text: &str) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Studies parallelise over runs, seeds and configurations on their own `--threads`
/// workers. candle's CPU kernels would additionally split every matmul (over
/// `RAYON_NUM_THREADS` threads) and every large element-wise op (over a spinning barrier
/// pool of `CANDLE_NUM_THREADS` threads); for the small networks of the studies that costs
/// far more than it saves (the `zero-to-hero` toy's training step: 1.6 s with candle's
/// threads, 0.26 s without, on the shared 2-core machine). Both variables are read by
/// candle only, and only when set here, before any thread exists; a value the user set
/// wins.
fn candle_ops_single_threaded() {
    for var in ["RAYON_NUM_THREADS", "CANDLE_NUM_THREADS"] {
        if std::env::var_os(var).is_none() {
            std::env::set_var(var, "1");
        }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout with code 0.
            if !e.use_stderr() {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            // A usage error is one clear line (clap's first line), exit code 2.
            let text = e.render().to_string();
            let first = text
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("invalid arguments");
            eprintln!("{} (see `gdlab --help`)", first.trim_end());
            return ExitCode::from(2);
        }
    };
    if matches!(cli.command, None | Some(Command::Study(_))) {
        candle_ops_single_threaded();
    }
    let result = match cli.command {
        None => cmd_study::run(cmd_study::RunArgs::defaults_all()),
        Some(Command::Study(c)) => cmd_study::dispatch(c),
        Some(Command::Optim(c)) => cmd_optim::dispatch(c),
        Some(Command::Sampling(c)) => cmd_sampling::dispatch(c),
        Some(Command::Bench(c)) => cmd_bench::dispatch(c),
        Some(Command::HeavyTailed(c)) => cmd_heavy_tailed::dispatch(c),
        Some(Command::Privacy(c)) => cmd_privacy::dispatch(c),
        Some(Command::Decentral(c)) => cmd_decentral::dispatch(c),
        Some(Command::Dynamics(c)) => cmd_dynamics::dispatch(c),
        Some(Command::Wasserstein(c)) => cmd_wasserstein::dispatch(c),
        Some(Command::Diagnostics(c)) => cmd_diagnostics::dispatch(c),
        Some(Command::Quantum(c)) => cmd_quantum::dispatch(c),
        Some(Command::Zero123(c)) => cmd_zero123::dispatch(c),
    };
    match result {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::StrictFail) => ExitCode::from(1),
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
