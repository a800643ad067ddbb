#!/usr/bin/env python3
"""Scores the test genes of the shipped sample with KenLM itself, reading the ARPA file
that dnalm exported; the Rust test `kenlm_arpa` checks dnalm's own scores against these.

Made with (kenlm 0.3.0 from PyPI in a local venv):
    dnalm ngram train --order 4 --split train -o m.dnalm-ngram data/sample/genes_300.csv.gz
    dnalm ngram arpa -m m.dnalm-ngram -o genes_sample_4gram.arpa
    python check_with_kenlm.py ../../../../../data/sample/genes_300.csv.gz > kenlm_scores.json
"""
import csv
import gzip
import json
import sys
from pathlib import Path

import kenlm
import xxhash

here = Path(__file__).resolve().parent
model = kenlm.Model(str(here / "genes_sample_4gram.arpa"))
scores = []
with gzip.open(sys.argv[1], "rt", newline="") as f:
    for row in csv.DictReader(f):
        unit = (xxhash.xxh3_64_intdigest(row["NCBIGeneID"].encode(), seed=0) >> 11) / float(1 << 53)
        if unit < 0.9:
            continue  # a training gene
        seq = row["NucleotideSequence"][1:-1]
        scores.append({"id": row["NCBIGeneID"], "log10_prob": model.score(" ".join(seq), bos=True, eos=True)})
json.dump({"kenlm_order": model.order, "scores": scores}, sys.stdout, indent=1)
sys.stdout.write("\n")
