//! British and American spellings as one word: a token filter that rewrites
//! the British spellings a committed word list names (`memorisation`,
//! `favourable`, `centre`, `modelling`, `haemoglobin`) into the American
//! ones, so that a record written either way is found by a query written
//! either way. It runs in the text analyzer before stemming, at index and at
//! query time alike.
//!
//! The list (`src/spelling-variants.txt`) names roots, never bare endings:
//! `-ise` becomes `-ize` only after a root the list gives (`memor`, `organ`),
//! so `promise`, `exercise` and `organism` stay as they are.

use std::sync::OnceLock;

use rustc_hash::FxHashMap;
use tantivy::tokenizer::{Token, TokenFilter, TokenStream, Tokenizer};

/// The committed word list (format in its header).
const LIST: &str = include_str!("spelling-variants.txt");

/// Endings after `ROOT+is` of an `ise` entry.
const ISE_ENDINGS: &[&str] = &[
    "e", "es", "ed", "er", "ers", "ing", "ings", "ation", "ations", "ational", "able", "ability",
];
/// Endings after `ROOT+ys` of a `yse` entry (not `es`: `analyses` is also the
/// plural of `analysis`).
const YSE_ENDINGS: &[&str] = &["e", "ed", "er", "ers", "ing"];
/// British endings of an `re` entry, with their American forms.
const RE_ENDINGS: &[(&str, &str)] = &[
    ("re", "er"),
    ("res", "ers"),
    ("red", "ered"),
    ("ring", "ering"),
];
/// Endings after the doubled `l` of an `ll` entry.
const LL_ENDINGS: &[&str] = &["ed", "ing", "er", "ers"];

/// The parsed list: whole words, and prefixes (longest first).
#[derive(Debug, Default)]
pub(crate) struct Variants {
    words: FxHashMap<String, String>,
    prefixes: Vec<(String, String)>,
}

impl Variants {
    /// Reads a list in the format of `spelling-variants.txt`; an unknown
    /// class or a line missing its words is an error naming the line.
    pub(crate) fn parse(list: &str) -> Result<Variants, String> {
        // Made once at start-up by every process that reads text: sized
        // once, each word made in one allocation.
        let mut variants = Variants {
            words: FxHashMap::with_capacity_and_hasher(expected_words(list), Default::default()),
            prefixes: Vec::new(),
        };
        for (n, line) in list.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            let mut fields = line.split_whitespace();
            let Some(class) = fields.next() else {
                continue;
            };
            let words: Vec<&str> = fields.collect();
            let bad = |why: &str| format!("line {}: {why}: {line}", n + 1);
            if words.is_empty() {
                return Err(bad("no words after the class"));
            }
            if let Some(w) = words
                .iter()
                .find(|w| !w.bytes().all(|b| b.is_ascii_lowercase()))
            {
                return Err(bad(&format!("'{w}' is not lowercase ASCII letters")));
            }
            let mut add = |british: String, american: String| {
                variants.words.insert(british, american);
            };
            match class {
                "ise" | "yse" => {
                    let (from, to, endings) = match class {
                        "ise" => ("is", "iz", ISE_ENDINGS),
                        _ => ("ys", "yz", YSE_ENDINGS),
                    };
                    for root in &words {
                        for ending in endings {
                            add(join(root, from, ending), join(root, to, ending));
                        }
                    }
                }
                "re" => {
                    for root in &words {
                        for (british, american) in RE_ENDINGS {
                            add(join(root, british, ""), join(root, american, ""));
                        }
                    }
                }
                "ll" => {
                    for word in &words {
                        for ending in LL_ENDINGS {
                            add(join(word, "l", ending), join(word, ending, ""));
                        }
                    }
                }
                "our" => {
                    for root in &words {
                        (variants.prefixes).push((format!("{root}our"), format!("{root}or")));
                    }
                }
                "prefix" | "word" => {
                    let [british, american] = words.as_slice() else {
                        return Err(bad("expected a British and an American spelling"));
                    };
                    if class == "word" {
                        add(british.to_string(), american.to_string());
                    } else {
                        (variants.prefixes).push((british.to_string(), american.to_string()));
                    }
                }
                other => return Err(bad(&format!("unknown class '{other}'"))),
            }
        }
        // The longest prefix decides (`hypoglycaem` before `glycaem`).
        (variants.prefixes).sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
        Ok(variants)
    }

    /// The American spelling of `word` (lowercase), or `None` when the list
    /// has no other spelling for it.
    pub(crate) fn american(&self, word: &str) -> Option<String> {
        if let Some(american) = self.words.get(word) {
            return Some(american.clone());
        }
        let (british, american) = (self.prefixes.iter()).find(|(b, _)| word.starts_with(&**b))?;
        Some(format!("{american}{}", &word[british.len()..]))
    }
}

/// How many whole words `list` gives, for the map's size (lines in error
/// are counted too; they fail the parse anyway).
fn expected_words(list: &str) -> usize {
    let lines = list
        .lines()
        .map(|line| line.split('#').next().unwrap_or(""));
    (lines.map(|line| line.split_whitespace().collect::<Vec<_>>()))
        .map(|fields| match fields.first().copied() {
            Some("ise") => (fields.len() - 1) * ISE_ENDINGS.len(),
            Some("yse") => (fields.len() - 1) * YSE_ENDINGS.len(),
            Some("re") => (fields.len() - 1) * RE_ENDINGS.len(),
            Some("ll") => (fields.len() - 1) * LL_ENDINGS.len(),
            Some("word") => 1,
            _ => 0,
        })
        .sum()
}

/// `a`, `b` and `c` written one after the other.
fn join(a: &str, b: &str, c: &str) -> String {
    let mut joined = String::with_capacity(a.len() + b.len() + c.len());
    joined.push_str(a);
    joined.push_str(b);
    joined.push_str(c);
    joined
}

/// The committed list, parsed once. It is part of the binary and a test
/// parses it, so it cannot fail at run time; were it to, no word would be
/// rewritten.
pub(crate) fn variants() -> &'static Variants {
    static VARIANTS: OnceLock<Variants> = OnceLock::new();
    VARIANTS.get_or_init(|| Variants::parse(LIST).unwrap_or_default())
}

/// The token filter: each token's text to its American spelling. Expects
/// lowercased, accent-folded tokens.
#[derive(Clone, Copy, Debug, Default)]
pub struct AmericanSpelling;

impl TokenFilter for AmericanSpelling {
    type Tokenizer<T: Tokenizer> = AmericanSpellingFilter<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> AmericanSpellingFilter<T> {
        AmericanSpellingFilter { tokenizer }
    }
}

/// [`AmericanSpelling`] applied to a tokenizer.
#[derive(Clone, Debug)]
pub struct AmericanSpellingFilter<T> {
    tokenizer: T,
}

impl<T: Tokenizer> Tokenizer for AmericanSpellingFilter<T> {
    type TokenStream<'a> = AmericanSpellingStream<T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        AmericanSpellingStream {
            tail: self.tokenizer.token_stream(text),
        }
    }
}

/// The token stream of [`AmericanSpellingFilter`].
pub struct AmericanSpellingStream<S> {
    tail: S,
}

impl<S: TokenStream> TokenStream for AmericanSpellingStream<S> {
    fn advance(&mut self) -> bool {
        if !self.tail.advance() {
            return false;
        }
        let token = self.tail.token_mut();
        if let Some(american) = variants().american(&token.text) {
            token.text = american;
        }
        true
    }

    fn token(&self) -> &Token {
        self.tail.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.tail.token_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn american(word: &str) -> String {
        variants()
            .american(word)
            .unwrap_or_else(|| word.to_string())
    }

    #[test]
    fn the_committed_list_parses() {
        let parsed = Variants::parse(LIST).unwrap();
        assert!(parsed.words.len() > 1_000, "{}", parsed.words.len());
        assert!(parsed.prefixes.len() > 40, "{}", parsed.prefixes.len());
    }

    #[test]
    fn british_spellings_of_listed_roots_become_american() {
        let pairs = [
            ("memorisation", "memorization"),
            ("generalisation", "generalization"),
            ("regularisation", "regularization"),
            ("deprioritising", "deprioritizing"),
            ("optimisers", "optimizers"),
            ("generalisability", "generalizability"),
            ("favourable", "favorable"),
            ("behaviours", "behaviors"),
            ("neighbourhood", "neighborhood"),
            ("tumour", "tumor"),
            ("analysed", "analyzed"),
            ("catalysing", "catalyzing"),
            ("centre", "center"),
            ("centred", "centered"),
            ("fibres", "fibers"),
            ("modelling", "modeling"),
            ("labelled", "labeled"),
            ("haemoglobin", "hemoglobin"),
            ("hypoglycaemia", "hypoglycemia"),
            ("oestrogen", "estrogen"),
            ("programme", "program"),
        ];
        for (british, expected) in pairs {
            assert_eq!(american(british), expected, "{british}");
        }
    }

    #[test]
    fn words_the_list_does_not_name_stay_as_they_are() {
        for word in [
            "promise",
            "exercise",
            "premise",
            "organism",
            "realistic",
            "specialist",
            "criticism",
            "analyses",
            "analysis",
            "hour",
            "four",
            "source",
            "memorization",
            "favorable",
            "parameter",
            "metric",
            "fourier",
        ] {
            assert_eq!(american(word), word, "{word}");
        }
    }

    /// Rewriting twice changes nothing more: no American spelling the list
    /// produces is itself a British spelling in the list.
    #[test]
    fn american_spellings_are_final() {
        let parsed = Variants::parse(LIST).unwrap();
        let produced = (parsed.words.values().cloned())
            .chain((parsed.prefixes.iter()).map(|(_, american)| format!("{american}ing")));
        for word in produced {
            assert_eq!(parsed.american(&word), None, "{word}");
        }
    }

    #[test]
    fn a_bad_line_is_named() {
        let error = Variants::parse("ise memor\nize memor\n").unwrap_err();
        assert!(error.starts_with("line 2: unknown class 'ize'"), "{error}");
        let error = Variants::parse("word colour\n").unwrap_err();
        assert!(error.starts_with("line 1: expected"), "{error}");
        let error = Variants::parse("our Col\n").unwrap_err();
        assert!(error.contains("'Col' is not lowercase"), "{error}");
    }
}
