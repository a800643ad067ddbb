#!/usr/bin/env python3
"""PyTorch CPU reference for dnalm's LSTM scoring: the weights of a `dnalm train lm
--model lstm` run (its parameter names are nn.LSTM's) score the sequences of a table in
length-sorted batches of 64 under torch.inference_mode, as `dnalm eval perplexity`
does. Prints the perplexity (to check it equals dnalm's) and nucleotides per second.

Usage: python lstm_score.py RUN_DIR TABLE_CSV_GZ SEQUENCE_COLUMN THREADS [ROUNDS]
"""
import csv
import gzip
import json
import math
import sys
import time
from pathlib import Path

import torch
from safetensors.torch import load_file
from torch import nn

run, table, column, threads = Path(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
rounds = int(sys.argv[5]) if len(sys.argv) > 5 else 3
torch.set_num_threads(threads)
config = json.loads((run / "config.json").read_text())


class LstmLm(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(config["vocab_size"], config["embed_dim"])
        self.lstm = nn.LSTM(config["embed_dim"], config["hidden_size"], config["num_layers"], batch_first=True)
        self.head = nn.Linear(config["hidden_size"], config["vocab_size"])

    def forward(self, ids):
        out, _ = self.lstm(self.embedding(ids))
        return self.head(out)


model = LstmLm().eval()
model.load_state_dict(load_file(str(run / "model.safetensors")), strict=True)
IDS = {"A": 5, "C": 6, "G": 7, "T": 8}
sequences = []
for row in csv.DictReader(gzip.open(table, "rt")):
    seq = row[column].strip().strip("<>").upper()
    sequences.append([2] + [IDS.get(c, 1) for c in seq] + [3])
sequences.sort(key=len, reverse=True)
for round in range(rounds):
    started = time.perf_counter()
    total, events = 0.0, 0
    with torch.inference_mode():
        for start in range(0, len(sequences), 64):
            batch = sequences[start:start + 64]
            width = max(len(s) for s in batch) - 1
            inputs = torch.zeros(len(batch), width, dtype=torch.long)
            targets = torch.zeros(len(batch), width, dtype=torch.long)
            mask = torch.zeros(len(batch), width)
            for b, s in enumerate(batch):
                inputs[b, : len(s) - 1] = torch.tensor(s[:-1])
                targets[b, : len(s) - 1] = torch.tensor(s[1:])
                mask[b, : len(s) - 1] = 1
            log_probs = model(inputs).log_softmax(-1).gather(2, targets.unsqueeze(2)).squeeze(2)
            total += (log_probs * mask).double().sum().item()
            events += int(mask.sum().item())
    seconds = time.perf_counter() - started
    print(f"PyTorch LSTM scoring round {round}: perplexity {math.exp(-total / events):.4f}, "
          f"{events / seconds / 1e6:.3f} M nt/s ({threads} threads)")
