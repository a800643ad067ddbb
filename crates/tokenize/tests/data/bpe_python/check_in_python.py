#!/usr/bin/env python3
"""Loads the BPE tokenizer.json that dnalm wrote with Python's Hugging Face
`tokenizers` and records how Python encodes and decodes the test sequences.

The Rust test `bpe_python_compat` checks that dnalm gives the same ids, offsets and
decoded text, so a tokenizer.json from dnalm is usable from Python unchanged.

Made with (tokenizers 0.22.2 in a local venv):
    python3 -m venv .venv && .venv/bin/pip install tokenizers==0.22.2
    dnalm tokenizer train --kind bpe --vocab-size 256 \
        --out tokenizer.json data/sample/chr20_200kb.fa.gz
    .venv/bin/python check_in_python.py > python_encodings.json
"""
import json
import sys
from pathlib import Path

import tokenizers

here = Path(__file__).resolve().parent
tok = tokenizers.Tokenizer.from_file(str(here / "tokenizer.json"))
out = {"tokenizers_version": tokenizers.__version__, "encodings": []}
for line in (here / "sequences.txt").read_text().split():
    plain = tok.encode(line, add_special_tokens=False)
    wrapped = tok.encode(line)
    out["encodings"].append(
        {
            "sequence": line,
            "ids": plain.ids,
            "offsets": [list(o) for o in plain.offsets],
            "ids_with_special": wrapped.ids,
            "decoded": tok.decode(plain.ids),
        }
    )
json.dump(out, sys.stdout, indent=1)
sys.stdout.write("\n")
