//! The decision: do two records make the same claim?
//!
//! Two records make the same claim when they share enough content words
//! (Jaccard, or containment of the shorter in the longer) and no guard
//! finds a difference that words in common hide: a word negated in one and
//! affirmed in the other, different numbers, different names in the same
//! place, opposite directions of change, or the two sides of a relation
//! swapped. How each part was chosen, and what it costs, is in EVALUATION.md.

use super::features::{Claim, Relation};

/// The thresholds of the decision.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    /// Same claim when the Jaccard similarity of the content words reaches this…
    pub jaccard: f32,
    /// …or when this share of the shorter record's words is in the longer one…
    pub containment: f32,
    /// …and the shorter one has at least this many content words.
    pub containment_min_words: usize,
    /// What a word as common in the field as `network` or `training`
    /// ([`super::keys::COMMON`]) counts in both measures; other words count 1.
    pub generic_weight: f32,
    /// Apply the guards (negation, numbers, names, direction, relation).
    pub guards: bool,
}

/// The thresholds in use, chosen on the `dev` families of the labelled set.
pub const PARAMS: Params = Params {
    jaccard: 0.35,
    containment: 0.5,
    containment_min_words: 6,
    generic_weight: 0.5,
    guards: true,
};

/// Why two records are not the same claim, or that they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The same claim.
    Same,
    /// Too few content words in common.
    Distant,
    /// A word negated in one is affirmed in the other.
    Negation,
    /// Different numbers.
    Numbers,
    /// Different names in the same place.
    Names,
    /// Opposite directions of change, amount or quality.
    Direction,
    /// Nearly the same words, but one to three swapped for others.
    Substituted,
    /// The sides of a relation swapped.
    Reversed,
}

/// Content-word overlap: (Jaccard, containment of the smaller set, size of the smaller set).
pub fn overlap(a: &[u32], b: &[u32]) -> (f32, f32, usize) {
    let common = intersection(a, b);
    let union = a.len() + b.len() - common;
    let smaller = a.len().min(b.len());
    if union == 0 || smaller == 0 {
        return (0.0, 0.0, smaller);
    }
    (
        common as f32 / union as f32,
        common as f32 / smaller as f32,
        smaller,
    )
}

/// [`overlap`] with the field's most common words counting `generic_weight`
/// each: (weighted Jaccard, weighted containment of the lighter set, number
/// of words of the smaller set). `a` and `b` are sorted and unique (as
/// [`Claim::words`]): one pass over both.
pub fn weighted_overlap(a: &[u32], b: &[u32], generic_weight: f32) -> (f32, f32, usize) {
    let generic = super::keys::Common::get();
    let weight = |w: u32| {
        if generic.contains(w) {
            generic_weight
        } else {
            1.0
        }
    };
    let (mut sum_a, mut sum_b, mut common) = (0.0f32, 0.0f32, 0.0f32);
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => {
                sum_a += weight(a[i]);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                sum_b += weight(b[j]);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                let w = weight(a[i]);
                sum_a += w;
                sum_b += w;
                common += w;
                i += 1;
                j += 1;
            }
        }
    }
    // One word at a time, in order, as a sum over each list would add them.
    for &w in &a[i..] {
        sum_a += weight(w);
    }
    for &w in &b[j..] {
        sum_b += weight(w);
    }
    let union = sum_a + sum_b - common;
    let smaller = a.len().min(b.len());
    if union <= 0.0 || smaller == 0 {
        return (0.0, 0.0, smaller);
    }
    (common / union, common / sum_a.min(sum_b), smaller)
}

/// One record's content words made ready to be tested against many
/// others with [`close`]: their weighted sum, and a 128-bit signature that
/// tells most words of another record absent without a search. Gives
/// exactly what [`close`] gives: the same sums, added in the same order.
#[derive(Debug, Clone)]
pub struct Near<'a> {
    words: &'a [u32],
    weight: f32,
    bits: u128,
}

impl<'a> Near<'a> {
    /// `words` sorted and unique (as [`Claim::words`]).
    pub fn new(words: &'a [u32], params: &Params) -> Near<'a> {
        let generic = super::keys::Common::get();
        let (mut weight, mut bits) = (0.0f32, 0u128);
        for &w in words {
            weight += if generic.contains(w) {
                params.generic_weight
            } else {
                1.0
            };
            bits |= word_bit(w);
        }
        Near {
            words,
            weight,
            bits,
        }
    }

    /// [`close`] of these words and `other` (sorted and unique).
    pub fn close(&self, other: &[u32], params: &Params) -> bool {
        let generic = super::keys::Common::get();
        let (mut sum, mut common) = (0.0f32, 0.0f32);
        for &w in other {
            let weight = if generic.contains(w) {
                params.generic_weight
            } else {
                1.0
            };
            sum += weight;
            if self.bits & word_bit(w) != 0 && self.words.binary_search(&w).is_ok() {
                common += weight;
            }
        }
        let union = self.weight + sum - common;
        let smaller = self.words.len().min(other.len());
        if union <= 0.0 || smaller == 0 {
            return false;
        }
        common / union >= params.jaccard
            || (common / self.weight.min(sum) >= params.containment
                && smaller >= params.containment_min_words)
    }
}

/// A word's bit in [`Near`]'s signature.
fn word_bit(word: u32) -> u128 {
    1 << (word.wrapping_mul(0x9E37_79B1) >> 25)
}

/// Decides with the thresholds in use ([`PARAMS`]).
pub fn same_claim(a: &Claim, b: &Claim) -> bool {
    verdict(a, b, &PARAMS) == Verdict::Same
}

/// Whether two records share enough content words (`a` and `b` are
/// [`Claim::words`]) to be the same claim, before any guard: when not, the
/// verdict is [`Verdict::Distant`].
pub fn close(a: &[u32], b: &[u32], params: &Params) -> bool {
    let (jaccard, containment, smaller) = weighted_overlap(a, b, params.generic_weight);
    jaccard >= params.jaccard
        || (containment >= params.containment && smaller >= params.containment_min_words)
}

/// The decision with its reason.
pub fn verdict(a: &Claim, b: &Claim, params: &Params) -> Verdict {
    if !close(&a.words, &b.words, params) {
        return Verdict::Distant;
    }
    if !params.guards {
        return Verdict::Same;
    }
    guard(a, b)
}

/// The guards alone: what differs between two records that share their words.
pub fn guard(a: &Claim, b: &Claim) -> Verdict {
    let common = intersection(&a.words, &b.words);
    let (only_a, only_b) = (a.words.len() - common, b.words.len() - common);
    let near_verbatim = common * 10 >= 6 * (common + only_a + only_b);
    // Either a word denied in one is asserted in the other, or only one of
    // the two denies anything at all.
    if intersection(&a.negated, &b.affirmed) > 0
        || intersection(&b.negated, &a.affirmed) > 0
        || a.negated.is_empty() != b.negated.is_empty()
    {
        return Verdict::Negation;
    }
    // A rewording may drop a number or add one; it keeps the ones it shares.
    // A near copy must keep them all.
    let numbers_differ = if near_verbatim {
        a.numbers != b.numbers
    } else {
        !a.numbers.is_empty()
            && !b.numbers.is_empty()
            && !subset(&a.numbers, &b.numbers)
            && !subset(&b.numbers, &a.numbers)
    };
    if numbers_differ {
        return Verdict::Numbers;
    }
    // A name in each that the other does not even mention: a changed subject.
    let only = |x: &Claim, y: &Claim| x.names.iter().any(|n| y.words.binary_search(n).is_err());
    if only(a, b) && only(b, a) {
        return Verdict::Names;
    }
    let opposite = (a.directions.iter().zip(&b.directions)).any(|(x, y)| x * y < 0);
    if opposite {
        return Verdict::Direction;
    }
    // A near copy with a word or two replaced: another subject, another
    // quantity. A rewording changes more than that, or nothing at all.
    if near_verbatim && substituted(&a.ordered, &b.ordered) {
        return Verdict::Substituted;
    }
    let swapped = |x: &Relation, y: &Relation| {
        let straight = intersection(&x.left, &y.left) + intersection(&x.right, &y.right);
        let left_right = intersection(&x.left, &y.right);
        let right_left = intersection(&x.right, &y.left);
        left_right + right_left > straight || (left_right > 0 && right_left > 0)
    };
    // Nearly the same words in another order: the roles may be swapped. A
    // rewording reorders too, but rarely keeps three words in four.
    let same_words = common * 4 >= 3 * (common + only_a + only_b);
    match (&a.relation, &b.relation) {
        (Some(ra), Some(rb)) if swapped(ra, rb) => return Verdict::Reversed,
        (Some(_), Some(_)) => {}
        // A near copy that orders or compares two sides where the other
        // does not (`grow in equal proportion` / `grow faster than`).
        (Some(_), None) | (None, Some(_)) if near_verbatim => return Verdict::Reversed,
        _ if same_words && swapped(&a.halves, &b.halves) => return Verdict::Reversed,
        _ => {}
    }
    Verdict::Same
}

/// Whether two word sequences are one with a short span (one to three
/// words on each side) replaced: the same words before it and after it.
fn substituted(a: &[u32], b: &[u32]) -> bool {
    let prefix = (a.iter().zip(b)).take_while(|(x, y)| x == y).count();
    let room = a.len().min(b.len()) - prefix;
    let suffix = (a.iter().rev().zip(b.iter().rev()))
        .take(room)
        .take_while(|(x, y)| x == y)
        .count();
    let (middle_a, middle_b) = (a.len() - prefix - suffix, b.len() - prefix - suffix);
    (1..=3).contains(&middle_a) && (1..=3).contains(&middle_b)
}

/// The number of values two sorted lists share.
pub(crate) fn intersection(a: &[u32], b: &[u32]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                n += 1;
                i += 1;
                j += 1;
            }
        }
    }
    n
}

fn subset(small: &[u32], large: &[u32]) -> bool {
    intersection(small, large) == small.len()
}

#[cfg(test)]
mod tests {
    use super::super::features::claim;
    use super::*;

    fn same(a: &str, b: &str) -> Verdict {
        verdict(&claim(a), &claim(b), &PARAMS)
    }

    #[test]
    fn a_rewording_is_the_same_claim() {
        assert_eq!(
            same(
                "Networks trained on CIFAR-10 with random labels still reach zero training error.",
                "Zhang et al. report that networks trained on CIFAR-10 with random labels reach zero training error."
            ),
            Verdict::Same
        );
    }

    #[test]
    fn a_negation_is_not() {
        assert_eq!(
            same(
                "Networks trained with random labels still reach zero training error.",
                "Networks trained with random labels do not reach zero training error."
            ),
            Verdict::Negation
        );
    }

    #[test]
    fn a_changed_number_name_or_direction_is_not() {
        assert_eq!(
            same(
                "A two-layer network trained by gradient descent reaches the global minimum.",
                "A three-layer network trained by gradient descent reaches the global minimum."
            ),
            Verdict::Numbers
        );
        assert_eq!(
            same(
                "Networks trained on MNIST with random labels reach zero training error.",
                "Networks trained on ImageNet with random labels reach zero training error."
            ),
            Verdict::Names
        );
        assert_eq!(
            same(
                "Generalization bounds of deep networks increase with the number of examples.",
                "Generalization bounds of deep networks decrease with the number of examples."
            ),
            Verdict::Direction
        );
    }

    #[test]
    fn a_reversed_relation_is_not_but_its_converse_is() {
        let a = "Induction heads form before the gain in in-context learning.";
        assert_eq!(
            same(
                a,
                "The gain in in-context learning comes before induction heads form."
            ),
            Verdict::Reversed
        );
        assert_eq!(
            same(
                a,
                "The gain in in-context learning comes after induction heads form."
            ),
            Verdict::Same
        );
    }

    #[test]
    fn a_word_swapped_in_a_near_copy_is_not_but_a_reordered_rewording_is() {
        assert_eq!(
            same(
                "Bounds derived from uniform convergence can be vacuous for deep networks trained by gradient descent.",
                "Bounds derived from algorithmic stability can be vacuous for deep networks trained by gradient descent."
            ),
            Verdict::Substituted
        );
        assert_eq!(
            same(
                "The double descent curve is not specific to neural networks: random forests and random Fourier features show it too.",
                "Double descent appears for random Fourier features and random forests, not only for neural networks."
            ),
            Verdict::Same
        );
    }

    #[test]
    fn a_near_copy_that_orders_two_sides_where_the_other_does_not_is_not() {
        assert_eq!(
            same(
                "For compute-optimal training, model size and training tokens should grow together.",
                "For compute-optimal training, training tokens should grow faster than model size."
            ),
            Verdict::Reversed
        );
    }

    #[test]
    fn the_fields_common_words_count_half() {
        let a = claim("network error grokking");
        let b = claim("network error memorization");
        let (plain, _, _) = overlap(&a.words, &b.words);
        let (weighted, _, _) = weighted_overlap(&a.words, &b.words, 0.5);
        assert!((plain - 2.0 / 4.0).abs() < 1e-6, "{plain}");
        assert!((weighted - 1.0 / 3.0).abs() < 1e-6, "{weighted}");
        assert_eq!(weighted_overlap(&a.words, &b.words, 1.0).0, plain);
    }

    /// A small deterministic random number generator (xorshift64) for the
    /// randomised tests.
    fn xorshift(mut state: u64) -> impl FnMut() -> u64 {
        move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        }
    }

    /// [`weighted_overlap`] as defined, one word at a time.
    fn weighted_overlap_by_definition(
        a: &[u32],
        b: &[u32],
        generic_weight: f32,
    ) -> (f32, f32, usize) {
        let generic = super::super::keys::common();
        let weight = |w: &u32| {
            if generic.contains(w) {
                generic_weight
            } else {
                1.0
            }
        };
        let sum_a: f32 = a.iter().map(weight).sum();
        let sum_b: f32 = b.iter().map(weight).sum();
        let common: f32 = a.iter().filter(|w| b.contains(w)).map(weight).sum();
        let union = sum_a + sum_b - common;
        let smaller = a.len().min(b.len());
        if union <= 0.0 || smaller == 0 {
            return (0.0, 0.0, smaller);
        }
        (common / union, common / sum_a.min(sum_b), smaller)
    }

    #[test]
    fn the_weighted_overlap_is_its_definition() {
        let generic = super::super::keys::common().to_vec();
        // Words from a small range, so that lists share some, plus the
        // common words, in lists of every length up to 14.
        let mut next = xorshift(0x2545_f491_4f6c_dd1d_u64);
        for _ in 0..2000 {
            let mut lists = [Vec::new(), Vec::new()];
            for list in &mut lists {
                for _ in 0..next() % 15 {
                    let r = next();
                    list.push(if r.is_multiple_of(4) {
                        generic[(r / 4) as usize % generic.len()]
                    } else {
                        (r % 40) as u32
                    });
                }
                list.sort_unstable();
                list.dedup();
            }
            for weight in [0.5, 0.3, 1.0] {
                assert_eq!(
                    weighted_overlap(&lists[0], &lists[1], weight),
                    weighted_overlap_by_definition(&lists[0], &lists[1], weight),
                    "{lists:?}"
                );
            }
        }
    }

    #[test]
    fn near_tells_what_close_tells() {
        let generic = super::super::keys::common().to_vec();
        let mut next = xorshift(0x9e37_79b9_7f4a_7c15_u64);
        let (mut close_pairs, mut distant_pairs) = (0, 0);
        for _ in 0..20_000 {
            let mut lists = [Vec::new(), Vec::new()];
            for list in &mut lists {
                for _ in 0..next() % 40 {
                    let r = next();
                    list.push(match r % 8 {
                        0 => generic[(r / 8) as usize % generic.len()],
                        1..=4 => (r % 30) as u32,
                        _ => (r >> 16) as u32,
                    });
                }
                list.sort_unstable();
                list.dedup();
            }
            for params in [
                PARAMS,
                Params {
                    generic_weight: 0.3,
                    ..PARAMS
                },
            ] {
                let [a, b] = &lists;
                let near = Near::new(a, &params).close(b, &params);
                assert_eq!(near, close(a, b, &params), "{a:?} {b:?}");
                if near {
                    close_pairs += 1;
                } else {
                    distant_pairs += 1;
                }
            }
        }
        // Both kinds occur, so the test says something.
        assert!(
            close_pairs > 100 && distant_pairs > 100,
            "{close_pairs} {distant_pairs}"
        );
    }

    #[test]
    fn different_claims_on_one_topic_are_distant() {
        assert_eq!(
            same(
                "Uniform convergence bounds are vacuous for overparameterized networks.",
                "Compression yields tighter bounds than parameter counting."
            ),
            Verdict::Distant
        );
    }
}
