//! Golden tests on the real seed pages: seed 004's key quotes come from the
//! blog post whose text is seed 002. Skipped, with a notice, where
//! `../shared/seeds` is absent.

use super::{FoundIn, Needle, RawCorpus};
use crate::model::Page;
use crate::page::parse_bytes;

fn seed(name: &str) -> Option<Page> {
    let dir = crate::seeds::dir()?;
    let bytes = std::fs::read(dir.join(name)).expect("seed is readable");
    Some(parse_bytes(name, &bytes).expect("seed is a page").page)
}

#[test]
fn seed_004s_three_key_quotes_are_found_in_seed_002() {
    let (Some(Page::Extraction(item)), Some(Page::Raw(post)), Some(Page::Raw(other))) = (
        seed("004_ed2cc2750226d8b5.txt"),
        seed("002_c86f267df4bde7d7.txt"),
        seed("003_6a6acf868b4190b1.txt"),
    ) else {
        return;
    };
    let mut corpus = RawCorpus::new();
    let at = |path: &str, title: &str| FoundIn {
        path: path.into(),
        title: title.into(),
    };
    corpus.add(at("002.txt", &post.title), &post.passages);
    corpus.add(at("003.txt", &other.title), &other.passages);
    corpus.seal();
    assert_eq!(item.quotes.len(), 3);
    assert!(item.quotes[2].truncated, "the third quote is cut short");
    for quote in &item.quotes {
        let needle = Needle::new(&quote.text).expect("traceable");
        assert_eq!(
            corpus.find(&needle),
            [at("002.txt", &post.title)],
            "{}",
            quote.text
        );
    }
    // The claims are the tracker's paraphrases, not quotes: none is verbatim.
    for claim in &item.claims {
        let needle = Needle::new(claim).expect("traceable");
        assert!(corpus.find(&needle).is_empty(), "{claim}");
    }
}
