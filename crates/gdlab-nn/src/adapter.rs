//! The optimizer adapter: any gdlab optimizer ([`Transform`] chain, boxed or static, SSVR
//! included) trains a candle network.
//!
//! [`GdOptimizer`] owns the optimizer state over one flat parameter buffer `θ` laid out by
//! the network's [`ParamSet`] (the concatenation of every tensor, row-major, in the set's
//! order). One [`GdOptimizer::step`]:
//!
//! 1. copies each tensor's gradient from candle's [`GradStore`] into the flat gradient
//!    buffer (a direct read of the CPU storage, no allocation);
//! 2. runs the transform's fused kernel on the flat buffers
//!    ([`Transform::apply_fused`], the same pass as [`gdlab_core::transform::update_and_apply`]):
//!    Adam reads `g, m, v, θ` and writes `m, v, θ` in one loop;
//! 3. writes `θ` back into each candle variable's storage in place (candle's
//!    [`candle_core::InplaceOp1`]; no new tensor).
//!
//! So every step allocates nothing on the CPU device. Global blocks (clipping or
//! normalising by the global norm) see the whole network's update, exactly as they do on
//! a flat `&mut [f64]`.
//!
//! **What candle forces.** Candle gives no mutable view of a tensor's storage outside a
//! custom op, and no way to run gdlab's kernel on several tensors' storages at once; the
//! adapter therefore keeps its own flat copy of `θ` and copies the gradient in and `θ`
//! out (two extra streaming passes, no allocation). On a non-CPU device
//! (`--features cuda`) the copies go through the host: reading a gradient allocates a host
//! vector (`to_vec1`) and writing a parameter allocates a device tensor ([`candle_core::Var::set`]).
//! The forward and backward passes allocate their own tensors as candle always does.
//!
//! The adapter owns the parameter values between steps: code that changes a variable
//! directly must call [`GdOptimizer::reload_params`] before the next step.
//!
//! [`StormOptimizer`] adds the STORM / SSVR estimator, which needs the gradient of the
//! same minibatch at the previous iterate.

use candle_core::backprop::GradStore;
use candle_core::Tensor;
use gdlab_core::layout::Layout;
use gdlab_core::runner::{Observer, StepRecord};
use gdlab_core::transform::{Fuse, Transform};
use gdlab_core::{ConfigError, Real};
use gdlab_optim::kernel::storm_combine;

use crate::error::{NnError, Result};
use crate::params::ParamSet;
use crate::real::NnReal;

/// A gdlab optimizer bound to a candle network's parameters.
///
/// # Examples
/// ```
/// use candle_core::{Device, Tensor};
/// use gdlab_core::Seed;
/// use gdlab_nn::{cross_entropy, GdOptimizer, Mlp, MlpConfig, Model};
/// use gdlab_optim::{alias::adam, transform::AdamConfig};
///
/// let dev = Device::Cpu;
/// let mlp = Mlp::new::<f32>(&MlpConfig::relu(&[2, 16, 2]), Seed(1), &dev).unwrap();
/// let opt = adam(0.05, AdamConfig::default(), 0.0).unwrap();
/// let mut opt = GdOptimizer::<f32, _>::new(opt, mlp.params()).unwrap();
/// // XOR-like labels on four points.
/// let x = Tensor::new(&[[1.0_f32, 1.0], [-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]], &dev).unwrap();
/// let y = Tensor::new(&[0_u32, 0, 1, 1], &dev).unwrap();
/// let first = opt.backward_step(&cross_entropy(&mlp.forward(&x).unwrap(), &y).unwrap()).unwrap();
/// let mut last = first;
/// for _ in 0..100 {
///     last = opt.backward_step(&cross_entropy(&mlp.forward(&x).unwrap(), &y).unwrap()).unwrap();
/// }
/// assert_eq!(opt.step_count(), 101);
/// assert!(last < 0.1 * first);
/// ```
pub struct GdOptimizer<F: NnReal, T: Transform<F>> {
    transform: T,
    state: T::State,
    params: ParamSet,
    layout: Layout,
    theta: Vec<F>,
    grad: Vec<F>,
    step: u64,
}

impl<F: NnReal, T: Transform<F>> std::fmt::Debug for GdOptimizer<F, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GdOptimizer")
            .field("dtype", &F::NAME)
            .field("params", &self.params)
            .field("step", &self.step)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl<F: NnReal, T: Transform<F>> GdOptimizer<F, T> {
    /// Binds `transform` to `params`: reads their current values into the flat buffer and
    /// creates the transform's initial state there.
    ///
    /// # Errors
    /// [`NnError::Dtype`] if a parameter's dtype is not `F`.
    pub fn new(transform: T, params: &ParamSet) -> Result<Self> {
        let theta: Vec<F> = params.to_flat()?;
        let state = transform.init(&theta);
        Ok(GdOptimizer {
            grad: vec![F::zero(); theta.len()],
            layout: params.layout(),
            params: params.clone(),
            transform,
            state,
            theta,
            step: 0,
        })
    }

    /// One update from the gradients of a backward pass (see the [module docs](self)).
    ///
    /// # Errors
    /// [`NnError::MissingGrad`] if a parameter has no gradient; [`NnError::Step`] if the
    /// transform rejects the step; a candle error from the in-place write.
    pub fn step(&mut self, grads: &GradStore) -> Result<()> {
        self.step_with_loss(grads, None, &mut [])
    }

    /// [`GdOptimizer::step`] with the minibatch loss (for transforms that read it, e.g.
    /// Polyak steps) and observers. Observers see the new iterate `θ_k` after the `k`-th
    /// update (`rec.step = k`), the loss that produced it and the gradient's norm (computed
    /// only when there are observers).
    ///
    /// # Errors
    /// As [`GdOptimizer::step`]; [`NnError::Observe`] if an observer fails.
    pub fn step_with_loss(
        &mut self,
        grads: &GradStore,
        loss: Option<f64>,
        observers: &mut [&mut dyn Observer<F>],
    ) -> Result<()> {
        self.params.read_grads_into(grads, &mut self.grad)?;
        self.apply_grad_buffer(loss, observers)
    }

    /// Backpropagates `loss` (a scalar tensor), takes one step and returns the loss value.
    ///
    /// # Errors
    /// [`NnError::NonFinite`] if the loss is NaN or infinite (nothing is updated); otherwise
    /// as [`GdOptimizer::step`].
    pub fn backward_step(&mut self, loss: &Tensor) -> Result<f64> {
        self.backward_step_observed(loss, &mut [])
    }

    /// [`GdOptimizer::backward_step`] with observers (see [`GdOptimizer::step_with_loss`]).
    ///
    /// # Errors
    /// As [`GdOptimizer::backward_step`].
    pub fn backward_step_observed(
        &mut self,
        loss: &Tensor,
        observers: &mut [&mut dyn Observer<F>],
    ) -> Result<f64> {
        let value = scalar_value(loss)?;
        let grads = loss.backward()?;
        self.step_with_loss(&grads, Some(value), observers)?;
        Ok(value)
    }

    /// One update from a flat gradient `grad` (laid out as [`GdOptimizer::layout`]),
    /// e.g. the output of a gradient estimator.
    ///
    /// # Errors
    /// [`NnError::Shape`] if `grad` has the wrong length; otherwise as
    /// [`GdOptimizer::step`].
    pub fn step_with_flat_grad(
        &mut self,
        grad: &[F],
        loss: Option<f64>,
        observers: &mut [&mut dyn Observer<F>],
    ) -> Result<()> {
        if grad.len() != self.grad.len() {
            return Err(NnError::Shape {
                op: "GdOptimizer::step_with_flat_grad",
                expected: format!("{} gradient entries", self.grad.len()),
                got: format!("{}", grad.len()),
            });
        }
        self.grad.copy_from_slice(grad);
        self.apply_grad_buffer(loss, observers)
    }

    fn apply_grad_buffer(
        &mut self,
        loss: Option<f64>,
        observers: &mut [&mut dyn Observer<F>],
    ) -> Result<()> {
        let grad_norm = if observers.is_empty() {
            f64::NAN
        } else {
            gdlab_core::real::l2_norm(&self.grad)
        };
        self.transform.apply_fused(
            &mut self.theta,
            &mut self.grad,
            &mut self.state,
            self.step,
            loss,
            &Fuse::IDENTITY,
        )?;
        self.step += 1;
        self.params.write_flat(&self.theta)?;
        if !observers.is_empty() {
            let rec = StepRecord {
                step: self.step,
                loss: loss.unwrap_or(f64::NAN),
                grad_norm,
                params: &self.theta,
            };
            for o in observers.iter_mut() {
                o.on_step(&rec)?;
            }
        }
        Ok(())
    }

    /// Re-reads the parameter values from the candle variables (after code outside the
    /// adapter changed them). The optimizer state is kept.
    ///
    /// # Errors
    /// As [`GdOptimizer::new`].
    pub fn reload_params(&mut self) -> Result<()> {
        self.params.read_flat_into(&mut self.theta)
    }

    /// Overwrites the parameters (flat buffer and candle variables) with `theta`.
    ///
    /// # Errors
    /// [`NnError::Shape`] for the wrong length; a candle error from the write.
    pub fn set_params_flat(&mut self, theta: &[F]) -> Result<()> {
        self.params.write_flat(theta)?;
        self.theta.copy_from_slice(theta);
        Ok(())
    }

    /// Number of updates applied.
    #[must_use]
    pub fn step_count(&self) -> u64 {
        self.step
    }

    /// The current parameters as one flat buffer (the adapter's copy, equal to the candle
    /// variables after every step).
    #[must_use]
    pub fn params_flat(&self) -> &[F] {
        &self.theta
    }

    /// The layout of the flat buffer (one group per tensor, named as the tensor).
    #[must_use]
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The bound parameters.
    #[must_use]
    pub fn params(&self) -> &ParamSet {
        &self.params
    }

    /// The transform.
    #[must_use]
    pub fn transform(&self) -> &T {
        &self.transform
    }

    /// The optimizer state (clone it to checkpoint).
    #[must_use]
    pub fn state(&self) -> &T::State {
        &self.state
    }

    /// Replaces the optimizer state and step counter (restore a checkpoint).
    pub fn set_state(&mut self, state: T::State, step: u64) {
        self.state = state;
        self.step = step;
    }

    /// True when every parameter is finite.
    #[must_use]
    pub fn params_finite(&self) -> bool {
        gdlab_core::real::all_finite(&self.theta)
    }
}

/// The value of a scalar loss tensor, as `f64`; an error if it is not finite.
///
/// # Errors
/// [`NnError::Shape`] if `loss` is not a single element; [`NnError::NonFinite`] for NaN/∞.
pub fn scalar_value(loss: &Tensor) -> Result<f64> {
    if loss.elem_count() != 1 {
        return Err(NnError::Shape {
            op: "scalar loss",
            expected: "one element".into(),
            got: format!("{:?}", loss.dims()),
        });
    }
    let v = loss
        .flatten_all()?
        .to_dtype(candle_core::DType::F64)?
        .to_vec1::<f64>()?[0];
    if v.is_finite() {
        Ok(v)
    } else {
        Err(NnError::NonFinite {
            what: format!("loss ({v})"),
        })
    }
}

/// The STORM / SSVR estimator on a candle network, followed by any transform (for SSVR:
/// [`gdlab_optim::alias::sign_sgd`]):
///
/// $$ v_1 = \nabla f(\theta_1; \xi_1), \qquad
///    v_t = \nabla f(\theta_t; \xi_t) + (1-\beta)\big(v_{t-1} - \nabla f(\theta_{t-1}; \xi_t)\big) $$
///
/// and `θ_{t+1} = θ_t + T(v_t)`. Each [`StormOptimizer::step`] evaluates the caller's loss
/// closure twice on the **same** minibatch: at `θ_t`, then (after loading `θ_{t−1}` into
/// the variables) at `θ_{t−1}`; the combination is gdlab's fused
/// [`storm_combine`] kernel. The closure must therefore
/// compute the loss of one fixed minibatch from the current variable values.
///
/// # Examples
/// ```
/// use candle_core::{Device, Tensor};
/// use gdlab_core::Seed;
/// use gdlab_nn::{cross_entropy, Mlp, MlpConfig, Model, StormOptimizer};
/// use gdlab_optim::alias::sign_sgd;
/// let dev = Device::Cpu;
/// let mlp = Mlp::new::<f32>(&MlpConfig::relu(&[2, 8, 2]), Seed(3), &dev).unwrap();
/// let mut ssvr = StormOptimizer::<f32, _>::new(0.5, sign_sgd(0.01).unwrap(), mlp.params()).unwrap();
/// let x = Tensor::new(&[[1.0_f32, 0.0], [0.0, 1.0]], &dev).unwrap();
/// let y = Tensor::new(&[0_u32, 1], &dev).unwrap();
/// let l0 = ssvr.step(|| cross_entropy(&mlp.forward(&x)?, &y)).unwrap();
/// let mut l = l0;
/// for _ in 0..50 { l = ssvr.step(|| cross_entropy(&mlp.forward(&x)?, &y)).unwrap(); }
/// assert!(l < l0);
/// ```
///
/// # References
/// Cutkosky & Orabona (NeurIPS 2019), STORM; Jiang, Yang, Yang & Zhang (NeurIPS 2024), SSVR
/// (see [`gdlab_optim::estimator::Storm`], the same estimator on gdlab's oracles).
pub struct StormOptimizer<F: NnReal, T: Transform<F>> {
    opt: GdOptimizer<F, T>,
    beta: F,
    v: Vec<F>,
    g_prev: Vec<F>,
    theta_prev: Vec<F>,
}

impl<F: NnReal, T: Transform<F>> std::fmt::Debug for StormOptimizer<F, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StormOptimizer")
            .field("beta", &self.beta)
            .field("opt", &self.opt)
            .finish_non_exhaustive()
    }
}

impl<F: NnReal, T: Transform<F>> StormOptimizer<F, T> {
    /// STORM with weight `beta ∈ (0, 1]` on the fresh gradient (`β = 1` is plain
    /// minibatch SGD through `transform`).
    ///
    /// # Errors
    /// [`NnError::Config`] for `beta ∉ (0, 1]`; as [`GdOptimizer::new`].
    pub fn new(beta: f64, transform: T, params: &ParamSet) -> Result<Self> {
        if !(beta > 0.0 && beta <= 1.0) {
            return Err(ConfigError::OutOfRange {
                field: "beta",
                value: beta,
                allowed: "(0, 1]",
            }
            .into());
        }
        let opt = GdOptimizer::new(transform, params)?;
        let n = opt.theta.len();
        Ok(StormOptimizer {
            opt,
            beta: <F as Real>::from_f64(beta),
            v: Vec::new(),
            g_prev: vec![F::zero(); n],
            theta_prev: vec![F::zero(); n],
        })
    }

    /// One SSVR step on the minibatch that `loss_at` evaluates; returns the loss at `θ_t`.
    ///
    /// # Errors
    /// [`NnError::NonFinite`] for a non-finite loss; as [`GdOptimizer::step`].
    pub fn step<L>(&mut self, mut loss_at: L) -> Result<f64>
    where
        L: FnMut() -> Result<Tensor>,
    {
        let loss = loss_at()?;
        let value = scalar_value(&loss)?;
        let grads = loss.backward()?;
        let ps = self.opt.params.clone();
        if self.v.is_empty() {
            self.v = vec![F::zero(); self.opt.theta.len()];
            ps.read_grads_into(&grads, &mut self.v)?;
        } else {
            ps.read_grads_into(&grads, &mut self.opt.grad)?;
            // ∇f(θ_{t−1}; ξ_t): load θ_{t−1}, evaluate, restore θ_t.
            ps.write_flat(&self.theta_prev)?;
            let prev = loss_at();
            let prev_grads = prev.and_then(|l| {
                scalar_value(&l)?;
                Ok(l.backward()?)
            });
            ps.write_flat(&self.opt.theta)?;
            ps.read_grads_into(&prev_grads?, &mut self.g_prev)?;
            storm_combine(&mut self.v, &self.opt.grad, &self.g_prev, self.beta);
        }
        self.theta_prev.copy_from_slice(&self.opt.theta);
        self.opt.grad.copy_from_slice(&self.v);
        self.opt.apply_grad_buffer(Some(value), &mut [])?;
        Ok(value)
    }

    /// The wrapped optimizer (parameters, step count, transform state).
    #[must_use]
    pub fn inner(&self) -> &GdOptimizer<F, T> {
        &self.opt
    }

    /// The current estimate `v_t` (empty before the first step).
    #[must_use]
    pub fn estimate(&self) -> &[F] {
        &self.v
    }
}
