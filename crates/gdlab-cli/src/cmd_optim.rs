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
