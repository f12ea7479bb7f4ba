//! Extraction pages: one item's title, `source · author · date` line, summary, the threads
//! it appears in, its topics, claims and key quotes.
//!
//! Sections are found by their heading text, so blank lines, bullets and the optional site
//! header may vary. Everything before the first section heading is the page's head: title,
//! meta line and summary.

use super::text::{self, Line};
use super::topics::{self, Vocabulary};
use super::Warning;
use crate::model::{Date, Item, Quote};

/// The sections of an extraction page, in the order the tracker prints them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    Head,
    Threads,
    /// The `Extraction` heading itself: nothing to collect until the next heading.
    Extraction,
    Topics,
    Claims,
    Quotes,
}

/// The page's lines, sorted into sections.
#[derive(Default)]
struct Sections<'a> {
    head: Vec<Line<'a>>,
    threads: Vec<Line<'a>>,
    topics: Vec<&'a str>,
    claims: Vec<Line<'a>>,
    quotes: Vec<&'a str>,
}

/// The parsed `source · author · date` line.
#[derive(Debug)]
struct Meta {
    source: Option<String>,
    author: Option<String>,
    /// `Err` holds a date-shaped text that is no real date (`2026-13-45`).
    date: Result<Date, String>,
}

/// True when the page has the extraction structure: at least three of the `Extraction`,
/// `Claims` and `Key quotes` headings and the `Topics:` line.
pub(crate) fn looks_like(lines: &[Line]) -> bool {
    let mut found = [false; 4];
    for line in lines {
        let heading = text::heading_text(line.text);
        for (found, name) in found.iter_mut().zip(["Extraction", "Claims", "Key quotes"]) {
            *found |= heading.eq_ignore_ascii_case(name);
        }
        found[3] |= text::strip_label(line.text, "Topics:").is_some();
    }
    found.iter().filter(|f| **f).count() >= 3
}

/// Parses an extraction page; `None` when it has no title, the one thing an item needs. A
/// meta line whose date is no real date keeps its source and author, leaves the date empty
/// and adds a warning.
pub(crate) fn parse(lines: &[Line], warnings: &mut Vec<Warning>) -> Option<Item> {
    let sections = split_sections(lines);
    let (title, meta, summary) = parse_head(&sections.head, warnings)?;
    let mut item = Item {
        title,
        summary,
        threads: entries(&sections.threads),
        claims: entries(&sections.claims),
        quotes: sections.quotes.iter().map(|q| quote(q)).collect(),
        ..Item::default()
    };
    if let Some(meta) = meta {
        (item.source, item.author, item.date) = (meta.source, meta.author, meta.date.ok());
    }
    item.topics = topics::parse_topics(&sections.topics.join(" "), &vocabulary(&item));
    Some(item)
}

/// Sorts the lines into sections by heading; blank lines, the leading site header and the
/// `Open original ↗` link are dropped.
fn split_sections<'a>(lines: &[Line<'a>]) -> Sections<'a> {
    let mut sections = Sections::default();
    let mut current = Section::Head;
    let body = lines.iter().filter(|l| !l.text.is_empty());
    for (i, line) in body.enumerate() {
        if (i == 0 && text::is_site_header(line.text)) || is_noise(line.text) {
            continue;
        }
        if let Some(topics) = text::strip_label(line.text, "Topics:") {
            current = Section::Topics;
            sections.topics.push(topics);
        } else if let Some(section) = heading(line.text) {
            current = section;
        } else {
            sections.push(current, *line);
        }
    }
    sections
}

impl<'a> Sections<'a> {
    fn push(&mut self, section: Section, line: Line<'a>) {
        match section {
            Section::Head => self.head.push(line),
            Section::Threads => self.threads.push(line),
            Section::Extraction => {}
            Section::Topics => self.topics.push(line.text),
            Section::Claims => self.claims.push(line),
            Section::Quotes => self.quotes.push(line.text),
        }
    }
}

/// The section a heading line opens (`Topics:` is handled apart: it carries its content).
fn heading(line: &str) -> Option<Section> {
    let names = [
        ("Appears in", Section::Threads),
        ("Extraction", Section::Extraction),
        ("Claims", Section::Claims),
        ("Key quotes", Section::Quotes),
    ];
    let line = text::heading_text(line);
    let found = names
        .iter()
        .find(|(name, _)| line.eq_ignore_ascii_case(name));
    found.map(|(_, section)| *section)
}

/// Navigation text of the page, not content.
fn is_noise(line: &str) -> bool {
    text::strip_label(line, "Open original").is_some()
}

/// Title, meta line and summary from the head. Lines before the meta line are the title
/// (joined, in case it wrapped); lines after it, the summary. Without a meta line the first
/// line is the title.
fn parse_head(
    head: &[Line],
    warnings: &mut Vec<Warning>,
) -> Option<(String, Option<Meta>, Option<String>)> {
    let meta_at = (head.iter().enumerate()).find_map(|(i, l)| Some((i, parse_meta(l.text)?)));
    let (title, meta, rest) = match meta_at {
        Some((i, meta)) => (&head[..i], Some((head[i].number, meta)), &head[i + 1..]),
        None => (head.get(..1)?, None, head.get(1..)?),
    };
    let title: Vec<&str> = title.iter().map(|l| l.text).collect();
    let title = text::clean_ws(&title.join(" "));
    if title.is_empty() {
        return None;
    }
    if let Some((line, Meta { date: Err(bad), .. })) = &meta {
        let message =
            format!("bad date '{bad}' (want YYYY-MM-DD): source and author kept, no date");
        warnings.push(Warning::at(*line, message));
    }
    let rest: Vec<&str> = rest.iter().map(|l| l.text).collect();
    Some((title, meta.map(|(_, m)| m), summary(&rest)))
}

/// Parses `source · author · date`, recognised by its trailing date; the author (or the
/// source too) may be missing. Extra middle parts belong to the author. A trailing part shaped
/// like a date but no real one (`2026-13-45`) still makes the line a meta line when a `·`
/// separates it from the rest; its date is then an `Err`.
fn parse_meta(line: &str) -> Option<Meta> {
    let parts: Vec<&str> = line.split('·').map(str::trim).collect();
    let (last, rest) = parts.split_last()?;
    let date = match Date::parse(last) {
        Some(date) => Ok(date),
        None if !rest.is_empty() && is_date_shaped(last) => Err(last.to_string()),
        None => return None,
    };
    let non_empty = |s: String| (!s.is_empty()).then_some(s);
    Some(Meta {
        source: rest.first().and_then(|s| non_empty(s.to_string())),
        author: rest.get(1..).and_then(|a| non_empty(a.join(" · "))),
        date,
    })
}

/// `YYYY-M-D` to `YYYY-MM-DD` digits: what a date looks like, whether or not it is one.
fn is_date_shaped(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    let digits = |s: &str, range: std::ops::RangeInclusive<usize>| {
        range.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
    };
    matches!(parts.as_slice(), [y, m, d] if digits(y, 4..=4) && digits(m, 1..=2) && digits(d, 1..=2))
}

/// The summary paragraphs, one per line, without the "No summary yet" placeholder.
fn summary(lines: &[&str]) -> Option<String> {
    let paragraphs: Vec<String> = (lines.iter())
        .filter(|l| !is_placeholder(l))
        .map(|l| text::clean_ws(l))
        .collect();
    (!paragraphs.is_empty()).then(|| paragraphs.join("\n\n"))
}

/// The tracker's stand-in for a missing summary, e.g. `(No summary yet for this item …)`.
pub(crate) fn is_placeholder(summary: &str) -> bool {
    text::strip_label(summary.trim(), "(No summary yet").is_some()
}

fn entries(lines: &[Line]) -> Vec<String> {
    (text::list_entries(lines).into_iter())
        .map(|e| text::clean_ws_owned(e.text))
        .filter(|t| !t.is_empty())
        .collect()
}

/// A key quote as shown; a trailing `...` or `…` means the page cut it short.
pub(crate) fn quote(line: &str) -> Quote {
    let text = text::clean_ws(text::strip_bullet(line));
    Quote {
        truncated: text::is_truncated(&text),
        text,
    }
}

/// The page's own words, which teach the topic splitter its unusual words.
fn vocabulary(item: &Item) -> Vocabulary<'_> {
    let texts = [&item.title].into_iter().chain(&item.summary);
    let lists = (item.claims.iter()).chain(&item.threads);
    let quotes = item.quotes.iter().map(|q| &q.text);
    Vocabulary::from_page(texts.chain(lists).chain(quotes).map(String::as_str))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(text: &str) -> Option<Item> {
        let mut warnings = Vec::new();
        let item = parse(&text::lines(text), &mut warnings);
        assert!(warnings.is_empty(), "{warnings:?}");
        item
    }

    const PAGE: &str = "\
[The Information Machine]
Otters Use Tools More Than We Thought
Marine Notes · J. Doe · 2025-11-03
Sea otters crack shellfish on rocks they carry from the kelp.

Some keep a favourite rock for weeks.
Open original ↗
Appears in
- Animal cognition roundup
- Coastal ecology watch
Extraction
Topics: otter-behaviourtool-usekelp-forest-ecology
Claims
* Otters pick rocks by weight.
* Juveniles learn the habit from
  their mothers.
Key quotes
\"A rock is a pocket knife for an otter.\"
Nobody expected the weekly reuse rate to be so...
";

    #[test]
    fn a_full_page_yields_every_field() {
        let item = parse_text(PAGE).unwrap();
        assert_eq!(item.title, "Otters Use Tools More Than We Thought");
        assert_eq!(item.source.as_deref(), Some("Marine Notes"));
        assert_eq!(item.author.as_deref(), Some("J. Doe"));
        assert_eq!(item.date, Date::parse("2025-11-03"));
        let summary = item.summary.as_deref().unwrap();
        assert_eq!(summary.split("\n\n").count(), 2);
        assert_eq!(
            item.threads,
            ["Animal cognition roundup", "Coastal ecology watch"]
        );
        assert_eq!(
            item.topics,
            ["otter-behaviour", "tool-use", "kelp-forest-ecology"]
        );
        assert_eq!(item.claims.len(), 2);
        assert_eq!(
            item.claims[1],
            "Juveniles learn the habit from their mothers."
        );
        assert_eq!(item.quotes.len(), 2);
        assert!(!item.quotes[0].truncated);
        assert!(item.quotes[1].truncated);
    }

    #[test]
    fn missing_author_placeholder_summary_and_no_threads() {
        let page = "Tide Tables Revisited\n\nHarbour Log · 2024-06-30\n\n\
            (No summary yet for this item — coming soon.)\n\nOpen original ↗\n\nAppears in\n\n\
            Extraction\n\nTopics: tides, moon-phase\n\nClaims\n\n1. Tides lag the moon.\n\n\
            Key quotes\n\nIt is all gravity…\n";
        let item = parse_text(page).unwrap();
        assert_eq!(item.source.as_deref(), Some("Harbour Log"));
        assert_eq!(item.author, None);
        assert_eq!(item.summary, None);
        assert!(item.threads.is_empty());
        assert_eq!(item.topics, ["tides", "moon-phase"]);
        assert_eq!(item.claims, ["Tides lag the moon."]);
        assert!(item.quotes[0].truncated);
    }

    #[test]
    fn without_a_meta_line_the_first_line_is_the_title() {
        let page = "Just A Title\nExtraction\nTopics:\nClaims\n• one\nKey quotes\n";
        let item = parse_text(page).unwrap();
        assert_eq!(item.title, "Just A Title");
        assert_eq!((item.date, item.summary), (None, None));
        assert!(item.topics.is_empty() && item.quotes.is_empty());
    }

    #[test]
    fn a_page_without_a_title_is_not_an_item() {
        assert!(parse_text("Extraction\nTopics: a\nClaims\n• x\nKey quotes\ny\n").is_none());
        assert!(parse_text("Site · 2020-01-01\nClaims\n• x\n").is_none());
    }

    #[test]
    fn meta_lines_are_recognised_by_their_trailing_date() {
        let meta = parse_meta("A · B · C · 2020-02-02").unwrap();
        assert_eq!(meta.author.as_deref(), Some("B · C"));
        assert!(parse_meta("A · B · yesterday").is_none());
        assert!(parse_meta("2026-13-45").is_none());
        assert!(parse_meta("Sold out by 2020-02-30").is_none());
        assert!(parse_meta("A · · 2020-02-02").unwrap().author.is_none());
    }

    #[test]
    fn a_bad_date_keeps_source_and_author_and_warns_with_the_line() {
        let page = "The Information Machine\nA Paper\narXiv · Someone · 2026-13-45\n\
            A summary.\nExtraction\nTopics: a\nClaims\n• c\nKey quotes\nq\n";
        let mut warnings = Vec::new();
        let item = parse(&text::lines(page), &mut warnings).unwrap();
        assert_eq!(item.title, "A Paper");
        assert_eq!(item.source.as_deref(), Some("arXiv"));
        assert_eq!(item.author.as_deref(), Some("Someone"));
        assert_eq!(item.date, None);
        assert_eq!(item.summary.as_deref(), Some("A summary."));
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].line, Some(3));
        assert!(warnings[0].message.contains("'2026-13-45'"), "{warnings:?}");
        // Also without an author, and with a short month and day.
        let page = "T\nBlog · 2024-2-30\nExtraction\nTopics: a\nClaims\n• c\nKey quotes\n";
        let mut warnings = Vec::new();
        let item = parse(&text::lines(page), &mut warnings).unwrap();
        assert_eq!(
            (item.source.as_deref(), item.author, item.date),
            (Some("Blog"), None, None)
        );
        assert_eq!(warnings[0].line, Some(2));
    }

    #[test]
    fn structure_is_detected_by_headings_not_positions() {
        let lines = text::lines("x\n\nClaims\n\nKey quotes\nTopics: a\n");
        assert!(looks_like(&lines));
        assert!(!looks_like(&text::lines("Claims are cheap.\nKey quotes\n")));
    }
}
