//! Optimizers as recipes: each alias chains blocks from [`crate::transform`].
//!
//! All aliases end with [`ScaleByLearningRate`], which multiplies by `−η`: the update is
//! **added** to the parameters (`θ ← θ + u`). Each alias reproduces the corresponding
//! `torch.optim` class step for step (checked against PyTorch fixtures at `rel ≤ 1e-12` in
//! f64, see `tests/conformance.rs`).

use gdlab_core::schedule::{Constant, Schedule};
use gdlab_core::transform::Chain;
use gdlab_core::ConfigError;

use crate::transform::{
    AdamConfig, AddDecayedWeights, MomentumConfig, ScaleByAdam, ScaleByLearningRate,
    ScaleByMomentum,
};

/// `add_decayed_weights → scale_by_momentum → scale_by_learning_rate`.
pub type Sgd<S = Constant> =
    Chain<Chain<AddDecayedWeights, ScaleByMomentum>, ScaleByLearningRate<S>>;
/// `add_decayed_weights → scale_by_adam → scale_by_learning_rate` (L2-coupled decay).
pub type Adam<S = Constant> = Chain<Chain<AddDecayedWeights, ScaleByAdam>, ScaleByLearningRate<S>>;
/// `scale_by_adam → add_decayed_weights → scale_by_learning_rate` (decoupled decay).
pub type AdamW<S = Constant> = Chain<Chain<ScaleByAdam, AddDecayedWeights>, ScaleByLearningRate<S>>;

fn lr(learning_rate: f64) -> Result<ScaleByLearningRate, ConfigError> {
    ScaleByLearningRate::constant(learning_rate)
}

/// Stochastic gradient descent with optional heavy-ball momentum and L2 weight decay,
/// as `torch.optim.SGD(lr, momentum, dampening, weight_decay, nesterov)`.
///
/// $$ g \leftarrow g + \lambda\theta, \quad b \leftarrow \mu b + (1-\tau) g \ (b_0 = g), \quad
///    \theta \leftarrow \theta - \eta\, b \ \ (\text{Nesterov: } \theta \leftarrow \theta - \eta (g + \mu b)) $$
///
/// # Errors
/// [`ConfigError`] for `learning_rate < 0`, `weight_decay < 0`, or an invalid
/// [`MomentumConfig`].
///
/// # Examples
/// ```
/// use gdlab_optim::alias::sgd;
/// use gdlab_optim::transform::MomentumConfig;
/// use gdlab_core::transform::{apply_update, StepCtx, Transform};
/// let opt = sgd(0.1, MomentumConfig::default(), 0.0).unwrap();
/// let mut x = vec![1.0_f64];
/// let mut s = opt.init(&x);
/// let mut g = vec![2.0]; // gradient of x² at 1
/// opt.update(&mut g, &mut s, &StepCtx::new(0, &x)).unwrap();
/// apply_update(&mut x, &g).unwrap();
/// gdlab_core::assert_close!(x[0], 0.8, rel = 1e-15);
/// ```
pub fn sgd(
    learning_rate: f64,
    momentum: MomentumConfig,
    weight_decay: f64,
) -> Result<Sgd, ConfigError> {
    Ok(Chain(
        Chain(AddDecayedWeights::new(weight_decay)?, momentum.build()?),
        lr(learning_rate)?,
    ))
}

/// [`sgd`] with a learning-rate schedule.
///
/// # Errors
/// As [`sgd`] (the schedule is used as given).
pub fn sgd_scheduled<S: Schedule>(
    schedule: S,
    momentum: MomentumConfig,
    weight_decay: f64,
) -> Result<Sgd<S>, ConfigError> {
    Ok(Chain(
        Chain(AddDecayedWeights::new(weight_decay)?, momentum.build()?),
        ScaleByLearningRate::scheduled(schedule),
    ))
}

/// Adam with L2 weight decay added to the gradient, as `torch.optim.Adam`.
///
/// $$ g \leftarrow g + \lambda\theta, \qquad
///    \theta \leftarrow \theta - \eta\, \frac{\hat m}{\sqrt{\hat v} + \varepsilon} $$
/// (see [`ScaleByAdam`] for `m̂, v̂`).
///
/// # Errors
/// [`ConfigError`] for `learning_rate < 0`, `weight_decay < 0` or an invalid [`AdamConfig`].
///
/// # Examples
/// ```
/// use gdlab_optim::alias::adam;
/// use gdlab_optim::transform::AdamConfig;
/// use gdlab_core::transform::{StepCtx, Transform};
/// let opt = adam(1e-3, AdamConfig::default(), 0.0).unwrap();
/// let mut s = opt.init(&[0.0_f64]);
/// let mut g = [5.0];
/// opt.update(&mut g, &mut s, &StepCtx::new(0, &[0.0])).unwrap();
/// // First step: −η·|g|/(|g| + ε)·sign(g).
/// gdlab_core::assert_close!(g[0], -1e-3 * 5.0 / (5.0 + 1e-8), rel = 1e-15);
/// ```
pub fn adam(learning_rate: f64, cfg: AdamConfig, weight_decay: f64) -> Result<Adam, ConfigError> {
    Ok(Chain(
        Chain(AddDecayedWeights::new(weight_decay)?, cfg.build()?),
        lr(learning_rate)?,
    ))
}

/// Adam with decoupled weight decay, as `torch.optim.AdamW` (default `weight_decay` there
/// is 0.01).
///
/// $$ \theta \leftarrow \theta - \eta \left( \frac{\hat m}{\sqrt{\hat v} + \varepsilon} + \lambda \theta \right) $$
///
/// # Conventions
/// PyTorch multiplies `θ` by `1 − ηλ` before the Adam step; the result is the same up to
/// rounding (checked at `rel ≤ 1e-12`).
///
/// # Errors
/// [`ConfigError`] for `learning_rate < 0`, `weight_decay < 0` or an invalid [`AdamConfig`].
///
/// # References
/// Loshchilov & Hutter, "Decoupled Weight Decay Regularization", ICLR 2019, Algorithm 2.
pub fn adamw(learning_rate: f64, cfg: AdamConfig, weight_decay: f64) -> Result<AdamW, ConfigError> {
    Ok(Chain(
        Chain(cfg.build()?, AddDecayedWeights::new(weight_decay)?),
        lr(learning_rate)?,
    ))
}
