//! Fixtures shared by the unit tests.

use std::path::Path;

use tantivy::Searcher;

/// The default corpus indexed in a folder of its own, and a searcher of its
/// last commit.
pub(crate) fn default_corpus() -> (tempfile::TempDir, Searcher) {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let dir = tempfile::tempdir().unwrap();
    crate::ingest::build(&corpus, dir.path(), &|_| {}).unwrap();
    let index = crate::storage::open_for_reading(dir.path()).unwrap();
    let searcher = index.reader().unwrap().searcher();
    (dir, searcher)
}
