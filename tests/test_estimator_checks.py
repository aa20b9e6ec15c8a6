"""scikit-learn's estimator suite on BackdoorDebiasClassifier."""

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.utils.estimator_checks import parametrize_with_checks
from threadpoolctl import threadpool_limits

from conftest import FAST
from sklearn_dwb import BackdoorDebiasClassifier


def first_column_halves(X):
    """Two groups from X alone: rows ranked in the lower / upper half of the
    first column (the suite calls ``fit(X, y)`` without groups)."""
    X = np.asarray(X, dtype=float)
    column = X.reshape(len(X), -1)[:, 0]
    rank = np.argsort(np.argsort(column, kind="stable"), kind="stable")
    return (2 * rank >= len(column)).astype(int)


def _checked_estimator():
    # the fast settings with more epochs, smaller batches and a larger
    # learning rate: the suite's classifier checks ask for a good fit of
    # their small tasks
    return BackdoorDebiasClassifier(
        sensitive_columns=first_column_halves,
        **{**FAST, "max_epochs": 40, "batch_size": 64, "lr": 1e-2},
    )


def _checked_boosting():
    # gradient boosting as teacher and student (estimator=)
    return BackdoorDebiasClassifier(
        estimator=HistGradientBoostingClassifier(max_iter=20),
        sensitive_columns=first_column_halves,
        random_state=0,
    )


EXPECTED_FAILED_CHECKS = {
    "check_sample_weight_equivalence_on_dense_data": (
        "mini-batch SGD: a row of weight 2 gives one doubled gradient per epoch, "
        "a repeated row two gradients in different batches, so the fits differ"
    ),
}


# scikit-learn marks this check as an expected failure of
# HistGradientBoostingClassifier itself: binning and early stopping see a
# weight of 2 differently from a repeated row
BOOSTING_EXPECTED_FAILED_CHECKS = {
    "check_sample_weight_equivalence_on_dense_data": (
        "HistGradientBoostingClassifier: sample_weight is not equivalent to "
        "repeating rows"
    ),
}


@parametrize_with_checks(
    [_checked_estimator(), _checked_boosting()],
    expected_failed_checks=lambda est: (
        EXPECTED_FAILED_CHECKS
        if est.estimator is None
        else BOOSTING_EXPECTED_FAILED_CHECKS
    ),
)
def test_sklearn_estimator_checks(estimator, check):
    if estimator.estimator is None:
        check(estimator)
        return
    # gradient boosting's OpenMP threads busy-wait for each other: on cores
    # shared with other work one check took minutes instead of a second
    with threadpool_limits(limits=1, user_api="openmp"):
        check(estimator)
