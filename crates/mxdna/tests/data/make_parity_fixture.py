"""Makes the MxDNA parity fixture: the reference PyTorch model (GitHub qiaoqiaoLF/MxDNA,
branch `full-model`, `model_source/modeling_mxdna.py`) run on CPU with small random
weights on a few real sequences.

Usage: python make_parity_fixture.py CHECKOUT NMS_MODULE_DIR
  CHECKOUT        a checkout (or `git archive`) of the reference's full-model branch;
                  its code is imported from there, nothing of it is copied here
  NMS_MODULE_DIR  holds the reference's BasicUnitNMS C++ extension compiled with
                  pybind11 (benches/nms_vs_reference.sh builds one into
                  target/nms-reference; the full-model kernel differs only in the
                  function's name, basic_unit_nms_fn, which is aliased here)
Needs torch, torchvision, transformers, safetensors (e.g. in .venv-bench).

What is replaced: flash-attn (CUDA only) by plain softmax attention over the same
unpadded sequences (`flash_attn_func`, `flash_attn_varlen_func`, and flash-attn's
`pad_input` / `unpad_input` helpers, written out below). What is changed: the experts'
LayerNorm epsilon is set to 1e-6, the value of the weight-compatible commit ad3808d
(the full-model branch uses 1e-5). Everything else runs as published, in eval mode (no
router jitter).

Writes beside this script:
  mxdna_parity_weights.safetensors  the weights under dnalm's (ad3808d's) names
  mxdna_parity_io.safetensors       input_ids, lengths, the NMS centre/cover masks,
                                    the token count per sequence, and the MLM logits
"""
import sys
import types
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

checkout, nms_dir = Path(sys.argv[1]).resolve(), sys.argv[2]
HERE = Path(__file__).resolve().parent


# --- flash-attn replaced by plain attention -------------------------------------------
def unpad_input(hidden_states, attention_mask):
    seqlens = attention_mask.sum(dim=-1, dtype=torch.int32)
    indices = torch.nonzero(attention_mask.flatten(), as_tuple=False).flatten()
    cu_seqlens = F.pad(torch.cumsum(seqlens, dim=0, dtype=torch.int32), (1, 0))
    flat = hidden_states.reshape(-1, *hidden_states.shape[2:])
    return flat[indices], indices, cu_seqlens, int(seqlens.max().item())


def pad_input(hidden_states, indices, batch, seqlen):
    out = torch.zeros(batch * seqlen, *hidden_states.shape[1:], dtype=hidden_states.dtype)
    out[indices] = hidden_states
    return out.reshape(batch, seqlen, *hidden_states.shape[1:])


def attend(q, k, v):
    # q (Tq, H, d), k/v (Tk, H, d)
    scores = torch.einsum("qhd,khd->hqk", q, k) / q.shape[-1] ** 0.5
    return torch.einsum("hqk,khd->qhd", scores.softmax(dim=-1), v)


def flash_attn_varlen_func(q, k, v, cu_seqlens_q, cu_seqlens_k, max_seqlen_q, max_seqlen_k,
                           dropout_p=0.0, softmax_scale=None, causal=False):
    assert not causal and dropout_p == 0.0 and softmax_scale is None
    pieces = []
    for i in range(len(cu_seqlens_q) - 1):
        qs = slice(int(cu_seqlens_q[i]), int(cu_seqlens_q[i + 1]))
        ks = slice(int(cu_seqlens_k[i]), int(cu_seqlens_k[i + 1]))
        pieces.append(attend(q[qs], k[ks], v[ks]))
    return torch.cat(pieces, dim=0)


def flash_attn_func(q, k, v, dropout_p=0.0, softmax_scale=None, causal=False):
    assert not causal and dropout_p == 0.0 and softmax_scale is None
    return torch.stack([attend(q[b], k[b], v[b]) for b in range(q.shape[0])])


# transformers looks for an installed flash-attn when it is first imported: import it
# before the stand-in below exists.
import transformers.modeling_utils  # noqa: E402,F401

flash_attn = types.ModuleType("flash_attn")
flash_attn.flash_attn_func = flash_attn_func
flash_attn.flash_attn_varlen_func = flash_attn_varlen_func
bert_padding = types.ModuleType("flash_attn.bert_padding")
bert_padding.pad_input, bert_padding.unpad_input = pad_input, unpad_input
flash_attn.bert_padding = bert_padding
sys.modules["flash_attn"], sys.modules["flash_attn.bert_padding"] = flash_attn, bert_padding

# --- the reference package, with its compiled NMS kernel ------------------------------
sys.path.insert(0, nms_dir)
import BasicUnitNMS  # noqa: E402

kernel = types.ModuleType("model_source.kernel.build.BasicUnitNMS")
kernel.basic_unit_nms_fn = BasicUnitNMS.basic_unit_nms
for name in ("model_source.kernel", "model_source.kernel.build"):
    sys.modules[name] = types.ModuleType(name)
sys.modules["model_source.kernel.build.BasicUnitNMS"] = kernel
sys.path.insert(0, str(checkout))
from model_source.configuration_mxdna import MxDNAConfig  # noqa: E402
from model_source.modeling_mxdna import MxDNAForMaskedLM  # noqa: E402

config = MxDNAConfig(
    vocab_size=9, hidden_size=32, intermediate_size=64, num_hidden_layers=4,
    num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=512,
    initializer_range=0.02, layer_norm_eps=1e-5, rope_theta=10000.0,
    num_local_experts=6, expert_kernel_sizes=[1, 2, 3, 4, 5, 6], conversion_layer_idx=1,
    router_jitter_noise=0.01, deformable_conv_kernel_size=3, router_aux_loss_coef=0.01,
    attention_dropout=0.0,
)
torch.manual_seed(0)
model = MxDNAForMaskedLM(config).eval()
with torch.no_grad():
    # Move every weight off its initial value (norms off identity, the deformable
    # offsets and modulation off zero), so that every path shows in the outputs.
    for parameter in model.parameters():
        parameter.add_(0.15 * torch.randn_like(parameter))
for module in model.modules():
    if type(module).__name__ == "MxDNAConvNet":
        module.norm.eps = 1e-6

# Real sequences: GRCh37 chr20:30000001-30000071 cut into pieces of 30, 24 and 17 nt
# (the start of data/sample/chr20_200kb.fa.gz).
SEQUENCES = [
    "AAATAAGGCTTGGAAATTTTCTGGAGTTCT",
    "ATTATATTCCAACTCTCTGGTTCC",
    "TGGTGCTATGTGTAACT",
]
width = max(len(s) for s in SEQUENCES) + 2
ids = torch.zeros(len(SEQUENCES), width, dtype=torch.long)
for b, seq in enumerate(SEQUENCES):
    ids[b, : len(seq) + 2] = torch.tensor([2] + [5 + "ACGT".index(c) for c in seq] + [3])
attention = (ids != 0).long()
special = ((ids == 2) | (ids == 3) | (ids == 0)).long()
with torch.no_grad():
    inner = model.model(input_ids=ids, attention_mask=attention, special_tokens_mask=special)
    logits = model(input_ids=ids, attention_mask=attention, special_tokens_mask=special).logits
centre = inner.token_mask_center
router = inner.router_logits.detach().numpy().astype(np.float32)
_, cover = BasicUnitNMS.basic_unit_nms(router, np.array(config.expert_kernel_sizes, dtype=np.int32),
                                       attention.numpy().astype(np.int32))

RENAMES = [
    ("model.token_layers.", "model.motif_layers."),
    ("basic_unit_masked_token_embedding", "motif_masked_token_embedding"),
    ("conversion_layer.input_layernorm.", "conversion_layer.input_layernorm.norm."),
    ("deform_conv.input_layernorm.", "deform_conv.input_layernorm.norm."),
    (".grouped_conv.", ".depthwise_conv."),
]
weights = {}
for name, tensor in model.state_dict().items():
    for old, new in RENAMES:
        name = name.replace(old, new)
    if ".conv_moe.experts." in name and ".norm." in name and ".norm.norm." not in name:
        name = name.replace(".norm.", ".norm.norm.")
    weights[name] = tensor.float().contiguous()
save_file(weights, str(HERE / "mxdna_parity_weights.safetensors"))
save_file(
    {
        "input_ids": ids.to(torch.int64),
        "lengths": attention.sum(dim=1).to(torch.int64),
        "centre": centre.to(torch.int64),
        "cover": torch.from_numpy(cover.astype(np.int64)),
        "token_lengths": inner.token_attention_mask.sum(dim=1).to(torch.int64),
        "logits": logits.float().contiguous(),
    },
    str(HERE / "mxdna_parity_io.safetensors"),
)
print("tokens per sequence:", inner.token_attention_mask.sum(dim=1).tolist())
