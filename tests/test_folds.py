"""The folds of the search for a bound and their checks (``_folds.py``)."""

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import (
    GroupKFold,
    KFold,
    ShuffleSplit,
    StratifiedGroupKFold,
    StratifiedKFold,
)

from conftest import cells_of
from sklearn_dwb import BackdoorDebiasClassifier
from sklearn_dwb._folds import cross_fit_folds
from sklearn_dwb.datasets import make_biased_classification


def test_cross_fit_folds_hold_out_every_row_once_stratified_by_cell():
    groups, classes = cells_of([[60, 20], [25, 45]])
    cells = groups * 2 + classes
    folds = cross_fit_folds(5, cells, classes, seed=0)
    assert len(folds) == 5
    held_out = np.concatenate([test for _, test in folds])
    np.testing.assert_array_equal(np.sort(held_out), np.arange(len(cells)))
    for fit, test in folds:
        assert np.intersect1d(fit, test).size == 0
        assert len(fit) + len(test) == len(cells)
        # each fold holds a fifth of every cell
        np.testing.assert_array_equal(
            np.bincount(cells[test], minlength=4), [12, 4, 5, 9]
        )
    # shuffled with the seed: same seed, same folds; another, other folds
    again = cross_fit_folds(5, cells, classes, seed=0)
    other = cross_fit_folds(5, cells, classes, seed=1)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(folds, again, strict=True))
    assert not all(
        np.array_equal(a[1], b[1]) for a, b in zip(folds, other, strict=True)
    )
    # None: one teacher that learns and predicts every row
    ((fit, test),) = cross_fit_folds(None, cells, classes, seed=0)
    np.testing.assert_array_equal(fit, np.arange(len(cells)))
    np.testing.assert_array_equal(test, np.arange(len(cells)))
    # a splitter is used as given
    kfold = cross_fit_folds(KFold(4), cells, classes, seed=0)
    np.testing.assert_array_equal(kfold[0][1], np.arange(38))


def test_cross_fit_folds_refuse_what_cannot_hold_out_every_row():
    groups, classes = cells_of([[30, 3], [30, 7]])
    cells = groups * 2 + classes
    # a cell smaller than the folds: stratified by class instead
    folds = cross_fit_folds(5, cells, classes, seed=0)
    for _, test in folds:
        assert np.bincount(classes[test]).tolist() == [12, 2]
    with pytest.raises(ValueError, match="cv=11 needs at least 11 rows of each"):
        cross_fit_folds(11, cells, classes, seed=0)
    with pytest.raises(ValueError, match="hold out every row exactly once"):
        cross_fit_folds(ShuffleSplit(3, random_state=0), cells, classes, seed=0)


def test_cv_errors_name_the_fix_and_leave_the_estimator_unfitted(fast_params):
    X, y, groups = make_biased_classification(n_samples=300, random_state=0)
    y = y.copy()
    y[:] = 0
    y[:3] = 1  # a class of three rows cannot be held out in five folds
    clf = BackdoorDebiasClassifier(
        trigger_strength="auto", max_disparity=0.1, **fast_params
    )
    with pytest.raises(ValueError, match=r"cv=5 needs at least 5 rows of each class"):
        clf.fit(X, y, sensitive_features=groups)
    assert not hasattr(clf, "student_")
    clf.set_params(cv=ShuffleSplit(5, random_state=0))
    with pytest.raises(ValueError, match="hold out every row exactly once"):
        clf.fit(X, y, sensitive_features=groups)
    assert not hasattr(clf, "student_")


def test_cv_folds_that_would_train_a_useless_teacher_are_errors(fast_params):
    """Folds whose fit rows lack a class or a group, group splitters, used-up
    generators and out-of-range indices are errors naming the fix, raised
    before any training, and the estimator stays unfitted."""
    groups, classes = cells_of([[60, 20], [25, 45]])
    cells = groups * 2 + classes
    by_class = np.argsort(classes, kind="stable")
    sorted_folds = list(KFold(2).split(by_class))  # fold 2 trains on class 0 only
    with pytest.raises(
        ValueError, match="Fold 2 of cv trains on no row of class 'yes'"
    ):
        cross_fit_folds(
            sorted_folds,
            cells[by_class],
            classes[by_class],
            0,
            classes=np.array(["no", "yes"]),
        )
    by_group = np.argsort(groups, kind="stable")
    with pytest.raises(ValueError, match="Fold 2 of cv trains on no row of group 'b'"):
        cross_fit_folds(
            [(np.arange(75, 150), np.arange(75)), (np.arange(75), np.arange(75, 150))],
            cells[by_group],
            classes[by_group],
            0,
            group_codes=groups[by_group],
            groups=pd.Index(["a", "b"]),
        )
    for splitter in (GroupKFold(3), StratifiedGroupKFold(3)):
        with pytest.raises(ValueError, match="splits rows by groups, and fit passes"):
            cross_fit_folds(splitter, cells, classes, 0)
    generator = StratifiedKFold(3).split(cells, cells)
    assert len(cross_fit_folds(generator, cells, classes, 0)) == 3
    with pytest.raises(ValueError, match="cv is a generator of splits that is used up"):
        cross_fit_folds(generator, cells, classes, 0)
    outside = [(np.arange(75), np.arange(75, 151)), (np.arange(75, 150), np.arange(75))]
    with pytest.raises(
        ValueError, match=r"Fold 1 of cv holds indices outside 0 .. 149"
    ):
        cross_fit_folds(outside, cells, classes, 0)
    # through the estimator: the error, and nothing fitted
    X, y, g = make_biased_classification(n_samples=300, random_state=0)
    order = np.argsort(y, kind="stable")
    clf = BackdoorDebiasClassifier(
        trigger_strength="auto", max_disparity=0.1, cv=KFold(2), **fast_params
    )
    with pytest.raises(ValueError, match=r"Fold \d of cv trains on no row of class \d"):
        clf.fit(X[order], y[order], sensitive_features=g[order])
    assert not hasattr(clf, "student_")
