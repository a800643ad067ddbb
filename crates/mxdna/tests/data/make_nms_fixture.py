"""Makes nms_reference.safetensors: the reference basic-unit NMS (BasicUnitNMS.cpp of
github.com/qiaoqiaoLF/MxDNA, compiled with pybind11) on seeded logits, B 4 x L 64 x 10
experts (kernels 1..10), with padding in two sequences; once with continuous logits
and once rounded to whole numbers (many ties).

Usage: python make_nms_fixture.py MODULE_DIR, where MODULE_DIR holds the compiled
BasicUnitNMS extension (benches/nms_vs_reference.sh builds it into
target/nms-reference). Needs numpy, torch and safetensors.
"""
import sys
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

sys.path.insert(0, sys.argv[1])
import BasicUnitNMS  # noqa: E402

rng = np.random.default_rng(1)
B, L, N = 4, 64, 10
kernels = np.arange(1, N + 1, dtype=np.int32)
mask = np.ones((B, L), dtype=np.int32)
mask[1, 50:] = 0
mask[3, 10:] = 0
tensors = {"lengths": torch.from_numpy(mask.sum(axis=1).astype(np.int64))}
continuous = rng.standard_normal((B, L, N)).astype(np.float32)
for name, logits in (("continuous", continuous), ("ties", np.round(continuous * 1.5))):
    logits = logits.astype(np.float32)
    centre, cover = BasicUnitNMS.basic_unit_nms(logits, kernels, mask)
    tensors[f"{name}.logits"] = torch.from_numpy(logits)
    tensors[f"{name}.centre"] = torch.from_numpy(centre.astype(np.int64))
    tensors[f"{name}.cover"] = torch.from_numpy(cover.astype(np.int64))
save_file(tensors, str(Path(__file__).with_name("nms_reference.safetensors")))
