use gdlab_core::transform::{check_len, Fuse, Pass, StepCtx, Transform};
use gdlab_core::{ConfigError, Real, StepError};
use serde::{Deserialize, Serialize};

/// Hyperparameters of Adam's scaling (Kingma & Ba 2015; PyTorch defaults).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdamConfig {
    /// `β₁ ∈ [0, 1)`, decay of the first moment. Default 0.9.
    pub beta1: f64,
    /// `β₂ ∈ [0, 1)`, decay of the second moment. Default 0.999.
    pub beta2: f64,
    /// `ε > 0`, added to `√v̂` (outside the square root, as PyTorch). Default 1e-8.
    pub eps: f64,
    /// Use the running maximum of `v` (AMSGrad, Reddi et al. 2018). Default false.
    pub amsgrad: bool,
}

impl Default for AdamConfig {
    /// `torch.optim.Adam` defaults: β = (0.9, 0.999), ε = 1e-8, no AMSGrad.
    fn default() -> Self {
        AdamConfig {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            amsgrad: false,
        }
    }
}

impl AdamConfig {
    /// Validates and builds the block.
    ///
    /// # Errors
    /// [`ConfigError::OutOfRange`] if `beta1` or `beta2` ∉ [0, 1) or `eps` ≤ 0.
    pub fn build(&self) -> Result<ScaleByAdam, ConfigError> {
        ConfigError::check_half_open("beta1", self.beta1, 0.0, 1.0, "[0, 1)")?;
        ConfigError::check_half_open("beta2", self.beta2, 0.0, 1.0, "[0, 1)")?;
        ConfigError::check_positive("eps", self.eps)?;
        Ok(ScaleByAdam { cfg: *self })
    }
}

/// Adam's bias-corrected moment ratio, in PyTorch's convention.
///
/// With `g` the incoming update and `k = 1, 2, …` the block's own update count (kept in the
/// state, so bias correction restarts with a fresh state):
///
/// $$ m_k = \beta_1 m_{k-1} + (1-\beta_1) g, \qquad v_k = \beta_2 v_{k-1} + (1-\beta_2) g^2 $$
/// $$ u = \frac{m_k / (1-\beta_1^k)}{\sqrt{v_k}/\sqrt{1-\beta_2^k} + \varepsilon} $$
///
/// with `m₀ = v₀ = 0`; AMSGrad replaces `v_k` by `max(v_k, v̂_{k−1})` in the denominator.
/// Follow it with [`super::ScaleByLearningRate`] (the [`crate::alias::adam`] alias does).
///
/// Each update is one fused pass: it reads `g, m, v` and writes `m, v, u`; decayed weights
/// and the learning rate around it fold into the same loop (then `θ` is read as well), and
/// [`gdlab_core::transform::update_and_apply`] writes `θ` instead of `u`.
///
/// # Conventions
/// `ε` is added outside the square root, after bias-correcting `√v` (PyTorch; optax's
/// `eps_root = 0` default agrees). The count starts at 1 on the first update
/// (`k = step + 1` for a state created at step 0).
///
/// The loop evaluates `m·c₁ / (√v·c₂ + ε)` with `c₁ = 1/(1−β₁ᵏ)` and
/// `c₂ = 1/√(1−β₂ᵏ)` computed once per step in f64: one division per coordinate.
/// PyTorch divides by `1−β₁ᵏ` and `√(1−β₂ᵏ)` instead; the two differ by rounding only
/// (a few ulps; checked against PyTorch at `rel ≤ 1e-12` in f64).
///
/// # Examples
/// ```
/// use gdlab_optim::transform::AdamConfig;
/// use gdlab_core::transform::{StepCtx, Transform};
/// // The first Adam step has magnitude |g|/(|g| + ε) on every coordinate.
/// let a = AdamConfig::default().build().unwrap();
/// let mut s = a.init(&[0.0_f64, 0.0]);
/// let mut u = [3.0, -0.5];
/// a.update(&mut u, &mut s, &StepCtx::new(0, &[0.0, 0.0])).unwrap();
/// gdlab_core::assert_close!(u, [3.0 / (3.0 + 1e-8), -0.5 / (0.5 + 1e-8)], rel = 1e-15);
/// ```
///
/// # References
/// Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015, Algorithm 1;
/// Reddi, Kale & Kumar, "On the Convergence of Adam and Beyond", ICLR 2018 (AMSGrad).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScaleByAdam {
    cfg: AdamConfig,
}

impl ScaleByAdam {
    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &AdamConfig {
        &self.cfg
    }
}

/// State of [`ScaleByAdam`].
#[derive(Clone, Debug, PartialEq)]
pub struct ScaleByAdamState<F> {
    /// Updates applied so far (`k − 1` during the k-th update).
    pub count: u64,
    /// First moment `m`.
    pub mu: Vec<F>,
    /// Second moment `v`.
    pub nu: Vec<F>,
    /// Running maximum of `v` (AMSGrad only; empty otherwise).
    pub nu_max: Vec<F>,
}

impl ScaleByAdam {
    /// The block's one pass, on either kind of [`Pass`], with `fuse` folded in.
    fn pass<F: Real>(
        &self,
        s: &mut ScaleByAdamState<F>,
        pass: Pass<'_, F>,
        fuse: &Fuse<F>,
    ) -> Result<(), StepError> {
        let n = pass.len();
        check_len("scale_by_adam", s.mu.len(), n)?;
        check_len("scale_by_adam", s.nu.len(), n)?;
        s.count += 1;
        let k = i32::try_from(s.count).unwrap_or(i32::MAX);
        let (b1, b2) = (self.cfg.beta1, self.cfg.beta2);
        // Reciprocals of the bias corrections, rounded once from f64: one division per
        // coordinate instead of three (the loop is otherwise division-bound).
        let inv_bc1 = F::from_f64(1.0 / (1.0 - b1.powi(k)));
        let inv_bc2_sqrt = F::from_f64(1.0 / (1.0 - b2.powi(k)).sqrt());
        let (b1, b2) = (F::from_f64(b1), F::from_f64(b2));
        let (c1, c2) = (F::one() - b1, F::one() - b2);
        let eps = F::from_f64(self.cfg.eps);
        // Slicing to `n` lets the compiler drop the bounds checks in the loop.
        let (mu, nu) = (&mut s.mu[..n], &mut s.nu[..n]);
        if self.cfg.amsgrad {
            check_len("scale_by_adam (amsgrad)", s.nu_max.len(), n)?;
            let nu_max = &mut s.nu_max[..n];
            fuse.run(pass, |i, g| {
                let m = b1 * mu[i] + c1 * g;
                let v = b2 * nu[i] + c2 * g * g;
                let vm = nu_max[i].max(v);
                (mu[i], nu[i], nu_max[i]) = (m, v, vm);
                m * inv_bc1 / (vm.sqrt() * inv_bc2_sqrt + eps)
            })
        } else {
            fuse.run(pass, |i, g| {
                let m = b1 * mu[i] + c1 * g;
                let v = b2 * nu[i] + c2 * g * g;
                (mu[i], nu[i]) = (m, v);
                m * inv_bc1 / (v.sqrt() * inv_bc2_sqrt + eps)
            })
        }
    }
}

element_wise_transform!(ScaleByAdam, ScaleByAdamState<F>, |this, params| {
    let n = params.len();
    ScaleByAdamState {
        count: 0,
        mu: vec![F::zero(); n],
        nu: vec![F::zero(); n],
        nu_max: if this.cfg.amsgrad {
            vec![F::zero(); n]
        } else {
            Vec::new()
        },
    }
});
