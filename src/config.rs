//! Plain settings with their defaults: where the corpus and the index live.

use std::path::PathBuf;

/// Environment variable naming the corpus folder.
pub const CORPUS_ENV: &str = "CLAIMSEARCH_CORPUS";
/// Environment variable naming the index folder.
pub const INDEX_ENV: &str = "CLAIMSEARCH_INDEX";
/// The corpus folder when neither flag nor environment names one.
pub const DEFAULT_CORPUS: &str = "corpus";
/// The index folder when neither flag nor environment names one.
pub const DEFAULT_INDEX: &str = "index";

/// Where to read pages from and where to keep the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// The corpus folder.
    pub corpus: PathBuf,
    /// The index folder.
    pub index: PathBuf,
}
