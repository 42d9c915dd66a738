//! The registry of studies: every study the `gdlab` binary can run.

use crate::study::Study;

/// Every registered study, in the order `gdlab study list` shows them.
#[must_use]
pub fn all() -> Vec<Box<dyn Study>> {
    vec![
        Box::new(crate::random_reshuffling::RandomReshuffling),
        Box::new(crate::ssvr::Ssvr),
        Box::new(crate::heavy_tailed::HeavyTailed),
        Box::new(crate::bsr::Bsr),
        Box::new(crate::decentralized_sparse::DecentralizedSparse),
        Box::new(crate::bias_in_motion::BiasInMotion),
        Box::new(crate::tail_index::TailIndex),
        Box::new(crate::wasserstein_mirror::WassersteinMirror),
        Box::new(crate::quantum_comm::QuantumComm),
        Box::new(crate::zero_to_hero::ZeroToHero),
    ]
}

/// The ids of all registered studies.
#[must_use]
pub fn ids() -> Vec<&'static str> {
    all().iter().map(|s| s.id()).collect()
}

/// The study with id `id`, if registered.
#[must_use]
pub fn find(id: &str) -> Option<Box<dyn Study>> {
    all().into_iter().find(|s| s.id() == id)
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_unique_kebab_case() {
        let ids = super::ids();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), ids.len());
        for id in ids {
            assert!(id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'));
            assert!(super::find(id).is_some());
        }
        assert!(super::find("no-such-study").is_none());
    }
}
