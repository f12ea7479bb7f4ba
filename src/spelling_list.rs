//! The British spellings list (`src/spelling-variants.txt`, format in its
//! header) read into its words and prefixes, and the hash that places a
//! word in the lookup table. Shared, as the same source file, by the build
//! script, which writes the table into the program (nothing is parsed at
//! start-up), and by the tests, which check the table against it. Standard
//! library only, for the build script's sake.

/// Endings after `ROOT+is` of an `ise` entry.
const ISE_ENDINGS: &[&str] = &[
    "e", "es", "ed", "er", "ers", "ing", "ings", "ation", "ations", "ational", "able", "ability",
];
/// Endings after `ROOT+ys` of a `yse` entry (not `es`: `analyses` is also the
/// plural of `analysis`).
const YSE_ENDINGS: &[&str] = &["e", "ed", "er", "ers", "ing"];
/// British endings of an `re` entry, with their American forms.
const RE_ENDINGS: &[(&str, &str)] = &[
    ("re", "er"),
    ("res", "ers"),
    ("red", "ered"),
    ("ring", "ering"),
];
/// Endings after the doubled `l` of an `ll` entry.
const LL_ENDINGS: &[&str] = &["ed", "ing", "er", "ers"];

/// A list read: whole words (British, American), each British word once
/// (a later line wins), in the list's order; and prefixes, longest first.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Expanded {
    pub words: Vec<(String, String)>,
    pub prefixes: Vec<(String, String)>,
}

/// Reads a list in the format of `spelling-variants.txt`; an unknown class
/// or a line missing its words is an error naming the line.
#[cfg_attr(not(test), allow(dead_code))] // the build script's, and the tests'
pub(crate) fn expand(list: &str) -> Result<Expanded, String> {
    let mut words: Vec<(String, String)> = Vec::new();
    let mut prefixes = Vec::new();
    for (n, line) in list.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        let mut fields = line.split_whitespace();
        let Some(class) = fields.next() else {
            continue;
        };
        let roots: Vec<&str> = fields.collect();
        let bad = |why: &str| format!("line {}: {why}: {line}", n + 1);
        if roots.is_empty() {
            return Err(bad("no words after the class"));
        }
        if let Some(w) = roots
            .iter()
            .find(|w| !w.bytes().all(|b| b.is_ascii_lowercase()))
        {
            return Err(bad(&format!("'{w}' is not lowercase ASCII letters")));
        }
        let mut add = |british: String, american: String| words.push((british, american));
        match class {
            "ise" | "yse" => {
                let (from, to, endings) = match class {
                    "ise" => ("is", "iz", ISE_ENDINGS),
                    _ => ("ys", "yz", YSE_ENDINGS),
                };
                for root in &roots {
                    for ending in endings {
                        add(
                            format!("{root}{from}{ending}"),
                            format!("{root}{to}{ending}"),
                        );
                    }
                }
            }
            "re" => {
                for root in &roots {
                    for (british, american) in RE_ENDINGS {
                        add(format!("{root}{british}"), format!("{root}{american}"));
                    }
                }
            }
            "ll" => {
                for word in &roots {
                    for ending in LL_ENDINGS {
                        add(format!("{word}l{ending}"), format!("{word}{ending}"));
                    }
                }
            }
            "our" => {
                for root in &roots {
                    prefixes.push((format!("{root}our"), format!("{root}or")));
                }
            }
            "prefix" | "word" => {
                let [british, american] = roots.as_slice() else {
                    return Err(bad("expected a British and an American spelling"));
                };
                if class == "word" {
                    add(british.to_string(), american.to_string());
                } else {
                    prefixes.push((british.to_string(), american.to_string()));
                }
            }
            other => return Err(bad(&format!("unknown class '{other}'"))),
        }
    }
    // A later line wins: keep each British word's last pair, in order.
    let mut seen = std::collections::HashSet::new();
    let mut last_first: Vec<(String, String)> = Vec::with_capacity(words.len());
    for pair in words.into_iter().rev() {
        if seen.insert(pair.0.clone()) {
            last_first.push(pair);
        }
    }
    last_first.reverse();
    // The longest prefix decides (`hypoglycaem` before `glycaem`).
    prefixes.sort_by(|a: &(String, String), b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
    Ok(Expanded {
        words: last_first,
        prefixes,
    })
}

/// Where `word` starts its search in a table of a power of two slots (FNV-1a;
/// the same on the machine that builds and the one that runs).
pub(crate) fn slot_hash(word: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in word.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}
