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
use tantivy::query::{EnableScoring, Explanation, Query, Scorer, Weight};
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
            })
            .collect();
        Ok(Box::new(WordWeight {
            parts,
            idf,
            summaries: self.summaries.clone(),
        }))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        for field in &self.fields {
            visitor(&field.term, false);
        }
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
                parts.push(FieldPostings {
                    postings: Cursor::new(postings, field_lengths(reader, field)?),
                    norms: Arc::clone(&part.norms),
                    summary_norms: Arc::clone(&part.summary_norms),
                    kind_matters: part.norms != part.summary_norms,
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
}

impl Cursor {
    fn new(block: BlockSegmentPostings, lengths: OwnedBytes) -> Cursor {
        let cursor = Cursor {
            block,
            at: 0,
            lengths,
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
struct WordScorer {
    parts: Vec<FieldPostings>,
    summaries: Option<SegmentPostings>,
    idf: Score,
    doc: DocId,
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
        };
        scorer.doc = scorer.lowest();
        scorer
    }

    fn lowest(&self) -> DocId {
        (self.parts.iter().map(|p| p.postings.doc()))
            .min()
            .unwrap_or(TERMINATED)
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
        let mut next = 0x9E37_79B9_7F4A_7C15_u64;
        for _ in 0..1_000 {
            next ^= next << 13;
            next ^= next >> 7;
            next ^= next << 17;
            // The word 0 to 3 times.
            let text = "word ".repeat((next % 4) as usize) + "other";
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
