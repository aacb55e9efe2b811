//! Complete updates: `<name>.complete.mar`, as Mozilla's `make_full_update.sh` makes them
//! (mozilla-formats.md §1; `modules/libmar`): the MAR header, the members, the index and
//! the product information block ([`packagers::mar`]). Members are `updatev3.manifest`
//! first, then every file of the package in reverse path order, each one xz stream
//! (`xz --compress -7e`, with the x86 BCJ filter on x86 platforms).
//!
//! **Shared once.** Every file no locale touches is compressed once per batch into xz
//! blocks of at most `MAR_BLOCK` bytes, and so are each jar's shared prefix and
//! directory. A locale's member is one xz stream of those blocks and its own (its jar
//! tails, its own files), so a locale compresses only its own bytes.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use packagers::mar::{MarReader, MarWriter, ProductInfo};
use packagers::piece::{PieceReader, PieceWriter, inconsistent};
use packagers::xz::{XzBlocks, XzOptions};

use super::check::{check_jar, check_precomplete, check_swapped, check_update_manifest};
use super::{
    Build, ByteOption, Loaded, Locale, Names, Packager, Prepared, Settings, Target, Written,
    encode_xz, write_error, write_file, write_xz,
};
use crate::error::{Error, Result};
use crate::package::{self, Item, LocalePackage};
use crate::platform::{MAC_RESOURCES, Os};
use crate::stage::{MemberKind, parse_application_ini};
use crate::update;

/// Largest xz block of a shared MAR member. `xz -7e` uses an 8 MiB dictionary; 32 MiB
/// blocks cost about 0.4% in size (../shared/pieces.md) and let libxul's 184 MB, the
/// longest single job, run on several cores.
pub(crate) const MAR_BLOCK: usize = 32 << 20;

/// The complete MAR.
pub struct Mar;

impl Packager for Mar {
    fn id(&self) -> &'static str {
        "mar"
    }

    fn fits(&self, os: Os) -> bool {
        os != Os::Android
    }

    fn unfit_reason(&self, os: Os) -> Option<&'static str> {
        (os == Os::Android).then_some(
            "Android builds have no complete MAR (Fennec updated through its app store); give \
             apk and/or dir",
        )
    }

    fn name(&self, names: &Names<'_>) -> String {
        if names.release {
            format!(
                "update/{}{}-{}.complete.mar",
                names.release_dir(),
                names.product.file,
                names.version
            )
        } else {
            format!("{}.complete.mar", names.nightly_stem())
        }
    }

    fn options(&self, settings: &Settings) -> Vec<ByteOption> {
        vec![
            ByteOption::pieces("mar", "x86_bcj", settings.platform.x86_bcj()),
            ByteOption::output("mar", "channel_id", &settings.mar_channel_id),
        ]
    }

    fn prepare(&self, build: &Build<'_>) -> Result<Box<dyn Prepared>> {
        let settings = build.settings;
        let options = XzOptions::mar(settings.platform.x86_bcj());
        let fixed: Vec<usize> = build
            .fixed
            .iter()
            .copied()
            .filter(|&m| build.staged.members[m].data().is_some())
            .collect();
        let mut inputs: Vec<&[u8]> = fixed
            .iter()
            .map(|&m| build.staged.members[m].data().unwrap_or_default())
            .collect();
        for jar in &build.jars {
            inputs.push(&jar.prefix);
            inputs.push(&jar.directory);
        }
        let mut encoded = encode_xz(&inputs, MAR_BLOCK, options)
            .map_err(write_error("the shared MAR members"))?
            .into_iter();
        let members = fixed.iter().copied().zip(encoded.by_ref()).collect();
        let mut jars = Vec::new();
        while let (Some(prefix), Some(directory)) = (encoded.next(), encoded.next()) {
            jars.push((prefix, directory));
        }
        Ok(Box::new(MarPieces {
            options,
            channel: settings.mar_channel_id.clone(),
            members,
            jars,
        }))
    }

    fn load(&self, build: &Build<'_>, input: &mut PieceReader<'_>) -> Loaded {
        let settings = build.settings;
        let members: Vec<(u64, XzBlocks)> = input.list()?;
        let members: BTreeMap<usize, XzBlocks> = members
            .into_iter()
            .map(|(m, piece)| {
                Ok((
                    usize::try_from(m).map_err(|_| inconsistent("a member"))?,
                    piece,
                ))
            })
            .collect::<packagers::Result<_>>()?;
        let jars: Vec<(XzBlocks, XzBlocks)> = input.list()?;
        let fixed: BTreeSet<usize> = build.fixed.iter().copied().collect();
        if jars.len() != build.jars.len() || members.keys().any(|m| !fixed.contains(m)) {
            return Err(inconsistent("the MAR's members"));
        }
        Ok(Box::new(MarPieces {
            options: XzOptions::mar(settings.platform.x86_bcj()),
            channel: settings.mar_channel_id.clone(),
            members,
            jars,
        }))
    }

    fn check(&self, data: &[u8], locale: &str, expected: &[(String, Vec<u8>)]) -> Vec<String> {
        check_mar(data, locale, expected)
    }
}

/// The MAR members every locale shares, xz-compressed once.
struct MarPieces {
    options: XzOptions,
    /// The product information block's channel.
    channel: Option<String>,
    /// Member index → its compressed content, for files no locale touches.
    members: BTreeMap<usize, XzBlocks>,
    /// Per jar: (shared prefix, shared directory).
    jars: Vec<(XzBlocks, XzBlocks)>,
}

impl Prepared for MarPieces {
    fn save(&self, out: &mut PieceWriter) {
        let members: Vec<(u64, &XzBlocks)> =
            self.members.iter().map(|(m, p)| (*m as u64, p)).collect();
        out.len(members.len());
        for (m, piece) in members {
            out.u64(m);
            out.piece(piece);
        }
        out.list(self.jars.iter());
    }

    fn shared_bytes(&self) -> u64 {
        let jars = self.jars.iter().flat_map(|(p, d)| [p, d]);
        self.members
            .values()
            .chain(jars)
            .map(XzBlocks::compressed_len)
            .sum()
    }

    fn write_locale(&self, locale: &Locale<'_>, target: Target<'_>) -> Result<Written> {
        let build = locale.build;
        let info = ProductInfo {
            channel: self.channel.clone().unwrap_or_default(),
            version: build.staged.app.version.clone(),
        };
        // The MAR writer seeks back to patch its header: build it in memory, then hash and
        // write it once.
        let mar = self.write_mar(build, locale, &info)?;
        write_file(target, |out| {
            out.write_all(&mar)
                .map_err(|e| write_error("the complete MAR")(packagers::Error::Io(e)))
        })
    }
}

impl MarPieces {
    /// The locale's complete MAR: `updatev3.manifest`, then every file of the package in
    /// reverse order, each one xz stream made of the shared blocks and the locale's own.
    fn write_mar(
        &self,
        build: &Build<'_>,
        locale: &Locale<'_>,
        info: &ProductInfo,
    ) -> Result<Vec<u8>> {
        let staged = build.staged;
        let wrap = write_error("the complete MAR");
        let files = update_files(build, locale.package);
        let order = update::member_order(files.keys().copied());
        let removed = files.get("removed-files").map(|item| match item {
            Item::Member(m) => {
                String::from_utf8_lossy(staged.members[*m].data().unwrap_or_default()).into_owned()
            }
            Item::File { data, .. } => String::from_utf8_lossy(data).into_owned(),
            _ => String::new(),
        });
        let manifest = update::manifest(&order, removed.as_deref())?;
        let mut writer = MarWriter::new(std::io::Cursor::new(Vec::new()), info).map_err(&wrap)?;
        let manifest_piece = XzBlocks::encode(manifest.as_bytes(), self.options).map_err(&wrap)?;
        writer
            .append_with(update::MANIFEST, 0o644, |w| write_xz(w, &[&manifest_piece]))
            .map_err(&wrap)?;
        for rel in order {
            let (member, mode) = match files[rel] {
                Item::Member(m) => {
                    let piece = match self.members.get(m) {
                        Some(piece) => MemberXz::Shared(piece),
                        // A slot this locale leaves as en-US has it.
                        None => {
                            let data = staged.members[*m].data().unwrap_or_default();
                            MemberXz::Own(XzBlocks::encode(data, self.options).map_err(&wrap)?)
                        }
                    };
                    (piece, staged.members[*m].mode)
                }
                Item::Jar {
                    jar,
                    member,
                    locale,
                } => {
                    let (prefix, directory) = &self.jars[*jar];
                    let tail = XzBlocks::encode(&locale.tail, self.options).map_err(&wrap)?;
                    let directory_tail =
                        XzBlocks::encode(&locale.directory_tail, self.options).map_err(&wrap)?;
                    let parts = MemberXz::Jar {
                        prefix,
                        tail,
                        directory,
                        directory_tail,
                    };
                    (parts, staged.members[*member].mode)
                }
                Item::File { data, mode, .. } => (
                    MemberXz::Own(XzBlocks::encode(data, self.options).map_err(&wrap)?),
                    *mode,
                ),
                Item::Dir { .. } => {
                    return Err(Error::Write {
                        what: "the complete MAR".into(),
                        source: packagers::Error::Mar {
                            reason: format!("{rel} is a directory, not a member"),
                        },
                    });
                }
            };
            writer
                .append_with(rel, mode & 0o777, |w| write_xz(w, &member.pieces()))
                .map_err(&wrap)?;
        }
        Ok(writer.finish().map_err(&wrap)?.into_inner())
    }
}

/// A locale's package as an update sees it: each regular file by its path relative to the
/// directory updates apply to.
pub(super) fn update_files<'b>(
    build: &'b Build<'_>,
    package: &'b LocalePackage,
) -> BTreeMap<&'b str, &'b Item> {
    let staged = build.staged;
    let app = staged.update_prefix();
    let mut files = BTreeMap::new();
    for item in &package.items {
        let is_file = match item {
            Item::Member(m) => matches!(staged.members[*m].kind, MemberKind::File(_)),
            Item::Jar { .. } | Item::File { .. } => true,
            Item::Dir { .. } => false,
        };
        if let Some(rel) = package::item_path(staged, item).strip_prefix(&app)
            && is_file
        {
            files.insert(rel, item);
        }
    }
    files
}

/// The xz pieces of one MAR member, in order.
enum MemberXz<'t> {
    /// A file no locale touches: compressed once per batch.
    Shared(&'t XzBlocks),
    /// A jar: its shared prefix and directory, and the locale's tail and directory tail.
    Jar {
        prefix: &'t XzBlocks,
        tail: XzBlocks,
        directory: &'t XzBlocks,
        directory_tail: XzBlocks,
    },
    /// A file of the locale's own.
    Own(XzBlocks),
}

impl MemberXz<'_> {
    fn pieces(&self) -> Vec<&XzBlocks> {
        match self {
            MemberXz::Shared(piece) => vec![piece],
            MemberXz::Jar {
                prefix,
                tail,
                directory,
                directory_tail,
            } => vec![prefix, tail, directory, directory_tail],
            MemberXz::Own(piece) => vec![piece],
        }
    }
}

/// A complete MAR: the locale in its jars, the product information block against the
/// package's `application.ini` and `update-settings.ini`, and its `updatev3.manifest` and
/// `precomplete` against its members.
fn check_mar(data: &[u8], locale: &str, expected: &[(String, Vec<u8>)]) -> Vec<String> {
    let mut reader = match MarReader::new(std::io::Cursor::new(data)) {
        Ok(reader) => reader,
        Err(e) => return vec![format!("not a readable MAR: {e}")],
    };
    let entries = reader.entries().to_vec();
    let info = reader.product_info().cloned();
    let mut member = |name: &str| -> Option<Vec<u8>> {
        let entry = entries.iter().find(|e| e.name == name)?;
        let raw = reader.read(entry).ok()?;
        let mut out = Vec::new();
        liblzma::read::XzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .ok()?;
        Some(out)
    };
    // A macOS update's paths are relative to the bundle: the app files are under
    // Contents/Resources/ (make_full_update.sh run on Firefox.app).
    let app = if entries
        .iter()
        .any(|e| e.name == format!("{MAC_RESOURCES}omni.ja"))
    {
        MAC_RESOURCES
    } else {
        ""
    };
    let mut problems = Vec::new();
    match member(&format!("{app}omni.ja")) {
        Some(omni) => {
            problems.extend(check_jar(&omni, locale));
            let browser = member(&format!("{app}browser/omni.ja"));
            let mut jars = vec![("", omni.as_slice())];
            if let Some(browser) = &browser {
                jars.push(("browser/", browser.as_slice()));
            }
            problems.extend(check_swapped(&jars, expected));
        }
        None => problems.push("the MAR has no readable omni.ja member".into()),
    }
    let app_ini = member(&format!("{app}application.ini")).and_then(|d| parse_application_ini(&d));
    let channel = member(&format!("{app}update-settings.ini"))
        .and_then(|d| update::channel_id(&String::from_utf8_lossy(&d)));
    match (&info, app_ini) {
        (Some(info), Some(app)) if info.version != app.version => problems.push(format!(
            "product version {} but application.ini says {}",
            info.version, app.version
        )),
        (None, _) => problems.push("no product information block".into()),
        _ => {}
    }
    if let (Some(info), Some(channel)) = (&info, channel)
        && info.channel != channel
    {
        problems.push(format!(
            "channel {} but update-settings.ini accepts {channel}",
            info.channel
        ));
    }
    let names: BTreeSet<&str> = entries
        .iter()
        .map(|e| e.name.as_str())
        .filter(|n| *n != update::MANIFEST)
        .collect();
    let removed_files =
        member(&format!("{app}removed-files")).map(|d| String::from_utf8_lossy(&d).into_owned());
    match member(update::MANIFEST) {
        Some(manifest) => problems.extend(check_update_manifest(
            &String::from_utf8_lossy(&manifest),
            &names,
            removed_files.as_deref(),
        )),
        None => problems.push(format!("the MAR has no readable {}", update::MANIFEST)),
    }
    // precomplete's paths are relative to where the update applies, as the MAR's names.
    match member(&format!("{app}precomplete")) {
        Some(text) => problems.extend(check_precomplete(
            &String::from_utf8_lossy(&text),
            &names,
            None,
        )),
        None => problems.push("the MAR has no readable precomplete".into()),
    }
    problems
}
