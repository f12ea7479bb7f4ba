//! Bounds on what one page may cost to index, so a hostile page cannot turn a
//! few kilobytes into gigabytes of records.
//!
//! Every record carries its item's metadata (title, source, author, topics,
//! threads) and its resolved citations, so a page with many records *and* large
//! metadata multiplies the two: 3,000 topics on an item with 3,000 claims is a
//! 78 KB line and 9,000,000 indexed values. Real pages are far below these
//! limits. A page over one keeps what fits, in page order, with a warning, so its
//! first records stay findable.

use std::collections::HashMap;

use super::Warning;
use crate::model::{Item, Page, ThreadPage};

/// Most topics and threads kept per item, and citations per thread entry.
pub(crate) const MAX_LIST: usize = 100;
/// Most bytes a page's records may take, estimated as text plus the metadata
/// each record repeats plus [`RECORD_OVERHEAD`].
pub(crate) const MAX_RECORD_BYTES: usize = 512 << 20;
/// What a record costs beyond its strings: its id, path, fields and the index
/// document made from it.
const RECORD_OVERHEAD: usize = 256;

/// Applies the limits to a parsed page, adding a warning for each cut.
pub(crate) fn apply(page: &mut Page, warnings: &mut Vec<Warning>) {
    let mut budget = Budget::new();
    match page {
        Page::Extraction(item) => bound_item(item, None, &mut budget, warnings),
        Page::Items(items) => {
            for (line, item) in items.iter_mut() {
                bound_item(item, Some(*line), &mut budget, warnings);
            }
        }
        Page::Thread(thread) => bound_thread(thread, &mut budget, warnings),
        Page::Raw(raw) => {
            let shared = raw.title.len();
            budget.keep(&mut raw.passages, shared, |p| p.len());
        }
    }
    if budget.dropped > 0 {
        warnings.push(Warning::file(format!(
            "the page's records would take over {} MiB; its last {} records are not indexed",
            MAX_RECORD_BYTES >> 20,
            budget.dropped
        )));
    }
}

/// Caps an item's lists, then keeps the records that fit the budget.
fn bound_item(
    item: &mut Item,
    line: Option<usize>,
    budget: &mut Budget,
    warnings: &mut Vec<Warning>,
) {
    for (name, list) in [("topics", &mut item.topics), ("threads", &mut item.threads)] {
        if list.len() > MAX_LIST {
            let message = format!(
                "the item lists {} {name}; only the first {MAX_LIST} are kept",
                list.len()
            );
            warnings.push(Warning { line, message });
            list.truncate(MAX_LIST);
        }
    }
    let strings = |list: &[String]| list.iter().map(|s| s.len() + 24).sum::<usize>();
    let shared = item.title.len()
        + [&item.source, &item.author, &item.id]
            .iter()
            .map(|s| s.as_ref().map_or(0, String::len))
            .sum::<usize>()
        + strings(&item.topics)
        + strings(&item.threads)
        // Its authors, and their folded full and last names in the index.
        + 3 * item.author.as_ref().map_or(0, String::len);
    let mut summary: Vec<String> = item.summary.take().into_iter().collect();
    budget.keep(&mut summary, shared, |s| s.len());
    item.summary = summary.pop();
    budget.keep(&mut item.claims, shared, |c| c.len());
    budget.keep(&mut item.quotes, shared, |q| q.text.len());
    budget.keep(&mut item.text, shared, |p| p.len());
}

/// Caps each entry's citations, then keeps the records that fit the budget.
fn bound_thread(page: &mut ThreadPage, budget: &mut Budget, warnings: &mut Vec<Warning>) {
    let mut cut = 0;
    let mut cap = |cites: &mut Vec<u32>| {
        cut += usize::from(cites.len() > MAX_LIST);
        cites.truncate(MAX_LIST);
    };
    page.narrative.iter_mut().for_each(|c| cap(&mut c.cites));
    page.timeline.iter_mut().for_each(|e| cap(&mut e.cites));
    page.perspectives.iter_mut().for_each(|p| cap(&mut p.cites));
    page.tensions.iter_mut().for_each(|t| cap(&mut t.cites));
    if cut > 0 {
        warnings.push(Warning::file(format!(
            "{cut} entries cite more than {MAX_LIST} sources; only their first {MAX_LIST} citations are kept"
        )));
    }
    // What a resolved citation repeats in a record: the first source of its number.
    let mut cite_bytes: HashMap<u32, usize> = HashMap::new();
    for source in &page.sources {
        let bytes = source.title.len() + source.channel.as_ref().map_or(0, String::len) + 48;
        cite_bytes.entry(source.n).or_insert(bytes);
    }
    let cited = |cites: &[u32]| -> usize { cites.iter().filter_map(|n| cite_bytes.get(n)).sum() };
    let shared = 3 * page.title.len();
    budget.keep(&mut page.narrative, shared, |c| {
        c.text.len() + cited(&c.cites)
    });
    budget.keep(&mut page.timeline, shared, |e| {
        e.text.len() + cited(&e.cites)
    });
    budget.keep(&mut page.perspectives, shared, |p| {
        p.name.len() + p.view.len() + p.evolution.as_ref().map_or(0, String::len) + cited(&p.cites)
    });
    budget.keep(&mut page.tensions, shared, |t| {
        t.text.len() + cited(&t.cites)
    });
}

/// The bytes left for a page's records, and how many records did not fit.
struct Budget {
    left: usize,
    dropped: usize,
}

impl Budget {
    fn new() -> Budget {
        Budget {
            left: MAX_RECORD_BYTES,
            dropped: 0,
        }
    }

    /// Keeps the longest prefix of `records` that fits; once one does not fit,
    /// nothing after it does either (the page's first records are kept).
    fn keep<T>(&mut self, records: &mut Vec<T>, shared: usize, bytes: impl Fn(&T) -> usize) {
        let mut fit = 0;
        for record in records.iter() {
            let cost = bytes(record) + shared + RECORD_OVERHEAD;
            if cost > self.left {
                self.left = 0;
                break;
            }
            self.left -= cost;
            fit += 1;
        }
        self.dropped += records.len() - fit;
        records.truncate(fit);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::page::parse_str;

    #[test]
    fn many_topics_on_many_claims_are_capped_with_a_warning() {
        let topics: Vec<String> = (0..3_000).map(|i| format!("\"t{i}\"")).collect();
        let claims: Vec<String> = (0..3_000).map(|i| format!("\"c{i}\"")).collect();
        let line = format!(
            "{{\"title\":\"x\",\"topics\":[{}],\"claims\":[{}]}}\n",
            topics.join(","),
            claims.join(",")
        );
        let parsed = parse_str("a.jsonl", &line).unwrap();
        let Page::Items(items) = &parsed.page else {
            panic!("not items")
        };
        assert_eq!(items[0].1.topics.len(), MAX_LIST);
        assert_eq!(items[0].1.claims.len(), 3_000, "every claim is kept");
        assert_eq!(parsed.warnings.len(), 1, "{:?}", parsed.warnings);
        assert_eq!(parsed.warnings[0].line, Some(1));
        assert!(parsed.warnings[0].message.contains("3000 topics"));
    }

    #[test]
    fn a_page_over_the_byte_budget_keeps_its_first_records() {
        let title = "T".repeat(8 << 20); // 8 MiB, repeated by every record
        let mut page = format!("{title}\nSrc · 2020-01-01\nExtraction\nTopics: a\nClaims\n");
        for i in 0..100 {
            page.push_str(&format!("• claim {i}\n"));
        }
        page.push_str("Key quotes\nq\n");
        let parsed = parse_str("p.txt", &page).unwrap();
        let Page::Extraction(item) = &parsed.page else {
            panic!("not an extraction page")
        };
        assert!(item.claims.len() < 100 && item.claims.len() > 30);
        assert_eq!(item.claims[0], "claim 0");
        assert!(item.quotes.is_empty());
        let last = parsed.warnings.last().unwrap();
        assert!(last.message.contains("not indexed"), "{last:?}");
    }

    #[test]
    fn threads_cap_citations_per_entry() {
        let cites: String = (1..=150).map(|n| format!("[{n}]")).collect();
        let page = format!(
            "T · history\nVersion 1\nTensions\n- Why? {cites}\nSources\n- [1] S — C (2020-01-01)\n"
        );
        let parsed = parse_str("t.txt", &page).unwrap();
        let Page::Thread(thread) = &parsed.page else {
            panic!("not a thread")
        };
        assert_eq!(thread.tensions[0].cites.len(), MAX_LIST);
        assert!(parsed.warnings[0].message.contains("1 entries cite more"));
    }

    #[test]
    fn ordinary_pages_are_untouched() {
        let page = "Ferns\nGarden · 2023-05-06\nExtraction\nTopics: ferns\nClaims\n• Shade.\nKey quotes\nq\n";
        assert!(parse_str("p.txt", page).unwrap().warnings.is_empty());
    }
}
