//! Which matches a search shows: every record but those of older versions
//! of a thread (found once per commit, see [`super::warm`]), and the best
//! of them for a page.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::sync::Arc;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::fastfield::AliveBitSet;
use tantivy::query::{Scorer, Weight};
use tantivy::{DocAddress, DocId, DocSet, Score, SegmentOrdinal, SegmentReader, TERMINATED};

use super::bm25f::WordScorer;
use super::facets::{Counts, FacetCounter, SegmentCounter, SegmentCounts};
use super::warm::CommitState;
use crate::superseded::DocBits;

/// Passes the documents a search shows on to `inner`; with `hidden` `None`,
/// every document (`--all-versions`).
pub(crate) struct Shown<C> {
    pub inner: C,
    pub hidden: Option<Arc<CommitState>>,
}

impl<C: Collector> Collector for Shown<C> {
    type Fruit = C::Fruit;
    type Child = ShownSegment<C::Child>;

    fn for_segment(
        &self,
        ordinal: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<Self::Child> {
        Ok(ShownSegment {
            inner: self.inner.for_segment(ordinal, reader)?,
            hidden: Hidden::in_segment(&self.hidden, reader),
        })
    }

    fn requires_scoring(&self) -> bool {
        self.inner.requires_scoring()
    }

    fn merge_fruits(
        &self,
        fruits: Vec<<C::Child as SegmentCollector>::Fruit>,
    ) -> tantivy::Result<C::Fruit> {
        self.inner.merge_fruits(fruits)
    }
}

pub(crate) struct ShownSegment<S> {
    inner: S,
    hidden: Hidden,
}

impl<S: SegmentCollector> SegmentCollector for ShownSegment<S> {
    type Fruit = S::Fruit;

    fn collect(&mut self, doc: DocId, score: Score) {
        if !self.hidden.hides(doc) {
            self.inner.collect(doc, score);
        }
    }

    fn harvest(self) -> S::Fruit {
        self.inner.harvest()
    }
}

/// A segment's hidden documents, looked up once per segment.
struct Hidden(Option<Arc<DocBits>>);

impl Hidden {
    /// The documents of `reader`'s segment that `state` hides (none when
    /// `state` is `None`: every version is shown).
    fn in_segment(state: &Option<Arc<CommitState>>, reader: &SegmentReader) -> Hidden {
        Hidden((state.as_ref()).and_then(|h| h.hidden.get(&reader.segment_id()).cloned()))
    }

    fn hides(&self, doc: DocId) -> bool {
        self.0.as_ref().is_some_and(|h| h.contains(doc))
    }
}

/// The page `offset..offset + limit` of the shown matches, best score first
/// (ties to the earlier document, as Tantivy's `TopDocs`). Run alone, not in
/// a tuple of collectors, it lets the query pass over the matches that
/// cannot make the page (Tantivy's `Weight::for_each_pruning`: a term's
/// blocks whose best score is below the page's last), which is what a
/// search does when its counts were kept ([`super::counted`]).
pub(crate) struct Best {
    pub offset: usize,
    pub limit: usize,
    /// Older thread versions to pass over when run alone (in a tuple,
    /// [`Shown`] passes over them); `None`: none.
    pub hidden: Option<Arc<CommitState>>,
}

impl Collector for Best {
    type Fruit = Vec<(Score, DocAddress)>;
    type Child = BestSegment;

    fn for_segment(
        &self,
        ordinal: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<BestSegment> {
        Ok(BestSegment::new(
            self.offset + self.limit,
            ordinal,
            &self.hidden,
            reader,
        ))
    }

    fn requires_scoring(&self) -> bool {
        true
    }

    fn merge_fruits(&self, fruits: Vec<Vec<(Score, DocAddress)>>) -> tantivy::Result<Self::Fruit> {
        let mut all: Vec<(Score, DocAddress)> = fruits.into_iter().flatten().collect();
        best_first(&mut all);
        Ok(all.into_iter().skip(self.offset).take(self.limit).collect())
    }

    fn collect_segment(
        &self,
        weight: &dyn Weight,
        ordinal: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<Vec<(Score, DocAddress)>> {
        let mut segment = self.for_segment(ordinal, reader)?;
        let alive = reader.alive_bitset();
        let mut threshold = Score::MIN;
        weight.for_each_pruning(Score::MIN, reader, &mut |doc, score| {
            if !segment.passes_over(alive, doc) {
                segment.best.push(score, doc);
                threshold = segment.best.threshold();
            }
            threshold
        })?;
        Ok(segment.harvest())
    }
}

/// One pass over the shown matches that counts them and their facets and
/// keeps the best `limit`: what a search does the first time it is asked
/// ([`super::counted`]). Every match is counted, but when the query is one
/// word (`word`), a match is scored only if the blocks of postings it is
/// in could lift it above the last match kept ([`WordScorer::could_reach`]):
/// past the first few thousand matches of a common word, most cannot.
pub(crate) struct CountedBest {
    pub limit: usize,
    pub counter: FacetCounter,
    pub hidden: Option<Arc<CommitState>>,
    /// Whether the query is one word scored by BM25F.
    pub word: bool,
}

/// What one segment found: its best matches, facet counts and matches.
pub(crate) struct CountedBestSegment {
    best: BestSegment,
    counter: SegmentCounter,
    total: usize,
}

impl CountedBestSegment {
    /// Counts a shown match and offers it to the best.
    fn keep(&mut self, doc: DocId, score: Score) {
        self.count(doc);
        self.best.best.push(score, doc);
    }

    /// Counts a shown match.
    fn count(&mut self, doc: DocId) {
        self.total += 1;
        self.counter.collect(doc, 0.0);
    }
}

type CountedFruit = (Vec<(Score, DocAddress)>, SegmentCounts, usize);

impl Collector for CountedBest {
    type Fruit = (Vec<(Score, DocAddress)>, Counts, usize);
    type Child = CountedBestSegment;

    fn for_segment(
        &self,
        ordinal: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<CountedBestSegment> {
        Ok(CountedBestSegment {
            best: BestSegment::new(self.limit, ordinal, &self.hidden, reader),
            counter: self.counter.for_segment(ordinal, reader)?,
            total: 0,
        })
    }

    fn requires_scoring(&self) -> bool {
        true
    }

    fn merge_fruits(&self, fruits: Vec<CountedFruit>) -> tantivy::Result<Self::Fruit> {
        let (mut best, mut counts, mut total) = (Vec::new(), Vec::new(), 0);
        for (segment_best, segment_counts, segment_total) in fruits {
            best.extend(segment_best);
            counts.push(segment_counts);
            total += segment_total;
        }
        best_first(&mut best);
        best.truncate(self.limit);
        Ok((best, self.counter.merge_fruits(counts)?, total))
    }

    fn collect_segment(
        &self,
        weight: &dyn Weight,
        ordinal: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<CountedFruit> {
        let mut segment = self.for_segment(ordinal, reader)?;
        let alive = reader.alive_bitset();
        if self.word {
            let mut scorer = weight.scorer(reader, 1.0)?;
            if let Some(word) = scorer.downcast_mut::<WordScorer>() {
                // Compared as term frequencies: one division per match kept.
                let mut needed = word.needed(segment.best.best.threshold());
                let mut doc = word.doc();
                while doc != TERMINATED {
                    if !segment.best.passes_over(alive, doc) {
                        segment.count(doc);
                        if word.could_reach(needed) {
                            segment.best.best.push(word.score(), doc);
                            needed = word.needed(segment.best.best.threshold());
                        }
                    }
                    doc = word.advance();
                }
                return Ok(segment.harvest());
            }
        }
        weight.for_each(reader, &mut |doc, score| {
            if !segment.best.passes_over(alive, doc) {
                segment.keep(doc, score);
            }
        })?;
        Ok(segment.harvest())
    }
}

impl SegmentCollector for CountedBestSegment {
    type Fruit = CountedFruit;

    fn collect(&mut self, doc: DocId, score: Score) {
        if !self.best.hidden.hides(doc) {
            self.keep(doc, score);
        }
    }

    fn harvest(self) -> CountedFruit {
        (self.best.harvest(), self.counter.harvest(), self.total)
    }
}

pub(crate) struct BestSegment {
    best: Heap,
    ordinal: SegmentOrdinal,
    hidden: Hidden,
}

impl BestSegment {
    /// The best `k` shown matches of `reader`'s segment, the documents
    /// `state` hides passed over (none when `None`).
    fn new(
        k: usize,
        ordinal: SegmentOrdinal,
        state: &Option<Arc<CommitState>>,
        reader: &SegmentReader,
    ) -> BestSegment {
        BestSegment {
            best: Heap::new(k),
            ordinal,
            hidden: Hidden::in_segment(state, reader),
        }
    }

    /// Whether `doc` is not shown: deleted (`alive` says which are not) or
    /// hidden.
    fn passes_over(&self, alive: Option<&AliveBitSet>, doc: DocId) -> bool {
        alive.is_some_and(|a| a.is_deleted(doc)) || self.hidden.hides(doc)
    }
}

/// Sorts matches best score first, of equal scores the earlier document.
fn best_first(matches: &mut [(Score, DocAddress)]) {
    matches.sort_unstable_by(|(a, x), (b, y)| b.total_cmp(a).then_with(|| x.cmp(y)));
}

impl SegmentCollector for BestSegment {
    type Fruit = Vec<(Score, DocAddress)>;

    fn collect(&mut self, doc: DocId, score: Score) {
        if !self.hidden.hides(doc) {
            self.best.push(score, doc);
        }
    }

    fn harvest(self) -> Self::Fruit {
        let ordinal = self.ordinal;
        (self.best.0.into_iter())
            .map(|Reverse(entry)| (entry.score, DocAddress::new(ordinal, entry.doc)))
            .collect()
    }
}

/// The best `k` documents of a segment seen so far, the worst on top.
/// Documents come in increasing order, so of two equal scores the one kept
/// is the earlier document.
struct Heap(BinaryHeap<Reverse<Entry>>, usize);

impl Heap {
    fn new(k: usize) -> Heap {
        Heap(BinaryHeap::with_capacity(k), k)
    }

    fn push(&mut self, score: Score, doc: DocId) {
        let Heap(heap, k) = self;
        if heap.len() < *k {
            heap.push(Reverse(Entry { score, doc }));
        } else if let Some(mut worst) = heap.peek_mut() {
            if score > worst.0.score {
                *worst = Reverse(Entry { score, doc });
            }
        }
    }

    /// The score a document must beat to be kept.
    fn threshold(&self) -> Score {
        match self.0.peek() {
            Some(worst) if self.0.len() >= self.1 => worst.0.score,
            _ => Score::MIN,
        }
    }
}

/// A kept document: a higher score is better, and of equal scores the
/// earlier document.
struct Entry {
    score: Score,
    doc: DocId,
}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.score.total_cmp(&other.score)).then_with(|| other.doc.cmp(&self.doc))
    }
}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Entry {}
