//! What a run tells its users: progress while it runs, then a summary table, `report.json`
//! and a per-locale fallback text a localizer can scan in seconds.
//!
//! Outcomes are always reported sorted by locale, whatever order the threads finished in.
//! Progress goes to stderr: a bar on a terminal, one plain line per locale otherwise (task
//! logs), so lines from parallel locales never interleave mid-line.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::formats::Format;
use crate::l10n::{Finding, FindingKind};
use crate::output;
use crate::plan::RepackPlan;

/// How a locale ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Status {
    /// Every output was written.
    Ok,
    /// Nothing was written for it; `error` says why and what to do.
    Failed {
        /// The error message.
        error: String,
    },
    /// Not attempted because an earlier locale failed under `--fail-fast`.
    Skipped,
}

/// One written output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputFile {
    /// Which format.
    pub format: Format,
    /// Path relative to the output directory.
    pub path: PathBuf,
    /// Size in bytes (for a directory, the sum of its files).
    pub bytes: u64,
    /// SHA-256 and SHA-512 of a file output, computed while it was written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// See `sha256`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha512: Option<String>,
    /// For a partial MAR: the earlier build it updates from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<crate::formats::FromFile>,
}

/// The result of one locale.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LocaleOutcome {
    /// The locale code.
    pub locale: String,
    /// How it ended.
    #[serde(flatten)]
    pub status: Status,
    /// The langpack used.
    pub langpack: Option<PathBuf>,
    /// What it wrote.
    pub outputs: Vec<OutputFile>,
    /// Wall time of this locale's task.
    pub seconds: f64,
    /// Taken from an earlier run by `--resume`: its inputs and outputs had not changed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub resumed: bool,
    /// The multi-locale package's locales (`--multi-locale`), the default first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub packaged_locales: Vec<String>,
    /// Count of findings by kind.
    pub counts: BTreeMap<FindingKind, usize>,
    /// Every fallback and oddity.
    pub findings: Vec<Finding>,
}

impl LocaleOutcome {
    /// A fresh, successful outcome.
    pub fn new(locale: &str) -> LocaleOutcome {
        LocaleOutcome {
            locale: locale.to_owned(),
            status: Status::Ok,
            langpack: None,
            outputs: Vec::new(),
            seconds: 0.0,
            resumed: false,
            packaged_locales: Vec::new(),
            counts: BTreeMap::new(),
            findings: Vec::new(),
        }
    }

    /// The outcome of a locale never started.
    pub fn skipped(locale: &str) -> LocaleOutcome {
        LocaleOutcome {
            status: Status::Skipped,
            ..LocaleOutcome::new(locale)
        }
    }

    /// How many strings fall back because the locale lacks them (compare-locales' `missing`).
    pub fn missing(&self) -> u32 {
        self.findings.iter().map(Finding::missing_strings).sum()
    }

    /// How many of the locale's strings are broken.
    pub fn broken(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.kind == FindingKind::Broken)
            .count()
    }

    fn count(&mut self) {
        self.counts.clear();
        for finding in &self.findings {
            *self.counts.entry(finding.kind).or_default() += 1;
        }
    }
}

/// The whole run, as written to `report.json`.
#[derive(Debug, Serialize)]
pub struct Report<'a> {
    /// Schema version of this file.
    pub schema: u32,
    /// The en-US package.
    pub input: &'a Path,
    /// The display version.
    pub version: &'a str,
    /// SHA-256 of the en-US package.
    pub input_sha256: &'a str,
    /// The taskgraph platform.
    pub platform: &'a str,
    /// The input's signatures left out of every output (APK input: v1 signature files
    /// and the APK Signing Block); absent when there were none.
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub removed_signatures: &'a [String],
    /// Formats written.
    pub formats: &'a [Format],
    /// The options that shaped the outputs.
    pub options: serde_json::Value,
    /// Locales that were written / failed / skipped.
    pub summary: BTreeMap<&'static str, usize>,
    /// Per locale, sorted.
    pub locales: &'a [LocaleOutcome],
}

/// Counts findings, writes `report.json` and `fallbacks.txt` into the output directory and
/// returns the summary table.
pub fn finish(plan: &RepackPlan, outcomes: &mut [LocaleOutcome]) -> Result<String> {
    for outcome in outcomes.iter_mut() {
        outcome.count();
    }
    let mut summary = BTreeMap::new();
    for outcome in outcomes.iter() {
        let key = match outcome.status {
            Status::Ok => "written",
            Status::Failed { .. } => "failed",
            Status::Skipped => "skipped",
        };
        *summary.entry(key).or_default() += 1;
    }
    let report = Report {
        schema: 1,
        input: &plan.input,
        version: &plan.version,
        input_sha256: &plan.input_sha256,
        platform: plan.platform().name,
        removed_signatures: &plan.removed_signatures,
        formats: &plan.formats,
        options: options(plan),
        summary,
        locales: outcomes,
    };
    let json = serde_json::to_vec_pretty(&report).expect("the report serializes");
    output::write_file(&plan.output_dir, "report.json", &json)?;
    output::write_file(
        &plan.output_dir,
        "fallbacks.txt",
        fallback_text(outcomes).as_bytes(),
    )?;
    write_checksums(plan, outcomes)?;
    Ok(summary_table(outcomes))
}

/// `report.json`'s options: every option that changes an output's bytes or names
/// ([`RepackPlan::byte_options`]), then those that do not.
pub fn options(plan: &RepackPlan) -> serde_json::Value {
    let mut options = serde_json::Map::new();
    for option in plan.byte_options() {
        options.insert(option.name, option.value);
    }
    options.insert("resume".into(), plan.resume.into());
    options.insert("shared_cache".into(), serde_json::json!(plan.shared_cache));
    options.insert("jobs".into(), plan.jobs.into());
    options.insert("l10n".into(), serde_json::json!(plan.l10n));
    serde_json::Value::Object(options)
}

/// One artifact of `manifest.json`.
#[derive(Debug, Serialize)]
struct Artifact<'a> {
    locale: &'a str,
    platform: &'a str,
    kind: Format,
    path: String,
    size: u64,
    sha256: &'a str,
    sha512: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    from_version: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    from_sha256: Option<&'a str>,
}

/// `SHA512SUMS`, `SHA256SUMS` (`<hex>  <path>`, sorted by path, as generate-checksums.py
/// writes them), `target.checksums` (beetmover's `<hex> <algorithm> <size> <path>` lines,
/// sha512 then sha256, no final newline) and `manifest.json`, over every file written, from
/// the digests computed while writing.
fn write_checksums(plan: &RepackPlan, outcomes: &[LocaleOutcome]) -> Result<()> {
    let mut artifacts: Vec<Artifact<'_>> = outcomes
        .iter()
        .flat_map(|o| o.outputs.iter().map(move |f| (o, f)))
        .filter_map(|(o, f)| {
            Some(Artifact {
                locale: &o.locale,
                platform: plan.platform().name,
                kind: f.format,
                path: f.path.to_string_lossy().into_owned(),
                size: f.bytes,
                sha256: f.sha256.as_deref()?,
                sha512: f.sha512.as_deref()?,
                from_version: f.from.as_ref().map(|from| from.version.as_str()),
                from_sha256: f.from.as_ref().map(|from| from.sha256.as_str()),
            })
        })
        .collect();
    artifacts.sort_by(|a, b| a.path.cmp(&b.path));
    let sha512: String = artifacts
        .iter()
        .map(|a| format!("{}  {}\n", a.sha512, a.path))
        .collect();
    let sha256: String = artifacts
        .iter()
        .map(|a| format!("{}  {}\n", a.sha256, a.path))
        .collect();
    output::write_file(&plan.output_dir, "SHA512SUMS", sha512.as_bytes())?;
    output::write_file(&plan.output_dir, "SHA256SUMS", sha256.as_bytes())?;
    let beetmover: Vec<String> = artifacts
        .iter()
        .flat_map(|a| {
            [
                format!("{} sha512 {} {}", a.sha512, a.size, a.path),
                format!("{} sha256 {} {}", a.sha256, a.size, a.path),
            ]
        })
        .collect();
    output::write_file(
        &plan.output_dir,
        "target.checksums",
        beetmover.join("\n").as_bytes(),
    )?;
    let manifest = serde_json::json!({
        "schema": 1,
        "product": plan.product.file,
        "version": plan.version,
        "build_number": plan.build_number,
        "platform": plan.platform().name,
        "release": plan.release,
        "input": { "path": plan.input, "sha256": plan.input_sha256 },
        "artifacts": artifacts,
    });
    let json = serde_json::to_vec_pretty(&manifest).expect("the manifest serializes");
    output::write_file(&plan.output_dir, "manifest.json", &json)?;
    Ok(())
}

/// The end-of-run table: one line per locale, then the errors in full.
pub fn summary_table(outcomes: &[LocaleOutcome]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<12} {:<8} {:>8} {:>7}  {:<48} {:>10}",
        "locale", "status", "missing", "broken", "output", "size"
    );
    for o in outcomes {
        let status = match o.status {
            Status::Ok => "ok",
            Status::Failed { .. } => "FAILED",
            Status::Skipped => "skipped",
        };
        let (name, size) = o
            .outputs
            .first()
            .map(|f| (f.path.display().to_string(), human_bytes(f.bytes)))
            .unwrap_or_else(|| ("-".into(), "-".into()));
        let _ = writeln!(
            out,
            "{:<12} {:<8} {:>8} {:>7}  {:<48} {:>10}",
            o.locale,
            status,
            o.missing(),
            o.broken(),
            name,
            size
        );
        for extra in o.outputs.iter().skip(1) {
            let _ = writeln!(
                out,
                "{:<38}  {:<48} {:>10}",
                "",
                extra.path.display(),
                human_bytes(extra.bytes)
            );
        }
    }
    let failed: Vec<&LocaleOutcome> = outcomes
        .iter()
        .filter(|o| matches!(o.status, Status::Failed { .. }))
        .collect();
    if !failed.is_empty() {
        let _ = writeln!(
            out,
            "\n{} locale(s) failed; nothing was written for them:",
            failed.len()
        );
        for o in failed {
            if let Status::Failed { error } = &o.status {
                let _ = writeln!(out, "  {}: {error}", o.locale);
            }
        }
    }
    out
}

/// Every finding, grouped by locale and kind, one line each.
pub fn fallback_text(outcomes: &[LocaleOutcome]) -> String {
    let mut out = String::new();
    for o in outcomes.iter().filter(|o| !o.findings.is_empty()) {
        let _ = writeln!(out, "== {} ({} findings)", o.locale, o.findings.len());
        for f in &o.findings {
            let kind = serde_json::to_value(f.kind).expect("a kind serializes");
            let kind = kind.as_str().unwrap_or_default();
            let key = f
                .key
                .as_deref()
                .map(|k| format!(" [{k}]"))
                .unwrap_or_default();
            let line = f.line.map(|l| format!(":{l}")).unwrap_or_default();
            let _ = writeln!(out, "{kind:<15} {}{line}{key}: {}", f.file, f.detail);
        }
    }
    out
}

/// `98,827,097` → `94.2 MiB`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: &[&str] = &["B", "KiB", "MiB", "GiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Progress on stderr.
pub struct Progress {
    bar: Mutex<Option<ProgressBar>>,
    done: Mutex<usize>,
    total: Mutex<usize>,
    terminal: bool,
    quiet: bool,
}

impl Progress {
    /// A bar on a terminal, plain lines otherwise; nothing at all when `quiet`.
    pub fn new(quiet: bool) -> Progress {
        Progress {
            bar: Mutex::new(None),
            done: Mutex::new(0),
            total: Mutex::new(0),
            terminal: std::io::stderr().is_terminal(),
            quiet,
        }
    }

    /// A line of narration.
    pub fn note(&self, message: &str) {
        if !self.quiet {
            eprintln!("l10n-repack: {message}");
        }
    }

    /// A warning: printed even with `--quiet`.
    pub fn warn(&self, message: &str) {
        eprintln!("l10n-repack: warning: {message}");
    }

    /// Starts counting `total` locales.
    pub fn start(&self, total: usize) {
        *self.total.lock().expect("progress lock") = total;
        if self.terminal && !self.quiet {
            let bar = ProgressBar::new(total as u64);
            bar.set_style(
                ProgressStyle::with_template("{bar:40} {pos}/{len} locales, {elapsed} {msg}")
                    .expect("a valid template"),
            );
            *self.bar.lock().expect("progress lock") = Some(bar);
        }
    }

    /// One locale finished.
    pub fn locale_done(&self, outcome: &LocaleOutcome) {
        if self.quiet {
            return;
        }
        let status = match &outcome.status {
            Status::Ok => format!(
                "ok, {} missing, {} broken",
                outcome.missing(),
                outcome.broken()
            ),
            Status::Failed { .. } => "FAILED".into(),
            Status::Skipped => "skipped".into(),
        };
        let mut done = self.done.lock().expect("progress lock");
        *done += 1;
        match &*self.bar.lock().expect("progress lock") {
            Some(bar) => {
                bar.set_message(format!("{}: {status}", outcome.locale));
                bar.inc(1);
            }
            None => {
                let total = *self.total.lock().expect("progress lock");
                eprintln!(
                    "[{done:>3}/{total}] {} {status} ({:.2} s)",
                    outcome.locale, outcome.seconds
                );
            }
        }
    }

    /// Clears the bar.
    pub fn finish(&self) {
        if let Some(bar) = self.bar.lock().expect("progress lock").take() {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_are_human() {
        for (n, want) in [
            (0, "0 B"),
            (1023, "1023 B"),
            (1024, "1.0 KiB"),
            (98_827_097, "94.2 MiB"),
        ] {
            assert_eq!(human_bytes(n), want);
        }
    }

    #[test]
    fn failures_are_listed_after_the_table() {
        let mut ok = LocaleOutcome::new("de");
        ok.outputs.push(OutputFile {
            format: Format::parse("tar.bz2").unwrap(),
            path: "firefox-1.de.linux-x86_64.tar.bz2".into(),
            bytes: 2048,
            sha256: None,
            sha512: None,
            from: None,
        });
        let mut bad = LocaleOutcome::new("es-ES");
        bad.status = Status::Failed {
            error: "langpack x.xpi: not a readable zip".into(),
        };
        let table = summary_table(&[ok, bad]);
        assert!(table.contains("de           ok"), "{table}");
        assert!(table.contains("es-ES        FAILED"), "{table}");
        assert!(table.contains("1 locale(s) failed"), "{table}");
        assert!(
            table.contains("  es-ES: langpack x.xpi: not a readable zip"),
            "{table}"
        );
    }
}
