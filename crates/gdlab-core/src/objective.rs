//! Objectives, finite sums and the same-sample stochastic gradient oracle.
//!
//! * [`Objective`]: a differentiable `f: Rᵈ → R` with its full gradient.
//! * [`FiniteSum`]: `f(x) = (1/m) Σᵢ fᵢ(x)` with per-component gradients, needed by
//!   reshuffling and finite-sum variance reduction.
//! * [`StochasticOracle`]: draws a sample ξ once and evaluates `∇f(x; ξ)` at as many points
//!   as needed. Variance-reduced methods (STORM, SSVR, SARAH) must evaluate `∇f(x_t; ξ)` and
//!   `∇f(x_{t−1}; ξ)` on the *same* ξ; the oracle makes that the only way to do it.
//!   [`MinibatchOracle`] turns any [`FiniteSum`] into one.

use rand::Rng;

use crate::seed::GdRng;

/// A differentiable objective on `Rᵈ`, evaluated in `f64`.
pub trait Objective: Send + Sync {
    /// The dimension `d`.
    fn dim(&self) -> usize;
    /// `f(x)`.
    fn loss(&self, x: &[f64]) -> f64;
    /// Writes `∇f(x)` into `grad` and returns `f(x)`.
    fn loss_grad(&self, x: &[f64], grad: &mut [f64]) -> f64;
}

/// `f(x) = (1/m) Σᵢ fᵢ(x)`.
pub trait FiniteSum: Objective {
    /// The number of components `m`.
    fn n_components(&self) -> usize;

    /// Writes `∇fᵢ(x)` into `grad` and returns `fᵢ(x)`.
    fn component_loss_grad(&self, i: usize, x: &[f64], grad: &mut [f64]) -> f64;

    /// Mean loss and gradient over the components in `batch` (repetitions count twice).
    ///
    /// The default sums the components in the order given, so the result is deterministic.
    /// An empty batch gives zero loss and a zero gradient.
    fn minibatch_loss_grad(&self, batch: &[usize], x: &[f64], grad: &mut [f64]) -> f64 {
        grad.iter_mut().for_each(|g| *g = 0.0);
        if batch.is_empty() {
            return 0.0;
        }
        let mut gi = vec![0.0; grad.len()];
        let mut loss = 0.0;
        for &i in batch {
            loss += self.component_loss_grad(i, x, &mut gi);
            for (g, v) in grad.iter_mut().zip(&gi) {
                *g += v;
            }
        }
        let inv = 1.0 / batch.len() as f64;
        grad.iter_mut().for_each(|g| *g *= inv);
        loss * inv
    }
}

/// A stochastic gradient oracle whose samples can be reused at several points.
pub trait StochasticOracle: Send + Sync {
    /// One draw ξ (a minibatch of indices, a fresh data point, ...).
    type Sample: Clone + std::fmt::Debug;

    /// The dimension of `x`.
    fn dim(&self) -> usize;

    /// Draws a sample of `batch_size` from `rng`.
    fn draw(&self, batch_size: usize, rng: &mut GdRng) -> Self::Sample;

    /// Writes `∇f(x; ξ)` into `grad` and returns `f(x; ξ)`.
    fn loss_grad_at(&self, sample: &Self::Sample, x: &[f64], grad: &mut [f64]) -> f64;

    /// Evaluates `∇f(x; ξ)` and `∇f(x_prev; ξ)` on the same sample ξ, as STORM-type
    /// estimators require. Returns `(f(x; ξ), f(x_prev; ξ))`.
    fn loss_grad_pair(
        &self,
        sample: &Self::Sample,
        x: &[f64],
        x_prev: &[f64],
        grad: &mut [f64],
        grad_prev: &mut [f64],
    ) -> (f64, f64) {
        (
            self.loss_grad_at(sample, x, grad),
            self.loss_grad_at(sample, x_prev, grad_prev),
        )
    }
}

/// The minibatch oracle of a [`FiniteSum`]: ξ is a list of `batch_size` component indices
/// drawn uniformly with replacement.
#[derive(Clone, Copy, Debug)]
pub struct MinibatchOracle<'a, T: ?Sized>(pub &'a T);

impl<T: FiniteSum + ?Sized> StochasticOracle for MinibatchOracle<'_, T> {
    type Sample = Vec<usize>;

    fn dim(&self) -> usize {
        self.0.dim()
    }

    fn draw(&self, batch_size: usize, rng: &mut GdRng) -> Vec<usize> {
        let m = self.0.n_components();
        if m == 0 {
            return Vec::new();
        }
        (0..batch_size).map(|_| rng.random_range(0..m)).collect()
    }

    fn loss_grad_at(&self, sample: &Vec<usize>, x: &[f64], grad: &mut [f64]) -> f64 {
        self.0.minibatch_loss_grad(sample, x, grad)
    }
}

/// A finite sum of quadratics `fᵢ(x) = ½ (x − cᵢ)ᵀ diag(hᵢ) (x − cᵢ)`: closed-form
/// minimiser `x* = (Σ hᵢ)⁻¹ Σ hᵢ cᵢ` (element-wise), used by tests and examples.
#[derive(Clone, Debug, PartialEq)]
pub struct DiagonalQuadraticSum {
    /// Per-component curvatures `hᵢ` (m rows of d entries, each ≥ 0).
    pub curvatures: Vec<Vec<f64>>,
    /// Per-component centres `cᵢ` (m rows of d entries).
    pub centres: Vec<Vec<f64>>,
}

impl DiagonalQuadraticSum {
    /// The minimiser of the mean (coordinates with zero total curvature give 0).
    #[must_use]
    pub fn minimizer(&self) -> Vec<f64> {
        let d = self.dim();
        (0..d)
            .map(|j| {
                let h: f64 = self.curvatures.iter().map(|h| h[j]).sum();
                let hc: f64 = self
                    .curvatures
                    .iter()
                    .zip(&self.centres)
                    .map(|(h, c)| h[j] * c[j])
                    .sum();
                if h > 0.0 {
                    hc / h
                } else {
                    0.0
                }
            })
            .collect()
    }
}

impl Objective for DiagonalQuadraticSum {
    fn dim(&self) -> usize {
        self.centres.first().map_or(0, Vec::len)
    }
    fn loss(&self, x: &[f64]) -> f64 {
        let mut g = vec![0.0; x.len()];
        self.loss_grad(x, &mut g)
    }
    fn loss_grad(&self, x: &[f64], grad: &mut [f64]) -> f64 {
        let all: Vec<usize> = (0..self.n_components()).collect();
        self.minibatch_loss_grad(&all, x, grad)
    }
}

impl FiniteSum for DiagonalQuadraticSum {
    fn n_components(&self) -> usize {
        self.centres.len()
    }
    fn component_loss_grad(&self, i: usize, x: &[f64], grad: &mut [f64]) -> f64 {
        let (h, c) = (&self.curvatures[i], &self.centres[i]);
        let mut loss = 0.0;
        for j in 0..x.len() {
            let r = x[j] - c[j];
            grad[j] = h[j] * r;
            loss += 0.5 * h[j] * r * r;
        }
        loss
    }
}

/// The Rosenbrock function `Σᵢ 100 (x_{i+1} − xᵢ²)² + (1 − xᵢ)²`, minimum 0 at `(1, …, 1)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rosenbrock {
    /// The dimension (≥ 2).
    pub dim: usize,
}

impl Objective for Rosenbrock {
    fn dim(&self) -> usize {
        self.dim
    }
    fn loss(&self, x: &[f64]) -> f64 {
        x.windows(2)
            .map(|w| 100.0 * (w[1] - w[0] * w[0]).powi(2) + (1.0 - w[0]).powi(2))
            .sum()
    }
    fn loss_grad(&self, x: &[f64], grad: &mut [f64]) -> f64 {
        grad.iter_mut().for_each(|g| *g = 0.0);
        for i in 0..x.len().saturating_sub(1) {
            let a = x[i + 1] - x[i] * x[i];
            grad[i] += -400.0 * x[i] * a - 2.0 * (1.0 - x[i]);
            grad[i + 1] += 200.0 * a;
        }
        self.loss(x)
    }
}

/// Largest absolute difference between `obj`'s gradient at `x` and central finite
/// differences with step `h`, relative to `max(1, |∇f|∞)`.
#[must_use]
pub fn gradient_check<O: Objective + ?Sized>(obj: &O, x: &[f64], h: f64) -> f64 {
    let mut g = vec![0.0; x.len()];
    obj.loss_grad(x, &mut g);
    let scale = g.iter().fold(1.0_f64, |m, v| m.max(v.abs()));
    let mut xp = x.to_vec();
    let mut worst = 0.0_f64;
    for j in 0..x.len() {
        xp[j] = x[j] + h;
        let fp = obj.loss(&xp);
        xp[j] = x[j] - h;
        let fm = obj.loss(&xp);
        xp[j] = x[j];
        worst = worst.max(((fp - fm) / (2.0 * h) - g[j]).abs() / scale);
    }
    worst
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::Seed;

    fn quad() -> DiagonalQuadraticSum {
        DiagonalQuadraticSum {
            curvatures: vec![vec![1.0, 2.0], vec![3.0, 0.5], vec![0.0, 1.0]],
            centres: vec![vec![1.0, -1.0], vec![2.0, 0.0], vec![5.0, 4.0]],
        }
    }

    #[test]
    fn gradients_match_finite_differences() {
        assert!(gradient_check(&quad(), &[0.3, -0.7], 1e-5) < 1e-8);
        assert!(gradient_check(&Rosenbrock { dim: 4 }, &[0.3, -0.7, 1.2, 0.1], 1e-6) < 1e-6);
    }

    #[test]
    fn minimizer_has_zero_gradient() {
        let q = quad();
        let x = q.minimizer();
        let mut g = vec![0.0; 2];
        q.loss_grad(&x, &mut g);
        crate::assert_close!(g, vec![0.0, 0.0], abs = 1e-15);
    }

    #[test]
    fn same_sample_pair_uses_one_draw() {
        let q = quad();
        let o = MinibatchOracle(&q);
        let mut rng = Seed(3).rng();
        let xi = o.draw(4, &mut rng);
        let (mut g1, mut g2, mut g3) = (vec![0.0; 2], vec![0.0; 2], vec![0.0; 2]);
        o.loss_grad_pair(&xi, &[0.1, 0.2], &[0.3, 0.4], &mut g1, &mut g2);
        o.loss_grad_at(&xi, &[0.3, 0.4], &mut g3);
        assert_eq!(g2, g3);
        assert!(xi.iter().all(|&i| i < 3));
    }
}
