//! Which matches a search shows: every record but those of older versions
//! of a thread, decided from the `thread_version` column, which only thread
//! records have (so most documents are passed without reading anything).

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

use crate::index::NewestVersions;
use crate::schema::{names, thread_of_key};

/// Passes the documents a search shows on to `inner`; with `newest` `None`,
/// every document (`--all-versions`).
pub(crate) struct Shown<C> {
    pub inner: C,
    pub newest: Option<NewestVersions>,
}

impl<C: Collector> Collector for Shown<C> {
    type Fruit = C::Fruit;
    type Child = ShownSegment<C::Child>;

    fn for_segment(
        &self,
        ordinal: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<Self::Child> {
        let inner = self.inner.for_segment(ordinal, reader)?;
        let keys = match &self.newest {
            Some(_) => reader.fast_fields().u64(names::THREAD_VERSION).ok(),
            None => None,
        };
        // A segment without thread records has nothing to hide.
        let keys = keys.filter(|keys| keys.values.num_vals() > 0);
        Ok(ShownSegment {
            inner,
            keys,
            newest: self.newest.clone().unwrap_or_default(),
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
    keys: Option<Column<u64>>,
    newest: NewestVersions,
}

impl<S: SegmentCollector> SegmentCollector for ShownSegment<S> {
    type Fruit = S::Fruit;

    fn collect(&mut self, doc: DocId, score: Score) {
        if let Some(key) = self.keys.as_ref().and_then(|keys| keys.first(doc)) {
            if self.newest.get(&thread_of_key(key)) != Some(&key) {
                return;
            }
        }
        self.inner.collect(doc, score);
    }

    fn harvest(self) -> S::Fruit {
        self.inner.harvest()
    }
}
