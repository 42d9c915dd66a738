//! The three parts of the study and the driver. Every threshold is a `const` below, with
//! its source.

use gdlab_core::Seed;
use gdlab_wasserstein::dirichlet::{mirror_langevin_step, DirichletPotential};
use gdlab_wasserstein::discrepancy::{EnergyDistance, SlicedWasserstein};
use gdlab_wasserstein::entropy::KdeEntropy;
use gdlab_wasserstein::functional::{Functional, InteractionEnergy};
use gdlab_wasserstein::gaussian::{
    geomspace, haar_orthogonal, kl, rotated_diagonal, GaussianScheme,
};
use gdlab_wasserstein::kernel::{KernelShape, PairKernel};
use gdlab_wasserstein::matrix::SpdMatrix;
use gdlab_wasserstein::mirror::MirrorMap;
use gdlab_wasserstein::scheme::{
    run_flow, FlowConfig, InteractionMirror, NewtonOptions, Preconditioner, Scheme,
};
use gdlab_wasserstein::sinkhorn::{SinkhornDivergence, SinkhornOptions, SinkhornState};
use gdlab_wasserstein::Particles;
use rayon::prelude::*;
use serde_json::json;

use super::config::{Config, Discrepancy};
use crate::report::Report;
use crate::report::{fmt_num, LinePlot, Series};
use crate::study::{RunOpts, StudyError};
use crate::verdict::{Check, Cmp, Verdict};

// ---- Part A thresholds (spec §5 Part A) ----

/// PASS-A: NEM reaches mean KL < 1e-3 by k ≤ 500 (spec §5; reference first hit 375).
const NEM_HIT_MAX: f64 = 500.0;
/// PASS-A: PFB reaches mean KL < 1e-3 by k ≤ 250 (spec §5; reference first hit 187).
const PFB_HIT_MAX: f64 = 250.0;
/// The KL level of the "first hit" (spec §5).
const KL_HIT_LEVEL: f64 = 1e-3;
/// PASS-A: FB's and WGD's KL at k = 1500 is ≥ 0.1 (spec §5; reference 0.532 and 0.531).
const SLOW_FINAL_MIN: f64 = 0.1;
/// PASS-A: NEM's KL is non-increasing after k = 1, slack 1e-12 (spec §5; the spec author
/// measured monotonicity to 1e-14).
const NEM_MONOTONE_SLACK: f64 = 1e-12;
/// Validation: the mean KL agrees with the spec's table within one unit of the last
/// printed digit (the table prints 2–3 significant digits; rounding or truncation). Every
/// iterate is a spectral function of Σ*, so the KL depends only on the eigenvalues
/// `geomspace(1, 100, 10)`, not on the random rotation: the table is reproducible exactly.
const TABLE_A_UNITS_MAX: f64 = 1.0;
/// Table entries below this are not compared (printed as 1e-14 or "~0": rounding level).
const TABLE_A_MIN_COMPARED: f64 = 1e-8;
/// Validation: first-hit iterations equal the spec's (375, 187, 183) within 1 iteration.
const FIRST_HIT_TOL: f64 = 1.0;

/// Spec §5 Part A: the iterations of the reference table.
const TABLE_A_K: [usize; 6] = [0, 100, 200, 500, 1000, 1500];
/// Spec §5 Part A reference table (mean KL over 5 targets) as `(value, unit of the last
/// printed digit)`; `None` = printed "~0".
#[allow(clippy::type_complexity)]
const TABLE_A: [(&str, [Option<(f64, f64)>; 6]); 5] = [
    (
        "NEM",
        [
            Some((7.75, 0.01)),
            Some((2.56, 0.01)),
            Some((0.379, 0.001)),
            Some((6.6e-6, 0.1e-6)),
            Some((1e-14, 1e-14)),
            None,
        ],
    ),
    (
        "FB",
        [
            Some((7.75, 0.01)),
            Some((4.44, 0.01)),
            Some((3.19, 0.01)),
            Some((1.70, 0.01)),
            Some((0.873, 0.001)),
            Some((0.532, 0.001)),
        ],
    ),
    (
        "PFB",
        [
            Some((7.75, 0.01)),
            Some((0.0339, 0.0001)),
            Some((5.8e-4, 0.1e-4)),
            Some((3.5e-9, 0.1e-9)),
            None,
            None,
        ],
    ),
    (
        "WGD",
        [
            Some((7.75, 0.01)),
            Some((4.43, 0.01)),
            Some((3.18, 0.01)),
            Some((1.70, 0.01)),
            Some((0.872, 0.001)),
            Some((0.531, 0.001)),
        ],
    ),
    (
        "PWGD",
        [
            Some((7.75, 0.01)),
            Some((0.0305, 0.0001)),
            Some((5.0e-4, 0.1e-4)),
            Some((2.7e-9, 0.1e-9)),
            None,
            None,
        ],
    ),
];
/// Spec §5: first iteration with mean KL < 1e-3 (NEM, PFB, PWGD; FB and WGD never).
const FIRST_HIT_REF: [(&str, usize); 3] = [("NEM", 375), ("PFB", 187), ("PWGD", 183)];

// ---- Part B thresholds (spec §5 Part B) ----

/// PASS-B: `E_PGD(120) ≤ −0.160` (spec §5; reference −0.1663).
const PGD_FINAL_MAX: f64 = -0.160;
/// PASS-B: `E_MD-K₄^Σ(120) ≤ −0.158` (spec §5; reference −0.1642).
const MDK4S_FINAL_MAX: f64 = -0.158;
/// PASS-B: `E_GD(120) ≥ −0.135` (spec §5; reference −0.1245).
const GD_FINAL_MIN: f64 = -0.135;
/// PASS-B: `E_MD-K₄(120) ≥ −0.135` (spec §5; reference −0.1222).
const MDK4_FINAL_MIN: f64 = -0.135;
/// PASS-B: MD-K₄ and MD-K₄^Σ energies are non-increasing, slack 1e-9 (spec §5: the descent
/// lemma, Prop. 3, holds since τ = 0.1 ≤ 1/β = 0.25).
const MD_MONOTONE_SLACK: f64 = 1e-9;
/// Validation: centred MD-K₂^Σ iterates equal centred PGD(Σ) iterates to 1e-8 at every step
/// (spec §5; exact algebra, spec §2.2b; the spec author measured 4e-15).
const K2S_VS_PGD_TOL: f64 = 1e-8;
/// Validation: the largest final Newton residual `max |Gᵢ(Y)|` over all steps (the
/// stopping rule is `‖ΔY‖_F ≤ 1e-10`; with quadratic convergence the residual is at
/// rounding level; 1e-9 is a generous bound for energies of order 0.1).
const NEWTON_RESIDUAL_MAX: f64 = 1e-9;

/// Spec §5 Part B: iterations of the reference table.
const TABLE_B_K: [usize; 5] = [0, 20, 40, 80, 120];
/// Spec §5 Part B reference values (one seed; JAX key 42, so not our `x₀`).
const TABLE_B: [(&str, [f64; 5]); 4] = [
    ("GD", [-0.0392, -0.1079, -0.1178, -0.1231, -0.1245]),
    ("PGD(Σ)", [-0.0392, -0.1137, -0.1464, -0.1646, -0.1663]),
    ("MD-K₄", [-0.0392, -0.0882, -0.1087, -0.1191, -0.1222]),
    ("MD-K₄^Σ", [-0.0392, -0.0934, -0.1278, -0.1587, -0.1642]),
];
/// Continuum minimum of the mean energy after whitening: a uniform ring, `1.5R⁴ − R²` at
/// `R² = 1/3` (spec §5, inferred).
const RING_MINIMUM: f64 = -1.0 / 6.0;

/// Part C: relative-change stopping tolerance (spec §4 item 3 / §5 Part C).
const ALIGN_REL_TOL: f64 = 1e-3;
/// Part C: held-out fraction of the target (spec: 40%).
const HELD_OUT_FRACTION: f64 = 0.4;

/// KL values below this are drawn at this floor on the log plot (rounding level).
const KL_PLOT_FLOOR: f64 = 1e-16;

pub(super) fn run(
    cfg: &Config,
    opts: &RunOpts,
    report: &mut Report,
) -> Result<Verdict, StudyError> {
    let mut v = Verdict::default();
    report.intro(
        "Wasserstein gradient descent moves particles along `−∇_{W₂}F`. The paper replaces the \
         Euclidean step cost by a Bregman divergence (mirror descent, MD) or a convex cost `h` \
         (preconditioned GD, PGD) and shows that geometry adapted to the objective converges much \
         faster on ill-conditioned problems. Part A runs the Gaussian closed forms on KL to \
         `N(0, Σ*)` with condition number 100 (NEM = MD with the entropy, FB, PFB with `P = Σ*`, \
         WGD, PWGD). Part B runs particles on the Σ-ill-conditioned interaction energy \
         (`Σ = diag(100, 1)`), with MD through interaction Bregman potentials solved by Newton's \
         method. Part C (informational) aligns two samples with the energy distance, GD vs PGD.",
    );
    part_a(cfg, opts, &mut v, report)?;
    part_b(cfg, opts, &mut v, report)?;
    part_c(cfg, opts, report)?;
    if cfg.dirichlet_seeds > 0 {
        part_d(cfg, opts, report)?;
    }
    Ok(v)
}

// ------------------------------------------------------------------ Part A

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum GMethod {
    Nem,
    Fb,
    Pfb,
    Wgd,
    Pwgd,
    Klm,
    Pklm,
}

impl GMethod {
    const ALL: [GMethod; 5] = [
        GMethod::Nem,
        GMethod::Fb,
        GMethod::Pfb,
        GMethod::Wgd,
        GMethod::Pwgd,
    ];
    /// The diagonal variant adds KLM/PKLM (diagonal-only closed form, spec §2.4/§7).
    const ALL_DIAG: [GMethod; 7] = [
        GMethod::Nem,
        GMethod::Fb,
        GMethod::Pfb,
        GMethod::Wgd,
        GMethod::Pwgd,
        GMethod::Klm,
        GMethod::Pklm,
    ];
    fn name(self) -> &'static str {
        match self {
            GMethod::Nem => "NEM",
            GMethod::Fb => "FB",
            GMethod::Pfb => "PFB",
            GMethod::Wgd => "WGD",
            GMethod::Pwgd => "PWGD",
            GMethod::Klm => "KLM",
            GMethod::Pklm => "PKLM",
        }
    }
    fn scheme(self, target: &SpdMatrix) -> GaussianScheme {
        let d = target.dim();
        match self {
            GMethod::Nem => GaussianScheme::Nem,
            GMethod::Fb => GaussianScheme::ForwardBackward(SpdMatrix::identity(d)),
            GMethod::Pfb => GaussianScheme::ForwardBackward(target.clone()),
            GMethod::Wgd => GaussianScheme::Wgd(SpdMatrix::identity(d)),
            GMethod::Pwgd => GaussianScheme::Wgd(target.clone()),
            GMethod::Klm => GaussianScheme::Klm(SpdMatrix::identity(d)),
            GMethod::Pklm => GaussianScheme::Klm(target.clone()),
        }
    }
}

/// KL(N(0,Σₖ)‖N(0,Σ*)) for k = 0..=iterations.
fn kl_trajectory(
    method: GMethod,
    target: &SpdMatrix,
    step_size: f64,
    iterations: usize,
) -> Result<Vec<f64>, StudyError> {
    let d = target.dim();
    let precision = SpdMatrix::new("Σ*⁻¹", &target.inverse())?;
    let scheme = method.scheme(target);
    let zero = vec![0.0; d];
    let mut sigma = SpdMatrix::identity(d);
    let mut out = Vec::with_capacity(iterations + 1);
    out.push(kl(&zero, &sigma, &zero, target)?);
    for _ in 0..iterations {
        sigma = scheme.step(&sigma, &precision, step_size)?;
        out.push(kl(&zero, &sigma, &zero, target)?);
    }
    Ok(out)
}

fn gaussian_targets(
    cfg: &Config,
    seed: Seed,
    diagonal: bool,
) -> Result<Vec<SpdMatrix>, StudyError> {
    let d = cfg.gaussian_dim;
    (0..cfg.n_targets)
        .map(|t| {
            let s = seed.index(t as u64);
            if diagonal {
                // Σ* = diag(50·Unif(0,1)) (spec §4 item 2, "diag" variant)
                let mut rng = s.rng();
                let vals: Vec<f64> = (0..d)
                    .map(|_| 50.0 * (1.0 - gdlab_core::normal::uniform(&mut rng)))
                    .collect();
                Ok(SpdMatrix::diagonal("Σ* (diag)", &vals)?)
            } else {
                let u = haar_orthogonal(d, s);
                Ok(rotated_diagonal(&u, &geomspace(1.0, 100.0, d))?)
            }
        })
        .collect()
}

/// One method's KL trajectories per target and their mean.
type MethodKl = (GMethod, Vec<Vec<f64>>, Vec<f64>);

/// Mean KL per method (index order over targets) for the given targets.
/// Mean KL vs iteration (every 5th, up to `last`), one line per method, log y, values
/// floored at [`KL_PLOT_FLOOR`].
fn kl_plot(id: &str, title: &str, res: &[MethodKl], last: usize) -> LinePlot {
    let ks: Vec<usize> = (0..=last).step_by(5).collect();
    res.iter().fold(
        LinePlot::new(id, title, "iteration k", "mean KL (log scale)").log_y(),
        |plot, (m, _, mean)| {
            plot.with_series(
                Series::new(
                    m.name(),
                    ks.iter().map(|&k| k as f64).collect(),
                    ks.iter().map(|&k| mean[k].max(KL_PLOT_FLOOR)).collect(),
                )
                .line(),
            )
        },
    )
}

fn mean_kl(
    cfg: &Config,
    targets: &[SpdMatrix],
    methods: &[GMethod],
) -> Result<Vec<MethodKl>, StudyError> {
    let jobs: Vec<(GMethod, usize)> = methods
        .iter()
        .flat_map(|&m| (0..targets.len()).map(move |t| (m, t)))
        .collect();
    let results: Vec<Result<Vec<f64>, StudyError>> = jobs
        .par_iter()
        .map(|&(m, t)| {
            kl_trajectory(
                m,
                &targets[t],
                cfg.gaussian_step_size,
                cfg.gaussian_iterations,
            )
        })
        .collect();
    let mut it = results.into_iter();
    let mut out = Vec::new();
    for &m in methods {
        let mut per = Vec::new();
        for _ in 0..targets.len() {
            per.push(it.next().ok_or_else(|| StudyError::Component {
                component: "wasserstein-mirror",
                message: "missing Part A result".into(),
            })??);
        }
        let len = cfg.gaussian_iterations + 1;
        let mean: Vec<f64> = (0..len)
            .map(|k| per.iter().map(|p| p[k]).sum::<f64>() / per.len() as f64)
            .collect();
        out.push((m, per, mean));
    }
    Ok(out)
}

fn first_hit(xs: &[f64], level: f64) -> Option<usize> {
    xs.iter().position(|&x| x < level)
}

fn part_a(
    cfg: &Config,
    opts: &RunOpts,
    v: &mut Verdict,
    report: &mut Report,
) -> Result<(), StudyError> {
    report.heading("Part A: KL to ill-conditioned Gaussians (closed form, spec §5 Part A)");
    let targets = gaussian_targets(cfg, opts.seed.derive("gaussian-targets"), false)?;
    let res = mean_kl(cfg, &targets, &GMethod::ALL)?;
    let get = |name: &str| res.iter().find(|r| r.0.name() == name);

    // table vs reference
    let mut rows = Vec::new();
    let mut worst_units = 0.0_f64;
    let mut compared = 0usize;
    for (name, refs) in TABLE_A {
        let Some((_, _, mean)) = get(name) else {
            continue;
        };
        let mut row = vec![name.to_string()];
        for (j, &k) in TABLE_A_K.iter().enumerate() {
            let ours = mean.get(k).copied().unwrap_or(f64::NAN);
            let r = refs[j];
            row.push(format!(
                "{} ({})",
                fmt_num(ours),
                r.map_or("~0".to_string(), |(x, _)| fmt_num(x))
            ));
            if let Some((x, unit)) = r {
                if x >= TABLE_A_MIN_COMPARED && k <= cfg.gaussian_iterations {
                    worst_units = worst_units.max((ours - x).abs() / unit);
                    compared += 1;
                }
            }
        }
        rows.push(row);
    }
    let headers: Vec<String> = std::iter::once("method".to_string())
        .chain(TABLE_A_K.iter().map(|k| format!("k = {k}")))
        .collect();
    let hdr: Vec<&str> = headers.iter().map(String::as_str).collect();
    report.table(
        &format!(
            "Mean KL over {} targets, ours (spec reference in parentheses)",
            cfg.n_targets
        ),
        &hdr,
        rows,
    )?;
    report.paragraph(
        "Starting from Σ₀ = I, every scheme's iterate is a spectral function of Σ* (all the \
         matrices involved commute with it), so the KL depends only on the eigenvalues \
         geomspace(1, 100, 10), not on the random rotation U: the spec's table is reproducible \
         exactly, and the comparison with it is a validation check (entries below 1e-8, printed \
         as 1e-14 or ~0, are at rounding level and not compared).",
    );
    v.push(Check::validation(
        format!(
            "Part A: mean KL matches the spec's table ({compared} entries ≥ 1e-8): max |ours − ref| in units of the last printed digit"
        ),
        worst_units,
        Cmp::Le,
        TABLE_A_UNITS_MAX,
    ));

    // first hits
    let mut hit_rows = Vec::new();
    let mut hit_dev = 0.0_f64;
    let mut hits = std::collections::BTreeMap::new();
    for (m, _, mean) in &res {
        let h = first_hit(mean, KL_HIT_LEVEL);
        hits.insert(m.name(), h);
        let refv = FIRST_HIT_REF.iter().find(|r| r.0 == m.name()).map(|r| r.1);
        if let (Some(h), Some(r)) = (h, refv) {
            hit_dev = hit_dev.max((h as f64 - r as f64).abs());
        } else if h.is_some() != refv.is_some() {
            hit_dev = f64::INFINITY;
        }
        hit_rows.push(vec![
            m.name().to_string(),
            h.map_or("never".into(), |h| h.to_string()),
            refv.map_or("never".into(), |r| r.to_string()),
        ]);
    }
    report.table(
        "First iteration with mean KL < 1e-3 (within 1500)",
        &["method", "ours", "spec"],
        hit_rows,
    )?;
    v.push(Check::validation(
        "Part A: first iterations with KL < 1e-3 equal the spec's (NEM 375, PFB 187, PWGD 183; FB, WGD never): max |Δk|",
        hit_dev,
        Cmp::Le,
        FIRST_HIT_TOL,
    ));
    let hit_or_never = |name: &str| {
        hits.get(name)
            .copied()
            .flatten()
            .map_or(f64::INFINITY, |h| h as f64)
    };
    v.push(Check::claim(
        "Part A: NEM reaches mean KL < 1e-3 by iteration (≤ 500)",
        hit_or_never("NEM"),
        Cmp::Le,
        NEM_HIT_MAX,
    ));
    v.push(Check::claim(
        "Part A: PFB (P = Σ*) reaches mean KL < 1e-3 by iteration (≤ 250)",
        hit_or_never("PFB"),
        Cmp::Le,
        PFB_HIT_MAX,
    ));
    let last = cfg.gaussian_iterations;
    for name in ["FB", "WGD"] {
        let final_kl = get(name).map_or(f64::NAN, |r| r.2[last]);
        v.push(Check::claim(
            format!("Part A: {name} is slow: mean KL at k = {last} (≥ 0.1)"),
            final_kl,
            Cmp::Ge,
            SLOW_FINAL_MIN,
        ));
    }
    let nem_incr = get("NEM").map_or(f64::NAN, |(_, per, _)| {
        per.iter()
            .flat_map(|p| p.windows(2).skip(1).map(|w| w[1] - w[0]))
            .fold(f64::NEG_INFINITY, f64::max)
    });
    v.push(Check::claim(
        "Part A: NEM's KL is non-increasing after k = 1 (descent): max over targets and k ≥ 1 of KL(k+1) − KL(k)",
        nem_incr,
        Cmp::Le,
        NEM_MONOTONE_SLACK,
    ));

    // plot (every 5th iteration)
    let plot = kl_plot(
        "part_a_kl",
        "Part A: mean KL to N(0, Σ*) vs iteration",
        &res,
        last,
    );
    report.line_plot(plot.with_caption(format!(
        "d = {}, Σ* = Uᵀ diag(geomspace(1, 100, 10)) U, Σ₀ = I, τ = {}, mean over {} targets; \
         every 5th iteration; values below {KL_PLOT_FLOOR:e} (rounding level) drawn at that floor.",
        cfg.gaussian_dim, cfg.gaussian_step_size, cfg.n_targets
    )))?;
    let mut metric = serde_json::Map::new();
    for (m, _, mean) in &res {
        metric.insert(
            m.name().to_string(),
            json!(TABLE_A_K
                .iter()
                .filter(|&&k| k <= last)
                .map(|&k| mean[k])
                .collect::<Vec<_>>()),
        );
    }
    report.metric(
        "part_a_mean_kl_at_table_k",
        serde_json::Value::Object(metric),
    )?;
    report.number("part_a_nem_max_increase_after_k1", nem_incr)?;

    if cfg.diagonal_variant {
        let dtargets = gaussian_targets(cfg, opts.seed.derive("gaussian-targets-diag"), true)?;
        let dres = mean_kl(cfg, &dtargets, &GMethod::ALL_DIAG)?;
        let rows = dres
            .iter()
            .map(|(m, _, mean)| {
                let mut r = vec![m.name().to_string()];
                r.extend(
                    TABLE_A_K
                        .iter()
                        .filter(|&&k| k <= last)
                        .map(|&k| fmt_num(mean[k])),
                );
                r.push(first_hit(mean, KL_HIT_LEVEL).map_or("never".into(), |h| h.to_string()));
                r
            })
            .collect();
        let mut hdr: Vec<&str> = hdr.clone();
        hdr.push("first KL < 1e-3");
        report.table(
            &format!(
                "Diagonal variant (informational): Σ* = diag(50·Unif(0,1)), mean KL over {} targets",
                cfg.n_targets
            ),
            &hdr,
            rows,
        )?;
        report.paragraph(
            "KLM/PKLM: mirror descent with the Bregman potential φ = KL(·‖N(0, P)) (P = I: KLM; \
             P = Σ*: PKLM), closed form per coordinate for diagonal covariances (spec §2.4). \
             Our derivation of the mirror condition keeps the orientation-preserving map; the \
             reference's `mirror_descent_kl` always takes the larger root of the same quadratic, \
             which differs when 1/p − τ/σ*² − (1−τ)/σ² < 0 and leaves the target unfixed when \
             σ*² < p (here: KLM on coordinates with σ*² < 1). Informational, not in the verdict.",
        );
        let plot = kl_plot(
            "part_a_diag_kl",
            "Part A, diagonal variant: mean KL vs iteration",
            &dres,
            last,
        );
        report.line_plot(plot.with_caption(format!(
            "Σ* = diag(50·Unif(0,1)), d = {}, Σ₀ = I, τ = {}, mean over {} targets; every 5th \
             iteration; values below {KL_PLOT_FLOOR:e} drawn at that floor. Informational.",
            cfg.gaussian_dim, cfg.gaussian_step_size, cfg.n_targets
        )))?;
        let mut metric = serde_json::Map::new();
        for (m, _, mean) in &dres {
            metric.insert(
                m.name().to_string(),
                json!({
                    "mean_kl_at_table_k": TABLE_A_K
                        .iter()
                        .filter(|&&k| k <= last)
                        .map(|&k| mean[k])
                        .collect::<Vec<_>>(),
                    "first_kl_below_1e-3": first_hit(mean, KL_HIT_LEVEL)
                        .map_or(json!("never"), |h| json!(h)),
                }),
            );
        }
        report.metric("part_a_diag", serde_json::Value::Object(metric))?;
    }
    Ok(())
}

// ------------------------------------------------------------------ Part B

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BMethod {
    Gd,
    Pgd,
    MdK2,
    MdK4,
    MdK4Sigma,
    MdK2Sigma,
}

impl BMethod {
    const ALL: [BMethod; 6] = [
        BMethod::Gd,
        BMethod::Pgd,
        BMethod::MdK2,
        BMethod::MdK4,
        BMethod::MdK4Sigma,
        BMethod::MdK2Sigma,
    ];
    fn name(self) -> &'static str {
        match self {
            BMethod::Gd => "GD",
            BMethod::Pgd => "PGD(Σ)",
            BMethod::MdK2 => "MD-K₂",
            BMethod::MdK4 => "MD-K₄",
            BMethod::MdK4Sigma => "MD-K₄^Σ",
            BMethod::MdK2Sigma => "MD-K₂^Σ",
        }
    }
    fn scheme(self, sigma: &SpdMatrix) -> Result<Scheme, StudyError> {
        let d = sigma.dim();
        let md = |shape: KernelShape, adapted: bool| -> Result<Scheme, StudyError> {
            let k = if adapted {
                PairKernel::with_covariance(shape, sigma)?
            } else {
                PairKernel::new(shape, SpdMatrix::identity(d))
            };
            Ok(Scheme::MirrorInteraction(InteractionMirror::new(
                k,
                NewtonOptions::default(),
            )?))
        };
        match self {
            BMethod::Gd => Ok(Scheme::Gd),
            BMethod::Pgd => Ok(Scheme::Preconditioned(Preconditioner::Linear(
                sigma.clone(),
            ))),
            BMethod::MdK2 => md(KernelShape::Quadratic, false),
            BMethod::MdK4 => md(KernelShape::Quartic, false),
            BMethod::MdK4Sigma => md(KernelShape::Quartic, true),
            BMethod::MdK2Sigma => md(KernelShape::Quadratic, true),
        }
    }
}

struct BRun {
    method: BMethod,
    energies: Vec<f64>,
    /// Centred particles at every iteration.
    centred: Vec<Vec<f64>>,
    newton_iterations: Vec<usize>,
    newton_max_residual: Option<f64>,
}

fn run_b(
    method: BMethod,
    w: &InteractionEnergy,
    sigma: &SpdMatrix,
    x0: &Particles,
    step_size: f64,
    iterations: usize,
) -> Result<BRun, StudyError> {
    let scheme = method.scheme(sigma)?;
    let mut x = x0.clone();
    let mut energies = Vec::with_capacity(iterations + 1);
    let mut centred = Vec::with_capacity(iterations + 1);
    let summary = run_flow(
        &scheme,
        w,
        &mut x,
        FlowConfig::new(step_size, iterations)?,
        |_, x| {
            energies.push(w.mean_pair_energy(x)?);
            centred.push(x.centred());
            Ok(())
        },
    )?;
    Ok(BRun {
        method,
        energies,
        centred,
        newton_iterations: summary.newton_iterations,
        newton_max_residual: summary.newton_max_residual,
    })
}

fn max_increase(xs: &[f64]) -> f64 {
    xs.windows(2)
        .map(|w| w[1] - w[0])
        .fold(f64::NEG_INFINITY, f64::max)
}

fn part_b(
    cfg: &Config,
    opts: &RunOpts,
    v: &mut Verdict,
    report: &mut Report,
) -> Result<(), StudyError> {
    report.heading("Part B: Σ-ill-conditioned interaction energy on particles (spec §5 Part B)");
    let sigma = SpdMatrix::diagonal("Σ", &[100.0, 1.0])?;
    let w = InteractionEnergy::new(PairKernel::with_covariance(
        KernelShape::DoubleWell,
        &sigma,
    )?);
    let (tau, iters) = (cfg.interaction_step_size, cfg.interaction_iterations);
    let seeds: Vec<Seed> = (0..cfg.interaction_seeds)
        .map(|s| opts.seed.derive("interaction-x0").index(s as u64))
        .collect();
    let jobs: Vec<(usize, BMethod)> = (0..seeds.len())
        .flat_map(|s| BMethod::ALL.iter().map(move |&m| (s, m)))
        .collect();
    let runs: Vec<Result<BRun, StudyError>> = jobs
        .par_iter()
        .map(|&(s, m)| {
            let x0 = Particles::gaussian(cfg.n_particles, 2, 0.25, None, seeds[s])?;
            run_b(m, &w, &sigma, &x0, tau, iters)
        })
        .collect();
    let mut per_seed: Vec<Vec<BRun>> = (0..seeds.len()).map(|_| Vec::new()).collect();
    for ((s, _), r) in jobs.iter().zip(runs) {
        per_seed[*s].push(r?);
    }
    let find = |runs: &[BRun], m: BMethod| -> usize {
        runs.iter().position(|r| r.method == m).unwrap_or(0)
    };

    // table for seed 0 with the reference
    let first = &per_seed[0];
    let mut rows = Vec::new();
    for r in first {
        let refv = TABLE_B.iter().find(|t| t.0 == r.method.name());
        let mut row = vec![r.method.name().to_string()];
        for (j, &k) in TABLE_B_K.iter().enumerate() {
            let ours = r.energies.get(k).copied().unwrap_or(f64::NAN);
            row.push(match refv {
                Some(t) => format!("{} ({})", fmt_num(ours), fmt_num(t.1[j])),
                None => fmt_num(ours),
            });
        }
        rows.push(row);
    }
    let headers: Vec<String> = std::iter::once("method".to_string())
        .chain(TABLE_B_K.iter().map(|k| format!("iter {k}")))
        .collect();
    let hdr: Vec<&str> = headers.iter().map(String::as_str).collect();
    report.table(
        "Mean pair energy E = mean_{i,j} W(xᵢ − xⱼ), ours for seed 0 (spec reference, a different x₀ draw, in parentheses)",
        &hdr,
        rows,
    )?;
    report.paragraph(&format!(
        "W(z) = ¼(zᵀΣ⁻¹z)² − ½zᵀΣ⁻¹z, Σ = diag(100, 1), n = {}, x₀ = 0.25·N(0, I) (seeded; the \
         spec's x₀ came from JAX key 42, so the early energies differ slightly), τ = {tau}, {iters} \
         iterations. The continuum minimum is −1/6 ≈ −0.1667 (a uniform ring after whitening). \
         MD steps solve the implicit condition by Newton's method from Y = X with the gauge \
         mean(Y) = mean(X); stopping rule ‖ΔY‖_F ≤ {:e}, cap {} iterations (non-convergence is an \
         error, never accepted).",
        cfg.n_particles,
        NewtonOptions::default().tol,
        NewtonOptions::default().max_iterations
    ));

    // checks: worst case over seeds
    let worst = |m: BMethod, f: fn(f64, f64) -> f64, init: f64| {
        per_seed
            .iter()
            .map(|runs| runs[find(runs, m)].energies[iters])
            .fold(init, f)
    };
    let seeds_note = if seeds.len() > 1 {
        format!(" (worst of {} seeds)", seeds.len())
    } else {
        String::new()
    };
    v.push(Check::claim(
        format!("Part B: PGD(Σ) energy at iteration {iters}{seeds_note} (≤ −0.160)"),
        worst(BMethod::Pgd, f64::max, f64::NEG_INFINITY),
        Cmp::Le,
        PGD_FINAL_MAX,
    ));
    v.push(Check::claim(
        format!("Part B: MD-K₄^Σ energy at iteration {iters}{seeds_note} (≤ −0.158)"),
        worst(BMethod::MdK4Sigma, f64::max, f64::NEG_INFINITY),
        Cmp::Le,
        MDK4S_FINAL_MAX,
    ));
    v.push(Check::claim(
        format!("Part B: GD is slow: energy at iteration {iters}{seeds_note} (≥ −0.135)"),
        worst(BMethod::Gd, f64::min, f64::INFINITY),
        Cmp::Ge,
        GD_FINAL_MIN,
    ));
    v.push(Check::claim(
        format!(
            "Part B: MD-K₄ (isotropic) is slow: energy at iteration {iters}{seeds_note} (≥ −0.135)"
        ),
        worst(BMethod::MdK4, f64::min, f64::INFINITY),
        Cmp::Ge,
        MDK4_FINAL_MIN,
    ));
    for m in [BMethod::MdK4, BMethod::MdK4Sigma] {
        let inc = per_seed
            .iter()
            .map(|runs| max_increase(&runs[find(runs, m)].energies))
            .fold(f64::NEG_INFINITY, f64::max);
        v.push(Check::claim(
            format!(
                "Part B: {} energy is non-increasing (descent lemma, τ ≤ 1/β): largest step-to-step change{seeds_note}",
                m.name()
            ),
            inc,
            Cmp::Le,
            MD_MONOTONE_SLACK,
        ));
    }
    let mut k2_dev = 0.0_f64;
    for runs in &per_seed {
        let a = &runs[find(runs, BMethod::MdK2Sigma)].centred;
        let b = &runs[find(runs, BMethod::Pgd)].centred;
        for (xa, xb) in a.iter().zip(b) {
            for (p, q) in xa.iter().zip(xb) {
                k2_dev = k2_dev.max((p - q).abs());
            }
        }
    }
    v.push(Check::validation(
        "Part B: centred MD-K₂^Σ (Newton) iterates equal centred PGD(Σ) iterates at every step: max |Δ|",
        k2_dev,
        Cmp::Le,
        K2S_VS_PGD_TOL,
    ));
    let mut k2_gd_dev = 0.0_f64;
    for runs in &per_seed {
        let a = &runs[find(runs, BMethod::MdK2)].centred;
        let b = &runs[find(runs, BMethod::Gd)].centred;
        for (xa, xb) in a.iter().zip(b) {
            for (p, q) in xa.iter().zip(xb) {
                k2_gd_dev = k2_gd_dev.max((p - q).abs());
            }
        }
    }
    v.push(Check::validation(
        "Part B: centred MD-K₂ (isotropic, Newton) iterates equal centred GD iterates at every step (spec §2.2b: MD-K₂ is GD up to translation): max |Δ|",
        k2_gd_dev,
        Cmp::Le,
        K2S_VS_PGD_TOL,
    ));
    let mut newton_rows = Vec::new();
    let mut max_res = 0.0_f64;
    for r in first.iter().filter(|r| !r.newton_iterations.is_empty()) {
        let its = &r.newton_iterations;
        let total: usize = its.iter().sum();
        let res = r.newton_max_residual.unwrap_or(f64::NAN);
        newton_rows.push(vec![
            r.method.name().to_string(),
            its.iter().min().map_or(0, |v| *v).to_string(),
            its.iter().max().map_or(0, |v| *v).to_string(),
            fmt_num(total as f64 / its.len() as f64),
            fmt_num(res),
        ]);
    }
    for runs in &per_seed {
        for r in runs {
            if let Some(res) = r.newton_max_residual {
                max_res = max_res.max(res);
            }
        }
    }
    report.table(
        "Newton solves per MD step (seed 0)",
        &[
            "method",
            "min iterations",
            "max iterations",
            "mean iterations",
            "max final residual",
        ],
        newton_rows,
    )?;
    v.push(Check::validation(
        "Part B: every Newton solve converged to a residual max |Gᵢ(Y)| (largest over all MD steps)",
        max_res,
        Cmp::Le,
        NEWTON_RESIDUAL_MAX,
    ));

    // plots
    let times: Vec<f64> = (0..=iters).map(|k| k as f64).collect();
    let mut plot = LinePlot::new(
        "part_b_energy",
        "Part B: interaction energy vs iteration (seed 0)",
        "iteration k (time = τ·k)",
        "mean pair energy",
    )
    .with_series(Series::reference(
        "continuum minimum −1/6",
        vec![0.0, iters as f64],
        vec![RING_MINIMUM, RING_MINIMUM],
    ));
    for r in first {
        plot = plot
            .with_series(Series::new(r.method.name(), times.clone(), r.energies.clone()).line());
    }
    report.line_plot(plot.with_caption(
        "MD-K₂^Σ coincides with PGD(Σ) (the validation check above); the Σ-adapted schemes approach the ring minimum, GD and isotropic MD stall on the ill-conditioned direction.",
    ))?;
    for (m, name) in [
        (BMethod::Gd, "part_b_scatter_gd"),
        (BMethod::MdK4Sigma, "part_b_scatter_md_k4_sigma"),
    ] {
        let r = &first[find(first, m)];
        let mut plot = LinePlot::new(
            name,
            format!("Part B: centred particles, {} (seed 0)", m.name()),
            "x₁ − mean",
            "x₂ − mean",
        );
        for (c, k) in [0usize, 20, 120]
            .into_iter()
            .filter(|&k| k <= iters)
            .enumerate()
        {
            let xs = &r.centred[k];
            plot = plot.with_series(
                Series::new(
                    format!("iteration {k}"),
                    xs.iter().step_by(2).copied().collect(),
                    xs.iter().skip(1).step_by(2).copied().collect(),
                )
                .markers_only()
                .color(c),
            );
        }
        report.line_plot(plot.with_caption(
            "The minimiser is an ellipse x ∝ Σ^{1/2}·ring (wide in x₁); GD spreads along x₁ only slowly.",
        ))?;
    }
    let mut metric = serde_json::Map::new();
    for r in first {
        metric.insert(
            r.method.name().to_string(),
            json!(TABLE_B_K
                .iter()
                .filter(|&&k| k <= iters)
                .map(|&k| r.energies[k])
                .collect::<Vec<_>>()),
        );
    }
    report.metric(
        "part_b_energy_at_table_k_seed0",
        serde_json::Value::Object(metric),
    )?;
    report.number("part_b_k2_sigma_vs_pgd_max_abs", k2_dev)?;
    report.csv(
        "part_b_energies",
        &[
            "iteration",
            "GD",
            "PGD",
            "MD_K2",
            "MD_K4",
            "MD_K4_Sigma",
            "MD_K2_Sigma",
        ],
        &std::iter::once(times.clone())
            .chain(
                BMethod::ALL
                    .iter()
                    .map(|&m| first[find(first, m)].energies.clone()),
            )
            .collect::<Vec<_>>(),
    )?;

    if cfg.isotropic_appendix {
        let wi = InteractionEnergy::new(PairKernel::double_well(SpdMatrix::identity(2)));
        let x0 = Particles::gaussian(cfg.n_particles, 2, 0.25, None, seeds[0])?;
        let mut rows = Vec::new();
        for m in [BMethod::Gd, BMethod::MdK2, BMethod::MdK4] {
            let r = run_b(m, &wi, &SpdMatrix::identity(2), &x0, tau, 100)?;
            rows.push(vec![
                m.name().to_string(),
                fmt_num(r.energies[100]),
                fmt_num(max_increase(&r.energies)),
            ]);
        }
        report.table(
            "Appendix variant (informational): isotropic W, τ = 0.1, 100 iterations",
            &["method", "energy at 100", "largest step-to-step change"],
            rows,
        )?;
    }
    Ok(())
}

// ------------------------------------------------------------------ Part C

/// Part C: Sinkhorn L1 marginal tolerance per evaluation (our choice; OTT-JAX's default
/// threshold is 1e-3). On this task a cold solve at tol 1e-5 gives the same value as at
/// 1e-7 to 1e-9 relative, far below the 1e-3 relative-change stopping rule.
const SINKHORN_TOL: f64 = 1e-5;
/// Part C: Sinkhorn iteration cap per solve; reaching it ends that run (reported).
const SINKHORN_MAX_ITERATIONS: usize = 20_000;

/// One alignment objective of Part C.
enum AlignObjective {
    Energy(EnergyDistance),
    Sliced(SlicedWasserstein),
    Sinkhorn(SinkhornDivergence),
}

impl AlignObjective {
    fn build(
        kind: Discrepancy,
        train: &Particles,
        cfg: &Config,
        seed: Seed,
    ) -> Result<Self, StudyError> {
        Ok(match kind {
            Discrepancy::Energy => AlignObjective::Energy(EnergyDistance::new(train.clone())?),
            Discrepancy::Sliced => AlignObjective::Sliced(SlicedWasserstein::random(
                train.clone(),
                cfg.sliced_projections,
                seed.derive("sliced-directions"),
            )?),
            Discrepancy::Sinkhorn => AlignObjective::Sinkhorn(SinkhornDivergence::new(
                train.clone(),
                SinkhornOptions {
                    epsilon: cfg.sinkhorn_epsilon,
                    tol: SINKHORN_TOL,
                    max_iterations: SINKHORN_MAX_ITERATIONS,
                    scaling: 0.5,
                },
            )?),
        })
    }
}

/// What one alignment run did.
struct Alignment {
    /// Steps taken.
    steps: usize,
    /// Whether the relative-change rule stopped it (else the cap, or a solver failure).
    by_tolerance: bool,
    /// Held-out energy distance of the final particles.
    held_out_ed: f64,
    /// `F` per iteration (index 0 = the source).
    values: Vec<f64>,
    /// Sinkhorn iterations over the whole run (0 for other objectives).
    solver_iterations: usize,
    /// A solver failure that ended the run early (reported, not hidden).
    failure: Option<String>,
}

/// Runs one scheme on one objective: `x ← step(x, ∇F(x))` with `τ = 1`, stopping at
/// relative change of `F` below [`ALIGN_REL_TOL`] or at the cap.
fn align(
    obj: &AlignObjective,
    scheme: &Scheme,
    source: &Particles,
    held: &Particles,
    cap: usize,
) -> Result<Alignment, StudyError> {
    let (n, d) = (source.n_particles(), source.dim());
    let mut x = source.clone();
    let mut grad = vec![0.0; n * d];
    let mut warm: Option<SinkhornState> = None;
    let mut solver_iterations = 0usize;
    // Sinkhorn: value and gradient come from one solve; the gradient is kept for the step
    let mut eval = |x: &Particles,
                    grad: &mut [f64],
                    warm: &mut Option<SinkhornState>|
     -> Result<f64, gdlab_wasserstein::WassersteinError> {
        match obj {
            AlignObjective::Energy(f) => f.value(x),
            AlignObjective::Sliced(f) => f.value(x),
            AlignObjective::Sinkhorn(f) => {
                let (v, st) = f.evaluate(x, warm.as_ref(), Some(grad))?;
                solver_iterations += st.iterations;
                *warm = Some(st);
                Ok(v)
            }
        }
    };
    let mut values = vec![eval(&x, &mut grad, &mut warm)?];
    let mut steps = cap;
    let mut by_tolerance = false;
    let mut failure = None;
    for k in 0..cap {
        match obj {
            AlignObjective::Energy(f) => f.wgrad(&x, &mut grad)?,
            AlignObjective::Sliced(f) => f.wgrad(&x, &mut grad)?,
            AlignObjective::Sinkhorn(_) => {} // computed with the last value
        }
        scheme.step(&mut x, &grad, 1.0, k)?;
        let val = match eval(&x, &mut grad, &mut warm) {
            Ok(v) => v,
            Err(e @ gdlab_wasserstein::WassersteinError::SinkhornNotConverged { .. }) => {
                failure = Some(format!("step {k}: {e}"));
                steps = k + 1;
                break;
            }
            Err(e) => return Err(e.into()),
        };
        let prev = *values.last().unwrap_or(&val);
        values.push(val);
        if ((val - prev) / prev).abs() < ALIGN_REL_TOL {
            steps = k + 1;
            by_tolerance = true;
            break;
        }
    }
    let held_out_ed = EnergyDistance::energy_distance_between(&x, held)?;
    Ok(Alignment {
        steps,
        by_tolerance,
        held_out_ed,
        values,
        solver_iterations,
        failure,
    })
}

fn part_c(cfg: &Config, opts: &RunOpts, report: &mut Report) -> Result<(), StudyError> {
    let only_energy = cfg.alignment_discrepancies == [Discrepancy::Energy];
    report.heading(if only_energy {
        "Part C (informational, not in the verdict): energy-distance alignment"
    } else {
        "Part C (informational, not in the verdict): alignment with ED, SW₂² and the Sinkhorn divergence"
    });
    let d = 10;
    let n = cfg.alignment_n;
    let seed = opts.seed.derive("alignment");
    let source = Particles::gaussian(n, d, 1.0, None, seed.derive("source"))?;
    // target: two-component mixture, anisotropic and shifted (our choice; spec §5 Part C
    // leaves it open): component means c ± 2e₁ with c = (1, 1, 0, …), standard deviations
    // geomspace(0.2, 1.5, 10) per coordinate, equal weights (alternating rows). The spec's
    // sizes: n target points, 40% of them held out.
    let sd = geomspace(0.2, 1.5, d);
    let z = Particles::gaussian(n, d, 1.0, None, seed.derive("target"))?;
    let mut tdata = Vec::with_capacity(n * d);
    for (i, r) in z.data().chunks(d).enumerate() {
        let sign = if i % 2 == 0 { 1.0 } else { -1.0 };
        for k in 0..d {
            let centre = if k < 2 { 1.0 } else { 0.0 } + if k == 0 { 2.0 * sign } else { 0.0 };
            tdata.push(centre + sd[k] * r[k]);
        }
    }
    let n_held = ((n as f64) * HELD_OUT_FRACTION).round() as usize;
    let n_train = n - n_held;
    let train = Particles::new(n_train, d, tdata[..n_train * d].to_vec())?;
    let held = Particles::new(n_held, d, tdata[n_train * d..].to_vec())?;
    let mut methods = vec![("GD".to_string(), Scheme::Gd)];
    for &a in &cfg.alignment_powers {
        methods.push((
            format!("PGD (a = {a})"),
            Scheme::Preconditioned(Preconditioner::power_norm(a)?),
        ));
    }
    let cap = cfg.alignment_max_iterations;
    for &kind in &cfg.alignment_discrepancies {
        let obj = AlignObjective::build(kind, &train, cfg, seed)?;
        let (short, f_name, plot_name, metric_name, value_label) = match kind {
            Discrepancy::Energy => (
                "ED",
                "½ ED",
                "part_c_energy_distance",
                "part_c",
                "final ½ED (train)",
            ),
            Discrepancy::Sliced => (
                "SW₂²",
                "½ SW₂²",
                "part_c_sliced",
                "part_c_sliced",
                "final ½SW₂² (train)",
            ),
            Discrepancy::Sinkhorn => (
                "S_ε",
                "½ S_ε",
                "part_c_sinkhorn",
                "part_c_sinkhorn",
                "final ½S_ε (train)",
            ),
        };
        let results: Vec<Result<Alignment, StudyError>> = methods
            .par_iter()
            .map(|(_, scheme)| align(&obj, scheme, &source, &held, cap))
            .collect();
        let mut rows = Vec::new();
        let mut plot = LinePlot::new(
            plot_name,
            if kind == Discrepancy::Energy {
                "Part C: ½ energy distance to the training target".to_string()
            } else {
                format!("Part C: {f_name} to the training target")
            },
            "iteration",
            format!("{f_name} (log scale)"),
        )
        .log_y();
        let mut metric = serde_json::Map::new();
        let mut best: Option<(f64, String)> = None;
        for ((name, _), r) in methods.iter().zip(results) {
            let r = r?;
            let last = *r.values.last().unwrap_or(&f64::NAN);
            let mut row = vec![
                name.clone(),
                r.steps.to_string(),
                if r.by_tolerance {
                    "yes".into()
                } else if let Some(f) = &r.failure {
                    format!("no (Sinkhorn failed: {f})")
                } else {
                    "no (cap)".into()
                },
                fmt_num(last),
                fmt_num(r.held_out_ed),
            ];
            if kind == Discrepancy::Sinkhorn {
                row.push(r.solver_iterations.to_string());
            }
            rows.push(row);
            let mut entry =
                json!({"iterations": r.steps, "held_out_energy_distance": r.held_out_ed});
            if kind != Discrepancy::Energy {
                entry["final_value"] = json!(last);
                entry["stopped_by_tolerance"] = json!(r.by_tolerance);
            }
            if kind == Discrepancy::Sinkhorn {
                entry["sinkhorn_iterations"] = json!(r.solver_iterations);
                entry["solver_failure"] = json!(r.failure.clone().unwrap_or_default());
            }
            metric.insert(name.clone(), entry);
            if name != "GD" && last.is_finite() && best.as_ref().is_none_or(|b| last < b.0) {
                best = Some((last, name.clone()));
            }
            plot = plot.with_series(
                Series::indexed(
                    name.as_str(),
                    r.values.iter().map(|v| v.max(1e-12)).collect(),
                )
                .line(),
            );
        }
        let mut headers = vec![
            "method",
            "iterations",
            "stopped by tolerance",
            value_label,
            "held-out ED",
        ];
        if kind == Discrepancy::Sinkhorn {
            headers.push("Sinkhorn iterations (all solves)");
        }
        let title = match kind {
            Discrepancy::Energy => format!(
                "Alignment of N(0, I₁₀) (n = {n}) to a shifted anisotropic mixture ({n_train} training, {n_held} held-out points), τ = 1, stop at relative change < 1e-3 (cap {cap})"
            ),
            Discrepancy::Sliced => format!(
                "{short}: F = ½SW₂² with L = {} fixed random directions, same task, τ = 1, stop at relative change < 1e-3 (cap {cap})",
                cfg.sliced_projections
            ),
            Discrepancy::Sinkhorn => format!(
                "{short}: F = ½S_ε (cost ‖x − y‖², ε = {}, log-domain Sinkhorn, L1 marginal tolerance {SINKHORN_TOL:e}, warm-started from the previous step), same task, τ = 1, stop at relative change < 1e-3 (cap {cap})",
                cfg.sinkhorn_epsilon
            ),
        };
        report.table(&title, &headers, rows)?;
        if cfg.alignment_powers.len() > 1 {
            if let Some((v, name)) = &best {
                report.paragraph(&format!(
                    "Grid over a ∈ {:?} (spec §4 item 3 picks a by grid search on one task): on {short}, the lowest final training value is {name} ({}).",
                    cfg.alignment_powers,
                    fmt_num(*v)
                ));
                metric.insert("selected_power".into(), json!(name));
            }
        }
        report.line_plot(plot.with_caption(
            "Uncalibrated stand-in for the single-cell task (spec §5 Part C); reported, not judged.",
        ))?;
        report.metric(metric_name, serde_json::Value::Object(metric))?;
    }
    Ok(())
}

// ------------------------------------------------------------------ Part D

/// Part D: the Dirichlet target's concentrations (spec §4 item 4: Dir(6, 6, 6)).
const DIRICHLET_ALPHA: [f64; 3] = [6.0, 6.0, 6.0];
/// Part D: iterations printed in the table.
const TABLE_D_K: [usize; 6] = [0, 25, 50, 100, 150, 201];

/// Part D (full mode): MD with the entropic mirror map and the KDE score vs the mirror
/// Langevin algorithm on `Dir(6, 6, 6)` (spec §4 item 4). Informational.
fn part_d(cfg: &Config, opts: &RunOpts, report: &mut Report) -> Result<(), StudyError> {
    report.heading(
        "Part D (informational, not in the verdict): Dirichlet posterior, MD vs mirror Langevin",
    );
    let target = DirichletPotential::new(DIRICHLET_ALPHA.to_vec())?;
    let d = target.simplex_dim();
    let (n, tau, iters) = (
        cfg.dirichlet_particles,
        cfg.dirichlet_step_size,
        cfg.dirichlet_iterations,
    );
    let seeds: Vec<Seed> = (0..cfg.dirichlet_seeds)
        .map(|s| opts.seed.derive("dirichlet").index(s as u64))
        .collect();
    let entropy = KdeEntropy::scott_score();
    let map = MirrorMap::Entropic;
    // per seed: (KL estimates of MD, of MLD, final means of MD and MLD)
    type Runs = (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>);
    let runs: Vec<Result<Runs, StudyError>> = seeds
        .par_iter()
        .map(|&s| {
            // x₀ = 1/(2d) + U(−1/(24d), 1/(24d)) per coordinate (the notebook's init)
            let mut rng = s.derive("x0").rng();
            let w = 1.0 / (24.0 * d as f64);
            let x0: Vec<f64> = (0..n * d)
                .map(|_| {
                    1.0 / (2.0 * d as f64) + w * (2.0 * gdlab_core::normal::uniform(&mut rng) - 1.0)
                })
                .collect();
            let x0 = Particles::new(n, d, x0)?;
            let mut g = vec![0.0; n * d];
            let mut score = vec![0.0; n * d];
            let md_scheme = Scheme::Mirror(map.clone());
            let mut x = x0.clone();
            let mut md = vec![target.kl_estimate(&x)?];
            for k in 0..iters {
                target.wgrad(&x, &mut g)?;
                entropy.wgrad(&x, &mut score)?;
                for (a, b) in g.iter_mut().zip(&score) {
                    *a += b;
                }
                md_scheme.step(&mut x, &g, tau, k)?;
                md.push(target.kl_estimate(&x)?);
            }
            let md_mean = x.mean();
            let mut y = x0;
            let mut mld = vec![target.kl_estimate(&y)?];
            let noise = s.derive("mld-noise");
            for k in 0..iters {
                target.wgrad(&y, &mut g)?;
                mirror_langevin_step(&map, &mut y, &g, tau, noise, k)?;
                mld.push(target.kl_estimate(&y)?);
            }
            Ok((md, mld, md_mean, y.mean()))
        })
        .collect();
    let runs: Vec<Runs> = runs.into_iter().collect::<Result<_, _>>()?;
    let n_seeds = runs.len() as f64;
    let mean_of = |pick: &dyn Fn(&Runs) -> &Vec<f64>, k: usize| {
        runs.iter().map(|r| pick(r)[k]).sum::<f64>() / n_seeds
    };
    let sd_of = |pick: &dyn Fn(&Runs) -> &Vec<f64>, k: usize| {
        let m = mean_of(pick, k);
        (runs.iter().map(|r| (pick(r)[k] - m).powi(2)).sum::<f64>() / (n_seeds - 1.0).max(1.0))
            .sqrt()
    };
    let md_pick: &dyn Fn(&Runs) -> &Vec<f64> = &|r| &r.0;
    let mld_pick: &dyn Fn(&Runs) -> &Vec<f64> = &|r| &r.1;
    let mut rows = Vec::new();
    let mut metric = serde_json::Map::new();
    for (name, pick) in [("MD (entropic, KDE score)", md_pick), ("MLD", mld_pick)] {
        let mut row = vec![name.to_string()];
        let mut at_k = Vec::new();
        for &k in TABLE_D_K.iter().filter(|&&k| k <= iters) {
            let m = mean_of(pick, k);
            row.push(format!("{} ± {}", fmt_num(m), fmt_num(sd_of(pick, k))));
            at_k.push(m);
        }
        rows.push(row);
        metric.insert(name.to_string(), json!({"mean_kl_at_table_k": at_k}));
    }
    let headers: Vec<String> = std::iter::once("method".to_string())
        .chain(
            TABLE_D_K
                .iter()
                .filter(|&&k| k <= iters)
                .map(|k| format!("k = {k}")),
        )
        .collect();
    let hdr: Vec<&str> = headers.iter().map(String::as_str).collect();
    report.table(
        &format!(
            "Estimated KL(μₖ ‖ Dir(6, 6, 6)) (Kozachenko–Leonenko entropy + mean potential + log B(α)), mean ± sd over {} seeds; n = {n}, τ = {tau}, x₀ = 1/(2d) ± U(−1/(24d), 1/(24d))",
            runs.len()
        ),
        &hdr,
        rows,
    )?;
    let md_final = mean_of(md_pick, iters);
    let mld_final = mean_of(mld_pick, iters);
    let mean_err = |pick: fn(&Runs) -> &Vec<f64>| {
        runs.iter()
            .flat_map(|r| pick(r).iter().map(|v| (v - 1.0 / 3.0).abs()))
            .fold(0.0_f64, f64::max)
    };
    let md_mean_err = mean_err(|r| &r.2);
    let mld_mean_err = mean_err(|r| &r.3);
    report.paragraph(&format!(
        "After {iters} steps the mean estimated KL is {} for MD and {} for MLD ({} ends lower; the \
         paper's appendix figure has MLD lower). Largest |particle mean − 1/3| over seeds and \
         coordinates: MD {}, MLD {}. The KDE score (Scott bandwidth) is biased and the \
         nearest-neighbour KL estimate is noisy at n = {n} (spec §7); informational only.",
        fmt_num(md_final),
        fmt_num(mld_final),
        if mld_final < md_final { "MLD" } else { "MD" },
        fmt_num(md_mean_err),
        fmt_num(mld_mean_err),
    ));
    let mut plot = LinePlot::new(
        "part_d_dirichlet_kl",
        "Part D: estimated KL to Dir(6, 6, 6) vs iteration",
        "iteration k",
        "mean estimated KL",
    );
    for (name, pick) in [("MD (entropic, KDE score)", md_pick), ("MLD", mld_pick)] {
        plot = plot.with_series(
            Series::indexed(name, (0..=iters).map(|k| mean_of(pick, k)).collect()).line(),
        );
    }
    report.line_plot(plot.with_caption(format!(
        "Mean over {} seeds; the estimate can be negative (estimator bias). Informational.",
        runs.len()
    )))?;
    metric.insert("md_max_mean_error".into(), json!(md_mean_err));
    metric.insert("mld_max_mean_error".into(), json!(mld_mean_err));
    report.metric("part_d_dirichlet", serde_json::Value::Object(metric))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every full-mode path (KLM/PKLM, the three discrepancies with the a-grid, Part D) on
    /// tiny sizes: runs without error, writes finite numbers, and the diagonal KLM/PKLM
    /// rows are present.
    #[test]
    fn full_mode_paths_run_on_tiny_sizes() {
        let cfg = Config {
            n_targets: 2,
            interaction_iterations: 3,
            n_particles: 12,
            isotropic_appendix: false,
            alignment_n: 40,
            alignment_max_iterations: 4,
            sliced_projections: 8,
            dirichlet_seeds: 2,
            dirichlet_particles: 20,
            dirichlet_iterations: 5,
            ..Config::for_mode(crate::study::Mode::Full)
        };
        let opts = RunOpts {
            seed: Seed(1),
            mode: crate::study::Mode::Full,
            ..RunOpts::default()
        };
        let mut report = Report::new("wasserstein-mirror", "t", "p");
        let mut v = Verdict::default();
        part_a(&cfg, &opts, &mut v, &mut report).unwrap();
        part_c(&cfg, &opts, &mut report).unwrap();
        part_d(&cfg, &opts, &mut report).unwrap();
        let dir = std::env::temp_dir().join(format!("gdlab-wm-tiny-{}", std::process::id()));
        let meta = crate::report::RunMeta {
            mode: "full".into(),
            seed: 1,
            elapsed_s: 0.0,
            version: "test".into(),
        };
        report.finish(&dir, &meta, &v).unwrap();
        let m: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("metrics.json")).unwrap()).unwrap();
        let metrics = &m["metrics"];
        assert!(metrics["part_a_diag"]["PKLM"]["mean_kl_at_table_k"].is_array());
        assert!(metrics["part_c_sinkhorn"]["PGD (a = 1.25)"]["iterations"].is_number());
        assert!(metrics["part_c_sliced"]["selected_power"].is_string());
        assert!(metrics["part_d_dirichlet"]["MLD"]["mean_kl_at_table_k"].is_array());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn first_hit_and_max_increase() {
        assert_eq!(first_hit(&[1.0, 0.5, 1e-4, 1e-5], 1e-3), Some(2));
        assert_eq!(first_hit(&[1.0], 1e-3), None);
        assert!((max_increase(&[3.0, 2.0, 2.5, 1.0]) - 0.5).abs() < 1e-15);
    }
}
