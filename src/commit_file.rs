//! Files kept beside the index for one commit: what a write run found once
//! about the commit it made, so that every process that opens the commit
//! reads it rather than finding it again ([`crate::superseded`],
//! [`crate::common_keys`]).
//!
//! A file names the segments (ids, deletions, sizes) it was made for and
//! ends with a BLAKE3 hash of the rest: a reader takes its contents only
//! for exactly that commit, intact, and finds them from the index
//! otherwise (a run killed before writing it, a copy of another index, a
//! damaged file).

use std::fs::File;
use std::io::Write;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use memmap2::Mmap;

use tantivy::index::{SegmentId, SegmentMeta};
use tantivy::{Searcher, SegmentReader};

use crate::storage::SegmentsAlone;

/// What a segment is for a file: its id, its deletions and its size.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Identity {
    pub id: SegmentId,
    /// The opstamp of its deletions (`u64::MAX` without any).
    pub deletes: u64,
    pub max_doc: u32,
}

impl Identity {
    fn of_reader(segment: &SegmentReader) -> Identity {
        Identity {
            id: segment.segment_id(),
            deletes: segment.delete_opstamp().unwrap_or(u64::MAX),
            max_doc: segment.max_doc(),
        }
    }

    fn of_meta(meta: &SegmentMeta) -> Identity {
        Identity {
            id: meta.id(),
            deletes: meta.delete_opstamp().unwrap_or(u64::MAX),
            max_doc: meta.max_doc(),
        }
    }

    /// The id as a file names it.
    fn id_bytes(&self) -> [u8; 32] {
        let mut id = [0u8; 32];
        id.copy_from_slice(&self.id.uuid_string().as_bytes()[..32]);
        id
    }
}

/// A commit, as the files kept for it name it: the [`Identity`] of each of
/// its segments, in its order. A searcher open on the commit is one; so is
/// the commit's list of segments ([`SegmentsAlone`]), read without opening
/// any segment, which is how a write run's last steps see it.
pub(crate) trait Commit {
    fn segments(&self) -> Vec<Identity>;
}

impl Commit for Searcher {
    fn segments(&self) -> Vec<Identity> {
        self.segment_readers()
            .iter()
            .map(Identity::of_reader)
            .collect()
    }
}

impl Commit for SegmentsAlone {
    fn segments(&self) -> Vec<Identity> {
        self.metas().iter().map(Identity::of_meta).collect()
    }
}

/// `contents`, made for `commit`, written to `dir/name` (the
/// index folder): to a temporary file first, renamed over the old one, so
/// that a reader sees a whole file. The file is written beside Tantivy's,
/// not through its directory, which would list it as one of its own and
/// delete it with the next unused files.
pub(crate) fn save(
    dir: &Path,
    name: &str,
    magic: &[u8; 8],
    commit: &impl Commit,
    contents: &[u8],
) -> crate::error::Result<()> {
    let bytes = encode(magic, commit, contents);
    let (path, temporary) = (dir.join(name), dir.join(format!("{name}.tmp")));
    let written = File::create(&temporary).and_then(|mut file| {
        file.write_all(&bytes)?;
        file.sync_all()
    });
    written
        .and_then(|()| std::fs::rename(&temporary, &path))
        .map_err(|e| crate::error::Error::io(&path, e))
}

/// `take` of the contents of the file `dir/name` (the index folder), given
/// as the mapped file and where they are in it, if it was made for exactly
/// `searcher`'s commit and is intact. The file is
/// mapped, not copied: a one-shot query reads it once, through its hash.
/// Read beside Tantivy's files, as written: its directory would look for
/// the footer it gives its own files.
pub(crate) fn read<T>(
    dir: &Path,
    name: &str,
    magic: &[u8; 8],
    searcher: &Searcher,
    take: impl FnOnce(&Arc<Mmap>, Range<usize>) -> Option<T>,
) -> Option<T> {
    let file = File::open(dir.join(name)).ok()?;
    // SAFETY: the file is never written in place: it is written whole under
    // another name and renamed over this one ([`save`]), which leaves a
    // mapping as it was.
    let bytes = Arc::new(unsafe { Mmap::map(&file) }.ok()?);
    let contents = decode(magic, &bytes, searcher)?;
    let start = contents.as_ptr() as usize - bytes.as_ptr() as usize;
    take(&bytes, start..start + contents.len())
}

/// `magic`, the number of segments, the [`Identity`] of each segment of
/// `commit` in its order, then `contents`, then the BLAKE3 hash of all that.
pub(crate) fn encode(magic: &[u8; 8], commit: &impl Commit, contents: &[u8]) -> Vec<u8> {
    let mut out = magic.to_vec();
    let segments = commit.segments();
    out.extend_from_slice(&(segments.len() as u32).to_le_bytes());
    for segment in segments {
        out.extend_from_slice(&segment.id_bytes());
        out.extend_from_slice(&segment.deletes.to_le_bytes());
        out.extend_from_slice(&segment.max_doc.to_le_bytes());
    }
    out.extend_from_slice(contents);
    let hash = blake3::hash(&out);
    out.extend_from_slice(hash.as_bytes());
    out
}

/// The contents kept in `bytes`, if they are intact and were made for
/// exactly the segments, in the same order, of `searcher`'s commit.
pub(crate) fn decode<'a>(
    magic: &[u8; 8],
    bytes: &'a [u8],
    searcher: &Searcher,
) -> Option<&'a [u8]> {
    let (body, hash) = bytes.split_at_checked(bytes.len().checked_sub(32)?)?;
    if blake3::hash(body).as_bytes() != hash {
        return None;
    }
    let mut input = Input(body.strip_prefix(magic)?);
    let segments = searcher.segments();
    if input.u32()? as usize != segments.len() {
        return None;
    }
    for segment in segments {
        let kept_id: [u8; 32] = input.take(32)?.try_into().ok()?;
        if kept_id != segment.id_bytes()
            || input.u64()? != segment.deletes
            || input.u32()? != segment.max_doc
        {
            return None;
        }
    }
    Some(input.0)
}

/// Bytes read from the front.
pub(crate) struct Input<'a>(pub &'a [u8]);

impl<'a> Input<'a> {
    pub(crate) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }

    pub(crate) fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }

    pub(crate) fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
}
