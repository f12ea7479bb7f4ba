//! Threads as a story over versions: `claimsearch history`, `Index::history`,
//! `GET /history`, and the `first_version` of thread hits, kept right by `reindex`.

use claimsearch::model::Kind;
use claimsearch::Index;

use crate::contract::*;
use crate::util::{seeds_dir, Fixture};

const TITLE: &str = "Tides and the Moon";

/// Version 1: two events, one tension, one narrative paragraph, one perspective.
const V1: &str = "Tides and the Moon · history
Version 1
2025-03-01 10:00 UTC · 4 items
Narrative
Early readers tie the tides to the moon alone [1].
Timeline
- 1687-07-05: A treatise explains tides by the pull of the moon and the sun. [1]
- 1900-01-01: Tide tables predict harbour levels a year ahead. [2]
Perspectives
Harbour masters (Port Notes)
Tables are good enough for ships.
Evolution: First seen.
Tensions
- Do winds matter as much as the moon? [2]
Sources
- [1] On the tides — Old Press (1687-07-05)
- [2] Tables for ports — Port Notes (1900-01-01)
";

/// Version 3: the same two events (one with other citations and spacing), one new event,
/// the tension reworded, the narrative rewritten, the perspective unchanged.
const V3: &str = "The Information Machine

Tides and the Moon · history

Version 3

2025-04-10 08:00 UTC · 9 items

Narrative

Later readers add the sun, the winds and the shape of the coast [2][3].

Timeline

  • 1687-07-05: A treatise explains tides by the pull of the moon and the   sun. [2]
  • 1900-01-01: Tide tables predict harbour levels a year ahead. [1]
  • 2024-09-09: Satellites measure open-ocean tides to a centimetre. [3]

Perspectives

Harbour masters (Port Notes)

Tables are good enough for ships.

Evolution: First seen.

Tensions

  • Do winds matter more than the moon on shallow coasts? [1]

Sources

  1. [1] Tables for ports — Port Notes (1900-01-01)
  2. [2] On the tides — Old Press (1687-07-05)
  3. [3] Tides from orbit — Sky Journal (2024-09-09)
";

fn history(fx: &Fixture, thread: &str) -> HistoryJson {
    let run = fx.ok(&["history", thread, "--json"]);
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("bad JSON ({e}): {}", run.stdout))
}

fn query(fx: &Fixture, args: &[&str]) -> Response {
    let mut all = vec!["query", "--json", "--limit", "100"];
    all.extend_from_slice(args);
    let run = fx.ok(&all);
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("bad JSON ({e}): {}", run.stdout))
}

fn both_versions() -> Fixture {
    let fx = Fixture::new();
    fx.write("threads/tides/v1.txt", V1);
    fx.write("threads/tides/v3.txt", V3);
    fx.ok(&["index"]);
    fx
}

fn counts(map: &std::collections::BTreeMap<String, Vec<String>>) -> Vec<(&str, usize)> {
    map.iter().map(|(k, v)| (k.as_str(), v.len())).collect()
}

#[test]
fn history_lists_versions_and_what_changed_by_title_or_slug() {
    let fx = both_versions();
    let h = history(&fx, TITLE);
    assert_eq!(h.thread, TITLE);
    assert_eq!(h.versions.len(), 2);
    let v1 = &h.versions[0];
    assert_eq!((v1.version, v1.date.as_deref()), (1, Some("2025-03-01")));
    assert_eq!(v1.path, "threads/tides/v1.txt");
    let records = |v: &VersionJson| -> Vec<(String, usize)> {
        v.records.iter().map(|(k, n)| (k.clone(), *n)).collect()
    };
    let expected = |e, n, p, t| {
        vec![
            ("event".to_string(), e),
            ("narrative".to_string(), n),
            ("perspective".to_string(), p),
            ("tension".to_string(), t),
        ]
    };
    assert_eq!(records(v1), expected(2, 1, 1, 1));
    assert_eq!(h.versions[1].version, 3);
    assert_eq!(h.versions[1].date.as_deref(), Some("2025-04-10"));
    assert_eq!(records(&h.versions[1]), expected(3, 1, 1, 1));

    assert_eq!(h.changes.len(), 1);
    let change = &h.changes[0];
    assert_eq!((change.from, change.to, change.kept), (1, 3, 3));
    assert_eq!(
        counts(&change.added),
        [("event", 1), ("narrative", 1), ("tension", 1)]
    );
    assert_eq!(counts(&change.removed), [("narrative", 1), ("tension", 1)]);
    assert_eq!(
        change.added["event"],
        ["Satellites measure open-ocean tides to a centimetre."]
    );
    assert_eq!(
        change.removed["tension"],
        ["Do winds matter as much as the moon?"]
    );

    // By slug, and by title in another case: the same history.
    let by_slug = history(&fx, "tides-and-the-moon");
    assert_eq!(
        serde_json::to_value(&by_slug.versions).unwrap(),
        serde_json::to_value(&h.versions).unwrap()
    );
    assert_eq!(history(&fx, "TIDES AND THE MOON").changes.len(), 1);

    // The terminal form.
    let run = fx.ok(&["history", "tides-and-the-moon"]);
    assert!(
        run.stdout.starts_with("Tides and the Moon · 2 versions\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("version 1 → 3: 3 added, 2 removed, 3 kept"),
        "{}",
        run.stdout
    );
    assert!(run
        .stdout
        .contains("+ Satellites measure open-ocean tides to a centimetre."));
    assert!(!run.stdout.contains('\x1b'), "no colour off a terminal");
}

#[test]
fn an_unknown_thread_is_an_error_naming_it() {
    let fx = both_versions();
    let run = fx.run(&["history", "No Such Thread"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("No Such Thread"), "{}", run.stderr);
    assert!(run.stdout.is_empty());
    // An item's title is not a thread.
    fx.write(
        "items/a.txt",
        crate::util::extraction("Tides", "Blog · 2020-01-01", "tides", &["Tides rise."], &[]),
    );
    fx.ok(&["reindex"]);
    assert_eq!(fx.run(&["history", "Tides"]).code, 1);
}

#[test]
fn the_library_gives_the_same_history() {
    let fx = both_versions();
    let index = Index::open(fx.index()).unwrap();
    let h = index
        .history("tides-and-the-moon")
        .unwrap()
        .expect("the thread exists");
    assert_eq!(h.thread, TITLE);
    let numbers: Vec<u32> = h.versions.iter().map(|v| v.version).collect();
    assert_eq!(numbers, [1, 3]);
    assert_eq!(h.changes[0].added[&Kind::Event].len(), 1);
    assert!(index.history("no-such-thread").unwrap().is_none());
    let cli = history(&fx, TITLE);
    assert_eq!(
        serde_json::to_value(&h).unwrap(),
        serde_json::to_value(&cli).unwrap()
    );
}

/// `first_version` of each event hit of the newest version, by text.
fn first_versions(fx: &Fixture, kind: &str) -> Vec<(String, Option<u32>)> {
    let mut hits: Vec<(String, Option<u32>)> = query(fx, &["*", "--kind", kind])
        .hits
        .into_iter()
        .map(|h| (h.text, h.first_version))
        .collect();
    hits.sort();
    hits
}

#[test]
fn thread_hits_say_since_which_version_they_are_held() {
    let fx = both_versions();
    let events = first_versions(&fx, "event");
    assert_eq!(
        events,
        [
            (
                "A treatise explains tides by the pull of the moon and the sun.".to_string(),
                Some(1)
            ),
            (
                "Satellites measure open-ocean tides to a centimetre.".to_string(),
                Some(3)
            ),
            (
                "Tide tables predict harbour levels a year ahead.".to_string(),
                Some(1)
            ),
        ]
    );
    assert_eq!(first_versions(&fx, "perspective")[0].1, Some(1));
    assert_eq!(first_versions(&fx, "tension")[0].1, Some(3));
    // Older versions' own hits too.
    let all = query(&fx, &["tables", "--kind", "event", "--all-versions"]);
    assert_eq!(all.total, 2);
    assert!(
        all.hits.iter().all(|h| h.first_version == Some(1)),
        "{:?}",
        all.hits
    );
    // Items have none.
    fx.write(
        "items/a.txt",
        crate::util::extraction(
            "Moon notes",
            "Blog · 2020-01-01",
            "tides",
            &["The moon pulls."],
            &[],
        ),
    );
    fx.ok(&["reindex"]);
    let item = query(&fx, &["pulls"]);
    assert_eq!(item.hits[0].first_version, None);
}

/// Every exported record, as (id, first_version), sorted.
fn exported(fx: &Fixture) -> Vec<(String, Option<u32>)> {
    let run = fx.ok(&["export"]);
    let mut all: Vec<(String, Option<u32>)> = (run.stdout.lines())
        .map(|l| {
            let r: Exported = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
            (r.id, r.first_version)
        })
        .collect();
    all.sort();
    all
}

#[test]
fn reindex_keeps_first_version_right_when_older_versions_come_and_go() {
    let fx = Fixture::new();
    fx.write("threads/tides/v3.txt", V3);
    fx.ok(&["index"]);
    assert!(first_versions(&fx, "event")
        .iter()
        .all(|(_, v)| *v == Some(3)));

    // An older version saved later: the records it shares now date from it.
    fx.write("threads/tides/v1.txt", V1);
    fx.ok(&["reindex"]);
    let events = first_versions(&fx, "event");
    let ones = events.iter().filter(|(_, v)| *v == Some(1)).count();
    assert_eq!(ones, 2, "{events:?}");
    let incremental = exported(&fx);
    let clean = Fixture::new();
    clean.write("threads/tides/v1.txt", V1);
    clean.write("threads/tides/v3.txt", V3);
    clean.ok(&["index"]);
    assert_eq!(incremental, exported(&clean));
    assert_eq!(history(&fx, TITLE).changes.len(), 1);

    // And removed again: back to version 3.
    fx.remove("threads/tides/v1.txt");
    fx.ok(&["reindex"]);
    assert!(first_versions(&fx, "event")
        .iter()
        .all(|(_, v)| *v == Some(3)));
    let only_v3 = Fixture::new();
    only_v3.write("threads/tides/v3.txt", V3);
    only_v3.ok(&["index"]);
    assert_eq!(exported(&fx), exported(&only_v3));
    assert!(history(&fx, TITLE).changes.is_empty());
}

/// Seeds 001 (version 1) and 000 (version 6) are one thread. Counted by hand from the two
/// pages: version 1 holds 4 narrative paragraphs, 5 events, 1 perspective and 4 tensions;
/// version 6 holds 3, 20, 11 and 7. Four of version 1's events are word for word in version
/// 6; nothing else is: 37 records added, 10 removed, 4 kept.
#[test]
fn the_seed_thread_history_has_the_counts_worked_out_by_hand() {
    let Some(seeds) = seeds_dir() else {
        return;
    };
    let fx = Fixture::new();
    for name in ["000_207f1a61718e5820.txt", "001_663f600feafd8370.txt"] {
        fx.write(
            &format!("threads/{name}"),
            std::fs::read(seeds.join(name)).unwrap(),
        );
    }
    fx.ok(&["index"]);
    let h = history(&fx, "deep-learning-theory-is-broken-and-maybe-unfixable");
    assert_eq!(
        h.thread,
        "Deep Learning Theory Is Broken — And Maybe Unfixable"
    );
    let summary: Vec<(u32, Option<&str>, Vec<usize>)> = (h.versions.iter())
        .map(|v| {
            (
                v.version,
                v.date.as_deref(),
                v.records.values().copied().collect(),
            )
        })
        .collect();
    // records: event, narrative, perspective, tension (alphabetical keys).
    assert_eq!(
        summary,
        [
            (1, Some("2026-04-29"), vec![5, 4, 1, 4]),
            (6, Some("2026-04-30"), vec![20, 3, 11, 7]),
        ]
    );
    let change = &h.changes[0];
    assert_eq!((change.from, change.to, change.kept), (1, 6, 4));
    assert_eq!(
        counts(&change.added),
        [
            ("event", 16),
            ("narrative", 3),
            ("perspective", 11),
            ("tension", 7)
        ]
    );
    assert_eq!(
        counts(&change.removed),
        [
            ("event", 1),
            ("narrative", 4),
            ("perspective", 1),
            ("tension", 4)
        ]
    );
    // Four of the newest version's events have been there since version 1.
    let events = first_versions(&fx, "event");
    assert_eq!(events.len(), 20);
    assert_eq!(events.iter().filter(|(_, v)| *v == Some(1)).count(), 4);
    assert_eq!(events.iter().filter(|(_, v)| *v == Some(6)).count(), 16);
}
