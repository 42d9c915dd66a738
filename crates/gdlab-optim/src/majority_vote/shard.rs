//! Splitting a finite sum's components over workers, and each worker's view of its shard.

use gdlab_core::objective::{FiniteSum, Objective};
use gdlab_core::{ConfigError, Seed};
use rand::seq::SliceRandom;

/// How components are assigned to workers by [`split_indices`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ShardSplit<'a> {
    /// Homogeneous (i.i.d.-like) shards: a uniform random permutation of `0..m` drawn from
    /// `seed.rng()` (Fisher–Yates via `rand`'s `SliceRandom::shuffle`), then contiguous
    /// blocks.
    Homogeneous {
        /// The permutation's seed.
        seed: Seed,
    },
    /// Heterogeneous, "label-sorted" shards: components stably sorted by `labels[i]`
    /// (ascending, `f64::total_cmp`; ties keep index order), then contiguous blocks, so
    /// each worker sees mostly one label. This is the classic pathological non-i.i.d.
    /// split; the SSVR paper's own heterogeneity construction was not retrieved (spec §4).
    LabelSorted {
        /// One label per component (class id, ±1, ...).
        labels: &'a [f64],
    },
}

/// Splits the components `0..n_components` over `n_workers` workers as index lists.
///
/// Worker `j` gets positions `⌊j·m/n⌋ .. ⌊(j+1)·m/n⌋` of the ordered index list (homogeneous:
/// a random permutation; heterogeneous: label-sorted), so shard sizes differ by at most
/// one and the shards partition `0..m`. Within a shard the indices keep that order.
///
/// # Errors
/// [`ConfigError::OutOfRangeInt`] naming `n_workers` when it is 0 or larger than
/// `n_components` (a worker would have an empty shard); [`ConfigError::Dim`] when
/// `labels.len() != n_components`.
///
/// # Examples
/// ```
/// use gdlab_optim::majority_vote::{split_indices, ShardSplit};
/// let labels = [1.0, -1.0, 1.0, -1.0, 1.0, -1.0];
/// let shards = split_indices(6, 2, &ShardSplit::LabelSorted { labels: &labels }).unwrap();
/// assert_eq!(shards, vec![vec![1, 3, 5], vec![0, 2, 4]]); // worker 0 sees only label −1
/// ```
pub fn split_indices(
    n_components: usize,
    n_workers: usize,
    split: &ShardSplit<'_>,
) -> Result<Vec<Vec<usize>>, ConfigError> {
    if n_workers == 0 || n_workers > n_components {
        return Err(ConfigError::OutOfRangeInt {
            field: "n_workers",
            value: n_workers as i128,
            allowed: "[1, n_components]",
        });
    }
    let mut order: Vec<usize> = (0..n_components).collect();
    match split {
        ShardSplit::Homogeneous { seed } => order.shuffle(&mut seed.rng()),
        ShardSplit::LabelSorted { labels } => {
            if labels.len() != n_components {
                return Err(ConfigError::Dim {
                    op: "split_indices: labels",
                    expected: n_components,
                    got: labels.len(),
                });
            }
            order.sort_by(|&a, &b| labels[a].total_cmp(&labels[b]));
        }
    }
    Ok((0..n_workers)
        .map(|j| order[j * n_components / n_workers..(j + 1) * n_components / n_workers].to_vec())
        .collect())
}

/// Worker `j`'s local objective: the components `indices` of `problem`, as a
/// [`FiniteSum`] in its own right,
///
/// $$ f_j(x) = \frac{1}{|S_j|} \sum_{i \in S_j} f_i(x), $$
///
/// with `S_j = indices` (repetitions count twice); component `k` of the shard is
/// component `indices[k]` of `problem`. With
/// [`MinibatchOracle`](gdlab_core::objective::MinibatchOracle) over a shard, a worker
/// samples only its own data.
///
/// When the shards have equal sizes, `(1/n) Σ_j f_j = f`; with [`split_indices`] they
/// differ by at most one component, so the two agree up to that rounding.
///
/// # Examples
/// ```
/// use gdlab_core::objective::{DiagonalQuadraticSum, FiniteSum, Objective};
/// use gdlab_optim::majority_vote::Shard;
/// let f = DiagonalQuadraticSum {
///     curvatures: vec![vec![1.0]; 3],
///     centres: vec![vec![0.0], vec![3.0], vec![6.0]],
/// };
/// let idx = [1, 2];
/// let shard = Shard::new(&f, &idx).unwrap();
/// assert_eq!(shard.n_components(), 2);
/// let mut g = [0.0];
/// shard.loss_grad(&[0.0], &mut g);
/// assert_eq!(g, [-4.5]); // mean of −3 and −6
/// ```
#[derive(Debug)]
pub struct Shard<'a, P: ?Sized> {
    problem: &'a P,
    indices: &'a [usize],
}

// Manual impls: a derive would require `P: Clone`, but only references are copied.
impl<P: ?Sized> Clone for Shard<'_, P> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<P: ?Sized> Copy for Shard<'_, P> {}

impl<'a, P: FiniteSum + ?Sized> Shard<'a, P> {
    /// The shard of `problem` made of the components `indices` (repetitions allowed).
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming `indices` when it is empty or holds an index
    /// `≥ problem.n_components()`.
    pub fn new(problem: &'a P, indices: &'a [usize]) -> Result<Self, ConfigError> {
        let m = problem.n_components();
        if indices.is_empty() {
            return Err(ConfigError::Invalid {
                field: "indices".into(),
                reason: "a shard needs at least one component".into(),
            });
        }
        if let Some(&bad) = indices.iter().find(|&&i| i >= m) {
            return Err(ConfigError::Invalid {
                field: "indices".into(),
                reason: format!("component {bad} is out of range for a problem with {m}"),
            });
        }
        Ok(Shard { problem, indices })
    }

    /// One shard per index list (e.g. the output of [`split_indices`]).
    ///
    /// # Errors
    /// As [`Shard::new`].
    pub fn all(problem: &'a P, splits: &'a [Vec<usize>]) -> Result<Vec<Self>, ConfigError> {
        splits.iter().map(|s| Shard::new(problem, s)).collect()
    }

    /// The component indices of `problem` in this shard.
    #[must_use]
    pub fn indices(&self) -> &'a [usize] {
        self.indices
    }

    /// The whole problem.
    #[must_use]
    pub fn problem(&self) -> &'a P {
        self.problem
    }
}

impl<P: FiniteSum + ?Sized> Objective for Shard<'_, P> {
    fn dim(&self) -> usize {
        self.problem.dim()
    }
    fn loss(&self, x: &[f64]) -> f64 {
        let mut g = vec![0.0; x.len()];
        self.loss_grad(x, &mut g)
    }
    fn loss_grad(&self, x: &[f64], grad: &mut [f64]) -> f64 {
        self.problem.minibatch_loss_grad(self.indices, x, grad)
    }
}

impl<P: FiniteSum + ?Sized> FiniteSum for Shard<'_, P> {
    fn n_components(&self) -> usize {
        self.indices.len()
    }
    fn component_loss_grad(&self, i: usize, x: &[f64], grad: &mut [f64]) -> f64 {
        self.problem.component_loss_grad(self.indices[i], x, grad)
    }
}

/// `max_{i, k} |∂_k f_i(x)|` over all components of `problem` at `x`: the estimate of the
/// bound `G` (`‖∇f_j(x; ξ)‖_∞ ≤ G`) used to set Theorem 3's radius `R = 4G` (spec §5a: "G
/// estimated as the max |∂_k f_i| over the data at the start").
///
/// # Panics
/// If `x.len() != problem.dim()` (a programmer error).
#[must_use]
pub fn max_abs_component_grad<P: FiniteSum + ?Sized>(problem: &P, x: &[f64]) -> f64 {
    assert_eq!(x.len(), problem.dim(), "max_abs_component_grad: dimension");
    let mut g = vec![0.0; x.len()];
    (0..problem.n_components()).fold(0.0_f64, |acc, i| {
        problem.component_loss_grad(i, x, &mut g);
        g.iter().fold(acc, |a, v| a.max(v.abs()))
    })
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact values: labels and gradients copied from the same component
mod tests {
    use super::*;
    use gdlab_core::objective::DiagonalQuadraticSum;

    fn is_partition(shards: &[Vec<usize>], m: usize) -> bool {
        let mut all: Vec<usize> = shards.iter().flatten().copied().collect();
        all.sort_unstable();
        all == (0..m).collect::<Vec<_>>()
    }

    #[test]
    fn splits_partition_the_indices_in_balanced_blocks() {
        let labels: Vec<f64> = (0..103).map(|i| f64::from((i * 7) % 5)).collect();
        for n in [1, 2, 4, 8, 103] {
            for split in [
                ShardSplit::Homogeneous { seed: Seed(3) },
                ShardSplit::LabelSorted { labels: &labels },
            ] {
                let shards = split_indices(103, n, &split).unwrap();
                assert_eq!(shards.len(), n);
                assert!(is_partition(&shards, 103), "{split:?} n = {n}");
                let (lo, hi) = shards.iter().fold((usize::MAX, 0), |(lo, hi), s| {
                    (lo.min(s.len()), hi.max(s.len()))
                });
                assert!(lo >= 1 && hi - lo <= 1, "sizes {lo}..{hi}");
            }
        }
    }

    #[test]
    fn homogeneous_split_is_a_seeded_permutation() {
        let a = split_indices(50, 4, &ShardSplit::Homogeneous { seed: Seed(1) }).unwrap();
        let b = split_indices(50, 4, &ShardSplit::Homogeneous { seed: Seed(1) }).unwrap();
        let c = split_indices(50, 4, &ShardSplit::Homogeneous { seed: Seed(2) }).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
        // Not the identity order (probability 1/50! of a false failure).
        assert_ne!(a.concat(), (0..50).collect::<Vec<_>>());
    }

    #[test]
    fn heterogeneous_split_is_label_sorted() {
        // Two classes, interleaved; 4 workers: workers 0–1 must hold only class 0.
        let labels: Vec<f64> = (0..40).map(|i| f64::from(i % 2)).collect();
        let shards = split_indices(40, 4, &ShardSplit::LabelSorted { labels: &labels }).unwrap();
        let worker_labels: Vec<Vec<f64>> = shards
            .iter()
            .map(|s| s.iter().map(|&i| labels[i]).collect())
            .collect();
        assert!(worker_labels[0]
            .iter()
            .chain(&worker_labels[1])
            .all(|&l| l == 0.0));
        assert!(worker_labels[2]
            .iter()
            .chain(&worker_labels[3])
            .all(|&l| l == 1.0));
        // Labels are non-decreasing along the concatenated shards; ties keep index order.
        let flat = shards.concat();
        assert!(flat
            .windows(2)
            .all(|w| labels[w[0]] < labels[w[1]] || (labels[w[0]] == labels[w[1]] && w[0] < w[1])));
    }

    #[test]
    fn bad_splits_are_errors() {
        let e = split_indices(10, 0, &ShardSplit::Homogeneous { seed: Seed(0) }).unwrap_err();
        assert!(e.to_string().contains("n_workers"), "{e}");
        let e = split_indices(3, 4, &ShardSplit::Homogeneous { seed: Seed(0) }).unwrap_err();
        assert!(e.to_string().contains("n_workers"), "{e}");
        let e = split_indices(3, 2, &ShardSplit::LabelSorted { labels: &[1.0] }).unwrap_err();
        assert!(matches!(
            e,
            ConfigError::Dim {
                expected: 3,
                got: 1,
                ..
            }
        ));
    }

    #[test]
    fn shard_is_the_mean_of_its_components() {
        let f = DiagonalQuadraticSum {
            curvatures: vec![
                vec![1.0, 2.0],
                vec![3.0, 0.5],
                vec![0.0, 1.0],
                vec![2.0, 2.0],
            ],
            centres: vec![
                vec![1.0, -1.0],
                vec![2.0, 0.0],
                vec![5.0, 4.0],
                vec![-1.0, 1.0],
            ],
        };
        let idx = [3, 0];
        let s = Shard::new(&f, &idx).unwrap();
        assert_eq!(s.dim(), 2);
        let x = [0.3, -0.7];
        let (mut g, mut g3, mut g0) = ([0.0; 2], [0.0; 2], [0.0; 2]);
        let l = s.loss_grad(&x, &mut g);
        let l3 = f.component_loss_grad(3, &x, &mut g3);
        let l0 = f.component_loss_grad(0, &x, &mut g0);
        gdlab_core::assert_close!(l, 0.5 * (l3 + l0), rel = 1e-15);
        gdlab_core::assert_close!(
            g,
            [0.5 * (g3[0] + g0[0]), 0.5 * (g3[1] + g0[1])],
            rel = 1e-15
        );
        let mut gc = [0.0; 2];
        s.component_loss_grad(0, &x, &mut gc);
        assert_eq!(gc, g3);
        assert!(Shard::new(&f, &[]).is_err());
        assert!(Shard::new(&f, &[4])
            .unwrap_err()
            .to_string()
            .contains("indices"));
        // G estimate: the largest |∂_k f_i| over components.
        let g_max = max_abs_component_grad(&f, &x);
        gdlab_core::assert_close!(g_max, 3.0 * (2.0 - 0.3), rel = 1e-15); // component 1, coordinate 0
    }
}
