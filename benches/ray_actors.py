#!/usr/bin/env python3
"""Ray Data embedding of a table with 1 and with 2 actors on this machine, alternating:
each actor gets CORES / actors CPUs and as many rayon threads (RAYON_NUM_THREADS in its
runtime environment), batches of 256 rows. Prints seconds and sequences per second.

Usage: .venv-py/bin/python benches/ray_actors.py MODEL TABLE [CORES] [ROUNDS]
"""
import sys
import time

import ray

import dnalm
import dnalm.ray

model, table = sys.argv[1], sys.argv[2]
cores = int(sys.argv[3]) if len(sys.argv) > 3 else 2
rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 2
ray.init(num_cpus=cores, include_dashboard=False, log_to_driver=False)
ray.data.DataContext.get_current().enable_progress_bars = False
rows = [{"id": rid, "sequence": seq} for rid, seq, _ in dnalm.read_sequences(table)]
dataset = ray.data.from_items(rows).materialize()
for round in range(rounds):
    for actors in (1, 2):
        threads = max(1, cores // actors)
        started = time.perf_counter()
        dataset.map_batches(
            dnalm.ray.Embedder,
            fn_constructor_kwargs={"path": model},
            concurrency=actors,
            num_cpus=threads,
            batch_size=256,
            runtime_env={"env_vars": {"RAYON_NUM_THREADS": str(threads)}},
        ).materialize()
        seconds = time.perf_counter() - started
        print(f"round {round + 1}: {actors} actor(s) x {threads} thread(s): {len(rows)} "
              f"sequences in {seconds:.1f} s ({len(rows) / seconds:.0f} seq/s)", flush=True)
