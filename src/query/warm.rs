//! What every search of one commit shares, found once per commit: the
//! records of older thread versions that a search hides, the first version
//! holding each thread record, and the facet labels of each segment. Tantivy's reader calls [`Warm`] as it opens each
//! new commit, before any search sees it, and tells it which commits are
//! no longer in use.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use tantivy::index::SegmentId;
use tantivy::{DocId, Searcher, SearcherGeneration, Warmer};

use super::echoes::{EchoColumns, SegmentEchoes};
use super::facets::{Labels, SegmentLabels};
use crate::error::Result;
use crate::history;
use crate::model::Record;
use crate::schema;

/// A set of document ids of one segment, one bit each.
#[derive(Debug, Default)]
pub(crate) struct DocBits(Vec<u64>);

impl DocBits {
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

/// The state of one commit (one searcher generation).
#[derive(Debug, Default)]
pub(crate) struct CommitState {
    /// For each segment, the records a search hides unless asked for every
    /// version: records of a thread version older than the thread's newest.
    pub hidden: HashMap<SegmentId, Arc<DocBits>>,
    /// For each same-record key ([`crate::history::same_record_key`]), the
    /// earliest version of its thread that holds the record.
    pub first_versions: HashMap<u64, u32>,
    /// The facet labels of each segment.
    pub labels: Arc<SegmentLabels>,
    /// The echo columns of each segment.
    pub echoes: SegmentEchoes,
}

impl CommitState {
    /// Finds the state of `searcher`'s commit, reusing the labels of the
    /// segments `known` already read (segments never change; a commit only
    /// adds or merges them).
    fn find(searcher: &Searcher, known: &SegmentLabels) -> tantivy::Result<CommitState> {
        let mut labels = SegmentLabels::new();
        let mut echoes = SegmentEchoes::new();
        for segment in searcher.segment_readers() {
            echoes.insert(segment.segment_id(), Arc::new(EchoColumns::open(segment)?));
            let id = segment.segment_id();
            let read = match known.get(&id) {
                Some(read) => Arc::clone(read),
                None => Arc::new(Labels::read(segment)?),
            };
            labels.insert(id, read);
        }
        let versions = thread_versions(searcher)?;
        Ok(CommitState {
            hidden: versions.hidden,
            first_versions: versions.first,
            labels: Arc::new(labels),
            echoes,
        })
    }
}

impl CommitState {
    /// The earliest version of its thread that holds `record` (itself, when no
    /// older version does); `None` for a record that is not a thread's.
    pub(crate) fn first_version(&self, record: &Record) -> Option<u32> {
        let (thread, version) = (record.thread.as_ref()?, record.version?);
        let key = history::same_record_key(thread, record.kind, &record.text);
        Some(
            self.first_versions
                .get(&key)
                .map_or(version, |&v| v.min(version)),
        )
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
                known.insert(*id, Arc::clone(labels));
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

/// What the thread records of a commit say about versions.
struct ThreadVersions {
    /// The alive records of every thread version but each thread's newest.
    hidden: HashMap<SegmentId, Arc<DocBits>>,
    /// The earliest version holding each same-record key.
    first: HashMap<u64, u32>,
}

/// Reads the thread records of a commit, and nothing else: only they have a
/// `thread_version` key (and a `same_record` key).
fn thread_versions(searcher: &Searcher) -> tantivy::Result<ThreadVersions> {
    let mut keyed = Vec::new();
    let mut newest: HashMap<u64, u64> = HashMap::new();
    let mut first: HashMap<u64, u32> = HashMap::new();
    for segment in searcher.segment_readers() {
        let column = segment.fast_fields().u64(schema::names::THREAD_VERSION)?;
        let same = segment.fast_fields().u64(schema::names::SAME_RECORD)?;
        let mut docs = Vec::new();
        column.get_docids_for_value_range(1..=u64::MAX, 0..segment.max_doc(), &mut docs);
        let alive = segment.alive_bitset();
        docs.retain(|&doc| alive.is_none_or(|a| a.is_alive(doc)));
        let keys: Vec<(DocId, u64)> = (docs.into_iter())
            .filter_map(|doc| Some((doc, column.first(doc)?)))
            .collect();
        for &(doc, key) in &keys {
            let entry = newest.entry(schema::thread_of_key(key)).or_insert(key);
            *entry = (*entry).max(key);
            if let Some(record) = same.first(doc) {
                let version = schema::version_of_key(key);
                let earliest = first.entry(record).or_insert(version);
                *earliest = (*earliest).min(version);
            }
        }
        keyed.push((segment.segment_id(), keys));
    }
    let mut hidden = HashMap::new();
    for (segment, keys) in keyed {
        let mut older = DocBits::default();
        for (doc, key) in keys {
            if newest.get(&schema::thread_of_key(key)) != Some(&key) {
                older.insert(doc);
            }
        }
        hidden.insert(segment, Arc::new(older));
    }
    Ok(ThreadVersions { hidden, first })
}
