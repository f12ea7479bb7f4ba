//! How many record pairs deciding every claim group of an index at once
//! would have to compare (see BENCHMARKS.md, the `--collapse` section).
//!
//! ```text
//! cargo run --release --example claim_key_buckets -- INDEX_DIR
//! ```
//!
//! Groups decided once per commit, for every record, would compare every
//! pair of records that share a lookup key. This computes every record's
//! lookup keys from the content words the index stores (the `claim_words`
//! column, as a search does) and prints, as JSON, the number of records
//! with keys, of distinct keys, the records per key (the largest, and how
//! many keys hold more than 256, 1,000, 10,000 records) and the pairs to
//! decide: in all, and without the keys shared by more than 256 records (a
//! pair that shares several keys counts once per key: an upper bound of the
//! distinct pairs, and what deciding key by key costs without remembering
//! pairs).

use claimsearch::echo::keys::keys_of_words;
use claimsearch::echo::Claim;
use rustc_hash::FxHashMap;
use serde_json::json;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args()
        .nth(1)
        .ok_or("usage: claim_key_buckets INDEX_DIR")?;
    let index = tantivy::Index::open_in_dir(&dir)?;
    let reader = index.reader()?;
    let searcher = reader.searcher();
    let mut per_key: FxHashMap<u64, u64> = FxHashMap::default();
    let mut records_with_keys = 0u64;
    let (mut values, mut words) = (Vec::new(), Vec::new());
    for segment in searcher.segment_readers() {
        let column = segment.fast_fields().u64("claim_words")?;
        for doc in 0..segment.max_doc() {
            values.clear();
            values.extend(column.values_for_doc(doc));
            words.clear();
            Claim::read_stored_words(values.iter().copied(), &mut words);
            let mut keys = keys_of_words(&words);
            keys.sort_unstable();
            keys.dedup();
            records_with_keys += u64::from(!keys.is_empty());
            for key in keys {
                *per_key.entry(key).or_default() += 1;
            }
        }
    }
    let pairs = |n: u64| n * n.saturating_sub(1) / 2;
    let total_pairs: u64 = per_key.values().map(|&n| pairs(n)).sum();
    let capped_pairs: u64 = (per_key.values())
        .filter(|&&n| n <= 256)
        .map(|&n| pairs(n))
        .sum();
    let over = |m: u64| per_key.values().filter(|&&n| n > m).count();
    let largest = per_key.values().copied().max().unwrap_or(0);
    let report = json!({
        "records_with_keys": records_with_keys,
        "keys": per_key.len(),
        "largest_key_records": largest,
        "keys_over_256": over(256),
        "keys_over_1000": over(1000),
        "keys_over_10000": over(10_000),
        "pairs_sharing_a_key": total_pairs,
        "pairs_in_keys_of_at_most_256": capped_pairs,
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
