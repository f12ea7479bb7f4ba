//! Links the `claimsearch` program at a fixed address, and writes the
//! British spellings table into the library.
//!
//! Position-independent, the program had about 29,000 relocations applied
//! by the loader at every start, and the pages they touch copied: about
//! 0.4 ms of CPU and 150 page faults of each run, a twentieth of a one-shot
//! `claimsearch query` (BENCHMARKS.md). The price is that the program's own
//! code is not placed at a random address (its libraries, stack and heap
//! still are); the library crate and the programs that embed it are linked
//! as their own builds say.
//!
//! The spellings list (`src/spelling-variants.txt`) expands to about 1,700
//! words. Parsed at start-up into a hash map, it cost every one-shot query
//! about 0.3 ms and 40 page faults of fresh heap on its main thread; here
//! it becomes a table of constants (`spelling_table.rs` in `OUT_DIR`): the
//! words' text, each word's place in it, and an open-addressing table of
//! slots, read where a lookup lands.

use std::fmt::Write as _;

#[path = "src/spelling_list.rs"]
mod spelling_list;

fn main() {
    println!("cargo:rustc-link-arg-bins=-no-pie");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/spelling_list.rs");
    println!("cargo:rerun-if-changed=src/spelling-variants.txt");
    let list = std::fs::read_to_string("src/spelling-variants.txt")
        .expect("src/spelling-variants.txt is part of the package");
    let expanded = match spelling_list::expand(&list) {
        Ok(expanded) => expanded,
        Err(e) => panic!("src/spelling-variants.txt: {e}"),
    };
    let out = std::path::Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("spelling_table.rs");
    std::fs::write(out, table(&expanded)).expect("OUT_DIR is writable");
}

/// The table's source: `TEXT` holds each British word followed by its
/// American one; `ENTRIES` gives, per word, where the British starts, where
/// the American starts and where it ends; `SLOTS` (a power of two, at most
/// half full) holds 1 + the entry of the word whose search reaches it, 0
/// when empty; `PREFIXES` the prefixes, longest first.
fn table(expanded: &spelling_list::Expanded) -> String {
    let mut text = String::new();
    let mut entries = Vec::new();
    for (british, american) in &expanded.words {
        let start = text.len();
        text.push_str(british);
        let middle = text.len();
        text.push_str(american);
        entries.push((start, middle, text.len()));
    }
    let size = (2 * entries.len()).next_power_of_two().max(2);
    assert!(
        entries.len() < usize::from(u16::MAX),
        "too many words for u16 slots"
    );
    let mut slots = vec![0u16; size];
    for (n, (british, _)) in expanded.words.iter().enumerate() {
        let mut slot = spelling_list::slot_hash(british) as usize & (size - 1);
        while slots[slot] != 0 {
            slot = (slot + 1) & (size - 1);
        }
        slots[slot] = n as u16 + 1;
    }
    let mut src = String::from("// Written by build.rs from src/spelling-variants.txt.\n");
    writeln!(src, "pub(super) static TEXT: &str = {text:?};").unwrap();
    writeln!(
        src,
        "pub(super) static ENTRIES: [(u32, u32, u32); {}] = [",
        entries.len()
    )
    .unwrap();
    for (start, middle, end) in &entries {
        writeln!(src, "    ({start}, {middle}, {end}),").unwrap();
    }
    writeln!(src, "];\npub(super) static SLOTS: [u16; {size}] = [").unwrap();
    for chunk in slots.chunks(16) {
        let row: Vec<String> = chunk.iter().map(u16::to_string).collect();
        writeln!(src, "    {},", row.join(", ")).unwrap();
    }
    let prefixes = &expanded.prefixes;
    writeln!(
        src,
        "];\npub(super) static PREFIXES: [(&str, &str); {}] = [",
        prefixes.len()
    )
    .unwrap();
    for (british, american) in prefixes {
        writeln!(src, "    ({british:?}, {american:?}),").unwrap();
    }
    src.push_str("];\n");
    src
}
