//! The text files of Mozilla's application package templates
//! (`browser/installer/linux/app/debian/`), as `deb.py` renders them: each `.in` file goes
//! through Python's `string.Template.substitute`, so `${NAME}` is a build variable and
//! `$$` a plain `$` (written here already as `$`). [`render`] fills the variables in.

/// `postinst.in`: registers the browser with `update-alternatives`, and drops the AppArmor
/// profile Ubuntu's package left behind (bug 1918003).
pub const POSTINST: &str = r#"#!/bin/sh -e

if [ "$1" = "configure" ] || [ "$1" = "abort-upgrade" ] || [ "$1" = "abort-remove" ] ; then
    update-alternatives --install /usr/bin/gnome-www-browser \
        gnome-www-browser /usr/bin/${PKG_NAME} 100 \
        --slave /usr/share/man/man1/gnome-www-browser.1.gz \
        gnome-www-browser.1.gz /usr/share/man/man1/${PKG_NAME}.1.gz

    update-alternatives --install /usr/bin/x-www-browser \
        x-www-browser /usr/bin/${PKG_NAME} 100 \
        --slave /usr/share/man/man1/x-www-browser.1.gz \
        x-www-browser.1.gz /usr/share/man/man1/${PKG_NAME}.1.gz
fi

"#;

/// `preinst.in`: `firefox-esr` diverts Debian's `/usr/bin/firefox`.
pub const PREINST: &str = r#"#!/bin/sh -e

if [ ${PKG_NAME} = firefox-esr ]; then
    if [ "$1" = "upgrade" ] || [ "$1" = "install" ] ; then
        dpkg-divert --package firefox-esr --divert /usr/bin/firefox.real --rename /usr/bin/firefox
    fi
fi

"#;

/// `postrm.in`: undoes the divert on removal.
pub const POSTRM: &str = r#"#!/bin/sh -e

if [ ${PKG_NAME} = firefox-esr ]; then
    if [ "$1" = "remove" ]; then
        dpkg-divert --package firefox-esr --rename --remove /usr/bin/firefox
    fi
fi

"#;

/// The block `postinst.in`, `preinst.in` and `postrm.in` end with.
pub const APPARMOR: &str = r#"# Canonical shipped an AppArmor configuration via that file until 20.04 release
# but unfortunately there was no removal of it handled in the package.
# Mozilla Debian package "firefox" will thus inherit this rule and it may break
# some features, cf bug 1918003.
#
# The correct AppArmor configuration for that package lives at
# /etc/apparmor.d/firefox, and properly covers all the alternatives.
if [ ${PKG_NAME} = firefox ] ; then
  dpkg-maintscript-helper rm_conffile /etc/apparmor.d/usr.bin.firefox -- "$@"
fi
"#;

/// `prerm.in`: unregisters the alternatives.
pub const PRERM: &str = r#"#!/bin/sh -e

if [ "$1" = "remove" ] || [ "$1" = "deconfigure" ] ; then
    update-alternatives --remove x-www-browser /usr/bin/${PKG_NAME}
    update-alternatives --remove gnome-www-browser /usr/bin/${PKG_NAME}
fi
"#;

/// `firefox.sh`, which `debian/rules` installs as `/usr/bin/firefox` in `firefox-esr`
/// only: the diverted Debian Firefox if there is one, else this package's.
pub const FIREFOX_SH: &str = r#"#!/bin/sh

FIREFOX="$(command -v firefox)"
[ -x "$FIREFOX.real" ] && exec "$FIREFOX.real" "$@"

exec firefox-esr "$@"
"#;

/// `distribution.ini`, which replaces the build's `distribution/distribution.ini`: the
/// requested locale is left empty, so Firefox follows the system's (and an installed
/// `firefox-l10n-<locale>` package takes effect).
pub const DISTRIBUTION_INI: &str = r#"[Global]
id=mozilla-deb
version=1.0
about=Mozilla Firefox Debian Package

[Preferences]
intl.locale.requested=""
browser.gnome-search-provider.enabled=true
"#;

/// `package-prefs.js`, copied (not rendered) to `defaults/pref/`.
pub const PACKAGE_PREFS_JS: &str = r#"/* This Source Code Form is subject to the terms of the Mozilla Public
 * License, v. 2.0. If a copy of the MPL was not distributed with this
 * file, You can obtain one at http://mozilla.org/MPL/2.0/. */

// eslint-disable-next-line no-undef
pref("dom.ipc.forkserver.enable", true);
"#;

/// What `deb.py` writes to `is-packaged-app` (Gecko only checks that the file exists: it
/// turns the updater off and says updates come from the system).
pub const IS_PACKAGED_APP: &str = "This is a packaged app.\n";

/// `manpage.1.in`, installed as `usr/share/man/man1/<package>.1.gz`.
pub const MANPAGE: &str = r#".TH ${DISPLAY_NAME} 1 "${MANPAGE_DATE}" ${PKG_NAME} "Linux User's Manual"
.SH NAME
${PKG_NAME} - ${DISPLAY_NAME} offers safe and easy web browsing

.SH SYNOPSIS
.B ${PKG_NAME}
[\fIOPTIONS\fR] [\fIURL\fR]

.B /usr/lib/${PKG_NAME}/${PKG_NAME}
[\fIOPTIONS\fR] [\fIURL\fR]

.SH DESCRIPTION
\fB${DISPLAY_NAME}\fR is an open-source web browser, designed for
standards compliance, performance and portability.

.SH USAGE
If there is an ${DISPLAY_NAME} browser already running, \fB${PKG_NAME}\fR will
arrange for it to create a new browser window; otherwise it will start
a new instance.

.SH OPTIONS
A summary of the options supported by \fB${PKG_NAME}\fR is included below.

.SS "X11 options"
.TP
.BI \-\-display= DISPLAY
X display to use
.TP
.B \-\-sync
Make X calls synchronous
.TP
.B \-\-no\-xshm
Don't use X shared memory extension
.TP
.BI \-\-xim\-preedit= STYLE
.TP
.BI \-\-xim\-status= STYLE
.TP
.B \-\-g\-fatal\-warnings
Make all warnings fatal

.SS "Mozilla options"
.TP
.B \-h, \-help
Show summary of options.
.TP
.B \-v, \-version
Print ${DISPLAY_NAME} version.
.TP
\fB\-P\fR [\fIprofile\fR]
Start with \fIprofile\fR. When no profile is given, displays the Profile Manager. May require \fB\-no\-remote\fR, see below.
.TP
.B \-migration
Start with migration wizard. May require \fB\-no\-remote\fR, see below.
.TP
.B \-ProfileManager
Start with profile manager. May require \fB\-no\-remote\fR, see below.
.TP
.B \-no\-remote
Don't connect to a running ${DISPLAY_NAME} instance. This option can be necessary
in conjunction to several of the options above, that won't have any effect
when an ${DISPLAY_NAME} instance is running unless \fB\-no\-remote\fR is used at
the same time.
.TP
\fB\-UILocale\fR \fIlocale\fR
Start with \fIlocale\fR resources as User Interface locale. By default, it is
guessed from environment and available locales for ${DISPLAY_NAME}.
.TP
.B \-safe\-mode
Starts ${DISPLAY_NAME} in safe mode, i.e. disabling all extensions and
showing a bit more debugging messages.
.TP
.B \-jsconsole
Start with Javascript Console
.TP
\fB\-new-window\fR \fIURL\fR
Open \fIURL\fR in a new window in an already running ${DISPLAY_NAME} process.
.TP
\fB\-new-tab\fR \fIURL\fR
Open \fIURL\fR in a new tab in an already running ${DISPLAY_NAME} process.
.TP
\fB\-chrome\fR \fIurl\fR
Load the specified chrome.

.SH ENVIRONMENT
\fIMOZILLA_DISABLE_PLUGINS\fR - when set, totally disables loading browser plugins
(the ones that appear at the about:plugins url)

.SH FILES
\fI/usr/bin/${PKG_NAME}\fR - symbolic link to \fB/usr/lib/${PKG_NAME}/${PKG_NAME}\fR.
.br

\fI/usr/lib/${PKG_NAME}/${PKG_NAME}\fR - ${DISPLAY_NAME} executable.

\fI/usr/lib/${PKG_NAME}/firefox\-bin\fR - Legacy executable.
.br

.SH BUGS
To report a bug, please visit \fIhttp://bugzilla.mozilla.org/\fR

.SH AUTHORS
.TP
.B The Mozilla Organization
.I https://www.mozilla.org/en-US/about/
"#;

/// `template` with each `${NAME}` of `variables` replaced by its value, in one pass (as
/// Python's `string.Template.substitute`: a value is never substituted again).
pub fn render(template: &str, variables: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let value = after.find('}').and_then(|end| {
            let name = &after[..end];
            let (_, value) = variables.iter().find(|(known, _)| *known == name)?;
            Some((value, end))
        });
        match value {
            Some((value, end)) => {
                out.push_str(value);
                rest = &after[end + 1..];
            }
            None => {
                out.push_str("${");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// A maintainer script: the template, then for `postinst`, `preinst` and `postrm` (those
/// given `apparmor`) the AppArmor block, rendered for `package`.
pub fn script(template: &str, apparmor: bool, package: &str) -> String {
    let text = if apparmor {
        format!("{template}{APPARMOR}")
    } else {
        template.to_owned()
    };
    render(&text, &[("PKG_NAME", package)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_render_as_string_template_does() {
        let postinst = script(POSTINST, true, "firefox");
        assert!(postinst.contains("x-www-browser /usr/bin/firefox 100"));
        assert!(postinst.contains("if [ firefox = firefox ] ; then"));
        assert!(postinst.contains(r#"-- "$@""#));
        assert!(!postinst.contains("${"));
        assert!(postinst.ends_with("-- \"$@\"\nfi\n"));
        let prerm = script(PRERM, false, "firefox-esr");
        assert!(!prerm.contains("apparmor"));
        assert!(prerm.contains("--remove x-www-browser /usr/bin/firefox-esr\n"));
    }

    #[test]
    fn values_are_not_substituted_again() {
        let vars = [("PKG_NAME", "${DISPLAY_NAME}"), ("DISPLAY_NAME", "Firefox")];
        assert_eq!(
            render("${PKG_NAME} ${DISPLAY_NAME} ${OTHER} ${", &vars),
            "${DISPLAY_NAME} Firefox ${OTHER} ${"
        );
    }
}
