//! Mixing matrices `W` (Assumption 1 of the paper): nonnegative, supported on the graph's
//! edges plus the diagonal, symmetric and doubly stochastic; the connectivity
//! `ρ = ‖W − J/m‖₂` and the Erdős–Rényi search for a target ρ.
//!
//! Weight rules (the paper does not state its rule; Metropolis–Hastings is our choice,
//! spec §1):
//! - **Metropolis–Hastings**: `W_ij = 1/(1 + max(deg_i, deg_j))` on edges,
//!   `W_ii = 1 − Σ_{j≠i} W_ij`;
//! - **max-degree**: `W_ij = 1/(1 + deg_max)` on edges, `W_ii = 1 − deg_i/(1 + deg_max)`;
//! - **lazy**: `(I + W)/2` of either (all eigenvalues in `[0, 1]`).

use gdlab_core::linalg::{sym_spectral_norm, Matrix};
use gdlab_core::{ConfigError, Seed};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{DecentralError, Result};
use crate::graph::Graph;

/// Row sums, column sums and symmetry are checked to this absolute tolerance
/// (`c·m·ε` with `c = 64`, the linear-algebra residual rule of the style guide).
fn stochastic_tol(m: usize) -> f64 {
    64.0 * m as f64 * f64::EPSILON
}

/// The weight rule of a mixing matrix.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WeightRule {
    /// Metropolis–Hastings weights (the default, spec §1).
    #[default]
    Metropolis,
    /// Max-degree weights.
    MaxDegree,
    /// `(I + W_metropolis)/2`.
    LazyMetropolis,
    /// `(I + W_maxdegree)/2`.
    LazyMaxDegree,
}

impl WeightRule {
    /// All rules.
    pub const ALL: [WeightRule; 4] = [
        WeightRule::Metropolis,
        WeightRule::MaxDegree,
        WeightRule::LazyMetropolis,
        WeightRule::LazyMaxDegree,
    ];

    /// Kebab-case name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            WeightRule::Metropolis => "metropolis",
            WeightRule::MaxDegree => "max-degree",
            WeightRule::LazyMetropolis => "lazy-metropolis",
            WeightRule::LazyMaxDegree => "lazy-max-degree",
        }
    }
}

/// A validated mixing matrix: symmetric, doubly stochastic, nonnegative, supported on the
/// graph plus the diagonal, with `ρ = ‖W − J/m‖₂ < 1`.
///
/// Mixing `x_i ← Σ_j W_ij x_j` is done with sparse neighbour sums in a fixed order (self
/// first, then neighbours ascending), in parallel over agents; the result does not depend
/// on the number of threads.
///
/// # Examples
/// ```
/// use gdlab_decentral::{Graph, MixingMatrix, WeightRule};
/// let w = MixingMatrix::new(&Graph::ring(10).unwrap(), WeightRule::Metropolis).unwrap();
/// // Ring with weights 1/3: ρ = (1 + 2 cos(2π/10))/3.
/// let exact = (1.0 + 2.0 * (2.0 * std::f64::consts::PI / 10.0).cos()) / 3.0;
/// assert!((w.rho() - exact).abs() < 1e-12);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct MixingMatrix {
    /// Row `i`: `(j, W_ij)` for `j = i` first, then neighbours ascending.
    rows: Vec<Vec<(usize, f64)>>,
    dense: Matrix,
    rho: f64,
    n_edges: usize,
}

impl MixingMatrix {
    /// The mixing matrix of `graph` under `rule`.
    ///
    /// # Errors
    /// [`DecentralError::Disconnected`] for a disconnected graph (ρ would be 1);
    /// [`DecentralError::InvalidMixing`] if the checks fail (a bug); a faer eigen-solver
    /// failure.
    pub fn new(graph: &Graph, rule: WeightRule) -> Result<Self> {
        graph.check_connected()?;
        let m = graph.n_nodes();
        let dmax = graph.degree_stats().max;
        let mut dense = Matrix::zeros(m, m);
        for i in 0..m {
            let mut off = 0.0;
            for &j in graph.neighbors(i) {
                let w = match rule {
                    WeightRule::Metropolis | WeightRule::LazyMetropolis => {
                        1.0 / (1.0 + graph.degree(i).max(graph.degree(j)) as f64)
                    }
                    WeightRule::MaxDegree | WeightRule::LazyMaxDegree => 1.0 / (1.0 + dmax as f64),
                };
                dense[(i, j)] = w;
                off += w;
            }
            dense[(i, i)] = 1.0 - off;
        }
        if matches!(rule, WeightRule::LazyMetropolis | WeightRule::LazyMaxDegree) {
            for i in 0..m {
                for j in 0..m {
                    let delta = if i == j { 1.0 } else { 0.0 };
                    dense[(i, j)] = 0.5 * (delta + dense[(i, j)]);
                }
            }
        }
        Self::from_dense(graph, dense)
    }

    /// `W = J/m` (every entry `1/m`): exact averaging on the complete graph.
    ///
    /// # Errors
    /// [`ConfigError`] if `n_nodes` is 0.
    pub fn averaging(n_nodes: usize) -> Result<Self> {
        let g = Graph::complete(n_nodes)?;
        let dense = Matrix::from_fn(n_nodes, n_nodes, |_, _| 1.0 / n_nodes as f64);
        Self::from_dense(&g, dense)
    }

    /// A user-supplied dense `W` on `graph`, validated.
    ///
    /// # Errors
    /// [`DecentralError::InvalidMixing`] naming the first failed property (shape,
    /// finiteness, negativity, an entry off the graph, asymmetry, a row or column sum ≠ 1);
    /// [`DecentralError::RhoNotBelowOne`] if `ρ ≥ 1`.
    pub fn from_dense(graph: &Graph, dense: Matrix) -> Result<Self> {
        let m = graph.n_nodes();
        let bad = |reason: String| DecentralError::InvalidMixing { reason };
        if dense.nrows() != m || dense.ncols() != m {
            return Err(bad(format!(
                "W is {}×{}, the graph has {m} nodes",
                dense.nrows(),
                dense.ncols()
            )));
        }
        let tol = stochastic_tol(m);
        let mut rows = Vec::with_capacity(m);
        for i in 0..m {
            let mut row = vec![(i, dense[(i, i)])];
            let mut sum = 0.0;
            let mut col = 0.0;
            for j in 0..m {
                let w = dense[(i, j)];
                if !w.is_finite() || w < 0.0 {
                    return Err(bad(format!("W[{i},{j}] = {w} must be finite and ≥ 0")));
                }
                if i != j && w != 0.0 && graph.neighbors(i).binary_search(&j).is_err() {
                    return Err(bad(format!(
                        "W[{i},{j}] = {w} but ({i}, {j}) is not an edge"
                    )));
                }
                if (w - dense[(j, i)]).abs() > tol {
                    return Err(bad(format!(
                        "W is not symmetric: W[{i},{j}] = {w}, W[{j},{i}] = {}",
                        dense[(j, i)]
                    )));
                }
                sum += w;
                col += dense[(j, i)];
            }
            if (sum - 1.0).abs() > tol || (col - 1.0).abs() > tol {
                return Err(bad(format!(
                    "row/column {i} sums to {sum}/{col}, must be 1 (tolerance {tol:.1e})"
                )));
            }
            row.extend(graph.neighbors(i).iter().map(|&j| (j, dense[(i, j)])));
            rows.push(row);
        }
        let centred = Matrix::from_fn(m, m, |i, j| dense[(i, j)] - 1.0 / m as f64);
        let rho = sym_spectral_norm(&centred)?;
        if rho >= 1.0 - stochastic_tol(m) {
            return Err(DecentralError::RhoNotBelowOne { rho });
        }
        Ok(MixingMatrix {
            rows,
            dense,
            rho,
            n_edges: graph.n_edges(),
        })
    }

    /// Number of agents `m`.
    #[must_use]
    pub fn n_nodes(&self) -> usize {
        self.rows.len()
    }

    /// Number of undirected edges of the underlying graph.
    #[must_use]
    pub fn n_edges(&self) -> usize {
        self.n_edges
    }

    /// Connectivity `ρ = ‖W − J/m‖₂`, the second-largest eigenvalue modulus of `W`
    /// (faer's symmetric eigen-solver). Smaller is better connected.
    #[must_use]
    pub fn rho(&self) -> f64 {
        self.rho
    }

    /// The dense matrix.
    #[must_use]
    pub fn dense(&self) -> &Matrix {
        &self.dense
    }

    /// Row `i` as `(j, W_ij)` pairs: the agent itself first, then its neighbours ascending.
    ///
    /// # Panics
    /// If `i ≥ m`.
    #[must_use]
    pub fn row(&self, i: usize) -> &[(usize, f64)] {
        &self.rows[i]
    }

    /// Largest `|Σ_j W_ij − 1|`, `|Σ_i W_ij − 1|` and `|W_ij − W_ji|`.
    #[must_use]
    pub fn stochasticity_error(&self) -> f64 {
        let m = self.n_nodes();
        let mut worst = 0.0_f64;
        for i in 0..m {
            let (mut r, mut c) = (0.0, 0.0);
            for j in 0..m {
                r += self.dense[(i, j)];
                c += self.dense[(j, i)];
                worst = worst.max((self.dense[(i, j)] - self.dense[(j, i)]).abs());
            }
            worst = worst.max((r - 1.0).abs()).max((c - 1.0).abs());
        }
        worst
    }

    /// Mixes `m` stacked rows of length `dim`: `out_i = Σ_j W_ij x_j` (row-major `m × dim`).
    ///
    /// # Panics
    /// If `x` or `out` is not `m·dim` long (a programmer error).
    pub fn mix(&self, x: &[f64], out: &mut [f64], dim: usize) {
        let m = self.n_nodes();
        assert!(x.len() == m * dim && out.len() == m * dim, "mix: shape");
        out.par_chunks_mut(dim.max(1))
            .enumerate()
            .for_each(|(i, o)| mix_row(&self.rows[i], x, o, dim));
    }
}

/// `o = Σ_(j,w) w·x_j` in the row's order.
fn mix_row(row: &[(usize, f64)], x: &[f64], o: &mut [f64], dim: usize) {
    let (j0, w0) = row[0];
    for (oo, xx) in o.iter_mut().zip(&x[j0 * dim..(j0 + 1) * dim]) {
        *oo = w0 * xx;
    }
    for &(j, w) in &row[1..] {
        for (oo, xx) in o.iter_mut().zip(&x[j * dim..(j + 1) * dim]) {
            *oo += w * xx;
        }
    }
}

/// Result of [`tune_er_to_rho`].
#[derive(Clone, Debug)]
pub struct ErTuned {
    /// The chosen graph.
    pub graph: Graph,
    /// Its edge probability.
    pub p: f64,
    /// The seed that drew it.
    pub seed: Seed,
    /// Its ρ under the rule.
    pub rho: f64,
}

/// Searches ER graphs for one whose ρ (under `rule`) is closest to `target_rho`: for each
/// of `n_p` edge probabilities evenly spaced on `[p_min, 1]` (`p_min = min(1, ln(m)/m)`)
/// and `n_seeds` seeds `seed.index(k)`, draws a connected G(m, p) and keeps the closest
/// ρ (ties: first found). ρ is not monotone in p for a fixed draw, so a grid over
/// (p, seed) is used instead of bisection (spec §1: "searching over p and the seed").
///
/// # Errors
/// [`ConfigError`] if `target_rho ∉ (0, 1)`, `n_nodes < 2`, `n_p` or `n_seeds` is 0; graph
/// or eigen-solver errors.
pub fn tune_er_to_rho(
    n_nodes: usize,
    target_rho: f64,
    rule: WeightRule,
    seed: Seed,
    n_p: usize,
    n_seeds: usize,
) -> Result<ErTuned> {
    ConfigError::check_closed(
        "target_rho",
        target_rho,
        f64::MIN_POSITIVE,
        1.0 - 1e-12,
        "(0, 1)",
    )?;
    if n_nodes < 2 {
        return Err(ConfigError::OutOfRangeInt {
            field: "n_nodes",
            value: n_nodes as i128,
            allowed: "[2, 1e6]",
        }
        .into());
    }
    if n_p == 0 || n_seeds == 0 {
        return Err(ConfigError::OutOfRangeInt {
            field: "n_p/n_seeds",
            value: 0,
            allowed: "[1, ∞)",
        }
        .into());
    }
    let p_min = ((n_nodes as f64).ln() / n_nodes as f64).min(1.0);
    let mut best: Option<ErTuned> = None;
    for a in 0..n_p {
        let p = if n_p == 1 {
            1.0
        } else {
            p_min + (1.0 - p_min) * a as f64 / (n_p - 1) as f64
        };
        for k in 0..n_seeds {
            let s = seed.index(a as u64).index(k as u64);
            let g = match Graph::erdos_renyi(n_nodes, p, s) {
                Ok(g) => g,
                Err(DecentralError::ErNotConnected { .. }) => continue,
                Err(e) => return Err(e),
            };
            let rho = MixingMatrix::new(&g, rule)?.rho();
            if best
                .as_ref()
                .is_none_or(|b| (rho - target_rho).abs() < (b.rho - target_rho).abs())
            {
                best = Some(ErTuned {
                    graph: g,
                    p,
                    seed: s,
                    rho,
                });
            }
        }
    }
    best.ok_or_else(|| {
        DecentralError::Config(ConfigError::Invalid {
            field: "target_rho".into(),
            reason: "no connected ER graph found on the p grid".into(),
        })
    })
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
    use gdlab_core::linalg::sym_eigenvalues;
    use proptest::prelude::*;
    use std::f64::consts::PI;

    /// Every graph kind, sized from `m`, plus an ER draw.
    fn graphs(m: usize, p: f64, seed: u64) -> Vec<Graph> {
        let (r, c) = Graph::square_factors(m);
        let mut v = vec![
            Graph::ring(m.max(3)).unwrap(),
            Graph::path(m).unwrap(),
            Graph::star(m).unwrap(),
            Graph::complete(m).unwrap(),
            Graph::grid(r, c).unwrap(),
            Graph::torus(3, m.max(3)).unwrap(),
            Graph::erdos_renyi(m, p.max(0.5), Seed(seed)).unwrap(),
        ];
        let text: String = Graph::erdos_renyi(m, 0.6, Seed(seed + 1))
            .unwrap()
            .edges()
            .iter()
            .map(|(a, b)| format!("{a} {b}\n"))
            .collect();
        v.push(Graph::parse_edge_list(&text, Some(m)).unwrap());
        v
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn doubly_stochastic_for_every_graph_kind(m in 2usize..25, p in 0.0f64..1.0, seed in 0u64..1000) {
            for g in graphs(m, p, seed) {
                for rule in WeightRule::ALL {
                    let w = MixingMatrix::new(&g, rule).unwrap();
                    let mm = g.n_nodes();
                    prop_assert!(w.stochasticity_error() <= stochastic_tol(mm));
                    for i in 0..mm {
                        for j in 0..mm {
                            prop_assert!(w.dense()[(i, j)] >= 0.0);
                        }
                    }
                    prop_assert!(w.rho() < 1.0);
                    // Gossip preserves the average (W doubly stochastic).
                    let dim = 3;
                    let x: Vec<f64> = (0..mm * dim).map(|k| ((k * 37 % 11) as f64) - 5.0).collect();
                    let mut y = vec![0.0; mm * dim];
                    w.mix(&x, &mut y, dim);
                    for c in 0..dim {
                        let a: f64 = (0..mm).map(|i| x[i * dim + c]).sum();
                        let b: f64 = (0..mm).map(|i| y[i * dim + c]).sum();
                        prop_assert!((a - b).abs() <= 1e-12 * (1.0 + a.abs()) * mm as f64);
                    }
                }
            }
        }
    }

    #[test]
    fn ring_metropolis_rho_closed_form() {
        // Ring, m ≥ 3: every degree is 2, so W = (I + P + Pᵀ)/3 (P the cyclic shift), a
        // circulant with eigenvalues (1 + 2cos(2πk/m))/3, k = 0..m−1; ρ is the largest
        // modulus over k ≠ 0.
        for m in 3..40 {
            let w = MixingMatrix::new(&Graph::ring(m).unwrap(), WeightRule::Metropolis).unwrap();
            let exact = (1..m)
                .map(|k| ((1.0 + 2.0 * (2.0 * PI * k as f64 / m as f64).cos()) / 3.0).abs())
                .fold(0.0, f64::max);
            assert!(
                (w.rho() - exact).abs() <= 1e-12,
                "m = {m}: {} vs {exact}",
                w.rho()
            );
        }
        // Spec §5: ring-10 Metropolis has ρ = 0.8727.
        let w = MixingMatrix::new(&Graph::ring(10).unwrap(), WeightRule::Metropolis).unwrap();
        assert!((w.rho() - 0.8727).abs() < 5e-5);
    }

    #[test]
    fn complete_and_lazy() {
        let w = MixingMatrix::new(&Graph::complete(7).unwrap(), WeightRule::Metropolis).unwrap();
        assert!(w.rho() < 1e-12);
        let a = MixingMatrix::averaging(7).unwrap();
        assert!(a.rho() < 1e-12);
        // Lazy: eigenvalues (1 + λ)/2 ≥ 0.
        let g = Graph::ring(8).unwrap(); // bipartite: Metropolis has eigenvalue −1/3
        let l = MixingMatrix::new(&g, WeightRule::LazyMetropolis).unwrap();
        let ev = sym_eigenvalues(l.dense()).unwrap();
        assert!(ev[0] >= -1e-12);
        // Max-degree on the 5-star: deg_max = 4, W_0j = 1/5, leaves keep 4/5, the centre 1/5.
        let s = MixingMatrix::new(&Graph::star(5).unwrap(), WeightRule::MaxDegree).unwrap();
        assert!((s.dense()[(1, 1)] - 0.8).abs() < 1e-15 && (s.dense()[(0, 0)] - 0.2).abs() < 1e-15);
    }

    #[test]
    fn bad_matrices_rejected() {
        let g = Graph::path(3).unwrap();
        assert!(matches!(
            MixingMatrix::new(
                &Graph::from_edges(3, &[(0, 1)]).unwrap(),
                WeightRule::Metropolis
            ),
            Err(DecentralError::Disconnected { .. })
        ));
        // Identity on a connected graph: doubly stochastic but ρ = 1.
        let e = MixingMatrix::from_dense(&g, Matrix::identity(3, 3)).unwrap_err();
        assert!(matches!(e, DecentralError::RhoNotBelowOne { .. }), "{e}");
        // Off-graph entry.
        let mut d = Matrix::from_fn(3, 3, |_, _| 1.0 / 3.0);
        let e = MixingMatrix::from_dense(&g, d.clone()).unwrap_err();
        assert!(e.to_string().contains("not an edge"), "{e}");
        d[(0, 1)] = 0.5;
        let e = MixingMatrix::from_dense(&Graph::complete(3).unwrap(), d).unwrap_err();
        assert!(e.to_string().contains("symmetric"), "{e}");
    }

    #[test]
    fn er_search_hits_target() {
        let t = tune_er_to_rho(10, 0.5, WeightRule::Metropolis, Seed(0), 20, 4).unwrap();
        assert!((t.rho - 0.5).abs() < 0.05, "{}", t.rho);
        let w = MixingMatrix::new(&t.graph, WeightRule::Metropolis).unwrap();
        assert!((w.rho() - t.rho).abs() < 1e-15);
        assert!(tune_er_to_rho(10, 1.0, WeightRule::Metropolis, Seed(0), 4, 4).is_err());
    }
}
