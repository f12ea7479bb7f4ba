//! The parallel middle of every ingest: read each file, hash it, parse it and
//! hand its documents to the one writer. Shared by `index` and `reindex`.

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;
use tantivy::{IndexWriter, TantivyDocument, Term};

use super::manifest::{content_hash, Entry};
use super::{CorpusFile, FileWarning, Progress, Skipped};
use crate::error::Result;
use crate::page::{self, Parsed};
use crate::schema::Fields;

/// Files larger than this are not read: the whole file is held in memory while
/// it is parsed, and a real page is a few kilobytes.
pub(crate) const MAX_PAGE_BYTES: u64 = 128 << 20;

/// A file to look at, with what the index already holds of it.
pub(crate) struct Job {
    pub file: CorpusFile,
    pub old: Option<Entry>,
}

/// What happened to one file.
pub(crate) enum Done {
    /// Same content as indexed (only its size or time changed): nothing written.
    Same { rel: String, entry: Entry },
    /// (Re)indexed: old records deleted, new ones written; `skipped` when the
    /// file now yields no page.
    Indexed {
        rel: String,
        entry: Entry,
        was_indexed: bool,
        skipped: Option<Skipped>,
        warnings: Vec<FileWarning>,
    },
    /// Could not be read: what the index holds of it is left alone.
    Unreadable {
        skipped: Skipped,
        old: Option<Entry>,
    },
}

/// Files processed in parallel at a time: the outcomes of one batch are
/// handed on before the next starts, so a full build holds the outcomes of a
/// batch, not of the whole corpus.
const BATCH: usize = 4096;

/// Processes `jobs` in parallel. Modification times at or after
/// `recent_mtime` are recorded as 0, so the next run checks the content again.
pub(crate) fn run(
    jobs: &[Job],
    writer: &IndexWriter<TantivyDocument>,
    fields: &Fields,
    recent_mtime: u128,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Vec<Done>> {
    let mut all = Vec::with_capacity(jobs.len());
    run_each(jobs, writer, fields, recent_mtime, progress, |done| {
        all.push(done);
        Ok(())
    })?;
    Ok(all)
}

/// [`run`], handing each outcome to `each`, in the order of `jobs`.
pub(crate) fn run_each(
    jobs: &[Job],
    writer: &IndexWriter<TantivyDocument>,
    fields: &Fields,
    recent_mtime: u128,
    progress: &(dyn Fn(Progress) + Sync),
    mut each: impl FnMut(Done) -> Result<()>,
) -> Result<()> {
    let done = AtomicUsize::new(0);
    for batch in jobs.chunks(BATCH) {
        let outcomes: Vec<Result<Done>> = batch
            .par_iter()
            .map(|job| {
                let outcome = process_file(job, writer, fields, recent_mtime);
                progress(Progress::Parsed(done.fetch_add(1, Ordering::Relaxed) + 1));
                outcome
            })
            .collect();
        for outcome in outcomes {
            each(outcome?)?;
        }
    }
    Ok(())
}

/// Reads, hashes and parses one file and writes its documents.
fn process_file(
    job: &Job,
    writer: &IndexWriter<TantivyDocument>,
    fields: &Fields,
    recent_mtime: u128,
) -> Result<Done> {
    let file = &job.file;
    let bytes = match read_page(&file.abs) {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(size)) => return Ok(too_large(job, size, recent_mtime, writer, fields)),
        Err(e) => {
            let skipped = Skipped {
                path: file.rel.clone(),
                reason: format!("cannot read: {e}"),
            };
            let old = job.old.clone();
            return Ok(Done::Unreadable { skipped, old });
        }
    };
    let mut entry = Entry {
        size: bytes.len() as u64,
        mtime: if file.mtime >= recent_mtime {
            0
        } else {
            file.mtime
        },
        hash: content_hash(&bytes),
        records: 0,
        skipped: None,
    };
    if let Some(old) = &job.old {
        if old.hash == entry.hash {
            entry.records = old.records;
            entry.skipped = old.skipped.clone();
            return Ok(Done::Same {
                rel: file.rel.clone(),
                entry,
            });
        }
        writer.delete_term(Term::from_field_text(fields.path, &file.rel));
    }
    let (skipped, warnings) = match page::parse_bytes(&file.name(), &bytes) {
        Ok(Parsed { page, warnings }) => {
            let records = page.indexables(&file.rel);
            for indexable in &records {
                writer.add_document(fields.document(&indexable.record, &indexable.threads))?;
            }
            entry.records = records.len();
            (None, warnings)
        }
        Err(reason) => {
            entry.skipped = Some(reason.to_string());
            let skipped = Skipped {
                path: file.rel.clone(),
                reason: reason.to_string(),
            };
            (Some(skipped), Vec::new())
        }
    };
    Ok(Done::Indexed {
        rel: file.rel.clone(),
        entry,
        was_indexed: job.old.as_ref().is_some_and(|o| o.skipped.is_none()),
        skipped,
        warnings: warnings
            .into_iter()
            .map(|warning| FileWarning {
                path: file.rel.clone(),
                warning,
            })
            .collect(),
    })
}

/// The file's bytes, or its size when it is over [`MAX_PAGE_BYTES`] (checked
/// before reading, and again while reading in case it grows).
fn read_page(path: &Path) -> std::io::Result<Result<Vec<u8>, u64>> {
    let file = File::open(path)?;
    let size = file.metadata()?.len();
    if size > MAX_PAGE_BYTES {
        return Ok(Err(size));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(MAX_PAGE_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_PAGE_BYTES {
        return Ok(Err(bytes.len() as u64));
    }
    Ok(Ok(bytes))
}

/// A file too large to read: skipped with a reason, and whatever the index held
/// of it is deleted, as for a file that turned binary.
fn too_large(
    job: &Job,
    size: u64,
    recent_mtime: u128,
    writer: &IndexWriter<TantivyDocument>,
    fields: &Fields,
) -> Done {
    let file = &job.file;
    let reason = format!(
        "too large to be a page ({:.1} MiB; the limit is {} MiB)",
        size as f64 / (1 << 20) as f64,
        MAX_PAGE_BYTES >> 20
    );
    let entry = Entry {
        size,
        mtime: if file.mtime >= recent_mtime {
            0
        } else {
            file.mtime
        },
        // Not read, so not hashed: the marker changes with the size, and a
        // page that shrinks back under the limit is read again.
        hash: format!("too-large-{size}"),
        records: 0,
        skipped: Some(reason.clone()),
    };
    if let Some(old) = &job.old {
        if old.hash == entry.hash {
            return Done::Same {
                rel: file.rel.clone(),
                entry,
            };
        }
        writer.delete_term(Term::from_field_text(fields.path, &file.rel));
    }
    Done::Indexed {
        rel: file.rel.clone(),
        entry,
        was_indexed: job.old.as_ref().is_some_and(|o| o.skipped.is_none()),
        skipped: Some(Skipped {
            path: file.rel.clone(),
            reason,
        }),
        warnings: Vec::new(),
    }
}
