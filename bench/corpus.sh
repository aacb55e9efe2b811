#!/usr/bin/env bash
# bench/corpus.sh - the corpus benchmark: l10n-repack on the real Firefox build, 1, 10 and
# all locales to tar.bz2, next to Mozilla's classic one-locale flow (baseline-repack.sh).
#
# Usage: bench/corpus.sh CORPUS_DIR [OUT_DIR]
#   CORPUS_DIR  the TARGET of ../shared/corpus/make-corpus.sh (kept outside the repo)
#   OUT_DIR     scratch space for outputs (default: a temp dir, removed at the end)
# Environment:
#   FORMATS     what to write (default tar.bz2; e.g. FORMATS=tar.bz2,mar)
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
input=$(ls "$corpus"/en-US/firefox-*.en-US.linux-x86_64.tar.bz2 | head -1)

cargo build --release --quiet --manifest-path "$here/Cargo.toml"
bin="$here/target/release/l10n-repack"
all=$("$bin" list-locales --platform linux64 | while read -r l; do
  [ -e "$corpus/xpi/langpack-$l@"*.xpi ] 2>/dev/null && echo "$l"; done | paste -sd, -)
ten=$(echo "$all" | cut -d, -f1-10)
n_all=$(echo "$all" | tr , '\n' | wc -l)

measure() { # name locales -> "wall_s rss_kb"
  local name=$1 locales=$2
  rm -rf "$out/$name"
  /usr/bin/time -f '%e %M' -o "$out/$name.time" \
    "$bin" repack --quiet --input "$input" --l10n "$corpus/xpi" --output-dir "$out/$name" \
    --locales "$locales" --formats "${FORMATS:-tar.bz2}" > /dev/null
  cat "$out/$name.time"
  rm -rf "$out/$name"
}

read -r t1 r1 < <(measure one fr)
read -r t10 r10 < <(measure ten "$ten")
read -r tall rall < <(measure all "$all")
marginal=$(echo "scale=3; ($tall - $t10) / ($n_all - 10)" | bc)

echo "| run | locales | wall (s) | peak RSS (MiB) |"
echo "|---|---:|---:|---:|"
f=${FORMATS:-tar.bz2}
echo "| l10n-repack, $f | 1 | $t1 | $((r1 / 1024)) |"
echo "| l10n-repack, $f | 10 | $t10 | $((r10 / 1024)) |"
echo "| l10n-repack, $f | $n_all | $tall | $((rall / 1024)) |"
echo "| marginal cost per locale ((t$n_all - t10) / $((n_all - 10))) | | $marginal | |"

if [ "${BASELINE:-1}" != 0 ]; then
  data=${DATA_DIR:-$(dirname "$corpus")}
  rm -f "$out/baseline/timings.tsv"
  case ",$f," in *,mar,*) skip_mar=0 ;; *) skip_mar=1 ;; esac
  DATA_DIR=$data CORPUS_DIR=$corpus OUT_DIR="$out/baseline" SKIP_MAR=$skip_mar \
    bash "$here/../shared/corpus/baseline-repack.sh" fr > "$out/baseline.log" 2>&1
  tb=$(awk '$1 == "fr" { s += $3 } END { print s }' "$out/baseline/timings.tsv")
  echo "| classic flow (baseline-repack.sh fr, SKIP_MAR=$skip_mar) | 1 | $tb | |"
  echo "| classic flow, extrapolated | $n_all | $(echo "$tb * $n_all" | bc) | |"
fi
