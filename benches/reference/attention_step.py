"""PyTorch CPU reference for dnalm's attention_step bench: scaled_dot_product_attention
on the decoder's shape (batch 16, 4 heads, 512 positions, head width 32; causal, and
without the mask), forward and forward + backward (of sum(out * probe)); median ms
over 12 calls after 2 warm-up calls.

Usage: python attention_step.py [THREADS]
"""
import statistics
import sys
import time

import torch
import torch.nn.functional as F

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
torch.set_num_threads(threads)
torch.manual_seed(0)
BATCH, HEADS, STEPS, HEAD_DIM = 16, 4, 512, 32
shape = (BATCH, HEADS, STEPS, HEAD_DIM)
q, k, v = (torch.rand(shape).mul(2).sub(1).requires_grad_() for _ in range(3))
probe = torch.rand(shape).mul(2).sub(1)
version = torch.__version__
for causal in [True, False]:
    forward, both = [], []
    for call in range(14):
        started = time.perf_counter()
        out = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
        forward_ms = (time.perf_counter() - started) * 1e3
        (out * probe).sum().backward()
        if call >= 2:
            forward.append(forward_ms)
            both.append((time.perf_counter() - started) * 1e3)
    print(f"pytorch {version} sdpa B={BATCH} H={HEADS} T={STEPS} d={HEAD_DIM} "
          f"causal={str(causal).lower()}: forward {statistics.median(forward):.1f} ms, "
          f"forward+backward {statistics.median(both):.1f} ms", flush=True)
