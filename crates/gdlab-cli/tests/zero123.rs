//! End-to-end tests of `gdlab zero123 sample` on a tiny random-weights diffusers directory
//! (written by `write_random_weights`): a successful baseline + Zero-to-Hero run, and one
//! clear error line (exit 2, nothing written) for a missing directory, a missing file, a
//! wrongly shaped tensor, a bad image and out-of-range flags.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers

mod common;
use common::*;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use gdlab_core::Seed;
use gdlab_diffusion::zero123::image::RgbImage;
use gdlab_diffusion::zero123::weights::{write_random_weights, Zero123Config};

/// A tiny weights directory and a 20×12 RGB test image (padded and resized to 16² by the
/// command).
fn setup(name: &str) -> (PathBuf, PathBuf, PathBuf) {
    let d = scratch(name);
    let w = d.join("weights");
    write_random_weights(&w, &Zero123Config::tiny(), Seed(7)).unwrap();
    let mut img = RgbImage::filled(20, 12, [1.0; 3]);
    for i in 0..60 {
        img.pixels[i * 3] = 0.1;
    }
    let p = d.join("src.png");
    img.write_png(&p).unwrap();
    (d, w, p)
}

fn args<'a>(w: &'a str, img: &'a str, out: &'a str) -> Vec<&'a str> {
    vec![
        "zero123",
        "sample",
        "--weights",
        w,
        "--image",
        img,
        "--polar",
        "-15",
        "--azimuth",
        "60",
        "--radius",
        "0",
        "--out",
        out,
        "--steps",
        "3",
    ]
}

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

#[test]
fn tiny_run_writes_images_heatmaps_and_run_json() {
    let (d, w, img) = setup("z123-ok");
    let out = d.join("out");
    let (ws, is, os) = (s(&w), s(&img), s(&out));
    let mut a = args(&ws, &is, &os);
    a.extend(["--zero-to-hero", "--seed", "5"]);
    let o = gdlab(&a, &d);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("zero-to-hero"), "{}", stdout(&o));
    for f in [
        "source.png",
        "baseline.png",
        "zero_to_hero.png",
        "side_by_side.png",
        "source_branch.png",
        "attention_baseline.png",
        "attention_zero_to_hero.png",
        "attention_comparison.png",
        "run.json",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let side = RgbImage::read_png(&out.join("side_by_side.png")).unwrap();
    assert_eq!((side.width, side.height), (3 * 16 + 2 * 8, 16));
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(j["baseline"]["run"]["nfe"], 3);
    assert_eq!(j["zero_to_hero"]["run"]["nfe"], 66);
    assert_eq!(j["zero_to_hero"]["msa"]["window"][0], 700);
    assert_eq!(j["layout"]["kind"], "diffusers");
    assert_eq!(j["image_size"], 16);
    assert!(j["timings_s"]["total"].as_f64().unwrap() > 0.0);
    // Same seed, same images (bit-identical PNGs).
    let again = d.join("again");
    let ags = s(&again);
    let mut b = args(&ws, &is, &ags);
    b.extend(["--zero-to-hero", "--seed", "5"]);
    assert!(gdlab(&b, &d).status.success());
    for f in ["baseline.png", "zero_to_hero.png"] {
        assert_eq!(
            std::fs::read(out.join(f)).unwrap(),
            std::fs::read(again.join(f)).unwrap(),
            "{f}"
        );
    }
    std::fs::remove_dir_all(&d).unwrap();
}

/// The ablation flags reach the sampler: no MSA (no source branch), in-step AMF only,
/// R = 2 on the uniform 5-step list, and run.json records the settings; `--gt-target`
/// adds the GT-map oracle run.
#[test]
fn zero_to_hero_ablation_flags() {
    let (d, w, img) = setup("z123-ablate");
    let out = d.join("out");
    let (ws, is, os) = (s(&w), s(&img), s(&out));
    let mut a = args(&ws, &is, &os);
    let i = a.iter().position(|x| *x == "--steps").unwrap();
    a[i + 1] = "5";
    a.extend([
        "--zero-to-hero",
        "--no-hourglass",
        "--resample-r",
        "2",
        "--amf",
        "in-step",
        "--no-msa",
        "--gt-target",
        &is,
    ]);
    let o = gdlab(&a, &d);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!out.join("source_branch.png").exists());
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    let z = &j["zero_to_hero"];
    assert_eq!(z["timesteps"], "uniform-5");
    assert_eq!(z["resample_r"], 2);
    assert!(z["msa"].is_null());
    // Uniform 5 steps: 801, 601, 401, 201, 1 (LDM's i·⌊1000/5⌋ + 1); only 801 ≥ 800 is
    // resampled: 2 + 4 evaluations.
    assert_eq!(z["run"]["nfe"], 6);
    // In-step only: the cross-step window is empty (min > max).
    let cross = &z["amf"]["cross_step_window"];
    assert!(cross[0].as_u64().unwrap() > cross[1].as_u64().unwrap());
    assert_eq!(z["amf"]["in_step_window"][0], 800);
    // The GT-map oracle ran on the uniform 5-step list and wrote its images.
    assert_eq!(j["gt_maps"]["run"]["nfe"], 5);
    assert_eq!(j["gt_maps"]["record_t"], 5);
    for f in [
        "gt_maps.png",
        "target.png",
        "oracle_side_by_side.png",
        "attention_gt_maps.png",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn bad_inputs_are_one_line_errors() {
    let (d, w, img) = setup("z123-err");
    let out = d.join("out");
    let (ws, is, os) = (s(&w), s(&img), s(&out));

    // No weights directory.
    let none = s(&d.join("nowhere"));
    assert_clean_error_all(&gdlab(&args(&none, &is, &os), &d), &["nowhere", "no such"]);

    // A directory missing a file: the file is named.
    let partial = d.join("partial");
    std::fs::create_dir_all(partial.join("unet")).unwrap();
    for f in ["unet", "vae", "image_encoder"] {
        let dst = partial.join(f);
        std::fs::create_dir_all(&dst).unwrap();
        for e in std::fs::read_dir(w.join(f)).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), dst.join(e.file_name())).unwrap();
        }
    }
    let ps = s(&partial);
    assert_clean_error_all(
        &gdlab(&args(&ps, &is, &os), &d),
        &[
            "cc_projection",
            "diffusion_pytorch_model.safetensors",
            "missing file",
        ],
    );

    // A tensor of the wrong shape: the file and the key are named.
    let proj = w.join("cc_projection/diffusion_pytorch_model.safetensors");
    let mut t: HashMap<String, Tensor> =
        candle_core::safetensors::load(&proj, &Device::Cpu).unwrap();
    t.insert(
        "projection.bias".into(),
        Tensor::zeros(5, DType::F32, &Device::Cpu).unwrap(),
    );
    candle_core::safetensors::save(&t, &proj).unwrap();
    assert_clean_error_all(
        &gdlab(&args(&ws, &is, &os), &d),
        &[
            "cc_projection",
            "projection.bias",
            "expected shape [32]",
            "found [5]",
        ],
    );

    // An invalid config.json field: the file and the field are named.
    std::fs::write(w.join("vae/config.json"), r#"{"latent_channels": -4}"#).unwrap();
    assert_clean_error_all(
        &gdlab(&args(&ws, &is, &os), &d),
        &["vae", "config.json", "latent_channels"],
    );

    // A bad image (checked before any weight is read).
    let bad = d.join("bad.png");
    std::fs::write(&bad, b"not a png").unwrap();
    let bs = s(&bad);
    let (d2, w2, _) = setup("z123-err2");
    let w2s = s(&w2);
    assert_clean_error_all(&gdlab(&args(&w2s, &bs, &os), &d), &["bad.png", "not a PNG"]);

    // Out-of-range flags name the flag and the range.
    for (flag, v, range) in [
        ("--polar", "95", "[-90, 90]"),
        ("--azimuth", "-200", "[-180, 180]"),
        ("--radius", "0.7", "[-0.5, 0.5]"),
        ("--steps", "0", "[1, 1000]"),
        ("--eta", "1.5", "[0, 1]"),
        ("--scale", "-1", "[0, 50]"),
        ("--resample-r", "0", "[1, 20]"),
        ("--msa-min-t", "1001", "[0, 1000]"),
    ] {
        let mut a = args(&w2s, &is, &os);
        let i = a.iter().position(|x| *x == flag).unwrap_or(a.len());
        if i < a.len() {
            a[i + 1] = v;
        } else {
            a.extend([flag, v]);
        }
        assert_clean_error_all(&gdlab(&a, &d), &[flag, range]);
    }
    // A missing oracle target names the file.
    {
        let mut a = args(&w2s, &is, &os);
        a.extend(["--gt-target", "nowhere-target.png"]);
        assert_clean_error_all(&gdlab(&a, &d), &["nowhere-target.png"]);
    }
    // Zero-to-Hero ablation flags without `--zero-to-hero` would be silently ignored.
    for extra in [&["--no-msa"][..], &["--amf", "off"], &["--resample-r", "2"]] {
        let mut a = args(&w2s, &is, &os);
        a.extend(extra);
        assert_clean_error_all(&gdlab(&a, &d), &[extra[0], "needs --zero-to-hero"]);
    }
    // `--device cuda` in a CPU build says how to rebuild.
    if !cfg!(feature = "cuda") {
        let mut a = args(&w2s, &is, &os);
        a.extend(["--device", "cuda"]);
        assert_clean_error_all(&gdlab(&a, &d), &["--features cuda"]);
    }
    assert!(!out.exists(), "an error run wrote output");
    std::fs::remove_dir_all(&d).unwrap();
    std::fs::remove_dir_all(&d2).unwrap();
}
