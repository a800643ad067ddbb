"""Loads the reference MxDNA (GitHub qiaoqiaoLF/MxDNA, branch `full-model`,
`model_source/`) from a checkout so that it runs on a CPU: flash-attn (CUDA only) is
replaced by PyTorch's scaled_dot_product_attention over the same unpadded sequences
(`flash_attn_func`, `flash_attn_varlen_func` and flash-attn's `pad_input` /
`unpad_input`, written out here), and the reference's BasicUnitNMS C++ extension,
compiled with pybind11 (benches/nms_vs_reference.sh builds one), stands in for
`model_source/kernel/build/BasicUnitNMS` (the full-model kernel differs from the main
branch's only in its function's name, aliased here). Nothing of the reference is
copied; its code is imported from the checkout.

Used by crates/mxdna/tests/data/make_parity_fixture.py and benches/reference/mxdna_step.py.
"""
import sys
import types
from pathlib import Path

import torch
import torch.nn.functional as F


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


def _attend(q, k, v):
    # q (Tq, H, d), k/v (Tk, H, d): PyTorch's fused CPU attention, heads first.
    out = F.scaled_dot_product_attention(q.transpose(0, 1), k.transpose(0, 1), v.transpose(0, 1))
    return out.transpose(0, 1)


def flash_attn_varlen_func(q, k, v, cu_seqlens_q, cu_seqlens_k, max_seqlen_q, max_seqlen_k,
                           dropout_p=0.0, softmax_scale=None, causal=False):
    assert not causal and dropout_p == 0.0 and softmax_scale is None
    pieces = []
    for i in range(len(cu_seqlens_q) - 1):
        qs = slice(int(cu_seqlens_q[i]), int(cu_seqlens_q[i + 1]))
        ks = slice(int(cu_seqlens_k[i]), int(cu_seqlens_k[i + 1]))
        pieces.append(_attend(q[qs], k[ks], v[ks]))
    return torch.cat(pieces, dim=0)


def flash_attn_func(q, k, v, dropout_p=0.0, softmax_scale=None, causal=False):
    assert not causal and dropout_p == 0.0 and softmax_scale is None
    return torch.stack([_attend(q[b], k[b], v[b]) for b in range(q.shape[0])])


def load(checkout, nms_module_dir):
    """Returns (MxDNAConfig, MxDNAForMaskedLM, BasicUnitNMS) from the reference."""
    # transformers looks for an installed flash-attn when first imported: import it
    # before the stand-in exists.
    import transformers.modeling_utils  # noqa: F401

    flash_attn = types.ModuleType("flash_attn")
    flash_attn.flash_attn_func = flash_attn_func
    flash_attn.flash_attn_varlen_func = flash_attn_varlen_func
    bert_padding = types.ModuleType("flash_attn.bert_padding")
    bert_padding.pad_input, bert_padding.unpad_input = pad_input, unpad_input
    flash_attn.bert_padding = bert_padding
    sys.modules["flash_attn"], sys.modules["flash_attn.bert_padding"] = flash_attn, bert_padding

    sys.path.insert(0, str(nms_module_dir))
    import BasicUnitNMS

    # The main branch's kernel names its function basic_unit_nms, full-model's
    # basic_unit_nms_fn.
    if not hasattr(BasicUnitNMS, "basic_unit_nms"):
        BasicUnitNMS.basic_unit_nms = BasicUnitNMS.basic_unit_nms_fn
    kernel = types.ModuleType("model_source.kernel.build.BasicUnitNMS")
    kernel.basic_unit_nms_fn = BasicUnitNMS.basic_unit_nms
    for name in ("model_source.kernel", "model_source.kernel.build"):
        sys.modules[name] = types.ModuleType(name)
    sys.modules["model_source.kernel.build.BasicUnitNMS"] = kernel
    sys.path.insert(0, str(Path(checkout).resolve()))
    from model_source.configuration_mxdna import MxDNAConfig
    from model_source.modeling_mxdna import MxDNAForMaskedLM

    return MxDNAConfig, MxDNAForMaskedLM, BasicUnitNMS


# GRCh37 chr20:30000001-30000071 in pieces of 30, 24 and 17 nt (the start of
# data/sample/chr20_200kb.fa.gz): the inputs of the test fixtures.
FIXTURE_SEQUENCES = [
    "AAATAAGGCTTGGAAATTTTCTGGAGTTCT",
    "ATTATATTCCAACTCTCTGGTTCC",
    "TGGTGCTATGTGTAACT",
]


def fixture_inputs():
    """(input_ids, attention_mask, special_tokens_mask) of FIXTURE_SEQUENCES, right-padded."""
    width = max(len(s) for s in FIXTURE_SEQUENCES) + 2
    ids = torch.zeros(len(FIXTURE_SEQUENCES), width, dtype=torch.long)
    for b, seq in enumerate(FIXTURE_SEQUENCES):
        ids[b, : len(seq) + 2] = torch.tensor([2] + [5 + "ACGT".index(c) for c in seq] + [3])
    return ids, (ids != 0).long(), ((ids == 2) | (ids == 3) | (ids == 0)).long()


# (full-model, ad3808d) pieces of parameter names; the experts' `.norm.` becomes
# `.norm.norm.` too (see ad3808d_name).
_AD3808D_PIECES = [
    ("model.token_layers.", "model.motif_layers."),
    ("basic_unit_masked_token_embedding", "motif_masked_token_embedding"),
    ("conversion_layer.input_layernorm.", "conversion_layer.input_layernorm.norm."),
    ("deform_conv.input_layernorm.", "deform_conv.input_layernorm.norm."),
    (".grouped_conv.", ".depthwise_conv."),
]


def ad3808d_name(name):
    """A full-model parameter name as commit ad3808d (and dnalm) names it."""
    for old, new in _AD3808D_PIECES:
        name = name.replace(old, new)
    if ".conv_moe.experts." in name and ".norm." in name and ".norm.norm." not in name:
        name = name.replace(".norm.", ".norm.norm.")
    return name


def fixture_model(MxDNAConfig, MxDNAForMaskedLM, hidden, ffn, kernels):
    """A small reference model of the test fixtures (2 heads, 1 nucleotide + 2 token
    layers), seeded, every weight moved off its initial value (norms off identity, the
    deformable offsets and modulation off zero) so that every path shows in the outputs."""
    config = MxDNAConfig(
        vocab_size=9, hidden_size=hidden, intermediate_size=ffn, num_hidden_layers=4,
        num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=512,
        initializer_range=0.02, layer_norm_eps=1e-5, rope_theta=10000.0,
        num_local_experts=len(kernels), expert_kernel_sizes=list(kernels),
        conversion_layer_idx=1, router_jitter_noise=0.01, deformable_conv_kernel_size=3,
        router_aux_loss_coef=0.01, attention_dropout=0.0,
    )
    torch.manual_seed(0)
    model = MxDNAForMaskedLM(config).eval()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(0.15 * torch.randn_like(parameter))
    return config, model


def set_expert_eps(model, eps):
    """Sets the experts' LayerNorm epsilon (the reference hard-codes it)."""
    for module in model.modules():
        if type(module).__name__ == "MxDNAConvNet":
            module.norm.eps = eps
