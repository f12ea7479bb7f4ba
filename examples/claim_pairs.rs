//! Scores "the same claim" on the labelled pairs (`eval/claim-pairs.txt`):
//! the decision in use and the alternatives compared in EVALUATION.md, each
//! on the dev families, the held-out families and all, with the time a
//! decision takes.
//!
//! `cargo run --release --example claim_pairs` (add `-- --sweep` for the
//! threshold grid of each alternative on the dev families, `-- --misses`
//! for the pairs the decision in use gets wrong).

use std::time::Instant;

use claimsearch::echo::decide::{Params, PARAMS};
use claimsearch::echo::eval::{self, Approach, Pair, PairKind};
use claimsearch::echo::keys;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let pairs = eval::shipped();
    let dev: Vec<&Pair> = pairs.iter().filter(|p| !p.held).collect();
    let held: Vec<&Pair> = pairs.iter().filter(|p| p.held).collect();
    let all: Vec<&Pair> = pairs.iter().collect();
    println!(
        "{} pairs: {} dev ({} families), {} held out",
        pairs.len(),
        dev.len(),
        count_families(&dev),
        held.len()
    );
    let no_guards = Params {
        guards: false,
        ..PARAMS
    };
    let approaches: Vec<(String, Approach)> = vec![
        (
            "decision in use + shared lookup key (what the index does)".into(),
            Approach::Indexed(PARAMS, keys::PICKED),
        ),
        (
            "decision in use + a shared MinHash band, 10 x 2 (the keys before)".into(),
            Approach::Banded(PARAMS, 10, 2),
        ),
        (
            "decision in use (content words + guards)".into(),
            Approach::Decision(PARAMS),
        ),
        (
            "content words, no guards".into(),
            Approach::Decision(no_guards),
        ),
        (
            "MinHash, 2-word shingles, >= 0.3".into(),
            Approach::Shingles(2, 0.3),
        ),
        (
            "MinHash, 1-word shingles, >= 0.5".into(),
            Approach::Shingles(1, 0.5),
        ),
        ("SimHash, <= 12 bits apart".into(), Approach::SimHash(12)),
        (
            "BM25 cosine (more-like-this), >= 0.5".into(),
            Approach::Bm25Cosine(0.5),
        ),
    ];
    if args.iter().any(|a| a == "--sweep") {
        sweep(&dev, &pairs);
        return;
    }
    for (name, approach) in &approaches {
        let started = Instant::now();
        let (d, h, a) = (
            eval::score(&dev, *approach, &pairs),
            eval::score(&held, *approach, &pairs),
            eval::score(&all, *approach, &pairs),
        );
        let per_pair = started.elapsed().as_secs_f64() * 1e6 / (3 * pairs.len()) as f64;
        println!("\n{name}  ({per_pair:.1} µs per pair, reading both texts)");
        println!(
            "  dev P {:.3} R {:.3} | held P {:.3} R {:.3} | all P {:.3} R {:.3} | negations grouped {} reversals grouped {}",
            d.precision(), d.recall(), h.precision(), h.recall(), a.precision(), a.recall(),
            a.of(PairKind::Negation).grouped, a.of(PairKind::Reversal).grouped
        );
        print!("{}", a.table());
    }
    if args.iter().any(|a| a == "--misses") {
        let judge = Approach::Indexed(PARAMS, keys::PICKED);
        for pair in &pairs {
            let one = eval::score(&[pair], judge, &pairs);
            let grouped = one.of(pair.kind).grouped == 1;
            if grouped != pair.kind.same() {
                println!(
                    "\n{} {} {:?} {}\n  A: {}\n  B: {}",
                    if grouped { "WRONGLY GROUPED" } else { "MISSED" },
                    pair.kind.as_str(),
                    pair.family,
                    if pair.held { "held" } else { "dev" },
                    pair.a.text,
                    pair.b.text
                );
            }
        }
    }
}

fn count_families(pairs: &[&Pair]) -> usize {
    let mut names: Vec<&str> = pairs.iter().map(|p| p.family.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    names.len()
}

/// Each alternative over its threshold, on the dev families only.
fn sweep(dev: &[&Pair], pairs: &[Pair]) {
    let line = |name: String, approach: Approach| {
        let s = eval::score(dev, approach, pairs);
        println!(
            "{name:<40} P {:.3} R {:.3} neg {} rev {}",
            s.precision(),
            s.recall(),
            s.of(PairKind::Negation).grouped,
            s.of(PairKind::Reversal).grouped
        );
    };
    for t in [0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6] {
        line(
            format!("decision, jaccard {t}"),
            Approach::Decision(Params {
                jaccard: t,
                ..PARAMS
            }),
        );
    }
    for c in [0.6, 0.65, 0.7, 0.75, 0.8, 0.9, 1.01] {
        line(
            format!("decision, containment {c}"),
            Approach::Decision(Params {
                containment: c,
                ..PARAMS
            }),
        );
    }
    for t in [0.3, 0.4, 0.5, 0.6, 0.7, 0.8] {
        line(
            format!("no guards, jaccard {t}"),
            Approach::Decision(Params {
                jaccard: t,
                containment: 1.01,
                guards: false,
                ..PARAMS
            }),
        );
    }
    for t in [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7] {
        line(format!("shingles 2, {t}"), Approach::Shingles(2, t));
        line(format!("shingles 1, {t}"), Approach::Shingles(1, t));
    }
    for b in [4, 8, 12, 16, 20, 24] {
        line(format!("simhash {b} bits"), Approach::SimHash(b));
    }
    for t in [0.3, 0.4, 0.5, 0.6, 0.7, 0.8] {
        line(format!("bm25 cosine {t}"), Approach::Bm25Cosine(t));
    }
    for (b, r) in [(6, 2), (8, 2), (10, 2), (12, 2), (16, 2), (20, 3), (10, 1)] {
        line(
            format!("MinHash keys, {b} bands x {r} rows"),
            Approach::Banded(PARAMS, b, r),
        );
    }
    for picked in [4, 5, 6, 7] {
        line(
            format!("pair keys of {picked} picked words"),
            Approach::Indexed(PARAMS, picked),
        );
    }
}
