//! The string-file parsers and merges of `l10n_repack::l10n`. The first byte picks the
//! format; the rest is split in two halves, en-US and the locale's file.
//!
//! - 0 `.dtd`, 1 `.properties`, 2 `.ini`, 3 `.ftl`: parse both halves, check values, merge.
//! - 4 chrome manifests: NUL-separated files, the first `chrome.manifest`, each other one
//!   `<entry name>\n<text>`; `locale_lines`, then `rewrite` with every line found.
//! - 5 the format-agnostic layer on raw bytes (`merge::decode`, `count_strings`,
//!   `Merger::merge`), the file type from the second byte.
#![no_main]

use std::collections::{BTreeMap, HashSet};

use l10n_repack::l10n::merge::{self, Merger};
use l10n_repack::l10n::{Finding, dtd, ftl, ini, manifest, properties};
use libfuzzer_sys::fuzz_target;

const FILES: [&str; 5] = [
    "browser/chrome/fr/locale/browser/browser.dtd",
    "chrome/fr/locale/fr/global/intl.properties",
    "browser/crashreporter.ini",
    "localization/fr/browser/browser.ftl",
    "chrome/fr/locale/fr/global/readme.txt",
];

fn halves(bytes: &[u8]) -> (&[u8], &[u8]) {
    bytes.split_at(bytes.len() / 2)
}

fn dtd(en_us: &str, locale: &str) {
    for parsed in [dtd::parse(en_us), dtd::parse(locale)] {
        for entity in &parsed.entities {
            let _ = dtd::check(&entity.value);
        }
    }
    let mut findings: Vec<Finding> = Vec::new();
    let _ = dtd::merge(FILES[0], en_us, locale, &mut findings);
}

fn properties(en_us: &str, locale: &str) {
    let reference = properties::parse(en_us);
    let ours: BTreeMap<String, String> = properties::parse(locale)
        .into_iter()
        .map(|e| (e.key, e.value))
        .collect();
    for entry in &reference {
        let _ = properties::printf_specs(&entry.value);
        if let Some(value) = ours.get(&entry.key) {
            let _ = properties::check(entry, value);
        }
    }
    let mut findings: Vec<Finding> = Vec::new();
    let _ = properties::merge(FILES[1], en_us, locale, &mut findings);
}

fn ini(en_us: &str, locale: &str) {
    let _ = ini::parse(en_us);
    let _ = ini::parse(locale);
    let mut findings: Vec<Finding> = Vec::new();
    let _ = ini::merge(FILES[2], en_us, locale, &mut findings);
}

fn ftl(en_us: &str, locale: &str) {
    let en_us_ids: HashSet<String> = ftl::defined_ids(en_us).map(str::to_owned).collect();
    let locale_ids: HashSet<String> = ftl::defined_ids(locale).map(str::to_owned).collect();
    let _ = ftl::count_entries(en_us);
    let _ = ftl::count_entries(locale);
    let known = ftl::KnownIds {
        en_us: &en_us_ids,
        locale: &locale_ids,
    };
    let mut findings: Vec<Finding> = Vec::new();
    let _ = ftl::merge(FILES[3], en_us, locale, &known, &mut findings);
}

fn manifests(bytes: &[u8]) {
    let mut parts = bytes.split(|&b| b == 0);
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    files.insert(
        manifest::ROOT_MANIFEST.to_owned(),
        parts.next().unwrap_or_default().to_vec(),
    );
    for part in parts {
        let (name, text) = match part.iter().position(|&b| b == b'\n') {
            Some(at) => (&part[..at], &part[at + 1..]),
            None => (part, &[][..]),
        };
        files
            .entry(String::from_utf8_lossy(name).into_owned())
            .or_insert_with(|| text.to_vec());
    }
    let read = |name: &str| files.get(name).cloned();
    let lines = manifest::locale_lines(read, "en-US");
    let localized: Vec<&manifest::LocaleLine> = lines.iter().collect();
    for line in &localized {
        let _ = manifest::localized_line(line, "en-US", "fr");
    }
    let _ = manifest::rewrite(read, &localized, "en-US", "fr");
}

fn generic(file: &str, en_us: &[u8], locale: &[u8]) {
    let _ = merge::decode(locale);
    let _ = merge::count_strings(file, en_us);
    let en_us_ids: HashSet<String> = HashSet::new();
    let locale_ids: HashSet<String> = HashSet::new();
    let merger = Merger {
        en_us_fluent_ids: &en_us_ids,
        locale_fluent_ids: &locale_ids,
    };
    let mut findings: Vec<Finding> = Vec::new();
    let _ = merger.merge(file, en_us, locale.to_vec(), &mut findings);
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let (en_us, locale) = halves(rest);
    let text = |bytes| String::from_utf8_lossy(bytes);
    match selector % 6 {
        0 => dtd(&text(en_us), &text(locale)),
        1 => properties(&text(en_us), &text(locale)),
        2 => ini(&text(en_us), &text(locale)),
        3 => ftl(&text(en_us), &text(locale)),
        4 => manifests(rest),
        _ => {
            let Some((&kind, rest)) = rest.split_first() else {
                return;
            };
            let (en_us, locale) = halves(rest);
            generic(FILES[usize::from(kind) % FILES.len()], en_us, locale);
        }
    }
});
