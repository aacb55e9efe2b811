//! The per-locale overlay: what a locale changes in the en-US build, and every fallback.
//!
//! It follows Mozilla's `mozpack/packager/l10n.py` (what `l10n-repack.py` runs):
//! - **chrome**: for every `locale <pkg> en-US <dir>` registration, the files under `<dir>`
//!   are replaced by the langpack's files at the same path with `en-US` segments replaced by
//!   the locale; a file the langpack lacks keeps its en-US content (at the locale's path) and
//!   is reported; a package the langpack lacks entirely keeps its en-US registration;
//! - **manifests**: the localized `locale` lines move to `<dir>/chrome.<locale>.manifest`,
//!   which the root `chrome.manifest` then names;
//! - **Fluent**: `localization/<locale>/**` is added and `localization/en-US/**` kept, as the
//!   run-time fallback for missing messages;
//! - **NON_CHROME** paths ([`non_chrome`]): taken from the langpack, or removed when only the
//!   app has them; `default.locale` and `res/multilocale.txt` are generated;
//!   `built_in_addons.json` gets its dictionary list rebuilt; `META-INF/` is dropped.
//!
//! [`Layout`] is computed once per batch: which entries of each jar any locale can touch.
//! Everything else is the jar's shared prefix, identical for every locale. [`Overlay`] is one
//! locale's result: per jar the sorted "tail" of entries that differ from the shared prefix,
//! the package-level files that change, and the [`Finding`]s.

pub mod dtd;
pub mod ftl;
pub mod ini;
pub mod langpack;
pub mod manifest;
pub mod merge;
pub mod non_chrome;
pub mod precomplete;
pub mod properties;

use std::collections::{BTreeMap, BTreeSet, HashSet};

use packagers::jar::{self, Method};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::stage::{StagedBuild, StagedJar};
use langpack::LocalePack;
use manifest::LocaleLine;

/// The locale the input build is in.
pub const SOURCE_LOCALE: &str = "en-US";

/// What kind of fallback or oddity a finding reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingKind {
    /// A string the locale lacks: the en-US string is used (for Fluent, at run time).
    Missing,
    /// A string the locale has but that cannot work (syntax error, printf arguments that do
    /// not match en-US, ...): the en-US string is used.
    Broken,
    /// A string en-US does not have: dropped.
    Obsolete,
    /// A file the locale lacks: its en-US content is used.
    MissingFile,
    /// A chrome package the locale lacks entirely: its en-US registration and files stay.
    MissingPackage,
    /// A localized file only the en-US build had: removed, as Mozilla's repack does.
    RemovedFile,
    /// A langpack file that no en-US resource corresponds to: not packaged.
    ObsoleteFile,
    /// A langpack made for another Firefox version (its `manifest.json`): used all the
    /// same, string by string against this build's en-US.
    OtherVersion,
    /// A langpack whose `manifest.json` cannot be parsed: neither its locale nor its
    /// Firefox versions could be checked.
    UnreadableManifest,
    /// A `--partial-from` directory without this locale's earlier build: no partial update
    /// from it (`file` is the directory).
    NoFromBuild,
    /// A locale of the run that is not in the multi-locale package: its repack failed or
    /// was not started; or a locale whose strings the application package's desktop entry
    /// lacks (`file` is the locale).
    LeftOut,
}

impl FindingKind {
    /// Whether this finding means an en-US string or file is shown to users.
    pub fn is_fallback(self) -> bool {
        matches!(
            self,
            FindingKind::Missing
                | FindingKind::Broken
                | FindingKind::MissingFile
                | FindingKind::MissingPackage
        )
    }
}

/// One fallback or oddity, for the report.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
pub struct Finding {
    /// What happened.
    pub kind: FindingKind,
    /// The file, as a path in the langpack's flat layout.
    pub file: String,
    /// The string id, for string-level findings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The line in the locale's file, for string-level findings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// For a missing file: how many strings it holds in en-US (each one falls back).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strings: Option<u32>,
    /// A sentence for humans.
    pub detail: String,
}

impl Finding {
    /// A finding about one string (`key`) of a file; `line` is in the locale's file.
    pub fn string(
        kind: FindingKind,
        file: &str,
        key: &str,
        line: Option<u32>,
        detail: impl Into<String>,
    ) -> Finding {
        Finding {
            kind,
            file: file.to_owned(),
            key: (!key.is_empty()).then(|| key.to_owned()),
            line,
            strings: None,
            detail: detail.into(),
        }
    }

    /// A string of `file` the locale lacks, whose en-US value is inserted.
    pub fn missing_string(file: &str, key: &str) -> Finding {
        Finding::string(
            FindingKind::Missing,
            file,
            key,
            None,
            "missing; the en-US string is used",
        )
    }

    /// A string of the locale's `file` that en-US does not have, dropped.
    pub fn obsolete_string(file: &str, key: &str, line: u32) -> Finding {
        Finding::string(
            FindingKind::Obsolete,
            file,
            key,
            Some(line),
            "not in en-US; dropped",
        )
    }

    /// How many strings fall back because of this finding: 1 for a missing string, the
    /// file's string count for a missing file, 0 otherwise. Summed per locale, this is the
    /// number compare-locales reports as `missing`.
    pub fn missing_strings(&self) -> u32 {
        match self.kind {
            FindingKind::Missing => 1,
            FindingKind::MissingFile => self.strings.unwrap_or(0),
            _ => 0,
        }
    }

    /// The kind as written in reports (`missing-file`).
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            FindingKind::Missing => "missing",
            FindingKind::Broken => "broken",
            FindingKind::Obsolete => "obsolete",
            FindingKind::MissingFile => "missing-file",
            FindingKind::MissingPackage => "missing-package",
            FindingKind::RemovedFile => "removed-file",
            FindingKind::ObsoleteFile => "obsolete-file",
            FindingKind::OtherVersion => "other-version",
            FindingKind::UnreadableManifest => "unreadable-manifest",
            FindingKind::NoFromBuild => "no-from-build",
            FindingKind::LeftOut => "left-out",
        }
    }

    /// A langpack made for another Firefox version; `detail` says which.
    pub fn other_version(detail: String) -> Finding {
        Finding::file(FindingKind::OtherVersion, "manifest.json", detail)
    }

    fn file(kind: FindingKind, file: impl Into<String>, detail: impl Into<String>) -> Finding {
        Finding {
            kind,
            file: file.into(),
            key: None,
            line: None,
            strings: None,
            detail: detail.into(),
        }
    }
}

/// `file:line [key]: detail`, as in `fallbacks.txt`.
impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(key) = &self.key {
            write!(f, " [{key}]")?;
        }
        write!(f, ": {}", self.detail)
    }
}

/// Which parts of the en-US build a locale can change; computed once per batch.
#[derive(Debug)]
pub struct Layout {
    /// Per staged jar, in the same order.
    pub jars: Vec<JarLayout>,
    /// Package members (outside the jars) that differ per locale: `precomplete`,
    /// `update.locale`, NON_CHROME files and what the packaging rebuilds per locale.
    pub package_slots: BTreeSet<usize>,
    /// Paths under the application directory (directories end in `/`) that the packaging
    /// builds per locale, not the langpack: the merge leaves them alone.
    pub rebuilt: &'static [&'static str],
    /// Every message and term id of the en-US Fluent files, to resolve references.
    pub fluent_ids: HashSet<String>,
    /// How many strings the en-US build's localizable files hold, as compare-locales counts
    /// them: the denominator of `--max-missing-percent`.
    pub total_strings: u64,
}

/// The localizable parts of one jar.
#[derive(Debug)]
pub struct JarLayout {
    /// Every en-US `locale` registration.
    pub lines: Vec<LocaleLine>,
    /// For each entry, whether a locale may replace, rename or remove it. The others form
    /// the jar's shared prefix.
    pub touched: Vec<bool>,
}

impl Layout {
    /// Analyses the staged build. `rebuilt` are the paths (relative to the application
    /// directory; directories end in `/`) the packaging builds per locale itself.
    pub fn analyze(staged: &StagedBuild, rebuilt: &'static [&'static str]) -> Layout {
        let jars: Vec<JarLayout> = staged
            .jars
            .iter()
            .map(|jar| {
                let read = |name: &str| en_us_bytes(staged, jar, name);
                let lines = manifest::locale_lines(read, SOURCE_LOCALE);
                let manifests: BTreeSet<&str> = lines
                    .iter()
                    .map(|l| l.manifest.as_str())
                    .chain((!lines.is_empty()).then_some(manifest::ROOT_MANIFEST))
                    .collect();
                let touched = jar
                    .entries
                    .iter()
                    .map(|e| {
                        let name = e.name.as_str();
                        name.starts_with("META-INF/")
                            || manifests.contains(name)
                            || lines.iter().any(|l| name.starts_with(&l.dir))
                            || non_chrome::is_non_chrome(name)
                            || is_built_in_addons(name)
                    })
                    .collect();
                JarLayout { lines, touched }
            })
            .collect();
        let jar_members: BTreeSet<usize> = staged.jars.iter().map(|j| j.member).collect();
        let prefix = staged.app_prefix();
        let package_slots = staged
            .members
            .iter()
            .enumerate()
            .filter(|(i, m)| {
                let Some(rel) = m.path.strip_prefix(&prefix) else {
                    return false;
                };
                m.data().is_some()
                    && !jar_members.contains(i)
                    && (rel == "precomplete"
                        || is_rebuilt(rebuilt, rel)
                        || rel == "update.locale"
                        || non_chrome::is_non_chrome(rel)
                        || rel
                            .strip_prefix("browser/")
                            .is_some_and(non_chrome::is_non_chrome))
            })
            .map(|(i, _)| i)
            .collect();
        let en_us_fluent = format!("localization/{SOURCE_LOCALE}/");
        let mut fluent_ids = HashSet::new();
        let mut total_strings = 0u64;
        for (jar, layout) in staged.jars.iter().zip(&jars) {
            for (i, entry) in jar.entries.iter().enumerate() {
                let name = entry.name.as_str();
                let fluent = name.starts_with(&en_us_fluent);
                let chrome = layout.lines.iter().any(|l| name.starts_with(&l.dir));
                if !(fluent || chrome) || merge::Format::of(name).is_none() {
                    continue;
                }
                let Ok(bytes) = decompressed(staged, jar, i) else {
                    continue;
                };
                total_strings += u64::from(merge::count_strings(name, &bytes).unwrap_or(0));
                if fluent && name.ends_with(".ftl") {
                    let text = String::from_utf8_lossy(&bytes);
                    fluent_ids.extend(ftl::defined_ids(&text).map(str::to_owned));
                }
            }
        }
        Layout {
            jars,
            package_slots,
            rebuilt,
            fluent_ids,
            total_strings,
        }
    }
}

/// Whether `rel` is one of `rebuilt`'s files or under one of its directories.
fn is_rebuilt(rebuilt: &[&str], rel: &str) -> bool {
    rebuilt.iter().any(|r| match r.strip_suffix('/') {
        Some(dir) => rel
            .strip_prefix(dir)
            .is_some_and(|rest| rest.starts_with('/')),
        None => rel == *r,
    })
}

/// Where an entry of a locale's jar tail gets its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TailData {
    /// The raw (still compressed) bytes of this en-US entry, copied as they are.
    EnUs(usize),
    /// New content, to be compressed with the entry's method.
    New(Vec<u8>),
}

/// One entry of a locale's jar tail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TailEntry {
    /// The entry name.
    pub name: String,
    /// Its bytes.
    pub data: TailData,
    /// How to store new content (ignored for [`TailData::EnUs`], which keeps its own).
    pub method: Method,
}

/// What one locale changes in one jar.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JarOverlay {
    /// The entries after the shared prefix, sorted by name.
    pub tail: Vec<TailEntry>,
}

/// What happens to a package-level file (outside the jars).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PackageFile {
    /// Written with this content (replacing the en-US file, or added).
    Write(Vec<u8>),
    /// Left out of the locale's package.
    Remove,
}

/// One locale's changes to the en-US build.
#[derive(Debug)]
pub struct Overlay {
    /// The locale.
    pub locale: String,
    /// Per staged jar, in the same order.
    pub jars: Vec<JarOverlay>,
    /// Package-level changes by path relative to the app directory. `precomplete` is not
    /// here: it depends on the final tree and is generated when the package is assembled.
    pub package: BTreeMap<String, PackageFile>,
    /// Fallbacks and oddities, sorted.
    pub findings: Vec<Finding>,
}

impl Overlay {
    /// Computes the overlay of `pack` on `staged`.
    pub fn build(staged: &StagedBuild, layout: &Layout, pack: LocalePack) -> Result<Overlay> {
        let locale = pack.locale.clone();
        let locale_fluent_ids: HashSet<String> = pack
            .files
            .iter()
            .filter(|(path, _)| path.ends_with(".ftl"))
            .flat_map(|(_, bytes)| {
                let text = String::from_utf8_lossy(bytes);
                ftl::defined_ids(&text)
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .collect();
        // A build without browser/omni.ja (an APK holds one omnijar, the toolkit's) has no
        // place for the langpack's browser part: those files belong to another product
        // and are neither packaged nor findings.
        let mut files = pack.files;
        if !staged.jars.iter().any(|j| j.base == "browser/") {
            files.retain(|path, _| !path.starts_with("browser/"));
        }
        let mut builder = Builder {
            staged,
            locale: &locale,
            remaining: files,
            findings: Vec::new(),
            merger: merge::Merger {
                en_us_fluent_ids: &layout.fluent_ids,
                locale_fluent_ids: &locale_fluent_ids,
            },
        };
        // Longest base first, so `browser/...` files go to browser/omni.ja, not omni.ja.
        let mut order: Vec<usize> = (0..staged.jars.len()).collect();
        order.sort_by_key(|&j| std::cmp::Reverse(staged.jars[j].base.len()));
        let mut tails: Vec<BTreeMap<String, TailEntry>> = vec![BTreeMap::new(); order.len()];
        for j in order {
            tails[j] = builder.jar(&staged.jars[j], &layout.jars[j])?;
        }
        builder.built_in_addons(&mut tails)?;
        let package = builder.package(layout);
        builder.leftovers();
        let mut findings = builder.findings;
        findings.sort();
        findings.dedup();
        Ok(Overlay {
            locale,
            jars: tails
                .into_iter()
                .map(|tail| JarOverlay {
                    tail: tail.into_values().collect(),
                })
                .collect(),
            package,
            findings,
        })
    }
}

struct Builder<'a> {
    staged: &'a StagedBuild,
    locale: &'a str,
    /// Langpack files not yet placed, by flat-layout path.
    remaining: BTreeMap<String, Vec<u8>>,
    findings: Vec<Finding>,
    merger: merge::Merger<'a>,
}

impl Builder<'_> {
    fn jar(&mut self, jar: &StagedJar, layout: &JarLayout) -> Result<BTreeMap<String, TailEntry>> {
        let base = jar.base;
        let mut tail = BTreeMap::new();
        let mut handled = vec![false; jar.entries.len()];
        let mut localized: Vec<&LocaleLine> = Vec::new();

        // Chrome packages, one locale directory at a time.
        let dirs: BTreeSet<&str> = layout.lines.iter().map(|l| l.dir.as_str()).collect();
        for dir in dirs {
            let loc_dir = manifest::substitute_locale(dir, SOURCE_LOCALE, self.locale);
            let flat_dir = format!("{base}{loc_dir}");
            let provided: Vec<String> = self.keys_under(&flat_dir);
            let en_entries: Vec<usize> = (0..jar.entries.len())
                .filter(|&i| jar.entries[i].name.starts_with(dir))
                .collect();
            let packages: Vec<&LocaleLine> = layout.lines.iter().filter(|l| l.dir == dir).collect();
            // A registration with no en-US files behind it (Firefox's `browser-region`) has
            // nothing to fall back to: the locale's line simply replaces the en-US one.
            if provided.is_empty() && !en_entries.is_empty() {
                let names: BTreeSet<&str> = packages.iter().map(|l| l.package.as_str()).collect();
                self.findings.push(Finding::file(
                    FindingKind::MissingPackage,
                    &flat_dir,
                    format!(
                        "the langpack has no files for chrome package {}; its en-US strings are used",
                        names.into_iter().collect::<Vec<_>>().join(", ")
                    ),
                ));
                for i in en_entries {
                    handled[i] = true;
                    let flat = format!("{flat_dir}{}", &jar.entries[i].name[dir.len()..]);
                    self.missing_file(
                        jar,
                        i,
                        flat,
                        "the langpack lacks its package; the en-US file is used",
                    )?;
                    insert_en_us(&mut tail, jar, i, jar.entries[i].name.clone());
                }
                continue;
            }
            localized.extend(packages);
            for i in en_entries {
                handled[i] = true;
                let rel = &jar.entries[i].name[dir.len()..];
                let name = format!("{loc_dir}{rel}");
                let flat = format!("{flat_dir}{rel}");
                match self.remaining.remove(&flat) {
                    Some(data) => {
                        let data = self.merged(jar, i, &flat, data)?;
                        insert_new(&mut tail, name, data, jar.entries[i].method);
                    }
                    None => {
                        self.missing_file(
                            jar,
                            i,
                            flat,
                            "missing from the langpack; the en-US file is used",
                        )?;
                        insert_en_us(&mut tail, jar, i, name);
                    }
                }
            }
            for extra in self.keys_under(&flat_dir) {
                self.remaining.remove(&extra);
                self.findings.push(Finding::file(
                    FindingKind::ObsoleteFile,
                    extra,
                    "the en-US build has no such file; not packaged",
                ));
            }
        }

        // Manifests: localized lines move to chrome.<locale>.manifest.
        let read = |name: &str| en_us_bytes(self.staged, jar, name);
        for (name, content) in manifest::rewrite(read, &localized, SOURCE_LOCALE, self.locale) {
            let existing = jar.by_name.get(&name).copied();
            if let Some(i) = existing {
                handled[i] = true;
            }
            let method = existing.map_or(jar.default_method, |i| jar.entries[i].method);
            insert_new(&mut tail, name, content, method);
        }

        // Fluent: localization/<locale>/** is added; en-US stays as the run-time fallback.
        let fluent_dir = format!("{base}localization/{}/", self.locale);
        let mut provided_ftl = BTreeSet::new();
        for flat in self.keys_under(&fluent_dir) {
            let data = self.remaining.remove(&flat).expect("key listed just above");
            let name = flat[base.len()..].to_owned();
            let rel = &flat[fluent_dir.len()..];
            provided_ftl.insert(rel.to_owned());
            let en_name = format!("localization/{SOURCE_LOCALE}/{rel}");
            let counterpart = jar.by_name.get(&en_name).copied();
            let data = match counterpart {
                Some(i) => self.merged(jar, i, &flat, data)?,
                None => data,
            };
            let method = counterpart.map_or(jar.default_method, |i| jar.entries[i].method);
            insert_new(&mut tail, name, data, method);
        }
        let en_fluent = format!("localization/{SOURCE_LOCALE}/");
        for (i, entry) in jar.entries.iter().enumerate() {
            if let Some(rel) = entry.name.strip_prefix(&en_fluent)
                && rel.ends_with(".ftl")
                && !provided_ftl.contains(rel)
            {
                self.missing_file(
                    jar,
                    i,
                    format!("{fluent_dir}{rel}"),
                    "missing from the langpack; the en-US messages are shown at run time",
                )?;
            }
        }

        // Everything else a locale touches: NON_CHROME files, locale-code files, META-INF.
        for (i, entry) in jar.entries.iter().enumerate() {
            if !layout.touched[i] || handled[i] {
                continue;
            }
            let name = entry.name.as_str();
            if name.starts_with("META-INF/") {
                continue;
            } else if name == "default.locale" {
                insert_new(&mut tail, name.into(), self.default_locale(), entry.method);
            } else if non_chrome::matches("**/multilocale.txt", name) {
                insert_new(&mut tail, name.into(), self.multilocale(), entry.method);
            } else if non_chrome::is_non_chrome(name) {
                let flat = format!("{base}{name}");
                match self.remaining.remove(&flat) {
                    Some(data) => {
                        let data = self.merged(jar, i, &flat, data)?;
                        insert_new(&mut tail, name.into(), data, entry.method);
                    }
                    None => self.findings.push(Finding::file(
                        FindingKind::RemovedFile,
                        flat,
                        "only the en-US build has this localized file; removed, as Mozilla's \
                         repack does",
                    )),
                }
            } else {
                // A manifest no locale line needed rewriting, or built_in_addons.json (its
                // dictionary list is rebuilt once all jars are known).
                insert_en_us(&mut tail, jar, i, name.into());
            }
        }
        // libxul takes the app's locale from `default.locale` and the requested locales
        // from `res/multilocale.txt`: the locale's are written into the app jar even where
        // en-US has neither (Debian's Thunderbird has no `default.locale`).
        if base.is_empty() {
            if !jar.by_name.contains_key("default.locale") {
                let data = self.default_locale();
                insert_new(&mut tail, "default.locale".into(), data, jar.default_method);
            }
            let multilocale = |name: &str| non_chrome::matches("**/multilocale.txt", name);
            if !jar.entries.iter().any(|e| multilocale(&e.name)) {
                let data = self.multilocale();
                insert_new(
                    &mut tail,
                    "res/multilocale.txt".into(),
                    data,
                    jar.default_method,
                );
            }
        }
        // NON_CHROME files only the langpack has (its dictionaries, for example).
        for flat in self.keys_under(base) {
            let name = &flat[base.len()..];
            if non_chrome::is_non_chrome(name) && !non_chrome::is_outside_jar(name) {
                let data = self.remaining.remove(&flat).expect("key listed just above");
                if name != "default.locale" && !non_chrome::matches("**/multilocale.txt", name) {
                    insert_new(&mut tail, name.into(), data, jar.default_method);
                } else if data != self.default_locale() && data != self.multilocale() {
                    self.findings.push(Finding::file(
                        FindingKind::ObsoleteFile,
                        flat.clone(),
                        "the langpack's own copy is not packaged: the repack writes this \
                         file for the locale",
                    ));
                }
            }
        }
        Ok(tail)
    }

    /// Rebuilds the `dictionaries` map of `built_in_addons.json` from the `.dic` files the
    /// locale's jars now carry.
    fn built_in_addons(&mut self, tails: &mut [BTreeMap<String, TailEntry>]) -> Result<()> {
        let dictionaries: BTreeMap<String, String> = tails
            .iter()
            .flat_map(|t| t.keys())
            .filter_map(|name| {
                let file = name.strip_prefix("dictionaries/")?;
                let stem = file.strip_suffix(".dic")?;
                (!file.contains('/')).then(|| (stem.to_owned(), name.clone()))
            })
            .collect();
        for (j, tail) in tails.iter_mut().enumerate() {
            let jar = &self.staged.jars[j];
            for entry in tail.values_mut() {
                let TailData::EnUs(i) = entry.data else {
                    continue;
                };
                if !is_built_in_addons(&entry.name) {
                    continue;
                }
                let en_us = decompressed(self.staged, jar, i)?;
                let Ok(mut json) = serde_json::from_slice::<serde_json::Value>(&en_us) else {
                    return Err(Error::Input {
                        path: self.staged.source.clone(),
                        reason: format!("{} in {} is not valid JSON", entry.name, jar.path),
                    });
                };
                if let Some(object) = json.as_object_mut() {
                    let map = dictionaries
                        .iter()
                        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                        .collect();
                    object.insert("dictionaries".into(), serde_json::Value::Object(map));
                }
                entry.data = TailData::New(json.to_string().into_bytes());
                entry.method = jar.entries[i].method;
            }
        }
        Ok(())
    }

    /// Package-level changes: `update.locale`, and NON_CHROME files outside the jars.
    fn package(&mut self, layout: &Layout) -> BTreeMap<String, PackageFile> {
        let prefix = self.staged.app_prefix();
        let mut package = BTreeMap::new();
        for &m in &layout.package_slots {
            let rel = &self.staged.members[m].path[prefix.len()..];
            if rel == "precomplete" || is_rebuilt(layout.rebuilt, rel) {
                // precomplete is generated from the final tree; the rebuilt paths come from
                // the packaging (an uninstaller from --installer-dir, a renamed en.lproj).
                continue;
            }
            if rel == "update.locale" {
                package.insert(rel.to_owned(), PackageFile::Write(self.default_locale()));
                continue;
            }
            match self.remaining.remove(rel) {
                Some(data) => {
                    package.insert(rel.to_owned(), PackageFile::Write(data));
                }
                None => {
                    self.findings.push(Finding::file(
                        FindingKind::RemovedFile,
                        rel,
                        "only the en-US build has this localized file; removed, as Mozilla's \
                         repack does",
                    ));
                    package.insert(rel.to_owned(), PackageFile::Remove);
                }
            }
        }
        let outside: Vec<String> = self
            .remaining
            .keys()
            .filter(|p| {
                non_chrome::is_outside_jar(p)
                    || p.strip_prefix("browser/")
                        .is_some_and(non_chrome::is_outside_jar)
            })
            .cloned()
            .collect();
        for rel in outside {
            let data = self.remaining.remove(&rel).expect("key listed just above");
            package.insert(rel, PackageFile::Write(data));
        }
        package
    }

    /// Langpack files nothing claimed. Metadata (manifest.json, chrome manifests) is
    /// expected; anything else is reported.
    fn leftovers(&mut self) {
        for path in std::mem::take(&mut self.remaining).into_keys() {
            let metadata = path == "manifest.json" || path.ends_with(".manifest");
            if !metadata {
                self.findings.push(Finding::file(
                    FindingKind::ObsoleteFile,
                    path,
                    "not part of any chrome package, localization or NON_CHROME path; not \
                     packaged",
                ));
            }
        }
    }

    /// Reports that the locale lacks the file en-US entry `i` is, with its string count.
    fn missing_file(
        &mut self,
        jar: &StagedJar,
        i: usize,
        flat: String,
        detail: &str,
    ) -> Result<()> {
        let strings = match merge::Format::of(&flat) {
            Some(_) => merge::count_strings(&flat, &decompressed(self.staged, jar, i)?),
            None => None,
        };
        let mut finding = Finding::file(FindingKind::MissingFile, flat, detail);
        finding.strings = strings;
        self.findings.push(finding);
        Ok(())
    }

    fn keys_under(&self, prefix: &str) -> Vec<String> {
        self.remaining
            .range(prefix.to_owned()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// The locale's file merged with en-US entry `i` (see [`merge`]).
    fn merged(&mut self, jar: &StagedJar, i: usize, flat: &str, data: Vec<u8>) -> Result<Vec<u8>> {
        if merge::Format::of(flat).is_none() {
            return Ok(data);
        }
        let en_us = decompressed(self.staged, jar, i)?;
        Ok(self.merger.merge(flat, &en_us, data, &mut self.findings))
    }

    fn default_locale(&self) -> Vec<u8> {
        default_locale_file(self.locale)
    }

    fn multilocale(&self) -> Vec<u8> {
        multilocale_txt(&[self.locale, SOURCE_LOCALE])
    }
}

fn insert_new(tail: &mut BTreeMap<String, TailEntry>, name: String, data: Vec<u8>, method: Method) {
    tail.insert(
        name.clone(),
        TailEntry {
            name,
            data: TailData::New(data),
            method,
        },
    );
}

fn insert_en_us(tail: &mut BTreeMap<String, TailEntry>, jar: &StagedJar, i: usize, name: String) {
    tail.insert(
        name.clone(),
        TailEntry {
            name,
            data: TailData::EnUs(i),
            method: jar.entries[i].method,
        },
    );
}

/// Whose an entry of a locale's jar tail is, in a package that holds several locales
/// (`--multi-locale`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TailOwner {
    /// The locale's alone: its chrome files, its `localization/<locale>/`, its
    /// `chrome.<locale>.manifest`. Every locale's are in the package side by side.
    Locale,
    /// One per package, the default locale's: NON_CHROME files (prefs, dictionaries) and
    /// `built_in_addons.json`, as Mozilla keeps the base build's.
    Default,
    /// What the package writes for all its locales at once (the manifests that register
    /// en-US, `default.locale`, `res/multilocale.txt`), or en-US's own files.
    Package,
}

/// Whose the entry `name` of `locale`'s tail of a jar laid out as `layout` is.
pub fn tail_owner(layout: &JarLayout, locale: &str, name: &str) -> TailOwner {
    let file = name.rsplit('/').next().unwrap_or(name);
    let own_dir = layout.lines.iter().any(|l| {
        let dir = manifest::substitute_locale(&l.dir, SOURCE_LOCALE, locale);
        dir != l.dir && name.starts_with(&dir)
    });
    if own_dir
        || name.starts_with(&format!("localization/{locale}/"))
        || file == format!("chrome.{locale}.manifest")
    {
        TailOwner::Locale
    } else if is_built_in_addons(name)
        || (non_chrome::is_non_chrome(name)
            && name != "default.locale"
            && !non_chrome::matches("**/multilocale.txt", name))
    {
        TailOwner::Default
    } else {
        TailOwner::Package
    }
}

/// `res/multilocale.txt` for a package holding `locales`: the list Gecko offers, one
/// comma-separated line (`LocaleService::InitPackagedLocales`; Mozilla's
/// `gen_multilocale.py` writes it the same way).
pub fn multilocale_txt(locales: &[&str]) -> Vec<u8> {
    format!("{}\n", locales.join(",")).into_bytes()
}

/// `default.locale` for `locale`: the locale libxul starts in when none is requested.
pub fn default_locale_file(locale: &str) -> Vec<u8> {
    format!("{locale}\n").into_bytes()
}

fn is_built_in_addons(name: &str) -> bool {
    name.rsplit('/').next() == Some("built_in_addons.json")
}

/// The uncompressed bytes of the en-US entry `name`, for manifest parsing. A corrupt entry
/// reads as absent here; packaging it fails later with the full error.
fn en_us_bytes(staged: &StagedBuild, jar: &StagedJar, name: &str) -> Option<Vec<u8>> {
    let &i = jar.by_name.get(name)?;
    decompressed(staged, jar, i).ok()
}

/// The uncompressed bytes of en-US entry `i`.
pub fn decompressed(staged: &StagedBuild, jar: &StagedJar, i: usize) -> Result<Vec<u8>> {
    jar::decompress(&jar.entries[i], staged.entry_raw(jar, i)).map_err(|source| {
        Error::InputFormat {
            path: staged.source.clone(),
            what: staged.app_path(jar.path),
            source,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_locales_own_entries_are_told_from_the_packages_and_the_defaults() {
        let read = |name: &str| match name {
            "chrome.manifest" => Some(b"manifest chrome/chrome.manifest\n".to_vec()),
            "chrome/chrome.manifest" => Some(
                b"locale global en-US en-US/locale/en-US/global/\n\
                  locale branding en-US en-US/locale/branding/\n"
                    .to_vec(),
            ),
            _ => None,
        };
        let layout = JarLayout {
            lines: manifest::locale_lines(read, SOURCE_LOCALE),
            touched: Vec::new(),
        };
        let owner = |name: &str| tail_owner(&layout, "fr", name);
        for own in [
            "chrome/fr/locale/fr/global/intl.properties",
            "chrome/fr/locale/branding/brand.properties",
            "localization/fr/toolkit/about/aboutSupport.ftl",
            "chrome/chrome.fr.manifest",
        ] {
            assert_eq!(owner(own), TailOwner::Locale, "{own}");
        }
        for default in [
            "defaults/pref/fr-l10n.js",
            "dictionaries/fr.dic",
            "chrome/browser/content/browser/built_in_addons.json",
        ] {
            assert_eq!(owner(default), TailOwner::Default, "{default}");
        }
        for package in [
            "chrome.manifest",
            "chrome/chrome.manifest",
            "default.locale",
            "res/multilocale.txt",
            "chrome/en-US/locale/en-US/global/intl.properties",
            "localization/en-US/toolkit/about/aboutSupport.ftl",
            "chrome/chrome.de.manifest",
            "localization/frr/x.ftl",
        ] {
            assert_eq!(owner(package), TailOwner::Package, "{package}");
        }
        assert_eq!(multilocale_txt(&["en-US", "ar", "fr"]), b"en-US,ar,fr\n");
        assert_eq!(default_locale_file("fr"), b"fr\n");
    }
}
