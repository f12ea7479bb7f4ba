//! Scratch files: what an ingest would otherwise hold in memory for the
//! whole run (the job list, raw texts, quote fingerprints, the manifest
//! entries of a full build), written to the
//! index folder and read back. A scratch file is created with its first
//! write and removed when dropped; a run killed before that leaves it to the
//! next run, which creates it anew. No commit refers to one.

use std::fs::File;
use std::io::{BufReader, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// One scratch file in the index folder.
pub(crate) struct Scratch {
    path: PathBuf,
    /// The writer, and a handle for positioned reads; `None` until the
    /// first write.
    file: Option<(BufWriter<File>, File)>,
}

impl Scratch {
    /// The scratch file `name` in `index_dir`, not yet created.
    pub(crate) fn new(index_dir: &Path, name: &str) -> Scratch {
        Scratch {
            path: index_dir.join(name),
            file: None,
        }
    }

    /// Appends `bytes`, creating the file on the first call.
    pub(crate) fn write(&mut self, bytes: &[u8]) -> Result<()> {
        let fail = |e| Error::io(&self.path, e);
        let (out, _) = match &mut self.file {
            Some(file) => file,
            None => {
                let out = File::create(&self.path).map_err(fail)?;
                let reader = File::open(&self.path).map_err(fail)?;
                self.file.insert((BufWriter::new(out), reader))
            }
        };
        out.write_all(bytes).map_err(fail)
    }

    /// Makes everything written so far readable.
    pub(crate) fn flush(&mut self) -> Result<()> {
        if let Some((out, _)) = &mut self.file {
            out.flush().map_err(|e| Error::io(&self.path, e))?;
        }
        Ok(())
    }

    /// A reader from the start, after a [`Scratch::flush`]; `None` when
    /// nothing was written.
    pub(crate) fn reader(&self) -> Result<Option<BufReader<File>>> {
        self.reader_from(0)
    }

    /// A reader from byte `offset`, after a [`Scratch::flush`]; `None` when
    /// nothing was written.
    pub(crate) fn reader_from(&self, offset: u64) -> Result<Option<BufReader<File>>> {
        if self.file.is_none() {
            return Ok(None);
        }
        let fail = |e| self.error(e);
        let mut file = File::open(&self.path).map_err(fail)?;
        file.seek(SeekFrom::Start(offset)).map_err(fail)?;
        Ok(Some(BufReader::with_capacity(1 << 16, file)))
    }

    /// Fills `buf` from `offset`, flushed bytes only, without moving a
    /// shared cursor (the workers of a batch read at once).
    pub(crate) fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<()> {
        let Some((_, reader)) = &self.file else {
            return Err(self.error(std::io::ErrorKind::UnexpectedEof.into()));
        };
        crate::segment_file::read_at(reader, buf, offset).map_err(|e| self.error(e))
    }

    /// `error`, naming the file.
    pub(crate) fn error(&self, error: std::io::Error) -> Error {
        Error::io(&self.path, error)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}
