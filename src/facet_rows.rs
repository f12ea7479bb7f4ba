//! The facet values of each distinct `facet_run` key of a segment, in one
//! file a segment beside the index ([`crate::segment_file`]).
//!
//! Facet counting reads the source, topics, authors and date of the first
//! match of each run of matches with the same `facet_run` key
//! ([`crate::query::facets`]). Read from the columns, that is nine places
//! in seven column regions for each run (an optional and two multi-valued
//! indexes, their values, the dates), and it was most of a query's
//! counting. Here a write run reads them once per key and writes them one
//! after the other: a run's values are then one entry of this file, found
//! by the key's place (the `facet_run` column holds places, not hashes).
//!
//! The file (little endian):
//!
//! ```text
//! header   88 bytes: magic, a checksum of every byte after it, the
//!          segment's id (32 hex digits), its max_doc, the number of keys
//!          K and of bytes of entries B, then the number of terms of the
//!          source, topic and author columns and the first and last day of
//!          the date column, as the segment has them
//! starts   K + 1 32-bit numbers: where key k's entry starts among the
//!          entries, the last being B
//! entries  for each key, as LEB128 varints: the source's term ordinal + 1
//!          (0: none), the date's day + 1 (0: none; days from the column's
//!          first), the number of topics and their term ordinals, the
//!          number of authors and theirs
//! ```
//!
//! Varints take an entry from 36 bytes to about 14 at 100,000 pages (a
//! search reads the entries of its runs from all over the file: the fewer
//! pages, the fewer faults).
//!
//! A search maps the file, checks its header and length against the
//! segment, and checks each entry it reads against the segment's columns
//! (its terms exist, its date is in the column's span): a file that is
//! missing, of another segment or of another layout is not used, nor an
//! entry that does not fit; the values are then read from the columns, and
//! the counts are the same. The checksum is checked by write runs, which
//! write a damaged file again, not by searches: checking the whole file
//! took a one-shot query longer than reading the columns (the files of
//! 100,000 pages held 8.6 MB then, 3.9 MB as varints), and Tantivy's own
//! columns are not checked on read either.

use std::fs::File;
use std::path::Path;

use memmap2::Mmap;
use rayon::prelude::*;
use tantivy::columnar::{BytesColumn, Column, ColumnIndex, StrColumn};
use tantivy::index::SegmentId;
use tantivy::{DateTime, DocId, SegmentReader};

use crate::error::Result;
use crate::prefetch::prefetch;
use crate::schema::{day_of, names};
use crate::segment_file::{self, put_varint, varint};
use crate::storage::SegmentsAlone;

const MAGIC: &[u8; 8] = b"CSFROWS2";
const HEADER: usize = 88;
const PREFIX: &str = "facet-rows-";
const SUFFIX: &str = ".bin";

/// The name of the facet rows file of segment `id`, in the index folder.
pub(crate) fn file_name(id: SegmentId) -> String {
    segment_file::name(PREFIX, id, SUFFIX)
}

/// What a segment's file must agree with: its id, size and columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shape {
    pub max_doc: u32,
    /// Distinct `facet_run` keys.
    pub keys: u32,
    /// Terms of the source, topic and author columns.
    pub sources: u32,
    pub topics: u32,
    pub authors: u32,
    /// The first and last day of the date column (both 0 without one).
    pub days: (i64, i64),
}

impl Shape {
    /// The shape of a segment of `max_doc` documents and `keys` distinct
    /// `facet_run` keys, with these source, topic and author columns and
    /// this date column.
    pub(crate) fn of(
        max_doc: u32,
        keys: usize,
        [source, topic, author]: [&Option<StrColumn>; 3],
        date: Option<&Column<DateTime>>,
    ) -> Shape {
        let terms = |c: &Option<StrColumn>| c.as_ref().map_or(0, |c| c.num_terms() as u32);
        Shape {
            max_doc,
            keys: keys as u32,
            sources: terms(source),
            topics: terms(topic),
            authors: terms(author),
            days: date.map_or((0, 0), |d| (day_of(d.min_value()), day_of(d.max_value()))),
        }
    }
}

/// The `facet_run` column as one key a document: the place of each
/// document's hash among the segment's (equal places, equal hashes). `None`
/// when some document has no key, which only an index built by hand could
/// hold: then runs are not found by key, and every match starts a run of
/// its own.
fn run_keys(column: &BytesColumn) -> Option<Column<u64>> {
    let ords = column.ords().clone();
    matches!(ords.index, ColumnIndex::Full).then_some(ords)
}

/// The columns a segment's entries are made from: opened here for the
/// write run that makes the file and for the searches that read it, so
/// that both find the same runs and the same [`Shape`].
#[derive(Clone)]
pub(crate) struct RowColumns {
    pub source: Option<StrColumn>,
    pub topic: Option<StrColumn>,
    pub author: Option<StrColumn>,
    pub date: Option<Column<DateTime>>,
    /// The segment's runs, when they are found by key ([`run_keys`]).
    pub runs: Option<Runs>,
}

/// A segment's runs found by key: each document's key, and the shape its
/// file must have.
#[derive(Clone)]
pub(crate) struct Runs {
    pub keys: Column<u64>,
    pub shape: Shape,
}

impl RowColumns {
    /// The columns of `segment`.
    pub(crate) fn open(segment: &SegmentReader) -> tantivy::Result<RowColumns> {
        let fast = segment.fast_fields();
        let [source, topic, author] = [
            fast.str(names::SOURCE)?,
            fast.str(names::TOPIC)?,
            fast.str(names::AUTHOR_NAME)?,
        ];
        let date = fast.column_opt::<DateTime>(names::DATE)?;
        let runs = fast.bytes(names::FACET_RUN)?.and_then(|runs| {
            let keys = run_keys(&runs)?;
            let columns = [&source, &topic, &author];
            let shape = Shape::of(segment.max_doc(), runs.num_terms(), columns, date.as_ref());
            Some(Runs { keys, shape })
        });
        Ok(RowColumns {
            source,
            topic,
            author,
            date,
            runs,
        })
    }
}

/// One segment's facet rows, mapped.
#[derive(Debug)]
pub(crate) struct FacetRows {
    file: Mmap,
    shape: Shape,
    /// Bytes of entries.
    entry_bytes: usize,
}

/// One key's facet values, its term ordinals read (and checked) into a
/// buffer of the caller's: each is decoded once.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Row<'a> {
    pub source: Option<u32>,
    pub day: Option<i64>,
    pub topics: &'a [u32],
    pub authors: &'a [u32],
}

/// A varint of at most 32 bits from the front of `bytes`.
fn number(bytes: &mut &[u8]) -> Option<u32> {
    u32::try_from(varint(bytes)?).ok()
}

/// Reads a list of term ordinals from the front of `rest` (its length,
/// then its ordinals) onto `values`, if each is one of the column's `terms`;
/// returns how many.
fn ordinals(rest: &mut &[u8], terms: u32, values: &mut Vec<u32>) -> Option<usize> {
    let len = number(rest)? as usize;
    for _ in 0..len {
        values.push(number(rest).filter(|&ordinal| ordinal < terms)?);
    }
    Some(len)
}

impl FacetRows {
    /// The rows of segment `id`, whose shape is `shape`, kept in `dir`, if
    /// its file is there, of the right length and made for it. Its entries
    /// are checked as they are read ([`FacetRows::row`]).
    pub(crate) fn open(dir: &Path, id: SegmentId, shape: Shape) -> Option<FacetRows> {
        let file = File::open(dir.join(file_name(id))).ok()?;
        // SAFETY: the file is never written in place: it is written whole
        // under another name and renamed over this one.
        let file = unsafe { Mmap::map(&file) }.ok()?;
        let expected = header(id, shape, 0);
        let bytes = &file[..];
        let entry_bytes = (bytes.len() >= HEADER).then(|| u32_at(bytes, 56) as usize)?;
        let whole = &bytes[..8] == MAGIC
            && bytes[16..56] == expected[16..56]
            && bytes[60..HEADER] == expected[60..HEADER]
            && bytes.len() == HEADER + 4 * (shape.keys as usize + 1) + entry_bytes;
        whole.then_some(FacetRows {
            file,
            shape,
            entry_bytes,
        })
    }

    /// Whether the whole file is intact (its checksum) and every entry
    /// reads: what a write run checks before it keeps a file.
    fn intact(&self) -> bool {
        let mut values = Vec::new();
        checksum(&self.file[16..]) == u64_at(&self.file, 8)
            && (0..u64::from(self.shape.keys)).all(|key| self.row(key, &mut values).is_some())
    }

    /// Asks the processor for the memory of key `key`'s row, so that a
    /// [`FacetRows::row`] of it a little later does not wait for it: with
    /// `start` the place in the file where its entry starts is fetched, and
    /// without it the entry, from that place (fetched by an earlier call
    /// with `start`). A broad search reads the rows of thousands of pages
    /// scattered over a file of megabytes, and waiting for each in turn
    /// was most of the time spent reading rows.
    pub(crate) fn prefetch(&self, key: u64, start: bool) {
        let Some(key) = usize::try_from(key)
            .ok()
            .filter(|&k| k < self.shape.keys as usize)
        else {
            return;
        };
        let at = HEADER + 4 * key;
        if start {
            prefetch(&self.file[at..]);
        } else {
            let entry =
                HEADER + 4 * (self.shape.keys as usize + 1) + u32_at(&self.file, at) as usize;
            if let Some(bytes) = self.file.get(entry..) {
                prefetch(bytes);
            }
        }
    }

    /// The facet values of key `key` (a place in the `facet_run` column),
    /// their term ordinals read into `values`; `None` when the file's entry
    /// for it is not one the segment can have (a damaged file).
    pub(crate) fn row<'v>(&self, key: u64, values: &'v mut Vec<u32>) -> Option<Row<'v>> {
        let keys = self.shape.keys as usize;
        let key = usize::try_from(key).ok().filter(|&k| k < keys)?;
        let entries = &self.file[HEADER + 4 * (keys + 1)..];
        let start = u32_at(&self.file, HEADER + 4 * key) as usize;
        let end = u32_at(&self.file, HEADER + 4 * (key + 1)) as usize;
        let mut rest = entries.get(start..end.min(self.entry_bytes))?;
        let (source, day) = (number(&mut rest)?, number(&mut rest)?);
        values.clear();
        let topics = ordinals(&mut rest, self.shape.topics, values)?;
        ordinals(&mut rest, self.shape.authors, values)?;
        let (first, last) = self.shape.days;
        let day = day.checked_sub(1).map(|d| first + i64::from(d));
        let ok = rest.is_empty() && source <= self.shape.sources && day.is_none_or(|d| d <= last);
        let (topics, authors) = values.split_at(topics);
        ok.then_some(Row {
            source: source.checked_sub(1),
            day,
            topics,
            authors,
        })
    }
}

/// The file of a segment with `columns`, whose runs are `runs`.
fn build(id: SegmentId, columns: &RowColumns, runs: &Runs) -> Vec<u8> {
    let shape = runs.shape;
    // The first document of each key.
    let mut first = vec![DocId::MAX; shape.keys as usize];
    let mut keys = Vec::new();
    let docs: Vec<DocId> = (0..shape.max_doc).collect();
    for block in docs.chunks(4096) {
        keys.resize(block.len(), 0);
        runs.keys.values.get_vals(block, &mut keys);
        for (&doc, &key) in block.iter().zip(&keys) {
            let slot = &mut first[key as usize];
            *slot = (*slot).min(doc);
        }
    }
    let mut starts: Vec<u32> = Vec::with_capacity(first.len() + 1);
    let mut entries: Vec<u8> = Vec::new();
    for &doc in &first {
        starts.push(entries.len() as u32);
        let ords = |column: &Option<StrColumn>| -> Vec<u32> {
            match (column, doc) {
                (Some(column), doc) if doc != DocId::MAX => column
                    .ords()
                    .values_for_doc(doc)
                    .map(|o| o as u32)
                    .collect(),
                _ => Vec::new(),
            }
        };
        let source = ords(&columns.source);
        put_varint(
            &mut entries,
            source.first().map_or(0, |&s| u64::from(s) + 1),
        );
        let day = (columns.date.as_ref())
            .filter(|_| doc != DocId::MAX)
            .and_then(|d| d.first(doc));
        let day = day.map_or(0, |d| (day_of(d) - shape.days.0 + 1) as u32);
        put_varint(&mut entries, u64::from(day));
        for list in [ords(&columns.topic), ords(&columns.author)] {
            put_varint(&mut entries, list.len() as u64);
            list.into_iter()
                .for_each(|o| put_varint(&mut entries, u64::from(o)));
        }
    }
    starts.push(entries.len() as u32);
    let mut out = header(id, shape, entries.len() as u32);
    for start in &starts {
        out.extend_from_slice(&start.to_le_bytes());
    }
    out.extend_from_slice(&entries);
    let sum = checksum(&out[16..]);
    out[8..16].copy_from_slice(&sum.to_le_bytes());
    out
}

/// The header of a file for segment `id` of shape `shape` with
/// `entry_bytes` bytes of entries, its checksum left 0.
fn header(id: SegmentId, shape: Shape, entry_bytes: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(id.uuid_string().as_bytes());
    for n in [
        shape.max_doc,
        shape.keys,
        entry_bytes,
        shape.sources,
        shape.topics,
        shape.authors,
    ] {
        out.extend_from_slice(&n.to_le_bytes());
    }
    out.extend_from_slice(&shape.days.0.to_le_bytes());
    out.extend_from_slice(&shape.days.1.to_le_bytes());
    out
}

/// The checksum of the file's `bytes` after it.
fn checksum(bytes: &[u8]) -> u64 {
    segment_file::checksum(0x726f_7773 ^ (bytes.len() as u64) << 16, bytes)
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"))
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"))
}

/// Writes the facet rows file of every segment of `segments` (the commit
/// of the index in `dir`) that has no usable one, and removes those of
/// segments no longer in the index. Each segment is read through a reader
/// of its own: checked one at a time (a check reads its whole file),
/// written two or more at a time (a full build writes every segment's).
pub(crate) fn save(dir: &Path, segments: &SegmentsAlone) -> Result<()> {
    let live = segments.ids();
    let mut missing = Vec::new();
    for &id in &live {
        let usable = segments.read(id, |segment| {
            let Some(runs) = RowColumns::open(segment)?.runs else {
                return Ok(true);
            };
            let kept = FacetRows::open(dir, id, runs.shape);
            Ok(kept.is_some_and(|rows| rows.intact()))
        })?;
        if !usable {
            missing.push(id);
        }
    }
    (missing.par_iter()).try_for_each(|&id| {
        segments.read(id, |segment| {
            let columns = RowColumns::open(segment)?;
            if let Some(runs) = &columns.runs {
                segment_file::write(dir, &file_name(id), &build(id, &columns, runs))?;
            }
            Ok(())
        })
    })?;
    segment_file::remove_others(dir, PREFIX, SUFFIX, &live)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::default_corpus;

    fn rows_of(dir: &Path, segment: &SegmentReader) -> Option<FacetRows> {
        let shape = RowColumns::open(segment).unwrap().runs?.shape;
        FacetRows::open(dir, segment.segment_id(), shape)
    }

    #[test]
    fn each_documents_row_holds_its_facet_values() {
        let (dir, searcher) = default_corpus();
        let mut checked = [0; 4];
        for segment in searcher.segment_readers() {
            let rows = rows_of(dir.path(), segment).expect("the write run kept them");
            assert!(rows.intact());
            let columns = RowColumns::open(segment).unwrap();
            let runs = columns.runs.as_ref().unwrap();
            let ords = |column: &Option<StrColumn>, doc| -> Vec<u32> {
                let column = column.as_ref().unwrap();
                column
                    .ords()
                    .values_for_doc(doc)
                    .map(|o| o as u32)
                    .collect()
            };
            for doc in 0..segment.max_doc() {
                let key = runs.keys.first(doc).unwrap();
                let mut ordinals = Vec::new();
                let row = rows.row(key, &mut ordinals).unwrap();
                let source = ords(&columns.source, doc).first().copied();
                let day = (columns.date.as_ref().unwrap().first(doc)).map(day_of);
                assert_eq!(row.source, source, "doc {doc}");
                assert_eq!(row.day, day, "doc {doc}");
                assert_eq!(row.topics, ords(&columns.topic, doc));
                assert_eq!(row.authors, ords(&columns.author, doc));
                let values = [source.is_some(), day.is_some(), !row.topics.is_empty()];
                for (n, has) in values.into_iter().enumerate() {
                    checked[n] += usize::from(has);
                }
                checked[3] += usize::from(!row.authors.is_empty());
            }
        }
        // Records with and without each value were compared.
        let records: usize = (searcher.segment_readers().iter())
            .map(|s| s.max_doc() as usize)
            .sum();
        assert!(
            checked.iter().all(|&n| n > 100 && n < records),
            "{checked:?}"
        );
    }

    #[test]
    fn a_damaged_or_missing_file_is_not_used_and_written_again() {
        let (dir, searcher) = default_corpus();
        let segment = &searcher.segment_readers()[0];
        let path = dir.path().join(file_name(segment.segment_id()));
        let bytes = std::fs::read(&path).unwrap();
        // The header and the length are checked when the file is opened.
        for at in [0, 20, 50, 70, 85] {
            let mut damaged = bytes.clone();
            damaged[at] ^= 1;
            std::fs::write(&path, &damaged).unwrap();
            assert!(rows_of(dir.path(), segment).is_none(), "byte {at}");
        }
        std::fs::write(&path, &bytes[..bytes.len() - 4]).unwrap();
        assert!(rows_of(dir.path(), segment).is_none());
        // An entry naming a term the segment lacks is not read, and the
        // checksum tells any change.
        let rows = {
            std::fs::write(&path, &bytes).unwrap();
            rows_of(dir.path(), segment).unwrap()
        };
        let keys = rows.shape.keys as usize;
        let entries = HEADER + 4 * (keys + 1);
        let first =
            (0..keys as u64).find(|&k| rows.row(k, &mut Vec::new()).unwrap().source.is_some());
        let key = first.expect("a record with a source") as usize;
        let start = entries + u32_at(&bytes, HEADER + 4 * key) as usize;
        let mut damaged = bytes.clone();
        // Its source: a varint of 2^28 or more.
        damaged[start..start + 4].copy_from_slice(&[0xff; 4]);
        std::fs::write(&path, &damaged).unwrap();
        let rows = rows_of(dir.path(), segment).unwrap();
        assert!(rows.row(key as u64, &mut Vec::new()).is_none());
        assert!(!rows.intact());
        // A write run writes it again, and removes the files of segments gone.
        let stray = dir.path().join(file_name(SegmentId::generate_random()));
        std::fs::write(&stray, b"old").unwrap();
        save(dir.path(), &SegmentsAlone::open(dir.path()).unwrap()).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), bytes);
        assert!(!stray.exists());
        std::fs::remove_file(&path).unwrap();
        assert!(rows_of(dir.path(), segment).is_none());
        save(dir.path(), &SegmentsAlone::open(dir.path()).unwrap()).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), bytes);
    }
}
