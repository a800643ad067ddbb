"""Training from Python runs the command line's jobs: the same settings give the very
same weights, progress reaches the callback, bad settings are refused before any
folder is written, and fine-tuning returns results.json."""

from __future__ import annotations

import pytest

import dnalm
from conftest import SAMPLE, SHORT, cli


def test_train_lm_gives_the_cli_s_weights(tmp_path):
    genes = SAMPLE / "genes_300.csv.gz"
    cli("train", "lm", "--model", "lstm", "--preset", "tiny", "--window", "32", *SHORT,
        "--seed", "3", "-o", tmp_path / "cli", genes)
    events = []
    model = dnalm.train_lm(
        genes, tmp_path / "py", model="lstm", preset="tiny", window=32, steps=2,
        batch_size=4, warmup=1, eval_every=2, seed=3,
        progress=lambda event, values: events.append((event, values)),
    )
    assert model.kind == "lstm"
    assert (tmp_path / "py" / "model.safetensors").read_bytes() == (
        tmp_path / "cli" / "model.safetensors"
    ).read_bytes()
    names = [event for event, _ in events]
    assert names.count("step") == 2 and "start" in names and names[-1] == "message"
    assert [values[0] for event, values in events if event == "step"] == [1, 2]
    # A finished run is read back, not trained again.
    again = []
    dnalm.train_lm(genes, tmp_path / "py", model="lstm", preset="tiny", window=32, steps=2,
                   batch_size=4, warmup=1, eval_every=2, seed=3,
                   progress=lambda event, values: again.append(event))
    assert "step" not in again


def test_pretraining_jobs_and_fine_tuning_run_from_python(tmp_path):
    chr20 = SAMPLE / "chr20_200kb.fa.gz"
    short = dict(steps=2, batch_size=4, warmup=1, eval_every=2, progress=False)
    bert = dnalm.train_mlm(chr20, tmp_path / "bert", preset="tiny", window_nt=120, **short)
    assert bert.kind == "bert"
    mxdna = dnalm.train_mxdna(chr20, tmp_path / "mxdna", window_nt=120, **short)
    assert mxdna.kind == "mxdna"
    results = dnalm.finetune(SAMPLE / "prom_core_tata", str(tmp_path / "mxdna"),
                             tmp_path / "ft", seeds=[0, 1], **short)
    assert {"mcc", "accuracy"} <= set(results["test"])
    assert results["test"]["mcc"]["n"] == 2
    classifier = dnalm.load(tmp_path / "ft" / "seed1")
    assert classifier.kind == "mxdna-classifier" and classifier.labels == ["0", "1"]


def test_bad_settings_are_refused_before_a_folder_is_written(tmp_path):
    genes = SAMPLE / "genes_300.csv.gz"
    with pytest.raises(ValueError, match="lr must be a finite number, not nan"):
        dnalm.train_lm(genes, tmp_path / "nan", lr=float("nan"), progress=False)
    with pytest.raises(dnalm.DnalmError, match="lr must be a finite number > 0, not -1"):
        dnalm.train_lm(genes, tmp_path / "negative", lr=-1.0, progress=False)
    with pytest.raises(TypeError, match="unknown training settings: stepz"):
        dnalm.train_lm(genes, tmp_path / "typo", stepz=3, progress=False)
    with pytest.raises(ValueError, match="unknown field `tokeniser`"):
        dnalm.training._run("lm", genes, tmp_path / "x", {"tokeniser": "a"}, {}, False)
    empty = tmp_path / "empty.fa"
    empty.write_text(">a\nACGT\n")
    with pytest.raises(dnalm.DnalmError, match="no training window"):
        dnalm.train_lm(empty, tmp_path / "tiny", preset="tiny", progress=False)
    assert not any((tmp_path / name).exists() for name in ["nan", "negative", "typo", "x", "tiny"])
