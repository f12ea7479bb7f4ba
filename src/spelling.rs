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

use tantivy::tokenizer::{Token, TokenFilter, TokenStream, Tokenizer};

/// The list read into constants by the build script (`build.rs`, from
/// [`crate::spelling_list`]): `TEXT`, `ENTRIES`, `SLOTS` and `PREFIXES`.
mod table {
    include!(concat!(env!("OUT_DIR"), "/spelling_table.rs"));
}

/// The American spelling of `word` (lowercase), or `None` when the list
/// has no other spelling for it.
pub(crate) fn american(word: &str) -> Option<String> {
    let mask = table::SLOTS.len() - 1;
    let mut slot = crate::spelling_list::slot_hash(word) as usize & mask;
    while let Some(entry) = table::SLOTS[slot].checked_sub(1) {
        let (start, middle, end) = table::ENTRIES[usize::from(entry)];
        if &table::TEXT[start as usize..middle as usize] == word {
            return Some(table::TEXT[middle as usize..end as usize].to_string());
        }
        slot = (slot + 1) & mask;
    }
    let (british, american) = (table::PREFIXES.iter()).find(|(b, _)| word.starts_with(b))?;
    Some(format!("{american}{}", &word[british.len()..]))
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
        if let Some(american) = american(&token.text) {
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
    use crate::spelling_list::expand;

    /// The committed word list (format in its header).
    const LIST: &str = include_str!("spelling-variants.txt");

    fn american(word: &str) -> String {
        super::american(word).unwrap_or_else(|| word.to_string())
    }

    #[test]
    fn the_committed_list_is_the_table() {
        let expanded = expand(LIST).unwrap();
        assert!(expanded.words.len() > 1_000, "{}", expanded.words.len());
        assert!(expanded.prefixes.len() > 40, "{}", expanded.prefixes.len());
        // Every word of the list is in the table, and nothing else.
        for (british, american) in &expanded.words {
            assert_eq!(
                super::american(british).as_ref(),
                Some(american),
                "{british}"
            );
        }
        let filled = super::table::SLOTS.iter().filter(|&&s| s > 0).count();
        assert_eq!(filled, expanded.words.len());
        assert_eq!(super::table::ENTRIES.len(), expanded.words.len());
        let prefixes: Vec<(String, String)> = (super::table::PREFIXES.iter())
            .map(|(b, a)| (b.to_string(), a.to_string()))
            .collect();
        assert_eq!(prefixes, expanded.prefixes);
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
        let expanded = expand(LIST).unwrap();
        let produced = (expanded.words.iter().map(|(_, american)| american.clone()))
            .chain((expanded.prefixes.iter()).map(|(_, american)| format!("{american}ing")));
        for word in produced {
            assert_eq!(super::american(&word), None, "{word}");
        }
    }

    #[test]
    fn a_bad_line_is_named() {
        let error = expand("ise memor\nize memor\n").unwrap_err();
        assert!(error.starts_with("line 2: unknown class 'ize'"), "{error}");
        let error = expand("word colour\n").unwrap_err();
        assert!(error.starts_with("line 1: expected"), "{error}");
        let error = expand("our Col\n").unwrap_err();
        assert!(error.contains("'Col' is not lowercase"), "{error}");
    }
}
