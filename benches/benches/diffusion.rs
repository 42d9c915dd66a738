//! Costs of the Zero-to-Hero machinery (`gdlab-diffusion`):
//!
//! * `amf_step`: one resampled step (R = 5 evaluations + the history update) of the
//!   attention-map filter on one self-attention site, against the `q·kᵀ` product that
//!   produces those logits. Sizes: the toy's 36-token site (batch 2·64 rows × 4 heads) and
//!   a Zero-1-to-3 32×32 site (CFG batch 2 × 8 heads × 1024 × 1024 logits, d_head 40).
//! * `unet_forward`: the hooked SD-1.x UNet (`sd::SdUNet`, no controller / `NoControl` /
//!   AMF) against candle-transformers' `UNet2DConditionModel` on the same weights, on an
//!   SD-shaped network narrowed to 64/128/128/128 channels at a 16×16 latent, batch 2.
//!
//! Run: `cargo bench --manifest-path benches/Cargo.toml --bench diffusion`.

use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use candle_transformers::models::stable_diffusion::unet_2d::UNet2DConditionModel;
use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};
use gdlab_core::normal::fill_normals;
use gdlab_core::Seed;
use gdlab_diffusion::control::{
    AmfConfig, AttentionController, AttnKind, AttnSite, EvalCtx, NoControl, UNetPart,
};
use gdlab_diffusion::sd::{SdUNet, UNetConfig};

fn randn(seed: u64, shape: &[usize]) -> Tensor {
    let n = shape.iter().product();
    let mut buf = vec![0.0f64; n];
    fill_normals(&mut Seed(seed).rng(), &mut buf);
    let v: Vec<f32> = buf.into_iter().map(|x| x as f32).collect();
    Tensor::from_vec(v, shape, &Device::Cpu).expect("tensor")
}

fn amf_step(c: &mut Criterion) {
    let mut group = c.benchmark_group("diffusion/amf_step");
    group.sample_size(10);
    // (label, B·heads, tokens, d_head)
    for (label, bh, n, d) in [
        ("toy-36tok", 128usize, 36usize, 16usize),
        ("z123-32x32", 16, 1024, 40),
    ] {
        let site = AttnSite {
            ordinal: 0,
            part: UNetPart::Up(3),
            index: 0,
            grid: (n, 1),
            kind: AttnKind::SelfAttn,
            heads: 1,
        };
        let logits: Vec<Tensor> = (0..5).map(|r| randn(r, &[bh, n, n])).collect();
        let q = randn(10, &[bh, n, d]);
        let k = randn(11, &[bh, n, d]);
        group.bench_with_input(BenchmarkId::new("filter_R5", label), &label, |b, _| {
            b.iter(|| {
                let mut amf = AmfConfig::default().build().expect("amf");
                for (r, l) in logits.iter().enumerate() {
                    amf.begin_eval(EvalCtx {
                        step: 0,
                        t: 981,
                        r: r + 1,
                        r_total: 5,
                    });
                    black_box(amf.on_logits(&site, l.clone()).expect("filter"));
                    amf.end_eval();
                }
                amf.end_step(981);
            });
        });
        group.bench_with_input(BenchmarkId::new("qk_matmul_x5", label), &label, |b, _| {
            b.iter(|| {
                for _ in 0..5 {
                    black_box(q.matmul(&k.t().expect("t")).expect("matmul"));
                }
            });
        });
    }
    group.finish();
}

fn unet_forward(c: &mut Criterion) {
    let cfg = UNetConfig {
        block_out_channels: vec![64, 128, 128, 128],
        cross_attention_dim: 64,
        ..UNetConfig::zero123()
    };
    let vm = VarMap::new();
    let vb = VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu);
    let ours = SdUNet::new(vb.clone(), &cfg).expect("ours");
    let theirs = UNet2DConditionModel::new(
        vb,
        cfg.in_channels,
        cfg.out_channels,
        false,
        cfg.candle_transformers_config(),
    )
    .expect("theirs");
    let x = randn(1, &[2, cfg.in_channels, 16, 16]);
    let ctx = randn(2, &[2, 1, cfg.cross_attention_dim]);
    let mut group = c.benchmark_group("diffusion/unet_forward");
    group.sample_size(10);
    group.bench_function("gdlab_unhooked", |b| {
        b.iter(|| black_box(ours.forward(&x, 901, &ctx, None).expect("fwd")))
    });
    group.bench_function("gdlab_nocontrol", |b| {
        b.iter(|| {
            black_box(
                ours.forward(&x, 901, &ctx, Some(&mut NoControl))
                    .expect("fwd"),
            )
        })
    });
    group.bench_function("gdlab_amf_r2", |b| {
        b.iter(|| {
            let mut amf = AmfConfig::default().build().expect("amf");
            for r in 1..=2 {
                amf.begin_eval(EvalCtx {
                    step: 0,
                    t: 901,
                    r,
                    r_total: 5,
                });
                black_box(ours.forward(&x, 901, &ctx, Some(&mut amf)).expect("fwd"));
                amf.end_eval();
            }
        })
    });
    group.bench_function("candle_transformers", |b| {
        b.iter(|| black_box(theirs.forward(&x, 901.0, &ctx).expect("fwd")))
    });
    group.finish();
}

criterion_group!(benches, amf_step, unet_forward);
criterion_main!(benches);
