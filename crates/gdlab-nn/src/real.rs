//! [`NnReal`]: the element types a network's parameters can have (`f32`, `f64`).

use candle_core::{CpuStorage, DType, WithDType};
use gdlab_core::Real;

/// A parameter element type shared by gdlab's optimizer kernels ([`Real`]) and candle
/// ([`WithDType`]): `f32` (networks) or `f64` (gradient checks).
pub trait NnReal: Real + WithDType {
    /// The candle dtype of this element type.
    const CANDLE_DTYPE: DType;

    /// The elements of a CPU storage of this dtype, mutably (`None` for another dtype).
    fn storage_mut(s: &mut CpuStorage) -> Option<&mut [Self]>;

    /// The elements of a CPU storage of this dtype (`None` for another dtype).
    fn storage(s: &CpuStorage) -> Option<&[Self]>;
}

impl NnReal for f32 {
    const CANDLE_DTYPE: DType = DType::F32;
    fn storage_mut(s: &mut CpuStorage) -> Option<&mut [f32]> {
        match s {
            CpuStorage::F32(v) => Some(v.as_mut_slice()),
            _ => None,
        }
    }
    fn storage(s: &CpuStorage) -> Option<&[f32]> {
        match s {
            CpuStorage::F32(v) => Some(v.as_slice()),
            _ => None,
        }
    }
}

impl NnReal for f64 {
    const CANDLE_DTYPE: DType = DType::F64;
    fn storage_mut(s: &mut CpuStorage) -> Option<&mut [f64]> {
        match s {
            CpuStorage::F64(v) => Some(v.as_mut_slice()),
            _ => None,
        }
    }
    fn storage(s: &CpuStorage) -> Option<&[f64]> {
        match s {
            CpuStorage::F64(v) => Some(v.as_slice()),
            _ => None,
        }
    }
}
