//! Corpus in, index out: walk the corpus, read and parse pages in parallel,
//! write every record through one `IndexWriter`, commit once.
//!
//! `build` rebuilds everything; `reindex` (in `reindex.rs`) touches only what
//! changed since the manifest of the last commit. The library never prints:
//! problems come back in the reports, progress goes to a callback.

mod joblist;
mod layout;
mod manifest;
mod process;
mod reindex;
mod scratch;
mod trace;
mod walk;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::thread::sleep;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use std::fs::File;
use std::io::Write;

use serde::{Deserialize, Serialize};
use tantivy::indexer::NoMergePolicy;
use tantivy::{IndexWriter, TantivyDocument, TantivyError};

use crate::error::{Error, Result};
use crate::key_index::{ECHO_KEYS, RAW_SHINGLES};
use crate::schema::Fields;
use crate::storage::{open_for_writing, writer_error, Payload};
use manifest::{Entry, Spill};

pub use crate::page::Warning;
use process::{Done, Job};
use trace::Tracer;

pub use reindex::{reindex, ReindexReport};
pub use walk::{walk, CorpusFile, Walk};

/// Memory the index writer of a full build may use for its in-memory
/// segments, in total.
const WRITER_HEAP_BYTES: usize = 128 * 1024 * 1024;
/// The same for a `reindex` that updates the last commit. The writer fills
/// its budget before it cuts a segment, and an update writes the records of
/// the pages that changed, however few: after 1% of 1,000,000 pages changed,
/// a `reindex` peaked at 117 MiB with this budget against 139 MiB with a
/// build's, in the same time (BENCHMARKS.md).
const UPDATE_HEAP_BYTES: usize = 32 * 1024 * 1024;
/// A file modified this recently may change again within the same clock tick;
/// its time is not trusted by the next run.
const RECENT: Duration = Duration::from_secs(2);

/// A step of a long ingest, for progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// This many files will be read.
    Found(usize),
    /// This many of them have been read and parsed.
    Parsed(usize),
    /// Every document is written; the commit, and the merges of segments
    /// after it, are under way.
    Committing,
}

/// A file that yielded nothing, and why. The manifest keeps the same reason
/// for a file it knows yields nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Skipped {
    /// The file, relative to the corpus root.
    pub path: String,
    /// Why it was skipped.
    pub reason: String,
}

/// A problem in a file that was indexed all the same (a bad JSON Lines line,
/// a file decoded as Windows-1252): the parser's [`Warning`] and the file.
/// Serialized flat: `{"path", "line", "message"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileWarning {
    /// The file, relative to the corpus root.
    pub path: String,
    /// The problem.
    #[serde(flatten)]
    pub warning: Warning,
}

/// What a full `index` run did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexReport {
    /// Pages (files) indexed.
    pub pages: usize,
    /// Records written.
    pub records: usize,
    /// Files that yielded nothing, with the reason.
    pub skipped: Vec<Skipped>,
    /// Problems in files that were indexed all the same.
    pub warnings: Vec<FileWarning>,
    /// Wall time of the run.
    pub seconds: f64,
}

/// Rebuilds the index in `index_dir` from every page under `corpus`.
///
/// The old contents stay searchable until the single commit at the end; a run
/// that fails or is killed leaves them as they were. Fails with
/// [`Error::IndexBusy`] when another process is writing the index.
pub fn build(
    corpus: &Path,
    index_dir: &Path,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<IndexReport> {
    let started = Instant::now();
    let corpus = check_corpus(corpus)?;
    let (index, mut writer) = open_writer(index_dir, Duration::ZERO, |_| WRITER_HEAP_BYTES)?;
    let fields = Fields::new(&index.schema())?;
    rebuild(&mut writer, &fields, &corpus, index_dir, progress, started)
        .map_err(|e| explain(index_dir, e))
}

/// Tantivy reports a write that failed in one of its indexing threads only as
/// "an index writer was killed": the cause, most often a full disk, is lost.
/// A small write into the index folder finds it again.
pub(crate) fn explain(index_dir: &Path, error: Error) -> Error {
    if !matches!(error, Error::Index(TantivyError::ErrorInThread(_))) {
        return error;
    }
    let probe = index_dir.join(".claimsearch-probe");
    let written = File::create(&probe).and_then(|mut file| {
        file.write_all(&[0; 1 << 20])?;
        file.sync_all()
    });
    let _ = std::fs::remove_file(&probe);
    match written {
        Err(cause) => Error::io(index_dir, cause),
        Ok(()) => error,
    }
}

/// The body of [`build`], for a caller that already holds the writer.
fn rebuild(
    writer: &mut IndexWriter<TantivyDocument>,
    fields: &Fields,
    corpus: &Path,
    index_dir: &Path,
    progress: &(dyn Fn(Progress) + Sync),
    started: Instant,
) -> Result<IndexReport> {
    let Walk { files, skipped } = walk(corpus)?;
    progress(Progress::Found(files.len()));
    writer.delete_all_documents()?;
    let jobs = joblist::JobList::write(index_dir, files)?;
    // The walk's list is gone, but its 1,000,000 paths (about 100 MiB)
    // stayed in the main thread's heap, resident to the end of the run:
    // what it allocates later is too large to reuse them.
    layout::give_back_freed_memory();
    let mut report = IndexReport {
        skipped,
        ..IndexReport::default()
    };
    // The manifest goes to disk as files are done, not held to the end.
    let mut spill = Spill::new(index_dir);
    let mut tracer = Tracer::new(None, index_dir);
    let recent = recent_mtime();
    process::run_each(
        &jobs,
        writer,
        fields,
        recent,
        progress,
        &mut tracer,
        |outcome| match outcome {
            Done::Indexed {
                rel,
                entry,
                skipped,
                warnings,
                ..
            } => {
                report.pages += usize::from(skipped.is_none());
                report.records += entry.records;
                report.skipped.extend(skipped);
                report.warnings.extend(warnings);
                spill.push(&rel, Some(&entry))
            }
            Done::Unreadable { skipped, .. } => {
                spill.push(&skipped.path, None)?;
                report.skipped.push(skipped);
                Ok(())
            }
            Done::Same { .. } => unreachable!("a rebuild has no previous entries"),
        },
    )?;
    // Pages whose quotes raw text read after them may hold: again, now that
    // every raw text is known.
    let late = tracer.late_jobs()?;
    let mut first = spill.entries(&late)?;
    let mut files = jobs.files(&late)?;
    drop(jobs);
    let again: Vec<Job> = (late.iter())
        .filter_map(|j| Some((files.remove(j)?, first.remove(j).flatten())))
        .map(|(file, old)| Job::again(&file, old))
        .collect();
    // What the first pass counted of each.
    let counted: HashMap<String, (usize, usize)> = (again.iter())
        .filter_map(|job| Some((job.file.rel.clone(), job.old.as_ref()?)))
        .map(|(rel, old)| (rel, (old.records, usize::from(old.skipped.is_none()))))
        .collect();
    let quiet = |_| {};
    let again = process::Ordered::as_they_are(again);
    let mut rewritten = BTreeMap::new();
    process::run_each(
        &again,
        writer,
        fields,
        recent,
        &quiet,
        &mut tracer,
        |outcome| {
            let (rel, entry) = match outcome {
                Done::Indexed { rel, entry, .. } | Done::Same { rel, entry } => (rel, entry),
                Done::Unreadable { skipped, old } => (skipped.path, Entry::stale(old)),
            };
            if let Some((records, pages)) = counted.get(&rel) {
                report.records -= records;
                report.pages -= pages;
            }
            report.records += entry.records;
            report.pages += usize::from(entry.skipped.is_none());
            rewritten.insert(rel, entry);
            Ok(())
        },
    )?;
    report.skipped.sort_by(|a, b| a.path.cmp(&b.path));
    // Tracing is done: its index of the raw texts' shingles (about 35 MiB
    // at 1,000,000 pages) is let go before the commit and its merges, which
    // held it to the end of the run otherwise, at their peak.
    drop(tracer);
    progress(Progress::Committing);
    let (hash, pages) = spill.finish(index_dir, rewritten)?;
    commit(writer, index_dir, pages, hash)?;
    settle(writer, index_dir, layout::Merges::Build)?;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// Opens (or creates) the index and takes its writer lock, retrying for up
/// to `wait` while another process holds it. The writer may use the memory
/// `heap` gives for the index opened.
fn open_writer(
    index_dir: &Path,
    wait: Duration,
    heap: impl FnOnce(&tantivy::Index) -> usize,
) -> Result<(tantivy::Index, IndexWriter<TantivyDocument>)> {
    let index = open_for_writing(index_dir)?;
    let heap = heap(&index);
    let deadline = Instant::now() + wait;
    loop {
        match index.writer(heap).map_err(|e| writer_error(index_dir, e)) {
            Err(Error::IndexBusy(_)) if Instant::now() < deadline => {
                sleep(Duration::from_millis(100))
            }
            Err(e) => return Err(e),
            Ok(writer) => {
                // Segments are merged only after a commit, as `layout` says:
                // merging while a build runs rewrote most of a large index
                // again and held several segments in memory at once.
                writer.set_merge_policy(Box::new(NoMergePolicy));
                // A run killed inside its commit leaves files that no commit
                // uses. The next run over the same corpus makes the same changes,
                // reaches the same opstamp and would create the same delete files
                // (`<segment>.<opstamp>.del`): clear the leftovers first. This
                // also gives back the space a failed run took on a full disk.
                writer.garbage_collect_files().wait()?;
                return Ok((index, writer));
            }
        }
    }
}

/// Makes every allocation of 1 MiB or more a mapping of its own, given
/// back to the system when freed: for a process whose work is a write run
/// (`claimsearch index` and `reindex` call it first). It changes the
/// allocator of the whole process, so the library leaves it to the program
/// that embeds it.
///
/// glibc does that from 128 KiB on, but raises the bar, up to 32 MiB, each
/// time such a mapping is freed. After the first few, the writer's 1 MiB
/// arena pages and the large buffers of a segment's serialisation came from
/// the heap of the thread that asked and went back there, free but
/// resident, where another thread's heap could not use them: at 100,000
/// pages the allocator held about 150 MB free at the build's peak
/// (BENCHMARKS.md, "Peak memory at 1,000,000 pages: what holds it"). A fixed
/// bar also fixes the free memory a heap keeps at its top before giving it
/// back at 128 KiB, which gave back and faulted in again the pages of
/// every small burst; it is set back to 16 MiB.
pub fn map_large_allocations() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` only changes where the allocator takes memory for
    // later allocations and when it gives free memory back; it has no
    // preconditions and touches no memory in use.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 16 << 20);
    }
}

/// Commits with the hash of the manifest just written to `manifest.next` as
/// the payload, then makes that manifest current (see `manifest.rs` for why
/// in that order).
fn commit(
    writer: &mut IndexWriter<TantivyDocument>,
    index_dir: &Path,
    pages: usize,
    manifest_hash: String,
) -> Result<()> {
    let payload = Payload {
        pages,
        manifest: Some(manifest_hash),
        analyzer: crate::analyzer::ANALYZER_VERSION,
    };
    let mut prepared = writer.prepare_commit()?;
    prepared.set_payload(&serde_json::to_string(&payload).expect("payload serializes"));
    prepared.commit()?;
    manifest::promote(index_dir)
}

/// After a commit: merges segments as [`layout`] says, then keeps for the
/// processes that will open the result the echo lookup keys and the raw
/// texts' shingles of each of its segments that has none kept yet (and
/// removes those of segments gone),
/// its common echo keys, its superseded records, its facet values and each
/// segment's facet rows; a key file a full read finds damaged is written
/// again.
///
/// The common keys' step reads the commit through a reader of its own, let
/// go when the step is done; the later steps read one segment at a time.
/// Through one reader, the pages every step read of every segment stayed
/// mapped to the end and added up: at 1,000,000 pages, 70 MiB of term
/// dictionaries and columns at the peak of a `reindex` (BENCHMARKS.md).
fn settle(
    writer: &mut IndexWriter<TantivyDocument>,
    index_dir: &Path,
    after: layout::Merges,
) -> Result<()> {
    layout::settle(writer, after)?;
    let index = writer.index();
    // The key files, the costliest step (two segments' keys sorted in
    // memory at a time), are written before a reader of the whole commit is
    // open, and after the merges' freed memory is given back: at 1,000,000
    // pages, the files that opening 44 segments maps and the heap the
    // merges freed held about 40 MiB at the peak of the run, the key
    // files' step, which they now miss (BENCHMARKS.md).
    layout::give_back_freed_memory();
    crate::key_index::write_missing(index_dir, index, &[&ECHO_KEYS, &RAW_SHINGLES])?;
    // The echo keys and the common keys, through a reader of the whole
    // commit, let go of (the reader and its mappings) when they are kept.
    {
        let (commit, opened) = crate::storage::open_letting_go(index_dir)?;
        let reader: tantivy::IndexReader = (commit.reader_builder())
            .reload_policy(tantivy::ReloadPolicy::Manual)
            .try_into()?;
        let searcher = reader.searcher();
        // What opening every segment touched (the head and tail of each of
        // its files, and the 64 KiB the kernel maps around each) is let go
        // of before the step reads what it needs.
        opened.let_go();
        let keys = crate::key_index::save(index_dir, &searcher, &ECHO_KEYS)?;
        crate::key_index::remove_gone(index_dir, &searcher, &RAW_SHINGLES)?;
        crate::common_keys::save(index_dir, &searcher, &keys)?;
        crate::key_index::repair(index_dir, &keys)?;
    }
    // The other steps read one segment at a time through readers of their
    // own, and name the commit by its list of segments: opening a reader
    // of the whole commit for them mapped the heads and tails of every
    // segment's files at once, the high point of a small `reindex` at
    // 1,000,000 pages (BENCHMARKS.md).
    let segments = crate::storage::SegmentsAlone::open(index_dir)?;
    crate::superseded::save(index_dir, &segments)?;
    crate::facet_values::save(index_dir, &segments)?;
    crate::word_list::save(index_dir, &segments)?;
    crate::facet_rows::save(index_dir, &segments)
}

/// Modification times from this instant on are "recent" (see [`RECENT`]).
fn recent_mtime() -> u128 {
    (SystemTime::now() - RECENT)
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

/// The corpus-relative, `/`-separated form of `path`, each name [`escaped`]:
/// the identity of a file in the index, the same on every run.
pub(crate) fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let parts: Vec<String> = rel.components().map(|c| escaped(c.as_os_str())).collect();
    parts.join("/")
}

/// A file or folder name as text that names it alone: valid UTF-8 as it
/// is, each byte that is not as `\xHH`, and a backslash doubled so that a
/// name written `caf\xE9` cannot be taken for the byte 0xE9. A lossy
/// decoding would give `caf\xE9.txt` and `caf\xE8.txt` the same id.
pub(crate) fn escaped(name: &std::ffi::OsStr) -> String {
    #[cfg(unix)]
    let bytes = std::os::unix::ffi::OsStrExt::as_bytes(name);
    #[cfg(not(unix))]
    let lossy = name.to_string_lossy();
    #[cfg(not(unix))]
    let bytes = lossy.as_bytes();
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
        for byte in chunk.invalid() {
            out.push_str(&format!("\\x{byte:02X}"));
        }
    }
    out
}

/// The inverse of [`escaped`] over a `/`-separated relative path: the file
/// name bytes back from `\xHH`, a doubled backslash back to one. Escaping
/// is injective (a backslash of the name is always doubled), so a single
/// backslash followed by `x` and two hex digits can only be an escape.
pub(crate) fn unescaped(rel: &str) -> std::ffi::OsString {
    if !rel.contains('\\') {
        return rel.into();
    }
    let bytes = rel.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], bytes.get(i + 1)) {
            (b'\\', Some(b'\\')) => {
                out.push(b'\\');
                i += 2;
            }
            (b'\\', Some(b'x')) if hex_byte(&bytes[i + 2..]).is_some() => {
                out.extend(hex_byte(&bytes[i + 2..]));
                i += 4;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    #[cfg(unix)]
    return std::os::unix::ffi::OsStringExt::from_vec(out);
    // Elsewhere names were escaped from a lossy decoding: nothing to undo.
    #[cfg(not(unix))]
    return String::from_utf8_lossy(&out).into_owned().into();
}

/// The byte written as two hex digits at the start of `digits`.
fn hex_byte(digits: &[u8]) -> Option<u8> {
    let value = |d: u8| (d as char).to_digit(16);
    let (high, low) = (value(*digits.first()?)?, value(*digits.get(1)?)?);
    Some((high * 16 + low) as u8)
}

/// Makes sure `corpus` is a folder.
pub(crate) fn check_corpus(corpus: &Path) -> Result<PathBuf> {
    if corpus.is_dir() {
        Ok(corpus.to_path_buf())
    } else {
        Err(Error::CorpusMissing(corpus.to_path_buf()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where a file is read from is derived from its id: undoing the
    /// escapes must give back every name byte for byte.
    #[cfg(unix)]
    #[test]
    fn an_escaped_path_unescapes_to_the_same_bytes() {
        use std::os::unix::ffi::OsStrExt;
        let names: [&[u8]; 8] = [
            b"plain.txt",
            b"caf\xE9.txt",
            b"caf\\xE9.txt",
            b"back\\slash\\\\x41",
            b"\xFF\xFE\\",
            b"x\\x4",
            b"na\xC3\xAFve \xE2\x80\x94 ok.md",
            b"\\x+1\\xg0",
        ];
        for name in names {
            let name = std::ffi::OsStr::from_bytes(name);
            let rel = format!("dir\\xFF/{}", escaped(name));
            let back = unescaped(&rel);
            assert_eq!(back.as_bytes(), [b"dir\xFF/", name.as_bytes()].concat());
            let root = Path::new("/corpus");
            assert_eq!(relative(root, &root.join(&back)), rel);
        }
        // Two names that escape differently stay apart.
        assert_ne!(
            unescaped(&escaped(std::ffi::OsStr::from_bytes(b"caf\xE9"))),
            unescaped(&escaped(std::ffi::OsStr::from_bytes(b"caf\\xE9")))
        );
    }
}
