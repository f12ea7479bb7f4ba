//! claimsearch: ranked, faceted search over the pages a discourse tracker saves.
//!
//! Data flows one way, and each module imports only those before it:
//!
//! ```text
//! corpus files → page (pure parsers) → model::Record → schema (index documents)
//!   → storage (the index on disk, for both sides)
//!   → commit_file (what a write run keeps beside its commit), key_index
//!     (each segment's echo lookup keys, in a file beside the index)
//!   → superseded, common_keys (older thread versions' records, echo
//!     lookup keys too common to tell claims apart: found once per commit)
//!   → ingest (write side: one writer, one commit)
//!   → query (read side: parse, filter, rank, facets, snippets) → stats
//!   → index (the handle a program keeps open) → render / serve (the faces)
//! ```
//!
//! [`model::Record`] is the one record view: the index stores it, `export`
//! prints it, and a [`query::Hit`] carries it beside a score and a snippet.
//! The HTTP server ([`serve`]) is behind the `server` cargo feature, on by
//! default; `default-features = false` builds the library without axum,
//! tokio, tower-http or tracing-subscriber.
//!
//! # The library API
//!
//! - [`Index::ingest`]`(corpus, index_dir, &progress)` (the same as
//!   [`ingest::build`]) rebuilds an index and returns an
//!   [`ingest::IndexReport`] (pages, records, skipped files, warnings);
//!   [`Index::reindex`] reads only what changed. The library never prints:
//!   progress arrives through the callback as [`ingest::Progress`] steps.
//! - [`Index::open`]`(dir)` opens an index for searching. An `Index` is `Send +
//!   Sync` and cheap to share (`Arc<Index>`): searches run concurrently, and a
//!   commit made by another process (`claimsearch index` or `reindex`) is
//!   picked up by itself within about a second, without reopening.
//! - [`Index::search`]`(&`[`SearchRequest`]`)` returns a [`SearchResponse`]:
//!   the hits, the `total` after filters, and facet counts over every match
//!   (estimated from a sample past a search's first 50,000, and then
//!   `facets_exact` is false; [`SearchRequest::exact_facets`] counts them all).
//!   Serialized with serde it is the JSON contract of `claimsearch query
//!   --json` and of the HTTP server (`serve`). [`Index::stats`] counts what
//!   the index holds.
//! - Errors are one typed enum, [`Error`], so a caller can react to each case:
//!   [`Error::BadQuery`] and [`Error::BadRequest`] (the user's input; see
//!   [`Error::is_user_error`]), [`Error::IndexMissing`],
//!   [`Error::IndexVersion`] (built by another version: run `claimsearch
//!   index`), [`Error::IndexBusy`] (another process holds the writer),
//!   [`Error::Io`] and [`Error::Index`].
//!
//! A complete program (`examples/embed.rs` is a longer one):
//!
//! ```
//! use std::sync::Arc;
//!
//! use claimsearch::model::Kind;
//! use claimsearch::{Error, Index, SearchRequest};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let work = tempfile::tempdir()?;
//! # let (corpus, index_dir) = (work.path().join("corpus"), work.path().join("index"));
//! # std::fs::create_dir_all(&corpus)?;
//! # std::fs::write(corpus.join("items.jsonl"), concat!(
//! #     r#"{"title": "Uniform bounds revisited", "source": "arXiv", "date": "2019-03-01", "#,
//! #     r#""claims": ["Uniform convergence cannot explain generalization."]}"#, "\n"))?;
//! // Build (or rebuild) the index; progress comes through the callback.
//! let report = Index::ingest(&corpus, &index_dir, &|_step| {})?;
//! assert_eq!(report.records, 1);
//!
//! // Open it once and share it between threads.
//! let index = Arc::new(Index::open(&index_dir)?);
//! let request = SearchRequest {
//!     sources: vec!["arxiv".into()],
//!     kinds: vec![Kind::Claim],
//!     ..SearchRequest::new("uniform convergence")
//! };
//! let response = index.search(&request)?;
//! for hit in &response.hits {
//!     println!("{:.2} {} — {}", hit.score, hit.record.text, hit.record.title);
//! }
//! println!("{} matches; by year: {:?}", response.total, response.facets.date);
//! println!("{}", serde_json::to_string(&response)?); // the JSON contract
//!
//! // React to each kind of failure.
//! match index.search(&SearchRequest::new("nosuchfield:x")) {
//!     Err(Error::BadQuery(why)) => println!("ask the user again: {why}"),
//!     Err(Error::IndexMissing(_) | Error::IndexBusy(_)) => println!("try again later"),
//!     Err(other) => return Err(other.into()),
//!     Ok(response) => println!("{} matches", response.total),
//! }
//! # Ok(())
//! # }
//! ```
#![warn(missing_docs)]

pub mod analyzer;
pub mod authors;
pub mod browse;
mod commit_file;
pub mod common_keys;
pub mod config;
pub mod echo;
pub mod error;
pub mod export;
mod facet_rows;
mod facet_values;
pub mod history;
pub mod index;
pub mod ingest;
mod key_index;
pub mod model;
pub mod page;
mod prefetch;
pub mod provenance;
pub mod query;
pub mod render;
pub mod schema;
#[cfg(test)]
mod seeds;
mod segment_file;
#[cfg(feature = "server")]
pub mod serve;
mod spelling;
mod spelling_list;
pub mod stats;
pub mod storage;
mod superseded;
#[cfg(test)]
mod testing;
#[cfg(feature = "server")]
pub mod web;
mod word_list;

pub use error::{Error, Result};
pub use index::Index;
pub use query::{SearchRequest, SearchResponse};
