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

What is replaced: flash-attn (CUDA only), by plain attention (see
benches/reference/mxdna_reference.py, which loads the reference). What is changed: the experts'
LayerNorm epsilon is set to 1e-6, the value of the weight-compatible commit ad3808d
(the full-model branch uses 1e-5). Everything else runs as published, in eval mode (no
router jitter).

Writes beside this script:
  mxdna_parity_weights.safetensors  the weights under dnalm's (ad3808d's) names
  mxdna_parity_io.safetensors       input_ids, lengths, the NMS centre/cover masks,
                                    the token count per sequence, and the MLM logits
"""
import sys
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[3] / "benches" / "reference"))
import mxdna_reference  # noqa: E402

MxDNAConfig, MxDNAForMaskedLM, BasicUnitNMS = mxdna_reference.load(sys.argv[1], sys.argv[2])

config, model = mxdna_reference.fixture_model(MxDNAConfig, MxDNAForMaskedLM, 32, 64, range(1, 7))
mxdna_reference.set_expert_eps(model, 1e-6)

ids, attention, special = mxdna_reference.fixture_inputs()
with torch.no_grad():
    inner = model.model(input_ids=ids, attention_mask=attention, special_tokens_mask=special)
    logits = model(input_ids=ids, attention_mask=attention, special_tokens_mask=special).logits
centre = inner.token_mask_center
router = inner.router_logits.detach().numpy().astype(np.float32)
_, cover = BasicUnitNMS.basic_unit_nms(router, np.array(config.expert_kernel_sizes, dtype=np.int32),
                                       attention.numpy().astype(np.int32))

weights = {
    mxdna_reference.ad3808d_name(name): tensor.float().contiguous()
    for name, tensor in model.state_dict().items()
}
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
