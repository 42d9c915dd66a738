//! `gdlab sampling ...`

use anyhow::{Context, Result};
use clap::Subcommand;
use gdlab_sampling::amgm::{counterexample_family, ones_split};
use gdlab_sampling::epoch::{epoch_norms, rr_epoch_operator_dp, DP_MAX_N};
use serde_json::json;

use crate::{out, Outcome};

#[derive(Debug, Subcommand)]
pub(crate) enum SamplingCmd {
    /// ‖E_WR‖ and ‖E_RR‖ of the AM-GM counterexample family at size n (spec §2.1;
    /// n = 5 is De Sa's instance, other n the spec's inferred family).
    Amgm {
        /// Number of matrices (= their dimension), 2 ≤ n ≤ 22 (subset DP).
        #[arg(long, value_parser = clap::value_parser!(u32).range(2..=i64::from(DP_MAX_N as u32)))]
        n: u32,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

pub(crate) fn dispatch(cmd: SamplingCmd) -> Result<Outcome> {
    match cmd {
        SamplingCmd::Amgm { n, json } => {
            let n = n as usize;
            let a = counterexample_family(n)
                .with_context(|| format!("building the family at n = {n}"))?;
            let norms = epoch_norms(&a)?;
            let split = ones_split(&rr_epoch_operator_dp(&a)?)?;
            if json {
                let j = json!({
                    "n": n,
                    "e_wr_norm": norms.wr,
                    "e_rr_norm": norms.rr,
                    "ratio": norms.ratio,
                    "e_rr_eigenvalue_on_ones": split.on_ones,
                    "e_rr_eigenvalue_on_complement": split.on_complement,
                    "violates_amgm": norms.rr > norms.wr,
                });
                out(&(serde_json::to_string_pretty(&j)? + "\n"))?;
            } else {
                out(&format!(
                    "n = {n}\n‖E_WR‖ = {:.12}\n‖E_RR‖ = {:.12}\nratio ‖E_RR‖/‖E_WR‖ = {:.12}\neigenvalues of E_RR: {:.12} on 1, {:.12} on 1⊥\n{}\n",
                    norms.wr,
                    norms.rr,
                    norms.ratio,
                    split.on_ones,
                    split.on_complement,
                    if norms.rr > norms.wr {
                        "violates the operator AM-GM conjecture (‖E_RR‖ > ‖E_WR‖)"
                    } else {
                        "no violation (‖E_RR‖ ≤ ‖E_WR‖)"
                    }
                ))?;
            }
            Ok(Outcome::Ok)
        }
    }
}
