#!/usr/bin/env python3
"""Malformed inputs and flags, as a careless user or another tool would give them, run
through the `dnalm` binary: one table row per case with its exit status and the first
line of what it printed on standard error. Every case must end in a clear message
(exit 1 for bad data, 2 for a bad flag; 0 with a warning where the input is usable),
never a panic (101) or a signal.

Usage: python3 scripts/malformed_inputs.py [DNALM_BINARY]
"""
import gzip
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"


def main() -> None:
    dnalm = sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "target" / "release" / "dnalm")
    work = Path(tempfile.mkdtemp(prefix="dnalm-malformed-"))

    def file(name: str, content: bytes | str) -> str:
        path = work / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return str(path)

    def run(*args) -> subprocess.CompletedProcess:
        return subprocess.run([dnalm, *map(str, args)], capture_output=True, text=True, cwd=work)

    genes, chr20, tata = SAMPLE / "genes_300.csv.gz", SAMPLE / "chr20_200kb.fa.gz", SAMPLE / "prom_core_tata"
    ngram = work / "kn3.dnalm-ngram"
    run("ngram", "train", "--order", "3", "-o", ngram, genes)
    lstm = work / "lstm"
    run("train", "lm", "--model", "lstm", "--preset", "tiny", "--window", "32", "--steps", "2",
        "--batch-size", "2", "--eval-every", "0", "-o", lstm, genes)
    bert = work / "bert"
    run("train", "mlm", "--preset", "tiny", "--window-nt", "120", "--steps", "2", "--batch-size", "2",
        "--eval-every", "0", "-o", bert, chr20)
    (work / "folder").mkdir()
    ref = file("ref.fa", ">20\n" + "ACGTTGCAAC" * 200 + "\n")
    cases = [
        ("data stats", "a folder", ["data", "stats", work / "folder"]),
        ("data stats", "an empty file", ["data", "stats", file("empty.fa", "")]),
        ("data stats", "a truncated gzip", ["data", "stats", file("cut.fa.gz", chr20.read_bytes()[:20000])]),
        ("data stats", "binary garbage", ["data", "stats", file("garbage.fa", bytes(range(256)) * 4)]),
        ("data stats", "an invalid character", ["data", "stats", file("x.fa", ">a\nACGTXACG\n")]),
        ("data stats", "RNA (U)", ["data", "stats", file("rna.fa", ">a\nACGUACG\n")]),
        ("data stats", "sequence before a header", ["data", "stats", file("nohead.fa", "ACGT\n>a\nACGT\n")]),
        ("data stats", "a FASTA record without nucleotides", ["data", "stats", file("hollow.fa", ">a\nACGT\n>b\n>c\nGG\n")]),
        ("data stats", "FASTQ quality of the wrong length", ["data", "stats", file("q.fq", "@a\nACGT\n+\nII\n")]),
        ("data stats", "an empty FASTQ record", ["data", "stats", file("e.fq", "@a\nACGT\n+\nIIII\n@b\n\n+\n\n")]),
        ("data stats", "a table without a sequence column", ["data", "stats", file("nocol.csv", "dna,label\nACGT,1\n")]),
        ("data stats", "a ragged table row", ["data", "stats", file("ragged.csv", "sequence,label\nACGT,1,extra\n")]),
        ("data stats", "an empty sequence cell", ["data", "stats", file("emptycell.csv", "sequence,label\nACGT,1\n,0\n")]),
        ("data stats", "an empty label cell", ["data", "stats", file("emptylabel.csv", "sequence,label\nACGT,1\nACGA,\n")]),
        ("data stats", "two sequence columns", ["data", "stats", file("dup.csv", "seq,seq\nACGT,ACGA\n")]),
        ("data stats", "a header-only table", ["data", "stats", file("header.csv", "sequence,label\n")]),
        ("data stats", "an all-N record", ["data", "stats", file("alln.fa", ">a\nNNNNNN\n>b\nACGT\n")]),
        ("data stats", "gzip of a non-sequence file", ["data", "stats", file("text.fa.gz", gzip.compress(b"hello world\n"))]),
        ("eval perplexity", "--model is a FASTA", ["eval", "perplexity", "-m", ref, genes]),
        ("eval perplexity", "--model does not exist", ["eval", "perplexity", "-m", work / "nothing", genes]),
        ("eval perplexity", "--model is an empty folder", ["eval", "perplexity", "-m", work / "folder", genes]),
        ("eval perplexity", "config.json is not JSON", ["eval", "perplexity", "-m", Path(file("badrun/config.json", "{oops")).parent, genes]),
        ("eval perplexity", "an unknown model tag", ["eval", "perplexity", "-m", Path(file("tagrun/config.json", '{"model": "rnn"}')).parent, genes]),
        ("eval perplexity", "a truncated model.safetensors", ["eval", "perplexity", "-m", truncated_run(lstm, work), genes]),
        ("eval perplexity", "a truncated n-gram file", ["eval", "perplexity", "-m", file("cut.dnalm-ngram", ngram.read_bytes()[:100]), genes]),
        ("train lm", "--tokenizer is not a tokenizer", ["train", "lm", "--tokenizer", file("tok.json", "[1,2]"), "-o", work / "t1", genes]),
        ("train lm", "sizes of a billion (--config)", ["train", "lm", "--config", file("sizes.json", '{"embed_dim": 64, "hidden_size": 1000000000, "num_layers": 1000}'), "-o", work / "t2", genes]),
        ("train lm", "an LSTM folder resumed as gpt", ["train", "lm", "--model", "gpt", "--preset", "tiny", "--steps", "3", "-o", lstm, genes]),
        ("train lm", "data too short for one window", ["train", "lm", "--preset", "tiny", "--window", "5000", "-o", work / "t3", file("short.fa", ">a\nACGT\n")]),
        ("train lm", "--lr NaN", ["train", "lm", "--lr", "NaN", "-o", work / "t4", genes]),
        ("train lm", "--steps 0", ["train", "lm", "--steps", "0", "-o", work / "t5", genes]),
        ("train mlm", "--max-tokens 1", ["train", "mlm", "--max-tokens", "1", "-o", work / "t6", chr20]),
        ("train mxdna", "--window-nt 0", ["train", "mxdna", "--window-nt", "0", "-o", work / "t7", chr20]),
        ("embed", "--batch-size 0", ["embed", "-m", bert, "--batch-size", "0", "-o", work / "e.npy", genes]),
        ("embed", "an output that is neither .npy nor .safetensors", ["embed", "-m", bert, "-o", work / "e.txt", genes]),
        ("embed", "an n-gram model", ["embed", "-m", ngram, "-o", work / "e.npy", genes]),
        ("predict", "--max-tokens 1", ["predict", "-m", bert, "--max-tokens", "1", genes]),
        ("predict", "a pretrained (not fine-tuned) model", ["predict", "-m", bert, genes]),
        ("tokens", "--window-nt 0", ["tokens", "-m", bert, "--window-nt", "0", genes]),
        ("tokens", "a BERT model", ["tokens", "-m", bert, genes]),
        ("generate", "a masked model", ["generate", "-m", bert]),
        ("export", "an LSTM", ["export", "-m", lstm, work / "exported"]),
        ("finetune", "--dropout NaN", ["finetune", "--task", tata, "--model", "kmer3-lr", "--dropout", "NaN", "-o", work / "f1"]),
        ("finetune", "a single-class task", ["finetune", "--task", file("one.csv", "sequence,label,split\nACGTAC,1,train\nACGTAA,1,dev\nACGTTT,1,test\n"), "--model", "kmer3-lr", "-o", work / "f2"]),
        ("finetune", "a task folder without dev", ["finetune", "--task", Path(file("task/train.csv", "sequence,label\nACGT,0\nACGA,1\n")).parent, "--model", "kmer3-lr", "-o", work / "f3"]),
        ("finetune", "an n-gram model to fine-tune", ["finetune", "--task", tata, "--model", ngram, "-o", work / "f4"]),
        ("eval variants", "an empty alt cell", ["eval", "variants", "-m", ngram, file("v1.csv", "ref,alt\nACGT,\n")]),
        ("eval variants", "a header-only table", ["eval", "variants", "-m", ngram, file("v2.csv", "ref,alt\n")]),
        ("eval variants", "a label of 2", ["eval", "variants", "-m", ngram, file("v3.csv", "ref,alt,label\nACGT,ACGA,2\n")]),
        ("eval variants", "--window 0 with a VCF", ["eval", "variants", "-m", ngram, "--window", "0", "--reference", ref, file("a.vcf", "##fileformat=VCFv4.3\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n20\t5\t.\tT\tA\t.\t.\t.\n")]),
        ("eval variants", "a VCF whose REF is not the reference's", ["eval", "variants", "-m", ngram, "--reference", ref, file("b.vcf", "##fileformat=VCFv4.3\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n20\t5\t.\tG\tA\t.\t.\t.\n")]),
        ("eval variants", "a VCF contig the reference lacks", ["eval", "variants", "-m", ngram, "--reference", ref, "--strict", file("c.vcf", "##fileformat=VCFv4.3\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\nchrX\t5\t.\tT\tA\t.\t.\t.\n")]),
        ("eval variants", "a VCF that is not VCF", ["eval", "variants", "-m", ngram, "--reference", ref, file("d.vcf", "hello\tworld\n")]),
        ("eval variants", "a bgzipped reference without its index", ["eval", "variants", "-m", ngram, "--reference", file("ref.fa.gz", gzip.compress(open(ref, "rb").read())), work / "a.vcf"]),
        ("score", "--stride larger than --window", ["score", "-m", ngram, "--window", "10", "--stride", "11", "-o", work / "s1.bedgraph", ref]),
        ("score", "--mask-spacing for an n-gram", ["score", "-m", ngram, "--mask-spacing", "7", "-o", work / "s2.bedgraph", ref]),
        ("score", "a BED region with start >= end", ["score", "-m", ngram, "--regions", file("r1.bed", "20\t50\t50\n"), "-o", work / "s3.bedgraph", ref]),
        ("score", "a BED region past the contig's end", ["score", "-m", ngram, "--regions", file("r2.bed", "20\t10\t99999\n"), "-o", work / "s4.bedgraph", ref]),
        ("score", "a BED line of two columns", ["score", "-m", ngram, "--regions", file("r3.bed", "20\t10\n"), "-o", work / "s5.bedgraph", ref]),
        ("score", "an output that already exists", ["score", "-m", ngram, "-o", file("exists.bedgraph", "x"), ref]),
        ("score", "a FASTA that is a folder", ["score", "-m", ngram, "-o", work / "s6.bedgraph", work / "folder"]),
    ]
    print("| command | input or flag | exit | what it said (first line) |")
    print("|---|---|---|---|")
    bad = 0
    for command, what, args in cases:
        done = run(*args)
        lines = [l for l in done.stderr.splitlines() if l.strip() and not l.startswith(("  ", "Usage", "For more"))]
        telling = [l for l in lines if l.startswith(("error", "warning", "not scored"))]
        said = (telling or lines or done.stdout.splitlines()[-1:] or [""])[0].replace("|", "/")
        said = said.replace(str(work) + "/", "")
        if done.returncode not in (0, 1, 2, 130):
            bad += 1
        print(f"| {command} | {what} | {done.returncode} | {said[:170]} |")
    print(f"\n{len(cases)} cases; {bad} ended otherwise than with exit 0, 1, 2 or 130")


def truncated_run(run: Path, work: Path) -> Path:
    target = work / "truncated-run"
    target.mkdir(exist_ok=True)
    for name in ["config.json", "tokenizer.json"]:
        (target / name).write_bytes((run / name).read_bytes())
    weights = (run / "model.safetensors").read_bytes()
    (target / "model.safetensors").write_bytes(weights[: len(weights) // 2])
    return target


if __name__ == "__main__":
    main()
