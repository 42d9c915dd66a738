//! Discrepancies to a fixed target sample `ν̂ = (1/m) Σ δ_{y_l}` (spec §2.5, the alignment
//! task): the energy distance (MMD with the Riesz kernel `k = −‖x − y‖`) and the sliced
//! Wasserstein distance `SW₂²` with 1-D quantile matching.

use gdlab_core::normal::fill_normals;
use gdlab_core::Seed;
use rayon::prelude::*;

use crate::error::{Result, WassersteinError};
use crate::functional::{check_shapes, Functional, ROWS_PER_CHUNK};
use crate::particles::Particles;

fn dist(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f64>()
        .sqrt()
}

/// `Σ_{a,b} ‖xₐ − y_b‖` over all pairs (rows summed in index order).
fn sum_dist(x: &[f64], y: &[f64], d: usize) -> f64 {
    let rows: Vec<f64> = x
        .par_chunks(d)
        .with_min_len(ROWS_PER_CHUNK)
        .map(|a| y.chunks(d).map(|b| dist(a, b)).sum::<f64>())
        .collect();
    rows.iter().sum()
}

/// Half the squared MMD with the Riesz kernel `k(x, y) = −‖x − y‖`, i.e. half the energy
/// distance `ED(μ, ν) = 2E‖X−Y‖ − E‖X−X'‖ − E‖Y−Y'‖` (V-statistics, all pairs):
/// `F(μ̂) = ½ MMD²(μ̂, ν̂)`, with
/// `∇_{W₂}F(xᵢ) = (1/n)Σⱼ ∇₁k(xᵢ, xⱼ) − (1/m)Σ_l ∇₁k(xᵢ, y_l)`,
/// `∇₁k(x, y) = −(x − y)/‖x − y‖` (0 at `x = y`), spec §2.5 / `mmdf.py`.
///
/// # Examples
/// ```
/// use gdlab_wasserstein::{discrepancy::EnergyDistance, functional::Functional, Particles};
/// let y = Particles::new(1, 1, vec![0.0]).unwrap();
/// let ed = EnergyDistance::new(y).unwrap();
/// let x = Particles::new(1, 1, vec![2.0]).unwrap();
/// // ED = 2·2 − 0 − 0 = 4
/// assert_eq!(ed.energy_distance(&x).unwrap(), 4.0);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct EnergyDistance {
    target: Particles,
    /// `E‖Y − Y'‖` (V-statistic), computed once.
    target_self: f64,
}

impl EnergyDistance {
    /// The energy distance to `target`.
    ///
    /// # Errors
    /// None at present (the target is already validated); kept fallible for future checks.
    pub fn new(target: Particles) -> Result<Self> {
        let m = target.n_particles() as f64;
        let target_self = sum_dist(target.data(), target.data(), target.dim()) / (m * m);
        Ok(EnergyDistance {
            target,
            target_self,
        })
    }

    /// The target sample.
    #[must_use]
    pub fn target(&self) -> &Particles {
        &self.target
    }

    /// `ED(μ̂, ν̂) = MMD²` with the Riesz kernel.
    ///
    /// # Errors
    /// [`WassersteinError::Dim`] on a dimension mismatch.
    pub fn energy_distance(&self, x: &Particles) -> Result<f64> {
        check_shapes(self, x, None)?;
        self.energy_distance_to(x, &self.target, self.target_self)
    }

    /// `ED(μ̂, other)` for another sample (e.g. held-out target points).
    ///
    /// # Errors
    /// [`WassersteinError::Dim`] on a dimension mismatch.
    pub fn energy_distance_between(x: &Particles, y: &Particles) -> Result<f64> {
        y.check_dim("energy distance (samples)", x.dim())?;
        let m = y.n_particles() as f64;
        let yy = sum_dist(y.data(), y.data(), y.dim()) / (m * m);
        Self::energy_distance_raw(x, y, yy)
    }

    fn energy_distance_to(&self, x: &Particles, y: &Particles, yy: f64) -> Result<f64> {
        Self::energy_distance_raw(x, y, yy)
    }

    fn energy_distance_raw(x: &Particles, y: &Particles, yy: f64) -> Result<f64> {
        let (n, m, d) = (x.n_particles() as f64, y.n_particles() as f64, x.dim());
        let xy = sum_dist(x.data(), y.data(), d) / (n * m);
        let xx = sum_dist(x.data(), x.data(), d) / (n * n);
        Ok(2.0 * xy - xx - yy)
    }
}

impl Functional for EnergyDistance {
    fn name(&self) -> String {
        "energy distance (Riesz MMD)".into()
    }
    fn dim(&self) -> Option<usize> {
        Some(self.target.dim())
    }
    fn value(&self, x: &Particles) -> Result<f64> {
        Ok(0.5 * self.energy_distance(x)?)
    }
    fn wgrad(&self, x: &Particles, out: &mut [f64]) -> Result<()> {
        check_shapes(self, x, Some(out.len()))?;
        let d = x.dim();
        let xs = x.data();
        let ys = self.target.data();
        let (n, m) = (x.n_particles() as f64, self.target.n_particles() as f64);
        out.par_chunks_mut(d * ROWS_PER_CHUNK)
            .enumerate()
            .for_each(|(c, block)| {
                for (r, o) in block.chunks_mut(d).enumerate() {
                    let i = c * ROWS_PER_CHUNK + r;
                    let xi = &xs[i * d..(i + 1) * d];
                    o.iter_mut().for_each(|v| *v = 0.0);
                    // (1/n) Σ_j −(xᵢ − xⱼ)/‖·‖
                    for xj in xs.chunks(d) {
                        let r = dist(xi, xj);
                        if r > 0.0 {
                            for k in 0..d {
                                o[k] -= (xi[k] - xj[k]) / (r * n);
                            }
                        }
                    }
                    // − (1/m) Σ_l −(xᵢ − y_l)/‖·‖
                    for yl in ys.chunks(d) {
                        let r = dist(xi, yl);
                        if r > 0.0 {
                            for k in 0..d {
                                o[k] += (xi[k] - yl[k]) / (r * m);
                            }
                        }
                    }
                }
            });
        Ok(())
    }
}

/// Half the sliced Wasserstein distance, `F(μ̂) = ½ SW₂²(μ̂, ν̂)` with
/// `SW₂² = (1/L) Σ_θ W₂²(θ#μ̂, θ#ν̂)` over `L` unit directions θ, each 1-D `W₂²` solved
/// exactly by quantile matching of the sorted projections (uniform weights, `n ≠ m`
/// allowed). The Wasserstein gradient is `(1/L) Σ_θ (xᵢ·θ − T_θ(xᵢ·θ)) θ`, with `T_θ(xᵢ·θ)`
/// the mean target quantile over particle `i`'s mass interval (spec §2.5).
///
/// POT's `ot.sliced_wasserstein_distance(X, Y, projections=Θ)` returns
/// `√SW₂²` = [`SlicedWasserstein::distance`]; its `projections` array is `d × L`,
/// the transpose of [`SlicedWasserstein::directions`].
#[derive(Clone, Debug, PartialEq)]
pub struct SlicedWasserstein {
    target: Particles,
    /// `L × d` row-major unit directions.
    directions: Vec<f64>,
    n_projections: usize,
}

impl SlicedWasserstein {
    /// `n_projections` directions drawn uniformly on the sphere (normalised Box–Muller
    /// normals from `seed`, row by row).
    ///
    /// # Errors
    /// [`WassersteinError::OutOfRange`] if `n_projections = 0`.
    pub fn random(target: Particles, n_projections: usize, seed: Seed) -> Result<Self> {
        if n_projections == 0 {
            return Err(WassersteinError::OutOfRange {
                field: "n_projections",
                value: 0.0,
                allowed: "[1, ∞)",
            });
        }
        let d = target.dim();
        let mut dirs = vec![0.0; n_projections * d];
        let mut rng = seed.rng();
        for row in dirs.chunks_mut(d) {
            loop {
                fill_normals(&mut rng, row);
                let r = row.iter().map(|v| v * v).sum::<f64>().sqrt();
                if r > 1e-12 {
                    row.iter_mut().for_each(|v| *v /= r);
                    break;
                }
            }
        }
        Self::with_directions(target, dirs)
    }

    /// Given directions (`L × d` row-major; each row is normalised here).
    ///
    /// # Errors
    /// [`WassersteinError::Dim`] if the length is not a positive multiple of `d`;
    /// [`WassersteinError::Invalid`] for a zero or non-finite direction.
    pub fn with_directions(target: Particles, mut directions: Vec<f64>) -> Result<Self> {
        let d = target.dim();
        if directions.is_empty() || directions.len() % d != 0 {
            return Err(WassersteinError::Dim {
                op: "sliced-Wasserstein directions (L · d values)",
                expected: d * (directions.len() / d).max(1),
                got: directions.len(),
            });
        }
        for (l, row) in directions.chunks_mut(d).enumerate() {
            let r = row.iter().map(|v| v * v).sum::<f64>().sqrt();
            if !(r.is_finite() && r > 0.0) {
                return Err(WassersteinError::Invalid {
                    field: "directions",
                    reason: format!(
                        "direction {l} has norm {r}; directions must be finite and non-zero"
                    ),
                });
            }
            row.iter_mut().for_each(|v| *v /= r);
        }
        let n_projections = directions.len() / d;
        Ok(SlicedWasserstein {
            target,
            directions,
            n_projections,
        })
    }

    /// The unit directions, `L × d` row-major.
    #[must_use]
    pub fn directions(&self) -> &[f64] {
        &self.directions
    }

    /// `L`.
    #[must_use]
    pub fn n_projections(&self) -> usize {
        self.n_projections
    }

    /// `SW₂²(μ̂, ν̂)`.
    ///
    /// # Errors
    /// [`WassersteinError::Dim`] on a dimension mismatch.
    pub fn sw2(&self, x: &Particles) -> Result<f64> {
        check_shapes(self, x, None)?;
        Ok(self
            .per_projection(x, false)
            .iter()
            .map(|(c, _)| c)
            .sum::<f64>()
            / self.n_projections as f64)
    }

    /// The 1-D `W₂²(θ#μ̂, θ#ν̂)` of every direction, in order (their mean is
    /// [`SlicedWasserstein::sw2`]; their spread sets the Monte Carlo error of a
    /// random-direction estimate).
    ///
    /// # Errors
    /// As [`SlicedWasserstein::sw2`].
    pub fn sw2_per_direction(&self, x: &Particles) -> Result<Vec<f64>> {
        check_shapes(self, x, None)?;
        Ok(self
            .per_projection(x, false)
            .into_iter()
            .map(|(c, _)| c)
            .collect())
    }

    /// `SW₂ = √SW₂²` (what POT's `sliced_wasserstein_distance` returns).
    ///
    /// # Errors
    /// As [`SlicedWasserstein::sw2`].
    pub fn distance(&self, x: &Particles) -> Result<f64> {
        Ok(self.sw2(x)?.sqrt())
    }

    /// For each direction: the 1-D cost and (if `grad`) each particle's displacement
    /// `xᵢ·θ − T_θ(xᵢ·θ)`; computed in parallel per direction, returned in order.
    fn per_projection(&self, x: &Particles, grad: bool) -> Vec<(f64, Vec<f64>)> {
        let d = x.dim();
        let (n, m) = (x.n_particles(), self.target.n_particles());
        self.directions
            .par_chunks(d)
            .map(|theta| {
                let proj = |p: &Particles| -> Vec<f64> {
                    p.data()
                        .chunks(d)
                        .map(|r| r.iter().zip(theta).map(|(a, b)| a * b).sum())
                        .collect()
                };
                let px = proj(x);
                let mut py = proj(&self.target);
                py.sort_by(f64::total_cmp);
                let mut order: Vec<usize> = (0..n).collect();
                order.sort_by(|&a, &b| px[a].total_cmp(&px[b]).then(a.cmp(&b)));
                // merge the quantile intervals [a/n, (a+1)/n) and [b/m, (b+1)/m),
                // in integer units of 1/(n·m)
                let (mut a, mut b) = (0usize, 0usize);
                let (mut ea, mut eb) = (m, n); // interval ends in units 1/(nm)
                let mut pos = 0usize;
                let mut cost = 0.0;
                let mut matched = vec![0.0; n]; // Σ overlap · y_b per sorted particle
                let unit = 1.0 / (n as f64 * m as f64);
                while a < n && b < m {
                    let end = ea.min(eb);
                    let w = (end - pos) as f64 * unit;
                    let xv = px[order[a]];
                    let diff = xv - py[b];
                    cost += w * diff * diff;
                    matched[a] += w * py[b];
                    pos = end;
                    if ea == end {
                        a += 1;
                        ea += m;
                    }
                    if eb == end {
                        b += 1;
                        eb += n;
                    }
                }
                let disp = if grad {
                    let mut disp = vec![0.0; n];
                    for (rank, &i) in order.iter().enumerate() {
                        disp[i] = px[i] - n as f64 * matched[rank];
                    }
                    disp
                } else {
                    Vec::new()
                };
                (cost, disp)
            })
            .collect()
    }
}

impl Functional for SlicedWasserstein {
    fn name(&self) -> String {
        format!("sliced Wasserstein ({} projections)", self.n_projections)
    }
    fn dim(&self) -> Option<usize> {
        Some(self.target.dim())
    }
    fn value(&self, x: &Particles) -> Result<f64> {
        Ok(0.5 * self.sw2(x)?)
    }
    fn wgrad(&self, x: &Particles, out: &mut [f64]) -> Result<()> {
        check_shapes(self, x, Some(out.len()))?;
        let d = x.dim();
        out.iter_mut().for_each(|v| *v = 0.0);
        let parts = self.per_projection(x, true);
        let inv_l = 1.0 / self.n_projections as f64;
        for ((_, disp), theta) in parts.iter().zip(self.directions.chunks(d)) {
            for (o, s) in out.chunks_mut(d).zip(disp) {
                for k in 0..d {
                    o[k] += inv_l * s * theta[k];
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functional::finite_difference_wgrad;

    #[test]
    fn energy_distance_gradient_matches_finite_differences() {
        let y = Particles::gaussian(7, 3, 1.0, Some(&[1.0, 0.0, -1.0]), Seed(1)).unwrap();
        let x = Particles::gaussian(5, 3, 1.0, None, Seed(2)).unwrap();
        let f = EnergyDistance::new(y).unwrap();
        let mut g = vec![0.0; 15];
        f.wgrad(&x, &mut g).unwrap();
        let fd = finite_difference_wgrad(&f, &x, 1e-6).unwrap();
        for (a, b) in g.iter().zip(&fd) {
            assert!((a - b).abs() < 1e-7 * (1.0 + b.abs()), "{a} vs {b}");
        }
        // ED ≥ 0 and = 0 against itself
        assert!(f.energy_distance(&x).unwrap() > 0.0);
        let same = EnergyDistance::energy_distance_between(&x, &x).unwrap();
        assert!(same.abs() < 1e-14);
    }

    #[test]
    fn sliced_gradient_matches_finite_differences() {
        for (n, m) in [(6, 6), (5, 8), (7, 3)] {
            let y = Particles::gaussian(m, 2, 1.0, Some(&[2.0, 0.0]), Seed(3)).unwrap();
            let x = Particles::gaussian(n, 2, 1.0, None, Seed(4)).unwrap();
            let f = SlicedWasserstein::random(y, 5, Seed(5)).unwrap();
            let mut g = vec![0.0; 2 * n];
            f.wgrad(&x, &mut g).unwrap();
            // piecewise quadratic: FD is exact away from ties (h small)
            let fd = finite_difference_wgrad(&f, &x, 1e-7).unwrap();
            for (a, b) in g.iter().zip(&fd) {
                assert!(
                    (a - b).abs() < 1e-6 * (1.0 + b.abs()),
                    "n={n} m={m}: {a} vs {b}"
                );
            }
        }
    }

    #[test]
    fn one_dimensional_cases_by_hand() {
        // n = m: sorted matching. x = {0, 3}, y = {1, 2}: W₂² = ½(1 + 1) = 1
        let y = Particles::new(2, 1, vec![2.0, 1.0]).unwrap();
        let x = Particles::new(2, 1, vec![3.0, 0.0]).unwrap();
        let f = SlicedWasserstein::with_directions(y, vec![1.0]).unwrap();
        assert!((f.sw2(&x).unwrap() - 1.0).abs() < 1e-15);
        // n = 1, m = 2: W₂² = ½(x−1)² + ½(x−2)² at x = 0: 2.5
        let y = Particles::new(2, 1, vec![1.0, 2.0]).unwrap();
        let f = SlicedWasserstein::with_directions(y, vec![-3.0]).unwrap();
        let x = Particles::new(1, 1, vec![0.0]).unwrap();
        assert!((f.sw2(&x).unwrap() - 2.5).abs() < 1e-15);
        assert!(SlicedWasserstein::with_directions(x.clone(), vec![0.0]).is_err());
        assert!(SlicedWasserstein::random(x, 0, Seed(0)).is_err());
    }
}
