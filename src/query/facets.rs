//! Facet counts over every match, read from the fast columns: `kind`,
//! `source`, `topic` and `author_name` as term ordinals counted in arrays (turned into text
//! once per segment, for the values that occur), the date as days counted
//! then grouped into years, months or days. No facet terms are indexed: the
//! columns the filters and the date range need anyway are all it takes.

use std::collections::HashMap;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::index::SegmentId;
use tantivy::{DateTime, DocId, Score, SegmentOrdinal, SegmentReader};

use super::warm::Lazy;
use super::DateBucket;
use crate::model::Date;
use crate::schema::names;

/// Every value of each dimension with its count, in no particular order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    pub source: FxHashMap<String, u64>,
    pub topic: FxHashMap<String, u64>,
    pub kind: FxHashMap<String, u64>,
    /// Keyed by author as written (one count per author of each record).
    pub author: FxHashMap<String, u64>,
    /// Keyed by bucket (`2026`, `2026-04` or `2026-04-26`).
    pub date: FxHashMap<String, u64>,
    /// Matches without a value, per dimension.
    pub missing: Missing,
}

/// Matches without a source, a topic, a kind, an author, a date.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Missing {
    pub source: u64,
    pub topic: u64,
    pub kind: u64,
    pub author: u64,
    pub date: u64,
}

impl Counts {
    fn add(&mut self, other: Counts) {
        for (mine, theirs) in [
            (&mut self.source, other.source),
            (&mut self.topic, other.topic),
            (&mut self.kind, other.kind),
            (&mut self.author, other.author),
            (&mut self.date, other.date),
        ] {
            for (value, count) in theirs {
                *mine.entry(value).or_insert(0) += count;
            }
        }
        self.missing.source += other.missing.source;
        self.missing.topic += other.missing.topic;
        self.missing.kind += other.missing.kind;
        self.missing.author += other.missing.author;
        self.missing.date += other.missing.date;
    }
}

/// The values of one segment's `source`, `topic`, `kind` and `author_name` columns, by
/// term ordinal. Read once per segment, the first time a search counts its
/// facets, and kept with the commit ([`super::warm`]): reading a value back
/// from the column's dictionary costs a block read, far more than counting.
#[derive(Debug, Default)]
pub(crate) struct Labels {
    source: Values,
    topic: Values,
    kind: Values,
    author: Values,
}

/// The values of one column, by term ordinal, in one buffer.
#[derive(Debug, Default)]
struct Values {
    text: String,
    /// Where each value ends in `text`.
    ends: Vec<u32>,
}

impl Values {
    fn get(&self, ordinal: usize) -> Option<&str> {
        let end = *self.ends.get(ordinal)? as usize;
        let start = match ordinal {
            0 => 0,
            _ => self.ends[ordinal - 1] as usize,
        };
        self.text.get(start..end)
    }
}

impl Labels {
    pub(crate) fn read(reader: &SegmentReader) -> tantivy::Result<Labels> {
        let fast = reader.fast_fields();
        let values = |name: &str| -> tantivy::Result<Values> {
            let Some(column) = fast.str(name)? else {
                return Ok(Values::default());
            };
            let dictionary = column.dictionary();
            let mut values = Values {
                text: String::with_capacity(dictionary.num_bytes().get_bytes() as usize),
                ends: Vec::with_capacity(column.num_terms()),
            };
            let mut terms = dictionary.stream()?;
            while terms.advance() {
                values.text.push_str(&String::from_utf8_lossy(terms.key()));
                values.ends.push(values.text.len() as u32);
            }
            Ok(values)
        };
        Ok(Labels {
            source: values(names::SOURCE)?,
            topic: values(names::TOPIC)?,
            kind: values(names::KIND)?,
            author: values(names::AUTHOR_NAME)?,
        })
    }
}

/// Labels of every segment of a commit, each read on first use.
pub(crate) type SegmentLabels = HashMap<SegmentId, Arc<Lazy<Labels>>>;

/// Counts the facets of the documents it is given.
pub(crate) struct FacetCounter {
    pub bucket: DateBucket,
    pub labels: Arc<SegmentLabels>,
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
        // Segments of another commit get labels for this search only.
        let labels = (self.labels.get(&reader.segment_id()).cloned()).unwrap_or_default();
        labels.get_or_find(|| Labels::read(reader))?;
        let dates = (fast.column_opt::<DateTime>(names::DATE)?).map(DayCounts::new);
        Ok(SegmentCounter {
            source: Ordinals::open(fast.str(names::SOURCE)?),
            topic: Ordinals::open(fast.str(names::TOPIC)?),
            kind: Ordinals::open(fast.str(names::KIND)?),
            author: Ordinals::open(fast.str(names::AUTHOR_NAME)?),
            dates,
            bucket: self.bucket,
            labels,
            missing: Missing::default(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Counts>) -> tantivy::Result<Counts> {
        let mut fruits = fruits.into_iter();
        let mut all = fruits.next().unwrap_or_default();
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
    author: Option<Ordinals>,
    dates: Option<DayCounts>,
    bucket: DateBucket,
    /// Read when the counter was made.
    labels: Arc<Lazy<Labels>>,
    missing: Missing,
}

impl SegmentCollector for SegmentCounter {
    type Fruit = Counts;

    fn collect(&mut self, doc: DocId, _: Score) {
        let missing = &mut self.missing;
        for (ordinals, missing) in [
            (&mut self.source, &mut missing.source),
            (&mut self.topic, &mut missing.topic),
            (&mut self.kind, &mut missing.kind),
            (&mut self.author, &mut missing.author),
        ] {
            match ordinals {
                Some(ordinals) => *missing += u64::from(!ordinals.count(doc)),
                None => *missing += 1,
            }
        }
        match &mut self.dates {
            Some(dates) => missing.date += u64::from(!dates.count(doc)),
            None => missing.date += 1,
        }
    }

    fn harvest(self) -> Counts {
        let none = Labels::default();
        let labels = self.labels.get().unwrap_or(&none);
        let text = |o: Option<Ordinals>, labels: &Values| {
            o.map(|o| o.into_values(labels)).unwrap_or_default()
        };
        Counts {
            source: text(self.source, &labels.source),
            topic: text(self.topic, &labels.topic),
            kind: text(self.kind, &labels.kind),
            author: text(self.author, &labels.author),
            date: (self.dates)
                .map(|d| d.into_buckets(self.bucket))
                .unwrap_or_default(),
            missing: self.missing,
        }
    }
}

/// A string column's term ordinals, counted.
struct Ordinals {
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
            ords,
            single,
        })
    }

    /// Counts the values of `doc`; false when it has none.
    fn count(&mut self, doc: DocId) -> bool {
        if self.single {
            self.counts[self.ords.values.get_val(doc) as usize] += 1;
            return true;
        }
        let mut any = false;
        for ord in self.ords.values_for_doc(doc) {
            self.counts[ord as usize] += 1;
            any = true;
        }
        any
    }

    /// The label of every ordinal counted at least once, with its count.
    fn into_values(self, labels: &Values) -> FxHashMap<String, u64> {
        let counted = self.counts.iter().filter(|&&count| count > 0).count();
        let mut values = FxHashMap::with_capacity_and_hasher(counted, Default::default());
        for (ordinal, &count) in self.counts.iter().enumerate() {
            if count > 0 {
                if let Some(label) = labels.get(ordinal) {
                    values.insert(label.to_string(), count);
                }
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

    /// Counts the date of `doc`; false when it has none.
    fn count(&mut self, doc: DocId) -> bool {
        let Some(date) = self.column.first(doc) else {
            return false;
        };
        let day = day_of(date);
        match self.dense.get_mut((day - self.first) as usize) {
            Some(slot) => *slot += 1,
            None => *self.sparse.entry(day).or_insert(0) += 1,
        }
        true
    }

    /// The counts summed per bucket: each run of days in one bucket is
    /// added up before its label is written.
    fn into_buckets(self, bucket: DateBucket) -> FxHashMap<String, u64> {
        let mut buckets = FxHashMap::default();
        let end = self.first + self.dense.len() as i64;
        let mut day = self.first;
        while day < end {
            let date = Date::from_days_since_epoch(day);
            let next = next_bucket(date, bucket).min(end);
            let from = (day - self.first) as usize;
            let count: u64 = self.dense[from..(next - self.first) as usize].iter().sum();
            if count > 0 {
                *buckets.entry(label(date, bucket)).or_insert(0) += count;
            }
            day = next;
        }
        for (day, count) in self.sparse {
            let date = Date::from_days_since_epoch(day);
            *buckets.entry(label(date, bucket)).or_insert(0) += count;
        }
        buckets
    }
}

/// The first day (since the epoch) of the bucket after `date`'s.
fn next_bucket(date: Date, bucket: DateBucket) -> i64 {
    let (year, month) = match bucket {
        DateBucket::Day => return date.days_since_epoch() + 1,
        DateBucket::Month if date.month < 12 => (date.year, date.month + 1),
        DateBucket::Month | DateBucket::Year => (date.year + 1, 1),
    };
    Date {
        year,
        month: if bucket == DateBucket::Year { 1 } else { month },
        day: 1,
    }
    .days_since_epoch()
}

/// `2026`, `2026-04` or `2026-04-26`.
fn label(date: Date, bucket: DateBucket) -> String {
    match bucket {
        DateBucket::Year => format!("{:04}", date.year),
        DateBucket::Month => format!("{:04}-{:02}", date.year, date.month),
        DateBucket::Day => date.to_string(),
    }
}

fn day_of(date: DateTime) -> i64 {
    date.into_timestamp_secs().div_euclid(86_400)
}
