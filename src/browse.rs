//! Reading one page back out of the index, as the search page's item view
//! shows it: every record of a page path (all versions), the threads they
//! belong to, and the saved versions of a thread. No ranking and no query
//! text: exact terms and the thread-version column only.

use std::collections::BTreeMap;

use serde::Serialize;
use tantivy::collector::DocSetCollector;
use tantivy::query::TermQuery;
use tantivy::schema::IndexRecordOption;
use tantivy::{DocAddress, DocSet, Searcher, TantivyError, Term, TERMINATED};

use crate::error::Result;
use crate::model::{Kind, Record};
use crate::query::Reader;
use crate::schema::{self, thread_version_key, Fields};

/// One page as the index holds it (or one item of a JSON Lines page).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PageView {
    /// The page, relative to the corpus root.
    pub path: String,
    /// Its records in page order: every version's, older thread versions included.
    pub records: Vec<Record>,
    /// Every thread the records belong to (an item's threads, or the thread itself).
    pub threads: Vec<String>,
    /// For a thread history page, every saved version of its thread, oldest first.
    pub versions: Vec<ThreadVersion>,
}

/// One saved version of a thread history page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ThreadVersion {
    /// The version number (`Version N` on the page).
    pub version: u32,
    /// The version's date, when one of its records carries it.
    pub date: Option<crate::model::Date>,
    /// The page of that version, relative to the corpus root.
    pub path: String,
}

/// The page at `path` (corpus-relative, `/` separators, matched exactly), or
/// only item `item` (its line) of a JSON Lines page; `None` when the index
/// holds no record of it.
pub(crate) fn page(reader: &Reader, path: &str, item: Option<u64>) -> Result<Option<PageView>> {
    let searcher = reader.searcher();
    let fields = Fields::new(searcher.schema())?;
    // The path field is a keyword field: its terms are lowercase.
    let term = Term::from_field_text(fields.path, &path.to_lowercase());
    let query = TermQuery::new(term, IndexRecordOption::Basic);
    let addresses: Vec<DocAddress> = searcher
        .search(&query, &DocSetCollector)?
        .into_iter()
        .collect();
    // A page's records may span segments: each keeps its place on the page.
    let mut placed = Vec::with_capacity(addresses.len());
    for address in addresses {
        let segment = searcher.segment_reader(address.segment_ord);
        let place = segment
            .fast_fields()
            .u64(schema::names::PLACE)?
            .first(address.doc_id);
        placed.push((place.unwrap_or(u64::MAX), address));
    }
    placed.sort_unstable();
    let addresses = placed.into_iter().map(|(_, address)| address);
    let item_prefix = item.map(|line| format!("{path}#{line}/"));
    let mut records = Vec::with_capacity(addresses.len());
    let mut kept = Vec::with_capacity(addresses.len());
    for address in addresses {
        let record = reader.record(&searcher, address)?;
        // Two paths that differ only in case share a term.
        let ours = record.path == path
            && item_prefix
                .as_deref()
                .is_none_or(|prefix| record.id.starts_with(prefix));
        if ours {
            records.push(record);
            kept.push(address);
        }
    }
    if records.is_empty() {
        return Ok(None);
    }
    let threads = threads_of(reader, &searcher, &fields, &records, &kept)?;
    let versions = match records.iter().find(|r| r.version.is_some()) {
        Some(record) => versions_of(reader, &searcher, &record.title)?,
        None => Vec::new(),
    };
    Ok(Some(PageView {
        path: path.to_string(),
        records,
        threads,
        versions,
    }))
}

/// The threads any of `docs` belongs to: the `thread` terms their postings
/// hold, spelled as the thread's own records spell its title.
fn threads_of(
    reader: &Reader,
    searcher: &Searcher,
    fields: &Fields,
    records: &[Record],
    docs: &[DocAddress],
) -> Result<Vec<String>> {
    let mut terms: Vec<String> = Vec::new();
    for (ordinal, segment) in searcher.segment_readers().iter().enumerate() {
        let mut ours: Vec<u32> = docs
            .iter()
            .filter(|a| a.segment_ord as usize == ordinal)
            .map(|a| a.doc_id)
            .collect();
        if ours.is_empty() {
            continue;
        }
        ours.sort_unstable();
        let inverted = segment.inverted_index(fields.thread)?;
        let mut stream = inverted.terms().stream().map_err(TantivyError::from)?;
        while stream.advance() {
            let mut postings = inverted
                .read_postings_from_terminfo(stream.value(), IndexRecordOption::Basic)
                .map_err(TantivyError::from)?;
            let mut holds = false;
            for &doc in &ours {
                let at = if postings.doc() < doc {
                    postings.seek(doc)
                } else {
                    postings.doc()
                };
                if at == TERMINATED {
                    break;
                }
                if at == doc {
                    holds = true;
                    break;
                }
            }
            let term = String::from_utf8_lossy(stream.key()).into_owned();
            if holds && !terms.contains(&term) {
                terms.push(term);
            }
        }
    }
    // The terms are lowercase: name each thread as its records do.
    let mut threads = Vec::with_capacity(terms.len());
    for term in terms {
        let own = records
            .iter()
            .filter_map(|r| r.thread.as_deref())
            .find(|t| t.to_lowercase() == term);
        let title = match own {
            Some(title) => title.to_string(),
            None => thread_title(reader, searcher, fields, &term)?.unwrap_or(term),
        };
        threads.push(title);
    }
    Ok(threads)
}

/// The title a thread's records carry, found from its lowercase `thread` term.
fn thread_title(
    reader: &Reader,
    searcher: &Searcher,
    fields: &Fields,
    term: &str,
) -> Result<Option<String>> {
    let query = TermQuery::new(
        Term::from_field_text(fields.thread, term),
        IndexRecordOption::Basic,
    );
    for address in searcher.search(&query, &DocSetCollector)? {
        let record = reader.record(searcher, address)?;
        if let Some(thread) = record.thread.filter(|t| t.to_lowercase() == term) {
            return Ok(Some(thread));
        }
    }
    Ok(None)
}

/// The saved versions of the thread titled `thread` (exactly, as its records
/// carry it), oldest first.
fn versions_of(reader: &Reader, searcher: &Searcher, thread: &str) -> Result<Vec<ThreadVersion>> {
    let keys = thread_version_key(thread, 0)..=thread_version_key(thread, u32::MAX);
    // Per version, the documents that carry its key, in index order.
    let mut found: BTreeMap<u64, Vec<DocAddress>> = BTreeMap::new();
    for (ordinal, segment) in searcher.segment_readers().iter().enumerate() {
        let column = segment.fast_fields().u64(schema::names::THREAD_VERSION)?;
        let mut docs = Vec::new();
        column.get_docids_for_value_range(keys.clone(), 0..segment.max_doc(), &mut docs);
        let alive = segment.alive_bitset();
        for doc in docs {
            if alive.is_some_and(|a| !a.is_alive(doc)) {
                continue;
            }
            if let Some(key) = column.first(doc) {
                found
                    .entry(key)
                    .or_default()
                    .push(DocAddress::new(ordinal as u32, doc));
            }
        }
    }
    let mut versions = Vec::with_capacity(found.len());
    for addresses in found.into_values() {
        // An event is dated by itself; any other record by its version.
        let mut chosen: Option<Record> = None;
        for address in addresses {
            let record = reader.record(searcher, address)?;
            if record.thread.as_deref() != Some(thread) {
                break; // another thread whose key collides: not this one
            }
            let dated_by_version = record.kind != Kind::Event;
            chosen = Some(record);
            if dated_by_version {
                break;
            }
        }
        let Some(record) = chosen else { continue };
        let Some(version) = record.version else {
            continue;
        };
        versions.push(ThreadVersion {
            version,
            date: record.date.filter(|_| record.kind != Kind::Event),
            path: record.path,
        });
    }
    versions.sort_by_key(|v| v.version);
    Ok(versions)
}
