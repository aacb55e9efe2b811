#!/usr/bin/env python3
"""Run Mozilla's compare-locales on an en-US Firefox build + flat langpack dirs,
and print per-file missing/error/warning/obsolete counts as one JSON object.

This is the oracle for l10n-repack's string-level merge: the counts our merge
computes for .ftl, .properties, .dtd and .ini files must agree with what
compare-locales reports for the same inputs.

Usage:
    python3 compare_locales_counts.py --en-us EN_US_TARBALL --l10n L10N_DIR \
        --locales fr,de,ja [--keep-work DIR] [--jobs N] [--python PY]

`--locales all` takes every sub-directory of L10N_DIR.

Requirements: Python 3 standard library, plus the `compare_locales` package
(PyPI `compare-locales`; 9.0.5 was used to write this). If the interpreter
running this script cannot import it, the script re-executes itself with the
interpreter of the `compare-locales` command found on PATH (its shebang), or
with the one given by `--python` or $COMPARE_LOCALES_PYTHON, e.g.:

    python3 -m venv /tmp/clvenv && /tmp/clvenv/bin/pip install compare-locales
    PATH=/tmp/clvenv/bin:$PATH python3 compare_locales_counts.py ...

What it does:
 1. Reads firefox/omni.ja and firefox/browser/omni.ja out of the tarball (.tar.bz2
    or .tar.xz). The jars are read with a small zip reader of our own, which uses
    the absolute offsets of the end record and the central directory, so it also
    reads Mozilla's "optimized" jar layout that Python's zipfile rejects.
 2. Picks the en-US localizable files: entries under the directories named by the
    `locale <package> en-US <path>` lines of each jar's chrome/chrome.manifest
    (paths relative to chrome/), plus everything under localization/en-US/, and
    only the formats .ftl, .properties, .dtd, .ini.
 3. Maps each to its path in the "flat package layout" of a langpack
    (browser/omni.ja entry <rest> <-> langpack path browser/<rest>, omni.ja entry
    <rest> <-> <rest>, every `en-US` path segment replaced by the locale code).
    Both the reference tree and each locale's tree are written with that flat
    path, the locale segments replaced by PLACEHOLDER, so that the relative paths
    are identical, as compare-locales' `reference = "en-US/**"` /
    `l10n = "{l}**"` config needs.
 4. The locale trees get every .ftl/.properties/.dtd/.ini file of the langpack
    dir. A langpack file with no en-US counterpart is kept (compare-locales then
    reports it as an obsolete file). Other files (.js, .json, .svg, ...) are
    not copied: compare-locales would report them as obsolete files or skip them.
 5. Writes l10n.toml and runs the compare-locales CLI with --json (in
    parallel chunks of locales, --jobs), then normalizes its output.

Output (stdout), one JSON object:
{
  "compare_locales_version": "9.0.5",
  "summaries": {"<loc>": {compare-locales' per-locale summary: errors, warnings,
                missing, missing_w, report, obsolete, changed, changed_w,
                unchanged, unchanged_w, keys}},
  "locales": {
    "<loc>": {
      "<flat langpack path with the real locale code>": {
        "missing": n,        # see MISSING below
        "errors": n,         # compare-locales "error" notifications for the file
        "warnings": n,       # compare-locales "warning" notifications for the file
        "obsolete": n,       # entities in l10n that are not in en-US (Junk excluded)
        "missing_file": bool,   # the l10n file does not exist
        "obsolete_file": bool,  # the l10n file has no en-US counterpart (extra field)
        "missing_keys": [...],  # ids counted in "missing" (empty for a missing file)
        "obsolete_keys": [...], # ids counted in "obsolete"
        "messages": [{"level": "error"|"warning", "key": "<entity id or ''>",
                      "message": "<check message>", "line": n|null,
                      "column": n|null}, ...]
      }
    }
  }
}
Only files with something to report are listed (missing > 0, errors, warnings,
obsolete > 0, missing_file, obsolete_file). Every locale asked for is present,
possibly as {}.

MISSING: "missing" is exactly compare-locales' "missing" stat for the file
(ContentComparer in compare_locales/compare/content.py):
  * file present in both trees: the number of distinct entity ids of the en-US
    file that are absent from the l10n file (one per .properties key, .dtd
    entity, .ini key, and one per Fluent message or term: Fluent attributes are
    NOT entities, a missing attribute is an "error" on the message instead). The
    ids come from KeyedTuple keys, so a key duplicated in en-US counts once. An
    l10n entry that fails to parse becomes Junk, its id therefore counts as
    missing AND the Junk is one error. en-US Junk never counts as missing (it
    gives a warning "Parser error in en-US" instead). Ids containing "key"/"Key"
    are counted like any other here (they are only special for changed/unchanged).
  * l10n file absent (missing_file): the number of non-Junk entities in the en-US
    file, parsed the same way (ContentComparer.add), without de-duplication.
  No [[filters]] are configured, so every missing entity counts as "missing" and
  none as "report".
The script checks that the per-file numbers add up to compare-locales' own
per-locale summary and fails (exit 2) if they don't.
"""

import argparse
import json
import os
import posixpath
import re
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
import zlib
from concurrent.futures import ThreadPoolExecutor

FORMATS = (".ftl", ".properties", ".dtd", ".ini")
PLACEHOLDER = "__l10n_locale__"
JARS = (("firefox/omni.ja", ""), ("firefox/browser/omni.ja", "browser/"))


# --------------------------------------------------------------------------
# interpreter with compare_locales


def ensure_compare_locales(args_python):
    try:
        import compare_locales  # noqa: F401

        return
    except ImportError:
        pass
    if os.environ.get("_CL_COUNTS_REEXEC"):
        sys.exit("compare_locales is not importable by %s" % sys.executable)
    py = args_python or os.environ.get("COMPARE_LOCALES_PYTHON")
    if not py:
        exe = shutil.which("compare-locales")
        if exe:
            with open(exe, "rb") as f:
                first = f.readline().decode("utf-8", "replace").strip()
            if first.startswith("#!"):
                py = first[2:].strip().split()[0]
    if not py:
        sys.exit(
            "compare_locales not found: pip install compare-locales into a venv, "
            "then put its bin/ on PATH or pass --python VENV/bin/python"
        )
    env = dict(os.environ, _CL_COUNTS_REEXEC="1")
    os.execve(py, [py, os.path.abspath(__file__)] + sys.argv[1:], env)


# --------------------------------------------------------------------------
# jar reading (plain and Mozilla "optimized" layouts)


def jar_entries(data):
    """Return {name: bytes-getter} for a zip/jar held in memory."""
    eocd = data.rfind(b"PK\x05\x06", max(0, len(data) - 65557))
    if eocd < 0:
        raise ValueError("no end of central directory record")
    _, _, _, total, cd_size, cd_offset, _ = struct.unpack(
        "<HHHHIIH", data[eocd + 4 : eocd + 22]
    )
    if data[cd_offset : cd_offset + 4] != b"PK\x01\x02":
        # plain zip with a prefix: the central directory sits before the EOCD
        cd_offset = eocd - cd_size
        if data[cd_offset : cd_offset + 4] != b"PK\x01\x02":
            raise ValueError("cannot find the central directory")
    entries = {}
    pos = cd_offset
    for _ in range(total):
        if data[pos : pos + 4] != b"PK\x01\x02":
            raise ValueError("bad central directory entry at %d" % pos)
        (method, crc, csize, usize, nlen, elen, clen, lho) = struct.unpack(
            "<6xH4xIIIHHH8xI", data[pos + 4 : pos + 46]
        )
        name = data[pos + 46 : pos + 46 + nlen].decode("utf-8")
        pos += 46 + nlen + elen + clen
        entries[name] = (method, crc, csize, usize, lho)

    def getter(name):
        method, crc, csize, usize, lho = entries[name]
        if data[lho : lho + 4] != b"PK\x03\x04":
            raise ValueError("bad local header for %s" % name)
        nlen, elen = struct.unpack("<HH", data[lho + 26 : lho + 30])
        start = lho + 30 + nlen + elen
        raw = data[start : start + csize]
        if method == 0:
            out = raw
        elif method == 8:
            out = zlib.decompress(raw, -15)
        else:
            raise ValueError("unsupported compression %d for %s" % (method, name))
        if len(out) != usize or zlib.crc32(out) != crc:
            raise ValueError("CRC/size mismatch for %s" % name)
        return out

    return {name: (lambda n=name: getter(n)) for name in entries}


def read_jars(tarball):
    wanted = {name for name, _ in JARS}
    found = {}
    with tarfile.open(tarball, "r:*") as tf:
        for m in tf:
            name = m.name[2:] if m.name.startswith("./") else m.name
            if name in wanted and m.isfile():
                found[name] = tf.extractfile(m).read()
                if len(found) == len(wanted):
                    break
    missing = wanted - set(found)
    if missing:
        sys.exit("%s: missing %s" % (tarball, ", ".join(sorted(missing))))
    return found


def localizable_entries(entries):
    """en-US jar entry names to compare: chrome locale dirs + localization/en-US/."""
    prefixes = ["localization/en-US/"]
    if "chrome/chrome.manifest" in entries:
        manifest = entries["chrome/chrome.manifest"]().decode("utf-8")
        for line in manifest.splitlines():
            parts = line.split()
            if len(parts) >= 4 and parts[0] == "locale" and parts[2] == "en-US":
                p = posixpath.normpath(posixpath.join("chrome", parts[3]))
                prefixes.append(p.rstrip("/") + "/")
    return sorted(
        n
        for n in entries
        if n.endswith(FORMATS) and any(n.startswith(p) for p in prefixes)
    )


def subst(path, old, new):
    return "/".join(new if seg == old else seg for seg in path.split("/"))


# --------------------------------------------------------------------------
# compare-locales output handling


def flatten_details(tree, prefix=""):
    """compare-locales' details tree -> {path: [notifications]}."""
    out = {}
    if isinstance(tree, list):
        out[prefix] = tree
        return out
    for k, v in tree.items():
        out.update(flatten_details(v, prefix + "/" + k if prefix else k))
    return out


CHECK_RE = re.compile(
    r"\A(?P<msg>.*) at line (?P<line>\d+), column (?P<col>\d+) for (?P<key>.*)\Z",
    re.S,
)
DUP_RE = re.compile(r"\A(?P<key>.*) occurs (?P<n>\d+) times\Z", re.S)
JUNK_RE = re.compile(
    r"\AUnparsed content .* from line (?P<line>\d+) column (?P<col>\d+)"
    r" to line \d+ column \d+\Z",
    re.S,
)


def normalize_message(level, text):
    m = CHECK_RE.match(text)
    if m:
        return {
            "level": level,
            "key": m["key"],
            "message": m["msg"],
            "line": int(m["line"]),
            "column": int(m["col"]),
        }
    m = DUP_RE.match(text)
    if m:
        return {"level": level, "key": m["key"], "message": text,
                "line": None, "column": None}
    m = JUNK_RE.match(text)
    if m:
        return {"level": level, "key": "", "message": text,
                "line": int(m["line"]), "column": int(m["col"])}
    return {"level": level, "key": "", "message": text, "line": None, "column": None}


def count_missing_file(ref_path):
    """Exactly ContentComparer.add: non-Junk entities of the reference file."""
    from compare_locales import parser

    try:
        p = parser.getParser(ref_path)
    except UserWarning:
        return 0
    p.readFile(ref_path)
    return len([e for e in p.parse() if not isinstance(e, parser.Junk)])


# --------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--en-us", required=True, help="en-US Firefox .tar.bz2/.tar.xz")
    ap.add_argument("--l10n", required=True, help="dir of flat langpack dirs <locale>/")
    ap.add_argument("--locales", required=True, help="comma-separated, or 'all'")
    ap.add_argument("--keep-work", help="work dir to create and keep")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--python", help="python interpreter that has compare_locales")
    args = ap.parse_args()
    ensure_compare_locales(args.python)
    import compare_locales

    l10n_dir = os.path.abspath(args.l10n)
    if args.locales == "all":
        locales = sorted(
            d for d in os.listdir(l10n_dir) if os.path.isdir(os.path.join(l10n_dir, d))
        )
    else:
        locales = [x for x in args.locales.split(",") if x]
    for loc in locales:
        if not os.path.isdir(os.path.join(l10n_dir, loc)):
            sys.exit("no langpack dir %s" % os.path.join(l10n_dir, loc))

    if args.keep_work:
        work = os.path.abspath(args.keep_work)
        if os.path.exists(work) and os.listdir(work):
            sys.exit("--keep-work dir %s exists and is not empty" % work)
        os.makedirs(work, exist_ok=True)
    else:
        work = tempfile.mkdtemp(prefix="cl-counts-")
    try:
        result = run(args, compare_locales.version, l10n_dir, locales, work)
    finally:
        if not args.keep_work:
            shutil.rmtree(work, ignore_errors=True)
    json.dump(result, sys.stdout, indent=1, sort_keys=True, ensure_ascii=False)
    sys.stdout.write("\n")


def run(args, version, l10n_dir, locales, work):
    ref_root = os.path.join(work, "en-US")
    l10n_root = os.path.join(work, "l10n")

    # 1-3: reference tree. ref_rel: placeholder relpath -> flat path template
    ref_rel = set()
    jars = read_jars(args.en_us)
    for jar_name, flat_prefix in JARS:
        entries = jar_entries(jars[jar_name])
        for name in localizable_entries(entries):
            rel = flat_prefix + subst(name, "en-US", PLACEHOLDER)
            dest = os.path.join(ref_root, rel)
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            with open(dest, "wb") as f:
                f.write(entries[name]())
            ref_rel.add(rel)
    del jars

    # 4: l10n trees. rel_to_flat[loc][placeholder relpath] = real flat path
    rel_to_flat = {}
    for loc in locales:
        r2f = rel_to_flat[loc] = {}
        flat_to_rel = {subst(rel, PLACEHOLDER, loc): rel for rel in ref_rel}
        r2f.update((rel, flat) for flat, rel in flat_to_rel.items())
        src_root = os.path.join(l10n_dir, loc)
        for d, _, files in os.walk(src_root):
            for fn in files:
                if not fn.endswith(FORMATS):
                    continue
                src = os.path.join(d, fn)
                flat = os.path.relpath(src, src_root).replace(os.sep, "/")
                rel = flat_to_rel.get(flat) or subst(flat, loc, PLACEHOLDER)
                r2f.setdefault(rel, flat)
                dest = os.path.join(l10n_root, loc, rel)
                os.makedirs(os.path.dirname(dest), exist_ok=True)
                shutil.copyfile(src, dest)
        os.makedirs(os.path.join(l10n_root, loc), exist_ok=True)

    # 5: config and CLI runs
    config = os.path.join(work, "l10n.toml")
    with open(config, "w") as f:
        f.write(
            'basepath = "."\n'
            "locales = [%s]\n\n"
            "[env]\n"
            '    l = "{l10n_base}/{locale}/"\n\n'
            "[[paths]]\n"
            '    reference = "en-US/**"\n'
            '    l10n = "{l}**"\n' % ", ".join(json.dumps(x) for x in locales)
        )
    jobs = max(1, min(args.jobs, len(locales)))
    chunks = [locales[i::jobs] for i in range(jobs)]

    def run_chunk(i):
        out = os.path.join(work, "cl-%d.json" % i)
        cmd = [
            sys.executable, "-c",
            "import sys; from compare_locales.commands import CompareLocales; "
            "sys.argv[0] = 'compare-locales'; sys.exit(CompareLocales.call())",
            "--return-zero", "--json", out, config, l10n_root,
        ] + chunks[i]
        p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           text=True)
        if p.returncode != 0:
            raise RuntimeError("compare-locales failed (%d): %s" % (p.returncode, p.stderr))
        with open(out) as f:
            return json.load(f)

    with ThreadPoolExecutor(jobs) as ex:
        outputs = list(ex.map(run_chunk, range(jobs)))

    # normalize
    result = {"compare_locales_version": version, "summaries": {}, "locales": {}}
    missing_file_cache = {}
    problems = []
    for data in outputs:
        assert len(data) == 1, "one project config, one observer"
        obs = data[0]
        for loc, summary in obs["summary"].items():
            result["summaries"][loc] = summary
        for path, notes in flatten_details(obs["details"]).items():
            loc, _, rel = path.partition("/")
            flat = rel_to_flat[loc].get(rel, subst(rel, PLACEHOLDER, loc))
            rec = {"missing": 0, "errors": 0, "warnings": 0, "obsolete": 0,
                   "missing_file": False, "obsolete_file": False,
                   "missing_keys": [], "obsolete_keys": [], "messages": []}
            for note in notes:
                ((cat, val),) = note.items()
                if cat == "missingEntity":
                    rec["missing"] += 1
                    rec["missing_keys"].append(val)
                elif cat == "obsoleteEntity":
                    rec["obsolete"] += 1
                    rec["obsolete_keys"].append(val)
                elif cat == "missingFile":
                    rec["missing_file"] = True
                    if rel not in missing_file_cache:
                        missing_file_cache[rel] = count_missing_file(
                            os.path.join(ref_root, rel))
                    rec["missing"] += missing_file_cache[rel]
                elif cat == "obsoleteFile":
                    rec["obsolete_file"] = True
                elif cat in ("error", "warning"):
                    rec[cat + "s"] += 1
                    rec["messages"].append(normalize_message(cat, val))
                else:
                    problems.append("unknown notification %r in %s" % (note, path))
            result["locales"].setdefault(loc, {})[flat] = rec
    for loc in locales:
        files = result["locales"].setdefault(loc, {})
        summary = result["summaries"].setdefault(loc, {})
        for stat in ("missing", "errors", "warnings", "obsolete"):
            mine = sum(r[stat] for r in files.values())
            theirs = summary.get(stat, 0)
            if mine != theirs:
                problems.append("%s: %s per file %d != summary %d"
                                % (loc, stat, mine, theirs))
        # compare-locales' details only list files with notifications; keep
        # the "something to report" rule explicit anyway.
        for flat in [f for f, r in files.items() if not (
                r["missing"] or r["errors"] or r["warnings"] or r["obsolete"]
                or r["missing_file"] or r["obsolete_file"])]:
            del files[flat]
    if problems:
        sys.stderr.write("\n".join(problems) + "\n")
        sys.exit(2)
    return result


if __name__ == "__main__":
    main()
