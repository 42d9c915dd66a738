//! The oracle least squares on the true support (spec §2.2): the centralized estimator that
//! knows `S`; error ≈ `σ√(s/N)`.

use faer::linalg::solvers::Solve;
use faer::{Mat, Side};

use crate::data::DecentralProblem;
use crate::error::{DecentralError, Result};

/// `ŵ_S = (X_Sᵀ X_S)⁻¹ X_Sᵀ y` on the stacked data, `ŵ_{S^c} = 0` (faer Cholesky).
///
/// # Errors
/// [`DecentralError::Config`] if `X_SᵀX_S` is not positive definite (e.g. fewer samples
/// than `s`).
///
/// # Examples
/// ```
/// use gdlab_core::Seed;
/// use gdlab_decentral::{oracle_least_squares, SparseRegressionConfig};
/// let p = SparseRegressionConfig { noise_std: 0.0, ..Default::default() }.generate(Seed(0)).unwrap();
/// let w = oracle_least_squares(&p).unwrap();
/// assert!(p.error(&w) < 1e-10);
/// ```
pub fn oracle_least_squares(problem: &DecentralProblem) -> Result<Vec<f64>> {
    let s = problem.support();
    let d = problem.dim();
    let k = s.len();
    let mut gram = Mat::<f64>::zeros(k, k);
    let mut rhs = Mat::<f64>::zeros(k, 1);
    for a in problem.agents() {
        for (r, yr) in a.y.iter().enumerate() {
            let row = &a.x[r * d..(r + 1) * d];
            for (p, &jp) in s.iter().enumerate() {
                rhs[(p, 0)] += row[jp] * yr;
                for (q, &jq) in s.iter().enumerate() {
                    gram[(p, q)] += row[jp] * row[jq];
                }
            }
        }
    }
    let llt = gram.llt(Side::Lower).map_err(|e| {
        DecentralError::Config(gdlab_core::ConfigError::Invalid {
            field: "samples".into(),
            reason: format!("X_SᵀX_S is not positive definite ({e:?}); need N ≥ s = {k}"),
        })
    })?;
    let sol = llt.solve(&rhs);
    let mut w = vec![0.0; d];
    for (p, &j) in s.iter().enumerate() {
        w[j] = sol[(p, 0)];
    }
    Ok(w)
}
