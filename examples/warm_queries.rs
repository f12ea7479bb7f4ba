//! Warm-query latency of claimsearch, measured in process (see `scripts/bench`).
//!
//! ```text
//! cargo run --release --example warm_queries -- INDEX_DIR QUERIES_FILE ROUNDS [collapse] [uncached] [exact]
//! ```
//!
//! Opens the index once, runs every query of `QUERIES_FILE` (one a line, in
//! claimsearch's query syntax) once to warm up, then `ROUNDS` rounds with the
//! queries in turn. Each search is what `claimsearch query` asks for: the top
//! 10 hits with snippets, the total and every facet over all matches. Prints
//! JSON: `{"rounds", "queries": [{"query", "total", "median_ms"}],
//! "median_ms"}`, where the overall `median_ms` is the median of the
//! per-query medians (milliseconds, 3 decimals). With `collapse`, each
//! search asks for one hit per claim group, as `query --collapse` does.
//! Asked again, a search of the same commit takes its total, facets, page
//! and echoes from what the first ask kept (`Index::keep_counts`); with
//! `uncached`, nothing is kept, so every search does all its work, as the
//! first ask of a query does. With `exact`, each search counts its facets
//! over every match (`exact_facets`), where a broad one otherwise estimates
//! them past 10,000 matches a segment.

use std::time::Instant;

use claimsearch::{Index, SearchRequest};
use serde_json::json;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: warm_queries INDEX_DIR QUERIES_FILE ROUNDS [collapse] [uncached] [exact]";
    let [index, queries, rounds, flags @ ..] = args.as_slice() else {
        return Err(usage.into());
    };
    if (flags.iter()).any(|f| !["collapse", "uncached", "exact"].contains(&f.as_str())) {
        return Err(usage.into());
    }
    let collapse = flags.iter().any(|f| f == "collapse");
    let exact_facets = flags.iter().any(|f| f == "exact");
    let rounds: usize = rounds.parse()?;
    let index = Index::open(index)?;
    if flags.iter().any(|f| f == "uncached") {
        index.keep_counts(0);
    }
    let requests: Vec<SearchRequest> = std::fs::read_to_string(queries)?
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(|query| SearchRequest {
            collapse,
            exact_facets,
            ..SearchRequest::new(query)
        })
        .collect();

    let mut totals = Vec::with_capacity(requests.len());
    for request in &requests {
        totals.push(index.search(request)?.total);
    }
    let mut times = vec![Vec::with_capacity(rounds); requests.len()];
    for _ in 0..rounds {
        for (request, times) in requests.iter().zip(&mut times) {
            let start = Instant::now();
            std::hint::black_box(index.search(request)?);
            times.push(start.elapsed().as_secs_f64() * 1e3);
        }
    }

    let medians: Vec<f64> = times.iter_mut().map(|t| median(t)).collect();
    let rows: Vec<_> = requests
        .iter()
        .zip(&totals)
        .zip(&medians)
        .map(|((request, total), ms)| {
            json!({"query": request.query, "total": total, "median_ms": round3(*ms)})
        })
        .collect();
    let overall = median(&mut medians.clone());
    let report = json!({"rounds": rounds, "queries": rows, "median_ms": round3(overall)});
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

/// The median of `values` (the mean of the middle two for an even count; 0 when empty).
fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => 0.0,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

fn round3(ms: f64) -> f64 {
    (ms * 1e3).round() / 1e3
}
