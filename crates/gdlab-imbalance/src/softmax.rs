//! The linear softmax model `f_W(x) = W x + b` with the mean cross-entropy loss (spec §1),
//! exact full-batch and minibatch gradients, on `f32` and `f64`.
//!
//! Parameters are one flat buffer: `W` row-major (`n_classes × n_features`, row `k` is the
//! block `w_k` of class `k`), then the bias `b` (`n_classes`) when the model has one. The
//! two large products per gradient, `Z = X Wᵀ` and `∇_W = Pᵀ X / n`, are sequential faer
//! matrix products (≈ 100 GFLOP/s in f32 on one AVX-512 core at the quick study's size;
//! splitting them into row blocks for rayon was 10× slower); the softmax pass runs in
//! fixed-size row blocks with rayon. Results are bitwise independent of the thread count;
//! parallelise across independent runs.

use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};
use gdlab_core::{Real, Seed};
use rand::Rng;
use rayon::prelude::*;

use crate::error::{ImbalanceError, Result};

/// Rows of the softmax pass per parallel block.
const ROW_BLOCK: usize = 64;

/// An element type the model runs on: `f32` or `f64` (gdlab's [`Real`] plus faer's field
/// trait for the matrix products).
pub trait Float: Real + faer::traits::ComplexField {}
impl Float for f32 {}
impl Float for f64 {}

/// A labelled data set: features row-major (`n_samples × n_features`), labels in
/// `0..n_classes`.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset<F> {
    features: Vec<F>,
    labels: Vec<usize>,
    n_features: usize,
    n_classes: usize,
}

impl<F: Float> Dataset<F> {
    /// Checks the shapes and labels.
    ///
    /// # Errors
    /// [`ImbalanceError::Dim`] if `features.len() != labels.len() · n_features`;
    /// [`ImbalanceError::Label`] for a label `≥ n_classes`.
    pub fn new(
        features: Vec<F>,
        labels: Vec<usize>,
        n_features: usize,
        n_classes: usize,
    ) -> Result<Self> {
        if features.len() != labels.len() * n_features {
            return Err(ImbalanceError::dim(
                "Dataset::new (features = n_samples · n_features)",
                labels.len() * n_features,
                features.len(),
            ));
        }
        if let Some((index, &label)) = labels.iter().enumerate().find(|(_, &l)| l >= n_classes) {
            return Err(ImbalanceError::Label {
                index,
                label,
                n_classes,
            });
        }
        Ok(Dataset {
            features,
            labels,
            n_features,
            n_classes,
        })
    }

    /// Number of samples `n`.
    #[must_use]
    pub fn n_samples(&self) -> usize {
        self.labels.len()
    }
    /// Number of features `d`.
    #[must_use]
    pub fn n_features(&self) -> usize {
        self.n_features
    }
    /// Number of classes `c`.
    #[must_use]
    pub fn n_classes(&self) -> usize {
        self.n_classes
    }
    /// The features, row-major `n × d`.
    #[must_use]
    pub fn features(&self) -> &[F] {
        &self.features
    }
    /// The labels.
    #[must_use]
    pub fn labels(&self) -> &[usize] {
        &self.labels
    }
    /// `n_k`, the number of samples of each class.
    #[must_use]
    pub fn class_counts(&self) -> Vec<u64> {
        let mut counts = vec![0_u64; self.n_classes];
        for &y in &self.labels {
            counts[y] += 1;
        }
        counts
    }
}

/// Scratch buffers reused across gradient evaluations (logits, probabilities, per-sample
/// losses, a gathered minibatch).
#[derive(Clone, Debug, Default)]
pub struct Workspace<F> {
    logits: Vec<F>,
    losses: Vec<f64>,
    batch_features: Vec<F>,
    batch_labels: Vec<usize>,
}

impl<F> Workspace<F> {
    /// The per-sample losses `ℓ(f_W(x_i), y_i)` of the last evaluation, in sample order
    /// (for a minibatch: in the order of the given indices).
    #[must_use]
    pub fn per_sample_losses(&self) -> &[f64] {
        &self.losses
    }
}

/// The linear softmax classifier `f_W(x) = W x + b` (spec §1, §4.4: `nn.Linear(d, c)`).
///
/// # Examples
/// ```
/// use gdlab_core::Seed;
/// use gdlab_imbalance::softmax::{Dataset, SoftmaxLinear, Workspace};
/// let data = Dataset::new(vec![1.0_f64, 0.0, 0.0, 1.0], vec![0, 1], 2, 2).unwrap();
/// let model = SoftmaxLinear::new(2, 2, true).unwrap();
/// let params = vec![0.0; model.n_params()]; // zero model: every loss is log c
/// let mut grad = vec![0.0; model.n_params()];
/// let mut ws = Workspace::default();
/// let loss = model.loss_grad(&data, &params, &mut grad, &mut ws).unwrap();
/// gdlab_core::assert_close!(loss, 2.0_f64.ln(), rel = 1e-15);
/// // ∂L/∂W = (P − Y)ᵀ X / n: P = 1/2 everywhere.
/// gdlab_core::assert_close!(grad[..4].to_vec(), vec![-0.25, 0.25, 0.25, -0.25], rel = 1e-15);
/// # let _ = model.init::<f64>(Seed(0));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SoftmaxLinear {
    n_features: usize,
    n_classes: usize,
    bias: bool,
}

impl SoftmaxLinear {
    /// A model with `n_features` inputs, `n_classes` outputs and an optional bias.
    ///
    /// # Errors
    /// [`gdlab_core::ConfigError::OutOfRangeInt`] if `n_features == 0` or `n_classes < 2`.
    pub fn new(n_features: usize, n_classes: usize, bias: bool) -> Result<Self> {
        if n_features == 0 {
            return Err(gdlab_core::ConfigError::OutOfRangeInt {
                field: "n_features",
                value: 0,
                allowed: "[1, ∞)",
            }
            .into());
        }
        if n_classes < 2 {
            return Err(gdlab_core::ConfigError::OutOfRangeInt {
                field: "n_classes",
                value: n_classes as i128,
                allowed: "[2, ∞)",
            }
            .into());
        }
        Ok(SoftmaxLinear {
            n_features,
            n_classes,
            bias,
        })
    }

    /// Number of features `d`.
    #[must_use]
    pub fn n_features(&self) -> usize {
        self.n_features
    }
    /// Number of classes `c`.
    #[must_use]
    pub fn n_classes(&self) -> usize {
        self.n_classes
    }
    /// Whether the model has a bias `b`.
    #[must_use]
    pub fn has_bias(&self) -> bool {
        self.bias
    }
    /// Length of the flat parameter buffer: `c·d` (+ `c` with a bias).
    #[must_use]
    pub fn n_params(&self) -> usize {
        self.n_classes * self.n_features + if self.bias { self.n_classes } else { 0 }
    }

    /// PyTorch's default `nn.Linear` initialisation: every weight and bias entry i.i.d.
    /// `Uniform(−1/√d, 1/√d)` (Kaiming-uniform with `a = √5`), drawn from `seed` in
    /// parameter order (`W` row-major, then `b`).
    #[must_use]
    pub fn init<F: Float>(&self, seed: Seed) -> Vec<F> {
        let bound = 1.0 / (self.n_features as f64).sqrt();
        let mut rng = seed.rng();
        (0..self.n_params())
            .map(|_| F::from_f64(bound * (2.0 * rng.random::<f64>() - 1.0)))
            .collect()
    }

    fn check(&self, n_features: usize, params: usize, grad: Option<usize>) -> Result<()> {
        if n_features != self.n_features {
            return Err(ImbalanceError::dim(
                "SoftmaxLinear (data n_features)",
                self.n_features,
                n_features,
            ));
        }
        if params != self.n_params() {
            return Err(ImbalanceError::dim(
                "SoftmaxLinear (params)",
                self.n_params(),
                params,
            ));
        }
        if let Some(g) = grad {
            if g != self.n_params() {
                return Err(ImbalanceError::dim(
                    "SoftmaxLinear (grad)",
                    self.n_params(),
                    g,
                ));
            }
        }
        Ok(())
    }

    fn check_classes<F: Float>(&self, data: &Dataset<F>) -> Result<()> {
        if data.n_classes() > self.n_classes {
            return Err(ImbalanceError::dim(
                "SoftmaxLinear (data n_classes)",
                self.n_classes,
                data.n_classes(),
            ));
        }
        Ok(())
    }

    /// The mean cross-entropy `L(W) = (1/n) Σ_i ℓ(W x_i + b, y_i)` and, into `grad`, its
    /// exact gradient `∇_W L = (P − Y)ᵀ X / n`, `∇_b L = (1/n) Σ_i (p_i − e_{y_i})`.
    /// The per-sample losses are left in `ws` ([`Workspace::per_sample_losses`]).
    ///
    /// Each row's log-sum-exp is computed around its maximum in `f64`.
    ///
    /// # Errors
    /// [`ImbalanceError::Dim`] if `params`, `grad` or the data's shape do not match the
    /// model.
    pub fn loss_grad<F: Float>(
        &self,
        data: &Dataset<F>,
        params: &[F],
        grad: &mut [F],
        ws: &mut Workspace<F>,
    ) -> Result<f64> {
        self.check(data.n_features, params.len(), Some(grad.len()))?;
        self.check_classes(data)?;
        let Workspace { logits, losses, .. } = ws;
        Ok(self.kernel(
            &data.features,
            &data.labels,
            params,
            Some(grad),
            logits,
            losses,
        ))
    }

    /// The mean cross-entropy only (per-sample losses left in `ws`).
    ///
    /// # Errors
    /// As [`SoftmaxLinear::loss_grad`].
    pub fn loss<F: Float>(
        &self,
        data: &Dataset<F>,
        params: &[F],
        ws: &mut Workspace<F>,
    ) -> Result<f64> {
        self.check(data.n_features, params.len(), None)?;
        self.check_classes(data)?;
        let Workspace { logits, losses, .. } = ws;
        Ok(self.kernel(&data.features, &data.labels, params, None, logits, losses))
    }

    /// Minibatch loss and gradient: the mean over the samples `indices` (repeats count
    /// twice), the exact gradient of that mean.
    ///
    /// # Errors
    /// As [`SoftmaxLinear::loss_grad`]; [`ImbalanceError::Dim`] if `indices` is empty or
    /// holds an index `≥ n_samples`.
    pub fn loss_grad_batch<F: Float>(
        &self,
        data: &Dataset<F>,
        indices: &[usize],
        params: &[F],
        grad: &mut [F],
        ws: &mut Workspace<F>,
    ) -> Result<f64> {
        self.check(data.n_features, params.len(), Some(grad.len()))?;
        self.check_classes(data)?;
        if indices.is_empty() {
            return Err(ImbalanceError::dim(
                "loss_grad_batch (batch size ≥ 1)",
                1,
                0,
            ));
        }
        if let Some(&bad) = indices.iter().find(|&&i| i >= data.n_samples()) {
            return Err(ImbalanceError::dim(
                "loss_grad_batch (index < n_samples)",
                data.n_samples(),
                bad,
            ));
        }
        let d = self.n_features;
        let Workspace {
            logits,
            losses,
            batch_features,
            batch_labels,
        } = ws;
        batch_features.clear();
        batch_labels.clear();
        for &i in indices {
            batch_features.extend_from_slice(&data.features[i * d..(i + 1) * d]);
            batch_labels.push(data.labels[i]);
        }
        Ok(self.kernel(
            batch_features,
            batch_labels,
            params,
            Some(grad),
            logits,
            losses,
        ))
    }

    /// Shapes checked by the callers.
    fn kernel<F: Float>(
        &self,
        x: &[F],
        labels: &[usize],
        params: &[F],
        grad: Option<&mut [F]>,
        logits: &mut Vec<F>,
        losses: &mut Vec<f64>,
    ) -> f64 {
        let (n, d, c) = (labels.len(), self.n_features, self.n_classes);
        let (w, b) = params.split_at(c * d);
        let w = MatRef::from_row_major_slice(w, c, d);
        logits.clear();
        logits.resize(n * c, F::zero());
        losses.clear();
        losses.resize(n, 0.0);
        let with_grad = grad.is_some();
        // Z = X Wᵀ: one sequential faer product (the parallelism of a study is across runs).
        matmul(
            MatMut::from_row_major_slice_mut(logits.as_mut_slice(), n, c),
            Accum::Replace,
            MatRef::from_row_major_slice(x, n, d),
            w.transpose(),
            F::one(),
            Par::Seq,
        );
        gdlab_core::linalg::clear_simd_state();
        // Per row (+ b): loss and, for the gradient, P − Y in place; rows in parallel.
        logits
            .par_chunks_mut(ROW_BLOCK * c)
            .zip(losses.par_chunks_mut(ROW_BLOCK))
            .enumerate()
            .for_each(|(blk, (z, loss))| {
                let r0 = blk * ROW_BLOCK;
                for (r, (zr, l)) in z.chunks_mut(c).zip(loss.iter_mut()).enumerate() {
                    let y = labels[r0 + r];
                    if self.bias {
                        for (zk, &bk) in zr.iter_mut().zip(b) {
                            *zk += bk;
                        }
                    }
                    let max = zr.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v.as_f64()));
                    let sum: f64 = zr.iter().map(|&v| (v.as_f64() - max).exp()).sum();
                    let lse = max + sum.ln();
                    *l = lse - zr[y].as_f64();
                    if with_grad {
                        for zk in zr.iter_mut() {
                            *zk = F::from_f64((zk.as_f64() - lse).exp());
                        }
                        zr[y] -= F::one();
                    }
                }
            });
        let loss = losses.iter().sum::<f64>() / n as f64;
        if let Some(grad) = grad {
            let inv_n = F::from_f64(1.0 / n as f64);
            let (gw, gb) = grad.split_at_mut(c * d);
            let p = MatRef::from_row_major_slice(logits.as_slice(), n, c);
            let xm = MatRef::from_row_major_slice(x, n, d);
            matmul(
                MatMut::from_row_major_slice_mut(gw, c, d),
                Accum::Replace,
                p.transpose(),
                xm,
                inv_n,
                Par::Seq,
            );
            gdlab_core::linalg::clear_simd_state();
            if self.bias {
                let mut acc = vec![0.0_f64; c];
                for row in logits.chunks(c) {
                    for (a, &v) in acc.iter_mut().zip(row) {
                        *a += v.as_f64();
                    }
                }
                for (g, a) in gb.iter_mut().zip(acc) {
                    *g = F::from_f64(a / n as f64);
                }
            }
        }
        loss
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gdlab_core::assert_close;

    fn random_problem(n: usize, d: usize, c: usize, seed: u64) -> Dataset<f64> {
        let mut rng = Seed(seed).rng();
        let x: Vec<f64> = (0..n * d)
            .map(|_| rng.random::<f64>() * 2.0 - 1.0)
            .collect();
        let y: Vec<usize> = (0..n).map(|i| (i * 7 + 3) % c).collect();
        Dataset::new(x, y, d, c).unwrap()
    }

    /// Independent per-sample transcription of the loss (no matrix products).
    fn naive_loss(model: &SoftmaxLinear, data: &Dataset<f64>, p: &[f64]) -> f64 {
        let (d, c) = (model.n_features(), model.n_classes());
        let mut total = 0.0;
        for i in 0..data.n_samples() {
            let xi = &data.features()[i * d..(i + 1) * d];
            let z: Vec<f64> = (0..c)
                .map(|k| {
                    let wk = &p[k * d..(k + 1) * d];
                    let b = if model.has_bias() { p[c * d + k] } else { 0.0 };
                    wk.iter().zip(xi).map(|(a, b)| a * b).sum::<f64>() + b
                })
                .collect();
            let lse = z.iter().map(|v| v.exp()).sum::<f64>().ln();
            total += lse - z[data.labels()[i]];
        }
        total / data.n_samples() as f64
    }

    #[test]
    fn gradient_matches_central_finite_differences() {
        // Sizes that cross the row and column blocks (n > 64, d > 128).
        for (bias, seed) in [(true, 1), (false, 2)] {
            let data = random_problem(70, 130, 5, seed);
            let model = SoftmaxLinear::new(130, 5, bias).unwrap();
            let params: Vec<f64> = model.init(Seed(seed + 10));
            let mut grad = vec![0.0; model.n_params()];
            let mut ws = Workspace::default();
            let loss = model.loss_grad(&data, &params, &mut grad, &mut ws).unwrap();
            assert_close!(loss, naive_loss(&model, &data, &params), rel = 1e-12);
            let h = 1e-5;
            // Every 7th coordinate plus all biases.
            let coords: Vec<usize> = (0..model.n_params())
                .filter(|i| i % 7 == 0 || *i >= 130 * 5)
                .collect();
            for &i in &coords {
                let mut p = params.clone();
                p[i] += h;
                let up = naive_loss(&model, &data, &p);
                p[i] -= 2.0 * h;
                let down = naive_loss(&model, &data, &p);
                let fd = (up - down) / (2.0 * h);
                // Central differences: error O(h²·L''') ≈ 1e-10 plus rounding 1e-16/h.
                assert_close!(grad[i], fd, abs = 1e-9);
            }
        }
    }

    #[test]
    fn f32_agrees_with_f64() {
        let data = random_problem(100, 40, 6, 3);
        let model = SoftmaxLinear::new(40, 6, true).unwrap();
        let p64: Vec<f64> = model.init(Seed(4));
        let p32: Vec<f32> = p64.iter().map(|&v| v as f32).collect();
        let d32 = Dataset::new(
            data.features().iter().map(|&v| v as f32).collect(),
            data.labels().to_vec(),
            40,
            6,
        )
        .unwrap();
        let mut g64 = vec![0.0; model.n_params()];
        let mut g32 = vec![0.0_f32; model.n_params()];
        let l64 = model
            .loss_grad(&data, &p64, &mut g64, &mut Workspace::default())
            .unwrap();
        let l32 = model
            .loss_grad(&d32, &p32, &mut g32, &mut Workspace::default())
            .unwrap();
        // f32 rounding of 40-term dot products: relative 1e-5 is ~100 ulp of f32.
        assert_close!(l32, l64, rel = 1e-5);
        let g32w: Vec<f64> = g32.iter().map(|&v| f64::from(v)).collect();
        assert_close!(g32w, g64, abs = 1e-6);
    }

    #[test]
    fn minibatch_equals_full_batch_on_all_indices_and_subset_mean() {
        let data = random_problem(90, 20, 4, 5);
        let model = SoftmaxLinear::new(20, 4, true).unwrap();
        let p: Vec<f64> = model.init(Seed(6));
        let mut ws = Workspace::default();
        let mut g_full = vec![0.0; model.n_params()];
        let mut g_batch = vec![0.0; model.n_params()];
        let all: Vec<usize> = (0..90).collect();
        let lf = model.loss_grad(&data, &p, &mut g_full, &mut ws).unwrap();
        let lb = model
            .loss_grad_batch(&data, &all, &p, &mut g_batch, &mut ws)
            .unwrap();
        assert_close!(lb, lf, rel = 1e-14);
        assert_close!(g_batch, g_full.clone(), rel = 1e-12, abs = 1e-16);
        // A two-sample batch is the mean of the two single-sample gradients.
        let mut g0 = vec![0.0; model.n_params()];
        let mut g1 = vec![0.0; model.n_params()];
        model
            .loss_grad_batch(&data, &[3], &p, &mut g0, &mut ws)
            .unwrap();
        model
            .loss_grad_batch(&data, &[50], &p, &mut g1, &mut ws)
            .unwrap();
        model
            .loss_grad_batch(&data, &[3, 50], &p, &mut g_batch, &mut ws)
            .unwrap();
        let mean: Vec<f64> = g0.iter().zip(&g1).map(|(a, b)| 0.5 * (a + b)).collect();
        assert_close!(g_batch, mean, rel = 1e-12, abs = 1e-16);
        assert!(model
            .loss_grad_batch(&data, &[], &p, &mut g0, &mut ws)
            .is_err());
        assert!(model
            .loss_grad_batch(&data, &[90], &p, &mut g0, &mut ws)
            .is_err());
    }

    #[test]
    fn results_do_not_depend_on_thread_count() {
        let data = random_problem(200, 300, 9, 7);
        let model = SoftmaxLinear::new(300, 9, true).unwrap();
        let p: Vec<f64> = model.init(Seed(8));
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let mut g = vec![0.0; model.n_params()];
                let l = model
                    .loss_grad(&data, &p, &mut g, &mut Workspace::default())
                    .unwrap();
                (
                    l.to_bits(),
                    g.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                )
            })
        };
        assert_eq!(run(1), run(4));
    }

    #[test]
    fn init_is_pytorch_uniform_and_seeded() {
        let model = SoftmaxLinear::new(1024, 127, true).unwrap();
        let p: Vec<f64> = model.init(Seed(0));
        let bound = 1.0 / 32.0;
        assert!(p.iter().all(|v| v.abs() < bound));
        // Mean ≈ 0 and variance ≈ bound²/3 (5 standard errors over 130 175 draws).
        let n = p.len() as f64;
        let mean = p.iter().sum::<f64>() / n;
        let var = p.iter().map(|v| v * v).sum::<f64>() / n;
        assert!(mean.abs() < 5.0 * bound / (3.0 * n).sqrt());
        assert_close!(var, bound * bound / 3.0, rel = 0.02);
        assert_eq!(p, model.init::<f64>(Seed(0)));
        assert_ne!(p, model.init::<f64>(Seed(1)));
    }

    #[test]
    fn bad_shapes_are_errors() {
        let data = random_problem(4, 3, 2, 0);
        let model = SoftmaxLinear::new(3, 2, true).unwrap();
        let mut ws = Workspace::default();
        assert!(model.loss(&data, &[0.0; 3], &mut ws).is_err());
        assert!(SoftmaxLinear::new(0, 2, true).is_err());
        assert!(SoftmaxLinear::new(3, 1, true).is_err());
        assert!(Dataset::new(vec![0.0_f64; 5], vec![0, 1], 3, 2).is_err());
        assert!(Dataset::new(vec![0.0_f64; 6], vec![0, 2], 3, 2).is_err());
    }
}
