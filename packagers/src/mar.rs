//! Mozilla ARchive (MAR) files, the container of complete updates: a writer that lays the
//! file out as Mozilla's C `mar` tool does, and a reader that validates a whole file before
//! handing out its members.
//!
//! # Layout
//! Every integer is big-endian. Sources: mozilla-central `modules/libmar/src/mar_private.h`,
//! `mar_create.c` and `mar_read.c`, and mozilla-releng/build-mar (mardor)
//! `src/mardor/format.py`.
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | magic `MAR1` |
//! | 4 | 4 | `offset_to_index`, absolute |
//! | 8 | 8 | `total_file_size`, the whole file including the index |
//! | 16 | 4 | `num_signatures`: 0 when unsigned, at most 8 |
//! | 20 | var | per signature: `algorithm_id` u32, `sig_len` u32 (at most 2048), the signature |
//! | … | 4 | `num_additional_sections` (the C tool always writes 1) |
//! | … | var | per section: `block_size` u32 (its 8 header bytes included), `block_id` u32, payload |
//! | … | var | member data, back to back in append order, no padding |
//! | `offset_to_index` | 4 | `index_size`: bytes of the entries that follow |
//! | +4 | var | per member: `offset` u32 (absolute), `length` u32, `flags` u32 (`st_mode & 0o777`), NUL-terminated `/`-separated name |
//!
//! The product information block (section id 1) holds the MAR channel id (at most 63 bytes)
//! and the product version (at most 31 bytes), each NUL-terminated. We pad it to the 104
//! bytes `mar_create.c` always writes, so that `mar -i` and signing tools can rewrite it in
//! place; an unsigned MAR of ours therefore has its first member at offset 128. The reader
//! also accepts mardor's unpadded block.
//!
//! Readers tell pre-signature MARs (data at offset 8) from current ones by the offset of the
//! first index entry, so that entry must point at the first byte after the additional
//! sections: the writer keeps index order equal to file order to guarantee it.
//!
//! Limits the updater enforces and we enforce too: files of at most 500 MiB
//! (`MAX_SIZE_OF_MAR_FILE`), no zero-length members (the writer refuses them), no two
//! members sharing bytes ("file content collision" in `mar_read.c`).

use std::io::{self, Read, Seek, SeekFrom, Write};
use std::ops::Range;

use crate::{Error, Result};

/// The magic bytes every MAR starts with (`MAR_ID`).
const MAGIC: &[u8; 4] = b"MAR1";
/// Magic, `offset_to_index`, `total_file_size`, `num_signatures`.
const HEADER_SIZE: u32 = 20;
/// `MAX_SIGNATURES` in `mar.h`.
const MAX_SIGNATURES: u32 = 8;
/// `MAX_SIGNATURE_LENGTH` in `mar.h`.
const MAX_SIGNATURE_LENGTH: u32 = 2048;
/// `PRODUCT_INFO_BLOCK_ID`.
const PRODUCT_INFO_BLOCK_ID: u32 = 1;
/// `PIB_MAX_MAR_CHANNEL_ID_SIZE`: the channel id, without its NUL.
const MAX_CHANNEL_LEN: usize = 63;
/// `PIB_MAX_PRODUCT_VERSION_SIZE`: the product version, without its NUL.
const MAX_VERSION_LEN: usize = 31;
/// The largest product-information payload the C reader accepts: both strings at their
/// maximum length with their NULs.
const MAX_PIB_PAYLOAD: u32 = (MAX_CHANNEL_LEN + 1 + MAX_VERSION_LEN + 1) as u32;
/// The `block_size` `mar_create.c` always writes for the product information block.
const PIB_BLOCK_SIZE: u32 = 8 + MAX_PIB_PAYLOAD;
/// Where the first member of an unsigned MAR of ours starts: header, section count, PIB.
const UNSIGNED_DATA_OFFSET: u32 = HEADER_SIZE + 4 + PIB_BLOCK_SIZE;
/// Where the data of a MAR from before signatures starts (magic and index offset only).
const OLD_FORMAT_DATA_OFFSET: u32 = 8;
/// `MAX_SIZE_OF_MAR_FILE`: the updater refuses larger files, and so do we.
const MAX_SIZE: u64 = 524_288_000;
/// The longest member name we write or read; real names are a few dozen bytes.
const MAX_NAME_LEN: usize = 4096;
/// `offset`, `length` and `flags` of an index entry.
const ENTRY_FIXED_SIZE: usize = 12;

// Offsets are u32 in the format: every offset below the size cap fits, so the casts of
// checked sizes to u32 below cannot truncate.
const _: () = assert!(MAX_SIZE <= u32::MAX as u64);

/// The product information block: what the updater checks before applying a MAR.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProductInfo {
    /// The MAR channel id, e.g. `firefox-mozilla-release`; the updater applies the MAR only
    /// when it is in its `ACCEPTED_MAR_CHANNEL_IDS`.
    pub channel: String,
    /// The product version, e.g. `137.0`; the updater refuses a MAR older than itself.
    pub version: String,
}

/// One member of a MAR, as its index entry describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MarEntry {
    /// The member's path, `/`-separated.
    pub name: String,
    /// Absolute offset of its first byte in the file.
    pub offset: u32,
    /// Its length in bytes.
    pub length: u32,
    /// Its permission bits (`st_mode & 0o777`).
    pub flags: u32,
}

/// One signature entry of a signed MAR. The signature bytes are not kept: verifying them
/// is the updater's and signing tools' business.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signature {
    /// The algorithm id: 1 for RSA/SHA-1, 2 for RSA/SHA-384 (the only one Firefox accepts).
    pub algorithm: u32,
    /// The signature's length in bytes (512 for production RSA-4096 signatures).
    pub length: u32,
}

/// Writes a MAR. W: Write + Seek (header fields are patched at the end).
///
/// Offsets inside the MAR count from the position `W` has when [`MarWriter::new`] is
/// called. Members are written in append order, and the index lists them in that order.
/// The file is unsigned (`num_signatures` 0): signing tools insert their signature block
/// later, keeping the padded product information block.
pub struct MarWriter<W: Write + Seek> {
    w: W,
    /// Stream position of the MAR's first byte.
    base: u64,
    /// Offset, within the MAR, where the next member's data goes.
    next_offset: u32,
    entries: Vec<MarEntry>,
    /// Set when a failure left bytes that no index entry covers: the MAR cannot be
    /// completed any more, and every later call says so.
    failed: bool,
}

impl<W: Write + Seek> MarWriter<W> {
    /// Validates the product info (channel ≤ 63 bytes, version ≤ 31, no NUL; channel without
    /// ',' tab or space) and writes the header, 0 signatures, the PIB.
    ///
    /// Both strings must also be non-empty ASCII: an empty channel matches no updater's
    /// accepted list, and mardor decodes both as ASCII.
    pub fn new(mut w: W, info: &ProductInfo) -> Result<Self> {
        check_product_info(info)?;
        let base = w.stream_position()?;
        let mut head = Vec::with_capacity(UNSIGNED_DATA_OFFSET as usize);
        head.extend_from_slice(MAGIC);
        put32(&mut head, 0); // offset_to_index, patched by finish
        head.extend_from_slice(&0u64.to_be_bytes()); // total_file_size, patched by finish
        put32(&mut head, 0); // num_signatures
        put32(&mut head, 1); // num_additional_sections: the product information block
        put32(&mut head, PIB_BLOCK_SIZE);
        put32(&mut head, PRODUCT_INFO_BLOCK_ID);
        head.extend_from_slice(info.channel.as_bytes());
        head.push(0);
        head.extend_from_slice(info.version.as_bytes());
        head.push(0);
        // Zero padding up to the fixed block size, as mar_create.c writes it.
        head.resize(UNSIGNED_DATA_OFFSET as usize, 0);
        w.write_all(&head)?;
        Ok(MarWriter {
            w,
            base,
            next_offset: UNSIGNED_DATA_OFFSET,
            entries: Vec::new(),
            failed: false,
        })
    }

    /// Appends one member from bytes.
    ///
    /// The name must be non-empty, at most 4096 bytes and free of NUL; `flags` must fit in
    /// `0o777`; `data` must not be empty, since the updater refuses zero-length members
    /// (store an empty file as a non-empty compressed stream).
    pub fn append(&mut self, name: &str, flags: u32, data: &[u8]) -> Result<()> {
        self.check_member(name, flags)?;
        if data.is_empty() {
            return Err(empty_member(name));
        }
        let length = self.check_room(name, data.len() as u64)?;
        if let Err(e) = self.w.write_all(data) {
            self.failed = true;
            return Err(e.into());
        }
        self.push(name, flags, length);
        Ok(())
    }

    /// Appends one member whose bytes a closure writes; the length is measured from the
    /// stream position. The closure gets `&mut W`.
    ///
    /// The closure must leave the stream at the end of what it wrote. The same rules as
    /// [`MarWriter::append`] apply; a closure that writes nothing is refused. If the closure
    /// fails, or the member turns out too large after its bytes were written, the MAR
    /// cannot be completed and every later call returns an error.
    pub fn append_with(
        &mut self,
        name: &str,
        flags: u32,
        write: impl FnOnce(&mut W) -> io::Result<()>,
    ) -> Result<()> {
        self.check_member(name, flags)?;
        // Every successful call leaves the stream here, so there is no need to ask.
        let start = self.base + u64::from(self.next_offset);
        let end = match write(&mut self.w).and_then(|()| self.w.stream_position()) {
            Ok(end) => end,
            Err(e) => {
                self.failed = true;
                return Err(e.into());
            }
        };
        let length = match end.checked_sub(start) {
            Some(0) => return Err(empty_member(name)),
            Some(length) => length,
            None => {
                self.failed = true;
                return Err(mar(format!(
                    "the writer of member '{name}' left the stream at position {end}, \
                     before the member's start at {start}"
                )));
            }
        };
        let length = self
            .check_room(name, length)
            .inspect_err(|_| self.failed = true)?;
        self.push(name, flags, length);
        Ok(())
    }

    /// Writes the index, patches `offset_to_index` and `total_file_size`, returns W (positioned
    /// at the end).
    ///
    /// A MAR needs at least one member: readers find where the data starts, and so which
    /// format the file has, from the first index entry.
    pub fn finish(mut self) -> Result<W> {
        self.check_usable()?;
        if self.entries.is_empty() {
            return Err(mar(
                "a MAR needs at least one member: readers locate the data, and tell the format, \
                 from the first index entry"
                    .into(),
            ));
        }
        // The index size field, then the entries.
        let mut index = vec![0; 4];
        for entry in &self.entries {
            put32(&mut index, entry.offset);
            put32(&mut index, entry.length);
            put32(&mut index, entry.flags);
            index.extend_from_slice(entry.name.as_bytes());
            index.push(0);
        }
        let index_offset = self.next_offset;
        let total = u64::from(index_offset) + index.len() as u64;
        if total > MAX_SIZE {
            return Err(mar(format!(
                "the MAR would be {total} bytes with its index, more than the \
                 {MAX_SIZE} bytes the updater accepts (MAX_SIZE_OF_MAR_FILE)"
            )));
        }
        let index_size = (index.len() - 4) as u32; // below `total`, so below the cap
        index[..4].copy_from_slice(&index_size.to_be_bytes());
        self.w
            .seek(SeekFrom::Start(self.base + u64::from(index_offset)))?;
        self.w.write_all(&index)?;
        let mut fields = Vec::with_capacity(12);
        put32(&mut fields, index_offset);
        fields.extend_from_slice(&total.to_be_bytes());
        self.w.seek(SeekFrom::Start(self.base + 4))?;
        self.w.write_all(&fields)?;
        self.w.seek(SeekFrom::Start(self.base + total))?;
        self.w.flush()?;
        Ok(self.w)
    }

    fn check_usable(&self) -> Result<()> {
        if self.failed {
            return Err(mar(
                "an earlier member failed after its bytes were written; this MAR cannot be \
                 completed"
                    .into(),
            ));
        }
        Ok(())
    }

    fn check_member(&self, name: &str, flags: u32) -> Result<()> {
        self.check_usable()?;
        check_name(name).map_err(mar)?;
        if flags & !0o777 != 0 {
            return Err(mar(format!(
                "member '{name}' has flags {flags:#o}: only permission bits (st_mode & 0o777) \
                 belong in a MAR index"
            )));
        }
        Ok(())
    }

    /// Checks that a member of `length` bytes keeps the MAR under the size cap, and returns
    /// the length as the index stores it.
    fn check_room(&self, name: &str, length: u64) -> Result<u32> {
        let end = u64::from(self.next_offset) + length;
        if end > MAX_SIZE {
            return Err(mar(format!(
                "member '{name}' ({length} bytes at offset {}) would take the MAR past \
                 {MAX_SIZE} bytes, the most the updater accepts (MAX_SIZE_OF_MAR_FILE)",
                self.next_offset
            )));
        }
        Ok(length as u32) // at most the cap, which fits
    }

    fn push(&mut self, name: &str, flags: u32, length: u32) {
        self.entries.push(MarEntry {
            name: name.to_owned(),
            offset: self.next_offset,
            length,
            flags,
        });
        // check_room kept the end under the cap, which fits in u32.
        self.next_offset += length;
    }
}

/// Reads a MAR, validating everything before returning.
///
/// Offsets count from the start of `R`. Both signed and unsigned files are read; the
/// signatures are listed, not verified.
pub struct MarReader<R: Read + Seek> {
    r: R,
    info: Option<ProductInfo>,
    signatures: Vec<Signature>,
    entries: Vec<MarEntry>,
    total_size: u64,
    /// Where member data may lie: from the end of the additional sections to the index.
    data: Range<u32>,
}

impl<R: Read + Seek> MarReader<R> {
    /// Reads and validates the header, signature entries, additional sections and index.
    ///
    /// Errors name the offset or the entry at fault: bad magic, a file shorter than the
    /// header or over 500 MiB, a `total_file_size` that is not the file's length, an index
    /// that does not end exactly at the end of the file, more than 8 signatures or one over
    /// 2048 bytes, additional sections that are too small, too large (a product
    /// information payload over 96 bytes) or that run into the data, index entries with
    /// unterminated, empty or over-long names, a first entry that is not at the start of
    /// the data, entries outside the data, and entries sharing bytes.
    pub fn new(mut r: R) -> Result<Self> {
        let len = r.seek(SeekFrom::End(0))?;
        if len > MAX_SIZE {
            return Err(mar(format!(
                "the file is {len} bytes, more than the {MAX_SIZE} bytes the updater accepts \
                 (MAX_SIZE_OF_MAR_FILE)"
            )));
        }
        if len < u64::from(HEADER_SIZE) {
            return Err(mar(format!(
                "the file is {len} bytes, shorter than the {HEADER_SIZE}-byte MAR header"
            )));
        }
        let header: [u8; HEADER_SIZE as usize] = read_array(&mut r, 0)?;
        if &header[..4] != MAGIC {
            return Err(mar(format!(
                "bad magic {:02x?} at offset 0: a MAR starts with \"MAR1\"",
                &header[..4]
            )));
        }
        let index_offset = be32(&header, 4);
        let total_size = u64::from_be_bytes([
            header[8], header[9], header[10], header[11], header[12], header[13], header[14],
            header[15],
        ]);
        let num_signatures = be32(&header, 16);
        if total_size != len {
            return Err(mar(format!(
                "total_file_size (offset 8) says {total_size} bytes but the file has {len}"
            )));
        }
        let entries = read_index(&mut r, index_offset, len)?;

        let first = entries.first();
        if let Some(first) = first.filter(|e| e.offset == OLD_FORMAT_DATA_OFFSET) {
            return Err(mar(format!(
                "index entry #0 '{}' starts at offset {OLD_FORMAT_DATA_OFFSET}: this is an \
                 old-format MAR (no signature or product information block), not supported",
                first.name
            )));
        }
        // Readers take the first entry's offset as the end of the header sections.
        let head_end = first.map_or(index_offset, |e| e.offset.min(index_offset));
        let mut head = Region {
            r: &mut r,
            pos: u64::from(HEADER_SIZE),
            end: u64::from(head_end),
        };
        let signatures = read_signatures(&mut head, num_signatures)?;
        // A signed MAR from before additional sections has its data right after the
        // signatures, which only the first entry's offset tells (as in mar_read.c).
        let info = if first.is_some_and(|e| u64::from(e.offset) == head.pos) {
            None
        } else {
            read_additional_sections(&mut head)?
        };
        // Below `head_end`, a u32.
        let data_start = head.pos as u32;
        match first {
            Some(first) if first.offset != data_start => {
                return Err(mar(format!(
                    "index entry #0 '{}' starts at offset {}, but the data starts at \
                     {data_start}, right after the additional sections: readers take the \
                     first entry's offset as the start of the data",
                    first.name, first.offset
                )));
            }
            None if index_offset != data_start => {
                return Err(mar(format!(
                    "the index is empty, but {} bytes lie between the end of the additional \
                     sections at offset {data_start} and the index at {index_offset}",
                    u64::from(index_offset).saturating_sub(u64::from(data_start))
                )));
            }
            _ => {}
        }
        let data = data_start..index_offset;
        check_entries(&entries, &data)?;
        Ok(MarReader {
            r,
            info,
            signatures,
            entries,
            total_size,
            data,
        })
    }

    /// The product information block, when the file has one.
    pub fn product_info(&self) -> Option<&ProductInfo> {
        self.info.as_ref()
    }

    /// The signature entries, in file order; empty for an unsigned MAR.
    pub fn signatures(&self) -> &[Signature] {
        &self.signatures
    }

    /// The members, in index order.
    pub fn entries(&self) -> &[MarEntry] {
        &self.entries
    }

    /// Reads the bytes of one member (as listed by [`MarReader::entries`]; clone the entry
    /// first, as this borrows the reader mutably).
    pub fn read(&mut self, entry: &MarEntry) -> Result<Vec<u8>> {
        let end = u64::from(entry.offset) + u64::from(entry.length);
        if entry.offset < self.data.start || end > u64::from(self.data.end) {
            return Err(mar(format!(
                "entry '{}' covers [{}, {end}), outside the member data [{}, {})",
                entry.name, entry.offset, self.data.start, self.data.end
            )));
        }
        self.r.seek(SeekFrom::Start(u64::from(entry.offset)))?;
        let mut data = vec![0; entry.length as usize];
        self.r.read_exact(&mut data)?;
        Ok(data)
    }

    /// The file's total size in bytes (`total_file_size`, checked against the length).
    pub fn total_size(&self) -> u64 {
        self.total_size
    }
}

/// A bounded, sequential view of the header sections, reading on demand so that a
/// corrupt count never makes us read or allocate more than the sections can hold.
struct Region<'a, R> {
    r: &'a mut R,
    pos: u64,
    end: u64,
}

impl<R: Read + Seek> Region<'_, R> {
    /// Takes the next `n` bytes without reading them; returns their offset.
    fn skip(&mut self, n: u64, what: &str) -> Result<u64> {
        let start = self.pos;
        if start + n > self.end {
            return Err(mar(format!(
                "{what} at offset {start} ({n} bytes) runs past offset {}, where the member \
                 data (or the index) begins",
                self.end
            )));
        }
        self.pos += n;
        Ok(start)
    }

    fn u32(&mut self, what: &str) -> Result<u32> {
        let at = self.skip(4, what)?;
        Ok(u32::from_be_bytes(read_array(self.r, at)?))
    }
}

fn read_signatures<R: Read + Seek>(head: &mut Region<'_, R>, count: u32) -> Result<Vec<Signature>> {
    if count > MAX_SIGNATURES {
        return Err(mar(format!(
            "num_signatures (offset 16) is {count}, more than the {MAX_SIGNATURES} a MAR may \
             hold"
        )));
    }
    let mut signatures = Vec::with_capacity(count as usize);
    for i in 0..count {
        let at = head.pos;
        let algorithm = head.u32(&format!("the algorithm id of signature #{i}"))?;
        let length = head.u32(&format!("the length of signature #{i}"))?;
        if length > MAX_SIGNATURE_LENGTH {
            return Err(mar(format!(
                "signature #{i} at offset {at} is {length} bytes, more than \
                 {MAX_SIGNATURE_LENGTH} (MAX_SIGNATURE_LENGTH)"
            )));
        }
        head.skip(u64::from(length), &format!("signature #{i}"))?;
        signatures.push(Signature { algorithm, length });
    }
    Ok(signatures)
}

/// Reads the additional sections and returns the first product information block, as the
/// C reader uses the first one it finds. Sections of other ids are skipped.
fn read_additional_sections<R: Read + Seek>(
    head: &mut Region<'_, R>,
) -> Result<Option<ProductInfo>> {
    let count = head.u32("num_additional_sections")?;
    let mut info = None;
    for i in 0..count {
        let at = head.pos;
        let size = head.u32(&format!("the block_size of additional section #{i}"))?;
        let id = head.u32(&format!("the block_id of additional section #{i}"))?;
        let payload = size.checked_sub(8).ok_or_else(|| {
            mar(format!(
                "additional section #{i} at offset {at} has block_size {size}, less than its \
                 own 8-byte header"
            ))
        })?;
        if id == PRODUCT_INFO_BLOCK_ID && payload > MAX_PIB_PAYLOAD {
            return Err(mar(format!(
                "the product information block at offset {at} has block_size {size}: a \
                 {payload}-byte payload, more than the {MAX_PIB_PAYLOAD} the updater accepts"
            )));
        }
        let start = head.skip(
            u64::from(payload),
            &format!("additional section #{i} (block_size {size})"),
        )?;
        if id == PRODUCT_INFO_BLOCK_ID && info.is_none() {
            let mut bytes = vec![0; payload as usize];
            head.r.seek(SeekFrom::Start(start))?;
            head.r.read_exact(&mut bytes)?;
            info = Some(parse_product_info(&bytes, at)?);
        }
    }
    Ok(info)
}

/// Parses a product information payload: channel, NUL, version, NUL, padding.
fn parse_product_info(payload: &[u8], at: u64) -> Result<ProductInfo> {
    let (channel, rest) = pib_string(payload, "MAR channel id", MAX_CHANNEL_LEN, at)?;
    let (version, _padding) = pib_string(rest, "product version", MAX_VERSION_LEN, at)?;
    Ok(ProductInfo {
        channel: channel.to_owned(),
        version: version.to_owned(),
    })
}

/// Splits a NUL-terminated string of at most `max` bytes off the front of `bytes`.
fn pib_string<'a>(bytes: &'a [u8], what: &str, max: usize, at: u64) -> Result<(&'a str, &'a [u8])> {
    let nul = bytes.iter().position(|&b| b == 0).ok_or_else(|| {
        mar(format!(
            "the {what} in the product information block at offset {at} is not NUL-terminated"
        ))
    })?;
    if nul > max {
        return Err(mar(format!(
            "the {what} in the product information block at offset {at} is {nul} bytes, \
             more than {max}"
        )));
    }
    let value = std::str::from_utf8(&bytes[..nul]).map_err(|_| {
        mar(format!(
            "the {what} in the product information block at offset {at} is not UTF-8"
        ))
    })?;
    Ok((value, &bytes[nul + 1..]))
}

/// Reads the index at `index_offset`, which must end exactly at the end of the file.
fn read_index<R: Read + Seek>(r: &mut R, index_offset: u32, len: u64) -> Result<Vec<MarEntry>> {
    let start = u64::from(index_offset);
    if start + 4 > len {
        return Err(mar(format!(
            "offset_to_index (offset 4) is {index_offset}, past the end of the {len}-byte \
             file or too close to it for the 4-byte index size"
        )));
    }
    let size = u32::from_be_bytes(read_array(r, start)?);
    let end = start + 4 + u64::from(size);
    if end > len {
        return Err(mar(format!(
            "the index at offset {start} holds {size} bytes of entries, running past the end \
             of the {len}-byte file"
        )));
    }
    if end < len {
        return Err(mar(format!(
            "the index at offset {start} ends at offset {end}, but the file has {len} bytes: \
             {} trailing bytes follow it",
            len - end
        )));
    }
    let mut bytes = vec![0; size as usize];
    r.seek(SeekFrom::Start(start + 4))?;
    r.read_exact(&mut bytes)?;

    let mut entries = Vec::new();
    let mut pos = 0;
    while pos < bytes.len() {
        let i = entries.len();
        let at = start + 4 + pos as u64;
        let Some(name_and_rest) = bytes.get(pos + ENTRY_FIXED_SIZE..) else {
            return Err(mar(format!(
                "index entry #{i} at offset {at} is cut off: {} bytes are left in the index, \
                 fewer than the {ENTRY_FIXED_SIZE} of offset, length and flags",
                bytes.len() - pos
            )));
        };
        let Some(name_len) = name_and_rest.iter().position(|&b| b == 0) else {
            return Err(mar(format!(
                "the name of index entry #{i} at offset {at} is not NUL-terminated before the \
                 index ends"
            )));
        };
        let name = &name_and_rest[..name_len];
        let name = std::str::from_utf8(name).map_err(|_| {
            mar(format!(
                "the name of index entry #{i} at offset {at} is not UTF-8"
            ))
        })?;
        check_name(name)
            .map_err(|reason| mar(format!("index entry #{i} at offset {at}: {reason}")))?;
        entries.push(MarEntry {
            name: name.to_owned(),
            offset: be32(&bytes, pos),
            length: be32(&bytes, pos + 4),
            flags: be32(&bytes, pos + 8),
        });
        pos += ENTRY_FIXED_SIZE + name_len + 1;
    }
    Ok(entries)
}

/// Checks that every entry lies in `data` and that no two share a byte. Zero-length entries
/// are exempt from the overlap check, as in `mar_read.c`.
fn check_entries(entries: &[MarEntry], data: &Range<u32>) -> Result<()> {
    let end = |e: &MarEntry| u64::from(e.offset) + u64::from(e.length);
    for (i, entry) in entries.iter().enumerate() {
        if entry.offset < data.start || end(entry) > u64::from(data.end) {
            return Err(mar(format!(
                "index entry #{i} '{}' covers [{}, {}), outside the member data [{}, {})",
                entry.name,
                entry.offset,
                end(entry),
                data.start,
                data.end
            )));
        }
    }
    let mut by_offset: Vec<&MarEntry> = entries.iter().filter(|e| e.length > 0).collect();
    by_offset.sort_by_key(|e| e.offset);
    // Sorted by start, any overlap shows between neighbours.
    for pair in by_offset.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        if end(a) > u64::from(b.offset) {
            return Err(mar(format!(
                "entries '{}' [{}, {}) and '{}' [{}, {}) overlap (a file content collision)",
                a.name,
                a.offset,
                end(a),
                b.name,
                b.offset,
                end(b)
            )));
        }
    }
    Ok(())
}

fn check_product_info(info: &ProductInfo) -> Result<()> {
    check_pib_field("MAR channel id", &info.channel, MAX_CHANNEL_LEN)?;
    check_pib_field("product version", &info.version, MAX_VERSION_LEN)?;
    if let Some(c) = info.channel.chars().find(|c| matches!(c, ',' | ' ' | '\t')) {
        return Err(mar(format!(
            "the MAR channel id {:?} contains {c:?}: updaters split their list of accepted \
             channels on commas, spaces and tabs",
            info.channel
        )));
    }
    Ok(())
}

fn check_pib_field(what: &str, value: &str, max: usize) -> Result<()> {
    let problem = if value.is_empty() {
        "is empty".to_owned()
    } else if value.len() > max {
        format!(
            "is {} bytes, more than the {max} the product information block holds",
            value.len()
        )
    } else if value.contains('\0') {
        "contains a NUL byte, which would end it early".to_owned()
    } else if !value.is_ascii() {
        "is not ASCII (mardor cannot read it)".to_owned()
    } else {
        return Ok(());
    };
    Err(mar(format!("the {what} {value:?} {problem}")))
}

/// Checks a member name; the error is a reason, for the caller to place.
fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        Err("a member name is empty".into())
    } else if name.len() > MAX_NAME_LEN {
        let start: String = name.chars().take(40).collect();
        Err(format!(
            "the member name '{start}…' is {} bytes, more than {MAX_NAME_LEN}",
            name.len()
        ))
    } else if name.contains('\0') {
        Err(format!(
            "the member name {name:?} contains a NUL byte, which would end it early in the index"
        ))
    } else {
        Ok(())
    }
}

fn empty_member(name: &str) -> Error {
    mar(format!(
        "member '{name}' is empty: the updater refuses zero-length members (store an empty \
         file as a non-empty compressed stream)"
    ))
}

fn mar(reason: String) -> Error {
    Error::Mar { reason }
}

fn read_array<const N: usize, R: Read + Seek>(r: &mut R, offset: u64) -> io::Result<[u8; N]> {
    let mut bytes = [0; N];
    r.seek(SeekFrom::Start(offset))?;
    r.read_exact(&mut bytes)?;
    Ok(bytes)
}

/// The big-endian u32 at `at`; callers have checked that four bytes are there.
fn be32(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

fn put32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::tool;
    use proptest::prelude::*;
    use std::fs;
    use std::io::Cursor;
    use std::path::{Path, PathBuf};
    use std::process::{Command, Output, Stdio};

    const CHANNEL: &str = "firefox-mozilla-release";
    const VERSION: &str = "153.0";

    fn info() -> ProductInfo {
        ProductInfo {
            channel: CHANNEL.into(),
            version: VERSION.into(),
        }
    }

    /// Members as a complete MAR has them: the manifest first, nested names, two modes.
    fn sample() -> Vec<(&'static str, u32, Vec<u8>)> {
        vec![
            ("updatev3.manifest", 0o644, b"type \"complete\"\n".to_vec()),
            (
                "browser/omni.ja",
                0o644,
                b"PK\x03\x04 not really a jar".repeat(7),
            ),
            ("firefox", 0o755, b"\x7fELF binary-ish bytes".to_vec()),
            (
                "defaults/pref/channel-prefs.js",
                0o644,
                b"pref(\"a\", 1);\n".to_vec(),
            ),
        ]
    }

    fn write_mar(members: &[(&str, u32, Vec<u8>)]) -> Vec<u8> {
        let mut writer = MarWriter::new(Cursor::new(Vec::new()), &info()).unwrap();
        for (name, flags, data) in members {
            writer.append(name, *flags, data).unwrap();
        }
        writer.finish().unwrap().into_inner()
    }

    /// Every member of a MAR: name, flags, bytes.
    fn read_members<R: Read + Seek>(reader: &mut MarReader<R>) -> Vec<(String, u32, Vec<u8>)> {
        reader
            .entries()
            .to_vec()
            .iter()
            .map(|e| (e.name.clone(), e.flags, reader.read(e).unwrap()))
            .collect()
    }

    fn owned(members: &[(&str, u32, Vec<u8>)]) -> Vec<(String, u32, Vec<u8>)> {
        members
            .iter()
            .map(|(n, f, d)| (n.to_string(), *f, d.clone()))
            .collect()
    }

    fn reason(err: Error) -> String {
        match err {
            Error::Mar { reason } => reason,
            other => panic!("expected Error::Mar, got {other:?}"),
        }
    }

    #[test]
    fn round_trip_through_our_reader() {
        let members = sample();
        let bytes = write_mar(&members);
        let mut reader = MarReader::new(Cursor::new(&bytes)).unwrap();
        assert_eq!(reader.product_info(), Some(&info()));
        assert!(reader.signatures().is_empty());
        assert_eq!(reader.total_size(), bytes.len() as u64);
        assert_eq!(reader.entries()[0].offset, 128);
        assert_eq!(read_members(&mut reader), owned(&members));
    }

    #[test]
    fn append_with_measures_what_the_closure_wrote() {
        let mut writer = MarWriter::new(Cursor::new(Vec::new()), &info()).unwrap();
        writer
            .append_with("a", 0o644, |w| w.write_all(b"first"))
            .unwrap();
        writer.append("b", 0o600, b"second").unwrap();
        writer
            .append_with("c/d", 0o755, |w| {
                w.write_all(b"th")?;
                w.write_all(b"ird")
            })
            .unwrap();
        let bytes = writer.finish().unwrap().into_inner();
        let mut reader = MarReader::new(Cursor::new(bytes)).unwrap();
        let expected = [
            ("a", 0o644, b"first".to_vec()),
            ("b", 0o600, b"second".to_vec()),
            ("c/d", 0o755, b"third".to_vec()),
        ];
        assert_eq!(read_members(&mut reader), owned(&expected));
        let offsets: Vec<u32> = reader.entries().iter().map(|e| e.offset).collect();
        assert_eq!(offsets, [128, 133, 139]);
    }

    #[test]
    fn offsets_count_from_where_the_writer_started() {
        let mut out = Cursor::new(b"junk".to_vec());
        out.seek(SeekFrom::End(0)).unwrap();
        let mut writer = MarWriter::new(out, &info()).unwrap();
        writer.append("a", 0o644, b"data").unwrap();
        let out = writer.finish().unwrap();
        assert_eq!(out.position(), out.get_ref().len() as u64);
        let bytes = out.into_inner();
        assert_eq!(&bytes[..4], b"junk");
        let mut reader = MarReader::new(Cursor::new(&bytes[4..])).unwrap();
        assert_eq!(
            read_members(&mut reader),
            owned(&[("a", 0o644, b"data".to_vec())])
        );
    }

    #[test]
    fn a_tiny_mar_is_laid_out_byte_for_byte() {
        let bytes = write_mar(&[("a", 0o644, b"xyz".to_vec())]);
        let mut expected = Vec::new();
        expected.extend_from_slice(b"MAR1");
        expected.extend_from_slice(&131u32.to_be_bytes()); // offset_to_index: 128 + 3
        expected.extend_from_slice(&149u64.to_be_bytes()); // + 4 + (12 + "a\0")
        expected.extend_from_slice(&0u32.to_be_bytes()); // num_signatures
        expected.extend_from_slice(&1u32.to_be_bytes()); // num_additional_sections
        expected.extend_from_slice(&104u32.to_be_bytes()); // PIB block_size, padded
        expected.extend_from_slice(&1u32.to_be_bytes()); // PIB block_id
        expected.extend_from_slice(b"firefox-mozilla-release\x00153.0\x00");
        expected.resize(128, 0);
        expected.extend_from_slice(b"xyz");
        expected.extend_from_slice(&14u32.to_be_bytes()); // index_size
        expected.extend_from_slice(&128u32.to_be_bytes()); // entry offset
        expected.extend_from_slice(&3u32.to_be_bytes()); // entry length
        expected.extend_from_slice(&0o644u32.to_be_bytes()); // entry flags
        expected.extend_from_slice(b"a\x00");
        assert_eq!(bytes, expected);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        #[test]
        fn random_members_round_trip(
            members in proptest::collection::vec(
                (
                    "[a-zA-Z0-9_.-]{1,12}(/[a-zA-Z0-9_.-]{1,12}){0,3}",
                    0u32..=0o777,
                    proptest::collection::vec(any::<u8>(), 1..300),
                ),
                1..8,
            )
        ) {
            let mut writer = MarWriter::new(Cursor::new(Vec::new()), &info()).unwrap();
            for (name, flags, data) in &members {
                writer.append(name, *flags, data).unwrap();
            }
            let bytes = writer.finish().unwrap().into_inner();
            let mut reader = MarReader::new(Cursor::new(bytes)).unwrap();
            prop_assert_eq!(reader.product_info(), Some(&info()));
            prop_assert_eq!(read_members(&mut reader), members);
        }
    }

    // ---- Hand-built files, for layouts our writer never produces ----

    /// A MAR from raw parts: `head` is everything between the 20-byte header and the data
    /// (signature entries, additional sections), `index` the raw index entries.
    fn hand_built(num_signatures: u32, head: &[u8], data: &[u8], index: &[u8]) -> Vec<u8> {
        let index_offset = 20 + head.len() + data.len();
        let total = index_offset + 4 + index.len();
        let mut out = Vec::new();
        out.extend_from_slice(MAGIC);
        put32(&mut out, index_offset as u32);
        out.extend_from_slice(&(total as u64).to_be_bytes());
        put32(&mut out, num_signatures);
        out.extend_from_slice(head);
        out.extend_from_slice(data);
        put32(&mut out, index.len() as u32);
        out.extend_from_slice(index);
        out
    }

    /// One raw index entry; `name` carries its NUL (or not).
    fn index_entry(offset: u32, length: u32, name: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        put32(&mut out, offset);
        put32(&mut out, length);
        put32(&mut out, 0o644);
        out.extend_from_slice(name);
        out
    }

    /// The additional sections: a count, then (block_size, block_id, payload) each.
    fn sections(blocks: &[(u32, u32, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        put32(&mut out, blocks.len() as u32);
        for (size, id, payload) in blocks {
            put32(&mut out, *size);
            put32(&mut out, *id);
            out.extend_from_slice(payload);
        }
        out
    }

    /// mardor's unpadded product information block.
    fn unpadded_pib() -> Vec<u8> {
        let payload = format!("{CHANNEL}\0{VERSION}\0");
        sections(&[(8 + payload.len() as u32, 1, payload.as_bytes())])
    }

    #[test]
    fn reads_mardor_style_unpadded_and_signed_layouts() {
        // Unpadded PIB: data right after it.
        let head = unpadded_pib();
        let start = 20 + head.len() as u32;
        let file = hand_built(0, &head, b"hello", &index_entry(start, 5, b"a\0"));
        let mut reader = MarReader::new(Cursor::new(file)).unwrap();
        assert_eq!(reader.product_info(), Some(&info()));
        assert_eq!(
            read_members(&mut reader),
            owned(&[("a", 0o644, b"hello".to_vec())])
        );

        // One RSA-4096 signature and the padded PIB: the first member lands at 648.
        let mut head = Vec::new();
        put32(&mut head, 2);
        put32(&mut head, 512);
        head.resize(head.len() + 512, 0x5a);
        let mut pib = format!("{CHANNEL}\0{VERSION}\0").into_bytes();
        pib.resize(96, 0);
        head.extend(sections(&[(104, 1, &pib)]));
        let file = hand_built(1, &head, b"hello", &index_entry(648, 5, b"a\0"));
        let mut reader = MarReader::new(Cursor::new(file)).unwrap();
        assert_eq!(
            reader.signatures(),
            [Signature {
                algorithm: 2,
                length: 512
            }]
        );
        assert_eq!(reader.product_info(), Some(&info()));
        assert_eq!(
            read_members(&mut reader),
            owned(&[("a", 0o644, b"hello".to_vec())])
        );

        // Unknown sections are skipped; a signed MAR without additional sections has none.
        let mut head = sections(&[(12, 7, b"????")]);
        head.extend_from_slice(&unpadded_pib()[4..]);
        head[3] = 2; // two sections
        let start = 20 + head.len() as u32;
        let file = hand_built(0, &head, b"x", &index_entry(start, 1, b"a\0"));
        let reader = MarReader::new(Cursor::new(file)).unwrap();
        assert_eq!(reader.product_info(), Some(&info()));
        let mut head = Vec::new();
        put32(&mut head, 2);
        put32(&mut head, 4);
        head.extend_from_slice(b"sig!");
        let file = hand_built(1, &head, b"x", &index_entry(32, 1, b"a\0"));
        let reader = MarReader::new(Cursor::new(file)).unwrap();
        assert_eq!(reader.product_info(), None);
        assert_eq!(reader.signatures().len(), 1);
    }

    /// Overwrites the big-endian u32 at `at`.
    fn patched(mut bytes: Vec<u8>, at: usize, value: u32) -> Vec<u8> {
        bytes[at..at + 4].copy_from_slice(&value.to_be_bytes());
        bytes
    }

    #[test]
    fn corrupt_files_are_rejected_with_a_reason() {
        // Members "a" = AAAA at 128 and "b" = BBBB at 132; the index at 136 holds entry a
        // at 140 and entry b at 154; the file is 168 bytes.
        let good = write_mar(&[
            ("a", 0o644, b"AAAA".to_vec()),
            ("b", 0o644, b"BBBB".to_vec()),
        ]);
        assert_eq!(good.len(), 168);
        let truncated = |at: usize| good[..at].to_vec();
        let long_name = [b"n".repeat(MAX_NAME_LEN + 1), vec![0]].concat();
        let mut sig_head = Vec::new();
        put32(&mut sig_head, 2);
        put32(&mut sig_head, 4096);
        let mut with_trailing = good.clone();
        with_trailing[8..16].copy_from_slice(&169u64.to_be_bytes());
        with_trailing.push(0);
        let mut total_mismatch = good.clone();
        total_mismatch[8..16].copy_from_slice(&169u64.to_be_bytes());
        let mut unterminated = good.clone();
        unterminated[167] = b'x';
        let mut bad_magic = good.clone();
        bad_magic[0] = b'm';
        let mut non_utf8 = good.clone();
        non_utf8[166] = 0xff;
        let big_pib = {
            let payload = [b"c\0v\0".as_slice(), &[0; 93]].concat();
            sections(&[(8 + 97, 1, &payload)])
        };
        let head = unpadded_pib();
        let start = 20 + head.len() as u32;

        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            ("empty file", truncated(0), "shorter than the 20-byte"),
            (
                "truncated in the magic",
                truncated(3),
                "shorter than the 20-byte",
            ),
            (
                "truncated in the header",
                truncated(19),
                "shorter than the 20-byte",
            ),
            (
                "truncated after the header",
                truncated(20),
                "total_file_size",
            ),
            ("truncated in the PIB", truncated(100), "total_file_size"),
            ("truncated at the data", truncated(128), "total_file_size"),
            ("truncated in the index", truncated(150), "total_file_size"),
            ("truncated by one byte", truncated(167), "total_file_size"),
            ("flipped magic", bad_magic, "bad magic"),
            (
                "total size mismatch",
                total_mismatch,
                "says 169 bytes but the file has 168",
            ),
            (
                "index offset past the end",
                patched(good.clone(), 4, 168),
                "offset_to_index",
            ),
            (
                "index offset far past the end",
                patched(good.clone(), 4, u32::MAX),
                "offset_to_index",
            ),
            (
                "index size past the end",
                patched(good.clone(), 136, 100),
                "running past the end",
            ),
            ("bytes after the index", with_trailing, "1 trailing bytes"),
            (
                "too many signatures",
                patched(good.clone(), 16, 9),
                "more than the 8",
            ),
            (
                "signature too long",
                hand_built(1, &sig_head, b"", b""),
                "more than 2048",
            ),
            (
                "signature past the data",
                patched(good.clone(), 16, 1),
                "signature #0",
            ),
            (
                "PIB payload over 96 bytes",
                hand_built(0, &big_pib, b"", b""),
                "97-byte payload",
            ),
            (
                "section smaller than its header",
                patched(good.clone(), 24, 4),
                "less than its own 8-byte",
            ),
            (
                "section past the index",
                patched(patched(good.clone(), 28, 2), 24, 1000),
                "runs past offset 128",
            ),
            (
                "section count past the data",
                patched(good.clone(), 20, 2),
                "additional section #1",
            ),
            (
                "overlapping entries",
                patched(good.clone(), 154, 130),
                "overlap",
            ),
            (
                "entry past the index",
                patched(good.clone(), 158, 100),
                "outside the member data",
            ),
            (
                "first entry after the data start",
                patched(patched(good.clone(), 140, 129), 144, 3),
                "starts at offset 129, but the data starts at 128",
            ),
            ("old format", patched(good.clone(), 140, 8), "old-format"),
            ("unterminated name", unterminated, "not NUL-terminated"),
            ("name not UTF-8", non_utf8, "not UTF-8"),
            (
                "empty name",
                hand_built(0, &head, b"x", &index_entry(start, 1, b"\0")),
                "a member name is empty",
            ),
            (
                "name too long",
                hand_built(0, &head, b"x", &index_entry(start, 1, &long_name)),
                "more than 4096",
            ),
            (
                "index entry cut off",
                hand_built(0, &head, b"x", &index_entry(start, 1, b"a\0")[..10]),
                "cut off",
            ),
            (
                "data but no entries",
                hand_built(0, &head, b"x", b""),
                "the index is empty, but 1 bytes lie",
            ),
        ];
        for (what, bytes, expected) in cases {
            let err = MarReader::new(Cursor::new(bytes)).err();
            let err = reason(err.unwrap_or_else(|| panic!("{what}: accepted")));
            assert!(err.contains(expected), "{what}: {err}");
        }
    }

    /// A stream that claims to be one byte over the size cap, of zeros.
    struct OverCap(u64);

    impl Read for OverCap {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            buf.fill(0);
            Ok(buf.len())
        }
    }

    impl Seek for OverCap {
        fn seek(&mut self, from: SeekFrom) -> io::Result<u64> {
            let len = MAX_SIZE + 1;
            self.0 = match from {
                SeekFrom::Start(p) => p,
                SeekFrom::End(d) => len.saturating_add_signed(d),
                SeekFrom::Current(d) => self.0.saturating_add_signed(d),
            };
            Ok(self.0)
        }
    }

    #[test]
    fn files_over_500_mib_are_rejected() {
        let err = reason(MarReader::new(OverCap(0)).err().unwrap());
        assert!(err.contains("MAX_SIZE_OF_MAR_FILE"), "{err}");
    }

    #[test]
    fn read_refuses_entries_outside_the_data() {
        let bytes = write_mar(&[("a", 0o644, b"AAAA".to_vec())]);
        let mut reader = MarReader::new(Cursor::new(bytes)).unwrap();
        let mut entry = reader.entries()[0].clone();
        entry.offset = 0;
        assert!(reason(reader.read(&entry).unwrap_err()).contains("outside the member data"));
    }

    #[test]
    fn the_writer_refuses_what_the_updater_would() {
        type Attempt = Box<dyn Fn() -> Result<()>>;
        let with_info = |channel: &str, version: &str| -> Attempt {
            let info = ProductInfo {
                channel: channel.into(),
                version: version.into(),
            };
            Box::new(move || MarWriter::new(Cursor::new(Vec::new()), &info).map(drop))
        };
        let appending = |name: &str, flags: u32, data: &'static [u8]| -> Attempt {
            let name = name.to_owned();
            Box::new(move || {
                let mut writer = MarWriter::new(Cursor::new(Vec::new()), &info())?;
                writer.append(&name, flags, data)
            })
        };
        let long_name = "n".repeat(MAX_NAME_LEN + 1);
        let cases: Vec<(&str, Attempt, &str)> = vec![
            (
                "zero-length member",
                appending("a", 0o644, b""),
                "zero-length",
            ),
            (
                "zero-length member from a closure",
                Box::new(|| {
                    let mut writer = MarWriter::new(Cursor::new(Vec::new()), &info())?;
                    writer.append_with("a", 0o644, |_| Ok(()))
                }),
                "zero-length",
            ),
            (
                "channel too long",
                with_info(&"c".repeat(64), "1.0"),
                "64 bytes, more than the 63",
            ),
            (
                "version too long",
                with_info("release", &"1".repeat(32)),
                "32 bytes, more than the 31",
            ),
            ("empty channel", with_info("", "1.0"), "is empty"),
            ("empty version", with_info("release", ""), "is empty"),
            ("NUL in the channel", with_info("re\0lease", "1.0"), "NUL"),
            ("NUL in the version", with_info("release", "1\0"), "NUL"),
            (
                "comma in the channel",
                with_info("a,b", "1.0"),
                "contains ','",
            ),
            (
                "space in the channel",
                with_info("a b", "1.0"),
                "contains ' '",
            ),
            (
                "tab in the channel",
                with_info("a\tb", "1.0"),
                "contains '\\t'",
            ),
            (
                "non-ASCII version",
                with_info("release", "1.0é"),
                "not ASCII",
            ),
            ("empty name", appending("", 0o644, b"x"), "name is empty"),
            ("NUL in a name", appending("a\0b", 0o644, b"x"), "NUL"),
            (
                "name too long",
                appending(&long_name, 0o644, b"x"),
                "more than 4096",
            ),
            (
                "file type bits in flags",
                appending("a", 0o100644, b"x"),
                "0o100644",
            ),
            (
                "no members",
                Box::new(|| {
                    MarWriter::new(Cursor::new(Vec::new()), &info())?
                        .finish()
                        .map(drop)
                }),
                "at least one member",
            ),
        ];
        for (what, attempt, expected) in cases {
            let err = reason(
                attempt()
                    .err()
                    .unwrap_or_else(|| panic!("{what}: accepted")),
            );
            assert!(err.contains(expected), "{what}: {err}");
        }
    }

    #[test]
    fn a_member_over_the_cap_is_refused_and_ends_the_mar() {
        let mut writer = MarWriter::new(Cursor::new(Vec::new()), &info()).unwrap();
        // Seeking past the cap makes the member that big without allocating it.
        let err = writer
            .append_with("huge", 0o644, |w| {
                w.seek(SeekFrom::Current(MAX_SIZE as i64)).map(drop)
            })
            .unwrap_err();
        assert!(reason(err).contains("MAX_SIZE_OF_MAR_FILE"));
        let err = writer.append("next", 0o644, b"x").unwrap_err();
        assert!(reason(err).contains("cannot be completed"));
        assert!(reason(writer.finish().unwrap_err()).contains("cannot be completed"));

        // A zero-length refusal wrote nothing: the writer stays usable.
        let mut writer = MarWriter::new(Cursor::new(Vec::new()), &info()).unwrap();
        writer.append("empty", 0o644, b"").unwrap_err();
        writer.append("a", 0o644, b"x").unwrap();
        let bytes = writer.finish().unwrap().into_inner();
        assert_eq!(
            MarReader::new(Cursor::new(bytes)).unwrap().entries().len(),
            1
        );
    }

    // ---- mardor (PyPI `mar`), an independent reader and writer ----

    /// Whether a command-line tool is installed; in CI a missing tool is a failure.
    /// A scratch directory, removed when dropped.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(tag: &str) -> Self {
            let dir =
                std::env::temp_dir().join(format!("l10n-repack-mar-{tag}-{}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).unwrap();
            Scratch(dir)
        }

        fn path(&self, name: &str) -> PathBuf {
            self.0.join(name)
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn run(command: &mut Command) -> Output {
        command
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"))
    }

    /// Runs a command that must succeed and returns its stdout.
    fn run_ok(command: &mut Command) -> String {
        let out = run(command);
        assert!(
            out.status.success(),
            "{command:?} failed: {}\nstdout: {}\nstderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn write_sample_file(path: &Path) -> Vec<(&'static str, u32, Vec<u8>)> {
        let members = sample();
        fs::write(path, write_mar(&members)).unwrap();
        members
    }

    #[test]
    fn mardor_lists_our_mar_with_its_product_information() {
        if !tool("mar") {
            return;
        }
        let dir = Scratch::new("list");
        let file = dir.path("ours.mar");
        let members = write_sample_file(&file);
        let listing = run_ok(Command::new("mar").arg("-T").arg(&file));
        assert!(listing.contains("Product Information Block"), "{listing}");
        assert!(
            listing.contains(&format!("MAR channel name: {CHANNEL}")),
            "{listing}"
        );
        assert!(
            listing.contains(&format!("Product version: {VERSION}")),
            "{listing}"
        );
        // The table after the SIZE/MODE/NAME header: one row per member, in our order.
        let rows: Vec<(u32, u32, String)> = listing
            .lines()
            .skip_while(|line| !line.starts_with("SIZE"))
            .skip(1)
            .map(|line| {
                let fields: Vec<&str> = line.split_whitespace().collect();
                let [size, mode, name] = fields[..] else {
                    panic!("unexpected row {line:?} in {listing}")
                };
                (
                    size.parse().unwrap(),
                    u32::from_str_radix(mode, 8).unwrap(),
                    name.to_owned(),
                )
            })
            .collect();
        let expected: Vec<(u32, u32, String)> = members
            .iter()
            .map(|(name, flags, data)| (data.len() as u32, *flags, name.to_string()))
            .collect();
        assert_eq!(rows, expected);
        // Without keys, -v checks the structure only.
        let verdict = run_ok(Command::new("mar").arg("-v").arg(&file));
        assert!(verdict.contains("Verification OK"), "{verdict}");
    }

    #[cfg(unix)]
    #[test]
    fn mardor_extracts_our_bytes() {
        use std::os::unix::fs::PermissionsExt;
        if !tool("mar") {
            return;
        }
        let dir = Scratch::new("extract");
        let file = dir.path("ours.mar");
        let members = write_sample_file(&file);
        let out = dir.path("out");
        fs::create_dir(&out).unwrap();
        run_ok(Command::new("mar").arg("-C").arg(&out).arg("-x").arg(&file));
        for (name, flags, data) in &members {
            let path = out.join(name);
            assert_eq!(&fs::read(&path).unwrap(), data, "{name}");
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, *flags, "{name}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn we_read_a_mar_mardor_created() {
        use std::os::unix::fs::PermissionsExt;
        if !tool("mar") {
            return;
        }
        let dir = Scratch::new("create");
        let src = dir.path("src");
        fs::create_dir_all(src.join("sub")).unwrap();
        fs::write(src.join("a"), b"hello").unwrap();
        fs::write(src.join("sub/b"), b"world!").unwrap();
        fs::set_permissions(src.join("sub/b"), fs::Permissions::from_mode(0o755)).unwrap();
        let file = dir.path("theirs.mar");
        run_ok(
            Command::new("mar")
                .args(["-V", VERSION, "-H", CHANNEL, "-C"])
                .arg(&src)
                .arg("-c")
                .arg(&file)
                .args(["a", "sub/b"]),
        );
        let mut reader = MarReader::new(fs::File::open(&file).unwrap()).unwrap();
        assert_eq!(reader.product_info(), Some(&info()));
        assert!(reader.signatures().is_empty());
        // mardor writes the product information block unpadded.
        let pib = 8 + CHANNEL.len() + 1 + VERSION.len() + 1;
        assert_eq!(reader.entries()[0].offset as usize, 20 + 4 + pib);
        let expected = [
            ("a", 0o644, b"hello".to_vec()),
            ("sub/b", 0o755, b"world!".to_vec()),
        ];
        // The umask decides a's mode; take what the file system says.
        let a_mode = fs::metadata(src.join("a")).unwrap().permissions().mode() & 0o777;
        let mut expected = owned(&expected);
        expected[0].1 = a_mode;
        assert_eq!(read_members(&mut reader), expected);
    }

    #[test]
    fn mardor_signs_and_verifies_our_mar() {
        if !tool("mar") || !tool("openssl") {
            return;
        }
        let dir = Scratch::new("sign");
        let key = dir.path("k.pem");
        let public = dir.path("pub.pem");
        let file = dir.path("ours.mar");
        let members = write_sample_file(&file);
        run_ok(
            Command::new("openssl")
                .args(["genrsa", "-out"])
                .arg(&key)
                .arg("4096"),
        );
        run_ok(
            Command::new("openssl")
                .args(["rsa", "-pubout", "-in"])
                .arg(&key)
                .arg("-out")
                .arg(&public),
        );
        // What signing services do: mardor inserts a dummy signature block and hashes the
        // result (base64 SHA-384), the key signs the hash, mardor inserts the signature.
        let hash_b64 = dir.path("hash.b64");
        fs::write(
            &hash_b64,
            run_ok(Command::new("mar").args(["--hash", "sha384"]).arg(&file)),
        )
        .unwrap();
        let hash = dir.path("hash.bin");
        run_ok(
            Command::new("openssl")
                .args(["base64", "-d", "-A", "-in"])
                .arg(&hash_b64)
                .arg("-out")
                .arg(&hash),
        );
        assert_eq!(fs::metadata(&hash).unwrap().len(), 48);
        let signature = dir.path("sig.bin");
        run_ok(
            Command::new("openssl")
                .args(["pkeyutl", "-sign", "-pkeyopt", "digest:sha384", "-inkey"])
                .arg(&key)
                .arg("-in")
                .arg(&hash)
                .arg("-out")
                .arg(&signature),
        );
        let signed = dir.path("signed.mar");
        run_ok(
            Command::new("mar")
                .arg("--add-signature")
                .args([&file, &signed, &signature]),
        );
        let verify = |path: &Path| {
            run(Command::new("mar")
                .arg("-k")
                .arg(&public)
                .arg("-v")
                .arg(path))
        };
        let verdict = verify(&signed);
        let stdout = String::from_utf8_lossy(&verdict.stdout);
        assert!(
            verdict.status.success() && stdout.contains("Verification OK"),
            "{stdout}"
        );

        // Our reader sees the signature, and the data moved past it.
        let mut reader = MarReader::new(fs::File::open(&signed).unwrap()).unwrap();
        assert_eq!(
            reader.signatures(),
            [Signature {
                algorithm: 2,
                length: 512
            }]
        );
        assert_eq!(reader.product_info(), Some(&info()));
        assert_eq!(reader.entries()[0].offset, 648);
        assert_eq!(read_members(&mut reader), owned(&members));

        // One flipped byte in a member breaks the signature.
        let mut bytes = fs::read(&signed).unwrap();
        bytes[reader.entries()[1].offset as usize + 3] ^= 1;
        let tampered = dir.path("tampered.mar");
        fs::write(&tampered, bytes).unwrap();
        let verdict = verify(&tampered);
        let stdout = String::from_utf8_lossy(&verdict.stdout);
        assert!(
            !verdict.status.success() && stdout.contains("Verification failed"),
            "{stdout}"
        );
    }
}
