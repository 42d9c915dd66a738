//! The teacher-mixture (TM) model: configuration, validation and derived constants
//! (α_c, β_c, Δmix, Δ2mix, timescales, critical learning rate).
//!
//! Two Gaussian sub-populations `c = ±1` with means `±v/√N`, variances `Δ_c`, fractions
//! `ρ` and `1 − ρ`, and one teacher per sub-population (spec §1, paper Eq. 1–2).
//!
//! # Conventions (the spec's own choices, documented as such)
//! - Loss `ε_c = E_c[(y − ŷ)²]`, **no ½** (paper Lemma 3.1; spec verification log, third
//!   pass). The SGD update is `w ← w + (η/√N)(y − ŷ)x` with the paper's η.
//! - Initial condition `M = R_± = 0`, `Q = Q0 = 1e-4` by default: the paper does not state
//!   `Q0` (spec §2.2, "unverified"); `Q0` is a field.
//! - Label noise `p`, ridge `γ`, student bias `b` and teacher norms `T_cc ≠ 1` are **spec
//!   extensions** (§2.3b), not in the paper; the defaults switch them off.

use serde::{Deserialize, Serialize};

use crate::error::{DynamicsError, Result};
use crate::special::{erf, normal_quantile};
use gdlab_core::ConfigError;

/// The model's parameters, as written in configs (unchecked; see
/// [`TeacherMixtureConfig::build`]). Unknown keys are rejected.
///
/// `Default` is the spec's **configuration A** (§3; the spec's own test configuration, not
/// a paper figure): ρ = 0.8, Δ_+ = 1, Δ_− = 4, T_± = 1, v = 0, η = 0.1, Q0 = 1e-4.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TeacherMixtureConfig {
    /// ρ ∈ (0, 1): fraction of sub-population `+` (relative representation).
    pub rho: f64,
    /// Δ_+ > 0: variance of sub-population `+`.
    pub delta_plus: f64,
    /// Δ_− > 0: variance of sub-population `−`.
    pub delta_minus: f64,
    /// v ≥ 0: scalar shift norm ‖v‖²/N (means are ±v/√N).
    pub shift_norm: f64,
    /// M*_+ = w̄_+·v/N: teacher–shift overlap of `+` (0 when `shift_norm` = 0).
    pub teacher_shift_plus: f64,
    /// M*_− = w̄_−·v/N.
    pub teacher_shift_minus: f64,
    /// T_± = w̄_+·w̄_−/N: teacher–teacher overlap (cosine when the norms are 1).
    pub teacher_overlap: f64,
    /// T_++ = ‖w̄_+‖²/N (spec extension; paper: 1).
    pub teacher_norm_plus: f64,
    /// T_−− = ‖w̄_−‖²/N (spec extension; paper: 1).
    pub teacher_norm_minus: f64,
    /// p ∈ [0, ½): label-flip probability (spec extension; paper: 0).
    pub label_noise: f64,
    /// γ ≥ 0: ridge on `w` (spec extension; paper: 0).
    pub ridge: f64,
    /// Whether the student has a trained scalar bias `b` (spec extension; paper: no).
    pub student_bias: bool,
    /// η > 0: the paper's learning rate (coefficient of the update `w += (η/√N)δx`).
    pub learning_rate: f64,
    /// Q(0) ≥ 0: initial squared student norm ‖w‖²/N (spec: 1e-4, unverified).
    pub q0: f64,
}

impl Default for TeacherMixtureConfig {
    fn default() -> Self {
        Self::config_a()
    }
}

impl TeacherMixtureConfig {
    /// Spec §3 configuration A (spec's own): ρ = 0.8, Δ = (1, 4), T_± = 1, v = 0,
    /// η = 0.1, Q0 = 1e-4.
    #[must_use]
    pub fn config_a() -> Self {
        TeacherMixtureConfig {
            rho: 0.8,
            delta_plus: 1.0,
            delta_minus: 4.0,
            shift_norm: 0.0,
            teacher_shift_plus: 0.0,
            teacher_shift_minus: 0.0,
            teacher_overlap: 1.0,
            teacher_norm_plus: 1.0,
            teacher_norm_minus: 1.0,
            label_noise: 0.0,
            ridge: 0.0,
            student_bias: false,
            learning_rate: 0.1,
            q0: 1e-4,
        }
    }

    /// Spec §3 configuration B (spec extension, every extension on): T_± = 0.3,
    /// M*_± = (0.4, −0.2), v = 1, p = 0.1, γ = 0.05, bias on, η = 0.2, Q0 = 0.01, ρ = 0.7,
    /// Δ = (0.5, 1.5).
    #[must_use]
    pub fn config_b() -> Self {
        TeacherMixtureConfig {
            rho: 0.7,
            delta_plus: 0.5,
            delta_minus: 1.5,
            shift_norm: 1.0,
            teacher_shift_plus: 0.4,
            teacher_shift_minus: -0.2,
            teacher_overlap: 0.3,
            label_noise: 0.1,
            ridge: 0.05,
            student_bias: true,
            learning_rate: 0.2,
            q0: 0.01,
            ..Self::config_a()
        }
    }

    /// Paper Fig. 7 (App. E.2): v = 0, ρ = 0.8, Δ = (0.1, 1), T_± = 0.9, η = 0.1
    /// (Q0 = 1e-4 is the spec's choice).
    #[must_use]
    pub fn paper_fig7() -> Self {
        TeacherMixtureConfig {
            delta_plus: 0.1,
            delta_minus: 1.0,
            teacher_overlap: 0.9,
            ..Self::config_a()
        }
    }

    /// Paper Fig. 4 (§4.2.2): v = 100, ρ = 0.75, Δ = (0.1, 0.5), T_± = 0.9, η = 0.03,
    /// α_± = (0.343, 0.12), converted to M*_± by [`teacher_shift_from_alpha`].
    #[must_use]
    pub fn paper_fig4() -> Self {
        TeacherMixtureConfig {
            rho: 0.75,
            delta_plus: 0.1,
            delta_minus: 0.5,
            shift_norm: 100.0,
            teacher_shift_plus: teacher_shift_from_alpha(0.343, 0.1, 1),
            teacher_shift_minus: teacher_shift_from_alpha(0.12, 0.5, -1),
            teacher_overlap: 0.9,
            learning_rate: 0.03,
            ..Self::config_a()
        }
    }

    /// Paper Fig. 2 (§4.1, spurious correlation): v = 16, ρ = 0.5, Δ_± = 0.1, T_± = 1,
    /// η = 0.5; M*_± = 0.4053 derived by the spec from "the shift alone classifies 90 %
    /// correctly" (Φ(M*/√Δ) = 0.9, α_± = ±0.8).
    #[must_use]
    pub fn paper_fig2() -> Self {
        let m = 0.1f64.sqrt() * normal_quantile(0.9);
        TeacherMixtureConfig {
            rho: 0.5,
            delta_plus: 0.1,
            delta_minus: 0.1,
            shift_norm: 16.0,
            teacher_shift_plus: m,
            teacher_shift_minus: m,
            teacher_overlap: 1.0,
            learning_rate: 0.5,
            ..Self::config_a()
        }
    }

    /// Validates every field and the overlap geometry (spec §2.1).
    ///
    /// # Errors
    /// - [`ConfigError::OutOfRange`] naming the field: `rho` ∉ (0, 1), `delta_plus` or
    ///   `delta_minus` ≤ 0, `learning_rate` ≤ 0, `shift_norm` < 0, teacher norms ≤ 0,
    ///   `label_noise` ∉ [0, ½), `ridge` < 0, `q0` < 0, or any non-finite value;
    /// - [`DynamicsError::Geometry`] when no shift/teachers have the requested Gram matrix
    ///   (|M*_c| > √(v·T_cc), or the 3×3 Gram matrix is not positive semi-definite).
    ///
    /// # Examples
    /// ```
    /// use gdlab_dynamics::model::TeacherMixtureConfig;
    /// let m = TeacherMixtureConfig::default().build().unwrap();
    /// assert!((m.critical_learning_rate() - 0.8).abs() < 1e-12); // 2Δmix/Δ2mix = 3.2/4
    /// let bad = TeacherMixtureConfig { rho: 1.0, ..Default::default() };
    /// assert!(bad.build().unwrap_err().to_string().contains("`rho`"));
    /// ```
    pub fn build(&self) -> Result<TeacherMixture> {
        let open01 = |field: &'static str, v: f64| -> Result<()> {
            if v > 0.0 && v < 1.0 {
                Ok(())
            } else {
                Err(ConfigError::OutOfRange {
                    field,
                    value: v,
                    allowed: "(0, 1)",
                }
                .into())
            }
        };
        open01("rho", self.rho)?;
        ConfigError::check_positive("delta_plus", self.delta_plus)?;
        ConfigError::check_positive("delta_minus", self.delta_minus)?;
        ConfigError::check_positive("learning_rate", self.learning_rate)?;
        ConfigError::check_non_negative("shift_norm", self.shift_norm)?;
        ConfigError::check_positive("teacher_norm_plus", self.teacher_norm_plus)?;
        ConfigError::check_positive("teacher_norm_minus", self.teacher_norm_minus)?;
        ConfigError::check_half_open("label_noise", self.label_noise, 0.0, 0.5, "[0, 0.5)")?;
        ConfigError::check_non_negative("ridge", self.ridge)?;
        ConfigError::check_non_negative("q0", self.q0)?;
        for (field, v) in [
            ("teacher_shift_plus", self.teacher_shift_plus),
            ("teacher_shift_minus", self.teacher_shift_minus),
            ("teacher_overlap", self.teacher_overlap),
        ] {
            if !v.is_finite() {
                return Err(ConfigError::OutOfRange {
                    field,
                    value: v,
                    allowed: "finite reals",
                }
                .into());
            }
        }
        let frame = Frame::new(self)?;
        Ok(TeacherMixture {
            cfg: self.clone(),
            frame,
        })
    }
}

/// M*_c from a label imbalance α_c (spec §2.1): `M*_+ = √Δ_+·Φ⁻¹((1 + α_+)/2)` for
/// `group = +1`, `M*_− = √Δ_−·Φ⁻¹((1 − α_−)/2)` for `group = −1`. NaN when |α| ≥ 1.
///
/// # Examples
/// ```
/// use gdlab_dynamics::model::teacher_shift_from_alpha;
/// // spec §3, paper Fig. 4: α = (0.343, 0.12), Δ = (0.1, 0.5) ⇒ M* = (0.1404, −0.1068)
/// assert!((teacher_shift_from_alpha(0.343, 0.1, 1) - 0.1404).abs() < 1e-4);
/// assert!((teacher_shift_from_alpha(0.12, 0.5, -1) + 0.1068).abs() < 1e-4);
/// ```
#[must_use]
pub fn teacher_shift_from_alpha(alpha: f64, delta: f64, group: i8) -> f64 {
    let p = if group >= 0 {
        (1.0 + alpha) / 2.0
    } else {
        (1.0 - alpha) / 2.0
    };
    delta.sqrt() * normal_quantile(p)
}

/// Coordinates of shift and teachers in an orthonormal frame `(e0, e1, e2)` (each of norm
/// √N in the simulation): `v = √v_norm·e0`, `w̄_+ = a1 e0 + a2 e1`,
/// `w̄_− = b1 e0 + b2 e1 + b3 e2` (spec §2.1).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Frame {
    /// √(shift norm): coefficient of `e0` in the shift.
    pub shift: f64,
    /// `(a1, a2)`: the `+` teacher.
    pub teacher_plus: [f64; 2],
    /// `(b1, b2, b3)`: the `−` teacher.
    pub teacher_minus: [f64; 3],
}

impl Frame {
    fn new(cfg: &TeacherMixtureConfig) -> Result<Self> {
        // Round-off slack for "exactly on the boundary" inputs (e.g. T_± = 1).
        const SLACK: f64 = 1e-12;
        let v = cfg.shift_norm;
        fn geo<T>(reason: String) -> Result<T> {
            Err(DynamicsError::Geometry { reason })
        }
        let coef = |m: f64, name: &str| -> Result<f64> {
            if v == 0.0 {
                if m != 0.0 {
                    return geo(format!(
                        "`{name}` must be 0 when `shift_norm` = 0 (got {m}): M*_c = w̄_c·v/N"
                    ));
                }
                Ok(0.0)
            } else {
                Ok(m / v.sqrt())
            }
        };
        let a1 = coef(cfg.teacher_shift_plus, "teacher_shift_plus")?;
        let b1 = coef(cfg.teacher_shift_minus, "teacher_shift_minus")?;
        let (tpp, tmm) = (cfg.teacher_norm_plus, cfg.teacher_norm_minus);
        let a2sq = tpp - a1 * a1;
        if a2sq < -SLACK * tpp {
            return geo(format!(
                "|teacher_shift_plus| = {} exceeds √(shift_norm·teacher_norm_plus) = {}",
                cfg.teacher_shift_plus.abs(),
                (v * tpp).sqrt()
            ));
        }
        let a2 = a2sq.max(0.0).sqrt();
        let rest = cfg.teacher_overlap - a1 * b1;
        let b2 = if a2 > 0.0 {
            rest / a2
        } else if rest.abs() <= SLACK {
            0.0
        } else {
            return geo(format!(
                "teacher_overlap = {} is impossible: the + teacher is parallel to the shift, so T± must equal M*+·M*−/v = {}",
                cfg.teacher_overlap,
                a1 * b1
            ));
        };
        let b3sq = tmm - b1 * b1 - b2 * b2;
        if b3sq < -SLACK * tmm.max(1.0) {
            return geo(format!(
                "the Gram matrix of (shift, w̄+, w̄−) is not positive semi-definite: teacher_norm_minus − b1² − b2² = {b3sq} < 0 (check teacher_overlap = {} and teacher_shift_minus = {})",
                cfg.teacher_overlap, cfg.teacher_shift_minus
            ));
        }
        Ok(Frame {
            shift: v.sqrt(),
            teacher_plus: [a1, a2],
            teacher_minus: [b1, b2, b3sq.max(0.0).sqrt()],
        })
    }
}

/// A sub-population.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Group {
    /// `c = +1`, probability ρ.
    Plus,
    /// `c = −1`, probability 1 − ρ.
    Minus,
}

impl Group {
    /// `+1.0` or `−1.0`.
    #[must_use]
    pub fn sign(self) -> f64 {
        match self {
            Group::Plus => 1.0,
            Group::Minus => -1.0,
        }
    }
    /// 0 for `+`, 1 for `−` (array index).
    #[must_use]
    pub fn index(self) -> usize {
        match self {
            Group::Plus => 0,
            Group::Minus => 1,
        }
    }
    /// Both groups, `+` first.
    pub const BOTH: [Group; 2] = [Group::Plus, Group::Minus];
}

/// The validated teacher-mixture model.
#[derive(Clone, Debug, PartialEq)]
pub struct TeacherMixture {
    cfg: TeacherMixtureConfig,
    frame: Frame,
}

/// Per-group constants of the label statistics (spec §2.3b):
/// `E_s = erf(m_c/√(2τ_c))`, `G = 2φ(m_c/√τ_c)/√τ_c` with `m_c = c·M*_c`,
/// `τ_c = Δ_c·T_cc`. With `T_cc = 1`: `E_s = α_c` and `Δ_c·G = β_c` (paper App. A).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LabelStats {
    /// `E_s(c) = E_c[sign(ν_c)]`.
    pub e_s: f64,
    /// `G_c`.
    pub g: f64,
}

impl TeacherMixture {
    /// The configuration it was built from.
    #[must_use]
    pub fn config(&self) -> &TeacherMixtureConfig {
        &self.cfg
    }

    /// The shift/teacher frame (spec §2.1).
    #[must_use]
    pub fn frame(&self) -> Frame {
        self.frame
    }

    /// Fraction of group `c`: ρ or 1 − ρ.
    #[must_use]
    pub fn weight(&self, c: Group) -> f64 {
        match c {
            Group::Plus => self.cfg.rho,
            Group::Minus => 1.0 - self.cfg.rho,
        }
    }

    /// Variance Δ_c.
    #[must_use]
    pub fn delta(&self, c: Group) -> f64 {
        match c {
            Group::Plus => self.cfg.delta_plus,
            Group::Minus => self.cfg.delta_minus,
        }
    }

    /// Teacher–shift overlap M*_c.
    #[must_use]
    pub fn teacher_shift(&self, c: Group) -> f64 {
        match c {
            Group::Plus => self.cfg.teacher_shift_plus,
            Group::Minus => self.cfg.teacher_shift_minus,
        }
    }

    /// Teacher Gram entry `T_ac`.
    #[must_use]
    pub fn teacher_gram(&self, a: Group, c: Group) -> f64 {
        match (a, c) {
            (Group::Plus, Group::Plus) => self.cfg.teacher_norm_plus,
            (Group::Minus, Group::Minus) => self.cfg.teacher_norm_minus,
            _ => self.cfg.teacher_overlap,
        }
    }

    /// `E_s` and `G` of group `c` (spec §2.3b).
    #[must_use]
    pub fn label_stats(&self, c: Group) -> LabelStats {
        let m = c.sign() * self.teacher_shift(c);
        let tau = self.delta(c) * self.teacher_gram(c, c);
        LabelStats {
            e_s: erf(m / (2.0 * tau).sqrt()),
            g: 2.0 * crate::special::normal_pdf(m / tau.sqrt()) / tau.sqrt(),
        }
    }

    /// Label imbalance `α_c = E_c[y]` without label noise (paper App. A item 16; equals
    /// `E_s` when `T_cc = 1`).
    #[must_use]
    pub fn alpha(&self, c: Group) -> f64 {
        self.label_stats(c).e_s
    }

    /// β_c = √(2Δ_c/π)·exp(−M*_c²/(2Δ_c)) (paper App. A item 17; `T_cc = 1`).
    #[must_use]
    pub fn beta(&self, c: Group) -> f64 {
        let (d, m) = (self.delta(c), self.teacher_shift(c));
        (2.0 * d / std::f64::consts::PI).sqrt() * (-m * m / (2.0 * d)).exp()
    }

    /// Δmix = ρΔ_+ + (1 − ρ)Δ_−.
    #[must_use]
    pub fn delta_mix(&self) -> f64 {
        self.cfg.rho * self.cfg.delta_plus + (1.0 - self.cfg.rho) * self.cfg.delta_minus
    }

    /// Δ2mix = ρΔ_+² + (1 − ρ)Δ_−².
    #[must_use]
    pub fn delta2_mix(&self) -> f64 {
        self.cfg.rho * self.cfg.delta_plus.powi(2)
            + (1.0 - self.cfg.rho) * self.cfg.delta_minus.powi(2)
    }

    /// Critical learning rate η_c = 2(Δmix + γ)/Δ2mix: Q diverges iff η > η_c (paper
    /// App. E.1; the ridge term γ is the spec's extension).
    #[must_use]
    pub fn critical_learning_rate(&self) -> f64 {
        2.0 * (self.delta_mix() + self.cfg.ridge) / self.delta2_mix()
    }

    /// True when η ≥ η_c (the "diverged" phase).
    #[must_use]
    pub fn diverges(&self) -> bool {
        self.cfg.learning_rate >= self.critical_learning_rate()
    }

    /// τ_M = 1/(η(v + Δmix)) (paper Eq. 13).
    #[must_use]
    pub fn tau_m(&self) -> f64 {
        1.0 / (self.cfg.learning_rate * (self.cfg.shift_norm + self.delta_mix()))
    }

    /// τ_R = 1/(η·Δmix) (paper Eq. 14).
    #[must_use]
    pub fn tau_r(&self) -> f64 {
        1.0 / (self.cfg.learning_rate * self.delta_mix())
    }

    /// τ_Q = 1/(η(2Δmix − η·Δ2mix)) (paper Eq. 15); negative or infinite past η_c.
    #[must_use]
    pub fn tau_q(&self) -> f64 {
        let eta = self.cfg.learning_rate;
        1.0 / (eta * (2.0 * self.delta_mix() - eta * self.delta2_mix()))
    }

    /// The model with another learning rate (validated).
    ///
    /// # Errors
    /// [`ConfigError::OutOfRange`] unless `eta` > 0.
    pub fn with_learning_rate(&self, eta: f64) -> Result<TeacherMixture> {
        TeacherMixtureConfig {
            learning_rate: eta,
            ..self.cfg.clone()
        }
        .build()
    }

    /// True when none of the spec extensions is on (the paper's model: `T_cc = 1`,
    /// `p = γ = 0`, no bias).
    #[must_use]
    pub fn is_paper_model(&self) -> bool {
        #[allow(clippy::float_cmp)] // exact defaults
        let plain = self.cfg.teacher_norm_plus == 1.0
            && self.cfg.teacher_norm_minus == 1.0
            && self.cfg.label_noise == 0.0
            && self.cfg.ridge == 0.0;
        plain && !self.cfg.student_bias
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gdlab_core::assert_close;

    #[test]
    fn derived_constants_config_a_and_fig7() {
        let a = TeacherMixtureConfig::config_a().build().unwrap();
        assert_close!(a.delta_mix(), 1.6, rel = 1e-15);
        assert_close!(a.delta2_mix(), 4.0, rel = 1e-15);
        assert_close!(a.critical_learning_rate(), 0.8, rel = 1e-15);
        assert_close!(a.alpha(Group::Plus), 0.0, abs = 0.0);
        let f7 = TeacherMixtureConfig::paper_fig7().build().unwrap();
        // spec §3: Δmix = 0.28, Δ2mix = 0.208, τ_R = 35.71, τ_Q = 18.55, η_c = 2.69
        assert_close!(f7.delta_mix(), 0.28, rel = 1e-14);
        assert_close!(f7.delta2_mix(), 0.208, rel = 1e-14);
        assert_close!(f7.tau_r(), 35.71, abs = 0.01);
        assert_close!(f7.tau_q(), 18.55, abs = 0.01);
        assert_close!(f7.critical_learning_rate(), 2.69, abs = 0.01);
        let f4 = TeacherMixtureConfig::paper_fig4().build().unwrap();
        // α_c recovered from M*_c (round trip), τ_M = 0.333 (spec §3)
        assert_close!(f4.alpha(Group::Plus), 0.343, rel = 1e-12);
        assert_close!(f4.alpha(Group::Minus), 0.12, rel = 1e-12);
        assert_close!(f4.tau_m(), 0.333, abs = 1e-3);
        // β with T_cc = 1 equals Δ_c·G_c
        for c in Group::BOTH {
            assert_close!(f4.beta(c), f4.delta(c) * f4.label_stats(c).g, rel = 1e-14);
        }
    }

    #[test]
    fn bad_configs_name_the_field() {
        let base = TeacherMixtureConfig::default();
        let cases: Vec<(TeacherMixtureConfig, &str)> = vec![
            (
                TeacherMixtureConfig {
                    rho: 0.0,
                    ..base.clone()
                },
                "rho",
            ),
            (
                TeacherMixtureConfig {
                    rho: 1.2,
                    ..base.clone()
                },
                "rho",
            ),
            (
                TeacherMixtureConfig {
                    delta_plus: 0.0,
                    ..base.clone()
                },
                "delta_plus",
            ),
            (
                TeacherMixtureConfig {
                    delta_minus: -1.0,
                    ..base.clone()
                },
                "delta_minus",
            ),
            (
                TeacherMixtureConfig {
                    learning_rate: 0.0,
                    ..base.clone()
                },
                "learning_rate",
            ),
            (
                TeacherMixtureConfig {
                    learning_rate: f64::NAN,
                    ..base.clone()
                },
                "learning_rate",
            ),
            (
                TeacherMixtureConfig {
                    label_noise: 0.5,
                    ..base.clone()
                },
                "label_noise",
            ),
            (
                TeacherMixtureConfig {
                    teacher_shift_plus: 0.3,
                    ..base.clone()
                },
                "teacher_shift_plus",
            ),
            (
                TeacherMixtureConfig {
                    teacher_overlap: 1.5,
                    ..base.clone()
                },
                "semi-definite",
            ),
            (
                TeacherMixtureConfig {
                    shift_norm: 1.0,
                    teacher_shift_plus: 1.5,
                    ..base.clone()
                },
                "teacher_shift_plus",
            ),
        ];
        for (cfg, needle) in cases {
            let e = cfg.build().unwrap_err().to_string();
            assert!(e.contains(needle), "{needle}: {e}");
        }
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let e = serde_json::from_str::<TeacherMixtureConfig>(r#"{"rho": 0.5, "rhoo": 1}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("rhoo"), "{e}");
        let c: TeacherMixtureConfig = serde_json::from_str(r#"{"rho": 0.6}"#).unwrap();
        assert_close!(c.rho, 0.6, rel = 0.0);
        assert_close!(c.delta_minus, 4.0, rel = 0.0);
    }
}
