//! The manifest: what was indexed from which file (size, modification time,
//! content hash), so `reindex` reads only what changed.
//!
//! It can never disagree with the index. Each run writes the new manifest to
//! `manifest.next` *before* committing, and the commit's payload carries that
//! file's hash; after the commit, `manifest.next` is renamed over `manifest`.
//! On load, whichever of the two files matches the committed hash is the
//! truth. A crash before the commit leaves the old pair valid; a crash after
//! it leaves `manifest.next` matching the new commit. If neither matches, the
//! caller rebuilds from scratch.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

const CURRENT: &str = "claimsearch-manifest.json";
const NEXT: &str = "claimsearch-manifest.next";

/// What the index holds of one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Size in bytes when it was read.
    pub size: u64,
    /// Modification time in nanoseconds since 1970; 0 when it was too recent to
    /// trust (the file could change again within the same clock tick).
    pub mtime: u128,
    /// BLAKE3 of the content, first 128 bits in hex.
    pub hash: String,
    /// Records the file produced.
    pub records: usize,
    /// Why the file produced no page, if it did not.
    pub skipped: Option<String>,
}

/// Every indexed file, by corpus-relative path.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Entries by path.
    pub files: BTreeMap<String, Entry>,
}

impl Manifest {
    /// Pages the manifest's files yielded (files that were not skipped).
    pub fn pages(&self) -> usize {
        self.files.values().filter(|e| e.skipped.is_none()).count()
    }

    /// Loads the manifest that matches the committed `hash`, promoting
    /// `manifest.next` if a crash happened between commit and rename.
    /// `None` when no manifest matches: the caller must rebuild.
    pub fn load_committed(dir: &Path, hash: Option<&str>) -> Option<Manifest> {
        let hash = hash?;
        for name in [CURRENT, NEXT] {
            // Read whole before it is parsed: parsing from a reader made a
            // reindex that finds nothing changed a third to a half slower,
            // for a buffer freed before the run's peak.
            let Ok(bytes) = fs::read(dir.join(name)) else {
                continue;
            };
            if content_hash(&bytes) == hash {
                let manifest = serde_json::from_slice(&bytes).ok()?;
                if name == NEXT {
                    // The commit landed; finish what the killed run started.
                    let _ = fs::rename(dir.join(NEXT), dir.join(CURRENT));
                }
                return Some(manifest);
            }
        }
        None
    }

    /// Writes the manifest to `manifest.next`, synced, and returns its hash for
    /// the commit payload.
    ///
    /// It is written as it is serialised, and hashed on the way, so that the
    /// whole text is never held in memory (about 170 bytes a file).
    pub fn write_next(&self, dir: &Path) -> Result<String> {
        let path = dir.join(NEXT);
        let fail = |e| Error::io(&path, e);
        let file = File::create(&path).map_err(fail)?;
        let mut out = Hashing::new(BufWriter::new(file));
        serde_json::to_writer(&mut out, self).map_err(|e| fail(e.into()))?;
        out.flush().map_err(fail)?;
        let hash = out.hash();
        let file = out.inner.into_inner().map_err(|e| fail(e.into_error()))?;
        file.sync_all().map_err(fail)?;
        Ok(hash)
    }

    /// Makes `manifest.next` the current manifest (after the commit landed).
    pub fn promote(dir: &Path) -> Result<()> {
        let (next, current): (PathBuf, PathBuf) = (dir.join(NEXT), dir.join(CURRENT));
        fs::rename(&next, &current).map_err(|e| Error::io(&next, e))?;
        // Make the rename durable; a failure here only costs a promotion on the next load.
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

/// BLAKE3 of `bytes`, first 128 bits in hex.
pub fn content_hash(bytes: &[u8]) -> String {
    first_128_bits(blake3::hash(bytes))
}

fn first_128_bits(hash: blake3::Hash) -> String {
    hash.to_hex()[..32].to_string()
}

/// A writer that hashes the bytes passing through it, as [`content_hash`]
/// hashes them.
struct Hashing<T> {
    inner: T,
    hasher: blake3::Hasher,
}

impl<T> Hashing<T> {
    fn new(inner: T) -> Hashing<T> {
        Hashing {
            inner,
            hasher: blake3::Hasher::new(),
        }
    }

    /// [`content_hash`] of the bytes so far.
    fn hash(&self) -> String {
        first_128_bits(self.hasher.finalize())
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> Manifest {
        let mut m = Manifest::default();
        m.files.insert(
            "a.txt".into(),
            Entry {
                size: 3,
                mtime: 1,
                hash: content_hash(b"abc"),
                records: 2,
                skipped: None,
            },
        );
        m
    }

    #[test]
    fn only_the_manifest_matching_the_commit_is_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let m = manifest();
        let hash = m.write_next(dir.path()).unwrap();
        // killed after the commit, before the rename: next is promoted
        assert_eq!(
            Manifest::load_committed(dir.path(), Some(&hash)),
            Some(m.clone())
        );
        assert!(dir.path().join(CURRENT).exists());
        // a later run wrote next but was killed before its commit: current still wins
        let mut other = m.clone();
        other.files.clear();
        other.write_next(dir.path()).unwrap();
        assert_eq!(Manifest::load_committed(dir.path(), Some(&hash)), Some(m));
        // nothing matches: rebuild
        assert_eq!(Manifest::load_committed(dir.path(), Some("feed")), None);
        assert_eq!(Manifest::load_committed(dir.path(), None), None);
    }

    /// The hash a run puts in its commit is that of the file's bytes, and a
    /// file cut short or changed no longer matches it.
    #[test]
    fn the_committed_hash_is_the_hash_of_the_written_file() {
        let dir = tempfile::tempdir().unwrap();
        let m = manifest();
        let hash = m.write_next(dir.path()).unwrap();
        let bytes = fs::read(dir.path().join(NEXT)).unwrap();
        assert_eq!(content_hash(&bytes), hash);
        fs::write(dir.path().join(NEXT), &bytes[..bytes.len() - 1]).unwrap();
        assert_eq!(Manifest::load_committed(dir.path(), Some(&hash)), None);
        let mut changed = bytes.clone();
        changed.extend_from_slice(b" ");
        fs::write(dir.path().join(NEXT), &changed).unwrap();
        assert_eq!(Manifest::load_committed(dir.path(), Some(&hash)), None);
        fs::write(dir.path().join(NEXT), &bytes).unwrap();
        assert_eq!(Manifest::load_committed(dir.path(), Some(&hash)), Some(m));
    }
}
