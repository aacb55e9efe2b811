//! Platform facts, in one place: the taskgraph platforms we repack, their path names,
//! which get the x86 BCJ filter, which package kind they come as, and the files a
//! platform builds per locale outside the langpack (the Windows uninstaller, macOS's
//! `en.lproj`).
//!
//! `repack`, `prepare`, `repackage` and `verify` all ask this module, so the same input
//! gives the same platform (and the same shared-cache key) whichever command reads it.

use std::path::Path;

use crate::stage::PackageKind;

/// An operating system family, as far as packaging differs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Os {
    /// Linux: `.tar.bz2` or `.tar.xz`.
    Linux,
    /// Windows: `.zip` (and the installer).
    Windows,
    /// macOS: `.dmg`.
    Mac,
    /// Android: `.apk`.
    Android,
}

/// A taskgraph platform we repack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Platform {
    /// The taskgraph name (`linux64`).
    pub name: &'static str,
    /// The name in paths and file names (`linux-x86_64`).
    pub path: &'static str,
    /// Its operating system family.
    pub os: Os,
    /// Whether its binaries are x86 or x86-64 code.
    x86: bool,
}

/// The taskgraph platforms we repack.
pub const PLATFORMS: &[Platform] = &[
    Platform::new("linux", "linux-i686", Os::Linux, true),
    Platform::new("linux64", "linux-x86_64", Os::Linux, true),
    Platform::new("linux64-aarch64", "linux-aarch64", Os::Linux, false),
    Platform::new("win32", "win32", Os::Windows, true),
    Platform::new("win64", "win64", Os::Windows, true),
    Platform::new("win64-aarch64", "win64-aarch64", Os::Windows, false),
    // Universal binaries: the x86 BCJ filter would garble the ARM half (build-mar #63).
    Platform::new("macosx64", "mac", Os::Mac, false),
    Platform::new("android", "android-arm", Os::Android, false),
];

/// The Windows uninstaller, built per locale by the l10n tasks (`--installer-dir`),
/// relative to the application directory.
pub const UNINSTALLER: &str = "uninstall/helper.exe";

/// Where a macOS bundle keeps the application directory's files.
pub const MAC_RESOURCES: &str = "Contents/Resources/";

/// The directory macOS keeps its localized bundle resources in, before the rename.
pub const EN_LPROJ: &str = "en.lproj";

impl Platform {
    const fn new(name: &'static str, path: &'static str, os: Os, x86: bool) -> Platform {
        Platform {
            name,
            path,
            os,
            x86,
        }
    }

    /// The platform of a taskgraph name.
    pub fn named(name: &str) -> Option<Platform> {
        PLATFORMS.iter().copied().find(|p| p.name == name)
    }

    /// The platform a package file name shows (`….linux-x86_64.tar.bz2`), if any.
    pub fn from_file_name(name: &str) -> Option<Platform> {
        PLATFORMS
            .iter()
            .copied()
            .find(|p| name.contains(&format!(".{}.", p.path)))
    }

    /// The platform of an en-US package, when none is given: what its file name shows,
    /// else the main platform of its kind (a release name such as `Firefox 153.0.dmg`
    /// shows none).
    pub fn of_input(input: &Path, kind: PackageKind) -> Platform {
        let name = input.file_name().unwrap_or_default().to_string_lossy();
        Platform::from_file_name(&name).unwrap_or_else(|| {
            let name = match kind {
                PackageKind::Zip => "win64",
                PackageKind::Dmg => "macosx64",
                PackageKind::Apk => "android",
                PackageKind::TarBz2 | PackageKind::TarXz => "linux64",
            };
            Platform::named(name).expect("a known platform")
        })
    }

    /// The platform `--platform` names, or the input's.
    pub fn resolve(
        given: Option<&str>,
        input: &Path,
        kind: PackageKind,
    ) -> Result<Platform, String> {
        match given {
            None => Ok(Platform::of_input(input, kind)),
            Some(name) => Platform::named(name).ok_or_else(|| {
                let known: Vec<&str> = PLATFORMS.iter().map(|p| p.name).collect();
                format!(
                    "--platform {name}: not a platform this version repacks (known: {})",
                    known.join(", ")
                )
            }),
        }
    }

    /// Whether compressed members (MAR, installer) get the x86 BCJ filter: x86 and x86-64
    /// only. Firefox's updater and Mozilla's SFX stub have no ARM64 BCJ decoder.
    pub fn x86_bcj(self) -> bool {
        self.x86
    }

    /// Whether its packages come as `kind`.
    pub fn takes(self, kind: PackageKind) -> bool {
        self.os == Os::of(kind)
    }
}

impl Os {
    /// The system a package kind is for.
    pub fn of(kind: PackageKind) -> Os {
        match kind {
            PackageKind::TarBz2 | PackageKind::TarXz => Os::Linux,
            PackageKind::Zip => Os::Windows,
            PackageKind::Dmg => Os::Mac,
            PackageKind::Apk => Os::Android,
        }
    }

    /// Files (and directories, ending in `/`) under the application directory that the
    /// packaging builds per locale, not the langpack: they change per locale, but the
    /// string merge leaves them alone.
    pub fn rebuilt_per_locale(self) -> &'static [&'static str] {
        match self {
            Os::Windows => &[UNINSTALLER],
            Os::Mac => &["en.lproj/"],
            Os::Linux | Os::Android => &[],
        }
    }

    /// Where a package path goes for `locale`, when the platform renames it: on macOS,
    /// `<app>/en.lproj/…` becomes `<app>/<lproj>.lproj/…`, where `<lproj>` is the code up
    /// to its first `-` (`ja-JP-mac` → `ja`), except `zh-TW` → `zh_TW`
    /// (`toolkit/locales/l10n.mk`'s `LPROJ_ROOT`).
    pub fn localized_path(self, app_dir: &str, path: &str, locale: &str) -> Option<String> {
        if self != Os::Mac {
            return None;
        }
        let rest = path
            .strip_prefix(app_dir)?
            .strip_prefix('/')?
            .strip_prefix(EN_LPROJ)?;
        if !(rest.is_empty() || rest.starts_with('/')) {
            return None;
        }
        let lproj = if locale == "zh-TW" {
            "zh_TW"
        } else {
            locale.split('-').next().unwrap_or(locale)
        };
        Some(format!("{app_dir}/{lproj}.lproj{rest}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_named_inputs_get_their_kind_s_platform() {
        let of = |name: &str, kind| Platform::of_input(Path::new(name), kind).name;
        assert_eq!(of("Firefox 153.0.dmg", PackageKind::Dmg), "macosx64");
        assert_eq!(of("firefox-153.0.zip", PackageKind::Zip), "win64");
        assert_eq!(of("firefox-153.0.tar.xz", PackageKind::TarXz), "linux64");
        assert_eq!(
            of("firefox-153.0.en-US.win32.zip", PackageKind::Zip),
            "win32"
        );
        assert!(!Platform::of_input(Path::new("Firefox 153.0.dmg"), PackageKind::Dmg).x86_bcj());
    }

    #[test]
    fn names() {
        let path = |name: &str| Platform::named(name).map(|p| p.path);
        assert_eq!(path("linux64"), Some("linux-x86_64"));
        assert_eq!(path("win64"), Some("win64"));
        assert_eq!(path("macosx64"), Some("mac"));
        assert_eq!(path("android"), Some("android-arm"));
        assert_eq!(path("android-api-16"), None);
        let from = |name: &str| Platform::from_file_name(name).map(|p| p.name);
        assert_eq!(
            from("fennec-153.7.0esr.en-US.android-arm.apk"),
            Some("android")
        );
        assert_eq!(from("firefox-153.7.0esr.en-US.mac.dmg"), Some("macosx64"));
        assert_eq!(from("firefox-153.7.0esr.en-US.win64.zip"), Some("win64"));
        assert_eq!(
            from("firefox-153.7.0esr.en-US.win64-aarch64.zip"),
            Some("win64-aarch64")
        );
        assert_eq!(
            from("firefox-153.7.0esr.en-US.linux-x86_64.tar.bz2"),
            Some("linux64")
        );
        assert_eq!(from("firefox.tar.bz2"), None);
    }

    #[test]
    fn bcj_is_for_x86_only() {
        let bcj: Vec<&str> = PLATFORMS
            .iter()
            .filter(|p| p.x86_bcj())
            .map(|p| p.name)
            .collect();
        assert_eq!(bcj, ["linux", "linux64", "win32", "win64"]);
    }

    #[test]
    fn lproj_is_renamed_on_mac_only() {
        let app = "Firefox.app/Contents/Resources";
        let path = format!("{app}/en.lproj/InfoPlist.strings");
        assert_eq!(
            Os::Mac.localized_path(app, &path, "ja-JP-mac").as_deref(),
            Some("Firefox.app/Contents/Resources/ja.lproj/InfoPlist.strings")
        );
        assert_eq!(
            Os::Mac
                .localized_path(app, &format!("{app}/en.lproj"), "zh-TW")
                .as_deref(),
            Some("Firefox.app/Contents/Resources/zh_TW.lproj")
        );
        assert_eq!(
            Os::Mac.localized_path(app, &format!("{app}/en.lprojx"), "fr"),
            None
        );
        assert_eq!(Os::Linux.localized_path(app, &path, "fr"), None);
    }
}
