#!/usr/bin/env python3
"""Fills fuzz/corpus/<target>/ with seed inputs made from the committed fixtures.

Run from anywhere: python3 fuzz/seeds.py [--no-mar-build]

Standard library only. Existing corpus files are kept (libFuzzer adds to the directories as
it runs); seeds are named seed-*, so running this again rewrites just those. The MAR seeds
come from the tool itself (`cargo run --release -- repack ... --formats mar`); with
--no-mar-build, or if that build fails, a MAR written by this script stands in.
"""

import bz2
import io
import lzma
import os
import plistlib
import struct
import subprocess
import sys
import tarfile
import tempfile
import zipfile
import zlib

FUZZ = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(FUZZ)
FIX = os.path.join(ROOT, "fixtures")
EN_US = os.path.join(FIX, "en-US")
TARBALL = os.path.join(EN_US, "firefox-140.0.en-US.linux-x86_64.tar.bz2")
TARBALL_XZ = os.path.join(EN_US, "firefox-140.0.en-US.linux-x86_64.tar.xz")
WIN_ZIP = os.path.join(EN_US, "firefox-140.0.en-US.win64.zip")
DMG = os.path.join(EN_US, "firefox-140.0.en-US.mac.dmg")
APK = os.path.join(EN_US, "fennec-140.0.en-US.android-arm.apk")
XPIS = sorted(
    os.path.join(d, f)
    for d in (os.path.join(FIX, "xpi"), os.path.join(FIX, "broken"))
    for f in os.listdir(d)
    if f.endswith(".xpi")
)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def put(target, name, data):
    d = os.path.join(FUZZ, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def omnijars():
    """(name, bytes) of every omni.ja in the fixture builds."""
    jars = []
    with tarfile.open(TARBALL) as t:
        for m in t.getmembers():
            if m.name.endswith("omni.ja"):
                jars.append(("linux-" + m.name.replace("/", "_"), t.extractfile(m).read()))
    for label, path in (("win", WIN_ZIP), ("apk", APK)):
        with zipfile.ZipFile(path) as z:
            for n in z.namelist():
                if n.endswith("omni.ja"):
                    jars.append((label + "-" + n.replace("/", "_"), z.read(n)))
    return jars


def udif_partitions(dmg):
    """Decodes a UDIF image's partitions (the chunk types the fixtures use)."""
    koly = dmg[-512:]
    assert koly[:4] == b"koly"
    xml_off, xml_len = struct.unpack(">QQ", koly[0xD8:0xE8])
    plist = plistlib.loads(dmg[xml_off : xml_off + xml_len])
    parts = []
    for entry in plist["resource-fork"]["blkx"]:
        mish = entry["Data"]
        sectors = struct.unpack(">Q", mish[0x10:0x18])[0]
        count = struct.unpack(">I", mish[0xC8:0xCC])[0]
        out = bytearray(sectors * 512)
        for i in range(count):
            e = mish[0xCC + 40 * i : 0xCC + 40 * (i + 1)]
            kind, _, first, n, off, length = struct.unpack(">IIQQQQ", e)
            src = dmg[off : off + length]
            if kind == 1:
                raw = src
            elif kind == 0x80000005:
                raw = zlib.decompress(src)
            elif kind == 0x80000006:
                raw = bz2.decompress(src)
            elif kind == 0x80000008:
                raw = lzma.decompress(src)
            else:
                continue  # zero, free, comment, end
            out[first * 512 : first * 512 + len(raw)] = raw
        parts.append((entry.get("Name", "partition"), bytes(out)))
    return parts


def mar(entries, channel=b"release", version=b"140.0"):
    """An unsigned MAR with a product information block (the layout MarWriter writes)."""
    pib = channel + b"\0" + version + b"\0"
    pib += b"\0" * ((-len(pib)) % 4)
    head_len = 16 + 4 + 4 + 8 + len(pib)  # header, num_signatures, sections, one section
    data = b"".join(d for _, d in entries)
    index = b""
    offset = head_len
    for name, d in entries:
        index += struct.pack(">III", offset, len(d), 0o644) + name + b"\0"
        offset += len(d)
    index_offset = head_len + len(data)
    total = index_offset + 4 + len(index)
    out = b"MAR1" + struct.pack(">IQ", index_offset, total) + struct.pack(">I", 0)
    out += struct.pack(">I", 1) + struct.pack(">II", 8 + len(pib), 1) + pib
    return out + data + struct.pack(">I", len(index)) + index


def tool_mars():
    """MARs made by l10n-repack from the Linux fixture, or [] if the build fails."""
    with tempfile.TemporaryDirectory() as out:
        cmd = [
            "cargo", "run", "--release", "--quiet", "--",
            "repack", "--input", TARBALL, "--l10n", os.path.join(FIX, "xpi"),
            "--locales", "fr,de", "--formats", "mar", "--output-dir", out,
        ]
        r = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if r.returncode != 0:
            print("seeds: the MAR build failed, using a hand-made MAR only:\n"
                  + r.stderr.decode(errors="replace")[-2000:], file=sys.stderr)
            return []
        mars = []
        for d, _, files in os.walk(out):
            for f in sorted(files):
                if f.endswith(".mar"):
                    mars.append((f, read(os.path.join(d, f))))
        return mars


def pieces():
    """Cache-format pieces, as packagers::piece lays them out (u64 lengths before byte strings)."""
    text = b"<!ENTITY hello \"Bonjour\">\n" * 40
    blob = bytes(range(256)) * 8
    out = {}
    # 0: Bzip2Piece: bit_len u64, blocks u32, crc u32, raw_len u64, then the bits (len u64).
    stream = bz2.compress(text)
    bits = stream[4:-10]  # the blocks, roughly: the header and trailer cut off
    out["bzip2"] = struct.pack("<QIIQQ", len(bits) * 8, 1, 0x12345678, len(text), len(bits)) + bits
    # 1: XzBlocks: raw_len, record count, (unpadded, uncompressed) each, byte len, bytes.
    blocks = b"\0" * 12 + b"xz-block-bytes--"  # padded length 28
    out["xz"] = struct.pack("<QQQQQ", len(text), 1, 27, len(text), 28) + blocks
    # 2: Lzma2Piece: raw_len, chunk len, then chunks (a raw LZMA2 stream without its 00).
    raw = lzma.compress(text, format=lzma.FORMAT_RAW, filters=[{"id": lzma.FILTER_LZMA2}])
    assert raw.endswith(b"\0")
    chunks = raw[:-1]
    out["lzma2"] = struct.pack("<QQ", len(text), len(chunks)) + chunks
    # A stored (uncompressed) LZMA2 chunk: control 01, size-1 BE16, the bytes.
    stored = b"\x01" + struct.pack(">H", len(blob) - 1) + blob
    out["lzma2-stored"] = struct.pack("<QQ", len(blob), len(stored)) + stored
    # 3: DeflatePiece: raw_len u64, crc32 u32, compressed len u64, then the bytes.
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    deflated = c.compress(text) + c.flush(zlib.Z_FULL_FLUSH)
    out["deflate"] = struct.pack("<QIQ", len(text), zlib.crc32(text), len(deflated)) + deflated
    # 4: UdifChunk: type u32, crc32 u32, sectors u64, len u64, then the bytes.
    sector = text[:512].ljust(512, b" ")
    for kind, name, body in (
        (0x80000005, "zlib", zlib.compress(sector)),
        (0x80000006, "bzip2", bz2.compress(sector)),
        (0x80000008, "lzma", lzma.compress(sector)),
        (1, "raw", sector),
        (2, "free", b""),
    ):
        out["udif-" + name] = struct.pack("<IIQQ", kind, zlib.crc32(sector), 1, len(body)) + body
    selector = {"bzip2": 0, "xz": 1, "lzma2": 2, "deflate": 3, "udif": 4}
    result = []
    for name, data in out.items():
        sel = selector[name.split("-")[0]]
        result.append((name, bytes([sel]) + data))
        result.append((name + "-twice", bytes([sel]) + data + data))
    return result


FORMATS = {".dtd": 0, ".properties": 1, ".ini": 2, ".ftl": 3}


def halves(selector, en_us, locale):
    """The strings target's layout: a selector, then two halves of equal length (the
    shorter one padded with newlines, which every format skips)."""
    n = max(len(en_us), len(locale))
    return bytes([selector]) + en_us.ljust(n, b"\n") + locale.ljust(n, b"\n")


def string_seeds(jars):
    """(name, bytes) for the strings target: each localized fixture file against its en-US
    counterpart from the omnijars, the chrome manifests, and raw files for the generic
    layer."""
    en_us = {}
    manifests = []
    for label, jar in jars:
        base = "browser/" if "browser_omni" in label else ""
        try:
            z = zipfile.ZipFile(io.BytesIO(jar))
        except zipfile.BadZipFile:
            continue  # the optimized (preload) layout, which zipfile does not read
        with z:
            for n in z.namelist():
                en_us.setdefault(base + n, z.read(n))
            if label.startswith("linux"):
                names = [n for n in z.namelist() if n.endswith(".manifest")]
                root = z.read("chrome.manifest") if "chrome.manifest" in names else b""
                rest = [n.encode() + b"\n" + z.read(n) for n in names if n != "chrome.manifest"]
                manifests.append((label, b"\0".join([root] + rest)))
    seeds = []
    l10n = os.path.join(FIX, "l10n")
    for locale in sorted(os.listdir(l10n)):
        top = os.path.join(l10n, locale)
        for d, _, files in os.walk(top):
            for f in sorted(files):
                ext = os.path.splitext(f)[1]
                path = os.path.join(d, f)
                rel = os.path.relpath(path, top).replace(os.sep, "/")
                ours = read(path)
                if ext in FORMATS:
                    ref = en_us.get(rel.replace("/" + locale + "/", "/en-US/"), ours)
                    name = locale + "-" + rel.replace("/", "_")
                    seeds.append((name, halves(FORMATS[ext], ref, ours)))
                    generic = bytes([5, list(FORMATS).index(ext)])
                    seeds.append(("generic-" + name, generic + ref + ours))
                elif f.endswith(".manifest"):
                    seeds.append(("manifest-" + locale + "-" + f, bytes([4]) + ours))
    for label, data in manifests:
        seeds.append(("manifests-" + label, bytes([4]) + data))
    # A BOM, CRLF and a byte that is not UTF-8, for merge::decode.
    seeds.append(("generic-bom-crlf", bytes([5, 1]) + b"\xef\xbb\xbfa = b\r\nc=d\r\n\xff"))
    seeds.extend(deep_seeds())
    return seeds


def deep_seeds():
    """Fluent nested around and far beyond ftl::MAX_DEPTH (100): 3,000 nested placeables
    (9 KB) overflowed the stack (issue 15, case 3); 12,000, two bytes a level, is past what
    the fuzzer's 8 MiB main stack held. Braces, calls and select expressions, in the
    locale's half and in en-US's; and a .dtd declaring an entity twice (case 17)."""
    seeds = []
    ref = b"deep = { $x }\n"
    # Each under run-all.sh's -max_len of 64 KiB: both halves are padded to one length.
    shapes = {
        "braces": (lambda n: b"deep = " + b"{" * n + b"$x" + b"}" * n + b"\n", 12000),
        "calls": (lambda n: b"deep = {" + b"NUMBER(" * n + b"$x" + b")" * n + b"}\n", 3000),
        "selects": (lambda n: b"deep = " + b"{$n->\n*[o]" * n + b"x\n" + b"}\n" * n, 2000),
    }
    for shape, (text, most) in shapes.items():
        for depth in (100, 101, 3000, 12000):
            depth = min(depth, most)
            name = "ftl-deep-%s-%d" % (shape, depth)
            if all(n != name for n, _ in seeds):
                seeds.append((name, halves(3, ref, text(depth))))
    for depth in (101, 12000):
        seeds.append(("ftl-deep-en-us-%d" % depth, halves(3, shapes["braces"][0](depth), ref)))
    seeds.append(("ftl-deep-strings", halves(3, ref, b'deep = {"{"}\n' * 2000)))
    dtd_ref = b'<!ENTITY a "A">\n<!ENTITY b "B">\n'
    dtd_dup = b'<!ENTITY a "un">\n<!ENTITY a "deux">\n<!ENTITY z "Z">\n<!ENTITY z "Z">\n'
    seeds.append(("dtd-duplicates", halves(0, dtd_ref, dtd_dup)))
    return seeds


def main():
    build_mar = "--no-mar-build" not in sys.argv[1:]
    jars = omnijars()
    for name, jar in jars:
        put("jar", name, jar)
    for xpi in XPIS:
        put("jar", os.path.basename(xpi), read(xpi))

    put("mar", "handmade.mar", mar([(b"application.ini", b"[App]\nVersion=140.0\n"),
                                    (b"omni.ja", jars[0][1][:2048])]))
    put("mar", "empty-index.mar", mar([]))
    if build_mar:
        for name, data in tool_mars():
            put("mar", name, data)

    dmg = read(DMG)
    put("udif", "mac.dmg", dmg)
    put("dmg", "mac.dmg", dmg)
    for i, (_, part) in enumerate(udif_partitions(dmg)):
        if part[1024:1026] in (b"H+", b"HX"):
            put("hfs", "partition-%d.hfs" % i, part)

    put("apk", "android.apk", read(APK))
    put("apk", "win64.zip", read(WIN_ZIP))

    for name, data in pieces():
        put("pieces", name, data)

    put("tar", "linux.tar.bz2", read(TARBALL))
    put("tar", "linux.tar.xz", read(TARBALL_XZ))
    put("zip", "win64.zip", read(WIN_ZIP))
    put("zip", "android.apk", read(APK))

    for name, data in string_seeds(jars):
        put("strings", name, data)

    for xpi in XPIS:
        put("locales", os.path.basename(xpi), b"\0" + read(xpi))
    put("locales", "locales.toml", b"\1" + read(os.path.join(ROOT, "locales.toml")))

    corpus = os.path.join(FUZZ, "corpus")
    for target in sorted(os.listdir(corpus)):
        files = os.listdir(os.path.join(corpus, target))
        seeds = [f for f in files if f.startswith("seed-")]
        size = max(os.path.getsize(os.path.join(corpus, target, f)) for f in seeds)
        print("%-8s %3d seeds, largest %d bytes" % (target, len(seeds), size))


if __name__ == "__main__":
    main()
