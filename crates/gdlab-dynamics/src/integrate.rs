//! ODE integrators: adaptive Dormand–Prince 5(4) with PI step control, and fixed-step
//! classical RK4.
//!
//! Both integrate `dy/dt = f(t, y)` given by an [`OdeSystem`], return the state at the
//! requested output times (hit exactly: the last step before an output is shortened, never
//! interpolated), and call an observer after every accepted step, which may stop the run
//! (e.g. on divergence).
//!
//! No maintained crate fitted the 2-core build budget: `ode_solvers` pulls `nalgebra` and
//! `diffsol` pulls `nalgebra` + `faer` solvers with many features; the spec (§2.3) notes
//! that a 4-state system needs nothing more than these two hand-written methods. Both are
//! tested against closed-form solutions (exponential decay, harmonic oscillator, logistic
//! growth) below.
//!
//! # References
//! - J. R. Dormand, P. J. Prince, "A family of embedded Runge–Kutta formulae", J. Comp.
//!   Appl. Math. 6 (1980) — the tableau.
//! - E. Hairer, S. P. Nørsett, G. Wanner, *Solving Ordinary Differential Equations I*,
//!   2nd ed., §II.4 (error norm, initial step) and §IV.2 / code `DOPRI5` (PI controller with
//!   β = 0.04, safety 0.9, step ratio in [0.2, 10]).

use std::ops::ControlFlow;

use crate::error::{DynamicsError, Result};
use gdlab_core::ConfigError;

/// A system of ordinary differential equations `dy/dt = f(t, y)`.
pub trait OdeSystem {
    /// Number of state variables.
    fn dim(&self) -> usize;
    /// Writes `f(t, y)` into `dydt` (both of length [`OdeSystem::dim`]).
    fn rhs(&self, t: f64, y: &[f64], dydt: &mut [f64]);
}

/// An [`OdeSystem`] from a closure and a dimension.
///
/// # Examples
/// ```
/// use gdlab_dynamics::integrate::{FnSystem, OdeSystem};
/// let decay = FnSystem::new(1, |_t: f64, y: &[f64], dy: &mut [f64]| dy[0] = -y[0]);
/// let mut dy = [0.0];
/// decay.rhs(0.0, &[2.0], &mut dy);
/// assert_eq!(dy[0], -2.0);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct FnSystem<F> {
    dim: usize,
    f: F,
}

impl<F: Fn(f64, &[f64], &mut [f64])> FnSystem<F> {
    /// The system `dy/dt = f(t, y)` with `dim` states.
    pub fn new(dim: usize, f: F) -> Self {
        FnSystem { dim, f }
    }
}

impl<F: Fn(f64, &[f64], &mut [f64])> OdeSystem for FnSystem<F> {
    fn dim(&self) -> usize {
        self.dim
    }
    fn rhs(&self, t: f64, y: &[f64], dydt: &mut [f64]) {
        (self.f)(t, y, dydt);
    }
}

/// The states at the requested output times, and how the run went.
#[derive(Clone, Debug, PartialEq)]
pub struct Solution {
    /// The output times that were reached (a prefix of those requested when the observer
    /// stopped the run).
    pub times: Vec<f64>,
    /// `states[i]` is the state at `times[i]`.
    pub states: Vec<Vec<f64>>,
    /// Accepted steps.
    pub n_accepted: usize,
    /// Rejected steps (always 0 for RK4).
    pub n_rejected: usize,
    /// Right-hand-side evaluations.
    pub n_evals: usize,
    /// True when the observer returned [`ControlFlow::Break`] before the last output time.
    pub stopped_early: bool,
}

fn check_inputs(t0: f64, y0: &[f64], dim: usize, outputs: &[f64]) -> Result<()> {
    if y0.len() != dim {
        return Err(ConfigError::Dim {
            op: "initial state",
            expected: dim,
            got: y0.len(),
        }
        .into());
    }
    if !t0.is_finite() || y0.iter().any(|v| !v.is_finite()) {
        return Err(ConfigError::Invalid {
            field: "initial state".into(),
            reason: "t0 and every initial value must be finite".into(),
        }
        .into());
    }
    let mut prev = t0;
    for &t in outputs {
        if !t.is_finite() || t < prev {
            return Err(ConfigError::Invalid {
                field: "output times".into(),
                reason: format!(
                    "must be finite, ≥ t0 = {t0} and non-decreasing; got {t} after {prev}"
                ),
            }
            .into());
        }
        prev = t;
    }
    Ok(())
}

/// Fixed-step classical Runge–Kutta (RK4).
///
/// Between consecutive output times the interval is split into `ceil(Δt / dt)` equal steps,
/// so every output time is hit exactly and no step is longer than `dt`.
///
/// $$ y_{n+1} = y_n + \tfrac{h}{6}(k_1 + 2k_2 + 2k_3 + k_4) $$
///
/// # Examples
/// ```
/// use gdlab_dynamics::integrate::{FnSystem, Rk4};
/// let decay = FnSystem::new(1, |_t: f64, y: &[f64], dy: &mut [f64]| dy[0] = -y[0]);
/// let sol = Rk4::new(0.01).unwrap().solve(&decay, 0.0, &[1.0], &[1.0], |_, _| std::ops::ControlFlow::Continue(())).unwrap();
/// assert!((sol.states[0][0] - (-1.0f64).exp()).abs() < 1e-9);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rk4 {
    dt: f64,
}

impl Rk4 {
    /// RK4 with largest step `dt`.
    ///
    /// # Errors
    /// [`ConfigError::OutOfRange`] unless `dt` is finite and > 0.
    pub fn new(dt: f64) -> Result<Self> {
        ConfigError::check_positive("dt", dt)?;
        Ok(Rk4 { dt })
    }

    /// The largest step.
    #[must_use]
    pub fn dt(&self) -> f64 {
        self.dt
    }

    /// Integrates from `(t0, y0)` through the sorted `outputs`, calling `on_step(t, y)`
    /// after every step.
    ///
    /// # Errors
    /// [`DynamicsError::Config`] if `y0` has the wrong length, a value is not finite, or
    /// `outputs` is not sorted and ≥ `t0`.
    pub fn solve<S: OdeSystem + ?Sized>(
        &self,
        sys: &S,
        t0: f64,
        y0: &[f64],
        outputs: &[f64],
        mut on_step: impl FnMut(f64, &[f64]) -> ControlFlow<()>,
    ) -> Result<Solution> {
        let n = sys.dim();
        check_inputs(t0, y0, n, outputs)?;
        let mut sol = Solution {
            times: Vec::with_capacity(outputs.len()),
            states: Vec::with_capacity(outputs.len()),
            n_accepted: 0,
            n_rejected: 0,
            n_evals: 0,
            stopped_early: false,
        };
        let mut y = y0.to_vec();
        let mut t = t0;
        let mut k = [vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n]];
        let mut tmp = vec![0.0; n];
        for &t_out in outputs {
            let span = t_out - t;
            let steps = if span > 0.0 {
                ((span / self.dt) * (1.0 - 1e-12)).ceil().max(1.0) as usize
            } else {
                0
            };
            let t_start = t;
            for i in 0..steps {
                let h = if i + 1 == steps {
                    t_out - t
                } else {
                    span / steps as f64
                };
                rk4_step(sys, t, &mut y, h, &mut k, &mut tmp);
                sol.n_evals += 4;
                sol.n_accepted += 1;
                t = if i + 1 == steps {
                    t_out
                } else {
                    t_start + span * (i + 1) as f64 / steps as f64
                };
                if on_step(t, &y).is_break() {
                    sol.stopped_early = true;
                    if i + 1 == steps {
                        sol.times.push(t_out);
                        sol.states.push(y.clone());
                    }
                    return Ok(sol);
                }
            }
            sol.times.push(t_out);
            sol.states.push(y.clone());
        }
        Ok(sol)
    }
}

/// One RK4 step of size `h` from `(t, y)`, in place.
fn rk4_step<S: OdeSystem + ?Sized>(
    sys: &S,
    t: f64,
    y: &mut [f64],
    h: f64,
    k: &mut [Vec<f64>; 4],
    tmp: &mut [f64],
) {
    let [k1, k2, k3, k4] = k;
    sys.rhs(t, y, k1);
    for i in 0..y.len() {
        tmp[i] = y[i] + 0.5 * h * k1[i];
    }
    sys.rhs(t + 0.5 * h, tmp, k2);
    for i in 0..y.len() {
        tmp[i] = y[i] + 0.5 * h * k2[i];
    }
    sys.rhs(t + 0.5 * h, tmp, k3);
    for i in 0..y.len() {
        tmp[i] = y[i] + h * k3[i];
    }
    sys.rhs(t + h, tmp, k4);
    for i in 0..y.len() {
        y[i] += h / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]);
    }
}

// Dormand–Prince 5(4) tableau (Dormand & Prince 1980; Hairer–Nørsett–Wanner Table II.5.2).
const C2: f64 = 1.0 / 5.0;
const C3: f64 = 3.0 / 10.0;
const C4: f64 = 4.0 / 5.0;
const C5: f64 = 8.0 / 9.0;
const A21: f64 = 1.0 / 5.0;
const A31: f64 = 3.0 / 40.0;
const A32: f64 = 9.0 / 40.0;
const A41: f64 = 44.0 / 45.0;
const A42: f64 = -56.0 / 15.0;
const A43: f64 = 32.0 / 9.0;
const A51: f64 = 19372.0 / 6561.0;
const A52: f64 = -25360.0 / 2187.0;
const A53: f64 = 64448.0 / 6561.0;
const A54: f64 = -212.0 / 729.0;
const A61: f64 = 9017.0 / 3168.0;
const A62: f64 = -355.0 / 33.0;
const A63: f64 = 46732.0 / 5247.0;
const A64: f64 = 49.0 / 176.0;
const A65: f64 = -5103.0 / 18656.0;
// 5th-order weights (= the 7th stage row; FSAL).
const B1: f64 = 35.0 / 384.0;
const B3: f64 = 500.0 / 1113.0;
const B4: f64 = 125.0 / 192.0;
const B5: f64 = -2187.0 / 6784.0;
const B6: f64 = 11.0 / 84.0;
// Error weights: b(5th) − b(4th).
const E1: f64 = 71.0 / 57600.0;
const E3: f64 = -71.0 / 16695.0;
const E4: f64 = 71.0 / 1920.0;
const E5: f64 = -17253.0 / 339200.0;
const E6: f64 = 22.0 / 525.0;
const E7: f64 = -1.0 / 40.0;

/// Adaptive Dormand–Prince 5(4) (`DOPRI5`) with a PI step-size controller.
///
/// The local error estimate is `ŷ₅ − ŷ₄` from the embedded pair; a step is accepted when
/// `err = √(mean_i (e_i / (atol + rtol·max(|y_i|, |y_new,i|)))²) ≤ 1`. The next step is
/// `h·clamp(0.9·err^{−(0.2−0.75β)}·err_prev^{β}, 0.2, 10)` with `β = 0.04` (Hairer's
/// `DOPRI5` defaults). The solution advances with the 5th-order weights (local
/// extrapolation) and reuses the last stage as the next first stage (FSAL).
///
/// # Examples
/// ```
/// use gdlab_dynamics::integrate::{DormandPrince, FnSystem};
/// use std::ops::ControlFlow;
/// // logistic growth y' = y(1 − y), y(0) = 0.1: y(t) = 1 / (1 + 9 e^{−t})
/// let logistic = FnSystem::new(1, |_t: f64, y: &[f64], dy: &mut [f64]| dy[0] = y[0] * (1.0 - y[0]));
/// let sol = DormandPrince::default()
///     .solve(&logistic, 0.0, &[0.1], &[5.0], |_, _| ControlFlow::Continue(()))
///     .unwrap();
/// let exact = 1.0 / (1.0 + 9.0 * (-5.0f64).exp());
/// assert!((sol.states[0][0] - exact).abs() < 1e-8);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DormandPrince {
    /// Relative tolerance (> 0).
    pub rtol: f64,
    /// Absolute tolerance (> 0).
    pub atol: f64,
    /// Largest step allowed (> 0; `f64::INFINITY` for none). Bounding it keeps the
    /// observer's sampling of the trajectory dense enough (e.g. to see sign changes).
    pub h_max: f64,
    /// Accepted + rejected step budget.
    pub max_steps: usize,
}

impl Default for DormandPrince {
    /// `rtol = atol = 1e-10`, no step bound, 10⁶ steps.
    fn default() -> Self {
        DormandPrince {
            rtol: 1e-10,
            atol: 1e-10,
            h_max: f64::INFINITY,
            max_steps: 1_000_000,
        }
    }
}

impl DormandPrince {
    /// Checks the tolerances and bounds.
    ///
    /// # Errors
    /// [`ConfigError::OutOfRange`] naming the field.
    pub fn validate(&self) -> Result<()> {
        ConfigError::check_positive("rtol", self.rtol)?;
        ConfigError::check_positive("atol", self.atol)?;
        if self.h_max.is_nan() || self.h_max <= 0.0 {
            return Err(ConfigError::OutOfRange {
                field: "h_max",
                value: self.h_max,
                allowed: "(0, ∞]",
            }
            .into());
        }
        if self.max_steps == 0 {
            return Err(ConfigError::OutOfRangeInt {
                field: "max_steps",
                value: 0,
                allowed: "[1, ∞)",
            }
            .into());
        }
        Ok(())
    }

    fn err_norm(&self, e: &[f64], y: &[f64], y_new: &[f64]) -> f64 {
        let mut s = 0.0;
        for i in 0..e.len() {
            let sc = self.atol + self.rtol * y[i].abs().max(y_new[i].abs());
            s += (e[i] / sc).powi(2);
        }
        (s / e.len().max(1) as f64).sqrt()
    }

    /// Hairer's starting step (§II.4): balance `‖y₀‖/‖f₀‖` and a second-derivative guess.
    fn initial_step<S: OdeSystem + ?Sized>(&self, sys: &S, t0: f64, y0: &[f64], f0: &[f64]) -> f64 {
        let n = y0.len();
        let sc: Vec<f64> = y0.iter().map(|v| self.atol + self.rtol * v.abs()).collect();
        let norm = |v: &[f64]| {
            (v.iter().zip(&sc).map(|(a, s)| (a / s).powi(2)).sum::<f64>() / n.max(1) as f64).sqrt()
        };
        let (d0, d1) = (norm(y0), norm(f0));
        let h0 = if d0 < 1e-5 || d1 < 1e-5 {
            1e-6
        } else {
            0.01 * d0 / d1
        }
        .min(self.h_max);
        let y1: Vec<f64> = y0.iter().zip(f0).map(|(y, f)| y + h0 * f).collect();
        let mut f1 = vec![0.0; n];
        sys.rhs(t0 + h0, &y1, &mut f1);
        let diff: Vec<f64> = f1.iter().zip(f0).map(|(a, b)| a - b).collect();
        let d2 = norm(&diff) / h0;
        let h1 = if d1.max(d2) <= 1e-15 {
            (h0 * 1e-3).max(1e-6)
        } else {
            (0.01 / d1.max(d2)).powf(0.2)
        };
        (100.0 * h0).min(h1).min(self.h_max)
    }

    /// Integrates from `(t0, y0)` through the sorted `outputs`, calling `on_step(t, y)`
    /// after every accepted step (output times included).
    ///
    /// # Errors
    /// - [`DynamicsError::Config`] for bad tolerances, a wrong `y0` length, non-finite
    ///   values or unsorted outputs;
    /// - [`DynamicsError::StepUnderflow`] when the step falls below `1e-14·max(1, |t|)`
    ///   (a non-finite right-hand side ends here too);
    /// - [`DynamicsError::TooManySteps`] past `max_steps`.
    pub fn solve<S: OdeSystem + ?Sized>(
        &self,
        sys: &S,
        t0: f64,
        y0: &[f64],
        outputs: &[f64],
        mut on_step: impl FnMut(f64, &[f64]) -> ControlFlow<()>,
    ) -> Result<Solution> {
        self.validate()?;
        let n = sys.dim();
        check_inputs(t0, y0, n, outputs)?;
        let mut sol = Solution {
            times: Vec::with_capacity(outputs.len()),
            states: Vec::with_capacity(outputs.len()),
            n_accepted: 0,
            n_rejected: 0,
            n_evals: 0,
            stopped_early: false,
        };
        let Some(&t_end) = outputs.last() else {
            return Ok(sol);
        };
        let mut y = y0.to_vec();
        let mut t = t0;
        let mut k1 = vec![0.0; n];
        sys.rhs(t, &y, &mut k1);
        sol.n_evals += 1;
        let mut k = [
            vec![0.0; n],
            vec![0.0; n],
            vec![0.0; n],
            vec![0.0; n],
            vec![0.0; n],
            vec![0.0; n],
        ];
        let (mut tmp, mut y_new, mut e) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        let mut h = if t_end > t0 {
            let h = self.initial_step(sys, t0, &y, &k1);
            sol.n_evals += 1;
            h
        } else {
            0.0
        };
        let mut err_prev: f64 = 1e-4;
        const BETA: f64 = 0.04;
        const EXPO: f64 = 0.2 - BETA * 0.75;
        const SAFE: f64 = 0.9;
        let mut next_out = 0;
        // Outputs equal to t0.
        while next_out < outputs.len() && outputs[next_out] <= t {
            sol.times.push(outputs[next_out]);
            sol.states.push(y.clone());
            next_out += 1;
        }
        while next_out < outputs.len() {
            if sol.n_accepted + sol.n_rejected >= self.max_steps {
                return Err(DynamicsError::TooManySteps {
                    max_steps: self.max_steps,
                    t_end,
                });
            }
            let t_out = outputs[next_out];
            let floor = 1e-14 * t.abs().max(1.0);
            if h.is_nan() || h < floor {
                return Err(DynamicsError::StepUnderflow { t, h });
            }
            let h_try = h.min(self.h_max);
            let (h_step, lands) = if t + h_try >= t_out || t_out - (t + h_try) < floor {
                (t_out - t, true)
            } else {
                (h_try, false)
            };
            let [k2, k3, k4, k5, k6, k7] = &mut k;
            for i in 0..n {
                tmp[i] = y[i] + h_step * A21 * k1[i];
            }
            sys.rhs(t + C2 * h_step, &tmp, k2);
            for i in 0..n {
                tmp[i] = y[i] + h_step * (A31 * k1[i] + A32 * k2[i]);
            }
            sys.rhs(t + C3 * h_step, &tmp, k3);
            for i in 0..n {
                tmp[i] = y[i] + h_step * (A41 * k1[i] + A42 * k2[i] + A43 * k3[i]);
            }
            sys.rhs(t + C4 * h_step, &tmp, k4);
            for i in 0..n {
                tmp[i] = y[i] + h_step * (A51 * k1[i] + A52 * k2[i] + A53 * k3[i] + A54 * k4[i]);
            }
            sys.rhs(t + C5 * h_step, &tmp, k5);
            for i in 0..n {
                tmp[i] = y[i]
                    + h_step
                        * (A61 * k1[i] + A62 * k2[i] + A63 * k3[i] + A64 * k4[i] + A65 * k5[i]);
            }
            sys.rhs(t + h_step, &tmp, k6);
            for i in 0..n {
                y_new[i] = y[i]
                    + h_step * (B1 * k1[i] + B3 * k3[i] + B4 * k4[i] + B5 * k5[i] + B6 * k6[i]);
            }
            sys.rhs(t + h_step, &y_new, k7);
            sol.n_evals += 6;
            for i in 0..n {
                e[i] = h_step
                    * (E1 * k1[i] + E3 * k3[i] + E4 * k4[i] + E5 * k5[i] + E6 * k6[i] + E7 * k7[i]);
            }
            let err = self.err_norm(&e, &y, &y_new);
            if err.is_finite() && err <= 1.0 {
                sol.n_accepted += 1;
                let fac11 = err.max(1e-300).powf(EXPO);
                let fac = (fac11 / err_prev.powf(BETA) / SAFE).clamp(0.1, 5.0);
                err_prev = err.max(1e-4);
                // Keep the controller's proposal, not the shortened step, after an output.
                let h_prop = h_step / fac;
                h = if lands { h_prop.max(h) } else { h_prop };
                t = if lands { t_out } else { t + h_step };
                std::mem::swap(&mut y, &mut y_new);
                std::mem::swap(&mut k1, k7);
                while next_out < outputs.len() && outputs[next_out] <= t {
                    sol.times.push(outputs[next_out]);
                    sol.states.push(y.clone());
                    next_out += 1;
                }
                if on_step(t, &y).is_break() {
                    sol.stopped_early = next_out < outputs.len();
                    return Ok(sol);
                }
            } else {
                sol.n_rejected += 1;
                let shrink = if err.is_finite() {
                    (err.powf(EXPO) / SAFE).min(5.0)
                } else {
                    10.0
                };
                h = h_step / shrink;
            }
        }
        Ok(sol)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gdlab_core::assert_close;

    fn go() -> impl FnMut(f64, &[f64]) -> ControlFlow<()> {
        |_, _| ControlFlow::Continue(())
    }

    fn grid(t_end: f64, n: usize) -> Vec<f64> {
        (1..=n).map(|i| t_end * i as f64 / n as f64).collect()
    }

    /// y' = −λy: y(t) = y₀ e^{−λt}.
    #[test]
    fn exponential_decay() {
        let sys = FnSystem::new(1, |_t: f64, y: &[f64], dy: &mut [f64]| dy[0] = -0.7 * y[0]);
        let ts = grid(10.0, 20);
        let exact: Vec<f64> = ts.iter().map(|t| 3.0 * (-0.7 * t).exp()).collect();
        let dp = DormandPrince::default()
            .solve(&sys, 0.0, &[3.0], &ts, go())
            .unwrap();
        let got: Vec<f64> = dp.states.iter().map(|s| s[0]).collect();
        assert_close!(got, exact, rel = 1e-8);
        assert_eq!(dp.times, ts);
        let rk = Rk4::new(0.01)
            .unwrap()
            .solve(&sys, 0.0, &[3.0], &ts, go())
            .unwrap();
        let got: Vec<f64> = rk.states.iter().map(|s| s[0]).collect();
        // RK4 global error ≈ C·h⁴: (λh)⁴/120 per unit time ≈ 2e-12 relative here.
        assert_close!(got, exact, rel = 1e-9);
    }

    /// x'' = −ω²x: x = cos ωt, v = −ω sin ωt; energy conserved.
    #[test]
    fn harmonic_oscillator() {
        let w = 2.0;
        let sys = FnSystem::new(2, move |_t: f64, y: &[f64], dy: &mut [f64]| {
            dy[0] = y[1];
            dy[1] = -w * w * y[0];
        });
        let ts = grid(20.0, 200);
        let dp = DormandPrince::default()
            .solve(&sys, 0.0, &[1.0, 0.0], &ts, go())
            .unwrap();
        for (t, s) in dp.times.iter().zip(&dp.states) {
            assert_close!(s[0], (w * t).cos(), abs = 1e-8);
            assert_close!(s[1], -w * (w * t).sin(), abs = 2e-8);
        }
        let rk = Rk4::new(1e-3)
            .unwrap()
            .solve(&sys, 0.0, &[1.0, 0.0], &ts, go())
            .unwrap();
        for (t, s) in rk.times.iter().zip(&rk.states) {
            assert_close!(s[0], (w * t).cos(), abs = 1e-9);
        }
    }

    /// Convergence order: halving the step divides RK4's error by ≈ 16.
    #[test]
    fn rk4_is_fourth_order() {
        let sys = FnSystem::new(1, |_t: f64, y: &[f64], dy: &mut [f64]| {
            dy[0] = y[0] * (1.0 - y[0])
        });
        let exact = 1.0 / (1.0 + 9.0 * (-4.0f64).exp());
        let err = |dt: f64| {
            let s = Rk4::new(dt)
                .unwrap()
                .solve(&sys, 0.0, &[0.1], &[4.0], go())
                .unwrap();
            (s.states[0][0] - exact).abs()
        };
        let ratio = err(0.2) / err(0.1);
        assert!((12.0..20.0).contains(&ratio), "ratio {ratio}");
    }

    /// Logistic growth, time-dependent right-hand side (y' = t·y: y = e^{t²/2}) and the
    /// tolerance actually controlling the error.
    #[test]
    fn logistic_and_tolerance() {
        let sys = FnSystem::new(1, |_t: f64, y: &[f64], dy: &mut [f64]| {
            dy[0] = y[0] * (1.0 - y[0])
        });
        let ts = grid(15.0, 30);
        for tol in [1e-6, 1e-9, 1e-12] {
            let dp = DormandPrince {
                rtol: tol,
                atol: tol,
                ..DormandPrince::default()
            };
            let s = dp.solve(&sys, 0.0, &[0.1], &ts, go()).unwrap();
            let worst = s
                .times
                .iter()
                .zip(&s.states)
                .map(|(t, y)| (y[0] - 1.0 / (1.0 + 9.0 * (-t).exp())).abs())
                .fold(0.0, f64::max);
            assert!(worst < 100.0 * tol, "tol {tol}: error {worst}");
        }
        let tdep = FnSystem::new(1, |t: f64, y: &[f64], dy: &mut [f64]| dy[0] = t * y[0]);
        let s = DormandPrince::default()
            .solve(&tdep, 0.0, &[1.0], &[1.0, 2.0, 3.0], go())
            .unwrap();
        for (t, y) in s.times.iter().zip(&s.states) {
            assert_close!(y[0], (t * t / 2.0).exp(), rel = 1e-8);
        }
    }

    #[test]
    fn observer_stops_and_bad_input_is_an_error() {
        let sys = FnSystem::new(1, |_t: f64, y: &[f64], dy: &mut [f64]| dy[0] = y[0]);
        let s = DormandPrince::default()
            .solve(&sys, 0.0, &[1.0], &[1.0, 50.0], |_, y| {
                if y[0] > 1e6 {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            })
            .unwrap();
        assert!(s.stopped_early);
        assert_eq!(s.times, vec![1.0]);
        let dp = DormandPrince::default();
        assert!(dp.solve(&sys, 0.0, &[1.0, 2.0], &[1.0], go()).is_err());
        assert!(dp.solve(&sys, 0.0, &[1.0], &[2.0, 1.0], go()).is_err());
        assert!(dp.solve(&sys, 0.0, &[f64::NAN], &[1.0], go()).is_err());
        assert!(Rk4::new(0.0).is_err());
        let bad = DormandPrince {
            rtol: -1.0,
            ..DormandPrince::default()
        };
        assert!(bad.solve(&sys, 0.0, &[1.0], &[1.0], go()).is_err());
        // A right-hand side that blows up in finite time (y' = y², y(0) = 1: t* = 1).
        let blow = FnSystem::new(1, |_t: f64, y: &[f64], dy: &mut [f64]| dy[0] = y[0] * y[0]);
        assert!(DormandPrince::default()
            .solve(&blow, 0.0, &[1.0], &[2.0], go())
            .is_err());
    }

    #[test]
    fn h_max_bounds_every_step() {
        let sys = FnSystem::new(1, |_t: f64, y: &[f64], dy: &mut [f64]| dy[0] = -y[0]);
        let mut last = 0.0;
        let mut biggest = 0.0_f64;
        let dp = DormandPrince {
            h_max: 0.5,
            ..DormandPrince::default()
        };
        dp.solve(&sys, 0.0, &[1.0], &[30.0], |t, _| {
            biggest = biggest.max(t - last);
            last = t;
            ControlFlow::Continue(())
        })
        .unwrap();
        assert!(biggest <= 0.5 + 1e-12);
    }
}
