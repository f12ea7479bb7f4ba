//! Request in, results out: parse the query, apply filters, rank, count facets
//! over every match and cut snippets. No formatting happens here.
//!
//! A query of several words matches the records that contain every word (in
//! their text, title or topics). When fewer than [`RELAX_BELOW`] records do,
//! records with some of the words match too, ranked after them, and `total`
//! and the facets count those as well (`relaxed`). Either way, each word is
//! scored by BM25F; records with every word rank first.

mod bm25f;
mod collapse;
mod counted;
mod echo_columns;
mod echoes;
mod facets;
mod filters;
mod known;
mod lazy;
mod parse;
mod request;
mod shown;
mod similar;
mod snippet;
mod typo;
mod versions;
mod warm;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use rustc_hash::FxHashMap;

use serde::{Deserialize, Serialize};
use tantivy::collector::{Collector, Count, TopDocs};
use tantivy::query::Query;
use tantivy::schema::Schema;
use tantivy::snippet::SnippetGenerator;
use tantivy::Order;
use tantivy::{
    DateTime, DocAddress, IndexReader, ReloadPolicy, Score, Searcher, TantivyDocument, TantivyError,
};

use crate::error::{Error, Result};
use crate::model::{Kind, Record};
use crate::schema::{self, Fields};
pub(crate) use crate::superseded::DocBits;
pub(crate) use bm25f::{TITLE_WEIGHT, TOPICS_WEIGHT};
use counted::Counted;
pub(crate) use facets::Counts;
use shown::{Best, CountedBest, Shown};
use typo::Corrections;
use warm::{CommitState, Warm};

pub use collapse::GROUPS_COUNTED;
pub use echoes::{byline_authors, Appearance, Echoes};
pub use request::{
    DateBucket, Front, SearchRequest, DEFAULT_LIMIT, MAX_HTTP_LIMIT, MAX_LIMIT, MAX_OFFSET,
    MAX_QUERY_CHARS,
};
pub use similar::{Related, Similar, NEAREST};
pub use snippet::Snippet;

/// How many values a `source`, `topic` or `author` facet lists (most frequent first).
pub const FACET_VALUES: usize = 20;
/// Facets are counted exactly over a search's first this many matches, each
/// segment of the index counting its share (in proportion to its
/// documents); past them, over one match in 16 (scaled up), unless the request asks for `exact_facets`. So the facets
/// of a search with at most this many matches are exact where its matches
/// are spread as the index is (`facets_exact` says when they are); a broad
/// search gets estimates, whatever the index's size, as a search engine
/// bounds costly counts. `total` is always exact.
pub const FACETS_EXACT_UP_TO: u64 = 50_000;
/// A query of several words matches the records with every word, unless
/// fewer than this many have them: then records with some of the words match
/// too, ranked after them (`relaxed`). A fixed number, not the page size, so
/// that every page of a query counts the same matches.
pub const RELAX_BELOW: usize = DEFAULT_LIMIT;
/// Longest snippet, in characters.
const SNIPPET_CHARS: usize = 240;

/// One ranked record: its score and snippet beside the record view that
/// `export` prints too. Serialized (flat), this is a hit of the JSON contract.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    /// The record.
    #[serde(flatten)]
    pub record: Record,
    /// Ranking score (higher is better); records matching every query word rank first.
    pub score: f32,
    /// The best passage of the text with the matched terms marked.
    pub snippet: Snippet,
    /// How many other items make the same claim, and who made it first;
    /// `None` for kinds that hold many claims (summary, narrative, passage).
    pub echoes: Option<Echoes>,
}

/// A facet value and how many matches have it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacetCount {
    /// The value (a source, a topic slug, a kind, a date bucket); `None`
    /// (JSON `null`) for the matches without one, listed last.
    pub value: Option<String>,
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
    /// Most frequent authors first (each author of a record counts once), at
    /// most [`FACET_VALUES`].
    pub author: Vec<FacetCount>,
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
    /// True when fewer than [`RELAX_BELOW`] records contain every query word,
    /// so records with only some of them match too (and are counted).
    pub relaxed: bool,
    /// With `collapse`, how many distinct claims (groups of records making
    /// the same claim) matched; `None` otherwise.
    pub groups: Option<usize>,
    /// With `collapse`, whether `groups` counts the groups of every match
    /// (`true`) or, when there are more than [`GROUPS_COUNTED`] matches,
    /// of the best-ranked [`GROUPS_COUNTED`] only, a lower bound (`false`);
    /// `None` otherwise.
    pub groups_exact: Option<bool>,
    /// The requested page of hits, best first (with `collapse`, one per group).
    pub hits: Vec<Hit>,
    /// Facet counts over all matches.
    pub facets: Facets,
    /// Whether the facet counts are exact (`true`) or estimated from a
    /// sample of the matches (`false`): exact when no segment had more than
    /// its share of [`FACETS_EXACT_UP_TO`] matches, or when the request
    /// asks for `exact_facets`.
    pub facets_exact: bool,
    /// Query words that were also searched for in another spelling (the
    /// index lacks them, or holds them far less often), in query order.
    pub corrections: Vec<Correction>,
    /// What the query text held that could not be read as query syntax, and
    /// how it was searched instead (an unclosed quote, a dangling `AND`).
    pub warnings: Vec<String>,
}

/// A query word and the spelling it was also searched for as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Correction {
    /// The word as typed (`grokkng`).
    pub from: String,
    /// The spelling searched for (`grokking`), as a record writes it.
    pub to: String,
}

/// The read side of an index: Tantivy's reader, which follows new commits,
/// and what the searches of each commit share ([`warm`]).
pub(crate) struct Reader {
    reader: IndexReader,
    /// Held here: the reader keeps only a weak reference to its warmers.
    warm: Arc<Warm>,
    schema: Schema,
    fields: Fields,
    /// How many matches of each segment facets are counted exactly over
    /// ([`FACETS_EXACT_UP_TO`] unless told).
    facets_exact_up_to: AtomicU64,
}

impl Reader {
    /// A reader of `index`, in the folder `dir`, that picks up new commits by itself when
    /// `follow`, and otherwise keeps the commit it opened.
    pub(crate) fn new(
        index: &tantivy::Index,
        dir: &std::path::Path,
        follow: bool,
    ) -> tantivy::Result<Reader> {
        let warm = Arc::new(Warm::new(dir));
        let warmer: Arc<dyn tantivy::Warmer> = warm.clone();
        let policy = if follow {
            ReloadPolicy::OnCommitWithDelay
        } else {
            ReloadPolicy::Manual
        };
        let reader = index
            .reader_builder()
            .reload_policy(policy)
            .warmers(vec![Arc::downgrade(&warmer)])
            .try_into()?;
        let schema = index.schema();
        Ok(Reader {
            reader,
            warm,
            fields: Fields::new(&schema)?,
            schema,
            facets_exact_up_to: AtomicU64::new(FACETS_EXACT_UP_TO),
        })
    }

    /// A searcher over the latest commit this reader has seen.
    pub(crate) fn searcher(&self) -> Searcher {
        self.reader.searcher()
    }

    /// Keeps at most `bytes` of each commit's recent searches' counts (0:
    /// none); see [`counted`].
    pub(crate) fn keep_counts(&self, bytes: usize) {
        (self.warm.counts_budget).store(bytes, Ordering::Relaxed);
    }

    /// Counts facets exactly over a search's first `matches` matches (each
    /// segment its share), and past them over a sample; see
    /// [`FACETS_EXACT_UP_TO`].
    pub(crate) fn count_facets_exactly_up_to(&self, matches: u64) {
        self.facets_exact_up_to.store(matches, Ordering::Relaxed);
    }

    /// How many matches `request`'s facets are counted exactly over (each
    /// segment its share; `None`: all of them).
    fn facets_exact_up_to(&self, request: &SearchRequest) -> Option<u64> {
        let bound = self.facets_exact_up_to.load(Ordering::Relaxed);
        (!request.exact_facets && bound < u64::MAX).then_some(bound)
    }

    /// Makes the next search see the latest commit now.
    pub(crate) fn reload(&self) -> Result<()> {
        Ok(self.reader.reload()?)
    }

    /// What the searches of `searcher`'s commit share.
    pub(crate) fn state(&self, searcher: &Searcher) -> Result<Arc<CommitState>> {
        self.warm.state(searcher)
    }

    /// For each segment of `searcher`'s commit, the records of older thread
    /// versions, which a search hides unless asked for every version.
    pub(crate) fn older_versions(
        &self,
        searcher: &Searcher,
    ) -> Result<std::collections::HashMap<tantivy::index::SegmentId, Arc<DocBits>>> {
        Ok(self.state(searcher)?.hidden.clone())
    }

    /// The field handles of the schema.
    pub(crate) fn fields(&self) -> &Fields {
        &self.fields
    }

    /// The record of a document as a reader sees it: as stored, with the
    /// first version of a thread record, found in the state of `searcher`'s
    /// commit.
    pub(crate) fn record(&self, searcher: &Searcher, address: DocAddress) -> Result<Record> {
        let doc: TantivyDocument = searcher.doc(address)?;
        let mut record = schema::stored_record(&self.fields, &doc)?;
        record.first_version = self.state(searcher)?.first_version(searcher, &record)?;
        Ok(record)
    }

    /// Runs `request`.
    pub(crate) fn search(&self, request: &SearchRequest) -> Result<SearchResponse> {
        request.validate()?;
        let searcher = self.searcher();
        let resolved = known::resolve(&searcher, &self.fields, request)?;
        let request = resolved.as_ref().unwrap_or(request);
        let text_of = |address| {
            let record = self.record(&searcher, address).ok()?;
            Some(format!("{} {}", record.text, record.title))
        };
        let state = self.state(&searcher)?;
        let words = || state.words(&searcher);
        let corrections = Corrections::new(&searcher, &self.fields, &text_of, &words);
        let built = parse::query(&self.schema, &self.fields, request, &corrections)?;
        let hidden = (!request.all_versions).then(|| Arc::clone(&state));
        let exact_up_to = self.facets_exact_up_to(request);
        let run = |query: &dyn Query, tier: &str| -> Result<Found> {
            if request.collapse {
                let counter =
                    state.facet_counter(request.date_bucket, Some(FACET_VALUES), exact_up_to);
                collapse::matches(&searcher, query, request, &state, hidden.clone(), counter)
            } else {
                let key = counted::key(request, tier, exact_up_to);
                matches(
                    &searcher,
                    query,
                    request,
                    &state,
                    hidden.clone(),
                    key,
                    exact_up_to,
                )
            }
        };
        // Whether the query is relaxed depends on the query and the filters
        // only (matches, not groups), so every page of it, collapsed or not,
        // has the same matches, total and facets.
        let strict = match &built.every_word {
            Some(every_word) => {
                let found = run(&**every_word, "every word")?;
                (found.total >= RELAX_BELOW).then_some(found)
            }
            None => None,
        };
        let relaxed = built.every_word.is_some() && strict.is_none();
        let found = match strict {
            Some(found) => found,
            None => run(&*built.ranked, "ranked")?,
        };

        let mut generator = SnippetGenerator::create(&searcher, &*built.ranked, self.fields.text)?;
        generator.set_max_num_chars(SNIPPET_CHARS);
        // The page's records and their snippets, on the search threads:
        // each record is a block of the store decompressed, most of the
        // time a block of its own, and its text tokenized for the snippet.
        let read = (searcher.index().search_executor()).map(
            |(score, address)| {
                let record = self.record(&searcher, address).map(|record| {
                    let snippet = generator.snippet(&record.text);
                    let snippet = Snippet::new(snippet, &record.text, SNIPPET_CHARS);
                    (record, snippet)
                });
                Ok((score, address, record))
            },
            found.top.into_iter(),
        )?;
        let shown = (read.into_iter())
            .map(|(score, address, record)| Ok((score, address, record?)))
            .collect::<Result<Vec<_>>>()?;
        let echoes = echoes::of_hits(
            &searcher,
            &state,
            &(shown.iter())
                .map(|(_, address, (record, _))| (record, *address))
                .collect::<Vec<_>>(),
            request.all_versions,
            |other| self.record(&searcher, other),
        )?;
        let hits = (shown.into_iter().zip(echoes))
            .map(|((score, _, (record, snippet)), echoes)| Hit {
                record,
                score: parse::without_tier(score),
                snippet,
                echoes,
            })
            .collect();
        Ok(SearchResponse {
            query: request.query.clone(),
            total: found.total,
            relaxed,
            groups: found.groups,
            groups_exact: found.groups_exact,
            hits,
            facets_exact: !found.counts.estimated,
            facets: facets(found.counts),
            corrections: built.corrections,
            warnings: built.warnings,
        })
    }
}

/// The requested page of `query`'s matches, their number and their facets.
struct Found {
    top: Vec<(Score, DocAddress)>,
    total: usize,
    counts: Counts,
    /// Distinct claims among the matches, when collapsing.
    groups: Option<usize>,
    /// Whether `groups` counts every match (else it is a lower bound).
    groups_exact: Option<bool>,
}

/// The requested page of `query`'s matches, their number and their facets,
/// hiding older thread versions unless `hidden` is `None`. `*` (every
/// record) lists the newest first.
///
/// The first time the commit is asked for `key`, one pass counts every
/// match and ranks the first [`counted::WINDOW`] (or up to the page asked
/// for, if it ends further), and both are kept (see [`counted`]). Asked
/// again, a page within them is read from what was kept; a page beyond
/// them is ranked alone, passing over what cannot make it.
fn matches(
    searcher: &Searcher,
    query: &dyn Query,
    request: &SearchRequest,
    state: &CommitState,
    hidden: Option<Arc<CommitState>>,
    key: String,
    exact_up_to: Option<u64>,
) -> Result<Found> {
    let (offset, limit) = (request.offset, request.limit);
    if let Some(kept) = state.counted.get(&key) {
        let top = match kept.page(offset, limit) {
            Some(top) => top,
            None if request.lists_everything() => {
                let collector = Shown {
                    inner: newest_first(offset, limit),
                    hidden,
                };
                unscored(searcher.search(query, &collector).map_err(unanswerable)?)
            }
            None => {
                let best = Best {
                    offset,
                    limit,
                    hidden,
                };
                searcher.search(query, &best).map_err(unanswerable)?
            }
        };
        return Ok(found(top, &kept));
    }
    let window = (offset + limit).max(counted::WINDOW);
    let counter = state.facet_counter(request.date_bucket, Some(FACET_VALUES), exact_up_to);
    let (best, counts, total) = if request.lists_everything() {
        let collector = Shown {
            inner: (newest_first(0, window), counter, Count),
            hidden,
        };
        let (top, counts, total) = searcher.search(query, &collector).map_err(unanswerable)?;
        (unscored(top), counts, total)
    } else {
        let collector = CountedBest {
            limit: window,
            counter,
            hidden,
            word: bm25f::is_word(query),
        };
        searcher.search(query, &collector).map_err(unanswerable)?
    };
    let counted = Arc::new(Counted {
        total,
        counts,
        best,
    });
    state.counted.put(key, Arc::clone(&counted));
    let top = counted.page(offset, limit).unwrap_or_default();
    Ok(found(top, &counted))
}

/// The page `offset..offset + limit` of the matches, newest first: how `*`
/// lists every record.
fn newest_first(
    offset: usize,
    limit: usize,
) -> impl Collector<Fruit = Vec<(Option<DateTime>, DocAddress)>> {
    let page = TopDocs::with_limit(limit).and_offset(offset);
    page.order_by_fast_field::<DateTime>(schema::names::DATE, Order::Desc)
}

/// Matches listed by date, as hits: their score is 0.
fn unscored(top: Vec<(Option<DateTime>, DocAddress)>) -> Vec<(Score, DocAddress)> {
    top.into_iter().map(|(_, address)| (0.0, address)).collect()
}

fn found(top: Vec<(Score, DocAddress)>, counted: &Counted) -> Found {
    Found {
        top,
        total: counted.total,
        counts: counted.counts.clone(),
        groups: None,
        groups_exact: None,
    }
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

fn facets(counts: Counts) -> Facets {
    let mut date = into_counts(counts.date);
    date.sort_by(|a, b| a.value.cmp(&b.value));
    let with_missing = |mut values: Vec<FacetCount>, missing: u64| {
        if missing > 0 {
            values.push(FacetCount {
                value: None,
                count: missing,
            });
        }
        values
    };
    let missing = counts.missing;
    Facets {
        source: with_missing(most_frequent(counts.source, FACET_VALUES), missing.source),
        topic: with_missing(most_frequent(counts.topic, FACET_VALUES), missing.topic),
        kind: with_missing(most_frequent(counts.kind, Kind::ALL.len()), missing.kind),
        author: with_missing(most_frequent(counts.author, FACET_VALUES), missing.author),
        date: with_missing(date, missing.date),
    }
}

fn into_counts(values: FxHashMap<String, u64>) -> Vec<FacetCount> {
    (values.into_iter())
        .map(|(value, count)| FacetCount {
            value: Some(value),
            count,
        })
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
