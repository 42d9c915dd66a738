//! Entropic optimal transport between particle measures by log-domain Sinkhorn, and the
//! Sinkhorn divergence `S_ε` to a fixed target sample with its Wasserstein gradient
//! (spec §2.5, the alignment task of §4 item 3 / §5 Part C).
//!
//! | symbol | API |
//! |---|---|
//! | `c(x, y) = ‖x − y‖²` | the cost (squared Euclidean, OTT-JAX's `PointCloud` default) |
//! | `ε` | [`SinkhornOptions::epsilon`] |
//! | `OT_ε(μ, ν)` | [`entropic_ot`], [`EntropicOt::value`] |
//! | `f`, `g` (dual potentials) | [`EntropicOt::f`], [`EntropicOt::g`] |
//! | `S_ε(μ, ν) = OT_ε(μ,ν) − ½OT_ε(μ,μ) − ½OT_ε(ν,ν)` | [`SinkhornDivergence::divergence`] |
//!
//! With uniform weights `aᵢ = 1/n`, `b_j = 1/m`,
//!
//! $$ \mathrm{OT}_ε(μ, ν) = \min_{π ∈ Π(a, b)} ⟨π, C⟩ + ε\,\mathrm{KL}(π \,‖\, a ⊗ b), $$
//!
//! whose dual optimum gives `π_ij = aᵢ b_j exp((fᵢ + g_j − C_ij)/ε)` and
//! `OT_ε = ⟨a, f⟩ + ⟨b, g⟩`. The Sinkhorn iterations are run on the potentials in the log
//! domain (no underflow at small `ε`):
//! `fᵢ ← −ε LSE_j(log b_j + (g_j − C_ij)/ε)`, `g_j ← −ε LSE_i(log aᵢ + (fᵢ − C_ij)/ε)`; the
//! symmetric problem `OT_ε(μ, μ)` uses the averaged update `f ← ½(f + T(f))` (Feydy et al.,
//! 2019). A cold start anneals `ε` geometrically from the largest cost down to the requested
//! value (`ε`-scaling); a warm start (the potentials of a previous, nearby problem) starts
//! at the requested `ε` directly.
//!
//! **Unverified facts and choices** (spec §2.5 marks the Sinkhorn gradient "from memory,
//! unverified: the paper used OTT"): the cost is `‖x − y‖²`, the regulariser is
//! `ε·KL(π‖a⊗b)`, the functional optimised by flows is `F = ½S_ε` (so that, like
//! [`crate::discrepancy::SlicedWasserstein`]'s `½SW₂²`, its gradient tends to `x − T(x)` as
//! `ε → 0`): `∇_{W₂}F(xᵢ) = ½(∇f_{μν}(xᵢ) − ∇f_{μμ}(xᵢ)) = x̄ᵢ − ȳᵢ`, where `ȳᵢ` and `x̄ᵢ`
//! are the barycentric projections of particle `i` under the plans of `(μ, ν)` and `(μ, μ)`.
//!
//! # References
//! J. Feydy, T. Séjourné, F.-X. Vialard, S. Amari, A. Trouvé, G. Peyré, "Interpolating between
//! Optimal Transport and MMD using Sinkhorn Divergences", AISTATS 2019 (the divergence, its
//! gradient, the symmetric update, `ε`-scaling). G. Peyré, M. Cuturi, "Computational Optimal
//! Transport", 2019, §4.4 (log-domain Sinkhorn).

use rayon::prelude::*;

use crate::error::{check_finite, check_positive, Result, WassersteinError};
use crate::functional::{check_shapes, Functional, ROWS_PER_CHUNK};
use crate::particles::Particles;

/// Options of the Sinkhorn solver.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SinkhornOptions {
    /// The entropic regularisation `ε > 0` (absolute, in units of the cost `‖x − y‖²`).
    /// Default `0.1` (spec §5 full mode; the paper's value was not found, spec §7).
    pub epsilon: f64,
    /// Stop when the L1 error of the row marginal, `Σᵢ |Σⱼ π_ij − aᵢ|`, is `≤ tol`
    /// (the column marginal is exact after each `g` update). Default `1e-9`.
    pub tol: f64,
    /// Iteration cap (each iteration updates `f` and `g` once, or the symmetric `f` once);
    /// reaching it is an error ([`WassersteinError::SinkhornNotConverged`]). Default 10 000.
    pub max_iterations: usize,
    /// Factor of the geometric `ε`-annealing of a cold start, in `(0, 1)`. Default `0.5`.
    pub scaling: f64,
}

impl Default for SinkhornOptions {
    fn default() -> Self {
        SinkhornOptions {
            epsilon: 0.1,
            tol: 1e-9,
            max_iterations: 10_000,
            scaling: 0.5,
        }
    }
}

impl SinkhornOptions {
    /// Checks every field.
    ///
    /// # Errors
    /// [`WassersteinError::OutOfRange`] for `epsilon ≤ 0`, `tol ≤ 0` (or non-finite),
    /// `max_iterations = 0`, or `scaling ∉ (0, 1)`.
    pub fn validate(&self) -> Result<()> {
        check_positive("sinkhorn.epsilon", self.epsilon)?;
        check_positive("sinkhorn.tol", self.tol)?;
        if self.max_iterations == 0 {
            return Err(WassersteinError::OutOfRange {
                field: "sinkhorn.max_iterations",
                value: 0.0,
                allowed: "[1, ∞)",
            });
        }
        if !(self.scaling > 0.0 && self.scaling < 1.0) {
            return Err(WassersteinError::OutOfRange {
                field: "sinkhorn.scaling",
                value: self.scaling,
                allowed: "(0, 1)",
            });
        }
        Ok(())
    }
}

/// The solution of one entropic OT problem.
#[derive(Clone, Debug, PartialEq)]
pub struct EntropicOt {
    /// `OT_ε(μ, ν) = ⟨a, f⟩ + ⟨b, g⟩`.
    pub value: f64,
    /// Dual potential on the first measure's points (`n` values).
    pub f: Vec<f64>,
    /// Dual potential on the second measure's points (`m` values; equal to `f` for the
    /// symmetric problem).
    pub g: Vec<f64>,
    /// Sinkhorn iterations run, annealing included.
    pub iterations: usize,
    /// The final L1 marginal error.
    pub marginal_error: f64,
}

/// Squared distances `C_ij = ‖xᵢ − y_j‖²`, row-major `n × m`.
fn cost_matrix(x: &[f64], y: &[f64], d: usize) -> Vec<f64> {
    let m = y.len() / d;
    let mut c = vec![0.0; (x.len() / d) * m];
    c.par_chunks_mut(m * ROWS_PER_CHUNK)
        .enumerate()
        .for_each(|(ch, block)| {
            for (r, row) in block.chunks_mut(m).enumerate() {
                let i = ch * ROWS_PER_CHUNK + r;
                let xi = &x[i * d..(i + 1) * d];
                for (cij, yj) in row.iter_mut().zip(y.chunks(d)) {
                    *cij = xi.iter().zip(yj).map(|(a, b)| (a - b) * (a - b)).sum();
                }
            }
        });
    c
}

/// `out_i = −ε LSE_j(log w + (h_j − C_ij)/ε)` for uniform weights `w = 1/len(h)`, with `C`
/// row-major (`rows × h.len()`).
fn soft_min(c: &[f64], h: &[f64], rows: usize, eps: f64, out: &mut [f64]) {
    let cols = h.len();
    let log_w = -(cols as f64).ln();
    out.par_chunks_mut(ROWS_PER_CHUNK)
        .enumerate()
        .for_each(|(ch, block)| {
            let mut t = vec![0.0; cols];
            for (r, o) in block.iter_mut().enumerate() {
                let i = ch * ROWS_PER_CHUNK + r;
                let mut mx = f64::NEG_INFINITY;
                let row = &c[i * cols..(i + 1) * cols];
                for ((tj, hj), cij) in t.iter_mut().zip(h).zip(row) {
                    *tj = (hj - cij) / eps;
                    mx = mx.max(*tj);
                }
                let s: f64 = t.iter().map(|&v| shifted_exp(v - mx)).sum();
                *o = -eps * (log_w + mx + s.ln());
            }
        });
    debug_assert_eq!(out.len(), rows);
}

/// Below this shifted exponent a term of a log-sum-exp is dropped: `e^{−50} ≈ 2·10⁻²²`, so
/// even 10⁵ dropped terms change the sum (which is ≥ 1, its largest term being `e⁰`) by less
/// than half an ulp. At small `ε` most pairs are that far below the row's maximum, and the
/// skipped `exp` calls are most of the cost.
const LSE_CUTOFF: f64 = -50.0;

/// `e^x` for `x ≤ 0`, or 0 below [`LSE_CUTOFF`].
#[inline]
fn shifted_exp(x: f64) -> f64 {
    if x < LSE_CUTOFF {
        0.0
    } else {
        x.exp()
    }
}

/// `Σᵢ aᵢ |exp((fᵢ − f_nextᵢ)/ε) − 1|`: the L1 row-marginal error of the plan of `(f, g)`
/// when `f_next` is the `f` update from `g`.
fn marginal_error(f: &[f64], f_next: &[f64], eps: f64) -> f64 {
    let a = 1.0 / f.len() as f64;
    f.iter()
        .zip(f_next)
        .map(|(p, q)| a * (((p - q) / eps).exp() - 1.0).abs())
        .sum()
}

fn check_pair(x: &Particles, y: &Particles) -> Result<()> {
    y.check_dim("entropic OT (second measure)", x.dim())
}

fn max_cost(c: &[f64]) -> f64 {
    c.iter().fold(0.0_f64, |m, &v| m.max(v))
}

/// The `ε` schedule of a cold start: `max(ε, C_max·sᵏ)` for `k = 0, 1, …` until it reaches `ε`.
fn annealing(c_max: f64, opts: &SinkhornOptions) -> Vec<f64> {
    let mut out = Vec::new();
    let mut e = c_max.max(opts.epsilon);
    while e > opts.epsilon {
        out.push(e);
        e *= opts.scaling;
    }
    out
}

/// Entropic OT `OT_ε(μ̂, ν̂)` between two particle measures with uniform weights and cost
/// `‖x − y‖²`, by log-domain Sinkhorn (see the [module docs](self)).
///
/// `warm` = `(f, g)` of a previous problem of the same sizes starts the iteration there (no
/// `ε`-annealing).
///
/// # Errors
/// [`WassersteinError::OutOfRange`] for bad options; [`WassersteinError::Dim`] for
/// mismatched dimensions or warm-start lengths; [`WassersteinError::NonFinite`] for
/// non-finite warm-start values or potentials; [`WassersteinError::SinkhornNotConverged`]
/// at the iteration cap.
///
/// # Examples
/// ```
/// use gdlab_wasserstein::{sinkhorn::{entropic_ot, SinkhornOptions}, Particles};
/// // two points against two points on a line: W₂² = 1 and OT_ε ∈ [W₂², W₂² + ε log 2]
/// let x = Particles::new(2, 1, vec![0.0, 3.0]).unwrap();
/// let y = Particles::new(2, 1, vec![1.0, 2.0]).unwrap();
/// let opts = SinkhornOptions { epsilon: 0.01, ..SinkhornOptions::default() };
/// let ot = entropic_ot(&x, &y, &opts, None).unwrap();
/// assert!(ot.value >= 1.0 && ot.value <= 1.0 + 0.01 * 2f64.ln() + 1e-12);
/// ```
pub fn entropic_ot(
    x: &Particles,
    y: &Particles,
    opts: &SinkhornOptions,
    warm: Option<(&[f64], &[f64])>,
) -> Result<EntropicOt> {
    opts.validate()?;
    check_pair(x, y)?;
    let (n, m, d) = (x.n_particles(), y.n_particles(), x.dim());
    let c = cost_matrix(x.data(), y.data(), d);
    let ct = cost_matrix(y.data(), x.data(), d); // Cᵀ, row-major m × n (contiguous g updates)
    let (mut f, mut g, schedule) = match warm {
        Some((f0, g0)) => {
            check_warm("warm-start f", f0, n)?;
            check_warm("warm-start g", g0, m)?;
            (f0.to_vec(), g0.to_vec(), Vec::new())
        }
        None => (vec![0.0; n], vec![0.0; m], annealing(max_cost(&c), opts)),
    };
    let eps = opts.epsilon;
    let mut iterations = 0;
    // annealing: one (f, g) sweep per ε level
    for &e in &schedule {
        soft_min(&c, &g, n, e, &mut f);
        soft_min(&ct, &f, m, e, &mut g);
        iterations += 1;
    }
    let mut f_next = vec![0.0; n];
    soft_min(&c, &g, n, eps, &mut f_next);
    let mut err = marginal_error(&f, &f_next, eps);
    f.copy_from_slice(&f_next);
    while err > opts.tol || !err.is_finite() {
        if iterations >= opts.max_iterations || !err.is_finite() {
            return Err(WassersteinError::SinkhornNotConverged {
                iterations,
                marginal_error: err,
                tol: opts.tol,
            });
        }
        soft_min(&ct, &f, m, eps, &mut g);
        soft_min(&c, &g, n, eps, &mut f_next);
        err = marginal_error(&f, &f_next, eps);
        f.copy_from_slice(&f_next);
        iterations += 1;
    }
    check_finite(|| "Sinkhorn potential f".into(), &f)?;
    check_finite(|| "Sinkhorn potential g".into(), &g)?;
    let value = f.iter().sum::<f64>() / n as f64 + g.iter().sum::<f64>() / m as f64;
    Ok(EntropicOt {
        value,
        f,
        g,
        iterations,
        marginal_error: err,
    })
}

/// The symmetric problem `OT_ε(μ̂, μ̂)` by the averaged update `f ← ½(f + T(f))`; the
/// returned `g` equals `f`.
///
/// # Errors
/// As [`entropic_ot`].
///
/// # Examples
/// ```
/// use gdlab_wasserstein::{sinkhorn::{entropic_ot_self, SinkhornOptions}, Particles};
/// // one point: π = δ, OT_ε = 0
/// let x = Particles::new(1, 2, vec![1.0, 2.0]).unwrap();
/// let ot = entropic_ot_self(&x, &SinkhornOptions::default(), None).unwrap();
/// assert!(ot.value.abs() < 1e-12);
/// ```
pub fn entropic_ot_self(
    x: &Particles,
    opts: &SinkhornOptions,
    warm: Option<&[f64]>,
) -> Result<EntropicOt> {
    opts.validate()?;
    let (n, d) = (x.n_particles(), x.dim());
    let c = cost_matrix(x.data(), x.data(), d);
    let (mut f, schedule) = match warm {
        Some(f0) => {
            check_warm("warm-start f (symmetric)", f0, n)?;
            (f0.to_vec(), Vec::new())
        }
        None => (vec![0.0; n], annealing(max_cost(&c), opts)),
    };
    let eps = opts.epsilon;
    let mut t = vec![0.0; n];
    let mut iterations = 0;
    for &e in &schedule {
        soft_min(&c, &f, n, e, &mut t);
        for (fi, ti) in f.iter_mut().zip(&t) {
            *fi = 0.5 * (*fi + ti);
        }
        iterations += 1;
    }
    loop {
        soft_min(&c, &f, n, eps, &mut t);
        let err = marginal_error(&f, &t, eps);
        if err <= opts.tol {
            // f = T(f) up to tol: use T(f), whose plan has exact row sums up to rounding
            f.copy_from_slice(&t);
            check_finite(|| "Sinkhorn potential (symmetric)".into(), &f)?;
            let value = 2.0 * f.iter().sum::<f64>() / n as f64;
            return Ok(EntropicOt {
                value,
                g: f.clone(),
                f,
                iterations,
                marginal_error: err,
            });
        }
        if iterations >= opts.max_iterations || !err.is_finite() {
            return Err(WassersteinError::SinkhornNotConverged {
                iterations,
                marginal_error: err,
                tol: opts.tol,
            });
        }
        for (fi, ti) in f.iter_mut().zip(&t) {
            *fi = 0.5 * (*fi + ti);
        }
        iterations += 1;
    }
}

fn check_warm(what: &'static str, v: &[f64], len: usize) -> Result<()> {
    if v.len() != len {
        return Err(WassersteinError::Dim {
            op: what,
            expected: len,
            got: v.len(),
        });
    }
    check_finite(|| what.to_string(), v)
}

/// Barycentric projections `Σⱼ w_ij y_j` with `w_ij ∝ exp((g_j − C_ij)/ε)` (the plan's
/// conditional law of the second point given `xᵢ`, normalised exactly).
fn barycentric(x: &[f64], y: &[f64], g: &[f64], d: usize, eps: f64) -> Vec<f64> {
    let m = g.len();
    let mut out = vec![0.0; x.len()];
    out.par_chunks_mut(d * ROWS_PER_CHUNK)
        .enumerate()
        .for_each(|(ch, block)| {
            let mut t = vec![0.0; m];
            for (r, o) in block.chunks_mut(d).enumerate() {
                let i = ch * ROWS_PER_CHUNK + r;
                let xi = &x[i * d..(i + 1) * d];
                let mut mx = f64::NEG_INFINITY;
                for (j, tj) in t.iter_mut().enumerate() {
                    let yj = &y[j * d..(j + 1) * d];
                    let cij: f64 = xi.iter().zip(yj).map(|(a, b)| (a - b) * (a - b)).sum();
                    *tj = (g[j] - cij) / eps;
                    mx = mx.max(*tj);
                }
                let mut s = 0.0;
                o.iter_mut().for_each(|v| *v = 0.0);
                for (j, tj) in t.iter().enumerate() {
                    let w = shifted_exp(tj - mx);
                    if w == 0.0 {
                        continue;
                    }
                    s += w;
                    for k in 0..d {
                        o[k] += w * y[j * d + k];
                    }
                }
                o.iter_mut().for_each(|v| *v /= s);
            }
        });
    out
}

/// Warm-start state of [`SinkhornDivergence::evaluate`]: the potentials of the last solve.
#[derive(Clone, Debug, PartialEq)]
pub struct SinkhornState {
    /// `(f, g)` of `OT_ε(μ̂, ν̂)`.
    pub cross: (Vec<f64>, Vec<f64>),
    /// `f` of `OT_ε(μ̂, μ̂)`.
    pub own: Vec<f64>,
    /// Sinkhorn iterations of the last evaluation (cross + symmetric problems).
    pub iterations: usize,
}

/// Half the Sinkhorn divergence to a target sample, `F(μ̂) = ½S_ε(μ̂, ν̂)` with cost
/// `‖x − y‖²`, and its Wasserstein gradient `x̄ᵢ − ȳᵢ` (see the [module docs](self),
/// including the unverified choices).
///
/// # Examples
/// ```
/// use gdlab_wasserstein::{sinkhorn::{SinkhornDivergence, SinkhornOptions}, Functional, Particles};
/// let y = Particles::new(2, 1, vec![0.0, 1.0]).unwrap();
/// let s = SinkhornDivergence::new(y.clone(), SinkhornOptions::default()).unwrap();
/// assert!(s.divergence(&y).unwrap().abs() < 1e-8); // S_ε(ν, ν) = 0
/// let x = Particles::new(2, 1, vec![2.0, 3.0]).unwrap();
/// assert!(s.value(&x).unwrap() > 0.0);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct SinkhornDivergence {
    target: Particles,
    options: SinkhornOptions,
    /// `OT_ε(ν̂, ν̂)`, computed once.
    target_self: f64,
}

impl SinkhornDivergence {
    /// The divergence to `target`; solves `OT_ε(ν̂, ν̂)` once.
    ///
    /// # Errors
    /// As [`entropic_ot_self`].
    pub fn new(target: Particles, options: SinkhornOptions) -> Result<Self> {
        let target_self = entropic_ot_self(&target, &options, None)?.value;
        Ok(SinkhornDivergence {
            target,
            options,
            target_self,
        })
    }

    /// The target sample.
    #[must_use]
    pub fn target(&self) -> &Particles {
        &self.target
    }

    /// The solver options.
    #[must_use]
    pub fn options(&self) -> SinkhornOptions {
        self.options
    }

    /// `S_ε(μ̂, ν̂)` (cold start).
    ///
    /// # Errors
    /// As [`entropic_ot`].
    pub fn divergence(&self, x: &Particles) -> Result<f64> {
        Ok(2.0 * self.evaluate(x, None, None)?.0)
    }

    /// `F(μ̂) = ½S_ε(μ̂, ν̂)`, optionally its Wasserstein gradient into `grad`, and the
    /// potentials for a warm start of the next evaluation (`warm`: the state of a previous
    /// evaluation on particles of the same size).
    ///
    /// # Errors
    /// [`WassersteinError::Dim`] for shapes; as [`entropic_ot`] otherwise.
    pub fn evaluate(
        &self,
        x: &Particles,
        warm: Option<&SinkhornState>,
        grad: Option<&mut [f64]>,
    ) -> Result<(f64, SinkhornState)> {
        check_shapes(self, x, grad.as_ref().map(|g| g.len()))?;
        let cross = entropic_ot(
            x,
            &self.target,
            &self.options,
            warm.map(|w| (w.cross.0.as_slice(), w.cross.1.as_slice())),
        )?;
        let own = entropic_ot_self(x, &self.options, warm.map(|w| w.own.as_slice()))?;
        let value = 0.5 * (cross.value - 0.5 * own.value - 0.5 * self.target_self);
        if let Some(out) = grad {
            let d = x.dim();
            let eps = self.options.epsilon;
            let ybar = barycentric(x.data(), self.target.data(), &cross.g, d, eps);
            let xbar = barycentric(x.data(), x.data(), &own.g, d, eps);
            for ((o, a), b) in out.iter_mut().zip(&xbar).zip(&ybar) {
                *o = a - b;
            }
        }
        Ok((
            value,
            SinkhornState {
                iterations: cross.iterations + own.iterations,
                cross: (cross.f, cross.g),
                own: own.f,
            },
        ))
    }
}

impl Functional for SinkhornDivergence {
    fn name(&self) -> String {
        format!("½ Sinkhorn divergence (ε = {})", self.options.epsilon)
    }
    fn dim(&self) -> Option<usize> {
        Some(self.target.dim())
    }
    fn value(&self, x: &Particles) -> Result<f64> {
        Ok(self.evaluate(x, None, None)?.0)
    }
    fn wgrad(&self, x: &Particles, out: &mut [f64]) -> Result<()> {
        self.evaluate(x, None, Some(out)).map(|_| ())
    }
}

#[cfg(test)]
#[allow(clippy::needless_range_loop)]
mod tests {
    use super::*;
    use crate::functional::finite_difference_wgrad;
    use gdlab_core::Seed;

    fn opts(epsilon: f64) -> SinkhornOptions {
        SinkhornOptions {
            epsilon,
            tol: 1e-13,
            max_iterations: 200_000,
            scaling: 0.5,
        }
    }

    /// Two points against two points: with `Δ = C₁₁ + C₂₂ − C₁₂ − C₂₁`, the optimal plan is
    /// `[[p, ½−p], [½−p, p]]` with `p/(½−p) = exp(−Δ/(2ε))` (set the derivative of
    /// `⟨π, C⟩ + ε KL(π‖a⊗b)` in `p` to zero), which gives `OT_ε` in closed form.
    #[test]
    fn two_point_closed_form() {
        let x = Particles::new(2, 1, vec![0.0, 1.5]).unwrap();
        let y = Particles::new(2, 1, vec![0.4, 2.0]).unwrap();
        let c = |a: f64, b: f64| (a - b) * (a - b);
        let (x1, x2, y1, y2) = (0.0, 1.5, 0.4, 2.0);
        let delta = c(x1, y1) + c(x2, y2) - c(x1, y2) - c(x2, y1);
        for eps in [0.05, 0.3, 1.0, 5.0] {
            // p = ½e/(1+e), q = ½ − p = ½/(1+e), with e = exp(−Δ/(2ε)) (may be large)
            let e = (-delta / (2.0 * eps)).exp();
            let p = 0.5 * e / (1.0 + e);
            let q = 0.5 / (1.0 + e);
            let xlogx = |v: f64| if v > 0.0 { v * (4.0 * v).ln() } else { 0.0 };
            let cost = p * (c(x1, y1) + c(x2, y2)) + q * (c(x1, y2) + c(x2, y1));
            let kl = 2.0 * xlogx(p) + 2.0 * xlogx(q);
            let exact = cost + eps * kl;
            let ot = entropic_ot(&x, &y, &opts(eps), None).unwrap();
            assert!(
                (ot.value - exact).abs() < 1e-12 * (1.0 + exact),
                "ε = {eps}: {} vs {exact}",
                ot.value
            );
        }
    }

    fn permutations(n: usize) -> Vec<Vec<usize>> {
        if n == 1 {
            return vec![vec![0]];
        }
        let mut out = Vec::new();
        for p in permutations(n - 1) {
            for pos in 0..n {
                let mut q = p.clone();
                q.insert(pos, n - 1);
                out.push(q);
            }
        }
        out
    }

    /// `W₂² ≤ OT_ε ≤ W₂² + ε log n` for uniform `n`-point measures (the optimal permutation
    /// is feasible with `KL = log n`), and `OT_ε → W₂² + ε log n` as `ε → 0`, with `W₂²`
    /// by enumerating all `n!` permutations (`n = 6`; `x` on a circle and `y` a perturbed
    /// copy, so the optimal permutation is unique with a clear gap).
    #[test]
    fn small_epsilon_matches_exact_ot_by_enumeration() {
        let n = 6;
        let noise = Particles::gaussian(n, 2, 0.05, None, Seed(12)).unwrap();
        let mut xd = Vec::new();
        let mut yd = Vec::new();
        for i in 0..n {
            let t = 2.0 * std::f64::consts::PI * i as f64 / n as f64 + 0.1 * i as f64;
            xd.extend([t.cos(), t.sin()]);
            yd.extend([t.cos() + noise.row(i)[0], t.sin() + noise.row(i)[1]]);
        }
        let x = Particles::new(n, 2, xd).unwrap();
        let y = Particles::new(n, 2, yd).unwrap();
        let cost = |i: usize, j: usize| -> f64 {
            (0..2).map(|k| (x.row(i)[k] - y.row(j)[k]).powi(2)).sum()
        };
        let mut costs: Vec<f64> = permutations(n)
            .iter()
            .map(|p| (0..n).map(|i| cost(i, p[i])).sum::<f64>() / n as f64)
            .collect();
        assert_eq!(costs.len(), 720);
        costs.sort_by(f64::total_cmp);
        let (w2, gap) = (costs[0], costs[1] - costs[0]);
        assert!(
            gap > 0.1,
            "the optimal permutation must be unique (gap {gap})"
        );
        let log_n = (n as f64).ln();
        // near-permutation plans leave the dual nearly flat along per-pair shifts, so the
        // marginal error decays slowly (≈ 1/k) while the value is already accurate
        let o = |eps: f64| SinkhornOptions {
            tol: 1e-7,
            max_iterations: 2_000_000,
            ..opts(eps)
        };
        for eps in [1.0, 0.3, 0.1, 0.03] {
            let v = entropic_ot(&x, &y, &o(eps), None).unwrap().value;
            assert!(
                v >= w2 - 1e-9 && v <= w2 + eps * log_n + 1e-9,
                "ε = {eps}: {v}"
            );
        }
        // ε = gap/30: the plan is the optimal permutation up to mass ≲ e^{−30}, so
        // OT_ε − W₂² = ε·KL(π‖a⊗b) = ε log n up to a tiny relative error
        let eps = gap / 30.0;
        let v = entropic_ot(&x, &y, &o(eps), None).unwrap().value;
        assert!(
            (v - (w2 + eps * log_n)).abs() < 1e-3 * eps,
            "{v} vs {} (ε = {eps})",
            w2 + eps * log_n
        );
    }

    /// Against an independent dense (exp-domain) matrix-scaling Sinkhorn at moderate `ε`.
    #[test]
    fn agrees_with_dense_matrix_scaling() {
        let x = Particles::gaussian(7, 3, 1.0, None, Seed(1)).unwrap();
        let y = Particles::gaussian(5, 3, 1.0, Some(&[1.0, 0.0, 0.0]), Seed(2)).unwrap();
        let eps = 0.7;
        let (n, m) = (7, 5);
        let k: Vec<Vec<f64>> = (0..n)
            .map(|i| {
                (0..m)
                    .map(|j| {
                        let c: f64 = (0..3).map(|t| (x.row(i)[t] - y.row(j)[t]).powi(2)).sum();
                        (-c / eps).exp()
                    })
                    .collect()
            })
            .collect();
        let (a, b) = (1.0 / n as f64, 1.0 / m as f64);
        let mut u = vec![1.0; n];
        let mut v = vec![1.0; m];
        for _ in 0..20_000 {
            for i in 0..n {
                u[i] = a / (0..m).map(|j| k[i][j] * v[j]).sum::<f64>();
            }
            for j in 0..m {
                v[j] = b / (0..n).map(|i| k[i][j] * u[i]).sum::<f64>();
            }
        }
        // f = ε log(u/a), g = ε log(v/b); OT_ε = ⟨a, f⟩ + ⟨b, g⟩
        let dense: f64 = u.iter().map(|ui| a * eps * (ui / a).ln()).sum::<f64>()
            + v.iter().map(|vj| b * eps * (vj / b).ln()).sum::<f64>();
        let ot = entropic_ot(&x, &y, &opts(eps), None).unwrap();
        assert!(
            (ot.value - dense).abs() < 1e-11 * dense.abs(),
            "{} vs {dense}",
            ot.value
        );
        // the symmetric solver equals the general one on (x, x)
        let s1 = entropic_ot_self(&x, &opts(eps), None).unwrap();
        let s2 = entropic_ot(&x, &x, &opts(eps), None).unwrap();
        assert!((s1.value - s2.value).abs() < 1e-11 * (1.0 + s2.value.abs()));
    }

    #[test]
    fn divergence_gradient_matches_finite_differences() {
        let y = Particles::gaussian(6, 2, 1.0, Some(&[1.0, -0.5]), Seed(3)).unwrap();
        let x = Particles::gaussian(5, 2, 0.8, None, Seed(4)).unwrap();
        let s = SinkhornDivergence::new(y.clone(), opts(0.5)).unwrap();
        let mut g = vec![0.0; 10];
        s.wgrad(&x, &mut g).unwrap();
        let fd = finite_difference_wgrad(&s, &x, 1e-5).unwrap();
        for (a, b) in g.iter().zip(&fd) {
            assert!((a - b).abs() < 1e-7 * (1.0 + b.abs()), "{a} vs {b}");
        }
        // S_ε ≥ 0, S_ε(ν, ν) = 0 and the gradient vanishes there
        assert!(s.divergence(&x).unwrap() > 0.0);
        assert!(s.divergence(&y).unwrap().abs() < 1e-12);
        let mut gy = vec![0.0; 12];
        s.wgrad(&y, &mut gy).unwrap();
        assert!(gy.iter().all(|v| v.abs() < 1e-10), "{gy:?}");
    }

    #[test]
    fn warm_start_gives_the_same_solution_in_fewer_iterations() {
        let y = Particles::gaussian(30, 2, 1.0, Some(&[2.0, 0.0]), Seed(5)).unwrap();
        let x = Particles::gaussian(20, 2, 1.0, None, Seed(6)).unwrap();
        let o = SinkhornOptions {
            tol: 1e-11,
            ..SinkhornOptions::default()
        };
        let s = SinkhornDivergence::new(y, o).unwrap();
        let mut g0 = vec![0.0; 40];
        let (v0, st) = s.evaluate(&x, None, Some(&mut g0)).unwrap();
        let mut x1 = x.clone();
        let moved: Vec<f64> = x
            .data()
            .iter()
            .zip(&g0)
            .map(|(a, b)| a - 0.01 * b)
            .collect();
        x1.set_data(moved, || "x1".into()).unwrap();
        let (cold, st_cold) = s.evaluate(&x1, None, None).unwrap();
        let (warm, st_warm) = s.evaluate(&x1, Some(&st), None).unwrap();
        assert!((cold - warm).abs() < 1e-9 * (1.0 + cold.abs()));
        assert!(st_warm.iterations < st_cold.iterations);
        assert!(cold < v0);
    }

    #[test]
    fn bad_input_is_rejected() {
        let x = Particles::gaussian(3, 2, 1.0, None, Seed(1)).unwrap();
        let y3 = Particles::gaussian(3, 3, 1.0, None, Seed(2)).unwrap();
        let d = SinkhornOptions::default();
        assert!(matches!(
            entropic_ot(&x, &y3, &d, None),
            Err(WassersteinError::Dim { .. })
        ));
        for bad in [
            SinkhornOptions { epsilon: 0.0, ..d },
            SinkhornOptions {
                epsilon: f64::NAN,
                ..d
            },
            SinkhornOptions { tol: -1.0, ..d },
            SinkhornOptions {
                max_iterations: 0,
                ..d
            },
            SinkhornOptions { scaling: 1.0, ..d },
        ] {
            let e = entropic_ot(&x, &x, &bad, None).unwrap_err();
            assert!(matches!(e, WassersteinError::OutOfRange { .. }), "{e}");
        }
        let e = entropic_ot(&x, &x, &d, Some((&[0.0; 2], &[0.0; 3]))).unwrap_err();
        assert!(matches!(e, WassersteinError::Dim { .. }));
        let e = entropic_ot(&x, &x, &d, Some((&[0.0, f64::NAN, 0.0], &[0.0; 3]))).unwrap_err();
        assert!(matches!(e, WassersteinError::NonFinite { .. }));
        // a cap too small to converge is reported, not accepted
        let tight = SinkhornOptions {
            epsilon: 1e-3,
            tol: 1e-14,
            max_iterations: 3,
            scaling: 0.5,
        };
        let far = Particles::gaussian(3, 2, 5.0, None, Seed(9)).unwrap();
        let e = entropic_ot(&x, &far, &tight, None).unwrap_err();
        assert!(
            matches!(e, WassersteinError::SinkhornNotConverged { .. }),
            "{e}"
        );
    }
}
