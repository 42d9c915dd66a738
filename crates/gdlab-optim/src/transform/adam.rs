use gdlab_core::transform::{check_len, StepCtx, Transform};
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
/// # Conventions
/// `ε` is added outside the square root, after bias-correcting `√v` (PyTorch; optax's
/// `eps_root = 0` default agrees). The count starts at 1 on the first update
/// (`k = step + 1` for a state created at step 0).
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

impl<F: Real> Transform<F> for ScaleByAdam {
    type State = ScaleByAdamState<F>;

    fn init(&self, params: &[F]) -> Self::State {
        let n = params.len();
        ScaleByAdamState {
            count: 0,
            mu: vec![F::zero(); n],
            nu: vec![F::zero(); n],
            nu_max: if self.cfg.amsgrad {
                vec![F::zero(); n]
            } else {
                Vec::new()
            },
        }
    }

    fn update(
        &self,
        u: &mut [F],
        s: &mut Self::State,
        _ctx: &StepCtx<'_, F>,
    ) -> Result<(), StepError> {
        check_len("scale_by_adam", s.mu.len(), u.len())?;
        s.count += 1;
        let k = i32::try_from(s.count).unwrap_or(i32::MAX);
        let (b1, b2) = (self.cfg.beta1, self.cfg.beta2);
        let bc1 = F::from_f64(1.0 - b1.powi(k));
        let bc2_sqrt = F::from_f64((1.0 - b2.powi(k)).sqrt());
        let (b1, b2) = (F::from_f64(b1), F::from_f64(b2));
        let (one, eps) = (F::one(), F::from_f64(self.cfg.eps));
        if self.cfg.amsgrad {
            for (((g, m), v), vm) in u
                .iter_mut()
                .zip(&mut s.mu)
                .zip(&mut s.nu)
                .zip(&mut s.nu_max)
            {
                *m = b1 * *m + (one - b1) * *g;
                *v = b2 * *v + (one - b2) * *g * *g;
                *vm = vm.max(*v);
                *g = (*m / bc1) / (vm.sqrt() / bc2_sqrt + eps);
            }
        } else {
            for ((g, m), v) in u.iter_mut().zip(&mut s.mu).zip(&mut s.nu) {
                *m = b1 * *m + (one - b1) * *g;
                *v = b2 * *v + (one - b2) * *g * *g;
                *g = (*m / bc1) / (v.sqrt() / bc2_sqrt + eps);
            }
        }
        Ok(())
    }
}
