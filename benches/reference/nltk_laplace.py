#!/usr/bin/env python3
"""NLTK's Laplace n-gram, trained exactly as arXiv 2307.10634's code does
(boun-tabi/GenerativeLM-Genes, laplaceSmoothing/src/main.py), on dnalm's genes split.

Usage: python nltk_laplace.py PATH/genes/validation.csv.gz ORDER [TEST_GENES]

Split: a gene is test when xxh3_64(NCBIGeneID, seed=0) >> 11, scaled to [0, 1),
is >= 0.9 (dnalm's `--split train|test` with the default fractions and seed).
Prints one JSON object: fit seconds, and perplexity on the first TEST_GENES test genes
(the paper's preprocessing; NLTK's perplexity is slow, so a subset by default).
"""
import csv
import gzip
import json
import sys
import time
from functools import partial

import xxhash
from nltk.lm import Laplace
from nltk.lm.preprocessing import flatten, pad_both_ends
from nltk.util import ngrams


def is_train(gene_id: str) -> bool:
    unit = (xxhash.xxh3_64_intdigest(gene_id.encode(), seed=0) >> 11) / float(1 << 53)
    return unit < 0.9


def main() -> None:
    path, n = sys.argv[1], int(sys.argv[2])
    test_genes = int(sys.argv[3]) if len(sys.argv) > 3 else 50
    train, test = [], []
    with gzip.open(path, "rt", newline="") as f:
        for row in csv.DictReader(f):
            chars = list(row["NucleotideSequence"][1:-1])
            (train if is_train(row["NCBIGeneID"]) else test).append(chars)

    start = time.perf_counter()
    padding_fn = partial(pad_both_ends, n=n)
    vocab = flatten(map(padding_fn, train))
    grams = (ngrams(list(padding_fn(sent)), n) for sent in train)
    lm = Laplace(n)
    lm.fit(grams, vocab)
    fit_seconds = time.perf_counter() - start

    start = time.perf_counter()
    events = []
    for sent in test[:test_genes]:
        grams = list(ngrams(pad_both_ends(sent, n=n), n=n))
        events += grams[: -(n - 2)] if n > 2 else grams
    perplexity = lm.perplexity(events)
    print(
        json.dumps(
            {
                "tool": "nltk",
                "order": n,
                "train_genes": len(train),
                "test_genes": len(test),
                "fit_seconds": fit_seconds,
                "perplexity_first_test_genes": perplexity,
                "perplexity_genes": min(test_genes, len(test)),
                "perplexity_seconds": time.perf_counter() - start,
            }
        )
    )


if __name__ == "__main__":
    main()
