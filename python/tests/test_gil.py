"""Computations release the GIL: Python code runs while a model works, and two threads
scoring at once take less time than one after the other."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time

import dnalm

LONG = "ACGTTGCAGGATCCAT" * 4000


def test_python_runs_while_a_model_scores(models):
    model = dnalm.load(models["mxdna"])
    done = threading.Event()

    def work():
        model.position_scores([LONG[:510]] * 4, mask_spacing=2)
        done.set()

    worker = threading.Thread(target=work)
    ticks = 0
    started = time.perf_counter()
    worker.start()
    while not done.is_set():
        ticks += 1
        time.sleep(0.001)
    worker.join()
    elapsed = time.perf_counter() - started
    # With the GIL held for the whole call, this loop could not run at all meanwhile.
    assert elapsed > 0.05, f"the call took only {elapsed:.3f} s: nothing to measure"
    assert ticks > 0.3 * elapsed / 0.002, f"{ticks} ticks in {elapsed:.3f} s"


def test_two_threads_score_in_parallel(models):
    # One rayon thread per call, so that only the two Python threads can use the
    # machine's two cores.
    script = textwrap.dedent(
        f"""
        import threading, time, dnalm
        model = dnalm.load({str(models["lstm"])!r})
        seqs = [{LONG!r}[:2000]] * 48
        model.log_likelihood(seqs[:2])
        def once(): model.log_likelihood(seqs)
        started = time.perf_counter(); once(); once(); serial = time.perf_counter() - started
        threads = [threading.Thread(target=once) for _ in range(2)]
        started = time.perf_counter()
        for t in threads: t.start()
        for t in threads: t.join()
        print(serial, time.perf_counter() - started)
        """
    )
    env = dict(os.environ, RAYON_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    serial, parallel = map(float, out.stdout.split())
    if os.cpu_count() and os.cpu_count() >= 2:
        assert parallel < 0.8 * serial, f"serial {serial:.3f} s, two threads {parallel:.3f} s"
