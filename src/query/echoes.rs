//! Echoes at search time: the records that make the same claim as a hit,
//! found by the lookup keys the hit shares with them ([`crate::echo::keys`])
//! and confirmed one by one by the decision ([`crate::echo::decide`]), from
//! the claims the index keeps in a fast column. A key held by too many
//! records of the commit to tell claims apart is not looked up
//! ([`crate::common_keys`]), unless every key of the hit is that common. Nothing is stored about
//! groups: a group is what its records' own keys and claims say, so it is the
//! same whatever the order the files were indexed in, and after any `reindex`.

use serde::Serialize;
use tantivy::{DocAddress, DocId, Searcher, SegmentReader};

use super::echo_columns::EchoColumns;
use super::warm::CommitState;
use crate::common_keys::Lookup;
use crate::echo::decide::{self, Verdict, PARAMS};
use crate::echo::{keys, Claim};
use crate::error::Result;
use crate::model::{Date, Record};

/// How many other items make a hit's claim, and where it appeared first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Echoes {
    /// Other items (pages, JSON Lines items, threads) with a record that
    /// makes the same claim.
    pub count: usize,
    /// The earliest dated appearance of the claim, the hit's own item
    /// included; `None` when no other item makes it.
    pub first: Option<Appearance>,
}

/// Where and when a claim appeared: the item's title, source, authors, date
/// and page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Appearance {
    /// The item's or thread's title.
    pub title: String,
    /// The item's source (`None` for a thread).
    pub source: Option<String>,
    /// The item's authors, from its byline (`[]` for a thread).
    pub authors: Vec<String>,
    /// The record's date.
    pub date: Option<Date>,
    /// The page, relative to the corpus root.
    pub path: String,
}

impl Appearance {
    /// The appearance a record stands for.
    pub fn of(record: &Record) -> Appearance {
        Appearance {
            title: record.title.clone(),
            source: record.source.clone(),
            // The record's own authors (split by the parser); the byline
            // split here only for a record that has none.
            authors: if record.authors.is_empty() {
                (record.author.as_deref().map(byline_authors)).unwrap_or_default()
            } else {
                record.authors.clone()
            },
            date: record.date,
            path: record.path.clone(),
        }
    }
}

/// The people of a byline: split at commas, semicolons, `and` and `&`,
/// without `et al.`.
pub fn byline_authors(byline: &str) -> Vec<String> {
    byline
        .split([',', ';', '&'])
        .flat_map(|part| part.split(" and "))
        .map(|name| name.trim().trim_end_matches("et al.").trim())
        .filter(|name| !name.is_empty() && !name.eq_ignore_ascii_case("et al"))
        .map(str::to_string)
        .collect()
}

impl EchoColumns {
    /// The candidate at `address` (a document of this segment).
    fn candidate(&self, address: DocAddress, verdict: Verdict) -> Candidate {
        Candidate {
            address,
            item: self.item(address.doc_id),
            day: self.day(address.doc_id),
            verdict,
        }
    }
}

/// Whether the words stored in the index rule candidates out before their
/// claims are read: always, except in the tests that check, by deciding
/// every candidate in full, that they change no group.
#[cfg(not(test))]
pub(crate) fn use_stored_words() -> bool {
    true
}

#[cfg(test)]
thread_local! {
    /// What [`use_stored_words`] says on this thread.
    pub(crate) static USE_STORED_WORDS: std::cell::Cell<bool> = const { std::cell::Cell::new(true) };
}

/// See the function of the same name outside tests.
#[cfg(test)]
pub(crate) fn use_stored_words() -> bool {
    USE_STORED_WORDS.with(std::cell::Cell::get)
}

/// A record found by a hit's keys.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Candidate {
    pub address: DocAddress,
    pub item: u64,
    pub day: Option<i64>,
    /// Whether it makes the same claim, or why not.
    pub verdict: Verdict,
}

/// Every record that shares a lookup key with `claim` (other than `own`),
/// with the decision for each. Older thread versions are left out unless
/// `all_versions`; deleted records always.
pub(crate) fn candidates(
    searcher: &Searcher,
    state: &CommitState,
    claim: &Claim,
    own: Option<DocAddress>,
    all_versions: bool,
) -> Result<Vec<Candidate>> {
    let mut found = Vec::new();
    each_candidate(
        searcher,
        state,
        &[(claim, own)],
        all_versions,
        true,
        |_, candidate| found.push(candidate),
    )?;
    Ok(found)
}

/// [`candidates`] of several claims at once, each given with its own
/// record: `each(i, candidate)` for every record that shares a key with
/// claim `i`. A record too far apart in words from a claim that found it
/// to be the same claim (its verdict is [`Verdict::Distant`]: the
/// decision's first step, [`decide::close`], on the words the index stores
/// beside each claim) is told so without reading its claim: it is left
/// out, or with `distant` given as [`Verdict::Distant`]. A key several
/// claims hold is looked up once, and a record found by several claims has
/// its words and its claim read once.
fn each_candidate(
    searcher: &Searcher,
    state: &CommitState,
    claims: &[(&Claim, Option<DocAddress>)],
    all_versions: bool,
    distant: bool,
    mut each: impl FnMut(usize, Candidate),
) -> Result<()> {
    if claims.is_empty() {
        return Ok(());
    }
    // The keys each claim looks up by in this commit, and each key with
    // the claims that look up by it, in key order.
    let common = state.common_keys(searcher)?;
    let lookups: Vec<Lookup> = (claims.iter())
        .map(|(claim, _)| common.lookup(keys::keys(claim)))
        .collect();
    let mut askers: Vec<(u64, usize)> = (lookups.iter().enumerate())
        .flat_map(|(i, lookup)| lookup.keys.iter().map(move |&key| (key, i)))
        .collect();
    askers.sort_unstable();
    askers.dedup();
    let nears: Vec<decide::Near> = (claims.iter())
        .map(|(claim, _)| decide::Near::new(&claim.words, &PARAMS))
        .collect();
    let asked = Asked {
        claims,
        lookups: &lookups,
        askers: &askers,
        nears: &nears,
        common,
        // Read here: in tests it is this thread's setting.
        prefilter: use_stored_words(),
        all_versions,
        distant,
    };
    // Each segment on the search threads (a phrase's hits have thousands
    // of candidates to read and decide), then told in segment order.
    let found = (searcher.index().search_executor()).map(
        |(ordinal, segment)| Ok(asked.in_segment(state, ordinal, segment)),
        searcher.segment_readers().iter().enumerate(),
    )?;
    for candidates in found {
        for (i, candidate) in candidates? {
            each(i, candidate);
        }
    }
    Ok(())
}

/// What [`each_candidate`] looks up, and how.
struct Asked<'a> {
    claims: &'a [(&'a Claim, Option<DocAddress>)],
    /// The keys each claim looks up by.
    lookups: &'a [Lookup],
    /// Each key with the claims that look up by it, in key order.
    askers: &'a [(u64, usize)],
    nears: &'a [decide::Near<'a>],
    common: &'a crate::common_keys::CommonKeys,
    /// Whether the stored words rule candidates out ([`use_stored_words`]).
    prefilter: bool,
    all_versions: bool,
    distant: bool,
}

impl Asked<'_> {
    /// The candidates of segment `ordinal` as (claim, candidate), in the
    /// order [`each_candidate`] tells them.
    fn in_segment(
        &self,
        state: &CommitState,
        ordinal: usize,
        segment: &SegmentReader,
    ) -> Result<Vec<(usize, Candidate)>> {
        let (claims, lookups, common) = (self.claims, self.lookups, self.common);
        let mut found = Vec::new();
        let Some(columns) = state.echo_columns(segment)? else {
            return Ok(found);
        };
        let hidden = (!self.all_versions)
            .then(|| state.hidden.get(&segment.segment_id()))
            .flatten();
        let Some(keys_held) = state.segment_keys(segment)? else {
            return Ok(found);
        };
        let alive = segment.alive_bitset();
        // (document, claim) pairs to decide, each once.
        let mut pairs: Vec<(DocId, usize)> = Vec::new();
        let mut holders = Vec::new();
        for same_key in self.askers.chunk_by(|a, b| a.0 == b.0) {
            holders.clear();
            keys_held.docs(same_key[0].0, &mut holders);
            for &doc in &holders {
                let shown = alive.is_none_or(|a| a.is_alive(doc))
                    && !hidden.is_some_and(|h| h.contains(doc));
                if shown {
                    let address = DocAddress::new(ordinal as u32, doc);
                    for &(_, i) in same_key {
                        if Some(address) != claims[i].1 {
                            pairs.push((doc, i));
                        }
                    }
                }
            }
        }
        // Each pair once, however many keys it shares.
        pairs.sort_unstable();
        pairs.dedup();
        // The pairs close enough in words, by the stored words: only their
        // documents' claims are read. A record whose stored claim keeps
        // fewer words than it has is read to be told. A claim whose keys
        // are all common takes only records whose keys all are and that
        // look up by the same key (`CommonKeys::lookup`): the others are
        // no candidates at all.
        let prefilter = self.prefilter;
        let (mut words, mut cut, mut last) = (Vec::new(), false, None);
        // The lookup keys of the document `last`, once asked for.
        let mut doc_keys: Option<Vec<u64>> = None;
        // The claims of the documents decided, each read once, from the
        // words already read when they were.
        let (mut docs, mut others) = (Vec::new(), Vec::new());
        let mut buffer = Vec::new();
        let steps: Vec<Step> = (pairs.iter())
            .map(|&(doc, i)| {
                let like_it = lookups[i].all_common;
                let step = if !prefilter && !like_it {
                    Step::Decide
                } else {
                    if last != Some(doc) {
                        last = Some(doc);
                        cut = columns.words(doc, &mut words);
                        doc_keys = None;
                    }
                    let alike = like_it && {
                        let key = lookups[i].keys.first().copied();
                        let doc_keys = doc_keys.get_or_insert_with(|| keys::keys_of_words(&words));
                        key.is_some_and(|key| common.looks_up_by(doc_keys, key))
                    };
                    if like_it && !alike {
                        Step::Skip
                    } else if !prefilter || cut || self.nears[i].close(&words, &PARAMS) {
                        Step::Decide
                    } else {
                        Step::Distant
                    }
                };
                if step == Step::Decide && docs.last() != Some(&doc) {
                    docs.push(doc);
                    others.push(if last == Some(doc) {
                        columns.claim_of_words(doc, &words, &mut buffer)
                    } else {
                        columns.claim(doc, &mut buffer)
                    });
                }
                step
            })
            .collect();
        for ((doc, i), step) in pairs.into_iter().zip(steps) {
            if step == Step::Skip {
                continue;
            }
            let address = DocAddress::new(ordinal as u32, doc);
            if step == Step::Distant {
                if self.distant {
                    let verdict = Verdict::Distant;
                    found.push((i, columns.candidate(address, verdict)));
                }
                continue;
            }
            let Ok(at) = docs.binary_search(&doc) else {
                continue;
            };
            let Some(other) = &others[at] else {
                continue;
            };
            let verdict = decide::verdict(claims[i].0, other, &PARAMS);
            found.push((i, columns.candidate(address, verdict)));
        }
        Ok(found)
    }
}

/// What becomes of a record found by a claim's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Not a candidate: the claim's keys are all common, and this record
    /// does not look up by the same key.
    Skip,
    /// Too far apart in words, told by the stored words.
    Distant,
    /// Its claim is read and the decision made.
    Decide,
}

/// The echoes of each hit (`record` at `address`): `None` for a record of
/// a kind that holds many claims. `read` reads a record for the appearance
/// that came first.
pub(crate) fn of_hits(
    searcher: &Searcher,
    state: &CommitState,
    hits: &[(&Record, DocAddress)],
    all_versions: bool,
    read: impl Fn(DocAddress) -> Result<Record>,
) -> Result<Vec<Option<Echoes>>> {
    // A record's echoes do not change within a commit: those found for an
    // earlier page are kept with it.
    let mut echoes: Vec<Option<Option<Echoes>>> = (hits.iter())
        .map(|(_, address)| state.echoes_kept.get(*address, all_versions))
        .collect();
    let missing: Vec<(&Record, DocAddress)> = (hits.iter().zip(&echoes))
        .filter(|(_, kept)| kept.is_none())
        .map(|(hit, _)| *hit)
        .collect();
    let mut found = found_for(searcher, state, &missing, all_versions, read)?.into_iter();
    for ((_, address), slot) in hits.iter().zip(&mut echoes) {
        if slot.is_none() {
            let echoes = found.next().flatten();
            state
                .echoes_kept
                .put(*address, all_versions, echoes.clone());
            *slot = Some(echoes);
        }
    }
    Ok(echoes.into_iter().map(Option::flatten).collect())
}

/// The echoes of each hit, found anew.
fn found_for(
    searcher: &Searcher,
    state: &CommitState,
    hits: &[(&Record, DocAddress)],
    all_versions: bool,
    read: impl Fn(DocAddress) -> Result<Record>,
) -> Result<Vec<Option<Echoes>>> {
    if hits.is_empty() {
        return Ok(Vec::new());
    }
    let claims: Vec<Option<Claim>> = (hits.iter())
        .map(|(record, _)| crate::echo::record_claim(record))
        .collect();
    // The hits with a claim, and where each one's claim is.
    let asking: Vec<(usize, (&Claim, Option<DocAddress>))> = (claims.iter().enumerate())
        .filter_map(|(h, claim)| Some((h, (claim.as_ref()?, Some(hits[h].1)))))
        .collect();
    let asked: Vec<(&Claim, Option<DocAddress>)> = asking.iter().map(|(_, a)| *a).collect();
    let mut same: Vec<Vec<Candidate>> = vec![Vec::new(); hits.len()];
    each_candidate(
        searcher,
        state,
        &asked,
        all_versions,
        false,
        |i, candidate: Candidate| {
            if candidate.verdict == Verdict::Same {
                same[asking[i].0].push(candidate);
            }
        },
    )?;
    let mut echoes = Vec::with_capacity(hits.len());
    for (h, &(record, _)) in hits.iter().enumerate() {
        echoes.push(match claims[h] {
            None => None,
            Some(_) => Some(echoes_of(record, &same[h], &read)?),
        });
    }
    Ok(echoes)
}

/// The echoes of `record`, from the records that make the same claim.
fn echoes_of(
    record: &Record,
    same: &[Candidate],
    read: &impl Fn(DocAddress) -> Result<Record>,
) -> Result<Echoes> {
    let own_item = crate::echo::item_key(record);
    let mut items: Vec<u64> = (same.iter().map(|c| c.item))
        .filter(|i| *i != own_item)
        .collect();
    items.sort_unstable();
    items.dedup();
    if items.is_empty() {
        return Ok(Echoes {
            count: 0,
            first: None,
        });
    }
    // The earliest dated appearance; undated ones last; ties by item, so
    // that any index of the same corpus names the same one.
    let own_day = record.date.map(|d| d.days_since_epoch());
    let order = |day: Option<i64>, item: u64| (day.is_none(), day, item);
    let earliest = (same.iter())
        .min_by_key(|c| {
            (
                order(c.day, c.item),
                c.address.segment_ord,
                c.address.doc_id,
            )
        })
        .filter(|c| order(c.day, c.item) < order(own_day, own_item));
    let first = match earliest {
        Some(c) => Appearance::of(&read(c.address)?),
        None => Appearance::of(record),
    };
    Ok(Echoes {
        count: items.len(),
        first: Some(first),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Index, SearchRequest};

    /// An index of the default corpus, in a folder of its own.
    fn default_corpus_index() -> (tempfile::TempDir, Index) {
        let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
        let dir = tempfile::tempdir().unwrap();
        crate::ingest::build(&corpus, dir.path(), &|_| {}).unwrap();
        let index = Index::open(dir.path()).unwrap();
        (dir, index)
    }

    /// What a search, its hits' echoes and groups included, answers.
    fn answer(index: &Index, request: &SearchRequest) -> serde_json::Value {
        serde_json::to_value(index.search(request).unwrap()).unwrap()
    }

    /// Runs `f` on this thread with the stored words used or not.
    fn with_stored_words<T>(on: bool, f: impl FnOnce() -> T) -> T {
        USE_STORED_WORDS.with(|c| c.set(on));
        let out = f();
        USE_STORED_WORDS.with(|c| c.set(true));
        out
    }

    #[test]
    fn the_stored_claims_and_words_are_the_records_and_give_their_keys() {
        let (dir, _) = default_corpus_index();
        let index = crate::storage::open_for_reading(dir.path()).unwrap();
        let fields = crate::schema::Fields::new(&index.schema()).unwrap();
        let searcher = index.reader().unwrap().searcher();
        let (mut claims, mut keyed) = (0, 0);
        for segment in searcher.segment_readers() {
            let columns = EchoColumns::open(segment).unwrap();
            let held = crate::key_index::SegmentKeys::open(
                dir.path(),
                segment,
                &crate::key_index::ECHO_KEYS,
            )
            .unwrap();
            let store = segment.get_store_reader(0).unwrap();
            let (mut buffer, mut words) = (Vec::new(), Vec::new());
            for doc in 0..segment.max_doc() {
                let cut = columns.words(doc, &mut words);
                let record =
                    crate::schema::stored_record(&fields, &store.get(doc).unwrap()).unwrap();
                // The claim the index keeps is the record's, as the byte
                // form the index kept before gave it back.
                let kept = crate::echo::record_claim(&record).map(|c| {
                    use crate::echo::features::byte_form;
                    byte_form::decode(&byte_form::encode(&c))
                });
                assert_eq!(columns.claim(doc, &mut buffer), kept, "doc {doc}");
                let Some(claim) = kept else {
                    // Only records with a claim have words.
                    assert!(words.is_empty() && !cut, "doc {doc}");
                    continue;
                };
                claims += 1;
                // The words the decision reads from the stored claim.
                assert!(!cut, "doc {doc}");
                assert_eq!(words, claim.words, "doc {doc}");
                // Their keys are the ones the record is found by.
                let keys = keys::keys_of_words(&words);
                keyed += usize::from(!keys.is_empty());
                for key in keys {
                    let mut docs = Vec::new();
                    held.docs(key, &mut docs);
                    assert!(docs.contains(&doc), "doc {doc}");
                }
            }
        }
        assert!(claims > 100 && keyed > 100, "{claims} {keyed}");
    }

    #[test]
    fn the_stored_words_change_no_echo_group_or_similar() {
        let (_dir, index) = default_corpus_index();
        // Echoes of the hits, and the groups of `--collapse`, of queries
        // whose hits are echoed claims, quotes and thread records.
        for query in [
            "*",
            "training",
            "random labels zero training error",
            "double descent",
            "memorization",
            "uniform convergence",
            "grokking",
            "scaling laws",
            "\"induction heads\"",
        ] {
            for collapse in [false, true] {
                for offset in [0, 10] {
                    let request = SearchRequest {
                        collapse,
                        offset,
                        limit: 100,
                        ..SearchRequest::new(query)
                    };
                    assert_eq!(
                        with_stored_words(true, || answer(&index, &request)),
                        with_stored_words(false, || answer(&index, &request)),
                        "{query} collapse {collapse} offset {offset}"
                    );
                }
            }
        }
        // `similar` of every record: its group, and its nearest other claims
        // with the reason of each.
        let mut ids = Vec::new();
        index
            .for_each_record(|r| {
                ids.push(r.id);
                Ok(())
            })
            .unwrap();
        let mut echoed = 0;
        for id in &ids {
            let with = with_stored_words(true, || index.similar(id).ok());
            let without = with_stored_words(false, || index.similar(id).ok());
            assert_eq!(with, without, "{id}");
            echoed += usize::from(with.is_some_and(|s| s.items > 0));
        }
        assert!(echoed > 10, "{echoed}");
    }

    #[test]
    fn bylines_split_into_people() {
        assert_eq!(
            byline_authors("Chiyuan Zhang, Samy Bengio and Moritz Hardt"),
            ["Chiyuan Zhang", "Samy Bengio", "Moritz Hardt"]
        );
        assert_eq!(
            byline_authors("Jordan Hoffmann, Sebastian Borgeaud, et al."),
            ["Jordan Hoffmann", "Sebastian Borgeaud"]
        );
        assert_eq!(byline_authors("LawrenceC"), ["LawrenceC"]);
    }
}
