//! End-to-end behaviour of the `claimsearch` binary on a small corpus written
//! here: ranking, filters, facets, phrases, exclusion, versions, bad files,
//! bad queries and the JSON contract (deserialized strictly).

use crate::contract::*;
use crate::util::{extraction, Fixture};

const THREAD_V1: &str = "[The Information Machine]

Is Theory Broken · history

Version 1

2026-05-01 09:00 UTC · 3 items

Narrative

A first skeptic argues that the uniform convergence programme has stalled [1].

Timeline

  • 2019-01-01: A workshop paper finds uniform convergence insufficient for wide networks. [1]

Perspectives

Skeptics (Alignment Forum)

The programme has stalled for good.

Evolution: First appearance.

Tensions

  • Can any data-independent bound survive? [1]

Sources

  1. [1] Uniform bounds revisited — Alignment Forum (2019-03-01)
";

const THREAD_V2: &str = "Is Theory Broken · history
Version 2
2026-05-09 18:30 UTC · 7 items
Narrative
The debate widens as compression results answer the skeptics [2][1].
Timeline
- 2019-01-01: A workshop paper finds uniform convergence insufficient for wide networks. [2]
- 2022-06-10: Compression bounds are reported non-vacuous, reopening the uniform convergence question. [1]
Perspectives
Skeptics (Alignment Forum)
The programme has stalled for good.
Evolution: Unchanged.
Tensions
- Do compression bounds escape the uniform convergence critique? [1][2]
Sources
- [1] Tight bounds at last — LessWrong (2022-06-10)
- [2] Uniform bounds revisited — Alignment Forum (2019-03-01)
";

pub(crate) fn corpus() -> Fixture {
    let fx = Fixture::new();
    fx.write(
        "items/2019/uniform.txt",
        extraction(
            "Uniform bounds revisited",
            "Alignment Forum · Ada Lovelace · 2019-03-01",
            "uniform-convergencegeneralization-bounds",
            &[
                "Uniform convergence bounds cannot explain why overparameterized networks generalize.",
                "Convergence of gradient descent is fast in very wide networks.",
                "Interpolating classifiers can still generalize on noisy data.",
            ],
            &[
                "Two-sided bounds were never going to survive the random label test.",
                "The gap between the bound and the test error grows with the sample...",
            ],
        ),
    );
    fx.write(
        "items/2022/pac.txt",
        extraction(
            "Tight bounds at last",
            "LessWrong · 2022-06-10",
            "pac-bayes, compression",
            &[
                "PAC-Bayes compression bounds can be made non-vacuous for large networks.",
                "Uniform priors make the bound loose.",
            ],
            &["Compression is the whole trick."],
        ),
    );
    fx.write("threads/is-theory-broken/v1.txt", THREAD_V1);
    fx.write("threads/is-theory-broken/v2.txt", THREAD_V2);
    fx.write(
        "feeds/items.jsonl",
        concat!(
            r#"{"id": "tim-1", "title": "Scaling notes", "source": "arXiv", "author": "B. Riemann", "date": "2024-05-05", "topics": ["scaling-laws"], "claims": ["Uniform convergence fails for scaling laws as well."], "quotes": [], "threads": ["Is Theory Broken"]}"#,
            "\n{not json\n",
            r#"{"id": "tim-2", "title": "Grokking diary", "source": "Substack", "date": "2023-02-02", "claims": ["Grokking appears long after the training loss flattens."]}"#,
            "\n"
        ),
    );
    fx.write(
        "raw/comment.txt",
        "Sharpness notes\nFlat minima are said to generalize better, though reparameterization muddies it.\nOthers reply that convergence speed matters more than flatness.\n",
    );
    fx.write("junk/binary.txt", b"GIF89a\x00\x01\x02binary");
    fx.write("junk/empty.txt", "");
    fx.write("junk/picture.png", b"\x89PNG");
    fx
}

fn query(fx: &Fixture, args: &[&str]) -> Response {
    let mut all = vec!["query", "--json"];
    all.extend_from_slice(args);
    let run = fx.ok(&all);
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("bad JSON ({e}): {}", run.stdout))
}

fn indexed() -> Fixture {
    let fx = corpus();
    fx.ok(&["index"]);
    fx
}

#[test]
fn index_reports_pages_records_and_every_bad_file_by_name() {
    let fx = corpus();
    let run = fx.ok(&["index", "--json"]);
    let summary: IndexSummary = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(summary.pages, 6, "{summary:?}");
    assert!(summary.records >= 20, "{summary:?}");
    assert!(summary.seconds >= 0.0);
    let skipped: Vec<_> = summary
        .skipped
        .iter()
        .map(|s| (s.path.as_str(), s.reason.as_str()))
        .collect();
    assert!(
        skipped
            .iter()
            .any(|(p, r)| *p == "junk/binary.txt" && r.contains("binary")),
        "{skipped:?}"
    );
    assert!(
        skipped
            .iter()
            .any(|(p, r)| *p == "junk/empty.txt" && r.contains("empty")),
        "{skipped:?}"
    );
    assert!(
        !skipped.iter().any(|(p, _)| p.ends_with(".png")),
        "not a page: {skipped:?}"
    );
    let bad_line = summary
        .warnings
        .iter()
        .find(|w| w.path == "feeds/items.jsonl");
    assert_eq!(
        bad_line.and_then(|w| w.line),
        Some(2),
        "{:?}",
        summary.warnings
    );
    assert!(!bad_line.unwrap().message.is_empty());
    assert!(run.stderr.contains("junk/binary.txt"), "{}", run.stderr);
    assert!(run.stderr.contains("items.jsonl:2"), "{}", run.stderr);
    // the good lines around the bad one are searchable
    assert_eq!(query(&fx, &["grokking"]).total, 1);
}

#[test]
fn records_matching_every_word_rank_above_those_matching_some() {
    let fx = indexed();
    let response = query(&fx, &["uniform convergence", "--limit", "50"]);
    assert_eq!(response.query, "uniform convergence");
    assert_eq!(response.total, response.hits.len());
    let both = |h: &Hit| {
        let t = format!("{} {} {}", h.text, h.title, h.topics.join(" ")).to_lowercase();
        t.contains("uniform") && t.contains("converg")
    };
    let first_partial = response
        .hits
        .iter()
        .position(|h| !both(h))
        .expect("some partial matches");
    assert!(first_partial >= 3, "{:#?}", response.hits);
    assert!(
        response.hits[first_partial..].iter().all(|h| !both(h)),
        "{:#?}",
        response.hits
    );
    // Scores are BM25F scores: descending within each tier.
    let descending = |hits: &[Hit]| hits.windows(2).all(|w| w[0].score >= w[1].score);
    assert!(descending(&response.hits[..first_partial]));
    assert!(descending(&response.hits[first_partial..]));
}

#[test]
fn several_words_match_records_with_every_word_unless_fewer_than_ten_have_them() {
    let fx = indexed();
    let every = query(&fx, &["uniform AND convergence", "--limit", "100"]);
    let any = query(&fx, &["uniform OR convergence", "--limit", "100"]);
    assert!(
        every.total >= 2 && every.total < 10 && any.total > every.total,
        "{} {}",
        every.total,
        any.total
    );
    // Fewer than ten records have both words: records with either word
    // follow them and count, whatever the page asked for.
    for limit in ["1", "2", "100"] {
        let relaxed = query(&fx, &["uniform convergence", "--limit", limit]);
        assert!(relaxed.relaxed);
        assert_eq!(relaxed.total, any.total);
        assert_eq!(relaxed.facets, any.facets);
    }
    let relaxed = query(&fx, &["uniform convergence", "--limit", "100"]);
    let ids = |r: &Response| r.hits.iter().map(|h| h.id.clone()).collect::<Vec<_>>();
    let mut first = ids(&relaxed)[..every.total].to_vec();
    let mut wanted = ids(&every);
    first.sort();
    wanted.sort();
    assert_eq!(first, wanted, "records with every word first");
    assert!(relaxed.hits.iter().all(|h| h.score < 1000.0));
}

#[test]
fn every_facet_count_is_the_count_of_the_matches_listed() {
    // Counted a block of matches at a time: checked against the hits
    // themselves, for queries of many and of few matches, on the small
    // corpus (threads: records without a source or authors) and many
    // generated pages.
    let fx = corpus();
    let sources = ["arXiv", "Substack", "YouTube", "LessWrong"];
    let people = [
        "Ada Quill",
        "Basil Okafor",
        "Chen Wei",
        "Dana Ruiz",
        "Emil Berg",
    ];
    let topics = ["lattices", "grokking", "scaling-laws", "memorization"];
    for page in 0..150usize {
        let authors = match page % 3 {
            0 => people[page % 5].to_string(),
            1 => format!("{} and {}", people[page % 5], people[(page + 2) % 5]),
            _ => format!(
                "{}, {} and {}",
                people[page % 5],
                people[(page + 1) % 5],
                people[(page + 3) % 5]
            ),
        };
        let topics = topics[..1 + page % 4].join(", ");
        fx.write(
            &format!("items/gen/page-{page:03}.txt"),
            extraction(
                &format!("Lattice notes {page}"),
                &format!(
                    "{} · {authors} · {}-0{}-1{}",
                    sources[page % 4],
                    2015 + page % 10,
                    1 + page % 9,
                    page % 10
                ),
                &topics,
                &[
                    &format!("Lattice model {page} memorizes {} labels.", page * 7),
                    &format!("Grokking in lattice run {page} took {} steps.", page * 11),
                ],
                &[&format!("The lattice of page {page} never settled.")],
            ),
        );
    }
    fx.ok(&["index"]);
    for q in ["*", "lattice OR grokking OR memorization", "memorization"] {
        let all = query(&fx, &[q, "--limit", "10000", "--all-versions"]);
        assert_eq!(all.hits.len(), all.total, "{q}");
        assert!(q != "*" || all.total > 200, "{q}: {}", all.total);
        let mut expected: Vec<(&str, Option<String>)> = Vec::new();
        for hit in &all.hits {
            expected.push(("kind", Some(hit.kind.clone())));
            expected.push(("source", hit.source.clone()));
            expected.push(("date", hit.date.as_ref().map(|d| d[..4].to_string())));
            if hit.topics.is_empty() {
                expected.push(("topic", None));
            }
            for topic in &hit.topics {
                expected.push(("topic", Some(topic.clone())));
            }
            if hit.authors.is_empty() {
                expected.push(("author", None));
            }
            for author in &hit.authors {
                expected.push(("author", Some(author.clone())));
            }
        }
        let facets = &all.facets;
        for (name, facet) in [
            ("kind", &facets.kind),
            ("source", &facets.source),
            ("date", &facets.date),
            ("topic", &facets.topic),
            ("author", &facets.author),
        ] {
            let mut want: Vec<(Option<String>, u64)> = Vec::new();
            for (_, value) in expected.iter().filter(|(n, _)| *n == name) {
                match want.iter_mut().find(|(v, _)| v == value) {
                    Some((_, count)) => *count += 1,
                    None => want.push((value.clone(), 1)),
                }
            }
            let mut got: Vec<(Option<String>, u64)> =
                facet.iter().map(|f| (f.value.clone(), f.count)).collect();
            want.sort();
            got.sort();
            assert_eq!(got, want, "{q}: {name}");
        }
    }
}

#[test]
fn a_facet_shows_its_twenty_most_frequent_values_ties_by_value() {
    // 30 sources: the first five with three pages each, the others with
    // one. Counted per segment and merged: the five come first, then the
    // first fifteen of the others by name, with the right counts.
    let fx = Fixture::new();
    let mut want: Vec<(String, u64)> = Vec::new();
    for s in 0..30usize {
        let source = format!("Source {:02}", 29 - s);
        let pages = if s < 5 { 3 } else { 1 };
        for p in 0..pages {
            fx.write(
                &format!("items/s{s:02}-{p}.txt"),
                extraction(
                    &format!("Tally notes {s} {p}"),
                    &format!("{source} · Ada Quill · 2020-01-0{}", 1 + p),
                    "tallies",
                    &[&format!("Tally {s} {p} counts sheep.")],
                    &[],
                ),
            );
        }
        want.push((source, pages));
    }
    fx.ok(&["index"]);
    want.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    want.truncate(20);
    let got = query(&fx, &["tally"]);
    assert_eq!(got.total, 40);
    let got: Vec<(String, u64)> = (got.facets.source.iter())
        .map(|f| (f.value.clone().unwrap(), f.count))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn facets_count_every_match_not_only_the_page_shown() {
    let fx = indexed();
    let all = query(&fx, &["uniform", "--limit", "100"]);
    let one = query(&fx, &["uniform", "--limit", "1"]);
    assert_eq!(one.hits.len(), 1);
    assert_eq!(one.total, all.total);
    assert_eq!(one.facets.kind, all.facets.kind);
    let kinds: u64 = one.facets.kind.iter().map(|f| f.count).sum();
    assert_eq!(kinds as usize, all.total);
    // Far under the bound of exact counting: exact, asked for or not.
    assert!(one.facets_exact);
    let exact = query(&fx, &["uniform", "--limit", "1", "--exact-facets"]);
    assert!(exact.facets_exact);
    assert_eq!(exact.facets, one.facets);
    let claims = all.hits.iter().filter(|h| h.kind == "claim").count() as u64;
    assert!(one.facets.kind.contains(&FacetCount {
        value: Some("claim".into()),
        count: claims
    }));
    assert!(one
        .facets
        .source
        .iter()
        .any(|f| f.value.as_deref() == Some("Alignment Forum")));
    assert!(one
        .facets
        .topic
        .iter()
        .any(|f| f.value.as_deref() == Some("uniform-convergence")));
    // year buckets by default, in date order
    let years: Vec<_> = all
        .facets
        .date
        .iter()
        .filter_map(|f| f.value.as_deref())
        .collect();
    assert!(
        years.contains(&"2019") && years.windows(2).all(|w| w[0] < w[1]),
        "{years:?}"
    );
    let months = query(&fx, &["uniform", "--date-bucket", "month"]);
    assert!(
        months
            .facets
            .date
            .iter()
            .any(|f| f.value.as_deref() == Some("2019-03")),
        "{:?}",
        months.facets.date
    );
}

#[test]
fn phrases_and_exclusions_narrow_the_matches() {
    let fx = indexed();
    let phrase = query(&fx, &["\"uniform convergence\"", "--limit", "50"]);
    assert!(!phrase.hits.is_empty());
    assert!(phrase
        .hits
        .iter()
        .all(|h| !h.text.contains("Uniform priors")));
    let loose = query(&fx, &["uniform convergence", "--limit", "50"]);
    assert!(loose.total > phrase.total);

    let excluded = query(&fx, &["uniform -priors", "--limit", "50"]);
    assert!(!excluded.hits.is_empty());
    assert!(excluded.hits.iter().all(|h| !h.text.contains("priors")));
    let with = query(&fx, &["uniform", "--limit", "50"]);
    assert!(with.hits.iter().any(|h| h.text.contains("priors")));
}

#[test]
fn filters_combine_and_are_case_insensitive() {
    let fx = indexed();
    let lw = query(&fx, &["bounds", "--source", "lesswrong"]);
    assert!(!lw.hits.is_empty());
    assert!(lw
        .hits
        .iter()
        .all(|h| h.source.as_deref() == Some("LessWrong")));
    assert_eq!(
        lw.facets.source,
        vec![FacetCount {
            value: Some("LessWrong".into()),
            count: lw.total as u64
        }]
    );

    let two = query(
        &fx,
        &[
            "*",
            "--source",
            "LessWrong",
            "--source",
            "arXiv",
            "--limit",
            "100",
        ],
    );
    let sources: std::collections::BTreeSet<_> =
        two.hits.iter().filter_map(|h| h.source.clone()).collect();
    assert_eq!(
        sources.into_iter().collect::<Vec<_>>(),
        ["LessWrong", "arXiv"]
    );

    let quotes = query(&fx, &["*", "--kind", "quote", "--limit", "100"]);
    assert_eq!(quotes.total, 3);
    assert!(quotes.hits.iter().any(|h| h.truncated));

    let topic = query(&fx, &["*", "--topic", "pac-bayes", "--kind", "claim"]);
    assert_eq!(topic.total, 2);

    let recent = query(
        &fx,
        &[
            "*",
            "--since",
            "2022-01-01",
            "--until",
            "2024-12-31",
            "--limit",
            "100",
        ],
    );
    assert!(!recent.hits.is_empty());
    assert!(recent.hits.iter().all(|h| h
        .date
        .as_deref()
        .is_some_and(|d| ("2022-01-01"..="2024-12-31").contains(&d))));

    let by = query(&fx, &["*", "--author", "ada lovelace", "--limit", "100"]);
    assert_eq!(
        by.total, 5,
        "3 claims, 2 quotes and no summary: {:?}",
        by.hits
    );
}

#[test]
fn only_the_newest_thread_version_is_shown_unless_asked() {
    let fx = indexed();
    let newest = query(&fx, &["workshop", "--kind", "event"]);
    assert_eq!(newest.total, 1);
    assert_eq!(newest.hits[0].version, Some(2));
    assert_eq!(newest.hits[0].thread.as_deref(), Some("Is Theory Broken"));
    assert_eq!(
        newest.hits[0].source, None,
        "thread records are the tracker's own synthesis"
    );
    assert_eq!(newest.hits[0].date.as_deref(), Some("2019-01-01"));
    // [2] in version 2 is the Alignment Forum post: citations resolve per page.
    assert_eq!(newest.hits[0].cites.len(), 1);
    assert_eq!(newest.hits[0].cites[0].title, "Uniform bounds revisited");
    assert_eq!(newest.hits[0].cites[0].date.as_deref(), Some("2019-03-01"));

    let all = query(&fx, &["workshop", "--kind", "event", "--all-versions"]);
    let mut versions: Vec<_> = all.hits.iter().map(|h| h.version).collect();
    versions.sort();
    assert_eq!(versions, [Some(1), Some(2)]);

    let thread = query(
        &fx,
        &["*", "--thread", "is theory broken", "--limit", "100"],
    );
    assert!(
        thread
            .hits
            .iter()
            .any(|h| h.item_id.as_deref() == Some("tim-1")),
        "items appearing in the thread"
    );
    assert!(thread.hits.iter().all(|h| h.version.is_none_or(|v| v == 2)));
}

#[test]
fn english_stemming_and_item_ids_round_trip() {
    let fx = indexed();
    let stem = query(&fx, &["interpolate"]);
    assert!(stem
        .hits
        .iter()
        .any(|h| h.text.starts_with("Interpolating classifiers")));
    let scaling = query(&fx, &["scaling laws"]);
    let hit = &scaling.hits[0];
    assert_eq!(hit.item_id.as_deref(), Some("tim-1"));
    assert_eq!(hit.author.as_deref(), Some("B. Riemann"));
    assert_eq!(hit.date.as_deref(), Some("2024-05-05"));
    assert!(hit.snippet.contains("<b>"), "{}", hit.snippet);
}

#[test]
fn snippets_mark_terms_around_escaped_text() {
    let fx = Fixture::new();
    fx.write(
        "a.txt",
        extraction(
            "T",
            "Blog · 2020-01-01",
            "x",
            &["Bounds <b>& uniform</b> convergence"],
            &["q"],
        ),
    );
    fx.ok(&["index"]);
    let r = query(&fx, &["uniform"]);
    assert_eq!(
        r.hits[0].snippet,
        "Bounds &lt;b&gt;&amp; <b>uniform</b>&lt;/b&gt; convergence"
    );
}

#[test]
fn bad_queries_and_bad_values_exit_2_with_one_line() {
    let fx = indexed();
    for args in [
        vec!["query", "kind:bogus"],
        vec!["query", ""],
        vec!["query", "x", "--since", "2020-13-01"],
        vec!["query", "x", "--kind", "claims"],
        vec!["query", "x", "--limit", "0"],
        vec![
            "query",
            "x",
            "--since",
            "2021-01-01",
            "--until",
            "2020-01-01",
        ],
    ] {
        let run = fx.run(&args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    }
    let run = fx.run(&["query", "kind:bogus"]);
    assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);
    // A name that is no field is text, not an error.
    assert_eq!(fx.run(&["query", "nosuchfield:foo"]).code, 0);
}

#[test]
fn a_query_without_an_index_builds_it_first() {
    let fx = corpus();
    let run = fx.ok(&["query", "grokking"]);
    assert!(run.stderr.contains("building it from"), "{}", run.stderr);
    assert!(
        run.stdout
            .contains("Grokking diary — Substack · 2023-02-02"),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains('\x1b'),
        "no colour when not a terminal"
    );
    assert!(run.stdout.contains("1 matches"), "{}", run.stdout);
    let again = fx.ok(&["query", "grokking"]);
    assert!(!again.stderr.contains("building"), "{}", again.stderr);
}

#[test]
fn stats_count_what_the_index_holds() {
    let fx = corpus();
    assert_eq!(fx.run(&["stats"]).code, 1, "no index yet");
    fx.ok(&["index"]);
    let run = fx.ok(&["stats", "--json"]);
    let stats: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(stats["pages"], 6);
    assert_eq!(stats["first_date"], "2019-01-01");
    assert_eq!(stats["last_date"], "2026-05-09");
    assert!(stats["records"].as_u64().unwrap() >= 20);
    assert!(stats["index_bytes"].as_u64().unwrap() > 0);
    assert!(fx.ok(&["stats"]).stdout.contains("records"));
}

#[test]
fn a_missing_corpus_is_an_error_naming_it() {
    let fx = Fixture::new();
    std::fs::remove_dir(fx.corpus()).unwrap();
    let run = fx.run(&["index"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("corpus"), "{}", run.stderr);
}

#[test]
fn an_index_of_another_version_names_the_command_that_rebuilds_it() {
    let fx = corpus();
    crate::util::index_of_another_version(&fx.index());
    let run = fx.run(&["query", "uniform"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("built by another version of claimsearch")
            && run.stderr.contains("`claimsearch index`"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains('\n') || run.stderr.lines().count() == 1);
    // `index` rebuilds it in place, and so does `reindex`.
    fx.ok(&["index"]);
    assert!(query(&fx, &["uniform"]).total > 0);
    crate::util::index_of_another_version(&fx.index());
    let rebuilt = fx.ok(&["reindex", "--json"]);
    assert!(
        rebuilt.stdout.contains(r#""rebuilt":true"#),
        "{}",
        rebuilt.stdout
    );
    assert!(query(&fx, &["uniform"]).total > 0);
}
