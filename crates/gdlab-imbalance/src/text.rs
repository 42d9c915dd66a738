//! Token streams from disk: a streaming whitespace tokenizer, a top-`N` vocabulary with an
//! UNK id, and sparse bigram counts — for the paper's cheapest faithful language experiment
//! (spec §5b option A: previous token one-hot → next token).
//!
//! The file is read twice through a fixed-size buffer (once to count tokens, once to count
//! bigrams), never loaded whole: memory is bounded by the distinct tokens of the file and
//! by the non-zero bigrams of the kept vocabulary (at most `V²`, the size of the model).
//!
//! Tokens are separated by ASCII whitespace (space, tab, newline, carriage return, vertical
//! tab, form feed); other Unicode spaces are part of tokens. Lines do not break the
//! stream: the last token of a line and the first of the next form a bigram.

use std::collections::HashMap;
use std::fs::File;
use std::hash::Hash;
use std::io::{BufRead, BufReader};
use std::path::Path;

use gdlab_core::{ConfigError, Seed};
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::error::{ImbalanceError, Result};

/// Largest vocabulary accepted (`V² + V` parameters: 10⁸ at the limit).
pub const MAX_VOCAB: usize = 10_000;

/// How tokens in a file are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenFormat {
    /// Non-negative integer token ids separated by whitespace (a pre-tokenized corpus).
    Ids,
    /// Raw UTF-8 text; every whitespace-separated word is a token.
    Text,
}

/// The kept vocabulary: the `N` most frequent tokens, then UNK when some were dropped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vocabulary {
    /// Token text of each id (`"<unk>"` for UNK), ids ordered by decreasing frequency.
    pub tokens: Vec<String>,
    /// The UNK id, when tokens were mapped to it.
    pub unk: Option<usize>,
    /// Occurrences of each id in the corpus.
    pub counts: Vec<u64>,
}

impl Vocabulary {
    /// Number of ids `V` (kept tokens, plus UNK if present).
    #[must_use]
    pub fn len(&self) -> usize {
        self.tokens.len()
    }
    /// True when empty (never for a corpus that was read).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }
}

/// Sparse bigram counts `C[a][y]` = occurrences of token `y` right after token `a`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BigramCounts {
    vocab_size: usize,
    /// Row `a`: `(y, C[a][y])` with `C > 0`, sorted by `y`.
    rows: Vec<Vec<(u32, u64)>>,
}

impl BigramCounts {
    /// Counts from an id sequence (ids `< vocab_size`).
    ///
    /// # Errors
    /// [`ImbalanceError::Label`] for an id `≥ vocab_size`;
    /// [`ConfigError::OutOfRangeInt`] for `vocab_size` outside `[1, MAX_VOCAB + 1]`.
    pub fn from_ids(ids: &[usize], vocab_size: usize) -> Result<Self> {
        let mut acc = BigramAccumulator::new(vocab_size)?;
        for (index, &id) in ids.iter().enumerate() {
            if id >= vocab_size {
                return Err(ImbalanceError::Label {
                    index,
                    label: id,
                    n_classes: vocab_size,
                });
            }
            acc.push(id as u32);
        }
        Ok(acc.finish())
    }

    /// Vocabulary size `V`.
    #[must_use]
    pub fn vocab_size(&self) -> usize {
        self.vocab_size
    }
    /// The non-zero counts after token `a`, `(next, count)` sorted by `next`.
    ///
    /// # Panics
    /// If `a ≥ V` (a programmer error).
    #[must_use]
    pub fn row(&self, a: usize) -> &[(u32, u64)] {
        &self.rows[a]
    }
    /// Number of bigrams `N` (= samples of the classification problem).
    #[must_use]
    pub fn n_bigrams(&self) -> u64 {
        self.rows.iter().flatten().map(|&(_, c)| c).sum()
    }
    /// `N_a`: bigrams starting with each token.
    #[must_use]
    pub fn row_totals(&self) -> Vec<u64> {
        self.rows
            .iter()
            .map(|r| r.iter().map(|&(_, c)| c).sum())
            .collect()
    }
    /// Class counts `n_y`: bigrams ending with each token (the labels' frequencies).
    #[must_use]
    pub fn next_counts(&self) -> Vec<u64> {
        let mut n = vec![0_u64; self.vocab_size];
        for &(y, c) in self.rows.iter().flatten() {
            n[y as usize] += c;
        }
        n
    }
    /// Number of non-zero entries.
    #[must_use]
    pub fn nnz(&self) -> usize {
        self.rows.iter().map(Vec::len).sum()
    }
}

struct BigramAccumulator {
    vocab_size: usize,
    map: HashMap<u64, u64>,
    prev: Option<u32>,
}

impl BigramAccumulator {
    fn new(vocab_size: usize) -> Result<Self> {
        check_vocab("vocab_size", vocab_size, MAX_VOCAB + 1)?;
        Ok(BigramAccumulator {
            vocab_size,
            map: HashMap::new(),
            prev: None,
        })
    }
    fn push(&mut self, id: u32) {
        if let Some(p) = self.prev {
            *self
                .map
                .entry(u64::from(p) * self.vocab_size as u64 + u64::from(id))
                .or_insert(0) += 1;
        }
        self.prev = Some(id);
    }
    fn finish(self) -> BigramCounts {
        let v = self.vocab_size as u64;
        let mut rows = vec![Vec::new(); self.vocab_size];
        for (key, c) in self.map {
            rows[(key / v) as usize].push(((key % v) as u32, c));
        }
        for r in &mut rows {
            r.sort_unstable();
        }
        BigramCounts {
            vocab_size: self.vocab_size,
            rows,
        }
    }
}

fn check_vocab(field: &'static str, v: usize, max: usize) -> Result<()> {
    if v == 0 || v > max {
        return Err(ConfigError::OutOfRangeInt {
            field,
            value: v as i128,
            allowed: "[1, 10000]",
        }
        .into());
    }
    Ok(())
}

/// A corpus read from disk: its vocabulary and bigram counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Corpus {
    /// The kept vocabulary (ids by decreasing frequency, UNK last).
    pub vocab: Vocabulary,
    /// Bigram counts over the ids.
    pub bigrams: BigramCounts,
    /// Tokens read.
    pub n_tokens: u64,
}

/// Calls `f(token_bytes, token_index, byte_offset)` for every whitespace-separated token of
/// `path`, reading through a fixed buffer. Returns the number of tokens.
fn for_each_token(path: &Path, mut f: impl FnMut(&[u8], u64, u64) -> Result<()>) -> Result<u64> {
    let io = |source| ImbalanceError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(io)?;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let mut token: Vec<u8> = Vec::new();
    let (mut offset, mut start, mut index) = (0_u64, 0_u64, 0_u64);
    loop {
        let buf = reader.fill_buf().map_err(io)?;
        if buf.is_empty() {
            break;
        }
        let len = buf.len();
        for &byte in buf {
            if byte.is_ascii_whitespace() {
                if !token.is_empty() {
                    f(&token, index, start)?;
                    index += 1;
                    token.clear();
                }
            } else {
                if token.is_empty() {
                    start = offset;
                }
                token.push(byte);
            }
            offset += 1;
        }
        reader.consume(len);
    }
    if !token.is_empty() {
        f(&token, index, start)?;
        index += 1;
    }
    Ok(index)
}

fn parse_id(path: &Path, bytes: &[u8], token_index: u64, byte_offset: u64) -> Result<u64> {
    std::str::from_utf8(bytes)
        .ok()
        .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|s| s.parse::<u64>().ok())
        .ok_or_else(|| ImbalanceError::NotAnInteger {
            path: path.to_path_buf(),
            token_index,
            byte_offset,
            token: String::from_utf8_lossy(bytes).chars().take(40).collect(),
        })
}

fn parse_word(path: &Path, bytes: &[u8], token_index: u64, byte_offset: u64) -> Result<String> {
    std::str::from_utf8(bytes)
        .map(str::to_owned)
        .map_err(|_| ImbalanceError::NotUtf8 {
            path: path.to_path_buf(),
            token_index,
            byte_offset,
        })
}

fn read_with<K: Hash + Eq + Ord + Clone + ToString>(
    path: &Path,
    max_vocab: usize,
    parse: impl Fn(&Path, &[u8], u64, u64) -> Result<K>,
) -> Result<Corpus> {
    check_vocab("vocab", max_vocab, MAX_VOCAB)?;
    // Pass 1: token frequencies.
    let mut freq: HashMap<K, u64> = HashMap::new();
    let n_tokens = for_each_token(path, |b, i, o| {
        *freq.entry(parse(path, b, i, o)?).or_insert(0) += 1;
        Ok(())
    })?;
    if n_tokens < 2 {
        return Err(ImbalanceError::EmptyCorpus {
            path: path.to_path_buf(),
            n_tokens,
        });
    }
    // Most frequent first; ties by the token's natural order (deterministic).
    let mut ranked: Vec<(K, u64)> = freq.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let dropped: u64 = ranked.iter().skip(max_vocab).map(|(_, c)| c).sum();
    ranked.truncate(max_vocab);
    let mut tokens: Vec<String> = ranked.iter().map(|(k, _)| k.to_string()).collect();
    let mut counts: Vec<u64> = ranked.iter().map(|&(_, c)| c).collect();
    let ids: HashMap<K, u32> = ranked
        .into_iter()
        .enumerate()
        .map(|(i, (k, _))| (k, i as u32))
        .collect();
    let unk = (dropped > 0).then(|| {
        tokens.push("<unk>".to_string());
        counts.push(dropped);
        tokens.len() - 1
    });
    // Pass 2: bigram counts over ids.
    let mut acc = BigramAccumulator::new(tokens.len())?;
    for_each_token(path, |b, i, o| {
        let k = parse(path, b, i, o)?;
        let id = match ids.get(&k) {
            Some(&id) => id,
            // Present only when something was dropped.
            None => unk.unwrap_or(0) as u32,
        };
        acc.push(id);
        Ok(())
    })?;
    Ok(Corpus {
        vocab: Vocabulary {
            tokens,
            unk,
            counts,
        },
        bigrams: acc.finish(),
        n_tokens,
    })
}

/// Reads a corpus from `path`, keeping the `max_vocab` most frequent tokens (ties broken by
/// the smaller id / the lexicographically smaller word) and mapping the rest to one UNK id.
///
/// # Errors
/// [`ConfigError::OutOfRangeInt`] if `max_vocab ∉ [1, MAX_VOCAB]`;
/// [`ImbalanceError::Io`] if the file cannot be opened or read;
/// [`ImbalanceError::NotAnInteger`] for a non-integer token in [`TokenFormat::Ids`];
/// [`ImbalanceError::NotUtf8`] for invalid UTF-8 in [`TokenFormat::Text`];
/// [`ImbalanceError::EmptyCorpus`] for fewer than two tokens.
///
/// # Examples
/// ```
/// use gdlab_imbalance::text::{read_corpus, TokenFormat};
/// let p = std::env::temp_dir().join(format!("gdlab-doc-corpus-{}.txt", std::process::id()));
/// std::fs::write(&p, "the cat the dog the cat\n").unwrap();
/// let c = read_corpus(&p, TokenFormat::Text, 2).unwrap();
/// assert_eq!(c.vocab.tokens, vec!["the", "cat", "<unk>"]);
/// assert_eq!(c.bigrams.n_bigrams(), 5);
/// assert_eq!(c.bigrams.row(0), &[(1, 2), (2, 1)]); // the→cat twice, the→dog(UNK) once
/// std::fs::remove_file(&p).unwrap();
/// ```
pub fn read_corpus(path: &Path, format: TokenFormat, max_vocab: usize) -> Result<Corpus> {
    match format {
        TokenFormat::Ids => read_with(path, max_vocab, parse_id),
        TokenFormat::Text => read_with(path, max_vocab, parse_word),
    }
}

/// A corpus of `n_words` words `w1, w2, …, w{vocab}` drawn i.i.d. with Zipf probabilities
/// `P(w_k) ∝ 1/k^exponent`, separated by spaces with a newline every 20 words (for tests
/// and examples).
///
/// # Errors
/// [`ConfigError`] if `vocab == 0` or `exponent` is negative or not finite.
pub fn zipf_corpus(n_words: usize, vocab: usize, exponent: f64, seed: Seed) -> Result<String> {
    if vocab == 0 {
        return Err(ConfigError::OutOfRangeInt {
            field: "vocab",
            value: 0,
            allowed: "[1, ∞)",
        }
        .into());
    }
    if !(exponent >= 0.0 && exponent.is_finite()) {
        return Err(ConfigError::OutOfRange {
            field: "exponent",
            value: exponent,
            allowed: "[0, ∞)",
        }
        .into());
    }
    let mut cdf: Vec<f64> = Vec::with_capacity(vocab);
    let mut acc = 0.0;
    for k in 1..=vocab {
        acc += (k as f64).powf(-exponent);
        cdf.push(acc);
    }
    let mut rng = seed.rng();
    let mut out = String::with_capacity(n_words * 6);
    for i in 0..n_words {
        let u = rng.random::<f64>() * acc;
        let k = cdf.partition_point(|&c| c <= u).min(vocab - 1) + 1;
        out.push('w');
        out.push_str(&k.to_string());
        out.push(if i % 20 == 19 { '\n' } else { ' ' });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn tmp(name: &str, content: &[u8]) -> PathBuf {
        let p = std::env::temp_dir().join(format!("gdlab-text-{}-{name}", std::process::id()));
        std::fs::write(&p, content).unwrap();
        p
    }

    #[test]
    fn ids_and_unk() {
        let p = tmp("ids", b"5 3 5\n\n  7 5 3\t9");
        // freq: 5→3, 3→2, 7→1, 9→1. vocab 2 keeps 5, 3; 7 and 9 → UNK (id 2).
        let c = read_corpus(&p, TokenFormat::Ids, 2).unwrap();
        assert_eq!(c.n_tokens, 7);
        assert_eq!(c.vocab.tokens, vec!["5", "3", "<unk>"]);
        assert_eq!(c.vocab.counts, vec![3, 2, 2]);
        assert_eq!(c.vocab.unk, Some(2));
        // ids: 0 1 0 2 0 1 2 → bigrams 0→1, 1→0, 0→2, 2→0, 0→1, 1→2.
        assert_eq!(c.bigrams.row(0), &[(1, 2), (2, 1)]);
        assert_eq!(c.bigrams.row(1), &[(0, 1), (2, 1)]);
        assert_eq!(c.bigrams.row(2), &[(0, 1)]);
        assert_eq!(c.bigrams.n_bigrams(), 6);
        assert_eq!(c.bigrams.next_counts(), vec![2, 2, 2]);
        // Big vocabulary: no UNK.
        let c = read_corpus(&p, TokenFormat::Ids, 100).unwrap();
        assert_eq!(c.vocab.unk, None);
        assert_eq!(c.vocab.len(), 4);
        std::fs::remove_file(&p).unwrap();
    }

    #[test]
    fn edge_cases_are_named_errors() {
        let empty = tmp("empty", b"  \n\t ");
        assert!(matches!(
            read_corpus(&empty, TokenFormat::Text, 10),
            Err(ImbalanceError::EmptyCorpus { n_tokens: 0, .. })
        ));
        let one = tmp("one", b"hello");
        assert!(matches!(
            read_corpus(&one, TokenFormat::Text, 10),
            Err(ImbalanceError::EmptyCorpus { n_tokens: 1, .. })
        ));
        let words = tmp("words", b"1 2 x3 4");
        match read_corpus(&words, TokenFormat::Ids, 10) {
            Err(ImbalanceError::NotAnInteger {
                token_index,
                byte_offset,
                token,
                ..
            }) => assert_eq!((token_index, byte_offset, token.as_str()), (2, 4, "x3")),
            other => panic!("{other:?}"),
        }
        let neg = tmp("neg", b"1 -2");
        assert!(read_corpus(&neg, TokenFormat::Ids, 10).is_err());
        let bad_utf8 = tmp("utf8", b"ok \xff\xfe ok");
        assert!(matches!(
            read_corpus(&bad_utf8, TokenFormat::Text, 10),
            Err(ImbalanceError::NotUtf8 { token_index: 1, .. })
        ));
        assert!(matches!(
            read_corpus(&words, TokenFormat::Text, 0),
            Err(ImbalanceError::Config(_))
        ));
        assert!(read_corpus(&words, TokenFormat::Text, MAX_VOCAB + 1).is_err());
        let missing = std::env::temp_dir().join("gdlab-no-such-file-xyz");
        assert!(matches!(
            read_corpus(&missing, TokenFormat::Text, 10),
            Err(ImbalanceError::Io { .. })
        ));
        for p in [empty, one, words, neg, bad_utf8] {
            std::fs::remove_file(&p).unwrap();
        }
    }

    #[test]
    fn unicode_words_and_long_files_stream() {
        // Tokens longer than nothing in particular, across the 64 KiB buffer boundary.
        let text = zipf_corpus(50_000, 300, 1.0, Seed(1)).unwrap() + " naïve café";
        assert!(text.len() > 1 << 16);
        let p = tmp("zipf", text.as_bytes());
        let c = read_corpus(&p, TokenFormat::Text, 50).unwrap();
        assert_eq!(c.n_tokens, 50_002);
        assert_eq!(c.bigrams.n_bigrams(), 50_001);
        assert_eq!(c.vocab.tokens[0], "w1"); // rank 1 is the most frequent
        assert_eq!(c.vocab.len(), 51);
        let total: u64 = c.vocab.counts.iter().sum();
        assert_eq!(total, 50_002);
        // The same counts from the in-memory id sequence.
        let ids: Vec<usize> = text
            .split_ascii_whitespace()
            .map(|w| c.vocab.tokens.iter().position(|t| t == w).unwrap_or(50))
            .collect();
        assert_eq!(BigramCounts::from_ids(&ids, 51).unwrap(), c.bigrams);
        std::fs::remove_file(&p).unwrap();
    }

    #[test]
    fn zipf_frequencies_follow_one_over_k() {
        let text = zipf_corpus(200_000, 100, 1.0, Seed(2)).unwrap();
        let n1 = text.split_ascii_whitespace().filter(|w| *w == "w1").count() as f64;
        let n2 = text.split_ascii_whitespace().filter(|w| *w == "w2").count() as f64;
        // Expected ratio 2; with ≈ 38 000 and 19 000 draws the ratio's sd is ≈ 0.018.
        assert!((n1 / n2 - 2.0).abs() < 5.0 * 0.018);
        assert!(zipf_corpus(10, 0, 1.0, Seed(0)).is_err());
    }
}
