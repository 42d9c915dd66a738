//! The experiment and its checks. Every threshold is a `const` below, with its source.

use std::path::PathBuf;

use gdlab_core::{normal::fill_normals, normal::uniform, Seed};
use gdlab_quantum::classical::{simhash_inner_product, Sketch};
use gdlab_quantum::expressivity::distinct_frequencies;
use gdlab_quantum::gnn::data::{read_cora, read_ogb_raw, sbm, NodeDataset, SbmConfig, SplitRule};
use gdlab_quantum::gnn::qmodel::{
    train_node_classifier, Activation, QModelConfig, TrainConfig, TrainOutcome,
};
use gdlab_quantum::model::{dense_state, AliceLayer, DataEncoding, ModelConfig, Observable};
use gdlab_quantum::protocol::{
    classical_gradient_trivial, classical_inference_trivial, gradient_parameter_shift,
    gradient_shadow, inference, sample_z0_from_basis, Accuracy, BasisSampler, ProtocolSize,
    ShadowParams, CLASSICAL_LOWER_BOUND_NOTE,
};
use gdlab_quantum::state::{MemoryBudget, StateVector};
use serde_json::{json, Value};

use super::config::Config;
use crate::report::{fmt_num, LinePlot, Report, Series};
use crate::study::{Mode, RunOpts, StudyError};
use crate::verdict::{Check, Cmp, Verdict};

// ---- Part A thresholds (validation; spec §3 checks 1–5) ----

/// Check 1: max |ψ_fast − ψ_dense| < 1e-10 for n ≤ 4 (spec §3 check 1).
const DENSE_TOL: f64 = 1e-10;
/// Check 1: ‖ψ‖ = 1 ± 1e-12 after every layer (spec §3 check 1).
const NORM_TOL: f64 = 1e-12;
/// Check 1: H_N·H_N = I, max |Δ| on a random state (spec §3 check 1 states it exactly; we
/// allow 1e-12 rounding at n = 16).
const HH_TOL: f64 = 1e-12;
/// Check 2: adjoint vs central differences (h = 1e-5), relative error ≤ 1e-5 (spec §3 check 2).
const FD_REL_TOL: f64 = 1e-5;
/// Check 2: finite-difference step (spec §3 check 2).
const FD_STEP: f64 = 1e-5;
/// Check 2: adjoint vs the exact parameter-shift rule ≤ 1e-10 (spec §3 check 2).
const SHIFT_TOL: f64 = 1e-10;
/// Check 3: with S = 4000 the RMSE lies within 20% of √((1 − ℒ²)/S) (spec §3 check 3).
const SHOT_REL_TOL: f64 = 0.2;
/// Check 3: the shot count the 20% rule applies to (spec §3 check 3).
const SHOT_GATED: u64 = 4000;
/// Check 4: the spec's worked example gives N* = 2^13 at L = 2, ε = δ = 0.05, b = 32
/// (spec §3 check 4: Q(2^12) = 141 696 > 131 072, Q(2^13) = 153 504 < 262 144).
const SPEC_CROSSOVER_QUBITS: f64 = 13.0;
/// Check 4: the local log-log slope of Q_G2 vs N at the largest N stays below this
/// ("slope → 0", spec §3 check 4; \[design\] cut-off: half the classical slope of 1).
const G2_SLOPE_MAX: f64 = 0.5;
/// Check 5: |error| ≤ 0.1 … (spec §3 check 5).
const SKETCH_ERR: f64 = 0.1;
/// Check 5: … in ≥ 95% of the trials, for every N (spec §3 check 5).
const SKETCH_FRACTION: f64 = 0.95;
/// Check 5: the test vectors have |⟨w, x⟩| ≤ 0.9 (spec §3 check 5).
const SKETCH_MAX_COS: f64 = 0.9;

// ---- §2.4 expressivity (claim) ----

/// §2.4 \[design\]: "the count must grow with L (at least linearly)": every extra layer
/// (L ≥ 2) adds at least one distinct frequency, for every n.
const FREQ_MIN_INCREMENT: f64 = 1.0;

// ---- Part B thresholds (claims; spec §5.1 Part B, calibrated there by a NumPy
// re-implementation: node acc 0.924 ± 0.023 PReLU, 0.929 ± 0.021 poly; decision 0.94–1.00) ----

/// Mean test node accuracy of PReLU ≥ 0.85 (spec §5.1 Part B).
const PRELU_NODE_MIN: f64 = 0.85;
/// Mean (poly) ≥ mean (PReLU) − 0.02 (spec §5.1 Part B; the paper: "< 1% loss", Table 1 caption).
const POLY_GAP_MIN: f64 = -0.02;
/// Mean test decision accuracy ≥ 0.75 for both activations (spec §5.1 Part B).
const DECISION_MIN: f64 = 0.75;
/// Full mode (spec §4 acceptance): poly within 1.0 point of PReLU, node and decision.
const FULL_POLY_GAP_MIN: f64 = -0.01;
/// Full mode (spec §4): Cora poly node accuracy within 2.5 points of the README's 78.69
/// (our own random Planetoid-style split).
const FULL_CORA_README: f64 = 0.7869;
/// Full mode: allowed distance to the README number with our own split (spec §4).
const FULL_CORA_TOL: f64 = 0.025;

fn budget() -> MemoryBudget {
    MemoryBudget::bytes(1 << 30)
}

fn random_inputs(n_params: usize, dim: usize, seed: Seed) -> (Vec<f64>, Vec<f64>) {
    let mut rng = seed.rng();
    let theta = (0..n_params)
        .map(|_| 2.0 * std::f64::consts::PI * uniform(&mut rng))
        .collect();
    let x = (0..dim).map(|_| 2.0 * uniform(&mut rng) - 1.0).collect();
    (theta, x)
}

fn model_variants(n_qubits: usize, n_layers: usize) -> Vec<(&'static str, ModelConfig)> {
    let base = ModelConfig {
        n_qubits,
        n_layers,
        ..ModelConfig::default()
    };
    vec![
        ("phase, diagonal, Z₀", base),
        (
            "amplitude, diagonal, Z₀",
            ModelConfig {
                encoding: DataEncoding::Amplitude,
                ..base
            },
        ),
        (
            "phase, diagonal, P₀",
            ModelConfig {
                observable: Observable::P0,
                ..base
            },
        ),
        (
            "phase, RY+CZ (depth 2), Z₀",
            ModelConfig {
                alice: AliceLayer::RyCz { depth: 2 },
                ..base
            },
        ),
    ]
}

pub(super) fn run(
    cfg: &Config,
    opts: &RunOpts,
    report: &mut Report,
) -> Result<Verdict, StudyError> {
    let start = std::time::Instant::now();
    report.intro(
        "Two parties on a quantum network: Alice holds the parameters θ, Bob the data x ∈ R^N, \
         amplitude- or phase-encoded into n = log₂N qubits. The model is \
         `|ψ⟩ = A_L(θ_L)B_L(x)⋯A_1(θ_1)B_1(x)|ψ₀⟩` and its output `ℒ = ⟨ψ|O|ψ⟩`; each message \
         across the cut is the n-qubit register. Inference by repeat-and-measure costs \
         O(L·log N/ε²) qubits, a shadow-tomography gradient polylog(N, P) (theoretical count), \
         while the trivial classical protocol ships Θ(N) bits. Part A checks the simulator, the \
         gradients, the shot noise and the counts; Part B trains the paper's shallow SIGN \
         network with PReLU vs a trainable degree-2 polynomial (spec §5.1).",
    );
    report.note(
        "Provenance: the paper's body could not be read. The concrete model class (§2.0: Bob's \
         `H_N·diag(e^{i s x})`, Alice's `H_N·diag(e^{iθ})`), the parameter-shift protocol G1, \
         the SimHash sketch of the linear case, the expressivity check and the SBM of Part B \
         are **[design]** choices of the spec; the shadow-tomography count G2 is a formula \
         recalled from the literature (unverified constants, `c_st = 1`, exponents 2/1/4) and \
         is labelled a **theoretical count**. The SIGN model, its polynomial initialisation \
         and the decision problem follow the authors' code.",
    );
    let mut v = Verdict::default();
    part_a_simulator(cfg, opts, report, &mut v)?;
    part_a_gradients(cfg, opts, report, &mut v)?;
    part_a_shots(cfg, opts, report, &mut v)?;
    part_a_table(cfg, report, &mut v)?;
    part_a_sketch(cfg, opts, report, &mut v)?;
    expressivity(cfg, opts, report, &mut v)?;
    part_b(cfg, opts, report, &mut v)?;
    if opts.mode == Mode::Full {
        full_datasets(cfg, opts, report, &mut v)?;
    }
    let _ = start;
    Ok(v)
}

fn part_a_simulator(
    cfg: &Config,
    opts: &RunOpts,
    report: &mut Report,
    v: &mut Verdict,
) -> Result<(), StudyError> {
    report.heading("Part A.1: simulator against dense matrices (spec §3 check 1)");
    let mut rows = Vec::new();
    let (mut worst_dense, mut worst_norm) = (0.0f64, 0.0f64);
    for &n in &cfg.dense_qubits {
        for (i, (name, mc)) in model_variants(n, cfg.n_layers).into_iter().enumerate() {
            let m = mc.build(&budget())?;
            let (theta, x) = random_inputs(
                m.n_params(),
                m.dim(),
                opts.seed.derive("dense").index((n * 10 + i) as u64),
            );
            let fast = m.state(&theta, &x)?;
            let dense = dense_state(&m, &theta, &x)?;
            let d = fast
                .amplitudes()
                .iter()
                .zip(&dense)
                .map(|(a, b)| (a - b).norm())
                .fold(0.0, f64::max);
            let norm_dev = m
                .layer_states(&theta, &x)?
                .iter()
                .map(|s| (s.norm() - 1.0).abs())
                .fold(0.0, f64::max);
            worst_dense = worst_dense.max(d);
            worst_norm = worst_norm.max(norm_dev);
            rows.push(vec![
                n.to_string(),
                name.to_string(),
                fmt_num(d),
                fmt_num(norm_dev),
                fmt_num(m.loss(&theta, &x)?),
            ]);
        }
    }
    // H_N · H_N = I on a random state, n up to 16
    let mut worst_hh = 0.0f64;
    for n in [2usize, 8, 16] {
        let mut rng = opts.seed.derive("hh").index(n as u64).rng();
        let mut re = vec![0.0; 1 << n];
        let mut im = vec![0.0; 1 << n];
        fill_normals(&mut rng, &mut re);
        fill_normals(&mut rng, &mut im);
        let psi = StateVector::from_amplitudes(
            re.iter()
                .zip(&im)
                .map(|(&a, &b)| num_complex_c(a, b))
                .collect(),
        )?;
        let mut h = psi.clone();
        h.walsh_hadamard();
        h.walsh_hadamard();
        let d = h
            .amplitudes()
            .iter()
            .zip(psi.amplitudes())
            .map(|(a, b)| (a - b).norm())
            .fold(0.0, f64::max);
        worst_hh = worst_hh.max(d);
    }
    report.table(
        &format!(
            "Fast kernels (FWHT, phase layers, RY/CZ) vs explicit N×N matrix products, L = {}, random θ, x",
            cfg.n_layers
        ),
        &["n", "model", "max |Δψ|", "max |‖ψ‖ − 1| over layers", "ℒ"],
        rows,
    )?;
    report.number("dense_max_abs_diff", worst_dense)?;
    report.number("max_norm_deviation", worst_norm)?;
    report.number("hh_max_abs_diff", worst_hh)?;
    v.push(Check::validation(
        "simulator = dense matrices: max |Δψ| over n ∈ {2,3,4} and 4 model variants",
        worst_dense,
        Cmp::Lt,
        DENSE_TOL,
    ));
    v.push(Check::validation(
        "unitarity: max |‖ψ‖ − 1| after every layer",
        worst_norm,
        Cmp::Le,
        NORM_TOL,
    ));
    v.push(Check::validation(
        "H_N·H_N = I: max |Δ| on random states, n ∈ {2, 8, 16}",
        worst_hh,
        Cmp::Le,
        HH_TOL,
    ));
    Ok(())
}

fn num_complex_c(re: f64, im: f64) -> gdlab_quantum::Complex64 {
    gdlab_quantum::Complex64::new(re, im)
}

fn part_a_gradients(
    cfg: &Config,
    opts: &RunOpts,
    report: &mut Report,
    v: &mut Verdict,
) -> Result<(), StudyError> {
    report.heading("Part A.2: adjoint gradient (spec §2.2, §3 check 2)");
    let n = cfg.grad_qubits;
    let mut rows = Vec::new();
    let (mut worst_fd, mut worst_ps) = (0.0f64, 0.0f64);
    for (i, (name, mc)) in model_variants(n, cfg.n_layers).into_iter().enumerate() {
        let m = mc.build(&budget())?;
        let (theta, x) = random_inputs(
            m.n_params(),
            m.dim(),
            opts.seed.derive("grad").index(i as u64),
        );
        let mut g = vec![0.0; m.n_params()];
        m.loss_grad(&theta, &x, &mut g)?;
        let mut fd = vec![0.0; m.n_params()];
        m.finite_difference_grad(&theta, &x, FD_STEP, &mut fd)?;
        let mut ps = vec![0.0; m.n_params()];
        m.parameter_shift_grad(&theta, &x, &mut ps)?;
        let scale = g.iter().fold(0.0f64, |a, b| a.max(b.abs()));
        let rel_fd = g
            .iter()
            .zip(&fd)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max)
            / scale;
        let abs_ps = g
            .iter()
            .zip(&ps)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        worst_fd = worst_fd.max(rel_fd);
        worst_ps = worst_ps.max(abs_ps);
        rows.push(vec![
            name.to_string(),
            m.params_per_layer().to_string(),
            m.n_params().to_string(),
            fmt_num(scale),
            fmt_num(rel_fd),
            fmt_num(abs_ps),
        ]);
    }
    report.table(
        &format!(
            "n = {n}, L = {}: adjoint vs central differences (h = 1e-5) and the exact shift rule",
            cfg.n_layers
        ),
        &[
            "model",
            "P",
            "L·P",
            "max |∂ℒ|",
            "max |adj − FD| / max |∂ℒ|",
            "max |adj − shift|",
        ],
        rows,
    )?;
    report.number("grad_fd_rel_err", worst_fd)?;
    report.number("grad_shift_abs_err", worst_ps)?;
    v.push(Check::validation(
        "adjoint gradient = central differences (relative to max |∂ℒ|)",
        worst_fd,
        Cmp::Le,
        FD_REL_TOL,
    ));
    v.push(Check::validation(
        "adjoint gradient = parameter-shift rule (exact, no shots)",
        worst_ps,
        Cmp::Le,
        SHIFT_TOL,
    ));
    Ok(())
}

fn part_a_shots(
    cfg: &Config,
    opts: &RunOpts,
    report: &mut Report,
    v: &mut Verdict,
) -> Result<(), StudyError> {
    report.heading("Part A.3: shot noise of the sampled estimator (spec §2.1(b), §3 check 3)");
    let m = ModelConfig {
        n_qubits: cfg.shot_qubits,
        n_layers: cfg.n_layers,
        ..ModelConfig::default()
    }
    .build(&budget())?;
    let (theta, x) = random_inputs(m.n_params(), m.dim(), opts.seed.derive("shots-model"));
    let psi = m.state(&theta, &x)?;
    let l = m.observe(&psi);
    let sampler = BasisSampler::new(&psi.probabilities())?;
    let mut rows = Vec::new();
    let (mut xs, mut rmse, mut theory) = (Vec::new(), Vec::new(), Vec::new());
    let mut gated = f64::MAX;
    for (si, &s) in cfg.shots.iter().enumerate() {
        let mut sq = 0.0;
        for r in 0..cfg.shot_reps {
            let mut rng = opts
                .seed
                .derive("shots")
                .index((si * 1_000_000 + r) as u64)
                .rng();
            let e = sample_z0_from_basis(&sampler, s, &mut rng) - l;
            sq += e * e;
        }
        let obs = (sq / cfg.shot_reps as f64).sqrt();
        let th = ((1.0 - l * l) / s as f64).sqrt();
        let rel = (obs / th - 1.0).abs();
        if s == SHOT_GATED {
            gated = rel;
        }
        xs.push(s as f64);
        rmse.push(obs);
        theory.push(th);
        rows.push(vec![
            s.to_string(),
            fmt_num(obs),
            fmt_num(th),
            fmt_num(obs / th),
        ]);
    }
    report.paragraph(&format!(
        "n = {}, L = {}, exact ℒ = {}; each shot draws a basis state from |ψ_j|² and records \
         (−1)^(bit 0); {} independent estimates per S.",
        cfg.shot_qubits,
        cfg.n_layers,
        fmt_num(l),
        cfg.shot_reps
    ));
    report.table(
        "RMSE of the S-shot estimate vs √((1 − ℒ²)/S)",
        &["S", "RMSE", "√((1 − ℒ²)/S)", "ratio"],
        rows,
    )?;
    report.line_plot(
        LinePlot::new("shot_noise", "Estimator error vs shots", "shots S", "RMSE")
            .log_x()
            .log_y()
            .with_series(Series::new("observed RMSE", xs.clone(), rmse).line_markers())
            .with_series(Series::reference("√((1 − ℒ²)/S)", xs, theory).dashed())
            .with_caption("The sampled inference estimate follows the Bernoulli law (slope −1/2)."),
    )?;
    report.number("shot_exact_loss", l)?;
    report.number("shot_rel_dev_s4000", gated)?;
    v.push(Check::validation(
        "shot noise: |RMSE/√((1 − ℒ²)/S) − 1| at S = 4000",
        gated,
        Cmp::Le,
        SHOT_REL_TOL,
    ));
    Ok(())
}

fn slope(x0: f64, y0: f64, x1: f64, y1: f64) -> f64 {
    (y1.ln() - y0.ln()) / (x1.ln() - x0.ln())
}

fn part_a_table(cfg: &Config, report: &mut Report, v: &mut Verdict) -> Result<(), StudyError> {
    report.heading("Part A.4: communication table (spec §2.1–2.3, §3 check 4)");
    let acc = Accuracy::new(cfg.eps, cfg.delta)?;
    let shadow = ShadowParams::default();
    let mut rows = Vec::new();
    let mut cols: Vec<Vec<f64>> = vec![Vec::new(); 7];
    let mut crossover: Option<u32> = None;
    for nq in cfg.table_qubits.clone() {
        let size = ProtocolSize::diagonal(nq, cfg.table_layers);
        let qi = inference(&size, &acc)?;
        let g1 = gradient_parameter_shift(&size, &acc)?;
        let g2 = gradient_shadow(&size, &acc, &shadow)?;
        let ct = classical_inference_trivial(&size, cfg.bits_per_real)?;
        let cg = classical_gradient_trivial(&size, cfg.bits_per_real)?;
        if crossover.is_none() && qi.qubits < ct.classical_bits {
            crossover = Some(nq);
        }
        let big_n = size.dim_f64();
        for (c, val) in cols.iter_mut().zip([
            big_n,
            f64::from(nq),
            qi.qubits as f64,
            g1.qubits as f64,
            g2.qubits as f64,
            ct.classical_bits as f64,
            cg.classical_bits as f64,
        ]) {
            c.push(val);
        }
        rows.push(vec![
            format!("2^{nq}"),
            nq.to_string(),
            qi.qubits.to_string(),
            g1.qubits.to_string(),
            g2.qubits.to_string(),
            ct.classical_bits.to_string(),
            cg.classical_bits.to_string(),
        ]);
    }
    let s = acc.shots(Observable::Z0);
    report.paragraph(&format!(
        "L = {}, ε = {}, δ = {}, S = ⌈2 ln(2/δ)/ε²⌉ = {s} shots, P = N (diagonal layers), b = {} \
         bits per real. Q_infer = S·2L·n; Q_G1 = 2·P·L·S·2L·n; Q_G2 = L·C·2L·(n+1) with \
         C = ⌈log₂²P·log₂(2^(n+1))/ε⁴⌉ (**theoretical count**); C_triv = min(N·b, L·P·b); \
         C_grad = min(N·b, 2·L·P·b) (the spec prints `min(N·b + P·L·b, P·L·b)`, which always \
         equals P·L·b and drops the return message it describes; both are Θ(N)). {}.",
        cfg.table_layers, cfg.eps, cfg.delta, cfg.bits_per_real, CLASSICAL_LOWER_BOUND_NOTE
    ));
    report.table(
        "Communication per inference / gradient step (qubits for quantum, bits for classical)",
        &[
            "N",
            "n",
            "Q_infer",
            "Q_G1",
            "Q_G2 (theoretical)",
            "C_triv",
            "C_grad",
        ],
        rows,
    )?;
    report.csv(
        "comm_table",
        &["N", "n", "Q_infer", "Q_G1", "Q_G2", "C_triv", "C_grad"],
        &cols,
    )?;
    let ratio_spread = |num: &[f64], den: &[f64]| {
        let r: Vec<f64> = num.iter().zip(den).map(|(a, b)| a / b).collect();
        let (lo, hi) = r
            .iter()
            .fold((f64::MAX, f64::MIN), |(l, h), x| (l.min(*x), h.max(*x)));
        hi / lo - 1.0
    };
    let q_over_n = ratio_spread(&cols[2], &cols[1]);
    let c_over_n = ratio_spread(&cols[5], &cols[0]);
    let p_n: Vec<f64> = cols[0].iter().zip(&cols[1]).map(|(a, b)| a * b).collect();
    let g1_over_pn = ratio_spread(&cols[3], &p_n);
    let k = cols[0].len();
    let g2_slope = slope(
        cols[0][k - 2],
        cols[4][k - 2],
        cols[0][k - 1],
        cols[4][k - 1],
    );
    let g2_first_slope = slope(cols[0][0], cols[4][0], cols[0][1], cols[4][1]);
    let cg_slope = slope(
        cols[0][k - 2],
        cols[6][k - 2],
        cols[0][k - 1],
        cols[6][k - 1],
    );
    let slopes: Vec<f64> = (1..k)
        .map(|i| slope(cols[0][i - 1], cols[4][i - 1], cols[0][i], cols[4][i]))
        .collect();
    let g2_decreasing = slopes.windows(2).all(|w| w[1] < w[0]);
    let nstar = crossover.map_or(f64::MAX, f64::from);
    report.paragraph(&format!(
        "Crossover: the first N = 2^n where Q_infer < C_triv is **N* = 2^{}** (computed). \
         Log-log slope of Q_G2 vs N: {} at the smallest N, {} at the largest (decreasing at \
         every step: {g2_decreasing}); of C_grad: {}. Q_G2 exceeds C_grad over the whole \
         range at ε = {}: the 1/ε⁴ factor pushes its crossover far beyond 2^20 (spec §7 \
         pitfall 3).",
        crossover.map_or("none".to_string(), |c| c.to_string()),
        fmt_num(g2_first_slope),
        fmt_num(g2_slope),
        fmt_num(cg_slope),
        cfg.eps
    ));
    let mk =
        |label: &str, i: usize| Series::new(label, cols[0].clone(), cols[i].clone()).line_markers();
    report.line_plot(
        LinePlot::new("communication", "Communication per step vs N", "N", "qubits / bits")
            .log_x()
            .log_y()
            .with_series(mk("quantum inference", 2))
            .with_series(mk("G1 parameter shift", 3))
            .with_series(mk("G2 shadow tomography (theoretical)", 4))
            .with_series(mk("classical inference (trivial)", 5).dashed())
            .with_series(mk("classical gradient (trivial)", 6).dashed())
            .with_caption("Quantum counts grow polylogarithmically in N (G1 linearly, since P = N); classical ones linearly."),
    )?;
    report.number("crossover_n_qubits", nstar)?;
    report.number("q_infer_over_n_spread", q_over_n)?;
    report.number("c_triv_over_N_spread", c_over_n)?;
    report.number("g1_over_pn_spread", g1_over_pn)?;
    report.number("g2_loglog_slope_last", g2_slope)?;
    report.number("c_grad_loglog_slope_last", cg_slope)?;
    v.push(Check::validation(
        "Q_infer/n constant over N = 2^4…2^20 (max/min − 1)",
        q_over_n,
        Cmp::Le,
        0.0,
    ));
    v.push(Check::validation(
        "C_triv/N constant over N = 2^4…2^20 (max/min − 1)",
        c_over_n,
        Cmp::Le,
        0.0,
    ));
    v.push(Check::validation(
        "Q_G1/(P·n) constant (linear in P) (max/min − 1)",
        g1_over_pn,
        Cmp::Le,
        0.0,
    ));
    v.push(Check::validation(
        "crossover N* = 2^n (n) equals the spec's worked example",
        nstar,
        Cmp::Le,
        SPEC_CROSSOVER_QUBITS,
    ));
    v.push(Check::validation(
        "crossover N* = 2^n (n) is not below the spec's worked example",
        nstar,
        Cmp::Ge,
        SPEC_CROSSOVER_QUBITS,
    ));
    v.push(Check::validation(
        "log-log slope of Q_G2 vs N at N = 2^20 (→ 0; decreasing at every step)",
        if g2_decreasing { g2_slope } else { f64::MAX },
        Cmp::Lt,
        G2_SLOPE_MAX,
    ));
    v.push(Check::validation(
        "log-log slope of C_grad vs N at N = 2^20 is 1 (|slope − 1|)",
        (cg_slope - 1.0).abs(),
        Cmp::Le,
        1e-12,
    ));
    Ok(())
}

fn unit_pair(n: usize, seed: Seed) -> (Vec<f64>, Vec<f64>, f64) {
    let mut rng = seed.rng();
    loop {
        let mut w = vec![0.0; n];
        let mut x = vec![0.0; n];
        fill_normals(&mut rng, &mut w);
        // mix in w so the cosines cover (−0.9, 0.9), not only ≈ 0 at large N
        fill_normals(&mut rng, &mut x);
        let t = 2.0 * uniform(&mut rng) - 1.0;
        let nw = w.iter().map(|a| a * a).sum::<f64>().sqrt();
        w.iter_mut().for_each(|a| *a /= nw);
        let nx = x.iter().map(|a| a * a).sum::<f64>().sqrt();
        x.iter_mut().for_each(|a| *a /= nx);
        // x ← t·w + √(1 − t²)·x⊥ direction mix (then renormalise)
        for (xi, wi) in x.iter_mut().zip(&w) {
            *xi = t * wi + (1.0 - t * t).sqrt() * *xi;
        }
        let nx = x.iter().map(|a| a * a).sum::<f64>().sqrt();
        x.iter_mut().for_each(|a| *a /= nx);
        let c: f64 = w.iter().zip(&x).map(|(a, b)| a * b).sum();
        if c.abs() <= SKETCH_MAX_COS {
            return (w, x, c);
        }
    }
}

fn part_a_sketch(
    cfg: &Config,
    opts: &RunOpts,
    report: &mut Report,
    v: &mut Verdict,
) -> Result<(), StudyError> {
    report.heading("Part A.5: the linear case, SimHash sketch (spec §2.3, §3 check 5)");
    let mut rows = Vec::new();
    let mut worst = f64::MAX;
    for &nq in &cfg.sketch_qubits {
        let n = 1usize << nq;
        let mut ok = 0usize;
        let mut max_err = 0.0f64;
        for t in 0..cfg.sketch_trials {
            let (w, x, c) = unit_pair(
                n,
                opts.seed
                    .derive("sketch-data")
                    .index((u64::from(nq) << 32) + t as u64),
            );
            let e = simhash_inner_product(
                &w,
                &x,
                cfg.sketch_bits,
                Sketch::Structured,
                opts.seed
                    .derive("sketch-coins")
                    .index((u64::from(nq) << 32) + t as u64),
            )?;
            let err = (e.estimate - c).abs();
            max_err = max_err.max(err);
            ok += usize::from(err <= SKETCH_ERR);
        }
        let frac = ok as f64 / cfg.sketch_trials as f64;
        worst = worst.min(frac);
        rows.push(vec![
            format!("2^{nq}"),
            cfg.sketch_bits.to_string(),
            fmt_num(frac),
            fmt_num(max_err),
        ]);
    }
    report.paragraph(&format!(
        "For ℒ = ⟨w, x⟩ with unit vectors, Bob sends k = {} sign bits of a structured sketch \
         (random signs, Walsh–Hadamard, random coordinates; public coins) **[design]**; Alice \
         estimates cos(π(1 − p)) from the agreement fraction p. The same k serves every N, so \
         the classical cost is independent of N: no exponential quantum advantage for linear \
         models (the paper's claim for linear classification, abstract v2).",
        cfg.sketch_bits
    ));
    report.table(
        &format!(
            "{} trials per N, random unit pairs with |⟨w, x⟩| ≤ 0.9",
            cfg.sketch_trials
        ),
        &["N", "k bits", "fraction |error| ≤ 0.1", "max |error|"],
        rows,
    )?;
    report.number("sketch_min_fraction", worst)?;
    v.push(Check::validation(
        "SimHash (k = 2048, same for all N): worst-N fraction of trials with |error| ≤ 0.1",
        worst,
        Cmp::Ge,
        SKETCH_FRACTION,
    ));
    Ok(())
}

fn expressivity(
    cfg: &Config,
    opts: &RunOpts,
    report: &mut Report,
    v: &mut Verdict,
) -> Result<(), StudyError> {
    report.heading("Expressivity: Fourier frequencies vs depth (spec §2.4, [design])");
    let mut rows = Vec::new();
    let mut min_inc = f64::MAX;
    let lmax = cfg.expressivity_layers.iter().copied().max().unwrap_or(1);
    let mut series = Vec::new();
    for &n in &cfg.expressivity_qubits {
        let dim = 1usize << n;
        let (theta, x) = random_inputs(
            lmax * dim,
            dim,
            opts.seed.derive("expressivity").index(n as u64),
        );
        let counts: Vec<usize> = cfg
            .expressivity_layers
            .iter()
            .map(|&l| distinct_frequencies(n, l, &theta[..l * dim], &x))
            .collect::<Result<_, _>>()?;
        for w in counts.windows(2).skip(1) {
            min_inc = min_inc.min(w[1] as f64 - w[0] as f64);
        }
        let mut row = vec![n.to_string()];
        row.extend(counts.iter().map(|c| c.to_string()));
        rows.push(row);
        series.push(
            Series::new(
                format!("n = {n}"),
                cfg.expressivity_layers.iter().map(|&l| l as f64).collect(),
                counts.iter().map(|&c| c as f64).collect(),
            )
            .line_markers(),
        );
    }
    report.paragraph(
        "Distinct frequencies of t ↦ ℒ(θ, x + t·v) with v_j = j (data scale 1), counted from an \
         FFT on a grid finer than twice the largest possible frequency L·(N − 1). Deviation: \
         the spec shifts along v = 1, which only multiplies each Bob layer by the global phase \
         e^{it} and leaves ℒ constant; v_j = j makes the count informative. B₁ acts on |0⟩, so \
         L = 1 has a single (constant) frequency.",
    );
    let mut headers = vec!["n".to_string()];
    headers.extend(cfg.expressivity_layers.iter().map(|l| format!("L = {l}")));
    let hdr: Vec<&str> = headers.iter().map(String::as_str).collect();
    report.table("Distinct non-negative frequencies of ℒ(t)", &hdr, rows)?;
    let mut plot = LinePlot::new(
        "expressivity",
        "Distinct Fourier frequencies vs depth",
        "layers L",
        "frequencies",
    )
    .integer_x();
    for s in series {
        plot = plot.with_series(s);
    }
    report.line_plot(plot.with_caption(
        "More layers, more frequencies (the paper: expressivity grows with depth).",
    ))?;
    report.number("expressivity_min_increment", min_inc)?;
    v.push(Check::claim(
        "expressivity: min over n of the frequencies added by each extra layer (L ≥ 2)",
        min_inc,
        Cmp::Ge,
        FREQ_MIN_INCREMENT,
    ));
    Ok(())
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len().max(1) as f64
}

fn per_seed(xs: &[f64]) -> String {
    xs.iter()
        .map(|x| fmt_num(*x))
        .collect::<Vec<_>>()
        .join(" / ")
}

fn train_pair(
    ds: &NodeDataset,
    hops: usize,
    hidden: usize,
    tc: &TrainConfig,
    seed: Seed,
) -> Result<(TrainOutcome, TrainOutcome), StudyError> {
    let base = QModelConfig {
        hops,
        hidden,
        input_dropout: 0.3,
        dropout: 0.4,
        activation: Activation::Prelu,
    };
    let prelu = train_node_classifier(ds, &base, tc, seed)?;
    let poly = train_node_classifier(
        ds,
        &QModelConfig {
            activation: Activation::Poly { degree: 2 },
            ..base
        },
        tc,
        seed,
    )?;
    Ok((prelu, poly))
}

fn part_b(
    cfg: &Config,
    opts: &RunOpts,
    report: &mut Report,
    v: &mut Verdict,
) -> Result<(), StudyError> {
    report.heading("Part B: SIGN QModel, PReLU vs trainable degree-2 polynomial (spec §5.1)");
    let tc = TrainConfig {
        learning_rate: cfg.gnn_learning_rate,
        weight_decay: 0.0,
        epochs: cfg.gnn_epochs,
        eval_every: 10,
        chunk_size: 1000,
    };
    let sbm_cfg = SbmConfig::default();
    let mut res: Vec<(TrainOutcome, TrainOutcome)> = Vec::new();
    for s in 0..cfg.gnn_seeds {
        let seed = opts.seed.derive("gnn").index(s as u64);
        let ds = sbm(&sbm_cfg, seed)?;
        res.push(train_pair(&ds, cfg.gnn_hops, cfg.gnn_hidden, &tc, seed)?);
    }
    let node_p: Vec<f64> = res.iter().map(|r| r.0.test_node_acc).collect();
    let node_q: Vec<f64> = res.iter().map(|r| r.1.test_node_acc).collect();
    let dec_p: Vec<f64> = res.iter().map(|r| r.0.test_decision_acc).collect();
    let dec_q: Vec<f64> = res.iter().map(|r| r.1.test_decision_acc).collect();
    let diverged = res
        .iter()
        .filter(|r| r.0.diverged_at.is_some() || r.1.diverged_at.is_some())
        .count();
    report.paragraph(&format!(
        "SBM with classes 240/180/120/60 (p_in = 0.05, p_out = 0.005, self-loops), 32-dim features \
         μ_c + N(0, 0.8²), split 20/30/50% **[design]**. T = rownorm(D^(−1/2)AD^(−1/2)), R = {} \
         hops, hidden {} per block, input dropout 0.3, dropout 0.4, PyTorch-style uniform init; \
         full-batch Adam (gdlab's, via gdlab-nn), lr {}, {} epochs, evaluation every 10 epochs, \
         test accuracy at the best validation accuracy (decision accuracy selected separately). \
         Poly starts at (0.01694, 0.5, 0.30784) and is trainable. {} seeds; {} run pair(s) \
         diverged.",
        cfg.gnn_hops, cfg.gnn_hidden, cfg.gnn_learning_rate, cfg.gnn_epochs, cfg.gnn_seeds, diverged
    ));
    report.table(
        "Test accuracy (per seed and mean)",
        &[
            "activation",
            "node accuracy (per seed)",
            "mean",
            "decision accuracy (per seed)",
            "mean",
        ],
        vec![
            vec![
                "PReLU".into(),
                per_seed(&node_p),
                fmt_num(mean(&node_p)),
                per_seed(&dec_p),
                fmt_num(mean(&dec_p)),
            ],
            vec![
                "poly (deg 2)".into(),
                per_seed(&node_q),
                fmt_num(mean(&node_q)),
                per_seed(&dec_q),
                fmt_num(mean(&dec_q)),
            ],
        ],
    )?;
    let xs: Vec<f64> = (0..cfg.gnn_seeds).map(|s| s as f64).collect();
    let flat = |y: f64| vec![y; xs.len()];
    report.line_plot(
        LinePlot::new("accuracy", "Test accuracy per seed: PReLU vs poly", "seed", "accuracy")
            .integer_x()
            .with_series(Series::new("node, PReLU", xs.clone(), node_p.clone()).markers_only().color(0))
            .with_series(Series::new("node, poly", xs.clone(), node_q.clone()).markers_only().color(1))
            .with_series(Series::new("decision, PReLU", xs.clone(), dec_p.clone()).markers_only().color(2))
            .with_series(Series::new("decision, poly", xs.clone(), dec_q.clone()).markers_only().color(3))
            .with_series(Series::reference("mean node, PReLU", xs.clone(), flat(mean(&node_p))).dashed().color(0))
            .with_series(Series::reference("mean node, poly", xs.clone(), flat(mean(&node_q))).dashed().color(1))
            .with_caption("Per-seed accuracies (markers) and means (dashed); the report's plot API has no bar charts, so the 'bars' are drawn as a dot plot."),
    )?;
    report.csv(
        "gnn_per_seed",
        &[
            "seed",
            "node_prelu",
            "node_poly",
            "decision_prelu",
            "decision_poly",
        ],
        &[
            xs,
            node_p.clone(),
            node_q.clone(),
            dec_p.clone(),
            dec_q.clone(),
        ],
    )?;
    report.metric(
        "gnn",
        json!({
            "node_prelu": node_p, "node_poly": node_q,
            "decision_prelu": dec_p, "decision_poly": dec_q,
            "diverged_pairs": diverged,
        }),
    )?;
    v.push(Check::claim(
        "mean test node accuracy, PReLU",
        mean(&node_p),
        Cmp::Ge,
        PRELU_NODE_MIN,
    ));
    v.push(Check::claim(
        "mean node accuracy poly − PReLU (poly loses at most 2 points)",
        mean(&node_q) - mean(&node_p),
        Cmp::Ge,
        POLY_GAP_MIN,
    ));
    v.push(Check::claim(
        "mean test decision accuracy, PReLU",
        mean(&dec_p),
        Cmp::Ge,
        DECISION_MIN,
    ));
    v.push(Check::claim(
        "mean test decision accuracy, poly",
        mean(&dec_q),
        Cmp::Ge,
        DECISION_MIN,
    ));
    Ok(())
}

/// Full mode, spec §5.2: datasets from user-supplied folders named by environment variables
/// (`GDLAB_QUANTUM_CORA` = folder with `cora.content` / `cora.cites`; `GDLAB_QUANTUM_OGB` =
/// folder in the OGB raw layout). `GDLAB_QUANTUM_EPOCHS` and `GDLAB_QUANTUM_HIDDEN` override
/// the code's 1000 epochs and hidden 512.
fn full_datasets(
    cfg: &Config,
    opts: &RunOpts,
    report: &mut Report,
    v: &mut Verdict,
) -> Result<(), StudyError> {
    report.heading("Full scale: user-supplied datasets (spec §5.2)");
    let env_usize = |k: &str, d: usize| {
        std::env::var(k)
            .ok()
            .and_then(|s| s.parse::<usize>().ok())
            .filter(|&x| x > 0)
            .unwrap_or(d)
    };
    let epochs = env_usize("GDLAB_QUANTUM_EPOCHS", 1000);
    let hidden = env_usize("GDLAB_QUANTUM_HIDDEN", 512);
    let tc = TrainConfig {
        epochs,
        ..TrainConfig::default()
    };
    let mut any = false;
    let mut metrics = serde_json::Map::new();
    for (key, name) in [("GDLAB_QUANTUM_CORA", "cora"), ("GDLAB_QUANTUM_OGB", "ogb")] {
        let Ok(dir) = std::env::var(key) else {
            continue;
        };
        any = true;
        let dir = PathBuf::from(dir);
        let ds = if name == "cora" {
            read_cora(
                &dir,
                "cora",
                false,
                &SplitRule::PerClass {
                    per_class: 20,
                    n_val: 500,
                    n_test: 1000,
                },
                opts.seed.derive("cora-split"),
            )?
        } else {
            read_ogb_raw(
                &dir,
                false,
                &SplitRule::Random(0.6, 0.2, 0.2),
                opts.seed.derive("ogb-split"),
            )?
        };
        let seeds = cfg.gnn_seeds.min(3);
        let mut res = Vec::new();
        for s in 0..seeds {
            res.push(train_pair(
                &ds,
                5,
                hidden,
                &tc,
                opts.seed.derive(name).index(s as u64),
            )?);
        }
        let np: Vec<f64> = res.iter().map(|r| r.0.test_node_acc).collect();
        let nq: Vec<f64> = res.iter().map(|r| r.1.test_node_acc).collect();
        let dp: Vec<f64> = res.iter().map(|r| r.0.test_decision_acc).collect();
        let dq: Vec<f64> = res.iter().map(|r| r.1.test_decision_acc).collect();
        let size = ProtocolSize::diagonal(
            ((ds.n_nodes() * ds.n_features) as f64).log2().ceil() as u32,
            1,
        );
        let acc = Accuracy::new(0.05, 0.05)?;
        let qi = inference(&size, &acc)?;
        let ct = classical_inference_trivial(&size, 32)?;
        report.table(
            &format!(
                "{name}: {} nodes, {} features, {} classes; R = 5, hidden {hidden}, lr 1e-3, {epochs} epochs, {seeds} seeds",
                ds.n_nodes(), ds.n_features, ds.n_classes
            ),
            &["activation", "node accuracy", "mean", "decision accuracy", "mean"],
            vec![
                vec!["PReLU".into(), per_seed(&np), fmt_num(mean(&np)), per_seed(&dp), fmt_num(mean(&dp))],
                vec!["poly".into(), per_seed(&nq), fmt_num(mean(&nq)), per_seed(&dq), fmt_num(mean(&dq))],
            ],
        )?;
        report.paragraph(&format!(
            "Communication for N = nodes × features ≈ 2^{}: quantum inference {} qubits (L = 1, \
             ε = δ = 0.05) vs {} bits to ship the data.",
            size.n_qubits, qi.qubits, ct.classical_bits
        ));
        metrics.insert(
            name.into(),
            json!({"node_prelu": np, "node_poly": nq, "decision_prelu": dp, "decision_poly": dq}),
        );
        v.push(Check::claim(
            format!("{name}: mean node accuracy poly − PReLU (within 1 point)"),
            mean(&nq) - mean(&np),
            Cmp::Ge,
            FULL_POLY_GAP_MIN,
        ));
        v.push(Check::claim(
            format!("{name}: mean decision accuracy poly − PReLU (within 1 point)"),
            mean(&dq) - mean(&dp),
            Cmp::Ge,
            FULL_POLY_GAP_MIN,
        ));
        if name == "cora" {
            v.push(Check::claim(
                "cora: |mean poly node accuracy − README 78.69%| (own random split: 2.5 points)",
                (mean(&nq) - FULL_CORA_README).abs(),
                Cmp::Le,
                FULL_CORA_TOL,
            ));
        }
    }
    if !any {
        report.note(
            "No dataset folder given: set `GDLAB_QUANTUM_CORA` (cora.content, cora.cites) and/or \
             `GDLAB_QUANTUM_OGB` (edges.csv, features.npy|csv, labels.csv, split/) to run the \
             full-scale node-classification comparison. Nothing was downloaded.",
        );
    }
    report.metric("full", Value::Object(metrics))?;
    Ok(())
}
