#!/usr/bin/env python3
"""make-thunderbird-platforms.py — derive Windows and macOS en-US stand-ins of Thunderbird from
the staged Linux build (TARGET/.work/stage/thunderbird, what make-thunderbird-corpus.sh tars).

The Thunderbird counterpart of shared/corpus/make-platform-inputs.py, whose helpers it
imports and reuses (walk_files, is_exec, precomplete, map_deplibs, write_zip, icns,
link_or_copy, win_name/win_lib/mac_name/mac_lib, cmd_pe_strip) after pointing its
LINUX_ONLY and GTK_ICONS globals at Thunderbird's files. That file is found in
$SHARED_CORPUS_DIR if set, else in ../../../shared/corpus/ from this script (the `shared`
checkout beside the repository). Stdlib only. As there, the payload bytes stay the Linux
ones (omni.ja is the real, byte-identical file; the binaries are Linux ELF files under the
platform's names); only the layout, the names and a few small platform files follow
Mozilla's Thunderbird packages. Called by make-thunderbird-corpus.sh; each subcommand
writes one thing:

  win-zip STAGE OUT.zip --helper HELPER.exe --mtime EPOCH [--jobs N]
      Mozilla's Windows zip layout (thunderbird-<ver>.en-US.win64.zip): every file under a
      top-level `thunderbird/`; lib<x>.so -> <x>.dll, executables get `.exe`
      (thunderbird.exe); Linux-only files dropped (see LINUX_ONLY, and the GTK icons
      under chrome/icons/); `uninstall/helper.exe` added; dependentlibs.list and
      precomplete rewritten for the Windows names. Deterministic: write_zip's entries
      sorted, no directory entries, deflate -9, every date = EPOCH.

  mac-stage STAGE OUT_DIR --version X.Y.Z
      The root of the dmg volume "Thunderbird": `Thunderbird.app/Contents/{Info.plist,
      PkgInfo, MacOS/, Resources/}` (top-level executables and libraries in MacOS/,
      libxul.so -> MacOS/XUL, lib<x>.so -> lib<x>.dylib; everything else, omni.ja
      included, under Resources/), Resources/en.lproj/InfoPlist.strings (UTF-16 with
      BOM, as `iconv -t UTF-16` writes it), Resources/thunderbird.icns and the volume's
      .VolumeIcon.icns (from the Linux PNG icons), .background/background.png (the
      128 px icon) and the symlink " " -> /Applications. channel-prefs.js,
      update-settings.ini, fonts/ (MOZ_BUNDLED_FONTS is WINNT/Linux only) and the GTK
      icons are left out; precomplete is regenerated relative to Thunderbird.app.
      Info.plist, PkgInfo and InfoPlist.strings follow comm-central's mail/app/Makefile.in
      and mail/app/macbuild/Contents/Info.plist.in: CFBundleExecutable thunderbird,
      CFBundleIdentifier org.mozilla.thunderbird, CFBundleSignature MOZM (PkgInfo
      APPLMOZM), CFBundleIconFile thunderbird.icns, CFBundleName Thunderbird,
      CFBundleVersion = CFBundleShortVersionString = the application.ini Version.

  pe-strip IN.exe OUT.exe
      make-platform-inputs.py's pe-strip: a PE without its overlay (the 7-Zip SFX stub
      stand-in).
"""
import importlib.util, os, shutil, sys

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.environ.get("SHARED_CORPUS_DIR") or os.path.join(HERE, "..", "..", "..", "shared", "corpus")
_path = os.path.join(SHARED, "make-platform-inputs.py")
if not os.path.isfile(_path):
    raise SystemExit("no %s (set SHARED_CORPUS_DIR to shared/corpus)" % _path)
# Registered in sys.modules before it runs, so that multiprocessing workers (write_zip)
# find deflate_piece by its module name (fork inherits it; spawn re-runs this file).
_spec = importlib.util.spec_from_file_location("make_platform_inputs", _path)
mpi = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = mpi
_spec.loader.exec_module(mpi)

# Thunderbird's Linux-only files: the thunderbird-bin copy, the GTK/Wayland glue and the
# Linux sandbox, the GPU/video probes (under MOZ_GTK in mail/installer/package-manifest.in;
# v4l2test and vulkantest are not in this build but would be the same kind), and Debian's
# own shell helper for its /usr/bin/thunderbird wrapper (not in any Mozilla package).
mpi.LINUX_ONLY = {"thunderbird-bin", "glxtest", "vaapitest", "v4l2test", "vulkantest",
                  "libmozgtk.so", "libmozwayland.so", "libmozsandbox.so",
                  "thunderbird-wrapper-helper.sh"}
# mail/app/Makefile.in installs the GTK icons (default*.png ...) to chrome/icons/default;
# on Windows that dir holds .ico files instead, on macOS nothing.
mpi.GTK_ICONS = "chrome/icons/"

APP = "thunderbird"               # MOZ_APP_NAME
MAC_APP_NAME = "Thunderbird"      # MOZ_APP_DISPLAYNAME


def cmd_win_zip(stage, out, helper, mtime, jobs=None):
    files = {}
    for rel in mpi.walk_files(stage):
        new = mpi.win_name(rel, stage)
        if new:
            src = os.path.join(stage, rel)
            exe = mpi.is_exec(src) or new.endswith((".exe", ".dll"))
            files[new] = (src, 0o100755 if exe else 0o100644)
    if "%s.exe" % APP not in files:
        raise SystemExit("no %s executable in %s" % (APP, stage))
    files["uninstall/helper.exe"] = (helper, 0o100755)
    files["dependentlibs.list"] = (mpi.map_deplibs(stage, mpi.win_lib), 0o100644)
    files["precomplete"] = (mpi.precomplete(list(files) + ["precomplete"]), 0o100644)
    entries = [(APP + "/" + n, src, mode) for n, (src, mode) in sorted(files.items())]
    mpi.write_zip(out, entries, mtime, jobs)


def info_plist(version):
    # The keys of comm-central's mail/app/macbuild/Contents/Info.plist.in that matter to a
    # repack, with mail/app/Makefile.in's substitutions (%APP_VERSION% = MOZ_APP_VERSION,
    # %MAC_APP_NAME% = Thunderbird, %LOWER_MAC_APP_NAME% = thunderbird).
    keys = [("CFBundleDevelopmentRegion", "English"), ("CFBundleExecutable", APP),
            ("CFBundleGetInfoString", "%s %s" % (MAC_APP_NAME, version)),
            ("CFBundleIconFile", "thunderbird.icns"),
            ("CFBundleIdentifier", "org.mozilla.%s" % MAC_APP_NAME.lower()),
            ("CFBundleInfoDictionaryVersion", "6.0"), ("CFBundleName", MAC_APP_NAME),
            ("CFBundlePackageType", "APPL"), ("CFBundleShortVersionString", version),
            ("CFBundleSignature", "MOZM"), ("CFBundleVersion", version),
            ("LSApplicationCategoryType", "public.app-category.productivity"),
            ("LSMinimumSystemVersion", "10.12.0"), ("NSPrincipalClass", "GeckoNSApplication")]
    body = "".join("\t<key>%s</key>\n\t<string>%s</string>\n" % kv for kv in keys)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<!DOCTYPE plist PUBLIC "-//Apple Computer//DTD PLIST 1.0//EN" '
            '"http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n'
            '<plist version="1.0">\n<dict>\n' + body + "</dict>\n</plist>\n").encode()


def cmd_mac_stage(stage, out, version):
    if os.path.exists(out):
        raise SystemExit("%s exists" % out)
    app = os.path.join(out, MAC_APP_NAME + ".app")
    files = {}
    for rel in mpi.walk_files(stage):
        new = mpi.mac_name(rel, stage)
        if new:
            mpi.link_or_copy(os.path.join(stage, rel), os.path.join(app, new))
            files[new] = True
    if "Contents/MacOS/" + APP not in files or "Contents/Resources/omni.ja" not in files:
        raise SystemExit("no %s or omni.ja in %s" % (APP, stage))
    icon_dir = os.path.join(stage, mpi.GTK_ICONS, "default")
    pngs = [(t, open(os.path.join(icon_dir, "default%d.png" % px), "rb").read())
            for t, px in ((b"icp4", 16), (b"icp5", 32), (b"icp6", 64), (b"ic07", 128))]
    extra = {
        "Contents/Info.plist": info_plist(version),
        "Contents/PkgInfo": b"APPLMOZM",
        "Contents/Resources/thunderbird.icns": mpi.icns(pngs),
        # mail/app/Makefile.in: sed InfoPlist.strings.in | iconv -f UTF-8 -t UTF-16
        "Contents/Resources/en.lproj/InfoPlist.strings":
            ('CFBundleName = "%s";\n' % MAC_APP_NAME).encode("utf-16"),
        "Contents/Resources/dependentlibs.list": mpi.map_deplibs(stage, mpi.mac_lib),
    }
    files.update(dict.fromkeys(extra, True))
    extra["Contents/Resources/precomplete"] = mpi.precomplete(
        list(files) + ["Contents/Resources/precomplete"])
    for rel, data in extra.items():
        p = os.path.join(app, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
    # volume root: background image, volume icon, the " " -> /Applications symlink
    os.makedirs(os.path.join(out, ".background"))
    shutil.copyfile(os.path.join(icon_dir, "default128.png"),
                    os.path.join(out, ".background", "background.png"))
    with open(os.path.join(out, ".VolumeIcon.icns"), "wb") as f:
        f.write(mpi.icns(pngs))
    os.symlink("/Applications", os.path.join(out, " "))


def main(argv):
    if not argv:
        raise SystemExit(__doc__)
    cmd, args, opts = argv[0], [], {}
    it = iter(argv[1:])
    for a in it:
        if a.startswith("--"):
            opts[a[2:]] = next(it)
        else:
            args.append(a)
    if cmd == "win-zip":
        cmd_win_zip(args[0], args[1], opts["helper"], int(opts["mtime"]),
                    int(opts["jobs"]) if "jobs" in opts else None)
    elif cmd == "mac-stage":
        cmd_mac_stage(args[0], args[1], opts["version"])
    elif cmd == "pe-strip":
        mpi.cmd_pe_strip(args[0], args[1])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
