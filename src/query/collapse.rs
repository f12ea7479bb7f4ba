//! `--collapse`: one hit per claim.
//!
//! The matches are walked best-ranked first (newest first for `*`). A match
//! that makes the same claim as a hit already standing for a group, one it
//! shares a lookup key with, is folded into that group (the best-ranked
//! such hit's); any other match stands for a new group. So every record
//! folded away is a direct echo of the hit shown for it, and paging shows
//! each group once: the groups of one page are decided by the same walk, in
//! the same order, as those of every page before it. Matches of equal rank
//! are walked in the order of their item and place, which any index of the
//! same corpus gives them.
//!
//! The walk stops as soon as the requested page is full, so a page costs
//! what its own groups cost, not what every match costs. `groups` counts
//! the groups of the first [`GROUPS_COUNTED`] matches: exactly when there
//! are no more matches than that, otherwise a lower bound (`groups_exact`
//! false), the way search engines bound costly counts. What the walk reads
//! of each of those matches (its stored words and lookup keys) does not
//! depend on the walk, so it is read first, in parallel on the search
//! threads.
//!
//! Deciding the groups of every record of a commit once, for all queries,
//! was measured and left out: records that share a lookup key make about
//! 18 billion key-sharing pairs at 100,000 pages (BENCHMARKS.md).

use std::sync::Arc;

use rustc_hash::FxHashMap;
use tantivy::collector::{Collector, Count, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::query::Query;
use tantivy::{DocAddress, DocId, Score, Searcher, SegmentOrdinal, SegmentReader};

use super::echo_columns::EchoColumns;
use super::echoes;
use super::facets::FacetCounter;
use super::shown::Shown;
use super::warm::CommitState;
use super::{unanswerable, Found, SearchRequest};
use crate::common_keys::CommonKeys;
use crate::echo::decide::{self, PARAMS};
use crate::echo::Claim;
use crate::error::Result;
use crate::schema::names;

/// How many matches (best-ranked first) `groups` counts the groups of:
/// beyond that, `groups` is a lower bound.
pub const GROUPS_COUNTED: usize = 1_000;

/// A match is compared, through each of its lookup keys, with the first
/// this many heads holding that key at most: a key that so many distinct
/// claims share is a common pair of words, not a claim. It bounds the work
/// of a page deep in the results; it depends only on the matches and their
/// order, so every page of a query sees the same groups.
const KEY_HEADS: u32 = 256;

/// One pass over the matches of `query`: the requested page of groups, the
/// number of matches and of groups, and the facets of all matches.
pub(super) fn matches(
    searcher: &Searcher,
    query: &dyn Query,
    request: &SearchRequest,
    state: &CommitState,
    hidden: Option<Arc<CommitState>>,
    counter: FacetCounter,
) -> Result<Found> {
    // `*` (every record) lists the newest first, as without collapse.
    let newest_first = request.lists_everything();
    let collector = Shown {
        inner: (Every { newest_first }, counter, Count),
        hidden,
    };
    let (every, counts, total) = searcher.search(query, &collector).map_err(unanswerable)?;
    let matched = every.len();
    let counted = GROUPS_COUNTED.min(matched);
    let wanted = request.offset.saturating_add(request.limit);
    let mut walk = Walk::new(searcher, state, counted)?;
    // The first chunk sorted holds what the count walks, and the page
    // when it is near the top.
    let first_chunk = counted.max(wanted.saturating_mul(2)).max(64);
    let mut ranked = Ranked::new(every, walk.segments.clone(), first_chunk);
    let counted_matches: Vec<Match> = (0..counted).map_while(|_| ranked.next()).collect();
    let reads = walk.read_all(searcher, &counted_matches)?;
    for (next, read) in counted_matches.into_iter().zip(reads) {
        walk.step(next, read);
    }
    let groups = walk.heads.len();
    while walk.heads.len() < wanted {
        let Some(next) = ranked.next() else { break };
        let read = read(&walk.segments, &walk.common, next.address);
        walk.step(next, read);
    }
    let top = (walk.heads.iter())
        .skip(request.offset)
        .take(request.limit)
        .map(|head| {
            let score = if newest_first { 0.0 } else { head.score };
            (score, head.address)
        })
        .collect();
    Ok(Found {
        top,
        total,
        counts,
        groups: Some(groups),
        groups_exact: Some(counted == matched),
    })
}

/// The walk over the matches, best-ranked first: the groups found so far.
struct Walk {
    /// Each segment's echo columns (`None` where there are none).
    segments: Vec<Option<Arc<EchoColumns>>>,
    /// The commit's keys too common to find echoes by.
    common: Arc<CommonKeys>,
    /// The match standing for each group, best-ranked first.
    heads: Vec<Head>,
    /// For each lookup key, the last of the heads that hold it (as a place
    /// in `held`) and how many do, up to [`KEY_HEADS`].
    by_key: FxHashMap<u64, (u32, u32)>,
    /// (head, the place in `held` of the previous head holding the same
    /// key, or `NONE`): one list per key, linked backwards.
    held: Vec<(u32, u32)>,
    /// Scratch space: the heads a match may join, a claim's values.
    candidates: Vec<u32>,
    buffer: Vec<u64>,
}

/// The end of a list in [`Walk::held`].
const NONE: u32 = u32::MAX;

/// A match that stands for its group.
struct Head {
    score: Score,
    address: DocAddress,
    /// Its claim's content words as the index stores them, and whether its
    /// stored claim keeps fewer ([`EchoColumns::words`]): kept from its own
    /// step when it has keys (only then may a match share one with it).
    words: Option<(Vec<u32>, bool)>,
    /// Its claim, read the first time a match comes close enough to it in
    /// words.
    claim: Option<Option<Claim>>,
}

impl Walk {
    /// A walk that expects about `matches` matches.
    fn new(searcher: &Searcher, state: &CommitState, matches: usize) -> Result<Walk> {
        let segments = (searcher.segment_readers().iter())
            .map(|s| Ok(state.echo_columns(s)?.cloned()))
            .collect::<tantivy::Result<_>>()?;
        let keys = matches * crate::echo::keys::PICKED * 2;
        Ok(Walk {
            segments,
            common: Arc::clone(state.common_keys(searcher)?),
            heads: Vec::with_capacity(matches),
            by_key: FxHashMap::with_capacity_and_hasher(keys, Default::default()),
            held: Vec::with_capacity(keys),
            candidates: Vec::new(),
            buffer: Vec::new(),
        })
    }

    /// What [`Walk::step`] needs of each of `matches`, read in parallel on
    /// the search threads: the walk itself goes one match at a time, but
    /// what it reads of a match does not depend on the walk.
    fn read_all(&self, searcher: &Searcher, matches: &[Match]) -> Result<Vec<Option<Read>>> {
        const CHUNK: usize = 128;
        let chunks = searcher.index().search_executor().map(
            |chunk: &[Match]| {
                Ok((chunk.iter())
                    .map(|m| read(&self.segments, &self.common, m.address))
                    .collect::<Vec<_>>())
            },
            matches.chunks(CHUNK),
        )?;
        Ok(chunks.into_iter().flatten().collect())
    }

    /// Takes the next match (in rank order), with what was read of it
    /// ([`read`]): folds it into the group of the best-ranked head it shares
    /// a key with and makes the same claim as, or makes it the head of a new
    /// group.
    ///
    /// Most heads that share a key with it share too few words to be the
    /// same claim: the stored words tell so (the decision's own first step,
    /// [`decide::close`]) without reading either claim.
    fn step(&mut self, next: Match, read: Option<Read>) {
        let address = next.address;
        let mut claim = None;
        let Some(read) = read else {
            self.push(next, None, claim);
            return;
        };
        if let Some(columns) = &self.segments[address.segment_ord as usize] {
            let columns = Arc::clone(columns);
            self.candidates.clear();
            for key in &read.keys {
                let mut at = self.by_key.get(key).map_or(NONE, |&(last, _)| last);
                while at != NONE {
                    let (head, previous) = self.held[at as usize];
                    self.candidates.push(head);
                    at = previous;
                }
            }
            self.candidates.sort_unstable();
            self.candidates.dedup();
            let prefilter = echoes::use_stored_words();
            let near = decide::Near::new(&read.words, &PARAMS);
            for i in 0..self.candidates.len() {
                let head = self.candidates[i];
                let may = !prefilter || read.cut || {
                    let (head_words, head_cut) = words_of(&mut self.heads, &self.segments, head);
                    *head_cut || near.close(head_words, &PARAMS)
                };
                if !may {
                    continue;
                }
                let own = claim.get_or_insert_with(|| {
                    columns.claim_of_words(address.doc_id, &read.words, &mut self.buffer)
                });
                let Some(own) = own.as_ref() else {
                    // No claim: the same claim as none.
                    break;
                };
                if claim_of(&mut self.heads, &self.segments, &mut self.buffer, head)
                    .is_some_and(|other| decide::same_claim(own, other))
                {
                    return;
                }
            }
        }
        self.push(next, Some(read), claim);
    }

    /// Makes `next` the head of a new group, held under the keys it looks
    /// up by (what was read of it, `read`).
    fn push(&mut self, next: Match, read: Option<Read>, claim: Option<Option<Claim>>) {
        let at = self.heads.len() as u32;
        let (words, keys) = match read {
            Some(read) if !read.keys.is_empty() => (Some((read.words, read.cut)), read.keys),
            _ => (None, Vec::new()),
        };
        for key in &keys {
            let (last, heads) = self.by_key.entry(*key).or_insert((NONE, 0));
            if *heads < KEY_HEADS {
                self.held.push((at, *last));
                *last = (self.held.len() - 1) as u32;
                *heads += 1;
            }
        }
        self.heads.push(Head {
            score: next.score,
            address: next.address,
            words,
            claim,
        });
    }
}

/// What a walk step reads of a match before it meets the heads: its
/// claim's stored words, whether they are cut, and the keys it looks up by
/// in this commit, which are also those it is held under as a head. A key
/// common in the commit is one only for matches whose keys all are and
/// whose rarest key it is, so such a match joins only a head like it, as
/// echoes take only records like it.
struct Read {
    words: Vec<u32>,
    cut: bool,
    keys: Vec<u64>,
}

/// What [`Walk::step`] needs of the match at `address` (`None` where its
/// segment keeps no claims).
fn read(
    segments: &[Option<Arc<EchoColumns>>],
    common: &CommonKeys,
    address: DocAddress,
) -> Option<Read> {
    let columns = segments[address.segment_ord as usize].as_ref()?;
    let mut words = Vec::new();
    let cut = columns.words(address.doc_id, &mut words);
    let keys = common.lookup(crate::echo::keys::keys_of_words(&words)).keys;
    Some(Read { words, cut, keys })
}

/// The stored words of head `at` and whether they are cut, read on first use.
fn words_of<'a>(
    heads: &'a mut [Head],
    segments: &[Option<Arc<EchoColumns>>],
    at: u32,
) -> &'a (Vec<u32>, bool) {
    let head = &mut heads[at as usize];
    let address = head.address;
    head.words.get_or_insert_with(|| {
        let mut words = Vec::new();
        let cut = (segments[address.segment_ord as usize].as_ref())
            .is_some_and(|c| c.words(address.doc_id, &mut words));
        (words, cut)
    })
}

/// The claim of head `at`, read on first use.
fn claim_of<'a>(
    heads: &'a mut [Head],
    segments: &[Option<Arc<EchoColumns>>],
    buffer: &mut Vec<u64>,
    at: u32,
) -> Option<&'a Claim> {
    let head = &mut heads[at as usize];
    if head.claim.is_none() {
        let address = head.address;
        let columns = segments[address.segment_ord as usize].as_ref();
        head.claim = Some(columns.and_then(|c| match &head.words {
            Some((words, _)) => c.claim_of_words(address.doc_id, words, buffer),
            None => c.claim(address.doc_id, buffer),
        }));
    }
    head.claim.as_ref()?.as_ref()
}

/// The matches in rank order, sorted a chunk at a time as the walk asks
/// for them: a page near the top sorts a few hundred matches, not all.
/// Best score first (newest first for `*`, undated last); equal ones by
/// their item and place on its page, which any index of the same corpus
/// gives them, so that the same corpus gives the same groups in any file
/// order; by index order only when those are equal too.
struct Ranked {
    /// Not yet sorted.
    rest: Vec<Match>,
    /// Sorted, reversed: the next match is the last.
    ready: Vec<Match>,
    chunk: usize,
    /// Each segment's echo columns, which tell equal matches apart.
    segments: Vec<Option<Arc<EchoColumns>>>,
}

impl Ranked {
    /// The matches `every`, the first `chunk` of them to be sorted first.
    fn new(every: Vec<Match>, segments: Vec<Option<Arc<EchoColumns>>>, chunk: usize) -> Ranked {
        Ranked {
            rest: every,
            ready: Vec::new(),
            chunk: chunk.max(1),
            segments,
        }
    }

    fn next(&mut self) -> Option<Match> {
        if self.ready.is_empty() && !self.rest.is_empty() {
            self.sort_next_chunk();
        }
        self.ready.pop()
    }

    /// Moves the best `chunk` matches of `rest`, and every match ranked
    /// equal to the last of them, into `ready`, sorted.
    fn sort_next_chunk(&mut self) {
        let mut taken = self.rest.len();
        if self.chunk < self.rest.len() {
            let last = self.chunk - 1;
            self.rest.select_nth_unstable_by(last, Match::rank);
            taken = self.chunk;
            for i in self.chunk..self.rest.len() {
                if self.rest[i].rank(&self.rest[last]).is_eq() {
                    self.rest.swap(i, taken);
                    taken += 1;
                }
            }
        }
        let mut chunk: Vec<Match> = self.rest.drain(..taken).collect();
        chunk.sort_unstable_by(|a, b| a.rank(b).then_with(|| a.address.cmp(&b.address)));
        // Matches of equal rank, ordered by what any index gives them.
        for equal in chunk.chunk_by_mut(|a, b| a.rank(b).is_eq()) {
            if equal.len() < 2 {
                continue;
            }
            // Each one's item, thread version and place.
            let mut tied: Vec<((u64, u64, u64), Match)> = (equal.iter())
                .map(|m| {
                    let columns = &self.segments[m.address.segment_ord as usize];
                    let tie = columns.as_ref().map(|c| c.identity(m.address.doc_id));
                    (tie.unwrap_or_default(), *m)
                })
                .collect();
            tied.sort_by_key(|(tie, m)| (*tie, m.address));
            for (slot, (_, m)) in equal.iter_mut().zip(tied) {
                *slot = m;
            }
        }
        chunk.reverse();
        self.ready = chunk;
        self.chunk = self.chunk.saturating_mul(4);
    }
}

/// One match: its score, and its date when the matches are listed newest
/// first ([`UNDATED`] otherwise, and for a record without a date, which
/// then lists last). Small, as a search may collect millions.
#[derive(Clone, Copy)]
struct Match {
    date: i64,
    score: Score,
    address: DocAddress,
}

/// The date of a match without one: before every other.
const UNDATED: i64 = i64::MIN;

impl Match {
    /// Best (or newest) first.
    fn rank(&self, other: &Match) -> std::cmp::Ordering {
        (other.date.cmp(&self.date)).then_with(|| other.score.total_cmp(&self.score))
    }
}

/// Collects every match with its score (and date, for `*`).
struct Every {
    newest_first: bool,
}

struct EverySegment {
    ordinal: SegmentOrdinal,
    dates: Option<Column<tantivy::DateTime>>,
    found: Vec<Match>,
}

impl Collector for Every {
    type Fruit = Vec<Match>;
    type Child = EverySegment;

    fn for_segment(
        &self,
        ordinal: SegmentOrdinal,
        segment: &SegmentReader,
    ) -> tantivy::Result<EverySegment> {
        let dates = if self.newest_first {
            Some(segment.fast_fields().date(names::DATE)?)
        } else {
            None
        };
        Ok(EverySegment {
            ordinal,
            dates,
            found: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        !self.newest_first
    }

    fn merge_fruits(&self, fruits: Vec<Vec<Match>>) -> tantivy::Result<Self::Fruit> {
        let mut every = Vec::with_capacity(fruits.iter().map(Vec::len).sum());
        for fruit in fruits {
            every.extend(fruit);
        }
        Ok(every)
    }
}

impl SegmentCollector for EverySegment {
    type Fruit = Vec<Match>;

    fn collect(&mut self, doc: DocId, score: Score) {
        let date = (self.dates.as_ref())
            .and_then(|dates| dates.first(doc))
            .map_or(UNDATED, |date| date.into_timestamp_micros());
        self.found.push(Match {
            date,
            score,
            address: DocAddress::new(self.ordinal, doc),
        });
    }

    fn harvest(self) -> Self::Fruit {
        self.found
    }
}
