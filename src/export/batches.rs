//! NDJSON batch files of bounded size, one request body each.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::Engine;
use crate::error::{Error, Result};

/// Largest batch file, in bytes. Quickwit's ingest API refuses requests
/// over 10 MB by default; OpenSearch advises bulk requests of 5 to 15 MB.
pub const MAX_BATCH_BYTES: usize = 10_000_000;

/// Writes lines into `records-00001.ndjson` (Quickwit) or
/// `bulk-00001.ndjson` (OpenSearch), …, starting a new file before one
/// would grow past [`MAX_BATCH_BYTES`].
pub(super) struct Batches {
    dir: PathBuf,
    prefix: &'static str,
    current: Option<(PathBuf, BufWriter<File>)>,
    limit: usize,
    bytes: usize,
    written: usize,
}

impl Batches {
    pub(super) fn new(dir: &Path, engine: Engine) -> Batches {
        Batches::with_limit(dir, engine, MAX_BATCH_BYTES)
    }

    fn with_limit(dir: &Path, engine: Engine, limit: usize) -> Batches {
        Batches {
            limit,
            dir: dir.to_path_buf(),
            prefix: match engine {
                Engine::Quickwit => "records",
                Engine::OpenSearch => "bulk",
            },
            current: None,
            bytes: 0,
            written: 0,
        }
    }

    /// Appends the lines of one record (each ends in `\n`), which stay in
    /// one batch; false when they alone exceed a batch and were left out.
    pub(super) fn push(&mut self, lines: &str) -> Result<bool> {
        if lines.len() > self.limit {
            return Ok(false);
        }
        if self.current.is_none() || self.bytes + lines.len() > self.limit {
            self.start()?;
        }
        let (path, out) = self.current.as_mut().expect("a batch was just started");
        out.write_all(lines.as_bytes())
            .map_err(|e| Error::io(&*path, e))?;
        self.bytes += lines.len();
        Ok(true)
    }

    fn start(&mut self) -> Result<()> {
        self.close()?;
        self.written += 1;
        let path = (self.dir).join(format!("{}-{:05}.ndjson", self.prefix, self.written));
        let file = File::create(&path).map_err(|e| Error::io(&path, e))?;
        self.current = Some((path, BufWriter::new(file)));
        self.bytes = 0;
        Ok(())
    }

    fn close(&mut self) -> Result<()> {
        if let Some((path, out)) = self.current.take() {
            let file = out
                .into_inner()
                .map_err(|e| Error::io(&path, e.into_error()))?;
            file.sync_all().map_err(|e| Error::io(&path, e))?;
        }
        Ok(())
    }

    /// Closes the last batch; the number of batch files written.
    pub(super) fn finish(mut self) -> Result<usize> {
        self.close()?;
        Ok(self.written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_never_passes_the_limit_nor_splits_a_records_lines() {
        let dir = tempfile::tempdir().unwrap();
        let mut batches = Batches::with_limit(dir.path(), Engine::OpenSearch, 100);
        let record = |n: usize| format!("{{\"index\":{n}}}\n{{\"text\":\"{}\"}}\n", "x".repeat(n));
        let mut kept = 0;
        for n in [10, 30, 20, 5, 60, 200, 1] {
            kept += usize::from(batches.push(&record(n)).unwrap());
        }
        assert_eq!(kept, 6, "the 200-byte record alone is over the limit");
        assert_eq!(batches.finish().unwrap(), 4);
        let mut lines = 0;
        for n in 1..=4 {
            let path = dir.path().join(format!("bulk-{n:05}.ndjson"));
            let text = std::fs::read_to_string(path).unwrap();
            assert!(text.len() <= 100 && text.ends_with('\n'));
            assert_eq!(text.lines().count() % 2, 0);
            lines += text.lines().count();
        }
        assert_eq!(lines, 12);
    }
}
