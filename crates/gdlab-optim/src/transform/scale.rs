use gdlab_core::schedule::{Constant, Schedule};
use gdlab_core::transform::{check_len, Affine, Fuse, StepCtx, Transform};
use gdlab_core::{ConfigError, Real, StepError};

/// Multiplies the update by a constant: `u ← c·u`.
///
/// An affine block: in a chain it folds into its neighbour's pass.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scale(pub f64);

impl<F: Real> Transform<F> for Scale {
    type State = ();
    fn init(&self, _params: &[F]) {}
    fn update(&self, u: &mut [F], s: &mut (), ctx: &StepCtx<'_, F>) -> Result<(), StepError> {
        self.update_fused(u, s, ctx, &Fuse::IDENTITY)
    }
    fn affine(&self, _len: usize, _ctx: &StepCtx<'_, F>) -> Result<Option<Affine<F>>, StepError> {
        Ok(Some(Affine::scale(F::from_f64(self.0))))
    }
    fn update_fused(
        &self,
        u: &mut [F],
        _: &mut (),
        ctx: &StepCtx<'_, F>,
        fuse: &Fuse<F>,
    ) -> Result<(), StepError> {
        let c = F::from_f64(self.0);
        fuse.map(u, ctx.params, |_, x| x * c)
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
        let c = F::from_f64(self.0);
        fuse.map_apply(grad, params, |_, x| x * c)
    }
}

/// The last block of every optimizer: `u ← −η(t)·u`, with `η` a [`Schedule`] of the
/// 0-based step.
///
/// The minus sign implements gdlab's convention that updates are *added* to parameters.
/// An affine block: in a chain the multiplication is folded into the previous block's pass
/// (each update is one fused pass), with the same result bit for bit.
///
/// # Examples
/// ```
/// use gdlab_optim::transform::ScaleByLearningRate;
/// use gdlab_core::transform::{StepCtx, Transform};
/// let t = ScaleByLearningRate::constant(0.1).unwrap();
/// let mut u = [2.0_f64];
/// t.update(&mut u, &mut (), &StepCtx::new(0, &[0.0])).unwrap();
/// assert_eq!(u, [-0.2]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScaleByLearningRate<S = Constant> {
    schedule: S,
}

impl ScaleByLearningRate<Constant> {
    /// A constant learning rate `η ≥ 0`.
    ///
    /// # Errors
    /// [`ConfigError::OutOfRange`] for a negative or non-finite `learning_rate`.
    pub fn constant(learning_rate: f64) -> Result<Self, ConfigError> {
        ConfigError::check_non_negative("learning_rate", learning_rate)?;
        Ok(ScaleByLearningRate {
            schedule: Constant(learning_rate),
        })
    }
}

impl<S: Schedule> ScaleByLearningRate<S> {
    /// A scheduled learning rate. The schedule's values are used as given; validate the
    /// schedule when building it (e.g. [`gdlab_core::schedule::ScheduleSpec::build`]).
    pub fn scheduled(schedule: S) -> Self {
        ScaleByLearningRate { schedule }
    }

    /// The schedule.
    pub fn schedule(&self) -> &S {
        &self.schedule
    }

    /// `−η(step)` in the buffer's type.
    fn factor<F: Real>(&self, step: u64) -> F {
        F::from_f64(-self.schedule.value(step))
    }
}

impl<F: Real, S: Schedule> Transform<F> for ScaleByLearningRate<S> {
    type State = ();
    fn init(&self, _params: &[F]) {}
    fn update(&self, u: &mut [F], s: &mut (), ctx: &StepCtx<'_, F>) -> Result<(), StepError> {
        self.update_fused(u, s, ctx, &Fuse::IDENTITY)
    }
    fn affine(&self, len: usize, ctx: &StepCtx<'_, F>) -> Result<Option<Affine<F>>, StepError> {
        check_len("scale_by_learning_rate", ctx.params.len(), len)?;
        Ok(Some(Affine::scale(self.factor(ctx.step))))
    }
    fn update_fused(
        &self,
        u: &mut [F],
        _: &mut (),
        ctx: &StepCtx<'_, F>,
        fuse: &Fuse<F>,
    ) -> Result<(), StepError> {
        check_len("scale_by_learning_rate", ctx.params.len(), u.len())?;
        let c: F = self.factor(ctx.step);
        fuse.map(u, ctx.params, |_, x| x * c)
    }
    fn apply_fused(
        &self,
        params: &mut [F],
        grad: &mut [F],
        _: &mut (),
        step: u64,
        _loss: Option<f64>,
        fuse: &Fuse<F>,
    ) -> Result<(), StepError> {
        let c: F = self.factor(step);
        fuse.map_apply(grad, params, |_, x| x * c)
    }
}
