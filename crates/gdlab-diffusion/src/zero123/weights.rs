//! User-supplied Zero-1-to-3 weights (spec §4.2): the diffusers directory layout, the
//! original LDM checkpoint, their `config.json` files, and the pre-flight check of every
//! required tensor.
//!
//! # Layouts
//!
//! **diffusers** (e.g. the Hugging Face repositories `kxic/zero123-165000`,
//! `kxic/zero123-xl`, the output of diffusers' `convert_zero123_to_diffusers.py`):
//!
//! | file | model | keys |
//! |---|---|---|
//! | `unet/diffusion_pytorch_model.safetensors` | [`SdUNet`] | `conv_in.weight` (8 input channels), … |
//! | `vae/diffusion_pytorch_model.safetensors` | [`Vae`] | `encoder.*`, `decoder.*`, `quant_conv.*`, `post_quant_conv.*` |
//! | `image_encoder/model.safetensors` | [`ClipImageEncoder`] | `vision_model.*`, `visual_projection.weight` |
//! | `cc_projection/diffusion_pytorch_model.safetensors` | projection | `projection.{weight,bias}` (772 → 768) |
//!
//! Each folder may hold a `config.json` (diffusers / Hugging Face format); the fields
//! this crate uses are read and validated, absent fields take Zero-1-to-3's values. The
//! `.fp16.safetensors` variants and PyTorch `.bin` files are accepted when the plain
//! `.safetensors` file is absent.
//!
//! **LDM** (one `.safetensors` or `.ckpt` file in the directory, or given directly): keys
//! `model.diffusion_model.*` (or the EMA copy `model_ema.*`, preferred when present, as
//! Zero-1-to-3 samples under `ema_scope`), `first_stage_model.*`,
//! `cond_stage_model.model.visual.*` and `cc_projection.*`, renamed by [`super::ldm`]; the
//! OpenAI CLIP's fused `in_proj_weight` is split into q/k/v and `proj` transposed. No
//! `config.json` is read: the sizes are Zero-1-to-3's (Zero123-XL has the same ones).
//! `.ckpt` files go through candle's PyTorch pickle reader; converting them to
//! safetensors first is faster and is the tested path.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use candle_core::{DType, Device, Tensor};
use serde_json::{json, Map, Value};

use super::clip::{ClipImageConfig, ClipImageEncoder};
use super::ldm;
use super::tensors::{check_component, Component, TensorFile};
use super::vae::{Vae, VaeConfig};
use crate::error::{DiffusionError, Result};
use crate::sd::shape_only::ShapeOnlyBackend;
use crate::sd::{SdUNet, UNetConfig};

/// The pose–CLIP projection `cc_projection` (diffusers `CCProjection`): a linear layer
/// `(projection_dim + 4) → cross_attention_dim`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProjectionConfig {
    /// Input width (`in_channel`; 772 = 768 CLIP + 4 pose).
    pub in_features: usize,
    /// Output width (`out_channel`; 768).
    pub out_features: usize,
}

/// Every size of a Zero-1-to-3 model.
#[derive(Clone, Debug, PartialEq)]
pub struct Zero123Config {
    /// The denoising UNet.
    pub unet: UNetConfig,
    /// Latent side the UNet was trained at (diffusers `sample_size`; 32).
    pub sample_size: usize,
    /// The VAE.
    pub vae: VaeConfig,
    /// The CLIP image tower.
    pub clip: ClipImageConfig,
    /// The pose–CLIP projection.
    pub projection: ProjectionConfig,
}

impl Zero123Config {
    /// Zero-1-to-3 (and Zero123-XL): spec §1.1–1.2.
    #[must_use]
    pub fn zero123() -> Self {
        Zero123Config {
            unet: UNetConfig::zero123(),
            sample_size: 32,
            vae: VaeConfig::zero123(),
            clip: ClipImageConfig::vit_l14(),
            projection: ProjectionConfig {
                in_features: 772,
                out_features: 768,
            },
        }
    }

    /// A tiny model of the same structure (UNet `[32; 4]`, VAE `[32, 32]`, a 2-layer CLIP
    /// at 28 px, 16 px images): for tests and smoke runs with [`write_random_weights`].
    #[must_use]
    pub fn tiny() -> Self {
        Zero123Config {
            unet: UNetConfig {
                in_channels: 8,
                out_channels: 4,
                block_out_channels: vec![32, 32, 32, 32],
                layers_per_block: 1,
                attention_levels: vec![true, true, true, false],
                heads: 2,
                cross_attention_dim: 32,
                norm_num_groups: 8,
                norm_eps: 1e-5,
            },
            sample_size: 8,
            vae: VaeConfig {
                block_out_channels: vec![32, 32],
                layers_per_block: 1,
                latent_channels: 4,
                norm_num_groups: 8,
                scaling_factor: 0.18215,
            },
            clip: ClipImageConfig {
                hidden_size: 32,
                intermediate_size: 64,
                num_hidden_layers: 2,
                num_attention_heads: 4,
                projection_dim: 32,
                image_size: 28,
                patch_size: 14,
            },
            projection: ProjectionConfig {
                in_features: 36,
                out_features: 32,
            },
        }
    }

    /// Image side the model works at: `sample_size × 2^(VAE levels − 1)` (256).
    #[must_use]
    pub fn image_size(&self) -> usize {
        self.sample_size * self.vae.downsample_factor()
    }

    /// Checks each part and their agreement (`in_channels = 2·latent`, `out_channels =
    /// latent`, projection `projection_dim + 4 → cross_attention_dim`, a latent divisible
    /// by `2^(UNet levels − 1)`).
    ///
    /// # Errors
    /// [`DiffusionError::OutOfRange`] naming the first offending field.
    pub fn validate(&self) -> Result<()> {
        self.unet.validate()?;
        self.vae.validate()?;
        self.clip.validate()?;
        let bad = |field, value: usize, allowed| {
            Err(DiffusionError::OutOfRange {
                field,
                value: value as f64,
                allowed,
            })
        };
        let lat = self.vae.latent_channels;
        if self.unet.in_channels != 2 * lat {
            return bad(
                "unet.in_channels",
                self.unet.in_channels,
                "2 × vae.latent_channels",
            );
        }
        if self.unet.out_channels != lat {
            return bad(
                "unet.out_channels",
                self.unet.out_channels,
                "vae.latent_channels",
            );
        }
        if self.projection.in_features != self.clip.projection_dim + 4 {
            return bad(
                "cc_projection.in_channel",
                self.projection.in_features,
                "image_encoder projection_dim + 4",
            );
        }
        if self.projection.out_features != self.unet.cross_attention_dim {
            return bad(
                "cc_projection.out_channel",
                self.projection.out_features,
                "unet cross_attention_dim",
            );
        }
        let m = 1usize << (self.unet.block_out_channels.len() - 1);
        if self.sample_size == 0 || self.sample_size % m != 0 {
            return bad(
                "unet.sample_size",
                self.sample_size,
                "a positive multiple of 2^(UNet levels − 1)",
            );
        }
        Ok(())
    }
}

/// Which layout a weights directory has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Layout {
    /// Four diffusers folders.
    Diffusers,
    /// One LDM checkpoint.
    Ldm {
        /// The checkpoint file.
        file: PathBuf,
        /// Whether the UNet weights come from the EMA copy.
        used_ema: bool,
    },
}

/// The four diffusers files: folder, preferred file, fallbacks.
const DIFFUSERS_FILES: [(&str, &str, &[&str]); 4] = [
    (
        "unet",
        "diffusion_pytorch_model.safetensors",
        &[
            "diffusion_pytorch_model.fp16.safetensors",
            "diffusion_pytorch_model.bin",
        ],
    ),
    (
        "vae",
        "diffusion_pytorch_model.safetensors",
        &[
            "diffusion_pytorch_model.fp16.safetensors",
            "diffusion_pytorch_model.bin",
        ],
    ),
    (
        "image_encoder",
        "model.safetensors",
        &["model.fp16.safetensors", "pytorch_model.bin"],
    ),
    (
        "cc_projection",
        "diffusion_pytorch_model.safetensors",
        &[
            "diffusion_pytorch_model.fp16.safetensors",
            "diffusion_pytorch_model.bin",
        ],
    ),
];

fn werr(path: &Path, message: impl Into<String>) -> DiffusionError {
    DiffusionError::Weights {
        path: path.display().to_string(),
        message: message.into(),
    }
}

/// Field access on a `config.json` object with errors naming the file and the field;
/// `null` counts as absent (diffusers writes `null` for unset options).
struct Fields<'a> {
    path: &'a Path,
    obj: &'a Map<String, Value>,
}

impl Fields<'_> {
    fn get(&self, f: &str) -> Option<&Value> {
        self.obj.get(f).filter(|v| !v.is_null())
    }
    fn err(&self, f: &str, want: &str, got: &Value) -> DiffusionError {
        werr(
            self.path,
            format!("field `{f}`: expected {want}, got {got}"),
        )
    }
    fn usize(&self, f: &str, default: usize) -> Result<usize> {
        match self.get(f) {
            None => Ok(default),
            Some(v) => v
                .as_u64()
                .filter(|&x| x > 0)
                .map(|x| x as usize)
                .ok_or_else(|| self.err(f, "a positive integer", v)),
        }
    }
    fn usize_list(&self, f: &str, default: &[usize]) -> Result<Vec<usize>> {
        match self.get(f) {
            None => Ok(default.to_vec()),
            Some(v) => v
                .as_array()
                .filter(|a| !a.is_empty())
                .and_then(|a| {
                    a.iter()
                        .map(|x| x.as_u64().filter(|&x| x > 0).map(|x| x as usize))
                        .collect::<Option<Vec<_>>>()
                })
                .ok_or_else(|| self.err(f, "a non-empty list of positive integers", v)),
        }
    }
    /// An integer or a list of equal integers (diffusers per-level options).
    fn usize_or_uniform_list(&self, f: &str, default: usize) -> Result<usize> {
        match self.get(f) {
            Some(v @ Value::Array(_)) => {
                let l = self.usize_list(f, &[])?;
                if l.iter().all(|&x| x == l[0]) {
                    Ok(l[0])
                } else {
                    Err(self.err(f, "one value for every level", v))
                }
            }
            _ => self.usize(f, default),
        }
    }
    fn f64(&self, f: &str, default: f64) -> Result<f64> {
        match self.get(f) {
            None => Ok(default),
            Some(v) => v
                .as_f64()
                .filter(|x| x.is_finite() && *x > 0.0)
                .ok_or_else(|| self.err(f, "a positive number", v)),
        }
    }
    fn strings(&self, f: &str) -> Result<Option<Vec<String>>> {
        match self.get(f) {
            None => Ok(None),
            Some(v) => v
                .as_array()
                .and_then(|a| {
                    a.iter()
                        .map(|x| x.as_str().map(str::to_string))
                        .collect::<Option<Vec<_>>>()
                })
                .map(Some)
                .ok_or_else(|| self.err(f, "a list of strings", v)),
        }
    }
    /// A field that, when present, must equal `want` (an option this crate does not
    /// implement otherwise).
    fn must_be(&self, f: &str, want: &Value, what: &str) -> Result<()> {
        match self.get(f) {
            Some(v) if v != want => Err(self.err(f, what, v)),
            _ => Ok(()),
        }
    }
}

fn read_config(dir: &Path) -> Result<Option<(PathBuf, Map<String, Value>)>> {
    let path = dir.join("config.json");
    if !path.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path).map_err(|e| werr(&path, e.to_string()))?;
    let v: Value =
        serde_json::from_str(&text).map_err(|e| werr(&path, format!("not valid JSON: {e}")))?;
    match v {
        Value::Object(m) => Ok(Some((path, m))),
        _ => Err(werr(&path, "not a JSON object")),
    }
}

/// The UNet sizes and `sample_size` from a diffusers `UNet2DConditionModel`
/// `config.json` object; absent fields take Zero-1-to-3's values.
///
/// The head count is `num_attention_heads` when set, else `attention_head_dim`, which
/// SD-1.x configs use for the head **count** (spec pitfall 13); a per-level list must hold
/// one value. `down_block_types` gives the attention levels (`CrossAttnDownBlock2D` ↔
/// attention, `DownBlock2D` ↔ none); `up_block_types`, when present, must mirror it.
///
/// # Errors
/// [`DiffusionError::Weights`] naming `path` and the field: a wrong type, an unknown block
/// type, or an option this UNet does not implement (`use_linear_projection`,
/// `transformer_layers_per_block ≠ 1`, class or addition embeddings, cross-only
/// attention, other time embeddings or kernel sizes).
pub fn unet_config_from_json(path: &Path, obj: &Map<String, Value>) -> Result<(UNetConfig, usize)> {
    let f = Fields { path, obj };
    let d = UNetConfig::zero123();
    let block_out_channels = f.usize_list("block_out_channels", &d.block_out_channels)?;
    let heads = match f.get("num_attention_heads") {
        Some(_) => f.usize_or_uniform_list("num_attention_heads", d.heads)?,
        None => f.usize_or_uniform_list("attention_head_dim", d.heads)?,
    };
    let down = f.strings("down_block_types")?.unwrap_or_else(|| {
        [
            "CrossAttnDownBlock2D",
            "CrossAttnDownBlock2D",
            "CrossAttnDownBlock2D",
            "DownBlock2D",
        ]
        .map(String::from)
        .to_vec()
    });
    let attention_levels = down
        .iter()
        .map(|t| match t.as_str() {
            "CrossAttnDownBlock2D" => Ok(true),
            "DownBlock2D" => Ok(false),
            other => Err(werr(
                path,
                format!(
                    "field `down_block_types`: unsupported block `{other}` (expected CrossAttnDownBlock2D or DownBlock2D)"
                ),
            )),
        })
        .collect::<Result<Vec<bool>>>()?;
    if attention_levels.len() != block_out_channels.len() {
        return Err(werr(
            path,
            format!(
                "field `down_block_types`: {} entries for {} levels of `block_out_channels`",
                attention_levels.len(),
                block_out_channels.len()
            ),
        ));
    }
    if let Some(up) = f.strings("up_block_types")? {
        let want: Vec<&str> = attention_levels
            .iter()
            .rev()
            .map(|&a| if a { "CrossAttnUpBlock2D" } else { "UpBlock2D" })
            .collect();
        if up != want {
            return Err(werr(
                path,
                format!("field `up_block_types`: expected {want:?} (the mirror of down_block_types), got {up:?}"),
            ));
        }
    }
    f.must_be(
        "use_linear_projection",
        &json!(false),
        "false (1×1-conv projections)",
    )?;
    if let Some(v) = f.get("transformer_layers_per_block") {
        if f.usize_or_uniform_list("transformer_layers_per_block", 1)? != 1 {
            return Err(f.err("transformer_layers_per_block", "1", v));
        }
    }
    f.must_be(
        "mid_block_type",
        &json!("UNetMidBlock2DCrossAttn"),
        "\"UNetMidBlock2DCrossAttn\"",
    )?;
    f.must_be("act_fn", &json!("silu"), "\"silu\"")?;
    f.must_be("flip_sin_to_cos", &json!(true), "true")?;
    f.must_be("freq_shift", &json!(0), "0")?;
    for (field, want, what) in [
        ("class_embed_type", Value::Null, "null"),
        ("addition_embed_type", Value::Null, "null"),
        ("encoder_hid_dim", Value::Null, "null"),
        ("time_cond_proj_dim", Value::Null, "null"),
        ("center_input_sample", json!(false), "false"),
        ("only_cross_attention", json!(false), "false"),
        ("dual_cross_attention", json!(false), "false"),
        ("resnet_time_scale_shift", json!("default"), "\"default\""),
        ("time_embedding_type", json!("positional"), "\"positional\""),
        ("conv_in_kernel", json!(3), "3"),
        ("conv_out_kernel", json!(3), "3"),
    ] {
        f.must_be(field, &want, what)?;
    }
    let cfg = UNetConfig {
        in_channels: f.usize("in_channels", d.in_channels)?,
        out_channels: f.usize("out_channels", d.out_channels)?,
        block_out_channels,
        layers_per_block: f.usize("layers_per_block", d.layers_per_block)?,
        attention_levels,
        heads,
        cross_attention_dim: f.usize("cross_attention_dim", d.cross_attention_dim)?,
        norm_num_groups: f.usize("norm_num_groups", d.norm_num_groups)?,
        norm_eps: f.f64("norm_eps", d.norm_eps)?,
    };
    let sample_size = f.usize("sample_size", 32)?;
    cfg.validate().map_err(|e| werr(path, e.to_string()))?;
    Ok((cfg, sample_size))
}

/// The VAE sizes from a diffusers `AutoencoderKL` `config.json` object.
///
/// # Errors
/// [`DiffusionError::Weights`] naming `path` and the field.
pub fn vae_config_from_json(path: &Path, obj: &Map<String, Value>) -> Result<VaeConfig> {
    let f = Fields { path, obj };
    let d = VaeConfig::zero123();
    f.must_be("in_channels", &json!(3), "3")?;
    f.must_be("out_channels", &json!(3), "3")?;
    f.must_be("use_quant_conv", &json!(true), "true")?;
    f.must_be("use_post_quant_conv", &json!(true), "true")?;
    let cfg = VaeConfig {
        block_out_channels: f.usize_list("block_out_channels", &d.block_out_channels)?,
        layers_per_block: f.usize("layers_per_block", d.layers_per_block)?,
        latent_channels: f.usize("latent_channels", d.latent_channels)?,
        norm_num_groups: f.usize("norm_num_groups", d.norm_num_groups)?,
        scaling_factor: f.f64("scaling_factor", d.scaling_factor)?,
    };
    cfg.validate().map_err(|e| werr(path, e.to_string()))?;
    Ok(cfg)
}

/// The CLIP image-tower sizes from a Hugging Face `CLIPVisionConfig` (or a full
/// `CLIPConfig`, whose `vision_config` is used) `config.json` object. Only
/// `hidden_act = "quick_gelu"` (OpenAI CLIP) and `layer_norm_eps = 1e-5` are supported.
///
/// # Errors
/// [`DiffusionError::Weights`] naming `path` and the field.
pub fn clip_config_from_json(path: &Path, obj: &Map<String, Value>) -> Result<ClipImageConfig> {
    let top = Fields { path, obj };
    let vision = match top.get("vision_config") {
        Some(Value::Object(m)) => m,
        Some(v) => return Err(top.err("vision_config", "an object", v)),
        None => obj,
    };
    let f = Fields { path, obj: vision };
    let d = ClipImageConfig::vit_l14();
    f.must_be("hidden_act", &json!("quick_gelu"), "\"quick_gelu\"")?;
    f.must_be("num_channels", &json!(3), "3")?;
    if let Some(v) = f.get("layer_norm_eps") {
        if v.as_f64().is_none_or(|e| (e - 1e-5).abs() > 1e-12) {
            return Err(f.err("layer_norm_eps", "1e-5", v));
        }
    }
    let projection_dim = match f.get("projection_dim") {
        Some(_) => f.usize("projection_dim", d.projection_dim)?,
        None => top.usize("projection_dim", d.projection_dim)?,
    };
    let cfg = ClipImageConfig {
        hidden_size: f.usize("hidden_size", d.hidden_size)?,
        intermediate_size: f.usize("intermediate_size", d.intermediate_size)?,
        num_hidden_layers: f.usize("num_hidden_layers", d.num_hidden_layers)?,
        num_attention_heads: f.usize("num_attention_heads", d.num_attention_heads)?,
        projection_dim,
        image_size: f.usize("image_size", d.image_size)?,
        patch_size: f.usize("patch_size", d.patch_size)?,
    };
    cfg.validate().map_err(|e| werr(path, e.to_string()))?;
    Ok(cfg)
}

/// The projection sizes from a diffusers `CCProjection` `config.json` object
/// (`in_channel`, `out_channel`).
///
/// # Errors
/// [`DiffusionError::Weights`] naming `path` and the field.
pub fn projection_config_from_json(
    path: &Path,
    obj: &Map<String, Value>,
) -> Result<ProjectionConfig> {
    let f = Fields { path, obj };
    Ok(ProjectionConfig {
        in_features: f.usize("in_channel", 772)?,
        out_features: f.usize("out_channel", 768)?,
    })
}

/// An opened weights directory: its layout, the model sizes, and one tensor source per
/// model. Opening reads only file headers and `config.json` files.
#[derive(Debug)]
pub struct WeightsDir {
    root: PathBuf,
    layout: Layout,
    config: Zero123Config,
    unet: Component,
    vae: Component,
    clip: Component,
    projection: Component,
}

fn find_file(dir: &Path, main: &str, fallbacks: &[&str]) -> Option<PathBuf> {
    std::iter::once(main)
        .chain(fallbacks.iter().copied())
        .map(|n| dir.join(n))
        .find(|p| p.is_file())
}

fn ldm_candidates(dir: &Path) -> Result<Vec<PathBuf>> {
    let rd = std::fs::read_dir(dir).map_err(|e| werr(dir, e.to_string()))?;
    let mut v: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && p.extension()
                    .is_some_and(|e| e == "safetensors" || e == "ckpt")
        })
        .collect();
    v.sort();
    Ok(v)
}

impl WeightsDir {
    /// Opens `path`: a diffusers directory (an `unet/` folder is present), a directory
    /// holding exactly one LDM `.safetensors`/`.ckpt` file, or such a file itself.
    ///
    /// # Errors
    /// [`DiffusionError::Weights`] naming the path: missing directory or file, unreadable
    /// or invalid `config.json` (naming the field), inconsistent sizes between the
    /// folders, unreadable weight headers.
    pub fn open(path: &Path) -> Result<Self> {
        if path.is_file() {
            return Self::open_ldm(path, Zero123Config::zero123());
        }
        if !path.is_dir() {
            return Err(werr(path, "no such weights directory or file"));
        }
        let has_diffusers = DIFFUSERS_FILES
            .iter()
            .any(|(folder, _, _)| path.join(folder).is_dir());
        if !has_diffusers {
            let c = ldm_candidates(path)?;
            return match c.as_slice() {
                [one] => Self::open_ldm(one, Zero123Config::zero123()),
                [] => Err(werr(
                    &path.join("unet").join("diffusion_pytorch_model.safetensors"),
                    "missing file (expected the diffusers layout: unet/, vae/, image_encoder/, cc_projection/; or one LDM .ckpt/.safetensors checkpoint in the directory)",
                )),
                _ => Err(werr(
                    path,
                    format!(
                        "{} checkpoint files; keep exactly one LDM .ckpt/.safetensors file, or use the diffusers layout",
                        c.len()
                    ),
                )),
            };
        }
        let mut files = Vec::with_capacity(4);
        for (folder, main, fallbacks) in DIFFUSERS_FILES {
            let dir = path.join(folder);
            let file = find_file(&dir, main, fallbacks)
                .ok_or_else(|| werr(&dir.join(main), "missing file (diffusers layout)"))?;
            files.push((dir, Arc::new(TensorFile::open(&file)?)));
        }
        let cfg_of = |i: usize| read_config(&files[i].0);
        let (unet, sample_size) = match cfg_of(0)? {
            Some((p, m)) => unet_config_from_json(&p, &m)?,
            None => (UNetConfig::zero123(), 32),
        };
        let vae = match cfg_of(1)? {
            Some((p, m)) => vae_config_from_json(&p, &m)?,
            None => VaeConfig::zero123(),
        };
        let clip = match cfg_of(2)? {
            Some((p, m)) => clip_config_from_json(&p, &m)?,
            None => ClipImageConfig::vit_l14(),
        };
        let projection = match cfg_of(3)? {
            Some((p, m)) => projection_config_from_json(&p, &m)?,
            None => ProjectionConfig {
                in_features: 772,
                out_features: 768,
            },
        };
        let config = Zero123Config {
            unet,
            sample_size,
            vae,
            clip,
            projection,
        };
        config.validate().map_err(|e| {
            werr(
                path,
                format!("the config.json files disagree with each other: {e}"),
            )
        })?;
        let [u, v, c, p] = [0, 1, 2, 3].map(|i| Component::prefixed(Arc::clone(&files[i].1), ""));
        Ok(WeightsDir {
            root: path.to_path_buf(),
            layout: Layout::Diffusers,
            config,
            unet: u,
            vae: v.squeeze_trailing_ones(),
            clip: c,
            projection: p,
        })
    }

    /// Opens an LDM checkpoint `file` whose sizes are `config` ([`WeightsDir::open`] uses
    /// [`Zero123Config::zero123`], as LDM checkpoints carry no `config.json`).
    ///
    /// # Errors
    /// [`DiffusionError::OutOfRange`] for an invalid `config`; [`DiffusionError::Weights`]
    /// naming the file if it is unreadable or has no `model.diffusion_model.*` tensors.
    pub fn open_ldm(file: &Path, config: Zero123Config) -> Result<Self> {
        config.validate()?;
        let f = Arc::new(TensorFile::open(file)?);
        let shapes: BTreeMap<String, Vec<usize>> = f.shapes();
        if !shapes.keys().any(|k| k.starts_with(ldm::UNET_PREFIX)) {
            return Err(werr(
                file,
                format!(
                    "not a Zero-1-to-3 LDM checkpoint (no `{}*` tensors)",
                    ldm::UNET_PREFIX
                ),
            ));
        }
        let (unet_map, used_ema) = ldm::unet_sources(&shapes, config.unet.layers_per_block, true);
        let vae_map = ldm::vae_sources(&shapes, config.vae.block_out_channels.len());
        let clip_map = ldm::clip_sources(&shapes, ldm::CLIP_PREFIX);
        let proj_map = ldm::projection_sources(&shapes);
        Ok(WeightsDir {
            root: file.to_path_buf(),
            layout: Layout::Ldm {
                file: file.to_path_buf(),
                used_ema,
            },
            config,
            unet: Component::mapped(Arc::clone(&f), unet_map),
            vae: Component::mapped(Arc::clone(&f), vae_map).squeeze_trailing_ones(),
            clip: Component::mapped(Arc::clone(&f), clip_map),
            projection: Component::mapped(f, proj_map),
        })
    }

    /// The path given to [`WeightsDir::open`].
    #[must_use]
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The layout found.
    #[must_use]
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The model sizes.
    #[must_use]
    pub fn config(&self) -> &Zero123Config {
        &self.config
    }

    /// The UNet's tensors (diffusers names).
    #[must_use]
    pub fn unet(&self) -> &Component {
        &self.unet
    }

    /// The VAE's tensors.
    #[must_use]
    pub fn vae(&self) -> &Component {
        &self.vae
    }

    /// The CLIP tower's tensors (Hugging Face names).
    #[must_use]
    pub fn clip(&self) -> &Component {
        &self.clip
    }

    /// The projection's tensors (`projection.weight`, `projection.bias`).
    #[must_use]
    pub fn projection(&self) -> &Component {
        &self.projection
    }

    /// Checks, before reading any weight, that every tensor the four models request is
    /// present with the right shape.
    ///
    /// # Errors
    /// [`DiffusionError::Weights`] naming the file, the key, the expected and the found
    /// shape of the first problem (UNet, then VAE, CLIP, projection).
    pub fn check(&self) -> Result<()> {
        let cfg = &self.config;
        check_component(&self.unet, &[], |vb| SdUNet::new(vb, &cfg.unet).map(|_| ()))?;
        check_component(&self.vae, &[], |vb| Vae::new(vb, &cfg.vae).map(|_| ()))?;
        check_component(&self.clip, &cfg.clip.probed_tensors(), |vb| {
            ClipImageEncoder::new(vb, &cfg.clip).map(|_| ())
        })?;
        check_component(&self.projection, &[], |vb| {
            projection(vb, &cfg.projection).map(|_| ())
        })
    }
}

/// The projection layer `projection.{weight,bias}`.
pub(crate) fn projection(
    vb: candle_nn::VarBuilder<'_>,
    cfg: &ProjectionConfig,
) -> Result<candle_nn::Linear> {
    Ok(candle_nn::linear(
        cfg.in_features,
        cfg.out_features,
        vb.pp("projection"),
    )?)
}

/// Writes a diffusers-layout weights directory with **random** weights (seeded, so the
/// files are reproducible) and `config.json` files describing `cfg`. The model's outputs
/// are noise: this is for tests, smoke runs and timing, not for images.
///
/// Weight matrices and kernels are `N(0, 1/fan_in)`, normalisation scales 1, biases and
/// other vectors `N(0, 0.02²)`.
///
/// # Errors
/// [`DiffusionError::OutOfRange`] for an invalid `cfg`; [`DiffusionError::Weights`] on
/// I/O errors.
pub fn write_random_weights(dir: &Path, cfg: &Zero123Config, seed: gdlab_core::Seed) -> Result<()> {
    cfg.validate()?;
    let u = &cfg.unet;
    let configs = [
        json!({
            "_class_name": "UNet2DConditionModel",
            "in_channels": u.in_channels, "out_channels": u.out_channels,
            "block_out_channels": u.block_out_channels, "layers_per_block": u.layers_per_block,
            "attention_head_dim": u.heads, "cross_attention_dim": u.cross_attention_dim,
            "norm_num_groups": u.norm_num_groups, "norm_eps": u.norm_eps,
            "sample_size": cfg.sample_size,
            "down_block_types": u.attention_levels.iter()
                .map(|&a| if a { "CrossAttnDownBlock2D" } else { "DownBlock2D" }).collect::<Vec<_>>(),
            "up_block_types": u.attention_levels.iter().rev()
                .map(|&a| if a { "CrossAttnUpBlock2D" } else { "UpBlock2D" }).collect::<Vec<_>>(),
            "use_linear_projection": false, "num_attention_heads": null,
        }),
        json!({
            "_class_name": "AutoencoderKL",
            "in_channels": 3, "out_channels": 3,
            "block_out_channels": cfg.vae.block_out_channels,
            "layers_per_block": cfg.vae.layers_per_block,
            "latent_channels": cfg.vae.latent_channels,
            "norm_num_groups": cfg.vae.norm_num_groups,
            "scaling_factor": cfg.vae.scaling_factor,
        }),
        json!({
            "architectures": ["CLIPVisionModelWithProjection"],
            "hidden_size": cfg.clip.hidden_size, "intermediate_size": cfg.clip.intermediate_size,
            "num_hidden_layers": cfg.clip.num_hidden_layers,
            "num_attention_heads": cfg.clip.num_attention_heads,
            "projection_dim": cfg.clip.projection_dim, "image_size": cfg.clip.image_size,
            "patch_size": cfg.clip.patch_size, "hidden_act": "quick_gelu",
            "layer_norm_eps": 1e-5, "num_channels": 3,
        }),
        json!({
            "_class_name": "CCProjection",
            "in_channel": cfg.projection.in_features, "out_channel": cfg.projection.out_features,
        }),
    ];
    let requests: [Vec<(String, Vec<usize>)>; 4] = [
        record(|vb| SdUNet::new(vb, &cfg.unet).map(|_| ()))?,
        record(|vb| Vae::new(vb, &cfg.vae).map(|_| ()))?,
        {
            let mut r = record(|vb| ClipImageEncoder::new(vb, &cfg.clip).map(|_| ()))?;
            r.extend(cfg.clip.probed_tensors());
            r
        },
        record(|vb| projection(vb, &cfg.projection).map(|_| ()))?,
    ];
    for (i, ((folder, file, _), reqs)) in DIFFUSERS_FILES.iter().zip(requests).enumerate() {
        let d = dir.join(folder);
        std::fs::create_dir_all(&d).map_err(|e| werr(&d, e.to_string()))?;
        let mut tensors = std::collections::HashMap::new();
        for (j, (name, shape)) in reqs.into_iter().enumerate() {
            let t = random_tensor(&name, &shape, seed.index(i as u64).index(j as u64))?;
            tensors.insert(name, t);
        }
        // Written under a temporary name, then renamed (no half-written weight files).
        let path = d.join(file);
        let tmp = d.join(format!(".{file}.{}.tmp", std::process::id()));
        candle_core::safetensors::save(&tensors, &tmp).map_err(|e| werr(&path, e.to_string()))?;
        std::fs::rename(&tmp, &path).map_err(|e| werr(&path, e.to_string()))?;
        let cpath = d.join("config.json");
        let text =
            serde_json::to_string_pretty(&configs[i]).map_err(|e| werr(&cpath, e.to_string()))?;
        gdlab_core::io::atomic_write(&cpath, text.as_bytes())
            .map_err(|e| werr(&cpath, e.to_string()))?;
    }
    Ok(())
}

fn record(
    build: impl FnOnce(candle_nn::VarBuilder<'static>) -> Result<()>,
) -> Result<Vec<(String, Vec<usize>)>> {
    // Probing constructors take their preferred branch (every name "exists").
    let rec = ShapeOnlyBackend::new();
    build(rec.var_builder(candle_core::DType::F32, &candle_core::Device::Cpu))?;
    Ok(rec
        .unique_specs()
        .into_iter()
        .map(|s| (s.name, s.shape))
        .collect())
}

fn random_tensor(name: &str, shape: &[usize], seed: gdlab_core::Seed) -> Result<Tensor> {
    let n: usize = shape.iter().product();
    let is_norm_scale = shape.len() == 1
        && name.ends_with("weight")
        && ["norm", "layer_norm", "layrnorm", "layernorm"]
            .iter()
            .any(|k| name.contains(k));
    let data: Vec<f32> = if is_norm_scale {
        vec![1.0; n]
    } else {
        let mut buf = vec![0f64; n];
        gdlab_core::normal::fill_normals(&mut seed.rng(), &mut buf);
        let std = if shape.len() >= 2 {
            (n / shape[0]).max(1) as f64
        } else {
            2500.0 // 0.02 = 1/√2500
        }
        .sqrt()
        .recip();
        buf.into_iter().map(|v| (v * std) as f32).collect()
    };
    Ok(Tensor::from_vec(data, shape, &Device::Cpu)?.to_dtype(DType::F32)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(build: impl FnOnce(candle_nn::VarBuilder<'static>) -> Result<()>) -> usize {
        record(build)
            .unwrap()
            .iter()
            .map(|(_, s)| s.iter().product::<usize>())
            .sum()
    }

    #[test]
    fn full_size_parameter_counts() {
        // CLIP ViT-L/14 vision tower + projection, by hand: embeddings 1024 (class) +
        // 1024·3·14² (patches) + 257·1024 (positions) = 866 304; 2 LayerNorms 4096; per
        // layer 4·(1024² + 1024) + 2·2048 + (1024·4096 + 4096) + (4096·1024 + 1024)
        // = 12 596 224, × 24; projection 1024·768: total 303 966 208. The SD VAE
        // (`AutoencoderKL`, ch 128, mult [1,2,4,4]) has 83 653 863 parameters.
        let c = Zero123Config::zero123();
        c.validate().unwrap();
        assert_eq!(c.image_size(), 256);
        assert_eq!(
            count(|vb| ClipImageEncoder::new(vb, &c.clip).map(|_| ())),
            303_966_208
        );
        assert_eq!(count(|vb| Vae::new(vb, &c.vae).map(|_| ())), 83_653_863);
        assert_eq!(
            count(|vb| projection(vb, &c.projection).map(|_| ())),
            772 * 768 + 768
        );
    }

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    #[test]
    fn diffusers_configs_of_zero123_parse_to_the_defaults() {
        // The fields of a diffusers Zero-1-to-3 `unet/config.json` (SD-1.x names).
        let unet = obj(json!({
            "_class_name": "UNet2DConditionModel", "act_fn": "silu", "attention_head_dim": 8,
            "block_out_channels": [320, 640, 1280, 1280], "center_input_sample": false,
            "cross_attention_dim": 768,
            "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D",
                                 "CrossAttnDownBlock2D", "DownBlock2D"],
            "downsample_padding": 1, "flip_sin_to_cos": true, "freq_shift": 0,
            "in_channels": 8, "layers_per_block": 2, "mid_block_scale_factor": 1,
            "norm_eps": 1e-05, "norm_num_groups": 32, "out_channels": 4, "sample_size": 32,
            "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D",
                               "CrossAttnUpBlock2D"],
            "num_attention_heads": null, "use_linear_projection": false
        }));
        let p = Path::new("unet/config.json");
        assert_eq!(
            unet_config_from_json(p, &unet).unwrap(),
            (UNetConfig::zero123(), 32)
        );
        let vae = obj(json!({
            "_class_name": "AutoencoderKL", "act_fn": "silu",
            "block_out_channels": [128, 256, 512, 512], "in_channels": 3,
            "latent_channels": 4, "layers_per_block": 2, "norm_num_groups": 32,
            "out_channels": 3, "sample_size": 256, "scaling_factor": 0.18215
        }));
        assert_eq!(
            vae_config_from_json(Path::new("vae/config.json"), &vae).unwrap(),
            VaeConfig::zero123()
        );
        // A full CLIPConfig: the vision part is used.
        let clip = obj(json!({
            "projection_dim": 768,
            "vision_config": {"hidden_size": 1024, "intermediate_size": 4096,
                "num_hidden_layers": 24, "num_attention_heads": 16, "image_size": 224,
                "patch_size": 14, "hidden_act": "quick_gelu", "layer_norm_eps": 1e-05}
        }));
        assert_eq!(
            clip_config_from_json(Path::new("image_encoder/config.json"), &clip).unwrap(),
            ClipImageConfig::vit_l14()
        );
        let proj = obj(json!({"in_channel": 772, "out_channel": 768}));
        assert_eq!(
            projection_config_from_json(Path::new("x"), &proj).unwrap(),
            Zero123Config::zero123().projection
        );
        // Empty objects take the defaults.
        assert_eq!(
            unet_config_from_json(p, &Map::new()).unwrap(),
            (UNetConfig::zero123(), 32)
        );
    }

    #[test]
    fn config_errors_name_the_file_and_the_field() {
        let p = Path::new("w/unet/config.json");
        let cases = [
            (
                json!({"attention_head_dim": [8, 8, 16, 16]}),
                "attention_head_dim",
            ),
            (json!({"down_block_types": ["Foo"]}), "down_block_types"),
            (
                json!({"down_block_types": ["DownBlock2D"]}),
                "down_block_types",
            ),
            (json!({"up_block_types": ["UpBlock2D"]}), "up_block_types"),
            (
                json!({"use_linear_projection": true}),
                "use_linear_projection",
            ),
            (
                json!({"transformer_layers_per_block": 2}),
                "transformer_layers_per_block",
            ),
            (json!({"in_channels": -8}), "in_channels"),
            (json!({"norm_eps": "small"}), "norm_eps"),
            (
                json!({"block_out_channels": [320, 640, 1280, 1281]}),
                "block_out_channels",
            ),
        ];
        for (v, field) in cases {
            let e = unet_config_from_json(p, &obj(v)).unwrap_err().to_string();
            assert!(e.contains("w/unet/config.json") && e.contains(field), "{e}");
        }
        let e = clip_config_from_json(Path::new("c.json"), &obj(json!({"hidden_act": "gelu"})))
            .unwrap_err()
            .to_string();
        assert!(e.contains("c.json") && e.contains("hidden_act"), "{e}");
        let e = vae_config_from_json(Path::new("v.json"), &obj(json!({"scaling_factor": 0})))
            .unwrap_err()
            .to_string();
        assert!(e.contains("scaling_factor"), "{e}");
        // Inconsistent folders: the UNet's input channels vs the VAE's latent channels.
        let mut c = Zero123Config::tiny();
        c.unet.in_channels = 6;
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .contains("in_channels"));
    }
}
