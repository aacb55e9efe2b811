//! The shared-prefix jar layout (DESIGN.md §2).
//!
//! A repacked jar is laid out as
//!
//! ```text
//! [shared prefix: the entries no locale touches, in en-US order]
//! [tail: this locale's entries, sorted by name]
//! [shared directory: the central records of the prefix entries]
//! [tail directory: the central records of the tail entries, then the end record]
//! ```
//!
//! Local headers hold no offsets, and the prefix sits at offset 0 in every locale's jar, so
//! the prefix and its central records are byte-identical across locales: they are built
//! once per batch ([`SharedJar`]) and only the tail and its directory are built per locale
//! ([`LocaleJar`]). Firefox reads entries through the central directory and does not care
//! about their order (nsZipArchive).

use packagers::jar::{self, RawEntry};

use crate::error::{Error, Result};
use crate::l10n::{JarLayout, JarOverlay, TailData, TailEntry};
use crate::stage::{StagedBuild, StagedJar};

/// The part of a repacked jar that every locale shares.
#[derive(Debug)]
pub struct SharedJar {
    /// Local records (header + data) of the untouched entries.
    pub prefix: Vec<u8>,
    /// Their central-directory records.
    pub directory: Vec<u8>,
    /// How many entries the prefix holds.
    pub count: usize,
}

impl SharedJar {
    /// Lays out the untouched entries of `jar`.
    pub fn build(staged: &StagedBuild, jar: &StagedJar, layout: &JarLayout) -> Result<SharedJar> {
        let mut prefix = Vec::new();
        let mut directory = Vec::new();
        let mut count = 0;
        for (i, info) in jar.entries.iter().enumerate() {
            if layout.touched[i] {
                continue;
            }
            let entry = raw_entry(staged, jar, i, &info.name);
            let offset = prefix.len() as u64;
            jar::append_local(&mut prefix, &entry).map_err(|e| write_error(jar, e))?;
            jar::append_central(&mut directory, &entry, offset).map_err(|e| write_error(jar, e))?;
            count += 1;
        }
        Ok(SharedJar {
            prefix,
            directory,
            count,
        })
    }
}

/// One locale's own part of a repacked jar.
#[derive(Debug)]
pub struct LocaleJar {
    /// Local records of the tail entries.
    pub tail: Vec<u8>,
    /// Central records of the tail entries, then the end of central directory record.
    pub directory_tail: Vec<u8>,
    /// Where each tail entry's records are, in tail order.
    records: Vec<RecordSpan>,
}

/// Where one tail entry's records are in a [`LocaleJar`].
#[derive(Debug)]
struct RecordSpan {
    name: String,
    /// Its local record (header and data) in `tail`.
    local: std::ops::Range<usize>,
    /// Its central record in `directory_tail`.
    central: std::ops::Range<usize>,
}

/// One entry of a locale's jar tail, as written: its local record (which holds no offset)
/// and its central record. It moves into another jar's tail byte for byte
/// ([`TailPart::Record`]); the multi-locale package is made of these.
#[derive(Clone, Debug)]
pub struct TailRecord {
    /// The entry name.
    pub name: String,
    /// Local header and data.
    pub local: Vec<u8>,
    /// Central-directory record (its offset is rewritten where it lands).
    pub central: Vec<u8>,
}

/// One entry of a tail being laid out.
pub enum TailPart<'a> {
    /// An overlay entry: en-US bytes as they are, or new content compressed here.
    Entry(&'a TailEntry),
    /// An entry already written, moved as it is.
    Record(&'a TailRecord),
}

impl TailPart<'_> {
    fn name(&self) -> &str {
        match self {
            TailPart::Entry(entry) => &entry.name,
            TailPart::Record(record) => &record.name,
        }
    }
}

impl LocaleJar {
    /// Builds the tail of `jar` for one locale's overlay.
    pub fn build(
        staged: &StagedBuild,
        jar: &StagedJar,
        layout: &JarLayout,
        shared: &SharedJar,
        overlay: &JarOverlay,
    ) -> Result<LocaleJar> {
        LocaleJar::assemble(
            staged,
            jar,
            layout,
            shared,
            overlay.tail.iter().map(TailPart::Entry),
        )
    }

    /// Lays out a tail from `parts`, in the order given, behind `shared`'s prefix. Fails
    /// when a part has the name of an entry of the shared prefix.
    pub fn assemble<'a>(
        staged: &StagedBuild,
        jar: &StagedJar,
        layout: &JarLayout,
        shared: &SharedJar,
        parts: impl IntoIterator<Item = TailPart<'a>>,
    ) -> Result<LocaleJar> {
        let mut tail = Vec::new();
        let mut directory_tail = Vec::new();
        let mut records = Vec::new();
        let mut buf = Vec::new();
        for part in parts {
            let name = part.name();
            if let Some(&i) = jar.by_name.get(name)
                && !layout.touched[i]
            {
                return Err(Error::Input {
                    path: staged.source.clone(),
                    reason: format!(
                        "{} already holds {name}; multi-locale builds cannot be repacked",
                        jar.path
                    ),
                });
            }
            let (local_start, central_start) = (tail.len(), directory_tail.len());
            let offset = (shared.prefix.len() + tail.len()) as u64;
            match part {
                TailPart::Entry(entry) => {
                    let raw = match &entry.data {
                        TailData::EnUs(i) => raw_entry(staged, jar, *i, &entry.name),
                        TailData::New(content) => RawEntry::compress(
                            &entry.name,
                            content,
                            entry.method,
                            0o100644,
                            &mut buf,
                        )
                        .map_err(|e| write_error(jar, e))?,
                    };
                    jar::append_local(&mut tail, &raw).map_err(|e| write_error(jar, e))?;
                    jar::append_central(&mut directory_tail, &raw, offset)
                        .map_err(|e| write_error(jar, e))?;
                }
                TailPart::Record(record) => {
                    tail.extend_from_slice(&record.local);
                    jar::append_central_moved(&mut directory_tail, &record.central, offset)
                        .map_err(|e| write_error(jar, e))?;
                }
            }
            records.push(RecordSpan {
                name: name.to_owned(),
                local: local_start..tail.len(),
                central: central_start..directory_tail.len(),
            });
        }
        let start = (shared.prefix.len() + tail.len()) as u64;
        let directory = start..start + (shared.directory.len() + directory_tail.len()) as u64;
        jar::append_end(&mut directory_tail, shared.count + records.len(), directory)
            .map_err(|e| write_error(jar, e))?;
        Ok(LocaleJar {
            tail,
            directory_tail,
            records,
        })
    }

    /// Copies of the tail entries whose names `keep` accepts, in tail order.
    pub fn records(&self, keep: impl Fn(&str) -> bool) -> Vec<TailRecord> {
        self.records
            .iter()
            .filter(|r| keep(&r.name))
            .map(|r| TailRecord {
                name: r.name.clone(),
                local: self.tail[r.local.clone()].to_vec(),
                central: self.directory_tail[r.central.clone()].to_vec(),
            })
            .collect()
    }

    /// The jar's total size.
    pub fn len(&self, shared: &SharedJar) -> u64 {
        (shared.prefix.len() + self.tail.len() + shared.directory.len() + self.directory_tail.len())
            as u64
    }

    /// The jar's four parts in file order.
    pub fn parts<'a>(&'a self, shared: &'a SharedJar) -> [&'a [u8]; 4] {
        [
            &shared.prefix,
            &self.tail,
            &shared.directory,
            &self.directory_tail,
        ]
    }
}

fn raw_entry<'a>(
    staged: &'a StagedBuild,
    jar: &StagedJar,
    i: usize,
    name: &'a str,
) -> RawEntry<'a> {
    let info = &jar.entries[i];
    RawEntry {
        name,
        method: info.method,
        crc32: info.crc32,
        size: info.size,
        data: staged.entry_raw(jar, i),
        mode: info.mode,
    }
}

fn write_error(jar: &StagedJar, source: packagers::Error) -> Error {
    Error::Write {
        what: jar.path.to_owned(),
        source,
    }
}
