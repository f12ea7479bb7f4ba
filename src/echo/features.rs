//! What a record asserts, reduced to what the same-claim decision compares:
//! its content words (stemmed), which of them are negated, its numbers, the
//! names it mentions, the direction of its first change word and, when it
//! relates two sides (`A than B`, `A before B`, `from A to B`), the words on
//! each side. Pure: text in, [`Claim`] out.
//!
//! Words are kept as 32-bit hashes of their stems, so that a [`Claim`] is
//! small enough to store with every record (see [`Claim::rest_values`]). British
//! spellings are read as American ones, and the words and phrases of the
//! paraphrase list (`paraphrases.txt`: `model` for `network`, `step size` for
//! `learning rate`) as their canonical word, so a restatement in the field's
//! other words shares them.

use std::cell::RefCell;

use rustc_hash::FxHashMap;
use tantivy::tokenizer::{Language, RawTokenizer, Stemmer, TextAnalyzer, TokenStream};

use crate::model::Kind;

/// What the decision needs to know of one record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Claim {
    /// Content words (stems), sorted and unique.
    pub words: Vec<u32>,
    /// Content words in the order written (repeats kept, at most 255): tells
    /// a near copy with a word swapped from a rewording.
    pub ordered: Vec<u32>,
    /// Content words that appear only inside the scope of a negation
    /// (`not`, `never`, `fails to`, `neither … nor`), sorted.
    pub negated: Vec<u32>,
    /// Content words that appear outside any negation, sorted.
    pub affirmed: Vec<u32>,
    /// Numbers, written out (`four` → 4, `70B` → 70 and 1e9), sorted.
    pub numbers: Vec<u32>,
    /// Names: capitalised words inside a sentence, and words such as
    /// `ImageNet` or `GPT` anywhere; sorted. Authors named in a reporting
    /// frame (`Zhang et al. show that …`) are not names of the claim.
    pub names: Vec<u32>,
    /// For each class of direction words (amount: `more`/`fewer`, change:
    /// `rises`/`falls`, quality: `better`/`worse`), +1 or -1: the direction
    /// of the record's first word of that class; 0 if it has none.
    pub directions: [i8; 3],
    /// The first relation between two sides, if any.
    pub relation: Option<Relation>,
    /// The content words of the first and of the second half of the record,
    /// each without the words found in both halves: tells a role swap
    /// ("A forms, then B is removed" / "B forms, then A is removed").
    pub halves: Relation,
}

/// `A than B`, `A outperforms B`, `A before B`, `from A to B`, `A rather than B`:
/// the content words on each side, oriented so that the same relation written
/// with its converse (`B after A`, `B underperforms A`) has the same sides.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Relation {
    /// Content words of the first side, sorted.
    pub left: Vec<u32>,
    /// Content words of the second side, sorted.
    pub right: Vec<u32>,
}

/// The text a record's claim is read from: a perspective's view without the
/// voice's name and its `Evolution:` line; other kinds as they are.
pub fn claim_text(kind: Kind, text: &str) -> &str {
    match kind {
        Kind::Perspective => {
            let view = text.split("\nEvolution:").next().unwrap_or(text);
            match view.find(": ") {
                Some(at) if at < 120 => &view[at + 2..],
                _ => view,
            }
        }
        _ => text,
    }
}

/// Reads the claim of `text`.
pub fn claim(text: &str) -> Claim {
    let mut words = String::new();
    let tokens = tokenize(text, &mut words);
    let mut builder = Builder::default();
    builder.read(&tokens);
    builder.finish()
}

/// The content words of `text` in order (stem hashes, repeats kept): what
/// word shingles are made of.
pub fn content_words(text: &str) -> Vec<u32> {
    let mut builder = Builder::default();
    builder.read(&tokenize(text, &mut String::new()));
    builder.ordered.into_iter().map(|(w, _)| w).collect()
}

/// A word of the text with what the reader needs to know about it.
#[derive(Debug, Clone)]
struct Token<'a> {
    /// Lowercased, accents kept as written (stems fold them).
    lower: &'a str,
    /// First letter upper case.
    capital: bool,
    /// Upper case after the first letter too (`ImageNet`, `GPT`, `SGD`).
    inner_capital: bool,
    /// First word of a sentence.
    starts_sentence: bool,
    /// A clause ends after this word (`,` `;` `:` `.` `(`).
    ends_clause: bool,
    /// The word is part of a hyphenated compound after its first part.
    in_compound: bool,
}

/// Splits text into words. Letters and digits make words; an apostrophe
/// inside a word stays (`isn't`); a decimal point or a thousands comma
/// between digits stays (`0.7`, `4,000`); a hyphen splits a compound except
/// after `non` (`non-vacuous` is one word, as is `nonvacuous`). The
/// lowercased words are written one after the other into `lowered`, which
/// the tokens borrow them from.
fn tokenize<'a>(text: &str, lowered: &'a mut String) -> Vec<Token<'a>> {
    let chars: Vec<char> = text.chars().collect();
    // Each token's flags and where its word ends in `lowered`.
    let mut tokens: Vec<(Token<'static>, usize)> = Vec::with_capacity(chars.len() / 5 + 1);
    lowered.clear();
    // The word being read, written anew for each word.
    let mut word = String::new();
    let mut sentence_start = true;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if !c.is_alphanumeric() {
            if let Some((last, _)) = tokens.last_mut() {
                if matches!(c, ',' | ';' | ':' | '(' | ')' | '—' | '–' | '?' | '!' | '.') {
                    last.ends_clause = true;
                }
            }
            if matches!(c, '.' | '?' | '!') {
                sentence_start = true;
            }
            i += 1;
            continue;
        }
        let start = i;
        word.clear();
        while i < chars.len() {
            let c = chars[i];
            let digit_around = |j: usize| {
                j > 0
                    && chars[j - 1].is_ascii_digit()
                    && chars.get(j + 1).is_some_and(|n| n.is_ascii_digit())
            };
            if c.is_alphanumeric() {
                word.push(c);
            } else if (c == '\'' || c == '’')
                && chars.get(i + 1).is_some_and(|n| n.is_alphabetic())
                && !word.is_empty()
            {
                word.push('\'');
            } else if c == '.' && digit_around(i) {
                word.push('.');
            } else if c == ','
                && digit_around(i)
                && chars.get(i + 4).is_none_or(|n| !n.is_ascii_digit())
            {
                // 4,000: a thousands separator, dropped.
            } else if c == '-'
                && word.eq_ignore_ascii_case("non")
                && chars.get(i + 1).is_some_and(|n| n.is_alphabetic())
            {
                // non-vacuous: one word.
            } else {
                break;
            }
            i += 1;
        }
        let first = word.chars().next().unwrap_or(' ');
        let in_compound = start > 0 && chars[start - 1] == '-';
        if word.is_ascii() {
            lowered.extend(word.chars().map(|c| c.to_ascii_lowercase()));
        } else {
            lowered.push_str(&word.to_lowercase());
        }
        let token = Token {
            lower: "",
            capital: first.is_uppercase(),
            inner_capital: word.chars().skip(1).any(|c| c.is_uppercase()),
            starts_sentence: sentence_start,
            ends_clause: false,
            in_compound,
        };
        tokens.push((token, lowered.len()));
        sentence_start = false;
    }
    let lowered: &'a str = lowered;
    let mut start = 0;
    (tokens.into_iter())
        .map(|(token, end)| {
            let lower = &lowered[start..end];
            start = end;
            Token { lower, ..token }
        })
        .collect()
}

/// What one word means to the decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Carries no claim (`the`, `which`, `show`, `et`, `al`).
    Stop,
    /// Negates what follows (`not`, `never`, `fails`, `neither`).
    Negation,
    /// Relates two sides; `converse` when it states the relation backwards
    /// (`after`, `underperforms`).
    Anchor { converse: bool },
    /// A content word; `sign` for words of direction, in `class`.
    Content { class: usize, sign: i8 },
}

/// Words that negate what follows them in their clause.
const NEGATIONS: &[&str] = &[
    "not",
    "no",
    "never",
    "nor",
    "neither",
    "none",
    "cannot",
    "can't",
    "don't",
    "doesn't",
    "didn't",
    "isn't",
    "aren't",
    "wasn't",
    "weren't",
    "won't",
    "wouldn't",
    "couldn't",
    "shouldn't",
    "hasn't",
    "haven't",
    "fail",
    "fails",
    "failed",
    "failing",
    "unable",
    "without",
    "lack",
    "lacks",
    "nothing",
    "nobody",
];

/// Words that end a denial's reach once it has taken a content word.
const SCOPE_ENDS: &[&str] = &[
    "for", "by", "with", "in", "on", "at", "from", "into", "through", "during", "when", "if",
    "because", "as", "once", "so", "until", "where",
];

/// Words after `not` that make it no denial: `not only`, `not specific to`.
const NOT_A_DENIAL: &[&str] = &[
    "only",
    "just",
    "merely",
    "solely",
    "specific",
    "unique",
    "limited",
    "restricted",
    "peculiar",
    "exclusive",
];

/// Words that carry no claim: English function words, and the words of a
/// reporting frame (`Zhang et al. show that …`, `we find that …`).
#[rustfmt::skip]
const STOP: &[&str] = &[
    "i", "me", "my", "we", "our", "us", "you", "your", "he", "him", "his", "she", "her", "it",
    "its", "they", "them", "their", "what", "which", "who", "whom", "this", "that", "these",
    "those", "am", "is", "are", "was", "were", "be", "been", "being", "have", "has", "had",
    "having", "do", "does", "did", "doing", "would", "should", "could", "ought", "a", "an", "the",
    "and", "but", "if", "or", "because", "as", "until", "of", "at", "by", "for", "with",
    "about", "against", "between", "into", "through", "during", "to", "from", "in", "out", "on",
    "off", "again", "further", "then", "once", "here", "there", "when", "where", "why", "how",
    "all", "any", "both", "each", "other", "some", "such", "only", "own", "same", "so", "too",
    "very", "s", "can", "will", "just", "may", "might", "must", "also", "even", "still", "yet",
    "whether", "its", "itself", "themselves", "one's", "thus", "therefore", "hence",
    "et", "al", "show", "shows", "showed", "shown", "find", "finds", "found", "report", "reports",
    "reported", "argue", "argues", "argued", "claim", "claims", "claimed", "state", "states",
    "stated", "observe", "observes", "observed", "demonstrate", "demonstrates", "demonstrated",
    "conclude", "concludes", "concluded", "suggest", "suggests", "suggested", "propose",
    "proposes", "proposed", "prove", "proves", "proved", "describe", "describes", "described",
    "present", "presents", "presented", "note", "notes", "noted", "paper", "papers", "authors",
    "author", "work", "result", "results", "indeed", "actually", "rather", "instead", "way",
];

/// Words that relate two sides, and whether they state the relation backwards.
const ANCHORS: &[(&str, bool)] = &[
    ("than", false),
    ("outperform", false),
    ("outperforms", false),
    ("outperformed", false),
    ("beat", false),
    ("beats", false),
    ("underperform", true),
    ("underperforms", true),
    ("before", false),
    ("after", true),
    ("precede", false),
    ("precedes", false),
    ("while", false),
    ("whereas", false),
    ("cause", false),
    ("causes", false),
    ("caused", false),
];

/// Words of direction, by class (0 amount, 1 change, 2 quality), with their sign.
#[rustfmt::skip]
const SIGNS: &[(&str, usize, i8)] = &[
    ("more", 0, 1), ("most", 0, 1), ("larger", 0, 1), ("large", 0, 1), ("largest", 0, 1),
    ("bigger", 0, 1), ("big", 0, 1), ("higher", 0, 1), ("high", 0, 1), ("many", 0, 1),
    ("majority", 0, 1), ("wider", 0, 1), ("deeper", 0, 1), ("above", 0, 1),
    ("less", 0, -1), ("least", 0, -1), ("fewer", 0, -1), ("few", 0, -1), ("smaller", 0, -1),
    ("small", 0, -1), ("smallest", 0, -1), ("lower", 0, -1), ("low", 0, -1), ("little", 0, -1),
    ("narrower", 0, -1), ("shallower", 0, -1), ("below", 0, -1),
    ("increase", 1, 1), ("increases", 1, 1), ("increased", 1, 1), ("increasing", 1, 1),
    ("rise", 1, 1), ("rises", 1, 1), ("rising", 1, 1), ("rose", 1, 1), ("grow", 1, 1),
    ("grows", 1, 1), ("growing", 1, 1), ("grew", 1, 1), ("gain", 1, 1), ("gains", 1, 1),
    ("peak", 1, 1), ("peaks", 1, 1), ("spike", 1, 1), ("spikes", 1, 1), ("up", 1, 1),
    ("add", 1, 1), ("adding", 1, 1), ("adds", 1, 1),
    ("decrease", 1, -1), ("decreases", 1, -1), ("decreased", 1, -1), ("decreasing", 1, -1),
    ("fall", 1, -1), ("falls", 1, -1), ("falling", 1, -1), ("fell", 1, -1), ("drop", 1, -1),
    ("drops", 1, -1), ("shrink", 1, -1), ("shrinks", 1, -1), ("dip", 1, -1), ("dips", 1, -1),
    ("down", 1, -1), ("remove", 1, -1), ("removing", 1, -1), ("removes", 1, -1),
    ("better", 2, 1), ("best", 2, 1), ("improve", 2, 1), ("improves", 2, 1), ("improved", 2, 1),
    ("faster", 2, 1), ("outperform", 2, 1), ("outperforms", 2, 1), ("help", 2, 1), ("helps", 2, 1),
    ("worse", 2, -1), ("worst", 2, -1), ("degrade", 2, -1), ("degrades", 2, -1), ("hurt", 2, -1),
    ("hurts", 2, -1), ("slower", 2, -1), ("poorly", 2, -1), ("poorer", 2, -1), ("poor", 2, -1),
    ("underperform", 2, -1), ("underperforms", 2, -1), ("harm", 2, -1), ("harms", 2, -1),
];

/// Number words and multipliers: `four` is 4, `billion` multiplies.
const NUMBER_WORDS: &[(&str, u32)] = &[
    ("one", 1),
    ("two", 2),
    ("three", 3),
    ("four", 4),
    ("five", 5),
    ("six", 6),
    ("seven", 7),
    ("eight", 8),
    ("nine", 9),
    ("ten", 10),
    ("eleven", 11),
    ("twelve", 12),
    ("dozen", 12),
    ("dozens", 12),
    ("twenty", 20),
    ("thirty", 30),
    ("forty", 40),
    ("fifty", 50),
    ("hundred", 100),
    ("hundreds", 100),
    ("twice", 2),
    ("thrice", 3),
];
const MAGNITUDES: &[(&str, u32)] = &[
    ("thousand", 1_000),
    ("thousands", 1_000),
    ("million", 1_000_000),
    ("millions", 1_000_000),
    ("billion", 1_000_000_000),
    ("billions", 1_000_000_000),
    ("trillion", 0xFFFF_FFF0),
    ("trillions", 0xFFFF_FFF0),
    ("k", 1_000),
    ("m", 1_000_000),
    ("b", 1_000_000_000),
    ("t", 0xFFFF_FFF0),
];

/// The role of a word: one lookup in a table made once from the lists
/// above (a word read for every word of every claim at index time).
fn role(word: &str) -> Role {
    if word.ends_with("n't") {
        return Role::Negation;
    }
    roles()
        .get(word)
        .copied()
        .unwrap_or(Role::Content { class: 0, sign: 0 })
}

/// Every listed word's role. A word on several lists takes the first of
/// negation, anchor, stop word and direction, so later lists are entered
/// first and overwritten.
fn roles() -> &'static FxHashMap<&'static str, Role> {
    static ROLES: std::sync::OnceLock<FxHashMap<&'static str, Role>> = std::sync::OnceLock::new();
    ROLES.get_or_init(|| {
        let mut roles = FxHashMap::default();
        for &(word, class, sign) in SIGNS {
            roles.insert(word, Role::Content { class, sign });
        }
        for &word in STOP {
            roles.insert(word, Role::Stop);
        }
        for &(word, converse) in ANCHORS {
            roles.insert(word, Role::Anchor { converse });
        }
        for &word in NEGATIONS {
            roles.insert(word, Role::Negation);
        }
        roles
    })
}

/// Reads tokens into a [`Claim`].
#[derive(Default)]
struct Builder {
    words: Vec<u32>,
    negated: Vec<u32>,
    affirmed: Vec<u32>,
    numbers: Vec<u32>,
    names: Vec<u32>,
    directions: [i8; 3],
    /// Content words in order, with their clause and sentence number.
    ordered: Vec<(u32, usize)>,
    /// Index into `ordered` where the first anchor stands, its converse flag,
    /// and the sentence it is in.
    anchor: Option<(usize, bool, usize)>,
    /// `from … to …`: positions in `ordered` of the words after `from` and after `to`.
    from_to: Option<(usize, usize, usize)>,
}

/// How many content words a negation reaches, within its clause.
const NEGATION_REACH: usize = 4;

impl Builder {
    fn read(&mut self, tokens: &[Token]) {
        let mut negation_left = 0usize;
        let mut sentence = 0usize;
        let mut pending_from: Option<usize> = None;
        let stems: Vec<u32> = tokens.iter().map(|t| stem_hash(t.lower)).collect();
        let paraphrases = paraphrases();
        for list in [&mut self.words, &mut self.affirmed] {
            list.reserve(tokens.len());
        }
        self.ordered.reserve(tokens.len());
        // Tokens up to here were read as part of a phrase.
        let mut phrase_end = 0;
        for (i, token) in tokens.iter().enumerate() {
            if token.starts_sentence && i > 0 {
                sentence += 1;
                pending_from = None;
            }
            if i < phrase_end {
                if token.ends_clause {
                    negation_left = 0;
                }
                continue;
            }
            let word = token.lower;
            // "et al." frames: the words before it are the reporting authors.
            if tokens.get(i + 1).is_some_and(|n| n.lower == "et") {
                continue;
            }
            if let Some((len, concept)) = paraphrases.phrase_at(tokens, &stems, i) {
                phrase_end = i + len;
                if let Some(Role::Content { class, sign }) = paraphrases.canonical_role(concept) {
                    if self.directions[class] == 0 && sign != 0 {
                        self.directions[class] = sign;
                    }
                }
                self.content(concept, false, token, &mut negation_left, sentence);
                if tokens[phrase_end - 1].ends_clause {
                    negation_left = 0;
                }
                continue;
            }
            if let Some(n) = number(word, tokens.get(i + 1).map(|t| t.lower)) {
                self.numbers.extend(n);
                if token.ends_clause {
                    negation_left = 0;
                }
                continue;
            }
            if MAGNITUDES.iter().any(|(w, _)| *w == word) && word.len() > 1 {
                // A magnitude after a number was taken with it; alone it is one.
                let after_number = i > 0 && number(tokens[i - 1].lower, None).is_some();
                if !after_number {
                    self.numbers.push(magnitude(word));
                }
                continue;
            }
            match role(word) {
                // `not only`, `not specific to`: no denial.
                Role::Negation
                    if tokens
                        .get(i + 1)
                        .is_some_and(|n| NOT_A_DENIAL.contains(&n.lower)) => {}
                Role::Negation => negation_left = NEGATION_REACH,
                Role::Stop => {
                    // A denial reaches its predicate, not the phrase after
                    // it: `neither necessary nor sufficient for good accuracy`.
                    if negation_left < NEGATION_REACH && SCOPE_ENDS.contains(&word) {
                        negation_left = 0;
                    }
                    if word == "from" || word == "to" {
                        if word == "from" {
                            pending_from = Some(self.ordered.len());
                        } else if let Some(from) = pending_from.take() {
                            if self.from_to.is_none() && self.ordered.len() > from {
                                self.from_to = Some((from, self.ordered.len(), sentence));
                            }
                        }
                    }
                }
                Role::Anchor { converse } => {
                    // "A is caused by B" states "B causes A".
                    let converse = converse
                        || (word.starts_with("caus")
                            && tokens.get(i + 1).is_some_and(|n| n.lower == "by"));
                    if self.anchor.is_none() {
                        self.anchor = Some((self.ordered.len(), converse, sentence));
                    }
                }
                Role::Content { class, sign } => {
                    let concept = paraphrases.concept(stems[i]);
                    // A word without a direction of its own may stand for one (`climb`).
                    let (class, sign) = match sign {
                        0 if concept != stems[i] => match paraphrases.canonical_role(concept) {
                            Some(Role::Content { class, sign }) => (class, sign),
                            _ => (class, sign),
                        },
                        _ => (class, sign),
                    };
                    if self.directions[class] == 0 && sign != 0 {
                        self.directions[class] = sign;
                    }
                    let opposite = paraphrases.opposite(stems[i]);
                    self.content(concept, opposite, token, &mut negation_left, sentence);
                }
            }
            if token.ends_clause {
                negation_left = 0;
            }
        }
    }

    /// Takes a content word (or phrase, starting at `token`) as `concept`;
    /// `opposite` when the word says the concept's opposite (`changes` for
    /// `constant`), which a denial turns back (`no longer changes`).
    fn content(
        &mut self,
        concept: u32,
        opposite: bool,
        token: &Token,
        negation_left: &mut usize,
        sentence: usize,
    ) {
        self.words.push(concept);
        let denied = *negation_left > 0;
        if denied {
            *negation_left -= 1;
        }
        if denied != opposite {
            self.negated.push(concept);
        } else {
            self.affirmed.push(concept);
        }
        // A capital inside a sentence, or inside a compound (`CIFAR-10`).
        let is_name =
            token.inner_capital || (token.capital && (!token.starts_sentence || token.in_compound));
        if is_name && token.lower.chars().any(|c| c.is_alphabetic()) {
            self.names.push(concept);
        }
        self.ordered.push((concept, sentence));
    }

    fn finish(mut self) -> Claim {
        let relation = self.relation();
        let halves = self.halves();
        let ordered: Vec<u32> = self.ordered.iter().map(|(w, _)| *w).take(255).collect();
        for list in [
            &mut self.words,
            &mut self.negated,
            &mut self.affirmed,
            &mut self.numbers,
            &mut self.names,
        ] {
            list.sort_unstable();
            list.dedup();
        }
        // A word both negated and affirmed somewhere is neither.
        let both: Vec<u32> = (self.negated.iter().copied())
            .filter(|w| self.affirmed.binary_search(w).is_ok())
            .collect();
        if !both.is_empty() {
            self.negated.retain(|w| both.binary_search(w).is_err());
            self.affirmed.retain(|w| both.binary_search(w).is_err());
        }
        Claim {
            words: self.words,
            ordered,
            negated: self.negated,
            affirmed: self.affirmed,
            numbers: self.numbers,
            names: self.names,
            directions: self.directions,
            relation,
            halves,
        }
    }

    /// The words of each half of the record, without those in both.
    fn halves(&self) -> Relation {
        let middle = self.ordered.len() / 2;
        let half = |range: std::ops::Range<usize>| -> Vec<u32> {
            let mut words: Vec<u32> = self.ordered[range].iter().map(|(w, _)| *w).collect();
            words.sort_unstable();
            words.dedup();
            words
        };
        let (left, right) = (half(0..middle), half(middle..self.ordered.len()));
        let only = |a: &[u32], b: &[u32]| -> Vec<u32> {
            a.iter()
                .copied()
                .filter(|w| b.binary_search(w).is_err())
                .collect()
        };
        Relation {
            left: only(&left, &right),
            right: only(&right, &left),
        }
    }

    /// The two sides of the first anchor (or `from … to …`), within its sentence.
    fn relation(&self) -> Option<Relation> {
        let side = |range: std::ops::Range<usize>, sentence: usize| -> Vec<u32> {
            let mut words: Vec<u32> = (self.ordered[range].iter())
                .filter(|(_, s)| *s == sentence)
                .map(|(w, _)| *w)
                .collect();
            words.sort_unstable();
            words.dedup();
            words
        };
        let (left, right) = match (self.anchor, self.from_to) {
            (Some((at, converse, sentence)), _) => {
                let before = side(0..at, sentence);
                let after = side(at..self.ordered.len(), sentence);
                if converse {
                    (after, before)
                } else {
                    (before, after)
                }
            }
            (None, Some((from, to, sentence))) => (
                side(from..to, sentence),
                side(to..self.ordered.len(), sentence),
            ),
            (None, None) => return None,
        };
        // Words on both sides tell nothing about the order.
        let only = |a: &[u32], b: &[u32]| -> Vec<u32> {
            a.iter()
                .copied()
                .filter(|w| b.binary_search(w).is_err())
                .collect()
        };
        let relation = Relation {
            left: only(&left, &right),
            right: only(&right, &left),
        };
        (!relation.left.is_empty() && !relation.right.is_empty()).then_some(relation)
    }
}

/// The numbers a word stands for: digits (`4000`, `0.7`, `70b` → 70 and 1e9)
/// or a number word (`four`); `None` when it is not a number.
fn number(word: &str, next: Option<&str>) -> Option<Vec<u32>> {
    if let Some((_, n)) = NUMBER_WORDS.iter().find(|(w, _)| *w == word) {
        let mut out = vec![number_hash(&n.to_string())];
        if let Some(m) = next.filter(|m| m.len() > 1 && MAGNITUDES.iter().any(|(w, _)| w == m)) {
            out.push(magnitude(m));
        }
        return Some(out);
    }
    let digits = word
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(word.len());
    if digits == 0 || !word.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let (value, suffix) = word.split_at(digits);
    let mut out = vec![number_hash(value)];
    if MAGNITUDES.iter().any(|(w, _)| *w == suffix) {
        out.push(magnitude(suffix));
    } else if let Some(m) = next.filter(|m| m.len() > 1 && MAGNITUDES.iter().any(|(w, _)| w == m)) {
        out.push(magnitude(m));
    }
    Some(out)
}

fn magnitude(word: &str) -> u32 {
    let m = MAGNITUDES
        .iter()
        .find(|(w, _)| *w == word)
        .map_or(0, |(_, m)| *m);
    number_hash(&format!("e{m}"))
}

fn number_hash(value: &str) -> u32 {
    // `4.0` and `4` are the same number.
    let value = if value.contains('.') {
        value.trim_end_matches('0').trim_end_matches('.')
    } else {
        value
    };
    let value = value.trim_start_matches('0');
    fnv32(value.as_bytes()) | 1
}

/// The committed paraphrase list (format in its header).
const PARAPHRASES: &str = include_str!("paraphrases.txt");

/// The paraphrase list, read: each variant's stem (or phrase of stems) to
/// the stem of its canonical word.
#[derive(Debug, Default)]
pub(crate) struct Paraphrases {
    words: FxHashMap<u32, u32>,
    /// By first stem: phrases (stems) with their concept, longest first.
    phrases: FxHashMap<u32, Vec<(Vec<u32>, u32)>>,
    /// Stems that say the opposite of their concept (`change` for
    /// `constant`), sorted: read as the concept denied.
    opposites: Vec<u32>,
    /// Concept stem to its canonical word, for the word's role.
    canonical: FxHashMap<u32, String>,
}

impl Paraphrases {
    /// Reads a list in the format of `paraphrases.txt`; a line without a
    /// colon, a canonical of several words, or a word on two lines is an
    /// error naming the line.
    pub(crate) fn parse(list: &str) -> Result<Paraphrases, String> {
        let mut out = Paraphrases::default();
        let mut line_of: FxHashMap<Vec<u32>, usize> = FxHashMap::default();
        for (n, line) in list.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |why: &str| format!("line {}: {why}: {line}", n + 1);
            let (canonical, variants) = line.split_once(':').ok_or_else(|| bad("no colon"))?;
            let canonical = canonical.trim();
            let canonical_stems: Vec<u32> = (tokenize(canonical, &mut String::new()).iter())
                .map(|t| stem_hash(t.lower))
                .collect();
            let [concept] = canonical_stems[..] else {
                return Err(bad("the canonical word is not one word"));
            };
            out.canonical.insert(concept, canonical.to_lowercase());
            let mut entries = vec![canonical_stems];
            for variant in variants.split(',') {
                let (variant, opposite) = match variant.trim().strip_prefix('!') {
                    Some(rest) => (rest, true),
                    None => (variant, false),
                };
                let stems: Vec<u32> = (tokenize(variant, &mut String::new()).iter())
                    .map(|t| stem_hash(t.lower))
                    .collect();
                if stems.is_empty() {
                    return Err(bad("an empty variant"));
                }
                if opposite {
                    let [one] = stems[..] else {
                        return Err(bad("an opposite (`!`) is not one word"));
                    };
                    out.opposites.push(one);
                }
                entries.push(stems);
            }
            for stems in entries {
                match line_of.insert(stems.clone(), n) {
                    Some(other) if other != n => {
                        return Err(bad(&format!("a variant already on line {}", other + 1)))
                    }
                    _ => {}
                }
                match stems[..] {
                    [one] => {
                        out.words.insert(one, concept);
                    }
                    _ => (out.phrases.entry(stems[0]).or_default()).push((stems, concept)),
                }
            }
        }
        for phrases in out.phrases.values_mut() {
            phrases.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
        }
        out.opposites.sort_unstable();
        Ok(out)
    }

    /// Whether a single word's stem says the opposite of its concept.
    fn opposite(&self, stem: u32) -> bool {
        self.opposites.binary_search(&stem).is_ok()
    }

    /// The concept of a single word's stem (the stem itself when listed nowhere).
    pub(crate) fn concept(&self, stem: u32) -> u32 {
        self.words.get(&stem).copied().unwrap_or(stem)
    }

    /// The longest listed phrase starting at token `at` within its clause:
    /// its length in tokens and its concept.
    fn phrase_at(&self, tokens: &[Token], stems: &[u32], at: usize) -> Option<(usize, u32)> {
        let candidates = self.phrases.get(&stems[at])?;
        candidates.iter().find_map(|(phrase, concept)| {
            let end = at + phrase.len();
            let fits = end <= stems.len()
                && stems[at..end] == phrase[..]
                && tokens[at..end - 1].iter().all(|t| !t.ends_clause);
            fits.then_some((phrase.len(), *concept))
        })
    }

    /// The role of a concept's canonical word (`None` for a concept not listed).
    fn canonical_role(&self, concept: u32) -> Option<Role> {
        self.canonical.get(&concept).map(|word| role(word))
    }
}

/// The concept a single word stands for: its stem, or the canonical word of
/// its line in the paraphrase list.
pub(crate) fn concept_of(word: &str) -> u32 {
    paraphrases().concept(stem_hash(&word.to_lowercase()))
}

/// The committed list, parsed once. A test parses it, so it cannot fail at
/// run time; were it to, no word would be read as another.
fn paraphrases() -> &'static Paraphrases {
    static LIST: std::sync::OnceLock<Paraphrases> = std::sync::OnceLock::new();
    LIST.get_or_init(|| Paraphrases::parse(PARAPHRASES).unwrap_or_default())
}

/// Entries a thread remembers before it starts afresh.
const REMEMBERED: usize = 50_000;

thread_local! {
    static STEMS: RefCell<(TextAnalyzer, FxHashMap<String, u32>)> = RefCell::new((
        TextAnalyzer::builder(RawTokenizer::default())
            .filter(tantivy::tokenizer::AsciiFoldingFilter)
            .filter(Stemmer::new(Language::English))
            .build(),
        FxHashMap::default(),
    ));
}

/// The hash of a lowercased word's English stem (accents folded).
fn stem_hash(word: &str) -> u32 {
    STEMS.with(|cell| {
        let (analyzer, seen) = &mut *cell.borrow_mut();
        if let Some(hash) = seen.get(word) {
            return *hash;
        }
        if seen.len() >= REMEMBERED {
            seen.clear();
        }
        let american = crate::spelling::american(word);
        let mut stream = analyzer.token_stream(american.as_deref().unwrap_or(word));
        let hash = match stream.next() {
            Some(token) => fnv32(token.text.as_bytes()),
            None => fnv32(word.as_bytes()),
        };
        seen.insert(word.to_string(), hash);
        hash
    })
}

/// FNV-1a, 32 bits: stable across runs and platforms.
pub(crate) fn fnv32(bytes: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in bytes {
        h ^= u32::from(*b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// The value that ends a claim's [stored words](Claim::stored_words) when
/// the claim the index keeps ([`Claim::rest_values`]) has fewer words than
/// it has: above every word (words are 32-bit), so the list stays sorted.
pub const WORDS_CUT: u64 = 1 << 32;

/// How a claim's rest names a word of its lists: by its place among the
/// claim's words in 1, 2 or 4 bytes, or (for a claim whose lists hold a
/// word that is not one of its words, which [`claim`] never makes) by the
/// word itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Width {
    One = 0,
    Two = 1,
    Four = 2,
    Words = 3,
}

impl Width {
    fn from_code(code: u8) -> Option<Width> {
        Some(match code {
            0 => Width::One,
            1 => Width::Two,
            2 => Width::Four,
            3 => Width::Words,
            _ => return None,
        })
    }

    fn bytes(self) -> usize {
        match self {
            Width::One => 1,
            Width::Two => 2,
            Width::Four | Width::Words => 4,
        }
    }
}

impl Claim {
    /// What the index stores of the claim's words (in
    /// [`crate::schema::Fields::claim_words`]): its content words
    /// ([`Claim::words`]), sorted, then [`WORDS_CUT`] when the claim the
    /// index keeps has fewer (its [`Claim::ordered`] holds at most 255
    /// words). From them a search finds the claim's lookup keys, and tells
    /// records too far apart in words to be the same claim without reading
    /// the rest of their claims.
    pub fn stored_words(&self) -> Vec<u64> {
        let mut stored: Vec<u64> = self.words.iter().map(|&w| u64::from(w)).collect();
        if self.cut() {
            stored.push(WORDS_CUT);
        }
        stored
    }

    /// Whether the words the stored claim keeps (those of
    /// [`Claim::ordered`]) are not its words.
    fn cut(&self) -> bool {
        let mut kept = vec![false; self.words.len()];
        for word in &self.ordered {
            match self.words.binary_search(word) {
                Ok(at) => kept[at] = true,
                Err(_) => return true,
            }
        }
        kept.contains(&false)
    }

    /// Reads [`Claim::stored_words`] (or a part of them) back, appending
    /// the words to `words`: `true` when [`WORDS_CUT`] is among them, so
    /// that the claim read from the index ([`Claim::from_stored`]) has fewer
    /// words than the record.
    pub fn read_stored_words(stored: impl Iterator<Item = u64>, words: &mut Vec<u32>) -> bool {
        let mut cut = false;
        for value in stored {
            match u32::try_from(value) {
                Ok(word) => words.push(word),
                Err(_) => cut = true,
            }
        }
        cut
    }

    /// The rest of the claim beside its [stored words](Claim::stored_words),
    /// as the index stores it (in [`crate::schema::Fields::claim`], a
    /// multi-valued fast column), so that searches decide without reading
    /// the record: bytes packed four a value (32-bit values). The rest
    /// names words by their place among the claim's words (one byte each
    /// for a claim of up to 256 words), so a claim costs about a third of
    /// its words again: one byte saying how words are named, the three
    /// directions, then eight lists, each a count (at most 255, the first
    /// 255 kept) and its entries: the ordered words, the negated words, the
    /// numbers (four bytes each, as they are), the names, the relation's two
    /// sides and the two halves. [`Claim::from_stored`] reads it back.
    pub fn rest_values(&self) -> Vec<u64> {
        let words = &self.words;
        let width = match words.len() {
            0..=0x100 => Width::One,
            0x101..=0x1_0000 => Width::Two,
            _ => Width::Four,
        };
        let rest = self
            .rest_bytes(width)
            .unwrap_or_else(|| self.rest_bytes(Width::Words).unwrap_or_default());
        (rest.chunks(4))
            .map(|chunk| {
                let mut four = [0u8; 4];
                four[..chunk.len()].copy_from_slice(chunk);
                u64::from(u32::from_le_bytes(four))
            })
            .collect()
    }

    /// The bytes of [`Claim::rest_values`] with words named `width`;
    /// `None` when a list holds a word that is not one of the claim's words
    /// and `width` names words by their place.
    fn rest_bytes(&self, width: Width) -> Option<Vec<u8>> {
        let mut rest = Vec::with_capacity(12 + 2 * self.ordered.len());
        rest.push(width as u8);
        rest.extend(self.directions.map(|d| d as u8));
        for (i, list) in self.lists().iter().enumerate() {
            let list = &list[..list.len().min(255)];
            rest.push(list.len() as u8);
            for &value in list {
                let named = match (i == NUMBERS, width) {
                    (true, _) | (false, Width::Words) => value,
                    (false, _) => self.words.binary_search(&value).ok()? as u32,
                };
                rest.extend_from_slice(&named.to_le_bytes()[..width_of(i, width)]);
            }
        }
        Some(rest)
    }

    /// The eight lists of the rest, in order.
    fn lists(&self) -> [&[u32]; 8] {
        [
            &self.ordered,
            &self.negated,
            &self.numbers,
            &self.names,
            self.relation.as_ref().map_or(&[], |r| &r.left),
            self.relation.as_ref().map_or(&[], |r| &r.right),
            &self.halves.left,
            &self.halves.right,
        ]
    }

    /// The claim the index keeps, from its stored words (`words`, without
    /// [`WORDS_CUT`]) and [`Claim::rest_values`]: its words those of its
    /// ordered words (at most 255), and each list's first 255 entries.
    /// `None` for values [`Claim::rest_values`] did not write.
    pub fn from_stored(all_words: &[u32], rest: &[u64]) -> Option<Claim> {
        let mut bytes = Vec::with_capacity(4 * rest.len());
        for &value in rest {
            let four = u32::try_from(value).ok()?;
            bytes.extend_from_slice(&four.to_le_bytes());
        }
        let (&head, mut tail) = bytes.split_first()?;
        let width = Width::from_code(head)?;
        let direction: [u8; 3] = tail.get(..3)?.try_into().ok()?;
        tail = &tail[3..];
        let mut lists: Vec<Vec<u32>> = Vec::with_capacity(8);
        for i in 0..8 {
            let (&len, after) = tail.split_first()?;
            let size = width_of(i, width);
            let body = after.get(..usize::from(len) * size)?;
            tail = &after[body.len()..];
            let list = body.chunks_exact(size).map(|named| {
                let mut four = [0u8; 4];
                four[..size].copy_from_slice(named);
                let value = u32::from_le_bytes(four);
                match (i == NUMBERS, width) {
                    (true, _) | (false, Width::Words) => Some(value),
                    (false, _) => all_words.get(value as usize).copied(),
                }
            });
            lists.push(list.collect::<Option<Vec<u32>>>()?);
        }
        // What is left pads the last value.
        if tail.len() >= 4 || tail.iter().any(|&b| b != 0) {
            return None;
        }
        let lists: [Vec<u32>; 8] = lists.try_into().ok()?;
        Some(Claim::from_lists(direction.map(|d| d as i8), lists))
    }

    /// The claim whose directions are `directions` and whose eight lists,
    /// in the order of [`Claim::lists`], are `lists`: its words are those of
    /// its ordered words, and the words it affirms those it does not deny.
    fn from_lists(directions: [i8; 3], lists: [Vec<u32>; 8]) -> Claim {
        let [ordered, negated, numbers, names, left, right, halves_left, halves_right] = lists;
        let mut words = ordered.clone();
        words.sort_unstable();
        words.dedup();
        let affirmed = (words.iter().copied())
            .filter(|w| negated.binary_search(w).is_err())
            .collect();
        let relation = (!left.is_empty() && !right.is_empty()).then_some(Relation { left, right });
        Claim {
            words,
            ordered,
            negated,
            affirmed,
            numbers,
            names,
            directions,
            relation,
            halves: Relation {
                left: halves_left,
                right: halves_right,
            },
        }
    }
}

/// The place of the numbers among the lists of a claim's rest: the one
/// list of values that are not words.
const NUMBERS: usize = 2;

/// Bytes an entry of list `i` takes in a rest whose words are named `width`.
fn width_of(i: usize, width: Width) -> usize {
    if i == NUMBERS {
        4
    } else {
        width.bytes()
    }
}

/// The byte form the index stored claims in before [`Claim::rest_values`]:
/// what a search decided on then, so what [`Claim::from_stored`] must
/// give back.
#[cfg(test)]
pub(crate) mod byte_form {
    use super::Claim;

    pub(crate) fn encode(claim: &Claim) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend(claim.directions.map(|d| d as u8));
        for list in claim.lists() {
            let len = list.len().min(255);
            out.push(len as u8);
            for value in &list[..len] {
                out.extend_from_slice(&value.to_le_bytes());
            }
        }
        out
    }

    pub(crate) fn decode(bytes: &[u8]) -> Claim {
        let (direction, mut rest) = bytes.split_at(3);
        let mut lists = Vec::new();
        for _ in 0..8 {
            let len = usize::from(rest[0]);
            let body = &rest[1..1 + 4 * len];
            lists.push(
                (body.chunks_exact(4))
                    .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect::<Vec<u32>>(),
            );
            rest = &rest[1 + 4 * len..];
        }
        let lists: [Vec<u32>; 8] = lists.try_into().unwrap();
        let directions = [direction[0] as i8, direction[1] as i8, direction[2] as i8];
        Claim::from_lists(directions, lists)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stems(words: &[&str]) -> Vec<u32> {
        let mut out: Vec<u32> = words.iter().map(|w| concept_of(w)).collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Checks that the stored form of `claim` (its stored words and the
    /// rest) gives back what its byte form gave, and that the stored words
    /// say whether the claim given back keeps fewer words.
    fn check_column_form(claim: &Claim) {
        let before = byte_form::decode(&byte_form::encode(claim));
        let mut words = Vec::new();
        let cut = Claim::read_stored_words(claim.stored_words().into_iter(), &mut words);
        assert_eq!(words, claim.words);
        assert_eq!(cut, before.words != claim.words, "{claim:?}");
        let rest = claim.rest_values();
        assert!(rest.iter().all(|&v| v <= u64::from(u32::MAX)));
        assert_eq!(
            Claim::from_stored(&words, &rest).as_ref(),
            Some(&before),
            "{claim:?}"
        );
    }

    #[test]
    fn the_stored_form_gives_back_what_the_byte_form_did() {
        let long: String = (0..300).map(|n| format!("word{n}x ")).collect();
        let repeated: String = (0..400).map(|n| format!("word{}x ", n % 40)).collect();
        let many_lists: String = (0..300)
            .map(|n| {
                format!(
                    "Model{n} is not better than baseline{n}, from {n} to {}. ",
                    n + 1
                )
            })
            .collect();
        for text in [
            "Chinchilla, with 70 billion parameters, does not outperform the 280B Gopher.",
            "",
            "Grokking.",
            "Test error falls from the interpolation threshold to the overparameterized regime.",
            "Zhang et al. show that networks can memorize random labels, but they do not generalize.",
            "Weight decay is neither necessary nor sufficient for grokking on ImageNet or CIFAR-10.",
            "Induction heads form before the loss bump, then previous-token heads are removed.",
            long.as_str(),
            repeated.as_str(),
            many_lists.as_str(),
        ] {
            check_column_form(&claim(text));
        }
        // Words named in two bytes: more than 256 of them, the claim cut.
        let wide = claim(&long);
        assert_eq!(wide.rest_values()[0] as u8, Width::Two as u8);
        // A claim whose lists name a word that is not one of its words
        // (not one `claim` makes) keeps it as it is.
        let mut odd = claim("Networks memorize random labels.");
        odd.names.push(7);
        odd.negated.insert(0, 3);
        check_column_form(&odd);
        assert_eq!(odd.rest_values()[0] as u8, Width::Words as u8);
    }

    #[test]
    fn the_stored_form_of_generated_claims_gives_back_what_the_byte_form_did() {
        // Sentences drawn from words that exercise every part of a claim:
        // negations, numbers, names, relations, halves, paraphrases.
        let vocabulary = [
            "networks",
            "models",
            "memorize",
            "random",
            "labels",
            "not",
            "never",
            "no",
            "than",
            "before",
            "after",
            "from",
            "to",
            "70B",
            "four",
            "0.7",
            "ImageNet",
            "GPT",
            "Adam",
            "test",
            "error",
            "falls",
            "rises",
            "more",
            "fewer",
            "better",
            "worse",
            "grokking",
            "weight",
            "decay",
            "learning",
            "rate",
            "step",
            "size",
            "the",
            "of",
            "generalize",
            "fails",
            "neither",
            "nor",
            "outperforms",
            "billion",
            "double",
            "descent",
            "interpolation",
            "threshold",
            "Zhang",
            "et",
            "al.",
        ];
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..3_000 {
            let len = next() % 40;
            let mut text = String::new();
            for _ in 0..len {
                text.push_str(vocabulary[next() as usize % vocabulary.len()]);
                text.push_str(match next() % 9 {
                    0 => ". ",
                    1 => ", ",
                    _ => " ",
                });
            }
            check_column_form(&claim(&text));
        }
    }

    #[test]
    fn values_the_stored_form_did_not_write_give_no_claim() {
        let c = claim("Networks trained with random labels reach zero training error.");
        let rest = c.rest_values();
        let words = &c.words;
        assert!(Claim::from_stored(words, &rest).is_some());
        assert_eq!(Claim::from_stored(words, &[]), None);
        // A rest cut short or too long, a value above 32 bits, a rest
        // that names a word beyond the claim's words, an unknown width.
        assert_eq!(Claim::from_stored(words, &rest[..rest.len() - 1]), None);
        assert_eq!(
            Claim::from_stored(words, &[rest.clone(), vec![5]].concat()),
            None
        );
        let mut high = rest.clone();
        high[1] |= 1 << 32;
        assert_eq!(Claim::from_stored(words, &high), None);
        assert_eq!(Claim::from_stored(&words[..1], &rest), None);
        let mut width = rest.clone();
        width[0] |= 7;
        assert_eq!(Claim::from_stored(words, &width), None);
    }

    /// What [`role`] says, by going through the lists in order.
    fn role_by_lists(word: &str) -> Role {
        if NEGATIONS.contains(&word) || word.ends_with("n't") {
            return Role::Negation;
        }
        if let Some((_, converse)) = ANCHORS.iter().find(|(w, _)| *w == word) {
            return Role::Anchor {
                converse: *converse,
            };
        }
        if STOP.contains(&word) {
            return Role::Stop;
        }
        let (class, sign) =
            (SIGNS.iter().find(|(w, _, _)| *w == word)).map_or((0, 0), |(_, c, s)| (*c, *s));
        Role::Content { class, sign }
    }

    #[test]
    fn the_role_table_says_what_the_lists_say() {
        let listed = (NEGATIONS.iter().chain(STOP))
            .copied()
            .chain(ANCHORS.iter().map(|(w, _)| *w))
            .chain(SIGNS.iter().map(|(w, _, _)| *w));
        let others = [
            "network",
            "isn't",
            "mightn't",
            "outperforms",
            "",
            "grokking",
        ];
        for word in listed.chain(others) {
            assert_eq!(role(word), role_by_lists(word), "{word}");
        }
        assert_eq!(role("outperform"), Role::Anchor { converse: false });
    }

    #[test]
    fn content_words_are_stemmed_and_frames_dropped() {
        let a = claim("Zhang et al. show that networks memorize random labels.");
        let b = claim("Networks memorized the random labels");
        assert_eq!(a.words, b.words);
        assert_eq!(a.words, stems(&["network", "memorize", "random", "label"]));
        assert!(a.names.is_empty(), "reporting authors are not names");
    }

    #[test]
    fn negation_reaches_the_words_after_it_in_its_clause() {
        let c = claim("The bounds do not grow larger or tighter, but the error falls.");
        assert_eq!(c.negated, stems(&["grow", "larger", "tighter"]));
        assert!(c.affirmed.contains(&concept_of("error")));
    }

    #[test]
    fn numbers_are_read_in_words_digits_and_suffixes() {
        assert_eq!(
            claim("Chinchilla has 70B parameters").numbers,
            claim("Chinchilla has 70 billion parameters").numbers
        );
        assert_eq!(
            claim("a two-layer network").numbers,
            claim("a 2-layer network").numbers
        );
        assert_ne!(
            claim("a two-layer network").numbers,
            claim("a three-layer network").numbers
        );
        assert_eq!(claim("4,000 epochs").numbers, claim("4000 epochs").numbers);
        assert_eq!(
            claim("a value of 0.70").numbers,
            claim("a value of 0.7").numbers
        );
    }

    #[test]
    fn names_are_capitalised_words_inside_a_sentence() {
        let c = claim("Networks trained on ImageNet beat those trained on the Places dataset.");
        assert_eq!(c.names, stems(&["imagenet", "places"]));
        assert!(claim("Networks fit random labels.").names.is_empty());
    }

    #[test]
    fn relations_are_oriented_by_their_anchor() {
        let a = claim("Grokking appears before the weights shrink.");
        let b = claim("The weights shrink after grokking appears.");
        assert_eq!(a.relation, b.relation);
        let c = claim("The transition goes from lazy training to feature learning.");
        let r = c.relation.unwrap();
        assert_eq!(r.left, stems(&["lazy", "training"]));
        assert_eq!(r.right, stems(&["feature", "learning"]));
    }

    #[test]
    fn perspectives_are_read_without_the_voice_and_its_evolution() {
        let text = "Jane Roe (MIT): Bounds are vacuous.\nEvolution: Unchanged.";
        assert_eq!(claim_text(Kind::Perspective, text), "Bounds are vacuous.");
        assert_eq!(claim_text(Kind::Claim, text), text);
    }
}
#[cfg(test)]
mod paraphrase_tests {
    use super::*;

    #[test]
    fn the_committed_paraphrase_list_parses() {
        let list = Paraphrases::parse(PARAPHRASES).unwrap();
        assert!(list.words.len() > 50);
        assert!(list.phrases.len() > 20);
    }

    #[test]
    fn a_bad_paraphrase_list_names_its_line() {
        let err = Paraphrases::parse("# a list\nbig: large\nhuge large").unwrap_err();
        assert!(err.starts_with("line 3: no colon"), "{err}");
        let err = Paraphrases::parse("big: large\nsmall: large").unwrap_err();
        assert!(
            err.starts_with("line 2: a variant already on line 1"),
            "{err}"
        );
        let err = Paraphrases::parse("step size: learning rate").unwrap_err();
        assert!(err.contains("not one word"), "{err}");
    }

    #[test]
    fn listed_words_and_phrases_are_read_as_their_canonical_word() {
        let a = claim("Larger models memorize the training set.");
        let b = claim("Bigger networks reach zero training error on the data.");
        assert!(a.words.contains(&concept_of("network")));
        assert!(a.words.contains(&concept_of("interpolate")));
        assert!(b.words.contains(&concept_of("interpolate")));
        assert!(b.words.contains(&concept_of("data")));
        assert_eq!(
            claim("the learning rate").words,
            claim("the step size").words
        );
        // British spellings first become American ones.
        assert_eq!(
            claim("Networks memorise labels").words,
            claim("Networks memorize labels").words
        );
        // A phrase stays within its clause.
        assert_ne!(
            claim("the learning, rate").words,
            claim("the learning rate").words
        );
    }

    #[test]
    fn a_word_without_a_direction_takes_its_canonical_words() {
        assert_eq!(claim("The bound climbs with depth.").directions[1], 1);
        assert_eq!(claim("The bound declines with depth.").directions[1], -1);
    }

    #[test]
    fn an_opposite_is_its_word_denied_and_a_denial_turns_it_back() {
        let changes = claim("The tangent kernel changes during training.");
        let constant = claim("The tangent kernel stays constant during training.");
        let no_longer = claim("The tangent kernel no longer changes during training.");
        let c = concept_of("constant");
        assert!(changes.negated.contains(&c));
        assert!(constant.affirmed.contains(&c));
        assert!(no_longer.affirmed.contains(&c));
        assert!(!no_longer.negated.contains(&c));
    }

    #[test]
    fn a_denial_stops_at_the_phrase_after_its_predicate() {
        let c = claim("Dropout is neither necessary nor sufficient for good test accuracy.");
        assert!(c.negated.contains(&concept_of("necessary")));
        assert!(c.negated.contains(&concept_of("sufficient")));
        assert!(c.affirmed.contains(&concept_of("accuracy")));
        // Before its first word, a preposition does not end it.
        let c = claim("Networks fail to generalize.");
        assert!(c.negated.contains(&concept_of("generalize")));
    }

    #[test]
    fn not_only_and_not_specific_to_deny_nothing() {
        assert!(
            claim("Double descent appears not only for neural networks.")
                .negated
                .is_empty()
        );
        assert!(claim("Double descent is not specific to neural networks.")
            .negated
            .is_empty());
        assert!(
            !claim("Double descent does not appear for neural networks.")
                .negated
                .is_empty()
        );
    }
}
