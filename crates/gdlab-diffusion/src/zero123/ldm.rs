//! Key renaming from the original LDM checkpoint layout of Zero-1-to-3
//! (`105000.ckpt`, `165000.ckpt`, `zero123-xl.ckpt`) to the diffusers / Hugging Face names
//! the models of this crate request (spec §4.2; the tables of diffusers'
//! `scripts/convert_zero123_to_diffusers.py`, rewritten as pure functions).
//!
//! | LDM prefix | contents | renamed by |
//! |---|---|---|
//! | `model.diffusion_model.*` (or `model_ema.*`, preferred) | UNet | [`unet_key`] |
//! | `first_stage_model.*` | VAE | [`vae_key`] |
//! | `cond_stage_model.model.visual.*` | OpenAI CLIP image tower | [`clip_sources`] |
//! | `cc_projection.*` | pose–CLIP projection | `projection.*` |

use std::collections::{BTreeMap, HashMap};

use super::tensors::{Fetch, Source};

/// UNet prefix in an LDM checkpoint.
pub const UNET_PREFIX: &str = "model.diffusion_model.";
/// VAE prefix.
pub const VAE_PREFIX: &str = "first_stage_model.";
/// CLIP image-tower prefix.
pub const CLIP_PREFIX: &str = "cond_stage_model.model.visual.";
/// Projection prefix.
pub const PROJECTION_PREFIX: &str = "cc_projection.";

fn split_index(s: &str) -> Option<(usize, &str)> {
    let (i, rest) = s.split_once('.')?;
    Some((i.parse().ok()?, rest))
}

fn resnet_part(rest: &str) -> Option<String> {
    const MAP: [(&str, &str); 6] = [
        ("in_layers.0.", "norm1."),
        ("in_layers.2.", "conv1."),
        ("out_layers.0.", "norm2."),
        ("out_layers.3.", "conv2."),
        ("emb_layers.1.", "time_emb_proj."),
        ("skip_connection.", "conv_shortcut."),
    ];
    MAP.iter()
        .find_map(|(a, b)| rest.strip_prefix(a).map(|t| format!("{b}{t}")))
}

/// The diffusers name of an LDM UNet key (without the `model.diffusion_model.` prefix)
/// for an `openaimodel.UNetModel` with `layers_per_block` resnets per level
/// (`num_res_blocks`); `None` for keys with no counterpart.
///
/// Input block `i ≥ 1` is level `(i−1) / (L+1)`, slot `j = (i−1) mod (L+1)`: slots `< L`
/// hold a resnet (`.0`) and an attention (`.1`), slot `L` the downsampler (`.0.op`).
/// Output block `i` is level `i / (L+1)`, resnet `i mod (L+1)`; its `.1` is the attention
/// unless it holds a `conv` directly (the upsampler, `.1.conv` or `.2.conv`).
///
/// # Examples
/// ```
/// use gdlab_diffusion::zero123::ldm::unet_key;
/// assert_eq!(unet_key("input_blocks.0.0.weight", 2).unwrap(), "conv_in.weight");
/// assert_eq!(
///     unet_key("input_blocks.4.1.transformer_blocks.0.attn1.to_q.weight", 2).unwrap(),
///     "down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q.weight"
/// );
/// assert_eq!(unet_key("output_blocks.8.2.conv.bias", 2).unwrap(), "up_blocks.2.upsamplers.0.conv.bias");
/// ```
#[must_use]
pub fn unet_key(key: &str, layers_per_block: usize) -> Option<String> {
    let l = layers_per_block;
    const SIMPLE: [(&str, &str); 4] = [
        ("time_embed.0.", "time_embedding.linear_1."),
        ("time_embed.2.", "time_embedding.linear_2."),
        ("out.0.", "conv_norm_out."),
        ("out.2.", "conv_out."),
    ];
    if let Some(s) = SIMPLE
        .iter()
        .find_map(|(a, b)| key.strip_prefix(a).map(|t| format!("{b}{t}")))
    {
        return Some(s);
    }
    if let Some(rest) = key.strip_prefix("input_blocks.") {
        let (i, rest) = split_index(rest)?;
        let (k, rest) = split_index(rest)?;
        if i == 0 {
            return (k == 0).then(|| format!("conv_in.{rest}"));
        }
        let (level, j) = ((i - 1) / (l + 1), (i - 1) % (l + 1));
        return if j < l {
            match k {
                0 => Some(format!(
                    "down_blocks.{level}.resnets.{j}.{}",
                    resnet_part(rest)?
                )),
                1 => Some(format!("down_blocks.{level}.attentions.{j}.{rest}")),
                _ => None,
            }
        } else {
            let t = rest.strip_prefix("op.").filter(|_| k == 0)?;
            Some(format!("down_blocks.{level}.downsamplers.0.conv.{t}"))
        };
    }
    if let Some(rest) = key.strip_prefix("middle_block.") {
        let (k, rest) = split_index(rest)?;
        return match k {
            0 | 2 => Some(format!(
                "mid_block.resnets.{}.{}",
                k / 2,
                resnet_part(rest)?
            )),
            1 => Some(format!("mid_block.attentions.0.{rest}")),
            _ => None,
        };
    }
    if let Some(rest) = key.strip_prefix("output_blocks.") {
        let (i, rest) = split_index(rest)?;
        let (k, rest) = split_index(rest)?;
        let (level, j) = (i / (l + 1), i % (l + 1));
        return match k {
            0 => Some(format!(
                "up_blocks.{level}.resnets.{j}.{}",
                resnet_part(rest)?
            )),
            _ if rest.starts_with("conv.") => {
                Some(format!("up_blocks.{level}.upsamplers.0.{rest}"))
            }
            1 => Some(format!("up_blocks.{level}.attentions.{j}.{rest}")),
            _ => None,
        };
    }
    None
}

/// The `model_ema.*` name LDM's `LitEma` gives UNet key `key` (dots removed from
/// `diffusion_model.<key>`).
///
/// # Examples
/// ```
/// assert_eq!(
///     gdlab_diffusion::zero123::ldm::ema_key("input_blocks.0.0.weight"),
///     "model_ema.diffusion_modelinput_blocks00weight"
/// );
/// ```
#[must_use]
pub fn ema_key(key: &str) -> String {
    format!("model_ema.diffusion_model{}", key.replace('.', ""))
}

fn vae_resnet(rest: &str) -> String {
    match rest.strip_prefix("nin_shortcut.") {
        Some(t) => format!("conv_shortcut.{t}"),
        None => rest.to_string(),
    }
}

fn vae_mid(rest: &str) -> Option<String> {
    if let Some(t) = rest.strip_prefix("block_1.") {
        return Some(format!("mid_block.resnets.0.{}", vae_resnet(t)));
    }
    if let Some(t) = rest.strip_prefix("block_2.") {
        return Some(format!("mid_block.resnets.1.{}", vae_resnet(t)));
    }
    let t = rest.strip_prefix("attn_1.")?;
    const ATT: [(&str, &str); 5] = [
        ("norm.", "group_norm."),
        ("q.", "to_q."),
        ("k.", "to_k."),
        ("v.", "to_v."),
        ("proj_out.", "to_out.0."),
    ];
    ATT.iter().find_map(|(a, b)| {
        t.strip_prefix(a)
            .map(|u| format!("mid_block.attentions.0.{b}{u}"))
    })
}

/// The diffusers name of an LDM VAE key (without `first_stage_model.`) for a VAE with
/// `n_levels` resolution levels; `None` for keys with no counterpart (e.g. `loss.*`).
///
/// The LDM decoder numbers its levels from the lowest resolution up (`decoder.up.{i}`),
/// diffusers from the top (`decoder.up_blocks.{n−1−i}`). The mid-block attention's 1×1
/// convolutions `q/k/v/proj_out` become `to_q/to_k/to_v/to_out.0` (stored 4-D; the VAE
/// component accepts the trailing 1×1).
///
/// # Examples
/// ```
/// use gdlab_diffusion::zero123::ldm::vae_key;
/// assert_eq!(vae_key("decoder.up.0.block.2.nin_shortcut.weight", 4).unwrap(),
///            "decoder.up_blocks.3.resnets.2.conv_shortcut.weight");
/// assert_eq!(vae_key("encoder.mid.attn_1.q.weight", 4).unwrap(),
///            "encoder.mid_block.attentions.0.to_q.weight");
/// ```
#[must_use]
pub fn vae_key(key: &str, n_levels: usize) -> Option<String> {
    for side in ["encoder", "decoder"] {
        let Some(rest) = key.strip_prefix(side).and_then(|r| r.strip_prefix('.')) else {
            continue;
        };
        if let Some(t) = rest.strip_prefix("norm_out.") {
            return Some(format!("{side}.conv_norm_out.{t}"));
        }
        if rest.starts_with("conv_in.") || rest.starts_with("conv_out.") {
            return Some(format!("{side}.{rest}"));
        }
        if let Some(t) = rest.strip_prefix("mid.") {
            return vae_mid(t).map(|m| format!("{side}.{m}"));
        }
        let (tag, blocks, sampler) = if side == "encoder" {
            ("down.", "down_blocks", "downsample.")
        } else {
            ("up.", "up_blocks", "upsample.")
        };
        let (i, t) = split_index(rest.strip_prefix(tag)?)?;
        let level = if side == "encoder" {
            i
        } else {
            n_levels.checked_sub(1 + i)?
        };
        if let Some(u) = t.strip_prefix("block.") {
            let (j, u) = split_index(u)?;
            return Some(format!(
                "{side}.{blocks}.{level}.resnets.{j}.{}",
                vae_resnet(u)
            ));
        }
        let u = t.strip_prefix(sampler)?;
        let kind = if side == "encoder" {
            "downsamplers"
        } else {
            "upsamplers"
        };
        return Some(format!("{side}.{blocks}.{level}.{kind}.0.{u}"));
    }
    if key.starts_with("quant_conv.") || key.starts_with("post_quant_conv.") {
        return Some(key.to_string());
    }
    None
}

/// The sources of the HF CLIP image-tower keys in an OpenAI CLIP `visual` state dict.
///
/// `shapes` maps the stored keys (with `prefix`) to their shapes; the fused attention
/// input projection `attn.in_proj_weight` `(3w, w)` / `in_proj_bias` `(3w)` is split into
/// `q_proj`, `k_proj`, `v_proj` by rows, and `proj` `(w, p)` (applied as `x @ proj`) is
/// transposed into `visual_projection.weight` `(p, w)`.
///
/// | OpenAI | Hugging Face |
/// |---|---|
/// | `class_embedding`, `positional_embedding`, `conv1` | `vision_model.embeddings.{class_embedding, position_embedding.weight, patch_embedding}` |
/// | `ln_pre`, `ln_post` | `vision_model.pre_layrnorm`, `vision_model.post_layernorm` |
/// | `transformer.resblocks.i.{ln_1, ln_2}` | `vision_model.encoder.layers.i.{layer_norm1, layer_norm2}` |
/// | `….attn.in_proj_{weight,bias}` | `….self_attn.{q,k,v}_proj.{weight,bias}` (row thirds) |
/// | `….attn.out_proj`, `….mlp.c_fc`, `….mlp.c_proj` | `….self_attn.out_proj`, `….mlp.fc1`, `….mlp.fc2` |
/// | `proj` | `visual_projection.weight` (transposed) |
#[must_use]
pub fn clip_sources(
    shapes: &BTreeMap<String, Vec<usize>>,
    prefix: &str,
) -> HashMap<String, Source> {
    let mut out = HashMap::new();
    for (full, shape) in shapes {
        let Some(k) = full.strip_prefix(prefix) else {
            continue;
        };
        let same = |name: String| (name, Source::same(full.clone()));
        let fixed: [(&str, &str); 5] = [
            ("class_embedding", "vision_model.embeddings.class_embedding"),
            (
                "positional_embedding",
                "vision_model.embeddings.position_embedding.weight",
            ),
            (
                "conv1.weight",
                "vision_model.embeddings.patch_embedding.weight",
            ),
            ("ln_pre.", "vision_model.pre_layrnorm."),
            ("ln_post.", "vision_model.post_layernorm."),
        ];
        if let Some((a, b)) = fixed.iter().find(|(a, _)| k.starts_with(a)) {
            let (n, s) = same(format!("{b}{}", &k[a.len()..]));
            out.insert(n, s);
            continue;
        }
        if k == "proj" {
            out.insert(
                "visual_projection.weight".into(),
                Source {
                    key: full.clone(),
                    fetch: Fetch::Transpose,
                },
            );
            continue;
        }
        let Some(rest) = k.strip_prefix("transformer.resblocks.") else {
            continue;
        };
        let Some((i, rest)) = split_index(rest) else {
            continue;
        };
        let layer = format!("vision_model.encoder.layers.{i}");
        if let Some(kind) = rest.strip_prefix("attn.in_proj_") {
            let w = shape.first().copied().unwrap_or(0) / 3;
            for (j, p) in ["q_proj", "k_proj", "v_proj"].iter().enumerate() {
                out.insert(
                    format!("{layer}.self_attn.{p}.{kind}"),
                    Source {
                        key: full.clone(),
                        fetch: Fetch::Rows {
                            start: j * w,
                            len: w,
                        },
                    },
                );
            }
            continue;
        }
        const SUB: [(&str, &str); 5] = [
            ("ln_1.", "layer_norm1."),
            ("ln_2.", "layer_norm2."),
            ("attn.out_proj.", "self_attn.out_proj."),
            ("mlp.c_fc.", "mlp.fc1."),
            ("mlp.c_proj.", "mlp.fc2."),
        ];
        if let Some(name) = SUB
            .iter()
            .find_map(|(a, b)| rest.strip_prefix(a).map(|t| format!("{layer}.{b}{t}")))
        {
            let (n, s) = same(name);
            out.insert(n, s);
        }
    }
    out
}

/// The sources of the diffusers UNet keys in an LDM checkpoint: every
/// `model.diffusion_model.*` key renamed by [`unet_key`], read from its `model_ema.*`
/// copy when `prefer_ema` and the copy exists. Returns the map and whether any EMA weight
/// was used.
#[must_use]
pub fn unet_sources(
    shapes: &BTreeMap<String, Vec<usize>>,
    layers_per_block: usize,
    prefer_ema: bool,
) -> (HashMap<String, Source>, bool) {
    let mut used_ema = false;
    let mut out = HashMap::new();
    for full in shapes.keys() {
        let Some(k) = full.strip_prefix(UNET_PREFIX) else {
            continue;
        };
        let Some(name) = unet_key(k, layers_per_block) else {
            continue;
        };
        let ema = ema_key(k);
        let key = if prefer_ema && shapes.contains_key(&ema) {
            used_ema = true;
            ema
        } else {
            full.clone()
        };
        out.insert(name, Source::same(key));
    }
    (out, used_ema)
}

/// The sources of the diffusers VAE keys in an LDM checkpoint (see [`vae_key`]).
#[must_use]
pub fn vae_sources(
    shapes: &BTreeMap<String, Vec<usize>>,
    n_levels: usize,
) -> HashMap<String, Source> {
    shapes
        .keys()
        .filter_map(|full| {
            let k = full.strip_prefix(VAE_PREFIX)?;
            Some((vae_key(k, n_levels)?, Source::same(full.clone())))
        })
        .collect()
}

/// The sources of the projection keys (`cc_projection.{weight,bias}` →
/// `projection.{weight,bias}`, the diffusers `CCProjection` names).
#[must_use]
pub fn projection_sources(shapes: &BTreeMap<String, Vec<usize>>) -> HashMap<String, Source> {
    shapes
        .keys()
        .filter_map(|full| {
            let k = full.strip_prefix(PROJECTION_PREFIX)?;
            Some((format!("projection.{k}"), Source::same(full.clone())))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unet_renaming_follows_the_spec_table() {
        let cases = [
            ("time_embed.0.weight", "time_embedding.linear_1.weight"),
            ("time_embed.2.bias", "time_embedding.linear_2.bias"),
            ("out.0.weight", "conv_norm_out.weight"),
            ("out.2.bias", "conv_out.bias"),
            ("input_blocks.0.0.bias", "conv_in.bias"),
            (
                "input_blocks.1.0.in_layers.0.weight",
                "down_blocks.0.resnets.0.norm1.weight",
            ),
            (
                "input_blocks.2.0.in_layers.2.weight",
                "down_blocks.0.resnets.1.conv1.weight",
            ),
            (
                "input_blocks.2.1.proj_in.weight",
                "down_blocks.0.attentions.1.proj_in.weight",
            ),
            (
                "input_blocks.3.0.op.weight",
                "down_blocks.0.downsamplers.0.conv.weight",
            ),
            (
                "input_blocks.4.0.skip_connection.weight",
                "down_blocks.1.resnets.0.conv_shortcut.weight",
            ),
            (
                "input_blocks.6.0.op.bias",
                "down_blocks.1.downsamplers.0.conv.bias",
            ),
            (
                "input_blocks.9.0.op.bias",
                "down_blocks.2.downsamplers.0.conv.bias",
            ),
            (
                "input_blocks.11.0.out_layers.3.weight",
                "down_blocks.3.resnets.1.conv2.weight",
            ),
            (
                "input_blocks.10.0.emb_layers.1.weight",
                "down_blocks.3.resnets.0.time_emb_proj.weight",
            ),
            (
                "middle_block.0.out_layers.0.bias",
                "mid_block.resnets.0.norm2.bias",
            ),
            (
                "middle_block.1.transformer_blocks.0.attn2.to_k.weight",
                "mid_block.attentions.0.transformer_blocks.0.attn2.to_k.weight",
            ),
            (
                "middle_block.2.in_layers.0.weight",
                "mid_block.resnets.1.norm1.weight",
            ),
            (
                "output_blocks.0.0.in_layers.0.weight",
                "up_blocks.0.resnets.0.norm1.weight",
            ),
            (
                "output_blocks.2.1.conv.weight",
                "up_blocks.0.upsamplers.0.conv.weight",
            ),
            (
                "output_blocks.3.1.norm.weight",
                "up_blocks.1.attentions.0.norm.weight",
            ),
            (
                "output_blocks.5.2.conv.bias",
                "up_blocks.1.upsamplers.0.conv.bias",
            ),
            (
                "output_blocks.5.1.proj_out.bias",
                "up_blocks.1.attentions.2.proj_out.bias",
            ),
            (
                "output_blocks.11.1.transformer_blocks.0.ff.net.0.proj.weight",
                "up_blocks.3.attentions.2.transformer_blocks.0.ff.net.0.proj.weight",
            ),
            (
                "output_blocks.11.0.skip_connection.bias",
                "up_blocks.3.resnets.2.conv_shortcut.bias",
            ),
        ];
        for (a, b) in cases {
            assert_eq!(unet_key(a, 2).as_deref(), Some(b), "{a}");
        }
        assert_eq!(unet_key("input_blocks.3.1.x", 2), None);
        assert_eq!(unet_key("betas", 2), None);
        // layers_per_block = 1: input block 2 is level 0's downsampler.
        assert_eq!(
            unet_key("input_blocks.2.0.op.weight", 1).as_deref(),
            Some("down_blocks.0.downsamplers.0.conv.weight")
        );
    }

    #[test]
    fn vae_renaming() {
        let cases = [
            ("encoder.conv_in.weight", "encoder.conv_in.weight"),
            ("encoder.norm_out.bias", "encoder.conv_norm_out.bias"),
            (
                "encoder.down.1.block.0.nin_shortcut.weight",
                "encoder.down_blocks.1.resnets.0.conv_shortcut.weight",
            ),
            (
                "encoder.down.2.downsample.conv.bias",
                "encoder.down_blocks.2.downsamplers.0.conv.bias",
            ),
            (
                "encoder.mid.block_2.conv1.weight",
                "encoder.mid_block.resnets.1.conv1.weight",
            ),
            (
                "decoder.mid.attn_1.proj_out.weight",
                "decoder.mid_block.attentions.0.to_out.0.weight",
            ),
            (
                "decoder.mid.attn_1.norm.bias",
                "decoder.mid_block.attentions.0.group_norm.bias",
            ),
            (
                "decoder.up.3.upsample.conv.weight",
                "decoder.up_blocks.0.upsamplers.0.conv.weight",
            ),
            (
                "decoder.up.1.block.1.norm2.weight",
                "decoder.up_blocks.2.resnets.1.norm2.weight",
            ),
            ("decoder.conv_out.bias", "decoder.conv_out.bias"),
            ("quant_conv.weight", "quant_conv.weight"),
            ("post_quant_conv.bias", "post_quant_conv.bias"),
        ];
        for (a, b) in cases {
            assert_eq!(vae_key(a, 4).as_deref(), Some(b), "{a}");
        }
        assert_eq!(vae_key("loss.logvar", 4), None);
        assert_eq!(vae_key("decoder.up.4.block.0.conv1.weight", 4), None);
    }

    #[test]
    fn clip_split_and_transpose() {
        let p = CLIP_PREFIX;
        let shapes: BTreeMap<String, Vec<usize>> = [
            (
                format!("{p}transformer.resblocks.3.attn.in_proj_weight"),
                vec![96, 32],
            ),
            (
                format!("{p}transformer.resblocks.3.attn.in_proj_bias"),
                vec![96],
            ),
            (
                format!("{p}transformer.resblocks.3.mlp.c_fc.weight"),
                vec![64, 32],
            ),
            (format!("{p}proj"), vec![32, 24]),
            (format!("{p}ln_post.bias"), vec![32]),
            (format!("{p}positional_embedding"), vec![5, 32]),
            ("cond_stage_model.other".to_string(), vec![1]),
        ]
        .into_iter()
        .collect();
        let m = clip_sources(&shapes, p);
        assert_eq!(m.len(), 10);
        let k = &m["vision_model.encoder.layers.3.self_attn.k_proj.weight"];
        assert_eq!(k.fetch, Fetch::Rows { start: 32, len: 32 });
        assert_eq!(
            k.key,
            format!("{p}transformer.resblocks.3.attn.in_proj_weight")
        );
        assert_eq!(
            m["vision_model.encoder.layers.3.self_attn.v_proj.bias"].fetch,
            Fetch::Rows { start: 64, len: 32 }
        );
        assert_eq!(m["visual_projection.weight"].fetch, Fetch::Transpose);
        assert!(m.contains_key("vision_model.encoder.layers.3.mlp.fc1.weight"));
        assert!(m.contains_key("vision_model.post_layernorm.bias"));
        assert!(m.contains_key("vision_model.embeddings.position_embedding.weight"));
    }

    #[test]
    fn ema_is_preferred_when_present() {
        let shapes: BTreeMap<String, Vec<usize>> = [
            ("model.diffusion_model.out.2.weight".to_string(), vec![4]),
            ("model.diffusion_model.out.2.bias".to_string(), vec![4]),
            (ema_key("out.2.weight"), vec![4]),
        ]
        .into_iter()
        .collect();
        let (m, used) = unet_sources(&shapes, 2, true);
        assert!(used);
        assert_eq!(
            m["conv_out.weight"].key,
            "model_ema.diffusion_modelout2weight"
        );
        assert_eq!(m["conv_out.bias"].key, "model.diffusion_model.out.2.bias");
        let (m, used) = unet_sources(&shapes, 2, false);
        assert!(!used);
        assert_eq!(
            m["conv_out.weight"].key,
            "model.diffusion_model.out.2.weight"
        );
        let p = projection_sources(
            &[("cc_projection.weight".to_string(), vec![768, 772])]
                .into_iter()
                .collect(),
        );
        assert_eq!(p["projection.weight"].key, "cc_projection.weight");
    }
}
