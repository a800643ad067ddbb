"""Inference side by side in one process, alternating rounds, same inputs, same threads:
dnalm (its Python package, a release build; the model loaded once) and PyTorch CPU f32
under torch.inference_mode on the same weights. Each line gives one round's seconds;
the values of both sides are compared once (the largest difference).

- MxDNA embeddings: a checkpoint folder in the authors' layout (the paper size, made by
  the reference code), 8 windows of 1,000 nt, the mean of the final token states; the
  reference is the authors' model (benches/reference/mxdna_reference.py: flash-attn
  replaced by PyTorch's scaled_dot_product_attention over each sequence).
- BERT embeddings: a `dnalm train mlm` run; PyTorch runs the same block written out
  below (pre-LayerNorm, rotary positions, scaled_dot_product_attention, SwiGLU), 8 x
  1,000 nt, mean of the token states ([CLS] and [SEP] included, as dnalm does).
- LSTM scoring: a `dnalm train lm --model lstm` run; nn.LSTM with its weights scores
  every sequence of a genes table (log-likelihood of each, the end token included) in
  length-sorted batches of 64.

Usage: python inference_vs_pytorch.py CHECKOUT NMS_DIR MXDNA_FOLDER BERT_RUN LSTM_RUN
       FASTA GENES_TABLE THREADS [ROUNDS]
With DNALM_TORCH_PROFILE=1, each PyTorch case then runs five more times under
torch.profiler and its ops are printed by their own CPU time (torch_profile.py).
"""
import csv
import gzip
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from torch import nn

import dnalm
import mxdna_reference
import torch_profile

checkout, nms, mxdna_folder, bert_run, lstm_run, fasta, genes = sys.argv[1:8]
threads = int(sys.argv[8])
rounds = int(sys.argv[9]) if len(sys.argv) > 9 else 3
torch.set_num_threads(threads)
IDS = {"A": 5, "C": 6, "G": 7, "T": 8}


def windows_of(path, count=8, width=1000):
    opener = gzip.open if path.endswith(".gz") else open
    sequence = "".join(line.strip() for line in opener(path, "rt") if not line.startswith(">")).upper()
    cut = [sequence[i:i + width] for i in range(0, len(sequence) - width, width)]
    return [w for w in cut if set(w) <= set("ACGT")][:count]


def encoder_rows(sequences):
    return torch.tensor([[2] + [IDS[c] for c in s] + [3] for s in sequences])


def timed(function):
    started = time.perf_counter()
    value = function()
    return time.perf_counter() - started, value


# --- MxDNA (the authors' model) ---------------------------------------------------
MxDNAConfig, MxDNAForMaskedLM, _ = mxdna_reference.load(checkout, nms)
reference_mxdna = MxDNAForMaskedLM(MxDNAConfig.from_pretrained(mxdna_folder)).eval()
reference_mxdna.load_state_dict(load_file(str(Path(mxdna_folder) / "model.safetensors")), strict=True)
mxdna_reference.set_expert_eps(reference_mxdna, 1e-6)
dnalm_mxdna = dnalm.load(mxdna_folder)
windows = windows_of(fasta)


def mxdna_torch():
    ids = encoder_rows(windows)
    output = reference_mxdna.model(input_ids=ids, attention_mask=torch.ones_like(ids),
                                   special_tokens_mask=((ids == 2) | (ids == 3)).long())
    states, mask = output.token_hidden_states, output.token_attention_mask.unsqueeze(-1).float()
    return ((states * mask).sum(1) / mask.sum(1)).numpy()


# --- BERT ------------------------------------------------------------------------
class Block(nn.Module):
    """dnalm's encoder block (crates/nn/src/transformer_layer.rs) in PyTorch."""

    def __init__(self, width, heads, ffn, eps):
        super().__init__()
        self.heads = heads
        self.input_layernorm = nn.Module()
        self.input_layernorm.norm = nn.LayerNorm(width, eps=eps)
        self.post_attention_layernorm = nn.Module()
        self.post_attention_layernorm.norm = nn.LayerNorm(width, eps=eps)
        self.self_attn = nn.Module()
        for name in ["q", "k", "v", "o"]:
            setattr(self.self_attn, f"projection_{name}", nn.Linear(width, width, bias=False))
        self.ffn = nn.Module()
        self.ffn.ffn = nn.Module()
        self.ffn.ffn.w1 = nn.Linear(width, ffn, bias=False)
        self.ffn.ffn.w2 = nn.Linear(ffn, width, bias=False)
        self.ffn.ffn.w3 = nn.Linear(width, ffn, bias=False)

    def forward(self, x, cos, sin):
        batch, steps, width = x.shape
        h = self.input_layernorm.norm(x)
        split = lambda t: t.view(batch, steps, self.heads, -1).transpose(1, 2)
        attention = self.self_attn
        q, k, v = (split(getattr(attention, f"projection_{n}")(h)) for n in "qkv")
        q, k = rotate(q, cos, sin), rotate(k, cos, sin)
        a = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(batch, steps, width)
        x = x + attention.projection_o(a)
        h = self.post_attention_layernorm.norm(x)
        f = self.ffn.ffn
        return x + f.w2(F.silu(f.w1(h)) * f.w3(h))


def rotate(x, cos, sin):
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1)


class Bert(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(config["vocab_size"], config["d_model"])
        self.layers = nn.ModuleList(
            Block(config["d_model"], config["num_heads"], config["ffn_dim"], config["norm_eps"])
            for _ in range(config["num_layers"]))
        self.norm = nn.LayerNorm(config["d_model"], eps=config["norm_eps"])

    def forward(self, ids):
        head = self.config["d_model"] // self.config["num_heads"]
        inverse = 1.0 / self.config["rope_theta"] ** (torch.arange(0, head, 2).float() / head)
        angles = torch.arange(ids.shape[1]).float()[:, None] * inverse[None, :]
        cos, sin = angles.cos(), angles.sin()
        x = self.embedding(ids)
        for layer in self.layers:
            x = layer(x, cos, sin)
        return self.norm(x)


bert_config = json.loads((Path(bert_run) / "config.json").read_text())
torch_bert = Bert(bert_config).eval()
weights = load_file(str(Path(bert_run) / "model.safetensors"))
torch_bert.load_state_dict({k: v for k, v in weights.items() if not k.startswith("lm_head")}, strict=True)
dnalm_bert = dnalm.load(bert_run)


def bert_torch():
    return torch_bert(encoder_rows(windows)).mean(1).numpy()


# --- LSTM ------------------------------------------------------------------------
class LstmLm(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.embedding = nn.Embedding(config["vocab_size"], config["embed_dim"])
        self.lstm = nn.LSTM(config["embed_dim"], config["hidden_size"], config["num_layers"], batch_first=True)
        self.head = nn.Linear(config["hidden_size"], config["vocab_size"])

    def forward(self, ids):
        out, _ = self.lstm(self.embedding(ids))
        return self.head(out)


torch_lstm = LstmLm(json.loads((Path(lstm_run) / "config.json").read_text())).eval()
torch_lstm.load_state_dict(load_file(str(Path(lstm_run) / "model.safetensors")), strict=True)
dnalm_lstm = dnalm.load(lstm_run)
with gzip.open(genes, "rt") as rows:
    genes_sequences = [row["NucleotideSequence"].strip().strip("<>").upper() for row in csv.DictReader(rows)]
nucleotides = sum(len(s) for s in genes_sequences)


def lstm_torch():
    order = sorted(range(len(genes_sequences)), key=lambda i: -len(genes_sequences[i]))
    scores = np.zeros(len(genes_sequences))
    for start in range(0, len(order), 64):
        batch = order[start:start + 64]
        rows = [[2] + [IDS.get(c, 1) for c in genes_sequences[i]] + [3] for i in batch]
        width = max(len(r) for r in rows) - 1
        inputs = torch.zeros(len(rows), width, dtype=torch.long)
        targets = torch.zeros(len(rows), width, dtype=torch.long)
        mask = torch.zeros(len(rows), width)
        for b, r in enumerate(rows):
            inputs[b, :len(r) - 1] = torch.tensor(r[:-1])
            targets[b, :len(r) - 1] = torch.tensor(r[1:])
            mask[b, :len(r) - 1] = 1
        log_probs = torch_lstm(inputs).log_softmax(-1).gather(2, targets.unsqueeze(2)).squeeze(2)
        scores[batch] = (log_probs * mask).double().sum(1).numpy()
    return scores


cases = [
    ("MxDNA paper embeddings 8 x 1000 nt", lambda: dnalm_mxdna.embed(windows, batch_size=8, max_tokens=1002),
     mxdna_torch),
    ("BERT embeddings 8 x 1000 nt", lambda: dnalm_bert.embed(windows, batch_size=8, max_tokens=1002), bert_torch),
    (f"LSTM scoring {len(genes_sequences)} genes, {nucleotides} nt", lambda: dnalm_lstm.log_likelihood(genes_sequences),
     lstm_torch),
]
print(f"dnalm {dnalm.__version__}, PyTorch {torch.__version__}, {threads} threads", flush=True)
with torch.inference_mode():
    for name, ours, theirs in cases:
        (_, a), (_, b) = timed(ours), timed(theirs)
        difference = float(np.max(np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64))))
        print(f"{name}: largest difference dnalm vs PyTorch {difference:.2e}", flush=True)
        times = {"dnalm": [], "pytorch": []}
        for _ in range(rounds):
            times["dnalm"].append(timed(ours)[0])
            times["pytorch"].append(timed(theirs)[0])
        rounds_text = " ".join(f"{d:.3f}/{p:.3f}" for d, p in zip(times["dnalm"], times["pytorch"]))
        ratio = statistics.median(times["pytorch"]) / statistics.median(times["dnalm"])
        print(f"{name}: dnalm/PyTorch seconds per round {rounds_text}; "
              f"median ratio {ratio:.2f}x", flush=True)
        torch_profile.report(theirs, f"PyTorch {name}", runs=5)
