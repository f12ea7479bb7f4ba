//! Quotes traced to raw text while an ingest runs.
//!
//! Pages are read in parallel batches, so a quote may be written before the
//! raw text that holds it is read. Each quote is first checked against every
//! raw text known when its batch starts (the raw texts of earlier batches,
//! its own page's, and in a `reindex` those of the last commit); each raw
//! text, once read, names the quotes of its own or earlier batches that it
//! holds (by their fingerprints), and their pages are processed again once
//! every raw text is known. The fingerprints wait on disk, in the index
//! folder, not in memory: a million pages write about four million quotes,
//! and raw text read after the quotes is rare (a full build reads raw pages
//! first), so most runs never read them back. The raw texts wait in a
//! scratch file too: in memory only their shingles are, to find the few
//! texts a quote must be compared with. In a `reindex` the last commit also
//! answers, through its own index fields: which quotes were found in a raw
//! page that changed or went ([`Fields::found_in`]), which quotes new raw
//! text may hold ([`Fields::quote_anchor`]) and, through the files of its
//! raw texts' shingles ([`RAW_SHINGLES`]), which raw texts a new quote may
//! be in. The pages whose quotes' verification
//! changes are processed again in the same commit, so the result equals a
//! clean build.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashSet};
use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

use tantivy::schema::IndexRecordOption;
use tantivy::{DocAddress, DocSet, Searcher, TantivyDocument, Term, TERMINATED};

use super::scratch::Scratch;
use crate::analyzer::keyword_term;
use crate::error::{Error, Result};
use crate::key_index::{SegmentKeys, RAW_SHINGLES};
use crate::model::{Kind, Record};
use crate::provenance::{Fingerprint, FoundIn, Haystack, LateQuotes, Needle, RawCorpus, Texts};
use crate::schema::{names, stored_record, Fields, RAW_TEXT};
use crate::storage::Touched;

/// What one page brings to tracing.
#[derive(Debug, Default)]
pub(crate) struct Traced {
    /// Its raw texts, with their shingles (sorted, each once).
    pub raw: Vec<(FoundIn, Haystack, Vec<u64>)>,
    /// The fingerprints of its quotes.
    pub fingerprints: Vec<Fingerprint>,
    /// The pages of the last commit its quotes were found in.
    pub committed_hits: Vec<String>,
}

/// The state of tracing during one ingest run.
pub(crate) struct Tracer {
    corpus: RawCorpus<TextFile>,
    /// For each raw text of `corpus`, the job that read it and its batch.
    owners: Vec<(u32, u32)>,
    /// The quotes written so far, by job and batch.
    quotes: QuoteLog,
    /// The batch under way: how many times [`Tracer::seal`] ran.
    batch: u32,
    /// The batch of the first quote written.
    first_quotes: Option<u32>,
    /// Jobs whose quotes were found in raw text of the last commit, and where.
    committed_hits: Vec<(u32, Vec<String>)>,
    committed: Option<Committed>,
}

/// What a worker checks a quote against: the raw texts known when its batch
/// started, and the last commit's.
#[derive(Clone, Copy)]
pub(crate) struct Verifier<'a> {
    corpus: &'a RawCorpus<TextFile>,
    committed: Option<&'a Committed>,
}

impl Tracer {
    /// A tracer for a full build (`committed` is `None`) or for a `reindex`
    /// over the last commit.
    /// The fingerprints of the quotes written wait in a scratch file in
    /// `index_dir`, removed when the tracer is dropped.
    pub(crate) fn new(committed: Option<Committed>, index_dir: &Path) -> Tracer {
        Tracer {
            corpus: RawCorpus::with_texts(TextFile::new(index_dir)),
            owners: Vec::new(),
            quotes: QuoteLog::new(index_dir),
            batch: 0,
            first_quotes: None,
            committed_hits: Vec::new(),
            committed,
        }
    }

    /// What the workers of the next batch check quotes against.
    pub(crate) fn verifier(&self) -> Verifier<'_> {
        Verifier {
            corpus: &self.corpus,
            committed: self.committed.as_ref(),
        }
    }

    /// Takes in what job `job` traced.
    pub(crate) fn absorb(&mut self, job: u32, mut traced: Traced) -> Result<()> {
        if !traced.committed_hits.is_empty() {
            traced.committed_hits.sort();
            traced.committed_hits.dedup();
            self.committed_hits.push((job, traced.committed_hits));
        }
        if !traced.fingerprints.is_empty() {
            self.first_quotes.get_or_insert(self.batch);
        }
        for fingerprint in traced.fingerprints {
            self.quotes.add(fingerprint, job, self.batch)?;
        }
        for (at, haystack, shingles) in traced.raw {
            self.corpus.add_shingled(at, haystack, shingles)?;
            self.owners.push((job, self.batch));
        }
        Ok(())
    }

    /// Makes the raw texts absorbed so far known to the next batch.
    pub(crate) fn seal(&mut self) -> Result<()> {
        self.corpus.seal_kept()?;
        self.batch += 1;
        Ok(())
    }

    /// In a `reindex`, once every page of the run is read: the pages it
    /// wrote again (their content changed) or removed. What the last commit
    /// holds of them no longer counts.
    pub(crate) fn exclude(&mut self, rewritten: impl IntoIterator<Item = String>) {
        if let Some(committed) = &mut self.committed {
            committed.excluded.extend(rewritten);
        }
    }

    /// The jobs (by index) whose quotes may be held by raw text read in
    /// their own batch or a later one, or were found in raw text of the last
    /// commit that this run rewrote: their pages must be processed again now
    /// that every raw text is known.
    pub(crate) fn late_jobs(&mut self) -> Result<BTreeSet<u32>> {
        let mut jobs = BTreeSet::new();
        if let Some(committed) = &self.committed {
            for (job, hits) in &self.committed_hits {
                if hits.iter().any(|path| committed.excluded.contains(path)) {
                    jobs.insert(*job);
                }
            }
        }
        let Some(first_quotes) = self.first_quotes else {
            return Ok(jobs);
        };
        // Every quote was written after the texts read before its first
        // batch were known: only the others are looked at.
        let mut late_texts: Vec<(Haystack, (u32, u32))> = Vec::new();
        for (id, owner) in self.owners.iter().enumerate() {
            if owner.1 >= first_quotes {
                late_texts.push((self.corpus.text(id)?.1.into_owned(), *owner));
            }
        }
        if late_texts.is_empty() {
            return Ok(jobs);
        }
        self.quotes.read_back(|late| {
            for (haystack, (owner, read_in)) in &late_texts {
                let candidates = late.candidates(haystack);
                jobs.extend(
                    (candidates.into_iter())
                        .filter(|(job, written_in)| job != owner && written_in <= read_in)
                        .map(|(job, _)| job),
                );
            }
        })?;
        Ok(jobs)
    }

    /// In a `reindex`: the pages of the last commit, outside this run's
    /// changes, whose quotes' verification may change: those found in a raw
    /// page this run changed or removed, and those the new raw text holds.
    pub(crate) fn committed_pages_to_check(&self) -> Result<BTreeSet<String>> {
        let Some(committed) = &self.committed else {
            return Ok(BTreeSet::new());
        };
        let mut pages = committed.quote_pages_found_in_excluded()?;
        for id in 0..self.corpus.len() {
            pages.extend(committed.quote_pages_held_by(&self.corpus.text(id)?.1)?);
        }
        Ok(pages)
    }
}

/// The fingerprints of the quotes written, each with its job and batch, in
/// a scratch file: 28 bytes a quote on disk, a buffer in memory.
struct QuoteLog {
    file: Scratch,
}

/// Bytes a quote takes in a [`QuoteLog`].
const LOGGED: usize = 28;
/// Quotes read back at a time: about 16 MiB in memory, twice while sorted.
const READ_BACK: usize = 1 << 19;

impl QuoteLog {
    fn new(index_dir: &Path) -> QuoteLog {
        QuoteLog {
            file: Scratch::new(index_dir, "claimsearch-quotes.tmp"),
        }
    }

    fn add(&mut self, fingerprint: Fingerprint, job: u32, batch: u32) -> Result<()> {
        let mut record = [0u8; LOGGED];
        record[..8].copy_from_slice(&fingerprint.first.to_le_bytes());
        record[8..12].copy_from_slice(&fingerprint.len.to_le_bytes());
        record[12..20].copy_from_slice(&fingerprint.key.to_le_bytes());
        record[20..24].copy_from_slice(&job.to_le_bytes());
        record[24..].copy_from_slice(&batch.to_le_bytes());
        self.file.write(&record)
    }

    /// Hands the quotes written so far to `each`, [`READ_BACK`] at a time.
    fn read_back(&mut self, mut each: impl FnMut(&mut LateQuotes<(u32, u32)>)) -> Result<()> {
        self.file.flush()?;
        let Some(mut input) = self.file.reader()? else {
            return Ok(());
        };
        let mut record = [0u8; LOGGED];
        let mut more = true;
        while more {
            let mut late = LateQuotes::new();
            let mut read = 0;
            while read < READ_BACK {
                match input.read_exact(&mut record) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                        more = false;
                        break;
                    }
                    Err(e) => return Err(self.file.error(e)),
                }
                let u64_at = |i: usize| u64::from_le_bytes(record[i..i + 8].try_into().unwrap());
                let u32_at = |i: usize| u32::from_le_bytes(record[i..i + 4].try_into().unwrap());
                let fingerprint = Fingerprint {
                    first: u64_at(0),
                    len: u32_at(8),
                    key: u64_at(12),
                };
                late.add(fingerprint, (u32_at(20), u32_at(24)));
                read += 1;
            }
            if read > 0 {
                each(&mut late);
            }
        }
        Ok(())
    }
}

/// The raw texts of a run, in a scratch file: a million pages hold about
/// 110 MiB of raw text.
pub(crate) struct TextFile {
    file: Scratch,
    /// Where each text starts; one more entry at the end: where the next will.
    starts: Vec<u64>,
}

impl TextFile {
    fn new(index_dir: &Path) -> TextFile {
        TextFile {
            file: Scratch::new(index_dir, "claimsearch-rawtext.tmp"),
            starts: vec![0],
        }
    }
}

impl Texts for TextFile {
    type Error = Error;

    fn keep(&mut self, haystack: Haystack) -> Result<()> {
        self.file.write(haystack.text.as_bytes())?;
        let end = self.starts.last().copied().unwrap_or(0) + haystack.text.len() as u64;
        self.starts.push(end);
        Ok(())
    }

    fn get(&self, id: usize) -> Result<Cow<'_, Haystack>> {
        let (start, end) = (self.starts[id], self.starts[id + 1]);
        let mut bytes = vec![0; (end - start) as usize];
        self.file.read_at(&mut bytes, start)?;
        let text = String::from_utf8(bytes).map_err(|e| {
            (self.file).error(std::io::Error::new(std::io::ErrorKind::InvalidData, e))
        })?;
        Ok(Cow::Owned(Haystack { text }))
    }

    fn sync(&mut self) -> Result<()> {
        self.file.flush()
    }
}

impl Verifier<'_> {
    /// The raw texts holding a quote: the known ones, and the page's own.
    /// Paths found in the last commit's raw text are added to `hits`.
    pub(crate) fn find(
        &self,
        needle: &Needle,
        own: &[(FoundIn, Haystack, Vec<u64>)],
        hits: &mut Vec<String>,
    ) -> Result<Vec<FoundIn>> {
        let mut found = self.corpus.find_kept(needle)?;
        if let Some(committed) = self.committed {
            let more = committed.find(needle)?;
            hits.extend(more.iter().map(|at| at.path.clone()));
            found.extend(more);
        }
        let holds = |(_, haystack, _): &&(FoundIn, Haystack, Vec<u64>)| haystack.contains(needle);
        found.extend(own.iter().filter(holds).map(|(at, _, _)| at.clone()));
        found.sort();
        found.dedup();
        Ok(found)
    }
}

/// The last commit, as a `reindex` sees it: everything but the pages this
/// run rewrites or removes.
pub(crate) struct Committed {
    searcher: Searcher,
    fields: Fields,
    /// The raw texts' shingles of each segment, read by range: a quote's
    /// few shingles looked up in every segment of a large commit would
    /// keep resident, through a mapping, most of the files.
    shingles: Vec<SegmentKeys>,
    /// Pages this run removes, and once every page is read, those it wrote
    /// again: what the commit holds of them is out of date.
    excluded: HashSet<String>,
    /// Every raw text of the commit, read the first time a quote too short
    /// for the winnowed shingles is looked up.
    every_raw_text: OnceLock<RawCorpus>,
    /// What the lookups touched in the commit's mapped files, let go of
    /// every [`LET_GO_EVERY`] lookups of a term.
    touched: Touched,
    lookups: AtomicU32,
}

/// Lookups of a term in every segment between two [`Touched::let_go`]: a
/// bound on what they keep mapped (a lookup after the pages are let go of
/// maps the few it needs again, from the page cache).
const LET_GO_EVERY: u32 = 64;

impl Committed {
    /// The last commit seen by `searcher` (of the index in `dir`), without
    /// the pages in `excluded`.
    pub(crate) fn new(
        dir: &Path,
        searcher: Searcher,
        touched: Touched,
        fields: Fields,
        excluded: HashSet<String>,
    ) -> Result<Committed> {
        let shingles = (searcher.segment_readers().iter())
            .map(|segment| SegmentKeys::open_to_read(dir, segment, &RAW_SHINGLES))
            .collect::<tantivy::Result<Vec<_>>>()?;
        // What opening every segment touched is not needed again soon.
        touched.let_go();
        Ok(Committed {
            searcher,
            fields,
            shingles,
            excluded,
            every_raw_text: OnceLock::new(),
            touched,
            lookups: AtomicU32::new(0),
        })
    }

    /// The raw texts of the commit that hold a quote: those whose first
    /// passage holds every winnowed shingle of it (each raw text holds its
    /// own there), compared with it. A quote with no piece long enough to
    /// have winnowed shingles is compared with every raw text.
    fn find(&self, needle: &Needle) -> Result<Vec<FoundIn>> {
        let sparse = needle.sparse_shingles();
        if sparse.is_empty() {
            return self.find_short(needle);
        }
        let mut holders = Vec::new();
        let (mut common, mut docs) = (Vec::new(), Vec::new());
        let segments = self.searcher.segment_readers().iter();
        for (ordinal, (segment, shingles)) in segments.zip(&self.shingles).enumerate() {
            // The documents holding every shingle, in order.
            for (i, shingle) in sparse.iter().enumerate() {
                docs.clear();
                shingles.docs(*shingle, &mut docs);
                if i == 0 {
                    std::mem::swap(&mut common, &mut docs);
                } else {
                    common.retain(|doc| docs.binary_search(doc).is_ok());
                }
                if common.is_empty() {
                    break;
                }
            }
            let alive = segment.alive_bitset();
            (common.iter())
                .filter(|&&doc| alive.is_none_or(|a| a.is_alive(doc)))
                .for_each(|&doc| holders.push(DocAddress::new(ordinal as u32, doc)));
        }
        let mut found = Vec::new();
        for address in holders {
            let first = self.record(address)?;
            if self.excluded.contains(&first.path) {
                continue;
            }
            let (at, haystack) = self.raw_text(&first)?;
            if haystack.contains(needle) {
                found.push(at);
            }
        }
        Ok(found)
    }

    /// [`Committed::find`] for a quote too short for the winnowed shingles:
    /// every raw text of the commit is read (once a run) and looked up in
    /// memory.
    fn find_short(&self, needle: &Needle) -> Result<Vec<FoundIn>> {
        let corpus = match self.every_raw_text.get() {
            Some(corpus) => corpus,
            None => {
                let mut corpus = RawCorpus::new();
                let marker = Term::from_field_u64(self.fields.raw_text, RAW_TEXT);
                for address in self.postings(&marker)? {
                    let (at, haystack) = self.raw_text(&self.record(address)?)?;
                    corpus.add_haystack(at, haystack);
                }
                corpus.seal();
                self.every_raw_text.get_or_init(|| corpus)
            }
        };
        let mut found = corpus.find(needle);
        found.retain(|at| !self.excluded.contains(&at.path));
        Ok(found)
    }

    /// The pages (outside this run's) holding a quote found in a page of this
    /// run (one changed or removed).
    fn quote_pages_found_in_excluded(&self) -> Result<BTreeSet<String>> {
        let mut pages = BTreeSet::new();
        for path in &self.excluded {
            let term = Term::from_field_text(self.fields.found_in, &keyword_term(path));
            for address in self.postings(&term)? {
                let record = self.record(address)?;
                if !self.excluded.contains(&record.path) {
                    pages.insert(record.path);
                }
            }
        }
        Ok(pages)
    }

    /// The pages (outside this run's) holding a quote that `haystack` holds
    /// and that is not yet found in it.
    ///
    /// The quotes anchored at one of the text's shingles are many when quotes
    /// start alike ("We show that …"); each one's fingerprint, kept in fast
    /// columns, is checked against the text's words first, and only the
    /// quotes whose words it holds in a row are read and compared.
    fn quote_pages_held_by(&self, haystack: &Haystack) -> Result<BTreeSet<String>> {
        let shingles = haystack.distinct_shingles();
        let columns = (self.searcher.segment_readers().iter())
            .map(|segment| {
                let fast = segment.fast_fields();
                Ok((fast.u64(names::QUOTE_LEN)?, fast.u64(names::QUOTE_RUN)?))
            })
            .collect::<tantivy::Result<Vec<_>>>()?;
        let mut anchored: Vec<(Fingerprint, DocAddress)> = Vec::new();
        for &first in &shingles {
            let term = Term::from_field_u64(self.fields.quote_anchor, first);
            for address in self.postings(&term)? {
                let (lens, runs) = &columns[address.segment_ord as usize];
                if let (Some(len), Some(key)) =
                    (lens.first(address.doc_id), runs.first(address.doc_id))
                {
                    let len = u32::try_from(len).unwrap_or(u32::MAX);
                    anchored.push((Fingerprint { first, len, key }, address));
                }
            }
        }
        anchored.sort_unstable();
        let fingerprints: Vec<Fingerprint> = anchored.iter().map(|(f, _)| *f).collect();
        let mut held = Vec::new();
        haystack.holds_words(&fingerprints, |i| held.push(anchored[i].1));
        held.sort_unstable();
        held.dedup();
        let mut pages = BTreeSet::new();
        for address in held {
            let record = self.record(address)?;
            if self.excluded.contains(&record.path) || pages.contains(&record.path) {
                continue;
            }
            if Needle::new(&record.text).is_some_and(|n| haystack.contains(&n)) {
                pages.insert(record.path);
            }
        }
        Ok(pages)
    }

    /// The live documents holding `term`.
    fn postings(&self, term: &Term) -> Result<Vec<DocAddress>> {
        if self.lookups.fetch_add(1, Ordering::Relaxed) % LET_GO_EVERY == LET_GO_EVERY - 1 {
            self.touched.let_go();
        }
        let mut found = Vec::new();
        for (ordinal, segment) in self.searcher.segment_readers().iter().enumerate() {
            let index = segment.inverted_index(term.field())?;
            let postings = (index.read_postings(term, IndexRecordOption::Basic))
                .map_err(tantivy::TantivyError::from)?;
            let Some(mut postings) = postings else {
                continue;
            };
            let alive = segment.alive_bitset();
            let mut doc = postings.doc();
            while doc != TERMINATED {
                if alive.is_none_or(|a| a.is_alive(doc)) {
                    found.push(DocAddress::new(ordinal as u32, doc));
                }
                doc = postings.advance();
            }
        }
        Ok(found)
    }

    fn record(&self, address: DocAddress) -> Result<Record> {
        let doc: TantivyDocument = self.searcher.doc(address)?;
        stored_record(&self.fields, &doc)
    }

    /// The whole raw text whose first passage is `first`: its passages, read
    /// back from the commit in order.
    fn raw_text(&self, first: &Record) -> Result<(FoundIn, Haystack)> {
        let prefix = first.id.strip_suffix("1").unwrap_or(&first.id);
        let term = crate::schema::path_term(&self.fields, &first.path);
        let mut passages: Vec<(usize, String)> = Vec::new();
        for address in self.postings(&term)? {
            let record = self.record(address)?;
            if record.kind != Kind::Passage || record.path != first.path {
                continue;
            }
            if let Some(n) = (record.id.strip_prefix(prefix)).and_then(|n| n.parse().ok()) {
                passages.push((n, record.text));
            }
        }
        passages.sort_unstable_by_key(|(n, _)| *n);
        let paragraphs: Vec<String> = passages.into_iter().map(|(_, p)| p).collect();
        let at = FoundIn {
            path: first.path.clone(),
            title: first.title.clone(),
        };
        Ok((at, Haystack::new(&paragraphs)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quote(text: &str) -> Traced {
        Traced {
            fingerprints: vec![Needle::new(text).unwrap().fingerprint],
            ..Traced::default()
        }
    }

    fn raw(path: &str, text: &str) -> Traced {
        let haystack = Haystack::new(&[text]);
        let shingles = haystack.distinct_shingles();
        let at = FoundIn {
            path: path.into(),
            title: path.into(),
        };
        Traced {
            raw: vec![(at, haystack, shingles)],
            ..Traced::default()
        }
    }

    /// Batches of two jobs: a quote is looked up again only when raw text
    /// that may hold it was read in its own batch or a later one (an earlier
    /// batch's raw text was known when the quote was written).
    #[test]
    fn quotes_are_looked_up_again_only_for_raw_text_read_at_or_after_their_batch() {
        let dir = tempfile::tempdir().unwrap();
        let mut tracer = Tracer::new(None, dir.path());
        let absorb = |tracer: &mut Tracer, job, traced| tracer.absorb(job, traced).unwrap();
        absorb(
            &mut tracer,
            0,
            raw("early.txt", "the wind holds steady all day"),
        );
        absorb(&mut tracer, 1, quote("The wind holds steady all day."));
        tracer.seal().unwrap();
        absorb(&mut tracer, 2, quote("Kites fly in a storm."));
        absorb(
            &mut tracer,
            3,
            raw("same-batch.txt", "nobody says kites fly in a storm"),
        );
        tracer.seal().unwrap();
        absorb(
            &mut tracer,
            4,
            raw("later.txt", "they say the wind holds steady all day"),
        );
        absorb(&mut tracer, 5, quote("Nothing holds this quote anywhere."));
        tracer.seal().unwrap();
        assert_eq!(tracer.late_jobs().unwrap(), [1, 2].into_iter().collect());
        // the quote of job 1 was checked against early.txt when written
        let needle = Needle::new("The wind holds steady all day.").unwrap();
        let found = tracer
            .verifier()
            .find(&needle, &[], &mut Vec::new())
            .unwrap();
        assert_eq!(found.len(), 2);
        // The quotes waited on disk, and the scratch file goes with the tracer.
        assert!(dir.path().join("claimsearch-quotes.tmp").exists());
        assert!(dir.path().join("claimsearch-rawtext.tmp").exists());
        drop(tracer);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
