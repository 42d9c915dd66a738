//! gdlab-wasserstein against POT (Python Optimal Transport) on the committed fixture
//! `tests/fixtures/pot_reference.json`, made by `scripts/reference/wasserstein_pot.py`:
//!
//! ```python
//! sw = ot.sliced_wasserstein_distance(X, Y, a, b, projections=theta)   # theta: d × L
//! sw = ot.sliced_wasserstein_distance(X, Y, n_projections=L, seed=seed)
//! w  = ot.gaussian.bures_wasserstein_distance(m0, m1, S0, S1)
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used)]

use gdlab_core::Seed;
use gdlab_wasserstein::discrepancy::SlicedWasserstein;
use gdlab_wasserstein::gaussian::w2_squared;
use gdlab_wasserstein::matrix::SpdMatrix;
use gdlab_wasserstein::Particles;
use serde_json::Value;

fn fixture() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/pot_reference.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn rows(v: &Value) -> Vec<Vec<f64>> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect()
        })
        .collect()
}

/// Same directions as POT: the same 1-D exact OT problems, summed in a different order, so
/// the tolerance is the f64 one for independent implementations (1e-12 relative).
#[test]
fn sliced_wasserstein_matches_pot_with_the_same_directions() {
    let f = fixture();
    for case in f["sliced_exact"].as_array().unwrap() {
        let x = Particles::from_rows(&rows(&case["x"])).unwrap();
        let y = Particles::from_rows(&rows(&case["y"])).unwrap();
        let dirs: Vec<f64> = rows(&case["directions"]).concat();
        let sw = SlicedWasserstein::with_directions(y, dirs).unwrap();
        let ours = sw.distance(&x).unwrap();
        let pot = case["sw"].as_f64().unwrap();
        gdlab_core::assert_close!(ours, pot, rel = gdlab_core::tol::REL_INDEPENDENT_F64);
    }
}

/// Independent random directions (ours from a gdlab seed, POT's from its own seed): both
/// are means of L i.i.d. per-direction costs c_θ, so their SW₂² differ by a random error of
/// standard deviation √(2/L)·sd(c_θ); the bound is 5 such standard deviations, with
/// sd(c_θ) estimated from our L per-direction costs.
#[test]
fn sliced_wasserstein_random_directions_agree_within_the_projection_error() {
    let f = fixture();
    let case = &f["sliced_random"][0];
    let l = case["n_projections"].as_u64().unwrap() as usize;
    let x = Particles::from_rows(&rows(&case["x"])).unwrap();
    let y = Particles::from_rows(&rows(&case["y"])).unwrap();
    let sw = SlicedWasserstein::random(y, l, Seed(2024)).unwrap();
    let costs = sw.sw2_per_direction(&x).unwrap();
    let mean = costs.iter().sum::<f64>() / l as f64;
    let var = costs.iter().map(|c| (c - mean).powi(2)).sum::<f64>() / (l as f64 - 1.0);
    let tol = 5.0 * (2.0 * var / l as f64).sqrt();
    let pot = case["sw"].as_f64().unwrap();
    let diff = (mean - pot * pot).abs();
    assert!(
        diff <= tol,
        "SW₂²: ours {mean}, POT {}, |Δ| {diff} > {tol}",
        pot * pot
    );
    // and the tolerance is meaningful: far below the value itself
    assert!(tol < 0.15 * mean, "tolerance {tol} vs value {mean}");
}

/// Gaussian W₂ closed form vs POT's Bures–Wasserstein distance (an independent f64
/// implementation through scipy's `sqrtm`): 1e-10 relative (POT's `sqrtm` route loses a few
/// digits more than the symmetric eigendecomposition).
#[test]
fn gaussian_w2_matches_pot() {
    let f = fixture();
    for case in f["gaussian_w2"].as_array().unwrap() {
        let vec = |k: &str| -> Vec<f64> {
            case[k]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect()
        };
        let s0 = SpdMatrix::from_rows("S0", &rows(&case["s0"])).unwrap();
        let s1 = SpdMatrix::from_rows("S1", &rows(&case["s1"])).unwrap();
        let ours = w2_squared(&vec("m0"), &s0, &vec("m1"), &s1).unwrap().sqrt();
        gdlab_core::assert_close!(ours, case["w2"].as_f64().unwrap(), rel = 1e-10);
    }
}
