//! The unpacked tree, `firefox-<version>.<locale>.<platform>/` (the package's own layout
//! inside: `firefox/…`, `Firefox.app/…`): a localized build to run right away, as
//! `mach build installers-<locale>` leaves it in `dist/`. Files are written as they are,
//! so there is nothing to share; `verify` does not read trees (they have no digest).

use packagers::piece::{PieceReader, PieceWriter};

use super::{Build, Loaded, Locale, Names, Packager, Prepared, Target, Written};
use crate::error::Result;
use crate::output::{AtomicDir, Pending};
use crate::platform::Os;

/// The unpacked tree.
pub struct Dir;

impl Packager for Dir {
    fn id(&self) -> &'static str {
        "dir"
    }

    fn fits(&self, _os: Os) -> bool {
        true
    }

    fn name(&self, names: &Names<'_>) -> String {
        names.package("")
    }

    fn shares_pieces(&self) -> bool {
        false
    }

    fn prepare(&self, _build: &Build<'_>) -> Result<Box<dyn Prepared>> {
        Ok(Box::new(Tree))
    }

    fn load(&self, _build: &Build<'_>, _input: &mut PieceReader<'_>) -> Loaded {
        Ok(Box::new(Tree))
    }

    /// Trees are not in `manifest.json`, so `verify` never hands one here.
    fn check(&self, _data: &[u8], _locale: &str, _expected: &[(String, Vec<u8>)]) -> Vec<String> {
        vec!["an unpacked tree is not an artifact; it has no digest to check".into()]
    }
}

/// A tree shares nothing.
struct Tree;

impl Prepared for Tree {
    fn save(&self, _out: &mut PieceWriter) {}

    fn shared_bytes(&self) -> u64 {
        0
    }

    fn write_locale(&self, locale: &Locale<'_>, target: Target<'_>) -> Result<Written> {
        let build = locale.build;
        let dir = AtomicDir::create(target.dir, target.name)?;
        locale
            .package
            .write_dir(build.staged, &build.jars, dir.root())?;
        Ok(Written {
            pending: Pending::Dir(dir),
            digests: None,
            findings: Vec::new(),
        })
    }
}
