//! Langpack packages for Mozilla's APT repository: `firefox-l10n-<locale>_<version>_all.deb`,
//! one per locale, as the `repackage-deb-l10n` kind writes them (`mach repackage deb-l10n`:
//! `python/mozbuild/mozbuild/repackaging/deb.py` with the templates of
//! `browser/installer/linux/langpack/debian/`; the facts relied on are in the README).
//!
//! The package ([`packagers::deb`]: an `ar` of `debian-binary`, `control.tar.xz` and
//! `data.tar.xz`) installs two files:
//!
//! - `usr/lib/<app package>/distribution/extensions/<gecko id>.xpi`: the locale's langpack
//!   XPI byte for byte (signature included), where Firefox installs distribution add-ons
//!   from; for a flat langpack directory, a deterministic unsigned XPI of its files;
//! - `usr/share/doc/<package>/changelog.gz`: the template's one-entry changelog
//!   (`gzip -9n`), which debhelper installs.
//!
//! Its `control` has `dpkg-gencontrol`'s field order: `Package` (`<app package>-l10n-<locale
//! lowercased>`), `Version` (`<version>~build<N>`, nightly `<version>~<BuildID>`),
//! `Architecture: all`, `Maintainer`, `Installed-Size`, `Depends: <app package> (=
//! <version>)`, `Section`, `Priority: optional` and the one-line `Description: <Vendor>
//! <CodeName or Name> - <the langpack's description>`. Member and file times are the batch's member time
//! (`SOURCE_DATE_EPOCH` or the BuildID), which is also the changelog's date.
//!
//! Nothing is shared between locales (each package is its langpack's bytes), so there are no
//! pieces to prepare.

use packagers::deb::{Control, DataTree, DebEntry, DebWriter, changelog_gz, control_tar, one_line};
use packagers::piece::{PieceReader, PieceWriter};

use super::{
    Build, Loaded, Locale, Names, Packager, Prepared, Target, Written, dpkg_xz, write_error,
    write_file,
};
use crate::error::Result;
use crate::l10n::langpack::LangpackXpi;
use crate::naming::Debian;
use crate::platform::Os;

/// The most `verify` unpacks of one langpack package (real ones hold a 1 MB XPI).
const MAX_UNPACKED: u64 = 600 << 20;

/// The langpack `.deb`.
pub struct LangpackDeb;

impl Packager for LangpackDeb {
    fn id(&self) -> &'static str {
        "deb-l10n"
    }

    fn has_multi_locale_package(&self) -> bool {
        false
    }

    fn fits(&self, os: Os) -> bool {
        os == Os::Linux
    }

    fn unfit_reason(&self, _os: Os) -> Option<&'static str> {
        Some("langpack .debs are for Linux builds (Mozilla makes them from linux64's)")
    }

    /// Nightly: dpkg's own name, `<package>_<version>_all.deb`; release:
    /// `<platform>/deb-l10n/<locale>.deb`, as `firefox_candidates.yml` puts them.
    fn name(&self, names: &Names<'_>) -> String {
        if names.release {
            format!("{}/deb-l10n/{}.deb", names.platform.path, names.locale)
        } else {
            let (package, version) = match names.debian {
                Some(deb) => (deb.langpack_package(names.locale), deb.version.as_str()),
                None => (
                    format!("{}-l10n-{}", names.product.file, names.locale),
                    names.version,
                ),
            };
            format!("{package}_{}_all.deb", version.replace(':', "%3a"))
        }
    }

    fn needs_langpack_xpi(&self) -> bool {
        true
    }

    fn shares_pieces(&self) -> bool {
        false
    }

    fn prepare(&self, _build: &Build<'_>) -> Result<Box<dyn Prepared>> {
        Ok(Box::new(NoPieces))
    }

    fn load(&self, _build: &Build<'_>, _input: &mut PieceReader<'_>) -> Loaded {
        Ok(Box::new(NoPieces))
    }

    fn check(&self, data: &[u8], locale: &str, expected: &[(String, Vec<u8>)]) -> Vec<String> {
        check_langpack_deb(data, locale, expected)
    }
}

/// A langpack package shares nothing with another locale's.
struct NoPieces;

impl Prepared for NoPieces {
    fn save(&self, _out: &mut PieceWriter) {}

    fn shared_bytes(&self) -> u64 {
        0
    }

    fn write_locale(&self, locale: &Locale<'_>, target: Target<'_>) -> Result<Written> {
        let (Some(deb), Some(xpi)) = (locale.names.debian, locale.langpack) else {
            return Err(write_error("the langpack .deb")(packagers::Error::Deb {
                reason: "the build's Debian names or the locale's langpack XPI were not \
                         handed over; this is a bug in l10n-repack, please report it"
                    .into(),
            }));
        };
        let bytes = langpack_deb(deb, locale.code, xpi, locale.build.mtime)?;
        write_file(target, |w| {
            w.write_all(&bytes)
                .map_err(|e| write_error("the langpack .deb")(e.into()))
        })
    }
}

/// The whole package of `locale`'s langpack `xpi`.
pub fn langpack_deb(deb: &Debian, locale: &str, xpi: &LangpackXpi, mtime: u64) -> Result<Vec<u8>> {
    let failed = write_error("the langpack .deb");
    let package = deb.langpack_package(locale);
    let xpi_path = format!(
        "usr/lib/{}/distribution/extensions/{}.xpi",
        deb.package, xpi.id
    );
    let changelog_path = format!("usr/share/doc/{package}/changelog.gz");
    let changelog = changelog_gz(&package, &deb.version, deb.maintainer, mtime).map_err(&failed)?;
    let mut tree = DataTree::new();
    tree.insert(
        &xpi_path,
        DebEntry::File {
            data: &xpi.bytes,
            mode: 0o644,
        },
    )
    .map_err(&failed)?;
    tree.insert(
        &changelog_path,
        DebEntry::File {
            data: &changelog,
            mode: 0o644,
        },
    )
    .map_err(&failed)?;
    let description = match xpi.description.as_deref().map(one_line) {
        Some(what) if !what.is_empty() => format!("{} - {what}", one_line(&deb.description)),
        _ => format!("{} - {locale} language pack", one_line(&deb.description)),
    };
    let control = Control::new()
        .field("Package", package.as_str())
        .field("Version", deb.version.as_str())
        .field("Architecture", "all")
        .field("Maintainer", deb.maintainer)
        .field("Installed-Size", tree.installed_size().to_string())
        .field(
            "Depends",
            format!("{} (= {})", deb.package, deb.depends_version),
        )
        .field("Section", deb.section)
        .field("Priority", "optional")
        .field("Description", description);
    let control = control.render().map_err(&failed)?;
    let control_xz =
        dpkg_xz(&control_tar(&control, &tree.md5sums(), &[], mtime)).map_err(&failed)?;
    let data_xz = dpkg_xz(&tree.tar(mtime)).map_err(&failed)?;
    DebWriter::new(Vec::new(), mtime)
        .finish(&control_xz, &data_xz)
        .map_err(failed)
}

/// What `verify` finds wrong in a langpack package of `locale`: its layout, its control
/// fields, its `md5sums` against its files, and the XPI inside (a langpack of this locale,
/// under its own gecko id, holding the langpack's `expected` files byte for byte).
fn check_langpack_deb(data: &[u8], locale: &str, expected: &[(String, Vec<u8>)]) -> Vec<String> {
    let (deb, mut problems) = match super::check::read_deb(data, MAX_UNPACKED) {
        Ok(read) => read,
        Err(problems) => return problems,
    };
    let control_paths: Vec<&str> = deb.control_files.iter().map(|f| f.path.as_str()).collect();
    if control_paths != ["./", "./control", "./md5sums"] {
        problems.push(format!(
            "control.tar.xz holds {control_paths:?}, not just ./control and ./md5sums (a \
             langpack package has no maintainer scripts)"
        ));
    }
    let field = |name: &str| deb.control.get(name).unwrap_or_default();
    let package = field("Package");
    let suffix = format!("-l10n-{}", locale.to_ascii_lowercase());
    let Some(app) = package.strip_suffix(&suffix).filter(|app| !app.is_empty()) else {
        problems.push(format!("Package is {package:?}, not <app>{suffix}"));
        return problems;
    };
    if field("Architecture") != "all" {
        problems.push(format!(
            "Architecture is {:?}, not all",
            field("Architecture")
        ));
    }
    let version = field("Version");
    let depends = field("Depends");
    let fits = [
        format!("{app} (= {version})"),
        format!("{app} (= 1:{version})"),
    ];
    if version.is_empty() || !fits.iter().any(|f| f == depends) {
        problems.push(format!(
            "Depends is {depends:?}, not {app} (= {version}), the application at this version"
        ));
    }
    if !deb.md5sums_match() {
        problems.push("md5sums does not match the files of data.tar.xz".into());
    }
    // Exactly the XPI, the changelog and the directories above them.
    let extensions = format!("./usr/lib/{app}/distribution/extensions/");
    let changelog = format!("./usr/share/doc/{package}/changelog.gz");
    let mut xpis = Vec::new();
    for file in &deb.data {
        let path = file.path.as_str();
        let dir =
            file.kind == b'5' && (extensions.starts_with(path) || changelog.starts_with(path));
        let xpi = file.kind == b'0'
            && path
                .strip_prefix(&extensions)
                .is_some_and(|name| name.ends_with(".xpi") && !name.contains('/'));
        if xpi {
            xpis.push(file);
        } else if !(dir || (file.kind == b'0' && path == changelog)) {
            problems.push(format!(
                "data.tar.xz holds {path}, which a langpack package does not"
            ));
        }
    }
    match xpis.as_slice() {
        [xpi] => {
            for problem in check_xpi(&xpi.path, &xpi.data, locale, expected) {
                problems.push(problem);
            }
        }
        _ => problems.push(format!(
            "it holds {} XPIs in {extensions}, not one",
            xpis.len()
        )),
    }
    problems
}

/// The XPI at `path` must be this locale's langpack, under its gecko id, with the
/// langpack's `expected` files.
fn check_xpi(path: &str, xpi: &[u8], locale: &str, expected: &[(String, Vec<u8>)]) -> Vec<String> {
    let Ok(entries) = packagers::jar::read_entries(xpi) else {
        return vec![format!("{path} is not a readable XPI")];
    };
    let read = |name: &str| {
        let entry = entries.iter().find(|e| e.name == name)?;
        packagers::jar::decompress(entry, &xpi[entry.data.clone()]).ok()
    };
    let Some(manifest) = read("manifest.json")
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
    else {
        return vec![format!("{path} has no readable manifest.json")];
    };
    let mut problems = Vec::new();
    let id = crate::l10n::langpack::gecko_id(&manifest).unwrap_or_default();
    if !path.ends_with(&format!("/{id}.xpi")) {
        problems.push(format!("{path} is not named after its gecko id {id:?}"));
    }
    match manifest.get("langpack_id").and_then(|v| v.as_str()) {
        Some(id) if id.eq_ignore_ascii_case(locale) => {}
        Some(id) => problems.push(format!("{path} is the langpack of {id}, not {locale}")),
        None => problems.push(format!("{path}'s manifest.json has no langpack_id")),
    }
    let differing = expected
        .iter()
        .filter(|(name, bytes)| read(name).as_ref() != Some(bytes))
        .count();
    if differing > 0 {
        problems.push(format!(
            "{differing} of the langpack's files are missing from its XPI or differ"
        ));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xpi(locale: &str) -> LangpackXpi {
        let manifest = format!(
            r#"{{"langpack_id": "{locale}", "browser_specific_settings": {{"gecko": {{"id": "langpack-{locale}@firefox.mozilla.org"}}}}}}"#
        );
        let files = [
            ("manifest.json", manifest.as_bytes()),
            ("a.ftl", b"x = y\n"),
        ];
        let mut buffers = vec![Vec::new(); files.len()];
        let entries: Vec<_> = files
            .iter()
            .zip(&mut buffers)
            .map(|((name, data), buf)| {
                packagers::jar::RawEntry::compress(
                    name,
                    data,
                    packagers::jar::Method::Deflated,
                    0o100644,
                    buf,
                )
                .unwrap()
            })
            .collect();
        LangpackXpi {
            id: format!("langpack-{locale}@firefox.mozilla.org"),
            description: None,
            bytes: packagers::jar::write_jar(&entries).unwrap(),
        }
    }

    fn debian() -> Debian {
        Debian {
            package: "firefox".into(),
            version: "140.0~build1".into(),
            depends_version: "140.0~build1".into(),
            description: "Mozilla Firefox".into(),
            maintainer: "Mozilla <release@mozilla.com>",
            section: "web",
            display_name: "Firefox".into(),
            remoting_name: "firefox".into(),
        }
    }

    #[test]
    fn verify_finds_another_locale_s_langpack_and_missing_files() {
        let deb = langpack_deb(&debian(), "fr", &xpi("fr"), 1_700_000_000).unwrap();
        let expected = vec![("a.ftl".to_owned(), b"x = y\n".to_vec())];
        assert_eq!(
            check_langpack_deb(&deb, "fr", &expected),
            Vec::<String>::new()
        );
        // Checked as another locale's package: its name says so.
        let problems = check_langpack_deb(&deb, "de", &[]);
        assert!(problems[0].starts_with("Package is"), "{problems:?}");
        // A package for de holding fr's langpack.
        let swapped = langpack_deb(&debian(), "de", &xpi("fr"), 1_700_000_000).unwrap();
        assert_eq!(
            check_langpack_deb(&swapped, "de", &[]),
            [
                "./usr/lib/firefox/distribution/extensions/langpack-fr@firefox.mozilla.org.xpi \
              is the langpack of fr, not de"
            ]
        );
        let changed = vec![("a.ftl".to_owned(), b"x = z\n".to_vec())];
        assert_eq!(
            check_langpack_deb(&deb, "fr", &changed),
            ["1 of the langpack's files are missing from its XPI or differ"]
        );
        assert!(check_langpack_deb(b"!<arch>\n", "fr", &[])[0].starts_with("not a readable .deb"));
    }
}
