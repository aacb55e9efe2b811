//! Version names: what output names and `report.json` call the build.
//!
//! Each format names its own outputs ([`crate::formats::Packager::name`], from
//! [`crate::formats::Names`]); the platform's path name is in [`crate::platform`].

/// The display version: `application.ini`'s `Version`, with the `esr` suffix when the
/// input's file name shows the build is an ESR (`firefox-153.7.0esr.en-US...`), since
/// `application.ini` does not carry it.
pub fn display_version(app_version: &str, input_file_name: &str) -> String {
    if input_file_name.contains(&format!("-{app_version}esr.")) {
        format!("{app_version}esr")
    } else {
        app_version.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn esr_builds_say_so() {
        assert_eq!(
            display_version("153.7.0", "firefox-153.7.0esr.en-US.linux-x86_64.tar.bz2"),
            "153.7.0esr"
        );
        assert_eq!(
            display_version("140.0", "firefox-140.0.en-US.linux-x86_64.tar.bz2"),
            "140.0"
        );
    }
}
