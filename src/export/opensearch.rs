//! OpenSearch: the index (`PUT /claims` with settings, analyzers and
//! mappings), `_bulk` batches (an `index` action with the record id as
//! `_id`, then the record) and search bodies (`POST /claims/_search`).
//!
//! The keys used are those of OpenSearch's documented create-index body
//! (`settings.index`, `settings.analysis` with `analyzer`, `tokenizer`,
//! `filter`, `normalizer`; `mappings` with `dynamic` and `properties`),
//! its field types (`text`, `keyword`, `date`, `long`, `boolean`,
//! `object`), its token filters (`word_delimiter_graph`, `flatten_graph`,
//! `lowercase`, `asciifolding`, `length`, `stop`, `stemmer`), the `_bulk`
//! action line (`index` with `_index` and `_id`) and the query DSL.

use std::ops::Bound;

use serde_json::{json, Map, Value};

use super::translate::{self, Node, AUTHOR_KEYS, NEWEST, THREADS, VERIFIED};
use super::EngineRecord;
use crate::analyzer::{STOP_WORDS, TOO_LONG_WORD};
use crate::error::Result;
use crate::query::{DateBucket, SearchRequest, FACET_VALUES, TITLE_WEIGHT, TOPICS_WEIGHT};
use crate::schema::names;

/// The analyzer of the analysed fields when indexing.
pub const TEXT_ANALYZER: &str = "claims_en";
/// The analyzer of queries: the same, but a hyphenated word gives its
/// parts only (as ours does for queries).
pub const QUERY_ANALYZER: &str = "claims_en_query";
/// The subfield of the exact fields that filters match, lowercased.
pub const LOWER: &str = "lower";

/// Our words with their hyphens (split again by the compounds filter):
/// letters and digits, a decimal point only between two digits.
pub const WORDS_PATTERN: &str = r"[\p{L}\p{N}]+(?:(?<=[0-9])\.(?=[0-9])[\p{L}\p{N}]+|[-\u2010\u2011](?=[\p{L}\p{N}])[\p{L}\p{N}]+)*";

/// The body of `PUT /<index>` (the index name is in the path).
pub fn index_body() -> Value {
    let compounds = |catenate: bool| {
        json!({
            "type": "word_delimiter_graph",
            "generate_word_parts": true,
            "generate_number_parts": true,
            "catenate_words": catenate,
            "catenate_numbers": false,
            "catenate_all": false,
            "split_on_case_change": false,
            "split_on_numerics": false,
            "preserve_original": false,
            "stem_english_possessive": false,
            // Decimal points are part of a number (`0.7`).
            "type_table": [". => DIGIT"],
        })
    };
    const AFTER: [&str; 5] = [
        "lowercase",
        "asciifolding",
        "claims_long",
        "claims_stop",
        "claims_stem",
    ];
    let chain = |first: &[&'static str]| -> Vec<&'static str> {
        first.iter().chain(&AFTER).copied().collect()
    };
    let analysed =
        || json!({"type": "text", "analyzer": TEXT_ANALYZER, "search_analyzer": QUERY_ANALYZER});
    let exact = || {
        json!({
            "type": "keyword",
            "fields": {LOWER: {"type": "keyword", "normalizer": "claims_lowercase"}},
        })
    };
    json!({
        "settings": {
            "index": {"number_of_shards": 1, "number_of_replicas": 1},
            "analysis": {
                "tokenizer": {
                    "claims_words": {"type": "pattern", "pattern": WORDS_PATTERN, "group": 0},
                },
                "filter": {
                    "claims_compounds": compounds(true),
                    "claims_parts": compounds(false),
                    "claims_long": {"type": "length", "max": TOO_LONG_WORD - 1},
                    "claims_stop": {"type": "stop", "stopwords": STOP_WORDS},
                    // Snowball's English stemmer, as ours.
                    "claims_stem": {"type": "stemmer", "language": "porter2"},
                },
                "analyzer": {
                    TEXT_ANALYZER: {
                        "type": "custom",
                        "tokenizer": "claims_words",
                        "filter": chain(&["claims_compounds", "flatten_graph"]),
                    },
                    QUERY_ANALYZER: {
                        "type": "custom",
                        "tokenizer": "claims_words",
                        "filter": chain(&["claims_parts"]),
                    },
                },
                "normalizer": {
                    "claims_lowercase": {"type": "custom", "filter": ["lowercase"]},
                },
            },
        },
        "mappings": {
            "dynamic": "strict",
            "properties": {
                "id": {"type": "keyword"},
                names::KIND: exact(),
                names::TEXT: analysed(),
                names::TITLE: analysed(),
                names::SOURCE: exact(),
                names::AUTHOR: exact(),
                "authors": exact(),
                AUTHOR_KEYS: {"type": "keyword"},
                names::DATE: {"type": "date", "format": "strict_date"},
                "item_id": {"type": "keyword"},
                names::TOPICS: analysed(),
                names::THREAD: exact(),
                "version": {"type": "long"},
                "first_version": {"type": "long"},
                "cites": {"type": "object", "enabled": false},
                names::PATH: exact(),
                "truncated": {"type": "boolean"},
                names::TOPIC: exact(),
                THREADS: {"type": "keyword"},
                NEWEST: {"type": "boolean"},
                VERIFIED: {"type": "boolean"},
                names::FOUND_IN: {"type": "object", "enabled": false},
            },
        },
    })
}

/// The `_bulk` lines of one record for the index `name`: the action, then
/// the record.
pub fn bulk_lines(record: &EngineRecord, name: &str) -> String {
    let action = json!({"index": {"_index": name, "_id": record.record.id}});
    let source = serde_json::to_string(record).expect("a record always serializes");
    format!("{action}\n{source}\n")
}

/// The body of `POST /claims/_search` for `request`.
pub fn search_body(request: &SearchRequest) -> Result<Value> {
    let (query, filters) = translate::request(request)?;
    let (interval, format) = match request.date_bucket {
        DateBucket::Year => ("year", "yyyy"),
        DateBucket::Month => ("month", "yyyy-MM"),
        DateBucket::Day => ("day", "yyyy-MM-dd"),
    };
    Ok(json!({
        "from": request.offset,
        "size": request.limit,
        "track_total_hits": true,
        "query": {"bool": {
            "must": [dsl(&query)],
            "filter": filters.iter().map(dsl).collect::<Vec<_>>(),
        }},
        "highlight": {
            "pre_tags": ["<b>"],
            "post_tags": ["</b>"],
            "fields": {names::TEXT: {"number_of_fragments": 1, "fragment_size": 240}},
        },
        "aggs": {
            "kind": {"terms": {"field": names::KIND, "size": crate::model::Kind::ALL.len()}},
            "source": {"terms": {"field": names::SOURCE, "size": FACET_VALUES}},
            "topic": {"terms": {"field": names::TOPIC, "size": FACET_VALUES}},
            "date": {"date_histogram": {
                "field": names::DATE,
                "calendar_interval": interval,
                "format": format,
                "min_doc_count": 1,
            }},
        },
    }))
}

/// The field filters match: the lowercased subfield of an exact field
/// (`threads` and `author_keys` hold lowercased values already).
fn filter_field(field: &str) -> String {
    if field == THREADS || field == AUTHOR_KEYS {
        field.to_string()
    } else {
        format!("{field}.{LOWER}")
    }
}

/// A node in the query DSL.
fn dsl(node: &Node) -> Value {
    match node {
        Node::All => json!({"match_all": {}}),
        Node::Words {
            field,
            text,
            phrase,
            slop,
            prefix,
        } => {
            let kind = match (phrase, prefix) {
                (_, true) => "phrase_prefix",
                (true, false) => "phrase",
                (false, false) => "cross_fields",
            };
            let fields: Vec<String> = match field {
                Some(f) => vec![f.to_string()],
                None => vec![
                    names::TEXT.into(),
                    format!("{}^{TITLE_WEIGHT}", names::TITLE),
                    format!("{}^{TOPICS_WEIGHT}", names::TOPICS),
                ],
            };
            let mut query = json!({"query": text, "fields": fields, "type": kind});
            if kind == "cross_fields" {
                query["operator"] = json!("and");
            }
            if *phrase && *slop > 0 {
                query["slop"] = json!(slop);
            }
            json!({"multi_match": query})
        }
        Node::Exact { field, values } => match values.as_slice() {
            [one] => json!({"term": {filter_field(field): one}}),
            many => json!({"terms": {filter_field(field): many}}),
        },
        Node::Flag { field, value } => json!({"term": {*field: value}}),
        Node::Dates { lower, upper } => {
            let mut range = Map::new();
            match lower {
                Bound::Included(v) => drop(range.insert("gte".into(), json!(v))),
                Bound::Excluded(v) => drop(range.insert("gt".into(), json!(v))),
                Bound::Unbounded => {}
            }
            match upper {
                Bound::Included(v) => drop(range.insert("lte".into(), json!(v))),
                Bound::Excluded(v) => drop(range.insert("lt".into(), json!(v))),
                Bound::Unbounded => {}
            }
            range.insert("format".into(), json!("strict_date_optional_time"));
            json!({"range": {names::DATE: range}})
        }
        Node::Exists { field } => json!({"exists": {"field": field}}),
        Node::Bool {
            must,
            should,
            must_not,
        } => {
            let list = |nodes: &[Node]| nodes.iter().map(dsl).collect::<Vec<_>>();
            json!({"bool": {"must": list(must), "should": list(should), "must_not": list(must_not)}})
        }
        Node::Boost(sub, boost) => json!({"bool": {"must": [dsl(sub)], "boost": boost}}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_searched_in_three_weighted_fields_and_filters_do_not_score() {
        let request = SearchRequest {
            kinds: vec![crate::model::Kind::Claim],
            date_bucket: DateBucket::Month,
            ..SearchRequest::new("uniform convergence")
        };
        let body = search_body(&request).unwrap();
        let must = &body["query"]["bool"]["must"][0]["bool"]["must"];
        assert_eq!(
            must[0],
            json!({"multi_match": {"query": "uniform", "fields": ["text", "title^0.5", "topics^0.3"], "type": "cross_fields", "operator": "and"}})
        );
        assert_eq!(
            body["query"]["bool"]["filter"],
            json!([{"term": {"kind.lower": "claim"}}, {"term": {"newest": true}}])
        );
        assert_eq!(
            body["aggs"]["date"]["date_histogram"]["calendar_interval"],
            "month"
        );
    }
}
