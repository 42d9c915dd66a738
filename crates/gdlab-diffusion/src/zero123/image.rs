//! Images for the Zero-1-to-3 pipeline: PNG in and out, bicubic resizing with PyTorch's
//! conventions, side-by-side strips and attention heatmaps.

use std::path::Path;

use candle_core::{Device, Tensor};

use crate::error::{DiffusionError, Result};

/// The cubic-convolution coefficient of PyTorch's (and kornia's) bicubic mode.
pub const BICUBIC_A: f64 = -0.75;

fn cubic_weights(t: f64) -> [f64; 4] {
    // Keys' kernel with A = −0.75 at distances t+1, t, 1−t, 2−t (PyTorch
    // `get_cubic_upsample_coefficients`).
    let a = BICUBIC_A;
    let near = |x: f64| ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
    let far = |x: f64| ((a * x - 5.0 * a) * x + 8.0 * a) * x - 4.0 * a;
    [far(t + 1.0), near(t), near(1.0 - t), far(2.0 - t)]
}

/// Source coordinate of output index `i` (PyTorch `area_pixel_compute_source_index` for
/// cubic modes: no clamping).
fn source_coord(i: usize, n_in: usize, n_out: usize, align_corners: bool) -> f64 {
    if align_corners {
        if n_out > 1 {
            i as f64 * (n_in - 1) as f64 / (n_out - 1) as f64
        } else {
            0.0
        }
    } else {
        (i as f64 + 0.5) * n_in as f64 / n_out as f64 - 0.5
    }
}

/// Bicubic resize of one row-major `(h, w)` plane to `(out_h, out_w)`, as
/// `torch.nn.functional.interpolate(mode="bicubic", align_corners=…, antialias=False)`:
/// Keys' kernel with `A = −0.75`, neighbour indices clamped to the border, horizontal pass
/// then vertical, no clamping of values.
///
/// # Panics
/// If `src.len() != h·w` or a size is zero (programmer errors).
///
/// # Examples
/// ```
/// use gdlab_diffusion::zero123::image::resize_bicubic;
/// // A ramp resized 3 → 5 with align_corners: even outputs hit the samples exactly.
/// let out = resize_bicubic(&[0.0, 1.0, 2.0], (1, 3), (1, 5), true);
/// assert_eq!((out[0], out[2], out[4]), (0.0, 1.0, 2.0));
/// ```
#[must_use]
pub fn resize_bicubic(
    src: &[f32],
    (h, w): (usize, usize),
    (out_h, out_w): (usize, usize),
    align_corners: bool,
) -> Vec<f32> {
    assert!(h > 0 && w > 0 && out_h > 0 && out_w > 0 && src.len() == h * w);
    let taps = |n_in: usize, n_out: usize| -> Vec<([usize; 4], [f64; 4])> {
        (0..n_out)
            .map(|i| {
                let s = source_coord(i, n_in, n_out, align_corners);
                let f = s.floor();
                let wts = cubic_weights(s - f);
                let idx =
                    [-1i64, 0, 1, 2].map(|d| (f as i64 + d).clamp(0, n_in as i64 - 1) as usize);
                (idx, wts)
            })
            .collect()
    };
    let (tx, ty) = (taps(w, out_w), taps(h, out_h));
    // Horizontal pass: (h, out_w).
    let mut mid = vec![0f64; h * out_w];
    for y in 0..h {
        let row = &src[y * w..(y + 1) * w];
        for (x, (idx, wts)) in tx.iter().enumerate() {
            mid[y * out_w + x] = (0..4).map(|k| wts[k] * f64::from(row[idx[k]])).sum();
        }
    }
    // Vertical pass.
    let mut out = vec![0f32; out_h * out_w];
    for (y, (idx, wts)) in ty.iter().enumerate() {
        for x in 0..out_w {
            let v: f64 = (0..4).map(|k| wts[k] * mid[idx[k] * out_w + x]).sum();
            out[y * out_w + x] = v as f32;
        }
    }
    out
}

/// Bicubic resize of every `(H, W)` plane of a `(B, C, H, W)` tensor (see
/// [`resize_bicubic`]); the result is on the input's device.
///
/// # Errors
/// Tensor errors (not 4-D).
pub fn resize_bicubic_tensor(
    x: &Tensor,
    (out_h, out_w): (usize, usize),
    align_corners: bool,
) -> Result<Tensor> {
    let (b, c, h, w) = x.dims4()?;
    if (h, w) == (out_h, out_w) && align_corners {
        return Ok(x.clone()); // exact identity (weights [0, 1, 0, 0])
    }
    let v = x
        .to_dtype(candle_core::DType::F32)?
        .flatten_all()?
        .to_vec1::<f32>()?;
    let mut out = Vec::with_capacity(b * c * out_h * out_w);
    for plane in v.chunks_exact(h * w) {
        out.extend(resize_bicubic(plane, (h, w), (out_h, out_w), align_corners));
    }
    Ok(Tensor::from_vec(out, (b, c, out_h, out_w), x.device())?)
}

/// An RGB image with values in [0, 1], pixels interleaved row-major (`(y·w + x)·3 + c`).
#[derive(Clone, Debug, PartialEq)]
pub struct RgbImage {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// `width·height·3` values in [0, 1].
    pub pixels: Vec<f32>,
}

fn image_err(path: &Path, message: impl Into<String>) -> DiffusionError {
    DiffusionError::Image {
        path: path.display().to_string(),
        message: message.into(),
    }
}

impl RgbImage {
    /// A `width × height` image filled with `rgb`.
    #[must_use]
    pub fn filled(width: usize, height: usize, rgb: [f32; 3]) -> Self {
        RgbImage {
            width,
            height,
            pixels: rgb.repeat(width * height),
        }
    }

    /// Decodes a PNG (8- or 16-bit; grey, grey+alpha, RGB, RGBA or palette). Alpha is
    /// composited on white, as Zero-1-to-3's preprocessing does for its RGBA inputs.
    ///
    /// # Errors
    /// [`DiffusionError::Image`] naming the path if it cannot be read or decoded.
    pub fn read_png(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| image_err(path, e.to_string()))?;
        Self::decode_png(&bytes).map_err(|m| image_err(path, m))
    }

    /// Decodes PNG bytes (see [`RgbImage::read_png`]).
    ///
    /// # Errors
    /// A message if the bytes are not a decodable PNG.
    pub fn decode_png(bytes: &[u8]) -> std::result::Result<Self, String> {
        let mut dec = png::Decoder::new(bytes);
        dec.set_transformations(png::Transformations::normalize_to_color8());
        let mut reader = dec.read_info().map_err(|e| format!("not a PNG: {e}"))?;
        let mut buf = vec![0u8; reader.output_buffer_size()];
        let info = reader
            .next_frame(&mut buf)
            .map_err(|e| format!("decoding the PNG: {e}"))?;
        let (w, h) = (info.width as usize, info.height as usize);
        if w == 0 || h == 0 {
            return Err("empty image".into());
        }
        let ch = match info.color_type {
            png::ColorType::Grayscale => 1,
            png::ColorType::GrayscaleAlpha => 2,
            png::ColorType::Rgb => 3,
            png::ColorType::Rgba => 4,
            png::ColorType::Indexed => return Err("unexpanded palette image".into()),
        };
        let data = &buf[..info.line_size * h];
        let mut pixels = Vec::with_capacity(w * h * 3);
        for y in 0..h {
            let line = &data[y * info.line_size..y * info.line_size + w * ch];
            for px in line.chunks_exact(ch) {
                let v = |i: usize| f32::from(px[i]) / 255.0;
                let (rgb, a) = match ch {
                    1 => ([v(0); 3], 1.0),
                    2 => ([v(0); 3], v(1)),
                    3 => ([v(0), v(1), v(2)], 1.0),
                    _ => ([v(0), v(1), v(2)], v(3)),
                };
                pixels.extend(rgb.map(|c| c * a + (1.0 - a)));
            }
        }
        Ok(RgbImage {
            width: w,
            height: h,
            pixels,
        })
    }

    /// Encodes as an 8-bit RGB PNG.
    ///
    /// # Errors
    /// [`DiffusionError::Image`] if the encoder fails (not expected for valid sizes).
    pub fn encode_png(&self) -> Result<Vec<u8>> {
        let px: Vec<u8> = self
            .pixels
            .iter()
            .map(|&v| (f64::from(v).clamp(0.0, 1.0) * 255.0).round() as u8)
            .collect();
        let mut out = Vec::new();
        {
            let err = |e: png::EncodingError| image_err(Path::new("<png>"), e.to_string());
            let mut enc = png::Encoder::new(&mut out, self.width as u32, self.height as u32);
            enc.set_color(png::ColorType::Rgb);
            enc.set_depth(png::BitDepth::Eight);
            let mut wr = enc.write_header().map_err(err)?;
            wr.write_image_data(&px).map_err(err)?;
            wr.finish().map_err(err)?;
        }
        Ok(out)
    }

    /// Writes the image as a PNG atomically (temporary file, then rename).
    ///
    /// # Errors
    /// [`DiffusionError::Image`] naming the path on I/O errors.
    pub fn write_png(&self, path: &Path) -> Result<()> {
        let bytes = self.encode_png()?;
        gdlab_core::io::atomic_write(path, &bytes).map_err(|e| image_err(path, e.to_string()))
    }

    /// Centres the image on a white square canvas (side = the longer side).
    #[must_use]
    pub fn pad_to_square(&self) -> Self {
        let s = self.width.max(self.height);
        if self.width == self.height {
            return self.clone();
        }
        let mut out = RgbImage::filled(s, s, [1.0; 3]);
        let (ox, oy) = ((s - self.width) / 2, (s - self.height) / 2);
        for y in 0..self.height {
            let src = &self.pixels[y * self.width * 3..(y + 1) * self.width * 3];
            let d0 = ((oy + y) * s + ox) * 3;
            out.pixels[d0..d0 + self.width * 3].copy_from_slice(src);
        }
        out
    }

    /// Bicubic resize (`align_corners = false`, as PIL/PyTorch image resizing), values
    /// clamped to [0, 1].
    ///
    /// # Panics
    /// If a target size is zero.
    #[must_use]
    pub fn resize(&self, width: usize, height: usize) -> Self {
        if (width, height) == (self.width, self.height) {
            return self.clone();
        }
        let mut pixels = vec![0f32; width * height * 3];
        for c in 0..3 {
            let plane: Vec<f32> = self.pixels.iter().skip(c).step_by(3).copied().collect();
            let r = resize_bicubic(&plane, (self.height, self.width), (height, width), false);
            for (i, v) in r.into_iter().enumerate() {
                pixels[i * 3 + c] = v.clamp(0.0, 1.0);
            }
        }
        RgbImage {
            width,
            height,
            pixels,
        }
    }

    /// Averages non-overlapping `k × k` blocks (`k ≥ 1`; a remainder at the right and
    /// bottom edges is dropped).
    #[must_use]
    pub fn downsample_box(&self, k: usize) -> Self {
        let k = k.max(1);
        let (w, h) = (self.width / k, self.height / k);
        let mut pixels = vec![0f32; w * h * 3];
        let norm = 1.0 / (k * k) as f32;
        for y in 0..h {
            for x in 0..w {
                for c in 0..3 {
                    let mut acc = 0f32;
                    for dy in 0..k {
                        for dx in 0..k {
                            acc += self.pixels[((y * k + dy) * self.width + x * k + dx) * 3 + c];
                        }
                    }
                    pixels[(y * w + x) * 3 + c] = acc * norm;
                }
            }
        }
        RgbImage {
            width: w,
            height: h,
            pixels,
        }
    }

    /// The model input: [`RgbImage::pad_to_square`] on white, then resized to
    /// `size × size`. Downscaling by `k ≥ 2` goes bicubic to `k·size`, then averages
    /// `k × k` blocks (an antialiased reduction; Zero-1-to-3's demo uses PIL's Lanczos,
    /// which this approximates); otherwise plain bicubic.
    ///
    /// # Panics
    /// If `size` is zero.
    #[must_use]
    pub fn fit_square(&self, size: usize) -> Self {
        let sq = self.pad_to_square();
        let k = sq.width / size;
        if k >= 2 {
            sq.resize(k * size, k * size).downsample_box(k)
        } else {
            sq.resize(size, size)
        }
    }

    /// The image as a `(1, 3, H, W)` tensor in [−1, 1].
    ///
    /// # Errors
    /// Tensor errors.
    pub fn to_tensor(&self, device: &Device) -> Result<Tensor> {
        let mut chw = vec![0f32; self.pixels.len()];
        let n = self.width * self.height;
        for (i, px) in self.pixels.chunks_exact(3).enumerate() {
            for c in 0..3 {
                chw[c * n + i] = px[c] * 2.0 - 1.0;
            }
        }
        Ok(Tensor::from_vec(
            chw,
            (1, 3, self.height, self.width),
            device,
        )?)
    }

    /// An image from a `(3, H, W)` or `(1, 3, H, W)` tensor in [−1, 1] (clamped).
    ///
    /// # Errors
    /// [`DiffusionError::Shape`] for other shapes; tensor errors.
    pub fn from_tensor(x: &Tensor) -> Result<Self> {
        let x = match x.rank() {
            4 if x.dim(0)? == 1 => x.squeeze(0)?,
            _ => x.clone(),
        };
        let (c, h, w) = x.dims3()?;
        if c != 3 {
            return Err(DiffusionError::Shape {
                op: "RgbImage::from_tensor".into(),
                expected: "(3, H, W)".into(),
                got: format!("{:?}", x.dims()),
            });
        }
        let v = x
            .to_dtype(candle_core::DType::F32)?
            .flatten_all()?
            .to_vec1::<f32>()?;
        let n = h * w;
        let mut pixels = vec![0f32; n * 3];
        for i in 0..n {
            for ch in 0..3 {
                pixels[i * 3 + ch] = ((v[ch * n + i] + 1.0) / 2.0).clamp(0.0, 1.0);
            }
        }
        Ok(RgbImage {
            width: w,
            height: h,
            pixels,
        })
    }

    /// Nearest-neighbour upscaling by an integer factor `k ≥ 1` (for small previews).
    #[must_use]
    pub fn upscale_nearest(&self, k: usize) -> Self {
        let k = k.max(1);
        let (w, h) = (self.width * k, self.height * k);
        let mut pixels = Vec::with_capacity(w * h * 3);
        for y in 0..h {
            for x in 0..w {
                let i = ((y / k) * self.width + x / k) * 3;
                pixels.extend_from_slice(&self.pixels[i..i + 3]);
            }
        }
        RgbImage {
            width: w,
            height: h,
            pixels,
        }
    }

    /// Images side by side, top-aligned, separated by `gap` white columns.
    #[must_use]
    pub fn hstack(images: &[&RgbImage], gap: usize) -> Self {
        let h = images.iter().map(|i| i.height).max().unwrap_or(0);
        let w =
            images.iter().map(|i| i.width).sum::<usize>() + gap * images.len().saturating_sub(1);
        let mut out = RgbImage::filled(w, h, [1.0; 3]);
        let mut x0 = 0;
        for img in images {
            for y in 0..img.height {
                let src = &img.pixels[y * img.width * 3..(y + 1) * img.width * 3];
                let d0 = (y * w + x0) * 3;
                out.pixels[d0..d0 + img.width * 3].copy_from_slice(src);
            }
            x0 += img.width + gap;
        }
        out
    }

    /// Images stacked vertically, left-aligned, separated by `gap` white rows.
    #[must_use]
    pub fn vstack(images: &[&RgbImage], gap: usize) -> Self {
        let w = images.iter().map(|i| i.width).max().unwrap_or(0);
        let h =
            images.iter().map(|i| i.height).sum::<usize>() + gap * images.len().saturating_sub(1);
        let mut out = RgbImage::filled(w, h, [1.0; 3]);
        let mut y0 = 0;
        for img in images {
            for y in 0..img.height {
                let src = &img.pixels[y * img.width * 3..(y + 1) * img.width * 3];
                let d0 = ((y0 + y) * w) * 3;
                out.pixels[d0..d0 + img.width * 3].copy_from_slice(src);
            }
            y0 += img.height + gap;
        }
        out
    }
}

/// A black → red → yellow → white colour ramp of `v ∈ [0, 1]`.
#[must_use]
pub fn heat_color(v: f32) -> [f32; 3] {
    let v = v.clamp(0.0, 1.0);
    [
        (3.0 * v).min(1.0),
        (3.0 * v - 1.0).clamp(0.0, 1.0),
        (3.0 * v - 2.0).clamp(0.0, 1.0),
    ]
}

/// One attention row as a heatmap over `base`: `weights` (`gh·gw` key probabilities of
/// one query) are divided by their maximum, coloured with [`heat_color`], upsampled
/// (nearest) to the base image and blended 60/40 over its grey version; the query cell is
/// outlined in cyan.
///
/// # Errors
/// [`DiffusionError::Shape`] if `weights.len() != gh·gw` or the query is outside the grid.
pub fn attention_heatmap(
    base: &RgbImage,
    weights: &[f32],
    (gh, gw): (usize, usize),
    (qy, qx): (usize, usize),
) -> Result<RgbImage> {
    if weights.len() != gh * gw || qy >= gh || qx >= gw || gh == 0 || gw == 0 {
        return Err(DiffusionError::Shape {
            op: "attention_heatmap".into(),
            expected: format!("{gh}·{gw} weights and a query inside the grid"),
            got: format!("{} weights, query ({qy}, {qx})", weights.len()),
        });
    }
    let max = weights.iter().copied().fold(f32::MIN_POSITIVE, f32::max);
    let mut out = base.clone();
    let (w, h) = (base.width, base.height);
    let in_query = |y: usize, x: usize| (y * gh / h, x * gw / w) == (qy, qx);
    for y in 0..h {
        for x in 0..w {
            let (cy, cx) = (y * gh / h, x * gw / w);
            let heat = heat_color(weights[cy * gw + cx] / max);
            let p = &mut out.pixels[(y * w + x) * 3..(y * w + x) * 3 + 3];
            let grey = (p[0] + p[1] + p[2]) / 3.0;
            let on_edge = in_query(y, x)
                && (y == 0
                    || x == 0
                    || y + 1 == h
                    || x + 1 == w
                    || !in_query(y - 1, x)
                    || !in_query(y + 1, x)
                    || !in_query(y, x - 1)
                    || !in_query(y, x + 1));
            for c in 0..3 {
                p[c] = if on_edge {
                    [0.0, 1.0, 1.0][c]
                } else {
                    0.6 * heat[c] + 0.4 * grey
                };
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact hand values
mod tests {
    use super::*;

    #[test]
    fn bicubic_identity_constant_and_ramp() {
        let src: Vec<f32> = (0..12).map(|i| (i * i) as f32 * 0.1).collect();
        assert_eq!(resize_bicubic(&src, (3, 4), (3, 4), true), src);
        // Equal sizes without align_corners are also the identity (t = 0 everywhere).
        assert_eq!(resize_bicubic(&src, (3, 4), (3, 4), false), src);
        // Weights sum to 1: a constant stays constant (to f32 rounding).
        let c = resize_bicubic(&[0.7; 20], (4, 5), (7, 3), true);
        assert!(c.iter().all(|&v| (v - 0.7).abs() < 1e-6), "{c:?}");
        let c = resize_bicubic(&[0.7; 20], (4, 5), (2, 9), false);
        assert!(c.iter().all(|&v| (v - 0.7).abs() < 1e-6), "{c:?}");
        // Ramp 0..4 → 9 samples with align_corners: s = i/2. Even i: the samples. Odd i in
        // the interior (t = ½, all four neighbours inside): the midpoint exactly, since the
        // A = −0.75 kernel at t = ½ is symmetric: w = (−3/32, 19/32, 19/32, −3/32).
        // Odd i next to a border: the clamped neighbour shifts it by 3/32:
        // i = 1: −3/32·0 + 19/32·0 + 19/32·1 − 3/32·2 = 13/32 … = 0.40625; i = 7 mirrors.
        let r = resize_bicubic(&[0.0, 1.0, 2.0, 3.0, 4.0], (1, 5), (1, 9), true);
        let want = [0.0, 0.40625, 1.0, 1.5, 2.0, 2.5, 3.0, 3.59375, 4.0];
        for (g, w) in r.iter().zip(want) {
            assert!((g - w).abs() < 1e-6, "{r:?}");
        }
    }

    #[test]
    fn bicubic_without_align_corners_hand_value() {
        // 2 → 1 without align_corners: s = 0.5, t = ½, neighbours (−1, 0, 1, 2) clamp to
        // (0, 0, 1, 1): (−3/32 + 19/32)·a + (19/32 − 3/32)·b = (a + b)/2.
        let r = resize_bicubic(&[1.0, 3.0], (1, 2), (1, 1), false);
        assert_eq!(r, vec![2.0]);
    }

    #[test]
    fn png_round_trip_and_alpha_on_white() {
        let img = RgbImage {
            width: 2,
            height: 1,
            pixels: vec![1.0, 0.0, 0.0, 0.0, 0.0, 1.0],
        };
        let back = RgbImage::decode_png(&img.encode_png().unwrap()).unwrap();
        assert_eq!(back, img);
        // RGBA: a black pixel at alpha 0 becomes white; at alpha 255 stays black.
        let mut out = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut out, 2, 1);
            enc.set_color(png::ColorType::Rgba);
            enc.set_depth(png::BitDepth::Eight);
            let mut wr = enc.write_header().unwrap();
            wr.write_image_data(&[0, 0, 0, 0, 0, 0, 0, 255]).unwrap();
            wr.finish().unwrap();
        }
        let rgba = RgbImage::decode_png(&out).unwrap();
        assert_eq!(rgba.pixels, vec![1.0, 1.0, 1.0, 0.0, 0.0, 0.0]);
        assert!(RgbImage::decode_png(b"not a png").is_err());
    }

    #[test]
    fn tensor_round_trip_padding_and_stacking() {
        let img = RgbImage {
            width: 1,
            height: 2,
            pixels: vec![0.0, 0.5, 1.0, 1.0, 0.0, 0.5],
        };
        let t = img.to_tensor(&Device::Cpu).unwrap();
        assert_eq!(t.dims(), &[1, 3, 2, 1]);
        assert_eq!(
            t.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
            vec![-1.0, 1.0, 0.0, -1.0, 1.0, 0.0]
        );
        assert_eq!(RgbImage::from_tensor(&t).unwrap(), img);
        let sq = img.pad_to_square();
        assert_eq!((sq.width, sq.height), (2, 2));
        assert_eq!(&sq.pixels[0..3], &[0.0, 0.5, 1.0]);
        assert_eq!(&sq.pixels[3..6], &[1.0, 1.0, 1.0]);
        let s = RgbImage::hstack(&[&img, &img], 1);
        assert_eq!((s.width, s.height), (3, 2));
        let v = RgbImage::vstack(&[&img, &img], 2);
        assert_eq!((v.width, v.height), (1, 6));
        assert_eq!(img.resize(1, 2), img);
        let down = RgbImage {
            width: 2,
            height: 2,
            pixels: vec![0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5],
        }
        .downsample_box(2);
        assert_eq!(down.pixels, vec![0.5, 0.5, 0.5]);
        // A constant 40×20 image fits a 8×8 square as the constant padded with white.
        let f = RgbImage::filled(40, 20, [0.0; 3]).fit_square(8);
        assert_eq!((f.width, f.height), (8, 8));
        assert!(f.pixels[..3].iter().all(|&v| (v - 1.0).abs() < 1e-6)); // top padding
        assert!(f.pixels[(4 * 8 + 4) * 3..(4 * 8 + 4) * 3 + 3]
            .iter()
            .all(|&v| v.abs() < 1e-6));
        let up = img.upscale_nearest(2);
        assert_eq!((up.width, up.height), (2, 4));
        assert_eq!(&up.pixels[9..12], &[0.0, 0.5, 1.0]); // (y 1, x 1) ← (0, 0)
        let big = img.resize(4, 8);
        assert!(big.pixels.iter().all(|v| (0.0..=1.0).contains(v)));
    }

    #[test]
    fn heatmap_shapes() {
        let base = RgbImage::filled(8, 8, [0.5; 3]);
        let h = attention_heatmap(&base, &[0.0, 1.0, 0.0, 0.0], (2, 2), (0, 0)).unwrap();
        assert_eq!(h.pixels.len(), base.pixels.len());
        // Centre of the hottest cell (row 0, col 1): 0.6·white + 0.4·0.5.
        let p = &h.pixels[(2 * 8 + 6) * 3..(2 * 8 + 6) * 3 + 3];
        assert!(
            (p[0] - 0.8).abs() < 1e-6 && (p[2] - 0.8).abs() < 1e-6,
            "{p:?}"
        );
        assert!(attention_heatmap(&base, &[1.0; 3], (2, 2), (0, 0)).is_err());
        assert_eq!(heat_color(0.0), [0.0; 3]);
    }
}
