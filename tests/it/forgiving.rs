//! Forgiving, consistent queries: spelling variants and typos, text that
//! looks like syntax, one result set per query however it is paged, facets
//! that add up, scores without hidden constants, partial dates, filter
//! values the index lacks, threads by slug, and a mistyped `--index`.

use std::collections::HashSet;

use crate::contract::*;
use crate::util::{extraction, Fixture};

const THREAD: &str = "Can uniform convergence explain generalization? · history
Version 1
2026-04-20 10:00 UTC · 2 items
Narrative
Skeptics say lattice arguments cannot rescue uniform convergence [1].
Timeline
- 2019-06-12: A lattice counterexample to uniform convergence circulates. [1]
Sources
- [1] Memorization notes — arXiv (2019-03-01)
";

fn corpus() -> Fixture {
    let fx = Fixture::new();
    fx.write(
        "items/2019/memorization.txt",
        extraction(
            "Memorization notes",
            "arXiv · Ada Lovelace · 2019-03-01",
            "memorization, grokking",
            &[
                "Memorization of random labels precedes generalization in small networks.",
                "Grokking appears long after the training loss flattens.",
                "The proof is in arXiv 1902.04742, section three.",
            ],
            &["A favourable prior speeds up grokking considerably."],
        ),
    );
    fx.write(
        "items/2020/priors.txt",
        extraction(
            "Priors that help",
            "ICML · 2020-07-15",
            "pac-bayes",
            &["A favorable prior tightens the bound."],
            &[],
        ),
    );
    // Twelve records with both words, five with only the first.
    let both: Vec<String> = (1..=12)
        .map(|n| format!("Lattice spectral result number {n} holds."))
        .collect();
    let one: Vec<String> = (1..=5)
        .map(|n| format!("Lattice result number {n} is unrelated."))
        .collect();
    let claims: Vec<&str> = both.iter().chain(&one).map(String::as_str).collect();
    fx.write(
        "items/2021/lattice.txt",
        extraction(
            "Lattice notes",
            "NeurIPS · 2021-12-01",
            "lattices",
            &claims,
            &[],
        ),
    );
    fx.write(
        "threads/can-uniform-convergence-explain-generalization/v1.txt",
        THREAD,
    );
    fx.ok(&["index"]);
    fx
}

fn query(fx: &Fixture, args: &[&str]) -> Response {
    let mut all = vec!["query", "--json"];
    all.extend_from_slice(args);
    let run = fx.ok(&all);
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("bad JSON ({e}): {}", run.stdout))
}

fn ids(response: &Response) -> Vec<String> {
    response.hits.iter().map(|h| h.id.clone()).collect()
}

#[test]
fn british_and_american_spellings_find_the_same_records() {
    let fx = corpus();
    for (british, american) in [
        ("memorisation", "memorization"),
        ("favourable", "favorable"),
    ] {
        let b = query(&fx, &[british, "--limit", "50"]);
        let a = query(&fx, &[american, "--limit", "50"]);
        assert!(b.total >= 1, "{british}");
        assert_eq!(ids(&b), ids(&a), "{british} / {american}");
        assert!(b.corrections.is_empty(), "{:?}", b.corrections);
    }
    // Both spellings of favourable are in the corpus: one query finds both.
    assert_eq!(query(&fx, &["favorable"]).total, 2);
}

#[test]
fn a_misspelled_word_finds_the_word_and_says_so() {
    let fx = corpus();
    let typo = query(&fx, &["grokkng"]);
    assert_eq!(
        typo.corrections,
        [Correction {
            from: "grokkng".into(),
            to: "grokking".into()
        }]
    );
    assert_eq!(ids(&typo), ids(&query(&fx, &["grokking"])));
    assert!(typo.total >= 2);
    let run = fx.ok(&["query", "grokkng"]);
    assert!(
        run.stdout.starts_with("showing results for grokking\n"),
        "{}",
        run.stdout
    );
    // Short words, words as typed, phrases and fields are left alone.
    for text in ["grokking", "\"grokkng\"", "title:grokkng", "gro"] {
        assert!(query(&fx, &[text]).corrections.is_empty(), "{text}");
    }
}

#[test]
fn unknown_fields_are_words_and_broken_syntax_is_searched_leniently() {
    let fx = corpus();
    let arxiv = query(&fx, &["arXiv:1902.04742"]);
    assert_eq!(
        arxiv.hits[0].text,
        "The proof is in arXiv 1902.04742, section three."
    );
    assert!(arxiv.warnings.is_empty(), "{:?}", arxiv.warnings);
    let note = query(&fx, &["Note: grokking"]);
    assert!(note.total >= 1, "{note:?}");
    for text in [
        "\"unbalanced grokking",
        "(grokking",
        "grokking AND",
        "grokking OR",
    ] {
        let run = fx.run(&["query", "--json", text]);
        assert_eq!(run.code, 0, "{text}: {}", run.stderr);
        let response: Response = serde_json::from_str(&run.stdout).unwrap();
        assert!(response.total >= 1, "{text}");
        assert!(!response.warnings.is_empty(), "{text}");
        assert!(
            response.warnings.iter().all(|w| w.contains("at character")),
            "{text}: {:?}",
            response.warnings
        );
        let human = fx.ok(&["query", text]);
        assert!(
            human.stdout.starts_with("note: "),
            "{text}: {}",
            human.stdout
        );
    }
}

#[test]
fn queries_of_stop_words_or_punctuation_say_so() {
    let fx = corpus();
    let run = fx.run(&["query", "the of and"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("every word of the query is a stop word"),
        "{}",
        run.stderr
    );
    let run = fx.run(&["query", "OR"]);
    assert!(run.stderr.contains("stop word"), "{}", run.stderr);
    for text in ["?!", "...", "()"] {
        let run = fx.run(&["query", text]);
        assert_eq!(run.code, 2, "{text}");
        assert!(run.stderr.contains("no words"), "{text}: {}", run.stderr);
        assert!(!run.stderr.contains("Syntax Error"), "{}", run.stderr);
    }
}

/// Pages through `text` two hits at a time: every page has the same total,
/// relaxed and facets, and the pages together are the whole result once.
fn paged(fx: &Fixture, text: &str) -> Response {
    let whole = query(fx, &[text, "--limit", "100"]);
    let mut seen = Vec::new();
    let mut offset = 0;
    while offset < whole.total {
        let page = query(fx, &[text, "--limit", "2", "--offset", &offset.to_string()]);
        assert_eq!(page.total, whole.total, "offset {offset}");
        assert_eq!(page.relaxed, whole.relaxed, "offset {offset}");
        assert_eq!(page.facets, whole.facets, "offset {offset}");
        seen.extend(ids(&page));
        offset += 2;
    }
    assert_eq!(seen.len(), whole.total);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), whole.total);
    assert_eq!(seen, ids(&whole));
    whole
}

#[test]
fn one_result_set_per_query_whatever_the_page() {
    let fx = corpus();
    // Fewer than ten records have both words: those with either match too,
    // on every page alike (the first page used to count only the two).
    let relaxed = paged(&fx, "uniform lattice");
    assert!(relaxed.relaxed);
    assert_eq!(
        relaxed.total,
        query(&fx, &["uniform OR lattice", "--limit", "1"]).total
    );
    // Twelve records have both words: they are the matches, on every page.
    let strict = paged(&fx, "lattice spectral");
    assert!(!strict.relaxed);
    assert_eq!(strict.total, 12);
    let past = fx.ok(&["query", "lattice spectral", "--offset", "12"]);
    assert!(
        past.stdout
            .contains("offset 12 is past the last of 12 matches"),
        "{}",
        past.stdout
    );
}

#[test]
fn scores_are_bm25f_scores_with_every_word_first() {
    let fx = corpus();
    let response = query(&fx, &["uniform lattice", "--limit", "100"]);
    let both = |h: &Hit| {
        let text = format!("{} {} {}", h.text, h.title, h.topics.join(" ")).to_lowercase();
        text.contains("uniform") && text.contains("lattice")
    };
    let first_partial = response.hits.iter().position(|h| !both(h)).unwrap();
    assert!(first_partial >= 1);
    assert!(response.hits[first_partial..].iter().all(|h| !both(h)));
    assert!(
        response
            .hits
            .iter()
            .all(|h| h.score > 0.0 && h.score < 100.0),
        "{:?}",
        response.hits.iter().map(|h| h.score).collect::<Vec<_>>()
    );
}

#[test]
fn every_facet_adds_up_to_the_total_through_a_null_bucket() {
    let fx = corpus();
    let response = query(&fx, &["uniform OR lattice OR grokking", "--limit", "1"]);
    let facets = &response.facets;
    for (name, facet) in [
        ("source", &facets.source),
        ("kind", &facets.kind),
        ("date", &facets.date),
    ] {
        let sum: u64 = facet.iter().map(|f| f.count).sum();
        assert_eq!(sum as usize, response.total, "{name}: {facet:?}");
    }
    // Thread records have no source: a null bucket, listed last.
    let last = facets.source.last().unwrap();
    assert_eq!(last.value, None);
    assert!(facets.source[..facets.source.len() - 1]
        .iter()
        .all(|f| f.value.is_some()));
    let run = fx.ok(&["query", "uniform OR lattice OR grokking"]);
    assert!(run.stdout.contains("(none) "), "{}", run.stdout);
}

#[test]
fn a_kind_in_the_query_is_checked_like_the_kind_option() {
    let fx = corpus();
    let option = fx.run(&["query", "grokking", "--kind", "bogus"]);
    let field = fx.run(&["query", "kind:bogus"]);
    assert_eq!((option.code, field.code), (2, 2));
    for run in [&option, &field] {
        assert!(
            run.stderr.contains("unknown kind 'bogus' (one of: claim"),
            "{}",
            run.stderr
        );
    }
    assert!(query(&fx, &["kind:quote"]).total >= 1);
}

#[test]
fn a_year_or_a_month_means_its_whole_span() {
    let fx = corpus();
    let until = query(&fx, &["*", "--until", "2019", "--limit", "100"]);
    assert!(until.total >= 1);
    assert!(until
        .hits
        .iter()
        .all(|h| h.date.as_deref() <= Some("2019-12-31")));
    assert!(until
        .hits
        .iter()
        .any(|h| h.date.as_deref() == Some("2019-06-12")));
    let since = query(
        &fx,
        &[
            "*", "--since", "2019-06", "--until", "2019-06", "--limit", "100",
        ],
    );
    assert!(since.total >= 1);
    assert!(since
        .hits
        .iter()
        .all(|h| h.date.as_deref() == Some("2019-06-12")));
    let bad = fx.run(&["query", "*", "--since", "2019-13"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("YYYY-MM"), "{}", bad.stderr);
}

#[test]
fn everything_is_listed_newest_first() {
    let fx = corpus();
    let all = query(&fx, &["*", "--limit", "100"]);
    let dates: Vec<&str> = all.hits.iter().filter_map(|h| h.date.as_deref()).collect();
    assert_eq!(dates.len(), all.total);
    assert!(dates.windows(2).all(|w| w[0] >= w[1]), "{dates:?}");
    assert_eq!(dates[0], "2026-04-20");
}

#[test]
fn a_filter_value_the_index_lacks_names_the_nearest_ones() {
    let fx = corpus();
    let run = fx.run(&["query", "grokking", "--source", "arxvi"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("no record has the source 'arxvi' (nearest: arXiv"),
        "{}",
        run.stderr
    );
    let run = fx.run(&["query", "grokking", "--topic", "grokkin"]);
    assert!(run.stderr.contains("(nearest: grokking"), "{}", run.stderr);
    // Known values in any case are fine.
    assert!(query(&fx, &["grokking", "--source", "ARXIV"]).total >= 1);
}

#[test]
fn a_thread_is_found_by_its_slug_as_well_as_its_title() {
    let fx = corpus();
    let title = query(
        &fx,
        &[
            "*",
            "--thread",
            "Can uniform convergence explain generalization?",
        ],
    );
    let slug = query(
        &fx,
        &[
            "*",
            "--thread",
            "can-uniform-convergence-explain-generalization",
        ],
    );
    assert!(title.total >= 2, "{title:?}");
    assert_eq!(ids(&title), ids(&slug));
}

#[test]
fn a_missing_index_named_on_the_command_line_is_an_error() {
    let fx = corpus();
    let run = fx.run(&["query", "grokking", "--index", "typo"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("no index at typo"), "{}", run.stderr);
    assert!(!fx.path().join("typo").exists(), "nothing was built");
}
