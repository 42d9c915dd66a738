//! Tests of the hooked SD UNet on a small configuration: golden comparison with
//! candle-transformers' `UNet2DConditionModel`, hook identity, stores, AMF, MSA, input checks.

#![allow(clippy::float_cmp)] // bitwise comparisons of deterministic outputs

use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use candle_transformers::models::stable_diffusion::unet_2d::UNet2DConditionModel;
use gdlab_core::normal::fill_normals;
use gdlab_core::Seed;

use super::transformer::Gelu;
use super::{SdUNet, UNetConfig};
use crate::control::{
    AmfConfig, AttentionController, AttentionStore, AttnKind, EvalCtx, MutualSelfAttention,
    NoControl, SiteFilter, StoredMap, TimeWindow, UNetPart,
};
use crate::error::DiffusionError;

/// Small SD-1.x-shaped config: 4 levels, 2 layers per block, 16 self-attention sites.
/// Channels are multiples of 32 because candle-transformers' down/up resnets always use
/// 32 groups.
fn small() -> UNetConfig {
    UNetConfig {
        in_channels: 8,
        out_channels: 4,
        block_out_channels: vec![32, 64, 64, 64],
        layers_per_block: 2,
        attention_levels: vec![true, true, true, false],
        heads: 2,
        cross_attention_dim: 16,
        norm_num_groups: 32,
        norm_eps: 1e-5,
    }
}

fn normals(seed: Seed, n: usize, std: f64, mean: f64) -> Vec<f32> {
    let mut buf = vec![0.0; n];
    fill_normals(&mut seed.rng(), &mut buf);
    buf.into_iter().map(|x| (mean + x * std) as f32).collect()
}

/// Sets every variable deterministically: weights `N(0, 1/fan_in)`, biases `N(0, 0.1²)`,
/// norm gains `N(1, 0.1²)` (so no layer is an identity that could hide a wiring error).
fn randomize(vm: &VarMap, seed: Seed) {
    let data = vm.data().lock().unwrap();
    let mut names: Vec<&String> = data.keys().collect();
    names.sort();
    for (i, name) in names.into_iter().enumerate() {
        let var = &data[name];
        let dims = var.dims().to_vec();
        let n: usize = dims.iter().product();
        let s = seed.index(i as u64);
        let vals = if name.contains("norm") && name.ends_with("weight") {
            normals(s, n, 0.1, 1.0)
        } else if name.ends_with("bias") {
            normals(s, n, 0.1, 0.0)
        } else {
            let fan_in: usize = dims[1..].iter().product();
            normals(s, n, 1.0 / (fan_in.max(1) as f64).sqrt(), 0.0)
        };
        var.set(&Tensor::from_vec(vals, dims, var.device()).unwrap())
            .unwrap();
    }
}

fn randn(seed: u64, shape: &[usize]) -> Tensor {
    let n = shape.iter().product();
    Tensor::from_vec(normals(Seed(seed), n, 1.0, 0.0), shape, &Device::Cpu).unwrap()
}

fn model(cfg: &UNetConfig, gelu: Gelu) -> (VarMap, SdUNet) {
    let vm = VarMap::new();
    let vb = VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu);
    let m = SdUNet::build(vb, cfg, gelu).unwrap();
    randomize(&vm, Seed(17));
    (vm, m)
}

fn max_abs_diff(a: &Tensor, b: &Tensor) -> f32 {
    (a - b)
        .unwrap()
        .abs()
        .unwrap()
        .max_all()
        .unwrap()
        .to_scalar()
        .unwrap()
}

fn max_abs(a: &Tensor) -> f32 {
    a.abs().unwrap().max_all().unwrap().to_scalar().unwrap()
}

fn eval(t: usize, r: usize, r_total: usize) -> EvalCtx {
    EvalCtx {
        step: 0,
        t,
        r,
        r_total,
    }
}

/// The golden test: candle-transformers' `UNet2DConditionModel`, built from the same
/// variables (no new variable may be created, so every key name and shape is shared),
/// computes the same ε̂. candle uses the tanh-approximate GELU in GEGLU; our default is
/// the exact GELU of diffusers/LDM, so the exact match is checked with `Gelu::Tanh` and
/// the default is checked to be close.
#[test]
fn matches_candle_transformers_unet() {
    let cfg = small();
    let (vm, ours) = model(&cfg, Gelu::Tanh);
    let n_vars = vm.all_vars().len();
    let vb = VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu);
    let theirs =
        UNet2DConditionModel::new(vb, 8, 4, false, cfg.candle_transformers_config()).unwrap();
    assert_eq!(
        vm.all_vars().len(),
        n_vars,
        "candle's UNet asked for keys we do not have"
    );

    let x = randn(1, &[2, 8, 16, 16]);
    let ctx = randn(2, &[2, 3, 16]);
    for t in [0usize, 501, 981] {
        let a = ours.forward(&x, t, &ctx, None).unwrap();
        let b = theirs.forward(&x, t as f64, &ctx).unwrap();
        let rel = max_abs_diff(&a, &b) / max_abs(&b);
        eprintln!("t = {t}: max |ours − candle| / max |candle| = {rel:.2e}");
        assert!(rel < 1e-5, "t = {t}: relative max diff {rel}");
    }
    // Exact GELU: same weights, a small difference only.
    let erf = SdUNet::new(VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu), &cfg).unwrap();
    let a = erf.forward(&x, 501, &ctx, None).unwrap();
    let b = theirs.forward(&x, 501.0, &ctx).unwrap();
    let rel = max_abs_diff(&a, &b) / max_abs(&b);
    eprintln!("exact vs tanh GELU: max relative diff {rel:.2e}");
    assert!(rel > 0.0 && rel < 1e-3, "exact vs tanh GELU: {rel}");
}

/// Both models request exactly the same `(key, shape)` set on a shape-only builder.
#[test]
fn key_set_equals_candle_transformers_unet() {
    use super::shape_only::required_tensors;
    let cfg = small();
    let key_set = |v: Vec<super::shape_only::TensorSpec>| {
        let mut v: Vec<_> = v.into_iter().map(|s| (s.name, s.shape)).collect();
        v.sort();
        v
    };
    let ours = key_set(required_tensors(|vb| SdUNet::new(vb, &cfg)).unwrap());
    let theirs = key_set(
        required_tensors(|vb| {
            UNet2DConditionModel::new(vb, 8, 4, false, cfg.candle_transformers_config())
        })
        .unwrap(),
    );
    assert_eq!(ours, theirs);
}

#[test]
fn no_control_is_bit_identical_and_store_sees_every_site() {
    let cfg = small();
    let (_vm, m) = model(&cfg, Gelu::Erf);
    let x = randn(3, &[2, 8, 16, 16]);
    let ctx = randn(4, &[2, 1, 16]);
    let base = m.forward(&x, 700, &ctx, None).unwrap();
    let with = m.forward(&x, 700, &ctx, Some(&mut NoControl)).unwrap();
    assert_eq!(
        base.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
        with.flatten_all().unwrap().to_vec1::<f32>().unwrap()
    );

    let mut store = AttentionStore::new(SiteFilter::All, StoredMap::Probs, TimeWindow::new(0, 999));
    store.begin_eval(eval(700, 1, 1));
    let stored = m.forward(&x, 700, &ctx, Some(&mut store)).unwrap();
    assert_eq!(max_abs_diff(&stored, &base), 0.0);
    let sites = m.sites(16, 16);
    assert_eq!(sites.len(), 32);
    let latest = store.latest();
    assert_eq!(
        latest.keys().copied().collect::<Vec<_>>(),
        (0..32).collect::<Vec<_>>()
    );
    let grids = [16, 16, 8, 8, 4, 4, 2, 4, 4, 4, 8, 8, 8, 16, 16, 16];
    let selfs: Vec<_> = sites
        .iter()
        .filter(|s| s.kind == AttnKind::SelfAttn)
        .collect();
    assert_eq!(selfs.len(), 16);
    for (s, &g) in selfs.iter().zip(&grids) {
        assert_eq!(s.grid, (g, g));
        assert_eq!(latest[&s.ordinal].dims(), &[2 * 2, g * g, g * g]);
    }
    for s in sites.iter().filter(|s| s.kind == AttnKind::CrossAttn) {
        let p = &latest[&s.ordinal];
        assert_eq!(p.dim(2).unwrap(), 1);
        assert_eq!(max_abs_diff(p, &p.ones_like().unwrap()), 0.0);
    }
}

#[test]
fn amf_changes_the_output_only_when_active() {
    let cfg = small();
    let (_vm, m) = model(&cfg, Gelu::Erf);
    let ctx = randn(5, &[2, 1, 16]);
    let (x1, x2) = (randn(6, &[2, 8, 16, 16]), randn(7, &[2, 8, 16, 16]));
    let base1 = m.forward(&x1, 900, &ctx, None).unwrap();
    let base2 = m.forward(&x2, 900, &ctx, None).unwrap();
    let mut amf = AmfConfig::default().build().unwrap();
    // first pass of a step, no history: nothing to pool or blend with
    amf.begin_eval(eval(900, 1, 2));
    let y1 = m.forward(&x1, 900, &ctx, Some(&mut amf)).unwrap();
    assert_eq!(max_abs_diff(&y1, &base1), 0.0);
    // second pass: min-pooled with the first pass's maps
    amf.begin_eval(eval(900, 2, 2));
    let y2 = m.forward(&x2, 900, &ctx, Some(&mut amf)).unwrap();
    assert!(max_abs_diff(&y2, &base2) > 1e-4);
    amf.end_step(900);
    assert_eq!(amf.sites_with_history().len(), 16);
    // outside both windows: identity
    amf.begin_eval(EvalCtx {
        step: 1,
        t: 100,
        r: 1,
        r_total: 1,
    });
    let y3 = m.forward(&x2, 100, &ctx, Some(&mut amf)).unwrap();
    let base3 = m.forward(&x2, 100, &ctx, None).unwrap();
    assert_eq!(max_abs_diff(&y3, &base3), 0.0);
}

#[test]
fn msa_changes_only_target_rows_inside_its_window() {
    let cfg = small();
    let (_vm, m) = model(&cfg, Gelu::Erf);
    // [src_u, tgt_u, src_c, tgt_c]
    let x = randn(8, &[4, 8, 16, 16]);
    let ctx = randn(9, &[4, 1, 16]);
    let parts = SiteFilter::SelfParts(vec![UNetPart::Up(2), UNetPart::Up(3)]);
    let mut msa =
        MutualSelfAttention::source_target(TimeWindow::new(600, 999), parts, 1, 2).unwrap();
    let base = m.forward(&x, 900, &ctx, None).unwrap();
    msa.begin_eval(eval(900, 1, 1));
    let y = m.forward(&x, 900, &ctx, Some(&mut msa)).unwrap();
    for (row, is_target) in [(0, false), (1, true), (2, false), (3, true)] {
        let d = max_abs_diff(&y.get(row).unwrap(), &base.get(row).unwrap());
        if is_target {
            assert!(d > 1e-4, "target row {row} unchanged");
        } else {
            assert!(d < 1e-5, "source row {row} changed by {d}");
        }
    }
    msa.begin_eval(eval(300, 1, 1));
    let base = m.forward(&x, 300, &ctx, None).unwrap();
    let y = m.forward(&x, 300, &ctx, Some(&mut msa)).unwrap();
    assert_eq!(max_abs_diff(&y, &base), 0.0);
}

#[test]
fn bad_inputs_are_errors_naming_the_input() {
    let cfg = small();
    let (_vm, m) = model(&cfg, Gelu::Erf);
    let ctx = randn(10, &[2, 1, 16]);
    let msg = |x: &Tensor, c: &Tensor| match m.forward(x, 10, c, None) {
        Err(e @ DiffusionError::Shape { .. }) => e.to_string(),
        other => panic!("expected a shape error, got {other:?}"),
    };
    let e = msg(&randn(11, &[2, 4, 16, 16]), &ctx);
    assert!(e.contains("x channels") && e.contains('8'), "{e}");
    let e = msg(&randn(11, &[2, 8, 12, 16]), &ctx);
    assert!(e.contains("x height") && e.contains("multiple of 8"), "{e}");
    let e = msg(&randn(11, &[2, 8, 16, 20]), &ctx);
    assert!(e.contains("x width"), "{e}");
    let e = msg(&randn(11, &[2, 8, 16]), &ctx);
    assert!(e.contains("SdUNet::forward x"), "{e}");
    let e = msg(&randn(11, &[2, 8, 16, 16]), &randn(12, &[2, 1, 15]));
    assert!(e.contains("cross_attention_dim") && e.contains("16"), "{e}");
    let e = msg(&randn(11, &[2, 8, 16, 16]), &randn(12, &[3, 1, 16]));
    assert!(e.contains("context batch"), "{e}");
    let e = msg(&randn(11, &[2, 8, 16, 16]), &randn(12, &[2, 16]));
    assert!(e.contains("context"), "{e}");
}

#[test]
fn invalid_configs_name_the_field() {
    let field = |f: fn(&mut UNetConfig)| {
        let mut c = small();
        f(&mut c);
        match c.validate() {
            Err(DiffusionError::OutOfRange { field, .. }) => field,
            other => panic!("expected OutOfRange, got {other:?}"),
        }
    };
    assert_eq!(field(|c| c.in_channels = 0), "in_channels");
    assert_eq!(field(|c| c.heads = 3), "block_out_channels");
    assert_eq!(field(|c| c.heads = 0), "heads");
    assert_eq!(field(|c| c.norm_num_groups = 24), "block_out_channels");
    assert_eq!(
        field(|c| {
            c.attention_levels.pop();
        }),
        "attention_levels"
    );
    assert_eq!(field(|c| c.norm_eps = f64::NAN), "norm_eps");
    assert_eq!(field(|c| c.layers_per_block = 0), "layers_per_block");
    assert_eq!(
        field(|c| c.block_out_channels.clear()),
        "block_out_channels"
    );
    assert!(UNetConfig::zero123().validate().is_ok());
    let vb = VarBuilder::from_varmap(&VarMap::new(), DType::F32, &Device::Cpu);
    let mut bad = small();
    bad.cross_attention_dim = 0;
    assert!(matches!(
        SdUNet::new(vb, &bad),
        Err(DiffusionError::OutOfRange {
            field: "cross_attention_dim",
            ..
        })
    ));
}
