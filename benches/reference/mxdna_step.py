"""One training step of the reference MxDNA (PyTorch, CPU; flash-attn replaced by plain
attention, see mxdna_reference.py) on the "cpu-small" configuration: width 128, 4
heads, FFN 512, 2 nucleotide layers + tokenization + 4 token layers, experts of lengths
1..10, deformable kernel 3, router jitter 0.01, batch 16 x 512 nt plus [CLS]/[SEP], 15%
of the nucleotides masked (80/10/10), MLM loss + 0.01 x load-balancing loss, AdamW.

Usage: python mxdna_step.py CHECKOUT NMS_MODULE_DIR [THREADS] [STEPS]
Prints the median step time after 3 warm-up steps (the same measure as
`cargo bench -p dnalm-mxdna --bench train_step`).
"""
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import mxdna_reference  # noqa: E402
import torch_profile  # noqa: E402

checkout, nms_dir = sys.argv[1], sys.argv[2]
threads = int(sys.argv[3]) if len(sys.argv) > 3 else 2
steps = int(sys.argv[4]) if len(sys.argv) > 4 else 10
torch.set_num_threads(threads)
MxDNAConfig, MxDNAForMaskedLM, _ = mxdna_reference.load(checkout, nms_dir)
config = MxDNAConfig(
    vocab_size=9, hidden_size=128, intermediate_size=512, num_hidden_layers=7,
    num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=2048,
    initializer_range=0.02, layer_norm_eps=1e-5, rope_theta=10000.0, num_local_experts=10,
    expert_kernel_sizes=list(range(1, 11)), conversion_layer_idx=2, router_jitter_noise=0.01,
    deformable_conv_kernel_size=3, router_aux_loss_coef=0.01, attention_dropout=0.0,
)
torch.manual_seed(0)
model = MxDNAForMaskedLM(config).train()
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
B, L = 16, 512
ids = torch.randint(5, 9, (B, L + 2))
ids[:, 0], ids[:, -1] = 2, 3
attention = torch.ones_like(ids)
special = ((ids == 2) | (ids == 3)).long()


def masked(step):
    generator = torch.Generator().manual_seed(step)
    chosen = (torch.rand(ids.shape, generator=generator) < 0.15) & (special == 0)
    labels = torch.where(chosen, ids, torch.full_like(ids, -100))
    inputs = ids.clone()
    draw = torch.rand(ids.shape, generator=generator)
    inputs[chosen & (draw < 0.8)] = 4
    random = chosen & (draw >= 0.8) & (draw < 0.9)
    inputs[random] = torch.randint(5, 9, ids.shape, generator=generator)[random]
    return inputs, labels


def train_step(step):
    inputs, labels = masked(step)
    started = time.perf_counter()
    out = model(input_ids=inputs, attention_mask=attention, special_tokens_mask=special,
                labels=labels, load_balancing_loss=True)
    optimizer.zero_grad()
    out.loss.backward()
    optimizer.step()
    return time.perf_counter() - started


times = [train_step(step) for step in range(steps + 3)][3:]
times.sort()
median = times[len(times) // 2]
print(f"reference MxDNA cpu-small train step  B={B} L={L}  threads={threads}  "
      f"median {median * 1e3:.1f} ms  ({B * L / median:.0f} nt/s)")
torch_profile.report(lambda: train_step(0), "MxDNA cpu-small train step")
