//! Finding the pages: which files under the corpus root are read, in a fixed order.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use walkdir::{DirEntry, WalkDir};

use super::{check_corpus, escaped, relative, unescaped, Skipped};
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
    let mut found = Walk::default();
    for item in walk_in_order(corpus)? {
        match item {
            Walked::File(file) => found.files.push(file),
            Walked::Skipped(skipped) => found.skipped.push(skipped),
        }
    }
    Ok(found)
}

/// One thing a walk finds.
pub(crate) enum Walked {
    /// A candidate page.
    File(CorpusFile),
    /// An entry the walk could not enter or read.
    Skipped(Skipped),
}

/// [`walk`], one file at a time, in the order of their relative paths (as
/// strings), without holding them: a `reindex` compares them with the
/// manifest as they come, and at 1,000,000 pages the list took 136 MiB.
///
/// Each folder's entries are sorted by escaped name, a folder's with a `/`
/// after it. Then every path under a folder `a` (`a/…`) comes where the
/// string `a/` sorts among its siblings' keys (`a` file, `a-b/`, `ab`): no
/// name holds a `/`, so no key is a prefix of another's paths but its own.
/// A folder that cannot be entered is reported before anything that sorts
/// after it.
pub(crate) fn walk_in_order(corpus: &Path) -> Result<impl Iterator<Item = Walked>> {
    let root = check_corpus(corpus)?;
    let shared: Arc<Path> = Arc::from(root.as_path());
    let entries = WalkDir::new(&root)
        .follow_links(true)
        .sort_by(sibling_order)
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !is_hidden(e));
    Ok(entries.filter_map(move |entry| match entry {
        Ok(entry) if entry.file_type().is_file() && is_page(entry.path()) => {
            let rel = relative(&root, entry.path());
            Some(match entry.metadata() {
                Ok(meta) => Walked::File(CorpusFile::new(
                    Arc::clone(&shared),
                    rel,
                    meta.len(),
                    mtime_nanos(&meta),
                )),
                Err(err) => Walked::Skipped(Skipped {
                    path: rel,
                    reason: walk_reason(&err),
                }),
            })
        }
        Ok(_) => None,
        Err(err) => Some(Walked::Skipped(Skipped {
            path: err
                .path()
                .map(|p| relative(&root, p))
                .unwrap_or_else(|| ".".to_string()),
            reason: walk_reason(&err),
        })),
    }))
}

/// The order of two entries of one folder in [`walk_in_order`]: by escaped
/// name, a folder's with a `/` after it. Called for every comparison of a
/// folder's sort, so a name that escapes to itself (UTF-8, no backslash) is
/// compared as it is, without building its escaped form.
fn sibling_order(a: &DirEntry, b: &DirEntry) -> std::cmp::Ordering {
    fn name(e: &DirEntry) -> Cow<'_, str> {
        match e.file_name().to_str() {
            Some(name) if !name.contains('\\') => Cow::Borrowed(name),
            _ => Cow::Owned(escaped(e.file_name())),
        }
    }
    let slash = |e: &DirEntry| if e.file_type().is_dir() { "/" } else { "" };
    let (name_a, name_b) = (name(a), name(b));
    let key_a = name_a.bytes().chain(slash(a).bytes());
    key_a.cmp(name_b.bytes().chain(slash(b).bytes()))
}

pub(crate) fn mtime_nanos(meta: &std::fs::Metadata) -> u128 {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The walk's order is the order of the paths as strings, whatever
    /// names sort around a folder's: the manifest is kept in that order.
    #[test]
    fn files_come_in_the_order_of_their_paths() {
        let dir = tempfile::tempdir().unwrap();
        let rels = [
            "a.md",
            "a-b/x.md",
            "a/x.md",
            "a/y/z.md",
            "a0.md",
            "ab.md",
            "b/a b.md",
            "b/a.md",
            "b/a/c.md",
            "b/a-/c.md",
            "B.md",
            "\u{e9}.md",
            "z/\u{2014}.txt",
            "a\\b.md",
            "a[.md",
        ];
        for rel in rels {
            let path = dir.path().join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "x").unwrap();
        }
        let walked: Vec<String> = walk(dir.path())
            .unwrap()
            .files
            .into_iter()
            .map(|f| f.rel)
            .collect();
        // A backslash is doubled in a path's escaped form, which is what sorts.
        let mut sorted: Vec<String> = rels.iter().map(|r| r.replace('\\', "\\\\")).collect();
        sorted.sort();
        assert_eq!(walked, sorted);
    }
}
