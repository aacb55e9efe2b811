#!/usr/bin/env bash
# make-thunderbird-corpus.sh — build a Thunderbird l10n-repack test corpus from Debian's
# thunderbird packages: a real en-US Thunderbird build (Debian's, as apt fetches and
# checks it) repackaged as Mozilla's Linux tarball, plus the real langpacks of the same
# version. The Thunderbird counterpart of shared/corpus/make-corpus.sh (Linux only).
#
# Usage:
#   make-thunderbird-corpus.sh TARGET_DIR [LOCALE ...]
#
#   With no LOCALE arguments every langpack is used (65 for Debian 12's thunderbird
#   1:153.8.0esr-1~deb12u1); with LOCALE arguments (Mozilla's codes: fr, en-GB, pt-BR)
#   only those go to TARGET_DIR/xpi/.
#
# Environment:
#   DATA_DIR      where the .deb files live / are downloaded
#                 (default ${XDG_CACHE_HOME:-$HOME/.cache}/l10n-repack-data); the debs go to
#                 $DATA_DIR/debian/thunderbird/{debs,l10n-debs}/
#   DEB_DIR       thunderbird_*.deb                 (default $DATA_DIR/debian/thunderbird/debs)
#   L10N_DEB_DIR  thunderbird-l10n-*.deb            (default $DATA_DIR/debian/thunderbird/l10n-debs)
#   DOWNLOAD=0    never call `apt-get download` for missing debs (default: download if missing)
#   DEB_VERSION   fetch this Debian version instead of the newest, e.g. 1:140.12.0esr-1~deb12u1
#                 (the epoch may be left out: 140.12.0esr-1~deb12u1); `apt-cache madison
#                 thunderbird` lists what the archive has today. Its debs go to
#                 $DATA_DIR/debian/thunderbird/<version without epoch>/{debs,l10n-debs}/.
#   FORCE=1       rebuild every output even if its stamp says it is up to date
#   VERIFY        1 (default): check the tarball if this run built it (GNU tar + Python
#                 tarfile, see check_tarball); 2: check it even when up to date; 0: never
#   APT_UPDATE=0  skip the `apt-get update` (as root) that precedes the first download
#   KEEP_WORK=1   keep TARGET/.work/stage (the unpacked en-US build) after the run
#   PYTHON        python3 interpreter, stdlib only (default python3)
#
# Tools used (Debian packages): apt-get (apt), dpkg-deb (dpkg), tar, bzip2, coreutils,
# findutils, python3. The l10n debs are downloaded all at once (about 35 MB) even when
# only some LOCALEs are asked for.
#
# Output (under TARGET_DIR). <ver> is the Debian upstream version, e.g. 153.8.0esr.
#   en-US/thunderbird-<ver>.en-US.linux-x86_64.tar.bz2
#       Mozilla tarball layout: one top-level `thunderbird/` dir holding Debian's
#       /usr/lib/thunderbird with every symlink resolved (Mozilla's packager tars with -h):
#       chrome, defaults, isp, omni.ja -> /usr/share/thunderbird/..., and `thunderbird`
#       (-> thunderbird-bin) become real files and dirs. Links that cannot be resolved
#       are dropped: absolute ones (defaults/syspref -> /etc/thunderbird/pref) and
#       dangling ones (dictionaries -> /usr/share/hunspell, not in the deb). Two files
#       are added that Debian (built without the updater) does not ship but Mozilla
#       tarballs have: `precomplete` (config/createprecomplete.py format) and
#       `update-settings.ini` (ACCEPTED_MAR_CHANNEL_IDS=thunderbird-comm-esr, see
#       write_update_settings). Debian's own `removed-files` and
#       `defaults/pref/channel-prefs.js` are kept as shipped. Owner 0/0, mtime fixed to
#       the BuildID, names sorted, bzip2 -9 => byte-identical on every run.
#   xpi/langpack-<loc>@thunderbird.mozilla.org.xpi
#       the original langpacks, as Debian ships them (usr/lib/thunderbird/extensions/),
#       byte for byte, under their own names; <loc> is the manifest's langpack_id, which
#       equals the code in the file name (checked).
#   locales.txt     the langpack codes in xpi/, one a line (LC_ALL=C sorted)
#   CORPUS.txt      provenance (deb names + sha256, application.ini), sha256 and size of
#                   every output, the links dropped, and this run's step timings
#   timings.tsv     step<TAB>seconds, appended on every run
#
# Idempotent: every output is written to a temp path and renamed into place; a stamp
# file under TARGET/.work holds the sha256 of the step's inputs and of the step's own
# code (its bash functions), so a re-run skips finished steps (FORCE=1 redoes all).
set -euo pipefail

DATA_DIR=${DATA_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/l10n-repack-data}
DEB_VERSION=${DEB_VERSION:-}
TB_DATA="$DATA_DIR/debian/thunderbird"
if [ -n "$DEB_VERSION" ]; then
  DEB_DIR=${DEB_DIR:-$TB_DATA/${DEB_VERSION#*:}/debs}
  L10N_DEB_DIR=${L10N_DEB_DIR:-$TB_DATA/${DEB_VERSION#*:}/l10n-debs}
else
  DEB_DIR=${DEB_DIR:-$TB_DATA/debs}
  L10N_DEB_DIR=${L10N_DEB_DIR:-$TB_DATA/l10n-debs}
fi
DOWNLOAD=${DOWNLOAD:-1}
FORCE=${FORCE:-0}
VERIFY=${VERIFY:-1}
APT_UPDATE=${APT_UPDATE:-1}
KEEP_WORK=${KEEP_WORK:-0}
PYTHON=${PYTHON:-python3}

[ $# -ge 1 ] || { sed -n '2,33p' "$0"; exit 2; }
TARGET=$(mkdir -p "$1" && cd "$1" && pwd)
shift
WANT_LOCALES=("$@")
WORK="$TARGET/.work"
STAGE="$WORK/stage/thunderbird"    # the unpacked en-US build, as the tarball holds it
mkdir -p "$WORK" "$TARGET/en-US"

now() { date +%s.%N; }
T_ALL=$(now)
RUN_TIMINGS=""
timing() { # timing STEP START: append "STEP<TAB>seconds" to timings.tsv and this run's list
  local line
  line=$(awk -v a="$(now)" -v b="$2" -v n="$1" 'BEGIN{printf "%s\t%.2f", n, a-b}')
  echo "$line" >> "$TARGET/timings.tsv"
  echo "$line" >&2
  RUN_TIMINGS+="$line"$'\n'
}
stamp_ok() { [ "$FORCE" != 1 ] && [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }
sha() { sha256sum "$@" | cut -c1-64; }
recipe() { declare -f "$@" | sha; }     # hash of the named bash functions' code
die() { echo "error: $*" >&2; exit 1; }

for c in apt-get apt-cache dpkg-deb tar bzip2 sha256sum "$PYTHON"; do
  command -v "$c" >/dev/null 2>&1 || die "missing tool: $c"
done
"$PYTHON" -c 'import bz2, json, tarfile, zipfile' || die "$PYTHON lacks bz2/json/tarfile/zipfile"

# ---------------------------------------------------------------- 0. debs
t=$(now)
APT_UPDATED=0
apt_update_once() { # the first download of a run refreshes the package lists (as root)
  if [ "$APT_UPDATED" = 0 ] && [ "$APT_UPDATE" = 1 ] && [ "$(id -u)" = 0 ]; then
    APT_UPDATED=1
    apt-get update -qq >&2 || echo "warning: apt-get update failed; using the current package lists" >&2
  fi
}
apt_download() { # apt_download DIR PACKAGE...: download into a temp dir, then move in,
  local dir=$1 tmp   # so an interrupted download never leaves a partial set behind
  shift
  tmp=$(mktemp -d "$dir/.download.XXXXXX")
  (cd "$tmp" && apt-get download -o APT::Sandbox::User=root "$@" >&2)
  mv "$tmp"/*.deb "$dir/"
  rmdir "$tmp"
}
archive_version() { # archive_version VERSION: the archive's spelling (with epoch) of VERSION
  apt-cache madison thunderbird | awk -F' *[|] *' -v want="$1" \
    '{ v = $2; plain = v; sub(/^[0-9]+:/, "", plain); if (v == want || plain == want) { print v; exit } }'
}
mkdir -p "$DEB_DIR" "$L10N_DEB_DIR"
rm -rf "$DEB_DIR"/.download.* "$L10N_DEB_DIR"/.download.*
if ! ls "$DEB_DIR"/thunderbird_*.deb >/dev/null 2>&1; then
  [ "$DOWNLOAD" = 1 ] || die "no thunderbird deb in $DEB_DIR (and DOWNLOAD=0)"
  apt_update_once
  if [ -n "$DEB_VERSION" ]; then
    v=$(archive_version "$DEB_VERSION")
    [ -n "$v" ] || die "the archive has no thunderbird $DEB_VERSION (apt-cache madison thunderbird)"
    apt_download "$DEB_DIR" "thunderbird=$v"
  else
    apt_download "$DEB_DIR" thunderbird
  fi
fi
MAIN_DEB=$(ls "$DEB_DIR"/thunderbird_*.deb | sort -V | tail -1)   # the newest if several
DEB_VER=$(dpkg-deb -f "$MAIN_DEB" Version)     # e.g. 1:153.8.0esr-1~deb12u1
UPSTREAM=${DEB_VER#*:}                         # e.g. 153.8.0esr-1~deb12u1
VER=${UPSTREAM%%-*}                            # e.g. 153.8.0esr
if [ -n "$DEB_VERSION" ] && [ "${DEB_VERSION#*:}" != "$UPSTREAM" ]; then
  die "$MAIN_DEB is version $DEB_VER, not DEB_VERSION=$DEB_VERSION"
fi
MAIN_SHA=$(sha "$MAIN_DEB")
# the langpack debs of exactly the en-US deb's version (their file names spell ':' as %3a)
l10n_debs() { ls "$L10N_DEB_DIR"/thunderbird-l10n-*_"${DEB_VER/:/%3a}"_all.deb 2>/dev/null | grep -v -- '-l10n-all_' || true; }
if [ -z "$(l10n_debs)" ]; then
  [ "$DOWNLOAD" = 1 ] || die "no thunderbird-l10n-* debs of version $DEB_VER in $L10N_DEB_DIR (and DOWNLOAD=0)"
  apt_update_once
  L10N_PKGS=$(apt-cache search --names-only '^thunderbird-l10n-' | awk '{print $1}' | grep -v -- '-l10n-all$' | sort || true)
  [ -n "$L10N_PKGS" ] || die "apt-cache knows no thunderbird-l10n-* packages (apt-get update?)"
  # only the langpacks the archive has at the en-US deb's version (one madison call)
  # shellcheck disable=SC2086
  L10N_PKGS=$(apt-cache madison $L10N_PKGS | awk -F' *[|] *' -v v="$DEB_VER" '$2 == v { sub(/^ +/, "", $1); print $1 }' | sort -u)
  [ -n "$L10N_PKGS" ] || die "the archive has no thunderbird-l10n-* packages of version $DEB_VER"
  # shellcheck disable=SC2046
  apt_download "$L10N_DEB_DIR" $(for p in $L10N_PKGS; do echo "$p=$DEB_VER"; done)
fi
L10N_DEBS=$(l10n_debs)
L10N_SHA=$(echo "$L10N_DEBS" | xargs sha256sum | sha)
timing debs "$t"

# ---------------------------------------------------------------- the unpacked en-US build
# make_stage unpacks the deb into $STAGE in Mozilla's tarball layout; ensure_stage runs it
# when its stamp is stale and sets BUILDID, APPVER (application.ini Version) and MTIME (the
# BuildID as seconds since the epoch, UTC).
write_update_settings() { # write_update_settings DIR
  # The MAR channel of Thunderbird ESR builds. Source: comm-central
  # taskcluster/kinds/build/kind.yml, `run.accepted-mar-channel-ids` (and
  # `mar-channel-id`) by-release-type: esr.*: thunderbird-comm-esr (release.*:
  # thunderbird-comm-release; beta: thunderbird-comm-beta,thunderbird-comm-release;
  # default: thunderbird-comm-central). Text as toolkit/mozapps/update/updater/
  # update-settings.ini writes it (and as make-corpus.sh does for Firefox).
  printf '; If you modify this file updates may fail.\n; Do not modify this file.\n\n[Settings]\nACCEPTED_MAR_CHANNEL_IDS=thunderbird-comm-esr\n' \
    > "$1/update-settings.ini"
}
write_precomplete() { # write_precomplete DIR: exactly like config/createprecomplete.py
  "$PYTHON" - "$1" <<'EOF'
import os, sys
root = sys.argv[1]
files, dirs = set(), set()
for d, subdirs, names in os.walk(root):
    rel = os.path.relpath(d, root)
    rel = "" if rel == "." else rel + "/"
    for n in names:
        p = rel + n
        if not (p.endswith("channel-prefs.js") or p.endswith("update-settings.ini")
                or "distribution/" in p):
            files.add(p)
    for n in subdirs:
        p = rel + n + "/"
        if "distribution/" not in p:
            dirs.add(p)
files.add("precomplete")
with open(os.path.join(root, "precomplete"), "w", newline="\n") as f:
    for p in sorted(files, reverse=True):
        f.write('remove "%s"\n' % p)
    for p in sorted(dirs, reverse=True):
        f.write('rmdir "%s"\n' % p)
EOF
}
make_stage() {
  local root="$WORK/root" s="$WORK/stage.tmp/thunderbird" l
  rm -rf "$root" "$WORK/stage" "$WORK/stage.tmp"
  mkdir -p "$root" "$WORK/stage.tmp"
  root=$(realpath "$root")          # canonical, for the "inside the deb" test below
  dpkg-deb -x "$MAIN_DEB" "$root"
  # Drop the links that cannot be followed inside the unpacked deb: absolute ones and
  # any other whose target is outside it (defaults/syspref -> /etc/thunderbird/pref),
  # and dangling ones (dictionaries -> ../../share/hunspell, not in the deb); repeated
  # until none is left (a link to a dropped link dangles in turn).
  : > "$WORK/dropped-links.txt"
  local again=1 target
  while [ "$again" = 1 ]; do
    again=0
    while read -r l; do
      target=$(realpath -m -- "$l")
      if [ -e "$l" ] && [[ $target == "$root"/* ]]; then continue; fi
      echo "${l#"$root"/} -> $(readlink -- "$l")" >> "$WORK/dropped-links.txt"
      rm -f -- "$l"
      again=1
    done < <(find "$root" -type l | LC_ALL=C sort)
  done
  # Dereference the rest (chrome, defaults, isp, omni.ja -> ../../share/thunderbird/...,
  # thunderbird -> thunderbird-bin), as Mozilla's `tar -h`.
  cp -rL "$root/usr/lib/thunderbird" "$s"
  [ -z "$(find "$s" -type l -print -quit)" ] || die "symlinks left in the stage"
  write_update_settings "$s"
  write_precomplete "$s"
  mv "$WORK/stage.tmp" "$WORK/stage"
  rm -rf "$root"
}
STAGE_KEY="$MAIN_SHA $(recipe make_stage write_update_settings write_precomplete)"
STAGE_READY=0
ensure_stage() {
  [ "$STAGE_READY" = 1 ] && return 0
  local t
  t=$(now)
  if ! stamp_ok "$WORK/stamp.stage" "$STAGE_KEY" || [ ! -f "$STAGE/application.ini" ]; then
    make_stage
    echo "$STAGE_KEY" > "$WORK/stamp.stage"
  fi
  BUILDID=$(sed -n '/^BuildID=/{s///p;q}' "$STAGE/application.ini")
  APPVER=$(sed -n '/^Version=/{s///p;q}' "$STAGE/application.ini")
  MTIME=$(date -u -d "${BUILDID:0:8} ${BUILDID:8:2}:${BUILDID:10:2}:${BUILDID:12:2}" +%s)
  echo "Version=$APPVER BuildID=$BUILDID" > "$WORK/buildinfo"
  STAGE_READY=1
  timing en-US-stage "$t"
}

# ---------------------------------------------------------------- 1. en-US tarball
TARBALL="$TARGET/en-US/thunderbird-$VER.en-US.linux-x86_64.tar.bz2"
build_linux() {
  tar --sort=name --owner=0 --group=0 --numeric-owner --mode=go-w --mtime="@$MTIME" \
      -C "$WORK/stage" -cf - thunderbird | bzip2 -9 > "$TARBALL.tmp"
  mv "$TARBALL.tmp" "$TARBALL"
}
BUILT=0
t=$(now)
key="$STAGE_KEY $(recipe build_linux)"
if stamp_ok "$WORK/stamp.en-US" "$key" && [ -f "$TARBALL" ]; then
  echo "en-US tarball up to date" >&2
else
  ensure_stage
  t=$(now)
  build_linux
  echo "$key" > "$WORK/stamp.en-US"
  BUILT=1
fi
timing en-US-tarball "$t"

# ---------------------------------------------------------------- 2. langpacks
t=$(now)
build_xpis() { # every langpack out of the l10n debs into $TARGET/.work/langpacks/<loc>.xpi
  local r="$WORK/l10nroot" out="$WORK/langpacks.tmp" d x loc
  rm -rf "$r" "$out"
  mkdir -p "$r" "$out"
  for d in $L10N_DEBS; do
    dpkg-deb -x "$d" "$r"
  done
  for x in "$r"/usr/lib/thunderbird/extensions/langpack-*@thunderbird.mozilla.org.xpi; do
    [ -f "$x" ] || die "no langpack-*@thunderbird.mozilla.org.xpi in the l10n debs"
    loc=${x##*/langpack-}
    loc=${loc%@thunderbird.mozilla.org.xpi}
    cp -p "$x" "$out/$loc.xpi"
  done
  # the manifest's langpack_id and languages must be the code in the file name
  "$PYTHON" - "$out" <<'EOF'
import json, os, sys, zipfile
d = sys.argv[1]
for f in sorted(os.listdir(d)):
    loc = f[:-len(".xpi")]
    m = json.loads(zipfile.ZipFile(os.path.join(d, f)).read("manifest.json"))
    gid = m["browser_specific_settings"]["gecko"]["id"]
    assert m["langpack_id"] == loc and list(m["languages"]) == [loc], (f, m["langpack_id"])
    assert gid == "langpack-%s@thunderbird.mozilla.org" % loc, (f, gid)
EOF
  rm -rf "$WORK/langpacks" "$r"
  mv "$out" "$WORK/langpacks"
}
key="$L10N_SHA $(recipe build_xpis)"
if stamp_ok "$WORK/stamp.langpacks" "$key" && [ -d "$WORK/langpacks" ]; then
  echo "langpacks up to date" >&2
else
  build_xpis
  echo "$key" > "$WORK/stamp.langpacks"
fi
ALL_LOCALES=$(ls "$WORK/langpacks" | sed -n 's/\.xpi$//p' | LC_ALL=C sort)
if [ ${#WANT_LOCALES[@]} -gt 0 ]; then
  LOCALES=$(printf '%s\n' "${WANT_LOCALES[@]}" | LC_ALL=C sort -u)
  for l in $LOCALES; do
    echo "$ALL_LOCALES" | grep -qx -- "$l" || die "no langpack for $l (have: $(echo $ALL_LOCALES))"
  done
else
  LOCALES=$ALL_LOCALES
fi
key="$L10N_SHA $(echo $LOCALES) mozilla-names"
if stamp_ok "$WORK/stamp.xpi" "$key" && [ -d "$TARGET/xpi" ]; then
  echo "xpi/ up to date" >&2
else
  rm -rf "$TARGET/xpi.tmp" && mkdir -p "$TARGET/xpi.tmp"
  for l in $LOCALES; do
    cp -p "$WORK/langpacks/$l.xpi" "$TARGET/xpi.tmp/langpack-$l@thunderbird.mozilla.org.xpi"
  done
  rm -rf "$TARGET/xpi" && mv "$TARGET/xpi.tmp" "$TARGET/xpi"
  echo "$key" > "$WORK/stamp.xpi"
fi
echo "$LOCALES" > "$TARGET/locales.txt.tmp" && mv "$TARGET/locales.txt.tmp" "$TARGET/locales.txt"
timing langpacks "$t"

# ---------------------------------------------------------------- 3. checks
check_tarball() { # GNU tar lists it; Python's tarfile finds exactly the staged tree
  local n
  n=$(tar -tjf "$TARBALL" | grep -c -v '/$') || die "tar -tjf $TARBALL failed"
  echo "  ok: tar -tjf $(basename "$TARBALL"): $n files" >&2
  "$PYTHON" - "$TARBALL" "$STAGE" "$MTIME" <<'EOF' >&2
import hashlib, os, sys, tarfile
tarball, stage, mtime = sys.argv[1], sys.argv[2], int(sys.argv[3])
names, files = [], {}
with tarfile.open(tarball, "r:bz2") as t:
    for m in t:
        names.append(m.name.rstrip("/"))
        assert m.name == "thunderbird" or m.name.startswith("thunderbird/"), m.name
        assert m.isfile() or m.isdir(), "not a file or dir: " + m.name
        assert (m.uid, m.gid, m.mtime) == (0, 0, mtime), m.name
        if m.isfile():
            files[m.name] = hashlib.sha256(t.extractfile(m).read()).hexdigest()
want = {}
for d, _, fs in os.walk(stage):
    for f in fs:
        p = os.path.join(d, f)
        rel = "thunderbird/" + os.path.relpath(p, stage)
        with open(p, "rb") as fh:
            want[rel] = hashlib.sha256(fh.read()).hexdigest()
assert files == want, "tarball differs from the stage"
assert names == sorted(names, key=lambda n: n.split("/")), "members not in sorted order"
print("  ok: tarfile: %d members, %d files identical to the stage, owner 0/0, mtime %d"
      % (len(names), len(files), mtime))
EOF
}
if [ "$VERIFY" = 2 ] || { [ "$VERIFY" = 1 ] && [ "$BUILT" = 1 ]; }; then
  t=$(now)
  ensure_stage
  t=$(now)
  check_tarball
  timing verify-tarball "$t"
fi

# ---------------------------------------------------------------- 4. provenance
[ "$KEEP_WORK" = 1 ] || rm -rf "$WORK/stage"
timing total "$T_ALL"
{
  echo "thunderbird $DEB_VER  (version string used in file names: $VER)"
  [ -f "$WORK/buildinfo" ] && echo "application.ini: $(cat "$WORK/buildinfo")"
  echo "en-US deb: $(basename "$MAIN_DEB") sha256 $MAIN_SHA"
  echo "l10n debs: $(echo "$L10N_DEBS" | wc -l), combined sha256 $L10N_SHA"
  echo "langpacks in the debs: $(echo "$ALL_LOCALES" | wc -l); in xpi/: $(echo "$LOCALES" | wc -l)"
  echo "symlinks dropped from the deb (absolute or dangling):"
  [ -f "$WORK/dropped-links.txt" ] && sed 's/^/  /' "$WORK/dropped-links.txt"
  echo
  echo "outputs (sha256, bytes, path):"
  printf '  %s %10s %s\n' "$(sha "$TARBALL")" "$(stat -c %s "$TARBALL")" "${TARBALL#"$TARGET"/}"
  echo "  xpi/: $(ls "$TARGET/xpi" | wc -l) langpacks, $(cat "$TARGET"/xpi/*.xpi | wc -c) bytes"
  echo
  echo "layout: see the header of make-thunderbird-corpus.sh"
  echo "generated: $(date -u +%FT%TZ)  FORCE=$FORCE VERIFY=$VERIFY"
  echo
  echo "this run's steps (seconds):"
  printf '%s' "$RUN_TIMINGS" | sed 's/^/  /'
} > "$TARGET/CORPUS.txt.tmp"
mv "$TARGET/CORPUS.txt.tmp" "$TARGET/CORPUS.txt"
