//! Fluent `.ftl` files: checking the locale's messages against en-US, and merging.
//!
//! Parsing is the `fluent-syntax` crate's. Firefox falls back to `localization/en-US` per
//! message at run time, so nothing is ever inserted; what cannot work is taken out, as
//! Mozilla's build merge does (`moz.l10n`'s `write_target_file`):
//! - Junk (syntax errors) is removed;
//! - a message or term that references a message or term defined nowhere (neither in any
//!   en-US nor in any of the locale's Fluent files) is removed;
//! - a message lacking an attribute en-US has, or whose value en-US lacks or has, is
//!   removed; attributes en-US does not have are stripped;
//! - messages and terms en-US does not define are obsolete and removed;
//! - messages en-US has and the locale does not are reported as missing.
//!
//! A file that needs none of this ships byte for byte as the langpack has it.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use fluent_syntax::ast::{self, Entry, Expression, InlineExpression, Pattern, PatternElement};
use fluent_syntax::parser;

use super::{Finding, FindingKind};

/// Message and term ids that exist somewhere, for resolving references.
pub struct KnownIds<'a> {
    /// Every id of every en-US Fluent file of the build.
    pub en_us: &'a HashSet<String>,
    /// Every id of every Fluent file of the locale.
    pub locale: &'a HashSet<String>,
}

impl KnownIds<'_> {
    fn contains(&self, id: &str) -> bool {
        self.en_us.contains(id) || self.locale.contains(id)
    }
}

/// The ids a Fluent text defines (`-` prefixed for terms), found cheaply: an entry starts
/// at column 0 with an identifier and `=`.
pub fn defined_ids(text: &str) -> impl Iterator<Item = &str> {
    text.lines().filter_map(|line| {
        let body = line.strip_prefix('-').unwrap_or(line);
        let first = body.chars().next()?;
        if !first.is_ascii_alphabetic() {
            return None;
        }
        let end = body
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(body.len());
        let after = body[end..].trim_start_matches(' ');
        after
            .starts_with('=')
            .then(|| &line[..end + line.len() - body.len()])
    })
}

/// How many messages and terms a Fluent text defines.
pub fn count_entries(text: &str) -> usize {
    parse_lossy(text)
        .body
        .iter()
        .filter(|e| matches!(e, Entry::Message(_) | Entry::Term(_)))
        .count()
}

/// What en-US says about one message or term.
struct Shape<'s> {
    has_value: bool,
    attributes: BTreeSet<&'s str>,
    /// The ids it references: a locale may reference what en-US itself does, even when en-US
    /// references something defined nowhere (that is en-US's bug, not the locale's).
    references: BTreeSet<String>,
}

impl<'s> Shape<'s> {
    fn of(value: Option<&Pattern<&'s str>>, attributes: &[ast::Attribute<&'s str>]) -> Self {
        let mut references = Vec::new();
        for pattern in value.into_iter().chain(attributes.iter().map(|a| &a.value)) {
            collect_pattern(pattern, &mut references);
        }
        Shape {
            has_value: value.is_some(),
            attributes: attributes.iter().map(|a| a.id.name).collect(),
            references: references.into_iter().collect(),
        }
    }
}

/// Merges the locale's file with en-US's: `None` when it can ship as it is, else the
/// merged text.
pub fn merge(
    file: &str,
    en_us: &str,
    locale: &str,
    known: &KnownIds<'_>,
    findings: &mut Vec<Finding>,
) -> Option<String> {
    let reference = parse_lossy(en_us);
    let mut messages: BTreeMap<&str, Shape<'_>> = BTreeMap::new();
    let mut terms: BTreeMap<&str, Shape<'_>> = BTreeMap::new();
    for entry in &reference.body {
        match entry {
            Entry::Message(m) => {
                messages.insert(m.id.name, Shape::of(m.value.as_ref(), &m.attributes));
            }
            Entry::Term(t) => {
                terms.insert(t.id.name, Shape::of(Some(&t.value), &t.attributes));
            }
            _ => {}
        }
    }

    let (resource, errors) = match parser::parse(locale) {
        Ok(resource) => (resource, Vec::new()),
        Err((resource, errors)) => (resource, errors),
    };
    let line_of = |s: &str| {
        let offset = (s.as_ptr() as usize).saturating_sub(locale.as_ptr() as usize);
        locale[..offset.min(locale.len())].matches('\n').count() as u32 + 1
    };
    let mut changed = false;
    // Ids the locale's file defines, broken or not: compare-locales counts an entry that is
    // there but broken as an error, not as missing.
    let mut present: BTreeSet<String> = BTreeSet::new();
    let mut body = Vec::with_capacity(resource.body.len());
    for entry in resource.body {
        let (id, verdict) = match &entry {
            Entry::Junk { content } => {
                let start = (content.as_ptr() as usize) - (locale.as_ptr() as usize);
                let reason = errors
                    .iter()
                    .find(|e| {
                        e.slice
                            .as_ref()
                            .is_some_and(|s| s.start <= start && start < s.end.max(start + 1))
                    })
                    .or(errors.first())
                    .map_or_else(|| "syntax error".to_owned(), |e| e.kind.to_string());
                findings.push(Finding::string(
                    FindingKind::Broken,
                    file,
                    "",
                    Some(line_of(content)),
                    format!("syntax error ({reason}); removed"),
                ));
                changed = true;
                continue;
            }
            Entry::Message(m) => (m.id.name, check_message(m, &messages, known)),
            Entry::Term(t) => {
                let id = t.id.name;
                let verdict = match terms.get(id) {
                    None => Verdict::Obsolete,
                    Some(shape) => {
                        match unknown_reference(Some(&t.value), &t.attributes, shape, known) {
                            Some(missing) => {
                                Verdict::Broken(format!("references {missing}, defined nowhere"))
                            }
                            None => Verdict::Keep,
                        }
                    }
                };
                (id, verdict)
            }
            _ => {
                body.push(entry);
                continue;
            }
        };
        let key = match &entry {
            Entry::Term(_) => format!("-{id}"),
            _ => id.to_owned(),
        };
        let line = match &entry {
            Entry::Message(m) => line_of(m.id.name),
            Entry::Term(t) => line_of(t.id.name),
            _ => 0,
        };
        present.insert(key.clone());
        match verdict {
            Verdict::Keep => body.push(entry),
            Verdict::Strip(extra) => {
                let Entry::Message(mut m) = entry else {
                    unreachable!("only messages have attributes stripped")
                };
                for attribute in &extra {
                    findings.push(Finding::string(
                        FindingKind::Broken,
                        file,
                        &key,
                        Some(line),
                        format!("has the attribute .{attribute}, which en-US lacks; stripped"),
                    ));
                }
                m.attributes.retain(|a| !extra.contains(a.id.name));
                changed = true;
                body.push(Entry::Message(m));
            }
            Verdict::Broken(reason) => {
                changed = true;
                findings.push(Finding::string(
                    FindingKind::Broken,
                    file,
                    &key,
                    Some(line),
                    format!("{reason}; removed, Firefox shows the en-US message"),
                ));
            }
            Verdict::Obsolete => {
                changed = true;
                findings.push(Finding::string(
                    FindingKind::Obsolete,
                    file,
                    &key,
                    Some(line),
                    "not in en-US; removed",
                ));
            }
        }
    }
    let reference_ids = messages
        .keys()
        .map(|id| (*id).to_owned())
        .chain(terms.keys().map(|id| format!("-{id}")));
    for id in reference_ids {
        if !present.contains(&id) {
            findings.push(Finding::string(
                FindingKind::Missing,
                file,
                &id,
                None,
                "missing; Firefox shows the en-US message at run time",
            ));
        }
    }
    changed.then(|| fluent_syntax::serializer::serialize(&ast::Resource { body }))
}

enum Verdict {
    Keep,
    Strip(BTreeSet<String>),
    Broken(String),
    Obsolete,
}

fn check_message(
    m: &ast::Message<&str>,
    messages: &BTreeMap<&str, Shape<'_>>,
    known: &KnownIds<'_>,
) -> Verdict {
    let Some(shape) = messages.get(m.id.name) else {
        return Verdict::Obsolete;
    };
    if let Some(missing) = unknown_reference(m.value.as_ref(), &m.attributes, shape, known) {
        return Verdict::Broken(format!("references {missing}, defined nowhere"));
    }
    match (shape.has_value, m.value.is_some()) {
        (true, false) => return Verdict::Broken("has no value, en-US has one".into()),
        (false, true) => return Verdict::Broken("has a value, en-US has none".into()),
        _ => {}
    }
    let ours: BTreeSet<&str> = m.attributes.iter().map(|a| a.id.name).collect();
    if let Some(missing) = shape.attributes.iter().find(|a| !ours.contains(*a)) {
        return Verdict::Broken(format!("lacks the attribute .{missing} en-US has"));
    }
    let extra: BTreeSet<String> = ours
        .iter()
        .filter(|a| !shape.attributes.contains(*a))
        .map(|a| (*a).to_owned())
        .collect();
    if extra.is_empty() {
        Verdict::Keep
    } else {
        Verdict::Strip(extra)
    }
}

/// The first id the entry references that is defined nowhere and that en-US's version of
/// the entry does not reference either.
fn unknown_reference(
    value: Option<&Pattern<&str>>,
    attributes: &[ast::Attribute<&str>],
    shape: &Shape<'_>,
    known: &KnownIds<'_>,
) -> Option<String> {
    let mut refs = Vec::new();
    for pattern in value.into_iter().chain(attributes.iter().map(|a| &a.value)) {
        collect_pattern(pattern, &mut refs);
    }
    refs.into_iter()
        .find(|r| !known.contains(r) && !shape.references.contains(r))
}

fn collect_pattern(pattern: &Pattern<&str>, refs: &mut Vec<String>) {
    for element in &pattern.elements {
        if let PatternElement::Placeable { expression } = element {
            collect_expression(expression, refs);
        }
    }
}

fn collect_expression(expression: &Expression<&str>, refs: &mut Vec<String>) {
    match expression {
        Expression::Select { selector, variants } => {
            collect_inline(selector, refs);
            for variant in variants {
                collect_pattern(&variant.value, refs);
            }
        }
        Expression::Inline(inline) => collect_inline(inline, refs),
    }
}

fn collect_inline(inline: &InlineExpression<&str>, refs: &mut Vec<String>) {
    match inline {
        InlineExpression::MessageReference { id, .. } => refs.push(id.name.to_owned()),
        InlineExpression::TermReference { id, arguments, .. } => {
            refs.push(format!("-{}", id.name));
            if let Some(arguments) = arguments {
                collect_arguments(arguments, refs);
            }
        }
        InlineExpression::FunctionReference { arguments, .. } => collect_arguments(arguments, refs),
        InlineExpression::Placeable { expression } => collect_expression(expression, refs),
        InlineExpression::StringLiteral { .. }
        | InlineExpression::NumberLiteral { .. }
        | InlineExpression::VariableReference { .. } => {}
    }
}

fn collect_arguments(arguments: &ast::CallArguments<&str>, refs: &mut Vec<String>) {
    for positional in &arguments.positional {
        collect_inline(positional, refs);
    }
    for named in &arguments.named {
        collect_inline(&named.value, refs);
    }
}

fn parse_lossy(text: &str) -> ast::Resource<&str> {
    parser::parse(text).unwrap_or_else(|(resource, _)| resource)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EN_US: &str = "\
-brand-short-name = Firefox
hello = Hello
    .title = Greeting
count = { $n ->
    [one] One item
   *[other] { $n } items
}
about = About { -brand-short-name }
";

    fn run(locale: &str, extra_known: &[&str]) -> (Option<String>, Vec<(FindingKind, String)>) {
        let en_us_ids: HashSet<String> = defined_ids(EN_US).map(str::to_owned).collect();
        let locale_ids: HashSet<String> = extra_known.iter().map(|s| (*s).to_owned()).collect();
        let known = KnownIds {
            en_us: &en_us_ids,
            locale: &locale_ids,
        };
        let mut findings = Vec::new();
        let out = merge("a.ftl", EN_US, locale, &known, &mut findings);
        let kinds = findings
            .into_iter()
            .map(|f| (f.kind, f.key.unwrap_or_default()))
            .collect();
        (out, kinds)
    }

    #[test]
    fn ids_are_found_at_column_zero() {
        let ids: Vec<&str> = defined_ids(EN_US).collect();
        assert_eq!(ids, ["-brand-short-name", "hello", "count", "about"]);
        assert_eq!(
            defined_ids("  indented = no\n# c = no\nok=yes\n").collect::<Vec<_>>(),
            ["ok"]
        );
    }

    #[test]
    fn a_complete_file_ships_as_it_is() {
        let locale = "-brand-short-name = Firefox\nhello = Bonjour\n    .title = Salut\n\
                      count = { $n } éléments\nabout = À propos de { -brand-short-name }\n";
        assert_eq!(run(locale, &[]), (None, vec![]));
    }

    #[test]
    fn broken_entries_are_removed_and_reported() {
        let locale = "hello = Bonjour\n    .title = Salut\n\
                      count = { $n éléments\n\
                      about = À propos de { -marque }\n\
                      old = Ancien\n";
        let (out, kinds) = run(locale, &[]);
        assert_eq!(
            out.as_deref(),
            Some("hello = Bonjour\n    .title = Salut\n")
        );
        let want = [
            (FindingKind::Broken, ""),
            (FindingKind::Broken, "about"),
            (FindingKind::Obsolete, "old"),
            // `count` is Junk, so absent: missing. `about` is there but broken: an error only.
            (FindingKind::Missing, "count"),
            (FindingKind::Missing, "-brand-short-name"),
        ];
        let want: Vec<(FindingKind, String)> =
            want.iter().map(|(k, id)| (*k, id.to_string())).collect();
        assert_eq!(kinds, want);
    }

    #[test]
    fn references_resolve_across_files_and_attributes_are_checked() {
        // -marque is defined in another of the locale's files: fine.
        let (out, kinds) = run("about = À propos de { -marque }\n", &["-marque"]);
        assert_eq!(out, None);
        assert!(kinds.iter().all(|(k, _)| *k == FindingKind::Missing));
        // Missing attribute: removed. Extra attribute: stripped.
        let (out, kinds) = run("hello = Bonjour\n", &[]);
        assert_eq!(out.as_deref(), Some(""));
        assert!(kinds.contains(&(FindingKind::Broken, "hello".into())));
        let (out, kinds) = run("hello = Bonjour\n    .title = T\n    .extra = E\n", &[]);
        assert_eq!(out.as_deref(), Some("hello = Bonjour\n    .title = T\n"));
        assert!(kinds.contains(&(FindingKind::Broken, "hello".into())));
    }
}
