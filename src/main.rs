//! The `claimsearch` binary: parse arguments, run, turn errors into exit codes.

mod cli;

use std::process::ExitCode;

use claimsearch::Error;
use clap::Parser;

/// Exit codes, documented in the README.
mod exit {
    pub const ERROR: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const BUSY: u8 = 75;
}

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return ExitCode::from(if err.use_stderr() { exit::USAGE } else { 0 });
        }
    };
    match cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("claimsearch: {}", chain(&err));
            ExitCode::from(code(&err))
        }
    }
}

/// The error and its causes on one line; a cause that its parent's message
/// already quotes is not repeated.
fn chain(err: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in err.chain().map(|e| e.to_string()) {
        if !parts.last().is_some_and(|parent| parent.contains(&cause)) {
            parts.push(cause);
        }
    }
    parts.join(": ")
}

fn code(err: &anyhow::Error) -> u8 {
    match err.chain().find_map(|e| e.downcast_ref::<Error>()) {
        Some(e) if e.is_user_error() => exit::USAGE,
        Some(Error::IndexBusy(_)) => exit::BUSY,
        _ => exit::ERROR,
    }
}

/// A closed stdout (`claimsearch query … | head`) is not an error.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
