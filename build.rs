//! Links the `claimsearch` program at a fixed address.
//!
//! Position-independent, the program had about 29,000 relocations applied
//! by the loader at every start, and the pages they touch copied: about
//! 0.4 ms of CPU and 150 page faults of each run, a twentieth of a one-shot
//! `claimsearch query` (BENCHMARKS.md). The price is that the program's own
//! code is not placed at a random address (its libraries, stack and heap
//! still are); the library crate and the programs that embed it are linked
//! as their own builds say.

fn main() {
    println!("cargo:rustc-link-arg-bins=-no-pie");
}
