use gdlab_core::transform::{check_len, Fuse, Pass, StepCtx, Transform};
use gdlab_core::{ConfigError, Real, StepError};

use crate::kernel::sign;

/// Element-wise sign: `u ← sign(u)`, with `sign(0) = 0`.
///
/// Invariant to positive rescaling of the incoming update. Followed by
/// [`super::ScaleByLearningRate`] it is signSGD; preceded by [`ScaleByEma`] it is Signum;
/// followed by [`super::ScaleByMomentum`] it is "momentum on signs" (heavy-tailed paper).
/// One pass (read `u`, write `u`); the learning rate folds into it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ScaleBySign;

impl ScaleBySign {
    fn pass<F: Real>(
        &self,
        _: &mut (),
        pass: Pass<'_, F>,
        fuse: &Fuse<F>,
    ) -> Result<(), StepError> {
        fuse.run(pass, |_, x| sign(x))
    }
}

element_wise_transform!(ScaleBySign, (), |_params| ());

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

    fn pass<F: Real>(
        &self,
        m: &mut [F],
        pass: Pass<'_, F>,
        fuse: &Fuse<F>,
    ) -> Result<(), StepError> {
        let n = pass.len();
        check_len("scale_by_ema", m.len(), n)?;
        let m = &mut m[..n];
        let b = F::from_f64(self.decay);
        let c = F::one() - b;
        fuse.run(pass, |i, g| {
            let mi = b * m[i] + c * g;
            m[i] = mi;
            mi
        })
    }
}

element_wise_transform!(ScaleByEma, Vec<F>, |params| vec![F::zero(); params.len()]);

/// Signum's update in one pass: the EMA `m ← β m + (1 − β) g` and `u ← sign(m)` fused.
///
/// Equivalent to `ScaleByEma.then(ScaleBySign)` bit for bit, with one pass instead of two
/// (reads `g, m`, writes `m, u`); the learning rate folds into the same pass.
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

    fn pass<F: Real>(
        &self,
        m: &mut [F],
        pass: Pass<'_, F>,
        fuse: &Fuse<F>,
    ) -> Result<(), StepError> {
        let n = pass.len();
        check_len("scale_by_sign_of_ema", m.len(), n)?;
        let m = &mut m[..n];
        let b = F::from_f64(self.ema.decay);
        let c = F::one() - b;
        fuse.run(pass, |i, g| {
            let mi = b * m[i] + c * g;
            m[i] = mi;
            sign(mi)
        })
    }
}

element_wise_transform!(ScaleBySignOfEma, Vec<F>, |params| vec![
    F::zero();
    params.len()
]);

/// Implements [`Transform`] for a block with a global reduction: its inherent
/// `fn pass<F: Real>(&self, Pass<'_, F>, &Fuse<F>) -> Result<(), StepError>` reduces over
/// the incoming buffer (one read pass), then maps it (one pass). A non-identity `fuse.pre`
/// is applied in place first, because the reduction must see the pre-processed values;
/// `fuse.post` folds into the mapping pass.
macro_rules! reduction_transform {
    ($block:ty) => {
        impl<F: Real> Transform<F> for $block {
            type State = ();
            fn init(&self, _params: &[F]) {}
            fn update(
                &self,
                u: &mut [F],
                s: &mut (),
                ctx: &StepCtx<'_, F>,
            ) -> Result<(), StepError> {
                self.update_fused(u, s, ctx, &Fuse::IDENTITY)
            }
            fn update_fused(
                &self,
                u: &mut [F],
                _: &mut (),
                ctx: &StepCtx<'_, F>,
                fuse: &Fuse<F>,
            ) -> Result<(), StepError> {
                fuse.pre.apply_in_place(u, ctx.params)?;
                let pass = Pass::Update {
                    update: u,
                    params: ctx.params,
                };
                self.pass(pass, &Fuse::post(fuse.post))
            }
            fn apply_fused(
                &self,
                params: &mut [F],
                grad: &mut [F],
                _: &mut (),
                _step: u64,
                _loss: Option<f64>,
                fuse: &Fuse<F>,
            ) -> Result<(), StepError> {
                fuse.pre.apply_in_place(grad, params)?;
                self.pass(Pass::Apply { grad, params }, &Fuse::post(fuse.post))
            }
        }
    };
}

/// Divides by the global ℓ2 norm over all parameters: `u ← u / ‖u‖₂` (`u = 0` stays 0).
///
/// The norm is accumulated in `f64` in index order (deterministic). Two passes (the norm,
/// then the division, into which the learning rate folds).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NormalizeByGlobalNorm;

impl NormalizeByGlobalNorm {
    fn pass<F: Real>(&self, pass: Pass<'_, F>, fuse: &Fuse<F>) -> Result<(), StepError> {
        let norm = gdlab_core::real::l2_norm(pass.input());
        if norm > 0.0 && norm.is_finite() {
            let k = F::from_f64(1.0 / norm);
            fuse.run(pass, |_, x| x * k)
        } else if norm.is_finite() {
            fuse.run(pass, |_, x| x)
        } else {
            // Propagate divergence instead of hiding it.
            fuse.run(pass, |_, _| F::nan())
        }
    }
}

reduction_transform!(NormalizeByGlobalNorm);

/// Rescaled sign: `u ← sign(u) · ‖u‖₁` (global ℓ1 norm over all parameters), the appendix
/// method of the heavy-tailed class-imbalance paper (`RescaledSignDescent`).
///
/// Two passes (the norm, then the signs, into which the learning rate folds).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ScaleBySignTimesL1;

impl ScaleBySignTimesL1 {
    fn pass<F: Real>(&self, pass: Pass<'_, F>, fuse: &Fuse<F>) -> Result<(), StepError> {
        let l1: f64 = pass.input().iter().map(|x| x.as_f64().abs()).sum();
        let k = F::from_f64(l1);
        fuse.run(pass, |_, x| sign(x) * k)
    }
}

reduction_transform!(ScaleBySignTimesL1);

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact values: `==` is a deliberate bitwise check
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
                t.update(&mut u, &mut s, &StepCtx::new(k as u64, &p))
                    .unwrap();
                u
            })
            .collect()
    }

    #[test]
    fn fused_signum_equals_the_chain_bitwise() {
        let g = vec![
            vec![1.0, -2.0, 0.0],
            vec![-3.0, 0.5, 0.0],
            vec![0.1, 0.1, -0.2],
        ];
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
            proptest::prop_assert!(apply(&ScaleBySign, std::slice::from_ref(&g)) == apply(&ScaleBySign, std::slice::from_ref(&scaled)));
            let n1 = apply(&NormalizeByGlobalNorm, std::slice::from_ref(&g));
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
