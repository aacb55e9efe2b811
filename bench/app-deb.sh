#!/usr/bin/env bash
# bench/app-deb.sh - the application .deb benchmark (issue 19): `--formats deb` alone, and
# the whole Linux graph of a release in one run (tar.bz2 + deb-l10n + deb for every corpus
# locale), side by side with the classic flow: one `mach repackage deb` task, as
# python/mozbuild/mozbuild/repackaging/deb.py runs it (unpack the en-US tarball, add
# is-packaged-app, distribution.ini and package-prefs.js, render the templates of
# browser/installer/linux/app/debian/, dpkg-buildpackage -us -uc -b with debhelper).
# Not a test: it asserts nothing.
#
# The classic flow takes from l10n-repack's package what deb.py renders or generates
# itself (the maintainer scripts, the manual page, the desktop entry, which Mozilla
# localizes from a firefox-l10n clone) and gives debian/control l10n-repack's Depends in
# place of ${shlibs:Depends} (dh_shlibdeps would resolve it against this machine's
# libraries, not the build's baseline): everything else is debhelper's work, so the two
# packages can be compared byte for byte.
#
# Usage: bench/app-deb.sh CORPUS_DIR [OUT_DIR]
#   RUNS=0      skip the l10n-repack runs but the first
#   CLASSIC=0   skip the classic flow (it needs dpkg-dev and debhelper)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
corpus=$(cd "${1:?usage: bench/app-deb.sh CORPUS_DIR [OUT_DIR]}" && pwd)
out=${2:-$(mktemp -d)}
mkdir -p "$out"
[ -n "${2:-}" ] || trap 'rm -rf "$out"' EXIT
input=$(ls "$corpus"/en-US/firefox-*.en-US.linux-x86_64.tar.bz2 | head -1)
cargo build --release --quiet --manifest-path "$here/Cargo.toml"
bin="$here/target/release/l10n-repack"

# run NAME ARGS...: one timed repack; prints its table row.
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
  find "$out/$name" -name '*.tar.bz2' -delete
}

echo "| run | locales | wall (s) | peak RSS (MiB) | .debs (MiB) |"
echo "|---|---:|---:|---:|---:|"
# One locale: the application package does not depend on which are repacked.
run deb --formats deb --locales fr
if [ "${RUNS:-1}" = 1 ]; then
  run tar.bz2+deb-l10n+deb --formats tar.bz2,deb-l10n,deb
fi
ours=$(ls "$out"/deb/*_amd64.deb)

[ "${CLASSIC:-1}" = 1 ] || exit 0
work="$out/classic"
rm -rf "$work" && mkdir -p "$work/source/debian" "$work/ours"
dpkg-deb --extract "$ours" "$work/ours/root"
dpkg-deb --control "$ours" "$work/ours/DEBIAN"
field() { dpkg-deb --field "$ours" "$1"; }
pkg=$(field Package)
ver=$(field Version)
start=$(date +%s.%N)
# deb.py: unpack the tarball, add its three files.
tar -xjf "$input" -C "$work/source"
printf 'This is a packaged app.\n' > "$work/source/firefox/is-packaged-app"
lib="$work/ours/root/usr/lib/$pkg"
cp "$lib/distribution/distribution.ini" "$work/source/firefox/distribution/"
cp "$lib/defaults/pref/package-prefs.js" "$work/source/firefox/defaults/pref/"
# The templates, rendered.
d="$work/source/debian"
printf 'Source: %s\nMaintainer: Mozilla <release@mozilla.com>\nPriority: optional\nSection: web\nBuild-Depends: debhelper (>= 9)\n\nPackage: %s\nArchitecture: amd64\nDepends: %s\nProvides: gnome-www-browser, www-browser\nDescription: Mozilla Firefox\n' \
  "$pkg" "$pkg" "$(field Depends)" > "$d/control"
zcat "$work/ours/root/usr/share/doc/$pkg/changelog.gz" > "$d/changelog"
printf 'firefox/* usr/lib/%s\ndebian/%s.desktop usr/share/applications\n' "$pkg" "$pkg" > "$d/install"
{
  printf 'usr/lib/%s/firefox usr/bin/%s\n' "$pkg" "$pkg"
  for n in 16 32 48 64 128; do
    printf 'usr/lib/%s/browser/chrome/icons/default/default%s.png usr/share/icons/hicolor/%sx%s/apps/%s.png\n' \
      "$pkg" "$n" "$n" "$n" "$pkg"
  done
} > "$d/links"
# dirs: dh_installdirs makes usr/bin before dh_install, which firefox-esr's rule needs.
printf 'usr/bin\n' > "$d/dirs"
printf 'debian/%s.1\n' "$pkg" > "$d/$pkg.manpages"
zcat "$work/ours/root/usr/share/man/man1/$pkg.1.gz" > "$d/$pkg.1"
cp "$work/ours/root/usr/share/applications/$pkg.desktop" "$d/$pkg.desktop"
for s in postinst postrm preinst prerm; do cp "$work/ours/DEBIAN/$s" "$d/$s"; done
[ ! -f "$work/ours/root/usr/bin/firefox" ] || cp "$work/ours/root/usr/bin/firefox" "$d/firefox.sh"
printf '#!/usr/bin/make -f\n\n%%:\n\tdh $@\n\noverride_dh_strip_nondeterminism:\n\tdh_strip_nondeterminism -Xxpi\n\noverride_dh_install:\n\tdh_install\nifeq ($(shell dpkg-parsechangelog -S Source), firefox-esr)\n\tinstall -m 0755 debian/firefox.sh debian/firefox-esr/usr/bin/firefox\nendif\n\noverride_dh_strip:\n\t:\n' \
  > "$d/rules"
chmod +x "$d/rules"
echo 10 > "$d/compat"
(cd "$work/source" && dpkg-buildpackage -us -uc -b > "$work/build.log" 2>&1) \
  || { tail -30 "$work/build.log" >&2; exit 1; }
end=$(date +%s.%N)
classic=$(ls "$work"/*_amd64.deb)
printf '| classic flow (deb.py steps + dpkg-buildpackage) | | %.1f | | %d |\n' \
  "$(echo "$end - $start" | bc -l)" "$(($(stat -c %s "$classic") / 1048576))"
echo
if cmp -s "$classic" "$ours"; then
  echo "the two application packages are byte-identical"
else
  echo "the two application packages differ:"
  diff <(dpkg-deb --info "$ours" | sed 1,2d) <(dpkg-deb --info "$classic" | sed 1,2d) || true
  diff <(dpkg-deb --contents "$ours") <(dpkg-deb --contents "$classic") | head -20 || true
fi
