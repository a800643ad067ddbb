#!/usr/bin/env python3
"""dnalm's matrix products inside a whole run, summed by shape: reads the lines that
`DNALM_GEMM_PROFILE=1` makes every product print to stderr (crates/nn/src/gemm_profile.rs)
and prints, per shape and layout, calls, milliseconds and GFLOP/s per step, largest
first. The PyTorch side of the same comparison: `DNALM_TORCH_PROFILE=shapes` on the
step scripts in benches/reference (torch_profile.py).

Usage: python3 benches/gemm_in_situ.py LOG STEPS [ROWS]
  LOG    stderr of the run (other lines are ignored)
  STEPS  steps the run made, warm-up included (the train_step benches: 3 + timed)
  ROWS   shapes to list (default 20)
Example, the decoder's train step (3 warm-up + 20 steps):
  DNALM_GEMM_PROFILE=1 RAYON_NUM_THREADS=2 cargo bench -p dnalm-nn --bench train_step -- gpt 2> gemm.log
  python3 benches/gemm_in_situ.py gemm.log 23
Products on one thread (threads=one) come from callers that run several side by side
(the split weight gradients, attention's heads), so their milliseconds add up to more
than the wall time they take.
"""
import sys
from collections import defaultdict


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    log, steps = sys.argv[1], int(sys.argv[2])
    rows = int(sys.argv[3]) if len(sys.argv) == 4 else 20
    if steps < 1:
        sys.exit(f"STEPS must be at least 1, got {steps}")
    totals = defaultdict(lambda: [0, 0.0])
    with open(log) as lines:
        for number, line in enumerate(lines, 1):
            fields = line.split()
            if not fields or fields[0] != "gemm-profile":
                continue
            if len(fields) != 8:
                sys.exit(f"{log}:{number}: a profile line has 8 fields, this one {len(fields)}")
            m, k, n = (int(x) for x in fields[1:4])
            key = (m, k, n, fields[4], fields[5], fields[6])
            totals[key][0] += 1
            totals[key][1] += float(fields[7])
    if not totals:
        sys.exit(f"{log}: no gemm-profile lines (was DNALM_GEMM_PROFILE=1 set?)")
    by_threads = defaultdict(float)
    for key, (_, seconds) in totals.items():
        by_threads[key[5]] += seconds
    print(f"{log}: {sum(c for c, _ in totals.values()) / steps:.1f} products a step; "
          + ", ".join(f"{threads}: {1e3 * s / steps:.1f} ms a step" for threads, s in sorted(by_threads.items())))
    print("| rows x inner x cols | lhs | rhs | threads | calls/step | ms/call | ms/step | GFLOP/s |")
    print("|---|---|---|---|---|---|---|---|")
    ranked = sorted(totals.items(), key=lambda item: -item[1][1])
    for (m, k, n, lhs, rhs, threads), (calls, seconds) in ranked[:rows]:
        rate = 2.0 * m * k * n * calls / seconds / 1e9 if seconds > 0 else float("nan")
        print(f"| {m} x {k} x {n} | {lhs[4:]} | {rhs[4:]} | {threads[8:]} | {calls / steps:.1f} "
              f"| {1e3 * seconds / calls:.2f} | {1e3 * seconds / steps:.1f} | {rate:.1f} |")


if __name__ == "__main__":
    main()
