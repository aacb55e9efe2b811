#!/usr/bin/env python3
"""Independent checker for the MAR files l10n-repack writes (Python 3.11 stdlib only).

Written from Mozilla's sources, not from this project's Rust code:
  modules/libmar/src/mar_read.c                       MAR layout and product information block
  toolkit/mozapps/update/updater/archivereader.cpp    each member is one xz stream
  toolkit/mozapps/update/updater/updater.cpp          updatev3.manifest and its actions
  toolkit/mozapps/update/updater/bspatch/bspatch.cpp  MBDIFF10 (written by other-licenses/bsdiff)
  tools/update-packaging/make_incremental_update.sh   the manifest a partial MAR carries

As updater.cpp does, `apply` checks every condition (add-if, add-if-not, patch-if, remove,
rmdir) and builds every new file against the installation as it was before the update, then
moves new files into place and removes files in manifest order, and removes directories
(rmdir, and those under an rmrfdir) last, each only if empty. MBDIFF10's scrc32 is bzip2's
CRC-32 (BZ2_crc32Table, MSB first), not zlib's.

Usage:
  mar_tool.py info MAR
  mar_tool.py unpack MAR DIR
  mar_tool.py apply PARTIAL_MAR FROM_DIR OUT_DIR
  mar_tool.py compare [--ignore-empty-dirs] DIR_A DIR_B
  mar_tool.py mbdiff-apply OLD PATCH OUT
Exit status 0 on success, 1 on any failure or difference (the message says where).
"""
import argparse
import collections
import filecmp
import lzma
import os
import re
import shutil
import stat
import struct
import sys
import zlib

PRODUCT_INFO_BLOCK_ID = 1
XZ_CHECKS = {0: "none", 1: "CRC32", 4: "CRC64"}  # the checks the updater's xz-embedded verifies
MANIFEST = "updatev3.manifest"
ARITY = {"add": 1, "add-if": 2, "add-if-not": 2, "patch": 2, "patch-if": 3,
         "remove": 1, "rmdir": 1, "rmrfdir": 1}


class Fail(Exception):
    """A check failed; the message names the file and what was wrong."""


def need(cond, msg):
    if not cond:
        raise Fail(msg)


def check_rel(path, where, isdir=False):
    """updater.cpp get_valid_path: relative, no '..' anywhere, directories end with '/'."""
    need(not isdir or path.endswith("/"), f"{where}: directory path {path!r} must end with '/'")
    need(path.rstrip("/") and not path.startswith("/") and ".." not in path,
         f"{where}: refusing path {path!r} (empty, absolute or containing '..')")
    return path.rstrip("/") if isdir else path


class Mar:
    """A MAR file read whole and checked as mar_read.c checks it, and a little stricter."""

    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:
            self.data = data = f.read()
        need(data[:4] == b"MAR1", f"{path}: bad magic {data[:4]!r}, expected b'MAR1'")
        index_off, total, nsig = self._at(">IQI", 4)
        need(total == len(data), f"{path}: header total_file_size {total} != size {len(data)}")
        need(nsig <= 8, f"{path}: {nsig} signatures, mar_read.c allows at most 8")
        pos, self.signatures, self.blocks, self.product = 20, [], [], None
        for _ in range(nsig):
            alg, n = self._at(">II", pos)
            self.signatures.append(alg)
            pos += 8 + n
        (nblocks,) = self._at(">I", pos)
        pos += 4
        for _ in range(nblocks):
            size, bid = self._at(">II", pos)
            need(size >= 8 and pos + size <= index_off, f"{path}: bad block at {pos}")
            payload, pos = data[pos + 8:pos + size], pos + size
            self.blocks.append((bid, size))
            if bid == PRODUCT_INFO_BLOCK_ID and self.product is None:
                parts = payload.split(b"\0")
                need(len(payload) <= 96 and len(parts) >= 3,
                     f"{path}: product information block must be <= 96 bytes holding a "
                     f"NUL-terminated channel and version: {payload!r}")
                need(len(parts[0]) < 64 and len(parts[1]) < 32,
                     f"{path}: channel must be < 64 and version < 32 bytes")
                self.product = (parts[0].decode(), parts[1].decode())
        start = pos  # the first byte after the header: where member contents may begin
        need(index_off >= start, f"{path}: offset_to_index {index_off} points into the header")
        end = index_off + 4 + self._at(">I", index_off)[0]
        need(end == len(data), f"{path}: index ends at {end}, file at {len(data)}")
        self.entries, pos = {}, index_off + 4
        while pos < end:
            off, length, flags = self._at(">III", pos)
            nul = data.find(b"\0", pos + 12, end)
            need(nul > pos + 12, f"{path}: index entry at {pos} has no NUL-terminated name")
            name, pos = data[pos + 12:nul].decode("utf-8"), nul + 1
            need(name not in self.entries, f"{path}: duplicate member {name!r}")
            need(length and start <= off and off + length <= index_off,
                 f"{path}: member {name!r} at {off}+{length} is empty or outside [{start}, "
                 f"{index_off})")
            need(not flags & ~0o777, f"{path}: member {name!r} flags {flags:#o} exceed 0o777")
            self.entries[name] = (off, length, flags)
        spans = sorted((o, o + n, k) for k, (o, n, _) in self.entries.items())
        for a, b in zip(spans, spans[1:]):
            need(b[0] >= a[1], f"{path}: members {a[2]!r} and {b[2]!r} overlap")

    def _at(self, fmt, pos):
        need(pos + struct.calcsize(fmt) <= len(self.data), f"{self.path}: truncated at {pos}")
        return struct.unpack_from(fmt, self.data, pos)

    def member(self, name, where):
        """Decompressed bytes of member `name`: exactly one xz stream, nothing after it."""
        need(name in self.entries, f"{where}: member {name!r} is not in {self.path}")
        off, length, _ = self.entries[name]
        raw, dec = self.data[off:off + length], lzma.LZMADecompressor(lzma.FORMAT_XZ)
        need(raw[:7] == b"\xfd7zXZ\0\0" and len(raw) >= 12,
             f"{where}: member {name!r} is not an xz stream")
        need(raw[7] in XZ_CHECKS, f"{where}: member {name!r} uses xz check id {raw[7]}; the "
             f"updater verifies only {sorted(XZ_CHECKS.values())}")
        try:
            out = dec.decompress(raw)
        except lzma.LZMAError as e:
            raise Fail(f"{where}: member {name!r}: xz error: {e}") from None
        need(dec.eof, f"{where}: member {name!r}: xz stream is truncated")
        need(not dec.unused_data, f"{where}: member {name!r}: {len(dec.unused_data)} bytes "
             "follow the xz stream (expected exactly one stream)")
        return out


def write_file(path, content, mode):
    """Write via a temporary file in the same directory, then rename it over `path`."""
    tmp = f"{path}.mar_tool.tmp"
    with open(tmp, "wb") as f:
        f.write(content)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


# ---- MBDIFF10 (bspatch.cpp) ----
_BITREV8 = bytes(int(f"{i:08b}"[::-1], 2) for i in range(256))
_NONZERO = re.compile(rb"[^\x00]+")


def bz2_crc32(data):
    """bzip2's CRC-32, as bsdiff.c and updater.cpp compute scrc32. It is zlib's CRC-32
    with the bit order reversed, so zlib computes it over bit-reversed bytes."""
    return int(f"{zlib.crc32(data.translate(_BITREV8)):032b}"[::-1], 2)


def add_bytes(old, diff):
    """(old + diff) mod 256 bytewise; only the nonzero runs of the diff need work."""
    out = bytearray(old)
    for m in _NONZERO.finditer(diff):
        s, e = m.span()
        out[s:e] = bytes((a + b) & 0xFF for a, b in zip(old[s:e], diff[s:e]))
    return out


def mbspatch(old, patch, what):
    """Apply an MBDIFF10 patch to `old`; `what` names the file in error messages."""
    need(len(patch) >= 32 and patch[:8] == b"MBDIFF10", f"{what}: not an MBDIFF10 patch")
    slen, scrc, dlen, cblen, difflen, extralen = struct.unpack_from(">6I", patch, 8)
    need(32 + cblen + difflen + extralen == len(patch), f"{what}: patch is {len(patch)} "
         f"bytes, header says 32+{cblen}+{difflen}+{extralen}")
    need(cblen % 12 == 0, f"{what}: control block length {cblen} is not a multiple of 12")
    need(len(old) == slen, f"{what}: source is {len(old)} bytes, the patch expects {slen}")
    crc = bz2_crc32(old)
    hint = " (it is zlib's CRC-32 of the source; bspatch uses bzip2's)" * (zlib.crc32(old) == scrc)
    need(crc == scrc, f"{what}: source CRC-32 {crc:08x} != patch scrc32 {scrc:08x}{hint}")
    dpos = 32 + cblen
    dend = epos = dpos + difflen
    out, opos = bytearray(), 0
    for n, i in enumerate(range(32, 32 + cblen, 12)):
        x, y, z = struct.unpack_from(">IIi", patch, i)
        need(x <= slen - opos and x <= dend - dpos,
             f"{what}: control {n}: x={x} overruns the source or the diff block")
        out += add_bytes(old[opos:opos + x], patch[dpos:dpos + x])
        opos, dpos = opos + x, dpos + x
        need(y <= len(patch) - epos, f"{what}: control {n}: y={y} overruns the extra block")
        out += patch[epos:epos + y]
        epos += y
        need(0 <= opos + z <= slen, f"{what}: control {n}: seek z={z} leaves the source")
        opos += z
    need(len(out) == dlen, f"{what}: result is {len(out)} bytes, header says {dlen}")
    need(dpos == dend and epos == len(patch), f"{what}: malformed patch: {dend - dpos} diff "
         f"and {len(patch) - epos} extra bytes left unused")
    return bytes(out)


# ---- updatev3.manifest (updater.cpp) ----
def parse_manifest(text):
    """[(where, instruction, args)]; the first instruction must be type "partial"."""
    out, typed = [], False
    for no, line in enumerate(re.split(r"\r\n|\r|\n", text), 1):
        if not line or line.startswith("#"):
            continue
        m = re.fullmatch(r'[ \t]*([a-z-]+)((?:[ \t]+"[^"]*")*)[ \t]*', line)
        kind, args = (m[1], re.findall(r'"([^"]*)"', m[2])) if m else (None, [])
        where = f"{MANIFEST} line {no} `{line}`"
        if not typed:
            need((kind, args) == ("type", ["partial"]),
                 f'{where}: the first instruction must be type "partial"')
            typed = True
            continue
        need(len(args) == ARITY.get(kind), f"{where}: unknown instruction or wrong arguments")
        for i, a in enumerate(args):
            if not (kind.startswith("patch") and i == len(args) - 2):  # not the patch member
                check_rel(a, where, isdir=kind.startswith("rm"))
        out.append((where, kind, [a.rstrip("/") if kind.startswith("rm") else a for a in args]))
    need(typed, f"{MANIFEST}: empty manifest")
    return out


class Update:
    """updater.cpp's action list: one partial MAR applied to the installation at `out`."""

    def __init__(self, mar, out):
        self.mar, self.out, self.plan, self.dirs = mar, out, [], []
        self.counts, self.skipped = collections.Counter(), collections.Counter()

    def full(self, rel):
        return os.path.join(self.out, rel)

    def run(self):
        """Prepare and Draft every instruction, Execute them in order, Finish; a summary."""
        for where, kind, args in parse_manifest(self.mar.member(MANIFEST, self.mar.path).decode()):
            self.counts[kind] += 1
            try:
                self.prepare(where, kind, args)
            except OSError as e:
                raise Fail(f"{where}: {e}") from None
        for where, op, rel, *new in self.plan:  # Execute, in manifest order
            try:
                if op == "write":
                    os.makedirs(os.path.dirname(self.full(rel)) or self.out, exist_ok=True)
                    write_file(self.full(rel), *new)
                elif os.path.lexists(self.full(rel)):
                    os.remove(self.full(rel))
            except OSError as e:
                raise Fail(f"{where}: {op} {rel!r}: {e}") from None
        for d in self.dirs:  # Finish: rmdir, only if empty; failing to is not an error
            try:
                os.rmdir(self.full(d))
            except OSError:
                pass
        return " ".join(f"{k}={self.counts[k]}" + f"({self.skipped[k]} skipped)"
                        * bool(self.skipped[k]) for k in ARITY)

    def prepare(self, where, kind, args):
        """Check one instruction against the installation as it was before the update
        and queue its new contents (plan) or the directories it may remove (dirs)."""
        full, mar, plan = self.full, self.mar, self.plan
        test = os.path.exists(full(args[0]))  # the test path, or the only path (access F_OK)
        if (kind in ("add-if", "patch-if") and not test) or (kind == "add-if-not" and test):
            self.skipped[kind] += 1
        elif kind.startswith("add"):
            rel = args[-1]
            plan.append((where, "write", rel, mar.member(rel, where), mar.entries[rel][2]))
        elif kind.startswith("patch"):
            patch, rel = mar.member(args[-2], where), args[-1]
            need(os.path.isfile(full(rel)), f"{where}: file to patch {rel!r} does not exist")
            with open(full(rel), "rb") as f:
                new = mbspatch(f.read(), patch, f"{where}: {rel}")
            plan.append((where, "write", rel, new, os.stat(full(rel)).st_mode & 0o777))
        elif not test:  # remove, rmdir, rmrfdir of something absent: nothing to do
            self.skipped[kind] += 1
        elif kind == "remove":
            need(os.path.isfile(full(args[0])), f"{where}: {args[0]!r} is not a regular file")
            plan.append((where, "remove", args[0]))
        else:
            need(os.path.isdir(full(args[0])) and not os.path.islink(full(args[0])),
                 f"{where}: {args[0]!r} exists but is not a directory")
            if kind == "rmrfdir":
                self.rmrf(where, args[0])
            else:
                self.dirs.append(args[0])

    def rmrf(self, where, rel):
        """rmrfdir: remove every file below rel, then each directory if empty (post-order)."""
        with os.scandir(self.full(rel)) as it:
            for e in sorted(it, key=lambda e: e.name):
                if e.is_dir(follow_symlinks=False):
                    self.rmrf(where, f"{rel}/{e.name}")
                else:
                    self.plan.append((where, "remove", f"{rel}/{e.name}"))
        self.dirs.append(rel)


# ---- tree comparison ----
def scan(root):
    """{relative path: ("file", mode) | ("dir", None) | ("link", target) | ("other", None)}."""
    tree = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            mode = os.lstat(p).st_mode
            kind = ("file" if stat.S_ISREG(mode) else "dir" if stat.S_ISDIR(mode)
                    else "link" if stat.S_ISLNK(mode) else "other")
            tree[os.path.relpath(p, root)] = (kind, mode & 0o777 if kind == "file" else
                                              os.readlink(p) if kind == "link" else None)
    return tree


def compare(a, b, ignore_empty_dirs):
    ta, tb = scan(a), scan(b)
    nonempty = set()  # directories with a file (or link) somewhere beneath them
    for p, (kind, _) in [*ta.items(), *tb.items()]:
        while kind != "dir" and (p := os.path.dirname(p)):
            nonempty.add(p)
    diffs = []
    for rel in sorted(ta.keys() | tb.keys()):
        ea, eb = ta.get(rel), tb.get(rel)
        if ea is None or eb is None:
            if not (ignore_empty_dirs and (ea or eb)[0] == "dir" and rel not in nonempty):
                diffs.append(f"{rel}: {(ea or eb)[0]} only in {a if eb is None else b}")
        elif ea[0] != eb[0] or ea[0] in ("link", "other") and ea != eb:
            diffs.append(f"{rel}: {ea} in {a}, {eb} in {b}")
        elif ea[0] == "file":
            if ea[1] != eb[1]:
                diffs.append(f"{rel}: mode {ea[1]:#o} != {eb[1]:#o}")
            if not filecmp.cmp(os.path.join(a, rel), os.path.join(b, rel), shallow=False):
                diffs.append(f"{rel}: contents differ")
    return sum(1 for k, _ in ta.values() if k == "file"), diffs


# ---- commands ----
def cmd_info(a):
    mar = Mar(a.mar)
    print(f"{a.mar}: {len(mar.data)} bytes, {len(mar.entries)} members")
    print(f"signature algorithms: {mar.signatures}; additional blocks (id, size): {mar.blocks}")
    for name, (_, length, flags) in mar.entries.items():
        print(f"  {flags:04o} {length:>10} {name}")
    need(mar.product, f"{a.mar}: no product information block (id {PRODUCT_INFO_BLOCK_ID})")
    print(f"channel: {mar.product[0]}\nversion: {mar.product[1]}")


def cmd_unpack(a):
    mar = Mar(a.mar)
    for name in mar.entries:
        check_rel(name, f"{a.mar}: member")
    for name, (_, _, flags) in mar.entries.items():
        os.makedirs(os.path.dirname(os.path.join(a.dir, name)) or a.dir, exist_ok=True)
        write_file(os.path.join(a.dir, name), mar.member(name, a.mar), flags)
    print(f"unpacked {len(mar.entries)} members into {a.dir}")


def cmd_apply(a):
    mar = Mar(a.mar)
    need(not os.path.lexists(a.out_dir), f"{a.out_dir} already exists")
    shutil.copytree(a.from_dir, a.out_dir, symlinks=True)
    print(f"applied {a.mar}: {Update(mar, a.out_dir).run()}")


def cmd_compare(a):
    n, diffs = compare(a.dir_a, a.dir_b, a.ignore_empty_dirs)
    print("\n".join(diffs) or f"identical: {n} files")
    need(not diffs, f"{len(diffs)} differences between {a.dir_a} and {a.dir_b}")


def cmd_mbdiff_apply(a):
    with open(a.old, "rb") as f, open(a.patch, "rb") as p:
        new = mbspatch(f.read(), p.read(), a.old)
    write_file(a.out, new, os.stat(a.old).st_mode & 0o777)
    print(f"wrote {a.out} ({len(new)} bytes)")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name, func, args in [("info", cmd_info, ["mar"]), ("unpack", cmd_unpack, ["mar", "dir"]),
                             ("apply", cmd_apply, ["mar", "from_dir", "out_dir"]),
                             ("compare", cmd_compare, ["dir_a", "dir_b"]),
                             ("mbdiff-apply", cmd_mbdiff_apply, ["old", "patch", "out"])]:
        p = sub.add_parser(name)
        p.set_defaults(func=func)
        for arg in args:
            p.add_argument(arg)
    sub.choices["compare"].add_argument("--ignore-empty-dirs", action="store_true",
                                        help="skip directories with no file beneath them")
    a = ap.parse_args(argv)
    try:
        a.func(a)
    except (Fail, OSError, UnicodeDecodeError) as e:
        print(f"mar_tool {a.cmd}: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
