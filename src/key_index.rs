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
//! header     104 bytes: magic, format, ANALYZER_VERSION, the segment's id
//!            (32 hex digits), its max_doc, the bucket bits b, the number
//!            of distinct keys and of bytes of keys, then a BLAKE3 hash of
//!            those 72 bytes
//! directory  2^b + 1 entries of 12 bytes: where bucket i's keys start (a
//!            byte of the keys, u64) and a checksum of its bytes (u32); the
//!            last entry holds the number of bytes of keys
//! keys       in key order, each once: the key's low 64 - b bits (its top b
//!            bits are its bucket), the length of its documents in bytes,
//!            then its documents in order, the first as it is and each
//!            next as the step from the one before (LEB128 varints)
//! ```
//!
//! A search maps the file ([`SegmentKeys`]) and reads, for a key, one
//! directory entry and one bucket (about eight keys): a one-shot
//! `claimsearch query` touches a few pages of it, not the whole file. Every
//! byte a lookup uses is checked: the header by its hash and the file's
//! length when it is opened, a bucket by its checksum when it is read. A
//! file that is missing, cut, damaged, of another segment or of another
//! version is not used: the segment's keys are then computed from the
//! column, in memory (the same bytes a write run would write), and the
//! answers are the same.

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use memmap2::Mmap;
use rayon::prelude::*;
use tantivy::columnar::Column;
use tantivy::index::SegmentId;
use tantivy::{DocId, Searcher, SegmentReader};

use crate::echo::{keys, Claim};
use crate::error::Result;
use crate::schema::names;
use crate::segment_file::{self, little, put_varint, varint};

const MAGIC: &[u8; 8] = b"CSECHOK2";
/// The layout's version, beside [`crate::analyzer::ANALYZER_VERSION`]
/// (what the keys are).
const FORMAT: u32 = 2;
const HEADER: usize = 104;
/// The part of the header its hash covers.
const HASHED: usize = 72;
const DIRECTORY_ENTRY: usize = 12;
/// Distinct keys a bucket holds on average, about: one lookup reads one
/// bucket.
const PER_BUCKET: u64 = 8;
const MAX_BITS: u32 = 24;
const PREFIX: &str = "echo-keys-";
const SUFFIX: &str = ".bin";

/// The name of the key file of segment `id`, in the index folder.
pub(crate) fn file_name(id: SegmentId) -> String {
    segment_file::name(PREFIX, id, SUFFIX)
}

/// The sizes of a key file, following from its number of distinct keys and
/// of bytes of keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Layout {
    bits: u32,
    key_bytes: usize,
    keys: u64,
    data: u64,
}

impl Layout {
    fn new(keys: u64, data: u64) -> Layout {
        let bits = (u64::BITS - (keys / PER_BUCKET).leading_zeros()).clamp(1, MAX_BITS);
        Layout {
            bits,
            key_bytes: (64 - bits).div_ceil(8) as usize,
            keys,
            data,
        }
    }

    fn buckets(&self) -> usize {
        1 << self.bits
    }

    fn directory_len(&self) -> usize {
        (self.buckets() + 1) * DIRECTORY_ENTRY
    }

    /// The file's length, if it can be held in memory.
    fn len(&self) -> Option<usize> {
        usize::try_from(self.data)
            .ok()?
            .checked_add(HEADER + self.directory_len())
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
    data: &'a [u8],
    max_doc: DocId,
}

impl<'a> Table<'a> {
    /// The layout of `bytes`, if its header is whole, is segment `id`'s
    /// (of `max_doc` documents) and this version's, and the file has the
    /// length it says.
    fn check_header(bytes: &[u8], id: SegmentId, max_doc: DocId) -> Option<Layout> {
        Table::check_header_of(bytes.get(..HEADER)?, bytes.len(), id, max_doc)
    }

    /// [`Table::check_header`] from the header alone and the file's length.
    fn check_header_of(header: &[u8], len: usize, id: SegmentId, max_doc: DocId) -> Option<Layout> {
        let (hashed, hash) = header.split_at(HASHED);
        if blake3::hash(hashed).as_bytes() != hash {
            return None;
        }
        let u32_at = |at: usize| little(&hashed[at..at + 4]) as u32;
        let layout = Layout::new(little(&hashed[56..64]), little(&hashed[64..72]));
        let intact = &hashed[..8] == MAGIC
            && u32_at(8) == FORMAT
            && u32_at(12) == crate::analyzer::ANALYZER_VERSION
            && &hashed[16..48] == id.uuid_string().as_bytes()
            && u32_at(48) == max_doc
            && u32_at(52) == layout.bits
            && layout.len() == Some(len);
        intact.then_some(layout)
    }

    /// The table in `bytes`, whose header gave `layout`.
    fn new(bytes: &'a [u8], layout: Layout, max_doc: DocId) -> Table<'a> {
        let (directory, data) = bytes[HEADER..].split_at(layout.directory_len());
        Table {
            layout,
            directory,
            data,
            max_doc,
        }
    }

    /// The bytes of bucket `i`, if their checksum holds.
    fn bucket(&self, i: usize) -> Option<&'a [u8]> {
        let at = i * DIRECTORY_ENTRY;
        let entry = self.directory.get(at..at + DIRECTORY_ENTRY + 8)?;
        let (start, check, end) = (
            little(&entry[..8]),
            little(&entry[8..12]),
            little(&entry[12..]),
        );
        if start > end || end > self.layout.data {
            return None;
        }
        let bytes = (self.data).get(start as usize..end as usize)?;
        (u64::from(checksum(i, bytes)) == check).then_some(bytes)
    }

    /// The next key of a bucket's `bytes` (its rest), with the bytes of
    /// its documents; `None` when they are not whole.
    fn next_key(&self, bytes: &mut &'a [u8]) -> Option<(u64, &'a [u8])> {
        let rest = little(bytes.get(..self.layout.key_bytes)?);
        *bytes = &bytes[self.layout.key_bytes..];
        let len = usize::try_from(varint(bytes)?).ok()?;
        let docs = bytes.get(..len)?;
        *bytes = &bytes[len..];
        Some((rest, docs))
    }

    /// `each(document)` for the documents in `bytes`, in order; `None`
    /// when they are not whole or not documents of the segment.
    fn documents(&self, mut bytes: &[u8], mut each: impl FnMut(DocId)) -> Option<()> {
        let mut doc: Option<u64> = None;
        while !bytes.is_empty() {
            let step = varint(&mut bytes)?;
            let next = match doc {
                None => step,
                Some(doc) => doc.checked_add(step).filter(|_| step > 0)?,
            };
            if next >= u64::from(self.max_doc) {
                return None;
            }
            each(next as DocId);
            doc = Some(next);
        }
        Some(())
    }

    /// Appends the documents holding `key` to `docs`, in order; `None`
    /// when what it read is damaged.
    fn docs(&self, key: u64, docs: &mut Vec<DocId>) -> Option<()> {
        let mut bytes = self.bucket(self.layout.bucket(key))?;
        let rest = self.layout.rest(key);
        while !bytes.is_empty() {
            let (held, documents) = self.next_key(&mut bytes)?;
            if held == rest {
                return self.documents(documents, |doc| docs.push(doc));
            }
            if held > rest {
                break;
            }
        }
        Some(())
    }

    /// `each(key, document)` for every pair, in key then document order;
    /// `None` (part way through) when a bucket is damaged.
    fn each(&self, mut each: impl FnMut(u64, DocId)) -> Option<()> {
        for i in 0..self.layout.buckets() {
            let mut bytes = self.bucket(i)?;
            while !bytes.is_empty() {
                let (rest, documents) = self.next_key(&mut bytes)?;
                let key = self.layout.key(i, rest);
                self.documents(documents, |doc| each(key, doc))?;
            }
        }
        Some(())
    }
}

/// The checksum of bucket `i`'s bytes: any change to them, or reading
/// another bucket's, tells (but for one chance in 2^32).
fn checksum(i: usize, bytes: &[u8]) -> u32 {
    let seed = 0x6b65_7973 ^ (i as u64) << 20 ^ (bytes.len() as u64) << 44;
    let h = segment_file::checksum(seed, bytes);
    (h ^ h >> 32) as u32
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
    let mut pairs: Vec<(u64, DocId)> = Vec::new();
    let mut words = Vec::new();
    for doc in 0..max_doc {
        stored_words(column, doc, &mut words);
        pairs.extend(keys::keys_of_words(&words).into_iter().map(|k| (k, doc)));
    }
    pairs.sort_unstable();
    pairs.dedup();
    let keys = pairs.chunk_by(|a, b| a.0 == b.0).count() as u64;
    let layout = Layout::new(keys, 0);
    // The keys in order, so bucket by bucket, and where each bucket starts.
    let mut data = Vec::with_capacity(pairs.len() * 3);
    let mut starts = vec![0u64; layout.buckets() + 1];
    let (mut next_bucket, mut documents) = (0, Vec::new());
    for run in pairs.chunk_by(|a, b| a.0 == b.0) {
        let key = run[0].0;
        let bucket = layout.bucket(key);
        for start in &mut starts[next_bucket..=bucket] {
            *start = data.len() as u64;
        }
        next_bucket = bucket + 1;
        documents.clear();
        let mut last = None;
        for &(_, doc) in run {
            put_varint(&mut documents, u64::from(doc - last.unwrap_or(0)));
            last = Some(doc);
        }
        data.extend_from_slice(&layout.rest(key).to_le_bytes()[..layout.key_bytes]);
        put_varint(&mut data, documents.len() as u64);
        data.extend_from_slice(&documents);
    }
    drop(pairs);
    for start in &mut starts[next_bucket..] {
        *start = data.len() as u64;
    }
    let layout = Layout::new(keys, data.len() as u64);
    let mut out = Vec::with_capacity(layout.len().unwrap_or(0));
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT.to_le_bytes());
    out.extend_from_slice(&crate::analyzer::ANALYZER_VERSION.to_le_bytes());
    out.extend_from_slice(id.uuid_string().as_bytes());
    out.extend_from_slice(&max_doc.to_le_bytes());
    out.extend_from_slice(&layout.bits.to_le_bytes());
    out.extend_from_slice(&layout.keys.to_le_bytes());
    out.extend_from_slice(&layout.data.to_le_bytes());
    let hash = blake3::hash(&out);
    out.extend_from_slice(hash.as_bytes());
    for (i, bounds) in starts.windows(2).enumerate() {
        let bytes = &data[bounds[0] as usize..bounds[1] as usize];
        out.extend_from_slice(&bounds[0].to_le_bytes());
        out.extend_from_slice(&checksum(i, bytes).to_le_bytes());
    }
    out.extend_from_slice(&layout.data.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&data);
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
        self.release();
        found
    }

    /// Gives back the pages of the file mapped so far: a write run walks
    /// every segment's file once ([`SegmentKeys::frequent`]) and looks keys
    /// up in each ([`crate::common_keys::find`]), and at 1,000,000 pages the
    /// files add up to hundreds of megabytes.
    pub(crate) fn release(&self) {
        if let Some((map, _)) = &self.file {
            // SAFETY: the mapping is shared, read only and of a file never
            // written in place (`write`): pages given back are read again
            // from the file, the same bytes, when next used.
            let _ = unsafe { map.unchecked_advise(memmap2::UncheckedAdvice::DontNeed) };
        }
    }
}

/// The file at `path` mapped, if its header is segment `id`'s and its
/// length right.
///
/// The header is read from the file, not through the mapping, which is left
/// untouched until a lookup: a fault maps the whole large page of the page
/// cache that holds the byte read (up to 2 MiB on Linux 6), so checking the
/// headers through the mappings made about 1.7 MiB of every segment's file
/// resident for the life of the process, 76 MiB at 1,000,000 pages.
fn map(path: &Path, id: SegmentId, max_doc: DocId) -> Option<(Mmap, Layout)> {
    let mut file = File::open(path).ok()?;
    let len = usize::try_from(file.metadata().ok()?.len()).ok()?;
    let mut header = [0u8; HEADER];
    file.read_exact(&mut header).ok()?;
    let layout = Table::check_header_of(&header, len, id, max_doc)?;
    // SAFETY: a key file is never written in place: it is written whole
    // under another name and renamed (`write`), or removed, which leaves a
    // mapping as it was.
    let map = unsafe { Mmap::map(&file) }.ok()?;
    (map.len() == len).then_some((map, layout))
}

/// Writes the key file of every segment of the commit of `index` (the
/// index in `dir`) that has no usable one, segments in parallel.
///
/// Each segment's words are read through a reader of its own, closed once
/// its file is written: read through one reader, every segment's words
/// column stayed mapped to the end of the run (about 700 MB at 1,000,000
/// pages). A full build calls this before it opens a reader of the whole
/// commit for its last steps, so that nothing else is mapped meanwhile
/// (`ingest::settle`).
pub(crate) fn write_missing(dir: &Path, index: &tantivy::Index) -> Result<()> {
    let metas = index.searchable_segment_metas()?;
    (metas.par_iter())
        .filter(|meta| map(&dir.join(file_name(meta.id())), meta.id(), meta.max_doc()).is_none())
        .try_for_each(|meta| -> Result<()> {
            let own = SegmentReader::open(&index.segment(meta.clone()))?;
            let bytes = build(
                meta.id(),
                meta.max_doc(),
                &own.fast_fields().u64(names::CLAIM_WORDS)?,
            );
            drop(own);
            segment_file::write(dir, &file_name(meta.id()), &bytes)
        })
}

/// The keys of every segment of `searcher` (the commit of the index in
/// `dir`), in order, once [`write_missing`] has written the files missing;
/// removes the key files of segments no longer in the index and those a
/// run left half-written.
pub(crate) fn save(dir: &Path, searcher: &Searcher) -> Result<Vec<Arc<SegmentKeys>>> {
    let segments = searcher.segment_readers();
    let keys = (segments.iter())
        .map(|segment| SegmentKeys::open(dir, segment).map(Arc::new))
        .collect::<tantivy::Result<Vec<_>>>()?;
    let live: Vec<SegmentId> = segments.iter().map(|s| s.segment_id()).collect();
    segment_file::remove_others(dir, PREFIX, SUFFIX, &live)?;
    Ok(keys)
}

/// Writes again the key file of every segment whose file a read of `keys`
/// (those [`save`] returned) found damaged.
pub(crate) fn repair(dir: &Path, keys: &[Arc<SegmentKeys>]) -> Result<()> {
    for keys in keys {
        if keys.file.is_some() && !keys.reads_file() {
            segment_file::write(dir, &file_name(keys.id), &keys.computed().0)?;
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
        write_missing(dir.path(), &index).unwrap();
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
    fn layouts_fit_their_keys() {
        let small = Layout::new(0, 0);
        assert_eq!((small.bits, small.key_bytes), (1, 8));
        let large = Layout::new(4_000_000, 0);
        assert_eq!((large.bits, large.key_bytes), (19, 6));
        let huge = Layout::new(1 << 40, 0);
        assert_eq!((huge.bits, huge.key_bytes), (24, 5));
        for layout in [small, large, huge] {
            for key in [1, 0x8000_0000_0000_0000, u64::MAX, 0x1234_5678_9abc_def0] {
                let (bucket, rest) = (layout.bucket(key), layout.rest(key));
                assert!(bucket < layout.buckets());
                assert_eq!(layout.key(bucket, rest), key);
                assert_eq!(little(&rest.to_le_bytes()[..layout.key_bytes]), rest);
            }
        }
    }
}
