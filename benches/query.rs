//! Query latency (issue #5): `Index::search` with the default request (top 10 hits and every
//! facet) for a few typical queries, and `*` (facets over every record).
//!
//! The index is built once, in a temporary folder, from `CLAIMSEARCH_BENCH_CORPUS` when set
//! (e.g. `scripts/gen-corpus 2000 /tmp/gen2k --seed 7`), else from the repository's `corpus/`.
//! Building is not timed.
//!
//! Run: `cargo bench --bench query -- --warm-up-time 1 --measurement-time 5`.

use std::hint::black_box;
use std::path::PathBuf;

use claimsearch::model::Kind;
use claimsearch::{Index, SearchRequest};
use criterion::{criterion_group, criterion_main, Criterion};

fn query(c: &mut Criterion) {
    let corpus = std::env::var_os("CLAIMSEARCH_BENCH_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus"));
    let work = tempfile::tempdir().expect("temporary folder");
    let dir = work.path().join("index");
    let report = Index::ingest(&corpus, &dir, &|_| {}).expect("index the bench corpus");
    eprintln!(
        "query bench: {} pages, {} records from {}",
        report.pages,
        report.records,
        corpus.display()
    );
    let index = Index::open(&dir).expect("open the bench index");

    let requests = [
        (
            "uniform convergence",
            SearchRequest::new("uniform convergence"),
        ),
        ("double descent", SearchRequest::new("double descent")),
        ("grokking", SearchRequest::new("grokking")),
        ("phrase", SearchRequest::new("\"uniform convergence\"")),
        (
            "claims only",
            SearchRequest {
                kinds: vec![Kind::Claim],
                ..SearchRequest::new("double descent")
            },
        ),
        ("facets over everything (*)", SearchRequest::new("*")),
    ];
    let mut group = c.benchmark_group(format!("query/{}records", report.records));
    for (name, request) in &requests {
        let total = index.search(request).expect("bench query").total;
        eprintln!("query bench: {name}: {total} matches");
        group.bench_function(*name, |b| {
            b.iter(|| black_box(index.search(black_box(request)).expect("bench query")))
        });
    }
    group.finish();
}

criterion_group!(benches, query);
criterion_main!(benches);
