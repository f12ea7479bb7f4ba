#!/usr/bin/env python3
"""Tests for scripts/gen-corpus. Standard library only.

Run from anywhere: python3 scripts/test_gen_corpus.py [-v]

The checks against claimsearch itself (index, query) run only when a built binary exists in
target/release or target/debug; set CLAIMSEARCH_BIN to use another one.
"""

import collections
import hashlib
import importlib.machinery
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SCRIPT = os.path.join(HERE, "gen-corpus")
WORDS = os.path.join(ROOT, "src", "page", "words.txt")
PAGES = 1500
SEED = "7"


def load_generator():
    loader = importlib.machinery.SourceFileLoader("gen_corpus", SCRIPT)
    spec = importlib.util.spec_from_loader("gen_corpus", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


GEN = load_generator()


def run(*args):
    return subprocess.run([sys.executable, SCRIPT, *args], capture_output=True, text=True)


def tree_digest(root):
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            h.update(os.path.relpath(path, root).encode())
            with open(path, "rb") as f:
                h.update(hashlib.sha256(f.read()).digest())
    return h.hexdigest()


def files(root, sub, ext):
    out = []
    for dirpath, _, filenames in os.walk(os.path.join(root, sub)):
        out += [os.path.join(dirpath, f) for f in filenames if f.endswith(ext)]
    return sorted(out)


def read(path):
    with open(path, encoding="utf-8-sig", newline="") as f:
        return f.read().replace("\r\n", "\n")


# ---- a mirror of src/page/topics.rs, to check that glued topic lines split back ----------

WORD_RE = re.compile(r"[^\W_]+")


class Splitter:
    def __init__(self, builtin):
        self.builtin = builtin

    def parse(self, line, page_texts):
        self.page = {w for w in WORD_RE.findall(" ".join(page_texts).lower()) if len(w) >= 2}
        line = line.lower()
        tokens = [t for part in re.split("[,;·]", line) for t in part.split()]
        slugs = self.split_glued(tokens[0]) if len(tokens) == 1 else tokens
        return list(dict.fromkeys(slugs))

    def knows(self, w):
        return w in self.page or w in self.builtin

    def cost(self, w):
        on_page = w in self.page
        if on_page or (len(w) >= 4 and w in self.builtin):
            return (1, 0 if on_page else 1, -len(w) * len(w))
        return None

    def segment(self, part):
        n = len(part)
        best = [None] * (n + 1)
        best[0] = ((0, 0, 0), 0)
        for end in range(1, n + 1):
            for start in range(max(0, end - 40), end):
                if best[start] is None:
                    continue
                piece = self.cost(part[start:end])
                if piece is None:
                    continue
                b = best[start][0]
                total = (b[0] + piece[0], b[1] + piece[1], b[2] + piece[2])
                if best[end] is None or total < best[end][0]:
                    best[end] = (total, start)
        if best[n] is None:
            return None
        pieces, end = [], n
        while end > 0:
            start = best[end][1]
            pieces.append(part[start:end])
            end = start
        return pieces[::-1]

    def split_chunk(self, chunk):
        if self.knows(chunk):
            return [chunk]
        parts, start, prev_digit = [], 0, False
        for i, c in enumerate(chunk):
            if prev_digit and c.isalpha():
                parts.append(chunk[start:i])
                start = i
            prev_digit = c.isdigit()
        parts.append(chunk[start:])
        out = []
        for part in parts:
            out += self.segment(part) or [part]
        return out

    def split_glued(self, token):
        slugs, current = [], []
        for chunk in (c for c in token.split("-") if c):
            for i, piece in enumerate(self.split_chunk(chunk)):
                if i > 0 and current:
                    slugs.append("-".join(current))
                    current = []
                current.append(piece)
        if current:
            slugs.append("-".join(current))
        return slugs


# ---- a small reader of extraction pages --------------------------------------------------

HEADINGS = ("Appears in", "Extraction", "Claims", "Key quotes")
META = re.compile(r"^(?P<source>[^·]+) · (?:(?P<author>[^·]+) · )?(?P<date>\d{4}-\d{2}-\d{2})$")


def read_extraction(text):
    lines = [l.strip() for l in text.split("\n")]
    body = [l for l in lines if l]
    page = {"header": body[0], "title": body[1], "meta": body[2], "sections": [],
            "threads": [], "claims": [], "claim_lines": [], "quotes": [], "head": []}
    section = "head"
    for line in body[3:]:
        if line.startswith("Topics: "):
            page["topics"] = line[len("Topics: "):]
            page["sections"].append("Topics")
            section = "topics"
        elif line in HEADINGS:
            page["sections"].append(line)
            section = line
        elif section == "head":
            page["head"].append(line)
        elif section == "Appears in":
            page["threads"].append(line)
        elif section == "Claims":
            page["claims"].append(line)
        elif section == "Key quotes":
            page["quotes"].append(line)
    page["claim_lines"] = [l for l in text.split("\n") if l.startswith("  • ")]
    return page


class Generated(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="gen-corpus-test-")
        cls.root = os.path.join(cls.tmp, "a")
        got = run(str(PAGES), cls.root, "--seed", SEED)
        assert got.returncode == 0, got.stderr
        cls.summary = got.stderr
        cls.items = files(cls.root, "items", ".txt")
        cls.threads = sorted(os.listdir(os.path.join(cls.root, "threads")))
        cls.feeds = files(cls.root, "feeds", ".jsonl")
        cls.raw = files(cls.root, "raw", ".txt")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def test_summary_line(self):
        self.assertEqual(self.summary.count("\n"), 1)
        self.assertRegex(self.summary, rf"^gen-corpus: {PAGES} pages .* {PAGES} files, \d+ bytes .* s\n$")

    def test_mix_by_page_count(self):
        versions = sum(len(os.listdir(os.path.join(self.root, "threads", t))) for t in self.threads)
        self.assertEqual(len(self.items), 1320)
        self.assertEqual(versions, 90)
        self.assertEqual(len(self.feeds), 60)
        self.assertEqual(len(self.raw), 30)
        self.assertEqual(len(self.items) + versions + len(self.feeds) + len(self.raw), PAGES)

    def test_same_seed_same_bytes_other_seed_other_bytes(self):
        again = os.path.join(self.tmp, "again")
        self.assertEqual(run(str(PAGES), again, "--seed", SEED).returncode, 0)
        self.assertEqual(tree_digest(self.root), tree_digest(again))
        shutil.rmtree(again)
        other = os.path.join(self.tmp, "other")
        self.assertEqual(run("300", other, "--seed", "8").returncode, 0)
        self.assertNotEqual(tree_digest(self.root), tree_digest(other))
        shutil.rmtree(other)

    def test_extraction_pages(self):
        sizes, placeholders, no_author, glued = [], 0, 0, 0
        claim_counts = collections.Counter()
        known = set(GEN.all_topic_slugs())
        for path in self.items:
            text = read(path)
            sizes.append(len(text.encode()))
            self.assertRegex(os.path.relpath(path, self.root),
                             r"^items/20(1[5-9]|2[0-6])/(0[1-9]|1[0-2])/[a-z0-9-]+-\d+\.txt$")
            page = read_extraction(text)
            self.assertEqual(page["header"], "The Information Machine")
            meta = META.match(page["meta"])
            self.assertIsNotNone(meta, page["meta"])
            self.assertTrue("2015-01-01" <= meta["date"] <= "2026-10-31")
            no_author += meta["author"] is None
            self.assertEqual(page["sections"], ["Appears in", "Extraction", "Topics", "Claims", "Key quotes"])
            self.assertIn("Open original ↗", page["head"])
            summary = [l for l in page["head"] if l != "Open original ↗"]
            self.assertTrue(summary)
            placeholders += summary[0].startswith("(No summary yet")
            self.assertLessEqual(len(page["threads"]), 2)
            # 4-8 claims, and one more on a page that restates an echo claim.
            self.assertTrue(4 <= len(page["claims"]) <= 9, path)
            claim_counts.update(page["claims"])
            self.assertEqual(len(page["claim_lines"]), len(page["claims"]))
            self.assertTrue(2 <= len(page["quotes"]) <= 5, path)
            topics = page["topics"]
            if ", " in topics or topics in known:
                self.assertTrue(set(topics.split(", ")) <= known, topics)
            else:
                glued += 1
        n = len(self.items)
        average = sum(sizes) / n
        self.assertTrue(2000 <= average <= 3000, average)
        self.assertTrue(0.10 <= placeholders / n <= 0.20, placeholders / n)
        self.assertTrue(0.05 <= no_author / n <= 0.15, no_author / n)
        self.assertTrue(0.10 <= glued / n <= 0.25, glued / n)
        # Echoes: some claims stand word for word in several items, and some are denied.
        repeated = [c for c, k in claim_counts.items() if k > 1]
        self.assertGreater(len(repeated), 5)
        denied = sum(k for c, k in claim_counts.items() if "it is not the case that" in c.lower())
        self.assertGreater(denied, 0)

    def test_glued_topics_split_back_into_the_slugs(self):
        if not os.path.exists(WORDS):
            self.skipTest(f"{WORDS} not found")
        with open(WORDS, encoding="utf-8") as f:
            builtin = {l.strip() for l in f if l.strip() and not l.startswith("#")}
        splitter = Splitter(builtin)
        known = set(GEN.all_topic_slugs())
        checked = 0
        for path in self.items:
            page = read_extraction(read(path))
            line = page["topics"]
            if ", " in line or line in known:
                continue
            summary = [l for l in page["head"] if l != "Open original ↗" and not l.startswith("(No summary")]
            texts = [page["title"], *summary, *page["threads"],
                     *(c[2:] for c in page["claims"]), *page["quotes"]]
            slugs = splitter.parse(line, texts)
            self.assertEqual("".join(slugs), line)
            self.assertTrue(set(slugs) <= known, (path, line, slugs))
            checked += 1
        self.assertGreater(checked, 100)

    def test_threads(self):
        titles = set()
        bullets = set()
        for slug in self.threads:
            folder = os.path.join(self.root, "threads", slug)
            names = sorted(os.listdir(folder), key=lambda n: int(n[1:-4]))
            self.assertEqual(names, [f"v{k}.txt" for k in range(1, len(names) + 1)])
            self.assertTrue(1 <= len(names) <= 6)
            stamps, sizes, source_counts = [], [], []
            for k, name in enumerate(names, 1):
                text = read(os.path.join(folder, name))
                sizes.append(len(text))
                lines = [l.strip() for l in text.split("\n") if l.strip()]
                if lines[0] == "The Information Machine":
                    lines = lines[1:]
                self.assertTrue(lines[0].endswith(" · history"))
                titles.add(lines[0][: -len(" · history")])
                self.assertEqual(lines[1], f"Version {k}")
                self.assertRegex(lines[2], r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC · \d+ items$")
                stamps.append(lines[2][:16])
                heads = [l for l in lines if l in ("Narrative", "Timeline", "Perspectives", "Tensions", "Sources")]
                self.assertEqual(heads, ["Narrative", "Timeline", "Perspectives", "Tensions", "Sources"])
                sources = lines[lines.index("Sources") + 1:]
                for n, entry in enumerate(sources, 1):
                    self.assertRegex(entry, rf"^(- |{n}\. )\[{n}\] .+ — \S.*$")
                source_counts.append(len(sources))
                cited = [int(c) for c in re.findall(r"\[(\d+)\]", "\n".join(lines[: lines.index("Sources")]))]
                self.assertTrue(cited)
                self.assertLessEqual(max(cited), len(sources), (slug, name))
                bullets.update(re.findall(r"^(  • |- )\d{4}-\d{2}-\d{2}: ", text, re.M))
            self.assertEqual(stamps, sorted(stamps))
            self.assertEqual(source_counts, sorted(source_counts))
            if len(names) > 1:
                self.assertGreater(sizes[-1], sizes[0])
        self.assertEqual(bullets, {"  • ", "- "})
        # Items name generated threads by their exact titles.
        named = set()
        for path in self.items:
            named.update(read_extraction(read(path))["threads"])
        self.assertTrue(named)
        self.assertLessEqual(named, titles)

    def test_topic_phrases_have_a_long_tail(self):
        # The curated phrases head one Zipf over thousands of phrases, each with its own slug.
        phrases = GEN.PHRASES
        self.assertGreaterEqual(len(phrases), 2000)
        self.assertEqual([p.bare for p in phrases[:len(GEN.PHRASE_ROWS)]],
                         [row[0] for row in GEN.PHRASE_ROWS])
        self.assertEqual(len({p.slug for p in phrases}), len(phrases))
        self.assertTrue({p.cluster for p in phrases} <= set(GEN.CLUSTERS))
        # Share of claim and quote lines that name each curated phrase: none is everywhere
        # (the old 75-phrase Zipf put the top ones in 15-25% of records), the typical one is
        # in well under 1%, and the headline query still has hits.
        lines = []
        for path in self.items:
            page = read_extraction(read(path))
            lines += [l.lower() for l in page["claims"] + page["quotes"]]
        shares = {}
        for p in GEN.CURATED:
            pattern = re.compile(r"\b" + re.escape(p.bare.lower()) + r"\b")
            shares[p.bare] = sum(1 for l in lines if pattern.search(l)) / len(lines)
        ordered = sorted(shares.values())
        self.assertLessEqual(ordered[-1], 0.03, max(shares.items(), key=lambda kv: kv[1]))
        self.assertTrue(0.001 <= ordered[len(ordered) // 2] <= 0.01, ordered[len(ordered) // 2])
        self.assertGreaterEqual(shares["uniform convergence"], 0.002, shares["uniform convergence"])
        # Most items carry a tail phrase among their topics, and many distinct ones occur.
        curated = {p.slug for p in GEN.CURATED}
        tail = {p.slug for p in phrases} - curated
        seen, with_tail = set(), 0
        for path in self.items:
            topics = read_extraction(read(path))["topics"].split(", ")
            found = [t for t in topics if t in tail]
            seen.update(found)
            with_tail += bool(found)
        self.assertGreater(with_tail / len(self.items), 0.5)
        self.assertGreater(len(seen), 500)

    def test_feeds(self):
        keys = ["id", "title", "source", "author", "date", "url", "summary", "topics", "claims",
                "quotes", "threads"]
        for path in self.feeds:
            self.assertRegex(os.path.basename(path), r"^[a-z0-9-]+-\d+\.jsonl$")
            lines = read(path).rstrip("\n").split("\n")
            self.assertTrue(5 <= len(lines) <= 20)
            for line in lines:
                item = json.loads(line)
                self.assertEqual(list(item), keys)
                self.assertRegex(item["date"], r"^\d{4}-\d{2}-\d{2}$")
                self.assertTrue(item["title"] and item["claims"] and item["quotes"])

    def test_raw(self):
        titled = 0
        for path in self.raw:
            lines = read(path).rstrip("\n").split("\n")
            self.assertTrue(all(lines))
            titled += len(lines[0]) <= 120 and not lines[0].endswith((".", "?", "!", ":"))
        self.assertTrue(0.2 <= titled / len(self.raw) <= 0.8)

    def test_claimsearch_indexes_and_finds(self):
        binary = os.environ.get("CLAIMSEARCH_BIN") or next(
            (b for b in (os.path.join(ROOT, "target", d, "claimsearch") for d in ("release", "debug"))
             if os.path.exists(b)), None)
        if not binary:
            self.skipTest("no claimsearch binary built")
        index = os.path.join(self.tmp, "index")
        got = subprocess.run([binary, "index", "--corpus", self.root, "--index", index, "--json"],
                             capture_output=True, text=True)
        self.assertEqual(got.returncode, 0, got.stderr)
        report = json.loads(got.stdout)
        self.assertEqual(report["pages"], PAGES)
        self.assertEqual(report["skipped"], [])
        self.assertEqual(report["warnings"], [])
        self.assertGreaterEqual(report["records"], 8 * PAGES)
        totals = {}
        for q in ('"uniform convergence"', '"double descent"', "grokking", '"mode collapse"'):
            got = subprocess.run([binary, "query", "--index", index, "--json", "--limit", "1", q],
                                 capture_output=True, text=True)
            self.assertEqual(got.returncode, 0, got.stderr)
            totals[q] = json.loads(got.stdout)["total"]
        # A common curated phrase is well ahead of a rare one, and no phrase is everywhere.
        self.assertGreater(totals['"uniform convergence"'], totals['"mode collapse"'] * 1.5, totals)
        self.assertGreater(totals['"mode collapse"'], 0, totals)
        self.assertLess(max(totals.values()), 0.04 * report["records"], totals)


class Cli(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="gen-corpus-cli-")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def assertFailsWithOneLine(self, *args):
        got = run(*args)
        self.assertEqual(got.returncode, 2, got.stderr)
        self.assertEqual(got.stderr.count("\n"), 1, got.stderr)
        self.assertTrue(got.stderr.startswith("gen-corpus: error: "), got.stderr)

    def test_help(self):
        got = run("--help")
        self.assertEqual(got.returncode, 0)
        self.assertIn("usage: gen-corpus", got.stdout)
        self.assertIn("--seed", got.stdout)

    def test_bad_arguments(self):
        out = os.path.join(self.tmp, "out")
        for n in ("abc", "0", "-5", "1.5"):
            self.assertFailsWithOneLine(n, out)
        self.assertFailsWithOneLine("10", out, "--seed", "x")
        self.assertFailsWithOneLine("10")
        self.assertFalse(os.path.exists(out))

    def test_non_empty_dir_needs_force(self):
        out = os.path.join(self.tmp, "out")
        os.makedirs(out)
        with open(os.path.join(out, "keep.txt"), "w") as f:
            f.write("x")
        self.assertFailsWithOneLine("10", out)
        self.assertEqual(os.listdir(out), ["keep.txt"])
        got = run("10", out, "--force")
        self.assertEqual(got.returncode, 0, got.stderr)
        self.assertIn("keep.txt", os.listdir(out))
        self.assertEqual(run("5", os.path.join(self.tmp, "empty-ok")).returncode, 0)

    def test_tiny_corpora(self):
        for n in ("1", "2", "17"):
            out = os.path.join(self.tmp, f"n{n}")
            got = run(n, out)
            self.assertEqual(got.returncode, 0, got.stderr)
            count = sum(len(fs) for _, _, fs in os.walk(out))
            self.assertEqual(count, int(n))


if __name__ == "__main__":
    unittest.main()
