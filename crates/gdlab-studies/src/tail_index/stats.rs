//! Rank correlations: Spearman's ρ and Kendall's τ-b.

/// Ranks `1..=n` with ties given their average rank.
fn ranks(x: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..x.len()).collect();
    idx.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let mut r = vec![0.0; x.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && x[idx[j + 1]].total_cmp(&x[idx[i]]).is_eq() {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            r[k] = avg;
        }
        i = j + 1;
    }
    r
}

fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let mut sab = 0.0;
    let mut saa = 0.0;
    let mut sbb = 0.0;
    for (x, y) in a.iter().zip(b) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma) * (x - ma);
        sbb += (y - mb) * (y - mb);
    }
    sab / (saa * sbb).sqrt()
}

/// Spearman's rank correlation (Pearson correlation of average ranks); NaN for fewer than
/// two points, different lengths or a constant input.
///
/// # Examples
/// ```
/// use gdlab_studies::tail_index::stats::spearman;
/// assert_eq!(spearman(&[1.0, 2.0, 3.0], &[10.0, 20.0, 15.0]), 0.5);
/// ```
#[must_use]
pub fn spearman(a: &[f64], b: &[f64]) -> f64 {
    if a.len() != b.len() || a.len() < 2 {
        return f64::NAN;
    }
    pearson(&ranks(a), &ranks(b))
}

/// Kendall's τ-b: `(C − D)/√((n₀ − n₁)(n₀ − n₂))` with ties in either variable corrected
/// for (as `scipy.stats.kendalltau`'s default); NaN for fewer than two points or a
/// constant input.
///
/// # Examples
/// ```
/// use gdlab_studies::tail_index::stats::kendall_tau_b;
/// // One discordant pair out of three.
/// assert!((kendall_tau_b(&[1.0, 2.0, 3.0], &[1.0, 3.0, 2.0]) - 1.0 / 3.0).abs() < 1e-15);
/// ```
#[must_use]
pub fn kendall_tau_b(a: &[f64], b: &[f64]) -> f64 {
    if a.len() != b.len() || a.len() < 2 {
        return f64::NAN;
    }
    let (mut c, mut d, mut ta, mut tb) = (0i64, 0i64, 0i64, 0i64);
    for i in 0..a.len() {
        for j in i + 1..a.len() {
            let (da, db) = (a[i].total_cmp(&a[j]), b[i].total_cmp(&b[j]));
            match (da.is_eq(), db.is_eq()) {
                (true, true) => {}
                (true, false) => ta += 1,
                (false, true) => tb += 1,
                (false, false) => {
                    if da == db {
                        c += 1;
                    } else {
                        d += 1;
                    }
                }
            }
        }
    }
    let denom = (((c + d + ta) * (c + d + tb)) as f64).sqrt();
    (c - d) as f64 / denom
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact small-integer arithmetic
mod tests {
    use super::*;

    /// Values from `scipy.stats.spearmanr` / `kendalltau` worked by hand on tiny inputs.
    #[test]
    fn hand_computed_values() {
        // Perfect and reversed order.
        assert_eq!(spearman(&[1.0, 2.0, 3.0, 4.0], &[2.0, 4.0, 6.0, 8.0]), 1.0);
        assert_eq!(
            kendall_tau_b(&[1.0, 2.0, 3.0, 4.0], &[4.0, 3.0, 2.0, 1.0]),
            -1.0
        );
        // Ties: a = [1, 2, 2, 3], b = [1, 3, 2, 4]: ranks a = [1, 2.5, 2.5, 4];
        // pairs: C = 5, D = 0, ties only in a: 1 → τ_b = 5/√(6·5) = 0.912870929…
        let tau = kendall_tau_b(&[1.0, 2.0, 2.0, 3.0], &[1.0, 3.0, 2.0, 4.0]);
        assert!((tau - 5.0 / 30f64.sqrt()).abs() < 1e-15);
        // Spearman of ranks [1, 2.5, 2.5, 4] vs [1, 3, 2, 4]: cov = 4.5, var_a = 4.5,
        // var_b = 5 → 4.5/√22.5 = 0.948683298…
        let rho = spearman(&[1.0, 2.0, 2.0, 3.0], &[1.0, 3.0, 2.0, 4.0]);
        assert!((rho - 4.5 / 22.5f64.sqrt()).abs() < 1e-15);
        assert!(spearman(&[1.0], &[1.0]).is_nan());
        assert!(spearman(&[1.0, 1.0], &[1.0, 2.0]).is_nan());
    }
}
