#!/usr/bin/env bash
# Coverage-guided fuzzing of every parser of outside bytes (fuzz/fuzz_targets: FASTA/
# FASTQ, tables, task tables, tokenizer.json, .dnalm-ngram, run folders with their
# config.json and safetensors, PyTorch .bin, VCF, BED) with cargo fuzz (libFuzzer) on
# the nightly toolchain; both are installed here when missing. Each target's corpus is
# seeded from the repository's own files, runs for SECONDS, and must return Ok or a
# typed error without panicking and within the allocation budget (fuzz/src/lib.rs).
# Crashes land in fuzz/artifacts/TARGET/; once fixed, each becomes a regression test
# (tests/data/fuzz/ of the crate that owns the parser).
#
# Usage: bash scripts/fuzz.sh [SECONDS] [TARGET ...]
set -euo pipefail
seconds=${1:-60}
shift || true
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
cargo fuzz --version >/dev/null 2>&1 || cargo install cargo-fuzz --locked
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo +nightly fuzz list --fuzz-dir fuzz)
fi

# Seeds: small real inputs of each kind.
seed() {
    local target=$1
    shift
    mkdir -p "fuzz/corpus/$target"
    [ -n "$(ls -A "fuzz/corpus/$target")" ] && return
    for file in "$@"; do
        cp "$file" "fuzz/corpus/$target/"
    done
}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
(zcat data/sample/chr20_200kb.fa.gz || true) | head -c 4000 > "$scratch/cut.fa"
gzip -c "$scratch/cut.fa" > "$scratch/cut.fa.gz"
printf '@r1\nACGTNACGT\n+\nIIIIIIIII\n@r2 label=1\nGGTA\n+\n!!!!\n' > "$scratch/reads.fq"
seed fastx "$scratch/cut.fa" "$scratch/cut.fa.gz" "$scratch/reads.fq"
(zcat data/sample/prom_core_tata/dev.csv.gz || true) | head -20 > "$scratch/dev.csv"
seed table "$scratch/dev.csv" data/sample/splice_variants.csv
(zcat data/sample/splice_200.csv.gz || true) | head -40 > "$scratch/splice.csv"
seed task "$scratch/splice.csv"
cargo build --quiet --release -p dnalm-cli
dnalm=target/release/dnalm
"$dnalm" tokenizer train --kind kmer --k 3 --out "$scratch/kmer3.json" >/dev/null
"$dnalm" tokenizer train --kind bpe --vocab-size 64 --out "$scratch/bpe.json" "$scratch/cut.fa" >/dev/null
seed tokenizer_json "$scratch/kmer3.json" "$scratch/bpe.json"
"$dnalm" ngram train --order 3 -o "$scratch/m.dnalm-ngram" "$scratch/cut.fa" >/dev/null
python3 -c "import sys; b=open(sys.argv[1],'rb').read(); open(sys.argv[2],'wb').write(b[8:-8])" \
    "$scratch/m.dnalm-ngram" "$scratch/ngram.body"
seed ngram_file "$scratch/ngram.body"
"$dnalm" train lm --model lstm --preset tiny --window 16 --steps 1 --eval-every 0 \
    --batch-size 2 -o "$scratch/lstm" "$scratch/cut.fa" >/dev/null 2>&1
python3 - "$scratch/lstm" "$scratch/run.bin" <<'PY'
import sys
from pathlib import Path
run = Path(sys.argv[1])
config = (run / "config.json").read_bytes()
weights = (run / "model.safetensors").read_bytes()
Path(sys.argv[2]).write_bytes(len(config).to_bytes(2, "little") + config + weights)
PY
seed run_folder "$scratch/run.bin"
mapfile -t bins < <(find crates/mxdna/tests/data -name 'pytorch_model.bin' -size -200k | head -3)
seed pytorch_bin "${bins[@]}"
head -40 data/sample/splice_vcf/variants.vcf | sed 's/^row[0-9]*\t/20\t/' > "$scratch/v.vcf"
seed vcf "$scratch/v.vcf"
printf 'track name=x\nchr20\t10\t20\tpromoter\t0\t+\n20 5 9\n' > "$scratch/r.bed"
seed bed "$scratch/r.bed"

total=0
for target in "${targets[@]}"; do
    log=$(mktemp)
    if cargo +nightly fuzz run "$target" --fuzz-dir fuzz -s none -- \
        -max_total_time="$seconds" -max_len=262144 -rss_limit_mb=2048 -timeout=30 >"$log" 2>&1; then
        status=ok
    else
        status="CRASH (see fuzz/artifacts/$target and $log)"
    fi
    runs=$(grep -oE 'Done [0-9]+ runs' "$log" | grep -oE '[0-9]+' || grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#')
    runs=${runs:-0}
    total=$((total + runs))
    printf '%-16s %12s executions  %s\n' "$target" "$runs" "$status"
    [ "$status" = ok ] && rm -f "$log"
done
echo "total: $total executions"
