import os
from pathlib import Path

import numpy as np
import pytest

# Tests and doctests read the real datasets from the shared folder beside the
# repository unless SKLEARN_DWB_DATA points elsewhere.
os.environ.setdefault(
    "SKLEARN_DWB_DATA", str(Path(__file__).resolve().parents[1] / "shared" / "datasets")
)

from sklearn_dwb.datasets import make_biased_classification

# Small, fast network settings shared by the tests: a test that needs other
# settings overrides single entries, e.g. ``{**FAST, "max_epochs": 40}``.
FAST = dict(hidden_layer_sizes=(32,), max_epochs=15, batch_size=128, random_state=0)


def biased_classification():
    """The small biased task of the unit tests: 800 rows, two groups, two
    classes, the label shifted by 0.5 between the groups."""
    return make_biased_classification(n_samples=800, label_bias=0.5, random_state=0)


@pytest.fixture
def biased_data():
    return biased_classification()


@pytest.fixture
def fast_params():
    return dict(FAST)


@pytest.fixture(autouse=True)
def _seed_numpy():
    # scikit-learn's estimator checks and other third-party code draw from the
    # legacy global RNG; seeding it keeps every test reproducible.
    np.random.seed(0)  # noqa: NPY002
