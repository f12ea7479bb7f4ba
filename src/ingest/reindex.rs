//! Incremental reindex: compare the corpus with the manifest of the last
//! commit, and write only what was added, changed or removed.
//!
//! A file whose size and modification time match the manifest is not read. A
//! file whose time changed is read and hashed; the same content costs nothing
//! in the index. Changed files are deleted by path and written again, so the
//! result equals a clean `build` of the same corpus.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tantivy::ReloadPolicy;

use super::layout;
use super::manifest::{Committed, Entries, Entry};
use super::process::{self, Done, Job};
use super::trace::{self, Tracer};
use super::walk::{mtime_nanos, walk_in_order, Walked};
use super::{
    check_corpus, commit, explain, open_writer, rebuild, recent_mtime, settle, unescaped,
    CorpusFile, FileWarning, Progress, Skipped, UPDATE_HEAP_BYTES, WRITER_HEAP_BYTES,
};
use crate::error::Result;
use crate::schema::Fields;
use crate::storage::{self, Payload};

/// Decompressed blocks of stored records kept per segment while a `reindex`
/// reads the last commit.
const COMMITTED_CACHE_BLOCKS: usize = 4;

/// What a `reindex` run did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReindexReport {
    /// New pages indexed.
    pub added: usize,
    /// Pages whose content changed, indexed again.
    pub updated: usize,
    /// Pages removed from the index (their file is gone or no longer a page).
    pub deleted: usize,
    /// Pages left as they were.
    pub unchanged: usize,
    /// Of those, pages written again because a raw text that holds one of
    /// their quotes, or held it, was added, changed or removed.
    pub reverified: usize,
    /// Files that yielded nothing or could not be read, with the reason.
    pub skipped: Vec<Skipped>,
    /// Problems in files that were indexed all the same.
    pub warnings: Vec<FileWarning>,
    /// True when the run rebuilt everything (no index yet, or no manifest
    /// matching the last commit).
    pub rebuilt: bool,
    /// Wall time of the run.
    pub seconds: f64,
}

/// Brings the index in `index_dir` in line with `corpus`, with exactly one
/// commit when anything changed and none otherwise.
///
/// Waits up to `wait` for another writer to finish; after that fails with
/// [`crate::Error::IndexBusy`].
pub fn reindex(
    corpus: &Path,
    index_dir: &Path,
    wait: Duration,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<ReindexReport> {
    incremental(corpus, index_dir, wait, progress).map_err(|e| explain(index_dir, e))
}

/// The body of [`reindex`].
fn incremental(
    corpus: &Path,
    index_dir: &Path,
    wait: Duration,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<ReindexReport> {
    let started = Instant::now();
    let corpus = check_corpus(corpus)?;
    // The writer's budget is chosen before its lock is taken, from the last
    // commit as it is then: a guess, right unless another process writes
    // meanwhile, which costs time or memory, never a wrong index. Whether to
    // update or rebuild is decided again below, under the lock.
    let heap = |index: &tantivy::Index| {
        if updatable(&Payload::load(index), index_dir) {
            UPDATE_HEAP_BYTES
        } else {
            WRITER_HEAP_BYTES
        }
    };
    let (index, mut writer) = open_writer(index_dir, wait, heap)?;
    let fields = Fields::new(&index.schema())?;
    let payload = Payload::load(&index);
    let committed = updatable(&payload, index_dir)
        .then(|| Committed::find(index_dir, payload.manifest.as_deref()))
        .flatten();
    let Some(old) = committed else {
        let built = rebuild(&mut writer, &fields, &corpus, index_dir, progress, started)?;
        return Ok(ReindexReport {
            added: built.pages,
            skipped: built.skipped,
            warnings: built.warnings,
            rebuilt: true,
            seconds: built.seconds,
            ..ReindexReport::default()
        });
    };

    let mut plan = Plan::new(old.entries()?, walk_in_order(&corpus)?)?;
    for path in &plan.gone {
        writer.delete_term(crate::schema::path_term(&fields, path));
    }
    progress(Progress::Found(plan.jobs.len()));
    // Nothing to read and nothing gone: no record and no quote's
    // verification can change, so the last commit is not opened (its
    // segments were most of the memory of such a run at 1,000,000 pages).
    if plan.jobs.is_empty() && plan.gone.is_empty() {
        let (_, mut finished) = plan.finish(Vec::new());
        finished.report.seconds = started.elapsed().as_secs_f64();
        return Ok(finished.report);
    }
    // What the last commit holds, but for the pages this run rewrites or
    // removes. Its records are read at random, one or a few at a time: a
    // cache of 100 decompressed blocks a segment (Tantivy's default) grew to
    // 130 MiB of a 530 MiB peak after a raw page was added at 100,000 pages.
    // Opened apart from the writer's index, so that its stored records and
    // postings are read, not mapped (`storage::open_for_lookups`).
    let (lookups, touched) = storage::open_for_lookups(index_dir)?;
    let reader = (lookups.reader_builder())
        .reload_policy(ReloadPolicy::Manual)
        .doc_store_cache_num_blocks(COMMITTED_CACHE_BLOCKS)
        .try_into()?;
    let gone: HashSet<String> = plan.gone.iter().cloned().collect();
    let committed = trace::Committed::new(index_dir, reader.searcher(), touched, fields, gone)?;
    let mut tracer = Tracer::new(Some(committed), index_dir);
    let recent = recent_mtime();
    let jobs = process::raw_text_first(std::mem::take(&mut plan.jobs));
    let done = process::run(&jobs, &writer, &fields, recent, progress, &mut tracer)?;
    // The pages whose quotes' verification this run's raw text changes.
    tracer.exclude((done.iter()).filter_map(|d| match d {
        Done::Indexed { rel, .. } => Some(rel.clone()),
        _ => None,
    }));
    let late = tracer.late_jobs()?;
    let committed_pages = tracer.committed_pages_to_check()?;
    let late_files: Vec<CorpusFile> = (late.into_iter())
        .map(|j| jobs.jobs[j as usize].file.clone())
        .collect();
    // Unchanged pages: not read in this run, or read and found the same.
    let read: HashMap<&str, &CorpusFile> = (jobs.jobs.iter())
        .map(|job| (job.file.rel.as_str(), &job.file))
        .collect();
    let kept_files: Vec<CorpusFile> = (committed_pages.into_iter())
        .filter_map(|rel| match read.get(rel.as_str()) {
            Some(file) => Some((*file).clone()),
            None => plan.kept_file(&corpus, rel),
        })
        .collect();
    drop(read);
    let (mut changes, mut report) = plan.finish(done);
    // What the manifest holds of the pages to write again: this run's
    // outcome, or for a page not read, the last commit's entry.
    let unread: BTreeSet<&str> = (late_files.iter().chain(&kept_files))
        .map(|file| file.rel.as_str())
        .filter(|rel| !changes.contains_key(*rel))
        .collect();
    let mut unread = old.entries_of(&unread)?;
    let mut entry_of = |rel: &str| match changes.get(rel) {
        Some(changed) => changed.clone(),
        None => unread.remove(rel),
    };
    let again: Vec<Job> = (late_files.iter().chain(&kept_files))
        .filter_map(|file| Some((file, entry_of(&file.rel)?)))
        .filter(|(_, entry)| entry.skipped.is_none())
        .map(|(file, entry)| Job::again(file, Some(entry)))
        .collect();
    let quiet = |_| {};
    let again = process::Ordered::as_they_are(again);
    let rechecked = process::run(&again, &writer, &fields, recent, &quiet, &mut tracer)?;
    for outcome in rechecked {
        let (rel, entry) = match outcome {
            Done::Indexed { rel, entry, .. } | Done::Same { rel, entry } => (rel, entry),
            Done::Unreadable { skipped, old } => (skipped.path, Entry::stale(old)),
        };
        report.changed_anything = true;
        changes.insert(rel, Some(entry));
    }
    report.report.reverified = kept_files.len();
    // Tracing is done: the last commit's segments it read, mapped, and the
    // raw texts it held are let go before the commit and its merges, which
    // map segments of their own.
    drop(tracer);
    drop(reader);
    drop(lookups);
    if report.changed_anything {
        progress(Progress::Committing);
        // The last commit's entries of the files not read, and this run's.
        let keep = |rel: &str, _: &Entry| !plan.dropped.contains(rel);
        let (hash, pages) = old.write_next(index_dir, changes, keep)?;
        commit(&mut writer, index_dir, pages, hash)?;
        settle(&mut writer, index_dir, layout::Merges::Update)?;
    }
    report.report.seconds = started.elapsed().as_secs_f64();
    Ok(report.report)
}

/// Whether the last commit in `index_dir`, whose payload is `payload`, can
/// be updated rather than built again: it exists, was written by the same
/// analyzers and names its manifest (which must also be found whole).
fn updatable(payload: &Payload, index_dir: &Path) -> bool {
    storage::exists(index_dir)
        && payload.analyzer == crate::analyzer::ANALYZER_VERSION
        && payload.manifest.is_some()
}

/// The comparison of the corpus with the manifest, made by walking both in
/// path order: neither is held twice, and the manifest not at all.
///
/// Nothing is held for the files that need not be read (same size and time
/// as in the manifest): at 1,000,000 pages their list took 136 MiB.
struct Plan {
    /// Pages among the files that need not be read, and among indexed files
    /// under folders the walk could not enter (kept as they are).
    unchanged: usize,
    /// Manifest entries the walk did not find, but under folders it could
    /// not enter: they leave the manifest.
    dropped: HashSet<String>,
    /// Files to read: new, or with a different size or time.
    jobs: Vec<Job>,
    /// Indexed files that are gone.
    gone: Vec<String>,
    /// The walk's own problems.
    walk_skipped: Vec<Skipped>,
}

struct Finished {
    report: ReindexReport,
    changed_anything: bool,
}

impl Plan {
    fn new(mut old: Entries, walked: impl Iterator<Item = Walked>) -> Result<Plan> {
        let mut plan = Plan {
            unchanged: 0,
            dropped: HashSet::new(),
            jobs: Vec::new(),
            gone: Vec::new(),
            walk_skipped: Vec::new(),
        };
        let mut head = old.next().transpose()?;
        for item in walked {
            let file = match item {
                Walked::File(file) => file,
                // Before anything under the folder (see `walk_in_order`).
                Walked::Skipped(skipped) => {
                    plan.walk_skipped.push(skipped);
                    continue;
                }
            };
            // Manifest entries before this file were not found.
            while let Some((rel, entry)) = head.take_if(|(rel, _)| *rel < file.rel) {
                plan.not_found(rel, &entry);
                head = old.next().transpose()?;
            }
            let entry = match head.take_if(|(rel, _)| *rel == file.rel) {
                Some((_, entry)) => {
                    head = old.next().transpose()?;
                    Some(entry)
                }
                None => None,
            };
            match entry {
                Some(entry)
                    if entry.mtime != 0 && (entry.size, entry.mtime) == (file.size, file.mtime) =>
                {
                    plan.unchanged += usize::from(entry.skipped.is_none());
                }
                old => plan.jobs.push(Job {
                    file,
                    old: old.map(Box::new),
                    force: false,
                }),
            }
        }
        while let Some((rel, entry)) = head {
            plan.not_found(rel, &entry);
            head = old.next().transpose()?;
        }
        Ok(plan)
    }

    /// An indexed file the walk did not find. Under a folder the walk could
    /// not enter, it is kept: a passing permission problem must not empty
    /// the index.
    fn not_found(&mut self, rel: String, entry: &Entry) {
        if self.under_skipped(&rel) {
            self.unchanged += usize::from(entry.skipped.is_none());
            return;
        }
        if entry.skipped.is_none() {
            self.gone.push(rel.clone());
        }
        self.dropped.insert(rel);
    }

    /// True when `rel` is under a folder the walk could not enter.
    fn under_skipped(&self, rel: &str) -> bool {
        self.walk_skipped.iter().any(|s| is_under(rel, &s.path))
    }

    /// The file `rel`, which this run did not read, as it is now: `None`
    /// when it left the manifest or is under a folder the walk could not
    /// enter.
    fn kept_file(&self, corpus: &Path, rel: String) -> Option<CorpusFile> {
        if self.dropped.contains(&rel) || self.under_skipped(&rel) {
            return None;
        }
        let meta = std::fs::metadata(corpus.join(unescaped(&rel))).ok()?;
        Some(CorpusFile::new(
            Arc::from(corpus),
            rel,
            meta.len(),
            mtime_nanos(&meta),
        ))
    }

    /// The manifest's changes (`None`: the path leaves it) and the report.
    fn finish(&mut self, done: Vec<Done>) -> (BTreeMap<String, Option<Entry>>, Finished) {
        let mut changes = BTreeMap::new();
        let mut report = ReindexReport {
            unchanged: self.unchanged,
            deleted: self.gone.len(),
            skipped: self.walk_skipped.clone(),
            ..ReindexReport::default()
        };
        let mut changed_anything = !self.gone.is_empty();
        for outcome in done {
            match outcome {
                Done::Same { rel, entry } => {
                    report.unchanged += usize::from(entry.skipped.is_none());
                    changed_anything = true; // the manifest's times change
                    changes.insert(rel, Some(entry));
                }
                Done::Indexed {
                    rel,
                    entry,
                    was_indexed,
                    skipped,
                    warnings,
                    ..
                } => {
                    match (was_indexed, skipped.is_some()) {
                        (false, false) => report.added += 1,
                        (true, false) => report.updated += 1,
                        (true, true) => report.deleted += 1,
                        (false, true) => {}
                    }
                    report.skipped.extend(skipped);
                    report.warnings.extend(warnings);
                    changed_anything = true;
                    changes.insert(rel, Some(entry));
                }
                Done::Unreadable { skipped, old } => {
                    // Keep what is indexed; its time still differs, so the
                    // next run tries again.
                    changes.insert(skipped.path.clone(), old);
                    report.skipped.push(skipped);
                }
            }
        }
        report.skipped.sort_by(|a, b| a.path.cmp(&b.path));
        (
            changes,
            Finished {
                report,
                changed_anything,
            },
        )
    }
}

/// True when `path` is `folder` or inside it (`.` is the corpus root).
fn is_under(path: &str, folder: &str) -> bool {
    folder == "."
        || path == folder
        || path
            .strip_prefix(folder)
            .is_some_and(|r| r.starts_with('/'))
}
