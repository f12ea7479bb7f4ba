//! The five real pages in `../shared/seeds`, the formats' ground truth, for
//! golden tests. A clone without `../shared` has none: the tests skip.

use std::path::PathBuf;

/// The seeds folder, or `None` after printing that the test is skipped.
pub(crate) fn dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/seeds");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipping: ../shared/seeds not found");
        None
    }
}
