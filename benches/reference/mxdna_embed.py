#!/usr/bin/env python3
"""The reference MxDNA (PyTorch, CPU) embedding the sequences of a table, as `dnalm
embed` does: the mean of the final token states over the real tokens, in batches of
BATCH, under torch.inference_mode with THREADS threads. The model is a checkpoint
folder in the authors' layout (`dnalm export` writes one). Prints sequences per second
of each round, and the embeddings to OUT.npy when given (to compare values).

Usage: python mxdna_embed.py CHECKOUT NMS_MODULE_DIR FOLDER TABLE THREADS [BATCH] [ROUNDS] [OUT]
"""
import csv
import gzip
import sys
import time
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file

import mxdna_reference

checkout, nms, folder, table, threads = sys.argv[1:6]
batch = int(sys.argv[6]) if len(sys.argv) > 6 else 32
rounds = int(sys.argv[7]) if len(sys.argv) > 7 else 2
out = sys.argv[8] if len(sys.argv) > 8 else None
torch.set_num_threads(int(threads))
MxDNAConfig, MxDNAForMaskedLM, _ = mxdna_reference.load(checkout, nms)
model = MxDNAForMaskedLM(MxDNAConfig.from_pretrained(folder)).eval()
model.load_state_dict(load_file(str(Path(folder) / "model.safetensors")), strict=True)
# A dnalm run's experts normalise with eps 1e-6 (ad3808d's); the full-model branch
# hard-codes 1e-5.
mxdna_reference.set_expert_eps(model, 1e-6)

opener = gzip.open if table.endswith(".gz") else open
with opener(table, "rt") as rows:
    sequences = [row["sequence"] for row in csv.DictReader(rows)]


def embed(chunk):
    width = max(len(s) for s in chunk) + 2
    ids = torch.zeros(len(chunk), width, dtype=torch.long)
    for i, s in enumerate(chunk):
        row = [2] + [5 + "ACGTN".index(c) if c != "N" else 1 for c in s] + [3]
        ids[i, : len(row)] = torch.tensor(row)
    attention = (ids != 0).long()
    special = ((ids == 2) | (ids == 3)).long()
    output = model.model(input_ids=ids, attention_mask=attention, special_tokens_mask=special)
    states, mask = output.token_hidden_states, output.token_attention_mask.unsqueeze(-1).float()
    return (states * mask).sum(1) / mask.sum(1)


with torch.inference_mode():
    for round in range(rounds):
        started = time.perf_counter()
        embeddings = torch.cat([embed(sequences[i : i + batch]) for i in range(0, len(sequences), batch)])
        seconds = time.perf_counter() - started
        print(f"reference PyTorch embed {round}: {len(sequences)} sequences in {seconds:.2f} s "
              f"({len(sequences) / seconds:.0f} seq/s)", flush=True)
if out:
    np.save(out, embeddings.numpy())
