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
//!
//! **Fusion: each update is one fused pass.** Composition must not cost memory traffic: a
//! chain such as `add_decayed_weights → scale_by_adam → scale_by_learning_rate` touches every
//! buffer once, not once per block. The mechanism has three parts:
//!
//! * A block that is an element-wise **affine map** `u ↦ (u + λθ)·c` for the current step
//!   (learning rate, constant scale, decayed weights) says so through
//!   [`Transform::affine`] and is not run as a pass of its own.
//! * Every block accepts affine work to fold into its own loop through
//!   [`Transform::update_fused`]: a [`Fuse`] with a `pre` map applied to the incoming
//!   update and a `post` map applied to the outgoing one. Element-wise blocks run
//!   [`Fuse::map`], one loop that applies `pre`, the block's arithmetic and `post` per
//!   coordinate. The provided default runs `pre`, [`Transform::update`] and `post` as
//!   separate passes, so a block that ignores fusion stays correct.
//! * [`Chain`] hands an affine neighbour to the other block: `A.then(B)` with `B` affine
//!   runs `A` with `B` folded into `A`'s `post`; with `A` affine it folds `A` into `B`'s
//!   `pre`. Nested chains compose, so `adam`, `adamw`, `sgd` (with or without momentum and
//!   weight decay), `sign_sgd` and `signum` are each a single loop.
//!
//! Fusion never changes a bit: maps are folded only when the fused loop performs exactly
//! the floating-point operations of the unfused blocks, in the same order
//! ([`Affine::followed_by`] refuses the rest, which then cost one extra pass).
//!
//! [`update_and_apply`] goes one step further for training loops: it folds the final
//! `θ ← θ + u` into the same pass ([`Transform::apply_fused`]), so a fused Adam step reads
//! `g, m, v, θ` and writes `m, v, θ`, the same traffic as PyTorch's `fused=True` Adam.

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
/// buffers; element-wise blocks also override [`Transform::update_fused`] (and
/// [`Transform::apply_fused`]) so that the affine blocks around them fold into that pass
/// (see the [module docs](self)).
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

    /// The element-wise affine map this block applies at this step, if it is one.
    ///
    /// Returning `Some(a)` promises that `update` would set every coordinate to
    /// `a.apply(u, θ)` and leave the state unchanged; a [`Chain`] then folds the block
    /// into its neighbour's pass instead of running it. `update_len` is the length of the
    /// update buffer, for the block's shape checks. The default is `Ok(None)`.
    ///
    /// # Errors
    /// [`StepError`] on inconsistent shapes, as `update` would raise.
    fn affine(
        &self,
        update_len: usize,
        ctx: &StepCtx<'_, F>,
    ) -> Result<Option<Affine<F>>, StepError> {
        let _ = (update_len, ctx);
        Ok(None)
    }

    /// `fuse.pre`, then [`Transform::update`], then `fuse.post`, with the same result bit
    /// for bit; element-wise blocks override it to do all three in one pass.
    ///
    /// The default runs them as separate passes (skipping identity maps).
    ///
    /// # Errors
    /// As [`Transform::update`]; [`StepError::Dim`] if a map reads `θ` and
    /// `ctx.params` has the wrong length.
    fn update_fused(
        &self,
        update: &mut [F],
        state: &mut Self::State,
        ctx: &StepCtx<'_, F>,
        fuse: &Fuse<F>,
    ) -> Result<(), StepError> {
        fuse.pre.apply_in_place(update, ctx.params)?;
        self.update(update, state, ctx)?;
        fuse.post.apply_in_place(update, ctx.params)
    }

    /// One step applied to the parameters: `θ ← θ + post(T(pre(g)))`, with the result of
    /// [`Transform::update_fused`] followed by [`apply_update`] bit for bit. Element-wise
    /// blocks override it to do everything in the one pass that also writes `θ`.
    ///
    /// `grad` is scratch space: on return it holds unspecified values (the gradient when
    /// the step fused into one pass, the update otherwise). `step` and `loss` are the
    /// fields of the [`StepCtx`] that `update` would see, with `params` as `ctx.params`.
    ///
    /// # Errors
    /// As [`Transform::update_fused`]; [`StepError::Dim`] when `params` and `grad` differ in
    /// length.
    fn apply_fused(
        &self,
        params: &mut [F],
        grad: &mut [F],
        state: &mut Self::State,
        step: u64,
        loss: Option<f64>,
        fuse: &Fuse<F>,
    ) -> Result<(), StepError> {
        let ctx = StepCtx {
            step,
            params: &*params,
            loss,
        };
        self.update_fused(grad, state, &ctx, fuse)?;
        apply_update(params, grad)
    }
}

/// An element-wise affine map of the update, `u ↦ (u + decay·θ)·scale`, where `θ` is the
/// parameter at the same coordinate. `None` means "no such term" (decay `0`, scale `1`):
/// the fused loop does not read `θ` without a decay term, and skips the operation (a
/// missing `post` scale is a multiplication by one, which is exact).
///
/// # Examples
/// ```
/// use gdlab_core::transform::Affine;
/// let decay = Affine::decay(0.1_f64);
/// let lr = Affine::scale(-0.5);
/// // Decay then learning rate fold into one map, `(u + 0.1 θ)·(−0.5)`, exactly.
/// let both = decay.followed_by(&lr).unwrap();
/// assert_eq!(both.apply(2.0, 10.0), (2.0 + 0.1 * 10.0) * -0.5);
/// // Two scales would round differently when pre-multiplied, so they do not fold.
/// assert!(lr.followed_by(&lr).is_none());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Affine<F> {
    /// `λ` in `u + λθ`; `None` for no decay term (`θ` is then not read).
    pub decay: Option<F>,
    /// `c` in `(…)·c`; `None` for no multiplication.
    pub scale: Option<F>,
}

impl<F: Real> Affine<F> {
    /// The identity map.
    pub const IDENTITY: Self = Affine {
        decay: None,
        scale: None,
    };

    /// `u ↦ c·u`.
    #[must_use]
    pub fn scale(c: F) -> Self {
        Affine {
            decay: None,
            scale: Some(c),
        }
    }

    /// `u ↦ u + λθ`.
    #[must_use]
    pub fn decay(weight_decay: F) -> Self {
        Affine {
            decay: Some(weight_decay),
            scale: None,
        }
    }

    /// True for the identity map.
    #[must_use]
    pub fn is_identity(&self) -> bool {
        self.decay.is_none() && self.scale.is_none()
    }

    /// True when the map reads `θ`.
    #[must_use]
    pub fn reads_params(&self) -> bool {
        self.decay.is_some()
    }

    /// The map applied to one coordinate: `(u + λθ)·c`, in that order.
    #[inline(always)]
    #[must_use]
    pub fn apply(&self, u: F, theta: F) -> F {
        let mut x = u;
        if let Some(d) = self.decay {
            x = x + d * theta;
        }
        if let Some(c) = self.scale {
            x = x * c;
        }
        x
    }

    /// `self` followed by `next` as a single map, when the single map performs exactly
    /// the same floating-point operations (so folding never changes a bit); `None`
    /// otherwise, e.g. for two scales (`(u·a)·b ≠ u·(a·b)` in floating point) or two decays.
    #[must_use]
    pub fn followed_by(&self, next: &Self) -> Option<Self> {
        if self.is_identity() {
            Some(*next)
        } else if next.is_identity() {
            Some(*self)
        } else if self.scale.is_none() && next.decay.is_none() {
            Some(Affine {
                decay: self.decay,
                scale: next.scale,
            })
        } else {
            None
        }
    }

    /// Applies the map to every coordinate of `u` (one pass; nothing for the identity).
    ///
    /// # Errors
    /// [`StepError::Dim`] if the map reads `θ` and `params.len() != u.len()`.
    pub fn apply_in_place(&self, u: &mut [F], params: &[F]) -> Result<(), StepError> {
        if self.is_identity() {
            return Ok(());
        }
        Fuse {
            pre: *self,
            post: Self::IDENTITY,
        }
        .map(u, params, |_, x| x)
    }
}

/// Affine work folded into one block's pass: `pre` on the incoming update, `post` on the
/// outgoing one (see [`Transform::update_fused`]).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Fuse<F> {
    /// Applied to each incoming coordinate before the block's arithmetic.
    pub pre: Affine<F>,
    /// Applied to each outgoing coordinate after it.
    pub post: Affine<F>,
}

impl<F: Real> Fuse<F> {
    /// Nothing to fold.
    pub const IDENTITY: Self = Fuse {
        pre: Affine::IDENTITY,
        post: Affine::IDENTITY,
    };

    /// Only a `post` map.
    #[must_use]
    pub fn post(post: Affine<F>) -> Self {
        Fuse {
            pre: Affine::IDENTITY,
            post,
        }
    }

    /// True when neither map does anything.
    #[must_use]
    pub fn is_identity(&self) -> bool {
        self.pre.is_identity() && self.post.is_identity()
    }

    /// The element-wise pass of a block, with the folded maps: for every coordinate `i`,
    /// `u[i] ← post(body(i, pre(u[i])))`. `params` (`θ`) is read only when a map has a
    /// decay term, so the pass touches exactly the buffers it needs.
    ///
    /// `body(i, x)` is the block's arithmetic on coordinate `i`; it reads and writes the
    /// block's state at index `i` (slice the state to `u.len()` first so that the
    /// compiler drops the bounds checks). Coordinates are visited in index order.
    ///
    /// # Errors
    /// [`StepError::Dim`] if a map reads `θ` and `params.len() != u.len()`.
    ///
    /// # Examples
    /// ```
    /// use gdlab_core::transform::{Affine, Fuse};
    /// // `u ← −0.1·sign(u)` in one pass.
    /// let fuse = Fuse::post(Affine::scale(-0.1_f64));
    /// let mut u = [2.0, -3.0];
    /// fuse.map(&mut u, &[], |_, x| x.signum()).unwrap();
    /// assert_eq!(u, [-0.1, 0.1]);
    /// ```
    #[inline]
    pub fn map(
        &self,
        u: &mut [F],
        params: &[F],
        body: impl FnMut(usize, F) -> F,
    ) -> Result<(), StepError> {
        if self.pre.reads_params() || self.post.reads_params() {
            check_len("fused pass (θ)", u.len(), params.len())?;
        }
        fused_variant!(self, fused_loop, (u, params, self, body));
        Ok(())
    }

    /// [`Fuse::map`] that adds the result to the parameters instead of storing it:
    /// `θ[i] ← θ[i] + post(body(i, pre(g[i])))`. `grad` is only read. The decay terms see
    /// `θ[i]` before it is written, as in the unfused update followed by [`apply_update`].
    ///
    /// # Errors
    /// [`StepError::Dim`] if `params.len() != grad.len()`.
    #[inline]
    pub fn map_apply(
        &self,
        grad: &[F],
        params: &mut [F],
        body: impl FnMut(usize, F) -> F,
    ) -> Result<(), StepError> {
        check_len("apply_update", params.len(), grad.len())?;
        fused_variant!(self, fused_apply_loop, (grad, params, self, body));
        Ok(())
    }
}

/// The buffers of one element-wise pass: where the incoming update is read and where the
/// result goes. Lets a block write its loop once for [`Transform::update_fused`] and
/// [`Transform::apply_fused`] (see [`Fuse::run`]).
#[derive(Debug)]
pub enum Pass<'a, F> {
    /// `update ← post(body(pre(update)))`; `params` is read when a map has a decay term.
    Update {
        /// The update buffer, transformed in place.
        update: &'a mut [F],
        /// `θ` (`ctx.params`).
        params: &'a [F],
    },
    /// `params ← params + post(body(pre(grad)))`.
    Apply {
        /// The incoming gradient (only read).
        grad: &'a [F],
        /// `θ`, updated in place.
        params: &'a mut [F],
    },
}

impl<F> Pass<'_, F> {
    /// Number of coordinates (the length of the incoming buffer).
    #[must_use]
    pub fn len(&self) -> usize {
        match self {
            Pass::Update { update, .. } => update.len(),
            Pass::Apply { grad, .. } => grad.len(),
        }
    }

    /// True for empty buffers.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The incoming buffer.
    #[must_use]
    pub fn input(&self) -> &[F] {
        match self {
            Pass::Update { update, .. } => update,
            Pass::Apply { grad, .. } => grad,
        }
    }
}

impl<F: Real> Fuse<F> {
    /// [`Fuse::map`] or [`Fuse::map_apply`], as `pass` says.
    ///
    /// # Errors
    /// As those two.
    #[inline]
    pub fn run(&self, pass: Pass<'_, F>, body: impl FnMut(usize, F) -> F) -> Result<(), StepError> {
        match pass {
            Pass::Update { update, params } => self.map(update, params, body),
            Pass::Apply { grad, params } => self.map_apply(grad, params, body),
        }
    }
}

/// Calls `$loop::<F, PRE_DECAY, PRE_SCALE, POST_DECAY>($args)` with the constants that
/// match `$fuse`, so that every loop is compiled without the operations it does not need.
macro_rules! fused_variant {
    ($fuse:expr, $loop:ident, ($($arg:expr),*)) => {
        match (
            $fuse.pre.decay.is_some(),
            $fuse.pre.scale.is_some(),
            $fuse.post.decay.is_some(),
        ) {
            (false, false, false) => $loop::<F, false, false, false>($($arg),*),
            (false, false, true) => $loop::<F, false, false, true>($($arg),*),
            (false, true, false) => $loop::<F, false, true, false>($($arg),*),
            (false, true, true) => $loop::<F, false, true, true>($($arg),*),
            (true, false, false) => $loop::<F, true, false, false>($($arg),*),
            (true, false, true) => $loop::<F, true, false, true>($($arg),*),
            (true, true, false) => $loop::<F, true, true, false>($($arg),*),
            (true, true, true) => $loop::<F, true, true, true>($($arg),*),
        }
    };
}
use fused_variant;

/// The loop behind [`Fuse::map`], instantiated once per combination of `pre`/`post` terms
/// (see `fused_variant!`) so that `θ` is not even loaded when no map needs it and no
/// multiplication by a missing `pre` scale is done. A missing `post` scale is a
/// multiplication by one, which is exact (every alias has a `post` scale: the learning
/// rate).
#[inline(always)]
fn fused_loop<F: Real, const PRE_DECAY: bool, const PRE_SCALE: bool, const POST_DECAY: bool>(
    u: &mut [F],
    params: &[F],
    fuse: &Fuse<F>,
    mut body: impl FnMut(usize, F) -> F,
) {
    let n = u.len();
    let params = if PRE_DECAY || POST_DECAY {
        &params[..n]
    } else {
        params
    };
    let (zero, one) = (F::zero(), F::one());
    let (pre_d, pre_c) = (
        fuse.pre.decay.unwrap_or(zero),
        fuse.pre.scale.unwrap_or(one),
    );
    let (post_d, post_c) = (
        fuse.post.decay.unwrap_or(zero),
        fuse.post.scale.unwrap_or(one),
    );
    for (i, ui) in u.iter_mut().enumerate() {
        let mut x = *ui;
        if PRE_DECAY {
            x = x + pre_d * params[i];
        }
        if PRE_SCALE {
            x = x * pre_c;
        }
        let mut r = body(i, x);
        if POST_DECAY {
            r = r + post_d * params[i];
        }
        *ui = r * post_c;
    }
}

/// The loop behind [`Fuse::map_apply`], instantiated as [`fused_loop`].
#[inline(always)]
fn fused_apply_loop<
    F: Real,
    const PRE_DECAY: bool,
    const PRE_SCALE: bool,
    const POST_DECAY: bool,
>(
    grad: &[F],
    params: &mut [F],
    fuse: &Fuse<F>,
    mut body: impl FnMut(usize, F) -> F,
) {
    let (zero, one) = (F::zero(), F::one());
    let (pre_d, pre_c) = (
        fuse.pre.decay.unwrap_or(zero),
        fuse.pre.scale.unwrap_or(one),
    );
    let (post_d, post_c) = (
        fuse.post.decay.unwrap_or(zero),
        fuse.post.scale.unwrap_or(one),
    );
    for (i, (p, &g)) in params.iter_mut().zip(grad).enumerate() {
        let theta = *p;
        let mut x = g;
        if PRE_DECAY {
            x = x + pre_d * theta;
        }
        if PRE_SCALE {
            x = x * pre_c;
        }
        let mut r = body(i, x);
        if POST_DECAY {
            r = r + post_d * theta;
        }
        *p = theta + r * post_c;
    }
}

/// One optimizer step in place, fused where the chain allows:
/// `θ ← θ + T(g)` (see [`Transform::apply_fused`]).
///
/// The same numbers, bit for bit, as `t.update(grad, state, ctx)` followed by
/// [`apply_update`]; for the element-wise aliases (`adam`, `adamw`, `sgd`, `sign_sgd`,
/// `signum`) in one pass that reads `g`, the state and `θ` and writes the state and `θ`.
/// `grad` is scratch space and holds unspecified values afterwards. The step's context has
/// no loss value.
///
/// # Errors
/// As [`Transform::apply_fused`].
///
/// # Examples
/// ```
/// use gdlab_core::transform::{update_and_apply, Identity};
/// let mut theta = [1.0_f64, 2.0];
/// let mut g = [0.5, -1.0];
/// update_and_apply(&Identity, &mut theta, &mut g, &mut (), 0).unwrap();
/// assert_eq!(theta, [1.5, 1.0]);
/// ```
pub fn update_and_apply<F: Real, T: Transform<F>>(
    transform: &T,
    params: &mut [F],
    grad: &mut [F],
    state: &mut T::State,
    step: u64,
) -> Result<(), StepError> {
    transform.apply_fused(params, grad, state, step, None, &Fuse::IDENTITY)
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
    fn affine(&self, _len: usize, _ctx: &StepCtx<'_, F>) -> Result<Option<Affine<F>>, StepError> {
        Ok(Some(Affine::IDENTITY))
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
        self.update_fused(update, state, ctx, &Fuse::IDENTITY)
    }

    fn affine(
        &self,
        update_len: usize,
        ctx: &StepCtx<'_, F>,
    ) -> Result<Option<Affine<F>>, StepError> {
        let Some(a) = self.0.affine(update_len, ctx)? else {
            return Ok(None);
        };
        Ok(self
            .1
            .affine(update_len, ctx)?
            .and_then(|b| a.followed_by(&b)))
    }

    fn update_fused(
        &self,
        update: &mut [F],
        state: &mut Self::State,
        ctx: &StepCtx<'_, F>,
        fuse: &Fuse<F>,
    ) -> Result<(), StepError> {
        match self.plan(update.len(), ctx, fuse)? {
            Plan::IntoFirst(f) => self.0.update_fused(update, &mut state.0, ctx, &f),
            Plan::IntoSecond(f) => self.1.update_fused(update, &mut state.1, ctx, &f),
            Plan::Both(f0, f1) => {
                self.0.update_fused(update, &mut state.0, ctx, &f0)?;
                self.1.update_fused(update, &mut state.1, ctx, &f1)
            }
        }
    }

    fn apply_fused(
        &self,
        params: &mut [F],
        grad: &mut [F],
        state: &mut Self::State,
        step: u64,
        loss: Option<f64>,
        fuse: &Fuse<F>,
    ) -> Result<(), StepError> {
        let plan = {
            let ctx = StepCtx {
                step,
                params: &*params,
                loss,
            };
            self.plan(grad.len(), &ctx, fuse)?
        };
        match plan {
            Plan::IntoFirst(f) => self
                .0
                .apply_fused(params, grad, &mut state.0, step, loss, &f),
            Plan::IntoSecond(f) => self
                .1
                .apply_fused(params, grad, &mut state.1, step, loss, &f),
            Plan::Both(f0, f1) => {
                let ctx = StepCtx {
                    step,
                    params: &*params,
                    loss,
                };
                self.0.update_fused(grad, &mut state.0, &ctx, &f0)?;
                self.1
                    .apply_fused(params, grad, &mut state.1, step, loss, &f1)
            }
        }
    }
}

/// How a [`Chain`] runs its two blocks with the maps it was asked to fold.
enum Plan<F> {
    /// The second block is affine and folds into the first block's `post`.
    IntoFirst(Fuse<F>),
    /// The first block is affine and folds into the second block's `pre`.
    IntoSecond(Fuse<F>),
    /// Two passes: the outer `pre` goes to the first block, the outer `post` to the second.
    Both(Fuse<F>, Fuse<F>),
}

impl<A, B> Chain<A, B> {
    fn plan<F: Real>(
        &self,
        update_len: usize,
        ctx: &StepCtx<'_, F>,
        fuse: &Fuse<F>,
    ) -> Result<Plan<F>, StepError>
    where
        A: Transform<F>,
        B: Transform<F>,
    {
        if let Some(b) = self.1.affine(update_len, ctx)? {
            if let Some(post) = b.followed_by(&fuse.post) {
                return Ok(Plan::IntoFirst(Fuse {
                    pre: fuse.pre,
                    post,
                }));
            }
        }
        if let Some(a) = self.0.affine(update_len, ctx)? {
            if let Some(pre) = fuse.pre.followed_by(&a) {
                return Ok(Plan::IntoSecond(Fuse {
                    pre,
                    post: fuse.post,
                }));
            }
        }
        Ok(Plan::Both(
            Fuse {
                pre: fuse.pre,
                post: Affine::IDENTITY,
            },
            Fuse::post(fuse.post),
        ))
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

/// The object-safe face of [`Transform`]: every method, fusion included, so that a boxed
/// chain runs exactly the passes its static type would.
trait DynTransform<F: Real>: Send + Sync {
    fn init_dyn(&self, params: &[F]) -> Box<dyn TransformState>;
    fn affine_dyn(
        &self,
        update_len: usize,
        ctx: &StepCtx<'_, F>,
    ) -> Result<Option<Affine<F>>, StepError>;
    fn update_fused_dyn(
        &self,
        update: &mut [F],
        state: &mut dyn TransformState,
        ctx: &StepCtx<'_, F>,
        fuse: &Fuse<F>,
    ) -> Result<(), StepError>;
    #[allow(clippy::too_many_arguments)] // the trait method's arguments, plus `self`
    fn apply_fused_dyn(
        &self,
        params: &mut [F],
        grad: &mut [F],
        state: &mut dyn TransformState,
        step: u64,
        loss: Option<f64>,
        fuse: &Fuse<F>,
    ) -> Result<(), StepError>;
}

fn downcast<F: Real, T: Transform<F>>(
    state: &mut dyn TransformState,
) -> Result<&mut T::State, StepError> {
    state
        .as_any_mut()
        .downcast_mut::<T::State>()
        .ok_or(StepError::StateType {
            op: std::any::type_name::<T>(),
        })
}

impl<F: Real, T: Transform<F>> DynTransform<F> for T {
    fn init_dyn(&self, params: &[F]) -> Box<dyn TransformState> {
        Box::new(self.init(params))
    }
    fn affine_dyn(
        &self,
        update_len: usize,
        ctx: &StepCtx<'_, F>,
    ) -> Result<Option<Affine<F>>, StepError> {
        self.affine(update_len, ctx)
    }
    fn update_fused_dyn(
        &self,
        update: &mut [F],
        state: &mut dyn TransformState,
        ctx: &StepCtx<'_, F>,
        fuse: &Fuse<F>,
    ) -> Result<(), StepError> {
        self.update_fused(update, downcast::<F, T>(state)?, ctx, fuse)
    }
    fn apply_fused_dyn(
        &self,
        params: &mut [F],
        grad: &mut [F],
        state: &mut dyn TransformState,
        step: u64,
        loss: Option<f64>,
        fuse: &Fuse<F>,
    ) -> Result<(), StepError> {
        self.apply_fused(params, grad, downcast::<F, T>(state)?, step, loss, fuse)
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
        self.inner
            .update_fused_dyn(update, state.as_mut(), ctx, &Fuse::IDENTITY)
    }

    fn affine(
        &self,
        update_len: usize,
        ctx: &StepCtx<'_, F>,
    ) -> Result<Option<Affine<F>>, StepError> {
        self.inner.affine_dyn(update_len, ctx)
    }

    fn update_fused(
        &self,
        update: &mut [F],
        state: &mut Self::State,
        ctx: &StepCtx<'_, F>,
        fuse: &Fuse<F>,
    ) -> Result<(), StepError> {
        self.inner
            .update_fused_dyn(update, state.as_mut(), ctx, fuse)
    }

    fn apply_fused(
        &self,
        params: &mut [F],
        grad: &mut [F],
        state: &mut Self::State,
        step: u64,
        loss: Option<f64>,
        fuse: &Fuse<F>,
    ) -> Result<(), StepError> {
        self.inner
            .apply_fused_dyn(params, grad, state.as_mut(), step, loss, fuse)
    }
}

/// Hides every fusion hook of `T`, so that a chain of `Unfused` blocks runs one plain
/// `update` pass per block, as before fusion existed. For tests and benchmarks that compare
/// fused and unfused execution (the results must be bitwise equal).
#[derive(Clone, Debug)]
pub struct Unfused<T>(pub T);

impl<F: Real, T: Transform<F>> Transform<F> for Unfused<T> {
    type State = T::State;
    fn init(&self, p: &[F]) -> T::State {
        self.0.init(p)
    }
    fn update(&self, u: &mut [F], s: &mut T::State, c: &StepCtx<'_, F>) -> Result<(), StepError> {
        self.0.update(u, s, c)
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

    /// `u ← u + λθ`, declared affine (folds away in a chain).
    #[derive(Clone, Copy, Debug)]
    struct Decay(f64);

    impl<F: Real> Transform<F> for Decay {
        type State = ();
        fn init(&self, _p: &[F]) {}
        fn update(&self, u: &mut [F], _: &mut (), c: &StepCtx<'_, F>) -> Result<(), StepError> {
            let d = F::from_f64(self.0);
            for (x, &p) in u.iter_mut().zip(c.params) {
                *x = *x + d * p;
            }
            Ok(())
        }
        fn affine(&self, _: usize, _: &StepCtx<'_, F>) -> Result<Option<Affine<F>>, StepError> {
            Ok(Some(Affine::decay(F::from_f64(self.0))))
        }
    }

    /// `u ← −η u`, declared affine.
    #[derive(Clone, Copy, Debug)]
    struct Lr(f64);

    impl<F: Real> Transform<F> for Lr {
        type State = ();
        fn init(&self, _p: &[F]) {}
        fn update(&self, u: &mut [F], _: &mut (), _: &StepCtx<'_, F>) -> Result<(), StepError> {
            let c = F::from_f64(-self.0);
            u.iter_mut().for_each(|x| *x = *x * c);
            Ok(())
        }
        fn affine(&self, _: usize, _: &StepCtx<'_, F>) -> Result<Option<Affine<F>>, StepError> {
            Ok(Some(Affine::scale(F::from_f64(-self.0))))
        }
    }

    /// An element-wise block with state, written with `Fuse::run`, that counts its passes.
    #[derive(Clone, Debug, Default)]
    struct Ema(std::sync::Arc<std::sync::atomic::AtomicUsize>);

    impl Ema {
        fn passes(&self) -> usize {
            self.0.load(std::sync::atomic::Ordering::Relaxed)
        }
        fn pass<F: Real>(
            &self,
            m: &mut [F],
            pass: Pass<'_, F>,
            fuse: &Fuse<F>,
        ) -> Result<(), StepError> {
            self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let (b, c) = (F::from_f64(0.75), F::from_f64(0.25));
            fuse.run(pass, |i, g| {
                m[i] = b * m[i] + c * g * g;
                g / (m[i].sqrt() + F::one())
            })
        }
    }

    impl<F: Real> Transform<F> for Ema {
        type State = Vec<F>;
        fn init(&self, p: &[F]) -> Vec<F> {
            vec![F::zero(); p.len()]
        }
        fn update(&self, u: &mut [F], m: &mut Vec<F>, c: &StepCtx<'_, F>) -> Result<(), StepError> {
            self.update_fused(u, m, c, &Fuse::IDENTITY)
        }
        fn update_fused(
            &self,
            u: &mut [F],
            m: &mut Vec<F>,
            c: &StepCtx<'_, F>,
            fuse: &Fuse<F>,
        ) -> Result<(), StepError> {
            self.pass(
                m,
                Pass::Update {
                    update: u,
                    params: c.params,
                },
                fuse,
            )
        }
        fn apply_fused(
            &self,
            params: &mut [F],
            grad: &mut [F],
            m: &mut Vec<F>,
            _: u64,
            _: Option<f64>,
            fuse: &Fuse<F>,
        ) -> Result<(), StepError> {
            self.pass(m, Pass::Apply { grad, params }, fuse)
        }
    }

    /// Runs `steps` steps through `update` + `apply_update` and through `update_and_apply`;
    /// returns the parameter trajectories of both.
    fn trajectories<T: Transform<f64>>(t: &T, theta0: &[f64], grads: &[Vec<f64>]) -> [Vec<u64>; 2] {
        let (mut a, mut b) = (theta0.to_vec(), theta0.to_vec());
        let (mut sa, mut sb) = (t.init(&a), t.init(&b));
        let (mut ta, mut tb) = (Vec::new(), Vec::new());
        for (k, g) in grads.iter().enumerate() {
            let mut u = g.clone();
            t.update(&mut u, &mut sa, &StepCtx::new(k as u64, &a))
                .unwrap();
            apply_update(&mut a, &u).unwrap();
            let mut g2 = g.clone();
            update_and_apply(t, &mut b, &mut g2, &mut sb, k as u64).unwrap();
            ta.extend(a.iter().map(|x| x.to_bits()));
            tb.extend(b.iter().map(|x| x.to_bits()));
        }
        [ta, tb]
    }

    fn arb_affine() -> impl proptest::strategy::Strategy<Value = Affine<f64>> {
        use proptest::prelude::*;
        (
            proptest::option::of(-2.0f64..2.0),
            proptest::option::of(-2.0f64..2.0),
        )
            .prop_map(|(decay, scale)| Affine { decay, scale })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        #[test]
        fn folded_affine_maps_are_bitwise_exact(a in arb_affine(), b in arb_affine(),
                                                u in -1e3f64..1e3, theta in -1e3f64..1e3) {
            if let Some(ab) = a.followed_by(&b) {
                proptest::prop_assert_eq!(ab.apply(u, theta).to_bits(),
                                          b.apply(a.apply(u, theta), theta).to_bits());
            }
        }

        #[test]
        fn fused_chains_equal_unfused_chains_bitwise(
            decay in 0.0f64..0.5, lr in 1e-3f64..1.0,
            theta in proptest::collection::vec(-3.0f64..3.0, 1..9),
            seed in proptest::collection::vec(-5.0f64..5.0, 4),
        ) {
            let grads: Vec<Vec<f64>> = seed.iter().enumerate()
                .map(|(k, s)| theta.iter().enumerate().map(|(i, t)| s * t + (i + k) as f64).collect())
                .collect();
            // Decoupled decay (adamw shape), L2 decay (adam shape), both, and a lone block.
            let fused = trajectories(&Ema::default().then(Decay(decay)).then(Lr(lr)), &theta, &grads);
            let plain = trajectories(
                &Unfused(Ema::default()).then(Unfused(Decay(decay))).then(Unfused(Lr(lr))), &theta, &grads);
            proptest::prop_assert_eq!(&fused, &plain);
            proptest::prop_assert_eq!(&fused[0], &fused[1]);
            let fused = trajectories(&Decay(decay).then(Ema::default()).then(Lr(lr)), &theta, &grads);
            let plain = trajectories(
                &Unfused(Decay(decay)).then(Unfused(Ema::default())).then(Unfused(Lr(lr))), &theta, &grads);
            proptest::prop_assert_eq!(&fused, &plain);
            let fused = trajectories(
                &chain![Decay(decay), Ema::default(), Decay(decay), Lr(lr), Lr(lr)], &theta, &grads);
            let plain = trajectories(
                &chain![Unfused(Decay(decay)), Unfused(Ema::default()), Unfused(Decay(decay)),
                        Unfused(Lr(lr)), Unfused(Lr(lr))], &theta, &grads);
            proptest::prop_assert_eq!(&fused, &plain);
            let boxed = BoxedTransform::new(Decay(decay).then(Ema::default()).then(Lr(lr)));
            let fused = trajectories(&Decay(decay).then(Ema::default()).then(Lr(lr)), &theta, &grads);
            proptest::prop_assert_eq!(&trajectories(&boxed, &theta, &grads), &fused);
        }
    }

    fn passes_per_step<T: Transform<f64>>(t: &T, ema: &Ema, apply: bool) -> usize {
        let mut p = vec![0.5; 4];
        let mut s = t.init(&p);
        let before = ema.passes();
        let mut g = vec![1.0; 4];
        if apply {
            update_and_apply(t, &mut p, &mut g, &mut s, 0).unwrap();
        } else {
            t.update(&mut g, &mut s, &StepCtx::new(0, &p)).unwrap();
        }
        ema.passes() - before
    }

    #[test]
    fn affine_neighbours_cost_no_pass() {
        let e = Ema::default();
        for apply in [false, true] {
            // Only the element-wise block runs a pass; its affine neighbours fold into it,
            // through nested chains and through the boxed wrapper.
            assert_eq!(
                passes_per_step(&Decay(0.1).then(e.clone()).then(Lr(0.1)), &e, apply),
                1
            );
            assert_eq!(
                passes_per_step(&e.clone().then(Decay(0.1)).then(Lr(0.1)), &e, apply),
                1
            );
            let boxed = BoxedTransform::new(Decay(0.1).then(e.clone()));
            assert_eq!(passes_per_step(&boxed.then(Lr(0.1)), &e, apply), 1);
        }
        // The learning rate of a lone affine chain still costs nothing extra.
        let mut u = [2.0_f64];
        Decay(0.5)
            .then(Lr(0.25))
            .update(&mut u, &mut ((), ()), &StepCtx::new(0, &[4.0]))
            .unwrap();
        // Bitwise: the folded map performs the same two operations.
        assert_eq!(u[0].to_bits(), ((2.0 + 0.5 * 4.0) * -0.25_f64).to_bits());
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
