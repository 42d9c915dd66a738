//! Pair kernels `K(z)` of interaction energies and interaction Bregman potentials
//! (spec §2.2b, §2.5), all functions of `q = zᵀMz` for an SPD "metric" `M`.
//!
//! | kernel | `K(z)` | `∇K(z)` | `∇²K(z)` |
//! |---|---|---|---|
//! | [`PairKernel::quadratic`] (K₂) | `½q` | `Mz` | `M` |
//! | [`PairKernel::quartic`] (K₄) | `¼q² + ½q` | `(q+1)Mz` | `(q+1)M + 2(Mz)(Mz)ᵀ` |
//! | [`PairKernel::double_well`] (the ill-conditioned `W`) | `¼q² − ½q` | `(q−1)Mz` | `(q−1)M + 2(Mz)(Mz)ᵀ` |
//!
//! The Σ-forms of the spec (`K₂^Σ`, `K₄^Σ`, `W` with `Σ⁻¹`) take `M = Σ⁻¹`
//! ([`PairKernel::with_covariance`]); the isotropic forms take `M = I`.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::matrix::SpdMatrix;

/// Which kernel shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KernelShape {
    /// `K₂(z) = ½ zᵀMz` (config name `quadratic` or `k2`).
    #[serde(alias = "k2")]
    Quadratic,
    /// `K₄(z) = ¼(zᵀMz)² + ½ zᵀMz` (config name `quartic` or `k4`).
    #[serde(alias = "k4")]
    Quartic,
    /// `W(z) = ¼(zᵀMz)² − ½ zᵀMz` (attractive–repulsive; minimiser a ring after whitening).
    DoubleWell,
}

impl KernelShape {
    /// `(c₄, c₂)` with `K = ¼c₄q² + ½c₂q`.
    fn coefficients(self) -> (f64, f64) {
        match self {
            KernelShape::Quadratic => (0.0, 1.0),
            KernelShape::Quartic => (1.0, 1.0),
            KernelShape::DoubleWell => (1.0, -1.0),
        }
    }

    /// Short name (`k2`, `k4`, `double-well`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            KernelShape::Quadratic => "k2",
            KernelShape::Quartic => "k4",
            KernelShape::DoubleWell => "double-well",
        }
    }
}

/// A pair kernel `K(z) = ¼c₄q² + ½c₂q`, `q = zᵀMz`.
///
/// # Examples
/// ```
/// use gdlab_wasserstein::kernel::{KernelShape, PairKernel};
/// use gdlab_wasserstein::matrix::SpdMatrix;
/// let k = PairKernel::new(KernelShape::DoubleWell, SpdMatrix::identity(2));
/// // q = 1 at z = (1, 0): W = ¼ − ½ = −¼ and ∇W = (q − 1) z = 0
/// assert_eq!(k.value(&[1.0, 0.0]), -0.25);
/// let mut g = [9.0; 2];
/// k.grad(&[1.0, 0.0], &mut g);
/// assert_eq!(g, [0.0, 0.0]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct PairKernel {
    shape: KernelShape,
    metric: SpdMatrix,
    /// Row-major `M`.
    m: Vec<f64>,
    c4: f64,
    c2: f64,
}

impl PairKernel {
    /// The kernel of `shape` with metric `M`.
    #[must_use]
    pub fn new(shape: KernelShape, metric: SpdMatrix) -> Self {
        let (c4, c2) = shape.coefficients();
        let m = metric.to_row_major();
        PairKernel {
            shape,
            metric,
            m,
            c4,
            c2,
        }
    }

    /// The Σ-form: `M = Σ⁻¹`.
    ///
    /// # Errors
    /// [`crate::WassersteinError::NotPositiveDefinite`] if `Σ⁻¹` fails validation
    /// (cannot happen for a valid `Σ` unless it is extremely ill-conditioned).
    pub fn with_covariance(shape: KernelShape, sigma: &SpdMatrix) -> Result<Self> {
        Ok(Self::new(shape, SpdMatrix::new("Σ⁻¹", &sigma.inverse())?))
    }

    /// `K₂` with `M = P` (a convenience for [`PairKernel::new`]).
    #[must_use]
    pub fn quadratic(metric: SpdMatrix) -> Self {
        Self::new(KernelShape::Quadratic, metric)
    }

    /// `K₄` with `M = P`.
    #[must_use]
    pub fn quartic(metric: SpdMatrix) -> Self {
        Self::new(KernelShape::Quartic, metric)
    }

    /// The ill-conditioned double-well `W` with `M = P`.
    #[must_use]
    pub fn double_well(metric: SpdMatrix) -> Self {
        Self::new(KernelShape::DoubleWell, metric)
    }

    /// The shape.
    #[must_use]
    pub fn shape(&self) -> KernelShape {
        self.shape
    }

    /// The metric `M`.
    #[must_use]
    pub fn metric(&self) -> &SpdMatrix {
        &self.metric
    }

    /// The dimension.
    #[must_use]
    pub fn dim(&self) -> usize {
        self.metric.dim()
    }

    /// `out = M x`.
    #[inline]
    pub fn apply_metric(&self, x: &[f64], out: &mut [f64]) {
        let d = x.len();
        for (i, o) in out.iter_mut().enumerate() {
            let row = &self.m[i * d..(i + 1) * d];
            *o = row.iter().zip(x).map(|(a, b)| a * b).sum();
        }
    }

    /// `K(z)`.
    #[must_use]
    pub fn value(&self, z: &[f64]) -> f64 {
        let mut mz = vec![0.0; z.len()];
        self.apply_metric(z, &mut mz);
        let q: f64 = z.iter().zip(&mz).map(|(a, b)| a * b).sum();
        self.value_of_q(q)
    }

    /// `K` as a function of `q`.
    #[inline]
    #[must_use]
    pub fn value_of_q(&self, q: f64) -> f64 {
        0.25 * self.c4 * q * q + 0.5 * self.c2 * q
    }

    /// `(c₄, c₂)` with `K = ¼c₄q² + ½c₂q`.
    #[must_use]
    pub fn coefficients(&self) -> (f64, f64) {
        (self.c4, self.c2)
    }

    /// The scalar `c₄q + c₂` with `∇K(z) = (c₄q + c₂)Mz`.
    #[inline]
    #[must_use]
    pub fn grad_factor(&self, q: f64) -> f64 {
        self.c4 * q + self.c2
    }

    /// `∇K(z)` into `out`.
    pub fn grad(&self, z: &[f64], out: &mut [f64]) {
        self.apply_metric(z, out);
        let q: f64 = z.iter().zip(out.iter()).map(|(a, b)| a * b).sum();
        let f = self.grad_factor(q);
        out.iter_mut().for_each(|v| *v *= f);
    }

    /// `∇²K(z)` added (times `weight`) into the row-major `d × d` block `out` with row
    /// stride `stride`, given `Mz` and `q`.
    #[inline]
    pub fn add_hessian(&self, mz: &[f64], q: f64, weight: f64, out: &mut [f64], stride: usize) {
        let d = mz.len();
        let f = weight * self.grad_factor(q);
        let r = weight * 2.0 * self.c4;
        for a in 0..d {
            let row = &mut out[a * stride..a * stride + d];
            for b in 0..d {
                row[b] += f * self.m[a * d + b] + r * mz[a] * mz[b];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gradient_and_hessian_match_finite_differences() {
        let m = SpdMatrix::from_rows("M", &[vec![2.0, 0.3], vec![0.3, 0.5]]).unwrap();
        for shape in [
            KernelShape::Quadratic,
            KernelShape::Quartic,
            KernelShape::DoubleWell,
        ] {
            let k = PairKernel::new(shape, m.clone());
            let z = [0.7, -1.1];
            let mut g = [0.0; 2];
            k.grad(&z, &mut g);
            let h = 1e-6;
            for a in 0..2 {
                let mut zp = z;
                let mut zm = z;
                zp[a] += h;
                zm[a] -= h;
                let fd = (k.value(&zp) - k.value(&zm)) / (2.0 * h);
                assert!((fd - g[a]).abs() < 1e-8 * (1.0 + g[a].abs()), "{shape:?}");
            }
            let mut mz = [0.0; 2];
            k.apply_metric(&z, &mut mz);
            let q = z[0] * mz[0] + z[1] * mz[1];
            let mut hess = [0.0; 4];
            k.add_hessian(&mz, q, 1.0, &mut hess, 2);
            for a in 0..2 {
                let mut zp = z;
                let mut zm = z;
                zp[a] += h;
                zm[a] -= h;
                let (mut gp, mut gm) = ([0.0; 2], [0.0; 2]);
                k.grad(&zp, &mut gp);
                k.grad(&zm, &mut gm);
                for b in 0..2 {
                    let fd = (gp[b] - gm[b]) / (2.0 * h);
                    assert!((fd - hess[b * 2 + a]).abs() < 1e-7 * (1.0 + fd.abs()));
                }
            }
        }
    }
}
