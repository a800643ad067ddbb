"""The package gives what the command line gives, for the same model and inputs:
embeddings, variant scores, per-nucleotide scores, perplexity, predictions, learnt
tokens and tokenizer ids."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest

import dnalm
from conftest import SAMPLE, cli


@pytest.mark.parametrize("kind", ["bert", "mxdna", "mxdna-classifier"])
def test_embeddings_equal_the_cli_s(models, junctions, tmp_path, kind):
    fasta, seqs = junctions
    out = tmp_path / "e.npy"
    cli("embed", "-m", models[kind], "--pooling", "cls", "-o", out, fasta)
    expected = np.load(out)
    got = dnalm.load(models[kind]).embed(seqs, pooling="cls")
    assert got.dtype == np.float32 and got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)


@pytest.mark.parametrize("kind", ["ngram", "lstm", "bert", "mxdna"])
def test_variant_scores_equal_the_cli_s(models, tmp_path, kind):
    table = SAMPLE / "splice_variants.csv"
    out = tmp_path / "scores.csv"
    cli("eval", "variants", "-m", models[kind], "-o", out, table)
    expected = [float(row["score"]) for row in csv.DictReader(out.open())]
    rows = list(csv.DictReader(table.open()))
    got = dnalm.load(models[kind]).variant_scores(
        [r["ref"] for r in rows], [r["alt"] for r in rows]
    )
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("kind,extra", [("lstm", []), ("mxdna", ["--mask-spacing", "3"])])
def test_position_scores_equal_the_cli_track(models, junctions, tmp_path, kind, extra):
    fasta, seqs = junctions
    out = tmp_path / "t.bedgraph"
    # One window per sequence: the track is each sequence's values.
    cli("score", "-m", models[kind], "--window", "60", "--stride", "60", *extra, "-o", out, fasta)
    track: dict[tuple[str, int], float] = {}
    for line in out.read_text().splitlines()[1:]:
        name, start, end, value = line.split("\t")
        for position in range(int(start), int(end)):
            track[(name, position)] = float(value)
    spacing = 3 if extra else None
    got = dnalm.load(models[kind]).position_scores(seqs, mask_spacing=spacing)
    for i, values in enumerate(got):
        assert values.shape == (60,)
        expected = [track[(f"j{i}", p)] for p in range(60)]
        np.testing.assert_allclose(values, expected, rtol=0, atol=5e-5)


def test_log_likelihood_gives_the_cli_s_perplexity(models, junctions):
    fasta, seqs = junctions
    printed = cli("eval", "perplexity", "-m", models["lstm"], fasta)
    line = next(l for l in printed.splitlines() if "perplexity" in l.lower())
    expected = float(line.split("perplexity")[1].split()[0].strip(":,="))
    model = dnalm.load(models["lstm"])
    log_prob = model.log_likelihood(seqs)
    events = sum(len(s) + 1 for s in seqs)
    assert math.exp(-log_prob.sum() / events) == pytest.approx(expected, abs=5e-5)


def test_predictions_equal_the_cli_s(models, junctions, tmp_path):
    fasta, seqs = junctions
    out = tmp_path / "p.csv"
    cli("predict", "-m", models["mxdna-classifier"], "-o", out, fasta)
    rows = list(csv.DictReader(out.open()))
    model = dnalm.load(models["mxdna-classifier"])
    got = model.predict(seqs)
    assert got.dtype == np.float32 and got.shape == (len(seqs), len(model.labels))
    for row, probabilities in zip(rows, got):
        expected = [float(row[f"p_{label}"]) for label in model.labels]
        np.testing.assert_allclose(probabilities, expected, rtol=0, atol=1e-6)
        assert row["predicted"] == model.labels[int(np.argmax(probabilities))]


def test_learnt_tokens_equal_the_cli_s(models, junctions):
    fasta, seqs = junctions
    printed = cli("tokens", "-m", models["mxdna"], "--spans", "--show", "6", fasta)
    span_lines = [l for l in printed.splitlines() if l and l[0].isdigit() and ":" in l]
    model = dnalm.load(models["mxdna"])
    for seq, line in zip(seqs, span_lines):
        expected = []
        for item in line.split():
            span, expert = item.split(":")
            start, end = span.split("-")
            expected.append((int(start) - 1, int(end), int(expert)))
        assert model.learnt_tokens(seq) == expected


def test_tokenizer_ids_equal_the_cli_s(junctions, tmp_path):
    fasta, seqs = junctions
    path = tmp_path / "kmer6.json"
    cli("tokenizer", "train", "--kind", "kmer", "--k", "6", "--out", path)
    printed = cli("tokenizer", "encode", "-t", path, "--format", "jsonl", fasta)
    records = [json.loads(line) for line in printed.splitlines()]
    tokenizer = dnalm.Tokenizer.from_file(path)
    assert tokenizer.vocab_size == dnalm.Tokenizer.by_name("kmer6").vocab_size
    for seq, record in zip(seqs, records):
        ids, spans = tokenizer.encode(seq)
        assert ids.dtype == np.uint32 and spans.shape == (len(ids), 2)
        assert ids.tolist() == record["ids"]
        assert spans[0].tolist() == [0, 6] and spans[1].tolist() == [1, 7]
    assert tokenizer.decode(tokenizer.encode(seqs[0])[0].tolist()) == seqs[0]
