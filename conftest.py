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


def _search_rank(accuracy, checked, floor, bound):
    """The search for a bound's order of a checked model (greater is
    better): below the accuracy floor last, by accuracy; within the bound
    by accuracy; outside it by its checked disparity."""
    if accuracy < floor:
        return (0, accuracy, -checked)
    if checked <= bound:
        return (2, accuracy, -checked)
    return (1, -checked, accuracy)


def assert_kept_model_ranks_first(clf, X, y, groups, bound):
    """What holds whichever plans, students and blends a search for a bound
    goes through (floating-point sums on another CPU can change those): the
    kept model's check is its own predictions of the training rows, it
    ranks first among the checked students by the search's rule, a blend
    strictly above each student alone, and ``plan_search_`` says which
    students it holds."""
    from sklearn_dwb import StudentBlend
    from sklearn_dwb._disparity import DISPARITY_METRICS

    metric, search = clf.auto_metric, clf.plan_search_
    scores = clf.held_out_scores_
    y_pred = clf.predict(X)
    assert scores["accuracy"] == pytest.approx(np.mean(y_pred == y))
    gap = DISPARITY_METRICS[metric](y, y_pred, sensitive_features=groups)
    assert scores[metric] == pytest.approx(gap)
    bounded = clf.confidence is not None
    checked_name = metric + "_upper" if bounded else metric
    strengths = search.filter(like="strength[")
    plain = search.loc[(strengths == 0).all(axis=1), "accuracy"].iloc[0]
    floor = -np.inf if clf.max_accuracy_loss is None else plain - clf.max_accuracy_loss
    kept = _search_rank(scores["accuracy"], scores[checked_name], floor, bound)
    students = search.dropna(subset=["student_" + metric])
    ranks = [
        _search_rank(
            row["student_accuracy"], row["student_" + checked_name], floor, bound
        )
        for _, row in students.iterrows()
    ]
    assert all(kept >= rank for rank in ranks)
    weights = students["student_weight"] if "student_weight" in students else None
    chosen = search[search["selected"]]
    assert len(chosen) == 1
    if isinstance(clf.student_, StudentBlend):
        assert all(kept > rank for rank in ranks)
        assert sorted(weights[weights > 0]) == pytest.approx(
            sorted(clf.student_.weights)
        )
        assert chosen["student_weight"].iloc[0] == clf.student_.weights.max()
        assert scores["scored"].startswith("blend of two students")
    else:
        assert chosen["student_accuracy"].iloc[0] == pytest.approx(scores["accuracy"])
        if weights is not None:
            assert chosen["student_weight"].iloc[0] == 1.0
    return students


def cells_of(n_per_cell):
    """Group and class codes with ``n_per_cell[g][k]`` rows in cell (g, k)."""
    groups, classes = [], []
    for g, row in enumerate(n_per_cell):
        for k, n in enumerate(row):
            groups += [g] * n
            classes += [k] * n
    return np.array(groups), np.array(classes)
