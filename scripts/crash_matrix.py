#!/usr/bin/env python3
"""The kill -9 and full-disk matrix of dnalm's writers, on the shipped sample.

For each writer (train lm, train mxdna, finetune over two seeds, bench, embed, score):
an uninterrupted reference run; then, for each moment, the same command killed with
SIGKILL that many seconds in, what it left checked (every output complete or absent),
the command run again to the end, and its outputs compared byte for byte with the
reference's. Then each writer again on a tmpfs too small for its output (as root;
skipped otherwise): the error it prints and what it leaves. Prints one table row per
cell.

Usage: python3 scripts/crash_matrix.py [WORK_DIR]
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DNALM = ROOT / "target" / "release" / "dnalm"
SAMPLE = ROOT / "data" / "sample"
MOMENTS = [0.3, 1.0, 2.0, 4.0]


def npy_complete(path: Path) -> bool:
    """A .npy whose header's shape matches its length."""
    data = path.read_bytes()
    if data[:6] != b"\x93NUMPY":
        return False
    header_len = int.from_bytes(data[8:10], "little")
    header = data[10:10 + header_len].decode()
    shape = header.split("'shape': (")[1].split(")")[0]
    count = 1
    for dim in shape.split(","):
        if dim.strip():
            count *= int(dim)
    return len(data) == 10 + header_len + 4 * count


def writers(work: Path) -> list[dict]:
    genes, chr20, tata = SAMPLE / "genes_300.csv.gz", SAMPLE / "chr20_200kb.fa.gz", SAMPLE / "prom_core_tata"
    model = work / "model-mxdna"
    # The outputs are named relative to the cell's folder.
    return [
        dict(name="train lm", out="run", outputs=["run/model.safetensors", "run/checkpoint/model.safetensors"],
             args=["train", "lm", "--model", "lstm", "--preset", "tiny", "--window", "64", "--steps", "600",
                   "--batch-size", "8", "--eval-every", "50", "--checkpoint-every", "20", "-o", "{out}", genes]),
        dict(name="train mxdna", out="run", outputs=["run/model.safetensors"],
             args=["train", "mxdna", "--preset", "tiny", "--window-nt", "120", "--steps", "120", "--batch-size", "8",
                   "--eval-every", "40", "--checkpoint-every", "10", "-o", "{out}", chr20]),
        dict(name="finetune", out="ft", outputs=["ft/results.json", "ft/seed0/model.safetensors", "ft/seed1/model.safetensors"],
             args=["finetune", "--task", tata, "--model", model, "--steps", "40", "--eval-every", "20",
                   "--batch-size", "8", "--seeds", "0,1", "-o", "{out}"]),
        dict(name="bench", out="bench", outputs=["bench/results.json", "bench/results.md"],
             args=["bench", "--tasks", tata, "--models", f"kmer3-lr,{model}", "--steps", "40", "--eval-every", "20",
                   "--batch-size", "8", "-o", "{out}"]),
        dict(name="embed", out="e.npy", outputs=["e.npy", "e.npy.ids.txt"],
             args=["embed", "-m", model, "-o", "{out}", tata / "test.csv.gz"]),
        dict(name="score", out="t.bedgraph", outputs=["t.bedgraph", "t.bed"],
             args=["score", "-m", model, "--mask-spacing", "5", "--window-totals", "{dir}/t.bed", "-o", "{out}", chr20]),
    ]


def run(writer, cwd: Path, kill_after: float | None = None):
    text = [str(a).replace("{out}", str(cwd / writer["out"])).replace("{dir}", str(cwd)) for a in writer["args"]]
    started = time.perf_counter()
    process = subprocess.Popen([str(DNALM), *text], cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if kill_after is not None:
        try:
            process.wait(timeout=kill_after)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
    _, err = process.communicate()
    return process.returncode, err.decode(errors="replace"), time.perf_counter() - started


def state(writer, cwd: Path) -> str:
    """Which outputs exist and whether each is complete."""
    found = []
    for rel in writer["outputs"]:
        path = cwd / rel
        if not path.exists():
            continue
        ok = True
        if path.suffix == ".npy":
            ok = npy_complete(path)
        elif path.suffix == ".json":
            try:
                json.loads(path.read_text())
            except ValueError:
                ok = False
        elif path.suffix == ".safetensors":
            data = path.read_bytes()
            n = int.from_bytes(data[:8], "little")
            try:
                header = json.loads(data[8:8 + n])
                ends = [v["data_offsets"][1] for k, v in header.items() if k != "__metadata__"]
                ok = len(data) == 8 + n + max(ends, default=0)
            except (ValueError, KeyError):
                ok = False
        found.append(f"{Path(rel).name}{'' if ok else ' INCOMPLETE'}")
    stray = [p.name for p in cwd.rglob("*") if ".dnalm-partial-" in p.name or p.name == "checkpoint.tmp"]
    work = [p.name for p in cwd.glob("*.partial") if p.is_dir()]
    return ((", ".join(found) or "nothing")
            + (f"; work folder {', '.join(work)} (resumable)" if work else "")
            + (f"; stray {stray}" if stray else ""))


def outputs_bytes(writer, cwd: Path) -> dict:
    result = {}
    for rel in writer["outputs"]:
        path = cwd / rel
        if path.exists():
            data = path.read_bytes()
            if path.name == "results.json":
                # Wall-clock fields differ between runs; the results must not.
                data = json.dumps(without_seconds(json.loads(data)), sort_keys=True).encode()
            elif path.name == "results.md":
                continue
            result[rel] = data
    return result


def without_seconds(value):
    """A JSON value with every "seconds" field removed."""
    if isinstance(value, dict):
        return {k: without_seconds(v) for k, v in value.items() if k != "seconds"}
    if isinstance(value, list):
        return [without_seconds(v) for v in value]
    return value


def main() -> None:
    work = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "target" / "crash-matrix").resolve()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    subprocess.run(["cargo", "build", "--quiet", "--release", "-p", "dnalm-cli"], cwd=ROOT, check=True)
    model = work / "model-mxdna"
    subprocess.run([str(DNALM), "train", "mxdna", "--preset", "tiny", "--window-nt", "120", "--steps", "4",
                    "--batch-size", "4", "--eval-every", "0", "-o", str(model), str(SAMPLE / "chr20_200kb.fa.gz")],
                   check=True, capture_output=True)
    print("| writer | moment | exit | left behind | rerun | same bytes as uninterrupted |")
    print("|---|---|---|---|---|---|")
    for writer in writers(work):
        reference = work / f"{writer['name'].replace(' ', '_')}-reference"
        reference.mkdir()
        code, err, seconds = run(writer, reference)
        assert code == 0, f"{writer['name']}: {err}"
        expected = outputs_bytes(writer, reference)
        print(f"| {writer['name']} | (uninterrupted, {seconds:.1f} s) | 0 | {state(writer, reference)} | | |")
        for moment in MOMENTS:
            cell = work / f"{writer['name'].replace(' ', '_')}-{moment}"
            cell.mkdir()
            code, _, _ = run(writer, cell, kill_after=moment)
            left = state(writer, cell)
            rerun, err, _ = run(writer, cell)
            same = outputs_bytes(writer, cell) == expected
            killed = "killed" if code == -signal.SIGKILL else f"finished ({code})"
            print(f"| {writer['name']} | kill -9 at {moment} s | {killed} | {left} | exit {rerun} | {'yes' if same else 'NO'} |")
    full_disk(work)


def full_disk(work: Path) -> None:
    if os.geteuid() != 0:
        print("\n(full-disk cells skipped: mounting a tmpfs needs root)")
        return
    print("\n| writer on a full disk | exit | message | left behind |")
    print("|---|---|---|---|")
    for writer in writers(work):
        disk = work / "full"
        disk.mkdir(exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", str(disk)], check=True)
        try:
            code, err, _ = run(writer, disk)
            message = next((line for line in err.splitlines() if "error" in line.lower()), err.strip()[-160:])
            print(f"| {writer['name']} | {code} | {message.strip()[:160]} | {state(writer, disk)} |")
        finally:
            subprocess.run(["umount", str(disk)], check=True)


if __name__ == "__main__":
    main()
