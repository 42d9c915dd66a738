//! The full-size Zero-1-to-3 UNet without weights (issue 11, spec §1.1 / §4.2): built on
//! the shape-only builder, its keys, shapes and parameter count are checked against
//! diffusers' layout (and candle-transformers' UNet), and one forward pass at a 32×32
//! latent checks every attention site and grid.

#![allow(clippy::float_cmp)] // exact probabilities of one-key softmaxes

use std::collections::BTreeSet;
use std::time::Instant;

use candle_core::{DType, Device, Tensor};
use candle_transformers::models::stable_diffusion::unet_2d::{
    BlockConfig, UNet2DConditionModel, UNet2DConditionModelConfig,
};
use gdlab_diffusion::control::{AttentionController, AttnKind, AttnSite, UNetPart};
use gdlab_diffusion::sd::shape_only::{build_shape_only, required_tensors, TensorSpec};
use gdlab_diffusion::sd::{SdUNet, UNetConfig};
use gdlab_diffusion::Result;

/// The widely quoted parameter count of the SD-1.x UNet (4 input channels).
const SD1_UNET_PARAMS: usize = 859_520_964;

/// Parameters by hand, from diffusers' layout (independent of the implementation).
fn hand_count(cfg: &UNetConfig) -> (usize, usize) {
    let conv = |ci: usize, co: usize, k: usize| (co * ci * k * k + co, 2);
    let lin = |i: usize, o: usize| (i * o + o, 2);
    let norm = |c: usize| (2 * c, 2);
    let add = |acc: &mut (usize, usize), x: (usize, usize)| {
        acc.0 += x.0;
        acc.1 += x.1;
    };
    let temb = 4 * cfg.block_out_channels[0];
    let resnet = |ci: usize, co: usize| {
        let mut r = (0, 0);
        add(&mut r, norm(ci));
        add(&mut r, conv(ci, co, 3));
        add(&mut r, lin(temb, co));
        add(&mut r, norm(co));
        add(&mut r, conv(co, co, 3));
        if ci != co {
            add(&mut r, conv(ci, co, 1));
        }
        r
    };
    let xf = |c: usize| {
        let d = cfg.cross_attention_dim;
        let mut r = (0, 0);
        add(&mut r, norm(c)); // norm
        add(&mut r, conv(c, c, 1)); // proj_in
        add(&mut r, conv(c, c, 1)); // proj_out
        add(&mut r, (3 * 2 * c, 6)); // norm1..3
        add(&mut r, (3 * c * c, 3)); // attn1 to_q/k/v
        add(&mut r, lin(c, c)); // attn1 to_out.0
        add(&mut r, (c * c + 2 * d * c, 3)); // attn2 to_q/k/v
        add(&mut r, lin(c, c)); // attn2 to_out.0
        add(&mut r, lin(c, 8 * c)); // ff.net.0.proj
        add(&mut r, lin(4 * c, c)); // ff.net.2
        r
    };
    let ch = &cfg.block_out_channels;
    let n = ch.len();
    let mut total = (0, 0);
    add(&mut total, conv(cfg.in_channels, ch[0], 3));
    add(&mut total, lin(ch[0], temb));
    add(&mut total, lin(temb, temb));
    let mut skips = vec![ch[0]];
    let mut c = ch[0];
    for (i, (&co, &attn)) in ch.iter().zip(&cfg.attention_levels).enumerate() {
        for _ in 0..cfg.layers_per_block {
            add(&mut total, resnet(c, co));
            c = co;
            if attn {
                add(&mut total, xf(c));
            }
            skips.push(c);
        }
        if i + 1 < n {
            add(&mut total, conv(c, c, 3));
            skips.push(c);
        }
    }
    add(&mut total, resnet(c, c));
    add(&mut total, xf(c));
    add(&mut total, resnet(c, c));
    for i in 0..n {
        let lvl = n - 1 - i;
        for _ in 0..=cfg.layers_per_block {
            let s = skips.pop().unwrap_or(0);
            add(&mut total, resnet(c + s, ch[lvl]));
            c = ch[lvl];
            if cfg.attention_levels[lvl] {
                add(&mut total, xf(c));
            }
        }
        if i + 1 < n {
            add(&mut total, conv(c, c, 3));
        }
    }
    add(&mut total, norm(c));
    add(&mut total, conv(c, cfg.out_channels, 3));
    total
}

fn candle_zero123() -> UNet2DConditionModelConfig {
    let block = |c, a: bool| BlockConfig {
        out_channels: c,
        use_cross_attn: a.then_some(1),
        attention_head_dim: 8,
    };
    UNet2DConditionModelConfig {
        blocks: vec![
            block(320, true),
            block(640, true),
            block(1280, true),
            block(1280, false),
        ],
        cross_attention_dim: 768,
        ..Default::default()
    }
}

fn key_set(specs: &[TensorSpec]) -> BTreeSet<(String, Vec<usize>)> {
    specs
        .iter()
        .map(|s| (s.name.clone(), s.shape.clone()))
        .collect()
}

#[test]
fn zero123_keys_shapes_and_parameter_count() {
    let cfg = UNetConfig::zero123();
    let specs = required_tensors(|vb| SdUNet::new(vb, &cfg)).unwrap();
    let keys = key_set(&specs);
    assert_eq!(keys.len(), specs.len(), "a key was requested twice");
    // diffusers' SD-1.x UNet has 686 tensors.
    assert_eq!(specs.len(), 686);
    let shape = |name: &str| {
        specs
            .iter()
            .find(|s| s.name == name)
            .map(|s| s.shape.clone())
            .unwrap_or_else(|| panic!("missing key {name}"))
    };
    let a = "transformer_blocks.0";
    for (name, want) in [
        ("conv_in.weight", vec![320, 8, 3, 3]),
        ("time_embedding.linear_1.weight", vec![1280, 320]),
        ("time_embedding.linear_2.bias", vec![1280]),
        ("down_blocks.0.resnets.0.norm1.weight", vec![320]),
        (
            "down_blocks.0.resnets.1.time_emb_proj.weight",
            vec![320, 1280],
        ),
        (
            "down_blocks.1.resnets.0.conv_shortcut.weight",
            vec![640, 320, 1, 1],
        ),
        ("down_blocks.0.attentions.0.norm.weight", vec![320]),
        (
            "down_blocks.0.attentions.0.proj_in.weight",
            vec![320, 320, 1, 1],
        ),
        (
            &format!("down_blocks.0.attentions.1.{a}.attn1.to_q.weight"),
            vec![320, 320],
        ),
        (
            &format!("down_blocks.1.attentions.0.{a}.attn2.to_k.weight"),
            vec![640, 768],
        ),
        (
            &format!("down_blocks.2.attentions.1.{a}.attn2.to_v.weight"),
            vec![1280, 768],
        ),
        (
            &format!("down_blocks.2.attentions.1.{a}.attn2.to_out.0.bias"),
            vec![1280],
        ),
        (
            &format!("down_blocks.0.attentions.0.{a}.ff.net.0.proj.weight"),
            vec![2560, 320],
        ),
        (
            &format!("down_blocks.0.attentions.0.{a}.ff.net.2.weight"),
            vec![320, 1280],
        ),
        (
            &format!("down_blocks.1.attentions.1.{a}.norm3.bias"),
            vec![640],
        ),
        (
            "down_blocks.2.downsamplers.0.conv.weight",
            vec![1280, 1280, 3, 3],
        ),
        (
            "down_blocks.3.resnets.1.conv2.weight",
            vec![1280, 1280, 3, 3],
        ),
        ("mid_block.resnets.0.conv1.bias", vec![1280]),
        (
            &format!("mid_block.attentions.0.{a}.attn1.to_v.weight"),
            vec![1280, 1280],
        ),
        ("mid_block.resnets.1.norm2.weight", vec![1280]),
        ("up_blocks.0.resnets.0.conv1.weight", vec![1280, 2560, 3, 3]),
        (
            "up_blocks.0.resnets.2.conv_shortcut.weight",
            vec![1280, 2560, 1, 1],
        ),
        (
            "up_blocks.0.upsamplers.0.conv.weight",
            vec![1280, 1280, 3, 3],
        ),
        ("up_blocks.1.resnets.2.conv1.weight", vec![1280, 1920, 3, 3]),
        (
            "up_blocks.1.attentions.2.proj_out.weight",
            vec![1280, 1280, 1, 1],
        ),
        ("up_blocks.2.resnets.0.conv1.weight", vec![640, 1920, 3, 3]),
        ("up_blocks.2.resnets.2.conv1.weight", vec![640, 960, 3, 3]),
        ("up_blocks.2.upsamplers.0.conv.bias", vec![640]),
        ("up_blocks.3.resnets.0.conv1.weight", vec![320, 960, 3, 3]),
        ("up_blocks.3.resnets.2.conv1.weight", vec![320, 640, 3, 3]),
        (
            &format!("up_blocks.3.attentions.2.{a}.attn2.to_k.weight"),
            vec![320, 768],
        ),
        ("conv_norm_out.weight", vec![320]),
        ("conv_out.weight", vec![4, 320, 3, 3]),
        ("conv_out.bias", vec![4]),
    ] {
        assert_eq!(shape(name), want, "{name}");
    }
    for absent in [
        "down_blocks.3.attentions.0.norm.weight",
        "down_blocks.3.downsamplers.0.conv.weight",
        "up_blocks.0.attentions.0.norm.weight",
        "up_blocks.3.upsamplers.0.conv.weight",
        &format!("down_blocks.0.attentions.0.{a}.attn1.to_q.bias"),
        &format!("down_blocks.0.attentions.0.{a}.attn2.to_k.bias"),
        "down_blocks.0.resnets.0.conv_shortcut.weight",
    ] {
        assert!(specs.iter().all(|s| s.name != absent), "{absent}");
    }

    let params: usize = specs.iter().map(TensorSpec::numel).sum();
    assert_eq!((params, specs.len()), hand_count(&cfg));
    // The quoted SD-1.x count plus the 4 extra conv_in input channels (4·320·3·3).
    assert_eq!(params, SD1_UNET_PARAMS + 4 * 320 * 9);
    let mut sd1 = cfg.clone();
    sd1.in_channels = 4;
    assert_eq!(hand_count(&sd1).0, SD1_UNET_PARAMS);

    // candle-transformers' UNet (8 input channels) asks for exactly the same tensors.
    let theirs =
        required_tensors(|vb| UNet2DConditionModel::new(vb, 8, 4, false, candle_zero123()))
            .unwrap();
    assert_eq!(key_set(&theirs), keys);
}

/// Records every site with its q and k shapes, and the extremes of cross-attention
/// probabilities.
#[derive(Default)]
struct Recorder {
    seen: Vec<(AttnSite, Vec<usize>, Vec<usize>)>,
    cross_probs: Vec<(f32, f32)>,
}

impl AttentionController for Recorder {
    fn on_qkv(
        &mut self,
        site: &AttnSite,
        q: &Tensor,
        k: Tensor,
        v: Tensor,
    ) -> Result<(Tensor, Tensor)> {
        self.seen
            .push((site.clone(), q.dims().to_vec(), k.dims().to_vec()));
        Ok((k, v))
    }
    fn on_probs(&mut self, site: &AttnSite, probs: Tensor) -> Result<Tensor> {
        if site.kind == AttnKind::CrossAttn {
            let lo = probs.min_all()?.to_scalar::<f32>()?;
            let hi = probs.max_all()?.to_scalar::<f32>()?;
            self.cross_probs.push((lo, hi));
        }
        Ok(probs)
    }
}

/// One forward pass of the full-size model (zero weights, no memory for them) at a 32×32
/// latent (256² image), batch 2 (a CFG pair): 16 self-attention sites with the grids of
/// spec §1.1 and q shapes `(2·8, N, 40/80/160)`, 16 single-token cross-attention sites
/// whose probabilities are exactly 1.
#[test]
fn zero123_forward_sees_every_attention_site() {
    let cfg = UNetConfig::zero123();
    let (unet, _) = build_shape_only(|vb| SdUNet::new(vb, &cfg)).unwrap();
    let dev = Device::Cpu;
    let x = Tensor::zeros((2, 8, 32, 32), DType::F32, &dev).unwrap();
    let ctx = Tensor::zeros((2, 1, 768), DType::F32, &dev).unwrap();
    let mut rec = Recorder::default();
    let start = Instant::now();
    let eps = unet.forward(&x, 981, &ctx, Some(&mut rec)).unwrap();
    eprintln!(
        "full-size Zero-1-to-3 UNet forward, latent 32×32, batch 2: {:.1} s",
        start.elapsed().as_secs_f64()
    );
    assert_eq!(eps.dims(), &[2, 4, 32, 32]);

    use UNetPart::{Down, Mid, Up};
    let expected: Vec<(UNetPart, usize, usize)> = vec![
        (Down(0), 0, 32),
        (Down(0), 1, 32),
        (Down(1), 0, 16),
        (Down(1), 1, 16),
        (Down(2), 0, 8),
        (Down(2), 1, 8),
        (Mid, 0, 4),
        (Up(1), 0, 8),
        (Up(1), 1, 8),
        (Up(1), 2, 8),
        (Up(2), 0, 16),
        (Up(2), 1, 16),
        (Up(2), 2, 16),
        (Up(3), 0, 32),
        (Up(3), 1, 32),
        (Up(3), 2, 32),
    ];
    assert_eq!(rec.seen.len(), 32);
    let d_head = |g: usize| match g {
        32 => 40,
        16 => 80,
        _ => 160,
    };
    for (k, (part, index, g)) in expected.iter().copied().enumerate() {
        let n = g * g;
        let (s, q, kk) = &rec.seen[2 * k];
        assert_eq!(
            (s.ordinal, s.kind, s.part, s.index, s.grid, s.heads),
            (2 * k, AttnKind::SelfAttn, part, index, (g, g), 8)
        );
        assert_eq!(q, &vec![16, n, d_head(g)]);
        assert_eq!(kk, &vec![16, n, d_head(g)]);
        let (c, q, kk) = &rec.seen[2 * k + 1];
        assert_eq!(
            (c.ordinal, c.kind, c.part, c.index, c.grid),
            (2 * k + 1, AttnKind::CrossAttn, part, index, (g, g))
        );
        assert_eq!(q, &vec![16, n, d_head(g)]);
        assert_eq!(kk, &vec![16, 1, d_head(g)]);
    }
    let recorded: Vec<AttnSite> = rec.seen.iter().map(|r| r.0.clone()).collect();
    assert_eq!(unet.sites(32, 32), recorded);
    assert_eq!(rec.cross_probs, vec![(1.0, 1.0); 16]);
}
