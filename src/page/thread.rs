//! Thread history pages: one version of a thread's narrative, timeline, perspectives,
//! tensions and the Sources list that resolves their page-local `[n]` citations.
//!
//! Two renderers exist (one airy with `•` bullets and numbered sources, one compact with `-`
//! bullets); both are read by heading text. The header is `<title> · history`, then
//! `Version <N>`, then `<YYYY-MM-DD HH:MM UTC> · <K> items`.

use super::text::{self, Entry, Line};
use super::Warning;
use crate::model::{Cited, Date, Event, Perspective, Source, ThreadPage};

/// The section headings, in the order the tracker prints them.
const SECTIONS: [&str; 5] = [
    "Narrative",
    "Timeline",
    "Perspectives",
    "Tensions",
    "Sources",
];

/// Where the header was found and what it said.
struct Header {
    title: String,
    version: u32,
    /// Index (into the page's lines) of the first line after `Version N`.
    next: usize,
}

/// True when the page has a `<title> · history` line followed by a `Version N` line.
pub(crate) fn looks_like(lines: &[Line]) -> bool {
    find_header(lines).is_some()
}

/// Parses a history page; `None` when it has no header or no section at all (too damaged to
/// be read as a thread). Lines that fit nowhere become warnings.
pub(crate) fn parse(lines: &[Line], warnings: &mut Vec<Warning>) -> Option<ThreadPage> {
    let header = find_header(lines)?;
    let rest = lines.get(header.next..)?;
    let (meta_line, body) = split_meta(rest);
    let sections = split_sections(body, warnings);
    if sections.iter().all(|s| s.is_empty()) {
        return None;
    }
    let [narrative, timeline, perspectives, tensions, sources] = sections;
    Some(ThreadPage {
        title: header.title,
        version: header.version,
        date: meta_line.and_then(version_date),
        items: meta_line.and_then(item_count),
        narrative: narrative
            .iter()
            .map(|l| text::extract_cites(l.text))
            .collect(),
        timeline: text::list_entries(&timeline).iter().map(event).collect(),
        perspectives: parse_perspectives(&perspectives),
        tensions: list_cited(&tensions),
        sources: parse_sources(&sources, warnings),
    })
}

/// Finds `<title> · history` followed (after blank lines) by `Version <N>`.
fn find_header(lines: &[Line]) -> Option<Header> {
    let body = lines.iter().enumerate().filter(|(_, l)| !l.text.is_empty());
    let mut prev_title: Option<&str> = None;
    for (i, line) in body {
        if let (Some(title), Some(version)) = (prev_title, version_number(line.text)) {
            return Some(Header {
                title: text::clean_ws(title),
                version,
                next: i + 1,
            });
        }
        prev_title = history_title(line.text);
    }
    None
}

/// The thread title of a `<title> · history` line.
fn history_title(line: &str) -> Option<&str> {
    let before = line.strip_suffix("history")?.trim_end().strip_suffix('·')?;
    let title = before.trim();
    (!title.is_empty()).then_some(title)
}

/// The `N` of a `Version N` line.
fn version_number(line: &str) -> Option<u32> {
    text::strip_label(line, "Version ")?.parse().ok()
}

/// Splits off the `<date> <time> UTC · <K> items` line, when the first non-blank line after
/// the header is one (it is recognised by its leading date).
fn split_meta<'r, 'a>(rest: &'r [Line<'a>]) -> (Option<&'a str>, &'r [Line<'a>]) {
    let first = rest.iter().position(|l| !l.text.is_empty());
    match first {
        Some(i) if text::leading_date(rest[i].text).is_some() => {
            (Some(rest[i].text), rest.get(i + 1..).unwrap_or_default())
        }
        _ => (None, rest),
    }
}

fn version_date(meta: &str) -> Option<Date> {
    text::leading_date(meta).map(|(date, _)| date)
}

/// The `K` of `… · K items`.
fn item_count(meta: &str) -> Option<u32> {
    let last = meta.rsplit('·').next()?.trim();
    let count = last
        .strip_suffix("items")
        .or_else(|| last.strip_suffix("item"))?;
    count.trim().parse().ok()
}

/// Sorts the body's lines into the five sections, in `SECTIONS` order. Text before the first
/// heading fits nowhere and is reported.
fn split_sections<'a>(body: &[Line<'a>], warnings: &mut Vec<Warning>) -> [Vec<Line<'a>>; 5] {
    let mut sections: [Vec<Line<'a>>; 5] = Default::default();
    let mut current: Option<usize> = None;
    for line in body.iter().filter(|l| !l.text.is_empty()) {
        let heading = text::heading_text(line.text);
        if let Some(i) = SECTIONS
            .iter()
            .position(|h| heading.eq_ignore_ascii_case(h))
        {
            current = Some(i);
        } else if let Some(i) = current {
            sections[i].push(*line);
        } else {
            warnings.push(Warning::at(
                line.number,
                "text before the first section ignored",
            ));
        }
    }
    sections
}

/// A timeline entry: `<YYYY-MM-DD>: <event> [n]`; an entry without a date is kept undated.
fn event(entry: &Entry) -> Event {
    let (date, rest) = match text::leading_date(&entry.text) {
        Some((date, rest)) => (Some(date), rest),
        None => (None, entry.text.as_str()),
    };
    let Cited { text, cites } = text::extract_cites(rest);
    Event { date, text, cites }
}

fn list_cited(lines: &[Line]) -> Vec<Cited> {
    (text::list_entries(lines).iter())
        .map(|e| text::extract_cites(&e.text))
        .collect()
}

/// A perspective being read: its name line, view paragraphs and evolution line.
struct Group<'a> {
    name: &'a str,
    view: Vec<&'a str>,
    evolution: Option<String>,
}

/// Groups the Perspectives lines: a name line, view paragraph(s), then `Evolution: …`, which
/// closes the group. Without an Evolution line, a short name-like line after a view starts
/// the next group.
fn parse_perspectives(lines: &[Line]) -> Vec<Perspective> {
    let mut done: Vec<Group> = Vec::new();
    let mut open: Option<Group> = None;
    for line in lines.iter().map(|l| text::strip_bullet(l.text)) {
        if let Some(evolution) = text::strip_label(line, "Evolution:") {
            close_with_evolution(&mut done, open.take(), evolution);
            continue;
        }
        open = match open {
            None => Some(Group::named(line)),
            Some(group) if !group.view.is_empty() && is_name_like(line) => {
                done.push(group);
                Some(Group::named(line))
            }
            Some(mut group) => {
                group.view.push(line);
                Some(group)
            }
        };
    }
    done.extend(open);
    done.into_iter().map(Group::finish).collect()
}

/// Ends the open group with its evolution. An Evolution line with no open group extends the
/// previous group's (or, on a page that opens with one, stands as an unnamed group).
fn close_with_evolution<'a>(done: &mut Vec<Group<'a>>, open: Option<Group<'a>>, text: &str) {
    match (open, done.last_mut()) {
        (Some(mut group), _) => {
            group.evolution = Some(text.to_string());
            done.push(group);
        }
        (None, Some(last)) => {
            let joined = last
                .evolution
                .take()
                .map_or(text.to_string(), |e| e + " " + text);
            last.evolution = Some(joined);
        }
        (None, None) => done.push(Group {
            name: "",
            view: Vec::new(),
            evolution: Some(text.to_string()),
        }),
    }
}

/// A name line (`LawrenceC (Alignment Forum)`): short, no citation, and not ending like a
/// sentence.
fn is_name_like(line: &str) -> bool {
    let ends_sentence = line.ends_with(['.', '!', '?', ':', ';', ',', '"', '\'', '”']);
    line.chars().count() <= 100 && !ends_sentence && text::extract_cites(line).cites.is_empty()
}

impl<'a> Group<'a> {
    fn named(name: &'a str) -> Group<'a> {
        Group {
            name,
            view: Vec::new(),
            evolution: None,
        }
    }

    fn finish(self) -> Perspective {
        let view: Vec<Cited> = self.view.iter().map(|p| text::extract_cites(p)).collect();
        let evolution = self.evolution.as_deref().map(text::extract_cites);
        let all = view
            .iter()
            .chain(&evolution)
            .flat_map(|c| c.cites.iter().copied());
        let cites = text::first_appearances(all);
        let paragraphs: Vec<String> = view.into_iter().map(|c| c.text).collect();
        Perspective {
            name: text::clean_ws(self.name),
            view: paragraphs.join("\n\n"),
            evolution: evolution.map(|c| c.text),
            cites,
        }
    }
}

/// Parses the Sources list; an entry without a number is reported and skipped.
fn parse_sources(lines: &[Line], warnings: &mut Vec<Warning>) -> Vec<Source> {
    let mut sources = Vec::new();
    for entry in text::list_entries(lines) {
        match parse_source(&entry) {
            Some(source) => sources.push(source),
            None => warnings.push(Warning::at(
                entry.line,
                "source without a [n] number ignored",
            )),
        }
    }
    sources
}

/// `[n] <title> — <channel> (<YYYY-MM-DD>)`. The channel follows the *last* ` — `, as
/// titles may contain the dash themselves; the date may be missing. A numbered bullet
/// (`3. title …`) stands in for a missing `[n]`.
fn parse_source(entry: &Entry) -> Option<Source> {
    let (n, rest) = match text::leading_cite(&entry.text) {
        Some((n, rest)) => (n, rest),
        None => (entry.number?, entry.text.as_str()),
    };
    let (rest, date) = split_trailing_date(rest.trim());
    let (title, channel) = match rest.rsplit_once(" — ") {
        Some((title, channel)) if !channel.trim().is_empty() => (title, Some(channel)),
        _ => (rest, None),
    };
    Some(Source {
        n,
        title: text::clean_ws(title),
        channel: channel.map(text::clean_ws),
        date,
    })
}

/// Splits a trailing `(YYYY-MM-DD)` off a source line.
fn split_trailing_date(line: &str) -> (&str, Option<Date>) {
    let parsed = line.strip_suffix(')').and_then(|l| {
        let (before, inside) = l.rsplit_once('(')?;
        Some((before.trim_end(), Date::parse(inside.trim())?))
    });
    match parsed {
        Some((before, date)) => (before, Some(date)),
        None => (line, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(text: &str) -> (Option<ThreadPage>, Vec<Warning>) {
        let mut warnings = Vec::new();
        (parse(&text::lines(text), &mut warnings), warnings)
    }

    /// The airy renderer: site header, blank lines, `•` bullets, numbered sources.
    const AIRY: &str = "\
The Information Machine

Beekeeping Goes Urban — Or Does It · history

Version 2

2025-09-14 08:30 UTC · 12 items

Narrative

Rooftop hives spread across three cities.[1] Yields vary.[2][1]

Critics point to forage limits.[3]

Timeline

  • 2023-01-01: First rooftop permits issued. [1]
  • 2025-05-20: A survey finds thin forage. [3][2]

Perspectives

Ana Ruiz (City Apiary)

Hives belong on roofs.[1]

Evolution: Unchanged since the first version.

Forage Skeptics

Cities lack flowers for so many bees.[3]

Evolution: Louder this cycle.[2]

Tensions

  • Is honey yield a fair measure of success? [2]

Sources

  1. [1] Bees on the roof — City Apiary Blog (2023-01-05)
  2. [2] Honey yields — a ledger — Farm Weekly (2025-02-11)
  3. [3] Where the flowers are — reactive:urban-bees
";

    #[test]
    fn the_airy_renderer_parses_completely() {
        let (page, warnings) = parse_text(AIRY);
        let page = page.unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(page.title, "Beekeeping Goes Urban — Or Does It");
        assert_eq!((page.version, page.items), (2, Some(12)));
        assert_eq!(page.date, Date::parse("2025-09-14"));
        assert_eq!(page.narrative.len(), 2);
        assert_eq!(
            page.narrative[0].text,
            "Rooftop hives spread across three cities. Yields vary."
        );
        assert_eq!(page.narrative[0].cites, [1, 2]);
        assert_eq!(page.timeline.len(), 2);
        assert_eq!(page.timeline[1].date, Date::parse("2025-05-20"));
        assert_eq!(page.timeline[1].text, "A survey finds thin forage.");
        assert_eq!(page.timeline[1].cites, [3, 2]);
        assert_eq!(page.perspectives.len(), 2);
        assert_eq!(page.perspectives[1].name, "Forage Skeptics");
        assert_eq!(
            page.perspectives[1].evolution.as_deref(),
            Some("Louder this cycle.")
        );
        assert_eq!(page.perspectives[1].cites, [3, 2]);
        assert_eq!(page.tensions[0].cites, [2]);
        assert_eq!(page.sources.len(), 3);
        assert_eq!(page.sources[1].title, "Honey yields — a ledger");
        assert_eq!(page.sources[1].channel.as_deref(), Some("Farm Weekly"));
        assert_eq!(
            page.sources[2].channel.as_deref(),
            Some("reactive:urban-bees")
        );
        assert_eq!(page.sources[2].date, None);
    }

    #[test]
    fn the_compact_renderer_with_crlf_parses_the_same_way() {
        let compact = "Salt Roads · history\r\nVersion 7\r\n2024-02-29 23:59 UTC · 1 item\r\n\
            Narrative\r\nCaravans moved salt.[2]\r\nTimeline\r\n- 1400-01-01: Routes open. [1]\r\n\
            Perspectives\r\nHistorians\r\nSalt was money.\r\nTensions\r\n- How far? [2]\r\n\
            Sources\r\n- [1] Desert trade — Atlas (2001-03-04)\r\n- [2] Salt — Chronicle\r\n";
        let text = text::normalize_newlines(compact);
        let page = parse_text(&text).0.unwrap();
        assert_eq!((page.title.as_str(), page.version), ("Salt Roads", 7));
        assert_eq!(
            (page.date, page.items),
            (Date::parse("2024-02-29"), Some(1))
        );
        assert_eq!(page.timeline[0].date, Date::parse("1400-01-01"));
        assert_eq!(page.perspectives.len(), 1);
        assert_eq!(page.perspectives[0].evolution, None);
        assert_eq!(page.resolve(&page.tensions[0].cites)[0].title, "Salt");
    }

    #[test]
    fn perspectives_without_evolution_split_on_name_lines() {
        let lines = text::lines(
            "First Voice (Venue)\nA view.\nSecond Voice\nAnother view.\nMore of it.\n\
             Evolution: steady.\nEvolution: and later more.\nThird\n",
        );
        let got = parse_perspectives(&lines);
        let names: Vec<_> = got.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["First Voice (Venue)", "Second Voice", "Third"]);
        assert_eq!(got[1].view, "Another view.\n\nMore of it.");
        assert_eq!(got[1].evolution.as_deref(), Some("steady. and later more."));
        assert_eq!(
            (got[2].view.as_str(), got[2].evolution.as_ref()),
            ("", None)
        );
    }

    #[test]
    fn sources_take_the_channel_after_the_last_dash() {
        let entry = |text: &str, number| Entry {
            line: 1,
            number,
            text: text.into(),
        };
        let s = parse_source(&entry("[9] A — B — C", None)).unwrap();
        assert_eq!(
            (s.n, s.title.as_str(), s.channel.as_deref()),
            (9, "A — B", Some("C"))
        );
        let s = parse_source(&entry("Untagged — Feed (2020-01-02)", Some(4))).unwrap();
        assert_eq!((s.n, s.date), (4, Date::parse("2020-01-02")));
        let s = parse_source(&entry("[2] [PDF] Only a title (draft)", None)).unwrap();
        assert_eq!(
            (s.title.as_str(), s.channel, s.date),
            ("[PDF] Only a title (draft)", None, None)
        );
        assert!(parse_source(&entry("no number", None)).is_none());
    }

    #[test]
    fn damaged_pages_are_refused_or_reported() {
        // A header but no section: not a thread page.
        assert!(parse_text("T · history\nVersion 1\nsome text\n")
            .0
            .is_none());
        // No Version line: no header.
        assert!(!looks_like(&text::lines("T · history\nNarrative\nx\n")));
        let (page, warnings) = parse_text("T · history\nVersion 1\nstray\nSources\nbad line\n");
        let page = page.unwrap();
        assert!(page.sources.is_empty() && page.date.is_none());
        let lines: Vec<_> = warnings.iter().map(|w| w.line).collect();
        assert_eq!(lines, [Some(3), Some(5)]);
    }
}
