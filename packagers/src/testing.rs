//! Helpers for the format modules' unit tests: external tools as independent readers, and
//! deterministic test data.

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// Whether a command-line tool is installed. Missing: a loud skip locally, a failure in CI
/// (`CI=true`), where `.ci/run` installs every tool.
pub fn tool(name: &str) -> bool {
    let found = Command::new(name)
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !found {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{name} is not installed, and CI must have it");
        }
        eprintln!("SKIPPED: {name} is not installed, this check did not run");
    }
    found
}

/// Runs a command with `input` on its stdin (fed from a thread, so that a child writing
/// while it reads cannot deadlock) and returns its output.
pub fn run_with_input(command: &mut Command, input: &[u8]) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the tool");
    let mut stdin = child.stdin.take().expect("stdin is piped");
    std::thread::scope(|scope| {
        // A tool that rejects the stream may exit before reading it all; its exit status
        // tells, so a broken pipe here is not an error of its own.
        scope.spawn(move || stdin.write_all(input).ok());
        child.wait_with_output().expect("wait for the tool")
    })
}

/// Pseudo-random bytes from a xorshift64 generator.
pub fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}
