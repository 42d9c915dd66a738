//! Functionals `F: P₂(R^d) → R` on particle measures and their Wasserstein gradients
//! `∇_{W₂}F(μ̂)(xᵢ)` (spec §1, §2.5).
//!
//! **Convention.** For a particle measure, the Wasserstein gradient at `xᵢ` is `n` times
//! the Euclidean gradient of `F(x₁, …, xₙ)` with respect to `xᵢ`: moving particle `i`
//! moves mass `1/n`. Every gradient here is tested against central finite differences of
//! [`Functional::value`] through this identity.

use rayon::prelude::*;

use crate::error::{Result, WassersteinError};
use crate::kernel::PairKernel;
use crate::matrix::SpdMatrix;
use crate::particles::Particles;

/// Rows per parallel chunk: fixed, so the work split never depends on the thread count.
pub const ROWS_PER_CHUNK: usize = 64;

/// A functional on particle measures with its Wasserstein gradient.
pub trait Functional: Send + Sync {
    /// Short name for reports.
    fn name(&self) -> String;
    /// The dimension the functional lives in, if fixed.
    fn dim(&self) -> Option<usize>;
    /// `F(μ̂)`.
    ///
    /// # Errors
    /// [`WassersteinError::Dim`] if `x` has the wrong dimension.
    fn value(&self, x: &Particles) -> Result<f64>;
    /// `∇_{W₂}F(μ̂)(xᵢ)` for every particle, row-major into `out` (`n · d` values).
    ///
    /// # Errors
    /// [`WassersteinError::Dim`] if `x` or `out` has the wrong shape.
    fn wgrad(&self, x: &Particles, out: &mut [f64]) -> Result<()>;
}

pub(crate) fn check_shapes(
    f: &dyn Functional,
    x: &Particles,
    out_len: Option<usize>,
) -> Result<()> {
    if let Some(d) = f.dim() {
        x.check_dim("functional dimension vs particles", d)?;
    }
    if let Some(len) = out_len {
        if len != x.data().len() {
            return Err(WassersteinError::Dim {
                op: "gradient buffer (n · d)",
                expected: x.data().len(),
                got: len,
            });
        }
    }
    Ok(())
}

/// Potential energy `𝒱(μ) = ∫ V dμ` with the quadratic `V(x) = ½(x − c)ᵀA(x − c)`
/// (`A = Σ*⁻¹` makes `𝒱 + ℋ` the KL to `N(c, Σ*)` up to a constant). `∇_{W₂}𝒱 = ∇V`.
///
/// # Examples
/// ```
/// use gdlab_wasserstein::{functional::{Functional, PotentialEnergy}, matrix::SpdMatrix, Particles};
/// let v = PotentialEnergy::new(SpdMatrix::identity(1), vec![1.0]).unwrap();
/// let x = Particles::new(2, 1, vec![0.0, 3.0]).unwrap();
/// assert_eq!(v.value(&x).unwrap(), 0.5 * (0.5 * 1.0 + 0.5 * 4.0));
/// let mut g = [0.0; 2];
/// v.wgrad(&x, &mut g).unwrap();
/// assert_eq!(g, [-1.0, 2.0]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct PotentialEnergy {
    a: SpdMatrix,
    centre: Vec<f64>,
}

impl PotentialEnergy {
    /// `V(x) = ½(x − c)ᵀA(x − c)`.
    ///
    /// # Errors
    /// [`WassersteinError::Dim`] if `centre` and `A` disagree; non-finite centre.
    pub fn new(a: SpdMatrix, centre: Vec<f64>) -> Result<Self> {
        if centre.len() != a.dim() {
            return Err(WassersteinError::Dim {
                op: "potential centre vs matrix",
                expected: a.dim(),
                got: centre.len(),
            });
        }
        crate::error::check_finite(|| "potential centre".into(), &centre)?;
        Ok(PotentialEnergy { a, centre })
    }

    /// The Hessian `A`.
    #[must_use]
    pub fn matrix(&self) -> &SpdMatrix {
        &self.a
    }

    /// `∇V(x)` into `out`.
    pub fn grad_v(&self, x: &[f64], out: &mut [f64]) {
        let z: Vec<f64> = x.iter().zip(&self.centre).map(|(a, c)| a - c).collect();
        self.a.apply(&z, out);
    }
}

impl Functional for PotentialEnergy {
    fn name(&self) -> String {
        "potential".into()
    }
    fn dim(&self) -> Option<usize> {
        Some(self.a.dim())
    }
    fn value(&self, x: &Particles) -> Result<f64> {
        check_shapes(self, x, None)?;
        let d = x.dim();
        let mut g = vec![0.0; d];
        let mut s = 0.0;
        for r in x.data().chunks(d) {
            self.grad_v(r, &mut g);
            let v: f64 = r
                .iter()
                .zip(&self.centre)
                .zip(&g)
                .map(|((a, c), gg)| (a - c) * gg)
                .sum();
            s += 0.5 * v;
        }
        Ok(s / x.n_particles() as f64)
    }
    fn wgrad(&self, x: &Particles, out: &mut [f64]) -> Result<()> {
        check_shapes(self, x, Some(out.len()))?;
        let d = x.dim();
        for (r, o) in x.data().chunks(d).zip(out.chunks_mut(d)) {
            self.grad_v(r, o);
        }
        Ok(())
    }
}

/// Interaction energy `𝒲(μ) = ½∬W(x − y) dμ dμ` for an even pair kernel `W`
/// ([`PairKernel`]), with `∇_{W₂}𝒲(μ̂)(xᵢ) = (1/n) Σⱼ ∇W(xᵢ − xⱼ)` (including `j = i`,
/// where `∇W(0) = 0`), spec §2.5.
///
/// O(n²) pairs, computed in parallel over fixed chunks of [`ROWS_PER_CHUNK`] rows; each
/// row sums over `j` in index order, so the result is the same bits for any thread count.
/// With `yᵢ = Mxᵢ` precomputed, each pair costs O(d) (`Mz = yᵢ − yⱼ`).
///
/// **Plotted energy.** The reference code plots `mean_{i,j} W(xᵢ − xⱼ)` (no ½):
/// [`InteractionEnergy::mean_pair_energy`]. [`Functional::value`] is the functional
/// `𝒲 = ½·mean` whose Wasserstein gradient is the one above.
#[derive(Clone, Debug, PartialEq)]
pub struct InteractionEnergy {
    kernel: PairKernel,
}

impl InteractionEnergy {
    /// The interaction energy of `kernel`.
    #[must_use]
    pub fn new(kernel: PairKernel) -> Self {
        InteractionEnergy { kernel }
    }

    /// The kernel.
    #[must_use]
    pub fn kernel(&self) -> &PairKernel {
        &self.kernel
    }

    fn metric_images(&self, x: &Particles) -> Vec<f64> {
        let d = x.dim();
        let mut y = vec![0.0; x.data().len()];
        for (r, o) in x.data().chunks(d).zip(y.chunks_mut(d)) {
            self.kernel.apply_metric(r, o);
        }
        y
    }

    /// `mean_{i,j} W(xᵢ − xⱼ)` over all `n²` ordered pairs (the plotted energy).
    ///
    /// # Errors
    /// [`WassersteinError::Dim`] on a dimension mismatch.
    pub fn mean_pair_energy(&self, x: &Particles) -> Result<f64> {
        check_shapes(self, x, None)?;
        let d = x.dim();
        let n = x.n_particles();
        let y = self.metric_images(x);
        let xs = x.data();
        let row_sums: Vec<f64> = (0..n)
            .into_par_iter()
            .with_min_len(ROWS_PER_CHUNK)
            .map(|i| {
                let (xi, yi) = (&xs[i * d..(i + 1) * d], &y[i * d..(i + 1) * d]);
                let mut s = 0.0;
                for j in 0..n {
                    let (xj, yj) = (&xs[j * d..(j + 1) * d], &y[j * d..(j + 1) * d]);
                    let mut q = 0.0;
                    for k in 0..d {
                        q += (xi[k] - xj[k]) * (yi[k] - yj[k]);
                    }
                    s += self.kernel.value_of_q(q);
                }
                s
            })
            .collect();
        // reduced in index order
        let total: f64 = row_sums.iter().sum();
        Ok(total / (n as f64 * n as f64))
    }
}

impl Functional for InteractionEnergy {
    fn name(&self) -> String {
        format!("interaction ({})", self.kernel.shape().name())
    }
    fn dim(&self) -> Option<usize> {
        Some(self.kernel.dim())
    }
    fn value(&self, x: &Particles) -> Result<f64> {
        Ok(0.5 * self.mean_pair_energy(x)?)
    }
    fn wgrad(&self, x: &Particles, out: &mut [f64]) -> Result<()> {
        check_shapes(self, x, Some(out.len()))?;
        interaction_wgrad(&self.kernel, x.data(), x.dim(), out);
        Ok(())
    }
}

/// `outᵢ = (1/n) Σⱼ ∇K(xᵢ − xⱼ)` for row-major `xs` of dimension `d` (parallel over
/// fixed row chunks, sequential over `j`: bitwise independent of the thread count).
///
/// With `∇K(z) = (c₄q + c₂)Mz`, `q = zᵀMz` and `yⱼ = Mxⱼ`, row `i` is
/// `(1/n)[(Σⱼfⱼ) yᵢ − Σⱼ fⱼ yⱼ]`, `fⱼ = c₄qᵢⱼ + c₂`. The coordinates are stored by column
/// (structure of arrays) so the passes over `j` vectorise; each sum over `j` uses
/// [`LANES`] interleaved partial sums combined in a fixed order.
pub fn interaction_wgrad(kernel: &PairKernel, xs: &[f64], d: usize, out: &mut [f64]) {
    let n = xs.len() / d;
    let mut y = vec![0.0; xs.len()];
    for (r, o) in xs.chunks(d).zip(y.chunks_mut(d)) {
        kernel.apply_metric(r, o);
    }
    // columns: xt[k·n + j] = x_{j,k}
    let mut xt = vec![0.0; xs.len()];
    let mut yt = vec![0.0; xs.len()];
    for j in 0..n {
        for k in 0..d {
            xt[k * n + j] = xs[j * d + k];
            yt[k * n + j] = y[j * d + k];
        }
    }
    let (c4, c2) = kernel.coefficients();
    let inv_n = 1.0 / n as f64;
    out.par_chunks_mut(d * ROWS_PER_CHUNK)
        .enumerate()
        .for_each(|(c, block)| {
            let mut q = vec![0.0; n];
            for (r, o) in block.chunks_mut(d).enumerate() {
                let i = c * ROWS_PER_CHUNK + r;
                q.iter_mut().for_each(|v| *v = 0.0);
                for k in 0..d {
                    let (xi, yi) = (xs[i * d + k], y[i * d + k]);
                    let (xc, yc) = (&xt[k * n..(k + 1) * n], &yt[k * n..(k + 1) * n]);
                    for ((qj, a), b) in q.iter_mut().zip(xc).zip(yc) {
                        *qj += (xi - a) * (yi - b);
                    }
                }
                q.iter_mut().for_each(|v| *v = c4 * *v + c2);
                let fsum = lane_sum(&q);
                for k in 0..d {
                    let yc = &yt[k * n..(k + 1) * n];
                    o[k] = inv_n * (fsum * y[i * d + k] - lane_dot(&q, yc));
                }
            }
        });
}

/// Interleaved partial sums per reduction over `j` in [`interaction_wgrad`] (combined in index order).
pub const LANES: usize = 8;

/// `Σ aⱼ` with [`LANES`] interleaved partial sums, combined in index order (deterministic).
fn lane_sum(a: &[f64]) -> f64 {
    let mut acc = [0.0; LANES];
    let mut chunks = a.chunks_exact(LANES);
    for ch in &mut chunks {
        for l in 0..LANES {
            acc[l] += ch[l];
        }
    }
    let tail: f64 = chunks.remainder().iter().sum();
    acc.iter().sum::<f64>() + tail
}

/// `Σ aⱼbⱼ` with [`LANES`] interleaved partial sums, combined in index order.
fn lane_dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0; LANES];
    let mut ca = a.chunks_exact(LANES);
    let mut cb = b.chunks_exact(LANES);
    for (x, y) in (&mut ca).zip(&mut cb) {
        for l in 0..LANES {
            acc[l] += x[l] * y[l];
        }
    }
    let tail: f64 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    acc.iter().sum::<f64>() + tail
}

/// A sum of functionals `F = Σ Fₖ` (e.g. KL = potential + entropy).
pub struct Sum {
    parts: Vec<Box<dyn Functional>>,
}

impl std::fmt::Debug for Sum {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sum")
            .field(
                "parts",
                &self.parts.iter().map(|p| p.name()).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Sum {
    /// The sum of `parts` (at least one).
    ///
    /// # Errors
    /// [`WassersteinError::Invalid`] when `parts` is empty or the parts' dimensions differ.
    pub fn new(parts: Vec<Box<dyn Functional>>) -> Result<Self> {
        if parts.is_empty() {
            return Err(WassersteinError::Invalid {
                field: "functional",
                reason: "a sum needs at least one term".into(),
            });
        }
        let dims: Vec<usize> = parts.iter().filter_map(|p| p.dim()).collect();
        if dims.windows(2).any(|w| w[0] != w[1]) {
            return Err(WassersteinError::Invalid {
                field: "functional",
                reason: format!("terms of a sum live in different dimensions {dims:?}"),
            });
        }
        Ok(Sum { parts })
    }
}

impl Functional for Sum {
    fn name(&self) -> String {
        self.parts
            .iter()
            .map(|p| p.name())
            .collect::<Vec<_>>()
            .join(" + ")
    }
    fn dim(&self) -> Option<usize> {
        self.parts.iter().find_map(|p| p.dim())
    }
    fn value(&self, x: &Particles) -> Result<f64> {
        let mut s = 0.0;
        for p in &self.parts {
            s += p.value(x)?;
        }
        Ok(s)
    }
    fn wgrad(&self, x: &Particles, out: &mut [f64]) -> Result<()> {
        check_shapes(self, x, Some(out.len()))?;
        out.iter_mut().for_each(|v| *v = 0.0);
        let mut buf = vec![0.0; out.len()];
        for p in &self.parts {
            p.wgrad(x, &mut buf)?;
            out.iter_mut().zip(&buf).for_each(|(o, b)| *o += b);
        }
        Ok(())
    }
}

/// Central finite-difference check helper: `n · ∂F/∂x_{ik}` for every coordinate
/// (used by the tests of every functional; public so downstream functionals can reuse it).
///
/// # Errors
/// Whatever [`Functional::value`] returns.
pub fn finite_difference_wgrad(f: &dyn Functional, x: &Particles, h: f64) -> Result<Vec<f64>> {
    let n = x.n_particles() as f64;
    let mut out = vec![0.0; x.data().len()];
    for k in 0..out.len() {
        let mut xp = x.data().to_vec();
        let mut xm = x.data().to_vec();
        xp[k] += h;
        xm[k] -= h;
        let fp = f.value(&Particles::new(x.n_particles(), x.dim(), xp)?)?;
        let fm = f.value(&Particles::new(x.n_particles(), x.dim(), xm)?)?;
        out[k] = n * (fp - fm) / (2.0 * h);
    }
    Ok(out)
}

#[cfg(test)]
// exact zeros and exact endpoints are what these tests check; index loops mirror the formulas
#[allow(clippy::float_cmp, clippy::needless_range_loop, clippy::useless_vec)]
mod tests {
    use super::*;
    use crate::kernel::KernelShape;
    use gdlab_core::Seed;

    fn assert_fd(f: &dyn Functional, x: &Particles, tol: f64) {
        let mut g = vec![0.0; x.data().len()];
        f.wgrad(x, &mut g).unwrap();
        let fd = finite_difference_wgrad(f, x, 1e-5).unwrap();
        for (k, (a, b)) in g.iter().zip(&fd).enumerate() {
            assert!(
                (a - b).abs() <= tol * (1.0 + b.abs()),
                "{}: coordinate {k}: analytic {a} vs finite difference {b}",
                f.name()
            );
        }
    }

    #[test]
    fn potential_gradient_matches_finite_differences() {
        let a = SpdMatrix::from_rows("A", &[vec![2.0, 0.4], vec![0.4, 1.0]]).unwrap();
        let v = PotentialEnergy::new(a, vec![0.5, -1.0]).unwrap();
        let x = Particles::gaussian(7, 2, 1.0, None, Seed(3)).unwrap();
        assert_fd(&v, &x, 1e-8);
    }

    #[test]
    fn interaction_gradient_matches_finite_differences() {
        let sigma = SpdMatrix::diagonal("Σ", &[100.0, 1.0]).unwrap();
        for shape in [
            KernelShape::Quadratic,
            KernelShape::Quartic,
            KernelShape::DoubleWell,
        ] {
            let k = PairKernel::with_covariance(shape, &sigma).unwrap();
            let w = InteractionEnergy::new(k);
            let x = Particles::gaussian(9, 2, 1.5, None, Seed(4)).unwrap();
            assert_fd(&w, &x, 1e-7);
        }
        let m = SpdMatrix::from_rows(
            "M",
            &[
                vec![1.0, 0.2, 0.0],
                vec![0.2, 2.0, 0.1],
                vec![0.0, 0.1, 0.5],
            ],
        )
        .unwrap();
        let w = InteractionEnergy::new(PairKernel::double_well(m));
        let x = Particles::gaussian(6, 3, 1.0, None, Seed(5)).unwrap();
        assert_fd(&w, &x, 1e-7);
    }

    #[test]
    fn interaction_brute_force_and_thread_independence() {
        let w = InteractionEnergy::new(PairKernel::double_well(SpdMatrix::identity(2)));
        let x = Particles::gaussian(150, 2, 1.0, None, Seed(6)).unwrap();
        let mut g = vec![0.0; 300];
        w.wgrad(&x, &mut g).unwrap();
        // brute force with PairKernel::grad
        let mut b = vec![0.0; 2];
        let mut t = [0.0; 2];
        for i in 0..150 {
            b.iter_mut().for_each(|v| *v = 0.0);
            for j in 0..150 {
                let z = [x.row(i)[0] - x.row(j)[0], x.row(i)[1] - x.row(j)[1]];
                w.kernel().grad(&z, &mut t);
                b[0] += t[0] / 150.0;
                b[1] += t[1] / 150.0;
            }
            for k in 0..2 {
                assert!((b[k] - g[2 * i + k]).abs() < 1e-13 * (1.0 + b[k].abs()));
            }
        }
        let run = |threads| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let mut g = vec![0.0; 300];
                w.wgrad(&x, &mut g).unwrap();
                (g, w.mean_pair_energy(&x).unwrap())
            })
        };
        let (g1, e1) = run(1);
        let (g4, e4) = run(4);
        assert!(g1.iter().zip(&g4).all(|(a, b)| a.to_bits() == b.to_bits()));
        assert_eq!(e1.to_bits(), e4.to_bits());
    }

    #[test]
    fn dimension_mismatch_is_an_error() {
        let w = InteractionEnergy::new(PairKernel::double_well(SpdMatrix::identity(2)));
        let x = Particles::gaussian(3, 3, 1.0, None, Seed(6)).unwrap();
        assert!(matches!(w.value(&x), Err(WassersteinError::Dim { .. })));
        let x = Particles::gaussian(3, 2, 1.0, None, Seed(6)).unwrap();
        let mut g = vec![0.0; 5];
        assert!(w.wgrad(&x, &mut g).is_err());
    }
}
