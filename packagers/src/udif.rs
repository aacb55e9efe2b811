//! UDIF disk images (`.dmg`): reading their partitions, and writing one partition from
//! chunks compressed independently, so that a chunk shared by many images is compressed
//! once.
//!
//! # Byte layout
//! Apple documents UDIF only in `hdiutil`; the layout below is the one every reader
//! (7-Zip's `DmgHandler`, `dmg2img`, libdmg-hfsplus) agrees on. All integers big-endian.
//!
//! - **Data fork** at offset 0: the chunks' compressed bytes, back to back.
//! - **Property list** (XML) after it: `resource-fork` → `blkx`, an array with one dict per
//!   partition (`Attributes` `0x0050`, `CFName`, `Name`, `ID`, and `Data`: the partition's
//!   *mish* block).
//! - **mish** block: `mish`, version 1, first sector (u64), sector count (u64), data offset
//!   (u64), buffers needed (u32), block descriptors (u32), 24 reserved bytes, a checksum
//!   (type u32 = 2 for CRC-32, size u32 = 32 bits, 128 bytes of which the first 4 hold the
//!   CRC-32 of the partition's decoded bytes *without its free-space runs*: what 7-Zip
//!   checks; some writers include the zeros, and we read both), the chunk count (u32), then
//!   40-byte chunk
//!   entries: type (u32), comment (u32), first sector relative to the partition (u64),
//!   sector count (u64), offset of the compressed bytes in the file (u64), their length
//!   (u64). Types: `0` zero fill, `1` raw, `2` free space (zeros), `0x80000004` ADC,
//!   `0x80000005` zlib, `0x80000006` bzip2, `0x80000007` LZFSE, `0x80000008` LZMA (an xz
//!   stream, as `hdiutil` writes ULMO images; a legacy `.lzma` stream is read too),
//!   `0x7FFFFFFE` comment, `0xFFFFFFFF` end.
//! - **koly** trailer, the file's last 512 bytes: `koly`, version 4, header size 512, flags
//!   1, running data fork offset, data fork offset and length, resource fork offset and
//!   length (0), segment number and count (1, 1), a 16-byte segment id, the data fork's
//!   checksum (type 2, 32 bits, CRC-32 of the data fork), the XML offset and length, 120
//!   reserved bytes, the master checksum (type 2, 32 bits: CRC-32 of every partition's
//!   CRC-32, big-endian, in order), image variant 1, the sector count, 12 reserved bytes.
//!
//! A chunk covers a run of 512-byte sectors and is decoded on its own, so chunks are
//! compressed and decoded in parallel, and a run whose bytes are the same in many images (a file at the
//! same allocation blocks of every volume) is compressed once ([`UdifChunk`]).

use std::io::{Read, Write};
use std::ops::Range;

use rayon::prelude::*;

use crate::piece::{Piece, PieceReader, PieceWriter};
use crate::{Error, Result};

/// Bytes per UDIF sector.
pub const SECTOR: usize = 512;
/// Sectors per chunk Mozilla's `dmg build --run-sectors 2048` writes: 1 MiB.
pub const RUN_SECTORS: usize = 2048;
/// Largest image we decode: more than any Firefox volume, a guard against bombs.
const MAX_IMAGE: u64 = 8 << 30;
/// Largest chunk we decode (hdiutil's is 1 MiB; libdmg's runs may be larger).
const MAX_CHUNK_SECTORS: u64 = 1 << 16;

const KOLY_LEN: usize = 512;
const MISH_HEADER_LEN: usize = 0xCC;
const CHUNK_ENTRY_LEN: usize = 40;
const CHECKSUM_CRC32: u32 = 2;

const ZERO: u32 = 0;
const RAW: u32 = 1;
const FREE: u32 = 2;
const ADC: u32 = 0x8000_0004;
const ZLIB: u32 = 0x8000_0005;
const BZIP2: u32 = 0x8000_0006;
const LZFSE: u32 = 0x8000_0007;
const LZMA: u32 = 0x8000_0008;
const COMMENT: u32 = 0x7FFF_FFFE;
const END: u32 = 0xFFFF_FFFF;

/// How chunks are compressed: the UDIF format names `hdiutil` gives them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// ULMO: xz (LZMA2) per chunk, what Mozilla ships today (`--compression lzma`).
    Lzma,
    /// UDBZ: bzip2 per chunk, Mozilla's build-time default.
    Bzip2,
    /// UDZO: zlib per chunk.
    Zlib,
}

/// One partition of an image, decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Partition {
    /// The `blkx` entry's name, e.g. `disk image (Apple_HFS : 0)`.
    pub name: String,
    /// Its sectors' bytes.
    pub data: Vec<u8>,
}

/// Reads every partition of the UDIF image `dmg`, checking the CRC-32s it carries.
pub fn read_partitions(dmg: &[u8]) -> Result<Vec<Partition>> {
    let bad = |reason: String| Error::Udif { reason };
    if dmg.len() < KOLY_LEN {
        return Err(bad("shorter than its 512-byte trailer".into()));
    }
    let koly = &dmg[dmg.len() - KOLY_LEN..];
    if &koly[..4] != b"koly" {
        return Err(bad("no koly trailer at the end".into()));
    }
    let data_offset = be64(koly, 0x18);
    let data_len = be64(koly, 0x20);
    let xml_offset = be64(koly, 0xD8);
    let xml_len = be64(koly, 0xE0);
    let within = |offset: u64, len: u64| {
        offset
            .checked_add(len)
            .filter(|&end| end <= (dmg.len() - KOLY_LEN) as u64)
            .map(|end| offset as usize..end as usize)
    };
    let data_range = within(data_offset, data_len)
        .ok_or_else(|| bad("the data fork lies outside the file".into()))?;
    if be32(koly, 0x50) == CHECKSUM_CRC32
        && be32(koly, 0x58) != crc32fast::hash(&dmg[data_range.clone()])
    {
        return Err(bad("the data fork's CRC-32 does not match".into()));
    }
    let xml = within(xml_offset, xml_len)
        .ok_or_else(|| bad("the property list lies outside the file".into()))?;
    let plist: plist::Value = plist::from_bytes(&dmg[xml])
        .map_err(|e| bad(format!("the property list cannot be read: {e}")))?;
    let blkx = plist
        .as_dictionary()
        .and_then(|d| d.get("resource-fork"))
        .and_then(plist::Value::as_dictionary)
        .and_then(|d| d.get("blkx"))
        .and_then(plist::Value::as_array)
        .ok_or_else(|| bad("the property list has no resource-fork/blkx".into()))?;
    let mut total = 0u64;
    let mut partitions = Vec::new();
    for entry in blkx {
        let dict = entry
            .as_dictionary()
            .ok_or_else(|| bad("a blkx entry is not a dictionary".into()))?;
        let name = dict
            .get("Name")
            .or_else(|| dict.get("CFName"))
            .and_then(plist::Value::as_string)
            .unwrap_or_default()
            .to_owned();
        let mish = dict
            .get("Data")
            .and_then(plist::Value::as_data)
            .ok_or_else(|| bad(format!("blkx entry {name:?} has no Data")))?;
        let data = decode_partition(dmg, mish, &name, &mut total)?;
        partitions.push(Partition { name, data });
    }
    Ok(partitions)
}

fn decode_partition(dmg: &[u8], mish: &[u8], name: &str, total: &mut u64) -> Result<Vec<u8>> {
    let bad = |reason: String| Error::Udif {
        reason: format!("partition {name:?}: {reason}"),
    };
    if mish.len() < MISH_HEADER_LEN || &mish[..4] != b"mish" {
        return Err(bad("its block table is not a mish block".into()));
    }
    let sectors = be64(mish, 0x10);
    let bytes = sectors
        .checked_mul(SECTOR as u64)
        .filter(|b| b.saturating_add(*total) <= MAX_IMAGE)
        .ok_or_else(|| bad(format!("{sectors} sectors, more than any Firefox image")))?;
    *total += bytes;
    let count = be32(mish, 0xC8) as usize;
    if mish.len() < MISH_HEADER_LEN + count * CHUNK_ENTRY_LEN {
        return Err(bad(format!(
            "its block table is cut short ({count} chunks)"
        )));
    }
    let mut out = vec![0u8; bytes as usize];
    let mut free = Vec::new();
    // (chunk index, type, target sectors, compressed bytes), decoded in parallel below:
    // each chunk is compressed alone.
    let mut jobs: Vec<(usize, u32, Range<usize>, &[u8])> = Vec::new();
    for i in 0..count {
        let e = &mish[MISH_HEADER_LEN + i * CHUNK_ENTRY_LEN..][..CHUNK_ENTRY_LEN];
        let kind = be32(e, 0);
        if matches!(kind, END | COMMENT) {
            continue;
        }
        let (first, count) = (be64(e, 8), be64(e, 16));
        let (offset, len) = (be64(e, 24), be64(e, 32));
        if count > MAX_CHUNK_SECTORS || first.checked_add(count).is_none_or(|end| end > sectors) {
            return Err(bad(format!(
                "chunk {i} covers sectors outside the partition"
            )));
        }
        let range = first as usize * SECTOR..(first + count) as usize * SECTOR;
        if kind == FREE {
            free.push(range.clone());
        }
        if matches!(kind, ZERO | FREE) {
            continue;
        }
        let source = offset
            .checked_add(len)
            .filter(|&end| end <= dmg.len() as u64)
            .map(|end| &dmg[offset as usize..end as usize])
            .ok_or_else(|| bad(format!("chunk {i}'s bytes lie outside the file")))?;
        jobs.push((i, kind, range, source));
    }
    jobs.sort_by_key(|(_, _, range, _)| range.start);
    let mut targets = Vec::with_capacity(jobs.len());
    let mut rest: &mut [u8] = &mut out;
    let mut at = 0;
    for (i, _, range, _) in &jobs {
        if range.start < at {
            return Err(bad(format!("chunk {i} overlaps another chunk's sectors")));
        }
        let (_, tail) = std::mem::take(&mut rest).split_at_mut(range.start - at);
        let (target, tail) = tail.split_at_mut(range.len());
        targets.push(target);
        rest = tail;
        at = range.end;
    }
    jobs.into_par_iter()
        .zip(targets)
        .try_for_each(|((i, kind, _, source), target)| {
            decode_chunk(kind, source, target).map_err(|reason| bad(format!("chunk {i}: {reason}")))
        })?;
    if be32(mish, 0x40) == CHECKSUM_CRC32 {
        let stored = be32(mish, 0x48);
        let mut used = crc32fast::Hasher::new();
        let mut at = 0;
        free.sort_by_key(|r| r.start);
        for range in &free {
            used.update(&out[at..range.start.max(at)]);
            at = at.max(range.end);
        }
        used.update(&out[at..]);
        if stored != used.finalize() && stored != crc32fast::hash(&out) {
            return Err(bad("the decoded sectors' CRC-32 does not match".into()));
        }
    }
    Ok(out)
}

fn decode_chunk(kind: u32, source: &[u8], target: &mut [u8]) -> std::result::Result<(), String> {
    let fill = |reader: &mut dyn Read, target: &mut [u8]| -> std::result::Result<(), String> {
        reader
            .read_exact(target)
            .map_err(|e| format!("decodes to fewer bytes than its sectors: {e}"))?;
        let mut extra = [0u8; 1];
        match reader.read(&mut extra) {
            Ok(0) => Ok(()),
            Ok(_) => Err("decodes to more bytes than its sectors".into()),
            Err(e) => Err(format!("corrupt: {e}")),
        }
    };
    match kind {
        RAW if source.len() == target.len() => {
            target.copy_from_slice(source);
            Ok(())
        }
        RAW => Err("a raw chunk whose length is not its sectors'".into()),
        ZLIB => fill(&mut flate2::read::ZlibDecoder::new(source), target),
        BZIP2 => fill(&mut bzip2::read::BzDecoder::new(source), target),
        LZMA => {
            let stream = liblzma::stream::Stream::new_auto_decoder(u64::MAX, 0)
                .map_err(|e| e.to_string())?;
            fill(
                &mut liblzma::read::XzDecoder::new_stream(source, stream),
                target,
            )
        }
        ADC => Err("ADC compression (pre-2005 images) is not supported".into()),
        LZFSE => Err(
            "LZFSE compression is not supported; convert the image with \
                      `hdiutil convert -format ULMO` (Mozilla ships LZMA or bzip2)"
                .into(),
        ),
        other => Err(format!("unknown chunk type {other:#010x}")),
    }
}

/// One compressed chunk of a partition: what a run of sectors becomes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UdifChunk {
    kind: u32,
    sectors: u64,
    bytes: Vec<u8>,
    crc32: u32,
}

impl UdifChunk {
    /// Compresses `raw` (a whole number of sectors). All-zero runs become free-space
    /// entries with no bytes; a chunk that would not shrink is stored raw.
    pub fn encode(raw: &[u8], compression: Compression) -> Result<UdifChunk> {
        if !raw.len().is_multiple_of(SECTOR) {
            return Err(Error::Udif {
                reason: format!("a chunk of {} bytes is not whole sectors", raw.len()),
            });
        }
        let sectors = (raw.len() / SECTOR) as u64;
        let crc32 = crc32fast::hash(raw);
        if raw.iter().all(|&b| b == 0) {
            return Ok(UdifChunk {
                kind: FREE,
                sectors,
                bytes: Vec::new(),
                crc32,
            });
        }
        let (kind, bytes) = match compression {
            Compression::Zlib => {
                let mut e =
                    flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
                e.write_all(raw)?;
                (ZLIB, e.finish()?)
            }
            Compression::Bzip2 => {
                let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::best());
                e.write_all(raw)?;
                (BZIP2, e.finish()?)
            }
            Compression::Lzma => {
                use liblzma::stream::{Check, Filters, LzmaOptions, Stream};
                let failed = |e: liblzma::stream::Error| Error::Udif {
                    reason: format!("the LZMA encoder failed: {e}"),
                };
                // The preset's dictionary, shrunk to the chunk as `xz` does for small
                // files: the same matches, without setting up (and clearing) 8 MiB of
                // match finder for a 64 KiB chunk.
                let mut options = LzmaOptions::new_preset(LZMA_PRESET).map_err(failed)?;
                let dict = (raw.len() as u32).next_power_of_two().clamp(4096, 8 << 20);
                options.dict_size(dict);
                let mut filters = Filters::new();
                filters.lzma2(&options);
                let stream = Stream::new_stream_encoder(&filters, Check::Crc32).map_err(failed)?;
                let mut e = liblzma::write::XzEncoder::new_stream(Vec::new(), stream);
                e.write_all(raw)?;
                (LZMA, e.finish()?)
            }
        };
        if bytes.len() >= raw.len() {
            return Ok(UdifChunk {
                kind: RAW,
                sectors,
                bytes: raw.to_vec(),
                crc32,
            });
        }
        Ok(UdifChunk {
            kind,
            sectors,
            bytes,
            crc32,
        })
    }

    /// The compressed bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// How many sectors the chunk covers.
    pub fn sectors(&self) -> u64 {
        self.sectors
    }
}

/// Stored through [`crate::piece`]: chunk type and CRC-32 (`u32` each), sector count
/// (`u64`), then the compressed bytes as a byte string. Loading checks that the type is one
/// [`UdifChunk::encode`] writes.
impl Piece for UdifChunk {
    fn save(&self, out: &mut PieceWriter) {
        out.u32(self.kind);
        out.u32(self.crc32);
        out.u64(self.sectors);
        out.bytes(&self.bytes);
    }

    fn load(input: &mut PieceReader<'_>) -> Result<Self> {
        let chunk = UdifChunk {
            kind: input.u32()?,
            crc32: input.u32()?,
            sectors: input.u64()?,
            bytes: input.bytes()?.to_vec(),
        };
        if ![FREE, RAW, ZLIB, BZIP2, LZMA].contains(&chunk.kind) {
            return Err(Error::Udif {
                reason: format!("a cached chunk has type {:#x}", chunk.kind),
            });
        }
        Ok(chunk)
    }
}

/// `--level 5` of Mozilla's `dmg build --compression lzma`.
const LZMA_PRESET: u32 = 5;

/// Writes a one-partition UDIF image: chunks as they come, then the property list and the
/// trailer.
pub struct UdifWriter<W: Write> {
    w: W,
    name: String,
    offset: u64,
    sector: u64,
    entries: Vec<u8>,
    count: u32,
    partition_crc: crc32fast::Hasher,
    data_crc: crc32fast::Hasher,
}

impl<W: Write> UdifWriter<W> {
    /// Starts an image whose one partition is called `name` (e.g.
    /// `disk image (Apple_HFS : 0)`).
    pub fn new(w: W, name: &str) -> Self {
        UdifWriter {
            w,
            name: name.to_owned(),
            offset: 0,
            sector: 0,
            entries: Vec::new(),
            count: 0,
            partition_crc: crc32fast::Hasher::new(),
            data_crc: crc32fast::Hasher::new(),
        }
    }

    /// Appends the next chunk of the partition.
    pub fn append(&mut self, chunk: &UdifChunk) -> Result<()> {
        self.w.write_all(&chunk.bytes)?;
        self.data_crc.update(&chunk.bytes);
        if chunk.kind != FREE {
            self.partition_crc
                .combine(&crc32fast::Hasher::new_with_initial_len(
                    chunk.crc32,
                    chunk.sectors * SECTOR as u64,
                ));
        }
        let len = chunk.bytes.len() as u64;
        // Free-space entries too point at the current offset, as hdiutil writes them (7-Zip
        // checks the partition's CRC-32 only then).
        entry(
            &mut self.entries,
            chunk.kind,
            self.sector,
            chunk.sectors,
            self.offset,
            len,
        );
        self.offset += len;
        self.sector += chunk.sectors;
        self.count += 1;
        Ok(())
    }

    /// Writes the property list and the trailer; returns the writer. The segment id is
    /// derived from the content (the CRC-32s and sizes), never random.
    pub fn finish(mut self) -> Result<W> {
        entry(&mut self.entries, END, self.sector, 0, self.offset, 0);
        let partition_crc = self.partition_crc.finalize();
        let data_crc = self.data_crc.clone().finalize();
        let mut segment_id = [0u8; 16];
        let words = [
            data_crc,
            partition_crc,
            crc32fast::hash(&self.sector.to_be_bytes()),
            crc32fast::hash(&self.entries),
        ];
        for (slot, word) in segment_id.chunks_mut(4).zip(words) {
            slot.copy_from_slice(&word.to_be_bytes());
        }
        let mut mish = Vec::with_capacity(MISH_HEADER_LEN + self.entries.len());
        mish.extend_from_slice(b"mish");
        put32(&mut mish, 1);
        put64(&mut mish, 0);
        put64(&mut mish, self.sector);
        put64(&mut mish, 0);
        put32(&mut mish, RUN_SECTORS as u32 + 8);
        put32(&mut mish, 0);
        mish.extend_from_slice(&[0; 24]);
        checksum(&mut mish, partition_crc);
        put32(&mut mish, self.count + 1);
        mish.extend_from_slice(&self.entries);
        let text = |s: &str| plist::Value::String(s.to_owned());
        let mut partition = plist::Dictionary::new();
        partition.insert("Attributes".into(), text("0x0050"));
        partition.insert("CFName".into(), text(&self.name));
        partition.insert("Data".into(), plist::Value::Data(mish));
        partition.insert("ID".into(), text("0"));
        partition.insert("Name".into(), text(&self.name));
        let mut fork = plist::Dictionary::new();
        fork.insert(
            "blkx".into(),
            plist::Value::Array(vec![plist::Value::Dictionary(partition)]),
        );
        let mut root = plist::Dictionary::new();
        root.insert("resource-fork".into(), plist::Value::Dictionary(fork));
        let mut xml = Vec::new();
        plist::to_writer_xml(&mut xml, &plist::Value::Dictionary(root)).map_err(|e| {
            Error::Udif {
                reason: format!("the property list cannot be written: {e}"),
            }
        })?;
        let mut koly = Vec::with_capacity(KOLY_LEN);
        koly.extend_from_slice(b"koly");
        put32(&mut koly, 4);
        put32(&mut koly, KOLY_LEN as u32);
        put32(&mut koly, 1);
        put64(&mut koly, 0); // running data fork offset
        put64(&mut koly, 0); // data fork offset
        put64(&mut koly, self.offset);
        put64(&mut koly, 0); // resource fork offset
        put64(&mut koly, 0); // resource fork length
        put32(&mut koly, 1); // segment number
        put32(&mut koly, 1); // segment count
        koly.extend_from_slice(&segment_id);
        checksum(&mut koly, data_crc);
        put64(&mut koly, self.offset);
        put64(&mut koly, xml.len() as u64);
        koly.extend_from_slice(&[0; 120]);
        checksum(&mut koly, crc32fast::hash(&partition_crc.to_be_bytes()));
        put32(&mut koly, 1); // image variant
        put64(&mut koly, self.sector);
        koly.extend_from_slice(&[0; 12]);
        debug_assert_eq!(koly.len(), KOLY_LEN);
        self.w.write_all(&xml)?;
        self.w.write_all(&koly)?;
        Ok(self.w)
    }
}

fn entry(out: &mut Vec<u8>, kind: u32, first: u64, count: u64, offset: u64, len: u64) {
    put32(out, kind);
    put32(out, 0);
    put64(out, first);
    put64(out, count);
    put64(out, offset);
    put64(out, len);
}

/// A UDIF checksum field: CRC-32 type, 32 bits, the value, zeros to 136 bytes.
fn checksum(out: &mut Vec<u8>, crc: u32) {
    put32(out, CHECKSUM_CRC32);
    put32(out, 32);
    put32(out, crc);
    out.extend_from_slice(&[0; 124]);
}

fn put32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes());
}

fn put64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_be_bytes());
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn be64(b: &[u8], at: usize) -> u64 {
    u64::from_be_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{random_bytes, tool};

    /// A fake partition: random sectors, text, and a zero run.
    fn volume() -> Vec<u8> {
        let mut v = random_bytes(3 * SECTOR * 5, 7);
        v.extend(b"firefox ".repeat(SECTOR * 40 / 8));
        v.extend(vec![0; SECTOR * 64]);
        v.extend(random_bytes(SECTOR, 8));
        v
    }

    fn image(volume: &[u8], compression: Compression, run: usize) -> Vec<u8> {
        let mut writer = UdifWriter::new(Vec::new(), "disk image (Apple_HFS : 0)");
        for run in volume.chunks(run * SECTOR) {
            writer
                .append(&UdifChunk::encode(run, compression).unwrap())
                .unwrap();
        }
        writer.finish().unwrap()
    }

    #[test]
    fn our_reader_reads_our_images() {
        let v = volume();
        for compression in [Compression::Lzma, Compression::Bzip2, Compression::Zlib] {
            let dmg = image(&v, compression, 16);
            let parts = read_partitions(&dmg).unwrap();
            assert_eq!(parts.len(), 1);
            assert_eq!(parts[0].data, v, "{compression:?}");
        }
    }

    #[test]
    fn seven_zip_and_dmg2img_read_our_images() {
        let v = volume();
        let dir = tempfile::tempdir().unwrap();
        for compression in [Compression::Lzma, Compression::Bzip2, Compression::Zlib] {
            let dmg = dir.path().join(format!("{compression:?}.dmg"));
            std::fs::write(&dmg, image(&v, compression, 16)).unwrap();
            if tool("7z") {
                let out = dir.path().join(format!("{compression:?}-7z"));
                let test = std::process::Command::new("7z")
                    .args(["t", "-tdmg"])
                    .arg(&dmg)
                    .output()
                    .unwrap();
                assert!(test.status.success(), "{compression:?}: {test:?}");
                let run = std::process::Command::new("7z")
                    .args(["x", "-tdmg", "-y"])
                    .arg(format!("-o{}", out.display()))
                    .arg(&dmg)
                    .output()
                    .unwrap();
                assert!(run.status.success(), "{compression:?}: {run:?}");
                let names: Vec<_> = std::fs::read_dir(&out).unwrap().collect();
                assert_eq!(names.len(), 1, "{compression:?}: one partition");
                let got = std::fs::read(names[0].as_ref().unwrap().path()).unwrap();
                assert_eq!(got, v, "{compression:?}: 7z");
            }
            // Debian's dmg2img has no LZMA decoder.
            if compression != Compression::Lzma && tool("dmg2img") {
                let img = dir.path().join(format!("{compression:?}.img"));
                let run = std::process::Command::new("dmg2img")
                    .arg("-s")
                    .arg(&dmg)
                    .arg(&img)
                    .output()
                    .unwrap();
                assert!(run.status.success(), "{compression:?}: {run:?}");
                assert_eq!(std::fs::read(&img).unwrap(), v, "{compression:?}: dmg2img");
            }
        }
    }

    #[test]
    fn chunks_round_trip_through_the_cache() {
        let chunks = [
            UdifChunk::encode(&volume()[..SECTOR * 8], Compression::Bzip2).unwrap(),
            UdifChunk::encode(&[0; SECTOR], Compression::Lzma).unwrap(),
        ];
        let mut out = PieceWriter::new();
        chunks.iter().for_each(|chunk| out.piece(chunk));
        let bytes = out.into_bytes();
        let mut input = PieceReader::new(&bytes);
        let back: [UdifChunk; 2] = [input.piece().unwrap(), input.piece().unwrap()];
        input.finish().unwrap();
        assert_eq!(back, chunks);
        let mut cut = PieceReader::new(&bytes[..bytes.len() - 1]);
        assert_eq!(cut.piece::<UdifChunk>().unwrap(), chunks[0]);
        assert!(cut.piece::<UdifChunk>().is_err());
    }

    #[test]
    fn cached_chunks_of_unknown_types_are_refused() {
        for kind in [ZLIB, ADC, LZFSE, 0, 0xFFFF_FFFF] {
            let mut out = PieceWriter::new();
            out.u32(kind);
            out.u32(0);
            out.u64(1);
            out.bytes(&[0; 4]);
            let bytes = out.into_bytes();
            let loaded = PieceReader::new(&bytes).piece::<UdifChunk>();
            if kind == ZLIB {
                assert!(loaded.is_ok());
            } else {
                let error = loaded.unwrap_err();
                assert!(matches!(error, Error::Udif { .. }), "{kind:#x}: {error}");
            }
        }
    }

    #[test]
    fn corrupt_images_are_refused_with_a_reason() {
        let dmg = image(&volume(), Compression::Zlib, 16);
        let mut flipped = dmg.clone();
        flipped[40] ^= 1;
        let err = read_partitions(&flipped).unwrap_err().to_string();
        assert!(err.contains("CRC-32"), "{err}");
        assert!(read_partitions(&dmg[..dmg.len() - 1]).is_err());
        assert!(read_partitions(&dmg[..100]).is_err());
        assert!(read_partitions(b"").is_err());
    }

    /// Found by `cargo fuzz run pieces` (in the chunk's own reader of the time): a cached
    /// length near `u64::MAX` overflowed `24 + len`.
    #[test]
    fn a_corrupt_cached_chunk_length_is_an_error_not_an_overflow() {
        let mut out = PieceWriter::new();
        out.u32(RAW);
        out.u32(0);
        out.u64(1);
        out.u64(u64::MAX);
        let bytes = out.into_bytes();
        assert!(PieceReader::new(&bytes).piece::<UdifChunk>().is_err());
    }
}
