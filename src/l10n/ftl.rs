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
//!
//! No input may crash the process: the parser recurses once per nested placeable
//! (`{ { … } }`) or call (`NUMBER(NUMBER(…))`), so 3,000 levels (a 9 KB file) overflow a
//! worker thread's stack. A file that nests deeper than [`MAX_DEPTH`] is refused before
//! it is parsed ([`nesting`]): the en-US file is used, with a `broken` finding. And
//! whatever that scan misses, the parse, the walk of the tree and its drop run on a stack
//! big enough for every `{` and `(` of the file to be a level (`on_enough_stack`).

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

/// How many messages and terms a Fluent text defines. A text nested too deeply to parse
/// is counted by [`defined_ids`].
pub fn count_entries(text: &str) -> usize {
    let parsed = (nesting(text).depth <= MAX_DEPTH)
        .then(|| {
            on_enough_stack(levels(text), || {
                parse_lossy(text)
                    .body
                    .iter()
                    .filter(|e| matches!(e, Entry::Message(_) | Entry::Term(_)))
                    .count()
            })
            .ok()
        })
        .flatten();
    parsed.unwrap_or_else(|| defined_ids(text).count())
}

/// The deepest nesting of placeables and call arguments a Fluent file may have. Firefox's
/// own files nest less than 5 deep, and Fluent's runtime gives up on a message after 100
/// placeables.
pub const MAX_DEPTH: usize = 100;

/// How deeply a Fluent text nests placeables and call arguments: the depth, and the line
/// where it is first reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Nesting {
    /// Levels: `{ $x }` is 1, `{ NUMBER($x) }` 2, `{ { $x } }` 2.
    pub depth: usize,
    /// 1-based line.
    pub line: u32,
}

/// Scans a Fluent text for its [`Nesting`] without parsing it (no recursion, linear time).
/// It follows the syntax as the parser reads it: `{` opens a placeable in text and in
/// expressions, `(` a call only in expressions, `->` turns a placeable into variants (text
/// again), string literals (`"…"`, to the end of the line at most) hide what they hold,
/// and a line starting an entry or a comment at column 0 outside an expression starts
/// afresh, as the parser does after the end of an entry or an error.
pub fn nesting(text: &str) -> Nesting {
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Frame {
        Placeable,
        Call,
        Variants,
    }
    let bytes = text.as_bytes();
    let mut stack: Vec<Frame> = Vec::new();
    let mut deepest = Nesting { depth: 0, line: 1 };
    let mut line = 1u32;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let expression = matches!(stack.last(), Some(Frame::Placeable | Frame::Call));
        if !expression
            && (i == 0 || bytes[i - 1] == b'\n')
            && (b.is_ascii_alphabetic() || b == b'-' || b == b'#')
        {
            stack.clear();
            if b == b'#' {
                i = bytes[i..]
                    .iter()
                    .position(|&c| c == b'\n')
                    .map_or(bytes.len(), |at| i + at);
                continue;
            }
        }
        match b {
            b'\n' => line += 1,
            b'{' => stack.push(Frame::Placeable),
            b'(' if expression => stack.push(Frame::Call),
            b')' if stack.last() == Some(&Frame::Call) => {
                stack.pop();
            }
            b'}' => {
                // A `}` inside a call's parentheses is an error; it closes them too.
                while stack.pop() == Some(Frame::Call) {}
            }
            b'-' if stack.last() == Some(&Frame::Placeable) && bytes.get(i + 1) == Some(&b'>') => {
                *stack.last_mut().expect("not empty") = Frame::Variants;
                i += 1;
            }
            b'"' if expression => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    if bytes[i] == b'\\' && bytes.get(i + 1).is_some_and(|&c| c != b'\n') {
                        i += 1;
                    }
                    i += 1;
                }
                if bytes.get(i) == Some(&b'\n') {
                    continue;
                }
            }
            _ => {}
        }
        if stack.len() > deepest.depth {
            deepest = Nesting {
                depth: stack.len(),
                line,
            };
        }
        i += 1;
    }
    deepest
}

/// Stack bytes one level of nesting may take, the most of the parser's, the walk of the
/// tree ([`collect_pattern`]), the serializer's and the tree's drop: measured at about
/// 1 KiB in the dev profile (8,100 nested calls fit in 8 MiB, 10,000 nested braces) and
/// 0.7 KiB in release (2,000 levels fit in a rayon worker's 2 MiB, 3,000 do not); three
/// times that.
const STACK_PER_LEVEL: usize = 3 << 10;

/// Levels that run on the caller's stack: 256 take about 256 KiB (768 KiB by
/// [`STACK_PER_LEVEL`]), safe on any thread (rayon's and the test harness's have 2 MiB).
/// Most files have fewer `{` and `(` than that; the others cost a thread each.
const INLINE_LEVELS: usize = 256;

/// The most levels given their own thread: 64 Ki levels, a 192 MiB stack (reserved, not
/// used, unless the file really nests that deep).
const MAX_LEVELS: usize = 1 << 16;

/// An upper bound on the levels parsing `text` can recurse: every level opens with a `{`
/// or a `(` of the text.
fn levels(text: &str) -> usize {
    text.bytes().filter(|&b| b == b'{' || b == b'(').count()
}

/// Runs `work`, which parses texts whose recursion is bounded by `levels`, on a stack big
/// enough: the caller's for a few levels, else a thread of its own. Else why not: the
/// bound is beyond [`MAX_LEVELS`].
///
/// When no thread can be made (a pids limit, memory pressure), `work` runs on the caller's
/// stack: [`merge`] has already refused files nested deeper than [`MAX_DEPTH`], which fit
/// there, so the bytes never depend on the machine; the thread is a second guard, not the
/// first.
fn on_enough_stack<R: Send>(levels: usize, work: impl FnOnce() -> R + Send) -> Result<R, String> {
    if levels <= INLINE_LEVELS {
        return Ok(work());
    }
    if levels > MAX_LEVELS {
        return Err(format!(
            "more than {MAX_LEVELS} placeables and calls, too many to parse safely"
        ));
    }
    let stack = (1 << 20) + levels * STACK_PER_LEVEL;
    let work = std::sync::Mutex::new(Some(work));
    let take = || {
        work.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
            .expect("the work runs once")
    };
    std::thread::scope(|scope| {
        let spawned = std::thread::Builder::new()
            .name("fluent-parse".into())
            .stack_size(stack)
            .spawn_scoped(scope, || take()());
        match spawned {
            Ok(handle) => match handle.join() {
                Ok(result) => Ok(result),
                Err(panic) => std::panic::resume_unwind(panic),
            },
            Err(_) => Ok(take()()),
        }
    })
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
/// merged text. A file nested too deeply to parse (either one) gives the en-US file.
pub fn merge(
    file: &str,
    en_us: &str,
    locale: &str,
    known: &KnownIds<'_>,
    findings: &mut Vec<Finding>,
) -> Option<String> {
    for (text, whose) in [(locale, "the file"), (en_us, "the en-US file")] {
        let nesting = nesting(text);
        if nesting.depth > MAX_DEPTH {
            findings.push(Finding::string(
                FindingKind::Broken,
                file,
                "",
                (whose == "the file").then_some(nesting.line),
                format!(
                    "{whose} nests placeables {} deep, more than {MAX_DEPTH}; the en-US \
                     file is used",
                    nesting.depth
                ),
            ));
            return Some(en_us.to_owned());
        }
    }
    let bound = levels(en_us).max(levels(locale));
    match on_enough_stack(bound, || merge_parsed(file, en_us, locale, known, findings)) {
        Ok(merged) => merged,
        Err(reason) => {
            findings.push(Finding::string(
                FindingKind::Broken,
                file,
                "",
                None,
                format!("{reason}; the en-US file is used"),
            ));
            Some(en_us.to_owned())
        }
    }
}

/// [`merge`] of texts known to be safe to parse on this stack.
fn merge_parsed(
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
                    format!("{reason}; removed, the en-US message is shown instead"),
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
                "missing; the en-US message is shown at run time",
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

    /// A message `deep` nested `n` levels deep by `shape`: braces, calls or selects.
    fn deep(shape: &str, n: usize) -> String {
        match shape {
            "braces" => format!("deep = {}$x{}\n", "{ ".repeat(n), " }".repeat(n)),
            "calls" => format!("deep = {{ {}$x{} }}\n", "NUMBER(".repeat(n), ")".repeat(n)),
            _ => {
                let mut s = String::from("deep = ");
                for _ in 0..n {
                    s.push_str("{ $n ->\n *[o] ");
                }
                s.push_str("x\n");
                for _ in 0..n {
                    s.push_str("}\n");
                }
                s
            }
        }
    }

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

    #[test]
    fn nesting_is_measured_as_the_parser_recurses() {
        let cases: &[(&str, usize)] = &[
            ("a = plain text (with parentheses) and \"quotes\"\n", 0),
            ("a = { $x } and { -brand(case: \"x\") }\n", 2),
            ("a = { NUMBER($n, minimumFractionDigits: 2) }\n", 2),
            // String literals hide braces, also the unbalanced ones.
            ("a = { \"{\" } { \"}\" } { \"\\\"{\" }\n", 1),
            ("a = {\"{{{{\" }\n", 1),
            // Variants are text again: quotes there are plain characters.
            ("a = { $n ->\n    [one] \"{ $n }\"\n   *[other] x\n}\n", 2),
            // Comments and entries after junk start afresh.
            ("# { { { {\na = { { $x } }\n", 2),
            ("a = { $n ->\n *[x] y\nb = { { $x } }\n", 2),
            // Inside an expression, a line at column 0 goes on with it (it may, as `FOO(`
            // does here); counting on overestimates where the parser then fails instead.
            ("a = {\nFOO(\n{ $x })\n}\n", 3),
            ("a = { { {\nb = { $x }\n", 4),
        ];
        for (text, depth) in cases {
            assert_eq!(nesting(text).depth, *depth, "{text:?}");
        }
        assert_eq!(
            nesting(&deep("braces", 3000)),
            Nesting {
                depth: 3000,
                line: 1
            }
        );
        assert_eq!(nesting(&deep("calls", 3000)).depth, 3001);
        assert_eq!(
            nesting(&deep("selects", 3000)),
            Nesting {
                depth: 3000,
                line: 3000
            }
        );
        // Many placeables one after the other are not deep.
        assert_eq!(nesting(&"a = { \"{\" }\n".repeat(5000)).depth, 1);
    }

    /// Issue 15 (3): 3,000 nested placeables (9 KB) overflowed the stack, SIGABRT.
    #[test]
    fn a_file_nested_too_deeply_falls_back_to_en_us_without_crashing() {
        for shape in ["braces", "calls", "selects"] {
            for n in [MAX_DEPTH + 1, 3000, 100_000] {
                let locale = format!("hello = Bonjour\n    .title = Salut\n{}", deep(shape, n));
                let (out, kinds) = run(&locale, &[]);
                assert_eq!(out.as_deref(), Some(EN_US), "{shape} {n}");
                assert_eq!(kinds, [(FindingKind::Broken, String::new())], "{shape} {n}");
            }
        }
        let mut findings = Vec::new();
        let ids = HashSet::new();
        let known = KnownIds {
            en_us: &ids,
            locale: &ids,
        };
        let out = merge("a.ftl", EN_US, &deep("braces", 3000), &known, &mut findings);
        assert_eq!(out.as_deref(), Some(EN_US));
        assert_eq!(findings[0].line, Some(1));
        assert_eq!(
            findings[0].detail,
            "the file nests placeables 3000 deep, more than 100; the en-US file is used"
        );
        // Counting the strings of such a file does not parse it either.
        assert_eq!(count_entries(&deep("braces", 3000)), 1);
        // Shallow, but with more `{` than a parse is given stack for: refused too.
        let many = "hello = { $x }\n".repeat(MAX_LEVELS + 1);
        assert_eq!(
            run(&many, &[]),
            (
                Some(EN_US.to_owned()),
                vec![(FindingKind::Broken, String::new())]
            )
        );
        assert_eq!(count_entries(&many), MAX_LEVELS + 1);
    }

    #[test]
    fn a_file_nested_as_deep_as_allowed_is_merged_as_usual() {
        let en_us = format!("{EN_US}{}", deep("braces", MAX_DEPTH));
        let ids: HashSet<String> = defined_ids(&en_us).map(str::to_owned).collect();
        let known = KnownIds {
            en_us: &ids,
            locale: &ids,
        };
        let mut findings = Vec::new();
        assert_eq!(merge("a.ftl", &en_us, &en_us, &known, &mut findings), None);
        assert_eq!(findings, []);
        assert_eq!(count_entries(&en_us), 5);
    }

    /// Whatever the scan misses, parsing runs on a stack big enough for every `{` and `(`
    /// of the file: 3,000 levels, which overflowed a 2 MiB stack, parse on this (2 MiB)
    /// test thread when given one.
    #[test]
    fn parsing_runs_on_a_stack_big_enough_for_every_brace() {
        for shape in ["braces", "calls", "selects"] {
            let text = deep(shape, 3000);
            let parsed = on_enough_stack(levels(&text), || {
                let ids = HashSet::new();
                let known = KnownIds {
                    en_us: &ids,
                    locale: &ids,
                };
                let locale = format!("{text}obsolete = x\n");
                let mut findings = Vec::new();
                let merged = merge_parsed("a.ftl", &text, &locale, &known, &mut findings);
                (merged.map(|m| defined_ids(&m).count()), findings.len())
            });
            // `obsolete` is removed: `deep` is what is left.
            assert_eq!(parsed, Ok((Some(1), 1)), "{shape}");
        }
        assert_eq!(
            on_enough_stack(MAX_LEVELS + 1, || ()),
            Err("more than 65536 placeables and calls, too many to parse safely".into())
        );
    }
}
