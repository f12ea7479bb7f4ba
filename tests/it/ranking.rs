//! A one-word search scores only the matches that could make its first
//! pages (what the blocks of postings they are in allow). Whether it
//! does, or scores every match as a search with a filter does, a reader
//! must see the same: the same records in the same order
//! with the same scores, the same total and the same facets.

use claimsearch::{Index, SearchRequest, SearchResponse};

use crate::util::{extraction, Fixture};

/// Words of the claims: `convergence` in most, once to three times, in
/// claims of many lengths, and in some titles and topics.
const FILLER: &[&str] = &[
    "the",
    "bound",
    "holds",
    "for",
    "deep",
    "networks",
    "under",
    "mild",
    "assumptions",
    "on",
    "width",
    "and",
    "depth",
    "with",
    "noisy",
    "labels",
    "in",
    "practice",
];

/// Batch `batch` of `pages` pages, with claims of its own lengths.
fn write_batch(fx: &Fixture, batch: usize, pages: usize) {
    let mut next = 0x2545_F491_4F6C_DD1D_u64 ^ batch as u64;
    let mut random = move |n: usize| {
        next ^= next << 13;
        next ^= next >> 7;
        next ^= next << 17;
        (next % n as u64) as usize
    };
    for page in 0..pages {
        let claims: Vec<String> = (0..8)
            .map(|_| {
                // Later batches shorter: their best matches come last.
                let length = 1 + random(10 + 12 * (2 - batch));
                let mut words: Vec<&str> =
                    (0..length).map(|_| FILLER[random(FILLER.len())]).collect();
                for _ in 0..random(4) {
                    words.insert(random(words.len()), "convergence");
                }
                words.join(" ") + "."
            })
            .collect();
        let claims: Vec<&str> = claims.iter().map(String::as_str).collect();
        let title = match random(5) {
            0 => format!("Convergence notes {batch}-{page}"),
            _ => format!("Notes {batch}-{page}"),
        };
        let topics = match random(4) {
            0 => "uniform-convergence, generalization",
            _ => "generalization",
        };
        let source = ["LessWrong", "arXiv", "Substack"][random(3)];
        let meta = format!("{source} · Some Author · 20{:02}-03-04", 10 + random(12));
        fx.write(
            &format!("items/b{batch}/page-{page}.txt"),
            extraction(
                &title,
                &meta,
                topics,
                &claims,
                &["A quote on something else."],
            ),
        );
    }
}

fn search(index: &Index, query: &str, offset: usize, limit: usize) -> SearchResponse {
    let request = SearchRequest {
        offset,
        limit,
        ..SearchRequest::new(query)
    };
    index.search(&request).unwrap()
}

/// The same search kept to records dated since 2000: every record of the
/// fixture, but a filter makes every match scored.
fn filtered(index: &Index, query: &str, offset: usize, limit: usize) -> SearchResponse {
    let request = SearchRequest {
        offset,
        limit,
        since: Some("2000-01-01".parse().unwrap()),
        ..SearchRequest::new(query)
    };
    index.search(&request).unwrap()
}

/// Hits as (record id, score): what the order is made of.
fn ranked(response: &SearchResponse) -> Vec<(String, f32)> {
    (response.hits.iter())
        .map(|hit| (hit.record.id.clone(), hit.score))
        .collect()
}

/// The fixture: one `index`, then two `reindex` runs that each add a
/// batch.
fn three_batches() -> Fixture {
    let fx = Fixture::new();
    write_batch(&fx, 0, 120);
    fx.ok(&["index"]);
    for batch in 1..3 {
        write_batch(&fx, batch, 120);
        fx.ok(&["reindex"]);
    }
    fx
}

const PAGES: [(usize, usize); 5] = [(0, 10), (10, 10), (0, 50), (45, 10), (200, 25)];

#[test]
fn a_word_ranks_the_same_scoring_only_what_could_make_the_page() {
    let fx = three_batches();
    let index = Index::open(fx.index()).unwrap();
    let all = search(&index, "convergence", 0, 10);
    assert!(all.total > 1_500, "many blocks of postings: {}", all.total);

    for (offset, limit) in PAGES {
        let pruned = search(&index, "convergence", offset, limit);
        let scored = filtered(&index, "convergence", offset, limit);
        assert_eq!(pruned.hits.len(), limit, "{offset}+{limit}");
        assert_eq!(ranked(&pruned), ranked(&scored), "{offset}+{limit}");
        assert_eq!(pruned.total, scored.total);
        assert_eq!(pruned.facets, scored.facets);
    }
}
