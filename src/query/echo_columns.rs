//! The columns a segment's echoes are read from (a claim's words and the
//! rest of it, its item, date, thread version and place), opened once per
//! commit ([`super::warm`]) and read by echoes, `--collapse` and
//! `similar`.

use tantivy::columnar::Column;
use tantivy::{DateTime, DocId, SegmentReader};

use crate::echo::Claim;
use crate::schema::{day_of, names};

/// The echo columns of one segment, opened once per commit.
pub(crate) struct EchoColumns {
    /// Each claim's content words ([`Claim::stored_words`]).
    words: Column<u64>,
    /// The rest of each claim ([`Claim::rest_values`]).
    claim: Column<u64>,
    item: Column<u64>,
    date: Option<Column<DateTime>>,
    /// What orders records of equal rank when collapsing: a thread
    /// record's version key and a record's place on its page.
    version: Column<u64>,
    place: Column<u64>,
}

impl std::fmt::Debug for EchoColumns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EchoColumns")
    }
}

impl EchoColumns {
    /// Opens the columns of `segment`.
    pub(crate) fn open(segment: &SegmentReader) -> tantivy::Result<EchoColumns> {
        let fast = segment.fast_fields();
        Ok(EchoColumns {
            words: fast.u64(names::CLAIM_WORDS)?,
            claim: fast.u64(names::CLAIM)?,
            item: fast.u64(names::ITEM)?,
            date: fast.column_opt::<DateTime>(names::DATE)?,
            version: fast.u64(names::THREAD_VERSION)?,
            place: fast.u64(names::PLACE)?,
        })
    }

    /// The content words of `doc`'s claim into `words` (none for a record
    /// that takes no part in echoes): `true` when its claim as the index
    /// keeps it ([`EchoColumns::claim`]) has fewer, so that only reading
    /// the claim tells how close it is to another. The values are unpacked
    /// together, not one by one.
    pub(crate) fn words(&self, doc: DocId, words: &mut Vec<u32>) -> bool {
        crate::key_index::stored_words(&self.words, doc, words)
    }

    /// The claim of `doc`, if it takes part in echoes; `buffer` is scratch
    /// space.
    pub(crate) fn claim(&self, doc: DocId, buffer: &mut Vec<u64>) -> Option<Claim> {
        let mut words = Vec::new();
        self.words(doc, &mut words);
        self.claim_of_words(doc, &words, buffer)
    }

    /// [`EchoColumns::claim`] of `doc`, whose stored words
    /// ([`EchoColumns::words`]) were read already: `words`.
    pub(crate) fn claim_of_words(
        &self,
        doc: DocId,
        words: &[u32],
        buffer: &mut Vec<u64>,
    ) -> Option<Claim> {
        let rows = self.claim.index.value_row_ids(doc);
        if rows.is_empty() {
            return None;
        }
        buffer.clear();
        buffer.resize((rows.end - rows.start) as usize, 0);
        self.claim.values.get_range(u64::from(rows.start), buffer);
        Claim::from_stored(words, buffer)
    }

    pub(super) fn item(&self, doc: DocId) -> u64 {
        self.item.first(doc).unwrap_or(0)
    }

    /// What any index of the same corpus gives `doc` to tell it from other
    /// records: its item (for a record that takes part in echoes), its
    /// thread version and its place on its page.
    pub(crate) fn identity(&self, doc: DocId) -> (u64, u64, u64) {
        (
            self.item(doc),
            self.version.first(doc).unwrap_or(0),
            self.place.first(doc).unwrap_or(0),
        )
    }

    /// Days since 1970 of `doc`'s date, if it has one.
    pub(super) fn day(&self, doc: DocId) -> Option<i64> {
        Some(day_of(self.date.as_ref()?.first(doc)?))
    }
}
