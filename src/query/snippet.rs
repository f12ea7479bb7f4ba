//! Snippets as plain text plus the byte ranges of matched terms, so each
//! renderer marks them its own way (`<b>` in JSON, colour on a terminal).

use std::ops::Range;

use serde::{Serialize, Serializer};

/// The best passage of a record's text and where the matched terms are in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snippet {
    /// The passage, with `…` where it cuts the text short.
    pub fragment: String,
    /// Byte ranges of matched terms in `fragment`, sorted and disjoint.
    pub highlighted: Vec<Range<usize>>,
}

const ELLIPSIS: &str = "…";

impl Snippet {
    /// Wraps Tantivy's snippet of `text`; when no term matched in the text
    /// (the record matched by title or topic), falls back to its beginning.
    pub(crate) fn new(found: tantivy::snippet::Snippet, text: &str, max_chars: usize) -> Snippet {
        if found.is_empty() {
            let end = text
                .char_indices()
                .nth(max_chars)
                .map_or(text.len(), |(i, _)| i);
            return Snippet::cut(text, 0..end, Vec::new());
        }
        let highlighted = tantivy::snippet::collapse_overlapped_ranges(found.highlighted());
        let range = found.fragment_range();
        if text.chars().count() <= max_chars {
            // A short record is shown whole, not cut at its last matched word.
            let whole = highlighted
                .iter()
                .map(|r| r.start + range.start..r.end + range.start);
            return Snippet::cut(text, 0..text.len(), whole.collect());
        }
        Snippet::cut(text, range, highlighted)
    }

    /// `text[range]` with ellipses where the range stops short of the text.
    fn cut(text: &str, range: Range<usize>, highlighted: Vec<Range<usize>>) -> Snippet {
        let prefix = if range.start > 0 { ELLIPSIS } else { "" };
        let suffix = if range.end < text.len() { ELLIPSIS } else { "" };
        let shift = prefix.len();
        Snippet {
            fragment: format!("{prefix}{}{suffix}", &text[range]),
            highlighted: highlighted
                .into_iter()
                .map(|r| r.start + shift..r.end + shift)
                .collect(),
        }
    }

    /// The fragment with matched terms in `<b>`…`</b>` and everything else
    /// HTML-escaped.
    pub fn to_html(&self) -> String {
        self.marked("<b>", "</b>", escape_html)
    }

    /// The fragment with each matched term between `open` and `close`, and
    /// every piece of text passed through `escape`.
    pub fn marked(&self, open: &str, close: &str, escape: impl Fn(&str) -> String) -> String {
        let mut out = String::with_capacity(self.fragment.len() + 16);
        let mut at = 0;
        for r in &self.highlighted {
            out.push_str(&escape(&self.fragment[at..r.start]));
            out.push_str(open);
            out.push_str(&escape(&self.fragment[r.clone()]));
            out.push_str(close);
            at = r.end;
        }
        out.push_str(&escape(&self.fragment[at..]));
        out
    }
}

impl Serialize for Snippet {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_html())
    }
}

/// Escapes the five HTML-special characters.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_text_and_marks_terms() {
        let s = Snippet {
            fragment: "a <b> & uniform convergence".into(),
            highlighted: std::iter::once(8..15).collect(),
        };
        assert_eq!(s.to_html(), "a &lt;b&gt; &amp; <b>uniform</b> convergence");
    }

    #[test]
    fn a_cut_passage_shows_ellipses_and_shifts_ranges() {
        let s = Snippet::cut("0123456789", 2..5, std::iter::once(1..2).collect());
        assert_eq!(s.fragment, "…234…");
        assert_eq!(&s.fragment[s.highlighted[0].clone()], "3");
    }
}
