//! Gradient-transformation blocks. Each update is one fused pass over the buffers.
//!
//! Affine blocks (`u ↦ (u + λθ)·c`) run no pass of their own in a chain: they fold into
//! the neighbouring block's loop through [`gdlab_core::transform::Fuse`]. Element-wise
//! blocks write their loop once, with [`gdlab_core::transform::Fuse::run`], and serve
//! `update`, `update_fused` and `apply_fused` (the step that also writes `θ`) from it.
//!
//! | block | effect on the update `u` | passes |
//! |---|---|---|
//! | [`ScaleByLearningRate`] | `u ← −η(t) u` (the last block of every optimizer) | affine: 0 in a chain |
//! | [`Scale`] | `u ← c u` | affine: 0 in a chain |
//! | [`AddDecayedWeights`] | `u ← u + λ θ` | affine: 0 in a chain |
//! | [`ScaleByMomentum`] | heavy-ball buffer, PyTorch convention | 1 (affine when `μ = 0`) |
//! | [`ScaleByAdam`] | Adam's bias-corrected ratio, PyTorch convention | 1 |
//! | [`ScaleBySign`] | `u ← sign(u)`, `sign(0) = 0` | 1 |
//! | [`ScaleByEma`] | `m ← βm + (1−β)u`, `u ← m` (`m₀ = 0`) | 1 |
//! | [`ScaleBySignOfEma`] | Signum's EMA and sign, fused | 1 |
//! | [`NormalizeByGlobalNorm`] | `u ← u/‖u‖₂` (global) | 2 (norm, then scale) |
//! | [`ScaleBySignTimesL1`] | `u ← sign(u)·‖u‖₁` (global) | 2 (norm, then scale) |

/// Implements [`Transform`] for an element-wise block whose inherent
/// `fn pass<F: Real>(&self, &mut State, Pass<'_, F>, &Fuse<F>) -> Result<(), StepError>`
/// is its one fused pass: `update`, `update_fused` and `apply_fused` all run it. An optional
/// `|this, params| init` form gives the initialiser the block, and an
/// `affine = |this, len, ctx| …` arm overrides [`Transform::affine`] (blocks that can be the
/// identity fold away).
macro_rules! element_wise_transform {
    ($block:ty, $state:ty, |$params:ident| $init:expr) => {
        element_wise_transform!($block, $state, |_this, $params| $init);
    };
    ($block:ty, $state:ty, |$this:ident, $params:ident| $init:expr) => {
        element_wise_transform!(
            $block,
            $state,
            |$this, $params| $init,
            affine = |_this, _len, _ctx| Ok(None)
        );
    };
    ($block:ty, $state:ty, |$this:ident, $params:ident| $init:expr,
     affine = |$athis:ident, $len:ident, $ctx:ident| $affine:expr) => {
        impl<F: Real> Transform<F> for $block {
            type State = $state;
            fn init(&self, $params: &[F]) -> $state {
                let $this = self;
                $init
            }
            fn affine(
                &self,
                $len: usize,
                $ctx: &StepCtx<'_, F>,
            ) -> Result<Option<gdlab_core::transform::Affine<F>>, StepError> {
                let $athis = self;
                $affine
            }
            fn update(
                &self,
                u: &mut [F],
                s: &mut $state,
                ctx: &StepCtx<'_, F>,
            ) -> Result<(), StepError> {
                self.update_fused(u, s, ctx, &Fuse::IDENTITY)
            }
            fn update_fused(
                &self,
                u: &mut [F],
                s: &mut $state,
                ctx: &StepCtx<'_, F>,
                fuse: &Fuse<F>,
            ) -> Result<(), StepError> {
                let pass = Pass::Update {
                    update: u,
                    params: ctx.params,
                };
                self.pass(s, pass, fuse)
            }
            fn apply_fused(
                &self,
                params: &mut [F],
                grad: &mut [F],
                s: &mut $state,
                _step: u64,
                _loss: Option<f64>,
                fuse: &Fuse<F>,
            ) -> Result<(), StepError> {
                self.pass(s, Pass::Apply { grad, params }, fuse)
            }
        }
    };
}

mod adam;
mod momentum;
mod scale;
mod sign;
mod weight_decay;

pub use adam::{AdamConfig, ScaleByAdam, ScaleByAdamState};
pub use momentum::{MomentumConfig, ScaleByMomentum, ScaleByMomentumState};
pub use scale::{Scale, ScaleByLearningRate};
pub use sign::{
    NormalizeByGlobalNorm, ScaleByEma, ScaleBySign, ScaleBySignOfEma, ScaleBySignTimesL1,
};
pub use weight_decay::AddDecayedWeights;
