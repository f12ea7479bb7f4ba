//! BM25F (Robertson, Zaragoza and Taylor, 2004): one word scored over several
//! fields as if they were one document, each field's occurrences counted
//! `weight` times and normalised by that field's own length, then saturated
//! once. Tantivy's BM25 scores each field apart and adds the scores, which
//! rewards a word found in a short title as much as a second word found.
//!
//! Each plain word of a query is one [`WordQuery`] over the record's text,
//! its item's title and its topics: one saturation for all three, so a word
//! found in both text and title counts more than in either, but not twice.
//! EVALUATION.md has the measurements behind every weight here.

use std::sync::Arc;

use tantivy::directory::OwnedBytes;
use tantivy::fieldnorm::FieldNormReader;
use tantivy::postings::{BlockSegmentPostings, SegmentPostings};
use tantivy::query::{Bm25Weight, EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::schema::{Field as SchemaField, IndexRecordOption};
use tantivy::{DocId, DocSet, Score, SegmentReader, TantivyError, Term, TERMINATED};

use crate::model::Kind;
use crate::prefetch::prefetch;
use crate::schema::Fields;

/// Weight of a match in the title, relative to one in the record's own text:
/// the title says what the item is about, not what this claim or quote says.
pub(crate) const TITLE_WEIGHT: Score = 0.5;
/// Weight of a title match in a summary record. A summary stands for the
/// whole item, so the item's title is its own heading, as telling as its text.
const SUMMARY_TITLE_WEIGHT: Score = 3.0;
/// Weight of a match in the topic words.
pub(crate) const TOPICS_WEIGHT: Score = 0.3;

/// Whether `query` is one word scored by BM25F ([`word_query`]): its
/// scorer is then a [`WordScorer`], which can say how well a match could
/// score before scoring it.
pub(super) fn is_word(query: &dyn Query) -> bool {
    query.is::<WordQuery>()
}

/// One analysed word, scored by BM25F over text, title and topics.
pub(super) fn word_query(f: &Fields, token: &str) -> Box<dyn Query> {
    let term = |field| Term::from_field_text(field, token);
    let fields = vec![
        Field::new(term(f.text), 1.0, 1.0),
        Field::new(term(f.title), TITLE_WEIGHT, SUMMARY_TITLE_WEIGHT),
        Field::new(term(f.topics), TOPICS_WEIGHT, TOPICS_WEIGHT),
    ];
    let summaries = Term::from_field_text(f.kind, Kind::Summary.as_str());
    Box::new(WordQuery::new(fields, summaries))
}

/// Term-frequency saturation (Tantivy's and Lucene's default).
const K1: Score = 1.2;
/// Strength of the field-length normalisation (idem).
const B: Score = 0.75;

/// The word in one field, with its weight in records of any kind but
/// summaries, and in summaries.
#[derive(Clone, Debug)]
struct Field {
    term: Term,
    weight: Score,
    summary_weight: Score,
}

impl Field {
    fn new(term: Term, weight: Score, summary_weight: Score) -> Field {
        Field {
            term,
            weight,
            summary_weight,
        }
    }
}

/// One analysed word in several fields.
#[derive(Clone, Debug)]
struct WordQuery {
    fields: Vec<Field>,
    /// The `kind:summary` term: which records are summaries.
    summaries: Term,
}

impl WordQuery {
    fn new(fields: Vec<Field>, summaries: Term) -> WordQuery {
        WordQuery { fields, summaries }
    }
}

impl Query for WordQuery {
    fn weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(self.word_weight(scoring)?))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        for field in &self.fields {
            visitor(&field.term, false);
        }
    }
}

impl WordQuery {
    fn word_weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<WordWeight> {
        let mut idf = 0.0;
        let mut averages = vec![1.0; self.fields.len()];
        if let EnableScoring::Enabled {
            statistics_provider: stats,
            ..
        } = scoring
        {
            let docs = stats.total_num_docs()?.max(1);
            // The word's document frequency is that of its most common
            // field: exact for the union would cost a pass over postings.
            let mut doc_freq = 0;
            for (field, average) in self.fields.iter().zip(&mut averages) {
                doc_freq = doc_freq.max(stats.doc_freq(&field.term)?);
                let tokens = stats.total_num_tokens(field.term.field())?;
                *average = (tokens as Score / docs as Score).max(1.0);
            }
            idf = idf_of(doc_freq.min(docs), docs);
        }
        let parts = self
            .fields
            .iter()
            .zip(averages)
            .map(|(field, average)| WeightedField {
                term: field.term.clone(),
                norms: norm_table(field.weight, average),
                summary_norms: norm_table(field.summary_weight, average),
                weight: field.weight,
                summary_weight: field.summary_weight,
                average,
                unit: Bm25Weight::for_one_term_without_explain(1, 2, average),
            })
            .collect();
        Ok(WordWeight {
            parts,
            idf,
            summaries: self.summaries.clone(),
        })
    }
}

/// BM25's inverse document frequency, as Tantivy and Lucene compute it.
fn idf_of(doc_freq: u64, docs: u64) -> Score {
    let rest = (docs - doc_freq) as Score + 0.5;
    (1.0 + rest / (doc_freq as Score + 0.5)).ln()
}

/// `weight / (1 - B + B * length / average)` for each of the 256 field
/// length codes Tantivy stores.
fn norm_table(weight: Score, average: Score) -> Arc<[Score; 256]> {
    let mut table = [0.0; 256];
    for (code, slot) in table.iter_mut().enumerate() {
        let length = FieldNormReader::id_to_fieldnorm(code as u8) as Score;
        *slot = weight / (1.0 - B + B * length / average);
    }
    Arc::new(table)
}

struct WeightedField {
    term: Term,
    norms: Arc<[Score; 256]>,
    summary_norms: Arc<[Score; 256]>,
    /// The field's weights in records of other kinds and in summaries.
    weight: Score,
    summary_weight: Score,
    /// The field's average length over the index, as `norms` use it.
    average: Score,
    /// Tantivy's BM25 with that average: how a block's best posting, which
    /// the postings store, is read back (see [`Bound`]).
    unit: Bm25Weight,
}

struct WordWeight {
    parts: Vec<WeightedField>,
    idf: Score,
    summaries: Term,
}

impl WordWeight {
    fn word_scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<WordScorer> {
        let mut parts = Vec::with_capacity(self.parts.len());
        for part in &self.parts {
            let field = part.term.field();
            let postings = reader
                .inverted_index(field)?
                .read_block_postings(&part.term, IndexRecordOption::WithFreqs)?;
            if let Some(postings) = postings {
                let bound = Bound::new(part, reader, field)?;
                parts.push(FieldPostings {
                    postings: Cursor::new(postings, field_lengths(reader, field)?),
                    norms: Arc::clone(&part.norms),
                    summary_norms: Arc::clone(&part.summary_norms),
                    kind_matters: part.norms != part.summary_norms,
                    weights: (part.weight, part.summary_weight),
                    bound,
                });
            }
        }
        let summaries = reader
            .inverted_index(self.summaries.field())?
            .read_postings(&self.summaries, IndexRecordOption::Basic)?;
        Ok(WordScorer::new(parts, summaries, self.idf * boost))
    }
}

/// The length codes of `field` in `reader`'s segment, one byte a record:
/// what Tantivy's field-norm reader reads, as bytes a [`Cursor`] can also
/// ask for ahead.
fn field_lengths(reader: &SegmentReader, field: SchemaField) -> tantivy::Result<OwnedBytes> {
    match reader
        .fieldnorms_readers()
        .get_inner_file()
        .open_read(field)
    {
        Some(file) => Ok(file.read_bytes()?),
        None => Err(TantivyError::SchemaError(format!(
            "no field lengths for the field {:?}",
            reader.schema().get_field_name(field)
        ))),
    }
}

impl Weight for WordWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        Ok(Box::new(self.word_scorer(reader, boost)?))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let mut scorer = self.word_scorer(reader, 1.0)?;
        if scorer.seek(doc) != doc {
            return Err(TantivyError::InvalidArgument(format!(
                "document #{doc} does not match"
            )));
        }
        Ok(Explanation::new("BM25F", scorer.score()))
    }
}

struct FieldPostings {
    postings: Cursor,
    norms: Arc<[Score; 256]>,
    summary_norms: Arc<[Score; 256]>,
    /// Whether this field weighs differently in summaries (only then is
    /// the record's kind looked up).
    kind_matters: bool,
    /// The field's weights in records of other kinds and in summaries.
    weights: (Score, Score),
    bound: Bound,
}

impl FieldPostings {
    /// The field's term frequency at the current record, weighted and
    /// length-normalised.
    fn weighted_tf(&self, summary: bool) -> Score {
        let norms = if summary {
            &self.summary_norms
        } else {
            &self.norms
        };
        self.postings.term_freq() as Score * norms[self.postings.length() as usize]
    }
}

/// The most a posting of a block of a field's postings can add to a
/// record's weighted term frequency, from what Tantivy stores for each full
/// block of postings: the block's posting of best BM25 term factor
/// (term frequency over normalised length), chosen with the segment's own
/// average field length when it was written.
///
/// Read back with the index's average length `a` instead of the segment's
/// `s`, that posting need not be the best any more: the normalised length
/// `1 - B + B * l / avg` of any record changes by a factor between
/// `min(1, s / a)` and `max(1, s / a)` from one average to the other, so
/// the block's best under `a` is at most the stored posting's factor under
/// `a` times `max(a / s, s / a)` (`slack`); a weight multiplies that.
struct Bound {
    lengths: FieldNormReader,
    unit: Bm25Weight,
    /// `unit`'s weight: its score of a term factor of 1.
    scale: Score,
    /// The slack of the segment's average.
    slack: Score,
}

impl Bound {
    fn new(
        part: &WeightedField,
        reader: &SegmentReader,
        field: SchemaField,
    ) -> tantivy::Result<Bound> {
        let tokens = reader.inverted_index(field)?.total_num_tokens() as Score;
        let segment_average = tokens / reader.max_doc().max(1) as Score;
        let slack = match segment_average > 0.0 {
            true => (part.average / segment_average).max(segment_average / part.average),
            false => Score::INFINITY,
        };
        Ok(Bound {
            lengths: reader.get_fieldnorms_reader(field)?,
            unit: part.unit.clone(),
            // A term frequency of 1 at length 0 has the factor
            // `1 / (1 + K1 * (1 - B))`.
            scale: part.unit.score(0, 1) * (1.0 + K1 * (1.0 - B)),
            slack,
        })
    }

    /// The most the current block of `postings` can add.
    fn of_block(&self, postings: &mut BlockSegmentPostings) -> Score {
        // The stored posting's BM25 score over `scale` is its term factor
        // `tf / (tf + K1 * n)`, `n` its normalised length; `tf / n` is what
        // a weight multiplies.
        let factor = postings.block_max_score(&self.lengths, &self.unit) / self.scale;
        if factor >= 1.0 || factor.is_nan() {
            return Score::INFINITY;
        }
        self.slack * K1 * factor / (1.0 - factor)
    }
}

/// How many postings ahead of the one being scored a [`Cursor`] asks for
/// the record's field length.
const AHEAD: usize = 8;
/// Postings a block holds (Tantivy's compression block).
const BLOCK: usize = 128;

/// A term's postings in a field, walked a block at a time like Tantivy's
/// own, that asks for the field length of the record [`AHEAD`] postings on
/// before it is scored. A common word's records are scattered over the
/// segment, so each length read is a cache miss: waited for one at a time,
/// they took a seventh of a broad search at 1,000,000 pages (BENCHMARKS.md).
struct Cursor {
    block: BlockSegmentPostings,
    /// The current posting's place in `block`.
    at: usize,
    /// The field's length codes, one byte a record.
    lengths: OwnedBytes,
    /// The first record of the block last bounded, and its bound.
    best: (DocId, Score),
}

impl Cursor {
    fn new(block: BlockSegmentPostings, lengths: OwnedBytes) -> Cursor {
        let cursor = Cursor {
            block,
            at: 0,
            lengths,
            best: (TERMINATED, 0.0),
        };
        (0..=AHEAD).for_each(|at| cursor.ask(at));
        cursor
    }

    /// Asks for the length of the record of the posting at `at` in the block.
    fn ask(&self, at: usize) {
        let Some(&doc) = self.block.docs().get(at) else {
            return;
        };
        if let Some(length) = self.lengths.as_slice().get(doc as usize..) {
            prefetch(length);
        }
    }

    fn doc(&self) -> DocId {
        self.block.doc(self.at)
    }

    fn term_freq(&self) -> u32 {
        self.block.freq(self.at)
    }

    /// The length code of the current record.
    fn length(&self) -> u8 {
        self.lengths[self.doc() as usize]
    }

    fn size_hint(&self) -> u32 {
        self.block.doc_freq()
    }

    /// The last record of the current block.
    fn block_end(&self) -> DocId {
        self.block.docs().last().copied().unwrap_or(TERMINATED)
    }

    /// The most a posting of the current block can add (see [`Bound`]),
    /// found once a block.
    fn block_bound(&mut self, bound: &Bound) -> Score {
        let first = self.block.doc(0);
        if self.best.0 != first {
            self.best = (first, bound.of_block(&mut self.block));
        }
        self.best.1
    }

    fn advance(&mut self) -> DocId {
        if self.at == BLOCK - 1 {
            self.block.advance();
            self.at = 0;
            (0..=AHEAD).for_each(|at| self.ask(at));
        } else {
            self.at += 1;
            self.ask(self.at + AHEAD);
        }
        self.doc()
    }

    /// The first posting at or after `target`, as Tantivy's postings seek:
    /// the next one, else the block that may hold `target` through the
    /// skip list. A seek lands where another word matched, so the record
    /// landed on is the one likely scored next.
    fn seek(&mut self, target: DocId) -> DocId {
        if self.doc() >= target {
            return self.doc();
        }
        self.at = (self.at + 1).min(BLOCK - 1);
        if self.doc() < target {
            self.at = self.block.seek(target);
            self.ask(self.at);
        }
        self.doc()
    }
}

/// Walks the union of the word's postings in each field.
pub(super) struct WordScorer {
    parts: Vec<FieldPostings>,
    summaries: Option<SegmentPostings>,
    idf: Score,
    doc: DocId,
    /// Records up to which none but summaries could reach the last
    /// `needed` asked about (see [`WordScorer::could_reach`]).
    hopeless: Option<Hopeless>,
}

/// Up to which record (`until`) no record could reach what a search needs
/// but a summary, and whether a summary could (`summaries_may`).
#[derive(Clone, Copy)]
struct Hopeless {
    until: DocId,
    summaries_may: bool,
}

impl WordScorer {
    fn new(
        parts: Vec<FieldPostings>,
        summaries: Option<SegmentPostings>,
        idf: Score,
    ) -> WordScorer {
        let mut scorer = WordScorer {
            parts,
            summaries,
            idf,
            doc: TERMINATED,
            hopeless: None,
        };
        scorer.doc = scorer.lowest();
        scorer
    }

    fn lowest(&self) -> DocId {
        (self.parts.iter().map(|p| p.postings.doc()))
            .min()
            .unwrap_or(TERMINATED)
    }

    /// Whether the current record could have a weighted term frequency
    /// above `needed` (see [`WordScorer::needed`]), from the blocks of
    /// postings it is in, without reading its lengths: a search that keeps
    /// the best matches need not score one that could not beat the last it
    /// keeps. Its kind is looked up only when it could beat it as a summary
    /// alone. `needed` must not go down from one call to the next.
    ///
    /// Until one of the current blocks ends, no record can do better than
    /// all of them together: when that cannot reach `needed`, neither can
    /// any record up to there, and they are passed over by one comparison
    /// (and the summaries among them checked alone, when a summary could).
    pub(super) fn could_reach(&mut self, needed: Score) -> bool {
        let doc = self.doc;
        if self.hopeless.is_none_or(|h| doc > h.until) {
            let (mut tf, mut summary_tf, mut until) = (0.0, 0.0, TERMINATED);
            for part in &mut self.parts {
                if part.postings.doc() != TERMINATED {
                    let most = part.postings.block_bound(&part.bound);
                    tf += most * part.weights.0;
                    summary_tf += most * part.weights.1;
                    until = until.min(part.postings.block_end());
                }
            }
            if tf > needed {
                let (tf, summary_tf) = self.tf_bounds();
                return tf > needed || (summary_tf > needed && self.is_summary());
            }
            self.hopeless = Some(Hopeless {
                until,
                summaries_may: summary_tf > needed,
            });
        }
        let summaries_may = self.hopeless.is_some_and(|h| h.summaries_may);
        summaries_may && self.is_summary() && self.tf_bounds().1 > needed
    }

    /// A score the current record's cannot exceed, found as
    /// [`WordScorer::could_reach`] finds its term frequency's.
    #[cfg(test)]
    fn at_most(&mut self) -> Score {
        let (plain_tf, summary_tf) = self.tf_bounds();
        let tf = match summary_tf > plain_tf && self.is_summary() {
            true => summary_tf,
            false => plain_tf,
        };
        match tf.is_finite() {
            true => self.idf * tf * (K1 + 1.0) / (tf + K1),
            false => Score::INFINITY,
        }
    }

    /// The weighted term frequency the current record's cannot exceed from
    /// the blocks of postings it is in, if it is not a summary and if it is.
    fn tf_bounds(&mut self) -> (Score, Score) {
        let doc = self.doc;
        let (mut tf, mut summary_tf) = (0.0, 0.0);
        for part in &mut self.parts {
            if part.postings.doc() == doc {
                let most = part.postings.block_bound(&part.bound);
                tf += most * part.weights.0;
                summary_tf += most * part.weights.1;
            }
        }
        (tf, summary_tf)
    }

    /// The weighted term frequency a record needs to score above
    /// `threshold` (the score is `idf * tf * (K1 + 1) / (tf + K1)`), less a
    /// margin so that rounding never passes over one that does.
    pub(super) fn needed(&self, threshold: Score) -> Score {
        let top = self.idf * (K1 + 1.0);
        if threshold < 0.0 {
            return Score::NEG_INFINITY;
        }
        if threshold >= top {
            return Score::INFINITY;
        }
        threshold * K1 / (top - threshold) * (1.0 - 1e-4)
    }

    /// Whether the current record is a summary (documents are visited in
    /// order, so the summaries' postings only move forward).
    fn is_summary(&mut self) -> bool {
        let doc = self.doc;
        match &mut self.summaries {
            Some(summaries) if summaries.doc() <= doc => summaries.seek(doc) == doc,
            _ => false,
        }
    }
}

impl DocSet for WordScorer {
    fn advance(&mut self) -> DocId {
        let doc = self.doc;
        for part in &mut self.parts {
            if part.postings.doc() == doc {
                part.postings.advance();
            }
        }
        self.doc = self.lowest();
        self.doc
    }

    fn seek(&mut self, target: DocId) -> DocId {
        for part in &mut self.parts {
            if part.postings.doc() < target {
                part.postings.seek(target);
            }
        }
        self.doc = self.lowest();
        self.doc
    }

    fn doc(&self) -> DocId {
        self.doc
    }

    fn size_hint(&self) -> u32 {
        self.parts.iter().map(|p| p.postings.size_hint()).sum()
    }
}

impl Scorer for WordScorer {
    fn score(&mut self) -> Score {
        let doc = self.doc;
        let here = |p: &&FieldPostings| p.postings.doc() == doc;
        let summary = self.parts.iter().filter(here).any(|p| p.kind_matters) && self.is_summary();
        let tf: Score = (self.parts.iter().filter(here))
            .map(|p| p.weighted_tf(summary))
            .sum();
        self.idf * tf * (K1 + 1.0) / (tf + K1)
    }
}

#[cfg(test)]
mod tests {
    use tantivy::collector::TopDocs;

    use super::*;
    use crate::model::{Indexable, Record};
    use crate::schema;

    fn record(kind: Kind, title: &str, text: &str) -> Record {
        Record::plain(text.to_string(), kind, text, title, "p.txt")
    }

    /// (position in `records`, score) of the records matching `word`, best first.
    fn ranked(records: &[Record], word: &str) -> Vec<(usize, f32)> {
        let index = tantivy::Index::create_in_ram(schema::build());
        crate::analyzer::register_analyzers(&index);
        let fields = Fields::new(&index.schema()).unwrap();
        let mut writer: tantivy::IndexWriter = index.writer(15_000_000).unwrap();
        for record in records {
            let indexable = Indexable {
                record: record.clone(),
                threads: Vec::new(),
                version_date: None,
            };
            writer.add_document(fields.document(&indexable)).unwrap();
        }
        writer.commit().unwrap();
        let searcher = index.reader().unwrap().searcher();
        let top = TopDocs::with_limit(10).order_by_score();
        let hits = searcher.search(&*word_query(&fields, word), &top).unwrap();
        hits.into_iter()
            .map(|(score, address)| (address.doc_id as usize, score))
            .collect()
    }

    /// The cursor walks a term's postings as Tantivy's own do: the same
    /// records, frequencies and field lengths, advancing and seeking, over full blocks of
    /// 128 and the shorter last one.
    #[test]
    fn the_cursor_walks_postings_as_tantivy_does() {
        use tantivy::postings::Postings;
        use tantivy::schema::{Schema, TEXT};

        let mut builder = Schema::builder();
        let body = builder.add_text_field("body", TEXT);
        let index = tantivy::Index::create_in_ram(builder.build());
        let mut writer: tantivy::IndexWriter =
            index.writer_with_num_threads(1, 15_000_000).unwrap();
        let mut random = xorshift(0x9E37_79B9_7F4A_7C15);
        for _ in 0..1_000 {
            // The word 0 to 3 times.
            let text = "word ".repeat(random(4) as usize) + "other";
            writer.add_document(tantivy::doc!(body => text)).unwrap();
        }
        writer.commit().unwrap();
        let searcher = index.reader().unwrap().searcher();
        let segment = searcher.segment_reader(0);
        let inverted = segment.inverted_index(body).unwrap();
        let norms = segment.get_fieldnorms_reader(body).unwrap();
        let term = Term::from_field_text(body, "word");
        let open = || {
            let option = IndexRecordOption::WithFreqs;
            let theirs = inverted.read_postings(&term, option).unwrap().unwrap();
            let block = inverted
                .read_block_postings(&term, option)
                .unwrap()
                .unwrap();
            (
                theirs,
                Cursor::new(block, field_lengths(segment, body).unwrap()),
            )
        };

        let (mut theirs, mut ours) = open();
        assert!(theirs.doc_freq() as usize > 4 * BLOCK, "several blocks");
        assert_eq!(ours.size_hint(), theirs.size_hint());
        while theirs.doc() != TERMINATED {
            assert_eq!(
                (ours.doc(), ours.term_freq()),
                (theirs.doc(), theirs.term_freq())
            );
            assert_eq!(ours.length(), norms.fieldnorm_id(theirs.doc()));
            assert_eq!(ours.advance(), theirs.advance());
        }
        assert_eq!(ours.doc(), TERMINATED);

        // Seeks forward by uneven steps, within a block and across blocks
        // (a seek never goes back: its target is at least the current record).
        let (mut theirs, mut ours) = open();
        let mut target = 0;
        while theirs.doc() != TERMINATED {
            assert_eq!(ours.seek(target), theirs.seek(target), "seek to {target}");
            if theirs.doc() != TERMINATED {
                assert_eq!(ours.term_freq(), theirs.term_freq());
            }
            target = (target + 1 + target % 37).max(theirs.doc());
        }
        assert_eq!(ours.doc(), TERMINATED);
    }

    /// An index in RAM with one segment for each batch of (kind, title,
    /// text) records.
    fn segments(batches: &[Vec<(Kind, &str, String)>]) -> (tantivy::Index, Fields) {
        let index = tantivy::Index::create_in_ram(schema::build());
        crate::analyzer::register_analyzers(&index);
        let fields = Fields::new(&index.schema()).unwrap();
        let mut writer: tantivy::IndexWriter =
            index.writer_with_num_threads(1, 15_000_000).unwrap();
        writer.set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
        for batch in batches {
            for (kind, title, text) in batch {
                let indexable = Indexable {
                    record: record(*kind, title, text),
                    threads: Vec::new(),
                    version_date: None,
                };
                writer.add_document(fields.document(&indexable)).unwrap();
            }
            writer.commit().unwrap();
        }
        (index, fields)
    }

    /// `grokking` in text and title of the records of `index`.
    fn grokking(fields: &Fields) -> WordQuery {
        WordQuery::new(
            vec![
                Field::new(Term::from_field_text(fields.text, "grokk"), 1.0, 1.0),
                Field::new(
                    Term::from_field_text(fields.title, "grokk"),
                    TITLE_WEIGHT,
                    3.0,
                ),
            ],
            Term::from_field_text(fields.kind, Kind::Summary.as_str()),
        )
    }

    /// Each record's score over the bound of the blocks of postings it is
    /// in, for [`grokking`]; checking on the way, in each segment, that the
    /// best `k` records found passing over those that cannot beat the last
    /// kept are those found scoring every record, for several `k`.
    fn score_over_bound(index: &tantivy::Index, fields: &Fields) -> Vec<Score> {
        let searcher = index.reader().unwrap().searcher();
        let scoring = EnableScoring::enabled_from_searcher(&searcher);
        let weight = grokking(fields).word_weight(scoring).unwrap();
        let mut ratios = Vec::new();
        for segment in searcher.segment_readers() {
            let mut every = Vec::new();
            let mut scorer = weight.word_scorer(segment, 1.0).unwrap();
            while scorer.doc() != TERMINATED {
                let most = scorer.at_most();
                let score = scorer.score();
                ratios.push(score / most);
                every.push((score, scorer.doc()));
                scorer.advance();
            }
            // Best first, the earlier record of equal scores.
            every.sort_by(|(a, x), (b, y)| b.total_cmp(a).then(x.cmp(y)));
            for k in [1, 10, 50] {
                let mut kept: Vec<(Score, DocId)> = Vec::new();
                let mut scorer = weight.word_scorer(segment, 1.0).unwrap();
                let threshold = |kept: &Vec<(Score, DocId)>| match kept.len() < k {
                    true => Score::MIN,
                    false => kept[k - 1].0,
                };
                while scorer.doc() != TERMINATED {
                    if scorer.could_reach(scorer.needed(threshold(&kept))) {
                        let score = scorer.score();
                        if score > threshold(&kept) {
                            kept.push((score, scorer.doc()));
                            kept.sort_by(|(a, x), (b, y)| b.total_cmp(a).then(x.cmp(y)));
                            kept.truncate(k);
                        }
                    }
                    scorer.advance();
                }
                assert_eq!(kept, every[..k.min(every.len())], "the best {k}");
            }
        }
        ratios
    }

    fn xorshift(mut next: u64) -> impl FnMut(u64) -> u64 {
        move |n| {
            next ^= next << 13;
            next ^= next >> 7;
            next ^= next << 17;
            next % n
        }
    }

    /// `count` records of `shortest` to `shortest + spread - 1` other
    /// words, with `grokking` one to `most` times among them, one in 15 a
    /// summary; with `titled`, one in 3 titled with the word.
    fn random_records(
        seed: u64,
        count: usize,
        (shortest, spread): (u64, u64),
        most: u64,
        titled: bool,
    ) -> Vec<(Kind, &'static str, String)> {
        let mut random = xorshift(seed);
        (0..count)
            .map(|i| {
                let mut words: Vec<&str> = (0..shortest + random(spread))
                    .map(|_| ["weight", "decay", "late", "loss"][random(4) as usize])
                    .collect();
                for _ in 0..1 + random(most) {
                    words.insert(random(words.len() as u64 + 1) as usize, "grokking");
                }
                let kind = if i % 15 == 0 {
                    Kind::Summary
                } else {
                    Kind::Claim
                };
                let title = if titled && random(3) == 0 {
                    "Grokking notes"
                } else {
                    "Notes"
                };
                (kind, title, words.join(" "))
            })
            .collect()
    }

    /// In one segment, the bound of the word in one field is the best score
    /// of a block: no record scores above it, and some reach it. (Over
    /// several fields it adds each field's best, which one record need
    /// not have.)
    #[test]
    fn the_bound_of_a_block_is_its_best_score() {
        let batch = random_records(0x9E37_79B9_7F4A_7C15, 2_000, (1, 20), 3, false);
        let (index, fields) = segments(&[batch]);
        let ratios = score_over_bound(&index, &fields);
        assert_eq!(ratios.len(), 2_000);
        let highest = ratios.iter().copied().fold(0.0, Score::max);
        assert!(highest <= 1.0 + 1e-4, "a score above its bound: {highest}");
        assert!(
            highest >= 1.0 - 1e-4,
            "the bound is never reached: {highest}"
        );
    }

    /// Records of many lengths, the word one to four times, some titles
    /// with the word and some summaries: scores are mostly distinct, so the
    /// best records keep changing as the walk goes on, and a title match
    /// counts six times more in a summary.
    #[test]
    fn the_best_records_are_found_passing_over_those_that_cannot_be() {
        let batch = random_records(0x2545_F491_4F6C_DD1D, 3_000, (0, 120), 4, true);
        let (index, fields) = segments(&[batch]);
        let ratios = score_over_bound(&index, &fields);
        assert_eq!(ratios.len(), 3_000);
        let highest = ratios.iter().copied().fold(0.0, Score::max);
        assert!(highest <= 1.0 + 1e-4, "a score above its bound: {highest}");
    }

    /// Summaries with the word in their title only, each shorter than the
    /// last, among claims with it in short texts: a summary's own blocks
    /// say it could not beat the best kept as a claim, but as a summary it
    /// can, and the best keep changing to later ones.
    #[test]
    fn a_summary_is_found_by_its_title_alone() {
        let titles: Vec<String> = (0..10)
            .map(|n| "Grokking".to_string() + &" notes".repeat(12 - n))
            .collect();
        let batch = (0..1_000)
            .map(|i| match i % 10 {
                0 => (
                    Kind::Summary,
                    titles[i / 100].as_str(),
                    "weight decay loss".to_string(),
                ),
                _ => (Kind::Claim, "Notes", "grokking late".to_string()),
            })
            .collect();
        let (index, fields) = segments(&[batch]);
        let ratios = score_over_bound(&index, &fields);
        assert_eq!(ratios.len(), 1_000);
    }

    /// A segment of short records keeps, for each block, the record of
    /// best term factor under its own short average length; under the
    /// index's, much longer, another record of the block is better. The
    /// bound still holds.
    #[test]
    fn the_bound_holds_where_the_segment_average_is_not_the_index_one() {
        let short: Vec<(Kind, &str, String)> = (0..1_000)
            .map(|i| match i % 10 {
                // Once in 10: four times the word in a longer record.
                0 => (Kind::Claim, "Notes", "grokking late ".repeat(4) + "loss"),
                _ => (Kind::Claim, "Notes", "grokking".to_string()),
            })
            .collect();
        let long: Vec<(Kind, &str, String)> = (0..1_000)
            .map(|_| {
                (
                    Kind::Claim,
                    "Notes",
                    "weight decay ".repeat(60) + "grokking",
                )
            })
            .collect();
        let (index, fields) = segments(&[short, long]);
        let ratios = score_over_bound(&index, &fields);
        let highest = ratios.iter().copied().fold(0.0, Score::max);
        assert!(highest <= 1.0 + 1e-4, "a score above its bound: {highest}");
    }

    #[test]
    fn text_and_title_rank_above_either_and_saturate_together() {
        let records = [
            record(
                Kind::Claim,
                "Grokking notes",
                "grokking appears late in training",
            ),
            record(
                Kind::Claim,
                "Other notes",
                "grokking appears late in training",
            ),
            record(
                Kind::Claim,
                "Grokking notes",
                "memorization appears late in training",
            ),
        ];
        let hits = ranked(&records, "grokk");
        let order: Vec<usize> = hits.iter().map(|(i, _)| *i).collect();
        assert_eq!(order, [0, 1, 2]);
        // One saturation: the word in both fields counts less than the sum of each.
        assert!(hits[0].1 < hits[1].1 + hits[2].1, "{hits:?}");
    }

    #[test]
    fn a_summary_counts_its_items_title_as_its_heading() {
        let records = [
            record(
                Kind::Claim,
                "Grokking notes",
                "memorization appears late in training",
            ),
            record(
                Kind::Summary,
                "Grokking notes",
                "memorization appears late in training",
            ),
            record(
                Kind::Claim,
                "Other notes",
                "grokking appears late in training",
            ),
        ];
        let order: Vec<usize> = ranked(&records, "grokk").iter().map(|(i, _)| *i).collect();
        // The claim's own text beats its title, the summary's title is as good as text.
        assert_eq!(order, [1, 2, 0]);
    }
}
