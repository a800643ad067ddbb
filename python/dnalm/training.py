"""Training and fine-tuning from Python, with the command line's settings and
defaults (the same jobs run underneath): keyword arguments named as the flags of
``dnalm train lm|mlm|mxdna`` and ``dnalm finetune``, with ``-`` as ``_``.

Progress shows as a tqdm bar when tqdm is installed (a widget in a notebook), else as
lines; pass ``progress=False`` for silence or a callable ``progress(event, values)``
for your own (events: message, start, step, finish; values a tuple). Ctrl-C (KeyboardInterrupt) saves a checkpoint; the same call resumes,
and a finished run folder is read back rather than trained again.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any, Callable, Iterable, Sequence

from ._dnalm import Model, _finetune, _train, load

_TRAINING = dict(
    batch_size=32,
    accumulation=1,
    steps=2000,
    lr=2e-3,
    warmup=100,
    weight_decay=0.01,
    clip=1.0,
    eval_every=200,
    patience=5,
    checkpoint_every=200,
    seed=0,
    device="cpu",
)


def _paths(data: str | os.PathLike | Iterable[str | os.PathLike]) -> list[str]:
    if isinstance(data, (str, os.PathLike)):
        return [os.fspath(data)]
    return [os.fspath(path) for path in data]


class _Reporter:
    """Turns the native progress events into a tqdm bar or printed lines."""

    def __init__(self, progress: bool | Callable[..., None]):
        self.custom = progress if callable(progress) else None
        self.quiet = progress is False
        self.bar = None
        self.eval_name = ""

    def __call__(self, event: str, values: tuple) -> None:
        if self.custom is not None:
            self.custom(event, values)
        elif not self.quiet:
            getattr(self, "_" + event)(*values)

    def _message(self, text: str) -> None:
        print(text, flush=True)

    def _start(self, total: int, name: str) -> None:
        self.eval_name = name
        try:
            from tqdm.auto import tqdm
        except ImportError:
            self.bar = None
            return
        self.bar = tqdm(total=total, desc="training", unit="step")

    def _step(self, step: int, loss: float, best: float | None) -> None:
        shown = "-" if best is None else f"{best:.4f}"
        if self.bar is not None:
            self.bar.n = step
            self.bar.set_postfix_str(f"loss {loss:.4f}, best {self.eval_name} {shown}")
        elif step % 50 == 0:
            print(f"step {step}: loss {loss:.4f}, best {self.eval_name} {shown}", flush=True)

    def _finish(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _finite(settings: dict[str, Any]) -> None:
    """JSON carries no NaN or infinity: such a setting is refused here, as the
    command line refuses it."""
    for key, value in settings.items():
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{key} must be a finite number, not {value}")


def _run(job: str, data, out, model: dict[str, Any], training: dict[str, Any], progress) -> Model:
    unknown = set(training) - set(_TRAINING)
    if unknown:
        raise TypeError(f"unknown training settings: {', '.join(sorted(unknown))}")
    _finite({**training, **model})
    settings = {
        "training": {**_TRAINING, **training, "out": os.fspath(out)},
        "model": model,
    }
    _train(job, json.dumps(settings), _paths(data), _Reporter(progress))
    return load(out, device=settings["training"]["device"])


def train_lm(
    data,
    out,
    *,
    model: str = "lstm",
    preset: str = "small",
    config: str | None = None,
    tokenizer: str = "nucleotide",
    window: int = 256,
    progress: bool | Callable[..., None] = True,
    **training: Any,
) -> Model:
    """Trains (or resumes) an autoregressive language model, as ``dnalm train lm``, on
    the sequence files ``data`` into the run folder ``out``; returns the model.
    ``model``: lstm or gpt; ``preset``: tiny or small; ``training``: batch_size,
    accumulation, steps, lr, warmup, weight_decay, clip, eval_every, patience,
    checkpoint_every, seed, device ("cpu", "cuda" or "cuda:N")."""
    settings = dict(network=model, preset=preset, config=config, tokenizer=tokenizer, window=window)
    return _run("lm", data, out, settings, training, progress)


def train_mlm(
    data,
    out,
    *,
    preset: str = "small",
    tokenizer: str = "nucleotide",
    max_tokens: int = 512,
    window_nt: int = 510,
    max_n_fraction: float = 0.0,
    progress: bool | Callable[..., None] = True,
    **training: Any,
) -> Model:
    """Pretrains (or resumes) a BERT-style masked LM on genome windows, as ``dnalm
    train mlm``; returns the model."""
    settings = dict(
        preset=preset,
        tokenizer=tokenizer,
        max_tokens=max_tokens,
        window_nt=window_nt,
        max_n_fraction=max_n_fraction,
    )
    return _run("mlm", data, out, settings, training, progress)


def train_mxdna(
    data,
    out,
    *,
    preset: str = "tiny",
    config: str | None = None,
    window_nt: int = 510,
    max_n_fraction: float = 0.0,
    progress: bool | Callable[..., None] = True,
    **training: Any,
) -> Model:
    """Pretrains (or resumes) MxDNA on genome windows, as ``dnalm train mxdna``;
    returns the model. ``preset``: tiny, small or paper."""
    settings = dict(preset=preset, config=config, window_nt=window_nt, max_n_fraction=max_n_fraction)
    return _run("mxdna", data, out, settings, training, progress)


def finetune(
    task,
    model: str,
    out,
    *,
    seeds: Sequence[int] = (0,),
    split_column: str = "split",
    sequence_column: str | None = None,
    label_column: str | None = None,
    id_column: str | None = None,
    progress: bool | Callable[..., None] = True,
    **settings: Any,
) -> dict[str, Any]:
    """Fine-tunes ``model`` (a pretraining run folder, ``scratch:<tokenizer>`` or
    ``kmer<k>-lr``) on ``task`` (a GUE-style folder or a table with a split column) over
    ``seeds``, as ``dnalm finetune``; returns results.json as a dict (test metrics,
    mean and sd over seeds; each seed's folder is ``out/seed<N>``). ``settings``:
    regression, pooling ("cls" or "mean"), dropout, preset, max_tokens, steps,
    batch_size, lr, warmup, weight_decay, eval_every, patience, device."""
    job = dict(
        task=os.fspath(task),
        model=model,
        out=os.fspath(out),
        split_column=split_column,
        sequence_column=sequence_column,
        label_column=label_column,
        id_column=id_column,
        settings={**settings, "seeds": list(seeds)},
    )
    _finite(settings)
    return json.loads(_finetune(json.dumps(job), _Reporter(progress)))
