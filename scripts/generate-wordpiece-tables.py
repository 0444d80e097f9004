#!/usr/bin/env python3
"""Generates Sources/CairnEmbed/Resources/wordpiece-unicode.json, the character tables of
CairnEmbed's WordPiece tokenizer, from the official Hugging Face `tokenizers` package.

Run it only when the tables must be re-derived (a new `tokenizers` release to follow); it is
not needed to build, test or run Cairn, which read the committed JSON file.

    python3 -m venv /tmp/wordpiece-venv
    /tmp/wordpiece-venv/bin/pip install 'tokenizers==0.23.3'
    /tmp/wordpiece-venv/bin/python scripts/generate-wordpiece-tables.py

Why tables: all-MiniLM-L6-v2 is run by sentence-transformers with the Rust tokenizer, whose
BertNormalizer and BertPreTokenizer classify characters with old Unicode tables (about
Unicode 8.0: unassigned code points are not "control", later punctuation is not
punctuation). A Swift tokenizer built on the host's Unicode properties would differ on about
500 code points, so this script asks the official normalizer and pre-tokenizer about every
code point and writes down their answers:

- whitespace, removed, punctuation: sorted inclusive [first, last] ranges, probed as
  "a" + c + "b" (whitespace splits it in two words, a removed character joins "ab", a
  punctuation character becomes a word of its own; CJK ideographs, isolated too, are left to
  the tokenizer's fixed CJK ranges);
- mapRuns and map: what the normalizer turns every other code point into (NFD, combining
  marks dropped, lowercased per code point), for those it changes. A run
  [first, count, step, output, outputStep] maps first + i*step to output + i*outputStep for
  i < count; map holds the remaining entries as [codePoint, output...]. CJK entries are
  given without their padding spaces, and Hangul syllables are left out: the tokenizer
  decomposes them algorithmically (checked here).
"""
import json
import os
import sys

import tokenizers
from tokenizers import normalizers, pre_tokenizers

OUTPUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Sources", "CairnEmbed", "Resources", "wordpiece-unicode.json")

# tokenizer.json of all-MiniLM-L6-v2: BertNormalizer(clean_text, handle_chinese_chars,
# strip_accents null = follow lowercase, lowercase) and BertPreTokenizer.
NORMALIZER = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=True)
PRE_TOKENIZER = pre_tokenizers.BertPreTokenizer()

# The Rust tokenizer's CJK ranges (the sixth starts at 0x2B920, not the slow tokenizer's 0x2B820).
CJK = [(0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
       (0x2B740, 0x2B81F), (0x2B920, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F)]


def is_cjk(c):
    return any(first <= c <= last for first, last in CJK)


def hangul_jamo(c):
    index = c - 0xAC00
    trailing = index % 28
    jamo = chr(0x1100 + index // 588) + chr(0x1161 + (index % 588) // 28)
    return jamo + (chr(0x11A7 + trailing) if trailing else "")


def ranges(code_points):
    out = []
    for c in code_points:
        if out and out[-1][1] == c - 1:
            out[-1][1] = c
        else:
            out.append([c, c])
    return out


def runs(single):
    """Greedy arithmetic runs of at least 3 entries over sorted (codePoint, output) pairs."""
    out_runs, rest, i = [], [], 0
    while i < len(single):
        j = i + 1
        if j < len(single):
            step, output_step = single[j][0] - single[i][0], single[j][1] - single[i][1]
            while j < len(single) and single[j][0] - single[j - 1][0] == step and single[j][1] - single[j - 1][1] == output_step:
                j += 1
        if j - i >= 3:
            out_runs.append([single[i][0], j - i, step, single[i][1], output_step])
            i = j
        else:
            rest.append(list(single[i]))
            i += 1
    return out_runs, rest


def main():
    whitespace, removed, punctuation, mapping = [], [], [], {}
    for c in range(0x110000):
        if 0xD800 <= c <= 0xDFFF:
            continue
        normalized = NORMALIZER.normalize_str("a" + chr(c) + "b")
        words = [word for word, _ in PRE_TOKENIZER.pre_tokenize_str(normalized)]
        if normalized == "ab":
            removed.append(c)
            continue
        if words == ["a", "b"] and normalized == "a b":
            whitespace.append(c)
            continue
        if len(words) == 3 and words[0] == "a" and words[2] == "b" and not is_cjk(c):
            punctuation.append(c)
        output = NORMALIZER.normalize_str(chr(c))
        if is_cjk(c):
            assert output[0] == " " and output[-1] == " ", hex(c)
            output = output[1:-1]
        if 0xAC00 <= c <= 0xD7A3:
            assert output == hangul_jamo(c), hex(c)
            continue
        if output != chr(c):
            mapping[c] = [ord(x) for x in output]

    special = set(removed) | set(whitespace)
    assert all(x not in special for out in mapping.values() for x in out), "an output needs a second pass"
    assert max(len(out) for out in mapping.values()) <= 3
    map_runs, map_rest = runs(sorted((c, out[0]) for c, out in mapping.items() if len(out) == 1))
    map_rest += [[c] + out for c, out in mapping.items() if len(out) > 1]
    tables = {
        "source": f"tokenizers {tokenizers.__version__} BertNormalizer + BertPreTokenizer (scripts/generate-wordpiece-tables.py)",
        "whitespace": ranges(whitespace),
        "removed": ranges(removed),
        "punctuation": ranges(punctuation),
        "mapRuns": map_runs,
        "map": sorted(map_rest),
    }
    with open(OUTPUT, "w") as file:
        json.dump(tables, file, separators=(",", ":"))
        file.write("\n")
    print(f"{os.path.normpath(OUTPUT)}: {len(whitespace)} whitespace, {len(removed)} removed, {len(punctuation)} punctuation, "
          f"{len(mapping)} mapped ({len(map_runs)} runs + {len(map_rest)} entries)", file=sys.stderr)


if __name__ == "__main__":
    main()
