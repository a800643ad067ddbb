"""dnalm.ray on a local Ray cluster (two CPUs, two actors): the rows equal the
single-process results, and a worker killed in the middle of a batch is restarted by
Ray and its batch run again, nothing lost and nothing written twice."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

import dnalm
from conftest import SAMPLE

ray = pytest.importorskip("ray")
import dnalm.ray  # noqa: E402

RETRIES = {"max_restarts": -1, "max_task_retries": -1}


@pytest.fixture(scope="module")
def cluster():
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        object_store_memory=200 * 1024 * 1024,
        log_to_driver=False,
    )
    ray.data.DataContext.get_current().enable_progress_bars = False
    # Classes defined in this file travel to the workers by value.
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def promoters():
    records = dnalm.read_sequences(SAMPLE / "prom_core_tata" / "test.csv.gz")[:96]
    return [{"id": rid, "sequence": seq} for rid, seq, _ in records]


def by_id(rows, column):
    return {row["id"]: row[column] for row in rows}


def test_two_actors_give_the_single_process_rows(cluster, models, promoters):
    seqs = [row["sequence"] for row in promoters]
    ids = [row["id"] for row in promoters]
    ds = ray.data.from_items(promoters)
    embedded = ds.map_batches(
        dnalm.ray.Embedder,
        fn_constructor_kwargs={"path": str(models["mxdna"])},
        concurrency=2,
        batch_size=16,
    ).take_all()
    alone = dnalm.load(models["mxdna"]).embed(seqs)
    got = by_id(embedded, "embedding")
    assert sorted(got) == sorted(ids)
    for rid, expected in zip(ids, alone):
        np.testing.assert_allclose(got[rid], expected, rtol=0, atol=1e-5)
    scored = ds.map_batches(
        dnalm.ray.LogLikelihood,
        fn_constructor_kwargs={"path": str(models["lstm"])},
        concurrency=2,
        batch_size=16,
    ).take_all()
    alone = dnalm.load(models["lstm"]).log_likelihood(seqs)
    got = by_id(scored, "log_likelihood")
    np.testing.assert_allclose([got[rid] for rid in ids], alone, rtol=0, atol=1e-4)


def test_variants_from_a_vcf_score_as_in_one_process(cluster, models, tmp_path):
    reference = tmp_path / "junctions.fa"
    reference.write_bytes((SAMPLE / "splice_vcf" / "junctions.fa").read_bytes())
    columns = dnalm.vcf_variants(
        SAMPLE / "splice_vcf" / "variants.vcf", reference, window=120, label_info="LABEL"
    )
    rows = [dict(zip(columns, values)) for values in zip(*columns.values())]
    assert len(rows) == 174 and all(r["status"] == "scored" for r in rows)
    scored = ray.data.from_items(rows).map_batches(
        dnalm.ray.VariantScorer,
        fn_constructor_kwargs={"path": str(models["ngram"])},
        concurrency=2,
        batch_size=32,
    ).take_all()
    alone = dnalm.load(models["ngram"]).variant_scores(columns["ref_window"], columns["alt_window"])
    got = {(r["chrom"], r["pos"], r["alt"]): r["score"] for r in scored}
    keys = list(zip(columns["chrom"], columns["pos"], columns["alt"]))
    assert len(got) == len(keys)
    np.testing.assert_allclose([got[k] for k in keys], alone, rtol=0, atol=1e-9)


class CrashOnce(dnalm.ray.Embedder):
    """Kills its worker process the first time any actor reaches its third batch."""

    def __init__(self, path: str, marker: str):
        super().__init__(path)
        self.marker, self.calls = marker, 0

    def __call__(self, batch):
        self.calls += 1
        if self.calls == 3 and not os.path.exists(self.marker):
            open(self.marker, "w").close()
            os._exit(1)
        return super().__call__(batch)


def test_a_killed_worker_is_retried_and_nothing_is_lost_or_duplicated(
    cluster, models, promoters, tmp_path
):
    marker = tmp_path / "crashed"
    out = tmp_path / "parquet"
    ray.data.from_items(promoters).map_batches(
        CrashOnce,
        fn_constructor_kwargs={"path": str(models["mxdna"]), "marker": str(marker)},
        concurrency=2,
        batch_size=8,
        **RETRIES,
    ).write_parquet(str(out))
    assert marker.exists(), "no worker was killed"
    import pyarrow.parquet as pq

    table = pq.read_table(out)
    ids = table.column("id").to_pylist()
    assert sorted(ids) == sorted(row["id"] for row in promoters)
    alone = dict(zip((r["id"] for r in promoters),
                     dnalm.load(models["mxdna"]).embed([r["sequence"] for r in promoters])))
    for rid, embedding in zip(ids, table.column("embedding").to_pylist()):
        np.testing.assert_allclose(embedding, alone[rid], rtol=0, atol=1e-5)
