//! The MMO estimator against an independent NumPy transcription of the authors'
//! `alpha_estimator` and `get_5_good_fiv`, on SαS(1.5) samples from
//! `scipy.stats.levy_stable` (fixture made by `scripts/reference/levy_stable_fixture.py`):
//!
//! ```python
//! y = np.sum(x.reshape(k2, m, -1), axis=1)
//! y_log_norm = np.log(np.linalg.norm(y, axis=1) + eps).mean()
//! x_log_norm = np.log(np.linalg.norm(x, axis=1) + eps).mean()
//! return 1.0 / ((y_log_norm - x_log_norm) / math.log(m))
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers

use gdlab_diagnostics::k1::{get_5_good_fiv, K1Rule};
use gdlab_diagnostics::mmo::mmo_multi;
use gdlab_diagnostics::trajectory::{tail_index, TailIndexConfig};

fn samples() -> Vec<f64> {
    include_str!("fixtures/levy_stable_1p5.csv")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.trim().parse().unwrap())
        .collect()
}

fn fixture() -> serde_json::Value {
    serde_json::from_str(include_str!("fixtures/levy_stable_1p5.json")).unwrap()
}

/// Same plan and per-K1 values as NumPy at `rel ≤ 1e-12` (f64 vs f64, the same algorithm;
/// the only difference is NumPy's pairwise summation in `mean`).
#[test]
fn mmo_matches_numpy_reference_per_k1() {
    let x = samples();
    let f = fixture();
    assert_eq!(x.len(), 10_000);
    let (sz, k1s) = get_5_good_fiv(x.len()).unwrap();
    assert_eq!(sz as u64, f["sz"].as_u64().unwrap());
    let want: Vec<usize> = f["k1s"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    assert_eq!(k1s, want);
    let mean = x.iter().sum::<f64>() / x.len() as f64;
    let z: Vec<f64> = x.iter().map(|v| v - mean).collect();
    let m = mmo_multi(&z[z.len() - sz..], 1, &k1s).unwrap();
    for ((k1, ours), theirs) in m.per_k1.iter().zip(f["per_k1"].as_array().unwrap()) {
        assert_eq!(*k1 as u64, theirs[0].as_u64().unwrap());
        gdlab_core::assert_close!(*ours, theirs[1].as_f64().unwrap(), rel = 1e-12);
    }
    let med = f["median_over_k1"].as_f64().unwrap();
    gdlab_core::assert_close!(m.estimate.value, med, rel = 1e-12);
    // The projected estimator on one column: every direction is ±1, so every direction
    // gives the same median over K1.
    let ti = tail_index(&x, x.len(), 1, &TailIndexConfig::default()).unwrap();
    assert_eq!(ti.plan.k1s, k1s);
    for v in &ti.per_direction {
        gdlab_core::assert_close!(*v, med, rel = 1e-12);
    }
    // And the acceptance criterion of issue 8: 1.5 ± 0.1.
    assert!(
        (ti.estimate.value - 1.5).abs() <= 0.1,
        "{}",
        ti.estimate.value
    );
    assert_eq!(K1Rule::Reference.plan(x.len()).unwrap().k1s, k1s);
}
