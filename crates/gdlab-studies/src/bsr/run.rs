//! Part A (factorization quality and speed) and the driver. Every threshold is a `const`
//! below, with its source.

use std::time::Instant;

use faer::linalg::triangular_solve::solve_lower_triangular_in_place;
use faer::{Mat, Par};
use gdlab_core::normal::BoxMuller;
use gdlab_core::Seed;
use gdlab_privacy::aof::AofOptions;
use gdlab_privacy::metrics::nuclear_norm;
use gdlab_privacy::sensitivity::{
    brute_force_minsep_sensitivity, toeplitz_sensitivity, Participation,
};
use gdlab_privacy::strategy::{factorize, sqrt_closed_form, Factorization, StrategyKind};
use gdlab_privacy::toeplitz::Toeplitz;
use gdlab_privacy::workload::Workload;
use rayon::prelude::*;
use serde_json::json;

use super::config::Config;
use crate::report::{fmt_num, LinePlot, Report, Series};
use crate::study::{RunOpts, StudyError};
use crate::verdict::{Check, Cmp, Verdict};

// ---- Thresholds (spec §7.1; item numbers refer to that list) ----

/// Item 1: Theorem 1 closed form vs the generic recursion (spec: tol 1e−12).
const CLOSED_VS_RECURSION_TOL: f64 = 1e-12;
/// Item 1 / spec §5: `C·C = A` to 1e−12 relative.
const RECONSTRUCT_TOL: f64 = 1e-12;
/// Item 1: Theorem-2 sensitivity equals the brute-force maximum (two f64 evaluations of the
/// same sum; 1e−12 relative).
const BRUTE_FORCE_TOL: f64 = 1e-12;
/// Item 1 (third pass): `E_Id = √((n+1)/2)`, `E_A = √n` for (1,0), k = 1 (tol 1e−12 rel.).
const BASELINE_CLOSED_TOL: f64 = 1e-12;
/// Spec §2.3 / STYLE §7: streaming noise equals `materialize(n)⁻¹·Z` (f64 vs an
/// independent dense triangular solve: 1e−12 relative).
const STREAM_TOL: f64 = 1e-12;
/// Item 2: every value matches §6.3 to 0.5 % relative.
const REFERENCE_REL_TOL: f64 = 0.005;
/// Item 2: BSR ≤ 0.30·Id in every multi-participation cell (observed 0.16–0.27 by the spec).
const BSR_OVER_ID_MAX: f64 = 0.30;
/// Item 2: BSR < sqrt in every multi-participation cell (ratio < 1).
const BSR_OVER_SQRT_MAX: f64 = 1.0;
/// Item 2 / item 3: E ≥ the lower bound `√k‖A‖_*/n` (ratio ≥ 1).
const OVER_LOWER_BOUND_MIN: f64 = 1.0;
/// Item 3: `E_BSR ≤ 1.10·E_AOF` in every multi-participation cell (observed 1.03–1.04).
const BSR_OVER_AOF_MAX: f64 = 1.10;
/// Item 3: `E_sqrt ≤ 1.12·E_AOF` in every single-participation cell (observed 1.06–1.07).
const SQRT_OVER_AOF_MAX: f64 = 1.12;
/// Item 3: BSR wall time at least 100× smaller than AOF's at the largest AOF size.
const SPEEDUP_MIN: f64 = 100.0;
/// The speed-up is recorded capped at this value: wall times vary from run to run, and the
/// capped number keeps `metrics.json` reproducible (the uncapped times are printed on the
/// report's "elapsed" line). The cap is 10× the threshold, so it never decides the check.
const SPEEDUP_RECORD_CAP: f64 = 1000.0;

/// Spec §6.3, multi-participation (b = 100, k = n/100, BSR p = 100): (α, β, n, BSR, sqrt,
/// Id, A). The A column uses the aligned-rows sensitivity maximized over the b offsets.
const MULTI_REFERENCE: [(f64, f64, usize, [f64; 4]); 9] = [
    (1.0, 0.0, 200, [3.645, 3.952, 14.18, 22.36]),
    (1.0, 0.0, 500, [6.949, 8.390, 35.39, 74.16]),
    (1.0, 0.0, 1000, [12.10, 15.72, 70.75, 196.2]),
    (1.0, 0.0, 2000, [22.19, 30.60, 141.5, 535.7]),
    (0.999, 0.0, 1000, [10.04, 12.82, 53.32, 137.4]),
    (0.999, 0.0, 2000, [15.43, 21.08, 86.91, 282.9]),
    (1.0, 0.9, 1000, [88.72, 121.8, 697.8, 1938.0]),
    (1.0, 0.9, 2000, [169.7, 247.8, 1405.0, 5323.0]),
    (0.999, 0.9, 2000, [110.3, 161.0, 861.2, 2816.0]),
];

/// Spec §6.3, single participation (k = 1): (α, β, n, sqrt, Id, A) for the study's grid.
const SINGLE_REFERENCE: [(f64, f64, usize, [f64; 3]); 16] = [
    (1.0, 0.0, 100, [2.371, 7.106, 10.00]),
    (1.0, 0.0, 500, [2.882, 15.83, 22.36]),
    (1.0, 0.0, 1000, [3.102, 22.37, 31.62]),
    (1.0, 0.0, 2000, [3.323, 31.63, 44.72]),
    (1.0, 0.9, 100, [13.91, 61.81, 92.88]),
    (1.0, 0.9, 500, [19.32, 154.0, 220.5]),
    (1.0, 0.9, 1000, [21.58, 220.7, 314.0]),
    (1.0, 0.9, 2000, [23.81, 314.1, 445.7]),
    (0.999, 0.0, 100, [2.327, 6.879, 9.525]),
    (0.999, 0.0, 500, [2.690, 13.58, 17.79]),
    (0.999, 0.0, 1000, [2.777, 16.86, 20.80]),
    (0.999, 0.0, 2000, [2.822, 19.43, 22.16]),
    (0.999, 0.9, 100, [13.50, 59.83, 88.63]),
    (0.999, 0.9, 500, [17.44, 132.0, 175.6]),
    (0.999, 0.9, 1000, [18.35, 166.1, 206.6]),
    (0.999, 0.9, 2000, [18.82, 192.6, 220.5]),
];

/// One `(α, β, n, participation)` cell: E of every strategy and the lower bound.
#[derive(Clone, Debug)]
struct Cell {
    alpha: f64,
    beta: f64,
    n: usize,
    k: usize,
    bsr: f64,
    sqrt: f64,
    id: f64,
    a: f64,
    lower: Option<f64>,
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs()
}

fn max_of<I: IntoIterator<Item = f64>>(xs: I) -> f64 {
    xs.into_iter().fold(f64::NEG_INFINITY, f64::max)
}

fn min_of<I: IntoIterator<Item = f64>>(xs: I) -> f64 {
    xs.into_iter().fold(f64::INFINITY, f64::min)
}

fn same(x: f64, y: f64) -> bool {
    (x - y).abs() < 1e-12
}

fn participation(n: usize, single: bool, min_sep: usize) -> Result<Participation, StudyError> {
    Ok(if single {
        Participation::Single
    } else {
        Participation::min_separation(min_sep, n / min_sep, n)?
    })
}

pub(super) fn run(
    cfg: &Config,
    opts: &RunOpts,
    report: &mut Report,
) -> Result<Verdict, StudyError> {
    let mut v = Verdict::default();
    report.intro(
        "DP training with correlated noise factorizes the optimizer's workload `A = B·C` and adds \
         `C⁻¹Z` to the gradients. The paper's banded square root (BSR) takes the first `p` \
         coefficients of `A^{1/2}` in closed form (Theorem 1) and computes its sensitivity under \
         b-min-separation exactly (Theorem 2). The claim: BSR's error is within a few percent of \
         the approximately optimal factorization (AOF, an expensive numerical optimization) and far \
         below plain DP-SGD noise. Errors are `E = ‖B‖_F·sens/√n` (spec §1.5), unit noise \
         multiplier and clip 1.",
    );
    unit_checks(&mut v, report)?;
    let (multi, single) = grid(cfg, &mut v, report)?;
    aof(cfg, &mut v, report, &multi)?;
    super::training::run(cfg, opts, &mut v, report)?;
    let _ = single;
    Ok(v)
}

/// Item 1: closed form vs recursion, reconstruct, monotonicity, Theorem 2 vs brute force,
/// baseline closed forms, streaming noise vs the dense inverse.
fn unit_checks(v: &mut Verdict, report: &mut Report) -> Result<(), StudyError> {
    report.heading("Unit checks (spec §7.1 item 1)");
    let n = 2000;
    let pairs = [
        (1.0, 0.0),
        (0.999, 0.0),
        (1.0, 0.9),
        (0.999, 0.9),
        (0.99, 0.5),
    ];
    let mut closed_diff = 0.0_f64;
    let mut recon = 0.0_f64;
    let mut monotone_violations = 0usize;
    for (al, be) in pairs {
        let w = Workload::momentum(al, be, n)?;
        let closed = sqrt_closed_form(al, be, n);
        let rec = w.coefs().sqrt(n)?;
        closed_diff = closed_diff.max(
            closed
                .iter()
                .zip(rec.coefs())
                .fold(0.0_f64, |m, (x, y)| m.max((x - y).abs())),
        );
        let c = Toeplitz::new(closed)?;
        let cc = c.multiply(&c, n);
        let amax = w
            .coefs()
            .coefs()
            .iter()
            .fold(0.0_f64, |m, x| m.max(x.abs()));
        recon = recon.max(
            cc.coefs()
                .iter()
                .zip(w.coefs().coefs())
                .fold(0.0_f64, |m, (x, y)| m.max((x - y).abs()))
                / amax,
        );
        if !c.is_nonneg_nonincreasing() {
            monotone_violations += 1;
        }
    }
    v.push(Check::validation(
        "Theorem 1 closed form equals the generic square-root recursion (n = 2000, 5 (α,β)): max |Δc_m|",
        closed_diff,
        Cmp::Le,
        CLOSED_VS_RECURSION_TOL,
    ));
    v.push(Check::validation(
        "reconstruct C·C = A (n = 2000, 5 (α,β)): max |C·C − A| / max |A|",
        recon,
        Cmp::Le,
        RECONSTRUCT_TOL,
    ));
    v.push(Check::validation(
        "BSR coefficients positive and non-increasing for every tested (α,β): number of violations",
        monotone_violations as f64,
        Cmp::Le,
        0.0,
    ));

    // Theorem 2 vs brute force, n = 12, b = 3, k = 4
    let (nb, b, k) = (12, 3, 4);
    let part = Participation::min_separation(b, k, nb)?;
    let mut bf_diff = 0.0_f64;
    for (al, be) in [(1.0, 0.0), (1.0, 0.9), (0.999, 0.9)] {
        let w = Workload::momentum(al, be, nb)?;
        for p in [2, 3, 5, 12] {
            let c = Toeplitz::new(sqrt_closed_form(al, be, p))?;
            let s = toeplitz_sensitivity(&c, nb, part)?;
            let bf = brute_force_minsep_sensitivity(&c.materialize(nb), b, k)?;
            bf_diff = bf_diff.max(rel(s.value, bf));
            let _ = &w;
        }
    }
    v.push(Check::validation(
        "Theorem 2 / √k‖c‖ sensitivity equals brute force over all b-min-sep patterns (n = 12, b = 3, k = 4, p ∈ {2,3,5,12}): max rel. diff",
        bf_diff,
        Cmp::Le,
        BRUTE_FORCE_TOL,
    ));

    // baselines' closed forms, (1,0), k = 1
    let mut base_diff = 0.0_f64;
    for nn in [100, 2000] {
        let w = Workload::momentum(1.0, 0.0, nn)?;
        let id = factorize(&w, StrategyKind::Identity, Participation::Single, None)?;
        let a = factorize(&w, StrategyKind::Workload, Participation::Single, None)?;
        base_diff = base_diff
            .max(rel(id.errors.rmse, ((nn as f64 + 1.0) / 2.0).sqrt()))
            .max(rel(a.errors.rmse, (nn as f64).sqrt()));
    }
    v.push(Check::validation(
        "baseline closed forms at (1,0), k = 1, n ∈ {100, 2000}: E_Id = √((n+1)/2), E_A = √n (max rel. diff)",
        base_diff,
        Cmp::Le,
        BASELINE_CLOSED_TOL,
    ));

    // streaming noise vs dense inverse, and B·C = A
    let (ns, d) = (60, 4);
    let w = Workload::momentum(1.0, 0.9, ns)?;
    let part = Participation::min_separation(10, 6, ns)?;
    let f = factorize(&w, StrategyKind::Bsr { bandwidth: 10 }, part, None)?;
    let nz = f.noising()?;
    let mut rng = Seed(5).rng();
    let mut normal = BoxMuller::default();
    let z = Mat::from_fn(ns, d, |_, _| normal.sample(&mut rng));
    let mut dense = z.clone();
    solve_lower_triangular_in_place(f.materialize().as_ref(), dense.as_mut(), Par::Seq);
    let mut st = nz.start(d);
    let mut wv = vec![0.0; d];
    let mut diff = 0.0_f64;
    for t in 0..ns {
        let zt: Vec<f64> = (0..d).map(|j| z[(t, j)]).collect();
        nz.step(&mut st, &zt, &mut wv)
            .map_err(gdlab_core::CoreError::from)?;
        for (j, x) in wv.iter().enumerate() {
            diff = diff.max((x - dense[(t, j)]).abs());
        }
    }
    let scale = dense.norm_max();
    v.push(Check::validation(
        "streaming noise (ring buffer, p = 10) equals materialize(n)⁻¹·Z (n = 60, d = 4): max |Δ| / max |C⁻¹Z|",
        diff / scale,
        Cmp::Le,
        STREAM_TOL,
    ));
    let bmat = f
        .decoder
        .as_ref()
        .map(|b| b.materialize(ns))
        .unwrap_or_else(|| Mat::zeros(ns, ns));
    let bc = &bmat * &f.materialize();
    let am = w.coefs().materialize(ns);
    v.push(Check::validation(
        "reconstruct B·C = A for BSR ((1,0.9), n = 60, p = 10): max |B·C − A| / max |A|",
        gdlab_core::linalg::max_abs_diff(&bc, &am) / am.norm_max(),
        Cmp::Le,
        RECONSTRUCT_TOL,
    ));
    report.paragraph(
        "Closed form (Theorem 1) `c_m = Σ_i α^{m−i} r_{m−i} β^i r_i` with `r_m = binom(2m,m)/4^m`, \
         the generic recursion `c_m = (a_m − Σ c_j c_{m−j})/(2c_0)`, Theorem 2 `sens = ‖Σ_{i<k} C[:, ib]‖` \
         against the maximum over all b-min-separation patterns, and the streaming noise generator \
         against a dense triangular solve. All are checks of the implementation (validation).",
    );
    Ok(())
}

fn cell(
    w: &Workload,
    single: bool,
    min_sep: usize,
    lower_nuc: Option<f64>,
) -> Result<Cell, StudyError> {
    let n = w.n();
    let part = participation(n, single, min_sep)?;
    let p = if single { n } else { min_sep };
    let e = |k: StrategyKind| -> Result<f64, StudyError> {
        Ok(factorize(w, k, part, None)?.errors.rmse)
    };
    let (alpha, beta) = w.alpha_beta().unwrap_or((f64::NAN, f64::NAN));
    let k = part.effective_k(n);
    Ok(Cell {
        alpha,
        beta,
        n,
        k,
        bsr: e(StrategyKind::Bsr { bandwidth: p })?,
        sqrt: e(StrategyKind::Sqrt)?,
        id: e(StrategyKind::Identity)?,
        a: e(StrategyKind::Workload)?,
        lower: lower_nuc.map(|nuc| (k as f64).sqrt() * nuc / n as f64),
    })
}

/// Item 2: the `(α, β) × n` grid, reference values, orderings and the lower bound.
fn grid(
    cfg: &Config,
    v: &mut Verdict,
    report: &mut Report,
) -> Result<(Vec<Cell>, Vec<Cell>), StudyError> {
    report.heading("Factorization error on the (α, β) × n grid (spec §7.1 item 2)");
    // nuclear norms for every (α, β, n ≤ max) needed, in parallel, collected in order
    let mut lb_ns: Vec<usize> = cfg
        .multi_ns
        .iter()
        .chain(&cfg.single_ns)
        .copied()
        .filter(|&n| n <= cfg.lower_bound_max_n)
        .collect();
    lb_ns.sort_unstable();
    lb_ns.dedup();
    let jobs: Vec<(f64, f64, usize)> = cfg
        .grid
        .iter()
        .flat_map(|&(a, b)| lb_ns.iter().map(move |&n| (a, b, n)))
        .collect();
    let nucs: Vec<Result<f64, StudyError>> = jobs
        .par_iter()
        .map(|&(a, b, n)| Ok(nuclear_norm(&Workload::momentum(a, b, n)?)?))
        .collect();
    let mut nuc_of = Vec::new();
    for (j, r) in jobs.iter().zip(nucs) {
        nuc_of.push((*j, r?));
    }
    let find_nuc = |a: f64, b: f64, n: usize| {
        nuc_of
            .iter()
            .find(|((x, y, m), _)| same(*x, a) && same(*y, b) && *m == n)
            .map(|(_, v)| *v)
    };
    let cell_jobs: Vec<(f64, f64, usize, bool)> = cfg
        .grid
        .iter()
        .flat_map(|&(a, b)| {
            cfg.multi_ns
                .iter()
                .map(move |&n| (a, b, n, false))
                .chain(cfg.single_ns.iter().map(move |&n| (a, b, n, true)))
        })
        .collect();
    let cells: Vec<Result<Cell, StudyError>> = cell_jobs
        .par_iter()
        .map(|&(a, b, n, single)| {
            let w = Workload::momentum(a, b, n)?;
            cell(&w, single, cfg.min_sep, find_nuc(a, b, n))
        })
        .collect();
    let mut multi = Vec::new();
    let mut single = Vec::new();
    for (job, c) in cell_jobs.iter().zip(cells) {
        if job.3 {
            single.push(c?);
        } else {
            multi.push(c?);
        }
    }

    // tables
    let row = |c: &Cell| {
        vec![
            format!("({}, {})", c.alpha, c.beta),
            c.n.to_string(),
            c.k.to_string(),
            fmt_num(c.bsr),
            fmt_num(c.sqrt),
            fmt_num(c.id),
            fmt_num(c.a),
            c.lower.map_or("n/a".into(), fmt_num),
            fmt_num(c.bsr / c.id),
        ]
    };
    let headers = [
        "(α, β)",
        "n",
        "k",
        "BSR",
        "sqrt",
        "Id",
        "A",
        "lower bound",
        "BSR/Id",
    ];
    report.table(
        &format!(
            "Multi-participation, b = {} (k = n/b), BSR with p = b",
            cfg.min_sep
        ),
        &headers,
        multi.iter().map(row).collect(),
    )?;
    report.table(
        "Single participation (k = 1), BSR with p = n (the full square root)",
        &headers,
        single.iter().map(row).collect(),
    )?;

    // reference values (§6.3)
    let mut worst_multi = 0.0_f64;
    let mut n_multi = 0;
    let mut ref_rows = Vec::new();
    for (al, be, n, vals) in MULTI_REFERENCE {
        if let Some(c) = multi
            .iter()
            .find(|c| same(c.alpha, al) && same(c.beta, be) && c.n == n)
        {
            let ours = [c.bsr, c.sqrt, c.id, c.a];
            for (o, r) in ours.iter().zip(vals) {
                worst_multi = worst_multi.max(rel(*o, r));
            }
            n_multi += 1;
            ref_rows.push(vec![
                format!("({al}, {be})"),
                n.to_string(),
                format!("{} / {}", fmt_num(c.bsr), vals[0]),
                format!("{} / {}", fmt_num(c.sqrt), vals[1]),
                format!("{} / {}", fmt_num(c.id), vals[2]),
                format!("{} / {}", fmt_num(c.a), vals[3]),
            ]);
        }
    }
    report.table(
        "Spec §6.3 multi-participation reference (ours / spec)",
        &["(α, β)", "n", "BSR", "sqrt", "Id", "A"],
        ref_rows,
    )?;
    v.push(Check::validation(
        format!(
            "spec §6.3 multi-participation table ({n_multi} rows × BSR, sqrt, Id, A): max relative deviation"
        ),
        worst_multi,
        Cmp::Le,
        REFERENCE_REL_TOL,
    ));
    let mut worst_single = 0.0_f64;
    let mut n_single = 0;
    for (al, be, n, vals) in SINGLE_REFERENCE {
        if let Some(c) = single
            .iter()
            .find(|c| same(c.alpha, al) && same(c.beta, be) && c.n == n)
        {
            // single participation BSR uses p = n: equal to the full square root
            for (o, r) in [c.bsr, c.sqrt, c.id, c.a]
                .iter()
                .zip([vals[0], vals[0], vals[1], vals[2]])
            {
                worst_single = worst_single.max(rel(*o, r));
            }
            n_single += 1;
        }
    }
    v.push(Check::validation(
        format!(
            "spec §6.3 single-participation table ({n_single} cells × BSR(p = n) = sqrt, Id, A): max relative deviation"
        ),
        worst_single,
        Cmp::Le,
        REFERENCE_REL_TOL,
    ));

    // claims on the multi-participation cells
    v.push(Check::claim(
        "BSR ≤ 0.30·Id in every multi-participation cell: max E_BSR/E_Id",
        max_of(multi.iter().map(|c| c.bsr / c.id)),
        Cmp::Le,
        BSR_OVER_ID_MAX,
    ));
    v.push(Check::claim(
        "BSR < sqrt in every multi-participation cell: max E_BSR/E_sqrt",
        max_of(multi.iter().map(|c| c.bsr / c.sqrt)),
        Cmp::Lt,
        BSR_OVER_SQRT_MAX,
    ));
    let lb_ratios: Vec<f64> = multi
        .iter()
        .chain(&single)
        .filter_map(|c| c.lower.map(|l| c.bsr / l))
        .collect();
    v.push(Check::validation(
        format!(
            "BSR ≥ lower bound √k‖A‖_*/n in every cell with n ≤ {} ({} cells): min E_BSR/bound",
            cfg.lower_bound_max_n,
            lb_ratios.len()
        ),
        min_of(lb_ratios.iter().copied()),
        Cmp::Ge,
        OVER_LOWER_BOUND_MIN,
    ));

    // plots: E vs n per (α, β), multi participation
    for (idx, &(al, be)) in cfg.grid.iter().enumerate() {
        let cs: Vec<&Cell> = multi
            .iter()
            .filter(|c| same(c.alpha, al) && same(c.beta, be))
            .collect();
        let x: Vec<f64> = cs.iter().map(|c| c.n as f64).collect();
        let mut plot = LinePlot::new(
            format!("error_vs_n_{idx}"),
            format!(
                "E vs n, (α, β) = ({al}, {be}), b = {}, k = n/b",
                cfg.min_sep
            ),
            "n (steps)",
            "E = ‖B‖_F·sens/√n",
        )
        .log_x()
        .log_y()
        .with_series(Series::new(
            "BSR (p = b)",
            x.clone(),
            cs.iter().map(|c| c.bsr).collect(),
        ))
        .with_series(Series::new(
            "sqrt",
            x.clone(),
            cs.iter().map(|c| c.sqrt).collect(),
        ))
        .with_series(Series::new(
            "Id (DP-SGD)",
            x.clone(),
            cs.iter().map(|c| c.id).collect(),
        ))
        .with_series(Series::new(
            "A",
            x.clone(),
            cs.iter().map(|c| c.a).collect(),
        ));
        let lbs: Vec<(f64, f64)> = cs
            .iter()
            .filter_map(|c| c.lower.map(|l| (c.n as f64, l)))
            .collect();
        if !lbs.is_empty() {
            plot = plot.with_series(Series::reference(
                "lower bound √k‖A‖_*/n",
                lbs.iter().map(|p| p.0).collect(),
                lbs.iter().map(|p| p.1).collect(),
            ));
        }
        report.line_plot(plot)?;
    }
    let to_json = |c: &Cell| {
        let mut j = json!({"alpha": c.alpha, "beta": c.beta, "n": c.n, "k": c.k, "bsr": c.bsr,
                           "sqrt": c.sqrt, "id": c.id, "a": c.a});
        if let (Some(l), Some(obj)) = (c.lower, j.as_object_mut()) {
            obj.insert("lower_bound".into(), json!(l));
        }
        j
    };
    report.metric(
        "multi",
        json!(multi.iter().map(to_json).collect::<Vec<_>>()),
    )?;
    report.metric(
        "single",
        json!(single.iter().map(to_json).collect::<Vec<_>>()),
    )?;
    Ok((multi, single))
}

/// One AOF instance and the strategies it is compared with.
struct AofCell {
    alpha: f64,
    beta: f64,
    n: usize,
    single: bool,
    aof: Factorization,
    bsr: f64,
    sqrt: f64,
    lower: f64,
    bsr_seconds: f64,
}

/// Item 3: AOF on small sizes, quality and wall time.
fn aof(
    cfg: &Config,
    v: &mut Verdict,
    report: &mut Report,
    _multi: &[Cell],
) -> Result<(), StudyError> {
    report.heading("BSR vs AOF, the optimized factorization (spec §7.1 item 3)");
    let jobs: Vec<(f64, f64, usize, bool)> = cfg
        .aof_grid
        .iter()
        .flat_map(|&(a, b)| {
            cfg.aof_single_ns
                .iter()
                .map(move |&n| (a, b, n, true))
                .chain(cfg.aof_multi_ns.iter().map(move |&n| (a, b, n, false)))
        })
        .collect();
    let opts = AofOptions {
        max_iters: cfg.aof_iters,
        max_seconds: cfg.aof_seconds,
        ..AofOptions::default()
    };
    let reps = cfg.bsr_timing_reps;
    let min_sep = cfg.min_sep;
    let results: Vec<Result<AofCell, StudyError>> = jobs
        .par_iter()
        .map(|&(alpha, beta, n, single)| {
            let w = Workload::momentum(alpha, beta, n)?;
            let part = participation(n, single, min_sep)?;
            let p = if single { n } else { min_sep };
            let aof = factorize(&w, StrategyKind::Aof, part, Some(opts))?;
            // BSR timing: the whole factorization (coefficients, decoder, sensitivity,
            // errors), best of `reps` runs
            let mut best = f64::INFINITY;
            let mut bsr = 0.0;
            for _ in 0..reps {
                let t = Instant::now();
                let f = factorize(&w, StrategyKind::Bsr { bandwidth: p }, part, None)?;
                best = best.min(t.elapsed().as_secs_f64());
                bsr = f.errors.rmse;
            }
            let sqrt = factorize(&w, StrategyKind::Sqrt, part, None)?.errors.rmse;
            let k = part.effective_k(n) as f64;
            let lower = k.sqrt() * nuclear_norm(&w)? / n as f64;
            Ok(AofCell {
                alpha,
                beta,
                n,
                single,
                aof,
                bsr,
                sqrt,
                lower,
                bsr_seconds: best,
            })
        })
        .collect();
    let mut cells = Vec::new();
    for r in results {
        cells.push(r?);
    }
    let rows = cells
        .iter()
        .map(|c| {
            let info = c.aof.aof.as_ref();
            vec![
                format!("({}, {})", c.alpha, c.beta),
                c.n.to_string(),
                if c.single {
                    "1".into()
                } else {
                    format!("{} (b = {})", c.n / min_sep, min_sep)
                },
                fmt_num(c.aof.errors.rmse),
                fmt_num(c.bsr),
                fmt_num(c.sqrt),
                fmt_num(c.lower),
                fmt_num(if c.single {
                    c.sqrt / c.aof.errors.rmse
                } else {
                    c.bsr / c.aof.errors.rmse
                }),
                info.map_or("".into(), |i| i.iterations.to_string()),
                info.map_or("".into(), |i| format!("{:?}", i.stop)),
            ]
        })
        .collect();
    report.table(
        "AOF (L-BFGS over S = CᵀC, PD-preserving line search) vs BSR / sqrt",
        &[
            "(α, β)",
            "n",
            "k",
            "AOF",
            "BSR",
            "sqrt",
            "lower bound",
            "ratio",
            "iterations",
            "stop",
        ],
        rows,
    )?;
    report.note(&format!(
        "ratio = E_BSR/E_AOF for multi participation, E_sqrt/E_AOF for single participation \
         (single-participation BSR is the full square root, p = n). The AOF solver stops at {} \
         iterations (the spec's cap is 3000 iterations / 10 s; quick mode uses {} so that it \
         finishes in time and stays reproducible; {} s is only a safety cap). A cap that binds \
         leaves AOF's error slightly too high, which favours BSR: the `stop` column says which \
         instances converged.",
        cfg.aof_iters, cfg.aof_iters, cfg.aof_seconds
    ));
    let multi_ratios: Vec<f64> = cells
        .iter()
        .filter(|c| !c.single)
        .map(|c| c.bsr / c.aof.errors.rmse)
        .collect();
    let single_ratios: Vec<f64> = cells
        .iter()
        .filter(|c| c.single)
        .map(|c| c.sqrt / c.aof.errors.rmse)
        .collect();
    v.push(Check::claim(
        "E_BSR ≤ 1.10·E_AOF in every multi-participation AOF cell: max E_BSR/E_AOF",
        max_of(multi_ratios.iter().copied()),
        Cmp::Le,
        BSR_OVER_AOF_MAX,
    ));
    v.push(Check::claim(
        "E_sqrt ≤ 1.12·E_AOF in every single-participation AOF cell: max E_sqrt/E_AOF",
        max_of(single_ratios.iter().copied()),
        Cmp::Le,
        SQRT_OVER_AOF_MAX,
    ));
    v.push(Check::validation(
        "AOF ≥ lower bound in every AOF cell: min E_AOF/bound",
        min_of(cells.iter().map(|c| c.aof.errors.rmse / c.lower)),
        Cmp::Ge,
        OVER_LOWER_BOUND_MIN,
    ));
    let n_max = cells.iter().map(|c| c.n).max().unwrap_or(0);
    let largest: Vec<&AofCell> = cells.iter().filter(|c| c.n == n_max).collect();
    let speedups: Vec<f64> = largest
        .iter()
        .map(|c| c.aof.aof.as_ref().map_or(0.0, |i| i.seconds) / c.bsr_seconds.max(1e-9))
        .collect();
    let speedup = min_of(speedups.iter().copied());
    let timing_line: Vec<String> = cells
        .iter()
        .map(|c| {
            format!(
                "({}, {}) n = {} k = {}: AOF {:.3} s, BSR {:.2e} s",
                c.alpha,
                c.beta,
                c.n,
                if c.single { 1 } else { c.n / min_sep },
                c.aof.aof.as_ref().map_or(0.0, |i| i.seconds),
                c.bsr_seconds
            )
        })
        .collect();
    report.paragraph(&format!(
        "Wall times (elapsed, this run; not reproducible bit for bit): {}. Speed-up at the largest AOF size n = {n_max}: {}×.",
        timing_line.join("; "),
        speedups.iter().map(|s| format!("{s:.3e}")).collect::<Vec<_>>().join(", ")
    ));
    v.push(Check::claim(
        format!(
            "BSR wall time ≥ 100× smaller than AOF's at the largest AOF size (n = {n_max}): min AOF/BSR time ratio, recorded capped at {SPEEDUP_RECORD_CAP} (exact ratios on the elapsed line)"
        ),
        speedup.min(SPEEDUP_RECORD_CAP),
        Cmp::Ge,
        SPEEDUP_MIN,
    ));
    // AOF series on the E vs n picture: a small table-like plot per AOF workload
    for (idx, &(al, be)) in cfg.aof_grid.iter().enumerate() {
        let cs: Vec<&AofCell> = cells
            .iter()
            .filter(|c| !c.single && same(c.alpha, al) && same(c.beta, be))
            .collect();
        if cs.len() < 2 {
            continue;
        }
        let x: Vec<f64> = cs.iter().map(|c| c.n as f64).collect();
        report.line_plot(
            LinePlot::new(
                format!("aof_vs_bsr_{idx}"),
                format!("AOF vs BSR, (α, β) = ({al}, {be}), b = {min_sep}"),
                "n (steps)",
                "E",
            )
            .log_x()
            .log_y()
            .with_series(Series::new(
                "AOF",
                x.clone(),
                cs.iter().map(|c| c.aof.errors.rmse).collect(),
            ))
            .with_series(Series::new(
                "BSR (p = b)",
                x.clone(),
                cs.iter().map(|c| c.bsr).collect(),
            ))
            .with_series(Series::new(
                "sqrt",
                x.clone(),
                cs.iter().map(|c| c.sqrt).collect(),
            ))
            .with_series(Series::reference(
                "lower bound",
                x,
                cs.iter().map(|c| c.lower).collect(),
            )),
        )?;
    }
    report.metric(
        "aof",
        json!(cells
            .iter()
            .map(|c| json!({
                "alpha": c.alpha, "beta": c.beta, "n": c.n, "single": c.single,
                "aof": c.aof.errors.rmse, "bsr": c.bsr, "sqrt": c.sqrt, "lower_bound": c.lower,
                "iterations": c.aof.aof.as_ref().map_or(0, |i| i.iterations),
            }))
            .collect::<Vec<_>>()),
    )?;
    Ok(())
}
