#!/usr/bin/env bash
# bench/corpus.sh - the corpus benchmark: l10n-repack on the real Firefox build, 1, 10 and
# all locales to tar.bz2, next to Mozilla's classic one-locale flow (baseline-repack.sh);
# or, with PLATFORM=win64, to the Windows zip, installer and MAR, next to Mozilla's 7z
# command on one locale's tree; with PLATFORM=macosx64, to the dmg and MAR; with
# PLATFORM=android, to the apk, next to Fennec's classic flow on one locale (`zip -d` the
# signature, `zip -0` the localized omni.ja in, `zipalign -p -f 4`).
#
# Usage: bench/corpus.sh CORPUS_DIR [OUT_DIR]
#   CORPUS_DIR  the TARGET of ../shared/corpus/make-corpus.sh (kept outside the repo)
#   OUT_DIR     scratch space for outputs (default: a temp dir, removed at the end)
# Environment:
#   PRODUCT     firefox (default; make-corpus.sh's corpus) or thunderbird (the corpus of
#               tests/tools/make-thunderbird-corpus.sh, PLATFORMS as below; no classic
#               flow, baseline-repack.sh being Firefox's: give BASELINE=0)
#   PLATFORM    linux64 (default), win64 (the corpus's Windows zip, make-corpus.sh
#               PLATFORMS=win; its SFX stub stand-in, app.tag and setup.exe stand-in) or
#               macosx64 (the corpus's dmg, PLATFORMS=mac) or android (the corpus's
#               signed apk, PLATFORMS=android)
#   FORMATS     what to write (default tar.bz2; zip,installer,mar on win64; dmg,mar on
#               macosx64; apk on android)
#   BASELINE=0  skip the classic flow (baseline-repack.sh fr; with MAR when FORMATS has mar)
#   DATA_DIR    the corpus data dir, for baseline-repack.sh (default: CORPUS_DIR/..)
#
# Prints a Markdown table: wall time, peak RSS, and the marginal cost per locale
# ((t_all - t_10) / (n_all - 10)). Numbers are from a release build; the machine should be
# otherwise idle. This is a benchmark, not a test: nothing here asserts a time.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
corpus=$(cd "${1:?usage: bench/corpus.sh CORPUS_DIR [OUT_DIR]}" && pwd)
out=${2:-$(mktemp -d)}
mkdir -p "$out"
[ -n "${2:-}" ] || trap 'rm -rf "$out"' EXIT
platform=${PLATFORM:-linux64}
product=${PRODUCT:-firefox}
case $product in
  firefox) channel=firefox-mozilla-esr ;;
  thunderbird) channel=thunderbird-comm-esr ;;
  *) echo "PRODUCT must be firefox or thunderbird" >&2; exit 2 ;;
esac
extra=()
case $platform in
  win64)
    input=$(ls "$corpus"/en-US/"$product"-*.en-US.win64.zip | head -1)
    default_formats=zip,installer,mar
    mkdir -p "$out/nsis/en-US"
    cp "$corpus/en-US/setup.exe" "$out/nsis/en-US/setup.exe"
    extra=(--sfx-stub "$corpus/en-US/7z-sfx-stub.exe" --installer-tag "$corpus/en-US/app.tag"
      --installer-dir "$out/nsis")
    ;;
  macosx64)
    input=$(ls "$corpus"/en-US/"$product"-*.en-US.mac.dmg | head -1)
    default_formats=dmg,mar
    # The corpus's dmg carries no update-settings.ini.
    extra=(--mar-channel-id "$channel")
    ;;
  android)
    input=$(ls "$corpus"/en-US/fennec-*.en-US.android-arm.apk | head -1)
    default_formats=apk
    ;;
  *)
    input=$(ls "$corpus"/en-US/"$product"-*.en-US.linux-x86_64.tar.bz2 | head -1)
    default_formats=tar.bz2
    ;;
esac
f=${FORMATS:-$default_formats}

cargo build --release --quiet --manifest-path "$here/Cargo.toml"
bin="$here/target/release/l10n-repack"
all=$("$bin" list-locales --product "$product" --platform "$platform" | while read -r l; do
  [ -e "$corpus/xpi/langpack-$l@"*.xpi ] 2>/dev/null && echo "$l"; done | paste -sd, -)
ten=$(echo "$all" | cut -d, -f1-10)
n_all=$(echo "$all" | tr , '\n' | wc -l)

measure() { # name locales -> "wall_s rss_kb"
  local name=$1 locales=$2
  rm -rf "$out/$name"
  /usr/bin/time -f '%e %M' -o "$out/$name.time" \
    "$bin" repack --quiet --input "$input" --l10n "$corpus/xpi" --output-dir "$out/$name" \
    --locales "$locales" --formats "$f" "${extra[@]}" > /dev/null
  cat "$out/$name.time"
  [ "$name" = one ] || rm -rf "$out/$name"
}

read -r t1 r1 < <(measure one fr)
read -r t10 r10 < <(measure ten "$ten")
read -r tall rall < <(measure all "$all")
marginal=$(echo "scale=3; ($tall - $t10) / ($n_all - 10)" | bc)

echo "| run | locales | wall (s) | peak RSS (MiB) |"
echo "|---|---:|---:|---:|"
echo "| l10n-repack, $f | 1 | $t1 | $((r1 / 1024)) |"
echo "| l10n-repack, $f | 10 | $t10 | $((r10 / 1024)) |"
echo "| l10n-repack, $f | $n_all | $tall | $((rall / 1024)) |"
echo "| marginal cost per locale ((t$n_all - t10) / $((n_all - 10))) | | $marginal | |"

if [ "$platform" = win64 ]; then
  # Mozilla's installer archive (mozilla-formats.md §5) of fr's tree: the zip's <product>/
  # as core/, plus setup.exe.
  tree="$out/fr-tree"
  rm -rf "$tree" && mkdir -p "$tree"
  unzip -q "$out"/one/*.fr.win64.zip -d "$tree" && mv "$tree/$product" "$tree/core"
  cp "$out/nsis/en-US/setup.exe" "$tree/"
  (cd "$tree" && /usr/bin/time -f '%e %M' -o "$out/7z.time" 7z a -r -t7z "$out/app.7z" -mx \
    -m0=BCJ2 -m1=LZMA:d25 -m2=LZMA:d19 -m3=LZMA:d19 -mb0:1 -mb0s1:2 -mb0s2:3 core setup.exe \
    > /dev/null)
  read -r t7 r7 < "$out/7z.time"
  ours=$(stat -c %s "$out"/one/*.fr.win64.installer.exe)
  stub=$(( $(stat -c %s "$corpus/en-US/7z-sfx-stub.exe") + $(stat -c %s "$corpus/en-US/app.tag") ))
  theirs=$(stat -c %s "$out/app.7z")
  echo "| Mozilla's 7z command (BCJ2 + LZMA), fr's tree | 1 | $t7 | $((r7 / 1024)) |"
  echo
  echo "| fr installer archive | bytes |"
  echo "|---|---:|"
  echo "| Mozilla's 7z command | $theirs |"
  echo "| l10n-repack (setup.exe minus stub and tag) | $((ours - stub)) ($(echo "scale=2; ($ours - $stub - $theirs) * 100 / $theirs" | bc)%) |"
elif [ "$platform" = macosx64 ]; then
  echo
  echo "| dmg | bytes |"
  echo "|---|---:|"
  echo "| en-US input (UDBZ, make-sample-dmg.py) | $(stat -c %s "$input") |"
  echo "| fr, l10n-repack (ULMO: LZMA chunks, the default) | $(stat -c %s "$out"/one/*.fr.mac.dmg) |"
elif [ "$platform" = android ]; then
  # Fennec's classic flow for one locale (mozilla-formats.md §7): strip the signature,
  # put the localized omni.ja in (stored, as the packager does), align.
  work="$out/classic"
  rm -rf "$work" && mkdir -p "$work/assets"
  unzip -q -p "$out"/one/*.fr.android-arm.apk assets/omni.ja > "$work/assets/omni.ja"
  /usr/bin/time -f '%e %M' -o "$out/classic.time" bash -c '
    set -e; cd "$1"; cp "$2" unaligned.apk
    zip -q -d unaligned.apk "META-INF/*"
    zip -q -0 unaligned.apk assets/omni.ja
    zipalign -p -f 4 unaligned.apk fr.apk' _ "$work" "$input"
  read -r tc rc < "$out/classic.time"
  echo "| classic flow (zip -d, zip -0, zipalign), fr | 1 | $tc | $((rc / 1024)) |"
  echo "| classic flow, extrapolated | $n_all | $(echo "$tc * $n_all" | bc) | |"
elif [ "${BASELINE:-1}" != 0 ]; then
  data=${DATA_DIR:-$(dirname "$corpus")}
  rm -f "$out/baseline/timings.tsv"
  case ",$f," in *,mar,*) skip_mar=0 ;; *) skip_mar=1 ;; esac
  DATA_DIR=$data CORPUS_DIR=$corpus OUT_DIR="$out/baseline" SKIP_MAR=$skip_mar \
    bash "$here/../shared/corpus/baseline-repack.sh" fr > "$out/baseline.log" 2>&1
  tb=$(awk '$1 == "fr" { s += $3 } END { print s }' "$out/baseline/timings.tsv")
  echo "| classic flow (baseline-repack.sh fr, SKIP_MAR=$skip_mar) | 1 | $tb | |"
  echo "| classic flow, extrapolated | $n_all | $(echo "$tb * $n_all" | bc) | |"
fi
