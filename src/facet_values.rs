//! The facet values of a commit: for each facet column (`source`, `topic`,
//! `kind`, `author_name`), every value its segments hold, in one sorted
//! list, and for each segment the place in that list of each of its term
//! ordinals.
//!
//! A search counts each segment's matches by term ordinal, adds the counts
//! up by place in the list, and reads the text of only the values it shows.
//! Without the list, every process read the values of every segment before
//! its first search (four dictionaries a segment) and added the counts up
//! by text.
//!
//! The list is made once per commit by the write run that made it and kept
//! beside the index in [`FILE`] ([`crate::commit_file`]). When the file does
//! not match the commit (a run killed before writing it, a copy of another
//! index) or is damaged, searches read each segment's own values instead
//! (`query::facets::Labels`): the counts are the same either way.

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use memmap2::Mmap;
use tantivy::index::SegmentId;
use tantivy::{Searcher, SegmentReader};

use crate::commit_file::{self, Input};
use crate::schema::names;
use crate::storage::SegmentsAlone;

/// The file, in the index folder, that keeps the facet values of the last
/// commit.
pub(crate) const FILE: &str = "facet-values.bin";

const MAGIC: &[u8; 8] = b"CSFACET1";

/// The facet columns, in the order of their lists.
pub(crate) const COLUMNS: [&str; 4] =
    [names::SOURCE, names::TOPIC, names::KIND, names::AUTHOR_NAME];

/// The facet values of a commit, read from [`FILE`] (mapped).
pub(crate) struct CommitValues {
    file: Arc<Mmap>,
    columns: [Column; 4],
    /// Each segment's place in the commit's order.
    segments: HashMap<SegmentId, usize>,
}

impl std::fmt::Debug for CommitValues {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CommitValues({} segments)", self.segments.len())
    }
}

/// Where one column's list and its segments' places are in the file.
struct Column {
    /// How many values the list has.
    len: usize,
    /// Where each value ends in the text (`len` 32-bit numbers).
    ends: usize,
    /// The values, one after the other.
    text: Range<usize>,
    /// For each segment (in the commit's order), where its places are and
    /// how many (one a term ordinal, 32 bits each).
    places: Vec<(usize, usize)>,
}

impl CommitValues {
    /// The segment number of `segment` in this commit, if it is one of its
    /// segments.
    pub(crate) fn segment(&self, segment: SegmentId) -> Option<usize> {
        self.segments.get(&segment).copied()
    }

    /// How many values column `column` has in all.
    pub(crate) fn len(&self, column: usize) -> usize {
        self.columns[column].len
    }

    /// How many term ordinals segment `segment` has in column `column`.
    pub(crate) fn terms(&self, column: usize, segment: usize) -> usize {
        self.columns[column].places[segment].1
    }

    /// The place in column `column`'s list of term ordinal `ordinal` of
    /// segment `segment`.
    pub(crate) fn place(&self, column: usize, segment: usize, ordinal: u32) -> Option<u32> {
        let (start, len) = self.columns[column].places[segment];
        if ordinal as usize >= len {
            return None;
        }
        u32_at(&self.file, start + 4 * ordinal as usize)
    }

    /// Value `place` of column `column`.
    pub(crate) fn value(&self, column: usize, place: u32) -> Option<&str> {
        let column_at = &self.columns[column];
        let place = place as usize;
        if place >= column_at.len {
            return None;
        }
        let end = u32_at(&self.file, column_at.ends + 4 * place)? as usize;
        let start = match place {
            0 => 0,
            _ => u32_at(&self.file, column_at.ends + 4 * (place - 1))? as usize,
        };
        let text = self.file.get(column_at.text.clone())?;
        std::str::from_utf8(text.get(start..end)?).ok()
    }
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

/// The facet values of `searcher`'s commit, if [`FILE`] was made for it and
/// is whole.
pub(crate) fn of_commit(dir: &Path, searcher: &Searcher) -> Option<CommitValues> {
    commit_file::read(dir, FILE, MAGIC, searcher, |file, at| {
        decode(file, at, searcher)
    })
}

/// Finds the facet values of the commit of the index in `dir`, whose
/// segments are `segments`, and keeps them there in [`FILE`].
pub(crate) fn save(dir: &Path, segments: &SegmentsAlone) -> crate::error::Result<()> {
    let contents = encode(&find(segments)?);
    commit_file::save(dir, FILE, MAGIC, segments, &contents)
}

/// For each column: the sorted values of every segment, and each segment's
/// term ordinals' places among them.
type Found = Vec<(Vec<String>, Vec<Vec<u32>>)>;

/// The values of each column, from every segment's dictionary, each
/// segment read through a reader of its own ([`SegmentsAlone`]),
/// twice: first to merge its values into each column's, then for its
/// ordinals' places among them. Holding every segment's values at once
/// until all were read took 12 MiB at 1,000,000 pages (44 segments) at the
/// peak of a small `reindex` (BENCHMARKS.md); now one segment's are held
/// beside the merged ones.
fn find(segments: &SegmentsAlone) -> crate::error::Result<Found> {
    let each_segment = |each: &mut dyn FnMut(Vec<Vec<String>>)| -> crate::error::Result<()> {
        for id in segments.ids() {
            let terms = segments.read(id, |segment| {
                (COLUMNS.iter())
                    .map(|name| Ok(terms(segment, name)?))
                    .collect::<crate::error::Result<Vec<Vec<String>>>>()
            })?;
            each(terms);
        }
        Ok(())
    };
    let mut all: Vec<Vec<String>> = vec![Vec::new(); COLUMNS.len()];
    each_segment(&mut |terms| {
        for (all, mut terms) in all.iter_mut().zip(terms) {
            // In dictionary order already, but for text read lossily.
            terms.sort_unstable();
            terms.dedup();
            *all = merged(std::mem::take(all), terms);
        }
    })?;
    let mut places: Vec<Vec<Vec<u32>>> = vec![Vec::new(); COLUMNS.len()];
    each_segment(&mut |terms| {
        for ((places, all), terms) in places.iter_mut().zip(&all).zip(terms) {
            places.push(
                (terms.iter())
                    .map(|term| all.binary_search(term).map_or(u32::MAX, |p| p as u32))
                    .collect(),
            );
        }
    })?;
    Ok(all.into_iter().zip(places).collect())
}

/// The sorted values of `a` and `b` (each sorted, without repeats), once
/// each.
fn merged(a: Vec<String>, b: Vec<String>) -> Vec<String> {
    let mut out = Vec::with_capacity(a.len().max(b.len()));
    let (mut a, mut b) = (a.into_iter().peekable(), b.into_iter().peekable());
    loop {
        let next = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) => match x.cmp(y) {
                std::cmp::Ordering::Less => a.next(),
                std::cmp::Ordering::Greater => b.next(),
                std::cmp::Ordering::Equal => {
                    b.next();
                    a.next()
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

/// The terms of column `name` of `segment`, in ordinal order.
fn terms(segment: &SegmentReader, name: &str) -> tantivy::Result<Vec<String>> {
    let Some(column) = segment.fast_fields().str(name)? else {
        return Ok(Vec::new());
    };
    let mut terms = Vec::with_capacity(column.num_terms());
    let mut stream = column.dictionary().stream()?;
    while stream.advance() {
        terms.push(String::from_utf8_lossy(stream.key()).into_owned());
    }
    Ok(terms)
}

/// For each column: the number of values, where each ends, the text's
/// length and the text, then for each segment its number of term ordinals
/// and their places (all numbers 32-bit, little endian).
fn encode(found: &Found) -> Vec<u8> {
    let mut out = Vec::new();
    let put = |out: &mut Vec<u8>, n: usize| out.extend_from_slice(&(n as u32).to_le_bytes());
    for (values, places) in found {
        put(&mut out, values.len());
        let mut end = 0;
        for value in values {
            end += value.len();
            put(&mut out, end);
        }
        put(&mut out, end);
        for value in values {
            out.extend_from_slice(value.as_bytes());
        }
        for segment in places {
            put(&mut out, segment.len());
            for &place in segment {
                put(&mut out, place as usize);
            }
        }
    }
    out
}

/// The values kept in `file` at `at` (made for `searcher`'s commit), if
/// whole and consistent: every place in its list, the ends in order.
fn decode(file: &Arc<Mmap>, at: Range<usize>, searcher: &Searcher) -> Option<CommitValues> {
    let contents = file.get(at.clone())?;
    let mut input = Input(contents);
    let offset = |input: &Input| at.start + (contents.len() - input.0.len());
    let segments = searcher.segment_readers();
    let mut columns = Vec::with_capacity(COLUMNS.len());
    for _ in COLUMNS {
        let len = input.u32()? as usize;
        let ends = offset(&input);
        let mut last = 0;
        for _ in 0..len {
            let end = input.u32()?;
            ensure(end >= last)?;
            last = end;
        }
        let text_len = input.u32()? as usize;
        ensure(text_len == last as usize)?;
        let text_at = offset(&input);
        std::str::from_utf8(input.take(text_len)?).ok()?;
        let mut places = Vec::with_capacity(segments.len());
        for _ in segments {
            let n = input.u32()? as usize;
            let start = offset(&input);
            for _ in 0..n {
                ensure((input.u32()? as usize) < len)?;
            }
            places.push((start, n));
        }
        columns.push(Column {
            len,
            ends,
            text: text_at..text_at + text_len,
            places,
        });
    }
    ensure(input.0.is_empty())?;
    let columns: [Column; 4] = columns.try_into().ok()?;
    let segments = (segments.iter().enumerate())
        .map(|(n, segment)| (segment.segment_id(), n))
        .collect();
    Some(CommitValues {
        file: Arc::clone(file),
        columns,
        segments,
    })
}

/// `Some` when `ok`.
fn ensure(ok: bool) -> Option<()> {
    ok.then_some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{damaged_or_missing_is_not_used, default_corpus};

    #[test]
    fn every_term_of_every_segment_has_its_value_in_the_list() {
        let (dir, searcher) = default_corpus();
        let values = of_commit(dir.path(), &searcher).expect("the write run kept them");
        let mut terms_seen = 0;
        for (n, segment) in searcher.segment_readers().iter().enumerate() {
            assert_eq!(values.segment(segment.segment_id()), Some(n));
            for (column, name) in COLUMNS.iter().enumerate() {
                let terms = terms(segment, name).unwrap();
                assert_eq!(values.terms(column, n), terms.len());
                for (ordinal, term) in terms.iter().enumerate() {
                    let place = values.place(column, n, ordinal as u32).unwrap();
                    assert_eq!(values.value(column, place), Some(term.as_str()));
                    terms_seen += 1;
                }
                assert_eq!(values.place(column, n, terms.len() as u32), None);
            }
        }
        assert!(terms_seen > 100, "{terms_seen}");
    }

    #[test]
    fn values_merge_sorted_and_once_each() {
        let list = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            merged(
                list(&["arxiv", "blog", "video"]),
                list(&["blog", "paper", "zine"])
            ),
            list(&["arxiv", "blog", "paper", "video", "zine"])
        );
        assert_eq!(merged(Vec::new(), list(&["a"])), list(&["a"]));
        assert_eq!(merged(list(&["a"]), Vec::new()), list(&["a"]));
    }

    #[test]
    fn a_damaged_or_missing_file_is_not_used() {
        let (dir, searcher) = default_corpus();
        damaged_or_missing_is_not_used(&dir.path().join(FILE), || {
            of_commit(dir.path(), &searcher).is_none()
        });
    }
}
