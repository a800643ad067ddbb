#!/usr/bin/env bash
# Human chr20 scored end to end, one value per nucleotide, by the three kinds of model
# the genome-scale issue names: a Kneser-Ney 8-gram and a tiny LSTM (both trained on
# the human-genes validation set) and a tiny MxDNA (pretrained on chr20 windows).
# Prints wall time, nucleotides per second and peak RSS of each `dnalm score`.
#
# Usage: bash benches/chr20_scan.sh SHARED_DATA OUT [LSTM_STEPS] [MXDNA_STEPS]
#   SHARED_DATA: the folder with human/chr20.fa.gz and genes/validation.csv.gz
#   OUT: models, bedGraphs and logs (models already there are read back)
set -euo pipefail
data=$1
out=$2
lstm_steps=${3:-2000}
mxdna_steps=${4:-300}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cargo build --quiet --release -p dnalm-cli
dnalm=$root/target/release/dnalm
mkdir -p "$out"
chr20=$data/human/chr20.fa.gz
genes=$data/genes/validation.csv.gz

[ -f "$out/kn8.dnalm-ngram" ] ||
    "$dnalm" ngram train --order 8 -o "$out/kn8.dnalm-ngram" "$genes"
# A finished run is read back, an interrupted one resumes.
"$dnalm" train lm --model lstm --preset tiny --window 256 --batch-size 32 \
        --steps "$lstm_steps" --eval-every 0 -o "$out/lstm" "$genes"
"$dnalm" train mxdna --preset tiny --batch-size 32 --steps "$mxdna_steps" \
        --eval-every 0 --warmup 30 -o "$out/mxdna" "$chr20"

scan() {
    local name=$1
    shift
    rm -f "$out/$name.bedgraph" "$out/$name.windows.bed"
    echo "== $name: dnalm score $*"
    /usr/bin/time -f "wall %e s, peak RSS %M KB" "$dnalm" score "$@" \
        -o "$out/$name.bedgraph" --window-totals "$out/$name.windows.bed" "$chr20" \
        2> >(grep -v '^scoring' >&2)
}
lscpu | grep -E "Model name|Flags" | sed 's/Flags:.*avx512f.*/Flags: (AVX-512)/'
scan kn8 -m "$out/kn8.dnalm-ngram"
scan lstm -m "$out/lstm"
scan mxdna -m "$out/mxdna" --window 510 --stride 446 --mask-spacing 7
ls -l "$out"/*.bedgraph "$out"/*.windows.bed
