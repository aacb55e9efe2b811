#!/usr/bin/env bash
# make-thunderbird-corpus.sh — build a Thunderbird l10n-repack test corpus from Debian's
# thunderbird packages: a real en-US Thunderbird build (Debian's, as apt fetches and
# checks it) repackaged as Mozilla's Linux tarball and, on request, as Windows and macOS
# stand-ins of the same build, plus the real langpacks of the same version. The
# Thunderbird counterpart of shared/corpus/make-corpus.sh (no Android).
#
# Usage:
#   [PLATFORMS="linux win mac"] make-thunderbird-corpus.sh TARGET_DIR [LOCALE ...]
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
#   PLATFORMS     which en-US packages to build, any of "linux win mac" (default "linux");
#                 the langpacks are always copied
#   FORCE=1       rebuild every output even if its stamp says it is up to date
#   VERIFY        1 (default): check each package built in this run (the tarball with GNU
#                 tar + Python tarfile; the zip with unzip -t or 7z t and its file list; the
#                 dmg with 7z t/x and, if installed, dmg2img + fls); 2: check them even when
#                 up to date; 0: never
#   APT_UPDATE=0  skip the `apt-get update` (as root) that precedes the first download
#   JOBS          parallel compression workers for the zip and the dmg (default: nproc)
#   KEEP_WORK=1   keep TARGET/.work/{stage,win,mac} (the unpacked en-US build and the
#                 platform staging dirs) after the run
#   PYTHON        python3 interpreter, stdlib only (default python3)
#   SHARED_CORPUS_DIR  shared/corpus, whose make-platform-inputs.py and make-sample-dmg.py
#                 the win and mac steps use (default: ../../../shared/corpus from this
#                 script, i.e. the `shared` checkout beside the repository)
#
# Tools used (Debian packages): apt-get (apt), dpkg-deb (dpkg), tar, bzip2, coreutils,
# findutils, python3 (bz2, zlib, multiprocessing); win: makensis (nsis); VERIFY: unzip or
# 7z (p7zip-full) for win, 7z for mac, and dmg2img + fls (sleuthkit) when installed.
# Helpers: make-thunderbird-platforms.py beside this script (Windows zip, dmg staging
# tree, PE stub; it imports $SHARED_CORPUS_DIR/make-platform-inputs.py) and
# $SHARED_CORPUS_DIR/make-sample-dmg.py (HFS+ volume + UDIF writer). The l10n debs are
# downloaded all at once (about 35 MB) even when only some LOCALEs are asked for.
#
# Output (under TARGET_DIR). <ver> is the Debian upstream version, e.g. 153.8.0esr.
#   en-US/thunderbird-<ver>.en-US.linux-x86_64.tar.bz2                  [linux]
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
#   The Windows and macOS packages below are made from the same staged files: the same
#   real omni.ja (the file an l10n repack rewrites), the Linux x86-64 ELF binaries under
#   the platform's names (real sizes, wrong machine code, which a repack never looks at).
#   en-US/thunderbird-<ver>.en-US.win64.zip                             [win]
#       Mozilla's Windows zip layout: top-level `thunderbird/`; lib<x>.so -> <x>.dll
#       (xul.dll, nss3.dll, ...), executables get .exe (thunderbird.exe); Linux-only
#       files dropped (thunderbird-bin, glxtest, vaapitest, v4l2test, vulkantest,
#       libmozgtk/libmozwayland/libmozsandbox, Debian's thunderbird-wrapper-helper.sh
#       and the GTK icons in chrome/icons/default/); `uninstall/helper.exe` added (a tiny
#       real PE made by makensis, where Mozilla's NSIS uninstaller sits); dependentlibs.list
#       and precomplete rewritten for the Windows names. Deterministic: entries sorted, no
#       directory entries, deflate -9, every date = the BuildID.
#   en-US/setup.exe                                                     [win]
#       stand-in for Mozilla's NSIS installer setup.exe (next to core/ in the installer's
#       7z archive): a do-nothing NSIS installer, Name "Mozilla Thunderbird", by makensis.
#   en-US/7z-sfx-stub.exe                                               [win]
#       stand-in for comm/other-licenses/7zstub/thunderbird/7zSD.sfx: a makensis-built PE
#       with its NSIS data cut off (no overlay), so stub + app.tag + a 7z archive opens
#       in 7z as "Type = 7z" at offset stub + tag size, like Mozilla's installers.
#   en-US/app.tag                                                       [win]
#       the SFX config as comm/mail/installer/windows/app.tag: ;!@Install@!UTF-8! /
#       Title="Mozilla Thunderbird" / RunProgram="setup.exe" / ;!@InstallEnd@!
#   en-US/thunderbird-<ver>.en-US.mac.dmg                               [mac]
#       UDIF image (bzip2 chunks, UDBZ) of an HFS+ volume named "Thunderbird", written by
#       make-sample-dmg.py:
#         Thunderbird.app/Contents/Info.plist (keys of comm-central's
#             mail/app/macbuild/Contents/Info.plist.in: CFBundleExecutable thunderbird,
#             CFBundleIdentifier org.mozilla.thunderbird, CFBundleSignature MOZM,
#             CFBundleName Thunderbird, CFBundleIconFile thunderbird.icns), PkgInfo (APPLMOZM)
#         Thunderbird.app/Contents/MacOS/{thunderbird, XUL, lib*.dylib}
#         Thunderbird.app/Contents/Resources/{omni.ja, application.ini, platform.ini,
#             dependentlibs.list, precomplete (Contents/... paths), removed-files,
#             en.lproj/InfoPlist.strings (UTF-16: CFBundleName = "Thunderbird";),
#             thunderbird.icns, chrome/, defaults/, isp/, ...}
#         " " -> /Applications   (a symlink named by one space, as in Mozilla's dmg)
#         .background/background.png, .VolumeIcon.icns   (from the Linux PNG icons)
#       channel-prefs.js, update-settings.ini, fonts/ and the GTK icons are left out, as in
#       Mozilla's mac package. Every date = the BuildID => byte-identical on every run.
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
# code (its bash functions, and the Python helpers it runs), so a re-run skips finished
# steps (FORCE=1 redoes all).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
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
PLATFORMS=${PLATFORMS:-linux}
JOBS=${JOBS:-$(nproc)}
SHARED_CORPUS_DIR=${SHARED_CORPUS_DIR:-$HERE/../../../shared/corpus}
export SHARED_CORPUS_DIR                   # make-thunderbird-platforms.py reads it too
PLATFORM_PY="$HERE/make-thunderbird-platforms.py"
SHARED_PY="$SHARED_CORPUS_DIR/make-platform-inputs.py"
DMG_PY="$SHARED_CORPUS_DIR/make-sample-dmg.py"

[ $# -ge 1 ] || { sed -n '2,48p' "$0"; exit 2; }
for p in $PLATFORMS; do
  case $p in linux|win|mac) ;; *) echo "unknown platform '$p' in PLATFORMS (linux win mac)" >&2; exit 2 ;; esac
done
want() { case " $PLATFORMS " in *" $1 "*) return 0 ;; esac; return 1; }
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

have() { command -v "$1" >/dev/null 2>&1; }
for c in apt-get apt-cache dpkg-deb tar bzip2 sha256sum "$PYTHON"; do
  have "$c" || die "missing tool: $c"
done
"$PYTHON" -c 'import bz2, json, multiprocessing, tarfile, zipfile, zlib' \
  || die "$PYTHON lacks bz2/json/multiprocessing/tarfile/zipfile/zlib"
if want win || want mac; then
  [ -f "$SHARED_PY" ] || die "no $SHARED_PY (set SHARED_CORPUS_DIR to shared/corpus)"
  if want mac && [ ! -f "$DMG_PY" ]; then die "no $DMG_PY (set SHARED_CORPUS_DIR to shared/corpus)"; fi
fi
if want win && ! have makensis; then die "missing tool: makensis (apt-get install nsis)"; fi
SEVENZ=$(command -v 7z || command -v 7zz || true)
if [ "$VERIFY" != 0 ]; then
  if want win && [ -z "$SEVENZ" ] && ! have unzip; then
    die "VERIFY needs unzip or 7z for the zip (apt-get install unzip p7zip-full; or VERIFY=0)"
  fi
  if want mac && [ -z "$SEVENZ" ]; then
    die "VERIFY needs 7z for the dmg (apt-get install p7zip-full; or VERIFY=0)"
  fi
fi

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
BUILT=""                          # the platforms built in this run (for VERIFY=1)
if want linux; then
  t=$(now)
  key="$STAGE_KEY $(recipe build_linux)"
  if stamp_ok "$WORK/stamp.en-US" "$key" && [ -f "$TARBALL" ]; then
    echo "en-US tarball up to date" >&2
  else
    ensure_stage
    t=$(now)
    build_linux
    echo "$key" > "$WORK/stamp.en-US"
    BUILT+=" linux"
  fi
  timing en-US-tarball "$t"
fi

# ---------------------------------------------------------------- 1b. Windows
ZIP="$TARGET/en-US/thunderbird-$VER.en-US.win64.zip"
SETUP="$TARGET/en-US/setup.exe"
SFX_STUB="$TARGET/en-US/7z-sfx-stub.exe"
APP_TAG="$TARGET/en-US/app.tag"
nsis_pe() { # nsis_pe OUT.exe CAPTION: a tiny, silent, do-nothing NSIS installer (a real PE)
  local nsi="${1%.exe}.nsi"
  cat > "$nsi" <<EOF
Unicode true
Name "Mozilla Thunderbird"
Caption "$2"
OutFile "$1"
RequestExecutionLevel user
SilentInstall silent
Section
SectionEnd
EOF
  makensis -V1 "$nsi" >&2
}
build_win() { # everything in $WORK/win first, then moved into en-US/
  local w="$WORK/win"
  rm -rf "$w" && mkdir -p "$w"
  nsis_pe "$w/helper.exe" "Mozilla Thunderbird Uninstall"
  nsis_pe "$w/setup.exe" "Mozilla Thunderbird Setup"
  nsis_pe "$w/stub-nsis.exe" "7-Zip SFX stub stand-in"
  "$PYTHON" "$PLATFORM_PY" pe-strip "$w/stub-nsis.exe" "$w/7z-sfx-stub.exe"
  # comm/mail/installer/windows/app.tag
  printf ';!@Install@!UTF-8!\nTitle="Mozilla Thunderbird"\nRunProgram="setup.exe"\n;!@InstallEnd@!\n' > "$w/app.tag"
  "$PYTHON" "$PLATFORM_PY" win-zip "$STAGE" "$w/out.zip" --helper "$w/helper.exe" \
      --mtime "$MTIME" --jobs "$JOBS"
  mv "$w/setup.exe" "$SETUP"
  mv "$w/7z-sfx-stub.exe" "$SFX_STUB"
  mv "$w/app.tag" "$APP_TAG"
  mv "$w/out.zip" "$ZIP"
}
if want win; then
  t=$(now)
  key="$STAGE_KEY $(recipe build_win nsis_pe) $(sha "$PLATFORM_PY" "$SHARED_PY" | sha)"
  if stamp_ok "$WORK/stamp.win" "$key" && [ -f "$ZIP" ] && [ -f "$SETUP" ] && [ -f "$SFX_STUB" ] && [ -f "$APP_TAG" ]; then
    echo "Windows zip up to date" >&2
  else
    ensure_stage
    t=$(now)
    build_win
    echo "$key" > "$WORK/stamp.win"
    BUILT+=" win"
  fi
  timing win-zip "$t"
fi

# ---------------------------------------------------------------- 1c. macOS
DMG="$TARGET/en-US/thunderbird-$VER.en-US.mac.dmg"
build_mac() {
  local m="$WORK/mac"
  rm -rf "$m" && mkdir -p "$m"
  "$PYTHON" "$PLATFORM_PY" mac-stage "$STAGE" "$m/root" --version "$APPVER"
  "$PYTHON" "$DMG_PY" "$m/root" "$m/volume.hfs" "$m/out.dmg" --name Thunderbird --bzip2 \
      --mtime "$MTIME" --jobs "$JOBS"
  mv "$m/out.dmg" "$DMG"                # volume.hfs stays until the checks (dmg2img == it)
}
if want mac; then
  t=$(now)
  key="$STAGE_KEY $(recipe build_mac) $(sha "$PLATFORM_PY" "$SHARED_PY" "$DMG_PY" | sha)"
  if stamp_ok "$WORK/stamp.mac" "$key" && [ -f "$DMG" ]; then
    echo "macOS dmg up to date" >&2
  else
    ensure_stage
    t=$(now)
    build_mac
    echo "$key" > "$WORK/stamp.mac"
    BUILT+=" mac"
  fi
  timing mac-dmg "$t"
fi

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
check_win() { # the zip tests clean; its file list is the Windows one; omni.ja is the real one
  if have unzip; then
    unzip -tq "$ZIP" >&2 || die "unzip -t $ZIP failed"
    echo "  ok: unzip -t $(basename "$ZIP"): no errors" >&2
  else
    "$SEVENZ" t "$ZIP" >/dev/null || die "7z t $ZIP failed"
    echo "  ok: 7z t $(basename "$ZIP"): Everything is Ok" >&2
  fi
  "$PYTHON" - "$ZIP" "$STAGE" <<'EOF' >&2
import hashlib, os, sys, zipfile
zpath, stage = sys.argv[1:3]
z = zipfile.ZipFile(zpath)
names = [i.filename for i in z.infolist()]
assert names == sorted(names), "entries not sorted"
assert all(n.startswith("thunderbird/") and not n.endswith("/") for n in names), "not all files under thunderbird/"
files = {n[len("thunderbird/"):] for n in names}
need = {"thunderbird.exe", "xul.dll", "omni.ja", "application.ini", "uninstall/helper.exe",
        "precomplete", "dependentlibs.list"}
assert need <= files, "missing: %s" % sorted(need - files)
linux = sorted(f for f in files if f.endswith(".so") or f.startswith("chrome/icons/") or f in
               ("thunderbird", "thunderbird-bin", "glxtest", "vaapitest", "v4l2test", "vulkantest"))
assert not linux, "Linux-only files left: %s" % linux
removes = {l[8:-1] for l in z.read("thunderbird/precomplete").decode().splitlines()
           if l.startswith('remove "')}
assert removes == {f for f in files if not f.endswith(("channel-prefs.js", "update-settings.ini"))}, \
    "precomplete does not list the zip's files"
deps = z.read("thunderbird/dependentlibs.list").decode().split()
assert deps and all(d.endswith(".dll") and d in files for d in deps), deps
h = lambda b: hashlib.sha256(b).hexdigest()
with open(os.path.join(stage, "omni.ja"), "rb") as f:
    assert h(z.read("thunderbird/omni.ja")) == h(f.read()), "omni.ja differs from the stage"
print("  ok: zip file list: %d files under thunderbird/ (thunderbird.exe, xul.dll, "
      "uninstall/helper.exe, ...), no Linux-only files, precomplete and dependentlibs.list "
      "match, omni.ja byte-identical to the stage" % len(files))
EOF
  local f
  for f in "$SETUP" "$SFX_STUB"; do
    [ "$(head -c2 "$f")" = MZ ] || die "$f is not a PE file"
  done
  grep -qx 'Title="Mozilla Thunderbird"' "$APP_TAG" || die "$APP_TAG has no Thunderbird title"
  echo "  ok: setup.exe, 7z-sfx-stub.exe are PE files; app.tag says Mozilla Thunderbird" >&2
}
check_mac() { # 7z reads the dmg and finds the real omni.ja; Sleuth Kit reads the HFS+ volume
  local p img="$WORK/mac/verify.img"
  mkdir -p "$WORK/mac"
  "$SEVENZ" t "$DMG" > "$WORK/mac/7z-t.txt" 2>&1 || { cat "$WORK/mac/7z-t.txt" >&2; die "7z t $DMG failed"; }
  echo "  ok: 7z t $(basename "$DMG"): Everything is Ok ($(grep -E '^(Files|Folders):' "$WORK/mac/7z-t.txt" | tr '\n' ' '))" >&2
  p=$("$SEVENZ" l -slt "$DMG" | sed -n 's|^Path = \(.*Thunderbird\.app/Contents/Resources/omni\.ja\)$|\1|p')
  [ -n "$p" ] || die "7z l: no Thunderbird.app/Contents/Resources/omni.ja in $DMG"
  "$SEVENZ" x -so "$DMG" "$p" | cmp - "$STAGE/omni.ja" || die "7z x $p differs from the staged omni.ja"
  echo "  ok: 7z x $p: byte-identical to the staged omni.ja" >&2
  if have dmg2img && have fls; then
    dmg2img -s "$DMG" "$img" >/dev/null || die "dmg2img $DMG failed"
    if [ -f "$WORK/mac/volume.hfs" ]; then
      cmp "$img" "$WORK/mac/volume.hfs" || die "dmg2img output differs from the HFS+ volume written"
    fi
    fls -r -p "$img" > "$WORK/mac/fls.txt" || die "fls -r -p failed"
    grep -qP '^r/r [0-9]+:\tThunderbird\.app/Contents/Resources/omni\.ja$' "$WORK/mac/fls.txt" \
      || die "fls -r -p: no Thunderbird.app/Contents/Resources/omni.ja"
    grep -qP '^l/l [0-9]+:\t $' "$WORK/mac/fls.txt" || die "fls -r -p: no ' ' symlink"
    echo "  ok: dmg2img + fls -r -p: HFS+ volume with Thunderbird.app/Contents/Resources/omni.ja" \
         "and the ' ' symlink ($(grep -c '^r/r' "$WORK/mac/fls.txt") files)" >&2
    rm -f "$img"
  else
    echo "  (dmg2img or fls not installed: HFS+ check skipped)" >&2
  fi
}
if [ "$VERIFY" != 0 ]; then
  for p in linux win mac; do
    want "$p" || continue
    case " $BUILT " in *" $p "*) ;; *) [ "$VERIFY" = 2 ] || continue ;; esac
    ensure_stage
    t=$(now)
    echo "checking $p" >&2
    case $p in linux) check_tarball ;; *) "check_$p" ;; esac
    case $p in linux) timing verify-tarball "$t" ;; *) timing "verify-$p" "$t" ;; esac
  done
fi

# ---------------------------------------------------------------- 4. provenance
[ "$KEEP_WORK" = 1 ] || rm -rf "$WORK/stage" "$WORK/win" "$WORK/mac"
OUTPUTS=""
for f in "$TARBALL" "$ZIP" "$SETUP" "$SFX_STUB" "$APP_TAG" "$DMG"; do
  if [ -f "$f" ]; then
    OUTPUTS+=$(printf '  %s %10s %s' "$(sha "$f")" "$(stat -c %s "$f")" "${f#"$TARGET"/}")$'\n'
  fi
done
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
  printf '%s' "$OUTPUTS"
  echo "  xpi/: $(ls "$TARGET/xpi" | wc -l) langpacks, $(cat "$TARGET"/xpi/*.xpi | wc -c) bytes"
  echo
  echo "layout: see the header of make-thunderbird-corpus.sh"
  echo "generated: $(date -u +%FT%TZ)  PLATFORMS=\"$PLATFORMS\" FORCE=$FORCE VERIFY=$VERIFY"
  echo
  echo "this run's steps (seconds):"
  printf '%s' "$RUN_TIMINGS" | sed 's/^/  /'
} > "$TARGET/CORPUS.txt.tmp"
mv "$TARGET/CORPUS.txt.tmp" "$TARGET/CORPUS.txt"
