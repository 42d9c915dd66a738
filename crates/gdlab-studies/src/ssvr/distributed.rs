//! The distributed part (spec §5a, "optional quick distributed check"; issue: "report"):
//! SSVR-MV Option 1 vs signSGD with majority vote on the same data split over 4 and 8
//! workers, homogeneous vs label-sorted shards, and the follow-up paper's 3-worker floor.
//! Reported, not gated, except the checks listed in [`run`].

use gdlab_core::objective::{FiniteSum, Objective};
use gdlab_core::runner::Every;
use gdlab_core::Seed;
use gdlab_optim::majority_vote::{
    expected_majority_vote, max_abs_component_grad, run_majority_vote, split_indices, FloorExample,
    MajorityVoteConfig, MajorityVoteMethod, MajorityVoteOutcome, Shard, ShardSplit, SsvrMvOption,
};
use rayon::prelude::*;
use serde_json::json;

use super::config::Config;
use super::experiment::tail_start;
use crate::problems::NonConvexLogistic;
use crate::report::{fmt_num, LinePlot, Report, Series};
use crate::study::{RunOpts, StudyError};
use crate::verdict::{Check, Cmp, Verdict};

/// The exact global gradient is recorded every this many rounds in the evaluation runs
/// (the tail metric is the mean over the recorded rounds in the last 10 %: 60 of the 600
/// rounds at T = 6000).
const RECORD_EVERY: u64 = 10;
/// ... and in the tuning runs, which only need a score (12 recorded rounds in the tail):
/// the exact full gradient at every 10th round was most of the study's run time.
const TUNE_RECORD_EVERY: u64 = 50;

/// The floor example, claim: the exact biased fixed point of Option 1 keeps a
/// non-vanishing gradient, `|f'(x*)| ≥ 1/1542` (the follow-up paper's Proposition 1, spec
/// §2.4). The paper prints the bound with an integer denominator, so the comparison
/// allows that rounding: `1542·|f'(x*)| ≥ 1542/1542.5`.
const FLOOR_MIN_RATIO_TO_PAPER: f64 = 1542.0 / 1542.5;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Split {
    Homogeneous,
    LabelSorted,
}

impl Split {
    fn label(self) -> &'static str {
        match self {
            Split::Homogeneous => "homogeneous (random)",
            Split::LabelSorted => "heterogeneous (label-sorted)",
        }
    }
    fn id(self) -> &'static str {
        match self {
            Split::Homogeneous => "homogeneous",
            Split::LabelSorted => "label-sorted",
        }
    }
}

/// A distributed method with its fixed parameters (η is tuned).
#[derive(Clone, Copy, Debug, PartialEq)]
enum MvMethod {
    SignSgdMv,
    /// SSVR-MV Option 1 at `β`; `theorem` marks Theorem 3's β = 1/2.
    SsvrMv {
        beta: f64,
        theorem: bool,
    },
}

impl MvMethod {
    fn label(self) -> String {
        match self {
            MvMethod::SignSgdMv => "signSGD-MV".into(),
            MvMethod::SsvrMv {
                beta,
                theorem: true,
            } => {
                format!("SSVR-MV Option 1, β = {} (Theorem 3)", fmt_num(beta))
            }
            MvMethod::SsvrMv { .. } => "SSVR-MV Option 1, β tuned".into(),
        }
    }
    fn id(self) -> &'static str {
        match self {
            MvMethod::SignSgdMv => "signsgd-mv",
            MvMethod::SsvrMv { theorem: true, .. } => "ssvr-mv-1-theorem",
            MvMethod::SsvrMv { .. } => "ssvr-mv-1-tuned-beta",
        }
    }
    fn config(
        self,
        n_workers: usize,
        learning_rate: f64,
        radius: f64,
        n_steps: u64,
    ) -> MajorityVoteConfig {
        MajorityVoteConfig {
            n_workers,
            method: match self {
                MvMethod::SignSgdMv => MajorityVoteMethod::SignSgdMv,
                MvMethod::SsvrMv { beta, .. } => MajorityVoteMethod::SsvrMv {
                    option: SsvrMvOption::One,
                    beta,
                    radius,
                },
            },
            learning_rate,
            batch_size: 1,
            n_steps,
        }
    }
}

/// One distributed run.
#[derive(Clone, Copy, Debug)]
struct Job {
    workers_index: usize,
    split: Split,
    method: MvMethod,
    learning_rate: f64,
    seed: Seed,
}

/// Tail mean of the exact `‖∇f‖₁` over the recorded rounds `≥ tail_start(T)`; `+∞` if
/// the run diverged.
fn tail_metric(out: &MajorityVoteOutcome, n_steps: u64) -> f64 {
    if out.diverged() {
        return f64::INFINITY;
    }
    let start = tail_start(n_steps);
    let vals: Vec<f64> = out
        .trace
        .steps
        .iter()
        .zip(&out.trace.grad_l1)
        .filter(|(s, _)| **s >= start)
        .map(|(_, g)| *g)
        .collect();
    if vals.is_empty() {
        f64::INFINITY
    } else {
        vals.iter().sum::<f64>() / vals.len() as f64
    }
}

/// Whether `x` is the smallest or largest value of `grid`.
pub(super) fn at_grid_edge(grid: &[f64], x: f64) -> bool {
    grid.iter().all(|&g| g <= x) || grid.iter().all(|&g| g >= x)
}

fn fmt_g(x: f64) -> String {
    if x.is_finite() {
        fmt_num(x)
    } else {
        "diverged".into()
    }
}

/// Runs the distributed part. Checks added:
/// * validation: bits communicated equal `T·(n·d + d)` and worker gradient counts equal
///   their closed forms (`n·T·B` for signSGD-MV, `n·(B + 2B(T − 1))` for SSVR-MV) in every
///   evaluation run;
/// * claim: the floor example's exact biased fixed point keeps `|f'(x*)| ≥ 1/1542`.
#[allow(clippy::too_many_lines)]
pub(super) fn run(
    cfg: &Config,
    opts: &RunOpts,
    problem: &NonConvexLogistic,
    v: &mut Verdict,
    report: &mut Report,
) -> Result<(), StudyError> {
    let dc = &cfg.distributed;
    let (m, d) = (problem.n_components(), problem.dim());
    let t = dc.n_steps;
    report.heading("Distributed: majority vote (SSVR-MV Option 1 vs signSGD-MV)");
    let x1 = vec![1.0; d];
    let g_bound = max_abs_component_grad(problem, &x1);
    let radius = dc.radius_factor * g_bound;
    report.paragraph(&format!(
        "The same data split over n ∈ {:?} workers, each sampling one component of its own shard \
         per round; shards are either a random permutation cut in blocks (homogeneous) or the \
         components sorted by label then cut (heterogeneous: each worker sees mostly one class). \
         signSGD-MV: workers send sign(∇f_j(x; ξ)), the server broadcasts the majority. SSVR-MV \
         Option 1 (the paper's Theorem 3, verified through the follow-up): workers keep the STORM \
         estimator and send the stochastic sign S_R (P(+1) = (1 + v_k/R)/2), the server broadcasts \
         the majority; β = 1/2 and R = 4G with G = max_(i,k) |∂_k f_i(x₁)| = {} (so R = {}), plus \
         β tuned over {:?}. η is tuned over the centralized grid on one seed and the chosen η is \
         rerun on a fresh seed, T = {t} rounds. Metric: exact ‖∇f‖₁ of the global objective, mean \
         over the recorded rounds in the last 10 % (every {RECORD_EVERY}th round; every \
         {TUNE_RECORD_EVERY}th while tuning), and at x_T.",
        dc.n_workers,
        fmt_num(g_bound),
        fmt_num(radius),
        dc.tuned_betas
    ));

    // Shards: one index list per (worker count, split).
    let labels = problem.labels();
    let split_seed = opts.seed.derive("ssvr-mv-split");
    let mut shard_indices: Vec<Vec<Vec<Vec<usize>>>> = Vec::new();
    for &n in &dc.n_workers {
        let homo = split_indices(
            m,
            n,
            &ShardSplit::Homogeneous {
                seed: split_seed.index(n as u64),
            },
        )?;
        let hetero = split_indices(m, n, &ShardSplit::LabelSorted { labels })?;
        shard_indices.push(vec![homo, hetero]);
    }
    let split_index = |s: Split| match s {
        Split::Homogeneous => 0,
        Split::LabelSorted => 1,
    };
    let mut methods = vec![
        MvMethod::SignSgdMv,
        MvMethod::SsvrMv {
            beta: dc.beta,
            theorem: true,
        },
    ];
    methods.extend(dc.tuned_betas.iter().map(|&beta| MvMethod::SsvrMv {
        beta,
        theorem: false,
    }));
    let run_job = |job: &Job, every: u64| -> Result<MajorityVoteOutcome, StudyError> {
        let n = dc.n_workers[job.workers_index];
        let idx = &shard_indices[job.workers_index][split_index(job.split)];
        let shards = Shard::all(problem, idx)?;
        let cfg = job.method.config(n, job.learning_rate, radius, t);
        Ok(run_majority_vote(
            problem,
            &shards,
            &cfg,
            &x1,
            job.seed,
            Every::N(every),
        )?)
    };

    // ---- tuning on one seed ----
    let tune_seed = opts.seed.derive("ssvr-mv-tune");
    let mut tune_jobs = Vec::new();
    for wi in 0..dc.n_workers.len() {
        for split in [Split::Homogeneous, Split::LabelSorted] {
            for &method in &methods {
                for &lr in &dc.learning_rates {
                    tune_jobs.push(Job {
                        workers_index: wi,
                        split,
                        method,
                        learning_rate: lr,
                        seed: tune_seed,
                    });
                }
            }
        }
    }
    let tune_out: Vec<f64> = tune_jobs
        .par_iter()
        .map(|j| run_job(j, TUNE_RECORD_EVERY).map(|o| tail_metric(&o, t)))
        .collect::<Result<_, StudyError>>()?;
    // Best η per (workers, split, method); for the tuned-β line, best (β, η) jointly.
    let n_lr = dc.learning_rates.len();
    let mut chosen: Vec<(Job, f64)> = Vec::new();
    for (block, scores) in tune_jobs.chunks(n_lr).zip(tune_out.chunks(n_lr)) {
        let best = (0..n_lr).fold(0, |b, i| if scores[i] < scores[b] { i } else { b });
        let cand = (block[best], scores[best]);
        let merge = matches!(cand.0.method, MvMethod::SsvrMv { theorem: false, .. })
            && chosen.last().is_some_and(|(j, _)| {
                matches!(j.method, MvMethod::SsvrMv { theorem: false, .. })
                    && j.workers_index == cand.0.workers_index
                    && j.split == cand.0.split
            });
        if merge {
            if let Some(last) = chosen.last_mut() {
                if cand.1 < last.1 {
                    *last = cand;
                }
            }
        } else {
            chosen.push(cand);
        }
    }

    // ---- evaluation on a fresh seed ----
    let eval_seed = opts.seed.derive("ssvr-mv-eval");
    let eval_jobs: Vec<Job> = chosen
        .iter()
        .map(|(j, _)| Job {
            seed: eval_seed,
            ..*j
        })
        .collect();
    let eval_out: Vec<MajorityVoteOutcome> = eval_jobs
        .par_iter()
        .map(|j| run_job(j, RECORD_EVERY))
        .collect::<Result<_, StudyError>>()?;

    let mut rows = Vec::new();
    let mut json_rows = Vec::new();
    let (mut bits_err, mut grads_err) = (0u64, 0u64);
    let mut edge_count = 0usize;
    // Per (worker count, split): signSGD-MV's G and the best SSVR-MV G (fresh seed).
    let mut best: Vec<(f64, f64)> = vec![(f64::INFINITY, f64::INFINITY); 2 * dc.n_workers.len()];
    // Curves per (worker count, split): (label, x, y).
    type Curve = (String, Vec<f64>, Vec<f64>);
    let mut curves: Vec<Vec<Curve>> = vec![Vec::new(); 2 * dc.n_workers.len()];
    for ((job, tune_score), out) in chosen.iter().zip(&eval_out) {
        let n = dc.n_workers[job.workers_index];
        let tail = tail_metric(out, t);
        let last = out.trace.grad_l1.last().copied().unwrap_or(f64::INFINITY);
        let bits = out.comm.total_bits();
        let want_bits = t * (n as u64 * d as u64 + d as u64);
        bits_err = bits_err.max(bits.abs_diff(want_bits));
        let want_grads = match job.method {
            MvMethod::SignSgdMv => n as u64 * t,
            MvMethod::SsvrMv { .. } => n as u64 * (1 + 2 * (t - 1)),
        };
        grads_err = grads_err.max(out.component_grads.abs_diff(want_grads));
        let beta = match job.method {
            MvMethod::SignSgdMv => None,
            MvMethod::SsvrMv { beta, .. } => Some(beta),
        };
        let at_edge = at_grid_edge(&dc.learning_rates, job.learning_rate);
        let slot = &mut best[2 * job.workers_index + split_index(job.split)];
        match job.method {
            MvMethod::SignSgdMv => slot.0 = tail,
            MvMethod::SsvrMv { .. } => slot.1 = slot.1.min(tail),
        }
        edge_count += usize::from(at_edge);
        rows.push(vec![
            n.to_string(),
            job.split.label().to_string(),
            job.method.label(),
            if at_edge {
                format!("{} (grid edge)", fmt_num(job.learning_rate))
            } else {
                fmt_num(job.learning_rate)
            },
            beta.map_or("–".into(), fmt_num),
            fmt_g(*tune_score),
            fmt_g(tail),
            fmt_g(last),
            format!("{:.1} %", 100.0 * out.clip.clipped_fraction()),
            out.server_zeros.to_string(),
            bits.to_string(),
        ]);
        let mut j = json!({
            "n_workers": n, "split": job.split.id(), "method": job.method.id(),
            "learning_rate": job.learning_rate, "bits_up": out.comm.bits_up,
            "bits_down": out.comm.bits_down, "bits_total": bits,
            "component_grads": out.component_grads,
            "clipped_fraction": out.clip.clipped_fraction(), "server_zeros": out.server_zeros,
            "diverged": out.diverged(),
        });
        if let Some(b) = beta {
            j["beta"] = json!(b);
        }
        for (key, val) in [
            ("g_tail_tuning_seed", *tune_score),
            ("g_tail", tail),
            ("g_final", last),
        ] {
            if val.is_finite() {
                j[key] = json!(val);
            }
        }
        json_rows.push(j);
        if !out.diverged() && out.trace.steps.len() > 1 {
            curves[2 * job.workers_index + split_index(job.split)].push((
                job.method.label(),
                out.trace.steps.iter().map(|&s| s as f64).collect(),
                out.trace.grad_l1.clone(),
            ));
        }
    }
    v.push(Check::validation(
        "majority vote: bits communicated equal T·(n·d + d) (1 bit per coordinate up, one broadcast down) in every run: max |difference|",
        bits_err as f64,
        Cmp::Le,
        0.0,
    ));
    v.push(Check::validation(
        "majority vote: worker gradient counts equal n·T (signSGD-MV) and n·(1 + 2(T − 1)) (SSVR-MV): max |difference|",
        grads_err as f64,
        Cmp::Le,
        0.0,
    ));
    report.table(
        &format!(
            "Distributed runs (reported, not gated): tuned η on one seed, G on a fresh seed; f32 all-reduce would cost 32× the bits (T = {t}, d = {d})"
        ),
        &[
            "workers", "split", "method", "η", "β", "G (tuning seed)", "G (fresh seed)",
            "‖∇f(x_T)‖₁", "messages clipped", "tied coordinates", "bits communicated",
        ],
        rows,
    )?;
    let wins = best.iter().filter(|(sign, ssvr)| ssvr < sign).count();
    report.paragraph(&format!(
        "The spec (§5a) expected SSVR-MV to reach a lower final gradient norm than signSGD-MV. \
         Here the best SSVR-MV line is below signSGD-MV in {wins} of {} settings (fresh seed): \
         **this expectation is not reproduced** with Theorem 3's radius R = 4G on this problem. \
         The exact first-round table below shows why: with |∂_k f_i| ≪ R the workers' stochastic \
         signs are close to fair coins, so the majority moves downhill only slightly more often \
         than not, and T = {t} rounds at the grid's largest η do not get far from x₁.",
        best.len()
    ));
    if edge_count > 0 {
        report.note(&format!(
            "{edge_count} of the {} tuned step sizes lie at an edge of the η grid: those methods \
             may do better outside it. The grid is the spec's; it was not extended.",
            chosen.len()
        ));
    }
    report.metric(
        "distributed",
        json!({"g_bound": g_bound, "radius": radius, "runs": json_rows}),
    )?;
    first_round_drift(cfg, problem, &shard_indices, radius, report)?;

    // Plots: one per (workers, split), signSGD-MV vs SSVR-MV lines.
    for (wi, &n) in dc.n_workers.iter().enumerate() {
        for split in [Split::Homogeneous, Split::LabelSorted] {
            let chunk = &curves[2 * wi + split_index(split)];
            if chunk.is_empty() {
                continue;
            }
            let mut plot = LinePlot::new(
                format!("mv-n{n}-{}", split.id()),
                format!("Majority vote, n = {n} workers, {} split", split.label()),
                "round t",
                "exact ‖∇f(x_t)‖₁",
            )
            .log_y();
            for (c, (label, x, y)) in chunk.iter().enumerate() {
                plot = plot.with_series(
                    Series::new(label.clone(), x.clone(), y.clone())
                        .line()
                        .color(c),
                );
            }
            report.line_plot(plot.with_caption(format!(
                "Tuned η, fresh seed, exact gradient every {RECORD_EVERY} rounds. This project's figure; the paper's distributed experiments are on CIFAR-100."
            )))?;
        }
    }

    floor_example(cfg, opts, v, report)?;
    Ok(())
}

/// The expected first-round server broadcast of both methods, exactly: worker `j` votes
/// `+1` on coordinate `k` with probability `p_jk` (signSGD-MV: the fraction of its shard
/// with `∂_k f_i(x₁) > 0`; SSVR-MV: the shard mean of `(1 + ∂_k f_i(x₁)/R)/2`, since
/// `v₁ʲ = ∇f_i(x₁)` for one sample), and `E[s_k]` is the Poisson-binomial mean of the
/// majority ([`expected_majority_vote`]). Reported: `mean_k sign(∂_k f(x₁))·E[s_k]`, the
/// expected fraction of a step that goes downhill (1 = always the true sign).
fn first_round_drift(
    cfg: &Config,
    problem: &NonConvexLogistic,
    shard_indices: &[Vec<Vec<Vec<usize>>>],
    radius: f64,
    report: &mut Report,
) -> Result<(), StudyError> {
    let (m, d) = (problem.n_components(), problem.dim());
    let x1 = vec![1.0; d];
    let mut grads = vec![0.0; m * d];
    for (i, g) in grads.chunks_exact_mut(d).enumerate() {
        problem.component_loss_grad(i, &x1, g);
    }
    let mut full = vec![0.0; d];
    problem.grad_into(&x1, &mut full);
    let mut rows = Vec::new();
    let mut json_rows = Vec::new();
    for (wi, &n) in cfg.distributed.n_workers.iter().enumerate() {
        for (si, split) in [Split::Homogeneous, Split::LabelSorted]
            .into_iter()
            .enumerate()
        {
            let shards = &shard_indices[wi][si];
            let (mut drift_sign, mut drift_ssvr) = (0.0, 0.0);
            for k in 0..d {
                let mut p_sign = Vec::with_capacity(n);
                let mut p_ssvr = Vec::with_capacity(n);
                for shard in shards {
                    let len = shard.len() as f64;
                    let pos = shard.iter().filter(|&&i| grads[i * d + k] > 0.0).count();
                    p_sign.push(pos as f64 / len);
                    p_ssvr.push(
                        shard
                            .iter()
                            .map(|&i| 0.5 * (1.0 + (grads[i * d + k] / radius).clamp(-1.0, 1.0)))
                            .sum::<f64>()
                            / len,
                    );
                }
                let s = full[k].signum();
                drift_sign += s * expected_majority_vote(&p_sign) / d as f64;
                drift_ssvr += s * expected_majority_vote(&p_ssvr) / d as f64;
            }
            rows.push(vec![
                n.to_string(),
                split.label().to_string(),
                fmt_num(drift_sign),
                fmt_num(drift_ssvr),
            ]);
            json_rows.push(json!({"n_workers": n, "split": split.id(),
                "drift_signsgd_mv": drift_sign, "drift_ssvr_mv": drift_ssvr}));
        }
    }
    report.table(
        &format!(
            "Expected first-round progress at x₁, exact: mean_k sign(∂_k f(x₁))·E[s_k] (1 = the true sign every time; R = {})",
            fmt_num(radius)
        ),
        &["workers", "split", "signSGD-MV", "SSVR-MV Option 1"],
        rows,
    )?;
    report.paragraph(
        "With R = 4G the stochastic sign of a typical coordinate is a nearly fair coin          (|∂_k f_i|/R is small except for the few samples that set G), so the majority of n          such votes points downhill only slightly more often than not; signSGD-MV's votes          are deterministic signs of single-sample gradients and agree with the true sign far          more often. This is the per-round signal each method starts from.",
    );
    report.metric("distributed_first_round_drift", json!(json_rows))?;
    Ok(())
}

/// The follow-up paper's 3-worker one-dimensional example (spec §2.4, §5a).
fn floor_example(
    cfg: &Config,
    opts: &RunOpts,
    v: &mut Verdict,
    report: &mut Report,
) -> Result<(), StudyError> {
    report.heading("The Option-1 floor: 3 workers, exact gradients");
    let ex = FloorExample::new();
    let x_star = ex.biased_fixed_point();
    let floor = ex.floor();
    report.paragraph(&format!(
        "f₁ = f₂ = ½ log cosh x + x/4, f₃ = ½ log cosh x − x/2 (so f = ½ log cosh x, minimiser 0), \
         exact local gradients, R = 4, β = 1/2, η = 1/√T, start 0. With exact gradients the only \
         randomness is the stochastic sign, and the majority of three unbiased votes is biased: \
         E[s | x] vanishes at x* = {} instead of 0, where |f'(x*)| = {} = 1/{}. The follow-up \
         paper's Proposition 1 states E|f'(x_τ)| ≥ 1/1542 asymptotically.",
        fmt_num(x_star),
        fmt_num(floor),
        fmt_num(1.0 / floor)
    ));
    v.push(Check::claim(
        "SSVR-MV Option 1 has a non-vanishing floor on the 3-worker example: 1542·|f'(x*)| at the exact biased fixed point (paper: ≥ 1/1542)",
        floor * 1542.0,
        Cmp::Ge,
        FLOOR_MIN_RATIO_TO_PAPER,
    ));
    let seed = opts.seed.derive("ssvr-mv-floor");
    let outs: Vec<MajorityVoteOutcome> = cfg
        .distributed
        .floor_horizons
        .par_iter()
        .map(|&t| ex.run(t, seed, Every::Always).map_err(StudyError::from))
        .collect::<Result<_, _>>()?;
    let mut rows = Vec::new();
    let (mut ts, mut avg_all, mut avg_tail) = (vec![], vec![], vec![]);
    for (&t, out) in cfg.distributed.floor_horizons.iter().zip(&outs) {
        let all = out.trace.tail_mean_grad_l1(1.0);
        let tail = tail_metric(out, t);
        rows.push(vec![
            t.to_string(),
            fmt_num(1.0 / (t as f64).sqrt()),
            fmt_g(all),
            fmt_g(tail),
            fmt_num(floor),
        ]);
        if all.is_finite() && tail.is_finite() {
            ts.push(t as f64);
            avg_all.push(all);
            avg_tail.push(tail);
        }
    }
    report.table(
        "Average |f'(x_t)| of the simulation (reported): it decreases with T but is dominated by the ±η random walk at feasible T",
        &["T", "η = 1/√T", "mean |f'| over all t", "mean |f'| over the last 10 %", "exact floor |f'(x*)|"],
        rows,
    )?;
    if ts.len() >= 2 {
        let ends = vec![ts[0], ts[ts.len() - 1]];
        report.line_plot(
            LinePlot::new("floor-example", "Option 1 on the 3-worker example: average |f'(x_t)|", "horizon T", "|f'|")
                .log_x()
                .log_y()
                .with_series(Series::new("mean over all t", ts.clone(), avg_all.clone()).line_markers().color(0))
                .with_series(Series::new("mean over the last 10 %", ts.clone(), avg_tail.clone()).line_markers().color(1))
                .with_series(Series::reference("exact floor |f'(x*)| ≈ 1/1542", ends, vec![floor, floor]))
                .with_caption("The simulated averages approach the floor slowly (the random walk of width ≈ √η decays like T^{-1/4}); the floor itself is the exact computation. This project's figure."),
        )?;
    }
    report.metric(
        "floor_example",
        json!({"biased_fixed_point": x_star, "floor": floor, "paper_floor": FloorExample::PAPER_FLOOR,
               "horizons": ts, "mean_abs_grad_all": avg_all, "mean_abs_grad_tail": avg_tail}),
    )?;
    Ok(())
}
