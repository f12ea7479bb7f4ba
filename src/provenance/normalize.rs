//! What "the same words" means when a quote is looked up in raw text.
//!
//! Renderers change typography, not words: curly quotes become straight ones,
//! dashes change width and spacing, lines wrap anywhere, and a quoter
//! capitalises the first letter of a sentence lifted from the middle of one.
//! [`normalize`] undoes exactly those changes, on both sides. A quote becomes
//! a [`Needle`]: its pieces, in order. It is cut into pieces where it was
//! cut short (`...`, `…`) and between its sentences, since an extract may
//! leave out a sentence between two it keeps; each piece must occur verbatim
//! (after normalising), in the quote's order, starting and ending on word
//! boundaries (except where an ellipsis cut a word).
//!
//! Words (letter and digit runs, lowercased) also give each text its
//! [`WINDOW`]-word shingles, hashed: the matcher finds candidate texts by them
//! and then verifies by substring. An index on disk keeps only a text's
//! [`winnow`]ed shingles, about two in every [`SPARSE_SPAN`] + 1, which still
//! name every text that may hold a quote with a piece of at least
//! [`SPARSE_SPAN`] shingles.

use std::borrow::Cow;

/// Words in a shingle. A quote whose longest piece has fewer words is too
/// short to trace: three words in a row prove nothing about where they came from.
pub const WINDOW: usize = 3;

/// Renders `text` in the form quotes and raw text are compared in:
/// typographic quotes and apostrophes straight, every dash (and `--`) one `-`
/// with no space around it, `…` as `...`, runs of whitespace (line breaks,
/// tabs, no-break spaces) one space, ends trimmed.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.chars() {
        let c = match c {
            '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{00AB}' | '\u{00BB}'
            | '\u{2033}' | '\u{301D}' | '\u{301E}' | '\u{FF02}' => '"',
            '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2039}' | '\u{203A}'
            | '\u{2032}' | '\u{00B4}' | '`' | '\u{FF07}' => '\'',
            '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}' | '\u{2014}' | '\u{2015}'
            | '\u{2212}' | '\u{FE58}' | '\u{FE63}' | '\u{FF0D}' => '-',
            '\u{2026}' => {
                flush_space(&mut out, &mut pending_space);
                out.push_str("...");
                continue;
            }
            c if c.is_whitespace() => {
                pending_space = !out.is_empty();
                continue;
            }
            c => c,
        };
        if c == '-' {
            // A dash swallows the spaces around it, and a run of dashes is one.
            pending_space = false;
            if out.ends_with('-') {
                continue;
            }
        } else if out.ends_with('-') {
            pending_space = false;
        }
        flush_space(&mut out, &mut pending_space);
        out.push(c);
    }
    out
}

fn flush_space(out: &mut String, pending: &mut bool) {
    if *pending {
        out.push(' ');
        *pending = false;
    }
}

/// One run of a quote that must occur verbatim (normalised).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    /// The normalised text, without the quoter's trailing punctuation.
    pub text: String,
    /// An ellipsis came right before it: it may start inside a word.
    pub open_start: bool,
    /// An ellipsis comes right after it: it may end inside a word.
    pub open_end: bool,
}

/// A quote ready to be looked up: its pieces in order and the hashes of the
/// shingles made of its whole words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Needle {
    /// The pieces, in the quote's order.
    pub pieces: Vec<Piece>,
    /// Hashes of every [`WINDOW`]-word shingle of whole words in any piece:
    /// a raw text holding the quote holds all of them.
    pub shingles: Vec<u64>,
    /// The whole words of the longest piece, hashed: what a raw text read
    /// after the quote was written is checked for (see [`Fingerprint`]).
    pub fingerprint: Fingerprint,
}

/// The whole words of a quote's longest piece as one hash, with their first
/// shingle and their count: a raw text that holds the quote holds these words
/// in a row, so [`Haystack::holds_words`] names the texts that may hold it
/// with (almost) no false candidates, in 24 bytes a quote. Shingles alone
/// do not: generated and templated text shares many three-word runs with
/// quotes it does not hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fingerprint {
    /// The hash of the piece's first [`WINDOW`] words (a shingle).
    pub first: u64,
    /// How many whole words the piece has.
    pub len: u32,
    /// The [`run_hash`] of all of them.
    pub key: u64,
}

impl Needle {
    /// The needle of a quote as a page shows it, or `None` when the quote is
    /// too short to trace (no piece of [`WINDOW`] whole words).
    pub fn new(quote: &str) -> Option<Needle> {
        let pieces = pieces(&normalize(quote));
        let mut shingles = Vec::new();
        let mut fingerprint = None;
        let mut longest = 0;
        for piece in &pieces {
            let words = whole_words(piece);
            let own = hashes(&words);
            if words.len() > longest && !own.is_empty() {
                longest = words.len();
                fingerprint = Some(Fingerprint {
                    first: own[0],
                    len: words.len() as u32,
                    key: run_hash(&words),
                });
            }
            shingles.extend(own);
        }
        Some(Needle {
            fingerprint: fingerprint?,
            pieces,
            shingles: distinct(shingles),
        })
    }

    /// The [`winnow`]ed shingles of the pieces with at least [`SPARSE_SPAN`]
    /// shingles, sorted, each once: a raw text holding the quote has every
    /// one of them among its own winnowed shingles
    /// ([`Haystack::shingle_sets`]). Empty when no piece is that long.
    pub fn sparse_shingles(&self) -> Vec<u64> {
        let mut sparse = Vec::new();
        for piece in &self.pieces {
            let own = hashes(&whole_words(piece));
            if own.len() >= SPARSE_SPAN {
                sparse.extend(winnow(&own));
            }
        }
        distinct(sparse)
    }
}

/// The normalised quote cut at ellipses and between sentences; quote marks
/// around the whole and the quoter's final punctuation removed from each piece.
fn pieces(normalised: &str) -> Vec<Piece> {
    let parts: Vec<&str> = normalised.split("...").collect();
    let last = parts.len() - 1;
    let mut pieces = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        let sentences = sentences(part);
        let n = sentences.len();
        for (j, sentence) in sentences.into_iter().enumerate() {
            let text = trim_piece(sentence);
            if !text.chars().any(char::is_alphanumeric) {
                continue;
            }
            pieces.push(Piece {
                text: text.to_string(),
                open_start: i > 0 && j == 0,
                open_end: i < last && j + 1 == n,
            });
        }
    }
    pieces
}

/// Splits after `.`, `!` or `?` (and any closing quote mark) followed by a
/// space and a capital letter, a digit or an opening quote mark.
fn sentences(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if c != ' ' || i == 0 {
            continue;
        }
        let before = text[..i].trim_end_matches(['"', '\'', ')']);
        let ends = before.ends_with(['.', '!', '?']);
        let next = text[i + 1..].chars().next();
        let starts = next.is_some_and(|n| n.is_uppercase() || n.is_ascii_digit() || n == '"');
        if ends && starts && i > start {
            out.push(&text[start..i]);
            start = i + 1;
        }
    }
    if start < bytes.len() {
        out.push(&text[start..]);
    }
    out
}

/// A piece without surrounding spaces and quote marks and without the
/// sentence punctuation a quoter adds at its end.
fn trim_piece(text: &str) -> &str {
    let text = text.trim_matches([' ', '"', '\'']);
    let text = text.trim_end_matches(['.', ',', ';', ':', '!', '?', ' ', '"', '\'']);
    text.trim_start_matches([' ', '"', '\''])
}

/// The lowercase words of `text`: its letter and digit runs.
pub fn words(text: &str) -> Vec<Cow<'_, str>> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_alphanumeric(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push(lower(&text[s..i]));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push(lower(&text[s..]));
    }
    out
}

fn lower(word: &str) -> Cow<'_, str> {
    if word.chars().any(char::is_uppercase) {
        Cow::Owned(word.to_lowercase())
    } else {
        Cow::Borrowed(word)
    }
}

/// The words of a piece that are whole: not its first when an ellipsis may
/// have cut into it, nor its last for the same reason.
fn whole_words(piece: &Piece) -> Vec<Cow<'_, str>> {
    let mut words = words(&piece.text);
    if piece.open_end {
        words.pop();
    }
    if piece.open_start && !words.is_empty() {
        words.remove(0);
    }
    words
}

/// The hash of every [`WINDOW`]-word shingle of `words`, in order.
pub fn hashes<S: AsRef<str>>(words: &[S]) -> Vec<u64> {
    words.windows(WINDOW).map(shingle_hash).collect()
}

/// `hashes` sorted, each once.
fn distinct(mut hashes: Vec<u64>) -> Vec<u64> {
    hashes.sort_unstable();
    hashes.dedup();
    hashes
}

/// Consecutive shingles of which [`winnow`] keeps the least.
pub const SPARSE_SPAN: usize = 4;

/// Winnowing (Schleimer, Wilkerson and Aiken, 2003): the least hash of every
/// run of [`SPARSE_SPAN`] consecutive shingles (of all of them when there
/// are fewer), in order, each run's pick once. About 2 / (`SPARSE_SPAN` + 1)
/// of the shingles are kept, and whatever text holds a run of
/// `SPARSE_SPAN` shingles keeps that run's least one too: so a text holding
/// a quote keeps every winnowed shingle of each of the quote's pieces that
/// is at least that long.
pub fn winnow(shingles: &[u64]) -> Vec<u64> {
    let span = SPARSE_SPAN.min(shingles.len());
    let mut kept: Vec<u64> = Vec::with_capacity(shingles.len() * 2 / (SPARSE_SPAN + 1) + 1);
    let mut last = None;
    for (start, run) in shingles.windows(span.max(1)).enumerate() {
        // The rightmost least hash of the run, so that a pick stays picked
        // while the window slides over it.
        let (at, least) =
            (run.iter().enumerate()).fold(
                (0, u64::MAX),
                |best, (i, h)| if *h <= best.1 { (i, *h) } else { best },
            );
        if last != Some(start + at) {
            kept.push(least);
            last = Some(start + at);
        }
    }
    kept
}

/// The multiplier of [`run_hash`]: odd, so that powers of it never vanish.
const RUN_BASE: u64 = 0x9E37_79B9_7F4A_7C15;

/// A polynomial hash of a run of words (each by its one-word shingle hash), so
/// that the hash of any run inside a text follows from the text's prefix
/// hashes in constant time (see [`Haystack::holds_words`]).
pub fn run_hash<S: AsRef<str>>(words: &[S]) -> u64 {
    (words.iter()).fold(0u64, |h, word| {
        h.wrapping_mul(RUN_BASE)
            .wrapping_add(shingle_hash(std::slice::from_ref(word)))
    })
}

/// FNV-1a over the words with a separator: stable across runs and platforms
/// (the index stores these values).
fn shingle_hash<S: AsRef<str>>(words: &[S]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for word in words {
        for b in word.as_ref().bytes().chain([0x1f]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

/// Raw text in comparable form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Haystack {
    /// The normalised text.
    pub text: String,
}

impl Haystack {
    /// The paragraphs of a raw text, as one normalised text (a paragraph break
    /// is whitespace like any other).
    pub fn new<S: AsRef<str>>(paragraphs: &[S]) -> Haystack {
        let joined: Vec<&str> = paragraphs.iter().map(AsRef::as_ref).collect();
        Haystack {
            text: normalize(&joined.join("\n")),
        }
    }

    /// The hashes of the text's shingles.
    pub fn shingles(&self) -> Vec<u64> {
        hashes(&words(&self.text))
    }

    /// [`Haystack::shingles`] sorted, each once.
    pub fn distinct_shingles(&self) -> Vec<u64> {
        distinct(self.shingles())
    }

    /// [`Haystack::distinct_shingles`], and the [`winnow`]ed shingles sorted,
    /// each once: those an index on disk keeps.
    pub fn shingle_sets(&self) -> (Vec<u64>, Vec<u64>) {
        let shingles = self.shingles();
        let sparse = distinct(winnow(&shingles));
        (distinct(shingles), sparse)
    }

    /// For each word position of the text, whether the run of words starting
    /// there is one of `fingerprints`: calls `hit` with the index of every
    /// fingerprint whose words the text holds in a row. `fingerprints` must
    /// be sorted.
    pub fn holds_words(&self, fingerprints: &[Fingerprint], mut hit: impl FnMut(usize)) {
        let words = words(&self.text);
        let mut prefix = Vec::with_capacity(words.len() + 1);
        prefix.push(0u64);
        for word in &words {
            let last = *prefix.last().expect("not empty");
            let own = shingle_hash(std::slice::from_ref(word));
            prefix.push(last.wrapping_mul(RUN_BASE).wrapping_add(own));
        }
        // The hash of words[p..p + len], from the prefix hashes.
        let run = |p: usize, len: usize| {
            prefix[p + len].wrapping_sub(prefix[p].wrapping_mul(RUN_BASE.wrapping_pow(len as u32)))
        };
        for (p, first) in hashes(&words).into_iter().enumerate() {
            let start = fingerprints.partition_point(|f| f.first < first);
            let mut i = start;
            while i < fingerprints.len() && fingerprints[i].first == first {
                let len = fingerprints[i].len;
                let same_len =
                    fingerprints[i..].partition_point(|f| f.first == first && f.len == len);
                let group = &fingerprints[i..i + same_len];
                if p + len as usize <= words.len() {
                    let key = run(p, len as usize);
                    let from = group.partition_point(|f| f.key < key);
                    for j in (from..group.len()).take_while(|&j| group[j].key == key) {
                        hit(i + j);
                    }
                }
                i += same_len;
            }
        }
    }

    /// True when every piece of `needle` occurs in the text, in order, each
    /// on word boundaries (but where an ellipsis cut it), the first letter of
    /// each in either case.
    pub fn contains(&self, needle: &Needle) -> bool {
        let mut from = 0;
        for piece in &needle.pieces {
            match self.find(piece, from) {
                Some(end) => from = end,
                None => return false,
            }
        }
        true
    }

    /// The end of the first occurrence of `piece` at or after `from`.
    fn find(&self, piece: &Piece, from: usize) -> Option<usize> {
        let hay = &self.text;
        let mut chars = piece.text.chars();
        let first = chars.next()?;
        let rest = chars.as_str();
        let mut at = from;
        while let Some(i) = hay.get(at..)?.find(rest) {
            let rest_start = at + i;
            let end = rest_start + rest.len();
            let head = hay[..rest_start].chars().next_back();
            let start = rest_start - head.map_or(0, char::len_utf8);
            let first_ok = head.is_some_and(|h| same_letter(h, first));
            let start_ok = piece.open_start || !ends_in_word(&hay[..start]);
            let end_ok = piece.open_end || !starts_word(&hay[end..]);
            if first_ok && start_ok && end_ok {
                return Some(end);
            }
            at = rest_start + rest.chars().next().map_or(1, char::len_utf8);
        }
        None
    }
}

/// The same character, or the same letter in another case.
fn same_letter(a: char, b: char) -> bool {
    a == b || a.to_lowercase().eq(b.to_lowercase())
}

fn ends_in_word(text: &str) -> bool {
    text.chars().next_back().is_some_and(char::is_alphanumeric)
}

fn starts_word(text: &str) -> bool {
    text.chars().next().is_some_and(char::is_alphanumeric)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(quote: &str, raw: &str) -> bool {
        let needle = Needle::new(quote).expect("traceable");
        Haystack::new(&[raw]).contains(&needle)
    }

    #[test]
    fn typography_is_normalised_on_both_sides() {
        assert_eq!(normalize("“It’s” — said"), "\"It's\"-said");
        assert_eq!(normalize("a -- b – c—d"), "a-b-c-d");
        assert_eq!(normalize("  one\n\ttwo\u{00A0} three  "), "one two three");
        assert_eq!(normalize("wait…"), "wait...");
        assert_eq!(normalize("non-vacuous"), "non-vacuous");
    }

    #[test]
    fn curly_and_straight_quotes_and_apostrophes_match() {
        let raw = "He wrote that “the model’s capacity is latent” in every case.";
        assert!(found("\"the model's capacity is latent\"", raw));
        assert!(found("He wrote that \"the model's capacity", raw));
        // quote marks are typography, not noise: they must be there
        assert!(!found("The model's capacity is latent in every case.", raw));
    }

    #[test]
    fn dashes_of_any_width_and_spacing_match() {
        let raw = "By all the metrics – including both of them – it is too complex.";
        assert!(found(
            "By all the metrics -- including both of them -- it is too complex",
            raw
        ));
        assert!(found(
            "by all the metrics—including both of them—it is too complex",
            raw
        ));
    }

    #[test]
    fn line_breaks_and_runs_of_spaces_match_a_space() {
        let raw = ["the first paragraph ends here", "and the next one starts"];
        let needle = Needle::new("ends here and the next one").unwrap();
        assert!(Haystack::new(&raw).contains(&needle));
        assert!(found(
            "a quote that\nwraps  across\r\nlines",
            "so a quote that wraps across lines is fine"
        ));
    }

    #[test]
    fn the_first_letter_may_differ_in_case_but_nothing_else() {
        assert!(found(
            "Deep networks fit random labels.",
            "we saw that deep networks fit random labels"
        ));
        assert!(!found(
            "Deep networks fit RANDOM labels.",
            "we saw that deep networks fit random labels"
        ));
    }

    #[test]
    fn the_quoters_final_punctuation_is_not_required() {
        assert!(found(
            "cannot be simple in any useful sense.",
            "it cannot be simple in any useful sense, at least here"
        ));
        assert!(found(
            "easily fit random labels.",
            "summarized as: “Deep neural networks easily fit random labels”."
        ));
    }

    #[test]
    fn a_cut_short_quote_is_found_by_what_precedes_the_ellipsis() {
        let raw =
            "Yet not only were the networks performing better than other algorithms, they won.";
        assert!(found(
            "Yet not only were the networks performing better than other algorithms...",
            raw
        ));
        assert!(found("Yet not only were the networks perf…", raw));
        assert!(!found("Yet not only were the networks failing...", raw));
        // and the middle of a quote may be left out with an ellipsis
        assert!(found(
            "Yet not only were ... other algorithms, they won",
            raw
        ));
    }

    #[test]
    fn a_sentence_left_out_between_two_kept_ones_still_matches_in_order() {
        let raw = "It overfits the data. Nobody expected this result. Yet it generalises well.";
        assert!(found("It overfits the data. Yet it generalises well.", raw));
        assert!(!found(
            "Yet it generalises well. It overfits the data.",
            raw
        ));
    }

    #[test]
    fn matches_start_and_end_on_word_boundaries() {
        assert!(!found("fit random label", "they fit random labels"));
        assert!(!found("eep networks fit", "deep networks fit"));
        assert!(found("fit random labels", "(fit random labels)"));
    }

    #[test]
    fn a_quote_found_nowhere_is_not_found() {
        assert!(!found(
            "Generalization requires rethinking memorization.",
            "Understanding deep learning requires rethinking generalization."
        ));
    }

    #[test]
    fn too_short_quotes_are_not_traced() {
        assert_eq!(Needle::new("Yes."), None);
        assert_eq!(Needle::new("No way. Not so."), None);
        assert_eq!(Needle::new("... ..."), None);
        assert!(Needle::new("Not so fast.").is_some());
    }

    #[test]
    fn a_holder_of_the_quote_holds_its_shingles_and_its_words_in_a_row() {
        let raw = Haystack::new(&["As “Deep neural networks easily fit random labels”, we see."]);
        let needle = Needle::new("Deep neural networks easily fit random labels.").unwrap();
        let shingles = raw.shingles();
        assert!(needle.shingles.iter().all(|s| shingles.contains(s)));
        assert!(shingles.contains(&needle.fingerprint.first));
        assert_eq!(needle.shingles.len(), 5);
        assert_eq!(needle.fingerprint.len, 7);
        let mut hits = Vec::new();
        raw.holds_words(&[needle.fingerprint], |i| hits.push(i));
        assert_eq!(hits, [0]);
    }

    /// Every shingle of a quote may occur in a text that does not hold it:
    /// the fingerprint tells them apart.
    #[test]
    fn a_text_with_every_shingle_but_not_the_words_in_a_row_does_not_hold_them() {
        let needle = Needle::new("The cat sat on the mat.").unwrap();
        let raw = Haystack::new(&["The cat sat on the rug, and the dog sat on the mat."]);
        let shingles = raw.shingles();
        assert!(needle.shingles.iter().all(|s| shingles.contains(s)));
        let mut hits = Vec::new();
        raw.holds_words(&[needle.fingerprint], |i| hits.push(i));
        assert!(hits.is_empty());
        assert!(!raw.contains(&needle));
    }

    #[test]
    fn pieces_split_at_ellipses_and_sentences() {
        let needle = Needle::new("“One two three. Four five six… seven eight nine...”").unwrap();
        let texts: Vec<_> = needle.pieces.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(
            texts,
            ["One two three", "Four five six", "seven eight nine"]
        );
        let open: Vec<_> = (needle.pieces.iter())
            .map(|p| (p.open_start, p.open_end))
            .collect();
        assert_eq!(open, [(false, false), (false, true), (true, true)]);
    }

    /// A text keeps the winnowed shingles of every quote it holds, and
    /// about 2 / (SPARSE_SPAN + 1) of its own shingles.
    #[test]
    fn winnowing_keeps_every_held_quotes_sparse_shingles_and_few_others() {
        let words = [
            "kite", "wind", "the", "a", "storm", "steady", "flies", "calm",
        ];
        let mut next = crate::provenance::xorshift(0x9e37_79b9_7f4a_7c15);
        let text: Vec<&str> = (0..2000).map(|_| words[next(words.len())]).collect();
        let raw = Haystack::new(&[text.join(" ")]);
        let (all, sparse) = raw.shingle_sets();
        let every = raw.shingles().len() as f64;
        let kept = winnow(&raw.shingles()).len() as f64;
        let expected = 2.0 / (SPARSE_SPAN as f64 + 1.0);
        assert!((kept / every - expected).abs() < 0.1, "{kept} of {every}");
        assert!(sparse.len() < all.len());
        let mut checked = 0;
        for _ in 0..500 {
            let start = next(text.len() - 12);
            let len = next(10) + 3;
            let needle = Needle::new(&text[start..start + len].join(" ")).unwrap();
            assert!(raw.contains(&needle));
            let picked = needle.sparse_shingles();
            assert_eq!(picked.is_empty(), len < SPARSE_SPAN + WINDOW - 1, "{len}");
            assert!(picked.iter().all(|s| sparse.binary_search(s).is_ok()));
            checked += usize::from(!picked.is_empty());
        }
        assert!(checked > 300, "{checked}");
    }
}
