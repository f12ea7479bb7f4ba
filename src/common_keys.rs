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

use std::sync::Arc;

use rayon::prelude::*;
use tantivy::Searcher;

use crate::commit_file::{self, Input};
use crate::key_index::SegmentKeys;

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
        let keys = &self.0;
        let n = keys.len();
        // Keys are hashes, spread evenly over the 64-bit range: each sits
        // near its share of the list. The search starts there and widens
        // until it brackets the key, reading a few neighbouring cache lines
        // where halving the whole list (20,000 keys at 1,000,000 pages)
        // read fifteen far apart, for each key of each record an echo
        // search reads (BENCHMARKS.md). Any order of keys is still found.
        let guess = ((u128::from(key) * n as u128) >> 64) as usize;
        let (mut lo, mut step) = (guess, 4);
        while lo > 0 && keys[lo - 1].0 >= key {
            lo = lo.saturating_sub(step);
            step *= 2;
        }
        let (mut hi, mut step) = (guess, 4);
        while hi < n && keys[hi].0 <= key {
            hi = (hi + step).min(n);
            step *= 2;
        }
        let at = keys[lo..hi].binary_search_by_key(&key, |&(k, _)| k).ok()?;
        Some(keys[lo + at].1)
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

    /// Whether a record whose lookup keys are `keys` looks up by `key`
    /// alone: every one of them is common and `key`, one of them, is the
    /// rarest ([`CommonKeys::lookup`]), as `rarest_if_all_common(keys) ==
    /// Some(key)`, told from the first key that is not common or rarer.
    pub(crate) fn looks_up_by(&self, keys: &[u64], key: u64) -> bool {
        let Some(held) = self.held(key) else {
            return false;
        };
        let mut has_key = false;
        for &k in keys {
            match self.held(k) {
                Some(h) if (h, k) >= (held, key) => has_key |= k == key,
                _ => return false,
            }
        }
        has_key
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
/// for this commit, found from the keys of its segments (`keys()`, in the
/// searcher's order) otherwise.
pub(crate) fn of_commit(
    dir: &Path,
    searcher: &Searcher,
    keys: impl FnOnce() -> tantivy::Result<Vec<Arc<SegmentKeys>>>,
) -> tantivy::Result<CommonKeys> {
    if let Some(kept) = commit_file::read(dir, FILE, MAGIC, searcher, |file, at| decode(&file[at]))
    {
        return Ok(kept);
    }
    Ok(find(searcher, &keys()?, LIMIT))
}

/// Finds the common keys of `searcher`'s commit, the commit of the index in
/// `dir` whose segments' keys are `keys`, and keeps them there in [`FILE`].
pub(crate) fn save(
    dir: &Path,
    searcher: &Searcher,
    keys: &[Arc<SegmentKeys>],
) -> crate::error::Result<()> {
    let found = find(searcher, keys, LIMIT);
    commit_file::save(dir, FILE, MAGIC, searcher, &encode(&found))
}

/// The keys held by more than `limit` alive records of `searcher`'s commit,
/// whose segments' keys are `keys` (in the searcher's order).
///
/// A key held by more than `limit` records is held by more than `limit / n`
/// in one of the `n` segments at least: each segment's keys are walked
/// (segments in parallel) for those it holds more often than that, and
/// only those keys are counted in every segment, their records one by one
/// in a segment with deletions.
pub(crate) fn find(searcher: &Searcher, keys: &[Arc<SegmentKeys>], limit: u32) -> CommonKeys {
    let segments = searcher.segment_readers();
    let floor = limit / segments.len().max(1) as u32;
    // Merged as they come: segments share most of their frequent keys, so
    // each segment's list held until all were found added up to several
    // times their union at 1,000,000 pages.
    let candidates = (keys.par_iter())
        .map(|k| k.frequent(floor))
        .reduce(Vec::new, union);
    // Each candidate's alive records, added up over the segments.
    let count = |(segment, keys): (&tantivy::SegmentReader, &Arc<SegmentKeys>)| {
        let mut totals = vec![0u64; candidates.len()];
        let mut docs = Vec::new();
        for (total, &key) in totals.iter_mut().zip(&candidates) {
            docs.clear();
            keys.docs(key, &mut docs);
            *total = (docs.iter())
                .filter(|&&doc| !segment.is_deleted(doc))
                .count() as u64;
        }
        keys.release();
        totals
    };
    let totals = (segments.par_iter().zip(keys)).map(count).reduce(
        || vec![0u64; candidates.len()],
        |mut a, b| {
            a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
            a
        },
    );
    let common = (candidates.into_iter().zip(totals))
        .filter(|&(_, total)| total > u64::from(limit))
        .collect();
    CommonKeys(common)
}

/// The keys of two sorted lists of distinct keys, sorted, each once.
fn union(a: Vec<u64>, b: Vec<u64>) -> Vec<u64> {
    let mut both = Vec::with_capacity(a.len() + b.len());
    let (mut a, mut b) = (a.into_iter().peekable(), b.into_iter().peekable());
    loop {
        let next = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) if x < y => a.next(),
            (Some(x), Some(y)) if x > y => b.next(),
            (Some(_), Some(_)) => {
                b.next();
                a.next()
            }
            (Some(_), None) => a.next(),
            (None, _) => b.next(),
        };
        match next {
            Some(key) => both.push(key),
            None => return both,
        }
    }
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
    use crate::echo::keys::keys_of_words;
    use crate::schema::{self, Fields};
    use tantivy::indexer::NoMergePolicy;
    use tantivy::{Index, IndexWriter, TantivyDocument};

    /// Records of three claims' words, whose keys are those of `A` (5
    /// records), `B` (3) and `C` (1), over two segments, each with a path
    /// to delete it by.
    const A: [u64; 3] = [11, 12, 13];
    const B: [u64; 3] = [21, 22, 23];
    const C: [u64; 3] = [31, 32, 33];

    fn index() -> (tempfile::TempDir, Index, IndexWriter) {
        let dir = tempfile::tempdir().unwrap();
        let index = Index::create_in_dir(dir.path(), schema::build()).unwrap();
        crate::analyzer::register_analyzers(&index);
        let fields = Fields::new(&index.schema()).unwrap();
        let mut writer: IndexWriter = index.writer(15_000_000).unwrap();
        writer.set_merge_policy(Box::new(NoMergePolicy));
        let segments: [&[(&[u64; 3], &str)]; 2] = [
            &[(&A, "a"), (&A, "a-gone"), (&B, "b"), (&B, "b"), (&C, "c")],
            &[(&A, "a"), (&A, "a-gone"), (&A, "a-gone"), (&B, "b")],
        ];
        for records in segments {
            for (words, path) in records {
                let mut doc = TantivyDocument::default();
                words
                    .iter()
                    .for_each(|&w| doc.add_u64(fields.claim_words, w));
                doc.add_text(fields.path, path);
                writer.add_document(doc).unwrap();
            }
            writer.commit().unwrap();
        }
        (dir, index, writer)
    }

    /// The keys of each segment of `searcher`, computed from the column.
    fn segment_keys(searcher: &Searcher) -> Vec<Arc<SegmentKeys>> {
        let nowhere = std::path::Path::new("/nonexistent");
        (searcher.segment_readers().iter())
            .map(|s| Arc::new(SegmentKeys::open(nowhere, s, &crate::key_index::ECHO_KEYS).unwrap()))
            .collect()
    }

    fn found(index: &Index, limit: u32) -> Vec<(u64, u64)> {
        let searcher = index.reader().unwrap().searcher();
        find(&searcher, &segment_keys(&searcher), limit).0
    }

    /// The keys of `words`, each held by `held` records, sorted.
    fn held(groups: &[(&[u64; 3], u64)]) -> Vec<(u64, u64)> {
        let mut keys: Vec<(u64, u64)> = (groups.iter())
            .flat_map(|(words, held)| {
                let words: Vec<u32> = words.iter().map(|&w| w as u32).collect();
                keys_of_words(&words).into_iter().map(move |k| (k, *held))
            })
            .collect();
        keys.sort_unstable();
        keys
    }

    #[test]
    fn a_union_of_sorted_keys_is_sorted_and_holds_each_once() {
        assert_eq!(union(vec![], vec![]), Vec::<u64>::new());
        assert_eq!(union(vec![2, 5], vec![]), vec![2, 5]);
        assert_eq!(union(vec![], vec![1]), vec![1]);
        assert_eq!(
            union(vec![1, 4, 9], vec![2, 4, 10, 11]),
            vec![1, 2, 4, 9, 10, 11]
        );
        assert_eq!(
            union(vec![3, u64::MAX], vec![0, 3, u64::MAX]),
            vec![0, 3, u64::MAX]
        );
    }

    #[test]
    fn keys_held_by_more_alive_records_than_the_limit_across_segments() {
        let (_dir, index, mut writer) = index();
        assert_eq!(
            index.reader().unwrap().searcher().segment_readers().len(),
            2
        );
        assert_eq!(held(&[(&A, 5)]).len(), 3);
        assert_eq!(found(&index, 2), held(&[(&A, 5), (&B, 3)]));
        assert_eq!(found(&index, 3), held(&[(&A, 5)]));
        assert_eq!(found(&index, 5), []);

        // Deleted records do not count: B's keys drop to none, A's to 2.
        let fields = Fields::new(&index.schema()).unwrap();
        for path in ["b", "a-gone"] {
            writer.delete_term(schema::path_term(&fields, path));
        }
        writer.commit().unwrap();
        assert_eq!(found(&index, 1), held(&[(&A, 2)]));
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
        // Found wherever the keys lie in the range.
        let mut next = 0x9E37_79B9_7F4A_7C15_u64;
        for spread in [u64::MAX, u64::MAX >> 40, 1 << 20] {
            let mut keys: Vec<(u64, u64)> = (0..3_000)
                .map(|i| {
                    next ^= next << 13;
                    next ^= next >> 7;
                    next ^= next << 17;
                    (next % spread, i)
                })
                .collect();
            keys.sort_unstable();
            keys.dedup_by_key(|k| k.0);
            let listed = CommonKeys(keys.clone());
            for &(key, held) in &keys {
                assert_eq!(listed.held(key), Some(held));
                if key > 0 && keys.binary_search_by_key(&(key - 1), |k| k.0).is_err() {
                    assert_eq!(listed.held(key - 1), None);
                }
            }
            assert_eq!(
                listed.held(u64::MAX),
                keys.last().filter(|k| k.0 == u64::MAX).map(|k| k.1)
            );
        }
        assert_eq!(CommonKeys::default().held(7), None);
        // The same answer, told key by key.
        for keys in [&[1, 5][..], &[5, 1], &[1, 3], &[5], &[1], &[], &[3, 5]] {
            for key in [1, 3, 5] {
                assert_eq!(
                    common.looks_up_by(keys, key),
                    common.rarest_if_all_common(keys) == Some(key),
                    "{keys:?} by {key}"
                );
            }
        }
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
        let all = segment_keys(&searcher);
        save(dir.path(), &searcher, &all).unwrap();
        let with =
            |searcher: &Searcher| of_commit(dir.path(), searcher, || Ok(segment_keys(searcher)));
        assert_eq!(with(&searcher).unwrap(), find(&searcher, &all, LIMIT));
        // The file, not the index, is what a search reads for its commit.
        let made_up = CommonKeys(vec![(7, 1_001)]);
        commit_file::save(dir.path(), FILE, MAGIC, &searcher, &encode(&made_up)).unwrap();
        assert_eq!(with(&searcher).unwrap(), made_up);
        let fields = Fields::new(&index.schema()).unwrap();
        writer.delete_term(schema::path_term(&fields, "c"));
        writer.commit().unwrap();
        let after = index.reader().unwrap().searcher();
        assert_eq!(kept(&bytes, &after), None);
    }
}
