//! The bigram softmax model: previous token one-hot → next token (`nn.Linear(V, V)` with
//! bias on one-hot inputs), full batch, with the loss and gradient computed from the sparse
//! bigram counts, so a step costs `O(V · active rows)`, not `O(corpus length)`.
//!
//! For the sample "token `y` after token `a`" the logits are `z_a = W e_a + b`, i.e. column
//! `a` of `W` plus the bias. Every sample with the same previous token shares them, so with
//! `C[a][y]` the bigram counts, `N_a = Σ_y C[a][y]` and `N = Σ_a N_a`:
//!
//! $$ L = \frac1N \sum_a \sum_y C_{ay}\,\big(\mathrm{lse}(z_a) - z_{ay}\big), \qquad
//!    \frac{\partial L}{\partial z_{ay}} = \frac{N_a\, p_{ay} - C_{ay}}{N}, \qquad
//!    \frac{\partial L}{\partial b_y} = \sum_a \frac{\partial L}{\partial z_{ay}}. $$
//!
//! **Layout**: the flat parameters hold `Wᵀ` row-major — row `a` is the logit table of the
//! tokens following `a` (`V × V`) — then `b` (`V`).

use gdlab_core::Seed;
use rand::Rng;
use rayon::prelude::*;

use crate::error::{ImbalanceError, Result};
use crate::softmax::Float;
use crate::text::BigramCounts;

/// The bigram softmax model on a vocabulary of `V` tokens.
///
/// # Examples
/// ```
/// use gdlab_imbalance::{bigram::BigramModel, text::BigramCounts};
/// let counts = BigramCounts::from_ids(&[0, 1, 0, 1, 1], 2).unwrap();
/// let model = BigramModel::new(2).unwrap();
/// let params = vec![0.0_f64; model.n_params()];
/// let mut grad = vec![0.0; model.n_params()];
/// let mut sums = Vec::new();
/// let loss = model.loss_grad(&counts, &params, &mut grad, &mut sums).unwrap();
/// gdlab_core::assert_close!(loss, 2.0_f64.ln(), rel = 1e-15); // uniform prediction
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BigramModel {
    vocab_size: usize,
}

impl BigramModel {
    /// A model on `vocab_size ≥ 2` tokens.
    ///
    /// # Errors
    /// [`gdlab_core::ConfigError::OutOfRangeInt`] if `vocab_size < 2`.
    pub fn new(vocab_size: usize) -> Result<Self> {
        if vocab_size < 2 {
            return Err(gdlab_core::ConfigError::OutOfRangeInt {
                field: "vocab_size",
                value: vocab_size as i128,
                allowed: "[2, ∞)",
            }
            .into());
        }
        Ok(BigramModel { vocab_size })
    }

    /// Vocabulary size `V`.
    #[must_use]
    pub fn vocab_size(&self) -> usize {
        self.vocab_size
    }

    /// `V² + V`.
    #[must_use]
    pub fn n_params(&self) -> usize {
        self.vocab_size * self.vocab_size + self.vocab_size
    }

    /// PyTorch's `nn.Linear(V, V)` default: every entry `Uniform(−1/√V, 1/√V)`.
    #[must_use]
    pub fn init<F: Float>(&self, seed: Seed) -> Vec<F> {
        let bound = 1.0 / (self.vocab_size as f64).sqrt();
        let mut rng = seed.rng();
        (0..self.n_params())
            .map(|_| F::from_f64(bound * (2.0 * rng.random::<f64>() - 1.0)))
            .collect()
    }

    /// Mean cross-entropy over all bigrams, its exact gradient into `grad`, and the
    /// per-class (next-token) loss sums `Σ_a C[a][y] (lse(z_a) − z_{ay})` into
    /// `class_loss_sums` (resized to `V`), for
    /// [`FrequencyGroups`](crate::groups::FrequencyGroups).
    ///
    /// # Errors
    /// [`ImbalanceError::Dim`] if the counts' vocabulary, `params` or `grad` do not match.
    pub fn loss_grad<F: Float>(
        &self,
        counts: &BigramCounts,
        params: &[F],
        grad: &mut [F],
        class_loss_sums: &mut Vec<f64>,
    ) -> Result<f64> {
        let v = self.vocab_size;
        if counts.vocab_size() != v {
            return Err(ImbalanceError::dim(
                "BigramModel (counts vocab)",
                v,
                counts.vocab_size(),
            ));
        }
        if params.len() != self.n_params() {
            return Err(ImbalanceError::dim(
                "BigramModel (params)",
                self.n_params(),
                params.len(),
            ));
        }
        if grad.len() != self.n_params() {
            return Err(ImbalanceError::dim(
                "BigramModel (grad)",
                self.n_params(),
                grad.len(),
            ));
        }
        let n = counts.n_bigrams();
        if n == 0 {
            return Err(ImbalanceError::dim("BigramModel (bigrams ≥ 1)", 1, 0));
        }
        let inv_n = 1.0 / n as f64;
        let (table, b) = params.split_at(v * v);
        let (g_table, g_b) = grad.split_at_mut(v * v);
        // Per row a: the loss contribution and lse(z_a), written in row order.
        let row_out: Vec<(f64, f64)> = g_table
            .par_chunks_mut(v)
            .zip(table.par_chunks(v))
            .enumerate()
            .map(|(a, (g_row, w_row))| {
                let row = counts.row(a);
                let n_a: u64 = row.iter().map(|&(_, c)| c).sum();
                if n_a == 0 {
                    g_row.iter_mut().for_each(|g| *g = F::zero());
                    return (0.0, 0.0);
                }
                // e_y = exp(z_y − max) once per entry, then p_y = e_y / Σ e.
                let z: Vec<f64> = w_row
                    .iter()
                    .zip(b)
                    .map(|(w, bb)| w.as_f64() + bb.as_f64())
                    .collect();
                let max = z.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v));
                let e: Vec<f64> = z.iter().map(|&v| (v - max).exp()).collect();
                let sum: f64 = e.iter().sum();
                let lse = max + sum.ln();
                let scale = n_a as f64 * inv_n / sum;
                for (g, &ey) in g_row.iter_mut().zip(&e) {
                    *g = F::from_f64(scale * ey);
                }
                let mut loss = 0.0;
                for &(y, c) in row {
                    let y = y as usize;
                    g_row[y] = F::from_f64(g_row[y].as_f64() - c as f64 * inv_n);
                    loss += c as f64 * (lse - z[y]);
                }
                (loss, lse)
            })
            .collect();
        // Bias gradient and class sums: fixed row order.
        let mut gb = vec![0.0_f64; v];
        class_loss_sums.clear();
        class_loss_sums.resize(v, 0.0);
        let mut total = 0.0;
        for (a, &(loss, lse)) in row_out.iter().enumerate() {
            let row = counts.row(a);
            if row.is_empty() {
                continue;
            }
            total += loss;
            for (acc, g) in gb.iter_mut().zip(&g_table[a * v..(a + 1) * v]) {
                *acc += g.as_f64();
            }
            for &(y, c) in row {
                let y = y as usize;
                class_loss_sums[y] +=
                    c as f64 * (lse - (table[a * v + y].as_f64() + b[y].as_f64()));
            }
        }
        for (g, acc) in g_b.iter_mut().zip(gb) {
            *g = F::from_f64(acc);
        }
        Ok(total * inv_n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::softmax::{Dataset, SoftmaxLinear, Workspace};
    use gdlab_core::assert_close;

    #[test]
    fn equals_the_softmax_model_on_expanded_one_hot_data() {
        // Independent path: materialise every bigram as a one-hot sample and use the dense
        // softmax model (whose gradient is checked against finite differences).
        let ids: Vec<usize> = (0..300).map(|i| (i * i + 3 * i) % 7).collect();
        let v = 7;
        let counts = BigramCounts::from_ids(&ids, v).unwrap();
        let model = BigramModel::new(v).unwrap();
        let params: Vec<f64> = model.init(Seed(3));
        let mut grad = vec![0.0; model.n_params()];
        let mut sums = Vec::new();
        let loss = model
            .loss_grad(&counts, &params, &mut grad, &mut sums)
            .unwrap();

        let mut x = Vec::new();
        let mut y = Vec::new();
        for w in ids.windows(2) {
            let mut row = vec![0.0; v];
            row[w[0]] = 1.0;
            x.extend(row);
            y.push(w[1]);
        }
        let data = Dataset::new(x, y.clone(), v, v).unwrap();
        let dense = SoftmaxLinear::new(v, v, true).unwrap();
        // Dense layout: W[y][a] row-major = transpose of the bigram table.
        let mut p_dense = vec![0.0; dense.n_params()];
        for a in 0..v {
            for yy in 0..v {
                p_dense[yy * v + a] = params[a * v + yy];
            }
        }
        p_dense[v * v..].copy_from_slice(&params[v * v..]);
        let mut g_dense = vec![0.0; dense.n_params()];
        let mut ws = Workspace::default();
        let l_dense = dense
            .loss_grad(&data, &p_dense, &mut g_dense, &mut ws)
            .unwrap();
        assert_close!(loss, l_dense, rel = 1e-13);
        for a in 0..v {
            for yy in 0..v {
                assert_close!(
                    grad[a * v + yy],
                    g_dense[yy * v + a],
                    rel = 1e-11,
                    abs = 1e-16
                );
            }
        }
        assert_close!(
            grad[v * v..].to_vec(),
            g_dense[v * v..].to_vec(),
            rel = 1e-11,
            abs = 1e-16
        );
        // Class sums equal the per-sample losses summed by label.
        let direct = crate::groups::class_loss_sums(&y, ws.per_sample_losses(), v).unwrap();
        assert_close!(sums, direct, rel = 1e-11, abs = 1e-14);
    }

    #[test]
    fn shapes_are_checked() {
        let counts = BigramCounts::from_ids(&[0, 1, 2], 3).unwrap();
        let model = BigramModel::new(4).unwrap();
        let p = vec![0.0_f32; model.n_params()];
        let mut g = p.clone();
        assert!(model
            .loss_grad(&counts, &p, &mut g, &mut Vec::new())
            .is_err());
        assert!(BigramModel::new(1).is_err());
    }
}
