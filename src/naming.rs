//! Output names, as Mozilla's nightly manifests give them
//! (`taskcluster/gecko_taskgraph/manifests/firefox_nightly.yml`).
//!
//! `firefox-<version>.<locale>.<platform>.<ext>`, where `<platform>` is the path platform
//! (`linux-x86_64`, ...) and `<version>` the display version (`153.7.0esr`, `154.0a1`).
//! Android packages are Fennec's: `fennec-<version>.<locale>.android-arm.apk`
//! (`upload-files-APK.mk`'s `PKG_PATH`/`PKG_BASENAME`).

/// The taskgraph platform names we package, with their path platform.
pub const PLATFORMS: &[(&str, &str)] = &[
    ("linux", "linux-i686"),
    ("linux64", "linux-x86_64"),
    ("linux64-aarch64", "linux-aarch64"),
    ("win32", "win32"),
    ("win64", "win64"),
    ("win64-aarch64", "win64-aarch64"),
    ("macosx64", "mac"),
    ("android", "android-arm"),
];

/// Whether `platform` (a taskgraph name) is macOS.
pub fn is_mac(platform: &str) -> bool {
    platform.starts_with("macosx")
}

/// Whether `platform` (a taskgraph name) is an Android one.
pub fn is_android(platform: &str) -> bool {
    platform.starts_with("android")
}

/// The product in file names: `fennec` for Android packages, else `firefox`.
fn product(path_platform: &str) -> &'static str {
    if is_android(path_platform) {
        "fennec"
    } else {
        "firefox"
    }
}

/// Whether `platform` (a taskgraph name) is a Windows one.
pub fn is_windows(platform: &str) -> bool {
    platform.starts_with("win")
}

/// The path platform of a taskgraph platform name (`linux64` → `linux-x86_64`).
pub fn path_platform(platform: &str) -> Option<&'static str> {
    PLATFORMS
        .iter()
        .find(|(name, _)| *name == platform)
        .map(|&(_, path)| path)
}

/// Guesses the taskgraph platform from a package file name (`...linux-x86_64.tar.bz2`).
pub fn platform_from_file_name(name: &str) -> Option<&'static str> {
    PLATFORMS
        .iter()
        .find(|(_, path)| name.contains(&format!(".{path}.")))
        .map(|&(platform, _)| platform)
}

/// The display version: `application.ini`'s `Version`, with the `esr` suffix when the
/// input's file name shows the build is an ESR (`firefox-153.7.0esr.en-US...`), since
/// `application.ini` does not carry it.
pub fn display_version(app_version: &str, input_file_name: &str) -> String {
    if input_file_name.contains(&format!("-{app_version}esr.")) {
        format!("{app_version}esr")
    } else {
        app_version.to_owned()
    }
}

/// `firefox-<version>.<locale>.<path platform>` (no extension); `fennec-…` on Android.
pub fn nightly_stem(version: &str, locale: &str, path_platform: &str) -> String {
    let product = product(path_platform);
    format!("{product}-{version}.{locale}.{path_platform}")
}

/// Mozilla's release layout (`firefox_candidates.yml`), relative to the candidates
/// directory: `linux-x86_64/<loc>/firefox-<V>.tar.bz2`, `win64/<loc>/firefox-<V>.zip`,
/// `win64/<loc>/Firefox Setup <V>.exe` and
/// `update/linux-x86_64/<loc>/firefox-<V>.complete.mar`.
pub fn release_path(
    version: &str,
    locale: &str,
    path_platform: &str,
    format: crate::plan::Format,
) -> String {
    use crate::plan::Format;
    match format {
        Format::Mar => format!("update/{path_platform}/{locale}/firefox-{version}.complete.mar"),
        Format::Installer => format!("{path_platform}/{locale}/Firefox Setup {version}.exe"),
        Format::Dmg => format!("{path_platform}/{locale}/Firefox {version}.dmg"),
        // Fennec's candidates kept the nightly name under <platform>/<locale>/.
        Format::Apk => format!(
            "{path_platform}/{locale}/{}.apk",
            nightly_stem(version, locale, path_platform)
        ),
        Format::TarBz2 | Format::TarXz | Format::Zip | Format::Dir => format!(
            "{path_platform}/{locale}/firefox-{version}{}",
            format.suffix()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_paths() {
        use crate::plan::Format;
        assert_eq!(
            release_path("153.0", "fr", "linux-x86_64", Format::TarXz),
            "linux-x86_64/fr/firefox-153.0.tar.xz"
        );
        assert_eq!(
            release_path("153.0", "fr", "linux-x86_64", Format::Mar),
            "update/linux-x86_64/fr/firefox-153.0.complete.mar"
        );
        assert_eq!(
            release_path("153.0", "fr", "win64", Format::Installer),
            "win64/fr/Firefox Setup 153.0.exe"
        );
        assert_eq!(
            release_path("153.0", "fr", "win64", Format::Zip),
            "win64/fr/firefox-153.0.zip"
        );
        assert_eq!(
            release_path("153.0", "ja-JP-mac", "mac", Format::Dmg),
            "mac/ja-JP-mac/Firefox 153.0.dmg"
        );
        assert_eq!(
            release_path("153.0", "fr", "android-arm", Format::Apk),
            "android-arm/fr/fennec-153.0.fr.android-arm.apk"
        );
    }

    #[test]
    fn names() {
        assert_eq!(path_platform("linux64"), Some("linux-x86_64"));
        assert_eq!(path_platform("win64"), Some("win64"));
        assert_eq!(path_platform("macosx64"), Some("mac"));
        assert_eq!(path_platform("android"), Some("android-arm"));
        assert_eq!(path_platform("android-api-16"), None);
        assert_eq!(
            platform_from_file_name("fennec-153.7.0esr.en-US.android-arm.apk"),
            Some("android")
        );
        assert_eq!(
            nightly_stem("153.7.0esr", "fr", "android-arm"),
            "fennec-153.7.0esr.fr.android-arm"
        );
        assert_eq!(
            platform_from_file_name("firefox-153.7.0esr.en-US.mac.dmg"),
            Some("macosx64")
        );
        assert_eq!(
            platform_from_file_name("firefox-153.7.0esr.en-US.win64.zip"),
            Some("win64")
        );
        assert_eq!(
            platform_from_file_name("firefox-153.7.0esr.en-US.win64-aarch64.zip"),
            Some("win64-aarch64")
        );
        assert_eq!(
            platform_from_file_name("firefox-153.7.0esr.en-US.linux-x86_64.tar.bz2"),
            Some("linux64")
        );
        assert_eq!(platform_from_file_name("firefox.tar.bz2"), None);
        assert_eq!(
            display_version("153.7.0", "firefox-153.7.0esr.en-US.linux-x86_64.tar.bz2"),
            "153.7.0esr"
        );
        assert_eq!(
            display_version("140.0", "firefox-140.0.en-US.linux-x86_64.tar.bz2"),
            "140.0"
        );
        assert_eq!(
            nightly_stem("153.7.0esr", "fr", "linux-x86_64"),
            "firefox-153.7.0esr.fr.linux-x86_64"
        );
    }
}
