//! Partial MARs of packages back from signing (`repackage --partial-from`).
//!
//! The manifest and members are those of every partial ([`super::assemble`]); only the new
//! build's form differs: here it is a package's installed tree, read whole, not a locale of
//! this run with its jars in pieces. The diffs are shared the same way, by content:
//!
//! - a file every package has with the same bytes (the binaries) is diffed once per
//!   from-version, keyed by the SHA-256 of the old and new bytes;
//! - a jar is split where its own entries start, found from the bytes themselves: the end of
//!   the last entry it shares with another locale's jar (another package for the new jar,
//!   another locale's from-build for the old one). The two prefixes are then the same for
//!   every locale, so their diff is computed once, and each locale diffs only its own tails;
//!   the two patches are joined as in [`super`]. A jar no other locale shares a prefix with
//!   is diffed whole.
//!
//! [`SignedPartials::prefill`] diffs the reference package's shared files first, in parallel
//! and largest first, so that no locale waits on another for a shared diff.

use std::collections::BTreeMap;
use std::sync::Arc;

use packagers::mar::ProductInfo;
use packagers::xz::{XzBlocks, XzOptions, stream_len};
use rayon::prelude::*;

use super::{
    Content, JarHead, Memo, NewFiles, Sha, Shared, XzPatch, assemble, diff_error, head_patch,
    joined_patch, old_sha, patch_whole, sha256, smaller,
};
use crate::error::Result;
use crate::formats::write_error;
use crate::from_build::{FromBuild, FromDir, FromMember};

/// One file of a package, as its partials need it.
pub(crate) struct NewFile<'a> {
    /// Its mode.
    pub mode: u32,
    /// Its bytes.
    pub data: &'a [u8],
    /// Whether the bytes are the reference package's (then their SHA-256 is computed once).
    pub same_as_reference: bool,
    /// The first `shared_len` bytes, which every package has, xz'd once for all of them.
    pub shared: Arc<XzBlocks>,
    /// How many bytes `shared` holds.
    pub shared_len: usize,
    /// How many leading bytes another package's file of the same path has too: where, in a
    /// jar, this locale's own entries start (at most).
    pub common: usize,
}

/// A package's files by update path, and its locale.
pub(crate) struct PackageFiles<'a> {
    /// The locale, which picks its from-build.
    pub locale: String,
    /// `application.ini`'s version: the partial's product version.
    pub version: String,
    /// Its files.
    pub files: BTreeMap<&'a str, NewFile<'a>>,
}

/// A partial written, or why there is none.
pub(crate) enum SignedPartial {
    /// The MAR's bytes and what it updates from.
    Written {
        /// The from-version.
        from_version: String,
        /// The from-build's path and SHA-256.
        from_path: std::path::PathBuf,
        from_sha256: String,
        /// The MAR.
        mar: Vec<u8>,
    },
    /// The from-version has no build of this locale.
    NoFromBuild {
        /// The from-version and its directory.
        from_version: String,
        dir: std::path::PathBuf,
    },
}

/// One from-version: its builds and, to find where each old jar's own entries start, the
/// jars of up to two of them, decompressed.
struct FromVersion {
    dir: FromDir,
    /// (locale, jar update path → bytes).
    refs: Vec<(String, BTreeMap<String, Vec<u8>>)>,
}

/// The memoized diffs of one `repackage` run.
pub(crate) struct SignedPartials {
    channel: String,
    file_options: XzOptions,
    patch_options: XzOptions,
    from: Vec<FromVersion>,
    ref_sha: Memo<String, Sha>,
    old_sha: Memo<Sha, std::result::Result<Sha, String>>,
    diffs: Memo<(Sha, Sha), Shared<XzPatch>>,
    heads: Memo<(Sha, Sha), Shared<JarHead>>,
}

impl SignedPartials {
    /// Reads two readable from-builds of each from-version, for their jars. A damaged one is
    /// passed over here: its own locale's partial reports it.
    pub(crate) fn new(from: Vec<FromDir>, channel: &str, x86_bcj: bool) -> SignedPartials {
        let read_jars = |path: &std::path::Path| -> Result<BTreeMap<String, Vec<u8>>> {
            let build = FromBuild::read(path)?;
            build
                .members
                .iter()
                .filter(|(rel, _)| is_jar(rel))
                .map(|(rel, m)| Ok((rel.clone(), m.data(path, rel)?.into_owned())))
                .collect()
        };
        let from = from
            .into_iter()
            .map(|dir| {
                let refs = dir
                    .builds
                    .iter()
                    .filter_map(|(locale, path)| Some((locale.clone(), read_jars(path).ok()?)))
                    .take(2)
                    .collect();
                FromVersion { dir, refs }
            })
            .collect();
        SignedPartials {
            channel: channel.to_owned(),
            file_options: XzOptions::mar(x86_bcj),
            patch_options: XzOptions::mar(false),
            from,
            ref_sha: Memo::new(),
            old_sha: Memo::new(),
            diffs: Memo::new(),
            heads: Memo::new(),
        }
    }

    /// Diffs, once and in parallel, what the packages share: the reference package against
    /// its locale's from-build (else the first one) of each from-version. Errors are left
    /// for the package whose partial meets them.
    pub(crate) fn prefill(&self, reference: &PackageFiles<'_>) {
        for from in &self.from {
            let path = from
                .dir
                .builds
                .get(&reference.locale)
                .or_else(|| from.dir.builds.values().next());
            let Some(Ok(old)) = path.map(|p| FromBuild::read(p)) else {
                continue;
            };
            let against = Against {
                partials: self,
                new: reference,
                from,
            };
            let mut tasks: Vec<(&str, &FromMember)> = old
                .members
                .iter()
                .filter(|(rel, _)| reference.files.contains_key(rel.as_str()))
                .map(|(rel, m)| (rel.as_str(), m))
                .collect();
            tasks
                .sort_by_key(|(rel, _)| std::cmp::Reverse((reference.files[rel].data.len(), *rel)));
            tasks.par_iter().for_each(|(rel, member)| {
                let _ = against.changed(rel, &old, member);
            });
        }
    }

    /// The partial MAR from each from-version for `new`.
    pub(crate) fn write(&self, new: &PackageFiles<'_>) -> Result<Vec<SignedPartial>> {
        let info = ProductInfo {
            channel: self.channel.clone(),
            version: new.version.clone(),
        };
        let mut out = Vec::new();
        for from in &self.from {
            let Some(path) = from.dir.builds.get(&new.locale) else {
                out.push(SignedPartial::NoFromBuild {
                    from_version: from.dir.version.clone(),
                    dir: from.dir.dir.clone(),
                });
                continue;
            };
            let old = FromBuild::read(path)?;
            let against = Against {
                partials: self,
                new,
                from,
            };
            let mar = assemble(&against, &old, &info, self.file_options)?;
            out.push(SignedPartial::Written {
                from_version: from.dir.version.clone(),
                from_path: old.path.clone(),
                from_sha256: old.sha256.clone(),
                mar,
            });
        }
        Ok(out)
    }
}

/// One package as the new build of one from-version's partial.
struct Against<'a, 'b> {
    partials: &'a SignedPartials,
    new: &'a PackageFiles<'b>,
    from: &'a FromVersion,
}

impl Against<'_, '_> {
    fn sha(&self, rel: &str, file: &NewFile<'_>) -> Sha {
        if file.same_as_reference {
            self.partials
                .ref_sha
                .get(&rel.to_owned(), || sha256(&[file.data]))
        } else {
            sha256(&[file.data])
        }
    }

    /// Where a jar's old and new bytes stop being those other locales share, each at the end
    /// of an entry: `None` for a file that is not a jar or a jar no other locale shares a
    /// prefix with.
    fn split(&self, rel: &str, old: &[u8], file: &NewFile<'_>) -> Option<(usize, usize)> {
        if !is_jar(rel) {
            return None;
        }
        let new_split = entry_boundary(file.data, file.common)?;
        let other = self
            .from
            .refs
            .iter()
            .find(|(locale, _)| *locale != self.new.locale)?;
        let other = other.1.get(rel)?;
        let common = old.iter().zip(other).take_while(|(a, b)| a == b).count();
        let old_split = entry_boundary(old, common)?;
        Some((old_split, new_split))
    }

    /// The file whole: the shared piece, then its own bytes.
    fn whole_pieces(&self, file: &NewFile<'_>) -> Result<Vec<Arc<XzBlocks>>> {
        let own = XzBlocks::encode(&file.data[file.shared_len..], self.partials.file_options)
            .map_err(write_error("the partial MAR"))?;
        Ok(vec![file.shared.clone(), Arc::new(own)])
    }
}

impl NewFiles for Against<'_, '_> {
    fn paths(&self) -> Vec<&str> {
        self.new.files.keys().copied().collect()
    }

    fn contains(&self, rel: &str) -> bool {
        self.new.files.contains_key(rel)
    }

    fn mode(&self, rel: &str) -> u32 {
        self.new.files.get(rel).map_or(0o644, |f| f.mode)
    }

    fn whole(&self, rel: &str) -> Result<Content> {
        match self.new.files.get(rel) {
            Some(file) => Ok(Content::Whole(self.whole_pieces(file)?)),
            None => Ok(Content::Whole(Vec::new())),
        }
    }

    fn changed(&self, rel: &str, old: &FromBuild, member: &FromMember) -> Result<Option<Content>> {
        let Some(file) = self.new.files.get(rel) else {
            return Ok(None);
        };
        let partials = self.partials;
        let options = partials.patch_options;
        let patch = if is_jar(rel) {
            // A jar differs in every locale: compared and split as bytes, hashed only where a
            // memo needs the key.
            let old_data = member.data(&old.path, rel)?;
            if old_data[..] == file.data[..] {
                return Ok(None);
            }
            let (old_end, new_end) = self
                .split(rel, &old_data, file)
                .unwrap_or((old_data.len(), file.data.len()));
            let key = (
                sha256(&[&old_data[..old_end]]),
                sha256(&[&file.data[..new_end]]),
            );
            if old_end == old_data.len() && new_end == file.data.len() {
                partials
                    .diffs
                    .get(&key, || patch_whole(&old_data, file.data, options))
                    .map_err(|reason| diff_error(old, rel, reason))?
            } else {
                let head = partials
                    .heads
                    .get(&key, || {
                        head_patch(&old_data[..old_end], &file.data[..new_end], options)
                    })
                    .map_err(|reason| diff_error(old, rel, reason))?;
                let joined = joined_patch(
                    &head,
                    &old_data,
                    old_end,
                    new_end,
                    &file.data[new_end..],
                    options,
                )
                .map_err(|e| diff_error(old, rel, e.to_string()))?;
                Arc::new(joined)
            }
        } else {
            let old_sha = old_sha(&partials.old_sha, old, rel, member)?;
            let new_sha = self.sha(rel, file);
            if old_sha == new_sha {
                return Ok(None);
            }
            // The old bytes are decompressed only when the diff is not already known.
            partials
                .diffs
                .get(&(old_sha, new_sha), || {
                    let old_data = member
                        .data(&old.path, rel)
                        .map_err(|e| crate::error::chain(&e))?;
                    patch_whole(&old_data, file.data, options)
                })
                .map_err(|reason| diff_error(old, rel, reason))?
        };
        // The whole file is at least its shared piece: compress its own bytes only when the
        // patch is not already smaller than that.
        if patch.stream_len() < stream_len(&[file.shared.as_ref()]) {
            return Ok(Some(Content::Patch(patch)));
        }
        Ok(Some(smaller(patch, self.whole_pieces(file)?)))
    }

    fn removed_files(&self) -> Option<String> {
        let file = self.new.files.get("removed-files")?;
        Some(String::from_utf8_lossy(file.data).into_owned())
    }
}

/// Whether the update path names a jar.
fn is_jar(rel: &str) -> bool {
    rel.ends_with(".ja") || rel.ends_with(".jar")
}

/// The end of the last entry of `jar` lying wholly within its first `len` bytes; `None`
/// when there is none or `jar` is not a jar.
fn entry_boundary(jar: &[u8], len: usize) -> Option<usize> {
    let entries = packagers::jar::read_entries(jar).ok()?;
    entries
        .iter()
        .map(|e| e.data.end)
        .filter(|&end| end <= len)
        .max()
        .filter(|&end| end > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jar(entries: &[(&str, &[u8])]) -> Vec<u8> {
        use std::io::Write;
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        for (name, data) in entries {
            zip.start_file(*name, options).unwrap();
            zip.write_all(data).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    #[test]
    fn jars_split_at_the_end_of_the_last_shared_entry() {
        let shared: [(&str, &[u8]); 2] = [("a.js", b"shared one"), ("b.js", b"shared two")];
        let fr = jar(&[shared[0], shared[1], ("chrome/fr/x.ftl", b"bonjour")]);
        let de = jar(&[shared[0], shared[1], ("chrome/de/x.ftl", b"hallo welt")]);
        let common = fr.iter().zip(&de).take_while(|(a, b)| a == b).count();
        let split = entry_boundary(&fr, common).unwrap();
        assert_eq!(Some(split), entry_boundary(&de, common));
        assert_eq!(fr[..split], de[..split]);
        assert!(
            fr[..split].ends_with(b"shared two"),
            "ends where b.js's data ends"
        );
        assert_eq!(entry_boundary(b"not a jar", 4), None);
        assert_eq!(entry_boundary(&fr, 3), None, "no whole entry in 3 bytes");
        assert!(is_jar("browser/omni.ja") && !is_jar("libxul.so"));
    }
}
