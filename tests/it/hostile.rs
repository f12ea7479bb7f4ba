//! Hostile files, one test per row of RELIABILITY.md's table: each bad file is
//! reported with its path and reason, everything else is indexed, nothing
//! panics, and a `reindex` afterwards agrees with a clean `index`.
//!
//! The 100 MB page is too slow for a debug build; `scripts/hostile-large` runs
//! it in release. Here a 2 MB page stands in for it, and a sparse 200 MiB file
//! checks the size limit without writing 200 MiB.

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use claimsearch::ingest::{self, Progress};

use crate::contract::{IndexSummary, Response};
use crate::util::{extraction, Fixture};

/// A page that must always be indexed beside the hostile ones.
fn good_page(fx: &Fixture) {
    fx.write(
        "good/plain.txt",
        extraction(
            "Plateaus in training",
            "LessWrong · Ada · 2024-01-02",
            "scaling-laws",
            &["Loss plateaus precede sudden drops."],
            &["A quote about plateaus."],
        ),
    );
}

fn index(fx: &Fixture) -> IndexSummary {
    let run = fx.ok(&["index", "--json"]);
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

fn search(fx: &Fixture, query: &str) -> Response {
    let run = fx.ok(&["query", "--json", "--limit", "5", query]);
    serde_json::from_str(&run.stdout).unwrap()
}

/// The reason given for `path`, if it was skipped.
fn reason<'a>(summary: &'a IndexSummary, path: &str) -> Option<&'a str> {
    (summary.skipped.iter())
        .find(|s| s.path == path)
        .map(|s| s.reason.as_str())
}

/// Every record id of the index at `index`, checking none is there twice.
fn ids(fx: &Fixture, index: &Path) -> BTreeSet<String> {
    let run = fx.ok(&["export", "--index", index.to_str().unwrap()]);
    let lines: Vec<&str> = run.stdout.lines().collect();
    let ids: BTreeSet<String> = (lines.iter())
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["id"].to_string())
        .collect();
    assert_eq!(ids.len(), lines.len(), "a record id is indexed twice");
    ids
}

/// `reindex` changes nothing more, and the index equals a clean build.
fn assert_converged(fx: &Fixture) {
    fx.ok(&["reindex", "--quiet"]);
    let again = fx.ok(&["reindex", "--json"]);
    let summary: serde_json::Value = serde_json::from_str(&again.stdout).unwrap();
    for count in ["added", "updated", "deleted"] {
        assert_eq!(
            summary[count], 0,
            "a second reindex still {count}: {summary}"
        );
    }
    let clean = fx.path().join("clean-index");
    let _ = std::fs::remove_dir_all(&clean);
    fx.ok(&["index", "--index", clean.to_str().unwrap()]);
    assert_eq!(ids(fx, &fx.index()), ids(fx, &clean));
}

#[test]
fn empty_files_are_reported_and_the_rest_indexed() {
    let fx = Fixture::new();
    good_page(&fx);
    fx.write("empty.txt", "");
    fx.write("blank.md", " \r\n\t\n\n");
    fx.write("bom-only.txt", b"\xEF\xBB\xBF\n");
    fx.write("feeds/empty.jsonl", "\n\n");
    let s = index(&fx);
    assert_eq!(s.pages, 1);
    for path in ["empty.txt", "blank.md", "bom-only.txt", "feeds/empty.jsonl"] {
        assert_eq!(reason(&s, path), Some("empty file"), "{path}");
    }
    assert_eq!(search(&fx, "plateaus").total, 2);
    assert_converged(&fx);
}

#[test]
fn binary_files_are_reported_and_the_rest_indexed() {
    let fx = Fixture::new();
    good_page(&fx);
    let png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00";
    fx.write("image.txt", png);
    let mut noise = Vec::new();
    let mut x: u32 = 7;
    for _ in 0..65_536 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        noise.push((x >> 16) as u8);
    }
    fx.write("noise.md", &noise);
    fx.write("feed.jsonl", b"{\"title\":\"a\0b\"}\n");
    let s = index(&fx);
    assert_eq!(s.pages, 1);
    for path in ["image.txt", "noise.md", "feed.jsonl"] {
        assert_eq!(
            reason(&s, path),
            Some("binary file (contains NUL bytes)"),
            "{path}"
        );
    }
    assert_converged(&fx);
}

#[test]
fn invalid_utf8_is_decoded_with_a_warning_and_indexed() {
    let fx = Fixture::new();
    good_page(&fx);
    fx.write(
        "latin1.txt",
        b"Caf\xE9 notes\n\nThe na\xEFve plateau \x93theory\x94.\n",
    );
    fx.write(
        "broken.txt",
        b"Broken\n\nHalf a character \xE2\x82 then plateau words.\n",
    );
    fx.write(
        "feed.jsonl",
        b"{\"title\":\"Caf\xE9\",\"claims\":[\"plateau\"]}\n",
    );
    let s = index(&fx);
    assert_eq!((s.pages, s.skipped.len()), (4, 0));
    let warned: BTreeSet<&str> = (s.warnings.iter())
        .filter(|w| w.message == "not valid UTF-8; decoded as Windows-1252")
        .map(|w| w.path.as_str())
        .collect();
    assert_eq!(
        warned,
        BTreeSet::from(["broken.txt", "feed.jsonl", "latin1.txt"])
    );
    let naive = search(&fx, "naïve");
    assert_eq!(naive.hits[0].title, "Café notes");
    assert_eq!(search(&fx, "plateau").total, 3);
    assert_converged(&fx);
}

#[test]
fn a_large_page_is_indexed_and_one_over_the_limit_is_reported() {
    let fx = Fixture::new();
    good_page(&fx);
    // 2 MB of raw text, 27,000 paragraphs; the last one is findable.
    let mut big = String::from("A very large page\n\n");
    let mut i = 0;
    while big.len() < 2_000_000 {
        big.push_str(&format!(
            "Paragraph {i} talks about loss landscapes and saddle points at length.\n\n"
        ));
        i += 1;
    }
    big.push_str("The final paragraph mentions zebrafish.\n");
    fx.write("raw/big.txt", &big);
    // 200 MiB, sparse: over the 128 MiB limit, never read.
    let huge = std::fs::File::create(fx.corpus().join("raw/huge.txt")).unwrap();
    huge.set_len(200 << 20).unwrap();
    let s = index(&fx);
    assert_eq!(s.pages, 2);
    assert_eq!(s.records, 2 + i + 1);
    assert_eq!(
        reason(&s, "raw/huge.txt"),
        Some("too large to be a page (200.0 MiB; the limit is 128 MiB)")
    );
    assert_eq!(search(&fx, "zebrafish").total, 1);
    assert_converged(&fx);
}

#[test]
fn a_page_with_100_000_claims_is_indexed_whole() {
    let fx = Fixture::new();
    good_page(&fx);
    let claims: Vec<String> = (0..100_000)
        .map(|i| format!("Claim {i} of the enormous page."))
        .collect();
    let claims: Vec<&str> = claims.iter().map(String::as_str).collect();
    let page = extraction(
        "Enormous",
        "arXiv · Bob · 2020-05-06",
        "scaling-laws",
        &claims,
        &["One quote."],
    );
    fx.write("items/enormous.txt", page);
    let s = index(&fx);
    assert_eq!(s.records, 2 + 100_001);
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    let hit = search(&fx, "\"claim 99999\"");
    assert_eq!(hit.total, 1);
    assert_eq!(hit.hits[0].id, "items/enormous.txt#claim-100000");
}

#[test]
fn ten_thousand_character_lines_are_indexed() {
    let fx = Fixture::new();
    good_page(&fx);
    let words = "saddle point dynamics ".repeat(455); // 10,010 characters
    let token = "x".repeat(10_000); // one word, no spaces
    let wide = "é".repeat(10_000); // 20,000 bytes
    fx.write(
        "wide.txt",
        format!("Wide lines\n\n{words}\n\n{token} marker\n\n{wide}\n"),
    );
    let long_field = "a".repeat(100_000); // one 100 KB keyword token
    fx.write(
        "feed.jsonl",
        format!("{{\"title\":\"Long fields\",\"author\":\"{long_field}\",\"source\":\"{long_field}\",\"topics\":[\"{long_field}\"],\"claims\":[\"{words}\"]}}\n"),
    );
    let title = "t".repeat(10_000);
    fx.write(
        "items/long-title.txt",
        extraction(&title, "Blog · 2021-01-01", &token, &[&words], &[&words]),
    );
    let s = index(&fx);
    assert_eq!((s.pages, s.skipped.len()), (4, 0), "{:?}", s.skipped);
    let found = search(&fx, "saddle dynamics");
    assert_eq!(found.total, 4);
    assert!(found.hits.iter().all(|h| h.snippet.chars().count() <= 400));
    assert_eq!(search(&fx, "marker").total, 1);
    assert_converged(&fx);
}

/// Makes 420 nested folders relative to an open folder, one level at a time,
/// and a page at the bottom.
const DESCEND: &str = "
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
for _ in range(420):
    os.mkdir('nnnnnnnnnn', dir_fd=fd)
    below = os.open('nnnnnnnnnn', os.O_RDONLY, dir_fd=fd)
    os.close(fd)
    fd = below
page = os.open('far.txt', os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
os.write(page, b'Too deep to read\\n')
";

#[test]
fn deep_folder_nesting_is_walked_and_paths_too_long_are_reported() {
    let fx = Fixture::new();
    good_page(&fx);
    // 200 levels: a 400-character path, walked like any other.
    let deep = "d/".repeat(200);
    fx.write(
        &format!("{deep}deep.txt"),
        "Deep page\n\nFound at the bottom.\n",
    );
    // 420 levels of 10-character names: past PATH_MAX (4,096 bytes), so no
    // absolute path reaches it (made one level at a time, relative to the last).
    let made = Command::new("python3")
        .arg("-c")
        .arg(DESCEND)
        .arg(fx.corpus())
        .status()
        .unwrap();
    assert!(made.success());
    let s = index(&fx);
    assert_eq!(s.pages, 2);
    assert_eq!(
        search(&fx, "bottom").hits[0].path,
        format!("{deep}deep.txt")
    );
    assert_eq!(s.skipped.len(), 1, "{:?}", s.skipped);
    let too_long = &s.skipped[0];
    assert!(too_long.path.starts_with("nnnnnnnnnn/nnnnnnnnnn/"));
    assert!(
        too_long.reason.contains("File name too long"),
        "{}",
        too_long.reason
    );
    assert_converged(&fx);
}

#[test]
fn symlink_loops_and_special_files_are_reported_or_passed_over() {
    use std::os::unix::fs::symlink;
    let fx = Fixture::new();
    good_page(&fx);
    let c = fx.corpus();
    std::fs::create_dir_all(c.join("a/b")).unwrap();
    symlink("../..", c.join("a/b/up")).unwrap(); // a directory loop
    symlink("self.txt", c.join("self.txt")).unwrap(); // a file link to itself
    symlink("nowhere.txt", c.join("dangling.txt")).unwrap();
    symlink("/dev/zero", c.join("zero.txt")).unwrap(); // endless, not a file
    let fifo = Command::new("mkfifo")
        .arg(c.join("pipe.txt"))
        .status()
        .unwrap();
    assert!(fifo.success(), "mkfifo"); // reading it would block forever
    let outside = fx.path().join("outside.txt");
    std::fs::write(&outside, "Outside\n\nLinked in from elsewhere.\n").unwrap();
    symlink(&outside, c.join("linked.txt")).unwrap();

    let s = index(&fx);
    assert_eq!(s.pages, 2, "the good page and the linked one");
    assert_eq!(reason(&s, "a/b/up"), Some("symbolic link loop"));
    let self_loop = reason(&s, "self.txt").unwrap();
    assert!(self_loop.contains("Too many levels of symbolic links"));
    let dangling = reason(&s, "dangling.txt").unwrap();
    assert!(dangling.contains("No such file or directory"));
    assert_eq!(s.skipped.len(), 3, "{:?}", s.skipped);
    assert_eq!(search(&fx, "elsewhere").hits[0].path, "linked.txt");
    assert_converged(&fx);
}

/// True when this process runs as root, where permissions do not stop reads.
fn is_root() -> bool {
    let out = Command::new("id").arg("-u").output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}

#[test]
fn unreadable_files_are_reported_and_keep_what_was_indexed() {
    use std::os::unix::fs::PermissionsExt;
    let fx = Fixture::new();
    good_page(&fx);
    fx.write("secret.txt", "Secret page\n\nHidden plateau notes.\n");
    fx.write("locked/inside.txt", "Locked\n\nMore plateau notes.\n");
    // As root, permissions stop nothing: run the binary as `nobody` instead.
    let as_nobody = is_root();
    if as_nobody {
        let probe = Command::new("runuser")
            .args(["-u", "nobody", "--", "true"])
            .status();
        if !probe.is_ok_and(|s| s.success()) {
            eprintln!("notice: running as root without runuser; unreadable files are covered by scripts/hostile-large");
            return;
        }
        for dir in [fx.path(), &fx.corpus()] {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        std::fs::create_dir(fx.index()).unwrap();
        std::os::unix::fs::chown(fx.index(), Some(65_534), Some(65_534)).unwrap();
    }
    let run = |args: &[&str]| -> serde_json::Value {
        let mut cmd = if as_nobody {
            let mut cmd = Command::new("runuser");
            cmd.args(["-u", "nobody", "--", env!("CARGO_BIN_EXE_claimsearch")]);
            cmd
        } else {
            Command::new(env!("CARGO_BIN_EXE_claimsearch"))
        };
        let c = fx.corpus();
        let i = fx.index();
        cmd.args(args)
            .args(["--json", "--corpus", c.to_str().unwrap()])
            .args(["--index", i.to_str().unwrap()]);
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let first = run(&["index"]);
    assert_eq!(first["pages"], 3);

    let mode = |rel: &str, mode: u32| {
        let path = fx.corpus().join(rel);
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    };
    mode("secret.txt", 0o000);
    mode("locked", 0o000);
    // The index keeps what it held of them, and says why they were not read.
    let s = run(&["reindex"]);
    let skipped = s["skipped"].as_array().unwrap();
    let reasons: Vec<(&str, &str)> = (skipped.iter())
        .map(|s| (s["path"].as_str().unwrap(), s["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert!(reasons.iter().all(|(_, r)| r.contains("Permission denied")));
    assert_eq!(reasons[0].0, "locked");
    assert_eq!(reasons[1].0, "secret.txt");
    assert_eq!(s["deleted"], 0);
    assert_eq!(search(&fx, "plateau").total, 2, "nothing was lost");
    // A full rebuild cannot read them either: it reports them too.
    let rebuilt = run(&["index"]);
    assert_eq!(rebuilt["pages"], 1);
    assert_eq!(rebuilt["skipped"].as_array().unwrap().len(), 2);

    mode("secret.txt", 0o644);
    mode("locked", 0o755);
    let back = run(&["reindex"]);
    assert_eq!(
        (
            back["added"].as_u64(),
            back["skipped"].as_array().unwrap().len()
        ),
        (Some(2), 0)
    );
    assert_eq!(search(&fx, "plateau").total, 2);
}

#[test]
fn non_utf8_file_names_are_indexed_with_escaped_ids_of_their_own() {
    let fx = Fixture::new();
    good_page(&fx);
    let c = fx.corpus();
    let name = |bytes: &[u8]| c.join(OsStr::from_bytes(bytes));
    // Decoded lossily, both names would read `caf\u{FFFD}.txt`.
    std::fs::write(name(b"caf\xE9.txt"), "One\n\nFirst latin-1 name.\n").unwrap();
    std::fs::write(name(b"caf\xE8.txt"), "Two\n\nSecond latin-1 name.\n").unwrap();
    std::fs::create_dir(name(b"dir\xFF")).unwrap();
    std::fs::write(
        name(b"dir\xFF/inside.txt"),
        "Three\n\nUnder a latin-1 folder name.\n",
    )
    .unwrap();
    // A valid name spelled like an escape is another file.
    fx.write("caf\\xE9.txt", "Four\n\nA latin-1 look-alike name.\n");
    // Capitals, which the path term is lowercased from.
    fx.write("Upper/Case.txt", "Five\n\nA capital latin name.\n");
    let s = index(&fx);
    assert_eq!((s.pages, s.skipped.len()), (6, 0), "{:?}", s.skipped);
    let paths = |fx: &Fixture| -> BTreeSet<String> {
        (search(fx, "latin").hits.iter())
            .map(|h| h.path.clone())
            .collect()
    };
    let escaped = [
        "Upper/Case.txt",
        "caf\\xE8.txt",
        "caf\\xE9.txt",
        "caf\\\\xE9.txt",
        "dir\\xFF/inside.txt",
    ];
    assert_eq!(paths(&fx), BTreeSet::from(escaped.map(String::from)));

    // The same ids on the next run: nothing to do.
    let again: serde_json::Value =
        serde_json::from_str(&fx.ok(&["reindex", "--json"]).stdout).unwrap();
    assert_eq!(
        (again["unchanged"].as_u64(), again["added"].as_u64()),
        (Some(6), Some(0))
    );
    // Changed and removed like any other file.
    std::fs::write(name(b"caf\xE9.txt"), "One\n\nFirst latin-1 name, edited.\n").unwrap();
    std::fs::remove_file(name(b"caf\xE8.txt")).unwrap();
    fx.remove("Upper/Case.txt");
    let changed: serde_json::Value =
        serde_json::from_str(&fx.ok(&["reindex", "--json"]).stdout).unwrap();
    assert_eq!(
        (changed["updated"].as_u64(), changed["deleted"].as_u64()),
        (Some(1), Some(2)),
        "{changed}"
    );
    let left = paths(&fx);
    assert!(
        !left.contains("caf\\xE8.txt") && !left.contains("Upper/Case.txt"),
        "{left:?}"
    );
    assert_eq!(search(&fx, "edited").hits[0].path, "caf\\xE9.txt");
    assert_converged(&fx);
}

#[test]
fn files_vanishing_after_the_walk_are_reported_and_the_rest_indexed() {
    let fx = Fixture::new();
    for i in 0..40 {
        fx.write(
            &format!("p{i:02}.txt"),
            format!("Page {i}\n\nVanishing test {i}.\n"),
        );
    }
    // Remove every fourth file once the walk has listed them, before they are read.
    let corpus = fx.corpus();
    let vanish = |step: Progress| {
        if let Progress::Found(n) = step {
            assert_eq!(n, 40);
            for i in (0..40).step_by(4) {
                std::fs::remove_file(corpus.join(format!("p{i:02}.txt"))).unwrap();
            }
        }
    };
    let report = ingest::build(&corpus, &fx.index(), &vanish).unwrap();
    assert_eq!(report.pages, 30);
    assert_eq!(report.skipped.len(), 10);
    for (n, skipped) in report.skipped.iter().enumerate() {
        assert_eq!(skipped.path, format!("p{:02}.txt", n * 4));
        assert!(
            skipped.reason.starts_with("cannot read: No such file"),
            "{skipped:?}"
        );
    }
    assert_eq!(search(&fx, "vanishing").total, 30);
    assert_converged(&fx);
}

#[test]
fn files_deleted_while_index_and_reindex_run_never_fail_a_run() {
    let fx = Fixture::new();
    let pages = 600;
    for i in 0..pages {
        fx.write(
            &format!("f/{}/p{i}.txt", i % 10),
            format!("Page {i}\n\nRacing deletion {i}.\n"),
        );
    }
    let corpus = fx.corpus();
    let deleted = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            // Delete pages (and whole folders) while the runs walk and read.
            for i in (0..pages).rev().step_by(3) {
                let _ = std::fs::remove_file(corpus.join(format!("f/{}/p{i}.txt", i % 10)));
                deleted.fetch_add(1, Ordering::Relaxed);
                if i % 97 == 0 {
                    let _ = std::fs::remove_dir_all(corpus.join(format!("f/{}", i % 10)));
                }
                std::thread::yield_now();
            }
        });
        for args in [["index", "--json"], ["reindex", "--json"]] {
            let run = fx.run(&args);
            assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        }
    });
    assert!(deleted.load(Ordering::Relaxed) > 0);
    assert_converged(&fx);
}
