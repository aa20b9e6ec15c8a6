"""Module-scoped fits shared by the classifier's test modules, which bind
them as module attributes (``student_only = _helpers_classifier.student_only``)."""

import pytest

from conftest import FAST, biased_classification
from sklearn_dwb import BackdoorDebiasClassifier


@pytest.fixture(scope="module")
def student_only():
    """The default fit of the task of ``biased_data``: no teacher kept."""
    X, y, groups = biased_classification()
    return BackdoorDebiasClassifier(**FAST).fit(X, y, sensitive_features=groups)


@pytest.fixture(scope="module")
def with_teacher():
    """The same fit with ``keep_teacher=True``."""
    X, y, groups = biased_classification()
    return BackdoorDebiasClassifier(keep_teacher=True, **FAST).fit(
        X, y, sensitive_features=groups
    )
