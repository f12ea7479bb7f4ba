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
/// The index has a slot for each value of a shingle hash's top
/// 16 bits (`SLOT_BITS`), and keeps, slot after slot, the texts holding a
/// shingle of that slot, in the order they were added, as the steps from
/// one text's number to the next (`push_step`: one byte a shingle, but for
/// the rare step of 255 texts or more). A lookup reads one slot: a few
/// hundred texts, most holding another shingle of the slot, so a quote is
/// compared only with the texts found in the slots of every one of its
/// shingles. Texts are added in batches and [`RawCorpus::seal`] moves each
/// batch in, in place. (Pairs of a 32-bit hash and a text took six times
/// the memory: 124 MiB for the 20,000 raw pages of 1,000,000 generated
/// pages, and each text's number whole, 62 MiB; 16-bit steps in 2^20 slots,
/// 31 MiB and a 4 MiB directory; a directory that grew with them could not
/// be refined without the hashes.)
///
/// The texts themselves are needed only to compare a quote with the few
/// texts that hold all its shingles, so where they are kept is the caller's
/// choice ([`Texts`]): in memory (`Vec<Haystack>`, the default), or, in an
/// ingest of a large corpus, in a scratch file.
#[derive(Debug, Default)]
pub struct RawCorpus<T = Vec<Haystack>> {
    places: Vec<FoundIn>,
    texts: T,
    /// The texts of each slot, slot after slot, as steps (`push_step`).
    by_slot: Vec<u8>,
    /// (slot, text) of the texts added since the last seal.
    unsealed: Vec<(u32, u32)>,
    /// Where each slot's steps start in `by_slot` (one more entry at the
    /// end: the length); empty before the first seal.
    directory: Vec<u32>,
}

/// Bits of a shingle hash that choose its slot: 2^16 slots (a 256 KiB
/// directory), about 240 shingles a slot for the raw pages of 1,000,000
/// generated pages. Fewer bits make a slot's steps shorter (one byte holds
/// most) but its list longer: with 2^16 slots a text of 780 shingles is in
/// one slot of 84, so a quote of two shingles or more has in practice no
/// other candidate than the texts holding it.
const SLOT_BITS: u32 = 16;

/// The slot of a shingle.
fn slot(shingle: u64) -> u32 {
    (shingle >> (64 - SLOT_BITS)) as u32
}

/// The unit that says a step is written whole in the next four units.
const WIDE: u8 = u8::MAX;

/// Writes the step from a slot's last text number to its next (from 0 for
/// its first): one unit, or for a step of [`WIDE`] or more, `WIDE` and the
/// step in four units, low byte first. With 780 shingles a text, as in the
/// generated raw pages, a slot gets a text about every 84, whatever the
/// number of texts: a step fits in one unit 19 times in 20.
fn push_step(units: &mut Vec<u8>, step: u32) {
    if step < u32::from(WIDE) {
        units.push(step as u8);
    } else {
        units.push(WIDE);
        units.extend(step.to_le_bytes());
    }
}

/// The text numbers that a slot's steps spell, in order.
fn texts_of(units: &[u8]) -> impl Iterator<Item = u32> + '_ {
    let mut at = 0;
    let mut text = 0u32;
    std::iter::from_fn(move || {
        let step = match *units.get(at)? {
            WIDE => {
                let whole = units[at + 1..at + 5].try_into().expect("four units");
                at += 5;
                u32::from_le_bytes(whole)
            }
            unit => {
                at += 1;
                u32::from(unit)
            }
        };
        text += step;
        Some(text)
    })
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
            by_slot: Vec::new(),
            unsealed: Vec::new(),
            directory: Vec::new(),
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
        self.unsealed
            .extend(shingles.into_iter().map(|s| (slot(s), id)));
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
        if self.unsealed.is_empty() {
            return Ok(());
        }
        let slots = 1usize << SLOT_BITS;
        if self.directory.is_empty() {
            self.directory = vec![0; slots + 1];
        }
        let mut new = std::mem::take(&mut self.unsealed);
        new.sort_unstable();
        new.dedup();
        // The new texts of a slot are numbered after its old ones: their
        // steps go after the old steps, from its last old text on.
        let steps_of = |old: &[u8], group: &[(u32, u32)], steps: &mut Vec<u8>| {
            steps.clear();
            let mut last = texts_of(old).last().unwrap_or(0);
            for &(_, text) in group {
                push_step(steps, text - last);
                last = text;
            }
        };
        // Each slot's steps are made twice, here to count them and below
        // to write them, rather than kept: kept, they and their slots would
        // take about as much memory again as `new` at the seal's peak.
        let mut steps = Vec::new();
        let mut added = 0;
        for group in new.chunk_by(|a, b| a.0 == b.0) {
            steps_of(self.holding_slot(group[0].0 as usize), group, &mut steps);
            added += steps.len();
        }
        // From the last slot back: each slot's steps move up by the number
        // of new ones in the slots before it, and its new steps go after
        // them. Nothing is moved over what has yet to move.
        let mut end = self.by_slot.len() + added;
        self.by_slot.reserve_exact(added);
        self.by_slot.resize(end, 0);
        let mut groups = new.chunk_by(|a, b| a.0 == b.0).rev().peekable();
        for at in (0..slots).rev() {
            let (from, to) = (self.directory[at] as usize, self.directory[at + 1] as usize);
            self.directory[at + 1] = end as u32;
            if let Some(group) = groups.next_if(|group| group[0].0 as usize == at) {
                steps_of(&self.by_slot[from..to], group, &mut steps);
                self.by_slot[end - steps.len()..end].copy_from_slice(&steps);
                end -= steps.len();
            }
            self.by_slot.copy_within(from..to, end - (to - from));
            end -= to - from;
        }
        debug_assert_eq!(end, 0);
        self.directory[0] = 0;
        Ok(())
    }

    /// The steps of the texts in the slot of `shingle` (sealed texts only):
    /// those holding it among others, each once, in the order added.
    fn holding(&self, shingle: u64) -> &[u8] {
        self.holding_slot(slot(shingle) as usize)
    }

    /// The steps of slot `at` ([`RawCorpus::holding`]).
    fn holding_slot(&self, at: usize) -> &[u8] {
        if self.directory.is_empty() {
            return &[];
        }
        let (from, to) = (self.directory[at] as usize, self.directory[at + 1] as usize);
        &self.by_slot[from..to]
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
        // Each slot's texts are in the order added, by number.
        let mut candidates: Vec<u32> = texts_of(rarest).collect();
        for list in others {
            let mut texts = texts_of(list).peekable();
            candidates.retain(|id| {
                while texts.next_if(|text| text < id).is_some() {}
                texts.peek() == Some(id)
            });
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

    /// Texts added over many seals are all found, each where a quote of it
    /// is, and nowhere else: the slots keep every batch.
    #[test]
    fn texts_sealed_in_many_batches_are_all_found() {
        let mut corpus = RawCorpus::new();
        let text = |i: usize| format!("kite {i} flies over hill {} in wind {}", i * 7, i % 5);
        for i in 0..300 {
            corpus.add(at(&format!("{i:03}.txt")), &[text(i)]);
            if i % 37 == 0 {
                corpus.seal();
            }
        }
        corpus.seal();
        corpus.seal();
        for i in [0, 1, 36, 37, 38, 150, 299] {
            let needle = Needle::new(&text(i)).unwrap();
            assert_eq!(corpus.find(&needle), [at(&format!("{i:03}.txt"))], "{i}");
        }
        // Held by every text with wind 3 (i % 5 == 3).
        let needle = Needle::new("in wind 3").unwrap();
        let held = (0..300).filter(|i| text(*i).ends_with("in wind 3")).count();
        assert_eq!(corpus.find(&needle).len(), held);
        assert!(held > 10);
    }

    /// Steps of 255 texts or more are written whole and read back.
    #[test]
    fn a_slots_steps_spell_its_texts_back_whatever_their_gaps() {
        let texts = [0, 1, 5, 254, 254 + 255, 200_000, 200_001, u32::MAX];
        let mut units = Vec::new();
        let mut last = 0;
        for text in texts {
            push_step(&mut units, text - last);
            last = text;
        }
        assert_eq!(texts_of(&units).collect::<Vec<_>>(), texts);
        assert_eq!(units.len(), texts.len() + 3 * 4);
    }

    /// A text added 70,000 texts after another in the same slots is found
    /// with it, over several seals.
    #[test]
    fn texts_far_apart_in_number_are_both_found() {
        let mut corpus = RawCorpus::new();
        corpus.add(at("first.txt"), &["shared kite words"]);
        for i in 0..70_000 {
            corpus.add(at("filler.txt"), &[format!("w{i} x{i} y{i}")]);
            if i % 30_000 == 0 {
                corpus.seal();
            }
        }
        corpus.add(at("last.txt"), &["shared kite words"]);
        corpus.seal();
        let needle = Needle::new("shared kite words").unwrap();
        assert_eq!(corpus.find(&needle), [at("first.txt"), at("last.txt")]);
        let needle = Needle::new("w69999 x69999 y69999").unwrap();
        assert_eq!(corpus.find(&needle), [at("filler.txt")]);
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
