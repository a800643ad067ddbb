#!/usr/bin/env python3
"""Zero-shot variant-effect test set cut from the real StatLog primate splice junctions.

For every donor (label ei, GT at 0-based 30-31) and acceptor (ie, AG at 28-29) sequence
whose junction dinucleotide is canonical, two single-nucleotide variants of the same
sequence are written:
  label 1: the junction's G replaced (donor G at 30, acceptor G at 29): breaks the site;
  label 0: a random position at least 20 nt from the junction (0-9 or 50-59), random
           other base: most likely neutral.
A model that learnt splice signals gives the first kind lower likelihood ratios.

Usage: splice_variants.py SPLICE_CSV_GZ OUT_CSV [SEED]
"""
import csv
import gzip
import random
import sys


def main():
    source, out = sys.argv[1], sys.argv[2]
    rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 0)
    rows = list(csv.DictReader(gzip.open(source, "rt")))
    written = 0
    with open(out, "w", newline="") as handle:
        table = csv.writer(handle)
        table.writerow(["id", "ref", "alt", "label"])
        for index, row in enumerate(rows):
            seq, kind = row["sequence"], row["label"]
            if set(seq) - set("ACGT"):
                continue
            if kind == "ei" and seq[30:32] == "GT":
                junction = 30
            elif kind == "ie" and seq[28:30] == "AG":
                junction = 29
            else:
                continue
            far = rng.choice(list(range(0, 10)) + list(range(50, 60)))
            for label, position in ((1, junction), (0, far)):
                base = rng.choice([b for b in "ACGT" if b != seq[position]])
                alt = seq[:position] + base + seq[position + 1 :]
                table.writerow([f"row{index}_{kind}_{position}{base}", seq, alt, label])
                written += 1
    print(f"wrote {written} variants to {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
