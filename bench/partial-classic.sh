#!/usr/bin/env bash
# bench/partial-classic.sh - the baseline for the partial-MAR benchmark: Mozilla's classic
# per-locale flow making ONE partial MAR from two complete MARs, one file at a time, as
# tools/update-packaging/make_incremental_update.sh and common.sh do (unpack both, cmp each
# file, mbsdiff + xz -T1 -7e the changed ones, keep the patch when it is smaller, write the
# updatev3.manifest, then `mar -c`). Independent of this project's code: it uses only xz,
# PyPI's bsdiff4 (the bsdiff 4 algorithm that Mozilla's mbsdiff implements; its output is
# re-encoded as mbsdiff's MBDIFF10) and mardor's `mar`. Not a test: it asserts nothing about
# l10n-repack; it times each step and prints a table at the end.
#
# Usage: bench/partial-classic.sh FROM.complete.mar TO.complete.mar OUT.partial.mar
# Environment:
#   MOZ_PRODUCT_VERSION, MAR_CHANNEL_ID  product information of the partial (default: those
#                      of TO's product information block, as `mar_tool.py info` prints them)
#   CLASSIC_DIFF       "bsdiff4" (default): bsdiff4.diff(), whose BSDIFF40 output (three
#                      bzip2 streams) is parsed and re-encoded as MBDIFF10; "core":
#                      bsdiff4.core.diff(), the same diff without the bzip2 round trip
#                      (mbsdiff writes its blocks uncompressed); both give the same bytes
#   TMPDIR             where the work directories go (removed at the end)
# The first run makes a venv with bsdiff4 and mar (mardor) under
# ${XDG_CACHE_HOME:-$HOME/.cache}/l10n-repack-bench/venv; that is not timed.
#
# Deliberate differences from make_incremental_update.sh: `cmp -s` instead of `diff`, the
# "already in FROM?" test for TO's files uses an associative array instead of a nested loop,
# the removed-files lines are trimmed without glob expansion, and xz's BCJ filter is --x86
# (the corpus is x86_64 Linux; BCJ_OPTIONS comes from the caller in Mozilla's flow).
set -euo pipefail
export LC_ALL=C
umask 022

usage() { echo "usage: $(basename "$0") FROM.complete.mar TO.complete.mar OUT.partial.mar" >&2; exit 2; }
[ $# -eq 3 ] || usage
abspath() { case $1 in /*) printf '%s' "$1" ;; *) printf '%s/%s' "$PWD" "$1" ;; esac; }
from_mar=$(abspath "$1") to_mar=$(abspath "$2") out_mar=$(abspath "$3")
[ -f "$from_mar" ] && [ -f "$to_mar" ] || { echo "error: $1 or $2 is not a file" >&2; exit 2; }
here=$(cd "$(dirname "$0")/.." && pwd)
mar_tool="$here/tests/tools/mar_tool.py"
diff_mode=${CLASSIC_DIFF:-bsdiff4}
case $diff_mode in bsdiff4|core) ;; *) echo "error: CLASSIC_DIFF must be bsdiff4 or core" >&2; exit 2 ;; esac

# ---- tools (not timed) ----
venv=${XDG_CACHE_HOME:-$HOME/.cache}/l10n-repack-bench/venv
if ! "$venv/bin/python" -c 'import bsdiff4, mardor' 2> /dev/null || [ ! -x "$venv/bin/mar" ]; then
  echo "setting up $venv (bsdiff4, mar)" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check bsdiff4 'mar==3.2.1'
fi
PY="$venv/bin/python"
MAR="$venv/bin/mar"
XZ=${XZ:-xz}
export XZ_OPT="-T1 -7e"         # common.sh: "always using the right compression settings"
BCJ_OPTIONS="--x86"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/partial-classic.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
olddir="$tmp/from" newdir="$tmp/to" workdir="$tmp/work" mbsdiff="$tmp/mbsdiff.py"
mkdir -p "$workdir"

# mbsdiff OLD NEW PATCH: an MBDIFF10 patch (other-licenses/bsdiff/bsdiff.c, read by
# toolkit/mozapps/update/updater/bspatch/bspatch.cpp). Prints "DIFF_SECONDS CONVERT_SECONDS".
cat > "$mbsdiff" << 'EOF'
import struct, sys, time, zlib

_REV8 = bytes(int(f"{i:08b}"[::-1], 2) for i in range(256))


def crc32_bzip2(data):
    """CRC-32/BZIP2 (poly 0x04C11DB7 MSB first, init and xorout 0xFFFFFFFF), bspatch's scrc32.
    It is zlib's reflected CRC-32 of the bit-reversed bytes, with the result bit-reversed."""
    c = zlib.crc32(data.translate(_REV8))
    return int.from_bytes(c.to_bytes(4, "little").translate(_REV8), "big")


def crc32_bzip2_slow(data):
    """The same, bit by bit, as the definition reads (self-test only)."""
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7 if crc & 0x80000000 else crc << 1) & 0xFFFFFFFF
    return crc ^ 0xFFFFFFFF


def offtin(b):
    """bsdiff's int64: little-endian magnitude, sign in the top bit of the last byte."""
    v = int.from_bytes(b, "little")
    return -(v & (1 << 63) - 1) if v >> 63 else v


def bsdiff40_blocks(patch, new_len):
    """(control, diff, extra), uncompressed, of a BSDIFF40 patch."""
    import bz2
    if patch[:8] != b"BSDIFF40" or len(patch) < 32:
        sys.exit("mbsdiff: not a BSDIFF40 patch")
    clen, dlen, size = (offtin(patch[i:i + 8]) for i in (8, 16, 24))
    if size != new_len or clen < 0 or dlen < 0 or 32 + clen + dlen > len(patch):
        sys.exit("mbsdiff: bad BSDIFF40 header")
    c, d = 32 + clen, 32 + clen + dlen
    return bz2.decompress(patch[32:c]), bz2.decompress(patch[c:d]), bz2.decompress(patch[d:])


def mbdiff10(old, new, control, diff, extra):
    """Re-encode bsdiff's blocks: u32 x, u32 y, i32 z big-endian triples, uncompressed blocks."""
    if len(control) % 24:
        sys.exit("mbsdiff: control block is not a whole number of triples")
    out, sx, sy, mag = [], 0, 0, (1 << 63) - 1
    for x, y, z in struct.iter_unpack("<QQQ", control):
        if x >> 63 or y >> 63:
            sys.exit("mbsdiff: negative length in the control block")
        z = -(z & mag) if z >> 63 else z
        if x > 0xFFFFFFFF or y > 0xFFFFFFFF or not -2**31 <= z < 2**31:
            sys.exit("mbsdiff: control triple does not fit MBDIFF10's 32-bit fields")
        out.append(struct.pack(">IIi", x, y, z))
        sx, sy = sx + x, sy + y
    if sx != len(diff) or sy != len(extra) or sx + sy != len(new):
        sys.exit("mbsdiff: control block does not add up to the diff and extra blocks")
    if max(len(old), len(new)) > 0xFFFFFFFF:
        sys.exit("mbsdiff: file too large for MBDIFF10")
    ctrl = b"".join(out)
    head = struct.pack(">8s6I", b"MBDIFF10", len(old), crc32_bzip2(old), len(new),
                       len(ctrl), len(diff), len(extra))
    return b"".join((head, ctrl, diff, extra))


def main(argv):
    if argv[:1] == ["selftest"]:
        import os
        assert crc32_bzip2(b"123456789") == crc32_bzip2_slow(b"123456789") == 0xFC891918
        for n in (0, 1, 7, 1000):
            d = os.urandom(n)
            assert crc32_bzip2(d) == crc32_bzip2_slow(d), n
        for v in (0, 1, 5, 2**40, -1, -7, -2**40):
            b = abs(v).to_bytes(8, "little")
            assert offtin(b[:7] + bytes([b[7] | 0x80 * (v < 0)])) == v
        print("mbsdiff selftest ok")
        return
    mode, old_path, new_path, patch_path = argv
    with open(old_path, "rb") as f:
        old = f.read()
    with open(new_path, "rb") as f:
        new = f.read()
    t0 = time.perf_counter()
    import bsdiff4
    if mode == "core":
        blocks = bsdiff4.core.diff(old, new)
        t1 = time.perf_counter()
    else:
        patch = bsdiff4.diff(old, new)
        t1 = time.perf_counter()
        blocks = bsdiff40_blocks(patch, len(new))
    data = mbdiff10(old, new, *blocks)
    with open(patch_path, "wb") as f:
        f.write(data)
    print(f"{t1 - t0:.6f} {time.perf_counter() - t1:.6f}")


main(sys.argv[1:])
EOF
"$PY" "$mbsdiff" selftest > /dev/null

# ---- timing: microsecond counters ----
now() { local t=$EPOCHREALTIME; echo "${t/./}"; }
secs() { printf '%d.%06d' $(($1 / 1000000)) $(($1 % 1000000)); }
declare -A step_us=()
steps=()
add_time() { # STEP MICROSECONDS
  [ -n "${step_us[$1]+x}" ] || { steps+=("$1"); step_us[$1]=0; }
  step_us[$1]=$((step_us[$1] + $2))
}
xz_us=0 diff_us=0 diff_inner=0 conv_inner=0 n_xz=0 n_diff=0
big_file="" big_size=-1 big_us=0
timed_xz() { # SRC DEST [BCJ] : xz SRC to DEST as the script does
  local t=${EPOCHREALTIME/./}
  "$XZ" $XZ_OPT --compress ${3:-} --lzma2 --format=xz --check=crc64 --force --stdout "$1" > "$2"
  xz_us=$((xz_us + ${EPOCHREALTIME/./} - t)) n_xz=$((n_xz + 1))
}
us_of() { local s=${1%.*} f=${1#*.}; echo $((10#$s * 1000000 + 10#$f)); } # "1.234567" -> us
total0=$(now)

# ---- 1. unpack both complete MARs ----
t=$(now)
python3 "$mar_tool" unpack "$from_mar" "$olddir" > /dev/null
python3 "$mar_tool" unpack "$to_mar" "$newdir" > /dev/null
rm -f "$olddir/updatev3.manifest" "$newdir/updatev3.manifest"
add_time "unpack both complete MARs" $(($(now) - t))

t=$(now)
if [ -z "${MOZ_PRODUCT_VERSION:-}" ] || [ -z "${MAR_CHANNEL_ID:-}" ]; then
  info=$(python3 "$mar_tool" info "$to_mar")
  MOZ_PRODUCT_VERSION=${MOZ_PRODUCT_VERSION:-$(sed -n 's/^version: //p' <<< "$info")}
  MAR_CHANNEL_ID=${MAR_CHANNEL_ID:-$(sed -n 's/^channel: //p' <<< "$info")}
fi
: "${MOZ_PRODUCT_VERSION:?no product version in $to_mar}" "${MAR_CHANNEL_ID:?no channel in $to_mar}"
add_time "read TO's product information" $(($(now) - t))

# ---- 2. the manifest and its members, as make_incremental_update.sh makes them ----
t=$(now)
list_files() { (cd "$1" && find . -type f ! -name update.manifest ! -name updatev2.manifest \
  ! -name updatev3.manifest | sed 's/\.\/\(.*\)/\1/' | sort -r); }
list_dirs() { (cd "$1" && find . -type d ! -name . ! -name .. | sed 's/\.\/\(.*\)/\1/' | sort -r); }
mapfile -t oldfiles < <(list_files "$olddir")
mapfile -t olddirs < <(list_dirs "$olddir")
mapfile -t newfiles < <(list_files "$newdir")
if [ ! -f "$newdir/precomplete" ] && [ ! -f "$newdir/Contents/Resources/precomplete" ]; then
  echo "precomplete file is missing!" >&2
  exit 1
fi
declare -A in_old=()
for f in "${oldfiles[@]}"; do in_old[$f]=1; done
add_time "list files" $(($(now) - t))

loop0=$(now)
xz0=$xz_us diff0=$diff_us
manifest="$workdir/updatev3.manifest"
members=(updatev3.manifest)
n_patch=0 n_add=0 n_addifnot=0 n_remove=0 n_same=0
echo 'type "partial"' > "$manifest"

is_add_if_not() {
  local b=${1##*/}
  [[ $b == channel-prefs.js || $1 =~ (^|/)ChannelPrefs\.framework/ || $b == update-settings.ini ||
     $1 =~ (^|/)UpdateSettings\.framework/ || $b == distribution.ini ]]
}
is_forced() {
  case $1 in
    precomplete | Contents/Resources/precomplete | removed-files | \
      Contents/Resources/removed-files | Contents/CodeResources | *.chk | \
      Contents/MacOS/firefox) return 0 ;;
  esac
  return 1
}
copy_perm() { if [ -x "$1" ]; then chmod 0755 "$2"; else chmod 0644 "$2"; fi; }
ext_testdir() { # the distribution/extensions/X directory of $1, or nothing
  [[ $1 =~ ^(.*distribution/extensions/[^/]*)/.*$ ]] && printf '%s' "${BASH_REMATCH[1]}"
}
make_add_instruction() {
  local testdir
  testdir=$(ext_testdir "$1") || true
  if [ -n "$testdir" ]; then echo "add-if \"$testdir\" \"$1\""; else echo "add \"$1\""; fi >> "$manifest"
  n_add=$((n_add + 1))
}
make_patch_instruction() {
  local testdir
  testdir=$(ext_testdir "$1") || true
  if [ -n "$testdir" ]; then echo "patch-if \"$testdir\" \"$1.patch\" \"$1\""
  else echo "patch \"$1.patch\" \"$1\""; fi >> "$manifest"
  n_patch=$((n_patch + 1))
}
make_add_if_not_instruction() { echo "add-if-not \"$1\" \"$1\"" >> "$manifest"; n_addifnot=$((n_addifnot + 1)); }
add_full() { # F: the new file, xz'd with BCJ, into the work dir
  mkdir -p "$(dirname "$workdir/$1")"
  timed_xz "$newdir/$1" "$workdir/$1" "$BCJ_OPTIONS"
  copy_perm "$newdir/$1" "$workdir/$1"
  members+=("$1")
}

removes=()
for f in "${oldfiles[@]}"; do
  if [ -f "$newdir/$f" ]; then
    if is_add_if_not "$f"; then
      add_full "$f"
      make_add_if_not_instruction "$f"
      continue
    fi
    if is_forced "$f"; then
      add_full "$f"
      make_add_instruction "$f"
      continue
    fi
    if ! cmp -s "$olddir/$f" "$newdir/$f"; then
      mkdir -p "$(dirname "$workdir/$f")"
      t=${EPOCHREALTIME/./}
      times=$("$PY" "$mbsdiff" "$diff_mode" "$olddir/$f" "$newdir/$f" "$workdir/$f.patch")
      read -r inner conv <<< "$times"
      d=$((${EPOCHREALTIME/./} - t))
      diff_us=$((diff_us + d)) n_diff=$((n_diff + 1))
      diff_inner=$((diff_inner + $(us_of "$inner"))) conv_inner=$((conv_inner + $(us_of "$conv")))
      size=$(stat -c %s "$newdir/$f")
      if [ "$size" -gt "$big_size" ]; then big_file=$f big_size=$size big_us=$d; fi
      timed_xz "$workdir/$f.patch" "$workdir/$f.patch.xz"     # no BCJ for the patch
      rm -f "$workdir/$f.patch"
      timed_xz "$newdir/$f" "$workdir/$f" "$BCJ_OPTIONS"
      copy_perm "$newdir/$f" "$workdir/$f"
      patchsize=$(stat -c %s "$workdir/$f.patch.xz")
      fullsize=$(stat -c %s "$workdir/$f")
      if [ "$patchsize" -lt "$fullsize" ]; then
        make_patch_instruction "$f"
        mv -f "$workdir/$f.patch.xz" "$workdir/$f.patch"
        rm -f "$workdir/$f"
        members+=("$f.patch")
      else
        make_add_instruction "$f"
        rm -f "$workdir/$f.patch.xz"
        members+=("$f")
      fi
    else
      n_same=$((n_same + 1))
    fi
  else
    removes+=("$f")   # remove instructions come after the add / patch instructions
  fi
done

for f in "${newfiles[@]}"; do   # newly added files
  [ -z "${in_old[$f]+x}" ] || continue
  add_full "$f"
  if is_add_if_not "$f"; then make_add_if_not_instruction "$f"; else make_add_instruction "$f"; fi
done

for f in "${removes[@]}"; do echo "remove \"$f\"" >> "$manifest"; n_remove=$((n_remove + 1)); done

listfile=""   # append_remove_instructions: TO's removed-files
if [ -f "$newdir/removed-files" ]; then
  listfile="$newdir/removed-files"
elif [ -f "$newdir/Contents/Resources/removed-files" ]; then
  listfile="$newdir/Contents/Resources/removed-files"
fi
if [ -n "$listfile" ]; then
  mapfile -t lines < <(tr -d '\r' < "$listfile" | sort -r)
  for line in "${lines[@]}"; do
    read -ra words <<< "$line" || true
    f="${words[*]}"
    [ -n "$f" ] || continue
    [[ $f == \#* ]] && continue
    if [[ $f == */ ]]; then echo "rmdir \"$f\""
    elif [[ $f == */\* ]]; then echo "rmrfdir \"${f%\*}\""
    else echo "remove \"$f\""; fi >> "$manifest"
  done
fi

for f in "${olddirs[@]}"; do   # directories that no longer exist
  [ -d "$newdir/$f" ] || echo "rmdir \"$f/\"" >> "$manifest"
done

{ # firefox.exe's instructions last (bug 2058197)
  grep -v -E '"firefox\.exe"$' "$manifest" || true
  grep -E '"firefox\.exe"$' "$manifest" || true
} > "$manifest.reordered"
mv -f "$manifest.reordered" "$manifest"
timed_xz "$manifest" "$manifest.xz" "$BCJ_OPTIONS"
mv -f "$manifest.xz" "$manifest"

loop_us=$(($(now) - loop0))
add_time "mbsdiff (sum, $n_diff files)" $((diff_us - diff0))
add_time "xz -T1 -7e (sum, $n_xz files)" $((xz_us - xz0))
add_time "cmp, manifest and the rest" $((loop_us - (diff_us - diff0) - (xz_us - xz0)))

# ---- 3. the MAR ----
t=$(now)
rm -f "$out_mar"
"$MAR" -V "$MOZ_PRODUCT_VERSION" -H "$MAR_CHANNEL_ID" -C "$workdir" -c "$workdir/output.mar" \
  "${members[@]}"
mv -f "$workdir/output.mar" "$out_mar"
add_time "mar -c" $(($(now) - t))

t=$(now)
rm -rf "$olddir" "$newdir" "$workdir"
add_time "clean up" $(($(now) - t))
total_us=$(($(now) - total0))

# ---- report ----
echo "partial $out_mar: $(stat -c %s "$out_mar") bytes; $n_patch patch, $n_add add," \
  "$n_addifnot add-if-not, $n_remove remove, $n_same unchanged; version $MOZ_PRODUCT_VERSION," \
  "channel $MAR_CHANNEL_ID; diff: $diff_mode"
printf 'step\tseconds\n'
for s in "${steps[@]}"; do printf '%s\t%s\n' "$s" "$(secs "${step_us[$s]}")"; done
printf 'total\t%s\n' "$(secs "$total_us")"
echo "total seconds: $(secs "$total_us")"
echo "seconds in bsdiff (sum): $(secs "$diff_us")  (of which inside bsdiff4: $(secs "$diff_inner")," \
  "re-encoding as MBDIFF10: $(secs "$conv_inner"); the rest is python start-up and file I/O)"
echo "seconds in xz (sum): $(secs "$xz_us")"
echo "output size: $(stat -c %s "$out_mar") bytes"
if [ -n "$big_file" ]; then
  echo "largest diffed file: $big_file ($big_size bytes): bsdiff $(secs "$big_us") s"
else
  echo "largest diffed file: none (no file was diffed)"
fi
