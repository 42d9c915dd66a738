//! The experiment and its checks. Every threshold is a `const` below, citing spec §5.

use gdlab_core::Seed;
use gdlab_dynamics::model::{Group, TeacherMixture, TeacherMixtureConfig};
use gdlab_dynamics::ode::{
    group_losses, sign_changes, solve, ClosedForm, Integrator, OrderParams, Trajectory,
};
use gdlab_dynamics::phase::{phase_diagram, Phase, PhaseDiagramConfig};
use gdlab_dynamics::sim::simulate_seeds;
use serde_json::json;

use super::config::Config;
use crate::report::{fmt_num, LinePlot, Report, Series};
use crate::study::{RunOpts, StudyError};
use crate::verdict::{Check, Cmp, Verdict};

// ---- Thresholds (spec §5 Quick; item numbers refer to that list) ----

/// Check 1: R_∞ of configuration A, closed form √(2/π)⟨√Δ⟩/Δmix (spec §3: 0.598413).
const R_INF_A: f64 = 0.598_413;
/// Check 1: |R(100) − R_∞| ≤ 1e-3.
const R_INF_TOL: f64 = 1e-3;
/// Check 1: closed form (§2.3c) and RK4 (dt = 0.01) agree to 1e-6 on configuration A.
const CF_RK4_TOL: f64 = 1e-6;
/// Check 1: the RK4 step of spec §2.3.
const RK4_DT: f64 = 0.01;
/// Check 2: bands on the seed mean at every recorded t ≥ 1 (grid 0.25):
/// |Q_sim − Q_ode| ≤ 0.08·Q_ode + 0.005.
const Q_REL: f64 = 0.08;
const Q_ABS: f64 = 0.005;
/// Check 2: |R_sim − R_ode| ≤ 0.05·R_ode + 0.01.
const R_REL: f64 = 0.05;
const R_ABS: f64 = 0.01;
/// Check 2: |ε_c,sim − ε_c,ode| ≤ 0.02 (spec: 0.01 for the halved loss; observed 0.0063).
const EPS_TOL: f64 = 0.02;
/// Check 2: first recorded time and grid of the comparison.
const AGREE_FROM: f64 = 1.0;
const AGREE_GRID: f64 = 0.25;
/// Check 3: ε_+ − ε_− at t = 2 is at least 0.10 (ODE value 0.122).
const EARLY_T: f64 = 2.0;
const EARLY_MARGIN: f64 = 0.10;
/// Check 4: ε_− − ε_+ at t = 20 is at least 0.12 (ODE value 0.148).
const LATE_T: f64 = 20.0;
const LATE_MARGIN: f64 = 0.12;
/// Check 5: crossing window [0.5, 100] (starts at 0.5: Q0 > 0 gives a trivial sign change
/// at t ≈ 0.003, spec §7), exactly one sign change, at t* ∈ [9.5, 10.7].
const CROSS_FROM: f64 = 0.5;
const CROSS_TO: f64 = 100.0;
const T_STAR_LO: f64 = 9.5;
const T_STAR_HI: f64 = 10.7;
/// Check 5: every sign change of every simulated run within ±1.5 of t*.
const SIM_CROSS_TOL: f64 = 1.5;
/// Check 6: configuration B at t = 10: R_±, M, Q within 0.02 of the ODE and b within 0.03
/// (one seed), or all five within 0.02 for the mean of 3 seeds.
const B_T: f64 = 10.0;
const B_TOL: f64 = 0.02;
const B_TOL_BIAS_ONE_SEED: f64 = 0.03;
/// Check 7: configuration A to t = 200: Q < 100 at η = 0.75, Q > 10³ at η = 0.85
/// (η_c = 0.8).
const DIV_T: f64 = 200.0;
const ETA_BELOW: f64 = 0.75;
const ETA_ABOVE: f64 = 0.85;
const Q_BOUNDED: f64 = 100.0;
const Q_DIVERGED: f64 = 1e3;
const ETA_C_A: f64 = 0.8;

// ---- Full mode (spec §5 Full-scale; where the spec gives no number the study's choice
// is marked as such) ----

/// Deviation-vs-N slope: the spec says "shrinking roughly like d^{−1/2}"; the study's
/// band for the fitted log–log slope is [−0.8, −0.2] (study's choice, not the spec's).
const SLOPE_LO: f64 = -0.8;
const SLOPE_HI: f64 = -0.2;
/// Reference phase counts of the spec on the 49 × 60 grid at η = 0.1 (always +, always −,
/// crossing → +, crossing → −, diverged); reported, not gated (the spec does not say how
/// the boundary cells were resolved).
const REF_COUNTS_ETA01: [usize; 5] = [1036, 630, 667, 421, 186];
/// The learning rate at which the spec states the initial-rate rule (spec §5 Full: "for
/// Δ_− ∈ [0.1, 0.8] ∪ [1.25, 8] the initial-rate winner is the higher-variance group
/// (0 exceptions)", on the η = 0.1 diagram).
const INITIAL_RATE_ETA: f64 = 0.1;

// ---- Spec §5 Standard, ODE part only (paper configurations; the SGD part of item 8 is
// not run) ----

/// Item 8: paper Fig. 7 configuration: R_±∞ within 1e-4 of 1.23382 / 1.21872; exactly one
/// crossing on [0.5, 600] at t* ∈ [84.5, 86.5]; argmin_t ε_− ∈ [32, 36].
const F7_R_INF: [f64; 2] = [1.23382, 1.21872];
const F7_R_TOL: f64 = 1e-4;
const F7_T_STAR: [f64; 2] = [84.5, 86.5];
const F7_ARGMIN: [f64; 2] = [32.0, 36.0];
/// Item 9: paper Fig. 4 configuration: exactly two crossings on [0.5, 1500], at 64.5 ± 1
/// and 213.4 ± 2; fixed point (M∞, R_±∞, Q∞) = (0.22689, 1.48511, 1.46866, 2.30601) ± 1e-4.
const F4_CROSS: [(f64, f64); 2] = [(64.5, 1.0), (213.4, 2.0)];
const F4_FIXED: [f64; 4] = [0.22689, 1.48511, 1.46866, 2.30601];
const F4_FIXED_TOL: f64 = 1e-4;
/// Item 10: closed form vs RK4 on the Fig. 4 configuration: max |Q_cf − Q_ode| < 1e-5 on
/// [0, 1000].
const F4_CF_TOL: f64 = 1e-5;
/// Item 11: paper Fig. 2 configuration: max_t M/√(Qv) ∈ [0.93, 0.96] at t ∈ [0.1, 0.4];
/// R/√Q(100) ∈ [0.96, 0.98]; R/√Q > M/√(Qv) for t ≥ 5 and < for t ∈ [0.05, 2].
const F2_PEAK: [f64; 2] = [0.93, 0.96];
const F2_PEAK_T: [f64; 2] = [0.1, 0.4];
const F2_R100: [f64; 2] = [0.96, 0.98];

fn max_over<I: IntoIterator<Item = f64>>(xs: I) -> f64 {
    xs.into_iter().fold(f64::NEG_INFINITY, f64::max)
}

/// `0, dt, 2dt, …, t_end` (exact multiples).
fn grid(t_end: f64, dt: f64) -> Vec<f64> {
    let n = (t_end / dt).round() as usize;
    (0..=n).map(|i| i as f64 * dt).collect()
}

fn ode(model: &TeacherMixture, times: &[f64]) -> Result<Trajectory, StudyError> {
    let init = OrderParams::initial(model.config().q0);
    Ok(solve(model, init, times, Integrator::default())?)
}

fn losses_at(model: &TeacherMixture, tr: &Trajectory, i: usize) -> [f64; 2] {
    group_losses(model, &tr.at(i))
}

fn mean_params(runs: &[Trajectory], i: usize) -> OrderParams {
    let k = runs.len() as f64;
    let mut s = OrderParams::default();
    for r in runs {
        let p = r.at(i);
        s.m += p.m / k;
        s.r_plus += p.r_plus / k;
        s.r_minus += p.r_minus / k;
        s.q += p.q / k;
        s.b += p.b / k;
    }
    s
}

pub(super) fn run(
    cfg: &Config,
    opts: &RunOpts,
    report: &mut Report,
) -> Result<Verdict, StudyError> {
    let mut v = Verdict::default();
    report.intro(
        "A linear student `ŷ = w·x/√N` is trained by online SGD (one fresh sample per step, \
         `w += (η/√N)(y − ŷ)x`, time `t = steps/N`) on a mixture of two Gaussian groups with \
         their own teachers. As N → ∞ the overlaps `R_± = w·w̄_±/N`, `Q = w·w/N`, \
         `M = w·v/N` follow deterministic ODEs (paper Thm 3.3), and the per-group losses \
         `ε_c = E_c[(y − ŷ)²]` (no ½) are functions of them (Lemma 3.1). The paper's claim: \
         the preferred group changes during training — the high-variance group is learned \
         first, the better-represented group wins later. We integrate the ODEs (adaptive \
         Dormand–Prince 5(4) and RK4), simulate SGD at N = 2000 with 3 seeds, and check \
         spec §5's seven Quick items on the spec's configuration A (ρ = 0.8, Δ = (1, 4), \
         T_± = 1, v = 0, η = 0.1, Q0 = 1e-4 — the spec's own test configuration, not a \
         paper figure).",
    );
    report.note(
        "Conventions that are the spec's own choices (spec verification log): loss without ½; \
         initial condition M = R_± = 0, Q = Q0 = 1e-4 (the paper does not state Q0); crossing \
         searches start at t = 0.5; paper typos corrected as in spec §7 (β_−R_− in dQ/dt, k3 \
         of the closed form, factor 2 on β_cR_c in ε_c). Configuration B uses the spec's \
         extensions (label noise, ridge, student bias), which are not in the paper.",
    );
    let model_a = TeacherMixtureConfig::config_a().build()?;
    check_ode(&model_a, &mut v, report)?;
    let sim_times = grid(cfg.t_max_sim, cfg.record_dt);
    let runs = simulate_seeds(
        &model_a,
        cfg.dim,
        &sim_times,
        opts.seed.derive("config-a"),
        cfg.n_seeds,
    )?;
    if let Some(r) = runs.iter().find(|r| r.diverged_at.is_some()) {
        return Err(StudyError::Component {
            component: "bias-in-motion",
            message: format!(
                "configuration A simulation diverged at t = {:?}",
                r.diverged_at
            ),
        });
    }
    let ode_sim = ode(&model_a, &sim_times)?;
    check_agreement(cfg, &model_a, &ode_sim, &runs, &mut v, report)?;
    check_bias(cfg, &model_a, &runs, &mut v, report)?;
    check_config_b(cfg, opts.seed, &mut v, report)?;
    check_divergence(&model_a, &mut v, report)?;
    standard_ode(&mut v, report)?;
    phase_diagrams(cfg, &mut v, report)?;
    if !cfg.scaling_dims.is_empty() {
        scaling(cfg, opts.seed, &model_a, &mut v, report)?;
    }
    if cfg.spurious {
        spurious(cfg, opts.seed, report)?;
    }
    Ok(v)
}

/// Check 1: fixed point and closed form vs RK4.
fn check_ode(
    model: &TeacherMixture,
    v: &mut Verdict,
    report: &mut Report,
) -> Result<(), StudyError> {
    report.heading("ODE: fixed point and closed form (check 1)");
    let init = OrderParams::initial(model.config().q0);
    let times = grid(100.0, 0.1);
    let rk4 = solve(model, init, &times, Integrator::Rk4 { dt: RK4_DT })?;
    let dp = ode(model, &times)?;
    let cf = ClosedForm::new(model, init)?;
    let (mut cf_rk4, mut dp_rk4) = (0.0_f64, 0.0_f64);
    for (i, &t) in times.iter().enumerate() {
        let (a, b, c) = (
            cf.at(t).to_array(),
            rk4.at(i).to_array(),
            dp.at(i).to_array(),
        );
        for k in 0..4 {
            cf_rk4 = cf_rk4.max((a[k] - b[k]).abs());
            dp_rk4 = dp_rk4.max((c[k] - b[k]).abs());
        }
    }
    let last = rk4.len() - 1;
    let r100 = rk4.r_plus[last];
    let r_inf_formula = (2.0 / std::f64::consts::PI).sqrt()
        * (0.8 * 1.0_f64.sqrt() + 0.2 * 4.0_f64.sqrt())
        / model.delta_mix();
    v.push(Check::validation(
        format!("configuration A: |R(100) − R_∞| with R_∞ = {R_INF_A} (spec §3; formula √(2/π)⟨√Δ⟩/Δmix = {})", fmt_num(r_inf_formula)),
        (r100 - R_INF_A).abs(),
        Cmp::Le,
        R_INF_TOL,
    ));
    v.push(Check::validation(
        "configuration A: max over t ∈ [0, 100] (grid 0.1) and M, R_±, Q of |closed form (§2.3c) − RK4 (dt = 0.01)|",
        cf_rk4,
        Cmp::Le,
        CF_RK4_TOL,
    ));
    report.paragraph(&format!(
        "RK4 with dt = 0.01 gives R(100) = {}, Q(100) = {} (spec: 0.5984, 0.3845); the closed \
         form's fixed point is R_∞ = {}, Q_∞ = {}. Dormand–Prince (rtol = atol = 1e-10) differs \
         from RK4 by at most {} on the same grid.",
        fmt_num(r100),
        fmt_num(rk4.q[last]),
        fmt_num(cf.fixed_point.r_plus),
        fmt_num(cf.fixed_point.q),
        fmt_num(dp_rk4)
    ));
    report.number("ode_r_at_100", r100)?;
    report.number("ode_q_at_100", rk4.q[last])?;
    report.number("closed_form_vs_rk4_max_abs", cf_rk4)?;
    report.number("dopri_vs_rk4_max_abs", dp_rk4)?;
    Ok(())
}

/// Check 2: seed-mean agreement bands, with per-seed numbers reported.
fn check_agreement(
    cfg: &Config,
    model: &TeacherMixture,
    ode_tr: &Trajectory,
    runs: &[Trajectory],
    v: &mut Verdict,
    report: &mut Report,
) -> Result<(), StudyError> {
    report.heading("ODE vs simulated SGD (check 2)");
    let every = (AGREE_GRID / cfg.record_dt).round() as usize;
    let (mut q_ratio, mut r_ratio, mut eps_dev) = (0.0_f64, 0.0_f64, 0.0_f64);
    let (mut q_dev_rel, mut r_dev) = (0.0_f64, 0.0_f64);
    let (mut worst_seed_eps, mut worst_seed_qrel) = (0.0_f64, 0.0_f64);
    for i in (0..ode_tr.len()).step_by(every.max(1)) {
        if ode_tr.t[i] < AGREE_FROM - 1e-12 {
            continue;
        }
        let o = ode_tr.at(i);
        let s = mean_params(runs, i);
        q_ratio = q_ratio.max((s.q - o.q).abs() / (Q_REL * o.q + Q_ABS));
        q_dev_rel = q_dev_rel.max((s.q - o.q).abs() / o.q);
        for c in Group::BOTH {
            let (rs, ro) = (s.r(c), o.r(c));
            r_ratio = r_ratio.max((rs - ro).abs() / (R_REL * ro + R_ABS));
            r_dev = r_dev.max((rs - ro).abs());
        }
        let (eo, es) = (group_losses(model, &o), group_losses(model, &s));
        eps_dev = eps_dev.max(max_over((0..2).map(|k| (es[k] - eo[k]).abs())));
        for r in runs {
            let p = r.at(i);
            let e = group_losses(model, &p);
            worst_seed_eps = worst_seed_eps.max(max_over((0..2).map(|k| (e[k] - eo[k]).abs())));
            worst_seed_qrel = worst_seed_qrel.max((p.q - o.q).abs() / o.q);
        }
    }
    v.push(Check::validation(
        format!("seed mean (N = {}, {} seeds), t ∈ [1, {}] every 0.25: max |Q_sim − Q_ode| / (0.08·Q_ode + 0.005)", cfg.dim, cfg.n_seeds, cfg.t_max_sim),
        q_ratio,
        Cmp::Le,
        1.0,
    ));
    v.push(Check::validation(
        "seed mean: max over t and ± of |R_sim − R_ode| / (0.05·R_ode + 0.01)",
        r_ratio,
        Cmp::Le,
        1.0,
    ));
    v.push(Check::validation(
        "seed mean: max over t and groups of |ε_c,sim − ε_c,ode|",
        eps_dev,
        Cmp::Le,
        EPS_TOL,
    ));
    report.paragraph(&format!(
        "Seed-mean maxima: |ΔR| = {}, relative ΔQ = {} %, |Δε_c| = {} (spec's re-check: \
         0.0055, 1.7 %, 0.0063). Single-seed worst: |Δε_c| = {}, relative ΔQ = {} % (spec: \
         0.0156, 3.3 %). Simulated ε_c are the §2.4 formulas at the simulated order \
         parameters; order parameters are measured from `w` exactly as the ODE defines them.",
        fmt_num(r_dev),
        fmt_num(100.0 * q_dev_rel),
        fmt_num(eps_dev),
        fmt_num(worst_seed_eps),
        fmt_num(100.0 * worst_seed_qrel)
    ));
    report.number("agreement_q_ratio", q_ratio)?;
    report.number("agreement_r_ratio", r_ratio)?;
    report.number("agreement_eps_max", eps_dev)?;
    report.number("agreement_r_max", r_dev)?;
    report.number("agreement_q_rel_max", q_dev_rel)?;
    report.number("single_seed_eps_max", worst_seed_eps)?;
    report.number("single_seed_q_rel_max", worst_seed_qrel)?;

    // Plots: losses (ODE lines; SGD seeds as points every 0.5), order parameters.
    let (ep, em) = ode_tr.losses(model);
    let step = (0.5 / cfg.record_dt).round() as usize;
    let mut plot = LinePlot::new(
        "losses",
        "Per-group loss ε_c(t): ODE (lines) vs SGD (points, one per seed)",
        "t = steps/N",
        "ε_c = E_c[(y − ŷ)²]",
    )
    .with_series(Series::new("ODE ε+", ode_tr.t.clone(), ep).line().color(0))
    .with_series(Series::new("ODE ε−", ode_tr.t.clone(), em).line().color(1));
    for (k, r) in runs.iter().enumerate() {
        let idx: Vec<usize> = (0..r.len()).step_by(step.max(1)).collect();
        let t: Vec<f64> = idx.iter().map(|&i| r.t[i]).collect();
        let (sp, sm): (Vec<f64>, Vec<f64>) = idx
            .iter()
            .map(|&i| {
                let [a, b] = group_losses(model, &r.at(i));
                (a, b)
            })
            .unzip();
        plot = plot
            .with_series(
                Series::new(format!("SGD ε+ seed {k}"), t.clone(), sp)
                    .markers_only()
                    .color(0),
            )
            .with_series(
                Series::new(format!("SGD ε− seed {k}"), t, sm)
                    .markers_only()
                    .color(1),
            );
    }
    report.line_plot(plot.with_caption(format!(
        "Configuration A, N = {}. The seed spread is the scatter of the points at each t; \
         the curves cross at t* ≈ 10.1.",
        cfg.dim
    )))?;
    let idx: Vec<usize> = (0..ode_tr.len()).step_by(step.max(1)).collect();
    let t_s: Vec<f64> = idx.iter().map(|&i| ode_tr.t[i]).collect();
    let mean = |f: &dyn Fn(&OrderParams) -> f64| -> Vec<f64> {
        idx.iter().map(|&i| f(&mean_params(runs, i))).collect()
    };
    report.line_plot(
        LinePlot::new(
            "order_params",
            "Order parameters: ODE (lines) vs SGD seed mean (points)",
            "t = steps/N",
            "overlap",
        )
        .with_series(
            Series::new(
                "ODE R+ (= R−, T± = 1)",
                ode_tr.t.clone(),
                ode_tr.r_plus.clone(),
            )
            .line()
            .color(0),
        )
        .with_series(
            Series::new("ODE Q", ode_tr.t.clone(), ode_tr.q.clone())
                .line()
                .color(1),
        )
        .with_series(
            Series::new("SGD R+", t_s.clone(), mean(&|p| p.r_plus))
                .markers_only()
                .color(0),
        )
        .with_series(
            Series::new("SGD R−", t_s.clone(), mean(&|p| p.r_minus))
                .markers_only()
                .color(2),
        )
        .with_series(
            Series::new("SGD Q", t_s, mean(&|p| p.q))
                .markers_only()
                .color(1),
        )
        .with_caption(
            "M ≡ 0 on configuration A (v = 0); both teachers coincide (T± = 1), so R+ = R−.",
        ),
    )?;
    Ok(())
}

/// Checks 3–5: early saliency bias, late representation bias, the crossing.
fn check_bias(
    cfg: &Config,
    model: &TeacherMixture,
    runs: &[Trajectory],
    v: &mut Verdict,
    report: &mut Report,
) -> Result<(), StudyError> {
    report.heading("Bias dynamics (checks 3–5)");
    let tr = ode(model, &[EARLY_T, LATE_T])?;
    let [ep2, em2] = losses_at(model, &tr, 0);
    let [ep20, em20] = losses_at(model, &tr, 1);
    v.push(Check::claim(
        format!(
            "early saliency bias: ε_+ − ε_− at t = 2 (ODE: ε_+ = {}, ε_− = {})",
            fmt_num(ep2),
            fmt_num(em2)
        ),
        ep2 - em2,
        Cmp::Ge,
        EARLY_MARGIN,
    ));
    v.push(Check::claim(
        format!(
            "late representation bias: ε_− − ε_+ at t = 20 (ODE: ε_+ = {}, ε_− = {})",
            fmt_num(ep20),
            fmt_num(em20)
        ),
        em20 - ep20,
        Cmp::Ge,
        LATE_MARGIN,
    ));
    let fine = grid(CROSS_TO, 0.01);
    let tr = ode(model, &fine)?;
    let (ep, em) = tr.losses(model);
    let gap: Vec<f64> = ep.iter().zip(&em).map(|(a, b)| a - b).collect();
    let crossings = sign_changes(&tr.t, &gap, CROSS_FROM);
    let trivial = sign_changes(&tr.t, &gap, 0.0).len() - crossings.len();
    v.push(Check::claim(
        "ODE: number of sign changes of ε_+ − ε_− on [0.5, 100] differs from 1 by",
        (crossings.len() as f64 - 1.0).abs(),
        Cmp::Le,
        0.0,
    ));
    let t_star = crossings.first().copied().unwrap_or(f64::NAN);
    v.push(Check::claim(
        "ODE crossing time t* ≥ 9.5",
        t_star,
        Cmp::Ge,
        T_STAR_LO,
    ));
    v.push(Check::claim(
        "ODE crossing time t* ≤ 10.7",
        t_star,
        Cmp::Le,
        T_STAR_HI,
    ));
    let mut rows = Vec::new();
    let mut worst = 0.0_f64;
    for (k, r) in runs.iter().enumerate() {
        let gap: Vec<f64> = (0..r.len())
            .map(|i| {
                let [a, b] = group_losses(model, &r.at(i));
                a - b
            })
            .collect();
        let xs = sign_changes(&r.t, &gap, CROSS_FROM);
        let dev = if xs.is_empty() {
            f64::INFINITY
        } else {
            max_over(xs.iter().map(|x| (x - t_star).abs()))
        };
        worst = worst.max(dev);
        rows.push(vec![
            k.to_string(),
            xs.len().to_string(),
            xs.iter()
                .map(|x| fmt_num(*x))
                .collect::<Vec<_>>()
                .join(", "),
        ]);
    }
    v.push(Check::claim(
        format!("every sign change of every simulated run (N = {}, t ∈ [0.5, {}], grid {}) within ±1.5 of t*: max |t_sim − t*| (none = non-finite)", cfg.dim, cfg.t_max_sim, cfg.record_dt),
        worst,
        Cmp::Le,
        SIM_CROSS_TOL,
    ));
    report.paragraph(&format!(
        "ODE crossing at t* = {} (spec: 10.08), found on a 0.01 grid; {} further, trivial sign \
         change(s) before t = 0.5 (Q0 > 0, spec §7) are excluded. Early on the high-variance \
         group − is ahead (it is learned faster: saliency); the better-represented group + \
         wins later and asymptotically (ρ√Δ_+ = 0.8 > (1 − ρ)√Δ_− = 0.4).",
        fmt_num(t_star),
        trivial
    ));
    report.table(
        "Simulated crossings (sign changes of ε_+ − ε_− from the simulated order parameters)",
        &["seed", "sign changes", "at t"],
        rows,
    )?;
    report.number("t_star_ode", t_star)?;
    report.number("early_gap_t2", ep2 - em2)?;
    report.number("late_gap_t20", em20 - ep20)?;
    report.number(
        "sim_crossing_max_dev",
        if worst.is_finite() { worst } else { f64::MAX },
    )?;
    Ok(())
}

/// Check 6: configuration B (all extensions on) at t = 10.
fn check_config_b(
    cfg: &Config,
    seed: Seed,
    v: &mut Verdict,
    report: &mut Report,
) -> Result<(), StudyError> {
    report.heading("Configuration B: spec extensions (check 6)");
    let model = TeacherMixtureConfig::config_b().build()?;
    let times = [0.0, B_T];
    let o = ode(&model, &times)?.at(1);
    let runs = simulate_seeds(
        &model,
        cfg.dim_b,
        &times,
        seed.derive("config-b"),
        cfg.n_seeds,
    )?;
    if runs.iter().any(|r| r.len() < 2) {
        return Err(StudyError::Component {
            component: "bias-in-motion",
            message: "configuration B simulation diverged".into(),
        });
    }
    let devs = |s: &OrderParams| {
        [
            (s.r_plus - o.r_plus).abs(),
            (s.r_minus - o.r_minus).abs(),
            (s.m - o.m).abs(),
            (s.q - o.q).abs(),
            (s.b - o.b).abs(),
        ]
    };
    let one = devs(&runs[0].at(1));
    let one_ratio = max_over(one[..4].iter().map(|d| d / B_TOL)).max(one[4] / B_TOL_BIAS_ONE_SEED);
    let mean = mean_params(&runs, 1);
    let md = devs(&mean);
    let mean_ratio = max_over(md.iter().map(|d| d / B_TOL));
    v.push(Check::validation(
        format!("configuration B (N = {}, t = 10): min(seed 0: max(|ΔR_±|, |ΔM|, |ΔQ|)/0.02 ∨ |Δb|/0.03; mean of {} seeds: max of all five |Δ|/0.02)", cfg.dim_b, cfg.n_seeds),
        one_ratio.min(mean_ratio),
        Cmp::Le,
        1.0,
    ));
    let row = |name: &str, s: &OrderParams| {
        vec![
            name.to_string(),
            fmt_num(s.r_plus),
            fmt_num(s.r_minus),
            fmt_num(s.m),
            fmt_num(s.q),
            fmt_num(s.b),
        ]
    };
    let mut rows = vec![
        row("ODE", &o),
        row(
            "spec ODE (§3)",
            &OrderParams {
                m: 0.1052,
                r_plus: 0.3441,
                r_minus: 0.2910,
                q: 0.2355,
                b: 0.2003,
            },
        ),
    ];
    for (k, r) in runs.iter().enumerate() {
        rows.push(row(&format!("SGD seed {k}"), &r.at(1)));
    }
    rows.push(row("SGD mean", &mean));
    report.table(
        "Configuration B at t = 10: T± = 0.3, M* = (0.4, −0.2), v = 1, p = 0.1, γ = 0.05, bias on, η = 0.2, Q0 = 0.01, ρ = 0.7, Δ = (0.5, 1.5)",
        &["", "R+", "R−", "M", "Q", "b"],
        rows,
    )?;
    report.number("config_b_seed0_ratio", one_ratio)?;
    report.number("config_b_mean_ratio", mean_ratio)?;
    Ok(())
}

/// Check 7: divergence threshold.
fn check_divergence(
    model: &TeacherMixture,
    v: &mut Verdict,
    report: &mut Report,
) -> Result<(), StudyError> {
    report.heading("Divergence threshold (check 7)");
    let q_at = |eta: f64| -> Result<f64, StudyError> {
        let m = model.with_learning_rate(eta)?;
        let tr = ode(&m, &[DIV_T])?;
        Ok(match tr.diverged_at {
            Some(_) => f64::INFINITY,
            None => tr.q[0],
        })
    };
    let (q_lo, q_hi) = (q_at(ETA_BELOW)?, q_at(ETA_ABOVE)?);
    let eta_c = model.critical_learning_rate();
    v.push(Check::validation(
        "η_c = 2Δmix/Δ2mix of configuration A: |η_c − 0.8|",
        (eta_c - ETA_C_A).abs(),
        Cmp::Le,
        1e-12,
    ));
    v.push(Check::claim(
        format!("Q(200) at η = {ETA_BELOW} < η_c (bounded)"),
        q_lo,
        Cmp::Lt,
        Q_BOUNDED,
    ));
    v.push(Check::claim(
        format!("Q(200) at η = {ETA_ABOVE} > η_c (diverges)"),
        if q_hi.is_finite() { q_hi } else { f64::MAX },
        Cmp::Gt,
        Q_DIVERGED,
    ));
    report.paragraph(&format!(
        "Only Q carries the η² SGD-noise term; it diverges iff η > η_c = 2Δmix/Δ2mix = {} \
         (paper App. E.1). Q(200) = {} at η = {ETA_BELOW} and {} at η = {ETA_ABOVE}.",
        fmt_num(eta_c),
        fmt_num(q_lo),
        if q_hi.is_finite() {
            fmt_num(q_hi)
        } else {
            "> 1e30 (stopped)".into()
        }
    ));
    report.number("eta_c", eta_c)?;
    report.number("q200_eta_below", q_lo)?;
    if q_hi.is_finite() {
        report.number("q200_eta_above", q_hi)?;
    }
    Ok(())
}

/// Phase diagrams: a small one in Quick mode, the paper's 49 × 60 grids in Full mode.
fn phase_diagrams(cfg: &Config, v: &mut Verdict, report: &mut Report) -> Result<(), StudyError> {
    report.heading("Phase diagrams");
    let (s_rho, s_delta) = cfg.phase_strides;
    report.paragraph(
        "Cells are cells of the spec's 49 × 60 reference grid (ρ ∈ [0.02, 0.98] linear, \
         Δ−/Δ+ ∈ [0.1, 30] log-spaced; Quick mode takes a sub-grid). Each cell integrates the \
         ODE (Dormand–Prince, step ≤ τ_R/20) and counts sign changes of ε_+ − ε_− on \
         [0.5, 60τ_R] (the spec's horizon).",
    );
    for &eta in &cfg.phase_etas {
        let pcfg = PhaseDiagramConfig::paper_fig3b_subgrid(eta, s_rho, s_delta);
        let (n_rho, n_delta) = (pcfg.rhos.len(), pcfg.delta_ratios.len());
        let d = phase_diagram(&pcfg)?;
        let counts = d.counts();
        let tag = format!("eta_{}", fmt_num(eta).replace('.', "p"));
        // Divergence class agrees with η ≥ η_c cell by cell (by construction of the
        // classifier, plus ODE blow-ups): count disagreements.
        let mismatches = d
            .cells
            .iter()
            .filter(|c| (c.phase == Phase::Diverged) != (eta >= c.critical_learning_rate))
            .count();
        v.push(Check::validation(
            format!("phase diagram η = {eta} ({n_rho} × {n_delta}): cells where 'diverged' ≠ (η ≥ 2Δmix/Δ2mix)"),
            mismatches as f64,
            Cmp::Le,
            0.0,
        ));
        // Spec §5 Full / §2.5: for Δ− ∈ [0.1, 0.8] ∪ [1.25, 8] the initial-rate winner
        // (more negative dε_c/dt at t = 0) is the higher-variance group.
        let exceptions = d
            .cells
            .iter()
            .filter(|c| c.phase != Phase::Diverged)
            .filter(|c| {
                (0.1..=0.8).contains(&c.delta_ratio) || (1.25..=8.0).contains(&c.delta_ratio)
            })
            .filter(|c| {
                let minus_first = c.initial_rates[1] < c.initial_rates[0];
                minus_first != (c.delta_ratio > 1.0)
            })
            .count();
        // The spec states this rule (0 exceptions) for its η = 0.1 diagram only; Eq. 18 is a
        // small-η result. At larger η the η² noise term makes the high-variance group's loss
        // rise at t = 0 (quasi-divergence), so other learning rates are reported, not gated.
        if (eta - INITIAL_RATE_ETA).abs() < 1e-12 {
            v.push(Check::claim(
                format!("phase diagram η = {eta} (cells of the spec's grid): cells with Δ−/Δ+ ∈ [0.1, 0.8] ∪ [1.25, 8] whose initial-rate winner (more negative dε_c/dt at t = 0) is not the higher-variance group"),
                exceptions as f64,
                Cmp::Le,
                0.0,
            ));
        } else {
            report.paragraph(&format!(
                "η = {eta}: {exceptions} cells with Δ−/Δ+ ∈ [0.1, 0.8] ∪ [1.25, 8] have an \
                 initial-rate winner that is not the higher-variance group. Not a check: the \
                 spec states the rule for η = 0.1 (Eq. 18 is a small-η result; at larger η the \
                 η² term can make the high-variance group's loss rise from t = 0)."
            ));
        }
        report.number(&format!("initial_rate_exceptions_{tag}"), exceptions as f64)?;
        let quasi: Vec<f64> = d
            .cells
            .iter()
            .filter(|c| c.phase != Phase::Diverged && c.initial_rates[1] > 0.0)
            .map(|c| c.delta_ratio)
            .collect();
        let rows = Phase::ALL
            .iter()
            .enumerate()
            .map(|(k, p)| {
                let reference = if n_rho == 49 && n_delta == 60 && (eta - 0.1).abs() < 1e-12 {
                    REF_COUNTS_ETA01[k].to_string()
                } else {
                    "—".into()
                };
                vec![p.label().to_string(), counts[k].to_string(), reference]
            })
            .collect();
        report.table(
            &format!("Phase counts, η = {eta}, grid {n_rho} × {n_delta} (ρ ∈ [0.02, 0.98], Δ− ∈ [0.1, 30] log)"),
            &["phase", "cells", "spec reference (49 × 60, η = 0.1)"],
            rows,
        )?;
        report.paragraph(&format!(
            "Quasi-divergent cells (ε_− rising at t = 0, spec §2.5): {}{}.",
            quasi.len(),
            if quasi.is_empty() {
                String::new()
            } else {
                format!(
                    ", smallest Δ−/Δ+ = {} (spec: only for Δ− ≳ 14 at η = 0.1)",
                    fmt_num(quasi.iter().copied().fold(f64::INFINITY, f64::min))
                )
            }
        ));
        report.heat_map(super::phase_heat_map(&format!("phase_{tag}"), &d, eta))?;
        if (eta - 0.1).abs() < 1e-12 {
            // An off-grid cell near the band edge Δ−/Δ+ = 0.8 ≈ T±² (found while building
            // the study): the "0 exceptions" statement is specific to the spec's grid.
            let m = TeacherMixtureConfig {
                rho: 0.02,
                delta_minus: 0.7957,
                ..pcfg.base.clone()
            }
            .build()?;
            let r = gdlab_dynamics::ode::loss_rates(&m, &OrderParams::initial(m.config().q0));
            report.note(&format!(
                "Off the spec's grid the initial-rate rule can fail near the band edge: at \
                 ρ = 0.02, Δ−/Δ+ = 0.7957, η = 0.1 the initial rates are dε_+/dt = {} and \
                 dε_−/dt = {}, so the lower-variance group − starts faster. Eq. 18's band \
                 [T±², 1/T±²] = [0.81, 1.23] holds for η → 0; at finite η and this extreme ρ \
                 it is slightly wider.",
                fmt_num(r[0]),
                fmt_num(r[1])
            ));
        }
        report.metric(&format!("phase_counts_{tag}"), json!(counts))?;
    }
    Ok(())
}

/// Full: deviation vs N, slope of log(mean over seeds of max_t |ΔQ|) against log N.
fn scaling(
    cfg: &Config,
    seed: Seed,
    model: &TeacherMixture,
    v: &mut Verdict,
    report: &mut Report,
) -> Result<(), StudyError> {
    report.heading("Full: deviation vs N");
    let times = grid(cfg.t_max_sim, 0.25);
    let o = ode(model, &times)?;
    let mut logs = Vec::new();
    let mut rows = Vec::new();
    let (mut q_devs, mut eps_devs) = (Vec::new(), Vec::new());
    for &n in &cfg.scaling_dims {
        let runs = simulate_seeds(
            model,
            n,
            &times,
            seed.derive("scaling").index(n as u64),
            cfg.scaling_seeds,
        )?;
        let mut q_dev = 0.0_f64;
        let mut e_dev = 0.0;
        for r in &runs {
            let (mut qd, mut ed) = (0.0_f64, 0.0_f64);
            for i in 0..r.len().min(o.len()) {
                if o.t[i] < AGREE_FROM {
                    continue;
                }
                qd = qd.max((r.q[i] - o.q[i]).abs());
                let (es, eo) = (group_losses(model, &r.at(i)), group_losses(model, &o.at(i)));
                ed = ed.max(max_over((0..2).map(|k| (es[k] - eo[k]).abs())));
            }
            q_dev += qd / runs.len() as f64;
            e_dev += ed / runs.len() as f64;
        }
        logs.push(((n as f64).ln(), q_dev.ln()));
        q_devs.push(q_dev);
        eps_devs.push(e_dev);
        rows.push(vec![n.to_string(), fmt_num(q_dev), fmt_num(e_dev)]);
    }
    let k = logs.len() as f64;
    let (mx, my) = (
        logs.iter().map(|p| p.0).sum::<f64>() / k,
        logs.iter().map(|p| p.1).sum::<f64>() / k,
    );
    let slope = logs.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum::<f64>()
        / logs.iter().map(|p| (p.0 - mx).powi(2)).sum::<f64>();
    v.push(Check::claim(
        "log–log slope of the mean single-seed max |Q_sim − Q_ode| vs N ≥ −0.8 (expected −1/2; band is the study's choice)",
        slope,
        Cmp::Ge,
        SLOPE_LO,
    ));
    v.push(Check::claim(
        "log–log slope of the deviation vs N ≤ −0.2 (study's choice)",
        slope,
        Cmp::Le,
        SLOPE_HI,
    ));
    report.table(
        &format!(
            "Configuration A, t ∈ [1, {}], mean over {} seeds of the per-seed maximum deviation",
            cfg.t_max_sim, cfg.scaling_seeds
        ),
        &["N", "max |ΔQ|", "max |Δε_c|"],
        rows,
    )?;
    let ns: Vec<f64> = cfg.scaling_dims.iter().map(|&n| n as f64).collect();
    report.line_plot(
        LinePlot::new(
            "deviation_vs_n",
            "Finite-N deviation from the ODE",
            "N",
            "mean max deviation",
        )
        .log_x()
        .log_y()
        .with_series(Series::new("|ΔQ|", ns.clone(), q_devs).line_markers())
        .with_series(Series::new("|Δε_c|", ns, eps_devs).line_markers())
        .with_caption(format!(
            "Fitted slope of log |ΔQ| vs log N: {}.",
            fmt_num(slope)
        )),
    )?;
    report.number("deviation_slope", slope)?;
    Ok(())
}

/// Full: the spurious-feature run (paper Fig. 2 configuration, N = 2000): M, R and the
/// cosines vs the ODE. Reported, not gated (the spec gives no tolerance for it).
fn spurious(cfg: &Config, seed: Seed, report: &mut Report) -> Result<(), StudyError> {
    report.heading("Full: spurious-feature run (paper Fig. 2 configuration)");
    let model = TeacherMixtureConfig::paper_fig2().build()?;
    let times = grid(20.0, 0.05);
    let o = ode(&model, &times)?;
    let runs = simulate_seeds(&model, cfg.dim, &times, seed.derive("spurious"), 1)?;
    let r = &runs[0];
    let vn = model.config().shift_norm;
    let cos = |tr: &Trajectory| -> (Vec<f64>, Vec<f64>) {
        (1..tr.len())
            .map(|i| {
                (
                    tr.m[i] / (tr.q[i] * vn).sqrt(),
                    tr.r_plus[i] / tr.q[i].sqrt(),
                )
            })
            .unzip()
    };
    let (om, or) = cos(&o);
    let (sm, sr) = cos(r);
    let ts: Vec<f64> = o.t[1..].to_vec();
    let n = sm.len().min(om.len());
    let dev_m = max_over((0..n).map(|i| (r.m[i + 1] - o.m[i + 1]).abs()));
    let dev_r = max_over((0..n).map(|i| (r.r_plus[i + 1] - o.r_plus[i + 1]).abs()));
    report.line_plot(
        LinePlot::new("spurious_cosines", "Student–shift and student–teacher cosines (Fig. 2 configuration)", "t", "cosine")
            .log_x()
            .with_series(Series::new("ODE M/√(Qv)", ts.clone(), om).line().color(0))
            .with_series(Series::new("ODE R/√Q", ts.clone(), or).line().color(1))
            .with_series(Series::new("SGD M/√(Qv)", ts[..n].to_vec(), sm[..n].to_vec()).markers_only().color(0))
            .with_series(Series::new("SGD R/√Q", ts[..n].to_vec(), sr[..n].to_vec()).markers_only().color(1))
            .with_caption(format!("v = 16, ρ = 0.5, Δ± = 0.1, T± = 1, η = 0.5, M* = 0.4053 (derived by the spec), N = {}. Max |ΔM| = {}, max |ΔR| = {}.", cfg.dim, fmt_num(dev_m), fmt_num(dev_r))),
    )?;
    report.number("spurious_max_dev_m", dev_m)?;
    report.number("spurious_max_dev_r", dev_r)?;
    Ok(())
}

/// Spec §5 Standard items 8–11, ODE part (paper configurations).
fn standard_ode(v: &mut Verdict, report: &mut Report) -> Result<(), StudyError> {
    report.heading("Paper configurations, ODE only (spec §5 Standard items 8–11)");
    let in_band = |x: f64, [lo, hi]: [f64; 2]| {
        if x.is_nan() {
            f64::INFINITY
        } else {
            (x - x.clamp(lo, hi)).abs()
        }
    };
    // Item 8: Fig. 7.
    let f7 = TeacherMixtureConfig::paper_fig7().build()?;
    let cf7 = ClosedForm::new(&f7, OrderParams::initial(1e-4))?;
    let tr = ode(&f7, &grid(600.0, 0.02))?;
    let (ep, em) = tr.losses(&f7);
    let gap: Vec<f64> = ep.iter().zip(&em).map(|(a, b)| a - b).collect();
    let x7 = sign_changes(&tr.t, &gap, CROSS_FROM);
    let argmin = em
        .iter()
        .enumerate()
        .fold(
            (0, f64::INFINITY),
            |b, (i, &e)| if e < b.1 { (i, e) } else { b },
        )
        .0;
    let t_argmin = tr.t[argmin];
    let r_dev = (cf7.fixed_point.r_plus - F7_R_INF[0])
        .abs()
        .max((cf7.fixed_point.r_minus - F7_R_INF[1]).abs());
    v.push(Check::validation(
        "Fig. 7 config: max |R_±∞ − (1.23382, 1.21872)|",
        r_dev,
        Cmp::Le,
        F7_R_TOL,
    ));
    let t7 = if x7.len() == 1 { x7[0] } else { f64::NAN };
    v.push(Check::validation(
        format!("Fig. 7 config: exactly one crossing on [0.5, 600] ({} found), distance of t* = {} from [84.5, 86.5]", x7.len(), fmt_num(t7)),
        in_band(t7, F7_T_STAR),
        Cmp::Le,
        0.0,
    ));
    v.push(Check::validation(
        format!(
            "Fig. 7 config: distance of argmin_t ε_− = {} from [32, 36]",
            fmt_num(t_argmin)
        ),
        in_band(t_argmin, F7_ARGMIN),
        Cmp::Le,
        0.0,
    ));
    // Items 9, 10: Fig. 4.
    let f4 = TeacherMixtureConfig::paper_fig4().build()?;
    let init = OrderParams::initial(1e-4);
    let cf4 = ClosedForm::new(&f4, init)?;
    let times = grid(1500.0, 0.05);
    let tr = ode(&f4, &times)?;
    let (ep, em) = tr.losses(&f4);
    let gap: Vec<f64> = ep.iter().zip(&em).map(|(a, b)| a - b).collect();
    let x4 = sign_changes(&tr.t, &gap, CROSS_FROM);
    let cross_dev = if x4.len() == 2 {
        max_over(
            x4.iter()
                .zip(F4_CROSS)
                .map(|(x, (c, tol))| (x - c).abs() / tol),
        )
    } else {
        f64::INFINITY
    };
    v.push(Check::validation(
        format!("Fig. 4 config: exactly two crossings on [0.5, 1500] (found at {}); max |t_k − (64.5, 213.4)| / (1, 2)", x4.iter().map(|x| fmt_num(*x)).collect::<Vec<_>>().join(", ")),
        cross_dev,
        Cmp::Le,
        1.0,
    ));
    let before = gap
        .iter()
        .zip(&tr.t)
        .filter(|(_, &t)| (CROSS_FROM..60.0).contains(&t))
        .all(|(g, _)| *g < 0.0);
    let between = gap
        .iter()
        .zip(&tr.t)
        .filter(|(_, &t)| t > 70.0 && t < 200.0)
        .all(|(g, _)| *g > 0.0);
    let after = gap
        .iter()
        .zip(&tr.t)
        .filter(|(_, &t)| t > 220.0)
        .all(|(g, _)| *g < 0.0);
    v.push(Check::validation(
        "Fig. 4 config: sign pattern ε_+ < ε_− on [0.5, 60), > on (70, 200), < after 220 (1 = holds)",
        f64::from(u8::from(before && between && after)),
        Cmp::Ge,
        1.0,
    ));
    let fp = cf4.fixed_point;
    let fixed_dev = max_over(
        [fp.m, fp.r_plus, fp.r_minus, fp.q]
            .iter()
            .zip(F4_FIXED)
            .map(|(a, b)| (a - b).abs()),
    );
    v.push(Check::validation(
        "Fig. 4 config: max |(M∞, R_+∞, R_−∞, Q∞) − spec §3 values|",
        fixed_dev,
        Cmp::Le,
        F4_FIXED_TOL,
    ));
    let t10 = grid(1000.0, 0.5);
    let rk = solve(&f4, init, &t10, Integrator::Rk4 { dt: RK4_DT })?;
    let cf_dev = max_over(
        t10.iter()
            .enumerate()
            .map(|(i, &t)| (cf4.at(t).q - rk.q[i]).abs()),
    );
    v.push(Check::validation(
        "Fig. 4 config: max over t ∈ [0, 1000] of |Q_closed form − Q_RK4 (dt = 0.01)|",
        cf_dev,
        Cmp::Lt,
        F4_CF_TOL,
    ));
    // Item 11: Fig. 2.
    let f2 = TeacherMixtureConfig::paper_fig2().build()?;
    let vn = f2.config().shift_norm;
    let tr = ode(&f2, &grid(100.0, 0.01))?;
    let cos_m: Vec<f64> = (0..tr.len())
        .map(|i| tr.m[i] / (tr.q[i] * vn).sqrt())
        .collect();
    let cos_r: Vec<f64> = (0..tr.len())
        .map(|i| tr.r_plus[i] / tr.q[i].sqrt())
        .collect();
    let (i_peak, peak) =
        cos_m.iter().enumerate().fold(
            (0, f64::NEG_INFINITY),
            |b, (i, &c)| if c > b.1 { (i, c) } else { b },
        );
    let last = tr.len() - 1;
    let order_ok = (0..tr.len()).all(|i| {
        let t = tr.t[i];
        (t < 5.0 || cos_r[i] > cos_m[i]) && (!(0.05..=2.0).contains(&t) || cos_r[i] < cos_m[i])
    });
    v.push(Check::validation(
        format!("Fig. 2 config: distance of max_t M/√(Qv) = {} from [0.93, 0.96] plus distance of its time t = {} from [0.1, 0.4]", fmt_num(peak), fmt_num(tr.t[i_peak])),
        in_band(peak, F2_PEAK) + in_band(tr.t[i_peak], F2_PEAK_T),
        Cmp::Le,
        0.0,
    ));
    v.push(Check::validation(
        format!(
            "Fig. 2 config: distance of R/√Q(100) = {} from [0.96, 0.98]",
            fmt_num(cos_r[last])
        ),
        in_band(cos_r[last], F2_R100),
        Cmp::Le,
        0.0,
    ));
    v.push(Check::validation(
        "Fig. 2 config: R/√Q > M/√(Qv) for all t ≥ 5 and < for t ∈ [0.05, 2] (1 = holds)",
        f64::from(u8::from(order_ok)),
        Cmp::Ge,
        1.0,
    ));
    report.paragraph(&format!(
        "Paper Fig. 7 (v = 0, ρ = 0.8, Δ = (0.1, 1), T± = 0.9, η = 0.1): one crossing at t* = {} \
         (spec 85.48), ε_− minimal at t = {}. Paper Fig. 4 (v = 100, ρ = 0.75, Δ = (0.1, 0.5), \
         T± = 0.9, η = 0.03, α± = (0.343, 0.12) → M*± derived by the spec): crossings at {} \
         (spec 64.5, 213.4) — the paper's three phases. Paper Fig. 2 (spurious correlation, \
         v = 16, M* = 0.4053 derived by the spec): the shift cosine peaks at {} and the teacher \
         cosine ends at {}. ODE only: simulated SGD for these configurations (item 8's SGD \
         part) is not run.",
        fmt_num(t7),
        fmt_num(t_argmin),
        x4.iter()
            .map(|x| fmt_num(*x))
            .collect::<Vec<_>>()
            .join(", "),
        fmt_num(peak),
        fmt_num(cos_r[last])
    ));
    Ok(())
}
