//! The follow-up paper's 3-worker, 1-D example: SSVR-MV Option 1 has a non-vanishing
//! error floor on heterogeneous data.

use gdlab_core::objective::{FiniteSum, Objective};
use gdlab_core::runner::Every;
use gdlab_core::{ConfigError, Seed};
use serde::{Deserialize, Serialize};

use super::config::{MajorityVoteConfig, MajorityVoteMethod, SsvrMvOption};
use super::run::{run_majority_vote, MajorityVoteOutcome};
use super::vote::expected_majority_vote;

/// `f(x) = ½ log cosh x + slope · x` on `R¹`, with `f'(x) = ½ tanh x + slope`.
///
/// As a [`FiniteSum`] it has one component (itself), so a
/// [`MinibatchOracle`](gdlab_core::objective::MinibatchOracle) over it always returns the
/// exact gradient: a deterministic worker.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct HalfLogCoshLinear {
    /// The linear coefficient.
    pub slope: f64,
}

impl HalfLogCoshLinear {
    /// `f'(x) = ½ tanh x + slope`.
    #[must_use]
    pub fn derivative(&self, x: f64) -> f64 {
        0.5 * x.tanh() + self.slope
    }
}

impl Objective for HalfLogCoshLinear {
    fn dim(&self) -> usize {
        1
    }
    fn loss(&self, x: &[f64]) -> f64 {
        // log cosh x = |x| + log(1 + e^{−2|x|}) − log 2, stable for large |x|.
        let a = x[0].abs();
        0.5 * (a + (-2.0 * a).exp().ln_1p() - std::f64::consts::LN_2) + self.slope * x[0]
    }
    fn loss_grad(&self, x: &[f64], grad: &mut [f64]) -> f64 {
        grad[0] = self.derivative(x[0]);
        self.loss(x)
    }
}

impl FiniteSum for HalfLogCoshLinear {
    fn n_components(&self) -> usize {
        1
    }
    fn component_loss_grad(&self, _i: usize, x: &[f64], grad: &mut [f64]) -> f64 {
        self.loss_grad(x, grad)
    }
}

/// The follow-up paper's lower-bound example for SSVR-MV Option 1 (its Proposition 1, as
/// restated in spec `sign-methods-ssvr.md` §2.4): three workers with **exact** local
/// gradients,
///
/// $$ f_1 = f_2 = \tfrac12 \log\cosh x + \tfrac{x}{4}, \qquad
///    f_3 = \tfrac12 \log\cosh x - \tfrac{x}{2}, \qquad
///    f = \tfrac13 (f_1 + f_2 + f_3) = \tfrac12 \log\cosh x, $$
///
/// `G = 1` (`|f_j'| ≤ ½ + ½`), `R = 4G = 4`, `β = 1/2`, `η = Θ(T^{-1/2})`, start `x = 0`.
///
/// **Why there is a floor.** With exact gradients the STORM recursion returns the local
/// gradient itself (`v_t^j = f_j'(x_t)` for any β, by induction), so the only randomness is
/// the stochastic sign: worker `j` votes `+1` with probability `p_j = (1 + f_j'(x)/R)/2`.
/// The deterministic majority of three such votes has mean
/// [`expected_vote`](FloorExample::expected_vote)`(x)`, which is **not** zero at the
/// minimiser `x = 0` of `f` (it is `2⁻¹²` there) but at a shifted point `x* ≈ −1.297·10⁻³`
/// ([`biased_fixed_point`](FloorExample::biased_fixed_point)), around which the iterates
/// settle as `η → 0`. There `|f'(x*)| = 6.4851·10⁻⁴ = 1/1542.0` ([`floor`](FloorExample::floor)):
/// the paper's constant, reproduced by this computation.
///
/// At feasible horizons the simulated average `|f'(x_t)|` is much larger than the floor:
/// the ±η random walk of the stochastic signs keeps `x_t` spread over `≈ √(η/(2κ))`
/// (`κ = dE[s]/dx ≈ 0.19`), a term that decays like `T^{-1/4}` with `η = T^{-1/2}` and
/// drops below `1/1542` only for `T` beyond about `10¹²`.
///
/// # Examples
/// ```
/// use gdlab_optim::majority_vote::FloorExample;
/// let ex = FloorExample::new();
/// assert!((1.0 / ex.floor() - 1542.0).abs() < 0.01);
/// assert!(ex.global_minimizer().abs() < 1e-12);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct FloorExample {
    /// The three local objectives (slopes `1/4`, `1/4`, `−1/2`).
    pub workers: [HalfLogCoshLinear; 3],
}

impl Default for FloorExample {
    fn default() -> Self {
        FloorExample::new()
    }
}

impl FloorExample {
    /// `G`: the bound on `|f_j'|`.
    pub const GRAD_BOUND: f64 = 1.0;
    /// `R = 4G` (Theorem 3).
    pub const RADIUS: f64 = 4.0;
    /// `β = 1/2` (Theorem 3; irrelevant here since the gradients are exact).
    pub const BETA: f64 = 0.5;
    /// The paper's lower bound on `E|f'(x_τ)|` as `T → ∞`.
    pub const PAPER_FLOOR: f64 = 1.0 / 1542.0;

    /// The paper's example.
    #[must_use]
    pub fn new() -> Self {
        FloorExample {
            workers: [
                HalfLogCoshLinear { slope: 0.25 },
                HalfLogCoshLinear { slope: 0.25 },
                HalfLogCoshLinear { slope: -0.5 },
            ],
        }
    }

    /// The global objective `f = (1/3) Σ_j f_j` (the mean of the slopes: 0).
    #[must_use]
    pub fn global(&self) -> HalfLogCoshLinear {
        HalfLogCoshLinear {
            slope: self.workers.iter().map(|w| w.slope).sum::<f64>() / 3.0,
        }
    }

    /// SSVR-MV Option 1 with 3 workers, `β = 1/2`, `R = 4`, `B = 1` and `η = 1/√T`.
    #[must_use]
    pub fn config(&self, n_steps: u64) -> MajorityVoteConfig {
        MajorityVoteConfig {
            n_workers: 3,
            method: MajorityVoteMethod::SsvrMv {
                option: SsvrMvOption::One,
                beta: Self::BETA,
                radius: Self::RADIUS,
            },
            learning_rate: 1.0 / (n_steps.max(1) as f64).sqrt(),
            batch_size: 1,
            n_steps,
        }
    }

    /// Runs [`config`](Self::config)`(n_steps)` from `x = 0`.
    ///
    /// # Errors
    /// None in practice (the configuration is valid); see [`run_majority_vote`].
    pub fn run(
        &self,
        n_steps: u64,
        seed: Seed,
        record_every: Every,
    ) -> Result<MajorityVoteOutcome, ConfigError> {
        run_majority_vote(
            &self.global(),
            &self.workers,
            &self.config(n_steps),
            &[0.0],
            seed,
            record_every,
        )
    }

    /// `E[s | x]`: the expected server broadcast of Option 1 at `x` with radius `radius`,
    /// computed exactly ([`expected_majority_vote`] with `p_j = (1 + f_j'(x)/R)/2`).
    #[must_use]
    pub fn expected_vote(&self, x: f64, radius: f64) -> f64 {
        let p: Vec<f64> = self
            .workers
            .iter()
            .map(|w| 0.5 * (1.0 + (w.derivative(x) / radius).clamp(-1.0, 1.0)))
            .collect();
        expected_majority_vote(&p)
    }

    /// The root `x*` of `E[s | x]` at `R = 4`, by bisection on `[−1, 1]` (`E[s | x]` is
    /// increasing in `x`): where the Option-1 dynamics settle as `η → 0`.
    #[must_use]
    pub fn biased_fixed_point(&self) -> f64 {
        bisect_increasing(|x| self.expected_vote(x, Self::RADIUS), -1.0, 1.0)
    }

    /// The floor `|f'(x*)|` at [`biased_fixed_point`](Self::biased_fixed_point).
    #[must_use]
    pub fn floor(&self) -> f64 {
        self.global().derivative(self.biased_fixed_point()).abs()
    }

    /// The minimiser of the global `f` (the root of `f'`), by bisection on `[−1, 1]`.
    #[must_use]
    pub fn global_minimizer(&self) -> f64 {
        let g = self.global();
        bisect_increasing(|x| g.derivative(x), -1.0, 1.0)
    }
}

/// The root of an increasing `f` on `[lo, hi]` with `f(lo) ≤ 0 ≤ f(hi)`, to the last bit
/// (stops when the midpoint no longer moves).
fn bisect_increasing(f: impl Fn(f64) -> f64, mut lo: f64, mut hi: f64) -> f64 {
    loop {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            return mid;
        }
        if f(mid) > 0.0 {
            hi = mid;
        } else {
            lo = mid;
        }
    }
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact values: dyadic vote means, zero clipping, same-code bitwise checks
mod tests {
    use super::*;
    use gdlab_core::objective::gradient_check;

    #[test]
    fn local_objectives_are_consistent() {
        let ex = FloorExample::new();
        for w in ex.workers.iter().chain([&ex.global()]) {
            for x in [-30.0, -1.3, 0.0, 0.4, 25.0] {
                assert!(
                    gradient_check(w, &[x], 1e-6) < 1e-8,
                    "slope {} at {x}",
                    w.slope
                );
                // G = 1: |f_j'| ≤ ½ + |slope| ≤ 1.
                assert!(w.derivative(x).abs() <= FloorExample::GRAD_BOUND);
            }
        }
        assert!(ex.global().slope == 0.0, "f = ½ log cosh x exactly");
    }

    #[test]
    fn option_one_has_the_papers_floor_exactly() {
        let ex = FloorExample::new();
        // The global f = ½ log cosh x has its minimiser where f' = 0: x = 0 (bisection).
        let x_min = ex.global_minimizer();
        assert!(x_min.abs() < 1e-12, "{x_min}");
        // At x = 0 the votes are p = 17/32, 17/32, 7/16; the majority's mean is
        // 2·P(≥ 2 of 3) − 1 = 2⁻¹² ≠ 0: Option 1 is biased at the minimiser.
        assert!(ex.expected_vote(0.0, FloorExample::RADIUS) == 1.0 / 4096.0);
        // Its root x* (bisection) is where the η → 0 dynamics settle; |f'(x*)| is the floor.
        let x_star = ex.biased_fixed_point();
        assert!((-1.4e-3..-1.2e-3).contains(&x_star), "x* = {x_star}");
        // The paper's constant: 1/|f'(x*)| = 1541.99999 here, which the paper states as
        // E|f'(x_τ)| ≥ 1/1542 (0.01 covers its rounding; our bisection is exact to ~1e-16).
        let floor = ex.floor();
        assert!(
            (1.0 / floor - 1542.0).abs() < 0.01,
            "1/floor = {}",
            1.0 / floor
        );
        assert!(floor >= FloorExample::PAPER_FLOOR);
    }

    #[test]
    fn option_one_average_gradient_stays_above_the_floor() {
        // Simulated runs at the paper's settings (η = 1/√T, β = 1/2, R = 4, start 0).
        //
        // What the theory predicts at these horizons: x_t is a ±η random walk with drift
        // E[s | x] ≈ κ (x − x*), κ = dE[s]/dx ≈ 0.19, so it spreads over σ_x ≈ √(η/(2κ))
        // and E|f'(x_t)| ≈ ½·√(2/π)·σ_x: 0.065 at T = 10⁴ and 0.037 at T = 10⁵ (a T^{-1/4}
        // noise term). The floor 1/1542 ≈ 6.5e-4 is the part that remains as T → ∞; the
        // noise term falls below it only near T ≈ 10¹², so a feasible simulation shows an
        // average far above the floor that is dominated by the stochastic-sign noise (an
        // unbiased single-worker S_R run on f gives the same order: 0.083 and 0.044
        // measured). The floor itself is established exactly by
        // `option_one_has_the_papers_floor_exactly`.
        //
        // Checks: (1) the average never drops below the paper's lower bound; (2) it matches
        // the noise prediction within [0.6, 1.6] (mean of 3 seeds; single runs at T = 10⁴
        // have ≈ 19 mixing times, so ±30% per seed, ±17% for the mean); (3) SSVR on the
        // global f with exact gradients (v_t = f'(x_t), i.e. sign descent; run here as one
        // worker with a plain sign) stays at the minimiser 0 from x = 0: average exactly 0.
        // Measured: 0.070 (T = 10⁴) and 0.038 (T = 10⁵).
        let ex = FloorExample::new();
        let h = 1e-4;
        let kappa = (ex.expected_vote(h, FloorExample::RADIUS)
            - ex.expected_vote(-h, FloorExample::RADIUS))
            / (2.0 * h);
        assert!((0.18..0.20).contains(&kappa), "κ = {kappa}");
        for t in [10_000u64, 100_000] {
            let eta = ex.config(t).learning_rate;
            let predicted =
                0.5 * (2.0 / std::f64::consts::PI).sqrt() * (eta / (2.0 * kappa)).sqrt();
            let mut mean = 0.0;
            for s in 0..3 {
                let out = ex.run(t, Seed(s), Every::Always).unwrap();
                assert!(!out.diverged());
                assert_eq!(out.clipped_fraction(), 0.0, "|f_j'| ≤ G = 1 < R = 4");
                assert_eq!(out.trace.grad_l1.len() as u64, t + 1);
                mean += out.trace.tail_mean_grad_l1(1.0) / 3.0;
            }
            assert!(mean > FloorExample::PAPER_FLOOR, "T = {t}: {mean}");
            let ratio = mean / predicted;
            assert!(
                (0.6..1.6).contains(&ratio),
                "T = {t}: {mean} vs predicted {predicted}"
            );

            let g = ex.global();
            let central = MajorityVoteConfig {
                n_workers: 1,
                method: MajorityVoteMethod::SignSgdMv,
                ..ex.config(t)
            };
            let out =
                run_majority_vote(&g, &[g], &central, &[0.0], Seed(0), Every::Always).unwrap();
            assert!(out.trace.tail_mean_grad_l1(1.0) == 0.0);
        }
    }
}
