//! Negative entropy `ℋ(μ) = ∫ log μ dμ` on particles: a Gaussian-KDE score for the
//! Wasserstein gradient `∇ log μ` (spec §2.5, the Dirichlet notebook's scipy
//! `gaussian_kde` with Scott's bandwidth) and the Kozachenko–Leonenko nearest-neighbour
//! estimate for evaluating `ℋ`.
//!
//! A KDE score is biased and bandwidth-sensitive (spec §7); the Gaussian closed forms of
//! [`crate::gaussian`] are the reference check for KL flows.

use rayon::prelude::*;

use crate::error::{Result, WassersteinError};
use crate::functional::{check_shapes, Functional, ROWS_PER_CHUNK};
use crate::matrix::SpdMatrix;
use crate::particles::Particles;

/// The KDE bandwidth (the kernel's covariance `H`).
#[derive(Clone, Debug, PartialEq)]
pub enum Bandwidth {
    /// scipy's `gaussian_kde` default: `H = cov(x)·n^{−2/(d+4)}` with the unbiased
    /// (`1/(n−1)`) sample covariance, recomputed from the particles at every call.
    Scott,
    /// A fixed kernel covariance `H`.
    Fixed(SpdMatrix),
}

/// Which gradient [`KdeEntropy`] returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntropyGradient {
    /// The KDE score `∇ log p̂(xᵢ)` (the reference code's choice; an estimate of
    /// `∇_{W₂}ℋ = ∇ log μ`).
    Score,
    /// The exact Wasserstein gradient of the plug-in functional
    /// `ℋ_KDE(μ̂) = (1/n) Σᵢ log p̂(xᵢ)` with fixed `H`:
    /// `∇log p̂(xₖ) + (1/n) Σᵢ ∇K_H(xₖ − xᵢ)/p̂(xᵢ)`.
    PlugIn,
}

/// The negative entropy through a Gaussian KDE `p̂(x) = (1/n) Σⱼ N(x; xⱼ, H)`.
///
/// [`Functional::value`] is the plug-in `(1/n) Σᵢ log p̂(xᵢ)`; use
/// [`kozachenko_leonenko`] to evaluate `ℋ` for reports.
#[derive(Clone, Debug, PartialEq)]
pub struct KdeEntropy {
    bandwidth: Bandwidth,
    gradient: EntropyGradient,
}

impl KdeEntropy {
    /// A KDE entropy with the given bandwidth rule and gradient.
    #[must_use]
    pub fn new(bandwidth: Bandwidth, gradient: EntropyGradient) -> Self {
        KdeEntropy {
            bandwidth,
            gradient,
        }
    }

    /// The reference configuration: Scott bandwidth, KDE score.
    #[must_use]
    pub fn scott_score() -> Self {
        Self::new(Bandwidth::Scott, EntropyGradient::Score)
    }

    /// The kernel covariance `H` for `x`.
    ///
    /// # Errors
    /// [`WassersteinError::NotPositiveDefinite`] if the sample covariance is singular
    /// (e.g. fewer than `d + 1` distinct particles), or a dimension mismatch.
    pub fn kernel_covariance(&self, x: &Particles) -> Result<SpdMatrix> {
        match &self.bandwidth {
            Bandwidth::Fixed(h) => {
                x.check_dim("KDE bandwidth vs particles", h.dim())?;
                Ok(h.clone())
            }
            Bandwidth::Scott => {
                let (n, d) = (x.n_particles(), x.dim());
                if n < 2 {
                    return Err(WassersteinError::OutOfRange {
                        field: "n_particles (KDE)",
                        value: n as f64,
                        allowed: "[2, ∞)",
                    });
                }
                let factor2 = (n as f64).powf(-2.0 / (d as f64 + 4.0));
                let c = x.covariance();
                let scale = n as f64 / (n as f64 - 1.0) * factor2;
                let m = faer::Mat::from_fn(d, d, |i, j| c[i * d + j] * scale);
                SpdMatrix::new(
                    "KDE bandwidth (Scott: sample covariance · n^(−2/(d+4)))",
                    &m,
                )
            }
        }
    }

    /// Weights `w_ij = exp(−½ (xᵢ−xⱼ)ᵀH⁻¹(xᵢ−xⱼ))` are recomputed on the fly; returns
    /// `(H⁻¹ as row-major, log normaliser log c)`.
    fn setup(&self, x: &Particles) -> Result<(Vec<f64>, f64, usize)> {
        let h = self.kernel_covariance(x)?;
        let d = h.dim();
        let hinv = h.inverse();
        let hinv: Vec<f64> = (0..d * d).map(|k| hinv[(k / d, k % d)]).collect();
        let log_c = -0.5 * (d as f64) * (2.0 * std::f64::consts::PI).ln() - 0.5 * h.log_det();
        Ok((hinv, log_c, d))
    }
}

fn quad(hinv: &[f64], z: &[f64]) -> f64 {
    let d = z.len();
    let mut s = 0.0;
    for a in 0..d {
        let mut t = 0.0;
        for b in 0..d {
            t += hinv[a * d + b] * z[b];
        }
        s += z[a] * t;
    }
    s
}

/// `Sᵢ = Σⱼ exp(−½ qᵢⱼ)` for every `i` (the `j = i` term is 1).
fn row_weight_sums(xs: &[f64], d: usize, hinv: &[f64]) -> Vec<f64> {
    let n = xs.len() / d;
    (0..n)
        .into_par_iter()
        .with_min_len(ROWS_PER_CHUNK)
        .map(|i| {
            let mut z = vec![0.0; d];
            let mut s = 0.0;
            for j in 0..n {
                for k in 0..d {
                    z[k] = xs[i * d + k] - xs[j * d + k];
                }
                s += (-0.5 * quad(hinv, &z)).exp();
            }
            s
        })
        .collect()
}

impl Functional for KdeEntropy {
    fn name(&self) -> String {
        "negative entropy (Gaussian KDE)".into()
    }
    fn dim(&self) -> Option<usize> {
        match &self.bandwidth {
            Bandwidth::Fixed(h) => Some(h.dim()),
            Bandwidth::Scott => None,
        }
    }
    fn value(&self, x: &Particles) -> Result<f64> {
        check_shapes(self, x, None)?;
        let (hinv, log_c, d) = self.setup(x)?;
        let n = x.n_particles() as f64;
        let sums = row_weight_sums(x.data(), d, &hinv);
        let total: f64 = sums.iter().map(|s| log_c + (s / n).ln()).sum();
        Ok(total / n)
    }
    fn wgrad(&self, x: &Particles, out: &mut [f64]) -> Result<()> {
        check_shapes(self, x, Some(out.len()))?;
        let (hinv, _, d) = self.setup(x)?;
        let xs = x.data();
        let n = x.n_particles();
        let sums = row_weight_sums(xs, d, &hinv);
        let plug_in = self.gradient == EntropyGradient::PlugIn;
        out.par_chunks_mut(d * ROWS_PER_CHUNK)
            .enumerate()
            .for_each(|(c, block)| {
                let mut z = vec![0.0; d];
                let mut acc = vec![0.0; d];
                for (r, o) in block.chunks_mut(d).enumerate() {
                    let i = c * ROWS_PER_CHUNK + r;
                    acc.iter_mut().for_each(|v| *v = 0.0);
                    for j in 0..n {
                        for k in 0..d {
                            z[k] = xs[i * d + k] - xs[j * d + k];
                        }
                        let w = (-0.5 * quad(&hinv, &z)).exp();
                        let coef = if plug_in {
                            w * (1.0 / sums[i] + 1.0 / sums[j])
                        } else {
                            w / sums[i]
                        };
                        for k in 0..d {
                            acc[k] += coef * z[k];
                        }
                    }
                    // −H⁻¹ acc
                    for a in 0..d {
                        o[a] = -(0..d).map(|b| hinv[a * d + b] * acc[b]).sum::<f64>();
                    }
                }
            });
        Ok(())
    }
}

/// `log Γ(d/2 + 1)` for integer `d ≥ 0` by the exact recursion from `Γ(1) = 1`,
/// `Γ(3/2) = √π/2`.
fn log_gamma_half_plus_one(d: usize) -> f64 {
    let mut x = if d % 2 == 0 { 1.0 } else { 1.5 };
    let mut lg = if d % 2 == 0 {
        0.0
    } else {
        (std::f64::consts::PI.sqrt() / 2.0).ln()
    };
    let target = d as f64 / 2.0 + 1.0;
    while x < target - 0.25 {
        lg += x.ln();
        x += 1.0;
    }
    lg
}

/// The Kozachenko–Leonenko (1-nearest-neighbour) estimate of the negative entropy
/// `ℋ(μ) = ∫ log μ`: `−[ψ(n) − ψ(1) + log V_d + (d/n) Σᵢ log rᵢ]`, with `rᵢ` the distance
/// from `xᵢ` to its nearest other particle, `V_d = π^{d/2}/Γ(d/2+1)` the unit-ball volume
/// and `ψ(n) − ψ(1) = Σ_{k<n} 1/k`.
///
/// The reference code's `mean log((n−1) rᵢ^d)` is the same estimate up to additive
/// constants; this version includes them, so it is consistent for `∫ log μ` itself.
///
/// # Errors
/// [`WassersteinError::OutOfRange`] for fewer than 2 particles;
/// [`WassersteinError::Invalid`] if two particles coincide (`rᵢ = 0`).
///
/// # Examples
/// ```
/// use gdlab_wasserstein::{entropy::kozachenko_leonenko, Particles};
/// use gdlab_core::Seed;
/// let x = Particles::gaussian(4000, 1, 1.0, None, Seed(0)).unwrap();
/// // ∫ log N(0,1) = −½(1 + ln 2π) ≈ −1.4189
/// assert!((kozachenko_leonenko(&x).unwrap() + 1.4189).abs() < 0.1);
/// ```
pub fn kozachenko_leonenko(x: &Particles) -> Result<f64> {
    let (n, d) = (x.n_particles(), x.dim());
    if n < 2 {
        return Err(WassersteinError::OutOfRange {
            field: "n_particles (Kozachenko–Leonenko)",
            value: n as f64,
            allowed: "[2, ∞)",
        });
    }
    let r2 = nearest_neighbour_sq(x);
    if let Some(i) = r2.iter().position(|&r| r <= 0.0) {
        return Err(WassersteinError::Invalid {
            field: "particles",
            reason: format!(
                "particle {i} coincides with another one; the nearest-neighbour entropy needs distinct particles"
            ),
        });
    }
    let harmonic: f64 = (1..n).map(|k| 1.0 / k as f64).sum();
    let log_vd = 0.5 * d as f64 * std::f64::consts::PI.ln() - log_gamma_half_plus_one(d);
    let mean_log_r: f64 = r2.iter().map(|r| 0.5 * r.ln()).sum::<f64>() / n as f64;
    Ok(-(harmonic + log_vd + d as f64 * mean_log_r))
}

/// Squared nearest-neighbour distances (brute force, parallel over fixed row chunks).
fn nearest_neighbour_sq(x: &Particles) -> Vec<f64> {
    let (n, d) = (x.n_particles(), x.dim());
    let xs = x.data();
    (0..n)
        .into_par_iter()
        .with_min_len(ROWS_PER_CHUNK)
        .map(|i| {
            let mut best = f64::INFINITY;
            for j in (0..n).filter(|&j| j != i) {
                let mut s = 0.0;
                for k in 0..d {
                    let t = xs[i * d + k] - xs[j * d + k];
                    s += t * t;
                }
                best = best.min(s);
            }
            best
        })
        .collect()
}

#[cfg(test)]
// exact zeros and exact endpoints are what these tests check; index loops mirror the formulas
#[allow(clippy::float_cmp, clippy::needless_range_loop, clippy::useless_vec)]
mod tests {
    use super::*;
    use crate::functional::finite_difference_wgrad;
    use gdlab_core::Seed;

    #[test]
    fn plug_in_gradient_matches_finite_differences() {
        let x = Particles::gaussian(12, 2, 1.0, None, Seed(8)).unwrap();
        let h = SpdMatrix::from_rows("H", &[vec![0.4, 0.05], vec![0.05, 0.3]]).unwrap();
        let f = KdeEntropy::new(Bandwidth::Fixed(h), EntropyGradient::PlugIn);
        let mut g = vec![0.0; 24];
        f.wgrad(&x, &mut g).unwrap();
        let fd = finite_difference_wgrad(&f, &x, 1e-5).unwrap();
        for (a, b) in g.iter().zip(&fd) {
            assert!((a - b).abs() < 1e-7 * (1.0 + b.abs()), "{a} vs {b}");
        }
    }

    #[test]
    fn scott_bandwidth_matches_scipy_formula() {
        // scipy: kde.covariance = np.cov(x.T) * kde.factor**2, factor = n**(-1/(d+4))
        let x = Particles::from_rows(&[
            vec![0.0, 1.0],
            vec![1.0, 0.0],
            vec![2.0, 2.0],
            vec![-1.0, 0.5],
        ])
        .unwrap();
        let h = KdeEntropy::scott_score().kernel_covariance(&x).unwrap();
        // np.cov by hand: mean (0.5, 0.875); unbiased
        let xs = [[0.0, 1.0], [1.0, 0.0], [2.0, 2.0], [-1.0, 0.5]];
        let m = [0.5, 0.875];
        let mut c = [[0.0; 2]; 2];
        for r in xs {
            for a in 0..2 {
                for b in 0..2 {
                    c[a][b] += (r[a] - m[a]) * (r[b] - m[b]) / 3.0;
                }
            }
        }
        let f2 = 4f64.powf(-1.0 / 6.0).powi(2);
        for a in 0..2 {
            for b in 0..2 {
                assert!((h.get(a, b) - c[a][b] * f2).abs() < 1e-14);
            }
        }
    }

    #[test]
    fn score_is_the_gradient_of_the_log_kde() {
        // ∇ log p̂(x) at a sample point, p̂ fixed (data and H held still): central
        // differences of log p̂ in the evaluation point only.
        let x = Particles::gaussian(15, 2, 1.0, None, Seed(7)).unwrap();
        let f = KdeEntropy::scott_score();
        let h = f.kernel_covariance(&x).unwrap();
        let hinv = h.inverse();
        let log_p = |p: &[f64]| -> f64 {
            x.rows()
                .iter()
                .map(|r| {
                    let z = [p[0] - r[0], p[1] - r[1]];
                    let mut q = 0.0;
                    for a in 0..2 {
                        for b in 0..2 {
                            q += z[a] * hinv[(a, b)] * z[b];
                        }
                    }
                    (-0.5 * q).exp()
                })
                .sum::<f64>()
                .ln()
        };
        let mut g = vec![0.0; 30];
        f.wgrad(&x, &mut g).unwrap();
        for i in 0..15 {
            for k in 0..2 {
                let (mut pp, mut pm) = (x.row(i).to_vec(), x.row(i).to_vec());
                pp[k] += 1e-6;
                pm[k] -= 1e-6;
                let fd = (log_p(&pp) - log_p(&pm)) / 2e-6;
                assert!(
                    (fd - g[2 * i + k]).abs() < 1e-6 * (1.0 + fd.abs()),
                    "{fd} vs {}",
                    g[2 * i + k]
                );
            }
        }
    }

    #[test]
    fn score_of_gaussian_samples_is_close_to_the_smoothed_score() {
        // A sanity check, not an exactness test (that is `score_is_the_gradient_of_the_log_kde`):
        // for x ~ N(0, I) the KDE with H ≈ h²I estimates N(0, (1+h²)I), score −x/(1+h²),
        // but the KDE score at the sample points is biased towards 0 (spec §7). The same
        // computation with scipy's `gaussian_kde` on a fresh N(0, I₂) sample of 2000 (NumPy
        // seed 0, 500 points with ‖x‖ < 1) gave slope −0.875 against −1/(1+h²) = −0.926. The
        // bound 0.12 covers that bias; a sign or scale error (slope ≥ 0, or off by H) fails.
        let n = 2000;
        let x = Particles::gaussian(n, 2, 1.0, None, Seed(9)).unwrap();
        let f = KdeEntropy::scott_score();
        let h = f.kernel_covariance(&x).unwrap();
        let h2 = 0.5 * (h.get(0, 0) + h.get(1, 1));
        let mut g = vec![0.0; 2 * n];
        f.wgrad(&x, &mut g).unwrap();
        let (mut sxy, mut sxx) = (0.0, 0.0);
        for (r, gr) in x.data().chunks(2).zip(g.chunks(2)) {
            if r[0] * r[0] + r[1] * r[1] < 1.0 {
                for k in 0..2 {
                    sxy += r[k] * gr[k];
                    sxx += r[k] * r[k];
                }
            }
        }
        let slope = sxy / sxx;
        assert!(
            (slope + 1.0 / (1.0 + h2)).abs() < 0.12,
            "slope {slope}, h² {h2}"
        );
    }

    #[test]
    fn kozachenko_leonenko_on_gaussians() {
        // ∫ log N(0, I_d) = −(d/2)(1 + ln 2π). Tolerance: 5 standard errors of the mean of
        // d·log rᵢ, estimated from the sample, plus 0.02 for the estimator's small-n bias.
        for (d, n) in [(1, 3000), (2, 3000), (3, 3000)] {
            let x = Particles::gaussian(n, d, 1.0, None, Seed(10 + d as u64)).unwrap();
            let est = kozachenko_leonenko(&x).unwrap();
            let truth = -(d as f64 / 2.0) * (1.0 + (2.0 * std::f64::consts::PI).ln());
            let terms: Vec<f64> = nearest_neighbour_sq(&x)
                .iter()
                .map(|r| d as f64 * 0.5 * r.ln())
                .collect();
            let m = terms.iter().sum::<f64>() / n as f64;
            let var = terms.iter().map(|t| (t - m).powi(2)).sum::<f64>() / (n as f64 - 1.0);
            let tol = 5.0 * (var / n as f64).sqrt() + 0.02;
            assert!(
                (est - truth).abs() < tol,
                "d={d}: {est} vs {truth} (tol {tol})"
            );
        }
        let dup = Particles::from_rows(&[vec![0.0], vec![0.0], vec![1.0]]).unwrap();
        assert!(kozachenko_leonenko(&dup).is_err());
        assert!(
            (log_gamma_half_plus_one(3) - (0.75 * std::f64::consts::PI.sqrt()).ln()).abs() < 1e-15
        );
        assert!((log_gamma_half_plus_one(4) - 2f64.ln()).abs() < 1e-15);
    }
}
