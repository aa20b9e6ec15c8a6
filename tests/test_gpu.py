"""The CUDA paths: the network on a GPU, and XGBoost on a GPU as
``estimator``. They run where CUDA is present and are skipped elsewhere."""

import pickle

import numpy as np
import pytest
import torch

from sklearn_dwb import BackdoorDebiasClassifier
from sklearn_dwb.datasets import make_biased_classification

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")


@pytest.fixture(scope="module")
def task():
    return make_biased_classification(n_samples=3000, label_bias=0.5, random_state=0)


@cuda
def test_network_trains_on_the_gpu_and_predicts_as_on_the_cpu(task):
    X, y, groups = task
    params = dict(
        trigger_strength="auto",
        max_disparity=0.05,
        hidden_layer_sizes=(32,),
        max_epochs=10,
        random_state=0,
    )
    gpu = BackdoorDebiasClassifier(device="cuda", **params).fit(
        X, y, sensitive_features=groups
    )
    assert str(gpu.student_.device).startswith("cuda")
    cpu = BackdoorDebiasClassifier(device="cpu", **params).fit(
        X, y, sensitive_features=groups
    )
    # other kernels, other sums: close, not equal
    assert np.mean(gpu.predict(X) == cpu.predict(X)) > 0.9
    assert gpu.score(X, y) > 0.7
    restored = pickle.loads(pickle.dumps(gpu))
    np.testing.assert_allclose(restored.predict_proba(X), gpu.predict_proba(X))


@cuda
def test_xgboost_on_the_gpu_as_estimator(task):
    xgboost = pytest.importorskip("xgboost")
    X, y, groups = task
    clf = BackdoorDebiasClassifier(
        estimator=xgboost.XGBClassifier(device="cuda", n_estimators=50),
        trigger_strength="auto",
        max_disparity=0.05,
        random_state=0,
    ).fit(X, y, sensitive_features=groups)
    assert clf.score(X, y) > 0.7
    again = BackdoorDebiasClassifier(**clf.get_params()).fit(
        X, y, sensitive_features=groups
    )
    np.testing.assert_allclose(again.predict_proba(X), clf.predict_proba(X))
