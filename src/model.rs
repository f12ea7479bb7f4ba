//! The parsed facts of a page, and the flat search records made from them.
//!
//! Parsers (`page/`) produce a [`Page`]; [`Page::records`] flattens it into
//! [`Record`]s, the unit every later stage (schema, search, rendering) works on.
//! Nothing here does I/O.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub use crate::provenance::FoundIn;

/// A calendar date as the tracker writes it, `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    /// Four-digit year.
    pub year: u16,
    /// Month, 1 to 12.
    pub month: u8,
    /// Day of the month, 1 to 31.
    pub day: u8,
}

impl Date {
    /// The first day of a day, month or year written `YYYY-MM-DD`, `YYYY-MM`
    /// or `YYYY` (`--since 2019-06` is 2019-06-01).
    pub fn first_of(s: &str) -> Option<Date> {
        Date::span(s).map(|(first, _)| first)
    }

    /// The last day of a day, month or year written `YYYY-MM-DD`, `YYYY-MM`
    /// or `YYYY` (`--until 2019` is 2019-12-31).
    pub fn last_of(s: &str) -> Option<Date> {
        Date::span(s).map(|(_, last)| last)
    }

    fn span(s: &str) -> Option<(Date, Date)> {
        let s = s.trim();
        match s.len() {
            4 => Some((
                Date::parse(&format!("{s}-01-01"))?,
                Date::parse(&format!("{s}-12-31"))?,
            )),
            7 => {
                let first = Date::parse(&format!("{s}-01"))?;
                let last = (28..=31)
                    .rev()
                    .find_map(|day| Date::parse(&format!("{s}-{day}")))?;
                Some((first, last))
            }
            _ => Date::parse(s).map(|d| (d, d)),
        }
    }

    /// Parses `YYYY-MM-DD` exactly (no surrounding text); `None` if it is not a real date.
    pub fn parse(s: &str) -> Option<Date> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<u32> {
            let part = &s[r];
            part.bytes()
                .all(|c| c.is_ascii_digit())
                .then(|| part.parse().ok())
                .flatten()
        };
        let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let days_in_month = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
            2 => 28,
            _ => return None,
        };
        (day >= 1 && day <= days_in_month).then_some(Date {
            year: year as u16,
            month: month as u8,
            day: day as u8,
        })
    }

    /// Days since 1970-01-01 (negative before), for the index's date field.
    pub fn days_since_epoch(self) -> i64 {
        // Howard Hinnant's days_from_civil.
        let (y, m, d) = (
            i64::from(self.year),
            i64::from(self.month),
            i64::from(self.day),
        );
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (m + 9) % 12;
        let doy = (153 * mp + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }
}

impl Date {
    /// The date `days` after 1970-01-01 (before it, when negative); the
    /// inverse of [`Date::days_since_epoch`] for years 0 to 9999.
    pub fn from_days_since_epoch(days: i64) -> Date {
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        Date {
            year: year.clamp(0, 9999) as u16,
            month: month as u8,
            day: day as u8,
        }
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl FromStr for Date {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Date::parse(s.trim()).ok_or_else(|| format!("'{s}' is not a date of the form YYYY-MM-DD"))
    }
}

impl Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Date::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("bad date '{s}'")))
    }
}

/// What a search record is: one claim, one quote, one timeline event, …
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A claim of an item (extraction page or JSON Lines item).
    Claim,
    /// A key quote of an item.
    Quote,
    /// An item's summary (only a real one, never the "No summary yet" placeholder).
    Summary,
    /// A dated event of a thread's timeline.
    Event,
    /// One voice of a thread's perspectives.
    Perspective,
    /// An open question of a thread.
    Tension,
    /// A paragraph of a thread's narrative.
    Narrative,
    /// A paragraph of raw item text.
    Passage,
}

impl Kind {
    /// Every kind, in the order the tracker shows them.
    pub const ALL: [Kind; 8] = [
        Kind::Claim,
        Kind::Quote,
        Kind::Summary,
        Kind::Event,
        Kind::Perspective,
        Kind::Tension,
        Kind::Narrative,
        Kind::Passage,
    ];

    /// The lowercase name used on the command line, in JSON and in the index.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Claim => "claim",
            Kind::Quote => "quote",
            Kind::Summary => "summary",
            Kind::Event => "event",
            Kind::Perspective => "perspective",
            Kind::Tension => "tension",
            Kind::Narrative => "narrative",
            Kind::Passage => "passage",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Kind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_ascii_lowercase();
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Kind::ALL.iter().map(|k| k.as_str()).collect();
                format!("unknown kind '{s}' (one of: {})", names.join(", "))
            })
    }
}

/// A key quote; `truncated` when the page cut it short with a trailing `...`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    /// The quote as shown, including any trailing `...`.
    pub text: String,
    /// True when the quote ends in `...` (or `…`): the page shows only its start.
    pub truncated: bool,
}

/// One collected item (post, paper, talk): an extraction page or a JSON Lines line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    /// The producer's identifier (JSON Lines only).
    pub id: Option<String>,
    /// The item's title.
    pub title: String,
    /// Venue or feed, e.g. `Alignment Forum`.
    pub source: Option<String>,
    /// Author, when the page names one.
    pub author: Option<String>,
    /// Publication date.
    pub date: Option<Date>,
    /// Link to the original (JSON Lines only).
    pub url: Option<String>,
    /// A real summary; the "No summary yet" placeholder is dropped by the parser.
    pub summary: Option<String>,
    /// Topic slugs, lowercase and hyphenated.
    pub topics: Vec<String>,
    /// One claim per entry.
    pub claims: Vec<String>,
    /// Key quotes.
    pub quotes: Vec<Quote>,
    /// Titles of the threads the item appears in.
    pub threads: Vec<String>,
    /// The item's raw text, one entry per paragraph (JSON Lines `text`):
    /// indexed as passages, and what its quotes are checked against.
    pub text: Vec<String>,
}

/// An entry of a history page's Sources list: `[n] <title> — <channel> (<date>)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// The page-local citation number.
    pub n: u32,
    /// The cited item's title.
    pub title: String,
    /// Venue (`Alignment Forum`) or feed (`reactive:…`).
    pub channel: Option<String>,
    /// The cited item's date, when given.
    pub date: Option<Date>,
}

/// A piece of thread text with the page-local citation numbers it carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cited {
    /// The text with `[n]` markers removed.
    pub text: String,
    /// The `[n]` numbers, in order of first appearance.
    pub cites: Vec<u32>,
}

/// A timeline bullet: `<YYYY-MM-DD>: <event> [n]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// The event's date as given (`2016-01-01` may mean "some time in 2016").
    pub date: Option<Date>,
    /// The event, citations removed.
    pub text: String,
    /// Page-local citation numbers.
    pub cites: Vec<u32>,
}

/// A voice of the Perspectives section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Perspective {
    /// The heading line as written, e.g. `LawrenceC (Alignment Forum)`.
    pub name: String,
    /// The view paragraph(s), citations removed.
    pub view: String,
    /// The `Evolution: …` line without its label, when present.
    pub evolution: Option<String>,
    /// Page-local citation numbers of view and evolution.
    pub cites: Vec<u32>,
}

/// One saved version of a thread's history page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadPage {
    /// The thread's title (without the trailing `· history`).
    pub title: String,
    /// The version number (`Version N`).
    pub version: u32,
    /// The version's date (from `<YYYY-MM-DD HH:MM UTC> · <K> items`).
    pub date: Option<Date>,
    /// The number of items the thread had at that version.
    pub items: Option<u32>,
    /// Narrative paragraphs.
    pub narrative: Vec<Cited>,
    /// Timeline events.
    pub timeline: Vec<Event>,
    /// Perspectives.
    pub perspectives: Vec<Perspective>,
    /// Tensions.
    pub tensions: Vec<Cited>,
    /// The Sources list that resolves this page's citations.
    pub sources: Vec<Source>,
}

impl ThreadPage {
    /// Resolves page-local citation numbers through this page's own Sources list;
    /// a number with no source is dropped.
    pub fn resolve(&self, cites: &[u32]) -> Vec<Cite> {
        self.citations().resolve(cites)
    }

    /// This page's Sources list by number, to resolve many citations.
    pub fn citations(&self) -> Citations<'_> {
        let mut by_number: HashMap<u32, &Source> = HashMap::new();
        for source in &self.sources {
            by_number.entry(source.n).or_insert(source);
        }
        Citations(by_number)
    }
}

/// A page's Sources list by number: the first source of each number (a page
/// may hold thousands of both sources and citations).
pub struct Citations<'a>(HashMap<u32, &'a Source>);

impl Citations<'_> {
    /// Resolves page-local citation numbers; a number with no source is dropped.
    pub fn resolve(&self, cites: &[u32]) -> Vec<Cite> {
        (cites.iter().filter_map(|n| self.0.get(n)))
            .map(|s| Cite {
                title: s.title.clone(),
                source: s.channel.clone(),
                date: s.date,
            })
            .collect()
    }
}

/// Raw item text: no structure, indexed as passages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawText {
    /// The first line when it is a short heading, else the file's name.
    pub title: String,
    /// One entry per paragraph.
    pub passages: Vec<String>,
}

/// A parsed file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Page {
    /// An extraction page: one item.
    Extraction(Item),
    /// One version of a thread history page.
    Thread(ThreadPage),
    /// Raw item text.
    Raw(RawText),
    /// A JSON Lines file: the items of its good lines, each with its line number.
    Items(Vec<(usize, Item)>),
}

/// A citation resolved through the page's Sources list, as it appears in a hit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cite {
    /// The cited item's title.
    pub title: String,
    /// Its channel (venue or feed), if any.
    pub source: Option<String>,
    /// Its date, if any.
    pub date: Option<Date>,
}

/// One search record: everything a reader needs to judge a claim without opening the page.
///
/// This is the one record view: what the index stores, what `export` prints
/// and what a search hit carries beside its score and snippet. Stored records
/// are read back leniently (an unknown field is ignored), so an index written
/// by an older version stays readable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// Stable id: the page path, `#`, and the record's place in the page
    /// (`threads/dl.txt#event-3`, `items.jsonl#12/claim-1`).
    pub id: String,
    /// What the record is.
    pub kind: Kind,
    /// Its text.
    pub text: String,
    /// The item's title, or the thread's title for thread records.
    pub title: String,
    /// The item's source; `None` for thread records (the tracker's own synthesis).
    pub source: Option<String>,
    /// The item's byline as written (`Vaishnavh Nagarajan, J. Zico Kolter`); `None` for
    /// thread records.
    pub author: Option<String>,
    /// The byline's authors, one person (or handle) each, in byline order (see
    /// [`crate::authors::split_byline`]); empty without a byline.
    #[serde(default)]
    pub authors: Vec<String>,
    /// The item's date; for thread records the event's date or else the version's date.
    pub date: Option<Date>,
    /// The producer's id of the item (JSON Lines `id`), when it has one.
    pub item_id: Option<String>,
    /// The item's topics.
    pub topics: Vec<String>,
    /// The thread: a thread record's own, or the first thread an item appears in.
    pub thread: Option<String>,
    /// The thread version, for thread records.
    pub version: Option<u32>,
    /// For a thread record, the earliest saved version of its thread that holds the same
    /// record (same kind, same normalised text: see [`crate::history::normalise`]); `None`
    /// for items. Not stored: found when the record is read, from the versions the index
    /// holds then.
    #[serde(default)]
    pub first_version: Option<u32>,
    /// What the record cites, resolved through its page's Sources list.
    pub cites: Vec<Cite>,
    /// The page it came from, relative to the corpus root, with `/` separators.
    pub path: String,
    /// True for a quote the page cut short.
    pub truncated: bool,
    /// For a quote, the corpus's raw texts that hold it (empty when none
    /// does; filled at index time, see [`crate::provenance`]); `None` for
    /// every other kind.
    #[serde(default)]
    pub found_in: Option<Vec<FoundIn>>,
}

impl Record {
    /// A record with only its own text and title: no source, author, date,
    /// topics, thread or citations (raw passages, and tests).
    pub(crate) fn plain(id: String, kind: Kind, text: &str, title: &str, path: &str) -> Record {
        Record {
            id,
            kind,
            text: text.to_string(),
            title: title.to_string(),
            source: None,
            author: None,
            authors: Vec::new(),
            date: None,
            item_id: None,
            topics: Vec::new(),
            thread: None,
            version: None,
            first_version: None,
            cites: Vec::new(),
            path: path.to_string(),
            truncated: false,
            found_in: None,
        }
    }
}

/// A record as the index takes it: the record, every thread it belongs to (its
/// own, or all its item appears in), which `--thread` matches, and for a thread
/// record its version's date, which a thread's history shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Indexable {
    /// The record.
    pub record: Record,
    /// Every thread it belongs to.
    pub threads: Vec<String>,
    /// The date of the thread version the record belongs to (thread records only).
    pub version_date: Option<Date>,
}

/// A raw text of a page, as quotes are checked against it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawSource<'a> {
    /// The raw text's title: the raw page's, or the JSON Lines item's.
    pub title: &'a str,
    /// Its paragraphs.
    pub paragraphs: &'a [String],
    /// The id of its first passage record.
    pub first_passage: usize,
}

impl Page {
    /// Flattens a parsed page into its search records; `path` is the page's
    /// corpus-relative path and the stem of every record id.
    pub fn records(&self, path: &str) -> Vec<Record> {
        self.indexables(path)
            .into_iter()
            .map(|i| i.record)
            .collect()
    }

    /// [`Page::records`], each with the threads it belongs to.
    pub fn indexables(&self, path: &str) -> Vec<Indexable> {
        match self {
            Page::Extraction(item) => {
                with_threads(item_records(item, path, ""), &item.threads, None)
            }
            Page::Items(items) => (items.iter())
                .flat_map(|(line, item)| {
                    let records = item_records(item, path, &format!("{line}/"));
                    with_threads(records, &item.threads, None)
                })
                .collect(),
            Page::Thread(page) => with_threads(
                thread_records(page, path),
                std::slice::from_ref(&page.title),
                page.date,
            ),
            Page::Raw(raw) => {
                let passages = (raw.passages.iter().enumerate())
                    .map(|(i, text)| {
                        let id = format!("{path}#passage-{}", i + 1);
                        Record::plain(id, Kind::Passage, text, &raw.title, path)
                    })
                    .collect();
                with_threads(passages, &[], None)
            }
        }
    }

    /// The page's raw texts: a raw page's passages, each JSON Lines item's
    /// text. `first_passage` indexes [`Page::records`].
    pub fn raw_sources(&self) -> Vec<RawSource<'_>> {
        match self {
            Page::Raw(raw) if !raw.passages.is_empty() => vec![RawSource {
                title: &raw.title,
                paragraphs: &raw.passages,
                first_passage: 0,
            }],
            Page::Items(items) => {
                let mut sources = Vec::new();
                let mut at = 0;
                for (_, item) in items {
                    let own =
                        usize::from(item.summary.is_some()) + item.claims.len() + item.quotes.len();
                    if !item.text.is_empty() {
                        sources.push(RawSource {
                            title: &item.title,
                            paragraphs: &item.text,
                            first_passage: at + own,
                        });
                    }
                    at += own + item.text.len();
                }
                sources
            }
            _ => Vec::new(),
        }
    }
}

fn with_threads(
    records: Vec<Record>,
    threads: &[String],
    version_date: Option<Date>,
) -> Vec<Indexable> {
    (records.into_iter())
        .map(|record| Indexable {
            record,
            threads: threads.to_vec(),
            version_date,
        })
        .collect()
}

fn item_records(item: &Item, path: &str, prefix: &str) -> Vec<Record> {
    let authors = (item.author.as_deref())
        .map(crate::authors::split_byline)
        .unwrap_or_default();
    let base = |kind: Kind, n: usize, text: &str, truncated: bool| Record {
        id: format!("{path}#{prefix}{kind}-{n}"),
        kind,
        text: text.to_string(),
        title: item.title.clone(),
        source: item.source.clone(),
        author: item.author.clone(),
        authors: authors.clone(),
        date: item.date,
        item_id: item.id.clone(),
        topics: item.topics.clone(),
        thread: item.threads.first().cloned(),
        version: None,
        first_version: None,
        cites: Vec::new(),
        path: path.to_string(),
        truncated,
        found_in: (kind == Kind::Quote).then(Vec::new),
    };
    let summary = item
        .summary
        .iter()
        .map(|s| base(Kind::Summary, 1, s, false));
    let claims = (item.claims.iter().enumerate()).map(|(i, c)| base(Kind::Claim, i + 1, c, false));
    let quotes = (item.quotes.iter().enumerate())
        .map(|(i, q)| base(Kind::Quote, i + 1, &q.text, q.truncated));
    let passages =
        (item.text.iter().enumerate()).map(|(i, p)| base(Kind::Passage, i + 1, p, false));
    summary
        .chain(claims)
        .chain(quotes)
        .chain(passages)
        .collect()
}

fn thread_records(page: &ThreadPage, path: &str) -> Vec<Record> {
    let citations = page.citations();
    let base = |kind: Kind, n: usize, text: &str, date: Option<Date>, cites: &[u32]| Record {
        id: format!("{path}#{kind}-{n}"),
        kind,
        text: text.to_string(),
        title: page.title.clone(),
        source: None,
        author: None,
        authors: Vec::new(),
        date: date.or(page.date),
        item_id: None,
        topics: Vec::new(),
        thread: Some(page.title.clone()),
        version: Some(page.version),
        first_version: None,
        cites: citations.resolve(cites),
        path: path.to_string(),
        truncated: false,
        found_in: None,
    };
    let narrative = (page.narrative.iter().enumerate())
        .map(|(i, p)| base(Kind::Narrative, i + 1, &p.text, None, &p.cites));
    let events = (page.timeline.iter().enumerate())
        .map(|(i, e)| base(Kind::Event, i + 1, &e.text, e.date, &e.cites));
    let perspectives = page.perspectives.iter().enumerate().map(|(i, p)| {
        let mut text = format!("{}: {}", p.name, p.view);
        if let Some(evolution) = &p.evolution {
            text.push_str("\nEvolution: ");
            text.push_str(evolution);
        }
        base(Kind::Perspective, i + 1, &text, None, &p.cites)
    });
    let tensions = (page.tensions.iter().enumerate())
        .map(|(i, t)| base(Kind::Tension, i + 1, &t.text, None, &t.cites));
    narrative
        .chain(events)
        .chain(perspectives)
        .chain(tensions)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_year_or_a_month_spans_its_days() {
        let day = |s| Date::parse(s).unwrap();
        assert_eq!(Date::first_of("2019"), Some(day("2019-01-01")));
        assert_eq!(Date::last_of("2019"), Some(day("2019-12-31")));
        assert_eq!(Date::first_of("2019-06"), Some(day("2019-06-01")));
        assert_eq!(Date::last_of("2019-06"), Some(day("2019-06-30")));
        assert_eq!(Date::last_of("2020-02"), Some(day("2020-02-29")));
        assert_eq!(Date::last_of("2019-02-11"), Some(day("2019-02-11")));
        for bad in ["19", "2019-13", "2019-6", "june", "2019-02-30", ""] {
            assert_eq!(Date::first_of(bad), None, "{bad}");
        }
    }

    #[test]
    fn days_since_the_epoch_turn_back_into_the_same_date() {
        for days in (-106_751..=106_750)
            .step_by(97)
            .chain([-1, 0, 59, 60, 11_016])
        {
            let date = Date::from_days_since_epoch(days);
            assert_eq!(date.days_since_epoch(), days, "{date}");
            assert_eq!(Date::parse(&date.to_string()), Some(date));
        }
        assert_eq!(Date::from_days_since_epoch(0).to_string(), "1970-01-01");
        assert_eq!(
            Date::from_days_since_epoch(11_016).to_string(),
            "2000-02-29"
        );
    }

    #[test]
    fn dates_parse_strictly_and_count_days() {
        assert_eq!(Date::parse("2026-04-26").unwrap().to_string(), "2026-04-26");
        assert!(Date::parse("2026-02-30").is_none());
        assert!(Date::parse("2026-4-26").is_none());
        assert!(Date::parse("2024-02-29").is_some());
        assert_eq!(Date::parse("1970-01-01").unwrap().days_since_epoch(), 0);
        assert_eq!(
            Date::parse("2000-03-01").unwrap().days_since_epoch(),
            11_017
        );
    }

    #[test]
    fn kinds_round_trip_through_their_names() {
        for kind in Kind::ALL {
            assert_eq!(kind.as_str().parse::<Kind>().unwrap(), kind);
        }
        assert!("claims".parse::<Kind>().is_err());
    }

    #[test]
    fn thread_records_resolve_citations_through_their_own_page() {
        let page = ThreadPage {
            title: "T".into(),
            version: 2,
            date: Date::parse("2026-04-30"),
            sources: vec![Source {
                n: 1,
                title: "A post".into(),
                channel: Some("LessWrong".into()),
                date: None,
            }],
            tensions: vec![Cited {
                text: "Why?".into(),
                cites: vec![1, 9],
            }],
            ..ThreadPage::default()
        };
        let records = Page::Thread(page).records("t.txt");
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].id, "t.txt#tension-1");
        assert_eq!(records[0].date, Date::parse("2026-04-30"));
        assert_eq!(records[0].source, None);
        assert_eq!(records[0].cites.len(), 1);
        assert_eq!(records[0].cites[0].source.as_deref(), Some("LessWrong"));
    }
}
