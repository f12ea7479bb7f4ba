//! The JSON contract, mirrored with `deny_unknown_fields` so that any added,
//! renamed or missing field fails the tests.

#![allow(dead_code)]

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Response {
    pub query: String,
    pub total: usize,
    pub relaxed: bool,
    pub hits: Vec<Hit>,
    pub facets: Facets,
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
    pub date: Option<String>,
    pub item_id: Option<String>,
    pub topics: Vec<String>,
    pub thread: Option<String>,
    pub version: Option<u32>,
    pub cites: Vec<Cite>,
    pub path: String,
    pub truncated: bool,
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
    pub date: Vec<FacetCount>,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FacetCount {
    pub value: String,
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
