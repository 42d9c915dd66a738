//! Step-size tuning on a log₁₀ grid, with the protocol of the heavy-tailed class-imbalance
//! paper (spec §2, authors' `lr_grid`/`nice_logspace`):
//!
//! 1. a **sparse** grid of integer exponents `10^k`, run once (one seed);
//! 2. a **dense** grid of half-integer exponents around the best sparse value
//!    (`10^{k* − 1/2}`, `10^{k* + 1/2}`);
//! 3. selection: the step size with the **lowest final training loss** over every trial
//!    that did not diverge. A run **diverges** when its loss becomes non-finite or exceeds
//!    a threshold (50 in the paper's quick study) at any step.
//!
//! The run itself is a closure `FnMut(learning_rate) -> Result<f64, E>` returning the
//! run's score: its final loss, or a non-finite value when it diverged on the way (use
//! [`score_trajectory`] on the loss trace). Ties go to the smaller step size, the
//! conservative choice (the authors' manual overrides pick the smaller step when the best
//! is unstable). [`tune_grid_par`] evaluates a grid in parallel with rayon; its result is
//! the same as the sequential [`tune_grid`] for a deterministic closure.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// The paper's divergence threshold on the training loss (spec §5a).
pub const DIVERGENCE_THRESHOLD: f64 = 50.0;

/// One evaluated step size.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Trial {
    /// The exponent `k` of `learning_rate = 10^k`.
    pub exponent: f64,
    /// `10^k`.
    pub learning_rate: f64,
    /// Final training loss; `None` if the run diverged.
    pub final_loss: Option<f64>,
}

/// The outcome of a search: every trial in evaluation order and the selected one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TuneResult {
    /// Every trial, in evaluation order.
    pub trials: Vec<Trial>,
    /// The selected trial (lowest final loss, ties to the smaller step); `None` when every
    /// trial diverged.
    pub best: Option<Trial>,
}

/// Turns a loss trace into a score: the last loss, or `+∞` if any loss is non-finite or
/// above `threshold`.
///
/// # Examples
/// ```
/// use gdlab_optim::tune::score_trajectory;
/// assert_eq!(score_trajectory(&[3.0, 60.0, 1.0], 50.0), f64::INFINITY);
/// assert_eq!(score_trajectory(&[3.0, 2.0, 1.0], 50.0), 1.0);
/// ```
#[must_use]
pub fn score_trajectory(losses: &[f64], threshold: f64) -> f64 {
    if losses.iter().any(|l| !l.is_finite() || *l > threshold) {
        f64::INFINITY
    } else {
        losses.last().copied().unwrap_or(f64::INFINITY)
    }
}

fn trial(exponent: f64, score: f64, threshold: f64) -> Trial {
    Trial {
        exponent,
        learning_rate: 10f64.powf(exponent),
        final_loss: (score.is_finite() && score <= threshold).then_some(score),
    }
}

/// The best of `trials`: lowest final loss, ties to the smaller step size.
#[must_use]
pub fn select(trials: &[Trial]) -> Option<Trial> {
    trials
        .iter()
        .filter_map(|t| t.final_loss.map(|l| (l, t)))
        .min_by(|(la, ta), (lb, tb)| la.total_cmp(lb).then(ta.exponent.total_cmp(&tb.exponent)))
        .map(|(_, t)| *t)
}

/// Evaluates `run(10^k)` for every exponent `k` in order and selects the best; a score that
/// is non-finite or above `threshold` counts as divergence.
///
/// # Errors
/// The first error returned by `run` (later exponents are not evaluated).
///
/// # Examples
/// ```
/// use gdlab_optim::tune::tune_grid;
/// // GD on f(x) = x²/2 from x = 1 for 10 steps: loss (1 − η)^20 / 2; η = 10 diverges.
/// let run = |lr: f64| -> Result<f64, ()> {
///     let mut x = 1.0_f64;
///     for _ in 0..10 { x -= lr * x; }
///     Ok(0.5 * x * x)
/// };
/// let r = tune_grid(&[-2.0, -1.0, 0.0, 1.0], 50.0, run).unwrap();
/// assert_eq!(r.best.unwrap().exponent, 0.0); // η = 1 solves it in one step
/// assert_eq!(r.trials[3].final_loss, None);
/// ```
pub fn tune_grid<E>(
    exponents: &[f64],
    threshold: f64,
    mut run: impl FnMut(f64) -> Result<f64, E>,
) -> Result<TuneResult, E> {
    let mut trials = Vec::with_capacity(exponents.len());
    for &k in exponents {
        let score = run(10f64.powf(k))?;
        trials.push(trial(k, score, threshold));
    }
    let best = select(&trials);
    Ok(TuneResult { trials, best })
}

/// [`tune_grid`] with the runs in parallel (rayon); trials are reported in grid order.
///
/// # Errors
/// The error of the first exponent (in grid order) whose run failed.
pub fn tune_grid_par<E: Send>(
    exponents: &[f64],
    threshold: f64,
    run: impl Fn(f64) -> Result<f64, E> + Sync,
) -> Result<TuneResult, E> {
    let scores: Vec<Result<f64, E>> = exponents.par_iter().map(|&k| run(10f64.powf(k))).collect();
    let mut trials = Vec::with_capacity(exponents.len());
    for (&k, s) in exponents.iter().zip(scores) {
        trials.push(trial(k, s?, threshold));
    }
    let best = select(&trials);
    Ok(TuneResult { trials, best })
}

/// The paper's two-stage protocol: the sparse grid `10^k` for integer `k` in
/// `sparse_exponents` (in order), then the half-integer neighbours `k* ± 1/2` of the best
/// sparse `k*` (the dense grid, minus points already run), then selection over all trials.
/// When every sparse run diverges, no dense run is made and `best` is `None`.
///
/// # Errors
/// The first error returned by `run`.
///
/// # Examples
/// ```
/// use gdlab_optim::tune::tune_sparse_dense;
/// // Final loss (log10 η + 2.4)² has its minimum at 10^-2.4; the grid finds 10^-2.5.
/// let r = tune_sparse_dense(-6..=1, 50.0, |lr: f64| -> Result<f64, ()> {
///     Ok((lr.log10() + 2.4).powi(2))
/// }).unwrap();
/// assert_eq!(r.best.unwrap().exponent, -2.5);
/// assert_eq!(r.trials.len(), 8 + 2);
/// ```
pub fn tune_sparse_dense<E>(
    sparse_exponents: std::ops::RangeInclusive<i32>,
    threshold: f64,
    mut run: impl FnMut(f64) -> Result<f64, E>,
) -> Result<TuneResult, E> {
    let sparse: Vec<f64> = sparse_exponents.map(f64::from).collect();
    let mut result = tune_grid(&sparse, threshold, &mut run)?;
    if let Some(best) = result.best {
        for k in [best.exponent - 0.5, best.exponent + 0.5] {
            let score = run(10f64.powf(k))?;
            result.trials.push(trial(k, score, threshold));
        }
        result.best = select(&result.trials);
    }
    Ok(result)
}

/// [`tune_sparse_dense`] with each stage's runs in parallel (rayon).
///
/// # Errors
/// As [`tune_grid_par`].
pub fn tune_sparse_dense_par<E: Send>(
    sparse_exponents: std::ops::RangeInclusive<i32>,
    threshold: f64,
    run: impl Fn(f64) -> Result<f64, E> + Sync,
) -> Result<TuneResult, E> {
    let sparse: Vec<f64> = sparse_exponents.map(f64::from).collect();
    let mut result = tune_grid_par(&sparse, threshold, &run)?;
    if let Some(best) = result.best {
        let dense = tune_grid_par(&[best.exponent - 0.5, best.exponent + 0.5], threshold, &run)?;
        result.trials.extend(dense.trials);
        result.best = select(&result.trials);
    }
    Ok(result)
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact grid exponents and ±∞: `==` is a deliberate bitwise check
mod tests {
    use super::*;

    /// GD on the quadratic `f(x) = Σ_i h_i x_i²/2` from `x = 1` for `steps` steps; the
    /// loss trace is scored with the threshold.
    fn gd_quadratic(lr: f64, h: &[f64], steps: usize) -> f64 {
        let mut x = vec![1.0_f64; h.len()];
        let loss = |x: &[f64]| x.iter().zip(h).map(|(a, c)| 0.5 * c * a * a).sum::<f64>();
        let mut trace = vec![loss(&x)];
        for _ in 0..steps {
            for (xi, hi) in x.iter_mut().zip(h) {
                *xi -= lr * hi * *xi;
            }
            trace.push(loss(&x));
        }
        score_trajectory(&trace, DIVERGENCE_THRESHOLD)
    }

    #[test]
    fn finds_the_best_stable_step_on_a_quadratic() {
        // Curvatures 1 and 4: GD is stable iff η < 2/4 = 0.5; at η = 10^-0.5 = 0.316 the
        // stiff coordinate contracts by |1 − 1.26| = 0.26 and the soft one by 0.68; at
        // η = 1 it diverges (|1 − 4| = 3 per step).
        let h = [1.0, 4.0];
        let r = tune_sparse_dense(-3..=1, DIVERGENCE_THRESHOLD, |lr| {
            Ok::<_, ()>(gd_quadratic(lr, &h, 30))
        })
        .unwrap();
        let sparse: Vec<f64> = r.trials.iter().map(|t| t.exponent).collect();
        assert_eq!(sparse, vec![-3.0, -2.0, -1.0, 0.0, 1.0, -1.5, -0.5]);
        assert_eq!(r.trials[3].final_loss, None); // η = 1 diverges
        assert_eq!(r.trials[4].final_loss, None);
        let best = r.best.unwrap();
        assert_eq!(best.exponent, -0.5);
        // Closed form: 0.5·(1 − η)^60 + 2·(1 − 4η)^60 at η = 10^-0.5.
        let eta = 10f64.powf(-0.5);
        let expected = 0.5 * (1.0 - eta).powi(60) + 2.0 * (1.0 - 4.0 * eta).powi(60);
        gdlab_core::assert_close!(best.final_loss.unwrap(), expected, rel = 1e-12);
        // Parallel evaluation gives the same result.
        let p = tune_sparse_dense_par(-3..=1, DIVERGENCE_THRESHOLD, |lr| {
            Ok::<_, ()>(gd_quadratic(lr, &h, 30))
        })
        .unwrap();
        assert_eq!(p, r);
    }

    #[test]
    fn divergence_ties_and_errors() {
        assert_eq!(score_trajectory(&[1.0, f64::NAN, 0.5], 50.0), f64::INFINITY);
        assert_eq!(score_trajectory(&[], 50.0), f64::INFINITY);
        // All diverge: no best, no dense stage.
        let r = tune_sparse_dense(0..=2, 50.0, |_| Ok::<_, ()>(f64::NAN)).unwrap();
        assert_eq!((r.best, r.trials.len()), (None, 3));
        // A score above the threshold is divergence even if finite.
        let r = tune_grid(&[0.0], 50.0, |_| Ok::<_, ()>(51.0)).unwrap();
        assert_eq!(r.best, None);
        // Ties go to the smaller step size.
        let r = tune_grid(&[-1.0, -2.0], 50.0, |_| Ok::<_, ()>(1.0)).unwrap();
        assert_eq!(r.best.unwrap().exponent, -2.0);
        // Errors propagate.
        assert_eq!(
            tune_grid(&[0.0], 50.0, |_| Err::<f64, _>("boom")),
            Err("boom")
        );
        assert_eq!(
            tune_grid_par(&[0.0, 1.0], 50.0, |lr| if lr > 5.0 {
                Err("big")
            } else {
                Ok(1.0)
            }),
            Err("big")
        );
    }
}
