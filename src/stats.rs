//! What the index holds: records by kind, pages, sources, date range, size.

use serde::{Deserialize, Serialize};
use tantivy::query::AllQuery;

use crate::error::{Error, Result};
use crate::model::Date;
use crate::query::{most_frequent, DateBucket, FacetCount, Reader};

/// Counts over the whole index (every version of every thread).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stats {
    /// Records in the index.
    pub records: u64,
    /// Records by kind, most frequent first.
    pub kinds: Vec<FacetCount>,
    /// Pages (files) indexed by the last commit.
    pub pages: usize,
    /// Distinct sources.
    pub sources: usize,
    /// The earliest record date.
    pub first_date: Option<Date>,
    /// The latest record date.
    pub last_date: Option<Date>,
    /// Bytes the index folder takes on disk.
    pub index_bytes: u64,
}

/// Counts what `reader`'s latest commit holds; `pages` and `dir` are the
/// commit's page count and the index folder.
pub(crate) fn collect(reader: &Reader, pages: usize, dir: &std::path::Path) -> Result<Stats> {
    let searcher = reader.searcher();
    let state = reader.state(&searcher)?;
    // The index's own figures are counted exactly.
    let counter = state.facet_counter(DateBucket::Day, None, None);
    let counts = searcher.search(&AllQuery, &counter)?;
    let mut days: Vec<&String> = counts.date.keys().collect();
    days.sort();
    Ok(Stats {
        records: searcher.num_docs(),
        kinds: most_frequent(counts.kind.clone(), usize::MAX),
        pages,
        sources: counts.source.len(),
        first_date: days.first().and_then(|d| Date::parse(d)),
        last_date: days.last().and_then(|d| Date::parse(d)),
        index_bytes: folder_size(dir)?,
    })
}

fn folder_size(dir: &std::path::Path) -> Result<u64> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    Ok(entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum())
}
