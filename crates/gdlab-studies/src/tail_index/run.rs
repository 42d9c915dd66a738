//! The experiment and its checks. Every threshold is a `const` below, citing spec §5.1.

use std::time::Instant;

use gdlab_core::normal::{fill_normals, uniform};
use gdlab_core::Seed;
use gdlab_diagnostics::mmo::mmo_multi;
use gdlab_diagnostics::stable::{iid_matrix, SymmetricStable};
use gdlab_diagnostics::trajectory::{tail_index, Mode as EstMode, TailIndexConfig};
use gdlab_nn::candle_core::{Device, Tensor};
use gdlab_nn::{
    cross_entropy, n_correct, Dataset, GdOptimizer, Mlp, MlpConfig, Model, ParamSet, RecordSink,
    TrajectoryRecorder,
};
use gdlab_optim::alias::{sgd, Sgd};
use gdlab_optim::transform::MomentumConfig;
use rayon::prelude::*;
use serde_json::json;

use super::config::Config;
use super::stats::{kendall_tau_b, spearman};
use crate::report::{fmt_num, LinePlot, Report, Series};
use crate::study::{Mode, RunOpts, StudyError};
use crate::verdict::{Check, Cmp, Verdict};

// ---- Thresholds (spec §5.1) ----

/// A1, A2: every |α̂ − α| ≤ 0.10 (spec §5.1 PASS_A1, PASS_A2).
const RECOVERY_TOL: f64 = 0.10;
/// A3: α̂ strictly increasing in α: the smallest successive difference must be > 0
/// (spec §5.1 item 3).
const MONOTONE_MIN_STEP: f64 = 0.0;
/// B: Spearman ρ(α̂, gap) ≥ +0.3 (spec §5.1 PASS_B; a soft gate: the spec notes the
/// direction is disputed by Tan et al. 2024). Part C (the CIFAR-10 grid, spec §5.2, which
/// gives no threshold of its own) applies the same one.
const RHO_ALPHA_GAP: f64 = 0.3;

/// A finite number as JSON, `null` otherwise (the increments estimate can be `+∞`).
fn finite_or_null(x: f64) -> serde_json::Value {
    if x.is_finite() {
        json!(x)
    } else {
        serde_json::Value::Null
    }
}

fn component(message: String) -> StudyError {
    StudyError::Component {
        component: "tail-index",
        message,
    }
}

/// One Part B run's outcome.
#[derive(Clone, Debug)]
struct RunResult {
    eta: f64,
    batch: usize,
    epochs: usize,
    reached_target: bool,
    train_acc: f64,
    test_acc: f64,
    per_layer: Vec<(String, f64)>,
    alpha_mean: f64,
    /// Mean over layers of the increments-mode α̂ (reported, not gated).
    alpha_increments: f64,
    n_iterates: usize,
}

pub(super) fn run(
    cfg: &Config,
    opts: &RunOpts,
    report: &mut Report,
) -> Result<Verdict, StudyError> {
    let mut v = Verdict::default();
    report.intro(
        "The paper bounds the generalization error of SGD by the Hausdorff dimension of its \
         trajectory, which for heavy-tailed (α-stable-driven) dynamics is at most the tail \
         index α; it estimates α from the iterates of the last epoch with the \
         Mohammadi–Mohammadpour–Ogata block estimator on random 1-D projections of the \
         time-centred iterates (median over block sizes K1, then over 10 directions; the \
         authors' `estimator_vector_projected`), and reports that lower α̂ goes with better \
         generalization. Part A validates the estimator (`gdlab-diagnostics`) on symmetric \
         α-stable samples (Chambers–Mallows–Stuck). Part B trains a 12-run grid of small \
         MLPs (`gdlab-nn` on candle, plain SGD through the gdlab optimizer adapter) on a \
         synthetic teacher task with 10% label noise and correlates α̂ with the \
         generalization gap, spec §5.1.",
    );
    let t0 = Instant::now();
    let a1 = part_a1(cfg, opts.seed, &mut v, report)?;
    part_a2(cfg, opts.seed, &a1, &mut v, report)?;
    let t_a = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let part = match (opts.mode, &opts.cifar10_dir) {
        (Mode::Full, Some(dir)) => {
            super::cifar::part_c(cfg, opts.seed, dir, RHO_ALPHA_GAP, &mut v, report)?;
            "Part C"
        }
        (mode, dir) => {
            part_b(cfg, opts.seed, &mut v, report)?;
            if mode == Mode::Full {
                report.note(
                    "Full mode without a CIFAR-10 directory: Part B ran on the synthetic \
                     teacher task at full size (300 epochs). For the CIFAR-10 grid of spec \
                     §5.2 (VGG and LeNet families) pass `--cifar10-dir DIR` (the binary \
                     version: `data_batch_1.bin` … `data_batch_5.bin`, `test_batch.bin`).",
                );
            } else if dir.is_some() {
                report.note(
                    "A CIFAR-10 directory was given, but quick mode uses the synthetic task \
                     only; the CIFAR-10 grid runs in full mode (`--full --cifar10-dir DIR`).",
                );
            }
            "Part B"
        }
    };
    let t_b = t1.elapsed().as_secs_f64();
    report.paragraph(&format!(
        "Timing on this machine (elapsed wall time; not part of the verdict): Part A {} s, {part} {} s.",
        fmt_num(t_a),
        fmt_num(t_b)
    ));
    Ok(v)
}

/// A1: scalar SαS samples, median over K1 then over seeds.
fn part_a1(
    cfg: &Config,
    seed: Seed,
    v: &mut Verdict,
    report: &mut Report,
) -> Result<Vec<(f64, f64, Vec<f64>)>, StudyError> {
    report.heading("Part A1: scalar recovery");
    let jobs: Vec<(usize, usize)> = (0..cfg.a1_alphas.len())
        .flat_map(|a| (0..cfg.a1_seeds).map(move |s| (a, s)))
        .collect();
    let est: Vec<Result<f64, StudyError>> = jobs
        .par_iter()
        .map(|&(a, s)| {
            let alpha = cfg.a1_alphas[a];
            let law = SymmetricStable::new(alpha)?;
            let mut rng = seed.derive("a1").index(a as u64).index(s as u64).rng();
            let mut x = vec![0.0; cfg.a1_samples];
            law.fill(&mut rng, &mut x);
            Ok(mmo_multi(&x, 1, &cfg.a1_k1s)?.estimate.value)
        })
        .collect();
    let est = est.into_iter().collect::<Result<Vec<_>, _>>()?;
    let mut rows = Vec::new();
    let mut out = Vec::new();
    for (a, &alpha) in cfg.a1_alphas.iter().enumerate() {
        let per: Vec<f64> = est[a * cfg.a1_seeds..(a + 1) * cfg.a1_seeds].to_vec();
        let med = gdlab_diagnostics::estimate::median(&per);
        v.push(Check::validation(
            format!(
                "A1: |α̂ − α| at α = {alpha} (median of {} seeds, K = {})",
                cfg.a1_seeds, cfg.a1_samples
            ),
            (med - alpha).abs(),
            Cmp::Le,
            RECOVERY_TOL,
        ));
        rows.push(vec![
            fmt_num(alpha),
            per.iter()
                .map(|x| fmt_num(*x))
                .collect::<Vec<_>>()
                .join(", "),
            fmt_num(med),
            fmt_num((med - alpha).abs()),
        ]);
        out.push((alpha, med, per));
    }
    report.table(
        &format!(
            "Scalar MMO estimator on K = {} SαS samples, K1 ∈ {:?}, median over K1 per seed, then over seeds",
            cfg.a1_samples, cfg.a1_k1s
        ),
        &["α", "α̂ per seed", "median", "|α̂ − α|"],
        rows,
    )?;
    let meds: Vec<f64> = out.iter().map(|o| o.1).collect();
    let min_step = meds
        .windows(2)
        .map(|w| w[1] - w[0])
        .fold(f64::INFINITY, f64::min);
    v.push(Check::validation(
        "A3: α̂ strictly increasing in α (smallest successive difference of the A1 medians)",
        min_step,
        Cmp::Gt,
        MONOTONE_MIN_STEP,
    ));
    report.metric(
        "a1",
        json!(out
            .iter()
            .map(|(a, m, p)| json!({"alpha": a, "median": m, "per_seed": p}))
            .collect::<Vec<_>>()),
    )?;
    Ok(out)
}

/// A2: projected mode on i.i.d. matrices; the recovery plot with A1.
fn part_a2(
    cfg: &Config,
    seed: Seed,
    a1: &[(f64, f64, Vec<f64>)],
    v: &mut Verdict,
    report: &mut Report,
) -> Result<(), StudyError> {
    report.heading("Part A2: projected mode");
    let (t, d) = cfg.a2_shape;
    let res: Vec<Result<gdlab_diagnostics::trajectory::TailIndex, StudyError>> = cfg
        .a2_alphas
        .par_iter()
        .enumerate()
        .map(|(i, &alpha)| {
            let w = iid_matrix(alpha, t, d, seed.derive("a2").index(i as u64))?;
            let tc = TailIndexConfig {
                n_directions: cfg.a2_directions,
                seed: seed.derive("a2-directions").index(i as u64),
                ..TailIndexConfig::default()
            };
            Ok(tail_index(&w, t, d, &tc)?)
        })
        .collect();
    let res = res.into_iter().collect::<Result<Vec<_>, _>>()?;
    let mut rows = Vec::new();
    for (alpha, r) in cfg.a2_alphas.iter().zip(&res) {
        let a_hat = r.estimate.value;
        v.push(Check::validation(
            format!(
                "A2: |α̂ − α| at α = {alpha} (projected, {t} × {d}, {} directions)",
                cfg.a2_directions
            ),
            (a_hat - alpha).abs(),
            Cmp::Le,
            RECOVERY_TOL,
        ));
        let lo = r
            .per_direction
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min);
        rows.push(vec![
            fmt_num(*alpha),
            fmt_num(a_hat),
            format!(
                "{} – {}",
                fmt_num(lo),
                fmt_num(r.max_over_directions.unwrap_or(f64::NAN))
            ),
            format!("{} of {}", r.plan.sz, t),
            format!("{:?}", r.plan.k1s),
            fmt_num((a_hat - alpha).abs()),
        ]);
    }
    report.table(
        "Projected estimator (centre over time, 10 random unit directions, median over K1 then over directions) on i.i.d. SαS matrices",
        &["α", "α̂", "range over directions", "rows used", "K1", "|α̂ − α|"],
        rows,
    )?;
    report.metric(
        "a2",
        json!(cfg
            .a2_alphas
            .iter()
            .zip(&res)
            .map(|(a, r)| json!({
            "alpha": a, "alpha_hat": r.estimate.value, "per_direction": r.per_direction,
            "sz": r.plan.sz, "k1s": r.plan.k1s}))
            .collect::<Vec<_>>()),
    )?;
    // Recovery plot: A1 medians with min–max bars over seeds, A2 estimates, y = x.
    let lo_x = cfg.a1_alphas.iter().copied().fold(f64::INFINITY, f64::min);
    let hi_x = cfg
        .a1_alphas
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    let mut plot = LinePlot::new(
        "recovery",
        "Estimator recovery on SαS samples",
        "true α",
        "estimated α̂",
    )
    .with_series(Series::reference(
        "α̂ = α",
        vec![lo_x, hi_x],
        vec![lo_x, hi_x],
    ))
    .with_series(
        Series::new(
            "A1 scalar (median over seeds)",
            a1.iter().map(|x| x.0).collect(),
            a1.iter().map(|x| x.1).collect(),
        )
        .line_markers()
        .color(0),
    )
    .with_series(
        Series::new(
            "A2 projected",
            cfg.a2_alphas.clone(),
            res.iter().map(|r| r.estimate.value).collect(),
        )
        .markers_only()
        .color(1),
    );
    for (alpha, _, per) in a1 {
        let lo = per.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = per.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        plot = plot.with_series(
            Series::new("", vec![*alpha, *alpha], vec![lo, hi])
                .line()
                .color(0),
        );
    }
    for (alpha, r) in cfg.a2_alphas.iter().zip(&res) {
        let lo = r
            .per_direction
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min);
        let hi = r.max_over_directions.unwrap_or(lo);
        plot = plot.with_series(
            Series::new("", vec![alpha + 0.01, alpha + 0.01], vec![lo, hi])
                .line()
                .color(1),
        );
    }
    report.line_plot(plot.with_caption(
        "Bars: min–max over the 5 seeds (A1) and over the 10 directions (A2, drawn 0.01 to \
         the right). Dashed: α̂ = α.",
    ))?;
    Ok(())
}

/// The synthetic teacher task: x ~ N(0, I), labels = argmax of a random 2-layer ReLU
/// teacher; a fraction of the training labels replaced by a different random class.
fn teacher_data(
    cfg: &Config,
    seed: Seed,
) -> Result<(Dataset<f32>, Dataset<f32>, usize), StudyError> {
    let (d, h, c) = (cfg.dim, cfg.teacher_hidden, cfg.n_classes);
    let mut rng = seed.derive("teacher").rng();
    let mut w1 = vec![0.0; h * d];
    let mut w2 = vec![0.0; c * h];
    fill_normals(&mut rng, &mut w1);
    fill_normals(&mut rng, &mut w2);
    let label = |x: &[f64]| -> u32 {
        let hid: Vec<f64> = (0..h)
            .map(|j| (0..d).map(|k| w1[j * d + k] * x[k]).sum::<f64>().max(0.0))
            .collect();
        let out: Vec<f64> = (0..c)
            .map(|i| (0..h).map(|j| w2[i * h + j] * hid[j]).sum())
            .collect();
        let mut best = 0;
        for i in 1..c {
            if out[i] > out[best] {
                best = i;
            }
        }
        best as u32
    };
    let make = |n: usize, s: Seed| {
        let mut r = s.rng();
        let mut x = vec![0.0; n * d];
        fill_normals(&mut r, &mut x);
        let y: Vec<u32> = x.chunks_exact(d).map(label).collect();
        (x, y)
    };
    let (xtr, mut ytr) = make(cfg.n_train, seed.derive("train-x"));
    let (xte, yte) = make(cfg.n_test, seed.derive("test-x"));
    // Flip round(noise · n) training labels, chosen by a seeded shuffle.
    let n_flip = (cfg.label_noise * cfg.n_train as f64).round() as usize;
    let mut order: Vec<usize> = (0..cfg.n_train).collect();
    let mut r = seed.derive("label-noise").rng();
    for i in (1..order.len()).rev() {
        let j = ((uniform(&mut r) * (i + 1) as f64) as usize).min(i);
        order.swap(i, j);
    }
    for &i in &order[..n_flip] {
        let shift = 1 + ((uniform(&mut r) * (c - 1) as f64) as u32).min(c as u32 - 2);
        ytr[i] = (ytr[i] + shift) % c as u32;
    }
    let f32s = |v: Vec<f64>| v.into_iter().map(|x| x as f32).collect::<Vec<f32>>();
    Ok((
        Dataset::new(f32s(xtr), vec![d], ytr, c)?,
        Dataset::new(f32s(xte), vec![d], yte, c)?,
        n_flip,
    ))
}

fn accuracy_on(model: &Mlp, data: &Dataset<f32>, dev: &Device) -> Result<f64, StudyError> {
    let idx: Vec<usize> = (0..data.len()).collect();
    let mut correct = 0;
    for chunk in idx.chunks(1024) {
        let (x, y) = data.gather(chunk, dev)?;
        correct += n_correct(&model.forward(&x)?, &y)?;
    }
    Ok(correct as f64 / data.len() as f64)
}

fn sgd_step(
    model: &Mlp,
    opt: &mut GdOptimizer<f32, gdlab_optim::alias::Sgd>,
    x: &Tensor,
    y: &Tensor,
    rec: Option<&mut TrajectoryRecorder<f32>>,
) -> Result<(), StudyError> {
    let loss = cross_entropy(&model.forward(x)?, y)?;
    match rec {
        Some(r) => opt.backward_step_observed(&loss, &mut [r])?,
        None => opt.backward_step(&loss)?,
    };
    Ok(())
}

/// Heavy-ball SGD without weight decay over `params` (f32), through the adapter: the
/// optimizer of every tail-index training run (Part B and the CIFAR-10 grid).
pub(super) fn momentum_sgd(
    eta: f64,
    momentum: f64,
    params: &ParamSet,
) -> Result<GdOptimizer<f32, Sgd>, StudyError> {
    let momentum = MomentumConfig {
        momentum,
        ..MomentumConfig::default()
    };
    Ok(GdOptimizer::new(sgd(eta, momentum, 0.0)?, params)?)
}
/// One grid point: train to the target train accuracy or the epoch budget, then record
/// max(one epoch, `min_record_steps`) iterates and estimate α̂ per weight matrix.
fn train_one(
    cfg: &Config,
    seed: Seed,
    index: usize,
    eta: f64,
    batch: usize,
    train: &Dataset<f32>,
    test: &Dataset<f32>,
) -> Result<RunResult, StudyError> {
    let dev = Device::Cpu;
    let model = Mlp::new::<f32>(&MlpConfig::relu(&cfg.student), seed.derive("student"), &dev)?;
    let mut opt = momentum_sgd(eta, cfg.momentum, model.params())?;
    let mut cursor = train.batches(batch, seed.derive("batches").index(index as u64), false)?;
    let per_epoch = cursor.batches_per_epoch();
    let mut epochs = 0;
    let mut reached = false;
    while epochs < cfg.max_epochs {
        for _ in 0..per_epoch {
            let (x, y) = train.gather(cursor.next_batch(), &dev)?;
            sgd_step(&model, &mut opt, &x, &y, None)?;
        }
        epochs += 1;
        if !opt.params_finite() {
            return Err(component(format!(
                "η = {eta}, B = {batch}: SGD diverged at epoch {epochs}"
            )));
        }
        if accuracy_on(&model, train, &dev)? >= cfg.target_train_acc {
            reached = true;
            break;
        }
    }
    let n_iterates = per_epoch.max(cfg.min_record_steps);
    let mut rec = TrajectoryRecorder::<f32>::matrices(model.params(), RecordSink::Memory)?;
    for _ in 0..n_iterates {
        let (x, y) = train.gather(cursor.next_batch(), &dev)?;
        sgd_step(&model, &mut opt, &x, &y, Some(&mut rec))?;
    }
    let train_acc = accuracy_on(&model, train, &dev)?;
    let test_acc = accuracy_on(&model, test, &dev)?;
    let mut per_layer = Vec::new();
    let mut inc_sum = 0.0;
    for (l, tr) in rec.finish()?.into_iter().enumerate() {
        let w: Vec<f64> = tr.data.iter().map(|&x| f64::from(x)).collect();
        let tc = TailIndexConfig {
            seed: seed
                .derive("directions")
                .index(index as u64)
                .index(l as u64),
            ..TailIndexConfig::default()
        };
        let ti = tail_index(&w, tr.n_rows, tr.dim, &tc)?;
        let inc = tail_index(
            &w,
            tr.n_rows,
            tr.dim,
            &TailIndexConfig {
                mode: EstMode::Increments,
                ..tc
            },
        )?;
        inc_sum += inc.estimate.value;
        per_layer.push((tr.name, ti.estimate.value));
    }
    let alpha_mean = per_layer.iter().map(|p| p.1).sum::<f64>() / per_layer.len() as f64;
    let alpha_increments = inc_sum / per_layer.len() as f64;
    Ok(RunResult {
        eta,
        batch,
        epochs,
        reached_target: reached,
        train_acc,
        test_acc,
        per_layer,
        alpha_mean,
        alpha_increments,
        n_iterates,
    })
}

fn part_b(
    cfg: &Config,
    seed: Seed,
    v: &mut Verdict,
    report: &mut Report,
) -> Result<(), StudyError> {
    report.heading("Part B: α̂ and the generalization gap on a 12-run η × B grid");
    let (train, test, n_flip) = teacher_data(cfg, seed.derive("data"))?;
    let grid: Vec<(f64, usize)> = cfg
        .etas
        .iter()
        .flat_map(|&e| cfg.batch_sizes.iter().map(move |&b| (e, b)))
        .collect();
    let results: Vec<Result<RunResult, StudyError>> = grid
        .par_iter()
        .enumerate()
        .map(|(i, &(eta, b))| train_one(cfg, seed.derive("grid"), i, eta, b, &train, &test))
        .collect();
    let results = results.into_iter().collect::<Result<Vec<_>, _>>()?;
    for r in &results {
        if !r.alpha_mean.is_finite() {
            return Err(component(format!(
                "η = {}, B = {}: α̂ is not finite ({:?})",
                r.eta, r.batch, r.per_layer
            )));
        }
    }
    let alpha: Vec<f64> = results.iter().map(|r| r.alpha_mean).collect();
    let gap: Vec<f64> = results.iter().map(|r| r.train_acc - r.test_acc).collect();
    let ratio: Vec<f64> = results.iter().map(|r| r.eta / r.batch as f64).collect();
    let rho = spearman(&alpha, &gap);
    let tau = kendall_tau_b(&alpha, &gap);
    let rho_ratio = spearman(&ratio, &alpha);
    let alpha_inc: Vec<f64> = results.iter().map(|r| r.alpha_increments).collect();
    let rho_inc = spearman(&alpha_inc, &gap);
    let rows = results
        .iter()
        .zip(&gap)
        .map(|(r, g)| {
            vec![
                fmt_num(r.eta),
                r.batch.to_string(),
                fmt_num(r.eta / r.batch as f64),
                format!(
                    "{}{}",
                    r.epochs,
                    if r.reached_target { "" } else { " (budget)" }
                ),
                fmt_num(r.train_acc),
                fmt_num(r.test_acc),
                fmt_num(*g),
                r.per_layer
                    .iter()
                    .map(|p| fmt_num(p.1))
                    .collect::<Vec<_>>()
                    .join(", "),
                fmt_num(r.alpha_mean),
                fmt_num(r.alpha_increments),
            ]
        })
        .collect();
    report.paragraph(&format!(
        "Data: x ~ N(0, I_{}), {} training and {} test points, labels = argmax of a random \
         2-layer ReLU teacher (hidden width {}, the study's choice; the spec does not give \
         it) with {} classes; {n_flip} training labels ({}%) replaced by another class. \
         Student: MLP {:?}, ReLU, cross-entropy, PyTorch-default initialisation (the same for \
         every run), plain SGD (momentum {}) through `gdlab_nn::GdOptimizer` with \
         `gdlab_optim::alias::sgd`, reshuffled minibatches. Each run trains until the train \
         accuracy reaches {} or for {} epochs, then records max(one epoch, {}) further \
         iterates; α̂ = the projected estimator (spec §2.3) of each weight matrix on those \
         iterates (biases excluded), averaged over the three layers.",
        cfg.dim,
        cfg.n_train,
        cfg.n_test,
        cfg.teacher_hidden,
        cfg.n_classes,
        fmt_num(100.0 * cfg.label_noise),
        cfg.student,
        fmt_num(cfg.momentum),
        fmt_num(cfg.target_train_acc),
        cfg.max_epochs,
        cfg.min_record_steps
    ));
    report.table(
        "One row per run (gap = train accuracy − test accuracy, after the recorded iterates)",
        &[
            "η",
            "B",
            "η/B",
            "epochs",
            "train acc",
            "test acc",
            "gap",
            "α̂ per layer",
            "mean α̂",
            "mean α̂ (increments)",
        ],
        rows,
    )?;
    let c = Check::claim(
        "B: Spearman ρ(α̂, gap) over the 12 runs (paper: higher α̂ ↔ larger gap)",
        rho,
        Cmp::Ge,
        RHO_ALPHA_GAP,
    );
    let passed = c.pass;
    v.push(c);
    report.paragraph(&format!(
        "Spearman ρ(α̂, gap) = {}, Kendall τ_b(α̂, gap) = {}; ρ(η/B, α̂) = {} (theory and \
         Gürbüzbalaban et al. 2021 expect α̂ to fall as η/B rises, i.e. a negative ρ).",
        fmt_num(rho),
        fmt_num(tau),
        fmt_num(rho_ratio)
    ));
    if passed {
        report.paragraph("Part B: the paper's direction **reproduces** on this run (ρ ≥ 0.3).");
    } else {
        report.note(&format!(
            "**NOT REPRODUCED (direction)**: ρ(α̂, gap) = {} < {}. The claim is empirical and \
             disputed (Tan et al., NeurIPS 2024); by the spec's rule the overall result is \
             PARTIAL when Part A passes and Part B does not.",
            fmt_num(rho),
            fmt_num(RHO_ALPHA_GAP)
        ));
    }
    let spread = alpha.iter().copied().fold(f64::NEG_INFINITY, f64::max)
        - alpha.iter().copied().fold(f64::INFINITY, f64::min);
    report.note(&format!(
        "Iterates are strongly autocorrelated in time, which biases α̂ downwards (spec §7 \
         pitfall 5): when consecutive centred iterates barely change within a block, a block \
         sum of K1 of them is ≈ K1 times one of them, so the estimator returns ≈ 1 whatever \
         the tails. Here the position-based α̂ (the paper's estimator) spans only {} across \
         the 12 runs (mean α̂ from {} to {}), i.e. it sits at that limit and differences \
         below ~0.1 are within the estimator's noise anyway (spec §7 pitfall 2, T = {} \
         iterates). The increments-mode α̂ (not in the authors' code; spec §7 pitfall 1) is \
         reported for comparison: Spearman ρ(α̂_increments, gap) = {} (not gated).",
        fmt_num(spread),
        fmt_num(alpha.iter().copied().fold(f64::INFINITY, f64::min)),
        fmt_num(alpha.iter().copied().fold(f64::NEG_INFINITY, f64::max)),
        cfg.min_record_steps,
        fmt_num(rho_inc)
    ));
    // Scatter α̂ vs gap, one series per distinct η/B (coloured by its rank).
    let mut ratios: Vec<f64> = ratio.clone();
    ratios.sort_by(f64::total_cmp);
    ratios.dedup();
    let mut plot = LinePlot::new(
        "alpha_vs_gap",
        "Mean projected α̂ vs generalization gap",
        "mean α̂ over layers",
        "gap = train acc − test acc",
    );
    for (k, q) in ratios.iter().enumerate() {
        let idx: Vec<usize> = (0..ratio.len())
            .filter(|&i| ratio[i].total_cmp(q).is_eq())
            .collect();
        plot = plot.with_series(
            Series::new(
                format!("η/B = {}", fmt_num(*q)),
                idx.iter().map(|&i| alpha[i]).collect(),
                idx.iter().map(|&i| gap[i]).collect(),
            )
            .markers_only()
            .color(k),
        );
    }
    report.line_plot(plot.with_caption(format!(
        "Each marker is one run; colour = η/B (ascending in the legend). Spearman ρ = {}, \
         Kendall τ_b = {}.",
        fmt_num(rho),
        fmt_num(tau)
    )))?;
    report.csv(
        "runs",
        &[
            "eta",
            "batch_size",
            "epochs",
            "train_acc",
            "test_acc",
            "gap",
            "alpha_mean",
            "n_iterates",
        ],
        &[
            results.iter().map(|r| r.eta).collect(),
            results.iter().map(|r| r.batch as f64).collect(),
            results.iter().map(|r| r.epochs as f64).collect(),
            results.iter().map(|r| r.train_acc).collect(),
            results.iter().map(|r| r.test_acc).collect(),
            gap.clone(),
            alpha.clone(),
            results.iter().map(|r| r.n_iterates as f64).collect(),
        ],
    )?;
    report.number("spearman_alpha_gap", rho)?;
    report.number("kendall_alpha_gap", tau)?;
    report.number("spearman_ratio_alpha", rho_ratio)?;
    report.metric("spearman_alpha_increments_gap", finite_or_null(rho_inc))?;
    report.metric(
        "runs",
        json!(results.iter().zip(&gap).map(|(r, g)| json!({
            "eta": r.eta, "batch_size": r.batch, "epochs": r.epochs,
            "reached_target": r.reached_target, "train_acc": r.train_acc,
            "test_acc": r.test_acc, "gap": g, "alpha_mean": r.alpha_mean, "alpha_increments_mean": finite_or_null(r.alpha_increments),
            "alpha_per_layer": r.per_layer.iter().map(|p| json!({"layer": p.0, "alpha": p.1})).collect::<Vec<_>>(),
            "n_iterates": r.n_iterates})).collect::<Vec<_>>()),
    )?;
    report.metric(
        "spec_verdict",
        json!(if passed {
            "PASS"
        } else {
            "PARTIAL (if Part A passes)"
        }),
    )?;
    Ok(())
}
