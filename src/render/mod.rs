//! Output for people and for scripts, written to any `io::Write`.
//!
//! The JSON forms are the serde forms of the library's own types, so the CLI,
//! the server and the library share one contract.

mod history;
mod human;

use std::io::{self, Write};

use serde::Serialize;

pub use history::history as human_history;
pub use human::{
    index_summary, query as human_query, reindex_summary, similar as human_similar,
    stats as human_stats,
};

/// Whether to colour terminal output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    /// Emit ANSI colour codes.
    pub color: bool,
}

impl Style {
    /// Colour only when `stdout_is_tty` and `NO_COLOR` is unset or empty.
    pub fn detect(stdout_is_tty: bool, no_color: Option<&str>) -> Style {
        Style {
            color: stdout_is_tty && no_color.is_none_or(str::is_empty),
        }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

/// Writes `value` as one line of JSON.
pub fn json<W: Write, T: Serialize>(out: &mut W, value: &T) -> io::Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    writeln!(out)
}
