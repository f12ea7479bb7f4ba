//! The query text, turned into a Tantivy query: the user's words, ranked by
//! BM25F (see [`super::bm25f`]), with the request's filters. Phrases,
//! `field:value`, ranges and `*` go through Tantivy's parser.

use std::cell::Cell;

use tantivy::query::{
    BooleanQuery, BoostQuery, ConstScoreQuery, DisjunctionMaxQuery, Occur, Query, QueryParser,
};
use tantivy::query_grammar::{self, Delimiter, UserInputAst, UserInputLeaf, UserInputLiteral};
use tantivy::schema::Schema;

use super::bm25f::{word_query, TITLE_WEIGHT, TOPICS_WEIGHT};
use super::filters::with_filters;
use super::typo::Corrections;
use super::{Correction, SearchRequest};
use crate::analyzer::{query_tokenizers, TEXT_ANALYZER};
use crate::error::{Error, Result};
use crate::model::Kind;
use crate::schema::{names, Fields};

/// Added to the score of records that match every query word, so that they
/// rank above records matching only some (BM25 sums stay far below it).
pub(crate) const ALL_WORDS_BONUS: f32 = 1_000.0;

/// The queries for one request, filters included.
pub(super) struct Built {
    /// Records with any of the words, those with every word scoring
    /// [`ALL_WORDS_BONUS`] more; also the query snippets highlight.
    pub ranked: Box<dyn Query>,
    /// Records with every word, unscored bonus aside the same ranking; `None`
    /// when that is `ranked` itself (one word, a phrase, an explicit `OR`).
    pub every_word: Option<Box<dyn Query>>,
    /// Query words also searched for in another spelling.
    pub corrections: Vec<Correction>,
    /// What could not be read as query syntax, and how it was read instead.
    pub warnings: Vec<String>,
}

/// A score of the ranked query without the tier bonus: the BM25F score
/// alone. The bonus orders the tiers; it is not part of the score shown.
pub(super) fn without_tier(score: f32) -> f32 {
    if score >= ALL_WORDS_BONUS {
        score - ALL_WORDS_BONUS
    } else {
        score
    }
}

/// Parses the request's query text and builds its queries.
pub(super) fn query(
    schema: &Schema,
    fields: &Fields,
    request: &SearchRequest,
    corrections: &Corrections,
) -> Result<Built> {
    let (ast, warnings) = lenient(&request.query);
    let ast = unknown_fields_as_words(schema, ast);
    check_kinds(&ast)?;
    nothing_to_search(&ast, &request.query)?;
    let any_words = Words::new(schema, fields, false, corrections);
    let any = any_words.query(ast.clone())?;
    let filtered = |words| with_filters(fields, request, words);
    if !any_words.default_mattered.get() {
        return Ok(Built {
            ranked: filtered(any),
            every_word: None,
            corrections: corrections.made(),
            warnings,
        });
    }
    let all = Words::new(schema, fields, true, corrections).query(ast)?;
    let bonus: Box<dyn Query> = Box::new(ConstScoreQuery::new(all.box_clone(), ALL_WORDS_BONUS));
    let tiered = Box::new(BooleanQuery::new(vec![
        (Occur::Should, any),
        (Occur::Should, bonus),
    ]));
    Ok(Built {
        ranked: filtered(tiered),
        every_word: Some(filtered(all)),
        corrections: corrections.made(),
        warnings,
    })
}

/// Parses query text that may not be well-formed syntax: an unclosed quote,
/// an unmatched parenthesis and an `AND`, `OR` or `NOT` with nothing on one
/// side are left out (each named in a warning, with its place), and the rest
/// is parsed; what the grammar still cannot read is read as Tantivy's lenient
/// parser reads it, with its own warnings.
fn lenient(text: &str) -> (UserInputAst, Vec<String>) {
    let (cleaned, mut warnings) = without_broken_syntax(text);
    if let Ok(ast) = query_grammar::parse_query(&cleaned) {
        return (ast, warnings);
    }
    let (ast, errors) = query_grammar::parse_query_lenient(&cleaned);
    warnings.extend(errors.iter().map(|e| {
        format!(
            "{} at character {}: the rest was searched as words",
            e.message.trim_end_matches('.'),
            e.pos + 1
        )
    }));
    (ast, warnings)
}

/// `text` without unclosed quotes, unmatched parentheses and dangling
/// operators, and a warning for each.
fn without_broken_syntax(text: &str) -> (String, Vec<String>) {
    let chars: Vec<char> = text.chars().collect();
    let mut dropped = vec![false; chars.len()];
    let mut warnings = Vec::new();
    // Quotes pair up in order; an odd one out is the last.
    let quotes: Vec<usize> = (0..chars.len()).filter(|&i| chars[i] == '"').collect();
    if quotes.len() % 2 == 1 {
        let last = quotes[quotes.len() - 1];
        dropped[last] = true;
        warnings.push(format!(
            "an unclosed quote at character {} was ignored",
            last + 1
        ));
    }
    // Parentheses outside quotes.
    let mut quoted = false;
    let mut open = Vec::new();
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '"' if !dropped[i] => quoted = !quoted,
            '(' if !quoted => open.push(i),
            ')' if !quoted && open.pop().is_none() => {
                dropped[i] = true;
                warnings.push(format!(
                    "an unmatched ')' at character {} was ignored",
                    i + 1
                ));
            }
            _ => {}
        }
    }
    for i in open {
        dropped[i] = true;
        warnings.push(format!(
            "an unmatched '(' at character {} was ignored",
            i + 1
        ));
    }
    // Operators with nothing to join: first, last, or next to another.
    let mut words: Vec<(usize, usize)> = Vec::new();
    let mut start = None;
    let mut quoted = false;
    for (i, &c) in chars.iter().enumerate() {
        if c == '"' && !dropped[i] {
            quoted = !quoted;
        }
        let space = c.is_whitespace() && !quoted;
        match (space, start) {
            (false, None) => start = Some(i),
            (true, Some(s)) => {
                words.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        words.push((s, chars.len()));
    }
    let operator = |&(a, b): &(usize, usize)| {
        let word: String = chars[a..b].iter().collect();
        matches!(word.as_str(), "AND" | "OR" | "NOT").then_some(word)
    };
    let mut kept: Vec<(usize, usize)> = Vec::new();
    for (n, word) in words.iter().enumerate() {
        let Some(op) = operator(word) else {
            kept.push(*word);
            continue;
        };
        let before = kept.last().is_some_and(|w| operator(w).is_none());
        let after = words.get(n + 1).is_some_and(|w| operator(w).is_none());
        let joins = after && (before || op == "NOT");
        if joins {
            kept.push(*word);
        } else {
            for flag in &mut dropped[word.0..word.1] {
                *flag = true;
            }
            warnings.push(format!(
                "a dangling {op} at character {} was ignored",
                word.0 + 1
            ));
        }
    }
    let cleaned = (chars.iter().zip(&dropped))
        .map(|(&c, &gone)| if gone { ' ' } else { c })
        .collect();
    (cleaned, warnings)
}

/// Fields a user may name in `field:value`. Any other `name:value` is text
/// (`arXiv:1902.04742`, `Note: grokking`): its words are searched as words.
const USER_FIELDS: &[&str] = &[
    names::TEXT,
    names::TITLE,
    names::TOPICS,
    names::KIND,
    names::SOURCE,
    names::AUTHOR,
    names::THREAD,
    names::TOPIC,
    names::PATH,
    names::DATE,
];

/// `ast` with every `name:value` whose name is no field a user may name
/// turned back into words: `name` and `value`.
fn unknown_fields_as_words(schema: &Schema, ast: UserInputAst) -> UserInputAst {
    let known = |name: &str| USER_FIELDS.contains(&name) && schema.get_field(name).is_ok();
    match ast {
        UserInputAst::Clause(clauses) => UserInputAst::Clause(
            (clauses.into_iter())
                .map(|(occur, sub)| (occur, unknown_fields_as_words(schema, sub)))
                .collect(),
        ),
        UserInputAst::Boost(sub, boost) => {
            UserInputAst::Boost(Box::new(unknown_fields_as_words(schema, *sub)), boost)
        }
        UserInputAst::Leaf(leaf) => match *leaf {
            UserInputLeaf::Literal(mut literal)
                if literal.field_name.as_deref().is_some_and(|f| !known(f)) =>
            {
                let name = literal.field_name.take().unwrap_or_default();
                let word = UserInputLiteral {
                    field_name: None,
                    phrase: name,
                    delimiter: Delimiter::None,
                    slop: 0,
                    prefix: false,
                };
                UserInputAst::Clause(vec![
                    (
                        None,
                        UserInputAst::Leaf(Box::new(UserInputLeaf::Literal(word))),
                    ),
                    (
                        None,
                        UserInputAst::Leaf(Box::new(UserInputLeaf::Literal(literal))),
                    ),
                ])
            }
            other => UserInputAst::Leaf(Box::new(other)),
        },
    }
}

/// `kind:value` with a value that is no kind is the same error as
/// `--kind value`, listing the kinds.
fn check_kinds(ast: &UserInputAst) -> Result<()> {
    match ast {
        UserInputAst::Clause(clauses) => clauses.iter().try_for_each(|(_, sub)| check_kinds(sub)),
        UserInputAst::Boost(sub, _) => check_kinds(sub),
        UserInputAst::Leaf(leaf) => match &**leaf {
            UserInputLeaf::Literal(l)
                if l.field_name.as_deref() == Some(names::KIND) && !l.prefix =>
            {
                l.phrase
                    .parse::<Kind>()
                    .map(|_| ())
                    .map_err(|why| Error::BadQuery(format!("kind:{}: {why}", l.phrase)))
            }
            _ => Ok(()),
        },
    }
}

/// A query whose every word is a stop word, or that has no word at all,
/// would match nothing: say why instead.
fn nothing_to_search(ast: &UserInputAst, text: &str) -> Result<()> {
    /// Whether `ast` holds anything but plain words that analyse to nothing.
    fn searchable(ast: &UserInputAst) -> bool {
        match ast {
            UserInputAst::Clause(clauses) => clauses.iter().any(|(_, sub)| searchable(sub)),
            UserInputAst::Boost(sub, _) => searchable(sub),
            UserInputAst::Leaf(leaf) => match plain(leaf) {
                Some(literal) => !analysed(&literal.phrase).is_empty(),
                None => true,
            },
        }
    }
    if searchable(ast) {
        return Ok(());
    }
    if text.chars().any(char::is_alphanumeric) {
        Err(Error::BadQuery(format!(
            "every word of the query is a stop word, ignored in search ({}); add a word that says what you look for",
            text.trim()
        )))
    } else {
        Err(Error::BadQuery(
            "the query has no words, only punctuation (use * to match everything)".into(),
        ))
    }
}

/// The terms of `text` as the query analyzer makes them.
fn analysed(text: &str) -> Vec<String> {
    let Some(mut analyzer) = query_tokenizers().get(TEXT_ANALYZER) else {
        return Vec::new();
    };
    let mut stream = analyzer.token_stream(text);
    let mut tokens = Vec::new();
    while let Some(token) = stream.next() {
        tokens.push(token.text.clone());
    }
    tokens
}

/// Builds the query for the parsed user input, reading words without an
/// operator as `default` (Should for "any word", Must for "every word").
struct Words<'a> {
    fields: &'a Fields,
    corrections: &'a Corrections<'a>,
    parser: QueryParser,
    default: Occur,
    /// Set when the default operator joined two sub-queries that can match
    /// by themselves: only then do "any word" and "every word" differ.
    default_mattered: Cell<bool>,
}

impl<'a> Words<'a> {
    fn new(
        schema: &Schema,
        fields: &'a Fields,
        conjunction: bool,
        corrections: &'a Corrections<'a>,
    ) -> Words<'a> {
        let default = if conjunction {
            Occur::Must
        } else {
            Occur::Should
        };
        Words {
            fields,
            corrections,
            parser: parser(schema, fields, conjunction),
            default,
            default_mattered: Cell::new(false),
        }
    }

    fn query(&self, ast: UserInputAst) -> Result<Box<dyn Query>> {
        match ast {
            UserInputAst::Clause(clauses) if has_positive(&clauses) => self.clause(clauses),
            UserInputAst::Boost(sub, boost) => Ok(Box::new(BoostQuery::new(
                self.query(*sub)?,
                boost.into_inner() as f32,
            ))),
            UserInputAst::Leaf(leaf) => match plain(&leaf) {
                Some(literal) if !self.analyse(&literal.phrase).is_empty() => {
                    self.plain_word(literal)
                }
                _ => self.parsed(UserInputAst::Leaf(leaf)),
            },
            other => self.parsed(other),
        }
    }

    /// Sub-queries combined by their operators; words that analyse to nothing
    /// (stop words) are left out, as the parser does.
    fn clause(&self, clauses: Vec<(Option<Occur>, UserInputAst)>) -> Result<Box<dyn Query>> {
        let mut out = Vec::with_capacity(clauses.len());
        let (mut defaulted, mut positive) = (false, 0);
        for (occur, sub) in clauses {
            if let UserInputAst::Leaf(leaf) = &sub {
                if plain(leaf).is_some_and(|l| self.analyse(&l.phrase).is_empty()) {
                    continue;
                }
            }
            defaulted |= occur.is_none();
            positive += usize::from(occur != Some(Occur::MustNot));
            out.push((occur.unwrap_or(self.default), self.query(sub)?));
        }
        if defaulted && positive > 1 {
            self.default_mattered.set(true);
        }
        Ok(Box::new(BooleanQuery::new(out)))
    }

    /// A word typed without quotes or field. One the analyzer splits
    /// (`pac-bayes`, `kb/min`) is its parts as separate words, and a
    /// hyphenated one may also be written closed (`non-vacuous` finds
    /// `nonvacuous`): the better-scoring reading counts.
    ///
    /// A word the index lacks, or holds far less often than a close
    /// spelling, also matches that spelling (see `typo`); the better-scoring
    /// of the two counts, so records matching as typed keep their score.
    fn plain_word(&self, literal: &UserInputLiteral) -> Result<Box<dyn Query>> {
        let tokens = self.analyse(&literal.phrase);
        if let [token] = tokens.as_slice() {
            let typed = self.word(token);
            return Ok(match self.corrections.of(&literal.phrase)? {
                // A word no record holds adds nothing to a disjunction
                // but the cost of walking it.
                Some(corrected) if corrected.typed_absent => self.word(&corrected.term),
                Some(corrected) => Box::new(DisjunctionMaxQuery::new(vec![
                    typed,
                    self.word(&corrected.term),
                ])),
                None => typed,
            });
        }
        self.default_mattered.set(true);
        let parts: Box<dyn Query> = Box::new(BooleanQuery::new(
            tokens
                .iter()
                .map(|t| (self.default, self.word(t)))
                .collect(),
        ));
        let closed = self.analyse(&literal.phrase.replace('-', ""));
        Ok(match closed.as_slice() {
            [token] if literal.phrase.contains('-') => {
                Box::new(DisjunctionMaxQuery::new(vec![parts, self.word(token)]))
            }
            _ => parts,
        })
    }

    fn word(&self, token: &str) -> Box<dyn Query> {
        word_query(self.fields, token)
    }

    fn analyse(&self, text: &str) -> Vec<String> {
        analysed(text)
    }

    fn parsed(&self, ast: UserInputAst) -> Result<Box<dyn Query>> {
        self.parser
            .build_query_from_user_input_ast(ast)
            .map_err(|e| Error::BadQuery(e.to_string()))
    }
}

/// The literal of a plain word: no field, no quotes, no `*`.
fn plain(leaf: &UserInputLeaf) -> Option<&UserInputLiteral> {
    match leaf {
        UserInputLeaf::Literal(l)
            if l.field_name.is_none() && l.delimiter == Delimiter::None && !l.prefix =>
        {
            Some(l)
        }
        _ => None,
    }
}

/// Whether a clause list has a clause that can match by itself (the parser
/// keeps its own reading of a query made only of exclusions).
fn has_positive(clauses: &[(Option<Occur>, UserInputAst)]) -> bool {
    clauses
        .iter()
        .any(|(occur, _)| *occur != Some(Occur::MustNot))
}

/// The parser for what is not a plain word, with the same field weights.
fn parser(schema: &Schema, f: &Fields, conjunction: bool) -> QueryParser {
    let mut parser = QueryParser::new(
        schema.clone(),
        vec![f.text, f.title, f.topics],
        query_tokenizers(),
    );
    parser.set_field_boost(f.title, TITLE_WEIGHT);
    parser.set_field_boost(f.topics, TOPICS_WEIGHT);
    if conjunction {
        parser.set_conjunction_by_default();
    }
    parser
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cleaned(text: &str) -> (String, Vec<String>) {
        let (cleaned, warnings) = without_broken_syntax(text);
        (
            cleaned.split_whitespace().collect::<Vec<_>>().join(" "),
            warnings,
        )
    }

    #[test]
    fn broken_syntax_is_left_out_and_named() {
        let (text, warnings) = cleaned("\"unbalanced grokking");
        assert_eq!(text, "unbalanced grokking");
        assert_eq!(warnings, ["an unclosed quote at character 1 was ignored"]);
        let (text, warnings) = cleaned("(grokking");
        assert_eq!(text, "grokking");
        assert_eq!(warnings, ["an unmatched '(' at character 1 was ignored"]);
        let (text, warnings) = cleaned("grokking) AND");
        assert_eq!(text, "grokking");
        assert_eq!(
            warnings,
            [
                "an unmatched ')' at character 9 was ignored",
                "a dangling AND at character 11 was ignored"
            ]
        );
        let (text, warnings) = cleaned("OR grokking OR AND memorization NOT");
        assert_eq!(text, "grokking AND memorization");
        assert_eq!(warnings.len(), 3, "{warnings:?}");
    }

    #[test]
    fn well_formed_syntax_is_kept() {
        for text in [
            "\"uniform convergence\" -diffusion",
            "(a OR b) AND c",
            "NOT grokking",
            "a NOT b",
            "\"(not a group\"",
            "title:grokking",
        ] {
            assert_eq!(
                without_broken_syntax(text),
                (text.to_string(), Vec::new()),
                "{text}"
            );
        }
    }
}
