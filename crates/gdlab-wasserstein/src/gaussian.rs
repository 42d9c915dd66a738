//! Closed forms on centred Gaussians `N(0, Σ)` (spec §2.4, the reference's
//! `mirror_gaussians.py`): for the target `ν = N(0, Σ*)` and `F = KL(·‖ν)` every scheme
//! keeps the iterates Gaussian, `μₖ = N(0, Σₖ)`.
//!
//! | scheme | update |
//! |---|---|
//! | [`GaussianScheme::Nem`] (MD with `φ = ℋ`) | `C = (1−τ)Σₖ⁻¹ + τΣ*⁻¹`, `Σₖ₊₁ = (CΣₖC)⁻¹` |
//! | [`GaussianScheme::ForwardBackward`] (FB; PFB with `P`) | `M = I − τPΣ*⁻¹`, `S = MΣₖMᵀ`, `Σₖ₊₁ = ½(S + 2τP + (S(4τP + S))^{1/2})` |
//! | [`GaussianScheme::Wgd`] (WGD; PWGD with `P`) | `C = I − τPΣ*⁻¹ + τPΣₖ⁻¹`, `Σₖ₊₁ = CΣₖCᵀ` |
//! | [`GaussianScheme::Klm`] (KLM; PKLM with `P`; diagonal only) | per coordinate `σ'² = u²`, `u = (c + √(c² + 4p))/2`, `c = p σ B`, `B = 1/p − τ/σ*² − (1−τ)/σ²` |
//!
//! The non-symmetric square root of FB is computed as `A(ABA)^{1/2}A⁻¹` with `A = S^{1/2}`,
//! `B = 4τP + S`, using only symmetric eigendecompositions (`(A X A⁻¹)² = A X² A⁻¹ =
//! A²B = SB` for `X = (ABA)^{1/2}`), instead of the reference's complex `sqrtm`. Every
//! `Σₖ₊₁` is symmetrised.

use faer::Mat;

use crate::error::{check_positive, Result, WassersteinError};
use crate::matrix::{matmul, symmetrize, SpdMatrix};

/// A scheme on centred Gaussians.
#[derive(Clone, Debug, PartialEq)]
pub enum GaussianScheme {
    /// NEM: mirror descent with the negative-entropy Bregman potential.
    Nem,
    /// Forward step on `𝒱`, JKO step on `ℋ`, preconditioned by `P` (`P = I`: FB).
    ForwardBackward(SpdMatrix),
    /// Explicit Wasserstein GD on KL, preconditioned by `P` (`P = I`: WGD).
    Wgd(SpdMatrix),
    /// KLM / PKLM: mirror descent with the KL-type Bregman potential
    /// `φ(μ) = KL(μ ‖ N(0, P)) = ∫ ½xᵀP⁻¹x dμ + ℋ(μ) + const` (`P = I`: KLM; `P = Σ*`:
    /// PKLM), for **diagonal** `Σₖ`, `Σ*` and `P` only (spec §2.4, §7).
    ///
    /// The mirror condition `∇_{W₂}φ(μₖ₊₁)∘T = ∇_{W₂}φ(μₖ) − τ∇_{W₂}F(μₖ)` with the linear
    /// map `T(x) = Ax` reads, per coordinate (`p`, `σ²`, `σ*²` the diagonal entries of `P`,
    /// `Σₖ`, `Σ*`, and `σ'² = a²σ²`):
    ///
    /// $$ (1/p − 1/σ'^2)\,a = B := 1/p − τ/σ_*^2 − (1−τ)/σ^2, $$
    ///
    /// so `u = σ' = aσ` solves `u² − c u − p = 0` with `c = pσB`, and
    /// `u = (c + √(c² + 4p))/2`.
    ///
    /// **Deviation from the reference** (`mirror_descent_kl`, derived here, not taken from
    /// the paper): the reference computes the equivalent
    /// `σ'² = (C + √(C² − 4p²))/2`, `C = c² + 2p`, which always takes the *larger* root of
    /// `σ'⁴ − Cσ'² + p² = 0`. That is our root when `B ≥ 0`; when `B < 0` it is the
    /// orientation-reversing solution `a < 0`, which does not even keep the target fixed
    /// when `σ*² < p` (at `σ² = σ*²` it jumps to `p²/σ*²`). We keep the orientation-preserving
    /// map `a > 0` (the solution whose map is the gradient of a convex function), for which
    /// `Σ*` is a fixed point. On the spec's non-diagonal targets the reference's elementwise
    /// products are not a matrix formula (spec §7); this variant refuses them.
    Klm(SpdMatrix),
}

impl GaussianScheme {
    /// One step from `Σₖ` for the target precision `Σ*⁻¹`.
    ///
    /// # Errors
    /// [`WassersteinError::NotPositiveDefinite`] if an iterate stops being SPD (e.g. a
    /// step size so large that the scheme diverges), [`WassersteinError::Dim`].
    pub fn step(
        &self,
        sigma: &SpdMatrix,
        target_precision: &SpdMatrix,
        step_size: f64,
    ) -> Result<SpdMatrix> {
        check_positive("step_size", step_size)?;
        let d = sigma.dim();
        if target_precision.dim() != d {
            return Err(WassersteinError::Dim {
                op: "Gaussian step (Σ vs Σ*)",
                expected: d,
                got: target_precision.dim(),
            });
        }
        let tau = step_size;
        let id = Mat::<f64>::identity(d, d);
        let next = match self {
            GaussianScheme::Nem => {
                let sinv = sigma.inverse();
                let c = Mat::from_fn(d, d, |i, j| {
                    (1.0 - tau) * sinv[(i, j)] + tau * target_precision.get(i, j)
                });
                let csc = symmetrize(&matmul(&matmul(&c, sigma.mat()), &c));
                SpdMatrix::new("CΣₖC (NEM)", &csc)?.inverse()
            }
            GaussianScheme::ForwardBackward(p) => {
                check_dim(p, d)?;
                let pq = matmul(p.mat(), target_precision.mat());
                let m = Mat::from_fn(d, d, |i, j| id[(i, j)] - tau * pq[(i, j)]);
                let s = symmetrize(&matmul(&matmul(&m, sigma.mat()), &m.transpose().to_owned()));
                let s = SpdMatrix::new("S = MΣₖMᵀ (FB)", &s)?;
                let a = s.sqrt();
                let a_inv = s.inv_sqrt();
                let b = Mat::from_fn(d, d, |i, j| 4.0 * tau * p.get(i, j) + s.get(i, j));
                let aba = SpdMatrix::new("ABA (FB)", &symmetrize(&matmul(&matmul(&a, &b), &a)))?;
                let root = matmul(&matmul(&a, &aba.sqrt()), &a_inv);
                Mat::from_fn(d, d, |i, j| {
                    0.5 * (s.get(i, j) + 2.0 * tau * p.get(i, j) + root[(i, j)])
                })
            }
            GaussianScheme::Wgd(p) => {
                check_dim(p, d)?;
                let pq = matmul(p.mat(), target_precision.mat());
                let ps = matmul(p.mat(), &sigma.inverse());
                let c = Mat::from_fn(d, d, |i, j| {
                    id[(i, j)] - tau * pq[(i, j)] + tau * ps[(i, j)]
                });
                matmul(&matmul(&c, sigma.mat()), &c.transpose().to_owned())
            }
            GaussianScheme::Klm(p) => {
                check_dim(p, d)?;
                check_diagonal("Σₖ (KLM)", sigma.mat())?;
                check_diagonal("Σ*⁻¹ (KLM)", target_precision.mat())?;
                check_diagonal("P (KLM)", p.mat())?;
                let next: Vec<f64> = (0..d)
                    .map(|i| {
                        klm_coordinate(
                            sigma.get(i, i),
                            target_precision.get(i, i),
                            p.get(i, i),
                            tau,
                        )
                    })
                    .collect();
                Mat::from_fn(d, d, |i, j| if i == j { next[i] } else { 0.0 })
            }
        };
        SpdMatrix::new("Σₖ₊₁", &symmetrize(&next))
    }
}

/// One coordinate of the KLM step: `σ'²` from `σ²`, `1/σ*²`, `p`, `τ` (see
/// [`GaussianScheme::Klm`]).
fn klm_coordinate(var: f64, target_prec: f64, p: f64, tau: f64) -> f64 {
    let b = 1.0 / p - tau * target_prec - (1.0 - tau) / var;
    let c = p * var.sqrt() * b;
    let u = if c >= 0.0 {
        0.5 * (c + (c * c + 4.0 * p).sqrt())
    } else {
        // same root, written without cancellation: u = 2p / (√(c² + 4p) − c)
        2.0 * p / ((c * c + 4.0 * p).sqrt() - c)
    };
    u * u
}

/// Refuses a matrix with a non-zero off-diagonal entry (relative to its diagonal).
fn check_diagonal(what: &'static str, a: &Mat<f64>) -> Result<()> {
    let d = a.nrows();
    for i in 0..d {
        for j in 0..d {
            if i != j {
                let scale = (a[(i, i)].abs() * a[(j, j)].abs()).sqrt();
                if a[(i, j)].abs() > 1e-12 * scale {
                    return Err(WassersteinError::Invalid {
                        field: what,
                        reason: format!(
                            "KLM/PKLM is implemented for diagonal covariances only, but entry ({i}, {j}) is {:e}",
                            a[(i, j)]
                        ),
                    });
                }
            }
        }
    }
    Ok(())
}

fn check_dim(p: &SpdMatrix, d: usize) -> Result<()> {
    if p.dim() == d {
        Ok(())
    } else {
        Err(WassersteinError::Dim {
            op: "Gaussian preconditioner P",
            expected: d,
            got: p.dim(),
        })
    }
}

/// `KL(N(m₀, Σ₀) ‖ N(m₁, Σ₁)) = ½(log det Σ₁ − log det Σ₀ − d + tr(Σ₁⁻¹Σ₀) + (m₁−m₀)ᵀΣ₁⁻¹(m₁−m₀))`.
///
/// # Errors
/// [`WassersteinError::Dim`] on mismatched dimensions.
///
/// # Examples
/// ```
/// use gdlab_wasserstein::{gaussian::kl, matrix::SpdMatrix};
/// // 1-D: KL(N(0,1) ‖ N(0,4)) = ½(ln 4 − 1 + 1/4)
/// let a = SpdMatrix::diagonal("a", &[1.0]).unwrap();
/// let b = SpdMatrix::diagonal("b", &[4.0]).unwrap();
/// let v = kl(&[0.0], &a, &[0.0], &b).unwrap();
/// assert!((v - 0.5 * (4f64.ln() - 0.75)).abs() < 1e-15);
/// ```
pub fn kl(m0: &[f64], s0: &SpdMatrix, m1: &[f64], s1: &SpdMatrix) -> Result<f64> {
    let d = s0.dim();
    for (op, got) in [
        ("KL: Σ₁", s1.dim()),
        ("KL: m₀", m0.len()),
        ("KL: m₁", m1.len()),
    ] {
        if got != d {
            return Err(WassersteinError::Dim {
                op,
                expected: d,
                got,
            });
        }
    }
    let p1 = s1.inverse();
    let mut tr = 0.0;
    for i in 0..d {
        for j in 0..d {
            tr += p1[(i, j)] * s0.get(j, i);
        }
    }
    let dm: Vec<f64> = m1.iter().zip(m0).map(|(a, b)| a - b).collect();
    let mut maha = 0.0;
    for i in 0..d {
        for j in 0..d {
            maha += dm[i] * p1[(i, j)] * dm[j];
        }
    }
    Ok(0.5 * (s1.log_det() - s0.log_det() - d as f64 + tr + maha))
}

/// Squared 2-Wasserstein distance between Gaussians:
/// `‖m₀ − m₁‖² + tr(Σ₀ + Σ₁ − 2(Σ₁^{1/2}Σ₀Σ₁^{1/2})^{1/2})`.
///
/// # Errors
/// [`WassersteinError::Dim`] on mismatched dimensions.
///
/// # Examples
/// ```
/// use gdlab_wasserstein::{gaussian::w2_squared, matrix::SpdMatrix};
/// // commuting case: Σ (√aᵢ − √bᵢ)²
/// let a = SpdMatrix::diagonal("a", &[1.0, 4.0]).unwrap();
/// let b = SpdMatrix::diagonal("b", &[9.0, 1.0]).unwrap();
/// let v = w2_squared(&[0.0, 0.0], &a, &[1.0, 0.0], &b).unwrap();
/// assert!((v - (1.0 + 4.0 + 1.0)).abs() < 1e-13);
/// ```
pub fn w2_squared(m0: &[f64], s0: &SpdMatrix, m1: &[f64], s1: &SpdMatrix) -> Result<f64> {
    let d = s0.dim();
    for (op, got) in [
        ("W₂: Σ₁", s1.dim()),
        ("W₂: m₀", m0.len()),
        ("W₂: m₁", m1.len()),
    ] {
        if got != d {
            return Err(WassersteinError::Dim {
                op,
                expected: d,
                got,
            });
        }
    }
    let r = s1.sqrt();
    let inner = SpdMatrix::new(
        "Σ₁^{1/2}Σ₀Σ₁^{1/2}",
        &symmetrize(&matmul(&matmul(&r, s0.mat()), &r)),
    )?;
    let root = inner.sqrt();
    let mut tr = 0.0;
    for i in 0..d {
        tr += s0.get(i, i) + s1.get(i, i) - 2.0 * root[(i, i)];
    }
    let dm: f64 = m0.iter().zip(m1).map(|(a, b)| (a - b) * (a - b)).sum();
    Ok(dm + tr)
}

/// A Haar-random orthogonal `d × d` matrix: the `Q` of the QR factorisation of a standard
/// Gaussian matrix with the signs fixed by `diag(R) > 0` (spec §5 Part A).
#[must_use]
pub fn haar_orthogonal(d: usize, seed: gdlab_core::Seed) -> Mat<f64> {
    let mut g = vec![0.0; d * d];
    gdlab_core::normal::fill_normals(&mut seed.rng(), &mut g);
    let a = Mat::from_fn(d, d, |i, j| g[i * d + j]);
    let qr = a.qr();
    let q = qr.compute_Q();
    let r = qr.R();
    let out = Mat::from_fn(d, d, |i, j| {
        let s = if r[(j, j)] < 0.0 { -1.0 } else { 1.0 };
        q[(i, j)] * s
    });
    gdlab_core::linalg::clear_simd_state();
    out
}

/// `Uᵀ diag(λ) U`.
///
/// # Errors
/// [`WassersteinError::NotPositiveDefinite`] unless every `λᵢ > 0`.
pub fn rotated_diagonal(u: &Mat<f64>, lambda: &[f64]) -> Result<SpdMatrix> {
    let d = lambda.len();
    let m = Mat::from_fn(d, d, |i, j| {
        (0..d).map(|k| u[(k, i)] * lambda[k] * u[(k, j)]).sum()
    });
    SpdMatrix::new("Uᵀ diag(λ) U", &symmetrize(&m))
}

/// `n` log-spaced values from `a` to `b` (numpy's `geomspace`).
#[must_use]
pub fn geomspace(a: f64, b: f64, n: usize) -> Vec<f64> {
    if n == 1 {
        return vec![a];
    }
    let (la, lb) = (a.ln(), b.ln());
    (0..n)
        .map(|i| {
            if i == n - 1 {
                b
            } else {
                (la + (lb - la) * i as f64 / (n - 1) as f64).exp()
            }
        })
        .collect()
}

#[cfg(test)]
// exact zeros and exact endpoints are what these tests check; index loops mirror the formulas
#[allow(clippy::float_cmp, clippy::needless_range_loop, clippy::useless_vec)]
mod tests {
    use super::*;
    use gdlab_core::Seed;

    fn spd3() -> (SpdMatrix, SpdMatrix) {
        let u = haar_orthogonal(3, Seed(1));
        let a = rotated_diagonal(&u, &[1.0, 2.0, 5.0]).unwrap();
        let v = haar_orthogonal(3, Seed(2));
        let b = rotated_diagonal(&v, &[0.5, 3.0, 4.0]).unwrap();
        (a, b)
    }

    #[test]
    fn haar_is_orthogonal() {
        let u = haar_orthogonal(5, Seed(3));
        let utu = matmul(&u.transpose().to_owned(), &u);
        for i in 0..5 {
            for j in 0..5 {
                assert!((utu[(i, j)] - if i == j { 1.0 } else { 0.0 }).abs() < 1e-14);
            }
        }
    }

    #[test]
    fn kl_closed_form_checks() {
        let (a, b) = spd3();
        assert!(kl(&[0.0; 3], &a, &[0.0; 3], &a).unwrap().abs() < 1e-14);
        // invariant under a common rotation: compare with the commuting diagonal case
        let u = haar_orthogonal(3, Seed(4));
        let da = rotated_diagonal(&u, &[1.0, 2.0, 5.0]).unwrap();
        let db = rotated_diagonal(&u, &[4.0, 1.0, 5.0]).unwrap();
        let expected: f64 = [(1.0, 4.0), (2.0, 1.0), (5.0, 5.0)]
            .iter()
            .map(|&(s0, s1): &(f64, f64)| 0.5 * (s0 / s1 - 1.0 + (s1 / s0).ln()))
            .sum();
        assert!((kl(&[0.0; 3], &da, &[0.0; 3], &db).unwrap() - expected).abs() < 1e-13);
        // the mean term: ½ Δmᵀ Σ₁⁻¹ Δm
        let i3 = SpdMatrix::identity(3);
        assert!((kl(&[0.0; 3], &i3, &[1.0, 2.0, 0.0], &i3).unwrap() - 2.5).abs() < 1e-14);
        assert!(kl(&[0.0; 3], &a, &[0.0; 3], &b).unwrap() > 0.0);
        assert!(kl(&[0.0; 2], &a, &[0.0; 3], &b).is_err());
    }

    #[test]
    fn w2_closed_form_checks() {
        let (a, b) = spd3();
        // W₂ to itself is 0; symmetric; the optimal map T = Σ₀^{-1/2}(Σ₀^{1/2}Σ₁Σ₀^{1/2})^{1/2}Σ₀^{-1/2}
        // pushes Σ₀ to Σ₁ and W₂² = tr Σ₀ + tr Σ₁ − 2 tr(T Σ₀).
        assert!(w2_squared(&[0.0; 3], &a, &[0.0; 3], &a).unwrap().abs() < 1e-13);
        let ab = w2_squared(&[0.0; 3], &a, &[0.0; 3], &b).unwrap();
        let ba = w2_squared(&[0.0; 3], &b, &[0.0; 3], &a).unwrap();
        assert!((ab - ba).abs() < 1e-12);
        let ra = a.sqrt();
        let rai = a.inv_sqrt();
        let inner = SpdMatrix::new("x", &symmetrize(&matmul(&matmul(&ra, b.mat()), &ra))).unwrap();
        let t = matmul(&matmul(&rai, &inner.sqrt()), &rai);
        let pushed = matmul(&matmul(&t, a.mat()), &t);
        let ts = matmul(&t, a.mat());
        let mut tr = 0.0;
        for i in 0..3 {
            tr += a.get(i, i) + b.get(i, i) - 2.0 * ts[(i, i)];
            for j in 0..3 {
                assert!((pushed[(i, j)] - b.get(i, j)).abs() < 1e-12);
            }
        }
        assert!((ab - tr).abs() < 1e-12);
    }

    #[test]
    fn schemes_fix_the_target_and_match_scalar_recursions() {
        // the target is a fixed point of every scheme
        let (a, _) = spd3();
        let prec = SpdMatrix::new("Σ*⁻¹", &a.inverse()).unwrap();
        for s in [
            GaussianScheme::Nem,
            GaussianScheme::ForwardBackward(SpdMatrix::identity(3)),
            GaussianScheme::ForwardBackward(a.clone()),
            GaussianScheme::Wgd(SpdMatrix::identity(3)),
            GaussianScheme::Wgd(a.clone()),
        ] {
            let next = s.step(&a, &prec, 0.05).unwrap();
            for i in 0..3 {
                for j in 0..3 {
                    assert!((next.get(i, j) - a.get(i, j)).abs() < 1e-12, "{s:?}");
                }
            }
        }
        // 1-D scalar recursions (σ² = s, target t, P = 1)
        let (s, t, tau) = (1.0_f64, 7.0_f64, 0.1);
        let one = |v: f64| SpdMatrix::diagonal("s", &[v]).unwrap();
        let prec = one(1.0 / t);
        let c = (1.0 - tau) / s + tau / t;
        let nem = 1.0 / (c * c * s);
        let m = 1.0 - tau / t;
        let ss = m * m * s;
        let fb = 0.5 * (ss + 2.0 * tau + (ss * (4.0 * tau + ss)).sqrt());
        let cw = 1.0 - tau / t + tau / s;
        let wgd = cw * cw * s;
        for (sch, want) in [
            (GaussianScheme::Nem, nem),
            (GaussianScheme::ForwardBackward(one(1.0)), fb),
            (GaussianScheme::Wgd(one(1.0)), wgd),
        ] {
            let got = sch.step(&one(s), &prec, tau).unwrap().get(0, 0);
            assert!((got - want).abs() < 1e-14, "{sch:?}: {got} vs {want}");
        }
    }

    /// The KLM step against (i) the reference's formula `σ'² = (C + √(C² − 4p²))/2` where
    /// both agree (`B ≥ 0`), (ii) the first-order condition `(1/p − 1/σ'²)a = B` with `a > 0`,
    /// (iii) a brute-force minimisation of the scalar MD objective over `a > 0`,
    /// `J(a) = a²σ²/(2p) − log a − σ²B a`, and (iv) the target as a fixed point.
    #[test]
    fn klm_matches_reference_formula_first_order_condition_and_brute_force() {
        let tau = 0.01;
        for &(s, t, p) in &[
            (1.0, 7.0, 1.0),
            (1.0, 0.3, 1.0),
            (2.5, 40.0, 40.0),
            (0.2, 0.5, 0.5),
            (3.0, 0.7, 1.0),
        ] {
            let next = klm_coordinate(s, 1.0 / t, p, tau);
            let b: f64 = 1.0 / p - tau / t - (1.0 - tau) / s;
            // (i) the reference's expression (larger root) where B ≥ 0
            let e = p / t;
            let m = 1.0 - tau * e;
            let cc = m * m * s
                + 2.0 * tau * p
                + 2.0 * tau * (1.0 - tau) * e * p
                + (1.0 - tau) * (1.0 - tau) * p * p / s;
            let reference = 0.5 * (cc + (cc * cc - 4.0 * p * p).sqrt());
            if b >= 0.0 {
                assert!((next - reference).abs() < 1e-12 * reference, "{s} {t} {p}");
            } else {
                assert!(next < reference, "the reference takes the other root here");
            }
            // (ii) first-order condition with a = σ'/σ > 0
            let a = (next / s).sqrt();
            assert!(((1.0 / p - 1.0 / next) * a - b).abs() < 1e-12 * (1.0 + b.abs()));
            // (iii) brute force over a > 0
            let j = |a: f64| a * a * s / (2.0 * p) - a.ln() - s * b * a;
            let best = (1..200_000)
                .map(|k| k as f64 * 1e-4)
                .map(j)
                .fold(f64::INFINITY, f64::min);
            assert!(
                j(a) <= best + 1e-12,
                "{s} {t} {p}: J(a*) {} > grid {best}",
                j(a)
            );
        }
        // (iv) the target is fixed, also when σ*² < p (where the reference's root is not)
        for &(t, p) in &[(0.3_f64, 1.0_f64), (7.0, 1.0), (0.3, 0.3)] {
            let next = klm_coordinate(t, 1.0 / t, p, tau);
            assert!((next - t).abs() < 1e-14 * t.max(1.0), "{t} {p}: {next}");
        }
        // the matrix form: diagonal in, diagonal out; non-diagonal refused
        let target = SpdMatrix::diagonal("t", &[7.0, 0.3]).unwrap();
        let prec = SpdMatrix::new("p", &target.inverse()).unwrap();
        let sch = GaussianScheme::Klm(target.clone());
        let next = sch.step(&SpdMatrix::identity(2), &prec, tau).unwrap();
        assert!((next.get(0, 0) - klm_coordinate(1.0, 1.0 / 7.0, 7.0, tau)).abs() < 1e-15);
        assert_eq!(next.get(0, 1), 0.0);
        let (a, _) = spd3();
        let aprec = SpdMatrix::new("p", &a.inverse()).unwrap();
        let err = GaussianScheme::Klm(SpdMatrix::identity(3))
            .step(&SpdMatrix::identity(3), &aprec, tau)
            .unwrap_err();
        assert!(err.to_string().contains("diagonal"), "{err}");
    }

    #[test]
    fn geomspace_matches_numpy() {
        let g = geomspace(1.0, 100.0, 3);
        assert!((g[1] - 10.0).abs() < 1e-13 && g[0] == 1.0 && g[2] == 100.0);
    }
}
