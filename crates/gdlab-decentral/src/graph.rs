//! Undirected graphs of agents: ring, path, star, complete, 2-D grid and torus, seeded
//! Erdős–Rényi (connected by rejection), and edge-list files.
//!
//! A [`Graph`] stores sorted neighbour lists (no self loops, no multi-edges). Node `i` talks
//! only to `graph.neighbors(i)` (spec §1: one-hop communication).

use gdlab_core::{ConfigError, Seed};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::error::{DecentralError, Result};

/// Rejection-sampling budget of [`Graph::erdos_renyi`].
pub const ER_MAX_TRIES: usize = 10_000;

/// An undirected simple graph on nodes `0..n_nodes`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Graph {
    neighbors: Vec<Vec<usize>>,
}

/// Degree statistics of a graph.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct DegreeStats {
    /// Smallest degree.
    pub min: usize,
    /// Largest degree.
    pub max: usize,
    /// Mean degree `2|E|/m`.
    pub mean: f64,
}

fn check_nodes(n_nodes: usize, min: usize, allowed: &'static str) -> Result<()> {
    if n_nodes < min || n_nodes > 1_000_000 {
        return Err(ConfigError::OutOfRangeInt {
            field: "n_nodes",
            value: n_nodes as i128,
            allowed,
        }
        .into());
    }
    Ok(())
}

impl Graph {
    /// A graph from an edge list (pairs of node indices, any order, duplicates merged).
    ///
    /// # Errors
    /// [`ConfigError`] if `n_nodes` is 0, an index is `≥ n_nodes`, or an edge is a self loop.
    pub fn from_edges(n_nodes: usize, edges: &[(usize, usize)]) -> Result<Self> {
        check_nodes(n_nodes, 1, "[1, 1e6]")?;
        let mut neighbors = vec![Vec::new(); n_nodes];
        for &(a, b) in edges {
            if a >= n_nodes || b >= n_nodes {
                return Err(ConfigError::Invalid {
                    field: "edges".into(),
                    reason: format!(
                        "edge ({a}, {b}) names a node outside 0..{n_nodes} (nodes are 0-based)"
                    ),
                }
                .into());
            }
            if a == b {
                return Err(ConfigError::Invalid {
                    field: "edges".into(),
                    reason: format!("self loop ({a}, {a}); the mixing matrix adds self weights"),
                }
                .into());
            }
            neighbors[a].push(b);
            neighbors[b].push(a);
        }
        for n in &mut neighbors {
            n.sort_unstable();
            n.dedup();
        }
        Ok(Graph { neighbors })
    }

    /// The ring (cycle) `0 – 1 – … – (m−1) – 0`, `m ≥ 3`.
    ///
    /// # Errors
    /// [`ConfigError`] if `n_nodes < 3`.
    pub fn ring(n_nodes: usize) -> Result<Self> {
        check_nodes(n_nodes, 3, "[3, 1e6] for a ring")?;
        let edges: Vec<_> = (0..n_nodes).map(|i| (i, (i + 1) % n_nodes)).collect();
        Self::from_edges(n_nodes, &edges)
    }

    /// The path `0 – 1 – … – (m−1)`, `m ≥ 2`.
    ///
    /// # Errors
    /// [`ConfigError`] if `n_nodes < 2`.
    pub fn path(n_nodes: usize) -> Result<Self> {
        check_nodes(n_nodes, 2, "[2, 1e6] for a path")?;
        let edges: Vec<_> = (1..n_nodes).map(|i| (i - 1, i)).collect();
        Self::from_edges(n_nodes, &edges)
    }

    /// The star with centre 0, `m ≥ 2`.
    ///
    /// # Errors
    /// [`ConfigError`] if `n_nodes < 2`.
    pub fn star(n_nodes: usize) -> Result<Self> {
        check_nodes(n_nodes, 2, "[2, 1e6] for a star")?;
        let edges: Vec<_> = (1..n_nodes).map(|i| (0, i)).collect();
        Self::from_edges(n_nodes, &edges)
    }

    /// The complete graph `K_m`, `m ≥ 1`.
    ///
    /// # Errors
    /// [`ConfigError`] if `n_nodes` is 0 or above 10 000 (dense).
    pub fn complete(n_nodes: usize) -> Result<Self> {
        check_nodes(n_nodes, 1, "[1, 1e6]")?;
        if n_nodes > 10_000 {
            return Err(ConfigError::OutOfRangeInt {
                field: "n_nodes",
                value: n_nodes as i128,
                allowed: "[1, 10000] for a complete graph",
            }
            .into());
        }
        let neighbors = (0..n_nodes)
            .map(|i| (0..n_nodes).filter(|&j| j != i).collect())
            .collect();
        Ok(Graph { neighbors })
    }

    /// The `rows × cols` 2-D grid (4-neighbour mesh, BlueFog's `MeshGrid2DGraph` without
    /// wrap-around); node `(r, c)` is `r·cols + c`.
    ///
    /// # Errors
    /// [`ConfigError`] if `rows` or `cols` is 0.
    pub fn grid(rows: usize, cols: usize) -> Result<Self> {
        Self::lattice(rows, cols, false)
    }

    /// The `rows × cols` 2-D torus (grid with wrap-around), `rows, cols ≥ 3`.
    ///
    /// # Errors
    /// [`ConfigError`] if `rows < 3` or `cols < 3` (smaller sides would create multi-edges).
    pub fn torus(rows: usize, cols: usize) -> Result<Self> {
        if rows < 3 || cols < 3 {
            return Err(ConfigError::OutOfRangeInt {
                field: "rows/cols",
                value: rows.min(cols) as i128,
                allowed: "[3, ∞) for a torus",
            }
            .into());
        }
        Self::lattice(rows, cols, true)
    }

    /// The most square `rows × cols = n_nodes` factorisation (`rows ≤ cols`, `rows` the
    /// largest divisor `≤ √n_nodes`), used to build grids and tori from a node count.
    #[must_use]
    pub fn square_factors(n_nodes: usize) -> (usize, usize) {
        let mut rows = 1;
        let mut r = 1;
        while r * r <= n_nodes {
            if n_nodes % r == 0 {
                rows = r;
            }
            r += 1;
        }
        (rows, n_nodes / rows.max(1))
    }

    fn lattice(rows: usize, cols: usize, wrap: bool) -> Result<Self> {
        if rows == 0 || cols == 0 {
            return Err(ConfigError::OutOfRangeInt {
                field: "rows/cols",
                value: 0,
                allowed: "[1, ∞)",
            }
            .into());
        }
        let n = rows.checked_mul(cols).ok_or_else(|| ConfigError::Invalid {
            field: "rows/cols".into(),
            reason: "rows·cols overflows".into(),
        })?;
        let mut edges = Vec::new();
        for r in 0..rows {
            for c in 0..cols {
                let i = r * cols + c;
                if c + 1 < cols {
                    edges.push((i, i + 1));
                } else if wrap {
                    edges.push((i, r * cols));
                }
                if r + 1 < rows {
                    edges.push((i, i + cols));
                } else if wrap {
                    edges.push((i, c));
                }
            }
        }
        Self::from_edges(n, &edges)
    }

    /// One draw of G(m, p): each of the `m(m−1)/2` edges present independently with
    /// probability `p`, in the order `(0,1), (0,2), …, (1,2), …`, from `seed`'s stream.
    ///
    /// # Errors
    /// [`ConfigError`] if `p ∉ [0, 1]` or `n_nodes` is 0.
    pub fn erdos_renyi_draw(n_nodes: usize, p: f64, seed: Seed) -> Result<Self> {
        check_nodes(n_nodes, 1, "[1, 1e6]")?;
        ConfigError::check_closed("p", p, 0.0, 1.0, "[0, 1]")?;
        let mut rng = seed.rng();
        let mut edges = Vec::new();
        for i in 0..n_nodes {
            for j in i + 1..n_nodes {
                // 53-bit uniform in [0, 1).
                let u = (rng.next_u64() >> 11) as f64 * (1.0 / 9_007_199_254_740_992.0);
                if u < p {
                    edges.push((i, j));
                }
            }
        }
        Self::from_edges(n_nodes, &edges)
    }

    /// A connected Erdős–Rényi graph: draws G(m, p) from `seed.index(k)` for
    /// `k = 0, 1, …` and returns the first connected one (rejection sampling).
    ///
    /// # Errors
    /// [`ConfigError`] for a bad `p`/`n_nodes`; [`DecentralError::ErNotConnected`] when none
    /// of [`ER_MAX_TRIES`] draws is connected.
    ///
    /// # Examples
    /// ```
    /// use gdlab_core::Seed;
    /// use gdlab_decentral::Graph;
    /// let g = Graph::erdos_renyi(10, 0.5, Seed(0)).unwrap();
    /// assert!(g.is_connected());
    /// assert_eq!(g, Graph::erdos_renyi(10, 0.5, Seed(0)).unwrap());
    /// ```
    pub fn erdos_renyi(n_nodes: usize, p: f64, seed: Seed) -> Result<Self> {
        for k in 0..ER_MAX_TRIES {
            let g = Self::erdos_renyi_draw(n_nodes, p, seed.index(k as u64))?;
            if g.is_connected() {
                return Ok(g);
            }
        }
        Err(DecentralError::ErNotConnected {
            n_nodes,
            p,
            tries: ER_MAX_TRIES,
            threshold: (n_nodes as f64).ln() / n_nodes as f64,
        })
    }

    /// Parses an edge list: one edge `i j` per line (0-based node indices, separated by
    /// spaces, tabs or a comma); blank lines and lines starting with `#` are skipped. The
    /// number of nodes is the largest index + 1, or `n_nodes` when given (isolated nodes are
    /// then allowed and caught later as a disconnected graph).
    ///
    /// # Errors
    /// [`DecentralError::EdgeList`] naming the 1-based line for a line that is not two
    /// non-negative integers, a self loop, or an index `≥ n_nodes`; [`ConfigError`] for an
    /// empty list.
    ///
    /// # Examples
    /// ```
    /// use gdlab_decentral::Graph;
    /// let g = Graph::parse_edge_list("# triangle\n0 1\n1,2\n2\t0\n", None).unwrap();
    /// assert_eq!((g.n_nodes(), g.n_edges()), (3, 3));
    /// assert!(Graph::parse_edge_list("0 x\n", None).is_err());
    /// ```
    pub fn parse_edge_list(text: &str, n_nodes: Option<usize>) -> Result<Self> {
        let mut edges = Vec::new();
        let mut max_idx = 0usize;
        for (k, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = line
                .split(|c: char| c.is_whitespace() || c == ',')
                .filter(|f| !f.is_empty())
                .collect();
            let bad = |reason: String| DecentralError::EdgeList {
                line: k + 1,
                reason,
            };
            if fields.len() != 2 {
                return Err(bad(format!(
                    "expected two node indices `i j`, got {} field(s) in {line:?}",
                    fields.len()
                )));
            }
            let mut idx = [0usize; 2];
            for (slot, f) in idx.iter_mut().zip(&fields) {
                *slot = f.parse::<usize>().map_err(|_| {
                    bad(format!(
                        "`{f}` is not a node index (a non-negative integer, 0-based)"
                    ))
                })?;
            }
            if idx[0] == idx[1] {
                return Err(bad(format!(
                    "self loop `{} {}` is not allowed",
                    idx[0], idx[1]
                )));
            }
            if let Some(m) = n_nodes {
                if idx[0].max(idx[1]) >= m {
                    return Err(bad(format!(
                        "node {} is outside 0..{m} (n_nodes = {m})",
                        idx[0].max(idx[1])
                    )));
                }
            }
            if idx[0].max(idx[1]) >= 1_000_000 {
                return Err(bad("node index above 1e6".into()));
            }
            max_idx = max_idx.max(idx[0]).max(idx[1]);
            edges.push((idx[0], idx[1]));
        }
        if edges.is_empty() {
            return Err(ConfigError::Invalid {
                field: "edge list".into(),
                reason: "no edges found (expected lines `i j`)".into(),
            }
            .into());
        }
        Self::from_edges(n_nodes.unwrap_or(max_idx + 1), &edges)
    }

    /// Number of nodes `m`.
    #[must_use]
    pub fn n_nodes(&self) -> usize {
        self.neighbors.len()
    }

    /// Number of undirected edges `|E|`.
    #[must_use]
    pub fn n_edges(&self) -> usize {
        self.neighbors.iter().map(Vec::len).sum::<usize>() / 2
    }

    /// The sorted neighbours of node `i` (not including `i`).
    ///
    /// # Panics
    /// If `i ≥ n_nodes` (a programmer error).
    #[must_use]
    pub fn neighbors(&self, i: usize) -> &[usize] {
        &self.neighbors[i]
    }

    /// Degree of node `i`.
    ///
    /// # Panics
    /// If `i ≥ n_nodes`.
    #[must_use]
    pub fn degree(&self, i: usize) -> usize {
        self.neighbors[i].len()
    }

    /// The edges `(i, j)` with `i < j`, sorted.
    #[must_use]
    pub fn edges(&self) -> Vec<(usize, usize)> {
        let mut e = Vec::with_capacity(self.n_edges());
        for (i, ns) in self.neighbors.iter().enumerate() {
            e.extend(ns.iter().filter(|&&j| j > i).map(|&j| (i, j)));
        }
        e
    }

    /// Minimum, maximum and mean degree.
    #[must_use]
    pub fn degree_stats(&self) -> DegreeStats {
        let degs: Vec<usize> = self.neighbors.iter().map(Vec::len).collect();
        DegreeStats {
            min: degs.iter().copied().min().unwrap_or(0),
            max: degs.iter().copied().max().unwrap_or(0),
            mean: degs.iter().sum::<usize>() as f64 / degs.len().max(1) as f64,
        }
    }

    /// Number of connected components (breadth-first search).
    #[must_use]
    pub fn n_components(&self) -> usize {
        let m = self.n_nodes();
        let mut seen = vec![false; m];
        let mut components = 0;
        let mut queue = Vec::new();
        for start in 0..m {
            if seen[start] {
                continue;
            }
            components += 1;
            seen[start] = true;
            queue.push(start);
            while let Some(i) = queue.pop() {
                for &j in &self.neighbors[i] {
                    if !seen[j] {
                        seen[j] = true;
                        queue.push(j);
                    }
                }
            }
        }
        components
    }

    /// Whether every node reaches every other.
    #[must_use]
    pub fn is_connected(&self) -> bool {
        self.n_components() == 1
    }

    /// `Ok(())` if connected.
    ///
    /// # Errors
    /// [`DecentralError::Disconnected`] otherwise.
    pub fn check_connected(&self) -> Result<()> {
        let components = self.n_components();
        if components == 1 {
            Ok(())
        } else {
            Err(DecentralError::Disconnected {
                n_nodes: self.n_nodes(),
                components,
            })
        }
    }
}

/// A serializable description of a graph (for configs and the CLI).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum GraphSpec {
    /// [`Graph::ring`].
    Ring {
        /// Number of agents.
        n_nodes: usize,
    },
    /// [`Graph::path`].
    Path {
        /// Number of agents.
        n_nodes: usize,
    },
    /// [`Graph::star`].
    Star {
        /// Number of agents.
        n_nodes: usize,
    },
    /// [`Graph::complete`].
    Complete {
        /// Number of agents.
        n_nodes: usize,
    },
    /// [`Graph::grid`] with the [`Graph::square_factors`] of `n_nodes`.
    Grid {
        /// Number of agents.
        n_nodes: usize,
    },
    /// [`Graph::torus`] with the [`Graph::square_factors`] of `n_nodes`.
    Torus {
        /// Number of agents.
        n_nodes: usize,
    },
    /// [`Graph::erdos_renyi`].
    #[serde(rename = "er")]
    ErdosRenyi {
        /// Number of agents.
        n_nodes: usize,
        /// Edge probability.
        p: f64,
        /// Seed of the draw.
        #[serde(default)]
        seed: u64,
    },
    /// An edge list given inline (see [`Graph::parse_edge_list`] for files).
    Edges {
        /// Number of agents.
        n_nodes: usize,
        /// Undirected edges `[i, j]`, 0-based.
        edges: Vec<(usize, usize)>,
    },
}

impl GraphSpec {
    /// Builds the graph.
    ///
    /// # Errors
    /// As the constructors.
    pub fn build(&self) -> Result<Graph> {
        match *self {
            GraphSpec::Ring { n_nodes } => Graph::ring(n_nodes),
            GraphSpec::Path { n_nodes } => Graph::path(n_nodes),
            GraphSpec::Star { n_nodes } => Graph::star(n_nodes),
            GraphSpec::Complete { n_nodes } => Graph::complete(n_nodes),
            GraphSpec::Grid { n_nodes } => {
                check_nodes(n_nodes, 1, "[1, 1e6]")?;
                let (r, c) = Graph::square_factors(n_nodes);
                Graph::grid(r, c)
            }
            GraphSpec::Torus { n_nodes } => {
                check_nodes(n_nodes, 9, "[9, 1e6] for a torus")?;
                let (r, c) = Graph::square_factors(n_nodes);
                Graph::torus(r, c)
            }
            GraphSpec::ErdosRenyi { n_nodes, p, seed } => {
                Graph::erdos_renyi(n_nodes, p, Seed(seed))
            }
            GraphSpec::Edges { n_nodes, ref edges } => Graph::from_edges(n_nodes, edges),
        }
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
    fn shapes() {
        let r = Graph::ring(5).unwrap();
        assert_eq!(
            (r.n_edges(), r.degree_stats().min, r.degree_stats().max),
            (5, 2, 2)
        );
        let p = Graph::path(5).unwrap();
        assert_eq!((p.n_edges(), p.degree(0), p.degree(2)), (4, 1, 2));
        let s = Graph::star(6).unwrap();
        assert_eq!((s.n_edges(), s.degree(0), s.degree(3)), (5, 5, 1));
        let k = Graph::complete(6).unwrap();
        assert_eq!(k.n_edges(), 15);
        let g = Graph::grid(3, 4).unwrap();
        // 3·3 horizontal + 2·4 vertical edges.
        assert_eq!(g.n_edges(), 17);
        let t = Graph::torus(3, 4).unwrap();
        assert_eq!(
            (t.n_edges(), t.degree_stats().min, t.degree_stats().max),
            (24, 4, 4)
        );
        for g in [r, p, s, k, g, t] {
            assert!(g.is_connected());
        }
        assert_eq!(Graph::square_factors(12), (3, 4));
        assert_eq!(Graph::square_factors(13), (1, 13));
    }

    #[test]
    fn disconnected_detected() {
        let g = Graph::from_edges(4, &[(0, 1), (2, 3)]).unwrap();
        assert_eq!(g.n_components(), 2);
        assert!(matches!(
            g.check_connected(),
            Err(DecentralError::Disconnected { components: 2, .. })
        ));
    }

    #[test]
    fn edge_list_errors_name_the_line() {
        let e = Graph::parse_edge_list("0 1\n1 2 3\n", None).unwrap_err();
        assert!(e.to_string().contains("line 2"), "{e}");
        let e = Graph::parse_edge_list("0 1\n\n-1 2\n", None).unwrap_err();
        assert!(e.to_string().contains("line 3"), "{e}");
        let e = Graph::parse_edge_list("1 1\n", None).unwrap_err();
        assert!(e.to_string().contains("self loop"), "{e}");
        let e = Graph::parse_edge_list("0 5\n", Some(3)).unwrap_err();
        assert!(e.to_string().contains("outside"), "{e}");
        assert!(Graph::parse_edge_list("# nothing\n", None).is_err());
    }

    #[test]
    fn er_is_seeded_and_connected() {
        let a = Graph::erdos_renyi(20, 0.3, Seed(3)).unwrap();
        let b = Graph::erdos_renyi(20, 0.3, Seed(3)).unwrap();
        assert_eq!(a, b);
        assert!(a.is_connected());
        assert!(matches!(
            Graph::erdos_renyi(30, 0.0, Seed(0)),
            Err(DecentralError::ErNotConnected { .. })
        ));
        assert!(Graph::erdos_renyi(5, 1.5, Seed(0)).is_err());
        assert_eq!(Graph::erdos_renyi(6, 1.0, Seed(0)).unwrap().n_edges(), 15);
    }

    #[test]
    fn spec_roundtrip() {
        let s: GraphSpec =
            serde_json::from_str(r#"{"kind":"er","n_nodes":10,"p":0.5,"seed":1}"#).unwrap();
        assert_eq!(s.build().unwrap().n_nodes(), 10);
        let t: GraphSpec = serde_json::from_str(r#"{"kind":"torus","n_nodes":16}"#).unwrap();
        assert_eq!(t.build().unwrap().n_edges(), 32);
    }
}
