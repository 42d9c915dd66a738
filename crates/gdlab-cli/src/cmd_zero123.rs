//! `gdlab zero123 sample`: Zero-1-to-3 novel-view synthesis with user-supplied weights,
//! plain and with Zero-to-Hero (spec §4.2, §4.4).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use candle_core::Device;
use clap::{Subcommand, ValueEnum};
use gdlab_core::Seed;
use gdlab_diffusion::control::{AmfConfig, TimeWindow};
use gdlab_diffusion::sampler::PAPER_RESAMPLE_R;
use gdlab_diffusion::zero123::image::RgbImage;
use gdlab_diffusion::zero123::pipeline::{
    Method, MsaConfig, SampleOptions, SampleOutput, Timesteps, Zero123, ZeroToHeroConfig,
    DEFAULT_ETA, DEFAULT_GUIDANCE_SCALE, DEFAULT_STEPS, GT_MAPS_TAU, MSA_WINDOW, QUERY_POINTS,
};
use gdlab_diffusion::zero123::pose::RelativePose;
use gdlab_diffusion::zero123::weights::{Layout, WeightsDir};
use serde_json::json;

use crate::{out, Outcome};

#[derive(Debug, Subcommand)]
pub(crate) enum Zero123Cmd {
    /// Generate the view of an object image after a camera change with Zero-1-to-3
    /// (DDIM, CFG 3.0, η 1.0 by default), and with `--zero-to-hero` also with Zero-to-Hero
    /// (Hourglass-26, R = 5 resampling at t ≥ 800, attention-map filtering, early mutual
    /// self-attention; 66 evaluations). Writes PNGs, attention heatmaps and run.json.
    Sample(SampleArgs),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum DeviceArg {
    /// The CPU (slow at full size: minutes per image).
    Cpu,
    /// The first CUDA GPU (needs a build with `--features cuda`).
    Cuda,
}

#[derive(Debug, clap::Args)]
pub(crate) struct SampleArgs {
    /// Weights: a diffusers directory (unet/, vae/, image_encoder/, cc_projection/, e.g.
    /// a download of kxic/zero123-165000), or one LDM .safetensors/.ckpt checkpoint (or a
    /// directory holding exactly one).
    #[arg(long)]
    weights: PathBuf,
    /// The source image (PNG; RGBA is composited on white; non-square images are padded
    /// with white, then resized to the model's size, 256 px).
    #[arg(long)]
    image: PathBuf,
    /// Polar-angle change Δθ in degrees, in [-90, 90] (positive: camera moves down).
    #[arg(long, allow_hyphen_values = true)]
    polar: f64,
    /// Azimuth change Δφ in degrees, in [-180, 180].
    #[arg(long, allow_hyphen_values = true)]
    azimuth: f64,
    /// Radius change Δr, in [-0.5, 0.5].
    #[arg(long, allow_hyphen_values = true)]
    radius: f64,
    /// Also run Zero-to-Hero and write zero_to_hero.png and side_by_side.png.
    #[arg(long)]
    zero_to_hero: bool,
    /// Output folder.
    #[arg(long, default_value = "gdlab-out/zero123")]
    out: PathBuf,
    /// Seed: the target starts from the same noise in both runs.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// DDIM steps of the baseline, in [1, 1000] (Zero-to-Hero uses its 26-step Hourglass
    /// list).
    #[arg(long, default_value_t = DEFAULT_STEPS)]
    steps: usize,
    /// Classifier-free guidance scale, in [0, 50].
    #[arg(long, default_value_t = DEFAULT_GUIDANCE_SCALE, allow_hyphen_values = true)]
    scale: f64,
    /// DDIM η, in [0, 1].
    #[arg(long, default_value_t = DEFAULT_ETA, allow_hyphen_values = true)]
    eta: f64,
    /// Where to run.
    #[arg(long, value_enum, default_value_t = DeviceArg::Cpu)]
    device: DeviceArg,
    /// Zero-to-Hero ablation (spec §2.6): run it on the baseline's uniform `--steps` list
    /// instead of the 26-step Hourglass list.
    #[arg(long)]
    no_hourglass: bool,
    /// Zero-to-Hero: evaluations per step at t ≥ 800 (R), in [1, 20]; 1 = no resampling.
    #[arg(long, default_value_t = PAPER_RESAMPLE_R)]
    resample_r: usize,
    /// Zero-to-Hero: which attention-map filtering to apply.
    #[arg(long, value_enum, default_value_t = AmfArg::Both)]
    amf: AmfArg,
    /// Zero-to-Hero: smallest timestep of mutual self-attention, in [0, 1000] (Zero-1-to-3:
    /// 700; the paper uses 600 for Zero123-XL).
    #[arg(long, default_value_t = MSA_WINDOW.min_t)]
    msa_min_t: usize,
    /// Zero-to-Hero without mutual self-attention (and without the source branch).
    #[arg(long)]
    no_msa: bool,
    /// The true target view (PNG, prepared like --image): also run the GT-attention-map
    /// oracle of spec §2.7 (the target's self-attention logits, recorded at t = 5, replace
    /// the computed ones at every step of a `--steps` DDIM run) and write gt_maps.png,
    /// attention_gt_maps.png and oracle_side_by_side.png (source | baseline | oracle |
    /// target). An upper bound: it leaks the target.
    #[arg(long)]
    gt_target: Option<PathBuf>,
}

/// Which parts of attention-map filtering Zero-to-Hero applies (spec §2.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum AmfArg {
    /// In-step min-pooling over the resamples and the cross-step history (the paper).
    Both,
    /// In-step pooling only (no history blend).
    InStep,
    /// Cross-step history blend only (no pooling over resamples).
    CrossStep,
    /// No filtering.
    Off,
}

impl SampleArgs {
    /// Zero-to-Hero's configuration from the ablation flags (defaults: the paper's method).
    fn zero_to_hero_config(&self) -> ZeroToHeroConfig {
        let d = ZeroToHeroConfig::default();
        let amf = d.amf.clone().and_then(|c| match self.amf {
            AmfArg::Both => Some(c),
            AmfArg::InStep => Some(AmfConfig {
                cross_step_window: TimeWindow::empty(),
                ..c
            }),
            AmfArg::CrossStep => Some(AmfConfig {
                in_step_window: TimeWindow::empty(),
                ..c
            }),
            AmfArg::Off => None,
        });
        let msa = (!self.no_msa).then(|| MsaConfig {
            window: TimeWindow::new(self.msa_min_t, 1000),
            ..MsaConfig::default()
        });
        ZeroToHeroConfig {
            timesteps: if self.no_hourglass {
                Timesteps::Uniform(self.steps)
            } else {
                d.timesteps.clone()
            },
            resample_r: self.resample_r,
            amf,
            msa,
            ..d
        }
    }

    /// Ablation flags given without `--zero-to-hero` (they would be silently ignored).
    fn stray_ablation_flag(&self) -> Option<&'static str> {
        [
            (self.no_hourglass, "--no-hourglass"),
            (self.resample_r != PAPER_RESAMPLE_R, "--resample-r"),
            (self.amf != AmfArg::Both, "--amf"),
            (self.msa_min_t != MSA_WINDOW.min_t, "--msa-min-t"),
            (self.no_msa, "--no-msa"),
        ]
        .into_iter()
        .find_map(|(set, flag)| set.then_some(flag))
    }
}

pub(crate) fn dispatch(cmd: Zero123Cmd) -> Result<Outcome> {
    match cmd {
        Zero123Cmd::Sample(a) => sample_cmd(&a),
    }
}

fn check_range(flag: &str, v: f64, lo: f64, hi: f64, unit: &str) -> Result<()> {
    if !(v.is_finite() && (lo..=hi).contains(&v)) {
        bail!("--{flag} must be in [{lo}, {hi}]{unit}, got {v}");
    }
    Ok(())
}

fn device(d: DeviceArg) -> Result<Device> {
    match d {
        DeviceArg::Cpu => Ok(Device::Cpu),
        DeviceArg::Cuda if !cfg!(feature = "cuda") => bail!(
            "--device cuda needs a CUDA build of gdlab: rebuild with `cargo build --release -p gdlab-cli --features cuda`"
        ),
        DeviceArg::Cuda => Device::new_cuda(0).context("opening CUDA device 0"),
    }
}

fn write_png(img: &RgbImage, path: &Path) -> Result<()> {
    img.write_png(path)
        .with_context(|| format!("writing {}", path.display()))
}

fn sample_cmd(a: &SampleArgs) -> Result<Outcome> {
    // Flags first (nothing is read or written before they are valid).
    check_range("polar", a.polar, -90.0, 90.0, " degrees")?;
    check_range("azimuth", a.azimuth, -180.0, 180.0, " degrees")?;
    check_range("radius", a.radius, -0.5, 0.5, "")?;
    if !(1..=1000).contains(&a.steps) {
        bail!("--steps must be in [1, 1000], got {}", a.steps);
    }
    check_range("scale", a.scale, 0.0, 50.0, "")?;
    check_range("eta", a.eta, 0.0, 1.0, "")?;
    if !(1..=20).contains(&a.resample_r) {
        bail!("--resample-r must be in [1, 20], got {}", a.resample_r);
    }
    if a.msa_min_t > 1000 {
        bail!("--msa-min-t must be in [0, 1000], got {}", a.msa_min_t);
    }
    if !a.zero_to_hero {
        if let Some(flag) = a.stray_ablation_flag() {
            bail!("{flag} changes Zero-to-Hero and needs --zero-to-hero");
        }
    }
    let pose = RelativePose::new(a.polar, a.azimuth, a.radius)?;
    let dev = device(a.device)?;

    let t0 = Instant::now();
    let weights = WeightsDir::open(&a.weights)?;
    let size = weights.config().image_size();
    let src = RgbImage::read_png(&a.image)?.fit_square(size);
    let gt_target = match &a.gt_target {
        Some(p) => Some(RgbImage::read_png(p)?.fit_square(size)),
        None => None,
    };
    let model = Zero123::load(&weights, &dev)?;
    let load_s = t0.elapsed().as_secs_f64();

    let input = src.to_tensor(&dev)?;
    let base_opts = SampleOptions {
        seed: Seed(a.seed),
        guidance_scale: a.scale,
        eta: a.eta,
        method: Method::Baseline { n_steps: a.steps },
        capture_attention: true,
    };
    let t1 = Instant::now();
    let base = model.sample(&input, &pose, &base_opts)?;
    let base_s = t1.elapsed().as_secs_f64();
    let z2h = if a.zero_to_hero {
        let opts = SampleOptions {
            method: Method::ZeroToHero(a.zero_to_hero_config()),
            ..base_opts.clone()
        };
        let t2 = Instant::now();
        let o = model.sample(&input, &pose, &opts)?;
        Some((o, t2.elapsed().as_secs_f64()))
    } else {
        None
    };

    let gt = match &gt_target {
        Some(target) => {
            let opts = SampleOptions {
                method: Method::GtMaps {
                    n_steps: a.steps,
                    target: target.clone(),
                },
                ..base_opts.clone()
            };
            let t3 = Instant::now();
            let o = model.sample(&input, &pose, &opts)?;
            Some((o, t3.elapsed().as_secs_f64()))
        }
        None => None,
    };

    std::fs::create_dir_all(&a.out)
        .with_context(|| format!("creating the output folder {}", a.out.display()))?;
    let mut files = Vec::new();
    let mut save = |img: &RgbImage, name: &str| -> Result<()> {
        write_png(img, &a.out.join(name))?;
        files.push(name.to_string());
        Ok(())
    };
    let base_img = RgbImage::from_tensor(&base.image)?;
    save(&src, "source.png")?;
    save(&base_img, "baseline.png")?;
    let attention = |o: &SampleOutput, img: &RgbImage| -> Result<Option<RgbImage>> {
        o.attention
            .as_ref()
            .map(|c| c.heatmaps(img, &QUERY_POINTS))
            .transpose()
            .map_err(Into::into)
    };
    let base_heat = attention(&base, &base_img)?;
    if let Some(h) = &base_heat {
        save(h, "attention_baseline.png")?;
    }
    if let Some((o, _)) = &z2h {
        let img = RgbImage::from_tensor(&o.image)?;
        save(&img, "zero_to_hero.png")?;
        save(
            &RgbImage::hstack(&[&src, &base_img, &img], 8),
            "side_by_side.png",
        )?;
        if let Some(s) = &o.source_branch {
            save(&RgbImage::from_tensor(s)?, "source_branch.png")?;
        }
        if let Some(h) = attention(o, &img)? {
            save(&h, "attention_zero_to_hero.png")?;
            if let Some(b) = &base_heat {
                save(&RgbImage::vstack(&[b, &h], 8), "attention_comparison.png")?;
            }
        }
    }

    if let (Some((o, _)), Some(target)) = (&gt, &gt_target) {
        let img = RgbImage::from_tensor(&o.image)?;
        save(&img, "gt_maps.png")?;
        save(target, "target.png")?;
        save(
            &RgbImage::hstack(&[&src, &base_img, &img, target], 8),
            "oracle_side_by_side.png",
        )?;
        if let Some(h) = attention(o, &img)? {
            save(&h, "attention_gt_maps.png")?;
        }
    }

    let run_info = |o: &SampleOutput, secs: f64| {
        json!({
            "timesteps": o.timesteps.len(),
            "first_timestep": o.timesteps.first(),
            "nfe": o.nfe,
            "seconds": secs,
            "attention_capture": o.attention.as_ref().map(|c| json!({
                "site": format!("{:?}", c.site.part),
                "index": c.site.index,
                "grid": [c.site.grid.0, c.site.grid.1],
                "t": c.t,
                "query_points_yx": QUERY_POINTS,
            })),
        })
    };
    let z2h_cfg = a.zero_to_hero_config();
    let total_s = t0.elapsed().as_secs_f64();
    let report = json!({
        "command": "zero123 sample",
        "weights": a.weights.display().to_string(),
        "layout": match weights.layout() {
            Layout::Diffusers => json!({"kind": "diffusers"}),
            Layout::Ldm { file, used_ema } => json!({"kind": "ldm", "file": file.display().to_string(), "ema": used_ema}),
        },
        "image": a.image.display().to_string(),
        "image_size": size,
        "pose": {"polar_deg": a.polar, "azimuth_deg": a.azimuth, "radius": a.radius, "vector": pose.vector()},
        "seed": a.seed,
        "guidance_scale": a.scale,
        "eta": a.eta,
        "device": format!("{:?}", a.device).to_lowercase(),
        "baseline": {"steps": a.steps, "run": run_info(&base, base_s)},
        "zero_to_hero": z2h.as_ref().map(|(o, s)| json!({
            "timesteps": if a.no_hourglass { format!("uniform-{}", a.steps) } else { "hourglass-26".to_string() },
            "resample_r": z2h_cfg.resample_r,
            "resample_min_t": z2h_cfg.resample_min_t,
            "amf": z2h_cfg.amf.as_ref().map(|c| json!({
                "alpha_c": c.alpha_c, "alpha_h": c.alpha_h,
                "in_step_window": [c.in_step_window.min_t, c.in_step_window.max_t],
                "cross_step_window": [c.cross_step_window.min_t, c.cross_step_window.max_t],
                "pool": format!("{:?}", c.pool),
            })),
            "msa": z2h_cfg.msa.as_ref().map(|m| json!({
                "window": [m.window.min_t, m.window.max_t],
                "sites": format!("{:?}", m.sites),
            })),
            "run": run_info(o, *s),
        })),
        "gt_maps": gt.as_ref().map(|(o, secs)| json!({
            "target": a.gt_target.as_ref().map(|p| p.display().to_string()),
            "steps": a.steps,
            "record_t": GT_MAPS_TAU,
            "run": run_info(o, *secs),
        })),
        "timings_s": {"load": load_s, "baseline": base_s, "zero_to_hero": z2h.as_ref().map(|z| z.1), "gt_maps": gt.as_ref().map(|g| g.1), "total": total_s},
        "outputs": files,
    });
    let path = a.out.join("run.json");
    gdlab_core::io::atomic_write(
        &path,
        (serde_json::to_string_pretty(&report)? + "\n").as_bytes(),
    )
    .with_context(|| format!("writing {}", path.display()))?;

    let mut s = format!(
        "zero123: {} weights, {size}×{size}, pose Δθ {}° Δφ {}° Δr {}\n  baseline: {} steps, {} NFE, {:.2} s\n",
        match weights.layout() {
            Layout::Diffusers => "diffusers",
            _ => "LDM",
        },
        a.polar,
        a.azimuth,
        a.radius,
        a.steps,
        base.nfe,
        base_s
    );
    if let Some((o, secs)) = &z2h {
        s.push_str(&format!(
            "  zero-to-hero: {}, R = {}, AMF {}, {}; {} NFE{}, {secs:.2} s\n",
            if a.no_hourglass {
                format!("uniform-{}", a.steps)
            } else {
                "Hourglass-26".to_string()
            },
            a.resample_r,
            format!("{:?}", a.amf).to_lowercase(),
            if a.no_msa {
                "no MSA".to_string()
            } else {
                format!("MSA t ≥ {}", a.msa_min_t)
            },
            o.nfe,
            if a.no_msa { "" } else { " (+ source branch)" },
        ));
    }
    if let Some((o, secs)) = &gt {
        s.push_str(&format!(
            "  GT-map oracle: {} steps, maps recorded from the target at t = {GT_MAPS_TAU}; {} NFE (+ 1), {secs:.2} s\n",
            a.steps, o.nfe
        ));
    }
    s.push_str(&format!(
        "  load {load_s:.2} s, total {total_s:.2} s\n  wrote {} files to {}\n",
        files.len() + 1,
        a.out.display()
    ));
    out(&s)?;
    Ok(Outcome::Ok)
}
