//! The request's filters (`--source`, `--kind`, `--since`, …) as queries that
//! match or not but never change a score.

use std::ops::Bound;

use tantivy::query::{
    BooleanQuery, ConstScoreQuery, Occur, Query, RangeQuery, TermQuery, TermSetQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::Term;

use super::SearchRequest;
use crate::authors;
use crate::model::Date;
use crate::schema::{to_datetime, Fields};

/// `words`, kept to the records the request's filters allow.
pub(super) fn with_filters(
    fields: &Fields,
    request: &SearchRequest,
    words: Box<dyn Query>,
) -> Box<dyn Query> {
    let filters = filters(fields, request);
    if filters.is_empty() {
        return words;
    }
    let mut clauses = vec![(Occur::Must, words)];
    for filter in filters {
        let unscored: Box<dyn Query> = Box::new(ConstScoreQuery::new(filter, 0.0));
        clauses.push((Occur::Must, unscored));
    }
    Box::new(BooleanQuery::new(clauses))
}

fn filters(f: &Fields, request: &SearchRequest) -> Vec<Box<dyn Query>> {
    let kinds: Vec<String> = request
        .kinds
        .iter()
        .map(|k| k.as_str().to_string())
        .collect();
    let at_most_one = |v: &Option<String>| v.iter().cloned().collect::<Vec<_>>();
    [
        any_of(f.source, &request.sources),
        any_of(f.topic, &request.topics),
        any_of(f.kind, &kinds),
        any_author(f.author, &request.authors),
        any_of(f.thread, &at_most_one(&request.thread)),
        date_range(f.date, request.since, request.until),
        request.verified.then(|| found_in_raw_text(f.verified)),
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

/// Quotes found in the corpus's raw text.
fn found_in_raw_text(field: Field) -> Box<dyn Query> {
    let term = Term::from_field_u64(field, 1);
    Box::new(TermQuery::new(term, IndexRecordOption::Basic))
}

/// Records by one of `names`: a byline, or one author's full or last name, folded
/// as the index folds them ([`crate::authors::fold`]).
fn any_author(field: Field, names: &[String]) -> Option<Box<dyn Query>> {
    if names.is_empty() {
        return None;
    }
    let terms = (names.iter()).map(|name| Term::from_field_text(field, &authors::fold(name)));
    Some(Box::new(TermSetQuery::new(terms)))
}

/// Records dated from `since` to `until`, both included.
fn date_range(field: Field, since: Option<Date>, until: Option<Date>) -> Option<Box<dyn Query>> {
    if since.is_none() && until.is_none() {
        return None;
    }
    let bound = |d: Option<Date>| match d {
        Some(d) => Bound::Included(Term::from_field_date(field, to_datetime(d))),
        None => Bound::Unbounded,
    };
    Some(Box::new(RangeQuery::new(bound(since), bound(until))))
}
