//! # gdlab-imbalance
//!
//! Components for F. Kunstner, R. Yadav, A. Milligan, M. Schmidt & A. Bietti,
//! "Heavy-Tailed Class Imbalance and Why Adam Outperforms Gradient Descent on Language
//! Models", NeurIPS 2024 (spec `papers/heavy-tailed-class-imbalance.md`).
//!
//! | module | what it holds |
//! |---|---|
//! | [`softmax`] | [`SoftmaxLinear`](softmax::SoftmaxLinear): `W x + b` with exact full-batch and minibatch cross-entropy gradients on `f32`/`f64` (faer products) |
//! | [`synthetic`] | the paper's generator (`2^i` classes with `2^{m−i}` samples) and its variants |
//! | [`groups`] | [`FrequencyGroups`](groups::FrequencyGroups), [`per_group_loss`](groups::per_group_loss): the per-frequency-group loss of spec §1 |
//! | [`text`] | streaming tokenizer, top-`N` vocabulary with UNK, sparse bigram counts, a Zipf corpus generator |
//! | [`bigram`] | [`BigramModel`](bigram::BigramModel): previous-token one-hot → next token, gradient from the counts |
//!
//! ## Notation
//!
//! | symbol | API name |
//! |---|---|
//! | `n`, `d`, `c` | `n_samples`, `n_features`, `n_classes` |
//! | `W`, `b` (`w_k` = row `k`) | the flat `params`: `W` row-major, then `b` |
//! | `n_k`, `π_k = n_k/n` | `class_counts` |
//! | `m` (generator size) | `SyntheticConfig::size` |
//! | `G` | `n_groups` |
//! | `V`, `C[a][y]` | `vocab_size`, `BigramCounts` |
//!
//! ## Example
//!
//! ```
//! use gdlab_core::Seed;
//! use gdlab_imbalance::{groups::FrequencyGroups, softmax::{SoftmaxLinear, Workspace},
//!     synthetic::SyntheticConfig};
//! let data = SyntheticConfig::paper(4).generate::<f32>(Seed(0)).unwrap();
//! let model = SoftmaxLinear::new(data.n_features(), data.n_classes(), true).unwrap();
//! let mut params = model.init::<f32>(Seed(1));
//! let mut grad = vec![0.0; model.n_params()];
//! let mut ws = Workspace::default();
//! let first = model.loss_grad(&data, &params, &mut grad, &mut ws).unwrap();
//! for _ in 0..20 {
//!     model.loss_grad(&data, &params, &mut grad, &mut ws).unwrap();
//!     params.iter_mut().zip(&grad).for_each(|(p, g)| *p -= 0.5 * g); // plain GD
//! }
//! let last = model.loss(&data, &params, &mut ws).unwrap();
//! assert!(last < first);
//! let groups = FrequencyGroups::from_counts(&data.class_counts(), 2).unwrap();
//! let per_group = groups.group_losses(data.labels(), ws.per_sample_losses()).unwrap();
//! assert_eq!(per_group.len(), 2);
//! ```

pub mod bigram;
pub mod error;
pub mod groups;
pub mod softmax;
pub mod synthetic;
pub mod text;

pub use error::{ImbalanceError, Result};

#[cfg(test)]
mod send_sync {
    fn check<T: Send + Sync + std::fmt::Debug>() {}

    #[test]
    fn public_types_are_send_sync_debug() {
        check::<crate::ImbalanceError>();
        check::<crate::softmax::SoftmaxLinear>();
        check::<crate::softmax::Dataset<f32>>();
        check::<crate::softmax::Workspace<f64>>();
        check::<crate::groups::FrequencyGroups>();
        check::<crate::synthetic::SyntheticConfig>();
        check::<crate::text::Corpus>();
        check::<crate::bigram::BigramModel>();
    }
}
