//! The teacher-mixture data generator at dimension N (spec §2.1).
//!
//! A random orthonormal frame `e0, e1, e2` (Gaussian vectors, Gram–Schmidt, each scaled to
//! norm √N) carries the shift `v = √v_norm·e0` and the teachers
//! `w̄_+ = a1 e0 + a2 e1`, `w̄_− = b1 e0 + b2 e1 + b3 e2` ([`Frame`]), so that
//! `‖v‖²/N = v_norm`, `w̄_c·v/N = M*_c` and `w̄_a·w̄_c/N = T_ac` hold exactly (up to
//! rounding). A sample is `c = +` w.p. ρ, `x = c·v/√N + √Δ_c·z`, `z ~ N(0, I_N)`,
//! `y = sign(w̄_c·x/√N)` (sign(0) = +1), flipped with probability `p` (spec extension).
//!
//! # Random streams (stable; changing them changes every simulated number)
//! The frame uses `seed.derive("frame")`: three blocks of N normals ([`fill_normals`]).
//! Each sample draws, from the caller's generator, in order: one uniform for the group,
//! one uniform for the label flip (always drawn, used only when `p > 0`), then N normals.

use gdlab_core::{GdRng, Seed};

use crate::model::{Frame, Group, TeacherMixture};
use crate::special::{fill_normals, uniform};

/// Shift and teachers at dimension N, and the per-sample parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct TeacherMixtureData {
    dim: usize,
    /// The shift vector v (‖v‖² = v_norm·N).
    pub shift: Vec<f64>,
    /// The teacher of `+` (‖w̄_+‖² = T_++·N).
    pub teacher_plus: Vec<f64>,
    /// The teacher of `−`.
    pub teacher_minus: Vec<f64>,
    rho: f64,
    sqrt_delta: [f64; 2],
    label_noise: f64,
}

/// One sample's group and label (its input is written into the caller's buffer).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    /// The sub-population.
    pub group: Group,
    /// The label ±1.
    pub label: f64,
    /// `w̄_c·x/√N`, the teacher field before the sign.
    pub teacher_field: f64,
}

impl TeacherMixtureData {
    /// Builds shift and teachers at dimension `dim` from `seed.derive("frame")`.
    ///
    /// # Errors
    /// [`gdlab_core::ConfigError::OutOfRangeInt`] if `dim < 3` (the frame needs three
    /// orthogonal directions).
    pub fn new(model: &TeacherMixture, dim: usize, seed: Seed) -> crate::Result<Self> {
        if dim < 3 {
            return Err(gdlab_core::ConfigError::OutOfRangeInt {
                field: "dim",
                value: dim as i128,
                allowed: "[3, ∞)",
            }
            .into());
        }
        let mut rng = seed.derive("frame").rng();
        let mut e = [vec![0.0; dim], vec![0.0; dim], vec![0.0; dim]];
        for v in &mut e {
            fill_normals(&mut rng, v);
        }
        // Modified Gram–Schmidt, then scale each to norm √N.
        let target = (dim as f64).sqrt();
        for i in 0..3 {
            for j in 0..i {
                let (head, tail) = e.split_at_mut(i);
                let proj = dot(&tail[0], &head[j]) / dot(&head[j], &head[j]);
                for (a, b) in tail[0].iter_mut().zip(&head[j]) {
                    *a -= proj * b;
                }
            }
            let s = target / dot(&e[i], &e[i]).sqrt();
            e[i].iter_mut().for_each(|a| *a *= s);
        }
        let Frame {
            shift,
            teacher_plus: [a1, a2],
            teacher_minus: [b1, b2, b3],
        } = model.frame();
        let comb = |c: [f64; 3]| -> Vec<f64> {
            (0..dim)
                .map(|k| c[0] * e[0][k] + c[1] * e[1][k] + c[2] * e[2][k])
                .collect()
        };
        let cfg = model.config();
        Ok(TeacherMixtureData {
            dim,
            shift: comb([shift, 0.0, 0.0]),
            teacher_plus: comb([a1, a2, 0.0]),
            teacher_minus: comb([b1, b2, b3]),
            rho: cfg.rho,
            sqrt_delta: [cfg.delta_plus.sqrt(), cfg.delta_minus.sqrt()],
            label_noise: cfg.label_noise,
        })
    }

    /// The dimension N.
    #[must_use]
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The teacher of group `c`.
    #[must_use]
    pub fn teacher(&self, c: Group) -> &[f64] {
        match c {
            Group::Plus => &self.teacher_plus,
            Group::Minus => &self.teacher_minus,
        }
    }

    /// Draws one sample into `x` (length N) and returns its group and label.
    ///
    /// # Panics
    /// If `x.len() != N` (a programmer error).
    pub fn sample_into(&self, rng: &mut GdRng, x: &mut [f64]) -> Sample {
        self.sample_with_student(rng, x, None).0
    }

    /// [`TeacherMixtureData::sample_into`], also returning `w·x` for a student `w` computed
    /// in the same pass over the coordinates (0 without a student).
    ///
    /// # Panics
    /// If `x.len() != N` or `w.len() != N` (a programmer error).
    pub fn sample_with_student(
        &self,
        rng: &mut GdRng,
        x: &mut [f64],
        w: Option<&[f64]>,
    ) -> (Sample, f64) {
        assert_eq!(x.len(), self.dim, "sample buffer length");
        let group = if uniform(rng) < self.rho {
            Group::Plus
        } else {
            Group::Minus
        };
        let flip = uniform(rng) < self.label_noise;
        fill_normals(rng, x);
        let sd = self.sqrt_delta[group.index()];
        let mean_scale = group.sign() / (self.dim as f64).sqrt();
        let teacher = self.teacher(group);
        let mut field = 0.0;
        let mut wx = 0.0;
        match w {
            Some(w) => {
                assert_eq!(w.len(), self.dim, "student length");
                for k in 0..self.dim {
                    let xk = mean_scale * self.shift[k] + sd * x[k];
                    x[k] = xk;
                    field += teacher[k] * xk;
                    wx += w[k] * xk;
                }
            }
            None => {
                for k in 0..self.dim {
                    let xk = mean_scale * self.shift[k] + sd * x[k];
                    x[k] = xk;
                    field += teacher[k] * xk;
                }
            }
        }
        field /= (self.dim as f64).sqrt();
        let clean = if field >= 0.0 { 1.0 } else { -1.0 };
        (
            Sample {
                group,
                label: if flip { -clean } else { clean },
                teacher_field: field,
            },
            wx,
        )
    }
}

/// Plain dot product (sequential, fixed order).
#[must_use]
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TeacherMixtureConfig;
    use gdlab_core::assert_close;

    /// First input (4 coordinates) and the − teacher for `Seed(0)` frame / `Seed(1)`
    /// samples on configuration B at N = 4 (label flipped by the 10 % label noise).
    const PINNED: [f64; 8] = [
        0.459_994_912_557_971_1,
        1.211_211_426_655_365_7,
        0.729_699_053_015_313_8,
        -0.856_277_903_772_849_6,
        1.478_694_346_832_184_7,
        0.757_315_132_796_562_8,
        -1.012_691_324_506_812_8,
        0.463_026_024_703_257_2,
    ];
    const PINNED_SAMPLE: (Group, f64) = (Group::Plus, -1.0);

    #[test]
    fn frame_has_the_requested_gram_matrix() {
        let m = TeacherMixtureConfig::config_b().build().unwrap();
        let n = 500;
        let d = TeacherMixtureData::new(&m, n, Seed(1)).unwrap();
        let nf = n as f64;
        let c = m.config();
        assert_close!(dot(&d.shift, &d.shift) / nf, c.shift_norm, rel = 1e-12);
        assert_close!(
            dot(&d.teacher_plus, &d.shift) / nf,
            c.teacher_shift_plus,
            abs = 1e-12
        );
        assert_close!(
            dot(&d.teacher_minus, &d.shift) / nf,
            c.teacher_shift_minus,
            abs = 1e-12
        );
        assert_close!(
            dot(&d.teacher_plus, &d.teacher_minus) / nf,
            c.teacher_overlap,
            abs = 1e-12
        );
        assert_close!(dot(&d.teacher_plus, &d.teacher_plus) / nf, 1.0, rel = 1e-12);
        assert_close!(
            dot(&d.teacher_minus, &d.teacher_minus) / nf,
            1.0,
            rel = 1e-12
        );
        assert!(TeacherMixtureData::new(&m, 2, Seed(1)).is_err());
    }

    /// Empirical group fractions, projected means and variances, label imbalance and label
    /// noise vs the parameters, within 5 standard errors (STYLE §7 Monte Carlo rule).
    #[test]
    fn empirical_moments_match_parameters() {
        let cfg = TeacherMixtureConfig {
            label_noise: 0.1,
            ..TeacherMixtureConfig::config_b()
        };
        let m = cfg.build().unwrap();
        let n = 200;
        let d = TeacherMixtureData::new(&m, n, Seed(5)).unwrap();
        let mut rng = Seed(6).rng();
        let mut x = vec![0.0; n];
        let samples = 40_000;
        let nf = n as f64;
        let vhat: Vec<f64> = d.shift.iter().map(|s| s / cfg.shift_norm.sqrt()).collect();
        // Random unit direction orthogonal-ish to the frame: the first coordinate axis.
        let mut count = [0usize; 2];
        let mut proj_sum = [0.0; 2]; // Σ v̂·x/√N  (mean: c·√v_norm)
        let mut axis_sq = [0.0; 2]; // Σ x_0²      (≈ Δ_c + O(1/N))
        let mut sq_norm = [0.0; 2]; // Σ ‖x‖²/N   (mean Δ_c + v/N)
        let mut label_sum = [0.0; 2]; // Σ y
        let mut flips = 0usize;
        for _ in 0..samples {
            let s = d.sample_into(&mut rng, &mut x);
            let i = s.group.index();
            count[i] += 1;
            proj_sum[i] += dot(&vhat, &x) / nf.sqrt();
            axis_sq[i] += x[0] * x[0];
            sq_norm[i] += dot(&x, &x) / nf;
            label_sum[i] += s.label;
            if (s.label > 0.0) != (s.teacher_field >= 0.0) {
                flips += 1;
            }
        }
        let sf = samples as f64;
        let rho = count[0] as f64 / sf;
        assert!((rho - cfg.rho).abs() < 5.0 * (cfg.rho * (1.0 - cfg.rho) / sf).sqrt());
        let pf = flips as f64 / sf;
        assert!((pf - 0.1).abs() < 5.0 * (0.09 / sf).sqrt(), "{pf}");
        for c in Group::BOTH {
            let i = c.index();
            let k = count[i] as f64;
            let delta = m.delta(c);
            // projected mean c·√v (s.d. of one projection √Δ_c)
            let mean = proj_sum[i] / k;
            assert!((mean - c.sign() * cfg.shift_norm.sqrt()).abs() < 5.0 * (delta / k).sqrt());
            // one coordinate's second moment Δ_c + v·e0[0]²/N (variance 2Δ² per draw)
            let mu0 = c.sign() * d.shift[0] / nf.sqrt();
            let var0 = axis_sq[i] / k - mu0 * mu0;
            assert!(
                (var0 - delta).abs()
                    < 5.0 * (2.0f64).sqrt() * delta / k.sqrt()
                        + 4.0 * mu0.abs() * delta.sqrt() / k.sqrt()
            );
            // ‖x‖²/N has mean Δ_c + v/N and s.d. Δ_c√(2/N)
            let sq = sq_norm[i] / k;
            assert!(
                (sq - delta - cfg.shift_norm / nf).abs()
                    < 5.0 * delta * (2.0 / nf / k).sqrt() + 1e-12
            );
            // E[y|c] = (1 − 2p)·α_c
            let ey = label_sum[i] / k;
            let want = (1.0 - 2.0 * cfg.label_noise) * m.alpha(c);
            assert!(
                (ey - want).abs() < 5.0 * (1.0 / k).sqrt(),
                "{c:?} {ey} {want}"
            );
        }
    }

    /// Pins the first sample of a fixed seed (rand's `value_stability` habit): changing the
    /// frame or sample streams changes every simulated number, so it must be deliberate.
    #[test]
    fn value_stability() {
        let m = TeacherMixtureConfig::config_b().build().unwrap();
        let d = TeacherMixtureData::new(&m, 4, Seed(0)).unwrap();
        let mut rng = Seed(1).rng();
        let mut x = vec![0.0; 4];
        let s = d.sample_into(&mut rng, &mut x);
        let got: Vec<f64> = x.iter().chain(&d.teacher_minus).copied().collect();
        let mut rng2 = Seed(1).rng();
        let mut x2 = vec![0.0; 4];
        assert_eq!(d.sample_into(&mut rng2, &mut x2), s);
        assert_eq!(x, x2);
        // ln/sin/cos come from the platform's libm: agree to ~1e-15 relative across platforms.
        assert_close!(got, PINNED.to_vec(), rel = 1e-12);
        assert_eq!((s.group, s.label), PINNED_SAMPLE);
    }
}
