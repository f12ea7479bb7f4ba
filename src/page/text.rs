//! Line helpers shared by every page parser: numbered trimmed lines, headings, bullets,
//! `[n]` citation markers and whitespace cleanup.
//!
//! Renderers disagree about bullets, blank lines and spacing; these helpers absorb the
//! differences so the parsers can match on content alone. Nothing here slices a string at a
//! computed byte offset without checking that it is a char boundary.

use std::borrow::Cow;
use std::collections::HashSet;

use crate::model::{Cited, Date};

/// One line of a page, trimmed, with its 1-based line number (for warnings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Line<'a> {
    pub number: usize,
    pub text: &'a str,
}

/// Splits text into trimmed, numbered lines at LFs, keeping blank ones (as ""), like
/// [`str::lines`] (a final LF ends the last line; a CR before an LF is trimmed).
pub(crate) fn lines(text: &str) -> Vec<Line<'_>> {
    let mut lines = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        // An LF is ASCII: cutting at it and after it keeps to char boundaries.
        let (line, after) = match memchr::memchr(b'\n', rest.as_bytes()) {
            Some(at) => (&rest[..at], &rest[at + 1..]),
            None => (rest, ""),
        };
        lines.push(Line {
            number: lines.len() + 1,
            text: line.trim(),
        });
        rest = after;
    }
    lines
}

/// Turns CRLF and lone CR line endings into LF, so every parser sees one convention. Text
/// without a CR (the usual case) is returned as it is, uncopied.
pub(crate) fn normalize_newlines(text: &str) -> Cow<'_, str> {
    if memchr::memchr(b'\r', text.as_bytes()).is_some() {
        Cow::Owned(text.replace("\r\n", "\n").replace('\r', "\n"))
    } else {
        Cow::Borrowed(text)
    }
}

/// `line` without Markdown `#`s and a trailing colon (renderers add either): the line is the
/// heading `name` when this equals `name`, ignoring ASCII case. Computed once per line, it makes
/// checking several names cheap.
pub(crate) fn heading_text(line: &str) -> &str {
    let line = line.trim_start_matches('#').trim();
    line.strip_suffix(':').unwrap_or(line).trim_end()
}

/// The rest of `line` after `label` (compared ignoring ASCII case), trimmed.
pub(crate) fn strip_label<'a>(line: &'a str, label: &str) -> Option<&'a str> {
    let head = line.get(..label.len())?;
    head.eq_ignore_ascii_case(label)
        .then(|| line.get(label.len()..).map(str::trim))
        .flatten()
}

/// True for the tracker's own name, which some renderers print above every page.
pub(crate) fn is_site_header(line: &str) -> bool {
    let name = line.trim_start_matches('[').trim_end_matches(']').trim();
    name.eq_ignore_ascii_case("The Information Machine")
}

/// The text after a leading bullet (`•`, `-`, `*`, `1.`, `1)`) and the number of a numbered
/// one; `None` when the line has no bullet. A bullet must be followed by a space, so
/// `-5%` or `1.5x` are text.
pub(crate) fn split_bullet(line: &str) -> Option<(Option<u32>, &str)> {
    let line = line.trim_start();
    for mark in ['•', '-', '*', '–'] {
        if let Some(rest) = line.strip_prefix(mark) {
            return after_mark(rest).map(|r| (None, r));
        }
    }
    let digits = line.len() - line.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let n = line.get(..digits)?.parse().ok()?;
    let rest = line.get(digits..)?;
    let rest = rest.strip_prefix('.').or_else(|| rest.strip_prefix(')'))?;
    after_mark(rest).map(|r| (Some(n), r))
}

/// What follows a bullet mark: it must start with whitespace (or be empty).
fn after_mark(rest: &str) -> Option<&str> {
    let trimmed = rest.trim_start();
    (trimmed.len() < rest.len() || rest.is_empty()).then_some(trimmed)
}

/// `line` without its leading bullet, if it has one.
pub(crate) fn strip_bullet(line: &str) -> &str {
    split_bullet(line).map_or(line.trim(), |(_, rest)| rest.trim())
}

/// One entry of a list section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    /// The line the entry starts on.
    pub line: usize,
    /// The number of a numbered bullet (`3.`), if it had one.
    pub number: Option<u32>,
    /// The entry's text without its bullet, wrapped lines joined by a space.
    pub text: String,
}

/// The entries of a list section. A bulleted line starts an entry; an unbulleted line
/// continues the bulleted entry before it (a wrapped line), or is an entry of its own when
/// no bullet precedes it. Blank lines are skipped.
pub(crate) fn list_entries(lines: &[Line]) -> Vec<Entry> {
    let mut entries: Vec<Entry> = Vec::new();
    let mut open = false;
    for line in lines.iter().filter(|l| !l.text.is_empty()) {
        match (split_bullet(line.text), entries.last_mut()) {
            (None, Some(last)) if open => {
                last.text.push(' ');
                last.text.push_str(line.text);
            }
            (bullet, _) => {
                open = bullet.is_some();
                let (number, text) = bullet.unwrap_or((None, line.text));
                entries.push(Entry {
                    line: line.number,
                    number,
                    text: text.to_string(),
                });
            }
        }
    }
    entries
}

/// Collapses every run of whitespace to one space and trims the ends.
pub(crate) fn clean_ws(text: &str) -> String {
    if is_clean(text) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// True when [`clean_ws`] would return `text` unchanged: no whitespace but single ASCII
/// spaces between words. Written as whole-text scans that vectorise, not a char-by-char loop.
fn is_clean(text: &str) -> bool {
    let bytes = text.as_bytes();
    // Tab, LF, vertical tab, form feed, CR: the ASCII whitespace besides the space.
    let controls = (bytes.iter()).fold(false, |found, b| found | matches!(b, b'\t'..=b'\r'));
    let pairs = bytes.iter().zip(bytes.get(1..).unwrap_or_default());
    let doubled = pairs.fold(false, |found, (a, b)| found | (*a == b' ' && *b == b' '));
    let spaces_ok = !text.starts_with(' ') && !text.ends_with(' ') && !doubled;
    let unicode_ok = text.is_ascii() || !text.chars().any(|c| !c.is_ascii() && c.is_whitespace());
    !controls && spaces_ok && unicode_ok
}

/// [`clean_ws`] for a string already owned: returned as it is when there is nothing to clean.
pub(crate) fn clean_ws_owned(text: String) -> String {
    if is_clean(&text) {
        text
    } else {
        clean_ws(&text)
    }
}

/// True when a quote or title was cut short by the renderer (`...` or `…` at the end).
pub(crate) fn is_truncated(text: &str) -> bool {
    let text = text.trim_end();
    text.ends_with("...") || text.ends_with('…')
}

/// The letter/digit runs of `text`, as written: the words a vocabulary is built from.
pub(crate) fn raw_words(text: &str) -> impl Iterator<Item = &str> + '_ {
    let mut chars = text.char_indices();
    std::iter::from_fn(move || {
        let (start, _) = chars.find(|(_, c)| c.is_alphanumeric())?;
        let end = (chars.find(|(_, c)| !c.is_alphanumeric())).map_or(text.len(), |(i, _)| i);
        text.get(start..end)
    })
}

/// `word` in lowercase; borrowed when it is lowercase ASCII already (most words are).
pub(crate) fn lowercase(word: &str) -> Cow<'_, str> {
    if word
        .bytes()
        .all(|b| b.is_ascii() && !b.is_ascii_uppercase())
    {
        Cow::Borrowed(word)
    } else {
        Cow::Owned(word.to_lowercase())
    }
}

/// The `n` of a `[n]` marker at the start of `text`, and the text after it. Only the digits
/// are scanned, so a long run of unclosed `[` stays linear.
pub(crate) fn leading_cite(text: &str) -> Option<(u32, &str)> {
    let inner = text.strip_prefix('[')?;
    let digits = inner.len() - inner.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let rest = inner.get(digits..)?.strip_prefix(']')?;
    let n = inner
        .get(..digits)
        .filter(|d| !d.is_empty())?
        .parse()
        .ok()?;
    Some((n, rest))
}

/// Removes the `[n]` citation markers from `text`, keeping their numbers in order of first
/// appearance, without repeats. Brackets that hold anything but digits (`[PDF]`,
/// `[2103.04554]`) are text and stay.
pub(crate) fn extract_cites(text: &str) -> Cited {
    let mut out = String::with_capacity(text.len());
    let mut cites = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        let (before, from_bracket) = rest.split_at(open);
        out.push_str(before);
        match leading_cite(from_bracket) {
            Some((n, after)) => {
                cites.push(n);
                drop_space_before_punctuation(&mut out, after);
                rest = after;
            }
            None => {
                out.push('[');
                rest = &from_bracket[1..];
            }
        }
    }
    out.push_str(rest);
    Cited {
        text: clean_ws(&out),
        cites: first_appearances(cites),
    }
}

/// Citation numbers without repeats, each where it first appeared.
pub(crate) fn first_appearances(cites: impl IntoIterator<Item = u32>) -> Vec<u32> {
    let mut seen = HashSet::new();
    cites.into_iter().filter(|n| seen.insert(*n)).collect()
}

/// `foo [1], bar` must become `foo, bar`: when a removed marker is followed by punctuation,
/// the space that stood before the marker goes too.
fn drop_space_before_punctuation(out: &mut String, after: &str) {
    if after.starts_with([',', '.', ';', ':', ')', '!', '?']) {
        let kept = out.trim_end().len();
        out.truncate(kept);
    }
}

/// Splits `<YYYY-MM-DD><sep> rest` into the date and the rest; the separator (`:`, `—`, `-`,
/// or only spaces) is dropped.
pub(crate) fn leading_date(text: &str) -> Option<(Date, &str)> {
    let date = Date::parse(text.get(..10)?)?;
    let rest = text.get(10..)?.trim_start();
    let rest = rest.trim_start_matches([':', '—', '–', '-']).trim_start();
    Some((date, rest))
}

/// The file name without directories or extension: a raw page's fallback title.
pub(crate) fn file_stem(name: &str) -> &str {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    match base.rfind('.') {
        Some(dot) if dot > 0 => &base[..dot],
        _ => base,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_heading(line: &str, name: &str) -> bool {
        heading_text(line).eq_ignore_ascii_case(name)
    }

    fn words(text: &str) -> impl Iterator<Item = Cow<'_, str>> + '_ {
        raw_words(text).map(lowercase)
    }

    #[test]
    fn lines_are_trimmed_and_numbered_from_one() {
        let got = lines("  a \n\n\tb");
        assert_eq!(got.len(), 3);
        assert_eq!((got[0].number, got[0].text), (1, "a"));
        assert_eq!((got[1].number, got[1].text), (2, ""));
        assert_eq!((got[2].number, got[2].text), (3, "b"));
    }

    #[test]
    fn lines_split_like_str_lines() {
        for text in [
            "",
            "\n",
            "a",
            "a\n",
            "a\n\nb",
            "a\r\nb\r\n",
            " x \n\n",
            "é\nü",
        ] {
            let want: Vec<&str> = text.lines().map(str::trim).collect();
            let got: Vec<&str> = lines(text).iter().map(|l| l.text).collect();
            assert_eq!(got, want, "{text:?}");
        }
    }

    #[test]
    fn newlines_of_every_convention_become_lf() {
        assert_eq!(normalize_newlines("a\r\nb\rc\n"), "a\nb\nc\n");
    }

    #[test]
    fn headings_match_by_text_in_any_renderer() {
        assert!(is_heading("Key quotes", "key quotes"));
        assert!(is_heading("## Timeline:", "Timeline"));
        assert!(!is_heading("Timeline of events", "Timeline"));
        assert!(is_site_header("[The Information Machine]"));
        assert!(is_site_header("The Information Machine"));
    }

    #[test]
    fn labels_strip_case_insensitively_and_never_split_a_char() {
        assert_eq!(strip_label("Evolution:  grew", "evolution:"), Some("grew"));
        assert_eq!(strip_label("Evolu", "Evolution:"), None);
        assert_eq!(strip_label("Evolutio•n", "Evolution:"), None);
    }

    #[test]
    fn bullets_of_every_kind_are_stripped() {
        assert_eq!(strip_bullet("  • one"), "one");
        assert_eq!(strip_bullet("- two"), "two");
        assert_eq!(strip_bullet("* three"), "three");
        assert_eq!(split_bullet("12. four"), Some((Some(12), "four")));
        assert_eq!(split_bullet("3) five"), Some((Some(3), "five")));
        assert_eq!(strip_bullet("1.5x faster"), "1.5x faster");
        assert_eq!(strip_bullet("-5% drop"), "-5% drop");
        assert_eq!(strip_bullet("2019-01-01: x"), "2019-01-01: x");
        assert_eq!(split_bullet("plain"), None);
    }

    #[test]
    fn list_entries_join_wrapped_bullets_and_keep_bare_lines() {
        let text = "• first\n  wrapped on\n\n• second\n";
        let got: Vec<_> = (list_entries(&lines(text)).into_iter())
            .map(|e| (e.line, e.text))
            .collect();
        assert_eq!(got, [(1, "first wrapped on".into()), (4, "second".into())]);
        let bare = list_entries(&lines("one\n2. two\n"));
        assert_eq!((bare[0].number, bare[0].text.as_str()), (None, "one"));
        assert_eq!((bare[1].number, bare[1].text.as_str()), (Some(2), "two"));
    }

    #[test]
    fn citations_are_removed_and_listed_once_in_order() {
        let c = extract_cites("Birds sing.[3] Cats purr [1][3], dogs bark [2].");
        assert_eq!(c.text, "Birds sing. Cats purr, dogs bark.");
        assert_eq!(c.cites, vec![3, 1, 2]);
    }

    #[test]
    fn non_numeric_brackets_are_text() {
        let c = extract_cites("[PDF] A [2103.04554] B [] C [x1] [99999999999] end");
        assert_eq!(c.text, "[PDF] A [2103.04554] B [] C [x1] [99999999999] end");
        assert!(c.cites.is_empty());
        assert_eq!(extract_cites("dangling [12").text, "dangling [12");
        // Many unclosed brackets must not make extraction quadratic.
        let brackets = "[".repeat(200_000);
        assert_eq!(extract_cites(&brackets).text, brackets);
    }

    #[test]
    fn leading_dates_accept_several_separators() {
        let (d, rest) = leading_date("2020-02-29: leap [1]").unwrap();
        assert_eq!((d.to_string().as_str(), rest), ("2020-02-29", "leap [1]"));
        assert_eq!(leading_date("2021-03-04 — dash").unwrap().1, "dash");
        assert!(leading_date("2021-13-04: no").is_none());
        assert!(leading_date("short").is_none());
        assert!(leading_date("2021-03-0é: x").is_none());
    }

    #[test]
    fn truncation_and_stems() {
        assert!(is_truncated("and so on..."));
        assert!(is_truncated("and so on…"));
        assert!(!is_truncated("done."));
        assert_eq!(file_stem("dir/sub/post.v2.txt"), "post.v2");
        assert_eq!(file_stem(r"C:\x\.hidden"), ".hidden");
        assert_eq!(file_stem("plain"), "plain");
    }

    #[test]
    fn words_are_lowercase_alphanumeric_runs() {
        let w: Vec<_> = words("Zhang's CIFAR-10, ok").collect();
        assert_eq!(w, ["zhang", "s", "cifar", "10", "ok"]);
    }

    #[test]
    fn clean_ws_matches_split_and_join() {
        let cases = [
            "",
            " ",
            "a",
            "a b",
            " a b",
            "a b ",
            "a  b",
            "a\tb",
            "a\nb",
            "a\u{b}b",
            "a\u{1f}b",
            "a\u{a0}b",
            "caf\u{e9} \u{2014} ok",
            "x\u{3000}y\u{2009}z",
            "\u{85}lead",
            "trail\u{2028}",
            "\u{feff}bom stays",
        ];
        for case in cases {
            let want = case.split_whitespace().collect::<Vec<_>>().join(" ");
            assert_eq!(clean_ws(case), want, "{case:?}");
        }
    }
}
