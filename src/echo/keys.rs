//! Lookup keys: records that might make the same claim share at least one.
//!
//! A record's keys are the pairs of its [`PICKED`] picked content words
//! (every pair of them: 10 keys for five words). The words are picked by a
//! fixed hash order, the same for every record, so two records that share
//! most of their words mostly pick some of the same ones, and share a key
//! as soon as they pick two words in common. Words too common in the field
//! to tell claims apart ([`GENERIC`]) are picked only when a record has too
//! few others. A key is a pure function of the record's text: it needs
//! nothing else from the corpus, so any order of files, and any sequence
//! of `reindex` runs, gives every record the same keys.
//!
//! [`minhash_bands`] is the scheme used before (MinHash bands of the content
//! words), kept for the comparison in EVALUATION.md.

use super::features::{concept_of, Claim};

/// Content words picked per record; its keys are their pairs.
pub const PICKED: usize = 5;
/// Records with fewer content words get no keys: too little to be a claim.
pub const MIN_WORDS: usize = 3;
/// Words of the field so common that a pair of them finds too many records:
/// picked last.
pub const GENERIC: &[&str] = &["network", "train", "learn", "data", "deep", "neural"];
/// Words common in the field, counting less in the decision's overlap
/// ([`super::decide::Params::generic_weight`]): [`GENERIC`] and more.
pub const COMMON: &[&str] = &[
    "network",
    "train",
    "learn",
    "data",
    "deep",
    "neural",
    "error",
    "accuracy",
    "test",
    "generalization",
    "bound",
    "size",
];

/// The lookup keys of a claim (none when it has fewer than [`MIN_WORDS`] words).
pub fn keys(claim: &Claim) -> Vec<u64> {
    keys_of_words(&claim.words)
}

/// The lookup keys of a claim whose content words ([`Claim::words`]:
/// sorted and unique) are `words`: what the index stores of a claim's
/// words gives its keys back without reading the claim.
pub fn keys_of_words(words: &[u32]) -> Vec<u64> {
    pair_keys_of_words(words, PICKED)
}

/// [`keys`] with another number of picked words, for measuring.
pub fn pair_keys(claim: &Claim, picked: usize) -> Vec<u64> {
    pair_keys_of_words(&claim.words, picked)
}

fn pair_keys_of_words(words: &[u32], picked: usize) -> Vec<u64> {
    if words.len() < MIN_WORDS {
        return Vec::new();
    }
    let generic = generic();
    // The order of picking, computed once per word (`mix` is a bijection,
    // so no two words tie).
    let mut order: Vec<(bool, u64, u32)> = (words.iter())
        .map(|&w| (generic.contains(&w), mix(u64::from(w) ^ 0x7069_636b), w))
        .collect();
    order.sort_unstable();
    let mut words: Vec<u32> = order.iter().take(picked).map(|&(_, _, w)| w).collect();
    words.sort_unstable();
    let mut keys = Vec::with_capacity(words.len() * words.len().saturating_sub(1) / 2);
    for (i, a) in words.iter().enumerate() {
        for b in &words[i + 1..] {
            // Never 0, so that 0 can mean "no key".
            keys.push(mix(u64::from(*a) << 32 | u64::from(*b)).max(1));
        }
    }
    keys
}

/// The concepts of [`GENERIC`].
pub(crate) fn generic() -> &'static [u32] {
    static GENERIC_CONCEPTS: std::sync::OnceLock<Vec<u32>> = std::sync::OnceLock::new();
    GENERIC_CONCEPTS.get_or_init(|| GENERIC.iter().map(|w| concept_of(w)).collect())
}

/// The concepts of [`COMMON`], and a 64-bit mask with the bit `concept %
/// 64` of each set: most words are told apart from them by one bit test.
fn common_concepts() -> &'static (Vec<u32>, u64) {
    static COMMON_CONCEPTS: std::sync::OnceLock<(Vec<u32>, u64)> = std::sync::OnceLock::new();
    COMMON_CONCEPTS.get_or_init(|| {
        let concepts: Vec<u32> = COMMON.iter().map(|w| concept_of(w)).collect();
        let mask = concepts.iter().fold(0, |mask, c| mask | 1 << (c % 64));
        (concepts, mask)
    })
}

/// The concepts of [`COMMON`].
#[cfg(test)]
pub(crate) fn common() -> &'static [u32] {
    &common_concepts().0
}

/// The concepts of [`COMMON`], as a test of one concept.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Common(&'static (Vec<u32>, u64));

impl Common {
    pub(crate) fn get() -> Common {
        Common(common_concepts())
    }

    /// Whether `concept` is one of [`COMMON`].
    #[inline]
    pub(crate) fn contains(self, concept: u32) -> bool {
        let (concepts, mask) = self.0;
        mask & (1 << (concept % 64)) != 0 && concepts.contains(&concept)
    }
}

/// MinHash bands of the content words: `bands` keys of `rows` minima each.
/// Two records whose words have Jaccard similarity `s` share a given band
/// with probability about `s^rows`. The keys used before [`keys`].
pub fn minhash_bands(claim: &Claim, bands: usize, rows: usize) -> Vec<u64> {
    if claim.words.len() < MIN_WORDS {
        return Vec::new();
    }
    (0..bands)
        .map(|band| {
            let mut key = mix(0x6b65_7973 ^ band as u64);
            for row in 0..rows {
                let seed = mix(((band * rows + row) as u64) << 32 | 0x5eed);
                let min = (claim.words.iter())
                    .map(|w| mix(u64::from(*w) ^ seed))
                    .min()
                    .unwrap_or(0);
                key = mix(key ^ min);
            }
            // Never 0, so that 0 can mean "no key".
            key.max(1)
        })
        .collect()
}

/// splitmix64's finalizer: a stable 64-bit mix.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::super::features::claim;
    use super::*;

    #[test]
    fn the_picked_words_are_the_first_by_the_picking_order() {
        let generic = generic().to_vec();
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..2_000 {
            let mut words: Vec<u32> = Vec::new();
            for _ in 0..(state % 20) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                words.push(if state.is_multiple_of(5) {
                    generic[(state / 5) as usize % generic.len()]
                } else {
                    (state >> 20) as u32
                });
            }
            words.sort_unstable();
            words.dedup();
            // By definition: sorted by (generic, mixed word), the first PICKED.
            let mut picked = words.clone();
            picked.sort_by_key(|w| (generic.contains(w), mix(u64::from(*w) ^ 0x7069_636b)));
            picked.truncate(PICKED);
            picked.sort_unstable();
            let mut expected = Vec::new();
            if words.len() >= MIN_WORDS {
                for (i, a) in picked.iter().enumerate() {
                    for b in &picked[i + 1..] {
                        expected.push(mix(u64::from(*a) << 32 | u64::from(*b)).max(1));
                    }
                }
            }
            assert_eq!(keys_of_words(&words), expected, "{words:?}");
        }
    }

    #[test]
    fn the_same_words_give_the_same_keys_and_others_mostly_not() {
        let a = keys(&claim(
            "Networks trained with random labels reach zero training error.",
        ));
        let b = keys(&claim(
            "Zhang et al. find that networks trained with random labels reach zero training error",
        ));
        assert_eq!(a, b);
        assert_eq!(a.len(), PICKED * (PICKED - 1) / 2);
        let c = keys(&claim(
            "Scaling laws predict the loss of language models from their compute.",
        ));
        assert!(a.iter().all(|k| !c.contains(k)));
        assert!(keys(&claim("Grokking happens.")).is_empty());
    }
}
