//! The application package's `Depends`: the Debian packages that hold the shared libraries
//! its ELF files need.
//!
//! Mozilla's `debian/control` says `Depends: ${shlibs:Depends},` and leaves the list to
//! `dh_shlibdeps`, run in a Debian chroot of the build's baseline (jessie), which looks
//! each `DT_NEEDED` soname up in that system's `shlibs`/`symbols` files. A repack has no
//! such system, so it reads the `DT_NEEDED` entries of every ELF file (the ELF
//! specification's dynamic section, through the `object` crate), leaves out the libraries
//! the package holds itself, and names each remaining soname's package from [`SONAMES`],
//! without versions. A soname the table does not know is an error that names the file: the
//! release engineer gives the list with `--deb-depends` (what `dpkg-shlibdeps` printed in
//! the build's baseline) or adds the library here.

use std::collections::BTreeSet;

use object::elf::{DT_NEEDED, FileHeader32, FileHeader64};
use object::read::elf::{Dyn, FileHeader, SectionHeader};
use object::{Endianness, FileKind};

/// The Debian package of each system library Firefox links, by soname: the names of
/// Debian 12, which later releases keep as real or virtual packages (the `t64` packages
/// of Debian 13 provide them). `dpkg-shlibdeps` on the same files gives the same names
/// (tested on the real build).
pub const SONAMES: &[(&str, &str)] = &[
    ("ld-linux-aarch64.so.1", "libc6"),
    ("ld-linux-x86-64.so.2", "libc6"),
    ("ld-linux.so.2", "libc6"),
    ("libX11-xcb.so.1", "libx11-xcb1"),
    ("libX11.so.6", "libx11-6"),
    ("libXcomposite.so.1", "libxcomposite1"),
    ("libXcursor.so.1", "libxcursor1"),
    ("libXdamage.so.1", "libxdamage1"),
    ("libXext.so.6", "libxext6"),
    ("libXfixes.so.3", "libxfixes3"),
    ("libXi.so.6", "libxi6"),
    ("libXrandr.so.2", "libxrandr2"),
    ("libXrender.so.1", "libxrender1"),
    ("libXt.so.6", "libxt6"),
    ("libXtst.so.6", "libxtst6"),
    ("libasound.so.2", "libasound2"),
    ("libatk-1.0.so.0", "libatk1.0-0"),
    ("libatk-bridge-2.0.so.0", "libatk-bridge2.0-0"),
    ("libc.so.6", "libc6"),
    ("libcairo-gobject.so.2", "libcairo-gobject2"),
    ("libcairo.so.2", "libcairo2"),
    ("libdbus-1.so.3", "libdbus-1-3"),
    ("libdbus-glib-1.so.2", "libdbus-glib-1-2"),
    ("libdl.so.2", "libc6"),
    ("libevent-2.1.so.7", "libevent-2.1-7"),
    ("libffi.so.8", "libffi8"),
    ("libfontconfig.so.1", "libfontconfig1"),
    ("libfreetype.so.6", "libfreetype6"),
    ("libgcc_s.so.1", "libgcc-s1"),
    ("libgdk-3.so.0", "libgtk-3-0"),
    ("libgdk_pixbuf-2.0.so.0", "libgdk-pixbuf-2.0-0"),
    ("libgio-2.0.so.0", "libglib2.0-0"),
    ("libglib-2.0.so.0", "libglib2.0-0"),
    ("libgmodule-2.0.so.0", "libglib2.0-0"),
    ("libgobject-2.0.so.0", "libglib2.0-0"),
    ("libgthread-2.0.so.0", "libglib2.0-0"),
    ("libgtk-3.so.0", "libgtk-3-0"),
    ("libharfbuzz.so.0", "libharfbuzz0b"),
    ("libm.so.6", "libc6"),
    ("libnspr4.so", "libnspr4"),
    ("libnss3.so", "libnss3"),
    ("libnssutil3.so", "libnss3"),
    ("libpango-1.0.so.0", "libpango-1.0-0"),
    ("libpangocairo-1.0.so.0", "libpangocairo-1.0-0"),
    ("libpangoft2-1.0.so.0", "libpangoft2-1.0-0"),
    ("libplc4.so", "libnspr4"),
    ("libplds4.so", "libnspr4"),
    ("libpthread.so.0", "libc6"),
    ("librt.so.1", "libc6"),
    ("libsmime3.so", "libnss3"),
    ("libssl3.so", "libnss3"),
    ("libstdc++.so.6", "libstdc++6"),
    ("libvpx.so.7", "libvpx7"),
    ("libxcb-shm.so.0", "libxcb-shm0"),
    ("libxcb.so.1", "libxcb1"),
    ("libz.so.1", "zlib1g"),
];

/// Why the sonames of a package cannot be turned into `Depends`.
#[derive(Debug, PartialEq, Eq)]
pub enum Unresolved {
    /// `file` is ELF but its dynamic section cannot be read.
    Unreadable {
        /// The file, relative to the application directory.
        file: String,
        /// What the ELF reader said.
        reason: String,
    },
    /// `file` needs `soname`, which neither the package nor [`SONAMES`] has.
    Unknown {
        /// The file, relative to the application directory.
        file: String,
        /// The library.
        soname: String,
    },
}

/// The `Depends` of a package holding `files` (path relative to the application
/// directory, bytes): each library package once, sorted, comma-separated.
pub fn depends<'a>(
    files: impl Iterator<Item = (&'a str, &'a [u8])> + Clone,
) -> Result<String, Unresolved> {
    // What the package holds itself: every file name (libxul.so needs libnss3.so, which
    // Mozilla ships beside it).
    let own: BTreeSet<&str> = files
        .clone()
        .map(|(path, _)| path.rsplit('/').next().unwrap_or(path))
        .collect();
    let mut packages = BTreeSet::new();
    for (path, data) in files {
        let needed = needed(data).map_err(|reason| Unresolved::Unreadable {
            file: path.to_owned(),
            reason,
        })?;
        for soname in needed {
            if own.contains(soname.as_str()) {
                continue;
            }
            let package = SONAMES
                .iter()
                .find(|(known, _)| *known == soname)
                .map(|(_, package)| *package)
                .ok_or_else(|| Unresolved::Unknown {
                    file: path.to_owned(),
                    soname: soname.clone(),
                })?;
            packages.insert(package);
        }
    }
    Ok(packages.into_iter().collect::<Vec<_>>().join(", "))
}

/// The `DT_NEEDED` sonames of `data`, in order; none when it is not ELF.
fn needed(data: &[u8]) -> Result<Vec<String>, String> {
    match FileKind::parse(data) {
        Ok(FileKind::Elf32) => needed_of::<FileHeader32<Endianness>>(data),
        Ok(FileKind::Elf64) => needed_of::<FileHeader64<Endianness>>(data),
        _ => Ok(Vec::new()),
    }
    .map_err(|e| e.to_string())
}

fn needed_of<Elf: FileHeader<Endian = Endianness>>(
    data: &[u8],
) -> object::read::Result<Vec<String>> {
    let header = Elf::parse(data)?;
    let endian = header.endian()?;
    let sections = header.sections(endian, data)?;
    let mut out = Vec::new();
    for section in sections.iter() {
        let Some((entries, link)) = section.dynamic(endian, data)? else {
            continue;
        };
        let strings = sections.strings(endian, data, link)?;
        for entry in entries {
            if entry.tag32(endian) == Some(DT_NEEDED) {
                let name = entry.string(endian, strings)?;
                out.push(String::from_utf8_lossy(name).into_owned());
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_and_names_debian_packages() {
        assert!(SONAMES.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(SONAMES.iter().all(|(_, p)| {
            p.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+-.".contains(&b))
        }));
    }

    #[test]
    fn a_real_executable_needs_the_c_library_and_a_private_one_nothing() {
        let exe = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let needs = depends([("bin/test", exe.as_slice())].into_iter()).unwrap();
        assert!(needs.split(", ").any(|p| p == "libc6"), "{needs}");
        // The same file, shipping the C library itself: nothing more is needed from it.
        let files = [
            ("bin/test", exe.as_slice()),
            ("lib/libc.so.6", &b""[..]),
            ("lib/ld-linux-x86-64.so.2", &b""[..]),
            ("lib/ld-linux-aarch64.so.1", &b""[..]),
        ];
        let needs = depends(files.into_iter()).unwrap();
        assert!(!needs.split(", ").any(|p| p == "libc6"), "{needs}");
    }

    #[test]
    fn files_that_are_not_elf_need_nothing() {
        let files = [("a.txt", &b"hello"[..]), ("b", &b"\x7fELF"[..])];
        // A truncated ELF header is not ELF to `object` either.
        assert_eq!(depends(files.iter().copied()), Ok(String::new()));
    }
}
