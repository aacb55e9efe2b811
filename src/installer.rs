//! The Windows installer's inputs: the 7-Zip SFX stub, the config tag, and the per-locale
//! NSIS binaries that upstream l10n tasks build (mozilla-formats.md §5).
//!
//! `setup.exe` = stub ‖ tag ‖ 7z archive. The stub (Mozilla's `7zSD.Win32.sfx`) scans its
//! own file for the tag between `;!@Install@!UTF-8!` and `;!@InstallEnd@!` and gives up when
//! the start marker is not within the first MiB, so the tag is checked here, before any
//! work. The NSIS binaries are not locale-neutral: `--installer-dir` holds
//! `<locale>/setup.exe` (put in the archive next to `core/`) and `<locale>/helper.exe`
//! (the uninstaller, `uninstall/helper.exe` in the package), with `en-US/` for locales that
//! have none of their own, each such fallback reported.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::input::read_regular;
use crate::l10n::{Finding, FindingKind};

/// Where the config starts.
pub const TAG_START: &[u8] = b";!@Install@!UTF-8!";
/// Where the config ends.
pub const TAG_END: &[u8] = b";!@InstallEnd@!";
/// How far into the file the stub looks for [`TAG_START`].
pub const TAG_SEARCH_LIMIT: usize = 1 << 20;

/// The source locale, whose binaries are the fallback.
const EN_US: &str = "en-US";

/// Largest NSIS binary read from `--installer-dir`: Mozilla's `setup.exe` and
/// `helper.exe` are about 1 MB each.
pub const MAX_NSIS_BYTES: u64 = 64 << 20;

/// The stub and the tag, read and checked.
#[derive(Clone, Debug)]
pub struct SfxParts {
    /// The SFX stub's bytes.
    pub stub: Vec<u8>,
    /// The config tag's bytes.
    pub tag: Vec<u8>,
}

impl SfxParts {
    /// Reads `stub` and `tag`; fails (usage error) when the stub could not find the tag.
    pub fn load(stub: &Path, tag: &Path) -> Result<SfxParts> {
        // Neither can usefully exceed the first MiB, where the stub looks for the tag.
        let read = |path: &Path, what: &str| {
            read_regular(path, TAG_SEARCH_LIMIT as u64).map_err(|e| {
                let hint = if e.kind() == std::io::ErrorKind::NotFound {
                    "; give the file"
                } else {
                    ""
                };
                Error::Usage(format!("{what} {}: {e}{hint}", path.display()))
            })
        };
        let stub_bytes = read(stub, "--sfx-stub")?;
        let tag_bytes = read(tag, "--installer-tag")?;
        if stub_bytes.is_empty() {
            return Err(Error::Usage(format!(
                "--sfx-stub {}: the file is empty; give Mozilla's 7zSD.Win32.sfx",
                stub.display()
            )));
        }
        let bad_tag = |why: &str| {
            Error::Usage(format!(
                "--installer-tag {}: {why}; give Mozilla's browser/installer/windows/app.tag",
                tag.display()
            ))
        };
        let start = find(&tag_bytes, TAG_START)
            .ok_or_else(|| bad_tag("it has no ;!@Install@!UTF-8! line"))?;
        let end = find(&tag_bytes, TAG_END).ok_or_else(|| bad_tag("it has no ;!@InstallEnd@!"))?;
        if end < start {
            return Err(bad_tag(";!@InstallEnd@! comes before ;!@Install@!UTF-8!"));
        }
        if tag_bytes[start..end].contains(&0) {
            return Err(bad_tag(
                "the config holds a NUL byte, which the stub refuses",
            ));
        }
        if stub_bytes.len() + start + TAG_START.len() > TAG_SEARCH_LIMIT {
            return Err(Error::Usage(format!(
                "--sfx-stub {}: {} bytes, so the tag would start past the first MiB, where \
                 the stub stops looking for it; give a smaller (UPX-packed) stub",
                stub.display(),
                stub_bytes.len()
            )));
        }
        Ok(SfxParts {
            stub: stub_bytes,
            tag: tag_bytes,
        })
    }
}

/// One NSIS binary for a locale: its bytes, and the fallback finding when they are
/// en-US's.
#[derive(Clone, Debug)]
pub struct NsisFile {
    /// The binary.
    pub data: Vec<u8>,
    /// Set when the locale has none of its own and en-US's is used.
    pub fallback: Option<Finding>,
}

/// Finds `name` (`setup.exe`, `helper.exe`) for `locale` under the installer directory:
/// `<dir>/<locale>/<name>`, else `<dir>/en-US/<name>` with a fallback finding, else `None`.
pub fn nsis_file(dir: &Path, locale: &str, name: &str) -> Result<Option<NsisFile>> {
    let own = dir.join(locale).join(name);
    if let Some(data) = read_if_exists(&own)? {
        return Ok(Some(NsisFile {
            data,
            fallback: None,
        }));
    }
    let en_us = dir.join(EN_US).join(name);
    let Some(data) = read_if_exists(&en_us)? else {
        return Ok(None);
    };
    let fallback = Finding {
        kind: FindingKind::MissingFile,
        file: format!("installer/{name}"),
        key: None,
        line: None,
        strings: None,
        detail: format!(
            "no {} for this locale; the en-US one ({}) is used",
            own.display(),
            en_us.display()
        ),
    };
    Ok(Some(NsisFile {
        data,
        fallback: Some(fallback),
    }))
}

/// Checks `--installer-dir` before any work.
pub fn check_dir(dir: &Path) -> Result<PathBuf> {
    if !dir.is_dir() {
        return Err(Error::Usage(format!(
            "--installer-dir {}: not a directory; give the directory holding \
             <locale>/setup.exe and <locale>/helper.exe",
            dir.display()
        )));
    }
    Ok(std::path::absolute(dir).unwrap_or_else(|_| dir.to_owned()))
}

/// The binary at `path`, `None` when there is none; a FIFO, a device or a file over
/// [`MAX_NSIS_BYTES`] is an error (the locale fails), never a hang.
fn read_if_exists(path: &Path) -> Result<Option<Vec<u8>>> {
    match read_regular(path, MAX_NSIS_BYTES) {
        Ok(data) => Ok(Some(data)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(path, e)),
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    const APP_TAG: &[u8] =
        b";!@Install@!UTF-8!\nTitle=\"Mozilla Firefox\"\nRunProgram=\"setup.exe\"\n;!@InstallEnd@!\n";

    #[test]
    fn tags_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let stub = dir.path().join("stub");
        let tag = dir.path().join("tag");
        std::fs::write(&stub, b"MZ stub").unwrap();
        std::fs::write(&tag, APP_TAG).unwrap();
        assert!(SfxParts::load(&stub, &tag).is_ok());
        for bad in [
            &b"Title=\"x\""[..],
            b";!@InstallEnd@!\n;!@Install@!UTF-8!\n",
            b";!@Install@!UTF-8!\nTitle=\"a\0b\"\n;!@InstallEnd@!\n",
        ] {
            std::fs::write(&tag, bad).unwrap();
            assert!(SfxParts::load(&stub, &tag).is_err());
        }
        std::fs::write(&tag, APP_TAG).unwrap();
        std::fs::write(&stub, vec![0; TAG_SEARCH_LIMIT]).unwrap();
        let err = SfxParts::load(&stub, &tag).unwrap_err().to_string();
        assert!(err.contains("first MiB"), "{err}");
    }

    #[test]
    fn locales_fall_back_to_en_us_binaries() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("en-US")).unwrap();
        std::fs::create_dir_all(dir.path().join("fr")).unwrap();
        std::fs::write(dir.path().join("en-US/setup.exe"), b"en").unwrap();
        std::fs::write(dir.path().join("fr/setup.exe"), b"fr").unwrap();
        let fr = nsis_file(dir.path(), "fr", "setup.exe").unwrap().unwrap();
        assert_eq!(
            (fr.data.as_slice(), fr.fallback.is_none()),
            (&b"fr"[..], true)
        );
        let de = nsis_file(dir.path(), "de", "setup.exe").unwrap().unwrap();
        assert_eq!(de.data, b"en");
        let finding = de.fallback.unwrap();
        assert_eq!(finding.kind, FindingKind::MissingFile);
        assert_eq!(finding.file, "installer/setup.exe");
        assert!(nsis_file(dir.path(), "de", "helper.exe").unwrap().is_none());
    }
}
