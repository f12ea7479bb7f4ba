//! The counts of a commit's recent searches: `total` and every facet, and
//! their first [`WINDOW`] ranked matches, kept with the commit so that
//! asking again (the next page, the same query from another client of a
//! server, the browser page going back) only reads the page, or ranks when
//! the page lies further; and the echoes found for the hits shown
//! ([`EchoesKept`]).
//!
//! A commit never changes, so neither do the counts of a search of it: they
//! stay exact. This is the shard request cache of Elasticsearch and
//! OpenSearch (which keeps `hits.total` and aggregations per shard until the
//! next refresh) at the scale of one commit; a new commit starts empty.
//! Counting is most of what a broad query costs at a million pages
//! (BENCHMARKS.md, "Counts kept with the commit").

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tantivy::{DocAddress, Score};

use super::facets::Counts;
use super::SearchRequest;

/// At most this many bytes of counts are kept per commit unless the index
/// is told otherwise (about: labels' lengths and a fixed cost per value),
/// the least recently used dropped first.
pub(crate) const BUDGET: usize = 8 << 20;
/// What a kept entry costs besides its labels.
const ENTRY_BYTES: usize = 256;
const VALUE_BYTES: usize = 48;

/// How many of a search's best matches are ranked and kept with its
/// counts when it is first asked: the first five pages of ten (Solr's
/// `queryResultWindowSize` does the same for its result cache).
pub(crate) const WINDOW: usize = 50;

/// What a search counted: its matches and their facets, and its best
/// matches in order (the first [`WINDOW`], or more if the first ask's page
/// ended further).
#[derive(Debug)]
pub(crate) struct Counted {
    pub total: usize,
    pub counts: Counts,
    pub best: Vec<(Score, DocAddress)>,
}

impl Counted {
    /// The page `offset..offset + limit`, if the kept best matches hold it
    /// (all of it, or all there is).
    pub(crate) fn page(&self, offset: usize, limit: usize) -> Option<Vec<(Score, DocAddress)>> {
        let end = offset.saturating_add(limit);
        let len = self.best.len();
        (end <= len || len == self.total).then(|| self.best[offset.min(len)..end.min(len)].to_vec())
    }

    fn bytes(&self) -> usize {
        let c = &self.counts;
        let maps = [&c.source, &c.topic, &c.kind, &c.author, &c.date];
        let labels: usize = (maps.iter())
            .flat_map(|map| map.keys())
            .map(|label| label.len() + VALUE_BYTES)
            .sum();
        ENTRY_BYTES + labels + self.best.len() * std::mem::size_of::<(Score, DocAddress)>()
    }
}

/// What decides a search's counts: everything in the request but the page
/// and how hits are shown, and which of its queries ran (`tier`: the one
/// needing every word, or the relaxed one).
pub(crate) fn key(request: &SearchRequest, tier: &str, exact_up_to: Option<u64>) -> String {
    let counted = SearchRequest {
        limit: 0,
        offset: 0,
        collapse: false,
        ..request.clone()
    };
    // A request is plain data: it always serializes.
    let request = serde_json::to_string(&counted).unwrap_or_default();
    format!("{tier}\n{exact_up_to:?}\n{request}")
}

/// The counted searches of one commit, least recently used dropped first.
#[derive(Debug, Default)]
pub(crate) struct CountCache {
    inner: Mutex<Entries>,
    /// Bytes the cache may hold, shared by the caches of every commit of
    /// one reader (0: keep nothing).
    budget: Arc<AtomicUsize>,
}

#[derive(Debug, Default)]
struct Entries {
    by_key: HashMap<String, (Arc<Counted>, u64)>,
    bytes: usize,
    tick: u64,
}

impl CountCache {
    /// An empty cache holding at most `budget` bytes.
    pub(crate) fn new(budget: Arc<AtomicUsize>) -> CountCache {
        CountCache {
            inner: Mutex::default(),
            budget,
        }
    }

    /// The counts kept for `key`, if any.
    pub(crate) fn get(&self, key: &str) -> Option<Arc<Counted>> {
        let mut entries = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        entries.tick += 1;
        let tick = entries.tick;
        let (counted, used) = entries.by_key.get_mut(key)?;
        *used = tick;
        Some(Arc::clone(counted))
    }

    /// Keeps `counted` for `key`, dropping the least recently used entries
    /// beyond the budget.
    pub(crate) fn put(&self, key: String, counted: Arc<Counted>) {
        let budget = self.budget.load(Ordering::Relaxed);
        let bytes = counted.bytes() + key.len();
        if bytes > budget {
            return;
        }
        let mut entries = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        entries.tick += 1;
        let tick = entries.tick;
        if let Some((old, _)) = entries.by_key.insert(key.clone(), (counted, tick)) {
            entries.bytes -= old.bytes() + key.len();
        }
        entries.bytes += bytes;
        while entries.bytes > budget {
            let Some(oldest) = (entries.by_key.iter())
                .min_by_key(|(_, (_, used))| *used)
                .map(|(key, _)| key.clone())
            else {
                break;
            };
            if let Some((gone, _)) = entries.by_key.remove(&oldest) {
                entries.bytes -= gone.bytes() + oldest.len();
            }
        }
    }

    /// How many searches' counts are kept.
    #[cfg(test)]
    fn len(&self) -> usize {
        let entries = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        entries.by_key.len()
    }
}

/// Echoes found for the hits of a commit's searches, by record and by
/// whether older thread versions were searched, at most [`ECHOES_KEPT`]:
/// when full, it starts again empty. Nothing is kept when the index keeps
/// no counts either.
#[derive(Debug, Default)]
pub(crate) struct EchoesKept {
    inner: Mutex<HashMap<(DocAddress, bool), Option<super::Echoes>>>,
    /// The count cache's budget: 0 keeps nothing here too.
    budget: Arc<AtomicUsize>,
}

/// How many hits' echoes a commit keeps (a few hundred bytes each).
const ECHOES_KEPT: usize = 10_000;

impl EchoesKept {
    /// Keeps echoes unless `budget`, the count cache's, is 0.
    pub(crate) fn new(budget: Arc<AtomicUsize>) -> EchoesKept {
        EchoesKept {
            inner: Mutex::default(),
            budget,
        }
    }

    /// The echoes kept for `address` (`Some(None)`: the record makes no
    /// single claim), if any.
    pub(crate) fn get(
        &self,
        address: DocAddress,
        all_versions: bool,
    ) -> Option<Option<super::Echoes>> {
        let kept = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        kept.get(&(address, all_versions)).cloned()
    }

    /// Keeps the echoes found for `address`.
    pub(crate) fn put(
        &self,
        address: DocAddress,
        all_versions: bool,
        echoes: Option<super::Echoes>,
    ) {
        if self.budget.load(Ordering::Relaxed) == 0 {
            return;
        }
        let mut kept = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if kept.len() >= ECHOES_KEPT {
            kept.clear();
        }
        kept.insert((address, all_versions), echoes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counted(labels: usize) -> Arc<Counted> {
        let mut counts = Counts::default();
        for i in 0..labels {
            counts.topic.insert(format!("topic-{i:06}"), 1);
        }
        Arc::new(Counted {
            total: labels,
            counts,
            best: Vec::new(),
        })
    }

    #[test]
    fn the_page_and_the_display_do_not_change_the_key_but_a_filter_does() {
        let key = |request: &SearchRequest, tier: &str| key(request, tier, Some(10_000));
        let first = SearchRequest::new("uniform convergence");
        let second = SearchRequest {
            offset: 10,
            limit: 20,
            collapse: true,
            ..first.clone()
        };
        assert_eq!(key(&first, "every"), key(&second, "every"));
        assert_ne!(key(&first, "every"), key(&first, "some"));
        let filtered = SearchRequest {
            sources: vec!["arxiv".into()],
            ..first.clone()
        };
        assert_ne!(key(&first, "every"), key(&filtered, "every"));
        let versions = SearchRequest {
            all_versions: true,
            ..first.clone()
        };
        assert_ne!(key(&first, "every"), key(&versions, "every"));
        // Estimated counts are not exact ones.
        let exact = SearchRequest {
            exact_facets: true,
            ..first.clone()
        };
        assert_ne!(key(&first, "every"), key(&exact, "every"));
        let every = super::key(&first, "every", None);
        assert_ne!(super::key(&first, "every", Some(10)), every);
    }

    #[test]
    fn the_least_recently_used_counts_go_first_past_the_budget() {
        let cache = CountCache::new(Arc::new(AtomicUsize::new(BUDGET)));
        let big = BUDGET / 4 / (VALUE_BYTES + 12);
        for name in ["a", "b", "c"] {
            cache.put(name.into(), counted(big));
        }
        // "a" is used again, so "b" is the least recently used.
        assert_eq!(cache.get("a").map(|c| c.total), Some(big));
        cache.put("d".into(), counted(big));
        cache.put("e".into(), counted(big));
        assert!(cache.get("b").is_none());
        assert!(cache.get("a").is_some());
        assert!(cache.get("e").is_some());
        assert!(cache.len() <= 4);
        let entries = cache.inner.lock().unwrap();
        assert!(entries.bytes <= BUDGET);
    }

    #[test]
    fn a_page_is_kept_when_the_best_matches_hold_it_or_all_there_are() {
        let best = |n: u32| (0..n).map(|d| (1.0, DocAddress::new(0, d))).collect();
        let some = Counted {
            total: 100,
            counts: Counts::default(),
            best: best(50),
        };
        assert_eq!(some.page(40, 10).map(|p| p.len()), Some(10));
        assert_eq!(some.page(40, 10).unwrap()[0].1.doc_id, 40);
        assert_eq!(some.page(45, 10), None);
        let all = Counted {
            total: 30,
            counts: Counts::default(),
            best: best(30),
        };
        assert_eq!(all.page(25, 10).map(|p| p.len()), Some(5));
        assert_eq!(all.page(90, 10), Some(Vec::new()));
    }

    #[test]
    fn a_budget_of_nothing_keeps_nothing() {
        let cache = CountCache::new(Arc::new(AtomicUsize::new(0)));
        cache.put("a".into(), counted(1));
        assert!(cache.get("a").is_none());
    }
}
