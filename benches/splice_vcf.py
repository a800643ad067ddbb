#!/usr/bin/env python3
"""The splice-junction variants of benches/splice_variants.py as a VCF on a reference
genome made of their sequences (one 60-nt contig per junction, named by its table row),
with the label in INFO (LABEL=1 junction G replaced, 0 a far base), so that
`dnalm eval variants --reference REF.fa --window 120 --label-info LABEL VCF` scores the
same windows as the table form (a window wider than the contig is the whole contig).

Usage: splice_vcf.py VARIANTS_CSV OUT_DIR   (writes OUT_DIR/junctions.fa, OUT_DIR/variants.vcf)
"""
import csv
import sys
from pathlib import Path


def main():
    source, out = sys.argv[1], Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    contigs, records = {}, []
    for row in csv.DictReader(open(source)):
        contig = row["id"].split("_")[0]
        ref, alt = row["ref"], row["alt"]
        contigs.setdefault(contig, ref)
        position = next(i for i in range(len(ref)) if ref[i] != alt[i])
        records.append((contig, position + 1, row["id"], ref[position], alt[position], row["label"]))
    with open(out / "junctions.fa", "w") as fasta:
        for name, seq in contigs.items():
            fasta.write(f">{name}\n{seq}\n")
    with open(out / "variants.vcf", "w") as vcf:
        vcf.write("##fileformat=VCFv4.3\n")
        vcf.write('##INFO=<ID=LABEL,Number=1,Type=Integer,Description="1: the junction G replaced">\n')
        for name, seq in contigs.items():
            vcf.write(f"##contig=<ID={name},length={len(seq)}>\n")
        vcf.write("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
        for contig, pos, name, ref, alt, label in records:
            vcf.write(f"{contig}\t{pos}\t{name}\t{ref}\t{alt}\t.\tPASS\tLABEL={label}\n")
    print(f"{len(records)} variants on {len(contigs)} contigs in {out}")


if __name__ == "__main__":
    main()
