//! A full build's jobs on disk.
//!
//! A full build has a job for every file of the corpus. Held in memory,
//! they took about 150 bytes a file (the path, its size and time) for the
//! whole run: 150 MiB at 1,000,000 pages, at the build's peak. Written to a
//! scratch file in the index folder once they are in order, they are read
//! back one batch at a time.

use std::collections::{BTreeSet, HashMap};
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use rayon::prelude::*;

use super::process::{raw_text_order, Batcher, Job, JobSource, BATCH};
use super::scratch::Scratch;
use super::CorpusFile;
use crate::error::Result;

/// The jobs of a full build, in [`super::process::raw_text_first`]'s order,
/// in a scratch file removed when the list is dropped.
pub(crate) struct JobList {
    file: Scratch,
    root: Option<Arc<Path>>,
    /// Where each part starts.
    starts: Vec<usize>,
    len: usize,
}

impl JobList {
    /// Puts `files` in order (raw text first, each part as walked) and
    /// writes them to the scratch file in `index_dir`.
    pub(crate) fn write(index_dir: &Path, files: Vec<CorpusFile>) -> Result<JobList> {
        let mut file = Scratch::new(index_dir, "claimsearch-jobs.tmp");
        let (order, starts) = raw_text_order(files.par_iter());
        let mut record = Vec::new();
        for at in order {
            record.clear();
            encode(&files[at as usize], &mut record);
            file.write(&record)?;
        }
        file.flush()?;
        Ok(JobList {
            root: files.first().map(|f| Arc::clone(f.root())),
            len: files.len(),
            file,
            starts,
        })
    }

    /// The files of the jobs `wanted` (by their place in the list).
    pub(crate) fn files(&self, wanted: &BTreeSet<u32>) -> Result<HashMap<u32, CorpusFile>> {
        let mut found = HashMap::with_capacity(wanted.len());
        let Some(&last) = wanted.last() else {
            return Ok(found);
        };
        let Some(mut input) = self.file.reader()? else {
            return Ok(found);
        };
        for at in 0..=last {
            let file = self.read_file(&mut input)?;
            if wanted.contains(&at) {
                found.insert(at, file);
            }
        }
        Ok(found)
    }

    fn read_file(&self, input: &mut impl Read) -> Result<CorpusFile> {
        let root = self.root.as_ref().expect("a list with jobs has a root");
        read_file(input, root).map_err(|e| self.file.error(e))
    }
}

impl JobSource for JobList {
    fn each_batch(&self, each: &mut dyn FnMut(&[Job]) -> Result<()>) -> Result<()> {
        let Some(mut input) = self.file.reader()? else {
            return Ok(());
        };
        let ends = self.starts.iter().skip(1).copied().chain([self.len]);
        let mut batch = Vec::with_capacity(BATCH);
        for (start, end) in self.starts.iter().copied().zip(ends) {
            let mut batcher = Batcher::default();
            for at in start..end {
                batch.push(Job {
                    file: self.read_file(&mut input)?,
                    old: None,
                    force: false,
                });
                if batcher.full(&batch[batch.len() - 1]) || at + 1 == end {
                    each(&batch)?;
                    batch.clear();
                }
            }
        }
        Ok(())
    }

    fn len(&self) -> usize {
        self.len
    }
}

/// A job's file as a record of the list: the length of its id, the id, its
/// size and its time.
fn encode(file: &CorpusFile, record: &mut Vec<u8>) {
    record.extend((file.rel.len() as u32).to_le_bytes());
    record.extend(file.rel.as_bytes());
    record.extend(file.size.to_le_bytes());
    record.extend(file.mtime.to_le_bytes());
}

fn read_file(input: &mut impl Read, root: &Arc<Path>) -> std::io::Result<CorpusFile> {
    let mut len = [0; 4];
    input.read_exact(&mut len)?;
    let mut rel = vec![0; u32::from_le_bytes(len) as usize];
    input.read_exact(&mut rel)?;
    let rel = String::from_utf8(rel)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
    let (mut size, mut mtime) = ([0; 8], [0; 16]);
    input.read_exact(&mut size)?;
    input.read_exact(&mut mtime)?;
    Ok(CorpusFile::new(
        Arc::clone(root),
        rel,
        u64::from_le_bytes(size),
        u128::from_le_bytes(mtime),
    ))
}

#[cfg(test)]
mod tests {
    use super::super::process::raw_text_first;
    use super::*;

    /// The list read back from disk is the list `raw_text_first` puts in
    /// order in memory, batch by batch, and the scratch file goes with it.
    #[test]
    fn the_list_on_disk_gives_the_jobs_in_raw_text_first_order() {
        let corpus = tempfile::tempdir().unwrap();
        let index = tempfile::tempdir().unwrap();
        let root: Arc<Path> = Arc::from(corpus.path());
        let quotes = "Title\n\nExtraction\n\nKey quotes\n\n\"A quote.\"\n";
        let mut files = Vec::new();
        for i in 0..(BATCH + 10) {
            let (rel, text) = match i % 3 {
                0 => (format!("q{i:05}.txt"), quotes),
                1 => (format!("r{i:05}.txt"), "Raw text.\n"),
                _ => (format!("j{i:05}.jsonl"), "{\"title\": \"T\"}\n"),
            };
            std::fs::write(corpus.path().join(&rel), text).unwrap();
            // Every 100th file is large: batches end at BATCH_BYTES too.
            let size = if i % 100 == 0 { 3 << 20 } else { 7 };
            files.push(CorpusFile::new(Arc::clone(&root), rel, size, i as u128));
        }
        let held = raw_text_first(
            (files.iter().cloned())
                .map(|file| Job {
                    file,
                    old: None,
                    force: false,
                })
                .collect(),
        );
        let list = JobList::write(index.path(), files).unwrap();
        assert_eq!(list.starts, held.starts);
        let mut read = Vec::new();
        let mut batches = Vec::new();
        list.each_batch(&mut |batch| {
            batches.push(batch.len());
            read.extend(batch.iter().map(|job| job.file.clone()));
            Ok(())
        })
        .unwrap();
        let expected: Vec<CorpusFile> = held.jobs.iter().map(|j| j.file.clone()).collect();
        assert_eq!(read, expected);
        let mut held_batches = Vec::new();
        held.each_batch(&mut |batch| {
            held_batches.push(batch.len());
            Ok(())
        })
        .unwrap();
        assert_eq!(batches, held_batches);
        // Three parts, each cut every third large file.
        assert!(batches.len() > 10, "{batches:?}");
        assert!(batches.iter().all(|n| *n <= BATCH));
        let some = list.files(&[3, 4000].into_iter().collect()).unwrap();
        assert_eq!(some[&3], expected[3]);
        assert_eq!(some[&4000], expected[4000]);
        drop(list);
        assert_eq!(std::fs::read_dir(index.path()).unwrap().count(), 0);
    }
}
