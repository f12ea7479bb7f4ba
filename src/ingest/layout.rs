//! The segments an index is left in: which of them a write run merges
//! before it ends, so that a search opens few segments and no merge maps
//! more than a bounded part of the index.
//!
//! Tantivy is never left to merge on its own. Its default policy merges a
//! whole level of similar segments at once: after a full build that is every
//! segment, the whole index rewritten by a background thread with all of it
//! mapped (at 1,000,000 pages, 7.8 GB), and a short-lived `reindex` process
//! starts such a merge only to abandon it when it exits, so segments pile up
//! run after run. Instead, every write run ends by merging the groups
//! [`groups`] picks, one after the other, and waits for them.

use tantivy::index::{SegmentId, SegmentMeta};
use tantivy::{IndexWriter, TantivyDocument};

use crate::error::Result;

/// Documents a merge may take in, alive and deleted. A merge maps every
/// input it reads, so its peak memory is about the size of its inputs: at
/// the generated corpus's 500 bytes of index a document, 400,000 documents
/// are about 200 MB, less than the build's own peak. After a full build,
/// segments are about this large: 5 at 100,000 pages, 40 at 1,000,000.
pub(crate) const MERGE_DOCS: u32 = 400_000;

/// A segment this share of whose documents are deleted is rewritten even
/// when nothing is merged with it.
const DELETED_SHARE: f64 = 0.25;

/// The groups of segments to merge, each into one segment.
///
/// Segments are taken smallest first and packed into a group while the group
/// stays within [`MERGE_DOCS`]. After an update ([`Merges::Update`]) the
/// next segment must also hold at most twice what the group holds so far:
/// segments of about the same size are merged together, and a large segment
/// is not rewritten to take in a small one (a `reindex` adds a small
/// segment; it waits until enough small ones add up). After a full build
/// ([`Merges::Build`]) every segment is written anew anyway, and the small
/// ones left by the end of the build join the others. A group of one is
/// kept as it is unless it holds many deleted documents. The same segments
/// give the same groups, in any order.
pub(crate) fn groups(segments: &[SegmentMeta], after: Merges) -> Vec<Vec<SegmentId>> {
    let mut sorted: Vec<&SegmentMeta> = segments.iter().collect();
    sorted.sort_by_key(|s| (s.max_doc(), s.id()));
    let mut groups: Vec<Vec<&SegmentMeta>> = Vec::new();
    let mut held = 0u64;
    for segment in sorted {
        let size = u64::from(segment.max_doc());
        let joins = !groups.is_empty()
            && held + size <= u64::from(MERGE_DOCS)
            && (after == Merges::Build || size <= 2 * held.max(1));
        if joins {
            groups.last_mut().expect("a group to join").push(segment);
            held += size;
        } else {
            groups.push(vec![segment]);
            held = size;
        }
    }
    groups
        .into_iter()
        .filter(|group| match group.as_slice() {
            [alone] => deleted_share(alone) >= DELETED_SHARE,
            _ => true,
        })
        .map(|group| group.iter().map(|s| s.id()).collect())
        .collect()
}

/// What wrote the commit whose segments are merged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Merges {
    /// A full build: every segment is new.
    Build,
    /// A `reindex`: a few small segments next to the last build's.
    Update,
}

fn deleted_share(segment: &SegmentMeta) -> f64 {
    if segment.max_doc() == 0 {
        return 0.0;
    }
    f64::from(segment.num_deleted_docs()) / f64::from(segment.max_doc())
}

/// Merges the committed segments of `writer`'s index as [`groups`] says,
/// one group at a time (one merge's inputs mapped at once). Each merge
/// commits on its own, keeping the commit's payload, and removes the files
/// of the segments it merged; a run killed in the middle leaves the index as
/// the last merge left it, and its unfinished files are collected by the
/// next writer.
pub(crate) fn settle(writer: &mut IndexWriter<TantivyDocument>, after: Merges) -> Result<()> {
    // The metas hold their segments' files: let them go before merging, so
    // that each merge can remove the segments it took in.
    let groups = groups(&writer.index().searchable_segment_metas()?, after);
    give_back_freed_memory();
    for group in &groups {
        writer.merge(group).wait()?;
    }
    Ok(())
}

/// Returns to the system the heap memory the run freed. The allocator keeps
/// it for later use otherwise, and a merge's mapped inputs would come on
/// top of it: at 100,000 pages the peak rose from 266 to 450 MiB. A full
/// build also calls it once its job list is on disk (`super::rebuild`), and
/// every write run after each batch of pages (`super::process::run_each`).
pub(super) fn give_back_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` only releases free memory of the allocator's
    // own arenas; it touches no memory in use and has no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::schema::Schema;
    use tantivy::Index;

    fn segment(inventory: &Index, docs: u32, deleted: u32) -> SegmentMeta {
        let meta = inventory.new_segment_meta(SegmentId::generate_random(), docs);
        if deleted == 0 {
            meta
        } else {
            meta.with_delete_meta(deleted, 1)
        }
    }

    fn sizes(segments: &[SegmentMeta], groups: &[Vec<SegmentId>]) -> Vec<Vec<u32>> {
        let mut sizes: Vec<Vec<u32>> = (groups.iter())
            .map(|group| {
                let mut docs: Vec<u32> = (group.iter())
                    .map(|id| segments.iter().find(|s| s.id() == *id).unwrap().max_doc())
                    .collect();
                docs.sort();
                docs
            })
            .collect();
        sizes.sort();
        sizes
    }

    #[test]
    fn a_full_build_s_segments_merge_into_groups_within_the_bound() {
        let inventory = Index::create_in_ram(Schema::builder().build());
        let segments: Vec<SegmentMeta> = (0..20)
            .map(|i| segment(&inventory, 75_000 + i * 100, 0))
            .collect();
        for after in [Merges::Build, Merges::Update] {
            let groups = groups(&segments, after);
            assert_eq!(groups.len(), 4);
            for group in sizes(&segments, &groups) {
                assert_eq!(group.len(), 5);
                assert!(group.iter().sum::<u32>() <= MERGE_DOCS);
            }
        }
    }

    #[test]
    fn a_small_segment_waits_for_others_rather_than_rewriting_a_large_one() {
        let inventory = Index::create_in_ram(Schema::builder().build());
        let mut segments: Vec<SegmentMeta> =
            (0..4).map(|_| segment(&inventory, 380_000, 0)).collect();
        segments.push(segment(&inventory, 15_000, 0));
        assert!(groups(&segments, Merges::Update).is_empty());
        segments.push(segment(&inventory, 14_000, 0));
        assert_eq!(
            sizes(&segments, &groups(&segments, Merges::Update)),
            [vec![14_000, 15_000]]
        );
    }

    #[test]
    fn after_a_build_the_small_segments_join_the_others() {
        let inventory = Index::create_in_ram(Schema::builder().build());
        let mut segments: Vec<SegmentMeta> = (0..4)
            .map(|i| segment(&inventory, 330_000 + i * 20_000, 0))
            .collect();
        segments.push(segment(&inventory, 37_796, 0));
        segments.push(segment(&inventory, 5_030, 0));
        assert_eq!(
            sizes(&segments, &groups(&segments, Merges::Build)),
            [vec![5_030, 37_796, 330_000]]
        );
        assert!(groups(&segments, Merges::Update).is_empty());
    }

    #[test]
    fn a_segment_with_many_deletes_is_rewritten_alone() {
        let inventory = Index::create_in_ram(Schema::builder().build());
        let segments = vec![
            segment(&inventory, 380_000, 100_000),
            segment(&inventory, 380_000, 1_000),
        ];
        for after in [Merges::Build, Merges::Update] {
            assert_eq!(groups(&segments, after), [vec![segments[0].id()]]);
        }
    }

    #[test]
    fn the_groups_do_not_depend_on_the_order_segments_are_listed_in() {
        let inventory = Index::create_in_ram(Schema::builder().build());
        let mut segments: Vec<SegmentMeta> = (0..30)
            .map(|i| segment(&inventory, 1_000 + (i * 7919) % 90_000, 0))
            .collect();
        for after in [Merges::Build, Merges::Update] {
            let first = groups(&segments, after);
            segments.reverse();
            assert_eq!(groups(&segments, after), first);
            assert!(first.len() > 1);
        }
    }
}
