//! `claimsearch reindex`: incremental, exactly one commit, cron-safe. Every
//! scenario ends by comparing the index with a clean `index` of the same corpus.

use std::collections::BTreeSet;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::contract::Response;
use crate::util::{extraction, run_of, Fixture};

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct Summary {
    added: usize,
    updated: usize,
    deleted: usize,
    unchanged: usize,
    reverified: usize,
    skipped: Vec<serde_json::Value>,
    warnings: Vec<serde_json::Value>,
    rebuilt: bool,
    seconds: f64,
}

fn reindex(fx: &Fixture) -> Summary {
    let run = fx.ok(&["reindex", "--json"]);
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

/// (added, updated, deleted, unchanged)
fn counts(s: &Summary) -> (usize, usize, usize, usize) {
    (s.added, s.updated, s.deleted, s.unchanged)
}

/// Every record id the index holds, all versions.
fn ids(fx: &Fixture, index: &std::path::Path) -> BTreeSet<String> {
    let run = fx.ok(&["export", "--index", index.to_str().unwrap()]);
    let lines: Vec<&str> = run.stdout.lines().collect();
    let ids: BTreeSet<String> = lines
        .iter()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(ids.len(), lines.len(), "no record is indexed twice");
    ids
}

/// Asserts the incremental index equals a clean build of the same corpus.
fn assert_converged(fx: &Fixture) {
    let clean = fx.path().join("clean-index");
    let _ = std::fs::remove_dir_all(&clean);
    fx.ok(&["index", "--index", clean.to_str().unwrap()]);
    assert_eq!(ids(fx, &fx.index()), ids(fx, &clean));
}

fn item(title: &str, claim: &str) -> String {
    extraction(
        title,
        "LessWrong · Some Author · 2024-01-02",
        "scaling-laws",
        &[claim, "A second claim."],
        &["A quote."],
    )
}

fn search(fx: &Fixture, args: &[&str]) -> Response {
    let mut all = vec!["query", "--json", "--limit", "100"];
    all.extend_from_slice(args);
    serde_json::from_str(&fx.ok(&all).stdout).unwrap()
}

fn base() -> Fixture {
    let fx = Fixture::new();
    for i in 0..5 {
        fx.write(
            &format!("items/p{i}.txt"),
            item(
                &format!("Page {i}"),
                &format!("Claim number {i} about plateaus."),
            ),
        );
    }
    fx
}

#[test]
fn without_an_index_reindex_builds_one() {
    let fx = base();
    let s = reindex(&fx);
    assert!(s.rebuilt);
    assert_eq!(s.added, 5);
    assert_converged(&fx);
}

#[test]
fn add_modify_touch_delete_and_rename_are_each_picked_up() {
    let fx = base();
    fx.ok(&["index"]);
    let s = reindex(&fx);
    assert_eq!(counts(&s), (0, 0, 0, 5), "nothing changed");
    assert!(!s.rebuilt);

    fx.write(
        "items/new.txt",
        item("New page", "Freshly added claim about grokking."),
    );
    assert_eq!(counts(&reindex(&fx)), (1, 0, 0, 5));
    assert_eq!(search(&fx, &["grokking"]).total, 1);

    fx.write(
        "items/p1.txt",
        item("Page 1", "Rewritten claim about double descent."),
    );
    assert_eq!(counts(&reindex(&fx)), (0, 1, 0, 5));
    assert_eq!(search(&fx, &["descent"]).total, 1);
    assert_eq!(
        search(&fx, &["\"number 1\""]).total,
        0,
        "old records are gone"
    );

    // Same bytes, new modification time: read and hashed, nothing written.
    let p2 = fx.corpus().join("items/p2.txt");
    let bytes = std::fs::read(&p2).unwrap();
    std::thread::sleep(Duration::from_millis(20));
    std::fs::write(&p2, bytes).unwrap();
    assert_eq!(counts(&reindex(&fx)), (0, 0, 0, 6));

    fx.remove("items/p3.txt");
    assert_eq!(counts(&reindex(&fx)), (0, 0, 1, 5));
    assert_eq!(search(&fx, &["\"number 3\""]).total, 0);

    std::fs::rename(
        fx.corpus().join("items/p4.txt"),
        fx.corpus().join("items/renamed.txt"),
    )
    .unwrap();
    assert_eq!(
        counts(&reindex(&fx)),
        (1, 0, 1, 4),
        "a rename is a delete and an add"
    );
    let moved = search(&fx, &["\"number 4\""]);
    assert_eq!(moved.hits[0].path, "items/renamed.txt");

    assert_converged(&fx);
}

#[test]
fn a_page_whose_name_has_capitals_is_replaced_not_doubled() {
    let fx = Fixture::new();
    fx.write(
        "Items/Kites-On-Mars.txt",
        item("Kites", "Kites fly on Mars."),
    );
    fx.ok(&["index"]);
    fx.write(
        "Items/Kites-On-Mars.txt",
        item("Kites", "Kites do not fly on Mars."),
    );
    let summary = reindex(&fx);
    assert_eq!(counts(&summary), (0, 1, 0, 0));
    assert_eq!(search(&fx, &["--kind", "claim", "mars"]).total, 1);
    fx.remove("Items/Kites-On-Mars.txt");
    assert_eq!(counts(&reindex(&fx)), (0, 0, 1, 0));
    assert_eq!(search(&fx, &["*"]).total, 0);
    assert_converged(&fx);
}

#[test]
fn a_file_that_turns_bad_loses_its_records_and_is_reported() {
    let fx = base();
    fx.ok(&["index"]);
    fx.write("items/p0.txt", b"\x00\x01binary now");
    let s = reindex(&fx);
    assert_eq!(counts(&s), (0, 0, 1, 4));
    assert_eq!(s.skipped.len(), 1);
    assert_eq!(s.skipped[0]["path"], "items/p0.txt");
    // quiet afterwards: an unchanged bad file is not news
    assert_eq!(reindex(&fx).skipped.len(), 0);
    assert_converged(&fx);
}

#[test]
fn a_new_thread_version_becomes_the_newest() {
    let fx = Fixture::new();
    let page = |v: u32, event: &str| {
        format!(
            "Plateau Watch · history\nVersion {v}\n2026-0{v}-01 10:00 UTC · {v} items\nNarrative\nThe story so far [1].\nTimeline\n- 2025-01-01: {event} [1]\nSources\n- [1] Some post — LessWrong (2025-01-01)\n"
        )
    };
    fx.write(
        "threads/plateau/v1.txt",
        page(1, "Loss plateaus are first reported."),
    );
    fx.ok(&["index"]);
    assert_eq!(
        search(&fx, &["plateaus", "--kind", "event"]).hits[0].version,
        Some(1)
    );

    fx.write(
        "threads/plateau/v2.txt",
        page(2, "Loss plateaus are explained by saddles."),
    );
    assert_eq!(counts(&reindex(&fx)), (1, 0, 0, 1));
    let newest = search(&fx, &["plateaus", "--kind", "event"]);
    assert_eq!(newest.total, 1);
    assert_eq!(newest.hits[0].version, Some(2));
    let all = search(&fx, &["plateaus", "--kind", "event", "--all-versions"]);
    assert_eq!(all.total, 2);
    assert_converged(&fx);

    // The newest version withdrawn: the one before it is shown again.
    fx.remove("threads/plateau/v2.txt");
    assert_eq!(counts(&reindex(&fx)), (0, 0, 1, 1));
    let back = search(&fx, &["plateaus", "--kind", "event"]);
    assert_eq!(back.total, 1);
    assert_eq!(back.hits[0].version, Some(1));
    assert_converged(&fx);
}

/// A write run leaves the superseded records and the common echo keys of
/// its commit beside the index for the next process that opens it;
/// Tantivy's clean-up of unused files, which every writer and every merge
/// runs, must leave those files alone.
#[test]
fn the_files_kept_for_a_commit_stay_across_runs() {
    let fx = base();
    let files = [
        fx.index().join("superseded.bin"),
        fx.index().join("common-keys.bin"),
    ];
    let all_kept = || files.iter().all(|f| f.is_file());
    fx.ok(&["index"]);
    assert!(all_kept(), "after index");
    for round in 0..3 {
        fx.write(
            &format!("items/new{round}.txt"),
            item(&format!("Paper {round}"), "A new claim."),
        );
        reindex(&fx);
        assert!(all_kept(), "after reindex {round}");
    }
    // Files modified within the last two seconds are read again; these are
    // made older so that this run has nothing to do.
    let minute_ago = std::time::SystemTime::now() - Duration::from_secs(60);
    for entry in std::fs::read_dir(fx.corpus().join("items")).unwrap() {
        let file = std::fs::File::options()
            .write(true)
            .open(entry.unwrap().path());
        file.unwrap().set_modified(minute_ago).unwrap();
    }
    reindex(&fx);
    assert_eq!(counts(&reindex(&fx)), (0, 0, 0, 8));
    assert!(all_kept(), "after a reindex with nothing to do");
}

/// The echo lookup key files in the index folder, and the files the
/// segments of its last commit would have.
fn key_files(fx: &Fixture) -> (BTreeSet<String>, BTreeSet<String>) {
    segment_files(fx, "echo-keys-")
}

/// The files `PREFIX<segment>.bin` in the index folder, and those its
/// segments should have.
fn segment_files(fx: &Fixture, prefix: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let kept = (std::fs::read_dir(fx.index()).unwrap())
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(prefix))
        .collect();
    let index = tantivy::Index::open_in_dir(fx.index()).unwrap();
    let segments = (index.searchable_segment_ids().unwrap().into_iter())
        .map(|id| format!("{prefix}{}.bin", id.uuid_string()))
        .collect();
    (kept, segments)
}

/// Every write run leaves one facet rows file and one raw texts' shingles
/// file per segment of its commit.
fn assert_facet_rows(fx: &Fixture, when: &str) {
    for prefix in ["facet-rows-", "raw-shingles-"] {
        let (kept, segments) = segment_files(fx, prefix);
        assert!(!kept.is_empty());
        assert_eq!(kept, segments, "{prefix} {when}");
    }
}

/// Every write run leaves one key file (and one facet rows file) per
/// segment of its commit: files for the segments it made, none for those
/// merged away.
#[test]
fn every_segment_has_its_key_file_and_gone_segments_none() {
    let fx = base();
    fx.ok(&["index"]);
    let (kept, segments) = key_files(&fx);
    assert!(!kept.is_empty());
    assert_eq!(kept, segments, "after index");
    assert_facet_rows(&fx, "after index");
    let mut seen = kept;
    for round in 0..4 {
        fx.write(
            &format!("items/new{round}.txt"),
            item(&format!("Paper {round}"), "A new claim about plateaus."),
        );
        reindex(&fx);
        let (kept, segments) = key_files(&fx);
        assert_eq!(kept, segments, "after reindex {round}");
        assert_facet_rows(&fx, &format!("after reindex {round}"));
        assert!(
            !kept.is_subset(&seen),
            "a new segment's file, round {round}"
        );
        seen.extend(kept);
    }
    // Segments were merged along the way: their files are gone.
    let (kept, _) = key_files(&fx);
    assert!(seen.len() > kept.len(), "{seen:?} {kept:?}");
    // A full build replaces every segment, and every file.
    fx.ok(&["index"]);
    let (rebuilt, segments) = key_files(&fx);
    assert_eq!(rebuilt, segments);
    assert!(rebuilt.is_disjoint(&kept));
    // A file lost or damaged is written again by the next run; meanwhile
    // answers are the same.
    let answer = |fx: &Fixture| fx.ok(&["query", "--json", "--collapse", "plateaus"]).stdout;
    let before = answer(&fx);
    assert!(before.contains("\"echoes\""), "{before}");
    let lost = fx.index().join(rebuilt.first().unwrap());
    std::fs::write(&lost, b"not a key file").unwrap();
    assert_eq!(answer(&fx), before);
    std::fs::remove_file(&lost).unwrap();
    assert_eq!(answer(&fx), before);
    fx.write("items/p0.txt", item("Page 0", "Claim number 0, changed."));
    reindex(&fx);
    let (kept, segments) = key_files(&fx);
    assert_eq!(kept, segments);
    assert_facet_rows(&fx, "after the last reindex");
    assert_converged(&fx);
}

#[test]
fn quiet_prints_nothing_when_all_is_well_and_the_summary_is_one_line() {
    let fx = base();
    fx.ok(&["index"]);
    let quiet = fx.ok(&["reindex", "--quiet"]);
    assert_eq!((quiet.stdout.as_str(), quiet.stderr.as_str()), ("", ""));
    let loud = fx.ok(&["reindex"]);
    assert!(
        loud.stdout
            .starts_with("added 0, updated 0, deleted 0, unchanged 5, skipped 0 — "),
        "{}",
        loud.stdout
    );
    assert_eq!(loud.stdout.lines().count(), 1);
    fx.write("bad.txt", "");
    let quiet = fx.ok(&["reindex", "--quiet"]);
    assert_eq!(quiet.stdout, "");
    assert!(
        quiet.stderr.contains("bad.txt: empty file"),
        "{}",
        quiet.stderr
    );
}

#[test]
fn a_second_run_exits_75_while_the_index_is_held_or_waits_for_it() {
    let fx = base();
    fx.ok(&["index"]);
    // Hold the writer lock the way a running reindex would.
    let index = tantivy::Index::open_in_dir(fx.index()).unwrap();
    let writer: tantivy::IndexWriter = index.writer(15_000_000).unwrap();

    let busy = fx.run(&["reindex"]);
    assert_eq!(busy.code, 75, "{}", busy.stderr);
    assert!(busy.stderr.contains("busy"), "{}", busy.stderr);
    assert_eq!(fx.run(&["index"]).code, 75);

    let started = Instant::now();
    let waiting = fx
        .command(&["reindex", "--wait", "30"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    drop(writer);
    let run = run_of(waiting.wait_with_output().unwrap());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(started.elapsed() >= Duration::from_millis(700));
    assert_eq!(search(&fx, &["plateaus"]).total, 5, "nothing was lost");
    assert_converged(&fx);
}

#[test]
fn runs_killed_at_random_points_never_break_the_index_and_the_next_run_converges() {
    let fx = Fixture::new();
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let pages = 150;
    for i in 0..pages {
        fx.write(
            &format!("items/{}/p{i}.txt", i % 7),
            item(
                &format!("Page {i}"),
                &format!("Claim {i} on plateaus and saddles."),
            ),
        );
    }
    fx.ok(&["index"]);
    // How long an undisturbed run takes here, so the kills land inside runs.
    change(&fx, &mut rng, pages, 0);
    let started = Instant::now();
    reindex(&fx);
    let span = started.elapsed().as_millis().max(20) as u64;

    let (kills, mut interrupted) = (20, 0);
    for round in 1..=kills {
        change(&fx, &mut rng, pages, round);
        let mut child = fx
            .command(&["reindex", "--quiet"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(rng.below(span)));
        if child.try_wait().unwrap().is_none() {
            interrupted += 1;
        }
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        // whatever the kill left, the index opens and answers
        let run = fx.run(&["query", "saddles", "--json"]);
        assert_eq!(run.code, 0, "round {round}: {}", run.stderr);
    }
    eprintln!("{interrupted} of {kills} runs were killed mid-run");
    assert!(
        interrupted >= kills / 4,
        "only {interrupted} of {kills} kills landed inside a run"
    );
    reindex(&fx);
    assert_converged(&fx);
}

/// A small deterministic xorshift generator: the same kills on every run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Rewrites, deletes or adds a handful of pages.
fn change(fx: &Fixture, rng: &mut Rng, pages: u64, round: usize) {
    for _ in 0..8 {
        let i = rng.below(pages + 40);
        let rel = format!("items/{}/p{i}.txt", i % 7);
        if rng.below(4) == 0 && fx.corpus().join(&rel).exists() {
            fx.remove(&rel);
        } else {
            let claim = format!("Round {round} claim {i} on saddles.");
            fx.write(&rel, item(&format!("Page {i}"), &claim));
        }
    }
}

#[test]
fn a_write_error_fails_the_run_and_keeps_the_last_commit() {
    let fx = base();
    fx.ok(&["index"]);
    fx.write(
        "items/p0.txt",
        item("Page 0", "A change that cannot be saved."),
    );
    // Make the manifest impossible to write (as root, permissions would not stop it).
    let blocker = fx.index().join("claimsearch-manifest.next");
    std::fs::create_dir(&blocker).unwrap();
    let run = fx.run(&["reindex"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("claimsearch-manifest.next"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);
    assert_eq!(
        search(&fx, &["\"number 0\""]).total,
        1,
        "the last commit is intact"
    );
    assert_eq!(search(&fx, &["saved"]).total, 0);

    std::fs::remove_dir(&blocker).unwrap();
    assert_eq!(counts(&reindex(&fx)), (0, 1, 0, 4));
    assert_converged(&fx);
}

/// A reader keeps the counts of its commit's searches (`Index::keep_counts`):
/// another page of a search, or the same search asked again, counts the
/// same matches and ranks as a search that counts afresh; after a commit,
/// the counts are the new commit's.
#[test]
fn kept_counts_hold_for_their_commit_only() {
    use claimsearch::model::Kind;
    use claimsearch::{Index, SearchRequest};
    let fx = base();
    fx.ok(&["index"]);
    let kept = Index::open(fx.index()).unwrap();
    let fresh = Index::open(fx.index()).unwrap();
    fresh.keep_counts(0);
    let ids = |hits: &[claimsearch::query::Hit]| {
        hits.iter()
            .map(|h| h.record.id.clone())
            .collect::<Vec<String>>()
    };

    let first = SearchRequest {
        limit: 2,
        ..SearchRequest::new("plateaus")
    };
    let page1 = kept.search(&first).unwrap();
    let page2 = kept
        .search(&SearchRequest {
            offset: 2,
            ..first.clone()
        })
        .unwrap();
    let again = kept.search(&first).unwrap();
    let whole = fresh
        .search(&SearchRequest {
            limit: 4,
            ..first.clone()
        })
        .unwrap();
    assert_eq!(page1.total, 5);
    for other in [&page2, &again, &whole] {
        assert_eq!((other.total, &other.facets), (page1.total, &page1.facets));
    }
    assert_eq!(again, page1);
    let shown = [ids(&page1.hits), ids(&page2.hits)].concat();
    assert_eq!(shown, ids(&whole.hits));

    // A filter is another search, counted apart.
    let quotes = SearchRequest {
        kinds: vec![Kind::Quote],
        ..first.clone()
    };
    assert_eq!(kept.search(&quotes).unwrap().total, 0);

    fx.write(
        "items/p9.txt",
        item("Page 9", "Claim number 9 about plateaus."),
    );
    fx.ok(&["reindex", "--quiet"]);
    kept.reload().unwrap();
    let after = kept.search(&first).unwrap();
    assert_eq!(after.total, 6);
    assert_eq!(after.facets.topic[0].count, 6);
    assert_eq!(after.facets, fresh_search(&fx, &first).facets);
}

/// `request` searched by a reader that opens the index now.
fn fresh_search(fx: &Fixture, request: &claimsearch::SearchRequest) -> claimsearch::SearchResponse {
    let index = claimsearch::Index::open(fx.index()).unwrap();
    index.search(request).unwrap()
}

/// A reader keeps the first 50 ranked matches of a search with its counts:
/// pages within them are read from what it kept, pages beyond them ranked
/// again, and both are the pages a reader that keeps nothing finds.
#[test]
fn pages_within_and_beyond_the_kept_matches_are_the_same_pages() {
    use claimsearch::{Index, SearchRequest};
    let fx = Fixture::new();
    for i in 0..40 {
        let claims = [
            format!("Claim {i} says plateaus appear {} times.", i % 7),
            format!("Another claim {i} on plateaus and saddles."),
        ];
        fx.write(
            &format!("items/p{i}.txt"),
            extraction(
                &format!("Page {i}"),
                "LessWrong · Some Author · 2024-01-02",
                "scaling-laws",
                &[claims[0].as_str(), claims[1].as_str()],
                &["A quote about plateaus."],
            ),
        );
    }
    fx.ok(&["index"]);
    let kept = Index::open(fx.index()).unwrap();
    let fresh = Index::open(fx.index()).unwrap();
    fresh.keep_counts(0);
    let ids = |index: &Index, request: &SearchRequest| {
        let response = index.search(request).unwrap();
        let ids: Vec<String> = response.hits.iter().map(|h| h.record.id.clone()).collect();
        (response.total, ids)
    };
    for query in ["plateaus", "*"] {
        let first = SearchRequest::new(query);
        assert_eq!(ids(&kept, &first), ids(&fresh, &first), "{query}");
        for offset in [10, 40, 45, 50, 70, 200] {
            let page = SearchRequest {
                offset,
                ..first.clone()
            };
            let (total, shown) = ids(&kept, &page);
            assert!(total >= 80, "{query}: {total}");
            assert_eq!((total, shown), ids(&fresh, &page), "{query} from {offset}");
        }
    }
}
