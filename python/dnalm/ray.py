"""Batch inference on Ray: callable classes for ``Dataset.map_batches`` that load a
model once per actor and score or embed each batch.

>>> import ray, dnalm.ray
>>> ds = ray.data.from_items([{"id": i, "sequence": s} for i, s in ...])
>>> out = ds.map_batches(dnalm.ray.Embedder, fn_constructor_kwargs={"path": "runs/mxdna"},
...                      concurrency=2, batch_size=256)
>>> out.write_parquet("embeddings/")

Each class takes the model's path and the names of the columns it reads and writes;
the other columns pass through unchanged, so ids stay with their rows. A batch is a
dict of numpy arrays (``batch_format="numpy"``, Ray's default). With
``max_restarts=-1, max_task_retries=-1`` (passed to ``map_batches``) a worker that
dies is restarted and its batch run again.
"""

from __future__ import annotations

import numpy as np

import dnalm


class _OnModel:
    """Loads the model once, when Ray starts the actor."""

    def __init__(self, path: str, smoothing: str | None = None):
        self.model = dnalm.load(path, smoothing=smoothing)


class Embedder(_OnModel):
    """Adds an embedding column (float32 ``(batch, d)``) from a sequence column."""

    def __init__(
        self,
        path: str,
        column: str = "sequence",
        output: str = "embedding",
        pooling: str = "mean",
        states: str = "tokens",
        max_tokens: int = 512,
        batch_size: int = 32,
    ):
        super().__init__(path)
        self.column, self.output = column, output
        self.options = dict(
            pooling=pooling, states=states, max_tokens=max_tokens, batch_size=batch_size
        )

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        batch[self.output] = self.model.embed(list(batch[self.column]), **self.options)
        return batch


class LogLikelihood(_OnModel):
    """Adds the log-likelihood (float64) of a sequence column: exact for
    autoregressive models, the pseudo-log-likelihood for masked ones."""

    def __init__(
        self,
        path: str,
        column: str = "sequence",
        output: str = "log_likelihood",
        smoothing: str | None = None,
    ):
        super().__init__(path, smoothing)
        self.column, self.output = column, output

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        batch[self.output] = self.model.log_likelihood(list(batch[self.column]))
        return batch


class VariantScorer(_OnModel):
    """Adds the variant score (float64) of reference/alternate columns, such as the
    ``ref_window``/``alt_window`` of ``dnalm.vcf_variants``; rows whose reference is
    empty (alleles that cannot be scored) get NaN."""

    def __init__(
        self,
        path: str,
        reference: str = "ref_window",
        alternate: str = "alt_window",
        output: str = "score",
        smoothing: str | None = None,
    ):
        super().__init__(path, smoothing)
        self.reference, self.alternate, self.output = reference, alternate, output

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        references, alternates = list(batch[self.reference]), list(batch[self.alternate])
        scorable = [i for i, r in enumerate(references) if len(r) > 0]
        scores = np.full(len(references), np.nan)
        if scorable:
            scores[scorable] = self.model.variant_scores(
                [references[i] for i in scorable], [alternates[i] for i in scorable]
            )
        batch[self.output] = scores
        return batch
