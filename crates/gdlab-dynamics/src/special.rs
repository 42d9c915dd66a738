//! Normal distribution helpers: `erf` (from `libm`), the standard normal CDF Φ, density φ
//! and quantile Φ⁻¹, and a Box–Muller normal sampler over the project's generator.

/// The error function (`libm`'s port of FreeBSD's `s_erf.c`, < 1 ulp).
#[must_use]
pub fn erf(x: f64) -> f64 {
    libm::erf(x)
}

/// Standard normal density φ(x).
#[must_use]
pub fn normal_pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// Standard normal CDF Φ(x) = erfc(−x/√2)/2 (accurate in both tails).
///
/// # Examples
/// ```
/// use gdlab_dynamics::special::normal_cdf;
/// assert!((normal_cdf(0.0) - 0.5).abs() < 1e-16);
/// assert!((normal_cdf(1.959963984540054) - 0.975).abs() < 1e-15);
/// ```
#[must_use]
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * libm::erfc(-x / std::f64::consts::SQRT_2)
}

/// Standard normal quantile Φ⁻¹(p) for `p ∈ (0, 1)`; NaN outside.
///
/// Acklam's rational approximation (relative error 1.15e-9) refined by one Halley step on
/// `Φ(x) − p` with the `erfc`-based [`normal_cdf`], which brings it to a few ulp.
#[must_use]
pub fn normal_quantile(p: f64) -> f64 {
    if !(p > 0.0 && p < 1.0) {
        return f64::NAN;
    }
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    const LOW: f64 = 0.02425;
    let x = if p < LOW {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - LOW {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        let q = (-2.0 * (1.0 - p).ln()).sqrt();
        -(((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    // Halley refinement.
    let e = normal_cdf(x) - p;
    let u = e * (2.0 * std::f64::consts::PI).sqrt() * (0.5 * x * x).exp();
    x - u / (1.0 + 0.5 * x * u)
}

/// Uniforms and Box–Muller normals: gdlab-core's documented, value-stable method.
pub use gdlab_core::normal::{fill_normals, uniform};

#[cfg(test)]
mod tests {
    use super::*;
    use gdlab_core::{assert_close, Seed};

    #[test]
    fn cdf_and_quantile() {
        // Reference values: Φ(1) = 0.841344746068543 (Abramowitz & Stegun Table 26.1).
        assert_close!(normal_cdf(1.0), 0.841_344_746_068_543, rel = 1e-14);
        assert_close!(normal_cdf(-3.0), 0.001_349_898_031_630_094_6, rel = 1e-12);
        for p in [1e-10, 0.001, 0.02, 0.3, 0.5, 0.9, 0.975, 0.999_999] {
            let x = normal_quantile(p);
            assert_close!(normal_cdf(x), p, rel = 1e-12);
        }
        assert_close!(normal_quantile(0.975), 1.959_963_984_540_054, rel = 1e-13);
        assert!(normal_quantile(0.0).is_nan() && normal_quantile(1.5).is_nan());
        // erf(x) = 2Φ(x√2) − 1
        for x in [-2.0, -0.3, 0.0, 0.7, 3.0] {
            assert_close!(
                erf(x),
                2.0 * normal_cdf(x * std::f64::consts::SQRT_2) - 1.0,
                abs = 1e-15
            );
        }
    }

    #[test]
    fn normals_have_unit_variance_and_are_stable() {
        let mut rng = Seed(3).rng();
        let mut xs = vec![0.0; 200_001];
        fill_normals(&mut rng, &mut xs);
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
        // 5 standard errors: 1/√n = 0.0022 for the mean, √(2/n) = 0.0032 for the variance.
        assert!(
            mean.abs() < 0.011 && (var - 1.0).abs() < 0.016,
            "{mean} {var}"
        );
        let mut a = vec![0.0; 5];
        let mut b = vec![0.0; 5];
        fill_normals(&mut Seed(9).rng(), &mut a);
        fill_normals(&mut Seed(9).rng(), &mut b);
        assert_eq!(a, b);
    }
}
