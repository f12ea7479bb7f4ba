//! The Tantivy schema: one place that says which field exists and why each is
//! indexed, fast, stored or a facet, and how a [`Record`] becomes a document.

use std::sync::OnceLock;

use tantivy::schema::{
    DateOptions, Facet, FacetOptions, Field, IndexRecordOption, NumericOptions, Schema,
    TextFieldIndexing, TextOptions, STORED,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RawTokenizer, RemoveLongFilter, Stemmer,
    StopWordFilter, TextAnalyzer, Token, TokenStream, Tokenizer, TokenizerManager,
};
use tantivy::{DateTime, Index, TantivyDocument};

use crate::model::{Date, Record};

/// Bumped whenever an analyzer changes how text becomes terms, so that an index
/// built by older analyzers is rebuilt by the next `reindex`.
pub const ANALYZER_VERSION: u32 = 2;

/// Analyzer of every searchable text field: English words (decimals such as
/// `0.7` kept whole, hyphenated compounds also closed: `non-vacuous` is found
/// by `nonvacuous`), lowercased, accents folded (`Rényi` finds `Renyi`), stop
/// words dropped so that "the" or "which" never decides a ranking, and stemmed
/// (`interpolating` finds `interpolate`).
pub const TEXT_ANALYZER: &str = "claims_en";
/// Analyzer of the filter fields: the whole value as one lowercased token, so
/// `--source lesswrong` matches `LessWrong` and nothing else.
pub const KEYWORD_ANALYZER: &str = "keyword";

/// Handles to every field, resolved once from the schema.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    /// The record's own text. Positions are kept for phrase queries and snippets.
    pub text: Field,
    /// The item's (or thread's) title: searchable, weighted below `text`.
    pub title: Field,
    /// The topic slugs as words (`uniform-convergence` -> uniform, converg).
    pub topics: Field,
    /// Exact-match filters (`--kind`, `--source`, …); indexed only, never scored.
    pub kind: Field,
    /// See [`Fields::kind`].
    pub source: Field,
    /// See [`Fields::kind`].
    pub author: Field,
    /// See [`Fields::kind`]; one value per thread the record belongs to.
    pub thread: Field,
    /// See [`Fields::kind`]; one value per topic slug.
    pub topic: Field,
    /// The page's corpus-relative path: reindex deletes a page's records by this term.
    pub path: Field,
    /// Midnight UTC of the record's date: indexed and fast for `--since`/`--until`
    /// ranges, fast also so results can later be sorted by date.
    pub date: Field,
    /// `thread hash << 16 | version` for thread records, 0 otherwise. Fast, so the
    /// searcher can tell the newest version of each thread at read time (see `query`).
    pub thread_version: Field,
    /// Hierarchical facets counted over all matches: `/source/…`, `/topic/…`,
    /// `/kind/…`, `/year/…`, `/month/…`, `/day/…`.
    pub facets: Field,
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
    /// Exact author.
    pub const AUTHOR: &str = "author";
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
    /// Facets.
    pub const FACETS: &str = "facets";
    /// The stored record.
    pub const RECORD: &str = "record";
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
    for name in [
        names::KIND,
        names::SOURCE,
        names::AUTHOR,
        names::THREAD,
        names::TOPIC,
        names::PATH,
    ] {
        b.add_text_field(name, keyword.clone());
    }
    b.add_date_field(names::DATE, DateOptions::default().set_indexed().set_fast());
    b.add_u64_field(names::THREAD_VERSION, NumericOptions::default().set_fast());
    b.add_facet_field(names::FACETS, FacetOptions::default());
    b.add_text_field(names::RECORD, STORED);
    b.build()
}

/// Registers the analyzers the schema names. Must run on every opened index.
pub fn register_analyzers(index: &Index) {
    register(index.tokenizers(), true);
}

/// The analyzers the query parser reads queries with: the index's, except
/// that a hyphenated word gives only its parts. The query builder adds the
/// closed form itself, as an alternative (see `query::build`).
pub(crate) fn query_tokenizers() -> TokenizerManager {
    static QUERY: OnceLock<TokenizerManager> = OnceLock::new();
    QUERY
        .get_or_init(|| {
            let manager = TokenizerManager::default();
            register(&manager, false);
            manager
        })
        .clone()
}

fn register(manager: &TokenizerManager, closed_forms: bool) {
    let text = TextAnalyzer::builder(WordTokenizer { closed_forms })
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(StopWordFilter::remove(
            STOP_WORDS.iter().map(|w| w.to_string()),
        ))
        .filter(Stemmer::new(Language::English))
        .build();
    let keyword = TextAnalyzer::builder(RawTokenizer::default())
        .filter(LowerCaser)
        .build();
    manager.register(TEXT_ANALYZER, text);
    manager.register(KEYWORD_ANALYZER, keyword);
}

/// English stop words: the Snowball project's English list as the tokenizer
/// sees it, that is without its contracted forms, which it cuts up (`isn't`
/// -> `isn`, `t`), plus the `s` of `it's` and of possessives (`t` and `d` are
/// not stop words: T cells, vitamin D). Four times tantivy's 33 words, so that
/// the question words of a query typed as a sentence (`which`, `do`, `what`)
/// neither rank records nor decide which records "match every word".
#[rustfmt::skip]
const STOP_WORDS: &[&str] = &[
    "i", "me", "my", "myself", "we", "our", "ours", "ourselves", "you", "your", "yours",
    "yourself", "yourselves", "he", "him", "his", "himself", "she", "her", "hers", "herself", "it",
    "its", "itself", "they", "them", "their", "theirs", "themselves", "what", "which", "who",
    "whom", "this", "that", "these", "those", "am", "is", "are", "was", "were", "be", "been",
    "being", "have", "has", "had", "having", "do", "does", "did", "doing", "would", "should",
    "could", "ought", "a", "an", "the", "and", "but", "if", "or", "because", "as", "until",
    "while", "of", "at", "by", "for", "with", "about", "against", "between", "into", "through",
    "during", "before", "after", "above", "below", "to", "from", "up", "down", "in", "out", "on",
    "off", "over", "under", "again", "further", "then", "once", "here", "there", "when", "where",
    "why", "how", "all", "any", "both", "each", "few", "more", "most", "other", "some", "such",
    "no", "nor", "not", "only", "own", "same", "so", "than", "too", "very", "cannot", "s",
];

/// Splits text into words: runs of letters and digits, with a decimal point
/// between two digits kept inside (`0.7` is one word, not `0` and `7`).
/// A hyphenated compound (`non-vacuous`, `IL-6`) gives its parts, each at its
/// own position, and with `closed_forms` also the closed form (`nonvacuous`,
/// `IL6`) at the last part's position, so that a record written either way is
/// found by a query written either way and phrases across the compound still
/// match. Compounds of numbers only (`20-40`) are just their parts.
#[derive(Clone)]
struct WordTokenizer {
    closed_forms: bool,
}

/// The tokens of one text, handed out one by one.
struct WordTokenStream<'a> {
    text: &'a str,
    words: Vec<(usize, usize)>,
    pieces: std::vec::IntoIter<Piece>,
    token: Token,
}

/// One token: the words `first..=last` (more than one for a closed form).
#[derive(Clone, Copy)]
struct Piece {
    first: usize,
    last: usize,
    position: usize,
}

impl Tokenizer for WordTokenizer {
    type TokenStream<'a> = WordTokenStream<'a>;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> WordTokenStream<'a> {
        let words = words(text);
        let pieces = pieces(text, &words, self.closed_forms);
        WordTokenStream {
            text,
            words,
            pieces: pieces.into_iter(),
            token: Token::default(),
        }
    }
}

impl TokenStream for WordTokenStream<'_> {
    fn advance(&mut self) -> bool {
        let Some(piece) = self.pieces.next() else {
            return false;
        };
        let token = &mut self.token;
        token.text.clear();
        for &(from, to) in &self.words[piece.first..=piece.last] {
            token.text.push_str(&self.text[from..to]);
        }
        token.offset_from = self.words[piece.first].0;
        token.offset_to = self.words[piece.last].1;
        token.position = piece.position;
        token.position_length = 1;
        true
    }

    fn token(&self) -> &Token {
        &self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.token
    }
}

/// Byte ranges of the words of `text`.
fn words(text: &str) -> Vec<(usize, usize)> {
    let mut words = Vec::new();
    let mut start = None;
    let mut previous = ' ';
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let next = chars.peek().map_or(' ', |&(_, n)| n);
        let decimal_point = c == '.' && previous.is_ascii_digit() && next.is_ascii_digit();
        match (
            c.is_alphanumeric() || (decimal_point && start.is_some()),
            start,
        ) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                words.push((s, i));
                start = None;
            }
            _ => {}
        }
        previous = c;
    }
    if let Some(s) = start {
        words.push((s, text.len()));
    }
    words
}

/// The tokens to hand out: every word, and after each hyphenated compound
/// with a letter in it its closed form, when `closed_forms`.
fn pieces(text: &str, words: &[(usize, usize)], closed_forms: bool) -> Vec<Piece> {
    let hyphen = |a: (usize, usize), b: (usize, usize)| {
        matches!(&text[a.1..b.0], "-" | "\u{2010}" | "\u{2011}")
    };
    let has_letter = |&(from, to): &(usize, usize)| text[from..to].contains(char::is_alphabetic);
    let mut pieces = Vec::with_capacity(words.len());
    let mut first = 0;
    for i in 0..words.len() {
        pieces.push(Piece {
            first: i,
            last: i,
            position: i,
        });
        let ends_run = i + 1 == words.len() || !hyphen(words[i], words[i + 1]);
        if !ends_run {
            continue;
        }
        if closed_forms && i > first && words[first..=i].iter().any(has_letter) {
            pieces.push(Piece {
                first,
                last: i,
                position: i,
            });
        }
        first = i + 1;
    }
    pieces
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
            thread: f(names::THREAD)?,
            topic: f(names::TOPIC)?,
            path: f(names::PATH)?,
            date: f(names::DATE)?,
            thread_version: f(names::THREAD_VERSION)?,
            facets: f(names::FACETS)?,
            record: f(names::RECORD)?,
        })
    }

    /// Turns a record into its index document.
    pub fn document(&self, record: &Record) -> TantivyDocument {
        let mut doc = TantivyDocument::default();
        doc.add_text(self.text, &record.text);
        doc.add_text(self.title, &record.title);
        doc.add_text(self.kind, record.kind.as_str());
        doc.add_text(self.path, &record.path);
        doc.add_facet(self.facets, facet("kind", record.kind.as_str()));
        for topic in &record.topics {
            doc.add_text(self.topics, topic);
            doc.add_text(self.topic, topic);
            doc.add_facet(self.facets, facet("topic", topic));
        }
        if let Some(source) = &record.source {
            doc.add_text(self.source, source);
            doc.add_facet(self.facets, facet("source", source));
        }
        if let Some(author) = &record.author {
            doc.add_text(self.author, author);
        }
        for thread in &record.threads {
            doc.add_text(self.thread, thread);
        }
        if let Some(date) = record.date {
            doc.add_date(self.date, to_datetime(date));
            for (bucket, value) in date_buckets(date) {
                doc.add_facet(self.facets, facet(bucket, &value));
            }
        }
        let thread_version = match (&record.version, &record.thread) {
            (Some(version), Some(thread)) => thread_version_key(thread, *version),
            _ => 0,
        };
        doc.add_u64(self.thread_version, thread_version);
        let json = serde_json::to_string(record).expect("a record always serializes");
        doc.add_text(self.record, json);
        doc
    }
}

/// The facet `/<dimension>/<value>`.
pub fn facet(dimension: &str, value: &str) -> Facet {
    Facet::from_path([dimension, value])
}

/// The year, month and day buckets of a date, as facet dimension and value.
fn date_buckets(date: Date) -> [(&'static str, String); 3] {
    let day = date.to_string();
    [
        ("year", day[..4].to_string()),
        ("month", day[..7].to_string()),
        ("day", day),
    ]
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

/// Packs a thread's identity and a version into one u64: the top 48 bits are a
/// stable hash of the thread title, the low 16 bits the version (saturated).
/// Never 0, so 0 can mean "not a thread record".
pub fn thread_version_key(thread: &str, version: u32) -> u64 {
    (thread_hash(thread) << 16) | u64::from(version.min(0xFFFF))
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

    /// (position, token) of `text` through the text analyzer.
    fn analysed(text: &str, closed_forms: bool) -> Vec<(usize, String)> {
        let manager = TokenizerManager::default();
        register(&manager, closed_forms);
        let mut analyzer = manager.get(TEXT_ANALYZER).unwrap();
        let mut stream = analyzer.token_stream(text);
        let mut tokens = Vec::new();
        while let Some(token) = stream.next() {
            tokens.push((token.position, token.text.clone()));
        }
        tokens
    }

    fn pairs(expected: &[(usize, &str)]) -> Vec<(usize, String)> {
        expected.iter().map(|&(p, t)| (p, t.to_string())).collect()
    }

    #[test]
    fn decimals_stay_whole_and_compounds_are_also_indexed_closed() {
        let text = "IL-6 rose 0.7-fold, 20-40 times. Version 2.";
        let expected = [
            (0, "il"),
            (1, "6"),
            (1, "il6"),
            (2, "rose"),
            (3, "0.7"),
            (4, "fold"),
            (4, "0.7fold"),
            (5, "20"),
            (6, "40"),
            (7, "time"),
            (8, "version"),
            (9, "2"),
        ];
        assert_eq!(analysed(text, true), pairs(&expected));
        // Queries get the parts only; the query builder adds the closed form.
        let parts = [(0, "non"), (1, "vacuous"), (2, "bound")];
        assert_eq!(analysed("non-vacuous bounds", false), pairs(&parts));
    }

    #[test]
    fn question_words_and_the_s_of_possessives_are_stop_words() {
        let tokens = analysed("Which networks can fit Gopher's labels?", false);
        let expected = [
            (1, "network"),
            (2, "can"),
            (3, "fit"),
            (4, "gopher"),
            (6, "label"),
        ];
        assert_eq!(tokens, pairs(&expected));
    }

    #[test]
    fn the_schema_resolves_every_field() {
        assert!(Fields::new(&build()).is_ok());
    }
}
