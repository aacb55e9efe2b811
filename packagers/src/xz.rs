//! xz *pieces*: data compressed once into xz blocks, then assembled into one xz stream.
//!
//! An xz stream (["The .xz File Format"], version 1.x, by the Tukaani project) is bytes,
//! with every part a multiple of 4 bytes long:
//!
//! ```text
//! stream header  12 bytes: magic FD 37 7A 58 5A 00, flags 00 04 (CRC64 checks),
//!                CRC32 of the flags (LE) = E6 D6 B4 46
//! block*         each: block header (its size, flags, filter chain), compressed data,
//!                zero padding to a multiple of 4, CRC64 of the uncompressed data
//! index          00, varint(N), N × (varint(unpadded size), varint(uncompressed size)),
//!                zero padding to a multiple of 4, CRC32 (LE) of the index bytes before it
//! stream footer  12 bytes: CRC32 (LE) of the next 6 bytes, backward size (u32 LE,
//!                index length / 4 − 1), flags 00 04, magic 59 5A ("YZ")
//! ```
//!
//! Varints hold 7 bits a byte, least significant first, with 0x80 meaning "more follows". A
//! block's *unpadded size* is its header, compressed data and check without the padding.
//!
//! Blocks are independent: each starts its filters afresh (the x86 BCJ filter counts positions
//! from the block start), so a block decodes the same wherever it lands. Hence *recipe X*:
//!
//! 1. Compress each piece alone as a complete stream with liblzma's single-threaded stream
//!    encoder (one block for non-empty input, none for empty input), CRC64 check, with the
//!    piece's filter chain ([`XzBlocks::encode`]). Keep the bytes between the stream header
//!    and the index (the block) and the index records, found by parsing the footer and index
//!    and checking their CRC32s.
//! 2. To join pieces, write the stream header, every piece's blocks as they are, then an index
//!    holding every piece's records in order, then the footer ([`XzStreamWriter`]; its exact
//!    size is [`stream_len`]).
//!
//! The result is ONE stream with many blocks, never concatenated streams. The format allows
//! concatenation and the `xz` tool reads it, but Firefox's updater (XZ Embedded's
//! `xz_dec_run`), a single Python `lzma.LZMADecompressor` and [`liblzma::read::XzDecoder::new`]
//! stop silently at the first stream footer and would drop everything after it.
//!
//! ["The .xz File Format"]: https://tukaani.org/xz/xz-file-format.txt

use std::io::Write;
use std::ops::Range;

use liblzma::stream::{Action, Check, Filters, LzmaOptions, PRESET_EXTREME, Status, Stream};

use crate::piece::{Piece, PieceReader, PieceWriter};
use crate::{Error, Result};

/// Stream flags: no reserved bits, check type 0x04 (CRC64), which every piece uses.
const STREAM_FLAGS: [u8; 2] = [0x00, 0x04];
/// The stream header: magic, [`STREAM_FLAGS`] and their CRC32 (little-endian).
const STREAM_HEADER: [u8; 12] = [
    0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00, 0x00, 0x04, 0xE6, 0xD6, 0xB4, 0x46,
];
/// Length of the stream header, as stream lengths are counted.
const HEADER_LEN: u64 = STREAM_HEADER.len() as u64;
/// Magic bytes that end the stream footer.
const FOOTER_MAGIC: [u8; 2] = *b"YZ";
/// Length of the stream footer: CRC32, backward size, flags, magic.
const FOOTER_LEN: usize = 12;
/// First byte of the index; a block header starts with its (non-zero) size byte instead.
const INDEX_INDICATOR: u8 = 0x00;
/// Length of a block's CRC64 check.
const CHECK_LEN: u64 = 8;
/// A varint holds at most 63 bits, so at most 9 bytes.
const VARINT_MAX_BYTES: usize = 9;
/// How much the encoder's output grows when it runs out of room (which [`encoded_bound`]
/// should prevent).
const OUTPUT_GROWTH: usize = 1 << 16;

/// How a piece is compressed.
///
/// Every piece gets a CRC64 check, since all blocks of a stream share the stream's check type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct XzOptions {
    /// LZMA2 preset level, 0–9.
    pub preset: u32,
    /// Whether to use the slower "extreme" variant of the preset (`xz -e`).
    pub extreme: bool,
    /// Whether to put the x86 BCJ filter before LZMA2 (`xz --x86`), for x86 executables.
    pub x86_bcj: bool,
}

impl XzOptions {
    /// The settings Mozilla's MAR members really get. `make_full_update.sh` runs
    /// `xz -T1 -7e --compress [--x86] --lzma2 --check=crc64`, but a bare `--lzma2` resets the
    /// filter to the default preset, so the members are LZMA2 preset 6 (8 MiB dictionary),
    /// not 7e: matching that gives byte-identical single-block members, and is faster.
    pub const fn mar(x86_bcj: bool) -> XzOptions {
        XzOptions {
            preset: 6,
            extreme: false,
            x86_bcj,
        }
    }

    /// Mozilla's tar.xz package settings: `xz -9e`.
    pub const fn package() -> XzOptions {
        XzOptions {
            preset: 9,
            extreme: true,
            x86_bcj: false,
        }
    }

    /// A single-threaded .xz stream encoder with these options.
    fn encoder(self) -> Result<Stream> {
        let preset = self.preset | if self.extreme { PRESET_EXTREME } else { 0 };
        let lzma2 = LzmaOptions::new_preset(preset)
            .map_err(|e| xz_error(format!("preset {} is not valid: {e}", self.preset)))?;
        let mut filters = Filters::new();
        if self.x86_bcj {
            filters.x86();
        }
        filters.lzma2(&lzma2);
        Stream::new_stream_encoder(&filters, Check::Crc64)
            .map_err(|e| xz_error(format!("cannot start the encoder for {self:?}: {e}")))
    }
}

/// One entry of the index: the sizes of one block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Record {
    /// Block header, compressed data and check, without the padding.
    unpadded: u64,
    /// Length of the data the block decodes to.
    uncompressed: u64,
}

impl Record {
    /// Length of the block in the stream, padding included.
    fn padded(self) -> u64 {
        self.unpadded.next_multiple_of(4)
    }
}

/// Compressed xz blocks of one or more pieces, ready to be placed in a stream.
///
/// Holds the blocks exactly as they appear in a stream (without stream header, index and
/// footer) in one buffer, plus their index records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XzBlocks {
    /// The blocks, back to back; each is a multiple of 4 bytes long.
    bytes: Vec<u8>,
    /// One index record per block, in order.
    records: Vec<Record>,
    /// Length of the uncompressed data: the sum of the records' uncompressed sizes.
    raw_len: u64,
}

/// Stored through [`crate::piece`]: unpadded then uncompressed size (`u64` each).
impl Piece for Record {
    fn save(&self, out: &mut PieceWriter) {
        out.u64(self.unpadded);
        out.u64(self.uncompressed);
    }

    fn load(input: &mut PieceReader<'_>) -> Result<Self> {
        Ok(Record {
            unpadded: input.u64()?,
            uncompressed: input.u64()?,
        })
    }
}

/// Stored through [`crate::piece`]: raw length (`u64`), the list of index records, then
/// the blocks as a byte string. The cache's digest guards the bytes; loading checks that
/// the records' padded sizes add up to the blocks' length and their uncompressed sizes to
/// the raw length.
impl Piece for XzBlocks {
    fn save(&self, out: &mut PieceWriter) {
        out.u64(self.raw_len);
        out.list(self.records.iter());
        out.bytes(&self.bytes);
    }

    fn load(input: &mut PieceReader<'_>) -> Result<Self> {
        let raw_len = input.u64()?;
        // The reader bounds the count by the bytes left, so it allocates no more than that.
        let records: Vec<Record> = input.list()?;
        let bytes = input.bytes()?;
        // Checked: corrupt sizes near `u64::MAX` must not wrap around to a matching total.
        let padded = records.iter().try_fold(0u64, |sum, r| {
            sum.checked_add(r.unpadded.checked_next_multiple_of(4)?)
        });
        let decoded = records
            .iter()
            .try_fold(0u64, |sum, r| sum.checked_add(r.uncompressed));
        if padded != Some(bytes.len() as u64) || decoded != Some(raw_len) {
            return Err(xz_error(format!(
                "cached blocks of {} bytes ({raw_len} raw) disagree with their {} records",
                bytes.len(),
                records.len()
            )));
        }
        Ok(XzBlocks {
            bytes: bytes.to_vec(),
            records,
            raw_len,
        })
    }
}

impl XzBlocks {
    /// Compresses `data` as ONE block (zero blocks if empty).
    ///
    /// Cut large data with [`block_ranges`] first if it should land in several blocks. The
    /// output buffer is allocated once at liblzma's worst-case size, so the compressed bytes
    /// are written once and never moved, then the unused room is given back. An encoder
    /// failure or an encoder output that is not one stream of the expected blocks is an
    /// [`Error::Xz`].
    pub fn encode(data: &[u8], options: XzOptions) -> Result<XzBlocks> {
        let mut stream = options.encoder()?;
        // The header goes to its own buffer, so that the blocks start at byte 0 of `body`.
        let mut header = [0; STREAM_HEADER.len()];
        let mut body = Vec::with_capacity(encoded_bound(data.len()));
        loop {
            // The encoder never consumes more than the input it was given.
            let consumed = usize::try_from(stream.total_in()).expect("consumed ≤ data.len()");
            // Nor writes more than the buffers it was given.
            let produced = usize::try_from(stream.total_out()).expect("output is in memory");
            let input = &data[consumed..];
            // `Finish` from the start: all the input is here, and liblzma only requires that
            // the remaining input be passed again unchanged until the stream ends.
            let status = if let Some(rest) = header.get_mut(produced..).filter(|r| !r.is_empty()) {
                stream.process(input, rest, Action::Finish)
            } else {
                if body.len() == body.capacity() {
                    body.reserve(OUTPUT_GROWTH);
                }
                stream.process_vec(input, &mut body, Action::Finish)
            }
            .map_err(|e| xz_error(format!("the encoder failed: {e}")))?;
            match status {
                Status::Ok => {}
                Status::StreamEnd => break,
                other => {
                    return Err(xz_error(format!(
                        "the encoder stopped with {other:?} before the end of the stream"
                    )));
                }
            }
        }
        piece_from_stream(&header, body, u64_len(data))
    }

    /// The same blocks with their compressed and uncompressed sizes in each block header,
    /// as liblzma's multi-threaded encoder writes them (`xz -T0`, and `dpkg-deb` whatever
    /// its thread count); the compressed data is untouched. A block header is (xz file
    /// format 1.2.0, §3.1): its size / 4 − 1, the flags (filter count − 1; 0x40 and 0x80
    /// when the compressed and uncompressed sizes follow as varints), the filter flags,
    /// zero padding to a multiple of four, and a CRC32 of all of that.
    ///
    /// The multi-threaded encoder sizes the header before the block is compressed, with
    /// room for the largest sizes a block of `max_block` bytes can have
    /// (`stream_encoder_mt.c`: `lzma_block_header_size` of the output bound and the block
    /// size), and pads what the real sizes leave. `max_block` is its block size: three
    /// times the dictionary, 24 MiB for preset 6.
    pub fn with_sizes_in_headers(&self, max_block: u64) -> Result<XzBlocks> {
        // liblzma's lzma_block_buffer_bound64: LZMA2 chunks of at most 64 KiB, 3 bytes of
        // chunk header each, an end byte; plus the largest header and a 64-byte check.
        let bound = max_block + max_block.div_ceil(1 << 16) * 3 + 1 + 1024 + 64;
        let reserved_sizes = varint_len(bound) + varint_len(max_block);
        let mut bytes = Vec::with_capacity(self.bytes.len() + 16 * self.records.len());
        let mut records = Vec::with_capacity(self.records.len());
        let mut at = 0usize;
        for record in &self.records {
            let end = usize::try_from(record.padded())
                .ok()
                .and_then(|len| at.checked_add(len));
            let block = end
                .and_then(|end| self.bytes.get(at..end))
                .filter(|block| block.len() >= 2)
                .ok_or_else(|| xz_error("a block runs past the piece".into()))?;
            at += block.len();
            let header_len = (usize::from(block[0]) + 1) * 4;
            let flags = block[1];
            let compressed = record
                .unpadded
                .checked_sub(header_len as u64 + CHECK_LEN)
                .filter(|_| header_len <= block.len());
            let Some(compressed) = compressed.filter(|_| flags & 0x3C == 0) else {
                return Err(xz_error(format!(
                    "a block header (flags {flags:02X}, {header_len} bytes) does not fit its \
                     block"
                )));
            };
            // The filter flags: each an id, a properties size and the properties.
            let mut reader = Cursor {
                bytes: &block[..header_len - 4],
                pos: 2,
            };
            if flags & 0x40 != 0 {
                reader.varint()?;
            }
            if flags & 0x80 != 0 {
                reader.varint()?;
            }
            let filters_start = reader.pos;
            for _ in 0..=(flags & 0x03) {
                reader.varint()?;
                let size = reader.varint()?;
                reader.pos = usize::try_from(size)
                    .ok()
                    .and_then(|size| reader.pos.checked_add(size))
                    .ok_or_else(|| xz_error("a block's filter properties are too long".into()))?;
            }
            let filters = block
                .get(filters_start..reader.pos)
                .ok_or_else(|| xz_error("a block's filter flags run past its header".into()))?;
            let mut header = vec![0, (flags & 0x03) | 0xC0];
            push_varint(&mut header, compressed);
            push_varint(&mut header, record.uncompressed);
            header.extend_from_slice(filters);
            let reserved = usize::try_from(2 + reserved_sizes).unwrap_or(0) + filters.len();
            header.resize(header.len().max(reserved).next_multiple_of(4), 0);
            header[0] = u8::try_from((header.len() + 4) / 4 - 1)
                .map_err(|_| xz_error("a block header over 1024 bytes".into()))?;
            let crc = crc32fast::hash(&header);
            header.extend_from_slice(&crc.to_le_bytes());
            records.push(Record {
                unpadded: record.unpadded - header_len as u64 + header.len() as u64,
                uncompressed: record.uncompressed,
            });
            bytes.extend_from_slice(&header);
            bytes.extend_from_slice(&block[header_len..]);
        }
        Ok(XzBlocks {
            bytes,
            records,
            raw_len: self.raw_len,
        })
    }

    /// Joins pieces in order.
    pub fn concat(pieces: &[XzBlocks]) -> XzBlocks {
        let bytes = pieces.iter().map(|piece| piece.bytes.len()).sum();
        let records = pieces.iter().map(|piece| piece.records.len()).sum();
        let mut joined = XzBlocks {
            bytes: Vec::with_capacity(bytes),
            records: Vec::with_capacity(records),
            raw_len: 0,
        };
        for piece in pieces {
            joined.bytes.extend_from_slice(&piece.bytes);
            joined.records.extend_from_slice(&piece.records);
            joined.raw_len += piece.raw_len;
        }
        joined
    }

    /// Length of the uncompressed data.
    pub fn raw_len(&self) -> u64 {
        self.raw_len
    }

    /// Length of the blocks in bytes, padding and checks included.
    pub fn compressed_len(&self) -> u64 {
        u64_len(&self.bytes)
    }

    /// Number of xz blocks.
    pub fn block_count(&self) -> usize {
        self.records.len()
    }
}

/// Exact size in bytes of the one stream made of these pieces (header + blocks + index +
/// footer), so a caller can write a length field before the stream.
pub fn stream_len(pieces: &[&XzBlocks]) -> u64 {
    let blocks: u64 = pieces.iter().map(|piece| piece.compressed_len()).sum();
    let records = pieces.iter().flat_map(|piece| &piece.records);
    HEADER_LEN + blocks + index_len(records) + FOOTER_LEN as u64
}

/// Writes one xz stream made of appended pieces.
///
/// [`Self::new`] does no I/O: the stream header is written by the first [`Self::append`] (or
/// by [`Self::finish`] for a stream of no pieces), so every I/O error reaches the caller as a
/// [`Result`]. Each piece's blocks go to the inner writer in one `write_all`, without copying;
/// wrap an unbuffered writer such as a file in a [`std::io::BufWriter`] when many small pieces
/// are appended. Nothing is written on drop: call [`Self::finish`], which writes the index and
/// footer. After an error the stream is incomplete and the writer should be dropped.
pub struct XzStreamWriter<W: Write> {
    inner: W,
    /// Index records of the blocks appended so far, in stream order.
    records: Vec<Record>,
    /// Bytes written to `inner` so far; 0 while the stream header is still due.
    written: u64,
}

impl<W: Write> XzStreamWriter<W> {
    /// Starts a stream; does no I/O (see the type's documentation).
    pub fn new(w: W) -> Self {
        Self {
            inner: w,
            records: Vec::new(),
            written: 0,
        }
    }

    /// Appends a piece's blocks to the stream.
    pub fn append(&mut self, piece: &XzBlocks) -> Result<()> {
        self.write_header_once()?;
        self.inner.write_all(&piece.bytes)?;
        self.written += piece.compressed_len();
        self.records.extend_from_slice(&piece.records);
        Ok(())
    }

    /// Writes index and footer; returns the inner writer and the total bytes written.
    ///
    /// Flushes the inner writer. The total equals [`stream_len`] of the appended pieces.
    pub fn finish(mut self) -> Result<(W, u64)> {
        self.write_header_once()?;
        let tail = index_and_footer(&self.records)?;
        self.inner.write_all(&tail)?;
        self.inner.flush()?;
        Ok((self.inner, self.written + u64_len(&tail)))
    }

    fn write_header_once(&mut self) -> Result<()> {
        if self.written == 0 {
            self.inner.write_all(&STREAM_HEADER)?;
            self.written = HEADER_LEN;
        }
        Ok(())
    }
}

/// Splits `len` bytes into ranges of at most `max_block` bytes (last one shorter): a pure
/// function, for callers that cut big shared runs into a few large blocks.
///
/// The ranges are contiguous, non-empty and cover `0..len` (none for `len == 0`).
///
/// # Panics
///
/// If `max_block` is 0 and `len` is not: no block size could cover the data.
pub fn block_ranges(len: usize, max_block: usize) -> Vec<Range<usize>> {
    if len == 0 {
        return Vec::new();
    }
    assert!(
        max_block > 0,
        "cannot cut {len} bytes into blocks of 0 bytes"
    );
    (0..len)
        .step_by(max_block)
        // Written so that `start + max_block` cannot overflow.
        .map(|start| start..start + max_block.min(len - start))
        .collect()
}

fn xz_error(reason: String) -> Error {
    Error::Xz { reason }
}

fn u64_len(bytes: &[u8]) -> u64 {
    u64::try_from(bytes.len()).expect("slice lengths fit in u64")
}

/// Upper bound of what the encoder writes after the stream header for `len` input bytes.
///
/// As liblzma's `lzma_stream_buffer_bound`: LZMA2 stores data it cannot compress in chunks of
/// at most 64 KiB with a 3-byte header each, plus an end byte; a block header takes at most
/// 1024 bytes, then come 0–3 bytes of padding, the CRC64, an index of one record (at most 24
/// bytes) and the footer.
fn encoded_bound(len: usize) -> usize {
    len + len.div_ceil(1 << 16) * 3 + 1 + 1024 + 3 + 8 + 24 + FOOTER_LEN
}

/// Length of `value` as a varint.
fn varint_len(value: u64) -> u64 {
    u64::from((64 - value.leading_zeros()).div_ceil(7).max(1))
}

fn push_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        // The low 7 bits, with the "more follows" bit (truncation intended).
        out.push(value as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Length of the index holding `records`, padding and CRC32 included.
fn index_len<'a>(records: impl IntoIterator<Item = &'a Record>) -> u64 {
    let (count, fields) = records.into_iter().fold((0, 0), |(count, fields), record| {
        let len = varint_len(record.unpadded) + varint_len(record.uncompressed);
        (count + 1, fields + len)
    });
    (1 + varint_len(count) + fields).next_multiple_of(4) + 4
}

/// The index holding `records`, followed by the stream footer.
fn index_and_footer(records: &[Record]) -> Result<Vec<u8>> {
    let capacity = usize::try_from(index_len(records) + FOOTER_LEN as u64)
        .map_err(|_| xz_error(format!("an index of {} blocks does not fit", records.len())))?;
    let mut tail = Vec::with_capacity(capacity);
    tail.push(INDEX_INDICATOR);
    push_varint(
        &mut tail,
        u64::try_from(records.len()).expect("usize fits in u64"),
    );
    for record in records {
        push_varint(&mut tail, record.unpadded);
        push_varint(&mut tail, record.uncompressed);
    }
    tail.resize(tail.len().next_multiple_of(4), 0);
    let crc = crc32fast::hash(&tail);
    tail.extend_from_slice(&crc.to_le_bytes());

    let backward_size = u32::try_from(tail.len() / 4 - 1).map_err(|_| {
        xz_error(format!(
            "an index of {} bytes is over the format's limit of 16 GiB",
            tail.len()
        ))
    })?;
    let mut fields = [0; 6];
    fields[..4].copy_from_slice(&backward_size.to_le_bytes());
    fields[4..].copy_from_slice(&STREAM_FLAGS);
    tail.extend_from_slice(&crc32fast::hash(&fields).to_le_bytes());
    tail.extend_from_slice(&fields);
    tail.extend_from_slice(&FOOTER_MAGIC);
    Ok(tail)
}

/// Turns a complete stream, given as its `header` and the `body` after it, into the piece of
/// its blocks: `body` is cut down to the blocks in place, without moving them.
///
/// The stream must be what [`XzBlocks::encode`] asks liblzma for: CRC64 checks, consistent
/// footer, index and blocks, one block holding `raw_len` bytes of uncompressed data (no block
/// if `raw_len` is 0).
fn piece_from_stream(header: &[u8], mut body: Vec<u8>, raw_len: u64) -> Result<XzBlocks> {
    if header != STREAM_HEADER {
        return Err(xz_error(format!(
            "the stream header is {header:02X?}, not {STREAM_HEADER:02X?} (xz with CRC64 checks)"
        )));
    }
    let (blocks_len, records) = parse_body(&body)?;
    let expected = usize::from(raw_len > 0);
    if records.len() != expected {
        return Err(xz_error(format!(
            "the encoder wrote {} blocks for {raw_len} bytes, expected {expected}",
            records.len()
        )));
    }
    let total: u64 = records.iter().map(|record| record.uncompressed).sum();
    if total != raw_len {
        return Err(xz_error(format!(
            "the index records {total} uncompressed bytes, but {raw_len} were compressed"
        )));
    }
    body.truncate(blocks_len);
    // Hand back the room reserved for the worst case (allocators usually shrink in place).
    body.shrink_to_fit();
    Ok(XzBlocks {
        bytes: body,
        records,
        raw_len,
    })
}

/// Parses the footer and index at the end of a stream `body` (the stream after its header)
/// and checks them against the blocks before the index.
///
/// Returns the length of the blocks and the index records.
fn parse_body(body: &[u8]) -> Result<(usize, Vec<Record>)> {
    let Some(footer_start) = body.len().checked_sub(FOOTER_LEN) else {
        return Err(xz_error(format!(
            "{} bytes after the stream header cannot hold a stream footer",
            body.len()
        )));
    };
    let footer = &body[footer_start..];
    if footer[10..] != FOOTER_MAGIC {
        return Err(xz_error(format!(
            "the stream ends in {:02X?}, not the footer magic 59 5A",
            &footer[10..]
        )));
    }
    if footer[8..10] != STREAM_FLAGS {
        return Err(xz_error(format!(
            "the footer flags are {:02X?}, not the header's {STREAM_FLAGS:02X?}",
            &footer[8..10]
        )));
    }
    check_crc32(&footer[4..10], &footer[..4], "stream footer")?;
    let backward_size = u32::from_le_bytes(footer[4..8].try_into().expect("4 bytes"));
    // Computed in u64: the largest backward size gives 16 GiB.
    let index_size = (u64::from(backward_size) + 1) * 4;
    let Some(index_start) = usize::try_from(index_size)
        .ok()
        .and_then(|size| footer_start.checked_sub(size))
    else {
        return Err(xz_error(format!(
            "the footer announces an index of {index_size} bytes, but only {footer_start} bytes \
             precede the footer"
        )));
    };
    let records = parse_index(&body[index_start..footer_start])?;
    check_blocks(&body[..index_start], &records)?;
    Ok((index_start, records))
}

/// Parses an index of known length: indicator, record count, records, padding, CRC32.
fn parse_index(index: &[u8]) -> Result<Vec<Record>> {
    let mut cursor = Cursor {
        bytes: index,
        pos: 0,
    };
    let indicator = cursor.byte()?;
    if indicator != INDEX_INDICATOR {
        return Err(xz_error(format!(
            "the index starts with {indicator:#04x}, not the index indicator 0x00"
        )));
    }
    let count = cursor.varint()?;
    // Every record takes at least 2 bytes, which bounds the allocation by the index length.
    if count > u64_len(index) / 2 {
        return Err(xz_error(format!(
            "an index of {} bytes cannot hold {count} records",
            index.len()
        )));
    }
    let records = (0..count)
        .map(|_| {
            Ok(Record {
                unpadded: cursor.varint()?,
                uncompressed: cursor.varint()?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let crc_start = cursor.pos.next_multiple_of(4);
    if crc_start + 4 != index.len() {
        return Err(xz_error(format!(
            "the index records end at byte {} of an index of {} bytes",
            cursor.pos,
            index.len()
        )));
    }
    if index[cursor.pos..crc_start].iter().any(|&byte| byte != 0) {
        return Err(xz_error("the index padding is not zero".to_owned()));
    }
    check_crc32(&index[..crc_start], &index[crc_start..], "index")?;
    Ok(records)
}

/// Checks that the index records tile the blocks exactly, and that a block header (whose
/// first byte, its size, is never 0) starts where each record says a block starts.
fn check_blocks(blocks: &[u8], records: &[Record]) -> Result<()> {
    let mut start = 0u64;
    for (i, record) in records.iter().enumerate() {
        // The smallest block: an 8-byte header, one byte of data and the check.
        if record.unpadded < 8 + 1 + CHECK_LEN {
            return Err(xz_error(format!(
                "block {i} has an unpadded size of {}, too small for a block",
                record.unpadded
            )));
        }
        let header_byte = usize::try_from(start).ok().and_then(|at| blocks.get(at));
        if header_byte.is_none_or(|&byte| byte == 0) {
            return Err(xz_error(format!(
                "no block header at byte {start} of the {} bytes of blocks, where block {i} \
                 starts according to the index",
                blocks.len()
            )));
        }
        // No overflow: `start` is inside the blocks, so below 2^63, and a padded size (from a
        // varint) is at most 2^63.
        start += record.padded();
    }
    if start != u64_len(blocks) {
        return Err(xz_error(format!(
            "the index records {} blocks of {start} bytes, but {} bytes precede the index",
            records.len(),
            blocks.len()
        )));
    }
    Ok(())
}

/// Checks that `stored` is the little-endian CRC32 of `data`.
fn check_crc32(data: &[u8], stored: &[u8], what: &str) -> Result<()> {
    let computed = crc32fast::hash(data).to_le_bytes();
    if stored != computed {
        return Err(xz_error(format!(
            "the {what} CRC32 is {stored:02X?}, but its bytes hash to {computed:02X?}"
        )));
    }
    Ok(())
}

/// Reads bytes and varints from the front of an index.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn byte(&mut self) -> Result<u8> {
        let byte = self.bytes.get(self.pos).copied().ok_or_else(|| {
            xz_error(format!(
                "the index ends early, at byte {}",
                self.bytes.len()
            ))
        })?;
        self.pos += 1;
        Ok(byte)
    }

    /// Reads a varint of at most 9 bytes, rejecting the non-minimal encodings the format
    /// forbids (a last byte of 0 after others).
    fn varint(&mut self) -> Result<u64> {
        let start = self.pos;
        let mut value = 0;
        for i in 0..VARINT_MAX_BYTES {
            let byte = self.byte()?;
            value |= u64::from(byte & 0x7F) << (7 * i);
            if byte & 0x80 == 0 {
                if byte == 0 && i > 0 {
                    return Err(xz_error(format!(
                        "the varint at index byte {start} is not minimally encoded"
                    )));
                }
                return Ok(value);
            }
        }
        Err(xz_error(format!(
            "the varint at index byte {start} is longer than {VARINT_MAX_BYTES} bytes"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{random_bytes, run_with_input, tool};

    use std::io::Read;
    use std::process::{Command, Stdio};
    use std::sync::OnceLock;

    use liblzma::read::XzDecoder;
    use liblzma::write::XzEncoder;
    use proptest::prelude::*;
    use proptest::sample::Index;

    /// What liblzma writes for empty input with CRC64 checks: header, an index of no records
    /// (00 00, padding, CRC32) and the footer.
    const EMPTY_STREAM_LEN: u64 = 32;

    #[derive(Clone, Copy, Debug)]
    enum Kind {
        Text,
        Random,
        /// x86-like code: E8 calls with small relative targets, which BCJ converts.
        Code,
    }

    /// Deterministic test data of a kind.
    fn content(kind: Kind, len: usize) -> Vec<u8> {
        match kind {
            Kind::Text => (0..)
                .map(|line| format!("msgid \"entry {line}\" = Localized string number {line}\n"))
                .flat_map(String::into_bytes)
                .take(len)
                .collect(),
            Kind::Random => random_bytes(len, 0x9e37_79b9_7f4a_7c15),
            Kind::Code => random_bytes(len, 0x2545_f491_4f6c_dd1d)
                .chunks(8)
                .flat_map(|chunk| {
                    // A call with a 16-bit displacement (high bytes 00 or FF), then filler.
                    let high = if chunk[0] & 1 == 0 { 0x00 } else { 0xFF };
                    let call = [0xE8, chunk[0], chunk[chunk.len() - 1], high, high];
                    call.into_iter().chain(chunk.iter().copied().take(3))
                })
                .take(len)
                .collect(),
        }
    }

    /// Pseudo-random bytes from a xorshift64 generator.
    fn write_stream<'a>(pieces: impl IntoIterator<Item = &'a XzBlocks>) -> Vec<u8> {
        let mut writer = XzStreamWriter::new(Vec::new());
        for piece in pieces {
            writer
                .append(piece)
                .expect("appending to a Vec cannot fail");
        }
        let (stream, written) = writer.finish().expect("writing to a Vec cannot fail");
        assert_eq!(written, stream.len() as u64, "finish counts what it wrote");
        stream
    }

    /// Decodes with the SINGLE-stream decoder: it stops at the end of the first stream.
    fn decode(stream: &[u8]) -> std::io::Result<Vec<u8>> {
        let mut out = Vec::new();
        XzDecoder::new(stream).read_to_end(&mut out)?;
        Ok(out)
    }

    /// [`piece_from_stream`] on a whole stream, header included.
    fn piece_of_stream(stream: &[u8], raw_len: u64) -> Result<XzBlocks> {
        let (header, body) = stream.split_at(stream.len().min(STREAM_HEADER.len()));
        piece_from_stream(header, body.to_vec(), raw_len)
    }

    /// What liblzma's own stream encoder writes, with the filter chain built here rather
    /// than by [`XzOptions::encoder`].
    fn reference_stream(data: &[u8], preset: u32, x86_bcj: bool) -> Vec<u8> {
        let lzma2 = LzmaOptions::new_preset(preset).unwrap();
        let mut filters = Filters::new();
        if x86_bcj {
            filters.x86();
        }
        filters.lzma2(&lzma2);
        let stream = Stream::new_stream_encoder(&filters, Check::Crc64).unwrap();
        let mut encoder = XzEncoder::new_stream(Vec::new(), stream);
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    /// while it reads cannot deadlock) and returns its output.
    /// `xz -t` accepts the stream and `xz -dc` decodes it to `expected`.
    fn assert_xz_cli_reads(stream: &[u8], expected: &[u8], what: &str) {
        let test = run_with_input(Command::new("xz").arg("-t"), stream);
        assert!(
            test.status.success(),
            "xz -t rejects {what}: {}",
            String::from_utf8_lossy(&test.stderr)
        );
        let decoded = run_with_input(Command::new("xz").arg("-dc"), stream);
        assert!(decoded.status.success(), "xz -dc fails on {what}");
        assert!(decoded.stdout == expected, "xz -dc decodes {what} wrongly");
    }

    /// One decompressor object must yield every byte and reach the end of the stream with
    /// nothing left over, as Firefox's updater needs.
    const PYTHON_ONE_DECOMPRESSOR: &str = "\
import lzma, sys
d = lzma.LZMADecompressor()
out = d.decompress(sys.stdin.buffer.read())
if not d.eof or d.unused_data:
    sys.exit('not exactly one complete stream: eof=%s, %d bytes unused' % (d.eof, len(d.unused_data)))
sys.stdout.buffer.write(out)
";

    fn assert_python_reads(stream: &[u8], expected: &[u8], what: &str) {
        let output = run_with_input(
            Command::new("python3").args(["-c", PYTHON_ONE_DECOMPRESSOR]),
            stream,
        );
        assert!(
            output.status.success(),
            "python3 lzma.LZMADecompressor rejects {what}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(output.stdout == expected, "python3 decodes {what} wrongly");
    }

    /// Pieces of different content, size and filters, and streams of them in several orders;
    /// shared by the tests because encoding takes a while.
    struct Fixture {
        parts: Vec<(Vec<u8>, XzBlocks)>,
        streams: Vec<Joined>,
    }

    struct Joined {
        order: Vec<usize>,
        stream: Vec<u8>,
        expected: Vec<u8>,
    }

    fn fixture() -> &'static Fixture {
        static FIXTURE: OnceLock<Fixture> = OnceLock::new();
        FIXTURE.get_or_init(|| {
            let parts: Vec<_> = [
                (Kind::Text, 0, false),
                (Kind::Random, 1, true),
                (Kind::Text, 1000, false),
                (Kind::Random, 300_000, true),
                (Kind::Text, 2_000_000, false),
                (Kind::Code, 300_000, true),
                (Kind::Code, 1001, true),
            ]
            .into_iter()
            .map(|(kind, len, x86_bcj)| {
                let data = content(kind, len);
                let piece = XzBlocks::encode(&data, XzOptions::mar(x86_bcj)).expect("encode");
                (data, piece)
            })
            .collect();
            let orders = [
                vec![0, 1, 2, 3, 4, 5, 6],
                vec![6, 5, 4, 3, 2, 1, 0],
                // Shared pieces are reused: BCJ blocks land at odd uncompressed offsets.
                vec![5, 1, 5, 0, 6, 2, 6, 5],
                vec![4, 1, 3, 5, 1, 6, 4],
            ];
            let streams = orders
                .into_iter()
                .map(|order| {
                    let stream = write_stream(order.iter().map(|&i| &parts[i].1));
                    let expected = order.iter().flat_map(|&i| parts[i].0.clone()).collect();
                    Joined {
                        order,
                        stream,
                        expected,
                    }
                })
                .collect();
            Fixture { parts, streams }
        })
    }

    #[test]
    fn header_constant_holds_the_crc_of_its_flags() {
        let crc = crc32fast::hash(&STREAM_FLAGS).to_le_bytes();
        assert_eq!(STREAM_HEADER[6..8], STREAM_FLAGS);
        assert_eq!(STREAM_HEADER[8..], crc);
    }

    #[test]
    fn options_match_mozillas_settings() {
        let cases = [
            (XzOptions::mar(false), (6, false, false)),
            (XzOptions::mar(true), (6, false, true)),
            (XzOptions::package(), (9, true, false)),
        ];
        for (options, (preset, extreme, x86_bcj)) in cases {
            assert_eq!(
                options,
                XzOptions {
                    preset,
                    extreme,
                    x86_bcj
                }
            );
        }
    }

    #[test]
    fn one_piece_reproduces_the_encoders_stream() {
        let cases = [
            (Kind::Text, 0, XzOptions::mar(false)),
            (Kind::Random, 1, XzOptions::mar(true)),
            (Kind::Text, 1000, XzOptions::mar(false)),
            (Kind::Code, 100_000, XzOptions::mar(true)),
            (Kind::Random, 70_000, XzOptions::mar(false)),
            (Kind::Text, 300_000, XzOptions::package()),
        ];
        for (kind, len, options) in cases {
            let data = content(kind, len);
            let preset = if options.extreme {
                options.preset | PRESET_EXTREME
            } else {
                options.preset
            };
            let expected = reference_stream(&data, preset, options.x86_bcj);
            let piece = XzBlocks::encode(&data, options).unwrap();
            let what = format!("{kind:?} {len} {options:?}");
            assert!(write_stream([&piece]) == expected, "{what}");
            assert_eq!(stream_len(&[&piece]), expected.len() as u64, "{what}");
            assert_eq!(piece.raw_len(), len as u64, "{what}");
            assert_eq!(piece.block_count(), usize::from(len > 0), "{what}");
        }
    }

    #[test]
    fn mar_members_match_make_full_update_byte_for_byte() {
        // make_full_update.sh: XZ_OPT="-T1 -7e"; xz $XZ_OPT --compress $BCJ --lzma2
        // --format=xz --check=crc64 --force --stdout FILE. The bare --lzma2 resets the
        // preset, so this is what Mozilla's MAR members are.
        if !tool("xz") {
            return;
        }
        for (kind, len, bcj) in [(Kind::Code, 200_000, true), (Kind::Text, 50_000, false)] {
            let data = content(kind, len);
            let mut args = vec!["-T1", "-7e", "--compress"];
            if bcj {
                args.push("--x86");
            }
            args.extend([
                "--lzma2",
                "--format=xz",
                "--check=crc64",
                "--force",
                "--stdout",
            ]);
            let mut child = Command::new("xz")
                .args(&args)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let mut stdin = child.stdin.take().unwrap();
            let input = data.clone();
            let feeder = std::thread::spawn(move || stdin.write_all(&input));
            let output = child.wait_with_output().unwrap();
            feeder.join().unwrap().unwrap();
            let piece = XzBlocks::encode(&data, XzOptions::mar(bcj)).unwrap();
            assert!(
                write_stream([&piece]) == output.stdout,
                "{kind:?} bcj={bcj}"
            );
        }
    }

    #[test]
    fn streams_of_many_pieces_decode_to_the_concatenation() {
        let fixture = fixture();
        for joined in &fixture.streams {
            let decoded = decode(&joined.stream).expect("decode the joined stream");
            assert!(
                decoded == joined.expected,
                "order {:?} decodes to {} bytes, expected {}",
                joined.order,
                decoded.len(),
                joined.expected.len()
            );
            let pieces: Vec<&XzBlocks> =
                joined.order.iter().map(|&i| &fixture.parts[i].1).collect();
            assert_eq!(
                stream_len(&pieces),
                joined.stream.len() as u64,
                "order {:?}",
                joined.order
            );
            // Our parser agrees with the stream as a whole: one index for every block.
            let (blocks_len, records) = parse_body(&joined.stream[STREAM_HEADER.len()..]).unwrap();
            let expected: Vec<Record> = pieces.iter().flat_map(|p| p.records.clone()).collect();
            assert_eq!(records, expected, "order {:?}", joined.order);
            let blocks: u64 = pieces.iter().map(|piece| piece.compressed_len()).sum();
            assert_eq!(blocks_len as u64, blocks, "order {:?}", joined.order);
        }
    }

    #[test]
    fn xz_cli_reads_joined_streams() {
        if !tool("xz") {
            return;
        }
        for joined in &fixture().streams {
            let what = format!("order {:?}", joined.order);
            assert_xz_cli_reads(&joined.stream, &joined.expected, &what);
        }
    }

    #[test]
    fn python_reads_joined_streams_with_one_decompressor() {
        if !tool("python3") {
            return;
        }
        for joined in &fixture().streams {
            let what = format!("order {:?}", joined.order);
            assert_python_reads(&joined.stream, &joined.expected, &what);
        }
    }

    #[test]
    fn single_stream_decoder_stops_at_the_first_footer() {
        // Guards the round-trip tests: concatenated streams would lose all but the first.
        let (first, second) = (content(Kind::Text, 5000), content(Kind::Random, 5000));
        let concatenated = [
            reference_stream(&first, 7, false),
            reference_stream(&second, 7, false),
        ]
        .concat();
        assert!(decode(&concatenated).unwrap() == first);
    }

    #[test]
    fn empty_streams_are_32_valid_bytes() {
        let empty = XzBlocks::encode(b"", XzOptions::mar(true)).unwrap();
        assert_eq!(
            (empty.raw_len(), empty.compressed_len(), empty.block_count()),
            (0, 0, 0)
        );
        let reference = reference_stream(b"", 7, true);
        assert_eq!(reference.len() as u64, EMPTY_STREAM_LEN);
        let cases: Vec<(&str, Vec<&XzBlocks>)> = vec![
            ("no pieces", vec![]),
            ("one empty piece", vec![&empty]),
            ("three empty pieces", vec![&empty; 3]),
        ];
        let (xz, python) = (tool("xz"), tool("python3"));
        for (name, pieces) in cases {
            let stream = write_stream(pieces.iter().copied());
            assert_eq!(stream, reference, "{name}");
            assert_eq!(stream_len(&pieces), EMPTY_STREAM_LEN, "{name}");
            assert_eq!(decode(&stream).unwrap(), b"", "{name}");
            if xz {
                assert_xz_cli_reads(&stream, b"", name);
            }
            if python {
                assert_python_reads(&stream, b"", name);
            }
        }
    }

    #[test]
    fn blocks_round_trip_through_the_cache() {
        let data = random_bytes(70_000, 3);
        let pieces = [
            XzBlocks::encode(b"", XzOptions::mar(false)).unwrap(),
            XzBlocks::concat(&[
                XzBlocks::encode(&data, XzOptions::mar(true)).unwrap(),
                XzBlocks::encode(b"tail", XzOptions::mar(true)).unwrap(),
            ]),
        ];
        let mut out = PieceWriter::new();
        pieces.iter().for_each(|piece| out.piece(piece));
        let bytes = out.into_bytes();
        let mut input = PieceReader::new(&bytes);
        let back: [XzBlocks; 2] = [input.piece().unwrap(), input.piece().unwrap()];
        input.finish().unwrap();
        assert_eq!(back, pieces);
        let mut cut = PieceReader::new(&bytes[..bytes.len() - 1]);
        assert_eq!(cut.piece::<XzBlocks>().unwrap(), pieces[0]);
        assert!(cut.piece::<XzBlocks>().is_err());
    }

    #[test]
    fn concat_equals_appending_the_parts() {
        let all: Vec<XzBlocks> = fixture().parts.iter().map(|(_, p)| p.clone()).collect();
        let joined = XzBlocks::concat(&all);
        assert!(write_stream([&joined]) == write_stream(&all));
        assert_eq!(
            stream_len(&[&joined]),
            stream_len(&all.iter().collect::<Vec<_>>())
        );
        let sum = |f: fn(&XzBlocks) -> u64| all.iter().map(f).sum::<u64>();
        assert_eq!(joined.raw_len(), sum(XzBlocks::raw_len));
        assert_eq!(joined.compressed_len(), sum(XzBlocks::compressed_len));
        assert_eq!(
            joined.block_count(),
            all.iter().map(XzBlocks::block_count).sum::<usize>()
        );
        for split in [0, 1, 4, all.len()] {
            let (left, right) = all.split_at(split);
            let nested = XzBlocks::concat(&[XzBlocks::concat(left), XzBlocks::concat(right)]);
            assert!(nested == joined, "split at {split}");
        }
        assert_eq!(
            XzBlocks::concat(&[]),
            XzBlocks::encode(b"", XzOptions::package()).unwrap()
        );
    }

    #[test]
    fn block_ranges_cut_into_blocks_of_at_most_max() {
        // The expected ranges, given by their ends: each starts where the previous one ends.
        let cases: [(usize, usize, &[usize]); 9] = [
            (0, 10, &[]),
            (0, 0, &[]),
            (1, 1, &[1]),
            (9, 10, &[9]),
            (10, 10, &[10]),
            (11, 10, &[10, 11]),
            (25, 10, &[10, 20, 25]),
            (3, usize::MAX, &[3]),
            (usize::MAX, usize::MAX - 1, &[usize::MAX - 1, usize::MAX]),
        ];
        for (len, max_block, ends) in cases {
            let starts = [0].iter().chain(ends);
            let expected: Vec<Range<usize>> = starts.zip(ends).map(|(&s, &e)| s..e).collect();
            assert_eq!(
                block_ranges(len, max_block),
                expected,
                "{len} by {max_block}"
            );
        }
    }

    #[test]
    #[should_panic(expected = "blocks of 0 bytes")]
    fn block_ranges_reject_empty_blocks() {
        block_ranges(1, 0);
    }

    #[test]
    fn sizes_in_headers_decode_to_the_same_data() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
        for options in [XzOptions::mar(false), XzOptions::mar(true)] {
            let plain = XzBlocks::encode(&data, options).unwrap();
            let sized = plain.with_sizes_in_headers(24 << 20).unwrap();
            let header_len = (usize::from(sized.bytes[0]) + 1) * 4;
            // Flags: both sizes present; the header's CRC32 matches.
            assert_eq!(sized.bytes[1] & 0xC0, 0xC0);
            assert_eq!(
                crc32fast::hash(&sized.bytes[..header_len - 4]).to_le_bytes(),
                sized.bytes[header_len - 4..header_len]
            );
            let mut stream = XzStreamWriter::new(Vec::new());
            stream.append(&sized).unwrap();
            let (bytes, _) = stream.finish().unwrap();
            let mut decoded = Vec::new();
            XzDecoder::new(&bytes[..])
                .read_to_end(&mut decoded)
                .unwrap();
            assert_eq!(decoded, data);
            // Applying it again changes nothing.
            assert_eq!(sized.with_sizes_in_headers(24 << 20).unwrap(), sized);
            // liblzma's header for a 24 MiB block: 2 + 4 + 4 + the filters, padded, + CRC32.
            assert_eq!(header_len, 20);
        }
    }

    #[test]
    fn varints_round_trip_minimally() {
        let cases: [(u64, &[u8]); 7] = [
            (0, &[0x00]),
            (1, &[0x01]),
            (127, &[0x7F]),
            (128, &[0x80, 0x01]),
            (300, &[0xAC, 0x02]),
            (16_384, &[0x80, 0x80, 0x01]),
            (
                u64::MAX >> 1,
                &[0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F],
            ),
        ];
        for (value, bytes) in cases {
            let mut out = Vec::new();
            push_varint(&mut out, value);
            assert_eq!(out, bytes, "{value}");
            assert_eq!(varint_len(value), bytes.len() as u64, "{value}");
            let mut cursor = Cursor { bytes, pos: 0 };
            assert_eq!(cursor.varint().unwrap(), value, "{value}");
            assert_eq!(cursor.pos, bytes.len(), "{value}");
        }
        let bad: [(&[u8], &str); 3] = [
            (&[0x80, 0x00], "not minimally"),
            (&[0xFF; 10], "longer than 9"),
            (&[0x80], "ends early"),
        ];
        for (bytes, reason) in bad {
            match (Cursor { bytes, pos: 0 }).varint() {
                Err(Error::Xz { reason: got }) => assert!(got.contains(reason), "{got}"),
                other => panic!("{bytes:02X?}: {other:?}"),
            }
        }
    }

    #[test]
    fn unexpected_streams_are_rejected() {
        let data = content(Kind::Text, 10_000);
        let good = reference_stream(&data, 7, false);
        let raw_len = data.len() as u64;
        assert!(
            piece_of_stream(&good, raw_len).is_ok(),
            "the unaltered stream parses"
        );
        let two_blocks = {
            let piece = XzBlocks::encode(&data[..5000], XzOptions::mar(false)).unwrap();
            write_stream([&piece, &piece])
        };
        let altered = |at: usize, byte: u8| {
            let mut stream = good.clone();
            stream[at] = byte;
            stream
        };
        // A footer with a valid CRC32 over altered fields.
        let recrc = |mut stream: Vec<u8>| {
            let footer = stream.len() - FOOTER_LEN;
            let crc = crc32fast::hash(&stream[footer + 4..footer + 10]);
            stream[footer..footer + 4].copy_from_slice(&crc.to_le_bytes());
            stream
        };
        let end = good.len();
        let backward_size = u32::from_le_bytes(good[end - 8..end - 4].try_into().unwrap());
        let index_start = end - FOOTER_LEN - (backward_size as usize + 1) * 4;
        let index_crc = end - FOOTER_LEN - 4;
        let cases: Vec<(&str, Vec<u8>, u64, &str)> = vec![
            (
                "truncated",
                good[..end - 1].to_vec(),
                raw_len,
                "footer magic",
            ),
            (
                "header only",
                good[..12].to_vec(),
                raw_len,
                "cannot hold a stream footer",
            ),
            (
                "shorter than a header",
                good[..5].to_vec(),
                raw_len,
                "stream header",
            ),
            (
                "CRC32 checks",
                reference_stream_crc32(&data),
                raw_len,
                "stream header",
            ),
            (
                "footer flags",
                altered(end - 3, 0x01),
                raw_len,
                "footer flags",
            ),
            (
                "footer CRC",
                altered(end - 12, !good[end - 12]),
                raw_len,
                "footer CRC32",
            ),
            (
                "backward size",
                recrc(altered(end - 8, 0xF0)),
                raw_len,
                "announces an index",
            ),
            (
                "index CRC",
                altered(index_crc, !good[index_crc]),
                raw_len,
                "index CRC32",
            ),
            (
                "index indicator",
                altered(index_start, 0x01),
                raw_len,
                "index indicator",
            ),
            (
                "wrong length",
                good.clone(),
                raw_len + 1,
                "uncompressed bytes",
            ),
            (
                "concatenated streams",
                [good.clone(), good.clone()].concat(),
                raw_len,
                "precede the index",
            ),
            ("two blocks", two_blocks, raw_len, "wrote 2 blocks"),
            (
                "no blocks for data",
                reference_stream(b"", 7, false),
                1,
                "wrote 0 blocks",
            ),
        ];
        for (name, stream, raw_len, reason) in cases {
            match piece_of_stream(&stream, raw_len) {
                Err(Error::Xz { reason: got }) => assert!(got.contains(reason), "{name}: {got}"),
                other => panic!("{name}: {other:?}"),
            }
        }
    }

    /// A stream with CRC32 rather than CRC64 checks.
    fn reference_stream_crc32(data: &[u8]) -> Vec<u8> {
        let stream = Stream::new_easy_encoder(7, Check::Crc32).unwrap();
        let mut encoder = XzEncoder::new_stream(Vec::new(), stream);
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn index_length_matches_the_written_index() {
        let record = |unpadded, uncompressed| Record {
            unpadded,
            uncompressed,
        };
        let cases: Vec<Vec<Record>> = vec![
            vec![],
            vec![record(17, 1)],
            vec![record(200, 100_000); 3],
            vec![record(u64::MAX >> 1, u64::MAX >> 1); 2],
            (0..300)
                .map(|i| record(17 + i * 1000, i * i * 977))
                .collect(),
        ];
        for records in cases {
            let tail = index_and_footer(&records).unwrap();
            let expected = index_len(&records) + FOOTER_LEN as u64;
            assert_eq!(tail.len() as u64, expected, "{} records", records.len());
            assert_eq!(
                parse_index(&tail[..tail.len() - FOOTER_LEN]).unwrap(),
                records
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(12))]

        #[test]
        fn random_splits_round_trip(
            data in prop_oneof![
                proptest::collection::vec(any::<u8>(), 0..=65_536),
                // A small alphabet compresses well, unlike random bytes.
                proptest::collection::vec(0u8..3, 0..=65_536),
            ],
            cuts in proptest::collection::vec(any::<Index>(), 0..4),
            bcj in proptest::collection::vec(any::<bool>(), 4),
        ) {
            let mut cuts: Vec<usize> = cuts.iter().map(|cut| cut.index(data.len() + 1)).collect();
            cuts.sort_unstable();
            let bounds: Vec<usize> = [0].into_iter().chain(cuts).chain([data.len()]).collect();
            let pieces = bounds
                .windows(2)
                .zip(&bcj)
                .map(|(w, &x86_bcj)| XzBlocks::encode(&data[w[0]..w[1]], XzOptions::mar(x86_bcj)))
                .collect::<Result<Vec<_>>>()
                .unwrap();
            let stream = write_stream(&pieces);
            prop_assert_eq!(stream_len(&pieces.iter().collect::<Vec<_>>()), stream.len() as u64);
            prop_assert_eq!(decode(&stream).unwrap(), data);
        }
    }

    /// Size cost of cutting ~20 MB of a real executable into blocks; run with
    /// `cargo test --release -p l10n-repack-packagers xz -- --ignored --nocapture`.
    #[test]
    #[ignore = "prints a measurement on local data, asserts nothing about size"]
    fn block_size_overhead() {
        let path = "/work/data/x/firefox/libxul.so";
        let Ok(file) = std::fs::File::open(path) else {
            eprintln!("SKIPPED: {path} is missing");
            return;
        };
        let mut data = Vec::new();
        file.take(20 << 20).read_to_end(&mut data).unwrap();
        let options = XzOptions::mar(true);
        let cuts = [
            ("1 block", data.len()),
            ("8 MiB", 8 << 20),
            ("4 MiB", 4 << 20),
        ];
        let results: Vec<(&str, usize, u64)> = std::thread::scope(|scope| {
            let handles: Vec<_> = cuts
                .iter()
                .map(|&(name, max_block)| {
                    let data = &data;
                    scope.spawn(move || {
                        let pieces: Vec<XzBlocks> = block_ranges(data.len(), max_block)
                            .into_iter()
                            .map(|range| XzBlocks::encode(&data[range], options).unwrap())
                            .collect();
                        let stream = write_stream(&pieces);
                        assert!(decode(&stream).unwrap() == *data, "{name} round-trips");
                        (name, pieces.len(), stream.len() as u64)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let one = results[0].2 as f64;
        eprintln!("{} bytes of {path}, {options:?}:", data.len());
        for (name, blocks, len) in results {
            let overhead = (len as f64 / one - 1.0) * 100.0;
            eprintln!("  {name:>8}: {blocks:>2} blocks, {len:>9} bytes, {overhead:+.3}%");
        }
    }

    /// Cached blocks, written with the cache's primitives.
    fn cached(raw_len: u64, records: &[(u64, u64)], blocks: &[u8]) -> Vec<u8> {
        let mut out = PieceWriter::new();
        out.u64(raw_len);
        out.len(records.len());
        for &(unpadded, uncompressed) in records {
            out.u64(unpadded);
            out.u64(uncompressed);
        }
        out.bytes(blocks);
        out.into_bytes()
    }

    fn load(bytes: &[u8]) -> Result<XzBlocks> {
        PieceReader::new(bytes).piece()
    }

    /// Found by `cargo fuzz run pieces` (in the blocks' own reader of the time): a cached
    /// length near `u64::MAX` overflowed `at + len`, and a record's size near it overflowed
    /// the padded total.
    #[test]
    fn corrupt_cached_lengths_are_errors_not_overflows() {
        let mut out = PieceWriter::new();
        out.u64(0);
        out.len(0);
        out.u64(u64::MAX);
        assert!(load(&out.into_bytes()).is_err());
        let error = load(&cached(0, &[(u64::MAX - 1, 0)], &[])).unwrap_err();
        assert!(matches!(error, Error::Xz { .. }), "{error}");
    }

    #[test]
    fn cached_records_must_add_up() {
        // Two blocks of 8 padded bytes that decode to 10 and 20 bytes.
        let records = [(6, 10), (8, 20)];
        assert!(load(&cached(30, &records, &[0; 16])).is_ok());
        for bad in [
            cached(31, &records, &[0; 16]),
            cached(30, &records, &[0; 12]),
            cached(10, &records[..1], &[0; 16]),
            cached(0, &[(4, u64::MAX), (4, 1)], &[0; 8]),
        ] {
            let error = load(&bad).unwrap_err();
            assert!(matches!(error, Error::Xz { .. }), "{error}");
        }
        // A count past the bytes left is an error, not an allocation.
        let mut out = PieceWriter::new();
        out.u64(0);
        out.u64(u64::MAX / 16);
        assert!(load(&out.into_bytes()).is_err());
    }
}
