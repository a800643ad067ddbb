#!/usr/bin/env python3
"""Cut the small real sample shipped in data/sample/ from the shared data folder.

Usage: python3 scripts/make_sample.py PATH/TO/shared/data

Deterministic: the same input gives byte-identical gzip files (mtime 0).
"""
import csv
import gzip
import io
import subprocess
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "data" / "sample"

# Two pieces of GRCh37 chr20 (0-based, half-open): a clean 150 kb stretch, and 50 kb
# that runs into the 50 kb N gap at 34,897,085..34,947,085.
CHR20_PIECES = [(30_000_000, 30_150_000), (34_880_000, 34_930_000)]
GUE_TASK = "prom_core_tata"
GUE_ROWS = {"train": 300, "dev": 100, "test": 100}
GENE_ROWS = 300
# Rows of the splice-junction table kept per split (its own column says which).
SPLICE_ROWS = {"train": 120, "dev": 40, "test": 40}


def write_gz(path: Path, text: str) -> None:
    with open(path, "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz:
            gz.write(text.encode())


def chr20(data: Path) -> None:
    with gzip.open(data / "human" / "chr20.fa.gz", "rt") as f:
        seq = "".join(line.strip() for line in f if not line.startswith(">"))
    out = io.StringIO()
    for start, end in CHR20_PIECES:
        out.write(f">chr20:{start + 1}-{end} GRCh37 chr20, 1-based inclusive\n")
        piece = seq[start:end]
        for i in range(0, len(piece), 60):
            out.write(piece[i : i + 60] + "\n")
    write_gz(OUT / "chr20_200kb.fa.gz", out.getvalue())


def head_rows(src: Path, dst: Path, rows: int) -> None:
    with gzip.open(src, "rt", newline="") as f:
        lines = [next(f) for _ in range(rows + 1)]
    write_gz(dst, "".join(lines))


def main() -> None:
    data = Path(sys.argv[1])
    OUT.mkdir(parents=True, exist_ok=True)
    chr20(data)
    task_dir = OUT / GUE_TASK
    task_dir.mkdir(exist_ok=True)
    for split, rows in GUE_ROWS.items():
        head_rows(data / "gue" / GUE_TASK / f"{split}.csv.gz", task_dir / f"{split}.csv.gz", rows)
    # csv module round trip keeps quoting of the description column intact
    with gzip.open(data / "genes" / "validation.csv.gz", "rt", newline="") as f:
        reader = csv.reader(f)
        rows = [next(reader) for _ in range(GENE_ROWS + 1)]
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows(rows)
    write_gz(OUT / "genes_300.csv.gz", text.getvalue())
    splice(data)


def splice(data: Path) -> None:
    """The first rows of each split of the splice table, and the zero-shot variant set
    benches/splice_variants.py cuts from them."""
    with gzip.open(data / "splice" / "statlog_splice_junctions.csv.gz", "rt", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        split_column = header.index("split")
        kept, counts = [header], {name: 0 for name in SPLICE_ROWS}
        for row in reader:
            split = row[split_column]
            if counts[split] < SPLICE_ROWS[split]:
                counts[split] += 1
                kept.append(row)
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows(kept)
    write_gz(OUT / "splice_200.csv.gz", text.getvalue())
    script = Path(__file__).resolve().parent.parent / "benches" / "splice_variants.py"
    subprocess.run(
        [sys.executable, str(script), str(OUT / "splice_200.csv.gz"), str(OUT / "splice_variants.csv")],
        check=True,
    )


if __name__ == "__main__":
    main()
