//! Filter values checked against what the index holds: a value no record has
//! (`--source arxvi`) is an error that names the filter and the nearest
//! values it does hold, instead of an empty result that looks like an answer;
//! a thread may be named by its slug (`can-uniform-convergence-explain-
//! generalization`) as well as by its title.

use rustc_hash::FxHashSet;
use tantivy::schema::Field;
use tantivy::{Searcher, Term};

use super::SearchRequest;
use crate::error::{Error, Result};
use crate::schema::{names, Fields};

/// How many of the nearest values an error lists.
const NEAREST: usize = 3;

/// `request` with its filter values checked, and a thread named by its slug
/// replaced by its title; `None` when nothing needed replacing.
pub(super) fn resolve(
    searcher: &Searcher,
    fields: &Fields,
    request: &SearchRequest,
) -> Result<Option<SearchRequest>> {
    for source in &request.sources {
        check(
            searcher,
            fields.source,
            Some(names::SOURCE),
            "source",
            source,
        )?;
    }
    for topic in &request.topics {
        check(searcher, fields.topic, Some(names::TOPIC), "topic", topic)?;
    }
    // Authors are matched by full name or last name alone (see `filters`),
    // not by one exact value: they are not checked here.
    let Some(thread) = &request.thread else {
        return Ok(None);
    };
    if holds(searcher, fields.thread, thread)? {
        return Ok(None);
    }
    let wanted = slug(thread);
    let titles = values(searcher, fields.thread, None)?;
    match titles.iter().find(|title| slug(title) == wanted) {
        Some(title) => Ok(Some(SearchRequest {
            thread: Some(title.clone()),
            ..request.clone()
        })),
        None => Err(unknown("thread", thread, &titles)),
    }
}

/// An error unless some record has `value` in `field`.
fn check(
    searcher: &Searcher,
    field: Field,
    column: Option<&str>,
    filter: &str,
    value: &str,
) -> Result<()> {
    if holds(searcher, field, value)? {
        return Ok(());
    }
    Err(unknown(filter, value, &values(searcher, field, column)?))
}

/// Whether a record has `value` (any case) in the keyword `field`.
fn holds(searcher: &Searcher, field: Field, value: &str) -> Result<bool> {
    let term = Term::from_field_text(field, &value.trim().to_lowercase());
    Ok(searcher.doc_freq(&term)? > 0)
}

/// Every value of a keyword field: as written when it has a fast `column`
/// (`arXiv`), else lowercased as indexed.
fn values(searcher: &Searcher, field: Field, column: Option<&str>) -> Result<Vec<String>> {
    let mut all = FxHashSet::default();
    for segment in searcher.segment_readers() {
        let column = match column {
            Some(name) => segment.fast_fields().str(name)?,
            None => None,
        };
        let mut add = |key: &[u8]| {
            all.insert(String::from_utf8_lossy(key).into_owned());
        };
        match column {
            Some(column) => {
                let mut terms = column
                    .dictionary()
                    .stream()
                    .map_err(tantivy::TantivyError::from)?;
                while terms.advance() {
                    add(terms.key());
                }
            }
            None => {
                let inverted = segment.inverted_index(field)?;
                let mut terms = inverted
                    .terms()
                    .stream()
                    .map_err(tantivy::TantivyError::from)?;
                while terms.advance() {
                    add(terms.key());
                }
            }
        }
    }
    let mut all: Vec<String> = all.into_iter().collect();
    all.sort();
    Ok(all)
}

/// "no record has the source 'arxvi' (nearest: arXiv, …)".
fn unknown(filter: &str, value: &str, known: &[String]) -> Error {
    let wanted = value.trim().to_lowercase();
    let mut ranked: Vec<(usize, &String)> = (known.iter())
        .map(|k| (distance(&wanted, &k.to_lowercase()), k))
        .collect();
    ranked.sort();
    let nearest: Vec<&str> = (ranked.iter().take(NEAREST))
        .map(|(_, k)| k.as_str())
        .collect();
    let hint = if nearest.is_empty() {
        format!("the index has no {filter} at all")
    } else {
        format!("nearest: {}", nearest.join(", "))
    };
    Error::BadRequest(format!("no record has the {filter} '{value}' ({hint})"))
}

/// A thread title or slug as a slug: lowercase letters and digits, runs of
/// anything else one hyphen (`Can uniform convergence explain
/// generalization?` is `can-uniform-convergence-explain-generalization`).
fn slug(text: &str) -> String {
    let mut slug = String::with_capacity(text.len());
    for c in text.trim().chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').to_string()
}

/// Levenshtein distance between `a` and `b`, by characters.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for j in 1..=b.len() {
            let replaced = previous + usize::from(ca != b[j - 1]);
            previous = row[j];
            row[j] = replaced.min(row[j] + 1).min(row[j - 1] + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_of_titles_and_of_slugs_agree() {
        let title = "Can uniform convergence explain generalization?";
        assert_eq!(
            slug(title),
            "can-uniform-convergence-explain-generalization"
        );
        assert_eq!(slug(&slug(title)), slug(title));
        assert_eq!(slug("  PAC-Bayes: a --- review "), "pac-bayes-a-review");
    }

    #[test]
    fn the_nearest_values_come_first() {
        assert_eq!(distance("arxvi", "arxiv"), 2);
        assert_eq!(distance("", "abc"), 3);
        let known: Vec<String> = ["arXiv", "ICML", "LessWrong", "NeurIPS", "JMLR"]
            .map(String::from)
            .to_vec();
        let message = unknown("source", "arxvi", &known).to_string();
        assert!(
            message.contains("no record has the source 'arxvi' (nearest: arXiv, ICML, JMLR)"),
            "{message}"
        );
        assert!(unknown("author", "x", &[])
            .to_string()
            .contains("no author at all"));
    }
}
