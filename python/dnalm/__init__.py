"""DNA language models from Rust: open any dnalm model and use what it can do.

>>> import dnalm
>>> model = dnalm.load("runs/mxdna")          # any model dnalm opens
>>> model.embed(["ACGTAGCT", "GATTACA"]).shape  # float32 (N, d)
>>> model.log_likelihood("ACGTAGCT")            # float64 (N,)

Every computation releases the GIL; failures raise ``dnalm.DnalmError`` with the
message the command line prints.
"""

from ._dnalm import (
    DnalmError,
    Model,
    Tokenizer,
    __version__,
    load,
    read_sequences,
    vcf_variants,
)
from .training import finetune, train_lm, train_mlm, train_mxdna

__all__ = [
    "DnalmError",
    "Model",
    "Tokenizer",
    "__version__",
    "finetune",
    "load",
    "read_sequences",
    "train_lm",
    "train_mlm",
    "train_mxdna",
    "vcf_variants",
]
