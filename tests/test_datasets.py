"""Synthetic biased data: make_biased_classification (the loaders of real
datasets are in test_fetch.py)."""

import numpy as np
import pandas as pd
import pytest

from sklearn_dwb.datasets import make_biased_classification


def _positive_rate_gap(y, groups):
    rates = [np.mean(y[groups == g] == 1) for g in np.unique(groups)]
    return max(rates) - min(rates)


def test_shapes_and_group_column():
    X, y, groups = make_biased_classification(
        n_samples=500, n_features=7, random_state=0
    )
    assert X.shape == (500, 7) and y.shape == (500,) and groups.shape == (500,)
    np.testing.assert_array_equal(X[:, -1], groups)
    X, *_ = make_biased_classification(n_samples=50, n_features=7, group_column=False)
    assert X.shape == (50, 7)


def test_label_bias_sets_group_dependence():
    _, y, groups = make_biased_classification(
        n_samples=20000, label_bias=0.0, random_state=0
    )
    assert _positive_rate_gap(y, groups) < 0.03
    _, y, groups = make_biased_classification(
        n_samples=20000, label_bias=0.6, random_state=0
    )
    # P(y=1 | g=1) - P(y=1 | g=0) = label_bias for balanced fair labels
    assert _positive_rate_gap(y, groups) == pytest.approx(0.6, abs=0.03)


def test_groups_classes_and_weights():
    X, y, groups = make_biased_classification(
        n_samples=30000,
        n_classes=3,
        n_groups=4,
        group_weights=[4, 3, 2, 1],
        label_bias=0.5,
        random_state=0,
    )
    np.testing.assert_array_equal(np.unique(y), [0, 1, 2])
    shares = np.bincount(groups) / len(groups)
    np.testing.assert_allclose(shares, [0.4, 0.3, 0.2, 0.1], atol=0.01)
    # group 3 favours class 3 % 3 = 0: 0.5 + 0.5 / 3 of its rows are class 0
    assert np.mean(y[groups == 3] == 0) == pytest.approx(0.5 + 0.5 / 3, abs=0.03)


def test_as_frame_and_seed():
    X, y, groups = make_biased_classification(
        n_samples=100, as_frame=True, random_state=3
    )
    assert isinstance(X, pd.DataFrame) and list(X.columns)[-1] == "group"
    assert y.name == "label" and groups.name == "group"
    again, *_ = make_biased_classification(n_samples=100, as_frame=True, random_state=3)
    pd.testing.assert_frame_equal(X, again)


def test_bad_parameters():
    with pytest.raises(ValueError, match="n_informative"):
        make_biased_classification(n_features=4, n_informative=4)
    with pytest.raises(ValueError, match="group_weights"):
        make_biased_classification(n_groups=2, group_weights=[1, 2, 3])
    with pytest.raises(ValueError, match="label_bias"):
        make_biased_classification(label_bias=1.5)


def test_fair_labels_are_the_labels_before_the_bias():
    X, y, groups, y_fair = make_biased_classification(
        n_samples=4000, label_bias=0.4, return_fair_labels=True, random_state=0
    )
    plain = make_biased_classification(n_samples=4000, label_bias=0.4, random_state=0)
    # the same draws: asking for the fair labels changes nothing else
    for a, b in zip((X, y, groups), plain, strict=True):
        np.testing.assert_array_equal(a, b)
    assert _positive_rate_gap(y_fair, groups) < 0.05 < _positive_rate_gap(y, groups)
    changed = y != y_fair
    # only overwritten labels differ, and each to its group's favoured class
    np.testing.assert_array_equal(y[changed], groups[changed] % 2)
    assert 0.1 < changed.mean() < 0.3  # 40% overwritten, about half already equal
    frames = make_biased_classification(
        n_samples=50, as_frame=True, return_fair_labels=True, random_state=0
    )
    assert frames[3].name == "fair_label" and len(frames) == 4
