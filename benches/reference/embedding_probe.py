#!/usr/bin/env python3
"""A logistic-regression probe on frozen embeddings (the protocol of the Nature
Communications 2025 benchmark of DNA foundation models: mean-pooled embeddings, a
linear classifier, test AUROC). Reads the .npy files of `dnalm embed` and the labels of
the task tables, fits on train (C chosen on dev), prints test AUROC, MCC and accuracy.

Usage: embedding_probe.py TASK_DIR TRAIN.npy DEV.npy TEST.npy
"""
import csv
import gzip
import sys

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, matthews_corrcoef, roc_auc_score
from sklearn.preprocessing import StandardScaler


def labels(task, split):
    path = f"{task}/{split}.csv.gz"
    with gzip.open(path, "rt") as handle:
        return np.array([int(row["label"]) for row in csv.DictReader(handle)])


def main():
    task, paths = sys.argv[1], sys.argv[2:5]
    x = [np.load(p) for p in paths]
    y = [labels(task, split) for split in ("train", "dev", "test")]
    scaler = StandardScaler().fit(x[0])
    x = [scaler.transform(v) for v in x]
    best = None
    for c in (0.01, 0.1, 1.0, 10.0):
        model = LogisticRegression(C=c, max_iter=2000).fit(x[0], y[0])
        dev = roc_auc_score(y[1], model.predict_proba(x[1])[:, 1])
        if best is None or dev > best[0]:
            best = (dev, c, model)
    dev, c, model = best
    p = model.predict_proba(x[2])[:, 1]
    print(
        f"C {c}: dev AUROC {dev:.4f}; test AUROC {roc_auc_score(y[2], p):.4f}, "
        f"MCC {matthews_corrcoef(y[2], p > 0.5):.4f}, "
        f"accuracy {accuracy_score(y[2], p > 0.5):.4f} "
        f"({len(y[0])} train, {len(y[2])} test, {x[0].shape[1]} dims)"
    )


if __name__ == "__main__":
    main()
