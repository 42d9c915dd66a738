//! Replaying an optimizer on a given sequence of gradients.
//!
//! This is how gdlab's optimizers are checked step by step against PyTorch or optax: feed
//! both the same initial parameters and the same gradients, compare the trajectories.

use gdlab_core::transform::{apply_update, check_len, StepCtx, Transform};
use gdlab_core::{Real, StepError};

/// Applies `transform` to `params0` with the gradients `grads` (one row per step) and
/// returns the parameters after each step (`grads.len()` rows).
///
/// # Errors
/// [`StepError::Dim`] when a gradient row's length differs from the parameters'.
///
/// # Examples
/// ```
/// use gdlab_optim::{alias::sgd, replay::replay, transform::MomentumConfig};
/// let opt = sgd(0.5, MomentumConfig::default(), 0.0).unwrap();
/// let traj = replay(&opt, &[1.0_f64], &[vec![1.0], vec![1.0]]).unwrap();
/// assert_eq!(traj, vec![vec![0.5], vec![0.0]]);
/// ```
pub fn replay<F: Real, T: Transform<F>>(
    transform: &T,
    params0: &[F],
    grads: &[Vec<F>],
) -> Result<Vec<Vec<F>>, StepError> {
    let mut params = params0.to_vec();
    let mut state = transform.init(&params);
    let mut out = Vec::with_capacity(grads.len());
    for (step, g) in grads.iter().enumerate() {
        check_len("replay: gradient row", params.len(), g.len())?;
        let mut u = g.clone();
        transform.update(&mut u, &mut state, &StepCtx::new(step as u64, &params))?;
        apply_update(&mut params, &u)?;
        out.push(params.clone());
    }
    Ok(out)
}
