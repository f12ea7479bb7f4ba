//! Typo tolerance: a query word the index does not hold, or holds far less
//! often than a close spelling, also matches that spelling.
//!
//! How close, by the word's length (as Meilisearch does): no edit under
//! [`SHORTEST`] letters, one up to [`ONE_EDIT_UP_TO`], two beyond; an edit is
//! a letter dropped, added, changed, or two neighbours swapped. Candidates
//! come from the words the index holds, walked with a Levenshtein
//! automaton: the commit's word list ([`crate::word_list`]) when the write
//! run kept one, each segment's term dictionaries otherwise.
//!
//! The dictionaries hold stems (`grokking` is `grokk`), and a typo often
//! lands in the ending the stemmer would have cut (`grokkng` stems to
//! itself). So the automaton matches terms close to any *beginning* of the
//! typed word, and a candidate counts only if the rest of the word is within
//! the remaining edits of an English ending that the stemmer removes from
//! that very stem: `grokk` + `ng` is one edit from `grokk` + `ing`, and the
//! stem of `grokking` is `grokk`. That word, `grokking`, is what the
//! response shows as the correction.

use std::cell::RefCell;
use std::sync::Arc;

use rustc_hash::FxHashMap;
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::tokenizer::{AsciiFoldingFilter, LowerCaser, RawTokenizer, TextAnalyzer};
use tantivy::{DocAddress, DocSet, Searcher, SegmentReader, Term, TERMINATED};
use tantivy_fst::{Automaton, IntoStreamer, Streamer};

use crate::analyzer::word_term;
use crate::schema::Fields;
use crate::spelling::AmericanSpelling;
use crate::word_list::{self, Words};

/// Words shorter than this many letters are never corrected.
pub(crate) const SHORTEST: usize = 5;
/// Words up to this many letters get one edit; longer words two.
pub(crate) const ONE_EDIT_UP_TO: usize = 8;
/// Longer words are not corrected (the automaton's rows have this many cells).
const LONGEST: usize = 24;
/// A candidate must be this many times more common than the word as typed,
/// when the index holds the word as typed at all.
const FAR_RARER: u64 = 20;
/// A word found in more records than this (or than one in
/// [`RARE_SHARE`] records, when that is more) is never corrected.
const RARE_RECORDS: u64 = 3;
/// See [`RARE_RECORDS`].
const RARE_SHARE: u64 = 10_000;
/// Shortest stem a word is corrected to.
const SHORTEST_STEM: usize = 3;
/// How many records holding a correction are read for how they write it.
const WRITTEN_RECORDS: usize = 16;

/// English endings the stemmer removes or rewrites; a candidate stem plus
/// one of them must stem back to the candidate.
#[rustfmt::skip]
const ENDINGS: &[&str] = &[
    "", "e", "s", "es", "ed", "ing", "ings", "y", "ies", "ied", "ly", "ily",
    "al", "als", "ally", "ial", "ic", "ics", "ical", "ically",
    "ion", "ions", "ional", "ation", "ations", "ational", "ization", "izations",
    "ive", "ives", "ively", "ivity", "ness", "ment", "ments", "ity", "ities",
    "ize", "izes", "ized", "izing", "izer", "izers",
    "ate", "ates", "ated", "ating", "ator", "ators", "ative",
    "er", "ers", "or", "ors", "able", "ably", "ible", "ability",
    "ful", "fully", "ous", "ously", "ence", "ences", "ent", "ently",
    "ance", "ances", "ant", "ants", "ism", "isms", "ist", "ists",
];

/// A word of the query and the spelling searched for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Corrected {
    /// The word as typed.
    pub from: String,
    /// The word searched for instead (`grokking` for `grokkng`).
    pub to: String,
    /// Its term in the index (`grokk`).
    pub term: String,
    /// Whether the index holds the word as typed in no record: then the
    /// search needs only the correction.
    pub typed_absent: bool,
}

/// The typo corrections of one request, each word looked up once (a query
/// is read twice: as any word and as every word).
pub(crate) struct Corrections<'a> {
    searcher: &'a Searcher,
    fields: [Field; 3],
    text_of: &'a TextOf<'a>,
    words: &'a WordsOf<'a>,
    found: RefCell<Vec<(String, Option<Corrected>)>>,
}

impl<'a> Corrections<'a> {
    /// Corrections from the terms of the searchable fields of `searcher`'s
    /// commit, shown as `text_of` reads them in a record. `words` reads
    /// the commit's word list, if the write run kept it, when a word is
    /// looked up.
    pub(crate) fn new(
        searcher: &'a Searcher,
        fields: &Fields,
        text_of: &'a TextOf<'a>,
        words: &'a WordsOf<'a>,
    ) -> Corrections<'a> {
        Corrections {
            searcher,
            fields: word_list::fields(fields),
            text_of,
            words,
            found: RefCell::new(Vec::new()),
        }
    }

    /// The correction of one plain word as typed, if it needs one.
    pub(crate) fn of(&self, word: &str) -> tantivy::Result<Option<Corrected>> {
        if let Some((_, found)) = self.found.borrow().iter().find(|(w, _)| w == word) {
            return Ok(found.clone());
        }
        let speller = Speller::new(self.searcher, &self.fields, self.text_of);
        let found = speller.with_words(self.words).correct(word)?;
        (self.found.borrow_mut()).push((word.to_string(), found.clone()));
        Ok(found)
    }

    /// The corrections made, once each, in query order.
    pub(crate) fn made(&self) -> Vec<super::Correction> {
        let found = self.found.borrow();
        let made = found.iter().filter_map(|(_, found)| found.as_ref());
        made.map(|c| super::Correction {
            from: c.from.clone(),
            to: c.to.clone(),
        })
        .collect()
    }
}

/// How many edits a word of `letters` letters may get.
pub(crate) fn edits_allowed(letters: usize) -> u8 {
    match letters {
        n if n < SHORTEST => 0,
        n if n <= ONE_EDIT_UP_TO => 1,
        _ => 2,
    }
}

/// The text of a record (its own text and title), to find how a corrected
/// word is written there.
pub(crate) type TextOf<'a> = dyn Fn(DocAddress) -> Option<String> + 'a;

/// Reads the commit's word list ([`word_list`]), if it was kept.
pub(crate) type WordsOf<'a> = dyn Fn() -> Option<Arc<Words>> + 'a;

/// Finds corrections in the term dictionaries of some fields.
pub(crate) struct Speller<'a> {
    searcher: &'a Searcher,
    fields: &'a [Field],
    text_of: &'a TextOf<'a>,
    /// Reads the commit's word list, walked instead of each segment's
    /// dictionaries: only for the fields it lists.
    words: Option<&'a WordsOf<'a>>,
}

impl<'a> Speller<'a> {
    /// A speller over the terms of `fields` (analysed text fields), showing
    /// corrections as they are written in the records `text_of` reads.
    pub(crate) fn new(
        searcher: &'a Searcher,
        fields: &'a [Field],
        text_of: &'a TextOf<'a>,
    ) -> Speller<'a> {
        Speller {
            searcher,
            fields,
            text_of,
            words: None,
        }
    }

    /// This speller, finding its candidates in the word list `words` reads
    /// (of the searcher's commit, over the same fields:
    /// [`word_list::fields`]) when there is one.
    pub(crate) fn with_words(self, words: &'a WordsOf<'a>) -> Speller<'a> {
        Speller {
            words: Some(words),
            ..self
        }
    }

    /// A word of a record holding `term`, lowercased, as the record writes
    /// it (`convergence`, where the ending alone could also be `ance`): of
    /// the words of up to [`WRITTEN_RECORDS`] records, the closest to
    /// `typed`, so that `memorzation` reads as `memorization` and not as
    /// the `memorize` of the first record found. Looks no further once a
    /// word is within `enough` edits.
    fn written(&self, term: &str, typed: &str, enough: u8) -> tantivy::Result<Option<String>> {
        let wanted = term;
        let mut best: Option<(u8, String)> = None;
        let mut records = 0;
        for (ord, segment) in self.searcher.segment_readers().iter().enumerate() {
            for &field in self.fields {
                let term = Term::from_field_text(field, wanted);
                let inverted = segment.inverted_index(field)?;
                let Some(mut postings) = inverted.read_postings(&term, IndexRecordOption::Basic)?
                else {
                    continue;
                };
                while postings.doc() != TERMINATED && records < WRITTEN_RECORDS {
                    let doc = postings.doc();
                    postings.advance();
                    if segment.is_deleted(doc) {
                        continue;
                    }
                    records += 1;
                    let Some(text) = (self.text_of)(DocAddress::new(ord as u32, doc)) else {
                        continue;
                    };
                    let words = text.split(|c: char| !c.is_alphanumeric());
                    for word in words.filter(|word| word_term(word).as_deref() == Some(wanted)) {
                        let word = word.to_lowercase();
                        let edits = distance(word.as_bytes(), typed.as_bytes());
                        if best.as_ref().is_none_or(|(b, _)| edits < *b) {
                            best = Some((edits, word));
                        }
                    }
                    if best.as_ref().is_some_and(|(b, _)| *b <= enough) {
                        return Ok(best.map(|(_, word)| word));
                    }
                }
            }
        }
        Ok(best.map(|(_, word)| word))
    }

    /// Records holding `term` in the field where it is most common.
    fn doc_freq(&self, term: &str) -> tantivy::Result<u64> {
        let mut most = 0;
        for &field in self.fields {
            most = most.max(
                self.searcher
                    .doc_freq(&Term::from_field_text(field, term))?,
            );
        }
        Ok(most)
    }

    /// The correction of `word` (one word as typed), if it needs one and the
    /// index has one: the closest spelling, the most common of equally close
    /// ones.
    pub(crate) fn correct(&self, word: &str) -> tantivy::Result<Option<Corrected>> {
        let Some(surface) = surface(word) else {
            return Ok(None);
        };
        let edits = edits_allowed(surface.len());
        let Some(typed) = word_term(word) else {
            return Ok(None);
        };
        if edits == 0 {
            return Ok(None);
        }
        let typed_records = self.doc_freq(&typed)?;
        let rare = RARE_RECORDS.max(self.searcher.num_docs() / RARE_SHARE);
        if typed_records > rare {
            return Ok(None);
        }
        let needed = if typed_records == 0 {
            1
        } else {
            typed_records * FAR_RARER
        };

        let candidates = match self.words.and_then(|words| words()) {
            Some(words) => self.listed(&words, &surface, edits, &typed),
            None => self.walked(&surface, edits, &typed)?,
        };

        // The best candidate so far and how the typed word reads as it.
        let mut best: Option<(Rank, String)> = None;
        for (term, records) in candidates {
            let Some(reading) = reading(&surface, &term, edits) else {
                continue;
            };
            if records < needed {
                continue;
            }
            let key = (
                reading.edits,
                std::cmp::Reverse(records),
                reading.stem_edits,
                term,
            );
            if best.as_ref().is_none_or(|(b, _)| key < *b) {
                best = Some((key, reading.word));
            }
        }
        let Some(((edits, _, _, term), read)) = best else {
            return Ok(None);
        };
        Ok(Some(Corrected {
            from: word.to_string(),
            to: self.written(&term, &surface, edits)?.unwrap_or(read),
            term,
            typed_absent: typed_records == 0,
        }))
    }
}

impl Speller<'_> {
    /// The terms within `edits` of a beginning of `surface` (but `typed`,
    /// the word's own term), each with the records holding it in the field
    /// where most do: from the commit's word list, in one walk.
    fn listed(&self, words: &Words, surface: &str, edits: u8, typed: &str) -> Vec<(String, u64)> {
        let automaton = NearBeginning::new(surface.as_bytes(), edits);
        let mut stream = words.search(&automaton).into_stream();
        let mut found = Vec::new();
        while let Some((term, records)) = stream.next() {
            if let Ok(term) = std::str::from_utf8(term) {
                if term != typed {
                    found.push((term.to_string(), records));
                }
            }
        }
        found
    }

    /// [`Speller::listed`], from each segment's dictionaries, walked on the
    /// search threads, each term's records counted per field as it is
    /// found (what `Searcher::doc_freq` would add up afterwards).
    fn walked(&self, surface: &str, edits: u8, typed: &str) -> tantivy::Result<Vec<(String, u64)>> {
        let fields = self.fields;
        let per_segment = (self.searcher.index().search_executor()).map(
            |segment: &SegmentReader| {
                let automaton = NearBeginning::new(surface.as_bytes(), edits);
                let mut found: Vec<(String, usize, u64)> = Vec::new();
                for (f, &field) in fields.iter().enumerate() {
                    let inverted = segment.inverted_index(field)?;
                    let mut stream = inverted.terms().search(&automaton).into_stream()?;
                    while stream.advance() {
                        if !word_list::correctable(stream.key()) {
                            continue;
                        }
                        if let Ok(term) = std::str::from_utf8(stream.key()) {
                            if term != typed {
                                let records = u64::from(stream.value().doc_freq);
                                found.push((term.to_string(), f, records));
                            }
                        }
                    }
                }
                Ok(found)
            },
            self.searcher.segment_readers().iter(),
        )?;
        let mut terms: FxHashMap<String, Vec<u64>> = FxHashMap::default();
        for (term, field, records) in per_segment.into_iter().flatten() {
            let by_field = terms.entry(term).or_insert_with(|| vec![0; fields.len()]);
            by_field[field] += records;
        }
        Ok((terms.into_iter())
            .map(|(term, by_field)| (term, by_field.into_iter().max().unwrap_or(0)))
            .collect())
    }
}

/// How a candidate ranks, best first: fewest edits, then most records, then
/// fewest edits before the ending, then the term.
type Rank = (u8, std::cmp::Reverse<u64>, u8, String);

/// The word as the analyzer sees it before stemming (lowercased, accents
/// folded, American spelling), if it is made of ASCII letters only and not
/// too long to correct.
fn surface(word: &str) -> Option<String> {
    thread_local! {
        static CHAIN: RefCell<TextAnalyzer> = RefCell::new(
            TextAnalyzer::builder(RawTokenizer::default())
                .filter(LowerCaser)
                .filter(AsciiFoldingFilter)
                .filter(AmericanSpelling)
                .build(),
        );
    }
    let surface = CHAIN.with_borrow_mut(|chain| {
        let mut stream = chain.token_stream(word);
        stream.next().map(|token| token.text.clone())
    })?;
    let letters = surface.bytes().all(|b| b.is_ascii_lowercase());
    (letters && surface.len() <= LONGEST).then_some(surface)
}

/// How a typed word reads as a candidate stem plus an ending.
#[derive(Debug, PartialEq, Eq)]
struct Reading {
    /// Edits from the typed word to `word`.
    edits: u8,
    /// Of those, edits between the stem and the beginning of the typed word.
    stem_edits: u8,
    /// The stem plus the ending: a word whose stem is the candidate.
    word: String,
}

/// The closest reading of `typed` as `stem` plus an ending, within `edits`
/// edits, whose stem is really `stem`.
fn reading(typed: &str, stem: &str, edits: u8) -> Option<Reading> {
    if stem.len() < SHORTEST_STEM {
        return None;
    }
    let beginnings = distances_to_beginnings(stem.as_bytes(), typed.as_bytes());
    let mut readings = Vec::new();
    for (j, &stem_edits) in beginnings.iter().enumerate() {
        if stem_edits > edits {
            continue;
        }
        let rest = &typed[j..];
        for ending in ENDINGS {
            if rest.len().abs_diff(ending.len()) > usize::from(edits - stem_edits) {
                continue;
            }
            let total = stem_edits + distance(rest.as_bytes(), ending.as_bytes());
            if total <= edits {
                readings.push((total, stem_edits, *ending));
            }
        }
    }
    readings.sort();
    readings.dedup_by(|a, b| a.2 == b.2);
    readings
        .into_iter()
        .find_map(|(total, stem_edits, ending)| {
            let word = format!("{stem}{ending}");
            (word_term(&word).as_deref() == Some(stem)).then_some(Reading {
                edits: total,
                stem_edits,
                word,
            })
        })
}

/// Edit distance (optimal string alignment: a swap of neighbours is one
/// edit) between `a` and every beginning of `b`, `b[..j]` at index `j`.
fn distances_to_beginnings(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut rows = Rows::start(b.len());
    for &byte in a {
        rows = rows.accept(b, byte);
    }
    rows.row[..=b.len()].to_vec()
}

/// Edit distance between `a` and `b` (optimal string alignment).
fn distance(a: &[u8], b: &[u8]) -> u8 {
    distances_to_beginnings(a, b)[b.len()]
}

/// The last two rows of the edit-distance table between the bytes read so
/// far and every beginning of the typed word.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Rows {
    previous: [u8; LONGEST + 1],
    row: [u8; LONGEST + 1],
    last: Option<u8>,
}

/// Larger than any distance that matters; sums saturate at 255.
const FAR: u8 = 100;

impl Rows {
    fn start(len: usize) -> Rows {
        let mut row = [FAR; LONGEST + 1];
        for (j, cell) in row.iter_mut().enumerate().take(len + 1) {
            *cell = j as u8;
        }
        Rows {
            previous: [FAR; LONGEST + 1],
            row,
            last: None,
        }
    }

    fn accept(&self, word: &[u8], byte: u8) -> Rows {
        let mut next = [FAR; LONGEST + 1];
        next[0] = self.row[0].saturating_add(1).min(FAR);
        for j in 1..=word.len() {
            let changed = u8::from(word[j - 1] != byte);
            let mut cell = (self.row[j] + 1)
                .min(next[j - 1] + 1)
                .min(self.row[j - 1] + changed);
            if j >= 2 && byte == word[j - 2] && self.last == Some(word[j - 1]) {
                cell = cell.min(self.previous[j - 2] + 1);
            }
            next[j] = cell.min(FAR);
        }
        Rows {
            previous: self.row,
            row: next,
            last: Some(byte),
        }
    }
}

/// Matches the terms within `edits` of a beginning of the typed word long
/// enough that the rest could be an ending in [`ENDINGS`] (give or take the
/// edits left).
///
/// A walk over a term dictionary takes the same few steps at thousands of
/// its nodes, so the automaton is built as it is walked: each state is
/// kept the first time it is reached, as [`Rows`] cut at `edits + 1` (a
/// larger distance is never within the edits again), and each step from it
/// is computed once.
struct NearBeginning<'w> {
    word: &'w [u8],
    edits: u8,
    /// Shortest beginning of the word a term may be close to.
    shortest: usize,
    states: RefCell<States>,
}

/// The states of a [`NearBeginning`] reached so far.
#[derive(Default)]
struct States {
    /// Each state's rows and bytes read (at most [`SHORTEST_STEM`]).
    cells: Vec<(Rows, usize)>,
    ids: FxHashMap<(Rows, usize), u32>,
    /// `steps[state * 256 + byte]`: the state reached, [`NOT_YET`] before
    /// it is computed.
    steps: Vec<u32>,
    /// Whether each state matches, and whether any state after it can.
    matches: Vec<bool>,
    can_match: Vec<bool>,
}

/// A step not computed yet.
const NOT_YET: u32 = u32::MAX;

impl<'w> NearBeginning<'w> {
    fn new(word: &'w [u8], edits: u8) -> NearBeginning<'w> {
        let longest_ending = ENDINGS.iter().map(|e| e.len()).max().unwrap_or(0);
        let shortest = (word
            .len()
            .saturating_sub(longest_ending + usize::from(edits)))
        .max(SHORTEST_STEM);
        let automaton = NearBeginning {
            word,
            edits,
            shortest,
            states: RefCell::new(States::default()),
        };
        automaton.state_of(Rows::start(word.len()), 0);
        automaton
    }

    /// The state of these rows after `read` bytes, kept if new.
    fn state_of(&self, mut rows: Rows, read: usize) -> u32 {
        let cut = self.edits + 1;
        for cell in (rows.row.iter_mut()).chain(rows.previous.iter_mut()) {
            *cell = (*cell).min(cut);
        }
        // The last byte matters only as a letter of the word (a swap).
        if rows.last.is_some_and(|byte| !self.word.contains(&byte)) {
            rows.last = None;
        }
        let read = read.min(SHORTEST_STEM);
        let mut states = self.states.borrow_mut();
        if let Some(&id) = states.ids.get(&(rows, read)) {
            return id;
        }
        let id = states.cells.len() as u32;
        let cells = ..=self.word.len();
        let matches = read >= SHORTEST_STEM
            && (rows.row[self.shortest.min(self.word.len())..=self.word.len()])
                .iter()
                .any(|&d| d <= self.edits);
        let can_match = rows.row[cells].iter().any(|&d| d <= self.edits)
            || rows.previous[cells].iter().any(|&d| d < self.edits);
        states.cells.push((rows, read));
        states.ids.insert((rows, read), id);
        states.steps.extend([NOT_YET; 256]);
        states.matches.push(matches);
        states.can_match.push(can_match);
        id
    }
}

impl Automaton for NearBeginning<'_> {
    type State = u32;

    fn start(&self) -> u32 {
        0
    }

    fn is_match(&self, state: &u32) -> bool {
        self.states.borrow().matches[*state as usize]
    }

    fn can_match(&self, state: &u32) -> bool {
        self.states.borrow().can_match[*state as usize]
    }

    fn accept(&self, state: &u32, byte: u8) -> u32 {
        let at = *state as usize * 256 + usize::from(byte);
        let (next, (rows, read)) = {
            let states = self.states.borrow();
            (states.steps[at], states.cells[*state as usize])
        };
        if next != NOT_YET {
            return next;
        }
        let next = self.state_of(rows.accept(self.word, byte), read + 1);
        self.states.borrow_mut().steps[at] = next;
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Kind, Record};
    use crate::schema::{self, Fields};
    use tantivy::schema::Value;

    #[test]
    fn edits_grow_with_the_word() {
        assert_eq!(edits_allowed(4), 0);
        assert_eq!(edits_allowed(5), 1);
        assert_eq!(edits_allowed(8), 1);
        assert_eq!(edits_allowed(9), 2);
    }

    #[test]
    fn distances_count_a_swap_as_one_edit() {
        assert_eq!(distance(b"grokking", b"grokking"), 0);
        assert_eq!(distance(b"grokkng", b"grokking"), 1);
        assert_eq!(distance(b"gorkking", b"grokking"), 1);
        assert_eq!(distance(b"grokkingg", b"grokking"), 1);
        assert_eq!(distance(b"grpkking", b"grokking"), 1);
        assert_eq!(distance(b"kitten", b"sitting"), 3);
        assert_eq!(
            distances_to_beginnings(b"grok", b"grokkng"),
            [4, 3, 2, 1, 0, 1, 2, 3]
        );
    }

    /// The automaton matches exactly the terms within the edits of a long
    /// enough beginning of the word.
    #[test]
    fn the_automaton_agrees_with_the_distances() {
        let word = b"generalizaton";
        let automaton = NearBeginning::new(word, 2);
        for term in [
            "general",
            "gener",
            "generalize",
            "genral",
            "gene",
            "ground",
            "xyz",
        ] {
            let mut state = automaton.start();
            for &byte in term.as_bytes() {
                state = automaton.accept(&state, byte);
            }
            let expected = term.len() >= SHORTEST_STEM
                && distances_to_beginnings(term.as_bytes(), word)[automaton.shortest..]
                    .iter()
                    .any(|&d| d <= 2);
            assert_eq!(automaton.is_match(&state), expected, "{term}");
        }
    }

    /// Built as it is walked, with its distances cut at `edits + 1`, the
    /// automaton still matches exactly the terms the distances say, and
    /// never gives up on a beginning of one of them: checked over every
    /// word of the topic list, for typed words of both edit counts.
    #[test]
    fn the_automaton_built_as_walked_matches_what_the_distances_say() {
        let terms: Vec<&str> = (include_str!("../page/words.txt").lines())
            .filter(|l| !l.starts_with('#'))
            .collect();
        assert!(terms.len() > 10_000);
        for typed in [
            "generalizaton",
            "memorzation",
            "grokkng",
            "convegrence",
            "xylophone",
        ] {
            let word = typed.as_bytes();
            let edits = edits_allowed(word.len());
            let automaton = NearBeginning::new(word, edits);
            let mut matched = 0;
            for term in &terms {
                let mut state = automaton.start();
                let mut alive = true;
                for &byte in str::as_bytes(term) {
                    alive &= automaton.can_match(&state);
                    state = automaton.accept(&state, byte);
                }
                let expected = term.len() >= SHORTEST_STEM
                    && distances_to_beginnings(str::as_bytes(term), word)[automaton.shortest..]
                        .iter()
                        .any(|&d| d <= edits);
                assert_eq!(automaton.is_match(&state), expected, "{typed}: {term}");
                if expected {
                    assert!(alive, "{typed}: a beginning of {term} was given up on");
                    matched += 1;
                }
            }
            assert!(matched > 0, "{typed} matched nothing");
        }
    }

    #[test]
    fn a_typed_word_reads_as_a_stem_and_its_ending() {
        let read = |typed, stem, edits| reading(typed, stem, edits).map(|r| (r.edits, r.word));
        assert_eq!(read("grokkng", "grokk", 1), Some((1, "grokking".into())));
        assert_eq!(read("memorzation", "memor", 2).map(|r| r.0), Some(1));
        assert_eq!(read("randm", "random", 1), Some((1, "random".into())));
        // `grow` is one edit from `grok`, but `grow` + `kng` is no word of `grow`.
        assert_eq!(read("grokkng", "grow", 1), None);
        assert_eq!(read("grokkng", "grokk", 0), None);
    }

    fn searcher(texts: &[&str]) -> (Searcher, Fields) {
        searcher_of(texts.iter().map(|t| t.to_string()).collect())
    }

    fn searcher_of(texts: Vec<String>) -> (Searcher, Fields) {
        let index = tantivy::Index::create_in_ram(schema::build());
        crate::analyzer::register_analyzers(&index);
        let fields = Fields::new(&index.schema()).unwrap();
        let mut writer: tantivy::IndexWriter = index.writer(15_000_000).unwrap();
        for (n, text) in texts.iter().enumerate() {
            let record = Record::plain(n.to_string(), Kind::Claim, text, "Notes", "p.txt");
            let indexable = crate::model::Indexable {
                record,
                threads: Vec::new(),
                version_date: None,
            };
            writer.add_document(fields.document(&indexable)).unwrap();
        }
        writer.commit().unwrap();
        (index.reader().unwrap().searcher(), fields)
    }

    /// The text and title of the record at an address of `searcher`, as a
    /// search reads them for [`Speller::written`].
    fn text_of<'a>(
        searcher: &'a Searcher,
        fields: &Fields,
    ) -> impl Fn(DocAddress) -> Option<String> + 'a {
        let record = fields.record;
        move |address| {
            let doc: tantivy::TantivyDocument = searcher.doc(address).ok()?;
            let json = doc.get_first(record)?.as_str()?;
            let record: Record = serde_json::from_str(json).ok()?;
            Some(format!("{} {}", record.text, record.title))
        }
    }

    fn corrected(searcher: &Searcher, fields: &Fields, word: &str) -> Option<(String, String)> {
        let text_of = text_of(searcher, fields);
        let fields = [fields.text, fields.title];
        let speller = Speller::new(searcher, &fields, &text_of);
        (speller.correct(word).unwrap()).map(|c| (c.to, c.term))
    }

    /// The commit's word list, walked once, finds the corrections that
    /// walking each segment's dictionaries finds: the same word, written
    /// the same way, for words of the corpus misspelled in each way.
    #[test]
    fn the_word_list_corrects_as_the_segments_dictionaries_do() {
        let (dir, searcher) = crate::testing::default_corpus();
        let fields = Fields::new(&searcher.schema().clone()).unwrap();
        let words = word_list::of_commit(dir.path(), &searcher).map(Arc::new);
        let common: Vec<String> = {
            let words = words.as_ref().expect("the write run kept the list");
            let mut stream = words.stream();
            let mut common = Vec::new();
            while let Some((word, records)) = stream.next() {
                if word.len() >= 6 && records >= 3 {
                    common.push(String::from_utf8(word.to_vec()).unwrap());
                }
            }
            common
        };
        assert!(common.len() > 20, "{}", common.len());
        let text_of = text_of(&searcher, &fields);
        let listed_fields = word_list::fields(&fields);
        let words_of = || words.clone();
        let (mut looked_up, mut corrected) = (0, 0);
        for word in common.iter().step_by(3).take(40) {
            let middle = word.len() / 2;
            let mut dropped = word.clone();
            dropped.remove(middle);
            let mut swapped = word.clone().into_bytes();
            swapped.swap(middle - 1, middle);
            let swapped = String::from_utf8(swapped).unwrap();
            let doubled = format!("{}{}", &word[..middle], &word[middle - 1..]);
            for typo in [dropped, swapped, doubled, format!("{word}ingz")] {
                let walked = Speller::new(&searcher, &listed_fields, &text_of);
                let listed =
                    Speller::new(&searcher, &listed_fields, &text_of).with_words(&words_of);
                let expected = walked.correct(&typo).unwrap();
                assert_eq!(listed.correct(&typo).unwrap(), expected, "{typo}");
                looked_up += 1;
                corrected += usize::from(expected.is_some());
            }
        }
        assert!(corrected * 2 > looked_up, "{corrected} of {looked_up}");
    }

    #[test]
    fn absent_words_are_corrected_to_the_closest_common_spelling() {
        let mut texts = vec!["grokking appears late in training"; 3];
        texts.push("memorization of random labels");
        texts.push("uniform convergence may fail");
        let (searcher, fields) = searcher(&texts);
        let pair = |a: &str, b: &str| Some((a.to_string(), b.to_string()));
        assert_eq!(
            corrected(&searcher, &fields, "grokkng"),
            pair("grokking", "grokk")
        );
        assert_eq!(
            corrected(&searcher, &fields, "Grokkign"),
            pair("grokking", "grokk")
        );
        assert_eq!(
            corrected(&searcher, &fields, "convergnce"),
            pair("convergence", "converg")
        );
        assert_eq!(
            corrected(&searcher, &fields, "memorisaton"),
            pair("memorization", "memor")
        );
        // As typed, short, too far, or not letters: nothing to do.
        assert_eq!(
            corrected(&searcher, &fields, "labls"),
            pair("labels", "label")
        );
        for word in ["grokking", "grkkng", "lbls", "trainingg2", "uniforms"] {
            assert_eq!(corrected(&searcher, &fields, word), None, "{word}");
        }
    }

    /// The records holding a stem write it several ways; the correction
    /// shows the one closest to what was typed, whichever record comes
    /// first.
    #[test]
    fn a_correction_is_shown_as_the_closest_written_word() {
        let mut texts = vec!["models memorize their labels"; 3];
        texts.push("memorization of random labels");
        texts.push("memorizing is not learning");
        let (searcher, fields) = searcher(&texts);
        let to = |word| corrected(&searcher, &fields, word).map(|(to, _)| to);
        assert_eq!(to("memorzation").as_deref(), Some("memorization"));
        assert_eq!(to("memorzing").as_deref(), Some("memorizing"));
        assert_eq!(to("memorie").as_deref(), Some("memorize"));
    }

    #[test]
    fn a_rare_word_is_corrected_only_to_a_far_commoner_one() {
        let mut texts = vec!["the clinical trial enrolled patients"; 40];
        texts.push("a trail of evidence");
        texts.push("a fossil trackway");
        texts.push("a fossil trackway");
        let (searcher, fields) = searcher(&texts);
        let pair = |a: &str, b: &str| Some((a.to_string(), b.to_string()));
        // `trail` is in one record, `trial` in forty: five letters, one swap.
        assert_eq!(
            corrected(&searcher, &fields, "trail"),
            pair("trial", "trial")
        );
        // `trackways` has no commoner neighbour.
        assert_eq!(corrected(&searcher, &fields, "trackways"), None);
    }
}
