//! Optimizers chosen at run time: a serializable [`OptimizerSpec`] and its text form.
//!
//! The text form is `name(key=value,...)`, e.g. `adam(lr=1e-3,beta1=0.9,beta2=0.999,eps=1e-8)`
//! or `sgd(lr=0.1,momentum=0.9)`. Keys are the hyperparameters' full names; `lr` is accepted
//! for `learning_rate` and `wd` for `weight_decay`. Missing keys take PyTorch's defaults,
//! except `learning_rate`, which must be given (PyTorch's SGD has no default either).
//!
//! | name | keys |
//! |---|---|
//! | `sgd` | `learning_rate`, `momentum`, `dampening`, `nesterov`, `weight_decay` |
//! | `adam` | `learning_rate`, `beta1`, `beta2`, `eps`, `weight_decay`, `amsgrad` |
//! | `adamw` | as `adam`; `weight_decay` defaults to 0.01 as in `torch.optim.AdamW` |

use std::collections::BTreeMap;
use std::str::FromStr;

use gdlab_core::transform::BoxedTransform;
use gdlab_core::Real;
use serde::{Deserialize, Serialize};

use crate::alias;
use crate::error::SpecError;
use crate::transform::{AdamConfig, MomentumConfig};

const KNOWN: &str = "sgd, adam, adamw";
const SGD_KEYS: &str = "learning_rate (lr), momentum, dampening, nesterov, weight_decay (wd)";
const ADAM_KEYS: &str = "learning_rate (lr), beta1, beta2, eps, weight_decay (wd), amsgrad";

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
}

fn adamw_default_wd() -> f64 {
    0.01
}

impl OptimizerSpec {
    /// Validates the hyperparameters and builds the optimizer for element type `F`.
    ///
    /// # Errors
    /// [`SpecError::Config`] naming the out-of-range field.
    pub fn build<F: Real>(&self) -> Result<BoxedTransform<F>, SpecError> {
        let name = self.to_string();
        Ok(match self {
            OptimizerSpec::Sgd {
                learning_rate,
                momentum,
                weight_decay,
            } => BoxedTransform::named(alias::sgd(*learning_rate, *momentum, *weight_decay)?, name),
            OptimizerSpec::Adam {
                learning_rate,
                adam,
                weight_decay,
            } => BoxedTransform::named(alias::adam(*learning_rate, *adam, *weight_decay)?, name),
            OptimizerSpec::AdamW {
                learning_rate,
                adam,
                weight_decay,
            } => BoxedTransform::named(alias::adamw(*learning_rate, *adam, *weight_decay)?, name),
        })
    }

    /// Validates without building.
    ///
    /// # Errors
    /// As [`OptimizerSpec::build`].
    pub fn validate(&self) -> Result<(), SpecError> {
        self.build::<f64>().map(|_| ())
    }

    /// The learning rate.
    #[must_use]
    pub fn learning_rate(&self) -> f64 {
        match self {
            OptimizerSpec::Sgd { learning_rate, .. }
            | OptimizerSpec::Adam { learning_rate, .. }
            | OptimizerSpec::AdamW { learning_rate, .. } => *learning_rate,
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

    fn flag(&mut self, key: &str) -> Result<bool, SpecError> {
        match self.map.remove(key).as_deref() {
            None | Some("false") | Some("False") | Some("0") => Ok(false),
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
        ];
        for (text, needle) in cases {
            let e = text.parse::<OptimizerSpec>().unwrap_err().to_string();
            assert!(e.contains(needle), "{text}: {e}");
        }
    }

    #[test]
    fn adamw_default_weight_decay_is_torchs() {
        let s: OptimizerSpec = "adamw(lr=1e-3)".parse().unwrap();
        assert!(
            matches!(s, OptimizerSpec::AdamW { weight_decay, .. } if (weight_decay - 0.01).abs() < 1e-18)
        );
    }
}
