"""Seconds of each embedding pass of one dnalm run folder over the first windows of a
FASTA file, through the Python package, in one process (the model loaded once): the
per-process figure of build-against-build comparisons, where two builds of the
package alternate as separate processes (`PYTHONPATH=<copy of an older python/dnalm's
parent>` picks the older one) and each process's median of its later passes is
compared.

Usage: python embed_passes.py RUN_FOLDER FASTA PASSES [WINDOWS] [WIDTH]
(8 windows of 1,000 nt by default; prints one line of seconds a pass, then the median
of the passes after the first two.)
"""
import gzip
import statistics
import sys
import time

import dnalm

run, fasta, passes = sys.argv[1], sys.argv[2], int(sys.argv[3])
count = int(sys.argv[4]) if len(sys.argv) > 4 else 8
width = int(sys.argv[5]) if len(sys.argv) > 5 else 1000
opener = gzip.open if fasta.endswith(".gz") else open
with opener(fasta, "rt") as lines:
    sequence = "".join(line.strip() for line in lines if not line.startswith(">")).upper()
windows = [sequence[i:i + width] for i in range(0, len(sequence) - width, width)]
windows = [w for w in windows if set(w) <= set("ACGT")][:count]
model = dnalm.load(run)
seconds = []
for _ in range(passes):
    started = time.perf_counter()
    model.embed(windows, batch_size=count, max_tokens=width + 2)
    seconds.append(time.perf_counter() - started)
print(" ".join(f"{s:.3f}" for s in seconds))
print(f"median after the first two: {statistics.median(seconds[2:] or seconds):.3f}")
