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
//! of a record is that common (see `query/echoes.rs`).
//!
//! Which keys are that common depends on the whole commit: the write run
//! finds them once and keeps them in `common-keys.bin` beside the index; a
//! process that opens the commit reads that file, and finds them from the
//! index only when the file is not this commit's.

use std::path::Path;

use rayon::prelude::*;
use tantivy::schema::{IndexRecordOption, Term};
use tantivy::{DocSet, Searcher, TERMINATED};

use crate::commit_file::{self, Input};
use crate::schema;

/// The file, in the index folder, that keeps the common keys of the last
/// commit.
pub(crate) const FILE: &str = "common-keys.bin";

const MAGIC: &[u8; 8] = b"CSCOMMK2";

/// A key held by more alive records than this is too common to find
/// echoes by. It bounds what one key costs a search (a record's keys are
/// ten), whatever the size of the corpus.
pub const LIMIT: u32 = 1_000;

/// The common keys of a commit, sorted, each with the number of alive
/// records that hold it.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct CommonKeys(Vec<(u64, u64)>);

impl CommonKeys {
    /// How many alive records hold `key`, if it is common.
    fn held(&self, key: u64) -> Option<u64> {
        let at = self.0.binary_search_by_key(&key, |&(k, _)| k).ok()?;
        Some(self.0[at].1)
    }

    /// Whether `key` is common.
    pub(crate) fn contains(&self, key: u64) -> bool {
        self.held(key).is_some()
    }

    /// The keys a record whose lookup keys are `keys` finds echoes by in
    /// this commit: those that are not common. When every one is, the one
    /// held by the fewest records (the smallest key among equals), and
    /// [`Lookup::all_common`]: such a record takes only records whose keys
    /// are all common too and which look up by the same key. So two
    /// records are looked up by each other exactly when they share a key
    /// both look up by, and a record whose every key is common costs one
    /// key's records, not ten.
    pub(crate) fn lookup(&self, keys: Vec<u64>) -> Lookup {
        match self.rarest_if_all_common(&keys) {
            Some(rarest) => Lookup {
                keys: vec![rarest],
                all_common: true,
            },
            None => Lookup {
                keys: keys.into_iter().filter(|&k| !self.contains(k)).collect(),
                all_common: false,
            },
        }
    }

    /// The key a record whose lookup keys are `keys` looks up by when every
    /// one of them is common ([`CommonKeys::lookup`]); `None` when one is not.
    pub(crate) fn rarest_if_all_common(&self, keys: &[u64]) -> Option<u64> {
        let held: Option<Vec<(u64, u64)>> =
            keys.iter().map(|&k| Some((self.held(k)?, k))).collect();
        held?.into_iter().min().map(|(_, k)| k)
    }
}

/// The keys a record finds echoes by ([`CommonKeys::lookup`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Lookup {
    /// The keys looked up.
    pub keys: Vec<u64>,
    /// Every key of the record is common: it looks up by the rarest one
    /// only, and takes only records that look up by the same key.
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

/// The keys held by more than `limit` alive records of `searcher`'s commit.
///
/// A key held by more than `limit` records is held by more than `limit / n`
/// in one of the `n` segments at least: each segment's term dictionary is
/// walked (segments in parallel) for the keys it holds more often than
/// that, and only those keys are counted in every segment. A key's
/// document frequency counts deleted records too, so in a segment with
/// deletions its records are counted one by one.
pub(crate) fn find(searcher: &Searcher, limit: u32) -> tantivy::Result<CommonKeys> {
    let field = searcher.schema().get_field(schema::names::CLAIM_KEY)?;
    let segments = searcher.segment_readers();
    let floor = limit / segments.len().max(1) as u32;
    let frequent = (segments.par_iter())
        .map(|segment| {
            let inverted = segment.inverted_index(field)?;
            let mut terms = inverted.terms().stream()?;
            let mut found = Vec::new();
            while terms.advance() {
                if terms.value().doc_freq > floor {
                    if let Ok(bytes) = <[u8; 8]>::try_from(terms.key()) {
                        found.push(u64::from_be_bytes(bytes));
                    }
                }
            }
            Ok(found)
        })
        .collect::<tantivy::Result<Vec<Vec<u64>>>>()?;
    let mut candidates: Vec<u64> = frequent.concat();
    candidates.sort_unstable();
    candidates.dedup();
    // Each candidate's alive records, added up over the segments.
    let count = |segment: &tantivy::SegmentReader, totals: &mut [u64]| -> tantivy::Result<()> {
        let inverted = segment.inverted_index(field)?;
        for (total, &key) in totals.iter_mut().zip(&candidates) {
            let term = Term::from_field_u64(field, key);
            let Some(info) = inverted.get_term_info(&term)? else {
                continue;
            };
            if segment.alive_bitset().is_none() {
                *total += u64::from(info.doc_freq);
                continue;
            }
            let mut postings =
                inverted.read_postings_from_terminfo(&info, IndexRecordOption::Basic)?;
            let mut doc = postings.doc();
            while doc != TERMINATED {
                *total += u64::from(!segment.is_deleted(doc));
                doc = postings.advance();
            }
        }
        Ok(())
    };
    let totals = (segments.par_iter())
        .try_fold(
            || vec![0u64; candidates.len()],
            |mut totals, segment| count(segment, &mut totals).map(|()| totals),
        )
        .try_reduce(
            || vec![0u64; candidates.len()],
            |mut a, b| {
                a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
                Ok(a)
            },
        )?;
    let common = (candidates.into_iter().zip(totals))
        .filter(|&(_, total)| total > u64::from(limit))
        .collect();
    Ok(CommonKeys(common))
}

/// The [`LIMIT`] they were found with, the number of keys, then each key
/// and its number of records (little endian).
fn encode(keys: &CommonKeys) -> Vec<u8> {
    let mut out = LIMIT.to_le_bytes().to_vec();
    out.extend_from_slice(&(keys.0.len() as u64).to_le_bytes());
    for (key, held) in &keys.0 {
        out.extend_from_slice(&key.to_le_bytes());
        out.extend_from_slice(&held.to_le_bytes());
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
    if n.checked_mul(16)? != input.0.len() {
        return None;
    }
    let keys: Vec<(u64, u64)> = (0..n)
        .map(|_| Some((input.u64()?, input.u64()?)))
        .collect::<Option<_>>()?;
    keys.is_sorted_by(|a, b| a.0 < b.0)
        .then_some(CommonKeys(keys))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::indexer::NoMergePolicy;
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

    fn found(index: &Index, limit: u32) -> Vec<(u64, u64)> {
        find(&index.reader().unwrap().searcher(), limit).unwrap().0
    }

    #[test]
    fn keys_held_by_more_alive_records_than_the_limit_across_segments() {
        let (_dir, index, mut writer) = index();
        assert_eq!(
            index.reader().unwrap().searcher().segment_readers().len(),
            2
        );
        assert_eq!(found(&index, 2), [(1, 5), (2, 3)]);
        assert_eq!(found(&index, 3), [(1, 5)]);
        assert_eq!(found(&index, 5), []);

        // Deleted records do not count: key 2 drops to none, key 1 to 2.
        let field = index.schema().get_field(schema::names::CLAIM_KEY).unwrap();
        writer.delete_term(Term::from_field_u64(field, 2));
        writer.commit().unwrap();
        assert_eq!(found(&index, 1), [(1, 2)]);
        assert_eq!(found(&index, 2), []);
    }

    #[test]
    fn a_record_looks_up_by_its_rare_keys_or_by_the_rarest_when_none_is_rare() {
        // Key 1 held by 5,000 records, 2 and 5 by 2,000 each.
        let common = CommonKeys(vec![(1, 5_000), (2, 2_000), (5, 2_000)]);
        let lookup = |keys: &[u64]| {
            let found = common.lookup(keys.to_vec());
            (found.keys, found.all_common)
        };
        assert_eq!(lookup(&[1, 2, 3]), (vec![3], false));
        assert_eq!(lookup(&[3, 4]), (vec![3, 4], false));
        assert_eq!(lookup(&[]), (vec![], false));
        assert_eq!(lookup(&[1, 2]), (vec![2], true));
        assert_eq!(lookup(&[5, 1, 2]), (vec![2], true));
        assert_eq!(common.rarest_if_all_common(&[1, 5]), Some(5));
        assert_eq!(common.rarest_if_all_common(&[1, 3]), None);
        assert_eq!(common.rarest_if_all_common(&[]), None);
    }

    #[test]
    fn the_kept_file_is_read_for_its_own_commit_only_and_whole() {
        let (dir, index, mut writer) = index();
        let searcher = index.reader().unwrap().searcher();
        let keys = CommonKeys(vec![(1, 3), (2, 2)]);
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
