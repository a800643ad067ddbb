"""Bad input raises a Python exception with the command line's message, never a crash."""

from __future__ import annotations

import numpy as np
import pytest

import dnalm


def test_bad_sequences_name_the_sequence_and_position(models):
    model = dnalm.load(models["lstm"])
    with pytest.raises(ValueError, match=r"sequence 1: invalid character 'X' at position 3"):
        model.log_likelihood(["ACGT", "ACXT"])
    with pytest.raises(ValueError, match="sequence 0: invalid character 'U'"):
        model.log_likelihood("ACGU")
    with pytest.raises(TypeError, match="a sequence is a str or bytes, not int"):
        model.log_likelihood(["ACGT", 5])
    with pytest.raises(TypeError, match="iterable"):
        model.log_likelihood(3.5)


def test_inputs_may_be_bytes_lists_and_numpy_arrays(models):
    model = dnalm.load(models["lstm"])
    as_str = model.log_likelihood(["ACGTTGCA", "ggatn"])
    assert np.array_equal(model.log_likelihood([b"ACGTTGCA", b"GGATN"]), as_str)
    assert np.array_equal(model.log_likelihood(np.array(["ACGTTGCA", "GGATN"])), as_str)
    assert np.array_equal(model.log_likelihood(np.array([b"ACGTTGCA", b"GGATN"])), as_str)
    assert model.log_likelihood("ACGTTGCA")[0] == as_str[0]


def test_capabilities_a_kind_lacks_are_refused_with_the_registry_s_message(models):
    ngram = dnalm.load(models["ngram"])
    with pytest.raises(dnalm.DnalmError) as refused:
        ngram.embed(["ACGT"])
    assert str(refused.value) == (
        f"`{models['ngram']}` is a ngram model; Model.embed needs embeddings (an encoder), "
        "which bert, mxdna, bert-classifier, mxdna-classifier models have"
    )
    with pytest.raises(dnalm.DnalmError, match="is a mxdna model; Model.generate needs"):
        dnalm.load(models["mxdna"]).generate()
    assert ngram.labels is None


def test_bad_files_and_settings_are_named(models, tmp_path):
    with pytest.raises(dnalm.DnalmError, match="not a model dnalm knows"):
        (tmp_path / "x.fa").write_text(">a\nACGT\n")
        dnalm.load(tmp_path / "x.fa")
    with pytest.raises(dnalm.DnalmError, match="No such file"):
        dnalm.load(tmp_path / "missing")
    model = dnalm.load(models["mxdna"])
    with pytest.raises(ValueError, match='pooling is "mean" or "cls"'):
        model.embed("ACGT", pooling="max")
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        model.embed("ACGT", batch_size=0)
    with pytest.raises(ValueError, match="1 reference and 2 alternate"):
        model.variant_scores(["ACGT"], ["ACGA", "ACGC"])
    with pytest.raises(ValueError, match="mask_spacing must be at least 1"):
        model.position_scores("ACGT", mask_spacing=0)
    with pytest.raises(ValueError, match="temperature must be positive"):
        dnalm.load(models["lstm"]).generate(temperature=0.0)
    with pytest.raises(ValueError, match="smoothing"):
        dnalm.load(models["ngram"], smoothing="bogus")
    with pytest.raises(ValueError, match="'tpu' is not a device: cpu, cuda or cuda:N"):
        dnalm.load(models["mxdna"], device="tpu")
    assert dnalm.load(models["mxdna"], device="cpu").kind == "mxdna"
    with pytest.raises(dnalm.DnalmError, match="neither a tokenizer name"):
        dnalm.Tokenizer.by_name("kmer99")
