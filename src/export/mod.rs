//! The hand-off to a distributed engine (Quickwit or OpenSearch) when a
//! tracker outgrows one machine: every record as the engine stores it, the
//! engine's index configuration for the same fields, NDJSON batches shaped
//! for its ingest API, and the search request the engine needs for a
//! [`SearchRequest`]. See `docs/scale-out.md`.
//!
//! Nothing here talks to an engine: the files are written for an operator
//! (or a cron job) to load with the engine's own tools.

mod batches;
pub mod opensearch;
pub mod quickwit;
mod translate;
mod yaml;

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::Serialize;
use tantivy::schema::IndexRecordOption;
use tantivy::DocSet;
use tantivy::{DocAddress, DocId, SegmentReader, TERMINATED};

use crate::error::{Error, Result};
use crate::model::Record;
use crate::query::{Reader, SearchRequest};

pub use batches::MAX_BATCH_BYTES;

/// The name of the index in the engine unless told otherwise.
pub const INDEX_NAME: &str = "claims";

/// Whether `name` can name an index in both engines: 3 to 255 lowercase
/// ASCII letters, digits, `-` and `_`, starting with a letter (Quickwit
/// index ids; OpenSearch index names are lowercase).
pub fn valid_index_name(name: &str) -> bool {
    (3..=255).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// An engine claimsearch hands off to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// Quickwit: distributed search built on Tantivy, splits on object storage.
    Quickwit,
    /// OpenSearch: the Lucene-based cluster.
    OpenSearch,
}

impl FromStr for Engine {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "quickwit" => Ok(Engine::Quickwit),
            "opensearch" => Ok(Engine::OpenSearch),
            other => Err(format!("unknown engine '{other}' (quickwit or opensearch)")),
        }
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Engine::Quickwit => "quickwit",
            Engine::OpenSearch => "opensearch",
        })
    }
}

/// A record as an engine stores it: the record view `export` prints, and
/// what the engine cannot work out by itself at query time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EngineRecord {
    /// The record (flattened: `id`, `kind`, `text`, …).
    #[serde(flatten)]
    pub record: Record,
    /// The topic slugs again, as exact values for filters and facets
    /// (`topics` is analysed text in the engine, as in our index).
    pub topic: Vec<String>,
    /// Every thread the record belongs to (its own, or every thread its item
    /// appears in), lowercased: what `--thread` matches.
    pub threads: Vec<String>,
    /// The folded byline and each author's full and last name: what
    /// `--author` and `author:` match (see [`crate::authors::byline_keys`]).
    pub author_keys: Vec<String>,
    /// False for records of a thread version older than the thread's newest
    /// at export time; the engine's default searches keep `newest: true`.
    pub newest: bool,
    /// True for a quote found in the corpus's raw text (`--verified`).
    pub verified: bool,
}

/// What an export wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ExportSummary {
    /// Records written.
    pub records: usize,
    /// Batch files written.
    pub batches: usize,
    /// The index configuration file.
    pub config: PathBuf,
    /// Records left out because one alone is larger than a batch, by id.
    pub too_large: Vec<String>,
}

/// The search request body `engine` needs for `request`: the same query,
/// filters, facets (terms aggregations) and date histogram.
pub fn explain(engine: Engine, request: &SearchRequest) -> Result<serde_json::Value> {
    match engine {
        Engine::Quickwit => quickwit::search_body(request),
        Engine::OpenSearch => opensearch::search_body(request),
    }
}

/// Writes `engine`'s index configuration for the index `name` and every
/// record, as NDJSON batches of at most [`MAX_BATCH_BYTES`], into `dir`
/// (created if missing; it must not hold files already, so that no stale
/// batch is loaded).
pub(crate) fn write(
    reader: &Reader,
    engine: Engine,
    name: &str,
    dir: &Path,
) -> Result<ExportSummary> {
    if !valid_index_name(name) {
        return Err(Error::BadRequest(format!(
            "'{name}' cannot name an index: 3 to 255 lowercase letters, digits, - and _, starting with a letter"
        )));
    }
    prepare(dir)?;
    let (config_name, config) = match engine {
        Engine::Quickwit => ("index-config.yaml", quickwit::config_yaml(name)),
        Engine::OpenSearch => {
            let body = serde_json::to_string_pretty(&opensearch::index_body())
                .expect("a JSON value always serializes");
            ("index.json", body + "\n")
        }
    };
    let config_path = dir.join(config_name);
    std::fs::write(&config_path, config).map_err(|e| Error::io(&config_path, e))?;

    let mut batches = batches::Batches::new(dir, engine);
    let mut too_large = Vec::new();
    let mut records = 0;
    for_each(reader, |record| {
        let lines = match engine {
            Engine::Quickwit => quickwit::ingest_lines(&record),
            Engine::OpenSearch => opensearch::bulk_lines(&record, name),
        };
        if batches.push(&lines)? {
            records += 1;
        } else {
            too_large.push(record.record.id);
        }
        Ok(())
    })?;
    let batches = batches.finish()?;
    Ok(ExportSummary {
        records,
        batches,
        config: config_path,
        too_large,
    })
}

/// Creates `dir`, or checks that it is empty.
fn prepare(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    if entries.next().is_some() {
        return Err(Error::BadRequest(format!(
            "{} is not empty: export into a new folder, so that no older batch is loaded with the new ones",
            dir.display()
        )));
    }
    Ok(())
}

/// Calls `each` with every record of the index as the engine stores it,
/// segment by segment in index order.
pub(crate) fn for_each(
    reader: &Reader,
    mut each: impl FnMut(EngineRecord) -> Result<()>,
) -> Result<()> {
    let searcher = reader.searcher();
    let older = reader.older_versions(&searcher)?;
    for (ordinal, segment) in searcher.segment_readers().iter().enumerate() {
        let hidden = older.get(&segment.segment_id());
        let threads = SegmentThreads::read(segment, reader)?;
        let mut cursor = 0;
        for doc in 0..segment.max_doc() {
            if segment.alive_bitset().is_some_and(|a| !a.is_alive(doc)) {
                continue;
            }
            let record = reader.record(&searcher, DocAddress::new(ordinal as u32, doc))?;
            each(EngineRecord {
                topic: record.topics.clone(),
                author_keys: (record.author.as_deref())
                    .map(|a| crate::authors::byline_keys(a, &record.authors))
                    .unwrap_or_default(),
                threads: threads.of(doc, &mut cursor),
                newest: !hidden.is_some_and(|h| h.contains(doc)),
                verified: record.found_in.as_ref().is_some_and(|f| !f.is_empty()),
                record,
            })?;
        }
    }
    Ok(())
}

/// The thread values of one segment's documents, read from the inverted
/// index (the stored record keeps only the first thread of an item).
struct SegmentThreads {
    /// The segment's thread values (lowercased, as indexed).
    values: Vec<String>,
    /// (document, value) pairs, by document.
    pairs: Vec<(DocId, u32)>,
}

impl SegmentThreads {
    fn read(segment: &SegmentReader, reader: &Reader) -> Result<SegmentThreads> {
        let inverted = segment.inverted_index(reader.fields().thread)?;
        let mut values = Vec::new();
        let mut pairs = Vec::new();
        let mut terms = inverted
            .terms()
            .stream()
            .map_err(tantivy::TantivyError::from)?;
        while terms.advance() {
            let value = values.len() as u32;
            values.push(String::from_utf8_lossy(terms.key()).into_owned());
            let mut postings = inverted
                .read_postings_from_terminfo(terms.value(), IndexRecordOption::Basic)
                .map_err(tantivy::TantivyError::from)?;
            let mut doc = postings.doc();
            while doc != TERMINATED {
                pairs.push((doc, value));
                doc = postings.advance();
            }
        }
        pairs.sort_unstable();
        Ok(SegmentThreads { values, pairs })
    }

    /// The values of `doc`; `cursor` walks `pairs` as documents come in order.
    fn of(&self, doc: DocId, cursor: &mut usize) -> Vec<String> {
        while self.pairs.get(*cursor).is_some_and(|&(d, _)| d < doc) {
            *cursor += 1;
        }
        let mut out = Vec::new();
        while let Some(&(d, value)) = self.pairs.get(*cursor) {
            if d != doc {
                break;
            }
            out.push(self.values[value as usize].clone());
            *cursor += 1;
        }
        out
    }
}
