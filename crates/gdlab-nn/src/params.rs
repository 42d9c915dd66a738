//! [`ParamSet`]: a network's parameters as an ordered list of named candle [`Var`]s, and
//! the copies between candle storage and gdlab's flat buffers.
//!
//! gdlab optimizers work on one flat `&mut [F]` ([`gdlab_core::Transform`]); a network keeps
//! its parameters in candle tensors. A [`ParamSet`] fixes the order (the order of
//! [`ParamSet::push`], or sorted names for [`ParamSet::from_varmap`]) and so the
//! [`Layout`] of the flat buffer: group `name` of the layout is the flattened (row-major)
//! tensor `name`.
//!
//! On the CPU the copies read and write the tensors' storage directly (a read lock for
//! reading; candle's in-place custom op [`candle_core::InplaceOp1`] for writing), so they
//! allocate nothing. On other devices (`--features cuda`) candle gives no host view of
//! the storage: reading goes through `to_vec1` and writing through [`Var::set`], which
//! allocate one host vector or device tensor per parameter per call.

use std::fmt;

use candle_core::backprop::GradStore;
use candle_core::{CpuStorage, InplaceOp1, Layout as CandleLayout, Storage, Tensor, Var};
use candle_nn::VarMap;
use gdlab_core::layout::Layout;

use crate::error::{NnError, Result};
use crate::real::NnReal;

/// The parameters of a network: named candle variables in a fixed order.
///
/// # Examples
/// ```
/// use candle_core::{Device, Var};
/// use gdlab_nn::ParamSet;
/// let mut ps = ParamSet::new();
/// ps.push("w", Var::from_vec(vec![1.0_f32, 2.0, 3.0, 4.0], (2, 2), &Device::Cpu).unwrap()).unwrap();
/// ps.push("b", Var::from_vec(vec![0.5_f32, -0.5], 2, &Device::Cpu).unwrap()).unwrap();
/// assert_eq!(ps.n_params(), 6);
/// let flat: Vec<f32> = ps.to_flat().unwrap();
/// assert_eq!(flat, vec![1.0, 2.0, 3.0, 4.0, 0.5, -0.5]);
/// ps.write_flat(&[0.0_f32; 6]).unwrap();
/// assert_eq!(ps.to_flat::<f32>().unwrap(), vec![0.0; 6]);
/// ```
#[derive(Clone, Default)]
pub struct ParamSet {
    entries: Vec<(String, Var)>,
}

impl fmt::Debug for ParamSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.entries.iter().map(|(n, v)| (n, v.dims().to_vec())))
            .finish()
    }
}

impl ParamSet {
    /// An empty set.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a parameter.
    ///
    /// # Errors
    /// [`NnError::Shape`] if `name` is empty or already used.
    pub fn push(&mut self, name: impl Into<String>, var: Var) -> Result<()> {
        let name = name.into();
        if name.is_empty() || self.get(&name).is_some() {
            return Err(NnError::Shape {
                op: "ParamSet::push",
                expected: "a non-empty, unique parameter name".into(),
                got: format!("`{name}`"),
            });
        }
        self.entries.push((name, var));
        Ok(())
    }

    /// Appends every parameter of `other`, each name prefixed by `prefix` (`prefix.name`).
    ///
    /// # Errors
    /// As [`ParamSet::push`].
    pub fn extend_prefixed(&mut self, prefix: &str, other: &ParamSet) -> Result<()> {
        for (n, v) in other.iter() {
            self.push(format!("{prefix}.{n}"), v.clone())?;
        }
        Ok(())
    }

    /// The variables of a [`VarMap`], in sorted name order (a `VarMap` is a hash map, so
    /// its own order is not deterministic).
    #[must_use]
    pub fn from_varmap(varmap: &VarMap) -> Self {
        let data = varmap.data().lock();
        let mut entries: Vec<(String, Var)> = match data {
            Ok(map) => map.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            Err(poisoned) => poisoned
                .into_inner()
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        };
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        ParamSet { entries }
    }

    /// A [`VarMap`] holding the same variables (shared storage, not copies), for code that
    /// wants candle's own API (`candle_nn::VarBuilder::from_varmap`, candle's optimizers).
    #[must_use]
    pub fn to_varmap(&self) -> VarMap {
        let vm = VarMap::new();
        {
            let mut data = match vm.data().lock() {
                Ok(d) => d,
                Err(p) => p.into_inner(),
            };
            for (n, v) in &self.entries {
                data.insert(n.clone(), v.clone());
            }
        }
        vm
    }

    /// Number of tensors.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there are no tensors.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Total number of scalar parameters.
    #[must_use]
    pub fn n_params(&self) -> usize {
        self.entries.iter().map(|(_, v)| v.elem_count()).sum()
    }

    /// `(name, variable)` in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Var)> {
        self.entries.iter().map(|(n, v)| (n.as_str(), v))
    }

    /// The variables in order (cheap clones sharing storage).
    #[must_use]
    pub fn vars(&self) -> Vec<Var> {
        self.entries.iter().map(|(_, v)| v.clone()).collect()
    }

    /// The variable called `name`.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&Var> {
        self.entries.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// The flat buffer's layout: one group per tensor, named as the tensor.
    #[must_use]
    pub fn layout(&self) -> Layout {
        let mut l = Layout::default();
        for (n, v) in &self.entries {
            // Names are unique and non-empty by construction, so `push` cannot fail.
            let _ = l.push(n, v.elem_count());
        }
        l
    }

    /// The names of the tensors with at least two dimensions (weight matrices and
    /// convolution kernels; biases excluded, as the tail-index estimate of the spec).
    #[must_use]
    pub fn matrix_names(&self) -> Vec<String> {
        self.entries
            .iter()
            .filter(|(_, v)| v.rank() >= 2)
            .map(|(n, _)| n.clone())
            .collect()
    }

    fn check_len(&self, op: &'static str, len: usize) -> Result<()> {
        let n = self.n_params();
        if n == len {
            Ok(())
        } else {
            Err(NnError::Shape {
                op,
                expected: format!("a flat buffer of {n} elements"),
                got: format!("{len}"),
            })
        }
    }

    /// Copies every parameter, flattened and in order, into `out`.
    ///
    /// # Errors
    /// [`NnError::Shape`] if `out.len() != self.n_params()`; [`NnError::Dtype`] if a
    /// tensor's dtype is not `F`.
    pub fn read_flat_into<F: NnReal>(&self, out: &mut [F]) -> Result<()> {
        self.check_len("ParamSet::read_flat_into", out.len())?;
        let mut at = 0;
        for (n, v) in &self.entries {
            let k = v.elem_count();
            copy_tensor_into(n, v.as_tensor(), &mut out[at..at + k])?;
            at += k;
        }
        Ok(())
    }

    /// The parameters as one flat vector.
    ///
    /// # Errors
    /// As [`ParamSet::read_flat_into`].
    pub fn to_flat<F: NnReal>(&self) -> Result<Vec<F>> {
        let mut out = vec![F::zero(); self.n_params()];
        self.read_flat_into(&mut out)?;
        Ok(out)
    }

    /// Overwrites every parameter, in place, from the flat buffer `src`.
    ///
    /// # Errors
    /// [`NnError::Shape`] if `src.len() != self.n_params()`; [`NnError::Dtype`] on a dtype
    /// other than `F`; [`NnError::Candle`] if candle refuses the in-place write.
    pub fn write_flat<F: NnReal>(&self, src: &[F]) -> Result<()> {
        self.check_len("ParamSet::write_flat", src.len())?;
        let mut at = 0;
        for (n, v) in &self.entries {
            let k = v.elem_count();
            write_var_from(n, v, &src[at..at + k])?;
            at += k;
        }
        Ok(())
    }

    /// Copies the gradient of every parameter, flattened and in order, into `out`.
    ///
    /// # Errors
    /// [`NnError::MissingGrad`] if `grads` has no gradient for a parameter; otherwise as
    /// [`ParamSet::read_flat_into`].
    pub fn read_grads_into<F: NnReal>(&self, grads: &GradStore, out: &mut [F]) -> Result<()> {
        self.check_len("ParamSet::read_grads_into", out.len())?;
        let mut at = 0;
        for (n, v) in &self.entries {
            let k = v.elem_count();
            let g = grads
                .get(v.as_tensor())
                .ok_or_else(|| NnError::MissingGrad { name: n.clone() })?;
            copy_tensor_into(n, g, &mut out[at..at + k])?;
            at += k;
        }
        Ok(())
    }
}

fn check_dtype<F: NnReal>(name: &str, t: &Tensor) -> Result<()> {
    if t.dtype() == F::CANDLE_DTYPE {
        Ok(())
    } else {
        Err(NnError::Dtype {
            name: name.to_string(),
            expected: F::NAME,
            got: format!("{:?}", t.dtype()),
        })
    }
}

/// Copies tensor `t` (any layout, any device), flattened row-major, into `out`.
///
/// On the CPU with a contiguous layout this reads the storage directly (no allocation);
/// otherwise it goes through `flatten_all().to_vec1()`.
///
/// # Errors
/// [`NnError::Dtype`] if `t`'s dtype is not `F`; [`NnError::Shape`] if `out` has the wrong
/// length.
pub fn copy_tensor_into<F: NnReal>(name: &str, t: &Tensor, out: &mut [F]) -> Result<()> {
    check_dtype::<F>(name, t)?;
    if out.len() != t.elem_count() {
        return Err(NnError::Shape {
            op: "copy_tensor_into",
            expected: format!("{} elements for `{name}`", t.elem_count()),
            got: format!("{}", out.len()),
        });
    }
    {
        let (storage, layout) = t.storage_and_layout();
        if let (Storage::Cpu(cpu), Some((start, end))) = (&*storage, layout.contiguous_offsets()) {
            if let Some(data) = F::storage(cpu) {
                out.copy_from_slice(&data[start..end]);
                return Ok(());
            }
        }
    }
    let v = t.flatten_all()?.to_vec1::<F>()?;
    out.copy_from_slice(&v);
    Ok(())
}

/// Candle in-place op: overwrite a contiguous CPU tensor with `src`.
struct CopyFrom<'a, F> {
    src: &'a [F],
}

impl<F: NnReal> InplaceOp1 for CopyFrom<'_, F> {
    fn name(&self) -> &'static str {
        "gdlab-copy-from"
    }

    fn cpu_fwd(&self, storage: &mut CpuStorage, layout: &CandleLayout) -> candle_core::Result<()> {
        let Some((start, end)) = layout.contiguous_offsets() else {
            candle_core::bail!("gdlab-copy-from: the parameter tensor is not contiguous")
        };
        let Some(data) = F::storage_mut(storage) else {
            candle_core::bail!("gdlab-copy-from: storage dtype is not {}", F::NAME)
        };
        if end - start != self.src.len() {
            candle_core::bail!(
                "gdlab-copy-from: {} elements, source has {}",
                end - start,
                self.src.len()
            )
        }
        data[start..end].copy_from_slice(self.src);
        Ok(())
    }
}

/// Overwrites variable `v` with `src` (flattened row-major), in place on the CPU.
///
/// # Errors
/// [`NnError::Dtype`], [`NnError::Shape`], or a candle error from the write.
pub fn write_var_from<F: NnReal>(name: &str, v: &Var, src: &[F]) -> Result<()> {
    check_dtype::<F>(name, v.as_tensor())?;
    if src.len() != v.elem_count() {
        return Err(NnError::Shape {
            op: "write_var_from",
            expected: format!("{} elements for `{name}`", v.elem_count()),
            got: format!("{}", src.len()),
        });
    }
    if v.device().is_cpu() && v.layout().is_contiguous() {
        v.as_tensor().inplace_op1(&CopyFrom { src })?;
    } else {
        let t = Tensor::from_slice(src, v.shape(), v.device())?;
        v.set(&t)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn flat_round_trip_and_layout() {
        let dev = Device::Cpu;
        let mut ps = ParamSet::new();
        ps.push(
            "a",
            Var::from_vec(vec![1.0_f64, 2.0, 3.0, 4.0, 5.0, 6.0], (2, 3), &dev).unwrap(),
        )
        .unwrap();
        ps.push("b", Var::from_vec(vec![7.0_f64], 1, &dev).unwrap())
            .unwrap();
        assert!(ps
            .push("a", Var::zeros(1, candle_core::DType::F64, &dev).unwrap())
            .is_err());
        let l = ps.layout();
        assert_eq!(l.get("a"), Some(0..6));
        assert_eq!(l.get("b"), Some(6..7));
        assert_eq!(ps.matrix_names(), vec!["a".to_string()]);
        let src: Vec<f64> = (0..7).map(|i| f64::from(i) * 0.5).collect();
        ps.write_flat(&src).unwrap();
        // The tensor itself changed (same storage), read through candle's own API.
        let a = ps.get("a").unwrap().as_tensor().to_vec2::<f64>().unwrap();
        assert_eq!(a, vec![vec![0.0, 0.5, 1.0], vec![1.5, 2.0, 2.5]]);
        assert_eq!(ps.to_flat::<f64>().unwrap(), src);
        // Wrong length and wrong dtype are errors, not panics.
        assert!(matches!(
            ps.write_flat(&[0.0_f64; 3]),
            Err(NnError::Shape { .. })
        ));
        assert!(matches!(ps.to_flat::<f32>(), Err(NnError::Dtype { .. })));
    }

    #[test]
    fn varmap_round_trip_is_sorted_and_shared() {
        let dev = Device::Cpu;
        let mut ps = ParamSet::new();
        ps.push("z", Var::from_vec(vec![1.0_f32], 1, &dev).unwrap())
            .unwrap();
        ps.push("a", Var::from_vec(vec![2.0_f32], 1, &dev).unwrap())
            .unwrap();
        let vm = ps.to_varmap();
        let back = ParamSet::from_varmap(&vm);
        let names: Vec<&str> = back.iter().map(|(n, _)| n).collect();
        assert_eq!(names, vec!["a", "z"]);
        back.write_flat(&[5.0_f32, 6.0]).unwrap();
        assert_eq!(ps.to_flat::<f32>().unwrap(), vec![6.0, 5.0]);
    }
}
