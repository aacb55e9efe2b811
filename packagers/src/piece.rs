//! The byte layout of pre-compressed pieces at rest: how the shared-piece cache stores them.
//!
//! Every piece type ([`Bzip2Piece`](crate::bzip2::Bzip2Piece),
//! [`XzBlocks`](crate::xz::XzBlocks), [`DeflatePiece`](crate::deflate::DeflatePiece),
//! [`Lzma2Piece`](crate::lzma2::Lzma2Piece), [`UdifChunk`](crate::udif::UdifChunk))
//! implements [`Piece`] through the same primitives, so there is one serializer:
//!
//! - integers are little-endian, fixed width (`u8`, `u32`, `u64`);
//! - a length or count is a `u64`;
//! - a byte string is its length, then its bytes;
//! - a list is its count, then each item;
//! - an optional value is a flag byte (0 none, 1 some), then the value.
//!
//! There is no framing beyond that: the reader must know what it reads, and the cache
//! guards the whole with a digest. The reader still never trusts a length: each is checked
//! against the bytes left, so corrupt input is an error, never a panic or a huge allocation.

use crate::{Error, Result};

/// A value the shared-piece cache can store.
pub trait Piece: Sized {
    /// Appends the value to `out`.
    fn save(&self, out: &mut PieceWriter);
    /// Reads a value [`Piece::save`] wrote.
    fn load(input: &mut PieceReader<'_>) -> Result<Self>;
}

/// Serializes pieces into one byte string.
#[derive(Debug, Default)]
pub struct PieceWriter {
    out: Vec<u8>,
}

impl PieceWriter {
    /// An empty writer.
    pub fn new() -> PieceWriter {
        PieceWriter::default()
    }

    /// Appends one byte.
    pub fn u8(&mut self, value: u8) {
        self.out.push(value);
    }

    /// Appends a `u32`.
    pub fn u32(&mut self, value: u32) {
        self.out.extend_from_slice(&value.to_le_bytes());
    }

    /// Appends a `u64`.
    pub fn u64(&mut self, value: u64) {
        self.out.extend_from_slice(&value.to_le_bytes());
    }

    /// Appends a length or a count.
    pub fn len(&mut self, value: usize) {
        self.u64(value as u64);
    }

    /// Appends a byte string: its length, then its bytes.
    pub fn bytes(&mut self, bytes: &[u8]) {
        self.len(bytes.len());
        self.out.extend_from_slice(bytes);
    }

    /// Appends a piece.
    pub fn piece<P: Piece>(&mut self, piece: &P) {
        piece.save(self);
    }

    /// Appends a list of pieces: the count, then each.
    pub fn list<'p, P: Piece + 'p>(&mut self, pieces: impl ExactSizeIterator<Item = &'p P>) {
        self.len(pieces.len());
        pieces.for_each(|p| p.save(self));
    }

    /// Appends an optional piece: a flag byte, then the piece if there is one.
    pub fn option<P: Piece>(&mut self, piece: Option<&P>) {
        match piece {
            None => self.u8(0),
            Some(piece) => {
                self.u8(1);
                piece.save(self);
            }
        }
    }

    /// The bytes written.
    pub fn into_bytes(self) -> Vec<u8> {
        self.out
    }
}

/// Reads what a [`PieceWriter`] wrote.
#[derive(Debug)]
pub struct PieceReader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> PieceReader<'a> {
    /// A reader at the start of `bytes`.
    pub fn new(bytes: &'a [u8]) -> PieceReader<'a> {
        PieceReader { bytes, at: 0 }
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8]> {
        let taken = self
            .bytes
            .get(self.at..)
            .and_then(|rest| rest.get(..len))
            .ok_or_else(|| inconsistent("truncated"))?;
        self.at += len;
        Ok(taken)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut array = [0; N];
        array.copy_from_slice(self.take(N)?);
        Ok(array)
    }

    /// Reads one byte.
    pub fn u8(&mut self) -> Result<u8> {
        Ok(self.array::<1>()?[0])
    }

    /// Reads a `u32`.
    pub fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    /// Reads a `u64`.
    pub fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    /// Reads a length or a count; it can be no more than the bytes left, since every item
    /// takes at least one byte.
    #[expect(
        clippy::len_without_is_empty,
        reason = "reads a length field; it is not the reader's size"
    )]
    pub fn len(&mut self) -> Result<usize> {
        let len = usize::try_from(self.u64()?).map_err(|_| inconsistent("a length"))?;
        if len > self.bytes.len() - self.at {
            return Err(inconsistent("a length past the end"));
        }
        Ok(len)
    }

    /// Reads a byte string.
    pub fn bytes(&mut self) -> Result<&'a [u8]> {
        let len = self.len()?;
        self.take(len)
    }

    /// Reads a piece.
    pub fn piece<P: Piece>(&mut self) -> Result<P> {
        P::load(self)
    }

    /// Reads a list of pieces.
    pub fn list<P: Piece>(&mut self) -> Result<Vec<P>> {
        let count = self.len()?;
        (0..count).map(|_| P::load(self)).collect()
    }

    /// Reads an optional piece.
    pub fn option<P: Piece>(&mut self) -> Result<Option<P>> {
        match self.u8()? {
            0 => Ok(None),
            1 => P::load(self).map(Some),
            _ => Err(inconsistent("an optional value's flag")),
        }
    }

    /// Checks that every byte was read.
    pub fn finish(self) -> Result<()> {
        if self.at == self.bytes.len() {
            Ok(())
        } else {
            Err(inconsistent("bytes left over"))
        }
    }
}

impl<A: Piece, B: Piece> Piece for (A, B) {
    fn save(&self, out: &mut PieceWriter) {
        self.0.save(out);
        self.1.save(out);
    }

    fn load(input: &mut PieceReader<'_>) -> Result<Self> {
        Ok((A::load(input)?, B::load(input)?))
    }
}

impl Piece for u64 {
    fn save(&self, out: &mut PieceWriter) {
        out.u64(*self);
    }

    fn load(input: &mut PieceReader<'_>) -> Result<Self> {
        input.u64()
    }
}

impl Piece for Vec<u8> {
    fn save(&self, out: &mut PieceWriter) {
        out.bytes(self);
    }

    fn load(input: &mut PieceReader<'_>) -> Result<Self> {
        input.bytes().map(<[u8]>::to_vec)
    }
}

impl<P: Piece> Piece for Vec<P> {
    fn save(&self, out: &mut PieceWriter) {
        out.list(self.iter());
    }

    fn load(input: &mut PieceReader<'_>) -> Result<Self> {
        input.list()
    }
}

impl<P: Piece> Piece for Option<P> {
    fn save(&self, out: &mut PieceWriter) {
        out.option(self.as_ref());
    }

    fn load(input: &mut PieceReader<'_>) -> Result<Self> {
        input.option()
    }
}

/// The error of a cache whose bytes do not read back.
pub fn inconsistent(what: &str) -> Error {
    Error::Piece {
        reason: what.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_back() {
        let mut out = PieceWriter::new();
        out.u8(7);
        out.u32(0xdead_beef);
        out.piece(&(1u64, vec![1u8, 2, 3]));
        out.piece(&vec![Some(5u64), None]);
        let bytes = out.into_bytes();
        let mut input = PieceReader::new(&bytes);
        assert_eq!(input.u8().unwrap(), 7);
        assert_eq!(input.u32().unwrap(), 0xdead_beef);
        assert_eq!(input.piece::<(u64, Vec<u8>)>().unwrap(), (1, vec![1, 2, 3]));
        assert_eq!(
            input.piece::<Vec<Option<u64>>>().unwrap(),
            vec![Some(5), None]
        );
        input.finish().unwrap();
    }

    #[test]
    fn corrupt_lengths_are_errors_not_allocations() {
        let mut out = PieceWriter::new();
        out.u64(u64::MAX);
        let bytes = out.into_bytes();
        assert!(PieceReader::new(&bytes).bytes().is_err());
        assert!(PieceReader::new(&bytes).list::<u64>().is_err());
        assert!(PieceReader::new(&bytes[..3]).u64().is_err());
        let mut extra = PieceReader::new(&[1, 2]);
        extra.u8().unwrap();
        assert!(extra.finish().is_err());
    }
}
