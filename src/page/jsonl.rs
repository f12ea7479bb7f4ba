//! JSON Lines items, for pipelines: one item per line, the same facts as an extraction page.
//!
//! A bad line is reported with its line number and skipped; the other lines still count.

use serde::Deserialize;

use super::{extraction, raw, text, Warning};
use crate::model::{Date, Item};

/// One line as written. Unknown fields are ignored; `null` is as good as absent.
#[derive(Deserialize)]
struct Line {
    id: Option<Id>,
    title: Option<String>,
    source: Option<String>,
    author: Option<String>,
    date: Option<String>,
    url: Option<String>,
    summary: Option<String>,
    topics: Option<Vec<String>>,
    claims: Option<Vec<String>>,
    quotes: Option<Vec<String>>,
    threads: Option<Vec<String>>,
    text: Option<String>,
}

/// Producers write ids as strings or as integers; both identify the item.
#[derive(Deserialize)]
#[serde(untagged)]
enum Id {
    Text(String),
    Number(i64),
}

/// Parses every line; returns the good items with their 1-based line numbers.
pub(crate) fn parse(text: &str, warnings: &mut Vec<Warning>) -> Vec<(usize, Item)> {
    let lines = text::lines(text).into_iter().filter(|l| !l.text.is_empty());
    let mut items = Vec::new();
    for line in lines {
        match parse_line(line.text) {
            Ok(item) => items.push((line.number, item)),
            Err(reason) => warnings.push(Warning::at(line.number, reason)),
        }
    }
    items
}

/// One line to an item, or the short reason it is not one.
fn parse_line(line: &str) -> Result<Item, String> {
    let raw: Line = serde_json::from_str(line).map_err(|e| json_reason(&e))?;
    let title = non_empty(raw.title).ok_or("missing or empty \"title\"")?;
    let date = match non_empty(raw.date) {
        Some(d) => {
            Some(Date::parse(&d).ok_or_else(|| format!("bad date '{d}' (want YYYY-MM-DD)"))?)
        }
        None => None,
    };
    Ok(Item {
        id: raw.id.map(Id::into_string),
        title,
        source: non_empty(raw.source),
        author: non_empty(raw.author),
        date,
        url: non_empty(raw.url),
        summary: non_empty(raw.summary).filter(|s| !extraction::is_placeholder(s)),
        topics: strings(raw.topics).map(|t| t.to_lowercase()).collect(),
        claims: strings(raw.claims).collect(),
        quotes: strings(raw.quotes).map(|q| extraction::quote(&q)).collect(),
        threads: strings(raw.threads).collect(),
        text: raw
            .text
            .as_deref()
            .map(raw::paragraphs_of)
            .unwrap_or_default(),
    })
}

/// serde_json's message without its "at line 1 column N" tail (the line is ours to give).
fn json_reason(e: &serde_json::Error) -> String {
    let message = e.to_string();
    let position = format!(" at line {} column {}", e.line(), e.column());
    let reason = message.strip_suffix(&position).unwrap_or(&message);
    format!("invalid item: {reason} (column {})", e.column())
}

impl Id {
    fn into_string(self) -> String {
        match self {
            Id::Text(s) => s,
            Id::Number(n) => n.to_string(),
        }
    }
}

/// A trimmed string, `None` when empty.
fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// The trimmed, non-empty strings of an optional list.
fn strings(list: Option<Vec<String>>) -> impl Iterator<Item = String> {
    (list.unwrap_or_default().into_iter()).filter_map(|s| non_empty(Some(s)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> (Vec<(usize, Item)>, Vec<Warning>) {
        let mut warnings = Vec::new();
        (parse(text, &mut warnings), warnings)
    }

    #[test]
    fn a_full_line_fills_every_field() {
        let line = r#"{"id":"k-1","title":" Kites ","source":"Sky Blog","author":"Lee","date":"2022-08-09","url":"https://example.org/k","summary":"About kites.","topics":[" Wind-Power ","kites"],"claims":["Kites fly.",""],"quotes":["Up we go…","Done."],"threads":["Air"],"extra":{"x":1}}"#;
        let (items, warnings) = run(line);
        assert!(warnings.is_empty());
        let (no, item) = &items[0];
        assert_eq!(*no, 1);
        assert_eq!(
            (item.id.as_deref(), item.title.as_str()),
            (Some("k-1"), "Kites")
        );
        assert_eq!(item.date, Date::parse("2022-08-09"));
        assert_eq!(item.topics, ["wind-power", "kites"]);
        assert_eq!(item.claims, ["Kites fly."]);
        assert!(item.quotes[0].truncated && !item.quotes[1].truncated);
        assert_eq!(item.threads, ["Air"]);
        assert!(item.text.is_empty());
    }

    #[test]
    fn an_items_text_is_kept_as_paragraphs() {
        let line = r#"{"title":"T","text":"First  paragraph\nwraps here.\n\nSecond one.\n"}"#;
        let (items, _) = run(line);
        assert_eq!(
            items[0].1.text,
            ["First paragraph wraps here.", "Second one."]
        );
        let (items, warnings) = run(r#"{"title":"T","text":7}"#);
        assert!(items.is_empty() && warnings[0].message.contains("invalid type"));
    }

    #[test]
    fn only_the_title_is_required() {
        let (items, _) = run(r#"{"title":"Bare","summary":"(No summary yet — later)","id":7}"#);
        let item = &items[0].1;
        assert_eq!(
            (item.summary.as_ref(), item.id.as_deref()),
            (None, Some("7"))
        );
        assert_eq!(item.date, None);
        let (items, _) = run(r#"{"title":"Nulls","topics":null,"date":""}"#);
        assert!(items[0].1.topics.is_empty() && items[0].1.date.is_none());
    }

    #[test]
    fn bad_lines_are_reported_by_line_and_the_rest_are_kept() {
        let text = "{\"title\":\"one\"}\n\nnot json\n{\"title\":\"\"}\n{\"claims\":[]}\n\
            {\"title\":\"d\",\"date\":\"2021-02-30\"}\n{\"title\":\"t\",\"topics\":\"a,b\"}\n\
            [1,2]\n{\"title\":\"last\"}\n";
        let (items, warnings) = run(text);
        let nos: Vec<_> = items.iter().map(|(n, _)| *n).collect();
        assert_eq!(nos, [1, 9]);
        let lines: Vec<_> = warnings.iter().map(|w| w.line).collect();
        assert_eq!(lines, [3, 4, 5, 6, 7, 8].map(Some));
        assert!(
            warnings[0].message.starts_with("invalid item: expected"),
            "{warnings:?}"
        );
        assert!(!warnings[0].message.contains("line 1"));
        assert!(warnings[1].message.contains("title"));
        assert!(warnings[3].message.contains("bad date"));
        assert!(warnings[4].message.contains("invalid type"));
    }
}
