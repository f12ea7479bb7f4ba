//! Facet counts over every match, read from the fast columns: `kind`,
//! `source`, `topic` and `author_name` as term ordinals counted in arrays (turned into text
//! once per segment, for the values that occur), the date as days counted
//! then grouped into years, months or days. No facet terms are indexed: the
//! columns the filters and the date range need anyway are all it takes.
//!
//! Past a bound ([`FacetCounter::exact_up_to`]), a segment counts one match
//! in [`SAMPLE_EVERY`] and scales those counts up to its other matches: a
//! broad search on a large index spent most of its time counting. The
//! counts say so ([`Counts::estimated`]).

use std::cmp::Ordering;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::column_index::MultiValueIndex;
use tantivy::columnar::{Column, ColumnIndex, StrColumn};
use tantivy::index::SegmentId;
use tantivy::{DateTime, DocId, Score, SegmentOrdinal, SegmentReader};

use super::lazy::Lazy;
use super::DateBucket;
use crate::facet_rows::{FacetRows, Row, RowColumns, Runs, Shape};
use crate::facet_values::CommitValues;
use crate::model::Date;
use crate::schema::{day_of, names};

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
    /// Whether some segment counted a sample of its matches past the bound
    /// of exact counting ([`FacetCounter::exact_up_to`]), so the counts are
    /// estimates.
    pub estimated: bool,
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
    /// The values of column `column` (in the order of
    /// [`crate::facet_values::COLUMNS`]).
    fn column(&self, column: usize) -> &Values {
        [&self.source, &self.topic, &self.kind, &self.author][column]
    }

    /// The labels of a segment whose `source`, `topic`, `kind` and
    /// `author_name` columns are `columns`.
    fn read(columns: &[Option<StrColumn>; 4]) -> tantivy::Result<Labels> {
        let values = |column: &Option<StrColumn>| -> tantivy::Result<Values> {
            let Some(column) = column else {
                return Ok(Values::default());
            };
            let dictionary = column.dictionary();
            let mut values = Values {
                text: String::with_capacity(dictionary.num_bytes().get_bytes() as usize),
                ends: Vec::with_capacity(column.num_terms()),
            };
            let mut terms = dictionary.stream()?;
            while terms.advance() {
                match std::str::from_utf8(terms.key()) {
                    Ok(text) => values.text.push_str(text),
                    Err(_) => values.text.push_str(&String::from_utf8_lossy(terms.key())),
                }
                values.ends.push(values.text.len() as u32);
            }
            Ok(values)
        };
        let [source, topic, kind, author] = columns;
        Ok(Labels {
            source: values(source)?,
            topic: values(topic)?,
            kind: values(kind)?,
            author: values(author)?,
        })
    }
}

/// What the searches of a commit keep of one segment's facets
/// ([`super::warm`]), each part found the first time a search needs it. A
/// segment never changes, so they serve every commit that holds it.
#[derive(Default)]
pub(crate) struct SegmentFacets {
    /// Its facet columns, opened by the first search that counts there:
    /// opening them reads each column's header and dictionary index, which
    /// at 1,000,000 pages (some forty segments) cost a rare query about a
    /// tenth of its time when done by every search.
    columns: Lazy<Columns>,
    /// Its labels, read by the first search that counts values there
    /// without the commit's values.
    labels: Lazy<Labels>,
}

/// What is kept of the facets of every segment of a commit.
pub(crate) type CommitFacets = HashMap<SegmentId, Arc<SegmentFacets>>;

impl std::fmt::Debug for SegmentFacets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SegmentFacets")
            .field("labels", &self.labels)
            .finish_non_exhaustive()
    }
}

/// A segment's facet columns: those its facet rows are made from, and
/// `kind`.
struct Columns {
    row_columns: RowColumns,
    kind: Option<StrColumn>,
}

impl Columns {
    fn open(reader: &SegmentReader) -> tantivy::Result<Columns> {
        Ok(Columns {
            row_columns: RowColumns::open(reader)?,
            kind: reader.fast_fields().str(names::KIND)?,
        })
    }
}

/// Facet rows of every segment of a commit, each opened on first use
/// (`None` when its file is missing or damaged).
pub(crate) type SegmentRows = HashMap<SegmentId, Arc<Lazy<Option<FacetRows>>>>;

/// Counts the facets of the documents it is given.
pub(crate) struct FacetCounter {
    pub bucket: DateBucket,
    /// The facet values of the commit, when its write run kept them: then
    /// no segment's labels are read.
    pub values: Option<Arc<CommitValues>>,
    /// The columns and labels of every segment of the commit.
    pub segments: Arc<CommitFacets>,
    /// The facet rows of every segment of the commit, each opened when a
    /// search first counts runs there, and the index folder they are in.
    pub rows: Arc<SegmentRows>,
    pub dir: PathBuf,
    /// Keep only the `top` most frequent sources, topics and authors (ties
    /// by value, as [`super::most_frequent`] orders them); `None` keeps
    /// every value. Every kind and date bucket is kept.
    pub top: Option<usize>,
    /// A search counts its first `exact_up_to` matches exactly, each
    /// segment its share ([`share`], rounded up to a block), and past them,
    /// one match in [`SAMPLE_EVERY`], scaled up; `None` counts every match.
    pub exact_up_to: Option<u64>,
    /// The documents of the commit searched, deleted ones included.
    pub docs: u64,
}

/// A segment of `segment_docs` documents' share of `bound` matches over
/// `docs` documents: the matches it would have if the search's were spread
/// as the documents are.
fn share(bound: u64, segment_docs: u32, docs: u64) -> u64 {
    if docs == 0 {
        return bound;
    }
    let share = (u128::from(bound) * u128::from(segment_docs)).div_ceil(u128::from(docs));
    u64::try_from(share).unwrap_or(u64::MAX)
}

impl Collector for FacetCounter {
    type Fruit = Counts;
    type Child = SegmentCounter;

    fn for_segment(
        &self,
        _: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<Self::Child> {
        // Segments of another commit get columns and labels for this
        // search only.
        let facets = (self.segments.get(&reader.segment_id()).cloned()).unwrap_or_default();
        let columns = facets.columns.get_or_find(|| Columns::open(reader))?;
        let RowColumns {
            source,
            topic,
            author,
            date,
            runs,
        } = columns.row_columns.clone();
        let kind = columns.kind.clone();
        let facet_run = runs.as_ref().map(|runs| runs.keys.clone());
        // The rows serve a segment that finds its runs by key.
        let rows = runs.map(|Runs { shape, .. }| {
            let lazy = (self.rows.get(&reader.segment_id()).cloned()).unwrap_or_default();
            RowsToOpen {
                lazy,
                dir: self.dir.clone(),
                id: reader.segment_id(),
                shape,
            }
        });
        // The commit's values serve a segment whose columns they were made
        // from (another commit's segment reads its own labels).
        let global = (self.values.as_ref()).and_then(|values| {
            let segment = values.segment(reader.segment_id())?;
            let columns = [&source, &topic, &kind, &author];
            let made_from = (columns.iter().enumerate()).all(|(c, column)| {
                column.as_ref().map_or(0, |column| column.num_terms()) == values.terms(c, segment)
            });
            made_from.then(|| (Arc::clone(values), segment))
        });
        Ok(SegmentCounter {
            global,
            block: Vec::with_capacity(BLOCK),
            heads: Vec::with_capacity(2 * BLOCK),
            weights: Vec::with_capacity(2 * BLOCK),
            run: None,
            keys: Vec::with_capacity(BLOCK),
            scratch: Scratch::default(),
            facet_run,
            head_keys: Vec::with_capacity(2 * BLOCK),
            rows,
            row_values: Vec::new(),
            source: Ordinals::open(source),
            topic: Ordinals::open(topic),
            kind: Ordinals::open(kind),
            author: Ordinals::open(author),
            dates: date.map(DayCounts::new),
            bucket: self.bucket,
            facets,
            missing: Missing::default(),
            exact_up_to: (self.exact_up_to).map(|n| share(n, reader.max_doc(), self.docs)),
            matches: 0,
            exact: None,
            matches_sampled: 0,
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, mut fruits: Vec<SegmentCounts>) -> tantivy::Result<Counts> {
        if let Some(error) = fruits.iter_mut().find_map(|f| f.error.take()) {
            return Err(error);
        }
        // Only the values kept become strings of their own.
        let tops = [self.top, self.top, None, self.top];
        let shared = (fruits.first())
            .and_then(|f| f.global.clone())
            .filter(|values| {
                (fruits.iter()).all(|f| f.global.as_ref().is_some_and(|v| Arc::ptr_eq(v, values)))
            });
        let [source, topic, kind, author] = [0, 1, 2, 3].map(|column| match &shared {
            Some(values) => by_place(&fruits, values, column, tops[column]),
            None => by_label(&fruits, column, tops[column]),
        });
        let mut counts = Counts {
            source,
            topic,
            kind,
            author,
            estimated: fruits.iter().any(|f| f.estimated),
            ..Counts::default()
        };
        for fruit in fruits {
            for (bucket, count) in fruit.date {
                *counts.date.entry(bucket).or_insert(0) += count;
            }
            let (all, one) = (&mut counts.missing, fruit.missing);
            all.source += one.source;
            all.topic += one.topic;
            all.kind += one.kind;
            all.author += one.author;
            all.date += one.date;
        }
        Ok(counts)
    }
}

/// Column `column`'s counts summed over the segments by place in the
/// commit's list (`values`), the `top` most frequent kept (places are in
/// the values' order, so ties go by value).
fn by_place(
    fruits: &[SegmentCounts],
    values: &CommitValues,
    column: usize,
    top: Option<usize>,
) -> FxHashMap<String, u64> {
    // One sum a value of the list: places index it, no hashing.
    let mut sums = vec![0u64; values.len(column)];
    for fruit in fruits {
        for &(place, count) in &fruit.counted[column] {
            if let Some(sum) = sums.get_mut(place as usize) {
                *sum += count;
            }
        }
    }
    let mut all: Vec<(u32, u64)> = (sums.into_iter().enumerate())
        .filter(|&(_, sum)| sum > 0)
        .map(|(place, sum)| (place as u32, sum))
        .collect();
    keep_top(&mut all, top, |a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    (all.into_iter())
        .filter_map(|(place, count)| Some((values.value(column, place)?.to_string(), count)))
        .collect()
}

/// Column `column`'s counts summed over the segments by their text, read
/// from each segment's labels (or the commit's values), the `top` most
/// frequent kept (ties by value).
fn by_label(fruits: &[SegmentCounts], column: usize, top: Option<usize>) -> FxHashMap<String, u64> {
    let none = Labels::default();
    let mut sums: FxHashMap<&str, u64> = FxHashMap::default();
    for fruit in fruits {
        let labels = fruit.facets.labels.get().unwrap_or(&none).column(column);
        for &(n, count) in &fruit.counted[column] {
            let text = match &fruit.global {
                Some(values) => values.value(column, n),
                None => labels.get(n as usize),
            };
            if let Some(text) = text {
                *sums.entry(text).or_insert(0) += count;
            }
        }
    }
    let mut all: Vec<(&str, u64)> = sums.into_iter().collect();
    keep_top(&mut all, top, |a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    (all.into_iter())
        .map(|(text, count)| (text.to_string(), count))
        .collect()
}

/// Keeps the first `top` of `all` in `order` (all of them when `None`).
fn keep_top<T>(all: &mut Vec<T>, top: Option<usize>, order: impl FnMut(&T, &T) -> Ordering) {
    if let Some(top) = top.filter(|&top| all.len() > top) {
        all.select_nth_unstable_by(top, order);
        all.truncate(top);
    }
}

/// What one segment counted: each column's values counted at least once,
/// with their counts, as places in the commit's list (`global`) or as term
/// ordinals read by the segment's labels, and the date buckets.
pub(crate) struct SegmentCounts {
    global: Option<Arc<CommitValues>>,
    facets: Arc<SegmentFacets>,
    /// Why the labels could not be read, if they could not.
    error: Option<tantivy::TantivyError>,
    /// Source, topic, kind and author (as [`crate::facet_values::COLUMNS`]).
    counted: [Vec<(u32, u64)>; 4],
    date: FxHashMap<String, u64>,
    missing: Missing,
    /// Whether the counts were estimated from a sample.
    estimated: bool,
}

/// How many matches are counted at once: reading a block of documents'
/// values in one call per column lets the processor overlap the memory
/// reads of many documents, where one call a document waits for each.
const BLOCK: usize = 64;

/// Past the bound of exact counting, one match in this many is counted.
pub(crate) const SAMPLE_EVERY: u64 = 16;

/// Whether `doc` is sampled: one document in [`SAMPLE_EVERY`], the same
/// every time (Fibonacci hashing: the product's high bits mix all of the
/// number's). Documents, not items: an item's records share their source,
/// topics, authors and date, so sampling whole items (or stretches of
/// neighbouring records) made the estimates' errors 2 to 3 times larger at
/// 1,000,000 pages, for 8% less time (BENCHMARKS.md).
fn sampled(doc: DocId) -> bool {
    u64::from(doc).wrapping_mul(0x9E37_79B9_7F4A_7C15) < u64::MAX / SAMPLE_EVERY
}

/// The counts of one segment.
///
/// Matches come in document order, and the records of one item sit next to
/// each other with the same source, topics, authors and date. So the kind
/// is read for every match, but those four only for the first match of each
/// run of matches with the same `facet_run` key, and counted as many times
/// as the run is long: at 100,000 generated pages a run of matches is 2 to 3
/// records long for the bench queries.
pub(crate) struct SegmentCounter {
    /// The commit's values and this segment's number among its segments,
    /// when they serve it.
    global: Option<(Arc<CommitValues>, usize)>,
    /// Matches not yet counted (fewer than [`BLOCK`]), in document order.
    block: Vec<DocId>,
    /// The runs' first matches, and how many matches each run has.
    heads: Vec<DocId>,
    weights: Vec<u64>,
    /// The key of the run being read (its first match is the last of
    /// `heads`, whose weight is not final yet).
    run: Option<u64>,
    /// The `facet_run` keys of the block being counted.
    keys: Vec<u64>,
    scratch: Scratch,
    /// Each document's `facet_run` key, as its place among the segment's.
    facet_run: Option<Column<u64>>,
    /// The keys of `heads`, when found by key.
    head_keys: Vec<u64>,
    /// The segment's facet rows, when its runs are found by key.
    rows: Option<RowsToOpen>,
    /// The term ordinals of the row being counted.
    row_values: Vec<u32>,
    source: Option<Ordinals>,
    topic: Option<Ordinals>,
    kind: Option<Ordinals>,
    author: Option<Ordinals>,
    dates: Option<DayCounts>,
    bucket: DateBucket,
    /// The segment's columns and labels, kept with the commit.
    facets: Arc<SegmentFacets>,
    missing: Missing,
    /// How many matches are counted exactly before sampling starts (`None`:
    /// every match is counted).
    exact_up_to: Option<u64>,
    /// Matches seen, counted or not.
    matches: u64,
    /// Once sampling has started: the counts of the matches before it.
    exact: Option<Box<Tally>>,
    /// Matches counted since sampling started.
    matches_sampled: u64,
}

/// A segment's counts at one moment: those of the matches counted exactly,
/// set aside when sampling starts.
struct Tally {
    matches: u64,
    /// Source, topic, kind and author, by term ordinal.
    ordinals: [Vec<u64>; 4],
    dense_days: Vec<u64>,
    sparse_days: HashMap<i64, u64>,
    missing: Missing,
}

impl SegmentCollector for SegmentCounter {
    type Fruit = SegmentCounts;

    fn collect(&mut self, doc: DocId, _: Score) {
        if self.exact.is_some() {
            // Sampling: a match outside the sample is only seen.
            self.matches += 1;
            if !sampled(doc) {
                return;
            }
            self.matches_sampled += 1;
        }
        self.block.push(doc);
        if self.block.len() == BLOCK {
            self.end_block();
        }
    }

    fn harvest(mut self) -> SegmentCounts {
        self.end_block();
        self.count_runs(0);
        let estimated = self.add_exact_counts();
        let ordinals = [self.source, self.topic, self.kind, self.author];
        let any = ordinals
            .iter()
            .any(|o| o.as_ref().is_some_and(Ordinals::any));
        // Without the commit's values, the labels are read (all of them,
        // for the searches after) the first time a segment counts anything.
        let error = match (&self.global, any) {
            (None, true) => {
                let columns = (ordinals.each_ref()).map(|o| o.as_ref().map(|o| o.column.clone()));
                (self.facets.labels.get_or_find(|| Labels::read(&columns))).err()
            }
            _ => None,
        };
        // Term ordinals, or their places in the commit's values.
        let mut counted: [Vec<(u32, u64)>; 4] = Default::default();
        for (column, o) in ordinals.into_iter().enumerate() {
            let local = o.map(Ordinals::counted).unwrap_or_default();
            counted[column] = match &self.global {
                Some((values, segment)) => (local.into_iter())
                    .filter_map(|(ordinal, n)| Some((values.place(column, *segment, ordinal)?, n)))
                    .collect(),
                None => local,
            };
        }
        SegmentCounts {
            global: self.global.map(|(values, _)| values),
            facets: self.facets,
            error,
            counted,
            date: (self.dates)
                .map(|d| d.into_buckets(self.bucket))
                .unwrap_or_default(),
            missing: self.missing,
            estimated,
        }
    }
}

impl SegmentCounter {
    /// Counts the block of matches: all of them up to the bound of exact
    /// counting; past it, the exact counts are set aside and only the
    /// sampled matches counted (those of this block, then [`collect`]
    /// passes on only those).
    ///
    /// [`collect`]: SegmentCollector::collect
    fn end_block(&mut self) {
        let n = self.block.len() as u64;
        if n == 0 {
            return;
        }
        if self.exact.is_none() {
            let past_bound = self.exact_up_to.is_some_and(|bound| self.matches >= bound);
            if past_bound {
                // The open run is counted with the exact counts.
                self.count_runs(0);
                let tally = self.take_tally(self.matches);
                self.exact = Some(Box::new(tally));
                self.block.retain(|&doc| sampled(doc));
                self.matches_sampled += self.block.len() as u64;
            }
            self.matches += n;
        }
        self.count_block();
    }

    /// The source, topic, kind and author counts, in [`Tally::ordinals`]'s
    /// order.
    fn columns_mut(&mut self) -> [&mut Option<Ordinals>; 4] {
        [
            &mut self.source,
            &mut self.topic,
            &mut self.kind,
            &mut self.author,
        ]
    }

    /// The counts so far, leaving them empty.
    fn take_tally(&mut self, matches: u64) -> Tally {
        let ordinals = self.columns_mut().map(|o| {
            o.as_mut()
                .map(|o| std::mem::take(&mut o.counts))
                .unwrap_or_default()
        });
        let (dense_days, sparse_days) = match &mut self.dates {
            Some(dates) => (
                std::mem::take(&mut dates.dense),
                std::mem::take(&mut dates.sparse),
            ),
            None => Default::default(),
        };
        Tally {
            matches,
            ordinals,
            dense_days,
            sparse_days,
            missing: std::mem::take(&mut self.missing),
        }
    }

    /// Once every match is seen: when sampling started, scales the sample's
    /// counts up to the matches after the exact ones (so the kinds still sum
    /// to them, up to rounding) and adds the exact counts back. Returns
    /// whether the counts are estimates (some match was not counted).
    fn add_exact_counts(&mut self) -> bool {
        let Some(exact) = self.exact.take() else {
            return false;
        };
        let rest = self.matches - exact.matches;
        let scale = rest as f64 / self.matches_sampled.max(1) as f64;
        let up = |count: u64| (count as f64 * scale).round() as u64;
        let add = |counts: &mut Vec<u64>, exact: Vec<u64>| {
            if counts.len() < exact.len() {
                counts.resize(exact.len(), 0);
            }
            for (i, count) in counts.iter_mut().enumerate() {
                *count = up(*count) + exact.get(i).copied().unwrap_or(0);
            }
        };
        let Tally {
            ordinals,
            dense_days,
            sparse_days,
            missing,
            ..
        } = *exact;
        for (column, exact) in self.columns_mut().into_iter().zip(ordinals) {
            if let Some(column) = column {
                add(&mut column.counts, exact);
            }
        }
        if let Some(dates) = &mut self.dates {
            add(&mut dates.dense, dense_days);
            for count in dates.sparse.values_mut() {
                *count = up(*count);
            }
            for (day, count) in sparse_days {
                *dates.sparse.entry(day).or_insert(0) += count;
            }
        }
        let m = &mut self.missing;
        for (sampled, exact) in [
            (&mut m.source, missing.source),
            (&mut m.topic, missing.topic),
            (&mut m.kind, missing.kind),
            (&mut m.author, missing.author),
            (&mut m.date, missing.date),
        ] {
            *sampled = up(*sampled) + exact;
        }
        rest > self.matches_sampled
    }

    /// Counts the kinds of the matches of [`SegmentCounter::block`] (once
    /// sampling has started, of those sampled), adds them to the runs, and
    /// empties it.
    fn count_block(&mut self) {
        self.keys.clear();
        match &self.facet_run {
            Some(column) => {
                self.keys.resize(self.block.len(), 0);
                column.values.get_vals(&self.block, &mut self.keys);
            }
            None => self.run = None,
        }
        let (docs, scratch) = (&self.block, &mut self.scratch);
        let all = docs.len() as u64;
        self.missing.kind += match &mut self.kind {
            Some(kind) => all - kind.count(docs, None, scratch),
            None => all,
        };
        for (i, &doc) in docs.iter().enumerate() {
            let key = self.keys.get(i).copied();
            match self.weights.last_mut() {
                Some(weight) if key.is_some() && key == self.run => *weight += 1,
                _ => {
                    self.heads.push(doc);
                    self.weights.push(1);
                    self.head_keys.extend(key);
                    self.run = key;
                }
            }
        }
        self.block.clear();
        // The last run may go on in the next block.
        self.count_runs(BLOCK);
    }

    /// Counts the runs but the last `keep` (all of them when `keep` is 0)
    /// once there are more than `keep`; the last run stays open unless
    /// every run is counted.
    fn count_runs(&mut self, keep: usize) {
        if self.heads.len() <= keep {
            return;
        }
        let done = match keep {
            0 => self.heads.len(),
            _ => self.heads.len() - 1,
        };
        // Opened by the first count of the commit's searches in the segment.
        let lazy = (self.rows.as_ref()).map(|r| Arc::clone(&r.lazy));
        let rows = match (&self.rows, &lazy) {
            (Some(to_open), Some(lazy)) => lazy
                .get_or_find(|| Ok::<_, std::convert::Infallible>(to_open.open()))
                .ok()
                .and_then(Option::as_ref),
            _ => None,
        };
        let (heads, weights) = (
            std::mem::take(&mut self.heads),
            std::mem::take(&mut self.weights),
        );
        let keys = std::mem::take(&mut self.head_keys);
        let (docs, counts) = (&heads[..done], &weights[..done]);
        match rows.filter(|_| keys.len() == heads.len()) {
            Some(rows) => {
                // Runs whose entry does not read (a damaged file) are
                // counted from the columns.
                let (mut docs_left, mut counts_left) = (Vec::new(), Vec::new());
                let mut values = std::mem::take(&mut self.row_values);
                // The rows are fetched ahead of use: where each starts
                // `AHEAD` runs ahead, the row itself half as far.
                const AHEAD: usize = 16;
                for &key in keys.iter().take(AHEAD) {
                    rows.prefetch(key, true);
                }
                for &key in keys.iter().take(AHEAD / 2) {
                    rows.prefetch(key, false);
                }
                for (i, ((&doc, &weight), &key)) in docs.iter().zip(counts).zip(&keys).enumerate() {
                    if let Some(&ahead) = keys.get(i + AHEAD) {
                        rows.prefetch(ahead, true);
                    }
                    if let Some(&ahead) = keys.get(i + AHEAD / 2) {
                        rows.prefetch(ahead, false);
                    }
                    match rows.row(key, &mut values) {
                        Some(row) => self.count_row(&row, weight),
                        None => {
                            docs_left.push(doc);
                            counts_left.push(weight);
                        }
                    }
                }
                self.row_values = values;
                if !docs_left.is_empty() {
                    self.count_columns(&docs_left, &counts_left);
                }
            }
            None => self.count_columns(docs, counts),
        }
        (self.heads, self.weights, self.head_keys) = (heads, weights, keys);
        self.heads.drain(..done);
        self.weights.drain(..done);
        self.head_keys.drain(..done.min(self.head_keys.len()));
        if keep == 0 {
            self.run = None;
        }
    }

    /// Counts a run of `weight` matches whose values are `row`'s.
    fn count_row(&mut self, row: &Row, weight: u64) {
        let missing = &mut self.missing;
        match (row.source, &mut self.source) {
            (Some(source), Some(ordinals)) => ordinals.add(source, weight),
            _ => missing.source += weight,
        }
        for (values, ordinals, missing) in [
            (row.topics, &mut self.topic, &mut missing.topic),
            (row.authors, &mut self.author, &mut missing.author),
        ] {
            match ordinals {
                Some(ordinals) if !values.is_empty() => {
                    values.iter().for_each(|&v| ordinals.add(v, weight));
                }
                _ => *missing += weight,
            }
        }
        match (row.day, &mut self.dates) {
            (Some(day), Some(dates)) => dates.add(day, weight),
            _ => missing.date += weight,
        }
    }

    /// Counts the runs whose first matches are `docs` (sorted), of `weights`
    /// matches, from the segment's columns.
    fn count_columns(&mut self, docs: &[DocId], weights: &[u64]) {
        let all: u64 = weights.iter().sum();
        let scratch = &mut self.scratch;
        for (ordinals, missing) in [
            (&mut self.source, &mut self.missing.source),
            (&mut self.topic, &mut self.missing.topic),
            (&mut self.author, &mut self.missing.author),
        ] {
            *missing += match ordinals {
                Some(ordinals) => all - ordinals.count(docs, Some(weights), scratch),
                None => all,
            };
        }
        self.missing.date += match &mut self.dates {
            Some(dates) => all - dates.count(docs, weights, scratch),
            None => all,
        };
    }
}

/// Where a segment's facet rows are, to open them on first use.
struct RowsToOpen {
    /// Shared by the searches of a commit.
    lazy: Arc<Lazy<Option<FacetRows>>>,
    dir: PathBuf,
    id: SegmentId,
    shape: Shape,
}

impl RowsToOpen {
    fn open(&self) -> Option<FacetRows> {
        FacetRows::open(&self.dir, self.id, self.shape)
    }
}

/// Buffers for reading a block of documents' values.
#[derive(Default)]
struct Scratch {
    /// The documents with a value, once for each of their values.
    docs: Vec<DocId>,
    /// Where each of those values is in the column.
    rows: Vec<u32>,
    /// How many times each of those values counts.
    row_weights: Vec<u64>,
    /// A multi-valued column: the ranks of the documents with values, the
    /// ranks after them, and where their values start and end.
    ranks: Vec<u32>,
    next: Vec<u32>,
    starts: Vec<u32>,
    ends: Vec<u32>,
    values: Vec<u64>,
    dates: Vec<DateTime>,
}

impl Scratch {
    /// The rows of the values of `docs` (sorted) in `column`, into
    /// [`Scratch::rows`], with the weight of each row's document (1 when
    /// `weights` is `None`) in [`Scratch::row_weights`]; returns the weight
    /// of the documents of `docs` that have a value.
    fn rows<T>(&mut self, column: &Column<T>, docs: &[DocId], weights: Option<&[u64]>) -> u64 {
        let weight = |i: usize| weights.map_or(1, |w| w[i]);
        self.docs.clear();
        self.rows.clear();
        self.row_weights.clear();
        match &column.index {
            ColumnIndex::Full => {
                self.rows.extend_from_slice(docs);
                match weights {
                    Some(weights) => {
                        self.row_weights.extend_from_slice(weights);
                        weights.iter().sum()
                    }
                    None => {
                        self.row_weights.resize(docs.len(), 1);
                        docs.len() as u64
                    }
                }
            }
            ColumnIndex::Multivalued(MultiValueIndex::MultiValueIndexV2(index)) => {
                // Where each document's values start and end, a block at a
                // time as well.
                self.ranks.clear();
                (index.optional_index).rank_if_exists_batch(docs, &mut self.docs, &mut self.ranks);
                self.next.clear();
                self.next.extend(self.ranks.iter().map(|rank| rank + 1));
                for (bounds, ranks) in [
                    (&mut self.starts, &self.ranks),
                    (&mut self.ends, &self.next),
                ] {
                    bounds.clear();
                    bounds.resize(ranks.len(), 0);
                    index.start_index_column.get_vals(ranks, bounds);
                }
                // `self.docs` is the documents of `docs` with values, in order.
                let mut with_value = 0;
                let mut at = 0;
                for ((&doc, &start), &end) in self.docs.iter().zip(&self.starts).zip(&self.ends) {
                    while docs[at] != doc {
                        at += 1;
                    }
                    self.rows.extend(start..end);
                    self.row_weights.extend((start..end).map(|_| weight(at)));
                    if start < end {
                        with_value += weight(at);
                    }
                }
                with_value
            }
            index => {
                index.docids_to_rowids(docs, &mut self.docs, &mut self.rows);
                // One entry a value, with its document: the documents with
                // one are the runs.
                let mut with_value = 0;
                let mut at = 0;
                for (n, &doc) in self.docs.iter().enumerate() {
                    while docs[at] != doc {
                        at += 1;
                    }
                    self.row_weights.push(weight(at));
                    if n == 0 || self.docs[n - 1] != doc {
                        with_value += weight(at);
                    }
                }
                with_value
            }
        }
    }
}

/// A string column's term ordinals, counted.
struct Ordinals {
    column: StrColumn,
    ords: Column<u64>,
    /// One count a term, once a value is counted (empty before).
    counts: Vec<u64>,
}

impl Ordinals {
    fn open(column: Option<StrColumn>) -> Option<Ordinals> {
        let column = column?;
        Some(Ordinals {
            ords: column.ords().clone(),
            column,
            counts: Vec::new(),
        })
    }

    /// Whether any value was counted.
    fn any(&self) -> bool {
        !self.counts.is_empty()
    }

    /// Counts term `ordinal` `weight` times.
    fn add(&mut self, ordinal: u32, weight: u64) {
        if self.counts.is_empty() {
            self.counts = vec![0; self.column.num_terms()];
        }
        self.counts[ordinal as usize] += weight;
    }

    /// Counts the values of `docs` (sorted), each as many times as its
    /// weight (once when `weights` is `None`); returns the weight of those
    /// that have one.
    fn count(&mut self, docs: &[DocId], weights: Option<&[u64]>, scratch: &mut Scratch) -> u64 {
        let with_value = scratch.rows(&self.ords, docs, weights);
        scratch.values.clear();
        scratch.values.resize(scratch.rows.len(), 0);
        self.ords
            .values
            .get_vals(&scratch.rows, &mut scratch.values);
        for (&ord, &weight) in scratch.values.iter().zip(&scratch.row_weights) {
            self.add(ord as u32, weight);
        }
        with_value
    }

    /// Every ordinal counted at least once, with its count.
    fn counted(self) -> Vec<(u32, u64)> {
        (self.counts.iter().enumerate())
            .filter(|&(_, &count)| count > 0)
            .map(|(ordinal, &count)| (ordinal as u32, count))
            .collect()
    }
}

/// Widest date span counted in an array; wider spans (only hostile dates
/// make them) are counted in a map.
const DENSE_DAYS: i64 = 50_000;

/// Records per day since the epoch.
struct DayCounts {
    column: Column<DateTime>,
    first: i64,
    /// Days from the first date to the last.
    span: i64,
    /// One count a day of the span, once a date is counted (empty before,
    /// and for a span wider than [`DENSE_DAYS`]).
    dense: Vec<u64>,
    sparse: HashMap<i64, u64>,
}

impl DayCounts {
    fn new(column: Column<DateTime>) -> DayCounts {
        let first = day_of(column.min_value());
        let span = day_of(column.max_value()) - first + 1;
        DayCounts {
            column,
            first,
            span,
            dense: Vec::new(),
            sparse: HashMap::new(),
        }
    }

    /// Counts the dates of `docs` (sorted), each as many times as its
    /// weight; returns the weight of those that have one.
    fn count(&mut self, docs: &[DocId], weights: &[u64], scratch: &mut Scratch) -> u64 {
        let with_value = scratch.rows(&self.column, docs, Some(weights));
        scratch.dates.clear();
        scratch.dates.resize(scratch.rows.len(), DateTime::MIN);
        self.column
            .values
            .get_vals(&scratch.rows, &mut scratch.dates);
        for i in 0..scratch.dates.len() {
            self.add(day_of(scratch.dates[i]), scratch.row_weights[i]);
        }
        with_value
    }

    /// Counts day `day` `weight` times.
    fn add(&mut self, day: i64, weight: u64) {
        if self.dense.is_empty() && self.span <= DENSE_DAYS {
            self.dense = vec![0; self.span as usize];
        }
        match self.dense.get_mut((day - self.first) as usize) {
            Some(slot) => *slot += weight,
            None => *self.sparse.entry(day).or_insert(0) += weight,
        }
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

#[cfg(test)]
mod tests {
    use super::share;
    use crate::model::Kind;
    use crate::{Index, SearchRequest};

    #[test]
    fn facets_are_the_same_whatever_the_searches_before() {
        // The labels of a segment are read by the first search that counts
        // anything in it, and kept for the searches after: a first search
        // that counts few values must leave all of them for the next.
        let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
        let dir = tempfile::tempdir().unwrap();
        crate::ingest::build(&corpus, dir.path(), &|_| {}).unwrap();
        // Without the commit's list of values, each segment reads its own.
        std::fs::remove_file(dir.path().join(crate::facet_values::FILE)).unwrap();
        let every = SearchRequest::new("*");
        let fresh = Index::open(dir.path()).unwrap().search(&every).unwrap();
        assert!(fresh.facets.author.len() > 5 && fresh.facets.topic.len() > 5);
        let index = Index::open(dir.path()).unwrap();
        for first in [
            // Thread records: a kind, a date, no source, topic or author.
            SearchRequest {
                kinds: vec![Kind::Tension],
                ..SearchRequest::new("*")
            },
            SearchRequest::new("zzzqqq"),
            SearchRequest::new("grokking"),
        ] {
            index.search(&first).unwrap();
            let after = index.search(&every).unwrap();
            assert_eq!(after.facets, fresh.facets, "after {}", first.query);
            assert_eq!(after.total, fresh.total);
        }
    }

    #[test]
    fn facets_are_the_same_with_the_commits_values_and_without() {
        // With the list the write run keeps, counts are added up by place
        // in it; without, by each segment's own labels.
        let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
        let dir = tempfile::tempdir().unwrap();
        crate::ingest::build(&corpus, dir.path(), &|_| {}).unwrap();
        let requests = [
            SearchRequest::new("*"),
            SearchRequest::new("grokking"),
            SearchRequest::new("double descent"),
            SearchRequest {
                kinds: vec![Kind::Quote],
                ..SearchRequest::new("training")
            },
            SearchRequest {
                collapse: true,
                ..SearchRequest::new("memorization")
            },
        ];
        let answer = || {
            let index = Index::open(dir.path()).unwrap();
            let facets: Vec<_> = (requests.iter())
                .map(|r| index.search(r).unwrap().facets)
                .collect();
            let stats = index.stats().unwrap();
            (facets, stats.kinds, stats.sources, stats.first_date)
        };
        let with = answer();
        let file = dir.path().join(crate::facet_values::FILE);
        std::fs::remove_file(file).unwrap();
        assert_eq!(answer(), with);
        assert!(with.0[0].author.len() > 5 && with.0[0].topic.len() > 5);
        // Without the segments' facet rows, each run's values are read
        // from the columns; with damaged rows, those of the runs whose
        // entries do not read.
        let rows: Vec<_> = (std::fs::read_dir(dir.path()).unwrap())
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.to_string_lossy().contains("facet-rows-"))
            .collect();
        assert!(!rows.is_empty());
        for path in &rows {
            let mut bytes = std::fs::read(path).unwrap();
            // Runs of four 0xff bytes in the second half of the file: no
            // entry can hold a varint of 2^28 or more, nor end inside one.
            let end = bytes.len();
            for at in (end / 8 * 4..end - 4).step_by(28) {
                bytes[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
            }
            std::fs::write(path, bytes).unwrap();
        }
        assert_eq!(answer(), with);
        rows.iter()
            .for_each(|path| std::fs::remove_file(path).unwrap());
        assert_eq!(answer(), with);
    }

    /// A segment's share of the bound is in proportion to its documents,
    /// rounded up, and never overflows.
    #[test]
    fn a_segment_counts_its_share_of_the_bound_exactly() {
        assert_eq!(share(50_000, 300_000, 1_500_000), 10_000);
        assert_eq!(share(50_000, 350_000, 15_223_771), 1_150);
        assert_eq!(share(64, 1_000, 1_000), 64);
        assert_eq!(share(1, 1, 3), 1);
        assert_eq!(share(u64::MAX, 10, 10), u64::MAX);
        assert_eq!(share(u64::MAX, 7, 10), 12_912_720_851_596_686_131);
        assert_eq!(share(500, 10, 0), 500);
    }

    #[test]
    fn facets_past_the_bound_are_estimated_from_a_sample_and_said_to_be() {
        let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
        let dir = tempfile::tempdir().unwrap();
        crate::ingest::build(&corpus, dir.path(), &|_| {}).unwrap();
        let index = Index::open(dir.path()).unwrap();
        let every = SearchRequest {
            limit: 1,
            ..SearchRequest::new("*")
        };
        let exact = index.search(&every).unwrap();
        let stats = index.stats().unwrap().kinds;
        assert!(exact.facets_exact, "the corpus is far under the bound");
        let total = exact.total as u64;
        assert!(total > 500, "{total}");

        index.count_facets_exactly_up_to(64);
        let estimated = index.search(&every).unwrap();
        assert!(!estimated.facets_exact);
        assert_eq!(estimated.total, exact.total, "the total is always exact");
        assert_eq!(estimated.hits[0].record.id, exact.hits[0].record.id);
        assert_ne!(estimated.facets, exact.facets);
        // Scaled up to every match: the kinds (one a record) add up to the
        // total, but for rounding (half a match a kind and segment).
        let segments = (std::fs::read_dir(dir.path()).unwrap())
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "idx")
            })
            .count() as u64;
        let kinds: u64 = estimated.facets.kind.iter().map(|k| k.count).sum();
        let rounding = segments * Kind::ALL.len() as u64;
        assert!(kinds.abs_diff(total) <= rounding, "{kinds} against {total}");
        // A sample finds no value that no match has.
        for (guesses, values) in [
            (&estimated.facets.kind, &exact.facets.kind),
            (&estimated.facets.date, &exact.facets.date),
        ] {
            for guess in guesses {
                assert!(values.iter().any(|v| v.value == guess.value), "{guess:?}");
            }
        }
        // Collapsed, the same matches, the same estimates.
        let collapsed = SearchRequest {
            collapse: true,
            ..every.clone()
        };
        let answer = index.search(&collapsed).unwrap();
        assert!(!answer.facets_exact);
        assert_eq!(answer.facets, estimated.facets);
        // The same sample every time: another reader estimates the same.
        let other = Index::open(dir.path()).unwrap();
        other.count_facets_exactly_up_to(64);
        assert_eq!(other.search(&every).unwrap().facets, estimated.facets);

        // Asked for exact facets, or with no more matches than the bound,
        // the counts are exact (and not the estimates kept before).
        let asked = SearchRequest {
            exact_facets: true,
            ..every.clone()
        };
        let answer = index.search(&asked).unwrap();
        assert!(answer.facets_exact);
        assert_eq!(answer.facets, exact.facets);
        for bound in [total, u64::MAX] {
            index.count_facets_exactly_up_to(bound);
            let answer = index.search(&every).unwrap();
            assert!(answer.facets_exact, "{bound}");
            assert_eq!(answer.facets, exact.facets, "{bound}");
        }
        // Stats count the whole index exactly whatever the bound.
        index.count_facets_exactly_up_to(64);
        assert_eq!(index.stats().unwrap().kinds, stats);
    }
}
