"""Grid search in parallel: joblib processes and a Dask cluster."""

import os

import joblib
import numpy as np
import pytest
import torch
from sklearn.model_selection import GridSearchCV, cross_validate

from sklearn_dwb import BackdoorDebiasClassifier
from sklearn_dwb.datasets import make_biased_classification
from sklearn_dwb.metrics import fairness_scorer
from sklearn_dwb.model_selection import fair_refit


class ThreadCountingLinear(torch.nn.Module):
    """Records how many intra-op threads torch had when the net was built."""

    def __init__(self, n_features, n_classes):
        super().__init__()
        self.linear = torch.nn.Linear(n_features, n_classes)
        self.torch_threads = torch.get_num_threads()

    def forward(self, X):
        return self.linear(X)


def test_two_jobs_do_not_oversubscribe_the_cores():
    X, y, groups = make_biased_classification(n_samples=400, random_state=0)
    result = cross_validate(
        BackdoorDebiasClassifier(module=ThreadCountingLinear, max_epochs=2, random_state=0),
        X, y, cv=2, n_jobs=2, return_estimator=True, params={"sensitive_features": groups},
    )  # fmt: skip
    threads = [est.student_.module_.torch_threads for est in result["estimator"]]
    # joblib's process workers split the cores between them
    assert sum(threads) <= max(os.cpu_count(), 2)


def _search():
    return GridSearchCV(
        BackdoorDebiasClassifier(
            sensitive_columns=[-1], hidden_layer_sizes=(16,), max_epochs=10, random_state=0
        ),
        {"trigger_strength": [0.0, 0.5, 1.0]},
        scoring={"accuracy": "accuracy", "dpd": fairness_scorer("demographic_parity_difference")},
        refit=fair_refit(disparity="dpd", performance="accuracy", max_disparity=0.05),
        cv=3,
        n_jobs=2,
    )


def test_dask_search_matches_local_search():
    distributed = pytest.importorskip("distributed")
    X, y, _ = make_biased_classification(n_samples=600, random_state=0)
    local = _search().fit(X, y)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, dashboard_address=None, host="127.0.0.1"
        ) as cluster,
        distributed.Client(cluster),
        joblib.parallel_backend("dask"),
    ):
        remote = _search().fit(X, y)
    assert remote.best_params_ == local.best_params_
    for key in ("mean_test_accuracy", "mean_test_dpd"):
        np.testing.assert_allclose(remote.cv_results_[key], local.cv_results_[key])
    np.testing.assert_array_equal(remote.predict(X), local.predict(X))
