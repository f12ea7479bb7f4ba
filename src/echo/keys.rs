//! Lookup keys: records that might make the same claim share at least one.
//!
//! Each key is one band of a MinHash signature of the record's content
//! words (stems): `BANDS` bands of `ROWS` minima each. Two records whose
//! content words have Jaccard similarity `s` share a given band with
//! probability about `s^ROWS`, so at least one of `BANDS` keys with
//! probability `1 - (1 - s^ROWS)^BANDS`. A key is a pure function of the
//! record's text: it needs nothing else from the corpus, so any order of
//! files, and any sequence of `reindex` runs, gives every record the same keys.

use super::features::Claim;

/// Bands per record.
pub const BANDS: usize = 10;
/// Minima per band.
pub const ROWS: usize = 2;
/// Records with fewer content words get no keys: too little to be a claim.
pub const MIN_WORDS: usize = 3;

/// The lookup keys of a claim (none when it has fewer than [`MIN_WORDS`] words).
pub fn keys(claim: &Claim) -> Vec<u64> {
    keys_with(claim, BANDS, ROWS)
}

/// [`keys`] with another banding, for measuring.
pub fn keys_with(claim: &Claim, bands: usize, rows: usize) -> Vec<u64> {
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
    fn the_same_words_give_the_same_keys_and_others_mostly_not() {
        let a = keys(&claim(
            "Networks trained with random labels reach zero training error.",
        ));
        let b = keys(&claim(
            "Zhang et al. find that networks trained with random labels reach zero training error",
        ));
        assert_eq!(a, b);
        assert_eq!(a.len(), BANDS);
        let c = keys(&claim(
            "Scaling laws predict the loss of language models from their compute.",
        ));
        assert!(a.iter().all(|k| !c.contains(k)));
        assert!(keys(&claim("Grokking happens.")).is_empty());
    }
}
