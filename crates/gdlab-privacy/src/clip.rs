//! Per-example L2 clipping (spec §1.1): each example's gradient is scaled to norm at most
//! `clip_norm`, then the clipped gradients are summed (in index order).

use gdlab_core::ConfigError;

use crate::error::Result;

/// Clips each row of `per_example` (`n_examples × dim`, row-major) to L2 norm
/// `clip_norm` and writes their sum into `sum` (overwritten). Returns how many rows were
/// scaled down. A row with norm `‖g‖ > clip_norm` is multiplied by `clip_norm/‖g‖`.
///
/// # Errors
/// [`ConfigError`] if `clip_norm` is not positive and finite, or the lengths do not fit.
///
/// # Examples
/// ```
/// use gdlab_privacy::clip::clip_and_sum;
/// let g = [3.0, 4.0, 0.3, 0.4]; // norms 5 and 0.5
/// let mut s = [0.0; 2];
/// let clipped = clip_and_sum(&g, 2, 1.0, &mut s).unwrap();
/// assert_eq!(clipped, 1);
/// gdlab_core::assert_close!(s, [0.6 + 0.3, 0.8 + 0.4], rel = 1e-15);
/// ```
pub fn clip_and_sum(
    per_example: &[f64],
    dim: usize,
    clip_norm: f64,
    sum: &mut [f64],
) -> Result<usize> {
    ConfigError::check_positive("clip_norm", clip_norm)?;
    if dim == 0 || per_example.len() % dim != 0 {
        return Err(ConfigError::Dim {
            op: "clip_and_sum: per-example buffer length (a multiple of dim)",
            expected: dim,
            got: per_example.len(),
        }
        .into());
    }
    if sum.len() != dim {
        return Err(ConfigError::Dim {
            op: "clip_and_sum: sum buffer",
            expected: dim,
            got: sum.len(),
        }
        .into());
    }
    sum.iter_mut().for_each(|s| *s = 0.0);
    let mut clipped = 0;
    for row in per_example.chunks_exact(dim) {
        let norm = row.iter().map(|x| x * x).sum::<f64>().sqrt();
        let scale = if norm > clip_norm {
            clipped += 1;
            clip_norm / norm
        } else {
            1.0
        };
        for (s, g) in sum.iter_mut().zip(row) {
            *s += scale * g;
        }
    }
    Ok(clipped)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_clipped_row_has_norm_at_most_clip() {
        let g = [10.0, 0.0, 0.0, -7.0, 0.1, 0.1];
        for (i, row) in g.chunks(2).enumerate() {
            let mut s = [0.0; 2];
            clip_and_sum(row, 2, 0.5, &mut s).unwrap();
            let n = (s[0] * s[0] + s[1] * s[1]).sqrt();
            assert!(n <= 0.5 + 1e-15, "row {i}");
        }
        let mut s = [0.0; 2];
        assert!(clip_and_sum(&g, 4, 1.0, &mut s).is_err());
        assert!(clip_and_sum(&g, 2, 0.0, &mut s).is_err());
    }
}
