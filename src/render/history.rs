//! Terminal output of `claimsearch history`: the versions, then what changed between each
//! version and the next, record by record.

use std::io::{self, Write};

use super::Style;
use crate::history::{Change, History, THREAD_KINDS};

const BOLD: &str = "1";
const DIM: &str = "2";
const GREEN: &str = "32";
const RED: &str = "31";
/// A changed record's text is shown on one line, cut after this many characters.
const SHOWN_CHARS: usize = 110;

/// The thread's versions with their records by kind, then each change, added records
/// (`+`) before removed ones (`−`), kind by kind in page order.
pub fn history<W: Write>(out: &mut W, history: &History, style: Style) -> io::Result<()> {
    let versions = match history.versions.len() {
        1 => "1 version".to_string(),
        n => format!("{n} versions"),
    };
    let title = style.paint(BOLD, &history.thread);
    writeln!(out, "{title} · {versions}")?;
    for v in &history.versions {
        let date = v.date.map_or("(no date)".to_string(), |d| d.to_string());
        let counts: Vec<String> = (THREAD_KINDS.iter())
            .map(|k| format!("{k} {}", v.records.get(k).copied().unwrap_or(0)))
            .collect();
        writeln!(
            out,
            "  version {:<4} {date}  {}",
            v.version,
            counts.join(" · ")
        )?;
        writeln!(out, "               {}", style.paint(DIM, &v.path))?;
    }
    for change in &history.changes {
        writeln!(out)?;
        change_lines(out, change, style)?;
    }
    Ok(())
}

fn change_lines<W: Write>(out: &mut W, change: &Change, style: Style) -> io::Result<()> {
    let head = format!(
        "version {} → {}: {} added, {} removed, {} kept",
        change.from,
        change.to,
        change.added_count(),
        change.removed_count(),
        change.kept
    );
    writeln!(out, "{}", style.paint(BOLD, &head))?;
    for kind in THREAD_KINDS {
        let added = change.added.get(&kind).map_or(&[][..], Vec::as_slice);
        let removed = change.removed.get(&kind).map_or(&[][..], Vec::as_slice);
        if added.is_empty() && removed.is_empty() {
            continue;
        }
        writeln!(
            out,
            "  {}",
            style.paint(DIM, &format!("{kind}: +{} −{}", added.len(), removed.len()))
        )?;
        for text in added {
            writeln!(out, "    {} {}", style.paint(GREEN, "+"), one_line(text))?;
        }
        for text in removed {
            writeln!(out, "    {} {}", style.paint(RED, "−"), one_line(text))?;
        }
    }
    Ok(())
}

/// `text` on one line, cut with `…` after [`SHOWN_CHARS`] characters.
fn one_line(text: &str) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(SHOWN_CHARS) {
        Some((at, _)) => format!("{}…", flat[..at].trim_end()),
        None => flat,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{history as compute, SavedVersion};
    use crate::model::{Date, Kind};

    fn version(n: u32, records: &[(Kind, &str)]) -> SavedVersion {
        SavedVersion {
            version: n,
            date: Date::parse(&format!("2026-05-0{n}")),
            path: format!("threads/t-v{n}.txt"),
            records: records.iter().map(|(k, t)| (*k, t.to_string())).collect(),
        }
    }

    fn shown(history: &History, color: bool) -> String {
        let mut out = Vec::new();
        super::history(&mut out, history, Style { color }).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn versions_then_changes_kind_by_kind() {
        let long = "word ".repeat(40);
        let h = compute(
            "Salt Roads",
            vec![
                version(
                    1,
                    &[(Kind::Event, "Routes open."), (Kind::Tension, "How far?")],
                ),
                version(
                    2,
                    &[
                        (Kind::Event, "Routes open."),
                        (Kind::Narrative, &long),
                        (Kind::Tension, "Who paid?"),
                    ],
                ),
            ],
        );
        let text = shown(&h, false);
        let expected_head = "Salt Roads · 2 versions\n\
            \x20 version 1    2026-05-01  narrative 0 · event 1 · perspective 0 · tension 1\n\
            \x20              threads/t-v1.txt\n\
            \x20 version 2    2026-05-02  narrative 1 · event 1 · perspective 0 · tension 1\n\
            \x20              threads/t-v2.txt\n\
            \n\
            version 1 → 2: 2 added, 1 removed, 1 kept\n\
            \x20 narrative: +1 −0\n";
        assert!(text.starts_with(expected_head), "{text}");
        assert!(
            text.ends_with("  tension: +1 −1\n    + Who paid?\n    − How far?\n"),
            "{text}"
        );
        let cut = text.lines().find(|l| l.starts_with("    + word")).unwrap();
        assert!(cut.ends_with("word…"), "{cut}");
        assert!(!text.contains('\x1b'));
        assert!(shown(&h, true).contains("\x1b[32m+\x1b[0m Who paid?"));
    }

    #[test]
    fn a_single_version_has_no_changes() {
        let h = compute("T", vec![version(3, &[])]);
        let text = shown(&h, false);
        assert!(text.starts_with("T · 1 version\n"), "{text}");
        assert!(!text.contains('→'));
    }
}
