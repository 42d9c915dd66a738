//! Training the toy denoiser (spec §4.3 "Training"): SD noise schedule, MSE of the
//! network output against its target (`x_0` by default, `v` or `ε`, see [`Prediction`]), 10%
//! condition dropout, AdamW with cosine decay, data rendered on the fly; weights cached by
//! configuration hash.

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::{Optimizer, ParamsAdamW, VarBuilder, VarMap};
use gdlab_core::normal::{fill_normals, uniform};
use gdlab_core::{GdRng, Seed};
use serde::{Deserialize, Serialize};

use super::model::{Prediction, ToyConfig, ToyUvit};
use super::render::{patchify, render, Camera, Scene};
use crate::error::{DiffusionError, Result};
use crate::schedule::NoiseSchedule;

/// Relative azimuths Δφ of the pairs, in degrees (spec §4.3: ±45°, ±90°, ±135°, 180°).
pub const DELTAS_DEG: [f64; 7] = [45.0, -45.0, 90.0, -90.0, 135.0, -135.0, 180.0];

/// Bumped whenever the model, data or training code changes numbers, so stale caches are
/// never reused.
/// Version 2: the network predicts `x_0` by default ([`Prediction::X0`]).
/// Version 3: gradients are summed over [`TRAIN_SHARDS`] row shards (f32 rounding differs).
pub const CACHE_VERSION: u32 = 3;

/// A source/target view pair of one scene.
#[derive(Clone, Debug, PartialEq)]
pub struct ViewPair {
    /// The scene.
    pub scene: Scene,
    /// Source azimuth φ_s (radians).
    pub phi_source: f64,
    /// Relative azimuth Δφ (radians); the target is at φ_s + Δφ.
    pub delta_phi: f64,
}

impl ViewPair {
    /// A random pair: scene, φ_s ~ U[0, 2π), Δφ uniform over [`DELTAS_DEG`].
    #[must_use]
    pub fn random(rng: &mut GdRng) -> ViewPair {
        let scene = Scene::random(rng);
        let phi_source = std::f64::consts::TAU * uniform(rng);
        let k = ((uniform(rng) * DELTAS_DEG.len() as f64) as usize).min(DELTAS_DEG.len() - 1);
        ViewPair {
            scene,
            phi_source,
            delta_phi: DELTAS_DEG[k].to_radians(),
        }
    }
    /// The Zero-1-to-3 pose vector `[Δpolar, sin Δφ, cos Δφ, Δradius] = [0, sin Δφ, cos Δφ, 0]`.
    #[must_use]
    pub fn pose(&self) -> [f32; 4] {
        [
            0.0,
            self.delta_phi.sin() as f32,
            self.delta_phi.cos() as f32,
            0.0,
        ]
    }
    /// The source view, `size²` RGB in [−1, 1].
    #[must_use]
    pub fn source(&self, size: usize) -> Vec<f32> {
        render(&self.scene, &Camera::turntable(self.phi_source), size)
    }
    /// The target view.
    #[must_use]
    pub fn target(&self, size: usize) -> Vec<f32> {
        render(
            &self.scene,
            &Camera::turntable(self.phi_source + self.delta_phi),
            size,
        )
    }
}

/// The identity pose `[0, 0, 1, 0]` (the MSA source branch, spec §2.5).
pub const IDENTITY_POSE: [f32; 4] = [0.0, 0.0, 1.0, 0.0];

/// Training hyper-parameters (defaults: spec §4.3).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Optimizer steps (spec ~1500).
    pub steps: usize,
    /// Batch size (32).
    pub batch_size: usize,
    /// Peak AdamW learning rate (2e-3), cosine-decayed to 0.
    pub learning_rate: f64,
    /// AdamW decoupled weight decay (candle's default 0.01; the spec does not say).
    pub weight_decay: f64,
    /// Probability of dropping the condition (source patches and pose zeroed; 0.1).
    pub cond_dropout: f64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            steps: 1500,
            batch_size: 32,
            learning_rate: 2e-3,
            weight_decay: 0.01,
            cond_dropout: 0.1,
        }
    }
}

/// What training produced besides the weights.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainLog {
    /// Mean training loss (MSE of the network output against its target, `x_0`, `v` or `ε`, see
    /// [`ToyConfig::prediction`]) over consecutive windows of `window` steps.
    pub loss_windows: Vec<f64>,
    /// Steps per window.
    pub window: usize,
    /// Steps run.
    pub steps: usize,
    /// Parameter count.
    pub n_params: usize,
}

/// Initialises every variable deterministically from `seed` (candle's CPU initialiser
/// draws from a thread-local RNG): linear weights `N(0, 1/fan_in)`, biases 0, norm gains 1,
/// position embeddings `N(0, 0.02²)`.
///
/// # Errors
/// Tensor errors.
pub fn init_deterministic(vm: &VarMap, seed: Seed) -> Result<()> {
    let data = vm.data().lock().map_err(|_| DiffusionError::Protocol {
        controller: "init_deterministic",
        message: "poisoned VarMap lock".into(),
    })?;
    let mut names: Vec<&String> = data.keys().collect();
    names.sort();
    for (i, name) in names.into_iter().enumerate() {
        let var = &data[name];
        let dims = var.dims().to_vec();
        let n: usize = dims.iter().product();
        let mut rng = seed.derive("init").index(i as u64).rng();
        let vals: Vec<f32> = if name.ends_with("pos") {
            normals(&mut rng, n, 0.02)
        } else if name.contains("norm") && name.ends_with("weight") {
            vec![1.0; n]
        } else if name.ends_with("bias") {
            vec![0.0; n]
        } else {
            let fan_in = dims.last().copied().unwrap_or(1).max(1);
            normals(&mut rng, n, 1.0 / (fan_in as f64).sqrt())
        };
        var.set(&Tensor::from_vec(vals, dims, var.device())?)?;
    }
    Ok(())
}

fn normals(rng: &mut GdRng, n: usize, std: f64) -> Vec<f32> {
    let mut buf = vec![0.0; n];
    fill_normals(rng, &mut buf);
    buf.into_iter().map(|x| (x * std) as f32).collect()
}

/// A freshly initialised model.
///
/// # Errors
/// As [`ToyUvit::new`].
pub fn init_model(cfg: &ToyConfig, seed: Seed, device: &Device) -> Result<(VarMap, ToyUvit)> {
    let vm = VarMap::new();
    let model = ToyUvit::new(cfg, VarBuilder::from_varmap(&vm, DType::F32, device))?;
    init_deterministic(&vm, seed)?;
    Ok((vm, model))
}

/// One training batch: noisy targets, source patches, poses, timesteps, the true noise and
/// the regression target of the network's parameterisation (`ε` or `v`).
struct Batch {
    x: Tensor,
    src: Tensor,
    pose: Tensor,
    t: Vec<usize>,
    #[cfg_attr(not(test), allow(dead_code))]
    eps: Tensor,
    target: Tensor,
}

fn make_batch(
    cfg: &ToyConfig,
    tc: &TrainConfig,
    sched: &NoiseSchedule,
    rng: &mut GdRng,
    device: &Device,
    fixed_t: Option<usize>,
) -> Result<Batch> {
    let (n, p) = (cfg.tokens(), cfg.patch_dim());
    let bs = tc.batch_size;
    let (mut xs, mut srcs, mut poses, mut ts, mut epss, mut tgts) = (
        Vec::with_capacity(bs * n * p),
        Vec::with_capacity(bs * n * p),
        Vec::with_capacity(bs * 4),
        Vec::with_capacity(bs),
        Vec::with_capacity(bs * n * p),
        Vec::with_capacity(bs * n * p),
    );
    let mut noise = vec![0.0f64; n * p];
    for _ in 0..bs {
        let pair = ViewPair::random(rng);
        let drawn = ((uniform(rng) * sched.n_train() as f64) as usize).min(sched.n_train() - 1);
        let t = fixed_t.unwrap_or(drawn);
        let drop = uniform(rng) < tc.cond_dropout;
        fill_normals(rng, &mut noise);
        let x0 = patchify(&pair.target(cfg.image), cfg.image, cfg.patch);
        let a = sched.alpha_bar(t);
        let (sa, sb) = (a.sqrt(), (1.0 - a).sqrt());
        xs.extend(
            x0.iter()
                .zip(&noise)
                .map(|(&x, &e)| (sa * f64::from(x) + sb * e) as f32),
        );
        epss.extend(noise.iter().map(|&e| e as f32));
        match cfg.prediction {
            Prediction::Eps => tgts.extend(noise.iter().map(|&e| e as f32)),
            // v = √ᾱ·ε − √(1−ᾱ)·x0
            Prediction::V => tgts.extend(
                x0.iter()
                    .zip(&noise)
                    .map(|(&x, &e)| (sa * e - sb * f64::from(x)) as f32),
            ),
            Prediction::X0 => tgts.extend(x0.iter().copied()),
        }
        if drop {
            srcs.extend(std::iter::repeat_n(0.0f32, n * p));
            poses.extend([0.0f32; 4]);
        } else {
            srcs.extend(patchify(&pair.source(cfg.image), cfg.image, cfg.patch));
            poses.extend(pair.pose());
        }
        ts.push(t);
    }
    Ok(Batch {
        x: Tensor::from_vec(xs, (bs, n, p), device)?,
        src: Tensor::from_vec(srcs, (bs, n, p), device)?,
        pose: Tensor::from_vec(poses, (bs, 4), device)?,
        t: ts,
        eps: Tensor::from_vec(epss, (bs, n, p), device)?,
        target: Tensor::from_vec(tgts, (bs, n, p), device)?,
    })
}

/// Each training batch is split into this many row shards whose gradients are computed
/// concurrently ([`rayon::join`]) and then summed in a fixed order, so the trained weights
/// do not depend on the thread count. The toy's tensors are far too small for candle's
/// per-op threading to pay off; two shards use two cores at batch granularity.
pub const TRAIN_SHARDS: usize = 2;

/// The gradient of the batch's mean squared error and the loss itself: the sum over
/// [`TRAIN_SHARDS`] row shards of `Σ_shard (pred − target)² / (elements of the batch)`.
fn batch_gradient(
    model: &ToyUvit,
    vars: &[candle_core::Var],
    b: &Batch,
) -> Result<(candle_core::backprop::GradStore, f64)> {
    let rows = b.x.dim(0)?;
    let n_el = b.target.elem_count() as f64;
    let shard = |lo: usize, len: usize| -> Result<(candle_core::backprop::GradStore, f64)> {
        let pred = model.forward_raw(
            &b.x.narrow(0, lo, len)?,
            &b.src.narrow(0, lo, len)?,
            &b.pose.narrow(0, lo, len)?,
            &b.t[lo..lo + len],
            None,
        )?;
        let loss = (pred - b.target.narrow(0, lo, len)?)?
            .sqr()?
            .sum_all()?
            .affine(1.0 / n_el, 0.0)?;
        let lv = f64::from(loss.to_scalar::<f32>()?);
        Ok((loss.backward()?, lv))
    };
    let half = rows / TRAIN_SHARDS;
    if half == 0 {
        return shard(0, rows);
    }
    let (a, c) = rayon::join(|| shard(0, half), || shard(half, rows - half));
    let ((mut ga, la), (gc, lc)) = (a?, c?);
    for var in vars {
        let v = var.as_tensor();
        let sum = match (ga.get(v), gc.get(v)) {
            (Some(x), Some(y)) => (x + y)?,
            (Some(x), None) => x.clone(),
            (None, Some(y)) => y.clone(),
            (None, None) => continue,
        };
        ga.insert(v, sum);
    }
    Ok((ga, la + lc))
}

/// Trains from scratch (deterministic by `seed`).
///
/// # Errors
/// Tensor errors; [`DiffusionError::NonFinite`] if the loss becomes NaN/∞;
/// [`DiffusionError::OutOfRange`] for an invalid configuration.
pub fn train(
    cfg: &ToyConfig,
    tc: &TrainConfig,
    seed: Seed,
    device: &Device,
) -> Result<(VarMap, ToyUvit, TrainLog)> {
    if tc.steps == 0 || tc.batch_size == 0 || tc.learning_rate.is_nan() || tc.learning_rate <= 0.0 {
        return Err(DiffusionError::OutOfRange {
            field: "steps/batch_size/learning_rate",
            value: tc.steps as f64,
            allowed: "steps ≥ 1, batch_size ≥ 1, learning_rate > 0",
        });
    }
    let (vm, model) = init_model(cfg, seed, device)?;
    let sched = NoiseSchedule::stable_diffusion();
    let mut opt = candle_nn::AdamW::new(
        vm.all_vars(),
        ParamsAdamW {
            lr: tc.learning_rate,
            weight_decay: tc.weight_decay,
            ..ParamsAdamW::default()
        },
    )?;
    let window = 50.min(tc.steps);
    let mut log = TrainLog {
        loss_windows: Vec::new(),
        window,
        steps: tc.steps,
        n_params: vm.all_vars().iter().map(|v| v.elem_count()).sum(),
    };
    let mut acc = 0.0;
    let data_seed = seed.derive("train-data");
    let vars = vm.all_vars();
    for step in 0..tc.steps {
        let lr = 0.5
            * tc.learning_rate
            * (1.0 + (std::f64::consts::PI * step as f64 / tc.steps as f64).cos());
        opt.set_learning_rate(lr);
        let mut rng = data_seed.index(step as u64).rng();
        let b = make_batch(cfg, tc, &sched, &mut rng, device, None)?;
        let (grads, lv) = batch_gradient(&model, &vars, &b)?;
        if !lv.is_finite() {
            return Err(DiffusionError::NonFinite {
                what: format!("training loss at step {step}"),
            });
        }
        opt.step(&grads)?;
        acc += lv;
        if (step + 1) % window == 0 {
            log.loss_windows.push(acc / window as f64);
            acc = 0.0;
        }
    }
    Ok((vm, model, log))
}

/// FNV-1a hash of the configuration, the seed and [`CACHE_VERSION`] (the cache key).
#[must_use]
pub fn config_hash(cfg: &ToyConfig, tc: &TrainConfig, seed: Seed) -> u64 {
    let s = format!("{cfg:?}|{tc:?}|{}|v{CACHE_VERSION}", seed.0);
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Whether the weights came from the cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Provenance {
    /// Trained in this call (and written to the cache if one was given).
    Trained,
    /// Loaded from the cache.
    Cached,
}

/// Loads the trained model (on detached weights, see [`ToyUvit::detached`]) from `cache_dir/<hash>.safetensors` (+ `.json` log) when
/// present, else trains from scratch and writes both (temp file + rename).
///
/// # Errors
/// As [`train`]; [`DiffusionError::Weights`] if the cache cannot be written.
pub fn load_or_train(
    cfg: &ToyConfig,
    tc: &TrainConfig,
    seed: Seed,
    device: &Device,
    cache_dir: Option<&Path>,
) -> Result<(ToyUvit, TrainLog, Provenance, Option<PathBuf>)> {
    let key = format!("toy-uvit-{:016x}", config_hash(cfg, tc, seed));
    if let Some(dir) = cache_dir {
        let w = dir.join(format!("{key}.safetensors"));
        let j = dir.join(format!("{key}.json"));
        if w.is_file() && j.is_file() {
            let loaded = (|| -> Result<(ToyUvit, TrainLog)> {
                let (mut vm, model) = init_model(cfg, seed, device)?;
                vm.load(&w)?;
                let model = model.detached(&vm)?;
                let text = std::fs::read_to_string(&j).map_err(|e| DiffusionError::Weights {
                    path: j.display().to_string(),
                    message: e.to_string(),
                })?;
                let log: TrainLog =
                    serde_json::from_str(&text).map_err(|e| DiffusionError::Weights {
                        path: j.display().to_string(),
                        message: e.to_string(),
                    })?;
                Ok((model, log))
            })();
            // A corrupt cache entry is ignored and overwritten by a fresh training run.
            if let Ok((model, log)) = loaded {
                return Ok((model, log, Provenance::Cached, Some(w)));
            }
        }
    }
    let (vm, model, log) = train(cfg, tc, seed, device)?;
    let mut written = None;
    if let Some(dir) = cache_dir {
        let werr = |p: &Path, e: String| DiffusionError::Weights {
            path: p.display().to_string(),
            message: e,
        };
        std::fs::create_dir_all(dir).map_err(|e| werr(dir, e.to_string()))?;
        let w = dir.join(format!("{key}.safetensors"));
        let tmp = dir.join(format!("{key}.safetensors.tmp{}", std::process::id()));
        vm.save(&tmp).map_err(|e| werr(&tmp, e.to_string()))?;
        std::fs::rename(&tmp, &w).map_err(|e| werr(&w, e.to_string()))?;
        let j = dir.join(format!("{key}.json"));
        let text = serde_json::to_string(&log).map_err(|e| werr(&j, e.to_string()))?;
        gdlab_core::io::atomic_write(&j, text.as_bytes()).map_err(|e| werr(&j, e.to_string()))?;
        written = Some(w);
    }
    Ok((model.detached(&vm)?, log, Provenance::Trained, written))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sampler::Denoiser;
    use crate::turntable::GuidedToy;

    fn mse(a: &Tensor, b: &Tensor) -> f64 {
        f64::from(
            (a - b)
                .unwrap()
                .sqr()
                .unwrap()
                .mean_all()
                .unwrap()
                .to_scalar::<f32>()
                .unwrap(),
        )
    }

    /// The sharded gradient equals autograd of the whole batch's mean loss (up to f32
    /// rounding), and training gives bit-identical weights on 1 and 3 threads.
    #[test]
    fn sharded_gradient_is_the_batch_gradient_and_thread_count_free() {
        let cfg = ToyConfig::default();
        let tc = TrainConfig {
            steps: 3,
            batch_size: 7,
            ..TrainConfig::default()
        };
        let dev = Device::Cpu;
        let (vm, model) = init_model(&cfg, Seed(8), &dev).unwrap();
        let sched = NoiseSchedule::stable_diffusion();
        let b = make_batch(&cfg, &tc, &sched, &mut Seed(9).rng(), &dev, None).unwrap();
        let vars = vm.all_vars();
        let (g, l) = batch_gradient(&model, &vars, &b).unwrap();
        let whole = mse(
            &model
                .forward_raw(&b.x, &b.src, &b.pose, &b.t, None)
                .unwrap(),
            &b.target,
        );
        assert!((l - whole).abs() <= 1e-6 * whole, "{l} vs {whole}");
        let loss = (model
            .forward_raw(&b.x, &b.src, &b.pose, &b.t, None)
            .unwrap()
            - &b.target)
            .unwrap()
            .sqr()
            .unwrap()
            .mean_all()
            .unwrap();
        let g_whole = loss.backward().unwrap();
        for v in &vars {
            let a = g.get(v.as_tensor()).unwrap();
            let w = g_whole.get(v.as_tensor()).unwrap();
            let err = f64::from(
                (a - w)
                    .unwrap()
                    .abs()
                    .unwrap()
                    .max_all()
                    .unwrap()
                    .to_scalar::<f32>()
                    .unwrap(),
            );
            let scale = f64::from(
                w.abs()
                    .unwrap()
                    .max_all()
                    .unwrap()
                    .to_scalar::<f32>()
                    .unwrap(),
            );
            assert!(err <= 1e-4 * scale.max(1e-6), "{err} vs {scale}");
        }
        let weights = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let (vm, _, log) = pool.install(|| train(&cfg, &tc, Seed(8), &dev)).unwrap();
            let mut all: Vec<(String, Vec<f32>)> = vm
                .data()
                .lock()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.flatten_all().unwrap().to_vec1().unwrap()))
                .collect();
            all.sort_by(|a, b| a.0.cmp(&b.0));
            (all, log.loss_windows)
        };
        assert_eq!(weights(1), weights(3));
    }

    /// Train/inference consistency: after a few training steps, the loss of one batch is
    /// the same through the training path (variables, autograd kernels, raw network output
    /// against its target) and through the path the sampler calls: the detached inference
    /// model and the guided denoiser, whose `ε̂` is converted back to the network's
    /// parameterisation. The guided denoiser's conditional branch (guidance 1) must see the
    /// same source patches, pose and timestep scale as training, and its unconditional
    /// branch (guidance 0) must be training's dropped condition.
    #[test]
    fn training_loss_equals_the_loss_through_the_inference_path() {
        for prediction in [Prediction::V, Prediction::X0, Prediction::Eps] {
            let cfg = ToyConfig {
                prediction,
                ..ToyConfig::default()
            };
            let tc = TrainConfig {
                steps: 5,
                batch_size: 6,
                cond_dropout: 0.0,
                ..TrainConfig::default()
            };
            let dev = Device::Cpu;
            let (vm, model, _) = train(&cfg, &tc, Seed(4), &dev).unwrap();
            let inf = model.detached(&vm).unwrap();
            let sched = NoiseSchedule::stable_diffusion();
            for t in [1, 201, 601, 981] {
                let mut rng = Seed(5).index(t as u64).rng();
                let b = make_batch(&cfg, &tc, &sched, &mut rng, &dev, Some(t)).unwrap();
                assert!(b.t.iter().all(|&x| x == t));
                let train_loss = mse(
                    &model
                        .forward_raw(&b.x, &b.src, &b.pose, &b.t, None)
                        .unwrap(),
                    &b.target,
                );
                // ε̂ from the sampler's path, back to the raw parameterisation.
                let a = sched.alpha_bar(t);
                let to_raw = |eps: Tensor| match prediction {
                    Prediction::Eps => eps,
                    Prediction::V => (eps - b.x.affine((1.0 - a).sqrt(), 0.0).unwrap())
                        .unwrap()
                        .affine(1.0 / a.sqrt(), 0.0)
                        .unwrap(),
                    Prediction::X0 => (&b.x - eps.affine((1.0 - a).sqrt(), 0.0).unwrap())
                        .unwrap()
                        .affine(1.0 / a.sqrt(), 0.0)
                        .unwrap(),
                };
                let inf_loss = mse(
                    &to_raw(inf.forward(&b.x, &b.src, &b.pose, &b.t, None).unwrap()),
                    &b.target,
                );
                let guided = GuidedToy::new(&inf, &b.src, &b.pose, 1.0).unwrap();
                let sampler_loss = mse(&to_raw(guided.eps(&b.x, t, None).unwrap()), &b.target);
                for (name, l) in [("detached", inf_loss), ("guided", sampler_loss)] {
                    assert!(
                        (l - train_loss).abs() <= 1e-4 * train_loss.max(1.0),
                        "{prediction:?}, t = {t}: {name} loss {l} vs training loss {train_loss}"
                    );
                }
                // The ε-MSE is the same through both paths too.
                let e_train = mse(
                    &model.forward(&b.x, &b.src, &b.pose, &b.t, None).unwrap(),
                    &b.eps,
                );
                let e_inf = mse(&guided.eps(&b.x, t, None).unwrap(), &b.eps);
                assert!((e_train - e_inf).abs() <= 1e-5 * e_train.max(1.0));
                // Unconditional branch (guidance 0) = training's dropped condition.
                let zeros_src = b.src.zeros_like().unwrap();
                let zeros_pose = b.pose.zeros_like().unwrap();
                let dropped = inf
                    .forward(&b.x, &zeros_src, &zeros_pose, &b.t, None)
                    .unwrap();
                let uncond = GuidedToy::new(&inf, &b.src, &b.pose, 0.0)
                    .unwrap()
                    .eps(&b.x, t, None)
                    .unwrap();
                assert!(mse(&dropped, &uncond) < 1e-10);
            }
        }
    }

    #[test]
    fn forward_is_the_documented_conversion_and_rejects_bad_timesteps() {
        // forward = c_x(ᾱ_t)·x_t + c_F(ᾱ_t)·forward_raw, row by row (different t per row):
        // X0: (1/√(1−ᾱ), −√ᾱ/√(1−ᾱ)); V: (√(1−ᾱ), √ᾱ); Eps: (0, 1).
        let dev = Device::Cpu;
        let sched = NoiseSchedule::stable_diffusion();
        let tc = TrainConfig {
            batch_size: 3,
            ..TrainConfig::default()
        };
        assert_eq!(ToyConfig::default().prediction, Prediction::X0);
        for prediction in [Prediction::X0, Prediction::V, Prediction::Eps] {
            let cfg = ToyConfig {
                prediction,
                ..ToyConfig::default()
            };
            let (_vm, model) = init_model(&cfg, Seed(6), &dev).unwrap();
            let b = make_batch(&cfg, &tc, &sched, &mut Seed(7).rng(), &dev, None).unwrap();
            let raw = model
                .forward_raw(&b.x, &b.src, &b.pose, &b.t, None)
                .unwrap();
            let eps = model.forward(&b.x, &b.src, &b.pose, &b.t, None).unwrap();
            for (r, &t) in b.t.iter().enumerate() {
                let a = sched.alpha_bar(t);
                let (cx, cf) = match prediction {
                    Prediction::X0 => (1.0 / (1.0 - a).sqrt(), -(a / (1.0 - a)).sqrt()),
                    Prediction::V => ((1.0 - a).sqrt(), a.sqrt()),
                    Prediction::Eps => (0.0, 1.0),
                };
                let want = (b.x.get(r).unwrap().affine(cx, 0.0).unwrap()
                    + raw.get(r).unwrap().affine(cf, 0.0).unwrap())
                .unwrap();
                let err = mse(&want, &eps.get(r).unwrap());
                assert!(err < 1e-10, "{prediction:?}, row {r}, t = {t}: {err}");
            }
            // A timestep outside the schedule is an error, not a panic.
            assert!(model
                .forward(&b.x, &b.src, &b.pose, &[5, 1000, 7], None)
                .is_err());
        }
    }
}
