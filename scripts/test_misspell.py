#!/usr/bin/env python3
"""Tests for scripts/misspell. Standard library only.

Run from anywhere: python3 scripts/test_misspell.py [-v]
"""

import importlib.machinery
import importlib.util
import json
import os
import random
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "misspell")


def load():
    loader = importlib.machinery.SourceFileLoader("misspell", SCRIPT)
    spec = importlib.util.spec_from_loader("misspell", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


M = load()

QUERIES = [
    {"_id": "1", "text": "Generalization bounds for deep networks are vacuous."},
    {"_id": "2", "text": "IL-6 rose in 10% of mice."},
    {"_id": "3", "text": "Which of these would be the case?"},
    {"_id": "4", "text": "Memorization helps on long-tailed distributions", "extra": 1},
    {"_id": "5", "text": "Transplantation programs required methadone treatment."},
]


def run(kind="mixed", seed=12, queries=QUERIES):
    with tempfile.TemporaryDirectory() as tmp:
        src, out = os.path.join(tmp, "q.jsonl"), os.path.join(tmp, "out.jsonl")
        with open(src, "w") as f:
            for q in queries:
                f.write(json.dumps(q) + "\n")
        subprocess.run([sys.executable, SCRIPT, src, out, "--kind", kind, "--seed", str(seed)],
                       check=True, capture_output=True)
        with open(out) as f:
            return [json.loads(line) for line in f]


def one_edit_of_kind(word, typo, kind):
    """Whether `typo` is `word` with one edit of `kind` after its first letter."""
    if typo[0] != word[0]:
        return False
    n = len(word)
    if kind == "drop":
        return any(word[:i] + word[i + 1:] == typo for i in range(1, n))
    if kind == "double":
        return any(word[:i] + word[i] + word[i:] == typo for i in range(1, n))
    if kind == "swap":
        return any(word[i] != word[i + 1] and word[:i] + word[i + 1] + word[i] + word[i + 2:] == typo
                   for i in range(1, n - 1))
    if kind == "neighbour":
        return len(typo) == n and sum(a != b for a, b in zip(word, typo)) == 1 and all(
            b.lower() in M.NEAR[a.lower()] for a, b in zip(word, typo) if a != b)
    return False


class Misspell(unittest.TestCase):
    def test_every_kind_makes_one_edit_in_one_content_word(self):
        for kind in M.KINDS:
            for original, out in zip(QUERIES, run(kind)):
                noise = out["metadata"]["noise"]
                if original["_id"] in ("2", "3"):
                    # No word of five letters (IL, rose, mice) / only stop words.
                    self.assertEqual(noise["kind"], "none", out)
                    self.assertEqual(out["text"], original["text"])
                    continue
                self.assertEqual(noise["kind"], kind)
                word, typo = noise["from"], noise["to"]
                self.assertGreaterEqual(len(word), 5)
                self.assertNotIn(word.lower(), M.STOP_WORDS)
                self.assertTrue(one_edit_of_kind(word, typo, kind), (kind, word, typo))
                self.assertEqual(original["text"].replace(word, typo, 1), out["text"])

    def test_other_fields_are_kept(self):
        self.assertEqual(run()[3]["extra"], 1)

    def test_the_seed_and_the_id_decide_not_the_order(self):
        forward = {q["_id"]: q["text"] for q in run(seed=3)}
        backward = {q["_id"]: q["text"] for q in run(seed=3, queries=QUERIES[::-1])}
        self.assertEqual(forward, backward)
        other = {q["_id"]: q["text"] for q in run(seed=4)}
        self.assertNotEqual(forward, other)

    def test_keyboard_neighbours_are_symmetric_and_adjacent(self):
        for key, near in M.NEAR.items():
            self.assertNotIn(key, near)
            for other in near:
                self.assertIn(key, M.NEAR[other], (key, other))
        self.assertEqual(M.NEAR["q"], ["a", "w"])
        self.assertIn("b", M.NEAR["g"])

    def test_a_word_with_every_letter_alike_cannot_be_swapped(self):
        self.assertIsNone(M.misspell_word("aaaaa", "swap", random.Random(1)))


if __name__ == "__main__":
    unittest.main()
