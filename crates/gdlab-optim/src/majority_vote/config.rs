//! [`MajorityVoteConfig`] (unchecked, serde) and [`MajorityVote`] (validated).

use gdlab_core::ConfigError;
use serde::{Deserialize, Serialize};

/// Which server rule SSVR-MV uses (spec `sign-methods-ssvr.md` §2.4).
///
/// | option | worker sends | server broadcasts | provenance |
/// |---|---|---|---|
/// | [`One`](SsvrMvOption::One) | `S_R(clip_R(v_j))` | `sign(Σ_j q_j)` | verified (follow-up paper, eqs. (10)–(12); the SSVR paper's Theorem 3) |
/// | [`Two`](SsvrMvOption::Two) | `S_R(Π_R(v_j))`, `Π_R` = projection on the ℓ2 ball | `S_1((1/n) Σ_j q_j)` | **\[inferred\]**: only the shape (ℓ2 projection, randomized server sign) is verified; the concrete form is the spec's inference |
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SsvrMvOption {
    /// Deterministic majority of the workers' stochastic signs (ℓ1 guarantee
    /// `O(d^{1/2} T^{-1/2} + d n^{-1/2})`, with a genuine `d n^{-1/2}` floor).
    One,
    /// ℓ2 projection before the worker's stochastic sign and a randomized server sign
    /// (ℓ2 guarantee `O(d^{1/4} T^{-1/4})` per the abstract; concrete form \[inferred\]).
    Two,
}

/// The distributed method: what each worker estimates and sends, and how the server votes.
///
/// Serialized with a `kind` tag: `{"kind": "sign_sgd_mv"}` or
/// `{"kind": "ssvr_mv", "option": "one", "beta": 0.5, "radius": 4.0}`. Deserializing is
/// strict: unknown keys, and SSVR-MV keys given to `sign_sgd_mv`, are errors; missing
/// SSVR-MV keys take Theorem 3's values (`option = "one"`, `beta = 0.5`, `radius = 4.0`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", try_from = "MethodRepr")]
pub enum MajorityVoteMethod {
    /// signSGD with majority vote (Bernstein et al. 2018/2019): worker `j` sends
    /// `sign(∇f_j(x_t; ξ_t^j))`, the server broadcasts `sign(Σ_j q_j)`.
    SignSgdMv,
    /// SSVR-MV: worker `j` keeps the STORM/SSVR estimator
    /// `v_t^j = ∇f_j(x_t; ξ_t^j) + (1 − β)(v_{t−1}^j − ∇f_j(x_{t−1}; ξ_t^j))`
    /// (same sample at both points, `v_1^j = ∇f_j(x_1; ξ_1^j)`) and sends a stochastic sign
    /// with radius `R`; the server rule is selected by `option`.
    SsvrMv {
        /// Option 1 (deterministic majority) or Option 2 (randomized server sign).
        option: SsvrMvOption,
        /// `β ∈ (0, 1]`, the weight of the **fresh** gradient (momentum = `1 − β`).
        /// Theorem 3 (Option 1) uses `β = 1/2`.
        beta: f64,
        /// `R > 0`, the radius of the stochastic sign `S_R`. Theorem 3 uses `R = 4G` with
        /// `‖∇f_j(x; ξ)‖_∞ ≤ G`; for Option 2 it is also the ℓ2 projection radius
        /// (\[inferred\]: the paper's radius was not retrieved).
        radius: f64,
    },
}

/// The flat form `MajorityVoteMethod` is read from (serde's internally tagged unit variants
/// would silently ignore unknown keys).
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
struct MethodRepr {
    kind: MethodKind,
    option: Option<SsvrMvOption>,
    beta: Option<f64>,
    radius: Option<f64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum MethodKind {
    SignSgdMv,
    SsvrMv,
}

impl TryFrom<MethodRepr> for MajorityVoteMethod {
    type Error = String;

    fn try_from(r: MethodRepr) -> Result<Self, String> {
        match r.kind {
            MethodKind::SignSgdMv => {
                let given: Vec<&str> = [
                    ("option", r.option.is_some()),
                    ("beta", r.beta.is_some()),
                    ("radius", r.radius.is_some()),
                ]
                .iter()
                .filter(|(_, g)| *g)
                .map(|(k, _)| *k)
                .collect();
                if given.is_empty() {
                    Ok(MajorityVoteMethod::SignSgdMv)
                } else {
                    Err(format!(
                        "`sign_sgd_mv` takes no parameters, got `{}` (an SSVR-MV parameter)",
                        given.join("`, `")
                    ))
                }
            }
            MethodKind::SsvrMv => Ok(MajorityVoteMethod::SsvrMv {
                option: r.option.unwrap_or(SsvrMvOption::One),
                beta: r.beta.unwrap_or(0.5),
                radius: r.radius.unwrap_or(4.0),
            }),
        }
    }
}

impl MajorityVoteMethod {
    /// A short name for reports: `sign_sgd_mv`, `ssvr_mv_1` or `ssvr_mv_2`.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            MajorityVoteMethod::SignSgdMv => "sign_sgd_mv",
            MajorityVoteMethod::SsvrMv {
                option: SsvrMvOption::One,
                ..
            } => "ssvr_mv_1",
            MajorityVoteMethod::SsvrMv {
                option: SsvrMvOption::Two,
                ..
            } => "ssvr_mv_2",
        }
    }
}

/// Configuration of a distributed sign method with `n_workers` simulated in-process.
///
/// Every round `t = 0, 1, …, n_steps − 1` (0-based; the paper's `t` is `step + 1`), each
/// worker forms its estimate on a fresh minibatch of `batch_size` of its own shard and
/// sends a sign vector; the server combines them into `s_t` and every node applies
///
/// $$ x_{t+1} = x_t - \eta\, s_t . $$
///
/// As everywhere in gdlab, the update added to the parameters is `−η s_t`.
///
/// # Defaults
/// `n_workers = 4` (spec §5a uses 4 and 8), SSVR-MV Option 1 with Theorem 3's `β = 1/2`
/// and `R = 4G` at `G = 1` (set `radius` to `4G` for your problem, e.g. from
/// [`max_abs_component_grad`](super::max_abs_component_grad)), `learning_rate = 1e-3`,
/// `batch_size = 1`, `n_steps = 1000`.
///
/// # Examples
/// ```
/// use gdlab_optim::majority_vote::{MajorityVoteConfig, MajorityVoteMethod, SsvrMvOption};
/// let cfg = MajorityVoteConfig {
///     n_workers: 8,
///     method: MajorityVoteMethod::SsvrMv { option: SsvrMvOption::One, beta: 0.5, radius: 4.0 },
///     ..MajorityVoteConfig::default()
/// };
/// assert!(cfg.build().is_ok());
/// let bad = MajorityVoteConfig { n_workers: 0, ..cfg };
/// assert!(bad.build().unwrap_err().to_string().contains("n_workers"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MajorityVoteConfig {
    /// Number of workers `n ≥ 1`.
    pub n_workers: usize,
    /// The method and its parameters.
    pub method: MajorityVoteMethod,
    /// `η ≥ 0`. Theorem 3 uses `η = O((dT)^{-1/2})`.
    pub learning_rate: f64,
    /// Minibatch `B ≥ 1` per worker per round (also the size of `v_1^j`'s batch).
    pub batch_size: usize,
    /// Number of rounds `T`.
    pub n_steps: u64,
}

impl Default for MajorityVoteConfig {
    fn default() -> Self {
        MajorityVoteConfig {
            n_workers: 4,
            method: MajorityVoteMethod::SsvrMv {
                option: SsvrMvOption::One,
                beta: 0.5,
                radius: 4.0,
            },
            learning_rate: 1e-3,
            batch_size: 1,
            n_steps: 1000,
        }
    }
}

impl MajorityVoteConfig {
    /// Validates the configuration.
    ///
    /// # Errors
    /// [`ConfigError::OutOfRangeInt`] naming `n_workers` or `batch_size` when it is 0;
    /// [`ConfigError::OutOfRange`] naming `learning_rate` when it is negative or not
    /// finite, `beta` when `β ∉ (0, 1]`, `radius` when `R ≤ 0` or not finite.
    pub fn build(&self) -> Result<MajorityVote, ConfigError> {
        for (field, v) in [
            ("n_workers", self.n_workers),
            ("batch_size", self.batch_size),
        ] {
            if v == 0 {
                return Err(ConfigError::OutOfRangeInt {
                    field,
                    value: 0,
                    allowed: "[1, ∞)",
                });
            }
        }
        ConfigError::check_non_negative("learning_rate", self.learning_rate)?;
        if let MajorityVoteMethod::SsvrMv { beta, radius, .. } = self.method {
            if !(beta > 0.0 && beta <= 1.0) {
                return Err(ConfigError::OutOfRange {
                    field: "beta",
                    value: beta,
                    allowed: "(0, 1]",
                });
            }
            ConfigError::check_positive("radius", radius)?;
        }
        Ok(MajorityVote { cfg: *self })
    }
}

/// A validated [`MajorityVoteConfig`]; run it with [`MajorityVote::run`] or
/// [`run_majority_vote`](super::run_majority_vote).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MajorityVote {
    pub(super) cfg: MajorityVoteConfig,
}

impl MajorityVote {
    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &MajorityVoteConfig {
        &self.cfg
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ssvr(beta: f64, radius: f64) -> MajorityVoteConfig {
        MajorityVoteConfig {
            method: MajorityVoteMethod::SsvrMv {
                option: SsvrMvOption::Two,
                beta,
                radius,
            },
            ..MajorityVoteConfig::default()
        }
    }

    fn field_of(e: &ConfigError) -> &'static str {
        match e {
            ConfigError::OutOfRange { field, .. } | ConfigError::OutOfRangeInt { field, .. } => {
                field
            }
            other => panic!("unexpected error {other:?}"),
        }
    }

    #[test]
    fn bad_configs_name_their_field() {
        let zero_workers = MajorityVoteConfig {
            n_workers: 0,
            ..MajorityVoteConfig::default()
        };
        let e = zero_workers.build().unwrap_err();
        assert_eq!(field_of(&e), "n_workers");
        assert!(e.to_string().contains("`n_workers`"), "{e}");

        for r in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let e = ssvr(0.5, r).build().unwrap_err();
            assert_eq!(field_of(&e), "radius", "R = {r}");
            assert!(e.to_string().contains("radius"));
        }
        for b in [0.0, -0.1, 1.5, f64::NAN] {
            assert_eq!(
                field_of(&ssvr(b, 1.0).build().unwrap_err()),
                "beta",
                "β = {b}"
            );
        }
        assert!(
            ssvr(1.0, 1.0).build().is_ok(),
            "β = 1 is allowed (plain SGD estimator)"
        );
        for lr in [-1e-3, f64::NAN, f64::INFINITY] {
            let cfg = MajorityVoteConfig {
                learning_rate: lr,
                ..MajorityVoteConfig::default()
            };
            assert_eq!(field_of(&cfg.build().unwrap_err()), "learning_rate");
        }
        let zero_lr = MajorityVoteConfig {
            learning_rate: 0.0,
            ..MajorityVoteConfig::default()
        };
        assert!(zero_lr.build().is_ok());
        let zero_batch = MajorityVoteConfig {
            batch_size: 0,
            ..MajorityVoteConfig::default()
        };
        assert_eq!(field_of(&zero_batch.build().unwrap_err()), "batch_size");
        // signSGD-MV has no β or R to check.
        let mv = MajorityVoteConfig {
            method: MajorityVoteMethod::SignSgdMv,
            ..MajorityVoteConfig::default()
        };
        assert!(mv.build().is_ok());
    }

    #[test]
    fn config_round_trips_through_serde() {
        for cfg in [
            MajorityVoteConfig::default(),
            ssvr(0.1, 2.5),
            MajorityVoteConfig {
                method: MajorityVoteMethod::SignSgdMv,
                n_workers: 7,
                ..MajorityVoteConfig::default()
            },
        ] {
            let json = serde_json::to_string(&cfg).unwrap();
            let back: MajorityVoteConfig = serde_json::from_str(&json).unwrap();
            assert_eq!(back, cfg, "{json}");
        }
        let json =
            r#"{"n_workers":8,"method":{"kind":"ssvr_mv","option":"one","beta":0.5,"radius":4.0}}"#;
        let cfg: MajorityVoteConfig = serde_json::from_str(json).unwrap();
        assert_eq!(cfg.n_workers, 8);
        assert_eq!(cfg.method.name(), "ssvr_mv_1");
        assert_eq!(cfg.batch_size, 1, "missing fields take the defaults");
        let unknown = r#"{"n_workers":8,"workers":3}"#;
        assert!(serde_json::from_str::<MajorityVoteConfig>(unknown).is_err());
        let misplaced = r#"{"method":{"kind":"sign_sgd_mv","beta":0.5}}"#;
        let e = serde_json::from_str::<MajorityVoteConfig>(misplaced).unwrap_err();
        assert!(e.to_string().contains("beta"), "{e}");
        let unknown = r#"{"method":{"kind":"ssvr_mv","beta":0.5,"momentum":0.5}}"#;
        assert!(serde_json::from_str::<MajorityVoteConfig>(unknown).is_err());
        let partial = r#"{"method":{"kind":"ssvr_mv","beta":0.25}}"#;
        let cfg: MajorityVoteConfig = serde_json::from_str(partial).unwrap();
        assert_eq!(
            cfg.method,
            MajorityVoteMethod::SsvrMv {
                option: SsvrMvOption::One,
                beta: 0.25,
                radius: 4.0
            }
        );
    }
}
