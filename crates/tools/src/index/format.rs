//! The identifier index on disk: a small little-endian format read back
//! in one pass (a warm review loads it in milliseconds, no parsing of
//! names: the tables hold hashes). Layout: magic, version, tree id, the
//! files (blob id, path), then the two posting tables (hashes, offsets,
//! ids). A file that does not decode is reported and rebuilt, never
//! trusted.

use git2::Oid;

use super::{IdentifierIndex, IndexedFile, Postings};

const MAGIC: &[u8; 8] = b"SASHIDX\0";
const VERSION: u32 = 1;

fn put_u32(out: &mut Vec<u8>, value: u32) {
    out.extend_from_slice(&value.to_le_bytes());
}

fn put_postings(out: &mut Vec<u8>, postings: &Postings) {
    put_u32(out, postings.hashes.len() as u32);
    put_u32(out, postings.ids.len() as u32);
    for hash in &postings.hashes {
        out.extend_from_slice(&hash.to_le_bytes());
    }
    for offset in &postings.offsets {
        put_u32(out, *offset);
    }
    for id in &postings.ids {
        put_u32(out, *id);
    }
}

pub(super) fn encode(index: &IdentifierIndex) -> Vec<u8> {
    let mut out = Vec::with_capacity(
        64 + index.files.len() * 64 + (index.defined.len() + index.called.len()) * 8,
    );
    out.extend_from_slice(MAGIC);
    put_u32(&mut out, VERSION);
    out.extend_from_slice(index.tree.as_bytes());
    put_u32(&mut out, index.files.len() as u32);
    for file in &index.files {
        out.extend_from_slice(file.blob.as_bytes());
        put_u32(&mut out, file.path.len() as u32);
        out.extend_from_slice(file.path.as_bytes());
    }
    put_postings(&mut out, &index.defined);
    put_postings(&mut out, &index.called);
    out
}

/// Reads fields off the front of a byte slice.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, count: usize) -> Result<&'a [u8], String> {
        if self.bytes.len() < count {
            return Err("it ends early".to_owned());
        }
        let (head, rest) = self.bytes.split_at(count);
        self.bytes = rest;
        Ok(head)
    }

    fn u32(&mut self) -> Result<u32, String> {
        let bytes = self.take(4)?;
        Ok(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }

    fn oid(&mut self) -> Result<Oid, String> {
        Oid::from_bytes(self.take(20)?).map_err(|error| error.message().to_owned())
    }

    fn count(&mut self, width: usize) -> Result<usize, String> {
        let count = self.u32()? as usize;
        if count.saturating_mul(width) > self.bytes.len() {
            return Err(format!("a count of {count} is larger than the file"));
        }
        Ok(count)
    }

    fn postings(&mut self, files: usize) -> Result<Postings, String> {
        let names = self.count(8)?;
        let ids = self.count(4)?;
        let hashes: Vec<u64> = self
            .take(names * 8)?
            .chunks_exact(8)
            .map(|b| u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
            .collect();
        let offsets = self.u32s(if names == 0 { 1 } else { names + 1 })?;
        let id_list = self.u32s(ids)?;
        let sorted = hashes.windows(2).all(|pair| pair[0] < pair[1]);
        let offsets_ok = offsets.first() == Some(&0)
            && offsets.windows(2).all(|pair| pair[0] <= pair[1])
            && offsets.last().copied() == Some(ids as u32);
        if !sorted || !offsets_ok || id_list.iter().any(|&id| id as usize >= files) {
            return Err("its posting tables are inconsistent".to_owned());
        }
        Ok(Postings {
            hashes,
            offsets,
            ids: id_list,
        })
    }

    fn u32s(&mut self, count: usize) -> Result<Vec<u32>, String> {
        Ok(self
            .take(count.saturating_mul(4))?
            .chunks_exact(4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect())
    }
}

pub(super) fn decode(bytes: &[u8]) -> Result<IdentifierIndex, String> {
    let mut reader = Reader { bytes };
    if reader.take(8)? != MAGIC {
        return Err("it does not start with the index magic".to_owned());
    }
    let version = reader.u32()?;
    if version != VERSION {
        return Err(format!(
            "format version {version}, this build reads {VERSION}"
        ));
    }
    let tree = reader.oid()?;
    let file_count = reader.count(24)?;
    let mut files = Vec::with_capacity(file_count);
    for _ in 0..file_count {
        let blob = reader.oid()?;
        let length = reader.count(1)?;
        let path = std::str::from_utf8(reader.take(length)?)
            .map_err(|_| "a path is not UTF-8".to_owned())?
            .to_owned();
        files.push(IndexedFile { path, blob });
    }
    let defined = reader.postings(file_count)?;
    let called = reader.postings(file_count)?;
    if !reader.bytes.is_empty() {
        return Err("it has bytes after the last table".to_owned());
    }
    Ok(IdentifierIndex {
        tree,
        files,
        defined,
        called,
    })
}
