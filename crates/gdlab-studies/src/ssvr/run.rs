//! The experiment and its checks. Every threshold is a `const` below, with its source.

use gdlab_core::objective::{gradient_check, FiniteSum, Objective};
use gdlab_core::Seed;
use rayon::prelude::*;
use serde_json::{json, Value};

use super::config::Config;
use super::experiment::{self, closed_form_grads, Kind, RunOutcome, RunSpec};
use super::{distributed, rate};
use crate::problems::NonConvexLogistic;
use crate::report::{fmt_num, LinePlot, Report, Series};
use crate::study::{RunOpts, StudyError};
use crate::verdict::{Check, Cmp, Verdict};

// ---- Thresholds (spec `sign-methods-ssvr.md` §5a, "PASS iff", means over 5 seeds) ----

/// §5a criterion 1: `G_SSVR ≤ 0.90 · G_signSGD` (at least 10 % lower ℓ1 gradient norm).
const SSVR_VS_SIGNSGD_MAX_RATIO: f64 = 0.90;
/// §5a criterion 2: `G_SSVR-FS ≤ 0.60 · G_signSGD` (blended SSVR-FS, β tuned over
/// {0.1, 0.01}).
const SSVRFS_VS_SIGNSGD_MAX_RATIO: f64 = 0.60;
/// §5a criterion 3: `G_SSVR-FS ≤ G_SSVR`.
const SSVRFS_VS_SSVR_MAX_RATIO: f64 = 1.0;

// ---- Validation tolerances ----

/// Central-difference step for the gradient check at `x₁`.
const FD_STEP: f64 = 1e-6;
/// Gradient vs central differences at `x₁`, relative to `max(1, ‖∇f‖∞)`: truncation
/// `h²|f'''|/6 ≈ 1e-11` (third derivatives here are O(10)) plus rounding `ε|f|/h ≈ 1e-9`
/// (`|f(x₁)| ≈ 5`); 1e-7 leaves two orders of margin and still catches any wrong term,
/// whose effect would be O(λ) = O(0.1) or larger.
const FD_REL_TOL: f64 = 1e-7;
/// `∇f` (one accumulated pass) vs the mean of the `n` component gradients, per coordinate
/// relative to `mean_i |∂_j f_i|`: the two differ only in summation order, so by the
/// standard summation bound by at most `c·n·ε` with `c = 4` (faer-style residual rule).
const FINITE_SUM_RESIDUAL_C: f64 = 4.0;

/// How a method enters the verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// The baseline every ratio is taken against.
    Baseline,
    /// Compared by a §5a criterion.
    Gated,
    /// Reported only (the spec says so).
    Informational,
}

impl Role {
    fn as_str(self) -> &'static str {
        match self {
            Role::Baseline => "baseline",
            Role::Gated => "gated",
            Role::Informational => "informational",
        }
    }
}

/// The methods of the §5a comparison, in report order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Method {
    SignSgd,
    Signum,
    Ssvr,
    SsvrFs,
    SsvrFsSarah,
    SsvrFsSvrg,
    SsvrFsInvPeriod,
}

const METHODS: [Method; 7] = [
    Method::SignSgd,
    Method::Signum,
    Method::Ssvr,
    Method::SsvrFs,
    Method::SsvrFsSarah,
    Method::SsvrFsSvrg,
    Method::SsvrFsInvPeriod,
];

impl Method {
    fn id(self) -> &'static str {
        match self {
            Method::SignSgd => "signsgd",
            Method::Signum => "signum",
            Method::Ssvr => "ssvr",
            Method::SsvrFs => "ssvr-fs",
            Method::SsvrFsSarah => "ssvr-fs-beta0",
            Method::SsvrFsSvrg => "ssvr-fs-beta1",
            Method::SsvrFsInvPeriod => "ssvr-fs-beta-inv-period",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Method::SignSgd => "signSGD",
            Method::Signum => "Signum (momentum 0.9)",
            Method::Ssvr => "SSVR",
            Method::SsvrFs => "SSVR-FS (blend)",
            Method::SsvrFsSarah => "SSVR-FS β = 0 (SARAH-sign)",
            Method::SsvrFsSvrg => "SSVR-FS β = 1 (SVRG-sign)",
            Method::SsvrFsInvPeriod => "SSVR-FS β = 1/I",
        }
    }

    fn role(self) -> Role {
        match self {
            Method::SignSgd => Role::Baseline,
            Method::Ssvr | Method::SsvrFs => Role::Gated,
            _ => Role::Informational,
        }
    }

    fn provenance(self) -> &'static str {
        match self {
            Method::SignSgd => "prior work (Bernstein et al. 2018)",
            Method::Signum => "prior work; spec's extra",
            Method::Ssvr => "paper's estimator (STORM form, verified via the follow-up)",
            Method::SsvrFs => "spec's reconstruction [memory]",
            Method::SsvrFsSarah => "verified variant [followup-n1]",
            Method::SsvrFsSvrg => "SignSVRG-like; spec's robustness line",
            Method::SsvrFsInvPeriod => "theory-consistent blend β [derived]",
        }
    }

    /// The β values tuned (None: the method has no β).
    fn beta_grid(self, cfg: &Config, period: usize) -> Vec<Option<f64>> {
        match self {
            Method::SignSgd | Method::Signum => vec![None],
            Method::Ssvr | Method::SsvrFs => cfg.betas.iter().map(|&b| Some(b)).collect(),
            Method::SsvrFsSarah => vec![Some(0.0)],
            Method::SsvrFsSvrg => vec![Some(1.0)],
            Method::SsvrFsInvPeriod => vec![Some(1.0 / period as f64)],
        }
    }

    fn kind(self, beta: Option<f64>, cfg: &Config, period: usize) -> Kind {
        let beta = beta.unwrap_or(0.0);
        match self {
            Method::SignSgd => Kind::SignSgd,
            Method::Signum => Kind::Signum {
                momentum: cfg.signum_momentum,
            },
            Method::Ssvr => Kind::Ssvr {
                beta,
                initial_batch: 1,
            },
            _ => Kind::SsvrFs { beta, period },
        }
    }
}

/// One point of the tuning grid.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Setting {
    method: Method,
    learning_rate: f64,
    beta: Option<f64>,
}

impl Setting {
    fn spec(&self, cfg: &Config, period: usize, seed: Seed, record_curve: bool) -> RunSpec {
        RunSpec {
            kind: self.method.kind(self.beta, cfg, period),
            learning_rate: self.learning_rate,
            batch_size: cfg.batch_size,
            n_steps: cfg.n_steps,
            seed,
            record_curve,
            curve_points: cfg.curve_points,
            curve_per_decade: cfg.curve_per_decade,
        }
    }
}

/// Runs `specs` in parallel and returns the outcomes in the same order.
pub(super) fn run_all(
    problem: &NonConvexLogistic,
    specs: &[RunSpec],
) -> Result<Vec<RunOutcome>, StudyError> {
    specs
        .par_iter()
        .map(|s| experiment::run(problem, s))
        .collect()
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// Sample standard deviation (divisor `k − 1`); 0 for one value.
fn std_dev(xs: &[f64]) -> f64 {
    if xs.len() < 2 {
        return 0.0;
    }
    let m = mean(xs);
    (xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (xs.len() - 1) as f64).sqrt()
}

fn fmt_g(x: f64) -> String {
    if x.is_finite() {
        fmt_num(x)
    } else {
        "diverged".into()
    }
}

pub(super) fn run(
    cfg: &Config,
    opts: &RunOpts,
    report: &mut Report,
) -> Result<Verdict, StudyError> {
    let mut v = Verdict::default();
    report.intro(
        "Sign-based methods move every coordinate by ±η, so the noise of the gradient \
         estimate decides how often the sign is wrong. Jiang, Yang, Yang & Zhang (NeurIPS \
         2024) feed the sign a variance-reduced estimator: SSVR uses a STORM-type recursive \
         momentum (rate O(d^{1/2}T^{-1/3}) vs signSGD's O(d^{1/2}T^{-1/4})), SSVR-FS adds a \
         periodic full gradient for finite sums (O(m^{1/4}d^{1/2}T^{-1/2})), and SSVR-MV \
         runs it over majority-vote workers.",
    );
    report.intro(
        "This study runs the spec's quick reproduction (§5a): a non-convex logistic finite \
         sum (n = 2000, d = 50, minibatch 1, T = 6000), step sizes and β tuned on 2 seeds, \
         the tuned settings evaluated on 5 fresh seeds, stationarity measured by the **exact** \
         ‖∇f‖₁ averaged over the last 10 % of iterates. The gated claims are the spec's three \
         criteria (SSVR beats signSGD by ≥ 10 %, SSVR-FS by ≥ 40 % and beats SSVR). The paper's \
         full text could not be read: the SSVR-FS blend is the spec's reconstruction, not a \
         verified algorithm (see *Provenance*).",
    );

    let problem = cfg.problem.generate(opts.seed.derive("ssvr-data"))?;
    let m = problem.n_components();
    let period = (m / cfg.batch_size).max(1);
    problem_section(cfg, &problem, &mut v, report)?;

    let tuned = tuning(cfg, opts, &problem, period, report)?;
    evaluation(cfg, opts, &problem, period, &tuned, &mut v, report)?;
    provenance(report);
    distributed::run(cfg, opts, &problem, &mut v, report)?;
    match &cfg.rate {
        Some(rate_cfg) => rate::run(rate_cfg, cfg, opts, &problem, report)?,
        None => {
            report.heading("Rate check (spec §5b)");
            report.paragraph(
                "The §5b rate check (T ∈ {10³, 10⁴, 10⁵} with theory schedules, fitted \
                 log-log slopes next to −1/4 and −1/3) runs in full mode only: \
                 `gdlab study run ssvr --full`.",
            );
        }
    }
    Ok(v)
}

/// The problem, its constants and the gradient checks.
fn problem_section(
    cfg: &Config,
    problem: &NonConvexLogistic,
    v: &mut Verdict,
    report: &mut Report,
) -> Result<(), StudyError> {
    report.heading("The problem");
    let (n, d) = (problem.n_components(), problem.dim());
    report.paragraph(&format!(
        "`f(x) = (1/n) Σᵢ log(1 + exp(−bᵢ aᵢ·x)) + λ Σⱼ xⱼ²/(1 + xⱼ²)` with n = {n}, d = {d}, \
         λ = {}; `A_ij ~ N(0, 1)`, `w* ~ N(0, I)`, `bᵢ = sign(aᵢ·w* + {}·εᵢ)` drawn from the \
         data seed (the run seed's child `ssvr-data`) by Box–Muller \
         (`gdlab_studies::problems::normal`). Start `x₁ = (1, …, 1)`; minibatch \
         B = {} uniform with replacement; T = {} iterations.",
        fmt_num(cfg.problem.reg),
        fmt_num(cfg.problem.label_noise),
        cfg.batch_size,
        cfg.n_steps
    ));
    let x1 = vec![1.0; d];
    let mut g = vec![0.0; d];
    let f1 = problem.loss_grad(&x1, &mut g);
    let g1_l1: f64 = g.iter().map(|x| x.abs()).sum();
    let fd = gradient_check(problem, &x1, FD_STEP);
    v.push(Check::validation(
        "the problem's gradient matches central differences at x₁ (h = 1e-6): max relative error",
        fd,
        Cmp::Le,
        FD_REL_TOL,
    ));
    // ∇f vs the mean of the component gradients.
    let (mut mean_g, mut mean_abs, mut gi) = (vec![0.0; d], vec![0.0; d], vec![0.0; d]);
    for i in 0..n {
        problem.component_loss_grad(i, &x1, &mut gi);
        for j in 0..d {
            mean_g[j] += gi[j] / n as f64;
            mean_abs[j] += gi[j].abs() / n as f64;
        }
    }
    let resid = (0..d)
        .map(|j| (g[j] - mean_g[j]).abs() / mean_abs[j].max(f64::MIN_POSITIVE))
        .fold(0.0_f64, f64::max);
    v.push(Check::validation(
        format!("∇f(x₁) equals the mean of the {n} component gradients: max relative difference (bound 4·n·ε)"),
        resid,
        Cmp::Le,
        gdlab_core::tol::linalg_residual(FINITE_SUM_RESIDUAL_C, n, 1.0),
    ));
    let positives = problem.labels().iter().filter(|&&b| b > 0.0).count();
    let (l, h) = (problem.smoothness_bound(), problem.grad_bound());
    report.table(
        "Problem instance",
        &["quantity", "value"],
        vec![
            vec!["f(x₁)".into(), fmt_num(f1)],
            vec!["‖∇f(x₁)‖₁".into(), fmt_num(g1_l1)],
            vec!["labels +1".into(), format!("{positives} of {n}")],
            vec!["mean-squared smoothness bound L".into(), fmt_num(l)],
            vec!["gradient second-moment bound H".into(), fmt_num(h)],
            vec!["finite-difference error at x₁".into(), fmt_num(fd)],
        ],
    )?;
    report.metric(
        "problem",
        json!({
            "n": n, "d": d, "reg": cfg.problem.reg, "label_noise": cfg.problem.label_noise,
            "loss_at_start": f1, "grad_l1_at_start": g1_l1, "positives": positives,
            "smoothness_bound": l, "grad_bound": h, "finite_difference_error": fd,
            "finite_sum_residual": resid,
        }),
    )?;
    Ok(())
}

/// Tuning on `n_tune_seeds` seeds: returns the chosen setting of every method.
fn tuning(
    cfg: &Config,
    opts: &RunOpts,
    problem: &NonConvexLogistic,
    period: usize,
    report: &mut Report,
) -> Result<Vec<Setting>, StudyError> {
    report.heading("Tuning");
    let tune_seed = opts.seed.derive("ssvr-tune");
    let mut settings = Vec::new();
    for method in METHODS {
        for beta in method.beta_grid(cfg, period) {
            for &learning_rate in &cfg.learning_rates {
                settings.push(Setting {
                    method,
                    learning_rate,
                    beta,
                });
            }
        }
    }
    let specs: Vec<RunSpec> = settings
        .iter()
        .flat_map(|s| (0..cfg.n_tune_seeds).map(move |k| (s, k)))
        .map(|(s, k)| s.spec(cfg, period, tune_seed.index(k), false))
        .collect();
    let outcomes = run_all(problem, &specs)?;
    let k = cfg.n_tune_seeds as usize;
    // Seed-mean per setting (+∞ if any seed diverged).
    let scores: Vec<(f64, Vec<f64>)> = outcomes
        .chunks(k)
        .map(|c| {
            let per: Vec<f64> = c.iter().map(|o| o.tail_mean).collect();
            (mean(&per), per)
        })
        .collect();

    let mut chosen = Vec::new();
    let mut rows = Vec::new();
    let mut json_tuning = serde_json::Map::new();
    let lr_headers: Vec<String> = cfg
        .learning_rates
        .iter()
        .map(|&l| format!("η = {}", fmt_num(l)))
        .collect();
    for method in METHODS {
        let idx: Vec<usize> = (0..settings.len())
            .filter(|&i| settings[i].method == method)
            .collect();
        // argmin of the seed mean; ties keep the first in grid order.
        let best = idx.iter().copied().fold(None::<usize>, |b, i| match b {
            Some(j) if scores[j].0 <= scores[i].0 || !scores[i].0.is_finite() => Some(j),
            _ => Some(i),
        });
        let Some(best) = best else { continue };
        chosen.push(settings[best]);
        let mut grid_json = Vec::new();
        let (mut col_lr, mut col_beta, mut col_mean) = (vec![], vec![], vec![]);
        let mut col_seeds: Vec<Vec<f64>> = vec![Vec::new(); k];
        for beta in method.beta_grid(cfg, period) {
            let mut row = vec![method.label().to_string(), beta.map_or("–".into(), fmt_num)];
            for &i in idx.iter().filter(|&&i| settings[i].beta == beta) {
                let cell = fmt_g(scores[i].0);
                row.push(if i == best {
                    format!("**{cell}**")
                } else {
                    cell
                });
                let mut j = json!({"learning_rate": settings[i].learning_rate,
                    "n_diverged": scores[i].1.iter().filter(|x| !x.is_finite()).count()});
                if let Some(b) = beta {
                    j["beta"] = json!(b);
                }
                if scores[i].0.is_finite() {
                    j["g_seed_mean"] = json!(scores[i].0);
                    j["g_per_seed"] = json!(scores[i].1);
                }
                grid_json.push(j);
                col_lr.push(settings[i].learning_rate);
                col_beta.push(beta.unwrap_or(0.0));
                // Diverged runs are written as f64::MAX in the CSV (n_diverged says so).
                col_mean.push(if scores[i].0.is_finite() {
                    scores[i].0
                } else {
                    f64::MAX
                });
                for (s, col) in col_seeds.iter_mut().enumerate() {
                    let g = scores[i].1[s];
                    col.push(if g.is_finite() { g } else { f64::MAX });
                }
            }
            rows.push(row);
        }
        json_tuning.insert(method.id().into(), Value::Array(grid_json));
        let mut headers = vec!["learning_rate".to_string()];
        let mut cols = vec![col_lr];
        if method.beta_grid(cfg, period)[0].is_some() {
            headers.push("beta".into());
            cols.push(col_beta);
        }
        headers.push("g_tail_seed_mean".into());
        cols.push(col_mean);
        for (s, col) in col_seeds.into_iter().enumerate() {
            headers.push(format!("g_tail_tune_seed_{s}"));
            cols.push(col);
        }
        let header_refs: Vec<&str> = headers.iter().map(String::as_str).collect();
        report.csv(&format!("tuning-{}", method.id()), &header_refs, &cols)?;
    }
    let mut headers = vec!["method", "β"];
    headers.extend(lr_headers.iter().map(String::as_str));
    report.table(
        &format!(
            "Seed-mean G (mean exact ‖∇f‖₁ over the last 10 % of iterates) on {} tuning seeds; bold = chosen",
            cfg.n_tune_seeds
        ),
        &headers,
        rows,
    )?;
    report.metric("tuning", Value::Object(json_tuning))?;
    Ok(chosen)
}

/// Per-method evaluation results.
struct Evaluated {
    setting: Setting,
    spec: RunSpec,
    outcomes: Vec<RunOutcome>,
    g: Vec<f64>,
    g_mean: f64,
    g_std: f64,
    /// Component gradients to reach `x_T` (the `T` calls that produced the updates).
    grads_to_x_t: u64,
}

#[allow(clippy::too_many_lines)]
fn evaluation(
    cfg: &Config,
    opts: &RunOpts,
    problem: &NonConvexLogistic,
    period: usize,
    tuned: &[Setting],
    v: &mut Verdict,
    report: &mut Report,
) -> Result<(), StudyError> {
    report.heading(&format!("Evaluation on {} fresh seeds", cfg.n_eval_seeds));
    let eval_seed = opts.seed.derive("ssvr-eval");
    let k = cfg.n_eval_seeds as usize;
    let m = problem.n_components();
    let mut specs: Vec<RunSpec> = tuned
        .iter()
        .flat_map(|s| (0..cfg.n_eval_seeds).map(move |i| (s, i)))
        .map(|(s, i)| s.spec(cfg, period, eval_seed.index(i), true))
        .collect();
    // Validation run: SSVR with β = 1 at signSGD's tuned η on evaluation seed 0.
    let sign_setting = tuned
        .iter()
        .find(|s| s.method == Method::SignSgd)
        .copied()
        .ok_or_else(|| StudyError::Component {
            component: "ssvr study",
            message: "signSGD was not tuned".into(),
        })?;
    let beta_one = Setting {
        method: Method::Ssvr,
        learning_rate: sign_setting.learning_rate,
        beta: Some(1.0),
    };
    specs.push(beta_one.spec(cfg, period, eval_seed.index(0), false));
    let mut outcomes = run_all(problem, &specs)?;
    let beta_one_run = outcomes.pop().ok_or_else(|| StudyError::Component {
        component: "ssvr study",
        message: "missing validation run".into(),
    })?;

    let evaluated: Vec<Evaluated> = tuned
        .iter()
        .zip(outcomes.chunks(k))
        .zip(specs.chunks(k))
        .map(|((s, o), sp)| {
            let g: Vec<f64> = o.iter().map(|r| r.tail_mean).collect();
            Evaluated {
                setting: *s,
                spec: sp[0],
                outcomes: o.to_vec(),
                g_mean: mean(&g),
                g_std: std_dev(&g),
                g,
                grads_to_x_t: closed_form_grads(&sp[0], m, cfg.n_steps),
            }
        })
        .collect();
    let by = |method: Method| evaluated.iter().find(|e| e.setting.method == method);
    let (Some(sign), Some(ssvr), Some(fs)) =
        (by(Method::SignSgd), by(Method::Ssvr), by(Method::SsvrFs))
    else {
        return Err(StudyError::Component {
            component: "ssvr study",
            message: "a gated method is missing".into(),
        });
    };

    // ---- validation: β = 1 reduces to signSGD, gradient counts ----
    let sign0 = &sign.outcomes[0];
    let x_diff = beta_one_run
        .final_x
        .iter()
        .zip(&sign0.final_x)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0_f64, f64::max);
    let g_diff = (beta_one_run.tail_mean - sign0.tail_mean).abs();
    v.push(Check::validation(
        "SSVR with β = 1 reproduces signSGD bit for bit (same η and seed): max |x_T difference| + |G difference|",
        x_diff + g_diff,
        Cmp::Le,
        0.0,
    ));
    let mut count_err = 0u64;
    for e in &evaluated {
        for o in &e.outcomes {
            let want = closed_form_grads(&e.spec, m, cfg.n_steps + 1);
            count_err = count_err.max(o.n_component_grads.abs_diff(want));
        }
    }
    v.push(Check::validation(
        "component-gradient counts of every evaluation run equal their closed forms (B, B₀ + 2B·T, m·⌈(T+1)/I⌉ + 3B·rest): max |difference|",
        count_err as f64,
        Cmp::Le,
        0.0,
    ));

    // ---- the claims ----
    let r_ssvr = ssvr.g_mean / sign.g_mean;
    let r_fs = fs.g_mean / sign.g_mean;
    let r_fs_ssvr = fs.g_mean / ssvr.g_mean;
    v.push(Check::claim(
        "§5a (1): SSVR beats signSGD by ≥ 10 %: G_SSVR / G_signSGD",
        r_ssvr,
        Cmp::Le,
        SSVR_VS_SIGNSGD_MAX_RATIO,
    ));
    v.push(Check::claim(
        "§5a (2): SSVR-FS (blend, β tuned over {0.1, 0.01}) beats signSGD by ≥ 40 %: G_SSVR-FS / G_signSGD",
        r_fs,
        Cmp::Le,
        SSVRFS_VS_SIGNSGD_MAX_RATIO,
    ));
    v.push(Check::claim(
        "§5a (3): SSVR-FS is at least as good as SSVR: G_SSVR-FS / G_SSVR",
        r_fs_ssvr,
        Cmp::Le,
        SSVRFS_VS_SSVR_MAX_RATIO,
    ));

    // ---- the table ----
    let mut rows = Vec::new();
    let mut json_methods = serde_json::Map::new();
    for e in &evaluated {
        let n_div = e.g.iter().filter(|x| !x.is_finite()).count();
        let ratio = e.g_mean / sign.g_mean;
        rows.push(vec![
            e.setting.method.label().to_string(),
            e.setting.method.role().as_str().to_string(),
            e.setting.method.provenance().to_string(),
            if distributed::at_grid_edge(&cfg.learning_rates, e.setting.learning_rate) {
                format!("{} (grid edge)", fmt_num(e.setting.learning_rate))
            } else {
                fmt_num(e.setting.learning_rate)
            },
            e.setting.beta.map_or("–".into(), fmt_num),
            if e.g_mean.is_finite() {
                format!("{} ± {}", fmt_num(e.g_mean), fmt_num(e.g_std))
            } else {
                format!("diverged ({n_div} of {k})")
            },
            fmt_g(ratio),
            e.grads_to_x_t.to_string(),
        ]);
        let mut j = json!({
            "label": e.setting.method.label(),
            "role": e.setting.method.role().as_str(),
            "learning_rate": e.setting.learning_rate,
            "grad_evals_to_final_iterate": e.grads_to_x_t,
            "n_diverged": n_div,
        });
        if let Some(b) = e.setting.beta {
            j["beta"] = json!(b);
        }
        if e.g_mean.is_finite() {
            j["g_mean"] = json!(e.g_mean);
            j["g_std"] = json!(e.g_std);
            j["g_per_seed"] = json!(e.g);
            j["ratio_to_signsgd"] = json!(ratio);
        }
        json_methods.insert(e.setting.method.id().into(), j);
    }
    report.table(
        &format!(
            "Tuned settings on {k} fresh seeds: G = mean exact ‖∇f‖₁ over the last {} iterates, mean ± sample std over seeds",
            cfg.n_steps / 10
        ),
        &["method", "role", "provenance", "η", "β", "G", "G / G_signSGD", "component gradients to x_T"],
        rows,
    )?;
    report.paragraph(&format!(
        "Thresholds (spec §5a): G_SSVR/G_signSGD ≤ {SSVR_VS_SIGNSGD_MAX_RATIO} (observed {}), \
         G_SSVR-FS/G_signSGD ≤ {SSVRFS_VS_SIGNSGD_MAX_RATIO} (observed {}), \
         G_SSVR-FS/G_SSVR ≤ {SSVRFS_VS_SSVR_MAX_RATIO} (observed {}). The spec's \
         independent NumPy re-run gave 0.77, 0.26 and 0.34 (signSGD 0.698, SSVR 0.536, \
         SSVR-FS 0.184): different random streams, so only the ratios are comparable.",
        fmt_g(r_ssvr),
        fmt_g(r_fs),
        fmt_g(r_fs_ssvr)
    ));
    let seed_col: Vec<f64> = (0..k).map(|i| i as f64).collect();
    let mut cols = vec![seed_col];
    let mut headers = vec!["eval_seed_index".to_string()];
    for e in &evaluated {
        headers.push(format!("g_tail_{}", e.setting.method.id()));
        cols.push(
            e.g.iter()
                .map(|&g| if g.is_finite() { g } else { f64::MAX })
                .collect(),
        );
    }
    let header_refs: Vec<&str> = headers.iter().map(String::as_str).collect();
    report.csv("evaluation", &header_refs, &cols)?;
    report.metric("methods", Value::Object(json_methods))?;
    report.metric(
        "ratios",
        json!({"ssvr_over_signsgd": finite_or_max(r_ssvr), "ssvr_fs_over_signsgd": finite_or_max(r_fs),
               "ssvr_fs_over_ssvr": finite_or_max(r_fs_ssvr)}),
    )?;
    report.metric(
        "beta_one_equals_signsgd",
        json!({"max_abs_x_difference": x_diff, "g_difference": finite_or_max(g_diff)}),
    )?;

    curves(cfg, m, &evaluated, sign.grads_to_x_t, report)?;
    Ok(())
}

fn finite_or_max(x: f64) -> f64 {
    if x.is_finite() {
        x
    } else {
        f64::MAX
    }
}

/// The seed-mean curves, against iterations and against component gradients.
fn curves(
    cfg: &Config,
    m: usize,
    evaluated: &[Evaluated],
    budget: u64,
    report: &mut Report,
) -> Result<(), StudyError> {
    report.heading("Convergence curves");
    let mut by_iter = LinePlot::new(
        "grad-norm-vs-iteration",
        "Exact ‖∇f(x_t)‖₁ per iteration (mean over evaluation seeds)",
        "iteration t (updates applied)",
        "‖∇f(x_t)‖₁",
    )
    .log_y();
    let mut by_grads = LinePlot::new(
        "grad-norm-vs-gradients",
        "Exact ‖∇f(x_t)‖₁ per component-gradient evaluation (mean over evaluation seeds)",
        "component gradients evaluated",
        "‖∇f(x_t)‖₁",
    )
    .log_y();
    let mut rows = Vec::new();
    let mut json_budget = serde_json::Map::new();
    for (c, e) in evaluated.iter().enumerate() {
        // Steps recorded by every seed (all, unless a run diverged).
        let n_pts = e.outcomes.iter().map(|o| o.curve.len()).min().unwrap_or(0);
        if n_pts == 0 {
            continue;
        }
        let steps: Vec<u64> = e.outcomes[0].curve_steps[..n_pts].to_vec();
        let y: Vec<f64> = (0..n_pts)
            .map(|i| mean(&e.outcomes.iter().map(|o| o.curve[i]).collect::<Vec<_>>()))
            .collect();
        let x_iter: Vec<f64> = steps.iter().map(|&s| s as f64).collect();
        let x_grads: Vec<f64> = steps
            .iter()
            .map(|&s| closed_form_grads(&e.spec, m, s) as f64)
            .collect();
        let label = e.setting.method.label();
        let style = |s: Series| {
            if e.setting.method.role() == Role::Informational {
                s.dashed().color(c)
            } else {
                s.line().color(c)
            }
        };
        by_iter = by_iter.with_series(style(Series::new(label, x_iter, y.clone())));
        by_grads = by_grads.with_series(style(Series::new(label, x_grads.clone(), y.clone())));
        // Equal budget: the last recorded iterate reached with ≤ `budget` gradients.
        if let Some(i) = (0..n_pts).rev().find(|&i| x_grads[i] <= budget as f64) {
            rows.push(vec![
                label.to_string(),
                steps[i].to_string(),
                fmt_num(x_grads[i]),
                fmt_num(y[i]),
            ]);
            json_budget.insert(
                e.setting.method.id().into(),
                json!({"step": steps[i], "component_gradients": x_grads[i], "grad_l1_seed_mean": y[i]}),
            );
        }
    }
    report.line_plot(by_iter.with_caption(format!(
        "Each method at its tuned setting; exact full-gradient ℓ1 norm at log-spaced steps and every {} steps. \
         Dashed: informational variants. This project's figure (the paper's figures are on CIFAR-10).",
        cfg.n_steps / cfg.curve_points
    )))?;
    report.line_plot(by_grads.with_caption(
        "The same runs against the number of component gradients (signSGD/Signum: B per step, SSVR: 2B, \
         SSVR-FS: 3B plus n at every checkpoint). Informational comparison at equal cost (spec §5a).",
    ))?;
    report.table(
        &format!(
            "Equal cost (informational, spec §5a): seed-mean ‖∇f‖₁ at the last recorded iterate reached with ≤ {budget} component gradients (signSGD's whole budget)"
        ),
        &["method", "iteration", "component gradients", "‖∇f‖₁"],
        rows,
    )?;
    report.metric("equal_budget", Value::Object(json_budget))?;
    Ok(())
}

fn provenance(report: &mut Report) {
    report.heading("Provenance: what is and is not the paper's");
    report.note(
        "The paper's full text (algorithms, theorem constants, experiment settings) could not be \
         read (spec verification log). **SSVR** uses the STORM-type estimator restated for the \
         paper's SSVR-MV workers by the authors' follow-up paper, so its form is verified; the \
         paper's own Theorem 1 constants are not. **SSVR-FS (blend)** — the gated finite-sum \
         method — is the spec author's reconstruction from memory ([memory]): a SARAH/SVRG blend \
         `v = (1−β)(v + g − g_prev) + β(g − g_snap + μ)` with a full gradient μ every I = n/B \
         steps and v reset to μ there. **β = 0** (SARAH-sign) is the variant with a verified \
         guarantee (follow-up, specialised to one worker); β = 1 (SVRG-sign) and β = 1/I (the \
         blend's theory-consistent value, [derived]) are the spec's informational robustness \
         lines. Signum is an extra baseline. All numbers here are this project's, on a \
         synthetic problem the spec designed; the paper's experiments are on CIFAR-10/100.",
    );
}
