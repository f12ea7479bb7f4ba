//! What every search of one commit shares: the records of older thread
//! versions that a search hides (found when the commit is opened: every
//! search needs them), and, found the first time a search needs them and
//! then kept, the first version holding each thread record, the facet labels
//! of each segment and its echo columns. Tantivy's reader calls [`Warm`] as
//! it opens each new commit, before any search sees it, and tells it which
//! commits are no longer in use.
//!
//! Little is done before the first search because a one-shot process (a
//! `claimsearch query`) opens a commit for a single search: what that search
//! does not need is never read, and what it needs per segment is read by the
//! search's own threads, segments in parallel.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

use rustc_hash::FxHashMap;
use tantivy::columnar::{Column, ColumnIndex};
use tantivy::index::InvertedIndexReader;
use tantivy::index::SegmentId;
use tantivy::postings::TermInfo;
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocId, DocSet, Searcher, SearcherGeneration, SegmentReader, Warmer, TERMINATED};

use super::echoes::EchoColumns;
use super::facets::SegmentLabels;
use crate::error::Result;
use crate::history;
use crate::model::Record;
use crate::schema;

/// A set of document ids of one segment, one bit each.
#[derive(Debug, Default)]
pub(crate) struct DocBits(Vec<u64>);

impl DocBits {
    /// An empty set of the documents of a segment of `max_doc` documents.
    fn new(max_doc: DocId) -> DocBits {
        DocBits(vec![0; (max_doc as usize).div_ceil(64)])
    }

    fn insert(&mut self, doc: DocId) {
        let (word, bit) = (doc as usize / 64, doc % 64);
        if self.0.len() <= word {
            self.0.resize(word + 1, 0);
        }
        self.0[word] |= 1 << bit;
    }

    /// Whether `doc` is in the set.
    pub(crate) fn contains(&self, doc: DocId) -> bool {
        let (word, bit) = (doc as usize / 64, doc % 64);
        self.0.get(word).is_some_and(|w| w & (1 << bit) != 0)
    }
}

/// A value found the first time it is asked for, then kept.
pub(crate) struct Lazy<T>(OnceLock<T>);

impl<T> Default for Lazy<T> {
    fn default() -> Self {
        Lazy(OnceLock::new())
    }
}

impl<T> std::fmt::Debug for Lazy<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.get().is_some() {
            "Lazy(found)"
        } else {
            "Lazy(not yet)"
        })
    }
}

impl<T> Lazy<T> {
    /// The value, if it was found.
    pub(crate) fn get(&self) -> Option<&T> {
        self.0.get()
    }

    /// The value, found by `find` the first time (two threads asking at once
    /// may both find it; one result is kept). An error is returned, not kept.
    pub(crate) fn get_or_find<E>(&self, find: impl FnOnce() -> Result<T, E>) -> Result<&T, E> {
        if let Some(value) = self.0.get() {
            return Ok(value);
        }
        let value = find()?;
        Ok(self.0.get_or_init(|| value))
    }
}

/// The state of one commit (one searcher generation).
#[derive(Debug, Default)]
pub(crate) struct CommitState {
    /// For each segment, the records a search hides unless asked for every
    /// version: records of a thread version older than the thread's newest.
    pub hidden: HashMap<SegmentId, Arc<DocBits>>,
    /// For each same-record key ([`crate::history::same_record_key`]), the
    /// earliest version of its thread that holds the record.
    first_versions: Lazy<FxHashMap<u64, u32>>,
    /// The facet labels of each segment, each read when a search first
    /// counts that segment's facets.
    pub labels: Arc<SegmentLabels>,
    /// The echo columns of each segment, each opened when a search first
    /// looks for echoes there.
    echoes: HashMap<SegmentId, Lazy<Arc<EchoColumns>>>,
}

impl CommitState {
    /// Finds the state of `searcher`'s commit, reusing the labels of the
    /// segments `known` already read (segments never change; a commit only
    /// adds or merges them).
    fn find(searcher: &Searcher, known: &SegmentLabels) -> tantivy::Result<CommitState> {
        let mut labels = SegmentLabels::new();
        let mut echoes = HashMap::new();
        for segment in searcher.segment_readers() {
            let id = segment.segment_id();
            let segment_labels = known.get(&id).cloned().unwrap_or_default();
            labels.insert(id, segment_labels);
            echoes.insert(id, Lazy::default());
        }
        Ok(CommitState {
            hidden: hidden_versions(
                searcher,
                searcher.schema().get_field(schema::names::THREAD_VERSION)?,
            )?,
            first_versions: Lazy::default(),
            labels: Arc::new(labels),
            echoes,
        })
    }

    /// The earliest version of its thread that holds `record` (itself, when no
    /// older version does); `None` for a record that is not a thread's.
    /// `searcher` is a searcher of this state's commit.
    pub(crate) fn first_version(
        &self,
        searcher: &Searcher,
        record: &Record,
    ) -> Result<Option<u32>> {
        let (Some(thread), Some(version)) = (record.thread.as_ref(), record.version) else {
            return Ok(None);
        };
        let first = self
            .first_versions
            .get_or_find(|| first_versions(searcher))?;
        let key = history::same_record_key(thread, record.kind, &record.text);
        Ok(Some(first.get(&key).map_or(version, |&v| v.min(version))))
    }

    /// The echo columns of `segment` (of this state's commit), opened on
    /// first use; `None` for a segment of another commit.
    pub(crate) fn echo_columns(
        &self,
        segment: &SegmentReader,
    ) -> tantivy::Result<Option<&Arc<EchoColumns>>> {
        let Some(lazy) = self.echoes.get(&segment.segment_id()) else {
            return Ok(None);
        };
        lazy.get_or_find(|| EchoColumns::open(segment).map(Arc::new))
            .map(Some)
    }
}

/// The [`CommitState`] of every commit in use, kept by Tantivy's reader.
#[derive(Default)]
pub(crate) struct Warm {
    states: RwLock<HashMap<u64, Arc<CommitState>>>,
}

impl Warm {
    /// The state of `searcher`'s commit. The reader warms every commit before
    /// handing out its searchers, so this is a lookup; it is found here only
    /// if warming failed.
    pub(crate) fn state(&self, searcher: &Searcher) -> Result<Arc<CommitState>> {
        let generation = searcher.generation().generation_id();
        let states = self.states.read().unwrap_or_else(|e| e.into_inner());
        if let Some(state) = states.get(&generation) {
            return Ok(Arc::clone(state));
        }
        drop(states);
        Ok(self.insert(searcher)?)
    }

    fn insert(&self, searcher: &Searcher) -> tantivy::Result<Arc<CommitState>> {
        let known = self.known_labels();
        let state = Arc::new(CommitState::find(searcher, &known)?);
        let generation = searcher.generation().generation_id();
        let mut states = self.states.write().unwrap_or_else(|e| e.into_inner());
        states.insert(generation, Arc::clone(&state));
        Ok(state)
    }

    /// The labels of every segment of every commit in use.
    fn known_labels(&self) -> SegmentLabels {
        let states = self.states.read().unwrap_or_else(|e| e.into_inner());
        let mut known = SegmentLabels::new();
        for state in states.values() {
            for (id, labels) in state.labels.iter() {
                known.entry(*id).or_insert_with(|| Arc::clone(labels));
            }
        }
        known
    }
}

impl Warmer for Warm {
    fn warm(&self, searcher: &Searcher) -> tantivy::Result<()> {
        self.insert(searcher).map(drop)
    }

    fn garbage_collect(&self, live: &[&SearcherGeneration]) {
        let mut states = self.states.write().unwrap_or_else(|e| e.into_inner());
        states.retain(|generation, _| live.iter().any(|g| g.generation_id() == *generation));
    }
}

/// The alive records of `segment` with a value in the u64 column `name`
/// (only thread records have a `thread_version` key, never 0, and a
/// `same_record` key), with that value, in document order.
fn thread_values(segment: &SegmentReader, name: &str) -> tantivy::Result<Vec<(DocId, u64)>> {
    let column = segment.fast_fields().u64(name)?;
    let alive = segment.alive_bitset();
    let mut found = column_values(&column, segment.max_doc());
    found.retain(|&(doc, _)| alive.is_none_or(|a| a.is_alive(doc)));
    Ok(found)
}

/// The thread records of `segment` with their `thread_version` key.
fn thread_keys(segment: &SegmentReader) -> tantivy::Result<Vec<(DocId, u64)>> {
    let mut keys = thread_values(segment, schema::names::THREAD_VERSION)?;
    keys.retain(|&(_, key)| key != 0);
    Ok(keys)
}

/// Every (document, value) of a column with at most one value a document,
/// in document order: the values read in one pass and their documents
/// found by the column's index in one more, rather than one lookup a
/// document.
fn column_values(column: &Column<u64>, max_doc: DocId) -> Vec<(DocId, u64)> {
    if let ColumnIndex::Full | ColumnIndex::Optional(_) = column.index {
        let rows = column.values.num_vals() as usize;
        let mut values = vec![0; rows];
        column.values.get_range(0, &mut values);
        let mut docs: Vec<DocId> = (0..rows as u32).collect();
        column.index.select_batch_in_place(0, &mut docs);
        return docs.into_iter().zip(values).collect();
    }
    let mut docs = Vec::new();
    column.get_docids_for_value_range(0..=u64::MAX, 0..max_doc, &mut docs);
    docs.dedup();
    (docs.into_iter())
        .filter_map(|doc| Some((doc, column.first(doc)?)))
        .collect()
}

/// For each segment of a commit, its records of an older thread version
/// than their thread's newest.
///
/// Read from the `thread_version` field's term dictionary, one term a
/// thread version: terms are in key order, a thread's versions next to each
/// other, oldest first. Only the postings of older versions are read (and,
/// in a segment with deletions, those needed to tell whether a version
/// still has a record). Reading every thread record's key from its column
/// cost a one-shot query 2 ms at 100,000 pages, most of it finding each
/// record's document.
fn hidden_versions(
    searcher: &Searcher,
    field: Field,
) -> tantivy::Result<HashMap<SegmentId, Arc<DocBits>>> {
    let mut versions = Vec::new();
    let mut newest: FxHashMap<u64, u64> = FxHashMap::default();
    for segment in searcher.segment_readers() {
        let inverted = segment.inverted_index(field)?;
        let mut terms = inverted.terms().stream()?;
        let mut keys = Vec::new();
        while terms.advance() {
            let Ok(bytes) = <[u8; 8]>::try_from(terms.key()) else {
                continue;
            };
            let key = u64::from_be_bytes(bytes);
            let info = terms.value().clone();
            if segment.alive_bitset().is_some() && !has_alive(segment, &inverted, &info)? {
                continue;
            }
            let entry = newest.entry(schema::thread_of_key(key)).or_insert(key);
            *entry = (*entry).max(key);
            keys.push((key, info));
        }
        versions.push((segment, inverted, keys));
    }
    let mut hidden = HashMap::new();
    for (segment, inverted, keys) in versions {
        let mut older = DocBits::new(segment.max_doc());
        for (key, info) in keys {
            if newest.get(&schema::thread_of_key(key)) != Some(&key) {
                let mut postings =
                    inverted.read_postings_from_terminfo(&info, IndexRecordOption::Basic)?;
                let mut doc = postings.doc();
                while doc != TERMINATED {
                    older.insert(doc);
                    doc = postings.advance();
                }
            }
        }
        hidden.insert(segment.segment_id(), Arc::new(older));
    }
    Ok(hidden)
}

/// Whether any document of the term `info` is alive in `segment`.
fn has_alive(
    segment: &SegmentReader,
    inverted: &InvertedIndexReader,
    info: &TermInfo,
) -> tantivy::Result<bool> {
    let mut postings = inverted.read_postings_from_terminfo(info, IndexRecordOption::Basic)?;
    let mut doc = postings.doc();
    while doc != TERMINATED {
        if segment.is_deleted(doc) {
            doc = postings.advance();
        } else {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The earliest version holding each same-record key, over the alive thread
/// records of a commit.
fn first_versions(searcher: &Searcher) -> tantivy::Result<FxHashMap<u64, u32>> {
    let mut first: FxHashMap<u64, u32> = FxHashMap::default();
    for segment in searcher.segment_readers() {
        let keys = thread_keys(segment)?;
        let same = thread_values(segment, schema::names::SAME_RECORD)?;
        // Both lists are in document order: walk them together.
        let mut keys = keys.into_iter().peekable();
        for (doc, record) in same {
            while keys.next_if(|&(d, _)| d < doc).is_some() {}
            if let Some(&(d, key)) = keys.peek() {
                if d == doc {
                    let version = schema::version_of_key(key);
                    let earliest = first.entry(record).or_insert(version);
                    *earliest = (*earliest).min(version);
                }
            }
        }
    }
    Ok(first)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::indexer::NoMergePolicy;
    use tantivy::schema::Term;
    use tantivy::{doc, Index, IndexWriter};

    fn hidden(index: &Index, field: Field) -> Vec<(u64, DocId)> {
        let searcher = index.reader().unwrap().searcher();
        let hidden = hidden_versions(&searcher, field).unwrap();
        let mut found = Vec::new();
        for segment in searcher.segment_readers() {
            let column = segment
                .fast_fields()
                .u64(schema::names::THREAD_VERSION)
                .unwrap();
            for doc in 0..segment.max_doc() {
                if hidden[&segment.segment_id()].contains(doc) {
                    found.push((column.first(doc).unwrap(), doc));
                }
            }
        }
        found.sort();
        found
    }

    #[test]
    fn older_versions_are_hidden_across_segments_and_a_deleted_newest_version_does_not_count() {
        let index = Index::create_in_ram(schema::build());
        crate::analyzer::register_analyzers(&index);
        let field = index
            .schema()
            .get_field(schema::names::THREAD_VERSION)
            .unwrap();
        let mut writer: IndexWriter = index.writer(15_000_000).unwrap();
        writer.set_merge_policy(Box::new(NoMergePolicy));
        let key = |thread, version| schema::thread_version_key(thread, version);
        for k in [key("T", 1), key("T", 1), key("T", 2), key("U", 1)] {
            writer.add_document(doc!(field => k)).unwrap();
        }
        writer.commit().unwrap();
        assert_eq!(hidden(&index, field), [(key("T", 1), 0), (key("T", 1), 1)]);

        // The newest version's records deleted: the one before is newest again.
        writer.delete_term(Term::from_field_u64(field, key("T", 2)));
        writer.commit().unwrap();
        assert_eq!(hidden(&index, field), []);

        // A newer version in another segment hides the first segment's.
        writer.add_document(doc!(field => key("T", 3))).unwrap();
        writer.commit().unwrap();
        assert_eq!(hidden(&index, field), [(key("T", 1), 0), (key("T", 1), 1)]);
    }
}
