//! Reliability, round two, on the output side: values that reach output names are checked
//! where they are read, one run at a time per output directory, a bounded thread count, no
//! output directory inside the langpacks, an exit code that tells the truth when only the
//! summary is lost, temporaries removed on SIGINT/SIGTERM, and messages that name the
//! right thing. The README's "Reliability" section lists the same cases.

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::reliability::{
    Item, fixture_items, leftovers, products, repack_with_env, tarball, tree,
};
use crate::util::*;

/// The fixture build with `firefox/application.ini` replaced by `ini`.
fn build_with_application_ini(dir: &Path, ini: &[u8]) -> PathBuf {
    let mut items: Vec<Item> = fixture_items();
    let app = items
        .iter_mut()
        .find(|i| i.path == "firefox/application.ini")
        .unwrap();
    app.data = Some(ini.to_vec());
    tarball(dir, "firefox-140.0.en-US.linux-x86_64.tar.bz2", &items)
}

fn fixture_application_ini() -> String {
    let items = fixture_items();
    let app = items
        .iter()
        .find(|i| i.path == "firefox/application.ini")
        .unwrap();
    String::from_utf8(app.data.clone().unwrap()).unwrap()
}

/// `Version=1/../../../ESC` once wrote the tarball, the MAR and the tree above
/// `--output-dir`. Every value of `application.ini` that reaches an output name is checked
/// when the package is staged: exit 2, the value and the file named, nothing written
/// anywhere.
#[test]
fn application_ini_values_that_would_leave_the_output_dir_are_refused() {
    let good = fixture_application_ini();
    let cases = [
        (
            "Version=140.0",
            "Version=1/../../../ESC",
            r#"its Version "1/../../../ESC" is not a Mozilla version number"#,
        ),
        (
            "BuildID=20250101000000",
            "BuildID=2025/../../x",
            r#"its BuildID "2025/../../x" is not a build id"#,
        ),
        (
            "Name=Firefox",
            "Name=../Firefox",
            r#"its Name "../Firefox" is not a product name"#,
        ),
    ];
    for (line, hostile, message) in cases {
        let tmp = tempfile::tempdir().unwrap();
        let deep = tmp.path().join("a/b/c");
        std::fs::create_dir_all(&deep).unwrap();
        let input = build_with_application_ini(tmp.path(), good.replace(line, hostile).as_bytes());
        let out = deep.join("out");
        let run = repack_input(
            &input,
            &fixtures().join("xpi"),
            &out,
            &["--formats", "tar.bz2,mar,dir"],
        );
        assert_eq!(run.code, 2, "{hostile}: {}", run.stderr);
        assert!(
            run.stderr.contains(message)
                && run.stderr.contains("firefox/application.ini")
                && run.stderr.contains(&input.display().to_string()),
            "{hostile}: {}",
            run.stderr
        );
        assert_eq!(
            entries(&out),
            Vec::<String>::new(),
            "{hostile}: nothing written"
        );
        let mut around = entries(tmp.path());
        around.retain(|p| !p.starts_with("a/b/c/out"));
        assert_eq!(
            around,
            [
                "a",
                "a/b",
                "a/b/c",
                "firefox-140.0.en-US.linux-x86_64.tar.bz2"
            ],
            "{hostile}: nothing written outside"
        );
    }
}

/// An `application.ini` saved with a byte order mark is read like any other.
#[test]
fn an_application_ini_with_a_byte_order_mark_is_read() {
    let tmp = tempfile::tempdir().unwrap();
    let mut ini = b"\xEF\xBB\xBF".to_vec();
    ini.extend_from_slice(fixture_application_ini().as_bytes());
    let input = build_with_application_ini(tmp.path(), &ini);
    let out = tmp.path().join("out");
    let run = repack_input(&input, &fixtures().join("xpi"), &out, &["--locales", "fr"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(out.join("firefox-140.0.fr.linux-x86_64.tar.bz2").is_file());
}

/// A second run into the directory a first run is writing is refused before it touches
/// anything: it would have removed the first run's temporaries as leftovers.
#[test]
fn a_second_run_into_a_locked_output_dir_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    // What a running first run has in the directory: its lock and a temporary.
    let lock = std::fs::File::open(&out).unwrap();
    lock.try_lock().unwrap();
    let temporary = out.join(".firefox-140.0.de.linux-x86_64.tar.bz2.tmp-AbC123");
    std::fs::write(&temporary, b"half a tarball").unwrap();
    let run = repack(&fixtures().join("xpi"), &out, &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "error: --output-dir {}: another l10n-repack run is writing there",
            out.display()
        )),
        "{}",
        run.stderr
    );
    assert!(
        temporary.exists(),
        "the first run's temporary is left alone"
    );
    assert_eq!(
        entries(&out),
        [".firefox-140.0.de.linux-x86_64.tar.bz2.tmp-AbC123"]
    );
    drop(lock);
    let run = repack(&fixtures().join("xpi"), &out, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!temporary.exists(), "once the lock is free, leftovers go");
}

/// `-j 10000` once spent 99 s starting threads for three locales: the thread count is
/// capped at four per CPU, with a note; outputs are the same bytes as with `-j 1`.
#[test]
fn a_huge_job_count_is_capped() {
    let tmp = tempfile::tempdir().unwrap();
    let (one, many) = (tmp.path().join("one"), tmp.path().join("many"));
    let run = repack(&fixtures().join("xpi"), &one, &["-j", "1"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = repack(&fixtures().join("xpi"), &many, &["-j", "10000"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let cpus = std::thread::available_parallelism().unwrap().get();
    assert!(
        run.stderr.contains(&format!(
            "--jobs 10000: using {} threads (four per CPU",
            4 * cpus
        )),
        "{}",
        run.stderr
    );
    assert_eq!(products(&one), products(&many));
}

/// An output directory inside the `--l10n` tree would be read as a langpack (its
/// manifest.json) or packed into the next run's jars: refused, exit 2, before anything.
#[test]
fn an_output_dir_inside_the_langpacks_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let l10n = tmp.path().join("l10n");
    copy_tree(&fixtures().join("l10n"), &l10n);
    let before = tree(&l10n);
    for out in [
        l10n.clone(),
        l10n.join("out"),
        l10n.join("fr/out"),
        l10n.join("new/../out"),
    ] {
        let run = repack(&l10n, &out, &[]);
        assert_eq!(run.code, 2, "{}: {}", out.display(), run.stderr);
        assert!(
            run.stderr.contains("is inside the --l10n tree")
                && run.stderr.contains("give an output directory outside it"),
            "{}",
            run.stderr
        );
        assert_eq!(tree(&l10n), before, "{}: nothing written", out.display());
        assert!(!l10n.join("out").exists() && !l10n.join("new").exists());
    }
    // Beside it is fine.
    let run = repack(&l10n, &tmp.path().join("l10n-out"), &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

/// The disk fills just as the summary files are written: the packages are complete, so the
/// run does not claim "nothing was written" (exit 2); it exits 1, says what is written and
/// what is not, and `--resume` writes the summary without repacking.
#[test]
fn a_full_disk_while_writing_the_summary_is_exit_1_and_resume_finishes() {
    let tmp = tempfile::tempdir().unwrap();
    let formats = ["--formats", "tar.bz2,mar"];
    let clean = tmp.path().join("clean");
    assert!(repack_with_env(&clean, &formats, &[]).status.success());
    let out = tmp.path().join("out");
    let run = repack_with_env(&out, &formats, &[("L10N_REPACK_DISK_FULL_AT", "report")]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "error: the outputs of 3 locale(s) are written and complete, but the summary files"
        ) && stderr.contains("report.json: No space left on device")
            && stderr.contains("rerun with --resume"),
        "{stderr}"
    );
    assert_eq!(leftovers(&out), Vec::<String>::new());
    assert!(!out.join("report.json").exists() && !out.join("SHA512SUMS").exists());
    let written = products(&out);
    for (name, bytes) in &written {
        assert_eq!(
            Some(bytes),
            products(&clean).get(name),
            "{name} is complete"
        );
    }
    assert_eq!(written.len(), 6, "{:?}", written.keys());
    let resumed = repack_with_env(&out, &[&formats[..], &["--resume"]].concat(), &[]);
    assert!(resumed.status.success());
    assert_eq!(products(&out), products(&clean));
}

/// Runs `f` with SIGINT, SIGTERM and SIGHUP at their default disposition, so that the
/// children it starts inherit that: a test runner started in the background by a shell
/// without job control has SIGINT ignored, and an ignored signal stays ignored in the run.
fn with_default_signals<R>(f: impl FnOnce() -> R) -> R {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _serial = LOCK
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let signals = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];
    // SAFETY: signal(2) with SIG_DFL, then restoring what it returned; no handler code runs.
    let old: Vec<libc::sighandler_t> = signals
        .iter()
        .map(|&s| unsafe { libc::signal(s, libc::SIG_DFL) })
        .collect();
    let result = f();
    for (&s, &handler) in signals.iter().zip(&old) {
        // SAFETY: as above.
        unsafe {
            libc::signal(s, handler);
        }
    }
    result
}

/// SIGTERM, SIGINT or SIGHUP while a package is half written: the process removes its
/// temporaries and ends by the signal; every final name is complete.
#[test]
fn a_signal_removes_the_temporaries_on_the_way_out() {
    let tmp = tempfile::tempdir().unwrap();
    let formats = ["--formats", "tar.bz2,mar,dir"];
    let clean = tmp.path().join("clean");
    assert!(repack_with_env(&clean, &formats, &[]).status.success());
    let reference = products(&clean);
    for (name, signal) in [("TERM", 15), ("INT", 2), ("HUP", 1)] {
        let out = tmp.path().join(name);
        let run = with_default_signals(|| {
            repack_with_env(
                &out,
                &formats,
                &[
                    ("L10N_REPACK_CRASH_AT", "writing:2"),
                    ("L10N_REPACK_CRASH_SIGNAL", name),
                ],
            )
        });
        assert_eq!(
            run.status.signal(),
            Some(signal),
            "{name}: {:?}",
            run.status
        );
        assert_eq!(leftovers(&out), Vec::<String>::new(), "{name}");
        for (file, bytes) in products(&out) {
            assert_eq!(
                Some(&bytes),
                reference.get(&file),
                "{name}: {file} is complete"
            );
        }
    }
}

/// `--input` that is no file says what it is instead of "no such file"; `inspect` names
/// the MAR it cannot read, not "the en-US package", and never opens a FIFO.
#[test]
fn messages_name_what_is_wrong() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("firefox-140.0.en-US.linux-x86_64.tar.bz2");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let out = tmp.path().join("out");
    for (input, what) in [
        (tmp.path().to_owned(), "is a directory"),
        (
            fifo.clone(),
            "is not a regular file (a FIFO, a socket or a device)",
        ),
        (tmp.path().join("missing.tar.bz2"), "no such file"),
    ] {
        let run = repack_input(&input, &fixtures().join("xpi"), &out, &[]);
        assert_eq!(run.code, 2);
        assert!(
            run.stderr.contains(&format!(
                "error: --input {}: {what}; give the en-US package file",
                input.display()
            )),
            "{}",
            run.stderr
        );
    }
    let not_a_mar = tmp.path().join("x.mar");
    std::fs::write(&not_a_mar, b"not a MAR at all").unwrap();
    let run = l10n_repack(&["inspect", not_a_mar.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.starts_with(&format!(
            "error: cannot read {} as a MAR: ",
            not_a_mar.display()
        )) && !run.stderr.contains("en-US package"),
        "{}",
        run.stderr
    );
    let mar_fifo = tmp.path().join("y.mar");
    assert!(
        Command::new("mkfifo")
            .arg(&mar_fifo)
            .status()
            .unwrap()
            .success()
    );
    let run = l10n_repack(&["inspect", mar_fifo.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("not a regular file"), "{}", run.stderr);
}
