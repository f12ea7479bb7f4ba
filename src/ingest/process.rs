//! The parallel middle of every ingest: read each file, hash it, parse it and
//! hand its documents to the one writer. Shared by `index` and `reindex`.

use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;
use tantivy::{IndexWriter, TantivyDocument, Term};

use super::manifest::{content_hash, Entry};
use super::{CorpusFile, Progress, Skipped, Warning};
use crate::error::Result;
use crate::page::{self, Parsed};
use crate::schema::Fields;

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
        warnings: Vec<Warning>,
    },
    /// Could not be read: what the index holds of it is left alone.
    Unreadable {
        skipped: Skipped,
        old: Option<Entry>,
    },
}

/// Processes `jobs` in parallel. Modification times at or after
/// `recent_mtime` are recorded as 0, so the next run checks the content again.
pub(crate) fn run(
    jobs: &[Job],
    writer: &IndexWriter<TantivyDocument>,
    fields: &Fields,
    recent_mtime: u128,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Vec<Done>> {
    let done = AtomicUsize::new(0);
    jobs.par_iter()
        .map(|job| {
            let outcome = one(job, writer, fields, recent_mtime);
            progress(Progress::Parsed(done.fetch_add(1, Ordering::Relaxed) + 1));
            outcome
        })
        .collect()
}

fn one(
    job: &Job,
    writer: &IndexWriter<TantivyDocument>,
    fields: &Fields,
    recent_mtime: u128,
) -> Result<Done> {
    let file = &job.file;
    let bytes = match std::fs::read(&file.abs) {
        Ok(bytes) => bytes,
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
            let records = page.records(&file.rel);
            for record in &records {
                writer.add_document(fields.document(record))?;
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
            .map(|w| Warning {
                path: file.rel.clone(),
                line: w.line,
                message: w.message,
            })
            .collect(),
    })
}
