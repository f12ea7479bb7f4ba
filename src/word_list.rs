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
use tantivy_fst::{Map, MapBuilder};

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
pub(crate) fn save(dir: &Path, segments: &SegmentsAlone) -> crate::error::Result<()> {
    let fields = fields(&Fields::new(&segments.schema())?);
    let mut all: Vec<(Box<[u8]>, Counts)> = Vec::new();
    for id in segments.ids() {
        let words = segments.read(id, |segment| Ok(words(segment, &fields)?))?;
        all = merged(std::mem::take(&mut all), words);
    }
    let mut list = MapBuilder::memory();
    for (word, counts) in &all {
        let records = counts.iter().copied().max().unwrap_or(0);
        list.insert(word, records).map_err(fst_error)?;
    }
    let contents = list.into_inner().map_err(fst_error)?;
    commit_file::save(dir, FILE, MAGIC, segments, &contents)
}

fn fst_error(e: tantivy_fst::Error) -> crate::error::Error {
    tantivy::TantivyError::InternalError(format!("word list: {e}")).into()
}

/// Records holding a word, in each of [`fields`].
type Counts = [u64; 3];

/// The correctable terms of `segment`'s `fields`, sorted, each with the
/// records holding it in each field (deleted records included, as
/// Tantivy's document frequencies count them).
fn words(
    segment: &SegmentReader,
    fields: &[Field; 3],
) -> tantivy::Result<Vec<(Box<[u8]>, Counts)>> {
    let mut found: Vec<(Box<[u8]>, Counts)> = Vec::new();
    for (f, &field) in fields.iter().enumerate() {
        let inverted = segment.inverted_index(field)?;
        let mut stream = inverted.terms().stream()?;
        let mut of_field = Vec::new();
        while stream.advance() {
            if correctable(stream.key()) {
                let mut counts = [0; 3];
                counts[f] = u64::from(stream.value().doc_freq);
                of_field.push((Box::from(stream.key()), counts));
            }
        }
        found = merged(found, of_field);
    }
    Ok(found)
}

/// The words of `a` and `b` (each sorted, once each), sorted, once each,
/// with their counts added up.
fn merged(a: Vec<(Box<[u8]>, Counts)>, b: Vec<(Box<[u8]>, Counts)>) -> Vec<(Box<[u8]>, Counts)> {
    let mut out = Vec::with_capacity(a.len().max(b.len()));
    let (mut a, mut b) = (a.into_iter().peekable(), b.into_iter().peekable());
    loop {
        let next = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) => match x.0.cmp(&y.0) {
                std::cmp::Ordering::Less => a.next(),
                std::cmp::Ordering::Greater => b.next(),
                std::cmp::Ordering::Equal => {
                    let (word, mut counts) = a.next().expect("peeked");
                    let (_, more) = b.next().expect("peeked");
                    for (count, more) in counts.iter_mut().zip(more) {
                        *count += more;
                    }
                    Some((word, counts))
                }
            },
            (Some(_), None) => a.next(),
            (None, Some(_)) => b.next(),
            (None, None) => break,
        };
        out.extend(next);
    }
    out
}

#[cfg(test)]
mod tests {
    use tantivy_fst::Streamer;

    use super::*;
    use crate::testing::default_corpus;

    #[test]
    fn every_correctable_term_has_its_records_in_the_list() {
        let (dir, searcher) = default_corpus();
        let words = of_commit(dir.path(), &searcher).expect("the write run kept it");
        let fields = fields(&Fields::new(&searcher.schema().clone()).unwrap());
        let mut expected = std::collections::BTreeMap::<Vec<u8>, Counts>::new();
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
    fn words_merge_sorted_and_once_each_with_their_counts_added() {
        let list = |v: &[(&str, Counts)]| {
            (v.iter())
                .map(|(w, c)| (Box::from(w.as_bytes()), *c))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            merged(
                list(&[("bound", [1, 0, 0]), ("grokk", [2, 1, 0])]),
                list(&[("grokk", [3, 0, 1]), ("model", [0, 0, 4])])
            ),
            list(&[
                ("bound", [1, 0, 0]),
                ("grokk", [5, 1, 1]),
                ("model", [0, 0, 4])
            ])
        );
        assert_eq!(merged(Vec::new(), list(&[("abc", [1, 0, 0])])).len(), 1);
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
        let path = dir.path().join(FILE);
        let bytes = std::fs::read(&path).unwrap();
        for at in [0, 20, bytes.len() / 2, bytes.len() - 1] {
            let mut damaged = bytes.clone();
            damaged[at] ^= 1;
            std::fs::write(&path, &damaged).unwrap();
            assert!(of_commit(dir.path(), &searcher).is_none(), "byte {at}");
        }
        std::fs::remove_file(&path).unwrap();
        assert!(of_commit(dir.path(), &searcher).is_none());
    }
}
