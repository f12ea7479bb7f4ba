//! The words of a commit that typo tolerance may correct a query word to:
//! every term of the searchable fields (`text`, `title`, `topics`) made of
//! at least [`SHORTEST`] lowercase ASCII letters, each once, with the
//! number of records holding it (in the field where most do), in one
//! finite state transducer.
//!
//! A misspelled word is looked up by walking a Levenshtein automaton over
//! term dictionaries. Walking each segment's three dictionaries cost a
//! search at 1,000,000 pages (44 segments, 132 walks) about 8 ms for each
//! misspelled word, while the segments hold mostly the same words: the
//! list takes one walk (BENCHMARKS.md). As Meilisearch keeps one word
//! dictionary for its whole index.
//!
//! The list is made once per commit by the write run that made it and kept
//! beside the index in [`FILE`] ([`crate::commit_file`]), read one segment
//! at a time. When the file does not match the commit (a run killed before
//! writing it, a copy of another index) or is damaged, a search walks each
//! segment's dictionaries instead (`query::typo`): the corrections are the
//! same either way.

use std::ops::{Deref, Range};
use std::path::Path;
use std::sync::Arc;

use memmap2::Mmap;
use tantivy::schema::Field;
use tantivy::{Searcher, SegmentReader};
use tantivy_fst::map::OpBuilder;
use tantivy_fst::{Map, MapBuilder, Streamer};

use crate::commit_file;
use crate::schema::Fields;
use crate::storage::SegmentsAlone;

/// The file, in the index folder, that keeps the word list of the last
/// commit.
pub(crate) const FILE: &str = "words.bin";

const MAGIC: &[u8; 8] = b"CSWORDS1";

/// Terms shorter than this are never a correction (the shortest stem typo
/// tolerance corrects to).
pub(crate) const SHORTEST: usize = 3;

/// Whether typo tolerance may correct a word to `term`: lowercase ASCII
/// letters only (what a word it corrects is made of), and not too short.
pub(crate) fn correctable(term: &[u8]) -> bool {
    term.len() >= SHORTEST && term.iter().all(u8::is_ascii_lowercase)
}

/// The fields whose terms the list holds, in the order typo tolerance walks
/// them.
pub(crate) fn fields(fields: &Fields) -> [Field; 3] {
    [fields.text, fields.title, fields.topics]
}

/// A commit's word list, read from [`FILE`] (mapped): each word with the
/// number of records holding it.
pub(crate) type Words = Map<Mapped>;

/// Part of a mapped file.
pub(crate) struct Mapped {
    file: Arc<Mmap>,
    at: Range<usize>,
}

impl Deref for Mapped {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.file[self.at.clone()]
    }
}

/// The word list kept for `searcher`'s commit in the index folder `dir`, if
/// the file is there, intact and made for that commit.
pub(crate) fn of_commit(dir: &Path, searcher: &Searcher) -> Option<Words> {
    commit_file::read(dir, FILE, MAGIC, searcher, |file, at| {
        Map::from(
            tantivy_fst::raw::Fst::new(Mapped {
                file: Arc::clone(file),
                at,
            })
            .ok()?,
        )
        .into()
    })
}

/// Finds the word list of the commit of the index in `dir`, whose segments
/// are `segments`, and keeps it there in [`FILE`].
///
/// Each field's words, with the records holding them summed over the
/// segments read so far, are kept as a transducer of their own, merged
/// with each segment's dictionary in turn (one segment open at a time): a
/// few bytes a word, where a list of words held forty or more, so that a
/// large vocabulary does not raise a `reindex`'s memory. The three are
/// then read together into the list.
pub(crate) fn save(dir: &Path, segments: &SegmentsAlone) -> crate::error::Result<()> {
    let fields = fields(&Fields::new(&segments.schema())?);
    let empty = MapBuilder::memory().into_inner().map_err(fst_error)?;
    let mut by_field: [Vec<u8>; 3] = [empty.clone(), empty.clone(), empty];
    for id in segments.ids() {
        segments.read(id, |segment| {
            for (held, &field) in by_field.iter_mut().zip(&fields) {
                *held = with_segment(held, segment, field)?;
            }
            Ok(())
        })?;
    }
    commit_file::save(dir, FILE, MAGIC, segments, &most_held(&by_field)?)
}

fn fst_error(e: tantivy_fst::Error) -> crate::error::Error {
    tantivy::TantivyError::InternalError(format!("word list: {e}")).into()
}

/// `held` (a transducer of words and the records holding them in `field`)
/// with the correctable terms of `segment`'s `field` added, their records
/// (deleted ones included, as Tantivy's document frequencies count them)
/// added up.
fn with_segment(
    held: &[u8],
    segment: &SegmentReader,
    field: Field,
) -> crate::error::Result<Vec<u8>> {
    let held = Map::from(tantivy_fst::raw::Fst::new(held).map_err(fst_error)?);
    let mut old = held.stream();
    let inverted = segment.inverted_index(field)?;
    let mut new = (inverted.terms().stream()).map_err(tantivy::TantivyError::from)?;
    let mut next_new = || {
        while new.advance() {
            if correctable(new.key()) {
                return Some((new.key().to_vec(), u64::from(new.value().doc_freq)));
            }
        }
        None
    };
    let mut out = MapBuilder::memory();
    let mut a = old.next().map(|(word, n)| (word.to_vec(), n));
    let mut b = next_new();
    loop {
        let (word, n) = match (a.take(), b.take()) {
            (Some(x), Some(y)) => match x.0.cmp(&y.0) {
                std::cmp::Ordering::Less => {
                    b = Some(y);
                    x
                }
                std::cmp::Ordering::Greater => {
                    a = Some(x);
                    y
                }
                std::cmp::Ordering::Equal => (x.0, x.1 + y.1),
            },
            (Some(x), None) => x,
            (None, Some(y)) => y,
            (None, None) => break,
        };
        out.insert(&word, n).map_err(fst_error)?;
        if a.is_none() {
            a = old.next().map(|(word, n)| (word.to_vec(), n));
        }
        if b.is_none() {
            b = next_new();
        }
    }
    out.into_inner().map_err(fst_error)
}

/// The list: each word of the fields' transducers `by_field` once, with
/// the records holding it in the field where most do.
fn most_held(by_field: &[Vec<u8>; 3]) -> crate::error::Result<Vec<u8>> {
    let maps = (by_field.iter())
        .map(|held| Ok(Map::from(tantivy_fst::raw::Fst::new(held.as_slice())?)))
        .collect::<Result<Vec<_>, tantivy_fst::Error>>()
        .map_err(fst_error)?;
    let mut union = (maps.iter())
        .fold(OpBuilder::new(), |ops, map| ops.add(map))
        .union();
    let mut list = MapBuilder::memory();
    while let Some((word, held)) = union.next() {
        let most = held.iter().map(|h| h.value).max().unwrap_or(0);
        list.insert(word, most).map_err(fst_error)?;
    }
    list.into_inner().map_err(fst_error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{damaged_or_missing_is_not_used, default_corpus};

    #[test]
    fn every_correctable_term_has_its_records_in_the_list() {
        let (dir, searcher) = default_corpus();
        let words = of_commit(dir.path(), &searcher).expect("the write run kept it");
        let fields = fields(&Fields::new(&searcher.schema().clone()).unwrap());
        let mut expected = std::collections::BTreeMap::<Vec<u8>, [u64; 3]>::new();
        for segment in searcher.segment_readers() {
            for (f, &field) in fields.iter().enumerate() {
                let inverted = segment.inverted_index(field).unwrap();
                let mut stream = inverted.terms().stream().unwrap();
                while stream.advance() {
                    if correctable(stream.key()) {
                        let counts = expected.entry(stream.key().to_vec()).or_default();
                        counts[f] += u64::from(stream.value().doc_freq);
                    }
                }
            }
        }
        let mut listed = Vec::new();
        let mut stream = words.stream();
        while let Some((word, records)) = stream.next() {
            listed.push((word.to_vec(), records));
        }
        let expected: Vec<(Vec<u8>, u64)> = (expected.into_iter())
            .map(|(word, counts)| (word, counts.into_iter().max().unwrap()))
            .collect();
        assert!(expected.len() > 100, "{}", expected.len());
        assert_eq!(listed, expected);
        assert!(listed.iter().all(|(word, _)| correctable(word)));
    }

    #[test]
    fn a_segment_added_twice_holds_each_word_twice_as_often() {
        let (_dir, searcher) = default_corpus();
        let text = Fields::new(&searcher.schema().clone()).unwrap().text;
        let segment = &searcher.segment_readers()[0];
        let empty = MapBuilder::memory().into_inner().unwrap();
        let once = with_segment(&empty, segment, text).unwrap();
        let twice = with_segment(&once, segment, text).unwrap();
        let read = |bytes: &[u8]| {
            let map = Map::from(tantivy_fst::raw::Fst::new(bytes.to_vec()).unwrap());
            let mut stream = map.stream();
            let mut words = Vec::new();
            while let Some((word, held)) = stream.next() {
                words.push((word.to_vec(), held));
            }
            words
        };
        let (once, twice) = (read(&once), read(&twice));
        assert!(once.len() > 100, "{}", once.len());
        let doubled: Vec<(Vec<u8>, u64)> = once.into_iter().map(|(w, n)| (w, 2 * n)).collect();
        assert_eq!(twice, doubled);
    }

    #[test]
    fn only_words_of_letters_are_correctable() {
        assert!(correctable(b"grokk"));
        assert!(!correctable(b"gr"));
        assert!(!correctable(b"gpt4"));
        assert!(!correctable(b"caf\xc3\xa9"));
        assert!(!correctable(b"Model"));
    }

    #[test]
    fn a_damaged_or_missing_file_is_not_used() {
        let (dir, searcher) = default_corpus();
        damaged_or_missing_is_not_used(&dir.path().join(FILE), || {
            of_commit(dir.path(), &searcher).is_none()
        });
    }
}
