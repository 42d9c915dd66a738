//! Readers for user-supplied image datasets: CIFAR-10 (binary version) and MNIST (IDX).
//! Every file is validated (sizes, magic numbers, label ranges) and a malformed one is a
//! clear [`NnError::Format`] naming the file, never a panic.

use std::path::{Path, PathBuf};

use crate::data::Dataset;
use crate::error::{NnError, Result};

/// Bytes of one CIFAR-10 record: 1 label byte + 3 × 32 × 32 pixel bytes (R, G, B planes,
/// each row-major).
pub const CIFAR10_RECORD: usize = 1 + 3072;

/// Per-channel mean used to normalise CIFAR-10 (the paper's code; spec §2.3).
pub const CIFAR10_MEAN: [f32; 3] = [0.4914, 0.4822, 0.4465];
/// Per-channel standard deviation used to normalise CIFAR-10 (the paper's code).
pub const CIFAR10_STD: [f32; 3] = [0.2023, 0.1994, 0.2010];

/// A train/test split.
#[derive(Clone, Debug, PartialEq)]
pub struct Split {
    /// Training examples.
    pub train: Dataset<f32>,
    /// Test examples.
    pub test: Dataset<f32>,
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| NnError::io("reading", path, e))
}

/// Parses one CIFAR-10 binary batch: `(labels, pixels)` with pixels `n × 3072` bytes.
///
/// # Errors
/// [`NnError::Format`] if the size is not a positive multiple of 3073 bytes or a label
/// is ≥ 10.
///
/// # Examples
/// ```
/// let mut rec = vec![3u8];
/// rec.extend(std::iter::repeat(7u8).take(3072));
/// let (labels, pixels) = gdlab_nn::datasets::parse_cifar10_batch("mem", &rec).unwrap();
/// assert_eq!((labels, pixels.len()), (vec![3], 3072));
/// assert!(gdlab_nn::datasets::parse_cifar10_batch("mem", &rec[..3000]).is_err());
/// ```
pub fn parse_cifar10_batch(name: impl Into<PathBuf>, bytes: &[u8]) -> Result<(Vec<u8>, Vec<u8>)> {
    let name = name.into();
    if bytes.is_empty() || bytes.len() % CIFAR10_RECORD != 0 {
        return Err(NnError::format(
            name,
            format!(
                "CIFAR-10 binary batch must be a positive multiple of {CIFAR10_RECORD} bytes \
                 (1 label + 3072 pixels per image; 30 730 000 for a full batch), got {} bytes",
                bytes.len()
            ),
        ));
    }
    let n = bytes.len() / CIFAR10_RECORD;
    let mut labels = Vec::with_capacity(n);
    let mut pixels = Vec::with_capacity(n * 3072);
    for (i, rec) in bytes.chunks_exact(CIFAR10_RECORD).enumerate() {
        if rec[0] >= 10 {
            return Err(NnError::format(
                name,
                format!("record {i}: label {} is not in 0..10", rec[0]),
            ));
        }
        labels.push(rec[0]);
        pixels.extend_from_slice(&rec[1..]);
    }
    Ok((labels, pixels))
}

fn cifar_dataset(labels: Vec<u8>, pixels: &[u8]) -> Result<Dataset<f32>> {
    let features = pixels
        .chunks_exact(1024)
        .enumerate()
        .flat_map(|(plane, chunk)| {
            let c = plane % 3;
            chunk
                .iter()
                .map(move |&p| (f32::from(p) / 255.0 - CIFAR10_MEAN[c]) / CIFAR10_STD[c])
        })
        .collect();
    Dataset::new(
        features,
        vec![3, 32, 32],
        labels.into_iter().map(u32::from).collect(),
        10,
    )
}

/// The six files of the CIFAR-10 binary version, in reading order.
pub const CIFAR10_FILES: [&str; 6] = [
    "data_batch_1.bin",
    "data_batch_2.bin",
    "data_batch_3.bin",
    "data_batch_4.bin",
    "data_batch_5.bin",
    "test_batch.bin",
];

/// Checks a CIFAR-10 directory without reading the images: `dir` is a directory and each
/// of [`CIFAR10_FILES`] exists with a size that is a positive multiple of
/// [`CIFAR10_RECORD`] bytes. Returns `(training images, test images)`. Labels are checked
/// when the files are read ([`load_cifar10`]).
///
/// # Errors
/// [`NnError::Io`] naming `dir` or the missing file; [`NnError::Format`] naming the file
/// of the wrong size.
///
/// # Examples
/// ```
/// let dir = std::env::temp_dir().join("gdlab-nn-doc-cifar-missing");
/// let e = gdlab_nn::datasets::check_cifar10_dir(&dir).unwrap_err().to_string();
/// assert!(e.contains("gdlab-nn-doc-cifar-missing"), "{e}");
/// ```
pub fn check_cifar10_dir(dir: &Path) -> Result<(usize, usize)> {
    let meta = std::fs::metadata(dir).map_err(|e| NnError::io("opening", dir, e))?;
    if !meta.is_dir() {
        return Err(NnError::format(
            dir,
            "is not a directory (give the folder holding data_batch_1.bin … test_batch.bin)",
        ));
    }
    let mut counts = [0usize; 6];
    for (c, f) in counts.iter_mut().zip(CIFAR10_FILES) {
        let p = dir.join(f);
        let len = std::fs::metadata(&p)
            .map_err(|e| NnError::io("opening", &p, e))?
            .len();
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        if len == 0 || len % CIFAR10_RECORD != 0 {
            return Err(NnError::format(
                p,
                format!(
                    "CIFAR-10 binary batch must be a positive multiple of {CIFAR10_RECORD} \
                     bytes (1 label + 3072 pixels per image; 30 730 000 for a full batch), \
                     got {len} bytes"
                ),
            ));
        }
        *c = len / CIFAR10_RECORD;
    }
    Ok((counts[..5].iter().sum(), counts[5]))
}

/// Loads CIFAR-10 from `dir` (`data_batch_1.bin` … `data_batch_5.bin`, `test_batch.bin`),
/// normalised per channel with [`CIFAR10_MEAN`] / [`CIFAR10_STD`], shape `[3, 32, 32]`.
///
/// # Errors
/// [`NnError::Io`] for a missing file; [`NnError::Format`] for a malformed one.
pub fn load_cifar10(dir: &Path) -> Result<Split> {
    let mut labels = Vec::new();
    let mut pixels = Vec::new();
    for f in &CIFAR10_FILES[..5] {
        let p = dir.join(f);
        let (l, x) = parse_cifar10_batch(&p, &read(&p)?)?;
        labels.extend(l);
        pixels.extend(x);
    }
    let p = dir.join(CIFAR10_FILES[5]);
    let (tl, tx) = parse_cifar10_batch(&p, &read(&p)?)?;
    Ok(Split {
        train: cifar_dataset(labels, &pixels)?,
        test: cifar_dataset(tl, &tx)?,
    })
}

/// IDX magic of an unsigned-byte 3-D array (images).
pub const IDX_IMAGES_MAGIC: u32 = 0x0000_0803;
/// IDX magic of an unsigned-byte 1-D array (labels).
pub const IDX_LABELS_MAGIC: u32 = 0x0000_0801;

fn be_u32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Parses an IDX image file: `(n, rows, cols, pixels)`.
///
/// # Errors
/// [`NnError::Format`] for a short header, a magic other than `0x00000803`, or a size
/// that disagrees with the header's dimensions.
///
/// # Examples
/// ```
/// let mut f = vec![0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2];
/// f.extend([1, 2, 3, 4]);
/// let (n, r, c, px) = gdlab_nn::datasets::parse_idx_images("mem", &f).unwrap();
/// assert_eq!((n, r, c, px), (1, 2, 2, vec![1, 2, 3, 4]));
/// f[3] = 1; // the labels magic
/// assert!(gdlab_nn::datasets::parse_idx_images("mem", &f).is_err());
/// ```
pub fn parse_idx_images(
    name: impl Into<PathBuf>,
    bytes: &[u8],
) -> Result<(usize, usize, usize, Vec<u8>)> {
    let name = name.into();
    if bytes.len() < 16 {
        return Err(NnError::format(
            name,
            format!(
                "IDX image file needs a 16-byte header, got {} bytes",
                bytes.len()
            ),
        ));
    }
    let magic = be_u32(bytes, 0);
    if magic != IDX_IMAGES_MAGIC {
        return Err(NnError::format(
            name,
            format!("IDX image magic must be 0x{IDX_IMAGES_MAGIC:08x}, got 0x{magic:08x}"),
        ));
    }
    let (n, r, c) = (
        be_u32(bytes, 4) as usize,
        be_u32(bytes, 8) as usize,
        be_u32(bytes, 12) as usize,
    );
    let want = n.checked_mul(r).and_then(|x| x.checked_mul(c));
    if want != Some(bytes.len() - 16) || n == 0 || r == 0 || c == 0 {
        return Err(NnError::format(
            name,
            format!(
                "IDX header says {n} images of {r}×{c} ({} pixel bytes), the file has {}",
                want.map_or_else(|| "overflowing".to_string(), |w| w.to_string()),
                bytes.len() - 16
            ),
        ));
    }
    Ok((n, r, c, bytes[16..].to_vec()))
}

/// Parses an IDX label file.
///
/// # Errors
/// [`NnError::Format`] for a short header, a magic other than `0x00000801`, or a size
/// that disagrees with the header.
pub fn parse_idx_labels(name: impl Into<PathBuf>, bytes: &[u8]) -> Result<Vec<u8>> {
    let name = name.into();
    if bytes.len() < 8 {
        return Err(NnError::format(
            name,
            format!(
                "IDX label file needs an 8-byte header, got {} bytes",
                bytes.len()
            ),
        ));
    }
    let magic = be_u32(bytes, 0);
    if magic != IDX_LABELS_MAGIC {
        return Err(NnError::format(
            name,
            format!("IDX label magic must be 0x{IDX_LABELS_MAGIC:08x}, got 0x{magic:08x}"),
        ));
    }
    let n = be_u32(bytes, 4) as usize;
    if bytes.len() - 8 != n || n == 0 {
        return Err(NnError::format(
            name,
            format!(
                "IDX header says {n} labels, the file has {}",
                bytes.len() - 8
            ),
        ));
    }
    Ok(bytes[8..].to_vec())
}

fn mnist_pair(dir: &Path, images: &str, labels: &str) -> Result<Dataset<f32>> {
    let (pi, pl) = (dir.join(images), dir.join(labels));
    let (n, r, c, px) = parse_idx_images(&pi, &read(&pi)?)?;
    let l = parse_idx_labels(&pl, &read(&pl)?)?;
    if l.len() != n {
        return Err(NnError::format(
            &pl,
            format!("{} labels for {n} images in {}", l.len(), pi.display()),
        ));
    }
    if let Some(bad) = l.iter().find(|&&y| y >= 10) {
        return Err(NnError::format(&pl, format!("label {bad} is not in 0..10")));
    }
    // The usual MNIST normalisation: mean 0.1307, std 0.3081 of pixel/255.
    let features = px
        .iter()
        .map(|&p| (f32::from(p) / 255.0 - 0.1307) / 0.3081)
        .collect();
    Dataset::new(
        features,
        vec![1, r, c],
        l.into_iter().map(u32::from).collect(),
        10,
    )
}

/// Loads MNIST from `dir` (`train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
/// `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`), shape `[1, 28, 28]`, normalised
/// with mean 0.1307 and std 0.3081.
///
/// # Errors
/// [`NnError::Io`] for a missing file; [`NnError::Format`] for a malformed one.
pub fn load_mnist(dir: &Path) -> Result<Split> {
    Ok(Split {
        train: mnist_pair(dir, "train-images-idx3-ubyte", "train-labels-idx1-ubyte")?,
        test: mnist_pair(dir, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cifar_files_round_trip_and_bad_sizes_fail() {
        let dir = std::env::temp_dir().join(format!("gdlab-nn-cifar-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut rec = Vec::new();
        for i in 0..2u8 {
            rec.push(i);
            rec.extend((0..3072).map(|j| (j % 256) as u8));
        }
        for i in 1..=5 {
            std::fs::write(dir.join(format!("data_batch_{i}.bin")), &rec).unwrap();
        }
        std::fs::write(dir.join("test_batch.bin"), &rec).unwrap();
        let s = load_cifar10(&dir).unwrap();
        assert_eq!((s.train.len(), s.test.len()), (10, 2));
        assert_eq!(check_cifar10_dir(&dir).unwrap(), (10, 2));
        assert_eq!(s.train.labels()[..2], [0, 1]);
        // Pixel (plane 1 = green, index 1024 + 5) of example 0: byte (1024 + 5) % 256 = 5.
        let x = s.train.features()[1024 + 5];
        gdlab_core::assert_close!(
            x,
            (5.0 / 255.0 - CIFAR10_MEAN[1]) / CIFAR10_STD[1],
            rel = 1e-6
        );
        std::fs::write(dir.join("test_batch.bin"), &rec[..5000]).unwrap();
        let e = load_cifar10(&dir).unwrap_err().to_string();
        assert!(
            e.contains("test_batch.bin") && e.contains("multiple of 3073"),
            "{e}"
        );
        let e = check_cifar10_dir(&dir).unwrap_err().to_string();
        assert!(
            e.contains("test_batch.bin") && e.contains("got 5000 bytes"),
            "{e}"
        );
        let e = check_cifar10_dir(&dir.join("data_batch_1.bin"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("is not a directory"), "{e}");
        std::fs::remove_file(dir.join("data_batch_3.bin")).unwrap();
        assert!(matches!(load_cifar10(&dir), Err(NnError::Io { .. })));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn idx_headers_are_validated() {
        let mut lab = vec![0, 0, 8, 1, 0, 0, 0, 2, 3, 4];
        assert_eq!(parse_idx_labels("l", &lab).unwrap(), vec![3, 4]);
        lab[7] = 3;
        assert!(parse_idx_labels("l", &lab).is_err());
        lab[3] = 3;
        let e = parse_idx_labels("l", &lab).unwrap_err().to_string();
        assert!(e.contains("0x00000801") && e.contains("0x00000803"), "{e}");
        let img = [0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3];
        assert!(parse_idx_images("i", &img).is_err()); // 3 bytes for 8 pixels
        assert!(parse_idx_images("i", &img[..10]).is_err());
    }
}
