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

/// Checks that a file kept for a commit (`path`, in the index folder) is
/// not used, as `unused()` tells, when one of its bytes is flipped (the
/// first, the 21st, the middle one, the last) and when it is missing.
pub(crate) fn damaged_or_missing_is_not_used(path: &Path, unused: impl Fn() -> bool) {
    let bytes = std::fs::read(path).unwrap();
    for at in [0, 20, bytes.len() / 2, bytes.len() - 1] {
        let mut damaged = bytes.clone();
        damaged[at] ^= 1;
        std::fs::write(path, &damaged).unwrap();
        assert!(unused(), "byte {at}");
    }
    std::fs::remove_file(path).unwrap();
    assert!(unused());
}
