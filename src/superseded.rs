//! Superseded records: those of a thread version older than the newest
//! version of their thread in the index. Every search hides them unless it
//! asks for all versions, so every process that opens a commit needs them.
//!
//! They are found from the index ([`find`]) and kept beside it, in the file
//! [`FILE`], by the write run that made the commit ([`save`]). A process
//! that opens the index for one search reads that file, a bit a document
//! (190 KB at 100,000 pages), rather than the index: finding them cost a
//! one-shot query about 2 ms at 100,000 pages and grows with the corpus.
//! The file names the segments and deletions it was made for; when it does
//! not match the commit (a run killed before writing it, a copy of another
//! index) or is damaged, they are found from the index again.

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use memmap2::Mmap;

use rustc_hash::FxHashMap;
use tantivy::index::{InvertedIndexReader, SegmentId};
use tantivy::postings::TermInfo;
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocId, DocSet, Searcher, SegmentReader, TERMINATED};

use crate::commit_file::{self, Commit, Input};
use crate::schema;
use crate::storage::SegmentsAlone;

/// The file, in the index folder, that keeps the superseded records of the
/// last commit.
pub(crate) const FILE: &str = "superseded.bin";

const MAGIC: &[u8; 8] = b"CSSUPER2";

/// A set of document ids of one segment, one bit each.
#[derive(Default)]
pub(crate) struct DocBits(Words);

/// The 64-bit words of a [`DocBits`].
enum Words {
    /// Made by this process.
    Made(Vec<u64>),
    /// `len` little-endian words from `start` in a file kept beside the
    /// index, mapped: a process that opens the commit for one search reads
    /// only the pages its matches fall on, and copies none (at 1,000,000
    /// pages the file is 1.9 MB).
    Kept {
        file: Arc<Mmap>,
        start: usize,
        len: usize,
    },
}

impl Default for Words {
    fn default() -> Self {
        Words::Made(Vec::new())
    }
}

impl DocBits {
    /// The set of `docs`, of a segment of `max_doc` documents.
    fn of(docs: impl IntoIterator<Item = DocId>, max_doc: DocId) -> DocBits {
        let mut words = vec![0u64; (max_doc as usize).div_ceil(64)];
        for doc in docs {
            let (word, bit) = (doc as usize / 64, doc % 64);
            if words.len() <= word {
                words.resize(word + 1, 0);
            }
            words[word] |= 1 << bit;
        }
        DocBits(Words::Made(words))
    }

    /// How many words the set has.
    fn len(&self) -> usize {
        match &self.0 {
            Words::Made(words) => words.len(),
            Words::Kept { len, .. } => *len,
        }
    }

    /// Word `i` of the set, if it has one.
    fn word(&self, i: usize) -> Option<u64> {
        match &self.0 {
            Words::Made(words) => words.get(i).copied(),
            Words::Kept { file, start, len } => {
                let at = start + i * 8;
                let bytes = file.get(at..at + 8).filter(|_| i < *len)?;
                Some(u64::from_le_bytes(bytes.try_into().ok()?))
            }
        }
    }

    /// Whether `doc` is in the set.
    pub(crate) fn contains(&self, doc: DocId) -> bool {
        let (word, bit) = (doc as usize / 64, doc % 64);
        self.word(word).is_some_and(|w| w & (1 << bit) != 0)
    }
}

impl PartialEq for DocBits {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && (0..self.len()).all(|i| self.word(i) == other.word(i))
    }
}

impl Eq for DocBits {}

impl std::fmt::Debug for DocBits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let members = (0..self.len()).map(|i| self.word(i).unwrap_or(0).count_ones());
        write!(
            f,
            "DocBits({} of {})",
            members.sum::<u32>(),
            self.len() * 64
        )
    }
}

/// The superseded records of each segment of a commit.
pub(crate) type Superseded = HashMap<SegmentId, Arc<DocBits>>;

/// The superseded records of `searcher`'s commit: from [`FILE`] when it was
/// made for this commit, found from the index otherwise.
pub(crate) fn of_commit(dir: &Path, searcher: &Searcher) -> tantivy::Result<Superseded> {
    match commit_file::read(dir, FILE, MAGIC, searcher, |file, at| {
        decode(file, at, searcher)
    }) {
        Some(kept) => Ok(kept),
        None => find(searcher),
    }
}

/// Finds the superseded records of the commit of the index in `dir`, whose
/// segments are `segments`, and keeps them there in [`FILE`].
pub(crate) fn save(dir: &Path, segments: &SegmentsAlone) -> crate::error::Result<()> {
    // Each segment read through a reader of its own: streaming every
    // segment's thread versions through one searcher kept all their
    // dictionaries and postings mapped at once, the peak of a small
    // `reindex` at 1,000,000 pages (BENCHMARKS.md).
    let field = segments.schema().get_field(schema::names::THREAD_VERSION)?;
    let found = find_in(field, &segments.ids(), |id, each| {
        segments.read(id, |segment| Ok(each(segment)?))
    })?;
    commit_file::save(dir, FILE, MAGIC, segments, &encode(&found, segments))
}

/// Finds the superseded records from the `thread_version` field's term
/// dictionary, one term a thread version: terms are in key order, a
/// thread's versions next to each other, oldest first. Only the postings of
/// older versions are read (and, in a segment with deletions, those needed
/// to tell whether a version still has a record).
pub(crate) fn find(searcher: &Searcher) -> tantivy::Result<Superseded> {
    let field = searcher.schema().get_field(schema::names::THREAD_VERSION)?;
    let ids: Vec<SegmentId> = (searcher.segment_readers().iter())
        .map(|segment| segment.segment_id())
        .collect();
    find_in(field, &ids, |id, each| {
        let segment = (searcher.segment_readers().iter())
            .find(|segment| segment.segment_id() == id)
            .ok_or_else(|| tantivy::TantivyError::InternalError("no such segment".into()))?;
        each(segment)
    })
}

/// [`find`] over the segments `ids` (their thread versions in `field`),
/// each read by `read(id, each)`, twice: once for each thread's newest
/// version, once for the older versions' records. Nothing of a segment is
/// held between the two.
fn find_in<E: From<tantivy::TantivyError>>(
    field: Field,
    ids: &[SegmentId],
    read: impl Fn(SegmentId, &mut dyn FnMut(&SegmentReader) -> tantivy::Result<()>) -> Result<(), E>,
) -> Result<Superseded, E> {
    let mut newest: FxHashMap<u64, u64> = FxHashMap::default();
    for &id in ids {
        read(id, &mut |segment| {
            for (key, _) in versions_of(segment, field)?.1 {
                let entry = newest.entry(schema::thread_of_key(key)).or_insert(key);
                *entry = (*entry).max(key);
            }
            Ok(())
        })?;
    }
    let mut found = HashMap::new();
    for &id in ids {
        read(id, &mut |segment| {
            let (inverted, keys) = versions_of(segment, field)?;
            let mut older = Vec::new();
            for (key, info) in keys {
                if newest.get(&schema::thread_of_key(key)) != Some(&key) {
                    let mut postings =
                        inverted.read_postings_from_terminfo(&info, IndexRecordOption::Basic)?;
                    let mut doc = postings.doc();
                    while doc != TERMINATED {
                        older.push(doc);
                        doc = postings.advance();
                    }
                }
            }
            let older = DocBits::of(older, segment.max_doc());
            found.insert(id, Arc::new(older));
            Ok(())
        })?;
    }
    Ok(found)
}

/// The thread versions of `segment` that still have a record, with where
/// their postings are.
#[allow(clippy::type_complexity)]
fn versions_of(
    segment: &SegmentReader,
    field: Field,
) -> tantivy::Result<(Arc<InvertedIndexReader>, Vec<(u64, TermInfo)>)> {
    let inverted = segment.inverted_index(field)?;
    let mut terms = inverted.terms().stream()?;
    let mut keys = Vec::new();
    while terms.advance() {
        let Ok(bytes) = <[u8; 8]>::try_from(terms.key()) else {
            continue;
        };
        let info = terms.value().clone();
        if segment.alive_bitset().is_some() && !has_alive(segment, &inverted, &info)? {
            continue;
        }
        keys.push((u64::from_be_bytes(bytes), info));
    }
    Ok((inverted, keys))
}

/// Whether any document of the term `info` is alive in `segment`.
fn has_alive(
    segment: &SegmentReader,
    inverted: &InvertedIndexReader,
    info: &TermInfo,
) -> tantivy::Result<bool> {
    let mut postings = inverted.read_postings_from_terminfo(info, IndexRecordOption::Basic)?;
    let mut doc = postings.doc();
    while doc != TERMINATED {
        if !segment.is_deleted(doc) {
            return Ok(true);
        }
        doc = postings.advance();
    }
    Ok(false)
}

/// For each segment of `commit`, in its order, the number of 64-bit
/// words of its set and the words (little endian).
fn encode(found: &Superseded, commit: &impl Commit) -> Vec<u8> {
    let mut out = Vec::new();
    for segment in commit.segments() {
        let empty = DocBits::default();
        let bits = found.get(&segment.id).map_or(&empty, |b| b);
        out.extend_from_slice(&(bits.len() as u32).to_le_bytes());
        for i in 0..bits.len() {
            out.extend_from_slice(&bits.word(i).unwrap_or(0).to_le_bytes());
        }
    }
    out
}

/// The sets kept in `file` at `at` (made for `searcher`'s commit), if
/// whole: each a view of the file, not a copy.
fn decode(file: &Arc<Mmap>, at: Range<usize>, searcher: &Searcher) -> Option<Superseded> {
    let contents = file.get(at.clone())?;
    let mut input = Input(contents);
    let mut kept = HashMap::new();
    for segment in searcher.segment_readers() {
        let words = input.u32()? as usize;
        if words > (segment.max_doc() as usize).div_ceil(64) {
            return None;
        }
        let start = at.start + (contents.len() - input.0.len());
        input.take(words * 8)?;
        let bits = Words::Kept {
            file: Arc::clone(file),
            start,
            len: words,
        };
        kept.insert(segment.segment_id(), Arc::new(DocBits(bits)));
    }
    input.0.is_empty().then_some(kept)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::indexer::NoMergePolicy;
    use tantivy::schema::Term;
    use tantivy::{doc, Index, IndexWriter};

    /// The superseded records of `index`'s last commit, as (key, document).
    fn listed(index: &Index, found: &Superseded) -> Vec<(u64, DocId)> {
        let searcher = index.reader().unwrap().searcher();
        let mut listed = Vec::new();
        for segment in searcher.segment_readers() {
            let column = (segment.fast_fields())
                .u64(schema::names::THREAD_VERSION)
                .unwrap();
            for doc in 0..segment.max_doc() {
                if found[&segment.segment_id()].contains(doc) {
                    listed.push((column.first(doc).unwrap(), doc));
                }
            }
        }
        listed.sort();
        listed
    }

    /// The sets a whole file `bytes` keeps for `searcher`'s commit.
    fn kept(bytes: &[u8], searcher: &Searcher) -> Option<Superseded> {
        let contents = commit_file::decode(MAGIC, bytes, searcher)?;
        let start = contents.as_ptr() as usize - bytes.as_ptr() as usize;
        let mut map = memmap2::MmapMut::map_anon(bytes.len().max(1)).unwrap();
        map[..bytes.len()].copy_from_slice(bytes);
        let file = Arc::new(map.make_read_only().unwrap());
        decode(&file, start..start + contents.len(), searcher)
    }

    fn found(index: &Index) -> Vec<(u64, DocId)> {
        listed(index, &find(&index.reader().unwrap().searcher()).unwrap())
    }

    fn key(thread: &str, version: u32) -> u64 {
        schema::thread_version_key(thread, version)
    }

    fn index_with_versions() -> (Index, IndexWriter, Field) {
        with_versions(Index::create_in_ram(schema::build()))
    }

    fn with_versions(index: Index) -> (Index, IndexWriter, Field) {
        crate::analyzer::register_analyzers(&index);
        let field = index
            .schema()
            .get_field(schema::names::THREAD_VERSION)
            .unwrap();
        let mut writer: IndexWriter = index.writer(15_000_000).unwrap();
        writer.set_merge_policy(Box::new(NoMergePolicy));
        for k in [key("T", 1), key("T", 1), key("T", 2), key("U", 1)] {
            writer.add_document(doc!(field => k)).unwrap();
        }
        writer.commit().unwrap();
        (index, writer, field)
    }

    #[test]
    fn older_versions_are_superseded_across_segments_and_a_deleted_newest_does_not_count() {
        let (index, mut writer, field) = index_with_versions();
        assert_eq!(found(&index), [(key("T", 1), 0), (key("T", 1), 1)]);

        // The newest version's records deleted: the one before is newest again.
        writer.delete_term(Term::from_field_u64(field, key("T", 2)));
        writer.commit().unwrap();
        assert_eq!(found(&index), []);

        // A newer version in another segment supersedes the first segment's.
        writer.add_document(doc!(field => key("T", 3))).unwrap();
        writer.commit().unwrap();
        assert_eq!(found(&index), [(key("T", 1), 0), (key("T", 1), 1)]);
    }

    #[test]
    fn the_kept_file_is_read_for_its_own_commit_only() {
        let dir = tempfile::tempdir().unwrap();
        let index = Index::create_in_dir(dir.path(), schema::build()).unwrap();
        let (index, mut writer, field) = with_versions(index);
        let searcher = index.reader().unwrap().searcher();
        save(dir.path(), &SegmentsAlone::open(dir.path()).unwrap()).unwrap();
        let bytes = std::fs::read(dir.path().join(FILE)).unwrap();
        assert_eq!(kept(&bytes, &searcher), Some(find(&searcher).unwrap()));
        assert_eq!(
            of_commit(dir.path(), &searcher).unwrap(),
            find(&searcher).unwrap()
        );
        // The file, not the index, is what a search reads for its commit.
        let none = encode(&Superseded::new(), &searcher);
        commit_file::save(dir.path(), FILE, MAGIC, &searcher, &none).unwrap();
        assert_eq!(
            listed(&index, &of_commit(dir.path(), &searcher).unwrap()),
            []
        );
        assert_ne!(found(&index), []);
        commit_file::save(
            dir.path(),
            FILE,
            MAGIC,
            &searcher,
            &encode(&find(&searcher).unwrap(), &searcher),
        )
        .unwrap();

        // Deletions or a new segment make it another commit's file.
        writer.delete_term(Term::from_field_u64(field, key("T", 2)));
        writer.commit().unwrap();
        let deleted = index.reader().unwrap().searcher();
        assert_eq!(kept(&bytes, &deleted), None);
        assert_eq!(
            listed(&index, &of_commit(dir.path(), &deleted).unwrap()),
            []
        );
        // Written from the list of the commit's segments, which opens none,
        // the file is read for a searcher of that commit, deletions and all.
        save(dir.path(), &SegmentsAlone::open(dir.path()).unwrap()).unwrap();
        let again = std::fs::read(dir.path().join(FILE)).unwrap();
        assert_eq!(kept(&again, &deleted), Some(find(&deleted).unwrap()));
        writer.add_document(doc!(field => key("T", 3))).unwrap();
        writer.commit().unwrap();
        assert_eq!(kept(&bytes, &index.reader().unwrap().searcher()), None);
    }

    #[test]
    fn a_damaged_or_cut_file_is_not_read() {
        let (index, _writer, _) = index_with_versions();
        let searcher = index.reader().unwrap().searcher();
        let contents = encode(&find(&searcher).unwrap(), &searcher);
        let bytes = commit_file::encode(MAGIC, &searcher, &contents);
        assert!(kept(&bytes, &searcher).is_some());
        for at in [0, 10, bytes.len() / 2, bytes.len() - 1] {
            let mut damaged = bytes.clone();
            damaged[at] ^= 1;
            assert_eq!(kept(&damaged, &searcher), None, "byte {at} flipped");
        }
        for len in [0, 31, 32, bytes.len() - 1] {
            assert_eq!(kept(&bytes[..len], &searcher), None, "cut at {len}");
        }
    }
}
