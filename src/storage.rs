//! The index on disk, as both sides open it: the writer (`ingest`) and the
//! reader ([`crate::Index`]). Creating, opening and checking the Tantivy
//! index, the payload each commit records about itself, and the writer's
//! lock errors live here, so neither side has to import the other.

use std::io::{BufWriter, ErrorKind, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tantivy::directory::error::{DeleteError, LockError, OpenReadError, OpenWriteError};
use tantivy::directory::{
    AntiCallToken, Directory, DirectoryLock, FileHandle, Lock, MmapDirectory, OwnedBytes,
    TerminatingWrite, WatchCallback, WatchHandle, WritePtr,
};
use tantivy::index::SegmentId;
use tantivy::{HasLen, TantivyError};

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
    open_committed(dir, false, None)
}

/// Opens the index in `dir` like [`open_for_reading`], keeping the files
/// it maps so that what was touched can be let go of ([`Touched`]): for a
/// write run's steps after its commit, which open every segment (touching
/// the head and tail of each of its files: about 10 MiB at 1,000,000
/// pages) and then read a few columns or dictionaries of each.
pub(crate) fn open_letting_go(dir: &Path) -> Result<(tantivy::Index, Touched)> {
    open_keeping_mapped(dir, false)
}

/// Opens the index in `dir` for a write run's lookups in its last commit
/// (a `reindex` tracing quotes): like [`open_for_reading`], but the stored
/// records and the postings are read by a read call each time they are
/// asked for, not through a mapping. Such lookups land all over a large
/// index, and what a mapping has touched stays in the run's memory to its
/// end: at 1,000,000 pages about 60 MiB of the peak of a `reindex`
/// (BENCHMARKS.md). A search keeps the mapping, which costs nothing once
/// its pages are touched.
///
/// What the lookups touch in the files that stay mapped (term
/// dictionaries above all: each lookup walks one in every segment) is
/// given back on request through the returned [`Touched`].
pub(crate) fn open_for_lookups(dir: &Path) -> Result<(tantivy::Index, Touched)> {
    open_keeping_mapped(dir, true)
}

/// [`open_committed`] keeping the files it maps, which the returned
/// [`Touched`] lets go of.
fn open_keeping_mapped(dir: &Path, read_scattered: bool) -> Result<(tantivy::Index, Touched)> {
    let touched = Touched::default();
    let index = open_committed(dir, read_scattered, Some(touched.clone()))?;
    Ok((index, touched))
}

/// The files a folder opened for lookups ([`open_for_lookups`]) or for a
/// write run's steps ([`open_letting_go`]) maps, so that the pages read so
/// far can be let go of ([`Touched::let_go`]).
///
/// A mapped page a lookup touched stays in the process's memory as long as
/// the file is mapped, and the kernel maps 64 KiB around each page read: a
/// `reindex` of 880 pages at 1,000,000 pages looked up the raw texts of
/// their quotes by path in the term dictionaries of 44 segments and held
/// 10 MiB of them, and 6 MiB more of the other files, through to its
/// commit (BENCHMARKS.md). The pages stay in the page cache; a lookup
/// after they are let go of maps them again.
#[derive(Clone, Default)]
pub(crate) struct Touched {
    /// Each file's whole contents as mapped, kept so that its mapping
    /// outlives any call to `let_go`.
    files: Arc<std::sync::Mutex<Vec<OwnedBytes>>>,
}

impl std::fmt::Debug for Touched {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Touched")
    }
}

impl Touched {
    /// Keeps a file's mapping, once: a file opened again is handed out
    /// through the same mapping while it is held.
    fn keep(&self, bytes: OwnedBytes) {
        let mut files = self.files.lock().unwrap_or_else(|e| e.into_inner());
        let start = bytes.as_slice().as_ptr();
        if !bytes.is_empty() && !files.iter().any(|f| f.as_slice().as_ptr() == start) {
            files.push(bytes);
        }
    }

    /// Takes the pages of the mapped files out of the process's memory
    /// (`MADV_DONTNEED`). The files are read-only and never change, so a
    /// read afterwards finds the same bytes, from the page cache.
    pub(crate) fn let_go(&self) {
        #[cfg(unix)]
        {
            // SAFETY: sysconf has no preconditions.
            let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) })
                .unwrap_or(4096)
                .max(1);
            let files = self.files.lock().unwrap_or_else(|e| e.into_inner());
            for bytes in files.iter() {
                let start = bytes.as_slice().as_ptr() as usize;
                let first_page = start.next_multiple_of(page);
                let end = start + bytes.len();
                if end > first_page {
                    // SAFETY: the range lies within a shared, read-only
                    // mapping of a file that is never written again, kept
                    // mapped by `bytes`: dropping its pages from the page
                    // tables changes no byte a reader sees. A failure
                    // leaves them mapped, which is harmless.
                    unsafe {
                        libc::madvise(
                            first_page as *mut libc::c_void,
                            end - first_page,
                            libc::MADV_DONTNEED,
                        );
                    }
                }
            }
        }
    }
}

/// The segments of the last commit of the index in `dir`, each read
/// through a reader of its own that is closed when the read is done. What
/// reading a segment maps then leaves the run's memory with the segment:
/// read through one searcher, every page touched stays mapped as long as
/// the searcher is open (at 1,000,000 pages, 44 segments, about 30 MiB of
/// fast columns at the end of a `reindex`: BENCHMARKS.md). For a write
/// run's steps after its commit, under the writer's lock.
pub(crate) struct SegmentsAlone {
    index: tantivy::Index,
    metas: Vec<tantivy::index::SegmentMeta>,
}

impl SegmentsAlone {
    /// Opens the commit again, so that its mappings are its own: the folder
    /// of a searcher open on the commit would hand out again those it holds.
    pub(crate) fn open(dir: &Path) -> Result<SegmentsAlone> {
        let index = open_for_reading(dir)?;
        let metas = index.searchable_segment_metas()?;
        Ok(SegmentsAlone { index, metas })
    }

    /// The commit's segments, in its order, none of them opened.
    pub(crate) fn metas(&self) -> &[tantivy::index::SegmentMeta] {
        &self.metas
    }

    /// The ids of the commit's segments, in its order.
    pub(crate) fn ids(&self) -> Vec<SegmentId> {
        self.metas.iter().map(|meta| meta.id()).collect()
    }

    /// The commit's schema.
    pub(crate) fn schema(&self) -> tantivy::schema::Schema {
        self.index.schema()
    }

    /// Runs `each` on segment `id` through a reader of its own.
    pub(crate) fn read<T>(
        &self,
        id: SegmentId,
        each: impl FnOnce(&tantivy::SegmentReader) -> Result<T>,
    ) -> Result<T> {
        let meta = (self.metas.iter().find(|meta| meta.id() == id)).ok_or_else(|| {
            TantivyError::InternalError(format!(
                "segment {} left the commit",
                id.short_uuid_string()
            ))
        })?;
        each(&tantivy::SegmentReader::open(
            &self.index.segment(meta.clone()),
        )?)
    }
}

/// [`open_for_reading`], with stored records and postings read in parts
/// when `read_scattered` and the mapped files kept in `touched` if given.
fn open_committed(
    dir: &Path,
    read_scattered: bool,
    touched: Option<Touched>,
) -> Result<tantivy::Index> {
    if !exists(dir) {
        return Err(Error::IndexMissing(dir.to_path_buf()));
    }
    let mut folder = Folder::open(dir, Side::Reading)?;
    folder.read_scattered = read_scattered;
    folder.touched = touched;
    let index = tantivy::Index::open(folder)?;
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
        let index = tantivy::Index::open(Folder::open(dir, Side::Writing)?)?;
        if index.schema() == schema::build() {
            crate::analyzer::register_analyzers(&index);
            return Ok(index);
        }
        clear(dir, index)?;
    }
    let folder = Folder::open(dir, Side::Writing)?;
    let index = tantivy::Index::create(folder, schema::build(), schema::settings())?;
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

/// How many bytes of a Tantivy file are written at once. Tantivy writes
/// 8 KiB at a time, and the page cache keeps a file in pieces the size of the
/// writes that made it: a search process that touches a page of such a file
/// maps the 64 KiB around it one small piece at a time, and at 100,000
/// pages a one-shot `query` takes about 800 of those faults. Written 64 KiB
/// at a time, each fault maps one piece, the same 64 KiB: the same memory,
/// and one-shot queries take 0.76-0.99 of the time, a quoted phrase whose
/// hits have hundreds of echoes about 0.63 (BENCHMARKS.md). Larger pieces
/// would be faster still, but a fault then maps all of its piece, raising
/// the memory of the write runs that read their own index here and there.
const PIECE: usize = 64 * 1024;

/// Which side opens the index folder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Reading,
    Writing,
}

/// The index folder as Tantivy sees it: its memory-mapped folder, with three
/// changes. Files are written [`PIECE`] bytes at a time. On a read-only
/// file system, the lock a reader takes while it opens a commit (so that a
/// writer does not delete files under it) cannot be created and is not
/// needed, since no writer can run there: without this an index on a
/// read-only mount could not be searched at all. A writer's lock is still
/// refused there, with the file system's own error. And a folder opened
/// for lookups ([`open_for_lookups`]) reads stored records and postings by
/// read calls.
#[derive(Clone, Debug)]
struct Folder {
    files: MmapDirectory,
    /// Read only where lookups are read in parts (Unix).
    #[cfg_attr(not(unix), allow(dead_code))]
    dir: PathBuf,
    side: Side,
    /// Whether stored records and postings are read by read calls
    /// ([`open_for_lookups`]); Unix only, elsewhere they are mapped.
    #[cfg_attr(not(unix), allow(dead_code))]
    read_scattered: bool,
    /// The files mapped, whose touched pages can be let go of (lookups and
    /// a write run's steps).
    touched: Option<Touched>,
}

impl Folder {
    fn open(dir: &Path, side: Side) -> Result<Folder> {
        let files = MmapDirectory::open(dir).map_err(TantivyError::from)?;
        Ok(Folder {
            files,
            dir: dir.to_path_buf(),
            side,
            read_scattered: false,
            touched: None,
        })
    }
}

/// The files whose parts a lookup reads one at a time: stored records
/// (a block for each record) and postings (a term's list).
#[cfg(unix)]
fn read_in_parts(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("store" | "idx")
    )
}

impl Directory for Folder {
    fn get_file_handle(&self, path: &Path) -> Result<Arc<dyn FileHandle>, OpenReadError> {
        #[cfg(unix)]
        if self.read_scattered && read_in_parts(path) {
            return Ok(Arc::new(ReadFile::open(&self.dir.join(path))?));
        }
        let handle = self.files.get_file_handle(path)?;
        if let Some(touched) = &self.touched {
            let whole = (handle.read_bytes(0..handle.len()))
                .map_err(|e| OpenReadError::wrap_io_error(e, path.to_path_buf()))?;
            touched.keep(whole);
        }
        Ok(handle)
    }

    fn delete(&self, path: &Path) -> Result<(), DeleteError> {
        self.files.delete(path)
    }

    fn exists(&self, path: &Path) -> Result<bool, OpenReadError> {
        self.files.exists(path)
    }

    fn open_write(&self, path: &Path) -> Result<WritePtr, OpenWriteError> {
        // Tantivy's managed folder takes the writer out of the buffer given
        // here and buffers it anew, 8 KiB at a time: the pieces are made
        // inside.
        let pieces: Box<dyn TerminatingWrite + Send + Sync> = Box::new(Pieces {
            file: self.files.open_write(path)?,
            buffer: Vec::with_capacity(PIECE),
            written: 0,
        });
        Ok(BufWriter::new(pieces))
    }

    fn atomic_read(&self, path: &Path) -> Result<Vec<u8>, OpenReadError> {
        self.files.atomic_read(path)
    }

    fn atomic_write(&self, path: &Path, data: &[u8]) -> std::io::Result<()> {
        self.files.atomic_write(path, data)
    }

    fn sync_directory(&self) -> std::io::Result<()> {
        self.files.sync_directory()
    }

    fn acquire_lock(&self, lock: &Lock) -> Result<DirectoryLock, LockError> {
        match self.files.acquire_lock(lock) {
            Err(LockError::IoError(e))
                if self.side == Side::Reading && e.kind() == ErrorKind::ReadOnlyFilesystem =>
            {
                Ok(DirectoryLock::from(Box::new(())))
            }
            other => other,
        }
    }

    fn watch(&self, callback: WatchCallback) -> tantivy::Result<WatchHandle> {
        self.files.watch(callback)
    }
}

/// A file read by a read call for each part asked for: the part is copied
/// into memory of its own, given back when Tantivy drops it, and nothing of
/// the file stays mapped. (Unix only: elsewhere lookups map the file.)
#[cfg(unix)]
#[derive(Debug)]
struct ReadFile {
    file: std::fs::File,
    path: PathBuf,
    len: usize,
}

#[cfg(unix)]
impl ReadFile {
    fn open(path: &Path) -> Result<ReadFile, OpenReadError> {
        let io_error = |e: std::io::Error| match e.kind() {
            ErrorKind::NotFound => OpenReadError::FileDoesNotExist(path.to_path_buf()),
            _ => OpenReadError::wrap_io_error(e, path.to_path_buf()),
        };
        let file = std::fs::File::open(path).map_err(io_error)?;
        let len = file.metadata().map_err(io_error)?.len() as usize;
        Ok(ReadFile {
            file,
            path: path.to_path_buf(),
            len,
        })
    }
}

#[cfg(unix)]
impl HasLen for ReadFile {
    fn len(&self) -> usize {
        self.len
    }
}

#[cfg(unix)]
impl FileHandle for ReadFile {
    fn read_bytes(&self, range: Range<usize>) -> std::io::Result<OwnedBytes> {
        let mut bytes = vec![0; range.len()];
        std::os::unix::fs::FileExt::read_exact_at(&self.file, &mut bytes, range.start as u64)
            .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", self.path.display())))?;
        Ok(OwnedBytes::new(bytes))
    }
}

/// A file written [`PIECE`] bytes at a time, each piece starting at a
/// multiple of [`PIECE`]: the page cache keeps a piece written at an odd
/// place in smaller parts.
struct Pieces {
    file: WritePtr,
    /// What is not written yet, up to the end of the current piece.
    buffer: Vec<u8>,
    /// Bytes written to `file`.
    written: usize,
}

impl Pieces {
    fn write_out(&mut self) -> std::io::Result<()> {
        self.file.write_all(&self.buffer)?;
        self.written += self.buffer.len();
        self.buffer.clear();
        Ok(())
    }
}

impl Write for Pieces {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let room = PIECE - (self.written + self.buffer.len()) % PIECE;
        let taken = room.min(bytes.len());
        self.buffer.extend_from_slice(&bytes[..taken]);
        if taken == room {
            self.write_out()?;
        }
        Ok(taken)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.write_out()?;
        self.file.flush()
    }
}

impl TerminatingWrite for Pieces {
    fn terminate_ref(&mut self, token: AntiCallToken) -> std::io::Result<()> {
        self.write_out()?;
        self.file.terminate_ref(token)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// The bytes of a test file: no run of them repeats at a piece's length.
    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
    }

    /// Writes `pattern(total)` to `out` in chunks of `sizes`, flushing after
    /// the first `flush_after` bytes, and returns the whole pattern.
    fn write_chunks(out: &mut impl Write, sizes: &[usize], flush_after: usize) -> Vec<u8> {
        let bytes = pattern(sizes.iter().sum());
        let mut at = 0;
        for &size in sizes {
            out.write_all(&bytes[at..at + size]).unwrap();
            at += size;
            if at == flush_after {
                out.flush().unwrap();
            }
        }
        bytes
    }

    const SIZES: [usize; 6] = [1, 7, 70_000, 3, 200_000, 5];
    const FLUSHED_AT: usize = 70_008;

    #[cfg(unix)]
    #[test]
    fn a_file_read_in_parts_gives_each_part_asked_for() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = pattern(70_000);
        std::fs::write(dir.path().join("a.store"), &bytes).unwrap();
        let file = ReadFile::open(&dir.path().join("a.store")).unwrap();
        assert_eq!(file.len(), bytes.len());
        for range in [0..0, 0..1, 5..4_096, 65_530..70_000] {
            let part = file.read_bytes(range.clone()).unwrap();
            assert_eq!(part.as_slice(), &bytes[range]);
        }
        let past_the_end = file.read_bytes(69_999..70_001).unwrap_err();
        assert_eq!(past_the_end.kind(), ErrorKind::UnexpectedEof);
        assert!(matches!(
            ReadFile::open(&dir.path().join("gone.store")),
            Err(OpenReadError::FileDoesNotExist(_))
        ));
    }

    #[test]
    fn segments_alone_are_the_commit_s_segments() {
        // The default corpus, then one more page in a second run: two
        // segments.
        let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
        let corpus = tempfile::tempdir().unwrap();
        for entry in walkdir::WalkDir::new(&from) {
            let entry = entry.unwrap();
            let to = corpus
                .path()
                .join(entry.path().strip_prefix(&from).unwrap());
            if entry.file_type().is_dir() {
                std::fs::create_dir_all(to).unwrap();
            } else {
                std::fs::copy(entry.path(), to).unwrap();
            }
        }
        let dir = tempfile::tempdir().unwrap();
        crate::ingest::build(corpus.path(), dir.path(), &|_| {}).unwrap();
        let page = "Notes taken after the panel on benign overfitting.\n";
        std::fs::write(corpus.path().join("raw/panel-notes.txt"), page).unwrap();
        let wait = std::time::Duration::ZERO;
        crate::ingest::reindex(corpus.path(), dir.path(), wait, &|_| {}).unwrap();

        let searcher = (open_for_reading(dir.path()).unwrap().reader().unwrap()).searcher();
        let expected: Vec<_> = (searcher.segment_readers().iter())
            .map(|s| (s.segment_id(), s.num_docs()))
            .collect();
        assert!(expected.len() >= 2, "{expected:?}");
        let segments = SegmentsAlone::open(dir.path()).unwrap();
        for &(id, docs) in expected.iter().rev() {
            let seen = segments.read(id, |segment| Ok((segment.segment_id(), segment.num_docs())));
            assert_eq!(seen.unwrap(), (id, docs));
        }
    }

    #[test]
    fn an_index_opened_for_lookups_reads_what_a_mapped_one_does() {
        let (dir, mapped) = crate::testing::default_corpus();
        let (lookups, touched) = open_for_lookups(dir.path()).unwrap();
        let read = lookups.reader().unwrap().searcher();
        let schema = mapped.schema();
        let path = schema.get_field(crate::schema::names::PATH).unwrap();
        let fields = crate::schema::Fields::new(schema).unwrap();
        let mut records = 0;
        for (ordinal, segment) in mapped.segment_readers().iter().enumerate() {
            for doc in 0..segment.max_doc() {
                let address = tantivy::DocAddress::new(ordinal as u32, doc);
                let a: tantivy::TantivyDocument = mapped.doc(address).unwrap();
                let b: tantivy::TantivyDocument = read.doc(address).unwrap();
                assert_eq!(
                    crate::schema::stored_record(&fields, &a).unwrap(),
                    crate::schema::stored_record(&fields, &b).unwrap()
                );
                records += 1;
            }
            // Every path's postings, read both ways, after the pages the
            // lookups touched so far were let go of.
            touched.let_go();
            let terms = segment.inverted_index(path).unwrap();
            let other = read
                .segment_reader(ordinal as u32)
                .inverted_index(path)
                .unwrap();
            let mut stream = terms.terms().stream().unwrap();
            while stream.advance() {
                let info = stream.value();
                let docs = |index: &tantivy::InvertedIndexReader| {
                    let mut postings = index
                        .read_postings_from_terminfo(
                            info,
                            tantivy::schema::IndexRecordOption::Basic,
                        )
                        .unwrap();
                    let mut docs = Vec::new();
                    let mut doc = tantivy::DocSet::doc(&postings);
                    while doc != tantivy::TERMINATED {
                        docs.push(doc);
                        doc = tantivy::DocSet::advance(&mut postings);
                    }
                    docs
                };
                assert_eq!(docs(&terms), docs(&other));
            }
        }
        assert!(records > 100, "{records} records");
    }

    #[test]
    fn a_file_written_in_pieces_holds_every_byte_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let folder = Folder::open(dir.path(), Side::Writing).unwrap();
        let mut out = folder.open_write(Path::new("a.bin")).unwrap();
        let bytes = write_chunks(&mut out, &SIZES, FLUSHED_AT);
        out.terminate().unwrap();
        assert_eq!(std::fs::read(dir.path().join("a.bin")).unwrap(), bytes);
    }

    /// Where each write the file receives ends.
    #[derive(Clone, Default)]
    struct Ends(Arc<Mutex<Vec<usize>>>);

    impl Write for Ends {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            let mut ends = self.0.lock().unwrap();
            let end = ends.last().copied().unwrap_or(0) + bytes.len();
            ends.push(end);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl TerminatingWrite for Ends {
        fn terminate_ref(&mut self, _: AntiCallToken) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn each_piece_ends_at_a_multiple_of_its_length_unless_flushed() {
        let ends = Ends::default();
        let file: Box<dyn TerminatingWrite + Send + Sync> = Box::new(ends.clone());
        let mut pieces = Pieces {
            file: BufWriter::new(file),
            buffer: Vec::new(),
            written: 0,
        };
        let total = write_chunks(&mut pieces, &SIZES, FLUSHED_AT).len();
        pieces.terminate().unwrap();
        let mut expected: Vec<usize> = (1..=total / PIECE).map(|n| n * PIECE).collect();
        expected.extend([FLUSHED_AT, total]);
        expected.sort_unstable();
        assert_eq!(*ends.0.lock().unwrap(), expected);
    }
}
