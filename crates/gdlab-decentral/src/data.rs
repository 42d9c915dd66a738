//! The sparse regression problem of the paper (spec §1, eq. (1)): `y_i = X_i w* + ξ_i` at
//! every agent, with an `s`-sparse `w*`.

use gdlab_core::normal::fill_normals;
use gdlab_core::{ConfigError, Seed};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::error::Result;

/// One agent's data: `X_i ∈ R^{n_i×d}` (row-major) and `y_i ∈ R^{n_i}`.
#[derive(Clone, Debug, PartialEq)]
pub struct LocalData {
    /// `X_i`, row-major, `n_i · d` entries.
    pub x: Vec<f64>,
    /// `y_i`.
    pub y: Vec<f64>,
}

impl LocalData {
    /// All rows of `parts` in order: one agent holding everyone's data.
    ///
    /// # Examples
    /// ```
    /// use gdlab_decentral::LocalData;
    /// let a = LocalData { x: vec![1.0, 2.0], y: vec![3.0] };
    /// let b = LocalData { x: vec![4.0, 5.0, 6.0, 7.0], y: vec![8.0, 9.0] };
    /// let s = LocalData::stack(&[a, b]);
    /// assert_eq!((s.x.len(), s.y), (6, vec![3.0, 8.0, 9.0]));
    /// ```
    #[must_use]
    pub fn stack(parts: &[LocalData]) -> LocalData {
        LocalData {
            x: parts.iter().flat_map(|a| a.x.iter().copied()).collect(),
            y: parts.iter().flat_map(|a| a.y.iter().copied()).collect(),
        }
    }

    /// Number of local samples `n_i`.
    #[must_use]
    pub fn n_samples(&self) -> usize {
        self.y.len()
    }
}

/// A decentralized regression problem: local data at `m` agents and the truth `w*`.
#[derive(Clone, Debug, PartialEq)]
pub struct DecentralProblem {
    dim: usize,
    agents: Vec<LocalData>,
    w_star: Vec<f64>,
    support: Vec<usize>,
    noise_std: f64,
}

impl DecentralProblem {
    /// A problem from given local data and truth.
    ///
    /// # Errors
    /// [`ConfigError`] if there are no agents, an agent has no samples, a shape disagrees
    /// with `dim`, or a value is not finite.
    pub fn new(
        dim: usize,
        agents: Vec<LocalData>,
        w_star: Vec<f64>,
        noise_std: f64,
    ) -> Result<Self> {
        if dim == 0 {
            return Err(ConfigError::OutOfRangeInt {
                field: "dim",
                value: 0,
                allowed: "[1, ∞)",
            }
            .into());
        }
        if agents.is_empty() {
            return Err(ConfigError::OutOfRangeInt {
                field: "n_agents",
                value: 0,
                allowed: "[1, ∞)",
            }
            .into());
        }
        if w_star.len() != dim {
            return Err(ConfigError::Dim {
                op: "w_star",
                expected: dim,
                got: w_star.len(),
            }
            .into());
        }
        for a in &agents {
            if a.y.is_empty() {
                return Err(ConfigError::OutOfRangeInt {
                    field: "samples_per_agent",
                    value: 0,
                    allowed: "[1, ∞)",
                }
                .into());
            }
            if a.x.len() != a.y.len() * dim {
                return Err(ConfigError::Dim {
                    op: "X_i (n_i·dim)",
                    expected: a.y.len() * dim,
                    got: a.x.len(),
                }
                .into());
            }
            if !a.x.iter().chain(&a.y).all(|v| v.is_finite()) {
                return Err(ConfigError::Invalid {
                    field: "data".into(),
                    reason: "non-finite value".into(),
                }
                .into());
            }
        }
        let support = (0..dim).filter(|&j| w_star[j] != 0.0).collect();
        Ok(DecentralProblem {
            dim,
            agents,
            w_star,
            support,
            noise_std,
        })
    }

    /// Dimension `d`.
    #[must_use]
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Number of agents `m`.
    #[must_use]
    pub fn n_agents(&self) -> usize {
        self.agents.len()
    }

    /// Total samples `N = Σ n_i`.
    #[must_use]
    pub fn n_total(&self) -> usize {
        self.agents.iter().map(LocalData::n_samples).sum()
    }

    /// The agents' data.
    #[must_use]
    pub fn agents(&self) -> &[LocalData] {
        &self.agents
    }

    /// The truth `w*`.
    #[must_use]
    pub fn w_star(&self) -> &[f64] {
        &self.w_star
    }

    /// The support `S` of `w*`, ascending.
    #[must_use]
    pub fn support(&self) -> &[usize] {
        &self.support
    }

    /// Noise standard deviation σ (as generated; informational).
    #[must_use]
    pub fn noise_std(&self) -> f64 {
        self.noise_std
    }

    /// All data stacked into one agent (the centralized problem), rows in agent order.
    #[must_use]
    pub fn stacked(&self) -> DecentralProblem {
        DecentralProblem {
            dim: self.dim,
            agents: vec![LocalData::stack(&self.agents)],
            w_star: self.w_star.clone(),
            support: self.support.clone(),
            noise_std: self.noise_std,
        }
    }

    /// `‖w − w*‖₂`.
    #[must_use]
    pub fn error(&self, w: &[f64]) -> f64 {
        w.iter()
            .zip(&self.w_star)
            .map(|(a, b)| (a - b) * (a - b))
            .sum::<f64>()
            .sqrt()
    }
}

/// Configuration of the synthetic sparse regression (spec §1 and §5).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SparseRegressionConfig {
    /// Dimension `d`.
    pub dim: usize,
    /// Sparsity `s = |S|` (1 ≤ s ≤ d).
    pub sparsity: usize,
    /// Number of agents `m`.
    pub n_agents: usize,
    /// Samples per agent `n` (used unless `total_samples` is set).
    pub samples_per_agent: usize,
    /// Total samples `N`, split array-style (the first `N mod m` agents get one extra);
    /// our choice for `N` not a multiple of `m` (spec §1, "Uneven splits").
    #[serde(default)]
    pub total_samples: Option<usize>,
    /// Noise standard deviation σ ≥ 0.
    pub noise_std: f64,
    /// Magnitude of the support entries (signs are i.i.d. ±1, our choice).
    pub magnitude: f64,
}

impl Default for SparseRegressionConfig {
    /// The study setup of spec §5: d = 1000, s = 5, m = 10, n = 30, σ = 0.5, magnitude 1.
    fn default() -> Self {
        SparseRegressionConfig {
            dim: 1000,
            sparsity: 5,
            n_agents: 10,
            samples_per_agent: 30,
            total_samples: None,
            noise_std: 0.5,
            magnitude: 1.0,
        }
    }
}

impl SparseRegressionConfig {
    /// Validates the configuration.
    ///
    /// # Errors
    /// [`ConfigError`] naming the field: `dim ≥ 1`, `1 ≤ sparsity ≤ dim`, `n_agents ≥ 1`,
    /// at least one sample per agent, `noise_std ≥ 0`, `magnitude > 0`.
    pub fn validate(&self) -> Result<()> {
        let int =
            |field: &'static str, value: usize, allowed: &'static str| ConfigError::OutOfRangeInt {
                field,
                value: value as i128,
                allowed,
            };
        if self.dim == 0 || self.dim > 10_000_000 {
            return Err(int("dim", self.dim, "[1, 1e7]").into());
        }
        if self.sparsity == 0 || self.sparsity > self.dim {
            return Err(ConfigError::Invalid {
                field: "sparsity".into(),
                reason: format!("must be in [1, dim = {}], got {}", self.dim, self.sparsity),
            }
            .into());
        }
        if self.n_agents == 0 || self.n_agents > 100_000 {
            return Err(int("n_agents", self.n_agents, "[1, 1e5]").into());
        }
        let total = self
            .total_samples
            .unwrap_or(self.samples_per_agent.saturating_mul(self.n_agents));
        if self.total_samples.is_none() && self.samples_per_agent == 0 {
            return Err(int("samples_per_agent", 0, "[1, ∞)").into());
        }
        if total < self.n_agents {
            return Err(ConfigError::Invalid {
                field: "total_samples".into(),
                reason: format!(
                    "must be ≥ n_agents = {} (one sample per agent), got {total}",
                    self.n_agents
                ),
            }
            .into());
        }
        if (total as u128) * (self.dim as u128) > 1u128 << 31 {
            return Err(ConfigError::Invalid {
                field: "total_samples·dim".into(),
                reason: format!("{total}·{} exceeds 2^31 entries (16 GiB of f64)", self.dim),
            }
            .into());
        }
        ConfigError::check_non_negative("noise_std", self.noise_std)?;
        ConfigError::check_positive("magnitude", self.magnitude)?;
        Ok(())
    }

    /// Sample counts per agent.
    #[must_use]
    pub fn split(&self) -> Vec<usize> {
        match self.total_samples {
            None => vec![self.samples_per_agent; self.n_agents],
            Some(n) => (0..self.n_agents)
                .map(|i| n / self.n_agents + usize::from(i < n % self.n_agents))
                .collect(),
        }
    }

    /// Draws the problem: support by a partial Fisher–Yates shuffle (`seed.derive("support")`),
    /// signs (`"signs"`), `X_i` entries i.i.d. N(0, 1) (`seed.derive("design").index(i)`),
    /// noise i.i.d. N(0, σ²) (`seed.derive("noise").index(i)`).
    ///
    /// # Errors
    /// As [`validate`](Self::validate).
    ///
    /// # Examples
    /// ```
    /// use gdlab_core::Seed;
    /// use gdlab_decentral::SparseRegressionConfig;
    /// let p = SparseRegressionConfig::default().generate(Seed(0)).unwrap();
    /// assert_eq!((p.dim(), p.n_agents(), p.n_total(), p.support().len()), (1000, 10, 300, 5));
    /// ```
    pub fn generate(&self, seed: Seed) -> Result<DecentralProblem> {
        self.validate()?;
        let (w_star, support) = self.truth(seed);
        let agents = self
            .split()
            .into_iter()
            .enumerate()
            .map(|(i, n)| self.local_data(seed, i, n, &w_star, &support))
            .collect();
        DecentralProblem::new(self.dim, agents, w_star, self.noise_std)
    }

    /// Only agent `agent`'s data and the truth `w*`: what one rank of a distributed run
    /// generates for itself. The same numbers as `generate(seed).agents()[agent]` (the
    /// streams are per agent), without drawing the other agents' data.
    ///
    /// # Errors
    /// As [`validate`](Self::validate); `agent ≥ n_agents`.
    ///
    /// # Examples
    /// ```
    /// use gdlab_core::Seed;
    /// use gdlab_decentral::SparseRegressionConfig;
    /// let c = SparseRegressionConfig { dim: 30, n_agents: 3, ..Default::default() };
    /// let (local, w_star) = c.generate_agent(Seed(4), 2).unwrap();
    /// let all = c.generate(Seed(4)).unwrap();
    /// assert_eq!((&local, &w_star[..]), (&all.agents()[2], all.w_star()));
    /// ```
    pub fn generate_agent(&self, seed: Seed, agent: usize) -> Result<(LocalData, Vec<f64>)> {
        self.validate()?;
        if agent >= self.n_agents {
            return Err(ConfigError::Invalid {
                field: "agent".into(),
                reason: format!("must be in [0, n_agents = {}), got {agent}", self.n_agents),
            }
            .into());
        }
        let (w_star, support) = self.truth(seed);
        let n = self.split()[agent];
        let local = self.local_data(seed, agent, n, &w_star, &support);
        Ok((local, w_star))
    }

    /// Held-out samples for the `ValidationLoss` stopping rule (spec §2.1, our choice):
    /// `n_per_agent` fresh samples at every agent from the same model `y = X w* + ξ` with the
    /// same `w*` as [`generate`](Self::generate)`(seed)`, drawn from their own streams
    /// (`seed.derive("holdout-design").index(i)`, `"holdout-noise"`), so adding a holdout
    /// leaves the training data unchanged.
    ///
    /// # Errors
    /// As [`validate`](Self::validate); `n_per_agent` outside `[1, 1e6]`.
    ///
    /// # Examples
    /// ```
    /// use gdlab_core::Seed;
    /// use gdlab_decentral::SparseRegressionConfig;
    /// let c = SparseRegressionConfig { dim: 40, n_agents: 3, ..Default::default() };
    /// let held = c.generate_holdout(Seed(2), 7).unwrap();
    /// assert_eq!(held.len(), 3);
    /// assert!(held.iter().all(|a| a.n_samples() == 7 && a.x.len() == 7 * 40));
    /// assert_ne!(held[0], c.generate(Seed(2)).unwrap().agents()[0]);
    /// ```
    pub fn generate_holdout(&self, seed: Seed, n_per_agent: usize) -> Result<Vec<LocalData>> {
        self.validate()?;
        if n_per_agent == 0 || n_per_agent > 1_000_000 {
            return Err(ConfigError::OutOfRangeInt {
                field: "holdout_per_agent",
                value: n_per_agent as i128,
                allowed: "[1, 1e6]",
            }
            .into());
        }
        let (w_star, support) = self.truth(seed);
        Ok((0..self.n_agents)
            .map(|i| {
                self.samples(
                    (seed.derive("holdout-design"), seed.derive("holdout-noise")),
                    i,
                    n_per_agent,
                    &w_star,
                    &support,
                )
            })
            .collect())
    }

    /// `w*` and its support (in draw order).
    fn truth(&self, seed: Seed) -> (Vec<f64>, Vec<usize>) {
        let d = self.dim;
        let mut rng = seed.derive("support").rng();
        let mut idx: Vec<usize> = (0..d).collect();
        for k in 0..self.sparsity {
            let j = k + (rng.next_u64() % (d - k) as u64) as usize;
            idx.swap(k, j);
        }
        let mut signs = seed.derive("signs").rng();
        let mut w_star = vec![0.0; d];
        for &j in &idx[..self.sparsity] {
            w_star[j] = if signs.next_u64() & 1 == 0 {
                self.magnitude
            } else {
                -self.magnitude
            };
        }
        idx.truncate(self.sparsity);
        (w_star, idx)
    }

    /// Agent `i`'s `n` training samples.
    fn local_data(
        &self,
        seed: Seed,
        i: usize,
        n: usize,
        w_star: &[f64],
        support: &[usize],
    ) -> LocalData {
        self.samples(
            (seed.derive("design"), seed.derive("noise")),
            i,
            n,
            w_star,
            support,
        )
    }

    /// Agent `i`'s `n` samples from the `(design, noise)` stream families.
    fn samples(
        &self,
        (design, noise_seed): (Seed, Seed),
        i: usize,
        n: usize,
        w_star: &[f64],
        support: &[usize],
    ) -> LocalData {
        let d = self.dim;
        let mut x = vec![0.0; n * d];
        fill_normals(&mut design.index(i as u64).rng(), &mut x);
        let mut noise = vec![0.0; n];
        fill_normals(&mut noise_seed.index(i as u64).rng(), &mut noise);
        let y = (0..n)
            .map(|r| {
                let row = &x[r * d..(r + 1) * d];
                let xw: f64 = support.iter().map(|&j| row[j] * w_star[j]).sum();
                xw + self.noise_std * noise[r]
            })
            .collect();
        LocalData { x, y }
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::float_cmp,
        clippy::needless_range_loop
    )]
    use super::*;

    #[test]
    fn generation_is_seeded_and_shaped() {
        let c = SparseRegressionConfig {
            dim: 50,
            sparsity: 3,
            n_agents: 4,
            samples_per_agent: 6,
            ..Default::default()
        };
        let a = c.generate(Seed(1)).unwrap();
        assert_eq!(a, c.generate(Seed(1)).unwrap());
        assert_ne!(a, c.generate(Seed(2)).unwrap());
        assert_eq!(a.support().len(), 3);
        assert!(a.support().iter().all(|&j| a.w_star()[j].abs() == 1.0));
        let st = a.stacked();
        assert_eq!((st.n_agents(), st.n_total()), (1, 24));
        // Noise-free y is X w*.
        let z = SparseRegressionConfig {
            noise_std: 0.0,
            ..c.clone()
        }
        .generate(Seed(1))
        .unwrap();
        let ag = &z.agents()[2];
        let xw: f64 = (0..50).map(|j| ag.x[j] * z.w_star()[j]).sum();
        assert!((ag.y[0] - xw).abs() < 1e-12);
    }

    #[test]
    fn uneven_split_and_validation() {
        let c = SparseRegressionConfig {
            total_samples: Some(280),
            n_agents: 50,
            ..Default::default()
        };
        let s = c.split();
        assert_eq!((s.iter().sum::<usize>(), s[0], s[49]), (280, 6, 5));
        let bad = SparseRegressionConfig {
            sparsity: 2000,
            ..Default::default()
        };
        assert!(bad.validate().unwrap_err().to_string().contains("sparsity"));
        let bad = SparseRegressionConfig {
            noise_std: -1.0,
            ..Default::default()
        };
        assert!(bad.validate().is_err());
    }
}
