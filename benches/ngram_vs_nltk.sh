#!/usr/bin/env bash
# Training speed, side by side in one run: dnalm's Laplace n-gram and NLTK's (the tool
# of arXiv 2307.10634), same genes split, same order.
#
# Usage: bash benches/ngram_vs_nltk.sh PATH/genes/validation.csv.gz [ORDER]
# Installs NLTK and xxhash into .venv-bench (ignored by git) on first use.
set -euo pipefail
genes=$1
order=${2:-8}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
venv=.venv-bench
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet nltk==3.9.2 xxhash==3.6.0
fi
cargo build --quiet --release -p dnalm-cli
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

start=$(date +%s.%N)
target/release/dnalm ngram train --order "$order" --smoothing laplace --split train \
    --out "$out/laplace.dnalm-ngram" "$genes" 2>"$out/ours.log"
end=$(date +%s.%N)
ours=$(echo "$end - $start" | bc -l)
ours_ppl=$(target/release/dnalm ngram eval --json --model "$out/laplace.dnalm-ngram" --split test "$genes" \
    | "$venv/bin/python" -c 'import json,sys; print(round(json.load(sys.stdin)["perplexity"], 4))')

nltk_json=$("$venv/bin/python" benches/reference/nltk_laplace.py "$genes" "$order")
nltk=$(echo "$nltk_json" | "$venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["fit_seconds"])')
nltk_ppl=$(echo "$nltk_json" | "$venv/bin/python" -c 'import json,sys; print(round(json.load(sys.stdin)["perplexity_first_test_genes"], 4))')

printf '%-44s %12s %14s\n' "Laplace ${order}-gram on the genes train split" "train s" "test ppl"
printf '%-44s %12.3f %14s\n' "dnalm ngram train (whole command, 2 threads)" "$ours" "$ours_ppl (all test)"
printf '%-44s %12.3f %14s\n' "NLTK Laplace.fit (fit only, 1 thread)" "$nltk" "$nltk_ppl (50 genes)"
printf 'speed-up: %.0fx\n' "$(echo "$nltk / $ours" | bc -l)"
