//! Echoes: the same claim made by several records, in other items, other
//! years, other words.
//!
//! Pure logic, no I/O: [`features`] reads what a record asserts, [`decide`]
//! says whether two records make the same claim, [`keys`] gives each record
//! a few lookup keys that records making the same claim are likely to share,
//! and [`eval`] scores the decision on a labelled set of record pairs. The
//! index stores each record's keys and its encoded [`Claim`]; a search finds
//! a hit's echoes by looking up its keys and deciding pairwise.

pub mod decide;
pub mod eval;
pub mod features;
pub mod keys;

use crate::model::{Kind, Record};
pub use decide::{same_claim, Verdict};
pub use features::Claim;

/// Whether records of `kind` take part in echoes: what states one claim
/// (claims, quotes, timeline events, perspectives and tensions). Summaries,
/// narrative paragraphs and raw passages hold many claims at once.
pub fn takes_part(kind: Kind) -> bool {
    matches!(
        kind,
        Kind::Claim | Kind::Quote | Kind::Event | Kind::Perspective | Kind::Tension
    )
}

/// The claim of a record, when its kind takes part in echoes.
pub fn record_claim(record: &Record) -> Option<Claim> {
    takes_part(record.kind)
        .then(|| features::claim(features::claim_text(record.kind, &record.text)))
}

/// A stable hash of the item a record belongs to: its page, its JSON Lines
/// line (`feeds/a.jsonl#12/claim-1` belongs to line 12), or for thread
/// records the thread, whatever the version. Never 0.
pub fn item_key(record: &Record) -> u64 {
    let item = match &record.thread {
        Some(thread) if record.version.is_some() => format!("thread\u{0}{thread}"),
        _ => {
            let place = record.id.rsplit_once('#').map_or("", |(_, p)| p);
            match place.split_once('/') {
                Some((line, _)) => format!("{}#{line}", record.path),
                None => record.path.clone(),
            }
        }
    };
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in item.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h.max(1)
}
