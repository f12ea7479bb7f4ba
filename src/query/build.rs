//! Turning a [`SearchRequest`] into one Tantivy query: the user's words,
//! ranked, and the filters, which match or not but never change a score.

use std::ops::Bound;

use tantivy::query::{
    BooleanQuery, ConstScoreQuery, Occur, Query, QueryParser, RangeQuery, TermSetQuery,
};
use tantivy::schema::Field;
use tantivy::Term;

use super::SearchRequest;
use crate::error::{Error, Result};
use crate::index::Index;
use crate::schema::to_datetime;

/// Weight of a match in the title, relative to one in the record's own text.
const TITLE_BOOST: f32 = 0.5;
/// Weight of a match in the topic words.
const TOPICS_BOOST: f32 = 0.3;
/// Added to the score of records that match every query word, so that they
/// rank above records matching only some (BM25 sums stay far below it).
pub(crate) const ALL_WORDS_BONUS: f32 = 1_000.0;

/// The query to rank with (also the one snippets highlight).
pub(super) struct Built {
    pub ranked: Box<dyn Query>,
}

pub(super) fn query(index: &Index, request: &SearchRequest) -> Result<Built> {
    let words = user_query(index, &request.query)?;
    let filters = filters(index, request);
    if filters.is_empty() {
        return Ok(Built { ranked: words });
    }
    let mut clauses = vec![(Occur::Must, words)];
    for filter in filters {
        let unscored: Box<dyn Query> = Box::new(ConstScoreQuery::new(filter, 0.0));
        clauses.push((Occur::Must, unscored));
    }
    Ok(Built {
        ranked: Box::new(BooleanQuery::new(clauses)),
    })
}

/// The user's query, tiered: any record matching some words, and a bonus for
/// those matching all of them.
fn user_query(index: &Index, text: &str) -> Result<Box<dyn Query>> {
    let any = parser(index, false)
        .parse_query(text)
        .map_err(|e| Error::BadQuery(e.to_string()))?;
    let all = parser(index, true)
        .parse_query(text)
        .map_err(|e| Error::BadQuery(e.to_string()))?;
    // One word, a phrase, or an explicit OR: both readings are the same query.
    if format!("{any:?}") == format!("{all:?}") {
        return Ok(any);
    }
    let bonus: Box<dyn Query> = Box::new(ConstScoreQuery::new(all, ALL_WORDS_BONUS));
    Ok(Box::new(BooleanQuery::new(vec![
        (Occur::Should, any),
        (Occur::Should, bonus),
    ])))
}

fn parser(index: &Index, conjunction: bool) -> QueryParser {
    let f = &index.fields;
    let mut parser = QueryParser::for_index(&index.tantivy, vec![f.text, f.title, f.topics]);
    parser.set_field_boost(f.title, TITLE_BOOST);
    parser.set_field_boost(f.topics, TOPICS_BOOST);
    if conjunction {
        parser.set_conjunction_by_default();
    }
    parser
}

fn filters(index: &Index, request: &SearchRequest) -> Vec<Box<dyn Query>> {
    let f = &index.fields;
    let kinds: Vec<String> = request
        .kinds
        .iter()
        .map(|k| k.as_str().to_string())
        .collect();
    let single = |v: &Option<String>| v.iter().cloned().collect::<Vec<_>>();
    [
        any_of(f.source, &request.sources),
        any_of(f.topic, &request.topics),
        any_of(f.kind, &kinds),
        any_of(f.author, &single(&request.author)),
        any_of(f.thread, &single(&request.thread)),
        date_range(f.date, request),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Records whose keyword `field` equals one of `values`, ignoring case.
fn any_of(field: Field, values: &[String]) -> Option<Box<dyn Query>> {
    if values.is_empty() {
        return None;
    }
    let terms = values
        .iter()
        .map(|v| Term::from_field_text(field, &v.trim().to_lowercase()));
    Some(Box::new(TermSetQuery::new(terms)))
}

fn date_range(field: Field, request: &SearchRequest) -> Option<Box<dyn Query>> {
    if request.since.is_none() && request.until.is_none() {
        return None;
    }
    let bound = |d: Option<crate::model::Date>| match d {
        Some(d) => Bound::Included(Term::from_field_date(field, to_datetime(d))),
        None => Bound::Unbounded,
    };
    Some(Box::new(RangeQuery::new(
        bound(request.since),
        bound(request.until),
    )))
}
