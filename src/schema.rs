//! The Tantivy schema: one place that says which field exists and why each is
//! indexed, fast or stored, and how a [`Record`] becomes a document.

use tantivy::schema::{
    BytesOptions, DateOptions, Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing,
    TextOptions, Value, STORED,
};
use tantivy::store::{Compressor, ZstdCompressor};
use tantivy::{DateTime, IndexSettings, TantivyDocument};

use crate::analyzer::{KEYWORD_ANALYZER, NAME_ANALYZER, TEXT_ANALYZER};
use crate::authors;
use crate::error::{Error, Result};
use crate::history::same_record_key;
use crate::model::{Date, Indexable, Record};
use crate::provenance::Fingerprint;

/// Handles to every field, resolved once from the schema.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    /// The record's own text. Positions are kept for phrase queries and snippets.
    pub text: Field,
    /// The item's (or thread's) title: searchable, weighted below `text`.
    pub title: Field,
    /// The topic slugs as words (`uniform-convergence` -> uniform, converg).
    pub topics: Field,
    /// Exact-match filters (`--kind`, `--source`, …); never scored. `kind`,
    /// `source` and `topic` are also fast columns, for facet counts.
    pub kind: Field,
    /// See [`Fields::kind`].
    pub source: Field,
    /// The byline and each of its authors by full and by last name, folded (see
    /// [`crate::authors::byline_keys`]) and read through the name analyzer, so
    /// `--author` and `author:` match any one author whatever the case or accents.
    pub author: Field,
    /// Each author as written, one value per author: a fast column only, which the
    /// `author` facet counts.
    pub author_name: Field,
    /// See [`Fields::kind`]; one value per thread the record belongs to.
    pub thread: Field,
    /// See [`Fields::kind`]; one value per topic slug.
    pub topic: Field,
    /// The page's corpus-relative path: reindex deletes a page's records by this term.
    pub path: Field,
    /// Midnight UTC of the record's date: indexed for `--since`/`--until`
    /// ranges, fast for the date facet.
    pub date: Field,
    /// `thread hash << 16 | version`, for thread records only. Fast, so the
    /// searcher can tell the newest version of each thread at read time (see `query`).
    pub thread_version: Field,
    /// 1 for a quote found in the corpus's raw text (`--verified`); no value
    /// otherwise. Indexed, so the filter is part of the query and totals and
    /// facets count exactly what it keeps.
    pub verified: Field,
    /// The paths of the raw texts a quote was found in: `reindex` finds by
    /// them the quotes to check again when a raw page changes or goes.
    pub found_in: Field,
    /// A quote's first anchor shingle (see [`crate::provenance::Needle`]):
    /// `reindex` finds by it the quotes that new raw text may hold.
    pub quote_anchor: Field,
    /// The rest of a quote's [`crate::provenance::Fingerprint`], fast: how
    /// many words its longest piece has ([`Fields::quote_len`]) and their
    /// hash ([`Fields::quote_run`]). `reindex` checks by them, without
    /// reading the quote, whether new raw text holds those words in a row.
    pub quote_len: Field,
    /// See [`Fields::quote_len`].
    pub quote_run: Field,
    /// The record's place among its page's records, from 0 (fast): the
    /// item view reads a page back in this order.
    pub place: Field,
    /// On the first passage of each raw text, the text's winnowed shingles
    /// ([`crate::provenance::normalize::winnow`]), fast: each segment's are
    /// kept by shingle in a file beside the index
    /// (`raw-shingles-SEGMENT.bin`), by which `reindex` finds the
    /// raw texts already indexed that a new quote may be in. Indexed by
    /// Tantivy, these millions of distinct terms took a third of the time
    /// of writing raw text, and their term dictionaries were most of what
    /// a `reindex`'s lookups kept mapped (BENCHMARKS.md).
    pub shingles: Field,
    /// [`RAW_TEXT`] on the first passage of each raw text (indexed), so
    /// that `reindex` can list the raw texts of a commit.
    pub raw_text: Field,
    /// For thread records only, a hash of thread, kind and normalised text, equal for
    /// the same record in every version ([`crate::history::same_record_key`]). Fast, so
    /// the searcher finds each record's first version once per commit.
    pub same_record: Field,
    /// For thread records only, the date of their version: fast, for a thread's
    /// history.
    pub version_date: Field,
    /// The rest of the record's claim beside its words
    /// ([`crate::echo::Claim::rest_values`]): a multi-valued fast column of
    /// 32-bit values, so that deciding whether two records make the same
    /// claim needs neither stored record.
    pub claim: Field,
    /// A hash of the item the record belongs to (a page, a JSON Lines line,
    /// a thread): fast, to count the *other* items that make a claim.
    pub item: Field,
    /// The content words of the claim ([`crate::echo::Claim::stored_words`]),
    /// a fast column of 32-bit values: a hit's echoes and `--collapse` rule
    /// out the records too far apart in words to be the same claim by them
    /// (the decision's own first step), without reading the rest of their
    /// claims. A record's lookup keys ([`crate::echo::keys`]) follow from
    /// them: `--collapse` finds a match's keys from them, and a write run
    /// computes from them each segment's keys, which it keeps beside the
    /// index in a file of the segment's own rather than in an indexed field.
    pub claim_words: Field,
    /// The record's page number in its write run and a hash of its facet
    /// values (source, topics, authors, date), as 12 bytes in a fast column
    /// (`facet_run_key`): facet counting reads the values of a run of
    /// matches with the same key (records of one item, most of the time)
    /// once, weighted by the run's length. A bytes column stores each
    /// document's value as its place in the segment's sorted list of
    /// values, so a search reads a few bits a match rather than 12 bytes.
    pub facet_run: Field,
    /// The whole [`Record`] as JSON: the only stored field, so a hit costs one
    /// document fetch and the record survives byte for byte.
    pub record: Field,
}

/// Field names, as a user may write them in `field:value` queries.
pub mod names {
    /// Searchable text.
    pub const TEXT: &str = "text";
    /// Searchable title.
    pub const TITLE: &str = "title";
    /// Searchable topic words.
    pub const TOPICS: &str = "topics";
    /// Exact kind.
    pub const KIND: &str = "kind";
    /// Exact source.
    pub const SOURCE: &str = "source";
    /// Exact author: the byline, or one author's full or last name.
    pub const AUTHOR: &str = "author";
    /// Each author as written (fast field, for the author facet).
    pub const AUTHOR_NAME: &str = "author_name";
    /// Exact thread title.
    pub const THREAD: &str = "thread";
    /// Exact topic slug.
    pub const TOPIC: &str = "topic";
    /// Exact page path.
    pub const PATH: &str = "path";
    /// Date.
    pub const DATE: &str = "date";
    /// Thread hash and version (fast field).
    pub const THREAD_VERSION: &str = "thread_version";
    /// Quote found in raw text.
    pub const VERIFIED: &str = "verified";
    /// Paths of the raw texts holding a quote.
    pub const FOUND_IN: &str = "found_in";
    /// A quote's anchor shingle.
    pub const QUOTE_ANCHOR: &str = "quote_anchor";
    /// The word count of a quote's longest piece (fast field).
    pub const QUOTE_LEN: &str = "quote_len";
    /// The hash of the words of a quote's longest piece (fast field).
    pub const QUOTE_RUN: &str = "quote_run";
    /// A raw text's shingles (fast field).
    pub const SHINGLES: &str = "shingles";
    /// The mark of a raw text's first passage.
    pub const RAW_TEXT: &str = "raw_text";
    /// A record's place on its page (fast field).
    pub const PLACE: &str = "place";
    /// Same-record key of a thread record (fast field).
    pub const SAME_RECORD: &str = "same_record";
    /// A thread record's version date (fast field).
    pub const VERSION_DATE: &str = "version_date";
    /// The stored record.
    pub const RECORD: &str = "record";
    /// The rest of a claim beside its words (fast field).
    pub const CLAIM: &str = "claim";
    /// The item hash.
    pub const ITEM: &str = "item";
    /// A claim's content words (fast field).
    pub const CLAIM_WORDS: &str = "claim_words";
    /// The hash of a record's facet values (fast field).
    pub const FACET_RUN: &str = "facet_run";
}

/// Builds the schema.
pub fn build() -> Schema {
    let mut b = Schema::builder();
    let searchable = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(TEXT_ANALYZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    // Filters need neither frequencies nor norms: a record has a value or not.
    let keyword = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(KEYWORD_ANALYZER)
            .set_index_option(IndexRecordOption::Basic)
            .set_fieldnorms(false),
    );
    b.add_text_field(names::TEXT, searchable.clone());
    b.add_text_field(names::TITLE, searchable.clone());
    b.add_text_field(names::TOPICS, searchable);
    // The facet dimensions are also fast columns, with the values as written
    // (`LessWrong`, not `lesswrong`): facets are counted from them.
    let faceted = keyword.clone().set_fast("raw");
    for name in [names::KIND, names::SOURCE, names::TOPIC] {
        b.add_text_field(name, faceted.clone());
    }
    for name in [names::THREAD, names::PATH, names::FOUND_IN] {
        b.add_text_field(name, keyword.clone());
    }
    let name = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(NAME_ANALYZER)
            .set_index_option(IndexRecordOption::Basic)
            .set_fieldnorms(false),
    );
    b.add_text_field(names::AUTHOR, name);
    b.add_text_field(names::AUTHOR_NAME, TextOptions::default().set_fast("raw"));
    b.add_date_field(names::DATE, DateOptions::default().set_indexed().set_fast());
    // Indexed too: a search hides older thread versions, found from the
    // term dictionary (one term a version) when a commit is opened.
    b.add_u64_field(
        names::THREAD_VERSION,
        NumericOptions::default().set_fast().set_indexed(),
    );
    let indexed = NumericOptions::default().set_indexed();
    b.add_u64_field(names::VERIFIED, indexed.clone());
    b.add_u64_field(names::QUOTE_ANCHOR, indexed.clone());
    b.add_u64_field(names::QUOTE_LEN, NumericOptions::default().set_fast());
    b.add_u64_field(names::QUOTE_RUN, NumericOptions::default().set_fast());
    b.add_u64_field(names::PLACE, NumericOptions::default().set_fast());
    b.add_u64_field(names::SHINGLES, NumericOptions::default().set_fast());
    b.add_u64_field(names::RAW_TEXT, indexed);
    b.add_u64_field(names::SAME_RECORD, NumericOptions::default().set_fast());
    b.add_date_field(names::VERSION_DATE, DateOptions::default().set_fast());
    b.add_text_field(names::RECORD, STORED);
    b.add_u64_field(names::CLAIM, NumericOptions::default().set_fast());
    b.add_u64_field(names::ITEM, NumericOptions::default().set_fast());
    b.add_u64_field(names::CLAIM_WORDS, NumericOptions::default().set_fast());
    b.add_bytes_field(names::FACET_RUN, BytesOptions::default().set_fast());
    b.build()
}

/// How the index stores records: zstd in 32 KiB blocks. A record repeats its
/// item's title, source, topics and path, which zstd over a large block
/// stores about once; reading a hit decompresses one block (kept in a
/// small cache). At 100,000 pages, 32 KiB blocks against 64 KiB made
/// one-shot queries about 0.3 ms faster (of 8) for a 3% larger index; 16 KiB
/// was no faster and 7.5% larger.
pub fn settings() -> IndexSettings {
    IndexSettings {
        docstore_compression: Compressor::Zstd(ZstdCompressor::default()),
        docstore_blocksize: 32 * 1024,
        ..IndexSettings::default()
    }
}

impl Fields {
    /// Resolves the field handles of a schema built by [`build`].
    pub fn new(schema: &Schema) -> tantivy::Result<Fields> {
        let f = |name: &str| schema.get_field(name);
        Ok(Fields {
            text: f(names::TEXT)?,
            title: f(names::TITLE)?,
            topics: f(names::TOPICS)?,
            kind: f(names::KIND)?,
            source: f(names::SOURCE)?,
            author: f(names::AUTHOR)?,
            author_name: f(names::AUTHOR_NAME)?,
            thread: f(names::THREAD)?,
            topic: f(names::TOPIC)?,
            path: f(names::PATH)?,
            date: f(names::DATE)?,
            thread_version: f(names::THREAD_VERSION)?,
            verified: f(names::VERIFIED)?,
            found_in: f(names::FOUND_IN)?,
            quote_anchor: f(names::QUOTE_ANCHOR)?,
            quote_len: f(names::QUOTE_LEN)?,
            quote_run: f(names::QUOTE_RUN)?,
            place: f(names::PLACE)?,
            shingles: f(names::SHINGLES)?,
            raw_text: f(names::RAW_TEXT)?,
            same_record: f(names::SAME_RECORD)?,
            version_date: f(names::VERSION_DATE)?,
            record: f(names::RECORD)?,
            claim: f(names::CLAIM)?,
            item: f(names::ITEM)?,
            claim_words: f(names::CLAIM_WORDS)?,
            facet_run: f(names::FACET_RUN)?,
        })
    }

    /// Turns a record, with the threads it belongs to and its version's date,
    /// into its index document (as `Fields::page_document` of page 0).
    pub fn document(&self, indexable: &Indexable) -> TantivyDocument {
        self.page_document(indexable, 0)
    }

    /// [`Fields::document`] for a record of the write run's page number
    /// `page`, which orders the `facet_run` keys ([`facet_run_key`]).
    pub(crate) fn page_document(&self, indexable: &Indexable, page: u32) -> TantivyDocument {
        let Indexable {
            record,
            threads,
            version_date,
        } = indexable;
        let mut doc = TantivyDocument::default();
        doc.add_text(self.text, &record.text);
        doc.add_text(self.title, &record.title);
        doc.add_text(self.kind, record.kind.as_str());
        doc.add_text(self.path, &record.path);
        for topic in &record.topics {
            doc.add_text(self.topics, topic);
            doc.add_text(self.topic, topic);
        }
        if let Some(source) = &record.source {
            doc.add_text(self.source, source);
        }
        if let Some(author) = &record.author {
            for key in authors::byline_keys(author, &record.authors) {
                doc.add_text(self.author, key);
            }
        }
        for name in &record.authors {
            doc.add_text(self.author_name, name);
        }
        for thread in threads {
            doc.add_text(self.thread, thread);
        }
        if let Some(date) = record.date {
            doc.add_date(self.date, to_datetime(date));
        }
        if let (Some(version), Some(thread)) = (&record.version, &record.thread) {
            doc.add_u64(self.thread_version, thread_version_key(thread, *version));
            let key = same_record_key(thread, record.kind, &record.text);
            doc.add_u64(self.same_record, key);
            if let Some(date) = version_date {
                doc.add_date(self.version_date, to_datetime(*date));
            }
        }
        if let Some(found_in) = &record.found_in {
            if !found_in.is_empty() {
                doc.add_u64(self.verified, 1);
            }
            let mut paths: Vec<&str> = found_in.iter().map(|f| f.path.as_str()).collect();
            paths.dedup();
            for path in paths {
                doc.add_text(self.found_in, path);
            }
        }
        if let Some(claim) = crate::echo::record_claim(record) {
            for value in claim.rest_values() {
                doc.add_u64(self.claim, value);
            }
            doc.add_u64(self.item, crate::echo::item_key(record));
            for word in claim.stored_words() {
                doc.add_u64(self.claim_words, word);
            }
        }
        doc.add_bytes(self.facet_run, &facet_run_key(page, record));
        let json = serde_json::to_string(record).expect("a record always serializes");
        doc.add_text(self.record, json);
        doc
    }
}

/// The `facet_run` key of `record`, of the write run's page number `page`:
/// the page number (big endian), then a hash of what the facet columns hold
/// for the record, its source, topics and authors (each with its length)
/// and its date (as a day number). Two records with the same key have the
/// same values in those columns (a different pair sharing a key is a 64-bit
/// hash collision), so facet counting may read one of them and count it
/// twice. The page number first makes a segment's keys, sorted, follow its
/// documents, which come in about the order of the pages: the facet rows of
/// the runs of a search's matches are then read from nearby places
/// ([`crate::facet_rows`]), and the column's places grow with the documents.
pub(crate) fn facet_run_key(page: u32, record: &Record) -> [u8; 12] {
    let mut hasher = blake3::Hasher::new();
    let mut add = |tag: u8, value: &str| {
        hasher.update(&[tag]);
        hasher.update(&(value.len() as u64).to_le_bytes());
        hasher.update(value.as_bytes());
    };
    if let Some(source) = &record.source {
        add(b's', source);
    }
    for topic in &record.topics {
        add(b't', topic);
    }
    for author in &record.authors {
        add(b'a', author);
    }
    if let Some(date) = record.date {
        hasher.update(b"d");
        hasher.update(&date.days_since_epoch().to_le_bytes());
    }
    let mut key = [0; 12];
    key[..4].copy_from_slice(&page.to_be_bytes());
    key[4..].copy_from_slice(&hasher.finalize().as_bytes()[..8]);
    key
}

/// The term of the page path `rel` in the `path` field, as the keyword
/// analyzer indexed it (lowercased): what deletes a page's records.
pub(crate) fn path_term(fields: &Fields, rel: &str) -> tantivy::Term {
    tantivy::Term::from_field_text(fields.path, &crate::analyzer::keyword_term(rel))
}

/// The record a document stores.
pub(crate) fn stored_record(fields: &Fields, doc: &TantivyDocument) -> Result<Record> {
    let json = doc
        .get_first(fields.record)
        .and_then(|v| v.as_str())
        .unwrap_or_default();
    serde_json::from_str(json).map_err(|e| Error::StoredRecord(e.to_string()))
}

/// The value of [`Fields::raw_text`] on every raw text's first passage.
pub const RAW_TEXT: u64 = 1;

/// What a document carries for tracing quotes, beside its record.
#[derive(Debug, Clone, Copy, Default)]
pub struct Trace<'a> {
    /// A quote's fingerprint.
    pub quote: Option<Fingerprint>,
    /// On the first passage of a raw text, the text's winnowed shingles.
    pub raw_text: Option<&'a [u64]>,
}

impl Fields {
    /// Adds what `trace` holds to a document made by [`Fields::document`].
    pub fn add_trace(&self, doc: &mut TantivyDocument, trace: Trace) {
        if let Some(quote) = trace.quote {
            doc.add_u64(self.quote_anchor, quote.first);
            doc.add_u64(self.quote_len, u64::from(quote.len));
            doc.add_u64(self.quote_run, quote.key);
        }
        if let Some(shingles) = trace.raw_text {
            doc.add_u64(self.raw_text, RAW_TEXT);
            for shingle in shingles {
                doc.add_u64(self.shingles, *shingle);
            }
        }
    }
}

/// A calendar date as the index's date value (midnight UTC).
///
/// The index counts nanoseconds in an i64, which ends in 2262 and begins in
/// 1677: a date outside is clamped for the index (filters and sorting), while
/// the record keeps the date as written.
pub fn to_datetime(date: Date) -> DateTime {
    const LAST_DAY: i64 = 106_750; // 2262-04-10
    const FIRST_DAY: i64 = -106_751; // 1677-09-22
    let days = date.days_since_epoch().clamp(FIRST_DAY, LAST_DAY);
    DateTime::from_timestamp_secs(days * 86_400)
}

/// The day (since the epoch) of a date the index holds.
pub(crate) fn day_of(date: DateTime) -> i64 {
    date.into_timestamp_secs().div_euclid(86_400)
}

/// Packs a thread's identity and a version into one u64: the top 48 bits are a
/// stable hash of the thread title, the low 16 bits the version (saturated).
/// Never 0, so 0 can mean "not a thread record".
pub fn thread_version_key(thread: &str, version: u32) -> u64 {
    (thread_hash(thread) << 16) | u64::from(version.min(0xFFFF))
}

/// The version part of a [`thread_version_key`].
pub fn version_of_key(key: u64) -> u32 {
    (key & 0xFFFF) as u32
}

/// The thread part of a [`thread_version_key`].
pub fn thread_of_key(key: u64) -> u64 {
    key >> 16
}

/// FNV-1a over the title, folded to 48 bits and kept non-zero. Stable across
/// runs and platforms, unlike `std`'s hasher.
fn thread_hash(thread: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in thread.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    ((h ^ (h >> 48)) & 0xFFFF_FFFF_FFFF).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Kind;

    #[test]
    fn thread_keys_separate_threads_and_order_versions() {
        let a1 = thread_version_key("Thread A", 1);
        let a2 = thread_version_key("Thread A", 2);
        let b1 = thread_version_key("Thread B", 1);
        assert_ne!(a1, 0);
        assert_eq!(thread_of_key(a1), thread_of_key(a2));
        assert_ne!(thread_of_key(a1), thread_of_key(b1));
        assert!(a2 > a1);
    }

    #[test]
    fn facet_run_keys_are_equal_for_equal_facets_of_a_page_and_follow_pages() {
        let mut record = Record::plain("p#claim-1".into(), Kind::Claim, "text", "Title", "p");
        record.source = Some("arXiv".into());
        record.topics = vec!["grokking".into()];
        record.authors = vec!["Ada Lovelace".into()];
        let mut other = record.clone();
        other.kind = Kind::Quote;
        other.text = "another text".into();
        // The facet values decide, not the record's own text or kind.
        assert_eq!(facet_run_key(7, &record), facet_run_key(7, &other));
        other.date = Date::parse("2024-01-02");
        assert_ne!(facet_run_key(7, &record), facet_run_key(7, &other));
        // A topic moved to the authors is not the same key.
        let mut moved = record.clone();
        moved.authors.push(moved.topics.remove(0));
        assert_ne!(facet_run_key(7, &record), facet_run_key(7, &moved));
        // Sorted, keys follow the pages.
        let mut keys = [9, 300, 2, 70_000].map(|page| facet_run_key(page, &record));
        keys.sort();
        assert_eq!(
            keys.map(|k| u32::from_be_bytes(k[..4].try_into().unwrap())),
            [2, 9, 300, 70_000]
        );
    }

    #[test]
    fn the_schema_resolves_every_field() {
        assert!(Fields::new(&build()).is_ok());
    }
}
