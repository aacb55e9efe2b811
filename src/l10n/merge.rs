//! String-level merge of one localized resource with its en-US original.
//!
//! The one place where a locale's `.ftl`, `.properties`, `.dtd` and `.ini` files meet their
//! en-US counterparts; one module per format does the work. Text handling is common: a UTF-8
//! byte-order mark is stripped and CRLF line ends become LF; a file that is not UTF-8 falls
//! back whole to en-US, with a finding, never a crash. A file that needs no change ships
//! byte for byte as the langpack has it.

use std::collections::HashSet;

use super::{Finding, FindingKind, dtd, ftl, ini, properties};

/// The resource formats the merge knows, by file extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Fluent `.ftl`.
    Fluent,
    /// Java-style `.properties`.
    Properties,
    /// XML `.dtd` entity files.
    Dtd,
    /// `.ini`.
    Ini,
}

impl Format {
    /// The format of a file, by its extension; `None` for anything copied as is
    /// (images, CSS, JSON).
    pub fn of(path: &str) -> Option<Format> {
        let ext = path.rsplit_once('.').map(|(_, e)| e)?;
        match ext {
            "ftl" => Some(Format::Fluent),
            "properties" => Some(Format::Properties),
            "dtd" => Some(Format::Dtd),
            "ini" => Some(Format::Ini),
            _ => None,
        }
    }
}

/// What the merge needs beyond the two files: the Fluent ids that exist anywhere.
pub struct Merger<'a> {
    /// Every message and term id of the en-US build's Fluent files.
    pub en_us_fluent_ids: &'a HashSet<String>,
    /// Every message and term id of the locale's Fluent files.
    pub locale_fluent_ids: &'a HashSet<String>,
}

impl Merger<'_> {
    /// Merges the locale's version of `file` (its flat-layout path) with the en-US one and
    /// returns the bytes to ship. Findings go to `findings`.
    pub fn merge(
        &self,
        file: &str,
        en_us: &[u8],
        locale: Vec<u8>,
        findings: &mut Vec<Finding>,
    ) -> Vec<u8> {
        let Some(format) = Format::of(file) else {
            return locale;
        };
        let Some((text, normalized)) = decode(&locale) else {
            findings.push(Finding::string(
                FindingKind::Broken,
                file,
                "",
                None,
                "the file is not UTF-8 text; the en-US file is used",
            ));
            return en_us.to_vec();
        };
        let en_us_text = decode(en_us).map_or_else(
            || String::from_utf8_lossy(en_us).into_owned(),
            |(text, _)| text,
        );
        let merged = match format {
            Format::Properties => properties::merge(file, &en_us_text, &text, findings),
            Format::Dtd => dtd::merge(file, &en_us_text, &text, findings),
            Format::Ini => ini::merge(file, &en_us_text, &text, findings),
            Format::Fluent => {
                let known = ftl::KnownIds {
                    en_us: self.en_us_fluent_ids,
                    locale: self.locale_fluent_ids,
                };
                ftl::merge(file, &en_us_text, &text, &known, findings)
            }
        };
        match merged {
            Some(merged) => merged.into_bytes(),
            None if normalized => text.into_bytes(),
            None => locale,
        }
    }
}

/// How many strings an en-US file of a known format holds, as compare-locales counts a
/// missing file: every entity, duplicates included (`None` for other files).
pub fn count_strings(file: &str, en_us: &[u8]) -> Option<u32> {
    let text = decode(en_us).map_or_else(
        || String::from_utf8_lossy(en_us).into_owned(),
        |(text, _)| text,
    );
    let count = match Format::of(file)? {
        Format::Properties => properties::parse(&text).len(),
        Format::Dtd => dtd::parse(&text).entities.len(),
        Format::Ini => ini::parse(&text).0.len(),
        Format::Fluent => ftl::count_entries(&text),
    };
    Some(u32::try_from(count).unwrap_or(u32::MAX))
}

/// UTF-8 text without a byte-order mark and with LF line ends; `true` when that changed
/// anything. `None` if the bytes are not UTF-8.
pub fn decode(bytes: &[u8]) -> Option<(String, bool)> {
    let stripped = bytes.strip_prefix(b"\xEF\xBB\xBF");
    let text = std::str::from_utf8(stripped.unwrap_or(bytes)).ok()?;
    if text.contains('\r') {
        Some((text.replace("\r\n", "\n").replace('\r', "\n"), true))
    } else {
        Some((text.to_owned(), stripped.is_some()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn merger_run(file: &str, en_us: &[u8], locale: &[u8]) -> (Vec<u8>, Vec<Finding>) {
        let ids = HashSet::new();
        let merger = Merger {
            en_us_fluent_ids: &ids,
            locale_fluent_ids: &ids,
        };
        let mut findings = Vec::new();
        let out = merger.merge(file, en_us, locale.to_vec(), &mut findings);
        (out, findings)
    }

    #[test]
    fn formats_by_extension() {
        let cases = [
            ("a/b.ftl", Some(Format::Fluent)),
            ("x.properties", Some(Format::Properties)),
            ("x.dtd", Some(Format::Dtd)),
            ("crashreporter.ini", Some(Format::Ini)),
            ("intl.css", None),
            ("noext", None),
        ];
        for (path, want) in cases {
            assert_eq!(Format::of(path), want, "{path}");
        }
    }

    #[test]
    fn text_is_decoded_consistently() {
        type Case<'a> = (&'a [u8], Option<(&'a str, bool)>);
        let cases: &[Case<'_>] = &[
            (b"a = b\n", Some(("a = b\n", false))),
            (b"\xEF\xBB\xBFa = b\n", Some(("a = b\n", true))),
            (b"a = b\r\nc = d\r\n", Some(("a = b\nc = d\n", true))),
            (b"a = \xff\n", None),
        ];
        for (bytes, want) in cases {
            let got = decode(bytes);
            assert_eq!(
                got.as_ref().map(|(t, n)| (t.as_str(), *n)),
                *want,
                "{bytes:?}"
            );
        }
    }

    #[test]
    fn clean_files_ship_untouched_and_normalized_files_normalized() {
        let en_us = b"a = A\n";
        assert_eq!(
            merger_run("x.properties", en_us, b"a = \xc3\xa4\n").0,
            b"a = \xc3\xa4\n"
        );
        assert_eq!(
            merger_run("x.properties", en_us, b"\xEF\xBB\xBFa = x\r\n").0,
            b"a = x\n"
        );
        assert_eq!(merger_run("x.css", b"x", b"\xff").0, b"\xff");
    }

    #[test]
    fn undecodable_files_fall_back_whole() {
        let (out, findings) = merger_run("x.properties", b"a = A\n", b"a = \xff\n");
        assert_eq!(out, b"a = A\n");
        assert_eq!(findings[0].kind, FindingKind::Broken);
        assert!(findings[0].detail.contains("not UTF-8"));
    }
}
