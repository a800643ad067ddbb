"""Makes deform_conv_torchvision.safetensors: torchvision's deform_conv2d in MxDNA's 1-D
layout (input (B, C, L, 1), kernel (K, 1), padding (K // 2, 0), height offsets from a
(B, K, L) tensor interleaved with zero width offsets, modulation (B, K, L, 1)), on small
random inputs, so that our deformable sampling is checked against an independent
implementation.

Usage: python make_deform_fixture.py  (torch, torchvision, safetensors; writes beside
this script). Made with torch 2.15.0 and torchvision 0.29.2.
"""
from pathlib import Path

import torch
from safetensors.torch import save_file
from torchvision.ops import deform_conv2d

torch.manual_seed(0)
B, C, L, K, C_OUT = 2, 3, 9, 3, 4
x = torch.randn(B, C, L, dtype=torch.float64)
# Offsets up to +-2.6 positions, some reaching past both ends of the sequence.
offsets = (torch.rand(B, K, L, dtype=torch.float64) - 0.5) * 5.2
modulation = 2 * torch.sigmoid(torch.randn(B, K, L, dtype=torch.float64))
weight = torch.randn(C_OUT, C, K, 1, dtype=torch.float64)

zero = torch.zeros_like(offsets)
interleaved = torch.stack((offsets, zero), dim=2).reshape(B, 2 * K, L).unsqueeze(-1)
out = deform_conv2d(
    input=x.unsqueeze(-1),
    offset=interleaved,
    mask=modulation.unsqueeze(-1),
    weight=weight,
    padding=(K // 2, 0),
)
save_file(
    {
        "x": x.transpose(1, 2).contiguous(),  # (B, L, C)
        "offsets": offsets.transpose(1, 2).contiguous(),  # (B, L, K)
        "modulation": modulation.transpose(1, 2).contiguous(),  # (B, L, K)
        "weight": weight.contiguous(),  # (C_out, C, K, 1)
        "out": out.squeeze(-1).transpose(1, 2).contiguous(),  # (B, L, C_out)
    },
    str(Path(__file__).with_name("deform_conv_torchvision.safetensors")),
)
