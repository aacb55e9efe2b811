//! Output names, as Mozilla's nightly manifests give them
//! (`taskcluster/gecko_taskgraph/manifests/firefox_nightly.yml`).
//!
//! `firefox-<version>.<locale>.<platform>.<ext>`, where `<platform>` is the path platform
//! (`linux-x86_64`, ...) and `<version>` the display version (`153.7.0esr`, `154.0a1`).

/// The taskgraph platform names we package, with their path platform.
pub const PLATFORMS: &[(&str, &str)] = &[
    ("linux", "linux-i686"),
    ("linux64", "linux-x86_64"),
    ("linux64-aarch64", "linux-aarch64"),
];

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

/// `firefox-<version>.<locale>.<path platform>` (no extension).
pub fn nightly_stem(version: &str, locale: &str, path_platform: &str) -> String {
    format!("firefox-{version}.{locale}.{path_platform}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(path_platform("linux64"), Some("linux-x86_64"));
        assert_eq!(path_platform("win64"), None);
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
