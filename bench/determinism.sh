#!/usr/bin/env bash
# bench/determinism.sh - determinism at scale: the whole corpus batch (every locale with a
# langpack) repacked with -j1, -j2 and -j8 must give byte-identical outputs, which the
# SHA512SUMS files prove (they list every output with its SHA-512). Prints one Markdown row
# per platform and thread count, and exits 1 if any platform's SHA512SUMS differ.
#
# Usage: bench/determinism.sh CORPUS_DIR [OUT_DIR]
#   CORPUS_DIR  the TARGET of ../shared/corpus/make-corpus.sh (kept outside the repo)
#   OUT_DIR     scratch space (default: a temp dir, removed at the end); each run's
#               outputs are deleted once its SHA512SUMS is kept
# Environment:
#   PLATFORMS   which builds (default: "linux64 win64 macosx64 android", those present)
#   JOBS        thread counts (default: "1 2 8")
#
# This takes long (the whole batch, once per thread count and platform): it is a benchmark
# script, not a test. The fixtures' -j1/-j4 identity is checked in every test run.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
corpus=$(cd "${1:?usage: bench/determinism.sh CORPUS_DIR [OUT_DIR]}" && pwd)
out=${2:-$(mktemp -d)}
mkdir -p "$out"
[ -n "${2:-}" ] || trap 'rm -rf "$out"' EXIT

cargo build --release --quiet --manifest-path "$here/Cargo.toml"
bin="$here/target/release/l10n-repack"

echo "| platform | formats | locales | -j | wall (s) | SHA512SUMS (sha256) |"
echo "|---|---|---:|---:|---:|---|"
status=0
for platform in ${PLATFORMS:-linux64 win64 macosx64 android}; do
  extra=()
  case $platform in
    linux64) pattern='firefox-*.en-US.linux-x86_64.tar.bz2'; formats=tar.bz2,mar ;;
    win64)
      pattern='firefox-*.en-US.win64.zip'; formats=zip,installer,mar
      mkdir -p "$out/nsis/en-US"
      cp "$corpus/en-US/setup.exe" "$out/nsis/en-US/setup.exe"
      extra=(--sfx-stub "$corpus/en-US/7z-sfx-stub.exe" --installer-tag "$corpus/en-US/app.tag"
        --installer-dir "$out/nsis")
      ;;
    macosx64) pattern='firefox-*.en-US.mac.dmg'; formats=dmg,mar
      extra=(--mar-channel-id firefox-mozilla-esr) ;;
    android) pattern='fennec-*.en-US.android-arm.apk'; formats=apk ;;
    *) echo "unknown platform $platform" >&2; exit 2 ;;
  esac
  input=$(ls "$corpus"/en-US/$pattern 2>/dev/null | head -1 || true)
  [ -n "$input" ] || { echo "| $platform | (not in the corpus) | | | | |"; continue; }
  # Every locale of the corpus that ships on the platform, as the chunk tasks would.
  locales=$("$bin" list-locales --platform "$platform" | while read -r l; do
    [ -d "$corpus/l10n/$l" ] && printf '%s,' "$l"; done || true)
  locales=${locales%,}
  count=$(tr ',' '\n' <<<"$locales" | grep -c .)
  first=
  for j in ${JOBS:-1 2 8}; do
    dir="$out/$platform-j$j"
    rm -rf "$dir"
    start=$(date +%s.%N)
    code=0
    "$bin" repack -q --input "$input" --l10n "$corpus/l10n" --output-dir "$dir" \
      --platform "$platform" --formats "$formats" --locales "$locales" -j "$j" \
      "${extra[@]}" >/dev/null || code=$?
    end=$(date +%s.%N)
    [ "$code" -le 1 ] || { echo "repack failed ($code) on $platform -j$j" >&2; exit 2; }
    sums=$(sha256sum "$dir/SHA512SUMS" | cut -c1-16)
    cp "$dir/SHA512SUMS" "$out/$platform-j$j.SHA512SUMS"
    rm -rf "$dir"
    printf '| %s | %s | %s | %s | %.1f | %s |\n' "$platform" "$formats" "$count" "$j" \
      "$(bc <<<"$end - $start")" "$sums"
    if [ -z "$first" ]; then
      first="$out/$platform-j$j.SHA512SUMS"
    elif ! cmp -s "$first" "$out/$platform-j$j.SHA512SUMS"; then
      echo "DIFFERENT: $platform -j$j against $(basename "$first")" >&2
      status=1
    fi
  done
done
exit $status
