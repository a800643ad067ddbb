"""Makes the checkpoint-folder fixtures: tiny random-weight MxDNA models built by the
reference PyTorch code (GitHub qiaoqiaoLF/MxDNA, branch `full-model`,
`model_source/modeling_mxdna.py`, run on CPU with flash-attn replaced by plain attention,
see benches/reference/mxdna_reference.py) and saved the ways its users save them, with
the reference's units and logits on real sequences.

Usage: python make_checkpoint_fixtures.py CHECKOUT NMS_MODULE_DIR
  (the same arguments as make_parity_fixture.py)
Needs torch, transformers, safetensors (e.g. in .venv-bench).

Writes checkpoints/ beside this script:
  full_model_safetensors/  save_pretrained(safe_serialization=True): config.json + model.safetensors
  full_model_bin/          config.json + torch.save(model.state_dict()) as pytorch_model.bin
  full_model_sharded/      save_pretrained(max_shard_size="40KB"): shards + model.safetensors.index.json
  full_model_bf16/         save_pretrained of the model in bfloat16
  ad3808d_safetensors/     the same weights under the names of commit ad3808d (motif_layers,
                           depthwise_conv, norm.norm), config.json, model.safetensors
  ad3808d_bin/             the same as pytorch_model.bin
  io.safetensors           input_ids, lengths, the NMS `centre` of the full-model model,
                           `logits_full_model` (expert LayerNorm eps 1e-5, as the branch has it),
                           `logits_ad3808d` (the same weights with ad3808d's eps 1e-6),
                           `logits_bf16` (the bfloat16 weights, computed in float32)
The ad3808d folders are renamed state dicts of the full-model model (the ad3808d module
itself is not in the checkout); its forward pass differs from full-model's only in the
expert epsilon, which the logits above account for.
"""
import json
import shutil
import sys
from pathlib import Path

import torch
from safetensors.torch import save_file

HERE = Path(__file__).resolve().parent
OUT = HERE / "checkpoints"
sys.path.insert(0, str(HERE.parents[3] / "benches" / "reference"))
import mxdna_reference  # noqa: E402

MxDNAConfig, MxDNAForMaskedLM, _ = mxdna_reference.load(sys.argv[1], sys.argv[2])
# The reference lists `_tied_weights_keys = ["lm_head.weight"]`, a weight it does not
# have (nothing is tied: it defines no output embeddings); transformers 5 expects a
# mapping there and fails in save_pretrained. None says the same: no tied weights.
MxDNAForMaskedLM._tied_weights_keys = None

config, model = mxdna_reference.fixture_model(MxDNAConfig, MxDNAForMaskedLM, 16, 32, range(1, 5))

ids, attention, special = mxdna_reference.fixture_inputs()


def run(m):
    with torch.no_grad():
        inner = m.model(input_ids=ids, attention_mask=attention, special_tokens_mask=special)
        logits = m(input_ids=ids, attention_mask=attention, special_tokens_mask=special).logits
    return inner.token_mask_center, logits.float().contiguous()


centre, logits_full = run(model)
mxdna_reference.set_expert_eps(model, 1e-6)
_, logits_ad3808d = run(model)
mxdna_reference.set_expert_eps(model, 1e-5)

FOLDERS = ["full_model_safetensors", "full_model_sharded", "full_model_bin", "full_model_bf16",
           "ad3808d_safetensors", "ad3808d_bin"]
OUT.mkdir(exist_ok=True)
for folder in FOLDERS:  # the round-trip records beside them are kept
    if (OUT / folder).exists():
        shutil.rmtree(OUT / folder)
model.save_pretrained(OUT / "full_model_safetensors", safe_serialization=True)
model.save_pretrained(OUT / "full_model_sharded", safe_serialization=True, max_shard_size="40KB")
(OUT / "full_model_bin").mkdir()
shutil.copy(OUT / "full_model_safetensors" / "config.json", OUT / "full_model_bin" / "config.json")
torch.save(model.state_dict(), OUT / "full_model_bin" / "pytorch_model.bin")

renamed = {
    mxdna_reference.ad3808d_name(name): tensor.contiguous()
    for name, tensor in model.state_dict().items()
}
for folder in ("ad3808d_safetensors", "ad3808d_bin"):
    (OUT / folder).mkdir()
    shutil.copy(OUT / "full_model_safetensors" / "config.json", OUT / folder / "config.json")
save_file(renamed, str(OUT / "ad3808d_safetensors" / "model.safetensors"), metadata={"format": "pt"})
torch.save(renamed, OUT / "ad3808d_bin" / "pytorch_model.bin")

half = MxDNAForMaskedLM(config).eval()
half.load_state_dict(model.state_dict())
half = half.to(torch.bfloat16)
half.save_pretrained(OUT / "full_model_bf16", safe_serialization=True)
rounded = MxDNAForMaskedLM(config).eval()
rounded.load_state_dict({k: v.float() for k, v in half.state_dict().items()})
_, logits_bf16 = run(rounded)

save_file(
    {
        "input_ids": ids.to(torch.int64),
        "lengths": attention.sum(dim=1).to(torch.int64),
        "centre": centre.to(torch.int64),
        "logits_full_model": logits_full,
        "logits_ad3808d": logits_ad3808d,
        "logits_bf16": logits_bf16,
    },
    str(OUT / "io.safetensors"),
)
print(json.dumps({p.name: sorted(f.name for f in p.iterdir()) for p in OUT.iterdir() if p.is_dir()}, indent=1))
print("logits full-model vs ad3808d eps:", (logits_full - logits_ad3808d).abs().max().item())
