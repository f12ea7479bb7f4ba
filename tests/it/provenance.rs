//! Quotes traced to their source text: at `index` time every quote is looked
//! up in the corpus's raw text, and `reindex` keeps that right when either
//! side changes (each scenario ends equal to a clean `index`).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use claimsearch::model::{FoundIn, Kind, Record};
use claimsearch::{ingest, Index};

use crate::util::{extraction, seeds_dir, Fixture};

/// Every record the index holds, by id.
fn records(index: &Path) -> BTreeMap<String, Record> {
    let index = Index::open(index).expect("open index");
    let mut all = BTreeMap::new();
    index
        .for_each_record(|r| {
            assert!(all.insert(r.id.clone(), r).is_none(), "a record twice");
            Ok(())
        })
        .unwrap();
    all
}

/// The raw texts each quote was found in, by quote id.
fn found(index: &Path) -> BTreeMap<String, Vec<FoundIn>> {
    (records(index).into_values())
        .filter(|r| r.kind == Kind::Quote)
        .map(|r| (r.id, r.found_in.expect("a quote has found_in")))
        .collect()
}

fn at(path: &str, title: &str) -> FoundIn {
    FoundIn {
        path: path.into(),
        title: title.into(),
    }
}

fn build(fx: &Fixture) {
    age(&fx.corpus());
    Index::ingest(&fx.corpus(), &fx.index(), &|_| {}).expect("index");
}

fn reindex(fx: &Fixture) -> ingest::ReindexReport {
    if !fx.path().join("fresh").exists() {
        age(&fx.corpus());
    }
    // Waits for the writer lock: a process another test starts between its
    // fork and its exec holds a copy of every descriptor open in this test
    // process, the lock file's of the run before this one too, and on a
    // loaded machine that lasts long enough to find the index busy.
    Index::reindex(&fx.corpus(), &fx.index(), Duration::from_secs(30), &|_| {}).expect("reindex")
}

/// Dates every file of the corpus written since the last call an hour back, so that `reindex` trusts
/// the times of the files it has seen and reads only what changed (a file
/// written within the last two seconds is always read again).
fn age(dir: &Path) {
    let past = std::time::SystemTime::now() - Duration::from_secs(3600);
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            age(&path);
        } else if path.metadata().unwrap().modified().unwrap() > past + Duration::from_secs(60) {
            let file = std::fs::File::options().write(true).open(&path).unwrap();
            file.set_modified(past).unwrap();
        }
    }
}

/// The index equals a clean build of the same corpus, record for record.
fn assert_equals_clean_build(fx: &Fixture) {
    let clean = fx.path().join("clean-index");
    let _ = std::fs::remove_dir_all(&clean);
    Index::ingest(&fx.corpus(), &clean, &|_| {}).expect("clean index");
    assert_eq!(records(&fx.index()), records(&clean));
}

const KITES: &str = "Kites stay aloft only while the wind holds steady, and a gust can undo an hour of patient flying.";

fn kite_page(quotes: &[&str]) -> String {
    extraction(
        "Notes on kites",
        "Sky Blog · Lee Park · 2024-05-01",
        "kites",
        &["Kites need steady wind."],
        quotes,
    )
}

/// The raw text the kite quotes come from: typographic quotes and dashes,
/// hard-wrapped lines.
const KITE_POST: &str = "Flying kites in the valley\n\n\
    I learned this the hard way: “kites stay aloft only while the wind\n\
    holds steady, and a gust can undo an hour of patient flying.”\n\
    The best days are in late spring — the air is calm\n\
    and the fields are empty.\n\n\
    Nobody I know flies kites in a storm.\n";

#[test]
fn seed_004s_quotes_are_found_in_seed_002() {
    let Some(seeds) = seeds_dir() else {
        return;
    };
    let fx = Fixture::new();
    for entry in std::fs::read_dir(&seeds).unwrap() {
        let entry = entry.unwrap();
        fx.write(
            entry.file_name().to_str().unwrap(),
            std::fs::read(entry.path()).unwrap(),
        );
    }
    build(&fx);
    let all = records(&fx.index());
    let quotes: Vec<&Record> = (all.values())
        .filter(|r| r.kind == Kind::Quote && r.path.starts_with("004"))
        .collect();
    assert_eq!(quotes.len(), 3);
    assert!(quotes[2].truncated);
    let post = at("002_c86f267df4bde7d7.txt", "002_c86f267df4bde7d7");
    for quote in &quotes {
        assert_eq!(quote.found_in, Some(vec![post.clone()]), "{}", quote.text);
    }
    // only quotes are traced
    assert!(all
        .values()
        .filter(|r| r.kind != Kind::Quote)
        .all(|r| r.found_in.is_none()));
}

#[test]
fn typography_and_line_breaks_do_not_hide_a_quote_and_a_quote_held_nowhere_is_not_found() {
    let fx = Fixture::new();
    let straight = "\"Kites stay aloft only while the wind holds steady...\"";
    let dashes = "The best days are in late spring -- the air is calm and the fields are empty.";
    let nowhere = "Kites stay aloft only while the wind holds gusty.";
    fx.write(
        "items/kites.txt",
        kite_page(&[straight, KITES, dashes, nowhere]),
    );
    fx.write("raw/valley.txt", KITE_POST);
    build(&fx);
    let post = at("raw/valley.txt", "Flying kites in the valley");
    let found = found(&fx.index());
    let got: Vec<&Vec<FoundIn>> = found.values().collect();
    assert_eq!(
        got,
        [
            &vec![post.clone()],
            &vec![post.clone()],
            &vec![post.clone()],
            &vec![]
        ]
    );
}

#[test]
fn a_json_lines_items_text_is_raw_text_for_its_own_and_other_quotes() {
    let fx = Fixture::new();
    let text = KITE_POST.replace('\n', "\\n").replace('"', "\\\"");
    fx.write(
        "feeds/items.jsonl",
        format!(
            "{{\"title\":\"Valley post\",\"text\":\"{text}\",\"quotes\":[\"Nobody I know flies kites in a storm.\"]}}\n\
             {{\"title\":\"Other\",\"quotes\":[\"the air is calm and the fields are empty\",\"Nothing like this is written.\"]}}\n"
        ),
    );
    fx.write("items/kites.txt", kite_page(&[KITES]));
    build(&fx);
    let post = at("feeds/items.jsonl", "Valley post");
    let found = found(&fx.index());
    assert_eq!(found["feeds/items.jsonl#1/quote-1"], vec![post.clone()]);
    assert_eq!(found["feeds/items.jsonl#2/quote-1"], vec![post.clone()]);
    assert_eq!(found["feeds/items.jsonl#2/quote-2"], []);
    assert_eq!(found["items/kites.txt#quote-1"], [post]);
    // the item's text is searchable as passages of the item
    let all = records(&fx.index());
    let passage = &all["feeds/items.jsonl#1/passage-3"];
    assert_eq!(passage.kind, Kind::Passage);
    assert_eq!(passage.title, "Valley post");
    assert_eq!(passage.text, "Nobody I know flies kites in a storm.");
}

#[test]
fn reindex_verifies_when_raw_text_arrives_and_unverifies_when_it_goes() {
    arrives_and_goes(Fixture::new());
    // again with every file too recent for its time to be trusted: each run
    // reads every page, and the unchanged ones must still count
    let fx = Fixture::new();
    std::fs::write(fx.path().join("fresh"), "").unwrap();
    arrives_and_goes(fx);
}

fn arrives_and_goes(fx: Fixture) {
    fx.write("items/kites.txt", kite_page(&[KITES]));
    fx.write(
        "items/other.txt",
        kite_page(&["Nothing like this is written anywhere."]),
    );
    build(&fx);
    assert_eq!(found(&fx.index())["items/kites.txt#quote-1"], []);

    // a raw page added later verifies the quote indexed earlier
    fx.write("raw/valley.txt", KITE_POST);
    let report = reindex(&fx);
    assert_eq!((report.added, report.reverified), (1, 1));
    let post = at("raw/valley.txt", "Flying kites in the valley");
    assert_eq!(
        found(&fx.index())["items/kites.txt#quote-1"],
        vec![post.clone()]
    );
    assert_equals_clean_build(&fx);

    // a second holder is listed beside the first, in path order
    fx.write("raw/again.txt", format!("Copied\n\n{KITES}\n"));
    reindex(&fx);
    assert_eq!(
        found(&fx.index())["items/kites.txt#quote-1"],
        [at("raw/again.txt", "Copied"), post.clone()]
    );
    assert_equals_clean_build(&fx);

    // a raw page changed so that it no longer holds the quote unverifies it
    fx.write(
        "raw/again.txt",
        "Copied\n\nSomething else entirely, said in other words.\n",
    );
    let report = reindex(&fx);
    assert_eq!((report.updated, report.reverified), (1, 1));
    assert_eq!(found(&fx.index())["items/kites.txt#quote-1"], [post]);
    assert_equals_clean_build(&fx);

    // a raw page removed unverifies the quotes found in it
    fx.remove("raw/valley.txt");
    let report = reindex(&fx);
    assert_eq!((report.deleted, report.reverified), (1, 1));
    assert_eq!(found(&fx.index())["items/kites.txt#quote-1"], []);
    assert_equals_clean_build(&fx);

    // nothing changed: nothing is written again
    let report = reindex(&fx);
    assert_eq!((report.unchanged, report.reverified), (3, 0));
}

#[test]
fn reindex_looks_a_new_quote_up_in_raw_text_indexed_earlier() {
    let fx = Fixture::new();
    fx.write("raw/valley.txt", KITE_POST);
    fx.write(
        "items/a.txt",
        kite_page(&["Nothing like this is written anywhere."]),
    );
    build(&fx);
    // The last two quotes are too short to be looked up by the index's
    // winnowed shingles: the raw texts of the commit are read instead.
    fx.write(
        "items/kites.txt",
        kite_page(&[
            KITES,
            "Nobody I know flies kites in a storm.",
            "the fields are empty",
            "the fields are muddy",
        ]),
    );
    let report = reindex(&fx);
    assert_eq!((report.added, report.reverified), (1, 0));
    let post = at("raw/valley.txt", "Flying kites in the valley");
    let found = found(&fx.index());
    assert_eq!(found["items/kites.txt#quote-1"], vec![post.clone()]);
    assert_eq!(
        found["items/kites.txt#quote-2"],
        std::slice::from_ref(&post)
    );
    assert_eq!(found["items/kites.txt#quote-3"], [post]);
    assert_eq!(found["items/kites.txt#quote-4"], []);
    assert_equals_clean_build(&fx);
}

/// A corpus with a raw post, a page quoting it (one quote found, one not)
/// and a claim about the same things, indexed through the binary.
fn quoted() -> Fixture {
    let fx = Fixture::new();
    fx.write(
        "items/kites.txt",
        kite_page(&[KITES, "Kites stay aloft only while the wind holds gusty."]),
    );
    fx.write("raw/valley.txt", KITE_POST);
    fx.ok(&["index"]);
    fx
}

#[test]
fn query_json_carries_found_in_and_verified_keeps_only_quotes_found() {
    let fx = quoted();
    let run = fx.ok(&["query", "--json", "kites"]);
    crate::contract::assert_found_in_shape(&run.stdout);
    let all: crate::contract::Response = serde_json::from_str(&run.stdout).unwrap();
    let quotes: Vec<_> = all.hits.iter().filter(|h| h.kind == "quote").collect();
    assert_eq!(quotes.len(), 2);
    let post = crate::contract::FoundIn {
        path: "raw/valley.txt".into(),
        title: "Flying kites in the valley".into(),
    };
    let found: Vec<_> = quotes.iter().map(|q| q.found_in.clone().unwrap()).collect();
    assert!(found.contains(&vec![post.clone()]) && found.contains(&vec![]));

    let run = fx.ok(&["query", "--json", "--verified", "kites"]);
    crate::contract::assert_found_in_shape(&run.stdout);
    let verified: crate::contract::Response = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(verified.total, 1, "totals count only what the filter keeps");
    assert_eq!(verified.hits[0].found_in, Some(vec![post]));
    assert_eq!(verified.facets.kind.len(), 1);
    assert_eq!(
        (
            verified.facets.kind[0].value.as_deref(),
            verified.facets.kind[0].count
        ),
        (Some("quote"), 1)
    );

    // export prints the same field
    let export = fx.ok(&["export"]);
    for line in export.stdout.lines() {
        let record: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(
            record["found_in"].is_array(),
            record["kind"] == "quote",
            "{line}"
        );
        assert!(record["found_in"].is_array() || record["found_in"].is_null());
    }
}

#[test]
fn the_terminal_marks_each_quote_found_or_not() {
    let fx = quoted();
    let run = fx.ok(&["query", "--kind", "quote", "kites"]);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(
        lines
            .iter()
            .any(|l| l.trim() == "✓ in Flying kites in the valley"),
        "{}",
        run.stdout
    );
    assert!(
        lines
            .iter()
            .any(|l| l.trim() == "not found in the corpus's raw text"),
        "{}",
        run.stdout
    );
    // a claim gets no such line
    let run = fx.ok(&["query", "--kind", "claim", "kites"]);
    assert!(!run.stdout.contains("✓ in") && !run.stdout.contains("not found in the corpus"));
    // and the flag is a filter like the others
    let run = fx.ok(&["query", "--verified", "kites"]);
    assert!(run.stdout.contains("1 matches"), "{}", run.stdout);
}

#[test]
fn reindex_json_counts_the_pages_whose_quotes_were_checked_again() {
    let fx = Fixture::new();
    fx.write("items/kites.txt", kite_page(&[KITES]));
    fx.ok(&["index"]);
    fx.write("raw/valley.txt", KITE_POST);
    let run = fx.ok(&["reindex", "--json"]);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["added"], 1);
    assert_eq!(report["reverified"], 1);
    let run = fx.ok(&["query", "--json", "--verified", "*"]);
    let verified: crate::contract::Response = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(verified.total, 1);
}
