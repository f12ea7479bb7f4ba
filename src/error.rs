//! Typed errors of the library, so a caller can react to each case (the CLI maps
//! them to exit codes, the server to HTTP statuses).

use std::path::PathBuf;

/// What can go wrong in claimsearch.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The query text could not be parsed.
    #[error("bad query: {0}")]
    BadQuery(String),
    /// A request parameter is out of range or malformed (a date, a limit).
    #[error("bad request: {0}")]
    BadRequest(String),
    /// There is no index at the given folder.
    #[error("no index at {}: run `claimsearch index` first", .0.display())]
    IndexMissing(PathBuf),
    /// The index was built by another version of claimsearch (another
    /// schema): `claimsearch index` (or `reindex`) rebuilds it.
    #[error("the index at {} was built by another version of claimsearch: run `claimsearch index` to rebuild it", .0.display())]
    IndexVersion(PathBuf),
    /// A stored record could not be read back.
    #[error(
        "a stored record of the index is not readable ({0}): run `claimsearch index` to rebuild it"
    )]
    StoredRecord(String),
    /// Another process holds the index's writer lock.
    #[error("another process is writing the index at {} (index busy)", .0.display())]
    IndexBusy(PathBuf),
    /// The corpus folder does not exist or is not a folder.
    #[error("corpus folder {} not found", .0.display())]
    CorpusMissing(PathBuf),
    /// A file system error, with the path it happened on.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// An error inside the index engine.
    #[error("index error: {0}")]
    Index(#[from] tantivy::TantivyError),
}

impl Error {
    /// Wraps an I/O error with the path it happened on.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// True for errors caused by what the user asked (bad query or parameter).
    pub fn is_user_error(&self) -> bool {
        matches!(self, Error::BadQuery(_) | Error::BadRequest(_))
    }
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
