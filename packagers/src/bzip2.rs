//! bzip2 *pieces*: data compressed once, then bit-spliced into one bzip2 stream.
//!
//! A bzip2 stream is a bit string, MSB-first within bytes:
//!
//! ```text
//! "BZh9"                       32 bits, byte aligned (level 9: 900 kB blocks)
//! block*                       each: magic 0x314159265359 (48 bits), block CRC (32 bits),
//!                              Huffman-coded data; NOT byte aligned, any bit length
//! 0x177245385090               48 bits, end-of-stream magic
//! combined CRC                 32 bits, big-endian
//! 0 bits                       0–7 bits of padding to a byte boundary
//! ```
//!
//! The combined CRC starts at 0 and folds in every block as
//! `C = rotl32(C, 1) ^ block_crc`. Blocks are independent, so the recipe for splicing is:
//!
//! 1. Cut the input with [`block_ranges`] into chunks that each compress to exactly one block,
//!    compress each chunk alone ([`Bzip2Piece::encode_block`]) and keep its *block bits* (from
//!    bit 32 up to the end-of-stream magic), their bit length, the block count and the
//!    stream's combined CRC `c`.
//! 2. To join pieces, write `BZh9`, every piece's block bits in order (shifted by whatever bit
//!    phase the output is at), the end-of-stream magic, then `C` where `C` starts at 0 and each
//!    piece folds in as `C = rotl32(C, blocks) ^ c`, then zero bits up to a byte boundary
//!    ([`Bzip2Piece::concat`] in memory, [`Bzip2SpliceWriter`] to a writer).
//!
//! The result is ONE stream, which matters: streaming readers (Python's `tarfile` mode
//! `r|bz2`, a single `bz2.BZ2Decompressor`, [`::bzip2::read::BzDecoder`]) stop after the first
//! stream, so concatenating whole streams is not an option.

use std::io::Write;
use std::ops::Range;

use ::bzip2::Compression;
use ::bzip2::write::BzEncoder;

use crate::piece::{Piece, PieceReader, PieceWriter};
use crate::{Error, Result};

/// Stream header for block size level 9.
const STREAM_HEADER: &[u8; 4] = b"BZh9";
/// Magic number that starts every block (48 bits, the BCD digits of pi).
const BLOCK_MAGIC: u64 = 0x3141_5926_5359;
/// Magic number that ends the stream (48 bits, the BCD digits of sqrt(pi)).
const EOS_MAGIC: u64 = 0x1772_4538_5090;
/// Bits of the stream header.
const HEADER_BITS: u64 = 32;
/// Bits of the stream trailer before the padding: end-of-stream magic plus combined CRC.
const TRAILER_BITS: u64 = 48 + 32;
/// Bits of a block header: block magic plus block CRC.
const BLOCK_HEADER_BITS: u64 = 48 + 32;

/// Largest RLE1 length of a chunk that is cut to compress into one block.
///
/// At level 9 libbzip2 (and its port libbz2-rs-sys) closes a block only once
/// `nblock >= nblockMAX = 100000 * 9 - 19 = 899_981`, where `nblock` counts the symbols after
/// the first run-length stage and excludes the run still being collected (≤ 5 symbols). A
/// chunk whose total RLE1 length stays below `nblockMAX` therefore ends as one block when the
/// stream is finished; 899,000 leaves a margin of almost a thousand symbols.
const RLE1_LIMIT: usize = 899_000;

/// How many bytes the splice writer gathers before writing them to its inner writer.
const WRITE_BUFFER: usize = 1 << 20;

/// Ranges of `data` that each compress to exactly one bzip2 block.
///
/// The ranges are contiguous, non-empty and cover `data` exactly (no ranges for empty data).
/// The cut points are a pure function of the bytes: the input is cut greedily so that each
/// range's length after bzip2's first run-length stage (RLE1) is at most a safe fraction of
/// the level-9 block size. RLE1 is computed exactly, with runs restarting at each range start
/// since every range is compressed alone.
pub fn block_ranges(data: &[u8]) -> Vec<Range<usize>> {
    let mut ranges = Vec::with_capacity(data.len() / RLE1_LIMIT + 1);
    let mut start = 0;
    let mut rle1 = Rle1::default();
    for (i, &byte) in data.iter().enumerate() {
        if rle1.len + rle1.growth(byte) > RLE1_LIMIT {
            ranges.push(start..i);
            start = i;
            rle1 = Rle1::default();
        }
        rle1.push(byte);
    }
    if start < data.len() {
        ranges.push(start..data.len());
    }
    ranges
}

/// Exact length of bzip2's first run-length stage (RLE1), one byte at a time.
///
/// RLE1 turns a run of `k` identical bytes (`k ≤ 255`; longer runs are split into runs of at
/// most 255) into the `k` bytes themselves if `k < 4`, else 4 bytes and one count byte.
#[derive(Default)]
struct Rle1 {
    /// RLE1 length of everything pushed so far, including the current run.
    len: usize,
    /// Byte of the current run (meaningless while `run == 0`).
    byte: u8,
    /// Length of the current run; 0 before the first byte.
    run: u32,
}

impl Rle1 {
    /// Whether pushing `byte` starts a new run rather than extending the current one.
    fn starts_run(&self, byte: u8) -> bool {
        self.run == 0 || self.run == 255 || byte != self.byte
    }

    /// How much [`Self::len`] grows if `byte` is pushed.
    fn growth(&self, byte: u8) -> usize {
        if self.starts_run(byte) {
            return 1;
        }
        match self.run {
            1 | 2 => 1,
            // The fourth byte turns 3 literal bytes into 4 bytes plus a count byte.
            3 => 2,
            // Further bytes only raise the count byte.
            _ => 0,
        }
    }

    fn push(&mut self, byte: u8) {
        self.len += self.growth(byte);
        if self.starts_run(byte) {
            self.byte = byte;
            self.run = 1;
        } else {
            self.run += 1;
        }
    }
}

/// RLE1 length of `data` compressed alone.
fn rle1_len(data: &[u8]) -> usize {
    let mut rle1 = Rle1::default();
    data.iter().for_each(|&byte| rle1.push(byte));
    rle1.len
}

/// Compressed bzip2 blocks, ready to be spliced into a stream at any bit position.
///
/// Holds the blocks' bits (without the stream header and trailer), MSB-first from bit 0 of
/// byte 0, with the unused low bits of the last byte zero, plus what the stream trailer needs:
/// the block count and the combined CRC of these blocks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bzip2Piece {
    /// `bit_len.div_ceil(8)` bytes; bits past `bit_len` are zero.
    bits: Vec<u8>,
    /// Number of meaningful bits in `bits`.
    bit_len: u64,
    /// Number of bzip2 blocks in `bits`.
    blocks: u32,
    /// Combined CRC of the blocks, as if they made a stream on their own.
    crc: u32,
    /// Uncompressed length of the blocks' data.
    raw_len: u64,
}

/// Stored through [`crate::piece`]: bit length (`u64`), block count and combined CRC
/// (`u32` each), raw length (`u64`), then the bits as a byte string. The cache's digest
/// guards the bytes; loading checks that the bits are `bit_len.div_ceil(8)` bytes long.
impl Piece for Bzip2Piece {
    fn save(&self, out: &mut PieceWriter) {
        out.u64(self.bit_len);
        out.u32(self.blocks);
        out.u32(self.crc);
        out.u64(self.raw_len);
        out.bytes(&self.bits);
    }

    fn load(input: &mut PieceReader<'_>) -> Result<Self> {
        let bit_len = input.u64()?;
        let blocks = input.u32()?;
        let crc = input.u32()?;
        let raw_len = input.u64()?;
        let bits = input.bytes()?;
        if bits.len() as u64 != bit_len.div_ceil(8) {
            return Err(Error::Bzip2Stream {
                reason: format!(
                    "a cached piece of {bit_len} bits holds {} bytes",
                    bits.len()
                ),
            });
        }
        Ok(Bzip2Piece {
            bits: bits.to_vec(),
            bit_len,
            blocks,
            crc,
            raw_len,
        })
    }
}

impl Bzip2Piece {
    /// The piece of no blocks: compresses empty data, appends nothing.
    fn empty() -> Self {
        Self {
            bits: Vec::new(),
            bit_len: 0,
            blocks: 0,
            crc: 0,
            raw_len: 0,
        }
    }

    /// Compresses one chunk that fits one block into a piece; empty data gives an empty piece.
    ///
    /// Callers pass a range from [`block_ranges`]. A chunk too long for one block, or an
    /// encoder output that is not exactly one level-9 block, is an [`Error::Bzip2Stream`].
    pub fn encode_block(data: &[u8]) -> Result<Self> {
        if data.is_empty() {
            return Ok(Self::empty());
        }
        let rle1 = rle1_len(data);
        if rle1 > RLE1_LIMIT {
            return Err(stream_error(format!(
                "a chunk of {} bytes has an RLE1 length of {rle1}, over the one-block limit of \
                 {RLE1_LIMIT}; chunks must come from block_ranges",
                data.len()
            )));
        }
        let mut encoder =
            BzEncoder::new(Vec::with_capacity(data.len() / 2 + 64), Compression::best());
        encoder.write_all(data)?;
        let stream = encoder.finish()?;
        let raw_len = u64::try_from(data.len()).expect("slice lengths fit in u64");
        one_block_piece(&stream, raw_len)
    }

    /// Compresses any data: each of its [`block_ranges`] with [`Self::encode_block`], in
    /// order, joined with [`Self::concat`].
    pub fn encode(data: &[u8]) -> Result<Self> {
        let pieces = block_ranges(data)
            .into_iter()
            .map(|range| Self::encode_block(&data[range]))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self::concat(&pieces))
    }

    /// Joins pieces, in order, into one piece: their bits appended at the bit level and their
    /// CRCs combined as a stream trailer would.
    pub fn concat(pieces: &[Self]) -> Self {
        let bytes = pieces.iter().map(|piece| piece.bits.len()).sum();
        let mut writer = BitWriter::with_capacity(bytes);
        let mut joined = Self::empty();
        for piece in pieces {
            writer.push_piece(piece);
            joined.crc = fold_crc(joined.crc, piece);
            joined.blocks += piece.blocks;
            joined.raw_len += piece.raw_len;
        }
        joined.bit_len = writer.bit_len();
        joined.bits = writer.into_padded_bytes();
        joined
    }

    /// Length of the compressed blocks in bits.
    pub fn bit_len(&self) -> u64 {
        self.bit_len
    }

    /// Number of bzip2 blocks.
    pub fn blocks(&self) -> u32 {
        self.blocks
    }

    /// Combined CRC of the blocks, as if they formed a stream on their own.
    pub fn crc(&self) -> u32 {
        self.crc
    }

    /// Length of the uncompressed data.
    pub fn raw_len(&self) -> u64 {
        self.raw_len
    }

    /// Compressed size in bytes, rounded up.
    pub fn byte_len(&self) -> u64 {
        self.bit_len.div_ceil(8)
    }

    /// The whole bytes of the bits, then the bits of the last partial byte (if any) as
    /// `(value, count)` with `value` right-aligned.
    fn split_tail(&self) -> (&[u8], (u8, u32)) {
        let whole = usize::try_from(self.bit_len / 8).expect("the bits are in memory");
        let tail_bits = (self.bit_len % 8) as u32;
        match self.bits.get(whole) {
            Some(&last) if tail_bits > 0 => {
                (&self.bits[..whole], (last >> (8 - tail_bits), tail_bits))
            }
            _ => (&self.bits[..whole], (0, 0)),
        }
    }
}

/// Folds a piece's CRC into a combined stream CRC: every block rotates the CRC left by one.
fn fold_crc(combined: u32, piece: &Bzip2Piece) -> u32 {
    // `rotate_left` takes the count modulo 32, as rotating one bit per block does.
    combined.rotate_left(piece.blocks) ^ piece.crc
}

fn stream_error(reason: String) -> Error {
    Error::Bzip2Stream { reason }
}

/// Cuts the block bits out of a complete level-9 stream that must hold exactly one block.
fn one_block_piece(stream: &[u8], raw_len: u64) -> Result<Bzip2Piece> {
    if !stream.starts_with(STREAM_HEADER) {
        return Err(stream_error(format!(
            "the stream does not start with {:?}",
            String::from_utf8_lossy(STREAM_HEADER)
        )));
    }
    let total_bits = u64::try_from(stream.len()).expect("slice lengths fit in u64") * 8;
    if total_bits < HEADER_BITS + BLOCK_HEADER_BITS + TRAILER_BITS {
        return Err(stream_error(format!(
            "a stream of {} bytes is too short to hold a block",
            stream.len()
        )));
    }
    if read_bits(stream, HEADER_BITS, 48) != BLOCK_MAGIC {
        return Err(stream_error("no block magic at bit 32".to_owned()));
    }
    let block_crc = read_bits(stream, HEADER_BITS + 48, 32) as u32;

    // The trailer ends 0–7 zero bits before the end of the stream. The end-of-stream magic has
    // no period of 7 bits or less, so at most one of the 8 candidate positions can match.
    let mut trailers = (0..8).filter_map(|pad| {
        let start = total_bits - TRAILER_BITS - pad;
        let found = read_bits(stream, start, 48) == EOS_MAGIC
            && read_bits(stream, total_bits - pad, pad as u32) == 0;
        found.then(|| (start, read_bits(stream, start + 48, 32) as u32))
    });
    let Some((end, stream_crc)) = trailers.next() else {
        return Err(stream_error(
            "no end-of-stream magic within the last 7 bits of padding".to_owned(),
        ));
    };
    // With one block the combined CRC is that block's CRC: rotl32(0, 1) ^ block_crc.
    if stream_crc != block_crc {
        return Err(stream_error(format!(
            "the stream CRC {stream_crc:#010x} is not the first block's CRC {block_crc:#010x}, \
             so the stream holds more than one block"
        )));
    }
    if end < HEADER_BITS + BLOCK_HEADER_BITS {
        return Err(stream_error(
            "the end-of-stream magic overlaps the block header".to_owned(),
        ));
    }

    let bit_len = end - HEADER_BITS;
    let byte_len = usize::try_from(bit_len.div_ceil(8)).expect("the stream is in memory");
    let mut bits = stream[STREAM_HEADER.len()..][..byte_len].to_vec();
    // Clear the bits of the trailer that share the last byte, keeping the padding invariant.
    let tail_bits = bit_len % 8;
    if let Some(last) = bits.last_mut().filter(|_| tail_bits > 0) {
        *last &= 0xff << (8 - tail_bits);
    }
    Ok(Bzip2Piece {
        bits,
        bit_len,
        blocks: 1,
        crc: block_crc,
        raw_len,
    })
}

/// Reads `count` (≤ 64) bits MSB-first starting at bit `start` of `bytes`.
///
/// Bit by bit: it only ever reads a few hundred bits per block.
fn read_bits(bytes: &[u8], start: u64, count: u32) -> u64 {
    (start..start + u64::from(count)).fold(0, |value, bit| {
        let byte = bytes[usize::try_from(bit / 8).expect("the bytes are in memory")];
        (value << 1) | u64::from((byte >> (7 - bit % 8)) & 1)
    })
}

/// Appends bits MSB-first to a byte buffer.
///
/// Whole bytes go to `bytes`; the 0–7 bits of the partial last byte wait in `partial`.
struct BitWriter {
    bytes: Vec<u8>,
    /// The pending bits, left-aligned; the bits below them are zero.
    partial: u8,
    /// How many bits of `partial` are pending (0–7): the bit phase of the output.
    phase: u32,
}

impl BitWriter {
    fn with_capacity(bytes: usize) -> Self {
        Self {
            bytes: Vec::with_capacity(bytes),
            partial: 0,
            phase: 0,
        }
    }

    fn bit_len(&self) -> u64 {
        u64::try_from(self.bytes.len()).expect("slice lengths fit in u64") * 8
            + u64::from(self.phase)
    }

    /// Appends the low `count` (≤ 64) bits of `value`, most significant first.
    ///
    /// Bit by bit: only used for headers, trailers and the last partial byte of a piece.
    fn push_bits(&mut self, value: u64, count: u32) {
        for shift in (0..count).rev() {
            let bit = ((value >> shift) & 1) as u8;
            self.partial |= bit << (7 - self.phase);
            self.phase += 1;
            if self.phase == 8 {
                self.bytes.push(self.partial);
                self.partial = 0;
                self.phase = 0;
            }
        }
    }

    /// Appends whole bytes at the current bit phase.
    ///
    /// This is the hot loop of splicing: cached pieces are ~100 MB and land at any phase. Off
    /// a byte boundary every source byte straddles two output bytes, so it works on big-endian
    /// u64 words: each output word is the source word shifted right by the phase, with the
    /// pending bits (the previous word's low bits) on top.
    fn push_bytes(&mut self, src: &[u8]) {
        if self.phase == 0 {
            self.bytes.extend_from_slice(src);
            return;
        }
        let shift = self.phase;
        let start = self.bytes.len();
        self.bytes.resize(start + src.len(), 0);
        let (dst_words, dst_rest) = self.bytes[start..].as_chunks_mut::<8>();
        let (src_words, src_rest) = src.as_chunks::<8>();
        let mut carry = self.partial;
        for (dst, src) in dst_words.iter_mut().zip(src_words) {
            let word = u64::from_be_bytes(*src);
            *dst = ((u64::from(carry) << 56) | (word >> shift)).to_be_bytes();
            // The low `shift` bits of the word, left-aligned in a byte (truncation intended).
            carry = (word << (8 - shift)) as u8;
        }
        for (dst, &src) in dst_rest.iter_mut().zip(src_rest) {
            *dst = carry | (src >> shift);
            carry = src << (8 - shift);
        }
        self.partial = carry;
    }

    fn push_piece(&mut self, piece: &Bzip2Piece) {
        let (whole, (tail, tail_bits)) = piece.split_tail();
        self.push_bytes(whole);
        self.push_bits(u64::from(tail), tail_bits);
    }

    /// All the bits, zero-padded to a byte boundary.
    fn into_padded_bytes(mut self) -> Vec<u8> {
        if self.phase > 0 {
            self.bytes.push(self.partial);
        }
        self.bytes
    }
}

/// Writes one bzip2 stream (level-9 header `BZh9`) made of appended pieces.
///
/// Bytes are gathered in a buffer of about a megabyte and written in large slices. Nothing is
/// written on drop: call [`Self::finish`], which completes the stream and reports any error.
/// After an error the stream is incomplete and the writer should be dropped.
pub struct Bzip2SpliceWriter<W: Write> {
    inner: W,
    bits: BitWriter,
    /// Combined CRC of the pieces appended so far.
    crc: u32,
}

impl<W: Write> Bzip2SpliceWriter<W> {
    /// Starts a stream; the header is only buffered, so this does no I/O.
    pub fn new(inner: W) -> Self {
        // Up to a buffer's worth waits between writes, and a chunk of a piece comes on top.
        let mut bits = BitWriter::with_capacity(2 * WRITE_BUFFER + 8);
        bits.push_bytes(STREAM_HEADER);
        Self {
            inner,
            bits,
            crc: 0,
        }
    }

    /// Appends a piece's blocks at the current bit position of the stream.
    pub fn append(&mut self, piece: &Bzip2Piece) -> Result<()> {
        let (whole, (tail, tail_bits)) = piece.split_tail();
        // Shift large pieces a buffer at a time instead of copying them whole.
        for chunk in whole.chunks(WRITE_BUFFER) {
            self.bits.push_bytes(chunk);
            if self.bits.bytes.len() >= WRITE_BUFFER {
                self.write_buffered()?;
            }
        }
        self.bits.push_bits(u64::from(tail), tail_bits);
        self.crc = fold_crc(self.crc, piece);
        Ok(())
    }

    /// Writes the end-of-stream magic, the combined CRC and the padding, flushes the inner
    /// writer and returns it.
    pub fn finish(mut self) -> Result<W> {
        self.bits.push_bits(EOS_MAGIC, 48);
        self.bits.push_bits(u64::from(self.crc), 32);
        let bytes = self.bits.into_padded_bytes();
        self.inner.write_all(&bytes)?;
        self.inner.flush()?;
        Ok(self.inner)
    }

    /// Writes the whole bytes gathered so far; the pending bits of a partial byte stay.
    fn write_buffered(&mut self) -> Result<()> {
        self.inner.write_all(&self.bits.bytes)?;
        self.bits.bytes.clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{random_bytes, run_with_input, tool};

    use std::collections::BTreeSet;
    use std::io::Read;
    use std::process::Command;
    use std::sync::OnceLock;
    use std::time::Instant;

    use ::bzip2::read::BzDecoder;
    use proptest::prelude::*;
    use proptest::sample::Index;

    /// The standard empty stream: header, end-of-stream magic, combined CRC 0, no padding.
    const EMPTY_STREAM: &[u8] = b"BZh9\x17\x72\x45\x38\x50\x90\0\0\0\0";

    #[derive(Clone, Copy, Debug)]
    enum Kind {
        Text,
        Zeros,
        Random,
    }

    /// Deterministic test data of a kind.
    fn content(kind: Kind, len: usize) -> Vec<u8> {
        match kind {
            Kind::Text => (0..)
                .map(|line| format!("msgid \"entry {line}\" = Localized string number {line}\n"))
                .flat_map(String::into_bytes)
                .take(len)
                .collect(),
            Kind::Zeros => vec![0; len],
            Kind::Random => random_bytes(len, 0x9e37_79b9_7f4a_7c15),
        }
    }

    /// Pseudo-random bytes from a xorshift64 generator.
    /// RLE1 length computed run by run, independently of [`Rle1`].
    fn rle1_oracle(data: &[u8]) -> usize {
        data.chunk_by(|a, b| a == b)
            .map(|run| {
                let (full, rest) = (run.len() / 255, run.len() % 255);
                full * 5 + if rest < 4 { rest } else { 5 }
            })
            .sum()
    }

    fn splice<'a>(pieces: impl IntoIterator<Item = &'a Bzip2Piece>) -> Vec<u8> {
        let mut writer = Bzip2SpliceWriter::new(Vec::new());
        for piece in pieces {
            writer
                .append(piece)
                .expect("appending to a Vec cannot fail");
        }
        writer.finish().expect("writing to a Vec cannot fail")
    }

    /// Decodes with the SINGLE-stream decoder: it stops at the end of the first stream.
    fn decode(stream: &[u8]) -> std::io::Result<Vec<u8>> {
        let mut out = Vec::new();
        BzDecoder::new(stream).read_to_end(&mut out)?;
        Ok(out)
    }

    /// while it reads cannot deadlock) and returns its output.
    fn assert_bzip2_cli_accepts(stream: &[u8], what: &str) {
        let output = run_with_input(Command::new("bzip2").arg("-t"), stream);
        assert!(
            output.status.success(),
            "bzip2 -t rejects {what}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// One decompressor object must yield every byte and reach the end of the stream with
    /// nothing left over.
    const PYTHON_ONE_DECOMPRESSOR: &str = "\
import bz2, sys
d = bz2.BZ2Decompressor()
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
            "python3 bz2.BZ2Decompressor rejects {what}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(output.stdout == expected, "python3 decodes {what} wrongly");
    }

    /// Pieces of different content and size, and splices of them in orders that put piece
    /// starts at every bit phase; shared by the tests because encoding takes a while.
    struct Fixture {
        parts: Vec<(Vec<u8>, Bzip2Piece)>,
        splices: Vec<Splice>,
    }

    struct Splice {
        order: Vec<usize>,
        stream: Vec<u8>,
        expected: Vec<u8>,
    }

    fn fixture() -> &'static Fixture {
        static FIXTURE: OnceLock<Fixture> = OnceLock::new();
        FIXTURE.get_or_init(|| {
            let parts: Vec<_> = [
                (Kind::Text, 0),
                (Kind::Random, 1),
                (Kind::Zeros, 7),
                (Kind::Text, 7),
                (Kind::Text, 1000),
                (Kind::Random, 1000),
                (Kind::Zeros, 900_000),
                (Kind::Text, 900_000),
                (Kind::Random, 900_000),
                (Kind::Zeros, 3_000_000),
                (Kind::Random, 3_000_000),
            ]
            .into_iter()
            .map(|(kind, len)| {
                let data = content(kind, len);
                let piece = Bzip2Piece::encode(&data).expect("encode");
                (data, piece)
            })
            .collect();

            // Prefixing k copies of a piece of odd bit length shifts everything after it by
            // k bits, so k = 0..8 with a rotation each puts every piece at several phases.
            let odd = parts
                .iter()
                .position(|(_, piece)| piece.bit_len() % 2 == 1)
                .expect("some piece has an odd bit length");
            let splices = (0..8)
                .map(|k| {
                    let mut order = vec![odd; k];
                    order.extend((0..parts.len()).map(|i| (i + k) % parts.len()));
                    let stream = splice(order.iter().map(|&i| &parts[i].1));
                    let expected = order.iter().flat_map(|&i| parts[i].0.clone()).collect();
                    Splice {
                        order,
                        stream,
                        expected,
                    }
                })
                .collect();
            Fixture { parts, splices }
        })
    }

    #[test]
    fn rle1_counts_runs_exactly() {
        let run = |byte: u8, len: usize| vec![byte; len];
        let cases: Vec<(&str, Vec<u8>, usize)> = vec![
            ("empty", vec![], 0),
            ("one byte", run(b'a', 1), 1),
            ("run of 3 stays literal", run(b'a', 3), 3),
            ("run of 4 gains a count byte", run(b'a', 4), 5),
            ("run of 5", run(b'a', 5), 5),
            ("run of 255 is one run", run(b'a', 255), 5),
            ("run of 256 splits 255 + 1", run(b'a', 256), 6),
            ("run of 259 splits 255 + 4", run(b'a', 259), 10),
            ("distinct bytes", b"abcabc".to_vec(), 6),
            ("two runs of 4", [run(b'a', 4), run(b'b', 4)].concat(), 10),
            ("runs of 2 and 1", b"aab".to_vec(), 3),
        ];
        for (name, data, expected) in cases {
            assert_eq!(rle1_len(&data), expected, "{name}");
            assert_eq!(rle1_oracle(&data), expected, "oracle: {name}");
        }
    }

    #[test]
    fn block_ranges_cover_the_data_within_the_limit() {
        // Runs of exactly 4 are the worst case: RLE1 makes them 25% longer.
        let runs_of_4: Vec<u8> = (0..2_000_000).map(|i| (i / 4 % 251) as u8).collect();
        let runs_of_256: Vec<u8> = (0..2_000_000).map(|i| (i / 256 % 7) as u8).collect();
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("empty", vec![]),
            ("one byte", vec![42]),
            ("10 MB of zeros", content(Kind::Zeros, 10_000_000)),
            ("random", content(Kind::Random, 3_000_000)),
            ("text", content(Kind::Text, 2_000_000)),
            ("runs of 4", runs_of_4),
            ("runs of 256", runs_of_256),
        ];
        for (name, data) in &cases {
            let ranges = block_ranges(data);
            assert_eq!(ranges, block_ranges(data), "{name}: deterministic");
            let mut next = 0;
            for (i, range) in ranges.iter().enumerate() {
                assert_eq!(range.start, next, "{name}: range {i} leaves no gap");
                assert!(!range.is_empty(), "{name}: range {i} is not empty");
                let rle1 = rle1_oracle(&data[range.clone()]);
                assert!(rle1 <= RLE1_LIMIT, "{name}: range {i} RLE1 {rle1}");
                if range.end < data.len() {
                    // Greedy: one more byte would not have fit.
                    let longer = rle1_oracle(&data[range.start..=range.end]);
                    assert!(longer > RLE1_LIMIT, "{name}: range {i} was cut early");
                }
                next = range.end;
            }
            assert_eq!(next, data.len(), "{name}: ranges cover the data");
        }
    }

    #[test]
    fn block_ranges_cut_where_expected() {
        let cases: Vec<(&str, Vec<u8>, usize)> = vec![
            ("empty", vec![], 0),
            ("one byte", vec![1], 1),
            // 10 MB of zeros have an RLE1 length of about 196k: one block.
            ("10 MB of zeros", content(Kind::Zeros, 10_000_000), 1),
            ("random at the limit", content(Kind::Random, RLE1_LIMIT), 1),
            ("3 MB random", content(Kind::Random, 3_000_000), 4),
        ];
        for (name, data, expected) in cases {
            assert_eq!(block_ranges(&data).len(), expected, "{name}");
        }
    }

    #[test]
    fn every_range_compresses_to_one_block() {
        let runs_of_4: Vec<u8> = (0..1_200_000).map(|i| (i / 4 % 251) as u8).collect();
        let cases = [
            ("runs of 4", runs_of_4),
            ("random", content(Kind::Random, 2_000_000)),
            ("zeros", content(Kind::Zeros, 10_000_000)),
        ];
        for (name, data) in &cases {
            for range in block_ranges(data) {
                let piece = Bzip2Piece::encode_block(&data[range.clone()])
                    .unwrap_or_else(|e| panic!("{name} {range:?}: {e}"));
                assert_eq!(piece.blocks(), 1, "{name} {range:?}");
                assert_eq!(piece.raw_len(), range.len() as u64, "{name} {range:?}");
            }
        }
    }

    #[test]
    fn one_block_alone_reproduces_the_encoders_stream() {
        for (kind, len) in [
            (Kind::Random, 1),
            (Kind::Text, 7),
            (Kind::Random, 1000),
            (Kind::Text, 100_000),
            (Kind::Zeros, 500_000),
        ] {
            let data = content(kind, len);
            let mut encoder = BzEncoder::new(Vec::new(), Compression::best());
            encoder.write_all(&data).unwrap();
            let stream = encoder.finish().unwrap();
            let piece = Bzip2Piece::encode_block(&data).unwrap();
            assert_eq!(splice([&piece]), stream, "{kind:?} {len}");
            assert_eq!(piece.byte_len(), piece.bits.len() as u64, "{kind:?} {len}");
        }
    }

    #[test]
    fn encode_block_rejects_chunks_over_one_block() {
        let data = content(Kind::Random, RLE1_LIMIT + 1);
        let error = Bzip2Piece::encode_block(&data).unwrap_err();
        assert!(matches!(error, Error::Bzip2Stream { .. }), "{error}");
    }

    #[test]
    fn streams_that_are_not_one_level_9_block_are_rejected() {
        let compress = |data: &[u8], level| {
            let mut encoder = BzEncoder::new(Vec::new(), level);
            encoder.write_all(data).unwrap();
            encoder.finish().unwrap()
        };
        let small = content(Kind::Text, 10_000);
        let one_block = compress(&small, Compression::best());
        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            (
                "two blocks",
                compress(&content(Kind::Random, 1_000_000), Compression::best()),
                "more than one block",
            ),
            (
                "level 1",
                compress(&small, Compression::fast()),
                "does not start",
            ),
            ("empty stream", EMPTY_STREAM.to_vec(), "too short"),
            (
                "garbage",
                b"BZh9 is not followed by a block at all".to_vec(),
                "block magic",
            ),
            (
                "truncated",
                one_block[..one_block.len() - 1].to_vec(),
                "no end-of-stream magic",
            ),
        ];
        for (name, stream, reason) in cases {
            match one_block_piece(&stream, 0) {
                Err(Error::Bzip2Stream { reason: got }) => {
                    assert!(got.contains(reason), "{name}: {got}")
                }
                other => panic!("{name}: {other:?}"),
            }
        }
    }

    #[test]
    fn pieces_are_zero_padded() {
        for (data, piece) in &fixture().parts {
            assert_eq!(piece.raw_len(), data.len() as u64);
            assert_eq!(piece.bits.len() as u64, piece.byte_len());
            let tail_bits = piece.bit_len() % 8;
            if tail_bits > 0 {
                let last = piece.bits.last().unwrap();
                assert_eq!(last & (0xff >> tail_bits), 0, "{} bytes", data.len());
            }
        }
    }

    #[test]
    fn splices_decode_at_every_bit_phase() {
        let fixture = fixture();
        let mut phases = BTreeSet::new();
        for splice in &fixture.splices {
            let mut bit = HEADER_BITS;
            for &i in &splice.order {
                phases.insert(bit % 8);
                bit += fixture.parts[i].1.bit_len();
            }
            let decoded = decode(&splice.stream).expect("decode the spliced stream");
            assert!(
                decoded == splice.expected,
                "order {:?} decodes to {} bytes, expected {}",
                splice.order,
                decoded.len(),
                splice.expected.len()
            );
        }
        assert_eq!(
            phases,
            (0..8).collect(),
            "piece starts cover every bit phase"
        );
    }

    #[test]
    fn bzip2_cli_accepts_splices() {
        if !tool("bzip2") {
            return;
        }
        for splice in &fixture().splices {
            assert_bzip2_cli_accepts(&splice.stream, &format!("order {:?}", splice.order));
        }
    }

    #[test]
    fn python_reads_splices_with_one_decompressor() {
        if !tool("python3") {
            return;
        }
        for splice in &fixture().splices {
            let what = format!("order {:?}", splice.order);
            assert_python_reads(&splice.stream, &splice.expected, &what);
        }
    }

    #[test]
    fn decoder_checks_the_combined_crc() {
        // Guards the round-trip tests: a wrong combined CRC must not decode.
        let mut piece = Bzip2Piece::encode(&content(Kind::Text, 5000)).unwrap();
        piece.crc ^= 1;
        assert!(decode(&splice([&piece])).is_err());
    }

    #[test]
    fn pieces_round_trip_through_the_cache() {
        let pieces = [
            Bzip2Piece::encode(b"").unwrap(),
            Bzip2Piece::encode(&random_bytes(5000, 7)).unwrap(),
        ];
        let mut out = PieceWriter::new();
        pieces.iter().for_each(|piece| out.piece(piece));
        let bytes = out.into_bytes();
        let mut input = PieceReader::new(&bytes);
        let back: [Bzip2Piece; 2] = [input.piece().unwrap(), input.piece().unwrap()];
        input.finish().unwrap();
        assert_eq!(back, pieces);
        let mut cut = PieceReader::new(&bytes[..bytes.len() - 1]);
        assert_eq!(cut.piece::<Bzip2Piece>().unwrap(), pieces[0]);
        assert!(cut.piece::<Bzip2Piece>().is_err());
    }

    #[test]
    fn cached_bits_must_match_the_bit_length() {
        for (bit_len, bits) in [(9, &[0u8][..]), (8, &[0, 0][..]), (0, &[0][..])] {
            let mut out = PieceWriter::new();
            out.u64(bit_len);
            out.u32(1);
            out.u32(0);
            out.u64(0);
            out.bytes(bits);
            let bytes = out.into_bytes();
            let error = PieceReader::new(&bytes).piece::<Bzip2Piece>().unwrap_err();
            assert!(matches!(error, Error::Bzip2Stream { .. }), "{error}");
        }
    }

    #[test]
    fn concat_equals_splicing_the_parts() {
        let parts: Vec<&Bzip2Piece> = fixture().parts.iter().map(|(_, piece)| piece).collect();
        let all: Vec<Bzip2Piece> = parts.iter().map(|&piece| piece.clone()).collect();
        let joined = Bzip2Piece::concat(&all);
        assert_eq!(splice([&joined]), splice(parts.iter().copied()));
        assert_eq!(
            joined.bit_len(),
            parts.iter().map(|p| p.bit_len()).sum::<u64>()
        );
        assert_eq!(
            joined.blocks(),
            parts.iter().map(|p| p.blocks()).sum::<u32>()
        );
        assert_eq!(
            joined.raw_len(),
            parts.iter().map(|p| p.raw_len()).sum::<u64>()
        );
        // Joining is associative, CRC included.
        for split in [0, 1, 5, all.len()] {
            let (left, right) = all.split_at(split);
            let nested = Bzip2Piece::concat(&[Bzip2Piece::concat(left), Bzip2Piece::concat(right)]);
            assert_eq!(nested, joined, "split at {split}");
        }
    }

    #[test]
    fn encode_is_the_concat_of_its_block_pieces() {
        let data = [
            content(Kind::Text, 700_000),
            content(Kind::Random, 1_500_000),
            content(Kind::Zeros, 300_000),
        ]
        .concat();
        let ranges = block_ranges(&data);
        let blocks: Vec<_> = ranges
            .iter()
            .map(|range| Bzip2Piece::encode_block(&data[range.clone()]).unwrap())
            .collect();
        let piece = Bzip2Piece::encode(&data).unwrap();
        assert_eq!(piece, Bzip2Piece::concat(&blocks));
        assert_eq!(piece.blocks() as usize, ranges.len());
        assert_eq!(decode(&splice([&piece])).unwrap(), data);
    }

    #[test]
    fn empty_streams_are_the_standard_empty_stream() {
        let empty = Bzip2Piece::encode(b"").unwrap();
        let mut encoder = BzEncoder::new(Vec::new(), Compression::best());
        encoder.write_all(b"").unwrap();
        assert_eq!(
            encoder.finish().unwrap(),
            EMPTY_STREAM,
            "what the encoder writes"
        );
        let cases: Vec<(&str, Vec<&Bzip2Piece>)> = vec![
            ("no pieces", vec![]),
            ("one empty piece", vec![&empty]),
            ("three empty pieces", vec![&empty; 3]),
        ];
        let cli = tool("bzip2");
        for (name, pieces) in cases {
            let stream = splice(pieces);
            assert_eq!(stream, EMPTY_STREAM, "{name}");
            assert_eq!(decode(&stream).unwrap(), b"", "{name}");
            if cli {
                assert_bzip2_cli_accepts(&stream, name);
            }
        }
        assert_eq!(
            (
                empty.bit_len(),
                empty.blocks(),
                empty.crc(),
                empty.raw_len(),
                empty.byte_len()
            ),
            (0, 0, 0, 0, 0)
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(16))]

        #[test]
        fn random_splits_splice_back_together(
            data in prop_oneof![
                proptest::collection::vec(any::<u8>(), 0..=65_536),
                // A small alphabet makes runs, which RLE1 shortens.
                proptest::collection::vec(0u8..3, 0..=65_536),
            ],
            cuts in proptest::collection::vec(any::<Index>(), 0..5),
        ) {
            let mut cuts: Vec<usize> = cuts.iter().map(|cut| cut.index(data.len() + 1)).collect();
            cuts.sort_unstable();
            let bounds: Vec<usize> = [0].into_iter().chain(cuts).chain([data.len()]).collect();
            let pieces = bounds
                .windows(2)
                .map(|w| Bzip2Piece::encode(&data[w[0]..w[1]]))
                .collect::<Result<Vec<_>>>()
                .unwrap();
            prop_assert_eq!(decode(&splice(&pieces)).unwrap(), data);
        }
    }

    /// Seconds taken to splice `pieces` into `output`.
    fn time_append<W: Write>(output: W, pieces: &[&Bzip2Piece]) -> f64 {
        let start = Instant::now();
        let mut writer = Bzip2SpliceWriter::new(output);
        for piece in pieces {
            writer.append(piece).unwrap();
        }
        writer.finish().unwrap();
        start.elapsed().as_secs_f64()
    }

    /// Throughput of appending a 100 MB piece at bit phase 3; run with
    /// `cargo test --release -p l10n-repack-packagers bzip2 -- --ignored --nocapture`.
    #[test]
    #[ignore = "prints a measurement, asserts nothing about time"]
    fn append_throughput() {
        let len = 100 << 20;
        // The bits need not decode: this measures the shifting and writing only.
        let big = Bzip2Piece {
            bits: random_bytes(len, 7),
            bit_len: len as u64 * 8,
            blocks: 112,
            crc: 0,
            raw_len: 0,
        };
        let three_bits = Bzip2Piece {
            bits: vec![0b1010_0000],
            bit_len: 3,
            blocks: 0,
            crc: 0,
            raw_len: 0,
        };
        let sink = time_append(std::io::sink(), &[&three_bits, &big]);
        let vec = time_append(Vec::with_capacity(len + 64), &[&three_bits, &big]);
        for (name, seconds) in [("io::sink", sink), ("a Vec", vec)] {
            let rate = len as f64 / seconds / 1e6;
            eprintln!("append 100 MiB at phase 3 into {name}: {rate:.0} MB/s");
        }
    }
}
