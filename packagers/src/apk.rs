//! Android packages (APK): a zip archive with alignment rules and signatures to strip.
//!
//! # Layout
//! An APK is a plain zip (APPNOTE.TXT): local entries, then the central directory, then the
//! end of central directory record. Two Android additions matter to a repack:
//!
//! - **Signatures.** The v1 (JAR) scheme adds `META-INF/MANIFEST.MF`, one `META-INF/*.SF`
//!   per signer and its `*.RSA`, `*.DSA` or `*.EC` block (plus, rarely, `META-INF/SIG-*`).
//!   The v2/v3 schemes insert the *APK Signing Block* between the last local entry and the
//!   central directory: `u64 size`, id-value pairs, `u64 size` again, then the 16-byte magic
//!   `APK Sig Block 42` (source.android.com, "APK Signature Scheme v2"). A repacked APK
//!   must carry neither, so that the downstream signing task signs it as it is.
//! - **Alignment.** `zipalign -p 4` puts the data of every stored entry at a multiple of 4
//!   from the start of the file, and that of stored `.so` files at a multiple of 4096 (so the
//!   loader can map them). Padding goes into the local header's extra field, as Android's
//!   alignment field `0xd935` (`u16` alignment, then zeros), which is what apksigner writes.
//!   Deflated entries are not aligned.
//!
//! [`ApkWriter`] streams entries with those rules; [`signing_block`] and
//! [`is_signature_file`] tell what to leave out of an input.

use std::io::Write;
use std::ops::Range;

use crate::Result;
use crate::jar::{EntryHeader, Method, ZipWriter};

/// The magic at the end of an APK Signing Block.
const SIGNING_BLOCK_MAGIC: &[u8; 16] = b"APK Sig Block 42";

/// Where stored entries' data starts: a multiple of this (`zipalign 4`).
pub const ALIGNMENT: u16 = 4;

/// Where stored shared libraries' data starts: a multiple of this (`zipalign -p`, the
/// page size).
pub const LIBRARY_ALIGNMENT: u16 = 4096;

/// The byte range of the APK Signing Block (v2/v3 signatures) in `apk`, if it has one.
pub fn signing_block(apk: &[u8]) -> Option<Range<usize>> {
    let directory = central_directory_offset(apk)?;
    let magic_start = directory.checked_sub(16)?;
    if &apk[magic_start..directory] != SIGNING_BLOCK_MAGIC {
        return None;
    }
    // The size after the pairs counts everything but its own leading copy.
    let size_at = magic_start.checked_sub(8)?;
    let size = u64::from_le_bytes(apk[size_at..magic_start].try_into().ok()?);
    let start = directory.checked_sub(usize::try_from(size).ok()?.checked_add(8)?)?;
    let leading = u64::from_le_bytes(apk.get(start..start + 8)?.try_into().ok()?);
    (leading == size).then_some(start..directory)
}

/// The offset of the central directory, from the end of central directory record (the
/// last `PK\5\6` whose comment runs to the end of the file).
fn central_directory_offset(apk: &[u8]) -> Option<usize> {
    let earliest = apk.len().saturating_sub(22 + usize::from(u16::MAX));
    let end = (earliest..=apk.len().checked_sub(22)?).rev().find(|&at| {
        apk[at..at + 4] == [0x50, 0x4b, 0x05, 0x06]
            && at + 22 + usize::from(u16::from_le_bytes([apk[at + 20], apk[at + 21]])) == apk.len()
    })?;
    let offset = u32::from_le_bytes(apk[end + 16..end + 20].try_into().ok()?);
    let offset = usize::try_from(offset).ok()?;
    (offset <= end).then_some(offset)
}

/// Whether `name` is a v1 (JAR) signature file: `META-INF/MANIFEST.MF`, `META-INF/*.SF`,
/// `*.RSA`, `*.DSA`, `*.EC` or `META-INF/SIG-*`, directly under `META-INF/`.
pub fn is_signature_file(name: &str) -> bool {
    let Some(file) = name.strip_prefix("META-INF/") else {
        return false;
    };
    if file.contains('/') {
        return false;
    }
    let upper = file.to_ascii_uppercase();
    upper == "MANIFEST.MF"
        || upper.starts_with("SIG-")
        || [".SF", ".RSA", ".DSA", ".EC"]
            .iter()
            .any(|ext| upper.len() > ext.len() && upper.ends_with(ext))
}

/// The alignment of an entry's data: 4096 for stored `.so` files, 4 for other stored
/// entries, none (1) for deflated ones.
pub fn alignment(name: &str, method: Method) -> u16 {
    match method {
        Method::Deflated => 1,
        Method::Stored if name.ends_with(".so") => LIBRARY_ALIGNMENT,
        Method::Stored => ALIGNMENT,
    }
}

/// Streams an unsigned, aligned APK: each entry's data placed as [`alignment`] says.
pub struct ApkWriter<W: Write> {
    zip: ZipWriter<W>,
}

impl<W: Write> ApkWriter<W> {
    /// Starts an empty APK.
    pub fn new(w: W) -> Self {
        ApkWriter {
            zip: ZipWriter::new(w),
        }
    }

    /// Appends an entry whose compressed data is `parts` joined. Signature files are
    /// refused: an APK we write is unsigned.
    pub fn append(&mut self, header: &EntryHeader<'_>, parts: &[&[u8]]) -> Result<()> {
        if is_signature_file(header.name) {
            return Err(crate::Error::JarEntry {
                name: header.name.to_owned(),
                reason: "a signature file in an APK being repacked; the signing task signs \
                         the output"
                    .into(),
            });
        }
        let alignment = alignment(header.name, header.method);
        self.zip.append_aligned(header, parts, alignment)
    }

    /// Writes the central directory and the end record; returns the writer and the size.
    pub fn finish(self) -> Result<(W, u64)> {
        self.zip.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jar::{DosTime, read_entries};
    use crate::testing::{random_bytes, tool};

    fn stored<'a>(name: &'a str, data: &[u8]) -> EntryHeader<'a> {
        EntryHeader {
            name,
            method: Method::Stored,
            crc32: crc32fast::hash(data),
            size: data.len() as u32,
            compressed_size: data.len() as u32,
            mode: 0o100644,
            time: DosTime::from_unix(1_793_719_152),
        }
    }

    /// An APK: a deflated manifest, then stored entries of odd sizes, a library.
    fn sample() -> (Vec<u8>, Vec<(String, Vec<u8>)>) {
        let files: Vec<(String, Vec<u8>)> = vec![
            ("AndroidManifest.xml".into(), b"<manifest/>".repeat(40)),
            ("assets/omni.ja".into(), random_bytes(10_001, 1)),
            ("lib/armeabi-v7a/libxul.so".into(), random_bytes(70_003, 2)),
            ("res/raw/a.bin".into(), random_bytes(3, 3)),
            ("lib/armeabi-v7a/libmozglue.so".into(), random_bytes(5, 4)),
        ];
        let mut writer = ApkWriter::new(Vec::new());
        for (i, (name, data)) in files.iter().enumerate() {
            if i == 0 {
                let mut buf = Vec::new();
                let entry = crate::jar::RawEntry::compress(
                    name,
                    data,
                    Method::Deflated,
                    0o100644,
                    &mut buf,
                )
                .unwrap();
                writer
                    .append(&entry.header().unwrap(), &[entry.data])
                    .unwrap();
            } else {
                writer.append(&stored(name, data), &[data]).unwrap();
            }
        }
        (writer.finish().unwrap().0, files)
    }

    #[test]
    fn stored_entries_are_aligned_and_libraries_page_aligned() {
        let (apk, files) = sample();
        let entries = read_entries(&apk).unwrap();
        assert_eq!(entries.len(), files.len());
        for (entry, (name, data)) in entries.iter().zip(&files) {
            assert_eq!(&entry.name, name);
            let want = alignment(name, entry.method) as usize;
            assert_eq!(entry.data.start % want, 0, "{name}");
            let back = crate::jar::decompress(entry, &apk[entry.data.clone()]).unwrap();
            assert_eq!(&back, data);
        }
        assert_eq!(signing_block(&apk), None);
    }

    #[test]
    fn zipalign_and_unzip_accept_our_apk() {
        let (apk, _) = sample();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.apk");
        std::fs::write(&path, &apk).unwrap();
        if tool("unzip") {
            let out = std::process::Command::new("unzip")
                .arg("-t")
                .arg(&path)
                .output()
                .unwrap();
            assert!(out.status.success(), "{out:?}");
        }
        // zipalign has no --version; `zipalign` alone prints its usage and exits 2.
        let have_zipalign = std::process::Command::new("zipalign").output().is_ok();
        if !have_zipalign {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "zipalign is not installed, and CI must have it"
            );
            eprintln!("SKIPPED: zipalign is not installed, this check did not run");
            return;
        }
        for args in [&["-c", "-v", "4"][..], &["-c", "-p", "-v", "4"]] {
            let out = std::process::Command::new("zipalign")
                .args(args)
                .arg(&path)
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success() && text.contains("Verification succes"),
                "zipalign {args:?}: {text}"
            );
        }
    }

    #[test]
    fn signing_blocks_are_found_and_checked() {
        let (apk, _) = sample();
        let directory = central_directory_offset(&apk).unwrap();
        // Insert a signing block with one id-value pair before the central directory and
        // move the directory's offset in the end record.
        let pair = [
            &12u64.to_le_bytes()[..],
            &0x7109_871au32.to_le_bytes(),
            b"sigs",
        ]
        .concat();
        let size = (pair.len() + 8 + 16) as u64;
        let block = [
            &size.to_le_bytes()[..],
            &pair,
            &size.to_le_bytes(),
            SIGNING_BLOCK_MAGIC,
        ]
        .concat();
        let mut signed = apk[..directory].to_vec();
        signed.extend_from_slice(&block);
        signed.extend_from_slice(&apk[directory..]);
        let end = signed.len() - 22;
        let moved = (directory + block.len()) as u32;
        signed[end + 16..end + 20].copy_from_slice(&moved.to_le_bytes());
        assert_eq!(
            signing_block(&signed),
            Some(directory..directory + block.len())
        );
        // The entries still read: the block sits outside them.
        assert_eq!(read_entries(&signed).unwrap().len(), 5);
        // A wrong leading size is not a signing block.
        let mut bad = signed.clone();
        bad[directory] ^= 1;
        assert_eq!(signing_block(&bad), None);
    }

    #[test]
    fn signature_files_are_recognized_and_refused() {
        for name in [
            "META-INF/MANIFEST.MF",
            "META-INF/CERT.SF",
            "META-INF/CERT.RSA",
            "META-INF/ANDROIDD.DSA",
            "META-INF/KEY.EC",
            "META-INF/SIG-X",
            "META-INF/cert.rsa",
        ] {
            assert!(is_signature_file(name), "{name}");
        }
        for name in [
            "META-INF/services/x",
            "META-INF/com/android/build/gradle/app-metadata.properties",
            "assets/META-INF/CERT.SF",
            "META-INF/.SF",
            "MANIFEST.MF",
        ] {
            assert!(!is_signature_file(name), "{name}");
        }
        let mut writer = ApkWriter::new(Vec::new());
        assert!(
            writer
                .append(&stored("META-INF/CERT.SF", b"x"), &[b"x"])
                .is_err()
        );
    }
}
