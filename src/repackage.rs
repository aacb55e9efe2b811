//! Complete MARs from localized packages that came back from signing (the second phase of
//! Mozilla's pipeline: the signing task re-signs the repacked package, then the MAR is made).
//!
//! The packages share most of their bytes: every binary, and each jar up to where its
//! locale's entries start. One pass over them keeps the first package (the reference) in
//! memory and, for every other package and file, only where its bytes first differ from the
//! reference's and what follows. The bytes all packages share at the start of each file are
//! then xz-compressed once; each package compresses only the rest of its files, and each
//! member is one xz stream of the shared blocks and its own. Per-package work therefore
//! scales with what differs, not with the size of the build.
//!
//! With `--partial-from`, each package also gets its partial MARs
//! ([`crate::formats::partial::signed`]), from the same digests: every file the packages
//! share is diffed once per from-version.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use packagers::mar::{MarWriter, ProductInfo};
use packagers::xz::{XzBlocks, XzOptions};
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::formats::mar::MAR_BLOCK;
use crate::formats::partial::signed::{NewFile, PackageFiles, SignedPartial, SignedPartials};
use crate::formats::{Format, FromFile, encode_xz, write_xz};
use crate::from_build::FromDir;
use crate::l10n::{Finding, FindingKind};
use crate::output::AtomicFile;
use crate::platform::Platform;
use crate::report::{LocaleOutcome, OutputFile, Status};
use crate::stage::{MemberKind, PackageKind, StagedBuild};
use crate::update;

/// How one package's file relates to the reference's file of the same path.
enum Content {
    /// Byte-identical.
    Same,
    /// Equal for `prefix` bytes, then `rest` (the file's bytes from `prefix` on).
    Differs { prefix: usize, rest: Vec<u8> },
}

/// What a package holds, relative to the reference.
struct Digest {
    /// App-relative path → (mode, content).
    files: BTreeMap<String, (u32, Content)>,
    /// `application.ini`'s `Version`, the MAR's product version.
    version: String,
    /// The locale (the app jar's `default.locale`, else the package's name), when known.
    locale: Option<String>,
}

/// The job: packages in, one complete MAR each out.
pub struct Repackage<'a> {
    /// The signed packages.
    pub packages: &'a [PathBuf],
    /// Where the MARs go.
    pub output_dir: &'a Path,
    /// The MAR channel; `None`: the reference package's `update-settings.ini`.
    pub channel: Option<String>,
    /// The packages' platform: the x86 BCJ filter, and where to look for from-builds.
    pub platform: Platform,
    /// Whether to write complete MARs (`--formats mar`).
    pub complete: bool,
    /// The builds to write partial MARs from (`--partial-from`), one per from-version.
    pub partial_from: Vec<FromDir>,
}

impl Repackage<'_> {
    /// Writes a MAR per package; a package that cannot be read fails alone.
    pub fn run(&self, note: &(dyn Fn(&str) + Sync)) -> Result<Vec<LocaleOutcome>> {
        let mut names = std::collections::BTreeSet::new();
        for package in self.packages {
            if !names.insert(mar_name(package)) {
                return Err(Error::Usage(format!(
                    "{}: another package would write the same MAR, {}; give each locale's \
                     package once",
                    package.display(),
                    mar_name(package)
                )));
            }
        }
        let (first, others) = self
            .packages
            .split_first()
            .ok_or_else(|| Error::Usage("repackage: give at least one package".into()))?;
        if let Some(apk) = self
            .packages
            .iter()
            .find(|p| PackageKind::from_path(p) == Some(PackageKind::Apk))
        {
            return Err(Error::Usage(format!(
                "{}: Android packages have no complete MAR (Fennec updated through its app \
                 store); give desktop packages",
                apk.display()
            )));
        }
        note(&format!(
            "reading the reference package {}",
            first.display()
        ));
        let reference = StagedBuild::open(first)?;
        let channel = match &self.channel {
            Some(channel) => channel.clone(),
            None => reference
                .app_member("update-settings.ini")
                .and_then(|m| m.data())
                .and_then(|d| update::channel_id(&String::from_utf8_lossy(d)))
                .ok_or_else(|| {
                    Error::Usage(format!(
                        "{} has no update-settings.ini with ACCEPTED_MAR_CHANNEL_IDS; give \
                         --mar-channel-id",
                        first.display()
                    ))
                })?,
        };
        let ref_files = files_of(&reference);
        let started = Instant::now();
        let digests: Vec<Result<Digest>> = others
            .par_iter()
            .map(|path| digest(path, &ref_files))
            .collect();
        note(&format!(
            "compared {} packages with the reference in {:.1} s",
            others.len(),
            started.elapsed().as_secs_f64()
        ));

        // Per path, the bytes every package has at its start.
        let mut shared_len: BTreeMap<&str, usize> = ref_files
            .iter()
            .map(|(p, (_, d))| (p.as_str(), d.len()))
            .collect();
        for digest in digests.iter().flatten() {
            for (path, len) in shared_len.iter_mut() {
                match digest.files.get(*path) {
                    Some((_, Content::Same)) => {}
                    Some((_, Content::Differs { prefix, .. })) => *len = (*len).min(*prefix),
                    None => *len = 0,
                }
            }
        }
        let options = XzOptions::mar(self.platform.x86_bcj());
        let paths: Vec<&str> = shared_len.keys().copied().collect();
        let inputs: Vec<&[u8]> = paths
            .iter()
            .map(|p| &ref_files[*p].1[..shared_len[p]])
            .collect();
        let started = Instant::now();
        let encoded = encode_xz(&inputs, MAR_BLOCK, options).map_err(|source| Error::Write {
            what: "the shared MAR members".into(),
            source,
        })?;
        let shared: BTreeMap<&str, Arc<XzBlocks>> = paths
            .iter()
            .copied()
            .zip(encoded.into_iter().map(Arc::new))
            .collect();
        note(&format!(
            "shared members compressed in {:.1} s",
            started.elapsed().as_secs_f64()
        ));

        let reference_digest = Digest {
            files: ref_files
                .iter()
                .map(|(p, (mode, _))| (p.clone(), (*mode, Content::Same)))
                .collect(),
            version: reference.app.version.clone(),
            locale: package_locale(&reference, first),
        };
        let jobs: Vec<(&PathBuf, Result<Digest>)> = std::iter::once((first, Ok(reference_digest)))
            .chain(others.iter().zip(digests))
            .collect();
        let partials = if self.partial_from.is_empty() {
            None
        } else {
            note("reading the from-builds");
            Some(SignedPartials::new(
                self.partial_from.clone(),
                &channel,
                self.platform.x86_bcj(),
            ))
        };
        let writer = MarJob {
            ref_files: &ref_files,
            shared_len: &shared_len,
            shared: &shared,
            options,
            channel: &channel,
            output_dir: self.output_dir,
            partials: partials.as_ref(),
            complete: self.complete,
        };
        if let (Some(partials), Some(Ok(reference))) = (&partials, jobs.first().map(|j| &j.1)) {
            let started = Instant::now();
            let second = jobs.get(1).and_then(|j| j.1.as_ref().ok());
            let bytes = writer.bytes(reference);
            partials.prefill(&writer.package_files(reference, second, &bytes));
            note(&format!(
                "shared diffs computed in {:.1} s",
                started.elapsed().as_secs_f64()
            ));
        }
        let second = jobs.get(1).and_then(|j| j.1.as_ref().ok());
        let mut outcomes: Vec<LocaleOutcome> = jobs
            .par_iter()
            .map(|(path, digest)| {
                let started = Instant::now();
                let name = mar_name(path);
                let mut outcome = LocaleOutcome::new(&name);
                let failed = match digest {
                    Ok(d) => writer
                        .write_all(d, second, &name, &mut outcome)
                        .err()
                        .map(|e| crate::error::chain(&e)),
                    Err(e) => Some(crate::error::chain(e)),
                };
                if let Some(error) = failed {
                    outcome.status = Status::Failed { error };
                }
                outcome.seconds = started.elapsed().as_secs_f64();
                note(&format!("{name}: {:.2} s", outcome.seconds));
                outcome
            })
            .collect();
        outcomes.sort_by(|a, b| a.locale.cmp(&b.locale));
        Ok(outcomes)
    }
}

/// Writes the MARs.
struct MarJob<'a> {
    ref_files: &'a BTreeMap<String, (u32, &'a [u8])>,
    shared_len: &'a BTreeMap<&'a str, usize>,
    shared: &'a BTreeMap<&'a str, Arc<XzBlocks>>,
    options: XzOptions,
    channel: &'a str,
    output_dir: &'a Path,
    partials: Option<&'a SignedPartials>,
    complete: bool,
}

impl MarJob<'_> {
    /// Every output of one package: its complete MAR and its partials.
    fn write_all(
        &self,
        digest: &Digest,
        second: Option<&Digest>,
        name: &str,
        outcome: &mut LocaleOutcome,
    ) -> Result<()> {
        if self.complete {
            outcome.outputs.push(self.write(digest, name)?);
        }
        let Some(partials) = self.partials else {
            return Ok(());
        };
        let bytes = self.bytes(digest);
        let files = self.package_files(digest, second, &bytes);
        if files.locale.is_empty() {
            return Err(Error::Usage(format!(
                "{name}: the package says no locale (no default.locale in omni.ja, and its name \
                 is not firefox-<version>.<locale>.<platform>); give packages l10n-repack wrote"
            )));
        }
        for partial in partials.write(&files)? {
            match partial {
                SignedPartial::Written {
                    from_version,
                    from_path,
                    from_sha256,
                    mar,
                } => {
                    let path = partial_name(name, &from_version, &digest.version);
                    let mut file = AtomicFile::create(self.output_dir, &path)?;
                    let at = file.path().to_owned();
                    {
                        let mut out = file.writer();
                        out.write_all(&mar)
                            .and_then(|()| out.flush())
                            .map_err(|e| Error::io(&at, e))?;
                    }
                    let bytes = file.commit()?;
                    outcome.outputs.push(OutputFile {
                        format: Format::parse("partial")
                            .unwrap_or_else(|| unreachable!("the registry has the partial")),
                        path: PathBuf::from(path),
                        bytes,
                        sha256: None,
                        sha512: None,
                        from: Some(FromFile {
                            version: from_version,
                            path: from_path,
                            sha256: from_sha256,
                            result: BTreeMap::new(),
                        }),
                    });
                }
                SignedPartial::NoFromBuild { from_version, dir } => {
                    outcome.findings.push(Finding {
                        kind: FindingKind::NoFromBuild,
                        file: dir.display().to_string(),
                        key: None,
                        line: None,
                        strings: None,
                        detail: format!(
                            "no complete MAR of {from_version} for {} in {}: no partial update \
                             from {from_version}",
                            files.locale,
                            dir.display()
                        ),
                    });
                    *outcome.counts.entry(FindingKind::NoFromBuild).or_default() += 1;
                }
            }
        }
        Ok(())
    }

    /// Every file's whole bytes: the reference's, borrowed, where they are the same.
    fn bytes<'d>(&'d self, digest: &'d Digest) -> BTreeMap<&'d str, Cow<'d, [u8]>> {
        digest
            .files
            .iter()
            .map(|(rel, (_, content))| {
                let data = match content {
                    Content::Same => Cow::Borrowed(self.ref_bytes(rel)),
                    differs => Cow::Owned(self.content_from(self.ref_bytes(rel), differs, 0)),
                };
                (rel.as_str(), data)
            })
            .collect()
    }

    /// The package as its partials see it. `second`, another package, says how much of each
    /// file is shared when `digest` is the reference's.
    fn package_files<'d>(
        &'d self,
        digest: &'d Digest,
        second: Option<&'d Digest>,
        bytes: &'d BTreeMap<&'d str, Cow<'d, [u8]>>,
    ) -> PackageFiles<'d> {
        let empty = Arc::new(XzBlocks::concat(&[]));
        let files = update::member_order(digest.files.keys().map(String::as_str))
            .into_iter()
            .map(|rel| {
                let (mode, content) = &digest.files[rel];
                let data: &[u8] = &bytes[rel];
                let common = match content {
                    Content::Differs { prefix, .. } => *prefix,
                    Content::Same => match second.and_then(|s| s.files.get(rel)) {
                        Some((_, Content::Differs { prefix, .. })) => *prefix,
                        _ => data.len(),
                    },
                };
                let file = NewFile {
                    mode: *mode,
                    data,
                    same_as_reference: matches!(content, Content::Same),
                    shared: self.shared.get(rel).unwrap_or(&empty).clone(),
                    shared_len: self.shared_len.get(rel).copied().unwrap_or(0),
                    common,
                };
                (rel, file)
            })
            .collect();
        PackageFiles {
            locale: digest.locale.clone().unwrap_or_default(),
            version: digest.version.clone(),
            files,
        }
    }

    fn write(&self, digest: &Digest, name: &str) -> Result<OutputFile> {
        let wrap = |source| Error::Write {
            what: name.to_owned(),
            source,
        };
        let order = update::member_order(digest.files.keys().map(String::as_str));
        let removed = digest.files.get("removed-files").map(|(_, c)| {
            String::from_utf8_lossy(&self.content_from(self.ref_bytes("removed-files"), c, 0))
                .into_owned()
        });
        let manifest = update::manifest(&order, removed.as_deref())?;
        let info = ProductInfo {
            channel: self.channel.to_owned(),
            version: digest.version.clone(),
        };
        let mut file = AtomicFile::create(self.output_dir, name)?;
        let path = file.path().to_owned();
        let mut writer = MarWriter::new(file.writer(), &info).map_err(wrap)?;
        let manifest_piece = XzBlocks::encode(manifest.as_bytes(), self.options).map_err(wrap)?;
        writer
            .append_with(update::MANIFEST, 0o644, |w| write_xz(w, &[&manifest_piece]))
            .map_err(wrap)?;
        let empty = XzBlocks::concat(&[]);
        for rel in order {
            let (mode, content) = &digest.files[rel];
            let shared_len = self.shared_len.get(rel).copied().unwrap_or(0);
            let shared = self.shared.get(rel).map_or(&empty, |s| s.as_ref());
            let own = self.content_from(self.ref_bytes(rel), content, shared_len);
            let own = XzBlocks::encode(&own, self.options).map_err(wrap)?;
            writer
                .append_with(rel, mode & 0o777, |w| write_xz(w, &[shared, &own]))
                .map_err(wrap)?;
        }
        let mut w = writer.finish().map_err(wrap)?;
        w.flush().map_err(|e| Error::io(&path, e))?;
        drop(w);
        let bytes = file.commit()?;
        Ok(OutputFile {
            format: Format::parse("mar")
                .unwrap_or_else(|| unreachable!("the registry has the MAR")),
            path: PathBuf::from(name),
            bytes,
            sha256: None,
            sha512: None,
            from: None,
        })
    }

    fn ref_bytes(&self, rel: &str) -> &[u8] {
        self.ref_files.get(rel).map_or(&[], |(_, d)| d)
    }

    /// The file's bytes from `from` on, rebuilt from the reference and the stored rest.
    fn content_from(&self, reference: &[u8], content: &Content, from: usize) -> Vec<u8> {
        match content {
            Content::Same => reference[from..].to_vec(),
            Content::Differs { prefix, rest } => {
                let mut out = reference[from.min(*prefix)..*prefix].to_vec();
                out.extend_from_slice(rest);
                out
            }
        }
    }
}

/// A package's regular files by app-relative path.
fn files_of(build: &StagedBuild) -> BTreeMap<String, (u32, &[u8])> {
    let prefix = build.app_prefix();
    build
        .members
        .iter()
        .filter_map(|m| match &m.kind {
            MemberKind::File(data) => {
                let rel = m.path.strip_prefix(&prefix)?;
                Some((rel.to_owned(), (m.mode, data.as_slice())))
            }
            _ => None,
        })
        .collect()
}

/// Reads a package and keeps only how it differs from the reference.
fn digest(path: &Path, reference: &BTreeMap<String, (u32, &[u8])>) -> Result<Digest> {
    let build = StagedBuild::open(path)?;
    let files = files_of(&build)
        .into_iter()
        .map(|(rel, (mode, data))| {
            let ours = reference.get(&rel).map_or(&[][..], |(_, d)| d);
            let content = if ours == data && reference.contains_key(&rel) {
                Content::Same
            } else {
                let prefix = ours.iter().zip(data).take_while(|(a, b)| a == b).count();
                Content::Differs {
                    prefix,
                    rest: data[prefix..].to_vec(),
                }
            };
            (rel, (mode, content))
        })
        .collect();
    Ok(Digest {
        files,
        version: build.app.version.clone(),
        locale: package_locale(&build, path),
    })
}

/// The package's locale: its app jar's `default.locale`, else its name
/// (`firefox-<version>.<locale>.<platform>.tar.bz2`, or `<platform>/<locale>/…` in the
/// release layout).
fn package_locale(build: &StagedBuild, path: &Path) -> Option<String> {
    let from_jar = build
        .jars
        .iter()
        .find(|j| j.base.is_empty())
        .and_then(|jar| {
            let &i = jar.by_name.get("default.locale")?;
            let data = crate::l10n::decompressed(build, jar, i).ok()?;
            let code = String::from_utf8_lossy(&data).trim().to_owned();
            crate::l10n::langpack::is_locale_code(&code).then_some(code)
        });
    from_jar.or_else(|| {
        let name = path.file_name()?.to_string_lossy().into_owned();
        let stem = name
            .strip_suffix(".tar.bz2")
            .or_else(|| name.strip_suffix(".tar.xz"))?;
        let mut parts = stem.rsplit('.');
        let (_platform, locale) = (parts.next()?, parts.next()?);
        if crate::l10n::langpack::is_locale_code(locale) {
            return Some(locale.to_owned());
        }
        let dir = path.parent()?.file_name()?.to_string_lossy().into_owned();
        crate::l10n::langpack::is_locale_code(&dir).then_some(dir)
    })
}

/// The partial's name beside the complete MAR `mar_name`: `firefox-<to>` becomes
/// `firefox-<from>-<to>` (Mozilla's names, nightly and release alike) and `.complete.mar`
/// `.partial.mar`.
fn partial_name(mar_name: &str, from: &str, to: &str) -> String {
    let stem = mar_name.strip_suffix(".complete.mar").unwrap_or(mar_name);
    let (dir, file) = stem.rsplit_once('/').map_or(("", stem), |(d, f)| (d, f));
    let file = match file.find(&format!("-{to}")) {
        Some(at) => format!("{}-{from}{}", &file[..at], &file[at..]),
        None => format!("{file}-from-{from}"),
    };
    let dir = if dir.is_empty() {
        String::new()
    } else {
        format!("{dir}/")
    };
    format!("{dir}{file}.partial.mar")
}

/// `firefox-153.7.0esr.fr.linux-x86_64.tar.bz2` → `firefox-153.7.0esr.fr.linux-x86_64.complete.mar`;
/// a package in the release layout, `linux-x86_64/fr/firefox-153.0.tar.xz`, whose name
/// holds no locale → `update/linux-x86_64/fr/firefox-153.0.complete.mar`, as Mozilla's
/// candidates directory has it.
fn mar_name(package: &Path) -> String {
    let name = package
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = name
        .strip_suffix(".tar.bz2")
        .or_else(|| name.strip_suffix(".tar.xz"))
        .unwrap_or(&name);
    let component = |p: Option<&Path>| {
        p.and_then(Path::file_name)
            .map(|n| n.to_string_lossy().into_owned())
    };
    let locale = component(package.parent());
    let platform = component(package.parent().and_then(Path::parent));
    match (locale, platform) {
        (Some(locale), Some(platform))
            if crate::l10n::langpack::is_locale_code(&locale) && platform.starts_with("linux-") =>
        {
            format!("update/{platform}/{locale}/{stem}.complete.mar")
        }
        _ => format!("{stem}.complete.mar"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mar_names_follow_the_package() {
        let cases = [
            (
                "a/firefox-1.fr.linux-x86_64.tar.bz2",
                "firefox-1.fr.linux-x86_64.complete.mar",
            ),
            (
                "firefox-1.de.linux-x86_64.tar.xz",
                "firefox-1.de.linux-x86_64.complete.mar",
            ),
            (
                "c/linux-x86_64/fr/firefox-153.0.tar.xz",
                "update/linux-x86_64/fr/firefox-153.0.complete.mar",
            ),
        ];
        for (package, want) in cases {
            assert_eq!(mar_name(Path::new(package)), want);
        }
    }

    #[test]
    fn partial_names_follow_the_complete_mar() {
        let cases = [
            (
                "firefox-153.0.fr.linux-x86_64.complete.mar",
                "firefox-140.0-153.0.fr.linux-x86_64.partial.mar",
            ),
            (
                "update/linux-x86_64/fr/firefox-153.0.complete.mar",
                "update/linux-x86_64/fr/firefox-140.0-153.0.partial.mar",
            ),
            ("odd.complete.mar", "odd-from-140.0.partial.mar"),
        ];
        for (mar, want) in cases {
            assert_eq!(partial_name(mar, "140.0", "153.0"), want);
        }
    }
}
