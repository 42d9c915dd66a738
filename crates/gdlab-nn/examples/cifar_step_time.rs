//! Measures one SGD step (momentum 0.9, through [`gdlab_nn::GdOptimizer`]) of every network
//! of the tail-index study's CIFAR-10 grid at the paper's widths, on random CIFAR-shaped
//! batches, and extrapolates the time of a full run (spec §5.2: 81 epochs for VGG, 51 for
//! LeNet, 50 000 training images).
//!
//! Run: `cargo run --release -p gdlab-nn --example cifar_step_time -- [BATCH] [STEPS]`
//! (defaults 128 and 2; one untimed warm-up step first).

#![allow(clippy::print_stdout)] // an example prints its measurements

use std::time::Instant;

use candle_core::{Device, Tensor};
use gdlab_core::Seed;
use gdlab_nn::cnn::{LeNet, LeNetConfig, Vgg, VggConfig};
use gdlab_nn::{cross_entropy, GdOptimizer, Model};
use gdlab_optim::alias::sgd;
use gdlab_optim::transform::MomentumConfig;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let batch: usize = args.next().map_or(Ok(128), |a| a.parse())?;
    let steps: usize = args.next().map_or(Ok(2), |a| a.parse())?;
    let dev = Device::Cpu;
    let x = Tensor::randn(0f32, 1.0, (batch, 3, 32, 32), &dev)?;
    let labels: Vec<u32> = (0..batch as u32).map(|i| i % 10).collect();
    let y = Tensor::new(labels.as_slice(), &dev)?;
    let mut models: Vec<(String, Box<dyn Model>, usize)> = Vec::new();
    for depth in [4, 5, 6, 7, 8] {
        let m = Vgg::new::<f32>(&VggConfig::cifar10(depth)?, Seed(0), &dev)?;
        models.push((format!("VGG{depth}"), Box::new(m), 81));
    }
    for (nc, nl) in [(0, 8), (0, 4), (0, 2), (2, 8), (2, 4), (2, 2), (2, 1)] {
        let m = LeNet::new::<f32>(&LeNetConfig::cifar10(nc, nl), Seed(0), &dev)?;
        models.push((format!("LeNet({nc},{nl})"), Box::new(m), 51));
    }
    let steps_per_epoch = 50_000usize.div_ceil(batch);
    println!(
        "model,params,batch,seconds_per_step,full_run_hours ({steps_per_epoch} steps per epoch)"
    );
    let mut total = 0.0;
    for (name, model, epochs) in &models {
        let momentum = MomentumConfig {
            momentum: 0.9,
            ..MomentumConfig::default()
        };
        let mut opt = GdOptimizer::<f32, _>::new(sgd(0.01, momentum, 0.0)?, model.params())?;
        let mut step = || -> Result<(), Box<dyn std::error::Error>> {
            let loss = cross_entropy(&model.forward(&x)?, &y)?;
            opt.backward_step(&loss)?;
            Ok(())
        };
        step()?;
        let t = Instant::now();
        for _ in 0..steps {
            step()?;
        }
        let per_step = t.elapsed().as_secs_f64() / steps.max(1) as f64;
        let hours = per_step * (*epochs * steps_per_epoch) as f64 / 3600.0;
        total += hours;
        println!(
            "{name},{},{batch},{per_step:.4},{hours:.2}",
            model.params().n_params()
        );
    }
    println!("total (one (eta, B) pair, every model): {total:.1} h of SGD steps");
    Ok(())
}
