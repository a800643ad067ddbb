"""The reference MxDNA (PyTorch, CPU) on a checkpoint folder: load time and memory, and
one inference forward pass (masked-LM logits) over 8 windows of 1,000 nt of a FASTA
file, under torch.inference_mode, with THREADS threads. Prints one line per measurement.

Usage: python mxdna_paper_forward.py CHECKOUT NMS_MODULE_DIR FOLDER FASTA THREADS [ROUNDS]
"""
import gzip
import resource
import sys
import time
from pathlib import Path

import torch
from safetensors.torch import load_file

import mxdna_reference

checkout, nms, folder, fasta, threads = sys.argv[1:6]
rounds = int(sys.argv[6]) if len(sys.argv) > 6 else 3
torch.set_num_threads(int(threads))
MxDNAConfig, MxDNAForMaskedLM, _ = mxdna_reference.load(checkout, nms)


def peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


started = time.perf_counter()
model = MxDNAForMaskedLM(MxDNAConfig.from_pretrained(folder)).eval()
model.load_state_dict(load_file(str(Path(folder) / "model.safetensors")), strict=True)
print(f"reference load: {time.perf_counter() - started:.2f} s, peak RSS {peak_mib():.0f} MiB")

opener = gzip.open if fasta.endswith(".gz") else open
sequence = "".join(line.strip() for line in opener(fasta, "rt") if not line.startswith(">"))
windows = [sequence[i:i + 1000] for i in range(0, len(sequence) - 1000, 1000)]
windows = [w for w in windows if "N" not in w][:8]
ids = torch.tensor([[2] + [5 + "ACGT".index(c) for c in w] + [3] for w in windows])
attention = torch.ones_like(ids)
special = ((ids == 2) | (ids == 3)).long()
with torch.inference_mode():
    for round in range(rounds):
        started = time.perf_counter()
        logits = model(input_ids=ids, attention_mask=attention, special_tokens_mask=special).logits
        seconds = time.perf_counter() - started
        print(f"reference forward {round}: {seconds:.3f} s for 8 x 1000 nt ({8000 / seconds:.0f} nt/s), "
              f"logits {tuple(logits.shape)}, peak RSS {peak_mib():.0f} MiB")
