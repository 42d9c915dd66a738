//! The PNG image grid of the report (source, true target, B25, B66, Z2H, oracle).

use gdlab_diffusion::zero123::image::RgbImage;

use crate::study::StudyError;

/// Integer upscaling of each 24×24 tile.
const SCALE: usize = 4;
/// Gap between tiles (pixels), mid grey.
const GAP: usize = 4;
const GAP_GREY: u8 = 128;

/// Encodes a grid of RGB tiles (`rows × cols`, each `size²` RGB in [−1, 1]) as a PNG.
pub(super) fn grid_png(tiles: &[Vec<&[f32]>], size: usize) -> Result<Vec<u8>, StudyError> {
    let rows = tiles.len();
    let cols = tiles.first().map_or(0, Vec::len);
    let tile = size * SCALE;
    let w = cols * tile + (cols + 1) * GAP;
    let h = rows * tile + (rows + 1) * GAP;
    let mut px = vec![GAP_GREY; w * h * 3];
    for (r, row) in tiles.iter().enumerate() {
        for (c, img) in row.iter().enumerate() {
            let (x0, y0) = (GAP + c * (tile + GAP), GAP + r * (tile + GAP));
            for y in 0..tile {
                for x in 0..tile {
                    let src = ((y / SCALE) * size + x / SCALE) * 3;
                    let dst = ((y0 + y) * w + x0 + x) * 3;
                    for ch in 0..3 {
                        let v = (f64::from(img[src + ch]).clamp(-1.0, 1.0) + 1.0) * 127.5;
                        px[dst + ch] = v.round() as u8;
                    }
                }
            }
        }
    }
    // Bytes in, bytes out: b/255 re-encodes to b exactly.
    let img = RgbImage {
        width: w,
        height: h,
        pixels: px.iter().map(|&b| f32::from(b) / 255.0).collect(),
    };
    Ok(img.encode_png()?)
}
