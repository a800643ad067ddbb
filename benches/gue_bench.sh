#!/usr/bin/env bash
# The fixed-tokenization benchmark of issue 4/5 at a stated CPU budget, end to end:
#  1. a BPE tokenizer (4,096 tokens) learnt on chr20;
#  2. masked-LM pretraining of a tiny encoder (2 layers, width 64) on chr20 per
#     tokenizer, each for the steps that 8 minutes of clean 2-core time gave in a
#     throughput run (median step: nucleotide 0.717 s, kmer6 0.970 s, kmer6-tiled
#     0.104 s, BPE 0.115 s; batch 32 windows of 510 nt);
#  3. fine-tuning on the GUE tasks and the splice table: the k-mer baseline, encoders
#     from scratch, and each pretrained encoder (600 steps of 32, dev every 100,
#     patience 3, seed 0), into OUT/bench/{results.json,results.md} (a rerun
#     reads finished pairs back);
#  4. zero-shot splice-site variant scores of each pretrained encoder.
#
# Usage: bash benches/gue_bench.sh PATH/TO/shared/data OUT
set -euo pipefail
data=$1
out=$2
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cargo build --release --quiet -p dnalm-cli
dnalm=target/release/dnalm
mkdir -p "$out"
chr20=$data/human/chr20.fa.gz
[ -f "$out/bpe4096.json" ] || $dnalm tokenizer train --kind bpe --vocab-size 4096 --out "$out/bpe4096.json" "$chr20"
pretrain() { # name tokenizer steps eval_every
    $dnalm train mlm --preset tiny --tokenizer "$2" --steps "$3" --batch-size 32 \
        --eval-every "$4" --checkpoint-every "$4" --patience 0 --warmup 100 \
        -o "$out/mlm_$1" "$chr20"
}
pretrain nucleotide nucleotide 670 170
pretrain kmer6 kmer6 500 125
pretrain kmer6-tiled kmer6-tiled 4600 1150
pretrain bpe "$out/bpe4096.json" 4200 1050
g=$data/gue
tasks=$g/prom_core_all,$g/prom_core_tata,$g/tf_0,$g/tf_1,$g/mouse_0,$data/splice/statlog_splice_junctions.csv.gz
settings=(--steps 600 --eval-every 100 --patience 3 --seeds 0)
models=kmer5-lr,scratch:nucleotide,scratch:kmer6
models+=,$out/mlm_nucleotide,$out/mlm_kmer6,$out/mlm_kmer6-tiled,$out/mlm_bpe
$dnalm bench --tasks "$tasks" --models "$models" "${settings[@]}" -o "$out/bench"
python3 benches/splice_variants.py "$data/splice/statlog_splice_junctions.csv.gz" "$out/splice_variants.csv"
for name in nucleotide kmer6 kmer6-tiled bpe; do
    $dnalm eval variants -m "$out/mlm_$name" "$out/splice_variants.csv"
done
