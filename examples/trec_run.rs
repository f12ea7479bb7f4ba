//! Runs every query of a BEIR-style queries file through claimsearch's own
//! search code (the one the CLI uses) and writes a TREC run, for measuring
//! ranking with the field's standard tools (see `scripts/eval-beir` and
//! `EVALUATION.md`).
//!
//! ```text
//! cargo run --release --example trec_run -- INDEX QUERIES.jsonl OUT.trec
//! ```
//!
//! `QUERIES.jsonl` holds one `{"_id": …, "text": …}` per line. Each hit's
//! `item_id` (the JSON Lines item's `id`) is the document id of the run; an
//! item that gave several records is ranked once, at its best record.
//!
//! Each query is also run a second time for the top 10 hits only (with facets,
//! as the CLI asks), and that time is reported on stderr, median and 95th
//! percentile: the cost a user sees. The 1,000-hit run spends most of its time
//! loading records and cutting snippets, not ranking.
//!
//! Queries here are plain text that nobody wrote as query syntax, so
//! [`plain_text`] neutralises the syntax first; a user at the CLI gets the
//! syntax on purpose.

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::time::{Duration, Instant};

use claimsearch::{Index, SearchRequest};

/// Hits written per query: the depth of a standard TREC run.
const DEPTH: usize = 1_000;

#[derive(serde::Deserialize)]
struct Query {
    #[serde(rename = "_id")]
    id: String,
    text: String,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [index, queries, out] = args.as_slice() else {
        return Err("usage: trec_run INDEX QUERIES.jsonl OUT.trec".into());
    };
    let index = Index::open(index)?;
    let queries = read_queries(queries)?;
    let mut out = BufWriter::new(File::create(out)?);
    let mut times = Vec::with_capacity(queries.len());
    for query in &queries {
        let (lines, took) = run(&index, query)?;
        times.push(took);
        out.write_all(lines.as_bytes())?;
    }
    out.flush()?;
    report_times(&mut times);
    Ok(())
}

fn read_queries(path: &str) -> Result<Vec<Query>, Box<dyn std::error::Error>> {
    let mut queries = Vec::new();
    for line in BufReader::new(File::open(path)?).lines() {
        let line = line?;
        if !line.trim().is_empty() {
            queries.push(serde_json::from_str(&line)?);
        }
    }
    Ok(queries)
}

/// One query's run lines, and the time a top-10 search for it took (warm).
fn run(index: &Index, query: &Query) -> Result<(String, Duration), Box<dyn std::error::Error>> {
    let text = plain_text(&query.text);
    if text.trim().is_empty() {
        return Ok((String::new(), Duration::ZERO));
    }
    let request = SearchRequest {
        query: text,
        limit: DEPTH,
        ..SearchRequest::default()
    };
    let response = index.search(&request)?;
    let start = Instant::now();
    index.search(&SearchRequest::new(request.query.as_str()))?;
    let took = start.elapsed();
    let mut seen = HashSet::new();
    let mut lines = String::new();
    let docs = response
        .hits
        .iter()
        .filter_map(|hit| Some((hit.record.item_id.as_deref()?, hit.score)))
        .filter(|(doc, _)| seen.insert(*doc));
    for (rank, (doc, score)) in docs.enumerate() {
        lines += &format!("{} Q0 {doc} {} {score} claimsearch\n", query.id, rank + 1);
    }
    Ok((lines, took))
}

/// The text as words only. A letter, a digit, a hyphen inside a word and a
/// decimal point between digits are kept; every other character becomes a
/// space, and the operator words `AND`, `OR`, `NOT` and `IN` are lowercased.
/// No quote, colon, bracket, sign or operator of a sentence is then read as
/// query syntax, and each word reaches the search as a user would type it
/// (`IL-6`, `0.7`).
fn plain_text(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let between = |i: usize, test: fn(&char) -> bool| {
        i > 0 && i + 1 < chars.len() && test(&chars[i - 1]) && test(&chars[i + 1])
    };
    let kept = |i: usize| match chars[i] {
        c if c.is_alphanumeric() => c,
        '-' if between(i, |c| c.is_alphanumeric()) => '-',
        '.' if between(i, char::is_ascii_digit) => '.',
        _ => ' ',
    };
    let spaced: String = (0..chars.len()).map(kept).collect();
    let words: Vec<String> = spaced
        .split_whitespace()
        .map(|w| match w {
            "AND" | "OR" | "NOT" | "IN" => w.to_lowercase(),
            _ => w.to_string(),
        })
        .collect();
    words.join(" ")
}

fn report_times(times: &mut [Duration]) {
    if times.is_empty() {
        return;
    }
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
    eprintln!(
        "{} queries, top 10 + facets: median {:.3} ms, p95 {:.3} ms per query",
        times.len(),
        at(0.5).as_secs_f64() * 1e3,
        at(0.95).as_secs_f64() * 1e3
    );
}
