//! The macOS disk image, `<name>.dmg` (`Firefox <version>.dmg` in the release layout): an
//! HFS+ volume ([`packagers::hfs`], Apple's TN1150) wrapped in UDIF ([`packagers::udif`]),
//! as Mozilla's `dmg` tool makes it, built from pieces shared by the batch.
//!
//! **Layout, fixed per batch.** Every locale's volume has the same size and catalog
//! allotment, so its special files end at the same block; after them come, in package
//! order, the files no locale changes, each at the same blocks in every volume; then one
//! region per jar, sized for the en-US jar plus headroom, where the jar starts at the same
//! block in every volume (so its shared prefix lands on the same sectors); then a region
//! for the locale's own files (`precomplete`, `<lang>.lproj`, NON_CHROME files).
//!
//! **Shared once.** A template volume holds only the shared bytes at their blocks; each
//! UDIF chunk lying wholly inside shared bytes is compressed once per batch. Chunks are
//! Mozilla's 2048 sectors (1 MiB), except from the sector where a jar's shared prefix ends
//! to the end of the jar's region: there they are `LOCALE_CHUNK` bytes, so that a locale
//! compresses about its jar's tail and directory, not the megabytes around them. A
//! locale's volume is built whole, then cut into the same chunks: a chunk whose bytes
//! equal the template's is copied compressed, the others (the headers, the catalog and
//! bitmap, the jars' tails, the locale's files) are compressed for the locale. The
//! comparison is of the bytes themselves, so a chunk is reused only when it is right.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::ops::Range;

use packagers::hfs::{BLOCK, HfsBuilder, HfsEntry, HfsNode};
use packagers::udif::{self, Compression, UdifChunk, UdifWriter};
use rayon::prelude::*;

use packagers::piece::{PieceReader, PieceWriter, inconsistent};

use super::check::{check_package_jars, check_precomplete};
use super::{
    Build, ByteOption, Loaded, Locale, Names, Packager, Prepared, Settings, Target, Written,
    write_file,
};
use crate::error::{Error, Result};
use crate::jar::SharedJar;
use crate::package::{Item, LocalePackage, item_path};
use crate::platform::{MAC_RESOURCES, Os};
use crate::stage::{MemberKind, StagedBuild};

/// Bytes per UDIF chunk: Mozilla's `--run-sectors 2048`.
const CHUNK: usize = udif::RUN_SECTORS * udif::SECTOR;

/// Bytes per UDIF chunk where the jars' locale parts go (128 sectors): what a locale
/// compresses of its jars is their tails and directories rounded up to this.
const LOCALE_CHUNK: usize = 128 * udif::SECTOR;

/// Room left for a locale's jar beyond the en-US one: the larger of this and a quarter.
const JAR_HEADROOM: u64 = 16 << 20;

/// Room for the locale's own files beyond en-US's.
const OWN_HEADROOM: u64 = 16 << 20;

/// The partition name `hdiutil` gives a volume without a partition map.
const PARTITION: &str = "disk image (Apple_HFS : 0)";

/// The macOS dmg.
pub struct Dmg;

impl Packager for Dmg {
    fn id(&self) -> &'static str {
        "dmg"
    }

    fn fits(&self, os: Os) -> bool {
        os == Os::Mac
    }

    fn is_default(&self, os: Os) -> bool {
        os == Os::Mac
    }

    fn name(&self, names: &Names<'_>) -> String {
        if names.release {
            format!(
                "{}{} {}.dmg",
                names.release_dir(),
                names.product.display,
                names.version
            )
        } else {
            format!("{}.dmg", names.nightly_stem())
        }
    }

    fn options(&self, settings: &Settings) -> Vec<ByteOption> {
        let compression = match settings.dmg_compression {
            Compression::Lzma => "lzma",
            Compression::Bzip2 => "bzip2",
            Compression::Zlib => "zlib",
        };
        vec![ByteOption::pieces("dmg", "compression", compression)]
    }

    fn prepare(&self, build: &Build<'_>) -> Result<Box<dyn Prepared>> {
        let settings = build.settings;
        Ok(Box::new(DmgPieces::encode(
            build,
            settings.dmg_compression,
        )?))
    }

    /// The layout and template are laid out again, which is cheap; the shared chunks are
    /// read.
    fn load(&self, build: &Build<'_>, input: &mut PieceReader<'_>) -> Loaded {
        let settings = build.settings;
        let TemplateVolume {
            layout,
            volume: template,
            plan,
            ..
        } = DmgPieces::template(build.staged, &build.jars, &build.fixed)
            .map_err(|e| inconsistent(&crate::error::chain(&e)))?;
        let cached: Vec<(u64, UdifChunk)> = input.list()?;
        let mut chunks = vec![None; plan.len()];
        for (i, chunk) in cached {
            let i = usize::try_from(i).map_err(|_| inconsistent("a chunk index"))?;
            if plan.get(i).map(|c| c.len() as u64) != Some(chunk.sectors() * udif::SECTOR as u64) {
                return Err(inconsistent("a chunk's size"));
            }
            chunks[i] = Some(chunk);
        }
        Ok(Box::new(DmgPieces {
            compression: settings.dmg_compression,
            layout,
            template,
            plan,
            chunks,
        }))
    }

    fn check(&self, data: &[u8], locale: &str, expected: &[(String, Vec<u8>)]) -> Vec<String> {
        check_dmg(data, locale, expected)
    }
}

impl Prepared for DmgPieces {
    fn save(&self, out: &mut PieceWriter) {
        let shared: Vec<(u64, &UdifChunk)> = self
            .chunks
            .iter()
            .enumerate()
            .filter_map(|(i, c)| Some((i as u64, c.as_ref()?)))
            .collect();
        out.len(shared.len());
        for (i, chunk) in shared {
            out.u64(i);
            out.piece(chunk);
        }
    }

    fn shared_bytes(&self) -> u64 {
        self.chunks
            .iter()
            .flatten()
            .map(|c| c.bytes().len() as u64)
            .sum()
    }

    fn write_locale(&self, locale: &Locale<'_>, target: Target<'_>) -> Result<Written> {
        let build = locale.build;
        write_file(target, |out| {
            self.write_dmg(build, locale.package, out)?;
            Ok(())
        })
    }
}

/// Where everything goes in every locale's volume.
#[derive(Debug)]
struct VolumeLayout {
    size: u64,
    catalog_nodes: u32,
    /// Start block of each file no locale changes, by member.
    shared: BTreeMap<usize, u32>,
    /// Per jar: start block and the region's end block.
    jars: Vec<(u32, u32)>,
    /// The locale's own files: first and end block.
    own: (u32, u32),
}

/// What [`DmgPieces::template`] lays out: the layout, the template volume (shared bytes at
/// their blocks, zeros elsewhere), the chunk plan, and the chunks wholly inside shared bytes.
struct TemplateVolume {
    layout: VolumeLayout,
    volume: Vec<u8>,
    plan: Vec<Range<usize>>,
    shared: Vec<usize>,
}

/// The dmg pieces every locale shares.
struct DmgPieces {
    compression: Compression,
    layout: VolumeLayout,
    template: Vec<u8>,
    /// The byte range of every chunk of the partition, in order.
    plan: Vec<Range<usize>>,
    /// Per chunk of `plan`: compressed once, when it lies wholly inside shared bytes.
    chunks: Vec<Option<UdifChunk>>,
}

impl DmgPieces {
    /// Lays out the volume and compresses the chunks of its shared bytes. `fixed` are the
    /// members no locale changes, in package order.
    fn encode(build: &Build<'_>, compression: Compression) -> Result<DmgPieces> {
        let (staged, jars, fixed) = (build.staged, &build.jars, &build.fixed);
        let TemplateVolume {
            layout,
            volume: template,
            plan,
            shared,
        } = DmgPieces::template(staged, jars, fixed)?;
        let encoded = shared
            .par_iter()
            .map(|&i| UdifChunk::encode(&template[plan[i].clone()], compression))
            .collect::<packagers::Result<Vec<_>>>()
            .map_err(|source| Error::Write {
                what: "the shared chunks of the dmg".into(),
                source,
            })?;
        let mut chunks = vec![None; plan.len()];
        for (i, c) in shared.into_iter().zip(encoded) {
            chunks[i] = Some(c);
        }
        Ok(DmgPieces {
            compression,
            layout,
            template,
            plan,
            chunks,
        })
    }

    /// The layout, the template volume (shared bytes at their blocks, zeros elsewhere),
    /// the chunk plan and the chunks lying wholly inside shared bytes.
    fn template(
        staged: &StagedBuild,
        jars: &[SharedJar],
        fixed: &[usize],
    ) -> Result<TemplateVolume> {
        let layout = VolumeLayout::plan(staged, fixed)?;
        let mut template = vec![0u8; layout.size as usize];
        let mut spans = Vec::new();
        let mut locale_parts = Vec::new();
        for (&m, &block) in &layout.shared {
            let data = staged.members[m].data().unwrap_or_default();
            let start = u64::from(block) * BLOCK;
            template[start as usize..start as usize + data.len()].copy_from_slice(data);
            spans.push(start..start + data.len() as u64);
        }
        for (jar, &(block, end)) in jars.iter().zip(&layout.jars) {
            let start = u64::from(block) * BLOCK;
            template[start as usize..start as usize + jar.prefix.len()]
                .copy_from_slice(&jar.prefix);
            spans.push(start..start + jar.prefix.len() as u64);
            locale_parts.push(start as usize + jar.prefix.len()..(u64::from(end) * BLOCK) as usize);
        }
        // Chunks wholly inside shared bytes (neighbouring spans joined).
        spans.sort_by_key(|s| s.start);
        let mut joined: Vec<std::ops::Range<u64>> = Vec::new();
        for span in spans {
            match joined.last_mut() {
                Some(last) if span.start <= last.end.div_ceil(BLOCK) * BLOCK => {
                    last.end = last.end.max(span.end)
                }
                _ => joined.push(span),
            }
        }
        let plan = chunk_plan(template.len(), &locale_parts);
        let shared: Vec<usize> = plan
            .iter()
            .enumerate()
            .filter(|(_, c)| {
                let (start, end) = (c.start as u64, c.end as u64);
                joined.iter().any(|s| s.start <= start && end <= s.end)
            })
            .map(|(i, _)| i)
            .collect();
        Ok(TemplateVolume {
            layout,
            volume: template,
            plan,
            shared,
        })
    }

    /// Writes the locale's dmg.
    fn write_dmg<W: Write>(&self, build: &Build<'_>, package: &LocalePackage, out: W) -> Result<W> {
        let (staged, jars, mtime) = (build.staged, &build.jars, build.mtime);
        let wrap = |source| Error::Write {
            what: "the .dmg".into(),
            source,
        };
        let layout = &self.layout;
        let name = staged.volume_name.as_deref().unwrap_or(&staged.app.name);
        let mut builder =
            HfsBuilder::new(name, layout.size, layout.catalog_nodes, mtime).map_err(wrap)?;
        let mut own = layout.own.0;
        for item in &package.items {
            let path = item_path(staged, item);
            let mut entry = HfsEntry {
                path: path.to_owned(),
                mode: 0o644,
                node: HfsNode::Dir,
                finder_info: None,
                xattrs: Vec::new(),
            };
            match item {
                Item::Member(m) => {
                    let member = &staged.members[*m];
                    entry.mode = member.mode;
                    if let Some(hfs) = &member.hfs {
                        entry.finder_info = hfs.finder_info;
                        entry.xattrs = hfs.xattrs.clone();
                    }
                    match &member.kind {
                        MemberKind::Dir => builder.dir(&entry).map_err(wrap)?,
                        MemberKind::Symlink(target) => {
                            builder.symlink(&entry, target).map_err(wrap)?
                        }
                        MemberKind::File(data) => {
                            let block = match layout.shared.get(m) {
                                Some(&block) => block,
                                None => place(&mut own, layout.own.1, data, path)?,
                            };
                            builder.file_at(&entry, data, block).map_err(wrap)?;
                        }
                    }
                }
                Item::Jar {
                    jar,
                    member,
                    locale,
                } => {
                    entry.mode = staged.members[*member].mode;
                    let bytes = locale.parts(&jars[*jar]).concat();
                    let (start, end) = layout.jars[*jar];
                    if u64::from(start) * BLOCK + bytes.len() as u64 > u64::from(end) * BLOCK {
                        return Err(Error::Write {
                            what: "the .dmg".into(),
                            source: packagers::Error::Hfs {
                                reason: format!(
                                    "{path} is {} bytes, more than the room left for it; \
                                     this locale's jar grew beyond en-US's by more than the \
                                     headroom, please report it",
                                    bytes.len()
                                ),
                            },
                        });
                    }
                    builder.file_at(&entry, &bytes, start).map_err(wrap)?;
                }
                Item::File { mode, data, .. } => {
                    entry.mode = *mode;
                    let block = place(&mut own, layout.own.1, data, path)?;
                    builder.file_at(&entry, data, block).map_err(wrap)?;
                }
                Item::Dir { .. } => {
                    entry.mode = 0o755;
                    builder.dir(&entry).map_err(wrap)?;
                }
            }
        }
        let volume = builder.finish().map_err(wrap)?;
        let mut writer = UdifWriter::new(out, PARTITION);
        for (i, range) in self.plan.iter().enumerate() {
            let raw = &volume[range.clone()];
            let cached = self.chunks.get(i).and_then(Option::as_ref);
            match cached {
                Some(c) if raw == &self.template[range.clone()] => writer.append(c),
                _ => writer.append(&UdifChunk::encode(raw, self.compression).map_err(wrap)?),
            }
            .map_err(wrap)?;
        }
        writer.finish().map_err(wrap)
    }
}

impl VolumeLayout {
    fn plan(staged: &StagedBuild, fixed: &[usize]) -> Result<VolumeLayout> {
        let blocks = |len: u64| u64::from(HfsBuilder::blocks(len));
        let files: Vec<usize> = fixed
            .iter()
            .copied()
            .filter(|&m| staged.members[m].data().is_some())
            .collect();
        let shared_blocks: u64 = files
            .iter()
            .map(|&m| blocks(staged.members[m].data().unwrap_or_default().len() as u64))
            .sum();
        let jar_blocks: Vec<u64> = staged
            .jars
            .iter()
            .map(|jar| {
                let len = staged.jar_bytes(jar).len() as u64;
                blocks(len + JAR_HEADROOM.max(len / 4))
            })
            .collect();
        let fixed_set: std::collections::BTreeSet<usize> = fixed.iter().copied().collect();
        let jar_members: Vec<usize> = staged.jars.iter().map(|j| j.member).collect();
        let own_en_us: u64 = staged
            .members
            .iter()
            .enumerate()
            .filter(|(m, _)| !fixed_set.contains(m) && !jar_members.contains(m))
            .filter_map(|(_, member)| member.data())
            .map(|d| blocks(d.len() as u64))
            .sum();
        let own_blocks = own_en_us + blocks(OWN_HEADROOM);
        let catalog_nodes = 64 + u32::try_from(staged.members.len() / 4).unwrap_or(u32::MAX);
        // The head depends on the size (the bitmap grows with it): size generously, then
        // lay out from the head that size gives.
        let data_blocks = shared_blocks + jar_blocks.iter().sum::<u64>() + own_blocks;
        let guess = (data_blocks + u64::from(catalog_nodes) + 4096) * BLOCK;
        let size = guess.div_ceil(CHUNK as u64) * CHUNK as u64;
        let write_error = |reason: String| Error::Write {
            what: "the .dmg".into(),
            source: packagers::Error::Hfs { reason },
        };
        let start =
            HfsBuilder::data_start_for(size, catalog_nodes).map_err(|source| Error::Write {
                what: "the .dmg".into(),
                source,
            })?;
        let mut cursor = u64::from(start);
        let mut shared = BTreeMap::new();
        for &m in &files {
            shared.insert(m, cursor as u32);
            cursor += blocks(staged.members[m].data().unwrap_or_default().len() as u64);
        }
        let mut jars = Vec::new();
        for b in jar_blocks {
            jars.push((cursor as u32, (cursor + b) as u32));
            cursor += b;
        }
        let own = (cursor as u32, (cursor + own_blocks) as u32);
        if (cursor + own_blocks + 1) * BLOCK > size {
            return Err(write_error(
                "the volume layout does not fit its size".into(),
            ));
        }
        Ok(VolumeLayout {
            size,
            catalog_nodes,
            shared,
            jars,
            own,
        })
    }
}

/// Places `data` at the own-files cursor; fails when the region is full.
fn place(cursor: &mut u32, end: u32, data: &[u8], path: &str) -> Result<u32> {
    let block = *cursor;
    let next = block + HfsBuilder::blocks(data.len() as u64);
    if next > end {
        return Err(Error::Write {
            what: "the .dmg".into(),
            source: packagers::Error::Hfs {
                reason: format!(
                    "{path} does not fit in the room kept for the locale's own files; the \
                     locale adds more than {} MiB over en-US's, please report it",
                    OWN_HEADROOM >> 20
                ),
            },
        });
    }
    *cursor = next;
    Ok(block)
}

/// The chunks of a `size`-byte volume: [`CHUNK`]s on a grid from the start, except in each
/// of `locale_parts` (from where a jar's shared prefix ends to the end of its region),
/// which is cut into [`LOCALE_CHUNK`]s from the sector the part starts in. Every boundary
/// is a sector boundary.
fn chunk_plan(size: usize, locale_parts: &[Range<usize>]) -> Vec<Range<usize>> {
    let sector = udif::SECTOR;
    let mut parts: Vec<Range<usize>> = locale_parts
        .iter()
        .map(|p| p.start / sector * sector..p.end.min(size))
        .filter(|p| !p.is_empty())
        .collect();
    parts.sort_by_key(|p| p.start);
    let mut plan = Vec::new();
    let mut at = 0;
    let mut parts = parts.into_iter().peekable();
    while at < size {
        if let Some(part) = parts.next_if(|p| p.start <= at) {
            let mut start = at;
            while start < part.end {
                let end = (start + LOCALE_CHUNK).min(part.end);
                plan.push(start..end);
                start = end;
            }
            at = at.max(part.end);
            continue;
        }
        let grid = (at / CHUNK + 1) * CHUNK;
        let next_part = parts.peek().map_or(usize::MAX, |p| p.start);
        let end = grid.min(next_part).min(size);
        plan.push(at..end);
        at = end;
    }
    plan
}

/// A macOS dmg: the jars in the bundle's `Contents/Resources`, as for tarballs.
fn check_dmg(data: &[u8], locale: &str, expected: &[(String, Vec<u8>)]) -> Vec<String> {
    let partitions = match packagers::udif::read_partitions(data) {
        Ok(partitions) => partitions,
        Err(e) => return vec![format!("not a readable dmg: {e}")],
    };
    let Some(volume) = partitions
        .into_iter()
        .find(|p| matches!(p.data.get(1024..1026), Some(b"H+" | b"HX")))
    else {
        return vec!["the dmg has no HFS+ partition".into()];
    };
    let volume = match packagers::hfs::read_volume(volume.data) {
        Ok(volume) => volume,
        Err(e) => return vec![format!("the volume cannot be read: {e}")],
    };
    let jar = |rel: &str| {
        volume.entries.iter().find_map(|e| {
            let (bundle, rest) = e.path.split_once('/')?;
            let file = rest.strip_prefix(MAC_RESOURCES)?;
            match (&e.node, bundle.ends_with(".app") && file == rel) {
                (packagers::hfs::HfsNode::File(data), true) => Some(data.as_slice()),
                _ => None,
            }
        })
    };
    let Some(omni) = jar("omni.ja") else {
        return vec!["the package has no omni.ja".into()];
    };
    let mut problems = check_package_jars(omni, jar("browser/omni.ja"), locale, expected);
    if let Some(text) = jar("precomplete") {
        // precomplete's paths are relative to the bundle (`Contents/…`).
        let mut files = BTreeSet::new();
        let mut dirs = BTreeSet::new();
        for e in &volume.entries {
            let Some((bundle, rest)) = e.path.split_once('/') else {
                continue;
            };
            if !bundle.ends_with(".app") {
                continue;
            }
            match e.node {
                packagers::hfs::HfsNode::Dir => {
                    dirs.insert(rest.to_owned());
                }
                _ => {
                    files.insert(rest);
                }
            }
        }
        problems.extend(check_precomplete(
            &String::from_utf8_lossy(text),
            &files,
            Some(&dirs),
        ));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_follow_the_grid_and_cut_the_locale_parts_fine() {
        let size = 5 * CHUNK + 4096;
        // A jar prefix ending mid-sector in chunk 1, its region ending in chunk 2.
        let part = CHUNK + 3 * LOCALE_CHUNK + 700..2 * CHUNK + 8192;
        let plan = chunk_plan(size, std::slice::from_ref(&part));
        // Contiguous, sector-aligned, covering the volume.
        assert_eq!(plan[0].start, 0);
        assert_eq!(plan.last().unwrap().end, size);
        for pair in plan.windows(2) {
            assert_eq!(pair[0].end, pair[1].start);
        }
        assert!(
            plan.iter()
                .all(|c| c.start % udif::SECTOR == 0 && !c.is_empty())
        );
        assert!(plan.iter().all(|c| c.len() <= CHUNK));
        // The grid up to the part, which starts at the sector holding the prefix's end.
        let starts: Vec<usize> = plan.iter().map(|c| c.start).collect();
        assert!(starts.contains(&CHUNK));
        let first = (part.start / udif::SECTOR) * udif::SECTOR;
        assert!(starts.contains(&first));
        assert!(
            !starts.contains(&(2 * CHUNK)),
            "no grid point inside the part"
        );
        let fine: Vec<&Range<usize>> = plan
            .iter()
            .filter(|c| c.start >= first && c.end <= part.end)
            .collect();
        assert!(fine.iter().all(|c| c.len() <= LOCALE_CHUNK));
        assert_eq!(fine.last().unwrap().end, part.end);
        // Back on the grid after the part.
        assert!(starts.contains(&(3 * CHUNK)));
        assert_eq!(chunk_plan(size, &[]).len(), 6);
    }
}
