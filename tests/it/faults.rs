//! Faults around a running index: readers (the library and the HTTP server)
//! while `reindex` commits again and again, a full disk and a read-only index
//! folder. The kill -9 trials and the load test are scripts (`scripts/`), too
//! long for `cargo test`; RELIABILITY.md lists them all.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use claimsearch::{Index, SearchRequest};
use tantivy::directory::Directory;

use crate::util::{extraction, Fixture};

fn page(title: &str, claim: &str) -> String {
    extraction(
        title,
        "LessWrong · Ada · 2024-01-02",
        "scaling-laws",
        &[claim, "A second claim on the same page."],
        &["A quote."],
    )
}

/// Every record id the index at `index` holds.
fn ids(fx: &Fixture, index: &Path) -> BTreeSet<String> {
    let run = fx.ok(&["export", "--index", index.to_str().unwrap()]);
    (run.stdout.lines())
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["id"].to_string())
        .collect()
}

fn clean_ids(fx: &Fixture) -> BTreeSet<String> {
    let clean = fx.path().join("clean-index");
    let _ = std::fs::remove_dir_all(&clean);
    fx.ok(&["index", "--index", clean.to_str().unwrap()]);
    ids(fx, &clean)
}

/// A server over `index_dir` on an ephemeral loopback port, in this process.
struct Server {
    runtime: tokio::runtime::Runtime,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    base: String,
}

impl Server {
    fn start(index_dir: PathBuf) -> Server {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let router = claimsearch::serve::router(index_dir);
        runtime.spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Server {
            runtime,
            stop: Some(stop),
            base,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = &self.runtime;
    }
}

#[test]
fn queries_and_the_server_keep_answering_while_reindex_commits() {
    let fx = Fixture::new();
    // Pages that never change: every answer must count exactly their records.
    let stable = 40;
    for i in 0..stable {
        fx.write(
            &format!("stable/p{i}.txt"),
            page(
                &format!("Stable {i}"),
                &format!("Steady claim {i} on plateaus."),
            ),
        );
    }
    for i in 0..60 {
        fx.write(
            &format!("moving/p{i}.txt"),
            page(&format!("Moving {i}"), "A claim about saddles."),
        );
    }
    fx.ok(&["index"]);
    let index = Arc::new(Index::open(fx.index()).unwrap());
    let server = Server::start(fx.index());
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let url = format!("{}/search?q=plateaus&limit=5", server.base);

    let done = AtomicBool::new(false);
    let (library_queries, http_queries) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let rounds = 12;
    std::thread::scope(|scope| {
        let library = scope.spawn(|| {
            let request = SearchRequest::new("plateaus");
            while !done.load(Ordering::Relaxed) {
                let response = index.search(&request).expect("a search during reindex");
                assert_eq!(response.total, stable, "a half-written state was seen");
                library_queries.fetch_add(1, Ordering::Relaxed);
            }
        });
        let http = scope.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                let mut response = agent.get(&url).call().expect("a 200 during reindex");
                let body: serde_json::Value =
                    serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
                assert_eq!(body["total"], stable, "a half-written state was served");
                http_queries.fetch_add(1, Ordering::Relaxed);
            }
        });
        for round in 0..rounds {
            for i in (round % 3..60).step_by(3) {
                let rel = format!("moving/p{i}.txt");
                if (i + round) % 7 == 0 {
                    let _ = std::fs::remove_file(fx.corpus().join(rel));
                } else {
                    let claim = format!("Round {round} claim {i} about saddles.");
                    fx.write(&rel, page(&format!("Moving {i}"), &claim));
                }
            }
            fx.write(
                &format!("moving/round{round}.txt"),
                page("Round", &format!("Marker round{round} saddles.")),
            );
            fx.ok(&["reindex", "--quiet"]);
            // The commit is visible to a reader at once after a reload.
            index.reload().unwrap();
            let marker = SearchRequest::new(format!("round{round}"));
            assert_eq!(index.search(&marker).unwrap().total, 1, "round {round}");
        }
        done.store(true, Ordering::Relaxed);
        library.join().unwrap();
        http.join().unwrap();
    });
    let (library, http) = (
        library_queries.load(Ordering::Relaxed),
        http_queries.load(Ordering::Relaxed),
    );
    eprintln!("queries during {rounds} reindex commits: {library} library, {http} HTTP, 0 failed");
    assert!(library > rounds && http > rounds, "{library} {http}");
    drop(server);
    assert_eq!(ids(&fx, &fx.index()), clean_ids(&fx));
}

/// A tmpfs mounted for the test, unmounted when dropped (even on a panic).
struct Tmpfs(PathBuf);

impl Tmpfs {
    /// Mounts a tmpfs of `size` at `dir`; `None` where mounting is not allowed
    /// (not root, or a container without the capability).
    fn mount(dir: &Path, size: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(dir).unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .stderr(std::process::Stdio::null())
            .status()
            .ok()?;
        status.success().then(|| Tmpfs(dir.to_path_buf()))
    }

    fn remount(&self, options: &str) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,{options}")])
            .arg(&self.0)
            .status()
            .unwrap();
        assert!(status.success(), "remount {options}");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_or_a_read_only_index_fails_the_run_and_keeps_the_last_commit() {
    let fx = Fixture::new();
    let Some(disk) = Tmpfs::mount(&fx.path().join("disk"), "1m") else {
        eprintln!("notice: cannot mount a tmpfs here; scripts/faults covers a full disk and a read-only index");
        return;
    };
    let index = fx.path().join("disk/index");
    let index_arg = index.to_str().unwrap();
    for i in 0..30 {
        fx.write(
            &format!("a/p{i}.txt"),
            page(&format!("First {i}"), "An early claim."),
        );
    }
    fx.ok(&["index", "--index", index_arg]);
    let before = ids(&fx, &index);

    // Enough new, hardly compressible text to fill the 1 MiB disk.
    let mut x: u64 = 1;
    let mut word = || -> String {
        (0..8)
            .map(|_| {
                x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                char::from(b'a' + (x >> 59) as u8 % 26)
            })
            .collect()
    };
    for i in 0..300 {
        let filler: Vec<String> = (0..300).map(|_| word()).collect();
        fx.write(
            &format!("b/p{i}.txt"),
            page(&format!("Second {i}"), &filler.join(" ")),
        );
    }
    for args in [["reindex", "--index"], ["index", "--index"]] {
        let run = fx.run(&[args[0], args[1], index_arg]);
        assert_eq!(run.code, 1, "{args:?} on a full disk: {}", run.stderr);
        assert!(
            run.stderr.contains("No space left on device"),
            "{}",
            run.stderr
        );
        assert_eq!(ids(&fx, &index), before, "the last commit is intact");
        let query = fx.run(&["query", "--index", index_arg, "early"]);
        assert_eq!(query.code, 0, "{}", query.stderr);
    }

    disk.remount("size=64m");
    fx.ok(&["reindex", "--index", index_arg]);
    assert_eq!(ids(&fx, &index), clean_ids(&fx), "the next run converges");

    disk.remount("ro");
    fx.write(
        "a/p0.txt",
        page("First 0", "A change that cannot be saved."),
    );
    let run = fx.run(&["reindex", "--index", index_arg]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("Read-only file system"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);
    let query = fx.run(&["query", "--index", index_arg, "--json", "early"]);
    assert_eq!(
        query.code, 0,
        "a read-only index is still searched: {}",
        query.stderr
    );

    disk.remount("rw");
    fx.ok(&["reindex", "--index", index_arg]);
    assert_eq!(ids(&fx, &index), clean_ids(&fx));
}

#[test]
fn files_left_by_a_run_killed_inside_its_commit_do_not_block_the_next_run() {
    // A run killed between writing its delete files (`<segment>.<opstamp>.del`)
    // and saving the commit leaves them behind, registered but unused. The next
    // run over the same corpus makes the same changes, reaches the same opstamp
    // and wants the same names: it must clear the leftovers first. (Found by
    // scripts/kill-trials; here the leftovers are made directly.)
    let fx = Fixture::new();
    for i in 0..5 {
        fx.write(&format!("p{i}.txt"), page(&format!("Page {i}"), "A claim."));
    }
    fx.ok(&["index"]);
    fx.write("p0.txt", page("Page 0", "A changed claim."));
    {
        let index = tantivy::Index::open_in_dir(fx.index()).unwrap();
        let meta = index.load_metas().unwrap();
        for segment in &meta.segments {
            for opstamp in meta.opstamp..meta.opstamp + 20 {
                let name = format!("{}.{opstamp}.del", segment.id().uuid_string());
                // Through the index's own directory, so the file is registered
                // as managed, exactly as the killed run left it.
                let mut file = index.directory().open_write(Path::new(&name)).unwrap();
                std::io::Write::write_all(&mut file, b"left by a killed run").unwrap();
                tantivy::directory::TerminatingWrite::terminate(file).unwrap();
            }
        }
    }
    let run = fx.run(&["reindex", "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(ids(&fx, &fx.index()), clean_ids(&fx));
}
