//! Corpus in, index out: walk the corpus, read and parse pages in parallel,
//! write every record through one `IndexWriter`, commit once.
//!
//! The library never prints: problems come back in the report, progress goes
//! to a callback.

mod walk;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use tantivy::{IndexWriter, TantivyDocument};

use crate::error::{Error, Result};
use crate::index::{open_or_create, writer_error};
use crate::model::Record;
use crate::page::{self, Parsed};
use crate::schema::Fields;

pub use walk::{walk, CorpusFile, Walk};

/// Memory the index writer may use for its in-memory segments, in total.
const WRITER_HEAP_BYTES: usize = 128 * 1024 * 1024;

/// A step of a long ingest, for progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// The walk found this many candidate files.
    Found(usize),
    /// This many of them have been read and parsed.
    Parsed(usize),
    /// Every document is written; the commit is under way.
    Committing,
}

/// A file that yielded nothing, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Skipped {
    /// The file, relative to the corpus root.
    pub path: String,
    /// Why it was skipped.
    pub reason: String,
}

/// A problem in a file that was indexed all the same (a bad JSON Lines line,
/// a file decoded as Windows-1252).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Warning {
    /// The file, relative to the corpus root.
    pub path: String,
    /// The 1-based line, when the problem has one.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

/// What a full `index` run did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexReport {
    /// Pages (files) indexed.
    pub pages: usize,
    /// Records written.
    pub records: usize,
    /// Files that yielded nothing, with the reason.
    pub skipped: Vec<Skipped>,
    /// Problems in files that were indexed all the same.
    pub warnings: Vec<Warning>,
    /// Wall time of the run.
    pub seconds: f64,
}

/// The outcome of reading and parsing one file.
pub(crate) enum FileOutcome {
    Parsed {
        records: Vec<Record>,
        warnings: Vec<Warning>,
    },
    Skipped(Skipped),
}

/// Rebuilds the index in `index_dir` from every page under `corpus`.
///
/// The old contents stay searchable until the single commit at the end; a run
/// that fails or is killed leaves them as they were.
pub fn build(
    corpus: &Path,
    index_dir: &Path,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<IndexReport> {
    let started = Instant::now();
    let Walk { files, skipped } = walk(corpus)?;
    progress(Progress::Found(files.len()));

    let index = open_or_create(index_dir)?;
    let fields = Fields::new(&index.schema())?;
    let mut writer: IndexWriter<TantivyDocument> = index
        .writer(WRITER_HEAP_BYTES)
        .map_err(|e| writer_error(index_dir, e))?;
    writer.delete_all_documents()?;

    let mut report = write_files(&files, &writer, &fields, progress)?;
    report.skipped.extend(skipped);
    report.skipped.sort_by(|a, b| a.path.cmp(&b.path));

    progress(Progress::Committing);
    commit(
        &mut writer,
        &Payload {
            pages: report.pages,
        },
    )?;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// Reads, parses and writes `files` in parallel; one writer, no commit.
fn write_files(
    files: &[CorpusFile],
    writer: &IndexWriter<TantivyDocument>,
    fields: &Fields,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<IndexReport> {
    let done = AtomicUsize::new(0);
    files
        .par_iter()
        .map(|file| {
            let outcome = read_and_parse(file);
            progress(Progress::Parsed(done.fetch_add(1, Ordering::Relaxed) + 1));
            let mut report = IndexReport::default();
            match outcome {
                FileOutcome::Parsed { records, warnings } => {
                    for record in &records {
                        writer.add_document(fields.document(record))?;
                    }
                    report.pages = 1;
                    report.records = records.len();
                    report.warnings = warnings;
                }
                FileOutcome::Skipped(skipped) => report.skipped.push(skipped),
            }
            Ok(report)
        })
        .try_reduce(IndexReport::default, |a, b| Ok(merge(a, b)))
}

fn merge(mut a: IndexReport, b: IndexReport) -> IndexReport {
    a.pages += b.pages;
    a.records += b.records;
    a.skipped.extend(b.skipped);
    a.warnings.extend(b.warnings);
    a
}

/// Reads one file and parses it into records. Never fails: every problem
/// becomes a skip or a warning naming the file.
pub(crate) fn read_and_parse(file: &CorpusFile) -> FileOutcome {
    let skip = |reason: String| {
        FileOutcome::Skipped(Skipped {
            path: file.rel.clone(),
            reason,
        })
    };
    let bytes = match std::fs::read(&file.abs) {
        Ok(bytes) => bytes,
        Err(e) => return skip(format!("cannot read: {e}")),
    };
    match page::parse_bytes(&file.name(), &bytes) {
        Ok(Parsed { page, warnings }) => FileOutcome::Parsed {
            records: page.records(&file.rel),
            warnings: warnings
                .into_iter()
                .map(|w| Warning {
                    path: file.rel.clone(),
                    line: w.line,
                    message: w.message,
                })
                .collect(),
        },
        Err(reason) => skip(reason.to_string()),
    }
}

/// What each commit records about itself, in Tantivy's commit payload.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Payload {
    /// Pages the committed index holds.
    pub pages: usize,
}

impl Payload {
    /// Reads the payload of the last commit of `index`.
    pub(crate) fn load(index: &tantivy::Index) -> Payload {
        (index.load_metas().ok())
            .and_then(|meta| meta.payload)
            .and_then(|p| serde_json::from_str(&p).ok())
            .unwrap_or_default()
    }
}

fn commit(writer: &mut IndexWriter<TantivyDocument>, payload: &Payload) -> Result<()> {
    let mut prepared = writer.prepare_commit()?;
    prepared.set_payload(&serde_json::to_string(payload).expect("payload serializes"));
    prepared.commit()?;
    Ok(())
}

/// The corpus-relative, `/`-separated form of `path`.
pub(crate) fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let parts: Vec<_> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    parts.join("/")
}

/// Makes sure `corpus` is a folder.
pub(crate) fn check_corpus(corpus: &Path) -> Result<PathBuf> {
    if corpus.is_dir() {
        Ok(corpus.to_path_buf())
    } else {
        Err(Error::CorpusMissing(corpus.to_path_buf()))
    }
}
