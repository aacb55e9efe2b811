//! The shared-piece cache's deserializers. The first byte picks the piece type; the rest
//! is read as the cache reader does, piece after piece until it is used up or an error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use packagers::bzip2::Bzip2Piece;
use packagers::deflate::DeflatePiece;
use packagers::lzma2::Lzma2Piece;
use packagers::udif::UdifChunk;
use packagers::xz::XzBlocks;

/// Reads pieces off `bytes` with `read` until it fails; checks each `used` is in bounds
/// and that writing the piece back gives the bytes it came from.
fn walk<T>(
    mut bytes: &[u8],
    read: impl Fn(&[u8]) -> packagers::Result<(T, usize)>,
    write: impl Fn(&T, &mut Vec<u8>),
) {
    while !bytes.is_empty() {
        let Ok((piece, used)) = read(bytes) else {
            return;
        };
        assert!(
            used > 0 && used <= bytes.len(),
            "used {used} of {}",
            bytes.len()
        );
        let mut back = Vec::new();
        write(&piece, &mut back);
        assert_eq!(
            back,
            bytes[..used],
            "a piece written back differs from its bytes"
        );
        bytes = &bytes[used..];
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    match selector % 5 {
        0 => walk(rest, Bzip2Piece::read_from, Bzip2Piece::write_to),
        1 => walk(rest, XzBlocks::read_from, XzBlocks::write_to),
        2 => walk(rest, Lzma2Piece::read_from, Lzma2Piece::write_to),
        3 => walk(rest, DeflatePiece::read_from, DeflatePiece::write_to),
        _ => walk(rest, UdifChunk::read_from, UdifChunk::write_to),
    }
});
