//! In-memory datasets and minibatches.
//!
//! A [`Dataset`] holds `n` examples of a fixed shape as one flat row-major buffer plus
//! `u32` labels. Minibatches are index lists from gdlab's samplers
//! ([`gdlab_core::sampler::MinibatchCursor`], see [`Dataset::batches`]); [`Dataset::gather`]
//! turns an index list into candle tensors. Building the input tensor of a batch allocates
//! (candle tensors own their storage); the optimizer update does not (see
//! [`crate::adapter`]).

use candle_core::{Device, Tensor};
use gdlab_core::sampler::{MinibatchCursor, Replacement, Sampler};
use gdlab_core::Seed;

use crate::error::{NnError, Result};
use crate::real::NnReal;

/// `n` labelled examples of shape `example_shape`.
///
/// # Examples
/// ```
/// use candle_core::Device;
/// use gdlab_nn::Dataset;
/// let ds = Dataset::new(vec![0.0_f32, 1.0, 2.0, 3.0, 4.0, 5.0], vec![2], vec![0, 1, 1], 2).unwrap();
/// let (x, y) = ds.gather(&[2, 0], &Device::Cpu).unwrap();
/// assert_eq!(x.to_vec2::<f32>().unwrap(), vec![vec![4.0, 5.0], vec![0.0, 1.0]]);
/// assert_eq!(y.to_vec1::<u32>().unwrap(), vec![1, 0]);
/// // Labels must be < n_classes.
/// assert!(Dataset::new(vec![0.0_f32; 2], vec![2], vec![5], 2).is_err());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset<F = f32> {
    features: Vec<F>,
    example_shape: Vec<usize>,
    labels: Vec<u32>,
    n_classes: usize,
}

impl<F: NnReal> Dataset<F> {
    /// Checks and wraps the buffers.
    ///
    /// # Errors
    /// [`NnError::Shape`] if `features.len() != labels.len() · Π example_shape`, the shape
    /// has a zero or no dimension, or `n_classes` is 0; [`NnError::Shape`] if a label is
    /// `≥ n_classes`; [`NnError::NonFinite`] for a NaN or infinite feature.
    pub fn new(
        features: Vec<F>,
        example_shape: Vec<usize>,
        labels: Vec<u32>,
        n_classes: usize,
    ) -> Result<Self> {
        let per: usize = example_shape.iter().product();
        if example_shape.is_empty() || per == 0 || n_classes == 0 {
            return Err(NnError::Shape {
                op: "Dataset::new",
                expected: "a non-empty example shape without zeros and n_classes ≥ 1".into(),
                got: format!("shape {example_shape:?}, n_classes {n_classes}"),
            });
        }
        if features.len() != labels.len() * per {
            return Err(NnError::Shape {
                op: "Dataset::new",
                expected: format!("{} × {per} = {} features", labels.len(), labels.len() * per),
                got: format!("{}", features.len()),
            });
        }
        if let Some((i, &y)) = labels
            .iter()
            .enumerate()
            .find(|(_, &y)| y as usize >= n_classes)
        {
            return Err(NnError::Shape {
                op: "Dataset::new",
                expected: format!("labels in [0, {n_classes})"),
                got: format!("label {y} at example {i}"),
            });
        }
        if let Some(i) = features.iter().position(|x| !x.is_finite()) {
            return Err(NnError::NonFinite {
                what: format!("feature {} of example {}", i % per, i / per),
            });
        }
        Ok(Dataset {
            features,
            example_shape,
            labels,
            n_classes,
        })
    }

    /// Number of examples.
    #[must_use]
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when there are no examples.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Shape of one example.
    #[must_use]
    pub fn example_shape(&self) -> &[usize] {
        &self.example_shape
    }

    /// Elements per example.
    #[must_use]
    pub fn example_len(&self) -> usize {
        self.example_shape.iter().product()
    }

    /// Number of classes.
    #[must_use]
    pub fn n_classes(&self) -> usize {
        self.n_classes
    }

    /// The labels.
    #[must_use]
    pub fn labels(&self) -> &[u32] {
        &self.labels
    }

    /// All features, row-major, example after example.
    #[must_use]
    pub fn features(&self) -> &[F] {
        &self.features
    }

    /// Mutable labels (e.g. to flip a fraction of them for a label-noise experiment).
    ///
    /// Keep them `< n_classes`: other methods assume it.
    pub fn labels_mut(&mut self) -> &mut [u32] {
        &mut self.labels
    }

    /// The examples `idx` as `(x [b, example_shape…], y [b])` tensors on `device`.
    ///
    /// # Errors
    /// [`NnError::Shape`] for an index `≥ len()`; a candle error on the device.
    pub fn gather(&self, idx: &[usize], device: &Device) -> Result<(Tensor, Tensor)> {
        let per = self.example_len();
        let mut x = Vec::with_capacity(idx.len() * per);
        let mut y = Vec::with_capacity(idx.len());
        for &i in idx {
            if i >= self.len() {
                return Err(NnError::Shape {
                    op: "Dataset::gather",
                    expected: format!("indices < {}", self.len()),
                    got: format!("{i}"),
                });
            }
            x.extend_from_slice(&self.features[i * per..(i + 1) * per]);
            y.push(self.labels[i]);
        }
        let mut shape = vec![idx.len()];
        shape.extend_from_slice(&self.example_shape);
        Ok((
            Tensor::from_vec(x, shape, device)?,
            Tensor::from_vec(y, idx.len(), device)?,
        ))
    }

    /// The examples `idx` as a new dataset.
    ///
    /// # Errors
    /// [`NnError::Shape`] for an index `≥ len()`.
    pub fn subset(&self, idx: &[usize]) -> Result<Self> {
        let per = self.example_len();
        let mut features = Vec::with_capacity(idx.len() * per);
        let mut labels = Vec::with_capacity(idx.len());
        for &i in idx {
            if i >= self.len() {
                return Err(NnError::Shape {
                    op: "Dataset::subset",
                    expected: format!("indices < {}", self.len()),
                    got: format!("{i}"),
                });
            }
            features.extend_from_slice(&self.features[i * per..(i + 1) * per]);
            labels.push(self.labels[i]);
        }
        Ok(Dataset {
            features,
            example_shape: self.example_shape.clone(),
            labels,
            n_classes: self.n_classes,
        })
    }

    /// A cursor over shuffled minibatches of size `batch_size`: a fresh permutation every
    /// epoch (PyTorch's `DataLoader(shuffle=True)`), epoch `e` drawn from
    /// `seed.index(e)`. The last batch of an epoch is smaller when `batch_size ∤ n` unless
    /// `drop_last`.
    ///
    /// # Errors
    /// [`NnError::Config`] for `batch_size = 0` (or `> n` with `drop_last`), or an empty
    /// dataset.
    pub fn batches(
        &self,
        batch_size: usize,
        seed: Seed,
        drop_last: bool,
    ) -> Result<MinibatchCursor> {
        let s = Sampler::new(self.len(), Replacement::Without, seed)?;
        Ok(MinibatchCursor::new(s, batch_size, drop_last)?)
    }
}
