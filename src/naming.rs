//! Product and version names: what output names and `report.json` call the build.
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
}
