//! The application package for Mozilla's APT repository: `firefox_<version>_amd64.deb`,
//! once per run, as the `repackage-deb` kind writes it (`mach repackage deb`:
//! `python/mozbuild/mozbuild/repackaging/deb.py` with the templates of
//! `browser/installer/linux/app/debian/`; the facts relied on are in the README).
//!
//! The package ([`packagers::deb`]: an `ar` of `debian-binary`, `control.tar.xz` and
//! `data.tar.xz`) installs:
//!
//! - `usr/lib/<package>/`: the en-US build's application directory, byte for byte, with
//!   `dh_fixperms`'s modes (no set-id bits, group and others read; libraries, scripts
//!   and images 0644), plus `is-packaged-app` (Gecko then leaves updates to the system),
//!   the template's `distribution/distribution.ini` (in place of the build's) and
//!   `defaults/pref/package-prefs.js`;
//! - `usr/bin/<package>`, a relative link to `../lib/<package>/firefox` (and for
//!   `firefox-esr`, Mozilla's `/usr/bin/firefox` wrapper script);
//! - `usr/share/icons/hicolor/<N>x<N>/apps/<package>.png`, relative links to the build's
//!   `browser/chrome/icons/default/default<N>.png`;
//! - `usr/share/applications/<package>.desktop`, localized from every locale of the run's
//!   list that has a langpack ([`desktop`]);
//! - `usr/share/man/man1/<package>.1.gz` and `usr/share/doc/<package>/changelog.gz`, the
//!   templates' manual page and changelog (`gzip -9n`).
//!
//! `control.tar.xz` holds `control` (dpkg-gencontrol's field order: `Package`, `Version`,
//! `Architecture` (`amd64`, `i386`, `arm64`), `Maintainer`, `Installed-Size`, `Depends`
//! ([`depends`], or `--deb-depends`), `Provides: gnome-www-browser, www-browser`,
//! `Section`, `Priority`, `Description`), `md5sums` and the templates' `postinst`,
//! `postrm`, `preinst` and `prerm`. Times are the batch's member time, which dates the
//! changelog and the manual page too. `data.tar.xz` is cut into 24 MiB xz blocks
//! compressed side by side, as `dpkg-deb`'s multi-threaded encoder cuts it.
//!
//! The package is the en-US build's, not a locale's: the run writes it once (a chunked run,
//! in chunk 1), and the locales ship as `deb-l10n` packages.

mod depends;
pub mod desktop;
mod templates;

use packagers::deb::{Control, DataTree, DebEntry, DebWriter, changelog_gz, control_tar, gzip_n};
use packagers::piece::{PieceReader, PieceWriter};

use super::{
    Build, ByteOption, Loaded, Locale, Names, Packager, Prepared, Settings, Target, Written,
    dpkg_xz, write_error, write_file,
};
use crate::error::{Error, Result};
use crate::l10n::langpack::LangpackSource;
use crate::l10n::{Finding, FindingKind};
use crate::naming::Debian;
use crate::platform::Os;
use crate::stage::{MemberKind, StagedBuild};
use desktop::Messages;

/// The sizes of the icons `links.in` links into the hicolor theme.
const ICON_SIZES: [u32; 5] = [16, 32, 48, 64, 128];

/// What `--formats deb` is given besides the build.
#[derive(Clone, Debug, Default)]
pub struct AppDebInputs {
    /// `--deb-depends`: the `Depends` field as given, instead of the one worked out from
    /// the build's ELF files.
    pub depends: Option<String>,
    /// Every locale of the run's list with a langpack, sorted: the desktop entry's
    /// translations (whatever `--locales` or the chunk picks, so every task of a graph
    /// would write the same package).
    pub langpacks: Vec<(String, LangpackSource)>,
    /// The locales of the list with no langpack under `--l10n`: reported, since the desktop
    /// entry has no strings of theirs.
    pub without: Vec<String>,
}

/// The application `.deb`.
pub struct AppDeb;

impl Packager for AppDeb {
    fn id(&self) -> &'static str {
        "deb"
    }

    fn fits(&self, os: Os) -> bool {
        os == Os::Linux
    }

    fn unfit_reason(&self, _os: Os) -> Option<&'static str> {
        Some("the application .deb is made from Linux builds")
    }

    fn per_run(&self) -> bool {
        true
    }

    fn has_multi_locale_package(&self) -> bool {
        false
    }

    /// Nightly: dpkg's own name, `<package>_<version>_<arch>.deb`; release:
    /// `<platform>/en-US/firefox-<version>.deb`, as `firefox_candidates.yml` puts it.
    fn name(&self, names: &Names<'_>) -> String {
        if names.release {
            names.package(".deb")
        } else {
            let (package, version) = match names.debian {
                Some(deb) => (deb.package.as_str(), deb.version.as_str()),
                None => (names.product.file.as_str(), names.version),
            };
            let arch = arch(names.platform.path).unwrap_or("all");
            format!("{package}_{}_{arch}.deb", version.replace(':', "%3a"))
        }
    }

    fn options(&self, settings: &Settings) -> Vec<ByteOption> {
        let none = AppDebInputs::default();
        let inputs = settings.app_deb.as_ref().unwrap_or(&none);
        let locales: Vec<&str> = inputs.langpacks.iter().map(|(l, _)| l.as_str()).collect();
        vec![
            ByteOption::output("deb", "depends", &inputs.depends),
            ByteOption::output("deb", "desktop_locales", locales),
        ]
    }

    fn shares_pieces(&self) -> bool {
        false
    }

    /// Works out `Depends` and reads every locale's desktop strings, so that a build this
    /// package cannot be made of stops the run before any locale is started.
    fn prepare(&self, build: &Build<'_>) -> Result<Box<dyn Prepared>> {
        let staged = build.staged;
        let none = AppDebInputs::default();
        let inputs = build.settings.app_deb.as_ref().unwrap_or(&none);
        let failed = |reason: String| Error::AppDeb {
            path: staged.source.clone(),
            reason,
        };
        let depends = match &inputs.depends {
            Some(given) => given.clone(),
            None => {
                let prefix = staged.app_prefix();
                let files = staged
                    .members
                    .iter()
                    .filter_map(|m| Some((m.path.strip_prefix(&prefix)?, m.data()?)));
                depends::depends(files).map_err(|unresolved| match unresolved {
                    depends::Unresolved::Unreadable { file, reason } => {
                        failed(format!("{file} is not a readable ELF file ({reason})"))
                    }
                    depends::Unresolved::Unknown { file, soname } => failed(format!(
                        "{file} needs {soname}, and l10n-repack does not know which Debian \
                         package has it; give the whole field with --deb-depends (what \
                         dpkg-shlibdeps prints for the build), or add {soname} to \
                         src/formats/app_deb/depends.rs"
                    )),
                })?
            }
        };
        if staged
            .app_member("firefox")
            .is_none_or(|m| m.data().is_none())
        {
            return Err(failed(format!(
                "it has no {}firefox, the executable /usr/bin/<package> starts; give a \
                 complete Firefox build",
                staged.app_prefix()
            )));
        }
        let en_us = en_us_messages(staged).map_err(failed)?;
        let mut left_out: Vec<Finding> = inputs
            .without
            .iter()
            .map(|locale| no_strings(locale, "no langpack under --l10n"))
            .collect();
        let mut others = Vec::new();
        for (locale, source) in &inputs.langpacks {
            let rel = format!("browser/localization/{locale}/{}", desktop::FTL);
            match source.read_text(&rel) {
                Some(ftl) => others.push(Messages::resolve(locale, &ftl, &en_us.1)),
                None => left_out.push(no_strings(
                    locale,
                    &format!("its langpack has no readable {rel}"),
                )),
            }
        }
        left_out.sort();
        Ok(Box::new(AppPieces {
            depends,
            en_us: en_us.0,
            others,
            left_out,
        }))
    }

    fn load(&self, _build: &Build<'_>, _input: &mut PieceReader<'_>) -> Loaded {
        Err(packagers::Error::Deb {
            reason: "the application package keeps no shared pieces".into(),
        })
    }

    fn check(&self, data: &[u8], _locale: &str, _expected: &[(String, Vec<u8>)]) -> Vec<String> {
        check_app_deb(data)
    }
}

/// The finding for a locale the desktop entry has no strings of.
fn no_strings(locale: &str, why: &str) -> Finding {
    Finding {
        kind: FindingKind::LeftOut,
        file: locale.to_owned(),
        key: None,
        line: None,
        strings: None,
        detail: format!("{why}: the desktop entry has no strings of {locale}"),
    }
}

/// The Debian architecture of a Linux platform (`deb.py`'s `_DEB_ARCH`).
fn arch(platform_path: &str) -> Option<&'static str> {
    match platform_path {
        "linux-x86_64" => Some("amd64"),
        "linux-i686" => Some("i386"),
        "linux-aarch64" => Some("arm64"),
        _ => None,
    }
}

/// en-US's desktop messages from the build's `browser/omni.ja`, and the brand's terms
/// every locale resolves them with.
fn en_us_messages(staged: &StagedBuild) -> std::result::Result<(Messages, String), String> {
    let jar = staged
        .jars
        .iter()
        .find(|jar| jar.path == "browser/omni.ja")
        .ok_or("the build has no browser/omni.ja, where Firefox keeps its desktop strings")?;
    let read = |name: &str| -> std::result::Result<String, String> {
        let index = *jar.by_name.get(name).ok_or_else(|| {
            format!(
                "its browser/omni.ja has no {name}; the application .deb is written for \
                 Firefox builds that have it"
            )
        })?;
        let bytes = packagers::jar::decompress(&jar.entries[index], staged.entry_raw(jar, index))
            .map_err(|e| format!("its browser/omni.ja's {name} cannot be read: {e}"))?;
        String::from_utf8(bytes).map_err(|_| format!("its browser/omni.ja's {name} is not UTF-8"))
    };
    let brand = read(desktop::BRAND_FTL)?;
    let ftl = read(&format!("localization/en-US/{}", desktop::FTL))?;
    Ok((Messages::resolve("en-US", &ftl, &brand), brand))
}

/// What the package needs besides the build, worked out once.
struct AppPieces {
    depends: String,
    en_us: Messages,
    others: Vec<Messages>,
    /// The locales the desktop entry has no strings of, and why.
    left_out: Vec<Finding>,
}

impl Prepared for AppPieces {
    fn save(&self, _out: &mut PieceWriter) {}

    fn shared_bytes(&self) -> u64 {
        0
    }

    fn write_locale(&self, _locale: &Locale<'_>, _target: Target<'_>) -> Result<Written> {
        Err(bug("a locale's package"))
    }

    fn write_run(
        &self,
        build: &Build<'_>,
        names: &Names<'_>,
        target: Target<'_>,
    ) -> Result<Written> {
        let deb = names
            .debian
            .ok_or_else(|| bug("the build's Debian names"))?;
        let arch = arch(names.platform.path).ok_or_else(|| bug("a Linux platform"))?;
        let bytes = self.package(build.staged, deb, arch, build.mtime)?;
        let mut written = write_file(target, |w| {
            w.write_all(&bytes)
                .map_err(|e| write_error("the application .deb")(e.into()))
        })?;
        written.findings.clone_from(&self.left_out);
        Ok(written)
    }
}

/// What should not happen: the engine did not hand over what it always does.
fn bug(what: &str) -> Error {
    write_error("the application .deb")(packagers::Error::Deb {
        reason: format!(
            "{what} was not handed over; this is a bug in l10n-repack, please report it"
        ),
    })
}

/// A file of the package that the build does not have.
enum Added {
    File(Vec<u8>, u32),
    Link(String),
}

impl AppPieces {
    /// The whole package.
    fn package(
        &self,
        staged: &StagedBuild,
        deb: &Debian,
        arch: &str,
        mtime: u64,
    ) -> Result<Vec<u8>> {
        let failed = write_error("the application .deb");
        let fail = |reason: String| Error::AppDeb {
            path: staged.source.clone(),
            reason,
        };
        let package = deb.package.as_str();
        let install = format!("usr/lib/{package}");
        let prefix = staged.app_prefix();
        let date = packagers::civil::Civil::from_unix(mtime).long_date();
        let desktop =
            desktop::desktop_entry(package, &deb.remoting_name, &self.en_us, &self.others)
                .map_err(&fail)?;
        let manpage = templates::render(
            templates::MANPAGE,
            &[
                ("PKG_NAME", package),
                ("DISPLAY_NAME", &deb.display_name),
                ("MANPAGE_DATE", &date),
            ],
        );
        let text = |s: &str| s.as_bytes().to_vec();
        let mut added: Vec<(String, Added)> = vec![
            (
                format!("{install}/is-packaged-app"),
                Added::File(text(templates::IS_PACKAGED_APP), 0o644),
            ),
            (
                format!("{install}/distribution/distribution.ini"),
                Added::File(text(templates::DISTRIBUTION_INI), 0o644),
            ),
            (
                format!("{install}/defaults/pref/package-prefs.js"),
                Added::File(text(templates::PACKAGE_PREFS_JS), 0o644),
            ),
            (
                format!("usr/bin/{package}"),
                Added::Link(format!("../lib/{package}/firefox")),
            ),
            (
                format!("usr/share/applications/{package}.desktop"),
                Added::File(desktop.into_bytes(), 0o644),
            ),
            (
                format!("usr/share/man/man1/{package}.1.gz"),
                Added::File(gzip_n(manpage.as_bytes()).map_err(&failed)?, 0o644),
            ),
            (
                format!("usr/share/doc/{package}/changelog.gz"),
                Added::File(
                    changelog_gz(package, &deb.version, deb.maintainer, mtime).map_err(&failed)?,
                    0o644,
                ),
            ),
        ];
        if package == "firefox-esr" {
            added.push((
                "usr/bin/firefox".into(),
                Added::File(text(templates::FIREFOX_SH), 0o755),
            ));
        }
        for size in ICON_SIZES {
            let icon = format!("browser/chrome/icons/default/default{size}.png");
            if staged.app_member(&icon).is_some() {
                added.push((
                    format!("usr/share/icons/hicolor/{size}x{size}/apps/{package}.png"),
                    Added::Link(format!("../../../../../lib/{package}/{icon}")),
                ));
            }
        }
        let replaced: Vec<String> = added
            .iter()
            .filter_map(|(path, _)| path.strip_prefix(&format!("{install}/")).map(str::to_owned))
            .collect();
        let members: Vec<(String, usize)> = staged
            .members
            .iter()
            .enumerate()
            .filter_map(|(i, m)| {
                let rel = m.path.strip_prefix(&prefix)?;
                (!replaced.iter().any(|r| r == rel)).then(|| (format!("{install}/{rel}"), i))
            })
            .collect();
        let mut tree = DataTree::new();
        for (path, i) in &members {
            let member = &staged.members[*i];
            let entry = match &member.kind {
                MemberKind::File(data) => DebEntry::File {
                    data,
                    mode: fixed_mode(path, member.mode),
                },
                MemberKind::Dir => DebEntry::Dir,
                MemberKind::Symlink(target) => DebEntry::Symlink { target },
            };
            tree.insert(path, entry).map_err(&failed)?;
        }
        for (path, what) in &added {
            let entry = match what {
                Added::File(data, mode) => DebEntry::File { data, mode: *mode },
                Added::Link(target) => DebEntry::Symlink { target },
            };
            tree.insert(path, entry).map_err(&failed)?;
        }
        let scripts: Vec<(&str, String)> = [
            ("postinst", templates::POSTINST, true),
            ("postrm", templates::POSTRM, true),
            ("preinst", templates::PREINST, true),
            ("prerm", templates::PRERM, false),
        ]
        .into_iter()
        .map(|(name, template, apparmor)| (name, templates::script(template, apparmor, package)))
        .collect();
        // dpkg-gencontrol counts what DEBIAN/ holds when it runs: the maintainer scripts.
        let installed_size = tree.installed_size()
            + scripts
                .iter()
                .map(|(_, s)| (s.len() as u64).div_ceil(1024))
                .sum::<u64>();
        let mut control = Control::new()
            .field("Package", package)
            .field("Version", deb.version.as_str())
            .field("Architecture", arch)
            .field("Maintainer", deb.maintainer)
            .field("Installed-Size", installed_size.to_string());
        if !self.depends.trim().is_empty() {
            control = control.field("Depends", self.depends.trim());
        }
        let control = control
            .field("Provides", "gnome-www-browser, www-browser")
            .field("Section", deb.section)
            .field("Priority", "optional")
            .field("Description", deb.description.as_str())
            .render()
            .map_err(&failed)?;
        let scripts: Vec<(&str, &[u8])> = scripts.iter().map(|(n, s)| (*n, s.as_bytes())).collect();
        let control_tar = control_tar(&control, &tree.md5sums(), &scripts, mtime);
        let data_tar = tree.tar(mtime);
        let control_xz = dpkg_xz(&control_tar).map_err(&failed)?;
        let data_xz = dpkg_xz(&data_tar).map_err(&failed)?;
        drop(data_tar);
        DebWriter::new(Vec::new(), mtime)
            .finish(&control_xz, &data_xz)
            .map_err(failed)
    }
}

/// A file's mode after `dh_fixperms`: no set-id or sticky bits, the owner reads and
/// writes, group and others read (and execute what anyone could); libraries, scripts,
/// style sheets and images 0644.
fn fixed_mode(path: &str, mode: u32) -> u32 {
    let name = path.rsplit('/').next().unwrap_or(path);
    let plain = [
        ".so", ".la", ".a", ".js", ".css", ".scss", ".sass", ".jpeg", ".jpg", ".png", ".gif",
        ".cmxs", ".node",
    ];
    if plain.iter().any(|ext| name.ends_with(ext)) || name.contains(".so.") {
        return 0o644;
    }
    let executable = mode & 0o111 != 0;
    (mode & 0o700) | 0o600 | if executable { 0o055 } else { 0o044 }
}

/// What `verify` finds wrong in an application package: its layout, its control fields
/// and scripts, `md5sums` against its files, and the files a working install needs.
fn check_app_deb(data: &[u8]) -> Vec<String> {
    let (deb, mut problems) = match super::check::read_deb(data, crate::stage::max_unpacked()) {
        Ok(read) => read,
        Err(problems) => return problems,
    };
    let field = |name: &str| deb.control.get(name).unwrap_or_default();
    let package = field("Package");
    if package.is_empty() || field("Version").is_empty() {
        problems.push("its control file has no Package or no Version".into());
        return problems;
    }
    if !["amd64", "i386", "arm64"].contains(&field("Architecture")) {
        problems.push(format!(
            "Architecture is {:?}, not a Linux build's (amd64, i386, arm64)",
            field("Architecture")
        ));
    }
    if field("Provides") != "gnome-www-browser, www-browser" {
        problems.push(format!("Provides is {:?}", field("Provides")));
    }
    let control_paths: Vec<&str> = deb.control_files.iter().map(|f| f.path.as_str()).collect();
    let scripts = ["./postinst", "./postrm", "./preinst", "./prerm"];
    for script in scripts {
        match deb.control_files.iter().find(|f| f.path == script) {
            Some(f) if f.mode & 0o111 == 0o111 && f.data.starts_with(b"#!/bin/sh") => {}
            Some(_) => problems.push(format!(
                "control.tar.xz's {script} is not an executable shell script"
            )),
            None => problems.push(format!(
                "control.tar.xz has no {script} (it holds {control_paths:?})"
            )),
        }
    }
    if !deb.md5sums_match() {
        problems.push("md5sums does not match the files of data.tar.xz".into());
    }
    let install = format!("./usr/lib/{package}/");
    let find = |path: &str| deb.data.iter().find(|f| f.path == path);
    for required in [
        "application.ini",
        "firefox",
        "is-packaged-app",
        "distribution/distribution.ini",
    ] {
        if find(&format!("{install}{required}")).is_none_or(|f| f.kind != b'0') {
            problems.push(format!("it has no file {install}{required}"));
        }
    }
    let desktop = format!("./usr/share/applications/{package}.desktop");
    match find(&desktop) {
        Some(f) => {
            let text = String::from_utf8_lossy(&f.data);
            if !text.starts_with("[Desktop Entry]\n")
                || !text.contains(&format!("\nExec={package} %u\n"))
            {
                problems.push(format!(
                    "{desktop} is not a desktop entry that starts {package}"
                ));
            }
        }
        None => problems.push(format!("it has no {desktop}")),
    }
    // Every link must land on a file of the package.
    for link in deb.data.iter().filter(|f| f.kind == b'2') {
        let target = String::from_utf8_lossy(&link.data);
        let dir = link.path.rsplit_once('/').map_or("", |(d, _)| d);
        let resolved = resolve(dir, &target);
        if resolved
            .as_deref()
            .and_then(find)
            .is_none_or(|f| f.kind != b'0')
        {
            problems.push(format!(
                "{} links to {target}, which the package does not hold",
                link.path
            ));
        }
    }
    match find(&format!("./usr/bin/{package}")) {
        Some(f) if f.kind == b'2' => {}
        _ => problems.push(format!("it has no link ./usr/bin/{package}")),
    }
    problems
}

/// `target` seen from the directory `dir` (`./usr/bin`), as a package path (`./usr/lib/…`).
fn resolve(dir: &str, target: &str) -> Option<String> {
    let mut parts: Vec<&str> = dir
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            name => parts.push(name),
        }
    }
    Some(format!("./{}", parts.join("/")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_are_dh_fixperms_s() {
        assert_eq!(fixed_mode("usr/lib/firefox/firefox", 0o755), 0o755);
        assert_eq!(fixed_mode("usr/lib/firefox/libxul.so", 0o755), 0o644);
        assert_eq!(fixed_mode("usr/lib/firefox/crashreporter", 0o4775), 0o755);
        assert_eq!(fixed_mode("usr/lib/firefox/omni.ja", 0o600), 0o644);
        assert_eq!(fixed_mode("usr/lib/firefox/a.png", 0o755), 0o644);
    }

    #[test]
    fn links_resolve_inside_the_package() {
        assert_eq!(
            resolve("./usr/bin", "../lib/firefox/firefox").as_deref(),
            Some("./usr/lib/firefox/firefox")
        );
        assert_eq!(
            resolve(
                "./usr/share/icons/hicolor/16x16/apps",
                "../../../../../lib/firefox/browser/chrome/icons/default/default16.png"
            )
            .as_deref(),
            Some("./usr/lib/firefox/browser/chrome/icons/default/default16.png")
        );
        assert_eq!(resolve("./usr", "../../../etc"), None);
    }

    #[test]
    fn architectures_are_deb_py_s() {
        assert_eq!(arch("linux-x86_64"), Some("amd64"));
        assert_eq!(arch("linux-aarch64"), Some("arm64"));
        assert_eq!(arch("win64"), None);
    }
}
