//! `--collapse`: one hit per claim. Every match is collected with its
//! score; matches that share a lookup key and make the same claim (decided
//! from the claim column) are one group. The best-ranked member of each
//! group stands for it, so paging shows each group once; `groups` counts
//! them over all matches.

use std::sync::Arc;

use rustc_hash::FxHashMap;
use tantivy::collector::{Collector, Count, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::query::Query;
use tantivy::{DocAddress, DocId, Score, Searcher, SegmentOrdinal, SegmentReader};

use super::shown::Shown;
use super::warm::CommitState;
use super::{unanswerable, FacetCounter, Found, SearchRequest};
use crate::echo::{decide, Claim};
use crate::error::Result;
use crate::schema::names;

/// One pass over the matches of `query`: the requested page of groups, the
/// number of matches and of groups, and the facets of all matches.
pub(super) fn matches(
    searcher: &Searcher,
    query: &dyn Query,
    request: &SearchRequest,
    state: &CommitState,
    hidden: Option<Arc<CommitState>>,
) -> Result<Found> {
    let counter = FacetCounter {
        bucket: request.date_bucket,
        labels: Arc::clone(&state.labels),
    };
    // `*` (every record) lists the newest first, as without collapse.
    let newest_first = request.lists_everything();
    let collector = Shown {
        inner: (Every { newest_first }, counter, Count),
        hidden,
    };
    let (every, counts, total) = searcher.search(query, &collector).map_err(unanswerable)?;
    let mut every: Vec<Match> = every;
    // Best (or newest) first; ties in index order.
    every.sort_unstable_by(|a, b| {
        (b.date.cmp(&a.date))
            .then_with(|| b.score.total_cmp(&a.score))
            .then_with(|| {
                (a.address.segment_ord, a.address.doc_id)
                    .cmp(&(b.address.segment_ord, b.address.doc_id))
            })
    });
    let every: Vec<(Score, DocAddress)> = (every.into_iter())
        .map(|m| (if newest_first { 0.0 } else { m.score }, m.address))
        .collect();
    let heads = group_heads(searcher, state, &every)?;
    let groups = heads.iter().filter(|h| **h).count();
    let top = (every.iter().zip(&heads))
        .filter(|(_, head)| **head)
        .map(|(m, _)| *m)
        .skip(request.offset)
        .take(request.limit)
        .collect();
    Ok(Found {
        top,
        total,
        counts,
        groups: Some(groups),
    })
}

/// A key shared by more matches than this is a common pair of words, not a
/// claim: its matches are not compared (each may still join a group by
/// another key). It depends only on the matches, so groups stay the same
/// for any file order.
const LARGEST_BUCKET: usize = 256;

/// For each match (in rank order), whether it is the best-ranked member of
/// its group. Groups are the connected parts of the graph whose edges join
/// two matches that share a key and make the same claim: every such pair is
/// decided, so the groups do not depend on the order matches arrive in.
fn group_heads(
    searcher: &Searcher,
    state: &CommitState,
    ranked: &[(Score, DocAddress)],
) -> Result<Vec<bool>> {
    let segments: Vec<_> = (searcher.segment_readers().iter())
        .map(|s| Ok(state.echo_columns(s)?.cloned()))
        .collect::<tantivy::Result<_>>()?;
    let mut buckets: FxHashMap<u64, Vec<u32>> = FxHashMap::default();
    for (i, (_, address)) in ranked.iter().enumerate() {
        if let Some(columns) = &segments[address.segment_ord as usize] {
            for key in columns.keys(address.doc_id) {
                buckets.entry(key).or_default().push(i as u32);
            }
        }
    }
    let mut parent: Vec<u32> = (0..ranked.len() as u32).collect();
    let mut claims: FxHashMap<u32, Option<Claim>> = FxHashMap::default();
    let mut buffer = Vec::new();
    let mut claim_of = |i: u32, buffer: &mut Vec<u8>| -> Option<Claim> {
        claims
            .entry(i)
            .or_insert_with(|| {
                let address = ranked[i as usize].1;
                let columns = segments[address.segment_ord as usize].as_ref()?;
                columns.claim(address.doc_id, buffer)
            })
            .clone()
    };
    for members in buckets.values() {
        if members.len() < 2 || members.len() > LARGEST_BUCKET {
            continue;
        }
        for (n, &i) in members.iter().enumerate() {
            for &j in &members[n + 1..] {
                let (root_i, root_j) = (find(&mut parent, i), find(&mut parent, j));
                if root_i == root_j {
                    continue;
                }
                let same = match (claim_of(i, &mut buffer), claim_of(j, &mut buffer)) {
                    (Some(a), Some(b)) => decide::same_claim(&a, &b),
                    _ => false,
                };
                if same {
                    // The better-ranked root stays the head.
                    let (keep, join) = (root_i.min(root_j), root_i.max(root_j));
                    parent[join as usize] = keep;
                }
            }
        }
    }
    Ok((0..ranked.len() as u32)
        .map(|i| find(&mut parent, i) == i)
        .collect())
}

fn find(parent: &mut [u32], mut i: u32) -> u32 {
    while parent[i as usize] != i {
        let up = parent[parent[i as usize] as usize];
        parent[i as usize] = up;
        i = up;
    }
    i
}

/// One match: its score, and its date when the matches are listed newest
/// first (`None` otherwise, and for a record without a date, which then
/// lists last).
struct Match {
    date: Option<i64>,
    score: Score,
    address: DocAddress,
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
        Ok(fruits.into_iter().flatten().collect())
    }
}

impl SegmentCollector for EverySegment {
    type Fruit = Vec<Match>;

    fn collect(&mut self, doc: DocId, score: Score) {
        let date = (self.dates.as_ref())
            .and_then(|dates| dates.first(doc))
            .map(|date| date.into_timestamp_micros());
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
