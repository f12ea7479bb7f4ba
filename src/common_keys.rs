//! Echo lookup keys too common to tell claims apart.
//!
//! A lookup key ([`crate::echo::keys`]) is a pair of a record's content
//! words. Most keys are held by a few records, but a pair of words that
//! many records share, such as the two fixed words of a sentence frame
//! written again and again with other subjects ("X promised to Y. That
//! promise has not been kept…"), is held by thousands: records found
//! through it are mostly other claims in the same frame, and finding them
//! costs every search in proportion to the corpus. Like the stop words of
//! a text index, or the over-full buckets that near-duplicate detection
//! drops, a key held by more than [`LIMIT`] records of a commit (alive
//! ones: deleted records do not count, so a `reindex` and a clean `index`
//! of the same corpus agree) is not used to find echoes, unless every key
//! of a record is that common (see [`crate::query::echoes`]).
//!
//! Which keys are that common depends on the whole commit: the write run
//! finds them once ([`save`]) and keeps them in [`FILE`] beside the index;
//! a process that opens the commit reads that file ([`of_commit`]), and
//! finds them from the index only when the file is not this commit's.

use std::path::Path;

use tantivy::schema::IndexRecordOption;
use tantivy::termdict::TermMerger;
use tantivy::{DocSet, Searcher, TERMINATED};

use crate::commit_file::{self, Input};
use crate::schema;

/// The file, in the index folder, that keeps the common keys of the last
/// commit.
pub(crate) const FILE: &str = "common-keys.bin";

const MAGIC: &[u8; 8] = b"CSCOMMK1";

/// A key held by more alive records than this is too common to find
/// echoes by. It bounds what one key costs a search (a record's keys are
/// ten), whatever the size of the corpus.
pub const LIMIT: u32 = 1_000;

/// The common keys of a commit, sorted.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct CommonKeys(Vec<u64>);

impl CommonKeys {
    /// Whether `key` is one of them.
    pub(crate) fn contains(&self, key: u64) -> bool {
        self.0.binary_search(&key).is_ok()
    }

    /// The keys a record whose lookup keys are `keys` finds echoes by in
    /// this commit: those that are not common; all of them when every one
    /// is. Two records are looked up by each other exactly when they share
    /// a key both look up by: a key common in the commit is looked up only
    /// by records whose keys all are, and such a record takes only records
    /// like it ([`Lookup::all_common`]).
    pub(crate) fn lookup(&self, keys: Vec<u64>) -> Lookup {
        let rare: Vec<u64> = keys
            .iter()
            .copied()
            .filter(|&k| !self.contains(k))
            .collect();
        if rare.is_empty() && !keys.is_empty() {
            Lookup {
                keys,
                all_common: true,
            }
        } else {
            Lookup {
                keys: rare,
                all_common: false,
            }
        }
    }

    /// Whether every one of `keys` (at least one) is common.
    pub(crate) fn all_common(&self, keys: &[u64]) -> bool {
        !keys.is_empty() && keys.iter().all(|&k| self.contains(k))
    }
}

/// The keys a record finds echoes by ([`CommonKeys::lookup`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Lookup {
    /// The keys looked up.
    pub keys: Vec<u64>,
    /// Every key of the record is common: it is looked up by them all, and
    /// takes as echoes only records whose keys are all common too.
    pub all_common: bool,
}

/// The common keys of `searcher`'s commit: from [`FILE`] when it was made
/// for this commit, found from the index otherwise.
pub(crate) fn of_commit(searcher: &Searcher) -> tantivy::Result<CommonKeys> {
    if let Some(contents) = commit_file::read(FILE, MAGIC, searcher) {
        if let Some(kept) = decode(&contents) {
            return Ok(kept);
        }
    }
    find(searcher, LIMIT)
}

/// Finds the common keys of `searcher`'s commit, the commit of the index in
/// `dir`, and keeps them there in [`FILE`].
pub(crate) fn save(dir: &Path, searcher: &Searcher) -> crate::error::Result<()> {
    let found = find(searcher, LIMIT)?;
    commit_file::save(dir, FILE, MAGIC, searcher, &encode(&found))
}

/// The keys held by more than `limit` alive records of `searcher`'s commit:
/// the `claim_key` term dictionaries of all segments walked together, in
/// key order. A key's document frequencies count deleted records too, so
/// only a key that passes `limit` by them, in a commit with deletions, has
/// its records counted one by one.
pub(crate) fn find(searcher: &Searcher, limit: u32) -> tantivy::Result<CommonKeys> {
    let field = searcher.schema().get_field(schema::names::CLAIM_KEY)?;
    let segments = searcher.segment_readers();
    let inverted = (segments.iter())
        .map(|segment| segment.inverted_index(field))
        .collect::<tantivy::Result<Vec<_>>>()?;
    let streams = (inverted.iter())
        .map(|index| index.terms().stream())
        .collect::<std::io::Result<Vec<_>>>()?;
    let mut merged = TermMerger::new(streams);
    let mut common = Vec::new();
    while merged.advance() {
        let Ok(bytes) = <[u8; 8]>::try_from(merged.key()) else {
            continue;
        };
        let held: Vec<_> = merged.current_segment_ords_and_term_infos().collect();
        let frequency: u64 = held.iter().map(|(_, info)| u64::from(info.doc_freq)).sum();
        if frequency <= u64::from(limit) {
            continue;
        }
        let mut alive = 0u64;
        for (ordinal, info) in &held {
            let segment = &segments[*ordinal];
            if segment.alive_bitset().is_none() {
                alive += u64::from(info.doc_freq);
                continue;
            }
            let mut postings =
                inverted[*ordinal].read_postings_from_terminfo(info, IndexRecordOption::Basic)?;
            let mut doc = postings.doc();
            while doc != TERMINATED && alive <= u64::from(limit) {
                alive += u64::from(!segment.is_deleted(doc));
                doc = postings.advance();
            }
            if alive > u64::from(limit) {
                break;
            }
        }
        if alive > u64::from(limit) {
            common.push(u64::from_be_bytes(bytes));
        }
    }
    Ok(CommonKeys(common))
}

/// The [`LIMIT`] they were found with, the number of keys, then the keys
/// (little endian).
fn encode(keys: &CommonKeys) -> Vec<u8> {
    let mut out = LIMIT.to_le_bytes().to_vec();
    out.extend_from_slice(&(keys.0.len() as u64).to_le_bytes());
    for key in &keys.0 {
        out.extend_from_slice(&key.to_le_bytes());
    }
    out
}

/// The keys kept in `contents`, if whole, sorted, and found with the
/// [`LIMIT`] in use.
fn decode(contents: &[u8]) -> Option<CommonKeys> {
    let mut input = Input(contents);
    if input.u32()? != LIMIT {
        return None;
    }
    let n = usize::try_from(input.u64()?).ok()?;
    if n.checked_mul(8)? != input.0.len() {
        return None;
    }
    let keys: Vec<u64> = (0..n).map(|_| input.u64()).collect::<Option<_>>()?;
    keys.is_sorted_by(|a, b| a < b).then_some(CommonKeys(keys))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::indexer::NoMergePolicy;
    use tantivy::schema::Term;
    use tantivy::{doc, Index, IndexWriter};

    /// Keys 1 (5 records), 2 (3) and 3 (1), over two segments.
    fn index() -> (tempfile::TempDir, Index, IndexWriter) {
        let dir = tempfile::tempdir().unwrap();
        let index = Index::create_in_dir(dir.path(), schema::build()).unwrap();
        crate::analyzer::register_analyzers(&index);
        let field = index.schema().get_field(schema::names::CLAIM_KEY).unwrap();
        let mut writer: IndexWriter = index.writer(15_000_000).unwrap();
        writer.set_merge_policy(Box::new(NoMergePolicy));
        for keys in [[1u64, 2], [1, 2], [1, 3]] {
            writer
                .add_document(doc!(field => keys[0], field => keys[1]))
                .unwrap();
        }
        writer.commit().unwrap();
        for keys in [[1u64, 2], [1, 4]] {
            writer
                .add_document(doc!(field => keys[0], field => keys[1]))
                .unwrap();
        }
        writer.commit().unwrap();
        (dir, index, writer)
    }

    fn found(index: &Index, limit: u32) -> Vec<u64> {
        find(&index.reader().unwrap().searcher(), limit).unwrap().0
    }

    #[test]
    fn keys_held_by_more_alive_records_than_the_limit_across_segments() {
        let (_dir, index, mut writer) = index();
        assert_eq!(
            index.reader().unwrap().searcher().segment_readers().len(),
            2
        );
        assert_eq!(found(&index, 2), [1, 2]);
        assert_eq!(found(&index, 3), [1]);
        assert_eq!(found(&index, 5), Vec::<u64>::new());

        // Deleted records do not count: key 2 drops to none, key 1 to 2.
        let field = index.schema().get_field(schema::names::CLAIM_KEY).unwrap();
        writer.delete_term(Term::from_field_u64(field, 2));
        writer.commit().unwrap();
        assert_eq!(found(&index, 1), [1]);
        assert_eq!(found(&index, 2), Vec::<u64>::new());
    }

    #[test]
    fn a_record_looks_up_by_its_rare_keys_or_by_all_when_none_is_rare() {
        let common = CommonKeys(vec![1, 2]);
        let lookup = |keys: &[u64]| {
            let found = common.lookup(keys.to_vec());
            (found.keys, found.all_common)
        };
        assert_eq!(lookup(&[1, 2, 3]), (vec![3], false));
        assert_eq!(lookup(&[1, 2]), (vec![1, 2], true));
        assert_eq!(lookup(&[3, 4]), (vec![3, 4], false));
        assert_eq!(lookup(&[]), (vec![], false));
        assert!(common.all_common(&[2, 1]));
        assert!(!common.all_common(&[1, 3]));
        assert!(!common.all_common(&[]));
    }

    #[test]
    fn the_kept_file_is_read_for_its_own_commit_only_and_whole() {
        let (dir, index, mut writer) = index();
        let searcher = index.reader().unwrap().searcher();
        let keys = CommonKeys(vec![1, 2]);
        let bytes = commit_file::encode(MAGIC, &searcher, &encode(&keys));
        let kept = |bytes: &[u8], searcher: &Searcher| {
            decode(commit_file::decode(MAGIC, bytes, searcher)?)
        };
        assert_eq!(kept(&bytes, &searcher), Some(keys));
        for at in [0, 10, bytes.len() - 40, bytes.len() - 1] {
            let mut damaged = bytes.clone();
            damaged[at] ^= 1;
            assert_eq!(kept(&damaged, &searcher), None, "byte {at} flipped");
        }
        for len in [0, 31, 32, bytes.len() - 1] {
            assert_eq!(kept(&bytes[..len], &searcher), None, "cut at {len}");
        }
        // Another commit's file is not read: its keys are found again.
        save(dir.path(), &searcher).unwrap();
        assert_eq!(
            of_commit(&searcher).unwrap(),
            find(&searcher, LIMIT).unwrap()
        );
        let field = index.schema().get_field(schema::names::CLAIM_KEY).unwrap();
        writer.delete_term(Term::from_field_u64(field, 3));
        writer.commit().unwrap();
        let after = index.reader().unwrap().searcher();
        assert_eq!(kept(&bytes, &after), None);
    }
}
