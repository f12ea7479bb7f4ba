//! Property-based fuzzing of every parser: page bytes and text, structured
//! extraction, thread and JSON Lines pages with mutations, query strings
//! against a real index, and HTTP requests through the server's router.
//!
//! Each target first replays its saved inputs (`fuzz/corpus/<target>/`), then
//! runs proptest cases: a modest number under `cargo test`, more under
//! `scripts/fuzz`, which sets `PROPTEST_CASES` (cases per round) and
//! `FUZZ_SECONDS` (keep starting new rounds, each from a fresh random seed,
//! until that much time has passed). A case slower than `FUZZ_HANG_MS`
//! (default 20,000) fails as a hang. Every target prints one line,
//! `fuzz-stats target=… executions=… seconds=… slowest_ms=… seeds=…
//! peak_rss_kb=…`, which the script collects. Failures are shrunk and their
//! seeds saved in `tests/it/fuzz.proptest-regressions`, replayed on every run.

use std::cell::Cell;
use std::collections::HashSet;
use std::fmt::Debug;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, RngSeed, TestCaseError, TestRunner};
use tower::ServiceExt;

use claimsearch::model::{Date, Kind, Page};
use claimsearch::page::{parse_bytes, Parsed, Skip};
use claimsearch::query::DateBucket;
use claimsearch::schema::{self, Fields};
use claimsearch::{ingest, Error, Index, SearchRequest};

// ---------------------------------------------------------------------------
// The harness
// ---------------------------------------------------------------------------

fn env<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// The saved inputs of `target`: (file name, bytes), sorted by name.
fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut found: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect();
    found.sort();
    assert!(!found.is_empty(), "no seeds in {}", dir.display());
    found
}

/// This process's peak resident memory, from the kernel.
fn peak_rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    (status.lines())
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Replays the seeds through `replay`, then runs `check` on generated inputs
/// (see the module comment for the budget), failing on any error, panic or
/// case slower than the hang limit.
fn fuzz<S>(
    target: &str,
    default_cases: u32,
    strategy: S,
    replay: impl Fn(&str, &[u8]) -> Result<(), TestCaseError>,
    check: impl Fn(S::Value) -> Result<(), TestCaseError>,
) where
    S: Strategy,
    S::Value: Debug,
{
    let started = Instant::now();
    let hang = Duration::from_millis(env("FUZZ_HANG_MS").unwrap_or(20_000));
    let executions = Cell::new(0u64);
    let slowest = Cell::new(Duration::ZERO);
    let timed = |run: Box<dyn FnOnce() -> Result<(), TestCaseError> + '_>| {
        let t = Instant::now();
        let result = run();
        let took = t.elapsed();
        executions.set(executions.get() + 1);
        slowest.set(slowest.get().max(took));
        if took > hang {
            return Err(TestCaseError::fail(format!(
                "a case took {took:?} (hang limit {hang:?})"
            )));
        }
        result
    };

    let saved = seeds(target);
    for (name, bytes) in &saved {
        if let Err(e) = timed(Box::new(|| replay(name, bytes))) {
            panic!("fuzz target {target}: saved input {name} fails: {e}");
        }
    }

    let cases = env("PROPTEST_CASES").unwrap_or(default_cases);
    let budget = env::<f64>("FUZZ_SECONDS").map(Duration::from_secs_f64);
    loop {
        // Under plain `cargo test` the cases are the same on every run, so CI
        // never fails by chance; `scripts/fuzz` (a budget) explores anew.
        let rng_seed = match budget {
            None if std::env::var_os("PROPTEST_RNG_SEED").is_none() => RngSeed::Fixed(0x5eed),
            _ => Config::default().rng_seed,
        };
        let config = Config {
            cases,
            rng_seed,
            source_file: Some(file!()),
            failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
                "proptest-regressions",
            ))),
            ..Config::default()
        };
        let mut runner = TestRunner::new(config);
        let outcome = runner.run(&strategy, |value| timed(Box::new(|| check(value))));
        if let Err(e) = outcome {
            panic!("fuzz target {target} failed: {e}");
        }
        if budget.is_none_or(|b| started.elapsed() >= b) {
            break;
        }
    }
    eprintln!(
        "fuzz-stats target={target} executions={} seconds={:.1} slowest_ms={} seeds={} peak_rss_kb={}",
        executions.get(),
        started.elapsed().as_secs_f64(),
        slowest.get().as_millis(),
        saved.len(),
        peak_rss_kb()
    );
}

fn ensure(ok: bool, why: impl FnOnce() -> String) -> Result<(), TestCaseError> {
    if ok {
        Ok(())
    } else {
        Err(TestCaseError::fail(why()))
    }
}

/// Counts of what the cases led to, printed after the stats line so a run
/// shows that the generators reach every outcome.
#[derive(Default)]
struct Tally(std::cell::RefCell<std::collections::BTreeMap<String, u64>>);

impl Tally {
    fn add(&self, outcome: impl Into<String>) {
        *self.0.borrow_mut().entry(outcome.into()).or_default() += 1;
    }

    /// Adds an outcome, as the result of a passing case.
    fn count(&self, outcome: impl Into<String>) -> Result<(), TestCaseError> {
        self.add(outcome);
        Ok(())
    }

    fn print(&self, target: &str) {
        let counts: Vec<String> = (self.0.borrow().iter())
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        eprintln!("fuzz-outcomes target={target} {}", counts.join(" "));
    }
}

/// What a parsed file became, for the tally.
fn outcome(parsed: &Option<Parsed>) -> &'static str {
    match parsed.as_ref().map(|p| &p.page) {
        None => "skipped",
        Some(Page::Extraction(_)) => "extraction",
        Some(Page::Thread(_)) => "thread",
        Some(Page::Raw(_)) => "raw",
        Some(Page::Items(_)) => "items",
    }
}

// ---------------------------------------------------------------------------
// Pages
// ---------------------------------------------------------------------------

/// Parses a file the way ingest does and checks what comes out: a NUL means
/// binary, every record id is unique and starts with the path, and every
/// record becomes an index document and round-trips through JSON.
fn check_page(name: &str, bytes: &[u8]) -> Result<Option<Parsed>, TestCaseError> {
    let parsed = match parse_bytes(name, bytes) {
        Ok(parsed) => parsed,
        Err(Skip::Binary) => {
            ensure(bytes.contains(&0), || "binary without a NUL".into())?;
            return Ok(None);
        }
        Err(Skip::Empty) => return Ok(None),
    };
    ensure(!bytes.contains(&0), || "a NUL was parsed".into())?;
    let path = format!("fuzz/{name}");
    let records = parsed.page.indexables(&path);
    let fields = fields();
    let mut ids = HashSet::new();
    for indexable in &records {
        let record = &indexable.record;
        ensure(ids.insert(record.id.clone()), || {
            format!("duplicate id {}", record.id)
        })?;
        ensure(record.id.starts_with(&format!("{path}#")), || {
            format!("id {} outside {path}", record.id)
        })?;
        let _ = fields.document(indexable);
        let json = serde_json::to_string(record).unwrap();
        let back: claimsearch::model::Record = serde_json::from_str(&json).unwrap();
        ensure(&back == record, || {
            format!("{} does not round-trip", record.id)
        })?;
    }
    Ok(Some(parsed))
}

fn fields() -> &'static Fields {
    static FIELDS: OnceLock<Fields> = OnceLock::new();
    FIELDS.get_or_init(|| Fields::new(&schema::build()).unwrap())
}

fn replay_page(name: &str, bytes: &[u8]) -> Result<(), TestCaseError> {
    check_page(name, bytes).map(|_| ())
}

/// File names that select each parser.
fn page_name() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "page.txt",
        "page.md",
        "feed.jsonl",
        "FEED.JSONL",
        "noext",
    ])
    .prop_map(String::from)
}

/// Byte strings that matter to the parsers: line ends, the byte-order mark,
/// `·`, `•`, `—`, `…`, brackets, bullets, JSON, headings and broken UTF-8.
const SPECIAL_BYTES: &[u8] = b"\n|\r\n|\r| |\t|\xEF\xBB\xBF|\xC2\xB7|\xE2\x80\xA2|\xE2\x80\x94|\
    \xE2\x80\xA6|[|]|[1]|- |1. |:|...|{|}|\"|,|2020-02-29|Topics:|Claims|Key quotes|Extraction|\
    history|Version 2|Sources|\xFF|\xE2\x82";

/// Bytes that matter to the parsers, mixed into random ones.
fn page_byte() -> impl Strategy<Value = Vec<u8>> {
    let special: Vec<&'static [u8]> = SPECIAL_BYTES.split(|b| *b == b'|').collect();
    prop_oneof![
        3 => any::<u8>().prop_map(|b| vec![b]),
        2 => prop::sample::select(special).prop_map(|s| s.to_vec()),
    ]
}

#[test]
fn page_bytes() {
    // Most inputs keep no NUL, so that they reach the parsers rather than
    // stopping at "binary"; one in ten keeps them.
    let bytes = (
        prop::collection::vec(page_byte(), 0..600),
        prop::bool::weighted(0.1),
    )
        .prop_map(|(parts, keep_nul)| {
            let mut bytes = parts.concat();
            if !keep_nul {
                bytes
                    .iter_mut()
                    .filter(|b| **b == 0)
                    .for_each(|b| *b = b'\n');
            }
            bytes
        });
    let tally = Tally::default();
    fuzz(
        "page_bytes",
        256,
        (page_name(), bytes),
        replay_page,
        |(name, bytes)| tally.count(outcome(&check_page(&name, &bytes)?)),
    );
    tally.print("page_bytes");
}

#[test]
fn page_text() {
    let tally = Tally::default();
    fuzz(
        "page_text",
        256,
        (page_name(), any::<String>()),
        replay_page,
        |(name, text)| tally.count(outcome(&check_page(&name, text.as_bytes())?)),
    );
    tally.print("page_text");
}

/// Words that are never headings, so an unmutated page has a known reading.
const WORDS: [&str; 16] = [
    "loss", "plateau", "saddle", "model", "data", "gradient", "noise", "kernel", "width",
    "scaling", "grokking", "uniform", "bound", "margin", "the", "of",
];

fn sentence(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(WORDS.to_vec()), 1..max).prop_map(|w| w.join(" "))
}

fn date() -> impl Strategy<Value = String> {
    (1990u32..2030, 1u32..13, 1u32..29).prop_map(|(y, m, d)| format!("{y}-{m:02}-{d:02}"))
}

fn bullet() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["• ", "- ", "* ", "– ", "1. ", "2) ", "  • "]).prop_map(String::from)
}

/// Lines that change how a page reads, wherever they land: headings, header
/// parts, bullets, citations and dates at their edges.
const HOSTILE_LINES: &str = "Claims|Key quotes|Extraction|Appears in|Topics:|Topics: a-bc-d|\
    The Information Machine|Open original ↗|Narrative|Timeline|Perspectives|Tensions|Sources|\
    X · history|Version 4294967296|Version 0|Version 3|\
    2024-01-02 03:04 UTC · 99999999999 items|Evolution:|[1]|[|]]]]|1. [1] t — c (2020-02-30)|\
    0000-00-00: nothing|9999-12-31: far|•|-|1.|(No summary yet for this item)|·|· · ·|\
    Src · · 2020-01-01";

/// A line that can turn a page into something else when put anywhere.
fn hostile_line() -> impl Strategy<Value = String> {
    let fixed: Vec<String> = HOSTILE_LINES.split('|').map(String::from).collect();
    let cited = (bullet(), sentence(6), "( ?\\[[0-9]{1,3}\\]){0,4}")
        .prop_map(|(b, s, c)| format!("{b}{s}{c}"));
    prop_oneof![
        4 => prop::sample::select(fixed),
        1 => "\\PC{0,40}",
        1 => ("[\\[\\]0-9 ]{1,12}", 1usize..400).prop_map(|(s, n)| s.repeat(n)),
        1 => cited,
    ]
}

#[derive(Debug, Clone)]
enum Mutation {
    Delete(usize),
    Duplicate(usize),
    Swap(usize, usize),
    Insert(usize, String),
    Replace(usize, String),
    CutBytes(usize),
    FlipByte(usize, u8),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let at = any::<usize>();
    prop_oneof![
        at.prop_map(Mutation::Delete),
        at.prop_map(Mutation::Duplicate),
        (at, at).prop_map(|(a, b)| Mutation::Swap(a, b)),
        (at, hostile_line()).prop_map(|(a, l)| Mutation::Insert(a, l)),
        (at, hostile_line()).prop_map(|(a, l)| Mutation::Replace(a, l)),
        at.prop_map(Mutation::CutBytes),
        (at, any::<u8>()).prop_map(|(a, b)| Mutation::FlipByte(a, b)),
    ]
}

/// How the lines are put together: line ending, byte-order mark, indentation.
#[derive(Debug, Clone)]
struct Layout {
    newline: &'static str,
    bom: bool,
    blank_lines: bool,
}

fn layout() -> impl Strategy<Value = Layout> {
    (
        prop::sample::select(vec!["\n", "\r\n", "\r"]),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(newline, bom, blank_lines)| Layout {
            newline,
            bom,
            blank_lines,
        })
}

/// A generated page: its lines, what an unmutated reading must find, and the
/// damage done to it.
#[derive(Debug, Clone)]
struct Generated {
    lines: Vec<String>,
    expect: (usize, usize),
    layout: Layout,
    mutations: Vec<Mutation>,
}

impl Generated {
    fn bytes(&self) -> Vec<u8> {
        let mut lines = self.lines.clone();
        let mut cut = None;
        let mut flips = Vec::new();
        for m in &self.mutations {
            let n = lines.len().max(1);
            match m {
                Mutation::Delete(i) if !lines.is_empty() => {
                    lines.remove(i % n);
                }
                Mutation::Duplicate(i) if !lines.is_empty() => {
                    let line = lines[i % n].clone();
                    lines.insert(i % n, line);
                }
                Mutation::Swap(a, b) if !lines.is_empty() => lines.swap(a % n, b % n),
                Mutation::Insert(i, l) => lines.insert(i % (lines.len() + 1), l.clone()),
                Mutation::Replace(i, l) if !lines.is_empty() => lines[i % n] = l.clone(),
                Mutation::CutBytes(at) => cut = Some(*at),
                Mutation::FlipByte(at, b) => flips.push((*at, *b)),
                _ => {}
            }
        }
        let sep = if self.layout.blank_lines {
            format!("{0}{0}", self.layout.newline)
        } else {
            self.layout.newline.to_string()
        };
        let mut bytes = Vec::new();
        if self.layout.bom {
            bytes.extend_from_slice(b"\xEF\xBB\xBF");
        }
        bytes.extend_from_slice(lines.join(&sep).as_bytes());
        for (at, b) in flips {
            if !bytes.is_empty() {
                let n = bytes.len();
                bytes[at % n] = b;
            }
        }
        if let Some(at) = cut {
            bytes.truncate(at % (bytes.len() + 1));
        }
        bytes
    }
}

fn generated(
    page: impl Strategy<Value = (Vec<String>, (usize, usize))>,
) -> impl Strategy<Value = Generated> {
    let mutations = prop_oneof![
        1 => Just(Vec::new()),
        3 => prop::collection::vec(mutation(), 1..5),
    ];
    (page, layout(), mutations).prop_map(|((lines, expect), layout, mutations)| Generated {
        lines,
        expect,
        layout,
        mutations,
    })
}

/// An extraction page in one of the renderers' layouts; expects (claims, quotes).
fn extraction_page() -> impl Strategy<Value = (Vec<String>, (usize, usize))> {
    let meta = prop_oneof![
        (sentence(3), sentence(3), date()).prop_map(|(s, a, d)| format!("{s} · {a} · {d}")),
        (sentence(3), date()).prop_map(|(s, d)| format!("{s} · {d}")),
        date(),
    ];
    let topics = prop_oneof![
        prop::collection::vec("[a-z]{2,8}(-[a-z]{2,8}){0,3}", 0..6).prop_map(|t| t.concat()),
        prop::collection::vec("[a-z]{2,8}(-[a-z]{2,8}){0,3}", 0..6).prop_map(|t| t.join(", ")),
    ];
    (
        any::<bool>(),
        sentence(8),
        meta,
        prop::collection::vec(sentence(20), 0..3),
        prop::collection::vec(sentence(6), 0..3),
        topics,
        prop::collection::vec((bullet(), sentence(20)), 0..8),
        prop::collection::vec((sentence(20), any::<bool>()), 0..5),
    )
        .prop_map(
            |(header, title, meta, summary, threads, topics, claims, quotes)| {
                let mut lines = Vec::new();
                if header {
                    lines.push("The Information Machine".to_string());
                }
                lines.extend([title, meta]);
                lines.extend(summary);
                lines.extend(["Open original ↗".to_string(), "Appears in".to_string()]);
                lines.extend(threads);
                lines.extend(["Extraction".to_string(), format!("Topics: {topics}")]);
                lines.push("Claims".to_string());
                let expect = (claims.len(), quotes.len());
                lines.extend(claims.into_iter().map(|(b, c)| format!("{b}{c}")));
                lines.push("Key quotes".to_string());
                for (quote, cut) in quotes {
                    lines.push(if cut { format!("{quote}...") } else { quote });
                }
                (lines, expect)
            },
        )
}

/// A thread history page; expects (timeline events, tensions).
fn thread_page() -> impl Strategy<Value = (Vec<String>, (usize, usize))> {
    let cites = "( ?\\[[1-9]\\]){0,3}";
    let event =
        (bullet(), date(), sentence(12), cites).prop_map(|(b, d, s, c)| format!("{b}{d}: {s}{c}"));
    let tension = (bullet(), sentence(12), cites).prop_map(|(b, s, c)| format!("{b}{s}?{c}"));
    let perspective = (sentence(3), sentence(3), sentence(15), cites, any::<bool>()).prop_map(
        |(name, venue, view, c, evolution)| {
            let mut lines = vec![format!("{name} ({venue})"), format!("{view}.{c}")];
            if evolution {
                lines.push(format!("Evolution: {view}{c}"));
            }
            lines
        },
    );
    let source = (1u32..12, sentence(6), sentence(2), prop::option::of(date())).prop_map(
        |(n, title, channel, date)| match date {
            Some(d) => format!("{n}. [{n}] {title} — {channel} ({d})"),
            None => format!("- [{n}] {title} — {channel}"),
        },
    );
    (
        any::<bool>(),
        sentence(8),
        1u32..40,
        date(),
        // At least one paragraph: a page with every section empty is read as
        // raw text on purpose (too damaged to be a thread).
        prop::collection::vec((sentence(30), cites), 1..3),
        prop::collection::vec(event, 0..6),
        prop::collection::vec(perspective, 0..3),
        prop::collection::vec(tension, 0..5),
        prop::collection::vec(source, 0..6),
    )
        .prop_map(
            |(header, title, version, date, narrative, events, perspectives, tensions, sources)| {
                let mut lines = Vec::new();
                if header {
                    lines.push("The Information Machine".to_string());
                }
                lines.push(format!("{title} · history"));
                lines.push(format!("Version {version}"));
                lines.push(format!("{date} 10:00 UTC · {version} items"));
                lines.push("Narrative".to_string());
                lines.extend(narrative.into_iter().map(|(s, c)| format!("{s}.{c}")));
                let expect = (events.len(), tensions.len());
                lines.push("Timeline".to_string());
                lines.extend(events);
                lines.push("Perspectives".to_string());
                lines.extend(perspectives.into_iter().flatten());
                lines.push("Tensions".to_string());
                lines.extend(tensions);
                lines.push("Sources".to_string());
                lines.extend(sources);
                (lines, expect)
            },
        )
}

/// Checks a generated page; an unmutated one must read as `kind` with the
/// expected counts.
fn check_generated(
    g: &Generated,
    name: &str,
    counts: fn(&Page) -> Option<(usize, usize)>,
    tally: &Tally,
) -> Result<(), TestCaseError> {
    let parsed = check_page(name, &g.bytes())?;
    let damage = if g.mutations.is_empty() {
        "intact"
    } else {
        "mutated"
    };
    tally.add(format!("{damage}-{}", outcome(&parsed)));
    if g.mutations.is_empty() {
        let page = parsed.map(|p| p.page);
        let got = page.as_ref().and_then(counts);
        ensure(got == Some(g.expect), || {
            format!("expected {:?}, read {page:?}", g.expect)
        })?;
    }
    Ok(())
}

#[test]
fn extraction_pages() {
    let tally = Tally::default();
    let counts: fn(&Page) -> Option<(usize, usize)> = |p| match p {
        Page::Extraction(item) => Some((item.claims.len(), item.quotes.len())),
        _ => None,
    };
    fuzz(
        "extraction_pages",
        192,
        generated(extraction_page()),
        replay_page,
        |g| check_generated(&g, "item.txt", counts, &tally),
    );
    tally.print("extraction_pages");
}

#[test]
fn thread_pages() {
    let tally = Tally::default();
    let counts: fn(&Page) -> Option<(usize, usize)> = |p| match p {
        Page::Thread(t) => Some((t.timeline.len(), t.tensions.len())),
        _ => None,
    };
    fuzz(
        "thread_pages",
        192,
        generated(thread_page()),
        replay_page,
        |g| check_generated(&g, "v1.txt", counts, &tally),
    );
    tally.print("thread_pages");
}

/// A JSON value of any shape, for fields that expect a particular one.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::{json, Value};
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        Just(json!(1e308)),
        Just(json!(u64::MAX)),
        "\\PC{0,30}".prop_map(Value::String),
        date().prop_map(Value::String),
        Just(json!("2019-02-30")),
        Just(json!("(No summary yet for this item)")),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// One JSON Lines item, mostly well-formed, with wrong types and unknown keys.
fn jsonl_item() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::{json, Value};
    let strings = || prop::collection::vec(sentence(10), 0..5);
    let good = (
        prop::option::of(prop_oneof![
            sentence(2).prop_map(Value::String),
            any::<i64>().prop_map(|n| json!(n))
        ]),
        sentence(8),
        prop::option::of(sentence(2)),
        prop::option::of(date()),
        strings(),
        strings(),
        strings(),
    )
        .prop_map(|(id, title, source, date, topics, claims, quotes)| {
            let mut item =
                json!({"title": title, "topics": topics, "claims": claims, "quotes": quotes});
            if let Some(id) = id {
                item["id"] = id;
            }
            if let Some(source) = source {
                item["source"] = json!(source);
            }
            if let Some(date) = date {
                item["date"] = json!(date);
            }
            item
        });
    let keys = prop::sample::select(vec![
        "id", "title", "source", "author", "date", "url", "summary", "topics", "claims", "quotes",
        "threads", "extra",
    ]);
    (good, prop::collection::vec((keys, json_value()), 0..3)).prop_map(|(mut item, damage)| {
        for (key, value) in damage {
            item[key] = value;
        }
        item
    })
}

#[test]
fn jsonl_feeds() {
    let lines = prop::collection::vec(
        prop_oneof![
            6 => jsonl_item().prop_map(|v| v.to_string()),
            1 => json_value().prop_map(|v| v.to_string()),
            1 => hostile_line(),
            1 => Just(String::new()),
        ],
        0..8,
    );
    let mutations = prop_oneof![
        2 => Just(Vec::new()),
        1 => prop::collection::vec(mutation(), 1..4),
    ];
    let feeds = (lines, layout(), mutations).prop_map(|(lines, layout, mutations)| Generated {
        lines,
        expect: (0, 0),
        layout,
        mutations,
    });
    let tally = Tally::default();
    fuzz("jsonl_feeds", 192, feeds, replay_page, |g| {
        let bytes = g.bytes();
        let parsed = check_page("feed.jsonl", &bytes)?;
        if let Some(Parsed {
            page: Page::Items(items),
            warnings,
        }) = &parsed
        {
            tally.add(format!("items-{}", items.len().min(3)));
            tally.add(format!("warnings-{}", warnings.len().min(3)));
        } else {
            tally.add(outcome(&parsed));
        }
        // Unmutated, every non-blank line is an item or a warning, never both.
        if let (true, Some(parsed)) = (g.mutations.is_empty(), parsed) {
            let Page::Items(items) = &parsed.page else {
                return Err(TestCaseError::fail("a .jsonl file did not read as items"));
            };
            let lines = g.lines.iter().filter(|l| !l.trim().is_empty()).count();
            let warned: HashSet<_> = parsed.warnings.iter().filter_map(|w| w.line).collect();
            ensure(items.len() + warned.len() == lines, || {
                format!(
                    "{} items + {} warnings != {lines} lines",
                    items.len(),
                    warned.len()
                )
            })?;
        }
        Ok(())
    });
    tally.print("jsonl_feeds");
}

// ---------------------------------------------------------------------------
// Queries
// ---------------------------------------------------------------------------

/// A small index of every page kind, built once per test binary run.
fn small_index() -> &'static (tempfile::TempDir, PathBuf) {
    static INDEX: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    INDEX.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let corpus = dir.path().join("corpus");
        let index = dir.path().join("index");
        let write = |rel: &str, text: &str| {
            let path = corpus.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        write(
            "items/a.txt",
            &crate::util::extraction(
                "Uniform convergence revisited",
                "arXiv · Ada Lovelace · 2019-02-13",
                "uniform-convergence, generalization-bounds",
                &["Uniform convergence cannot explain generalization.", "Bounds grow with data."],
                &["The bound is vacuous...", "Plateaus precede drops."],
            ),
        );
        for v in 1..=2 {
            write(
                &format!("threads/t/v{v}.txt"),
                &format!("Plateau Watch · history\nVersion {v}\n2026-0{v}-01 10:00 UTC · 3 items\nNarrative\nThe story [1].\nTimeline\n- 2025-01-0{v}: Loss plateaus reported [1]\nTensions\n- Why plateaus? [1]\nSources\n- [1] Post — LessWrong (2025-01-01)\n"),
            );
        }
        write(
            "feeds/f.jsonl",
            "{\"id\": 7, \"title\": \"Grokking\", \"source\": \"NeurIPS\", \"date\": \"2022-10-03\", \"topics\": [\"grokking\"], \"claims\": [\"Weight decay drives grokking.\"], \"threads\": [\"Plateau Watch\"]}\n",
        );
        write("raw/r.txt", "Notes\n\nA raw passage about saddle points and kernels.\n");
        ingest::build(&corpus, &index, &|_| {}).unwrap();
        (dir, index)
    })
}

fn open_small_index() -> Index {
    Index::open(&small_index().1).unwrap()
}

/// Words the small index holds, for queries that find something.
const QUERY_WORDS: &str = "uniform|convergence|plateaus|grokking|Grokking|bound|saddle|\
    kernels|weight|decay|story|arxiv|claim|ünïcode|日本語|🦀";

/// The query grammar's operators and fields, with values at the edges.
const QUERY_SYNTAX: &str = "*|\"|(|)|[|]|{|}|:|-|+|^|^2|^-1.5|~|~2|\\|'|AND|OR|NOT|TO|IN|\
    title:|text:|topics:|source:|kind:|topic:|author:|thread:|path:|date:|thread_version:|\
    facets:|record:|nosuch:|source:arxiv|kind:quote|date:2019-02-13|date:>2019-01-01|\
    date:[2019-01-01 TO 2020-01-01]|date:[* TO *]|thread_version:0|\
    thread_version:[0 TO 18446744073709551615]|facets:/kind/claim|1e309|-0|\
    18446744073709551616|\u{0}|\u{feff}|a*|*a|?";

/// Query text: the grammar's tokens in any order, or anything at all.
fn query_text() -> impl Strategy<Value = String> {
    let words = QUERY_WORDS.split('|').collect::<Vec<_>>();
    let syntax = QUERY_SYNTAX.split('|').collect::<Vec<_>>();
    let token = prop_oneof![
        3 => prop::sample::select(words),
        2 => prop::sample::select(syntax),
    ];
    let gap = prop::sample::select(vec![" ", "", "  "]);
    let soup = prop::collection::vec((token, gap), 1..10).prop_map(|parts| {
        let parts = parts.into_iter().map(|(t, s)| format!("{t}{s}"));
        parts.collect::<String>()
    });
    let words = QUERY_WORDS.split('|').collect::<Vec<_>>();
    let plain = prop::collection::vec(prop::sample::select(words), 1..5).prop_map(|w| w.join(" "));
    prop_oneof![
        4 => plain,
        4 => soup,
        2 => "\\PC{0,60}",
        1 => any::<String>(),
        1 => (1usize..2_100).prop_map(|n| "a ".repeat(n / 2)),
    ]
}

fn search_request() -> impl Strategy<Value = SearchRequest> {
    let limit = prop_oneof![
        16 => 1usize..30,
        1 => Just(0usize),
        1 => Just(10_001usize),
        1 => Just(usize::MAX),
    ];
    let offset = prop_oneof![
        16 => 0usize..5,
        1 => Just(100_000usize),
        1 => Just(100_001usize),
        1 => Just(usize::MAX),
    ];
    let bucket = prop::sample::select(vec![DateBucket::Year, DateBucket::Month, DateBucket::Day]);
    (
        query_text(),
        limit,
        offset,
        filters(),
        bucket,
        any::<bool>(),
    )
        .prop_map(
            |(query, limit, offset, filters, date_bucket, all_versions)| SearchRequest {
                query,
                limit,
                offset,
                date_bucket,
                all_versions,
                ..filters
            },
        )
}

/// Filters, absent most of the time so that most requests can match.
fn filters() -> impl Strategy<Value = SearchRequest> {
    let text = || {
        prop_oneof![
            Just("arXiv".to_string()),
            Just("Plateau Watch".to_string()),
            "\\PC{0,12}",
        ]
    };
    let list = move || prop_oneof![3 => Just(Vec::new()), 1 => prop::collection::vec(text(), 1..3)];
    let one = move || prop_oneof![3 => Just(None), 1 => text().prop_map(Some)];
    let kind = prop::sample::select(Kind::ALL.to_vec());
    let kinds = prop_oneof![3 => Just(Vec::new()), 1 => prop::collection::vec(kind, 1..3)];
    let day = || prop_oneof![3 => Just(None), 1 => date().prop_map(|d| Date::parse(&d))];
    (list(), list(), kinds, list(), one(), day(), day()).prop_map(
        |(sources, topics, kinds, authors, thread, since, until)| SearchRequest {
            sources,
            topics,
            kinds,
            authors,
            thread,
            since,
            until,
            ..SearchRequest::default()
        },
    )
}

/// Any request is answered or refused with a user error, never a panic or an
/// internal error; an answer keeps its own bounds.
fn check_search(index: &Index, request: &SearchRequest) -> Result<&'static str, TestCaseError> {
    match index.search(request) {
        Ok(response) => {
            ensure(response.hits.len() <= request.limit, || {
                "too many hits".into()
            })?;
            ensure(response.total >= response.hits.len(), || {
                "total below hits".into()
            })?;
            serde_json::to_string(&response).unwrap();
            Ok(if response.total > 0 {
                "hits"
            } else {
                "no-hits"
            })
        }
        Err(Error::BadQuery(_)) => Ok("bad-query"),
        Err(Error::BadRequest(_)) => Ok("bad-request"),
        Err(e) => Err(TestCaseError::fail(format!("internal error: {e}"))),
    }
}

#[test]
fn query_strings() {
    let index = open_small_index();
    // Saved inputs are query texts, one per line, asked with default settings.
    let replay = |_: &str, bytes: &[u8]| -> Result<(), TestCaseError> {
        for line in String::from_utf8_lossy(bytes).lines() {
            check_search(&index, &SearchRequest::new(line))?;
        }
        Ok(())
    };
    let tally = Tally::default();
    fuzz("query_strings", 256, search_request(), replay, |request| {
        tally.count(check_search(&index, &request)?)
    });
    tally.print("query_strings");
}

#[test]
fn a_query_error_is_always_a_user_error() {
    let index = open_small_index();
    for query in [
        "",
        "   ",
        "nosuch:x",
        "(",
        "\"unclosed",
        "title:",
        "date:notadate",
    ] {
        match index.search(&SearchRequest::new(query)) {
            Err(e @ (Error::BadQuery(_) | Error::BadRequest(_))) => assert!(e.is_user_error()),
            Ok(_) => {}
            Err(other) => panic!("{query:?}: {other}"),
        }
    }
}

// ---------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct HttpCase {
    method: Method,
    path: String,
    query: Option<String>,
    body: usize,
    declared_length: Option<u64>,
    chunked: bool,
}

/// The server's parameters, and two it does not know.
const PARAMETERS: &str =
    "q|source|topic|kind|author|thread|since|until|limit|offset|date_bucket|all_versions|verified|colour|Q";

fn percent_encode(raw: &str) -> String {
    form_urlencoded::byte_serialize(raw.as_bytes()).collect()
}

fn http_query() -> impl Strategy<Value = String> {
    let value = prop_oneof![
        query_text().prop_map(|q| percent_encode(&q)),
        "[0-9]{0,25}",
        Just("-1".to_string()),
        date(),
        Just("2019-02-30".to_string()),
        prop::sample::select(vec![
            "claim", "quote", "CLAIM", "year", "week", "true", "1", "yes"
        ])
        .prop_map(String::from),
        "[a-zA-Z0-9%+&=;._~!$'()*,/:@?-]{0,40}",
        "(%[0-9A-Fa-f]{2}){1,12}",
        (1usize..40_000).prop_map(|n| "x".repeat(n)),
    ];
    let pairs = prop::collection::vec(
        (
            prop::sample::select(PARAMETERS.split('|').collect::<Vec<_>>()),
            prop::option::of(value),
        ),
        0..8,
    )
    .prop_map(|pairs| {
        let parts: Vec<String> = (pairs.into_iter())
            .map(|(k, v)| match v {
                Some(v) => format!("{k}={v}"),
                None => k.to_string(),
            })
            .collect();
        parts.join("&")
    });
    prop_oneof![
        4 => valid_search_query(),
        4 => pairs.clone().prop_map(|p| format!("q=uniform&{p}")),
        4 => pairs,
        1 => "[ -~]{0,80}",
    ]
}

/// A `/search` query string whose parameters are all valid, so that searches
/// run (a repeated parameter still makes some of them 400).
fn valid_search_query() -> impl Strategy<Value = String> {
    let word = prop::sample::select(QUERY_WORDS.split('|').collect::<Vec<_>>());
    let extra = prop::sample::select(VALID_EXTRAS.split('|').collect::<Vec<_>>());
    (
        prop::collection::vec(word, 1..4),
        prop::collection::vec(extra, 0..3),
    )
        .prop_map(|(w, e)| {
            let q = percent_encode(&w.join(" "));
            format!("q={q}{}", e.concat())
        })
}

/// Valid parameters to add to a search.
const VALID_EXTRAS: &str = "&source=arXiv|&kind=claim&kind=quote|&limit=100|&offset=3|\
    &since=2019-01-01&until=2026-12-31|&date_bucket=month|&all_versions=true|&verified=true|\
    &thread=Plateau%20Watch|&author=Ada%20Lovelace|&topic=grokking|&source=NeurIPS";

fn http_case() -> impl Strategy<Value = HttpCase> {
    let method = prop_oneof![
        8 => Just(Method::GET),
        1 => prop::sample::select(vec![
            Method::HEAD, Method::POST, Method::PUT, Method::DELETE, Method::OPTIONS, Method::PATCH,
        ]),
    ];
    let path = prop_oneof![
        8 => Just("/search".to_string()),
        2 => prop::sample::select(vec![
            "/stats", "/health", "/", "/search/", "/SEARCH", "//search", "/search/..", "/nope",
            "/search%00", "/%ZZ", "/records", "/item", "/app.js", "/style.css", "/index.html",
        ])
        .prop_map(String::from),
    ];
    let body = prop_oneof![8 => Just(0usize), 1 => 1usize..2_000];
    let declared = prop_oneof![8 => Just(None), 1 => prop::option::of(any::<u64>())];
    (
        method,
        path,
        prop::option::of(http_query()),
        body,
        declared,
        prop::bool::weighted(0.05),
    )
        .prop_map(
            |(method, path, query, body, declared_length, chunked)| HttpCase {
                method,
                path,
                query,
                body,
                declared_length,
                chunked,
            },
        )
}

/// Sends one request through the router; any status but the documented ones
/// (200, 400, 404, 405, 413) fails, and so does a body that is not JSON
/// (but for the search page's own files).
fn check_http(
    runtime: &tokio::runtime::Runtime,
    router: &axum::Router,
    case: &HttpCase,
) -> Result<String, TestCaseError> {
    let uri = match &case.query {
        Some(q) => format!("{}?{q}", case.path),
        None => case.path.clone(),
    };
    let mut builder = Request::builder().method(case.method.clone()).uri(&uri);
    if let Some(n) = case.declared_length {
        builder = builder.header("content-length", n);
    }
    if case.chunked {
        builder = builder.header("transfer-encoding", "chunked");
    }
    // A URI that http cannot parse never reaches the router (hyper answers 400).
    let Ok(request) = builder.body(Body::from(vec![b'x'; case.body])) else {
        return Ok("not-a-uri".into());
    };
    let (status, content_type, body) = runtime.block_on(async {
        let response = router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap_or_default().to_string())
            .unwrap_or_default();
        let body = axum::body::to_bytes(response.into_body(), 1 << 24)
            .await
            .unwrap();
        (status, content_type, body)
    });
    let allowed = [
        StatusCode::OK,
        StatusCode::BAD_REQUEST,
        StatusCode::NOT_FOUND,
        StatusCode::METHOD_NOT_ALLOWED,
        StatusCode::PAYLOAD_TOO_LARGE,
    ];
    ensure(allowed.contains(&status), || {
        format!(
            "{} {uri} answered {status}: {}",
            case.method,
            String::from_utf8_lossy(&body)
        )
    })?;
    if case.method == Method::HEAD {
        return Ok(status.as_u16().to_string());
    }
    // The search page's own files are not JSON; every error is.
    if status == StatusCode::OK && !content_type.starts_with("application/json") {
        let page = ["/", "/item", "/app.js", "/style.css"].contains(&case.path.as_str());
        ensure(page && !body.is_empty(), || {
            format!("{uri} answered {status} as {content_type:?}")
        })?;
        return Ok("page".into());
    }
    let json: serde_json::Value = serde_json::from_slice(&body).map_err(|e| {
        TestCaseError::fail(format!(
            "{uri}: body is not JSON ({e}): {}",
            String::from_utf8_lossy(&body)
        ))
    })?;
    if status == StatusCode::OK {
        if case.path == "/search" {
            let hits = json["hits"].as_array().map_or(usize::MAX, Vec::len);
            ensure(hits <= 100, || format!("{uri}: {hits} hits"))?;
        }
    } else {
        ensure(json["error"].is_string(), || format!("{uri}: {json}"))?;
    }
    Ok(status.as_u16().to_string())
}

#[test]
fn http_requests() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let router = claimsearch::serve::router(small_index().1.clone());
    // Saved inputs are request targets (`/search?q=…`), one per line, sent as GET.
    let replay = |_: &str, bytes: &[u8]| -> Result<(), TestCaseError> {
        for line in String::from_utf8_lossy(bytes).lines() {
            let (path, query) = match line.split_once('?') {
                Some((p, q)) => (p.to_string(), Some(q.to_string())),
                None => (line.to_string(), None),
            };
            let case = HttpCase {
                method: Method::GET,
                path,
                query,
                body: 0,
                declared_length: None,
                chunked: false,
            };
            check_http(&runtime, &router, &case)?;
        }
        Ok(())
    };
    let tally = Tally::default();
    fuzz("http_requests", 128, http_case(), replay, |case| {
        tally.count(check_http(&runtime, &router, &case)?)
    });
    tally.print("http_requests");
}
