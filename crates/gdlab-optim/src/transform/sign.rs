use gdlab_core::transform::{check_len, StepCtx, Transform};
use gdlab_core::{ConfigError, Real, StepError};

use crate::kernel::{sign, sign_in_place};

/// Element-wise sign: `u ← sign(u)`, with `sign(0) = 0`.
///
/// Invariant to positive rescaling of the incoming update. Followed by
/// [`super::ScaleByLearningRate`] it is signSGD; preceded by [`ScaleByEma`] it is Signum;
/// followed by [`super::ScaleByMomentum`] it is "momentum on signs" (heavy-tailed paper).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ScaleBySign;

impl<F: Real> Transform<F> for ScaleBySign {
    type State = ();
    fn init(&self, _params: &[F]) {}
    fn update(&self, u: &mut [F], _: &mut (), _: &StepCtx<'_, F>) -> Result<(), StepError> {
        sign_in_place(u);
        Ok(())
    }
}

/// Exponential moving average of the updates: `m ← β m + (1 − β) g`, `u ← m`, with `m`
/// starting at **zero** (no bias correction), as in Signum (Bernstein et al., 2018).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScaleByEma {
    decay: f64,
}

impl ScaleByEma {
    /// `β = decay ∈ [0, 1)`.
    ///
    /// # Errors
    /// [`ConfigError::OutOfRange`] otherwise.
    pub fn new(decay: f64) -> Result<Self, ConfigError> {
        ConfigError::check_half_open("momentum", decay, 0.0, 1.0, "[0, 1)")?;
        Ok(ScaleByEma { decay })
    }

    /// `β`.
    #[must_use]
    pub fn decay(&self) -> f64 {
        self.decay
    }
}

impl<F: Real> Transform<F> for ScaleByEma {
    type State = Vec<F>;
    fn init(&self, params: &[F]) -> Vec<F> {
        vec![F::zero(); params.len()]
    }
    fn update(&self, u: &mut [F], m: &mut Vec<F>, _: &StepCtx<'_, F>) -> Result<(), StepError> {
        check_len("scale_by_ema", m.len(), u.len())?;
        let b = F::from_f64(self.decay);
        let c = F::one() - b;
        for (ui, mi) in u.iter_mut().zip(m.iter_mut()) {
            *mi = b * *mi + c * *ui;
            *ui = *mi;
        }
        Ok(())
    }
}

/// Signum's update in one pass: the EMA `m ← β m + (1 − β) g` and `u ← sign(m)` fused.
///
/// Equivalent to `ScaleByEma.then(ScaleBySign)` bit for bit, with one pass instead of two.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScaleBySignOfEma {
    ema: ScaleByEma,
}

impl ScaleBySignOfEma {
    /// `β = decay ∈ [0, 1)`.
    ///
    /// # Errors
    /// [`ConfigError::OutOfRange`] otherwise.
    pub fn new(decay: f64) -> Result<Self, ConfigError> {
        Ok(ScaleBySignOfEma {
            ema: ScaleByEma::new(decay)?,
        })
    }
}

impl<F: Real> Transform<F> for ScaleBySignOfEma {
    type State = Vec<F>;
    fn init(&self, params: &[F]) -> Vec<F> {
        vec![F::zero(); params.len()]
    }
    fn update(&self, u: &mut [F], m: &mut Vec<F>, _: &StepCtx<'_, F>) -> Result<(), StepError> {
        check_len("scale_by_sign_of_ema", m.len(), u.len())?;
        let b = F::from_f64(self.ema.decay);
        let c = F::one() - b;
        for (ui, mi) in u.iter_mut().zip(m.iter_mut()) {
            *mi = b * *mi + c * *ui;
            *ui = sign(*mi);
        }
        Ok(())
    }
}

/// Divides by the global ℓ2 norm over all parameters: `u ← u / ‖u‖₂` (`u = 0` stays 0).
///
/// The norm is accumulated in `f64` in index order (deterministic).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NormalizeByGlobalNorm;

impl<F: Real> Transform<F> for NormalizeByGlobalNorm {
    type State = ();
    fn init(&self, _params: &[F]) {}
    fn update(&self, u: &mut [F], _: &mut (), _: &StepCtx<'_, F>) -> Result<(), StepError> {
        let norm = gdlab_core::real::l2_norm(u);
        if norm > 0.0 && norm.is_finite() {
            let k = F::from_f64(1.0 / norm);
            u.iter_mut().for_each(|x| *x = *x * k);
        } else if !norm.is_finite() {
            // Propagate divergence instead of hiding it.
            u.iter_mut().for_each(|x| *x = F::nan());
        }
        Ok(())
    }
}

/// Rescaled sign: `u ← sign(u) · ‖u‖₁` (global ℓ1 norm over all parameters), the appendix
/// method of the heavy-tailed class-imbalance paper (`RescaledSignDescent`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ScaleBySignTimesL1;

impl<F: Real> Transform<F> for ScaleBySignTimesL1 {
    type State = ();
    fn init(&self, _params: &[F]) {}
    fn update(&self, u: &mut [F], _: &mut (), _: &StepCtx<'_, F>) -> Result<(), StepError> {
        let l1: f64 = u.iter().map(|x| x.as_f64().abs()).sum();
        let k = F::from_f64(l1);
        u.iter_mut().for_each(|x| *x = sign(*x) * k);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gdlab_core::TransformExt;

    fn apply<T: Transform<f64>>(t: &T, grads: &[Vec<f64>]) -> Vec<Vec<f64>> {
        let p = vec![0.0; grads[0].len()];
        let mut s = t.init(&p);
        grads
            .iter()
            .enumerate()
            .map(|(k, g)| {
                let mut u = g.clone();
                t.update(&mut u, &mut s, &StepCtx::new(k as u64, &p)).unwrap();
                u
            })
            .collect()
    }

    #[test]
    fn fused_signum_equals_the_chain_bitwise() {
        let g = vec![vec![1.0, -2.0, 0.0], vec![-3.0, 0.5, 0.0], vec![0.1, 0.1, -0.2]];
        let a = apply(&ScaleBySignOfEma::new(0.9).unwrap(), &g);
        let b = apply(&ScaleByEma::new(0.9).unwrap().then(ScaleBySign), &g);
        assert!(a == b);
        // m₁ = 0.1·g₁: the first step is sign(g₁), zeros stay zero.
        assert!(a[0] == vec![1.0, -1.0, 0.0]);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        #[test]
        fn sign_blocks_ignore_positive_scaling(
            g in proptest::collection::vec(-10.0f64..10.0, 1..16),
            c in 1e-3f64..1e3,
        ) {
            let scaled: Vec<f64> = g.iter().map(|x| x * c).collect();
            proptest::prop_assert!(apply(&ScaleBySign, &[g.clone()]) == apply(&ScaleBySign, &[scaled.clone()]));
            let n1 = apply(&NormalizeByGlobalNorm, &[g.clone()]);
            let n2 = apply(&NormalizeByGlobalNorm, &[scaled]);
            gdlab_core::assert_close!(n1[0], n2[0], rel = 1e-12, abs = 1e-15);
        }
    }

    #[test]
    fn normalized_and_rescaled_closed_forms() {
        let n = apply(&NormalizeByGlobalNorm, &[vec![3.0, -4.0], vec![0.0, 0.0]]);
        gdlab_core::assert_close!(n[0], [0.6, -0.8], rel = 1e-15);
        assert!(n[1] == vec![0.0, 0.0]);
        let r = apply(&ScaleBySignTimesL1, &[vec![3.0, -4.0, 0.0]]);
        assert!(r[0] == vec![7.0, -7.0, 0.0]);
    }
}
