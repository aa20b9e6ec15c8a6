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

# Small, fast network settings shared by the unit tests.
FAST = dict(hidden_layer_sizes=(32,), max_epochs=15, batch_size=128, random_state=0)


@pytest.fixture
def biased_data():
    return make_biased_classification(n_samples=800, label_bias=0.5, random_state=0)


@pytest.fixture
def fast_params():
    return dict(FAST)


@pytest.fixture(autouse=True)
def _seed_numpy():
    np.random.seed(0)
