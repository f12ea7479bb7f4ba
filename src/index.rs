//! The index handle a program keeps open: the folder, the Tantivy index in
//! it and a reader that picks up new commits by itself. It only hands work on:
//! opening to [`crate::storage`], searching to [`crate::query`], counting to
//! [`crate::stats`], writing to [`crate::ingest`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use tantivy::DocAddress;

use crate::browse::PageView;
use crate::error::Result;
use crate::export::{Engine, ExportSummary};
use crate::history::History;
use crate::ingest::{IndexReport, Progress, ReindexReport};
use crate::model::Record;
use crate::query::{Reader, SearchRequest, SearchResponse, Similar};
use crate::stats::Stats;
use crate::storage::{self, Payload};

/// An open index, cheap to share between threads (`Arc<Index>`): searches run
/// concurrently, and commits by another process (`reindex`) become visible
/// without reopening.
pub struct Index {
    tantivy: tantivy::Index,
    reader: Reader,
    dir: PathBuf,
}

impl Index {
    /// Opens the index in `dir` for searching.
    ///
    /// Fails with [`crate::Error::IndexMissing`] when `dir` holds no index and
    /// [`crate::Error::IndexVersion`] when another version of claimsearch built it.
    pub fn open(dir: impl AsRef<Path>) -> Result<Index> {
        Index::open_with(dir.as_ref(), true)
    }

    /// Opens the index in `dir` for searching its last commit: what a
    /// process that answers one request and ends needs. Unlike
    /// [`Index::open`], nothing watches the folder for later commits (a
    /// search sees one only after [`Index::reload`]): Tantivy's watcher
    /// re-reads the commit as soon as it starts, which would open every
    /// segment a second time while the one search runs.
    pub fn open_snapshot(dir: impl AsRef<Path>) -> Result<Index> {
        Index::open_with(dir.as_ref(), false)
    }

    fn open_with(dir: &Path, follow: bool) -> Result<Index> {
        let mut tantivy = storage::open_for_reading(dir)?;
        // A search visits the segments on every core: most of its time is
        // spent per match, in scoring and facet counting.
        tantivy.set_default_multithread_executor()?;
        let reader =
            Reader::new(&tantivy, dir, follow).map_err(|e| storage::writer_error(dir, e))?;
        Ok(Index {
            tantivy,
            reader,
            dir: dir.to_path_buf(),
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
        wait: Duration,
        progress: &(dyn Fn(Progress) + Sync),
    ) -> Result<ReindexReport> {
        crate::ingest::reindex(corpus, index_dir, wait, progress)
    }

    /// The folder the index lives in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Keeps at most `bytes` (about) of the counts and first ranked matches
    /// of each commit's recent searches, 8 MiB unless told; 0 keeps none
    /// (nor the echoes of the hits shown, otherwise kept too). A
    /// search's `total` and facets are counted over its matches, and its
    /// first 50 matches ranked, the first time the commit is asked for
    /// them; asked again (another page, the same query and filters from
    /// another client), a page within those 50 is read from them, and one
    /// beyond them only ranked. The counts are the same either way (exact,
    /// or estimated past [`Index::count_facets_exactly_up_to`]'s bound): a
    /// commit never changes.
    pub fn keep_counts(&self, bytes: usize) {
        self.reader.keep_counts(bytes);
    }

    /// Counts the facets of a search exactly over its first `matches`
    /// matches (each segment its share, by size),
    /// [`crate::query::FACETS_EXACT_UP_TO`] unless told, and past them over
    /// one match in 16, scaled up to
    /// every match (`facets_exact` is then `false`); `u64::MAX` counts every
    /// match of every search, as [`SearchRequest::exact_facets`] does for
    /// one. `total` is exact either way.
    pub fn count_facets_exactly_up_to(&self, matches: u64) {
        self.reader.count_facets_exactly_up_to(matches);
    }

    /// Runs a search; see [`SearchRequest`] for what can be asked.
    pub fn search(&self, request: &SearchRequest) -> Result<SearchResponse> {
        self.reader.search(request)
    }

    /// The history of a thread, named by its title (ignoring case) or its slug
    /// (`deep-learning-theory-is-broken-and-maybe-unfixable`): every saved
    /// version with its records by kind, and between consecutive versions the
    /// records added and removed (see [`crate::history`]). `None` when the index
    /// holds no version of such a thread.
    ///
    /// Fails with [`crate::Error::BadRequest`] when `thread` is empty or is the
    /// slug of several threads.
    pub fn history(&self, thread: &str) -> Result<Option<History>> {
        self.reader.history(thread)
    }

    /// The records that make the same claim as the record `id` (a claim,
    /// quote, event, perspective or tension), oldest first, then the nearest
    /// records that do not, each with the reason. An unknown id, or a record
    /// of a kind that holds many claims, is [`crate::Error::BadRequest`].
    pub fn similar(&self, id: &str) -> Result<Similar> {
        self.reader.similar(id)
    }

    /// Counts what the index holds.
    pub fn stats(&self) -> Result<Stats> {
        let pages = Payload::load(&self.tantivy).pages;
        crate::stats::collect(&self.reader, pages, &self.dir)
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
                each(self.reader.record(&searcher, address)?)?;
            }
        }
        Ok(())
    }

    /// The page at `path` as the index holds it (every record, all versions;
    /// only item `item` of a JSON Lines page when given), with its threads
    /// and, for a thread page, the thread's versions; `None` when no record
    /// has that path. The search page's item view.
    pub fn page(&self, path: &str, item: Option<u64>) -> Result<Option<PageView>> {
        crate::browse::page(&self.reader, path, item)
    }

    /// Writes `engine`'s index configuration for the index `name` and every
    /// record, as NDJSON batches for its ingest API, into `dir` (see
    /// [`crate::export`]).
    pub fn export_to(&self, engine: Engine, name: &str, dir: &Path) -> Result<ExportSummary> {
        crate::export::write(&self.reader, engine, name, dir)
    }

    /// Makes the next search see the latest commit now rather than within the
    /// reload delay (the reader also reloads by itself).
    pub fn reload(&self) -> Result<()> {
        self.reader.reload()
    }
}
