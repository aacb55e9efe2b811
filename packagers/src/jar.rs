//! Mozilla jars (`omni.ja`, `browser/omni.ja`): zip archives read entry by entry with their
//! raw compressed bytes, and written back from those raw bytes without recompression.
//!
//! # Reading
//! [`read_entries`] lists a jar's entries in central-directory order with, for each, the
//! byte range of its compressed data inside the jar, its method, CRC-32 and sizes. It reads
//! both layouts mozpack's `JarWriter` produces: the plain one (local entries, then the central
//! directory, then the end record) and the optimized "preload" one (a u32 preload size, the
//! central directory at offset 4, an end record, the local entries, and a second end record
//! at the very end). The zip parsing itself is the `zip` crate's.
//!
//! # Writing
//! We write the plain layout, field for field as mozpack's `JarWriter` does (APPNOTE.TXT
//! 4.3): for each entry a local file header (signature `PK\x03\x04`, version needed 10 for
//! stored / 20 for deflated, flags 0 / 2, method, DOS time 00:00 and date 2010-01-01, CRC-32,
//! compressed and uncompressed sizes, name length, no extra field) followed by the data; then
//! one central-directory record per entry (signature `PK\x01\x02`, creator version
//! `20 | 3 << 8`, the same fields, external attributes `mode << 16`, the local header's
//! offset); then the end of central directory record (`PK\x05\x06`, entry counts, directory
//! size and offset, no comment). All integers are little-endian.
//!
//! A local record does not depend on where it sits in the file, and a central record only on
//! its entry's offset. The engine relies on that: the local and central records of the
//! entries that no locale changes are written once and shared by every locale's jar.

use std::io::{Cursor, Read};
use std::ops::Range;

use crate::{Error, Result};

/// How an entry's data is stored. Firefox reads only these two (nsZipArchive).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    /// Method 0: the data as is.
    Stored,
    /// Method 8: raw deflate.
    Deflated,
}

impl Method {
    fn code(self) -> u16 {
        match self {
            Method::Stored => 0,
            Method::Deflated => 8,
        }
    }
}

/// One entry of a jar as read: where its compressed bytes are and how to interpret them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryInfo {
    /// The entry name (`/`-separated, UTF-8).
    pub name: String,
    /// The compression method.
    pub method: Method,
    /// CRC-32 of the uncompressed data.
    pub crc32: u32,
    /// Uncompressed size.
    pub size: u32,
    /// Byte range of the compressed data inside the jar.
    pub data: Range<usize>,
    /// Unix mode bits (`0o100644` when the archive does not record them).
    pub mode: u32,
}

/// Lists the entries of the jar held in `jar`, in central-directory order.
///
/// Directory entries are skipped (mozpack writes none). Errors name the entry when one is
/// at fault: an unsupported compression method, a size over 4 GiB, a name that is not UTF-8,
/// or data that runs past the end of the file.
pub fn read_entries(jar: &[u8]) -> Result<Vec<EntryInfo>> {
    let end = end_record(jar).ok_or_else(|| Error::Jar {
        reason: "no end of central directory record at the end of the file, so it is cut \
                 short (a stored jar inside it may look like a whole zip)"
            .into(),
    })?;
    let mut archive = zip::ZipArchive::new(Cursor::new(jar)).map_err(|e| Error::Jar {
        reason: e.to_string(),
    })?;
    check_records(jar, end, &archive)?;
    let mut entries = Vec::with_capacity(archive.len());
    for index in 0..archive.len() {
        let file = archive.by_index_raw(index).map_err(|e| Error::Jar {
            reason: format!("entry #{index}: {e}"),
        })?;
        let name = file
            .name()
            .map_err(|e| Error::Jar {
                reason: format!("entry #{index} has a name that is not valid UTF-8: {e}"),
            })?
            .into_owned();
        if file.is_dir() {
            continue;
        }
        let bad = |reason: String| Error::JarEntry {
            name: name.clone(),
            reason,
        };
        let method = match file.compression() {
            zip::CompressionMethod::Stored => Method::Stored,
            zip::CompressionMethod::Deflated => Method::Deflated,
            other => {
                return Err(bad(format!(
                    "compression method {other:?} is not one Firefox reads (stored or deflated)"
                )));
            }
        };
        let size = u32::try_from(file.size()).map_err(|_| bad("larger than 4 GiB".into()))?;
        let start = file
            .data_start()
            .ok_or_else(|| bad("the data offset is unknown".into()))?;
        let end = start
            .checked_add(file.compressed_size())
            .filter(|&end| end <= jar.len() as u64)
            .ok_or_else(|| bad("its data runs past the end of the jar".into()))?;
        if method == Method::Stored && file.compressed_size() != file.size() {
            return Err(bad(
                "a stored entry whose compressed and uncompressed sizes differ".into(),
            ));
        }
        entries.push(EntryInfo {
            method,
            crc32: file.crc32(),
            size,
            // Both bounds are at most `jar.len()`, checked above.
            data: start as usize..end as usize,
            mode: file.unix_mode().unwrap_or(0o100644),
            name,
        });
    }
    Ok(entries)
}

/// Checks that the central directory holds one record per distinct name, and no more
/// records than the `zip` crate read.
///
/// The `zip` crate keeps one entry per name, so a name that appears twice would otherwise
/// pass unseen, and it reads only as many records as the end record (or the zip64 end
/// record, when the classic one says `0xFFFF`) claims, while Firefox's nsZipArchive walks
/// every record up to the end record. So the records are walked here as Firefox walks
/// them, and counted.
fn check_records(jar: &[u8], end: usize, archive: &zip::ZipArchive<Cursor<&[u8]>>) -> Result<()> {
    let start = usize::try_from(archive.central_directory_start()).unwrap_or(usize::MAX);
    let mut names: Vec<&[u8]> = Vec::with_capacity(archive.len());
    let mut at = start;
    while at < end && jar.get(at..at + 4) == Some(b"PK\x01\x02") {
        let Some(fixed) = jar.get(at..at + 46) else {
            break;
        };
        let field =
            |offset: usize| usize::from(u16::from_le_bytes([fixed[offset], fixed[offset + 1]]));
        let name_end = at + 46 + field(28);
        let Some(name) = jar.get(at + 46..name_end) else {
            break;
        };
        names.push(name);
        at = name_end + field(30) + field(32);
    }
    let records = names.len();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    let twice = sorted.windows(2).find(|w| w[0] == w[1]).map(|w| w[0]);
    if let Some(name) = twice {
        let distinct = records - sorted.windows(2).filter(|w| w[0] == w[1]).count();
        return Err(Error::Jar {
            reason: format!(
                "its central directory lists {records} entries under {distinct} distinct \
                 names: an entry name appears twice ('{}')",
                String::from_utf8_lossy(name)
            ),
        });
    }
    if archive.has_duplicate_names() || records != archive.len() {
        return Err(Error::Jar {
            reason: format!(
                "its central directory holds {records} records but its end record lists {}",
                archive.len()
            ),
        });
    }
    Ok(())
}

/// Where the end of central directory record (`PK\x05\x06`, 22 bytes plus its comment) is,
/// when the file ends with one. The `zip` crate looks for the last such signature anywhere in the
/// last 64 KiB, so a truncated package whose tail holds a stored jar would otherwise read
/// as that jar.
fn end_record(bytes: &[u8]) -> Option<usize> {
    const LEN: usize = 22;
    let window = bytes.len().saturating_sub(LEN + usize::from(u16::MAX));
    (window..=bytes.len().saturating_sub(LEN))
        .rev()
        .find(|&at| {
            bytes.len() - at >= LEN
                && bytes[at..].starts_with(b"PK\x05\x06")
                && at + LEN + usize::from(u16::from_le_bytes([bytes[at + 20], bytes[at + 21]]))
                    == bytes.len()
        })
}

/// Decompresses one entry's data and checks its CRC-32.
pub fn decompress(info: &EntryInfo, raw: &[u8]) -> Result<Vec<u8>> {
    let bad = |reason: String| Error::JarEntry {
        name: info.name.clone(),
        reason,
    };
    let data = match info.method {
        Method::Stored => raw.to_vec(),
        Method::Deflated => {
            // The claimed size is not trusted for the allocation either: deflate expands at
            // most 1032-fold, so a 100-byte entry claiming 4 GiB reserves 100 KiB.
            let most = raw.len().saturating_mul(1032);
            let mut out = Vec::with_capacity((info.size as usize).min(most));
            // Never more than the size the entry claims (plus one byte, to tell a lie):
            // a small entry must not inflate into gigabytes.
            flate2::read::DeflateDecoder::new(raw)
                .take(u64::from(info.size) + 1)
                .read_to_end(&mut out)
                .map_err(|e| bad(format!("bad deflate data: {e}")))?;
            out
        }
    };
    if data.len() != info.size as usize {
        return Err(bad(format!(
            "expected {} bytes after decompression, got {}",
            info.size,
            data.len()
        )));
    }
    if crc32fast::hash(&data) != info.crc32 {
        return Err(bad("CRC-32 mismatch: the jar is corrupt".into()));
    }
    Ok(data)
}

/// An entry ready to be written: its compressed bytes and the fields that describe them.
#[derive(Clone, Copy, Debug)]
pub struct RawEntry<'a> {
    /// The entry name.
    pub name: &'a str,
    /// How `data` is compressed.
    pub method: Method,
    /// CRC-32 of the uncompressed data.
    pub crc32: u32,
    /// Uncompressed size.
    pub size: u32,
    /// The compressed bytes.
    pub data: &'a [u8],
    /// Unix mode bits for the external attributes.
    pub mode: u32,
}

impl<'a> RawEntry<'a> {
    /// Compresses `content` with `method` and describes the result. A deflated entry is
    /// stored instead when deflating does not make it smaller, as mozpack does; `buf`
    /// receives the bytes the returned entry points at.
    pub fn compress(
        name: &'a str,
        content: &'a [u8],
        method: Method,
        mode: u32,
        buf: &'a mut Vec<u8>,
    ) -> Result<RawEntry<'a>> {
        let size = u32::try_from(content.len()).map_err(|_| Error::JarEntry {
            name: name.to_owned(),
            reason: "larger than 4 GiB".into(),
        })?;
        let crc32 = crc32fast::hash(content);
        let mut entry = RawEntry {
            name,
            method: Method::Stored,
            crc32,
            size,
            data: content,
            mode,
        };
        if method == Method::Deflated {
            buf.clear();
            let mut encoder =
                flate2::write::DeflateEncoder::new(&mut *buf, flate2::Compression::best());
            std::io::Write::write_all(&mut encoder, content)?;
            encoder.finish()?;
            if buf.len() < content.len() {
                entry.method = Method::Deflated;
                entry.data = buf.as_slice();
            }
        }
        Ok(entry)
    }
}

/// A time as zip stores it: MS-DOS date and time fields (local time, 2-second steps; we
/// write UTC, as mozpack and `zip -X` in a UTC build environment do).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DosTime {
    /// Hour << 11 | minute << 5 | second / 2.
    pub time: u16,
    /// (Year − 1980) << 9 | month << 5 | day.
    pub date: u16,
}

impl DosTime {
    /// 2010-01-01 00:00, the fixed time mozpack gives every jar entry (bug 592369).
    pub const MOZPACK: DosTime = DosTime {
        time: 0,
        date: ((2010 - 1980) << 9) | (1 << 5) | 1,
    };

    /// The DOS time of `secs` since 1970 (UTC), clamped to DOS's 1980–2107 range.
    pub fn from_unix(secs: u64) -> DosTime {
        let crate::civil::Civil {
            year,
            month,
            day,
            hour,
            minute,
            second,
            ..
        } = crate::civil::Civil::from_unix(secs);
        if year < 1980 {
            return DosTime {
                time: 0,
                date: (1 << 5) | 1,
            };
        }
        if year > 2107 {
            return DosTime {
                time: (23 << 11) | (59 << 5) | 29,
                date: (127 << 9) | (12 << 5) | 31,
            };
        }
        DosTime {
            time: ((hour << 11) | (minute << 5) | (second / 2)) as u16,
            date: (((year - 1980) << 9) | (month << 5) | day) as u16,
        }
    }
}

/// The fields of an entry's local and central records.
#[derive(Clone, Copy, Debug)]
pub struct EntryHeader<'a> {
    /// The entry name.
    pub name: &'a str,
    /// How the data is compressed.
    pub method: Method,
    /// CRC-32 of the uncompressed data.
    pub crc32: u32,
    /// Uncompressed size.
    pub size: u32,
    /// Compressed size.
    pub compressed_size: u32,
    /// Unix mode bits for the external attributes.
    pub mode: u32,
    /// Modification time.
    pub time: DosTime,
}

impl EntryHeader<'_> {
    fn flags(&self) -> u16 {
        let deflate = if self.method == Method::Deflated {
            2
        } else {
            0
        };
        // Bit 11: the name is UTF-8. Only set when it matters, as mozpack writes ASCII names.
        let utf8 = if self.name.is_ascii() { 0 } else { 0x800 };
        deflate | utf8
    }

    fn version_needed(&self) -> u16 {
        if self.method == Method::Deflated {
            20
        } else {
            10
        }
    }

    fn name_len(&self) -> Result<u16> {
        u16::try_from(self.name.len()).map_err(|_| Error::JarEntry {
            name: self.name.to_owned(),
            reason: "the name is longer than 65535 bytes".into(),
        })
    }

    /// The fields local and central records share: version needed, flags, method, time,
    /// date, CRC-32, compressed and uncompressed sizes.
    fn put_fields(&self, out: &mut Vec<u8>) {
        put16(out, self.version_needed());
        put16(out, self.flags());
        put16(out, self.method.code());
        put16(out, self.time.time);
        put16(out, self.time.date);
        put32(out, self.crc32);
        put32(out, self.compressed_size);
        put32(out, self.size);
    }

    /// Appends the local file header (without the data).
    pub fn append_local(&self, out: &mut Vec<u8>) -> Result<()> {
        self.append_local_with_extra(out, &[])
    }

    /// Appends the local file header with `extra` as its extra field (APPNOTE 4.5).
    pub fn append_local_with_extra(&self, out: &mut Vec<u8>, extra: &[u8]) -> Result<()> {
        let name_len = self.name_len()?;
        let extra_len = u16::try_from(extra.len()).map_err(|_| Error::JarEntry {
            name: self.name.to_owned(),
            reason: "the extra field is longer than 65535 bytes".into(),
        })?;
        put32(out, LOCAL_SIGNATURE);
        self.put_fields(out);
        put16(out, name_len);
        put16(out, extra_len);
        out.extend_from_slice(self.name.as_bytes());
        out.extend_from_slice(extra);
        Ok(())
    }

    /// Appends the central-directory record of the entry whose local header is at
    /// `offset`.
    pub fn append_central(&self, out: &mut Vec<u8>, offset: u64) -> Result<()> {
        let name_len = self.name_len()?;
        let offset = u32::try_from(offset).map_err(|_| Error::JarEntry {
            name: self.name.to_owned(),
            reason: "the archive would be larger than 4 GiB".into(),
        })?;
        put32(out, CENTRAL_SIGNATURE);
        put16(out, 20 | (3 << 8));
        self.put_fields(out);
        put16(out, name_len);
        put16(out, 0); // extra field length
        put16(out, 0); // comment length
        put16(out, 0); // disk number start
        put16(out, 0); // internal attributes
        put32(out, self.mode << 16);
        put32(out, offset);
        out.extend_from_slice(self.name.as_bytes());
        Ok(())
    }
}

impl<'a> RawEntry<'a> {
    /// The record fields of this entry, with mozpack's fixed time.
    pub fn header(&self) -> Result<EntryHeader<'a>> {
        Ok(EntryHeader {
            name: self.name,
            method: self.method,
            crc32: self.crc32,
            size: self.size,
            compressed_size: u32::try_from(self.data.len()).map_err(|_| Error::JarEntry {
                name: self.name.to_owned(),
                reason: "compressed data larger than 4 GiB".into(),
            })?,
            mode: self.mode,
            time: DosTime::MOZPACK,
        })
    }
}

const LOCAL_SIGNATURE: u32 = 0x0403_4b50;
const CENTRAL_SIGNATURE: u32 = 0x0201_4b50;
const END_SIGNATURE: u32 = 0x0605_4b50;
/// The extra field zipalign and apksigner pad local headers with (Android's
/// `ZipAlign.ALIGNMENT_EXTRA_FIELD_ID`).
const ANDROID_ALIGNMENT_ID: u16 = 0xd935;

/// Appends the local file header and data of `entry`.
pub fn append_local(out: &mut Vec<u8>, entry: &RawEntry<'_>) -> Result<()> {
    entry.header()?.append_local(out)?;
    out.extend_from_slice(entry.data);
    Ok(())
}

/// Appends the central-directory record of `entry`, whose local header is at `offset`.
pub fn append_central(out: &mut Vec<u8>, entry: &RawEntry<'_>, offset: u64) -> Result<()> {
    entry.header()?.append_central(out, offset)
}

/// Appends `record`, a central-directory record as [`append_central`] writes it (no extra
/// field, no comment), with the offset of its local header changed to `offset`: an entry's
/// local record holds no offset, so it moves to another archive byte for byte, and only
/// its central record is rewritten.
pub fn append_central_moved(out: &mut Vec<u8>, record: &[u8], offset: u64) -> Result<()> {
    const OFFSET_AT: usize = 42;
    if record.len() < CENTRAL_FIXED || record[..4] != CENTRAL_SIGNATURE.to_le_bytes() {
        return Err(Error::Jar {
            reason: "not a central-directory record".into(),
        });
    }
    let offset = u32::try_from(offset).map_err(|_| Error::Jar {
        reason: "the archive would be larger than 4 GiB".into(),
    })?;
    out.extend_from_slice(&record[..OFFSET_AT]);
    put32(out, offset);
    out.extend_from_slice(&record[OFFSET_AT + 4..]);
    Ok(())
}

/// The size of a central-directory record before its name.
const CENTRAL_FIXED: usize = 46;

/// Appends the end of central directory record.
pub fn append_end(out: &mut Vec<u8>, entries: usize, directory: Range<u64>) -> Result<()> {
    let too_big = |what: &str| Error::Jar {
        reason: format!("the archive would have {what}, more than a zip without zip64 holds"),
    };
    let count = u16::try_from(entries).map_err(|_| too_big("more than 65535 entries"))?;
    let size = u32::try_from(directory.end - directory.start)
        .map_err(|_| too_big("a central directory over 4 GiB"))?;
    let start = u32::try_from(directory.start).map_err(|_| too_big("more than 4 GiB of data"))?;
    put32(out, END_SIGNATURE);
    put16(out, 0);
    put16(out, 0);
    put16(out, count);
    put16(out, count);
    put32(out, size);
    put32(out, start);
    put16(out, 0);
    Ok(())
}

/// Streams a zip archive in the plain layout: entries are written as they come, their
/// central records kept and written by [`ZipWriter::finish`]. For packages (the Windows
/// zip), whose entries can be large and made of several pre-compressed parts.
pub struct ZipWriter<W: std::io::Write> {
    w: W,
    offset: u64,
    central: Vec<u8>,
    count: usize,
}

impl<W: std::io::Write> ZipWriter<W> {
    /// Starts an empty archive.
    pub fn new(w: W) -> Self {
        ZipWriter {
            w,
            offset: 0,
            central: Vec::new(),
            count: 0,
        }
    }

    /// Appends an entry whose compressed data is `parts` joined (their lengths must add up
    /// to `header.compressed_size`).
    pub fn append(&mut self, header: &EntryHeader<'_>, parts: &[&[u8]]) -> Result<()> {
        self.append_aligned(header, parts, 1)
    }

    /// Where the next entry's local header starts.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// As [`ZipWriter::append`], with the data starting at a multiple of `alignment`
    /// bytes from the start of the archive. For `alignment` > 1 the local header carries
    /// Android's alignment extra field (header id `0xd935`: the alignment as a u16, then
    /// zero padding), as `zipalign` and apksigner write it; the central record carries
    /// none.
    pub fn append_aligned(
        &mut self,
        header: &EntryHeader<'_>,
        parts: &[&[u8]],
        alignment: u16,
    ) -> Result<()> {
        let len: u64 = parts.iter().map(|p| p.len() as u64).sum();
        if len != u64::from(header.compressed_size) {
            return Err(Error::JarEntry {
                name: header.name.to_owned(),
                reason: format!(
                    "{len} compressed bytes given for a header that says {}",
                    header.compressed_size
                ),
            });
        }
        let mut extra = Vec::new();
        if alignment > 1 {
            // id, size, alignment: 6 bytes, then as many zeros as the data start needs.
            let unpadded = self.offset + 30 + header.name.len() as u64 + 6;
            let padding =
                (u64::from(alignment) - unpadded % u64::from(alignment)) % u64::from(alignment);
            put16(&mut extra, ANDROID_ALIGNMENT_ID);
            put16(&mut extra, 2 + padding as u16);
            put16(&mut extra, alignment);
            extra.resize(6 + padding as usize, 0);
        }
        let mut local = Vec::with_capacity(30 + header.name.len() + extra.len());
        header.append_local_with_extra(&mut local, &extra)?;
        header.append_central(&mut self.central, self.offset)?;
        self.w.write_all(&local)?;
        for part in parts {
            self.w.write_all(part)?;
        }
        self.offset += local.len() as u64 + len;
        self.count += 1;
        Ok(())
    }

    /// Writes the central directory and the end record; returns the writer and the size.
    pub fn finish(mut self) -> Result<(W, u64)> {
        let directory = self.offset..self.offset + self.central.len() as u64;
        append_end(&mut self.central, self.count, directory)?;
        self.w.write_all(&self.central)?;
        Ok((self.w, self.offset + self.central.len() as u64))
    }
}

/// Writes a whole jar in the plain layout from `entries`, in order.
pub fn write_jar(entries: &[RawEntry<'_>]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut offsets = Vec::with_capacity(entries.len());
    for entry in entries {
        offsets.push(out.len() as u64);
        append_local(&mut out, entry)?;
    }
    let directory_start = out.len() as u64;
    for (entry, offset) in entries.iter().zip(offsets) {
        append_central(&mut out, entry, offset)?;
    }
    let directory = directory_start..out.len() as u64;
    append_end(&mut out, entries.len(), directory)?;
    Ok(out)
}

fn put16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<(String, Vec<u8>, Method)> {
        vec![
            (
                "chrome.manifest".into(),
                b"manifest chrome/chrome.manifest\n".to_vec(),
                Method::Stored,
            ),
            (
                "res/multilocale.txt".into(),
                b"fr,en-US\n".to_vec(),
                Method::Deflated,
            ),
            (
                "localization/fr/a.ftl".into(),
                "clé = valeur\n".repeat(50).into_bytes(),
                Method::Deflated,
            ),
            ("empty".into(), Vec::new(), Method::Stored),
            ("données/é.txt".into(), b"x".to_vec(), Method::Deflated),
        ]
    }

    fn build(items: &[(String, Vec<u8>, Method)]) -> Vec<u8> {
        let mut bufs: Vec<Vec<u8>> = vec![Vec::new(); items.len()];
        let entries: Vec<RawEntry<'_>> = items
            .iter()
            .zip(bufs.iter_mut())
            .map(|((name, content, method), buf)| {
                RawEntry::compress(name, content, *method, 0o100644, buf).unwrap()
            })
            .collect();
        write_jar(&entries).unwrap()
    }

    #[test]
    fn a_record_moved_to_another_archive_reads_back() {
        let items = sample();
        let mut buf = Vec::new();
        let (name, content, method) = &items[2];
        let entry = RawEntry::compress(name, content, *method, 0o100644, &mut buf).unwrap();
        // The record as one archive has it, at offset 0.
        let (mut local, mut central) = (Vec::new(), Vec::new());
        append_local(&mut local, &entry).unwrap();
        append_central(&mut central, &entry, 0).unwrap();
        // Moved behind another entry in a second archive.
        let mut other_buf = Vec::new();
        let first =
            RawEntry::compress("a", b"aaa", Method::Stored, 0o100644, &mut other_buf).unwrap();
        let (mut jar, mut directory) = (Vec::new(), Vec::new());
        append_local(&mut jar, &first).unwrap();
        append_central(&mut directory, &first, 0).unwrap();
        let at = jar.len() as u64;
        jar.extend_from_slice(&local);
        append_central_moved(&mut directory, &central, at).unwrap();
        let start = jar.len() as u64;
        jar.extend_from_slice(&directory);
        append_end(&mut jar, 2, start..start + directory.len() as u64).unwrap();
        let entries = read_entries(&jar).unwrap();
        assert_eq!(entries[1].name, *name);
        assert_eq!(
            &decompress(&entries[1], &jar[entries[1].data.clone()]).unwrap(),
            content
        );
        assert!(append_central_moved(&mut Vec::new(), &local, 0).is_err());
    }

    #[test]
    fn a_truncated_zip_holding_a_stored_jar_is_not_read_as_that_jar() {
        let inner = build(&sample());
        let mut buf = Vec::new();
        let outer = write_jar(&[RawEntry::compress(
            "firefox/omni.ja",
            &inner,
            Method::Stored,
            0o100644,
            &mut buf,
        )
        .unwrap()])
        .unwrap();
        assert!(read_entries(&outer).is_ok());
        // Cut right after the inner jar: its end record is now the last one in the file.
        let cut = outer
            .windows(inner.len())
            .position(|w| w == inner.as_slice())
            .unwrap()
            + inner.len()
            + 7;
        let error = read_entries(&outer[..cut]).unwrap_err().to_string();
        assert!(error.contains("cut short"), "{error}");
        assert!(read_entries(&outer[..10]).is_err());
    }

    /// `jar` with its end record turned into zip64 form: a zip64 end record with the real
    /// counts, its locator, and a classic end record saying `0xFFFF`.
    fn with_zip64_end(jar: &[u8]) -> Vec<u8> {
        let end = end_record(jar).unwrap();
        let count = u64::from(u16::from_le_bytes([jar[end + 10], jar[end + 11]]));
        let size = u64::from(u32::from_le_bytes(
            jar[end + 12..end + 16].try_into().unwrap(),
        ));
        let start = u64::from(u32::from_le_bytes(
            jar[end + 16..end + 20].try_into().unwrap(),
        ));
        let mut out = jar[..end].to_vec();
        let record = out.len() as u64;
        out.extend_from_slice(b"PK\x06\x06");
        out.extend_from_slice(&44u64.to_le_bytes());
        out.extend_from_slice(&45u16.to_le_bytes());
        out.extend_from_slice(&45u16.to_le_bytes());
        out.extend_from_slice(&[0; 8]);
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&size.to_le_bytes());
        out.extend_from_slice(&start.to_le_bytes());
        out.extend_from_slice(b"PK\x06\x07");
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&record.to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes());
        out.extend_from_slice(b"PK\x05\x06");
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&[0xff; 4]);
        out.extend_from_slice(&jar[end + 12..end + 22]);
        out
    }

    #[test]
    fn a_name_twice_is_refused_behind_a_zip64_end_record() {
        let mut items = sample();
        items.push((
            "res/multilocale.txt".into(),
            b"evil\n".to_vec(),
            Method::Stored,
        ));
        let plain = build(&items);
        let zip64 = with_zip64_end(&plain);
        // The zip crate reads the zip64 form, and keeps one entry per name.
        let archive = zip::ZipArchive::new(Cursor::new(&zip64)).unwrap();
        assert_eq!(archive.len(), items.len() - 1);
        for jar in [&plain, &zip64] {
            let error = read_entries(jar).unwrap_err().to_string();
            assert!(
                error.contains(
                    "its central directory lists 6 entries under 5 distinct names: an entry \
                     name appears twice ('res/multilocale.txt')"
                ),
                "{error}"
            );
        }
        // Without the duplicate the zip64 form reads as the plain one.
        let good = build(&sample());
        assert_eq!(
            read_entries(&with_zip64_end(&good)).unwrap(),
            read_entries(&good).unwrap()
        );
    }

    #[test]
    fn records_past_the_count_of_the_end_record_are_refused() {
        let mut jar = build(&sample());
        let end = end_record(&jar).unwrap();
        // Claim one record fewer than the directory holds: Firefox walks them all.
        for at in [end + 8, end + 10] {
            jar[at] -= 1;
        }
        let error = read_entries(&jar).unwrap_err().to_string();
        assert!(
            error.contains("its central directory holds 5 records but its end record lists 4"),
            "{error}"
        );
    }

    #[test]
    fn an_entry_that_inflates_past_its_size_is_refused_without_inflating_it_all() {
        let big = vec![0u8; 4 << 20];
        let mut buf = Vec::new();
        let entry = RawEntry::compress("bomb", &big, Method::Deflated, 0o100644, &mut buf).unwrap();
        let jar = write_jar(&[entry]).unwrap();
        let mut info = read_entries(&jar).unwrap().remove(0);
        info.size = 10;
        let error = decompress(&info, &jar[info.data.clone()])
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("expected 10 bytes after decompression, got 11"),
            "{error}"
        );
    }

    #[test]
    fn round_trip_through_our_reader() {
        let items = sample();
        let jar = build(&items);
        let entries = read_entries(&jar).unwrap();
        assert_eq!(entries.len(), items.len());
        for (info, (name, content, _)) in entries.iter().zip(&items) {
            assert_eq!(&info.name, name);
            assert_eq!(decompress(info, &jar[info.data.clone()]).unwrap(), *content);
            assert_eq!(info.mode, 0o100644);
        }
        // Small or incompressible data falls back to stored, as mozpack does.
        assert_eq!(entries[1].method, Method::Stored);
        assert_eq!(entries[2].method, Method::Deflated);
    }

    #[test]
    fn the_zip_crate_reads_and_checks_our_jar() {
        let items = sample();
        let jar = build(&items);
        let mut archive = zip::ZipArchive::new(Cursor::new(&jar)).unwrap();
        for (i, (name, content, _)) in items.iter().enumerate() {
            let mut file = archive.by_index(i).unwrap();
            assert_eq!(file.name().unwrap(), name.as_str());
            let mut data = Vec::new();
            file.read_to_end(&mut data).unwrap();
            assert_eq!(&data, content);
        }
    }

    #[test]
    fn local_records_do_not_depend_on_position() {
        let mut buf = Vec::new();
        let entry = RawEntry::compress("a", b"hello", Method::Stored, 0o100644, &mut buf).unwrap();
        let (mut one, mut two) = (Vec::new(), vec![1, 2, 3]);
        append_local(&mut one, &entry).unwrap();
        append_local(&mut two, &entry).unwrap();
        assert_eq!(one, two[3..]);
    }

    #[test]
    fn corrupt_jars_are_rejected_with_a_reason() {
        let jar = build(&sample());
        let truncated = &jar[..jar.len() / 2];
        assert!(matches!(read_entries(truncated), Err(Error::Jar { .. })));
        let mut flipped = jar.clone();
        let info = &read_entries(&jar).unwrap()[0];
        flipped[info.data.start] ^= 0xff;
        let info = &read_entries(&flipped).unwrap()[0];
        let err = decompress(info, &flipped[info.data.clone()]).unwrap_err();
        assert!(err.to_string().contains("CRC-32 mismatch"), "{err}");
    }

    #[test]
    fn dos_times() {
        assert_eq!(DosTime::from_unix(1_262_304_000), DosTime::MOZPACK);
        // 2026-11-03 15:19:12 UTC.
        let t = DosTime::from_unix(1_793_719_152);
        assert_eq!(t.date, ((2026 - 1980) << 9) | (11 << 5) | 3);
        assert_eq!(t.time, (15 << 11) | (19 << 5) | 6);
        assert_eq!(DosTime::from_unix(0).date, (1 << 5) | 1);
    }

    #[test]
    fn aligned_entries_start_at_a_multiple_of_their_alignment() {
        let time = DosTime::MOZPACK;
        let mut writer = ZipWriter::new(Vec::new());
        let mut expected = Vec::new();
        for (i, (name, alignment)) in [
            ("a", 4u16),
            ("lib/x86/libxul.so", 4096),
            ("bc", 4),
            ("d", 1),
        ]
        .into_iter()
        .enumerate()
        {
            let data = vec![i as u8; 1 + i * 3];
            let header = EntryHeader {
                name,
                method: Method::Stored,
                crc32: crc32fast::hash(&data),
                size: data.len() as u32,
                compressed_size: data.len() as u32,
                mode: 0o100644,
                time,
            };
            writer.append_aligned(&header, &[&data], alignment).unwrap();
            expected.push((name, alignment, data));
        }
        let (bytes, _) = writer.finish().unwrap();
        let entries = read_entries(&bytes).unwrap();
        for (entry, (name, alignment, data)) in entries.iter().zip(&expected) {
            assert_eq!(entry.name, *name);
            assert_eq!(entry.data.start % usize::from(*alignment), 0, "{name}");
            assert_eq!(&bytes[entry.data.clone()], data.as_slice());
        }
    }

    #[test]
    fn zip_writer_streams_parts_that_unzip_reads() {
        let content = b"hello zip ".repeat(1000);
        let mut deflated = Vec::new();
        let mut buf = Vec::new();
        let entry = RawEntry::compress("dir/a.txt", &content, Method::Deflated, 0o100644, &mut buf)
            .unwrap();
        deflated.extend_from_slice(entry.data);
        let time = DosTime::from_unix(1_793_719_152);
        let header = EntryHeader {
            time,
            ..entry.header().unwrap()
        };
        let mut writer = ZipWriter::new(Vec::new());
        let (a, b) = deflated.split_at(deflated.len() / 2);
        writer.append(&header, &[a, b]).unwrap();
        let stored = EntryHeader {
            name: "b.exe",
            method: Method::Stored,
            crc32: crc32fast::hash(b"MZ"),
            size: 2,
            compressed_size: 2,
            mode: 0o100755,
            time,
        };
        writer.append(&stored, &[b"MZ"]).unwrap();
        assert!(writer.append(&stored, &[b"M"]).is_err());
        let (bytes, size) = writer.finish().unwrap();
        assert_eq!(size, bytes.len() as u64);
        let mut archive = zip::ZipArchive::new(Cursor::new(&bytes)).unwrap();
        let mut file = archive.by_name("dir/a.txt").unwrap();
        let mut back = Vec::new();
        file.read_to_end(&mut back).unwrap();
        assert_eq!(back, content);
        assert_eq!(file.last_modified().unwrap().hour(), 15);
        drop(file);
        assert_eq!(
            archive.by_name("b.exe").unwrap().unix_mode(),
            Some(0o100755)
        );
        if crate::testing::tool("unzip") {
            let out = crate::testing::run_with_input(
                std::process::Command::new("sh").args(["-c", "cat > /tmp/.zw.zip.$$ && unzip -t /tmp/.zw.zip.$$; r=$?; rm -f /tmp/.zw.zip.$$; exit $r"]),
                &bytes,
            );
            assert!(out.status.success(), "{out:?}");
        }
    }

    /// From the fuzzing review: the capacity reserved for inflating is bounded by what
    /// the compressed bytes can inflate to, not taken from the size the entry claims.
    #[test]
    fn an_entry_claiming_4_gib_is_refused_without_reserving_it() {
        let mut buf = Vec::new();
        let entry =
            RawEntry::compress("a", &[7; 4096], Method::Deflated, 0o100644, &mut buf).unwrap();
        let jar = write_jar(&[entry]).unwrap();
        let mut info = read_entries(&jar).unwrap().remove(0);
        info.size = u32::MAX;
        let error = decompress(&info, &jar[info.data.clone()])
            .unwrap_err()
            .to_string();
        assert!(error.contains("got 4096"), "{error}");
    }
}
