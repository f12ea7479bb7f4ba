//! Parsers for the tracker's pages: bytes or text in, a [`Page`] and its warnings out.
//!
//! Pure and total: no I/O, no panics. A file either yields a page (possibly with
//! [`Warning`]s about parts that could not be read) or a [`Skip`] saying why it holds no
//! page at all. The kind of page is detected from its content, never from line numbers:
//! a `*.jsonl` name means JSON Lines; a `<title> · history` line followed by `Version N`,
//! a thread history page; the `Topics:` / `Extraction` / `Claims` / `Key quotes`
//! structure, an extraction page; anything else is raw text. A thread or extraction page too
//! damaged to parse falls back to raw text, so its words stay findable.

mod extraction;
mod jsonl;
mod limits;
mod raw;
mod text;
mod thread;
mod topics;

#[cfg(test)]
mod golden_tests;

use serde::{Deserialize, Serialize};

use crate::model::Page;

/// A parsed file: its page, and the problems that did not stop parsing.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    /// The page.
    pub page: Page,
    /// What could not be read, in file order (an encoding note comes first).
    pub warnings: Vec<Warning>,
}

/// A problem that did not stop parsing, e.g. a bad JSON Lines line or a non-UTF-8 file.
/// Reports name the file beside it (`ingest::FileWarning`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    /// The 1-based line it concerns, when it concerns one.
    pub line: Option<usize>,
    /// What went wrong, in a few words.
    pub message: String,
}

/// Why a file yields no page at all.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Skip {
    /// Nothing but whitespace.
    #[error("empty file")]
    Empty,
    /// NUL bytes: not a text page.
    #[error("binary file (contains NUL bytes)")]
    Binary,
}

impl Warning {
    pub(crate) fn at(line: usize, message: impl Into<String>) -> Warning {
        Warning {
            line: Some(line),
            message: message.into(),
        }
    }

    fn file(message: impl Into<String>) -> Warning {
        Warning {
            line: None,
            message: message.into(),
        }
    }
}

/// Parses a file's bytes. `name` is the file's name: a `.jsonl` extension selects JSON
/// Lines, and a raw page without a heading takes its name (without extension) as title.
///
/// A UTF-8 byte-order mark is dropped; bytes that are not UTF-8 are read as Windows-1252,
/// with a warning.
///
/// # Errors
///
/// [`Skip::Binary`] when the bytes hold a NUL; [`Skip::Empty`] when there is nothing but
/// whitespace.
pub fn parse_bytes(name: &str, bytes: &[u8]) -> Result<Parsed, Skip> {
    if memchr::memchr(0, bytes).is_some() {
        return Err(Skip::Binary);
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => parse_text(name, text),
        Err(_) => {
            let (text, _, _) = encoding_rs::WINDOWS_1252.decode(bytes);
            let mut parsed = parse_text(name, &text)?;
            let note = Warning::file("not valid UTF-8; decoded as Windows-1252");
            parsed.warnings.insert(0, note);
            Ok(parsed)
        }
    }
}

/// Parses text already decoded (a leading byte-order mark is still dropped); see
/// [`parse_bytes`].
///
/// # Errors
///
/// As [`parse_bytes`]: [`Skip::Binary`] for a NUL, [`Skip::Empty`] for whitespace only.
pub fn parse_str(name: &str, text: &str) -> Result<Parsed, Skip> {
    if memchr::memchr(0, text.as_bytes()).is_some() {
        return Err(Skip::Binary);
    }
    parse_text(name, text)
}

/// [`parse_str`] once the text is known to hold no NUL (Windows-1252 decodes none from bytes
/// without one), so that [`parse_bytes`] scans for it only once.
fn parse_text(name: &str, text: &str) -> Result<Parsed, Skip> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(Skip::Empty);
    }
    let text = text::normalize_newlines(text);
    let mut warnings = Vec::new();
    let mut page = detect_and_parse(name, &text, &mut warnings);
    limits::apply(&mut page, &mut warnings);
    Ok(Parsed { page, warnings })
}

/// Picks the parser by the file's name and content; a structured parser that gives up
/// leaves a warning and the raw reading.
fn detect_and_parse(name: &str, text: &str, warnings: &mut Vec<Warning>) -> Page {
    if is_jsonl(name) {
        return Page::Items(jsonl::parse(text, warnings));
    }
    let lines = text::lines(text);
    let (kind, page) = if thread::looks_like(&lines) {
        ("thread history", parse_thread(&lines, warnings))
    } else if extraction::looks_like(&lines) {
        let item = extraction::parse(&lines, warnings);
        ("extraction", item.map(Page::Extraction))
    } else {
        return Page::Raw(raw::parse(name, &lines));
    };
    page.unwrap_or_else(|| {
        let message = format!("looks like a {kind} page but could not be parsed; read as raw text");
        warnings.push(Warning::file(message));
        Page::Raw(raw::parse(name, &lines))
    })
}

/// A thread page, keeping its warnings only when it parses (a fallback has its own).
fn parse_thread(lines: &[text::Line], warnings: &mut Vec<Warning>) -> Option<Page> {
    let mut own = Vec::new();
    let page = thread::parse(lines, &mut own)?;
    warnings.append(&mut own);
    Some(Page::Thread(page))
}

/// True for a JSON Lines file, told by its name.
pub fn is_jsonl(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".jsonl")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(name: &str, bytes: &[u8]) -> Page {
        parse_bytes(name, bytes).unwrap().page
    }

    const EXTRACTION: &str = "Ferns at Dusk\nGarden Weekly · 2023-05-06\nExtraction\n\
        Topics: ferns\nClaims\n• Ferns like shade.\nKey quotes\nShade is good.\n";

    #[test]
    fn empty_and_binary_files_are_skipped() {
        assert_eq!(parse_bytes("a.txt", b""), Err(Skip::Empty));
        assert_eq!(parse_bytes("a.txt", b" \r\n\t\n"), Err(Skip::Empty));
        assert_eq!(parse_bytes("a.txt", b"\xEF\xBB\xBF\n"), Err(Skip::Empty));
        assert_eq!(parse_bytes("a.txt", b"text\0more"), Err(Skip::Binary));
        assert_eq!(parse_str("a.txt", "x\0"), Err(Skip::Binary));
        assert_eq!(Skip::Binary.to_string(), "binary file (contains NUL bytes)");
    }

    #[test]
    fn bom_and_crlf_do_not_change_the_result() {
        let plain = page("p.txt", EXTRACTION.as_bytes());
        let crlf = EXTRACTION.replace('\n', "\r\n");
        let with_bom = [b"\xEF\xBB\xBF".as_slice(), crlf.as_bytes()].concat();
        assert_eq!(page("p.txt", &with_bom), plain);
        assert_eq!(
            parse_str("p.txt", &format!("\u{feff}{crlf}")).unwrap().page,
            plain
        );
        assert!(matches!(plain, Page::Extraction(_)));
    }

    #[test]
    fn windows_1252_is_decoded_with_a_warning() {
        let parsed = parse_bytes("n.txt", b"Caf\xE9 notes\nA \x93quoted\x94 line.\n").unwrap();
        assert_eq!(parsed.warnings.len(), 1);
        assert_eq!(parsed.warnings[0].line, None);
        assert_eq!(
            parsed.warnings[0].message,
            "not valid UTF-8; decoded as Windows-1252"
        );
        let Page::Raw(raw) = parsed.page else {
            panic!("not raw")
        };
        assert_eq!(raw.title, "Café notes");
        assert_eq!(raw.passages, ["A \u{201c}quoted\u{201d} line."]);
    }

    #[test]
    fn kinds_are_detected_by_content_and_name() {
        let thread = "Intro text\nX · history\nVersion 3\nTensions\n- why?\n";
        assert!(matches!(page("t.txt", thread.as_bytes()), Page::Thread(_)));
        assert!(matches!(
            page("i.JSONL", b"{\"title\":\"a\"}\n"),
            Page::Items(_)
        ));
        // The same content under another name is not JSON Lines.
        assert!(matches!(
            page("i.txt", b"{\"title\":\"a\"}\n"),
            Page::Raw(_)
        ));
        assert!(matches!(page("r.txt", b"Hello\nworld.\n"), Page::Raw(_)));
    }

    #[test]
    fn damaged_structured_pages_fall_back_to_raw_text() {
        let thread = parse_bytes("t.txt", b"X \xC2\xB7 history\nVersion 2\nno sections\n").unwrap();
        assert!(matches!(thread.page, Page::Raw(_)));
        assert_eq!(thread.warnings.len(), 1, "{:?}", thread.warnings);
        let headless = "Extraction\nTopics: a\nClaims\n• c\nKey quotes\nq\n";
        let parsed = parse_bytes("e.txt", headless.as_bytes()).unwrap();
        let Page::Raw(raw) = parsed.page else {
            panic!("not raw")
        };
        assert_eq!(raw.title, "Extraction");
        assert!(parsed.warnings[0].message.contains("extraction"));
    }

    #[test]
    fn jsonl_warnings_carry_line_numbers() {
        let parsed = parse_bytes("x.jsonl", b"{\"title\":\"a\"}\r\n{oops\r\n").unwrap();
        assert_eq!(parsed.warnings.len(), 1);
        assert_eq!(parsed.warnings[0].line, Some(2));
    }

    /// A small deterministic generator, so the mangling test needs no dependency.
    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            self.0 >> 33
        }
    }

    #[test]
    fn mangled_pages_never_panic() {
        let thread = "The Information Machine\nT — x · history\nVersion 1\n\
            2024-01-02 03:04 UTC · 5 items\nNarrative\nA [1] b.[2]\nTimeline\n• 2020-01-01: e [1]\n\
            Perspectives\nN (V)\nview [2]\nEvolution: e\nTensions\n- t? [1]\nSources\n\
            1. [1] S — C (2020-01-01)\n- [2] S2 — A — B\n";
        let pages = [
            thread,
            EXTRACTION,
            "{\"title\":\"é\",\"quotes\":[\"q…\"]}\n",
        ];
        for (i, text) in pages.iter().enumerate() {
            let name = if i == 2 { "m.jsonl" } else { "m.txt" };
            for (cut, _) in text.char_indices() {
                let _ = parse_str(name, &text[..cut]);
            }
            let mut rng = Lcg(42 + i as u64);
            for _ in 0..2_000 {
                let mut bytes = text.as_bytes().to_vec();
                for _ in 0..=(rng.next() % 4) {
                    let at = (rng.next() as usize) % bytes.len();
                    bytes[at] = (rng.next() & 0xFF) as u8;
                }
                let _ = parse_bytes(name, &bytes);
            }
        }
    }
}
