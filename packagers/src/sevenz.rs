//! 7z archives, written from pre-compressed folders: the archive inside Mozilla's Windows
//! installer (`setup.exe` = SFX stub + `app.tag` + 7z).
//!
//! # Byte layout
//! As in 7-Zip's `DOC/7zFormat.txt`:
//!
//! - **Signature header**, 32 bytes: `37 7A BC AF 27 1C`, version `00 04`, the CRC-32 of the
//!   next 20 bytes, then the next header's offset (u64, from the end of the signature
//!   header), size (u64) and CRC-32 (u32). All little-endian.
//! - **Packed streams**: one per folder, back to back.
//! - **Header** (plain, not encoded): `kHeader`, `kMainStreamsInfo` (`kPackInfo`: the
//!   packed sizes; `kUnPackInfo`: each folder's coders, bind pairs and unpacked sizes;
//!   `kSubStreamsInfo`: how many files each folder holds, their sizes and CRC-32s), then
//!   `kFilesInfo` (`kEmptyStream`, `kEmptyFile`, `kName` in UTF-16LE, `kMTime` as Windows
//!   FILETIME, `kWinAttributes`). Numbers use 7z's variable-length encoding: the count of
//!   leading 1 bits of the first byte is the count of extra little-endian bytes.
//!
//! A folder is either one LZMA2 coder (id `21`, property: the dictionary byte), or the x86
//! BCJ2 filter (id `03 03 01 1B`) bound as Mozilla's installer command binds it
//! (`-m0=BCJ2 -m1=… -m2=… -m3=… -mb0:1 -mb0s1:2 -mb0s2:3`): coder 0 is BCJ2 with 4 input
//! streams, coders 1–3 are LZMA2 feeding its main, call and jump streams (bind pairs
//! in 0 ← out 1, in 1 ← out 2, in 2 ← out 3), and BCJ2's fourth stream (the range-coded
//! selector bits) is a packed stream as it is. The folder's packed streams are, in order,
//! main, call, jump, selector (in-stream indices 4, 5, 6, 3). Both are methods Mozilla's
//! `7zSD.Win32.sfx` (7-Zip 18.05's SFXSetup) decodes.
//!
//! Files with data are listed in folder order, as the folders' substreams; empty files and
//! directories follow. The writer never compresses anything: the caller hands it the packed
//! bytes of each folder (for instance [`crate::lzma2`] pieces), so a folder shared by many
//! archives is compressed once.

use std::io::Write;

use crate::{Error, Result};

/// Windows `FILE_ATTRIBUTE_DIRECTORY`.
pub const ATTRIBUTE_DIRECTORY: u32 = 0x10;
/// Windows `FILE_ATTRIBUTE_ARCHIVE`, what 7-Zip gives regular files.
pub const ATTRIBUTE_ARCHIVE: u32 = 0x20;

const SIGNATURE: [u8; 6] = [0x37, 0x7A, 0xBC, 0xAF, 0x27, 0x1C];
const SIGNATURE_HEADER_LEN: u64 = 32;
/// Seconds between 1601-01-01 (FILETIME's epoch) and 1970-01-01.
const FILETIME_UNIX_OFFSET: u64 = 11_644_473_600;

// Property ids of 7zFormat.txt.
const K_END: u8 = 0x00;
const K_HEADER: u8 = 0x01;
const K_MAIN_STREAMS_INFO: u8 = 0x04;
const K_FILES_INFO: u8 = 0x05;
const K_PACK_INFO: u8 = 0x06;
const K_UNPACK_INFO: u8 = 0x07;
const K_SUBSTREAMS_INFO: u8 = 0x08;
const K_SIZE: u8 = 0x09;
const K_CRC: u8 = 0x0A;
const K_FOLDER: u8 = 0x0B;
const K_CODERS_UNPACK_SIZE: u8 = 0x0C;
const K_NUM_UNPACK_STREAM: u8 = 0x0D;
const K_EMPTY_STREAM: u8 = 0x0E;
const K_EMPTY_FILE: u8 = 0x0F;
const K_NAME: u8 = 0x11;
const K_MTIME: u8 = 0x14;
const K_WIN_ATTRIBUTES: u8 = 0x15;

/// The coders of a folder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coders {
    /// LZMA2 alone, with this dictionary property byte.
    Lzma2 {
        /// [`crate::lzma2::Lzma2Options::dict_property`].
        dict_property: u8,
    },
    /// x86 BCJ2 whose main, call and jump streams are LZMA2 and whose selector stream is
    /// stored.
    Bcj2Lzma2 {
        /// Dictionary properties of the main, call and jump coders.
        dict_properties: [u8; 3],
        /// Unpacked sizes of the main, call and jump streams.
        stream_sizes: [u64; 3],
    },
}

impl Coders {
    /// How many packed streams the folder has.
    pub fn packed_streams(self) -> usize {
        match self {
            Coders::Lzma2 { .. } => 1,
            Coders::Bcj2Lzma2 { .. } => 4,
        }
    }
}

/// A file whose data is a substream of a folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamFile {
    /// Path in the archive, `/`-separated (7-Zip turns `/` into the system's separator).
    pub name: String,
    /// Uncompressed size (never 0: empty files are [`EmptyEntry`]s).
    pub size: u64,
    /// CRC-32 of the content.
    pub crc32: u32,
    /// Windows attributes.
    pub attributes: u32,
}

/// A folder: its coders, packed size and the files it decodes to, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Folder {
    /// How the packed streams are decoded.
    pub coders: Coders,
    /// Sizes of the packed streams, in the order [`Coders`] gives.
    pub packed_sizes: Vec<u64>,
    /// The files, whose sizes add up to the unpacked size.
    pub files: Vec<StreamFile>,
}

/// A directory or an empty file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmptyEntry {
    /// Path in the archive.
    pub name: String,
    /// A directory (else an empty file).
    pub is_dir: bool,
    /// Windows attributes.
    pub attributes: u32,
}

/// Everything but the packed bytes: what the header describes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Layout {
    /// Folders, in the order their packed streams are written.
    pub folders: Vec<Folder>,
    /// Directories and empty files.
    pub empty: Vec<EmptyEntry>,
    /// Modification time of every entry, seconds since 1970.
    pub mtime: u64,
}

impl Layout {
    /// Total size of the packed streams.
    pub fn packed_size(&self) -> u64 {
        self.folders.iter().flat_map(|f| &f.packed_sizes).sum()
    }

    /// The header, as written after the packed streams.
    pub fn header(&self) -> Result<Vec<u8>> {
        let mut h = Vec::new();
        h.push(K_HEADER);
        let streams: Vec<&StreamFile> = self.folders.iter().flat_map(|f| &f.files).collect();
        if self.folders.iter().any(|f| f.files.is_empty()) {
            return Err(Error::SevenZ {
                reason: "a folder has no files".into(),
            });
        }
        if let Some(folder) = self
            .folders
            .iter()
            .find(|f| f.packed_sizes.len() != f.coders.packed_streams())
        {
            return Err(Error::SevenZ {
                reason: format!(
                    "{} packed streams given for coders that take {}",
                    folder.packed_sizes.len(),
                    folder.coders.packed_streams()
                ),
            });
        }
        if let Some(file) = streams.iter().find(|f| f.size == 0) {
            return Err(Error::SevenZ {
                reason: format!("{} is empty but was given as a stream", file.name),
            });
        }
        if !self.folders.is_empty() {
            h.push(K_MAIN_STREAMS_INFO);
            // Pack info.
            h.push(K_PACK_INFO);
            number(&mut h, 0);
            let sizes: Vec<u64> = self
                .folders
                .iter()
                .flat_map(|f| f.packed_sizes.iter().copied())
                .collect();
            number(&mut h, sizes.len() as u64);
            h.push(K_SIZE);
            for size in sizes {
                number(&mut h, size);
            }
            h.push(K_END);
            // Unpack info.
            h.push(K_UNPACK_INFO);
            h.push(K_FOLDER);
            number(&mut h, self.folders.len() as u64);
            h.push(0); // not external
            for folder in &self.folders {
                folder_record(&mut h, folder.coders);
            }
            h.push(K_CODERS_UNPACK_SIZE);
            for folder in &self.folders {
                let size: u64 = folder.files.iter().map(|f| f.size).sum();
                number(&mut h, size);
                if let Coders::Bcj2Lzma2 { stream_sizes, .. } = folder.coders {
                    for stream in stream_sizes {
                        number(&mut h, stream);
                    }
                }
            }
            h.push(K_END);
            // Substreams: every file's size (the last of a folder is implied) and CRC.
            h.push(K_SUBSTREAMS_INFO);
            h.push(K_NUM_UNPACK_STREAM);
            for folder in &self.folders {
                number(&mut h, folder.files.len() as u64);
            }
            h.push(K_SIZE);
            for folder in &self.folders {
                for file in &folder.files[..folder.files.len() - 1] {
                    number(&mut h, file.size);
                }
            }
            h.push(K_CRC);
            h.push(1); // all defined
            for file in &streams {
                h.extend_from_slice(&file.crc32.to_le_bytes());
            }
            h.push(K_END);
            h.push(K_END);
        }
        let count = streams.len() + self.empty.len();
        if count > 0 {
            h.push(K_FILES_INFO);
            number(&mut h, count as u64);
            if !self.empty.is_empty() {
                let empty_stream = bits((0..count).map(|i| i >= streams.len()));
                property(&mut h, K_EMPTY_STREAM, &empty_stream);
                let empty_file = bits(self.empty.iter().map(|e| !e.is_dir));
                property(&mut h, K_EMPTY_FILE, &empty_file);
            }
            let names = streams
                .iter()
                .map(|f| &f.name)
                .chain(self.empty.iter().map(|e| &e.name));
            let mut name_bytes = vec![0]; // not external
            for name in names {
                if name.is_empty() || name.contains('\0') {
                    return Err(Error::SevenZ {
                        reason: format!("{name:?} is not a valid entry name"),
                    });
                }
                for unit in name.encode_utf16().chain([0]) {
                    name_bytes.extend_from_slice(&unit.to_le_bytes());
                }
            }
            property(&mut h, K_NAME, &name_bytes);
            // Saturating: a FILETIME cannot hold times past the year 60056 anyway.
            let filetime = self
                .mtime
                .saturating_add(FILETIME_UNIX_OFFSET)
                .saturating_mul(10_000_000);
            let mut times = vec![1, 0]; // all defined, not external
            for _ in 0..count {
                times.extend_from_slice(&filetime.to_le_bytes());
            }
            property(&mut h, K_MTIME, &times);
            let mut attributes = vec![1, 0];
            let all = streams
                .iter()
                .map(|f| f.attributes)
                .chain(self.empty.iter().map(|e| e.attributes));
            for value in all {
                attributes.extend_from_slice(&value.to_le_bytes());
            }
            property(&mut h, K_WIN_ATTRIBUTES, &attributes);
            h.push(K_END);
        }
        h.push(K_END);
        Ok(h)
    }
}

/// BCJ2's four streams for one x86 input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bcj2Streams {
    /// The code with the branch targets taken out.
    pub main: Vec<u8>,
    /// `call` targets, absolute, big-endian.
    pub call: Vec<u8>,
    /// `jmp` and `jcc` targets, absolute, big-endian.
    pub jump: Vec<u8>,
    /// The range-coded bits that say which branches were converted.
    pub selector: Vec<u8>,
}

/// Splits `data` into BCJ2's streams (the `zesven` crate's encoder), as the first coder of
/// a [`Coders::Bcj2Lzma2`] folder expects them.
pub fn bcj2_encode(data: &[u8]) -> Bcj2Streams {
    let streams = zesven::codec::bcj2::bcj2_encode(data);
    Bcj2Streams {
        main: streams.main,
        call: streams.call,
        jump: streams.jump,
        selector: streams.range,
    }
}

/// Writes a 7z archive: the signature header at once, then the packed streams as the
/// caller hands them over, then the header.
pub struct SevenZWriter<W: Write> {
    w: W,
    header: Vec<u8>,
    expected: u64,
    written: u64,
}

impl<W: Write> SevenZWriter<W> {
    /// Starts the archive described by `layout`.
    pub fn new(mut w: W, layout: &Layout) -> Result<Self> {
        let header = layout.header()?;
        let expected = layout.packed_size();
        let mut tail = Vec::with_capacity(20);
        tail.extend_from_slice(&expected.to_le_bytes());
        tail.extend_from_slice(&(header.len() as u64).to_le_bytes());
        tail.extend_from_slice(&crc32fast::hash(&header).to_le_bytes());
        w.write_all(&SIGNATURE)?;
        w.write_all(&[0, 4])?;
        w.write_all(&crc32fast::hash(&tail).to_le_bytes())?;
        w.write_all(&tail)?;
        Ok(SevenZWriter {
            w,
            header,
            expected,
            written: 0,
        })
    }

    /// Writes the next bytes of the packed streams.
    pub fn write_packed(&mut self, bytes: &[u8]) -> Result<()> {
        self.written += bytes.len() as u64;
        if self.written > self.expected {
            return Err(Error::SevenZ {
                reason: format!(
                    "more packed bytes than the layout's {} were written",
                    self.expected
                ),
            });
        }
        self.w.write_all(bytes)?;
        Ok(())
    }

    /// Writes the header and returns the writer and the archive's size.
    pub fn finish(mut self) -> Result<(W, u64)> {
        if self.written != self.expected {
            return Err(Error::SevenZ {
                reason: format!(
                    "{} packed bytes written, the layout announced {}",
                    self.written, self.expected
                ),
            });
        }
        self.w.write_all(&self.header)?;
        let size = SIGNATURE_HEADER_LEN + self.expected + self.header.len() as u64;
        Ok((self.w, size))
    }
}

/// Appends a folder record.
fn folder_record(h: &mut Vec<u8>, coders: Coders) {
    let lzma2 = |h: &mut Vec<u8>, dict_property: u8| {
        // Id size 1, has properties.
        h.extend_from_slice(&[0x21, 0x21, 1, dict_property]);
    };
    match coders {
        Coders::Lzma2 { dict_property } => {
            number(h, 1);
            lzma2(h, dict_property);
        }
        Coders::Bcj2Lzma2 {
            dict_properties, ..
        } => {
            number(h, 4);
            // BCJ2: id size 4, complex (4 in streams, 1 out stream).
            h.extend_from_slice(&[0x14, 0x03, 0x03, 0x01, 0x1B, 4, 1]);
            for dict_property in dict_properties {
                lzma2(h, dict_property);
            }
            // Bind pairs (in, out): BCJ2's main, call and jump inputs take the LZMA2 coders'
            // outputs 1, 2 and 3.
            for (input, output) in [(0, 1), (1, 2), (2, 3)] {
                number(h, input);
                number(h, output);
            }
            // Packed streams: the LZMA2 coders' inputs 4, 5, 6, then BCJ2's selector input 3.
            for input in [4, 5, 6, 3] {
                number(h, input);
            }
        }
    }
}

/// Appends a `kFilesInfo` property: id, size, bytes.
fn property(h: &mut Vec<u8>, id: u8, bytes: &[u8]) {
    h.push(id);
    number(h, bytes.len() as u64);
    h.extend_from_slice(bytes);
}

/// A bit vector, most significant bit first.
fn bits(values: impl Iterator<Item = bool>) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, value) in values.enumerate() {
        if i % 8 == 0 {
            out.push(0);
        }
        if value {
            *out.last_mut().expect("pushed above") |= 0x80 >> (i % 8);
        }
    }
    out
}

/// 7z's variable-length number.
fn number(h: &mut Vec<u8>, value: u64) {
    let mut first = 0u8;
    let mut mask = 0x80u8;
    let mut extra = 0;
    while extra < 8 {
        if value < 1u64 << (7 * (extra + 1)) {
            first |= (value >> (8 * extra)) as u8;
            break;
        }
        first |= mask;
        mask >>= 1;
        extra += 1;
    }
    h.push(first);
    h.extend_from_slice(&value.to_le_bytes()[..extra]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lzma2::{self, Lzma2Options, Lzma2Piece};
    use crate::testing::{random_bytes, tool};

    #[test]
    fn numbers_use_the_variable_length_encoding() {
        let enc = |v| {
            let mut h = Vec::new();
            number(&mut h, v);
            h
        };
        assert_eq!(enc(0), [0]);
        assert_eq!(enc(0x7F), [0x7F]);
        assert_eq!(enc(0x80), [0x80, 0x80]);
        assert_eq!(enc(0x3FFF), [0xBF, 0xFF]);
        assert_eq!(enc(0x4000), [0xC0, 0x00, 0x40]);
        assert_eq!(enc(u64::MAX), [[0xFF].as_slice(), &[0xFF; 8]].concat());
    }

    #[test]
    fn bit_vectors_start_at_the_high_bit() {
        assert_eq!(bits([true, false, true].into_iter()), [0b1010_0000]);
        assert_eq!(bits((0..9).map(|i| i == 8)), [0, 0x80]);
    }

    /// Builds an archive with a BCJ2 folder (main stream in two pieces) and an LZMA2
    /// folder.
    fn sample() -> (Vec<u8>, Vec<(String, Vec<u8>)>) {
        let options = Lzma2Options {
            preset: 1,
            dict_size: 1 << 20,
        };
        let dict_property = options.dict_property();
        let mut code = random_bytes(50_000, 1);
        for at in (0..code.len() - 5).step_by(61) {
            code[at] = 0xE8;
            code[at + 4] = 0;
        }
        let files = vec![
            ("core/a.dll".to_owned(), code),
            ("core/b/c.txt".to_owned(), b"text ".repeat(4000)),
            ("setup.exe".to_owned(), random_bytes(3000, 2)),
        ];
        let first: Vec<u8> = [&files[0].1[..], &files[1].1[..]].concat();
        let bcj2 = bcj2_encode(&first);
        let lzma = |data: &[u8], pieces: usize| {
            let mut packed = Vec::new();
            for part in data.chunks(data.len().div_ceil(pieces).max(1)) {
                packed.extend_from_slice(Lzma2Piece::encode(part, options).unwrap().chunks());
            }
            packed.extend_from_slice(&lzma2::END);
            packed
        };
        let streams = [
            lzma(&bcj2.main, 2),
            lzma(&bcj2.call, 1),
            lzma(&bcj2.jump, 1),
            bcj2.selector.clone(),
        ];
        let mut packed_b = Lzma2Piece::encode(&files[2].1, options)
            .unwrap()
            .chunks()
            .to_vec();
        packed_b.extend_from_slice(&lzma2::END);
        let stream_file = |(name, data): &(String, Vec<u8>)| StreamFile {
            name: name.clone(),
            size: data.len() as u64,
            crc32: crc32fast::hash(data),
            attributes: ATTRIBUTE_ARCHIVE,
        };
        let layout = Layout {
            folders: vec![
                Folder {
                    coders: Coders::Bcj2Lzma2 {
                        dict_properties: [dict_property; 3],
                        stream_sizes: [
                            bcj2.main.len() as u64,
                            bcj2.call.len() as u64,
                            bcj2.jump.len() as u64,
                        ],
                    },
                    packed_sizes: streams.iter().map(|s| s.len() as u64).collect(),
                    files: files[..2].iter().map(stream_file).collect(),
                },
                Folder {
                    coders: Coders::Lzma2 { dict_property },
                    packed_sizes: vec![packed_b.len() as u64],
                    files: vec![stream_file(&files[2])],
                },
            ],
            empty: vec![
                EmptyEntry {
                    name: "core/empty".into(),
                    is_dir: false,
                    attributes: ATTRIBUTE_ARCHIVE,
                },
                EmptyEntry {
                    name: "core/dir".into(),
                    is_dir: true,
                    attributes: ATTRIBUTE_DIRECTORY,
                },
            ],
            mtime: 1_262_304_000,
        };
        let mut writer = SevenZWriter::new(Vec::new(), &layout).unwrap();
        for stream in &streams {
            writer.write_packed(stream).unwrap();
        }
        writer.write_packed(&packed_b).unwrap();
        let (bytes, size) = writer.finish().unwrap();
        assert_eq!(size, bytes.len() as u64);
        (bytes, files)
    }

    #[test]
    fn seven_zip_extracts_our_archive() {
        if !tool("7z") {
            return;
        }
        let seven_zip = "7z";
        let (archive, files) = sample();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.7z");
        std::fs::write(&path, &archive).unwrap();
        let test = std::process::Command::new(seven_zip)
            .args(["t", "-t7z"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(test.status.success(), "{test:?}");
        let out = dir.path().join("x");
        let extract = std::process::Command::new(seven_zip)
            .args(["x", "-t7z", "-y"])
            .arg(format!("-o{}", out.display()))
            .arg(&path)
            .output()
            .unwrap();
        assert!(extract.status.success(), "{extract:?}");
        for (name, data) in &files {
            assert_eq!(&std::fs::read(out.join(name)).unwrap(), data, "{name}");
        }
        assert_eq!(std::fs::read(out.join("core/empty")).unwrap(), b"");
        assert!(out.join("core/dir").is_dir());
        let list = std::process::Command::new(seven_zip)
            .args(["l", "-slt", "-t7z"])
            .arg(&path)
            .output()
            .unwrap();
        let listing = String::from_utf8_lossy(&list.stdout);
        assert!(
            listing.contains("Method = LZMA2:20 LZMA2:20 LZMA2:20 BCJ2"),
            "{listing}"
        );
        assert!(
            listing.contains("Modified = 2010-01-01 00:00:00"),
            "{listing}"
        );
    }

    #[test]
    fn wrong_packed_sizes_are_refused() {
        let layout = Layout {
            folders: vec![Folder {
                coders: Coders::Lzma2 { dict_property: 0 },
                packed_sizes: vec![10],
                files: vec![StreamFile {
                    name: "a".into(),
                    size: 1,
                    crc32: 0,
                    attributes: ATTRIBUTE_ARCHIVE,
                }],
            }],
            ..Layout::default()
        };
        let mut writer = SevenZWriter::new(Vec::new(), &layout).unwrap();
        writer.write_packed(&[0; 4]).unwrap();
        assert!(writer.finish().is_err());
        let mut writer = SevenZWriter::new(Vec::new(), &layout).unwrap();
        assert!(writer.write_packed(&[0; 11]).is_err());
        let mut empty = layout.clone();
        empty.folders[0].files[0].size = 0;
        assert!(empty.header().is_err());
        let mut streams = layout.clone();
        streams.folders[0].packed_sizes.push(1);
        assert!(streams.header().is_err());
    }
}
