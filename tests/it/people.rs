//! Authors as people: bylines split into authors, found by full or last name whatever the
//! case or accents, counted in the author facet, carried by hits, export and the library;
//! and a bad date on the meta line that no longer costs the item its source and author.

use claimsearch::{Index, SearchRequest};

use crate::contract::*;
use crate::util::{extraction, Fixture};

fn corpus() -> Fixture {
    let fx = Fixture::new();
    fx.write(
        "items/uniform.txt",
        extraction(
            "Uniform bounds fall short",
            "arXiv · Vaishnavh Nagarajan, J. Zico Kolter · 2019-02-13",
            "uniform-convergence",
            &[
                "Bounds built on uniform convergence grow with the training set in the cases studied.",
                "Even the tightest two-sided bound stays vacuous for an overparameterized linear model.",
            ],
            &["The bound moves the wrong way as data grows."],
        ),
    );
    fx.write(
        "items/convex.txt",
        extraction(
            "Smoothness from width",
            "arXiv · Sébastien Bubeck & Ronen Eldan · 2021-05-01",
            "overparameterization",
            &["Smooth interpolation needs many more parameters than plain interpolation."],
            &[],
        ),
    );
    fx.write(
        "items/stability.txt",
        extraction(
            "Long tails and what is remembered",
            "NeurIPS · Feldman, V. · 2020-06-01",
            "memorization",
            &["Remembering rare examples can be needed to do well on a long-tailed task."],
            &[],
        ),
    );
    fx.write(
        "items/lawrence.txt",
        extraction(
            "The paper that ended a theory",
            "Alignment Forum · LawrenceC · 2026-04-26",
            "deep-learning-theory",
            &["Random labels can be fitted by the same networks that generalize on true ones."],
            &[],
        ),
    );
    fx.write(
        "feeds/items.jsonl",
        concat!(
            r#"{"id": "pb-1", "title": "Derandomized bounds", "source": "arXiv", "author": "Gintare Karolina Dziugaitė, Jeffrey Negrea et al.", "date": "2019-12-09", "claims": ["A surrogate predictor can rescue a uniform convergence argument."]}"#,
            "\n",
            r#"{"id": "pb-2", "title": "Flat regions", "source": "arXiv", "author": "Ronen Eldan", "date": "2022-01-01", "claims": ["Flat regions of the loss are found by noisy descent."]}"#,
            "\n"
        ),
    );
    fx.write(
        "items/bad-date.txt",
        extraction(
            "An item with a bad date",
            "arXiv · Someone Careful · 2026-13-45",
            "dates",
            &["Calendars have twelve months."],
            &[],
        ),
    );
    fx.ok(&["index"]);
    fx
}

fn query(fx: &Fixture, args: &[&str]) -> Response {
    let mut all = vec!["query", "--json", "--limit", "100"];
    all.extend_from_slice(args);
    let run = fx.ok(&all);
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("bad JSON ({e}): {}", run.stdout))
}

/// The titles of the hits, sorted and deduplicated.
fn titles(response: &Response) -> Vec<String> {
    let mut titles: Vec<String> = response.hits.iter().map(|h| h.title.clone()).collect();
    titles.sort();
    titles.dedup();
    titles
}

#[test]
fn one_author_of_a_byline_is_found_by_full_or_last_name_in_any_case_or_accent() {
    let fx = corpus();
    let uniform = ["Uniform bounds fall short"];
    for author in [
        "Vaishnavh Nagarajan",
        "Nagarajan",
        "nagarajan",
        "NAGARAJAN",
        "J. Zico Kolter",
    ] {
        let response = query(&fx, &["*", "--author", author]);
        assert_eq!(titles(&response), uniform, "--author {author}");
        assert_eq!(response.total, 3, "--author {author}");
    }
    // The whole byline, as before.
    let whole = query(
        &fx,
        &["*", "--author", "Vaishnavh Nagarajan, J. Zico Kolter"],
    );
    assert_eq!(titles(&whole), uniform);
    // Accents: either way round.
    for author in ["Sebastien Bubeck", "sébastien bubeck", "Bubeck"] {
        let response = query(&fx, &["*", "--author", author]);
        assert_eq!(
            titles(&response),
            ["Smoothness from width"],
            "--author {author}"
        );
    }
    for author in ["dziugaite", "Gintare Karolina Dziugaite", "Negrea"] {
        let response = query(&fx, &["*", "--author", author]);
        assert_eq!(
            titles(&response),
            ["Derandomized bounds"],
            "--author {author}"
        );
    }
    // A handle, and a "Surname, J." byline by its surname.
    assert_eq!(
        titles(&query(&fx, &["*", "--author", "lawrencec"])),
        ["The paper that ended a theory"]
    );
    assert_eq!(
        titles(&query(&fx, &["*", "--author", "Feldman"])),
        ["Long tails and what is remembered"]
    );
    // Not a name part: no match, and no error.
    assert_eq!(query(&fx, &["*", "--author", "Zico"]).total, 0);
    assert_eq!(query(&fx, &["*", "--author", "Nagaraj"]).total, 0);
}

#[test]
fn repeated_authors_combine_with_or_and_the_query_syntax_matches_the_same_way() {
    let fx = corpus();
    let both = query(&fx, &["*", "--author", "Nagarajan", "--author", "Bubeck"]);
    assert_eq!(
        titles(&both),
        ["Smoothness from width", "Uniform bounds fall short"]
    );
    // Ronen Eldan wrote two items: one page and one JSON Lines line.
    assert_eq!(
        titles(&query(&fx, &["*", "--author", "ELDAN"])),
        ["Flat regions", "Smoothness from width"]
    );
    for q in [
        "author:Nagarajan",
        "author:\"J. Zico Kolter\"",
        "author:nagarajan AND bound",
    ] {
        assert_eq!(
            titles(&query(&fx, &[q])),
            ["Uniform bounds fall short"],
            "{q}"
        );
    }
    assert_eq!(
        titles(&query(&fx, &["author:\"Sebastien Bubeck\""])),
        ["Smoothness from width"]
    );
    // Filters still combine with AND.
    let none = query(&fx, &["*", "--author", "Nagarajan", "--source", "NeurIPS"]);
    assert_eq!(none.total, 0);
}

#[test]
fn hits_and_export_carry_the_authors_beside_the_byline() {
    let fx = corpus();
    let response = query(&fx, &["*", "--author", "Kolter"]);
    for hit in &response.hits {
        assert_eq!(
            hit.author.as_deref(),
            Some("Vaishnavh Nagarajan, J. Zico Kolter")
        );
        assert_eq!(hit.authors, ["Vaishnavh Nagarajan", "J. Zico Kolter"]);
    }
    let dziugaite = query(&fx, &["*", "--author", "Negrea"]);
    assert_eq!(
        dziugaite.hits[0].authors,
        ["Gintare Karolina Dziugaitė", "Jeffrey Negrea"]
    );
    assert_eq!(
        dziugaite.hits[0].author.as_deref(),
        Some("Gintare Karolina Dziugaitė, Jeffrey Negrea et al.")
    );
    let export = fx.ok(&["export"]);
    let mut seen = 0;
    for line in export.stdout.lines() {
        let record: Exported = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        match record.author.as_deref() {
            Some("Feldman, V.") => {
                assert_eq!(record.authors, ["Feldman, V."]);
                seen += 1;
            }
            None => assert!(record.authors.is_empty(), "{line}"),
            Some(_) => assert!(!record.authors.is_empty(), "{line}"),
        }
    }
    assert_eq!(seen, 1);
}

#[test]
fn the_author_facet_counts_people_not_bylines() {
    let fx = corpus();
    let response = query(&fx, &["*"]);
    // Records without an author are the null bucket, last (not listed here).
    let facet: Vec<(&str, u64)> = (response.facets.author.iter())
        .filter_map(|f| Some((f.value.as_deref()?, f.count)))
        .collect();
    // Count descending, then name: Nagarajan and Kolter have three records each; Eldan two
    // (one on each of his items); everyone else one.
    assert_eq!(
        facet,
        [
            ("J. Zico Kolter", 3),
            ("Vaishnavh Nagarajan", 3),
            ("Ronen Eldan", 2),
            ("Feldman, V.", 1),
            ("Gintare Karolina Dziugaitė", 1),
            ("Jeffrey Negrea", 1),
            ("LawrenceC", 1),
            ("Someone Careful", 1),
            ("Sébastien Bubeck", 1),
        ]
    );
    // After a filter, only the matching records count.
    let filtered = query(&fx, &["*", "--author", "Eldan"]);
    let names: Vec<&str> = filtered
        .facets
        .author
        .iter()
        .filter_map(|f| f.value.as_deref())
        .collect();
    assert_eq!(names, ["Ronen Eldan", "Sébastien Bubeck"]);
    // The terminal shows it too.
    let run = fx.ok(&["query", "*", "--author", "Eldan"]);
    assert!(
        run.stdout
            .contains("author Ronen Eldan 2 · Sébastien Bubeck 1"),
        "{}",
        run.stdout
    );
}

#[test]
fn the_library_filters_by_author_and_returns_authors() {
    let fx = corpus();
    let index = Index::open(fx.index()).unwrap();
    let request = SearchRequest {
        authors: vec!["dziugaite".into(), "lawrencec".into()],
        ..SearchRequest::new("*")
    };
    let response = index.search(&request).unwrap();
    assert_eq!(response.total, 2);
    let mut authors: Vec<Vec<String>> = response
        .hits
        .iter()
        .map(|h| h.record.authors.clone())
        .collect();
    authors.sort();
    assert_eq!(
        authors,
        [
            vec![
                "Gintare Karolina Dziugaitė".to_string(),
                "Jeffrey Negrea".to_string()
            ],
            vec!["LawrenceC".to_string()],
        ]
    );
}

#[test]
fn a_bad_date_keeps_source_and_author_with_a_warning_naming_file_and_line() {
    let fx = Fixture::new();
    fx.write(
        "items/bad-date.txt",
        extraction(
            "An item with a bad date",
            "arXiv · Someone · 2026-13-45",
            "dates",
            &["Calendars have twelve months."],
            &[],
        ),
    );
    let run = fx.ok(&["index", "--json"]);
    let summary: IndexSummary = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(summary.warnings.len(), 1, "{:?}", summary.warnings);
    let warning = &summary.warnings[0];
    assert_eq!(warning.path, "items/bad-date.txt");
    // util::extraction puts the meta line fifth, after the site header, the title and blanks.
    assert_eq!(warning.line, Some(5));
    assert!(
        warning.message.contains("2026-13-45"),
        "{}",
        warning.message
    );
    assert!(
        run.stderr.contains("items/bad-date.txt:5"),
        "{}",
        run.stderr
    );
    let response = query(&fx, &["calendars"]);
    assert_eq!(response.total, 1);
    let hit = &response.hits[0];
    assert_eq!(hit.kind, "claim");
    assert_eq!(hit.source.as_deref(), Some("arXiv"));
    assert_eq!(hit.author.as_deref(), Some("Someone"));
    assert_eq!(hit.authors, ["Someone"]);
    assert_eq!(hit.date, None);
    // The meta line did not become a summary record.
    assert_eq!(query(&fx, &["*", "--kind", "summary"]).total, 0);
}
