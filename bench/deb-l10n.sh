#!/usr/bin/env bash
# bench/deb-l10n.sh - the langpack .deb benchmark (issue 19): every corpus locale's
# firefox-l10n .deb in one run, alone and next to the tar.bz2 packages, side by side with
# the classic flow: one `mach repackage deb-l10n` task per locale, as
# python/mozbuild/mozbuild/repackaging/deb.py runs it (read application.ini out of the en-US
# tarball, render the langpack templates, copy the XPI, dpkg-buildpackage -us -uc -b with
# debhelper), run here for every locale one after the other. Not a test: it asserts nothing.
#
# Usage: bench/deb-l10n.sh CORPUS_DIR [OUT_DIR]
#   RUNS=0            skip the l10n-repack runs
#   CLASSIC=0         skip the classic flow (it needs dpkg-dev and debhelper)
#   CLASSIC_LOCALES   how many locales the classic flow runs (default: all)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
corpus=$(cd "${1:?usage: bench/deb-l10n.sh CORPUS_DIR [OUT_DIR]}" && pwd)
out=${2:-$(mktemp -d)}
mkdir -p "$out"
[ -n "${2:-}" ] || trap 'rm -rf "$out"' EXIT
input=$(ls "$corpus"/en-US/firefox-*.en-US.linux-x86_64.tar.bz2 | head -1)
cargo build --release --quiet --manifest-path "$here/Cargo.toml"
bin="$here/target/release/l10n-repack"

# run NAME ARGS...: one timed repack of every locale; prints its table row.
run() {
  local name=$1
  shift
  rm -rf "$out/$name"
  /usr/bin/time -f '%e %M' -o "$out/$name.time" \
    "$bin" repack --input "$input" --l10n "$corpus/xpi" --output-dir "$out/$name" \
    --build-number 1 "$@" > "$out/$name.log" 2>&1 || true
  local wall rss n debs
  read -r wall rss < "$out/$name.time"
  n=$(grep -c '^\[ *[0-9]*/[0-9]*\] .* ok' "$out/$name.log" || true)
  debs=$(find "$out/$name" -name '*.deb' -printf '%s\n' | awk '{s+=$1} END {printf "%.0f\n", s}')
  echo "| l10n-repack, $name | $n | $wall | $((rss / 1024)) | $((debs / 1048576)) |"
  # Outputs are large (a tar.bz2 run is ~10 GB): keep the log and the timing only.
  find "$out/$name" -name '*.tar.bz2' -delete
}

echo "| run | locales | wall (s) | peak RSS (MiB) | .debs (MiB) |"
echo "|---|---:|---:|---:|---:|"
if [ "${RUNS:-1}" = 1 ]; then
  run deb-l10n --formats deb-l10n
  run tar.bz2 --formats tar.bz2
  run tar.bz2+deb-l10n --formats tar.bz2,deb-l10n
fi

[ "${CLASSIC:-1}" = 1 ] || exit 0
# The classic flow: deb.py's steps for each locale, each in a fresh directory.
classic="$out/classic"
rm -rf "$classic" && mkdir -p "$classic"
xpis=$(ls "$corpus"/xpi/langpack-*.xpi | head -n "${CLASSIC_LOCALES:-1000}")
start=$(date +%s.%N)
count=0
for xpi in $xpis; do
  work="$classic/work" && rm -rf "$work" && mkdir -p "$work/source/debian"
  # deb.py reads application.ini from the en-US tarball and manifest.json from the XPI.
  tar -xjf "$input" -C "$work" --wildcards '*/application.ini'
  remoting=$(sed -n 's/^RemotingName=//p' "$work"/*/application.ini | tr 'A-Z' 'a-z')
  buildid=$(sed -n 's/^BuildID=//p' "$work"/*/application.ini)
  version=$(basename "$input" | sed 's/^firefox-\(.*\)\.en-US\..*/\1/')
  read -r id langpack description < <(python3 - "$xpi" <<'PY'
import json, sys, zipfile
m = json.loads(zipfile.ZipFile(sys.argv[1]).read("manifest.json"))
print(m["browser_specific_settings"]["gecko"]["id"], m["langpack_id"], m["description"])
PY
)
  pkg="$remoting-l10n-$(echo "$langpack" | tr 'A-Z' 'a-z')"
  ver="$version~build1"
  date=$(python3 -c "import datetime,email.utils,sys; print(email.utils.format_datetime(datetime.datetime.strptime(sys.argv[1], '%Y%m%d%H%M%S')))" "$buildid")
  # The templates of browser/installer/linux/langpack/debian/, rendered.
  printf 'Source: %s\nMaintainer: Mozilla <release@mozilla.com>\nPriority: optional\nSection: web\nBuild-Depends: debhelper (>= 9)\n\nPackage: %s\nArchitecture: all\nDepends: %s (= %s)\nDescription: Mozilla Firefox - %s\n' \
    "$pkg" "$pkg" "$remoting" "$ver" "$description" > "$work/source/debian/control"
  printf '%s (%s) UNRELEASED; urgency=medium\n\n  * N/A\n\n -- Mozilla <release@mozilla.com>  %s\n' \
    "$pkg" "$ver" "$date" > "$work/source/debian/changelog"
  printf 'firefox/* usr/lib/%s\n' "$remoting" > "$work/source/debian/install"
  # As the app template's rules: keep strip-nondeterminism off the signed XPI.
  printf '#!/usr/bin/make -f\n\n%%:\n\tdh $@\n\noverride_dh_strip_nondeterminism:\n\tdh_strip_nondeterminism -Xxpi\n' \
    > "$work/source/debian/rules"
  chmod +x "$work/source/debian/rules"
  echo 10 > "$work/source/debian/compat"
  mkdir -p "$work/source/firefox/distribution/extensions"
  cp "$xpi" "$work/source/firefox/distribution/extensions/$id.xpi"
  (cd "$work/source" && dpkg-buildpackage -us -uc -b > "$work/build.log" 2>&1) \
    || { cat "$work/build.log" >&2; exit 1; }
  mv "$work/${pkg}_${ver}_all.deb" "$classic/"
  count=$((count + 1))
done
end=$(date +%s.%N)
wall=$(echo "$end - $start" | bc -l)
debs=$(find "$classic" -maxdepth 1 -name '*.deb' -printf '%s\n' | awk '{s+=$1} END {printf "%.0f\n", s}')
printf '| classic flow (deb.py steps + dpkg-buildpackage, one after another) | %d | %.1f | | %d |\n' \
  "$count" "$wall" "$((debs / 1048576))"
