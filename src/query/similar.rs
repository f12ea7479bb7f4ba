//! `similar RECORD_ID`: the records that make the same claim as one record,
//! as a timeline (oldest first), then the nearest records that do not, each
//! with the reason the decision gives.

use serde::Serialize;
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::tokenizer::TokenStream;
use tantivy::{DocAddress, Searcher, Term};

use super::echoes::{candidates, Candidate};
use super::shown::Shown;
use super::Reader;
use crate::echo::Verdict;
use crate::error::{Error, Result};
use crate::model::Record;

/// How many records that are not the same claim `similar` lists.
pub const NEAREST: usize = 5;

/// The answer to `similar`: the record's group as a timeline, then its
/// nearest records that make another claim.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Similar {
    /// The record asked about.
    pub id: String,
    /// Other items that make the same claim (as `echoes.count` of a hit).
    pub items: usize,
    /// Every record that makes the claim, the record itself included, oldest
    /// first (undated last; equal dates by id).
    pub group: Vec<Related>,
    /// The nearest records that do not make the same claim, nearest first.
    pub nearest: Vec<Related>,
}

/// A record in the answer of `similar`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Related {
    /// The record.
    #[serde(flatten)]
    pub record: Record,
    /// Whether it makes the same claim.
    pub same: bool,
    /// Why not, when it does not: `distant` (too few words in common),
    /// `negation`, `numbers`, `names`, `direction`, `substituted`, `reversed`,
    /// or `kind` (a record that holds many claims).
    pub why: Option<&'static str>,
}

fn reason(verdict: Verdict) -> Option<&'static str> {
    match verdict {
        Verdict::Same => None,
        Verdict::Distant => Some("distant"),
        Verdict::Negation => Some("negation"),
        Verdict::Numbers => Some("numbers"),
        Verdict::Names => Some("names"),
        Verdict::Direction => Some("direction"),
        Verdict::Substituted => Some("substituted"),
        Verdict::Reversed => Some("reversed"),
    }
}

impl Reader {
    /// See [`crate::Index::similar`].
    pub(crate) fn similar(&self, id: &str) -> Result<Similar> {
        let searcher = self.searcher();
        let state = self.state(&searcher)?;
        let address = self.find(&searcher, id)?;
        let record = self.record(&searcher, address)?;
        let Some(claim) = crate::echo::record_claim(&record) else {
            return Err(Error::BadRequest(format!(
                "{id} is a {} record, which holds many claims; `similar` takes a claim, quote, event, perspective or tension",
                record.kind
            )));
        };
        let found = candidates(&searcher, &state, &claim, Some(address), false)?;
        let (same, other): (Vec<&Candidate>, Vec<&Candidate>) =
            found.iter().partition(|c| c.verdict == Verdict::Same);
        let own_item = crate::echo::item_key(&record);
        let mut items: Vec<u64> = (same.iter().map(|c| c.item))
            .filter(|i| *i != own_item)
            .collect();
        items.sort_unstable();
        items.dedup();

        let mut group = vec![Related {
            record: record.clone(),
            same: true,
            why: None,
        }];
        for c in &same {
            group.push(Related {
                record: self.record(&searcher, c.address)?,
                same: true,
                why: None,
            });
        }
        group.sort_by(|a, b| {
            let key = |r: &Related| (r.record.date.is_none(), r.record.date, r.record.id.clone());
            key(a).cmp(&key(b))
        });

        // Nearest: what shares a key but is told apart by a guard, then what
        // a more-like-this search finds, both without the group.
        let mut nearest: Vec<(DocAddress, Option<&'static str>)> = Vec::new();
        let mut guarded: Vec<&&Candidate> = other
            .iter()
            .filter(|c| c.verdict != Verdict::Distant)
            .collect();
        guarded.sort_by_key(|c| (c.day.is_none(), c.day, c.item));
        nearest.extend(guarded.iter().map(|c| (c.address, reason(c.verdict))));
        let taken = |nearest: &[(DocAddress, Option<&'static str>)], a: DocAddress| {
            a == address
                || same.iter().any(|c| c.address == a)
                || nearest.iter().any(|(n, _)| *n == a)
        };
        for neighbour in self.more_like_this(&searcher, &record.text, &state)? {
            if nearest.len() >= NEAREST {
                break;
            }
            if taken(&nearest, neighbour) {
                continue;
            }
            let why = match found.iter().find(|c| c.address == neighbour) {
                Some(c) => reason(c.verdict),
                None => {
                    let other = self.record(&searcher, neighbour)?;
                    match crate::echo::record_claim(&other) {
                        Some(o) => reason(crate::echo::decide::verdict(
                            &claim,
                            &o,
                            &crate::echo::decide::PARAMS,
                        )),
                        None => Some("kind"),
                    }
                }
            };
            // A record the keys missed may still make the same claim.
            if why.is_none() {
                continue;
            }
            nearest.push((neighbour, why));
        }
        nearest.truncate(NEAREST);
        let nearest = (nearest.into_iter())
            .map(|(a, why)| {
                Ok(Related {
                    record: self.record(&searcher, a)?,
                    same: false,
                    why,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Similar {
            id: id.to_string(),
            items: items.len(),
            group,
            nearest,
        })
    }

    /// The document of the record with id `id`: its page's records are
    /// found by path, then compared by id.
    fn find(&self, searcher: &Searcher, id: &str) -> Result<DocAddress> {
        let unknown = || Error::BadRequest(format!("no record with id '{id}' in the index"));
        let (path, _) = id.rsplit_once('#').ok_or_else(unknown)?;
        let term = Term::from_field_text(self.fields.path, &path.to_lowercase());
        let query = TermQuery::new(term, IndexRecordOption::Basic);
        let docs = searcher.search(&query, &tantivy::collector::DocSetCollector)?;
        let mut docs: Vec<DocAddress> = docs.into_iter().collect();
        docs.sort();
        for address in docs {
            if self.record(searcher, address)?.id == id {
                return Ok(address);
            }
        }
        Err(unknown())
    }

    /// Records ranked by the words of `text` (any of them), newest thread
    /// versions only.
    fn more_like_this(
        &self,
        searcher: &Searcher,
        text: &str,
        state: &std::sync::Arc<super::warm::CommitState>,
    ) -> Result<Vec<DocAddress>> {
        let mut analyzer = searcher.index().tokenizer_for_field(self.fields.text)?;
        let mut terms: Vec<String> = Vec::new();
        let mut stream = analyzer.token_stream(text);
        while let Some(token) = stream.next() {
            if !terms.contains(&token.text) && terms.len() < 32 {
                terms.push(token.text.clone());
            }
        }
        if terms.is_empty() {
            return Ok(Vec::new());
        }
        let clauses: Vec<(Occur, Box<dyn Query>)> = (terms.iter())
            .map(|t| {
                let term = Term::from_field_text(self.fields.text, t);
                let query: Box<dyn Query> =
                    Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs));
                (Occur::Should, query)
            })
            .collect();
        let collector = Shown {
            inner: TopDocs::with_limit(4 * NEAREST).order_by_score(),
            hidden: Some(std::sync::Arc::clone(state)),
        };
        let top = searcher.search(&BooleanQuery::new(clauses), &collector)?;
        Ok(top.into_iter().map(|(_, a)| a).collect())
    }
}
