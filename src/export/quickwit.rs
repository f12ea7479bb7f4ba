//! Quickwit: the index configuration (YAML, format version 0.8), ingest
//! batches (`POST /api/v1/claims/ingest`, NDJSON, one record a line) and
//! search request bodies (`POST /api/v1/claims/search`).
//!
//! The keys used are those of Quickwit's documented index configuration
//! (`version`, `index_id`, `doc_mapping` with `mode`, `dynamic_mapping`,
//! `field_mappings`, `tokenizers`; `search_settings`, `indexing_settings`),
//! of its text (`tokenizer`, `record`, `fieldnorms`, `fast`, `stored`,
//! `indexed`), datetime (`input_formats`, `output_format`,
//! `fast_precision`) and numeric field mappings, of its custom tokenizers
//! (`type: regex`, `pattern`, `filters`), and of its search API (`query`,
//! `max_hits`, `start_offset`, `sort_by`, `snippet_fields`, `aggs`).

use std::ops::Bound;

use serde_json::{json, Value};

use super::translate::{self, Node, AUTHOR_KEYS, NEWEST, THREADS, VERIFIED};
use super::{yaml, EngineRecord};
use crate::error::Result;
use crate::query::{DateBucket, SearchRequest, FACET_VALUES, TITLE_WEIGHT, TOPICS_WEIGHT};
use crate::schema::names;

/// The index configuration format version written.
pub const CONFIG_VERSION: &str = "0.8";

/// The custom tokenizer of the analysed fields.
pub const WORDS_TOKENIZER: &str = "claims_words";

/// Our words (see `analyzer`): runs of letters and digits, with a decimal
/// point between two digits kept inside (`0.7`). Quickwit's regex
/// tokenizer has no look-around, so the decimal points are spelled out.
pub const WORDS_PATTERN: &str =
    r"[\p{L}\p{N}]*[0-9]\.(?:[0-9](?:[\p{L}\p{N}]*[0-9])?\.)*[0-9][\p{L}\p{N}]*|[\p{L}\p{N}]+";

/// The index configuration of the index `name`, as a value (see [`config_yaml`]).
pub fn config(name: &str) -> Value {
    let words = |name: &str, array: bool| {
        json!({
            "name": name,
            "type": if array { "array<text>" } else { "text" },
            "tokenizer": WORDS_TOKENIZER,
            "record": "position",
            "fieldnorms": true,
        })
    };
    // Indexed lowercased for filters, fast as written for facets, as our
    // keyword fields are.
    let exact = |name: &str, array: bool, fast: bool| {
        let mut field = json!({
            "name": name,
            "type": if array { "array<text>" } else { "text" },
            "tokenizer": "raw_lowercase",
            "record": "basic",
        });
        if fast {
            field["fast"] = json!(true);
        }
        field
    };
    json!({
        "version": CONFIG_VERSION,
        "index_id": name,
        "doc_mapping": {
            // `cites` and `found_in` (lists of objects) are kept in the
            // stored document, not indexed.
            "mode": "dynamic",
            "dynamic_mapping": {"indexed": false, "stored": true},
            "field_mappings": [
                {"name": "id", "type": "text", "tokenizer": "raw", "record": "basic"},
                exact(names::KIND, false, true),
                words(names::TEXT, false),
                words(names::TITLE, false),
                exact(names::SOURCE, false, true),
                exact(names::AUTHOR, false, false),
                exact("authors", true, true),
                {"name": AUTHOR_KEYS, "type": "array<text>", "tokenizer": "raw", "record": "basic", "stored": false},
                {
                    "name": names::DATE,
                    "type": "datetime",
                    "input_formats": ["%Y-%m-%d"],
                    "output_format": "%Y-%m-%d",
                    "fast": true,
                    "fast_precision": "seconds",
                },
                {"name": "item_id", "type": "text", "tokenizer": "raw", "record": "basic"},
                words(names::TOPICS, true),
                exact(names::THREAD, false, false),
                {"name": "version", "type": "u64", "fast": true},
                {"name": "first_version", "type": "u64", "fast": true},
                exact(names::PATH, false, false),
                {"name": "truncated", "type": "bool"},
                exact(names::TOPIC, true, true),
                {"name": THREADS, "type": "array<text>", "tokenizer": "raw", "record": "basic", "stored": false},
                {"name": NEWEST, "type": "bool", "fast": true},
                {"name": VERIFIED, "type": "bool"},
            ],
            "tokenizers": [{
                "name": WORDS_TOKENIZER,
                "type": "regex",
                "pattern": WORDS_PATTERN,
                "filters": ["remove_long", "lower_caser", "ascii_folding"],
            }],
        },
        "search_settings": {
            "default_search_fields": [names::TEXT, names::TITLE, names::TOPICS],
        },
        "indexing_settings": {
            "commit_timeout_secs": 30,
        },
    })
}

/// The index configuration as Quickwit reads it (`quickwit index create
/// --index-config`, or `POST /api/v1/indexes` as `application/yaml`).
pub fn config_yaml(name: &str) -> String {
    format!(
        "# Quickwit index configuration written by claimsearch export.\n# Create the index with: quickwit index create --index-config index-config.yaml\n{}",
        yaml::to_yaml(&config(name))
    )
}

/// The ingest line of one record (with its newline).
pub fn ingest_lines(record: &EngineRecord) -> String {
    let mut line = serde_json::to_string(record).expect("a record always serializes");
    line.push('\n');
    line
}

/// The body of `POST /api/v1/claims/search` for `request`.
pub fn search_body(request: &SearchRequest) -> Result<Value> {
    let (query, filters) = translate::request(request)?;
    let mut text = string(&query);
    if !filters.is_empty() {
        let mut parts = vec![format!("({text})")];
        parts.extend(filters.iter().map(string));
        text = parts.join(" AND ");
    }
    Ok(json!({
        "query": text,
        "max_hits": request.limit,
        "start_offset": request.offset,
        "sort_by": "_score",
        "snippet_fields": names::TEXT,
        "aggs": aggregations(request.date_bucket),
    }))
}

/// Terms aggregations for the facets and a date histogram. Quickwit's date
/// histogram takes fixed intervals only: buckets are days, which the caller
/// adds up into months or years.
fn aggregations(_bucket: DateBucket) -> Value {
    json!({
        "kind": {"terms": {"field": names::KIND, "size": crate::model::Kind::ALL.len()}},
        "source": {"terms": {"field": names::SOURCE, "size": FACET_VALUES}},
        "topic": {"terms": {"field": names::TOPIC, "size": FACET_VALUES}},
        "date": {"date_histogram": {"field": names::DATE, "fixed_interval": "1d", "min_doc_count": 1}},
    })
}

/// A node in Quickwit's query language.
fn string(node: &Node) -> String {
    match node {
        Node::All => "*".into(),
        Node::Words {
            field: None,
            text,
            phrase,
            slop,
            prefix,
        } => {
            let value = words(text, *phrase, *slop, *prefix);
            format!(
                "({}:{value} OR {}:{value}^{TITLE_WEIGHT} OR {}:{value}^{TOPICS_WEIGHT})",
                names::TEXT,
                names::TITLE,
                names::TOPICS
            )
        }
        Node::Words {
            field: Some(field),
            text,
            phrase,
            slop,
            prefix,
        } => format!("{field}:{}", words(text, *phrase, *slop, *prefix)),
        Node::Exact { field, values } => {
            let each: Vec<String> = (values.iter())
                .map(|v| format!("{field}:{}", quoted(v)))
                .collect();
            match each.as_slice() {
                [one] => one.clone(),
                _ => format!("({})", each.join(" OR ")),
            }
        }
        Node::Flag { field, value } => format!("{field}:{value}"),
        Node::Dates { lower, upper } => {
            let (open, low) = match lower {
                Bound::Included(v) => ('[', v.as_str()),
                Bound::Excluded(v) => ('{', v.as_str()),
                Bound::Unbounded => ('[', "*"),
            };
            let (high, close) = match upper {
                Bound::Included(v) => (v.as_str(), ']'),
                Bound::Excluded(v) => (v.as_str(), '}'),
                Bound::Unbounded => ("*", ']'),
            };
            format!("{}:{open}{low} TO {high}{close}", names::DATE)
        }
        Node::Exists { field } => format!("{field}:*"),
        Node::Bool {
            must,
            should,
            must_not,
        } => {
            // Quickwit's language has no optional clause: next to required
            // ones, `should` clauses (which would only add to the score)
            // are left out.
            let mut parts: Vec<String> = must.iter().map(string).collect();
            if must.is_empty() && !should.is_empty() {
                let any: Vec<String> = should.iter().map(string).collect();
                parts.push(format!("({})", any.join(" OR ")));
            }
            if parts.is_empty() {
                parts.push("*".into());
            }
            parts.extend(must_not.iter().map(|n| format!("NOT {}", string(n))));
            format!("({})", parts.join(" AND "))
        }
        Node::Boost(sub, boost) => format!("({})^{boost}", string(sub)),
    }
}

/// Words as a quoted term or phrase: quoting spares escaping the
/// language's special characters.
fn words(text: &str, phrase: bool, slop: u32, prefix: bool) -> String {
    let mut out = quoted(text);
    if phrase && slop > 0 {
        out.push_str(&format!("~{slop}"));
    }
    if prefix {
        out.push('*');
    }
    out
}

fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Date;
    use tantivy::tokenizer::{RegexTokenizer, TokenStream, Tokenizer};

    /// The words Quickwit's regex tokenizer finds with our pattern (it
    /// hands each match on as a token) are our words.
    fn quickwit_words(text: &str) -> Vec<(usize, usize)> {
        let mut tokenizer = RegexTokenizer::new(WORDS_PATTERN).unwrap();
        let mut stream = tokenizer.token_stream(text);
        let mut words = Vec::new();
        while stream.advance() {
            words.push((stream.token().offset_from, stream.token().offset_to));
        }
        words
    }

    fn our_words(text: &str) -> Vec<(usize, usize)> {
        let mut words = Vec::new();
        crate::analyzer::words(text, &mut words);
        words
    }

    #[test]
    fn decimals_stay_whole_as_in_our_analyzer() {
        let text = "IL-6 rose 0.7-fold (v1.2.3, 1.a) Rényi";
        assert_eq!(quickwit_words(text), our_words(text));
        assert_eq!(quickwit_words("0.7").len(), 1);
    }

    proptest::proptest! {
        #[test]
        fn quickwit_splits_words_as_we_do(text in "[a-z0-9 .,\\-é٣α]{0,40}") {
            proptest::prop_assert_eq!(quickwit_words(&text), our_words(&text));
        }
    }

    #[test]
    fn the_request_becomes_one_query_string_with_its_filters() {
        let request = SearchRequest {
            sources: vec!["arXiv".into(), "Alignment Forum".into()],
            until: Date::parse("2020-12-31"),
            limit: 5,
            offset: 10,
            ..SearchRequest::new("memorization -\"label noise\"")
        };
        let body = search_body(&request).unwrap();
        assert_eq!(
            body["query"],
            "(((text:\"memorization\" OR title:\"memorization\"^0.5 OR topics:\"memorization\"^0.3) \
             AND NOT (text:\"label noise\" OR title:\"label noise\"^0.5 OR topics:\"label noise\"^0.3))) \
             AND (source:\"arxiv\" OR source:\"alignment forum\") \
             AND date:[* TO 2020-12-31T00:00:00Z] AND newest:true"
        );
        assert_eq!(body["max_hits"], 5);
        assert_eq!(body["start_offset"], 10);
        assert_eq!(body["aggs"]["source"]["terms"]["size"], 20);
    }
}
