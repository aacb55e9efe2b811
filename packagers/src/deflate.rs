//! Raw deflate *pieces*: runs of deflate blocks compressed once and concatenated into one
//! deflate stream (a zip entry), so bytes shared by many archives are compressed once.
//!
//! # Byte layout
//! A deflate stream (RFC 1951) is a sequence of blocks; the last has its `BFINAL` bit set.
//! A [`DeflatePiece`] is what zlib writes for one input with a *full flush* at its end and
//! no final block: its blocks end on a byte boundary (the flush closes them with an empty
//! stored block, `00 00 00 FF FF`) and refer to no byte before the piece (each piece starts
//! with an empty history). Pieces therefore decode the same after any other piece, and
//! pieces in order followed by [`FINAL_BLOCK`] (an empty fixed-Huffman block with `BFINAL`
//! set, `03 00`) form one valid deflate stream whose output is the inputs concatenated.
//! This is how `pigz` joins its parallel blocks.

use flate2::{Compress, Compression, FlushCompress, Status};

use crate::piece::{Piece, PieceReader, PieceWriter};
use crate::{Error, Result};

/// An empty final block: `BFINAL` = 1, `BTYPE` = 01 (fixed Huffman), end-of-block code.
pub const FINAL_BLOCK: [u8; 2] = [0x03, 0x00];

/// Deflate blocks, byte-aligned, not final, that decode to one input on their own.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeflatePiece {
    bytes: Vec<u8>,
    raw_len: u64,
    crc32: u32,
}

impl DeflatePiece {
    /// Compresses `data` at zlib's best level.
    pub fn encode(data: &[u8]) -> Result<Self> {
        let mut compress = Compress::new(Compression::best(), false);
        let mut out = Vec::with_capacity(data.len() / 2 + 1024);
        loop {
            let consumed = usize::try_from(compress.total_in()).expect("input is in memory");
            if out.capacity() - out.len() < 64 {
                out.reserve(out.capacity().max(1 << 16));
            }
            let status = compress
                .compress_vec(&data[consumed..], &mut out, FlushCompress::Full)
                .map_err(|e| Error::Deflate {
                    reason: e.to_string(),
                })?;
            let done = compress.total_in() == data.len() as u64;
            // A full flush is complete when zlib stops with room left in the output.
            if done && status == Status::Ok && out.len() < out.capacity() {
                break;
            }
        }
        out.shrink_to_fit();
        Ok(DeflatePiece {
            bytes: out,
            raw_len: data.len() as u64,
            crc32: crc32fast::hash(data),
        })
    }

    /// The compressed blocks.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// How many bytes the piece decodes to.
    pub fn raw_len(&self) -> u64 {
        self.raw_len
    }

    /// CRC-32 of the bytes it decodes to.
    pub fn crc32(&self) -> u32 {
        self.crc32
    }
}

/// Stored through [`crate::piece`]: raw length (`u64`), CRC-32 (`u32`), then the compressed
/// blocks as a byte string.
impl Piece for DeflatePiece {
    fn save(&self, out: &mut PieceWriter) {
        out.u64(self.raw_len);
        out.u32(self.crc32);
        out.bytes(&self.bytes);
    }

    fn load(input: &mut PieceReader<'_>) -> Result<Self> {
        Ok(DeflatePiece {
            raw_len: input.u64()?,
            crc32: input.u32()?,
            bytes: input.bytes()?.to_vec(),
        })
    }
}

/// The CRC-32, length and compressed length of pieces joined in order (with the final
/// block).
pub fn joined(pieces: &[&DeflatePiece]) -> (u32, u64, u64) {
    let mut crc = crc32fast::Hasher::new();
    let mut raw = 0;
    let mut packed = FINAL_BLOCK.len() as u64;
    for piece in pieces {
        crc.combine(&crc32fast::Hasher::new_with_initial_len(
            piece.crc32,
            piece.raw_len,
        ));
        raw += piece.raw_len;
        packed += piece.bytes.len() as u64;
    }
    (crc.finalize(), raw, packed)
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;
    use crate::testing::random_bytes;

    #[test]
    fn pieces_join_into_one_stream() {
        let parts = [
            b"abc".repeat(10_000),
            random_bytes(200_000, 4),
            Vec::new(),
            b"x".to_vec(),
        ];
        let pieces: Vec<DeflatePiece> = parts
            .iter()
            .map(|p| DeflatePiece::encode(p).unwrap())
            .collect();
        let mut stream: Vec<u8> = pieces.iter().flat_map(|p| p.bytes().to_vec()).collect();
        stream.extend_from_slice(&FINAL_BLOCK);
        let mut out = Vec::new();
        flate2::read::DeflateDecoder::new(&stream[..])
            .read_to_end(&mut out)
            .unwrap();
        let whole = parts.concat();
        assert_eq!(out, whole);
        let refs: Vec<&DeflatePiece> = pieces.iter().collect();
        let mut out = PieceWriter::new();
        out.piece(&pieces[1]);
        let cached = out.into_bytes();
        let mut input = PieceReader::new(&cached);
        assert_eq!(input.piece::<DeflatePiece>().unwrap(), pieces[1]);
        input.finish().unwrap();
        assert!(
            PieceReader::new(&cached[..cached.len() - 1])
                .piece::<DeflatePiece>()
                .is_err()
        );
        assert_eq!(
            joined(&refs),
            (
                crc32fast::hash(&whole),
                whole.len() as u64,
                stream.len() as u64
            )
        );
    }

    /// Found by `cargo fuzz run pieces` (in the piece's own reader of the time): a cached
    /// length near `u64::MAX` overflowed `20 + len`.
    #[test]
    fn a_corrupt_cached_length_is_an_error_not_an_overflow() {
        let mut out = PieceWriter::new();
        out.u64(0);
        out.u32(0);
        out.u64(u64::MAX);
        let bytes = out.into_bytes();
        assert!(PieceReader::new(&bytes).piece::<DeflatePiece>().is_err());
    }
}
