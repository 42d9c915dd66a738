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
    assert_eq!((fig.width, fig.height), (2 * 128 + 4, 128)); // 16 px upscaled ×8

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

// ---- LDM layout: rebuild one checkpoint from the tiny diffusers files ----------------

/// diffusers → LDM resnet sub-keys (inverse of the spec §4.2 table).
fn resnet_inv(r: &str) -> String {
    for (d, l) in [
        ("norm1.", "in_layers.0."),
        ("conv1.", "in_layers.2."),
        ("norm2.", "out_layers.0."),
        ("conv2.", "out_layers.3."),
        ("time_emb_proj.", "emb_layers.1."),
        ("conv_shortcut.", "skip_connection."),
    ] {
        if let Some(t) = r.strip_prefix(d) {
            return format!("{l}{t}");
        }
    }
    panic!("resnet key {r}")
}

fn idx(s: &str) -> (usize, &str) {
    let (i, r) = s.split_once('.').unwrap();
    (i.parse().unwrap(), r)
}

/// diffusers → LDM UNet key (test-only inverse of `ldm::unet_key`).
fn unet_inv(d: &str, l: usize, up_has_attn: &dyn Fn(usize) -> bool) -> String {
    for (a, b) in [
        ("conv_in.", "input_blocks.0.0."),
        ("time_embedding.linear_1.", "time_embed.0."),
        ("time_embedding.linear_2.", "time_embed.2."),
        ("conv_norm_out.", "out.0."),
        ("conv_out.", "out.2."),
    ] {
        if let Some(t) = d.strip_prefix(a) {
            return format!("{b}{t}");
        }
    }
    if let Some(r) = d.strip_prefix("down_blocks.") {
        let (lv, r) = idx(r);
        if let Some(r) = r.strip_prefix("resnets.") {
            let (j, r) = idx(r);
            return format!("input_blocks.{}.0.{}", 1 + lv * (l + 1) + j, resnet_inv(r));
        }
        if let Some(r) = r.strip_prefix("attentions.") {
            let (j, r) = idx(r);
            return format!("input_blocks.{}.1.{r}", 1 + lv * (l + 1) + j);
        }
        let r = r.strip_prefix("downsamplers.0.conv.").unwrap();
        return format!("input_blocks.{}.0.op.{r}", 1 + lv * (l + 1) + l);
    }
    if let Some(r) = d.strip_prefix("mid_block.") {
        if let Some(r) = r.strip_prefix("resnets.") {
            let (j, r) = idx(r);
            return format!("middle_block.{}.{}", 2 * j, resnet_inv(r));
        }
        return format!(
            "middle_block.1.{}",
            r.strip_prefix("attentions.0.").unwrap()
        );
    }
    let r = d.strip_prefix("up_blocks.").unwrap();
    let (lv, r) = idx(r);
    if let Some(r) = r.strip_prefix("resnets.") {
        let (j, r) = idx(r);
        return format!("output_blocks.{}.0.{}", lv * (l + 1) + j, resnet_inv(r));
    }
    if let Some(r) = r.strip_prefix("attentions.") {
        let (j, r) = idx(r);
        return format!("output_blocks.{}.1.{r}", lv * (l + 1) + j);
    }
    let r = r.strip_prefix("upsamplers.0.").unwrap();
    let k = if up_has_attn(lv) { 2 } else { 1 };
    format!("output_blocks.{}.{k}.{r}", lv * (l + 1) + l)
}

/// diffusers → LDM VAE key (test-only inverse of `ldm::vae_key`).
fn vae_inv(d: &str, n: usize) -> String {
    let res = |r: &str| r.replace("conv_shortcut.", "nin_shortcut.");
    for side in ["encoder", "decoder"] {
        let Some(r) = d.strip_prefix(side).and_then(|r| r.strip_prefix('.')) else {
            continue;
        };
        if let Some(t) = r.strip_prefix("conv_norm_out.") {
            return format!("{side}.norm_out.{t}");
        }
        if r.starts_with("conv_in.") || r.starts_with("conv_out.") {
            return d.to_string();
        }
        if let Some(r) = r.strip_prefix("mid_block.") {
            if let Some(r) = r.strip_prefix("resnets.") {
                let (j, r) = idx(r);
                return format!("{side}.mid.block_{}.{}", j + 1, res(r));
            }
            let r = r.strip_prefix("attentions.0.").unwrap();
            for (a, b) in [
                ("group_norm.", "norm."),
                ("to_q.", "q."),
                ("to_k.", "k."),
                ("to_v.", "v."),
                ("to_out.0.", "proj_out."),
            ] {
                if let Some(t) = r.strip_prefix(a) {
                    return format!("{side}.mid.attn_1.{b}{t}");
                }
            }
            panic!("{d}");
        }
        let blocks = if side == "encoder" {
            "down_blocks."
        } else {
            "up_blocks."
        };
        let (i, r) = idx(r.strip_prefix(blocks).unwrap());
        let (tag, lv, samp) = if side == "encoder" {
            ("down", i, "downsample")
        } else {
            ("up", n - 1 - i, "upsample")
        };
        if let Some(r) = r.strip_prefix("resnets.") {
            let (j, r) = idx(r);
            return format!("{side}.{tag}.{lv}.block.{j}.{}", res(r));
        }
        let r = r.split_once("samplers.0.").unwrap().1;
        return format!("{side}.{tag}.{lv}.{samp}.{r}");
    }
    d.to_string() // quant_conv, post_quant_conv
}

#[test]
fn ldm_checkpoint_gives_the_same_samples_as_the_diffusers_folders() {
    use std::collections::HashMap;
    let dir = scratch("ldm");
    let cfg = Zero123Config::tiny();
    write_random_weights(&dir, &cfg, Seed(5)).unwrap();
    let read = |p: &str| candle_core::safetensors::load(dir.join(p), &Device::Cpu).unwrap();
    let mut ldm: HashMap<String, Tensor> = HashMap::new();
    // UNet: the EMA copy holds the real weights, the raw copy zeros (EMA must win).
    let unet = read("unet/diffusion_pytorch_model.safetensors");
    let l = cfg.unet.layers_per_block;
    let up_attn = |lv: usize| {
        unet.keys()
            .any(|k| k.starts_with(&format!("up_blocks.{lv}.attentions.")))
    };
    for (k, t) in &unet {
        let lk = unet_inv(k, l, &up_attn);
        assert_eq!(
            gdlab_diffusion::zero123::ldm::unet_key(&lk, l).as_deref(),
            Some(k.as_str()),
            "{lk}"
        );
        ldm.insert(
            format!("model.diffusion_model.{lk}"),
            t.zeros_like().unwrap(),
        );
        ldm.insert(gdlab_diffusion::zero123::ldm::ema_key(&lk), t.clone());
    }
    // VAE, with the mid-attention projections as 1×1 convolutions (as LDM stores them).
    let n = cfg.vae.block_out_channels.len();
    for (k, t) in read("vae/diffusion_pytorch_model.safetensors") {
        let lk = vae_inv(&k, n);
        assert_eq!(
            gdlab_diffusion::zero123::ldm::vae_key(&lk, n).as_deref(),
            Some(k.as_str()),
            "{lk}"
        );
        let t = if t.rank() == 2 {
            t.unsqueeze(2).unwrap().unsqueeze(3).unwrap()
        } else {
            t
        };
        ldm.insert(format!("first_stage_model.{lk}"), t);
    }
    // CLIP in OpenAI naming: fused in_proj, transposed proj.
    let clip = read("image_encoder/model.safetensors");
    let v = "cond_stage_model.model.visual.";
    for (k, t) in &clip {
        let r = k.strip_prefix("vision_model.").unwrap_or(k);
        let name = match r {
            "embeddings.class_embedding" => "class_embedding".to_string(),
            "embeddings.position_embedding.weight" => "positional_embedding".to_string(),
            "embeddings.patch_embedding.weight" => "conv1.weight".to_string(),
            "visual_projection.weight" => {
                ldm.insert(format!("{v}proj"), t.t().unwrap().contiguous().unwrap());
                continue;
            }
            _ if r.starts_with("pre_layrnorm.") => r.replace("pre_layrnorm.", "ln_pre."),
            _ if r.starts_with("post_layernorm.") => r.replace("post_layernorm.", "ln_post."),
            _ => {
                let (i, rest) = idx(r.strip_prefix("encoder.layers.").unwrap());
                if rest.starts_with("self_attn.q_proj.") {
                    let kind = rest.rsplit('.').next().unwrap();
                    let qkv: Vec<Tensor> = ["q", "k", "v"]
                        .iter()
                        .map(|p| {
                            clip[&format!(
                                "vision_model.encoder.layers.{i}.self_attn.{p}_proj.{kind}"
                            )]
                                .clone()
                        })
                        .collect();
                    ldm.insert(
                        format!("{v}transformer.resblocks.{i}.attn.in_proj_{kind}"),
                        Tensor::cat(&qkv, 0).unwrap(),
                    );
                    continue;
                }
                if rest.starts_with("self_attn.k_proj.") || rest.starts_with("self_attn.v_proj.") {
                    continue;
                }
                let rest = rest
                    .replace("layer_norm1.", "ln_1.")
                    .replace("layer_norm2.", "ln_2.")
                    .replace("self_attn.out_proj.", "attn.out_proj.")
                    .replace("mlp.fc1.", "mlp.c_fc.")
                    .replace("mlp.fc2.", "mlp.c_proj.");
                format!("transformer.resblocks.{i}.{rest}")
            }
        };
        ldm.insert(format!("{v}{name}"), t.clone());
    }
    for (k, t) in read("cc_projection/diffusion_pytorch_model.safetensors") {
        ldm.insert(k.replace("projection.", "cc_projection."), t);
    }
    let ckpt = dir.join("ldm").join("tiny.safetensors");
    std::fs::create_dir_all(ckpt.parent().unwrap()).unwrap();
    candle_core::safetensors::save(&ldm, &ckpt).unwrap();

    let w = WeightsDir::open_ldm(&ckpt, cfg.clone()).unwrap();
    assert_eq!(
        w.layout(),
        &Layout::Ldm {
            file: ckpt.clone(),
            used_ema: true
        }
    );
    let from_ldm = Zero123::load(&w, &Device::Cpu).unwrap();
    let from_diffusers = load(&dir);
    let img = source_image(16);
    let pose = RelativePose::new(-10.0, 45.0, 0.1).unwrap();
    let opts = SampleOptions {
        seed: Seed(2),
        method: Method::Baseline { n_steps: 3 },
        ..SampleOptions::default()
    };
    let a = from_ldm.sample(&img, &pose, &opts).unwrap();
    let b = from_diffusers.sample(&img, &pose, &opts).unwrap();
    assert_eq!(flat(&a.image), flat(&b.image));
    // The default-size opener rejects the tiny checkpoint by key and shape.
    let e = Zero123::load(&WeightsDir::open(&ckpt).unwrap(), &Device::Cpu)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("tiny.safetensors") && e.contains("expected shape"),
        "{e}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn ldm_renaming_covers_every_full_size_key() {
    // Every tensor the full-size UNet and VAE request (recorded at zero cost) has an LDM
    // name that `ldm::unet_key` / `ldm::vae_key` map back to it (layers_per_block 2,
    // upsamplers at `.2.conv` on attention levels and `.1.conv` on level 0).
    use gdlab_diffusion::sd::shape_only::required_tensors;
    use gdlab_diffusion::sd::{SdUNet, UNetConfig};
    use gdlab_diffusion::zero123::ldm::{unet_key, vae_key};
    use gdlab_diffusion::zero123::vae::{Vae, VaeConfig};
    let unet = required_tensors(|vb| SdUNet::new(vb, &UNetConfig::zero123())).unwrap();
    let names: Vec<String> = unet.iter().map(|s| s.name.clone()).collect();
    let up_attn = |lv: usize| {
        names
            .iter()
            .any(|k| k.starts_with(&format!("up_blocks.{lv}.attentions.")))
    };
    let mut ldm_names = std::collections::HashSet::new();
    for k in &names {
        let l = unet_inv(k, 2, &up_attn);
        assert_eq!(unet_key(&l, 2).as_deref(), Some(k.as_str()), "{l}");
        assert!(ldm_names.insert(l), "{k}");
    }
    assert!(ldm_names.contains("output_blocks.2.1.conv.weight"));
    assert!(ldm_names.contains("output_blocks.8.2.conv.weight"));
    assert!(ldm_names.contains("input_blocks.9.0.op.weight"));
    let vae = required_tensors(|vb| Vae::new(vb, &VaeConfig::zero123())).unwrap();
    for s in &vae {
        let l = vae_inv(&s.name, 4);
        assert_eq!(vae_key(&l, 4).as_deref(), Some(s.name.as_str()), "{l}");
    }
}

/// The GT-map oracle (spec §2.7): every self-attention map of the run is the one recorded
/// from the target, whatever the step: the captured (head-averaged, conditional target)
/// probabilities are identical at t = 751 of a 4-step run and at t = 667 of a 3-step run,
/// although the latents differ. The run is deterministic, takes `n_steps` evaluations, and
/// differs from the baseline; a wrongly sized target is an error.
#[test]
fn gt_maps_oracle_replaces_every_self_attention_map() {
    let dir = scratch("gt");
    write_random_weights(&dir, &Zero123Config::tiny(), Seed(3)).unwrap();
    let model = load(&dir);
    let img = source_image(16);
    let pose = RelativePose::new(0.0, 45.0, 0.0).unwrap();
    let mut target = RgbImage::filled(16, 16, [1.0; 3]);
    for i in 0..16 * 6 {
        target.pixels[i * 3 + 2] = 0.2;
    }
    let opts = |n_steps: usize| SampleOptions {
        seed: Seed(21),
        method: Method::GtMaps {
            n_steps,
            target: target.clone(),
        },
        capture_attention: true,
        ..SampleOptions::default()
    };
    let a = model.sample(&img, &pose, &opts(4)).unwrap();
    let a2 = model.sample(&img, &pose, &opts(4)).unwrap();
    let b = model.sample(&img, &pose, &opts(3)).unwrap();
    assert_eq!(a.nfe, 4);
    assert_eq!(flat(&a.image), flat(&a2.image));
    let (ca, cb) = (a.attention.unwrap(), b.attention.unwrap());
    assert_eq!((ca.t, cb.t), (751, 667));
    assert_eq!(flat(&ca.probs), flat(&cb.probs));
    let base = model
        .sample(
            &img,
            &pose,
            &SampleOptions {
                seed: Seed(21),
                method: Method::Baseline { n_steps: 4 },
                capture_attention: true,
                ..SampleOptions::default()
            },
        )
        .unwrap();
    assert_ne!(flat(&base.image), flat(&a.image));
    assert_ne!(flat(&base.attention.unwrap().probs), flat(&ca.probs));
    let small = SampleOptions {
        method: Method::GtMaps {
            n_steps: 4,
            target: RgbImage::filled(8, 8, [1.0; 3]),
        },
        ..SampleOptions::default()
    };
    assert!(model.sample(&img, &pose, &small).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}
