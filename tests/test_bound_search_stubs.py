"""The search for a bound on its own, with stub teachers and students, and the
blend of two checked students (``best_blend``)."""

import types
import warnings

import numpy as np
import pandas as pd
import pytest

from sklearn_dwb._blend import StudentBlend, best_blend
from sklearn_dwb._plan_scores import PlanScores, ScoringRows, model_score
from sklearn_dwb._tuning import MAX_STUDENTS, STRENGTH_GRID


def _plan_scores(predictions, y, groups, weight, *, n_groups, n_classes, **kwargs):
    """Plan scores of hand-made predictions of rows ``y`` in ``groups``."""
    rows = ScoringRows(y, groups, weight, n_groups, n_classes)
    return PlanScores(predictions, rows, **kwargs)


class _FixedStudent:
    """A fitted stand-in with fixed class probabilities."""

    classes_ = np.array([0, 1])

    def __init__(self, positive):
        self.positive = np.asarray(positive, dtype=float)

    def predict_proba(self, X):
        return np.column_stack([1 - self.positive, self.positive])


def _blend_search(students, y, groups):
    """A search on fixed rows and the students scored by it (plan -> entry)."""
    search = _plan_scores(
        np.zeros((1, 400), int),
        y,
        groups,
        np.ones(400),
        n_groups=2,
        n_classes=2,
        metric="demographic_parity_difference",
    )
    tried = {}
    for plan, student in zip([(0, 0), (0, 1)], students, strict=True):
        y_pred = student.predict_proba(None).argmax(1)
        score, _ = model_score(y_pred, search.rows, search.metric, search.confidence)
        tried[plan] = (student, score)
    return search, tried


def test_best_blend_ranks_a_mix_above_each_student_alone():
    """Two students on either side of a demographic-parity bound of 0.02
    (selection rates 0.5 / 0.6 and 0.5 / 0.4), built by hand: a mix that
    puts half of group 1 over the threshold meets it, and is kept."""
    groups = np.repeat([0, 1], 200)
    y = np.tile([0, 1], 200)
    rows = np.arange(200)
    group_0 = np.where(rows < 100, 0.9, 0.1)  # selection rate 0.5 in both
    low = np.where(rows < 80, 0.9, np.where(rows < 120, (rows - 80) / 80, 0.1))
    students = [
        _FixedStudent(np.concatenate([group_0, np.where(rows < 120, 0.9, 0.1)])),
        _FixedStudent(np.concatenate([group_0, low])),
    ]
    search, tried = _blend_search(students, y, groups)
    assert [t[1].disparity for t in tried.values()] == pytest.approx([0.1, 0.1])
    data = types.SimpleNamespace(X=np.zeros((400, 1)), classes=np.array([0, 1]))
    pair, weight, score = best_blend(search, data.X, tried, 0.02, 2)
    assert pair == ((0, 0), (0, 1))
    assert score.disparity <= 0.02
    mixed = weight * students[0].positive + (1 - weight) * students[1].positive
    y_pred = (mixed > 0.5).astype(int)
    assert score.disparity == pytest.approx(
        abs(y_pred[groups == 0].mean() - y_pred[groups == 1].mean())
    )
    assert score.accuracy == pytest.approx(np.mean(y_pred == y))
    # a bound both meet, and labels the first student predicts exactly: no
    # mix ranks above it
    y_first = students[0].predict_proba(None).argmax(1)
    search, tried = _blend_search(students, y_first, groups)
    assert best_blend(search, data.X, tried, 0.2, 2) is None


# ------------------------------------------------- the search on its own
class _StubStudent:
    """A student that selects the rows of each group whose place ``q`` in
    the group is below its rate (soft at the edge, so mixes interpolate)."""

    classes_ = np.array([0, 1])

    def __init__(self, rates):
        self.rates = np.asarray(rates, dtype=float)

    def predict_proba(self, X):
        q, group = X[:, 0], X[:, 1].astype(int)
        positive = 1.0 / (1.0 + np.exp(-50.0 * (self.rates[group] - q)))
        return np.column_stack([1.0 - positive, positive])


class _StubLearner:
    """Dose teachers without training: group 0's rows are selected at rate
    0.5 at every strength, group 1's at 0.3 + 0.4 * j / 60 at the grid's
    j-th strength. The student distilled at a plan selects at the plan's
    rates plus ``offsets[k]`` for group 1, k the students distilled before."""

    train_longer = "nothing"

    def __init__(self, offsets=(0.0,)):
        self.offsets = list(offsets)
        self.distilled = []

    @staticmethod
    def rate_1(j):
        return 0.3 + 0.4 * np.asarray(j) / (len(STRENGTH_GRID) - 1)

    def fit_dose_teachers(self, data, dose_rows, folds, seeds, rows, mechanism, n_jobs):
        q, group = data.X[:, 0], data.group_codes
        j = np.arange(len(STRENGTH_GRID))[:, None]
        rates = np.where(group == 0, 0.5, self.rate_1(j))
        return ["teacher"] * len(folds), (q < rates).astype(np.intp)

    def append(self, X, columns):
        return np.hstack([X, columns])

    def logits(self, teacher, X_in):
        # the row's strength: its group's dose column (after q and group)
        group = X_in[:, 1].astype(int)
        strength = X_in[np.arange(len(X_in)), 2 + group]
        return np.column_stack([strength, np.zeros(len(X_in))]).astype(np.float32)

    def distil(self, data, teacher_logits, seed, rows):
        strength_1 = teacher_logits[data.group_codes == 1, 0][0]
        j = int(np.argmin(np.abs(STRENGTH_GRID - strength_1)))
        offset = self.offsets[min(len(self.distilled), len(self.offsets) - 1)]
        self.distilled.append(j)
        return _StubStudent([0.5, self.rate_1(j) + offset])

    def predict_codes(self, student, X):
        return student.predict_proba(X).argmax(axis=1)


def _search(learner, max_disparity, base_rate_1=0.6, **settings):
    from sklearn_dwb._bound_search import BoundSearch, BoundSettings
    from sklearn_dwb._data import Seeds, TrainingData, TriggerSettings
    from sklearn_dwb._folds import Rows

    n = 2000
    group = np.arange(n) % 2
    q = ((np.arange(n) // 2) + 0.5) / (n // 2)
    y = (q < np.where(group == 0, 0.5, base_rate_1)).astype(int)
    data = TrainingData(
        np.column_stack([q, group]).astype(np.float32),
        np.array([0, 1]),
        y,
        pd.Index([0, 1]),
        group,
        np.ones(n, dtype=np.float32),
    )
    bound = BoundSettings(
        **{
            "metric": "demographic_parity_difference",
            "max_disparity": max_disparity,
            "max_accuracy_loss": None,
            "confidence": None,
            "blend_students": False,
            "cv": 5,
            "distill_weight": 1.0,
            "validation_fraction": 0.1,
            "early_stopping": False,
            **settings,
        }
    )
    search = BoundSearch(
        learner,
        data,
        Seeds(0, 1, 2, 3),
        Rows(np.arange(n), None),
        TriggerSettings("global", 0, 10.0),
        bound,
    )
    return search, search.run()


def test_a_student_within_the_bound_ends_the_search():
    learner = _StubLearner()
    search, result = _search(learner, 0.05)
    # the most accurate plan within DPD <= 0.05: group 1 selected at the
    # largest rate up to 0.55; its student shows the plan's own rates
    assert len(search.tried) == 1 and len(learner.distilled) == 1
    (plan,) = search.tried
    assert learner.rate_1(plan[1]) == pytest.approx(0.5467, abs=1e-3)
    assert result.held_out_scores["demographic_parity_difference"] <= 0.05
    assert result.held_out_scores["scored"].startswith("student on the training")
    assert result.table["student_accuracy"].notna().sum() == 1
    assert (
        result.table.loc[result.table["selected"], "strength[1]"].item()
        == (STRENGTH_GRID[plan[1]])
    )


def test_a_student_outside_the_bound_shifts_the_plans():
    # every student selects 0.08 more of group 1 than its plan: the shift
    # moves the next plan down by as much, and that student is within
    learner = _StubLearner(offsets=[0.08])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        search, result = _search(learner, 0.05)
    first, second = learner.distilled
    assert learner.rate_1(first) - learner.rate_1(second) == pytest.approx(
        0.08, abs=0.007
    )
    assert result.held_out_scores["demographic_parity_difference"] <= 0.05
    assert list(search.tried)[-1][1] == second
    # the table keeps the teachers' own scores, and both students'
    checked = result.table.dropna(subset=["student_accuracy"])
    assert len(checked) == 2


def test_no_student_within_the_bound_keeps_the_least_disparate_and_warns():
    # students always select 0.3 more of group 1: none reaches 0.05
    learner = _StubLearner(offsets=[0.3])
    with pytest.warns(UserWarning, match="No plan reaches"):
        search, result = _search(learner, 0.05)
    assert len(search.tried) == MAX_STUDENTS
    kept = result.held_out_scores["demographic_parity_difference"]
    assert kept == min(t.score.disparity for t in search.tried.values())


def test_a_blend_of_two_students_is_kept_when_it_alone_meets_the_bound():
    # the students overshoot, then undershoot: a mix of two lands between
    learner = _StubLearner(offsets=[0.12, -0.12, 0.12])
    search, result = _search(learner, 0.03, blend_students=True)
    assert all(t.score.disparity > 0.03 for t in search.tried.values())
    assert isinstance(result.student, StudentBlend)
    assert result.held_out_scores["demographic_parity_difference"] <= 0.03
    assert result.held_out_scores["scored"].startswith("blend of two students")
    weights = result.table["student_weight"].dropna()
    assert weights.sum() == pytest.approx(1.0) and (weights > 0).sum() == 2


def test_the_accuracy_floor_keeps_a_useful_student_out_of_a_bound():
    # group 1's labels at base rate 0.35: the plain plan selects 0.43 of it,
    # a DPD of 0.01 needs 0.5, which costs 0.03 of accuracy; a floor of 0.01
    # keeps the search near the plain plan, and says what the bound costs
    _, unbounded = _search(_StubLearner(), 0.01, base_rate_1=0.35)
    with pytest.warns(UserWarning, match=r"No plan reaches .* The bound costs 0.03"):
        search, floored = _search(
            _StubLearner(), 0.01, base_rate_1=0.35, max_accuracy_loss=0.01
        )
    plain = search.scores.score(search.scores.plain_plan).accuracy
    assert unbounded.held_out_scores["demographic_parity_difference"] <= 0.01
    assert unbounded.held_out_scores["accuracy"] < plain - 0.01
    assert floored.held_out_scores["accuracy"] >= plain - 0.01
