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
use crate::l10n::{JarLayout, JarOverlay, TailData};
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
        let mut tail = Vec::new();
        let mut directory_tail = Vec::new();
        let mut buf = Vec::new();
        for entry in &overlay.tail {
            if let Some(&i) = jar.by_name.get(&entry.name)
                && !layout.touched[i]
            {
                return Err(Error::Input {
                    path: staged.source.clone(),
                    reason: format!(
                        "{} already holds {}; multi-locale builds cannot be repacked",
                        jar.path, entry.name
                    ),
                });
            }
            let raw = match &entry.data {
                TailData::EnUs(i) => raw_entry(staged, jar, *i, &entry.name),
                TailData::New(content) => {
                    RawEntry::compress(&entry.name, content, entry.method, 0o100644, &mut buf)
                        .map_err(|e| write_error(jar, e))?
                }
            };
            let offset = (shared.prefix.len() + tail.len()) as u64;
            jar::append_local(&mut tail, &raw).map_err(|e| write_error(jar, e))?;
            jar::append_central(&mut directory_tail, &raw, offset)
                .map_err(|e| write_error(jar, e))?;
        }
        let start = (shared.prefix.len() + tail.len()) as u64;
        let directory = start..start + (shared.directory.len() + directory_tail.len()) as u64;
        jar::append_end(
            &mut directory_tail,
            shared.count + overlay.tail.len(),
            directory,
        )
        .map_err(|e| write_error(jar, e))?;
        Ok(LocaleJar {
            tail,
            directory_tail,
        })
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
