//! The labelled pair set (`eval/claim-pairs.txt`) and its scorer: precision
//! and recall of "same claim" per pair kind, for the decision in use and for
//! the alternatives EVALUATION.md compares it with.

use std::collections::HashMap;
use std::fmt::Write as _;

use rustc_hash::FxHashMap;

use super::decide::{self, Params};
use super::features::{self, Claim};
use super::keys;
use crate::model::Kind;

/// How a pair's second record relates to its first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PairKind {
    /// Same claim, other words.
    Reword,
    /// Same claim, same words.
    Verbatim,
    /// A quote and the claim summarising it.
    Quote,
    /// Another claim on the same topic.
    Topic,
    /// The claim denied.
    Negation,
    /// Order, direction or roles swapped.
    Reversal,
    /// A number changed.
    Number,
    /// A named subject changed.
    Subject,
}

impl PairKind {
    /// Every kind, positives first.
    pub const ALL: [PairKind; 8] = [
        PairKind::Reword,
        PairKind::Verbatim,
        PairKind::Quote,
        PairKind::Topic,
        PairKind::Negation,
        PairKind::Reversal,
        PairKind::Number,
        PairKind::Subject,
    ];

    /// Whether pairs of this kind make the same claim.
    pub fn same(self) -> bool {
        matches!(
            self,
            PairKind::Reword | PairKind::Verbatim | PairKind::Quote
        )
    }

    /// The label used in the pair file.
    pub fn as_str(self) -> &'static str {
        match self {
            PairKind::Reword => "reword",
            PairKind::Verbatim => "verbatim",
            PairKind::Quote => "quote",
            PairKind::Topic => "topic",
            PairKind::Negation => "negation",
            PairKind::Reversal => "reversal",
            PairKind::Number => "number",
            PairKind::Subject => "subject",
        }
    }
}

/// One side of a pair: a record's kind and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Side {
    /// The record's kind.
    pub kind: Kind,
    /// The record's text.
    pub text: String,
}

/// A labelled pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pair {
    /// The family it comes from.
    pub family: String,
    /// Whether the family is held out of every design choice.
    pub held: bool,
    /// How the two relate.
    pub kind: PairKind,
    /// The first record.
    pub a: Side,
    /// The second record.
    pub b: Side,
}

/// Reads the pair file: families of records, paired as its header says.
/// An error names the line.
pub fn parse(text: &str) -> Result<Vec<Pair>, String> {
    struct Family {
        name: String,
        held: bool,
        lines: Vec<(String, Side)>,
    }
    let mut families: Vec<Family> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(header) = line.strip_prefix("==") {
            let mut parts = header.split_whitespace();
            let (Some(name), Some(split)) = (parts.next(), parts.next()) else {
                return Err(format!(
                    "line {}: a family needs a name and dev or held",
                    n + 1
                ));
            };
            if split != "dev" && split != "held" {
                return Err(format!("line {}: '{split}' is neither dev nor held", n + 1));
            }
            families.push(Family {
                name: name.to_string(),
                held: split == "held",
                lines: Vec::new(),
            });
            continue;
        }
        let (Some((label, rest)), _) = (line.split_once(char::is_whitespace), ()) else {
            return Err(format!("line {}: expected LABEL KIND TEXT", n + 1));
        };
        let Some((kind, rest)) = rest.trim_start().split_once(char::is_whitespace) else {
            return Err(format!("line {}: expected LABEL KIND TEXT", n + 1));
        };
        let kind: Kind = kind.parse().map_err(|e| format!("line {}: {e}", n + 1))?;
        if label != "base" && !PairKind::ALL.iter().any(|k| k.as_str() == label) {
            return Err(format!("line {}: unknown label '{label}'", n + 1));
        }
        let family = (families.last_mut()).ok_or(format!("line {}: no family yet", n + 1))?;
        let side = Side {
            kind,
            text: rest.trim().to_string(),
        };
        family.lines.push((label.to_string(), side));
    }
    let label = |l: &str| PairKind::ALL.into_iter().find(|k| k.as_str() == l);
    let mut pairs = Vec::new();
    for family in &families {
        let Some((_, base)) = family.lines.iter().find(|(l, _)| l == "base") else {
            return Err(format!("family {} has no base", family.name));
        };
        let pair = |kind, a: &Side, b: &Side| Pair {
            family: family.name.clone(),
            held: family.held,
            kind,
            a: a.clone(),
            b: b.clone(),
        };
        for (l, side) in &family.lines {
            if let Some(kind) = label(l) {
                pairs.push(pair(kind, base, side));
            }
        }
        let first = |l: &str| family.lines.iter().find(|(x, _)| x == l).map(|(_, s)| s);
        if let Some(reword) = first("reword") {
            for (l, kind) in [("quote", PairKind::Quote), ("negation", PairKind::Negation)] {
                if let Some(other) = first(l) {
                    pairs.push(pair(kind, reword, other));
                }
            }
        }
    }
    Ok(pairs)
}

/// A way of deciding "same claim", as compared in EVALUATION.md.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Approach {
    /// The decision in use: content words with guards, with these thresholds.
    Decision(Params),
    /// The decision, and the two records must also share a lookup key
    /// (what a search can find): pairs of this many picked words
    /// ([`keys::pair_keys`]).
    Indexed(Params, usize),
    /// The decision, and the two records must also share one of `bands` ×
    /// `rows` MinHash bands (the lookup keys used before).
    Banded(Params, usize, usize),
    /// MinHash (128 hashes) on stemmed content-word shingles of this many
    /// words: same when the estimated Jaccard reaches the threshold.
    Shingles(usize, f32),
    /// SimHash (64 bits) over stemmed content words and word pairs: same
    /// when at most this many bits differ.
    SimHash(u32),
    /// BM25-weighted cosine of the two texts (a more-like-this score, with
    /// document frequencies from the pair set): same above the threshold.
    Bm25Cosine(f32),
}

/// Counts for one pair kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Pairs of the kind.
    pub pairs: usize,
    /// Pairs the approach called the same claim.
    pub grouped: usize,
}

/// Scores of an approach on a set of pairs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Score {
    /// Per pair kind.
    pub kinds: Vec<(PairKind, Tally)>,
}

impl Score {
    /// Share of the pairs called the same claim that are: TP / (TP + FP).
    pub fn precision(&self) -> f64 {
        let (tp, fp) = self.split();
        if tp + fp == 0 {
            1.0
        } else {
            tp as f64 / (tp + fp) as f64
        }
    }

    /// Share of the same-claim pairs found: TP / (TP + FN).
    pub fn recall(&self) -> f64 {
        let positives: usize = (self.kinds.iter())
            .filter(|(k, _)| k.same())
            .map(|(_, t)| t.pairs)
            .sum();
        let (tp, _) = self.split();
        if positives == 0 {
            0.0
        } else {
            tp as f64 / positives as f64
        }
    }

    /// The tally of one kind.
    pub fn of(&self, kind: PairKind) -> Tally {
        (self.kinds.iter().find(|(k, _)| *k == kind)).map_or(Tally::default(), |(_, t)| *t)
    }

    fn split(&self) -> (usize, usize) {
        let sum = |same: bool| -> usize {
            (self.kinds.iter())
                .filter(|(k, _)| k.same() == same)
                .map(|(_, t)| t.grouped)
                .sum()
        };
        (sum(true), sum(false))
    }

    /// One line per kind: pairs, grouped, and recall or the false-positive rate.
    pub fn table(&self) -> String {
        let mut out = String::new();
        for (kind, t) in &self.kinds {
            let share = t.grouped as f64 / t.pairs.max(1) as f64;
            let what = if kind.same() {
                "found"
            } else {
                "wrongly grouped"
            };
            let _ = writeln!(
                out,
                "  {:<9} {:>4} pairs  {:>4} grouped  {} {:.2}",
                kind.as_str(),
                t.pairs,
                t.grouped,
                what,
                share
            );
        }
        let _ = writeln!(
            out,
            "  precision {:.3}  recall {:.3}",
            self.precision(),
            self.recall()
        );
        out
    }
}

/// Scores `approach` on `pairs`.
pub fn score(pairs: &[&Pair], approach: Approach, all: &[Pair]) -> Score {
    let judge = Judge::new(approach, all);
    let mut kinds: HashMap<PairKind, Tally> = HashMap::new();
    for pair in pairs {
        let tally = kinds.entry(pair.kind).or_default();
        tally.pairs += 1;
        if judge.same(&pair.a, &pair.b) {
            tally.grouped += 1;
        }
    }
    let mut kinds: Vec<_> = kinds.into_iter().collect();
    kinds.sort_by_key(|(k, _)| *k);
    Score { kinds }
}

/// An approach ready to judge pairs (with its document frequencies).
struct Judge {
    approach: Approach,
    df: FxHashMap<u32, usize>,
    docs: usize,
    average_len: f64,
}

impl Judge {
    fn new(approach: Approach, all: &[Pair]) -> Judge {
        let mut df: FxHashMap<u32, usize> = FxHashMap::default();
        let mut texts: Vec<&str> = all.iter().flat_map(|p| [&*p.a.text, &*p.b.text]).collect();
        texts.sort_unstable();
        texts.dedup();
        let mut total_len = 0usize;
        for text in &texts {
            let mut words = features::content_words(text);
            total_len += words.len();
            words.sort_unstable();
            words.dedup();
            for w in words {
                *df.entry(w).or_default() += 1;
            }
        }
        Judge {
            approach,
            df,
            docs: texts.len().max(1),
            average_len: total_len as f64 / texts.len().max(1) as f64,
        }
    }

    fn same(&self, a: &Side, b: &Side) -> bool {
        let text_a = features::claim_text(a.kind, &a.text);
        let text_b = features::claim_text(b.kind, &b.text);
        match self.approach {
            Approach::Decision(params) => {
                let (ca, cb) = (features::claim(text_a), features::claim(text_b));
                decide::verdict(&ca, &cb, &params) == decide::Verdict::Same
            }
            Approach::Indexed(params, picked) => {
                let (ca, cb) = (features::claim(text_a), features::claim(text_b));
                let (ka, kb) = (keys::pair_keys(&ca, picked), keys::pair_keys(&cb, picked));
                ka.iter().any(|x| kb.contains(x))
                    && decide::verdict(&ca, &cb, &params) == decide::Verdict::Same
            }
            Approach::Banded(params, bands, rows) => {
                let (ca, cb) = (features::claim(text_a), features::claim(text_b));
                let (ka, kb) = (
                    keys::minhash_bands(&ca, bands, rows),
                    keys::minhash_bands(&cb, bands, rows),
                );
                ka.iter().zip(&kb).any(|(x, y)| x == y)
                    && decide::verdict(&ca, &cb, &params) == decide::Verdict::Same
            }
            Approach::Shingles(width, threshold) => {
                let (sa, sb) = (shingles(text_a, width), shingles(text_b, width));
                minhash_similarity(&sa, &sb) >= threshold
            }
            Approach::SimHash(bits) => (simhash(text_a) ^ simhash(text_b)).count_ones() <= bits,
            Approach::Bm25Cosine(threshold) => self.bm25_cosine(text_a, text_b) >= threshold,
        }
    }

    fn bm25_cosine(&self, a: &str, b: &str) -> f32 {
        let vector = |text: &str| -> FxHashMap<u32, f64> {
            let words = features::content_words(text);
            let len = words.len() as f64;
            let mut tf: FxHashMap<u32, f64> = FxHashMap::default();
            for w in words {
                *tf.entry(w).or_default() += 1.0;
            }
            let (k1, b) = (1.2, 0.75);
            tf.into_iter()
                .map(|(w, f)| {
                    let df = *self.df.get(&w).unwrap_or(&0) as f64;
                    let idf = ((self.docs as f64 - df + 0.5) / (df + 0.5) + 1.0).ln();
                    let norm = f * (k1 + 1.0) / (f + k1 * (1.0 - b + b * len / self.average_len));
                    (w, idf * norm)
                })
                .collect()
        };
        let (va, vb) = (vector(a), vector(b));
        let dot: f64 = va
            .iter()
            .filter_map(|(w, x)| vb.get(w).map(|y| x * y))
            .sum();
        let norm = |v: &FxHashMap<u32, f64>| v.values().map(|x| x * x).sum::<f64>().sqrt();
        let denominator = norm(&va) * norm(&vb);
        if denominator == 0.0 {
            0.0
        } else {
            (dot / denominator) as f32
        }
    }
}

fn shingles(text: &str, width: usize) -> Vec<u64> {
    let words = features::content_words(text);
    if words.len() < width {
        return vec![words.iter().fold(0u64, |h, w| mix(h ^ u64::from(*w)))];
    }
    let mut out: Vec<u64> = (words.windows(width))
        .map(|window| window.iter().fold(0u64, |h, w| mix(h ^ u64::from(*w))))
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

fn minhash_similarity(a: &[u64], b: &[u64]) -> f32 {
    const HASHES: u64 = 128;
    let agree = (0..HASHES)
        .filter(|i| {
            let seed = mix(*i + 1);
            let min = |s: &[u64]| s.iter().map(|x| mix(x ^ seed)).min();
            min(a) == min(b)
        })
        .count();
    agree as f32 / HASHES as f32
}

fn simhash(text: &str) -> u64 {
    let words = features::content_words(text);
    let mut features: Vec<u64> = words.iter().map(|w| mix(u64::from(*w))).collect();
    features.extend(
        words
            .windows(2)
            .map(|p| mix(mix(u64::from(p[0])) ^ u64::from(p[1]))),
    );
    let mut counts = [0i32; 64];
    for f in features {
        for (bit, count) in counts.iter_mut().enumerate() {
            *count += if f >> bit & 1 == 1 { 1 } else { -1 };
        }
    }
    (counts.iter().enumerate())
        .filter(|(_, c)| **c > 0)
        .fold(0, |h, (bit, _)| h | 1 << bit)
}

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The pair set shipped with the crate.
pub const PAIRS: &str = include_str!("../../eval/claim-pairs.txt");

/// Parsed once per call: the shipped pairs, all of them.
pub fn shipped() -> Vec<Pair> {
    parse(PAIRS).expect("the shipped pair file parses")
}

/// What `claim` made of a text, for looking into one pair.
pub fn explain(kind: Kind, text: &str) -> Claim {
    features::claim(features::claim_text(kind, text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pair_file_has_every_kind_and_enough_pairs() {
        let pairs = shipped();
        assert!(pairs.len() >= 300, "{} pairs", pairs.len());
        for kind in PairKind::ALL {
            assert!(
                pairs.iter().filter(|p| p.kind == kind).count() >= 10,
                "{kind:?}"
            );
        }
        assert!(pairs.iter().any(|p| p.held) && pairs.iter().any(|p| !p.held));
    }

    #[test]
    fn a_bad_pair_file_names_its_line() {
        let err = parse("== f dev\nbase claim A claim.\nreword chat B").unwrap_err();
        assert!(err.starts_with("line 3:"), "{err}");
        assert!(parse("base claim X").unwrap_err().contains("no family"));
    }

    /// The targets, on all pairs and on the held-out families alone:
    /// precision at least 0.90 and no negation or reversal grouped are met.
    /// Its recall target, 0.75, is not: words, a paraphrase list and guards
    /// find verbatim repeats, restatements and most quotes that contain the
    /// claim, but not free paraphrase (EVALUATION.md). The recall floors are
    /// what the decision reaches (0.605 on all pairs, 0.440 held out) less a
    /// small margin, to catch a regression.
    #[test]
    fn the_decision_meets_its_targets_on_the_labelled_pairs() {
        let pairs = shipped();
        let approach = Approach::Indexed(decide::PARAMS, keys::PICKED);
        let all: Vec<&Pair> = pairs.iter().collect();
        let held: Vec<&Pair> = pairs.iter().filter(|p| p.held).collect();
        for (name, set, recall) in [("all", &all, 0.58), ("held out", &held, 0.42)] {
            let score = score(set, approach, &pairs);
            let table = score.table();
            assert!(score.precision() >= 0.90, "{name}: precision\n{table}");
            assert!(score.recall() >= recall, "{name}: recall\n{table}");
            assert_eq!(score.of(PairKind::Negation).grouped, 0, "{name}\n{table}");
            assert_eq!(score.of(PairKind::Reversal).grouped, 0, "{name}\n{table}");
        }
    }
}
