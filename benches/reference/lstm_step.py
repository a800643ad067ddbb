#!/usr/bin/env python3
"""PyTorch CPU reference for dnalm's LSTM language-model train step.

Usage: python lstm_step.py [THREADS]
Config (as dnalm's bench): vocab 9, embedding 128, hidden 256, 2 layers, sequence 256,
batch 32; AdamW (lr 1e-3, weight decay 0.01), cross-entropy over every position.
Prints the median milliseconds per step over 20 steps after 3 warm-up steps.
"""
import statistics
import sys
import time

import torch
from torch import nn

import torch_profile

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
torch.set_num_threads(threads)
torch.manual_seed(0)
VOCAB, EMBED, HIDDEN, LAYERS, SEQ, BATCH = 9, 128, 256, 2, 256, 32


class LstmLm(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(VOCAB, EMBED)
        self.lstm = nn.LSTM(EMBED, HIDDEN, LAYERS, batch_first=True)
        self.head = nn.Linear(HIDDEN, VOCAB)

    def forward(self, ids):
        out, _ = self.lstm(self.embedding(ids))
        return self.head(out)


model = LstmLm()
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
ids = torch.randint(5, VOCAB, (BATCH, SEQ + 1))
inputs, targets = ids[:, :-1], ids[:, 1:]


def step():
    optimizer.zero_grad()
    logits = model(inputs)
    loss = nn.functional.cross_entropy(logits.reshape(-1, VOCAB), targets.reshape(-1))
    loss.backward()
    optimizer.step()
    return loss.item()


for _ in range(3):
    step()
times = []
for _ in range(20):
    start = time.perf_counter()
    step()
    times.append((time.perf_counter() - start) * 1000)
print(f"pytorch {torch.__version__} lstm train step: median {statistics.median(times):.1f} ms ({threads} threads)")
torch_profile.report(step, "LSTM train step")
