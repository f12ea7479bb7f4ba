//! The index handle a program keeps open: opening or creating the Tantivy
//! index on disk, and the reader that picks up new commits by itself.

use std::collections::HashMap;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tantivy::directory::error::{DeleteError, LockError, OpenReadError, OpenWriteError};
use tantivy::directory::{
    Directory, DirectoryLock, FileHandle, Lock, MmapDirectory, WatchCallback, WatchHandle, WritePtr,
};
use tantivy::index::SegmentId;
use tantivy::schema::Value;
use tantivy::{
    DocAddress, DocId, IndexReader, ReloadPolicy, Searcher, TantivyDocument, TantivyError,
};

use crate::error::{Error, Result};
use crate::ingest::{IndexReport, Progress, ReindexReport};
use crate::model::Record;
use crate::query::{Labels, SearchRequest, SearchResponse, SegmentLabels};
use crate::schema::{self, Fields};
use crate::stats::Stats;

/// For each segment, the documents a search hides unless asked for every
/// version: records of a thread version older than the thread's newest.
pub(crate) type Hidden = Arc<HashMap<SegmentId, Arc<DocSet>>>;

/// A set of document ids, one bit each.
#[derive(Debug, Default)]
pub(crate) struct DocSet(Vec<u64>);

impl DocSet {
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

/// An open index, cheap to share between threads (`Arc<Index>`): searches run
/// concurrently, and commits by another process (`reindex`) become visible
/// without reopening.
pub struct Index {
    pub(crate) tantivy: tantivy::Index,
    pub(crate) reader: IndexReader,
    pub(crate) fields: Fields,
    dir: PathBuf,
    /// Older-version records, for the searcher generation they were found in.
    hidden: Mutex<Option<(u64, Hidden)>>,
    /// Facet labels of each segment, for the searcher generation they are of.
    labels: Mutex<Option<(u64, Arc<SegmentLabels>)>>,
}

impl Index {
    /// Opens the index in `dir` for searching.
    ///
    /// Fails with [`Error::IndexMissing`] when `dir` holds no index.
    pub fn open(dir: impl AsRef<Path>) -> Result<Index> {
        let dir = dir.as_ref();
        if !exists(dir) {
            return Err(Error::IndexMissing(dir.to_path_buf()));
        }
        let folder = MmapDirectory::open(dir).map_err(TantivyError::from)?;
        let mut tantivy = tantivy::Index::open(ReaderDirectory(folder))?;
        check_schema(dir, &tantivy)?;
        // A search visits the segments on every core: most of its time is
        // spent per match, in scoring and facet counting.
        tantivy.set_default_multithread_executor()?;
        crate::analyzer::register_analyzers(&tantivy);
        let fields = Fields::new(&tantivy.schema())?;
        let reader = tantivy
            .reader_builder()
            .reload_policy(ReloadPolicy::OnCommitWithDelay)
            .try_into()
            .map_err(|e| writer_error(dir, e))?;
        Ok(Index {
            tantivy,
            reader,
            fields,
            dir: dir.to_path_buf(),
            hidden: Mutex::new(None),
            labels: Mutex::new(None),
        })
    }

    /// Rebuilds the index in `index_dir` from every page under `corpus` (see
    /// [`crate::ingest::build`]); `progress` is called as files are parsed.
    pub fn ingest(
        corpus: &Path,
        index_dir: &Path,
        progress: &(dyn Fn(Progress) + Sync),
    ) -> Result<IndexReport> {
        crate::ingest::build(corpus, index_dir, progress)
    }

    /// Brings the index in `index_dir` in line with `corpus`, reading only what
    /// changed (see [`crate::ingest::reindex`]).
    pub fn reindex(
        corpus: &Path,
        index_dir: &Path,
        wait: std::time::Duration,
        progress: &(dyn Fn(Progress) + Sync),
    ) -> Result<ReindexReport> {
        crate::ingest::reindex(corpus, index_dir, wait, progress)
    }

    /// The folder the index lives in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Runs a search; see [`SearchRequest`] for what can be asked.
    pub fn search(&self, request: &SearchRequest) -> Result<SearchResponse> {
        crate::query::run(self, request)
    }

    /// Counts what the index holds.
    pub fn stats(&self) -> Result<Stats> {
        crate::stats::collect(self)
    }

    /// Calls `each` with every record the index holds (every version of every
    /// thread), in index order: the basis of `claimsearch export`.
    pub fn for_each_record(&self, mut each: impl FnMut(Record) -> Result<()>) -> Result<()> {
        let searcher = self.reader.searcher();
        for (ordinal, segment) in searcher.segment_readers().iter().enumerate() {
            for doc in 0..segment.max_doc() {
                if segment.alive_bitset().is_some_and(|a| !a.is_alive(doc)) {
                    continue;
                }
                let address = DocAddress::new(ordinal as u32, doc);
                each(self.record(&searcher, address)?)?;
            }
        }
        Ok(())
    }

    /// The stored record of a document.
    pub(crate) fn record(&self, searcher: &Searcher, address: DocAddress) -> Result<Record> {
        let doc: TantivyDocument = searcher.doc(address)?;
        let json = doc
            .get_first(self.fields.record)
            .and_then(|v| v.as_str())
            .unwrap_or_default();
        serde_json::from_str(json).map_err(|e| {
            Error::Index(TantivyError::InternalError(format!(
                "stored record is not readable ({e}); rebuild with `claimsearch index`"
            )))
        })
    }

    /// Makes the next search see the latest commit now rather than within the
    /// reload delay (the reader also reloads by itself).
    pub fn reload(&self) -> Result<()> {
        Ok(self.reader.reload()?)
    }

    /// The records of older thread versions in this searcher's snapshot.
    /// Found once per commit and cached.
    pub(crate) fn hidden(&self, searcher: &Searcher) -> Result<Hidden> {
        let generation = searcher.generation().generation_id();
        let mut cache = self.hidden.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((cached, hidden)) = cache.as_ref() {
            if *cached == generation {
                return Ok(Arc::clone(hidden));
            }
        }
        let hidden = Arc::new(older_versions(searcher)?);
        *cache = Some((generation, Arc::clone(&hidden)));
        Ok(hidden)
    }

    /// The facet labels of every segment of this searcher, read once per
    /// segment (segments never change; a commit only adds or merges them).
    pub(crate) fn facet_labels(&self, searcher: &Searcher) -> Result<Arc<SegmentLabels>> {
        let generation = searcher.generation().generation_id();
        let mut cache = self.labels.lock().unwrap_or_else(|e| e.into_inner());
        let old = match cache.as_ref() {
            Some((cached, labels)) if *cached == generation => return Ok(Arc::clone(labels)),
            Some((_, labels)) => Arc::clone(labels),
            None => Arc::default(),
        };
        let mut labels = SegmentLabels::new();
        for segment in searcher.segment_readers() {
            let id = segment.segment_id();
            let read = match old.get(&id) {
                Some(known) => Arc::clone(known),
                None => Arc::new(Labels::read(segment)?),
            };
            labels.insert(id, read);
        }
        let labels = Arc::new(labels);
        *cache = Some((generation, Arc::clone(&labels)));
        Ok(labels)
    }
}

/// The index folder as a reader sees it: Tantivy's memory-mapped folder, except
/// on a read-only file system, where the lock a reader takes while it opens a
/// commit (so that a writer does not delete files under it) cannot be created
/// and is not needed, since no writer can run there. Without this an index on
/// a read-only mount could not be searched at all.
#[derive(Clone, Debug)]
struct ReaderDirectory(MmapDirectory);

impl Directory for ReaderDirectory {
    fn get_file_handle(&self, path: &Path) -> Result<Arc<dyn FileHandle>, OpenReadError> {
        self.0.get_file_handle(path)
    }

    fn delete(&self, path: &Path) -> Result<(), DeleteError> {
        self.0.delete(path)
    }

    fn exists(&self, path: &Path) -> Result<bool, OpenReadError> {
        self.0.exists(path)
    }

    fn open_write(&self, path: &Path) -> Result<WritePtr, OpenWriteError> {
        self.0.open_write(path)
    }

    fn atomic_read(&self, path: &Path) -> Result<Vec<u8>, OpenReadError> {
        self.0.atomic_read(path)
    }

    fn atomic_write(&self, path: &Path, data: &[u8]) -> std::io::Result<()> {
        self.0.atomic_write(path, data)
    }

    fn sync_directory(&self) -> std::io::Result<()> {
        self.0.sync_directory()
    }

    fn acquire_lock(&self, lock: &Lock) -> Result<DirectoryLock, LockError> {
        match self.0.acquire_lock(lock) {
            Err(LockError::IoError(e)) if e.kind() == ErrorKind::ReadOnlyFilesystem => {
                Ok(DirectoryLock::from(Box::new(())))
            }
            other => other,
        }
    }

    fn watch(&self, callback: WatchCallback) -> tantivy::Result<WatchHandle> {
        self.0.watch(callback)
    }
}

/// The alive records of every thread version but each thread's newest. Only
/// thread records have a `thread_version` key: those are read, nothing else.
fn older_versions(searcher: &Searcher) -> Result<HashMap<SegmentId, Arc<DocSet>>> {
    let mut keyed = Vec::new();
    let mut newest: HashMap<u64, u64> = HashMap::new();
    for segment in searcher.segment_readers() {
        let column = segment.fast_fields().u64(schema::names::THREAD_VERSION)?;
        let mut docs = Vec::new();
        column.get_docids_for_value_range(1..=u64::MAX, 0..segment.max_doc(), &mut docs);
        let alive = segment.alive_bitset();
        docs.retain(|&doc| alive.is_none_or(|a| a.is_alive(doc)));
        let keys: Vec<(DocId, u64)> = (docs.into_iter())
            .filter_map(|doc| Some((doc, column.first(doc)?)))
            .collect();
        for &(_, key) in &keys {
            let entry = newest.entry(schema::thread_of_key(key)).or_insert(key);
            *entry = (*entry).max(key);
        }
        keyed.push((segment.segment_id(), keys));
    }
    let mut hidden = HashMap::new();
    for (segment, keys) in keyed {
        let mut older = DocSet::default();
        for (doc, key) in keys {
            if newest.get(&schema::thread_of_key(key)) != Some(&key) {
                older.insert(doc);
            }
        }
        hidden.insert(segment, Arc::new(older));
    }
    Ok(hidden)
}

/// True when `dir` holds a committed index.
pub fn exists(dir: &Path) -> bool {
    dir.join("meta.json").is_file()
}

/// Opens the index in `dir` for writing, creating the folder and the index
/// when there is none.
pub(crate) fn open_or_create(dir: &Path) -> Result<tantivy::Index> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let index = if exists(dir) {
        tantivy::Index::open_in_dir(dir)?
    } else {
        tantivy::Index::builder()
            .schema(schema::build())
            .settings(schema::settings())
            .create_in_dir(dir)?
    };
    check_schema(dir, &index)?;
    crate::analyzer::register_analyzers(&index);
    Ok(index)
}

/// Refuses an index whose schema is not this version's: its documents lack
/// fields (or columns) that searches and facets read.
fn check_schema(dir: &Path, index: &tantivy::Index) -> Result<()> {
    if index.schema() == schema::build() {
        return Ok(());
    }
    Err(Error::BadRequest(format!(
        "the index at {} was built by another version of claimsearch; remove it and run `claimsearch index`",
        dir.display()
    )))
}

/// Maps Tantivy's "lock busy" to [`Error::IndexBusy`], and a lock file that
/// cannot be created (a read-only or full file system) to [`Error::Io`] on the
/// index folder: Tantivy's own message for it suggests another writer.
pub(crate) fn writer_error(dir: &Path, err: TantivyError) -> Error {
    match err {
        TantivyError::LockFailure(LockError::LockBusy, _) => Error::IndexBusy(dir.to_path_buf()),
        TantivyError::LockFailure(LockError::IoError(io), _) => {
            Error::io(dir, std::io::Error::new(io.kind(), io.to_string()))
        }
        other => Error::Index(other),
    }
}
