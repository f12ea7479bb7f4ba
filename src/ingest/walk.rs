//! Finding the pages: which files under the corpus root are read, in a fixed order.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use walkdir::{DirEntry, WalkDir};

use super::{check_corpus, relative, unescaped, Skipped};
use crate::error::Result;

/// File endings read as pages; anything else (images, editor backups) is not a page.
const PAGE_EXTENSIONS: [&str; 4] = ["txt", "text", "md", "jsonl"];

/// A candidate page.
///
/// A run keeps one of these for every file of the corpus, so it holds one
/// path, not two: where to read the file is derived from `rel` and the corpus
/// root, which all the files of a walk share ([`CorpusFile::abs`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorpusFile {
    /// Its path relative to the corpus root, `/`-separated, each name as
    /// `escaped` writes it (a byte that is not UTF-8 as `\xHH`, a backslash
    /// doubled): its identity in the index.
    pub rel: String,
    /// Size in bytes, when walked.
    pub size: u64,
    /// Modification time in nanoseconds since 1970, when walked.
    pub mtime: u128,
    /// The corpus root, shared by every file of a walk.
    root: Arc<Path>,
}

impl CorpusFile {
    /// The file `rel` (as [`CorpusFile::rel`] spells it) under `root`.
    pub fn new(root: Arc<Path>, rel: String, size: u64, mtime: u128) -> CorpusFile {
        CorpusFile {
            rel,
            size,
            mtime,
            root,
        }
    }

    /// Where to read it: the corpus root joined with `rel`, its escapes
    /// undone, so a name that is not UTF-8 is found byte for byte. (This
    /// was a public field, `abs`, before a file kept one path only.)
    pub fn abs(&self) -> PathBuf {
        self.root.join(unescaped(&self.rel))
    }

    /// The corpus root it is under.
    pub(crate) fn root(&self) -> &Arc<Path> {
        &self.root
    }

    /// The file's name (the last part of its path).
    pub fn name(&self) -> String {
        self.rel.rsplit('/').next().unwrap_or(&self.rel).to_string()
    }
}

/// What a walk found.
#[derive(Debug, Default)]
pub struct Walk {
    /// Candidate pages, sorted by relative path.
    pub files: Vec<CorpusFile>,
    /// Entries the walk could not enter or read (permissions, symlink loops).
    pub skipped: Vec<Skipped>,
}

/// Walks `corpus`, following symbolic links (a loop is reported, not followed)
/// and leaving out hidden files and folders.
pub fn walk(corpus: &Path) -> Result<Walk> {
    let root = check_corpus(corpus)?;
    let shared: Arc<Path> = Arc::from(root.as_path());
    let mut found = Walk::default();
    let entries = WalkDir::new(&root)
        .follow_links(true)
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !is_hidden(e));
    for entry in entries {
        match entry {
            Ok(entry) if entry.file_type().is_file() && is_page(entry.path()) => {
                let rel = relative(&root, entry.path());
                match entry.metadata() {
                    Ok(meta) => found.files.push(CorpusFile::new(
                        Arc::clone(&shared),
                        rel,
                        meta.len(),
                        mtime_nanos(&meta),
                    )),
                    Err(err) => found.skipped.push(Skipped {
                        path: rel,
                        reason: walk_reason(&err),
                    }),
                }
            }
            Ok(_) => {}
            Err(err) => found.skipped.push(Skipped {
                path: err
                    .path()
                    .map(|p| relative(&root, p))
                    .unwrap_or_else(|| ".".to_string()),
                reason: walk_reason(&err),
            }),
        }
    }
    found.files.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok(found)
}

fn mtime_nanos(meta: &std::fs::Metadata) -> u128 {
    (meta.modified().ok())
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos())
}

fn walk_reason(err: &walkdir::Error) -> String {
    if err.loop_ancestor().is_some() {
        "symbolic link loop".to_string()
    } else if let Some(io) = err.io_error() {
        format!("cannot read: {io}")
    } else {
        err.to_string()
    }
}

fn is_hidden(entry: &DirEntry) -> bool {
    entry.file_name().to_string_lossy().starts_with('.')
}

fn is_page(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| PAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}
