//! Facet counts over every match, read from the fast columns: `kind`,
//! `source` and `topic` as term ordinals counted in arrays (turned into text
//! once per segment, for the values that occur), the date as days counted
//! then grouped into years, months or days. No facet terms are indexed: the
//! columns the filters and the date range need anyway are all it takes.

use std::collections::HashMap;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::{DateTime, DocId, Score, SegmentOrdinal, SegmentReader};

use super::DateBucket;
use crate::model::Date;
use crate::schema::names;

/// Every value of each dimension with its count, in no particular order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    pub source: HashMap<String, u64>,
    pub topic: HashMap<String, u64>,
    pub kind: HashMap<String, u64>,
    /// Keyed by bucket (`2026`, `2026-04` or `2026-04-26`).
    pub date: HashMap<String, u64>,
}

impl Counts {
    fn add(&mut self, other: Counts) {
        for (mine, theirs) in [
            (&mut self.source, other.source),
            (&mut self.topic, other.topic),
            (&mut self.kind, other.kind),
            (&mut self.date, other.date),
        ] {
            for (value, count) in theirs {
                *mine.entry(value).or_insert(0) += count;
            }
        }
    }
}

/// Counts the facets of the documents it is given.
pub(crate) struct FacetCounter {
    pub bucket: DateBucket,
}

impl Collector for FacetCounter {
    type Fruit = Counts;
    type Child = SegmentCounter;

    fn for_segment(
        &self,
        _: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<Self::Child> {
        let fast = reader.fast_fields();
        let dates = (fast.column_opt::<DateTime>(names::DATE)?).map(DayCounts::new);
        Ok(SegmentCounter {
            source: Ordinals::open(fast.str(names::SOURCE)?),
            topic: Ordinals::open(fast.str(names::TOPIC)?),
            kind: Ordinals::open(fast.str(names::KIND)?),
            dates,
            bucket: self.bucket,
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Counts>) -> tantivy::Result<Counts> {
        let mut all = Counts::default();
        for fruit in fruits {
            all.add(fruit);
        }
        Ok(all)
    }
}

/// The counts of one segment.
pub(crate) struct SegmentCounter {
    source: Option<Ordinals>,
    topic: Option<Ordinals>,
    kind: Option<Ordinals>,
    dates: Option<DayCounts>,
    bucket: DateBucket,
}

impl SegmentCollector for SegmentCounter {
    type Fruit = Counts;

    fn collect(&mut self, doc: DocId, _: Score) {
        for ordinals in [&mut self.source, &mut self.topic, &mut self.kind]
            .into_iter()
            .flatten()
        {
            ordinals.count(doc);
        }
        if let Some(dates) = &mut self.dates {
            dates.count(doc);
        }
    }

    fn harvest(self) -> Counts {
        let text = |o: Option<Ordinals>| o.map(Ordinals::into_values).unwrap_or_default();
        Counts {
            source: text(self.source),
            topic: text(self.topic),
            kind: text(self.kind),
            date: (self.dates)
                .map(|d| d.into_buckets(self.bucket))
                .unwrap_or_default(),
        }
    }
}

/// A string column's term ordinals, counted.
struct Ordinals {
    column: StrColumn,
    ords: Column<u64>,
    counts: Vec<u64>,
    /// Every document has exactly one value (read without the column index).
    single: bool,
}

impl Ordinals {
    fn open(column: Option<StrColumn>) -> Option<Ordinals> {
        let column = column?;
        let ords = column.ords().clone();
        let single = matches!(ords.index, tantivy::columnar::ColumnIndex::Full);
        Some(Ordinals {
            counts: vec![0; column.num_terms()],
            column,
            ords,
            single,
        })
    }

    fn count(&mut self, doc: DocId) {
        if self.single {
            self.counts[self.ords.values.get_val(doc) as usize] += 1;
        } else {
            for ord in self.ords.values_for_doc(doc) {
                self.counts[ord as usize] += 1;
            }
        }
    }

    /// The text of every ordinal counted at least once, with its count.
    fn into_values(self) -> HashMap<String, u64> {
        let mut values = HashMap::new();
        for (ord, &count) in self.counts.iter().enumerate() {
            let mut text = String::new();
            if count > 0
                && self
                    .column
                    .ord_to_str(ord as u64, &mut text)
                    .unwrap_or(false)
            {
                values.insert(text, count);
            }
        }
        values
    }
}

/// Widest date span counted in an array; wider spans (only hostile dates
/// make them) are counted in a map.
const DENSE_DAYS: i64 = 50_000;

/// Records per day since the epoch.
struct DayCounts {
    column: Column<DateTime>,
    first: i64,
    dense: Vec<u64>,
    sparse: HashMap<i64, u64>,
}

impl DayCounts {
    fn new(column: Column<DateTime>) -> DayCounts {
        let first = day_of(column.min_value());
        let span = day_of(column.max_value()) - first + 1;
        let dense = if span <= DENSE_DAYS {
            vec![0; span as usize]
        } else {
            Vec::new()
        };
        DayCounts {
            column,
            first,
            dense,
            sparse: HashMap::new(),
        }
    }

    fn count(&mut self, doc: DocId) {
        let Some(date) = self.column.first(doc) else {
            return;
        };
        let day = day_of(date);
        match self.dense.get_mut((day - self.first) as usize) {
            Some(slot) => *slot += 1,
            None => *self.sparse.entry(day).or_insert(0) += 1,
        }
    }

    fn into_buckets(self, bucket: DateBucket) -> HashMap<String, u64> {
        let dense = (self.dense.iter().enumerate())
            .filter(|(_, &count)| count > 0)
            .map(|(offset, &count)| (self.first + offset as i64, count));
        let mut buckets = HashMap::new();
        for (day, count) in dense.chain(self.sparse) {
            let date = Date::from_days_since_epoch(day).to_string();
            let key = match bucket {
                DateBucket::Year => &date[..4],
                DateBucket::Month => &date[..7],
                DateBucket::Day => &date[..],
            };
            *buckets.entry(key.to_string()).or_insert(0) += count;
        }
        buckets
    }
}

fn day_of(date: DateTime) -> i64 {
    date.into_timestamp_secs().div_euclid(86_400)
}
