//! Partial updates: `<name>.partial.mar` from each `--partial-from` build, as Mozilla's
//! `tools/update-packaging/make_incremental_update.sh` (with `common.sh`) makes them.
//!
//! # What goes in
//! A MAR ([`packagers::mar`]) whose product information block carries the new version and
//! the channel, holding `updatev3.manifest` first and then, in manifest order, one member per
//! file to write. The manifest starts with `type "partial"`, then:
//!
//! 1. for each file of the from-build, in reverse byte order, that the new build has too:
//!    `add-if-not "f" "f"` for the files users may own (`channel-prefs.js`,
//!    `update-settings.ini`, `distribution.ini`, the `ChannelPrefs`/`UpdateSettings`
//!    frameworks); `add` for the files always shipped whole (`precomplete`, `removed-files`,
//!    `*.chk`, `Contents/CodeResources`, `Contents/MacOS/firefox`); for any other file whose
//!    bytes changed, `patch "f.patch" "f"` with an MBDIFF10 patch ([`packagers::mbdiff`]),
//!    unless the xz'd patch is not smaller than the xz'd file, then `add`; unchanged files get
//!    nothing. Inside `distribution/extensions/<id>/`, `add-if`/`patch-if "<that dir>"`.
//! 2. `add` for each file only the new build has (reverse byte order);
//! 3. `remove` for each file only the from-build has;
//! 4. the new build's `removed-files` instructions (as in the complete MAR);
//! 5. `rmdir "d/"` for each directory of the from-build the new build lacks;
//!
//! and finally any instruction on the top-level `firefox.exe` moves to the end (so it is
//! replaced last). Whole files are xz'd as complete-MAR members (x86 BCJ on x86 platforms);
//! patches without BCJ, as the script does.
//!
//! # Diffs are shared
//! A diff is a pure function of its two inputs, so diffs are memoized by the SHA-256 of the
//! old and new bytes and [`mbdiff::ALGORITHM`]: every locale's `libxul.so` patch from one
//! from-version is the same patch, computed once (in `prepare`, from the first locale's
//! from-build) and reused byte for byte. A jar written by this tool is a shared prefix then
//! the locale's tail (crate::jar); when both the from-jar and the new jar have that layout,
//! the two prefixes are diffed once for all locales and only each locale's tail alone, and
//! the two patches are joined ([`mbdiff::join_controls`]); a from-jar of another layout is
//! diffed whole. Patches are xz'd in the same pieces, so the shared parts are compressed once.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

use packagers::mar::{MarWriter, ProductInfo};
use packagers::mbdiff::{self, Control, Header};
use packagers::piece::{PieceReader, PieceWriter, inconsistent};
use packagers::xz::{XzBlocks, XzOptions, stream_len};
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use super::mar::{MAR_BLOCK, update_files};
use super::{
    Build, ByteOption, Loaded, Locale, Names, Output, Packager, Prepared, Settings, Target,
    encode_xz, write_error, write_file, write_xz,
};
use crate::error::{Error, Result};
use crate::from_build::{FromBuild, FromDir, FromMember};
use crate::jar::SharedJar;
use crate::l10n::{Finding, FindingKind};
use crate::package::Item;
use crate::platform::Os;
use crate::update;

pub(crate) mod signed;

/// The partial MAR.
pub struct Partial;

impl Packager for Partial {
    fn id(&self) -> &'static str {
        "partial"
    }

    fn has_multi_locale_package(&self) -> bool {
        false
    }

    fn fits(&self, os: Os) -> bool {
        os != Os::Android
    }

    fn unfit_reason(&self, os: Os) -> Option<&'static str> {
        (os == Os::Android).then_some("Android builds have no MAR updates")
    }

    fn name(&self, names: &Names<'_>) -> String {
        let from = names.from.unwrap_or("<from>");
        let product = &names.product.file;
        if names.release {
            format!(
                "update/{}{product}-{from}-{}.partial.mar",
                names.release_dir(),
                names.version
            )
        } else {
            let path = names.platform.path;
            format!(
                "{product}-{from}-{}.{}.{path}.partial.mar",
                names.version, names.locale
            )
        }
    }

    fn options(&self, settings: &Settings) -> Vec<ByteOption> {
        let from: Vec<serde_json::Value> = settings
            .partial_from
            .iter()
            .map(|f| serde_json::json!({ "dir": f.dir, "version": f.version }))
            .collect();
        vec![
            // The diffs are kept by content, so which directories they came from changes
            // the outputs (which partials), never whether cached diffs fit.
            ByteOption::output("partial", "from", from),
            ByteOption::pieces("partial", "x86_bcj", settings.platform.x86_bcj()),
            ByteOption::output("partial", "channel_id", &settings.mar_channel_id),
            ByteOption::pieces("partial", "diff", mbdiff::ALGORITHM),
        ]
    }

    fn prepare(&self, build: &Build<'_>) -> Result<Box<dyn Prepared>> {
        let pieces = PartialPieces::new(build);
        pieces.prefill(build)?;
        Ok(Box::new(pieces))
    }

    fn load(&self, build: &Build<'_>, input: &mut PieceReader<'_>) -> Loaded {
        let pieces = PartialPieces::new(build);
        pieces.load(build, input)?;
        Ok(Box::new(pieces))
    }

    fn check(&self, data: &[u8], _locale: &str, _expected: &[(String, Vec<u8>)]) -> Vec<String> {
        check_partial(data)
    }
}

/// Adds the partial format to `formats` (kept sorted) when `--partial-from` gave
/// directories; `--formats partial` without them is a usage error. `repack` and `prepare`
/// both resolve their formats through it.
pub(crate) fn resolve_format(formats: &mut Vec<super::Format>, partial_from: bool) -> Result<()> {
    let Some(partial) = super::Format::parse(Partial.id()) else {
        return Ok(());
    };
    if partial_from {
        if !formats.contains(&partial) {
            formats.push(partial);
            formats.sort();
        }
    } else if formats.contains(&partial) {
        return Err(Error::Usage(
            "--formats partial needs --partial-from DIR (the output directory of the earlier \
             build to update from)"
                .into(),
        ));
    }
    Ok(())
}

type Sha = [u8; 32];

fn sha256(parts: &[&[u8]]) -> Sha {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize().into()
}

/// Values computed once per key, whichever thread asks first; the others wait for it.
struct Memo<K, V>(Mutex<HashMap<K, Arc<OnceLock<V>>>>);

impl<K: std::hash::Hash + Eq + Clone + Ord, V: Clone> Memo<K, V> {
    fn new() -> Self {
        Memo(Mutex::new(HashMap::new()))
    }

    /// A value known beforehand (from the shared cache).
    fn insert(&self, key: K, value: V) {
        let cell = OnceLock::new();
        let _ = cell.set(value);
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.insert(key, Arc::new(cell));
    }

    /// Every computed value, by key order.
    fn computed(&self) -> Vec<(K, V)> {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let mut out: Vec<(K, V)> = map
            .iter()
            .filter_map(|(k, cell)| Some((k.clone(), cell.get()?.clone())))
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    fn get(&self, key: &K, compute: impl FnOnce() -> V) -> V {
        let cell = {
            let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
            map.entry(key.clone()).or_default().clone()
        };
        cell.get_or_init(compute).clone()
    }
}

impl<K: std::hash::Hash + Eq + Clone + Ord, T: Clone> Memo<K, std::result::Result<T, String>> {
    /// Every value computed without an error, by key order.
    fn succeeded(&self) -> Vec<(K, T)> {
        self.computed()
            .into_iter()
            .filter_map(|(k, v)| Some((k, v.ok()?)))
            .collect()
    }
}

/// A diff, xz'd: its pieces in stream order (header and controls, diff, extra).
#[derive(Clone)]
struct XzPatch {
    pieces: Vec<Arc<XzBlocks>>,
}

impl XzPatch {
    fn stream_len(&self) -> u64 {
        let pieces: Vec<&XzBlocks> = self.pieces.iter().map(|p| p.as_ref()).collect();
        stream_len(&pieces)
    }
}

/// The head of a jar patch, shared by every locale whose from-jar has the same prefix:
/// its controls (the last one already moving to the old tail), diff and extra blocks, xz'd.
struct JarHead {
    controls: Vec<Control>,
    controls_xz: Arc<XzBlocks>,
    diff_len: usize,
    diff_xz: Arc<XzBlocks>,
    extra_len: usize,
    extra_xz: Arc<XzBlocks>,
}

type Shared<T> = std::result::Result<Arc<T>, String>;

/// What every locale's partials share: the memoized diffs and xz'd files.
struct PartialPieces {
    channel: Option<String>,
    /// Whole files (x86 BCJ where the platform wants it).
    file_options: XzOptions,
    /// Patches (never BCJ).
    patch_options: XzOptions,
    from: Vec<FromDir>,
    /// Fixed member → SHA-256 of its bytes.
    fixed_sha: HashMap<usize, Sha>,
    /// SHA-256 of an old member's xz bytes → SHA-256 of its content.
    old_sha: Memo<Sha, std::result::Result<Sha, String>>,
    /// (old SHA-256, new SHA-256) → the xz'd patch.
    diffs: Memo<(Sha, Sha), Shared<XzPatch>>,
    /// Fixed member → its whole bytes, xz'd.
    whole: Memo<usize, Shared<XzBlocks>>,
    /// (jar, SHA-256 of the old prefix, its length) → the shared head of the jar patch.
    heads: Memo<(usize, Sha, usize), Shared<JarHead>>,
    /// Per jar: its shared prefix and directory, xz'd (for whole-jar adds and sizes).
    jar_xz: Vec<OnceLock<Shared<(XzBlocks, XzBlocks)>>>,
}

impl PartialPieces {
    fn new(build: &Build<'_>) -> PartialPieces {
        let settings = build.settings;
        let fixed_sha = build
            .fixed
            .par_iter()
            .filter_map(|&m| Some((m, sha256(&[build.staged.members[m].data()?]))))
            .collect();
        PartialPieces {
            channel: settings.mar_channel_id.clone(),
            file_options: XzOptions::mar(settings.platform.x86_bcj()),
            patch_options: XzOptions::mar(false),
            from: settings.partial_from.clone(),
            fixed_sha,
            old_sha: Memo::new(),
            diffs: Memo::new(),
            whole: Memo::new(),
            heads: Memo::new(),
            jar_xz: build.jars.iter().map(|_| OnceLock::new()).collect(),
        }
    }

    /// Diffs, once, what every locale shares: for each from-version, the first locale's
    /// from-build against the new build's fixed files and jar prefixes.
    fn prefill(&self, build: &Build<'_>) -> Result<()> {
        if self.from.is_empty() {
            return Ok(());
        }
        let files = fixed_files(build);
        for from in &self.from {
            let Some((code, path)) = from.builds.iter().next() else {
                continue;
            };
            let old = FromBuild::read(path)?;
            // The largest first, so that libxul does not start last.
            let mut tasks: Vec<(&str, usize)> = files
                .iter()
                .filter(|(rel, _)| old.members.contains_key(**rel) && !whole_always(rel))
                .map(|(rel, &m)| (*rel, m))
                .collect();
            tasks.sort_by_key(|&(rel, m)| {
                std::cmp::Reverse((
                    build.staged.members[m].data().map_or(0, <[u8]>::len),
                    rel.to_owned(),
                ))
            });
            let (diffed, heads) = rayon::join(
                || {
                    tasks.par_iter().try_for_each(|&(rel, m)| {
                        self.member_action(build, &old, rel, m).map(|_| ())
                    })
                },
                || {
                    (0..build.jars.len()).into_par_iter().try_for_each(|j| {
                        let rel = jar_rel(build, j);
                        match old.members.get(&rel) {
                            Some(member) => {
                                let data = member.data(&old.path, &rel)?;
                                self.jar_head(build, j, &data, code).map(|_| ())
                            }
                            None => Ok(()),
                        }
                    })
                },
            );
            diffed?;
            heads?;
        }
        // The whole jars' shared parts, for the size comparison of every jar patch.
        (0..build.jars.len())
            .into_par_iter()
            .try_for_each(|j| self.jar_xz(build, j).map(|_| ()))
            .map_err(|reason| Error::Write {
                what: "the partial MAR".into(),
                source: packagers::Error::Xz { reason },
            })
    }

    /// Reads what [`Prepared::save`] wrote.
    fn load(&self, build: &Build<'_>, input: &mut PieceReader<'_>) -> packagers::Result<()> {
        let sha = |input: &mut PieceReader<'_>| -> packagers::Result<Sha> {
            input
                .bytes()?
                .try_into()
                .map_err(|_| inconsistent("a SHA-256"))
        };
        let index = |n: u64, len: usize, what: &str| {
            usize::try_from(n)
                .ok()
                .filter(|&i| i < len)
                .ok_or_else(|| inconsistent(what))
        };
        for _ in 0..input.len()? {
            let key = sha(input)?;
            self.old_sha.insert(key, Ok(sha(input)?));
        }
        for _ in 0..input.len()? {
            let (old, new) = (sha(input)?, sha(input)?);
            let pieces: Vec<XzBlocks> = input.list()?;
            let pieces = pieces.into_iter().map(Arc::new).collect();
            self.diffs
                .insert((old, new), Ok(Arc::new(XzPatch { pieces })));
        }
        for _ in 0..input.len()? {
            let m = index(input.u64()?, build.staged.members.len(), "a member")?;
            if !self.fixed_sha.contains_key(&m) {
                return Err(inconsistent("a member no locale shares"));
            }
            self.whole.insert(m, Ok(Arc::new(input.piece()?)));
        }
        for _ in 0..input.len()? {
            let j = index(input.u64()?, build.jars.len(), "a jar")?;
            let key = (j, sha(input)?, input.u64()? as usize);
            let bytes = input.bytes()?;
            if !bytes.len().is_multiple_of(mbdiff::CONTROL_LEN) {
                return Err(inconsistent("a control block"));
            }
            let controls = bytes
                .chunks_exact(mbdiff::CONTROL_LEN)
                .map(|c| Control {
                    add: u32::from_be_bytes([c[0], c[1], c[2], c[3]]),
                    copy: u32::from_be_bytes([c[4], c[5], c[6], c[7]]),
                    seek: i32::from_be_bytes([c[8], c[9], c[10], c[11]]),
                })
                .collect();
            let head = JarHead {
                controls,
                controls_xz: Arc::new(input.piece()?),
                diff_len: input.u64()? as usize,
                diff_xz: Arc::new(input.piece()?),
                extra_len: input.u64()? as usize,
                extra_xz: Arc::new(input.piece()?),
            };
            self.heads.insert(key, Ok(Arc::new(head)));
        }
        for jar in &self.jar_xz {
            let (prefix, directory): (Option<XzBlocks>, Option<XzBlocks>) =
                (input.option()?, input.option()?);
            if let (Some(p), Some(d)) = (prefix, directory) {
                let _ = jar.set(Ok(Arc::new((p, d))));
            }
        }
        Ok(())
    }

    /// The SHA-256 of an old member's bytes, decompressing it only the first time its xz
    /// bytes are seen.
    fn old_sha(&self, old: &FromBuild, rel: &str, member: &FromMember) -> Result<Sha> {
        old_sha(&self.old_sha, old, rel, member)
    }

    /// What a fixed member of the new build needs against the old build's `rel`.
    fn member_action(
        &self,
        build: &Build<'_>,
        old: &FromBuild,
        rel: &str,
        m: usize,
    ) -> Result<Option<Content>> {
        let member = &old.members[rel];
        let new_sha = self.fixed_sha[&m];
        let old_sha = self.old_sha(old, rel, member)?;
        if old_sha == new_sha {
            return Ok(None);
        }
        let new = build.staged.members[m].data().unwrap_or_default();
        let patch = self
            .diffs
            .get(&(old_sha, new_sha), || {
                let old_data = member
                    .data(&old.path, rel)
                    .map_err(|e| crate::error::chain(&e))?;
                self.patch_whole(&old_data, new)
            })
            .map_err(|reason| diff_error(old, rel, reason))?;
        let whole = self
            .whole_member(build, m)
            .map_err(|reason| diff_error(old, rel, reason))?;
        Ok(Some(smaller(patch, vec![whole])))
    }

    /// A fixed member's whole bytes, xz'd once for every locale.
    fn whole_member(&self, build: &Build<'_>, m: usize) -> Shared<XzBlocks> {
        self.whole.get(&m, || {
            let data = build.staged.members[m].data().unwrap_or_default();
            encode_xz(&[data], MAR_BLOCK, self.file_options)
                .map(|mut v| Arc::new(v.remove(0)))
                .map_err(|e| e.to_string())
        })
    }

    /// The xz'd patch of `old → new`, diffed whole.
    fn patch_whole(&self, old: &[u8], new: &[u8]) -> Shared<XzPatch> {
        patch_whole(old, new, self.patch_options)
    }

    /// The shared head of jar `j`'s patch from `old`, when `old` has this tool's layout:
    /// (its split point, the head). `code` is the from-build's locale, whose tail entries
    /// carry it.
    fn jar_head(
        &self,
        build: &Build<'_>,
        j: usize,
        old: &[u8],
        code: &str,
    ) -> Result<Option<(usize, Arc<JarHead>)>> {
        let Some(split) = jar_split(build, j, old, code) else {
            return Ok(None);
        };
        let key = (j, sha256(&[&old[..split]]), split);
        let shared = &build.jars[j];
        let head = self
            .heads
            .get(&key, || {
                head_patch(&old[..split], &shared.prefix, self.patch_options)
            })
            .map_err(|reason| Error::Write {
                what: format!("the partial MAR's patch of {}", jar_rel(build, j)),
                source: packagers::Error::MbDiff { reason },
            })?;
        Ok(Some((split, head)))
    }

    /// Jar `j`'s shared prefix and directory, xz'd.
    fn jar_xz(&self, build: &Build<'_>, j: usize) -> Shared<(XzBlocks, XzBlocks)> {
        self.jar_xz[j]
            .get_or_init(|| {
                let shared: &SharedJar = &build.jars[j];
                let mut xz = encode_xz(
                    &[&shared.prefix, &shared.directory],
                    MAR_BLOCK,
                    self.file_options,
                )
                .map_err(|e| e.to_string())?
                .into_iter();
                match (xz.next(), xz.next()) {
                    (Some(p), Some(d)) => Ok(Arc::new((p, d))),
                    _ => Err("the xz encoder returned too few pieces".into()),
                }
            })
            .clone()
    }

    /// The partial MAR of `locale` from `old`.
    fn write_mar(
        &self,
        build: &Build<'_>,
        locale: &Locale<'_>,
        old: &FromBuild,
    ) -> Result<Vec<u8>> {
        let files = LocaleFiles {
            pieces: self,
            build,
            locale,
            files: update_files(build, locale.package),
        };
        let info = ProductInfo {
            channel: self.channel.clone().unwrap_or_default(),
            version: build.staged.app.version.clone(),
        };
        assemble(&files, old, &info, self.file_options)
    }

    /// The SHA-256 of every file of the locale's new build, by update path.
    fn result(&self, build: &Build<'_>, locale: &Locale<'_>) -> BTreeMap<String, String> {
        update_files(build, locale.package)
            .into_iter()
            .map(|(rel, item)| {
                let sha = match item {
                    Item::Member(m) if self.fixed_sha.contains_key(m) => self.fixed_sha[m],
                    Item::Jar { jar, locale, .. } => sha256(&locale.parts(&build.jars[*jar])),
                    _ => sha256(&[&item_bytes(build, item)]),
                };
                (rel.to_owned(), crate::output::hex(&sha))
            })
            .collect()
    }

    /// A jar's patch: the shared head and the locale's own tail when the from-jar has this
    /// tool's layout, else a whole-file diff; or the whole jar when that is smaller.
    #[allow(clippy::too_many_arguments)]
    fn jar_action(
        &self,
        build: &Build<'_>,
        j: usize,
        tail: &crate::jar::LocaleJar,
        old: &[u8],
        code: &str,
        from: &FromBuild,
        rel: &str,
    ) -> Result<Option<Content>> {
        let shared = &build.jars[j];
        let parts = tail.parts(shared);
        if old.len() as u64 == tail.len(shared) {
            let mut rest = old;
            let same = parts.iter().all(|part| {
                let (head, next) = rest.split_at(part.len());
                rest = next;
                head == *part
            });
            if same {
                return Ok(None);
            }
        }
        let wrap = write_error("the partial MAR");
        let patch = match self.jar_head(build, j, old, code)? {
            Some((split, head)) => {
                let new_tail = [&tail.tail[..], &shared.directory, &tail.directory_tail].concat();
                Arc::new(
                    joined_patch(
                        &head,
                        old,
                        split,
                        shared.prefix.len(),
                        &new_tail,
                        self.patch_options,
                    )
                    .map_err(&wrap)?,
                )
            }
            None => {
                let new = parts.concat();
                self.patch_whole(old, &new)
                    .map_err(|reason| diff_error(from, rel, reason))?
            }
        };
        let shared_xz = self
            .jar_xz(build, j)
            .map_err(|reason| diff_error(from, rel, reason))?;
        let (prefix_xz, directory_xz) = (&shared_xz.0, &shared_xz.1);
        // The whole jar is at least its shared pieces: compress the locale's own only when the
        // patch is not already smaller than those.
        let bound = stream_len(&[prefix_xz, directory_xz]);
        if patch.stream_len() < bound {
            return Ok(Some(Content::Patch(patch)));
        }
        let own_tail = Arc::new(XzBlocks::encode(&tail.tail, self.file_options).map_err(&wrap)?);
        let own_directory =
            Arc::new(XzBlocks::encode(&tail.directory_tail, self.file_options).map_err(&wrap)?);
        let whole = vec![
            Arc::new(prefix_xz.clone()),
            own_tail,
            Arc::new(directory_xz.clone()),
            own_directory,
        ];
        Ok(Some(smaller(patch, whole)))
    }

    /// An item's whole bytes, xz'd.
    fn whole_item(&self, build: &Build<'_>, item: &Item) -> Result<Content> {
        let wrap = write_error("the partial MAR");
        // A fixed member has bytes (`fixed_sha` holds only those).
        if let Item::Member(m) = item
            && self.fixed_sha.contains_key(m)
        {
            let whole = self
                .whole_member(build, *m)
                .map_err(|reason| Error::Write {
                    what: "the partial MAR".into(),
                    source: packagers::Error::Xz { reason },
                })?;
            return Ok(Content::Whole(vec![whole]));
        }
        let bytes = item_bytes(build, item);
        let xz = encode_xz(&[&bytes], MAR_BLOCK, self.file_options).map_err(&wrap)?;
        Ok(Content::Whole(xz.into_iter().map(Arc::new).collect()))
    }
}

impl Prepared for PartialPieces {
    /// The memos, content-addressed: what a chunk task finds here it never diffs again,
    /// and an entry for other bytes is simply never asked for.
    fn save(&self, out: &mut PieceWriter) {
        let old_sha: Vec<(Sha, Sha)> = self.old_sha.succeeded();
        out.len(old_sha.len());
        for (key, sha) in old_sha {
            out.bytes(&key);
            out.bytes(&sha);
        }
        let diffs: Vec<((Sha, Sha), Arc<XzPatch>)> = self.diffs.succeeded();
        out.len(diffs.len());
        for ((old, new), patch) in diffs {
            out.bytes(&old);
            out.bytes(&new);
            out.list(patch.pieces.iter().map(|p| p.as_ref()));
        }
        let whole: Vec<(usize, Arc<XzBlocks>)> = self.whole.succeeded();
        out.len(whole.len());
        for (m, piece) in whole {
            out.u64(m as u64);
            out.piece(piece.as_ref());
        }
        let heads: Vec<((usize, Sha, usize), Arc<JarHead>)> = self.heads.succeeded();
        out.len(heads.len());
        for ((j, sha, split), head) in heads {
            out.u64(j as u64);
            out.bytes(&sha);
            out.u64(split as u64);
            out.bytes(&mbdiff::encode_controls(&head.controls));
            out.piece(head.controls_xz.as_ref());
            out.u64(head.diff_len as u64);
            out.piece(head.diff_xz.as_ref());
            out.u64(head.extra_len as u64);
            out.piece(head.extra_xz.as_ref());
        }
        for jar in &self.jar_xz {
            let pair = jar.get().and_then(|r| r.as_ref().ok());
            out.option(pair.map(|p| &p.0));
            out.option(pair.map(|p| &p.1));
        }
    }

    fn shared_bytes(&self) -> u64 {
        let diffs: u64 = self
            .diffs
            .succeeded()
            .iter()
            .map(|(_, patch)| patch.pieces.iter().map(|p| p.compressed_len()).sum::<u64>())
            .sum();
        let heads: u64 = self
            .heads
            .succeeded()
            .iter()
            .map(|(_, h)| {
                h.controls_xz.compressed_len()
                    + h.diff_xz.compressed_len()
                    + h.extra_xz.compressed_len()
            })
            .sum();
        let whole: u64 = self
            .whole
            .succeeded()
            .iter()
            .map(|(_, p)| p.compressed_len())
            .sum();
        diffs + heads + whole
    }

    fn write_locale(&self, _locale: &Locale<'_>, _target: Target<'_>) -> Result<super::Written> {
        Err(Error::Usage(
            "the partial MAR has one output per --partial-from, not one per locale".into(),
        ))
    }

    fn write_outputs(
        &self,
        locale: &Locale<'_>,
        dir: &std::path::Path,
        _name: &str,
    ) -> Result<Vec<Output>> {
        let build = locale.build;
        let mut outputs = Vec::new();
        let mut result = None;
        for from in &self.from {
            let Some(path) = from.builds.get(locale.code) else {
                outputs.push(Output::Finding(Finding {
                    kind: FindingKind::NoFromBuild,
                    file: from.dir.display().to_string(),
                    key: None,
                    line: None,
                    strings: None,
                    detail: format!(
                        "no complete MAR of {} for {} in {}: no partial update from {}",
                        from.version,
                        locale.code,
                        from.dir.display(),
                        from.version
                    ),
                }));
                continue;
            };
            let old = FromBuild::read(path)?;
            let mar = self.write_mar(build, locale, &old)?;
            let result = result
                .get_or_insert_with(|| self.result(build, locale))
                .clone();
            let names = Names {
                from: Some(&from.version),
                ..locale.names
            };
            let name = Partial.name(&names);
            let written = write_file(Target { dir, name: &name }, |out| {
                out.write_all(&mar)
                    .map_err(|e| write_error("the partial MAR")(packagers::Error::Io(e)))
            })?;
            outputs.push(Output::Written {
                name,
                written,
                from: Some(super::FromFile {
                    version: from.version.clone(),
                    path: old.path.clone(),
                    sha256: old.sha256.clone(),
                    result,
                }),
            });
        }
        Ok(outputs)
    }
}

/// What a partial needs to know of the new build, whatever its form: a locale of this run
/// ([`LocaleFiles`]) or a package back from signing ([`signed`]).
trait NewFiles {
    /// Every file's update path, in byte order.
    fn paths(&self) -> Vec<&str>;
    /// Whether the new build has `rel`.
    fn contains(&self, rel: &str) -> bool;
    /// The file's mode.
    fn mode(&self, rel: &str) -> u32;
    /// The whole file, xz'd as a complete MAR's member.
    fn whole(&self, rel: &str) -> Result<Content>;
    /// The patch (or the whole file, when smaller) from the old build's `rel`; `None` when the
    /// bytes did not change.
    fn changed(&self, rel: &str, old: &FromBuild, member: &FromMember) -> Result<Option<Content>>;
    /// The new build's `removed-files`, if it has one.
    fn removed_files(&self) -> Option<String>;
}

/// The partial MAR that updates `old` to `new`: the manifest of `make_incremental_update.sh`
/// (module documentation) and its members.
fn assemble(
    new: &dyn NewFiles,
    old: &FromBuild,
    info: &ProductInfo,
    manifest_options: XzOptions,
) -> Result<Vec<u8>> {
    let mut manifest = vec!["type \"partial\"".to_owned()];
    let mut members: Vec<(String, u32, Content)> = Vec::new();
    let mut removes = Vec::new();
    for (rel, member) in old.members.iter().rev() {
        if !new.contains(rel) {
            removes.push(rel.as_str());
            continue;
        }
        update::check_name(update::MANIFEST, rel)?;
        let mode = new.mode(rel);
        if update::is_add_if_not(rel) {
            manifest.push(format!("add-if-not \"{rel}\" \"{rel}\""));
            members.push((rel.clone(), mode, new.whole(rel)?));
            continue;
        }
        if whole_always(rel) {
            manifest.push(add_instruction(rel));
            members.push((rel.clone(), mode, new.whole(rel)?));
            continue;
        }
        match new.changed(rel, old, member)? {
            None => {}
            Some(Content::Patch(patch)) => {
                manifest.push(patch_instruction(rel));
                members.push((format!("{rel}.patch"), 0o644, Content::Patch(patch)));
            }
            Some(whole) => {
                manifest.push(add_instruction(rel));
                members.push((rel.clone(), mode, whole));
            }
        }
    }
    let paths = new.paths();
    for rel in paths.iter().rev() {
        if old.members.contains_key(*rel) {
            continue;
        }
        update::check_name(update::MANIFEST, rel)?;
        manifest.push(if update::is_add_if_not(rel) {
            format!("add-if-not \"{rel}\" \"{rel}\"")
        } else {
            add_instruction(rel)
        });
        members.push(((*rel).to_owned(), new.mode(rel), new.whole(rel)?));
    }
    for rel in removes {
        update::check_name(update::MANIFEST, rel)?;
        manifest.push(format!("remove \"{rel}\""));
    }
    if let Some(text) = new.removed_files() {
        manifest.extend(update::removed_files_instructions(&text)?);
    }
    let new_dirs = dirs(paths.iter().copied());
    let old_dirs = dirs(old.members.keys().map(String::as_str));
    for dir in old_dirs.iter().rev() {
        if !new_dirs.contains(dir) {
            update::check_name(update::MANIFEST, dir)?;
            manifest.push(format!("rmdir \"{dir}/\""));
        }
    }
    // The top-level firefox.exe is replaced last.
    let (last, mut manifest): (Vec<String>, Vec<String>) = manifest
        .into_iter()
        .partition(|line| line.ends_with("\"firefox.exe\""));
    manifest.extend(last);
    let mut text = manifest.join("\n");
    text.push('\n');

    let wrap = write_error("the partial MAR");
    let mut writer = MarWriter::new(std::io::Cursor::new(Vec::new()), info).map_err(&wrap)?;
    let manifest_xz = XzBlocks::encode(text.as_bytes(), manifest_options).map_err(&wrap)?;
    writer
        .append_with(update::MANIFEST, 0o644, |w| write_xz(w, &[&manifest_xz]))
        .map_err(&wrap)?;
    for (name, mode, content) in &members {
        let pieces = content.pieces();
        writer
            .append_with(name, mode & 0o777, |w| write_xz(w, &pieces))
            .map_err(&wrap)?;
    }
    Ok(writer.finish().map_err(&wrap)?.into_inner())
}

/// A locale of this run as the new build of its partials.
struct LocaleFiles<'a, 'b> {
    pieces: &'a PartialPieces,
    build: &'a Build<'b>,
    locale: &'a Locale<'b>,
    files: BTreeMap<&'a str, &'a Item>,
}

impl NewFiles for LocaleFiles<'_, '_> {
    fn paths(&self) -> Vec<&str> {
        self.files.keys().copied().collect()
    }

    fn contains(&self, rel: &str) -> bool {
        self.files.contains_key(rel)
    }

    fn mode(&self, rel: &str) -> u32 {
        self.files
            .get(rel)
            .map_or(0o644, |item| item_mode(self.build, item))
    }

    fn whole(&self, rel: &str) -> Result<Content> {
        match self.files.get(rel) {
            Some(item) => self.pieces.whole_item(self.build, item),
            None => Ok(Content::Whole(Vec::new())),
        }
    }

    fn changed(&self, rel: &str, old: &FromBuild, member: &FromMember) -> Result<Option<Content>> {
        let (build, pieces) = (self.build, self.pieces);
        let Some(item) = self.files.get(rel) else {
            return Ok(None);
        };
        match item {
            Item::Member(m) if pieces.fixed_sha.contains_key(m) => {
                pieces.member_action(build, old, rel, *m)
            }
            Item::Jar {
                jar, locale: tail, ..
            } => {
                let old_data = member.data(&old.path, rel)?;
                pieces.jar_action(build, *jar, tail, &old_data, self.locale.code, old, rel)
            }
            _ => {
                let new = item_bytes(build, item);
                let old_data = member.data(&old.path, rel)?;
                if old_data[..] == new[..] {
                    return Ok(None);
                }
                let patch = pieces
                    .patch_whole(&old_data, &new)
                    .map_err(|reason| diff_error(old, rel, reason))?;
                let whole = Arc::new(
                    XzBlocks::encode(&new, pieces.file_options)
                        .map_err(write_error("the partial MAR"))?,
                );
                Ok(Some(smaller(patch, vec![whole])))
            }
        }
    }

    fn removed_files(&self) -> Option<String> {
        let item = self.files.get("removed-files")?;
        Some(String::from_utf8_lossy(&item_bytes(self.build, item)).into_owned())
    }
}

/// A member's content: a patch or the whole file, as xz pieces.
#[derive(Clone)]
enum Content {
    Patch(Arc<XzPatch>),
    Whole(Vec<Arc<XzBlocks>>),
}

impl Content {
    fn pieces(&self) -> Vec<&XzBlocks> {
        match self {
            Content::Patch(patch) => patch.pieces.iter().map(|p| p.as_ref()).collect(),
            Content::Whole(pieces) => pieces.iter().map(|p| p.as_ref()).collect(),
        }
    }
}

/// The SHA-256 of an old member's bytes through `memo` (keyed by the SHA-256 of its stored
/// bytes), decompressing it only the first time those are seen.
fn old_sha(
    memo: &Memo<Sha, std::result::Result<Sha, String>>,
    old: &FromBuild,
    rel: &str,
    member: &FromMember,
) -> Result<Sha> {
    let key = sha256(&[member.stored()]);
    memo.get(&key, || {
        member
            .data(&old.path, rel)
            .map(|d| sha256(&[&d]))
            .map_err(|e| crate::error::chain(&e))
    })
    .map_err(|reason| Error::FromBuild {
        path: old.path.clone(),
        reason,
    })
}

/// The xz'd patch of `old → new`, diffed whole.
fn patch_whole(old: &[u8], new: &[u8], options: XzOptions) -> Shared<XzPatch> {
    let patch = mbdiff::diff(old, new).map_err(|e| e.to_string())?;
    let bytes = patch.to_bytes(old).map_err(|e| e.to_string())?;
    let xz = encode_xz(&[&bytes], MAR_BLOCK, options)
        .map_err(|e| e.to_string())?
        .remove(0);
    Ok(Arc::new(XzPatch {
        pieces: vec![Arc::new(xz)],
    }))
}

/// The head of a split patch: `old_prefix → new_prefix`, its last seek moved to the end of
/// `old_prefix` (where the tail's patch starts), xz'd in pieces.
fn head_patch(old_prefix: &[u8], new_prefix: &[u8], options: XzOptions) -> Shared<JarHead> {
    let patch = mbdiff::diff(old_prefix, new_prefix).map_err(|e| e.to_string())?;
    let controls = mbdiff::join_controls(&patch.controls, old_prefix.len() as u64, &[])
        .map_err(|e| e.to_string())?;
    let parts = [
        mbdiff::encode_controls(&controls),
        patch.diff.clone(),
        patch.extra.clone(),
    ];
    let inputs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
    let mut xz = encode_xz(&inputs, MAR_BLOCK, options)
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(Arc::new);
    let (Some(controls_xz), Some(diff_xz), Some(extra_xz)) = (xz.next(), xz.next(), xz.next())
    else {
        return Err("the xz encoder returned too few pieces".into());
    };
    Ok(Arc::new(JarHead {
        controls,
        controls_xz,
        diff_len: patch.diff.len(),
        diff_xz,
        extra_len: patch.extra.len(),
        extra_xz,
    }))
}

/// The patch of `old → new prefix ‖ new_tail`: the shared `head` (of `old[..split]` to a
/// prefix of `new_prefix_len` bytes) joined with the diff of `old[split..] → new_tail`.
fn joined_patch(
    head: &JarHead,
    old: &[u8],
    split: usize,
    new_prefix_len: usize,
    new_tail: &[u8],
    options: XzOptions,
) -> packagers::Result<XzPatch> {
    let own = mbdiff::diff(&old[split..], new_tail)?;
    let controls = [&head.controls[..], &own.controls].concat();
    let new_len = (new_prefix_len + new_tail.len()) as u64;
    let header = Header::new(
        old,
        new_len,
        &controls,
        head.diff_len + own.diff.len(),
        head.extra_len + own.extra.len(),
    )?;
    let own_parts = [
        header.to_bytes().to_vec(),
        mbdiff::encode_controls(&own.controls),
        own.diff,
        own.extra,
    ];
    let mut xz = Vec::with_capacity(own_parts.len());
    for part in &own_parts {
        xz.push(Arc::new(XzBlocks::encode(part, options)?));
    }
    let [header_xz, controls_xz, diff_xz, extra_xz]: [Arc<XzBlocks>; 4] = xz
        .try_into()
        .unwrap_or_else(|_| unreachable!("four parts, four pieces"));
    Ok(XzPatch {
        pieces: vec![
            header_xz,
            head.controls_xz.clone(),
            controls_xz,
            head.diff_xz.clone(),
            diff_xz,
            head.extra_xz.clone(),
            extra_xz,
        ],
    })
}

/// The patch, unless the whole file xz'd is no larger (`make_incremental_update.sh` keeps
/// the patch only when it is strictly smaller).
fn smaller(patch: Arc<XzPatch>, whole: Vec<Arc<XzBlocks>>) -> Content {
    let whole_len = stream_len(&whole.iter().map(|p| p.as_ref()).collect::<Vec<_>>());
    if patch.stream_len() < whole_len {
        Content::Patch(patch)
    } else {
        Content::Whole(whole)
    }
}

/// Files shipped whole in every partial (`check_for_forced_update` and the default
/// `requested_forced_updates`).
fn whole_always(rel: &str) -> bool {
    matches!(
        rel,
        "precomplete"
            | "Contents/Resources/precomplete"
            | "removed-files"
            | "Contents/Resources/removed-files"
            | "Contents/CodeResources"
            | "Contents/MacOS/firefox"
    ) || rel.ends_with(".chk")
}

fn add_instruction(rel: &str) -> String {
    match update::extension_dir(rel) {
        Some(dir) => format!("add-if \"{dir}\" \"{rel}\""),
        None => format!("add \"{rel}\""),
    }
}

fn patch_instruction(rel: &str) -> String {
    match update::extension_dir(rel) {
        Some(dir) => format!("patch-if \"{dir}\" \"{rel}.patch\" \"{rel}\""),
        None => format!("patch \"{rel}.patch\" \"{rel}\""),
    }
}

/// Every directory holding one of `files`.
fn dirs<'a>(files: impl Iterator<Item = &'a str>) -> BTreeSet<&'a str> {
    let mut out = BTreeSet::new();
    for file in files {
        let mut path = file;
        while let Some((dir, _)) = path.rsplit_once('/') {
            if !out.insert(dir) {
                break;
            }
            path = dir;
        }
    }
    out
}

/// The new build's fixed members by update path.
fn fixed_files<'b>(build: &'b Build<'_>) -> BTreeMap<&'b str, usize> {
    let app = build.staged.update_prefix();
    build
        .fixed
        .iter()
        .filter(|&&m| build.staged.members[m].data().is_some())
        .filter_map(|&m| Some((build.staged.members[m].path.strip_prefix(&app)?, m)))
        .collect()
}

/// Jar `j`'s update path.
fn jar_rel(build: &Build<'_>, j: usize) -> String {
    let app = build.staged.update_prefix();
    let path = &build.staged.members[build.staged.jars[j].member].path;
    path.strip_prefix(&app).unwrap_or(path).to_owned()
}

/// Where the locale's tail starts in an old jar of this tool's layout: at the longest run of
/// entries, up to the central directory, that the locale owns (names the new build's layout
/// lets locales change, names carrying the locale's code as a path segment or a dotted part
/// such as `chrome.fr.manifest`, and the files a repack adds: `default.locale`,
/// `res/multilocale.txt`). `None` when there is no such run or nothing before it (another
/// layout: the jar is diffed whole).
fn jar_split(build: &Build<'_>, j: usize, old: &[u8], code: &str) -> Option<usize> {
    let mut entries = packagers::jar::read_entries(old).ok()?;
    entries.sort_by_key(|e| e.data.start);
    let staged = &build.staged.jars[j];
    let touched: BTreeSet<&str> = staged
        .entries
        .iter()
        .zip(&build.layout.jars[j].touched)
        .filter(|(_, t)| **t)
        .map(|(e, _)| e.name.as_str())
        .collect();
    let owned = |name: &str| {
        name.starts_with("META-INF/")
            || touched.contains(name)
            || matches!(
                name,
                "default.locale" | "res/multilocale.txt" | "update.locale"
            )
            || name
                .split('/')
                .any(|part| part == code || part.split('.').any(|p| p == code))
    };
    let tail = entries.iter().rev().take_while(|e| owned(&e.name)).count();
    let first = entries
        .len()
        .checked_sub(tail)
        .filter(|&f| f > 0 && tail > 0)?;
    Some(entries[first - 1].data.end)
}

fn item_mode(build: &Build<'_>, item: &Item) -> u32 {
    match item {
        Item::Member(m) | Item::Jar { member: m, .. } => build.staged.members[*m].mode,
        Item::File { mode, .. } => *mode,
        Item::Dir { .. } => 0o755,
    }
}

fn item_bytes<'b>(build: &'b Build<'_>, item: &'b Item) -> std::borrow::Cow<'b, [u8]> {
    match item {
        Item::Member(m) => build.staged.members[*m].data().unwrap_or_default().into(),
        Item::Jar { jar, locale, .. } => locale.parts(&build.jars[*jar]).concat().into(),
        Item::File { data, .. } => data.as_slice().into(),
        Item::Dir { .. } => (&[][..]).into(),
    }
}

fn diff_error(old: &FromBuild, rel: &str, reason: String) -> Error {
    Error::Write {
        what: format!(
            "the partial MAR's patch of {rel} (from {})",
            old.path.display()
        ),
        source: packagers::Error::MbDiff { reason },
    }
}

/// A partial MAR: readable, `type "partial"`, every patch member an MBDIFF10 patch, a
/// product information block. (`verify` applies it to its from-build on top of this.)
fn check_partial(data: &[u8]) -> Vec<String> {
    use std::io::Read;
    let mut reader = match packagers::mar::MarReader::new(std::io::Cursor::new(data)) {
        Ok(reader) => reader,
        Err(e) => return vec![format!("not a readable MAR: {e}")],
    };
    let mut problems = Vec::new();
    if reader.product_info().is_none() {
        problems.push("no product information block".into());
    }
    let entries = reader.entries().to_vec();
    for entry in &entries {
        let mut out = Vec::new();
        let ok = reader.read(entry).ok().is_some_and(|raw| {
            liblzma::read::XzDecoder::new(&raw[..])
                .read_to_end(&mut out)
                .is_ok()
        });
        if !ok {
            problems.push(format!("member {} is not one xz stream", entry.name));
        } else if entry.name == update::MANIFEST && !out.starts_with(b"type \"partial\"\n") {
            problems.push(format!(
                "{} does not start with type \"partial\"",
                entry.name
            ));
        } else if entry.name.ends_with(".patch") && mbdiff::Header::parse(&out).is_err() {
            problems.push(format!("member {} is not an MBDIFF10 patch", entry.name));
        }
    }
    if entries.first().map(|e| e.name.as_str()) != Some(update::MANIFEST) {
        problems.push(format!("the first member is not {}", update::MANIFEST));
    }
    problems
}

/// What `verify` finds wrong in a partial beyond its structure: applied in memory to its
/// from-build (the complete MAR at `from.path`, which must still have `from.sha256`), as the
/// updater applies it, it must give exactly the files of `from.result`.
pub(crate) fn check_applies(data: &[u8], from: &super::FromFile) -> Vec<String> {
    let old = match FromBuild::read(&from.path) {
        Ok(old) if old.sha256 == from.sha256 => old,
        Ok(_) => {
            return vec![format!(
                "its from-build {} has changed since the run (SHA-256 differs)",
                from.path.display()
            )];
        }
        Err(e) => {
            return vec![format!(
                "its from-build cannot be read: {}",
                crate::error::chain(&e)
            )];
        }
    };
    let applied = match apply(&old, data) {
        Ok(files) => files,
        Err(problem) => {
            return vec![format!(
                "does not apply to {}: {problem}",
                from.path.display()
            )];
        }
    };
    let mut problems = Vec::new();
    for (rel, want) in &from.result {
        match applied.get(rel) {
            Some(data) if crate::output::hex(&sha256(&[data])) == *want => {}
            Some(_) => problems.push(format!("applied, {rel} differs from the new build's")),
            None => problems.push(format!("applied, {rel} is missing")),
        }
    }
    for rel in applied.keys().filter(|rel| !from.result.contains_key(*rel)) {
        problems.push(format!(
            "applied, {rel} is left over (the new build has no such file)"
        ));
    }
    problems
}

/// The installation `partial` leaves when applied to `old`, as the updater applies it:
/// every condition is tested against the installation before the update.
fn apply(
    old: &FromBuild,
    partial: &[u8],
) -> std::result::Result<BTreeMap<String, Vec<u8>>, String> {
    use std::io::Read;
    let mut reader =
        packagers::mar::MarReader::new(std::io::Cursor::new(partial)).map_err(|e| e.to_string())?;
    let mut members: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for entry in reader.entries().to_vec() {
        let raw = reader.read(&entry).map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        liblzma::read::XzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .map_err(|e| format!("member {}: {e}", entry.name))?;
        members.insert(entry.name, out);
    }
    let mut files = BTreeMap::new();
    for (rel, member) in &old.members {
        files.insert(
            rel.clone(),
            member
                .data(&old.path, rel)
                .map_err(|e| crate::error::chain(&e))?
                .into_owned(),
        );
    }
    let before: BTreeSet<String> = files.keys().cloned().collect();
    let exists = |path: &str| {
        before.contains(path) || before.iter().any(|f| f.starts_with(&format!("{path}/")))
    };
    let manifest = members
        .get(update::MANIFEST)
        .ok_or_else(|| format!("no {}", update::MANIFEST))?;
    let text = String::from_utf8_lossy(manifest);
    let member = |name: &str| {
        members
            .get(name)
            .cloned()
            .ok_or_else(|| format!("no member {name}"))
    };
    // `f` patched in place by the member `p`.
    let patch = |files: &mut BTreeMap<String, Vec<u8>>, p: &str, f: &str| {
        let old = files
            .get(f)
            .ok_or_else(|| format!("patch of missing {f}"))?;
        let new = mbdiff::apply(old, &member(p)?).map_err(|e| format!("{f}: {e}"))?;
        files.insert(f.to_owned(), new);
        Ok::<(), String>(())
    };
    for line in text.lines().skip(1) {
        let (verb, rest) = line.split_once(' ').unwrap_or((line, ""));
        let args: Vec<&str> = rest.split('"').skip(1).step_by(2).collect();
        match (verb, args.as_slice()) {
            ("add", [f]) => {
                files.insert((*f).to_owned(), member(f)?);
            }
            ("add-if", [dir, f]) if exists(dir) => {
                files.insert((*f).to_owned(), member(f)?);
            }
            ("add-if-not", [test, f]) if !before.contains(*test) => {
                files.insert((*f).to_owned(), member(f)?);
            }
            ("patch", [p, f]) => patch(&mut files, p, f)?,
            ("patch-if", [dir, p, f]) if exists(dir) => patch(&mut files, p, f)?,
            ("remove", [f]) => {
                files.remove(*f);
            }
            ("rmrfdir", [dir]) => files.retain(|f, _| !f.starts_with(*dir)),
            ("add-if" | "add-if-not" | "patch-if" | "rmdir", _) => {}
            _ => return Err(format!("unknown instruction {line:?}")),
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories_of_files() {
        let got: Vec<&str> = dirs(["a/b/c", "a/d", "e"].into_iter())
            .into_iter()
            .collect();
        assert_eq!(got, ["a", "a/b"]);
    }

    #[test]
    fn whole_and_conditional_instructions() {
        assert!(whole_always("precomplete"));
        assert!(whole_always("Contents/Resources/removed-files"));
        assert!(whole_always("foo.chk"));
        assert!(!whole_always("libxul.so"));
        assert_eq!(
            patch_instruction("distribution/extensions/a@b/x.js"),
            "patch-if \"distribution/extensions/a@b\" \"distribution/extensions/a@b/x.js.patch\" \"distribution/extensions/a@b/x.js\""
        );
        assert_eq!(add_instruction("libxul.so"), "add \"libxul.so\"");
    }
}
