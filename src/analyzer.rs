//! Text analysis: how the words of a record (and of a query) become the
//! terms the index stores. One analyzer for every searchable field, one for
//! the exact-match filter fields.

use std::sync::OnceLock;

use std::cell::RefCell;
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RawTokenizer, Stemmer, StopWordFilter, TextAnalyzer,
    Token, TokenStream, Tokenizer, TokenizerManager,
};

use rustc_hash::FxHashMap;
use tantivy::Index;

use crate::spelling::AmericanSpelling;

/// Bumped whenever an analyzer changes how text becomes terms, the echo
/// features ([`crate::echo`]) change how a record's claim is read or the
/// form stored in the index ([`crate::echo::Claim::stored_words`],
/// [`crate::echo::Claim::rest_values`]) or where its lookup keys are kept
/// (in files beside the index since version 9, no longer an indexed
/// field), or the
/// terms kept for tracing quotes change ([`crate::schema::Fields::shingles`],
/// a column and files beside the index since version 10, no longer an
/// indexed field), so that an index built by older code is rebuilt by the
/// next `reindex`.
pub const ANALYZER_VERSION: u32 = 10;

/// Analyzer of every searchable text field: English words (decimals such as
/// `0.7` kept whole, hyphenated compounds also closed: `non-vacuous` is found
/// by `nonvacuous`), lowercased, accents folded (`Rényi` finds `Renyi`), stop
/// words dropped so that "the" or "which" never decides a ranking, British
/// spellings made American (`memorisation` finds `memorization`), and stemmed
/// (`interpolating` finds `interpolate`).
pub const TEXT_ANALYZER: &str = "claims_en";
/// Analyzer of the filter fields: the whole value as one lowercased token, so
/// `--source lesswrong` matches `LessWrong` and nothing else.
pub const KEYWORD_ANALYZER: &str = "keyword";
/// Analyzer of the author field: a whole name as one token, accents folded and
/// lowercased (see [`crate::authors::fold`]), so `author:"Sebastien Bubeck"`
/// finds *Sébastien Bubeck*.
pub const NAME_ANALYZER: &str = "name";

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
    let text = TextAnalyzer::builder(WordTokenizer::new(closed_forms)).build();
    let keyword = TextAnalyzer::builder(RawTokenizer::default())
        .filter(LowerCaser)
        .build();
    manager.register(TEXT_ANALYZER, text);
    manager.register(KEYWORD_ANALYZER, keyword);
    manager.register(
        NAME_ANALYZER,
        TextAnalyzer::from(crate::authors::NameTokenizer::default()),
    );
}

/// The term the keyword analyzer makes of a whole value (lowercased), for
/// terms built outside a query, such as the page path `reindex` deletes by.
pub(crate) fn keyword_term(value: &str) -> String {
    let mut analyzer = TextAnalyzer::builder(RawTokenizer::default())
        .filter(LowerCaser)
        .build();
    let mut stream = analyzer.token_stream(value);
    let mut term = String::new();
    if let Some(token) = stream.next() {
        term.push_str(&token.text);
    }
    term
}

/// Words of this many bytes or more are dropped (long runs of letters are
/// identifiers, hashes or base64, not words anyone types).
pub(crate) const TOO_LONG_WORD: usize = 40;
/// Distinct spellings a thread remembers before it starts afresh.
const REMEMBERED: usize = 100_000;

thread_local! {
    /// Each thread's normalizer, shared by every tokenizer on the thread (an
    /// indexing thread's fields, a server thread's queries and snippets).
    static NORMALIZER: RefCell<Normalizer> = RefCell::new(Normalizer::new());
}

/// One word to its term: lowercased, accents folded, British spellings the
/// word list names made American (`memorisation` -> `memorization`, see
/// `spelling`), stemmed; `None` for a stop word. English text repeats a small vocabulary, so each thread
/// remembers the spellings it has seen: stemming is most of the cost of
/// indexing otherwise, and the terms are the same either way.
struct Normalizer {
    chain: TextAnalyzer,
    seen: FxHashMap<Box<str>, Option<Box<str>>>,
}

impl Normalizer {
    fn new() -> Normalizer {
        let chain = TextAnalyzer::builder(RawTokenizer::default())
            .filter(LowerCaser)
            .filter(AsciiFoldingFilter)
            .filter(StopWordFilter::remove(
                STOP_WORDS.iter().map(|w| w.to_string()),
            ))
            .filter(AmericanSpelling)
            .filter(Stemmer::new(Language::English))
            .build();
        Normalizer {
            chain,
            seen: FxHashMap::default(),
        }
    }

    /// Appends the term of `word` to `terms`; false when it has none. A
    /// word seen before costs one lookup.
    fn push_term(&mut self, word: &str, terms: &mut String) -> bool {
        if let Some(term) = self.seen.get(word) {
            terms.push_str(term.as_deref().unwrap_or(""));
            return term.is_some();
        }
        if self.seen.len() >= REMEMBERED {
            self.seen.clear();
        }
        let mut stream = self.chain.token_stream(word);
        let term: Option<Box<str>> = stream.next().map(|t| t.text.as_str().into());
        terms.push_str(term.as_deref().unwrap_or(""));
        let found = term.is_some();
        self.seen.insert(word.into(), term);
        found
    }
}

/// The term of one word as the text analyzer makes it (`None` for a stop
/// word), without the remembering of [`Normalizer`]: for words made up by
/// the search itself (spelling candidates), which nobody will ask for again.
pub(crate) fn word_term(word: &str) -> Option<String> {
    NORMALIZER.with_borrow_mut(|normalizer| {
        let mut stream = normalizer.chain.token_stream(word);
        stream.next().map(|token| token.text.clone())
    })
}

/// English stop words: the Snowball project's English list as the tokenizer
/// sees it, that is without its contracted forms, which it cuts up (`isn't`
/// -> `isn`, `t`), plus the `s` of `it's` and of possessives (`t` and `d` are
/// not stop words: T cells, vitamin D). Four times tantivy's 33 words, so that
/// the question words of a query typed as a sentence (`which`, `do`, `what`)
/// neither rank records nor decide which records "match every word".
#[rustfmt::skip]
pub(crate) const STOP_WORDS: &[&str] = &[
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
/// match. Compounds of numbers only (`20-40`) are just their parts. Each word
/// then becomes its term (see [`Normalizer`]); positions count the words
/// before stop words are dropped, as Tantivy's filters do.
#[derive(Clone)]
struct WordTokenizer {
    closed_forms: bool,
    // Buffers for the text being tokenized, kept to save allocations.
    words: Vec<(usize, usize)>,
    pieces: Vec<Piece>,
    /// Its terms, one after the other.
    terms: String,
    tokens: Vec<Term>,
    closed: String,
}

/// A term of [`WordTokenizer::terms`]: its bytes there, and the token's
/// offsets and position in the text.
#[derive(Clone, Copy)]
struct Term {
    start: usize,
    end: usize,
    offset_from: usize,
    offset_to: usize,
    position: usize,
}

/// The tokens of one text, handed out one by one.
struct WordTokenStream<'a> {
    terms: &'a str,
    tokens: std::slice::Iter<'a, Term>,
    token: Token,
}

/// One token: the words `first..=last` (more than one for a closed form).
#[derive(Clone, Copy)]
struct Piece {
    first: usize,
    last: usize,
    position: usize,
}

impl WordTokenizer {
    fn new(closed_forms: bool) -> WordTokenizer {
        WordTokenizer {
            closed_forms,
            words: Vec::new(),
            pieces: Vec::new(),
            terms: String::new(),
            tokens: Vec::new(),
            closed: String::new(),
        }
    }
}

impl Tokenizer for WordTokenizer {
    type TokenStream<'a> = WordTokenStream<'a>;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> WordTokenStream<'a> {
        words(text, &mut self.words);
        pieces(text, &self.words, self.closed_forms, &mut self.pieces);
        let words = &self.words;
        self.terms.clear();
        self.tokens.clear();
        NORMALIZER.with_borrow_mut(|normalizer| {
            for piece in &self.pieces {
                let (from, to) = (words[piece.first].0, words[piece.last].1);
                let word = if piece.first == piece.last {
                    &text[from..to]
                } else {
                    self.closed.clear();
                    for &(a, b) in &words[piece.first..=piece.last] {
                        self.closed.push_str(&text[a..b]);
                    }
                    &self.closed
                };
                if word.len() >= TOO_LONG_WORD {
                    continue;
                }
                let start = self.terms.len();
                if normalizer.push_term(word, &mut self.terms) {
                    self.tokens.push(Term {
                        start,
                        end: self.terms.len(),
                        offset_from: from,
                        offset_to: to,
                        position: piece.position,
                    });
                }
            }
        });
        WordTokenStream {
            terms: &self.terms,
            tokens: self.tokens.iter(),
            token: Token::default(),
        }
    }
}

impl TokenStream for WordTokenStream<'_> {
    fn advance(&mut self) -> bool {
        let Some(term) = self.tokens.next() else {
            return false;
        };
        let token = &mut self.token;
        token.text.clear();
        token.text.push_str(&self.terms[term.start..term.end]);
        token.offset_from = term.offset_from;
        token.offset_to = term.offset_to;
        token.position = term.position;
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

/// Byte ranges of the words of `text`, into `words`. ASCII is classified
/// byte by byte; other characters are decoded.
pub(crate) fn words(text: &str, words: &mut Vec<(usize, usize)>) {
    words.clear();
    let bytes = text.as_bytes();
    let digit_at = |i: usize| bytes.get(i).is_some_and(u8::is_ascii_digit);
    let mut start = None;
    let mut i = 0;
    while i < bytes.len() {
        let (in_word, width) = match bytes[i] {
            b'.' => {
                let decimal_point = i > 0 && digit_at(i - 1) && digit_at(i + 1);
                (decimal_point && start.is_some(), 1)
            }
            b if b.is_ascii() => (b.is_ascii_alphanumeric(), 1),
            _ => {
                let c = text[i..].chars().next().unwrap_or(' ');
                (c.is_alphanumeric(), c.len_utf8())
            }
        };
        match (in_word, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                words.push((s, i));
                start = None;
            }
            _ => {}
        }
        i += width;
    }
    if let Some(s) = start {
        words.push((s, text.len()));
    }
}

/// The tokens to hand out: every word, and after each hyphenated compound
/// with a letter in it its closed form, when `closed_forms`.
fn pieces(text: &str, words: &[(usize, usize)], closed_forms: bool, pieces: &mut Vec<Piece>) {
    let hyphen = |a: (usize, usize), b: (usize, usize)| {
        matches!(&text[a.1..b.0], "-" | "\u{2010}" | "\u{2011}")
    };
    let has_letter = |&(from, to): &(usize, usize)| text[from..to].contains(char::is_alphabetic);
    pieces.clear();
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
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn british_and_american_spellings_are_one_term() {
        let pairs = [
            ("memorisation", "memorization"),
            ("favourable behaviour", "favorable behavior"),
            ("the centre was modelled", "the center was modeled"),
        ];
        for (british, american) in pairs {
            assert_eq!(
                analysed(british, true),
                analysed(american, true),
                "{british}"
            );
        }
        assert_ne!(analysed("promise", true), analysed("promize", true));
    }

    /// A tokenizer that has seen a text gives the same tokens for it again,
    /// and remembers stop words as well as terms.
    #[test]
    fn remembered_terms_are_the_terms() {
        let text = "Réseaux: the interpolating networks' margins (0.7) are GENERALIZING";
        let expected = [
            (0, "reseaux"),
            (2, "interpol"),
            (3, "network"),
            (4, "margin"),
            (5, "0.7"),
            (7, "general"),
        ];
        let mut tokenizer = WordTokenizer::new(true);
        for round in ["cold", "warm"] {
            let mut stream = tokenizer.token_stream(text);
            let mut tokens = Vec::new();
            while let Some(token) = stream.next() {
                tokens.push((token.position, token.text.clone()));
            }
            assert_eq!(tokens, pairs(&expected), "{round}");
        }
    }

    /// The words of `text` as the tokenizer first defined them, char by char.
    fn words_by_char(text: &str) -> Vec<(usize, usize)> {
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

    proptest::proptest! {
        #[test]
        fn words_are_split_as_by_characters(text in "[a-z0-9 .,\\-é٣\u{2010}α🙂]{0,40}") {
            let mut words = Vec::new();
            super::words(&text, &mut words);
            proptest::prop_assert_eq!(words, words_by_char(&text));
        }
    }
}
