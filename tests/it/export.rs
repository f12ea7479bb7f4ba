//! `claimsearch export --format quickwit|opensearch DIR` and `query
//! --explain`: the files are checked against the keys, field types and
//! limits each engine documents (Quickwit: index configuration, ingest
//! API, search API and aggregations; OpenSearch: create-index body,
//! mapping types, analysis components, `_bulk` and the query DSL). No
//! engine runs here; these are the documented shapes, written down.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

use crate::cli::corpus;
use crate::util::Fixture;

/// Quickwit's ingest API and our OpenSearch batches: at most 10 MB a request.
const MAX_BATCH: u64 = 10_000_000;

fn exported(fx: &Fixture, format: &str) -> std::path::PathBuf {
    let dir = fx.path().join(format!("out-{format}"));
    let run = fx.ok(&["export", "--format", format, dir.to_str().unwrap()]);
    assert!(run.stdout.starts_with("wrote "), "{}", run.stdout);
    dir
}

/// The records `export` prints as JSON Lines, by id.
fn records(fx: &Fixture) -> BTreeMap<String, Value> {
    let run = fx.ok(&["export"]);
    (run.stdout.lines())
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .map(|r| (r["id"].as_str().unwrap().to_string(), r))
        .collect()
}

/// The batch files of `dir` whose names start with `prefix`, in order.
fn batches(dir: &Path, prefix: &str) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with(prefix))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no {prefix} batch in {}", dir.display());
    for file in &files {
        let bytes = std::fs::metadata(file).unwrap().len();
        assert!(bytes <= MAX_BATCH, "{} has {bytes} bytes", file.display());
        assert!(file.extension().is_some_and(|e| e == "ndjson"));
    }
    files
}

fn keys(value: &Value) -> BTreeSet<&str> {
    value
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {value}"))
        .keys()
        .map(String::as_str)
        .collect()
}

fn assert_keys_among(value: &Value, allowed: &[&str], what: &str) {
    let allowed: BTreeSet<&str> = allowed.iter().copied().collect();
    let extra: Vec<_> = keys(value).difference(&allowed).copied().collect();
    assert!(extra.is_empty(), "{what}: undocumented keys {extra:?}");
}

fn is_day(value: &Value) -> bool {
    value.as_str().is_some_and(|s| {
        let b = s.as_bytes();
        b.len() == 10 && b[4] == b'-' && b[7] == b'-'
    })
}

// Quickwit, index configuration (docs: configuration/index-config).
const QW_DOC_MAPPING_KEYS: &[&str] = &[
    "mode",
    "dynamic_mapping",
    "field_mappings",
    "tag_fields",
    "store_source",
    "timestamp_field",
    "partition_key",
    "max_num_partitions",
    "index_field_presence",
    "store_document_size",
    "tokenizers",
];
const QW_TEXT_KEYS: &[&str] = &[
    "name",
    "type",
    "description",
    "stored",
    "indexed",
    "tokenizer",
    "record",
    "fieldnorms",
    "fast",
];
const QW_NUMERIC_KEYS: &[&str] = &[
    "name",
    "type",
    "description",
    "stored",
    "indexed",
    "fast",
    "coerce",
    "output_format",
];
const QW_DATETIME_KEYS: &[&str] = &[
    "name",
    "type",
    "description",
    "input_formats",
    "output_format",
    "stored",
    "indexed",
    "fast",
    "fast_precision",
];
const QW_BOOL_KEYS: &[&str] = &["name", "type", "description", "stored", "indexed", "fast"];
const QW_BUILTIN_TOKENIZERS: &[&str] = &[
    "raw",
    "raw_lowercase",
    "default",
    "en_stem",
    "whitespace",
    "chinese_compatible",
    "lowercase",
];
// Search API (docs: reference/rest-api).
const QW_SEARCH_KEYS: &[&str] = &[
    "query",
    "start_timestamp",
    "end_timestamp",
    "start_offset",
    "max_hits",
    "search_field",
    "snippet_fields",
    "sort_by",
    "format",
    "aggs",
];

/// Quickwit's field name rule: `^[@$_\-a-zA-Z][@$_/\.\-a-zA-Z0-9]{0,254}$`.
fn quickwit_field_name(name: &str) -> bool {
    let mut chars = name.chars();
    let first = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || "@$_-".contains(c));
    first
        && name.len() <= 255
        && chars.all(|c| c.is_ascii_alphanumeric() || "@$_/.-".contains(c))
        && !["_source", "_dynamic", "_field_presence"].contains(&name)
}

#[test]
fn quickwit_files_follow_the_documented_index_config_and_ingest_api() {
    let fx = corpus();
    fx.ok(&["index"]);
    let dir = exported(&fx, "quickwit");

    let yaml = std::fs::read_to_string(dir.join("index-config.yaml")).unwrap();
    let config: Value = serde_yaml::from_str(&yaml).unwrap();
    assert_eq!(config, claimsearch::export::quickwit::config("claims"));
    assert_keys_among(
        &config,
        &[
            "version",
            "index_id",
            "index_uri",
            "doc_mapping",
            "indexing_settings",
            "ingest_settings",
            "search_settings",
            "retention",
        ],
        "index config",
    );
    assert!(["0.7", "0.8", "0.9"].contains(&config["version"].as_str().unwrap()));
    let index_id = config["index_id"].as_str().unwrap();
    assert!(index_id.len() >= 3 && index_id.starts_with(|c: char| c.is_ascii_alphabetic()));
    assert!(index_id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c)));

    let mapping = &config["doc_mapping"];
    assert_keys_among(mapping, QW_DOC_MAPPING_KEYS, "doc_mapping");
    assert!(["dynamic", "lenient", "strict"].contains(&mapping["mode"].as_str().unwrap()));
    let custom: BTreeSet<&str> = (mapping["tokenizers"].as_array().unwrap().iter())
        .map(|t| {
            assert_keys_among(
                t,
                &[
                    "name",
                    "type",
                    "pattern",
                    "filters",
                    "min_gram",
                    "max_gram",
                    "prefix_only",
                ],
                "tokenizer",
            );
            assert!(
                ["regex", "simple", "ngram", "source_code"].contains(&t["type"].as_str().unwrap())
            );
            for filter in t["filters"].as_array().unwrap() {
                assert!(["remove_long", "lower_caser", "ascii_folding"]
                    .contains(&filter.as_str().unwrap()));
            }
            t["name"].as_str().unwrap()
        })
        .collect();
    let mut fields: BTreeMap<&str, &Value> = BTreeMap::new();
    for field in mapping["field_mappings"].as_array().unwrap() {
        let name = field["name"].as_str().unwrap();
        assert!(quickwit_field_name(name), "{name}");
        assert!(fields.insert(name, field).is_none(), "{name} mapped twice");
        let ty = field["type"].as_str().unwrap();
        let raw = ty
            .strip_prefix("array<")
            .and_then(|t| t.strip_suffix('>'))
            .unwrap_or(ty);
        match raw {
            "text" => {
                assert_keys_among(field, QW_TEXT_KEYS, name);
                let tokenizer = field["tokenizer"].as_str().unwrap();
                assert!(QW_BUILTIN_TOKENIZERS.contains(&tokenizer) || custom.contains(tokenizer));
                assert!(["basic", "freq", "position"].contains(&field["record"].as_str().unwrap()));
            }
            "u64" | "i64" | "f64" => assert_keys_among(field, QW_NUMERIC_KEYS, name),
            "bool" => assert_keys_among(field, QW_BOOL_KEYS, name),
            "datetime" => {
                assert_keys_among(field, QW_DATETIME_KEYS, name);
                for format in field["input_formats"].as_array().unwrap() {
                    let f = format.as_str().unwrap();
                    assert!(
                        ["iso8601", "rfc2822", "rfc3339", "unix_timestamp"].contains(&f)
                            || f.contains('%')
                    );
                }
                let precision = field["fast_precision"].as_str().unwrap();
                assert!(
                    ["seconds", "milliseconds", "microseconds", "nanoseconds"].contains(&precision)
                );
            }
            other => panic!("{name}: type {other} is not used by our mapping"),
        }
    }
    for default in config["search_settings"]["default_search_fields"]
        .as_array()
        .unwrap()
    {
        let field = fields[default.as_str().unwrap()];
        assert!(field["type"].as_str().unwrap().contains("text"));
    }

    // Ingest batches: one JSON object a line, every field mapped with its type.
    let expected = records(&fx);
    let mut seen = BTreeSet::new();
    for batch in batches(&dir, "records-") {
        let text = std::fs::read_to_string(&batch).unwrap();
        assert!(text.ends_with('\n'));
        for line in text.lines() {
            let doc: Value = serde_json::from_str(line).unwrap();
            for (key, value) in doc.as_object().unwrap() {
                if value.is_null() {
                    continue; // "Fields with null are ignored when indexing."
                }
                let Some(field) = fields.get(key.as_str()) else {
                    // Unmapped fields go to the dynamic mapping: stored, not indexed.
                    assert!(["cites", "found_in"].contains(&key.as_str()), "{key}");
                    assert_eq!(mapping["mode"], "dynamic");
                    continue;
                };
                let ty = field["type"].as_str().unwrap();
                let ok = match ty {
                    "text" => value.is_string(),
                    "array<text>" => value.as_array().unwrap().iter().all(Value::is_string),
                    "u64" => value.is_u64(),
                    "bool" => value.is_boolean(),
                    "datetime" => is_day(value),
                    _ => false,
                };
                assert!(ok, "{key} = {value} is not a {ty}");
            }
            let id = doc["id"].as_str().unwrap().to_string();
            let mut record = doc.clone();
            for extra in ["topic", "threads", "author_keys", "newest", "verified"] {
                record.as_object_mut().unwrap().remove(extra);
            }
            assert_eq!(
                Some(&record),
                expected.get(&id),
                "the record view, unchanged"
            );
            assert!(seen.insert(id));
        }
    }
    assert_eq!(seen.len(), expected.len(), "every record, once");

    // The search request: documented keys, aggregations on fast fields.
    let run = fx.ok(&[
        "query",
        "--explain",
        "quickwit",
        "uniform convergence",
        "--source",
        "LessWrong",
    ]);
    let body: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_keys_among(&body, QW_SEARCH_KEYS, "search body");
    for (name, agg) in body["aggs"].as_object().unwrap() {
        let (kind, params) = agg.as_object().unwrap().iter().next().unwrap();
        let field = fields[params["field"].as_str().unwrap()];
        assert!(
            field["fast"].as_bool().unwrap_or(false),
            "{name} on a fast field"
        );
        match kind.as_str() {
            "terms" => assert_keys_among(
                params,
                &[
                    "field",
                    "size",
                    "shard_size",
                    "min_doc_count",
                    "order",
                    "show_term_doc_count_error",
                ],
                name,
            ),
            "date_histogram" => {
                // Only fixed intervals are supported.
                assert_keys_among(
                    params,
                    &[
                        "field",
                        "fixed_interval",
                        "offset",
                        "min_doc_count",
                        "hard_bounds",
                        "extended_bounds",
                        "keyed",
                    ],
                    name,
                );
                assert!(params["fixed_interval"].as_str().unwrap().ends_with('d'));
            }
            other => panic!("{other}"),
        }
    }
    assert!(body["query"]
        .as_str()
        .unwrap()
        .contains("source:\"lesswrong\""));
}

// OpenSearch (docs: index APIs, mapping field types, analyzers, _bulk).
const OS_TYPES: &[&str] = &["text", "keyword", "date", "long", "boolean", "object"];
const OS_BUILTIN_FILTERS: &[&str] = &["lowercase", "asciifolding", "flatten_graph"];
const OS_FILTER_TYPES: &[&str] = &["word_delimiter_graph", "length", "stop", "stemmer"];

#[test]
fn opensearch_files_follow_the_documented_index_and_bulk_api() {
    let fx = corpus();
    fx.ok(&["index"]);
    let dir = exported(&fx, "opensearch");

    let index: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("index.json")).unwrap()).unwrap();
    assert_keys_among(
        &index,
        &["settings", "mappings", "aliases"],
        "create index body",
    );
    let analysis = &index["settings"]["analysis"];
    assert_keys_among(
        analysis,
        &[
            "analyzer",
            "tokenizer",
            "filter",
            "normalizer",
            "char_filter",
        ],
        "analysis",
    );
    for (name, filter) in analysis["filter"].as_object().unwrap() {
        assert!(
            OS_FILTER_TYPES.contains(&filter["type"].as_str().unwrap()),
            "{name}"
        );
    }
    for (name, tokenizer) in analysis["tokenizer"].as_object().unwrap() {
        assert_eq!(tokenizer["type"], "pattern", "{name}");
        assert_keys_among(tokenizer, &["type", "pattern", "flags", "group"], name);
    }
    for (name, analyzer) in analysis["analyzer"].as_object().unwrap() {
        assert_eq!(analyzer["type"], "custom");
        assert!(
            analysis["tokenizer"]
                .get(analyzer["tokenizer"].as_str().unwrap())
                .is_some(),
            "{name}"
        );
        for filter in analyzer["filter"].as_array().unwrap() {
            let filter = filter.as_str().unwrap();
            assert!(
                OS_BUILTIN_FILTERS.contains(&filter) || analysis["filter"].get(filter).is_some(),
                "{name}: {filter}"
            );
        }
    }
    let mappings = &index["mappings"];
    assert_eq!(mappings["dynamic"], "strict");
    let properties = mappings["properties"].as_object().unwrap();
    for (name, property) in properties {
        let ty = property["type"].as_str().unwrap();
        assert!(OS_TYPES.contains(&ty), "{name}: {ty}");
        for key in ["analyzer", "search_analyzer"] {
            if let Some(analyzer) = property.get(key) {
                assert!(analysis["analyzer"]
                    .get(analyzer.as_str().unwrap())
                    .is_some());
            }
        }
        if let Some(sub) = property.get("fields") {
            for sub in sub.as_object().unwrap().values() {
                assert_eq!(sub["type"], "keyword");
                assert!(analysis["normalizer"]
                    .get(sub["normalizer"].as_str().unwrap())
                    .is_some());
            }
        }
    }

    // _bulk: an action line with _index and the record id as _id, then the record.
    let expected = records(&fx);
    let mut seen = BTreeSet::new();
    for batch in batches(&dir, "bulk-") {
        let text = std::fs::read_to_string(&batch).unwrap();
        assert!(text.ends_with('\n'), "a bulk body ends with a newline");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len() % 2, 0, "actions and sources come in pairs");
        for pair in lines.chunks(2) {
            let action: Value = serde_json::from_str(pair[0]).unwrap();
            let doc: Value = serde_json::from_str(pair[1]).unwrap();
            assert_eq!(keys(&action), BTreeSet::from(["index"]));
            assert_keys_among(&action["index"], &["_index", "_id"], "action");
            assert_eq!(action["index"]["_index"], claimsearch::export::INDEX_NAME);
            assert_eq!(action["index"]["_id"], doc["id"]);
            for (key, value) in doc.as_object().unwrap() {
                let property = properties
                    .get(key)
                    .unwrap_or_else(|| panic!("{key} is not mapped (dynamic: strict)"));
                if value.is_null() {
                    continue;
                }
                let ok = match property["type"].as_str().unwrap() {
                    "text" | "keyword" => {
                        value.is_string()
                            || value
                                .as_array()
                                .is_some_and(|a| a.iter().all(Value::is_string))
                    }
                    "date" => is_day(value),
                    "long" => value.is_u64(),
                    "boolean" => value.is_boolean(),
                    "object" => value.is_array() || value.is_object(),
                    _ => false,
                };
                assert!(ok, "{key} = {value}");
            }
            assert!(expected.contains_key(doc["id"].as_str().unwrap()));
            assert!(seen.insert(doc["id"].as_str().unwrap().to_string()));
        }
    }
    assert_eq!(seen.len(), expected.len(), "every record, once");

    // The search body: filters in `filter` (unscored), facets as terms
    // aggregations on the as-written keyword fields, a calendar histogram.
    let run = fx.ok(&[
        "query",
        "--explain",
        "opensearch",
        "uniform",
        "--kind",
        "claim",
        "--date-bucket",
        "month",
        "--since",
        "2019-01-01",
    ]);
    let body: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_keys_among(
        &body,
        &[
            "from",
            "size",
            "track_total_hits",
            "query",
            "highlight",
            "aggs",
        ],
        "search body",
    );
    for agg in body["aggs"].as_object().unwrap().values() {
        let (_, params) = agg.as_object().unwrap().iter().next().unwrap();
        let field = params["field"].as_str().unwrap();
        assert!(["keyword", "date"].contains(&properties[field]["type"].as_str().unwrap()));
    }
    assert_eq!(
        body["aggs"]["date"]["date_histogram"]["calendar_interval"],
        "month"
    );
    let filters = body["query"]["bool"]["filter"].as_array().unwrap();
    assert!(filters.contains(&serde_json::json!({"term": {"kind.lower": "claim"}})));
    assert!(filters.contains(&serde_json::json!({"range": {"date": {"gte": "2019-01-01T00:00:00Z", "format": "strict_date_optional_time"}}})));
}

#[test]
fn engine_records_say_which_are_of_an_older_thread_version_and_every_thread() {
    let fx = corpus();
    fx.ok(&["index"]);
    let dir = exported(&fx, "quickwit");
    let text = std::fs::read_to_string(&batches(&dir, "records-")[0]).unwrap();
    let docs: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for doc in &docs {
        let older = doc["version"] == 1;
        assert_eq!(doc["newest"], !older, "{}", doc["id"]);
        assert_eq!(doc["topic"], doc["topics"]);
        let found = doc["found_in"].as_array().is_some_and(|f| !f.is_empty());
        assert_eq!(doc["verified"], found);
    }
    assert!(docs.iter().any(|d| d["newest"] == false));
    // A feed item names the thread it appears in: `--thread` finds it there.
    let item = docs.iter().find(|d| d["item_id"] == "tim-1").unwrap();
    assert_eq!(item["threads"], serde_json::json!(["is theory broken"]));
}

#[test]
fn export_and_explain_say_what_is_wrong_in_one_line() {
    let fx = corpus();
    fx.ok(&["index"]);
    let dir = fx.path().join("taken");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("old.ndjson"), "{}\n").unwrap();
    for (args, needle) in [
        (
            vec!["export", "--format", "quickwit", dir.to_str().unwrap()],
            "not empty",
        ),
        (vec!["export", "--format", "opensearch"], "give the folder"),
        (vec!["export", "--format", "csv", "x"], "unknown format"),
        (vec!["query", "--explain", "solr", "x"], "unknown engine"),
        (
            vec!["export", "--format", "opensearch", "--name", "Claims!", "y"],
            "cannot name an index",
        ),
        (
            vec!["query", "--explain", "quickwit", "nosuch:x"],
            "does not exist",
        ),
    ] {
        let run = fx.run(&args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        // The first line says it (clap adds a usage line to its own errors).
        let first = run.stderr.lines().next().unwrap_or_default();
        assert!(first.contains(needle), "{args:?}: {}", run.stderr);
    }
    // Explaining needs no index and builds none.
    let fresh = Fixture::new();
    fresh.ok(&["query", "--explain", "opensearch", "*"]);
    assert!(!fresh.index().exists());
}
