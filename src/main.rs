//! The `l10n-repack` binary: parse the command line, run, map the outcome to an exit code
//! (0 all written, 1 some locales failed, 2 usage or fatal error).

use std::error::Error as _;
use std::process::ExitCode;

use clap::Parser;
use l10n_repack::cli::{Cli, Outcome};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.run() {
        Ok(Outcome::Complete) => ExitCode::SUCCESS,
        Ok(Outcome::Partial) => ExitCode::from(1),
        Err(error) => {
            eprintln!("error: {error}");
            // Most messages already end with their cause; print only what they lack.
            let mut said = error.to_string();
            let mut source = error.source();
            while let Some(cause) = source {
                let cause_text = cause.to_string();
                if !said.contains(&cause_text) {
                    eprintln!("caused by: {cause_text}");
                    said.push_str(&cause_text);
                }
                source = cause.source();
            }
            ExitCode::from(error.exit_code())
        }
    }
}
