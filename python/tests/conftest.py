"""Shared fixtures: the `dnalm` binary (built by cargo if missing; or $DNALM_BIN) and one
tiny model of each kind, trained by that binary on the sample shipped in data/sample,
so that the package's results can be compared with the command line's."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "data" / "sample"


def dnalm_binary() -> Path:
    if "DNALM_BIN" in os.environ:
        return Path(os.environ["DNALM_BIN"])
    binary = REPO / "target" / "debug" / "dnalm"
    if not binary.exists():
        subprocess.run(["cargo", "build", "-p", "dnalm-cli"], cwd=REPO, check=True)
    return binary


def cli(*args: str | os.PathLike) -> str:
    """Runs the dnalm binary; returns its standard output (it must succeed)."""
    done = subprocess.run(
        [str(dnalm_binary()), *map(str, args)], capture_output=True, text=True
    )
    assert done.returncode == 0, f"dnalm {args}: {done.stderr}"
    return done.stdout


SHORT = ["--steps", "2", "--batch-size", "4", "--warmup", "1", "--eval-every", "2"]


@pytest.fixture(scope="session")
def models(tmp_path_factory) -> dict[str, Path]:
    """One tiny model of each kind, trained by the command line."""
    root = tmp_path_factory.mktemp("models")
    genes, chr20 = SAMPLE / "genes_300.csv.gz", SAMPLE / "chr20_200kb.fa.gz"
    paths = {
        "ngram": root / "genes4.dnalm-ngram",
        "lstm": root / "lstm",
        "bert": root / "bert",
        "mxdna": root / "mxdna",
    }
    cli("ngram", "train", "--order", "4", "-o", paths["ngram"], genes)
    cli("train", "lm", "--model", "lstm", "--preset", "tiny", "--window", "32", *SHORT,
        "-o", paths["lstm"], genes)
    for kind, command in [("bert", "mlm"), ("mxdna", "mxdna")]:
        cli("train", command, "--preset", "tiny", "--window-nt", "120", *SHORT,
            "-o", paths[kind], chr20)
    cli("finetune", "--task", SAMPLE / "prom_core_tata", "--model", paths["mxdna"], *SHORT,
        "-o", root / "ft")
    paths["mxdna-classifier"] = root / "ft" / "seed0"
    return paths


@pytest.fixture(scope="session")
def junctions(tmp_path_factory) -> tuple[Path, list[str]]:
    """Six 60-nt splice junctions of the shipped variants table, as FASTA and as a list."""
    rows = (SAMPLE / "splice_variants.csv").read_text().splitlines()[1:7]
    seqs = [row.split(",")[1] for row in rows]
    path = tmp_path_factory.mktemp("inputs") / "junctions.fa"
    path.write_text("".join(f">j{i}\n{s}\n" for i, s in enumerate(seqs)))
    return path, seqs
