//! The experiment and its checks. Every threshold is a `const` below, with its source.

use gdlab_core::Seed;
use gdlab_decentral::{
    max_local_smoothness, oracle_least_squares, DecentralProblem, DgdConfig, Graph, LassoConfig,
    LassoMethod, MixOrder, MixingMatrix, SparseRegressionConfig, Stopping, Trace, TruncVariant,
    Truncation, WeightRule,
};
use rayon::prelude::*;
use serde_json::{json, Value};

use super::config::Config;
use crate::report::{fmt_num, LinePlot, Report, Series};
use crate::study::{Mode, RunOpts, StudyError};
use crate::verdict::{Check, Cmp, Verdict};

// ---- Thresholds: spec §5 "PASS iff all hold" (observed values in the spec: seed 0 / 1) ----

/// Check 1: E(DGD-ATC, ER) ≤ 1.35 × E(CGD) (spec observed 1.02 / 1.19).
const ATC_ER_VS_CGD: f64 = 1.35;
/// Check 2a: E(DGD-ATC, ring) ≤ 1.8 × E(CGD) (spec observed 1.19 / 1.66).
const ATC_RING_VS_CGD: f64 = 1.8;
/// Check 2b: E(DGD-ATC, ring) ≥ E(DGD-ATC, ER) − 0.01 (worse connectivity is not better).
const RING_MINUS_ER_MIN: f64 = -0.01;
/// Check 3a: best tuned LASSO baseline B ≥ 1.25 × E(DGD-ATC, ER) (spec observed 1.65).
const LASSO_VS_ATC: f64 = 1.25;
/// Check 3b: B ≥ 1.5 × E(CGD) (spec observed 1.68).
const LASSO_VS_CGD: f64 = 1.5;
/// Check 4: err_agents(T) of DGD-ATC on ER ≥ 3 × its minimum (U-shape; observed 4.8 / 5.4).
const U_SHAPE_MIN: f64 = 3.0;
/// Check 5: E(α = 0.1) ≥ 4 × E(α = 1e-6) (observed 7.9 / 10.1).
const ALPHA_RATIO_MIN: f64 = 4.0;
/// Check 6: E(CGD) ≤ 1.3 × oracle-LS error (observed 0.98 / 0.94).
const CGD_VS_ORACLE: f64 = 1.3;
/// Check 7a: E(T-DGD, k = s) ≤ 1.2 × E(DGD-ATC) at high SNR (observed 1.00 / 1.03).
const TDGD_VS_DGD: f64 = 1.2;
/// Check 7b: bits sent by T-DGD ≤ 0.1 × bits of DGD (to each method's best iterate).
const TDGD_BITS_RATIO: f64 = 0.1;
/// Validation: ρ of the ring vs its closed form, to eigen-solver accuracy (c·m·ε).
const RHO_TOL: f64 = 1e-12;
/// Validation: row/column sums and symmetry of W to rounding (64·m·ε).
const STOCH_TOL: f64 = 1e-13;
/// Held-out samples per agent for the informational `ValidationLoss` stopping rule (our
/// choice: a third of the 30 training samples, drawn from their own streams so the training
/// data and every checked number are unchanged).
const HOLDOUT_PER_AGENT: usize = 10;
/// Curves are plotted at every `PLOT_STRIDE`-th round (the CSV of each plot holds exactly
/// the plotted points; per-seed numbers use every round).
const PLOT_STRIDE: usize = 5;

/// What the study keeps of one run.
#[derive(Clone, Debug)]
struct Summary {
    /// argmin_t err_agents.
    best_t: usize,
    /// min_t err_agents (for LASSO methods the check uses `final_err`).
    best: f64,
    /// err_agents at the last round.
    final_err: f64,
    /// err_avg (‖w̄ − w*‖) at the best round.
    avg_at_best: f64,
    /// Bits sent up to the best round.
    bits_to_best: f64,
    /// Bits sent in total.
    bits_total: f64,
    /// Diverged?
    diverged: bool,
    /// `(t, err_agents)` at the iterate of least held-out loss (runs given a holdout).
    at_val: Option<(usize, f64)>,
    /// The mean agent error curve (kept for the plotted seed only).
    curve: Option<Vec<f64>>,
}

fn summarize(t: &Trace, keep_curve: bool) -> Summary {
    let (best_t, best) = t.best();
    let per_round = if t.comm.rounds == 0 {
        0.0
    } else {
        t.comm.bits_sent as f64 / t.comm.rounds as f64
    };
    Summary {
        best_t,
        best: if t.diverged() { f64::INFINITY } else { best },
        final_err: if t.diverged() {
            f64::INFINITY
        } else {
            t.final_err()
        },
        avg_at_best: t.err_avg.get(best_t).copied().unwrap_or(f64::NAN),
        bits_to_best: per_round * best_t as f64,
        bits_total: t.comm.bits_sent as f64,
        diverged: t.diverged(),
        at_val: t.select(Stopping::ValidationLoss),
        curve: keep_curve.then(|| t.err_agents.clone()),
    }
}

/// Everything measured on one seed.
#[derive(Clone, Debug)]
struct SeedOut {
    seed: Seed,
    rho_er: f64,
    er_edges: usize,
    rho_ring: f64,
    oracle: f64,
    cgd: Summary,
    atc_er: Summary,
    atc_ring: Summary,
    cta_er: Summary,
    cta_ring: Summary,
    alpha_large: Summary,
    lasso_cta: (f64, Summary),
    lasso_atc: (f64, Summary),
    netlasso: (f64, Summary),
    hi_atc: Summary,
    hi_tdgd: Summary,
    hi_mp: Summary,
    alpha_sweep: Vec<(f64, Summary)>,
}

impl SeedOut {
    /// B: the smallest best (final) error among the three LASSO baselines.
    fn lasso_best(&self) -> f64 {
        self.lasso_cta
            .1
            .final_err
            .min(self.lasso_atc.1.final_err)
            .min(self.netlasso.1.final_err)
    }
}

fn problem_config(cfg: &Config, magnitude: f64, noise_std: f64) -> SparseRegressionConfig {
    SparseRegressionConfig {
        dim: cfg.dim,
        sparsity: cfg.sparsity,
        n_agents: cfg.n_agents,
        samples_per_agent: cfg.samples_per_agent,
        total_samples: None,
        noise_std,
        magnitude,
    }
}

/// Best final error of a LASSO method over a grid; returns (grid value, summary).
fn best_of(
    grid: &[f64],
    mut make: impl FnMut(f64) -> LassoConfig,
    problem: &DecentralProblem,
    w: &MixingMatrix,
    keep: bool,
) -> Result<(f64, Summary), StudyError> {
    let mut best: Option<(f64, Summary)> = None;
    for &g in grid {
        let s = summarize(&make(g).run(problem, w)?, keep);
        if best.as_ref().is_none_or(|b| s.final_err < b.1.final_err) {
            best = Some((g, s));
        }
    }
    best.ok_or_else(|| StudyError::Component {
        component: "decentralized-sparse",
        message: "empty tuning grid".into(),
    })
}

fn run_seed(cfg: &Config, seed: Seed, keep: bool) -> Result<SeedOut, StudyError> {
    let data_seed = seed.derive("data");
    let problem = problem_config(cfg, 1.0, cfg.noise_std).generate(data_seed)?;
    let er = Graph::erdos_renyi(cfg.n_agents, cfg.er_p, seed.derive("er-graph"))?;
    let w_er = MixingMatrix::new(&er, WeightRule::Metropolis)?;
    let w_ring = MixingMatrix::new(&Graph::ring(cfg.n_agents)?, WeightRule::Metropolis)?;
    let dgd = DgdConfig {
        step_size: cfg.eta,
        init_scale: cfg.alpha,
        n_rounds: cfg.n_rounds,
        order: MixOrder::Atc,
        truncation: None,
    };
    let cta = DgdConfig {
        order: MixOrder::Cta,
        ..dgd
    };
    let oracle = problem.error(&oracle_least_squares(&problem)?);
    let held =
        problem_config(cfg, 1.0, cfg.noise_std).generate_holdout(data_seed, HOLDOUT_PER_AGENT)?;
    let cgd = summarize(
        &dgd.run_centralized_with_holdout(&problem, &held)?.trace,
        keep,
    );
    let atc_er = summarize(&dgd.run_with_holdout(&problem, &w_er, &held)?.trace, keep);
    let atc_ring = summarize(&dgd.run_with_holdout(&problem, &w_ring, &held)?.trace, keep);
    let cta_er = summarize(&cta.run(&problem, &w_er)?.trace, false);
    let cta_ring = summarize(&cta.run(&problem, &w_ring)?.trace, false);
    let alpha_large = summarize(
        &DgdConfig {
            init_scale: cfg.alpha_large,
            ..dgd
        }
        .run(&problem, &w_er)?
        .trace,
        keep,
    );
    let mut alpha_sweep = Vec::new();
    if keep {
        for &a in &cfg.alpha_sweep {
            let s = summarize(
                &DgdConfig {
                    init_scale: a,
                    ..dgd
                }
                .run(&problem, &w_er)?
                .trace,
                true,
            );
            alpha_sweep.push((a, s));
        }
    }
    // LASSO baselines on ER: η = 0.5/max_i L_i, λ from the grid by final error (spec §2.4).
    let l_max = max_local_smoothness(&problem)?;
    let eta_l = 0.5 / l_max;
    let lasso = |method| LassoConfig {
        method,
        step_size: eta_l,
        n_rounds: cfg.lasso_rounds,
        truncate: None,
    };
    let lasso_cta = best_of(
        &cfg.lambdas,
        |l| lasso(LassoMethod::ProxCta { lambda: l }),
        &problem,
        &w_er,
        keep,
    )?;
    let lasso_atc = best_of(
        &cfg.lambdas,
        |l| {
            lasso(LassoMethod::ProxAtc {
                lambda: l,
                prox_before_mixing: false,
            })
        },
        &problem,
        &w_er,
        keep,
    )?;
    let radius: f64 = problem.w_star().iter().map(|v| v.abs()).sum();
    let netlasso = best_of(
        &cfg.netlasso_step_factors,
        |f| LassoConfig {
            step_size: f / l_max,
            ..lasso(LassoMethod::NetLasso { radius })
        },
        &problem,
        &w_er,
        keep,
    )?;
    // High SNR: magnitude 10, σ = 0.1, η = 0.005 (same design, support and noise draws).
    let hi = problem_config(cfg, cfg.hi_magnitude, cfg.hi_noise_std).generate(data_seed)?;
    let hi_dgd = DgdConfig {
        step_size: cfg.hi_eta,
        ..dgd
    };
    let hi_atc = summarize(&hi_dgd.run(&hi, &w_er)?.trace, keep);
    let tdgd = |k, variant| DgdConfig {
        truncation: Some(Truncation { k, variant }),
        ..hi_dgd
    };
    let hi_tdgd = summarize(
        &tdgd(cfg.sparsity, TruncVariant::Paper)
            .run(&hi, &w_er)?
            .trace,
        keep,
    );
    let hi_mp = summarize(
        &tdgd(2 * cfg.sparsity, TruncVariant::MassPreserving)
            .run(&hi, &w_er)?
            .trace,
        false,
    );
    Ok(SeedOut {
        seed,
        rho_er: w_er.rho(),
        er_edges: er.n_edges(),
        rho_ring: w_ring.rho(),
        oracle,
        cgd,
        atc_er,
        atc_ring,
        cta_er,
        cta_ring,
        alpha_large,
        lasso_cta,
        lasso_atc,
        netlasso,
        hi_atc,
        hi_tdgd,
        hi_mp,
        alpha_sweep,
    })
}

pub(super) fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        xs[n / 2]
    } else {
        0.5 * (xs[n / 2 - 1] + xs[n / 2])
    }
}

pub(super) fn per_seed(xs: &[f64]) -> String {
    xs.iter()
        .map(|x| fmt_num(*x))
        .collect::<Vec<_>>()
        .join(" / ")
}

pub(super) fn run(
    cfg: &Config,
    opts: &RunOpts,
    report: &mut Report,
) -> Result<Verdict, StudyError> {
    report.intro(
        "Each of m agents holds n_i samples `y_i = X_i w* + ξ_i` of an s-sparse `w*`. DGD runs on \
         the over-parameterized loss `f_i(u, v) = (1/n_i)‖X_i(u⊙u − v⊙v) − y_i‖²` from \
         `u = v = α·1`: a local gradient step, then the neighbours average the updated vectors \
         (adapt-then-combine, the paper's eqs. (3)-(4)). With small α and early stopping it \
         should reach the centralized error without an explicit penalty (spec §5).",
    );
    report.paragraph(&format!(
        "Setup (spec §5): d = {}, s = {}, m = {}, n_i = {} (N = {}), X ~ N(0, 1), σ = {}, \
         w*_S = ±1 (random signs); graphs ER(m, p = {}) resampled until connected and the \
         ring, both with Metropolis–Hastings weights; α = {:e}, η = {} (paper convention, \
         factor 4η), T = {} (LASSO T = {}). Metric E = min_t of the mean agent error \
         `(1/m)Σ_i‖w_{{t,i}} − w*‖₂` (oracle early stopping, as in the paper's curves); for \
         LASSO methods the final error. {} seeds (root seed {}, seed k = root.index(k)); the \
         **median over seeds decides each check** and every per-seed value is printed.",
        cfg.dim,
        cfg.sparsity,
        cfg.n_agents,
        cfg.samples_per_agent,
        cfg.n_agents * cfg.samples_per_agent,
        cfg.noise_std,
        cfg.er_p,
        cfg.alpha,
        cfg.eta,
        cfg.n_rounds,
        cfg.lasso_rounds,
        cfg.n_seeds,
        opts.seed.0,
    ));
    let outs: Vec<SeedOut> = (0..cfg.n_seeds)
        .into_par_iter()
        .map(|k| run_seed(cfg, opts.seed.index(k as u64), k == 0))
        .collect::<Result<_, _>>()?;
    let mut v = Verdict::default();
    validation(cfg, &outs, &mut v)?;
    checks(&outs, &mut v);
    tables(cfg, &outs, report)?;
    plots(cfg, &outs[0], report)?;
    if opts.mode == Mode::Full {
        super::full::full(cfg, opts, &mut v, report)?;
    }
    provenance(report);
    Ok(v)
}

/// Validation: ρ of the ring against its closed form; every W doubly stochastic.
fn validation(cfg: &Config, outs: &[SeedOut], v: &mut Verdict) -> Result<(), StudyError> {
    let m = cfg.n_agents;
    // Ring with Metropolis weights 1/3: eigenvalues (1 + 2cos(2πk/m))/3.
    let exact = (1..m)
        .map(|k| {
            ((1.0 + 2.0 * (2.0 * std::f64::consts::PI * k as f64 / m as f64).cos()) / 3.0).abs()
        })
        .fold(0.0, f64::max);
    let worst = outs
        .iter()
        .map(|o| (o.rho_ring - exact).abs())
        .fold(0.0, f64::max);
    v.push(Check::validation(
        format!("ring-{m} Metropolis ρ equals (1 + 2cos(2π/m))/3 = {exact:.6} (faer eigen-solver): |ρ − exact|"),
        worst,
        Cmp::Le,
        RHO_TOL,
    ));
    let mut stoch = 0.0_f64;
    for o in outs {
        let er = Graph::erdos_renyi(m, cfg.er_p, o.seed.derive("er-graph"))?;
        stoch = stoch.max(MixingMatrix::new(&er, WeightRule::Metropolis)?.stochasticity_error());
    }
    v.push(Check::validation(
        "the ER mixing matrices are symmetric and doubly stochastic: max |row/column sum − 1|, |W_ij − W_ji|",
        stoch,
        Cmp::Le,
        STOCH_TOL,
    ));
    Ok(())
}

fn checks(outs: &[SeedOut], v: &mut Verdict) {
    let col = |f: &dyn Fn(&SeedOut) -> f64| outs.iter().map(f).collect::<Vec<f64>>();
    let mut claim = |text: &str, vals: Vec<f64>, cmp: Cmp, thr: f64| {
        v.push(Check::claim(
            format!("{text} (median over seeds; per seed {})", per_seed(&vals)),
            median(vals),
            cmp,
            thr,
        ));
    };
    claim(
        "1. decentralized ≈ centralized: E(DGD-ATC, ER) / E(CGD)",
        col(&|o| o.atc_er.best / o.cgd.best),
        Cmp::Le,
        ATC_ER_VS_CGD,
    );
    claim(
        "2a. poor connectivity still close: E(DGD-ATC, ring) / E(CGD)",
        col(&|o| o.atc_ring.best / o.cgd.best),
        Cmp::Le,
        ATC_RING_VS_CGD,
    );
    claim(
        "2b. the gap grows with ρ: E(DGD-ATC, ring) − E(DGD-ATC, ER)",
        col(&|o| o.atc_ring.best - o.atc_er.best),
        Cmp::Ge,
        RING_MINUS_ER_MIN,
    );
    claim(
        "3a. beats tuned decentralized LASSO: B / E(DGD-ATC, ER), B = best of CTA/ATC prox-DGD and NetLASSO",
        col(&|o| o.lasso_best() / o.atc_er.best),
        Cmp::Ge,
        LASSO_VS_ATC,
    );
    claim(
        "3b. B / E(CGD)",
        col(&|o| o.lasso_best() / o.cgd.best),
        Cmp::Ge,
        LASSO_VS_CGD,
    );
    claim(
        "4. U-shape (early stopping needed): err_agents(T) / E of DGD-ATC on ER",
        col(&|o| o.atc_er.final_err / o.atc_er.best),
        Cmp::Ge,
        U_SHAPE_MIN,
    );
    claim(
        "5. small initialization matters: E(α = 0.1) / E(α = 1e-6), DGD-ATC on ER",
        col(&|o| o.alpha_large.best / o.atc_er.best),
        Cmp::Ge,
        ALPHA_RATIO_MIN,
    );
    claim(
        "6. CGD reaches the oracle: E(CGD) / oracle-LS error",
        col(&|o| o.cgd.best / o.oracle),
        Cmp::Le,
        CGD_VS_ORACLE,
    );
    claim(
        "7a. high SNR: E(T-DGD, paper rule, k = s) / E(DGD-ATC), ER",
        col(&|o| o.hi_tdgd.best / o.hi_atc.best),
        Cmp::Le,
        TDGD_VS_DGD,
    );
    claim(
        "7b. bits sent to the best iterate: T-DGD / DGD-ATC",
        col(&|o| o.hi_tdgd.bits_to_best / o.hi_atc.bits_to_best.max(1.0)),
        Cmp::Le,
        TDGD_BITS_RATIO,
    );
}

fn tables(cfg: &Config, outs: &[SeedOut], report: &mut Report) -> Result<(), StudyError> {
    report.heading("Results");
    report.table(
        "Graphs per seed (Metropolis weights; ρ = ‖W − J/m‖₂)",
        &["seed", "ρ(ER)", "ER edges", "ρ(ring)"],
        outs.iter()
            .map(|o| {
                vec![
                    o.seed.0.to_string(),
                    fmt_num(o.rho_er),
                    o.er_edges.to_string(),
                    fmt_num(o.rho_ring),
                ]
            })
            .collect(),
    )?;
    type Get = fn(&SeedOut) -> &Summary;
    let rows: Vec<(&str, &str, Get)> = vec![
        ("CGD (centralized GD)", "—", |o| &o.cgd),
        ("DGD-ATC (paper)", "ER", |o| &o.atc_er),
        ("DGD-ATC (paper)", "ring", |o| &o.atc_ring),
        ("DGD-CTA (extra)", "ER", |o| &o.cta_er),
        ("DGD-CTA (extra)", "ring", |o| &o.cta_ring),
        ("DGD-ATC, α = 0.1", "ER", |o| &o.alpha_large),
        ("CTA-DGD (LASSO), best λ", "ER", |o| &o.lasso_cta.1),
        ("ATC-DGD (LASSO), best λ", "ER", |o| &o.lasso_atc.1),
        ("NetLASSO (R = ‖w*‖₁), best η", "ER", |o| {
            &o.netlasso.1
        }),
        ("high SNR: DGD-ATC", "ER", |o| &o.hi_atc),
        ("high SNR: T-DGD (paper, k = s)", "ER", |o| &o.hi_tdgd),
        (
            "high SNR: T-DGD mass-preserving, k = 2s (extra)",
            "ER",
            |o| &o.hi_mp,
        ),
    ];
    let mut table = Vec::new();
    for (name, graph, get) in &rows {
        let s: Vec<&Summary> = outs.iter().map(get).collect();
        table.push(vec![
            (*name).to_string(),
            (*graph).to_string(),
            per_seed(&s.iter().map(|x| x.best).collect::<Vec<_>>()),
            s.iter()
                .map(|x| x.best_t.to_string())
                .collect::<Vec<_>>()
                .join(" / "),
            per_seed(&s.iter().map(|x| x.avg_at_best).collect::<Vec<_>>()),
            per_seed(&s.iter().map(|x| x.final_err).collect::<Vec<_>>()),
            per_seed(&s.iter().map(|x| x.bits_to_best).collect::<Vec<_>>()),
            per_seed(&s.iter().map(|x| x.bits_total).collect::<Vec<_>>()),
            if s.iter().any(|x| x.diverged) {
                "yes".into()
            } else {
                "no".into()
            },
        ]);
    }
    table.push(vec![
        "oracle LS on S".into(),
        "—".into(),
        per_seed(&outs.iter().map(|o| o.oracle).collect::<Vec<_>>()),
        "—".into(),
        "—".into(),
        "—".into(),
        "0".into(),
        "0".into(),
        "no".into(),
    ]);
    report.table(
        "Per-method errors, per seed (seed 0 / 1 / 2). E = min_t mean agent error; argmin t; ‖w̄ − w*‖ at argmin; error at the last round; bits sent (all directed edges) up to argmin",
        &["method", "graph", "E = min err_agents", "argmin t", "err_avg at argmin", "final err_agents", "bits to argmin", "bits total", "diverged"],
        table,
    )?;
    let avg_er: Vec<f64> = outs
        .iter()
        .map(|o| o.atc_er.avg_at_best / o.cgd.best)
        .collect();
    let avg_ring: Vec<f64> = outs
        .iter()
        .map(|o| o.atc_ring.avg_at_best / o.cgd.best)
        .collect();
    report.paragraph(&format!(
        "Not gated (spec §7: the checks use the mean agent error, which includes the consensus \
         error): the network-averaged estimate `w̄ = (1/m)Σ_i w_i` at DGD-ATC's argmin is within \
         ‖w̄ − w*‖ / E(CGD) = {} (ER) and {} (ring) of centralized GD, per seed.",
        per_seed(&avg_er),
        per_seed(&avg_ring)
    ));
    let val_rows: [(&str, Get); 3] = [
        ("CGD (centralized GD, pooled holdout)", |o| &o.cgd),
        ("DGD-ATC, ER", |o| &o.atc_er),
        ("DGD-ATC, ring", |o| &o.atc_ring),
    ];
    let mut vt = Vec::new();
    for (name, get) in val_rows {
        let s: Vec<&Summary> = outs.iter().map(get).collect();
        let at = |x: &Summary| x.at_val.map_or((0, f64::NAN), |(t, e)| (t, e));
        vt.push(vec![
            name.to_string(),
            per_seed(&s.iter().map(|x| at(x).1).collect::<Vec<_>>()),
            s.iter()
                .map(|x| at(x).0.to_string())
                .collect::<Vec<_>>()
                .join(" / "),
            per_seed(&s.iter().map(|x| at(x).1 / x.best).collect::<Vec<_>>()),
            per_seed(
                &outs
                    .iter()
                    .zip(&s)
                    .map(|(o, x)| at(x).1 / o.cgd.best)
                    .collect::<Vec<_>>(),
            ),
        ]);
    }
    report.table(
        &format!(
            "Informational, not gated: the ValidationLoss stopping rule (spec §2.1), which a \
             practitioner can use without w*: stop at the least network-averaged loss on \
             {HOLDOUT_PER_AGENT} held-out samples per agent (our choice; they are not used for \
             training). Per seed (0 / 1 / 2)"
        ),
        &[
            "method",
            "err_agents at the validation stop",
            "stop t",
            "÷ oracle-best E of the same run",
            "÷ E(CGD)",
        ],
        vt,
    )?;
    report.table(
        "Tuned LASSO settings per seed",
        &["seed", "CTA λ", "ATC λ", "NetLASSO η·max L_i"],
        outs.iter()
            .map(|o| {
                vec![
                    o.seed.0.to_string(),
                    fmt_num(o.lasso_cta.0),
                    fmt_num(o.lasso_atc.0),
                    fmt_num(o.netlasso.0),
                ]
            })
            .collect(),
    )?;
    report.paragraph(&format!(
        "LASSO baselines: f_i = (1/(2n_i))‖X_i x − y_i‖², η = 0.5/max_i L_i with \
         L_i = ‖X_i‖₂²/n_i, λ ∈ {:?} chosen by oracle final error (spec §2.4, our choice); \
         NetLASSO (gradient tracking, ℓ1 ball of the oracle radius R = ‖w*‖₁) diverges at \
         η = 0.5/L on some graphs, so its step is chosen from {:?}/max_i L_i by final error \
         (the paper tuned every baseline's step). Bits: 32 bits per value, top-k messages \
         k·(32 + ⌈log₂ d⌉) (spec §5 check 7).",
        cfg.lambdas, cfg.netlasso_step_factors
    ));
    let cols: Vec<Vec<f64>> = vec![
        outs.iter().map(|o| o.seed.0 as f64).collect(),
        outs.iter().map(|o| o.rho_er).collect(),
        outs.iter().map(|o| o.rho_ring).collect(),
        outs.iter().map(|o| o.oracle).collect(),
        outs.iter().map(|o| o.cgd.best).collect(),
        outs.iter().map(|o| o.atc_er.best).collect(),
        outs.iter().map(|o| o.atc_ring.best).collect(),
        outs.iter().map(|o| o.cta_er.best).collect(),
        outs.iter().map(|o| o.cta_ring.best).collect(),
        outs.iter().map(|o| o.atc_er.final_err).collect(),
        outs.iter().map(|o| finite(o.alpha_large.best)).collect(),
        outs.iter()
            .map(|o| finite(o.lasso_cta.1.final_err))
            .collect(),
        outs.iter()
            .map(|o| finite(o.lasso_atc.1.final_err))
            .collect(),
        outs.iter()
            .map(|o| finite(o.netlasso.1.final_err))
            .collect(),
        outs.iter().map(|o| o.hi_atc.best).collect(),
        outs.iter().map(|o| finite(o.hi_tdgd.best)).collect(),
        outs.iter().map(|o| finite(o.hi_mp.best)).collect(),
        outs.iter().map(|o| o.hi_atc.bits_to_best).collect(),
        outs.iter().map(|o| o.hi_tdgd.bits_to_best).collect(),
    ];
    let headers = [
        "seed",
        "rho_er",
        "rho_ring",
        "oracle_ls",
        "cgd",
        "atc_er",
        "atc_ring",
        "cta_er",
        "cta_ring",
        "atc_er_final",
        "atc_er_alpha_0.1",
        "lasso_cta",
        "lasso_atc",
        "netlasso",
        "hi_atc",
        "hi_tdgd",
        "hi_mass_preserving",
        "hi_atc_bits",
        "hi_tdgd_bits",
    ];
    report.csv("per-seed", &headers, &cols)?;
    let json_seeds: Vec<Value> = (0..outs.len())
        .map(|i| {
            let mut m = serde_json::Map::new();
            for (h, c) in headers.iter().zip(&cols) {
                m.insert((*h).to_string(), json!(c[i]));
            }
            Value::Object(m)
        })
        .collect();
    report.metric("seeds", Value::Array(json_seeds))?;
    Ok(())
}

/// Non-finite values (a diverged run) are written as `f64::MAX` in CSV/JSON and flagged
/// in the table's "diverged" column.
fn finite(x: f64) -> f64 {
    if x.is_finite() {
        x
    } else {
        f64::MAX
    }
}

fn thin(curve: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let idx: Vec<usize> = (0..curve.len())
        .filter(|t| t % PLOT_STRIDE == 0 || *t + 1 == curve.len())
        .collect();
    (
        idx.iter().map(|&t| t as f64).collect(),
        idx.iter().map(|&t| curve[t].max(1e-300)).collect(),
    )
}

fn add(plot: LinePlot, label: &str, s: &Summary) -> LinePlot {
    match &s.curve {
        Some(c) if !s.diverged => {
            let (x, y) = thin(c);
            plot.with_series(Series::new(label, x, y).line())
        }
        _ => plot,
    }
}

fn plots(cfg: &Config, o: &SeedOut, report: &mut Report) -> Result<(), StudyError> {
    report.heading("Error curves (first seed)");
    let ref_line =
        |n: usize, y: f64| Series::reference("oracle LS", vec![0.0, n as f64], vec![y, y]).dashed();
    let mut p = LinePlot::new(
        "errors",
        "Mean agent error vs iteration",
        "iteration t",
        "(1/m) Σ_i ‖w_{t,i} − w*‖₂",
    )
    .log_y()
    .with_series(ref_line(cfg.n_rounds, o.oracle));
    p = add(p, "CGD", &o.cgd);
    p = add(p, &format!("DGD-ATC, ER (ρ = {:.3})", o.rho_er), &o.atc_er);
    p = add(
        p,
        &format!("DGD-ATC, ring (ρ = {:.3})", o.rho_ring),
        &o.atc_ring,
    );
    p = add(
        p,
        &format!("CTA-DGD LASSO, λ = {}", o.lasso_cta.0),
        &o.lasso_cta.1,
    );
    p = add(
        p,
        &format!("ATC-DGD LASSO, λ = {}", o.lasso_atc.0),
        &o.lasso_atc.1,
    );
    p = add(p, "NetLASSO, R = ‖w*‖₁", &o.netlasso.1);
    report.line_plot(p.with_caption(
        "DGD-ATC follows centralized GD down to the oracle error and then rises (U-shape: early \
         stopping needed); the LASSO baselines (T = 1500) stall at a larger error.",
    ))?;
    let mut a = LinePlot::new(
        "alpha-sweep",
        "Initialization scale α (DGD-ATC, ER)",
        "iteration t",
        "mean agent error",
    )
    .log_y();
    let mut sweep: Vec<(f64, &Summary)> =
        vec![(cfg.alpha_large, &o.alpha_large), (cfg.alpha, &o.atc_er)];
    sweep.extend(o.alpha_sweep.iter().map(|(a, s)| (*a, s)));
    sweep.sort_by(|x, y| y.0.total_cmp(&x.0));
    for (alpha, s) in sweep {
        a = add(a, &format!("α = {alpha:e}"), s);
    }
    report.line_plot(a.with_caption("Large α loses the implicit sparsity bias."))?;
    let mut h = LinePlot::new(
        "high-snr",
        "High SNR (magnitude 10, σ = 0.1, η = 0.005), ER",
        "iteration t",
        "mean agent error",
    )
    .log_y();
    h = add(h, "DGD-ATC", &o.hi_atc);
    h = add(
        h,
        &format!("T-DGD (paper rule, k = s = {})", cfg.sparsity),
        &o.hi_tdgd,
    );
    report.line_plot(h.with_caption(format!(
        "T-DGD sends only the top-s entries of u and v: {} vs {} bits to the best iterate.",
        fmt_num(o.hi_tdgd.bits_to_best),
        fmt_num(o.hi_atc.bits_to_best)
    )))?;
    Ok(())
}

fn provenance(report: &mut Report) {
    report.heading("Provenance: what is and is not the paper's");
    report.note(
        "The paper reports curves only (no tables); the thresholds are spec §5's, set from a \
         NumPy re-run of this setup (seeds 0 and 1). Our choices (spec): Metropolis weights, \
         random signs of w*, the ER draw p = 0.5 (ρ varies by seed: printed above), oracle \
         early stopping (min over t: the paper shows whole curves), the LASSO loss scaling and \
         λ/η grids. The paper's DGD is adapt-then-combine with f_i = (1/n)‖X_i(u⊙u − v⊙v) − y_i‖² \
         (spec verification log); CTA and the mass-preserving T-DGD are labelled extras and \
         not checked. Data and graphs come from this crate's ChaCha8 streams, so the numbers \
         are of the same size as the spec's, not identical. Checks 1 and 2a divide by E(CGD), \
         whose value varies with the draw (about 0.03 to 0.10 here, oracle σ√(s/N) ≈ 0.065); the \
         consensus part of the mean agent error does not shrink with it, so these ratios are \
         largest on draws with a small statistical error (compare the err_avg ratios above). \
         `scripts/reference/decentral_dgd_numpy.py` is an independent NumPy transcription of \
         DGD-ATC and CGD: `compare` checks this crate against it on identical data, `sweep` \
         gives the spread of the check-1/2a ratios over many draws of the spec's own setup.",
    );
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn median_of_odd_and_even() {
        assert!((median(vec![3.0, 1.0, 2.0]) - 2.0).abs() < 1e-15);
        assert!((median(vec![4.0, 1.0, 2.0, 3.0]) - 2.5).abs() < 1e-15);
    }
}
