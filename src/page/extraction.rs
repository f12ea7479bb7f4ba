//! Extraction pages: one item's title, `source · author · date` line, summary, the threads
//! it appears in, its topics, claims and key quotes.
//!
//! Sections are found by their heading text, so blank lines, bullets and the optional site
//! header may vary. Everything before the first section heading is the page's head: title,
//! meta line and summary.

use super::text::{self, Line};
use super::topics::{self, Vocabulary};
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
    head: Vec<&'a str>,
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
    date: Date,
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

/// Parses an extraction page; `None` when it has no title, the one thing an item needs.
pub(crate) fn parse(lines: &[Line]) -> Option<Item> {
    let sections = split_sections(lines);
    let (title, meta, summary) = parse_head(&sections.head)?;
    let mut item = Item {
        title,
        summary,
        threads: entries(&sections.threads),
        claims: entries(&sections.claims),
        quotes: sections.quotes.iter().map(|q| quote(q)).collect(),
        ..Item::default()
    };
    if let Some(meta) = meta {
        (item.source, item.author, item.date) = (meta.source, meta.author, Some(meta.date));
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
            Section::Head => self.head.push(line.text),
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
fn parse_head(head: &[&str]) -> Option<(String, Option<Meta>, Option<String>)> {
    let meta_at = (head.iter().enumerate()).find_map(|(i, l)| Some((i, parse_meta(l)?)));
    let (title, meta, rest) = match meta_at {
        Some((i, meta)) => (&head[..i], Some(meta), &head[i + 1..]),
        None => (head.get(..1)?, None, head.get(1..)?),
    };
    let title = text::clean_ws(&title.join(" "));
    (!title.is_empty()).then(|| (title, meta, summary(rest)))
}

/// Parses `source · author · date`, recognised by its trailing date; the author (or the
/// source too) may be missing. Extra middle parts belong to the author.
fn parse_meta(line: &str) -> Option<Meta> {
    let parts: Vec<&str> = line.split('·').map(str::trim).collect();
    let (last, rest) = parts.split_last()?;
    let date = Date::parse(last)?;
    let non_empty = |s: String| (!s.is_empty()).then_some(s);
    Some(Meta {
        source: rest.first().and_then(|s| non_empty(s.to_string())),
        author: rest.get(1..).and_then(|a| non_empty(a.join(" · "))),
        date,
    })
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
        parse(&text::lines(text))
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
        assert!(parse_meta("A · · 2020-02-02").unwrap().author.is_none());
    }

    #[test]
    fn structure_is_detected_by_headings_not_positions() {
        let lines = text::lines("x\n\nClaims\n\nKey quotes\nTopics: a\n");
        assert!(looks_like(&lines));
        assert!(!looks_like(&text::lines("Claims are cheap.\nKey quotes\n")));
    }
}
