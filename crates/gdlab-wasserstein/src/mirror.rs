//! Mirror maps `∇V` / `∇V*` of potential-type Bregman potentials `φ^V_μ(T) = ∫ V∘T dμ`
//! (spec §2.2a, the reference code's `mirror_maps.py`), applied row-wise to particles.
//!
//! | map | `V(x)` | `∇V(x)` | `∇V*(y)` | domain |
//! |---|---|---|---|---|
//! | [`MirrorMap::Euclidean`] | `½‖x‖²` | `x` | `y` | `R^d` |
//! | [`MirrorMap::linear`] | `½xᵀP⁻¹x` | `P⁻¹x` | `Py` | `R^d` |
//! | [`MirrorMap::ball`] | `−γ log(R − ‖x‖²)` | `2γx/(R − ‖x‖²)` | `Ry/(√(R‖y‖² + γ²) + γ)` | `‖x‖² < R` |
//! | [`MirrorMap::Entropic`] | `Σxᵢlog xᵢ + (1−Σx)log(1−Σx)` | `log xᵢ − log(1 − Σx)` | `e^{yᵢ}/(1 + Σe^{yⱼ})` | open simplex |
//! | [`MirrorMap::Box`] | `−Σ log(1 − xᵢ²)` | `2xᵢ/(1 − xᵢ²)` | `yᵢ/(√(1 + yᵢ²) + 1)` | `(−1, 1)^d` |
//!
//! The Box inverse is written `y/(√(1+y²)+1)`, algebraically equal to the reference's
//! `(√(1+y²) − 1)/y` but without the 0/0 at `y = 0`. The entropic inverse subtracts
//! `max(0, maxⱼ yⱼ)` before exponentiating.

use crate::error::{Result, WassersteinError};
use crate::matrix::SpdMatrix;
use crate::particles::Particles;

/// A mirror map (the gradient of a Legendre potential `V` and of its conjugate).
#[derive(Clone, Debug, PartialEq)]
pub enum MirrorMap {
    /// `V = ½‖x‖²`: mirror descent is Wasserstein GD.
    Euclidean,
    /// `V = ½xᵀP⁻¹x`: mirror descent is preconditioned GD with `P`.
    Linear {
        /// `P`.
        p: SpdMatrix,
        /// `P⁻¹` (row-major), computed once.
        p_inv: Vec<f64>,
    },
    /// The log-barrier of the ball `‖x‖² < R`.
    Ball {
        /// `R` (the squared radius).
        radius_sq: f64,
        /// `γ > 0`.
        gamma: f64,
    },
    /// The entropic map of the open simplex `{x > 0, Σx < 1}`.
    Entropic,
    /// The log-barrier of the box `(−1, 1)^d`.
    Box,
}

fn matvec(m: &[f64], x: &[f64], out: &mut [f64]) {
    let d = x.len();
    for (i, o) in out.iter_mut().enumerate() {
        *o = (0..d).map(|j| m[i * d + j] * x[j]).sum();
    }
}

impl MirrorMap {
    /// `V = ½xᵀP⁻¹x`.
    #[must_use]
    pub fn linear(p: SpdMatrix) -> Self {
        let inv = p.inverse();
        let d = p.dim();
        let p_inv = (0..d * d).map(|k| inv[(k / d, k % d)]).collect();
        MirrorMap::Linear { p, p_inv }
    }

    /// The ball barrier with `R > 0`, `γ > 0`.
    ///
    /// # Errors
    /// [`WassersteinError::OutOfRange`] naming `radius_sq` or `gamma`.
    pub fn ball(radius_sq: f64, gamma: f64) -> Result<Self> {
        crate::error::check_positive("radius_sq", radius_sq)?;
        crate::error::check_positive("gamma", gamma)?;
        Ok(MirrorMap::Ball { radius_sq, gamma })
    }

    /// The name used in configs and errors.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            MirrorMap::Euclidean => "euclidean",
            MirrorMap::Linear { .. } => "linear",
            MirrorMap::Ball { .. } => "ball",
            MirrorMap::Entropic => "entropic",
            MirrorMap::Box => "box",
        }
    }

    /// The domain, in words.
    #[must_use]
    pub fn domain(&self) -> &'static str {
        match self {
            MirrorMap::Euclidean | MirrorMap::Linear { .. } => "R^d",
            MirrorMap::Ball { .. } => "‖x‖² < radius_sq",
            MirrorMap::Entropic => "x_i > 0 and Σ x_i < 1",
            MirrorMap::Box => "−1 < x_i < 1",
        }
    }

    /// The dimension the map is tied to, if any.
    #[must_use]
    pub fn dim(&self) -> Option<usize> {
        match self {
            MirrorMap::Linear { p, .. } => Some(p.dim()),
            _ => None,
        }
    }

    /// Whether `x` lies in the (open) domain.
    #[must_use]
    pub fn in_domain(&self, x: &[f64]) -> bool {
        match self {
            MirrorMap::Euclidean | MirrorMap::Linear { .. } => x.iter().all(|v| v.is_finite()),
            MirrorMap::Ball { radius_sq, .. } => x.iter().map(|v| v * v).sum::<f64>() < *radius_sq,
            MirrorMap::Entropic => x.iter().all(|&v| v > 0.0) && 1.0 - x.iter().sum::<f64>() > 0.0,
            MirrorMap::Box => x.iter().all(|&v| v > -1.0 && v < 1.0),
        }
    }

    /// Checks every particle (and the dimension of a linear map).
    ///
    /// # Errors
    /// [`WassersteinError::OutsideDomain`] naming the first particle outside;
    /// [`WassersteinError::Dim`].
    pub fn check_domain(&self, x: &Particles) -> Result<()> {
        if let Some(d) = self.dim() {
            x.check_dim("mirror map dimension vs particles", d)?;
        }
        match (0..x.n_particles()).find(|&i| !self.in_domain(x.row(i))) {
            None => Ok(()),
            Some(particle) => Err(WassersteinError::OutsideDomain {
                map: self.name(),
                particle,
                domain: self.domain(),
            }),
        }
    }

    /// `y = ∇V(x)` for one point of the domain (unchecked: call
    /// [`MirrorMap::check_domain`] first).
    pub fn grad_phi(&self, x: &[f64], out: &mut [f64]) {
        match self {
            MirrorMap::Euclidean => out.copy_from_slice(x),
            MirrorMap::Linear { p_inv, .. } => matvec(p_inv, x, out),
            MirrorMap::Ball { radius_sq, gamma } => {
                let s = radius_sq - x.iter().map(|v| v * v).sum::<f64>();
                for (o, v) in out.iter_mut().zip(x) {
                    *o = 2.0 * gamma * v / s;
                }
            }
            MirrorMap::Entropic => {
                let l = (1.0 - x.iter().sum::<f64>()).ln();
                for (o, v) in out.iter_mut().zip(x) {
                    *o = v.ln() - l;
                }
            }
            MirrorMap::Box => {
                for (o, v) in out.iter_mut().zip(x) {
                    *o = 1.0 / (1.0 - v) - 1.0 / (1.0 + v);
                }
            }
        }
    }

    /// The Hessian `∇²V(x)` (row-major `d × d` into `out`) at one point of the domain
    /// (unchecked, as [`MirrorMap::grad_phi`]); mirror Langevin needs its Cholesky factor
    /// (spec §6 `mirror_langevin.py`).
    ///
    /// | map | `∇²V(x)` |
    /// |---|---|
    /// | Euclidean | `I` |
    /// | linear | `P⁻¹` |
    /// | ball | `(2γ/s) I + (4γ/s²) xxᵀ`, `s = R − ‖x‖²` |
    /// | entropic | `diag(1/xᵢ) + 11ᵀ/(1 − Σx)` (spec §2.2a) |
    /// | box | `diag(1/(1−xᵢ)² + 1/(1+xᵢ)²)` |
    ///
    /// # Panics
    /// If `out.len() ≠ x.len()²` (a programmer error).
    pub fn hessian_phi(&self, x: &[f64], out: &mut [f64]) {
        let d = x.len();
        assert_eq!(out.len(), d * d, "hessian_phi: out must hold d·d values");
        out.iter_mut().for_each(|v| *v = 0.0);
        match self {
            MirrorMap::Euclidean => (0..d).for_each(|i| out[i * d + i] = 1.0),
            MirrorMap::Linear { p_inv, .. } => out.copy_from_slice(p_inv),
            MirrorMap::Ball { radius_sq, gamma } => {
                let s = radius_sq - x.iter().map(|v| v * v).sum::<f64>();
                for i in 0..d {
                    for j in 0..d {
                        out[i * d + j] = 4.0 * gamma * x[i] * x[j] / (s * s);
                    }
                    out[i * d + i] += 2.0 * gamma / s;
                }
            }
            MirrorMap::Entropic => {
                let last = 1.0 / (1.0 - x.iter().sum::<f64>());
                out.iter_mut().for_each(|v| *v = last);
                for i in 0..d {
                    out[i * d + i] += 1.0 / x[i];
                }
            }
            MirrorMap::Box => {
                for i in 0..d {
                    let (a, b) = (1.0 - x[i], 1.0 + x[i]);
                    out[i * d + i] = 1.0 / (a * a) + 1.0 / (b * b);
                }
            }
        }
    }

    /// `x = ∇V*(y)` for any `y ∈ R^d`.
    pub fn grad_phi_star(&self, y: &[f64], out: &mut [f64]) {
        match self {
            MirrorMap::Euclidean => out.copy_from_slice(y),
            MirrorMap::Linear { p, .. } => p.apply(y, out),
            MirrorMap::Ball { radius_sq, gamma } => {
                let ny2 = y.iter().map(|v| v * v).sum::<f64>();
                let den = (radius_sq * ny2 + gamma * gamma).sqrt() + gamma;
                for (o, v) in out.iter_mut().zip(y) {
                    *o = radius_sq * v / den;
                }
            }
            MirrorMap::Entropic => {
                let m = y.iter().fold(0.0_f64, |a, &b| a.max(b));
                let den = (-m).exp() + y.iter().map(|v| (v - m).exp()).sum::<f64>();
                for (o, v) in out.iter_mut().zip(y) {
                    *o = (v - m).exp() / den;
                }
            }
            MirrorMap::Box => {
                for (o, v) in out.iter_mut().zip(y) {
                    *o = v / ((1.0 + v * v).sqrt() + 1.0);
                }
            }
        }
    }
}

#[cfg(test)]
// exact zeros and exact endpoints are what these tests check; index loops mirror the formulas
#[allow(clippy::float_cmp, clippy::needless_range_loop, clippy::useless_vec)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn maps() -> Vec<MirrorMap> {
        vec![
            MirrorMap::Euclidean,
            MirrorMap::linear(
                SpdMatrix::from_rows(
                    "P",
                    &[
                        vec![3.0, 0.5, 0.0],
                        vec![0.5, 1.0, 0.2],
                        vec![0.0, 0.2, 0.1],
                    ],
                )
                .unwrap(),
            ),
            MirrorMap::ball(2.0, 0.7).unwrap(),
            MirrorMap::Entropic,
            MirrorMap::Box,
        ]
    }

    /// Maps a free vector into each map's domain.
    fn into_domain(m: &MirrorMap, u: &[f64]) -> Vec<f64> {
        match m {
            MirrorMap::Euclidean | MirrorMap::Linear { .. } => u.iter().map(|v| 5.0 * v).collect(),
            MirrorMap::Ball { radius_sq, .. } => {
                let r = radius_sq.sqrt() * 0.999 / (u.len() as f64).sqrt();
                u.iter().map(|v| r * v).collect()
            }
            MirrorMap::Entropic => {
                // softmax onto the open simplex with a slack coordinate
                let e: Vec<f64> = u.iter().map(|v| (3.0 * v).exp()).collect();
                let s = 1.0 + e.iter().sum::<f64>();
                e.iter().map(|v| v / s).collect()
            }
            MirrorMap::Box => u.iter().map(|v| 0.999 * v).collect(),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// ∇V*(∇V(x)) = x on the domain.
        #[test]
        fn star_inverts_grad_on_the_domain(u in proptest::collection::vec(-1.0f64..1.0, 3)) {
            for m in maps() {
                let x = into_domain(&m, &u);
                prop_assert!(m.in_domain(&x), "{} {x:?}", m.name());
                let mut y = vec![0.0; 3];
                let mut back = vec![0.0; 3];
                m.grad_phi(&x, &mut y);
                m.grad_phi_star(&y, &mut back);
                for (a, b) in x.iter().zip(&back) {
                    prop_assert!((a - b).abs() <= 1e-9 * (1.0 + a.abs()), "{}: {x:?} → {back:?}", m.name());
                }
            }
        }

        /// ∇V(∇V*(y)) = y for every y, and ∇V*(y) lands in the domain.
        #[test]
        fn grad_inverts_star_everywhere(y in proptest::collection::vec(-8.0f64..8.0, 3)) {
            for m in maps() {
                let mut x = vec![0.0; 3];
                let mut back = vec![0.0; 3];
                m.grad_phi_star(&y, &mut x);
                prop_assert!(m.in_domain(&x), "{}: {x:?}", m.name());
                m.grad_phi(&x, &mut back);
                for (a, b) in y.iter().zip(&back) {
                    prop_assert!((a - b).abs() <= 1e-7 * (1.0 + a.abs()), "{}: {y:?} → {back:?}", m.name());
                }
            }
        }
    }

    #[test]
    fn gradients_match_finite_differences_of_the_potentials() {
        // V for each map, differentiated numerically
        let v = |m: &MirrorMap, x: &[f64]| -> f64 {
            match m {
                MirrorMap::Euclidean => 0.5 * x.iter().map(|a| a * a).sum::<f64>(),
                MirrorMap::Linear { p_inv, .. } => {
                    let mut t = vec![0.0; x.len()];
                    matvec(p_inv, x, &mut t);
                    0.5 * x.iter().zip(&t).map(|(a, b)| a * b).sum::<f64>()
                }
                MirrorMap::Ball { radius_sq, gamma } => {
                    -gamma * (radius_sq - x.iter().map(|a| a * a).sum::<f64>()).ln()
                }
                MirrorMap::Entropic => {
                    let s: f64 = x.iter().sum();
                    x.iter().map(|a| a * a.ln()).sum::<f64>() + (1.0 - s) * (1.0 - s).ln()
                }
                MirrorMap::Box => -x
                    .iter()
                    .map(|a| (1.0 - a).ln() + (1.0 + a).ln())
                    .sum::<f64>(),
            }
        };
        let x = [0.2, 0.3, 0.1];
        for m in maps() {
            let mut g = [0.0; 3];
            m.grad_phi(&x, &mut g);
            for k in 0..3 {
                let (mut xp, mut xm) = (x, x);
                xp[k] += 1e-6;
                xm[k] -= 1e-6;
                let fd = (v(&m, &xp) - v(&m, &xm)) / 2e-6;
                assert!((fd - g[k]).abs() < 1e-6 * (1.0 + fd.abs()), "{}", m.name());
            }
        }
    }

    #[test]
    fn hessians_match_finite_differences_of_the_gradients() {
        let x = [0.2, 0.3, 0.1];
        for m in maps() {
            let mut h = [0.0; 9];
            m.hessian_phi(&x, &mut h);
            for k in 0..3 {
                let (mut xp, mut xm) = (x, x);
                xp[k] += 1e-6;
                xm[k] -= 1e-6;
                let (mut gp, mut gm) = ([0.0; 3], [0.0; 3]);
                m.grad_phi(&xp, &mut gp);
                m.grad_phi(&xm, &mut gm);
                for i in 0..3 {
                    let fd = (gp[i] - gm[i]) / 2e-6;
                    assert!(
                        (fd - h[i * 3 + k]).abs() < 1e-6 * (1.0 + fd.abs()),
                        "{} ({i}, {k}): {fd} vs {}",
                        m.name(),
                        h[i * 3 + k]
                    );
                }
            }
        }
    }

    #[test]
    fn domain_errors_name_the_particle() {
        let x = Particles::from_rows(&[vec![0.1, 0.1], vec![0.6, 0.5]]).unwrap();
        let e = MirrorMap::Entropic.check_domain(&x).unwrap_err();
        assert!(matches!(
            e,
            WassersteinError::OutsideDomain {
                particle: 1,
                map: "entropic",
                ..
            }
        ));
        assert!(MirrorMap::Box.check_domain(&x).is_ok());
        assert!(MirrorMap::ball(0.5, 1.0).unwrap().check_domain(&x).is_err());
        assert!(MirrorMap::ball(-1.0, 1.0).is_err());
        assert!(MirrorMap::ball(1.0, 0.0).is_err());
        // Box inverse at 0 is 0 (no 0/0)
        let mut o = [1.0];
        MirrorMap::Box.grad_phi_star(&[0.0], &mut o);
        assert_eq!(o[0], 0.0);
    }
}
