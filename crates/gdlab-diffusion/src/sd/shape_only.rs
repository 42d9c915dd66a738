//! A shape-only [`VarBuilder`]: build any candle model without weights and list the
//! tensors it asks for.
//!
//! [`ShapeOnlyBackend`] answers every `vb.get(shape, name)` with a zero tensor and records
//! `(name, shape, dtype)`. Tensors of rank ≥ 2 (weights) are **zero-cost**: one zero
//! element broadcast to `shape`, so even the 860M-parameter SD UNet costs no memory.
//! Tensors of rank ≤ 1 (biases, norm gains: a fraction of a percent of a model) are
//! materialised, because candle's fused layer norm needs contiguous gains. Uses:
//!
//! * list the tensors a model needs before opening any weights file
//!   ([`required_tensors`]), e.g. to report a missing key or a wrong shape by name;
//! * check a model's key names and parameter count against a reference layout;
//! * run shape checks through `forward`: the weights are all zero, every value is finite
//!   (e.g. `GroupNorm` of a zero map is zero), and candle's CPU matmul and conv2d accept
//!   the broadcast (stride-0) weights (tested below). The outputs are meaningless
//!   numerically; use these models for shapes only.
//!
//! `get_unchecked` (a request without a shape) fails: a shape-only builder cannot invent
//! a shape. `contains_tensor` answers `true` for every name, so models that probe for
//! optional tensors build their full variant; [`ShapeOnlyBackend::with_keys`] answers from
//! a given key set instead (e.g. a weights file's header), so probing constructors (candle's
//! VAE attention: `to_q` or `query`) take the branch the real file will take.
//!
//! # Examples
//! ```
//! use gdlab_diffusion::sd::shape_only::required_tensors;
//! let specs = required_tensors(|vb| candle_nn::linear(3, 2, vb.pp("proj"))).unwrap();
//! let names: Vec<_> = specs.iter().map(|s| (s.name.as_str(), s.shape.clone())).collect();
//! assert_eq!(names, vec![("proj.weight", vec![2, 3]), ("proj.bias", vec![2])]);
//! ```

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};

use candle_core::{DType, Device, Shape, Tensor};
use candle_nn::var_builder::SimpleBackend;
use candle_nn::VarBuilder;

use crate::error::{DiffusionError, Result};

/// One tensor a model asked for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TensorSpec {
    /// Full key, e.g. `down_blocks.0.attentions.0.proj_in.weight`.
    pub name: String,
    /// Requested shape.
    pub shape: Vec<usize>,
    /// Requested dtype.
    pub dtype: DType,
}

impl TensorSpec {
    /// Number of elements (parameters) of the tensor.
    #[must_use]
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }
}

/// The recording, zero-cost backend (see the [module docs](self)).
///
/// Cloning shares the record, so a caller can keep a clone and read it after the model
/// has consumed the builder.
#[derive(Clone, Debug, Default)]
pub struct ShapeOnlyBackend {
    specs: Arc<Mutex<Vec<TensorSpec>>>,
    /// `None`: every name "exists"; `Some(keys)`: exactly these do.
    keys: Option<Arc<HashSet<String>>>,
}

impl ShapeOnlyBackend {
    /// An empty recorder whose `contains_tensor` is always true.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty recorder whose `contains_tensor` is true exactly for `keys`.
    #[must_use]
    pub fn with_keys(keys: impl IntoIterator<Item = String>) -> Self {
        ShapeOnlyBackend {
            specs: Arc::default(),
            keys: Some(Arc::new(keys.into_iter().collect())),
        }
    }

    /// A [`VarBuilder`] (root prefix) on this backend with default `dtype` on `device`.
    #[must_use]
    pub fn var_builder(&self, dtype: DType, device: &Device) -> VarBuilder<'static> {
        VarBuilder::from_backend(Box::new(self.clone()), dtype, device.clone())
    }

    /// Every request so far, in request order (a key requested twice appears twice).
    #[must_use]
    pub fn specs(&self) -> Vec<TensorSpec> {
        self.specs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Every key requested so far, once, with the shape of its first request, in
    /// first-request order.
    #[must_use]
    pub fn unique_specs(&self) -> Vec<TensorSpec> {
        let mut seen = HashSet::new();
        self.specs()
            .into_iter()
            .filter(|s| seen.insert(s.name.clone()))
            .collect()
    }

    /// Total number of elements over [`ShapeOnlyBackend::specs`].
    #[must_use]
    pub fn parameter_count(&self) -> usize {
        self.specs().iter().map(TensorSpec::numel).sum()
    }
}

impl SimpleBackend for ShapeOnlyBackend {
    fn get(
        &self,
        s: Shape,
        name: &str,
        _h: candle_nn::Init,
        dtype: DType,
        dev: &Device,
    ) -> candle_core::Result<Tensor> {
        self.specs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(TensorSpec {
                name: name.to_string(),
                shape: s.dims().to_vec(),
                dtype,
            });
        if s.rank() <= 1 {
            Tensor::zeros(s, dtype, dev)
        } else {
            Tensor::zeros((), dtype, dev)?.broadcast_as(s)
        }
    }

    fn get_unchecked(
        &self,
        name: &str,
        _dtype: DType,
        _dev: &Device,
    ) -> candle_core::Result<Tensor> {
        candle_core::bail!("shape-only builder: `{name}` was requested without a shape")
    }

    fn contains_tensor(&self, name: &str) -> bool {
        self.keys.as_ref().is_none_or(|k| k.contains(name))
    }
}

/// Builds a model on a shape-only builder (f32, CPU) and returns the model and every
/// tensor it requested, in request order.
///
/// # Errors
/// Whatever `build` returns, converted to [`DiffusionError`]; [`DiffusionError::Shape`]
/// if one key was requested twice with different shapes.
pub fn build_shape_only<T, E: Into<DiffusionError>>(
    build: impl FnOnce(VarBuilder<'static>) -> std::result::Result<T, E>,
) -> Result<(T, Vec<TensorSpec>)> {
    let backend = ShapeOnlyBackend::new();
    let model = build(backend.var_builder(DType::F32, &Device::Cpu)).map_err(Into::into)?;
    let specs = backend.specs();
    check_consistent(&specs)?;
    Ok((model, specs))
}

/// [`DiffusionError::Shape`] if one key was requested twice with different shapes.
fn check_consistent(specs: &[TensorSpec]) -> Result<()> {
    let mut seen: std::collections::HashMap<&str, &TensorSpec> = std::collections::HashMap::new();
    for s in specs {
        if let Some(prev) = seen.insert(s.name.as_str(), s) {
            if prev.shape != s.shape {
                return Err(DiffusionError::Shape {
                    op: format!("shape-only build: key `{}` requested twice", s.name),
                    expected: format!("{:?}", prev.shape),
                    got: format!("{:?}", s.shape),
                });
            }
        }
    }
    Ok(())
}

/// The tensors a model requests, each key once, in first-request order: build it on a
/// shape-only builder (f32, CPU) and drop it.
///
/// # Errors
/// As [`build_shape_only`].
pub fn required_tensors<T, E: Into<DiffusionError>>(
    build: impl FnOnce(VarBuilder<'static>) -> std::result::Result<T, E>,
) -> Result<Vec<TensorSpec>> {
    let backend = ShapeOnlyBackend::new();
    build(backend.var_builder(DType::F32, &Device::Cpu)).map_err(Into::into)?;
    check_consistent(&backend.specs())?;
    Ok(backend.unique_specs())
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Module;

    #[test]
    fn records_names_shapes_and_costs_nothing() {
        let (lin, specs) =
            build_shape_only(|vb| candle_nn::linear(4096, 4096, vb.pp("a").pp("b"))).unwrap();
        assert_eq!(specs.len(), 2);
        assert_eq!(specs[0].name, "a.b.weight");
        assert_eq!(specs[0].shape, vec![4096, 4096]);
        assert_eq!(specs[0].dtype, DType::F32);
        assert_eq!(specs[1].numel(), 4096);
        // one stored element, broadcast
        assert_eq!(lin.weight().stride(), &[0, 0]);
    }

    #[test]
    fn unchecked_requests_fail_and_conflicting_shapes_are_reported() {
        assert!(build_shape_only(|vb| vb.get_unchecked("w")).is_err());
        let err = build_shape_only(|vb| {
            vb.get(3, "w")?;
            vb.get(4, "w")
        })
        .unwrap_err();
        assert!(err.to_string().contains("`w`"), "{err}");
        // a repeated request with the same shape is listed once by `required_tensors`
        let specs = required_tensors(|vb| {
            vb.get(3, "w")?;
            vb.get(3, "w")
        })
        .unwrap();
        assert_eq!(specs.len(), 1);
    }

    /// candle's CPU kernels accept the broadcast zero weights, so shape checks can run
    /// `forward` on a shape-only model.
    #[test]
    fn forward_through_broadcast_weights() {
        let (m, _) = build_shape_only(|vb| -> candle_core::Result<_> {
            let cfg = candle_nn::Conv2dConfig {
                padding: 1,
                ..Default::default()
            };
            Ok((
                candle_nn::conv2d(3, 8, 3, cfg, vb.pp("conv"))?,
                candle_nn::group_norm(4, 8, 1e-5, vb.pp("gn"))?,
                candle_nn::layer_norm(8, 1e-5, vb.pp("ln"))?,
                candle_nn::linear(8, 5, vb.pp("lin"))?,
                candle_nn::linear_no_bias(8, 5, vb.pp("lin_nb"))?,
            ))
        })
        .unwrap();
        let x = Tensor::ones((2, 3, 4, 4), DType::F32, &Device::Cpu).unwrap();
        let y = m.1.forward(&m.0.forward(&x).unwrap()).unwrap();
        assert_eq!(y.dims(), &[2, 8, 4, 4]);
        let t = y.flatten_from(2).unwrap().transpose(1, 2).unwrap();
        // contiguous input: candle's fused layer-norm kernel
        let t = m.2.forward(&t.contiguous().unwrap()).unwrap();
        let a = m.3.forward(&t).unwrap();
        let b = m.4.forward(&t).unwrap();
        assert_eq!(a.dims(), &[2, 16, 5]);
        let s: f32 = (a.abs().unwrap() + b.abs().unwrap())
            .unwrap()
            .sum_all()
            .unwrap()
            .to_scalar()
            .unwrap();
        assert!(s.abs() < 1e-30);
    }
}
