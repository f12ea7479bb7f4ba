//! The index on disk, as both sides open it: the writer (`ingest`) and the
//! reader ([`crate::Index`]). Creating, opening and checking the Tantivy
//! index, the payload each commit records about itself, and the writer's
//! lock errors live here, so neither side has to import the other.

use std::io::ErrorKind;
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tantivy::directory::error::{DeleteError, LockError, OpenReadError, OpenWriteError};
use tantivy::directory::{
    Directory, DirectoryLock, FileHandle, Lock, MmapDirectory, WatchCallback, WatchHandle, WritePtr,
};
use tantivy::TantivyError;

use crate::error::{Error, Result};
use crate::schema;

/// The file whose presence makes a folder a committed index.
const META: &str = "meta.json";

/// True when `dir` holds a committed index.
pub fn exists(dir: &Path) -> bool {
    dir.join(META).is_file()
}

/// Opens the index in `dir` for reading. Fails with [`Error::IndexMissing`]
/// when there is none and [`Error::IndexVersion`] when another version of
/// claimsearch built it.
pub(crate) fn open_for_reading(dir: &Path) -> Result<tantivy::Index> {
    if !exists(dir) {
        return Err(Error::IndexMissing(dir.to_path_buf()));
    }
    let folder = MmapDirectory::open(dir).map_err(TantivyError::from)?;
    let index = tantivy::Index::open(ReaderDirectory(folder))?;
    if index.schema() != schema::build() {
        return Err(Error::IndexVersion(dir.to_path_buf()));
    }
    crate::analyzer::register_analyzers(&index);
    Ok(index)
}

/// Opens the index in `dir` for writing, creating the folder and the index
/// when there is none. An index built by another version of claimsearch (a
/// different schema) is replaced by an empty one: every writer rebuilds it
/// then, and nothing in it could be reused.
pub(crate) fn open_for_writing(dir: &Path) -> Result<tantivy::Index> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    if exists(dir) {
        let index = tantivy::Index::open_in_dir(dir)?;
        if index.schema() == schema::build() {
            crate::analyzer::register_analyzers(&index);
            return Ok(index);
        }
        clear(dir, index)?;
    }
    let index = tantivy::Index::builder()
        .schema(schema::build())
        .settings(schema::settings())
        .create_in_dir(dir)?;
    crate::analyzer::register_analyzers(&index);
    Ok(index)
}

/// Removes the Tantivy files of an index of another schema, holding its
/// writer lock so that no other writer works on it meanwhile. `meta.json`
/// goes first: from then on the folder holds no index, so a run killed
/// halfway leaves a folder the next run simply builds in.
fn clear(dir: &Path, old: tantivy::Index) -> Result<()> {
    let writer: tantivy::IndexWriter = old
        .writer_with_num_threads(1, 15_000_000)
        .map_err(|e| writer_error(dir, e))?;
    let remove = |path: &Path| match std::fs::remove_file(path) {
        Err(e) if e.kind() != ErrorKind::NotFound => Err(Error::io(path, e)),
        _ => Ok(()),
    };
    remove(&dir.join(META))?;
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let segment_file = [
            ".idx",
            ".pos",
            ".term",
            ".store",
            ".fast",
            ".fieldnorm",
            ".del",
        ]
        .iter()
        .any(|ext| name.ends_with(ext));
        if segment_file || name == ".managed.json" {
            remove(&entry.path())?;
        }
    }
    drop(writer);
    Ok(())
}

/// Maps Tantivy's "lock busy" to [`Error::IndexBusy`], and a lock file that
/// cannot be created (a read-only or full file system) to [`Error::Io`] on the
/// index folder: Tantivy's own message for it suggests another writer.
pub(crate) fn writer_error(dir: &Path, err: TantivyError) -> Error {
    match err {
        TantivyError::LockFailure(LockError::LockBusy, _) => Error::IndexBusy(dir.to_path_buf()),
        TantivyError::LockFailure(LockError::IoError(io), _) => {
            Error::io(dir, std::io::Error::new(io.kind(), io.to_string()))
        }
        other => Error::Index(other),
    }
}

/// What each commit records about itself, in Tantivy's commit payload.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Payload {
    /// Pages the committed index holds.
    pub pages: usize,
    /// Hash of the manifest that describes this commit.
    pub manifest: Option<String>,
    /// [`crate::analyzer::ANALYZER_VERSION`] of the analyzers that built the
    /// commit; a different one makes `reindex` rebuild everything.
    #[serde(default)]
    pub analyzer: u32,
}

impl Payload {
    /// Reads the payload of the last commit of `index`.
    pub(crate) fn load(index: &tantivy::Index) -> Payload {
        (index.load_metas().ok())
            .and_then(|meta| meta.payload)
            .and_then(|p| serde_json::from_str(&p).ok())
            .unwrap_or_default()
    }
}

/// The index folder as a reader sees it: Tantivy's memory-mapped folder, except
/// on a read-only file system, where the lock a reader takes while it opens a
/// commit (so that a writer does not delete files under it) cannot be created
/// and is not needed, since no writer can run there. Without this an index on
/// a read-only mount could not be searched at all.
#[derive(Clone, Debug)]
struct ReaderDirectory(MmapDirectory);

impl Directory for ReaderDirectory {
    fn get_file_handle(&self, path: &Path) -> Result<Arc<dyn FileHandle>, OpenReadError> {
        self.0.get_file_handle(path)
    }

    fn delete(&self, path: &Path) -> Result<(), DeleteError> {
        self.0.delete(path)
    }

    fn exists(&self, path: &Path) -> Result<bool, OpenReadError> {
        self.0.exists(path)
    }

    fn open_write(&self, path: &Path) -> Result<WritePtr, OpenWriteError> {
        self.0.open_write(path)
    }

    fn atomic_read(&self, path: &Path) -> Result<Vec<u8>, OpenReadError> {
        self.0.atomic_read(path)
    }

    fn atomic_write(&self, path: &Path, data: &[u8]) -> std::io::Result<()> {
        self.0.atomic_write(path, data)
    }

    fn sync_directory(&self) -> std::io::Result<()> {
        self.0.sync_directory()
    }

    fn acquire_lock(&self, lock: &Lock) -> Result<DirectoryLock, LockError> {
        match self.0.acquire_lock(lock) {
            Err(LockError::IoError(e)) if e.kind() == ErrorKind::ReadOnlyFilesystem => {
                Ok(DirectoryLock::from(Box::new(())))
            }
            other => other,
        }
    }

    fn watch(&self, callback: WatchCallback) -> tantivy::Result<WatchHandle> {
        self.0.watch(callback)
    }
}
