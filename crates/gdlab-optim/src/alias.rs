//! Optimizers as recipes: each alias chains blocks from [`crate::transform`].
//!
//! All aliases end with [`ScaleByLearningRate`], which multiplies by `−η`: the update is
//! **added** to the parameters (`θ ← θ + u`). Each alias reproduces the corresponding
//! `torch.optim` class step for step (checked against PyTorch fixtures at `rel ≤ 1e-12` in
//! f64, see `tests/conformance.rs`).
//!
//! **Each update is one fused pass.** The affine blocks (learning rate, decayed weights,
//! momentum with `μ = 0`) fold into the loop of the block next to them
//! ([`gdlab_core::transform`] explains how), without changing a bit of the result.
//! [`gdlab_core::transform::update_and_apply`] also folds `θ ← θ + u` into that loop.
//! Passes over the buffers per step (`update`, then `apply_update`):
//!
//! | alias | before fusion | `update` | `update_and_apply` | touched by the fused step (f32 bytes/coordinate) |
//! |---|---|---|---|---|
//! | [`sgd`] (λ = 0, μ = 0) | 1 + 1 | 1 | 1 | read `g, θ`; write `θ` (12) |
//! | [`sgd`] (λ > 0 and/or μ > 0) | 2–3 + 1 | 1 | 1 | read `g, b, θ`; write `b, θ` (20) |
//! | [`adam`] (λ = 0) | 2 + 1 | 1 | 1 | read `g, m, v, θ`; write `m, v, θ` (28) |
//! | [`adam`] (λ > 0), [`adamw`] | 3 + 1 | 1 | 1 | as `adam` (`θ` is read once) |
//! | [`sign_sgd`] | 2 + 1 | 1 | 1 | read `g, θ`; write `θ` (12) |
//! | [`signum`] | 2 + 1 | 1 | 1 | read `g, m, θ`; write `m, θ` (20) |
//! | [`sign_momentum`] | 3 + 1 | 2 | 2 | |
//! | [`normalized_gd`], [`rescaled_sign`] | 4 + 1 | 3 | 3 | (one pass is the norm's read) |
//!
//! With `update` alone, the pass writes `u` instead of `θ` and reads `θ` only for weight
//! decay (e.g. Adam: read `g, m, v`, write `m, v, u`, 24 bytes per f32 coordinate).

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
    Ok(Chain(
        Chain(ScaleBySign, heavy_ball(momentum)?),
        lr(learning_rate)?,
    ))
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

#[cfg(test)]
mod tests {
    //! Fusion must not change a bit: every alias against the same chain with its fusion
    //! hooks hidden, through `update`, `update_and_apply` and the boxed wrapper; plus the
    //! number of passes each alias makes.

    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use gdlab_core::transform::{
        apply_update, update_and_apply, Affine, BoxedTransform, Fuse, StepCtx, Transform,
    };
    use gdlab_core::{Real, StepError, TransformExt};

    use super::*;
    use crate::transform::{ScaleByEma, ScaleBySignOfEma};

    use gdlab_core::transform::Unfused;

    /// Forwards everything to `T` and counts the passes `T` runs (calls that reach it).
    #[derive(Clone, Debug)]
    struct Counted<T>(T, Arc<AtomicUsize>);

    impl<F: Real, T: Transform<F>> Transform<F> for Counted<T> {
        type State = T::State;
        fn init(&self, p: &[F]) -> T::State {
            self.0.init(p)
        }
        fn update(
            &self,
            u: &mut [F],
            s: &mut T::State,
            c: &StepCtx<'_, F>,
        ) -> Result<(), StepError> {
            self.update_fused(u, s, c, &Fuse::IDENTITY)
        }
        fn affine(&self, n: usize, c: &StepCtx<'_, F>) -> Result<Option<Affine<F>>, StepError> {
            self.0.affine(n, c)
        }
        fn update_fused(
            &self,
            u: &mut [F],
            s: &mut T::State,
            c: &StepCtx<'_, F>,
            f: &Fuse<F>,
        ) -> Result<(), StepError> {
            self.1.fetch_add(1, Ordering::Relaxed);
            self.0.update_fused(u, s, c, f)
        }
        fn apply_fused(
            &self,
            p: &mut [F],
            g: &mut [F],
            s: &mut T::State,
            step: u64,
            loss: Option<f64>,
            f: &Fuse<F>,
        ) -> Result<(), StepError> {
            self.1.fetch_add(1, Ordering::Relaxed);
            self.0.apply_fused(p, g, s, step, loss, f)
        }
    }

    /// Parameters and gradients with zeros, negative zeros and mixed signs.
    fn data<F: Real>(n: usize, steps: usize) -> (Vec<F>, Vec<Vec<F>>) {
        let theta = (0..n)
            .map(|i| F::from_f64((i as f64 * 0.37).sin() * 2.0))
            .collect();
        let grads = (0..steps)
            .map(|k| {
                (0..n)
                    .map(|i| match (i + k) % 7 {
                        0 => F::zero(),
                        1 => -F::zero(),
                        _ => F::from_f64(((i * 3 + k * 5) as f64 * 0.61).cos() * 3.0),
                    })
                    .collect()
            })
            .collect();
        (theta, grads)
    }

    /// Parameter bits after each step, through `update` + `apply_update` and through
    /// `update_and_apply`.
    fn run<F: Real, T: Transform<F>>(t: &T, theta0: &[F], grads: &[Vec<F>]) -> [Vec<F>; 2] {
        let (mut a, mut b) = (theta0.to_vec(), theta0.to_vec());
        let (mut sa, mut sb) = (t.init(&a), t.init(&b));
        let (mut ta, mut tb) = (Vec::new(), Vec::new());
        for (k, g) in grads.iter().enumerate() {
            let mut u = g.clone();
            t.update(&mut u, &mut sa, &StepCtx::new(k as u64, &a))
                .unwrap();
            apply_update(&mut a, &u).unwrap();
            let mut g2 = g.clone();
            update_and_apply(t, &mut b, &mut g2, &mut sb, k as u64).unwrap();
            ta.extend_from_slice(&a);
            tb.extend_from_slice(&b);
        }
        [ta, tb]
    }

    fn bits<F: Real>(xs: &[F]) -> Vec<u64> {
        // f32 → f64 is exact and injective, so comparing the widened bits is bitwise.
        xs.iter().map(|x| x.as_f64().to_bits()).collect()
    }

    fn assert_same<F: Real, A: Transform<F> + 'static, B: Transform<F>>(
        name: &str,
        fused: A,
        plain: B,
    ) {
        let (theta, grads) = data::<F>(37, 6);
        let [f_update, f_apply] = run(&fused, &theta, &grads);
        let [p_update, p_apply] = run(&plain, &theta, &grads);
        assert_eq!(bits(&f_update), bits(&p_update), "{name}: update");
        assert_eq!(bits(&f_apply), bits(&p_update), "{name}: update_and_apply");
        assert_eq!(
            bits(&p_apply),
            bits(&p_update),
            "{name}: unfused update_and_apply"
        );
        let [b_update, b_apply] = run(&BoxedTransform::new(fused), &theta, &grads);
        assert_eq!(bits(&b_update), bits(&p_update), "{name}: boxed update");
        assert_eq!(
            bits(&b_apply),
            bits(&p_update),
            "{name}: boxed update_and_apply"
        );
    }

    fn u<T>(t: T) -> Unfused<T> {
        Unfused(t)
    }

    fn aliases_match_unfused_chains<F: Real>() {
        let lr = |x| ScaleByLearningRate::constant(x).unwrap();
        let wd = |x| AddDecayedWeights::new(x).unwrap();
        for (m, d, nesterov) in [
            (0.0, 0.0, false),
            (0.9, 0.0, false),
            (0.9, 0.1, false),
            (0.9, 0.0, true),
        ] {
            for w in [0.0, 0.01] {
                let cfg = MomentumConfig {
                    momentum: m,
                    dampening: d,
                    nesterov,
                };
                assert_same::<F, _, _>(
                    &format!("sgd {cfg:?} wd={w}"),
                    sgd(0.1, cfg, w).unwrap(),
                    u(wd(w)).then(u(cfg.build().unwrap())).then(u(lr(0.1))),
                );
            }
        }
        for amsgrad in [false, true] {
            let cfg = AdamConfig {
                amsgrad,
                ..AdamConfig::default()
            };
            for w in [0.0, 0.01] {
                assert_same::<F, _, _>(
                    &format!("adam amsgrad={amsgrad} wd={w}"),
                    adam(1e-2, cfg, w).unwrap(),
                    u(wd(w)).then(u(cfg.build().unwrap())).then(u(lr(1e-2))),
                );
                assert_same::<F, _, _>(
                    &format!("adamw amsgrad={amsgrad} wd={w}"),
                    adamw(1e-2, cfg, w).unwrap(),
                    u(cfg.build().unwrap()).then(u(wd(w))).then(u(lr(1e-2))),
                );
            }
        }
        assert_same::<F, _, _>(
            "sign_sgd",
            sign_sgd(0.05).unwrap(),
            u(ScaleBySign).then(u(lr(0.05))),
        );
        assert_same::<F, _, _>(
            "signum",
            signum(0.05, 0.9).unwrap(),
            u(ScaleByEma::new(0.9).unwrap())
                .then(u(ScaleBySign))
                .then(u(lr(0.05))),
        );
        assert_same::<F, _, _>(
            "signum (fused block)",
            signum(0.05, 0.9).unwrap(),
            u(ScaleBySignOfEma::new(0.9).unwrap()).then(u(lr(0.05))),
        );
        for m in [0.0, 0.9] {
            assert_same::<F, _, _>(
                "sign_momentum",
                sign_momentum(0.05, m).unwrap(),
                u(ScaleBySign)
                    .then(u(heavy_ball(m).unwrap()))
                    .then(u(lr(0.05))),
            );
            assert_same::<F, _, _>(
                "normalized_gd",
                normalized_gd(0.05, m).unwrap(),
                u(NormalizeByGlobalNorm)
                    .then(u(heavy_ball(m).unwrap()))
                    .then(u(lr(0.05))),
            );
            assert_same::<F, _, _>(
                "rescaled_sign",
                rescaled_sign(0.05, m).unwrap(),
                u(ScaleBySignTimesL1)
                    .then(u(heavy_ball(m).unwrap()))
                    .then(u(lr(0.05))),
            );
        }
    }

    #[test]
    fn aliases_match_unfused_chains_bitwise_f64() {
        aliases_match_unfused_chains::<f64>();
    }

    #[test]
    fn aliases_match_unfused_chains_bitwise_f32() {
        aliases_match_unfused_chains::<f32>();
    }

    /// Passes per step of an alias's shape, counted at its leaves (each leaf call is one
    /// pass over the buffers; folded blocks are never called).
    fn passes<T: Transform<f64>>(t: &T, counter: &AtomicUsize, apply: bool) -> usize {
        let (mut theta, grads) = data::<f64>(8, 2);
        let mut s = t.init(&theta);
        let before = counter.load(Ordering::Relaxed);
        for (k, g) in grads.iter().enumerate() {
            let mut g = g.clone();
            if apply {
                update_and_apply(t, &mut theta, &mut g, &mut s, k as u64).unwrap();
            } else {
                t.update(&mut g, &mut s, &StepCtx::new(k as u64, &theta))
                    .unwrap();
            }
        }
        (counter.load(Ordering::Relaxed) - before) / grads.len()
    }

    #[test]
    fn each_element_wise_alias_is_one_pass() {
        let n = Arc::new(AtomicUsize::new(0));
        fn c<T>(t: T, n: &Arc<AtomicUsize>) -> Counted<T> {
            Counted(t, n.clone())
        }
        let lr = || ScaleByLearningRate::constant(0.1).unwrap();
        let wd = |x| AddDecayedWeights::new(x).unwrap();
        let mom = |m| heavy_ball(m).unwrap();
        let adam_block = || AdamConfig::default().build().unwrap();
        for apply in [false, true] {
            for w in [0.0, 0.1] {
                // The shapes of `Sgd`, `Adam`, `AdamW` with every leaf counted.
                assert_eq!(
                    passes(
                        &c(wd(w), &n).then(c(mom(0.0), &n)).then(c(lr(), &n)),
                        &n,
                        apply
                    ),
                    1
                );
                assert_eq!(
                    passes(
                        &c(wd(w), &n).then(c(mom(0.9), &n)).then(c(lr(), &n)),
                        &n,
                        apply
                    ),
                    1
                );
                assert_eq!(
                    passes(
                        &c(wd(w), &n).then(c(adam_block(), &n)).then(c(lr(), &n)),
                        &n,
                        apply
                    ),
                    1
                );
                assert_eq!(
                    passes(
                        &c(adam_block(), &n).then(c(wd(w), &n)).then(c(lr(), &n)),
                        &n,
                        apply
                    ),
                    1
                );
            }
            assert_eq!(passes(&c(ScaleBySign, &n).then(c(lr(), &n)), &n, apply), 1);
            let ema = || ScaleBySignOfEma::new(0.9).unwrap();
            assert_eq!(passes(&c(ema(), &n).then(c(lr(), &n)), &n, apply), 1);
            assert_eq!(
                passes(
                    &c(ScaleBySign, &n).then(c(mom(0.9), &n)).then(c(lr(), &n)),
                    &n,
                    apply
                ),
                2
            );
        }
    }
}
