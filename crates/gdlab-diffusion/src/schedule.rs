//! Noise schedule and DDIM timestep lists (spec §1.1, §1.3, §2.1).

use crate::error::{DiffusionError, Result};

/// The forward-process schedule: `ᾱ_t = Π_{s ≤ t} (1 − β_s)` for `t = 0..T`.
#[derive(Clone, Debug, PartialEq)]
pub struct NoiseSchedule {
    alphas_cumprod: Vec<f64>,
}

impl NoiseSchedule {
    /// The "scaled linear" schedule of Stable Diffusion 1.x / LDM's `linear`:
    /// `β_t = (√β_start + t/(T−1)·(√β_end − √β_start))²`.
    ///
    /// # Errors
    /// [`DiffusionError::OutOfRange`] if `n_train < 2` or the betas are not in (0, 1) with
    /// `beta_start ≤ beta_end`.
    ///
    /// # Examples
    /// ```
    /// use gdlab_diffusion::schedule::NoiseSchedule;
    /// let s = NoiseSchedule::scaled_linear(1000, 0.00085, 0.012).unwrap();
    /// assert!((s.alpha_bar(0) - (1.0 - 0.00085)).abs() < 1e-15);
    /// ```
    pub fn scaled_linear(n_train: usize, beta_start: f64, beta_end: f64) -> Result<Self> {
        if n_train < 2 {
            return Err(DiffusionError::OutOfRange {
                field: "n_train",
                value: n_train as f64,
                allowed: "≥ 2",
            });
        }
        if !(beta_start > 0.0 && beta_start <= beta_end && beta_end < 1.0) {
            return Err(DiffusionError::OutOfRange {
                field: "beta_start/beta_end",
                value: beta_start,
                allowed: "0 < beta_start ≤ beta_end < 1",
            });
        }
        let (a, b) = (beta_start.sqrt(), beta_end.sqrt());
        let mut prod = 1.0;
        let alphas_cumprod = (0..n_train)
            .map(|t| {
                let s = a + (b - a) * t as f64 / (n_train - 1) as f64;
                prod *= 1.0 - s * s;
                prod
            })
            .collect();
        Ok(NoiseSchedule { alphas_cumprod })
    }

    /// Stable Diffusion's schedule: T = 1000, 0.00085 → 0.012 (spec §1.1).
    #[must_use]
    pub fn stable_diffusion() -> Self {
        let (a, b) = (0.00085_f64.sqrt(), 0.012_f64.sqrt());
        let mut prod = 1.0;
        let alphas_cumprod = (0..1000)
            .map(|t| {
                let s = a + (b - a) * t as f64 / 999.0;
                prod *= 1.0 - s * s;
                prod
            })
            .collect();
        NoiseSchedule { alphas_cumprod }
    }

    /// Training horizon T.
    #[must_use]
    pub fn n_train(&self) -> usize {
        self.alphas_cumprod.len()
    }

    /// `ᾱ_t`.
    ///
    /// # Panics
    /// If `t ≥ T` (a programmer error; sampler configurations are validated against T).
    #[must_use]
    pub fn alpha_bar(&self, t: usize) -> f64 {
        self.alphas_cumprod[t]
    }
}

/// LDM's "uniform" DDIM discretisation with the "+1" offset, exactly `n_steps` steps,
/// descending: `t_i = i·⌊T/S⌋ + 1`. For S = 25 and 50 this is LDM's
/// `make_ddim_timesteps` (spec §1.3: 1, 41, …, 961); for S that does not divide T LDM's
/// `range` would give S + 1 steps, and this function keeps exactly S.
///
/// # Errors
/// [`DiffusionError::OutOfRange`] if `n_steps` is 0 or exceeds `n_train`.
///
/// # Examples
/// ```
/// let ts = gdlab_diffusion::schedule::uniform_timesteps(25, 1000).unwrap();
/// assert_eq!((ts[0], ts[24], ts.len()), (961, 1, 25));
/// ```
pub fn uniform_timesteps(n_steps: usize, n_train: usize) -> Result<Vec<usize>> {
    if n_steps == 0 || n_steps > n_train {
        return Err(DiffusionError::OutOfRange {
            field: "n_steps",
            value: n_steps as f64,
            allowed: "1..=T",
        });
    }
    let c = n_train / n_steps;
    Ok((0..n_steps).rev().map(|i| i * c + 1).collect())
}

/// One stage of a piecewise-uniform schedule: `count` steps spread uniformly over
/// `[lo, hi)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stage {
    /// Lower end of the stage (inclusive, before the +1 offset).
    pub lo: usize,
    /// Upper end (exclusive).
    pub hi: usize,
    /// Steps in the stage.
    pub count: usize,
}

/// The paper's Hourglass stages (spec §2.1): 10 steps in [800, 1000], 6 in [200, 800],
/// 10 in [0, 200].
pub const HOURGLASS_STAGES: [Stage; 3] = [
    Stage {
        lo: 800,
        hi: 1000,
        count: 10,
    },
    Stage {
        lo: 200,
        hi: 800,
        count: 6,
    },
    Stage {
        lo: 0,
        hi: 200,
        count: 10,
    },
];

/// A piecewise-uniform descending list: stage `[lo, hi)` with `count` steps contributes
/// `lo + 1 + j·⌊(hi − lo)/count⌋`, `j = count−1 … 0` (the "+1" convention of spec §2.1).
/// With [`HOURGLASS_STAGES`] this is the spec's 26-step list 981, 961, …, 801, 701, …, 201,
/// 181, …, 1.
///
/// # Errors
/// [`DiffusionError::OutOfRange`] if a stage is empty, has `lo ≥ hi`, exceeds `n_train`,
/// or the list is not strictly descending.
///
/// # Examples
/// ```
/// use gdlab_diffusion::schedule::{hourglass, HOURGLASS_STAGES};
/// let ts = hourglass(&HOURGLASS_STAGES, 1000).unwrap();
/// assert_eq!(ts.len(), 26);
/// assert_eq!(&ts[8..12], &[821, 801, 701, 601]);
/// ```
pub fn hourglass(stages: &[Stage], n_train: usize) -> Result<Vec<usize>> {
    let mut out: Vec<usize> = Vec::new();
    for s in stages {
        if s.count == 0 || s.lo >= s.hi || s.hi > n_train || (s.hi - s.lo) < s.count {
            return Err(DiffusionError::OutOfRange {
                field: "stage",
                value: s.count as f64,
                allowed: "count ≥ 1, lo < hi ≤ T, count ≤ hi − lo",
            });
        }
        let gap = (s.hi - s.lo) / s.count;
        for j in (0..s.count).rev() {
            let t = s.lo + 1 + j * gap;
            if out.last().is_some_and(|&p| p <= t) {
                return Err(DiffusionError::OutOfRange {
                    field: "stages (must be listed from high to low t)",
                    value: t as f64,
                    allowed: "strictly descending timesteps",
                });
            }
            out.push(t);
        }
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // bitwise comparisons of deterministic outputs and exact hand values
mod tests {
    use super::*;

    #[test]
    fn hourglass_values_match_the_spec_list() {
        // spec §2.1 "Concrete 26-step Hourglass timestep list".
        let want = [
            981, 961, 941, 921, 901, 881, 861, 841, 821, 801, 701, 601, 501, 401, 301, 201, 181,
            161, 141, 121, 101, 81, 61, 41, 21, 1,
        ];
        assert_eq!(hourglass(&HOURGLASS_STAGES, 1000).unwrap(), want);
        // NFE with R = 5 in t ≥ 800: 10·5 + 16 = 66 (spec pitfall 8).
        let nfe: usize = want.iter().map(|&t| if t >= 800 { 5 } else { 1 }).sum();
        assert_eq!(nfe, 66);
    }

    #[test]
    fn uniform_matches_ldm() {
        let t50 = uniform_timesteps(50, 1000).unwrap();
        assert_eq!((t50[0], t50[1], t50[49]), (981, 961, 1));
        let t66 = uniform_timesteps(66, 1000).unwrap();
        assert_eq!((t66.len(), t66[0], t66[65]), (66, 976, 1));
        assert!(uniform_timesteps(0, 1000).is_err());
    }

    #[test]
    fn scaled_linear_end_points() {
        let s = NoiseSchedule::stable_diffusion();
        let r = NoiseSchedule::scaled_linear(1000, 0.00085, 0.012).unwrap();
        assert_eq!(s, r);
        // ᾱ_1 = (1 − β_0)(1 − β_1), β_1 = (√β0 + (√β1 − √β0)/999)².
        let (a, b) = (0.00085_f64.sqrt(), 0.012_f64.sqrt());
        let b1 = (a + (b - a) / 999.0).powi(2);
        assert!((s.alpha_bar(1) - (1.0 - 0.00085) * (1.0 - b1)).abs() < 1e-15);
        // Known SD value ᾱ_999 ≈ 0.0047 (diffusers/candle scheduler).
        assert!(
            (s.alpha_bar(999) - 0.004_66).abs() < 1e-4,
            "{}",
            s.alpha_bar(999)
        );
        assert!(NoiseSchedule::scaled_linear(1000, 0.1, 0.01).is_err());
    }
}
