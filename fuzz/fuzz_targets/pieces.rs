//! The shared-piece cache's deserializers. The first byte picks the piece type; the rest
//! is read as the cache reader does (`packagers::piece`), piece after piece until an error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use packagers::bzip2::Bzip2Piece;
use packagers::deflate::DeflatePiece;
use packagers::lzma2::Lzma2Piece;
use packagers::piece::{Piece, PieceReader, PieceWriter};
use packagers::udif::UdifChunk;
use packagers::xz::XzBlocks;

/// Reads pieces of type `T` off `bytes` as the cache reader does, until one fails; checks
/// that writing the pieces back gives the bytes they came from.
fn walk<T: Piece>(bytes: &[u8]) {
    let mut input = PieceReader::new(bytes);
    let mut back = PieceWriter::new();
    while let Ok(piece) = input.piece::<T>() {
        back.piece(&piece);
    }
    let back = back.into_bytes();
    assert!(back.len() <= bytes.len(), "more written back than read");
    assert_eq!(
        back,
        bytes[..back.len()],
        "pieces written back differ from their bytes"
    );
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    match selector % 5 {
        0 => walk::<Bzip2Piece>(rest),
        1 => walk::<XzBlocks>(rest),
        2 => walk::<Lzma2Piece>(rest),
        3 => walk::<DeflatePiece>(rest),
        _ => walk::<UdifChunk>(rest),
    }
});
