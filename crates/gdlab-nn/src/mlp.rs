//! Multi-layer perceptrons.

use candle_core::{Device, Module, Tensor};
use candle_nn::Linear;
use gdlab_core::{ConfigError, Seed};
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::init::uniform_fan_in;
use crate::model::Model;
use crate::params::ParamSet;
use crate::real::NnReal;

/// The nonlinearity between hidden layers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Activation {
    /// `max(0, x)`.
    #[default]
    Relu,
    /// `tanh x`.
    Tanh,
    /// No nonlinearity (a deep linear network).
    Identity,
}

impl Activation {
    /// Applies the nonlinearity.
    ///
    /// # Errors
    /// A candle error (none for valid tensors).
    pub fn apply(self, x: &Tensor) -> Result<Tensor> {
        Ok(match self {
            Activation::Relu => x.relu()?,
            Activation::Tanh => x.tanh()?,
            Activation::Identity => x.clone(),
        })
    }
}

/// Shape of an [`Mlp`]: `sizes = [input, hidden…, output]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MlpConfig {
    /// Layer widths, input first, output (number of classes) last; at least two entries,
    /// all ≥ 1.
    pub sizes: Vec<usize>,
    /// Nonlinearity after every hidden layer (not after the output layer).
    pub activation: Activation,
    /// Whether each linear layer has a bias.
    pub bias: bool,
}

impl MlpConfig {
    /// A ReLU MLP with biases.
    #[must_use]
    pub fn relu(sizes: &[usize]) -> Self {
        MlpConfig {
            sizes: sizes.to_vec(),
            activation: Activation::Relu,
            bias: true,
        }
    }

    /// Checks the sizes.
    ///
    /// # Errors
    /// [`ConfigError`] if there are fewer than two sizes or a size is 0.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.sizes.len() < 2 {
            return Err(ConfigError::Invalid {
                field: "sizes".into(),
                reason: format!(
                    "needs at least [input, output], got {} entries",
                    self.sizes.len()
                ),
            });
        }
        if let Some(i) = self.sizes.iter().position(|&s| s == 0) {
            return Err(ConfigError::OutOfRangeInt {
                field: "sizes",
                value: i128::try_from(i).unwrap_or(i128::MAX),
                allowed: "every width ≥ 1 (the value shown is the index of a zero width)",
            });
        }
        Ok(())
    }
}

/// A fully connected network `x ↦ W_L σ(… σ(W_1 x + b_1) …) + b_L`.
///
/// Parameters are named `linear{i}.weight` (shape `[out, in]`, PyTorch's convention) and
/// `linear{i}.bias`, in layer order; they are initialised as PyTorch's `nn.Linear`
/// (`U(±1/√fan_in)`, see [`uniform_fan_in`]) from `seed.derive("init").index(i)`.
///
/// # Examples
/// ```
/// use candle_core::{Device, Tensor};
/// use gdlab_core::Seed;
/// use gdlab_nn::{Mlp, MlpConfig, Model};
/// let mlp = Mlp::new::<f32>(&MlpConfig::relu(&[3, 8, 2]), Seed(0), &Device::Cpu).unwrap();
/// assert_eq!(mlp.params().n_params(), 3 * 8 + 8 + 8 * 2 + 2);
/// let x = Tensor::zeros((5, 3), candle_core::DType::F32, &Device::Cpu).unwrap();
/// assert_eq!(mlp.forward(&x).unwrap().dims(), &[5, 2]);
/// ```
#[derive(Clone, Debug)]
pub struct Mlp {
    cfg: MlpConfig,
    layers: Vec<Linear>,
    params: ParamSet,
}

impl Mlp {
    /// Builds and initialises the network on `device` with element type `F`.
    ///
    /// # Errors
    /// [`crate::NnError::Config`] for invalid sizes; a candle error on the device.
    pub fn new<F: NnReal>(cfg: &MlpConfig, seed: Seed, device: &Device) -> Result<Self> {
        cfg.validate()?;
        let mut layers = Vec::new();
        let mut params = ParamSet::new();
        let init = seed.derive("init");
        for (i, w) in cfg.sizes.windows(2).enumerate() {
            let (fan_in, fan_out) = (w[0], w[1]);
            let mut rng = init.index(i as u64).rng();
            let weight = uniform_fan_in::<F>((fan_out, fan_in), fan_in, &mut rng, device)?;
            let bias = if cfg.bias {
                Some(uniform_fan_in::<F>(fan_out, fan_in, &mut rng, device)?)
            } else {
                None
            };
            params.push(format!("linear{i}.weight"), weight.clone())?;
            if let Some(b) = &bias {
                params.push(format!("linear{i}.bias"), b.clone())?;
            }
            layers.push(Linear::new(
                weight.as_tensor().clone(),
                bias.map(|b| b.as_tensor().clone()),
            ));
        }
        Ok(Mlp {
            cfg: cfg.clone(),
            layers,
            params,
        })
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &MlpConfig {
        &self.cfg
    }

    /// Number of linear layers.
    #[must_use]
    pub fn n_layers(&self) -> usize {
        self.layers.len()
    }
}

impl Model for Mlp {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut h = x.clone();
        let last = self.layers.len() - 1;
        for (i, l) in self.layers.iter().enumerate() {
            h = l.forward(&h)?;
            if i < last {
                h = self.cfg.activation.apply(&h)?;
            }
        }
        Ok(h)
    }

    fn params(&self) -> &ParamSet {
        &self.params
    }

    fn input_shape(&self) -> Vec<usize> {
        vec![self.cfg.sizes[0]]
    }
}
