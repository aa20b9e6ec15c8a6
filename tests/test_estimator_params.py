"""DwB around a scikit-learn classifier (``estimator=``): estimator__ parameters,
random states and pickles, and LightGBM and XGBoost as estimators."""

import pickle

import _helpers_estimator
import numpy as np
import pandas as pd
import pytest
import sklearn
from _helpers_estimator import _categorical_frame, _dwb, _hgb
from sklearn.base import clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import GridSearchCV

from sklearn_dwb import BackdoorDebiasClassifier, _estimator_learner
from sklearn_dwb.datasets import make_biased_classification
from sklearn_dwb.metrics import fairness_scorer
from sklearn_dwb.model_selection import fair_refit

# fixtures of _helpers_estimator: one OpenMP thread for every test (autouse),
# and the module-scoped task
_one_openmp_thread = _helpers_estimator._one_openmp_thread
task = _helpers_estimator.task


# ----------------------------------------------- parameters and persistence
def test_nested_parameters_round_trip_and_grid_search(task):
    X, y, groups = task
    clf = _dwb(_hgb(), sensitive_columns=None).set_params(estimator__max_depth=3)
    assert clone(clf).get_params()["estimator__max_depth"] == 3
    with sklearn.config_context(enable_metadata_routing=True):
        clf.set_fit_request(sensitive_features=True)
        search = GridSearchCV(
            clf,
            {"estimator__max_iter": [2, 30]},
            scoring={
                "accuracy": "accuracy",
                "dpd": fairness_scorer("demographic_parity_difference"),
            },
            refit=fair_refit(
                disparity="dpd", performance="accuracy", max_disparity=0.5
            ),
            cv=3,
        ).fit(X, y, sensitive_features=groups)
    accuracy = search.cv_results_["mean_test_accuracy"]
    assert accuracy[1] > accuracy[0] + 0.02  # 30 trees beat 2
    assert search.best_params_ == {"estimator__max_iter": 30}
    assert search.best_estimator_.student_.max_iter == 30
    assert search.best_estimator_.student_.max_depth == 3


def test_random_state_reaches_the_clones_and_repeats_the_fit(task):
    X, y, groups = task
    fits = [
        _dwb(RandomForestClassifier(n_estimators=10), random_state=seed).fit(
            X, y, sensitive_features=groups
        )
        for seed in (3, 3, 4)
    ]
    np.testing.assert_array_equal(fits[0].predict_proba(X), fits[1].predict_proba(X))
    assert not np.array_equal(fits[0].predict_proba(X), fits[2].predict_proba(X))
    assert fits[0].student_.random_state == fits[1].student_.random_state


def test_pickle_holds_no_training_rows():
    sizes = []
    for n in (1000, 8000):
        X, y, groups = make_biased_classification(
            n_samples=n, label_bias=0.5, random_state=0
        )
        clf = _dwb(_hgb(early_stopping=False, max_leaf_nodes=8)).fit(
            X, y, sensitive_features=groups
        )
        restored = pickle.loads(pickle.dumps(clf))
        np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
        sizes.append(len(pickle.dumps(clf)))
    # 7,000 more rows of 5 float features would add 280 kB
    assert sizes[1] - sizes[0] < 10_000


def test_nested_estimator_parameters_without_an_estimator_name_the_fix(task):
    X, y, groups = task
    with pytest.raises(
        ValueError,
        match=r"estimator__max_iter sets a parameter "
        r"of estimator, which is None .* set_params\(estimator=",
    ):
        BackdoorDebiasClassifier().set_params(estimator__max_iter=1)
    clf = BackdoorDebiasClassifier().set_params(estimator=_hgb(), estimator__max_iter=3)
    assert clf.estimator.max_iter == 3
    # a grid that sets both reaches the estimator too
    search = GridSearchCV(
        _dwb(None, trigger_strength=0),
        {"estimator": [_hgb()], "estimator__max_iter": [2, 3]},
        cv=2,
    ).fit(X, y, sensitive_features=groups)
    assert search.best_estimator_.student_.max_iter in (2, 3)


def test_estimator_random_state_seeds_the_fit_when_dwb_has_none(task):
    X, y, groups = task
    forest = RandomForestClassifier(n_estimators=10, random_state=123)
    first = BackdoorDebiasClassifier(estimator=forest, trigger_strength=0.5)
    first.fit(X, y, sensitive_features=groups)
    again = clone(first).fit(X, y, sensitive_features=groups)
    np.testing.assert_array_equal(first.predict_proba(X), again.predict_proba(X))
    assert first.student_.random_state == 123
    assert forest.random_state == 123
    # DwB's own random_state, when set, seeds every clone instead
    seeded = (
        clone(first).set_params(random_state=0).fit(X, y, sensitive_features=groups)
    )
    assert seeded.student_.random_state != 123


# ----------------------------------------------------- LightGBM and XGBoost
def _boosters():
    """LightGBM and XGBoost classifiers, where installed (the test extra
    installs both)."""
    found = []
    lightgbm = pytest.importorskip("lightgbm")
    found.append(
        lightgbm.LGBMClassifier(n_estimators=30, n_jobs=1, verbose=-1, random_state=3)
    )
    xgboost = pytest.importorskip("xgboost")
    found.append(xgboost.XGBClassifier(n_estimators=30, n_jobs=1, random_state=3))
    return found


@pytest.mark.parametrize("which", [0, 1], ids=["lightgbm", "xgboost"])
def test_lightgbm_and_xgboost_fit_frames_pickle_and_repeat(which):
    """On a DataFrame the teacher's extra columns are named as both accept
    (dwb_extra_<i>); fits repeat for a fixed random_state and pickle."""
    booster = _boosters()[which]
    X, y = _categorical_frame()
    X = X.drop(columns="colour").assign(sex=(X["sex"] == "male").astype(float))
    clf = _dwb(
        booster, sensitive_columns="sex", trigger_strength=0.5, keep_teacher=True
    ).fit(X, y)
    assert list(clf.teacher_.feature_names_in_[-2:]) == ["dwb_extra_0", "dwb_extra_1"]
    assert np.mean(clf.predict(X) == y) > 0.7
    again = clone(clf).fit(X, y)
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))


@pytest.mark.parametrize("which", [0, 1], ids=["lightgbm", "xgboost"])
def test_lightgbm_and_xgboost_teachers_asked_by_bisection_answer_as_at_every_step(
    task, which, monkeypatch
):
    booster = _boosters()[which]
    X, y, groups = task
    assert _estimator_learner.answers_hold_between_strengths(clone(booster))
    fits = []
    for step in (1, _estimator_learner.BISECT_STEP):
        monkeypatch.setattr(_estimator_learner, "BISECT_STEP", step)
        fits.append(
            _dwb(booster, trigger_strength="auto", max_disparity=0.05).fit(
                X, y, sensitive_features=groups
            )
        )
    pd.testing.assert_frame_equal(fits[0].plan_search_, fits[1].plan_search_)
    np.testing.assert_array_equal(fits[0].predict_proba(X), fits[1].predict_proba(X))
