//! Golden tests on the five real pages in `../shared/seeds` (the formats' ground truth).
//! They are skipped, with a notice, where that folder is absent.

use super::parse_bytes;
use crate::model::{Date, Item, Page, RawText, ThreadPage};

const THREAD_TITLE: &str = "Deep Learning Theory Is Broken — And Maybe Unfixable";

/// Parses a seed; asserts it parsed cleanly.
fn seed(name: &str) -> Option<Page> {
    let bytes = std::fs::read(crate::seeds::dir()?.join(name)).expect("seed is readable");
    let parsed = parse_bytes(name, &bytes).expect("seed is a page");
    assert!(parsed.warnings.is_empty(), "{name}: {:?}", parsed.warnings);
    Some(parsed.page)
}

fn thread(name: &str) -> Option<ThreadPage> {
    match seed(name)? {
        Page::Thread(page) => Some(page),
        other => panic!("{name} is not a thread page: {other:?}"),
    }
}

fn raw(name: &str) -> Option<RawText> {
    match seed(name)? {
        Page::Raw(raw) => Some(raw),
        other => panic!("{name} is not raw text: {other:?}"),
    }
}

/// Narrative, timeline, perspectives, tensions and sources, counted.
fn counts(page: &ThreadPage) -> [usize; 5] {
    [
        page.narrative.len(),
        page.timeline.len(),
        page.perspectives.len(),
        page.tensions.len(),
        page.sources.len(),
    ]
}

#[test]
fn seed_004_is_an_extraction_page() {
    let Some(page) = seed("004_ed2cc2750226d8b5.txt") else {
        return;
    };
    let Page::Extraction(item) = page else {
        panic!("not an extraction page: {page:?}");
    };
    let Item {
        title,
        source,
        author,
        date,
        summary,
        ..
    } = &item;
    assert_eq!(title, "The paper that killed deep learning theory");
    assert_eq!(source.as_deref(), Some("Alignment Forum"));
    assert_eq!(author.as_deref(), Some("LawrenceC"));
    assert_eq!(*date, Date::parse("2026-04-26"));
    assert_eq!(*summary, None);
    assert!(item.threads.is_empty());
    assert_eq!(item.claims.len(), 5);
    assert!(item.claims.iter().all(|c| !c.starts_with('•')));
    let truncated: Vec<bool> = item.quotes.iter().map(|q| q.truncated).collect();
    assert_eq!(truncated, [false, false, true]);
    assert!(item.quotes[2].text.ends_with("..."));
    let want = [
        "deep-learning-theory",
        "generalization-bounds",
        "statistical-learning-theory",
        "neural-network-memorization",
        "zhang-et-al-2016",
    ];
    assert_eq!(item.topics, want);
}

#[test]
fn seed_000_is_version_6_of_the_thread() {
    let Some(page) = thread("000_207f1a61718e5820.txt") else {
        return;
    };
    assert_eq!(page.title, THREAD_TITLE);
    assert_eq!((page.version, page.items), (6, Some(169)));
    assert_eq!(page.date, Date::parse("2026-04-30"));
    assert_eq!(counts(&page), [3, 20, 11, 7, 74]);
    let first = &page.resolve(&[1])[0];
    assert_eq!(
        first.title,
        "The other paper that killed deep learning theory"
    );
    assert_eq!(first.source.as_deref(), Some("Alignment Forum"));
    assert_eq!(first.date, Date::parse("2026-04-27"));
    let s29 = &page.sources[28];
    assert_eq!(s29.n, 29);
    assert_eq!(
        s29.title,
        "The other paper that killed deep learning theory — LessWrong"
    );
    assert_eq!(
        s29.channel.as_deref(),
        Some("reactive:deep-learning-theory-limits")
    );
    assert_eq!(s29.date, None);
    // Bracketed titles are not citation numbers.
    assert_eq!(
        page.sources[10].title,
        "[PDF] IS MEMORIZATION Actually NECESSARY FOR GENER- ALIZATION?"
    );
    assert_thread_text_is_clean(&page);
}

#[test]
fn seed_000_perspectives_and_citations() {
    let Some(page) = thread("000_207f1a61718e5820.txt") else {
        return;
    };
    let lawrence = &page.perspectives[0];
    assert_eq!(lawrence.name, "LawrenceC (Alignment Forum / LessWrong)");
    assert!(lawrence
        .evolution
        .as_deref()
        .unwrap()
        .starts_with("Consistent across"));
    assert!(page
        .perspectives
        .iter()
        .all(|p| p.evolution.is_some() && !p.view.is_empty()));
    assert_eq!(page.narrative[0].cites[..3], [1, 2, 3]);
    let feldman = &page.timeline[2];
    assert_eq!(feldman.date, Date::parse("2019-06-01"));
    assert_eq!(feldman.cites, [44, 48, 71, 49, 50, 51, 52]);
    assert_eq!(page.resolve(&feldman.cites).len(), 7);
}

#[test]
fn seed_001_is_version_1_of_the_thread() {
    let Some(page) = thread("001_663f600feafd8370.txt") else {
        return;
    };
    assert_eq!(page.title, THREAD_TITLE);
    assert_eq!((page.version, page.items), (1, Some(35)));
    assert_eq!(page.date, Date::parse("2026-04-29"));
    assert_eq!(counts(&page), [4, 5, 1, 4, 3]);
    let first = &page.resolve(&[1])[0];
    assert!(
        first.title.starts_with("Quick Paper Review"),
        "{}",
        first.title
    );
    assert_eq!(first.date, Date::parse("2026-04-25"));
    assert_eq!(page.perspectives[0].name, "LawrenceC (Alignment Forum)");
    assert_eq!(page.narrative[3].cites, [3, 1]);
    assert_eq!(page.tensions[2].cites, [3, 2]);
    assert_eq!(page.timeline[0].date, Date::parse("2016-01-01"));
    assert_thread_text_is_clean(&page);
}

/// No citation marker or bullet survives in the text of a thread page.
fn assert_thread_text_is_clean(page: &ThreadPage) {
    let texts = (page.narrative.iter().map(|c| &c.text))
        .chain(page.tensions.iter().map(|c| &c.text))
        .chain(page.timeline.iter().map(|e| &e.text));
    for text in texts {
        assert!(!text.contains("[1]") && !text.contains("[2]"), "{text}");
        assert!(!text.starts_with(['•', '-']), "{text}");
    }
    assert!(page
        .timeline
        .iter()
        .all(|e| e.date.is_some() && !e.cites.is_empty()));
    assert!(page
        .sources
        .iter()
        .enumerate()
        .all(|(i, s)| s.n as usize == i + 1));
}

#[test]
fn seed_002_is_raw_text_titled_by_its_file_name() {
    let Some(raw) = raw("002_c86f267df4bde7d7.txt") else {
        return;
    };
    assert_eq!(raw.title, "002_c86f267df4bde7d7");
    assert_eq!(raw.passages.len(), 52);
}

#[test]
fn seed_003_is_raw_text_titled_by_its_first_line() {
    let Some(raw) = raw("003_6a6acf868b4190b1.txt") else {
        return;
    };
    let title = "The Paper That Killed Deep Learning Theory: A Retrospective on Generalization";
    assert_eq!(raw.title, title);
    assert_eq!(raw.passages.len(), 11);
    assert_eq!(raw.passages[0], "Coverage of lessw-blog");
}

#[test]
fn seeds_survive_crlf_bom_and_windows_1252() {
    let Some(dir) = crate::seeds::dir() else {
        return;
    };
    for name in [
        "000_207f1a61718e5820.txt",
        "001_663f600feafd8370.txt",
        "004_ed2cc2750226d8b5.txt",
    ] {
        let original = std::fs::read_to_string(dir.join(name)).expect("seed is readable");
        let want = parse_bytes(name, original.as_bytes()).unwrap().page;
        let mangled = format!("\u{feff}{}", original.replace('\n', "\r\n"));
        assert_eq!(
            parse_bytes(name, mangled.as_bytes()).unwrap().page,
            want,
            "{name}"
        );
        let (cp1252, _, lossy) = encoding_rs::WINDOWS_1252.encode(&original);
        if !lossy {
            let parsed = parse_bytes(name, &cp1252).unwrap();
            assert_eq!(parsed.page, want, "{name} as Windows-1252");
        }
    }
}
