//! Android packages, `fennec-<version>.<locale>.android-arm.apk`: a zip written as
//! [`super::zip`] writes the Windows one, through [`packagers::apk::ApkWriter`]: stored
//! entries aligned as `zipalign -p 4` wants (4 bytes, `.so` files 4096), no directory
//! entries, and no signature (staging left the input's out; the signing task signs).

use packagers::piece::PieceReader;
use packagers::{apk, jar};

use super::check::check_package_jars;
use super::zip::{ZipFlavor, ZipPieces};
use super::{Build, Loaded, Names, Packager, Prepared};
use crate::error::Result;
use crate::platform::Os;

/// The Android APK.
pub struct Apk;

impl Packager for Apk {
    fn id(&self) -> &'static str {
        "apk"
    }

    fn fits(&self, os: Os) -> bool {
        os == Os::Android
    }

    fn is_default(&self, os: Os) -> bool {
        os == Os::Android
    }

    /// Fennec's candidates kept the nightly name under `<platform>/<locale>/`.
    fn name(&self, names: &Names<'_>) -> String {
        let stem = names.nightly_stem();
        if names.release {
            format!("{}{stem}.apk", names.release_dir())
        } else {
            format!("{stem}.apk")
        }
    }

    fn prepare(&self, build: &Build<'_>) -> Result<Box<dyn Prepared>> {
        Ok(Box::new(ZipPieces::encode(build, ZipFlavor::Apk)?))
    }

    fn load(&self, build: &Build<'_>, input: &mut PieceReader<'_>) -> Loaded {
        Ok(Box::new(ZipPieces::load(build, ZipFlavor::Apk, input)?))
    }

    fn check(&self, data: &[u8], locale: &str, expected: &[(String, Vec<u8>)]) -> Vec<String> {
        check_apk(data, locale, expected)
    }
}

/// An Android APK: unsigned (no v1 signature file, no APK Signing Block), every stored
/// entry aligned as `zipalign -p 4` checks, and `assets/omni.ja` as for tarballs (an APK
/// has no browser jar, so the langpack's `browser/` files are not looked for).
fn check_apk(data: &[u8], locale: &str, expected: &[(String, Vec<u8>)]) -> Vec<String> {
    let Ok(entries) = jar::read_entries(data) else {
        return vec!["not a readable apk".into()];
    };
    let mut problems = Vec::new();
    if apk::signing_block(data).is_some() {
        problems.push("the apk carries an APK Signing Block".into());
    }
    for entry in &entries {
        if apk::is_signature_file(&entry.name) {
            problems.push(format!("{} is a signature file", entry.name));
        }
        let alignment = apk::alignment(&entry.name, entry.method);
        if entry.data.start % usize::from(alignment) != 0 {
            problems.push(format!("{} is not {alignment}-byte aligned", entry.name));
        }
    }
    let omni_path = crate::stage::APK_JARS[0].0;
    let omni = match entries.iter().find(|e| e.name == *omni_path) {
        None => return [problems, vec![format!("the apk has no {omni_path}")]].concat(),
        Some(e) => match jar::decompress(e, &data[e.data.clone()]) {
            Ok(bytes) => bytes,
            Err(e) => {
                return [problems, vec![format!("{omni_path} cannot be read: {e}")]].concat();
            }
        },
    };
    let expected: Vec<(String, Vec<u8>)> = expected
        .iter()
        .filter(|(flat, _)| !flat.starts_with("browser/"))
        .cloned()
        .collect();
    problems.extend(check_package_jars(&omni, None, locale, &expected));
    problems
}
