//! Property-based round trips for the writers and readers of the `packagers` crate that its
//! unit tests do not already fuzz (the unit tests of `mar.rs`, `bzip2.rs` and `xz.rs` fuzz
//! `MarWriter` → `MarReader` with small members, bzip2 splicing and xz stream assembly).
//! Each property writes random inputs (names from a safe alphabet, contents of random,
//! run-heavy or repetitive bytes up to 64 KiB) with one of our writers and reads them back
//! with an independent reader from our dependencies (the `tar`, `zip`, `flate2`,
//! `liblzma`, `bzip2` and `plist` crates, `zesven`'s 7z header parser and BCJ2 decoder),
//! and with our own reader where the crate has one (`jar::read_entries`, `MarReader`,
//! `udif::read_partitions`, `hfs::read_volume`). The checks are on real equality: names,
//! contents, sizes, CRC-32s, modes, times, alignment of APK entries and the UDIF
//! checksums. Every piece type's cache serializer (`Piece`, through `PieceWriter` and `PieceReader`) is
//! checked to give back
//! the same value and to consume exactly the bytes it wrote.

use packagers::piece::{Piece, PieceReader, PieceWriter};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{Cursor, Read};

use liblzma::stream::{Action, Filters, LzmaOptions, Status, Stream};
use packagers::bzip2::{Bzip2Piece, Bzip2SpliceWriter};
use packagers::deflate::{self, DeflatePiece, FINAL_BLOCK};
use packagers::hfs::{HfsBuilder, HfsEntry, HfsNode};
use packagers::jar::{self, DosTime, EntryHeader, Method, RawEntry, ZipWriter};
use packagers::lzma2::{self, Lzma2Options, Lzma2Piece};
use packagers::mar::{MarReader, MarWriter, ProductInfo};
use packagers::sevenz::{
    self, ATTRIBUTE_ARCHIVE, ATTRIBUTE_DIRECTORY, Coders, EmptyEntry, Folder, Layout, SevenZWriter,
    StreamFile,
};
use packagers::tar::{self as ptar, TarKind};
use packagers::udif::{self, Compression, UdifChunk, UdifWriter};
use packagers::xz::{XzBlocks, XzOptions, XzStreamWriter};
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::sample::{Index, select};

// ---- Strategies and helpers ----

/// Largest content the strategies generate.
const MAX_CONTENT: usize = 64 << 10;

/// Contents of up to `max` bytes: random (incompressible), from a 3-byte alphabet (runs),
/// or a short random unit repeated (text-like, long matches).
fn content(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        vec(any::<u8>(), 0..=max),
        vec(0u8..3, 0..=max),
        (vec(any::<u8>(), 1..48), 0..=max).prop_map(|(unit, len)| unit
            .iter()
            .cycle()
            .take(len)
            .copied()
            .collect()),
    ]
}

/// Non-empty contents.
fn nonempty_content(max: usize) -> impl Strategy<Value = Vec<u8>> {
    content(max).prop_map(|mut c| {
        if c.is_empty() {
            c.push(0x5a);
        }
        c
    })
}

/// x86-like code: random bytes with `call`, `jmp` and `jcc` opcodes sprinkled in, so that
/// BCJ2 has branches to convert.
fn code(max: usize) -> impl Strategy<Value = Vec<u8>> {
    (vec(any::<u8>(), 1..=max), 5usize..40).prop_map(|(mut bytes, step)| {
        for (i, at) in (0..bytes.len().saturating_sub(6)).step_by(step).enumerate() {
            match i % 3 {
                0 => bytes[at] = 0xE8,
                1 => bytes[at] = 0xE9,
                _ => {
                    bytes[at] = 0x0F;
                    bytes[at + 1] = 0x85;
                }
            }
            // Near targets, as real code has.
            bytes[at + 4] = 0;
        }
        bytes
    })
}

/// Slices of `data` cut at the given positions (empty slices included).
fn cut<'a>(data: &'a [u8], cuts: &[Index]) -> Vec<&'a [u8]> {
    let mut at: Vec<usize> = cuts.iter().map(|c| c.index(data.len() + 1)).collect();
    at.sort_unstable();
    let bounds: Vec<usize> = [0].into_iter().chain(at).chain([data.len()]).collect();
    bounds.windows(2).map(|w| &data[w[0]..w[1]]).collect()
}

/// Decodes a raw LZMA2 stream with liblzma; returns the output and the bytes consumed.
fn lzma2_decode(stream: &[u8], dict_size: u32, expected_len: usize) -> (Vec<u8>, usize) {
    let mut options = LzmaOptions::new_preset(6).unwrap();
    options.dict_size(dict_size);
    let mut filters = Filters::new();
    filters.lzma2(&options);
    let mut decoder = Stream::new_raw_decoder(&filters).unwrap();
    let mut out = Vec::with_capacity(expected_len + 1);
    loop {
        let consumed = usize::try_from(decoder.total_in()).unwrap();
        if out.len() == out.capacity() {
            out.reserve(1 << 16);
        }
        let before = (decoder.total_in(), decoder.total_out());
        let status = decoder
            .process_vec(&stream[consumed..], &mut out, Action::Finish)
            .unwrap();
        if status == Status::StreamEnd {
            break;
        }
        assert_ne!(
            before,
            (decoder.total_in(), decoder.total_out()),
            "the LZMA2 decoder made no progress: the stream has no end marker"
        );
    }
    (out, usize::try_from(decoder.total_in()).unwrap())
}

/// The dictionary size a 7z / xz LZMA2 property byte announces.
fn dict_of_property(p: u8) -> u32 {
    if p >= 40 {
        u32::MAX
    } else {
        (2 | u32::from(p & 1)) << (p / 2 + 11)
    }
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's `days_from_civil`, the inverse
/// of what `DosTime::from_unix` computes).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// What the zip crate reads as an entry's time, as seconds since 1970.
fn zip_time_to_unix(t: zip::DateTime) -> u64 {
    let days = days_from_civil(
        i64::from(t.year()),
        i64::from(t.month()),
        i64::from(t.day()),
    );
    let secs = days * 86_400
        + i64::from(t.hour()) * 3600
        + i64::from(t.minute()) * 60
        + i64::from(t.second());
    u64::try_from(secs).unwrap()
}

const DOS_MIN: u64 = 315_532_800; // 1980-01-01 00:00:00
const DOS_END: u64 = 4_354_819_200; // 2108-01-01 00:00:00

/// Writes `items` back to back in a cache format (`write`), then a stray byte, and reads
/// them back (`read`): each must come back equal, consuming exactly the bytes it wrote, and
/// the stray byte must be left alone. Returns what was read.
fn cache_round_trip<T: Piece + PartialEq + std::fmt::Debug>(
    items: &[&T],
) -> Result<Vec<T>, TestCaseError> {
    let mut cache = PieceWriter::new();
    for item in items {
        cache.piece(*item);
    }
    cache.u8(0xEE);
    let bytes = cache.into_bytes();
    let mut input = PieceReader::new(&bytes);
    let mut back = Vec::new();
    for item in items {
        let read: T = input.piece().unwrap();
        prop_assert_eq!(&read, *item);
        back.push(read);
    }
    prop_assert_eq!(input.u8().unwrap(), 0xEE);
    input.finish().unwrap();
    Ok(back)
}

fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes(b[at..at + 2].try_into().unwrap())
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(b[at..at + 4].try_into().unwrap())
}

fn be64(b: &[u8], at: usize) -> u64 {
    u64::from_be_bytes(b[at..at + 8].try_into().unwrap())
}

// ---- tar ----

#[derive(Clone, Debug)]
enum TarMember {
    File(Vec<u8>),
    Dir,
    Symlink(String),
}

/// Paths of 1–300 bytes, some of 90–110 bytes, so that the 100-byte `name` field and GNU
/// long names are crossed.
fn tar_path() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9_][a-z0-9_.-]{0,59}(/[a-z0-9_][a-z0-9_.-]{0,59}){0,4}",
        (90usize..=110, 1usize..=60).prop_map(|(len, dir)| {
            format!("{}/{}", "d".repeat(dir), "f".repeat(len - dir - 1))
        }),
    ]
}

/// Symlink targets of 1–200 bytes, some of 95–105 bytes (the 100-byte `linkname` field).
fn tar_target() -> impl Strategy<Value = String> {
    prop_oneof![
        "(\\.\\./)?[a-z0-9_][a-z0-9_./-]{0,199}",
        (95usize..=105).prop_map(|len| format!("../{}", "t".repeat(len - 3))),
    ]
}

fn tar_members() -> impl Strategy<Value = Vec<(String, TarMember, u32, u64)>> {
    let member = prop_oneof![
        3 => content(16 << 10).prop_map(TarMember::File),
        1 => Just(TarMember::Dir),
        1 => tar_target().prop_map(TarMember::Symlink),
    ];
    btree_map(tar_path(), (member, any::<u32>(), any::<u64>()), 1..8).prop_map(|members| {
        members
            .into_iter()
            .map(|(path, (member, mode, mtime))| match member {
                TarMember::Dir => (format!("{path}/"), TarMember::Dir, mode, mtime),
                other => (path, other, mode, mtime),
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// `tar::append_header` + `padding` + `end_of_archive` → the `tar` crate's reader.
    #[test]
    fn tar_records_read_back_with_the_tar_crate(members in tar_members()) {
        let mut bytes = Vec::new();
        for (path, member, mode, mtime) in &members {
            let kind = match member {
                TarMember::File(data) => TarKind::File { size: data.len() as u64 },
                TarMember::Dir => TarKind::Dir,
                TarMember::Symlink(target) => TarKind::Symlink { target },
            };
            ptar::append_header(&mut bytes, path, kind, *mode, *mtime);
            prop_assert_eq!(bytes.len() % ptar::BLOCK, 0);
            if let TarMember::File(data) = member {
                bytes.extend_from_slice(data);
                bytes.resize(bytes.len() + ptar::padding(data.len() as u64), 0);
            }
            prop_assert_eq!(bytes.len() % ptar::BLOCK, 0);
        }
        bytes.extend_from_slice(&ptar::end_of_archive());
        let mut archive = tar::Archive::new(&bytes[..]);
        let mut read = archive.entries().unwrap();
        for (path, member, mode, mtime) in &members {
            let mut entry = read.next().expect("one entry per member").unwrap();
            let header = entry.header().clone();
            prop_assert_eq!(entry.path_bytes().into_owned(), path.as_bytes().to_vec());
            prop_assert_eq!(header.mode().unwrap(), mode & 0o7777);
            prop_assert_eq!(header.mtime().unwrap(), *mtime);
            prop_assert_eq!(header.uid().unwrap(), 0);
            prop_assert_eq!(header.gid().unwrap(), 0);
            prop_assert_eq!(header.username().unwrap(), Some(""));
            prop_assert_eq!(header.groupname().unwrap(), Some(""));
            let link = entry.link_name_bytes().map(|l| l.into_owned());
            let mut data = Vec::new();
            entry.read_to_end(&mut data).unwrap();
            match member {
                TarMember::File(want) => {
                    prop_assert_eq!(header.entry_type(), tar::EntryType::Regular);
                    prop_assert_eq!(header.size().unwrap(), want.len() as u64);
                    prop_assert_eq!(&data, want);
                    prop_assert_eq!(link, None);
                }
                TarMember::Dir => {
                    prop_assert_eq!(header.entry_type(), tar::EntryType::Directory);
                    prop_assert!(data.is_empty());
                }
                TarMember::Symlink(target) => {
                    prop_assert_eq!(header.entry_type(), tar::EntryType::Symlink);
                    prop_assert!(data.is_empty());
                    prop_assert_eq!(link, Some(target.as_bytes().to_vec()));
                }
            }
        }
        prop_assert!(read.next().is_none(), "no entry after the members");
    }
}

// ---- deflate pieces ----

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// `DeflatePiece`s joined with `FINAL_BLOCK` → flate2's raw inflater, the `zip` crate
    /// (as one zip entry written by `ZipWriter`) and our `jar::read_entries` +
    /// `jar::decompress`; `deflate::joined` → the CRC, sizes and packed size of that
    /// stream; the cache format → the same pieces.
    #[test]
    fn deflate_pieces_join_into_one_stream(
        parts in vec(content(MAX_CONTENT / 2), 0..5),
    ) {
        let pieces: Vec<DeflatePiece> =
            parts.iter().map(|p| DeflatePiece::encode(p).unwrap()).collect();
        let whole = parts.concat();
        for (piece, part) in pieces.iter().zip(&parts) {
            prop_assert_eq!(piece.raw_len(), part.len() as u64);
            prop_assert_eq!(piece.crc32(), crc32fast::hash(part));
            // Each piece is a stream of its own once closed.
            let alone = [piece.bytes(), &FINAL_BLOCK[..]].concat();
            let mut out = Vec::new();
            flate2::read::DeflateDecoder::new(&alone[..]).read_to_end(&mut out).unwrap();
            prop_assert_eq!(&out, part);
        }
        let mut stream: Vec<u8> = pieces.iter().flat_map(|p| p.bytes().to_vec()).collect();
        stream.extend_from_slice(&FINAL_BLOCK);
        let mut inflate = flate2::Decompress::new(false);
        let mut out = Vec::with_capacity(whole.len() + 1);
        let status = inflate
            .decompress_vec(&stream, &mut out, flate2::FlushDecompress::Finish)
            .unwrap();
        prop_assert_eq!(status, flate2::Status::StreamEnd);
        prop_assert_eq!(inflate.total_in(), stream.len() as u64, "bytes after the final block");
        prop_assert_eq!(&out, &whole);

        let refs: Vec<&DeflatePiece> = pieces.iter().collect();
        let (crc, raw, packed) = deflate::joined(&refs);
        prop_assert_eq!(
            (crc, raw, packed),
            (crc32fast::hash(&whole), whole.len() as u64, stream.len() as u64)
        );

        // As one zip entry, data handed over piece by piece.
        let header = EntryHeader {
            name: "joined.bin",
            method: Method::Deflated,
            crc32: crc,
            size: u32::try_from(raw).unwrap(),
            compressed_size: u32::try_from(packed).unwrap(),
            mode: 0o100644,
            time: DosTime::MOZPACK,
        };
        let mut parts_in: Vec<&[u8]> = pieces.iter().map(DeflatePiece::bytes).collect();
        parts_in.push(&FINAL_BLOCK);
        let mut writer = ZipWriter::new(Vec::new());
        writer.append(&header, &parts_in).unwrap();
        let (zip_bytes, size) = writer.finish().unwrap();
        prop_assert_eq!(size, zip_bytes.len() as u64);
        let mut archive = zip::ZipArchive::new(Cursor::new(&zip_bytes)).unwrap();
        let mut file = archive.by_index(0).unwrap();
        prop_assert_eq!(file.compression(), zip::CompressionMethod::Deflated);
        let mut back = Vec::new();
        file.read_to_end(&mut back).unwrap();
        prop_assert_eq!(&back, &whole);
        drop(file);
        let entries = jar::read_entries(&zip_bytes).unwrap();
        prop_assert_eq!(entries.len(), 1);
        prop_assert_eq!(&zip_bytes[entries[0].data.clone()], &stream[..]);
        prop_assert_eq!(
            jar::decompress(&entries[0], &zip_bytes[entries[0].data.clone()]).unwrap(),
            whole
        );

        let items: Vec<&DeflatePiece> = pieces.iter().collect();
        cache_round_trip(&items)?;
    }
}

// ---- LZMA2 pieces ----

fn lzma2_options() -> impl Strategy<Value = Lzma2Options> {
    (
        0u32..=9,
        select(vec![4096u32, 1 << 16, 3 << 19, 1 << 20, 32 << 20]),
    )
        .prop_map(|(preset, dict_size)| Lzma2Options { preset, dict_size })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// `Lzma2Piece`s concatenated with `lzma2::END` → liblzma's raw LZMA2 decoder, with
    /// the dictionary the 7z property byte announces; `Lzma2Piece::concat` → the same
    /// chunks; the cache format → the same pieces.
    #[test]
    fn lzma2_pieces_concatenate_into_one_stream(
        parts in vec(content(MAX_CONTENT / 2), 0..5),
        options in lzma2_options(),
    ) {
        let pieces: Vec<Lzma2Piece> =
            parts.iter().map(|p| Lzma2Piece::encode(p, options).unwrap()).collect();
        let whole = parts.concat();
        let property = options.dict_property();
        prop_assert!(dict_of_property(property) >= options.dict_size);
        for (piece, part) in pieces.iter().zip(&parts) {
            prop_assert_eq!(piece.raw_len(), part.len() as u64);
            let alone = [piece.chunks(), &lzma2::END[..]].concat();
            let (out, used) = lzma2_decode(&alone, dict_of_property(property), part.len());
            prop_assert_eq!(&out, part);
            prop_assert_eq!(used, alone.len());
        }
        let mut stream: Vec<u8> = pieces.iter().flat_map(|p| p.chunks().to_vec()).collect();
        stream.extend_from_slice(&lzma2::END);
        let (out, used) = lzma2_decode(&stream, dict_of_property(property), whole.len());
        prop_assert_eq!(&out, &whole);
        prop_assert_eq!(used, stream.len());

        let joined = Lzma2Piece::concat(&pieces);
        prop_assert_eq!(joined.raw_len(), whole.len() as u64);
        prop_assert_eq!(joined.chunks(), &stream[..stream.len() - 1]);

        let items: Vec<&Lzma2Piece> = pieces.iter().chain([&joined]).collect();
        cache_round_trip(&items)?;
    }
}

// ---- bzip2 and xz cache formats ----

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// `Bzip2Piece` cache format → the same pieces (random ones and their concat), which
    /// still splice (`Bzip2SpliceWriter`) into a stream the `bzip2` crate decodes.
    #[test]
    fn bzip2_pieces_round_trip_through_the_cache_format(
        data in content(MAX_CONTENT),
        cuts in vec(any::<Index>(), 0..4),
    ) {
        let parts = cut(&data, &cuts);
        let mut pieces: Vec<Bzip2Piece> =
            parts.iter().map(|p| Bzip2Piece::encode(p).unwrap()).collect();
        pieces.push(Bzip2Piece::concat(&pieces));
        let items: Vec<&Bzip2Piece> = pieces.iter().collect();
        let mut back = cache_round_trip(&items)?;
        let joined = back.pop().unwrap();
        prop_assert_eq!(joined.raw_len(), data.len() as u64);
        for spliced in [&back[..], std::slice::from_ref(&joined)] {
            let mut writer = Bzip2SpliceWriter::new(Vec::new());
            for piece in spliced {
                writer.append(piece).unwrap();
            }
            let stream = writer.finish().unwrap();
            let mut out = Vec::new();
            bzip2::read::BzDecoder::new(&stream[..]).read_to_end(&mut out).unwrap();
            prop_assert_eq!(&out, &data);
        }
    }

    /// `XzBlocks` cache format → the same blocks (random ones and their concat), which
    /// still make (`XzStreamWriter`) one stream liblzma's xz decoder reads.
    #[test]
    fn xz_blocks_round_trip_through_the_cache_format(
        data in content(MAX_CONTENT),
        cuts in vec(any::<Index>(), 0..4),
        settings in vec((0u32..=3, any::<bool>(), any::<bool>()), 5),
    ) {
        let parts = cut(&data, &cuts);
        let mut pieces: Vec<XzBlocks> = parts
            .iter()
            .zip(&settings)
            .map(|(p, &(preset, extreme, x86_bcj))| {
                XzBlocks::encode(p, XzOptions { preset, extreme, x86_bcj }).unwrap()
            })
            .collect();
        pieces.push(XzBlocks::concat(&pieces));
        let items: Vec<&XzBlocks> = pieces.iter().collect();
        let mut back = cache_round_trip(&items)?;
        let joined = back.pop().unwrap();
        prop_assert_eq!(joined.raw_len(), data.len() as u64);
        prop_assert_eq!(
            joined.block_count(),
            back.iter().map(XzBlocks::block_count).sum::<usize>()
        );
        for assembled in [&back[..], std::slice::from_ref(&joined)] {
            let mut writer = XzStreamWriter::new(Vec::new());
            for piece in assembled {
                writer.append(piece).unwrap();
            }
            let (stream, len) = writer.finish().unwrap();
            prop_assert_eq!(len, stream.len() as u64);
            let mut out = Vec::new();
            liblzma::read::XzDecoder::new(&stream[..]).read_to_end(&mut out).unwrap();
            prop_assert_eq!(&out, &data);
        }
    }
}

// ---- MAR with streamed xz members ----

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// `MarWriter::append_with` streaming xz members (`XzStreamWriter` into the MAR's
    /// writer), as complete updates are written → `MarReader` (product information,
    /// offsets, lengths, flags, size) and liblzma's xz decoder (the members' contents).
    #[test]
    fn mar_members_streamed_as_xz_read_back(
        channel in "[a-z0-9][a-z0-9_.-]{0,62}",
        version in "[0-9][0-9a-z.]{0,30}",
        members in btree_map(
            "[a-z0-9_][a-z0-9_.-]{0,11}(/[a-z0-9_][a-z0-9_.-]{0,11}){0,3}",
            (0u32..=0o777, content(MAX_CONTENT / 2), 0u32..=2, any::<bool>()),
            1..6,
        ),
    ) {
        let info = ProductInfo { channel, version };
        let mut writer = MarWriter::new(Cursor::new(Vec::new()), &info).unwrap();
        let mut lengths = Vec::new();
        for (name, (flags, data, preset, x86_bcj)) in &members {
            let options = XzOptions { preset: *preset, extreme: false, x86_bcj: *x86_bcj };
            let piece = XzBlocks::encode(data, options).unwrap();
            let mut length = 0;
            writer
                .append_with(name, *flags, |w| {
                    let mut xz = XzStreamWriter::new(&mut *w);
                    xz.append(&piece).map_err(std::io::Error::other)?;
                    length = xz.finish().map_err(std::io::Error::other)?.1;
                    Ok(())
                })
                .unwrap();
            lengths.push(length);
        }
        let bytes = writer.finish().unwrap().into_inner();
        let mut reader = MarReader::new(Cursor::new(&bytes)).unwrap();
        prop_assert_eq!(reader.product_info(), Some(&info));
        prop_assert!(reader.signatures().is_empty());
        prop_assert_eq!(reader.total_size(), bytes.len() as u64);
        let entries = reader.entries().to_vec();
        prop_assert_eq!(entries.len(), members.len());
        let mut offset = entries[0].offset;
        for ((entry, (name, (flags, data, ..))), length) in
            entries.iter().zip(&members).zip(&lengths)
        {
            prop_assert_eq!(&entry.name, name);
            prop_assert_eq!(entry.flags, *flags);
            prop_assert_eq!(entry.offset, offset);
            prop_assert_eq!(u64::from(entry.length), *length);
            offset += entry.length;
            let member = reader.read(entry).unwrap();
            let mut out = Vec::new();
            liblzma::read::XzDecoder::new(&member[..]).read_to_end(&mut out).unwrap();
            prop_assert_eq!(&out, data);
        }
    }
}

// ---- jars and zips ----

/// Jar entry names; `é` and `ß` make some names non-ASCII (the UTF-8 flag).
fn jar_name() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9_éß][a-zA-Z0-9_.éß-]{0,15}(/[a-zA-Z0-9_éß][a-zA-Z0-9_.éß-]{0,15}){0,3}"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// `RawEntry::compress` + `jar::write_jar` → the `zip` crate (names, contents with
    /// their CRC-32 checked, methods, modes, mozpack's fixed time) and our
    /// `jar::read_entries` + `jar::decompress`.
    #[test]
    fn jars_read_back_with_the_zip_crate_and_our_reader(
        items in btree_map(
            jar_name(),
            (content(MAX_CONTENT / 4), any::<bool>(), 0u32..=0o777),
            1..8,
        ),
    ) {
        let items: Vec<(String, Vec<u8>, Method, u32)> = items
            .into_iter()
            .map(|(name, (data, deflate, perm))| {
                let method = if deflate { Method::Deflated } else { Method::Stored };
                (name, data, method, 0o100000 | perm)
            })
            .collect();
        let mut bufs = vec![Vec::new(); items.len()];
        let entries: Vec<RawEntry<'_>> = items
            .iter()
            .zip(bufs.iter_mut())
            .map(|((name, data, method, mode), buf)| {
                RawEntry::compress(name, data, *method, *mode, buf).unwrap()
            })
            .collect();
        for (entry, (_, data, method, _)) in entries.iter().zip(&items) {
            prop_assert_eq!(entry.crc32, crc32fast::hash(data));
            prop_assert_eq!(entry.size as usize, data.len());
            // Deflated only when it is smaller, as mozpack does.
            match entry.method {
                Method::Deflated => {
                    prop_assert_eq!(*method, Method::Deflated);
                    prop_assert!(entry.data.len() < data.len());
                }
                Method::Stored => prop_assert_eq!(entry.data, &data[..]),
            }
        }
        let bytes = jar::write_jar(&entries).unwrap();

        let mut archive = zip::ZipArchive::new(Cursor::new(&bytes)).unwrap();
        prop_assert_eq!(archive.len(), items.len());
        for (i, (entry, (name, data, _, mode))) in entries.iter().zip(&items).enumerate() {
            let mut file = archive.by_index(i).unwrap();
            prop_assert_eq!(file.name().unwrap().into_owned(), name.clone());
            prop_assert_eq!(file.size(), data.len() as u64);
            prop_assert_eq!(file.crc32(), crc32fast::hash(data));
            prop_assert_eq!(file.unix_mode(), Some(*mode));
            let method = match entry.method {
                Method::Stored => zip::CompressionMethod::Stored,
                Method::Deflated => zip::CompressionMethod::Deflated,
            };
            prop_assert_eq!(file.compression(), method);
            let time = file.last_modified().unwrap();
            prop_assert_eq!(
                (time.year(), time.month(), time.day(), time.hour(), time.minute()),
                (2010, 1, 1, 0, 0)
            );
            let mut back = Vec::new();
            file.read_to_end(&mut back).unwrap();
            prop_assert_eq!(&back, data);
        }

        let infos = jar::read_entries(&bytes).unwrap();
        prop_assert_eq!(infos.len(), items.len());
        for (info, (entry, (name, data, _, mode))) in infos.iter().zip(entries.iter().zip(&items)) {
            prop_assert_eq!(&info.name, name);
            prop_assert_eq!(info.method, entry.method);
            prop_assert_eq!(info.crc32, crc32fast::hash(data));
            prop_assert_eq!(info.size as usize, data.len());
            prop_assert_eq!(info.mode, *mode);
            prop_assert_eq!(&bytes[info.data.clone()], entry.data);
            prop_assert_eq!(&jar::decompress(info, &bytes[info.data.clone()]).unwrap(), data);
        }
    }

    /// `ZipWriter` (entries handed over in several parts, any time) → the `zip` crate and
    /// our reader; `DosTime::from_unix` → the date and time the `zip` crate decodes, checked
    /// against an independent civil-date computation.
    #[test]
    fn zip_writer_streams_read_back(
        items in btree_map(
            jar_name(),
            (
                content(MAX_CONTENT / 4),
                any::<bool>(),
                0u32..=0o777,
                prop_oneof![0..DOS_MIN, DOS_MIN..DOS_END, DOS_END..=u64::MAX],
                vec(any::<Index>(), 0..4),
            ),
            1..8,
        ),
    ) {
        let mut writer = ZipWriter::new(Vec::new());
        let mut bufs = vec![Vec::new(); items.len()];
        let mut offsets = Vec::new();
        let mut written = Vec::new();
        for ((name, (data, deflate, perm, secs, cuts)), buf) in items.iter().zip(bufs.iter_mut()) {
            let method = if *deflate { Method::Deflated } else { Method::Stored };
            let entry = RawEntry::compress(name, data, method, 0o100000 | perm, buf).unwrap();
            let header = EntryHeader { time: DosTime::from_unix(*secs), ..entry.header().unwrap() };
            offsets.push(writer.offset());
            writer.append(&header, &cut(entry.data, cuts)).unwrap();
            written.push((entry.method, entry.data.to_vec()));
        }
        let (bytes, size) = writer.finish().unwrap();
        prop_assert_eq!(size, bytes.len() as u64);

        let mut archive = zip::ZipArchive::new(Cursor::new(&bytes)).unwrap();
        prop_assert_eq!(archive.len(), items.len());
        for (i, (name, (data, _, perm, secs, _))) in items.iter().enumerate() {
            let mut file = archive.by_index(i).unwrap();
            prop_assert_eq!(file.name().unwrap().into_owned(), name.clone());
            prop_assert_eq!(file.header_start(), offsets[i]);
            prop_assert_eq!(file.unix_mode(), Some(0o100000 | perm));
            let time = zip_time_to_unix(file.last_modified().unwrap());
            let want = if *secs < DOS_MIN {
                DOS_MIN
            } else if *secs >= DOS_END {
                DOS_END - 2
            } else {
                secs - secs % 2
            };
            prop_assert_eq!(time, want, "DOS time of {}", secs);
            let mut back = Vec::new();
            file.read_to_end(&mut back).unwrap();
            prop_assert_eq!(&back, data);
        }
        drop(archive);
        let infos = jar::read_entries(&bytes).unwrap();
        for (info, ((name, (data, ..)), (method, raw))) in infos.iter().zip(items.iter().zip(&written)) {
            prop_assert_eq!(&info.name, name);
            prop_assert_eq!(info.method, *method);
            prop_assert_eq!(&bytes[info.data.clone()], &raw[..]);
            prop_assert_eq!(&jar::decompress(info, &raw[..]).unwrap(), data);
        }
    }
}

// ---- APK ----

fn apk_name() -> impl Strategy<Value = String> {
    prop_oneof![
        "lib/(arm64-v8a|armeabi-v7a|x86_64)/lib[a-z0-9_]{1,12}\\.so",
        "(assets|res/raw|res/xml)/[a-z0-9_]{1,12}(\\.png|\\.xml|\\.ja|\\.bin|)",
        "[a-zA-Z0-9_]{1,12}(\\.dex|\\.xml|\\.arsc|)",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// `ApkWriter` → the `zip` crate (contents with CRC-32 checks; every stored entry's
    /// data at a multiple of 4, stored `.so` at a multiple of 4096; the alignment extra
    /// field `0xd935` in the local header) and our `jar::read_entries` + `decompress`.
    #[test]
    fn apks_are_aligned_and_read_back(
        items in btree_map(
            apk_name(),
            (content(MAX_CONTENT / 4), any::<bool>(), vec(any::<Index>(), 0..3)),
            1..8,
        ),
    ) {
        let mut writer = packagers::apk::ApkWriter::new(Vec::new());
        let mut bufs = vec![Vec::new(); items.len()];
        let mut methods = Vec::new();
        for ((name, (data, deflate, cuts)), buf) in items.iter().zip(bufs.iter_mut()) {
            let method = if *deflate { Method::Deflated } else { Method::Stored };
            let entry = RawEntry::compress(name, data, method, 0o100644, buf).unwrap();
            writer.append(&entry.header().unwrap(), &cut(entry.data, cuts)).unwrap();
            methods.push(entry.method);
        }
        let (bytes, size) = writer.finish().unwrap();
        prop_assert_eq!(size, bytes.len() as u64);
        prop_assert_eq!(packagers::apk::signing_block(&bytes), None);

        let mut archive = zip::ZipArchive::new(Cursor::new(&bytes)).unwrap();
        prop_assert_eq!(archive.len(), items.len());
        let mut starts = Vec::new();
        for (i, ((name, (data, ..)), method)) in items.iter().zip(&methods).enumerate() {
            let mut file = archive.by_index(i).unwrap();
            prop_assert_eq!(file.name().unwrap().into_owned(), name.clone());
            let mut back = Vec::new();
            file.read_to_end(&mut back).unwrap();
            prop_assert_eq!(&back, data);
            let start = file.data_start().unwrap();
            let header = usize::try_from(file.header_start()).unwrap();
            drop(file);
            // The local header, read by hand: its extra field is the alignment padding.
            let local = &bytes[header..];
            prop_assert_eq!(&local[..4], b"PK\x03\x04");
            let name_len = usize::from(le16(local, 26));
            let extra_len = usize::from(le16(local, 28));
            prop_assert_eq!(start, (header + 30 + name_len + extra_len) as u64);
            let want = match method {
                Method::Deflated => 1,
                Method::Stored if name.ends_with(".so") => 4096,
                Method::Stored => 4,
            };
            prop_assert_eq!(packagers::apk::alignment(name, *method), want);
            prop_assert_eq!(start % u64::from(want), 0, "{} at {}", name, start);
            if want > 1 {
                let extra = &local[30 + name_len..][..extra_len];
                prop_assert_eq!(le16(extra, 0), 0xd935);
                prop_assert_eq!(usize::from(le16(extra, 2)), extra_len - 4);
                prop_assert_eq!(le16(extra, 4), want);
                prop_assert!(extra[6..].iter().all(|&b| b == 0));
                prop_assert!(extra_len < 6 + usize::from(want));
            } else {
                prop_assert_eq!(extra_len, 0);
            }
            starts.push(start);
        }
        let infos = jar::read_entries(&bytes).unwrap();
        prop_assert_eq!(infos.len(), items.len());
        for ((info, (name, (data, ..))), start) in infos.iter().zip(&items).zip(&starts) {
            prop_assert_eq!(&info.name, name);
            prop_assert_eq!(info.data.start as u64, *start);
            prop_assert_eq!(&jar::decompress(info, &bytes[info.data.clone()]).unwrap(), data);
        }
    }
}

// ---- 7z ----

/// One folder of a generated archive: its files and whether it goes through BCJ2.
#[derive(Clone, Debug)]
struct SevenZFolder {
    files: Vec<(String, Vec<u8>, u32)>,
    bcj2: bool,
    cuts: Vec<Index>,
}

fn sevenz_folders() -> impl Strategy<Value = Vec<SevenZFolder>> {
    let file = (
        prop_oneof![nonempty_content(MAX_CONTENT / 4), code(MAX_CONTENT / 4)],
        select(vec![ATTRIBUTE_ARCHIVE, ATTRIBUTE_ARCHIVE | 1, 0x80, 0x2020]),
    );
    (
        btree_map(
            "[a-z0-9_][a-z0-9_.-]{0,11}(/[a-z0-9_][a-z0-9_.-]{0,11}){0,2}",
            file,
            0..7,
        ),
        vec((any::<bool>(), vec(any::<Index>(), 0..3)), 1..4),
        vec(any::<Index>(), 0..3),
    )
        .prop_map(|(files, kinds, splits)| {
            let files: Vec<(String, Vec<u8>, u32)> =
                files.into_iter().map(|(n, (d, a))| (n, d, a)).collect();
            // Consecutive files per folder, no folder empty.
            let mut bounds: BTreeSet<usize> =
                splits.iter().map(|s| s.index(files.len().max(1))).collect();
            bounds.insert(0);
            bounds.insert(files.len());
            let bounds: Vec<usize> = bounds.into_iter().collect();
            bounds
                .windows(2)
                .filter(|w| w[0] < w[1])
                .zip(kinds.iter().cycle())
                .map(|(w, (bcj2, cuts))| SevenZFolder {
                    files: files[w[0]..w[1]].to_vec(),
                    bcj2: *bcj2,
                    cuts: cuts.clone(),
                })
                .collect()
        })
}

/// The packed bytes of data compressed as LZMA2 pieces cut at `cuts`, with the end marker.
fn lzma2_stream(data: &[u8], cuts: &[Index], options: Lzma2Options) -> Vec<u8> {
    let mut out = Vec::new();
    for part in cut(data, cuts) {
        out.extend_from_slice(Lzma2Piece::encode(part, options).unwrap().chunks());
    }
    out.extend_from_slice(&lzma2::END);
    out
}

/// Decodes out-stream `out` of a folder as `zesven` parsed it: LZMA2 coders with liblzma,
/// BCJ2 with `zesven`'s decoder, inputs followed through the bind pairs.
fn unpack_out_stream(
    folder: &zesven::format::streams::Folder,
    out: usize,
    packed: &[&[u8]],
) -> Vec<u8> {
    let offsets = folder.coder_stream_offsets();
    let (coder_index, &(first_in, _)) = offsets
        .iter()
        .enumerate()
        .find(|(i, (_, first_out))| {
            (*first_out..*first_out + folder.coders[*i].num_out_streams as usize).contains(&out)
        })
        .expect("a coder makes every out stream");
    let coder = &folder.coders[coder_index];
    let inputs: Vec<Vec<u8>> = (first_in..first_in + coder.num_in_streams as usize)
        .map(|i| match folder.find_bind_pair_for_in_stream(i as u64) {
            Some(bind) => unpack_out_stream(folder, bind.out_index as usize, packed),
            None => packed[folder.find_packed_stream_index(i as u64).expect("packed")].to_vec(),
        })
        .collect();
    let size = usize::try_from(folder.unpack_sizes[out]).unwrap();
    match coder.method_id.as_slice() {
        [0x21] => {
            let property = coder.properties.as_ref().expect("an LZMA2 property")[0];
            let (data, used) = lzma2_decode(&inputs[0], dict_of_property(property), size);
            assert_eq!(used, inputs[0].len(), "bytes after the LZMA2 end marker");
            data
        }
        [0x03, 0x03, 0x01, 0x1B] => {
            let [main, call, jump, range] = [&inputs[0], &inputs[1], &inputs[2], &inputs[3]];
            let mut decoder =
                zesven::codec::bcj2::Bcj2Decoder::new(&main[..], &call[..], &jump[..], &range[..])
                    .unwrap();
            let mut data = vec![0; size];
            decoder.read_exact(&mut data).unwrap();
            data
        }
        other => panic!("unexpected coder {other:02x?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// `SevenZWriter` fed LZMA2 pieces (plain folders and BCJ2 + LZMA2 folders, streams
    /// from `sevenz::bcj2_encode`) → `zesven` (`Archive::open`: names, sizes, CRC-32s,
    /// attributes, times, directories; its header parser for the folders) and the packed
    /// streams decoded by liblzma and `zesven`'s BCJ2 decoder.
    #[test]
    fn sevenz_archives_read_back_with_zesven(
        folders in sevenz_folders(),
        empty in btree_map("[A-Z][a-z0-9_]{0,11}(/[a-z0-9_]{1,8})?", any::<bool>(), 0..4),
        options in lzma2_options(),
        mtime in 0u64..(1 << 33),
    ) {
        let options = Lzma2Options { preset: options.preset.min(6), ..options };
        let dict_property = options.dict_property();
        let mut layout = Layout { mtime, ..Layout::default() };
        let mut packed: Vec<Vec<u8>> = Vec::new();
        for folder in &folders {
            let data: Vec<u8> = folder.files.iter().flat_map(|f| f.1.clone()).collect();
            let files = folder
                .files
                .iter()
                .map(|(name, data, attributes)| StreamFile {
                    name: name.clone(),
                    size: data.len() as u64,
                    crc32: crc32fast::hash(data),
                    attributes: *attributes,
                })
                .collect();
            let (coders, streams) = if folder.bcj2 {
                let bcj2 = sevenz::bcj2_encode(&data);
                let coders = Coders::Bcj2Lzma2 {
                    dict_properties: [dict_property; 3],
                    stream_sizes: [
                        bcj2.main.len() as u64,
                        bcj2.call.len() as u64,
                        bcj2.jump.len() as u64,
                    ],
                };
                let streams = vec![
                    lzma2_stream(&bcj2.main, &folder.cuts, options),
                    lzma2_stream(&bcj2.call, &[], options),
                    lzma2_stream(&bcj2.jump, &[], options),
                    bcj2.selector,
                ];
                (coders, streams)
            } else {
                let coders = Coders::Lzma2 { dict_property };
                (coders, vec![lzma2_stream(&data, &folder.cuts, options)])
            };
            layout.folders.push(Folder {
                coders,
                packed_sizes: streams.iter().map(|s| s.len() as u64).collect(),
                files,
            });
            packed.extend(streams);
        }
        layout.empty = empty
            .iter()
            .map(|(name, &is_dir)| EmptyEntry {
                name: name.clone(),
                is_dir,
                attributes: if is_dir { ATTRIBUTE_DIRECTORY } else { ATTRIBUTE_ARCHIVE },
            })
            .collect();
        let mut writer = SevenZWriter::new(Vec::new(), &layout).unwrap();
        for stream in &packed {
            writer.write_packed(stream).unwrap();
        }
        let (bytes, size) = writer.finish().unwrap();
        prop_assert_eq!(size, bytes.len() as u64);

        // zesven's view of the entries.
        let archive = zesven::Archive::open(Cursor::new(&bytes[..])).unwrap();
        let files: Vec<&(String, Vec<u8>, u32)> =
            folders.iter().flat_map(|f| &f.files).collect();
        let entries = archive.entries();
        prop_assert_eq!(entries.len(), files.len() + layout.empty.len());
        let filetime = (mtime + 11_644_473_600) * 10_000_000;
        for (entry, (name, data, attributes)) in entries.iter().zip(&files) {
            prop_assert_eq!(entry.path.as_str(), name.as_str());
            prop_assert!(!entry.is_directory);
            prop_assert_eq!(entry.size, data.len() as u64);
            prop_assert_eq!(entry.crc32, Some(crc32fast::hash(data)));
            prop_assert_eq!(entry.attributes, Some(*attributes));
            prop_assert_eq!(entry.modification_time, Some(filetime));
        }
        for (entry, empty) in entries[files.len()..].iter().zip(&layout.empty) {
            prop_assert_eq!(entry.path.as_str(), empty.name.as_str());
            prop_assert_eq!(entry.is_directory, empty.is_dir);
            prop_assert_eq!(entry.size, 0);
            prop_assert_eq!(entry.attributes, Some(empty.attributes));
            prop_assert_eq!(entry.modification_time, Some(filetime));
        }
        prop_assert_eq!(archive.info().folder_count, folders.len());

        // zesven's parse of the folders, decoded here.
        let (start, header) =
            zesven::format::parser::read_archive_header(&mut Cursor::new(&bytes[..]), None)
                .unwrap();
        prop_assert_eq!(start.next_header_offset, layout.packed_size());
        let parsed = header.folders();
        prop_assert_eq!(parsed.len(), folders.len());
        if folders.is_empty() {
            prop_assert!(header.pack_info.is_none());
        } else {
            let pack_info = header.pack_info.as_ref().unwrap();
            let sizes: Vec<u64> = packed.iter().map(|p| p.len() as u64).collect();
            prop_assert_eq!(&pack_info.pack_sizes, &sizes);
            let mut at = usize::try_from(32 + pack_info.pack_pos).unwrap();
            let mut streams: Vec<&[u8]> = Vec::new();
            for size in &pack_info.pack_sizes {
                let size = usize::try_from(*size).unwrap();
                streams.push(&bytes[at..at + size]);
                at += size;
            }
            let mut decoded = Vec::new();
            let mut first = 0;
            for folder in parsed {
                let count = folder.packed_streams.len();
                let bound: BTreeSet<u64> = folder.bind_pairs.iter().map(|b| b.out_index).collect();
                let main = (0..folder.total_out_streams())
                    .find(|o| !bound.contains(o))
                    .unwrap();
                decoded.extend(unpack_out_stream(
                    folder,
                    main as usize,
                    &streams[first..first + count],
                ));
                first += count;
            }
            prop_assert_eq!(first, streams.len());
            let mut at = 0;
            for (entry, (_, data, _)) in entries.iter().zip(&files) {
                let slice = &decoded[at..at + entry.size as usize];
                prop_assert_eq!(entry.crc32, Some(crc32fast::hash(slice)));
                prop_assert_eq!(slice, &data[..]);
                at += slice.len();
            }
            prop_assert_eq!(at, decoded.len());
        }
    }
}

// ---- UDIF ----

/// A partition's bytes: runs of random, zero and repetitive sectors.
fn partition() -> impl Strategy<Value = Vec<u8>> {
    vec((0u8..3, 1usize..=48, any::<u64>()), 1..8).prop_map(|runs| {
        let mut out = Vec::new();
        for (kind, sectors, seed) in runs {
            let len = sectors * udif::SECTOR;
            match kind {
                0 => out.resize(out.len() + len, 0),
                1 => {
                    let mut state = seed | 1;
                    out.extend((0..len).map(|_| {
                        state ^= state << 13;
                        state ^= state >> 7;
                        state ^= state << 17;
                        (state >> 24) as u8
                    }));
                }
                _ => {
                    let text = format!("sector text {seed} ");
                    out.extend(text.bytes().cycle().take(len));
                }
            }
        }
        out
    })
}

fn compression() -> impl Strategy<Value = Compression> {
    select(vec![
        Compression::Lzma,
        Compression::Bzip2,
        Compression::Zlib,
    ])
}

/// Reads a one-partition UDIF image by hand (koly trailer, `plist` crate for the XML,
/// mish block, chunks decoded by `flate2`, `bzip2` and liblzma), checking its checksums;
/// returns the partition's name and bytes.
fn read_udif_by_hand(dmg: &[u8]) -> (String, Vec<u8>) {
    let koly = &dmg[dmg.len() - 512..];
    assert_eq!(&koly[..4], b"koly");
    assert_eq!(be32(koly, 4), 4, "version");
    assert_eq!(be32(koly, 8), 512, "header size");
    let (data_offset, data_len) = (be64(koly, 0x18), be64(koly, 0x20));
    assert_eq!(data_offset, 0);
    let data_fork = &dmg[..usize::try_from(data_len).unwrap()];
    assert_eq!(be32(koly, 0x50), 2, "data fork checksum type");
    assert_eq!(
        be32(koly, 0x58),
        crc32fast::hash(data_fork),
        "data fork CRC-32"
    );
    let (xml_offset, xml_len) = (be64(koly, 0xD8), be64(koly, 0xE0));
    assert_eq!(xml_offset, data_len, "the XML follows the data fork");
    assert_eq!(xml_offset + xml_len + 512, dmg.len() as u64);
    let xml = &dmg[xml_offset as usize..(xml_offset + xml_len) as usize];
    let plist = plist::Value::from_reader_xml(xml).unwrap();
    let blkx = plist
        .as_dictionary()
        .and_then(|d| d.get("resource-fork"))
        .and_then(plist::Value::as_dictionary)
        .and_then(|d| d.get("blkx"))
        .and_then(plist::Value::as_array)
        .unwrap();
    assert_eq!(blkx.len(), 1);
    let partition = blkx[0].as_dictionary().unwrap();
    let name = partition
        .get("Name")
        .and_then(plist::Value::as_string)
        .unwrap();
    assert_eq!(
        partition.get("CFName").and_then(plist::Value::as_string),
        Some(name)
    );
    let mish = partition
        .get("Data")
        .and_then(plist::Value::as_data)
        .unwrap();
    assert_eq!(&mish[..4], b"mish");
    let sectors = be64(mish, 0x10);
    assert_eq!(be64(koly, 0x1EC), sectors, "the koly's sector count");
    let mut out = vec![0u8; usize::try_from(sectors).unwrap() * udif::SECTOR];
    let mut crc_without_free = crc32fast::Hasher::new();
    let count = be32(mish, 0xC8) as usize;
    let mut next_sector = 0;
    let mut next_offset = 0;
    for i in 0..count {
        let e = &mish[0xCC + i * 40..][..40];
        let (kind, first, n, offset, len) = (
            be32(e, 0),
            be64(e, 8),
            be64(e, 16),
            be64(e, 24),
            be64(e, 32),
        );
        if kind == 0xFFFF_FFFF {
            assert_eq!(i, count - 1, "the end entry is last");
            assert_eq!(first, sectors);
            continue;
        }
        assert_eq!(first, next_sector, "chunks are contiguous");
        assert_eq!(offset, next_offset, "chunk bytes are back to back");
        next_sector += n;
        next_offset += len;
        let source = &data_fork[offset as usize..(offset + len) as usize];
        let target = &mut out[first as usize * udif::SECTOR..(first + n) as usize * udif::SECTOR];
        let mut decoded = Vec::new();
        match kind {
            2 => {
                assert_eq!(len, 0, "free space has no bytes");
                continue;
            }
            1 => decoded.extend_from_slice(source),
            0x8000_0005 => {
                flate2::read::ZlibDecoder::new(source)
                    .read_to_end(&mut decoded)
                    .unwrap();
            }
            0x8000_0006 => {
                bzip2::read::BzDecoder::new(source)
                    .read_to_end(&mut decoded)
                    .unwrap();
            }
            0x8000_0008 => {
                liblzma::read::XzDecoder::new(source)
                    .read_to_end(&mut decoded)
                    .unwrap();
            }
            other => panic!("unexpected chunk type {other:#x}"),
        }
        assert_eq!(
            decoded.len(),
            target.len(),
            "chunk {i} decodes to its sectors"
        );
        target.copy_from_slice(&decoded);
        crc_without_free.update(&decoded);
    }
    assert_eq!(next_sector, sectors, "the chunks cover the partition");
    assert_eq!(next_offset, data_len, "the chunks cover the data fork");
    assert_eq!(be32(mish, 0x40), 2, "partition checksum type");
    let partition_crc = crc_without_free.finalize();
    assert_eq!(be32(mish, 0x48), partition_crc, "partition CRC-32");
    assert_eq!(be32(koly, 0x160), 2, "master checksum type");
    assert_eq!(
        be32(koly, 0x168),
        crc32fast::hash(&partition_crc.to_be_bytes()),
        "master checksum"
    );
    (name.to_owned(), out)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// `UdifChunk::encode` + `UdifWriter` → our `udif::read_partitions` and a hand-written
    /// reader built on the `plist`, `flate2`, `bzip2` and liblzma crates (with every
    /// checksum of the image checked); `UdifChunk`'s cache format → the same chunks.
    #[test]
    fn udif_images_read_back(
        volume in partition(),
        runs in vec(1usize..=80, 1..6),
        compression in compression(),
        name in "[a-zA-Z0-9 ():_&<>]{1,40}",
    ) {
        let mut chunks = Vec::new();
        let mut at = 0;
        for run in runs.iter().cycle() {
            if at == volume.len() {
                break;
            }
            let end = (at + run * udif::SECTOR).min(volume.len());
            let chunk = UdifChunk::encode(&volume[at..end], compression).unwrap();
            prop_assert_eq!(chunk.sectors(), ((end - at) / udif::SECTOR) as u64);
            chunks.push(chunk);
            at = end;
        }
        let mut writer = UdifWriter::new(Vec::new(), &name);
        for chunk in &chunks {
            writer.append(chunk).unwrap();
        }
        let dmg = writer.finish().unwrap();
        let partitions = udif::read_partitions(&dmg).unwrap();
        prop_assert_eq!(partitions.len(), 1);
        prop_assert_eq!(&partitions[0].name, &name);
        prop_assert_eq!(&partitions[0].data, &volume);
        let (by_hand_name, by_hand) = read_udif_by_hand(&dmg);
        prop_assert_eq!(&by_hand_name, &name);
        prop_assert_eq!(&by_hand, &volume);

        let items: Vec<&UdifChunk> = chunks.iter().collect();
        cache_round_trip(&items)?;
    }
}

// ---- HFS+ ----

/// Volume size of the generated HFS+ volumes.
const HFS_SIZE: u64 = 4 << 20;

/// A tree: folders `d0`…, files (lower case: HFS+ is case-insensitive) in the root or a
/// folder, one symlink maybe; modes, Finder info and extended attributes random. Modes
/// are never 0: see `hfs_mode_zero_reads_back_as_zero`.
fn hfs_entries() -> impl Strategy<Value = Vec<HfsEntry>> {
    let meta = (
        1u32..=0o7777,
        prop_oneof![Just(None), any::<[u8; 32]>().prop_map(Some)],
        btree_map("org\\.test\\.[a-z]{1,10}", vec(any::<u8>(), 0..200), 0..3),
    );
    (
        vec(meta.clone(), 0..3),
        btree_map(
            (0usize..4, "f[a-z0-9_.-]{0,20}"),
            (content(MAX_CONTENT / 2), meta.clone()),
            0..6,
        ),
        prop::option::of(("l[a-z0-9]{0,10}", "[a-z0-9/._-]{1,120}", meta)),
    )
        .prop_map(|(dirs, files, link)| {
            let mut entries = Vec::new();
            let make = |path: String,
                        node,
                        (mode, finder_info, xattrs): (
                u32,
                Option<[u8; 32]>,
                BTreeMap<String, Vec<u8>>,
            )| {
                HfsEntry {
                    path,
                    mode,
                    node,
                    finder_info,
                    xattrs: xattrs.into_iter().collect(),
                }
            };
            for (i, meta) in dirs.iter().enumerate() {
                entries.push(make(format!("d{i}"), HfsNode::Dir, meta.clone()));
            }
            // Files whose folder does not exist go to the root, once per name.
            let mut paths = BTreeSet::new();
            for ((dir, name), (data, meta)) in files {
                let path = if dir < dirs.len() {
                    format!("d{dir}/{name}")
                } else {
                    name
                };
                if paths.insert(path.clone()) {
                    entries.push(make(path, HfsNode::File(data), meta));
                }
            }
            if let Some((name, target, meta)) = link {
                entries.push(make(name, HfsNode::Symlink(target), meta));
            }
            entries
        })
}

/// Builds a volume: folders, then files at consecutive blocks (after `gap` free blocks),
/// then the symlink.
fn build_hfs(entries: &[HfsEntry], name: &str, mtime: u64, gap: u32) -> Vec<u8> {
    let mut builder = HfsBuilder::new(name, HFS_SIZE, 16, mtime).unwrap();
    let mut block = builder.data_start() + gap;
    for entry in entries {
        match &entry.node {
            HfsNode::Dir => builder.dir(entry).unwrap(),
            HfsNode::Symlink(target) => builder.symlink(entry, target).unwrap(),
            HfsNode::File(data) => {
                builder.file_at(entry, data, block).unwrap();
                block += HfsBuilder::blocks(data.len() as u64);
            }
        }
    }
    builder.finish().unwrap()
}

/// What `hfs::read_volume` should give for `entries`: sorted by path, all-zero Finder info
/// as none, none for symlinks.
fn expected_hfs(entries: &[HfsEntry]) -> Vec<HfsEntry> {
    let mut want: Vec<HfsEntry> = entries
        .iter()
        .cloned()
        .map(|mut e| {
            if e.finder_info == Some([0; 32]) || matches!(e.node, HfsNode::Symlink(_)) {
                e.finder_info = None;
            }
            e
        })
        .collect();
    want.sort_by(|a, b| a.path.cmp(&b.path));
    want
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// `HfsBuilder` → our `hfs::read_volume`: names, modes, contents, symlink targets,
    /// Finder info, extended attributes; files' data where they were placed.
    #[test]
    fn hfs_volumes_read_back(
        entries in hfs_entries(),
        name in "[A-Za-z0-9][A-Za-z0-9 _-]{0,26}",
        mtime in 0u64..(1 << 32),
        gap in 0u32..8,
    ) {
        let bytes = build_hfs(&entries, &name, mtime, gap);
        prop_assert_eq!(bytes.len() as u64, HFS_SIZE);
        let data_start = HfsBuilder::data_start_for(HFS_SIZE, 16).unwrap();
        let mut block = data_start + gap;
        for entry in &entries {
            if let HfsNode::File(data) = &entry.node {
                let at = block as usize * packagers::hfs::BLOCK as usize;
                prop_assert_eq!(&bytes[at..at + data.len()], &data[..], "{} in place", entry.path);
                block += HfsBuilder::blocks(data.len() as u64);
            }
        }
        let volume = packagers::hfs::read_volume(bytes).unwrap();
        prop_assert_eq!(&volume.name, &name);
        prop_assert_eq!(volume.entries, expected_hfs(&entries));
    }

    /// `HfsBuilder` → `UdifChunk`s → `UdifWriter` → `udif::read_partitions` →
    /// `hfs::read_volume`: a dmg as the macOS repack writes one.
    #[test]
    fn hfs_volumes_in_udif_images_read_back(
        entries in hfs_entries(),
        compression in compression(),
        run_sectors in select(vec![128usize, 512, udif::RUN_SECTORS]),
    ) {
        let bytes = build_hfs(&entries, "Firefox", 1_793_719_152, 0);
        let mut writer = UdifWriter::new(Vec::new(), "disk image (Apple_HFS : 0)");
        for run in bytes.chunks(run_sectors * udif::SECTOR) {
            writer.append(&UdifChunk::encode(run, compression).unwrap()).unwrap();
        }
        let dmg = writer.finish().unwrap();
        let mut partitions = udif::read_partitions(&dmg).unwrap();
        prop_assert_eq!(partitions.len(), 1);
        let partition = partitions.pop().unwrap();
        prop_assert_eq!(&partition.data, &bytes);
        let volume = packagers::hfs::read_volume(partition.data).unwrap();
        prop_assert_eq!(volume.name, "Firefox");
        prop_assert_eq!(volume.entries, expected_hfs(&entries));
    }
}

/// A permission field of 0 means "not set" (Apple's TN1150, "HFS Plus Permissions"), and
/// macOS shows such entries as 0o755 folders and 0o644 files: the reader does the same.
#[test]
fn hfs_mode_zero_reads_back_as_the_macos_defaults() {
    let entries = [
        HfsEntry {
            path: "d".into(),
            mode: 0,
            node: HfsNode::Dir,
            finder_info: None,
            xattrs: Vec::new(),
        },
        HfsEntry {
            path: "f".into(),
            mode: 0,
            node: HfsNode::File(b"x".to_vec()),
            finder_info: None,
            xattrs: Vec::new(),
        },
    ];
    let volume = packagers::hfs::read_volume(build_hfs(&entries, "V", 0, 0)).unwrap();
    let modes: Vec<(&str, u32)> = volume
        .entries
        .iter()
        .map(|e| (e.path.as_str(), e.mode))
        .collect();
    assert_eq!(modes, [("d", 0o755), ("f", 0o644)]);
}
