"""The estimator's searches for a bound (``_bound_search.py`` through
BackdoorDebiasClassifier): the plan search table, confidence bounds, warnings,
blends of students, and fold teachers fitted in parallel."""

import warnings

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import equalized_odds_difference
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

from conftest import assert_kept_model_ranks_first
from sklearn_dwb import BackdoorDebiasClassifier
from sklearn_dwb._blend import StudentBlend
from sklearn_dwb._disparity import (
    DISPARITY_METRICS,
)
from sklearn_dwb._tuning import STRENGTH_GRID
from sklearn_dwb.datasets import make_biased_classification
from sklearn_dwb.metrics import fairness_scorer


def test_search_counts_an_undefined_rate_as_the_scorers_do():
    """A group without a positive row: the search's check, held_out_scores_
    and the scorer give the same equalized-odds difference on the same rows
    (its true-positive rate counts as 0, as in fairlearn), and fit names
    the group."""
    X, y, groups = make_biased_classification(
        n_samples=800, n_features=6, group_column=False, random_state=0
    )
    groups = groups.astype(object)
    groups[np.flatnonzero(y == 0)[:60]] = "neg_only"
    metric = "equalized_odds_difference"
    clf = BackdoorDebiasClassifier(
        estimator=LogisticRegression(),
        trigger_strength="auto",
        auto_metric=metric,
        max_disparity=0.3,
        random_state=0,
    )
    with pytest.warns(UserWarning) as caught:
        clf.fit(X, y, sensitive_features=groups)
    messages = [str(w.message) for w in caught]
    assert any(
        m.startswith("Group 'neg_only' has no row of class 1, so its true-positive")
        for m in messages
    )
    scorer = fairness_scorer(metric)
    expected = -scorer(clf, X, y, sensitive_features=groups)
    assert expected > 0.8  # at least the other groups' true-positive rates
    assert clf.held_out_scores_[metric] == pytest.approx(expected)
    assert any(m.startswith("No plan reaches") for m in messages)


@pytest.fixture(scope="module")
def biased_task():
    return make_biased_classification(n_samples=2000, label_bias=0.5, random_state=0)


def _assert_search_table(search, metric):
    """The plan search's table holds every per-group plan of two groups, with
    its columns, and selects one; return the selected plan's row."""
    assert len(search) == len(STRENGTH_GRID) ** 2  # every per-group plan, two groups
    assert list(search.columns) == [
        "strength[0]",
        "strength[1]",
        "accuracy",
        metric,
        "student_accuracy",
        "student_" + metric,
        "student_weight",
        "selected",
    ]
    chosen = search[search["selected"]]
    assert len(chosen) == 1
    return chosen.iloc[0]


def _assert_first_student_at_best_plan_within(search, metric):
    """The first student was distilled at the most accurate plan within the
    bound (0.05) and the accuracy floor by the teachers' held-out scores."""
    checked = search.dropna(subset=["student_" + metric])
    assert 1 <= len(checked) <= 3
    plain = search.loc[(search.iloc[:, :2] == 0).all(axis=1), "accuracy"].iloc[0]
    within = search[(search[metric] <= 0.05) & (search["accuracy"] >= plain - 0.05)]
    first = within[within["accuracy"] == within["accuracy"].max()]
    assert first["student_" + metric].notna().any()


def _assert_chosen_student_checked_alone(clf, X, y, groups, chosen, metric):
    """The chosen plan's student scores were checked on the kept plan's
    student alone (the heaviest of a blend)."""
    gap = DISPARITY_METRICS[metric]
    alone = clf.student_
    if isinstance(alone, StudentBlend):
        alone = alone.students[int(np.argmax(alone.weights))]
    y_alone = clf.classes_[alone.predict_proba(X.astype(np.float32)).argmax(1)]
    assert chosen["student_" + metric] == pytest.approx(
        gap(y, y_alone, sensitive_features=groups)
    )
    assert chosen["student_accuracy"] == pytest.approx(np.mean(y_alone == y))


def _assert_strengths_follow_the_chosen_plan(clf, chosen):
    """``trigger_strength_`` is the chosen plan's, per group, and each stamped
    cell carries its group's chosen strength."""
    assert isinstance(clf.trigger_strength_, pd.Series)
    np.testing.assert_array_equal(
        clf.trigger_strength_.to_numpy(), chosen.iloc[:2].to_numpy(dtype=float)
    )
    np.testing.assert_array_equal(
        clf.trigger_plan_["strength"],
        clf.trigger_strength_[clf.trigger_plan_["group"]].to_numpy(),
    )


def test_auto_with_a_bound_returns_a_plan_within_it(biased_task, fast_params):
    X, y, groups = biased_task
    metric = "demographic_parity_difference"
    clf = BackdoorDebiasClassifier(
        trigger_strength="auto",
        auto_metric=metric,
        max_disparity=0.05,
        confidence=None,  # point estimates: no bound columns
        **fast_params,
    ).fit(X, y, sensitive_features=groups)
    search = clf.plan_search_
    chosen = _assert_search_table(search, metric)
    _assert_first_student_at_best_plan_within(search, metric)
    # the check is the kept model's own predictions of the training rows,
    # and it ranks first among the students checked (a blend of two, with
    # blend_students, above each alone), whichever path the search took
    assert_kept_model_ranks_first(clf, X, y, groups, 0.05)
    assert search["student_weight"].sum() == pytest.approx(1.0)
    gap = DISPARITY_METRICS[metric]
    y_pred = clf.predict(X)
    # each student was checked the same way: the kept plan's student alone
    _assert_chosen_student_checked_alone(clf, X, y, groups, chosen, metric)
    _assert_strengths_follow_the_chosen_plan(clf, chosen)
    # the student is well below the unmitigated network's gap
    plain = BackdoorDebiasClassifier(trigger_strength=0, **fast_params)
    plain.fit(X, y, sensitive_features=groups)
    student_gap = gap(y, y_pred, sensitive_features=groups)
    plain_gap = gap(y, plain.predict(X), sensitive_features=groups)
    assert plain_gap - student_gap >= 0.07
    # the chosen plan is described as usual, with its per-group rates
    plan = clf.trigger_plan_
    assert set(plan["group"]) <= {0, 1}
    np.testing.assert_array_equal(
        plan["n_stamped"], np.rint(plan["stamped_share"] * plan["n_rows"])
    )


def test_auto_warns_when_no_plan_reaches_the_bound(biased_task, fast_params):
    X, y, groups = biased_task
    clf = BackdoorDebiasClassifier(
        trigger_strength="auto",
        auto_metric="equalized_odds_difference",
        max_disparity=0.0,
        confidence=None,
        **fast_params,
    )
    with pytest.warns(
        UserWarning,
        match=r"<= 0.0 for the student on the training rows \(whose labels it "
        r"never saw\) \(checked: the value\); the plan with the smallest value "
        r"found, 0\.\d+ at accuracy 0\.\d{4}, is used \(strength\[0\]=-?[\d.]+, "
        r"strength\[1\]=-?[\d.]+\)",
    ):
        clf.fit(X, y, sensitive_features=groups)
    # three students were distilled and checked; the kept model ranks first
    # (the least disparate, or a mix of two less disparate than either)
    students = clf.plan_search_["student_equalized_odds_difference"].dropna()
    assert len(students) == 3
    assert_kept_model_ranks_first(clf, X, y, groups, 0.0)


def test_cross_fitted_search_scores_plans_as_new_data_would():
    """A network that memorises its rows scores the plans too well on them;
    the folds' teachers score them on rows they did not learn, and the
    chosen plan keeps its accuracy and bound on new data."""
    X, y, groups = make_biased_classification(
        n_samples=1600, label_bias=0.4, random_state=1
    )
    memorising = dict(
        trigger_strength="auto",
        auto_metric="equalized_odds_difference",
        max_disparity=0.1,
        early_stopping=False,
        max_epochs=30,
        hidden_layer_sizes=(128, 128),
        dropout=0.0,
        weight_decay=0.0,
        lr=3e-3,
        random_state=0,
    )
    scores = {}
    for cv in (None, 3):
        clf = BackdoorDebiasClassifier(cv=cv, keep_teacher=True, **memorising)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            clf.fit(X[:800], y[:800], sensitive_features=groups[:800])
        search = clf.plan_search_
        chosen = search[search["selected"]].iloc[0]
        y_pred = clf.predict(X[800:])
        scores[cv] = (
            chosen["accuracy"],
            np.mean(y_pred == y[800:]),
            clf.held_out_scores_["equalized_odds_difference"],
            equalized_odds_difference(y[800:], y_pred, sensitive_features=groups[800:]),
        )
    # the EOD of 800 new rows has a standard error of about 0.05
    search_accuracy, new_accuracy, checked_eod, new_eod = scores[3]
    assert abs(search_accuracy - new_accuracy) < 0.03
    assert abs(new_eod - checked_eod) < 0.08
    assert isinstance(clf.teacher_, list) and len(clf.teacher_) == 3
    search_accuracy, new_accuracy, checked_eod, new_eod = scores[None]
    assert search_accuracy - new_accuracy > 0.05  # optimistic on its own rows
    assert new_eod - checked_eod > 0.1


def test_confidence_checks_the_upper_bound_against_max_disparity(
    biased_task, fast_params
):
    X, y, groups = biased_task
    metric = "demographic_parity_difference"
    clf = BackdoorDebiasClassifier(
        trigger_strength="auto",
        auto_metric=metric,
        max_disparity=0.04,
        confidence=0.8,
        **fast_params,
    ).fit(X, y, sensitive_features=groups)
    search = clf.plan_search_
    assert list(search.columns[2:]) == [
        "accuracy",
        "accuracy_lower",
        "accuracy_upper",
        metric,
        metric + "_lower",
        metric + "_upper",
        "student_accuracy",
        "student_" + metric,
        "student_" + metric + "_upper",
        "student_weight",
        "selected",
    ]
    assert (search[metric + "_lower"] <= search[metric]).all()
    assert (search[metric] <= search[metric + "_upper"]).all()
    assert (search["accuracy_lower"] <= search["accuracy"]).all()
    # the first student was distilled at the most accurate plan whose
    # teachers' upper bound is within the bound (some plans are within by
    # their estimate only); the kept model ranks first by its own upper bound
    within = search[search[metric + "_upper"] <= 0.04]
    assert (search[metric] <= 0.04).sum() > len(within)
    first = within.loc[within["accuracy"].idxmax()]
    assert not np.isnan(first["student_" + metric + "_upper"])
    checked = assert_kept_model_ranks_first(clf, X, y, groups, 0.04)
    assert (
        checked["student_" + metric] <= checked["student_" + metric + "_upper"]
    ).all()
    scores = clf.held_out_scores_
    assert scores["confidence"] == 0.8
    # the student's bounds are its sampling noise on the rows: for its rate
    # gap between two groups of about 1,000 rows, about 0.8416 * 0.022
    margin = scores[metric + "_upper"] - scores[metric]
    assert margin == pytest.approx(0.8416 * np.sqrt(2 * 0.25 / 1000), rel=0.2)
    # without a confidence level: point estimates, and no bound columns
    clf.set_params(confidence=None).fit(X, y, sensitive_features=groups)
    assert metric + "_upper" not in clf.plan_search_.columns
    assert list(clf.held_out_scores_.index) == [
        "accuracy",
        metric,
        "confidence",
        "scored",
    ]


def test_no_upper_bound_within_the_bound_warns_and_names_the_plan(
    biased_task, fast_params
):
    X, y, groups = biased_task
    metric = "equalized_odds_difference"
    clf = BackdoorDebiasClassifier(
        trigger_strength="auto",
        auto_metric=metric,
        max_disparity=0.01,
        confidence=0.95,
        **fast_params,
    )
    with pytest.warns(
        UserWarning,
        match=r"\(checked: the upper 0.95-confidence bound\); the plan with the "
        r"smallest upper 0.95-confidence bound found, 0\.\d+ at accuracy 0\.\d{4}, "
        r"is used \(strength"
        r"\[0\]=-?[\d.]+, strength\[1\]=-?[\d.]+\)\. Raise max_disparity, lower "
        r"confidence",
    ):
        clf.fit(X, y, sensitive_features=groups)
    search = clf.plan_search_
    chosen = search[search["selected"]].iloc[0]
    # three students were checked, none within; the kept model ranks first
    students = search["student_" + metric + "_upper"].dropna()
    assert len(students) == 3 and students.min() > 0.01
    assert_kept_model_ranks_first(clf, X, y, groups, 0.01)
    np.testing.assert_array_equal(
        clf.trigger_strength_.to_numpy(), chosen[["strength[0]", "strength[1]"]]
    )


def test_confidence_is_validated(biased_data):
    X, y, groups = biased_data
    for bad in (0.3, 1.0, "0.9"):
        clf = BackdoorDebiasClassifier(
            trigger_strength="auto", max_disparity=0.1, confidence=bad
        )
        with pytest.raises(ValueError, match="'confidence' parameter"):
            clf.fit(X, y, sensitive_features=groups)


def test_many_groups_keep_the_search_table_and_warnings_small(fast_params):
    """With hundreds of groups, plan_search_ keeps the uniform plans and the
    search's path, with a summary of each plan's strengths instead of a
    column per group, and warnings name a few groups and a count."""
    X, y, _ = make_biased_classification(n_samples=3000, random_state=0)
    groups = np.random.default_rng(0).integers(0, 120, len(y))
    groups[:40] = 120
    weight = np.where(groups >= 100, 0.0, 1.0)  # 21 groups without weight
    clf = BackdoorDebiasClassifier(
        trigger_strength="auto",
        max_disparity=0.0,
        max_groups=None,
        **{**fast_params, "max_epochs": 2},
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf.fit(X, y, sensitive_features=groups, sample_weight=weight)
    search = clf.plan_search_
    assert list(search.columns[:3]) == ["strength_min", "strength_mean", "strength_max"]
    # the 21 uniform plans and at most one plan per move of the path
    assert len(search) <= len(STRENGTH_GRID) + 2 * 121
    assert len(clf.trigger_strength_) == 121
    messages = [str(w.message) for w in caught]
    assert max(len(m) for m in messages) < 600
    assert any(
        m.startswith("Groups [100, 101, 102, 103, 104] and 16 more have a total")
        for m in messages
    )
    assert any("and 116 more groups: see trigger_strength_" in m for m in messages)


def test_search_for_a_bound_keeps_a_blend_only_above_each_student(fast_params):
    # a demographic-parity bound of 0.02 that students of this task often
    # miss: whichever students and blends the search goes through, the kept
    # model ranks first, predicts as its parts, and a warning names a blend
    X, y, groups = make_biased_classification(
        n_samples=2000, label_bias=0.5, random_state=0
    )
    metric = "demographic_parity_difference"
    params = {**fast_params, "random_state": 2}
    clf = BackdoorDebiasClassifier(
        trigger_strength="auto",
        auto_metric=metric,
        max_disparity=0.02,
        blend_students=True,
        **params,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf.fit(X, y, sensitive_features=groups)
    assert_kept_model_ranks_first(clf, X, y, groups, 0.02)
    warned = [str(w.message) for w in caught if "No plan reaches" in str(w.message)]
    assert bool(warned) == (clf.held_out_scores_[metric + "_upper"] > 0.02)
    X32 = X.astype(np.float32)
    students = getattr(clf.student_, "students", [clf.student_])
    weights = getattr(clf.student_, "weights", [1.0])
    mixed = sum(
        w * s.predict_proba(X32).astype(np.float64)
        for s, w in zip(students, weights, strict=True)
    )
    np.testing.assert_allclose(clf.predict_proba(X), mixed, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(
        np.exp(clf.predict_log_proba(X)), clf.predict_proba(X), rtol=1e-5
    )
    if isinstance(clf.student_, StudentBlend):
        assert clf.student_.is_network and len(students) == 2
        if warned:
            assert f"blended with another at weight {max(weights):g}" in warned[0]
    # without blend_students the search keeps one student: the best ranked
    alone = clone(clf).set_params(blend_students=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        alone.fit(X, y, sensitive_features=groups)
    assert not isinstance(alone.student_, StudentBlend)
    assert "student_weight" not in alone.plan_search_
    assert_kept_model_ranks_first(alone, X, y, groups, 0.02)


@pytest.mark.parametrize("estimator", [None, "hgb"])
def test_a_group_without_triggers_keeps_strength_0(fast_params, estimator):
    """A group that lacks a class gets no trigger: the search keeps its
    strength at 0 in every plan, with the network and with boosting alike
    (a network's dose input could otherwise move it to any strength)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    X, y, groups = make_biased_classification(
        n_samples=900, n_groups=3, label_bias=0.5, random_state=0
    )
    y = y.copy()
    y[groups == 2] = 0
    params = dict(fast_params)
    if estimator == "hgb":
        params = dict(
            estimator=HistGradientBoostingClassifier(max_iter=20), random_state=0
        )
    clf = BackdoorDebiasClassifier(
        trigger_strength="auto",
        auto_metric="demographic_parity_difference",
        max_disparity=0.05,
        **params,
    )
    with pytest.warns(UserWarning, match=r"Groups \[2\] lack at least one class"):
        clf.fit(X, y, sensitive_features=groups)
    assert clf.trigger_strength_[2] == 0.0
    assert (clf.plan_search_["strength[2]"] == 0.0).all()
    assert len(clf.plan_search_) == len(STRENGTH_GRID) ** 2


# ------------------------------------------------------ parallel fold teachers
def _bound_fit(estimator, **params):
    X, y, groups = make_biased_classification(
        n_samples=800, label_bias=0.5, random_state=0
    )
    common = dict(
        trigger_strength="auto",
        max_disparity=0.05,
        auto_metric="equalized_odds_difference",
        random_state=0,
    )
    if estimator == "network":
        common.update(hidden_layer_sizes=(8,), max_epochs=3, batch_size=128)
    else:
        common.update(estimator=HistGradientBoostingClassifier(max_iter=10))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = BackdoorDebiasClassifier(**common, **params).fit(
            X, y, sensitive_features=groups
        )
    return clf, X


@pytest.mark.parametrize(
    "estimator, backend", [("network", "loky"), ("hgb", "threading")]
)
def test_fold_teachers_in_parallel_fit_the_same_model(estimator, backend):
    import joblib

    alone, X = _bound_fit(estimator, n_jobs=1)
    with joblib.parallel_backend(backend, n_jobs=2):
        together, _ = _bound_fit(estimator, n_jobs=2)
    np.testing.assert_array_equal(together.predict_proba(X), alone.predict_proba(X))
    pd.testing.assert_frame_equal(together.plan_search_, alone.plan_search_)


def test_fold_teachers_on_a_dask_cluster_fit_the_same_model():
    import joblib

    distributed = pytest.importorskip("distributed")
    alone, X = _bound_fit("hgb", n_jobs=1)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        with joblib.parallel_backend("dask"):
            remote, _ = _bound_fit("hgb", n_jobs=-1)
        assert len(client.scheduler_info()["workers"]) == 2
    np.testing.assert_array_equal(remote.predict_proba(X), alone.predict_proba(X))
