//! The `l10n-repack` binary: parse the command line, run, map the outcome to an exit code
//! (0 all written, 1 some locales failed, 2 usage or fatal error).

use std::process::ExitCode;

use clap::Parser;
use l10n_repack::cli::{Cli, Outcome};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.run() {
        Ok(Outcome::Complete) => ExitCode::SUCCESS,
        Ok(Outcome::Partial) => ExitCode::from(1),
        Err(error) => {
            // No message repeats its cause: the chain, each cause once, on one line.
            eprintln!("error: {}", l10n_repack::error::chain(&error));
            ExitCode::from(error.exit_code())
        }
    }
}
