#!/usr/bin/env python3
"""PyTorch CPU reference for dnalm's transformer-decoder train step.

Usage: python gpt_step.py [THREADS] [sdpa|written]
Config (as dnalm's bench): vocab 9, width 128, 4 layers, 4 heads, SwiGLU FFN 512,
pre-LayerNorm, RoPE, causal attention (PyTorch's fused scaled_dot_product_attention,
or with `written` the softmax of the scores written out, as a plain model does),
sequence 512, batch 16; AdamW; median ms per step over 20 steps after 3 warm-up steps.
"""
import math
import statistics
import sys
import time

import torch
from torch import nn

import torch_profile

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
ATTENTION = sys.argv[2] if len(sys.argv) > 2 else "sdpa"
torch.set_num_threads(threads)
torch.manual_seed(0)
VOCAB, D, LAYERS, HEADS, FFN, SEQ, BATCH = 9, 128, 4, 4, 512, 512, 16
HD = D // HEADS


def rope(x, cos, sin):
    x1, x2 = x[..., : HD // 2], x[..., HD // 2 :]
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.attention_norm = nn.LayerNorm(D)
        self.q, self.k, self.v, self.o = (nn.Linear(D, D, bias=False) for _ in range(4))
        self.ffn_norm = nn.LayerNorm(D)
        self.w1, self.w3 = nn.Linear(D, FFN, bias=False), nn.Linear(D, FFN, bias=False)
        self.w2 = nn.Linear(FFN, D, bias=False)

    def forward(self, x, cos, sin, mask):
        b, t, _ = x.shape
        h = self.attention_norm(x)
        heads = lambda proj: proj(h).view(b, t, HEADS, HD).transpose(1, 2)
        q, k, v = rope(heads(self.q), cos, sin), rope(heads(self.k), cos, sin), heads(self.v)
        if ATTENTION == "sdpa":
            attended = nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            scores = q @ k.transpose(-1, -2) / math.sqrt(HD) + mask
            attended = scores.softmax(-1) @ v
        x = x + self.o(attended.transpose(1, 2).reshape(b, t, D))
        h = self.ffn_norm(x)
        return x + self.w2(nn.functional.silu(self.w1(h)) * self.w3(h))


class Gpt(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(VOCAB, D)
        self.layers = nn.ModuleList(Block() for _ in range(LAYERS))
        self.norm = nn.LayerNorm(D)
        self.head = nn.Linear(D, VOCAB, bias=False)

    def forward(self, ids):
        t = ids.shape[1]
        inv = 1.0 / (10000 ** (torch.arange(0, HD, 2).float() / HD))
        angles = torch.arange(t).float()[:, None] * inv[None, :]
        cos, sin = angles.cos(), angles.sin()
        mask = torch.full((t, t), float("-inf")).triu(1)
        x = self.embedding(ids)
        for layer in self.layers:
            x = layer(x, cos, sin, mask)
        return self.head(self.norm(x))


model = Gpt()
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
ids = torch.randint(5, VOCAB, (BATCH, SEQ + 1))
inputs, targets = ids[:, :-1], ids[:, 1:]


def step():
    optimizer.zero_grad()
    loss = nn.functional.cross_entropy(model(inputs).reshape(-1, VOCAB), targets.reshape(-1))
    loss.backward()
    optimizer.step()


for _ in range(3):
    step()
times = []
for _ in range(20):
    start = time.perf_counter()
    step()
    times.append((time.perf_counter() - start) * 1000)
print(f"pytorch {torch.__version__} gpt train step ({ATTENTION} attention): median {statistics.median(times):.1f} ms ({threads} threads)")
torch_profile.report(step, "decoder train step")
