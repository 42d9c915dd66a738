//! End-to-end Zero-1-to-3 pipeline on a tiny random-weights diffusers directory: loading
//! (config.json round trip, header checks), baseline and Zero-to-Hero sampling,
//! determinism, the all-features-off identity, and the attention capture.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::float_cmp)] // bitwise checks

use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};
use gdlab_core::Seed;
use gdlab_diffusion::zero123::image::RgbImage;
use gdlab_diffusion::zero123::pipeline::{
    Method, SampleOptions, Timesteps, Zero123, ZeroToHeroConfig,
};
use gdlab_diffusion::zero123::pose::RelativePose;
use gdlab_diffusion::zero123::weights::{write_random_weights, Layout, WeightsDir, Zero123Config};

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("gdlab-z123-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn flat(t: &Tensor) -> Vec<f32> {
    t.flatten_all().unwrap().to_vec1::<f32>().unwrap()
}

/// A 16×16 test image: a dark disc on white.
fn source_image(size: usize) -> Tensor {
    let mut img = RgbImage::filled(size, size, [1.0; 3]);
    for y in 0..size {
        for x in 0..size {
            let (dy, dx) = (y as f64 - 7.5, x as f64 - 6.5);
            if dy * dy + dx * dx < 20.0 {
                img.pixels[(y * size + x) * 3..(y * size + x) * 3 + 3]
                    .copy_from_slice(&[0.8, 0.2, 0.1]);
            }
        }
    }
    img.to_tensor(&Device::Cpu).unwrap()
}

fn load(dir: &Path) -> Zero123 {
    let w = WeightsDir::open(dir).unwrap();
    assert_eq!(w.layout(), &Layout::Diffusers);
    assert_eq!(w.config(), &Zero123Config::tiny());
    Zero123::load(&w, &Device::Cpu).unwrap()
}

#[test]
fn tiny_pipeline_baseline_and_zero_to_hero() {
    let dir = scratch("e2e");
    write_random_weights(&dir, &Zero123Config::tiny(), Seed(3)).unwrap();
    let model = load(&dir);
    assert_eq!(model.image_size(), 16);
    let img = source_image(16);
    let pose = RelativePose::new(20.0, 90.0, 0.0).unwrap();

    let base = SampleOptions {
        seed: Seed(11),
        method: Method::Baseline { n_steps: 4 },
        capture_attention: true,
        ..SampleOptions::default()
    };
    let a = model.sample(&img, &pose, &base).unwrap();
    let b = model.sample(&img, &pose, &base).unwrap();
    assert_eq!(a.image.dims(), &[1, 3, 16, 16]);
    assert_eq!(a.nfe, 4);
    assert_eq!(flat(&a.image), flat(&b.image), "same seed ⇒ bit-identical");
    assert!(a.source_branch.is_none());
    let cap = a.attention.as_ref().unwrap();
    // The captured layer: Up(3) (8×8 latent), at the largest listed t ≤ 801 (4 steps: 751).
    assert_eq!(cap.site.grid, (8, 8));
    assert_eq!(cap.t, 751);
    let rows = cap.probs.sum(1).unwrap().to_vec1::<f32>().unwrap();
    assert!(rows.iter().all(|s| (s - 1.0).abs() < 1e-5), "{rows:?}");

    // Another seed gives another image.
    let c = model
        .sample(
            &img,
            &pose,
            &SampleOptions {
                seed: Seed(12),
                ..base.clone()
            },
        )
        .unwrap();
    assert_ne!(flat(&a.image), flat(&c.image));

    // Zero-to-Hero with every feature off is the plain sampler, bit for bit.
    let off = SampleOptions {
        method: Method::ZeroToHero(ZeroToHeroConfig::all_off(Timesteps::Uniform(4))),
        ..base.clone()
    };
    let o = model.sample(&img, &pose, &off).unwrap();
    assert_eq!(flat(&o.image), flat(&a.image));

    // The full method (Hourglass-26, R = 5, AMF, MSA with a source branch): NFE 66,
    // deterministic, different from the baseline, a source-branch image, a capture at 801.
    let z2h = SampleOptions {
        method: Method::ZeroToHero(ZeroToHeroConfig::default()),
        ..base.clone()
    };
    let z1 = model.sample(&img, &pose, &z2h).unwrap();
    let z2 = model.sample(&img, &pose, &z2h).unwrap();
    assert_eq!(z1.nfe, 66);
    assert_eq!(z1.timesteps.len(), 26);
    assert_eq!(flat(&z1.image), flat(&z2.image));
    assert_ne!(flat(&z1.image), flat(&a.image));
    assert_eq!(z1.source_branch.as_ref().unwrap().dims(), &[1, 3, 16, 16]);
    assert_eq!(z1.attention.as_ref().unwrap().t, 801);
    let fig = z1
        .attention
        .as_ref()
        .unwrap()
        .heatmaps(
            &RgbImage::from_tensor(&z1.image).unwrap(),
            &[(0.5, 0.5), (0.1, 0.9)],
        )
        .unwrap();
    assert_eq!((fig.width, fig.height), (2 * 16 + 4, 16));

    // MSA on but its window empty, no AMF, no resampling: the source branch rides in the
    // batch, and the target starts from the same noise as the baseline, so it gives the
    // baseline's image (to f32 rounding of the larger batch).
    let mut cfg = ZeroToHeroConfig::all_off(Timesteps::Uniform(4));
    cfg.msa = Some(gdlab_diffusion::zero123::pipeline::MsaConfig {
        window: gdlab_diffusion::control::TimeWindow::empty(),
        ..Default::default()
    });
    let m = model
        .sample(
            &img,
            &pose,
            &SampleOptions {
                method: Method::ZeroToHero(cfg),
                ..base.clone()
            },
        )
        .unwrap();
    let d = (&m.image - &a.image)
        .unwrap()
        .abs()
        .unwrap()
        .max_all()
        .unwrap()
        .to_scalar::<f32>()
        .unwrap();
    assert!(d < 1e-4, "max |Δ| = {d}");

    // Wrong image size: a shape error, not a panic.
    assert!(model.sample(&source_image(8), &pose, &base).is_err());
    let _ = std::fs::remove_dir_all(&dir);
}
