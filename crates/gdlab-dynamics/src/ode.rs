//! The order-parameter ODEs of online SGD on the teacher-mixture model (spec §2.3,
//! paper Thm 3.3 / App. C.2), the per-group losses (spec §2.4, paper Lemma 3.1 / App. B.1)
//! and the closed-form solution (spec §2.3c, paper Thm 3.4 / App. D.1, typos corrected).
//!
//! State `y = [M, R_+, R_−, Q, b]` with `M = w·v/N`, `R_± = w·w̄_±/N`, `Q = w·w/N` and the
//! student bias `b` (0 and constant unless the bias extension is on).
//!
//! The drift is written in the general Gaussian-conditioning form of spec §2.3b (which
//! covers the extensions p, γ, b, T_cc); with the extensions off it equals the paper's
//! App. C.2 equations term by term — [`paper_drift`] transcribes those separately and a
//! test checks the two agree. The paper's printed dQ/dt has `β_−R_+` in the (1 − ρ) terms;
//! the correct `β_−R_−` is used (spec §7 typo (b)).

use std::ops::ControlFlow;

use serde::{Deserialize, Serialize};

use crate::error::{DynamicsError, Result};
use crate::integrate::{DormandPrince, OdeSystem, Rk4};
use crate::model::{Group, TeacherMixture};
use gdlab_core::ConfigError;

/// Number of ODE states: M, R_+, R_−, Q, b.
pub const N_STATES: usize = 5;

/// The order parameters at one time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OrderParams {
    /// M = w·v/N (student–shift overlap).
    pub m: f64,
    /// R_+ = w·w̄_+/N.
    pub r_plus: f64,
    /// R_− = w·w̄_−/N.
    pub r_minus: f64,
    /// Q = w·w/N.
    pub q: f64,
    /// Student bias b (spec extension; 0 otherwise).
    pub b: f64,
}

impl OrderParams {
    /// The spec's initial condition: `M = R_± = b = 0`, `Q = q0`.
    #[must_use]
    pub fn initial(q0: f64) -> Self {
        OrderParams {
            q: q0,
            ..Default::default()
        }
    }
    /// `[M, R_+, R_−, Q, b]`.
    #[must_use]
    pub fn to_array(self) -> [f64; N_STATES] {
        [self.m, self.r_plus, self.r_minus, self.q, self.b]
    }
    /// From `[M, R_+, R_−, Q, b]`.
    ///
    /// # Panics
    /// If `y` has fewer than 5 entries.
    #[must_use]
    pub fn from_slice(y: &[f64]) -> Self {
        OrderParams {
            m: y[0],
            r_plus: y[1],
            r_minus: y[2],
            q: y[3],
            b: y[4],
        }
    }
    /// R_c.
    #[must_use]
    pub fn r(&self, c: Group) -> f64 {
        match c {
            Group::Plus => self.r_plus,
            Group::Minus => self.r_minus,
        }
    }
    /// True when every entry is finite.
    #[must_use]
    pub fn is_finite(&self) -> bool {
        self.to_array().iter().all(|v| v.is_finite())
    }
}

/// Conditional moments of group `c` at state `s` (spec §2.3b).
struct Moments {
    /// `E[y|c]`
    ey: f64,
    /// `E[yŷ|c]`
    eyyh: f64,
    /// `E[ŷ²|c]`
    eyh2: f64,
    /// `Λ = cM + b = E[ŷ|c]`
    lam: f64,
}

fn moments(model: &TeacherMixture, s: &OrderParams, c: Group) -> Moments {
    let cfg = model.config();
    let kappa = 1.0 - 2.0 * cfg.label_noise;
    let ls = model.label_stats(c);
    let d = model.delta(c);
    let lam = c.sign() * s.m + s.b;
    Moments {
        ey: kappa * ls.e_s,
        eyyh: kappa * (lam * ls.e_s + d * s.r(c) * ls.g),
        eyh2: lam * lam + d * s.q,
        lam,
    }
}

/// Per-group generalisation error `ε_c = E_c[(y − ŷ)²]` (no ½; spec §2.4, paper Lemma 3.1
/// with App. B.1's factor 2 on β_cR_c):
/// `ε_c = 1 − 2E[yŷ|c] + E[ŷ²|c]`, which for the paper's model is
/// `ε_+ = 1 + M² − 2α_+M − 2β_+R_+ + Δ_+Q` and `ε_− = 1 + M² + 2α_−M − 2β_−R_− + Δ_−Q`.
///
/// # Examples
/// ```
/// use gdlab_dynamics::model::{Group, TeacherMixtureConfig};
/// use gdlab_dynamics::ode::{group_loss, OrderParams};
/// let m = TeacherMixtureConfig::default().build().unwrap();
/// // At w = 0 both losses are E[y²] = 1.
/// assert_eq!(group_loss(&m, &OrderParams::default(), Group::Plus), 1.0);
/// ```
#[must_use]
pub fn group_loss(model: &TeacherMixture, s: &OrderParams, c: Group) -> f64 {
    let mo = moments(model, s, c);
    1.0 - 2.0 * mo.eyyh + mo.eyh2
}

/// `[ε_+, ε_−]`.
#[must_use]
pub fn group_losses(model: &TeacherMixture, s: &OrderParams) -> [f64; 2] {
    [
        group_loss(model, s, Group::Plus),
        group_loss(model, s, Group::Minus),
    ]
}

/// The ODE right-hand side `d[M, R_+, R_−, Q, b]/dt` (spec §2.3b general form).
#[must_use]
pub fn drift(model: &TeacherMixture, s: &OrderParams) -> OrderParams {
    let cfg = model.config();
    let (eta, gamma, v) = (cfg.learning_rate, cfg.ridge, cfg.shift_norm);
    let kappa = 1.0 - 2.0 * cfg.label_noise;
    let mut out = OrderParams::default();
    let (mut dm, mut dr, mut dq_lin, mut dq_noise, mut db) = (0.0, [0.0; 2], 0.0, 0.0, 0.0);
    for c in Group::BOTH {
        let w = model.weight(c);
        let d = model.delta(c);
        let ls = model.label_stats(c);
        let mo = moments(model, s, c);
        let cs = c.sign();
        // E[y u|c] − E[ŷ u|c], u = v·x/√N
        let e_yu = kappa * (cs * v * ls.e_s + d * model.teacher_shift(c) * ls.g);
        let e_hu = mo.lam * cs * v + d * s.m;
        dm += w * (e_yu - e_hu);
        for a in Group::BOTH {
            // E[y ν_a|c] − E[ŷ ν_a|c], ν_a = w̄_a·x/√N
            let e_yn = kappa
                * (cs * model.teacher_shift(a) * ls.e_s + d * model.teacher_gram(a, c) * ls.g);
            let e_hn = mo.lam * cs * model.teacher_shift(a) + d * s.r(a);
            dr[a.index()] += w * (e_yn - e_hn);
        }
        // E[y(ŷ − b)|c] − E[ŷ(ŷ − b)|c]
        dq_lin += w * ((mo.eyyh - s.b * mo.ey) - (mo.eyh2 - s.b * mo.lam));
        dq_noise += w * d * (1.0 - 2.0 * mo.eyyh + mo.eyh2);
        db += w * (mo.ey - mo.lam);
    }
    out.m = eta * dm - eta * gamma * s.m;
    out.r_plus = eta * dr[0] - eta * gamma * s.r_plus;
    out.r_minus = eta * dr[1] - eta * gamma * s.r_minus;
    out.q = 2.0 * eta * dq_lin - 2.0 * eta * gamma * s.q + eta * eta * dq_noise;
    out.b = if cfg.student_bias { eta * db } else { 0.0 };
    out
}

/// The paper's App. C.2 equations, transcribed literally (with the `β_−R_−` correction),
/// for the paper's model only (extensions off). Used to cross-check [`drift`].
///
/// ```text
/// Ap = α+M + β+R+,  Am = −α−M + β−R−
/// dM/dt  = η[ρvα+ + ρM*+β+ − (1−ρ)vα− + (1−ρ)M*−β− − M(v + Δmix)]
/// dR+/dt = η[ρ(M*+α+ + β+) + (1−ρ)(−M*+α− + T±β−) − M·M*+ − R+·Δmix]
/// dR−/dt = η[ρ(M*−α+ + T±β+) + (1−ρ)(−M*−α− + β−) − M·M*− − R−·Δmix]
/// dQ/dt  = 2η[ρAp + (1−ρ)Am − M² − QΔmix]
///          + η²[Δmix + QΔ2mix + M²Δmix − 2(ρΔ+Ap + (1−ρ)Δ−Am)]
/// ```
#[must_use]
pub fn paper_drift(model: &TeacherMixture, s: &OrderParams) -> OrderParams {
    let cfg = model.config();
    let (rho, eta, v, t) = (
        cfg.rho,
        cfg.learning_rate,
        cfg.shift_norm,
        cfg.teacher_overlap,
    );
    let (ap_, am_) = (model.alpha(Group::Plus), model.alpha(Group::Minus));
    let (bp, bm) = (model.beta(Group::Plus), model.beta(Group::Minus));
    let (msp, msm) = (cfg.teacher_shift_plus, cfg.teacher_shift_minus);
    let (dp, dmn) = (cfg.delta_plus, cfg.delta_minus);
    let (dmix, d2mix) = (model.delta_mix(), model.delta2_mix());
    let (m, rp, rm, q) = (s.m, s.r_plus, s.r_minus, s.q);
    let ap = ap_ * m + bp * rp;
    let am = -am_ * m + bm * rm;
    OrderParams {
        m: eta
            * (rho * v * ap_ + rho * msp * bp - (1.0 - rho) * v * am_ + (1.0 - rho) * msm * bm
                - m * (v + dmix)),
        r_plus: eta
            * (rho * (msp * ap_ + bp) + (1.0 - rho) * (-msp * am_ + t * bm) - m * msp - rp * dmix),
        r_minus: eta
            * (rho * (msm * ap_ + t * bp) + (1.0 - rho) * (-msm * am_ + bm) - m * msm - rm * dmix),
        q: 2.0 * eta * (rho * ap + (1.0 - rho) * am - m * m - q * dmix)
            + eta
                * eta
                * (dmix + q * d2mix + m * m * dmix
                    - 2.0 * (rho * dp * ap + (1.0 - rho) * dmn * am)),
        b: 0.0,
    }
}

/// `dε_c/dt` at state `s` by the chain rule through [`drift`] (spec §2.5: the initial
/// rates; a positive rate at t = 0 is the "quasi-divergent" region).
#[must_use]
pub fn loss_rates(model: &TeacherMixture, s: &OrderParams) -> [f64; 2] {
    let f = drift(model, s);
    let kappa = 1.0 - 2.0 * model.config().label_noise;
    Group::BOTH.map(|c| {
        let ls = model.label_stats(c);
        let d = model.delta(c);
        let lam = c.sign() * s.m + s.b;
        // ε_c = 1 − 2κ(ΛE_s + Δ_c R_c G) + Λ² + Δ_c Q
        let de_dlam = -2.0 * kappa * ls.e_s + 2.0 * lam;
        let de_dr = -2.0 * kappa * d * ls.g;
        de_dlam * (c.sign() * f.m + f.b) + de_dr * f.r(c) + d * f.q
    })
}

/// The teacher-mixture ODE as an [`OdeSystem`] with state `[M, R_+, R_−, Q, b]`.
#[derive(Clone, Debug)]
pub struct OrderParamOde<'a> {
    model: &'a TeacherMixture,
}

impl<'a> OrderParamOde<'a> {
    /// The ODE of `model`.
    #[must_use]
    pub fn new(model: &'a TeacherMixture) -> Self {
        OrderParamOde { model }
    }
}

impl OdeSystem for OrderParamOde<'_> {
    fn dim(&self) -> usize {
        N_STATES
    }
    fn rhs(&self, _t: f64, y: &[f64], dydt: &mut [f64]) {
        let d = drift(self.model, &OrderParams::from_slice(y));
        dydt.copy_from_slice(&d.to_array());
    }
}

/// Which integrator solves the ODE.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
pub enum Integrator {
    /// Adaptive Dormand–Prince 5(4) with these tolerances.
    DormandPrince {
        /// Relative tolerance.
        rtol: f64,
        /// Absolute tolerance.
        atol: f64,
    },
    /// Fixed-step RK4 with step `dt` (spec §2.3: dt = 0.01).
    Rk4 {
        /// Step.
        dt: f64,
    },
}

impl Default for Integrator {
    /// Dormand–Prince with `rtol = atol = 1e-10`.
    fn default() -> Self {
        Integrator::DormandPrince {
            rtol: 1e-10,
            atol: 1e-10,
        }
    }
}

/// |state| above which the ODE is declared diverged and integration stops.
pub const BLOWUP: f64 = 1e30;

/// A trajectory of order parameters on a time grid, as columns.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Trajectory {
    /// Times.
    pub t: Vec<f64>,
    /// M(t).
    pub m: Vec<f64>,
    /// R_+(t).
    pub r_plus: Vec<f64>,
    /// R_−(t).
    pub r_minus: Vec<f64>,
    /// Q(t).
    pub q: Vec<f64>,
    /// b(t).
    pub b: Vec<f64>,
    /// The first time at which a state exceeded [`BLOWUP`] in absolute value or stopped
    /// being finite; the columns end before it.
    pub diverged_at: Option<f64>,
}

impl Trajectory {
    /// Number of recorded times.
    #[must_use]
    pub fn len(&self) -> usize {
        self.t.len()
    }
    /// True when nothing was recorded.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.t.is_empty()
    }
    /// Appends one record.
    pub fn push(&mut self, t: f64, s: &OrderParams) {
        self.t.push(t);
        self.m.push(s.m);
        self.r_plus.push(s.r_plus);
        self.r_minus.push(s.r_minus);
        self.q.push(s.q);
        self.b.push(s.b);
    }
    /// The order parameters of record `i`.
    ///
    /// # Panics
    /// If `i ≥ len()`.
    #[must_use]
    pub fn at(&self, i: usize) -> OrderParams {
        OrderParams {
            m: self.m[i],
            r_plus: self.r_plus[i],
            r_minus: self.r_minus[i],
            q: self.q[i],
            b: self.b[i],
        }
    }
    /// `(ε_+(t), ε_−(t))` at every record (spec §2.4 formulas).
    #[must_use]
    pub fn losses(&self, model: &TeacherMixture) -> (Vec<f64>, Vec<f64>) {
        (0..self.len())
            .map(|i| {
                let [p, m] = group_losses(model, &self.at(i));
                (p, m)
            })
            .unzip()
    }
}

/// Solves the ODE from `init` at t = 0 and records it at `times` (sorted, ≥ 0).
///
/// Integration stops early, with [`Trajectory::diverged_at`] set, when a state exceeds
/// [`BLOWUP`] in absolute value.
///
/// # Errors
/// [`DynamicsError`] from the integrator (bad times, step underflow).
///
/// # Examples
/// ```
/// use gdlab_dynamics::model::TeacherMixtureConfig;
/// use gdlab_dynamics::ode::{solve, Integrator, OrderParams};
/// let model = TeacherMixtureConfig::default().build().unwrap(); // configuration A
/// let traj = solve(&model, OrderParams::initial(1e-4), &[100.0], Integrator::default()).unwrap();
/// // spec §3: R(100) = R_∞ = 0.598413
/// assert!((traj.r_plus[0] - 0.598413).abs() < 1e-5);
/// ```
pub fn solve(
    model: &TeacherMixture,
    init: OrderParams,
    times: &[f64],
    integrator: Integrator,
) -> Result<Trajectory> {
    let sys = OrderParamOde::new(model);
    let mut diverged = None;
    let watch = |t: f64, y: &[f64]| {
        if y.iter().any(|v| !v.is_finite() || v.abs() > BLOWUP) {
            diverged = Some(t);
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    };
    let y0 = init.to_array();
    let sol = match integrator {
        Integrator::DormandPrince { rtol, atol } => DormandPrince {
            rtol,
            atol,
            ..DormandPrince::default()
        }
        .solve(&sys, 0.0, &y0, times, watch),
        Integrator::Rk4 { dt } => Rk4::new(dt)?.solve(&sys, 0.0, &y0, times, watch),
    };
    let sol = match sol {
        Ok(s) => s,
        // A state that overflows makes the error norm non-finite: that is divergence too.
        Err(DynamicsError::StepUnderflow { t, .. }) => {
            return Ok(Trajectory {
                diverged_at: Some(t),
                ..Trajectory::default()
            })
        }
        Err(e) => return Err(e),
    };
    let mut traj = Trajectory::default();
    for (t, y) in sol.times.iter().zip(&sol.states) {
        let s = OrderParams::from_slice(y);
        if !s.is_finite() || y.iter().any(|v| v.abs() > BLOWUP) {
            break;
        }
        traj.push(*t, &s);
    }
    traj.diverged_at = diverged;
    Ok(traj)
}

/// Sign changes of `gap` along `t` with `t ≥ t_from`, each located by linear
/// interpolation between the two records around it. A zero value counts as the sign of
/// its predecessor (no double counting).
///
/// # Examples
/// ```
/// use gdlab_dynamics::ode::sign_changes;
/// let t = [0.0, 1.0, 2.0, 3.0];
/// let g = [1.0, 0.5, -0.5, -1.0];
/// assert_eq!(sign_changes(&t, &g, 0.0), vec![1.5]);
/// ```
#[must_use]
pub fn sign_changes(t: &[f64], gap: &[f64], t_from: f64) -> Vec<f64> {
    let mut out = Vec::new();
    let mut prev: Option<(f64, f64)> = None;
    for (&ti, &gi) in t.iter().zip(gap) {
        if ti < t_from || !gi.is_finite() {
            continue;
        }
        if let Some((tp, gp)) = prev {
            if gi != 0.0 && gp != 0.0 && (gi > 0.0) != (gp > 0.0) {
                out.push(tp + (ti - tp) * gp / (gp - gi));
            }
        }
        if gi != 0.0 || prev.is_none() {
            prev = Some((ti, gi));
        }
    }
    out
}

/// The closed-form solution of the paper's model (spec §2.3c; paper Thm 3.4, App. D.1 with
/// the `k3` typo corrected: denominator `Δmix − ηΔ2mix − v` and a factor 2 on
/// `M∞(ηΔmix − 2)`, spec §7 (c)).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct ClosedForm {
    /// Rates λ_M, λ_R, λ_Q (= 1/τ).
    pub rates: [f64; 3],
    /// Initial state.
    pub init: OrderParams,
    /// Fixed point (M∞, R_+∞, R_−∞, Q∞).
    pub fixed_point: OrderParams,
    /// k1_±.
    pub k1: [f64; 2],
    /// k2, k3, k4.
    pub k: [f64; 3],
}

impl ClosedForm {
    /// The closed form for `model` from `init` (b must be 0).
    ///
    /// # Errors
    /// - [`ConfigError::Invalid`] if an extension is on (the closed form covers the paper's
    ///   model only) or `init.b ≠ 0`;
    /// - [`DynamicsError::Degenerate`] when two rates coincide (a denominator vanishes;
    ///   spec: fall back to the ODE).
    ///
    /// # Examples
    /// ```
    /// use gdlab_dynamics::model::TeacherMixtureConfig;
    /// use gdlab_dynamics::ode::{ClosedForm, OrderParams};
    /// let m = TeacherMixtureConfig::default().build().unwrap();
    /// let cf = ClosedForm::new(&m, OrderParams::initial(1e-4)).unwrap();
    /// assert!((cf.fixed_point.r_plus - 0.598413).abs() < 1e-6); // spec §3
    /// assert!((cf.fixed_point.q - 0.384548).abs() < 1e-6);      // spec §2.5
    /// ```
    pub fn new(model: &TeacherMixture, init: OrderParams) -> Result<Self> {
        if !model.is_paper_model() || init.b != 0.0 {
            return Err(ConfigError::Invalid {
                field: "model".into(),
                reason: "the closed form (spec §2.3c) covers the paper's model only: T_cc = 1, no label noise, ridge or bias".into(),
            }
            .into());
        }
        let cfg = model.config();
        let (rho, eta, v, t) = (
            cfg.rho,
            cfg.learning_rate,
            cfg.shift_norm,
            cfg.teacher_overlap,
        );
        let (ap, am) = (model.alpha(Group::Plus), model.alpha(Group::Minus));
        let (bp, bm) = (model.beta(Group::Plus), model.beta(Group::Minus));
        let (msp, msm) = (cfg.teacher_shift_plus, cfg.teacher_shift_minus);
        let (dp, dmn) = (cfg.delta_plus, cfg.delta_minus);
        let (dmix, d2mix) = (model.delta_mix(), model.delta2_mix());
        let (m0, rp0, rm0) = (init.m, init.r_plus, init.r_minus);

        let m_inf = (rho * msp * bp + (1.0 - rho) * msm * bm + v * (rho * ap - (1.0 - rho) * am))
            / (v + dmix);
        let s = rho * ap - (1.0 - rho) * am - m_inf;
        let rp_inf = (rho * bp + t * (1.0 - rho) * bm + msp * s) / dmix;
        let rm_inf = (t * rho * bp + (1.0 - rho) * bm + msm * s) / dmix;
        let (k1p, k1m) = if v == 0.0 {
            (0.0, 0.0)
        } else {
            (msp * (m_inf - m0) / v, msm * (m_inf - m0) / v)
        };
        let a = 2.0 * rho * ap * (1.0 - eta * dp) - 2.0 * (1.0 - rho) * am * (1.0 - eta * dmn);
        let q_den = 2.0 * dmix - eta * d2mix;
        let nz = |x: f64, what: &'static str| -> Result<f64> {
            if x.abs() < 1e-12 {
                Err(DynamicsError::Degenerate { what })
            } else {
                Ok(x)
            }
        };
        let q_inf = (eta * dmix
            + 2.0 * rho * bp * rp_inf * (1.0 - eta * dp)
            + 2.0 * (1.0 - rho) * bm * rm_inf * (1.0 - eta * dmn)
            + m_inf * (m_inf * (eta * dmix - 2.0) + a))
            / nz(q_den, "2Δmix − ηΔ2mix (λ_Q = 0)")?;
        let cp = 2.0 * rho * bp * (1.0 - eta * dp);
        let cm = 2.0 * (1.0 - rho) * bm * (1.0 - eta * dmn);
        let k2 = (cp * (rp_inf - rp0 - k1p) + cm * (rm_inf - rm0 - k1m))
            / nz(dmix - eta * d2mix, "Δmix − ηΔ2mix (λ_Q = λ_R)")?;
        let dm = m_inf - m0;
        let k3 = if k1p == 0.0 && k1m == 0.0 && dm == 0.0 {
            0.0
        } else {
            (cp * k1p + cm * k1m + dm * (2.0 * m_inf * (eta * dmix - 2.0) + a))
                / nz(dmix - eta * d2mix - v, "Δmix − ηΔ2mix − v (λ_Q = λ_M)")?
        };
        let k4 = if dm == 0.0 {
            0.0
        } else {
            (eta * dmix - 2.0) * dm * dm / nz(eta * d2mix + 2.0 * v, "ηΔ2mix + 2v (λ_Q = 2λ_M)")?
        };
        Ok(ClosedForm {
            rates: [
                1.0 / model.tau_m(),
                1.0 / model.tau_r(),
                1.0 / model.tau_q(),
            ],
            init,
            fixed_point: OrderParams {
                m: m_inf,
                r_plus: rp_inf,
                r_minus: rm_inf,
                q: q_inf,
                b: 0.0,
            },
            k1: [k1p, k1m],
            k: [k2, k3, k4],
        })
    }

    /// The order parameters at time `t`.
    #[must_use]
    pub fn at(&self, t: f64) -> OrderParams {
        let [lm, lr, lq] = self.rates;
        let (em, er, eq, em2) = (
            (-lm * t).exp(),
            (-lr * t).exp(),
            (-lq * t).exp(),
            (-2.0 * lm * t).exp(),
        );
        let (i, f) = (self.init, self.fixed_point);
        let [k2, k3, k4] = self.k;
        OrderParams {
            m: i.m * em + f.m * (1.0 - em),
            r_plus: i.r_plus * er + f.r_plus * (1.0 - er) + self.k1[0] * (er - em),
            r_minus: i.r_minus * er + f.r_minus * (1.0 - er) + self.k1[1] * (er - em),
            q: i.q * eq + f.q * (1.0 - eq) + k2 * (eq - er) + k3 * (eq - em) + k4 * (eq - em2),
            b: 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TeacherMixtureConfig;
    use gdlab_core::assert_close;

    fn grid(t_end: f64, dt: f64) -> Vec<f64> {
        let n = (t_end / dt).round() as usize;
        (0..=n).map(|i| i as f64 * dt).collect()
    }

    #[test]
    fn general_drift_equals_paper_equations() {
        for cfg in [
            TeacherMixtureConfig::config_a(),
            TeacherMixtureConfig::paper_fig7(),
            TeacherMixtureConfig::paper_fig4(),
            TeacherMixtureConfig::paper_fig2(),
        ] {
            let m = cfg.build().unwrap();
            for s in [
                OrderParams::initial(1e-4),
                OrderParams {
                    m: 0.3,
                    r_plus: -0.2,
                    r_minus: 0.7,
                    q: 1.3,
                    b: 0.0,
                },
            ] {
                let (a, b) = (drift(&m, &s).to_array(), paper_drift(&m, &s).to_array());
                assert_close!(a.to_vec(), b.to_vec(), rel = 1e-12, abs = 1e-14);
            }
        }
    }

    /// Spec §3 configuration A reference values (ODE, [re-checked] in the spec).
    #[test]
    fn config_a_reference_values() {
        let m = TeacherMixtureConfig::config_a().build().unwrap();
        let ts = [1.0, 2.0, 5.0, 10.0, 20.0, 100.0];
        let tr = solve(&m, OrderParams::initial(1e-4), &ts, Integrator::default()).unwrap();
        let (ep, em) = tr.losses(&m);
        let want_p = [0.8792, 0.7851, 0.6090, 0.4913, 0.4388, 0.4296];
        let want_m = [0.7991, 0.6633, 0.4878, 0.4893, 0.5872, 0.6283];
        // the spec prints 4 decimals
        assert_close!(ep, want_p.to_vec(), abs = 6e-5);
        assert_close!(em, want_m.to_vec(), abs = 6e-5);
        assert_close!(tr.r_plus[5], 0.598413, abs = 1e-6);
        assert_close!(tr.q[5], 0.3845, abs = 1e-4);
        // crossing at t* = 10.08 (spec §3)
        let fine = grid(100.0, 0.01);
        let tr = solve(&m, OrderParams::initial(1e-4), &fine, Integrator::default()).unwrap();
        let (ep, em) = tr.losses(&m);
        let gap: Vec<f64> = ep.iter().zip(&em).map(|(a, b)| a - b).collect();
        let x = sign_changes(&tr.t, &gap, 0.5);
        assert_eq!(x.len(), 1);
        assert_close!(x[0], 10.08, abs = 0.01);
        // the trivial sign change just after t = 0 (spec §7)
        let early = sign_changes(&tr.t, &gap, 0.0);
        assert_eq!(early.len(), 2);
        assert!(early[0] < 0.01);
    }

    /// ODE fixed point vs the closed-form R_∞ (spec §2.5: same teacher, v = 0:
    /// R_∞ = √(2/π)⟨√Δ⟩/Δmix; Q_∞ (finite η) = 0.384548 for configuration A).
    #[test]
    fn fixed_point_matches_closed_form() {
        let m = TeacherMixtureConfig::config_a().build().unwrap();
        let r_inf = (2.0 / std::f64::consts::PI).sqrt() * (0.8 * 1.0 + 0.2 * 2.0) / 1.6;
        let tr = solve(
            &m,
            OrderParams::initial(1e-4),
            &[400.0],
            Integrator::default(),
        )
        .unwrap();
        assert_close!(tr.r_plus[0], r_inf, rel = 1e-9);
        assert_close!(tr.r_minus[0], r_inf, rel = 1e-9);
        let d = drift(&m, &tr.at(0)).to_array();
        assert!(d.iter().all(|x| x.abs() < 1e-9), "{d:?}");
        let cf = ClosedForm::new(&m, OrderParams::initial(1e-4)).unwrap();
        assert_close!(cf.fixed_point.r_plus, r_inf, rel = 1e-14);
        assert_close!(cf.fixed_point.q, tr.q[0], rel = 1e-9);
        assert_close!(cf.fixed_point.q, 0.384548, abs = 1e-6);
        // Fig. 7 config fixed point (spec §3): R_±∞ = 1.23382 / 1.21872, Q∞ = 1.6157
        let f7 = TeacherMixtureConfig::paper_fig7().build().unwrap();
        let cf = ClosedForm::new(&f7, OrderParams::initial(1e-4)).unwrap();
        assert_close!(cf.fixed_point.r_plus, 1.23382, abs = 1e-5);
        assert_close!(cf.fixed_point.r_minus, 1.21872, abs = 1e-5);
        assert_close!(cf.fixed_point.q, 1.6157, abs = 1e-4);
        // Fig. 4 config (spec §3): M∞ = 0.22689, R_±∞ = 1.48511/1.46866, Q∞ = 2.30601
        let f4 = TeacherMixtureConfig::paper_fig4().build().unwrap();
        let cf = ClosedForm::new(&f4, OrderParams::initial(1e-4)).unwrap();
        assert_close!(cf.fixed_point.m, 0.22689, abs = 1e-4);
        assert_close!(cf.fixed_point.r_plus, 1.48511, abs = 1e-4);
        assert_close!(cf.fixed_point.r_minus, 1.46866, abs = 1e-4);
        assert_close!(cf.fixed_point.q, 2.30601, abs = 1e-4);
    }

    /// Closed form vs the integrators (spec §5 checks 1 and 10).
    #[test]
    fn closed_form_matches_rk4_and_dopri() {
        for (cfg, t_end, tol) in [
            (TeacherMixtureConfig::config_a(), 100.0, 1e-8),
            (TeacherMixtureConfig::paper_fig7(), 300.0, 1e-8),
            (TeacherMixtureConfig::paper_fig4(), 1000.0, 1e-6),
            (TeacherMixtureConfig::paper_fig2(), 100.0, 1e-7),
        ] {
            let m = cfg.build().unwrap();
            let init = OrderParams::initial(1e-4);
            let cf = ClosedForm::new(&m, init).unwrap();
            let ts = grid(t_end, t_end / 200.0);
            let dp = solve(&m, init, &ts, Integrator::default()).unwrap();
            for (i, &t) in ts.iter().enumerate() {
                let (a, b) = (cf.at(t).to_array(), dp.at(i).to_array());
                assert_close!(a.to_vec(), b.to_vec(), abs = tol);
            }
        }
        let m = TeacherMixtureConfig::config_a().build().unwrap();
        let init = OrderParams::initial(1e-4);
        let cf = ClosedForm::new(&m, init).unwrap();
        let ts = grid(100.0, 0.5);
        let rk = solve(&m, init, &ts, Integrator::Rk4 { dt: 0.01 }).unwrap();
        for (i, &t) in ts.iter().enumerate() {
            assert_close!(
                cf.at(t).to_array().to_vec(),
                rk.at(i).to_array().to_vec(),
                abs = 1e-9
            );
        }
    }

    #[test]
    fn divergence_above_the_critical_rate() {
        let m = TeacherMixtureConfig::config_a().build().unwrap();
        let ts = grid(200.0, 1.0);
        let below = solve(
            &m.with_learning_rate(0.79).unwrap(),
            OrderParams::initial(1e-4),
            &ts,
            Integrator::default(),
        )
        .unwrap();
        assert!(below.diverged_at.is_none() && *below.q.last().unwrap() < 100.0);
        let above = solve(
            &m.with_learning_rate(0.81).unwrap(),
            OrderParams::initial(1e-4),
            &ts,
            Integrator::default(),
        )
        .unwrap();
        assert!(*above.q.last().unwrap() > *below.q.last().unwrap() * 2.0);
        let far = solve(
            &m.with_learning_rate(3.0).unwrap(),
            OrderParams::initial(1e-4),
            &ts,
            Integrator::default(),
        )
        .unwrap();
        assert!(far.diverged_at.is_some());
    }

    /// The bias ODE at b ≠ 0 against a finite-difference derivative of the loss: the
    /// loss-rate helper is the chain rule of the drift.
    #[test]
    fn loss_rates_match_finite_differences() {
        let m = TeacherMixtureConfig::config_b().build().unwrap();
        let s = OrderParams {
            m: 0.1,
            r_plus: 0.3,
            r_minus: 0.2,
            q: 0.25,
            b: 0.15,
        };
        let rates = loss_rates(&m, &s);
        let h = 1e-6;
        let f = drift(&m, &s);
        let step = |sign: f64| OrderParams {
            m: s.m + sign * h * f.m,
            r_plus: s.r_plus + sign * h * f.r_plus,
            r_minus: s.r_minus + sign * h * f.r_minus,
            q: s.q + sign * h * f.q,
            b: s.b + sign * h * f.b,
        };
        let (lp, lm) = (group_losses(&m, &step(1.0)), group_losses(&m, &step(-1.0)));
        for k in 0..2 {
            assert_close!(rates[k], (lp[k] - lm[k]) / (2.0 * h), rel = 1e-7);
        }
    }

    #[test]
    fn closed_form_refuses_extensions() {
        let m = TeacherMixtureConfig::config_b().build().unwrap();
        assert!(ClosedForm::new(&m, OrderParams::initial(0.01)).is_err());
    }
}
