//! The Zero-1-to-3 sampler, plain (spec §1.3) and with Zero-to-Hero (spec §2.6).

use candle_core::{DType, Device, Module, Tensor};
use gdlab_core::Seed;

use super::clip::ClipImageEncoder;
use super::image::{attention_heatmap, RgbImage};
use super::pose::RelativePose;
use super::vae::Vae;
use super::weights::{projection, WeightsDir, Zero123Config};
use crate::control::{
    AmfConfig, AttentionController, AttentionReplace, AttentionStore, AttnKind, AttnSite, Compose,
    MutualSelfAttention, SiteFilter, StoredMap, TimeWindow, UNetPart,
};
use crate::error::{DiffusionError, Result};
use crate::sampler::{
    cfg_combine, gt_maps_replace, sample, Denoiser, NoiseStreams, SamplerConfig,
    PAPER_RESAMPLE_MIN_T, PAPER_RESAMPLE_R,
};
use crate::schedule::{hourglass, uniform_timesteps, NoiseSchedule, HOURGLASS_STAGES};
use crate::sd::SdUNet;

/// Zero-1-to-3's demo guidance scale (spec §1.3).
pub const DEFAULT_GUIDANCE_SCALE: f64 = 3.0;
/// Zero-1-to-3's demo DDIM η (spec §1.3).
pub const DEFAULT_ETA: f64 = 1.0;
/// Zero-1-to-3's demo DDIM steps (spec §1.3).
pub const DEFAULT_STEPS: usize = 50;
/// The MSA window for Zero-1-to-3 (spec §2.1: t ∈ [700, 1000]; Zero123-XL uses 600).
pub const MSA_WINDOW: TimeWindow = TimeWindow::new(700, 1000);
/// Attention maps are captured at the largest timestep ≤ this one in each run's list
/// (801: the last resampled Hourglass step, also on the 50-step uniform list).
pub const CAPTURE_T: usize = 801;

/// The timestep list of a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Timesteps {
    /// LDM's uniform list with `n` steps (spec §1.3).
    Uniform(usize),
    /// The 26-step Hourglass list (spec §2.1).
    Hourglass,
}

impl Timesteps {
    /// The descending list.
    ///
    /// # Errors
    /// [`DiffusionError::OutOfRange`] for `Uniform(0)` or more than 1000 steps.
    pub fn list(&self) -> Result<Vec<usize>> {
        match self {
            Timesteps::Uniform(n) => uniform_timesteps(*n, 1000),
            Timesteps::Hourglass => hourglass(&HOURGLASS_STAGES, 1000),
        }
    }
}

/// Mutual self-attention settings (spec §2.5).
#[derive(Clone, Debug, PartialEq)]
pub struct MsaConfig {
    /// Timesteps where target keys/values are replaced by the source branch's.
    pub window: TimeWindow,
    /// Layers replaced (default: decoder self-attention at the two finest resolutions).
    pub sites: SiteFilter,
}

impl Default for MsaConfig {
    fn default() -> Self {
        MsaConfig {
            window: MSA_WINDOW,
            sites: SiteFilter::SelfParts(vec![UNetPart::Up(2), UNetPart::Up(3)]),
        }
    }
}

/// Zero-to-Hero settings; `Default` is the paper's method for Zero-1-to-3 (spec §2.1):
/// Hourglass-26, R = 5 at t ≥ 800, AMF with the paper's defaults, MSA on `Up(2)`/`Up(3)`
/// in t ∈ [700, 1000].
#[derive(Clone, Debug, PartialEq)]
pub struct ZeroToHeroConfig {
    /// The timestep list.
    pub timesteps: Timesteps,
    /// Evaluations per step in the resampling window (R; 1 = none).
    pub resample_r: usize,
    /// Smallest resampled input timestep.
    pub resample_min_t: usize,
    /// Attention-map filtering (`None`: off).
    pub amf: Option<AmfConfig>,
    /// Mutual self-attention with a source branch (`None`: off, no source branch).
    pub msa: Option<MsaConfig>,
}

impl Default for ZeroToHeroConfig {
    fn default() -> Self {
        ZeroToHeroConfig {
            timesteps: Timesteps::Hourglass,
            resample_r: PAPER_RESAMPLE_R,
            resample_min_t: PAPER_RESAMPLE_MIN_T,
            amf: Some(AmfConfig::default()),
            msa: Some(MsaConfig::default()),
        }
    }
}

impl ZeroToHeroConfig {
    /// Every feature off over `timesteps` (the plain sampler, for the identity check).
    #[must_use]
    pub fn all_off(timesteps: Timesteps) -> Self {
        ZeroToHeroConfig {
            timesteps,
            resample_r: 1,
            resample_min_t: usize::MAX,
            amf: None,
            msa: None,
        }
    }
}

/// Plain Zero-1-to-3 or Zero-to-Hero.
#[derive(Clone, Debug, PartialEq)]
pub enum Method {
    /// DDIM over LDM's uniform list of `n_steps` (spec §1.3).
    Baseline {
        /// Steps (the demo's 50).
        n_steps: usize,
    },
    /// Zero-to-Hero.
    ZeroToHero(ZeroToHeroConfig),
    /// The GT-attention-map oracle (spec §2.7): the true target view is encoded, noised
    /// to τ = [`GT_MAPS_TAU`] and passed once through the guided UNet with the same
    /// conditioning; its self-attention logits replace the computed ones in every layer at
    /// every step of a uniform DDIM run. An upper bound: it leaks the unseen target.
    GtMaps {
        /// Steps of the uniform list (the paper's 50).
        n_steps: usize,
        /// The true target view, at the model's image size (values in [0, 1]).
        target: RgbImage,
    },
}

pub use crate::sampler::GT_MAPS_TAU;

/// Options of [`Zero123::sample`].
#[derive(Clone, Debug, PartialEq)]
pub struct SampleOptions {
    /// The run's seed: the target's initial noise is the first draw of
    /// `seed.derive("zero123-target")`, the same for every method (spec pitfall 17); the
    /// source branch draws from `seed.derive("zero123-source")`.
    pub seed: Seed,
    /// Classifier-free guidance scale `s` (3.0).
    pub guidance_scale: f64,
    /// DDIM η (1.0).
    pub eta: f64,
    /// The method.
    pub method: Method,
    /// Capture the target's self-attention probabilities at one decoder layer (see
    /// [`AttentionCapture`]).
    pub capture_attention: bool,
}

impl Default for SampleOptions {
    fn default() -> Self {
        SampleOptions {
            seed: Seed(0),
            guidance_scale: DEFAULT_GUIDANCE_SCALE,
            eta: DEFAULT_ETA,
            method: Method::Baseline {
                n_steps: DEFAULT_STEPS,
            },
            capture_attention: false,
        }
    }
}

/// Self-attention probabilities of the conditional target row at one layer and timestep,
/// averaged over heads (the paper's Fig. 5 analogue).
#[derive(Clone, Debug)]
pub struct AttentionCapture {
    /// The layer.
    pub site: AttnSite,
    /// The timestep of the captured evaluation (its last resample).
    pub t: usize,
    /// `(N, N)` row-stochastic map, `N = grid.0 · grid.1`; row `q` is query token `q`.
    pub probs: Tensor,
}

/// Query points of the attention figures, as fractions `(y, x)` of the image: the centre
/// and three points around it.
pub const QUERY_POINTS: [(f64, f64); 4] = [(0.5, 0.5), (0.35, 0.35), (0.35, 0.65), (0.65, 0.5)];

impl AttentionCapture {
    /// One heatmap per query point (fractions `(y, x)` of the image) over `base`, side by
    /// side: the attention of that query token over all key tokens. Bases smaller than
    /// [`HEATMAP_MIN_SIDE`] are upscaled (nearest) by an integer factor first.
    ///
    /// # Errors
    /// [`DiffusionError::Shape`] if the map does not match the site's grid; tensor errors.
    pub fn heatmaps(&self, base: &RgbImage, queries: &[(f64, f64)]) -> Result<RgbImage> {
        let (gh, gw) = self.site.grid;
        let p = self.probs.to_dtype(DType::F32)?.to_vec2::<f32>()?;
        if p.len() != gh * gw {
            return Err(DiffusionError::Shape {
                op: "AttentionCapture::heatmaps".into(),
                expected: format!("{} query rows", gh * gw),
                got: format!("{}", p.len()),
            });
        }
        let k = HEATMAP_MIN_SIDE.div_ceil(base.width.max(1)).max(1);
        let base = &base.upscale_nearest(k);
        let mut tiles = Vec::with_capacity(queries.len());
        for &(fy, fx) in queries {
            let qy = ((fy * gh as f64) as usize).min(gh - 1);
            let qx = ((fx * gw as f64) as usize).min(gw - 1);
            tiles.push(attention_heatmap(
                base,
                &p[qy * gw + qx],
                (gh, gw),
                (qy, qx),
            )?);
        }
        let refs: Vec<&RgbImage> = tiles.iter().collect();
        Ok(RgbImage::hstack(&refs, 4))
    }
}

/// Smallest side of one attention heatmap tile, in pixels.
pub const HEATMAP_MIN_SIDE: usize = 128;

/// What [`Zero123::sample`] returns.
#[derive(Clone, Debug)]
pub struct SampleOutput {
    /// The generated view `(1, 3, S, S)` in [−1, 1].
    pub image: Tensor,
    /// Its latent (scaled, as sampled) `(1, C, s, s)`.
    pub latent: Tensor,
    /// With MSA, the source branch's reconstruction `(1, 3, S, S)`.
    pub source_branch: Option<Tensor>,
    /// The timestep list used.
    pub timesteps: Vec<usize>,
    /// Network evaluations (one CFG batch counts once; the source branch rides in the
    /// same batch).
    pub nfe: usize,
    /// The captured attention map, if asked for.
    pub attention: Option<AttentionCapture>,
}

/// Zero-1-to-3's conditioning of one source image.
#[derive(Clone, Debug)]
pub struct Conditioning {
    /// `c_concat`: the VAE posterior mode of the source, **unscaled** (spec pitfall 12),
    /// `(1, C, s, s)`.
    pub latent: Tensor,
    /// The CLIP image embedding `(1, projection_dim)`.
    pub clip: Tensor,
}

/// The classifier-free-guided Zero-1-to-3 UNet as a [`Denoiser`].
///
/// For `B` sampler rows the network batch is `[uncond(B); cond(B)]`: the unconditional
/// half has `c_concat = 0` and context `0`, the conditional half the source latent and the
/// per-row contexts (spec §1.2). With rows `[source, target]` this is the MSA layout
/// `[src_u, tgt_u, src_c, tgt_c]` (spec §2.5).
#[derive(Debug)]
pub struct GuidedZero123<'a> {
    unet: &'a SdUNet,
    concat2: Tensor,
    context2: Tensor,
    scale: f64,
}

impl<'a> GuidedZero123<'a> {
    /// `latent` `(1, C, s, s)` (unscaled source mode) and `contexts` `(B, 1, D)`, one per
    /// sampler row.
    ///
    /// # Errors
    /// Tensor errors.
    pub fn new(unet: &'a SdUNet, latent: &Tensor, contexts: &Tensor, scale: f64) -> Result<Self> {
        let b = contexts.dim(0)?;
        let (_, c, h, w) = latent.dims4()?;
        let cond = latent.broadcast_as((b, c, h, w))?.contiguous()?;
        Ok(GuidedZero123 {
            unet,
            concat2: Tensor::cat(&[&cond.zeros_like()?, &cond], 0)?,
            context2: Tensor::cat(&[&contexts.zeros_like()?, contexts], 0)?,
            scale,
        })
    }
}

impl Denoiser for GuidedZero123<'_> {
    fn eps(
        &self,
        z: &Tensor,
        t: usize,
        ctrl: Option<&mut (dyn AttentionController + '_)>,
    ) -> Result<Tensor> {
        let b = z.dim(0)?;
        let x = Tensor::cat(&[&Tensor::cat(&[z, z], 0)?, &self.concat2], 1)?;
        let e = self.unet.forward(&x, t, &self.context2, ctrl)?;
        cfg_combine(&e.narrow(0, 0, b)?, &e.narrow(0, b, b)?, self.scale)
    }
}

/// The four Zero-1-to-3 models on one device.
#[derive(Debug)]
pub struct Zero123 {
    unet: SdUNet,
    vae: Vae,
    clip: ClipImageEncoder,
    projection: candle_nn::Linear,
    cfg: Zero123Config,
    device: Device,
}

impl Zero123 {
    /// Checks every required tensor against the file headers ([`WeightsDir::check`]),
    /// then loads the four models (f32) onto `device`.
    ///
    /// # Errors
    /// [`DiffusionError::Weights`] naming the file and key of a missing or misshaped
    /// tensor; read errors.
    pub fn load(w: &WeightsDir, device: &Device) -> Result<Self> {
        w.check()?;
        let cfg = w.config().clone();
        let vb = |c: &super::tensors::Component| c.var_builder(DType::F32, device);
        Ok(Zero123 {
            unet: SdUNet::new(vb(w.unet()), &cfg.unet)?,
            vae: Vae::new(vb(w.vae()), &cfg.vae)?,
            clip: ClipImageEncoder::new(vb(w.clip()), &cfg.clip)?,
            projection: projection(vb(w.projection()), &cfg.projection)?,
            cfg,
            device: device.clone(),
        })
    }

    /// The model sizes.
    #[must_use]
    pub fn config(&self) -> &Zero123Config {
        &self.cfg
    }

    /// The device the models live on.
    #[must_use]
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The UNet.
    #[must_use]
    pub fn unet(&self) -> &SdUNet {
        &self.unet
    }

    /// Image side the model works at (256 for Zero-1-to-3).
    #[must_use]
    pub fn image_size(&self) -> usize {
        self.cfg.image_size()
    }

    fn check_image(&self, image: &Tensor) -> Result<()> {
        let s = self.image_size();
        if image.dims() != [1, 3, s, s] {
            return Err(DiffusionError::Shape {
                op: "Zero123 source image".into(),
                expected: format!("(1, 3, {s}, {s}) in [-1, 1]"),
                got: format!("{:?}", image.dims()),
            });
        }
        Ok(())
    }

    /// Encodes the source image `(1, 3, S, S)` in [−1, 1]: the unscaled VAE mode and the
    /// CLIP embedding.
    ///
    /// # Errors
    /// [`DiffusionError::Shape`] for another image size; tensor errors.
    pub fn condition(&self, image: &Tensor) -> Result<Conditioning> {
        self.check_image(image)?;
        let image = image.to_device(&self.device)?.to_dtype(DType::F32)?;
        Ok(Conditioning {
            latent: self.vae.encode_mode(&image)?,
            clip: self.clip.embed(&image)?,
        })
    }

    /// The cross-attention context `cc_projection(clip ‖ T(pose))` `(1, 1, D)`.
    ///
    /// # Errors
    /// Tensor errors.
    pub fn context(&self, clip: &Tensor, pose: &RelativePose) -> Result<Tensor> {
        let t = Tensor::new(&pose.vector(), &self.device)?.unsqueeze(0)?;
        let x = Tensor::cat(&[clip, &t], 1)?;
        Ok(self.projection.forward(&x)?.unsqueeze(1)?)
    }

    /// The self-attention site captured for visualisations: the first self-attention
    /// layer of the highest-resolution decoder level that has attention (`up_blocks.3.
    /// attentions.0.attn1` at 32×32 for Zero-1-to-3).
    #[must_use]
    pub fn capture_site(&self) -> Option<AttnSite> {
        let s = self.cfg.sample_size;
        let sites = self.unet.sites(s, s);
        let up = |p: &UNetPart| match p {
            UNetPart::Up(i) => Some(*i),
            _ => None,
        };
        let best = sites
            .iter()
            .filter(|x| x.kind == AttnKind::SelfAttn)
            .filter_map(|x| up(&x.part).map(|i| (i, x)))
            .max_by_key(|(i, x)| (*i, std::cmp::Reverse(x.index)))?;
        Some(best.1.clone())
    }

    /// The GT-map oracle's controller (spec §2.7): encode `target` (scaled latent), noise
    /// it to τ = [`GT_MAPS_TAU`] with its own stream (`seed.derive("zero123-oracle")`), run
    /// the guided UNet once recording every self-attention site's logits, and replace
    /// those at every timestep.
    fn gt_maps(
        &self,
        den: &GuidedZero123<'_>,
        target: &RgbImage,
        seed: Seed,
    ) -> Result<AttentionReplace> {
        let img = target.to_tensor(&self.device)?;
        self.check_image(&img)?;
        let z0 = self
            .vae
            .encode_mode(&img)?
            .affine(self.cfg.vae.scaling_factor, 0.0)?;
        let (_, c, h, w) = z0.dims4()?;
        let mut st = NoiseStreams::new(vec![seed.derive("zero123-oracle").rng()]);
        let e = st.draw(&[c, h, w], &self.device)?;
        gt_maps_replace(den, &NoiseSchedule::stable_diffusion(), &z0, &e)
    }

    /// Generates the view of `image` `(1, 3, S, S)` in [−1, 1] after the camera change
    /// `pose` (spec §2.6):
    ///
    /// 1. `c_concat` = VAE mode of the source (unscaled), CLIP embedding, context
    ///    `cc_projection(clip ‖ T)`; the source branch (MSA only) uses the identity pose;
    /// 2. rows `[source?, target]` start from their own noise streams; the guided UNet
    ///    ([`GuidedZero123`], CFG with zero `c_concat` and zero context) is sampled by
    ///    [`sample`] with the method's timesteps, η, resampling and controllers
    ///    (`Compose[MSA, AMF, store]`);
    /// 3. the target latent `z` is decoded as `VAE.decode(z / scaling_factor)`.
    ///
    /// # Errors
    /// [`DiffusionError::Shape`] for a wrongly sized image; [`DiffusionError::OutOfRange`]
    /// for invalid options (steps, η, R); tensor errors; [`DiffusionError::NonFinite`].
    pub fn sample(
        &self,
        image: &Tensor,
        pose: &RelativePose,
        opts: &SampleOptions,
    ) -> Result<SampleOutput> {
        if !(opts.guidance_scale.is_finite() && opts.guidance_scale >= 0.0) {
            return Err(DiffusionError::OutOfRange {
                field: "guidance_scale",
                value: opts.guidance_scale,
                allowed: "finite, ≥ 0",
            });
        }
        let cond = self.condition(image)?;
        let (z2h, gt_target) = match &opts.method {
            Method::Baseline { n_steps } => (
                ZeroToHeroConfig::all_off(Timesteps::Uniform(*n_steps)),
                None,
            ),
            Method::ZeroToHero(c) => (c.clone(), None),
            Method::GtMaps { n_steps, target } => (
                ZeroToHeroConfig::all_off(Timesteps::Uniform(*n_steps)),
                Some(target),
            ),
        };
        let timesteps = z2h.timesteps.list()?;
        let sc = SamplerConfig {
            timesteps: timesteps.clone(),
            eta: opts.eta,
            resample_r: z2h.resample_r,
            resample_min_t: z2h.resample_min_t,
        };
        let msa_on = z2h.msa.is_some();
        let ctx_tgt = self.context(&cond.clip, pose)?;
        let contexts = if msa_on {
            let ctx_src = self.context(&cond.clip, &RelativePose::IDENTITY)?;
            Tensor::cat(&[&ctx_src, &ctx_tgt], 0)?
        } else {
            ctx_tgt
        };
        let den = GuidedZero123::new(&self.unet, &cond.latent, &contexts, opts.guidance_scale)?;
        let mut rngs = Vec::new();
        if msa_on {
            rngs.push(opts.seed.derive("zero123-source").rng());
        }
        rngs.push(opts.seed.derive("zero123-target").rng());
        let rows = rngs.len();
        let mut streams = NoiseStreams::new(rngs);
        let (_, c, h, w) = cond.latent.dims4()?;
        let z0 = streams.draw(&[c, h, w], &self.device)?;

        let mut msa = match &z2h.msa {
            Some(m) => Some(MutualSelfAttention::source_target(
                m.window,
                m.sites.clone(),
                1,
                2,
            )?),
            None => None,
        };
        let mut amf = match &z2h.amf {
            Some(a) => Some(a.clone().build()?),
            None => None,
        };
        let capture = match (opts.capture_attention, self.capture_site()) {
            (true, Some(site)) => timesteps
                .iter()
                .copied()
                .filter(|&t| t <= CAPTURE_T)
                .max()
                .or(timesteps.last().copied())
                .map(|t| (site, t)),
            _ => None,
        };
        let mut store = capture.as_ref().map(|(site, t)| {
            AttentionStore::new(
                SiteFilter::SelfOrdinals(vec![site.ordinal]),
                StoredMap::Probs,
                TimeWindow::new(*t, *t),
            )
        });
        let mut replace = match gt_target {
            Some(target) => Some(self.gt_maps(&den, target, opts.seed)?),
            None => None,
        };
        let mut parts: Vec<&mut dyn AttentionController> = Vec::new();
        if let Some(r) = replace.as_mut() {
            parts.push(r);
        }
        if let Some(m) = msa.as_mut() {
            parts.push(m);
        }
        if let Some(a) = amf.as_mut() {
            parts.push(a);
        }
        if let Some(s) = store.as_mut() {
            parts.push(s);
        }
        let sched = NoiseSchedule::stable_diffusion();
        let z = if parts.is_empty() {
            sample(&den, &sched, &sc, &z0, &mut streams, None)?
        } else {
            let mut ctrl = Compose::new(parts);
            sample(&den, &sched, &sc, &z0, &mut streams, Some(&mut ctrl))?
        };
        let inv = 1.0 / self.cfg.vae.scaling_factor;
        let decode = |row: usize| -> Result<Tensor> {
            self.vae.decode(&z.narrow(0, row, 1)?.affine(inv, 0.0)?)
        };
        let attention = match (capture, store) {
            (Some((site, t)), Some(store)) => match store.latest().get(&site.ordinal) {
                Some(p) => {
                    // Rows are (batch·heads); the conditional target is the last batch row.
                    let heads = site.heads;
                    let last = p.dim(0)? / heads - 1;
                    let probs = p.narrow(0, last * heads, heads)?.mean(0)?;
                    Some(AttentionCapture { site, t, probs })
                }
                None => None,
            },
            _ => None,
        };
        Ok(SampleOutput {
            image: decode(rows - 1)?,
            latent: z.narrow(0, rows - 1, 1)?,
            source_branch: if msa_on { Some(decode(0)?) } else { None },
            timesteps,
            nfe: sc.nfe(),
            attention,
        })
    }
}
