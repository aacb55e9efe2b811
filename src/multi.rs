//! The multi-locale package (`--multi-locale`): one package holding every locale of the run
//! that succeeded, the user picking one at run time, as Mozilla's `mach
//! package-multi-locale` builds them for Android and Tor Browser builds theirs.
//!
//! Each locale's repack already wrote its own jar entries, compressed, in the tail of each
//! jar ([`crate::jar`]); a local zip record holds no offset, so the multi-locale jar is the
//! shared prefix once, then every locale's own records moved as they are
//! ([`TailRecord`]), then the shared central records and the moved ones with their offsets
//! rewritten. Nothing is merged or compressed twice. What a locale owns is
//! [`l10n::tail_owner`]'s call: its chrome files and `chrome.<locale>.manifest`, its
//! `localization/<locale>/`.
//!
//! On top of the en-US build (whose chrome and Fluent files stay, as in Mozilla's
//! multi-locale builds), each jar's root `chrome.manifest` names every locale's
//! `chrome.<locale>.manifest`, the app jar's `res/multilocale.txt` lists the locales (the
//! default first, then the others sorted) and its `default.locale` says the default. The
//! files of which a package has one copy (NON_CHROME: prefs, dictionaries,
//! `update.locale`, `built_in_addons.json`; the macOS `.lproj`) are the default locale's,
//! as they are the base build's in Mozilla's: with `--default-locale fr` the package is
//! fr's own package plus every other locale's files.

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::jar::{LocaleJar, SharedJar, TailPart, TailRecord};
use crate::l10n::{
    self, Layout, Overlay, PackageFile, SOURCE_LOCALE, TailData, TailEntry, TailOwner,
};
use crate::package::{Item, LocalePackage};
use crate::stage::StagedBuild;

/// What stands where the locale goes in the multi-locale package's names
/// (`firefox-153.0.multi.linux-x86_64.tar.bz2`), as in Mozilla's `AB_CD=multi`.
pub const MULTI: &str = "multi";

/// What one repacked locale gives the multi-locale package.
#[derive(Debug)]
pub struct Part {
    /// The locale.
    pub locale: String,
    /// Per staged jar: the locale's own entries, as its repack wrote them.
    own: Vec<Vec<TailRecord>>,
    /// The default locale's one-per-package files.
    default: Option<Defaults>,
}

/// The default locale's one-per-package files: per staged jar its entries, and its files
/// outside the jars.
type Defaults = (Vec<Vec<TailRecord>>, BTreeMap<String, PackageFile>);

impl Part {
    /// Keeps what `locale`'s repacked `package` holds of its own; with `default` (the
    /// default locale's package-level changes), also its one-per-package files.
    pub fn take(
        layout: &Layout,
        locale: &str,
        package: &LocalePackage,
        default: Option<&BTreeMap<String, PackageFile>>,
    ) -> Part {
        let jars: Vec<(usize, &LocaleJar)> = package
            .items
            .iter()
            .filter_map(|item| match item {
                Item::Jar { jar, locale, .. } => Some((*jar, locale)),
                _ => None,
            })
            .collect();
        let records = |owner: TailOwner| {
            let mut per_jar = vec![Vec::new(); layout.jars.len()];
            for (j, tail) in &jars {
                per_jar[*j] =
                    tail.records(|name| l10n::tail_owner(&layout.jars[*j], locale, name) == owner);
            }
            per_jar
        };
        Part {
            locale: locale.to_owned(),
            own: records(TailOwner::Locale),
            default: default.map(|package| (records(TailOwner::Default), package.clone())),
        }
    }
}

/// The multi-locale package of `parts` (every locale that succeeded, in any order) with
/// `default` as its default locale; returns the locales it holds, the default first.
/// `default` is en-US or one of `parts`, taken with its one-per-package files.
pub fn assemble(
    staged: &StagedBuild,
    layout: &Layout,
    shared: &[SharedJar],
    default: &str,
    parts: &[Part],
) -> Result<(Vec<String>, LocalePackage)> {
    let mut parts: Vec<&Part> = parts.iter().collect();
    parts.sort_by(|a, b| a.locale.cmp(&b.locale));
    let defaults = parts
        .iter()
        .find(|p| p.locale == default)
        .and_then(|p| p.default.as_ref());
    if default != SOURCE_LOCALE && defaults.is_none() {
        return Err(Error::MultiLocale {
            reason: format!(
                "its default locale {default} was not repacked (see its row); fix it, or give \
                 another --default-locale"
            ),
        });
    }
    let mut locales: Vec<String> = parts
        .iter()
        .map(|p| p.locale.clone())
        .chain([SOURCE_LOCALE.to_owned()])
        .filter(|l| l != default)
        .collect();
    locales.sort();
    locales.dedup();
    locales.insert(0, default.to_owned());
    let listed: Vec<&str> = locales.iter().map(String::as_str).collect();

    let mut jars = Vec::with_capacity(staged.jars.len());
    for (j, jar) in staged.jars.iter().enumerate() {
        let jar_layout = &layout.jars[j];
        let mut entries: BTreeMap<String, Source<'_>> = BTreeMap::new();
        let new = |entries: &mut BTreeMap<String, Source<'_>>, name: &str, data: Vec<u8>| {
            let method = jar
                .by_name
                .get(name)
                .map_or(jar.default_method, |&i| jar.entries[i].method);
            let entry = TailEntry {
                name: name.to_owned(),
                data: TailData::New(data),
                method,
            };
            entries.insert(name.to_owned(), Source::Entry(entry));
        };
        // en-US's entries: its chrome files, manifests and Fluent files stay; its
        // one-per-package files only when it is the default.
        for (i, entry) in jar.entries.iter().enumerate() {
            let name = &entry.name;
            let replaced = defaults.is_some()
                && l10n::tail_owner(jar_layout, SOURCE_LOCALE, name) == TailOwner::Default;
            if jar_layout.touched[i] && !name.starts_with("META-INF/") && !replaced {
                let entry = TailEntry {
                    name: name.clone(),
                    data: TailData::EnUs(i),
                    method: entry.method,
                };
                entries.insert(name.clone(), Source::Entry(entry));
            }
        }
        if let Some((records, _)) = defaults {
            for record in &records[j] {
                entries.insert(record.name.clone(), Source::Record(record));
            }
        }
        // Every locale's own entries; the root manifest names their manifests.
        let mut manifest_lines = String::new();
        for part in &parts {
            let own_manifest = format!("chrome.{}.manifest", part.locale);
            for record in &part.own[j] {
                if record.name.rsplit('/').next() == Some(own_manifest.as_str()) {
                    manifest_lines.push_str(&format!("manifest {}\n", record.name));
                }
                let clash = entries.insert(record.name.clone(), Source::Record(record));
                if clash.is_some() {
                    return Err(Error::Input {
                        path: staged.source.clone(),
                        reason: format!(
                            "{} of {} would hold {} twice in the multi-locale package",
                            jar.path, part.locale, record.name
                        ),
                    });
                }
            }
        }
        if !manifest_lines.is_empty() {
            let root = l10n::manifest::ROOT_MANIFEST;
            let mut text = match jar.by_name.get(root) {
                Some(&i) => l10n::decompressed(staged, jar, i)?,
                None => Vec::new(),
            };
            if !text.is_empty() && !text.ends_with(b"\n") {
                text.push(b'\n');
            }
            text.extend_from_slice(manifest_lines.as_bytes());
            new(&mut entries, root, text);
        }
        // libxul reads both from the app jar (see `l10n`).
        if jar.base.is_empty() {
            new(
                &mut entries,
                "default.locale",
                l10n::default_locale_file(default),
            );
            let multilocale = jar
                .entries
                .iter()
                .map(|e| e.name.as_str())
                .find(|name| l10n::non_chrome::matches("**/multilocale.txt", name))
                .unwrap_or("res/multilocale.txt")
                .to_owned();
            new(&mut entries, &multilocale, l10n::multilocale_txt(&listed));
        }
        let parts = entries.values().map(|source| match source {
            Source::Entry(entry) => TailPart::Entry(entry),
            Source::Record(record) => TailPart::Record(record),
        });
        jars.push(LocaleJar::assemble(
            staged, jar, jar_layout, &shared[j], parts,
        )?);
    }
    let overlay = Overlay {
        locale: default.to_owned(),
        jars: Vec::new(),
        package: defaults.map(|(_, p)| p.clone()).unwrap_or_default(),
        findings: Vec::new(),
    };
    let package = LocalePackage::build(staged, &overlay, &layout.package_slots, jars)?;
    Ok((locales, package))
}

/// Where an entry of a multi-locale jar's tail comes from.
enum Source<'a> {
    /// en-US's, or written for the package.
    Entry(TailEntry),
    /// A locale's, as its repack wrote it.
    Record(&'a TailRecord),
}
