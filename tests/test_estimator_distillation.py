"""DwB around a scikit-learn classifier (``estimator=``): the student learns the
teacher's soft labels, the gap narrows, and the search for a bound keeps its
best checked student or blend."""

import pickle
import warnings

import _helpers_estimator
import numpy as np
import pandas as pd
import pytest
from _helpers_estimator import _categorical_frame, _dwb, _hgb
from fairlearn.metrics import demographic_parity_difference
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

from conftest import assert_kept_model_ranks_first
from sklearn_dwb import BackdoorDebiasClassifier, _estimator_learner
from sklearn_dwb._blend import StudentBlend, proba_of
from sklearn_dwb._estimator_learner import EstimatorLearner
from sklearn_dwb._folds import Rows
from sklearn_dwb._inputs import validate_training_data
from sklearn_dwb._tuning import STRENGTH_GRID
from sklearn_dwb.datasets import make_biased_classification

# fixtures of _helpers_estimator: one OpenMP thread for every test (autouse),
# and the module-scoped task
_one_openmp_thread = _helpers_estimator._one_openmp_thread
task = _helpers_estimator.task


def _teacher_clean_proba(clf, X):
    n_extra = clf.teacher_.n_features_in_ - X.shape[1]
    return clf.teacher_.predict_proba(np.hstack([X, np.zeros((len(X), n_extra))]))


# ------------------------------------------------------------ distillation
def test_logistic_student_reproduces_its_teacher(task):
    # same model family on both sides: the student can represent the
    # teacher's clean-input function exactly, and the soft labels pin it
    X, y, groups = task
    clf = _dwb(LogisticRegression(), keep_teacher=True).fit(
        X, y, sensitive_features=groups
    )
    teacher = _teacher_clean_proba(clf, X)[:, 1]
    student = clf.predict_proba(X)[:, 1]
    assert np.abs(teacher - student).max() < 0.01


def test_boosted_student_follows_its_teacher(task):
    X, y, groups = task
    clf = _dwb(
        HistGradientBoostingClassifier(), keep_teacher=True, trigger_strength=0.5
    ).fit(X, y, sensitive_features=groups)
    # trees re-learn the teacher's function from its probabilities: close,
    # not exact, on 3,000 rows (on Adult's 30,000: 0.018 and 98% agreement)
    teacher = _teacher_clean_proba(clf, X)[:, 1]
    student = clf.predict_proba(X)[:, 1]
    assert np.abs(teacher - student).mean() < 0.06
    assert np.mean((teacher > 0.5) == (student > 0.5)) > 0.95


def test_soft_label_copies_weigh_what_the_targets_say(task):
    X, y, groups = task
    clf = _dwb(LogisticRegression(), distill_weight=0.25)
    data = validate_training_data(clf, X, y, groups, None)
    learner = EstimatorLearner(clf.estimator, 2, 0.25, 10.0, False)
    seen = {}

    def record(seed, X_fit, y_fit, weight):
        seen.update(X=X_fit, y=y_fit, weight=weight)
        return LogisticRegression().fit(X_fit, y_fit, sample_weight=weight)

    learner._fit = record
    rows = np.arange(len(X))
    p = np.linspace(0.1, 0.9, len(X))
    learner.distil(data, np.log(np.c_[1 - p, p]), 0, Rows(rows, None))
    # each row's copies weigh 1 in all; class 1's copy weighs
    # 0.25 * p + 0.75 * [y == 1]
    total = np.bincount(np.r_[rows, rows], seen["weight"], minlength=len(X))
    np.testing.assert_allclose(total, 1.0, atol=1e-6)
    ones = seen["weight"][seen["y"] == 1]
    expected = 0.25 * p + 0.75 * (y == 1)
    np.testing.assert_allclose(np.sort(ones), np.sort(expected[expected >= 1e-3]))


# --------------------------------------------------------- the method works
def test_boosting_dwb_narrows_the_gap_of_plain_boosting(task):
    X, y, groups = task
    X_test, y_test, g_test = make_biased_classification(
        n_samples=3000, label_bias=0.5, random_state=0
    )
    plain = _dwb(_hgb(), trigger_strength=0).fit(X, y, sensitive_features=groups)
    dwb = _dwb(_hgb(), trigger_strength=1).fit(X, y, sensitive_features=groups)
    gap = {
        name: demographic_parity_difference(
            y_test, model.predict(X_test), sensitive_features=g_test
        )
        for name, model in [("plain", plain), ("dwb", dwb)]
    }
    assert gap["dwb"] < 0.5 * gap["plain"]
    assert np.median(dwb.trigger_plan_["flip_rate"]) > 0.5  # triggers learned


def test_auto_with_a_bound_keeps_it_on_held_out_scores(task):
    X, y, groups = task
    clf = _dwb(
        _hgb(),
        trigger_strength="auto",
        auto_metric="demographic_parity_difference",
        max_disparity=0.1,
        keep_teacher=True,
    ).fit(X, y, sensitive_features=groups)
    scores = clf.held_out_scores_
    assert scores["scored"].startswith("student on the training rows")
    assert scores["demographic_parity_difference_upper"] <= 0.1
    # the student's score is its own on the training rows
    gap = demographic_parity_difference(y, clf.predict(X), sensitive_features=groups)
    assert scores["demographic_parity_difference"] == pytest.approx(gap)
    assert len(clf.teacher_) == 5
    assert all(isinstance(t, HistGradientBoostingClassifier) for t in clf.teacher_)


@pytest.mark.parametrize("frame", [False, True], ids=["array", "categorical frame"])
def test_boosted_dose_teachers_asked_by_bisection_answer_as_at_every_dose(
    task, frame, monkeypatch
):
    # a boosted teacher is asked at every 4th dose, then only where its
    # answers differ: the plan search sees the codes of asking every row
    # at every dose, for fewer rows asked
    X, y, groups = task
    estimator, fit_params = _hgb(), {"sensitive_features": groups}
    if frame:  # the rows asked are taken from the frame, categoricals kept
        X, y = _categorical_frame()
        estimator = _hgb(categorical_features="from_dtype")
        fit_params = {}
    asked = []

    def counting(model, X_in, n_classes):
        asked.append(len(X_in))
        return proba_of(model, X_in, n_classes)

    monkeypatch.setattr(_estimator_learner, "proba_of", counting)
    fits = {}
    for step in (1, _estimator_learner.BISECT_STEP):
        monkeypatch.setattr(_estimator_learner, "BISECT_STEP", step)
        asked.clear()
        clf = _dwb(
            estimator,
            sensitive_columns=None if fit_params else "sex",
            trigger_strength="auto",
            auto_metric="equalized_odds_difference",
            max_disparity=0.05,
        ).fit(X, y, **fit_params)
        fits[step] = clf, sum(asked)
    (every, n_every), (bisected, n_bisected) = fits.values()
    pd.testing.assert_frame_equal(every.plan_search_, bisected.plan_search_)
    np.testing.assert_array_equal(every.predict_proba(X), bisected.predict_proba(X))
    assert n_every >= len(STRENGTH_GRID) * len(X)
    assert n_bisected < n_every - 0.2 * len(STRENGTH_GRID) * len(X)


def test_auto_without_a_bound_scores_five_strengths(task):
    X, y, groups = task
    clf = _dwb(LogisticRegression(), trigger_strength="auto").fit(
        X, y, sensitive_features=groups
    )
    assert len(clf.plan_search_) == 5
    assert clf.plan_search_["selected"].sum() == 1


def test_boosted_search_keeps_its_best_ranked_checked_model(task):
    # which students are distilled, and whether a blend is kept, can change
    # with floating-point sums on another CPU: what holds on every path
    X, y, groups = task
    clf = _dwb(
        _hgb(),
        trigger_strength="auto",
        auto_metric="equalized_odds_difference",
        max_disparity=0.05,
        blend_students=True,
    ).fit(X, y, sensitive_features=groups)
    checked = assert_kept_model_ranks_first(clf, X, y, groups, 0.05)
    assert 1 <= len(checked) <= 3
    assert not getattr(clf.student_, "is_network", False)
    # pickled whole, and reproducible from its random_state
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    again = clone(clf).fit(X, y, sensitive_features=groups)
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))


def test_blend_of_boosted_students_predicts_their_mix(task):
    X, y, _ = task
    students = [HistGradientBoostingClassifier(max_iter=n).fit(X, y) for n in (3, 30)]
    blend = StudentBlend(students, [0.3, 0.7], 2)
    assert not blend.is_network
    mixed = 0.3 * students[0].predict_proba(X) + 0.7 * students[1].predict_proba(X)
    np.testing.assert_allclose(blend.predict_proba(X), mixed, rtol=1e-12)
    np.testing.assert_allclose(np.exp(blend.predict_log_proba(X)), mixed, rtol=1e-9)
    restored = pickle.loads(pickle.dumps(blend))
    np.testing.assert_array_equal(restored.predict_proba(X), blend.predict_proba(X))


@pytest.mark.parametrize("loss", [0.0, 0.05])
def test_kept_model_is_within_the_accuracy_loss_or_says_so(task, loss):
    """Whatever plans and students the search goes through, the kept model's
    checked accuracy is within max_accuracy_loss of the plain plan's (the
    teachers' held-out accuracy at strength 0), or a warning says none
    within it was found."""
    X, y, groups = task
    clf = _dwb(
        _hgb(),
        trigger_strength="auto",
        auto_metric="demographic_parity_difference",
        max_disparity=0.01,
        max_accuracy_loss=loss,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf.fit(X, y, sensitive_features=groups)
    messages = [str(w.message) for w in caught]
    search = clf.plan_search_
    strengths = search.filter(like="strength[")
    plain = search.loc[(strengths == 0).all(axis=1), "accuracy"].iloc[0]
    kept = clf.held_out_scores_["accuracy"]
    assert kept == pytest.approx(np.mean(clf.predict(X) == y))
    if kept < plain - loss:
        assert any(f"max_accuracy_loss={loss:g}" in m for m in messages)
    # no student is kept below the floor while one within it was checked
    checked = search["student_accuracy"].dropna()
    if (checked >= plain - loss).any():
        assert kept >= plain - loss


@pytest.mark.parametrize(
    "weights, labels, message",
    [
        ([0.7, 0.7], (0, 1), r"sum to 1, got \[0.7, 0.7\] \(sum 1.4\)"),
        ([1.0], (0, 1), "1 weight\\(s\\) for 2 student\\(s\\)"),
        ([1.2, -0.2], (0, 1), "non-negative"),
        ([0.5, 0.5], ("a", "b"), r"predicts classes \['a', 'b'\]"),
        ([0.5, 0.5], (1, 2), r"predicts classes \[1, 2\].*codes 0 \.\. 1"),
    ],
)
def test_student_blend_checks_its_arguments(task, weights, labels, message):
    X, y, _ = task
    students = [
        LogisticRegression().fit(X, np.asarray(labels)[y]),
        LogisticRegression(C=0.1).fit(X, np.asarray(labels)[y]),
    ]
    with pytest.raises(ValueError, match=message):
        StudentBlend(students, weights, 2)


def test_student_blend_of_networks_casts_its_input(task):
    X, y, groups = task
    clf = BackdoorDebiasClassifier(
        hidden_layer_sizes=(8,), max_epochs=2, trigger_strength=0, random_state=0
    ).fit(X, y, sensitive_features=groups)
    blend = StudentBlend([clf.student_, clf.student_], [0.5, 0.5], 2)
    expected = clf.predict_proba(X)
    np.testing.assert_allclose(blend.predict_proba(X.astype(np.float64)), expected)
    np.testing.assert_array_equal(blend.predict(X), expected.argmax(axis=1))
    np.testing.assert_array_equal(blend.classes_, [0, 1])


def test_a_one_row_group_is_named_when_no_plan_reaches_the_bound():
    X, y, groups = make_biased_classification(
        n_samples=800, n_features=6, group_column=False, random_state=0
    )
    groups = groups.astype(object)
    groups[np.flatnonzero(y == 1)[0]] = "solo"
    clf = _dwb(
        LogisticRegression(),
        trigger_strength="auto",
        auto_metric="demographic_parity_difference",
        max_disparity=0.05,
    )
    with pytest.warns(
        UserWarning,
        match=r"No plan reaches .* Groups \['solo'\] have fewer than "
        r"min_group_size=10 rows: their rates are noise",
    ):
        clf.fit(X, y, sensitive_features=groups)
    # it gets no triggers, and its strength stays 0
    assert clf.trigger_strength_["solo"] == 0.0
