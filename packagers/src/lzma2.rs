//! Raw LZMA2 *pieces*: runs of LZMA2 chunks compressed once and concatenated into one
//! LZMA2 stream (a 7z folder), so bytes shared by many archives are compressed only once.
//!
//! # Byte layout
//! An LZMA2 stream is a sequence of chunks ended by a `00` byte (the format is documented
//! in xz's `lzma2_decoder.c` and 7-Zip's `Lzma2Dec.c`). A chunk's control byte says what
//! follows: `01` (uncompressed, dictionary reset) or `02` (uncompressed, no reset), then a
//! 16-bit big-endian size − 1 and the bytes; or `0x80`–`0xFF` (LZMA), then the low bits of
//! the unpacked size, a 16-bit unpacked size − 1, a 16-bit packed size − 1, a properties
//! byte when the control is `0xC0` or above, and the packed bytes. Controls `01` and
//! `0xE0`–`0xFF` reset the dictionary.
//!
//! A [`Lzma2Piece`] is the chunks liblzma's raw encoder writes for one input, without the
//! final `00`. Its first chunk always resets the dictionary, so it decodes the same after
//! any other piece: pieces concatenated in order, then `00`, are one valid LZMA2 stream
//! whose output is the inputs concatenated (`../shared/pieces.md`, recipe L). The stream's
//! dictionary size must be at least the largest piece encoder's.

use liblzma::stream::{Action, Filters, LzmaOptions, Status, Stream};

use crate::piece::{Piece, PieceReader, PieceWriter};
use crate::{Error, Result};

/// Encoder settings of a piece.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lzma2Options {
    /// liblzma preset, 0–9.
    pub preset: u32,
    /// Dictionary size in bytes; also what the 7z coder properties announce.
    pub dict_size: u32,
}

impl Lzma2Options {
    /// What Mozilla's installer archive uses: 7-Zip's `-mx` (level 9: bt4 match finder,
    /// 64-byte fast bytes) with a 32 MiB dictionary (`-m1=LZMA:d25`).
    pub fn installer() -> Lzma2Options {
        Lzma2Options {
            preset: 9,
            dict_size: 32 << 20,
        }
    }

    /// What Mozilla's installer uses for BCJ2's call and jump streams (`-m2=LZMA:d19`): a
    /// 512 KiB dictionary.
    pub fn installer_branches() -> Lzma2Options {
        Lzma2Options {
            preset: 9,
            dict_size: 512 << 10,
        }
    }

    /// The one-byte dictionary property of LZMA2 (as in 7z coder properties and xz filter
    /// flags): the smallest `p` whose size `(2 | (p & 1)) << (p / 2 + 11)` holds the
    /// dictionary.
    pub fn dict_property(self) -> u8 {
        (0u8..40)
            .find(|&p| (2u64 | u64::from(p & 1)) << (p / 2 + 11) >= u64::from(self.dict_size))
            .unwrap_or(40)
    }
}

/// LZMA2 chunks that decode to one input, starting with a dictionary reset, without the
/// stream's end marker.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lzma2Piece {
    chunks: Vec<u8>,
    raw_len: u64,
}

impl Lzma2Piece {
    /// Compresses `data`.
    pub fn encode(data: &[u8], options: Lzma2Options) -> Result<Self> {
        let lzma_error = |e: liblzma::stream::Error| Error::Xz {
            reason: format!("the LZMA2 encoder failed: {e}"),
        };
        let mut lzma = LzmaOptions::new_preset(options.preset).map_err(lzma_error)?;
        // A dictionary larger than the input only costs the encoder memory and time; the
        // stream's dictionary property still covers the larger one.
        let fits = u32::try_from(data.len().next_power_of_two()).unwrap_or(u32::MAX);
        lzma.dict_size(options.dict_size.min(fits.max(4096)));
        let mut filters = Filters::new();
        filters.lzma2(&lzma);
        let mut stream = Stream::new_raw_encoder(&filters).map_err(lzma_error)?;
        // LZMA2 never expands data by more than its chunk headers: 3 bytes per 64 KiB.
        let mut out = Vec::with_capacity(data.len() + data.len() / 16384 + 64);
        loop {
            let consumed = usize::try_from(stream.total_in()).expect("consumed ≤ data.len()");
            if out.len() == out.capacity() {
                out.reserve(1 << 20);
            }
            let status = stream
                .process_vec(&data[consumed..], &mut out, Action::Finish)
                .map_err(lzma_error)?;
            if status == Status::StreamEnd {
                break;
            }
        }
        out.shrink_to_fit();
        Lzma2Piece::from_stream(out, data.len() as u64)
    }

    /// Takes a whole raw LZMA2 stream (ending with `00`) as a piece, after checking that
    /// its chunks walk to that end marker and that it starts with a dictionary reset.
    fn from_stream(mut stream: Vec<u8>, raw_len: u64) -> Result<Self> {
        let bad = |reason: String| Error::Xz {
            reason: format!("the LZMA2 encoder wrote an unexpected stream: {reason}"),
        };
        let mut at = 0;
        let mut first = true;
        loop {
            let control = *stream.get(at).ok_or_else(|| bad("no end marker".into()))?;
            if control == 0 {
                break;
            }
            if first && control != 0x01 && control < 0xE0 {
                return Err(bad(format!(
                    "the first chunk {control:#04x} keeps a dictionary"
                )));
            }
            first = false;
            let field = |i: usize| -> Result<usize> {
                let hi = *stream
                    .get(at + i)
                    .ok_or_else(|| bad("a cut chunk".into()))?;
                let lo = *stream
                    .get(at + i + 1)
                    .ok_or_else(|| bad("a cut chunk".into()))?;
                Ok(usize::from(u16::from_be_bytes([hi, lo])) + 1)
            };
            at += match control {
                0x01 | 0x02 => 3 + field(1)?,
                0x80.. => {
                    let header = if control >= 0xC0 { 6 } else { 5 };
                    header + field(3)?
                }
                _ => return Err(bad(format!("an invalid control byte {control:#04x}"))),
            };
        }
        if at + 1 != stream.len() {
            return Err(bad("bytes after the end marker".into()));
        }
        stream.truncate(at);
        Ok(Lzma2Piece {
            chunks: stream,
            raw_len,
        })
    }

    /// Joins pieces in order: one piece that decodes to their inputs concatenated.
    pub fn concat(pieces: &[Lzma2Piece]) -> Lzma2Piece {
        Lzma2Piece {
            chunks: pieces
                .iter()
                .flat_map(|p| p.chunks.iter().copied())
                .collect(),
            raw_len: pieces.iter().map(|p| p.raw_len).sum(),
        }
    }

    /// The chunks, without an end marker.
    pub fn chunks(&self) -> &[u8] {
        &self.chunks
    }

    /// How many bytes the piece decodes to.
    pub fn raw_len(&self) -> u64 {
        self.raw_len
    }
}

/// Stored through [`crate::piece`]: raw length (`u64`), then the chunks as a byte string.
/// Loading walks the chunks as [`Lzma2Piece::encode`] checks the encoder's output: they must
/// start with a dictionary reset and end exactly at the end of the string.
impl Piece for Lzma2Piece {
    fn save(&self, out: &mut PieceWriter) {
        out.u64(self.raw_len);
        out.bytes(&self.chunks);
    }

    fn load(input: &mut PieceReader<'_>) -> Result<Self> {
        let raw_len = input.u64()?;
        let chunks = input.bytes()?;
        let mut stream = Vec::with_capacity(chunks.len() + END.len());
        stream.extend_from_slice(chunks);
        stream.extend_from_slice(&END);
        Lzma2Piece::from_stream(stream, raw_len)
    }
}

/// The end marker that closes an LZMA2 stream after its pieces.
pub const END: [u8; 1] = [0];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::random_bytes;

    /// Decodes a raw LZMA2 stream with liblzma.
    fn decode(stream: &[u8], options: Lzma2Options) -> Vec<u8> {
        let mut lzma = LzmaOptions::new_preset(options.preset).unwrap();
        lzma.dict_size(options.dict_size);
        let mut filters = Filters::new();
        filters.lzma2(&lzma);
        let mut decoder = Stream::new_raw_decoder(&filters).unwrap();
        let mut out = Vec::with_capacity(stream.len() * 20 + 1024);
        let status = decoder
            .process_vec(stream, &mut out, Action::Finish)
            .unwrap();
        assert_eq!(status, Status::StreamEnd);
        out
    }

    #[test]
    fn pieces_concatenate_into_one_stream() {
        let options = Lzma2Options {
            preset: 1,
            dict_size: 1 << 20,
        };
        let a = [b"hello hello hello ".repeat(500), random_bytes(70_000, 1)].concat();
        let b = b"world ".repeat(3000);
        let mut stream = Vec::new();
        for part in [&a[..], &b[..], &[][..], &a[..100]] {
            stream.extend_from_slice(Lzma2Piece::encode(part, options).unwrap().chunks());
        }
        stream.extend_from_slice(&END);
        let want = [&a[..], &b[..], &a[..100]].concat();
        assert_eq!(decode(&stream, options), want);
    }

    #[test]
    fn dictionary_properties() {
        let prop = |dict_size| {
            Lzma2Options {
                preset: 9,
                dict_size,
            }
            .dict_property()
        };
        assert_eq!(prop(32 << 20), 26);
        assert_eq!(prop(8 << 20), 22);
        assert_eq!(prop(3 << 20), 19);
        assert_eq!(prop(4096), 0);
    }

    #[test]
    fn pieces_round_trip_through_the_cache() {
        let pieces = [
            Lzma2Piece::encode(&random_bytes(10_000, 3), Lzma2Options::installer()).unwrap(),
            Lzma2Piece::encode(b"", Lzma2Options::installer()).unwrap(),
        ];
        let mut out = PieceWriter::new();
        pieces.iter().for_each(|piece| out.piece(piece));
        let bytes = out.into_bytes();
        let mut input = PieceReader::new(&bytes);
        let back: [Lzma2Piece; 2] = [input.piece().unwrap(), input.piece().unwrap()];
        input.finish().unwrap();
        assert_eq!(back, pieces);
        let mut cut = PieceReader::new(&bytes[..bytes.len() - 1]);
        assert_eq!(cut.piece::<Lzma2Piece>().unwrap(), pieces[0]);
        assert!(cut.piece::<Lzma2Piece>().is_err());
    }

    /// Found by `cargo fuzz run pieces` (in the piece's own reader of the time): a cached
    /// length near `u64::MAX` overflowed `16 + len`.
    #[test]
    fn a_corrupt_cached_length_is_an_error_not_an_overflow() {
        let mut out = PieceWriter::new();
        out.u64(0);
        out.u64(u64::MAX);
        let bytes = out.into_bytes();
        assert!(PieceReader::new(&bytes).piece::<Lzma2Piece>().is_err());
    }

    #[test]
    fn cached_chunks_must_walk_from_a_dictionary_reset_to_their_end() {
        let piece = Lzma2Piece::encode(b"abc", Lzma2Options::installer()).unwrap();
        let load = |chunks: &[u8]| {
            let mut out = PieceWriter::new();
            out.u64(3);
            out.bytes(chunks);
            let bytes = out.into_bytes();
            PieceReader::new(&bytes).piece::<Lzma2Piece>()
        };
        assert_eq!(load(piece.chunks()).unwrap(), piece);
        // One uncompressed chunk that resets the dictionary: "abc".
        assert!(load(&[0x01, 0x00, 0x02, b'a', b'b', b'c']).is_ok());
        let chunks = piece.chunks();
        let keeps_dictionary = [&[0x02][..], &chunks[1..]].concat();
        for bad in [
            &chunks[..chunks.len() - 1],
            &[chunks, &END].concat()[..],
            &keeps_dictionary[..],
            &[0x01, 0x00, 0x02, b'a', b'b'][..],
            &[0x01, 0x00, 0x02, b'a', b'b', b'c', 0x03][..],
        ] {
            let error = load(bad).unwrap_err();
            assert!(matches!(error, Error::Xz { .. }), "{bad:02x?}: {error}");
        }
    }
}
