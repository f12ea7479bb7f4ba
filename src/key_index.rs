//! The echo lookup keys of each segment ([`crate::echo::keys`]), kept in a
//! file of its own beside the index rather than in it.
//!
//! A record's ten keys are a pure function of the content words the index
//! stores for it (the `claim_words` column, [`keys::keys_of_words`]). Indexed
//! by Tantivy they cost a full build about a fifth of its time: millions of
//! distinct terms, each a cache miss in the writer's term table, sorted and
//! written into a term dictionary, and a writer whose memory per record
//! more than doubled (twice as many segments flushed and merged). Here a
//! write run computes them once per segment, after its commit and merges,
//! from the column, and writes them sorted: one file a segment, named by the
//! segment's id ([`file_name`]). A segment's documents never change (a
//! deletion only marks one dead; searches check that), so a file stays
//! right for as long as its segment lives, and a run writes files only for
//! the segments that lack one and removes those of segments gone ([`save`]).
//!
//! The file (little endian):
//!
//! ```text
//! header     96 bytes: magic, format, ANALYZER_VERSION, the segment's id
//!            (32 hex digits), its max_doc, the bucket bits b, the bytes of a
//!            key's rest and of a document id, the number of (key, document)
//!            pairs, then a BLAKE3 hash of those 64 bytes
//! directory  2^b + 1 entries of 12 bytes: where bucket i's pairs start (a
//!            pair number, u64) and a checksum of its pairs' bytes (u32);
//!            the last entry holds the number of pairs
//! pairs      each the key's low 64 - b bits, then the document, sorted by
//!            key then document; a key's bucket is its top b bits
//! ```
//!
//! A search maps the file ([`SegmentKeys`]) and reads, for a key, one
//! directory entry and one bucket (about eight pairs): a one-shot
//! `claimsearch query` touches a few pages of it, not the whole file. Every
//! byte a lookup uses is checked: the header by its hash and the file's
//! length when it is opened, a bucket by its checksum when it is read. A
//! file that is missing, cut, damaged, of another segment or of another
//! version is not used: the segment's keys are then computed from the
//! column, in memory (the same bytes a write run would write), and the
//! answers are the same.

use std::fs::File;
use std::io::{ErrorKind, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use memmap2::Mmap;
use rayon::prelude::*;
use tantivy::columnar::Column;
use tantivy::index::SegmentId;
use tantivy::{DocId, Searcher, SegmentReader};

use crate::echo::{keys, Claim};
use crate::error::{Error, Result};
use crate::schema::names;

const MAGIC: &[u8; 8] = b"CSECHOK1";
/// The layout's version, beside [`crate::analyzer::ANALYZER_VERSION`]
/// (what the keys are).
const FORMAT: u32 = 1;
const HEADER: usize = 96;
/// The part of the header its hash covers.
const HASHED: usize = 64;
const DIRECTORY_ENTRY: usize = 12;
/// Pairs a bucket holds on average, about: one lookup reads one bucket.
const PER_BUCKET: u64 = 8;
const MAX_BITS: u32 = 24;
const PREFIX: &str = "echo-keys-";
const SUFFIX: &str = ".bin";
const TEMPORARY: &str = ".tmp";

/// The name of the key file of segment `id`, in the index folder.
pub(crate) fn file_name(id: SegmentId) -> String {
    format!("{PREFIX}{}{SUFFIX}", id.uuid_string())
}

/// The sizes of a key file, all following from its number of pairs and its
/// segment's number of documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Layout {
    bits: u32,
    key_bytes: usize,
    doc_bytes: usize,
    pairs: u64,
}

impl Layout {
    fn new(pairs: u64, max_doc: DocId) -> Layout {
        let wanted = pairs / PER_BUCKET;
        let bits = (u64::BITS - wanted.leading_zeros()).clamp(1, MAX_BITS);
        let largest_doc = max_doc.saturating_sub(1);
        let doc_bits = (u32::BITS - largest_doc.leading_zeros()).max(1);
        Layout {
            bits,
            key_bytes: (64 - bits).div_ceil(8) as usize,
            doc_bytes: doc_bits.div_ceil(8) as usize,
            pairs,
        }
    }

    fn buckets(&self) -> usize {
        1 << self.bits
    }

    fn entry(&self) -> usize {
        self.key_bytes + self.doc_bytes
    }

    fn directory_len(&self) -> usize {
        (self.buckets() + 1) * DIRECTORY_ENTRY
    }

    /// The file's length, if it can be held in memory.
    fn len(&self) -> Option<usize> {
        let pairs = usize::try_from(self.pairs).ok()?;
        (pairs.checked_mul(self.entry())?).checked_add(HEADER + self.directory_len())
    }

    fn bucket(&self, key: u64) -> usize {
        (key >> (64 - self.bits)) as usize
    }

    fn rest(&self, key: u64) -> u64 {
        key & (u64::MAX >> self.bits)
    }

    fn key(&self, bucket: usize, rest: u64) -> u64 {
        (bucket as u64) << (64 - self.bits) | rest
    }
}

/// A key file's bytes, read through its [`Layout`].
#[derive(Clone, Copy)]
struct Table<'a> {
    layout: Layout,
    directory: &'a [u8],
    pairs: &'a [u8],
    max_doc: DocId,
}

impl<'a> Table<'a> {
    /// The layout of `bytes`, if its header is whole, is segment `id`'s
    /// (of `max_doc` documents) and this version's, and the file has the
    /// length it says.
    fn check_header(bytes: &[u8], id: SegmentId, max_doc: DocId) -> Option<Layout> {
        let header = bytes.get(..HEADER)?;
        let (hashed, hash) = header.split_at(HASHED);
        if blake3::hash(hashed).as_bytes() != hash {
            return None;
        }
        let u32_at = |at: usize| u32::from_le_bytes(hashed[at..at + 4].try_into().unwrap());
        let pairs = u64::from_le_bytes(hashed[56..64].try_into().unwrap());
        let layout = Layout::new(pairs, max_doc);
        let intact = &hashed[..8] == MAGIC
            && u32_at(8) == FORMAT
            && u32_at(12) == crate::analyzer::ANALYZER_VERSION
            && &hashed[16..48] == id.uuid_string().as_bytes()
            && u32_at(48) == max_doc
            && u32::from(hashed[52]) == layout.bits
            && usize::from(hashed[53]) == layout.key_bytes
            && usize::from(hashed[54]) == layout.doc_bytes
            && hashed[55] == 0
            && layout.len() == Some(bytes.len());
        intact.then_some(layout)
    }

    /// The table in `bytes`, whose header gave `layout`.
    fn new(bytes: &'a [u8], layout: Layout, max_doc: DocId) -> Table<'a> {
        let (directory, pairs) = bytes[HEADER..].split_at(layout.directory_len());
        Table {
            layout,
            directory,
            pairs,
            max_doc,
        }
    }

    /// The pairs of bucket `i`, if their checksum holds.
    fn bucket(&self, i: usize) -> Option<&'a [u8]> {
        let at = i * DIRECTORY_ENTRY;
        let entry = self.directory.get(at..at + DIRECTORY_ENTRY + 8)?;
        let start = u64::from_le_bytes(entry[..8].try_into().ok()?);
        let check = u32::from_le_bytes(entry[8..12].try_into().ok()?);
        let end = u64::from_le_bytes(entry[12..20].try_into().ok()?);
        if start > end || end > self.layout.pairs {
            return None;
        }
        let size = self.layout.entry();
        let bytes = (self.pairs).get(start as usize * size..end as usize * size)?;
        (checksum(i, bytes) == check).then_some(bytes)
    }

    /// The (rest of the key, document) pairs in `bytes`, a bucket's.
    fn entries(&self, bytes: &'a [u8]) -> impl Iterator<Item = (u64, DocId)> + 'a {
        let Layout { key_bytes, .. } = self.layout;
        (bytes.chunks_exact(self.layout.entry())).map(move |entry| {
            (
                little(&entry[..key_bytes]),
                little(&entry[key_bytes..]) as DocId,
            )
        })
    }

    /// Appends the documents holding `key` to `docs`, in order; `None`
    /// when what it read is damaged.
    fn docs(&self, key: u64, docs: &mut Vec<DocId>) -> Option<()> {
        let bucket = self.bucket(self.layout.bucket(key))?;
        let rest = self.layout.rest(key);
        for (held, doc) in self.entries(bucket) {
            if held > rest {
                break;
            }
            if held == rest {
                if doc >= self.max_doc {
                    return None;
                }
                docs.push(doc);
            }
        }
        Some(())
    }

    /// `each(key, document)` for every pair, in key then document order;
    /// `None` (part way through) when a bucket is damaged.
    fn each(&self, mut each: impl FnMut(u64, DocId)) -> Option<()> {
        for i in 0..self.layout.buckets() {
            for (rest, doc) in self.entries(self.bucket(i)?) {
                if doc >= self.max_doc {
                    return None;
                }
                each(self.layout.key(i, rest), doc);
            }
        }
        Some(())
    }
}

/// A little-endian number of up to 8 bytes.
fn little(bytes: &[u8]) -> u64 {
    let mut eight = [0u8; 8];
    eight[..bytes.len()].copy_from_slice(bytes);
    u64::from_le_bytes(eight)
}

/// The checksum of bucket `i`'s bytes: any change to them, or reading
/// another bucket's, tells (but for one chance in 2^32).
fn checksum(i: usize, bytes: &[u8]) -> u32 {
    let mut h = mix(0x6b65_7973 ^ (i as u64) << 20 ^ (bytes.len() as u64) << 44);
    for chunk in bytes.chunks(8) {
        h = mix(h ^ little(chunk));
    }
    (h ^ h >> 32) as u32
}

/// splitmix64's finalizer.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The content words of `doc`'s claim as the `claim_words` column stores
/// them ([`Claim::stored_words`]), into `words` (none for a record that
/// takes no part in echoes): `true` when the claim the index keeps has
/// fewer ([`Claim::read_stored_words`]). The values are read together, not
/// one by one.
pub(crate) fn stored_words(column: &Column<u64>, doc: DocId, words: &mut Vec<u32>) -> bool {
    let rows = column.index.value_row_ids(doc);
    let mut values = [0u64; 64];
    let mut cut = false;
    words.clear();
    let mut start = rows.start;
    while start < rows.end {
        let n = (rows.end - start).min(64);
        let chunk = &mut values[..n as usize];
        column.values.get_range(u64::from(start), chunk);
        cut |= Claim::read_stored_words(chunk.iter().copied(), words);
        start += n;
    }
    cut
}

/// The bytes of the key file of segment `id` (of `max_doc` documents), whose
/// `claim_words` column is `column`. The stored words are every content
/// word of a claim, the cut ones too (the mark aside), so their keys are
/// the claim's own ([`keys::keys`]).
fn build(id: SegmentId, max_doc: DocId, column: &Column<u64>) -> Vec<u8> {
    // Every document's keys, in document order.
    let (mut keys, mut ends) = (Vec::new(), Vec::with_capacity(max_doc as usize));
    let mut words = Vec::new();
    for doc in 0..max_doc {
        stored_words(column, doc, &mut words);
        let mut of_doc = keys::keys_of_words(&words);
        of_doc.sort_unstable();
        of_doc.dedup();
        keys.extend(of_doc);
        ends.push(keys.len());
    }
    let layout = Layout::new(keys.len() as u64, max_doc);
    let len = layout.len().expect("the pairs of a segment held in memory");
    let mut out = vec![0u8; len];
    let (header, rest) = out.split_at_mut(HEADER);
    let (directory, pairs) = rest.split_at_mut(layout.directory_len());
    // Where each bucket starts, then each pair in its bucket, documents in
    // order.
    let mut starts = vec![0u64; layout.buckets() + 1];
    for &key in &keys {
        starts[layout.bucket(key) + 1] += 1;
    }
    for i in 1..starts.len() {
        starts[i] += starts[i - 1];
    }
    let mut next = starts.clone();
    let size = layout.entry();
    let mut from = 0;
    for (doc, &end) in ends.iter().enumerate() {
        for &key in &keys[from..end] {
            let at = &mut next[layout.bucket(key)];
            let entry = &mut pairs[*at as usize * size..][..size];
            entry[..layout.key_bytes]
                .copy_from_slice(&layout.rest(key).to_le_bytes()[..layout.key_bytes]);
            entry[layout.key_bytes..]
                .copy_from_slice(&(doc as u64).to_le_bytes()[..layout.doc_bytes]);
            *at += 1;
        }
        from = end;
    }
    drop(keys);
    // Each bucket sorted by key (a stable sort: documents stay in order),
    // and its directory entry.
    let mut bucket: Vec<(u64, u64)> = Vec::new();
    for i in 0..layout.buckets() {
        let bytes = &mut pairs[starts[i] as usize * size..starts[i + 1] as usize * size];
        if bytes.len() > size {
            bucket.clear();
            bucket.extend(bytes.chunks_exact(size).map(|e| {
                (
                    little(&e[..layout.key_bytes]),
                    little(&e[layout.key_bytes..]),
                )
            }));
            bucket.sort_by_key(|&(rest, _)| rest);
            for (entry, (rest, doc)) in bytes.chunks_exact_mut(size).zip(&bucket) {
                entry[..layout.key_bytes].copy_from_slice(&rest.to_le_bytes()[..layout.key_bytes]);
                entry[layout.key_bytes..].copy_from_slice(&doc.to_le_bytes()[..layout.doc_bytes]);
            }
        }
        let entry = &mut directory[i * DIRECTORY_ENTRY..][..DIRECTORY_ENTRY];
        entry[..8].copy_from_slice(&starts[i].to_le_bytes());
        entry[8..].copy_from_slice(&checksum(i, bytes).to_le_bytes());
    }
    let last = layout.buckets() * DIRECTORY_ENTRY;
    directory[last..last + 8].copy_from_slice(&layout.pairs.to_le_bytes());
    header[..8].copy_from_slice(MAGIC);
    header[8..12].copy_from_slice(&FORMAT.to_le_bytes());
    header[12..16].copy_from_slice(&crate::analyzer::ANALYZER_VERSION.to_le_bytes());
    header[16..48].copy_from_slice(id.uuid_string().as_bytes());
    header[48..52].copy_from_slice(&max_doc.to_le_bytes());
    header[52] = layout.bits as u8;
    header[53] = layout.key_bytes as u8;
    header[54] = layout.doc_bytes as u8;
    header[56..64].copy_from_slice(&layout.pairs.to_le_bytes());
    let hash = blake3::hash(&header[..HASHED]);
    header[HASHED..].copy_from_slice(hash.as_bytes());
    out
}

/// The lookup keys of one segment: from its file when that is usable, or
/// computed from its `claim_words` column the first time they are needed
/// otherwise (a file found damaged by a lookup is left for the rest of the
/// process).
pub(crate) struct SegmentKeys {
    id: SegmentId,
    max_doc: DocId,
    column: Column<u64>,
    /// The mapped file and its layout, when its header and length are right.
    file: Option<(Mmap, Layout)>,
    /// A lookup found part of the file damaged.
    damaged: AtomicBool,
    /// The keys computed from the column, and their layout.
    computed: OnceLock<(Vec<u8>, Layout)>,
}

impl std::fmt::Debug for SegmentKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SegmentKeys")
            .field("id", &self.id)
            .field("from_file", &self.reads_file())
            .finish()
    }
}

impl SegmentKeys {
    /// The keys of `segment`, from its file in the index folder `dir` when
    /// there is a usable one.
    pub(crate) fn open(dir: &Path, segment: &SegmentReader) -> tantivy::Result<SegmentKeys> {
        let (id, max_doc) = (segment.segment_id(), segment.max_doc());
        Ok(SegmentKeys {
            id,
            max_doc,
            column: segment.fast_fields().u64(names::CLAIM_WORDS)?,
            file: map(&dir.join(file_name(id)), id, max_doc),
            damaged: AtomicBool::new(false),
            computed: OnceLock::new(),
        })
    }

    /// Whether lookups read the segment's file (no part of it was found
    /// damaged so far).
    pub(crate) fn reads_file(&self) -> bool {
        self.file.is_some() && !self.damaged.load(Ordering::Relaxed)
    }

    fn file_table(&self) -> Option<Table<'_>> {
        let (map, layout) = self.file.as_ref()?;
        (!self.damaged.load(Ordering::Relaxed)).then(|| Table::new(map, *layout, self.max_doc))
    }

    fn computed(&self) -> &(Vec<u8>, Layout) {
        self.computed.get_or_init(|| {
            let bytes = build(self.id, self.max_doc, &self.column);
            let layout = Table::check_header(&bytes, self.id, self.max_doc)
                .expect("a table just built has its own header");
            (bytes, layout)
        })
    }

    fn computed_table(&self) -> Table<'_> {
        let (bytes, layout) = self.computed();
        Table::new(bytes, *layout, self.max_doc)
    }

    /// Appends to `docs` the documents of the segment, alive or not, that
    /// hold `key`, in order.
    pub(crate) fn docs(&self, key: u64, docs: &mut Vec<DocId>) {
        let before = docs.len();
        if let Some(table) = self.file_table() {
            if table.docs(key, docs).is_some() {
                return;
            }
            docs.truncate(before);
            self.damaged.store(true, Ordering::Relaxed);
        }
        let found = self.computed_table().docs(key, docs);
        debug_assert!(found.is_some(), "a table just built is whole");
    }

    /// `step(state, key, document)` for every key of every document, alive
    /// or not, in key then document order, from `start()`. When part of the
    /// file proves damaged, it starts again from the keys computed.
    fn fold<T>(&self, start: impl Fn() -> T, mut step: impl FnMut(&mut T, u64, DocId)) -> T {
        if let Some(table) = self.file_table() {
            let mut state = start();
            if table.each(|key, doc| step(&mut state, key, doc)).is_some() {
                return state;
            }
            self.damaged.store(true, Ordering::Relaxed);
        }
        let mut state = start();
        let whole = (self.computed_table()).each(|key, doc| step(&mut state, key, doc));
        debug_assert!(whole.is_some(), "a table just built is whole");
        state
    }

    /// The keys held by more than `floor` documents of the segment, alive
    /// or not.
    pub(crate) fn frequent(&self, floor: u32) -> Vec<u64> {
        // The keys found, then the key being counted and its documents.
        let start = || (Vec::new(), 0u64, 0u32);
        let (mut found, last, held) = self.fold(start, |(found, last, held), key, _| {
            if *held > 0 && *last == key {
                *held += 1;
            } else {
                if *held > floor {
                    found.push(*last);
                }
                (*last, *held) = (key, 1);
            }
        });
        if held > floor {
            found.push(last);
        }
        found
    }
}

/// The file at `path` mapped, if its header is segment `id`'s and its
/// length right.
fn map(path: &Path, id: SegmentId, max_doc: DocId) -> Option<(Mmap, Layout)> {
    let file = File::open(path).ok()?;
    // SAFETY: a key file is never written in place: it is written whole
    // under another name and renamed (`write`), or removed, which leaves a
    // mapping as it was.
    let map = unsafe { Mmap::map(&file) }.ok()?;
    let layout = Table::check_header(&map, id, max_doc)?;
    Some((map, layout))
}

/// Writes `bytes` to `dir/name`: to a temporary file first, synced, then
/// renamed over any other, so that a reader finds the whole file or none.
/// Written beside Tantivy's files, not through its directory, whose garbage
/// collection would delete it as one of its own.
fn write(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    let (path, temporary) = (dir.join(name), dir.join(format!("{name}{TEMPORARY}")));
    let written = File::create(&temporary).and_then(|mut file| {
        file.write_all(bytes)?;
        file.sync_all()
    });
    written
        .and_then(|()| std::fs::rename(&temporary, &path))
        .map_err(|e| Error::io(&path, e))
}

/// Writes the key file of every segment of `searcher` (the commit of the
/// index in `dir`) that has no usable one, segments in parallel, and
/// removes the key files of segments no longer in the index and those a
/// run left half-written. Returns the keys of each segment, in order.
pub(crate) fn save(dir: &Path, searcher: &Searcher) -> Result<Vec<Arc<SegmentKeys>>> {
    let segments = searcher.segment_readers();
    let keys = (segments.par_iter())
        .map(|segment| {
            let keys = SegmentKeys::open(dir, segment)?;
            if keys.file.is_some() {
                return Ok(Arc::new(keys));
            }
            let bytes = build(keys.id, keys.max_doc, &keys.column);
            write(dir, &file_name(keys.id), &bytes)?;
            drop(bytes);
            Ok(Arc::new(SegmentKeys::open(dir, segment)?))
        })
        .collect::<Result<Vec<_>>>()?;
    let live: Vec<String> = (segments.iter())
        .map(|s| file_name(s.segment_id()))
        .collect();
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let ours = name.starts_with(PREFIX)
            && (name.ends_with(SUFFIX) || name.ends_with(&format!("{SUFFIX}{TEMPORARY}")));
        if ours && !live.contains(&name) {
            match std::fs::remove_file(entry.path()) {
                Err(e) if e.kind() != ErrorKind::NotFound => {
                    return Err(Error::io(entry.path(), e))
                }
                _ => {}
            }
        }
    }
    Ok(keys)
}

/// Writes again the key file of every segment whose file a read of `keys`
/// (those [`save`] returned) found damaged.
pub(crate) fn repair(dir: &Path, keys: &[Arc<SegmentKeys>]) -> Result<()> {
    for keys in keys {
        if keys.file.is_some() && !keys.reads_file() {
            write(dir, &file_name(keys.id), &keys.computed().0)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Fields;

    /// An index of the default corpus, in a folder of its own.
    fn default_corpus_index() -> (tempfile::TempDir, tantivy::Index) {
        let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
        let dir = tempfile::tempdir().unwrap();
        crate::ingest::build(&corpus, dir.path(), &|_| {}).unwrap();
        let index = crate::storage::open_for_reading(dir.path()).unwrap();
        (dir, index)
    }

    /// Every (key, document) pair of `keys`.
    fn pairs(keys: &SegmentKeys) -> Vec<(u64, DocId)> {
        keys.fold(Vec::new, |found, key, doc| found.push((key, doc)))
    }

    #[test]
    fn the_files_hold_the_keys_of_every_records_claim() {
        let (dir, index) = default_corpus_index();
        let fields = Fields::new(&index.schema()).unwrap();
        let searcher = index.reader().unwrap().searcher();
        let mut keyed = 0;
        for segment in searcher.segment_readers() {
            let keys = SegmentKeys::open(dir.path(), segment).unwrap();
            assert!(keys.reads_file(), "{:?}", segment.segment_id());
            // The keys of each record's claim, as it was read when indexed.
            let store = segment.get_store_reader(0).unwrap();
            let mut expected = Vec::new();
            for doc in 0..segment.max_doc() {
                let record =
                    crate::schema::stored_record(&fields, &store.get(doc).unwrap()).unwrap();
                if let Some(claim) = crate::echo::record_claim(&record) {
                    let claim_keys = keys::keys(&claim);
                    keyed += usize::from(!claim_keys.is_empty());
                    expected.extend(claim_keys.into_iter().map(|k| (k, doc)));
                }
            }
            expected.sort_unstable();
            let found = pairs(&keys);
            assert_eq!(found, expected);
            // Each key's documents, as a lookup finds them.
            for run in expected.chunk_by(|a, b| a.0 == b.0) {
                let mut docs = Vec::new();
                keys.docs(run[0].0, &mut docs);
                assert_eq!(docs, run.iter().map(|p| p.1).collect::<Vec<_>>());
            }
            // A key no record holds finds none.
            let mut docs = Vec::new();
            keys.docs(0, &mut docs);
            assert!(docs.is_empty());
            // The same as computed from the column.
            assert_eq!(
                std::fs::read(dir.path().join(file_name(keys.id))).unwrap(),
                keys.computed().0
            );
            assert!(keys.reads_file());
        }
        assert!(keyed > 100, "{keyed}");
    }

    #[test]
    fn a_damaged_cut_or_stale_file_is_not_used_and_the_keys_are_the_same() {
        let (dir, index) = default_corpus_index();
        let searcher = index.reader().unwrap().searcher();
        let segment = &searcher.segment_readers()[0];
        let path = dir.path().join(file_name(segment.segment_id()));
        let good = std::fs::read(&path).unwrap();
        let expected = pairs(&SegmentKeys::open(dir.path(), segment).unwrap());
        assert!(expected.len() > 100);
        let lookups = |keys: &SegmentKeys| {
            let mut found = Vec::new();
            for run in expected.chunk_by(|a, b| a.0 == b.0) {
                let mut docs = Vec::new();
                keys.docs(run[0].0, &mut docs);
                found.extend(docs.into_iter().map(|d| (run[0].0, d)));
            }
            found
        };
        let layout = Table::check_header(&good, segment.segment_id(), segment.max_doc()).unwrap();
        let directory = HEADER + 5 * DIRECTORY_ENTRY;
        let pairs_at = HEADER + layout.directory_len();
        // A byte of the header, of the directory (a start, a checksum), of
        // the pairs (the first, one in the middle, the last) flipped.
        for at in [
            3,
            50,
            70,
            directory,
            directory + 9,
            pairs_at,
            (pairs_at + good.len()) / 2,
            good.len() - 1,
        ] {
            let mut damaged = good.clone();
            damaged[at] ^= 0x10;
            std::fs::write(&path, &damaged).unwrap();
            // Lookups that read the damaged part, and a read of it all,
            // tell it and take the keys computed from the column.
            let keys = SegmentKeys::open(dir.path(), segment).unwrap();
            assert_eq!(lookups(&keys), expected, "byte {at} flipped");
            let keys = SegmentKeys::open(dir.path(), segment).unwrap();
            assert_eq!(pairs(&keys), expected, "byte {at} flipped");
            assert!(!keys.reads_file(), "byte {at} flipped");
        }
        // Cut short, or longer than it says.
        for len in [0, 10, HEADER, pairs_at, good.len() - 1] {
            std::fs::write(&path, &good[..len]).unwrap();
            let keys = SegmentKeys::open(dir.path(), segment).unwrap();
            assert!(!keys.reads_file(), "cut at {len}");
            assert_eq!(lookups(&keys), expected, "cut at {len}");
        }
        let mut longer = good.clone();
        longer.push(0);
        std::fs::write(&path, &longer).unwrap();
        assert!(!SegmentKeys::open(dir.path(), segment).unwrap().reads_file());
        // Another segment's file, under this segment's name.
        let other = tantivy::index::SegmentId::generate_random();
        let bytes = build(
            other,
            segment.max_doc(),
            &segment.fast_fields().u64(names::CLAIM_WORDS).unwrap(),
        );
        std::fs::write(&path, &bytes).unwrap();
        let keys = SegmentKeys::open(dir.path(), segment).unwrap();
        assert!(!keys.reads_file());
        assert_eq!(pairs(&keys), expected);
        // Gone.
        std::fs::remove_file(&path).unwrap();
        let keys = SegmentKeys::open(dir.path(), segment).unwrap();
        assert!(!keys.reads_file());
        assert_eq!(pairs(&keys), expected);
        // The next write run writes it again.
        std::fs::write(&path, &good[..good.len() / 2]).unwrap();
        save(dir.path(), &searcher).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), good);
    }

    #[test]
    fn a_file_damaged_past_its_header_is_written_again_by_the_next_run() {
        let (dir, index) = default_corpus_index();
        let searcher = index.reader().unwrap().searcher();
        let segment = &searcher.segment_readers()[0];
        let path = dir.path().join(file_name(segment.segment_id()));
        let good = std::fs::read(&path).unwrap();
        let mut damaged = good.clone();
        *damaged.last_mut().unwrap() ^= 1;
        std::fs::write(&path, &damaged).unwrap();
        // Its header is right: kept by `save`, found damaged by a full
        // read (the common keys' count), written again.
        let keys = save(dir.path(), &searcher).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), damaged);
        keys.iter().for_each(|k| drop(k.frequent(0)));
        repair(dir.path(), &keys).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), good);
    }

    #[test]
    fn layouts_fit_their_pairs_and_documents() {
        let small = Layout::new(0, 0);
        assert_eq!((small.bits, small.key_bytes, small.doc_bytes), (1, 8, 1));
        let large = Layout::new(4_000_000, 400_000);
        assert_eq!((large.bits, large.key_bytes, large.doc_bytes), (19, 6, 3));
        let huge = Layout::new(1 << 40, u32::MAX);
        assert_eq!((huge.bits, huge.key_bytes, huge.doc_bytes), (24, 5, 4));
        for layout in [small, large, huge] {
            for key in [1, 0x8000_0000_0000_0000, u64::MAX, 0x1234_5678_9abc_def0] {
                let (bucket, rest) = (layout.bucket(key), layout.rest(key));
                assert!(bucket < layout.buckets());
                assert_eq!(layout.key(bucket, rest), key);
                assert!(rest < 1 << (8 * layout.key_bytes as u32).min(63) || layout.key_bytes == 8);
            }
        }
    }
}
