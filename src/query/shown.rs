//! Which matches a search shows: every record but those of older versions
//! of a thread (found once per commit, see [`super::warm`]).

use std::sync::Arc;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

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
        let hidden = (self.hidden.as_ref()).and_then(|h| h.hidden.get(&reader.segment_id()));
        Ok(ShownSegment {
            inner: self.inner.for_segment(ordinal, reader)?,
            hidden: hidden.cloned(),
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
    /// This segment's hidden documents, looked up once.
    hidden: Option<Arc<DocBits>>,
}

impl<S: SegmentCollector> SegmentCollector for ShownSegment<S> {
    type Fruit = S::Fruit;

    fn collect(&mut self, doc: DocId, score: Score) {
        if !self.hidden.as_ref().is_some_and(|h| h.contains(doc)) {
            self.inner.collect(doc, score);
        }
    }

    fn harvest(self) -> S::Fruit {
        self.inner.harvest()
    }
}
