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
