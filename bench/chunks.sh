#!/usr/bin/env bash
# bench/chunks.sh - the chunk-task benchmark: `prepare` once, then 5 chunk tasks one after
# another with the shared cache (as 5 tasks of a graph would run), tar.bz2 + MAR, on the real
# corpus; compare with one 102-locale run (bench/corpus.sh). Not a test: it asserts nothing.
#
# Usage: bench/chunks.sh CORPUS_DIR [OUT_DIR]   (FORMATS, default tar.bz2,mar; CHUNKS, default 5)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
corpus=$(cd "${1:?usage: bench/chunks.sh CORPUS_DIR [OUT_DIR]}" && pwd)
out=${2:-$(mktemp -d)}
mkdir -p "$out"
[ -n "${2:-}" ] || trap 'rm -rf "$out"' EXIT
formats=${FORMATS:-tar.bz2,mar}
chunks=${CHUNKS:-5}
input=$(ls "$corpus"/en-US/firefox-*.en-US.linux-x86_64.tar.bz2 | head -1)
cargo build --release --quiet --manifest-path "$here/Cargo.toml"
bin="$here/target/release/l10n-repack"
rm -rf "$out/cache"
/usr/bin/time -f '%e %M' -o "$out/prepare.time" \
  "$bin" prepare --input "$input" --shared-cache "$out/cache" --formats "$formats" 2> /dev/null
read -r tp rp < "$out/prepare.time"
echo "| step | wall (s) | peak RSS (MiB) |"
echo "|---|---:|---:|"
echo "| prepare (shared pieces, once) | $tp | $((rp / 1024)) |"
total=$tp
for c in $(seq 1 "$chunks"); do
  rm -rf "$out/chunk"
  /usr/bin/time -f '%e %M' -o "$out/chunk.time" \
    "$bin" repack --quiet --input "$input" --l10n "$corpus/xpi" --output-dir "$out/chunk" \
    --formats "$formats" --this-chunk "$c" --total-chunks "$chunks" \
    --shared-cache "$out/cache" > /dev/null
  read -r tc rc < "$out/chunk.time"
  n=$("$bin" list-locales --this-chunk "$c" --total-chunks "$chunks" | wc -l)
  echo "| chunk $c of $chunks ($n locales) | $tc | $((rc / 1024)) |"
  total=$(echo "$total + $tc" | bc)
done
rm -rf "$out/chunk"
echo "| prepare + $chunks chunks, one after another | $total | |"
