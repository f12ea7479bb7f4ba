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
//!
//! The file is binary (a versioned header, then one record a file in path
//! order, each with a 16-byte digest) and is never held whole in memory: a
//! full build writes its entries to a spill file as files are done and
//! merges them into `manifest.next` at the end ([`Spill`]); a `reindex`
//! reads the last manifest as a stream beside the sorted walk and writes
//! the next one by merging it with the run's changes ([`Committed`]).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use super::scratch::Scratch;
use crate::error::{Error, Result};

const CURRENT: &str = "claimsearch-manifest.bin";
const NEXT: &str = "claimsearch-manifest.next";
/// The entries of a full build as its files are done, in the order they
/// are done; sorted into `manifest.next` at the end (see [`Spill`]).
const SPILL: &str = "claimsearch-manifest.spill";
/// Where manifests were kept as JSON, before they were binary: removed when
/// a new manifest becomes current.
const OLD_JSON: &str = "claimsearch-manifest.json";
/// The first bytes of a manifest file, with its format's version. A file
/// that does not start with them (an older format) is not read: the run
/// rebuilds, as for any manifest that does not match the last commit.
const MAGIC: &[u8] = b"claimsearch manifest 2\n";

/// What is known of a file's content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Digest {
    /// The first 128 bits of the BLAKE3 hash of its bytes.
    Content([u8; 16]),
    /// Not read: over the size limit (the entry's size says how large).
    TooLarge,
    /// To be read again whatever its content: it was to be written again
    /// and could not be read. Equal to no content.
    Stale,
}

impl Digest {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Digest {
        Digest::Content(first_128_bits(blake3::hash(bytes)))
    }
}

/// What the index holds of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Size in bytes when it was read.
    pub size: u64,
    /// Modification time in nanoseconds since 1970; 0 when it was too recent to
    /// trust (the file could change again within the same clock tick).
    pub mtime: u128,
    /// Its content when it was read.
    pub hash: Digest,
    /// Records the file produced.
    pub records: usize,
    /// Why the file produced no page, if it did not.
    pub skipped: Option<String>,
}

impl Entry {
    /// The entry of a page that was to be written again but could not be
    /// read: the index keeps what it had (`old`), and a digest no content
    /// has makes the next `reindex` write it again.
    pub fn stale(old: Option<Entry>) -> Entry {
        let mut entry = old.unwrap_or(Entry {
            size: 0,
            mtime: 0,
            hash: Digest::Stale,
            records: 0,
            skipped: None,
        });
        entry.mtime = 0;
        entry.hash = Digest::Stale;
        entry
    }
}

/// Makes `manifest.next` the current manifest (after the commit landed).
pub fn promote(dir: &Path) -> Result<()> {
    let (next, current): (PathBuf, PathBuf) = (dir.join(NEXT), dir.join(CURRENT));
    fs::rename(&next, &current).map_err(|e| Error::io(&next, e))?;
    let _ = fs::remove_file(dir.join(OLD_JSON));
    // Make the rename durable; a failure here only costs a promotion on the next load.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Every indexed file, by corpus-relative path, held in memory: what the
/// streamed manifests ([`Spill`], [`Committed`]) are tested against.
#[cfg(test)]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    /// Entries by path.
    pub files: BTreeMap<String, Entry>,
}

#[cfg(test)]
impl Manifest {
    /// Pages the manifest's files yielded (files that were not skipped).
    pub fn pages(&self) -> usize {
        self.files.values().filter(|e| e.skipped.is_none()).count()
    }

    /// Loads the manifest that matches the committed `hash`, promoting
    /// `manifest.next` if a crash happened between commit and rename.
    /// `None` when no manifest matches, or the one that matches is not in
    /// this version's format: the caller must rebuild.
    pub fn load_committed(dir: &Path, hash: Option<&str>) -> Option<Manifest> {
        let committed = Committed::find(dir, hash)?;
        let files = committed.entries().ok()?.collect::<Result<_>>().ok()?;
        Some(Manifest { files })
    }

    /// Writes the manifest to `manifest.next`, synced, and returns its hash for
    /// the commit payload.
    ///
    /// It is written as it is encoded, and hashed on the way, so that the
    /// whole file is never held in memory.
    pub fn write_next(&self, dir: &Path) -> Result<String> {
        let mut next = NextFile::create(dir)?;
        for (rel, entry) in &self.files {
            next.push(rel, entry)?;
        }
        next.finish()
    }
}

/// The manifest of the last commit, read as a stream of entries in path
/// order, never held whole: a `reindex` merges it with the sorted walk.
pub struct Committed {
    path: PathBuf,
}

impl Committed {
    /// The manifest file that matches the committed `hash`, promoting
    /// `manifest.next` if a crash happened between commit and rename.
    /// `None` when no manifest matches, or the one that matches is not a
    /// whole manifest of this version's format: the caller must rebuild.
    ///
    /// The file is read through once to check it (hash, format, order);
    /// each later read streams it again.
    pub fn find(dir: &Path, hash: Option<&str>) -> Option<Committed> {
        let hash = hash?;
        for name in [CURRENT, NEXT] {
            let Ok((file_hash, whole)) = check(&dir.join(name)) else {
                continue;
            };
            if file_hash == hash {
                if !whole {
                    return None;
                }
                // A `manifest.next` that matches: the commit landed; finish
                // what the killed run started (or read it where it is).
                let promoted = name == NEXT && promote(dir).is_ok();
                let name = if promoted { CURRENT } else { name };
                return Some(Committed {
                    path: dir.join(name),
                });
            }
        }
        None
    }

    /// Its entries, in path order.
    pub fn entries(&self) -> Result<Entries> {
        let fail = |e| Error::io(&self.path, e);
        let mut input = BufReader::with_capacity(RUN_BUFFER, File::open(&self.path).map_err(fail)?);
        input.read_exact(&mut [0; MAGIC.len()]).map_err(fail)?;
        Ok(Entries {
            path: self.path.clone(),
            input,
        })
    }

    /// The entries of the paths `wanted`, in one pass over the file.
    pub fn entries_of(&self, wanted: &BTreeSet<&str>) -> Result<HashMap<String, Entry>> {
        let mut found = HashMap::with_capacity(wanted.len());
        if wanted.is_empty() {
            return Ok(found);
        }
        for item in self.entries()? {
            let (rel, entry) = item?;
            if wanted.contains(rel.as_str()) {
                found.insert(rel, entry);
            }
        }
        Ok(found)
    }

    /// Writes `manifest.next`: this manifest's entries for which `keep`
    /// holds, with `changes` in place of (or beside) them, `None` in
    /// `changes` dropping a path; in path order, synced. Returns its hash
    /// for the commit payload and the number of pages it lists.
    pub fn write_next(
        &self,
        dir: &Path,
        changes: BTreeMap<String, Option<Entry>>,
        keep: impl Fn(&str, &Entry) -> bool,
    ) -> Result<(String, usize)> {
        let old = (self.entries()?).map(|item| item.map(|(rel, entry)| (rel, Some(entry))));
        merge_into_next(dir, old, changes, keep)
    }
}

/// The path of a record read by [`read_record`] (empty when none is).
fn path_of(record: &Option<(String, Option<Entry>)>) -> &str {
    record.as_ref().map_or("", |(rel, _)| rel)
}

/// Writes `manifest.next` from `old` (entries in path order; `None`
/// entries, and those `keep` refuses, left out) and `changes`, which take
/// the place of (or come beside) the old entries of their paths, `None`
/// dropping a path; in path order, synced. Returns its hash for the commit
/// payload and the number of pages it lists.
fn merge_into_next(
    dir: &Path,
    mut old: impl Iterator<Item = Result<(String, Option<Entry>)>>,
    changes: BTreeMap<String, Option<Entry>>,
    keep: impl Fn(&str, &Entry) -> bool,
) -> Result<(String, usize)> {
    let mut head = old.next().transpose()?;
    let mut changes = changes.into_iter().peekable();
    let mut next = NextFile::create(dir)?;
    let mut pages = 0;
    loop {
        let entry = match (&head, changes.peek()) {
            (None, None) => break,
            (Some((rel, _)), Some((changed, _))) if changed <= rel => {
                if changed == rel {
                    head = old.next().transpose()?;
                }
                changes.next().and_then(|(rel, e)| Some((rel, e?)))
            }
            (Some(_), _) => {
                let taken = std::mem::replace(&mut head, old.next().transpose()?);
                taken
                    .and_then(|(rel, entry)| Some((rel, entry?)))
                    .filter(|(rel, entry)| keep(rel, entry))
            }
            (None, Some(_)) => changes.next().and_then(|(rel, e)| Some((rel, e?))),
        };
        if let Some((rel, entry)) = entry {
            pages += usize::from(entry.skipped.is_none());
            next.push(&rel, &entry)?;
        }
    }
    Ok((next.finish()?, pages))
}

/// The entries of a [`Committed`] manifest, in path order.
pub struct Entries {
    path: PathBuf,
    input: BufReader<File>,
}

impl Iterator for Entries {
    type Item = Result<(String, Entry)>;

    fn next(&mut self) -> Option<Self::Item> {
        match read_record(&mut self.input) {
            Ok(None) => None,
            Ok(Some((rel, Some(entry)))) => Some(Ok((rel, entry))),
            Ok(Some((_, None))) => Some(Err(Error::io(
                &self.path,
                invalid("a record without entry"),
            ))),
            Err(e) => Some(Err(Error::io(&self.path, e))),
        }
    }
}

/// The hash of the file at `path`, and whether it is a whole manifest of
/// this format: the header, then records each with an entry, in strictly
/// increasing path order.
fn check(path: &Path) -> io::Result<(String, bool)> {
    let mut input = Hashing::new(BufReader::with_capacity(RUN_BUFFER, File::open(path)?));
    let whole = (|| -> io::Result<bool> {
        let mut magic = [0; MAGIC.len()];
        if input.read_exact(&mut magic).is_err() || magic != MAGIC {
            return Ok(false);
        }
        let mut last: Option<String> = None;
        while let Some((rel, entry)) = read_record(&mut input)? {
            if entry.is_none() || last.as_ref().is_some_and(|last| *last >= rel) {
                return Ok(false);
            }
            last = Some(rel);
        }
        Ok(true)
    })()
    .unwrap_or(false);
    io::copy(&mut input, &mut io::sink())?;
    Ok((input.hash(), whole))
}

/// `manifest.next` being written: entries in path order, hashed on the way.
pub struct NextFile {
    path: PathBuf,
    out: Hashing<BufWriter<File>>,
}

impl NextFile {
    /// Creates (or empties) `manifest.next` in `dir`.
    pub fn create(dir: &Path) -> Result<NextFile> {
        let path = dir.join(NEXT);
        let file = File::create(&path).map_err(|e| Error::io(&path, e))?;
        let mut out = Hashing::new(BufWriter::new(file));
        out.write_all(MAGIC).map_err(|e| Error::io(&path, e))?;
        Ok(NextFile { path, out })
    }

    /// Adds the entry of `rel`; entries come in path order.
    pub fn push(&mut self, rel: &str, entry: &Entry) -> Result<()> {
        write_record(&mut self.out, rel, Some(entry)).map_err(|e| Error::io(&self.path, e))
    }

    /// Flushes and syncs the file; returns its hash for the commit payload.
    pub fn finish(self) -> Result<String> {
        let fail = |e| Error::io(&self.path, e);
        let mut out = self.out;
        out.flush().map_err(fail)?;
        let hash = out.hash();
        let file = out.inner.into_inner().map_err(|e| fail(e.into_error()))?;
        file.sync_all().map_err(fail)?;
        Ok(hash)
    }
}

/// The manifest of a full build, written as its files are done instead of
/// held to the end.
///
/// Files are done in the order of their jobs, which is the walk's (sorted)
/// order within each part of the corpus and within each of the first
/// part's blocks (raw text first, see `process::raw_text_first`), so the
/// records form a few dozen sorted runs at most.
/// At the end they are merged, with the entries of pages processed a second
/// time, into `manifest.next` in path order, as [`Manifest::write_next`]
/// writes it: the same file, so the same hash, as a manifest built in
/// memory. Nothing trusts this file: a run killed while writing it leaves
/// the last commit and its manifest as they were, and the next run starts
/// it over. It is removed when dropped.
pub struct Spill {
    file: Scratch,
    written: u64,
    /// Where each sorted run starts.
    runs: Vec<u64>,
    /// The last path written, to see where a run ends.
    last: Option<String>,
    scratch: Vec<u8>,
}

impl Spill {
    /// The spill file in `dir`, created (or emptied) with the first entry.
    pub fn new(dir: &Path) -> Spill {
        Spill {
            file: Scratch::new(dir, SPILL),
            written: 0,
            runs: Vec::new(),
            last: None,
            scratch: Vec::new(),
        }
    }

    /// Adds the outcome of the next job: the entry of `rel`, or `None` when
    /// the file has none (it could not be read).
    pub fn push(&mut self, rel: &str, entry: Option<&Entry>) -> Result<()> {
        if self.last.as_deref().is_none_or(|last| last >= rel) {
            self.runs.push(self.written);
        }
        let last = self.last.get_or_insert_with(String::new);
        last.clear();
        last.push_str(rel);
        self.scratch.clear();
        write_record(&mut self.scratch, rel, entry).map_err(|e| self.file.error(e))?;
        self.file.write(&self.scratch)?;
        self.written += self.scratch.len() as u64;
        Ok(())
    }

    /// The entries pushed for the jobs `wanted` (by their number, counted
    /// from 0 in the order they were pushed), read back from the file.
    pub fn entries(&mut self, wanted: &BTreeSet<u32>) -> Result<HashMap<u32, Option<Entry>>> {
        let mut found = HashMap::with_capacity(wanted.len());
        let Some(&max) = wanted.last() else {
            return Ok(found);
        };
        self.file.flush()?;
        let fail = |e| self.file.error(e);
        let mut input = self.reader(0, self.written)?;
        for job in 0..=max {
            let record = read_record(&mut input).map_err(fail)?;
            let (_, entry) = record.ok_or_else(|| fail(invalid("fewer records than jobs")))?;
            if wanted.contains(&job) {
                found.insert(job, entry);
            }
        }
        Ok(found)
    }

    /// Writes `manifest.next`: the entries pushed, with `again` in place of
    /// those of the same paths (and beside them, should a path be new), in
    /// path order; synced. Returns its hash for the commit payload and the
    /// number of pages it lists.
    pub fn finish(mut self, dir: &Path, again: BTreeMap<String, Entry>) -> Result<(String, usize)> {
        self.file.flush()?;
        let fail = |e| self.file.error(e);
        let ends: Vec<u64> = (self.runs.iter().skip(1).copied())
            .chain([self.written])
            .collect();
        let mut runs = Vec::with_capacity(self.runs.len());
        for (&start, &end) in self.runs.iter().zip(&ends) {
            let mut input = self.reader(start, end)?;
            let head = read_record(&mut input).map_err(fail)?;
            runs.push((head, input));
        }
        // The runs merged: each time, the head of the run whose next path
        // comes first (there are a few runs).
        let spilled = std::iter::from_fn(|| {
            let (head, input) = (runs.iter_mut())
                .filter(|(head, _)| head.is_some())
                .min_by(|(a, _), (b, _)| path_of(a).cmp(path_of(b)))?;
            Some(match read_record(input) {
                Ok(next) => Ok(std::mem::replace(head, next).unwrap_or_default()),
                Err(e) => Err(fail(e)),
            })
        });
        let again = again.into_iter().map(|(rel, e)| (rel, Some(e))).collect();
        merge_into_next(dir, spilled, again, |_, _| true)
    }

    /// The bytes `start..end` of the spill file, buffered; only called
    /// once something was pushed.
    fn reader(&self, start: u64, end: u64) -> Result<io::Take<BufReader<File>>> {
        let input = self.file.reader_from(start)?;
        let input = input.ok_or_else(|| self.file.error(invalid("nothing was spilled")))?;
        Ok(input.take(end - start))
    }
}

/// Read-ahead of a manifest, or of each spilled run, while it is read.
const RUN_BUFFER: usize = 64 << 10;

/// Marks a record that holds no entry (a file that could not be read).
const NO_ENTRY: u8 = 0xFF;
/// Marks an absent reason in a record.
const NO_REASON: u32 = u32::MAX;

/// Writes one record: the path, then the entry or [`NO_ENTRY`]. Numbers are
/// little-endian; the digest is a tag (0 content, 1 too large, 2 stale)
/// and, for content, its 16 bytes.
pub(crate) fn write_record(
    out: &mut impl Write,
    rel: &str,
    entry: Option<&Entry>,
) -> io::Result<()> {
    write_bytes(out, rel.as_bytes())?;
    let Some(entry) = entry else {
        return out.write_all(&[NO_ENTRY]);
    };
    match entry.hash {
        Digest::Content(hash) => {
            out.write_all(&[0])?;
            out.write_all(&hash)?;
        }
        Digest::TooLarge => out.write_all(&[1])?,
        Digest::Stale => out.write_all(&[2])?,
    }
    out.write_all(&entry.size.to_le_bytes())?;
    out.write_all(&entry.mtime.to_le_bytes())?;
    out.write_all(&(entry.records as u64).to_le_bytes())?;
    match &entry.skipped {
        Some(reason) => write_bytes(out, reason.as_bytes()),
        None => out.write_all(&NO_REASON.to_le_bytes()),
    }
}

fn write_bytes(out: &mut impl Write, bytes: &[u8]) -> io::Result<()> {
    let len = u32::try_from(bytes.len()).ok().filter(|&n| n != NO_REASON);
    let len = len.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path too long"))?;
    out.write_all(&len.to_le_bytes())?;
    out.write_all(bytes)
}

/// Reads one record written by [`write_record`]: `None` at the end of the
/// input, an error when it is cut short or not a record.
pub(crate) fn read_record(input: &mut impl Read) -> io::Result<Option<(String, Option<Entry>)>> {
    let mut len = [0; 4];
    match input.read(&mut len[..1])? {
        0 => return Ok(None),
        _ => input.read_exact(&mut len[1..])?,
    }
    let rel = read_text(input, u32::from_le_bytes(len))?;
    let hash = match read_array::<1>(input)?[0] {
        NO_ENTRY => return Ok(Some((rel, None))),
        0 => Digest::Content(read_array(input)?),
        1 => Digest::TooLarge,
        2 => Digest::Stale,
        _ => return Err(invalid("unknown digest tag")),
    };
    let size = u64::from_le_bytes(read_array(input)?);
    let mtime = u128::from_le_bytes(read_array(input)?);
    let records = u64::from_le_bytes(read_array(input)?);
    let records = usize::try_from(records).map_err(|_| invalid("record count"))?;
    let skipped = match u32::from_le_bytes(read_array(input)?) {
        NO_REASON => None,
        len => Some(read_text(input, len)?),
    };
    let entry = Entry {
        size,
        mtime,
        hash,
        records,
        skipped,
    };
    Ok(Some((rel, Some(entry))))
}

fn read_array<const N: usize>(input: &mut impl Read) -> io::Result<[u8; N]> {
    let mut bytes = [0; N];
    input.read_exact(&mut bytes)?;
    Ok(bytes)
}

fn read_text(input: &mut impl Read, len: u32) -> io::Result<String> {
    let mut bytes = Vec::new();
    input.take(u64::from(len)).read_to_end(&mut bytes)?;
    if bytes.len() != len as usize {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    String::from_utf8(bytes).map_err(|_| invalid("a path that is not UTF-8"))
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("manifest: {what}"))
}

/// BLAKE3 of `bytes`, first 128 bits in hex, as [`Hashing`] gives it.
#[cfg(test)]
pub fn content_hash(bytes: &[u8]) -> String {
    hex(blake3::hash(bytes))
}

fn first_128_bits(hash: blake3::Hash) -> [u8; 16] {
    let mut bits = [0; 16];
    bits.copy_from_slice(&hash.as_bytes()[..16]);
    bits
}

fn hex(hash: blake3::Hash) -> String {
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
        hex(self.hasher.finalize())
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
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
                hash: Digest::of(b"abc"),
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

    fn entry(hash: Digest, skipped: Option<&str>) -> Entry {
        Entry {
            size: 1 << 40,
            mtime: u128::from(u64::MAX) + 7,
            hash,
            records: 123_456,
            skipped: skipped.map(String::from),
        }
    }

    /// Bytes of one record: path length, path, digest tag (and 16 bytes for
    /// a content digest), size, time, records, reason length, reason.
    fn record_len(rel: &str, e: &Entry) -> usize {
        let digest = if matches!(e.hash, Digest::Content(_)) {
            16
        } else {
            0
        };
        let reason = e.skipped.as_ref().map_or(0, String::len);
        4 + rel.len() + 1 + digest + 8 + 16 + 8 + 4 + reason
    }

    /// Every kind of entry comes back as it was written: a content digest,
    /// the two markers, a reason, paths with escapes and non-ASCII text.
    #[test]
    fn a_manifest_round_trips_through_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut m = manifest();
        let entries = [
            (r"b/caf\xE9.txt", entry(Digest::of(b"caf\xE9"), None)),
            ("b/na\u{ef}ve \u{2014} \\\\.md", entry(Digest::Stale, None)),
            ("c/huge.txt", entry(Digest::TooLarge, Some("too large"))),
            ("d/empty.txt", entry(Digest::of(b""), Some(""))),
        ];
        for (rel, e) in entries {
            m.files.insert(rel.to_string(), e);
        }
        let hash = m.write_next(dir.path()).unwrap();
        let loaded = Manifest::load_committed(dir.path(), Some(&hash)).unwrap();
        assert_eq!(loaded, m);
        assert_eq!(loaded.files["c/huge.txt"].hash, Digest::TooLarge);
        assert_eq!(
            loaded.files["c/huge.txt"].skipped.as_deref(),
            Some("too large")
        );
        assert_eq!(loaded.files["d/empty.txt"].skipped.as_deref(), Some(""));
        // A digest takes 16 bytes (a marker none), not 32 hex characters.
        let size = fs::metadata(dir.path().join(CURRENT)).unwrap().len() as usize;
        let records: usize = m.files.iter().map(|(rel, e)| record_len(rel, e)).sum();
        assert_eq!(size, MAGIC.len() + records);
    }

    /// A stale entry never equals what a content hashes to, and keeps what
    /// the index holds of the file.
    #[test]
    fn a_stale_entry_matches_no_content_and_keeps_the_old_counts() {
        let old = entry(Digest::of(b"abc"), None);
        let stale = Entry::stale(Some(old.clone()));
        assert_eq!(stale.hash, Digest::Stale);
        assert_ne!(stale.hash, Digest::of(b""));
        assert_ne!(stale.hash, Digest::of(b"abc"));
        assert_eq!(
            (stale.mtime, stale.records, stale.size),
            (0, old.records, old.size)
        );
        assert_eq!(Entry::stale(None).hash, Digest::Stale);
        assert_ne!(Digest::TooLarge, Digest::Stale);
        assert_ne!(Digest::of(b"abc"), Digest::of(b"abd"));
    }

    /// A manifest of an earlier format (JSON, hex hashes) that matches the
    /// commit is not misread: the run rebuilds. So is a file that matches
    /// the commit but is not a whole manifest of this format.
    #[test]
    fn an_old_or_broken_manifest_that_matches_the_commit_leads_to_a_rebuild() {
        let dir = tempfile::tempdir().unwrap();
        let json = br#"{"files":{"a.txt":{"size":3,"mtime":1,"hash":"6437b3ac38465133ffb63b75273a8db5","records":2,"skipped":null}}}"#;
        let next = dir.path().join(NEXT);
        let load = |bytes: &[u8]| {
            fs::write(&next, bytes).unwrap();
            Manifest::load_committed(dir.path(), Some(&content_hash(bytes)))
        };
        assert_eq!(load(json), None);
        let m = manifest();
        m.write_next(dir.path()).unwrap();
        let good = fs::read(&next).unwrap();
        assert_eq!(load(&good), Some(m));
        // Cut anywhere inside the record.
        for cut in MAGIC.len() + 1..good.len() {
            assert_eq!(load(&good[..cut]), None, "cut at {cut}");
        }
        // An unknown digest tag, an older version, a path that is not UTF-8.
        let mut bad = good.clone();
        bad[MAGIC.len() + 4 + "a.txt".len()] = 9;
        assert_eq!(load(&bad), None);
        let mut older = good.clone();
        older[MAGIC.len() - 2] = b'1';
        assert_eq!(load(&older), None);
        let mut not_utf8 = good.clone();
        not_utf8[MAGIC.len() + 4] = 0xFF;
        assert_eq!(load(&not_utf8), None);
        // The header alone is an empty manifest.
        assert_eq!(load(MAGIC), Some(Manifest::default()));
    }

    /// Entries pushed in a few sorted runs, with holes and a second pass,
    /// give the very file (and hash) a manifest built in memory gives, and
    /// read back by job number as pushed.
    #[test]
    fn a_spilled_manifest_is_the_file_a_manifest_in_memory_writes() {
        let (spilled, whole) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let e = |n: u8| {
            entry(
                Digest::of(&[n]),
                n.is_multiple_of(3).then_some("empty file"),
            )
        };
        // Three runs, as raw text first makes them; c.txt could not be read.
        let pushed = [
            ("b.txt", Some(e(1))),
            ("d/x.txt", Some(e(2))),
            ("a.jsonl", Some(e(3))),
            ("c.txt", None),
            ("z.jsonl", Some(e(4))),
            ("a.txt", Some(e(5))),
            ("d/y.txt", Some(e(6))),
        ];
        let mut spill = Spill::new(spilled.path());
        for (rel, entry) in &pushed {
            spill.push(rel, entry.as_ref()).unwrap();
        }
        assert_eq!(spill.runs.len(), 3);
        let wanted: BTreeSet<u32> = [0, 3, 6].into();
        let found = spill.entries(&wanted).unwrap();
        let expected: HashMap<u32, Option<Entry>> =
            [(0, Some(e(1))), (3, None), (6, Some(e(6)))].into();
        assert_eq!(found, expected);
        // The second pass rewrote two pages, one of them stale now.
        let again: BTreeMap<String, Entry> = [
            ("d/x.txt".to_string(), e(7)),
            ("a.txt".to_string(), Entry::stale(Some(e(5)))),
        ]
        .into();
        let (hash, pages) = spill.finish(spilled.path(), again.clone()).unwrap();
        assert!(
            !spilled.path().join(SPILL).exists(),
            "the spill file is removed"
        );

        let mut m = Manifest::default();
        for (rel, entry) in pushed {
            if let Some(entry) = entry {
                m.files.insert(rel.to_string(), entry);
            }
        }
        m.files.extend(again);
        assert_eq!(pages, m.pages());
        assert_eq!(pages, 4);
        assert_eq!(hash, m.write_next(whole.path()).unwrap());
        assert_eq!(
            fs::read(spilled.path().join(NEXT)).unwrap(),
            fs::read(whole.path().join(NEXT)).unwrap()
        );
        assert_eq!(
            Manifest::load_committed(spilled.path(), Some(&hash)),
            Some(m)
        );
    }

    /// A reindex's manifest, merged from the last one read as a stream and
    /// this run's changes, is the file the same changes made to the
    /// manifest in memory give; an entry is looked up in one pass.
    #[test]
    fn a_committed_manifest_merged_with_changes_is_the_manifest_changed_in_memory() {
        let (dir, whole) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let e = |n: u8| entry(Digest::of(&[n]), (n == 4).then_some("binary file"));
        let mut m = Manifest::default();
        for (n, rel) in ["a.txt", "b.txt", "c/d.txt", "c/e.txt", "f.txt"]
            .iter()
            .enumerate()
        {
            m.files.insert(rel.to_string(), e(n as u8));
        }
        let last = m.write_next(dir.path()).unwrap();
        promote(dir.path()).unwrap();
        let before = m.clone();
        let old = Committed::find(dir.path(), Some(&last)).unwrap();
        let wanted: BTreeSet<&str> = ["c/e.txt", "zz.txt"].into();
        let found = old.entries_of(&wanted).unwrap();
        assert_eq!(found, [("c/e.txt".to_string(), e(3))].into());

        // b.txt changed, c/d.txt left the manifest, 0.txt and g.txt are new,
        // f.txt is gone (not kept), the rest kept.
        let changes: BTreeMap<String, Option<Entry>> = [
            ("0.txt".to_string(), Some(e(10))),
            ("b.txt".to_string(), Some(e(11))),
            ("c/d.txt".to_string(), None),
            ("g.txt".to_string(), Some(e(12))),
        ]
        .into();
        let keep = |rel: &str, _: &Entry| rel != "f.txt";
        let (hash, pages) = old.write_next(dir.path(), changes.clone(), keep).unwrap();
        m.files.remove("f.txt");
        for (rel, change) in changes {
            match change {
                Some(entry) => m.files.insert(rel, entry),
                None => m.files.remove(&rel),
            };
        }
        assert_eq!(pages, m.pages());
        assert_eq!(hash, m.write_next(whole.path()).unwrap());
        assert_eq!(
            fs::read(dir.path().join(NEXT)).unwrap(),
            fs::read(whole.path().join(NEXT)).unwrap()
        );
        // Until the commit, the last manifest stays the one that matches it;
        // after it, the new one is found (and promoted).
        let load = |hash: &str| Manifest::load_committed(dir.path(), Some(hash));
        assert_eq!(load(&last), Some(before));
        assert_eq!(load(&hash), Some(m));
        assert!(!dir.path().join(NEXT).exists());
    }

    /// Entries out of path order (no run writes them so) are not trusted.
    #[test]
    fn a_manifest_out_of_order_leads_to_a_rebuild() {
        let dir = tempfile::tempdir().unwrap();
        let mut bytes = MAGIC.to_vec();
        for rel in ["b.txt", "a.txt"] {
            write_record(&mut bytes, rel, Some(&entry(Digest::Stale, None))).unwrap();
        }
        fs::write(dir.path().join(CURRENT), &bytes).unwrap();
        assert!(Committed::find(dir.path(), Some(&content_hash(&bytes))).is_none());
    }
}
