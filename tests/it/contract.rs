//! The JSON contract, mirrored with `deny_unknown_fields` so that any added,
//! renamed or missing field fails the tests.

#![allow(dead_code)]

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Response {
    pub query: String,
    pub total: usize,
    pub relaxed: bool,
    pub groups: Option<usize>,
    pub groups_exact: Option<bool>,
    pub hits: Vec<Hit>,
    pub facets: Facets,
    pub facets_exact: bool,
    pub corrections: Vec<Correction>,
    pub warnings: Vec<String>,
}

#[derive(Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Correction {
    pub from: String,
    pub to: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hit {
    pub id: String,
    pub score: f32,
    pub kind: String,
    pub text: String,
    pub snippet: String,
    pub title: String,
    pub source: Option<String>,
    pub author: Option<String>,
    pub authors: Vec<String>,
    pub date: Option<String>,
    pub item_id: Option<String>,
    pub topics: Vec<String>,
    pub thread: Option<String>,
    pub version: Option<u32>,
    pub first_version: Option<u32>,
    pub cites: Vec<Cite>,
    pub path: String,
    pub truncated: bool,
    /// `null` for every kind but `quote`; see [`assert_found_in_shape`].
    pub found_in: Option<Vec<FoundIn>>,
    pub echoes: Option<Echoes>,
}

/// A line of `claimsearch export`: the hit fields without `score` and `snippet`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exported {
    pub id: String,
    pub kind: String,
    pub text: String,
    pub title: String,
    pub source: Option<String>,
    pub author: Option<String>,
    pub authors: Vec<String>,
    pub date: Option<String>,
    pub item_id: Option<String>,
    pub topics: Vec<String>,
    pub thread: Option<String>,
    pub version: Option<u32>,
    pub first_version: Option<u32>,
    pub cites: Vec<Cite>,
    pub path: String,
    pub truncated: bool,
    /// `null` for every kind but `quote`.
    pub found_in: Option<Vec<FoundIn>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FoundIn {
    pub path: String,
    pub title: String,
}

/// serde reads a missing `Option` field as `None`: checks on the raw JSON
/// that every hit has `found_in`, a list for a quote and `null` otherwise.
pub fn assert_found_in_shape(response: &str) {
    let value: serde_json::Value = serde_json::from_str(response).unwrap();
    for hit in value["hits"].as_array().unwrap() {
        let found_in = hit.get("found_in").expect("every hit has found_in");
        if hit["kind"] == "quote" {
            assert!(found_in.is_array(), "{hit}");
        } else {
            assert!(found_in.is_null(), "{hit}");
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Echoes {
    pub count: usize,
    pub first: Option<Appearance>,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Appearance {
    pub title: String,
    pub source: Option<String>,
    pub authors: Vec<String>,
    pub date: Option<String>,
    pub path: String,
}

/// `claimsearch similar --json` and `GET /similar`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Similar {
    pub id: String,
    pub items: usize,
    pub group: Vec<Related>,
    pub nearest: Vec<Related>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Related {
    pub id: String,
    pub kind: String,
    pub text: String,
    pub title: String,
    pub source: Option<String>,
    pub author: Option<String>,
    pub authors: Vec<String>,
    pub date: Option<String>,
    pub item_id: Option<String>,
    pub topics: Vec<String>,
    pub thread: Option<String>,
    pub version: Option<u32>,
    pub first_version: Option<u32>,
    pub cites: Vec<Cite>,
    pub path: String,
    pub truncated: bool,
    pub found_in: Option<Vec<FoundIn>>,
    pub same: bool,
    pub why: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cite {
    pub title: String,
    pub source: Option<String>,
    pub date: Option<String>,
}

#[derive(Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Facets {
    pub source: Vec<FacetCount>,
    pub topic: Vec<FacetCount>,
    pub kind: Vec<FacetCount>,
    pub author: Vec<FacetCount>,
    pub date: Vec<FacetCount>,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FacetCount {
    /// `null` for the matches without a value (the last entry).
    pub value: Option<String>,
    pub count: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexSummary {
    pub pages: usize,
    pub records: usize,
    pub skipped: Vec<Skipped>,
    pub warnings: Vec<Warning>,
    pub seconds: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Skipped {
    pub path: String,
    pub reason: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Warning {
    pub path: String,
    pub line: Option<usize>,
    pub message: String,
}

/// `claimsearch history --json` and `GET /history`.
#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryJson {
    pub thread: String,
    pub versions: Vec<VersionJson>,
    pub changes: Vec<ChangeJson>,
}

#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct VersionJson {
    pub version: u32,
    pub date: Option<String>,
    pub path: String,
    /// Records by kind: every thread kind (event, narrative, perspective, tension).
    pub records: BTreeMap<String, usize>,
}

#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeJson {
    pub from: u32,
    pub to: u32,
    /// Texts by kind; kinds with none are left out.
    pub added: BTreeMap<String, Vec<String>>,
    pub removed: BTreeMap<String, Vec<String>>,
    pub kept: usize,
}
