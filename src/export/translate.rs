//! A request (query text and filters) as a small tree both engines' request
//! bodies are written from. The query text is read by the same grammar as
//! our own searches; the tree names the engine's fields (`threads` for
//! `thread`, see [`super::EngineRecord`]).

use std::ops::Bound;

use tantivy::query_grammar::{
    self, Delimiter, Occur, UserInputAst, UserInputBound, UserInputLeaf, UserInputLiteral,
};

use crate::authors;
use crate::error::{Error, Result};
use crate::model::Date;
use crate::query::SearchRequest;
use crate::schema::names;

/// A query an engine can run.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Node {
    /// Every record.
    All,
    /// Words or a phrase in one analysed field, or (`field` `None`) in
    /// text, title and topics, weighted as our ranking weighs them.
    Words {
        field: Option<&'static str>,
        text: String,
        phrase: bool,
        slop: u32,
        prefix: bool,
    },
    /// An exact field (`kind`, `source`, …) equal, ignoring case, to one of
    /// the values (given lowercased).
    Exact {
        field: &'static str,
        values: Vec<String>,
    },
    /// A boolean field.
    Flag { field: &'static str, value: bool },
    /// Dates between two bounds, as RFC 3339 (midnight UTC for a day).
    Dates {
        lower: Bound<String>,
        upper: Bound<String>,
    },
    /// Records with a value in `field`.
    Exists { field: &'static str },
    /// Sub-queries: every `must`, none of `must_not`; `should` count for
    /// the score only when there is a `must`, else one of them must match.
    Bool {
        must: Vec<Node>,
        should: Vec<Node>,
        must_not: Vec<Node>,
    },
    /// A sub-query's score multiplied.
    Boost(Box<Node>, f64),
}

/// The request's query text and filters; a query of several words matches
/// records with every word (our strict reading; see `docs/scale-out.md`).
pub(super) fn request(request: &SearchRequest) -> Result<(Node, Vec<Node>)> {
    request.validate()?;
    let ast = query_grammar::parse_query(&request.query)
        .map_err(|_| Error::BadQuery(format!("Syntax Error: {}", request.query)))?;
    Ok((node(ast)?, filters(request)))
}

fn filters(request: &SearchRequest) -> Vec<Node> {
    let lower = |values: &[String]| -> Vec<String> {
        values.iter().map(|v| v.trim().to_lowercase()).collect()
    };
    let one = |v: &Option<String>| v.iter().cloned().collect::<Vec<_>>();
    let kinds: Vec<String> = request.kinds.iter().map(|k| k.as_str().into()).collect();
    let mut out = Vec::new();
    for (field, values) in [
        (names::SOURCE, lower(&request.sources)),
        (names::TOPIC, lower(&request.topics)),
        (names::KIND, kinds),
        (
            AUTHOR_KEYS,
            request.authors.iter().map(|a| authors::fold(a)).collect(),
        ),
        (THREADS, lower(&one(&request.thread))),
    ] {
        if !values.is_empty() {
            out.push(Node::Exact { field, values });
        }
    }
    if request.since.is_some() || request.until.is_some() {
        let day = |d: Option<Date>| match d {
            Some(d) => Bound::Included(midnight(d)),
            None => Bound::Unbounded,
        };
        out.push(Node::Dates {
            lower: day(request.since),
            upper: day(request.until),
        });
    }
    if request.verified {
        out.push(Node::Flag {
            field: VERIFIED,
            value: true,
        });
    }
    if !request.all_versions {
        out.push(Node::Flag {
            field: NEWEST,
            value: true,
        });
    }
    out
}

/// The engine field holding every thread of a record.
pub(super) const THREADS: &str = "threads";
/// The engine field holding a record's folded byline and each author's full
/// and last name ([`crate::authors::byline_keys`]): what `--author` matches.
pub(super) const AUTHOR_KEYS: &str = "author_keys";
/// The engine field telling records of a thread's newest version.
pub(super) const NEWEST: &str = "newest";

/// The engine field telling quotes found in the corpus's raw text.
pub(super) const VERIFIED: &str = names::VERIFIED;

/// A day as RFC 3339, midnight UTC.
pub(super) fn midnight(date: Date) -> String {
    format!("{date}T00:00:00Z")
}

fn node(ast: UserInputAst) -> Result<Node> {
    match ast {
        UserInputAst::Clause(clauses) => {
            let (mut must, mut should, mut must_not) = (Vec::new(), Vec::new(), Vec::new());
            for (occur, sub) in clauses {
                let sub = node(sub)?;
                match occur {
                    // Words without an operator: every one of them.
                    None | Some(Occur::Must) => must.push(sub),
                    Some(Occur::Should) => should.push(sub),
                    Some(Occur::MustNot) => must_not.push(sub),
                }
            }
            if must.len() == 1 && should.is_empty() && must_not.is_empty() {
                return Ok(must.remove(0));
            }
            Ok(Node::Bool {
                must,
                should,
                must_not,
            })
        }
        UserInputAst::Boost(sub, boost) => Ok(Node::Boost(Box::new(node(*sub)?), boost.0)),
        UserInputAst::Leaf(leaf) => self::leaf(*leaf),
    }
}

fn leaf(leaf: UserInputLeaf) -> Result<Node> {
    match leaf {
        UserInputLeaf::All => Ok(Node::All),
        UserInputLeaf::Literal(literal) => self::literal(literal),
        UserInputLeaf::Set { field, elements } => {
            let field = field.unwrap_or_default();
            match field_kind(&field)? {
                FieldKind::Exact(field) => Ok(Node::Exact {
                    field,
                    values: elements.iter().map(|v| exact_value(field, v)).collect(),
                }),
                _ => Err(unsupported("a set of values (IN [...])", &field)),
            }
        }
        UserInputLeaf::Range {
            field,
            lower,
            upper,
        } => {
            let field = field.unwrap_or_default();
            match field_kind(&field)? {
                FieldKind::Date => Ok(Node::Dates {
                    lower: bound(lower),
                    upper: bound(upper),
                }),
                _ => Err(unsupported("a range", &field)),
            }
        }
        UserInputLeaf::Exists { field } => Ok(Node::Exists {
            field: match field_kind(&field)? {
                FieldKind::Words(f) | FieldKind::Exact(f) => f,
                FieldKind::Date => names::DATE,
            },
        }),
        UserInputLeaf::Regex { field, .. } => Err(unsupported(
            "a regular expression",
            field.as_deref().unwrap_or_default(),
        )),
    }
}

fn literal(literal: UserInputLiteral) -> Result<Node> {
    let phrase = literal.delimiter != Delimiter::None;
    let Some(name) = literal.field_name else {
        return Ok(Node::Words {
            field: None,
            text: literal.phrase,
            phrase,
            slop: literal.slop,
            prefix: literal.prefix,
        });
    };
    match field_kind(&name)? {
        FieldKind::Words(field) => Ok(Node::Words {
            field: Some(field),
            text: literal.phrase,
            phrase,
            slop: literal.slop,
            prefix: literal.prefix,
        }),
        FieldKind::Exact(field) => Ok(Node::Exact {
            field,
            values: vec![exact_value(field, &literal.phrase)],
        }),
        FieldKind::Date => match Date::parse(literal.phrase.trim()) {
            Some(day) => Ok(Node::Dates {
                lower: Bound::Included(midnight(day)),
                upper: Bound::Included(midnight(day)),
            }),
            None => Err(Error::BadQuery(format!(
                "'{}' is not a date of the form YYYY-MM-DD",
                literal.phrase
            ))),
        },
    }
}

/// A range bound: a day becomes its midnight, anything else is passed on.
fn bound(bound: UserInputBound) -> Bound<String> {
    let value = |v: String| match Date::parse(v.trim()) {
        Some(day) => midnight(day),
        None => v,
    };
    match bound {
        UserInputBound::Inclusive(v) => Bound::Included(value(v)),
        UserInputBound::Exclusive(v) => Bound::Excluded(value(v)),
        UserInputBound::Unbounded => Bound::Unbounded,
    }
}

enum FieldKind {
    Words(&'static str),
    Exact(&'static str),
    Date,
}

/// What a `field:` of the query text is in the engine.
fn field_kind(name: &str) -> Result<FieldKind> {
    Ok(match name {
        names::TEXT => FieldKind::Words(names::TEXT),
        names::TITLE => FieldKind::Words(names::TITLE),
        names::TOPICS => FieldKind::Words(names::TOPICS),
        names::KIND => FieldKind::Exact(names::KIND),
        names::SOURCE => FieldKind::Exact(names::SOURCE),
        names::AUTHOR => FieldKind::Exact(AUTHOR_KEYS),
        names::TOPIC => FieldKind::Exact(names::TOPIC),
        names::THREAD => FieldKind::Exact(THREADS),
        names::PATH => FieldKind::Exact(names::PATH),
        names::DATE => FieldKind::Date,
        other => {
            return Err(Error::BadQuery(format!(
                "the field '{other}' does not exist"
            )))
        }
    })
}

/// A value of an exact field as the engine holds it: lowercased, and for
/// authors folded as our own index folds them.
fn exact_value(field: &str, value: &str) -> String {
    if field == AUTHOR_KEYS {
        authors::fold(value)
    } else {
        value.trim().to_lowercase()
    }
}

fn unsupported(what: &str, field: &str) -> Error {
    Error::BadQuery(format!(
        "{what} on '{field}' has no equivalent in the engine's request"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(query: &str) -> Node {
        request(&SearchRequest {
            all_versions: true,
            ..SearchRequest::new(query)
        })
        .unwrap()
        .0
    }

    fn words(text: &str, phrase: bool) -> Node {
        Node::Words {
            field: None,
            text: text.into(),
            phrase,
            slop: 0,
            prefix: false,
        }
    }

    #[test]
    fn words_are_all_required_and_exclusions_kept() {
        assert_eq!(
            parsed("memorization -diffusion \"double descent\""),
            Node::Bool {
                must: vec![words("memorization", false), words("double descent", true)],
                should: vec![],
                must_not: vec![words("diffusion", false)],
            }
        );
        assert_eq!(
            parsed("source:LessWrong thread:\"Deep Learning\""),
            Node::Bool {
                must: vec![
                    Node::Exact {
                        field: "source",
                        values: vec!["lesswrong".into()]
                    },
                    Node::Exact {
                        field: THREADS,
                        values: vec!["deep learning".into()]
                    },
                ],
                should: vec![],
                must_not: vec![],
            }
        );
    }

    #[test]
    fn authors_are_matched_on_their_folded_keys() {
        assert_eq!(
            parsed("author:\"Sébastien Bubeck\""),
            Node::Exact {
                field: AUTHOR_KEYS,
                values: vec!["sebastien bubeck".into()]
            }
        );
        let request = SearchRequest {
            authors: vec!["Dziugaitė".into(), "J. Zico Kolter".into()],
            all_versions: true,
            ..SearchRequest::new("*")
        };
        assert_eq!(
            filters(&request),
            [Node::Exact {
                field: AUTHOR_KEYS,
                values: vec!["dziugaite".into(), "j zico kolter".into()]
            }]
        );
    }

    #[test]
    fn filters_follow_the_request_and_hide_older_versions_by_default() {
        let request = SearchRequest {
            sources: vec!["arXiv".into()],
            since: Date::parse("2019-01-01"),
            ..SearchRequest::new("*")
        };
        let (query, filters) = super::request(&request).unwrap();
        assert_eq!(query, Node::All);
        assert_eq!(
            filters,
            vec![
                Node::Exact {
                    field: "source",
                    values: vec!["arxiv".into()]
                },
                Node::Dates {
                    lower: Bound::Included("2019-01-01T00:00:00Z".into()),
                    upper: Bound::Unbounded
                },
                Node::Flag {
                    field: NEWEST,
                    value: true
                },
            ]
        );
    }

    #[test]
    fn unknown_fields_and_bad_syntax_are_the_users_error() {
        for query in ["nosuch:x", "title:[a TO b]", "\"unclosed", ""] {
            let err = request(&SearchRequest::new(query)).unwrap_err();
            assert!(err.is_user_error(), "{query}: {err}");
        }
    }
}
