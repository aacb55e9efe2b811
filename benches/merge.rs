//! Benchmark (not a test): the string-level merge on the real corpus, one core.
//!
//! `L10N_REPACK_CORPUS=DIR cargo bench --bench merge` with DIR made by
//! `../shared/corpus/make-corpus.sh`. Stages the en-US build once, then for each locale
//! reads its XPI and computes the overlay (every file merged string by string, every
//! finding collected), on the calling thread only. Prints per-locale times, the totals and
//! the findings per locale, for the README and the closing note.

use std::path::PathBuf;
use std::time::Instant;

use l10n_repack::l10n::langpack::{self, LocalePack};
use l10n_repack::l10n::{FindingKind, Layout, Overlay};
use l10n_repack::platform::Os;
use l10n_repack::stage::StagedBuild;

fn main() {
    let Some(corpus) = std::env::var_os("L10N_REPACK_CORPUS").map(PathBuf::from) else {
        eprintln!("set L10N_REPACK_CORPUS to a make-corpus.sh output directory");
        return;
    };
    let input = std::fs::read_dir(corpus.join("en-US"))
        .expect("the corpus has en-US/")
        .map(|e| e.expect("readable").path())
        .find(|p| p.to_string_lossy().ends_with(".linux-x86_64.tar.bz2"))
        .expect("the corpus has a Linux tarball");
    let staged = StagedBuild::open(&input).expect("the build stages");
    let started = Instant::now();
    let layout = Layout::analyze(&staged, Os::of(staged.kind).rebuilt_per_locale());
    println!("layout (once per batch): {:.1} ms", ms(started));
    let packs = langpack::discover(&corpus.join("xpi")).expect("langpacks");
    let (mut load_total, mut merge_total) = (0.0, 0.0);
    let mut slowest = (String::new(), 0.0);
    println!("locale    load_ms  merge_ms  missing  broken  obsolete");
    for (locale, source) in &packs {
        let t = Instant::now();
        let pack = LocalePack::load(locale, source).expect("langpack loads");
        let load = ms(t);
        let t = Instant::now();
        let overlay = Overlay::build(&staged, &layout, pack).expect("overlay");
        let merge = ms(t);
        let count = |k: FindingKind| overlay.findings.iter().filter(|f| f.kind == k).count();
        println!(
            "{locale:<9} {load:>7.1} {merge:>9.1} {:>8} {:>7} {:>9}",
            count(FindingKind::Missing),
            count(FindingKind::Broken),
            count(FindingKind::Obsolete)
        );
        load_total += load;
        merge_total += merge;
        if merge > slowest.1 {
            slowest = (locale.clone(), merge);
        }
    }
    let n = packs.len() as f64;
    println!(
        "{} locales: load {load_total:.0} ms ({:.1} ms/locale), merge {merge_total:.0} ms \
         ({:.1} ms/locale), slowest merge {} {:.1} ms",
        packs.len(),
        load_total / n,
        merge_total / n,
        slowest.0,
        slowest.1
    );
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}
