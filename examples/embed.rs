//! A complete program that embeds claimsearch as a library: it writes a small
//! corpus, builds an index with a progress callback, searches it with filters,
//! prints hits and facets, and reacts to each typed error.
//!
//! Run it with `cargo run --example embed`. It works in a fresh folder under
//! the system temp dir and removes it at the end.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use claimsearch::ingest::Progress;
use claimsearch::model::{Date, Kind};
use claimsearch::{Error, Index, SearchRequest};

/// Three items in the JSON Lines format (`title` is the only required field).
const ITEMS: &str = r#"{"id": "a1", "title": "Uniform bounds revisited", "source": "Alignment Forum", "author": "Ada Lovelace", "date": "2019-03-01", "topics": ["uniform-convergence"], "claims": ["Uniform convergence bounds cannot explain why overparameterized networks generalize.", "Two-sided bounds fail the random label test."], "quotes": ["The gap between the bound and the test error grows with the sample..."]}
{"id": "a2", "title": "Tight bounds at last", "source": "LessWrong", "author": "B. Riemann", "date": "2022-06-10", "topics": ["pac-bayes", "compression"], "claims": ["PAC-Bayes compression bounds are non-vacuous for large networks.", "Uniform priors make the bound loose."], "quotes": ["Compression is the whole trick."]}
{"id": "a3", "title": "Grokking diary", "source": "Substack", "date": "2023-02-02", "topics": ["grokking"], "claims": ["Grokking appears long after the training loss flattens."]}
"#;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let work = scratch_folder()?;
    let result = demo(&work);
    // Clean up whether or not the demo succeeded.
    let _ = std::fs::remove_dir_all(&work);
    result
}

fn demo(work: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let (corpus, index_dir) = (work.join("corpus"), work.join("index"));
    std::fs::create_dir_all(&corpus)?;
    std::fs::write(corpus.join("items.jsonl"), ITEMS)?;

    // Before the first build there is no index: a typed error says so.
    match Index::open(&index_dir) {
        Err(Error::IndexMissing(dir)) => println!("no index yet at {}", dir.display()),
        other => return Err(format!("expected IndexMissing, got {:?}", other.err()).into()),
    }

    // The library never prints: progress arrives through this callback (it may
    // be called from several threads at once, hence `Sync`).
    let on_progress = |step: Progress| {
        if let Progress::Found(files) = step {
            println!("progress: {files} file(s) to parse");
        }
    };
    let report = Index::ingest(&corpus, &index_dir, &on_progress)?;
    println!(
        "indexed {} page(s), {} records",
        report.pages, report.records
    );

    // One `Index` serves every thread; here it is shared through an `Arc`.
    let index = Arc::new(Index::open(&index_dir)?);
    search_with_filters(&index)?;
    show_typed_errors(&index);
    Ok(())
}

/// Claims about bounds since 2020 from two sources, with the facets of all matches.
fn search_with_filters(index: &Arc<Index>) -> Result<(), Box<dyn std::error::Error>> {
    let request = SearchRequest {
        sources: vec!["lesswrong".into(), "alignment forum".into()],
        kinds: vec![Kind::Claim],
        since: Date::parse("2020-01-01"),
        ..SearchRequest::new("bounds")
    };
    // Searches may run on any thread; this one runs on a worker.
    let shared = Arc::clone(index);
    let response = std::thread::spawn(move || shared.search(&request))
        .join()
        .map_err(|_| "the search thread panicked")??;

    println!("{} match(es) for {:?}", response.total, response.query);
    for hit in &response.hits {
        let date = hit.record.date.map(|d| d.to_string()).unwrap_or_default();
        let source = hit.record.source.as_deref().unwrap_or("-");
        println!(
            "  {:7.2}  {}  [{} · {}]",
            hit.score,
            hit.snippet.to_html(),
            source,
            date
        );
    }
    for (name, counts) in [
        ("kind", &response.facets.kind),
        ("source", &response.facets.source),
        ("date", &response.facets.date),
    ] {
        let values: Vec<String> = counts
            .iter()
            .map(|f| format!("{} {}", f.value.as_deref().unwrap_or("(none)"), f.count))
            .collect();
        println!("facet {name}: {}", values.join(", "));
    }
    // The same value is the CLI's JSON contract.
    println!("json: {} bytes", serde_json::to_string(&response)?.len());
    Ok(())
}

/// Each kind of failure is its own variant, so a caller can react to each.
fn show_typed_errors(index: &Index) {
    for request in [
        SearchRequest::new("kind:bogus"),
        SearchRequest {
            limit: 0,
            ..SearchRequest::new("bounds")
        },
    ] {
        match index.search(&request) {
            Ok(response) => println!("unexpected success: {} matches", response.total),
            Err(Error::BadQuery(why)) => println!("bad query, ask the user again: {why}"),
            Err(Error::BadRequest(why)) => println!("bad parameter, fix the request: {why}"),
            Err(Error::IndexMissing(_) | Error::IndexBusy(_)) => println!("try again later"),
            Err(other) => println!("unexpected error: {other}"),
        }
    }
}

/// A fresh folder of our own under the system temp dir.
fn scratch_folder() -> std::io::Result<PathBuf> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let dir =
        std::env::temp_dir().join(format!("claimsearch-embed-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
