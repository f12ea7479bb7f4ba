//! Raw item text (a blog post, a comment thread): no structure, so it is kept as passages,
//! one per paragraph, and every original word stays findable.

use super::text::{self, Line};
use crate::model::RawText;

/// A first line longer than this is prose, not a heading.
const MAX_TITLE_CHARS: usize = 120;

/// A line shorter than this is probably hard-wrapped.
const WRAP_WIDTH: usize = 100;

/// Parses raw text. The title is the first line when it reads as a heading (then it is not
/// a passage, unless it is the only text), else the file's name without extension.
pub(crate) fn parse(name: &str, lines: &[Line]) -> RawText {
    let first = lines.iter().position(|l| !l.text.is_empty());
    let heading = first.filter(|i| is_heading_line(lines[*i].text));
    let (title, body) = match heading {
        Some(i) => (
            text::clean_ws(lines[i].text),
            lines.get(i + 1..).unwrap_or_default(),
        ),
        None => (fallback_title(name), lines),
    };
    let mut passages = paragraphs(body);
    if passages.is_empty() && heading.is_some() {
        passages.push(title.clone());
    }
    RawText { title, passages }
}

/// Short, and not ending like a sentence or a lead-in.
fn is_heading_line(line: &str) -> bool {
    line.chars().count() <= MAX_TITLE_CHARS && !line.ends_with(['.', '?', '!', ':'])
}

fn fallback_title(name: &str) -> String {
    match text::file_stem(name) {
        "" => "untitled".to_string(),
        stem => stem.to_string(),
    }
}

/// The paragraphs of a text that has no heading (a JSON Lines item's `text`),
/// as [`parse`] cuts a raw page's body.
pub(crate) fn paragraphs_of(text: &str) -> Vec<String> {
    paragraphs(&text::lines(text))
}

/// One paragraph per non-blank line; but hard-wrapped text (blank lines between blocks of
/// mostly short lines) has one paragraph per block, its lines joined by a space.
fn paragraphs(lines: &[Line]) -> Vec<String> {
    let blocks: Vec<&[Line]> = (lines.split(|l| l.text.is_empty()))
        .filter(|b| !b.is_empty())
        .collect();
    if blocks.len() > 1 && mostly_short(lines) {
        let joined = blocks
            .iter()
            .map(|b| b.iter().map(|l| l.text).collect::<Vec<_>>());
        joined
            .map(|words| text::clean_ws(&words.join(" ")))
            .collect()
    } else {
        (lines.iter().filter(|l| !l.text.is_empty()))
            .map(|l| text::clean_ws(l.text))
            .collect()
    }
}

/// True when most non-blank lines are shorter than the usual wrap width.
fn mostly_short(lines: &[Line]) -> bool {
    let lengths: Vec<usize> = (lines.iter().filter(|l| !l.text.is_empty()))
        .map(|l| l.text.chars().count())
        .collect();
    let short = lengths.iter().filter(|n| **n < WRAP_WIDTH).count();
    short * 2 > lengths.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(name: &str, text: &str) -> RawText {
        parse(name, &text::lines(text))
    }

    #[test]
    fn a_short_first_line_is_the_title_and_not_a_passage() {
        let got = raw(
            "notes.txt",
            "A Field Guide to Moss\nMoss grows slowly.\nIt likes shade.\n",
        );
        assert_eq!(got.title, "A Field Guide to Moss");
        assert_eq!(got.passages, ["Moss grows slowly.", "It likes shade."]);
    }

    #[test]
    fn a_sentence_first_line_leaves_the_file_name_as_title() {
        let got = raw(
            "dir/comments-7.txt",
            "I disagree with the premise.\nSo do I!\n",
        );
        assert_eq!(got.title, "comments-7");
        assert_eq!(got.passages.len(), 2);
        let long = "word ".repeat(40);
        assert_eq!(raw("x.md", &long).title, "x");
    }

    #[test]
    fn hard_wrapped_blocks_become_one_passage_each() {
        let text = "Heading\n\nthe first paragraph\nwraps here\n\nthe second one\nwraps too\n";
        let got = raw("w.txt", text);
        assert_eq!(got.title, "Heading");
        assert_eq!(
            got.passages,
            ["the first paragraph wraps here", "the second one wraps too"]
        );
    }

    #[test]
    fn long_lines_with_blank_lines_stay_one_passage_per_line() {
        let long = "A long sentence that keeps going. ".repeat(5);
        let text = format!("{long}\n{long}\n\n{long}\n");
        assert_eq!(raw("l.txt", &text).passages.len(), 3);
    }

    #[test]
    fn a_lone_heading_is_also_the_only_passage() {
        let got = raw("h.txt", "Just this\n");
        assert_eq!((got.title.as_str(), got.passages.len()), ("Just this", 1));
        assert_eq!(raw("", "Is it?\n").title, "untitled");
    }
}
