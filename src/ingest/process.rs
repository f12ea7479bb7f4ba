//! The parallel middle of every ingest: read each file, hash it, parse it and
//! hand its documents to the one writer. Shared by `index` and `reindex`.

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;
use tantivy::{IndexWriter, TantivyDocument};

use super::manifest::{Digest, Entry};
use super::trace::{Traced, Tracer, Verifier};
use super::{CorpusFile, FileWarning, Progress, Skipped};
use crate::error::Result;
use crate::model::{FoundIn, Kind, Page};
use crate::page::{self, Parsed};
use crate::provenance::{Haystack, Needle};
use crate::schema::{Fields, Trace};

/// Files larger than this are not read: the whole file is held in memory while
/// it is parsed, and a real page is a few kilobytes.
pub(crate) const MAX_PAGE_BYTES: u64 = 128 << 20;

/// A file to look at, with what the index already holds of it.
///
/// A full build holds one for every file of the corpus: `old` is boxed
/// because it is `None` there (80 bytes a job, not 160).
pub(crate) struct Job {
    pub file: CorpusFile,
    pub old: Option<Box<Entry>>,
    /// Write the page again even when its content is what the index holds
    /// (the raw text its quotes are checked against changed).
    pub force: bool,
}

impl Job {
    /// `file` to write again whatever its content, with what the manifest
    /// holds of it.
    pub(crate) fn again(file: &CorpusFile, old: Option<Entry>) -> Job {
        Job {
            old: old.map(Box::new),
            file: file.clone(),
            force: true,
        }
    }
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
        traced: Traced,
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
pub(crate) const BATCH: usize = 4096;
/// A batch also ends once its files hold this many bytes: a batch of raw
/// pages holds each page's text and shingles until it is absorbed (about
/// 48 MiB for 4,096 raw pages), and how many raw pages come in a row grows
/// with the corpus.
pub(crate) const BATCH_BYTES: u64 = 8 << 20;

/// Cuts batches: call [`Batcher::full`] after adding each job.
#[derive(Default)]
pub(crate) struct Batcher {
    jobs: usize,
    bytes: u64,
}

impl Batcher {
    /// Counts `job` in the batch under way; true when the batch is full
    /// (and the next one starts empty).
    pub(crate) fn full(&mut self, job: &Job) -> bool {
        self.jobs += 1;
        self.bytes += job.file.size;
        let full = self.jobs >= BATCH || self.bytes >= BATCH_BYTES;
        if full {
            *self = Batcher::default();
        }
        full
    }
}

/// `jobs` in the order an ingest takes them: first the files that hold no
/// quotes (raw pages, thread pages), then JSON Lines files (their items may
/// hold raw text and quotes), then the pages with key quotes; each part
/// starting a batch of its own, the first in blocks spread over it
/// ([`by_tier`]), the others in their order. A quote is checked against every
/// raw text read before its batch, so with this order the quotes of a corpus
/// are checked once, as they are written; a quote whose raw text is read
/// later (a JSON Lines item quoting the text of an item in the same batch)
/// costs its page a second write.
///
/// Which files hold key quotes is told by a look for the section's heading
/// in the bytes (an extraction page names it); a wrong guess costs time only.
pub(crate) fn raw_text_first(mut jobs: Vec<Job>) -> Ordered {
    let (order, starts) = raw_text_order(jobs.par_iter().map(|job| &job.file));
    // The jobs are moved in place: a `reindex` that finds every file changed
    // holds a job for each, and copies of the list would double that.
    // `order[k]` is the job that goes to `k`: follow each cycle of swaps.
    let mut placed = vec![false; jobs.len()];
    for k in 0..jobs.len() {
        let mut at = k;
        while !placed[at] {
            placed[at] = true;
            let from = order[at] as usize;
            if placed[from] {
                break;
            }
            jobs.swap(at, from);
            at = from;
        }
    }
    Ordered { jobs, starts }
}

/// The order of [`raw_text_first`] for `files`: which of them (by index)
/// goes `k`th, and where each of the three parts starts ([`by_tier`]).
pub(super) fn raw_text_order<'a>(
    files: impl IndexedParallelIterator<Item = &'a CorpusFile>,
) -> (Vec<u32>, Vec<usize>) {
    let tiers: Vec<u8> = match rayon::ThreadPoolBuilder::new()
        .num_threads(READS_AT_ONCE)
        .thread_name(|i| format!("claimsearch-sort-{i}"))
        .build()
    {
        Ok(readers) => readers.install(|| files.map(tier).collect()),
        Err(_) => files.map(tier).collect(),
    };
    by_tier(&tiers)
}

/// The first part is taken in at most this many blocks, ...
const FIRST_PART_BLOCKS: usize = 32;
/// ... of at least this many files.
const FIRST_PART_BLOCK: usize = 2048;

/// Files by tier (`tiers[i]` is file `i`'s): which goes `k`th, and where
/// each of the three parts starts. The files of parts 1 and 2 keep their
/// order. Those of part 0 are cut into blocks of consecutive files, at most
/// [`FIRST_PART_BLOCKS`], each kept in order, and the blocks spread over
/// the part: block `b` goes where the bits of `b` read backwards put it
/// (van der Corput's sequence: 0, 16, 8, 24, 4, … of 32), so that any run
/// of consecutive blocks is met evenly through the part.
///
/// Raw pages are part 0, and a folder of them is walked in a row: at
/// 1,000,000 pages, 20,000 raw texts, a quarter of the part, were all the
/// first segments of the index held. Their shingles (nearly every one a
/// term of its own) made those segments' term tables the largest of
/// the run, and the index writer's two threads sorted them for writing at
/// the same time: the peak of the whole build, about 40 MiB above the other
/// segments' (BENCHMARKS.md). Blocks keep the manifest's sorted runs few
/// (`manifest::Spill`).
fn by_tier(tiers: &[u8]) -> (Vec<u32>, Vec<usize>) {
    let starts: Vec<usize> = (0..3)
        .map(|part| tiers.iter().filter(|t| **t < part).count())
        .collect();
    let block = FIRST_PART_BLOCK.max(starts[1].div_ceil(FIRST_PART_BLOCKS));
    let mut seen = 0;
    let places: Vec<u32> = (tiers.iter())
        .map(|&tier| {
            if tier != 0 {
                return 0;
            }
            seen += 1;
            (((seen - 1) / block) as u32).reverse_bits()
        })
        .collect();
    let mut order: Vec<u32> = (0..tiers.len() as u32).collect();
    order.sort_by_key(|&i| (tiers[i as usize], places[i as usize], i));
    (order, starts)
}

/// Jobs in the order they are processed; each of `starts` begins a batch,
/// after every raw text before it is known.
pub(crate) struct Ordered {
    pub jobs: Vec<Job>,
    pub starts: Vec<usize>,
}

/// Jobs to process in batches, each batch after the one before it is
/// absorbed: held in memory ([`Ordered`]) or read back from disk
/// ([`super::joblist::JobList`]).
pub(crate) trait JobSource {
    /// Calls `each` with every batch in order: at most [`BATCH`] jobs, all
    /// of one part, ending at the job that brings it to [`BATCH_BYTES`].
    fn each_batch(&self, each: &mut dyn FnMut(&[Job]) -> Result<()>) -> Result<()>;
    /// How many jobs there are.
    fn len(&self) -> usize;
}

impl JobSource for Ordered {
    fn each_batch(&self, each: &mut dyn FnMut(&[Job]) -> Result<()>) -> Result<()> {
        for part in self.parts() {
            let mut batcher = Batcher::default();
            let mut start = 0;
            for (i, job) in part.iter().enumerate() {
                if batcher.full(job) || i + 1 == part.len() {
                    each(&part[start..=i])?;
                    start = i + 1;
                }
            }
        }
        Ok(())
    }

    fn len(&self) -> usize {
        self.jobs.len()
    }
}

impl Ordered {
    /// `jobs` as they are, in batches from the first.
    pub(crate) fn as_they_are(jobs: Vec<Job>) -> Ordered {
        Ordered {
            jobs,
            starts: vec![0],
        }
    }

    /// The parts that begin at `starts`, in order.
    fn parts(&self) -> impl Iterator<Item = &[Job]> {
        let ends = self.starts.iter().skip(1).copied().chain([self.jobs.len()]);
        (self.starts.iter().zip(ends)).map(|(start, end)| &self.jobs[*start..end])
    }
}

/// Files [`tier`] reads at once. Each read of a file not in the page cache
/// waits on the disk, not on a processor, and a disk answers many reads at
/// once: read cold, 5,000 pages of the generated corpus took 0.83 s two at
/// a time and 0.31 s sixteen at a time, and reading every file of
/// 1,000,000 pages before the first was processed took about 130 s of a
/// full build on 2 cores.
const READS_AT_ONCE: usize = 16;

/// 0 for a file that holds no quotes, 1 for a JSON Lines file, 2 for one
/// that names a key quotes section or cannot be read (it will say why when
/// it is processed).
fn tier(file: &CorpusFile) -> u8 {
    if page::is_jsonl(&file.name()) {
        return 1;
    }
    match std::fs::read(file.abs()) {
        Ok(bytes) if memchr::memmem::find(&bytes, b"Key quotes").is_none() => 0,
        _ => 2,
    }
}

/// Processes `jobs` in parallel. Modification times at or after
/// `recent_mtime` are recorded as 0, so the next run checks the content again.
pub(crate) fn run(
    jobs: &Ordered,
    writer: &IndexWriter<TantivyDocument>,
    fields: &Fields,
    recent_mtime: u128,
    progress: &(dyn Fn(Progress) + Sync),
    tracer: &mut Tracer,
) -> Result<Vec<Done>> {
    let mut all = Vec::with_capacity(jobs.len());
    run_each(
        jobs,
        writer,
        fields,
        recent_mtime,
        progress,
        tracer,
        |done| {
            all.push(done);
            Ok(())
        },
    )?;
    Ok(all)
}

/// [`run`], handing each outcome to `each`, in the order of `jobs`. Quotes
/// are checked against what `tracer` knows when their batch starts; what
/// each page brings to tracing goes to `tracer`, tagged with its job's index.
/// Each part of `jobs` starts a batch of its own (see [`raw_text_first`]).
pub(crate) fn run_each(
    jobs: &dyn JobSource,
    writer: &IndexWriter<TantivyDocument>,
    fields: &Fields,
    recent_mtime: u128,
    progress: &(dyn Fn(Progress) + Sync),
    tracer: &mut Tracer,
    mut each: impl FnMut(Done) -> Result<()>,
) -> Result<()> {
    let done = AtomicUsize::new(0);
    let mut start = 0;
    jobs.each_batch(&mut |batch| {
        let verifier = tracer.verifier();
        let outcomes: Vec<Result<Done>> = batch
            .par_iter()
            .enumerate()
            .map(|(i, job)| {
                let number = (start + i) as u32;
                let outcome = process_file(job, number, writer, fields, recent_mtime, verifier);
                progress(Progress::Parsed(done.fetch_add(1, Ordering::Relaxed) + 1));
                outcome
            })
            .collect();
        for (i, outcome) in outcomes.into_iter().enumerate() {
            let mut outcome = outcome?;
            if let Done::Indexed { traced, .. } = &mut outcome {
                tracer.absorb((start + i) as u32, std::mem::take(traced))?;
            }
            each(outcome)?;
        }
        start += batch.len();
        tracer.seal()?;
        // What the batch freed goes back to the system before the next one
        // allocates. Freed memory in the middle of a heap stays resident
        // otherwise, and the next batch's allocations land all over it: at
        // 1,000,000 pages the main heap held 53-62 MiB resident, 7 MB of it in
        // use, at the build's peak (BENCHMARKS.md).
        super::layout::give_back_freed_memory();
        Ok(())
    })
}

/// Reads, hashes and parses one file, the run's page number `number`, and
/// writes its documents.
fn process_file(
    job: &Job,
    number: u32,
    writer: &IndexWriter<TantivyDocument>,
    fields: &Fields,
    recent_mtime: u128,
    verifier: Verifier,
) -> Result<Done> {
    let file = &job.file;
    let bytes = match read_page(&file.abs()) {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(size)) => return Ok(too_large(job, size, recent_mtime, writer, fields)),
        Err(e) => {
            let skipped = Skipped {
                path: file.rel.clone(),
                reason: format!("cannot read: {e}"),
            };
            let old = job.old.as_deref().cloned();
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
        hash: Digest::of(&bytes),
        records: 0,
        skipped: None,
    };
    if let Some(old) = &job.old {
        if old.hash == entry.hash && !job.force {
            entry.records = old.records;
            entry.skipped = old.skipped.clone();
            return Ok(Done::Same {
                rel: file.rel.clone(),
                entry,
            });
        }
        writer.delete_term(crate::schema::path_term(fields, &file.rel));
    }
    let mut traced = Traced::default();
    let (skipped, warnings) = match page::parse_bytes(&file.name(), &bytes) {
        Ok(Parsed { page, warnings }) => {
            let written = write_page(
                &page,
                number,
                &file.rel,
                writer,
                fields,
                verifier,
                &mut traced,
            );
            entry.records = written?;
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
        traced,
        warnings: warnings
            .into_iter()
            .map(|warning| FileWarning {
                path: file.rel.clone(),
                warning,
            })
            .collect(),
    })
}

/// Writes a page's records, its quotes checked against `verifier` and the
/// page's own raw text; returns how many. What the page brings to tracing
/// (its raw texts, its quotes' fingerprints) goes to `traced`.
fn write_page(
    page: &Page,
    number: u32,
    rel: &str,
    writer: &IndexWriter<TantivyDocument>,
    fields: &Fields,
    verifier: Verifier,
    traced: &mut Traced,
) -> Result<usize> {
    let sources = page.raw_sources();
    let mut sparse = Vec::with_capacity(sources.len());
    traced.raw = (sources.iter())
        .map(|source| {
            let haystack = Haystack::new(source.paragraphs);
            let (shingles, winnowed) = haystack.shingle_sets();
            sparse.push(winnowed);
            let at = FoundIn {
                path: rel.to_string(),
                title: source.title.to_string(),
            };
            (at, haystack, shingles)
        })
        .collect();
    let mut records = page.indexables(rel);
    // Raw texts in record order: each one's winnowed shingles go on its
    // first passage.
    let mut next_source = 0;
    for (i, indexable) in records.iter_mut().enumerate() {
        let record = &mut indexable.record;
        let mut trace = Trace::default();
        if record.kind == Kind::Quote {
            if let Some(needle) = Needle::new(&record.text) {
                let hits = &mut traced.committed_hits;
                record.found_in = Some(verifier.find(&needle, &traced.raw, hits)?);
                trace.quote = Some(needle.fingerprint);
                traced.fingerprints.push(needle.fingerprint);
            }
        }
        if sources
            .get(next_source)
            .is_some_and(|s| s.first_passage == i)
        {
            trace.raw_text = Some(&sparse[next_source]);
            next_source += 1;
        }
        let mut doc = fields.page_document(indexable, number);
        fields.add_trace(&mut doc, trace);
        doc.add_u64(fields.place, i as u64);
        // One by one: Tantivy shares them out among its indexing threads,
        // so a page may span segments (its records keep their place in a
        // fast field). Added as one group, a page's records stayed together,
        // but Tantivy queues up to 10,000 groups, not documents: whole pages
        // piled up in that queue and raised a full build's peak memory by
        // about 100 MiB.
        writer.add_document(doc)?;
    }
    Ok(records.len())
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
        // Not read, so not hashed: a change of size is a change, and a
        // page that shrinks back under the limit is read again.
        hash: Digest::TooLarge,
        records: 0,
        skipped: Some(reason.clone()),
    };
    if let Some(old) = &job.old {
        if (old.hash, old.size) == (entry.hash, entry.size) {
            return Done::Same {
                rel: file.rel.clone(),
                entry,
            };
        }
        writer.delete_term(crate::schema::path_term(fields, &file.rel));
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
        traced: Traced::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(dir: &Path, rel: &str, text: &str) -> Job {
        std::fs::write(dir.join(rel), text).unwrap();
        Job {
            file: CorpusFile::new(dir.into(), rel.to_string(), text.len() as u64, 0),
            old: None,
            force: false,
        }
    }

    /// Raw text is read before the quotes it may hold, whatever the walk
    /// order, and each part keeps the walk's order.
    #[test]
    fn raw_text_comes_before_the_quotes_and_each_part_keeps_walk_order() {
        let dir = tempfile::tempdir().unwrap();
        let quotes = "Title\n\nExtraction\n\nKey quotes\n\n\"A quote.\"\n";
        let jobs = vec![
            job(dir.path(), "a.txt", quotes),
            job(
                dir.path(),
                "b.txt",
                "Raw text that a quote may come from.\n",
            ),
            job(dir.path(), "c.txt", quotes),
            job(
                dir.path(),
                "d.jsonl",
                "{\"title\": \"T\", \"text\": \"Words.\"}\n",
            ),
        ];
        let missing = job(dir.path(), "e.txt", "");
        std::fs::remove_file(missing.file.abs()).unwrap();
        let mut jobs = jobs;
        jobs.push(missing);
        let ordered = raw_text_first(jobs);
        let names: Vec<&str> = ordered.jobs.iter().map(|j| j.file.rel.as_str()).collect();
        assert_eq!(names, ["b.txt", "d.jsonl", "a.txt", "c.txt", "e.txt"]);
        assert_eq!(ordered.starts, [0, 1, 2]);
        let parts: Vec<usize> = ordered.parts().map(<[Job]>::len).collect();
        assert_eq!(parts, [1, 1, 3]);
    }

    /// The first part comes in blocks of consecutive files spread over it:
    /// a run of raw pages walked in a row (here the first quarter of the
    /// part, as a folder of raw text sorts before the thread pages) is met
    /// evenly through the part, not all at its start; the other parts keep
    /// their order; the part's sorted runs stay few.
    #[test]
    fn the_first_part_comes_in_blocks_spread_over_it() {
        // 80,000 files of part 0, the first 20,000 raw pages, then 10,000
        // of part 2 and 10,000 of part 1, mixed.
        let mut tiers = vec![0u8; 80_000];
        tiers.extend((0..20_000).map(|i| if i % 2 == 0 { 2 } else { 1 }));
        let (order, starts) = by_tier(&tiers);
        assert_eq!(starts, [0, 80_000, 90_000]);
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..100_000).collect::<Vec<u32>>(), "each file once");
        let first = &order[..80_000];
        assert!(first.iter().all(|&i| tiers[i as usize] == 0));
        // Each eighth of the part holds its share of the raw pages (2,500),
        // give or take a fifth; as walked, the first two eighths held them
        // all.
        for (n, eighth) in first.chunks(10_000).enumerate() {
            let raw = eighth.iter().filter(|&&i| i < 20_000).count();
            assert!((2_000..=3_000).contains(&raw), "eighth {n}: {raw}");
        }
        // The part in blocks, each in order: few places where the order
        // goes down.
        let runs = 1 + first.windows(2).filter(|w| w[1] < w[0]).count();
        assert!(runs <= FIRST_PART_BLOCKS, "{runs} runs");
        let rest: Vec<u32> = order[80_000..].to_vec();
        let tiers = &tiers;
        let part = |t: u8| (80_000..100_000u32).filter(move |&i| tiers[i as usize] == t);
        assert_eq!(rest, part(1).chain(part(2)).collect::<Vec<_>>());
        // Below one block, the part is as walked.
        let (small, _) = by_tier(&[0; 100]);
        assert_eq!(small, (0..100).collect::<Vec<u32>>());
    }
}
