//! `gdlab optim ...`

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Subcommand, ValueEnum};
use gdlab_core::Real;
use gdlab_optim::replay::{replay_spec, row_layout};
use gdlab_optim::OptimizerSpec;
use serde::Serialize;

use crate::input::load_array;
use crate::{out, Outcome};

#[derive(Debug, Subcommand)]
pub(crate) enum OptimCmd {
    /// Distributed sign methods with simulated workers on the spec's non-convex logistic
    /// finite sum (n = 2000, d = 50): signSGD with majority vote or SSVR-MV (options 1, 2).
    /// Prints the final exact ‖∇f‖₁ and the bits communicated.
    MajorityVote(MajorityVoteArgs),
    /// The same methods with one worker per rank, from a JSON `--config`: threads by
    /// default, or one process per worker under `mpirun -np K` (built with `--features
    /// mpi`); the server is rank 0. Writes `outcome.json` and `result.json` into `--out`.
    Distributed(crate::cmd_distributed::DistributedArgs),
    /// Apply an optimizer to a given sequence of gradients and print the parameters after
    /// every step, to compare with PyTorch, optax or a NumPy transcription step by step.
    Replay {
        /// The optimizer, e.g. `adam(lr=1e-3,beta1=0.9,beta2=0.999,eps=1e-8)`,
        /// `sgd(lr=0.1,momentum=0.9)`, `signum(lr=1e-3)` or `ssvr(lr=1e-3,beta=0.1)`;
        /// known: sgd, adam, adamw, sign_sgd, signum, sign_momentum, normalized_gd,
        /// rescaled_sign, ssvr, ssvr_fs (a replay of ssvr_fs needs an explicit `period`).
        #[arg(long)]
        optimizer: String,
        /// Initial parameters: JSON `[..]` or a 1-D `.npy` (f64 or f32).
        #[arg(long)]
        params: PathBuf,
        /// Gradients: JSON or `.npy`. One row per step, shape (n_steps, dim), for plain
        /// optimizers; for ssvr shape (n_steps, 2, dim) with rows [g_t, g_prev_t] (the same
        /// sample at x_t and x_{t−1}); for ssvr_fs shape (n_steps, 4, dim) with rows
        /// [g_t, g_prev_t, g_snap_t, mu_t] (mu_t, the full gradient, is read at checkpoints).
        #[arg(long)]
        grads: PathBuf,
        /// Element type the optimizer runs in.
        #[arg(long, value_enum, default_value_t = Dtype::F64)]
        dtype: Dtype,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Dtype {
    F32,
    F64,
}

#[derive(Serialize)]
struct ReplayOutput {
    optimizer: String,
    dtype: &'static str,
    params0: Vec<f64>,
    /// Parameters after each step; only finite rows.
    trajectory: Vec<Vec<f64>>,
    /// `null`, or the 1-based step whose result was not finite (not printed).
    diverged_at_step: Option<usize>,
}

pub(crate) fn dispatch(cmd: OptimCmd) -> Result<Outcome> {
    match cmd {
        OptimCmd::MajorityVote(a) => majority_vote(&a),
        OptimCmd::Distributed(a) => crate::cmd_distributed::distributed(&a),
        OptimCmd::Replay {
            optimizer,
            params,
            grads,
            dtype,
            json,
        } => {
            let spec: OptimizerSpec = optimizer
                .parse()
                .with_context(|| format!("--optimizer `{optimizer}`"))?;
            let p0 = load_array(&params)?.into_vector("--params", &params)?;
            if p0.is_empty() {
                anyhow::bail!("--params {}: empty parameter vector", params.display());
            }
            let layout = row_layout(&spec);
            let g = if layout.len() == 1 {
                load_array(&grads)?
                    .into_rows("--grads", &grads, p0.len())?
                    .into_iter()
                    .map(|row| vec![row])
                    .collect()
            } else {
                load_array(&grads)?.into_steps("--grads", &grads, spec.name(), layout, p0.len())?
            };
            let traj = match dtype {
                Dtype::F64 => run::<f64>(&spec, &p0, &g)?,
                Dtype::F32 => run::<f32>(&spec, &p0, &g)?,
            };
            let diverged = traj.iter().position(|r| r.iter().any(|v| !v.is_finite()));
            let finite = diverged.map_or(traj.len(), |i| i);
            let result = ReplayOutput {
                optimizer: spec.to_string(),
                dtype: match dtype {
                    Dtype::F32 => "f32",
                    Dtype::F64 => "f64",
                },
                params0: p0,
                trajectory: traj[..finite].to_vec(),
                diverged_at_step: diverged.map(|i| i + 1),
            };
            if json {
                out(&(serde_json::to_string_pretty(&result)? + "\n"))?;
            } else {
                let mut text = format!(
                    "# {} ({}); row 0 = initial parameters\n",
                    result.optimizer, result.dtype
                );
                let names: Vec<String> = (0..result.params0.len())
                    .map(|i| format!("p[{i}]"))
                    .collect();
                text += &format!("step\t{}\n", names.join("\t"));
                let rows = std::iter::once(&result.params0).chain(&result.trajectory);
                for (k, row) in rows.enumerate() {
                    text += &format!("{k}\t{}\n", fmt_row(row));
                }
                out(&text)?;
            }
            if let Some(k) = result.diverged_at_step {
                eprintln!("diverged: step {k} produced a non-finite parameter; rows from step {k} on are not printed");
            }
            Ok(Outcome::Ok)
        }
    }
}

fn fmt_row(r: &[f64]) -> String {
    r.iter()
        .map(|v| format!("{v:?}"))
        .collect::<Vec<_>>()
        .join("\t")
}

/// Replays `spec` in `F`; `g[t]` holds the rows of step `t` (one for plain optimizers).
fn run<F: Real>(spec: &OptimizerSpec, p0: &[f64], g: &[Vec<Vec<f64>>]) -> Result<Vec<Vec<f64>>> {
    let p: Vec<F> = p0.iter().map(|&v| F::from_f64(v)).collect();
    let gs: Vec<Vec<Vec<F>>> = g
        .iter()
        .map(|step| {
            step.iter()
                .map(|r| r.iter().map(|&v| F::from_f64(v)).collect())
                .collect()
        })
        .collect();
    let traj = replay_spec(spec, &p, &gs).with_context(|| format!("replaying {spec}"))?;
    Ok(traj
        .into_iter()
        .map(|r| r.into_iter().map(Real::as_f64).collect())
        .collect())
}

#[derive(Debug, clap::Args)]
pub(crate) struct MajorityVoteArgs {
    /// `sign-sgd-mv` or `ssvr-mv`.
    #[arg(long, value_enum, default_value_t = MvMethod::SsvrMv)]
    method: MvMethod,
    /// SSVR-MV server rule: 1 (deterministic majority) or 2 (projection + randomized sign).
    #[arg(long, default_value_t = 1)]
    option: u8,
    /// Number of simulated workers (≥ 1).
    #[arg(long, default_value_t = 4)]
    workers: usize,
    /// Radius R of the stochastic sign (> 0); default 4G with G = max |∂_k f_i(x₁)|.
    #[arg(long, allow_negative_numbers = true)]
    radius: Option<f64>,
    /// β ∈ (0, 1], weight of the fresh gradient (SSVR-MV).
    #[arg(long, default_value_t = 0.5, allow_negative_numbers = true)]
    beta: f64,
    /// Learning rate η ≥ 0.
    #[arg(long, default_value_t = 1e-3, allow_negative_numbers = true)]
    lr: f64,
    /// Rounds T.
    #[arg(long, default_value_t = 2000)]
    steps: u64,
    /// Data split: homogeneous (random) or label-sorted (heterogeneous).
    #[arg(long, value_enum, default_value_t = MvSplit::Homogeneous)]
    split: MvSplit,
    /// Root seed (data and sampling).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum MvMethod {
    SignSgdMv,
    SsvrMv,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum MvSplit {
    Homogeneous,
    LabelSorted,
}

pub(crate) fn majority_vote(a: &MajorityVoteArgs) -> Result<Outcome> {
    use gdlab_core::runner::Every;
    use gdlab_core::Seed;
    use gdlab_optim::majority_vote::{
        max_abs_component_grad, run_majority_vote, split_indices, MajorityVoteConfig,
        MajorityVoteMethod, Shard, ShardSplit, SsvrMvOption,
    };
    use gdlab_studies::problems::LogisticConfig;

    let seed = Seed(a.seed);
    let problem = LogisticConfig::default().generate(seed.derive("ssvr-data"))?;
    let x0 = vec![1.0; gdlab_core::objective::Objective::dim(&problem)];
    let method = match a.method {
        MvMethod::SignSgdMv => MajorityVoteMethod::SignSgdMv,
        MvMethod::SsvrMv => MajorityVoteMethod::SsvrMv {
            option: match a.option {
                1 => SsvrMvOption::One,
                2 => SsvrMvOption::Two,
                o => anyhow::bail!("`option` must be 1 or 2, got {o}"),
            },
            beta: a.beta,
            radius: a
                .radius
                .unwrap_or_else(|| 4.0 * max_abs_component_grad(&problem, &x0)),
        },
    };
    let cfg = MajorityVoteConfig {
        n_workers: a.workers,
        method,
        learning_rate: a.lr,
        batch_size: 1,
        n_steps: a.steps,
    };
    cfg.build()?; // validates every field before any work
    let labels = problem.labels().to_vec();
    let split = match a.split {
        MvSplit::Homogeneous => ShardSplit::Homogeneous {
            seed: seed.derive("shards"),
        },
        MvSplit::LabelSorted => ShardSplit::LabelSorted { labels: &labels },
    };
    let parts = split_indices(
        gdlab_core::objective::FiniteSum::n_components(&problem),
        a.workers,
        &split,
    )?;
    let shards = Shard::all(&problem, &parts)?;
    let o = run_majority_vote(
        &problem,
        &shards,
        &cfg,
        &x0,
        seed.derive("majority-vote"),
        Every::N(10),
    )?;
    let final_l1 = o.trace.tail_mean_grad_l1(0.1);
    let j = serde_json::json!({
        "method": cfg.method.name(),
        "config": cfg.method,
        "n_workers": a.workers,
        "learning_rate": a.lr,
        "n_steps": a.steps,
        "split": format!("{:?}", a.split).to_lowercase(),
        "diverged": o.diverged(),
        "tail_mean_grad_l1": if final_l1.is_finite() { Some(final_l1) } else { None },
        "bits_up": o.comm.bits_up,
        "bits_down": o.comm.bits_down,
        "clipped_fraction": o.clip.clipped_fraction(),
    });
    if a.json {
        out(&(serde_json::to_string_pretty(&j)? + "\n"))?;
    } else {
        out(&format!(
            "{} with {} workers, {} rounds: mean exact ‖∇f‖₁ over the last 10% = {}{}\nbits: {} up, {} down; messages clipped: {:.3}%\n",
            cfg.method.name(), a.workers, a.steps,
            if final_l1.is_finite() { format!("{final_l1:.6}") } else { "n/a".into() },
            if o.diverged() { " (diverged)" } else { "" },
            o.comm.bits_up, o.comm.bits_down, 100.0 * o.clip.clipped_fraction()
        ))?;
    }
    Ok(Outcome::Ok)
}
