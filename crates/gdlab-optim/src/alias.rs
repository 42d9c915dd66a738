//! Optimizers as recipes: each alias chains blocks from [`crate::transform`].
//!
//! All aliases end with [`ScaleByLearningRate`], which multiplies by `−η`: the update is
//! **added** to the parameters (`θ ← θ + u`). Each alias reproduces the corresponding
//! `torch.optim` class step for step (checked against PyTorch fixtures at `rel ≤ 1e-12` in
//! f64, see `tests/conformance.rs`).

use gdlab_core::schedule::{Constant, Schedule};
use gdlab_core::transform::Chain;
use gdlab_core::ConfigError;

use crate::estimator::{FiniteSumVr, FiniteSumVrConfig, Storm, StormConfig};
use crate::transform::{
    AdamConfig, AddDecayedWeights, MomentumConfig, NormalizeByGlobalNorm, ScaleByAdam,
    ScaleByLearningRate, ScaleByMomentum, ScaleBySign, ScaleBySignOfEma, ScaleBySignTimesL1,
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

/// `scale_by_sign → scale_by_learning_rate`.
pub type SignSgd<S = Constant> = Chain<ScaleBySign, ScaleByLearningRate<S>>;
/// `scale_by_sign_of_ema → scale_by_learning_rate`.
pub type Signum<S = Constant> = Chain<ScaleBySignOfEma, ScaleByLearningRate<S>>;
/// `scale_by_sign → scale_by_momentum → scale_by_learning_rate`.
pub type SignMomentum<S = Constant> =
    Chain<Chain<ScaleBySign, ScaleByMomentum>, ScaleByLearningRate<S>>;
/// `normalize_by_global_norm → scale_by_momentum → scale_by_learning_rate`.
pub type NormalizedGd<S = Constant> =
    Chain<Chain<NormalizeByGlobalNorm, ScaleByMomentum>, ScaleByLearningRate<S>>;
/// `scale_by_sign_times_l1 → scale_by_momentum → scale_by_learning_rate`.
pub type RescaledSign<S = Constant> =
    Chain<Chain<ScaleBySignTimesL1, ScaleByMomentum>, ScaleByLearningRate<S>>;

fn heavy_ball(momentum: f64) -> Result<ScaleByMomentum, ConfigError> {
    MomentumConfig {
        momentum,
        ..MomentumConfig::default()
    }
    .build()
}

/// signSGD: `θ ← θ − η·sign(g)`, with `sign(0) = 0`.
///
/// # Errors
/// [`ConfigError`] for `learning_rate < 0`.
///
/// # Examples
/// ```
/// use gdlab_optim::alias::sign_sgd;
/// use gdlab_core::transform::{StepCtx, Transform};
/// let opt = sign_sgd(0.01).unwrap();
/// let mut s = opt.init(&[0.0_f64; 3]);
/// let mut g = [3.0_f64, -1e-9, 0.0];
/// opt.update(&mut g, &mut s, &StepCtx::new(0, &[0.0; 3])).unwrap();
/// assert_eq!(g, [-0.01, 0.01, 0.0]);
/// ```
///
/// # References
/// Bernstein, Wang, Azizzadenesheli & Anandkumar, "signSGD: Compressed Optimisation for
/// Non-Convex Problems", ICML 2018.
pub fn sign_sgd(learning_rate: f64) -> Result<SignSgd, ConfigError> {
    Ok(Chain(ScaleBySign, lr(learning_rate)?))
}

/// Signum: the sign of an EMA of gradients,
/// `m ← β m + (1 − β) g` (`m₀ = 0`), `θ ← θ − η·sign(m)`.
///
/// Not the same method as [`sign_momentum`] (heavy ball on signs).
///
/// # Errors
/// [`ConfigError`] for `learning_rate < 0` or `momentum ∉ [0, 1)`.
///
/// # References
/// Bernstein et al., ICML 2018, Algorithm 3 (Signum).
pub fn signum(learning_rate: f64, momentum: f64) -> Result<Signum, ConfigError> {
    Ok(Chain(ScaleBySignOfEma::new(momentum)?, lr(learning_rate)?))
}

/// Momentum on signs, as in the heavy-tailed class-imbalance paper's `SignSGD`:
/// `d = sign(g)`, heavy-ball buffer `b ← μ b + d` (`b₀ = d₀`, PyTorch convention),
/// `θ ← θ − η·b`. With `μ = 0` it is signSGD.
///
/// # Errors
/// [`ConfigError`] for `learning_rate < 0` or `momentum ∉ [0, 1)`.
///
/// # References
/// Kunstner, Yadav, Milligan, Schmidt & Bietti, "Heavy-Tailed Class Imbalance and Why Adam
/// Outperforms Gradient Descent on Language Models", NeurIPS 2024 (authors' code,
/// `normalized_opts.py`).
pub fn sign_momentum(learning_rate: f64, momentum: f64) -> Result<SignMomentum, ConfigError> {
    Ok(Chain(Chain(ScaleBySign, heavy_ball(momentum)?), lr(learning_rate)?))
}

/// Normalized gradient descent: `d = g/‖g‖₂` (global norm over all parameters), heavy-ball
/// buffer as [`sign_momentum`], `θ ← θ − η·b`.
///
/// # Errors
/// [`ConfigError`] for `learning_rate < 0` or `momentum ∉ [0, 1)`.
pub fn normalized_gd(learning_rate: f64, momentum: f64) -> Result<NormalizedGd, ConfigError> {
    Ok(Chain(
        Chain(NormalizeByGlobalNorm, heavy_ball(momentum)?),
        lr(learning_rate)?,
    ))
}

/// Rescaled sign descent: `d = sign(g)·‖g‖₁` (global ℓ1 norm), heavy-ball buffer as
/// [`sign_momentum`], `θ ← θ − η·b`.
///
/// # Errors
/// [`ConfigError`] for `learning_rate < 0` or `momentum ∉ [0, 1)`.
pub fn rescaled_sign(learning_rate: f64, momentum: f64) -> Result<RescaledSign, ConfigError> {
    Ok(Chain(
        Chain(ScaleBySignTimesL1, heavy_ball(momentum)?),
        lr(learning_rate)?,
    ))
}

/// SSVR = the [`Storm`] estimator (same sample at `x_t` and `x_{t−1}`) followed by
/// [`sign_sgd`]:
///
/// $$ v_t = \nabla f(x_t;\xi_t) + (1-\beta)\big(v_{t-1} - \nabla f(x_{t-1};\xi_t)\big), \qquad
///    x_{t+1} = x_t - \eta\,\mathrm{sign}(v_t) $$
///
/// Run the pair with [`crate::estimator::run_estimator`].
///
/// # Errors
/// [`ConfigError`] for `learning_rate < 0` or an invalid [`StormConfig`] (`β ∉ (0, 1]`).
///
/// # References
/// Jiang, Yang, Yang & Zhang, "Efficient Sign-Based Optimization: Accelerating Convergence
/// via Variance Reduction", NeurIPS 2024 (spec §2.2).
pub fn ssvr(learning_rate: f64, cfg: StormConfig) -> Result<(Storm, SignSgd), ConfigError> {
    Ok((cfg.build()?, sign_sgd(learning_rate)?))
}

/// SSVR-FS = the [`FiniteSumVr`] estimator followed by [`sign_sgd`] (spec §2.3).
///
/// # Errors
/// [`ConfigError`] for `learning_rate < 0` or an invalid [`FiniteSumVrConfig`].
pub fn ssvr_finite_sum(
    learning_rate: f64,
    cfg: FiniteSumVrConfig,
) -> Result<(FiniteSumVr, SignSgd), ConfigError> {
    Ok((cfg.build()?, sign_sgd(learning_rate)?))
}
