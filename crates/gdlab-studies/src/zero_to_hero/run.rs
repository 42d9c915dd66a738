//! The experiment and its checks. Every threshold is a `const` below, citing spec §4.3.

use std::path::PathBuf;
use std::time::Instant;

use candle_core::{Device, Tensor};
use gdlab_core::normal::uniform;
use gdlab_core::{GdRng, Seed};
use gdlab_diffusion::control::{
    AmfConfig, AttentionController, AttentionReplace, AttentionStore, Compose, MutualSelfAttention,
    NoControl, SiteFilter, StoredMap, TimeWindow, UNetPart,
};
use gdlab_diffusion::mechanism;
use gdlab_diffusion::sampler::{
    gt_maps_replace, sample, Denoiser, NoiseStreams, OracleEps, SamplerConfig, GT_MAPS_TAU,
    PAPER_RESAMPLE_MIN_T, PAPER_RESAMPLE_R,
};
use gdlab_diffusion::schedule::{hourglass, uniform_timesteps, NoiseSchedule, HOURGLASS_STAGES};
use gdlab_diffusion::turntable::model::{Prediction, ToyUvit};
use gdlab_diffusion::turntable::render::{patchify, unpatchify};
use gdlab_diffusion::turntable::train::{
    load_or_train, Provenance, ViewPair, CACHE_VERSION, IDENTITY_POSE,
};
use gdlab_diffusion::turntable::GuidedToy;
use rayon::prelude::*;
use serde_json::json;

use super::config::Config;
use super::image::grid_png;
use crate::report::{fmt_num, LinePlot, Report, Series};
use crate::study::{RunOpts, StudyError};
use crate::verdict::{Check, Cmp, Verdict};

// ---- Thresholds (spec §4.3 "PASS/FAIL thresholds") ----

/// T0: hooked sampler with every controller disabled vs the unhooked sampler: bit-identical
/// (max |difference| = 0).
const T0_MAX_DIFF: f64 = 0.0;
/// T1 oracle (gated as a claim: it measures the trained model, see the report note):
/// PSNR(ORACLE) − PSNR(B25) ≥ +1.0 dB (paper: +4.1–4.3 dB).
const T1_PSNR_GAIN: f64 = 1.0;
/// T1 oracle: IoU gain ≥ +3 points (paper: +12 points).
const T1_IOU_GAIN: f64 = 3.0;
/// T2 headline: the 95% CI lower bound of ΔPSNR(Z2H − B25) > 0 (paper: +0.40 / +0.63 dB).
const T2_CI_LOWER: f64 = 0.0;
/// T2 headline: mean ΔIoU(Z2H − B25) ≥ −0.5 points (paper: +1.8 / +1.9 points).
const T2_IOU_FLOOR: f64 = -0.5;
/// T3 not-just-NFE: the 95% CI lower bound of PSNR(Z2H) − PSNR(B66) > 0 (Tab. 1).
const T3_CI_LOWER: f64 = 0.0;
/// T4 (reported, WARN only): PSNR(HG+RS+AMF) ≥ PSNR(HG+RS) − 0.05 dB (Tab. 7: +0.07 dB).
const T4_TOL: f64 = -0.05;
/// T5: the toy cross-attention probabilities equal 1 within 1e-6 (paper Fig. 7).
const T5_TOL: f64 = 1e-6;
/// Mechanism test: KL(min of 5 copies) ≤ 0.5 × KL(one copy).
const MECH_RATIO: f64 = 0.5;
/// Mechanism test: a per-row shift of every copy changes the output probabilities by at
/// most f32 rounding (1e-6).
const MECH_SHIFT_TOL: f64 = 1e-6;
/// Sampler end-to-end check: with the oracle ε (the exact noise implied by the true target)
/// every sampler configuration must return the target up to the ᾱ_0 noise level of LDM's
/// last step (√(1−ᾱ_0) ≈ 0.029, i.e. ≈ 37 dB); ≥ 30 dB mean PSNR per configuration.
const ORACLE_EPS_MIN_PSNR: f64 = 30.0;
/// Sampler end-to-end check: every evaluation's input has implied noise of unit RMS (the η
/// and re-noise variances are right): max |RMS − 1| ≤ 0.1 (the RMS of ≥ 4·1728 normals has
/// a standard error below 0.01).
const ORACLE_EPS_RMS_TOL: f64 = 0.1;
/// T6 runtime budget (reported): train + all seven configurations ≤ 120 s on 2 cores.
const T6_BUDGET_S: f64 = 120.0;

// ---- Method settings (spec §2.1 defaults; §4.3 toy table) ----

/// Foreground: any channel < 0.8 in [0, 1] units (spec §4.3 metrics).
const FG_THRESHOLD: f64 = 0.8;
/// MSA window t ∈ [600, 1000] on dec1/dec2 (spec §4.3 Z2H row).
const MSA_WINDOW: TimeWindow = TimeWindow::new(600, 1000);
/// Oracle: GT logits recorded at τ = `GT_MAPS_TAU` (5), DDIM-50.
const ORACLE_STEPS: usize = 50;

/// The seven configurations of spec §4.3, in table order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Conf {
    B25,
    B66,
    Hg,
    HgRs,
    HgRsAmf,
    Z2h,
    Oracle,
}

const CONFS: [Conf; 7] = [
    Conf::B25,
    Conf::B66,
    Conf::Hg,
    Conf::HgRs,
    Conf::HgRsAmf,
    Conf::Z2h,
    Conf::Oracle,
];

impl Conf {
    fn label(self) -> &'static str {
        match self {
            Conf::B25 => "B25",
            Conf::B66 => "B66",
            Conf::Hg => "HG",
            Conf::HgRs => "HG+RS",
            Conf::HgRsAmf => "HG+RS+AMF",
            Conf::Z2h => "Z2H",
            Conf::Oracle => "ORACLE",
        }
    }
    fn key(self) -> &'static str {
        match self {
            Conf::B25 => "b25",
            Conf::B66 => "b66",
            Conf::Hg => "hg",
            Conf::HgRs => "hg_rs",
            Conf::HgRsAmf => "hg_rs_amf",
            Conf::Z2h => "z2h",
            Conf::Oracle => "oracle",
        }
    }
    fn sampler(self, eta: f64) -> Result<SamplerConfig, StudyError> {
        let hg = hourglass(&HOURGLASS_STAGES, 1000)?;
        Ok(match self {
            Conf::B25 => SamplerConfig::ddim(uniform_timesteps(25, 1000)?, eta),
            Conf::B66 => SamplerConfig::ddim(uniform_timesteps(66, 1000)?, eta),
            Conf::Oracle => SamplerConfig::ddim(uniform_timesteps(ORACLE_STEPS, 1000)?, eta),
            Conf::Hg => SamplerConfig::ddim(hg, eta),
            Conf::HgRs | Conf::HgRsAmf | Conf::Z2h => SamplerConfig {
                timesteps: hg,
                eta,
                resample_r: PAPER_RESAMPLE_R,
                resample_min_t: PAPER_RESAMPLE_MIN_T,
            },
        })
    }
}

/// The held-out generations: scene `i`, sampling seed `s` → generation `i·n_seeds + s`.
struct TestSet {
    pairs: Vec<ViewPair>,
    n_seeds: usize,
    /// Source patches, pose vectors and target patches per generation.
    src: Tensor,
    pose: Tensor,
    target: Tensor,
    target_images: Vec<Vec<f32>>,
    source_images: Vec<Vec<f32>>,
}

impl TestSet {
    fn new(cfg: &Config, seed: Seed, dev: &Device) -> Result<Self, StudyError> {
        let m = &cfg.model;
        // Disjoint from training, which draws from `seed.derive("train-data")`.
        let test_seed = seed.derive("test-scenes");
        let pairs: Vec<ViewPair> = (0..cfg.n_scenes)
            .map(|i| ViewPair::random(&mut test_seed.index(i as u64).rng()))
            .collect();
        let (mut src, mut pose, mut tgt) = (Vec::new(), Vec::new(), Vec::new());
        let (mut timgs, mut simgs) = (Vec::new(), Vec::new());
        for p in &pairs {
            let s = p.source(m.image);
            let t = p.target(m.image);
            for _ in 0..cfg.n_seeds {
                src.extend(patchify(&s, m.image, m.patch));
                tgt.extend(patchify(&t, m.image, m.patch));
                pose.extend(p.pose());
                timgs.push(t.clone());
                simgs.push(s.clone());
            }
        }
        let g = pairs.len() * cfg.n_seeds;
        let shape = (g, m.tokens(), m.patch_dim());
        Ok(TestSet {
            n_seeds: cfg.n_seeds,
            src: Tensor::from_vec(src, shape, dev)?,
            pose: Tensor::from_vec(pose, (g, 4), dev)?,
            target: Tensor::from_vec(tgt, shape, dev)?,
            target_images: timgs,
            source_images: simgs,
            pairs,
        })
    }
    fn n_gen(&self) -> usize {
        self.pairs.len() * self.n_seeds
    }
}

/// Per-generation noise streams: the target branch of generation `g` always draws its
/// initial noise first from `seed.derive("sample").index(g)`, so every configuration
/// starts from the same noise (spec pitfall 17).
fn streams(seed: Seed, label: &str, rows: std::ops::Range<usize>) -> Vec<GdRng> {
    rows.map(|g| seed.derive(label).index(g as u64).rng())
        .collect()
}

struct Sampled {
    images: Vec<Vec<f32>>,
}

fn to_images(x: &Tensor, cfg: &Config) -> Result<Vec<Vec<f32>>, StudyError> {
    let m = &cfg.model;
    let v = x.to_vec3::<f32>()?;
    Ok(v.into_iter()
        .map(|rows| unpatchify(&rows.concat(), m.image, m.patch))
        .collect())
}

/// Runs one configuration on the generations `rows` of the test set.
fn run_conf(
    conf: Conf,
    model: &ToyUvit,
    ts: &TestSet,
    cfg: &Config,
    seed: Seed,
    rows: std::ops::Range<usize>,
) -> Result<Sampled, StudyError> {
    let sched = NoiseSchedule::stable_diffusion();
    let sc = conf.sampler(cfg.eta)?;
    let n = rows.len();
    let m = &cfg.model;
    let row_shape = [m.tokens(), m.patch_dim()];
    let dev = ts.src.device().clone();
    let src = ts.src.narrow(0, rows.start, n)?;
    let pose = ts.pose.narrow(0, rows.start, n)?;
    let out = match conf {
        Conf::B25 | Conf::B66 | Conf::Hg | Conf::HgRs => {
            let den = GuidedToy::new(model, &src, &pose, cfg.guidance)?;
            let mut st = NoiseStreams::new(streams(seed, "sample", rows.clone()));
            let z = st.draw(&row_shape, &dev)?;
            sample(&den, &sched, &sc, &z, &mut st, None)?
        }
        Conf::HgRsAmf => {
            let den = GuidedToy::new(model, &src, &pose, cfg.guidance)?;
            let mut st = NoiseStreams::new(streams(seed, "sample", rows.clone()));
            let z = st.draw(&row_shape, &dev)?;
            let mut amf = AmfConfig::default().build()?;
            sample(&den, &sched, &sc, &z, &mut st, Some(&mut amf))?
        }
        Conf::Z2h => {
            // Batch [source branch (n); target (n)]: the source branch generates the source
            // view with the identity pose from its own noise (spec §2.5).
            let id_pose = Tensor::from_vec(IDENTITY_POSE.repeat(n), (n, 4), &dev)?;
            let den = GuidedToy::new(
                model,
                &Tensor::cat(&[&src, &src], 0)?,
                &Tensor::cat(&[&id_pose, &pose], 0)?,
                cfg.guidance,
            )?;
            let mut rngs = streams(seed, "sample-source", rows.clone());
            rngs.extend(streams(seed, "sample", rows.clone()));
            let mut st = NoiseStreams::new(rngs);
            let z = st.draw(&row_shape, &dev)?;
            let mut msa = MutualSelfAttention::source_target(
                MSA_WINDOW,
                SiteFilter::SelfParts(vec![UNetPart::Up(0), UNetPart::Up(1)]),
                n,
                2,
            )?;
            let mut amf = AmfConfig::default().build()?;
            let mut both = Compose::new(vec![&mut msa, &mut amf]);
            let z = sample(&den, &sched, &sc, &z, &mut st, Some(&mut both))?;
            z.narrow(0, n, n)?
        }
        Conf::Oracle => {
            let den = GuidedToy::new(model, &src, &pose, cfg.guidance)?;
            // Record GT logits: the true target noised to τ = 5, one guided pass.
            let x0 = ts.target.narrow(0, rows.start, n)?;
            let mut ost = NoiseStreams::new(streams(seed, "oracle", rows.clone()));
            let mut rep = gt_maps_replace(&den, &sched, &x0, &ost.draw(&row_shape, &dev)?)?;
            let mut st = NoiseStreams::new(streams(seed, "sample", rows.clone()));
            let z = st.draw(&row_shape, &dev)?;
            sample(&den, &sched, &sc, &z, &mut st, Some(&mut rep))?
        }
    };
    Ok(Sampled {
        images: to_images(&out, cfg)?,
    })
}

fn psnr(a: &[f32], b: &[f32]) -> f64 {
    let mse = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| {
            let d = (f64::from(x).clamp(-1.0, 1.0) - f64::from(y).clamp(-1.0, 1.0)) / 2.0;
            d * d
        })
        .sum::<f64>()
        / a.len() as f64;
    10.0 * (1.0 / mse.max(1e-10)).log10()
}

fn foreground(img: &[f32]) -> Vec<bool> {
    img.chunks_exact(3)
        .map(|p| p.iter().any(|&c| (f64::from(c) + 1.0) / 2.0 < FG_THRESHOLD))
        .collect()
}

/// Foreground IoU in percentage points (100 when both masks are empty).
fn iou(a: &[f32], b: &[f32]) -> f64 {
    let (fa, fb) = (foreground(a), foreground(b));
    let inter = fa.iter().zip(&fb).filter(|(x, y)| **x && **y).count();
    let union = fa.iter().zip(&fb).filter(|(x, y)| **x || **y).count();
    if union == 0 {
        100.0
    } else {
        100.0 * inter as f64 / union as f64
    }
}

/// Mean and percentile 95% bootstrap CI of the mean of `x` (paired: `x` holds per-item
/// differences when comparing configurations).
fn bootstrap(x: &[f64], n_boot: usize, seed: Seed) -> (f64, f64, f64) {
    let n = x.len();
    let mean = x.iter().sum::<f64>() / n as f64;
    let mut rng = seed.rng();
    let mut means: Vec<f64> = (0..n_boot)
        .map(|_| {
            (0..n)
                .map(|_| x[((uniform(&mut rng) * n as f64) as usize).min(n - 1)])
                .sum::<f64>()
                / n as f64
        })
        .collect();
    means.sort_by(f64::total_cmp);
    let q = |p: f64| means[((p * n_boot as f64) as usize).min(n_boot - 1)];
    (mean, q(0.025), q(0.975))
}

fn diff(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| x - y).collect()
}

fn cache_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("GDLAB_CACHE_DIR") {
        return Some(PathBuf::from(d).join("zero-to-hero"));
    }
    // The cargo target directory holding the running binary (target/release/…).
    let exe = std::env::current_exe().ok()?;
    exe.ancestors()
        .find(|p| p.file_name().is_some_and(|n| n == "target"))
        .map(|t| t.join("gdlab-cache").join("zero-to-hero"))
}

fn max_abs_diff(a: &[Vec<f32>], b: &[Vec<f32>]) -> f64 {
    a.iter()
        .flatten()
        .zip(b.iter().flatten())
        .map(|(x, y)| f64::from((x - y).abs()))
        .fold(0.0, f64::max)
        .max(if a.len() == b.len() {
            0.0
        } else {
            f64::INFINITY
        })
}

/// The sampler's end-to-end check with the oracle ε of the true targets (no network):
/// every sampler configuration of the study, with its η and a CFG pair at the study's
/// guidance scale (both branches exact). Returns the smallest per-configuration mean PSNR
/// of the output against the target and the largest |RMS(implied noise) − 1| over every
/// evaluation.
fn oracle_eps_check(ts: &TestSet, cfg: &Config, seed: Seed) -> Result<(f64, f64), StudyError> {
    let sched = NoiseSchedule::stable_diffusion();
    let g = ts.n_gen();
    let m = &cfg.model;
    let dev = ts.src.device().clone();
    let row_shape = [m.tokens(), m.patch_dim()];
    let (mut min_psnr, mut max_dev) = (f64::INFINITY, 0.0f64);
    for conf in [Conf::B25, Conf::B66, Conf::Hg, Conf::HgRs, Conf::Oracle] {
        let sc = conf.sampler(cfg.eta)?;
        let den = OracleEps::new(ts.target.clone(), sched.clone(), Some(cfg.guidance));
        let mut st = NoiseStreams::new(streams(seed, "sample", 0..g));
        let z = st.draw(&row_shape, &dev)?;
        let out = to_images(&sample(&den, &sched, &sc, &z, &mut st, None)?, cfg)?;
        let mean_psnr = out
            .iter()
            .zip(&ts.target_images)
            .map(|(a, b)| psnr(a, b))
            .sum::<f64>()
            / g as f64;
        min_psnr = min_psnr.min(mean_psnr);
        for (_, r) in den.implied_rms() {
            max_dev = max_dev.max((r - 1.0).abs());
        }
    }
    Ok((min_psnr, max_dev))
}

/// Check T0: disabled controllers vs the unhooked sampler, and AMF with α_c = 1, R = 1.
fn identity_checks(
    model: &ToyUvit,
    ts: &TestSet,
    cfg: &Config,
    seed: Seed,
) -> Result<(f64, f64, f64), StudyError> {
    let sched = NoiseSchedule::stable_diffusion();
    let n = cfg.identity_rows.min(ts.n_gen());
    let m = &cfg.model;
    let dev = ts.src.device().clone();
    let src = ts.src.narrow(0, 0, n)?;
    let pose = ts.pose.narrow(0, 0, n)?;
    let den = GuidedToy::new(model, &src, &pose, cfg.guidance)?;
    let row_shape = [m.tokens(), m.patch_dim()];
    let go = |sc: &SamplerConfig, ctrl: Option<&mut dyn AttentionController>| {
        let mut st = NoiseStreams::new(streams(seed, "sample", 0..n));
        let z = st.draw(&row_shape, &dev)?;
        let out = sample(&den, &sched, sc, &z, &mut st, ctrl)?;
        to_images(&out, cfg)
    };
    let rs = Conf::HgRs.sampler(cfg.eta)?;
    let plain = go(&rs, None)?;
    let mut amf = AmfConfig {
        in_step_window: TimeWindow::empty(),
        cross_step_window: TimeWindow::empty(),
        ..AmfConfig::default()
    }
    .build()?;
    let mut msa =
        MutualSelfAttention::source_target(TimeWindow::empty(), SiteFilter::AllSelf, n, 1)?;
    let mut rep = AttentionReplace::new(Default::default(), TimeWindow::new(0, 1000));
    let mut store =
        AttentionStore::new(SiteFilter::All, StoredMap::Probs, TimeWindow::new(0, 1000));
    let mut none = NoControl;
    let mut all = Compose::new(vec![&mut amf, &mut msa, &mut rep, &mut store, &mut none]);
    let hooked = go(&rs, Some(&mut all))?;
    let d_all = max_abs_diff(&plain, &hooked);
    let hg = Conf::Hg.sampler(cfg.eta)?;
    let plain_hg = go(&hg, None)?;
    let mut amf1 = AmfConfig {
        alpha_c: 1.0,
        alpha_h: 0.37,
        ..AmfConfig::default()
    }
    .build()?;
    let d_amf = max_abs_diff(&plain_hg, &go(&hg, Some(&mut amf1))?);
    // Oracle plumbing: logits recorded on an input and injected back on the same input
    // reproduce the unhooked ε̂ exactly.
    let x0 = ts.target.narrow(0, 0, n)?;
    let mut store = AttentionStore::new(
        SiteFilter::AllSelf,
        StoredMap::Logits,
        TimeWindow::new(0, 1000),
    );
    let e_plain = den.eps(&x0, GT_MAPS_TAU, None)?;
    den.eps(&x0, GT_MAPS_TAU, Some(&mut store))?;
    let mut rep = AttentionReplace::new(store.take_latest(), TimeWindow::new(0, 1000));
    rep.begin_eval(gdlab_diffusion::control::EvalCtx {
        step: 0,
        t: GT_MAPS_TAU,
        r: 1,
        r_total: 1,
    });
    let e_rep = den.eps(&x0, GT_MAPS_TAU, Some(&mut rep))?;
    let d_rep = f64::from((e_plain - e_rep)?.abs()?.max_all()?.to_scalar::<f32>()?);
    Ok((d_all, d_amf, d_rep))
}

/// Check T5: the largest |p − 1| over every cross-attention probability of one guided pass
/// per timestep of the Hourglass list.
fn cross_attention_degeneracy(
    model: &ToyUvit,
    ts: &TestSet,
    cfg: &Config,
) -> Result<f64, StudyError> {
    let n = cfg.identity_rows.min(ts.n_gen());
    let src = ts.src.narrow(0, 0, n)?;
    let pose = ts.pose.narrow(0, 0, n)?;
    let den = GuidedToy::new(model, &src, &pose, cfg.guidance)?;
    let x = ts.target.narrow(0, 0, n)?;
    let mut worst = 0.0f64;
    for t in hourglass(&HOURGLASS_STAGES, 1000)? {
        let mut store = AttentionStore::new(
            SiteFilter::AllCross,
            StoredMap::Probs,
            TimeWindow::new(0, 1000),
        );
        den.eps(&x, t, Some(&mut store))?;
        for p in store.latest().values() {
            let d = (p - 1.0)?.abs()?.max_all()?.to_scalar::<f32>()?;
            worst = worst.max(f64::from(d));
        }
        if store.latest().len() != 5 {
            return Ok(f64::INFINITY);
        }
    }
    Ok(worst)
}

pub(super) fn run(
    cfg: &Config,
    opts: &RunOpts,
    report: &mut Report,
) -> Result<Verdict, StudyError> {
    let start = Instant::now();
    let dev = Device::Cpu;
    let seed = opts.seed.derive("zero-to-hero");
    let mut v = Verdict::default();

    report.intro(
        "The paper (spec §0) argues that in Zero-1-to-3 the single-token cross-attention is \
         degenerate (softmax over one key ≡ 1), so spatial structure lives in the \
         self-attention maps; that injecting ground-truth maps helps a lot; and that \
         resampling each early step R = 5 times while min-pooling the pre-softmax maps and \
         blending them with a history (α_c = 0.2, α_h = 0.5), plus early mutual \
         self-attention from a source-view branch and the 26-step Hourglass schedule, \
         improves the target view at 66 NFE where 66 plain DDIM steps do not.",
    );
    report.intro(&format!(
        "This study trains a tiny view-conditioned U-ViT in-project on procedural \
         \"Turntable-Blobs\" scenes (spec §4.3: 3 spheres, camera on a turntable, 24×24 \
         pixels, source patches concatenated to the tokens, pose via single-token \
         cross-attention), then samples {} held-out scenes × {} seeds = {} target views per \
         configuration from shared initial noise, and scores PSNR and foreground IoU \
         against the true render with {} paired bootstrap resamples. The same controllers \
         and sampler run on the real model with `gdlab zero123 sample --weights DIR \
         --zero-to-hero` (user-supplied Zero-1-to-3 weights; none ship, so that path is not \
         part of this study).",
        cfg.n_scenes,
        cfg.n_seeds,
        cfg.n_scenes * cfg.n_seeds,
        cfg.bootstrap
    ));

    // ---- Mechanism test (no training) ----
    let (kl_single, kl_min) =
        mechanism::min_pooling_kl(cfg.mechanism_trials, seed.derive("mechanism"))?;
    let shift = mechanism::shift_invariance(seed.derive("mechanism-shift"))?;
    let ratio = kl_min / kl_single;

    // ---- Training (or the cached weights) ----
    let t_train = Instant::now();
    let cache = cache_dir();
    let (model, log, provenance, _path) = load_or_train(
        &cfg.model,
        &cfg.train,
        seed.derive("model"),
        &dev,
        cache.as_deref(),
    )?;
    let train_s = t_train.elapsed().as_secs_f64();

    // ---- Sampling ----
    let ts = TestSet::new(cfg, seed, &dev)?;
    let g = ts.n_gen();
    let t_sample = Instant::now();
    // The configurations are independent (each draws from its own seeded streams), so they
    // run in parallel on the study's workers; the results do not depend on the thread count.
    let results = CONFS
        .par_iter()
        .map(|&conf| {
            let s = run_conf(conf, &model, &ts, cfg, seed, 0..g)?;
            let ps: Vec<f64> = s
                .images
                .iter()
                .zip(&ts.target_images)
                .map(|(a, b)| psnr(a, b))
                .collect();
            let io: Vec<f64> = s
                .images
                .iter()
                .zip(&ts.target_images)
                .map(|(a, b)| iou(a, b))
                .collect();
            Ok((conf, s, ps, io))
        })
        .collect::<Result<Vec<_>, StudyError>>()?;
    let sample_s = t_sample.elapsed().as_secs_f64();

    // ---- Validation checks ----
    let (d_all, d_amf, d_rep) = identity_checks(&model, &ts, cfg, seed)?;
    let (oracle_psnr, oracle_rms_dev) = oracle_eps_check(&ts, cfg, seed)?;
    let t5 = cross_attention_degeneracy(&model, &ts, cfg)?;

    // ---- Statistics ----
    let get = |c: Conf| {
        results
            .iter()
            .find(|r| r.0 == c)
            .map(|r| (&r.2, &r.3))
            .ok_or_else(|| StudyError::Component {
                component: "zero-to-hero",
                message: format!("configuration {} missing", c.label()),
            })
    };
    let (b25_p, b25_i) = get(Conf::B25)?;
    let bs = |x: &[f64], label: &str| {
        bootstrap(x, cfg.bootstrap, seed.derive("bootstrap").derive(label))
    };
    let mut rows = Vec::new();
    let mut per_conf = serde_json::Map::new();
    for (conf, _, ps, io) in &results {
        let nfe = conf.sampler(cfg.eta)?.nfe();
        let (pm, plo, phi) = bs(ps, &format!("{}-psnr", conf.key()));
        let (im, ilo, ihi) = bs(io, &format!("{}-iou", conf.key()));
        let (dp, dplo, dphi) = bs(&diff(ps, b25_p), &format!("{}-dpsnr", conf.key()));
        let (di, dilo, dihi) = bs(&diff(io, b25_i), &format!("{}-diou", conf.key()));
        rows.push(vec![
            conf.label().to_string(),
            format!("{nfe}"),
            format!("{} [{}, {}]", fmt_num(pm), fmt_num(plo), fmt_num(phi)),
            format!("{} [{}, {}]", fmt_num(im), fmt_num(ilo), fmt_num(ihi)),
            format!("{} [{}, {}]", fmt_num(dp), fmt_num(dplo), fmt_num(dphi)),
            format!("{} [{}, {}]", fmt_num(di), fmt_num(dilo), fmt_num(dihi)),
        ]);
        per_conf.insert(
            conf.key().to_string(),
            json!({"nfe": nfe, "psnr": [pm, plo, phi], "iou": [im, ilo, ihi],
                   "dpsnr_vs_b25": [dp, dplo, dphi], "diou_vs_b25": [di, dilo, dihi]}),
        );
    }
    let (z_p, z_i) = get(Conf::Z2h)?;
    let (o_p, o_i) = get(Conf::Oracle)?;
    let (b66_p, _) = get(Conf::B66)?;
    let (amf_p, _) = get(Conf::HgRsAmf)?;
    let (rs_p, _) = get(Conf::HgRs)?;
    let (t1p, _, _) = bs(&diff(o_p, b25_p), "oracle-dpsnr");
    let (t1i, _, _) = bs(&diff(o_i, b25_i), "oracle-diou");
    let (t2p, t2lo, t2hi) = bs(&diff(z_p, b25_p), "z2h-dpsnr");
    let (t2i, _, _) = bs(&diff(z_i, b25_i), "z2h-diou");
    let (t3p, t3lo, t3hi) = bs(&diff(z_p, b66_p), "z2h-b66-dpsnr");
    let (t4p, t4lo, t4hi) = bs(&diff(amf_p, rs_p), "amf-rs-dpsnr");

    v.push(Check::validation(
        "T0: max |hooked − unhooked| with every controller disabled (HG+RS sampler)",
        d_all,
        Cmp::Le,
        T0_MAX_DIFF,
    ));
    v.push(Check::validation(
        "T0: max |AMF(α_c = 1, R = 1) − unhooked| (Hourglass)",
        d_amf,
        Cmp::Le,
        T0_MAX_DIFF,
    ));
    v.push(Check::validation(
        "T1 plumbing: max |ε̂(replace with its own recorded logits) − ε̂(unhooked)|",
        d_rep,
        Cmp::Le,
        T0_MAX_DIFF,
    ));
    v.push(Check::validation(
        "sampler end-to-end: smallest mean PSNR of the oracle-ε samples over the sampler configurations (dB)",
        oracle_psnr,
        Cmp::Ge,
        ORACLE_EPS_MIN_PSNR,
    ));
    v.push(Check::validation(
        "sampler end-to-end: max |RMS of the implied noise − 1| over every oracle-ε evaluation",
        oracle_rms_dev,
        Cmp::Le,
        ORACLE_EPS_RMS_TOL,
    ));
    v.push(Check::validation(
        "T5: max |p − 1| over every cross-attention probability",
        t5,
        Cmp::Le,
        T5_TOL,
    ));
    v.push(Check::validation(
        "mechanism: KL(min of 5 copies) / KL(one copy)",
        ratio,
        Cmp::Le,
        MECH_RATIO,
    ));
    v.push(Check::validation(
        "mechanism: max |Δp| under a per-row shift of the logits",
        shift,
        Cmp::Le,
        MECH_SHIFT_TOL,
    ));
    let t1_ok_p = v.push(Check::claim(
        "T1 oracle: mean PSNR(ORACLE) − PSNR(B25) (dB)",
        t1p,
        Cmp::Ge,
        T1_PSNR_GAIN,
    ));
    let t1_ok_i = v.push(Check::claim(
        "T1 oracle: mean IoU(ORACLE) − IoU(B25) (points)",
        t1i,
        Cmp::Ge,
        T1_IOU_GAIN,
    ));
    let t2a = v.push(Check::claim(
        "T2 headline: 95% CI lower bound of PSNR(Z2H) − PSNR(B25) (dB)",
        t2lo,
        Cmp::Gt,
        T2_CI_LOWER,
    ));
    let t2b = v.push(Check::claim(
        "T2 headline: mean IoU(Z2H) − IoU(B25) (points)",
        t2i,
        Cmp::Ge,
        T2_IOU_FLOOR,
    ));
    let t3 = v.push(Check::claim(
        "T3 not-just-NFE: 95% CI lower bound of PSNR(Z2H) − PSNR(B66) (dB)",
        t3lo,
        Cmp::Gt,
        T3_CI_LOWER,
    ));

    // ---- Report ----
    let verdict_word = if t2a && t2b && t3 {
        "REPRODUCED"
    } else if t1_ok_p && t1_ok_i {
        "PARTIAL (the oracle effect reproduces; the Zero-to-Hero claim does not)"
    } else {
        "NOT REPRODUCED"
    };
    report.heading("Result");
    report.paragraph(&format!(
        "**Reproduction: {verdict_word}.** Z2H − B25: {} dB [{}, {}] PSNR, {} IoU points; \
         Z2H − B66: {} dB [{}, {}]; ORACLE − B25: {} dB, {} IoU points.",
        fmt_num(t2p),
        fmt_num(t2lo),
        fmt_num(t2hi),
        fmt_num(t2i),
        fmt_num(t3p),
        fmt_num(t3lo),
        fmt_num(t3hi),
        fmt_num(t1p),
        fmt_num(t1i)
    ));
    report.table(
        "Per configuration: mean [95% bootstrap CI] over the generations; Δ columns are paired differences against B25",
        &["config", "NFE", "PSNR (dB)", "IoU (%)", "ΔPSNR vs B25", "ΔIoU vs B25"],
        rows,
    )?;
    let t4_ok = t4p >= T4_TOL;
    report.paragraph(&format!(
        "T4 (reported, not gated): PSNR(HG+RS+AMF) − PSNR(HG+RS) = {} dB [{}, {}]; the spec's \
         warning threshold is ≥ {} dB: {}.",
        fmt_num(t4p),
        fmt_num(t4lo),
        fmt_num(t4hi),
        fmt_num(T4_TOL),
        if t4_ok {
            "holds"
        } else {
            "WARN (does not hold)"
        }
    ));

    // Image grid: the first scenes, sampling seed 0.
    let idx = |c: Conf| CONFS.iter().position(|x| *x == c).unwrap_or(0);
    let shown = [Conf::B25, Conf::B66, Conf::Z2h, Conf::Oracle];
    let n_rows = cfg.grid_rows.min(ts.pairs.len());
    let tiles: Vec<Vec<&[f32]>> = (0..n_rows)
        .map(|i| {
            let gi = i * ts.n_seeds;
            let mut row: Vec<&[f32]> = vec![
                ts.source_images[gi].as_slice(),
                ts.target_images[gi].as_slice(),
            ];
            row.extend(
                shown
                    .iter()
                    .map(|c| results[idx(*c)].1.images[gi].as_slice()),
            );
            row
        })
        .collect();
    report.image_png(
        "grid",
        "Columns: source view, true target view, B25, B66, Z2H, ORACLE (first scenes, sampling seed 0; 24×24 pixels shown at 4×).",
        grid_png(&tiles, cfg.model.image)?,
    )?;

    report.note(
        "The issue lists T1 (oracle gain) among the validation checks. Its size depends on how \
         well the toy model is trained, not on whether the code is right, so this study gates \
         it as a *claim* (the paper's claim (i)) and validates the oracle's plumbing instead: \
         injecting a layer's own recorded logits reproduces the unhooked output bit for bit.",
    );
    report.heading("Validation checks");
    report.paragraph(&format!(
        "T0: with AMF (empty windows), MSA (empty window), AttentionReplace (no maps), an \
         AttentionStore and NoControl composed, the {n} first generations differ from the \
         unhooked sampler by at most {}; AMF with α_c = 1 and R = 1 by at most {}. T5: the \
         largest |p − 1| over the toy's cross-attention probabilities at every Hourglass \
         timestep is {}. Mechanism test (spec §4.3, {} trials): KL of one noisy copy {}, of \
         the min-pooled 5 copies {} (ratio {}); a per-row shift changes the filtered \
         probabilities by at most {}. Sampler end-to-end: fed the oracle ε (the exact noise \
         implied by the true target, x_t and t; both CFG branches exact at guidance {}), \
         the B25, B66, HG, HG+RS and DDIM-50 samplers at η = {} return the target at \
         ≥ {} dB mean PSNR (the floor is LDM's last step to ᾱ_0, noise level √(1−ᾱ_0) ≈ \
         0.029), and the implied noise of every evaluation's input has RMS within {} of 1.",
        fmt_num(d_all),
        fmt_num(d_amf),
        fmt_num(t5),
        cfg.mechanism_trials,
        fmt_num(kl_single),
        fmt_num(kl_min),
        fmt_num(ratio),
        fmt_num(shift),
        fmt_num(cfg.guidance),
        fmt_num(cfg.eta),
        fmt_num(oracle_psnr),
        fmt_num(oracle_rms_dev),
        n = cfg.identity_rows.min(g),
    ));

    report.heading("Training");
    let loss_name = match cfg.model.prediction {
        Prediction::X0 => "x₀-MSE",
        Prediction::V => "v-MSE",
        Prediction::Eps => "ε-MSE",
    };
    report.paragraph(&format!(
        "Toy U-ViT with {} parameters; {} AdamW steps (lr {} cosine-decayed, weight decay {}, \
         batch {}, condition dropout {}), {} under the SD schedule. Final window mean loss \
         {}. Weights are cached under the cargo target directory (or `$GDLAB_CACHE_DIR`) keyed \
         by the hash of the model and training configuration, the seed and the model-code \
         version (`CACHE_VERSION` = {}); a clean run trains from scratch.",
        log.n_params,
        log.steps,
        fmt_num(cfg.train.learning_rate),
        fmt_num(cfg.train.weight_decay),
        cfg.train.batch_size,
        fmt_num(cfg.train.cond_dropout),
        loss_name,
        fmt_num(log.loss_windows.last().copied().unwrap_or(f64::NAN)),
        CACHE_VERSION,
    ));
    if cfg.model.prediction == Prediction::X0 {
        report.note(
            "Deviation from spec §4.3 (model design, not a paper hyper-parameter): the toy \
             network predicts the clean image x̂₀ and is trained on x₀-MSE; the sampler gets \
             ε̂ = (x_t − √ᾱ·x̂₀)/√(1−ᾱ), so every DDIM step's x̂₀ is the network output. The \
             spec's plain ε-network (same size and training; measured once while fixing issue 11, not \
             recomputed by this run) plateaued at ε-MSE ≈ 0.23 for \
             every t ≥ 400, where the trivial ε̂ = x_t scores 0.006 at t = 981: its 64-wide \
             residual stream, which also carries the source patch, does not copy the 48 \
             per-pixel noise values of a token, and x̂₀ = (x_t − √(1−ᾱ)ε̂)/√ᾱ multiplies that \
             error by ≈ 15 at t ≈ 980, so every sample was saturated colour noise (PSNR ≈ \
             3.5 dB in every configuration). A v-network kept x̂₀ bounded but left visible \
             noise (B25 ≈ 10.8 dB); the clean image is smooth and fits the narrow stream.",
        );
    }
    if cfg.train.steps < 1500 || cfg.n_scenes < 64 || cfg.n_seeds < 3 {
        report.note(&format!(
            "The 2-minute quick budget forced smaller sizes than the spec's (~1500 training \
             steps, 64 scenes × 3 seeds): {} training steps, {} scenes × {} seeds. Run \
             `gdlab study run zero-to-hero --full` for the spec's sizes.",
            cfg.train.steps, cfg.n_scenes, cfg.n_seeds
        ));
    }
    report.line_plot(
        LinePlot::new(
            "train_loss",
            "Training loss",
            "step",
            format!("{loss_name} (window mean)"),
        )
        .log_y()
        .with_series(Series::new(
            "toy U-ViT",
            (1..=log.loss_windows.len())
                .map(|i| (i * log.window) as f64)
                .collect(),
            log.loss_windows.clone(),
        )),
    )?;
    report.heading("Settings");
    report.paragraph(&format!(
        "Guidance scale {} (the spec's toy default), η = {}; Hourglass 10/6/10 over \
         [800,1000]/[200,800]/[0,200] (26 steps), resampling R = {PAPER_RESAMPLE_R} at t ≥ \
         {PAPER_RESAMPLE_MIN_T}; AMF min-pool, α_c = 0.2, α_h = 0.5, in-step window [800, 1000], \
         cross-step window [600, 1000], all five self-attention layers; MSA on dec1/dec2 for \
         t ∈ [600, 1000] with the identity-pose source branch; ORACLE: logits recorded at \
         τ = {GT_MAPS_TAU} from the true target, injected in every self-attention layer of a \
         DDIM-{ORACLE_STEPS}. Uniform lists use LDM's `i·⌊1000/S⌋ + 1`. Foreground: any \
         channel < {FG_THRESHOLD}.",
        fmt_num(cfg.guidance),
        fmt_num(cfg.eta),
    ));
    // Wall time varies run to run; the determinism test drops lines that say "elapsed".
    report.paragraph(&format!(
        "T6 runtime (elapsed, reported): training {} s ({}), sampling all seven \
         configurations {} s, total {} s against the {} s budget.",
        fmt_num(train_s),
        match provenance {
            Provenance::Trained => "trained in this run",
            Provenance::Cached => "loaded from the cache",
        },
        fmt_num(sample_s),
        fmt_num(start.elapsed().as_secs_f64()),
        fmt_num(T6_BUDGET_S),
    ));

    report.metric("configurations", serde_json::Value::Object(per_conf))?;
    report.number("t1_oracle_dpsnr", t1p)?;
    report.number("t1_oracle_diou", t1i)?;
    report.number("t2_z2h_dpsnr", t2p)?;
    report.number("t2_z2h_dpsnr_ci_lower", t2lo)?;
    report.number("t2_z2h_diou", t2i)?;
    report.number("t3_z2h_vs_b66_dpsnr", t3p)?;
    report.number("t3_z2h_vs_b66_ci_lower", t3lo)?;
    report.number("t4_amf_vs_rs_dpsnr", t4p)?;
    report.number("mechanism_kl_single", kl_single)?;
    report.number("mechanism_kl_min", kl_min)?;
    report.number("oracle_eps_min_psnr", oracle_psnr)?;
    report.number("oracle_eps_max_rms_dev", oracle_rms_dev)?;
    report.number("train_steps", log.steps as f64)?;
    report.number(
        "train_final_loss",
        log.loss_windows.last().copied().unwrap_or(0.0),
    )?;
    report.metric("reproduction", json!(verdict_word))?;
    Ok(v)
}
