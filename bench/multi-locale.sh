#!/usr/bin/env bash
# bench/multi-locale.sh - the cost of --multi-locale on the real Firefox build: every
# locale of the corpus to FORMATS (default tar.bz2,mar), first without and then with
# --multi-locale, side by side; and the multi-locale package's size against en-US's.
#
# Usage: bench/multi-locale.sh CORPUS_DIR [OUT_DIR]
#   CORPUS_DIR  the TARGET of ../shared/corpus/make-corpus.sh (kept outside the repo), with
#               its langpack XPIs under xpi/
#   OUT_DIR     scratch space for outputs (default: a temp dir, removed at the end; each
#               run's outputs are removed before the next)
# Environment:
#   FORMATS     what to write (default tar.bz2,mar)
#
# Prints a Markdown table: wall time, peak RSS, and the sizes. Numbers are from a release
# build; the machine should be otherwise idle. A benchmark, not a test.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
corpus=$(cd "${1:?usage: bench/multi-locale.sh CORPUS_DIR [OUT_DIR]}" && pwd)
out=${2:-$(mktemp -d)}
mkdir -p "$out"
[ -n "${2:-}" ] || trap 'rm -rf "$out"' EXIT
formats=${FORMATS:-tar.bz2,mar}
cargo build --release --quiet --manifest-path "$here/Cargo.toml"
bin=$here/target/release/l10n-repack
input=$(ls "$corpus"/en-US/firefox-*.linux-x86_64.tar.bz2)
locales=$(ls "$corpus/xpi" | sed -n 's/^langpack-\(.*\)@.*\.xpi$/\1/p' | paste -sd, -)
count=$(echo "$locales" | tr ',' '\n' | wc -l)

run() { # label, extra args...
  local label=$1; shift
  rm -rf "$out/run"
  /usr/bin/time -f '%e %M' -o "$out/time" "$bin" repack --quiet --input "$input" \
    --l10n "$corpus/xpi" --locales "$locales" --formats "$formats" \
    --output-dir "$out/run" "$@" >/dev/null
  read -r secs rss <"$out/time"
  printf '| %s | %s | %.1f s | %d MiB |\n' "$label" "$formats" "$secs" $((rss / 1024))
}

echo "| $count locales | formats | wall | peak RSS |"
echo "|---|---|---|---|"
run "per-locale packages" 
run "per-locale packages + --multi-locale" --multi-locale
multi=$(ls "$out"/run/*.multi.linux-x86_64.tar.bz2)
one=$(ls "$out"/run/*.fr.linux-x86_64.tar.bz2)
echo
echo "| package | tar.bz2 bytes |"
echo "|---|---|"
echo "| en-US (input) | $(stat -c %s "$input") |"
echo "| fr | $(stat -c %s "$one") |"
echo "| multi ($((count + 1)) locales) | $(stat -c %s "$multi") |"
if mar=$(ls "$out"/run/*.multi.linux-x86_64.complete.mar 2>/dev/null); then
  echo "| multi complete MAR | $(stat -c %s "$mar") |"
fi
rm -rf "$out/run"
