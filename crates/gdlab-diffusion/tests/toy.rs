//! The toy U-ViT under the hook: disabled controllers are bit-identical to the unhooked
//! sampler (check T0), the single-token cross-attention is exactly 1 (T5), AMF does
//! change the output when enabled, and training is deterministic by seed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::float_cmp)] // bitwise checks

use std::collections::BTreeMap;

use candle_core::{Device, Tensor};
use gdlab_core::Seed;
use gdlab_diffusion::control::{
    AmfConfig, AttentionController, AttentionReplace, AttentionStore, Compose, MutualSelfAttention,
    NoControl, SiteFilter, StoredMap, TimeWindow, UNetPart,
};
use gdlab_diffusion::sampler::{sample, NoiseStreams, SamplerConfig};
use gdlab_diffusion::schedule::{hourglass, NoiseSchedule, HOURGLASS_STAGES};
use gdlab_diffusion::turntable::model::ToyConfig;
use gdlab_diffusion::turntable::render::patchify;
use gdlab_diffusion::turntable::train::{init_model, train, TrainConfig, ViewPair};
use gdlab_diffusion::turntable::GuidedToy;

const B: usize = 3;

fn setup() -> (gdlab_diffusion::turntable::model::ToyUvit, Tensor, Tensor) {
    let cfg = ToyConfig::default();
    let (_vm, model) = init_model(&cfg, Seed(1), &Device::Cpu).unwrap();
    let mut src = Vec::new();
    let mut pose = Vec::new();
    for i in 0..B {
        let p = ViewPair::random(&mut Seed(2).index(i as u64).rng());
        src.extend(patchify(&p.source(24), 24, 4));
        pose.extend(p.pose());
    }
    let src = Tensor::from_vec(src, (B, 36, 48), &Device::Cpu).unwrap();
    let pose = Tensor::from_vec(pose, (B, 4), &Device::Cpu).unwrap();
    (model, src, pose)
}

fn run(cfg: &SamplerConfig, ctrl: Option<&mut dyn AttentionController>) -> Vec<f32> {
    let (model, src, pose) = setup();
    let den = GuidedToy::new(&model, &src, &pose, 2.0).unwrap();
    let mut streams = NoiseStreams::new((0..B).map(|i| Seed(9).index(i as u64).rng()).collect());
    let z = streams.draw(&[36, 48], &Device::Cpu).unwrap();
    let out = sample(
        &den,
        &NoiseSchedule::stable_diffusion(),
        cfg,
        &z,
        &mut streams,
        ctrl,
    )
    .unwrap();
    out.flatten_all().unwrap().to_vec1().unwrap()
}

fn hg(r: usize) -> SamplerConfig {
    SamplerConfig {
        timesteps: hourglass(&HOURGLASS_STAGES, 1000).unwrap(),
        eta: 1.0,
        resample_r: r,
        resample_min_t: 800,
    }
}

#[test]
fn disabled_controllers_are_bit_identical_to_the_unhooked_sampler() {
    let cfg = hg(5);
    let plain = run(&cfg, None);
    let mut amf = AmfConfig {
        in_step_window: TimeWindow::empty(),
        cross_step_window: TimeWindow::empty(),
        ..AmfConfig::default()
    }
    .build()
    .unwrap();
    let mut msa =
        MutualSelfAttention::source_target(TimeWindow::empty(), SiteFilter::AllSelf, 1, 2).unwrap();
    let mut rep = AttentionReplace::new(BTreeMap::new(), TimeWindow::new(0, 1000));
    let mut store =
        AttentionStore::new(SiteFilter::All, StoredMap::Probs, TimeWindow::new(0, 1000));
    let mut none = NoControl;
    let mut all = Compose::new(vec![&mut amf, &mut msa, &mut rep, &mut store, &mut none]);
    assert!(plain == run(&cfg, Some(&mut all)), "hooked output differs");
    // AMF with α_c = 1 and R = 1 is the identity (spec T0), whatever α_h.
    let cfg1 = hg(1);
    let plain1 = run(&cfg1, None);
    let mut amf1 = AmfConfig {
        alpha_c: 1.0,
        alpha_h: 0.3,
        ..AmfConfig::default()
    }
    .build()
    .unwrap();
    assert!(plain1 == run(&cfg1, Some(&mut amf1)));
    // And enabled, it changes the output.
    let mut amf2 = AmfConfig::default().build().unwrap();
    assert!(plain != run(&cfg, Some(&mut amf2)));
}

#[test]
fn cross_attention_probabilities_are_exactly_one() {
    let (model, src, pose) = setup();
    let mut store = AttentionStore::new(
        SiteFilter::AllCross,
        StoredMap::Probs,
        TimeWindow::new(0, 1000),
    );
    let x = Tensor::ones((B, 36, 48), candle_core::DType::F32, &Device::Cpu).unwrap();
    model
        .forward(&x, &src, &pose, &[500; B], Some(&mut store))
        .unwrap();
    assert_eq!(store.latest().len(), 5);
    for p in store.latest().values() {
        assert_eq!(p.dims(), &[B * 4, 36, 1]);
        let max = (p - 1.0)
            .unwrap()
            .abs()
            .unwrap()
            .max_all()
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        assert!(max == 0.0, "{max}"); // softmax over one key: exp(0)/exp(0)
    }
    let sites = model.sites();
    assert_eq!(sites.len(), 10);
    assert_eq!(sites[8].part, UNetPart::Up(1));
}

#[test]
fn oracle_replacement_is_the_identity_and_training_is_deterministic() {
    let (model, src, pose) = setup();
    let x = Tensor::ones((B, 36, 48), candle_core::DType::F32, &Device::Cpu).unwrap();
    let mut store = AttentionStore::new(
        SiteFilter::AllSelf,
        StoredMap::Logits,
        TimeWindow::new(0, 1000),
    );
    model
        .forward(&x, &src, &pose, &[5; B], Some(&mut store))
        .unwrap();
    let maps = store.take_latest();
    assert_eq!(maps.len(), 5);
    let mut rep = AttentionReplace::new(maps, TimeWindow::new(0, 1000));
    let a = model
        .forward(&x, &src, &pose, &[5; B], Some(&mut rep))
        .unwrap();
    let b = model.forward(&x, &src, &pose, &[5; B], None).unwrap();
    // Same input: replacing with the maps it would compute itself is the identity.
    assert!(
        a.flatten_all().unwrap().to_vec1::<f32>().unwrap()
            == b.flatten_all().unwrap().to_vec1::<f32>().unwrap()
    );

    let tc = TrainConfig {
        steps: 20,
        batch_size: 4,
        ..TrainConfig::default()
    };
    let (_vm, _m, log) = train(&ToyConfig::default(), &tc, Seed(3), &Device::Cpu).unwrap();
    assert!(
        log.n_params > 100_000 && log.n_params < 400_000,
        "{}",
        log.n_params
    );
    assert!(log.loss_windows[0].is_finite());
    let (_vm2, _m2, log2) = train(&ToyConfig::default(), &tc, Seed(3), &Device::Cpu).unwrap();
    assert_eq!(log, log2); // deterministic by seed
}
