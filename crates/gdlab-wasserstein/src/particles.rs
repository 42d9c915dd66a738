//! Particle measures `μ̂ = (1/n) Σᵢ δ_{xᵢ}`: an `n × d` row-major array of `f64`.

use gdlab_core::normal::fill_normals;
use gdlab_core::Seed;

use crate::error::{check_finite, Result, WassersteinError};

/// An empirical measure with uniform weights on `n_particles` points of `R^dim`, stored
/// row-major (row `i` is particle `xᵢ`), as in the reference code's `n × d` arrays.
///
/// Construction validates the shape and that every coordinate is finite (there is no
/// unchecked constructor, and no `Deserialize`: files go through [`Particles::new`]).
///
/// # Examples
/// ```
/// use gdlab_wasserstein::Particles;
/// let x = Particles::new(2, 2, vec![0.0, 1.0, 2.0, 3.0]).unwrap();
/// assert_eq!(x.row(1), &[2.0, 3.0]);
/// assert_eq!(x.mean(), vec![1.0, 2.0]);
/// assert!(Particles::new(2, 2, vec![0.0, f64::NAN, 2.0, 3.0]).is_err());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Particles {
    n_particles: usize,
    dim: usize,
    data: Vec<f64>,
}

impl Particles {
    /// `n_particles × dim` particles from row-major `data`.
    ///
    /// # Errors
    /// [`WassersteinError::OutOfRange`] for zero sizes, [`WassersteinError::Dim`] if
    /// `data.len() ≠ n_particles · dim`, [`WassersteinError::NonFinite`] naming the
    /// particle and coordinate of the first non-finite value.
    pub fn new(n_particles: usize, dim: usize, data: Vec<f64>) -> Result<Self> {
        if n_particles == 0 {
            return Err(WassersteinError::OutOfRange {
                field: "n_particles",
                value: 0.0,
                allowed: "[1, ∞)",
            });
        }
        if dim == 0 {
            return Err(WassersteinError::OutOfRange {
                field: "dim",
                value: 0.0,
                allowed: "[1, ∞)",
            });
        }
        if data.len() != n_particles * dim {
            return Err(WassersteinError::Dim {
                op: "particles (n_particles · dim values)",
                expected: n_particles * dim,
                got: data.len(),
            });
        }
        if let Some(k) = data.iter().position(|v| !v.is_finite()) {
            return Err(WassersteinError::NonFinite {
                what: format!("particles (particle {}, coordinate {})", k / dim, k % dim),
                index: k,
                value: data[k],
            });
        }
        Ok(Particles {
            n_particles,
            dim,
            data,
        })
    }

    /// From rows.
    ///
    /// # Errors
    /// As [`Particles::new`]; ragged rows are [`WassersteinError::Dim`].
    pub fn from_rows(rows: &[Vec<f64>]) -> Result<Self> {
        let dim = rows.first().map_or(0, Vec::len);
        if let Some(r) = rows.iter().find(|r| r.len() != dim) {
            return Err(WassersteinError::Dim {
                op: "particle rows",
                expected: dim,
                got: r.len(),
            });
        }
        Self::new(rows.len(), dim, rows.concat())
    }

    /// `scale · N(0, I_dim)` draws plus `mean` (if given), from `seed` (Box–Muller
    /// normals, row-major). The study's `x₀ = 0.25·N(0, I)` is `gaussian(100, 2, 0.25, None, seed)`.
    ///
    /// # Errors
    /// As [`Particles::new`]; [`WassersteinError::Dim`] if `mean` has the wrong length;
    /// [`WassersteinError::OutOfRange`] if `scale` is negative or not finite.
    pub fn gaussian(
        n_particles: usize,
        dim: usize,
        scale: f64,
        mean: Option<&[f64]>,
        seed: Seed,
    ) -> Result<Self> {
        if !(scale.is_finite() && scale >= 0.0) {
            return Err(WassersteinError::OutOfRange {
                field: "scale",
                value: scale,
                allowed: "[0, ∞)",
            });
        }
        if let Some(m) = mean {
            if m.len() != dim {
                return Err(WassersteinError::Dim {
                    op: "initial mean",
                    expected: dim,
                    got: m.len(),
                });
            }
        }
        let mut data = vec![0.0; n_particles * dim];
        fill_normals(&mut seed.rng(), &mut data);
        for (k, v) in data.iter_mut().enumerate() {
            *v = scale * *v + mean.map_or(0.0, |m| m[k % dim]);
        }
        Self::new(n_particles, dim, data)
    }

    /// Number of particles `n`.
    #[must_use]
    pub fn n_particles(&self) -> usize {
        self.n_particles
    }

    /// Dimension `d`.
    #[must_use]
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Row-major coordinates.
    #[must_use]
    pub fn data(&self) -> &[f64] {
        &self.data
    }

    /// Particle `i`.
    ///
    /// # Panics
    /// If `i ≥ n_particles` (a programmer error).
    #[must_use]
    pub fn row(&self, i: usize) -> &[f64] {
        &self.data[i * self.dim..(i + 1) * self.dim]
    }

    /// The rows, as vectors.
    #[must_use]
    pub fn rows(&self) -> Vec<Vec<f64>> {
        self.data.chunks(self.dim).map(<[f64]>::to_vec).collect()
    }

    /// Replaces the coordinates (same shape), checking they are finite.
    ///
    /// # Errors
    /// [`WassersteinError::Dim`] or [`WassersteinError::NonFinite`] naming `what`.
    pub fn set_data(&mut self, data: Vec<f64>, what: impl FnOnce() -> String) -> Result<()> {
        if data.len() != self.data.len() {
            return Err(WassersteinError::Dim {
                op: "particles (set_data)",
                expected: self.data.len(),
                got: data.len(),
            });
        }
        check_finite(what, &data)?;
        self.data = data;
        Ok(())
    }

    /// Checks that `other` has the same dimension.
    ///
    /// # Errors
    /// [`WassersteinError::Dim`] naming `op`.
    pub fn check_dim(&self, op: &'static str, dim: usize) -> Result<()> {
        if self.dim == dim {
            Ok(())
        } else {
            Err(WassersteinError::Dim {
                op,
                expected: dim,
                got: self.dim,
            })
        }
    }

    /// The mean `x̄ = (1/n) Σ xᵢ` (summed in index order).
    #[must_use]
    pub fn mean(&self) -> Vec<f64> {
        let mut m = vec![0.0; self.dim];
        for r in self.data.chunks(self.dim) {
            m.iter_mut().zip(r).for_each(|(a, b)| *a += b);
        }
        m.iter_mut().for_each(|a| *a /= self.n_particles as f64);
        m
    }

    /// The particles with their mean subtracted (interaction energies are
    /// translation-invariant; the reference plots centred trajectories).
    #[must_use]
    pub fn centred(&self) -> Vec<f64> {
        let m = self.mean();
        self.data
            .iter()
            .enumerate()
            .map(|(k, v)| v - m[k % self.dim])
            .collect()
    }

    /// The (biased, `1/n`) covariance, row-major `dim × dim`.
    #[must_use]
    pub fn covariance(&self) -> Vec<f64> {
        let d = self.dim;
        let m = self.mean();
        let mut c = vec![0.0; d * d];
        for r in self.data.chunks(d) {
            for a in 0..d {
                for b in 0..d {
                    c[a * d + b] += (r[a] - m[a]) * (r[b] - m[b]);
                }
            }
        }
        c.iter_mut().for_each(|v| *v /= self.n_particles as f64);
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_and_errors() {
        assert!(matches!(
            Particles::new(2, 2, vec![0.0; 3]),
            Err(WassersteinError::Dim { .. })
        ));
        assert!(Particles::new(0, 2, vec![]).is_err());
        let e = Particles::new(2, 2, vec![0.0, 0.0, f64::INFINITY, 0.0]).unwrap_err();
        assert!(e.to_string().contains("particle 1, coordinate 0"), "{e}");
        assert!(Particles::from_rows(&[vec![1.0], vec![1.0, 2.0]]).is_err());
        let x = Particles::gaussian(4, 3, 0.5, Some(&[1.0, 2.0, 3.0]), Seed(1)).unwrap();
        let y = Particles::gaussian(4, 3, 0.5, Some(&[1.0, 2.0, 3.0]), Seed(1)).unwrap();
        assert_eq!(x, y);
        let c = x.centred();
        let s: f64 = c.iter().step_by(3).sum();
        assert!(s.abs() < 1e-14);
    }
}
