//! What every search of one commit shares: the records of older thread
//! versions that a search hides ([`crate::superseded`], read when the commit
//! is opened: every search needs them), and, found the first time a search needs them and
//! then kept, the first version holding each thread record, the facet columns and labels
//! of each segment, its echo columns and echo lookup keys (`key_index.rs`)
//! and the commit's common echo keys ([`crate::common_keys`]); and the counts of its recent
//! searches and the echoes of their hits ([`super::counted`]). Tantivy's reader calls [`Warm`] as
//! it opens each new commit, before any search sees it, and tells it which
//! commits are no longer in use.
//!
//! Little is done before the first search because a one-shot process (a
//! `claimsearch query`) opens a commit for a single search: what that search
//! does not need is never read, and what it needs per segment is read by the
//! search's own threads, segments in parallel.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, RwLock};

use rustc_hash::FxHashMap;
use tantivy::columnar::{Column, ColumnIndex};
use tantivy::index::SegmentId;
use tantivy::{DocId, Searcher, SearcherGeneration, SegmentReader, Warmer};

use super::counted::{self, CountCache, EchoesKept};
use super::echo_columns::EchoColumns;
use super::facets::{CommitFacets, FacetCounter, SegmentRows};
use super::lazy::Lazy;
use super::DateBucket;
use crate::common_keys::{self, CommonKeys};
use crate::error::Result;
use crate::facet_values::{self, CommitValues};
use crate::history;
use crate::key_index::{self, SegmentKeys, ECHO_KEYS};
use crate::model::Record;
use crate::schema;
use crate::superseded::{self, Superseded};
use crate::word_list::{self, Words};

/// The state of one commit (one searcher generation).
#[derive(Debug, Default)]
pub(crate) struct CommitState {
    /// For each segment, the records a search hides unless asked for every
    /// version: records of a thread version older than the thread's newest.
    pub hidden: Superseded,
    /// For each same-record key ([`crate::history::same_record_key`]), the
    /// earliest version of its thread that holds the record.
    first_versions: Lazy<FxHashMap<u64, u32>>,
    /// The facet values of the commit, when the write run kept them.
    pub values: Option<Arc<CommitValues>>,
    /// The facet columns and labels of each segment, each found when a
    /// search first counts that segment's facets.
    pub facets: Arc<CommitFacets>,
    /// The facet rows of each segment, each opened when a search first
    /// counts runs of matches there.
    pub rows: Arc<SegmentRows>,
    /// The echo columns of each segment, each opened when a search first
    /// looks for echoes there.
    echoes: HashMap<SegmentId, Lazy<Arc<EchoColumns>>>,
    /// The echo lookup keys of each segment, opened when a search first
    /// looks for echoes there.
    keys: HashMap<SegmentId, Lazy<Arc<SegmentKeys>>>,
    /// The index folder, where the key files are.
    dir: PathBuf,
    /// The lookup keys too common to find echoes by, read when a search
    /// first looks for echoes.
    common_keys: Lazy<Arc<CommonKeys>>,
    /// The counts of this commit's recent searches.
    pub counted: Arc<CountCache>,
    /// The echoes found for this commit's hits.
    pub echoes_kept: EchoesKept,
    /// The commit's word list for typo tolerance, read when a word is
    /// first looked up.
    words: Lazy<Option<Arc<Words>>>,
    /// The commit's segments and how many documents each has deleted:
    /// two searcher generations with the same are the same commit.
    segments: Segments,
    /// The documents of the commit's segments, deleted ones included.
    docs: u64,
}

/// A commit's segments, each with its number of deleted documents, in order.
type Segments = Vec<(SegmentId, u32)>;

impl CommitState {
    /// Finds the state of `searcher`'s commit, whose index is in `dir`,
    /// reusing the facets and lookup keys of the segments `known` already
    /// read (segments never change; a commit only adds or merges them).
    /// Keys computed because a segment had no key file are not reused once
    /// the file is there (a write run writes it after its commit).
    fn find(
        searcher: &Searcher,
        dir: &Path,
        known: &Known,
        counts_budget: &Arc<AtomicUsize>,
    ) -> tantivy::Result<CommitState> {
        let segments = same_commit(searcher);
        let counted = (known.counted.iter())
            .find(|(of, _)| *of == segments)
            .map_or_else(
                || Arc::new(CountCache::new(Arc::clone(counts_budget))),
                |(_, counted)| Arc::clone(counted),
            );
        let mut facets = CommitFacets::new();
        let mut rows = SegmentRows::new();
        let (mut echoes, mut keys) = (HashMap::new(), HashMap::new());
        for segment in searcher.segment_readers() {
            let id = segment.segment_id();
            facets.insert(id, known.facets.get(&id).cloned().unwrap_or_default());
            rows.insert(id, known.rows.get(&id).cloned().unwrap_or_default());
            echoes.insert(id, Lazy::default());
            let reused = (known.keys.get(&id)).filter(|k| {
                k.reads_file() || !dir.join(key_index::file_name(&ECHO_KEYS, id)).exists()
            });
            keys.insert(
                id,
                reused.map_or_else(Lazy::default, |k| Lazy::found(Arc::clone(k))),
            );
        }
        Ok(CommitState {
            hidden: superseded::of_commit(dir, searcher)?,
            values: facet_values::of_commit(dir, searcher).map(Arc::new),
            first_versions: Lazy::default(),
            facets: Arc::new(facets),
            rows: Arc::new(rows),
            echoes,
            keys,
            dir: dir.to_path_buf(),
            common_keys: Lazy::default(),
            counted,
            echoes_kept: EchoesKept::new(Arc::clone(counts_budget)),
            words: Lazy::default(),
            segments,
            docs: (searcher.segment_readers().iter())
                .map(|segment| u64::from(segment.max_doc()))
                .sum(),
        })
    }

    /// A facet counter for the searches of this commit: its facet values,
    /// its segments' facet columns, labels and rows. Keep only the `top` most
    /// frequent sources, topics and authors (`None`: every value); count
    /// a search's first `exact_up_to` matches exactly, each segment its
    /// share, and sample the rest (`None`: count every match).
    pub(crate) fn facet_counter(
        &self,
        bucket: DateBucket,
        top: Option<usize>,
        exact_up_to: Option<u64>,
    ) -> FacetCounter {
        FacetCounter {
            bucket,
            values: self.values.clone(),
            segments: Arc::clone(&self.facets),
            rows: Arc::clone(&self.rows),
            dir: self.dir.clone(),
            top,
            exact_up_to,
            docs: self.docs,
        }
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

    /// The word list of this state's commit, read on first use; `None` when
    /// the write run did not keep one for it. `searcher` is a searcher of
    /// this state's commit.
    pub(crate) fn words(&self, searcher: &Searcher) -> Option<Arc<Words>> {
        let found = self.words.get_or_find(|| {
            Ok::<_, std::convert::Infallible>(
                word_list::of_commit(&self.dir, searcher).map(Arc::new),
            )
        });
        found.ok().and_then(Option::clone)
    }

    /// The lookup keys of this state's commit too common to find echoes by.
    /// `searcher` is a searcher of this state's commit.
    pub(crate) fn common_keys(&self, searcher: &Searcher) -> tantivy::Result<&Arc<CommonKeys>> {
        self.common_keys.get_or_find(|| {
            let keys = || {
                (searcher.segment_readers().iter())
                    .map(|segment| {
                        self.segment_keys(segment)?.cloned().ok_or_else(|| {
                            tantivy::TantivyError::InternalError(
                                "a segment of another commit".into(),
                            )
                        })
                    })
                    .collect()
            };
            common_keys::of_commit(&self.dir, searcher, keys).map(Arc::new)
        })
    }

    /// The echo lookup keys of `segment` (of this state's commit), opened
    /// on first use; `None` for a segment of another commit.
    pub(crate) fn segment_keys(
        &self,
        segment: &SegmentReader,
    ) -> tantivy::Result<Option<&Arc<SegmentKeys>>> {
        let Some(lazy) = self.keys.get(&segment.segment_id()) else {
            return Ok(None);
        };
        lazy.get_or_find(|| SegmentKeys::open(&self.dir, segment, &ECHO_KEYS).map(Arc::new))
            .map(Some)
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
pub(crate) struct Warm {
    /// The index folder.
    dir: PathBuf,
    states: RwLock<HashMap<u64, Arc<CommitState>>>,
    /// Bytes each commit may keep of its searches' counts.
    pub counts_budget: Arc<AtomicUsize>,
}

/// What the states of the commits in use found of their segments.
#[derive(Default)]
struct Known {
    /// The counts of each commit in use, by its segments.
    counted: Vec<(Segments, Arc<CountCache>)>,
    facets: CommitFacets,
    rows: SegmentRows,
    keys: HashMap<SegmentId, Arc<SegmentKeys>>,
}

impl Warm {
    /// The state of the commits of the index in `dir`.
    pub(crate) fn new(dir: &Path) -> Warm {
        Warm {
            dir: dir.to_path_buf(),
            states: RwLock::default(),
            counts_budget: Arc::new(AtomicUsize::new(counted::BUDGET)),
        }
    }

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
        let known = self.known();
        let state = Arc::new(CommitState::find(
            searcher,
            &self.dir,
            &known,
            &self.counts_budget,
        )?);
        let generation = searcher.generation().generation_id();
        let mut states = self.states.write().unwrap_or_else(|e| e.into_inner());
        states.insert(generation, Arc::clone(&state));
        Ok(state)
    }

    /// The facets and lookup keys found of every segment of every commit
    /// in use.
    fn known(&self) -> Known {
        let states = self.states.read().unwrap_or_else(|e| e.into_inner());
        let mut known = Known::default();
        for state in states.values() {
            (known.counted).push((state.segments.clone(), Arc::clone(&state.counted)));
            for (id, facets) in state.facets.iter() {
                known
                    .facets
                    .entry(*id)
                    .or_insert_with(|| Arc::clone(facets));
            }
            // Rows found missing are looked for again: a write run writes
            // them after its commit.
            for (id, rows) in state.rows.iter() {
                if rows.get().is_none_or(Option::is_some) {
                    (known.rows.entry(*id)).or_insert_with(|| Arc::clone(rows));
                }
            }
            for (id, keys) in &state.keys {
                if let Some(keys) = keys.get() {
                    known.keys.entry(*id).or_insert_with(|| Arc::clone(keys));
                }
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

/// What tells a commit from another: its segments, each with its number
/// of deleted documents (a commit that only deletes changes that). Tantivy's
/// reader opens a new searcher generation whenever the index's metadata is
/// written, also for the same commit; such generations share their counts.
fn same_commit(searcher: &Searcher) -> Segments {
    let mut segments: Segments = (searcher.segment_readers().iter())
        .map(|segment| (segment.segment_id(), segment.num_deleted_docs()))
        .collect();
    segments.sort_unstable();
    segments
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
