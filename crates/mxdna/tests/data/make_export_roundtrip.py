"""The export round trip: the reference PyTorch code loads a folder written by
`dnalm export` (its config class reads config.json, its model load_state_dict(strict=True)
the tensors) and its logits are compared with the reference's own on the same weights.

Usage: python make_export_roundtrip.py CHECKOUT NMS_MODULE_DIR EXPORTED
  EXPORTED  made by `dnalm export -m checkpoints/ad3808d_safetensors --naming full-model EXPORTED`
            (dnalm reads the ad3808d folder and writes it under the full-model names the
            checkout's code uses)
Writes checkpoints/roundtrip.json: the largest logit difference between
the reference model on the exported folder (expert LayerNorm eps set to the exported
`expert_layer_norm_eps`, which the reference hard-codes) and io.safetensors'
`logits_ad3808d`, and whether the NMS unit centres are identical.
"""
import json
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[3] / "benches" / "reference"))
import mxdna_reference  # noqa: E402

MxDNAConfig, MxDNAForMaskedLM, _ = mxdna_reference.load(sys.argv[1], sys.argv[2])
MxDNAForMaskedLM._tied_weights_keys = None  # as in make_checkpoint_fixtures.py
exported = Path(sys.argv[3])
# The reference's configuration class reads the exported config.json, and its model
# takes the exported tensors with load_state_dict(strict=True): every name and shape
# must be the reference's. (MxDNAForMaskedLM.from_pretrained loads the same folder, but
# in transformers 5.24 the model it returns crashes inside torchvision's CPU
# deform_conv2d, for the reference's own save_pretrained folders as well.)
model = MxDNAForMaskedLM(MxDNAConfig.from_pretrained(exported)).eval()
model.load_state_dict(load_file(str(exported / "model.safetensors")), strict=True)
eps = json.loads((exported / "config.json").read_text()).get("expert_layer_norm_eps", 1e-5)
mxdna_reference.set_expert_eps(model, eps)
io = load_file(str(HERE / "checkpoints" / "io.safetensors"))
ids = io["input_ids"]
attention = (ids != 0).long()
special = ((ids == 2) | (ids == 3) | (ids == 0)).long()
with torch.no_grad():
    inner = model.model(input_ids=ids, attention_mask=attention, special_tokens_mask=special)
    logits = model(input_ids=ids, attention_mask=attention, special_tokens_mask=special).logits
mask = attention.bool()
difference = (logits[mask] - io["logits_ad3808d"][mask]).abs().max().item()
record = {
    "exported_by": "dnalm export --naming full-model (of checkpoints/ad3808d_safetensors)",
    "loaded_by": "MxDNAConfig.from_pretrained + MxDNAForMaskedLM.load_state_dict(strict=True), reference full-model branch",
    "max_logit_difference": difference,
    "units_identical": bool(torch.equal(inner.token_mask_center.long(), io["centre"])),
}
(HERE / "checkpoints" / "roundtrip.json").write_text(json.dumps(record, indent=1) + "\n")
print(record)
