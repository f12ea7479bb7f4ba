//! A thread's saved versions, read back from the index, and the story they tell
//! ([`crate::history`] does the comparing; this finds the thread and its records).

use std::collections::{BTreeMap, BTreeSet};

use tantivy::collector::DocSetCollector;
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery, TermSetQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{DateTime, DocAddress, Searcher, TantivyDocument, Term};

use super::Reader;
use crate::error::{Error, Result};
use crate::history::{self, History, SavedVersion, THREAD_KINDS};
use crate::model::{Date, Kind, Record};
use crate::schema::{self, names};

/// One thread record read back, with what places it in its version.
struct Read {
    record: Record,
    version_date: Option<Date>,
}

impl Reader {
    /// The history of the thread titled `thread` (ignoring case) or whose slug
    /// is `thread` ([`history::slug`]); `None` when the index holds no version
    /// of such a thread.
    ///
    /// Fails with [`Error::BadRequest`] when `thread` is empty, or is the slug
    /// of several threads.
    pub(crate) fn history(&self, thread: &str) -> Result<Option<History>> {
        let searcher = self.searcher();
        let Some(records) = self.thread_records(&searcher, thread)? else {
            return Ok(None);
        };
        let newest = records.iter().max_by_key(|r| r.record.version);
        let title = newest
            .and_then(|r| r.record.thread.clone())
            .unwrap_or_default();
        let mut versions: BTreeMap<(u32, String), SavedVersion> = BTreeMap::new();
        let mut ordered = records;
        ordered.sort_by_key(|r| place(&r.record));
        for Read {
            record,
            version_date,
        } in ordered
        {
            let version = record.version.unwrap_or_default();
            let saved =
                (versions.entry((version, record.path.clone()))).or_insert_with(|| SavedVersion {
                    version,
                    date: version_date,
                    path: record.path.clone(),
                    records: Vec::new(),
                });
            saved.records.push((record.kind, record.text));
        }
        Ok(Some(history::history(
            &title,
            versions.into_values().collect(),
        )))
    }

    /// The records of every version of the thread `thread` names, or `None`.
    fn thread_records(&self, searcher: &Searcher, thread: &str) -> Result<Option<Vec<Read>>> {
        let wanted = thread.trim().to_lowercase();
        if wanted.is_empty() {
            return Err(Error::BadRequest("the thread is empty".into()));
        }
        let exact = self.records_of(searcher, &wanted)?;
        if !exact.is_empty() {
            return Ok(Some(exact));
        }
        let slug = history::slug(&wanted);
        if slug.is_empty() {
            return Ok(None);
        }
        let mut found: Vec<(String, Vec<Read>)> = Vec::new();
        for title in self.thread_titles(searcher)? {
            if history::slug(&title) == slug {
                let records = self.records_of(searcher, &title)?;
                if !records.is_empty() {
                    found.push((title, records));
                }
            }
        }
        match found.len() {
            0 => Ok(None),
            1 => Ok(found.pop().map(|(_, records)| records)),
            _ => {
                let titles: Vec<String> = (found.iter())
                    .filter_map(|(_, r)| r.first()?.record.thread.clone())
                    .collect();
                Err(Error::BadRequest(format!(
                    "'{thread}' is the slug of several threads ({}); give the title",
                    titles.join("; ")
                )))
            }
        }
    }

    /// Every value of the thread field (lowercased thread titles), once.
    fn thread_titles(&self, searcher: &Searcher) -> Result<BTreeSet<String>> {
        let mut titles = BTreeSet::new();
        for segment in searcher.segment_readers() {
            let inverted = segment.inverted_index(self.fields.thread)?;
            let mut terms = inverted
                .terms()
                .stream()
                .map_err(tantivy::TantivyError::from)?;
            while terms.advance() {
                titles.insert(String::from_utf8_lossy(terms.key()).into_owned());
            }
        }
        Ok(titles)
    }

    /// The alive thread records whose own thread is `title` (lowercased), every
    /// version; items that merely appear in the thread are not among them.
    fn records_of(&self, searcher: &Searcher, title: &str) -> Result<Vec<Read>> {
        let f = &self.fields;
        let thread = Term::from_field_text(f.thread, title);
        let kinds = THREAD_KINDS.map(|k| Term::from_field_text(f.kind, k.as_str()));
        let query = BooleanQuery::new(vec![
            (
                Occur::Must,
                Box::new(TermQuery::new(thread, IndexRecordOption::Basic)) as Box<dyn Query>,
            ),
            (Occur::Must, Box::new(TermSetQuery::new(kinds))),
        ]);
        let mut addresses: Vec<DocAddress> = (searcher.search(&query, &DocSetCollector)?)
            .into_iter()
            .collect();
        addresses.sort();
        let mut read = Vec::with_capacity(addresses.len());
        for address in addresses {
            let doc: TantivyDocument = searcher.doc(address)?;
            let record = schema::stored_record(f, &doc)?;
            let own = (record.thread.as_deref()).is_some_and(|t| t.to_lowercase() == title);
            if record.version.is_none() || !own {
                continue;
            }
            let segment = searcher.segment_reader(address.segment_ord);
            let dates = (segment.fast_fields()).column_opt::<DateTime>(names::VERSION_DATE)?;
            let version_date = (dates.and_then(|c| c.first(address.doc_id)))
                .map(|d| Date::from_days_since_epoch(d.into_timestamp_secs().div_euclid(86_400)));
            read.push(Read {
                record,
                version_date,
            });
        }
        Ok(read)
    }
}

/// Where a thread record stands on its page: its kind in page order, then its
/// number (`…#event-3` is the third event).
fn place(record: &Record) -> (u32, usize, usize, String) {
    let kind = THREAD_KINDS.iter().position(|k| *k == record.kind);
    let number = (record.id.rsplit_once('#'))
        .and_then(|(_, local)| local.rsplit_once('-'))
        .and_then(|(_, n)| n.parse().ok())
        .unwrap_or(usize::MAX);
    let version = record.version.unwrap_or_default();
    (
        version,
        kind.unwrap_or(Kind::ALL.len()),
        number,
        record.id.clone(),
    )
}
