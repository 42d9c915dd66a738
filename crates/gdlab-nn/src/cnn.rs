//! The convolutional families of the tail-index paper's experiments (spec
//! `tail-index-hausdorff.md` §4): `LeNetFamily(n_convs, n_linear)` and VGG without batch
//! norm. Inputs are `[batch, channels, height, width]` (NCHW, PyTorch's order).

use candle_core::{Device, Module, Tensor};
use candle_nn::{Conv2d, Conv2dConfig, Linear};
use gdlab_core::{ConfigError, GdRng, Seed};
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::init::uniform_fan_in;
use crate::model::Model;
use crate::params::ParamSet;
use crate::real::NnReal;

fn linear_layer<F: NnReal>(
    params: &mut ParamSet,
    name: &str,
    fan_in: usize,
    fan_out: usize,
    bias: bool,
    rng: &mut GdRng,
    device: &Device,
) -> Result<Linear> {
    let w = uniform_fan_in::<F>((fan_out, fan_in), fan_in, rng, device)?;
    params.push(format!("{name}.weight"), w.clone())?;
    let b = if bias {
        let b = uniform_fan_in::<F>(fan_out, fan_in, rng, device)?;
        params.push(format!("{name}.bias"), b.clone())?;
        Some(b.as_tensor().clone())
    } else {
        None
    };
    Ok(Linear::new(w.as_tensor().clone(), b))
}

#[allow(clippy::too_many_arguments)]
fn conv_layer<F: NnReal>(
    params: &mut ParamSet,
    name: &str,
    c_in: usize,
    c_out: usize,
    kernel: usize,
    padding: usize,
    bias: bool,
    rng: &mut GdRng,
    device: &Device,
) -> Result<Conv2d> {
    let fan_in = c_in * kernel * kernel;
    let w = uniform_fan_in::<F>((c_out, c_in, kernel, kernel), fan_in, rng, device)?;
    params.push(format!("{name}.weight"), w.clone())?;
    let b = if bias {
        let b = uniform_fan_in::<F>(c_out, fan_in, rng, device)?;
        params.push(format!("{name}.bias"), b.clone())?;
        Some(b.as_tensor().clone())
    } else {
        None
    };
    let cfg = Conv2dConfig {
        padding,
        ..Conv2dConfig::default()
    };
    Ok(Conv2d::new(w.as_tensor().clone(), b, cfg))
}

/// 2×2 max-pooling with stride 2 on `[n, c, h, w]` (odd trailing rows/columns dropped, as
/// PyTorch's `MaxPool2d(2)`), built from a reshape and two `max` reductions.
///
/// Candle 0.11.1's own `Tensor::max_pool2d` has a wrong backward pass: it multiplies the
/// upstream gradient by `(number of maxima in the window)/4` instead of dividing it by the
/// number of maxima, so a window with one maximum passes a quarter of its gradient (found
/// by this crate's finite-difference test). The reductions used here have candle's
/// `max` backward (the gradient goes to the arg-max), which is correct.
///
/// # Errors
/// A candle error if `x` is not 4-D or a side is shorter than 2.
///
/// # Examples
/// ```
/// use candle_core::{Device, Tensor};
/// let x = Tensor::new(&[[[[1.0_f64, 2.0, 0.0], [3.0, -1.0, 0.0], [9.0, 9.0, 9.0]]]], &Device::Cpu).unwrap();
/// let y = gdlab_nn::cnn::max_pool2x2(&x).unwrap();
/// assert_eq!(y.flatten_all().unwrap().to_vec1::<f64>().unwrap(), vec![3.0]);
/// ```
pub fn max_pool2x2(x: &Tensor) -> Result<Tensor> {
    let (n, c, h, w) = x.dims4()?;
    let (h2, w2) = (h / 2, w / 2);
    if h2 == 0 || w2 == 0 {
        return Err(crate::NnError::Shape {
            op: "max_pool2x2",
            expected: "height and width ≥ 2".into(),
            got: format!("{:?}", x.dims()),
        });
    }
    let x = if h % 2 == 1 || w % 2 == 1 {
        x.narrow(2, 0, 2 * h2)?.narrow(3, 0, 2 * w2)?.contiguous()?
    } else {
        x.contiguous()?
    };
    Ok(x.reshape((n, c, h2, 2, w2, 2))?.max(5)?.max(3)?)
}

fn check_input(
    in_channels: usize,
    image_size: usize,
    n_classes: usize,
) -> std::result::Result<(), ConfigError> {
    for (field, v) in [
        ("in_channels", in_channels),
        ("image_size", image_size),
        ("n_classes", n_classes),
    ] {
        if v == 0 {
            return Err(ConfigError::OutOfRangeInt {
                field,
                value: 0,
                allowed: "[1, ∞)",
            });
        }
    }
    Ok(())
}

/// `LeNetFamily(n_convs, n_linear)` of the paper's code (spec §4).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeNetConfig {
    /// 0 (a pure MLP on the raw pixels) or 2 (conv 5×5 → 6, pool, conv 5×5 → 16, pool).
    pub n_convs: usize,
    /// Linear layers including the output layer, ≥ 1: 1 → `features→classes`; 2 →
    /// `features→120→classes`; ≥ 3 → `features→120→84`, `n_linear − 3` layers `84→84`,
    /// then `84→classes`. ReLU after every hidden layer.
    pub n_linear: usize,
    /// Input channels (3 for CIFAR-10, 1 for MNIST).
    pub in_channels: usize,
    /// Input height = width (32 for CIFAR-10, 28 for MNIST).
    pub image_size: usize,
    /// Output classes.
    pub n_classes: usize,
}

impl LeNetConfig {
    /// The CIFAR-10 member `(n_convs, n_linear)`.
    #[must_use]
    pub fn cifar10(n_convs: usize, n_linear: usize) -> Self {
        LeNetConfig {
            n_convs,
            n_linear,
            in_channels: 3,
            image_size: 32,
            n_classes: 10,
        }
    }

    /// Input features of the first linear layer.
    #[must_use]
    pub fn n_features(&self) -> usize {
        if self.n_convs == 0 {
            self.in_channels * self.image_size * self.image_size
        } else {
            let s1 = (self.image_size.saturating_sub(4)) / 2;
            let s2 = (s1.saturating_sub(4)) / 2;
            16 * s2 * s2
        }
    }

    /// The widths of the linear layers, input first.
    #[must_use]
    pub fn linear_sizes(&self) -> Vec<usize> {
        let mut s = vec![self.n_features()];
        match self.n_linear {
            0 | 1 => {}
            2 => s.push(120),
            n => {
                s.push(120);
                s.push(84);
                s.extend(std::iter::repeat_n(84, n - 3));
            }
        }
        s.push(self.n_classes);
        s
    }

    /// Checks the configuration.
    ///
    /// # Errors
    /// [`ConfigError`] if `n_convs ∉ {0, 2}`, `n_linear = 0`, a size is 0, or the image is
    /// too small for two 5×5 convolutions with pooling (needs `image_size ≥ 16`).
    pub fn validate(&self) -> std::result::Result<(), ConfigError> {
        check_input(self.in_channels, self.image_size, self.n_classes)?;
        if self.n_convs != 0 && self.n_convs != 2 {
            return Err(ConfigError::OutOfRangeInt {
                field: "n_convs",
                value: self.n_convs as i128,
                allowed: "{0, 2}",
            });
        }
        if self.n_linear == 0 {
            return Err(ConfigError::OutOfRangeInt {
                field: "n_linear",
                value: 0,
                allowed: "[1, ∞)",
            });
        }
        if self.n_convs == 2 && self.image_size < 16 {
            return Err(ConfigError::OutOfRangeInt {
                field: "image_size",
                value: self.image_size as i128,
                allowed: "[16, ∞) with two convolutions",
            });
        }
        Ok(())
    }
}

/// A member of the LeNet family (see [`LeNetConfig`]); parameters `conv{i}.*` then
/// `linear{i}.*`, PyTorch-default initialisation from `seed.derive("init")`.
///
/// # Examples
/// ```
/// use candle_core::{DType, Device, Tensor};
/// use gdlab_core::Seed;
/// use gdlab_nn::cnn::{LeNet, LeNetConfig};
/// use gdlab_nn::Model;
/// let net = LeNet::new::<f32>(&LeNetConfig::cifar10(2, 3), Seed(0), &Device::Cpu).unwrap();
/// // conv 3·6·25+6, conv 6·16·25+16, 400·120+120, 120·84+84, 84·10+10
/// assert_eq!(net.params().n_params(), 456 + 2416 + 48120 + 10164 + 850);
/// let x = Tensor::zeros((2, 3, 32, 32), DType::F32, &Device::Cpu).unwrap();
/// assert_eq!(net.forward(&x).unwrap().dims(), &[2, 10]);
/// ```
#[derive(Clone, Debug)]
pub struct LeNet {
    cfg: LeNetConfig,
    convs: Vec<Conv2d>,
    linears: Vec<Linear>,
    params: ParamSet,
}

impl LeNet {
    /// Builds and initialises the network.
    ///
    /// # Errors
    /// [`crate::NnError::Config`] for an invalid configuration; a candle error.
    pub fn new<F: NnReal>(cfg: &LeNetConfig, seed: Seed, device: &Device) -> Result<Self> {
        cfg.validate()?;
        let mut rng = seed.derive("init").rng();
        let mut params = ParamSet::new();
        let mut convs = Vec::new();
        if cfg.n_convs == 2 {
            convs.push(conv_layer::<F>(
                &mut params,
                "conv0",
                cfg.in_channels,
                6,
                5,
                0,
                true,
                &mut rng,
                device,
            )?);
            convs.push(conv_layer::<F>(
                &mut params,
                "conv1",
                6,
                16,
                5,
                0,
                true,
                &mut rng,
                device,
            )?);
        }
        let sizes = cfg.linear_sizes();
        let mut linears = Vec::new();
        for (i, w) in sizes.windows(2).enumerate() {
            linears.push(linear_layer::<F>(
                &mut params,
                &format!("linear{i}"),
                w[0],
                w[1],
                true,
                &mut rng,
                device,
            )?);
        }
        Ok(LeNet {
            cfg: cfg.clone(),
            convs,
            linears,
            params,
        })
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &LeNetConfig {
        &self.cfg
    }
}

impl Model for LeNet {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut h = x.clone();
        for c in &self.convs {
            h = max_pool2x2(&c.forward(&h)?.relu()?)?;
        }
        let mut h = h.flatten_from(1)?;
        let last = self.linears.len() - 1;
        for (i, l) in self.linears.iter().enumerate() {
            h = l.forward(&h)?;
            if i < last {
                h = h.relu()?;
            }
        }
        Ok(h)
    }

    fn params(&self) -> &ParamSet {
        &self.params
    }

    fn input_shape(&self) -> Vec<usize> {
        vec![
            self.cfg.in_channels,
            self.cfg.image_size,
            self.cfg.image_size,
        ]
    }
}

/// One entry of a VGG configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VggLayer {
    /// 3×3 convolution, padding 1, to this many channels, then ReLU.
    Conv(usize),
    /// 2×2 max-pooling.
    MaxPool,
}

/// A VGG network without batch norm (spec §4): convolutions and pools, then one linear
/// classifier.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VggConfig {
    /// The feature extractor.
    pub layers: Vec<VggLayer>,
    /// Input channels.
    pub in_channels: usize,
    /// Input height = width.
    pub image_size: usize,
    /// Output classes.
    pub n_classes: usize,
    /// Whether convolutions and the classifier have biases (the paper's runs: yes).
    pub bias: bool,
}

impl VggConfig {
    /// The paper's VGG of depth `depth ∈ {4, 5, 6, 7, 8, 11, 13, 16, 19}` on CIFAR-10
    /// (depth counts conv layers + the classifier).
    ///
    /// # Errors
    /// [`ConfigError::OutOfRangeInt`] for another depth.
    pub fn cifar10(depth: usize) -> std::result::Result<Self, ConfigError> {
        use VggLayer::{Conv as C, MaxPool as M};
        let layers = match depth {
            4 => vec![C(512), M],
            5 => vec![C(256), M, C(512), M],
            6 => vec![C(256), M, C(512), M, C(512), M],
            7 => vec![C(128), M, C(256), M, C(512), M, C(512), M],
            8 => vec![C(64), M, C(128), M, C(256), M, C(512), M, C(512), M],
            11 => vec![
                C(64),
                M,
                C(128),
                M,
                C(256),
                C(256),
                M,
                C(512),
                C(512),
                M,
                C(512),
                C(512),
                M,
            ],
            13 => vec![
                C(64),
                C(64),
                M,
                C(128),
                C(128),
                M,
                C(256),
                C(256),
                M,
                C(512),
                C(512),
                M,
                C(512),
                C(512),
                M,
            ],
            16 => vec![
                C(64),
                C(64),
                M,
                C(128),
                C(128),
                M,
                C(256),
                C(256),
                C(256),
                M,
                C(512),
                C(512),
                C(512),
                M,
                C(512),
                C(512),
                C(512),
                M,
            ],
            19 => vec![
                C(64),
                C(64),
                M,
                C(128),
                C(128),
                M,
                C(256),
                C(256),
                C(256),
                C(256),
                M,
                C(512),
                C(512),
                C(512),
                C(512),
                M,
                C(512),
                C(512),
                C(512),
                C(512),
                M,
            ],
            d => {
                return Err(ConfigError::OutOfRangeInt {
                    field: "depth",
                    value: d as i128,
                    allowed: "{4, 5, 6, 7, 8, 11, 13, 16, 19}",
                })
            }
        };
        Ok(VggConfig {
            layers,
            in_channels: 3,
            image_size: 32,
            n_classes: 10,
            bias: true,
        })
    }

    /// The same network with every channel count divided by `divisor` (at least 1
    /// channel): a CPU-sized variant. `divisor = 1` is the paper's network.
    #[must_use]
    pub fn narrowed(&self, divisor: usize) -> Self {
        let d = divisor.max(1);
        let mut c = self.clone();
        for l in &mut c.layers {
            if let VggLayer::Conv(ch) = l {
                *ch = (*ch / d).max(1);
            }
        }
        c
    }

    /// Input features of the classifier (channels × remaining spatial size²).
    #[must_use]
    pub fn n_features(&self) -> usize {
        let mut ch = self.in_channels;
        let mut s = self.image_size;
        for l in &self.layers {
            match l {
                VggLayer::Conv(c) => ch = *c,
                VggLayer::MaxPool => s /= 2,
            }
        }
        ch * s * s
    }

    /// Conv layers + 1.
    #[must_use]
    pub fn depth(&self) -> usize {
        self.layers
            .iter()
            .filter(|l| matches!(l, VggLayer::Conv(_)))
            .count()
            + 1
    }

    /// Checks the configuration.
    ///
    /// # Errors
    /// [`ConfigError`] for zero sizes or more pools than the image allows.
    pub fn validate(&self) -> std::result::Result<(), ConfigError> {
        check_input(self.in_channels, self.image_size, self.n_classes)?;
        let pools = self
            .layers
            .iter()
            .filter(|l| **l == VggLayer::MaxPool)
            .count();
        if self.image_size >> pools == 0 || self.layers.contains(&VggLayer::Conv(0)) {
            return Err(ConfigError::Invalid {
                field: "layers".into(),
                reason: format!(
                    "{pools} pools do not fit an image of size {} (or a conv has 0 channels)",
                    self.image_size
                ),
            });
        }
        Ok(())
    }
}

/// A VGG network (see [`VggConfig`]); parameters `conv{i}.*` then `classifier.*`.
///
/// # Examples
/// ```
/// use gdlab_core::Seed;
/// use gdlab_nn::cnn::{Vgg, VggConfig};
/// use gdlab_nn::Model;
/// let cfg = VggConfig::cifar10(4).unwrap();
/// assert_eq!(cfg.n_features(), 131_072); // spec §4
/// let small = Vgg::new::<f32>(&cfg.narrowed(64), Seed(0), &candle_core::Device::Cpu).unwrap();
/// assert_eq!(small.params().n_params(), 3 * 8 * 9 + 8 + 8 * 256 * 10 + 10);
/// ```
#[derive(Clone, Debug)]
pub struct Vgg {
    cfg: VggConfig,
    convs: Vec<Option<Conv2d>>,
    classifier: Linear,
    params: ParamSet,
}

impl Vgg {
    /// Builds and initialises the network.
    ///
    /// # Errors
    /// [`crate::NnError::Config`] for an invalid configuration; a candle error.
    pub fn new<F: NnReal>(cfg: &VggConfig, seed: Seed, device: &Device) -> Result<Self> {
        cfg.validate()?;
        let mut rng = seed.derive("init").rng();
        let mut params = ParamSet::new();
        let mut convs = Vec::new();
        let mut ch = cfg.in_channels;
        let mut k = 0;
        for l in &cfg.layers {
            match l {
                VggLayer::Conv(c) => {
                    convs.push(Some(conv_layer::<F>(
                        &mut params,
                        &format!("conv{k}"),
                        ch,
                        *c,
                        3,
                        1,
                        cfg.bias,
                        &mut rng,
                        device,
                    )?));
                    ch = *c;
                    k += 1;
                }
                VggLayer::MaxPool => convs.push(None),
            }
        }
        let classifier = linear_layer::<F>(
            &mut params,
            "classifier",
            cfg.n_features(),
            cfg.n_classes,
            cfg.bias,
            &mut rng,
            device,
        )?;
        Ok(Vgg {
            cfg: cfg.clone(),
            convs,
            classifier,
            params,
        })
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &VggConfig {
        &self.cfg
    }
}

impl Model for Vgg {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut h = x.clone();
        for c in &self.convs {
            h = match c {
                Some(conv) => conv.forward(&h)?.relu()?,
                None => max_pool2x2(&h)?,
            };
        }
        Ok(self.classifier.forward(&h.flatten_from(1)?)?)
    }

    fn params(&self) -> &ParamSet {
        &self.params
    }

    fn input_shape(&self) -> Vec<usize> {
        vec![
            self.cfg.in_channels,
            self.cfg.image_size,
            self.cfg.image_size,
        ]
    }
}
