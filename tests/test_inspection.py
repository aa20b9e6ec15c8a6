"""The accuracy-disparity front (``sklearn_dwb.inspection.FrontDisplay``)."""

import sys

import matplotlib
import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from conftest import FAST
from sklearn_dwb import BackdoorDebiasClassifier
from sklearn_dwb.datasets import make_biased_classification
from sklearn_dwb.inspection import FrontDisplay
from sklearn_dwb.metrics import fairness_scorer
from sklearn_dwb.model_selection import fair_refit

matplotlib.use("Agg")
METRIC = "equalized_odds_difference"


@pytest.fixture(scope="module")
def split():
    X, y, groups = make_biased_classification(
        n_samples=4000, label_bias=0.5, random_state=0
    )
    return train_test_split(X, y, groups, test_size=0.25, random_state=0)


@pytest.fixture(scope="module")
def boosted(split):
    X, _, y, _, groups, _ = split
    return BackdoorDebiasClassifier(
        estimator=HistGradientBoostingClassifier(max_iter=30),
        trigger_strength="auto",
        auto_metric=METRIC,
        max_disparity=0.05,
        random_state=0,
    ).fit(X, y, sensitive_features=groups)


def test_the_front_is_every_non_dominated_plan(boosted, split):
    _, X_test, _, y_test, _, g_test = split
    display = FrontDisplay.from_estimator(boosted, test=(X_test, y_test, g_test))
    table = boosted.plan_search_
    accuracy, disparity = table["accuracy"].to_numpy(), table[METRIC].to_numpy()
    dominated = [
        np.any(
            (accuracy >= accuracy[i])
            & (disparity <= disparity[i])
            & ((accuracy > accuracy[i]) | (disparity < disparity[i]))
        )
        for i in range(len(table))
    ]
    on_front = set(display.front_)
    assert on_front and not any(dominated[i] for i in on_front)
    # every non-dominated plan is on the front, but for exact repeats
    front_points = {(accuracy[i], disparity[i]) for i in on_front}
    for i in np.flatnonzero(~np.asarray(dominated)):
        assert (accuracy[i], disparity[i]) in front_points
    # drawn: the front line through those points, by disparity
    x, y = display.front_line_.get_data()
    np.testing.assert_allclose(x, disparity[display.front_])
    np.testing.assert_allclose(y, accuracy[display.front_])
    assert np.all(np.diff(x) >= 0)
    assert display.bound_line_.get_xdata()[0] == 0.05
    assert len(display.points_.get_offsets()) == len(table)


def test_the_marks_are_the_table_and_the_kept_model(boosted, split):
    _, X_test, _, y_test, _, g_test = split
    display = FrontDisplay.from_estimator(boosted, test=(X_test, y_test, g_test))
    table, scores = boosted.plan_search_, boosted.held_out_scores_
    # the error bars of the front are the table's bounds
    front = table.iloc[display.front_]
    segments = display.front_errorbar_.lines[2][0].get_segments()
    lows = [segment[0][0] for segment in segments]
    highs = [segment[1][0] for segment in segments]
    np.testing.assert_allclose(lows, front[METRIC + "_lower"])
    np.testing.assert_allclose(highs, front[METRIC + "_upper"])
    # the kept model: its checked scores; its plan: trigger_strength_
    x, y = display.kept_marker_.lines[0].get_data()
    assert (x[0], y[0]) == pytest.approx((scores[METRIC], scores["accuracy"]))
    chosen = table[table["selected"]].filter(like="strength[").iloc[0]
    np.testing.assert_array_equal(chosen.to_numpy(), boosted.trigger_strength_)
    # the plain plan, the checked students, the test scores
    plain = table[(table.filter(like="strength[") == 0).all(axis=1)].iloc[0]
    assert display.plain_marker_.get_xdata()[0] == plain[METRIC]
    checked = table.dropna(subset=["student_accuracy"])
    x, y = display.checked_markers_.lines[0].get_data()
    np.testing.assert_allclose(y, checked["student_accuracy"])
    test_accuracy = boosted.score(X_test, y_test)
    assert display.test_marker_.get_ydata()[0] == pytest.approx(test_accuracy)
    assert display.ax_.get_xlabel() == METRIC
    assert display.figure_ is display.ax_.figure


def test_a_network_search_without_a_bound_in_a_pipeline(split):
    X, _, y, _, groups, _ = split
    pipe = make_pipeline(
        StandardScaler(),
        BackdoorDebiasClassifier(trigger_strength="auto", **FAST),
    )
    pipe.fit(X, y, backdoordebiasclassifier__sensitive_features=groups)
    display = FrontDisplay.from_estimator(pipe)
    assert len(display.points) == 5  # one strength for every group
    assert display.bound_line_ is None and display.checked_markers_ is None
    chosen = pipe[-1].plan_search_["selected"].to_numpy()
    x, _ = display.kept_marker_.lines[0].get_data()
    metric = pipe[-1].auto_metric
    assert x[0] == pipe[-1].plan_search_.loc[chosen, metric].item()


def test_a_grid_search_front_and_its_refitted_candidate(split):
    X, _, y, _, groups, _ = split
    search = GridSearchCV(
        BackdoorDebiasClassifier(sensitive_columns=[-1], **FAST),
        {"trigger_strength": [0.0, 0.5, 1.0]},
        scoring={"acc": "accuracy", "eod": fairness_scorer(METRIC)},
        refit=fair_refit(disparity="eod", performance="acc", max_disparity=0.1),
        cv=3,
    ).fit(X, y)
    display = FrontDisplay.from_cv_results(search, performance="acc", disparity="eod")
    results = search.cv_results_
    np.testing.assert_allclose(display.points["accuracy"], results["mean_test_acc"])
    np.testing.assert_allclose(display.points["disparity"], -results["mean_test_eod"])
    x, y = display.kept_marker_.lines[0].get_data()
    assert y[0] == results["mean_test_acc"][search.best_index_]
    assert display.bound_line_.get_xdata()[0] == 0.1


def test_without_matplotlib_the_error_names_the_extra(boosted, monkeypatch):
    display = FrontDisplay.from_estimator(boosted, plot=False)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"sklearn-dwb\[plot\]"):
        display.plot()


def test_an_estimator_without_a_search_is_refused(split):
    X, _, y, _, groups, _ = split
    clf = BackdoorDebiasClassifier(**FAST).fit(X, y, sensitive_features=groups)
    with pytest.raises(ValueError, match="has no plan_search_"):
        FrontDisplay.from_estimator(clf)
    assert isinstance(
        FrontDisplay(pd.DataFrame({"accuracy": [1.0], "disparity": [0.0]}), "m").front_,
        np.ndarray,
    )
