//! claimsearch: ranked, faceted search over the pages a discourse tracker saves.
//!
//! Data flows one way:
//! corpus files → [`page`] (pure parsers) → [`model::Record`]s → [`schema`]
//! documents → [`ingest`] (one writer, one commit) → [`Index::search`] →
//! [`query::SearchResponse`] → [`render`].
//!
//! ```no_run
//! use claimsearch::{ingest, Index, SearchRequest};
//!
//! # fn main() -> claimsearch::Result<()> {
//! let report = ingest::build("corpus".as_ref(), "index".as_ref(), &|_| {})?;
//! println!("{} records", report.records);
//!
//! let index = Index::open("index")?;
//! let response = index.search(&SearchRequest::new("uniform convergence"))?;
//! for hit in &response.hits {
//!     println!("{:.2} {} — {}", hit.score, hit.text, hit.title);
//! }
//! # Ok(())
//! # }
//! ```
#![warn(missing_docs)]

pub mod config;
pub mod error;
pub mod index;
pub mod ingest;
pub mod model;
pub mod page;
pub mod query;
pub mod render;
pub mod schema;
pub mod stats;

pub use error::{Error, Result};
pub use index::Index;
pub use query::{SearchRequest, SearchResponse};
