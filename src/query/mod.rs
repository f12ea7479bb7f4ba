//! Request in, results out: parse the query, apply filters, rank, count facets
//! over every match and cut snippets. No formatting happens here.
//!
//! A query of several words matches the records that contain every word (in
//! their text, title or topics). When those do not fill the requested page,
//! records with some of the words match too, ranked after them, and `total`
//! and the facets count those as well (`relaxed`). Either way, each word is
//! scored by BM25F; records with every word rank first.

mod build;
mod facets;
mod shown;
mod snippet;

use std::sync::Arc;

use rustc_hash::FxHashMap;

use serde::{Deserialize, Serialize};
use tantivy::collector::{Count, TopDocs};
use tantivy::query::Query;
use tantivy::snippet::SnippetGenerator;
use tantivy::{DocAddress, Score, Searcher, TantivyError};

use crate::error::{Error, Result};
use crate::index::{Hidden, Index};
use crate::model::{Cite, Date, Kind};
pub(crate) use facets::{Counts, FacetCounter, Labels, SegmentLabels};
use shown::Shown;

pub use snippet::Snippet;

/// The most hits one request may ask for (`limit`).
pub const MAX_LIMIT: usize = 10_000;
/// The longest query text accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 2_000;
/// How many values a `source` or `topic` facet lists (most frequent first).
pub const FACET_VALUES: usize = 20;
/// Longest snippet, in characters.
const SNIPPET_CHARS: usize = 240;

/// How the `date` facet groups matches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DateBucket {
    /// `2026`
    #[default]
    Year,
    /// `2026-04`
    Month,
    /// `2026-04-26`
    Day,
}

impl std::str::FromStr for DateBucket {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "year" => Ok(DateBucket::Year),
            "month" => Ok(DateBucket::Month),
            "day" => Ok(DateBucket::Day),
            other => Err(format!(
                "unknown date bucket '{other}' (year, month or day)"
            )),
        }
    }
}

/// What to search for. Filters combine with AND; several values of one list
/// filter combine with OR.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SearchRequest {
    /// Query text: words, `"phrases"`, `-excluded`, `OR`, `field:value`; `*` matches everything.
    pub query: String,
    /// Hits to return (1 to [`MAX_LIMIT`]).
    pub limit: usize,
    /// Hits to skip, for paging.
    pub offset: usize,
    /// Keep records whose source is one of these (case-insensitive).
    pub sources: Vec<String>,
    /// Keep records with one of these topics.
    pub topics: Vec<String>,
    /// Keep records of one of these kinds.
    pub kinds: Vec<Kind>,
    /// Keep records by this author (case-insensitive).
    pub author: Option<String>,
    /// Keep records of this thread, or items that appear in it.
    pub thread: Option<String>,
    /// Keep records dated on or after this day.
    pub since: Option<Date>,
    /// Keep records dated on or before this day.
    pub until: Option<Date>,
    /// Grouping of the `date` facet.
    pub date_bucket: DateBucket,
    /// Include records of older versions of threads.
    pub all_versions: bool,
}

impl Default for SearchRequest {
    fn default() -> Self {
        SearchRequest {
            query: String::new(),
            limit: 10,
            offset: 0,
            sources: Vec::new(),
            topics: Vec::new(),
            kinds: Vec::new(),
            author: None,
            thread: None,
            since: None,
            until: None,
            date_bucket: DateBucket::Year,
            all_versions: false,
        }
    }
}

impl SearchRequest {
    /// A request for `query` with default settings (10 hits, newest versions only).
    pub fn new(query: impl Into<String>) -> Self {
        SearchRequest {
            query: query.into(),
            ..SearchRequest::default()
        }
    }

    /// Checks bounds and consistency before any work is done.
    pub fn validate(&self) -> Result<()> {
        if self.query.trim().is_empty() {
            return Err(Error::BadQuery(
                "the query is empty (use * to match everything)".into(),
            ));
        }
        if self.query.chars().count() > MAX_QUERY_CHARS {
            return Err(Error::BadQuery(format!(
                "the query is longer than {MAX_QUERY_CHARS} characters"
            )));
        }
        if self.limit == 0 || self.limit > MAX_LIMIT {
            return Err(Error::BadRequest(format!(
                "limit must be between 1 and {MAX_LIMIT}"
            )));
        }
        if self.offset > MAX_LIMIT * 10 {
            return Err(Error::BadRequest(format!(
                "offset must be at most {}",
                MAX_LIMIT * 10
            )));
        }
        if let (Some(since), Some(until)) = (self.since, self.until) {
            if since > until {
                return Err(Error::BadRequest(format!(
                    "--since {since} is after --until {until}"
                )));
            }
        }
        Ok(())
    }
}

/// One ranked record. Serialized, this is a hit of the JSON contract.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    /// The record's stable id.
    pub id: String,
    /// Ranking score (higher is better); records matching every query word rank first.
    pub score: f32,
    /// What the record is.
    pub kind: Kind,
    /// The record's full text.
    pub text: String,
    /// The best passage of the text with the matched terms marked.
    pub snippet: Snippet,
    /// The item's or thread's title.
    pub title: String,
    /// The item's source (`null` for thread records).
    pub source: Option<String>,
    /// The item's author.
    pub author: Option<String>,
    /// The item's date, or the event's or version's date for thread records.
    pub date: Option<Date>,
    /// The producer's id of the item (JSON Lines `id`).
    pub item_id: Option<String>,
    /// The item's topics.
    pub topics: Vec<String>,
    /// The thread of a thread record, or the first thread an item appears in.
    pub thread: Option<String>,
    /// The thread version of a thread record.
    pub version: Option<u32>,
    /// What a thread record cites.
    pub cites: Vec<Cite>,
    /// The page it came from, relative to the corpus root.
    pub path: String,
    /// True for a quote the page cut short.
    pub truncated: bool,
}

/// A facet value and how many matches have it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacetCount {
    /// The value (a source, a topic slug, a kind, a date bucket).
    pub value: String,
    /// Matches with that value.
    pub count: u64,
}

/// Counts over all matches (after filters), not only the hits returned.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facets {
    /// Most frequent sources first, at most [`FACET_VALUES`].
    pub source: Vec<FacetCount>,
    /// Most frequent topics first, at most [`FACET_VALUES`].
    pub topic: Vec<FacetCount>,
    /// Every kind present, most frequent first.
    pub kind: Vec<FacetCount>,
    /// Every date bucket present, in date order.
    pub date: Vec<FacetCount>,
}

/// The answer to a [`SearchRequest`]. Serialized, this is the JSON contract.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchResponse {
    /// The query text as given.
    pub query: String,
    /// Matches after filters.
    pub total: usize,
    /// True when fewer records than the page asked for contain every query
    /// word, so records with only some of them match too (and are counted).
    pub relaxed: bool,
    /// The requested page of hits, best first.
    pub hits: Vec<Hit>,
    /// Facet counts over all matches.
    pub facets: Facets,
}

/// Runs `request` against `index`.
pub(crate) fn run(index: &Index, request: &SearchRequest) -> Result<SearchResponse> {
    request.validate()?;
    let searcher = index.reader.searcher();
    let built = build::query(index, request)?;
    let hidden = if request.all_versions {
        None
    } else {
        Some(index.hidden(&searcher)?)
    };
    let labels = index.facet_labels(&searcher)?;
    let page = request.offset + request.limit;
    let strict = match &built.every_word {
        Some(every_word) => {
            let found = matches(&searcher, &**every_word, request, &labels, hidden.clone())?;
            // The tiered query would rank these same records first, each
            // with the bonus for having every word.
            (found.total >= page).then(|| Found {
                top: (found.top.into_iter())
                    .map(|(score, doc)| (score + build::ALL_WORDS_BONUS, doc))
                    .collect(),
                ..found
            })
        }
        None => None,
    };
    let relaxed = built.every_word.is_some() && strict.is_none();
    let found = match strict {
        Some(found) => found,
        None => matches(&searcher, &*built.ranked, request, &labels, hidden)?,
    };

    let mut generator = SnippetGenerator::create(&searcher, &*built.ranked, index.fields.text)?;
    generator.set_max_num_chars(SNIPPET_CHARS);
    let hits = (found.top.into_iter())
        .map(|(score, address)| hit(index, &searcher, &generator, score, address))
        .collect::<Result<Vec<_>>>()?;
    Ok(SearchResponse {
        query: request.query.clone(),
        total: found.total,
        relaxed,
        hits,
        facets: facets(found.counts),
    })
}

/// The requested page of `query`'s matches, their number and their facets.
struct Found {
    top: Vec<(Score, DocAddress)>,
    total: usize,
    counts: Counts,
}

/// One pass over the matches of `query`, hiding older thread versions
/// unless `hidden` is `None`.
fn matches(
    searcher: &Searcher,
    query: &dyn Query,
    request: &SearchRequest,
    labels: &Arc<SegmentLabels>,
    hidden: Option<Hidden>,
) -> Result<Found> {
    let top = TopDocs::with_limit(request.limit)
        .and_offset(request.offset)
        .order_by_score();
    let counter = FacetCounter {
        bucket: request.date_bucket,
        labels: Arc::clone(labels),
    };
    let collector = Shown {
        inner: (top, counter, Count),
        hidden,
    };
    let (top, counts, total) = searcher.search(query, &collector).map_err(unanswerable)?;
    Ok(Found { top, total, counts })
}

/// A query the schema cannot answer is the user's error, not the index's:
/// `title:*` asks which records have a title, which Tantivy can tell only for
/// fast fields, and `nosuch:*` names no field; both fail only when the search
/// starts, as a schema or missing-field error.
fn unanswerable(error: TantivyError) -> Error {
    match error {
        TantivyError::SchemaError(why) => Error::BadQuery(format!(
            "this query cannot be answered ({why}); `field:*` works only on date"
        )),
        TantivyError::FieldNotFound(field) => {
            Error::BadQuery(format!("the field '{field}' does not exist"))
        }
        other => Error::Index(other),
    }
}

fn hit(
    index: &Index,
    searcher: &Searcher,
    generator: &SnippetGenerator,
    score: Score,
    address: DocAddress,
) -> Result<Hit> {
    let record = index.record(searcher, address)?;
    let snippet = Snippet::new(generator.snippet(&record.text), &record.text, SNIPPET_CHARS);
    Ok(Hit {
        id: record.id,
        score,
        kind: record.kind,
        text: record.text,
        snippet,
        title: record.title,
        source: record.source,
        author: record.author,
        date: record.date,
        item_id: record.item_id,
        topics: record.topics,
        thread: record.thread,
        version: record.version,
        cites: record.cites,
        path: record.path,
        truncated: record.truncated,
    })
}

fn facets(counts: Counts) -> Facets {
    let mut date = into_counts(counts.date);
    date.sort_by(|a, b| a.value.cmp(&b.value));
    Facets {
        source: most_frequent(counts.source, FACET_VALUES),
        topic: most_frequent(counts.topic, FACET_VALUES),
        kind: most_frequent(counts.kind, Kind::ALL.len()),
        date,
    }
}

fn into_counts(values: FxHashMap<String, u64>) -> Vec<FacetCount> {
    (values.into_iter())
        .map(|(value, count)| FacetCount { value, count })
        .collect()
}

/// The `max` most frequent values, most frequent first, ties by value.
pub(crate) fn most_frequent(values: FxHashMap<String, u64>, max: usize) -> Vec<FacetCount> {
    let order =
        |a: &FacetCount, b: &FacetCount| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value));
    let mut values = into_counts(values);
    if values.len() > max {
        values.select_nth_unstable_by(max, order);
        values.truncate(max);
    }
    values.sort_by(order);
    values
}
