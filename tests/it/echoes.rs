//! Echoes: the same claim across items and years, `--collapse` paging,
//! `similar`, and groups that do not depend on file order or on reindex.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use claimsearch::{Index, SearchRequest};

use crate::contract::{Response, Similar};
use crate::util::{extraction, Fixture};

const ZHANG: &str = "Inception-style networks trained on CIFAR-10 with uniformly random labels still reach zero training error, so their effective capacity suffices to shatter the training set.";
const ZHANG_AGAIN: &str = "As Zhang et al. showed, Inception-style networks trained on CIFAR-10 with uniformly random labels still reach zero training error, so their effective capacity suffices to shatter the training set.";
const ZHANG_DENIED: &str = "Inception-style networks trained on CIFAR-10 with uniformly random labels never reach zero training error, so their effective capacity does not suffice to shatter the training set.";
const TOKENS: &str = "Compute-optimal training scales model size and the number of training tokens in roughly equal proportions.";
const TOKENS_AGAIN: &str = "Compute-optimal training scales model size and the number of training tokens in roughly equal proportions";

/// Three items over three years: a claim, its restatement and a quote of
/// it, a negation beside them, and a second echoed claim; plus a thread
/// whose tension restates the claim.
fn corpus(fx: &Fixture) {
    fx.write(
        "items/2016/zhang.txt",
        extraction(
            "Understanding deep learning requires rethinking generalization",
            "arXiv · Chiyuan Zhang, Samy Bengio and Moritz Hardt · 2016-11-10",
            "random-labels",
            &[
                ZHANG,
                "Explicit regularization is neither necessary nor sufficient for low test error.",
            ],
            &[],
        ),
    );
    fx.write(
        "items/2021/blog.txt",
        extraction(
            "Five results every theorist should know",
            "Gradient Notes · Priya Raman · 2021-03-15",
            "random-labels scaling-laws",
            &[ZHANG_AGAIN, TOKENS, ZHANG_DENIED],
            &[],
        ),
    );
    fx.write(
        "items/2023/lecture.txt",
        extraction(
            "What we learned from the generalization puzzles",
            "YouTube · Tomasz Wierzbicki · 2023-06-02",
            "random-labels scaling-laws",
            &[TOKENS_AGAIN],
            &["Networks trained on CIFAR-10 with uniformly random labels still reach zero training error, and their effective capacity suffices to shatter the training set."],
        ),
    );
    fx.write(
        "threads/puzzles/v1.txt",
        "Generalization puzzles · history\nVersion 1\n2024-01-05 10:00 UTC · 3 items\nNarrative\nThe thread follows the random label results.[1]\nTensions\n- Inception-style networks trained on CIFAR-10 with uniformly random labels still reach zero training error, so their effective capacity suffices to shatter the training set. [1]\nSources\n- [1] Understanding deep learning requires rethinking generalization — arXiv (2016-11-10)\n",
    );
}

fn query(fx: &Fixture, args: &[&str]) -> Response {
    let mut all = vec!["query", "--json"];
    all.extend_from_slice(args);
    serde_json::from_str(&fx.ok(&all).stdout).expect("query --json parses")
}

#[test]
fn a_claim_hit_counts_the_other_items_that_make_it_and_names_the_first() {
    let fx = Fixture::new();
    corpus(&fx);
    fx.ok(&["index"]);
    let response = query(&fx, &["random labels zero training error", "--limit", "20"]);
    let hit = |text: &str| {
        (response.hits.iter())
            .find(|h| h.text == text)
            .unwrap_or_else(|| panic!("no hit for {text}"))
    };
    // The blog restates it, the lecture quotes it, the thread's tension
    // repeats it: three other items; the first is the 2016 paper.
    let echoes = hit(ZHANG).echoes.as_ref().expect("a claim has echoes");
    assert_eq!(echoes.count, 3, "{echoes:?}");
    let first = echoes.first.as_ref().expect("a first appearance");
    assert_eq!(first.date.as_deref(), Some("2016-11-10"));
    assert_eq!(first.path, "items/2016/zhang.txt");
    assert_eq!(
        first.authors,
        ["Chiyuan Zhang", "Samy Bengio", "Moritz Hardt"]
    );
    // The restatement points back at the paper.
    let again = hit(ZHANG_AGAIN).echoes.as_ref().unwrap();
    assert_eq!(again.count, 3);
    assert_eq!(again.first.as_ref().unwrap().path, "items/2016/zhang.txt");
    // The negation is not an echo, and has none.
    let denied = hit(ZHANG_DENIED).echoes.as_ref().unwrap();
    assert_eq!(denied.count, 0, "{denied:?}");
    assert!(denied.first.is_none());
    // A thread's tension takes part too.
    let tension = (response.hits.iter())
        .find(|h| h.kind == "tension")
        .expect("the tension");
    assert_eq!(tension.echoes.as_ref().unwrap().count, 3);
}

#[test]
fn records_that_hold_many_claims_have_no_echoes() {
    let fx = Fixture::new();
    corpus(&fx);
    fx.ok(&["index"]);
    let response = query(&fx, &["random label results", "--kind", "narrative"]);
    assert!(!response.hits.is_empty());
    assert!(response.hits.iter().all(|h| h.echoes.is_none()));
    assert_eq!(response.groups, None, "groups only when collapsing");
}

#[test]
fn the_terminal_says_how_many_items_and_since_when() {
    let fx = Fixture::new();
    corpus(&fx);
    fx.ok(&["index"]);
    let out = fx
        .ok(&["query", "compute-optimal tokens", "--kind", "claim"])
        .stdout;
    assert!(
        out.contains("also in 1 item since 2021 (Priya Raman)"),
        "{out}"
    );
}

#[test]
fn collapse_shows_each_claim_once_across_pages() {
    let fx = Fixture::new();
    corpus(&fx);
    fx.ok(&["index"]);
    let plain = query(&fx, &["training", "--limit", "50"]);
    let whole = query(&fx, &["training", "--limit", "50", "--collapse"]);
    assert_eq!(whole.total, plain.total, "total counts matches, not groups");
    assert_eq!(whole.facets, plain.facets);
    let groups = whole.groups.expect("groups with --collapse");
    assert_eq!(whole.hits.len(), groups);
    // Four records make the random-label claim and two the token claim:
    // one group each; the negation is a group of its own.
    assert_eq!(
        groups,
        plain.hits.len() - 3 - 1,
        "{:#?}",
        whole.hits.iter().map(|h| &h.text).collect::<Vec<_>>()
    );
    let zhang_like = |text: &str| text.contains("still reach zero training error");
    assert_eq!(whole.hits.iter().filter(|h| zhang_like(&h.text)).count(), 1);

    // Page by page, two at a time: the same groups, each once, in order.
    let mut paged = Vec::new();
    for offset in (0..groups + 2).step_by(2) {
        let offset = offset.to_string();
        let page = query(
            &fx,
            &[
                "training",
                "--limit",
                "2",
                "--offset",
                &offset,
                "--collapse",
            ],
        );
        assert_eq!(page.groups, Some(groups));
        assert_eq!(page.total, plain.total);
        paged.extend(page.hits.into_iter().map(|h| h.id));
    }
    let whole_ids: Vec<String> = whole.hits.into_iter().map(|h| h.id).collect();
    assert_eq!(paged, whole_ids);
}

#[test]
fn every_record_folded_away_makes_the_claim_of_a_hit_shown_before_it() {
    let fx = Fixture::new();
    corpus(&fx);
    fx.ok(&["index"]);
    let index = Index::open(fx.index()).unwrap();
    let request = SearchRequest {
        limit: 50,
        ..SearchRequest::new("training")
    };
    let plain = index.search(&request).unwrap();
    let collapsed = (index.search(&SearchRequest {
        collapse: true,
        ..request
    }))
    .unwrap();
    assert_eq!(collapsed.groups_exact, Some(true));
    let shown: Vec<&str> = collapsed
        .hits
        .iter()
        .map(|h| h.record.id.as_str())
        .collect();
    let mut folded = 0;
    for hit in &plain.hits {
        if shown.contains(&hit.record.id.as_str()) {
            continue;
        }
        folded += 1;
        // A hit ranked at least as high stands for it: its own group (the
        // records that make its claim) holds the record folded away.
        let standing = (collapsed.hits.iter())
            .filter(|c| c.score >= hit.score)
            .find(|c| {
                let similar = index.similar(&c.record.id).unwrap();
                similar.group.iter().any(|r| r.record.id == hit.record.id)
            });
        assert!(standing.is_some(), "{} folded into no hit", hit.record.id);
    }
    assert_eq!(folded, plain.hits.len() - shown.len());
    assert!(folded >= 4, "the two echoed claims fold four records");
}

/// A made-up claim of six words no other claim has (and `lattice`).
fn made_up_claim(n: usize) -> String {
    const SYLLABLES: [&str; 10] = ["ba", "ko", "ri", "tu", "me", "sa", "lo", "ne", "vi", "da"];
    let digits = [n / 100 % 10, n / 10 % 10, n % 10];
    let words: Vec<String> = (0..6)
        .map(|place| {
            let mut word = format!("z{}", SYLLABLES[place]);
            for d in digits {
                word.push_str(SYLLABLES[d]);
            }
            word + "x"
        })
        .collect();
    format!("Lattice {}.", words.join(" "))
}

#[test]
fn past_the_counted_matches_groups_is_a_lower_bound_and_paging_shows_each_group_once() {
    let fx = Fixture::new();
    // 600 claims, each made word for word in two items (one on arXiv, one
    // on Substack): 1,200 matches of `lattice`, 600 groups.
    for page in 0..60 {
        let claims: Vec<String> = (0..10).map(|i| made_up_claim(page * 10 + i)).collect();
        let claims: Vec<&str> = claims.iter().map(String::as_str).collect();
        for (side, source) in [("a", "arXiv"), ("b", "Substack")] {
            fx.write(
                &format!("items/{side}{page:02}.txt"),
                extraction(
                    &format!("Notes {side} {page}"),
                    &format!("{source} · Ada Quill · 2020-03-{:02}", page % 28 + 1),
                    "crystals",
                    &claims,
                    &[],
                ),
            );
        }
    }
    fx.ok(&["index"]);
    let index = Index::open(fx.index()).unwrap();
    let page = |offset: usize| {
        let request = SearchRequest {
            collapse: true,
            limit: 100,
            offset,
            ..SearchRequest::new("lattice")
        };
        index.search(&request).unwrap()
    };
    let first = page(0);
    assert_eq!(first.total, 1200);
    assert!(first.total > claimsearch::query::GROUPS_COUNTED);
    assert_eq!(first.groups_exact, Some(false));
    // The best 1,000 matches hold at least 500 claims, and no more than
    // there are.
    let counted = first.groups.unwrap();
    assert!((500..=600).contains(&counted), "{counted}");

    // Paging past the counted matches shows every claim, each once.
    let (mut ids, mut texts) = (BTreeSet::new(), BTreeSet::new());
    for offset in (0..800).step_by(100) {
        let page = page(offset);
        assert_eq!(
            (page.groups, page.groups_exact),
            (Some(counted), Some(false))
        );
        assert_eq!(page.hits.len(), 600usize.saturating_sub(offset).min(100));
        for hit in page.hits {
            assert!(texts.insert(hit.record.text.clone()), "{}", hit.record.text);
            assert!(ids.insert(hit.record.id));
        }
    }
    assert_eq!(texts.len(), 600);

    // With at most 1,000 matches the count is exact.
    let arxiv = SearchRequest {
        collapse: true,
        sources: vec!["arXiv".into()],
        ..SearchRequest::new("lattice")
    };
    let arxiv = index.search(&arxiv).unwrap();
    assert_eq!(arxiv.total, 600);
    assert_eq!((arxiv.groups, arxiv.groups_exact), (Some(600), Some(true)));

    // The JSON says so, and the terminal too.
    let json = query(&fx, &["lattice", "--collapse", "--limit", "1"]);
    assert_eq!(
        (json.groups, json.groups_exact),
        (Some(counted), Some(false))
    );
    let plain = query(&fx, &["lattice", "--limit", "1"]);
    assert_eq!((plain.groups, plain.groups_exact), (None, None));
    let out = fx
        .ok(&["query", "lattice", "--collapse", "--limit", "1"])
        .stdout;
    assert!(
        out.contains(&format!(
            "1200 matches, at least {counted} distinct claims (counted in the best 1000)"
        )),
        "{out}"
    );
}

#[test]
fn collapsing_every_record_lists_the_newest_first() {
    let fx = Fixture::new();
    corpus(&fx);
    fx.ok(&["index"]);
    let plain = query(&fx, &["*", "--kind", "claim", "--limit", "50"]);
    let whole = query(
        &fx,
        &["*", "--kind", "claim", "--limit", "50", "--collapse"],
    );
    assert_eq!(whole.total, plain.total);
    let dates: Vec<&str> = (whole.hits.iter())
        .map(|h| h.date.as_deref().unwrap_or(""))
        .collect();
    let mut newest_first = dates.clone();
    newest_first.sort_by(|a, b| b.cmp(a));
    assert_eq!(dates, newest_first);
    // The 2016 claim is echoed by the later blog, so its group stands as
    // the blog's (newer) restatement; the paper's own record is folded in.
    assert!(!whole.hits.iter().any(|h| h.text == ZHANG), "{dates:?}");
    assert!(whole.hits.iter().any(|h| h.text == ZHANG_AGAIN));
    assert!(whole.hits.len() < plain.hits.len());
}

#[test]
fn similar_gives_the_timeline_then_the_nearest_other_claims() {
    let fx = Fixture::new();
    corpus(&fx);
    fx.ok(&["index"]);
    let out = fx
        .ok(&["similar", "items/2021/blog.txt#claim-1", "--json"])
        .stdout;
    let similar: Similar = serde_json::from_str(&out).expect("similar --json parses");
    assert_eq!(similar.id, "items/2021/blog.txt#claim-1");
    assert_eq!(similar.items, 3);
    let timeline: Vec<(&str, Option<&str>)> = (similar.group.iter())
        .map(|r| (r.id.as_str(), r.date.as_deref()))
        .collect();
    assert_eq!(
        timeline,
        [
            ("items/2016/zhang.txt#claim-1", Some("2016-11-10")),
            ("items/2021/blog.txt#claim-1", Some("2021-03-15")),
            ("items/2023/lecture.txt#quote-1", Some("2023-06-02")),
            ("threads/puzzles/v1.txt#tension-1", Some("2024-01-05")),
        ]
    );
    assert!(similar.group.iter().all(|r| r.same && r.why.is_none()));
    let denied = (similar.nearest.iter())
        .find(|r| r.id == "items/2021/blog.txt#claim-3")
        .expect("the negation is among the nearest");
    assert!(!denied.same);
    assert_eq!(denied.why.as_deref(), Some("negation"));

    let human = fx.ok(&["similar", "items/2021/blog.txt#claim-1"]).stdout;
    assert!(
        human.starts_with("4 records make this claim, in 3 other items"),
        "{human}"
    );
    assert!(human.contains("not the same (negation)"), "{human}");
}

#[test]
fn similar_refuses_unknown_ids_and_records_of_many_claims() {
    let fx = Fixture::new();
    corpus(&fx);
    fx.ok(&["index"]);
    let run = fx.run(&["similar", "items/2016/zhang.txt#claim-9"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("no record with id 'items/2016/zhang.txt#claim-9'"),
        "{}",
        run.stderr
    );
    let run = fx.run(&["similar", "threads/puzzles/v1.txt#narrative-1"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("narrative record"), "{}", run.stderr);
}

/// Every echo group of an index, as what each record's `similar` says.
fn groups(index: &Path) -> BTreeMap<String, (usize, BTreeSet<String>)> {
    let index = Index::open(index).unwrap();
    let mut ids = Vec::new();
    index
        .for_each_record(|r| {
            ids.push(r.id);
            Ok(())
        })
        .unwrap();
    let mut out = BTreeMap::new();
    for id in ids {
        if let Ok(similar) = index.similar(&id) {
            let group = similar.group.into_iter().map(|r| r.record.id).collect();
            out.insert(id, (similar.items, group));
        }
    }
    // And what a collapsed search of everything counts.
    let all = SearchRequest {
        collapse: true,
        limit: 1000,
        ..SearchRequest::new("*")
    };
    let response = index.search(&all).unwrap();
    assert_eq!(response.groups_exact, Some(true));
    // The records standing for the groups, newest first: the same records
    // in any index of the same pages.
    let heads = response.hits.into_iter().map(|h| h.record.id).collect();
    out.insert("*".into(), (response.groups.unwrap(), heads));
    out
}

#[test]
fn groups_are_the_same_in_any_file_order_and_after_reindex() {
    let fx = Fixture::new();
    corpus(&fx);
    fx.ok(&["index"]);
    // Change the corpus the way a tracker does: one page edited, one added,
    // one removed; then reindex.
    fx.write(
        "items/2021/blog.txt",
        extraction(
            "Five results every theorist should know",
            "Gradient Notes · Priya Raman · 2021-03-15",
            "random-labels scaling-laws",
            &[TOKENS, ZHANG_AGAIN],
            &[],
        ),
    );
    fx.write(
        "items/2024/newsletter.txt",
        extraction(
            "The week in theory",
            "Substack · Ada Quill · 2024-02-01",
            "scaling-laws",
            &[TOKENS_AGAIN, ZHANG_DENIED],
            &[],
        ),
    );
    fx.remove("items/2023/lecture.txt");
    fx.ok(&["reindex"]);
    let reindexed = groups(&fx.index());

    // A clean index of the same pages, written in the opposite order.
    let clean = Fixture::new();
    let mut files: Vec<_> = walk(&fx.corpus());
    files.reverse();
    for rel in &files {
        clean.write(rel, std::fs::read(fx.corpus().join(rel)).unwrap());
    }
    clean.ok(&["index"]);
    assert_eq!(reindexed, groups(&clean.index()));
    // The change is visible: the newsletter restates the token claim.
    assert_eq!(
        reindexed["items/2024/newsletter.txt#claim-1"].1,
        [
            "items/2021/blog.txt#claim-1",
            "items/2024/newsletter.txt#claim-1"
        ]
        .map(String::from)
        .into()
    );
}

fn walk(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(
                    path.strip_prefix(root)
                        .unwrap()
                        .to_string_lossy()
                        .replace('\\', "/"),
                );
            }
        }
    }
    out.sort();
    out
}

/// `count` items, each a line of a feed of at most 100, all making the
/// claim [`ZHANG`] (item 0 first, in 2010, the others later).
fn feeds_repeating_one_claim(fx: &Fixture, count: usize) {
    let mut feeds: BTreeMap<usize, String> = BTreeMap::new();
    for i in 0..count {
        let line = serde_json::json!({
            "title": format!("Notes {i}"),
            "source": "arXiv",
            "date": format!("{}-{:02}-{:02}", 2010 + i / 336, 1 + i / 28 % 12, 1 + i % 28),
            "claims": [ZHANG],
        });
        let feed = feeds.entry(i / 100).or_default();
        feed.push_str(&line.to_string());
        feed.push('\n');
    }
    for (n, lines) in feeds {
        fx.write(&format!("feeds/notes-{n}.jsonl"), lines);
    }
}

/// The echoes of the first hit of `random labels zero training error`, and
/// the groups and total of the same query collapsed.
fn echoes_and_groups(fx: &Fixture) -> (usize, Option<String>, Option<usize>, usize) {
    let plain = query(fx, &["random labels zero training error"]);
    let echoes = plain.hits[0].echoes.as_ref().expect("a claim has echoes");
    let first = echoes.first.as_ref().map(|f| f.path.clone());
    let collapsed = query(fx, &["random labels zero training error", "--collapse"]);
    (echoes.count, first, collapsed.groups, collapsed.total)
}

/// A claim made by more items than a lookup key may hold
/// (`common_keys::LIMIT`): every key of it is too common to find echoes
/// by, and its records still find each other, through those keys and only
/// among records whose keys are all that common. With a feed removed the
/// keys are common no more: a `reindex` then answers what a clean index
/// of the same pages answers, deleted records not counted.
#[test]
fn a_claim_made_by_more_items_than_a_key_may_hold_keeps_its_echoes() {
    let limit = claimsearch::common_keys::LIMIT as usize;
    let fx = Fixture::new();
    feeds_repeating_one_claim(&fx, limit + 50);
    fx.ok(&["index"]);
    let first = Some("feeds/notes-0.jsonl".to_string());
    assert_eq!(
        echoes_and_groups(&fx),
        (limit + 49, first.clone(), Some(1), limit + 50)
    );

    // The last feed's 50 items removed: the keys are held by `limit`
    // records, no more than the limit.
    fx.remove(&format!("feeds/notes-{}.jsonl", limit / 100));
    fx.ok(&["reindex"]);
    let reindexed = echoes_and_groups(&fx);
    assert_eq!(reindexed, (limit - 1, first, Some(1), limit));
    let clean = Fixture::new();
    for rel in walk(&fx.corpus()) {
        clean.write(&rel, std::fs::read(fx.corpus().join(&rel)).unwrap());
    }
    clean.ok(&["index"]);
    assert_eq!(reindexed, echoes_and_groups(&clean));
}

/// An open index keeps the echoes it found for a commit's hits: pages asked
/// again, or overlapping, or with every version, give the echoes a reader
/// that opens the index afresh finds; after a commit that adds an echo, the
/// new count.
#[test]
fn echoes_kept_for_a_commit_are_those_found_afresh() {
    let fx = Fixture::new();
    corpus(&fx);
    fx.ok(&["index"]);
    let kept = Index::open(fx.index()).unwrap();
    let echoes = |index: &Index, request: &SearchRequest| {
        let response = index.search(request).unwrap();
        (response.hits.into_iter())
            .map(|h| (h.record.id, h.echoes))
            .collect::<Vec<_>>()
    };
    let fresh = |request: &SearchRequest| echoes(&Index::open(fx.index()).unwrap(), request);
    let query = "random labels zero training error";
    let requests = [
        SearchRequest::new(query),
        SearchRequest {
            limit: 3,
            ..SearchRequest::new(query)
        },
        SearchRequest {
            offset: 2,
            limit: 3,
            ..SearchRequest::new(query)
        },
        SearchRequest {
            all_versions: true,
            ..SearchRequest::new(query)
        },
    ];
    for request in requests.iter().chain(&requests) {
        assert_eq!(echoes(&kept, request), fresh(request), "{request:?}");
    }
    let zhang = |index: &Index| {
        (echoes(index, &requests[0]).into_iter())
            .find_map(|(_, e)| e.filter(|e| e.count > 0))
            .map(|e| e.count)
    };
    assert_eq!(zhang(&kept), Some(3));

    fx.write(
        "items/2024/review.txt",
        extraction(
            "A review of the random label results",
            "Gradient Notes · Priya Raman · 2024-02-01",
            "random-labels",
            &[ZHANG_AGAIN],
            &[],
        ),
    );
    fx.ok(&["reindex", "--quiet"]);
    kept.reload().unwrap();
    assert_eq!(zhang(&kept), Some(4));
    assert_eq!(echoes(&kept, &requests[0]), fresh(&requests[0]));
}
