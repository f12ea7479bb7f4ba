//! Files kept beside the index for one segment, named by the segment's id:
//! what a write run computed once from a segment, for every process that
//! searches it ([`crate::key_index`], [`crate::facet_rows`]). A segment's
//! documents never change, so such a file stays right for as long as its
//! segment lives; a write run writes the files its new segments lack and
//! removes those of segments gone.

use std::fs::File;
use std::io::{ErrorKind, Write};
use std::path::Path;

use tantivy::index::SegmentId;

use crate::error::{Error, Result};

/// What a file being written is named until it is whole.
const TEMPORARY: &str = ".tmp";

/// The name of segment `id`'s file of the kind `prefix`…`suffix`.
pub(crate) fn name(prefix: &str, id: SegmentId, suffix: &str) -> String {
    format!("{prefix}{}{suffix}", id.uuid_string())
}

/// Writes `bytes` to `dir/name`: to a temporary file first, synced, then
/// renamed over any other, so that a reader finds the whole file or none.
/// Written beside Tantivy's files, not through its directory, whose garbage
/// collection would delete it as one of its own.
pub(crate) fn write(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    let (path, temporary) = (dir.join(name), dir.join(format!("{name}{TEMPORARY}")));
    let written = File::create(&temporary).and_then(|mut file| {
        file.write_all(bytes)?;
        file.sync_all()
    });
    written
        .and_then(|()| std::fs::rename(&temporary, &path))
        .map_err(|e| Error::io(&path, e))
}

/// Removes from `dir` the files of the kind `prefix`…`suffix` whose
/// segment is not one of `live`, and those a run left half-written.
pub(crate) fn remove_others(
    dir: &Path,
    prefix: &str,
    suffix: &str,
    live: &[SegmentId],
) -> Result<()> {
    let live: Vec<String> = live.iter().map(|&id| name(prefix, id, suffix)).collect();
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let ours = name.starts_with(prefix)
            && (name.ends_with(suffix) || name.ends_with(&format!("{suffix}{TEMPORARY}")));
        if ours && !live.contains(&name) {
            match std::fs::remove_file(entry.path()) {
                Err(e) if e.kind() != ErrorKind::NotFound => {
                    return Err(Error::io(entry.path(), e))
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// Fills `buf` from `file` at `offset`, without moving the file's cursor
/// (readers of one file may read at once).
#[cfg(unix)]
pub(crate) fn read_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

/// Fills `buf` from `file` at `offset`, without moving the file's cursor
/// (readers of one file may read at once).
#[cfg(windows)]
pub(crate) fn read_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> std::io::Result<()> {
    while !buf.is_empty() {
        match std::os::windows::fs::FileExt::seek_read(file, buf, offset)? {
            0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            n => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
        }
    }
    Ok(())
}

/// A checksum of `bytes` from `seed` (which a kind of file makes of what
/// it checks: a bucket's number, the length): any change to them tells, but
/// for one chance in 2^64.
pub(crate) fn checksum(seed: u64, bytes: &[u8]) -> u64 {
    let mut h = mix(seed);
    for chunk in bytes.chunks(8) {
        h = mix(h ^ little(chunk));
    }
    h
}

/// A little-endian number of up to 8 bytes.
pub(crate) fn little(bytes: &[u8]) -> u64 {
    let mut eight = [0u8; 8];
    eight[..bytes.len()].copy_from_slice(bytes);
    u64::from_le_bytes(eight)
}

/// splitmix64's finalizer: the mixing step of [`checksum`].
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Reads a LEB128 varint from the front of `bytes`.
pub(crate) fn varint(bytes: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for (i, &byte) in bytes.iter().enumerate().take(10) {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            *bytes = &bytes[i + 1..];
            return Some(value);
        }
    }
    None
}

/// Appends `value` as a LEB128 varint.
pub(crate) fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push(value as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_read_back_and_cut_ones_are_refused() {
        let values = [0, 1, 127, 128, 300, 1 << 21, u64::from(u32::MAX), u64::MAX];
        let mut bytes = Vec::new();
        values.iter().for_each(|&v| put_varint(&mut bytes, v));
        let mut input = bytes.as_slice();
        for &v in &values {
            assert_eq!(varint(&mut input), Some(v));
        }
        assert!(input.is_empty());
        let mut cut = &bytes[bytes.len() - 3..bytes.len() - 1];
        assert_eq!(varint(&mut cut), None);
    }
}
