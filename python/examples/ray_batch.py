"""Batch inference over a Ray cluster: embed the sequences of a FASTA or CSV file and
score the variants of a VCF on a reference genome, each written as Parquet.

A local cluster (on a real one, start the head and the workers with `ray start` on each
machine and set RAY_ADDRESS):

    ray start --head --num-cpus 2
    python python/examples/ray_batch.py --model runs/demo/mxdna \\
        --sequences data/sample/prom_core_tata/test.csv.gz \\
        --vcf data/sample/splice_vcf/variants.vcf \\
        --reference data/sample/splice_vcf/junctions.fa --window 120 --out ray_out
    ray stop

Without a running cluster, ray.init() starts one in this process. Every actor loads
the model once; a worker that dies is restarted and its batch run again.
"""

from __future__ import annotations

import argparse
import time

import ray

import dnalm
import dnalm.ray

RETRIES = dict(max_restarts=-1, max_task_retries=-1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="any model dnalm opens")
    parser.add_argument("--sequences", help="FASTA/FASTQ or CSV/TSV to embed")
    parser.add_argument("--vcf", help="VCF to score (needs --reference)")
    parser.add_argument("--reference", help="the VCF's reference genome (FASTA)")
    parser.add_argument("--window", type=int, default=512, help="nucleotides around a variant")
    parser.add_argument("--label-info", help="INFO key of a 0/1 label")
    parser.add_argument("--actors", type=int, default=2, help="actors (model copies)")
    parser.add_argument("--batch-size", type=int, default=256, help="rows per batch")
    parser.add_argument("--out", required=True, help="folder for the Parquet outputs")
    args = parser.parse_args()
    ray.init()
    if args.sequences:
        started = time.perf_counter()
        rows = [
            {"id": rid, "sequence": seq}
            for rid, seq, _ in dnalm.read_sequences(args.sequences)
        ]
        ray.data.from_items(rows).map_batches(
            dnalm.ray.Embedder,
            fn_constructor_kwargs={"path": args.model},
            concurrency=args.actors,
            batch_size=args.batch_size,
            **RETRIES,
        ).write_parquet(f"{args.out}/embeddings")
        print(f"embedded {len(rows)} sequences in {time.perf_counter() - started:.1f} s "
              f"-> {args.out}/embeddings")
    if args.vcf:
        started = time.perf_counter()
        columns = dnalm.vcf_variants(args.vcf, args.reference, args.window, args.label_info)
        rows = [dict(zip(columns, values)) for values in zip(*columns.values())]
        ray.data.from_items(rows).map_batches(
            dnalm.ray.VariantScorer,
            fn_constructor_kwargs={"path": args.model},
            concurrency=args.actors,
            batch_size=args.batch_size,
            **RETRIES,
        ).drop_columns(["ref_window", "alt_window"]).write_parquet(f"{args.out}/variants")
        unscored = sum(status != "scored" for status in columns["status"])
        print(f"scored {len(rows) - unscored} of {len(rows)} ALT alleles in "
              f"{time.perf_counter() - started:.1f} s -> {args.out}/variants")


if __name__ == "__main__":
    main()
