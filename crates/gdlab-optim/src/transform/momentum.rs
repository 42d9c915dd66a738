use gdlab_core::transform::{check_len, Affine, Fuse, Pass, StepCtx, Transform};
use gdlab_core::{ConfigError, Real, StepError};
use serde::{Deserialize, Serialize};

/// Hyperparameters of heavy-ball momentum (PyTorch `SGD` convention).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MomentumConfig {
    /// `μ ∈ [0, 1)`; 0 disables the buffer. PyTorch default 0.
    pub momentum: f64,
    /// `τ ∈ [0, 1]`, damping of the incoming gradient. PyTorch default 0.
    pub dampening: f64,
    /// Nesterov's variant (needs `μ > 0` and `τ = 0`, as in PyTorch). Default false.
    pub nesterov: bool,
}

impl Default for MomentumConfig {
    /// PyTorch's `torch.optim.SGD` defaults: no momentum, no dampening, no Nesterov.
    fn default() -> Self {
        MomentumConfig {
            momentum: 0.0,
            dampening: 0.0,
            nesterov: false,
        }
    }
}

impl MomentumConfig {
    /// Validates and builds the block.
    ///
    /// # Errors
    /// [`ConfigError`] if `momentum ∉ [0, 1)`, `dampening ∉ [0, 1]`, or `nesterov` is set
    /// with `momentum = 0` or `dampening ≠ 0` (PyTorch rejects the same combinations).
    pub fn build(&self) -> Result<ScaleByMomentum, ConfigError> {
        ConfigError::check_half_open("momentum", self.momentum, 0.0, 1.0, "[0, 1)")?;
        ConfigError::check_closed("dampening", self.dampening, 0.0, 1.0, "[0, 1]")?;
        if self.nesterov && (self.momentum <= 0.0 || self.dampening != 0.0) {
            return Err(ConfigError::Invalid {
                field: "nesterov".into(),
                reason: format!(
                    "requires momentum > 0 and dampening = 0, got momentum = {}, dampening = {}",
                    self.momentum, self.dampening
                ),
            });
        }
        Ok(ScaleByMomentum { cfg: *self })
    }
}

/// Heavy-ball momentum in PyTorch's convention.
///
/// With `g_t` the incoming update, `t` the 0-based step:
///
/// $$ b_0 = g_0, \qquad b_t = \mu\, b_{t-1} + (1-\tau)\, g_t \quad (t \ge 1) $$
/// $$ u_t = b_t \quad\text{or, with Nesterov,}\quad u_t = g_t + \mu\, b_t $$
///
/// # Conventions
/// The buffer starts at the first gradient itself (not `(1−τ)g₀` and not zero), exactly as
/// `torch.optim.SGD`. optax's `trace` starts from zero and has no dampening; with `τ = 0`
/// the two agree from the second step on. With `μ = 0` the block is the identity.
///
/// # Examples
/// ```
/// use gdlab_optim::transform::MomentumConfig;
/// use gdlab_core::transform::{StepCtx, Transform};
/// let m = MomentumConfig { momentum: 0.9, ..Default::default() }.build().unwrap();
/// let mut s = m.init(&[0.0_f64]);
/// let (mut a, mut b) = ([1.0], [1.0]);
/// m.update(&mut a, &mut s, &StepCtx::new(0, &[0.0])).unwrap();
/// m.update(&mut b, &mut s, &StepCtx::new(1, &[0.0])).unwrap();
/// assert_eq!((a[0], b[0]), (1.0, 1.9));
/// ```
///
/// # References
/// Polyak (1964); Sutskever et al. (2013) for the Nesterov form used by PyTorch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScaleByMomentum {
    cfg: MomentumConfig,
}

impl ScaleByMomentum {
    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &MomentumConfig {
        &self.cfg
    }
}

/// State of [`ScaleByMomentum`]: the buffer `b` (absent before the first step).
#[derive(Clone, Debug, PartialEq)]
pub struct ScaleByMomentumState<F> {
    /// The momentum buffer; `None` until the first update.
    pub buffer: Option<Vec<F>>,
}

impl ScaleByMomentum {
    /// The block's one pass, on either kind of [`Pass`], with `fuse` folded in.
    fn pass<F: Real>(
        &self,
        state: &mut ScaleByMomentumState<F>,
        pass: Pass<'_, F>,
        fuse: &Fuse<F>,
    ) -> Result<(), StepError> {
        let n = pass.len();
        if self.cfg.momentum <= 0.0 {
            return fuse.run(pass, |_, g| g);
        }
        let mu = F::from_f64(self.cfg.momentum);
        let damp = F::from_f64(1.0 - self.cfg.dampening);
        let nesterov = self.cfg.nesterov;
        match &mut state.buffer {
            None => {
                // First step: the buffer is the (pre-processed) gradient itself.
                let b = &mut state.buffer.insert(vec![F::zero(); n])[..n];
                if nesterov {
                    fuse.run(pass, |i, g| {
                        b[i] = g;
                        g + mu * g
                    })
                } else {
                    fuse.run(pass, |i, g| {
                        b[i] = g;
                        g
                    })
                }
            }
            Some(b) => {
                check_len("scale_by_momentum", b.len(), n)?;
                let b = &mut b[..n];
                if nesterov {
                    fuse.run(pass, |i, g| {
                        let bi = mu * b[i] + damp * g;
                        b[i] = bi;
                        g + mu * bi
                    })
                } else {
                    fuse.run(pass, |i, g| {
                        let bi = mu * b[i] + damp * g;
                        b[i] = bi;
                        bi
                    })
                }
            }
        }
    }
}

// With `μ = 0` the block is the identity map and folds away.
element_wise_transform!(
    ScaleByMomentum,
    ScaleByMomentumState<F>,
    |_this, _params| ScaleByMomentumState { buffer: None },
    affine = |this, _len, _ctx| Ok((this.cfg.momentum <= 0.0).then_some(Affine::IDENTITY))
);
