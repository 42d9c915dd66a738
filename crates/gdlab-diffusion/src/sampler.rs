//! DDIM with explicit `(t, t_next)` pairs, re-noising and RePaint-style resampling
//! (spec §2.3, §2.6, §4.1).

use candle_core::{Device, Tensor};
use gdlab_core::normal::fill_normals;
use gdlab_core::GdRng;

use crate::control::{
    AttentionController, AttentionReplace, AttentionStore, EvalCtx, SiteFilter, StoredMap,
    TimeWindow,
};
use crate::error::{DiffusionError, Result};
use crate::schedule::NoiseSchedule;

/// Evaluations per early step in Zero-to-Hero's resampling (paper: R = 5).
pub const PAPER_RESAMPLE_R: usize = 5;
/// Smallest resampled timestep in Zero-to-Hero (paper: t ≥ 800).
pub const PAPER_RESAMPLE_MIN_T: usize = 800;
/// The timestep at which the GT-map oracle records the target's maps (spec §2.7: τ = 5).
pub const GT_MAPS_TAU: usize = 5;

/// The GT-attention-map oracle's controller (spec §2.7): `x0` (the true target, in the
/// denoiser's space) is noised to τ = [`GT_MAPS_TAU`] with `noise`, passed once through
/// `den`, and every self-attention site's logits are recorded; the returned controller
/// replaces the computed logits with them at every timestep.
///
/// # Errors
/// Tensor errors (shape mismatch of `x0` and `noise`) and denoiser errors.
pub fn gt_maps_replace(
    den: &dyn Denoiser,
    sched: &NoiseSchedule,
    x0: &Tensor,
    noise: &Tensor,
) -> Result<AttentionReplace> {
    let a = sched.alpha_bar(GT_MAPS_TAU);
    let zt = (x0.affine(a.sqrt(), 0.0)? + noise.affine((1.0 - a).sqrt(), 0.0)?)?;
    let mut store = AttentionStore::new(
        SiteFilter::AllSelf,
        StoredMap::Logits,
        TimeWindow::new(0, sched.n_train()),
    );
    den.eps(&zt, GT_MAPS_TAU, Some(&mut store))?;
    Ok(AttentionReplace::new(
        store.take_latest(),
        TimeWindow::new(0, sched.n_train()),
    ))
}

/// A noise predictor `ε̂(z, t)` whose attention layers call the controller.
///
/// Classifier-free guidance, conditioning and batch layout are the implementor's business
/// (see [`cfg_combine`]); the sampler only sees `z` `(B, …)` and returns `ε̂` of the same
/// shape.
pub trait Denoiser {
    /// `ε̂` for the batch `z` at timestep `t`.
    ///
    /// # Errors
    /// Tensor or controller errors.
    fn eps(
        &self,
        z: &Tensor,
        t: usize,
        ctrl: Option<&mut (dyn AttentionController + '_)>,
    ) -> Result<Tensor>;
}

/// Classifier-free guidance `ε = ε_u + s·(ε_c − ε_u)` (spec §1.2).
///
/// # Errors
/// Tensor errors (shape mismatch).
pub fn cfg_combine(eps_uncond: &Tensor, eps_cond: &Tensor, scale: f64) -> Result<Tensor> {
    Ok((eps_uncond + (eps_cond - eps_uncond)?.affine(scale, 0.0)?)?)
}

/// The oracle noise predictor of a known clean batch `x0`: the exact noise implied by the
/// input,
///
/// $$ \varepsilon^\star(z, t) = \frac{z - \sqrt{\bar\alpha_t}\, x_0}{\sqrt{1 - \bar\alpha_t}}. $$
///
/// With it every DDIM step predicts `x̂_0 = x_0` exactly, so a correct sampler (any η, with
/// or without resampling) must end at `√ᾱ_0·x_0 + √(1−ᾱ_0)·e` with `e` of unit RMS, and
/// with η = 0 at exactly `√ᾱ_0·x_0 + √(1−ᾱ_0)·ε⋆(z_T, τ_0)` (the DDIM marginal property).
/// This is the end-to-end check of the sampler that needs no trained network.
///
/// With `guidance = Some(s)` the predictor runs like a classifier-free-guided network: a
/// doubled batch `[uncond; cond]`, both halves oracle, combined by [`cfg_combine`] with
/// scale `s` (both branches exact ⇒ guidance is the identity).
///
/// Every call records the RMS of the implied noise `ε⋆` of its input (see
/// [`OracleEps::implied_rms`]): a sampler that injects the wrong noise variance (η, the
/// re-noise) drifts away from 1.
#[derive(Debug)]
pub struct OracleEps {
    x0: Tensor,
    sched: NoiseSchedule,
    guidance: Option<f64>,
    rms: std::sync::Mutex<Vec<(usize, f64)>>,
}

impl OracleEps {
    /// The oracle of `x0` `(B, …)` under `sched`; `guidance = Some(s)` evaluates it as a
    /// CFG pair with scale `s`.
    #[must_use]
    pub fn new(x0: Tensor, sched: NoiseSchedule, guidance: Option<f64>) -> Self {
        OracleEps {
            x0,
            sched,
            guidance,
            rms: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// `ε⋆(z, t)` for the rows of `z` (same shape as `x0`).
    ///
    /// # Errors
    /// [`DiffusionError::OutOfRange`] if `t ≥ T`; tensor errors (shape mismatch).
    pub fn implied_noise(&self, z: &Tensor, t: usize) -> Result<Tensor> {
        if t >= self.sched.n_train() {
            return Err(DiffusionError::OutOfRange {
                field: "t",
                value: t as f64,
                allowed: "0..T",
            });
        }
        let a = self.sched.alpha_bar(t);
        Ok((z - self.x0.affine(a.sqrt(), 0.0)?)?.affine(1.0 / (1.0 - a).sqrt(), 0.0)?)
    }

    /// `(t, RMS of ε⋆(z_in, t))` of every evaluation so far, in call order.
    #[must_use]
    pub fn implied_rms(&self) -> Vec<(usize, f64)> {
        self.rms.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

impl Denoiser for OracleEps {
    fn eps(
        &self,
        z: &Tensor,
        t: usize,
        _ctrl: Option<&mut (dyn AttentionController + '_)>,
    ) -> Result<Tensor> {
        let e = self.implied_noise(z, t)?;
        let rms = f64::from(e.sqr()?.mean_all()?.to_scalar::<f32>()?).sqrt();
        if let Ok(mut v) = self.rms.lock() {
            v.push((t, rms));
        }
        match self.guidance {
            None => Ok(e),
            Some(s) => {
                // The network batch of a guided model: [uncond; cond], both exact here.
                let b = z.dim(0)?;
                let z2 = Tensor::cat(&[z, z], 0)?;
                let x02 = Tensor::cat(&[&self.x0, &self.x0], 0)?;
                let a = self.sched.alpha_bar(t);
                let e2 = (z2 - x02.affine(a.sqrt(), 0.0)?)?.affine(1.0 / (1.0 - a).sqrt(), 0.0)?;
                cfg_combine(&e2.narrow(0, 0, b)?, &e2.narrow(0, b, b)?, s)
            }
        }
    }
}

/// Independent normal streams, one per batch row (spec pitfall 17: one seeded stream per
/// generation, consumed in a fixed order: initial noise, then per evaluation the DDIM η
/// noise, then the re-noise).
#[derive(Clone, Debug)]
pub struct NoiseStreams {
    rngs: Vec<GdRng>,
}

impl NoiseStreams {
    /// One stream per row.
    #[must_use]
    pub fn new(rngs: Vec<GdRng>) -> Self {
        NoiseStreams { rngs }
    }
    /// Number of rows.
    #[must_use]
    pub fn len(&self) -> usize {
        self.rngs.len()
    }
    /// Whether there are no rows.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.rngs.is_empty()
    }
    /// A standard-normal tensor of shape `(B, row_shape…)`, row `b` drawn from stream `b`.
    ///
    /// # Errors
    /// Tensor errors from candle.
    pub fn draw(&mut self, row_shape: &[usize], device: &Device) -> Result<Tensor> {
        let row: usize = row_shape.iter().product();
        let mut buf = vec![0.0f64; row];
        let mut all = Vec::with_capacity(row * self.rngs.len());
        for rng in &mut self.rngs {
            fill_normals(rng, &mut buf);
            all.extend(buf.iter().map(|&x| x as f32));
        }
        let mut shape = vec![self.rngs.len()];
        shape.extend_from_slice(row_shape);
        Ok(Tensor::from_vec(all, shape, device)?)
    }
}

/// The DDIM update of LDM's `p_sample_ddim` from `t` to `t_next < t` (spec §1.3):
///
/// $$ \hat x_0 = \frac{z - \sqrt{1-\bar\alpha_t}\,\hat\varepsilon}{\sqrt{\bar\alpha_t}}, \quad
/// \sigma = \eta \sqrt{\tfrac{1-\bar\alpha_{n}}{1-\bar\alpha_t}} \sqrt{1 - \tfrac{\bar\alpha_t}{\bar\alpha_n}} $$
/// $$ z_{n} = \sqrt{\bar\alpha_n}\,\hat x_0 + \sqrt{1 - \bar\alpha_n - \sigma^2}\,\hat\varepsilon + \sigma \xi $$
///
/// with `n = t_next`. The last step of an LDM list goes to `t_next = 0`, i.e. `ᾱ_prev =
/// ᾱ_0`, as in LDM. `noise` is used only when `σ > 0`.
///
/// # Errors
/// [`DiffusionError::OutOfRange`] unless `t_next < t < T`; tensor errors.
pub fn ddim_step(
    sched: &NoiseSchedule,
    z: &Tensor,
    eps: &Tensor,
    t: usize,
    t_next: usize,
    eta: f64,
    noise: Option<&Tensor>,
) -> Result<Tensor> {
    if t >= sched.n_train() || t_next >= t {
        return Err(DiffusionError::OutOfRange {
            field: "t_next < t < T",
            value: t as f64,
            allowed: "t_next < t < T",
        });
    }
    let (a_t, a_n) = (sched.alpha_bar(t), sched.alpha_bar(t_next));
    let sigma = eta * ((1.0 - a_n) / (1.0 - a_t)).sqrt() * (1.0 - a_t / a_n).sqrt();
    let x0 = (z - eps.affine((1.0 - a_t).sqrt(), 0.0)?)?.affine(1.0 / a_t.sqrt(), 0.0)?;
    let dir = eps.affine((1.0 - a_n - sigma * sigma).max(0.0).sqrt(), 0.0)?;
    let mut out = (x0.affine(a_n.sqrt(), 0.0)? + dir)?;
    if sigma > 0.0 {
        let n = noise.ok_or_else(|| DiffusionError::Protocol {
            controller: "ddim_step",
            message: "eta > 0 needs a noise tensor".into(),
        })?;
        out = (out + n.affine(sigma, 0.0)?)?;
    }
    Ok(out)
}

/// The DDIM noise scale σ of [`ddim_step`] (0 when `eta = 0`).
#[must_use]
pub fn ddim_sigma(sched: &NoiseSchedule, t: usize, t_next: usize, eta: f64) -> f64 {
    let (a_t, a_n) = (sched.alpha_bar(t), sched.alpha_bar(t_next));
    eta * ((1.0 - a_n) / (1.0 - a_t)).sqrt() * (1.0 - a_t / a_n).sqrt()
}

/// Forward-diffuses `z_{t_from}` to the noisier level `t_to > t_from` (the transition
/// `q(z_{t_to} | z_{t_from})`, not the marginal from `x_0`):
/// `z = √a·z + √(1−a)·ξ`, `a = ᾱ_{t_to}/ᾱ_{t_from}`.
///
/// # Errors
/// [`DiffusionError::OutOfRange`] unless `t_from < t_to < T`; tensor errors.
pub fn renoise(
    sched: &NoiseSchedule,
    z: &Tensor,
    t_from: usize,
    t_to: usize,
    noise: &Tensor,
) -> Result<Tensor> {
    if t_to >= sched.n_train() || t_from >= t_to {
        return Err(DiffusionError::OutOfRange {
            field: "t_from < t_to < T",
            value: t_to as f64,
            allowed: "t_from < t_to < T",
        });
    }
    let a = sched.alpha_bar(t_to) / sched.alpha_bar(t_from);
    Ok((z.affine(a.sqrt(), 0.0)? + noise.affine((1.0 - a).sqrt(), 0.0)?)?)
}

/// Configuration of [`sample`].
#[derive(Clone, Debug, PartialEq)]
pub struct SamplerConfig {
    /// Descending input timesteps τ_0 > τ_1 > … (the last step goes to 0, i.e. ᾱ_0).
    pub timesteps: Vec<usize>,
    /// DDIM η (spec default 1.0).
    pub eta: f64,
    /// Evaluations per step inside the resampling window (R; 1 = no resampling).
    pub resample_r: usize,
    /// Smallest input timestep that is resampled (spec: 800).
    pub resample_min_t: usize,
}

impl SamplerConfig {
    /// A plain DDIM sampler over `timesteps` (no resampling).
    #[must_use]
    pub fn ddim(timesteps: Vec<usize>, eta: f64) -> Self {
        SamplerConfig {
            timesteps,
            eta,
            resample_r: 1,
            resample_min_t: usize::MAX,
        }
    }
    /// Evaluations of step `k` (R_k).
    #[must_use]
    pub fn evals_at(&self, t: usize) -> usize {
        if t >= self.resample_min_t {
            self.resample_r
        } else {
            1
        }
    }
    /// Network evaluations of the whole run (NFE; one CFG pair counts once).
    #[must_use]
    pub fn nfe(&self) -> usize {
        self.timesteps.iter().map(|&t| self.evals_at(t)).sum()
    }
    fn validate(&self, sched: &NoiseSchedule) -> Result<()> {
        if self.timesteps.is_empty()
            || self.timesteps[0] >= sched.n_train()
            || self.timesteps.windows(2).any(|w| w[1] >= w[0])
            || self.timesteps.last().is_some_and(|&t| t == 0)
        {
            return Err(DiffusionError::OutOfRange {
                field: "timesteps",
                value: self.timesteps.len() as f64,
                allowed: "non-empty, strictly descending, in 1..T",
            });
        }
        if !(0.0..=1.0).contains(&self.eta) {
            return Err(DiffusionError::OutOfRange {
                field: "eta",
                value: self.eta,
                allowed: "[0, 1]",
            });
        }
        if self.resample_r == 0 {
            return Err(DiffusionError::OutOfRange {
                field: "resample_r",
                value: 0.0,
                allowed: "≥ 1",
            });
        }
        Ok(())
    }
}

/// Runs the sampler (spec §2.3/§2.6): for each step `τ_k → τ_{k+1}` (last → 0) with
/// `R_k` evaluations,
///
/// ```text
/// z_in := z
/// for r in 1..=R_k:
///     ctrl.begin_eval(k, τ_k, r, R_k);  ε̂ := den(z_in, τ_k);  ctrl.end_eval()
///     z_out := ddim_step(z_in, ε̂, τ_k → τ_{k+1}, η)
///     if r < R_k: z_in := renoise(z_out, τ_{k+1} → τ_k)     # fresh noise
/// ctrl.end_step(τ_k);  z := z_out
/// ```
///
/// Noise is drawn from `streams` (one per row): per evaluation the η noise (if σ > 0),
/// then the re-noise. With `ctrl = None` the network runs unhooked.
///
/// # Errors
/// Configuration errors ([`DiffusionError::OutOfRange`]), shape errors if `streams` does
/// not have one stream per row, tensor and controller errors, and
/// [`DiffusionError::NonFinite`] if the result is NaN/∞.
pub fn sample(
    den: &dyn Denoiser,
    sched: &NoiseSchedule,
    cfg: &SamplerConfig,
    z_init: &Tensor,
    streams: &mut NoiseStreams,
    mut ctrl: Option<&mut (dyn AttentionController + '_)>,
) -> Result<Tensor> {
    cfg.validate(sched)?;
    let dims = z_init.dims().to_vec();
    if dims.first() != Some(&streams.len()) {
        return Err(DiffusionError::Shape {
            op: "sample: one noise stream per batch row".into(),
            expected: format!("{} rows", streams.len()),
            got: format!("{dims:?}"),
        });
    }
    let row_shape = &dims[1..];
    let dev = z_init.device().clone();
    let mut z = z_init.clone();
    for (k, &t) in cfg.timesteps.iter().enumerate() {
        let t_next = cfg.timesteps.get(k + 1).copied().unwrap_or(0);
        let r_total = cfg.evals_at(t);
        let sigma = ddim_sigma(sched, t, t_next, cfg.eta);
        let mut z_in = z.clone();
        let mut z_out = z.clone();
        for r in 1..=r_total {
            let ctx = EvalCtx {
                step: k,
                t,
                r,
                r_total,
            };
            if let Some(c) = ctrl.as_deref_mut() {
                c.begin_eval(ctx);
            }
            let eps = den.eps(&z_in, t, ctrl.as_deref_mut())?;
            if let Some(c) = ctrl.as_deref_mut() {
                c.end_eval();
            }
            let noise = if sigma > 0.0 {
                Some(streams.draw(row_shape, &dev)?)
            } else {
                None
            };
            z_out = ddim_step(sched, &z_in, &eps, t, t_next, cfg.eta, noise.as_ref())?;
            if r < r_total {
                let xi = streams.draw(row_shape, &dev)?;
                z_in = renoise(sched, &z_out, t_next, t, &xi)?;
            }
        }
        if let Some(c) = ctrl.as_deref_mut() {
            c.end_step(t);
        }
        z = z_out;
    }
    let s = z.sqr()?.sum_all()?.to_scalar::<f32>()?;
    if !s.is_finite() {
        return Err(DiffusionError::NonFinite {
            what: "sampled batch".into(),
        });
    }
    Ok(z)
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // bitwise comparisons of deterministic outputs and exact hand values
mod tests {
    use super::*;
    use gdlab_core::Seed;

    fn t1(v: &[f32]) -> Tensor {
        Tensor::new(v, &Device::Cpu).unwrap()
    }

    #[test]
    fn ddim_step_hand_computed() {
        // A 3-step scaled-linear schedule 0.1 → 0.3: β = (0.1, ((√0.1+√0.3)/2)², 0.3)
        // = (0.1, 0.186603, 0.3), so ᾱ = (0.9, 0.732057, 0.512440).
        // Step t = 2 → 1 with z = 1, ε̂ = 0.5, η = 0.5, ξ = 2 (LDM p_sample_ddim):
        //   x0 = (z − √(1−ᾱ2)·ε̂)/√ᾱ2,  σ = η·√((1−ᾱ1)/(1−ᾱ2))·√(1 − ᾱ2/ᾱ1)
        //   z1 = √ᾱ1·x0 + √(1 − ᾱ1 − σ²)·ε̂ + σ·ξ
        let sched = NoiseSchedule::scaled_linear(3, 0.1, 0.3).unwrap();
        // scaled-linear with 3 points: √β linear in t; β_1 = ((√0.1+√0.3)/2)².
        let b1 = ((0.1f64.sqrt() + 0.3f64.sqrt()) / 2.0).powi(2);
        let (a1, a2) = (0.9 * (1.0 - b1), 0.9 * (1.0 - b1) * 0.7);
        assert!((sched.alpha_bar(2) - a2).abs() < 1e-15);
        let x0 = (1.0 - (1.0 - a2).sqrt() * 0.5) / a2.sqrt();
        let sigma = 0.5 * ((1.0 - a1) / (1.0 - a2)).sqrt() * (1.0 - a2 / a1).sqrt();
        let want = a1.sqrt() * x0 + (1.0 - a1 - sigma * sigma).sqrt() * 0.5 + sigma * 2.0;
        let got = ddim_step(
            &sched,
            &t1(&[1.0]),
            &t1(&[0.5]),
            2,
            1,
            0.5,
            Some(&t1(&[2.0])),
        )
        .unwrap()
        .to_vec1::<f32>()
        .unwrap()[0];
        assert!((f64::from(got) - want).abs() < 1e-6, "{got} vs {want}");
        assert!((a1 - 0.732_057).abs() < 1e-6 && (a2 - 0.512_440).abs() < 1e-6);
        assert!((want - 1.422_059).abs() < 1e-6, "{want}");
        // η = 0 is the deterministic DDIM: z1 = √ᾱ1·x0 + √(1−ᾱ1)·ε̂ (no noise needed).
        let det = ddim_step(&sched, &t1(&[1.0]), &t1(&[0.5]), 2, 1, 0.0, None)
            .unwrap()
            .to_vec1::<f32>()
            .unwrap()[0];
        let want0 = a1.sqrt() * x0 + (1.0 - a1).sqrt() * 0.5;
        assert!((f64::from(det) - want0).abs() < 1e-6);
        assert!(ddim_step(&sched, &t1(&[1.0]), &t1(&[0.5]), 1, 1, 0.0, None).is_err());
    }

    #[test]
    fn ddim_with_exact_eps_recovers_x0_at_the_end() {
        // If ε̂ is the true noise of z_t = √ᾱ x0 + √(1−ᾱ) ε, an η = 0 step to 0 gives
        // √ᾱ_0 x0 + √(1−ᾱ_0) ε exactly (the DDIM marginal property).
        let sched = NoiseSchedule::stable_diffusion();
        let (x0, e) = (0.3f64, -1.2f64);
        let t = 500;
        let a = sched.alpha_bar(t);
        let z = a.sqrt() * x0 + (1.0 - a).sqrt() * e;
        let out = ddim_step(&sched, &t1(&[z as f32]), &t1(&[e as f32]), t, 0, 0.0, None)
            .unwrap()
            .to_vec1::<f32>()
            .unwrap()[0];
        let a0 = sched.alpha_bar(0);
        let want = a0.sqrt() * x0 + (1.0 - a0).sqrt() * e;
        assert!((f64::from(out) - want).abs() < 1e-5);
    }

    #[test]
    fn renoise_preserves_the_marginal_variance() {
        // z ~ N(0, 1)-scaled data at t_from: var(√a z + √(1−a) ξ) = a·1 + 1 − a = 1 for
        // unit-variance z; check the coefficients on a deterministic pair.
        let sched = NoiseSchedule::stable_diffusion();
        let a = sched.alpha_bar(900) / sched.alpha_bar(880);
        let out = renoise(&sched, &t1(&[2.0]), 880, 900, &t1(&[-1.0]))
            .unwrap()
            .to_vec1::<f32>()
            .unwrap()[0];
        assert!((f64::from(out) - (2.0 * a.sqrt() - (1.0 - a).sqrt())).abs() < 1e-6);
        assert!(renoise(&sched, &t1(&[2.0]), 900, 880, &t1(&[-1.0])).is_err());
    }

    /// A clean batch that looks like the toy data: white background (1.0) with "objects"
    /// of values in [−1, 1], 4 rows × 36 tokens × 48 values.
    fn clean_batch() -> Tensor {
        let mut rng = Seed(11).rng();
        let v: Vec<f32> = (0..4 * 36 * 48)
            .map(|i| {
                let u = gdlab_core::normal::uniform(&mut rng);
                if (i / 48) % 3 == 0 {
                    (2.0 * u - 1.0) as f32
                } else {
                    1.0
                }
            })
            .collect();
        Tensor::from_vec(v, (4, 36, 48), &Device::Cpu).unwrap()
    }

    fn run_oracle(cfg: &SamplerConfig, guidance: Option<f64>) -> (Tensor, Tensor, OracleEps) {
        let sched = NoiseSchedule::stable_diffusion();
        let x0 = clean_batch();
        let den = OracleEps::new(x0.clone(), sched.clone(), guidance);
        let mut st = NoiseStreams::new((0..4).map(|i| Seed(3).index(i).rng()).collect());
        let z_t = st.draw(&[36, 48], &Device::Cpu).unwrap();
        let out = sample(&den, &sched, cfg, &z_t, &mut st, None).unwrap();
        (z_t, out, den)
    }

    fn rms(x: &Tensor) -> f64 {
        f64::from(
            x.sqr()
                .unwrap()
                .mean_all()
                .unwrap()
                .to_scalar::<f32>()
                .unwrap(),
        )
        .sqrt()
    }

    fn max_abs(x: &Tensor) -> f64 {
        f64::from(
            x.abs()
                .unwrap()
                .max_all()
                .unwrap()
                .to_scalar::<f32>()
                .unwrap(),
        )
    }

    #[test]
    fn oracle_eps_eta0_follows_the_ddim_marginal_exactly() {
        // η = 0, no resampling: DDIM keeps the implied noise of z_T, so the output is
        // √ᾱ_0·x0 + √(1−ᾱ_0)·ε⋆(z_T, τ_0), to f32 rounding, for the uniform and the
        // Hourglass lists.
        let sched = NoiseSchedule::stable_diffusion();
        let a0 = sched.alpha_bar(0);
        let lists = [
            crate::schedule::uniform_timesteps(25, 1000).unwrap(),
            crate::schedule::uniform_timesteps(66, 1000).unwrap(),
            crate::schedule::hourglass(&crate::schedule::HOURGLASS_STAGES, 1000).unwrap(),
        ];
        for ts in lists {
            let t0 = ts[0];
            let (z_t, out, den) = run_oracle(&SamplerConfig::ddim(ts, 0.0), None);
            let e = den.implied_noise(&z_t, t0).unwrap();
            let want = (clean_batch().affine(a0.sqrt(), 0.0).unwrap()
                + e.affine((1.0 - a0).sqrt(), 0.0).unwrap())
            .unwrap();
            let err = max_abs(&(&out - &want).unwrap());
            assert!(err < 1e-4, "t0 = {t0}: max error {err}");
            // ... which is x0 up to the ᾱ_0 noise level (√(1−ᾱ_0) ≈ 0.029).
            let to_x0 = max_abs(&(&out - clean_batch()).unwrap());
            assert!(to_x0 < 6.0 * (1.0 - a0).sqrt(), "{to_x0}");
        }
    }

    #[test]
    fn oracle_eps_keeps_unit_noise_for_every_eta_resampling_and_guidance() {
        // Any η, with or without resampling, with or without CFG: every evaluation sees an
        // input whose implied noise has unit RMS (the noise variance of the DDIM η term and
        // of the re-noise is right), and the output is x0 at the ᾱ_0 noise level.
        let sched = NoiseSchedule::stable_diffusion();
        let a0 = sched.alpha_bar(0);
        let hg = crate::schedule::hourglass(&crate::schedule::HOURGLASS_STAGES, 1000).unwrap();
        for eta in [0.0, 0.5, 1.0] {
            for r in [1, 5] {
                for guidance in [None, Some(2.0)] {
                    let cfg = SamplerConfig {
                        timesteps: hg.clone(),
                        eta,
                        resample_r: r,
                        resample_min_t: 800,
                    };
                    let (_, out, den) = run_oracle(&cfg, guidance);
                    let rmss = den.implied_rms();
                    assert_eq!(rmss.len(), cfg.nfe());
                    for (t, v) in rmss {
                        assert!(
                            (v - 1.0).abs() < 0.1,
                            "η = {eta}, R = {r}, CFG {guidance:?}: RMS {v} at t = {t}"
                        );
                    }
                    let e_final = (&out - clean_batch().affine(a0.sqrt(), 0.0).unwrap())
                        .unwrap()
                        .affine(1.0 / (1.0 - a0).sqrt(), 0.0)
                        .unwrap();
                    let fr = rms(&e_final);
                    assert!((fr - 1.0).abs() < 0.1, "final implied RMS {fr}");
                    let to_x0 = max_abs(&(&out - clean_batch()).unwrap());
                    assert!(to_x0 < 6.0 * (1.0 - a0).sqrt(), "{to_x0}");
                }
            }
        }
    }

    #[test]
    fn oracle_eps_guidance_with_equal_branches_is_the_identity() {
        // Both CFG branches exact ⇒ ε_u + s·(ε_c − ε_u) = ε_u bit for bit, so the guided
        // and unguided samplers agree exactly (η = 1 with resampling draws the same noise).
        let hg = crate::schedule::hourglass(&crate::schedule::HOURGLASS_STAGES, 1000).unwrap();
        let cfg = SamplerConfig {
            timesteps: hg,
            eta: 1.0,
            resample_r: 5,
            resample_min_t: 800,
        };
        let (_, plain, _) = run_oracle(&cfg, None);
        let (_, guided, _) = run_oracle(&cfg, Some(2.0));
        assert_eq!(
            plain.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
            guided.flatten_all().unwrap().to_vec1::<f32>().unwrap()
        );
    }

    struct Linear;
    impl Denoiser for Linear {
        fn eps(
            &self,
            z: &Tensor,
            _t: usize,
            _c: Option<&mut (dyn AttentionController + '_)>,
        ) -> Result<Tensor> {
            Ok(z.affine(0.5, 0.0)?)
        }
    }

    #[test]
    fn sampler_is_deterministic_and_counts_evaluations() {
        struct Count(Vec<EvalCtx>, Vec<usize>);
        impl AttentionController for Count {
            fn begin_eval(&mut self, c: EvalCtx) {
                self.0.push(c);
            }
            fn end_step(&mut self, t: usize) {
                self.1.push(t);
            }
        }
        let sched = NoiseSchedule::stable_diffusion();
        let ts = crate::schedule::hourglass(&crate::schedule::HOURGLASS_STAGES, 1000).unwrap();
        let cfg = SamplerConfig {
            timesteps: ts,
            eta: 1.0,
            resample_r: 5,
            resample_min_t: 800,
        };
        assert_eq!(cfg.nfe(), 66);
        let run = |ctrl: &mut Count| {
            let mut s = NoiseStreams::new((0..3).map(|i| Seed(7).index(i).rng()).collect());
            let z = s.draw(&[4], &Device::Cpu).unwrap();
            sample(&Linear, &sched, &cfg, &z, &mut s, Some(ctrl))
                .unwrap()
                .to_vec2::<f32>()
                .unwrap()
        };
        let mut c1 = Count(vec![], vec![]);
        let a = run(&mut c1);
        let b = run(&mut Count(vec![], vec![]));
        assert_eq!(a, b);
        assert_eq!(c1.0.len(), 66);
        assert_eq!(c1.1.len(), 26);
        assert_eq!(
            c1.0[4],
            EvalCtx {
                step: 0,
                t: 981,
                r: 5,
                r_total: 5
            }
        );
        assert_eq!(
            c1.0[50],
            EvalCtx {
                step: 10,
                t: 701,
                r: 1,
                r_total: 1
            }
        );
        // Rows use independent streams: row 0 alone gives the same numbers.
        let mut s0 = NoiseStreams::new(vec![Seed(7).index(0).rng()]);
        let z0 = s0.draw(&[4], &Device::Cpu).unwrap();
        let solo = sample(&Linear, &sched, &cfg, &z0, &mut s0, None)
            .unwrap()
            .to_vec2::<f32>()
            .unwrap();
        assert_eq!(solo[0], a[0]);
    }
}
