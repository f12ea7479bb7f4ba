//! Output for people and for scripts, written to any `io::Write`.
//!
//! The JSON forms are the serde forms of the library's own types, so the CLI,
//! the server and the library share one contract.

mod human;

use std::io::{self, Write};

use serde::Serialize;

use crate::model::{Cite, Date, Kind, Record};

pub use human::{index_summary, query as human_query, reindex_summary, stats as human_stats};

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

/// A record as `claimsearch export` writes it: the hit fields of the JSON
/// contract without `score` and `snippet`, one object per line.
#[derive(Debug, Serialize)]
pub struct Exported<'a> {
    id: &'a str,
    kind: Kind,
    text: &'a str,
    title: &'a str,
    source: Option<&'a str>,
    author: Option<&'a str>,
    date: Option<Date>,
    item_id: Option<&'a str>,
    topics: &'a [String],
    thread: Option<&'a str>,
    version: Option<u32>,
    cites: &'a [Cite],
    path: &'a str,
    truncated: bool,
}

impl<'a> From<&'a Record> for Exported<'a> {
    fn from(r: &'a Record) -> Self {
        Exported {
            id: &r.id,
            kind: r.kind,
            text: &r.text,
            title: &r.title,
            source: r.source.as_deref(),
            author: r.author.as_deref(),
            date: r.date,
            item_id: r.item_id.as_deref(),
            topics: &r.topics,
            thread: r.thread.as_deref(),
            version: r.version,
            cites: &r.cites,
            path: &r.path,
            truncated: r.truncated,
        }
    }
}
