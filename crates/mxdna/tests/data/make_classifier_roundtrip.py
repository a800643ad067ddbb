"""The classifier export round trip: the reference's MxDNAForSequenceClassification
loads a folder written by `dnalm export` of a fine-tuned MxDNA (config class from its
config.json, load_state_dict(strict=True) of its tensors), and its class probabilities
on real sequences are compared with `dnalm predict`'s.

Usage: python make_classifier_roundtrip.py CHECKOUT NMS_MODULE_DIR EXPORTED PREDICTIONS_CSV SEQUENCES_CSV_GZ
  EXPORTED         `dnalm export --naming full-model` of a fine-tuned MxDNA seed folder
  PREDICTIONS_CSV  `dnalm predict` of the same seed folder on SEQUENCES_CSV_GZ
Writes checkpoints/classifier_roundtrip.json: the largest probability difference.
"""
import csv
import gzip
import json
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[3] / "benches" / "reference"))
import mxdna_reference  # noqa: E402

MxDNAConfig, _, _ = mxdna_reference.load(sys.argv[1], sys.argv[2])
from model_source.modeling_mxdna import MxDNAForSequenceClassification  # noqa: E402

exported, predictions, sequences = Path(sys.argv[3]), sys.argv[4], sys.argv[5]
MxDNAForSequenceClassification._tied_weights_keys = None
config = MxDNAConfig.from_pretrained(exported)
model = MxDNAForSequenceClassification(config).eval()
model.load_state_dict(load_file(str(exported / "model.safetensors")), strict=True)
eps = json.loads((exported / "config.json").read_text())["expert_layer_norm_eps"]
mxdna_reference.set_expert_eps(model, eps)
rows = list(csv.DictReader(gzip.open(sequences, "rt")))
ours = [[float(r["p_0"]), float(r["p_1"])] for r in csv.DictReader(open(predictions))]
width = max(len(r["sequence"]) for r in rows) + 2
worst = 0.0
with torch.no_grad():
    for start in range(0, len(rows), 16):
        chunk = rows[start:start + 16]
        ids = torch.zeros(len(chunk), width, dtype=torch.long)
        for b, row in enumerate(chunk):
            seq = row["sequence"]
            ids[b, : len(seq) + 2] = torch.tensor([2] + [5 + "ACGT".index(c) for c in seq] + [3])
        attention = (ids != 0).long()
        special = ((ids == 2) | (ids == 3) | (ids == 0)).long()
        logits = model(input_ids=ids, attention_mask=attention, special_tokens_mask=special).logits
        probabilities = logits.softmax(dim=-1)
        for b in range(len(chunk)):
            for c in range(2):
                worst = max(worst, abs(probabilities[b, c].item() - ours[start + b][c]))
record = {
    "exported_by": "dnalm export --naming full-model of a dnalm finetune seed folder",
    "loaded_by": "MxDNAConfig.from_pretrained + MxDNAForSequenceClassification.load_state_dict(strict=True)",
    "sequences": len(rows),
    "max_probability_difference": worst,
}
(HERE / "checkpoints" / "classifier_roundtrip.json").write_text(json.dumps(record, indent=1) + "\n")
print(record)
