//! Per-frequency-group losses, the paper's key diagnostic (spec §1).
//!
//! Classes are sorted by decreasing frequency and cut into `G` groups that each hold about
//! `1/G` of the **samples** (not of the classes). With `cum` the cumulative sample
//! fraction of the sorted classes, the cuts are at `idx_j = searchsorted(cum, j/G,
//! side="left")` for `j = 1..G−1`, and the sorted list is split after each `idx_j`
//! (`np.split(sorted, idx + 1)`, authors' `split_classes_by_frequency`). Group 1 holds the
//! most frequent classes (often one class), group `G` the long tail. A group can be empty
//! when one class holds more than `1/G` of the samples; its loss is then `None`.
//!
//! The group loss is the mean per-sample loss over the samples whose label is in the group,
//! `Σ_{k∈g} n_k L_k / Σ_{k∈g} n_k`. Only classes that occur (`n_k > 0`) take part, as in
//! the authors' code (`np.unique`).
//!
//! **Ties** in frequency are ordered by decreasing class id: the authors flip an ascending
//! argsort, and we take that argsort to be stable (NumPy's default sort is not stable, so
//! the authors' tie order is not specified; it matters only for the membership of tied
//! classes at a cut).

use crate::error::{ImbalanceError, Result};

/// A partition of the classes into frequency groups.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrequencyGroups {
    /// `groups[g]` lists the class ids of group `g` (0-based; group 0 = most frequent),
    /// in decreasing frequency.
    pub groups: Vec<Vec<usize>>,
    /// Samples per group, `Σ_{k∈g} n_k`.
    pub sample_counts: Vec<u64>,
    /// `group_of[k]` = the group of class `k`, `None` for a class with `n_k = 0`.
    pub group_of: Vec<Option<usize>>,
}

impl FrequencyGroups {
    /// Splits classes with sample counts `class_counts` (`n_k`, indexed by class id) into
    /// `n_groups` groups by sample mass (module docs).
    ///
    /// # Errors
    /// [`gdlab_core::ConfigError::OutOfRangeInt`] if `n_groups == 0` or no class has a
    /// sample.
    ///
    /// # Examples
    /// ```
    /// use gdlab_imbalance::groups::FrequencyGroups;
    /// // 4 classes with 5, 3, 1, 1 samples (n = 10), 2 groups: cum = [.5, .8, .9, 1].
    /// // searchsorted(cum, 0.5, left) = 0, so the split is after the first class.
    /// let g = FrequencyGroups::from_counts(&[5, 3, 1, 1], 2).unwrap();
    /// assert_eq!(g.groups, vec![vec![0], vec![1, 3, 2]]);
    /// assert_eq!(g.sample_counts, vec![5, 5]);
    /// ```
    pub fn from_counts(class_counts: &[u64], n_groups: usize) -> Result<Self> {
        if n_groups == 0 {
            return Err(gdlab_core::ConfigError::OutOfRangeInt {
                field: "n_groups",
                value: 0,
                allowed: "[1, ∞)",
            }
            .into());
        }
        let total: u64 = class_counts.iter().sum();
        if total == 0 {
            return Err(gdlab_core::ConfigError::OutOfRangeInt {
                field: "total sample count",
                value: 0,
                allowed: "[1, ∞)",
            }
            .into());
        }
        // Present classes, ascending (count, id) — a stable ascending argsort — then flipped.
        let mut sorted: Vec<usize> = (0..class_counts.len())
            .filter(|&k| class_counts[k] > 0)
            .collect();
        sorted.sort_by_key(|&k| (class_counts[k], k));
        sorted.reverse();
        // cum = cumsum(n_k / n) in sorted order, summed left to right as np.cumsum does.
        let mut cum = Vec::with_capacity(sorted.len());
        let mut acc = 0.0_f64;
        for &k in &sorted {
            acc += class_counts[k] as f64 / total as f64;
            cum.push(acc);
        }
        // Breakpoints as np.linspace(0, 1, G, endpoint=False)[1:] computes them: j · (1/G)
        // (so 3 · 0.1 = 0.30000000000000004, not 0.3).
        let step = 1.0 / n_groups as f64;
        let mut cuts = Vec::with_capacity(n_groups);
        for j in 1..n_groups {
            let bp = j as f64 * step;
            // searchsorted side="left": first index i with cum[i] >= bp.
            let idx = cum.partition_point(|&v| v < bp);
            cuts.push((idx + 1).min(sorted.len()));
        }
        let mut groups = Vec::with_capacity(n_groups);
        let mut start = 0;
        for &cut in &cuts {
            let end = cut.max(start);
            groups.push(sorted[start..end].to_vec());
            start = end;
        }
        groups.push(sorted[start..].to_vec());
        let mut group_of = vec![None; class_counts.len()];
        let mut sample_counts = vec![0_u64; n_groups];
        for (g, members) in groups.iter().enumerate() {
            for &k in members {
                group_of[k] = Some(g);
                sample_counts[g] += class_counts[k];
            }
        }
        Ok(FrequencyGroups {
            groups,
            sample_counts,
            group_of,
        })
    }

    /// Groups for the labels of a data set with `n_classes` classes.
    ///
    /// # Errors
    /// As [`FrequencyGroups::from_counts`]; [`ImbalanceError::Label`] for a label
    /// `≥ n_classes`.
    pub fn from_labels(labels: &[usize], n_classes: usize, n_groups: usize) -> Result<Self> {
        Self::from_counts(&class_counts(labels, n_classes)?, n_groups)
    }

    /// Number of groups `G`.
    #[must_use]
    pub fn n_groups(&self) -> usize {
        self.groups.len()
    }

    /// Group losses from per-class loss **sums** `Σ_{i: y_i = k} ℓ_i` (indexed by class):
    /// `Σ_{k∈g} sum_k / Σ_{k∈g} n_k`, `None` for an empty group.
    ///
    /// # Errors
    /// [`ImbalanceError::Dim`] if `class_loss_sums` does not have one entry per class.
    pub fn group_losses_from_class_sums(
        &self,
        class_loss_sums: &[f64],
    ) -> Result<Vec<Option<f64>>> {
        if class_loss_sums.len() != self.group_of.len() {
            return Err(ImbalanceError::dim(
                "group_losses_from_class_sums (one sum per class)",
                self.group_of.len(),
                class_loss_sums.len(),
            ));
        }
        Ok(self
            .groups
            .iter()
            .zip(&self.sample_counts)
            .map(|(members, &n)| {
                (n > 0).then(|| members.iter().map(|&k| class_loss_sums[k]).sum::<f64>() / n as f64)
            })
            .collect())
    }

    /// Group losses from labels and per-sample losses.
    ///
    /// # Errors
    /// [`ImbalanceError::Dim`] if the lengths differ; [`ImbalanceError::Label`] for a
    /// label outside the classes the groups were built for.
    pub fn group_losses(&self, labels: &[usize], losses: &[f64]) -> Result<Vec<Option<f64>>> {
        self.group_losses_from_class_sums(&class_loss_sums(labels, losses, self.group_of.len())?)
    }

    /// Mean per-sample loss over the samples of groups `range` (0-based, e.g. `5..10` for
    /// the paper's groups 6–10), from per-class loss sums; `None` if they hold no sample.
    ///
    /// # Errors
    /// As [`FrequencyGroups::group_losses_from_class_sums`].
    pub fn pooled_loss_from_class_sums(
        &self,
        class_loss_sums: &[f64],
        range: std::ops::Range<usize>,
    ) -> Result<Option<f64>> {
        let per_group = self.group_losses_from_class_sums(class_loss_sums)?;
        let (mut s, mut n) = (0.0, 0_u64);
        for g in range.filter(|&g| g < self.n_groups()) {
            if let Some(l) = per_group[g] {
                s += l * self.sample_counts[g] as f64;
                n += self.sample_counts[g];
            }
        }
        Ok((n > 0).then(|| s / n as f64))
    }
}

/// `n_k` for labels in `0..n_classes`.
///
/// # Errors
/// [`ImbalanceError::Label`] for a label `≥ n_classes`.
pub fn class_counts(labels: &[usize], n_classes: usize) -> Result<Vec<u64>> {
    let mut counts = vec![0_u64; n_classes];
    for (index, &label) in labels.iter().enumerate() {
        *counts.get_mut(label).ok_or(ImbalanceError::Label {
            index,
            label,
            n_classes,
        })? += 1;
    }
    Ok(counts)
}

/// Per-class loss sums `Σ_{i: y_i = k} ℓ_i`, in index order.
///
/// # Errors
/// [`ImbalanceError::Dim`] if the lengths differ; [`ImbalanceError::Label`] for a label
/// `≥ n_classes`.
pub fn class_loss_sums(labels: &[usize], losses: &[f64], n_classes: usize) -> Result<Vec<f64>> {
    if labels.len() != losses.len() {
        return Err(ImbalanceError::dim(
            "class_loss_sums (one loss per label)",
            labels.len(),
            losses.len(),
        ));
    }
    let mut sums = vec![0.0; n_classes];
    for (index, (&label, &l)) in labels.iter().zip(losses).enumerate() {
        *sums.get_mut(label).ok_or(ImbalanceError::Label {
            index,
            label,
            n_classes,
        })? += l;
    }
    Ok(sums)
}

/// The paper's diagnostic in one call: group losses for `labels` and per-sample `losses`
/// with `n_groups` groups by sample mass.
///
/// # Errors
/// As [`FrequencyGroups::from_labels`] and [`FrequencyGroups::group_losses`].
///
/// # Examples
/// ```
/// use gdlab_imbalance::groups::per_group_loss;
/// let labels = [0, 0, 0, 1, 2];
/// let losses = [1.0, 2.0, 3.0, 10.0, 20.0];
/// // Sorted: 0 (3 samples), then the tie 2, 1 (higher id first); cum = [.6, .8, 1].
/// let g = per_group_loss(&labels, &losses, 3, 2).unwrap();
/// assert_eq!(g, vec![Some(2.0), Some(15.0)]);
/// ```
pub fn per_group_loss(
    labels: &[usize],
    losses: &[f64],
    n_classes: usize,
    n_groups: usize,
) -> Result<Vec<Option<f64>>> {
    FrequencyGroups::from_labels(labels, n_classes, n_groups)?.group_losses(labels, losses)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_example() {
        // n = 100; classes by id with 15, 40, 4, 25, 10, 6 samples.
        // Sorted by decreasing count: 1 (40), 3 (25), 0 (15), 4 (10), 5 (6), 2 (4).
        // cum = .40 .65 .80 .90 .96 1; breakpoints (G = 4) .25 .5 .75 (no ties with cum).
        // searchsorted left → 0, 1, 2; split after 1, 2, 3 classes:
        // groups [1] [3] [0] [4 5 2] with 40, 25, 15, 20 samples.
        let counts = [15, 40, 4, 25, 10, 6];
        let g = FrequencyGroups::from_counts(&counts, 4).unwrap();
        assert_eq!(g.groups, vec![vec![1], vec![3], vec![0], vec![4, 5, 2]]);
        assert_eq!(g.sample_counts, vec![40, 25, 15, 20]);
        // Class k has mean loss k + 1: per-class sums n_k (k + 1).
        let sums: Vec<f64> = counts
            .iter()
            .enumerate()
            .map(|(k, &n)| n as f64 * (k + 1) as f64)
            .collect();
        let gl = g.group_losses_from_class_sums(&sums).unwrap();
        // Last group: (10·5 + 6·6 + 4·3)/20 = 98/20 = 4.9.
        assert_eq!(gl, vec![Some(2.0), Some(4.0), Some(1.0), Some(4.9)]);
        // Groups 3–4 pooled: (15·1 + 98)/35.
        let pooled = g.pooled_loss_from_class_sums(&sums, 2..4).unwrap().unwrap();
        assert!((pooled - 113.0 / 35.0).abs() < 1e-15);
    }

    #[test]
    fn ties_and_empty_groups_follow_numpy_float_semantics() {
        // Counts by class id; class 10 absent. n = 100.
        let counts = [20, 10, 10, 30, 5, 5, 5, 5, 5, 5, 0];
        // Sorted (desc count, ties by desc id): 3, 0, 2, 1, 9, 8, 7, 6, 5, 4.
        // np.cumsum of n_k/n: .3 .5 .6 .7 .75 .8 .8500000000000001 .9000000000000001 ...
        // np.linspace(0, 1, 10, endpoint=False)[1:] = j·0.1: .1 .2 .30000000000000004 .4
        // .5 .6000000000000001 .7000000000000001 .8 .9.
        // searchsorted left → 0 0 1 1 1 3 4 5 7; split after 1 1 2 2 2 4 5 6 8
        // (transcribed in Python with the same float operations).
        let g = FrequencyGroups::from_counts(&counts, 10).unwrap();
        let expected: Vec<Vec<usize>> = vec![
            vec![3],
            vec![],
            vec![0],
            vec![],
            vec![],
            vec![2, 1],
            vec![9],
            vec![8],
            vec![7, 6],
            vec![5, 4],
        ];
        assert_eq!(g.groups, expected);
        assert_eq!(g.sample_counts, vec![30, 0, 20, 0, 0, 20, 5, 5, 10, 10]);
        assert_eq!(g.group_of[10], None);
        let sums = vec![1.0; 11];
        let gl = g.group_losses_from_class_sums(&sums).unwrap();
        assert_eq!(gl[1], None);
        assert_eq!(gl[0], Some(1.0 / 30.0));
    }

    #[test]
    fn per_sample_and_per_class_paths_agree() {
        let labels: Vec<usize> = (0..200).map(|i| (i * i) % 13).collect();
        let losses: Vec<f64> = (0..200).map(|i| (i as f64).sin().abs()).collect();
        let g = FrequencyGroups::from_labels(&labels, 13, 4).unwrap();
        let a = g.group_losses(&labels, &losses).unwrap();
        // Brute force: mean over samples whose label is in the group.
        for (gi, members) in g.groups.iter().enumerate() {
            let sel: Vec<f64> = labels
                .iter()
                .zip(&losses)
                .filter(|(y, _)| members.contains(y))
                .map(|(_, &l)| l)
                .collect();
            match a[gi] {
                Some(v) => {
                    let m = sel.iter().sum::<f64>() / sel.len() as f64;
                    assert!((v - m).abs() < 1e-12);
                }
                None => assert!(sel.is_empty()),
            }
        }
        // Every present class is in exactly one group.
        let total: usize = g.groups.iter().map(Vec::len).sum();
        assert_eq!(total, g.group_of.iter().filter(|x| x.is_some()).count());
    }

    #[test]
    fn one_group_is_the_overall_mean_and_errors_are_named() {
        let g = per_group_loss(&[0, 1, 1], &[3.0, 1.0, 2.0], 2, 1).unwrap();
        assert_eq!(g, vec![Some(2.0)]);
        assert!(per_group_loss(&[0, 5], &[1.0, 1.0], 2, 2).is_err());
        assert!(per_group_loss(&[0, 1], &[1.0], 2, 2).is_err());
        assert!(FrequencyGroups::from_counts(&[1, 2], 0).is_err());
        assert!(FrequencyGroups::from_counts(&[0, 0], 2).is_err());
    }
}
