//! Graphs and the SIGN propagation operator `T` (spec §2.5, authors' `calc_weight` /
//! `preprocess` **\[code\]**).
//!
//! For a directed edge `u → v`: `w_uv = d_out(u)^{-1/2} · d_in(v)^{-1/2}`, then
//! row-normalise at the receiving node: `T[v, u] = w_uv / Σ_{u'} w_{u'v}`. So
//! `T = rownorm(D^{-1/2} A D^{-1/2})`; every row with at least one in-edge sums to 1 and
//! rows without in-edges are zero. Undirected graphs store both directions.

use crate::error::{QuantumError, Result};

/// A directed multigraph-free edge list on `n_nodes` nodes.
#[derive(Clone, Debug, PartialEq)]
pub struct Graph {
    n_nodes: usize,
    /// Edges `(u, v)` meaning `u → v` (for undirected graphs both directions), sorted and
    /// de-duplicated.
    edges: Vec<(u32, u32)>,
}

impl Graph {
    /// Builds a graph from directed edges (duplicates removed).
    ///
    /// # Errors
    /// [`QuantumError::BadState`] if an endpoint is `≥ n_nodes` or `n_nodes` exceeds
    /// `u32::MAX`.
    pub fn from_directed(n_nodes: usize, mut edges: Vec<(u32, u32)>) -> Result<Self> {
        if u32::try_from(n_nodes).is_err() {
            return Err(QuantumError::BadState {
                field: "graph",
                reason: format!("at most {} nodes, got {n_nodes}", u32::MAX),
            });
        }
        if let Some(&(u, v)) = edges
            .iter()
            .find(|&&(u, v)| u as usize >= n_nodes || v as usize >= n_nodes)
        {
            return Err(QuantumError::BadState {
                field: "graph",
                reason: format!("edge ({u}, {v}) has an endpoint ≥ n_nodes = {n_nodes}"),
            });
        }
        edges.sort_unstable();
        edges.dedup();
        Ok(Graph { n_nodes, edges })
    }

    /// Builds an undirected graph: every `(u, v)` is stored as `u → v` and `v → u`.
    ///
    /// # Errors
    /// As [`Graph::from_directed`].
    pub fn from_undirected(n_nodes: usize, edges: &[(u32, u32)]) -> Result<Self> {
        let both = edges.iter().flat_map(|&(u, v)| [(u, v), (v, u)]).collect();
        Self::from_directed(n_nodes, both)
    }

    /// Adds a self-loop `v → v` at every node (kept once if already present).
    #[must_use]
    pub fn with_self_loops(mut self) -> Self {
        self.edges.extend((0..self.n_nodes as u32).map(|v| (v, v)));
        self.edges.sort_unstable();
        self.edges.dedup();
        self
    }

    /// Number of nodes.
    #[must_use]
    pub fn n_nodes(&self) -> usize {
        self.n_nodes
    }

    /// The directed edges.
    #[must_use]
    pub fn edges(&self) -> &[(u32, u32)] {
        &self.edges
    }
}

/// A sparse row-major (CSR) matrix with f64 values.
#[derive(Clone, Debug, PartialEq)]
pub struct Csr {
    n_rows: usize,
    n_cols: usize,
    row_ptr: Vec<usize>,
    cols: Vec<u32>,
    vals: Vec<f64>,
}

impl Csr {
    /// Number of rows.
    #[must_use]
    pub fn n_rows(&self) -> usize {
        self.n_rows
    }

    /// Number of columns.
    #[must_use]
    pub fn n_cols(&self) -> usize {
        self.n_cols
    }

    /// Row `r` as `(column, value)` pairs.
    pub fn row(&self, r: usize) -> impl Iterator<Item = (usize, f64)> + '_ {
        let (a, b) = (self.row_ptr[r], self.row_ptr[r + 1]);
        self.cols[a..b]
            .iter()
            .zip(&self.vals[a..b])
            .map(|(&c, &v)| (c as usize, v))
    }

    /// `out = self · f` for a row-major `n_cols × width` matrix `f` (sequential sum per row
    /// in column order: thread-count independent).
    ///
    /// # Panics
    /// If the shapes do not match (programmer error).
    #[must_use]
    pub fn matmul_dense(&self, f: &[f64], width: usize) -> Vec<f64> {
        assert_eq!(f.len(), self.n_cols * width, "matmul_dense: shape");
        let mut out = vec![0.0; self.n_rows * width];
        use rayon::prelude::*;
        out.par_chunks_mut(width.max(1))
            .enumerate()
            .for_each(|(r, o)| {
                for (c, v) in self.row(r) {
                    for (oi, fi) in o.iter_mut().zip(&f[c * width..(c + 1) * width]) {
                        *oi += v * fi;
                    }
                }
            });
        out
    }
}

/// The SIGN propagation operator `T = rownorm(D^{-1/2} A D^{-1/2})` (see module docs).
///
/// # Examples
/// ```
/// use gdlab_quantum::gnn::graph::{propagation_operator, Graph};
/// // path 0 − 1 − 2: d = (1, 2, 1); w_{1→0} = 1/√2, so T[0,1] = 1; row 1 averages 0 and 2.
/// let g = Graph::from_undirected(3, &[(0, 1), (1, 2)]).unwrap();
/// let t = propagation_operator(&g);
/// let row1: Vec<(usize, f64)> = t.row(1).collect();
/// assert_eq!(row1.len(), 2);
/// assert!((row1[0].1 - 0.5).abs() < 1e-15 && (row1[1].1 - 0.5).abs() < 1e-15);
/// ```
#[must_use]
pub fn propagation_operator(g: &Graph) -> Csr {
    let n = g.n_nodes;
    let mut d_out = vec![0usize; n];
    let mut d_in = vec![0usize; n];
    for &(u, v) in &g.edges {
        d_out[u as usize] += 1;
        d_in[v as usize] += 1;
    }
    // group the in-edges of each receiving node v (row v), columns u ascending
    let mut by_row: Vec<(u32, u32)> = g.edges.iter().map(|&(u, v)| (v, u)).collect();
    by_row.sort_unstable();
    let mut row_ptr = vec![0usize; n + 1];
    for &(v, _) in &by_row {
        row_ptr[v as usize + 1] += 1;
    }
    for i in 0..n {
        row_ptr[i + 1] += row_ptr[i];
    }
    let mut cols = Vec::with_capacity(by_row.len());
    let mut vals = Vec::with_capacity(by_row.len());
    for &(v, u) in &by_row {
        let w = 1.0 / ((d_out[u as usize] as f64).sqrt() * (d_in[v as usize] as f64).sqrt());
        cols.push(u);
        vals.push(w);
    }
    for r in 0..n {
        let (a, b) = (row_ptr[r], row_ptr[r + 1]);
        let s: f64 = vals[a..b].iter().sum();
        if s > 0.0 {
            vals[a..b].iter_mut().for_each(|v| *v /= s);
        }
    }
    Csr {
        n_rows: n,
        n_cols: n,
        row_ptr,
        cols,
        vals,
    }
}

/// `[F_0 = X, F_1 = T X, …, F_R = T^R X]` for a row-major `n × width` feature matrix.
///
/// # Panics
/// If `x.len() != t.n_cols() · width`.
#[must_use]
pub fn propagate(t: &Csr, x: &[f64], width: usize, hops: usize) -> Vec<Vec<f64>> {
    let mut out = vec![x.to_vec()];
    for k in 0..hops {
        let next = t.matmul_dense(&out[k], width);
        out.push(next);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_sum_to_one_or_zero_and_match_dense_formula() {
        // directed graph with an isolated receiver (node 3 has no in-edges)
        let g = Graph::from_directed(4, vec![(0, 1), (1, 0), (2, 1), (3, 2), (0, 2)]).unwrap();
        let t = propagation_operator(&g);
        let (d_out, d_in) = ([2.0f64, 1.0, 1.0, 1.0], [1.0f64, 2.0, 2.0, 0.0]);
        #[allow(clippy::needless_range_loop)]
        for v in 0..4 {
            let row: Vec<(usize, f64)> = t.row(v).collect();
            let s: f64 = row.iter().map(|r| r.1).sum();
            if v == 3 {
                assert!(row.is_empty());
            } else {
                assert!((s - 1.0).abs() < 1e-15);
            }
            // dense: w_uv = d_out(u)^-1/2 d_in(v)^-1/2, normalised over u
            let ws: Vec<(usize, f64)> = g
                .edges()
                .iter()
                .filter(|e| e.1 as usize == v)
                .map(|e| (e.0 as usize, 1.0 / (d_out[e.0 as usize] * d_in[v]).sqrt()))
                .collect();
            let tot: f64 = ws.iter().map(|w| w.1).sum();
            for ((c, val), (u, w)) in row.iter().zip(&ws) {
                assert_eq!(c, u);
                assert!((val - w / tot).abs() < 1e-15);
            }
        }
        assert!(Graph::from_directed(2, vec![(0, 2)]).is_err());
    }

    #[test]
    fn propagation_of_constants_is_constant_with_self_loops() {
        let g = Graph::from_undirected(5, &[(0, 1), (1, 2), (2, 3), (3, 4), (4, 0), (0, 2)])
            .unwrap()
            .with_self_loops();
        let t = propagation_operator(&g);
        let x = vec![2.5; 5 * 2];
        let f = propagate(&t, &x, 2, 3);
        assert_eq!(f.len(), 4);
        for v in &f[3] {
            assert!((v - 2.5).abs() < 1e-14);
        }
    }
}
