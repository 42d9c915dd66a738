//! Raw candle matmul / elementwise timing on this machine (diagnostic).
#![allow(clippy::unwrap_used, clippy::print_stdout)]
use std::time::Instant;
use candle_core::{DType, Device, Tensor};
fn main() {
    let d = Device::Cpu;
    let a = Tensor::ones((13824, 64), DType::F32, &d).unwrap();
    let w = Tensor::ones((64, 256), DType::F32, &d).unwrap();
    let t = Instant::now();
    for _ in 0..10 { a.matmul(&w).unwrap(); }
    let s = t.elapsed().as_secs_f64() / 10.0;
    println!("matmul 13824x64x256: {:.2} ms, {:.1} GFLOP/s", s * 1e3, 2.0 * 13824.0 * 64.0 * 256.0 / s / 1e9);
    let b = Tensor::ones((13824, 256), DType::F32, &d).unwrap();
    let t = Instant::now();
    for _ in 0..10 { b.gelu().unwrap(); }
    println!("gelu 3.5M: {:.2} ms", t.elapsed().as_secs_f64() / 10.0 * 1e3);
    let t = Instant::now();
    for _ in 0..10 { b.gelu_erf().unwrap(); }
    println!("gelu_erf 3.5M: {:.2} ms", t.elapsed().as_secs_f64() / 10.0 * 1e3);
    let x = Tensor::ones((1536, 36, 36), DType::F32, &d).unwrap();
    let t = Instant::now();
    for _ in 0..10 { candle_nn::ops::softmax(&x, candle_core::D::Minus1).unwrap(); }
    println!("softmax generic 2M: {:.2} ms", t.elapsed().as_secs_f64() / 10.0 * 1e3);
    let t = Instant::now();
    for _ in 0..10 { candle_nn::ops::softmax_last_dim(&x).unwrap(); }
    println!("softmax_last_dim 2M: {:.2} ms", t.elapsed().as_secs_f64() / 10.0 * 1e3);
    let q = Tensor::ones((1536, 36, 16), DType::F32, &d).unwrap();
    let t = Instant::now();
    for _ in 0..10 { q.matmul(&q.t().unwrap()).unwrap(); }
    println!("bmm qk 1536x36x16x36: {:.2} ms", t.elapsed().as_secs_f64() / 10.0 * 1e3);
    let h = Tensor::ones((384, 36, 64), DType::F32, &d).unwrap();
    let g = Tensor::ones(64, DType::F32, &d).unwrap();
    let t = Instant::now();
    for _ in 0..10 { candle_nn::ops::layer_norm_slow(&h, &g, &g, 1e-5).unwrap(); }
    println!("layer_norm_slow 0.9M: {:.2} ms", t.elapsed().as_secs_f64() / 10.0 * 1e3);
    let t = Instant::now();
    for _ in 0..10 { candle_nn::ops::layer_norm(&h, &g, &g, 1e-5).unwrap(); }
    println!("layer_norm fast 0.9M: {:.2} ms", t.elapsed().as_secs_f64() / 10.0 * 1e3);
}
