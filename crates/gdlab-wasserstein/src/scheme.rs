//! Explicit schemes on particles (spec §2): Wasserstein GD, mirror descent with a
//! potential-type Bregman potential (a [`MirrorMap`]), mirror descent with an
//! interaction-type Bregman potential (implicit; Newton on all particles) and
//! preconditioned GD.
//!
//! | scheme | update of particle `i` (`gᵢ = ∇_{W₂}F(μ̂ₖ)(xᵢ)`) | spec |
//! |---|---|---|
//! | [`Scheme::Gd`] | `xᵢ ← xᵢ − τ gᵢ` | §2.1 |
//! | [`Scheme::Mirror`] | `xᵢ ← ∇V*(∇V(xᵢ) − τ gᵢ)` | §2.2a |
//! | [`Scheme::MirrorInteraction`] | solve `(1/n)Σⱼ∇K(yᵢ − yⱼ) = (1/n)Σⱼ∇K(xᵢ − xⱼ) − τ gᵢ` | §2.2b |
//! | [`Scheme::Preconditioned`] | `xᵢ ← xᵢ − τ ∇h*(gᵢ)` | §2.3 |

use faer::Mat;

use crate::error::{check_positive, Result, WassersteinError};
use crate::functional::{interaction_wgrad, Functional};
use crate::kernel::PairKernel;
use crate::matrix::{solve_seq, SpdMatrix};
use crate::mirror::MirrorMap;
use crate::particles::Particles;

/// The preconditioner `∇h*` of preconditioned GD (spec §2.3).
#[derive(Clone, Debug, PartialEq)]
pub enum Preconditioner {
    /// `h* = ½‖y‖²`: plain GD.
    Identity,
    /// `h*(y) = ½yᵀPy`, `∇h*(y) = Py`.
    Linear(SpdMatrix),
    /// `h*(y) = (‖y‖^a + 1)^{1/a} − 1`, `∇h*(y) = ‖y‖^{a−2}(‖y‖^a + 1)^{(1−a)/a} y`
    /// (0 at `y = 0`), `a > 0` (the single-cell experiment's choice, `a ∈ {1.25, 1.5, 1.75}`).
    PowerNorm {
        /// The exponent `a > 0`.
        a: f64,
    },
}

impl Preconditioner {
    /// The power-norm preconditioner.
    ///
    /// # Errors
    /// [`WassersteinError::OutOfRange`] unless `a > 0`.
    pub fn power_norm(a: f64) -> Result<Self> {
        check_positive("a", a)?;
        Ok(Preconditioner::PowerNorm { a })
    }

    /// `h*(y)`.
    #[must_use]
    pub fn h_star(&self, y: &[f64]) -> f64 {
        match self {
            Preconditioner::Identity => 0.5 * y.iter().map(|v| v * v).sum::<f64>(),
            Preconditioner::Linear(p) => {
                let mut t = vec![0.0; y.len()];
                p.apply(y, &mut t);
                0.5 * y.iter().zip(&t).map(|(a, b)| a * b).sum::<f64>()
            }
            Preconditioner::PowerNorm { a } => {
                let r = y.iter().map(|v| v * v).sum::<f64>().sqrt();
                (r.powf(*a) + 1.0).powf(1.0 / a) - 1.0
            }
        }
    }

    /// `∇h*(y)` into `out`.
    pub fn apply(&self, y: &[f64], out: &mut [f64]) {
        match self {
            Preconditioner::Identity => out.copy_from_slice(y),
            Preconditioner::Linear(p) => p.apply(y, out),
            Preconditioner::PowerNorm { a } => {
                let r = y.iter().map(|v| v * v).sum::<f64>().sqrt();
                if r == 0.0 {
                    out.iter_mut().for_each(|o| *o = 0.0);
                    return;
                }
                let ra = r.powf(*a);
                let f = r.powf(a - 2.0) * (ra + 1.0).powf((1.0 - a) / a);
                for (o, v) in out.iter_mut().zip(y) {
                    *o = f * v;
                }
            }
        }
    }
}

/// Stopping rule of the Newton solve of the implicit interaction mirror step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NewtonOptions {
    /// Stop when the Newton step `‖Y_prev − Y‖_F ≤ tol`. Default `1e-10` (the reference
    /// code uses `1e-5`; the solve converges quadratically, so the tighter rule costs one
    /// or two iterations and makes the iterates exact to rounding).
    pub tol: f64,
    /// Iteration cap (reference: 100). Reaching it is an error, never a silent accept.
    pub max_iterations: usize,
}

impl Default for NewtonOptions {
    fn default() -> Self {
        NewtonOptions {
            tol: 1e-10,
            max_iterations: 100,
        }
    }
}

/// Mirror descent with the interaction Bregman potential `φ^K(μ) = ½∬K(x − y)dμdμ`
/// (spec §2.2b): each step solves the `n·d` equations
/// `Gᵢ(Y) = (1/n)Σⱼ∇K(yᵢ − yⱼ) − Rᵢ = 0`, `Rᵢ = (1/n)Σⱼ∇K(xᵢ − xⱼ) − τgᵢ`,
/// by Newton's method from `Y = X`, with the exact Jacobian
/// `∂Gᵢ/∂yᵢ = (1/n)Σ_{j≠i}∇²K(yᵢ − yⱼ)`, `∂Gᵢ/∂y_l = −(1/n)∇²K(yᵢ − y_l)`.
///
/// `G` is translation-invariant, so `J` is singular along constant shifts; the gauge is
/// pinned by the constraint `mean(Y) = mean(X)`, solved exactly with the bordered system
/// `[[J, Cᵀ], [C, 0]]` (`C` = the mean operator) by LU. This needs `Σᵢ gᵢ = 0` (a
/// translation-invariant functional such as an interaction energy); otherwise the
/// equations have no solution and the step is an error.
///
/// **Deviations from the reference code** (spec §7): Newton starts from `X`, not from a
/// fresh random draw each step (deterministic and faster), and the translation gauge is a
/// constraint rather than `εI` regularisation.
#[derive(Clone, Debug, PartialEq)]
pub struct InteractionMirror {
    kernel: PairKernel,
    options: NewtonOptions,
}

/// What a Newton solve did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NewtonReport {
    /// Iterations run.
    pub iterations: usize,
    /// Last step norm `‖Y_prev − Y‖_F`.
    pub step_norm: f64,
    /// Final residual `max |Gᵢ(Y)|`.
    pub residual: f64,
}

impl InteractionMirror {
    /// The interaction mirror with kernel `K`.
    ///
    /// # Errors
    /// [`WassersteinError::OutOfRange`] for `tol ≤ 0` or `max_iterations = 0`.
    pub fn new(kernel: PairKernel, options: NewtonOptions) -> Result<Self> {
        check_positive("newton.tol", options.tol)?;
        if options.max_iterations == 0 {
            return Err(WassersteinError::OutOfRange {
                field: "newton.max_iterations",
                value: 0.0,
                allowed: "[1, ∞)",
            });
        }
        Ok(InteractionMirror { kernel, options })
    }

    /// The kernel.
    #[must_use]
    pub fn kernel(&self) -> &PairKernel {
        &self.kernel
    }

    /// The stopping rule.
    #[must_use]
    pub fn options(&self) -> NewtonOptions {
        self.options
    }

    /// `∇_{W₂}φ^K(μ̂)(xᵢ) = (1/n) Σⱼ ∇K(xᵢ − xⱼ)` for every particle.
    pub fn grad_phi(&self, x: &[f64], d: usize, out: &mut [f64]) {
        interaction_wgrad(&self.kernel, x, d, out);
    }

    /// One implicit step: returns the new particles `Y` and the Newton report.
    ///
    /// # Errors
    /// [`WassersteinError::Invalid`] if `Σᵢ gᵢ ≠ 0`; [`WassersteinError::NewtonNotConverged`]
    /// at the iteration cap or when the linear system is singular.
    pub fn solve(
        &self,
        x: &Particles,
        grad: &[f64],
        step_size: f64,
        step: usize,
    ) -> Result<(Vec<f64>, NewtonReport)> {
        let (n, d) = (x.n_particles(), x.dim());
        x.check_dim("interaction mirror kernel vs particles", self.kernel.dim())?;
        let nd = n * d;
        // translation invariance of the right-hand side
        let mut gsum = vec![0.0; d];
        let mut gscale = 0.0_f64;
        for r in grad.chunks(d) {
            for k in 0..d {
                gsum[k] += r[k];
                gscale = gscale.max(r[k].abs());
            }
        }
        let gmean = gsum.iter().fold(0.0_f64, |m, v| m.max(v.abs())) / n as f64;
        if gmean > 1e-9 * gscale.max(f64::MIN_POSITIVE) && gmean > 1e-300 {
            return Err(WassersteinError::Invalid {
                field: "functional",
                reason: format!(
                    "mirror descent with an interaction Bregman potential needs a translation-invariant \
                     functional (mean gradient 0); the mean gradient has max |·| = {gmean:e}"
                ),
            });
        }
        let xs = x.data();
        let mut rhs = vec![0.0; nd];
        self.grad_phi(xs, d, &mut rhs);
        for (r, g) in rhs.iter_mut().zip(grad) {
            *r -= step_size * g;
        }
        let xmean = x.mean();
        let mut y = xs.to_vec();
        let mut gy = vec![0.0; nd];
        let mut mz = vec![0.0; d];
        let inv_n = 1.0 / n as f64;
        let mut step_norm = f64::INFINITY;
        for it in 1..=self.options.max_iterations {
            self.grad_phi(&y, d, &mut gy);
            // bordered system [[J, Cᵀ], [C, 0]] [δ; λ] = [−G; x̄ − ȳ]
            let m = nd + d;
            let mut a = vec![0.0; m * m];
            for i in 0..n {
                for l in 0..n {
                    if l == i {
                        continue;
                    }
                    let mut q = 0.0;
                    let zi = &y[i * d..(i + 1) * d];
                    let zl = &y[l * d..(l + 1) * d];
                    let z: Vec<f64> = zi.iter().zip(zl).map(|(p, r)| p - r).collect();
                    self.kernel.apply_metric(&z, &mut mz);
                    for k in 0..d {
                        q += z[k] * mz[k];
                    }
                    // J_ii += H/n, J_il −= H/n
                    let base_ii = (i * d) * m + i * d;
                    let base_il = (i * d) * m + l * d;
                    self.kernel.add_hessian(&mz, q, inv_n, &mut a[base_ii..], m);
                    self.kernel
                        .add_hessian(&mz, q, -inv_n, &mut a[base_il..], m);
                }
            }
            for i in 0..n {
                for k in 0..d {
                    a[(nd + k) * m + i * d + k] = inv_n;
                    a[(i * d + k) * m + nd + k] = inv_n;
                }
            }
            let ymean: Vec<f64> = (0..d)
                .map(|k| (0..n).map(|i| y[i * d + k]).sum::<f64>() * inv_n)
                .collect();
            let amat = Mat::from_fn(m, m, |r, c| a[r * m + c]);
            let b = Mat::from_fn(m, 1, |r, _| {
                if r < nd {
                    -(gy[r] - rhs[r])
                } else {
                    xmean[r - nd] - ymean[r - nd]
                }
            });
            let Some(sol) = solve_seq(amat, b) else {
                return Err(WassersteinError::NewtonNotConverged {
                    step,
                    iterations: it,
                    max_iterations: self.options.max_iterations,
                    step_norm: f64::INFINITY,
                    tol: self.options.tol,
                });
            };
            let mut s2 = 0.0;
            for (r, yv) in y.iter_mut().enumerate() {
                let dv = sol[(r, 0)];
                *yv += dv;
                s2 += dv * dv;
            }
            step_norm = s2.sqrt();
            if step_norm <= self.options.tol {
                self.grad_phi(&y, d, &mut gy);
                let residual = gy
                    .iter()
                    .zip(&rhs)
                    .fold(0.0_f64, |mx, (a, b)| mx.max((a - b).abs()));
                return Ok((
                    y,
                    NewtonReport {
                        iterations: it,
                        step_norm,
                        residual,
                    },
                ));
            }
        }
        Err(WassersteinError::NewtonNotConverged {
            step,
            iterations: self.options.max_iterations,
            max_iterations: self.options.max_iterations,
            step_norm,
            tol: self.options.tol,
        })
    }
}

/// A scheme on particles.
#[derive(Clone, Debug, PartialEq)]
pub enum Scheme {
    /// Wasserstein GD.
    Gd,
    /// Mirror descent with a potential-type Bregman potential.
    Mirror(MirrorMap),
    /// Mirror descent with an interaction-type Bregman potential (Newton).
    MirrorInteraction(InteractionMirror),
    /// Preconditioned GD.
    Preconditioned(Preconditioner),
}

impl Scheme {
    /// Short name.
    #[must_use]
    pub fn name(&self) -> String {
        match self {
            Scheme::Gd => "gd".into(),
            Scheme::Mirror(m) => format!("mirror ({})", m.name()),
            Scheme::MirrorInteraction(k) => {
                format!("mirror-interaction ({})", k.kernel().shape().name())
            }
            Scheme::Preconditioned(Preconditioner::Identity) => "pgd (identity)".into(),
            Scheme::Preconditioned(Preconditioner::Linear(_)) => "pgd (linear)".into(),
            Scheme::Preconditioned(Preconditioner::PowerNorm { a }) => {
                format!("pgd (power-norm a={a})")
            }
        }
    }

    /// Checks that `x` is a valid starting point (domain, dimensions).
    ///
    /// # Errors
    /// [`WassersteinError::OutsideDomain`] or [`WassersteinError::Dim`].
    pub fn check_start(&self, x: &Particles) -> Result<()> {
        match self {
            Scheme::Mirror(m) => m.check_domain(x),
            Scheme::MirrorInteraction(k) => {
                x.check_dim("interaction mirror kernel vs particles", k.kernel().dim())
            }
            Scheme::Preconditioned(Preconditioner::Linear(p)) => {
                x.check_dim("preconditioner vs particles", p.dim())
            }
            _ => Ok(()),
        }
    }

    /// One step `μ_{k+1} = (T_{k+1})_#μ_k` with gradient `grad` at `x` (step index `step`,
    /// 0-based, for error messages). Returns the Newton report for the implicit scheme.
    ///
    /// # Errors
    /// Domain, dimension and Newton errors; [`WassersteinError::NonFinite`] if the new
    /// particles are not finite.
    pub fn step(
        &self,
        x: &mut Particles,
        grad: &[f64],
        step_size: f64,
        step: usize,
    ) -> Result<Option<NewtonReport>> {
        let d = x.dim();
        let mut new = x.data().to_vec();
        let mut report = None;
        match self {
            Scheme::Gd => {
                for (v, g) in new.iter_mut().zip(grad) {
                    *v -= step_size * g;
                }
            }
            Scheme::Mirror(m) => {
                m.check_domain(x)?;
                let mut y = vec![0.0; d];
                for (r, g) in new.chunks_mut(d).zip(grad.chunks(d)) {
                    m.grad_phi(r, &mut y);
                    for k in 0..d {
                        y[k] -= step_size * g[k];
                    }
                    m.grad_phi_star(&y, r);
                }
            }
            Scheme::MirrorInteraction(k) => {
                let (y, rep) = k.solve(x, grad, step_size, step)?;
                new = y;
                report = Some(rep);
            }
            Scheme::Preconditioned(p) => {
                let mut t = vec![0.0; d];
                for (r, g) in new.chunks_mut(d).zip(grad.chunks(d)) {
                    p.apply(g, &mut t);
                    for k in 0..d {
                        r[k] -= step_size * t[k];
                    }
                }
            }
        }
        x.set_data(new, || format!("particles after step {step}"))?;
        if let Scheme::Mirror(m) = self {
            // ∇V* maps into the open domain analytically; rounding can reach the boundary
            m.check_domain(x)?;
        }
        Ok(report)
    }
}

/// The step size and number of steps of a flow.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FlowConfig {
    /// `τ > 0`.
    pub step_size: f64,
    /// Number of steps (≥ 0).
    pub n_steps: usize,
}

impl FlowConfig {
    /// Validated config.
    ///
    /// # Errors
    /// [`WassersteinError::OutOfRange`] unless `step_size > 0` (finite).
    pub fn new(step_size: f64, n_steps: usize) -> Result<Self> {
        check_positive("step_size", step_size)?;
        Ok(FlowConfig { step_size, n_steps })
    }
}

/// How a flow ended.
#[derive(Clone, Debug, PartialEq)]
pub struct FlowSummary {
    /// Steps completed.
    pub steps: usize,
    /// Newton iterations per step (implicit scheme only).
    pub newton_iterations: Vec<usize>,
    /// Largest final Newton residual over the steps (implicit scheme only).
    pub newton_max_residual: Option<f64>,
}

/// Runs `scheme` on `functional` from `x` for `cfg.n_steps` steps, calling
/// `observe(k, &x)` before the first step (`k = 0`) and after each step `k = 1..`.
///
/// # Errors
/// Any error of [`Scheme::step`], [`Functional::wgrad`] or `observe`; a non-finite
/// gradient is [`WassersteinError::NonFinite`] naming the step.
pub fn run_flow(
    scheme: &Scheme,
    functional: &dyn Functional,
    x: &mut Particles,
    cfg: FlowConfig,
    mut observe: impl FnMut(usize, &Particles) -> Result<()>,
) -> Result<FlowSummary> {
    check_positive("step_size", cfg.step_size)?;
    scheme.check_start(x)?;
    if let Some(d) = functional.dim() {
        x.check_dim("functional dimension vs particles", d)?;
    }
    observe(0, x)?;
    let mut grad = vec![0.0; x.data().len()];
    let mut newton_iterations = Vec::new();
    let mut newton_max_residual: Option<f64> = None;
    for k in 0..cfg.n_steps {
        functional.wgrad(x, &mut grad)?;
        crate::error::check_finite(|| format!("Wasserstein gradient at step {k}"), &grad)?;
        if let Some(rep) = scheme.step(x, &grad, cfg.step_size, k)? {
            newton_iterations.push(rep.iterations);
            newton_max_residual =
                Some(newton_max_residual.map_or(rep.residual, |m| m.max(rep.residual)));
        }
        observe(k + 1, x)?;
    }
    Ok(FlowSummary {
        steps: cfg.n_steps,
        newton_iterations,
        newton_max_residual,
    })
}

#[cfg(test)]
// exact zeros and exact endpoints are what these tests check; index loops mirror the formulas
#[allow(clippy::float_cmp, clippy::needless_range_loop, clippy::useless_vec)]
mod tests {
    use super::*;
    use crate::functional::InteractionEnergy;
    use crate::kernel::KernelShape;
    use gdlab_core::Seed;

    #[test]
    fn power_norm_gradient_matches_finite_differences() {
        for a in [1.25, 1.5, 1.75, 2.0, 3.0] {
            let p = Preconditioner::power_norm(a).unwrap();
            let y = [0.3, -1.2, 0.7];
            let mut g = [0.0; 3];
            p.apply(&y, &mut g);
            for k in 0..3 {
                let (mut yp, mut ym) = (y, y);
                yp[k] += 1e-6;
                ym[k] -= 1e-6;
                let fd = (p.h_star(&yp) - p.h_star(&ym)) / 2e-6;
                assert!((fd - g[k]).abs() < 1e-8, "a={a}");
            }
            let mut z = [1.0; 3];
            p.apply(&[0.0; 3], &mut z);
            assert_eq!(z, [0.0; 3]);
        }
        // a = 2: (‖y‖² + 1)^{1/2} − 1, gradient y/√(‖y‖²+1)
        assert!(Preconditioner::power_norm(0.0).is_err());
    }

    /// Spec §2.2b: with K₂^Σ, ∇K*μ̂(xᵢ) = Σ⁻¹(xᵢ − x̄), so one MD step equals the PGD(Σ)
    /// step up to translation, and Newton converges in one iteration (G is linear).
    #[test]
    fn newton_k2_sigma_equals_the_closed_form() {
        let sigma = SpdMatrix::from_rows("Σ", &[vec![100.0, 3.0], vec![3.0, 1.0]]).unwrap();
        let w = InteractionEnergy::new(PairKernel::double_well(
            SpdMatrix::new("Σ⁻¹", &sigma.inverse()).unwrap(),
        ));
        let x = Particles::gaussian(40, 2, 0.25, Some(&[1.0, -2.0]), Seed(42)).unwrap();
        let mut g = vec![0.0; 80];
        w.wgrad(&x, &mut g).unwrap();
        let md = InteractionMirror::new(
            PairKernel::with_covariance(KernelShape::Quadratic, &sigma).unwrap(),
            NewtonOptions::default(),
        )
        .unwrap();
        let (y, rep) = md.solve(&x, &g, 0.1, 0).unwrap();
        assert!(rep.iterations <= 2, "{rep:?}");
        // closed form: yᵢ = xᵢ − τ Σ gᵢ (mean preserved since Σ gᵢ = 0)
        let mut t = [0.0; 2];
        for i in 0..40 {
            sigma.apply(&g[2 * i..2 * i + 2], &mut t);
            for k in 0..2 {
                let cf = x.row(i)[k] - 0.1 * t[k];
                assert!(
                    (y[2 * i + k] - cf).abs() < 1e-12,
                    "{} vs {cf}",
                    y[2 * i + k]
                );
            }
        }
    }

    #[test]
    fn newton_k4_solves_the_optimality_condition() {
        let w = InteractionEnergy::new(PairKernel::double_well(SpdMatrix::identity(2)));
        let x = Particles::gaussian(30, 2, 0.5, None, Seed(1)).unwrap();
        let mut g = vec![0.0; 60];
        w.wgrad(&x, &mut g).unwrap();
        let md = InteractionMirror::new(
            PairKernel::quartic(SpdMatrix::identity(2)),
            NewtonOptions::default(),
        )
        .unwrap();
        let (y, rep) = md.solve(&x, &g, 0.1, 0).unwrap();
        let mut lhs = vec![0.0; 60];
        md.grad_phi(&y, 2, &mut lhs);
        let mut rhs = vec![0.0; 60];
        md.grad_phi(x.data(), 2, &mut rhs);
        for k in 0..60 {
            assert!((lhs[k] - (rhs[k] - 0.1 * g[k])).abs() < 1e-12);
        }
        assert!(rep.residual < 1e-12);
        // mean preserved
        let ym = Particles::new(30, 2, y).unwrap().mean();
        let xm = x.mean();
        assert!((ym[0] - xm[0]).abs() < 1e-14 && (ym[1] - xm[1]).abs() < 1e-14);
    }

    #[test]
    fn newton_cap_is_reported_not_accepted() {
        let w = InteractionEnergy::new(PairKernel::double_well(SpdMatrix::identity(2)));
        let x = Particles::gaussian(10, 2, 1.0, None, Seed(2)).unwrap();
        let mut g = vec![0.0; 20];
        w.wgrad(&x, &mut g).unwrap();
        let md = InteractionMirror::new(
            PairKernel::quartic(SpdMatrix::identity(2)),
            NewtonOptions {
                tol: 1e-300,
                max_iterations: 2,
            },
        )
        .unwrap();
        let e = md.solve(&x, &g, 0.1, 7).unwrap_err();
        assert!(matches!(
            e,
            WassersteinError::NewtonNotConverged {
                step: 7,
                iterations: 2,
                ..
            }
        ));
        // a non-translation-invariant gradient is refused
        let bad = vec![1.0; 20];
        assert!(matches!(
            md.solve(&x, &bad, 0.1, 0),
            Err(WassersteinError::Invalid { .. })
        ));
    }

    #[test]
    fn mirror_step_keeps_particles_in_the_domain_and_flags_bad_starts() {
        let x0 = Particles::from_rows(&[vec![0.2, 0.3], vec![0.1, 0.1]]).unwrap();
        let s = Scheme::Mirror(MirrorMap::Entropic);
        let mut x = x0.clone();
        s.step(&mut x, &[5.0, -5.0, 1.0, 2.0], 1.0, 0).unwrap();
        assert!(MirrorMap::Entropic.check_domain(&x).is_ok());
        // a gradient so large that ∇V* rounds onto the boundary is reported, not accepted
        let mut y = x0.clone();
        assert!(matches!(
            s.step(&mut y, &[50.0, -50.0, 1.0, 2.0], 1.0, 0),
            Err(WassersteinError::OutsideDomain { particle: 0, .. })
        ));
        let mut bad = Particles::from_rows(&[vec![0.9, 0.3]]).unwrap();
        assert!(matches!(
            s.step(&mut bad, &[0.0, 0.0], 1.0, 0),
            Err(WassersteinError::OutsideDomain { .. })
        ));
        assert!(FlowConfig::new(0.0, 1).is_err());
        assert!(FlowConfig::new(-1.0, 1).is_err());
        assert!(FlowConfig::new(f64::NAN, 1).is_err());
    }
}
