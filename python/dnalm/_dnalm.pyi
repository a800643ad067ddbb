"""Type stubs of dnalm's native module (the classes and functions ``dnalm`` re-exports)."""

from os import PathLike
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import numpy.typing as npt

__version__: str

_Seq = str | bytes
_Seqs = _Seq | Iterable[_Seq]
_Path = str | PathLike[str]

class DnalmError(Exception):
    """A dnalm operation failed; the message is the one the command line prints."""

def load(path: _Path, smoothing: str | None = None, device: str = "cpu") -> Model:
    """Opens any model dnalm knows: an n-gram file, a run folder of ``dnalm train
    lm|mlm|mxdna``, a fine-tuned ``seed<N>`` folder, an authors' MxDNA checkpoint folder.
    ``smoothing`` (mle, laplace, add-K, kn) overrides an n-gram model's own; ``device``
    (cpu, cuda, cuda:N) is where its weights go (CUDA needs a build with the ``cuda``
    feature)."""

class Model:
    """A model of any kind; each capability is a method, and a method the kind lacks
    raises DnalmError naming the kinds that have it."""

    @property
    def kind(self) -> str:
        """ngram, lstm, gpt, bert, mxdna, bert-classifier, bag-of-tokens or mxdna-classifier."""
    @property
    def path(self) -> str: ...
    @property
    def labels(self) -> list[str] | None:
        """A fine-tuned classifier's class labels, in the order of ``predict``'s columns."""
    def describe(self) -> str: ...
    def log_likelihood(self, seqs: _Seqs) -> npt.NDArray[np.float64]:
        """float64 ``(N,)``: exact (n-gram, LSTM, decoder; the end included) or the
        pseudo-log-likelihood (masked models)."""
    def position_scores(
        self, seqs: _Seqs, mask_spacing: int | None = None
    ) -> list[npt.NDArray[np.float64]]:
        """One float64 ``(L,)`` array per sequence: ln p(x_i | x_<i), or the masked
        conditional ln p(x_i | the rest) (one token hidden per row, or tokens
        ``mask_spacing`` apart together); NaN where nothing is scored."""
    def variant_scores(self, ref: _Seqs, alt: _Seqs) -> npt.NDArray[np.float64]:
        """float64 ``(N,)``: log-likelihood ratio or masked marginal of alt against ref."""
    def embed(
        self,
        seqs: _Seqs,
        pooling: str = "mean",
        states: str = "tokens",
        max_tokens: int = 512,
        batch_size: int = 32,
    ) -> npt.NDArray[np.float32]:
        """float32 ``(N, d)``; pooling "mean" or "cls"; states "tokens" or (MxDNA)
        "nucleotides"."""
    def predict(
        self, seqs: _Seqs, max_tokens: int = 512, batch_size: int = 32
    ) -> npt.NDArray[np.float32]:
        """float32 ``(N, classes)`` probabilities in the order of ``labels``, or
        ``(N, 1)`` values for regression."""
    def learnt_tokens(self, seq: _Seq, max_tokens: int = 512) -> list[tuple[int, int, int]]:
        """An MxDNA model's tokens of one sequence: ``(start, end, expert)`` each."""
    def generate(
        self,
        count: int = 1,
        max_len: int = 1000,
        temperature: float = 1.0,
        seed: int = 0,
        prompt: str = "",
    ) -> list[str]: ...

class Tokenizer:
    """The fixed tokenizers (single nucleotide, k-mers, BPE)."""

    @staticmethod
    def from_file(path: _Path) -> Tokenizer: ...
    @staticmethod
    def by_name(name: str) -> Tokenizer:
        """``nucleotide``, ``kmer6``, ``kmer6-tiled`` or a tokenizer.json path."""
    @property
    def vocab_size(self) -> int: ...
    def describe(self) -> str: ...
    def encode(
        self, seq: _Seq, special: bool = False
    ) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.int64]]:
        """Token ids ``(n,)`` and nucleotide spans ``(n, 2)``."""
    def decode(self, ids: Sequence[int]) -> str: ...

def read_sequences(
    path: _Path,
    sequence_column: str | None = None,
    label_column: str | None = None,
    id_column: str | None = None,
) -> list[tuple[str, str, str | None]]:
    """Every record of a FASTA/FASTQ or CSV/TSV file as (id, sequence, label)."""

def vcf_variants(
    vcf: _Path, reference: _Path, window: int = 512, label_info: str | None = None
) -> dict[str, list[Any]]:
    """The ALT alleles of a VCF on a reference genome as columns: chrom, pos, id, ref,
    alt, label, status, ref_window, alt_window."""

def _train(
    job: str, settings: str, files: Sequence[_Path], on_event: Callable[..., None] | None = None
) -> dict[str, Any]: ...
def _finetune(job: str, on_event: Callable[..., None] | None = None) -> str: ...
