use gdlab_core::transform::{check_len, StepCtx, Transform};
use gdlab_core::{ConfigError, Real, StepError};

/// Adds decayed weights: `u ← u + λ·θ`.
///
/// Before an adaptive block this is L2 regularisation (PyTorch `Adam(weight_decay=λ)`,
/// `SGD(weight_decay=λ)`); after it, followed by the learning rate, it is decoupled weight
/// decay (`AdamW`): `θ ← θ − η(adam + λθ)`.
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
}

impl<F: Real> Transform<F> for AddDecayedWeights {
    type State = ();
    fn init(&self, _params: &[F]) {}
    fn update(&self, u: &mut [F], _: &mut (), ctx: &StepCtx<'_, F>) -> Result<(), StepError> {
        check_len("add_decayed_weights", ctx.params.len(), u.len())?;
        if self.weight_decay == 0.0 {
            return Ok(());
        }
        let wd = F::from_f64(self.weight_decay);
        for (x, &p) in u.iter_mut().zip(ctx.params) {
            *x = *x + wd * p;
        }
        Ok(())
    }
}
