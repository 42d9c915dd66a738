//! Optimizers chosen at run time: a serializable [`OptimizerSpec`] and its text form.
//!
//! The text form is `name(key=value,...)`, e.g. `adam(lr=1e-3,beta1=0.9,beta2=0.999,eps=1e-8)`,
//! `sgd(lr=0.1,momentum=0.9)` or `ssvr(lr=1e-3,beta=0.1)`. Keys are the hyperparameters' full
//! names; `lr` is accepted for `learning_rate` and `wd` for `weight_decay`. Missing keys take
//! the defaults below (PyTorch's for `sgd`/`adam`/`adamw`, the spec's for the sign methods),
//! except `learning_rate`, which must always be given (PyTorch's SGD has no default either).
//! Every value is validated when the text is parsed; errors name the field and its range.
//!
//! Every optimizer ends with `−η`, so the update is **added**: `θ ← θ + u`. Below `g` is the
//! incoming gradient, `sign(0) = 0`, `t` the 0-based step.
//!
//! | name | keys (default) | update rule |
//! |---|---|---|
//! | `sgd` | `learning_rate`, `momentum` (0), `dampening` (0), `nesterov` (false), `weight_decay` (0) | `b ← μb + (1−τ)(g + λθ)` (`b₀ = g₀ + λθ₀`), `θ ← θ − ηb` |
//! | `adam` | `learning_rate`, `beta1` (0.9), `beta2` (0.999), `eps` (1e-8), `weight_decay` (0), `amsgrad` (false) | `θ ← θ − η m̂/(√v̂ + ε)` on `g + λθ` |
//! | `adamw` | as `adam`; `weight_decay` (0.01, as `torch.optim.AdamW`) | `θ ← θ − η(m̂/(√v̂ + ε) + λθ)` |
//! | `sign_sgd` | `learning_rate` | `θ ← θ − η·sign(g)` |
//! | `signum` | `learning_rate`, `momentum` (0.9) | `m ← μm + (1−μ)g` (`m₀ = 0`), `θ ← θ − η·sign(m)` |
//! | `sign_momentum` | `learning_rate`, `momentum` (0.9) | `b ← μb + sign(g)` (`b₀ = sign(g₀)`), `θ ← θ − ηb` |
//! | `normalized_gd` | `learning_rate`, `momentum` (0) | `b ← μb + g/‖g‖₂` (`b₀ = g₀/‖g₀‖₂`, `0/0 = 0`), `θ ← θ − ηb` |
//! | `rescaled_sign` | `learning_rate`, `momentum` (0) | `b ← μb + sign(g)‖g‖₁` (`b₀ = sign(g₀)‖g₀‖₁`), `θ ← θ − ηb` |
//! | `ssvr` | `learning_rate`, `beta` (0.1), `initial_batch` (1), `batch_size` (1) | `v ← g(x_t;ξ_t) + (1−β)(v − g(x_{t−1};ξ_t))` (`v₀ = g(x₀;ξ₀)`), `θ ← θ − η·sign(v)` |
//! | `ssvr_fs` (alias `ssvr_finite_sum`) | `learning_rate`, `beta` (0.1), `period` (0 = one pass), `batch_size` (1), `reset_at_checkpoint` (true) | every `period` steps `μ = ∇f(x̃ = x_t)` (and `v ← μ` with reset); else `v ← (1−β)(v + g − g_prev) + β(g − g_snap + μ)`; `θ ← θ − η·sign(v)` |
//!
//! **β convention** (`ssvr`, `ssvr_fs`): `beta` is the weight of the *fresh* gradient, the
//! theory's convention (spec `sign-methods-ssvr.md` §2.2); a "momentum" in the sense of the
//! old estimate's weight is `1 − beta`. For `signum`/`sign_momentum` the key `momentum` is the
//! weight of the old buffer, as in PyTorch.
//!
//! The variance-reduced optimizers (`ssvr`, `ssvr_fs`) are not plain transforms: their
//! direction comes from a gradient estimator that evaluates one sample at two (or three)
//! points. [`OptimizerSpec::build_with_estimator`] returns that estimator's configuration
//! ([`EstimatorSpec`]) next to the transform applied to its output (sign, then `−η`);
//! [`OptimizerSpec::build`] refuses them with [`SpecError::NeedsEstimator`].

use std::collections::BTreeMap;
use std::str::FromStr;

use gdlab_core::transform::BoxedTransform;
use gdlab_core::Real;
use serde::{Deserialize, Serialize};

use crate::alias;
use crate::error::SpecError;
use crate::estimator::{FiniteSumVrConfig, StormConfig};
use crate::transform::{AdamConfig, MomentumConfig};

const KNOWN: &str = "sgd, adam, adamw, sign_sgd, signum, sign_momentum, normalized_gd, \
                     rescaled_sign, ssvr, ssvr_fs (ssvr_finite_sum)";
const SGD_KEYS: &str = "learning_rate (lr), momentum, dampening, nesterov, weight_decay (wd)";
const ADAM_KEYS: &str = "learning_rate (lr), beta1, beta2, eps, weight_decay (wd), amsgrad";
const LR_KEYS: &str = "learning_rate (lr)";
const MOMENTUM_KEYS: &str = "learning_rate (lr), momentum";
const SSVR_KEYS: &str = "learning_rate (lr), beta, initial_batch, batch_size";
const SSVR_FS_KEYS: &str = "learning_rate (lr), beta, period, batch_size, reset_at_checkpoint";

/// An optimizer and its hyperparameters, as written in configs and on the command line.
///
/// # Examples
/// ```
/// use gdlab_optim::spec::OptimizerSpec;
/// let s: OptimizerSpec = "sgd(lr=0.1,momentum=0.9)".parse().unwrap();
/// assert_eq!(s.to_string(), "sgd(learning_rate=0.1,momentum=0.9,dampening=0,nesterov=false,weight_decay=0)");
/// let t = s.build::<f64>().unwrap();
/// assert!("adam(lr=-1)".parse::<OptimizerSpec>().unwrap_err().to_string().contains("learning_rate"));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "lowercase", deny_unknown_fields)]
pub enum OptimizerSpec {
    /// [`alias::sgd`].
    Sgd {
        /// `η ≥ 0`.
        learning_rate: f64,
        /// Momentum settings.
        #[serde(flatten)]
        momentum: MomentumConfig,
        /// L2 weight decay `λ ≥ 0`.
        #[serde(default)]
        weight_decay: f64,
    },
    /// [`alias::adam`].
    Adam {
        /// `η ≥ 0`.
        learning_rate: f64,
        /// Adam settings.
        #[serde(flatten)]
        adam: AdamConfig,
        /// L2 weight decay `λ ≥ 0`, added to the gradient.
        #[serde(default)]
        weight_decay: f64,
    },
    /// [`alias::adamw`].
    #[serde(rename = "adamw")]
    AdamW {
        /// `η ≥ 0`.
        learning_rate: f64,
        /// Adam settings.
        #[serde(flatten)]
        adam: AdamConfig,
        /// Decoupled weight decay `λ ≥ 0`.
        #[serde(default = "adamw_default_wd")]
        weight_decay: f64,
    },
    /// [`alias::sign_sgd`]: `θ ← θ − η·sign(g)`.
    #[serde(rename = "sign_sgd")]
    SignSgd {
        /// `η ≥ 0`.
        learning_rate: f64,
    },
    /// [`alias::signum`]: `m ← μm + (1−μ)g` from `m₀ = 0`, `θ ← θ − η·sign(m)`.
    Signum {
        /// `η ≥ 0`.
        learning_rate: f64,
        /// EMA weight of the old average `μ ∈ [0, 1)`. Default 0.9.
        #[serde(default = "sign_default_momentum")]
        momentum: f64,
    },
    /// [`alias::sign_momentum`]: heavy ball on signs, `b ← μb + sign(g)` from
    /// `b₀ = sign(g₀)`, `θ ← θ − ηb`.
    #[serde(rename = "sign_momentum")]
    SignMomentum {
        /// `η ≥ 0`.
        learning_rate: f64,
        /// Heavy-ball weight `μ ∈ [0, 1)`. Default 0.9.
        #[serde(default = "sign_default_momentum")]
        momentum: f64,
    },
    /// [`alias::normalized_gd`]: `b ← μb + g/‖g‖₂` from `b₀ = g₀/‖g₀‖₂`, `θ ← θ − ηb`.
    #[serde(rename = "normalized_gd")]
    NormalizedGd {
        /// `η ≥ 0`.
        learning_rate: f64,
        /// Heavy-ball weight `μ ∈ [0, 1)`. Default 0.
        #[serde(default)]
        momentum: f64,
    },
    /// [`alias::rescaled_sign`]: `b ← μb + sign(g)‖g‖₁` from `b₀ = sign(g₀)‖g₀‖₁`,
    /// `θ ← θ − ηb`.
    #[serde(rename = "rescaled_sign")]
    RescaledSign {
        /// `η ≥ 0`.
        learning_rate: f64,
        /// Heavy-ball weight `μ ∈ [0, 1)`. Default 0.
        #[serde(default)]
        momentum: f64,
    },
    /// [`alias::ssvr`]: the STORM estimator
    /// `v_t = ∇f(x_t;ξ_t) + (1−β)(v_{t−1} − ∇f(x_{t−1};ξ_t))` (same `ξ_t` at both points,
    /// `v₀` the mean of `B₀` sample gradients at `x₀`), then `θ ← θ − η·sign(v_t)`.
    /// Variance-reduced: build with [`OptimizerSpec::build_with_estimator`].
    Ssvr {
        /// `η ≥ 0`.
        learning_rate: f64,
        /// `β ∈ (0, 1]` (fresh-gradient weight; momentum = `1 − β`), `B₀`, `B`.
        #[serde(flatten)]
        estimator: StormConfig,
    },
    /// [`alias::ssvr_finite_sum`]: the [`FiniteSumVr`](crate::estimator::FiniteSumVr)
    /// estimator (a full gradient every `period` steps, the SARAH/SVRG blend in between),
    /// then `θ ← θ − η·sign(v_t)`. Text name `ssvr_fs`, alias `ssvr_finite_sum`.
    /// Variance-reduced: build with [`OptimizerSpec::build_with_estimator`].
    #[serde(rename = "ssvr_fs", alias = "ssvr_finite_sum")]
    SsvrFiniteSum {
        /// `η ≥ 0`.
        learning_rate: f64,
        /// `β ∈ [0, 1]` (0 = SARAH, 1 = SVRG), `period`, `B`, `reset_at_checkpoint`.
        #[serde(flatten)]
        estimator: FiniteSumVrConfig,
    },
}

fn adamw_default_wd() -> f64 {
    0.01
}

/// Default `momentum` of `signum` and `sign_momentum`.
fn sign_default_momentum() -> f64 {
    0.9
}

/// The gradient estimator of a variance-reduced [`OptimizerSpec`] (`ssvr`, `ssvr_fs`).
///
/// Build it with the config's `build()` ([`StormConfig::build`],
/// [`FiniteSumVrConfig::build`]) and run it with
/// [`run_estimator`](crate::estimator::run_estimator); the transform returned next to it
/// by [`OptimizerSpec::build_with_estimator`] is applied to its output `v_t`.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum EstimatorSpec {
    /// SSVR's STORM estimator (spec §2.2), needs a
    /// [`StochasticOracle`](gdlab_core::objective::StochasticOracle).
    Storm(StormConfig),
    /// SSVR-FS's finite-sum estimator (spec §2.3), needs a
    /// [`FiniteSum`](gdlab_core::objective::FiniteSum).
    FiniteSumVr(FiniteSumVrConfig),
}

impl OptimizerSpec {
    /// Validates the hyperparameters and builds the optimizer for element type `F`, as one
    /// transform applied to the gradient.
    ///
    /// # Errors
    /// [`SpecError::Config`] naming the out-of-range field;
    /// [`SpecError::NeedsEstimator`] for `ssvr` and `ssvr_fs`, whose direction is not a
    /// function of one gradient (use [`OptimizerSpec::build_with_estimator`]).
    pub fn build<F: Real>(&self) -> Result<BoxedTransform<F>, SpecError> {
        match self.build_with_estimator::<F>()? {
            (None, t) => Ok(t),
            (Some(_), _) => Err(SpecError::NeedsEstimator {
                optimizer: self.name(),
                rows: crate::replay::row_layout(self).len(),
            }),
        }
    }

    /// Validates and builds any optimizer: its gradient estimator (`None` for the
    /// transform-only optimizers, which use the plain gradient) and the transform applied to
    /// the estimator's output (or to the gradient).
    ///
    /// For `ssvr`/`ssvr_fs` the transform is `sign → −η` ([`alias::sign_sgd`]) and the
    /// estimator's configuration has been validated (its `build()` succeeds).
    ///
    /// # Errors
    /// [`SpecError::Config`] naming the out-of-range field.
    ///
    /// # Examples
    /// ```
    /// use gdlab_core::objective::{DiagonalQuadraticSum, MinibatchOracle, Objective};
    /// use gdlab_core::{runner::Runner, Seed};
    /// use gdlab_optim::estimator::run_estimator;
    /// use gdlab_optim::spec::{EstimatorSpec, OptimizerSpec};
    ///
    /// let spec: OptimizerSpec = "ssvr(lr=1e-2,beta=0.5)".parse().unwrap();
    /// let (est, sign_then_lr) = spec.build_with_estimator::<f64>().unwrap();
    /// let Some(EstimatorSpec::Storm(cfg)) = est else { unreachable!() };
    /// let f = DiagonalQuadraticSum {
    ///     curvatures: vec![vec![1.0, 2.0], vec![1.0, 2.0]],
    ///     centres: vec![vec![1.0, -1.0], vec![-1.0, 1.0]],
    /// };
    /// let mut x = vec![3.0, 3.0];
    /// run_estimator(&Runner::new(1000), &cfg.build().unwrap(), &MinibatchOracle(&f),
    ///               &sign_then_lr, &mut x, Seed(1), &mut []).unwrap();
    /// assert!(x.iter().all(|v| v.abs() < 0.3)); // the minimiser is 0
    /// assert!(spec.build::<f64>().is_err()); // not a plain transform
    /// ```
    pub fn build_with_estimator<F: Real>(
        &self,
    ) -> Result<(Option<EstimatorSpec>, BoxedTransform<F>), SpecError> {
        let name = self.to_string();
        Ok(match self {
            OptimizerSpec::Sgd {
                learning_rate,
                momentum,
                weight_decay,
            } => (
                None,
                BoxedTransform::named(alias::sgd(*learning_rate, *momentum, *weight_decay)?, name),
            ),
            OptimizerSpec::Adam {
                learning_rate,
                adam,
                weight_decay,
            } => (
                None,
                BoxedTransform::named(alias::adam(*learning_rate, *adam, *weight_decay)?, name),
            ),
            OptimizerSpec::AdamW {
                learning_rate,
                adam,
                weight_decay,
            } => (
                None,
                BoxedTransform::named(alias::adamw(*learning_rate, *adam, *weight_decay)?, name),
            ),
            OptimizerSpec::SignSgd { learning_rate } => (
                None,
                BoxedTransform::named(alias::sign_sgd(*learning_rate)?, name),
            ),
            OptimizerSpec::Signum {
                learning_rate,
                momentum,
            } => (
                None,
                BoxedTransform::named(alias::signum(*learning_rate, *momentum)?, name),
            ),
            OptimizerSpec::SignMomentum {
                learning_rate,
                momentum,
            } => (
                None,
                BoxedTransform::named(alias::sign_momentum(*learning_rate, *momentum)?, name),
            ),
            OptimizerSpec::NormalizedGd {
                learning_rate,
                momentum,
            } => (
                None,
                BoxedTransform::named(alias::normalized_gd(*learning_rate, *momentum)?, name),
            ),
            OptimizerSpec::RescaledSign {
                learning_rate,
                momentum,
            } => (
                None,
                BoxedTransform::named(alias::rescaled_sign(*learning_rate, *momentum)?, name),
            ),
            OptimizerSpec::Ssvr {
                learning_rate,
                estimator,
            } => {
                let (_, sign) = alias::ssvr(*learning_rate, *estimator)?;
                (
                    Some(EstimatorSpec::Storm(*estimator)),
                    BoxedTransform::named(sign, name),
                )
            }
            OptimizerSpec::SsvrFiniteSum {
                learning_rate,
                estimator,
            } => {
                let (_, sign) = alias::ssvr_finite_sum(*learning_rate, *estimator)?;
                (
                    Some(EstimatorSpec::FiniteSumVr(*estimator)),
                    BoxedTransform::named(sign, name),
                )
            }
        })
    }

    /// The gradient estimator's configuration for `ssvr`/`ssvr_fs`, `None` for the
    /// transform-only optimizers. Not validated; see
    /// [`OptimizerSpec::build_with_estimator`].
    #[must_use]
    pub fn estimator(&self) -> Option<EstimatorSpec> {
        match self {
            OptimizerSpec::Ssvr { estimator, .. } => Some(EstimatorSpec::Storm(*estimator)),
            OptimizerSpec::SsvrFiniteSum { estimator, .. } => {
                Some(EstimatorSpec::FiniteSumVr(*estimator))
            }
            _ => None,
        }
    }

    /// Validates without building.
    ///
    /// # Errors
    /// As [`OptimizerSpec::build_with_estimator`].
    pub fn validate(&self) -> Result<(), SpecError> {
        self.build_with_estimator::<f64>().map(|_| ())
    }

    /// The name in the text form (`ssvr_fs` for [`OptimizerSpec::SsvrFiniteSum`]).
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            OptimizerSpec::Sgd { .. } => "sgd",
            OptimizerSpec::Adam { .. } => "adam",
            OptimizerSpec::AdamW { .. } => "adamw",
            OptimizerSpec::SignSgd { .. } => "sign_sgd",
            OptimizerSpec::Signum { .. } => "signum",
            OptimizerSpec::SignMomentum { .. } => "sign_momentum",
            OptimizerSpec::NormalizedGd { .. } => "normalized_gd",
            OptimizerSpec::RescaledSign { .. } => "rescaled_sign",
            OptimizerSpec::Ssvr { .. } => "ssvr",
            OptimizerSpec::SsvrFiniteSum { .. } => "ssvr_fs",
        }
    }

    /// The learning rate.
    #[must_use]
    pub fn learning_rate(&self) -> f64 {
        match self {
            OptimizerSpec::Sgd { learning_rate, .. }
            | OptimizerSpec::Adam { learning_rate, .. }
            | OptimizerSpec::AdamW { learning_rate, .. }
            | OptimizerSpec::SignSgd { learning_rate }
            | OptimizerSpec::Signum { learning_rate, .. }
            | OptimizerSpec::SignMomentum { learning_rate, .. }
            | OptimizerSpec::NormalizedGd { learning_rate, .. }
            | OptimizerSpec::RescaledSign { learning_rate, .. }
            | OptimizerSpec::Ssvr { learning_rate, .. }
            | OptimizerSpec::SsvrFiniteSum { learning_rate, .. } => *learning_rate,
        }
    }
}

impl std::fmt::Display for OptimizerSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OptimizerSpec::Sgd {
                learning_rate,
                momentum: m,
                weight_decay,
            } => write!(
                f,
                "sgd(learning_rate={learning_rate},momentum={},dampening={},nesterov={},weight_decay={weight_decay})",
                m.momentum, m.dampening, m.nesterov
            ),
            OptimizerSpec::Adam {
                learning_rate,
                adam: a,
                weight_decay,
            }
            | OptimizerSpec::AdamW {
                learning_rate,
                adam: a,
                weight_decay,
            } => write!(
                f,
                "{}(learning_rate={learning_rate},beta1={},beta2={},eps={},weight_decay={weight_decay},amsgrad={})",
                if matches!(self, OptimizerSpec::Adam { .. }) { "adam" } else { "adamw" },
                a.beta1, a.beta2, a.eps, a.amsgrad
            ),
            OptimizerSpec::SignSgd { learning_rate } => {
                write!(f, "sign_sgd(learning_rate={learning_rate})")
            }
            OptimizerSpec::Signum {
                learning_rate,
                momentum,
            }
            | OptimizerSpec::SignMomentum {
                learning_rate,
                momentum,
            }
            | OptimizerSpec::NormalizedGd {
                learning_rate,
                momentum,
            }
            | OptimizerSpec::RescaledSign {
                learning_rate,
                momentum,
            } => write!(
                f,
                "{}(learning_rate={learning_rate},momentum={momentum})",
                self.name()
            ),
            OptimizerSpec::Ssvr {
                learning_rate,
                estimator: e,
            } => write!(
                f,
                "ssvr(learning_rate={learning_rate},beta={},initial_batch={},batch_size={})",
                e.beta, e.initial_batch, e.batch_size
            ),
            OptimizerSpec::SsvrFiniteSum {
                learning_rate,
                estimator: e,
            } => write!(
                f,
                "ssvr_fs(learning_rate={learning_rate},beta={},period={},batch_size={},reset_at_checkpoint={})",
                e.beta, e.period, e.batch_size, e.reset_at_checkpoint
            ),
        }
    }
}

/// Splits `name(k=v,...)` into the name and a key → value map.
fn split(spec: &str) -> Result<(String, BTreeMap<String, String>), SpecError> {
    let syntax = |reason: &str| SpecError::Syntax {
        spec: spec.to_string(),
        reason: reason.to_string(),
    };
    let s = spec.trim();
    let (name, rest) = match s.find('(') {
        Some(i) => (&s[..i], &s[i + 1..]),
        None => (s, ")"),
    };
    let name = name.trim().to_ascii_lowercase();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(syntax("the optimizer name must be a word before `(`"));
    }
    let body = rest
        .strip_suffix(')')
        .ok_or_else(|| syntax("missing closing `)`"))?;
    if body.contains('(') || body.contains(')') {
        return Err(syntax("nested or unbalanced parentheses"));
    }
    let mut map = BTreeMap::new();
    for part in body.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, v) = part
            .split_once('=')
            .ok_or_else(|| syntax(&format!("`{part}` is not of the form key=value")))?;
        let k = match k.trim().to_ascii_lowercase().as_str() {
            "lr" => "learning_rate".to_string(),
            "wd" => "weight_decay".to_string(),
            other => other.to_string(),
        };
        if map.insert(k.clone(), v.trim().to_string()).is_some() {
            return Err(SpecError::DuplicateKey {
                key: k,
                spec: spec.to_string(),
            });
        }
    }
    Ok((name, map))
}

struct Fields {
    optimizer: &'static str,
    allowed: &'static str,
    map: BTreeMap<String, String>,
}

impl Fields {
    fn num(&mut self, key: &str, default: Option<f64>) -> Result<f64, SpecError> {
        match self.map.remove(key) {
            Some(v) => v.parse::<f64>().map_err(|_| SpecError::BadValue {
                key: key.to_string(),
                value: v,
                expected: "a number",
            }),
            None => default.ok_or_else(|| SpecError::Syntax {
                spec: self.optimizer.to_string(),
                reason: format!("`{key}` is required"),
            }),
        }
    }

    fn int(&mut self, key: &str, default: usize) -> Result<usize, SpecError> {
        match self.map.remove(key) {
            Some(v) => v.parse::<usize>().map_err(|_| SpecError::BadValue {
                key: key.to_string(),
                value: v,
                expected: "a non-negative integer",
            }),
            None => Ok(default),
        }
    }

    fn flag(&mut self, key: &str) -> Result<bool, SpecError> {
        self.flag_or(key, false)
    }

    fn flag_or(&mut self, key: &str, default: bool) -> Result<bool, SpecError> {
        match self.map.remove(key).as_deref() {
            None => Ok(default),
            Some("false") | Some("False") | Some("0") => Ok(false),
            Some("true") | Some("True") | Some("1") => Ok(true),
            Some(v) => Err(SpecError::BadValue {
                key: key.to_string(),
                value: v.to_string(),
                expected: "true or false",
            }),
        }
    }

    fn finish(self) -> Result<(), SpecError> {
        match self.map.into_keys().next() {
            None => Ok(()),
            Some(key) => Err(SpecError::UnknownKey {
                optimizer: self.optimizer,
                key,
                allowed: self.allowed,
            }),
        }
    }
}

impl FromStr for OptimizerSpec {
    type Err = SpecError;

    /// Parses the text form and validates every value.
    fn from_str(s: &str) -> Result<Self, SpecError> {
        let (name, map) = split(s)?;
        let spec = match name.as_str() {
            "sgd" => {
                let mut f = Fields {
                    optimizer: "sgd",
                    allowed: SGD_KEYS,
                    map,
                };
                let spec = OptimizerSpec::Sgd {
                    learning_rate: f.num("learning_rate", None)?,
                    momentum: MomentumConfig {
                        momentum: f.num("momentum", Some(0.0))?,
                        dampening: f.num("dampening", Some(0.0))?,
                        nesterov: f.flag("nesterov")?,
                    },
                    weight_decay: f.num("weight_decay", Some(0.0))?,
                };
                f.finish()?;
                spec
            }
            "adam" | "adamw" => {
                let is_w = name == "adamw";
                let mut f = Fields {
                    optimizer: if is_w { "adamw" } else { "adam" },
                    allowed: ADAM_KEYS,
                    map,
                };
                let d = AdamConfig::default();
                let learning_rate = f.num("learning_rate", None)?;
                let adam = AdamConfig {
                    beta1: f.num("beta1", Some(d.beta1))?,
                    beta2: f.num("beta2", Some(d.beta2))?,
                    eps: f.num("eps", Some(d.eps))?,
                    amsgrad: f.flag("amsgrad")?,
                };
                let weight_decay = f.num(
                    "weight_decay",
                    Some(if is_w { adamw_default_wd() } else { 0.0 }),
                )?;
                f.finish()?;
                if is_w {
                    OptimizerSpec::AdamW {
                        learning_rate,
                        adam,
                        weight_decay,
                    }
                } else {
                    OptimizerSpec::Adam {
                        learning_rate,
                        adam,
                        weight_decay,
                    }
                }
            }
            "sign_sgd" => {
                let mut f = Fields {
                    optimizer: "sign_sgd",
                    allowed: LR_KEYS,
                    map,
                };
                let spec = OptimizerSpec::SignSgd {
                    learning_rate: f.num("learning_rate", None)?,
                };
                f.finish()?;
                spec
            }
            "signum" | "sign_momentum" | "normalized_gd" | "rescaled_sign" => {
                let (optimizer, default): (&'static str, f64) = match name.as_str() {
                    "signum" => ("signum", sign_default_momentum()),
                    "sign_momentum" => ("sign_momentum", sign_default_momentum()),
                    "normalized_gd" => ("normalized_gd", 0.0),
                    _ => ("rescaled_sign", 0.0),
                };
                let mut f = Fields {
                    optimizer,
                    allowed: MOMENTUM_KEYS,
                    map,
                };
                let learning_rate = f.num("learning_rate", None)?;
                let momentum = f.num("momentum", Some(default))?;
                f.finish()?;
                match optimizer {
                    "signum" => OptimizerSpec::Signum {
                        learning_rate,
                        momentum,
                    },
                    "sign_momentum" => OptimizerSpec::SignMomentum {
                        learning_rate,
                        momentum,
                    },
                    "normalized_gd" => OptimizerSpec::NormalizedGd {
                        learning_rate,
                        momentum,
                    },
                    _ => OptimizerSpec::RescaledSign {
                        learning_rate,
                        momentum,
                    },
                }
            }
            "ssvr" => {
                let mut f = Fields {
                    optimizer: "ssvr",
                    allowed: SSVR_KEYS,
                    map,
                };
                let d = StormConfig::default();
                let spec = OptimizerSpec::Ssvr {
                    learning_rate: f.num("learning_rate", None)?,
                    estimator: StormConfig {
                        beta: f.num("beta", Some(d.beta))?,
                        initial_batch: f.int("initial_batch", d.initial_batch)?,
                        batch_size: f.int("batch_size", d.batch_size)?,
                    },
                };
                f.finish()?;
                spec
            }
            "ssvr_fs" | "ssvr_finite_sum" => {
                let mut f = Fields {
                    optimizer: "ssvr_fs",
                    allowed: SSVR_FS_KEYS,
                    map,
                };
                let d = FiniteSumVrConfig::default();
                let spec = OptimizerSpec::SsvrFiniteSum {
                    learning_rate: f.num("learning_rate", None)?,
                    estimator: FiniteSumVrConfig {
                        beta: f.num("beta", Some(d.beta))?,
                        period: f.int("period", d.period)?,
                        batch_size: f.int("batch_size", d.batch_size)?,
                        reset_at_checkpoint: f
                            .flag_or("reset_at_checkpoint", d.reset_at_checkpoint)?,
                    },
                };
                f.finish()?;
                spec
            }
            _ => return Err(SpecError::UnknownOptimizer { name, known: KNOWN }),
        };
        spec.validate()?;
        Ok(spec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_display_round_trip() {
        for text in [
            "sgd(lr=0.1)",
            "sgd(learning_rate=0.1,momentum=0.9,nesterov=true)",
            "adam(lr=1e-3,beta1=0.9,beta2=0.999,eps=1e-8)",
            "adamw(lr=0.05,wd=0.1,amsgrad=true)",
            " Adam ( lr = 0.5 ) ",
            "sign_sgd(lr=1e-3)",
            "signum(lr=0.01)",
            "signum(lr=0.01,momentum=0)",
            "sign_momentum(lr=0.01,momentum=0.5)",
            "normalized_gd(lr=0.1)",
            "rescaled_sign(lr=0.1,momentum=0.9)",
            "ssvr(lr=1e-3,beta=0.1)",
            "ssvr(lr=1e-3,beta=1,initial_batch=18,batch_size=4)",
            "ssvr_fs(lr=1e-3)",
            "ssvr_fs(lr=1e-3,beta=0,period=2000,batch_size=2,reset_at_checkpoint=false)",
            "ssvr_finite_sum(lr=0.5,beta=1)",
        ] {
            let s: OptimizerSpec = text.parse().unwrap();
            let again: OptimizerSpec = s.to_string().parse().unwrap();
            assert_eq!(s, again, "{text}");
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(serde_json::from_str::<OptimizerSpec>(&json).unwrap(), s);
        }
    }

    #[test]
    fn errors_name_the_problem() {
        let cases = [
            ("adam(lr=1e-3", "closing"),
            ("adam(lr)", "key=value"),
            ("rmsprop(lr=1)", "unknown optimizer `rmsprop`"),
            ("sgd(lr=0.1,mom=0.9)", "no parameter `mom`"),
            ("sgd(lr=abc)", "must be a number"),
            ("sgd(momentum=0.9)", "`learning_rate` is required"),
            (
                "sgd(lr=-0.1)",
                "`learning_rate` must be in [0, ∞), got -0.1",
            ),
            ("adam(lr=1,beta1=1.0)", "`beta1` must be in [0, 1)"),
            ("adam(lr=1,eps=0)", "`eps` must be in (0, ∞)"),
            ("sgd(lr=1,lr=2)", "twice"),
            ("sgd(lr=1,nesterov=true)", "nesterov"),
            ("sgd(lr=nan)", "learning_rate"),
            ("", "name"),
            ("ssvr(lr=1e-3,beta=0)", "`beta` must be in (0, 1], got 0"),
            (
                "ssvr(lr=1e-3,beta=1.5)",
                "`beta` must be in (0, 1], got 1.5",
            ),
            (
                "ssvr(lr=1e-3,batch_size=0)",
                "`batch_size` must be in [1, ∞), got 0",
            ),
            (
                "ssvr(lr=1e-3,initial_batch=0)",
                "`initial_batch` must be in [1, ∞)",
            ),
            (
                "ssvr(lr=1e-3,batch_size=1.5)",
                "must be a non-negative integer",
            ),
            ("ssvr(lr=1e-3,period=3)", "`ssvr` has no parameter `period`"),
            ("ssvr(beta=0.1)", "`learning_rate` is required"),
            (
                "ssvr_fs(lr=1e-3,beta=-0.1)",
                "`beta` must be in [0, 1], got -0.1",
            ),
            (
                "ssvr_fs(lr=1e-3,beta=1.01)",
                "`beta` must be in [0, 1], got 1.01",
            ),
            (
                "ssvr_fs(lr=1e-3,period=-1)",
                "`period` must be a non-negative integer",
            ),
            (
                "ssvr_fs(lr=1e-3,reset_at_checkpoint=maybe)",
                "true or false",
            ),
            (
                "ssvr_finite_sum(lr=-1)",
                "`learning_rate` must be in [0, ∞), got -1",
            ),
            ("signum(lr=-1)", "`learning_rate` must be in [0, ∞), got -1"),
            (
                "signum(lr=0.1,momentum=1)",
                "`momentum` must be in [0, 1), got 1",
            ),
            (
                "sign_momentum(lr=0.1,beta=0.9)",
                "`sign_momentum` has no parameter `beta`",
            ),
            (
                "sign_sgd(lr=0.1,momentum=0.9)",
                "`sign_sgd` has no parameter `momentum`",
            ),
            (
                "normalized_gd(lr=0.1,momentum=-0.5)",
                "`momentum` must be in [0, 1)",
            ),
            ("rescaled_sign()", "`learning_rate` is required"),
            ("signsgd(lr=1)", "known: sgd, adam, adamw, sign_sgd"),
        ];
        for (text, needle) in cases {
            let e = text.parse::<OptimizerSpec>().unwrap_err().to_string();
            assert!(e.contains(needle), "{text}: {e}");
        }
    }

    #[test]
    fn sign_and_vr_defaults_are_the_specs() {
        let s: OptimizerSpec = "signum(lr=0.1)".parse().unwrap();
        assert_eq!(s.to_string(), "signum(learning_rate=0.1,momentum=0.9)");
        let s: OptimizerSpec = "sign_momentum(lr=0.1)".parse().unwrap();
        assert_eq!(
            s.to_string(),
            "sign_momentum(learning_rate=0.1,momentum=0.9)"
        );
        let s: OptimizerSpec = "normalized_gd(lr=0.1)".parse().unwrap();
        assert_eq!(s.to_string(), "normalized_gd(learning_rate=0.1,momentum=0)");
        let s: OptimizerSpec = "rescaled_sign(lr=0.1)".parse().unwrap();
        assert_eq!(s.to_string(), "rescaled_sign(learning_rate=0.1,momentum=0)");
        let s: OptimizerSpec = "ssvr(lr=0.001)".parse().unwrap();
        assert_eq!(
            s.to_string(),
            "ssvr(learning_rate=0.001,beta=0.1,initial_batch=1,batch_size=1)"
        );
        assert_eq!(
            s.estimator(),
            Some(EstimatorSpec::Storm(StormConfig::default()))
        );
        let s: OptimizerSpec = "ssvr_finite_sum(lr=0.001)".parse().unwrap();
        assert_eq!(
            s.to_string(),
            "ssvr_fs(learning_rate=0.001,beta=0.1,period=0,batch_size=1,reset_at_checkpoint=true)"
        );
        assert_eq!(
            s.estimator(),
            Some(EstimatorSpec::FiniteSumVr(FiniteSumVrConfig::default()))
        );
        assert_eq!(s.name(), "ssvr_fs");
        assert!(OptimizerSpec::SignSgd { learning_rate: 1.0 }
            .estimator()
            .is_none());
    }

    #[test]
    fn json_form_of_the_new_optimizers() {
        let s: OptimizerSpec = serde_json::from_str(
            r#"{"name":"ssvr_finite_sum","learning_rate":0.01,"beta":0,"period":4}"#,
        )
        .unwrap();
        assert_eq!(
            s,
            "ssvr_fs(lr=0.01,beta=0,period=4)"
                .parse::<OptimizerSpec>()
                .unwrap()
        );
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            r#"{"name":"ssvr_fs","learning_rate":0.01,"beta":0.0,"period":4,"batch_size":1,"reset_at_checkpoint":true}"#
        );
        let s: OptimizerSpec =
            serde_json::from_str(r#"{"name":"signum","learning_rate":0.01}"#).unwrap();
        assert_eq!(s.to_string(), "signum(learning_rate=0.01,momentum=0.9)");
        for bad in [
            r#"{"name":"ssvr","learning_rate":0.01,"bogus":1}"#,
            r#"{"name":"sign_sgd","learning_rate":0.01,"momentum":0.9}"#,
            r#"{"name":"signsgd","learning_rate":0.01}"#,
        ] {
            assert!(serde_json::from_str::<OptimizerSpec>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    #[allow(clippy::float_cmp)] // sign(u)·(−η) is exact: compared bitwise on purpose
    fn variance_reduced_specs_need_their_estimator() {
        let s: OptimizerSpec = "ssvr(lr=1e-3,beta=0.1)".parse().unwrap();
        let e = s.build::<f32>().unwrap_err();
        assert!(matches!(
            e,
            SpecError::NeedsEstimator {
                optimizer: "ssvr",
                rows: 2
            }
        ));
        assert!(e.to_string().contains("build_with_estimator"), "{e}");
        let s: OptimizerSpec = "ssvr_fs(lr=1e-3)".parse().unwrap();
        assert!(matches!(
            s.build::<f64>().unwrap_err(),
            SpecError::NeedsEstimator {
                optimizer: "ssvr_fs",
                rows: 4
            }
        ));
        // The transform part is sign → −η.
        let (est, t) = s.build_with_estimator::<f64>().unwrap();
        assert!(matches!(est, Some(EstimatorSpec::FiniteSumVr(_))));
        let mut st = gdlab_core::Transform::init(&t, &[0.0; 3]);
        let mut u = [2.0, 0.0, -1e-30];
        gdlab_core::Transform::update(
            &t,
            &mut u,
            &mut st,
            &gdlab_core::transform::StepCtx::new(0, &[0.0; 3]),
        )
        .unwrap();
        assert!(u == [-1e-3, 0.0, 1e-3]);
        // Invalid struct literals are caught by validate().
        let bad = OptimizerSpec::Ssvr {
            learning_rate: 0.1,
            estimator: StormConfig {
                beta: 0.0,
                ..StormConfig::default()
            },
        };
        assert!(bad.validate().unwrap_err().to_string().contains("beta"));
    }

    #[test]
    fn adamw_default_weight_decay_is_torchs() {
        let s: OptimizerSpec = "adamw(lr=1e-3)".parse().unwrap();
        assert!(
            matches!(s, OptimizerSpec::AdamW { weight_decay, .. } if (weight_decay - 0.01).abs() < 1e-18)
        );
    }
}
