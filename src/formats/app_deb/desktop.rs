//! The application package's desktop entry (`usr/share/applications/<package>.desktop`),
//! as Mozilla's `mozbuild/repackaging/desktop_file.py` generates it, following the
//! freedesktop.org Desktop Entry Specification 1.0.
//!
//! Layout: a `[Desktop Entry]` group, then one `[Desktop Action <name>]` group per action,
//! each group's fixed keys first, then its localized keys; each localized key is the en-US
//! line `Key=value`, then `Key[xx_YY]=value` for every other locale (`-` becomes `_`), in
//! locale order. Groups are separated by an empty line; the text ends with one `\n`.
//!
//! The localized values are `linuxDesktopEntry.ftl` messages: en-US's from the build, every
//! other locale's from its langpack, each resolved with the en-US `brand.ftl` (Mozilla
//! never localizes the brand here) by the Fluent runtime (`fluent-bundle`). A message a
//! locale lacks, or cannot resolve, is en-US's; a locale whose langpack has no
//! `linuxDesktopEntry.ftl` is left out, as Mozilla leaves it out. Placeables get no Unicode
//! isolation marks (Mozilla's Python runtime would wrap one that shares a value with text;
//! none of the 102 real locales has such a value, and the marks are noise in a desktop file).

use fluent_bundle::{FluentBundle, FluentResource};
use unic_langid::LanguageIdentifier;

/// Where a langpack (and the build's `browser/omni.ja`) keeps the messages, under
/// `localization/<locale>/`.
pub const FTL: &str = "browser/linuxDesktopEntry.ftl";

/// Where the build's `browser/omni.ja` keeps the brand's terms.
pub const BRAND_FTL: &str = "localization/en-US/branding/brand.ftl";

/// A localized key: the key, then the message ids that give it (the current one first,
/// then the one older builds used).
struct Localized {
    key: &'static str,
    ids: &'static [&'static str],
}

const ENTRY_KEYS: &[Localized] = &[
    Localized {
        key: "Name",
        ids: &["desktop-entry-name"],
    },
    Localized {
        key: "Comment",
        ids: &["desktop-entry-comment-1", "desktop-entry-comment"],
    },
    Localized {
        key: "GenericName",
        ids: &["desktop-entry-generic-name"],
    },
    Localized {
        key: "Keywords",
        ids: &["desktop-entry-keywords"],
    },
    Localized {
        key: "X-GNOME-FullName",
        ids: &[
            "desktop-entry-x-gnome-full-name-1",
            "desktop-entry-x-gnome-full-name",
        ],
    },
];

/// The actions: name, the `Exec` arguments after the package name, the `Name` message.
const ACTIONS: &[(&str, &str, Localized)] = &[
    (
        "new-window",
        " --new-window %u",
        Localized {
            key: "Name",
            ids: &["desktop-action-new-window-name"],
        },
    ),
    (
        "new-private-window",
        " --private-window %u",
        Localized {
            key: "Name",
            ids: &["desktop-action-new-private-window-name"],
        },
    ),
    (
        "open-profile-manager",
        " --ProfileManager",
        Localized {
            key: "Name",
            ids: &["desktop-action-open-profile-manager"],
        },
    ),
];

/// The media types Firefox opens.
const MIME_TYPES: &[&str] = &[
    "application/json",
    "application/pdf",
    "application/rdf+xml",
    "application/rss+xml",
    "application/x-xpinstall",
    "application/xhtml+xml",
    "application/xml",
    "audio/flac",
    "audio/ogg",
    "audio/webm",
    "image/avif",
    "image/gif",
    "image/jpeg",
    "image/png",
    "image/svg+xml",
    "image/webp",
    "text/html",
    "text/xml",
    "video/ogg",
    "video/webm",
    "x-scheme-handler/chrome",
    "x-scheme-handler/http",
    "x-scheme-handler/https",
    "x-scheme-handler/mailto",
];

/// One locale's messages, resolved.
pub struct Messages {
    /// The locale (`fr`, `pt-BR`).
    pub locale: String,
    /// Each message id the entry uses, with its value, when the locale has it.
    values: Vec<(&'static str, String)>,
}

impl Messages {
    /// The messages of `locale`'s `ftl` text, with the terms of the en-US `brand` text.
    /// Messages that do not parse or resolve are left out (en-US's are used instead).
    pub fn resolve(locale: &str, ftl: &str, brand: &str) -> Messages {
        let langid: LanguageIdentifier = locale.parse().unwrap_or_default();
        let mut bundle = FluentBundle::new(vec![langid]);
        bundle.set_use_isolating(false);
        // A resource with syntax errors keeps the entries that parse.
        for text in [brand, ftl] {
            let resource = FluentResource::try_new(text.to_owned()).unwrap_or_else(|(r, _)| r);
            // An id given twice keeps the first, which is all an error here means.
            let _ = bundle.add_resource(resource);
        }
        let ids = ENTRY_KEYS
            .iter()
            .chain(ACTIONS.iter().map(|(_, _, name)| name))
            .flat_map(|localized| localized.ids.iter().copied());
        let mut values = Vec::new();
        for id in ids {
            let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) else {
                continue;
            };
            let mut errors = Vec::new();
            let value = bundle.format_pattern(pattern, None, &mut errors);
            // A value is one line of a desktop file.
            let value = packagers::deb::one_line(&value);
            if errors.is_empty() && !value.is_empty() {
                values.push((id, value));
            }
        }
        Messages {
            locale: locale.to_owned(),
            values,
        }
    }

    fn get(&self, id: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(known, _)| *known == id)
            .map(|(_, value)| value.as_str())
    }
}

/// The desktop entry of `package` (its command and icon name) with `StartupWMClass`
/// `remoting_name`, localized from `en_us` and then each of `others` in order; an error
/// names the message en-US's lacks.
pub fn desktop_entry(
    package: &str,
    remoting_name: &str,
    en_us: &Messages,
    others: &[Messages],
) -> Result<String, String> {
    let mut lines = vec!["[Desktop Entry]".to_owned()];
    let fixed = [
        ("Version", "1.0".to_owned()),
        ("Type", "Application".to_owned()),
        ("Exec", format!("{package} %u")),
        ("Terminal", "false".to_owned()),
        ("X-MultipleArgs", "false".to_owned()),
        ("Icon", package.to_owned()),
        ("StartupWMClass", remoting_name.to_owned()),
        ("Categories", "GNOME;GTK;Network;WebBrowser;".to_owned()),
        (
            "MimeType",
            MIME_TYPES.iter().map(|t| format!("{t};")).collect(),
        ),
        ("StartupNotify", "true".to_owned()),
        (
            "Actions",
            ACTIONS
                .iter()
                .map(|(name, _, _)| format!("{name};"))
                .collect(),
        ),
    ];
    lines.extend(fixed.iter().map(|(key, value)| format!("{key}={value}")));
    for localized in ENTRY_KEYS {
        localize(&mut lines, localized, en_us, others)?;
    }
    lines.push(String::new());
    for (name, args, localized) in ACTIONS {
        lines.push(format!("[Desktop Action {name}]"));
        lines.push(format!("Exec={package}{args}"));
        localize(&mut lines, localized, en_us, others)?;
        lines.push(String::new());
    }
    Ok(lines.join("\n"))
}

/// Appends `localized`'s en-US line and one line per other locale.
fn localize(
    lines: &mut Vec<String>,
    localized: &Localized,
    en_us: &Messages,
    others: &[Messages],
) -> Result<(), String> {
    let (id, en_value) = localized
        .ids
        .iter()
        .find_map(|id| en_us.get(id).map(|value| (*id, value)))
        .ok_or_else(|| {
            format!(
                "en-US's {FTL} has no message {} (for the desktop entry's {})",
                localized.ids[0], localized.key
            )
        })?;
    lines.push(format!("{}={en_value}", localized.key));
    for locale in others {
        let value = locale.get(id).unwrap_or(en_value);
        let suffix = locale.locale.replace('-', "_");
        lines.push(format!("{}[{suffix}]={value}", localized.key));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const BRAND: &str =
        "-brand-shortcut-name = Firefox Nightly\n-brand-full-name = Firefox Nightly\n";

    const EN_US: &str = "\
desktop-entry-name = { -brand-shortcut-name }
desktop-entry-comment-1 = Fast and private browser
desktop-entry-generic-name = Web Browser
desktop-entry-x-gnome-full-name-1 = { -brand-full-name }
desktop-entry-keywords = Internet;WWW;Browser;Web;Explorer;
desktop-action-new-window-name = New Window
desktop-action-new-private-window-name = New Private Window
desktop-action-open-profile-manager = Open Profile Manager
";

    /// Mozilla's own test (`test_deb.py`'s `NIGHTLY_DESKTOP_ENTRY_FILE_TEXT`) fakes each
    /// value as `<locale>-<message id>`; the same shape here, from real Fluent files.
    #[test]
    fn the_layout_is_mozilla_s() {
        let fake = |locale: &str| {
            let ftl: String = EN_US
                .lines()
                .map(|line| {
                    let id = line.split(" = ").next().unwrap();
                    format!("{id} = {locale}-{id}\n")
                })
                .collect();
            Messages::resolve(locale, &ftl, BRAND)
        };
        let text = desktop_entry(
            "firefox-nightly",
            "firefox-nightly",
            &fake("en-US"),
            &[fake("zh-TW")],
        )
        .unwrap();
        let expected = "[Desktop Entry]
Version=1.0
Type=Application
Exec=firefox-nightly %u
Terminal=false
X-MultipleArgs=false
Icon=firefox-nightly
StartupWMClass=firefox-nightly
Categories=GNOME;GTK;Network;WebBrowser;
MimeType=application/json;application/pdf;application/rdf+xml;application/rss+xml;application/x-xpinstall;application/xhtml+xml;application/xml;audio/flac;audio/ogg;audio/webm;image/avif;image/gif;image/jpeg;image/png;image/svg+xml;image/webp;text/html;text/xml;video/ogg;video/webm;x-scheme-handler/chrome;x-scheme-handler/http;x-scheme-handler/https;x-scheme-handler/mailto;
StartupNotify=true
Actions=new-window;new-private-window;open-profile-manager;
Name=en-US-desktop-entry-name
Name[zh_TW]=zh-TW-desktop-entry-name
Comment=en-US-desktop-entry-comment-1
Comment[zh_TW]=zh-TW-desktop-entry-comment-1
GenericName=en-US-desktop-entry-generic-name
GenericName[zh_TW]=zh-TW-desktop-entry-generic-name
Keywords=en-US-desktop-entry-keywords
Keywords[zh_TW]=zh-TW-desktop-entry-keywords
X-GNOME-FullName=en-US-desktop-entry-x-gnome-full-name-1
X-GNOME-FullName[zh_TW]=zh-TW-desktop-entry-x-gnome-full-name-1

[Desktop Action new-window]
Exec=firefox-nightly --new-window %u
Name=en-US-desktop-action-new-window-name
Name[zh_TW]=zh-TW-desktop-action-new-window-name

[Desktop Action new-private-window]
Exec=firefox-nightly --private-window %u
Name=en-US-desktop-action-new-private-window-name
Name[zh_TW]=zh-TW-desktop-action-new-private-window-name

[Desktop Action open-profile-manager]
Exec=firefox-nightly --ProfileManager
Name=en-US-desktop-action-open-profile-manager
Name[zh_TW]=zh-TW-desktop-action-open-profile-manager
";
        assert_eq!(text, expected);
    }

    #[test]
    fn brand_terms_resolve_and_missing_messages_fall_back_to_en_us() {
        let en_us = Messages::resolve("en-US", EN_US, BRAND);
        let fr = Messages::resolve(
            "fr",
            "desktop-entry-generic-name = Navigateur web\n\
             desktop-entry-name = { -brand-shortcut-name } (fr)\n\
             desktop-entry-keywords = { -no-such-term }\nbroken = {\n",
            BRAND,
        );
        let text = desktop_entry("firefox", "firefox", &en_us, &[fr]).unwrap();
        assert!(
            text.contains("\nName=Firefox Nightly\nName[fr]=Firefox Nightly (fr)\n"),
            "{text}"
        );
        assert!(text.contains("\nGenericName[fr]=Navigateur web\n"));
        assert!(text.contains("\nComment[fr]=Fast and private browser\n"));
        // A value that does not resolve is en-US's.
        assert!(text.contains("\nKeywords[fr]=Internet;WWW;Browser;Web;Explorer;\n"));
        assert!(!text.contains('\u{2068}'));
        let empty = Messages::resolve("en-US", "", BRAND);
        assert_eq!(
            desktop_entry("firefox", "firefox", &empty, &[]).unwrap_err(),
            "en-US's browser/linuxDesktopEntry.ftl has no message desktop-entry-name (for the \
             desktop entry's Name)"
        );
    }
}
