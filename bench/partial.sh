#!/usr/bin/env bash
# bench/partial.sh - the partial-update benchmark (issue 17): every corpus locale's partial
# MAR from the older ESR, in one run, side by side with the classic per-locale flow for one
# locale (bench/partial-classic.sh: make_incremental_update.sh's steps with bsdiff4),
# scaled by the locale count; then `repackage` (complete MARs, partials, both) on the
# packages of the tar.bz2+mar run, as on packages back from signing. Not a test: it asserts
# nothing.
#
# Usage: bench/partial.sh CORPUS_DIR OLD_CORPUS_DIR [OUT_DIR]
#   CORPUS_DIR      make-corpus.sh output of the new build (its xpi/ has every langpack)
#   OLD_CORPUS_DIR  make-corpus.sh output with DEB_VERSION=<older version>, PLATFORMS=linux
#   CLASSIC=0       skip the classic flow (it diffs libxul with bsdiff4: minutes, ~2 GB)
#   CLASSIC_LOCALE  the locale of the classic flow (default fr)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
corpus=$(cd "${1:?usage: bench/partial.sh CORPUS_DIR OLD_CORPUS_DIR [OUT_DIR]}" && pwd)
old_corpus=$(cd "${2:?usage: bench/partial.sh CORPUS_DIR OLD_CORPUS_DIR [OUT_DIR]}" && pwd)
out=${3:-$(mktemp -d)}
mkdir -p "$out"
[ -n "${3:-}" ] || trap 'rm -rf "$out"' EXIT
input=$(ls "$corpus"/en-US/firefox-*.en-US.linux-x86_64.tar.bz2 | head -1)
old_input=$(ls "$old_corpus"/en-US/firefox-*.en-US.linux-x86_64.tar.bz2 | head -1)
cargo build --release --quiet --manifest-path "$here/Cargo.toml"
bin="$here/target/release/l10n-repack"

# run NAME ARGS...: one timed repack; prints its table row.
run() {
  local name=$1
  shift
  rm -rf "$out/$name"
  /usr/bin/time -f '%e %M' -o "$out/$name.time" \
    "$bin" repack --input "$input" --l10n "$corpus/xpi" --output-dir "$out/$name" "$@" \
    > "$out/$name.log" 2>&1 || true
  local wall rss shared n partials
  read -r wall rss < "$out/$name.time"
  shared=$(sed -n 's/.*shared pieces ready in \([0-9.]*\) s.*/\1/p' "$out/$name.log")
  n=$(grep -c '^\[ *[0-9]*/[0-9]*\] .* ok' "$out/$name.log" || true)
  partials=$(find "$out/$name" -name '*.partial.mar' -printf '%s\n' | awk '{s+=$1} END {printf "%.0f\n", s}')
  echo "| $name | $n | $wall | $shared | $(echo "($wall - $shared) / $n" | bc -l | xargs printf '%.2f') | $((rss / 1024)) | $((partials / 1048576)) |"
}

echo "from-builds: $(basename "$old_input") -> complete MARs, every locale" >&2
rm -rf "$out/from"
/usr/bin/time -f '%e %M' -o "$out/from.time" \
  "$bin" repack --quiet --input "$old_input" --l10n "$old_corpus/xpi" --output-dir "$out/from" \
  --formats mar > "$out/from.log" 2>&1 || true
echo "from-builds written in $(cut -d' ' -f1 "$out/from.time") s" >&2

echo "| run | locales | wall (s) | shared (s) | per locale (s) | peak RSS (MiB) | partials (MiB) |"
echo "|---|---:|---:|---:|---:|---:|---:|"
run partial-only --formats partial --partial-from "$out/from"
run tar.bz2+mar+partial --formats tar.bz2,mar --partial-from "$out/from"
run tar.bz2+mar --formats tar.bz2,mar

# repackage NAME ARGS...: the second phase on the tar.bz2+mar run's packages (standing in
# for packages back from signing); prints its table row.
repackage() {
  local name=$1
  shift
  rm -rf "$out/$name"
  /usr/bin/time -f '%e %M' -o "$out/$name.time" \
    "$bin" repackage --output-dir "$out/$name" "$@" "$out"/tar.bz2+mar/*.tar.bz2 \
    > "$out/$name.log" 2>&1 || true
  local wall rss n partials
  read -r wall rss < "$out/$name.time"
  n=$(ls "$out"/tar.bz2+mar/*.tar.bz2 | wc -l)
  partials=$(find "$out/$name" -name '*.partial.mar' -printf '%s\n' | awk '{s+=$1} END {printf "%.0f\n", s}')
  echo "| $name | $n | $wall | | | $((rss / 1024)) | $((partials / 1048576)) |"
}
repackage repackage-mar --formats mar
repackage repackage-partial --formats partial --partial-from "$out/from"
repackage repackage-mar+partial --partial-from "$out/from"

if [ "${CLASSIC:-1}" != 0 ]; then
  locale=${CLASSIC_LOCALE:-fr}
  from_mar=$(find "$out/from" -name "*.$locale.linux-x86_64.complete.mar" | head -1)
  to_mar=$(find "$out/tar.bz2+mar" -name "*.$locale.linux-x86_64.complete.mar" | head -1)
  ours=$(find "$out/partial-only" -name "*.$locale.linux-x86_64.partial.mar" | head -1)
  echo
  echo "classic flow for $locale (bench/partial-classic.sh):"
  /usr/bin/time -f '%e %M' -o "$out/classic.time" \
    bash "$here/bench/partial-classic.sh" "$from_mar" "$to_mar" "$out/classic.partial.mar" \
    > "$out/classic.log" 2>&1
  read -r wall rss < "$out/classic.time"
  cat "$out/classic.log"
  n=$(find "$out/partial-only" -name '*.partial.mar' | wc -l)
  echo "classic: $wall s, peak RSS $((rss / 1024)) MiB, x $n locales = $(echo "$wall * $n" | bc) s"
  echo "size for $locale: classic $(stat -c %s "$out/classic.partial.mar"), ours $(stat -c %s "$ours")"
fi
