//! A thread as a story over its saved versions: what each version held, and what came and
//! went between one version and the next.
//!
//! Pure: the saved versions come in (from parsed pages or from the index), a [`History`]
//! goes out. A record is *the same record* in two versions when its kind and its normalised
//! text ([`normalise`]) are the same; its number on the page and its citations may change.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::model::{Date, Kind, Record};

/// The kinds a thread history page holds, in page order.
pub const THREAD_KINDS: [Kind; 4] = [
    Kind::Narrative,
    Kind::Event,
    Kind::Perspective,
    Kind::Tension,
];

/// One saved version of a thread, as the history is computed from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedVersion {
    /// The version number (`Version N`).
    pub version: u32,
    /// The version's date, when the page gives one.
    pub date: Option<Date>,
    /// The page, relative to the corpus root.
    pub path: String,
    /// The version's records: kind and text, in page order.
    pub records: Vec<(Kind, String)>,
}

impl SavedVersion {
    /// A version from the records of one thread page (as [`crate::model::Page::records`]
    /// makes them); records of other kinds are ignored.
    pub fn from_records(version: u32, date: Option<Date>, path: &str, records: &[Record]) -> Self {
        SavedVersion {
            version,
            date,
            path: path.to_string(),
            records: (records.iter())
                .filter(|r| THREAD_KINDS.contains(&r.kind))
                .map(|r| (r.kind, r.text.clone()))
                .collect(),
        }
    }
}

/// A thread's history: its versions, oldest first, and the changes between consecutive ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct History {
    /// The thread's title.
    pub thread: String,
    /// Every saved version, by version number (then path).
    pub versions: Vec<VersionSummary>,
    /// What changed from each version to the next: one entry fewer than `versions`.
    pub changes: Vec<Change>,
}

/// One version in a [`History`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VersionSummary {
    /// The version number.
    pub version: u32,
    /// The version's date, if the page gives one.
    pub date: Option<Date>,
    /// The page, relative to the corpus root.
    pub path: String,
    /// How many records of each thread kind the version holds (every thread kind is listed,
    /// `0` when absent).
    pub records: BTreeMap<Kind, usize>,
}

/// What changed between two consecutive saved versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Change {
    /// The older version's number.
    pub from: u32,
    /// The newer version's number.
    pub to: u32,
    /// Records of the newer version that the older did not hold, by kind, with their text
    /// (kinds without any are left out).
    pub added: BTreeMap<Kind, Vec<String>>,
    /// Records of the older version that the newer no longer holds, by kind.
    pub removed: BTreeMap<Kind, Vec<String>>,
    /// Records both versions hold.
    pub kept: usize,
}

impl Change {
    /// How many records were added, over all kinds.
    pub fn added_count(&self) -> usize {
        self.added.values().map(Vec::len).sum()
    }

    /// How many records were removed, over all kinds.
    pub fn removed_count(&self) -> usize {
        self.removed.values().map(Vec::len).sum()
    }
}

/// The history of a thread from its saved versions, in any order. Versions are sorted by
/// number (then path); each is compared with the one before it.
pub fn history(thread: &str, mut versions: Vec<SavedVersion>) -> History {
    versions.sort_by(|a, b| (a.version, &a.path).cmp(&(b.version, &b.path)));
    let changes = versions.windows(2).map(|w| change(&w[0], &w[1])).collect();
    History {
        thread: thread.to_string(),
        versions: versions.iter().map(summary).collect(),
        changes,
    }
}

fn summary(version: &SavedVersion) -> VersionSummary {
    let mut records: BTreeMap<Kind, usize> = THREAD_KINDS.iter().map(|k| (*k, 0)).collect();
    for (kind, _) in &version.records {
        *records.entry(*kind).or_default() += 1;
    }
    VersionSummary {
        version: version.version,
        date: version.date,
        path: version.path.clone(),
        records,
    }
}

/// The records of `new` not in `old` (added), of `old` not in `new` (removed), and how many
/// both hold. A text held twice by one version counts twice: the comparison is of multisets.
fn change(old: &SavedVersion, new: &SavedVersion) -> Change {
    let (added, kept) = difference(&new.records, &old.records);
    let (removed, _) = difference(&old.records, &new.records);
    Change {
        from: old.version,
        to: new.version,
        added,
        removed,
        kept,
    }
}

/// The records of `these` not matched by one of `those`, by kind, in order; and how many
/// were matched.
fn difference(
    these: &[(Kind, String)],
    those: &[(Kind, String)],
) -> (BTreeMap<Kind, Vec<String>>, usize) {
    let mut available: HashMap<(Kind, String), usize> = HashMap::new();
    for (kind, text) in those {
        *available.entry((*kind, normalise(text))).or_default() += 1;
    }
    let mut missing: BTreeMap<Kind, Vec<String>> = BTreeMap::new();
    let mut matched = 0;
    for (kind, text) in these {
        match available.get_mut(&(*kind, normalise(text))) {
            Some(n) if *n > 0 => {
                *n -= 1;
                matched += 1;
            }
            _ => missing.entry(*kind).or_default().push(text.clone()),
        }
    }
    (missing, matched)
}

/// A record's text as compared across versions: lowercased, curly quotes and apostrophes
/// made straight, dashes made `-`, runs of whitespace made one space, trimmed. What a
/// renderer changes between saves does not make a new record; a changed word does.
pub fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        for c in word.chars() {
            match c {
                '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{2032}' => out.push('\''),
                '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{2033}' => out.push('"'),
                '\u{2010}'..='\u{2015}' | '\u{2212}' => out.push('-'),
                c => out.extend(c.to_lowercase()),
            }
        }
    }
    out
}

/// A thread's slug: its title folded to lowercase ASCII, every run of other characters made
/// one `-` (`Deep Learning Theory Is Broken — And Maybe Unfixable` →
/// `deep-learning-theory-is-broken-and-maybe-unfixable`). A thread is asked for by title or by
/// slug; both give the same slug.
pub fn slug(title: &str) -> String {
    let folded = crate::authors::fold(title);
    let words: Vec<&str> = folded
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    words.join("-")
}

/// A 64-bit key for "this record of this thread", equal for the same record in any version:
/// the thread title, the kind and the [`normalise`]d text, hashed. The index stores it with
/// every thread record, so the earliest version holding a record is one term lookup away.
pub fn same_record_key(thread: &str, kind: Kind, text: &str) -> u64 {
    let mut hasher = blake3::Hasher::new();
    hasher.update(thread.as_bytes());
    hasher.update(&[0]);
    hasher.update(kind.as_str().as_bytes());
    hasher.update(&[0]);
    hasher.update(normalise(text).as_bytes());
    let bytes = hasher.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&bytes.as_bytes()[..8]);
    u64::from_le_bytes(first)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Page, ThreadPage};

    fn version(n: u32, records: &[(Kind, &str)]) -> SavedVersion {
        SavedVersion {
            version: n,
            date: None,
            path: format!("t/v{n}.txt"),
            records: records.iter().map(|(k, t)| (*k, t.to_string())).collect(),
        }
    }

    #[test]
    fn consecutive_versions_are_compared_by_normalised_text() {
        let v1 = version(
            1,
            &[
                (Kind::Event, "Zhang et al. show memorization."),
                (Kind::Tension, "Is it \u{201C}broken\u{201D}?"),
                (Kind::Narrative, "Old story."),
            ],
        );
        let v3 = version(
            3,
            &[
                (Kind::Event, "Zhang  et al. show\nmemorization."),
                (Kind::Event, "A new result."),
                (Kind::Tension, "is it \"broken\"?"),
                (Kind::Narrative, "New story."),
            ],
        );
        let v2 = version(2, &[(Kind::Tension, "Is it \u{2018}broken\u{2019}?")]);
        let history = history("T", vec![v3, v1, v2]);
        let numbers: Vec<u32> = history.versions.iter().map(|v| v.version).collect();
        assert_eq!(numbers, [1, 2, 3]);
        assert_eq!(history.versions[0].records[&Kind::Event], 1);
        assert_eq!(history.versions[0].records[&Kind::Perspective], 0);
        assert_eq!(history.changes.len(), 2);
        let (first, second) = (&history.changes[0], &history.changes[1]);
        assert_eq!((first.from, first.to, first.kept), (1, 2, 0));
        assert_eq!(first.added_count(), 1);
        assert_eq!(first.removed_count(), 3);
        assert_eq!((second.from, second.to, second.kept), (2, 3, 0));
        assert_eq!(second.added[&Kind::Event].len(), 2);
        // Tension from v1 came back with straight quotes: a different record from v2's.
        assert_eq!(
            second.removed[&Kind::Tension],
            ["Is it \u{2018}broken\u{2019}?"]
        );
        let direct = history_of_two(&version(1, &[]), &version(1, &[]));
        assert!(direct.added.is_empty() && direct.removed.is_empty());
    }

    fn history_of_two(a: &SavedVersion, b: &SavedVersion) -> Change {
        history("T", vec![a.clone(), b.clone()]).changes.remove(0)
    }

    #[test]
    fn whitespace_quotes_and_case_do_not_make_a_new_record() {
        let a = version(1, &[(Kind::Event, "It\u{2019}s  open \u{2014} still.")]);
        let b = version(2, &[(Kind::Event, "it's open - still.")]);
        let change = history_of_two(&a, &b);
        assert_eq!(
            (change.kept, change.added_count(), change.removed_count()),
            (1, 0, 0)
        );
        let c = version(2, &[(Kind::Tension, "It's open - still.")]);
        let change = history_of_two(&a, &c);
        assert_eq!(
            (change.kept, change.added_count()),
            (0, 1),
            "another kind is another record"
        );
    }

    #[test]
    fn a_history_serializes_with_kinds_as_keys_and_reads_back() {
        let a = version(1, &[(Kind::Event, "x")]);
        let b = version(2, &[(Kind::Tension, "y")]);
        let history = history("T", vec![a, b]);
        let json = serde_json::to_value(&history).unwrap();
        assert_eq!(json["versions"][0]["records"]["event"], 1);
        assert_eq!(json["versions"][0]["records"]["narrative"], 0);
        assert_eq!(json["changes"][0]["added"]["tension"][0], "y");
        assert_eq!(json["changes"][0]["removed"]["event"][0], "x");
        let back: History = serde_json::from_value(json).unwrap();
        assert_eq!(back, history);
    }

    #[test]
    fn a_title_and_its_slug_give_the_same_slug() {
        let title = "Deep Learning Theory Is Broken — And Maybe Unfixable";
        let slug = slug(title);
        assert_eq!(slug, "deep-learning-theory-is-broken-and-maybe-unfixable");
        assert_eq!(super::slug(&slug), slug);
        assert_eq!(
            super::slug("deep learning theory is BROKEN and maybe unfixable"),
            slug
        );
        assert_eq!(super::slug("Rényi's  Entropy: 2.0?"), "renyi-s-entropy-2-0");
        assert_eq!(super::slug("—"), "");
    }

    #[test]
    fn a_text_held_twice_counts_twice() {
        let a = version(1, &[(Kind::Event, "x"), (Kind::Event, "x")]);
        let b = version(2, &[(Kind::Event, "x")]);
        let change = history_of_two(&a, &b);
        assert_eq!((change.kept, change.removed[&Kind::Event].len()), (1, 1));
    }

    #[test]
    fn the_same_record_has_the_same_key_in_every_version() {
        let key = same_record_key("T", Kind::Event, "It\u{2019}s open.");
        assert_eq!(key, same_record_key("T", Kind::Event, "it's  open."));
        assert_ne!(key, same_record_key("U", Kind::Event, "it's open."));
        assert_ne!(key, same_record_key("T", Kind::Tension, "it's open."));
        assert_ne!(key, same_record_key("T", Kind::Event, "it's opened."));
    }

    /// Seeds 001 (version 1) and 000 (version 6) of one thread; counts worked out by reading
    /// the two pages. Of version 1's five timeline events, the first four appear word for
    /// word in version 6 (only their citations changed); the fifth (2026-04-27) gained a
    /// clause. No narrative paragraph, perspective or tension is the same in both.
    #[test]
    fn seeds_001_and_000_tell_the_threads_story() {
        let Some(dir) = crate::seeds::dir() else {
            return;
        };
        let load = |name: &str| -> SavedVersion {
            let bytes = std::fs::read(dir.join(name)).expect("seed is readable");
            let page = crate::page::parse_bytes(name, &bytes)
                .expect("seed parses")
                .page;
            let Page::Thread(ThreadPage { version, date, .. }) = &page else {
                panic!("{name} is not a thread page");
            };
            SavedVersion::from_records(*version, *date, name, &page.records(name))
        };
        let v6 = load("000_207f1a61718e5820.txt");
        let v1 = load("001_663f600feafd8370.txt");
        let history = history(
            "Deep Learning Theory Is Broken — And Maybe Unfixable",
            vec![v6, v1],
        );
        let counts = |v: &VersionSummary| -> Vec<usize> {
            THREAD_KINDS.iter().map(|k| v.records[k]).collect()
        };
        assert_eq!(history.versions.len(), 2);
        assert_eq!(history.versions[0].version, 1);
        assert_eq!(history.versions[0].date, Date::parse("2026-04-29"));
        assert_eq!(counts(&history.versions[0]), [4, 5, 1, 4]);
        assert_eq!(history.versions[1].version, 6);
        assert_eq!(history.versions[1].date, Date::parse("2026-04-30"));
        assert_eq!(counts(&history.versions[1]), [3, 20, 11, 7]);

        let change = &history.changes[0];
        assert_eq!((change.from, change.to, change.kept), (1, 6, 4));
        let by_kind = |map: &BTreeMap<Kind, Vec<String>>| -> Vec<usize> {
            THREAD_KINDS
                .iter()
                .map(|k| map.get(k).map_or(0, Vec::len))
                .collect()
        };
        assert_eq!(by_kind(&change.added), [3, 16, 11, 7]);
        assert_eq!(by_kind(&change.removed), [4, 1, 1, 4]);
        assert_eq!((change.added_count(), change.removed_count()), (37, 10));
        assert!(change.removed[&Kind::Event][0].starts_with(
            "LawrenceC publishes 'The other paper that killed deep learning theory,' narrating"
        ));
        assert!(change.removed[&Kind::Perspective][0].starts_with("LawrenceC (Alignment Forum): "));
        assert!(change.added[&Kind::Perspective][0]
            .starts_with("LawrenceC (Alignment Forum / LessWrong): "));
    }
}
