//! The shallow SIGN `QModel` of spec §2.5 on `gdlab-nn` (candle), and its training loop.
//!
//! Architecture (authors' `sign_node_pred.py` **\[code\]**, "Linear + activation per
//! propagated feature, concatenation, Linear"):
//!
//! $$ Z_k = \mathrm{drop}_{p_{in}}(F_k) W_k^\top + b_k,\quad H_k = σ_k(Z_k),\quad
//!    \mathrm{logits} = \mathrm{drop}_{p}([H_0 | ⋯ | H_R])\, Ω^\top + c $$
//!
//! with `F_k = T^k X` precomputed ([`crate::gnn::graph::propagate`]). `σ_k` is PyTorch's
//! PReLU with one slope per block (initial 0.25), the trainable polynomial
//! `c₀ + c₁z + c₂z²` with one coefficient vector per block initialised to
//! `(0.0169394634313126, 0.5, 0.3078363963999393)` (extra coefficients of higher degree
//! start at 0), or the identity. Weights and biases start `U(±1/√fan_in)` (PyTorch's
//! default `Linear` init; the code's Xavier re-initialiser is never called).
//!
//! Training ([`train_node_classifier`]): Adam (gdlab's, through `gdlab_nn::GdOptimizer`),
//! the training nodes in chunks of `chunk_size` (1000) in a fixed order, the sum of the
//! chunk-mean cross-entropies back-propagated as one loss (= the code's gradient
//! accumulation), **one** step per epoch; every `eval_every` epochs evaluate all nodes in
//! eval mode; report the test accuracy at the best validation accuracy, and the decision
//! accuracy selected separately by its own best validation value (first best kept on ties).
//!
//! Dropout masks come from a seeded `GdRng` stream (candle's dropout uses an unseeded
//! thread-local generator): inverted dropout, keep probability `1 − p`, scale `1/(1 − p)`.
//!
//! Deviation from the code: everything runs in f64 (the code uses PyTorch's f32).

use gdlab_core::{normal::uniform, ConfigError, GdRng, Seed};
use gdlab_nn::candle_core::{DType, Device, Tensor, Var};
use gdlab_nn::{cross_entropy, init::uniform_fan_in, GdOptimizer, ParamSet};
use gdlab_optim::{alias::adam, transform::AdamConfig};
use serde::{Deserialize, Serialize};

use crate::error::{QuantumError, Result};
use crate::gnn::data::{decision_accuracy, node_accuracy, NodeDataset};
use crate::gnn::graph::{propagate, propagation_operator};

/// The code's initial polynomial coefficients `(c₀, c₁, c₂)` (`PolyAct` in
/// `quantum_layers.py` **\[code\]**).
pub const POLY_INIT: [f64; 3] = [0.0169394634313126, 0.5, 0.3078363963999393];

/// PyTorch's PReLU initial slope.
pub const PRELU_INIT: f64 = 0.25;

/// The per-block activation σ_k.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// PReLU with one trainable slope per block (initial 0.25).
    Prelu,
    /// Trainable polynomial of the given degree (default 2), one coefficient vector per
    /// block, initialised to [`POLY_INIT`] (higher coefficients 0).
    Poly {
        /// Polynomial degree ≥ 1.
        degree: usize,
    },
    /// No activation.
    Identity,
}

impl Activation {
    /// Short name (`prelu`, `poly`, `identity`).
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Activation::Prelu => "prelu",
            Activation::Poly { .. } => "poly",
            Activation::Identity => "identity",
        }
    }
}

/// Configuration of a [`QModel`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QModelConfig {
    /// Hops R (R + 1 feature blocks; code default 5).
    pub hops: usize,
    /// Hidden units per block (code default 512).
    pub hidden: usize,
    /// Dropout on each input block (code default 0.3).
    pub input_dropout: f64,
    /// Dropout on the concatenation (code default 0.4).
    pub dropout: f64,
    /// Activation.
    pub activation: Activation,
}

impl Default for QModelConfig {
    /// The code's defaults: R = 5, hidden 512, input dropout 0.3, dropout 0.4, poly (deg 2).
    fn default() -> Self {
        QModelConfig {
            hops: 5,
            hidden: 512,
            input_dropout: 0.3,
            dropout: 0.4,
            activation: Activation::Poly { degree: 2 },
        }
    }
}

impl QModelConfig {
    /// Checks the ranges.
    ///
    /// # Errors
    /// [`ConfigError`] for `hidden = 0`, dropouts outside `[0, 1)`, polynomial degree 0.
    pub fn validate(&self) -> Result<()> {
        if self.hidden == 0 {
            return Err(ConfigError::OutOfRangeInt {
                field: "hidden",
                value: 0,
                allowed: "≥ 1",
            }
            .into());
        }
        ConfigError::check_half_open("input_dropout", self.input_dropout, 0.0, 1.0, "[0, 1)")?;
        ConfigError::check_half_open("dropout", self.dropout, 0.0, 1.0, "[0, 1)")?;
        if let Activation::Poly { degree: 0 } = self.activation {
            return Err(ConfigError::OutOfRangeInt {
                field: "poly degree",
                value: 0,
                allowed: "≥ 1",
            }
            .into());
        }
        Ok(())
    }
}

impl From<gdlab_nn::NnError> for QuantumError {
    fn from(e: gdlab_nn::NnError) -> Self {
        QuantumError::Backend(e.to_string())
    }
}

impl From<gdlab_nn::candle_core::Error> for QuantumError {
    fn from(e: gdlab_nn::candle_core::Error) -> Self {
        QuantumError::Backend(e.to_string())
    }
}

struct Block {
    weight: Var,
    bias: Var,
    act: Option<Var>,
}

/// The shallow SIGN model (see the module docs).
pub struct QModel {
    cfg: QModelConfig,
    blocks: Vec<Block>,
    out_weight: Var,
    out_bias: Var,
    params: ParamSet,
}

impl std::fmt::Debug for QModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QModel")
            .field("cfg", &self.cfg)
            .field("n_params", &self.params.n_params())
            .finish()
    }
}

fn dropout(x: &Tensor, p: f64, rng: &mut GdRng) -> Result<Tensor> {
    if p <= 0.0 {
        return Ok(x.clone());
    }
    let keep = 1.0 - p;
    let mask: Vec<f64> = (0..x.elem_count())
        .map(|_| if uniform(rng) < keep { 1.0 / keep } else { 0.0 })
        .collect();
    let m = Tensor::from_vec(mask, x.shape(), x.device())?;
    Ok(x.mul(&m)?)
}

impl QModel {
    /// A model for `in_feats` input features and `n_classes` classes, initialised from
    /// `seed` (stream `seed.derive("qmodel-init")`, tensors in parameter order).
    ///
    /// # Errors
    /// [`QModelConfig::validate`], or a backend error.
    pub fn new(cfg: &QModelConfig, in_feats: usize, n_classes: usize, seed: Seed) -> Result<Self> {
        cfg.validate()?;
        if in_feats == 0 || n_classes < 2 {
            return Err(ConfigError::Invalid {
                field: "in_feats / n_classes".into(),
                reason: format!("need ≥ 1 feature and ≥ 2 classes, got {in_feats} and {n_classes}"),
            }
            .into());
        }
        let dev = Device::Cpu;
        let mut rng = seed.derive("qmodel-init").rng();
        let mut params = ParamSet::new();
        let mut blocks = Vec::new();
        for k in 0..=cfg.hops {
            let weight = uniform_fan_in::<f64>((cfg.hidden, in_feats), in_feats, &mut rng, &dev)?;
            let bias = uniform_fan_in::<f64>(cfg.hidden, in_feats, &mut rng, &dev)?;
            params.push(format!("block{k}.weight"), weight.clone())?;
            params.push(format!("block{k}.bias"), bias.clone())?;
            let act = match cfg.activation {
                Activation::Prelu => {
                    let v = Var::from_vec(vec![PRELU_INIT], 1, &dev)?;
                    params.push(format!("block{k}.prelu"), v.clone())?;
                    Some(v)
                }
                Activation::Poly { degree } => {
                    let c: Vec<f64> = (0..=degree)
                        .map(|i| POLY_INIT.get(i).copied().unwrap_or(0.0))
                        .collect();
                    let v = Var::from_vec(c, degree + 1, &dev)?;
                    params.push(format!("block{k}.poly"), v.clone())?;
                    Some(v)
                }
                Activation::Identity => None,
            };
            blocks.push(Block { weight, bias, act });
        }
        let width = (cfg.hops + 1) * cfg.hidden;
        let out_weight = uniform_fan_in::<f64>((n_classes, width), width, &mut rng, &dev)?;
        let out_bias = uniform_fan_in::<f64>(n_classes, width, &mut rng, &dev)?;
        params.push("out.weight", out_weight.clone())?;
        params.push("out.bias", out_bias.clone())?;
        Ok(QModel {
            cfg: *cfg,
            blocks,
            out_weight,
            out_bias,
            params,
        })
    }

    /// The parameters in flat-layout order.
    #[must_use]
    pub fn params(&self) -> &ParamSet {
        &self.params
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &QModelConfig {
        &self.cfg
    }

    fn activate(&self, block: &Block, z: &Tensor) -> Result<Tensor> {
        Ok(match (self.cfg.activation, &block.act) {
            (Activation::Prelu, Some(a)) => {
                let pos = z.relu()?;
                let neg = (z - &pos)?;
                (pos + neg.broadcast_mul(a.as_tensor())?)?
            }
            (Activation::Poly { degree }, Some(c)) => {
                // Horner: (((c_d z + c_{d−1}) z + …) z + c₀)
                let ct = c.as_tensor();
                let mut acc = ct.narrow(0, degree, 1)?.broadcast_as(z.shape())?;
                for i in (0..degree).rev() {
                    acc = (acc.mul(z)?.broadcast_add(&ct.narrow(0, i, 1)?))?;
                }
                acc
            }
            _ => z.clone(),
        })
    }

    /// Logits `[n, C]` for the propagated feature blocks `feats[k] = F_k` (`[n, d]`).
    /// With `rng` = `Some`, training mode (dropout); `None`: eval mode.
    ///
    /// # Errors
    /// A backend error for inconsistent shapes or a wrong number of blocks.
    pub fn forward(&self, feats: &[Tensor], mut rng: Option<&mut GdRng>) -> Result<Tensor> {
        if feats.len() != self.blocks.len() {
            return Err(ConfigError::Dim {
                op: "QModel::forward blocks",
                expected: self.blocks.len(),
                got: feats.len(),
            }
            .into());
        }
        let mut hs = Vec::with_capacity(feats.len());
        for (f, b) in feats.iter().zip(&self.blocks) {
            let x = match rng.as_deref_mut() {
                Some(r) => dropout(f, self.cfg.input_dropout, r)?,
                None => f.clone(),
            };
            let z = x
                .matmul(&b.weight.as_tensor().t()?)?
                .broadcast_add(b.bias.as_tensor())?;
            hs.push(self.activate(b, &z)?);
        }
        let h = Tensor::cat(&hs, 1)?;
        let h = match rng {
            Some(r) => dropout(&h, self.cfg.dropout, r)?,
            None => h,
        };
        Ok(h.matmul(&self.out_weight.as_tensor().t()?)?
            .broadcast_add(self.out_bias.as_tensor())?)
    }
}

/// Training schedule.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// Adam learning rate (code default 1e-3; spec §5.1 Part B uses 0.01).
    pub learning_rate: f64,
    /// Weight decay (code default 0; coupled, as PyTorch's `Adam(weight_decay=…)`).
    pub weight_decay: f64,
    /// Epochs (code default 1000).
    pub epochs: usize,
    /// Evaluate every this many epochs (10).
    pub eval_every: usize,
    /// Training nodes per accumulated chunk (1000).
    pub chunk_size: usize,
}

impl Default for TrainConfig {
    /// The code's node-classification defaults (spec §2.5).
    fn default() -> Self {
        TrainConfig {
            learning_rate: 1e-3,
            weight_decay: 0.0,
            epochs: 1000,
            eval_every: 10,
            chunk_size: 1000,
        }
    }
}

/// One evaluation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EvalRecord {
    /// Epochs done.
    pub epoch: usize,
    /// Training loss of the last step.
    pub loss: f64,
    /// Node accuracy on train / val / test.
    pub node_acc: [f64; 3],
    /// Decision accuracy on train / val / test.
    pub decision_acc: [f64; 3],
}

/// What a training run produced.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainOutcome {
    /// Test node accuracy at the best validation node accuracy.
    pub test_node_acc: f64,
    /// The best validation node accuracy.
    pub best_val_node_acc: f64,
    /// Test decision accuracy at the best validation decision accuracy.
    pub test_decision_acc: f64,
    /// The best validation decision accuracy.
    pub best_val_decision_acc: f64,
    /// Every evaluation.
    pub curve: Vec<EvalRecord>,
    /// The epoch at which the loss or the parameters became non-finite, if they did
    /// (training stops there; the selected numbers come from earlier evaluations).
    pub diverged_at: Option<usize>,
}

fn to_tensor(x: &[f64], rows: usize, cols: usize) -> Result<Tensor> {
    Ok(Tensor::from_vec(x.to_vec(), (rows, cols), &Device::Cpu)?)
}

/// Trains a [`QModel`] on a node-classification dataset (see the module docs). Streams:
/// `seed.derive("qmodel-init")` for the weights, `seed.derive("dropout")` for the masks.
///
/// # Errors
/// [`ConfigError`] for a non-positive learning rate, `epochs = 0`, `eval_every = 0`,
/// `chunk_size = 0`; dataset validation; backend errors.
pub fn train_node_classifier(
    ds: &NodeDataset,
    model_cfg: &QModelConfig,
    train_cfg: &TrainConfig,
    seed: Seed,
) -> Result<TrainOutcome> {
    ds.validate()?;
    ConfigError::check_positive("learning_rate", train_cfg.learning_rate)?;
    ConfigError::check_non_negative("weight_decay", train_cfg.weight_decay)?;
    for (f, v) in [
        ("epochs", train_cfg.epochs),
        ("eval_every", train_cfg.eval_every),
        ("chunk_size", train_cfg.chunk_size),
    ] {
        if v == 0 {
            return Err(ConfigError::OutOfRangeInt {
                field: f,
                value: 0,
                allowed: "≥ 1",
            }
            .into());
        }
    }
    let n = ds.n_nodes();
    let d = ds.n_features;
    let t = propagation_operator(&ds.graph);
    let blocks = propagate(&t, &ds.features, d, model_cfg.hops);
    let all: Vec<Tensor> = blocks
        .iter()
        .map(|b| to_tensor(b, n, d))
        .collect::<Result<_>>()?;
    // training chunks in a fixed order (the split's order)
    let chunks: Vec<(Vec<Tensor>, Tensor)> = ds
        .split
        .train
        .chunks(train_cfg.chunk_size)
        .map(|idx| {
            let ids = Tensor::from_vec(
                idx.iter().map(|&i| i as u32).collect::<Vec<u32>>(),
                idx.len(),
                &Device::Cpu,
            )?;
            let feats = all
                .iter()
                .map(|f| f.index_select(&ids, 0))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            let y = Tensor::from_vec(
                idx.iter()
                    .map(|&i| ds.labels[i] as u32)
                    .collect::<Vec<u32>>(),
                idx.len(),
                &Device::Cpu,
            )?;
            Ok((feats, y))
        })
        .collect::<Result<_>>()?;
    let model = QModel::new(model_cfg, d, ds.n_classes, seed)?;
    let opt = adam(
        train_cfg.learning_rate,
        AdamConfig::default(),
        train_cfg.weight_decay,
    )?;
    let mut opt = GdOptimizer::<f64, _>::new(opt, model.params())?;
    let mut drop_rng = seed.derive("dropout").rng();
    let mut curve = Vec::new();
    let (mut best_val, mut best_test) = (f64::NEG_INFINITY, 0.0);
    let (mut best_val_dec, mut best_test_dec) = (f64::NEG_INFINITY, 0.0);
    let mut diverged_at = None;
    let sets = [&ds.split.train, &ds.split.val, &ds.split.test];
    for epoch in 0..train_cfg.epochs {
        let mut loss: Option<Tensor> = None;
        for (feats, y) in &chunks {
            let logits = model.forward(feats, Some(&mut drop_rng))?;
            let l = cross_entropy(&logits, y)?;
            loss = Some(match loss {
                None => l,
                Some(acc) => (acc + l)?,
            });
        }
        let Some(loss) = loss else { break };
        let value = opt.backward_step(&loss)?;
        if !value.is_finite() || !opt.params_finite() {
            diverged_at = Some(epoch + 1);
            break;
        }
        if (epoch + 1) % train_cfg.eval_every == 0 {
            let logits = model.forward(&all, None)?;
            let flat: Vec<f64> = logits.to_dtype(DType::F64)?.flatten_all()?.to_vec1()?;
            if flat.iter().any(|v| !v.is_finite()) {
                diverged_at = Some(epoch + 1);
                break;
            }
            let c = ds.n_classes;
            let node = sets.map(|s| node_accuracy(&flat, c, &ds.labels, s));
            let dec = sets.map(|s| decision_accuracy(&flat, c, &ds.labels, s));
            if node[1] > best_val {
                best_val = node[1];
                best_test = node[2];
            }
            if dec[1] > best_val_dec {
                best_val_dec = dec[1];
                best_test_dec = dec[2];
            }
            curve.push(EvalRecord {
                epoch: epoch + 1,
                loss: value,
                node_acc: node,
                decision_acc: dec,
            });
        }
    }
    Ok(TrainOutcome {
        test_node_acc: best_test,
        best_val_node_acc: best_val.max(0.0),
        test_decision_acc: best_test_dec,
        best_val_decision_acc: best_val_dec.max(0.0),
        curve,
        diverged_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gnn::data::{sbm, SbmConfig};

    fn small() -> NodeDataset {
        sbm(
            &SbmConfig {
                class_sizes: vec![40, 30, 20],
                n_features: 8,
                ..SbmConfig::default()
            },
            Seed(3),
        )
        .unwrap()
    }

    /// Backprop through the model (candle autodiff) against central finite differences of
    /// the eval-mode loss, for every activation (f64; rel 1e-6).
    #[test]
    fn autodiff_gradient_matches_finite_differences() {
        let ds = small();
        let t = propagation_operator(&ds.graph);
        let n = ds.n_nodes();
        for act in [
            Activation::Prelu,
            Activation::Poly { degree: 2 },
            Activation::Identity,
        ] {
            let cfg = QModelConfig {
                hops: 2,
                hidden: 5,
                activation: act,
                ..QModelConfig::default()
            };
            let blocks: Vec<Tensor> = propagate(&t, &ds.features, ds.n_features, 2)
                .iter()
                .map(|b| to_tensor(b, n, ds.n_features).unwrap())
                .collect();
            let y = Tensor::from_vec(
                ds.labels.iter().map(|&l| l as u32).collect::<Vec<u32>>(),
                n,
                &Device::Cpu,
            )
            .unwrap();
            let m = QModel::new(&cfg, ds.n_features, ds.n_classes, Seed(1)).unwrap();
            let loss = cross_entropy(&m.forward(&blocks, None).unwrap(), &y).unwrap();
            let grads = loss.backward().unwrap();
            let mut g = vec![0.0; m.params().n_params()];
            m.params().read_grads_into(&grads, &mut g).unwrap();
            let theta: Vec<f64> = m.params().to_flat().unwrap();
            let eval = |th: &[f64]| {
                m.params().write_flat(th).unwrap();
                cross_entropy(&m.forward(&blocks, None).unwrap(), &y)
                    .unwrap()
                    .to_scalar::<f64>()
                    .unwrap()
            };
            let h = 1e-6;
            let mut th = theta.clone();
            for k in (0..theta.len()).step_by(7).chain([theta.len() - 1]) {
                th[k] = theta[k] + h;
                let p = eval(&th);
                th[k] = theta[k] - h;
                let q = eval(&th);
                th[k] = theta[k];
                let fd = (p - q) / (2.0 * h);
                assert!(
                    (fd - g[k]).abs() <= 1e-6 * fd.abs().max(1e-3),
                    "{act:?} param {k}: fd {fd} vs autodiff {}",
                    g[k]
                );
            }
            m.params().write_flat(&theta).unwrap();
        }
    }

    #[test]
    fn poly_starts_at_the_code_coefficients_and_training_learns() {
        let m = QModel::new(&QModelConfig::default(), 4, 3, Seed(0)).unwrap();
        let c: Vec<f64> = m
            .params()
            .get("block0.poly")
            .unwrap()
            .as_tensor()
            .to_vec1()
            .unwrap();
        assert_eq!(c, POLY_INIT.to_vec());
        // low-noise version of the small SBM (σ = 0.2 around unit class means)
        let ds = sbm(
            &SbmConfig {
                class_sizes: vec![40, 30, 20],
                n_features: 8,
                noise_std: 0.2,
                ..SbmConfig::default()
            },
            Seed(3),
        )
        .unwrap();
        let cfg = QModelConfig {
            hops: 2,
            hidden: 16,
            ..QModelConfig::default()
        };
        let tc = TrainConfig {
            learning_rate: 0.01,
            epochs: 60,
            ..TrainConfig::default()
        };
        let out = train_node_classifier(&ds, &cfg, &tc, Seed(0)).unwrap();
        assert_eq!(out.curve.len(), 6);
        assert!(out.diverged_at.is_none());
        // three well-separated classes: far above the 0.44 majority-class rate
        assert!(out.test_node_acc > 0.8, "{out:?}");
        let again = train_node_classifier(&ds, &cfg, &tc, Seed(0)).unwrap();
        assert_eq!(out, again);
        assert!(QModelConfig {
            dropout: 1.0,
            ..cfg
        }
        .validate()
        .is_err());
    }
}
