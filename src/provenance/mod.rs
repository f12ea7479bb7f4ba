//! Provenance: is a key quote really in the raw text the corpus holds?
//!
//! Pure logic, no I/O. [`normalize`] says when a quote and raw text say the
//! same words; [`RawCorpus`] looks many quotes up in many raw texts without
//! comparing every pair: each raw text's word shingles point to it, so a quote
//! is compared, by substring, only with the texts that hold its rarest shingle.
//! [`LateQuotes`] answers the reverse question an ingest needs when raw text
//! arrives after the quotes were written: which of them may it hold?

pub mod normalize;

use std::borrow::Cow;
use std::convert::Infallible;

use rustc_hash::FxHashSet;
use serde::{Deserialize, Serialize};

pub use normalize::{Fingerprint, Haystack, Needle};

/// A raw text that holds a quote: the page (and, in a JSON Lines file, the
/// item's title) where a reader can check it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FoundIn {
    /// The page, relative to the corpus root.
    pub path: String,
    /// The raw text's title.
    pub title: String,
}

/// Many raw texts, indexed by their shingles.
///
/// The index is a sorted list of (shingle, text) pairs, 8 bytes a shingle
/// (the shingle's hash cut to 32 bits: a text it names wrongly is dropped
/// when the quote is compared with it):
/// texts are added in batches and [`RawCorpus::seal`] merges each batch in.
/// A directory on the hashes' top bits says where each run of them starts,
/// so a lookup touches two or three cache lines, not the twenty a binary
/// search over millions of pairs does (that search was the largest cost of
/// tracing at 100,000 pages).
///
/// The texts themselves are needed only to compare a quote with the few
/// texts that hold all its shingles, so where they are kept is the caller's
/// choice ([`Texts`]): in memory (`Vec<Haystack>`, the default), or, in an
/// ingest of a large corpus, in a scratch file.
#[derive(Debug, Default)]
pub struct RawCorpus<T = Vec<Haystack>> {
    places: Vec<FoundIn>,
    texts: T,
    sorted: Vec<(u32, u32)>,
    unsorted: Vec<(u32, u32)>,
    /// For each value of a hash's top `bits` bits, where its pairs start in
    /// `sorted` (one more entry at the end: the length).
    directory: Vec<u32>,
    bits: u32,
}

/// Where a [`RawCorpus`] keeps its texts, by the order they were added.
pub trait Texts {
    /// What can go wrong keeping or reading one.
    type Error;
    /// Keeps the next text.
    fn keep(&mut self, haystack: Haystack) -> Result<(), Self::Error>;
    /// The text kept `id`th (from 0). Called from several threads at once
    /// (a [`RawCorpus`] is shared while quotes are looked up), only for
    /// texts kept before the last [`Texts::sync`].
    fn get(&self, id: usize) -> Result<Cow<'_, Haystack>, Self::Error>;
    /// Makes every text kept so far readable.
    fn sync(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

impl Texts for Vec<Haystack> {
    type Error = Infallible;

    fn keep(&mut self, haystack: Haystack) -> Result<(), Infallible> {
        self.push(haystack);
        Ok(())
    }

    fn get(&self, id: usize) -> Result<Cow<'_, Haystack>, Infallible> {
        Ok(Cow::Borrowed(&self[id]))
    }
}

impl RawCorpus {
    /// An empty corpus, its texts in memory.
    pub fn new() -> RawCorpus {
        RawCorpus::default()
    }

    /// Adds a raw text: its paragraphs, and where it is. It is looked up
    /// once [`RawCorpus::seal`] has run.
    pub fn add<S: AsRef<str>>(&mut self, at: FoundIn, paragraphs: &[S]) {
        self.add_haystack(at, Haystack::new(paragraphs));
    }

    /// [`RawCorpus::add`] for a raw text already in comparable form.
    pub fn add_haystack(&mut self, at: FoundIn, haystack: Haystack) {
        let shingles = haystack.distinct_shingles();
        let Ok(()) = self.add_shingled(at, haystack, shingles);
    }

    /// Every sealed raw text holding the quote, sorted by path and title,
    /// each once.
    pub fn find(&self, needle: &Needle) -> Vec<FoundIn> {
        let Ok(found) = self.find_kept(needle);
        found
    }

    /// Makes every text added so far findable.
    pub fn seal(&mut self) {
        let Ok(()) = self.seal_kept();
    }
}

impl<T: Texts> RawCorpus<T> {
    /// An empty corpus, its texts kept in `texts`.
    pub fn with_texts(texts: T) -> RawCorpus<T> {
        RawCorpus {
            places: Vec::new(),
            texts,
            sorted: Vec::new(),
            unsorted: Vec::new(),
            directory: Vec::new(),
            bits: 0,
        }
    }

    /// Raw texts held.
    pub fn len(&self) -> usize {
        self.places.len()
    }

    /// True when no raw text is held.
    pub fn is_empty(&self) -> bool {
        self.places.is_empty()
    }

    /// Adds a raw text with its [`Haystack::distinct_shingles`] already
    /// worked out. It is looked up once [`RawCorpus::seal_kept`] has run.
    pub fn add_shingled(
        &mut self,
        at: FoundIn,
        haystack: Haystack,
        shingles: Vec<u64>,
    ) -> Result<(), T::Error> {
        let id = self.places.len() as u32;
        self.texts.keep(haystack)?;
        self.unsorted
            .extend(shingles.into_iter().map(|s| (short(s), id)));
        self.places.push(at);
        Ok(())
    }

    /// Where the `id`th raw text added is, and the text.
    pub fn text(&self, id: usize) -> Result<(&FoundIn, Cow<'_, Haystack>), T::Error> {
        Ok((&self.places[id], self.texts.get(id)?))
    }

    /// Makes every text added so far findable.
    pub fn seal_kept(&mut self) -> Result<(), T::Error> {
        self.texts.sync()?;
        if self.unsorted.is_empty() {
            return Ok(());
        }
        self.unsorted.sort_unstable();
        merge_in_place(&mut self.sorted, &self.unsorted);
        self.unsorted = Vec::new();
        // About two pairs a slot, at most 2^22 slots (16 MiB).
        self.bits = (self.sorted.len() / 2).max(1).ilog2().clamp(1, 22);
        let slots = 1usize << self.bits;
        self.directory = Vec::with_capacity(slots + 1);
        let mut at = 0;
        for slot in 0..slots {
            while at < self.sorted.len() && self.slot(self.sorted[at].0) < slot {
                at += 1;
            }
            self.directory.push(at as u32);
        }
        self.directory.push(self.sorted.len() as u32);
        Ok(())
    }

    fn slot(&self, hash: u32) -> usize {
        (hash >> (32 - self.bits)) as usize
    }

    /// The texts holding `shingle` (sealed texts only), by text.
    fn holding(&self, shingle: u64) -> &[(u32, u32)] {
        if self.directory.is_empty() {
            return &[];
        }
        let shingle = short(shingle);
        let slot = self.slot(shingle);
        let (from, to) = (
            self.directory[slot] as usize,
            self.directory[slot + 1] as usize,
        );
        let run = &self.sorted[from..to];
        let start = run.partition_point(|(s, _)| *s < shingle);
        let len = run[start..].partition_point(|(s, _)| *s == shingle);
        &run[start..start + len]
    }

    /// Every sealed raw text holding the quote, sorted by path and title,
    /// each once ([`RawCorpus::find`] for any [`Texts`]).
    ///
    /// Only the texts holding every shingle of the quote are compared with
    /// it. Taking those of its rarest shingle alone is not enough: in
    /// templated text even the rarest three words of a quote can occur in
    /// hundreds of texts, and comparing each made a full build of 100,000
    /// generated pages twice as slow.
    pub fn find_kept(&self, needle: &Needle) -> Result<Vec<FoundIn>, T::Error> {
        let mut lists = Vec::with_capacity(needle.shingles.len());
        for shingle in &needle.shingles {
            match self.holding(*shingle) {
                [] => return Ok(Vec::new()),
                list => lists.push(list),
            }
        }
        lists.sort_unstable_by_key(|list| list.len());
        let Some((rarest, others)) = lists.split_first() else {
            return Ok(Vec::new());
        };
        // Each list is sorted by text, as the index is by (shingle, text).
        let mut candidates: Vec<u32> = rarest.iter().map(|(_, id)| *id).collect();
        candidates.dedup();
        for list in others {
            candidates.retain(|id| list.binary_search_by_key(id, |(_, t)| *t).is_ok());
            if candidates.is_empty() {
                return Ok(Vec::new());
            }
        }
        let mut found = Vec::new();
        for id in candidates {
            let (at, haystack) = self.text(id as usize)?;
            if haystack.contains(needle) {
                found.push(at.clone());
            }
        }
        found.sort();
        found.dedup();
        Ok(found)
    }
}

/// Merges `new` (sorted) into `sorted` (sorted) without a second copy of
/// `sorted`: it grows once, and the merge fills it from the back. (A merge
/// into a fresh list held both at once: at 1,000,000 pages, 120 MiB more at
/// the peak of a full build.)
fn merge_in_place<P: Copy + Ord>(sorted: &mut Vec<P>, new: &[P]) {
    let old_len = sorted.len();
    let Some(&last) = new.last() else {
        return;
    };
    sorted.reserve_exact(new.len());
    sorted.resize(old_len + new.len(), last);
    let (mut i, mut j, mut k) = (old_len, new.len(), old_len + new.len());
    while j > 0 {
        k -= 1;
        // Equal pairs: the old one ends up first, as the texts were added.
        if i > 0 && sorted[i - 1] > new[j - 1] {
            i -= 1;
            sorted[k] = sorted[i];
        } else {
            j -= 1;
            sorted[k] = new[j];
        }
    }
}

/// A shingle's hash in the 32 bits [`RawCorpus`] keeps.
fn short(shingle: u64) -> u32 {
    (shingle >> 32) as u32
}

/// Quotes already written, remembered by their [`Fingerprint`] only (24
/// bytes each), with a caller's tag (say, the page they came from).
#[derive(Debug)]
pub struct LateQuotes<T> {
    fingerprints: Vec<Fingerprint>,
    tags: Vec<T>,
    added: Vec<(Fingerprint, T)>,
}

impl<T> Default for LateQuotes<T> {
    fn default() -> Self {
        LateQuotes {
            fingerprints: Vec::new(),
            tags: Vec::new(),
            added: Vec::new(),
        }
    }
}

impl<T: Copy + Ord + std::hash::Hash> LateQuotes<T> {
    /// Nothing remembered.
    pub fn new() -> LateQuotes<T> {
        LateQuotes::default()
    }

    /// Remembers a quote, by its [`Needle::fingerprint`], under `tag`.
    pub fn add(&mut self, fingerprint: Fingerprint, tag: T) {
        self.added.push((fingerprint, tag));
    }

    /// The tags of the remembered quotes that `haystack` may hold (it holds
    /// the words of their longest piece in a row): a superset of those it
    /// holds, and in practice the same set.
    pub fn candidates(&mut self, haystack: &Haystack) -> FxHashSet<T> {
        if !self.added.is_empty() {
            let mut all: Vec<(Fingerprint, T)> = std::mem::take(&mut self.added);
            all.extend(self.fingerprints.drain(..).zip(self.tags.drain(..)));
            all.sort_unstable();
            (self.fingerprints, self.tags) = all.into_iter().unzip();
        }
        let mut tags = FxHashSet::default();
        haystack.holds_words(&self.fingerprints, |i| {
            tags.insert(self.tags[i]);
        });
        tags
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(path: &str) -> FoundIn {
        FoundIn {
            path: path.into(),
            title: path.trim_end_matches(".txt").into(),
        }
    }

    fn corpus() -> RawCorpus {
        let mut corpus = RawCorpus::new();
        corpus.add(
            at("b.txt"),
            &[
                "Kites fly when the wind is steady.",
                "Nobody flies kites in a storm.",
            ],
        );
        corpus.add(
            at("a.txt"),
            &["Some say kites fly when the wind is steady."],
        );
        corpus.add(at("c.txt"), &["Boats sail when the wind is steady."]);
        corpus.seal();
        corpus
    }

    #[test]
    fn a_quote_is_found_in_every_raw_text_holding_it_in_path_order() {
        let needle = Needle::new("“Kites fly when the wind is steady.”").unwrap();
        assert_eq!(corpus().find(&needle), [at("a.txt"), at("b.txt")]);
        let needle = Needle::new("when the wind is steady").unwrap();
        assert_eq!(corpus().find(&needle).len(), 3);
    }

    #[test]
    fn a_quote_held_nowhere_is_found_nowhere() {
        let needle = Needle::new("Kites fly when the wind is gusty.").unwrap();
        assert!(corpus().find(&needle).is_empty());
        let needle = Needle::new("Planes fly when the wind is steady.").unwrap();
        assert!(corpus().find(&needle).is_empty());
    }

    #[test]
    fn the_same_text_twice_at_one_place_is_listed_once() {
        let mut corpus = RawCorpus::new();
        corpus.add(at("x.jsonl"), &["one two three four"]);
        corpus.add(at("x.jsonl"), &["one two three four five"]);
        corpus.seal();
        let needle = Needle::new("two three four").unwrap();
        assert_eq!(corpus.find(&needle), [at("x.jsonl")]);
    }

    #[test]
    fn a_batch_merged_in_place_keeps_the_pairs_sorted() {
        let mut sorted = vec![(1, 0), (4, 0), (9, 1)];
        merge_in_place(&mut sorted, &[(0, 2), (4, 2), (10, 2)]);
        assert_eq!(sorted, [(0, 2), (1, 0), (4, 0), (4, 2), (9, 1), (10, 2)]);
        merge_in_place(&mut sorted, &[]);
        assert_eq!(sorted.len(), 6);
        let mut empty = Vec::new();
        merge_in_place(&mut empty, &[(3, 1)]);
        assert_eq!(empty, [(3, 1)]);
    }

    #[test]
    fn late_raw_text_names_the_quotes_it_holds() {
        let fingerprint = |quote: &str| Needle::new(quote).unwrap().fingerprint;
        let mut late = LateQuotes::new();
        late.add(fingerprint("Kites fly when the wind is steady."), 7);
        late.add(fingerprint("Boats sink in a storm."), 8);
        late.add(fingerprint("Kites fly when it rains."), 9);
        late.add(
            fingerprint("Kites fly when the wind is steady and warm."),
            10,
        );
        let raw = Haystack::new(&["Kites fly when the wind is steady, mostly."]);
        assert_eq!(late.candidates(&raw), [7].into_iter().collect());
        late.add(fingerprint("the wind is steady"), 11);
        assert_eq!(late.candidates(&raw), [7, 11].into_iter().collect());
    }

    /// Every quote of a generated corpus is looked up against every raw text
    /// both ways; the indexed matcher must agree with the pairwise scan.
    #[test]
    fn the_indexed_matcher_agrees_with_checking_every_pair() {
        let words = [
            "alpha", "beta", "gamma", "delta", "kite", "wind", "the", "a",
        ];
        let mut next = xorshift(0x2545_f491_4f6c_dd1d);
        let mut corpus = RawCorpus::new();
        let mut texts = Vec::new();
        for i in 0..40 {
            let text: Vec<&str> = (0..60).map(|_| words[next(words.len())]).collect();
            let text = text.join(" ");
            corpus.add(at(&format!("{i}.txt")), &[text.as_str()]);
            texts.push(Haystack::new(&[text]));
            if i % 7 == 0 {
                corpus.seal(); // sealed in batches, as an ingest does
            }
        }
        corpus.seal();
        let mut found = 0;
        for _ in 0..400 {
            let quote: Vec<&str> = (0..4).map(|_| words[next(words.len())]).collect();
            let needle = Needle::new(&quote.join(" ")).unwrap();
            let expected: Vec<FoundIn> = (texts.iter().enumerate())
                .filter(|(_, t)| t.contains(&needle))
                .map(|(i, _)| at(&format!("{i}.txt")))
                .collect();
            let mut expected = expected;
            expected.sort();
            assert_eq!(corpus.find(&needle), expected, "{quote:?}");
            found += usize::from(!expected.is_empty());
        }
        assert!(found > 20, "the test must exercise matches: {found}");
    }
}

#[cfg(test)]
mod golden_tests;

/// A fixed stream of numbers below the `n` asked each time (xorshift64), for
/// tests that generate text.
#[cfg(test)]
fn xorshift(mut seed: u64) -> impl FnMut(usize) -> usize {
    move |n| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    }
}
