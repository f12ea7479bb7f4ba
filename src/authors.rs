//! Bylines into people, and the folded names that find them.
//!
//! A page gives one byline as written (`Vaishnavh Nagarajan, J. Zico Kolter`); a reader
//! asks for one person (`Nagarajan`, `sebastien bubeck`). [`split_byline`] turns the byline
//! into its authors; [`fold`] and [`name_keys`] turn a name into the lowercased,
//! accent-free forms the index stores and a query is compared with. Pure: no I/O.

use std::cell::RefCell;
use std::collections::HashSet;

use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, RawTokenizer, TextAnalyzer, Token, TokenStream, Tokenizer,
};

/// Splits a byline into its authors, in byline order, without duplicates.
///
/// Authors are separated by commas, semicolons, middle dots, ` and ` and ` & `; `et al.`
/// names nobody and is dropped. A part after a comma that holds only initials or a suffix
/// (`Doe, J.`, `King, Jr.`) stays with the name before it. A part in parentheses, and a part
/// that reads as an affiliation (`Google Research`, `University of Toronto`) beside a person,
/// are not authors. One word (`LawrenceC`) is an author. A non-empty byline always yields at
/// least one author: when nothing else is left, the byline itself, cleaned of spaces (unless it
/// holds no letter or digit at all).
pub fn split_byline(byline: &str) -> Vec<String> {
    let cleaned = collapse_ws(&strip_parentheses(byline));
    let mut pieces: Vec<String> = Vec::new();
    for part in cleaned.split([';', '·']) {
        let part = strip_et_al(part);
        let mut commas: Vec<String> = Vec::new();
        for piece in part.split(',').map(str::trim) {
            match commas.last_mut() {
                Some(last) if is_initials(piece) || is_suffix(piece) => {
                    last.push_str(", ");
                    last.push_str(piece);
                }
                _ => commas.push(piece.to_string()),
            }
        }
        pieces.extend(commas.iter().flat_map(|c| split_conjunctions(c)));
    }
    let pieces: Vec<String> = (pieces.into_iter())
        .map(|p| trim_punctuation(&p).to_string())
        .filter(|p| !p.is_empty() && !is_et_al(p))
        .collect();
    let people = pieces.iter().filter(|p| !is_affiliation(p)).count();
    let mut authors: Vec<String> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    for piece in pieces {
        let dropped = people > 0 && is_affiliation(&piece);
        if !dropped && seen.insert(fold(&piece)) {
            authors.push(piece);
        }
    }
    let whole = collapse_ws(byline);
    if authors.is_empty() && whole.chars().any(char::is_alphanumeric) {
        authors.push(whole);
    }
    authors
}

/// A name as the index stores it and a query is compared with: accents folded to ASCII
/// (`Sébastien` → `sebastien`, `Gödel` → `godel`), lowercased, periods read as spaces
/// (`J.Doe` → `j doe`), runs of whitespace made one space.
pub fn fold(name: &str) -> String {
    if name.is_ascii() {
        return fold_ascii(name);
    }
    fold_any(name)
}

/// [`fold`] of ASCII text, where folding accents changes nothing: lowercased
/// words between whitespace and periods, one space apart, in one pass (most
/// bylines are ASCII, and every record of a page folds its byline's names).
fn fold_ascii(name: &str) -> String {
    let mut folded = String::with_capacity(name.len());
    let words = name.split(|c: char| c == '.' || c.is_whitespace());
    for word in words.filter(|w| !w.is_empty()) {
        if !folded.is_empty() {
            folded.push(' ');
        }
        folded.extend(word.chars().map(|c| c.to_ascii_lowercase()));
    }
    folded
}

/// [`fold`] of any text, through Tantivy's lowercasing and ASCII folding.
fn fold_any(name: &str) -> String {
    thread_local! {
        static FOLDER: RefCell<TextAnalyzer> = RefCell::new(
            TextAnalyzer::builder(RawTokenizer::default())
                .filter(LowerCaser)
                .filter(AsciiFoldingFilter)
                .build(),
        );
    }
    let dotless = name.replace('.', " ");
    let spaced = collapse_ws(&dotless);
    let folded = FOLDER.with(|folder| {
        let mut folder = folder.borrow_mut();
        let mut stream = folder.token_stream(&spaced);
        let mut out = String::new();
        while let Some(token) = stream.next() {
            out.push_str(&token.text);
        }
        out
    });
    collapse_ws(&folded)
}

/// The folded forms by which one author is found: the full name, and the last name alone
/// (with its particle, `van der Waals`, as well as without it). For `Doe, J.` the last name
/// is `Doe`; a suffix (`Jr.`, `III`) is never the last name. Deduplicated, full name first.
pub fn name_keys(author: &str) -> Vec<String> {
    let mut keys = vec![fold(author)];
    let surname = match author.split_once(',') {
        Some((surname, _)) => surname.trim(),
        None => author.trim(),
    };
    let words: Vec<&str> = surname.split_whitespace().collect();
    let Some(last) = words.iter().rposition(|w| !is_suffix(w)) else {
        return keys;
    };
    let mut first = last;
    while first > 0 && is_particle(words[first - 1]) {
        first -= 1;
    }
    for start in [last, first] {
        let key = fold(&words[start..=last].join(" "));
        if !key.is_empty() && !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys
}

/// The folded keys of every author of a byline: what the index's author field holds for it,
/// along with the folded byline itself (so the whole byline still finds its records).
pub fn byline_keys(byline: &str, authors: &[String]) -> Vec<String> {
    let mut seen = HashSet::new();
    let all = std::iter::once(fold(byline)).chain(authors.iter().flat_map(|a| name_keys(a)));
    all.filter(|k| !k.is_empty() && seen.insert(k.clone()))
        .collect()
}

/// The tokenizer of the index's author field: a value becomes the one token [`fold`] makes of
/// it (none when that is empty). Indexing and the query parser (`author:"Sébastien Bubeck"`)
/// both read the field through it, so the two sides always fold alike.
#[derive(Clone, Default)]
pub struct NameTokenizer {
    token: Token,
}

/// The stream of a [`NameTokenizer`]: at most one token.
pub struct NameTokenStream<'a> {
    token: &'a mut Token,
    pending: bool,
}

impl Tokenizer for NameTokenizer {
    type TokenStream<'a> = NameTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &str) -> NameTokenStream<'a> {
        self.token.reset();
        self.token.position = 0;
        self.token.position_length = 1;
        self.token.offset_from = 0;
        self.token.offset_to = text.len();
        self.token.text = fold(text);
        let pending = !self.token.text.is_empty();
        NameTokenStream {
            token: &mut self.token,
            pending,
        }
    }
}

impl TokenStream for NameTokenStream<'_> {
    fn advance(&mut self) -> bool {
        std::mem::take(&mut self.pending)
    }

    fn token(&self) -> &Token {
        self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        self.token
    }
}

/// Removes every `( … )` group (an affiliation or a role: `Jane Doe (MIT)`); an unclosed
/// parenthesis is kept as written.
fn strip_parentheses(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut depth = 0usize;
    let mut pending = String::new();
    for c in text.chars() {
        match c {
            '(' => {
                depth += 1;
                pending.push(c);
            }
            ')' if depth > 0 => {
                depth -= 1;
                pending.push(c);
                if depth == 0 {
                    pending.clear();
                    out.push(' ');
                }
            }
            _ if depth > 0 => pending.push(c),
            _ => out.push(c),
        }
    }
    out.push_str(&pending);
    out
}

fn collapse_ws(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `part` without a trailing `et al.` (`Zhang et al.`, `Zhang, et al`, `Zhang et. al.`).
fn strip_et_al(part: &str) -> &str {
    let trimmed = part.trim_end();
    let lower = trimmed.to_ascii_lowercase();
    for tail in ["et al.", "et al", "et. al.", "et. al", "et al.,"] {
        if let Some(head) = lower.strip_suffix(tail) {
            let ends_word = head.is_empty() || head.ends_with([' ', ',']);
            if ends_word {
                // `lower` is `trimmed` with ASCII letters lowered: the same byte offsets.
                return trimmed[..head.len()].trim_end().trim_end_matches(',');
            }
        }
    }
    part
}

fn is_et_al(piece: &str) -> bool {
    let lower = piece.to_ascii_lowercase();
    let compact: String = lower.chars().filter(|c| !matches!(c, '.' | ' ')).collect();
    compact == "etal"
}

/// Splits at ` and ` and ` & ` (and drops a leading `and ` left by `A, B, and C`).
fn split_conjunctions(piece: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for word in piece.split_whitespace() {
        if word == "&" || word.eq_ignore_ascii_case("and") {
            if !current.is_empty() {
                out.push(current.join(" "));
                current.clear();
            }
        } else {
            current.push(word);
        }
    }
    if !current.is_empty() {
        out.push(current.join(" "));
    }
    out
}

/// Stray punctuation around a piece (`Doe;`, `"LawrenceC"`), but not a name's own final
/// period (`Doe, J.`).
fn trim_punctuation(piece: &str) -> &str {
    piece
        .trim_matches(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | ':' | '"' | '“' | '”'))
}

/// Only initials: `J.`, `J. K.`, `JK`, `J.-P.`, `A.B.` (at most two letters without a dot, so
/// `MIT` is not initials).
fn is_initials(piece: &str) -> bool {
    let words: Vec<&str> = piece.split_whitespace().collect();
    !words.is_empty()
        && words.iter().all(|w| {
            let letters: Vec<char> = w.chars().filter(|c| !matches!(c, '.' | '-')).collect();
            let upper = !letters.is_empty() && letters.iter().all(|c| c.is_uppercase());
            upper && (w.contains('.') || letters.len() <= 2)
        })
}

/// A generational or academic suffix that belongs to the name before it.
fn is_suffix(word: &str) -> bool {
    const SUFFIXES: [&str; 9] = ["jr", "sr", "ii", "iii", "iv", "phd", "md", "esq", "2nd"];
    let bare: String = (word.chars())
        .filter(|c| *c != '.')
        .collect::<String>()
        .to_ascii_lowercase();
    SUFFIXES.contains(&bare.as_str())
}

/// A lowercase particle of a last name (`van`, `de`, `von der`).
fn is_particle(word: &str) -> bool {
    const PARTICLES: [&str; 18] = [
        "van", "von", "de", "der", "den", "da", "di", "du", "del", "della", "des", "dos", "das",
        "la", "le", "ter", "ten", "bin",
    ];
    PARTICLES.contains(&word)
}

/// A piece that names an institution rather than a person.
fn is_affiliation(piece: &str) -> bool {
    const WORDS: [&str; 22] = [
        "university",
        "institute",
        "institut",
        "college",
        "school",
        "laboratory",
        "laboratories",
        "lab",
        "labs",
        "research",
        "inc",
        "ltd",
        "llc",
        "gmbh",
        "department",
        "dept",
        "center",
        "centre",
        "foundation",
        "academy",
        "hospital",
        "faculty",
    ];
    piece.split_whitespace().count() > 1
        && piece.split_whitespace().any(|w| {
            let bare = w
                .trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase();
            WORDS.contains(&bare.as_str()) || bare.starts_with("universit")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every byline with the authors it must give.
    const BYLINES: &[(&str, &[&str])] = &[
        // One person, one handle.
        ("LawrenceC", &["LawrenceC"]),
        ("Andrew Gordon Wilson", &["Andrew Gordon Wilson"]),
        ("@karpathy", &["@karpathy"]),
        ("  gwern  ", &["gwern"]),
        // Commas.
        (
            "Vaishnavh Nagarajan, J. Zico Kolter",
            &["Vaishnavh Nagarajan", "J. Zico Kolter"],
        ),
        (
            "Zitong Yang, Yu Bai, Song Mei",
            &["Zitong Yang", "Yu Bai", "Song Mei"],
        ),
        (
            "Mikhail Belkin, Daniel Hsu, Siyuan Ma, Soumik Mandal",
            &["Mikhail Belkin", "Daniel Hsu", "Siyuan Ma", "Soumik Mandal"],
        ),
        ("Yu Bai,Song Mei", &["Yu Bai", "Song Mei"]),
        // Semicolons and middle dots.
        (
            "Ada Lovelace; Charles Babbage",
            &["Ada Lovelace", "Charles Babbage"],
        ),
        ("Doe, J.; Roe, R. K.", &["Doe, J.", "Roe, R. K."]),
        ("Kim Lee · Sam Park", &["Kim Lee", "Sam Park"]),
        // "and", "&", and the serial comma.
        (
            "Vaishnavh Nagarajan and J. Zico Kolter",
            &["Vaishnavh Nagarajan", "J. Zico Kolter"],
        ),
        (
            "Jamie Simon & Daniel Kunin",
            &["Jamie Simon", "Daniel Kunin"],
        ),
        (
            "Ann Ito, Bo Chen, and Cy Diaz",
            &["Ann Ito", "Bo Chen", "Cy Diaz"],
        ),
        (
            "Ann Ito, Bo Chen & Cy Diaz",
            &["Ann Ito", "Bo Chen", "Cy Diaz"],
        ),
        (
            "Sandra Anderson AND Mia Andrews",
            &["Sandra Anderson", "Mia Andrews"],
        ),
        // et al.
        ("Zhang et al.", &["Zhang"]),
        ("Chiyuan Zhang, et al", &["Chiyuan Zhang"]),
        ("Simon et. al.", &["Simon"]),
        (
            "Chiyuan Zhang, Samy Bengio, et al.",
            &["Chiyuan Zhang", "Samy Bengio"],
        ),
        ("et al.", &["et al."]),
        // Surname, initials: one person.
        ("Feldman, V.", &["Feldman, V."]),
        ("Dziugaite, G. K.", &["Dziugaite, G. K."]),
        (
            "Nagarajan, V., Kolter, J. Z.",
            &["Nagarajan, V.", "Kolter, J. Z."],
        ),
        ("Roy, DM", &["Roy, DM"]),
        ("Lefèvre, J.-P.", &["Lefèvre, J.-P."]),
        ("Martin Luther King, Jr.", &["Martin Luther King, Jr."]),
        // Accents are kept as written.
        (
            "Sébastien Bubeck, Ronen Eldan",
            &["Sébastien Bubeck", "Ronen Eldan"],
        ),
        (
            "Gintare Karolina Dziugaitė",
            &["Gintare Karolina Dziugaitė"],
        ),
        (
            "Łukasz Kaiser & Noam Shazeer",
            &["Łukasz Kaiser", "Noam Shazeer"],
        ),
        (
            "José Ángel Núñez, Zoë Ødegård",
            &["José Ángel Núñez", "Zoë Ødegård"],
        ),
        // Affiliations are not people.
        ("Vitaly Feldman, Google Research", &["Vitaly Feldman"]),
        (
            "Jane Doe, Dept. of Physics, University of Oxford",
            &["Jane Doe"],
        ),
        ("Pierfrancesco Urbani (CNRS)", &["Pierfrancesco Urbani"]),
        ("Ann Ito (MIT, CSAIL) and Bo Chen", &["Ann Ito", "Bo Chen"]),
        ("Stanford University", &["Stanford University"]),
        // Duplicates and stray punctuation.
        ("Ann Ito, ann ito", &["Ann Ito"]),
        ("Ann Ito,, ; Bo Chen;", &["Ann Ito", "Bo Chen"]),
        ("\"LawrenceC\"", &["LawrenceC"]),
        ("Ludwig van Beethoven", &["Ludwig van Beethoven"]),
    ];

    #[test]
    fn bylines_split_into_their_authors() {
        assert!(BYLINES.len() >= 30);
        for (byline, expected) in BYLINES {
            assert_eq!(split_byline(byline), *expected, "byline {byline:?}");
        }
    }

    #[test]
    fn an_empty_byline_has_no_author() {
        assert!(split_byline("").is_empty());
        assert!(split_byline("  ;, ").is_empty());
    }

    #[test]
    fn a_non_empty_byline_always_keeps_someone() {
        for byline in ["et al.", "(anonymous)", "and", "Ann (Ito"] {
            assert!(!split_byline(byline).is_empty(), "{byline:?}");
        }
    }

    #[test]
    fn ascii_names_fold_as_any_name_does() {
        let names = [
            "J.Z. Kolter",
            "  Doe,\tJ.  ",
            "van der Waals, J. D.",
            "A.B.C.",
            "...",
            "",
            "O'Neil\r\nSmith\x0b\x0cJr.",
            "MIT CSAIL",
        ];
        for name in names {
            assert_eq!(fold_ascii(name), fold_any(name), "{name:?}");
        }
    }

    #[test]
    fn folding_ignores_case_accents_periods_and_spacing() {
        assert_eq!(fold("Sébastien Bubeck"), "sebastien bubeck");
        assert_eq!(fold("Sebastien  BUBECK "), "sebastien bubeck");
        assert_eq!(
            fold("Gintare Karolina Dziugaitė"),
            "gintare karolina dziugaite"
        );
        assert_eq!(fold("Łukasz Kaiser"), "lukasz kaiser");
        assert_eq!(fold("Zoë Ødegård"), "zoe odegard");
        assert_eq!(fold("J. Zico Kolter"), "j zico kolter");
        assert_eq!(fold("J.Z. Kolter"), fold("J. Z. Kolter"));
        assert_eq!(fold(""), "");
    }

    #[test]
    fn an_author_is_found_by_full_name_or_last_name() {
        assert_eq!(
            name_keys("Vaishnavh Nagarajan"),
            ["vaishnavh nagarajan", "nagarajan"]
        );
        assert_eq!(
            name_keys("Sébastien Bubeck"),
            ["sebastien bubeck", "bubeck"]
        );
        assert_eq!(name_keys("J. Zico Kolter"), ["j zico kolter", "kolter"]);
        assert_eq!(name_keys("LawrenceC"), ["lawrencec"]);
        assert_eq!(
            name_keys("Dziugaite, G. K."),
            ["dziugaite, g k", "dziugaite"]
        );
        assert_eq!(
            name_keys("Martin Luther King Jr."),
            ["martin luther king jr", "king"]
        );
        assert_eq!(
            name_keys("Johannes Diderik van der Waals"),
            ["johannes diderik van der waals", "waals", "van der waals"]
        );
    }

    #[test]
    fn the_name_tokenizer_gives_one_folded_token() {
        let mut analyzer = TextAnalyzer::from(NameTokenizer::default());
        let tokens = |analyzer: &mut TextAnalyzer, text: &str| {
            let mut stream = analyzer.token_stream(text);
            let mut out = Vec::new();
            while let Some(token) = stream.next() {
                out.push(token.text.clone());
            }
            out
        };
        assert_eq!(
            tokens(&mut analyzer, "Sébastien  Bubeck"),
            ["sebastien bubeck"]
        );
        assert_eq!(tokens(&mut analyzer, "J. Zico Kolter"), ["j zico kolter"]);
        assert!(tokens(&mut analyzer, " . ").is_empty());
    }

    #[test]
    fn a_byline_is_found_whole_and_by_each_author() {
        let byline = "Vaishnavh Nagarajan, J. Zico Kolter";
        let keys = byline_keys(byline, &split_byline(byline));
        assert_eq!(
            keys,
            [
                "vaishnavh nagarajan, j zico kolter",
                "vaishnavh nagarajan",
                "nagarajan",
                "j zico kolter",
                "kolter"
            ]
        );
        assert!(byline_keys("", &[]).is_empty());
    }
}
