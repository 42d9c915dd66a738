use gdlab_core::transform::{check_len, Affine, Fuse, StepCtx, Transform};
use gdlab_core::{ConfigError, Real, StepError};

/// Adds decayed weights: `u ← u + λ·θ`.
///
/// Before an adaptive block this is L2 regularisation (PyTorch `Adam(weight_decay=λ)`,
/// `SGD(weight_decay=λ)`); after it, followed by the learning rate, it is decoupled weight
/// decay (`AdamW`): `θ ← θ − η(adam + λθ)`.
///
/// An affine block: in a chain it folds into the neighbouring block's pass (as that
/// block's `pre` or `post` map), so it costs no pass of its own. With `λ = 0` it is the
/// identity and does not read `θ`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AddDecayedWeights {
    weight_decay: f64,
}

impl AddDecayedWeights {
    /// `λ = weight_decay ≥ 0`.
    ///
    /// # Errors
    /// [`ConfigError::OutOfRange`] for a negative or non-finite value.
    pub fn new(weight_decay: f64) -> Result<Self, ConfigError> {
        ConfigError::check_non_negative("weight_decay", weight_decay)?;
        Ok(AddDecayedWeights { weight_decay })
    }

    /// `λ`.
    #[must_use]
    pub fn weight_decay(&self) -> f64 {
        self.weight_decay
    }

    /// The block as a map: `u + λθ`, or the identity for `λ = 0`.
    fn as_map<F: Real>(&self) -> Affine<F> {
        if self.weight_decay == 0.0 {
            Affine::IDENTITY
        } else {
            Affine::decay(F::from_f64(self.weight_decay))
        }
    }

    /// The folded maps with this block in the middle; `None` when they do not compose
    /// exactly (then the block's own map runs as a separate pass).
    fn folded<F: Real>(&self, fuse: &Fuse<F>) -> Option<Affine<F>> {
        fuse.pre
            .followed_by(&self.as_map())?
            .followed_by(&fuse.post)
    }
}

impl<F: Real> Transform<F> for AddDecayedWeights {
    type State = ();
    fn init(&self, _params: &[F]) {}
    fn update(&self, u: &mut [F], s: &mut (), ctx: &StepCtx<'_, F>) -> Result<(), StepError> {
        self.update_fused(u, s, ctx, &Fuse::IDENTITY)
    }
    fn affine(&self, len: usize, ctx: &StepCtx<'_, F>) -> Result<Option<Affine<F>>, StepError> {
        check_len("add_decayed_weights", ctx.params.len(), len)?;
        Ok(Some(self.as_map()))
    }
    fn update_fused(
        &self,
        u: &mut [F],
        _: &mut (),
        ctx: &StepCtx<'_, F>,
        fuse: &Fuse<F>,
    ) -> Result<(), StepError> {
        check_len("add_decayed_weights", ctx.params.len(), u.len())?;
        match self.folded(fuse) {
            Some(map) => map.apply_in_place(u, ctx.params),
            None => {
                fuse.pre.apply_in_place(u, ctx.params)?;
                self.as_map().apply_in_place(u, ctx.params)?;
                fuse.post.apply_in_place(u, ctx.params)
            }
        }
    }
    fn apply_fused(
        &self,
        params: &mut [F],
        grad: &mut [F],
        _: &mut (),
        _step: u64,
        _loss: Option<f64>,
        fuse: &Fuse<F>,
    ) -> Result<(), StepError> {
        check_len("add_decayed_weights", params.len(), grad.len())?;
        match self.folded(fuse) {
            Some(map) => Fuse::post(map).map_apply(grad, params, |_, x| x),
            None => {
                fuse.pre.apply_in_place(grad, params)?;
                self.as_map().apply_in_place(grad, params)?;
                Fuse::post(fuse.post).map_apply(grad, params, |_, x| x)
            }
        }
    }
}
