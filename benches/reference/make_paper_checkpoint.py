"""A paper-size MxDNA checkpoint folder made by the reference code (random weights, the
paper's config.json values: width 512, 16 heads, FFN 2048, 21 layers with the
tokenization after layer 4, experts of lengths 1..10), saved with save_pretrained.

Usage: python make_paper_checkpoint.py CHECKOUT NMS_MODULE_DIR OUT
"""
import sys

import torch

import mxdna_reference

MxDNAConfig, MxDNAForMaskedLM, _ = mxdna_reference.load(sys.argv[1], sys.argv[2])
MxDNAForMaskedLM._tied_weights_keys = None  # see crates/mxdna/tests/data/make_checkpoint_fixtures.py
config = MxDNAConfig(
    vocab_size=9, hidden_size=512, intermediate_size=2048, num_hidden_layers=21,
    num_attention_heads=16, num_key_value_heads=16, max_position_embeddings=2048,
    initializer_range=0.02, layer_norm_eps=1e-5, rope_theta=10000.0,
    num_local_experts=10, num_experts_per_tok=1, expert_kernel_sizes=list(range(1, 11)),
    conversion_layer_idx=4, router_jitter_noise=0.01, deformable_conv_kernel_size=3,
    router_aux_loss_coef=0.01, attention_dropout=0.0,
)
torch.manual_seed(0)
model = MxDNAForMaskedLM(config).eval()
model.save_pretrained(sys.argv[3], safe_serialization=True)
print(sum(p.numel() for p in model.parameters()), "parameters")
