//! `gdlab privacy ...`: matrix-factorization mechanisms (BSR and baselines) and noise
//! calibration.

use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Subcommand, ValueEnum};
use gdlab_privacy::accounting::{calibrate, Calibrated, Calibration};
use gdlab_privacy::aof::AofOptions;
use gdlab_privacy::metrics::lower_bound;
use gdlab_privacy::sensitivity::Participation;
use gdlab_privacy::strategy::{factorize, Factorization, StrategyKind};
use gdlab_privacy::workload::Workload;
use serde_json::json;

use crate::{out, Outcome};

/// Largest `n` for the dense `O(n³)` parts (AOF, the SVD of the lower bound).
const DENSE_MAX_N: usize = 2000;
/// Largest `n` accepted at all (coefficient-space algebra is `O(n·p)`).
const MAX_N: u32 = 10_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum WorkloadArg {
    /// SGD with momentum β and weight-decay multiplier α.
    Momentum,
    /// Prefix sums (α = 1, β = 0).
    PrefixSum,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum StrategyArg {
    /// Banded square root (bandwidth from --bandwidth; default b, or n for single participation).
    Bsr,
    /// Full square root.
    Sqrt,
    /// C = I (plain DP-SGD).
    Identity,
    /// C = A (noise on the output).
    A,
    /// Approximately optimal factorization (numerical optimization, n ≤ 2000).
    Aof,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum MethodArg {
    /// Exact analytic Gaussian mechanism.
    Analytic,
    /// √(2 ln(1.25/δ))/ε (the BSR authors' code; proven only for ε < 1).
    Classical,
    /// Both, labelled.
    Both,
}

#[derive(Debug, Subcommand)]
pub(crate) enum PrivacyCmd {
    /// Factorize a workload A = B·C and print sensitivity, errors and timing (spec §1–3).
    Factorize {
        /// Workload family.
        #[arg(long, value_enum, default_value = "momentum")]
        workload: WorkloadArg,
        /// Weight-decay multiplier α ∈ (0, 1] (1 = no decay).
        #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
        alpha: f64,
        /// Momentum β ∈ [0, α].
        #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
        beta: f64,
        /// Number of steps n ≥ 1.
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_N)))]
        n: u32,
        /// Maximum participations k (with --separation; omit both for single participation).
        #[arg(long)]
        participations: Option<u32>,
        /// Minimum separation b between participations (with --participations).
        #[arg(long)]
        separation: Option<u32>,
        /// Strategy.
        #[arg(long, value_enum)]
        strategy: StrategyArg,
        /// BSR bandwidth p ∈ [1, n] (diagonal included).
        #[arg(long)]
        bandwidth: Option<u32>,
        /// AOF iteration cap.
        #[arg(long, default_value_t = 3000)]
        aof_iters: u32,
        /// AOF wall-clock cap in seconds.
        #[arg(long, default_value_t = 10.0)]
        aof_seconds: f64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Noise multiplier σ for one Gaussian release at (ε, δ) (spec §4).
    Calibrate {
        /// ε > 0.
        #[arg(long, allow_negative_numbers = true)]
        epsilon: f64,
        /// δ ∈ (0, 1).
        #[arg(long, allow_negative_numbers = true)]
        delta: f64,
        /// L2 sensitivity Δ > 0 (σ = multiplier·Δ).
        #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
        sensitivity: f64,
        /// Calibration method.
        #[arg(long, value_enum, default_value = "both")]
        method: MethodArg,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

pub(crate) fn dispatch(cmd: PrivacyCmd) -> Result<Outcome> {
    match cmd {
        PrivacyCmd::Factorize {
            workload,
            alpha,
            beta,
            n,
            participations,
            separation,
            strategy,
            bandwidth,
            aof_iters,
            aof_seconds,
            json,
        } => {
            let n = n as usize;
            let w = match workload {
                WorkloadArg::Momentum => Workload::momentum(alpha, beta, n),
                WorkloadArg::PrefixSum => Workload::prefix_sum(n),
            }
            .context("invalid workload")?;
            let part = match (participations, separation) {
                (None, None) => Participation::Single,
                (Some(k), Some(b)) => Participation::min_separation(b as usize, k as usize, n)
                    .context("invalid participation (--participations k, --separation b)")?,
                _ => bail!(
                    "`--participations` and `--separation` must be given together (or neither, for single participation)"
                ),
            };
            let kind = match strategy {
                StrategyArg::Bsr => {
                    let p = match (bandwidth, part) {
                        (Some(p), _) => p as usize,
                        (None, Participation::MinSeparation { min_sep, .. }) => min_sep,
                        (None, Participation::Single) => n,
                    };
                    if p == 0 || p > n {
                        bail!("`--bandwidth` must be in [1, n = {n}], got {p}");
                    }
                    StrategyKind::Bsr { bandwidth: p }
                }
                StrategyArg::Sqrt => StrategyKind::Sqrt,
                StrategyArg::Identity => StrategyKind::Identity,
                StrategyArg::A => StrategyKind::Workload,
                StrategyArg::Aof => StrategyKind::Aof,
            };
            if bandwidth.is_some() && strategy != StrategyArg::Bsr {
                bail!("`--bandwidth` applies to `--strategy bsr` only");
            }
            if strategy == StrategyArg::Aof && n > DENSE_MAX_N {
                bail!("`--n` must be ≤ {DENSE_MAX_N} for `--strategy aof` (dense O(n³) per iteration), got {n}");
            }
            if aof_iters == 0 {
                bail!("`--aof-iters` must be ≥ 1, got 0");
            }
            if !(aof_seconds > 0.0 && aof_seconds.is_finite()) {
                bail!("`--aof-seconds` must be in (0, ∞), got {aof_seconds}");
            }
            let opts = AofOptions {
                max_iters: aof_iters as usize,
                max_seconds: aof_seconds,
                ..AofOptions::default()
            };
            let start = Instant::now();
            let f = factorize(&w, kind, part, Some(opts)).context("factorizing")?;
            let seconds = start.elapsed().as_secs_f64();
            let lb = if n <= DENSE_MAX_N {
                Some(lower_bound(&w, part).context("lower bound")?)
            } else {
                None
            };
            print_factorization(&f, alpha_beta(&w), lb, seconds, json)?;
            Ok(Outcome::Ok)
        }
        PrivacyCmd::Calibrate {
            epsilon,
            delta,
            sensitivity,
            method,
            json,
        } => {
            let methods: &[Calibration] = match method {
                MethodArg::Analytic => &[Calibration::Analytic],
                MethodArg::Classical => &[Calibration::Classical],
                MethodArg::Both => &[Calibration::Analytic, Calibration::Classical],
            };
            let results = methods
                .iter()
                .map(|m| calibrate(epsilon, delta, sensitivity, *m))
                .collect::<Result<Vec<Calibrated>, _>>()
                .context("invalid calibration input")?;
            if json {
                let mut obj = serde_json::Map::new();
                obj.insert("epsilon".into(), json!(epsilon));
                obj.insert("delta".into(), json!(delta));
                obj.insert("sensitivity".into(), json!(sensitivity));
                for r in &results {
                    obj.insert(r.method.name().into(), serde_json::to_value(r)?);
                }
                out(&(serde_json::to_string_pretty(&serde_json::Value::Object(obj))? + "\n"))?;
            } else {
                let mut s = format!("ε = {epsilon}, δ = {delta}, sensitivity Δ = {sensitivity}\n");
                for r in &results {
                    s += &format!(
                        "{:<9} noise multiplier σ/Δ = {:.12}  σ = {:.12}  (exact δ(ε) at this σ: {:.6e}){}\n",
                        r.method.name(),
                        r.noise_multiplier,
                        r.sigma,
                        r.achieved_delta,
                        if r.method == Calibration::Classical && !r.classical_proven {
                            "  [classical formula only proven for ε < 1]"
                        } else {
                            ""
                        }
                    );
                }
                out(&s)?;
            }
            Ok(Outcome::Ok)
        }
    }
}

fn alpha_beta(w: &Workload) -> (f64, f64) {
    w.alpha_beta().unwrap_or((f64::NAN, f64::NAN))
}

fn print_factorization(
    f: &Factorization,
    (alpha, beta): (f64, f64),
    lb: Option<f64>,
    seconds: f64,
    json: bool,
) -> Result<()> {
    let (k, b) = match f.participation {
        Participation::Single => (1, f.n),
        Participation::MinSeparation { min_sep, .. } => (f.participation.effective_k(f.n), min_sep),
    };
    let coef_summary = f.coefficients().map(|c| {
        let cs = c.coefs();
        let first: Vec<f64> = cs.iter().take(8).copied().collect();
        json!({
            "bandwidth": cs.len(),
            "first": first,
            "last": cs[cs.len() - 1],
            "non_negative_non_increasing": c.is_nonneg_nonincreasing(),
        })
    });
    let aof = f.aof.as_ref().map(|r| {
        json!({
            "iterations": r.iterations,
            "evaluations": r.evaluations,
            "stop": r.stop,
        })
    });
    if json {
        let j = json!({
            "strategy": f.kind.name(),
            "bandwidth": match f.kind { StrategyKind::Bsr { bandwidth } => Some(bandwidth), _ => None },
            "alpha": alpha,
            "beta": beta,
            "n": f.n,
            "participations": k,
            "separation": b,
            "coefficients": coef_summary,
            "sensitivity": f.sensitivity,
            "rmse": f.errors.rmse,
            "frobenius_b": f.errors.frobenius_b,
            "max_se": f.errors.max_se,
            "mean_se": f.errors.mean_se,
            "lower_bound": lb,
            "aof": aof,
            "seconds": seconds,
        });
        out(&(serde_json::to_string_pretty(&j)? + "\n"))?;
        return Ok(());
    }
    let mut s = format!(
        "strategy {} · α = {alpha}, β = {beta} · n = {} · k = {k}, b = {b}\n",
        match f.kind {
            StrategyKind::Bsr { bandwidth } => format!("bsr (p = {bandwidth})"),
            other => other.name().to_string(),
        },
        f.n
    );
    if let Some(c) = f.coefficients() {
        let cs = c.coefs();
        let first: Vec<String> = cs.iter().take(6).map(|x| format!("{x:.6}")).collect();
        s += &format!(
            "coefficients: {} stored, first [{}{}], last {:.6e}, non-negative non-increasing: {}\n",
            cs.len(),
            first.join(", "),
            if cs.len() > 6 { ", …" } else { "" },
            cs[cs.len() - 1],
            c.is_nonneg_nonincreasing()
        );
    }
    if let Some(r) = &f.aof {
        s += &format!(
            "aof: {} iterations, {} evaluations, stop: {:?}\n",
            r.iterations, r.evaluations, r.stop
        );
    }
    s += &format!(
        "sensitivity: {:.10} ({:?}; {})\n",
        f.sensitivity.value, f.sensitivity.kind, f.sensitivity.method
    );
    s += &format!(
        "E = ‖B‖_F·sens/√n = {:.10}\nMaxSE = {:.10e}\nMeanSE = {:.10e}\n",
        f.errors.rmse, f.errors.max_se, f.errors.mean_se
    );
    s += &match lb {
        Some(v) => format!("lower bound √k·‖A‖_*/n = {v:.10}\n"),
        None => format!("lower bound: n/a (n > {DENSE_MAX_N}: dense SVD skipped)\n"),
    };
    s += &format!("seconds: {seconds:.6}\n");
    out(&s)?;
    Ok(())
}
