"""What the test modules of DwB around a scikit-learn classifier share: one
OpenMP thread (an autouse fixture), the estimators, the task (a module-scoped
fixture) and a frame of categoricals; each test module binds the fixtures as
module attributes."""

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

from sklearn_dwb import BackdoorDebiasClassifier
from sklearn_dwb.datasets import make_biased_classification


@pytest.fixture(autouse=True)
def _one_openmp_thread():
    # gradient boosting's OpenMP threads busy-wait for each other: on cores
    # shared with other work its fits slow down a hundredfold
    with threadpool_limits(limits=1, user_api="openmp"):
        yield


def _hgb(**params):
    return HistGradientBoostingClassifier(max_iter=30, **params)


def _dwb(estimator, **params):
    return BackdoorDebiasClassifier(
        estimator=estimator, **{"random_state": 0, **params}
    )


@pytest.fixture(scope="module")
def task():
    X, y, groups = make_biased_classification(
        n_samples=3000, label_bias=0.5, random_state=0
    )
    return X, y, groups


def _categorical_frame():
    """The synthetic task as a frame of pandas categoricals and numbers."""
    X, y, groups = make_biased_classification(
        n_samples=2000, label_bias=0.5, as_frame=True, random_state=0
    )
    X = X.drop(columns="group").assign(
        sex=pd.Categorical(np.where(groups == 1, "male", "female")),
        colour=pd.Categorical(np.resize(["red", "green", "blue"], len(groups))),
    )
    return X, y
