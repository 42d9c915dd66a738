//! Scalar schedules (learning rates, momentum, β): pure functions of the 0-based step.
//!
//! [`Schedule`] is implemented by every closure `Fn(u64) -> f64` and by the serializable
//! [`ScheduleSpec`], which covers the schedules of the papers gdlab reproduces. Build a
//! spec with [`ScheduleSpec::build`] to validate it once.

use serde::{Deserialize, Serialize};

use crate::error::ConfigError;

/// A scalar schedule; a pure function of the number of steps already taken.
pub trait Schedule: Send + Sync {
    /// The value at 0-based step `step`.
    fn value(&self, step: u64) -> f64;
}

impl<T: Fn(u64) -> f64 + Send + Sync> Schedule for T {
    fn value(&self, step: u64) -> f64 {
        self(step)
    }
}

/// A validated, serializable schedule.
///
/// With `t = step` (0-based) and `v₀ = init`:
///
/// | variant | value |
/// |---|---|
/// | `Constant` | `v₀` |
/// | `Exponential` | `v₀ · rate^(t / every)` (floor division when `staircase`) |
/// | `InverseTime` | `v₀ / (1 + decay · t)^power` (power ½: the classical `1/√t` schedule) |
/// | `Cosine` | `final + (v₀ − final)(1 + cos(π · min(t, T)/T))/2` |
/// | `Piecewise` | `v₀` times the product of `scales[i]` for every `boundaries[i] ≤ t` |
/// | `Warmup` | `v₀ · (t+1)/warmup_steps` for `t < warmup_steps`, then `after` shifted by `warmup_steps` |
///
/// # Examples
/// ```
/// use gdlab_core::schedule::{Schedule, ScheduleSpec};
/// let s = ScheduleSpec::InverseTime { init: 1.0, decay: 1.0, power: 0.5 }.build().unwrap();
/// assert_eq!(s.value(3), 0.5);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ScheduleSpec {
    /// A constant value.
    Constant {
        /// The value.
        init: f64,
    },
    /// Exponential decay.
    Exponential {
        /// Value at step 0.
        init: f64,
        /// Multiplicative factor per `every` steps, in (0, ∞).
        rate: f64,
        /// Steps per factor (≥ 1).
        every: u64,
        /// Decay in discrete jumps (floor of `t/every`).
        #[serde(default)]
        staircase: bool,
    },
    /// Inverse-time decay `v₀/(1 + decay·t)^power`.
    InverseTime {
        /// Value at step 0.
        init: f64,
        /// Decay per step, ≥ 0.
        decay: f64,
        /// Power, ≥ 0.
        power: f64,
    },
    /// Cosine decay from `init` to `final_value` over `decay_steps`, constant after.
    Cosine {
        /// Value at step 0.
        init: f64,
        /// Value at and after `decay_steps`.
        final_value: f64,
        /// Length of the decay (≥ 1).
        decay_steps: u64,
    },
    /// Piecewise-constant: multiply by `scales[i]` from step `boundaries[i]` on.
    Piecewise {
        /// Value at step 0.
        init: f64,
        /// Increasing step boundaries.
        boundaries: Vec<u64>,
        /// One scale per boundary.
        scales: Vec<f64>,
    },
    /// Linear warm-up from `init/warmup_steps` to `init`, then `after`.
    Warmup {
        /// Target value at the end of warm-up.
        init: f64,
        /// Number of warm-up steps (≥ 1).
        warmup_steps: u64,
        /// The schedule used after warm-up, evaluated at `t − warmup_steps`.
        after: Box<ScheduleSpec>,
    },
}

/// A [`ScheduleSpec`] that passed validation.
#[derive(Clone, Debug, PartialEq)]
pub struct BuiltSchedule(ScheduleSpec);

impl ScheduleSpec {
    /// A constant schedule.
    #[must_use]
    pub fn constant(value: f64) -> Self {
        ScheduleSpec::Constant { init: value }
    }

    /// Validates every field.
    ///
    /// # Errors
    /// [`ConfigError`] naming the field: non-finite values, `rate ≤ 0`, `every = 0`,
    /// negative `decay`/`power`, `decay_steps = 0`, unsorted or mismatched `boundaries`.
    pub fn build(&self) -> Result<BuiltSchedule, ConfigError> {
        self.validate()?;
        Ok(BuiltSchedule(self.clone()))
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let finite = |field: &'static str, v: f64| -> Result<(), ConfigError> {
            if v.is_finite() {
                Ok(())
            } else {
                Err(ConfigError::OutOfRange {
                    field,
                    value: v,
                    allowed: "finite numbers",
                })
            }
        };
        match self {
            ScheduleSpec::Constant { init } => finite("init", *init),
            ScheduleSpec::Exponential {
                init, rate, every, ..
            } => {
                finite("init", *init)?;
                ConfigError::check_positive("rate", *rate)?;
                if *every == 0 {
                    return Err(ConfigError::OutOfRangeInt {
                        field: "every",
                        value: 0,
                        allowed: "[1, ∞)",
                    });
                }
                Ok(())
            }
            ScheduleSpec::InverseTime { init, decay, power } => {
                finite("init", *init)?;
                ConfigError::check_non_negative("decay", *decay)?;
                ConfigError::check_non_negative("power", *power)?;
                Ok(())
            }
            ScheduleSpec::Cosine {
                init,
                final_value,
                decay_steps,
            } => {
                finite("init", *init)?;
                finite("final_value", *final_value)?;
                if *decay_steps == 0 {
                    return Err(ConfigError::OutOfRangeInt {
                        field: "decay_steps",
                        value: 0,
                        allowed: "[1, ∞)",
                    });
                }
                Ok(())
            }
            ScheduleSpec::Piecewise {
                init,
                boundaries,
                scales,
            } => {
                finite("init", *init)?;
                if boundaries.len() != scales.len() {
                    return Err(ConfigError::Dim {
                        op: "piecewise schedule: scales (one per boundary)",
                        expected: boundaries.len(),
                        got: scales.len(),
                    });
                }
                if boundaries.windows(2).any(|w| w[0] >= w[1]) {
                    return Err(ConfigError::Invalid {
                        field: "boundaries".into(),
                        reason: format!("must be strictly increasing, got {boundaries:?}"),
                    });
                }
                for s in scales {
                    finite("scales", *s)?;
                }
                Ok(())
            }
            ScheduleSpec::Warmup {
                init,
                warmup_steps,
                after,
            } => {
                finite("init", *init)?;
                if *warmup_steps == 0 {
                    return Err(ConfigError::OutOfRangeInt {
                        field: "warmup_steps",
                        value: 0,
                        allowed: "[1, ∞)",
                    });
                }
                after.validate()
            }
        }
    }

    fn eval(&self, t: u64) -> f64 {
        match self {
            ScheduleSpec::Constant { init } => *init,
            ScheduleSpec::Exponential {
                init,
                rate,
                every,
                staircase,
            } => {
                let e = if *staircase {
                    (t / every) as f64
                } else {
                    t as f64 / *every as f64
                };
                init * rate.powf(e)
            }
            ScheduleSpec::InverseTime { init, decay, power } => {
                init / (1.0 + decay * t as f64).powf(*power)
            }
            ScheduleSpec::Cosine {
                init,
                final_value,
                decay_steps,
            } => {
                let frac = t.min(*decay_steps) as f64 / *decay_steps as f64;
                final_value
                    + (init - final_value) * 0.5 * (1.0 + (std::f64::consts::PI * frac).cos())
            }
            ScheduleSpec::Piecewise {
                init,
                boundaries,
                scales,
            } => boundaries
                .iter()
                .zip(scales)
                .filter(|(b, _)| **b <= t)
                .fold(*init, |v, (_, s)| v * s),
            ScheduleSpec::Warmup {
                init,
                warmup_steps,
                after,
            } => {
                if t < *warmup_steps {
                    init * (t + 1) as f64 / *warmup_steps as f64
                } else {
                    after.eval(t - warmup_steps)
                }
            }
        }
    }
}

impl BuiltSchedule {
    /// The validated spec.
    #[must_use]
    pub fn spec(&self) -> &ScheduleSpec {
        &self.0
    }
}

impl Schedule for BuiltSchedule {
    fn value(&self, step: u64) -> f64 {
        self.0.eval(step)
    }
}

/// A constant schedule as a plain value (the common case, no validation needed).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Constant(pub f64);

impl Schedule for Constant {
    fn value(&self, _step: u64) -> f64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assert_close;

    #[test]
    fn closed_forms() {
        let e = ScheduleSpec::Exponential {
            init: 2.0,
            rate: 0.5,
            every: 10,
            staircase: true,
        }
        .build()
        .unwrap();
        assert_close!(e.value(9), 2.0, rel = 0.0);
        assert_close!(e.value(10), 1.0, rel = 0.0);
        let c = ScheduleSpec::Cosine {
            init: 1.0,
            final_value: 0.0,
            decay_steps: 100,
        }
        .build()
        .unwrap();
        assert_close!(c.value(0), 1.0, rel = 1e-15);
        assert_close!(c.value(50), 0.5, rel = 1e-15);
        assert_close!(c.value(1000), 0.0, abs = 1e-15);
        let p = ScheduleSpec::Piecewise {
            init: 1.0,
            boundaries: vec![10, 20],
            scales: vec![0.1, 0.5],
        }
        .build()
        .unwrap();
        assert_close!(p.value(9), 1.0, rel = 0.0);
        assert_close!(p.value(10), 0.1, rel = 1e-15);
        assert_close!(p.value(25), 0.05, rel = 1e-15);
        let w = ScheduleSpec::Warmup {
            init: 1.0,
            warmup_steps: 4,
            after: Box::new(ScheduleSpec::constant(1.0)),
        }
        .build()
        .unwrap();
        assert_close!(w.value(0), 0.25, rel = 0.0);
        assert_close!(w.value(3), 1.0, rel = 0.0);
        assert_close!(w.value(100), 1.0, rel = 0.0);
    }

    #[test]
    fn validation_names_the_field() {
        let err = ScheduleSpec::Exponential {
            init: 1.0,
            rate: -1.0,
            every: 1,
            staircase: false,
        }
        .build()
        .unwrap_err();
        assert!(err.to_string().contains("`rate`"), "{err}");
        let err = ScheduleSpec::Piecewise {
            init: 1.0,
            boundaries: vec![5, 5],
            scales: vec![1.0, 1.0],
        }
        .build()
        .unwrap_err();
        assert!(err.to_string().contains("boundaries"), "{err}");
    }

    #[test]
    fn serde_round_trip() {
        let s = ScheduleSpec::Cosine {
            init: 0.1,
            final_value: 0.0,
            decay_steps: 7,
        };
        let j = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<ScheduleSpec>(&j).unwrap(), s);
    }
}
