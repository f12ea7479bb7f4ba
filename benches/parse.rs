//! Parser throughput (issue #5): MB/s of `claimsearch::page::parse_bytes` on one core.
//!
//! Every page of the default corpus (`corpus/`) and, when `CLAIMSEARCH_BENCH_CORPUS` names a
//! folder (e.g. one made by `scripts/gen-corpus 2000 /tmp/gen2k --seed 7`), up to ~50 MB of its
//! pages are read into memory first; the timed loop only parses. One group per page kind
//! (extraction, thread, jsonl, raw) and one for all pages together, each reporting bytes/s.
//!
//! Run: `cargo bench --bench parse -- --warm-up-time 1 --measurement-time 5`.

use std::hint::black_box;
use std::path::Path;

use claimsearch::model::Page;
use claimsearch::page::parse_bytes;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use walkdir::WalkDir;

/// Most bytes read from the generated corpus.
const MAX_GENERATED_BYTES: usize = 50 << 20;

/// The page files the indexer reads.
const EXTENSIONS: [&str; 4] = ["txt", "text", "md", "jsonl"];

/// One page in memory: the file name the parser sees and its bytes.
struct File {
    name: String,
    bytes: Vec<u8>,
}

/// Reads the page files under `root`, sorted by path, until `limit` bytes.
fn load(root: &Path, limit: usize) -> Vec<File> {
    let mut files = Vec::new();
    let mut total = 0;
    let walk = WalkDir::new(root).sort_by_file_name().into_iter();
    for entry in walk.filter_map(Result::ok) {
        let path = entry.path();
        let is_page = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()));
        if !entry.file_type().is_file() || !is_page {
            continue;
        }
        let Ok(bytes) = std::fs::read(path) else {
            continue;
        };
        total += bytes.len();
        if total > limit {
            break;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        files.push(File { name, bytes });
    }
    files
}

/// The pages to parse: the repository's corpus plus the generated one, if any.
fn corpus() -> Vec<File> {
    let own = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let mut files = load(&own, usize::MAX);
    if let Some(dir) = std::env::var_os("CLAIMSEARCH_BENCH_CORPUS") {
        let generated = load(Path::new(&dir), MAX_GENERATED_BYTES);
        eprintln!(
            "parse bench: {} pages from {}",
            generated.len(),
            Path::new(&dir).display()
        );
        files.extend(generated);
    }
    files
}

/// The kind a file parses as (`None` when it is skipped: empty or binary).
fn kind(file: &File) -> Option<&'static str> {
    Some(match parse_bytes(&file.name, &file.bytes).ok()?.page {
        Page::Extraction(_) => "extraction",
        Page::Thread(_) => "thread",
        Page::Items(_) => "jsonl",
        Page::Raw(_) => "raw",
    })
}

fn bench_group(c: &mut Criterion, name: &str, files: &[&File]) {
    if files.is_empty() {
        return;
    }
    let bytes: usize = files.iter().map(|f| f.bytes.len()).sum();
    let mut group = c.benchmark_group(format!("parse/{name}"));
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function(format!("{} pages, {} KB", files.len(), bytes / 1000), |b| {
        b.iter(|| {
            for file in files {
                let _ = black_box(parse_bytes(black_box(&file.name), black_box(&file.bytes)));
            }
        })
    });
    group.finish();
}

fn parse(c: &mut Criterion) {
    let files = corpus();
    let kinds: Vec<_> = files.iter().map(kind).collect();
    for name in ["extraction", "thread", "jsonl", "raw"] {
        let of_kind: Vec<&File> = (files.iter().zip(&kinds))
            .filter(|(_, k)| **k == Some(name))
            .map(|(f, _)| f)
            .collect();
        bench_group(c, name, &of_kind);
    }
    bench_group(c, "all", &files.iter().collect::<Vec<_>>());
}

criterion_group!(benches, parse);
criterion_main!(benches);
