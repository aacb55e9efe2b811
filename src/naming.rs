//! Product and version names: what output names and `report.json` call the build, and what
//! its Debian packages are called ([`Debian`]).
//!
//! Each format names its own outputs ([`crate::formats::Packager::name`], from
//! [`crate::formats::Names`]); the platform's path name is in [`crate::platform`].

/// The products this version knows by name, with a built-in locales list each
/// ([`crate::locales::Locales::built_in_for`]).
pub const PRODUCTS: &[&str] = &["firefox", "fennec", "thunderbird"];

/// What output names call the product, from the build's own `application.ini` `Name`:
/// `firefox-…` / `Firefox 153.0.dmg`, `thunderbird-…` / `Thunderbird Setup 153.0.exe`. Android
/// builds are `fennec-…`, as Mozilla names them whatever the app calls itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Product {
    /// In file names and `manifest.json`: `firefox`, `thunderbird`, `fennec`.
    pub file: String,
    /// In release names: `Firefox`, `Thunderbird`.
    pub display: String,
}

impl Product {
    /// The product of a build whose `application.ini` says `Name=<app_name>` (already
    /// checked to be letters, digits, spaces, `-` and `_`), on `platform`.
    pub fn of(app_name: &str, platform: crate::platform::Platform) -> Product {
        if platform.os == crate::platform::Os::Android {
            return Product {
                file: "fennec".into(),
                display: "Fennec".into(),
            };
        }
        Product {
            file: app_name.to_ascii_lowercase().replace(' ', "-"),
            display: app_name.to_owned(),
        }
    }

    /// The product `--product NAME` names (`thunderbird`), on `platform`.
    pub fn named(name: &str, platform: crate::platform::Platform) -> Product {
        let mut display = name.to_ascii_lowercase();
        if let Some(first) = display.get_mut(..1) {
            first.make_ascii_uppercase();
        }
        Product::of(&display, platform)
    }

    /// The product an input's file name starts with (`thunderbird-153.8.0esr.en-US…`),
    /// else Firefox. Only a first guess, for choosing the built-in locales list before the
    /// build is read; [`crate::plan::RepackPlan::apply_build`] checks it against the build's
    /// `application.ini`.
    pub fn from_file_name(name: &str, platform: crate::platform::Platform) -> Product {
        let lower = name.to_ascii_lowercase();
        match PRODUCTS
            .iter()
            .find(|p| lower.starts_with(&format!("{p}-")) || lower.starts_with(&format!("{p} ")))
        {
            Some(product) => Product::named(product, platform),
            None => Product::of("Firefox", platform),
        }
    }

    /// Firefox, before a build says otherwise.
    pub fn firefox() -> Product {
        Product {
            file: "firefox".into(),
            display: "Firefox".into(),
        }
    }
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

/// How Mozilla's Debian packages (`python/mozbuild/mozbuild/repackaging/deb.py`, templates
/// under `browser/installer/linux/{app,langpack}/debian/`) name and describe this build.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Debian {
    /// The application's package, and its directory under `usr/lib/`: `RemotingName`
    /// lowercased (`firefox`, `firefox-esr`), else the product's file name;
    /// `firefox-devedition` for Developer Edition, as `deb.py` names it.
    pub package: String,
    /// The package version: `<display version>~build<N>`, or `<version>~<BuildID>` for a
    /// nightly (`a1`) version.
    pub version: String,
    /// The application version a langpack package depends on: Thunderbird's packages carry
    /// the epoch `1:`.
    pub depends_version: String,
    /// `<Vendor> <CodeName or Name>`, the start of every description (`Mozilla Firefox`).
    pub description: String,
    /// `CodeName`, else `Name`: what the application package's manual page calls it.
    pub display_name: String,
    /// `RemotingName` as `application.ini` has it (else the package name): the desktop
    /// entry's `StartupWMClass`.
    pub remoting_name: String,
    /// `Maintainer`, as the product's templates have it.
    pub maintainer: &'static str,
    /// `Section`: `web`, Thunderbird's `mail`.
    pub section: &'static str,
}

/// What [`Debian::of`] reads from `application.ini` (`[App]`).
#[derive(Clone, Copy, Debug)]
pub struct DebianSource<'a> {
    /// `Name`.
    pub name: &'a str,
    /// `Vendor`.
    pub vendor: Option<&'a str>,
    /// `CodeName`.
    pub code_name: Option<&'a str>,
    /// `RemotingName`.
    pub remoting_name: Option<&'a str>,
    /// `BuildID`.
    pub build_id: Option<&'a str>,
}

impl Debian {
    /// The Debian names of `product` at `display_version`, as `deb.py` makes them; why not,
    /// when the version cannot be made (a release version needs `--build-number`, a nightly
    /// one the BuildID) or `RemotingName` is no package name.
    pub fn of<'a>(
        app: DebianSource<'a>,
        product: &Product,
        display_version: &str,
        build_number: Option<u32>,
    ) -> Result<Debian, String> {
        let present = |value: Option<&'a str>| value.map(str::trim).filter(|v| !v.is_empty());
        let remoting_name = present(app.remoting_name).map(str::to_owned);
        let remoting = remoting_name.as_deref().map(str::to_ascii_lowercase);
        // deb.py names Developer Edition's packages firefox-devedition, whatever its
        // RemotingName (firefox-dev, firefox-aurora on older builds).
        let devedition = present(app.code_name) == Some("Firefox Developer Edition")
            || matches!(remoting.as_deref(), Some("firefox-dev" | "firefox-aurora"));
        let package = if devedition {
            "firefox-devedition".to_owned()
        } else {
            remoting.unwrap_or_else(|| product.file.clone())
        };
        if !is_package_name(&package) {
            return Err(format!(
                "application.ini's RemotingName {package:?} is no Debian package name \
                 (lowercase letters, digits, '+', '-', '.'); the build cannot be packaged as a .deb"
            ));
        }
        let version = if display_version.contains('a') {
            let id = app.build_id.ok_or_else(|| {
                format!(
                    "{display_version} is a nightly version, versioned <version>~<BuildID> as a \
                     .deb, and application.ini has no BuildID"
                )
            })?;
            format!("{display_version}~{id}")
        } else {
            let n = build_number.ok_or_else(|| {
                format!(
                    "a .deb of {display_version} is versioned {display_version}~build<N>: give \
                     --build-number N (the release's build number)"
                )
            })?;
            format!("{display_version}~build{n}")
        };
        let thunderbird = product.file == "thunderbird";
        let epoch = [
            "thunderbird",
            "thunderbird-nightly",
            "thunderbird-beta",
            "thunderbird-esr",
        ]
        .contains(&package.as_str());
        Ok(Debian {
            depends_version: if epoch {
                format!("1:{version}")
            } else {
                version.clone()
            },
            description: format!(
                "{} {}",
                present(app.vendor).unwrap_or("Mozilla"),
                present(app.code_name).unwrap_or(app.name)
            ),
            maintainer: if thunderbird {
                "Daniel Darnell <tb-builds@thunderbird.net>"
            } else {
                "Mozilla <release@mozilla.com>"
            },
            section: if thunderbird { "mail" } else { "web" },
            display_name: present(app.code_name).unwrap_or(app.name).to_owned(),
            remoting_name: remoting_name.unwrap_or_else(|| package.clone()),
            package,
            version,
        })
    }

    /// A locale's langpack package: `<package>-l10n-<locale, lowercased>` (`firefox-l10n-pt-br`).
    pub fn langpack_package(&self, locale: &str) -> String {
        format!("{}-l10n-{}", self.package, locale.to_ascii_lowercase())
    }
}

/// Whether `name` is a Debian package name (deb-control(5): lowercase letters, digits, `+`,
/// `-`, `.`; at least two characters, starting with a letter or digit).
fn is_package_name(name: &str) -> bool {
    name.len() >= 2
        && name.len() <= 100
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+-.".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn products_from_names() {
        let linux = crate::platform::Platform::named("linux64").unwrap();
        let android = crate::platform::Platform::named("android").unwrap();
        let tb =
            Product::from_file_name("thunderbird-153.8.0esr.en-US.linux-x86_64.tar.bz2", linux);
        assert_eq!(
            (tb.file.as_str(), tb.display.as_str()),
            ("thunderbird", "Thunderbird")
        );
        assert_eq!(
            Product::from_file_name("en-US.tar.bz2", linux),
            Product::firefox()
        );
        assert_eq!(Product::of("Firefox", android).file, "fennec");
        assert_eq!(Product::named("THUNDERBIRD", linux), tb);
    }

    #[test]
    fn esr_builds_say_so() {
        assert_eq!(
            display_version("153.7.0", "firefox-153.7.0esr.en-US.linux-x86_64.tar.bz2"),
            "153.7.0esr"
        );
        assert_eq!(
            display_version("140.0", "firefox-140.0.en-US.linux-x86_64.tar.bz2"),
            "140.0"
        );
    }

    fn source<'a>(name: &'a str, remoting: Option<&'a str>) -> DebianSource<'a> {
        DebianSource {
            name,
            vendor: Some("Mozilla"),
            code_name: None,
            remoting_name: remoting,
            build_id: Some("20230222000000"),
        }
    }

    #[test]
    fn debian_names_follow_deb_py() {
        let firefox = Product::firefox();
        let deb = Debian::of(
            source("Firefox", Some("firefox-esr")),
            &firefox,
            "153.7.0esr",
            Some(2),
        )
        .unwrap();
        assert_eq!(deb.package, "firefox-esr");
        assert_eq!(deb.version, "153.7.0esr~build2");
        assert_eq!(deb.depends_version, deb.version);
        assert_eq!(deb.description, "Mozilla Firefox");
        assert_eq!(deb.langpack_package("pt-BR"), "firefox-esr-l10n-pt-br");
        // deb.py's tests: nightly versions take the BuildID, others the build number.
        let nightly = Debian::of(source("Firefox", None), &firefox, "112.0a1", None).unwrap();
        assert_eq!(nightly.version, "112.0a1~20230222000000");
        assert_eq!(nightly.package, "firefox");
        let err = Debian::of(source("Firefox", None), &firefox, "112.0", None).unwrap_err();
        assert!(err.contains("--build-number"), "{err}");
        assert!(
            Debian::of(
                source("Firefox", Some("Fire Fox")),
                &firefox,
                "1.0",
                Some(1)
            )
            .is_err()
        );
        let dev = DebianSource {
            code_name: Some("Firefox Developer Edition"),
            ..source("Firefox", Some("firefox-dev"))
        };
        let dev = Debian::of(dev, &firefox, "154.0b3", Some(1)).unwrap();
        assert_eq!(dev.package, "firefox-devedition");
        assert_eq!(dev.description, "Mozilla Firefox Developer Edition");
        // An empty Vendor is no vendor.
        let empty = DebianSource {
            vendor: Some(" "),
            ..source("Firefox", None)
        };
        let empty = Debian::of(empty, &firefox, "1.0", Some(1)).unwrap();
        assert_eq!(empty.description, "Mozilla Firefox");
        let tb = Product::named(
            "thunderbird",
            crate::platform::Platform::named("linux64").unwrap(),
        );
        let deb = Debian::of(
            source("Thunderbird", Some("thunderbird")),
            &tb,
            "153.8.0esr",
            Some(1),
        )
        .unwrap();
        assert_eq!(deb.depends_version, "1:153.8.0esr~build1");
        assert_eq!(
            (deb.section, deb.description.as_str()),
            ("mail", "Mozilla Thunderbird")
        );
    }
}
