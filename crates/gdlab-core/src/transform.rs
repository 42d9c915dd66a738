//! Gradient transformations: immutable configuration, explicit state, static composition.
//!
//! A [`Transform`] maps an incoming update (usually a gradient) to an outgoing one, in
//! place. The transform value itself is configuration and never changes; everything that
//! evolves lives in its `State`, so cloning the state is a checkpoint and replaying from it
//! is bit-exact (the optax design, with Rust's in-place buffers).
//!
//! **Sign convention.** Updates are *added* to the parameters: the last block of every
//! optimizer multiplies by `-learning_rate`, so a descent step is `params += update`
//! (see [`apply_update`]).
//!
//! Composition is static: `a.then(b)` (or [`chain!`](crate::chain)) builds a [`Chain`] whose state is
//! the pair of states. [`BoxedTransform`] erases the type when the shape of the chain is
//! only known at run time (CLI, config files).

use std::any::Any;
use std::fmt::Debug;

use crate::error::StepError;
use crate::real::Real;

/// Read-only context for one step.
#[derive(Clone, Copy, Debug)]
pub struct StepCtx<'a, F> {
    /// Number of updates already applied (0 on the first call).
    pub step: u64,
    /// The parameters the update will be applied to.
    pub params: &'a [F],
    /// Loss at `params`, when the caller has it (needed by e.g. Polyak steps).
    pub loss: Option<f64>,
}

impl<'a, F> StepCtx<'a, F> {
    /// A context for step `step` at `params`, without a loss value.
    #[must_use]
    pub fn new(step: u64, params: &'a [F]) -> Self {
        StepCtx {
            step,
            params,
            loss: None,
        }
    }
}

/// A gradient transformation on buffers of `F` (`f32` or `f64`).
///
/// `update` depends only on `(self, update, state, ctx)`: no globals, no interior
/// mutability, no clock. Implementations write each update as one fused pass over the
/// buffers.
pub trait Transform<F: Real>: Send + Sync {
    /// Everything that evolves from step to step.
    type State: Clone + Debug + Send + 'static;

    /// Creates the initial state for parameters `params`.
    fn init(&self, params: &[F]) -> Self::State;

    /// Transforms `update` in place.
    ///
    /// # Errors
    /// [`StepError`] on inconsistent shapes or missing context.
    fn update(
        &self,
        update: &mut [F],
        state: &mut Self::State,
        ctx: &StepCtx<'_, F>,
    ) -> Result<(), StepError>;
}

/// Checks that two buffer lengths agree, naming the block.
///
/// # Errors
/// [`StepError::Dim`] when `got != expected`.
#[inline]
pub fn check_len(op: &'static str, expected: usize, got: usize) -> Result<(), StepError> {
    if expected == got {
        Ok(())
    } else {
        Err(StepError::Dim { op, expected, got })
    }
}

/// `params += update`, the descent step under gdlab's sign convention.
///
/// # Errors
/// [`StepError::Dim`] when the lengths differ.
pub fn apply_update<F: Real>(params: &mut [F], update: &[F]) -> Result<(), StepError> {
    check_len("apply_update", params.len(), update.len())?;
    for (p, u) in params.iter_mut().zip(update) {
        *p = *p + *u;
    }
    Ok(())
}

/// The transform that leaves the update unchanged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Identity;

impl<F: Real> Transform<F> for Identity {
    type State = ();
    fn init(&self, _params: &[F]) -> Self::State {}
    fn update(
        &self,
        _update: &mut [F],
        _state: &mut (),
        _ctx: &StepCtx<'_, F>,
    ) -> Result<(), StepError> {
        Ok(())
    }
}

/// Two transforms applied one after the other: first `.0`, then `.1`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Chain<A, B>(pub A, pub B);

impl<F: Real, A: Transform<F>, B: Transform<F>> Transform<F> for Chain<A, B> {
    type State = (A::State, B::State);

    fn init(&self, params: &[F]) -> Self::State {
        (self.0.init(params), self.1.init(params))
    }

    fn update(
        &self,
        update: &mut [F],
        state: &mut Self::State,
        ctx: &StepCtx<'_, F>,
    ) -> Result<(), StepError> {
        self.0.update(update, &mut state.0, ctx)?;
        self.1.update(update, &mut state.1, ctx)
    }
}

/// Composition methods for every transform.
pub trait TransformExt: Sized {
    /// `self` followed by `next`.
    fn then<B>(self, next: B) -> Chain<Self, B> {
        Chain(self, next)
    }
}

impl<T> TransformExt for T {}

/// Chains transforms left to right: `chain![a, b, c]` is `a.then(b).then(c)`.
///
/// # Examples
/// ```
/// use gdlab_core::{chain, transform::{Identity, Transform, StepCtx}};
/// let t = chain![Identity, Identity, Identity];
/// let mut g = vec![1.0_f64, -2.0];
/// let mut s = Transform::<f64>::init(&t, &[0.0, 0.0]);
/// t.update(&mut g, &mut s, &StepCtx::new(0, &[0.0, 0.0])).unwrap();
/// assert_eq!(g, vec![1.0, -2.0]);
/// ```
#[macro_export]
macro_rules! chain {
    ($only:expr $(,)?) => { $only };
    ($first:expr, $($rest:expr),+ $(,)?) => {
        $crate::transform::TransformExt::then($first, $crate::chain!($($rest),+))
    };
}

/// Type-erased transform state, stored by [`BoxedTransform`].
pub trait TransformState: Any + Send + Debug {
    /// Clones into a new box (checkpointing).
    fn clone_box(&self) -> Box<dyn TransformState>;
    /// Upcast for downcasting.
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

impl<S: Any + Send + Debug + Clone> TransformState for S {
    fn clone_box(&self) -> Box<dyn TransformState> {
        Box::new(self.clone())
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

impl Clone for Box<dyn TransformState> {
    fn clone(&self) -> Self {
        (**self).clone_box()
    }
}

trait DynTransform<F: Real>: Send + Sync {
    fn init_dyn(&self, params: &[F]) -> Box<dyn TransformState>;
    fn update_dyn(
        &self,
        update: &mut [F],
        state: &mut dyn TransformState,
        ctx: &StepCtx<'_, F>,
    ) -> Result<(), StepError>;
}

impl<F: Real, T: Transform<F>> DynTransform<F> for T {
    fn init_dyn(&self, params: &[F]) -> Box<dyn TransformState> {
        Box::new(self.init(params))
    }
    fn update_dyn(
        &self,
        update: &mut [F],
        state: &mut dyn TransformState,
        ctx: &StepCtx<'_, F>,
    ) -> Result<(), StepError> {
        let s = state
            .as_any_mut()
            .downcast_mut::<T::State>()
            .ok_or(StepError::StateType {
                op: std::any::type_name::<T>(),
            })?;
        self.update(update, s, ctx)
    }
}

/// A transform whose concrete type is erased, for chains built at run time.
///
/// # Examples
/// ```
/// use gdlab_core::transform::{BoxedTransform, Identity, Transform, StepCtx};
/// let t: BoxedTransform<f64> = BoxedTransform::new(Identity);
/// let mut s = t.init(&[1.0]);
/// let mut g = [3.0];
/// t.update(&mut g, &mut s, &StepCtx::new(0, &[1.0])).unwrap();
/// assert_eq!(g, [3.0]);
/// ```
pub struct BoxedTransform<F: Real> {
    inner: Box<dyn DynTransform<F>>,
    name: String,
}

impl<F: Real> BoxedTransform<F> {
    /// Erases the type of `t`.
    pub fn new<T: Transform<F> + 'static>(t: T) -> Self {
        BoxedTransform {
            inner: Box::new(t),
            name: std::any::type_name::<T>().to_string(),
        }
    }

    /// Erases the type of `t` and gives it a display name (e.g. the spec it came from).
    pub fn named<T: Transform<F> + 'static>(t: T, name: impl Into<String>) -> Self {
        BoxedTransform {
            inner: Box::new(t),
            name: name.into(),
        }
    }

    /// The display name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl<F: Real> Debug for BoxedTransform<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BoxedTransform")
            .field("name", &self.name)
            .finish()
    }
}

impl<F: Real> Transform<F> for BoxedTransform<F> {
    type State = Box<dyn TransformState>;

    fn init(&self, params: &[F]) -> Self::State {
        self.inner.init_dyn(params)
    }

    fn update(
        &self,
        update: &mut [F],
        state: &mut Self::State,
        ctx: &StepCtx<'_, F>,
    ) -> Result<(), StepError> {
        self.inner.update_dyn(update, state.as_mut(), ctx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Multiplies by a constant and counts calls: enough to test composition.
    #[derive(Clone, Copy, Debug)]
    struct ScaleCount(f64);

    impl<F: Real> Transform<F> for ScaleCount {
        type State = u64;
        fn init(&self, _p: &[F]) -> u64 {
            0
        }
        fn update(&self, u: &mut [F], s: &mut u64, _c: &StepCtx<'_, F>) -> Result<(), StepError> {
            *s += 1;
            let k = F::from_f64(self.0 + *s as f64);
            for x in u.iter_mut() {
                *x = *x * k;
            }
            Ok(())
        }
    }

    fn run<T: Transform<f64>>(t: &T, g: &[f64], steps: u64) -> Vec<f64> {
        let p = vec![0.0; g.len()];
        let mut s = t.init(&p);
        let mut out = Vec::new();
        for k in 0..steps {
            let mut u = g.to_vec();
            t.update(&mut u, &mut s, &StepCtx::new(k, &p)).unwrap();
            out.extend(u);
        }
        out
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        #[test]
        fn identity_is_neutral(a in -3.0f64..3.0, g in proptest::collection::vec(-10.0f64..10.0, 1..8)) {
            let t = ScaleCount(a);
            let base = run(&t, &g, 3);
            // Bitwise: the identity must not touch the numbers.
            proptest::prop_assert_eq!(&run(&Identity.then(t), &g, 3), &base);
            proptest::prop_assert_eq!(&run(&t.then(Identity), &g, 3), &base);
        }

        #[test]
        fn chain_is_associative(a in -3.0f64..3.0, b in -3.0f64..3.0, c in -3.0f64..3.0,
                                g in proptest::collection::vec(-10.0f64..10.0, 1..8)) {
            let (x, y, z) = (ScaleCount(a), ScaleCount(b), ScaleCount(c));
            let left = run(&x.then(y).then(z), &g, 4);
            let right = run(&x.then(y.then(z)), &g, 4);
            proptest::prop_assert_eq!(left, right);
        }
    }

    #[test]
    fn boxed_matches_static_and_rejects_foreign_state() {
        let t = ScaleCount(0.5).then(ScaleCount(2.0));
        let b = BoxedTransform::<f64>::new(t);
        assert_eq!(run(&b, &[1.0, 2.0], 3), run(&t, &[1.0, 2.0], 3));
        let other = BoxedTransform::<f64>::new(Identity);
        let mut foreign = other.init(&[0.0]);
        let err = b
            .update(&mut [1.0], &mut foreign, &StepCtx::new(0, &[0.0]))
            .unwrap_err();
        assert!(matches!(err, StepError::StateType { .. }));
    }

    #[test]
    fn cloned_state_replays_bitwise() {
        let t = ScaleCount(0.25).then(ScaleCount(-1.5));
        let p = [0.0; 3];
        let mut s = t.init(&p);
        let mut u = [1.0, 2.0, 3.0];
        t.update(&mut u, &mut s, &StepCtx::new(0, &p)).unwrap();
        let snapshot = s;
        let (mut u1, mut u2) = ([0.5, 0.1, 9.0], [0.5, 0.1, 9.0]);
        let mut s2 = snapshot;
        t.update(&mut u1, &mut s, &StepCtx::new(1, &p)).unwrap();
        t.update(&mut u2, &mut s2, &StepCtx::new(1, &p)).unwrap();
        // Bitwise equality is the point: same state, same input, same numbers.
        assert_eq!(u1.map(f64::to_bits), u2.map(f64::to_bits));
    }
}
