//! Keys of each segment's documents kept in a file of their own beside the
//! index rather than in it, by key: the echo lookup keys
//! ([`crate::echo::keys`], [`ECHO_KEYS`]) and the raw texts' shingles
//! ([`RAW_SHINGLES`]), two [`KeyKind`]s of one layout. What follows tells
//! of the echo keys; the shingles are kept for the same reasons (millions
//! of distinct terms a writer held, sorted and wrote) and read the same way
//! but by range ([`SegmentKeys::open_to_read`]).
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
const SUFFIX: &str = ".bin";

/// What a kind of key file holds: for each document of a segment, keys
/// computed from its values in one column.
#[derive(Debug)]
pub(crate) struct KeyKind {
    magic: &'static [u8; 8],
    /// The start of the files' names.
    prefix: &'static str,
    /// The column the keys come from.
    column: &'static str,
    /// Appends the keys of a document to `keys` from its values in the
    /// column (`words`: room to work in).
    keys_of: fn(&Column<u64>, DocId, &mut Vec<u32>, &mut Vec<u64>),
}

/// The echo lookup keys of each record's claim ([`keys::keys_of_words`]),
/// from the content words of the `claim_words` column.
pub(crate) static ECHO_KEYS: KeyKind = KeyKind {
    magic: b"CSECHOK2",
    prefix: "echo-keys-",
    column: names::CLAIM_WORDS,
    keys_of: |column, doc, words, keys| {
        stored_words(column, doc, words);
        keys.extend(keys::keys_of_words(words));
    },
};

/// The winnowed shingles of each raw text, from the `shingles` column of
/// its first passage ([`crate::schema::Fields::shingles`]): a `reindex`
/// finds by them the raw texts of the last commit that a new quote may be in.
pub(crate) static RAW_SHINGLES: KeyKind = KeyKind {
    magic: b"CSSHING1",
    prefix: "raw-shingles-",
    column: names::SHINGLES,
    keys_of: |column, doc, _, keys| {
        let rows = column.index.value_row_ids(doc);
        let start = keys.len();
        keys.resize(start + rows.len(), 0);
        column
            .values
            .get_range(u64::from(rows.start), &mut keys[start..]);
    },
};

/// The name of the key file of the kind `kind` of segment `id`, in the
/// index folder.
pub(crate) fn file_name(kind: &KeyKind, id: SegmentId) -> String {
    segment_file::name(kind.prefix, id, SUFFIX)
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
    fn check_header(kind: &KeyKind, bytes: &[u8], id: SegmentId, max_doc: DocId) -> Option<Layout> {
        Table::check_header_of(kind, bytes.get(..HEADER)?, bytes.len(), id, max_doc)
    }

    /// [`Table::check_header`] from the header alone and the file's length.
    fn check_header_of(
        kind: &KeyKind,
        header: &[u8],
        len: usize,
        id: SegmentId,
        max_doc: DocId,
    ) -> Option<Layout> {
        let (hashed, hash) = header.split_at(HASHED);
        if blake3::hash(hashed).as_bytes() != hash {
            return None;
        }
        let u32_at = |at: usize| little(&hashed[at..at + 4]) as u32;
        let layout = Layout::new(little(&hashed[56..64]), little(&hashed[64..72]));
        let intact = &hashed[..8] == kind.magic
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
        let (start, end) = bucket_bounds(entry, self.layout)?;
        let bytes = (self.data).get(start as usize..end as usize)?;
        intact(i, entry, bytes).then_some(bytes)
    }

    /// A table that reads buckets handed to it ([`Table::docs_in_bucket`],
    /// [`Table::each_in_bucket`]), read from the file by range.
    fn without_bytes(layout: Layout, max_doc: DocId) -> Table<'static> {
        Table {
            layout,
            directory: &[],
            data: &[],
            max_doc,
        }
    }

    /// The next key of a bucket's `bytes` (its rest), with the bytes of
    /// its documents; `None` when they are not whole.
    fn next_key<'b>(&self, bytes: &mut &'b [u8]) -> Option<(u64, &'b [u8])> {
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
        self.docs_in_bucket(self.bucket(self.layout.bucket(key))?, key, docs)
    }

    /// [`Table::docs`] in the bytes of `key`'s bucket.
    fn docs_in_bucket(&self, mut bytes: &[u8], key: u64, docs: &mut Vec<DocId>) -> Option<()> {
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
            self.each_in_bucket(i, self.bucket(i)?, &mut each)?;
        }
        Some(())
    }

    /// [`Table::each`] over the bytes of bucket `i`.
    fn each_in_bucket(
        &self,
        i: usize,
        mut bytes: &[u8],
        each: &mut impl FnMut(u64, DocId),
    ) -> Option<()> {
        while !bytes.is_empty() {
            let (rest, documents) = self.next_key(&mut bytes)?;
            let key = self.layout.key(i, rest);
            self.documents(documents, |doc| each(key, doc))?;
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
fn build(kind: &KeyKind, id: SegmentId, max_doc: DocId, column: &Column<u64>) -> Vec<u8> {
    let mut pairs: Vec<(u64, DocId)> = Vec::new();
    let (mut words, mut keys) = (Vec::new(), Vec::new());
    for doc in 0..max_doc {
        keys.clear();
        (kind.keys_of)(column, doc, &mut words, &mut keys);
        pairs.extend(keys.iter().map(|&k| (k, doc)));
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
    out.extend_from_slice(kind.magic);
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
    kind: &'static KeyKind,
    id: SegmentId,
    max_doc: DocId,
    /// The segment, whose column is opened only when the keys are computed:
    /// opened in every segment of a commit, the columns touched about 12
    /// MiB of fast fields at 1,000,000 pages that a run reading the files
    /// never needs.
    segment: SegmentReader,
    /// The file and its layout, when its header and length are right.
    file: Option<(KeyFile, Layout)>,
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

/// How lookups read a segment's key file.
enum KeyFile {
    /// Through a mapping: a lookup costs no read call, and a whole read
    /// ([`SegmentKeys::frequent`]) reads the file once.
    Mapped(Mmap),
    /// By two read calls a lookup (a directory entry, then one bucket), and
    /// a whole read by pieces, for a run that looks up a few keys in every
    /// segment of a large commit or reads them all: each byte read through
    /// a mapping keeps the 64 KiB around it resident (the kernel's
    /// fault-around) until the mapping goes.
    Read(File),
}

impl SegmentKeys {
    /// The keys of the kind `kind` of `segment`, from its file in the index
    /// folder `dir`, mapped, when there is a usable one.
    pub(crate) fn open(
        dir: &Path,
        segment: &SegmentReader,
        kind: &'static KeyKind,
    ) -> tantivy::Result<SegmentKeys> {
        SegmentKeys::open_with(dir, segment, kind, |file| {
            // SAFETY: a key file is never written in place: it is written
            // whole under another name and renamed (`write`), or removed,
            // which leaves a mapping as it was.
            let map = unsafe { Mmap::map(&file) }.ok()?;
            Some(KeyFile::Mapped(map))
        })
    }

    /// [`SegmentKeys::open`], but lookups and whole reads read the file by
    /// range rather than map it ([`KeyFile::Read`]): memory flat in the
    /// number of lookups and the size of the file.
    pub(crate) fn open_to_read(
        dir: &Path,
        segment: &SegmentReader,
        kind: &'static KeyKind,
    ) -> tantivy::Result<SegmentKeys> {
        SegmentKeys::open_with(dir, segment, kind, |file| Some(KeyFile::Read(file)))
    }

    fn open_with(
        dir: &Path,
        segment: &SegmentReader,
        kind: &'static KeyKind,
        how: impl FnOnce(File) -> Option<KeyFile>,
    ) -> tantivy::Result<SegmentKeys> {
        let (id, max_doc) = (segment.segment_id(), segment.max_doc());
        let schema = segment.schema();
        if !schema
            .get_field_entry(schema.get_field(kind.column)?)
            .is_fast()
        {
            let message = format!("{} is not a fast field", kind.column);
            return Err(tantivy::TantivyError::SchemaError(message));
        }
        let path = dir.join(file_name(kind, id));
        let file = (checked(&path, kind, id, max_doc))
            .and_then(|(file, layout)| Some((how(file)?, layout)));
        Ok(SegmentKeys {
            kind,
            id,
            max_doc,
            segment: segment.clone(),
            file,
            damaged: AtomicBool::new(false),
            computed: OnceLock::new(),
        })
    }

    /// Whether lookups read the segment's file (no part of it was found
    /// damaged so far).
    pub(crate) fn reads_file(&self) -> bool {
        self.file.is_some() && !self.damaged.load(Ordering::Relaxed)
    }

    fn computed(&self) -> &(Vec<u8>, Layout) {
        self.computed.get_or_init(|| {
            // `open` found the column in the schema: it fails to open only
            // when the segment's fast fields are damaged too, and the
            // segment then has no keys.
            let column = (self.segment.fast_fields().u64(self.kind.column))
                .unwrap_or_else(|_| Column::build_empty_column(self.max_doc));
            let bytes = build(self.kind, self.id, self.max_doc, &column);
            let layout = Table::check_header(self.kind, &bytes, self.id, self.max_doc)
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
        let found = match &self.file {
            _ if self.damaged.load(Ordering::Relaxed) => None,
            Some((KeyFile::Mapped(map), layout)) => {
                Some(Table::new(map, *layout, self.max_doc).docs(key, docs))
            }
            Some((KeyFile::Read(file), layout)) => {
                Some(read_docs(file, *layout, self.max_doc, key, docs))
            }
            None => None,
        };
        match found {
            Some(Some(())) => return,
            Some(None) => {
                docs.truncate(before);
                self.damaged.store(true, Ordering::Relaxed);
            }
            None => {}
        }
        let found = self.computed_table().docs(key, docs);
        debug_assert!(found.is_some(), "a table just built is whole");
    }

    /// `step(state, key, document)` for every key of every document, alive
    /// or not, in key then document order, from `start()`. When part of the
    /// file proves damaged, it starts again from the keys computed.
    fn fold<T>(&self, start: impl Fn() -> T, mut step: impl FnMut(&mut T, u64, DocId)) -> T {
        if let Some((file, layout)) = self.file.as_ref().filter(|_| self.reads_file()) {
            let mut state = start();
            let each = |key, doc| step(&mut state, key, doc);
            let whole = match file {
                KeyFile::Mapped(map) => Table::new(map, *layout, self.max_doc).each(each),
                KeyFile::Read(file) => read_each(file, *layout, self.max_doc, each),
            };
            if whole.is_some() {
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
    /// or not, in order.
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

    /// Gives back the pages of the file mapped so far: a process that
    /// finds a commit's common keys without their file walks every
    /// segment's file once ([`SegmentKeys::frequent`]) and looks keys up in
    /// each ([`crate::common_keys::find`]), and at 1,000,000 pages the files
    /// add up to hundreds of megabytes. (A file read by range holds none.)
    pub(crate) fn release(&self) {
        if let Some((KeyFile::Mapped(map), _)) = &self.file {
            // SAFETY: the mapping is shared, read only and of a file never
            // written in place (`write`): pages given back are read again
            // from the file, the same bytes, when next used.
            let _ = unsafe { map.unchecked_advise(memmap2::UncheckedAdvice::DontNeed) };
        }
    }
}

/// The file at `path`, if its header is of the kind `kind` and segment
/// `id`'s and its length right.
///
/// The header is read from the file, not through a mapping, which is left
/// untouched until a lookup: a fault maps the whole large page of the page
/// cache that holds the byte read (up to 2 MiB on Linux 6), so checking the
/// headers through the mappings made about 1.7 MiB of every segment's file
/// resident for the life of the process, 76 MiB at 1,000,000 pages.
fn checked(path: &Path, kind: &KeyKind, id: SegmentId, max_doc: DocId) -> Option<(File, Layout)> {
    let mut file = File::open(path).ok()?;
    let len = usize::try_from(file.metadata().ok()?.len()).ok()?;
    let mut header = [0u8; HEADER];
    file.read_exact(&mut header).ok()?;
    let layout = Table::check_header_of(kind, &header, len, id, max_doc)?;
    Some((file, layout))
}

/// [`Table::docs`] by read calls on the file: the bucket of `key`, found
/// by its directory entry, then read whole and checked.
fn read_docs(
    file: &File,
    layout: Layout,
    max_doc: DocId,
    key: u64,
    docs: &mut Vec<DocId>,
) -> Option<()> {
    let i = layout.bucket(key);
    let mut entry = [0u8; DIRECTORY_ENTRY + 8];
    segment_file::read_at(file, &mut entry, (HEADER + i * DIRECTORY_ENTRY) as u64).ok()?;
    let (start, end) = bucket_bounds(&entry, layout)?;
    let mut bytes = vec![0; usize::try_from(end - start).ok()?];
    let at = (HEADER + layout.directory_len()) as u64 + start;
    segment_file::read_at(file, &mut bytes, at).ok()?;
    if !intact(i, &entry, &bytes) {
        return None;
    }
    Table::without_bytes(layout, max_doc).docs_in_bucket(&bytes, key, docs)
}

/// [`Table::each`] by read calls on the file: its directory and its keys
/// read forward, [`PIECE`] bytes at a time.
fn read_each(
    file: &File,
    layout: Layout,
    max_doc: DocId,
    mut each: impl FnMut(u64, DocId),
) -> Option<()> {
    let table = Table::without_bytes(layout, max_doc);
    let directory_len = layout.directory_len() as u64;
    let mut directory = Pieces::new(file, HEADER as u64, directory_len);
    let mut data = Pieces::new(file, HEADER as u64 + directory_len, layout.data);
    for i in 0..layout.buckets() {
        let at = (i * DIRECTORY_ENTRY) as u64;
        let entry = directory.get(at, at + (DIRECTORY_ENTRY + 8) as u64)?;
        let (start, end) = bucket_bounds(entry, layout)?;
        let bytes = data.get(start, end)?;
        if !intact(i, entry, bytes) {
            return None;
        }
        table.each_in_bucket(i, bytes, &mut each)?;
    }
    Some(())
}

/// How many bytes [`Pieces`] reads at a time.
const PIECE: u64 = 256 << 10;

/// A region of a file read forward by pieces of [`PIECE`] bytes or more.
struct Pieces<'f> {
    file: &'f File,
    /// Where the region starts in the file, and its length.
    at: u64,
    len: u64,
    /// The piece read, and where it starts in the region.
    piece: Vec<u8>,
    start: u64,
}

impl<'f> Pieces<'f> {
    fn new(file: &'f File, at: u64, len: u64) -> Pieces<'f> {
        Pieces {
            file,
            at,
            len,
            piece: Vec::new(),
            start: 0,
        }
    }

    /// The bytes `start..end` of the region, reading the piece from
    /// `start` on when the one read does not hold them.
    fn get(&mut self, start: u64, end: u64) -> Option<&[u8]> {
        if start > end || end > self.len {
            return None;
        }
        if start < self.start || end > self.start + self.piece.len() as u64 {
            let len = (end - start).max(PIECE.min(self.len - start));
            self.piece.resize(usize::try_from(len).ok()?, 0);
            segment_file::read_at(self.file, &mut self.piece, self.at + start).ok()?;
            self.start = start;
        }
        let from = usize::try_from(start - self.start).ok()?;
        self.piece
            .get(from..from + usize::try_from(end - start).ok()?)
    }
}

/// Where a bucket's bytes start and end, from its directory entry and the
/// next one's start, if they fit the file's keys.
fn bucket_bounds(entry: &[u8], layout: Layout) -> Option<(u64, u64)> {
    let (start, end) = (little(&entry[..8]), little(&entry[12..20]));
    (start <= end && end <= layout.data).then_some((start, end))
}

/// Whether bucket `i`'s `bytes` match the checksum of its directory entry.
fn intact(i: usize, entry: &[u8], bytes: &[u8]) -> bool {
    u64::from(checksum(i, bytes)) == little(&entry[8..12])
}

/// Writes the key files of the kinds `kinds` of every segment of the
/// commit of `index` (the index in `dir`) that has no usable one, segments
/// in parallel, each segment opened once for all its missing files.
///
/// Each segment's columns are read through a reader of its own, closed once
/// its files are written: read through one reader, every segment's words
/// column stayed mapped to the end of the run (about 700 MB at 1,000,000
/// pages). A full build calls this before it opens a reader of the whole
/// commit for its last steps, so that nothing else is mapped meanwhile
/// (`ingest::settle`).
pub(crate) fn write_missing(dir: &Path, index: &tantivy::Index, kinds: &[&KeyKind]) -> Result<()> {
    let metas = index.searchable_segment_metas()?;
    (metas.par_iter()).try_for_each(|meta| -> Result<()> {
        let missing: Vec<&KeyKind> = (kinds.iter().copied())
            .filter(|kind| {
                let path = dir.join(file_name(kind, meta.id()));
                checked(&path, kind, meta.id(), meta.max_doc()).is_none()
            })
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let own = SegmentReader::open(&index.segment(meta.clone()))?;
        for kind in missing {
            let column = own.fast_fields().u64(kind.column)?;
            let bytes = build(kind, meta.id(), meta.max_doc(), &column);
            drop(column);
            segment_file::write(dir, &file_name(kind, meta.id()), &bytes)?;
        }
        Ok(())
    })
}

/// The keys of the kind `kind` of every segment of `searcher` (the commit
/// of the index in `dir`), in order, once [`write_missing`] has written the
/// files missing, read by range ([`SegmentKeys::open_to_read`]: a write run
/// reads every segment's file whole, for the common keys, and looks keys up
/// in each); removes the files of segments no longer in the index
/// ([`remove_gone`]).
pub(crate) fn save(
    dir: &Path,
    searcher: &Searcher,
    kind: &'static KeyKind,
) -> Result<Vec<Arc<SegmentKeys>>> {
    let keys = (searcher.segment_readers().iter())
        .map(|segment| SegmentKeys::open_to_read(dir, segment, kind).map(Arc::new))
        .collect::<tantivy::Result<Vec<_>>>()?;
    remove_gone(dir, searcher, kind)?;
    Ok(keys)
}

/// Removes the key files of the kind `kind` of segments that are not in
/// `searcher`'s commit, and those a run left half-written.
pub(crate) fn remove_gone(dir: &Path, searcher: &Searcher, kind: &KeyKind) -> Result<()> {
    let live: Vec<SegmentId> = (searcher.segment_readers().iter())
        .map(|s| s.segment_id())
        .collect();
    segment_file::remove_others(dir, kind.prefix, SUFFIX, &live)
}

/// Writes again the key file of every segment whose file a read of `keys`
/// (those [`save`] returned) found damaged.
pub(crate) fn repair(dir: &Path, keys: &[Arc<SegmentKeys>]) -> Result<()> {
    for keys in keys {
        if keys.file.is_some() && !keys.reads_file() {
            segment_file::write(dir, &file_name(keys.kind, keys.id), &keys.computed().0)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

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

    /// Every record of `segment`, as it was stored, with its document.
    fn stored_records(
        fields: &Fields,
        segment: &SegmentReader,
    ) -> Vec<(DocId, crate::model::Record)> {
        let store = segment.get_store_reader(0).unwrap();
        (0..segment.max_doc())
            .map(|doc| {
                let stored = store.get(doc).unwrap();
                (doc, crate::schema::stored_record(fields, &stored).unwrap())
            })
            .collect()
    }

    /// Every (key, document) pair of `keys`.
    fn pairs(keys: &SegmentKeys) -> Vec<(u64, DocId)> {
        keys.fold(Vec::new, |found, key, doc| found.push((key, doc)))
    }

    /// The (key, document) pairs that lookups in `keys` of each key of
    /// `expected` (sorted pairs) find.
    fn looked_up(keys: &SegmentKeys, expected: &[(u64, DocId)]) -> Vec<(u64, DocId)> {
        let mut found = Vec::new();
        for run in expected.chunk_by(|a, b| a.0 == b.0) {
            let mut docs = Vec::new();
            keys.docs(run[0].0, &mut docs);
            found.extend(docs.into_iter().map(|d| (run[0].0, d)));
        }
        found
    }

    #[test]
    fn the_files_hold_the_keys_of_every_records_claim() {
        let (dir, index) = default_corpus_index();
        let fields = Fields::new(&index.schema()).unwrap();
        let searcher = index.reader().unwrap().searcher();
        let mut keyed = 0;
        for segment in searcher.segment_readers() {
            let keys = SegmentKeys::open(dir.path(), segment, &ECHO_KEYS).unwrap();
            assert!(keys.reads_file(), "{:?}", segment.segment_id());
            // The keys of each record's claim, as it was read when indexed.
            let mut expected = Vec::new();
            for (doc, record) in stored_records(&fields, segment) {
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
                std::fs::read(dir.path().join(file_name(&ECHO_KEYS, keys.id))).unwrap(),
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
        let path = dir.path().join(file_name(&ECHO_KEYS, segment.segment_id()));
        let good = std::fs::read(&path).unwrap();
        let expected = pairs(&SegmentKeys::open(dir.path(), segment, &ECHO_KEYS).unwrap());
        assert!(expected.len() > 100);
        let lookups = |keys: &SegmentKeys| looked_up(keys, &expected);
        let layout =
            Table::check_header(&ECHO_KEYS, &good, segment.segment_id(), segment.max_doc())
                .unwrap();
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
            // tell it and take the keys computed from the column, whether
            // the file is mapped or read by range.
            for open in [SegmentKeys::open, SegmentKeys::open_to_read] {
                let keys = open(dir.path(), segment, &ECHO_KEYS).unwrap();
                assert_eq!(lookups(&keys), expected, "byte {at} flipped");
                let keys = open(dir.path(), segment, &ECHO_KEYS).unwrap();
                assert_eq!(pairs(&keys), expected, "byte {at} flipped");
                assert!(!keys.reads_file(), "byte {at} flipped");
            }
        }
        // Cut short, or longer than it says.
        for len in [0, 10, HEADER, pairs_at, good.len() - 1] {
            std::fs::write(&path, &good[..len]).unwrap();
            let keys = SegmentKeys::open(dir.path(), segment, &ECHO_KEYS).unwrap();
            assert!(!keys.reads_file(), "cut at {len}");
            assert_eq!(lookups(&keys), expected, "cut at {len}");
        }
        let mut longer = good.clone();
        longer.push(0);
        std::fs::write(&path, &longer).unwrap();
        assert!(!SegmentKeys::open(dir.path(), segment, &ECHO_KEYS)
            .unwrap()
            .reads_file());
        // Another segment's file, under this segment's name.
        let other = tantivy::index::SegmentId::generate_random();
        let bytes = build(
            &ECHO_KEYS,
            other,
            segment.max_doc(),
            &segment.fast_fields().u64(names::CLAIM_WORDS).unwrap(),
        );
        std::fs::write(&path, &bytes).unwrap();
        let keys = SegmentKeys::open(dir.path(), segment, &ECHO_KEYS).unwrap();
        assert!(!keys.reads_file());
        assert_eq!(pairs(&keys), expected);
        // Gone.
        std::fs::remove_file(&path).unwrap();
        let keys = SegmentKeys::open(dir.path(), segment, &ECHO_KEYS).unwrap();
        assert!(!keys.reads_file());
        assert_eq!(pairs(&keys), expected);
        // The next write run writes it again.
        std::fs::write(&path, &good[..good.len() / 2]).unwrap();
        write_missing(dir.path(), &index, &[&ECHO_KEYS]).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), good);
    }

    /// Each raw text's winnowed shingles, as its page was read, are in its
    /// segment's shingle file; lookups through the file read by range find
    /// the documents the mapped file and the column do, damaged or not.
    #[test]
    fn the_shingle_files_hold_each_raw_texts_shingles_and_reads_by_range_find_them() {
        let (dir, index) = default_corpus_index();
        let fields = Fields::new(&index.schema()).unwrap();
        let searcher = index.reader().unwrap().searcher();
        let mut raw_texts = 0;
        for segment in searcher.segment_readers() {
            let (id, max_doc) = (segment.segment_id(), segment.max_doc());
            let mapped = SegmentKeys::open(dir.path(), segment, &RAW_SHINGLES).unwrap();
            let read = SegmentKeys::open_to_read(dir.path(), segment, &RAW_SHINGLES).unwrap();
            assert!(mapped.reads_file() && read.reads_file(), "{id:?}");
            // The winnowed shingles of each raw text, from its stored text.
            let mut expected = Vec::new();
            let mut texts: BTreeMap<String, Vec<(usize, DocId, String)>> = BTreeMap::new();
            for (doc, record) in stored_records(&fields, segment) {
                if record.kind != crate::model::Kind::Passage {
                    continue;
                }
                let (prefix, n) = record.id.rsplit_once('-').unwrap();
                let n: usize = n.parse().unwrap();
                texts
                    .entry(prefix.to_string())
                    .or_default()
                    .push((n, doc, record.text));
            }
            for mut passages in texts.into_values() {
                passages.sort();
                let first = passages[0].1;
                let paragraphs: Vec<&str> = passages.iter().map(|p| p.2.as_str()).collect();
                let (_, winnowed) = crate::provenance::Haystack::new(&paragraphs).shingle_sets();
                assert!(!winnowed.is_empty());
                expected.extend(winnowed.into_iter().map(|s| (s, first)));
                raw_texts += 1;
            }
            expected.sort_unstable();
            expected.dedup();
            assert_eq!(pairs(&mapped), expected, "{id:?}");
            let lookups = |keys: &SegmentKeys| {
                let found = looked_up(keys, &expected);
                let mut none = Vec::new();
                keys.docs(0x5eed, &mut none);
                assert!(none.is_empty());
                found
            };
            assert_eq!(lookups(&read), expected, "{id:?}");
            assert_eq!(pairs(&read), expected, "{id:?}");
            assert!(read.reads_file());
            // A byte of every bucket flipped: each lookup tells, and the
            // documents come from the column.
            let path = dir.path().join(file_name(&RAW_SHINGLES, id));
            let good = std::fs::read(&path).unwrap();
            let mut damaged = good.clone();
            let layout = Table::check_header(&RAW_SHINGLES, &good, id, max_doc).unwrap();
            for at in (HEADER + layout.directory_len()..good.len()).step_by(7) {
                damaged[at] ^= 0x21;
            }
            std::fs::write(&path, &damaged).unwrap();
            let read = SegmentKeys::open_to_read(dir.path(), segment, &RAW_SHINGLES).unwrap();
            assert_eq!(lookups(&read), expected, "{id:?}");
            assert!(expected.is_empty() || !read.reads_file());
            let read = SegmentKeys::open_to_read(dir.path(), segment, &RAW_SHINGLES).unwrap();
            assert_eq!(pairs(&read), expected, "{id:?}");
            std::fs::write(&path, &good).unwrap();
        }
        assert!(raw_texts >= 3, "{raw_texts}");
    }

    #[test]
    fn a_file_damaged_past_its_header_is_written_again_by_the_next_run() {
        let (dir, index) = default_corpus_index();
        let searcher = index.reader().unwrap().searcher();
        let segment = &searcher.segment_readers()[0];
        let path = dir.path().join(file_name(&ECHO_KEYS, segment.segment_id()));
        let good = std::fs::read(&path).unwrap();
        let mut damaged = good.clone();
        *damaged.last_mut().unwrap() ^= 1;
        std::fs::write(&path, &damaged).unwrap();
        // Its header is right: kept by `save`, found damaged by a full
        // read (the common keys' count), written again.
        let keys = save(dir.path(), &searcher, &ECHO_KEYS).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), damaged);
        keys.iter().for_each(|k| drop(k.frequent(0)));
        repair(dir.path(), &keys).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), good);
    }

    /// A region read forward by pieces gives the bytes asked for, across
    /// pieces, larger than a piece, and asked again; nothing past its end.
    #[test]
    fn pieces_read_a_region_forward() {
        let bytes: Vec<u8> = (0..3 * PIECE + 1000).map(|i| (i * 7 % 251) as u8).collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("region");
        std::fs::write(&path, &bytes).unwrap();
        let file = File::open(&path).unwrap();
        let (at, len) = (100, 3 * PIECE);
        let region = &bytes[at as usize..(at + len) as usize];
        let mut pieces = Pieces::new(&file, at, len);
        let ranges = [
            (0, 10),
            (10, 10),
            (PIECE - 5, PIECE + 5),
            (PIECE + 5, PIECE + 9),
            (PIECE, 3 * PIECE),
            (7, 8),
            (3 * PIECE - 3, 3 * PIECE),
        ];
        for (start, end) in ranges {
            let got = pieces.get(start, end).unwrap();
            assert_eq!(got, &region[start as usize..end as usize], "{start}..{end}");
        }
        assert!(pieces.get(3 * PIECE - 1, 3 * PIECE + 1).is_none());
        assert!(pieces.get(9, 8).is_none());
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
