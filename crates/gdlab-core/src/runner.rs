//! The optimization loop: a [`Runner`] applies a [`Transform`] to parameters, with
//! [`Observer`]s, stop reasons and divergence detection (after argmin).
//!
//! At each step `k = 0, 1, …` the runner evaluates the caller's gradient function at the
//! current parameters, checks that the loss and gradient are finite, informs observers,
//! checks the stopping rules, transforms the gradient into an update, checks that the
//! update is finite and adds it to the parameters. A non-finite number never reaches the
//! parameters: the run stops with [`Stop::Diverged`], which is an *outcome* a study
//! reports, not an error.

use serde::{Deserialize, Serialize};

use crate::error::{CoreError, ObserveError};
use crate::real::{all_finite, l2_norm, Real};
use crate::transform::{apply_update, StepCtx, Transform};

/// Why a run stopped.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Stop {
    /// The step budget was used up.
    MaxSteps,
    /// The loss reached the target.
    TargetLoss {
        /// The loss that met the target.
        loss: f64,
    },
    /// The gradient norm fell below the tolerance.
    Converged {
        /// The gradient norm that met the tolerance.
        grad_norm: f64,
    },
    /// A non-finite (or above-threshold) value appeared; nothing non-finite was applied.
    Diverged {
        /// The step at which it was detected.
        step: u64,
        /// What diverged: `"loss"`, `"gradient"`, `"update"` or `"loss above threshold"`.
        what: String,
    },
}

impl Stop {
    /// True for [`Stop::Diverged`].
    #[must_use]
    pub fn is_diverged(&self) -> bool {
        matches!(self, Stop::Diverged { .. })
    }
}

/// What observers see at each evaluated point.
#[derive(Clone, Copy, Debug)]
pub struct StepRecord<'a, F> {
    /// Number of updates applied so far.
    pub step: u64,
    /// The loss reported by the gradient function at `params`.
    pub loss: f64,
    /// ‖gradient‖₂ at `params` (accumulated in f64).
    pub grad_norm: f64,
    /// The parameters at this point.
    pub params: &'a [F],
}

/// Watches a run. Both hooks default to doing nothing.
pub trait Observer<F> {
    /// Called at every evaluated point (before the update of that step).
    ///
    /// # Errors
    /// An [`ObserveError`] aborts the run with that error.
    fn on_step(&mut self, rec: &StepRecord<'_, F>) -> Result<(), ObserveError> {
        let _ = rec;
        Ok(())
    }
    /// Called once when the run stops.
    ///
    /// # Errors
    /// An [`ObserveError`] is returned by the run.
    fn on_finish(&mut self, stop: &Stop) -> Result<(), ObserveError> {
        let _ = stop;
        Ok(())
    }
}

/// When an observer records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Every {
    /// At every step.
    Always,
    /// At steps that are multiples of `n` (and step 0).
    N(u64),
    /// About `per_decade` log-spaced steps per decade (always steps 0..=per_decade).
    LogSpaced {
        /// Points per decade (≥ 1).
        per_decade: u32,
    },
}

impl Every {
    /// Whether step `step` is recorded.
    #[must_use]
    pub fn hits(&self, step: u64) -> bool {
        match *self {
            Every::Always => true,
            Every::N(n) => n == 0 || step % n == 0,
            Every::LogSpaced { per_decade } => {
                let k = u64::from(per_decade.max(1));
                if step <= k {
                    return true;
                }
                // Record step s when it is the first integer at or above some 10^(j/k).
                let j = ((step as f64).log10() * k as f64).floor();
                let prev = ((step - 1) as f64).log10() * k as f64;
                prev.floor() < j
            }
        }
    }
}

/// The standard observer: loss and gradient norm as columns, plus the last point seen.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Trace {
    /// Recorded step numbers.
    pub steps: Vec<u64>,
    /// Loss at each recorded step.
    pub loss: Vec<f64>,
    /// Gradient norm at each recorded step.
    pub grad_norm: Vec<f64>,
    /// How the run stopped, once it has.
    pub stop: Option<Stop>,
    #[serde(skip)]
    every: Option<Every>,
    #[serde(skip)]
    last: Option<(u64, f64, f64)>,
}

impl Trace {
    /// A trace that records at the steps selected by `every` (and always at the last step).
    #[must_use]
    pub fn new(every: Every) -> Self {
        Trace {
            every: Some(every),
            ..Trace::default()
        }
    }
}

impl<F> Observer<F> for Trace {
    fn on_step(&mut self, rec: &StepRecord<'_, F>) -> Result<(), ObserveError> {
        if self.every.unwrap_or(Every::Always).hits(rec.step) {
            self.steps.push(rec.step);
            self.loss.push(rec.loss);
            self.grad_norm.push(rec.grad_norm);
            self.last = None;
        } else {
            self.last = Some((rec.step, rec.loss, rec.grad_norm));
        }
        Ok(())
    }
    fn on_finish(&mut self, stop: &Stop) -> Result<(), ObserveError> {
        if let Some((s, l, g)) = self.last.take() {
            self.steps.push(s);
            self.loss.push(l);
            self.grad_norm.push(g);
        }
        self.stop = Some(stop.clone());
        Ok(())
    }
}

/// Summary of a finished run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// Why it stopped.
    pub stop: Stop,
    /// Updates applied.
    pub steps: u64,
    /// The last finite loss evaluated (at the final parameters unless the run diverged).
    pub final_loss: Option<f64>,
}

/// Stopping rules and the loop itself.
///
/// # Examples
/// ```
/// use gdlab_core::runner::{Runner, Stop, Trace, Every};
/// use gdlab_core::transform::{Transform, StepCtx};
/// use gdlab_core::error::StepError;
///
/// // Plain gradient descent with step 0.5 as a one-line transform.
/// struct Scale(f64);
/// impl Transform<f64> for Scale {
///     type State = ();
///     fn init(&self, _: &[f64]) {}
///     fn update(&self, u: &mut [f64], _: &mut (), _: &StepCtx<'_, f64>) -> Result<(), StepError> {
///         u.iter_mut().for_each(|x| *x *= -self.0);
///         Ok(())
///     }
/// }
/// let mut x = vec![4.0];
/// let mut trace = Trace::new(Every::Always);
/// // f(x) = x²/2, ∇f = x: each step halves x.
/// let out = Runner::new(3)
///     .run(&Scale(0.5), &mut x, |_, p: &[f64], g: &mut [f64]| { g[0] = p[0]; 0.5 * p[0] * p[0] },
///          &mut [&mut trace])
///     .unwrap();
/// assert_eq!(out.stop, Stop::MaxSteps);
/// assert_eq!(x, vec![0.5]);
/// assert_eq!(trace.loss, vec![8.0, 2.0, 0.5, 0.125]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Runner {
    /// Maximum number of updates.
    pub max_steps: u64,
    /// Stop when the loss is at or below this value.
    pub target_loss: Option<f64>,
    /// Stop when ‖∇f‖₂ is at or below this value.
    pub grad_tol: Option<f64>,
    /// Treat a loss above this value as divergence (e.g. 50 in the heavy-tailed protocol).
    pub divergence_loss: Option<f64>,
}

impl Runner {
    /// A runner with a step budget and no other stopping rule.
    #[must_use]
    pub fn new(max_steps: u64) -> Self {
        Runner {
            max_steps,
            target_loss: None,
            grad_tol: None,
            divergence_loss: None,
        }
    }

    /// Adds a target loss.
    #[must_use]
    pub fn target_loss(mut self, v: f64) -> Self {
        self.target_loss = Some(v);
        self
    }

    /// Adds a gradient-norm tolerance.
    #[must_use]
    pub fn grad_tol(mut self, v: f64) -> Self {
        self.grad_tol = Some(v);
        self
    }

    /// Adds a divergence threshold on the loss.
    #[must_use]
    pub fn divergence_loss(mut self, v: f64) -> Self {
        self.divergence_loss = Some(v);
        self
    }

    /// Runs `transform` from its initial state. See [`Runner::run_with_state`].
    ///
    /// # Errors
    /// As [`Runner::run_with_state`].
    pub fn run<F, T, G>(
        &self,
        transform: &T,
        params: &mut [F],
        grad_fn: G,
        observers: &mut [&mut dyn Observer<F>],
    ) -> Result<RunSummary, CoreError>
    where
        F: Real,
        T: Transform<F>,
        G: FnMut(u64, &[F], &mut [F]) -> f64,
    {
        let mut state = transform.init(params);
        self.run_with_state(transform, &mut state, 0, params, grad_fn, observers)
    }

    /// Runs `transform` from `state`, counting steps from `first_step`.
    ///
    /// `grad_fn(step, params, grad)` writes the (stochastic) gradient at `params` into
    /// `grad` and returns the loss there. It is called once per update and once more at the
    /// final parameters, so observers see `max_steps + 1` points.
    ///
    /// # Errors
    /// A [`CoreError::Step`] from the transform (shape mismatch) or a
    /// [`CoreError::Observe`] from an observer. Divergence is *not* an error.
    pub fn run_with_state<F, T, G>(
        &self,
        transform: &T,
        state: &mut T::State,
        first_step: u64,
        params: &mut [F],
        mut grad_fn: G,
        observers: &mut [&mut dyn Observer<F>],
    ) -> Result<RunSummary, CoreError>
    where
        F: Real,
        T: Transform<F>,
        G: FnMut(u64, &[F], &mut [F]) -> f64,
    {
        let mut grad = vec![F::zero(); params.len()];
        let mut final_loss = None;
        let last = first_step.saturating_add(self.max_steps);
        let mut step = first_step;
        let stop = loop {
            grad.iter_mut().for_each(|g| *g = F::zero());
            let loss = grad_fn(step, params, &mut grad);
            if !loss.is_finite() {
                break diverged(step, "loss");
            }
            if !all_finite(&grad) {
                break diverged(step, "gradient");
            }
            if self.divergence_loss.is_some_and(|t| loss > t) {
                break diverged(step, "loss above threshold");
            }
            final_loss = Some(loss);
            let grad_norm = l2_norm(&grad);
            let rec = StepRecord {
                step,
                loss,
                grad_norm,
                params,
            };
            for o in observers.iter_mut() {
                o.on_step(&rec)?;
            }
            if self.target_loss.is_some_and(|t| loss <= t) {
                break Stop::TargetLoss { loss };
            }
            if self.grad_tol.is_some_and(|t| grad_norm <= t) {
                break Stop::Converged { grad_norm };
            }
            if step >= last {
                break Stop::MaxSteps;
            }
            let ctx = StepCtx {
                step,
                params,
                loss: Some(loss),
            };
            transform.update(&mut grad, state, &ctx)?;
            if !all_finite(&grad) {
                break diverged(step, "update");
            }
            apply_update(params, &grad)?;
            step += 1;
        };
        for o in observers.iter_mut() {
            o.on_finish(&stop)?;
        }
        Ok(RunSummary {
            steps: step - first_step,
            stop,
            final_loss,
        })
    }
}

fn diverged(step: u64, what: &str) -> Stop {
    Stop::Diverged {
        step,
        what: what.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::StepError;

    struct Sgd(f64);
    impl<F: Real> Transform<F> for Sgd {
        type State = ();
        fn init(&self, _: &[F]) {}
        fn update(&self, u: &mut [F], _: &mut (), _: &StepCtx<'_, F>) -> Result<(), StepError> {
            let k = F::from_f64(-self.0);
            u.iter_mut().for_each(|x| *x = *x * k);
            Ok(())
        }
    }

    fn quad(_: u64, p: &[f64], g: &mut [f64]) -> f64 {
        g[0] = p[0];
        0.5 * p[0] * p[0]
    }

    #[test]
    fn divergence_is_detected_not_written() {
        // Step 3 on f = x²/2 multiplies x by −2 each step: |x| grows until overflow.
        let mut x = vec![1.0];
        let mut t = Trace::new(Every::Always);
        let out = Runner::new(10_000)
            .run(&Sgd(3.0), &mut x, quad, &mut [&mut t])
            .unwrap();
        assert!(out.stop.is_diverged(), "{:?}", out.stop);
        assert!(x[0].is_finite());
        assert!(t.loss.iter().all(|l| l.is_finite()));
    }

    #[test]
    fn threshold_divergence_and_target() {
        let mut x = vec![1.0];
        let out = Runner::new(100)
            .divergence_loss(50.0)
            .run(&Sgd(3.0), &mut x, quad, &mut [])
            .unwrap();
        assert_eq!(
            out.stop,
            Stop::Diverged {
                step: 4,
                what: "loss above threshold".into()
            }
        );
        let mut x = vec![1.0];
        let out = Runner::new(100)
            .target_loss(1e-6)
            .run(&Sgd(0.5), &mut x, quad, &mut [])
            .unwrap();
        assert!(matches!(out.stop, Stop::TargetLoss { .. }));
        assert_eq!(out.steps, 10); // 0.5·0.25^k ≤ 1e-6 first at k = 10
    }

    #[test]
    fn every_log_spaced() {
        let e = Every::LogSpaced { per_decade: 2 };
        let hits: Vec<u64> = (0..200).filter(|&s| e.hits(s)).collect();
        assert_eq!(hits, vec![0, 1, 2, 4, 10, 32, 100]);
        assert!(Every::N(5).hits(10) && !Every::N(5).hits(11));
    }

    #[test]
    fn trace_keeps_last_point() {
        let mut x = vec![1.0];
        let mut t = Trace::new(Every::N(4));
        Runner::new(6)
            .run(&Sgd(0.5), &mut x, quad, &mut [&mut t])
            .unwrap();
        assert_eq!(t.steps, vec![0, 4, 6]);
    }
}
