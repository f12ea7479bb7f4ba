//! The query text, turned into a Tantivy query: the user's words, ranked by
//! BM25F (see [`super::bm25f`]), with the request's filters. Phrases,
//! `field:value`, ranges and `*` go through Tantivy's parser.

use std::cell::Cell;

use tantivy::query::{
    BooleanQuery, BoostQuery, ConstScoreQuery, DisjunctionMaxQuery, Occur, Query, QueryParser,
};
use tantivy::query_grammar::{self, Delimiter, UserInputAst, UserInputLeaf, UserInputLiteral};
use tantivy::schema::Schema;
use tantivy::tokenizer::TokenizerManager;

use super::bm25f::{word_query, TITLE_WEIGHT, TOPICS_WEIGHT};
use super::filters::with_filters;
use super::typo::Corrections;
use super::SearchRequest;
use crate::analyzer::{query_tokenizers, TEXT_ANALYZER};
use crate::error::{Error, Result};
use crate::schema::Fields;

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
}

/// Parses the request's query text and builds its queries.
pub(super) fn query(
    schema: &Schema,
    fields: &Fields,
    request: &SearchRequest,
    corrections: &Corrections,
) -> Result<Built> {
    let ast = query_grammar::parse_query(&request.query)
        .map_err(|_| Error::BadQuery(format!("Syntax Error: {}", request.query)))?;
    let any_words = Words::new(schema, fields, false, corrections);
    let any = any_words.query(ast.clone())?;
    let filtered = |words| with_filters(fields, request, words);
    if !any_words.default_mattered.get() {
        return Ok(Built {
            ranked: filtered(any),
            every_word: None,
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
    })
}

/// Builds the query for the parsed user input, reading words without an
/// operator as `default` (Should for "any word", Must for "every word").
struct Words<'a> {
    fields: &'a Fields,
    corrections: &'a Corrections<'a>,
    parser: QueryParser,
    tokenizers: TokenizerManager,
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
            tokenizers: query_tokenizers(),
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
        let Some(mut analyzer) = self.tokenizers.get(TEXT_ANALYZER) else {
            return Vec::new();
        };
        let mut stream = analyzer.token_stream(text);
        let mut tokens = Vec::new();
        while let Some(token) = stream.next() {
            tokens.push(token.text.clone());
        }
        tokens
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
