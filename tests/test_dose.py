"""The dose-trained teacher and the per-group plan search (``_dose.py``)."""

import types
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from fairlearn.metrics import equalized_odds_difference
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import (
    GroupKFold,
    KFold,
    ShuffleSplit,
    StratifiedGroupKFold,
    StratifiedKFold,
)

from conftest import assert_kept_model_ranks_first
from sklearn_dwb import BackdoorDebiasClassifier
from sklearn_dwb._disparity import (
    DISPARITY_METRICS,
    disparity_from_rates,
    group_rates,
    one_vs_rest_disparity,
)
from sklearn_dwb._dose import (
    DOSE_GRID,
    DoseSampler,
    PlanSearch,
    cross_fit_folds,
    dose_input,
    make_dose_plan,
    stamped_at,
    warn_if_out_of_bound,
)
from sklearn_dwb._learners import StudentBlend
from sklearn_dwb._trigger import plan_stamps
from sklearn_dwb.datasets import make_biased_classification
from sklearn_dwb.metrics import fairness_scorer


def _cells(n_per_cell):
    """Group and class codes with ``n_per_cell[g][k]`` rows in cell (g, k)."""
    groups, classes = [], []
    for g, row in enumerate(n_per_cell):
        for k, n in enumerate(row):
            groups += [g] * n
            classes += [k] * n
    return np.array(groups), np.array(classes)


def _plans(counts, strengths=None):
    """The global-target plan of a table of cell counts: the dose plan, or
    with ``strengths`` the fixed plan (both drawn from seed 0)."""
    groups, classes = _cells(counts)
    common = dict(
        group_codes=groups,
        class_codes=classes,
        shape=counts.shape,
        weights=None,
        target="global",
        rng=np.random.default_rng(0),
    )
    if strengths is None:
        return make_dose_plan(**common)
    return plan_stamps(**common, strength=np.asarray(strengths))


def test_per_group_strengths_stamp_exact_counts_per_cell():
    counts = np.array([[300, 100], [80, 220], [150, 150]])
    groups, classes = _cells(counts)
    strengths = np.array([0.5, 1.0, 2.0])
    plan = _plans(counts, strengths)
    # global target: 530 / 1000 of class 0; each group's excess cell
    p = counts.sum(axis=0) / counts.sum()
    m = (counts / p).min(axis=1, keepdims=True)
    excess = counts - m * p
    expected = np.rint(np.clip(strengths[:, None] * excess / counts, 0, 1) * counts)
    np.testing.assert_array_equal(plan.stamp_counts, expected)
    stamped_per_cell = np.bincount(
        (groups * 2 + classes)[plan.stamped], minlength=counts.size
    ).reshape(counts.shape)
    np.testing.assert_array_equal(stamped_per_cell, expected)


def test_dose_plan_stamps_what_the_fixed_plan_stamps_at_each_strength():
    counts = np.array([[300, 100], [80, 220]])
    groups, classes = _cells(counts)
    dose_plan = _plans(counts)
    # every cell of a group with an excess: the over-represented ones are
    # stamped at positive strengths, the others at negative ones
    assert dose_plan.n_triggers == 4
    for strengths in (
        [0.0, 0.0],
        [0.3, 1.0],
        [1.0, 0.5],
        [2.0, 2.0],
        [-0.5, 0.4],
        [-1.0, -0.3],
    ):
        fixed = _plans(counts, strengths)
        dose = torch.tensor(strengths, dtype=torch.float32)[groups]
        stamped = stamped_at(dose_plan, dose).numpy()
        per_cell = np.bincount((groups * 2 + classes)[stamped], minlength=4)
        assert np.abs(per_cell - fixed.stamp_counts.ravel()).max() <= 1


def test_dose_input_and_sampler():
    counts = np.array([[30, 10], [8, 22]])
    groups, classes = _cells(counts)
    plan = _plans(counts)
    X = torch.ones(len(groups), 3)
    dose = torch.full((len(groups),), 0.7)
    clean = dose_input(X, plan, dose, 10.0)
    assert clean.shape == (70, 3 + 2 + 4)
    np.testing.assert_allclose(
        clean[:, 3:5].numpy(), np.eye(2)[groups] * 0.7, rtol=1e-6
    )
    assert not clean[:, 5:].any()
    torch.manual_seed(0)
    y = {"label": torch.as_tensor(classes), "weight": torch.ones(70)}
    X_epoch, y_epoch = DoseSampler(plan, 10.0)(X, y)
    triggers = X_epoch[:, 5:].numpy()
    stamped = triggers.max(axis=1) > 0
    assert set(np.unique(triggers)) <= {0.0, 10.0}
    # a stamped row carries its own cell's trigger: the over-represented
    # cells (0 and 3) at positive doses, the others at negative ones
    cells = groups * 2 + classes
    doses = X_epoch[:, 3:5].numpy()[np.arange(70), groups]
    assert doses.min() >= -1 and doses.max() <= 2
    np.testing.assert_array_equal(np.flatnonzero(triggers[stamped]) % 4, cells[stamped])
    over = np.isin(cells, [0, 3])
    assert np.all(doses[stamped & over] > 0) and np.all(doses[stamped & ~over] < 0)
    # reweighing: the dose scales each cell's weight towards P(g)P(y)/P(g,y)
    _, y_weighted = DoseSampler(plan, 10.0, "reweigh")(X, y, dose=torch.ones(70))
    share = counts / counts.sum()
    expected = share.sum(axis=1)[:, None] * share.sum(axis=0) / share
    np.testing.assert_allclose(
        y_weighted["weight"].numpy(), expected[groups, classes], rtol=1e-6
    )


@pytest.mark.parametrize("n_classes", [2, 3])
def test_group_rates_give_fairlearns_disparities(n_classes):
    rng = np.random.default_rng(n_classes)
    for _ in range(5):
        y, y_pred = rng.integers(0, n_classes, (2, 400))
        groups, weight = rng.integers(0, 3, 400), rng.random(400)
        # group 2 without a row of class 1: its rates of class 1 against
        # the rest count as 0 where fairlearn counts them so
        y[(groups == 2) & (y == 1)] = 0
        rates = group_rates(y, y_pred, groups, 3, n_classes, weight)
        assert rates[int(n_classes > 2), 1, 2] == 0.0
        for metric in DISPARITY_METRICS:
            assert disparity_from_rates(metric, rates) == pytest.approx(
                one_vs_rest_disparity(metric, y, y_pred, groups, n_classes, weight),
                abs=1e-12,
            )


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


def test_plan_search_scores_every_plan_or_one_group_at_a_time():
    rng = np.random.default_rng(0)
    n_doses, n_rows = 5, 600
    y = rng.integers(0, 2, n_rows)
    predictions = np.where(rng.random((n_doses, n_rows)) < 0.8, y, 1 - y)
    for n_groups, expected_plans in [(2, n_doses**2), (6, None)]:
        groups = rng.integers(0, n_groups, n_rows)
        search = PlanSearch(
            predictions,
            y,
            groups,
            np.ones(n_rows),
            n_groups=n_groups,
            n_classes=2,
            metric="equalized_odds_difference",
        )
        best = search.run(n_groups, max_disparity=0.1)
        if expected_plans is not None:
            assert len(search.scores) == expected_plans
        else:  # 5 ** 6 plans in full: searched one group at a time instead
            assert n_doses < len(search.scores) < n_doses**n_groups
        index = np.asarray(best)[groups]
        y_pred = predictions[index, np.arange(n_rows)]
        accuracy, disparity = search.score(best)[:2]
        assert accuracy == pytest.approx(np.mean(y_pred == y))
        assert disparity == pytest.approx(
            equalized_odds_difference(y, y_pred, sensitive_features=groups)
        )
        feasible = [s for s in search.scores.values() if s.disparity <= 0.1]
        if feasible:
            assert disparity <= 0.1
            assert accuracy == max(s.accuracy for s in feasible)


@pytest.fixture(scope="module")
def biased_task():
    return make_biased_classification(n_samples=2000, label_bias=0.5, random_state=0)


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
    assert len(search) == len(DOSE_GRID) ** 2  # every per-group plan, two groups
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
    chosen = chosen.iloc[0]
    # the first student was distilled at the most accurate plan within the
    # bound and the accuracy floor by the teachers' held-out scores
    checked = search.dropna(subset=["student_" + metric])
    assert 1 <= len(checked) <= 3
    plain = search.loc[(search.iloc[:, :2] == 0).all(axis=1), "accuracy"].iloc[0]
    within = search[(search[metric] <= 0.05) & (search["accuracy"] >= plain - 0.05)]
    first = within[within["accuracy"] == within["accuracy"].max()]
    assert first["student_" + metric].notna().any()
    # the check is the kept model's own predictions of the training rows,
    # and it ranks first among the students checked (a blend of two, with
    # blend_students, above each alone), whichever path the search took
    assert_kept_model_ranks_first(clf, X, y, groups, 0.05)
    assert search["student_weight"].sum() == pytest.approx(1.0)
    gap = DISPARITY_METRICS[metric]
    y_pred = clf.predict(X)
    # each student was checked the same way: the kept plan's student alone
    alone = clf.student_
    if isinstance(alone, StudentBlend):
        alone = alone.students[int(np.argmax(alone.weights))]
    y_alone = clf.classes_[alone.predict_proba(X.astype(np.float32)).argmax(1)]
    assert chosen["student_" + metric] == pytest.approx(
        gap(y, y_alone, sensitive_features=groups)
    )
    assert chosen["student_accuracy"] == pytest.approx(np.mean(y_alone == y))
    assert isinstance(clf.trigger_strength_, pd.Series)
    np.testing.assert_array_equal(
        clf.trigger_strength_.to_numpy(), chosen.iloc[:2].to_numpy(dtype=float)
    )
    # each stamped cell carries its group's chosen strength
    np.testing.assert_array_equal(
        clf.trigger_plan_["strength"],
        clf.trigger_strength_[clf.trigger_plan_["group"]].to_numpy(),
    )
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


# ---------------------------------------------------------- accuracy floor
def _collapse_search(max_accuracy_loss):
    """A three-dose search built by hand (grid -1, 0, 1; 400 rows a group,
    half positive): at dose -1 a group is predicted all negative (a
    constant model, rates 0); at doses 0 and 1 group 0 is predicted
    exactly, group 1 with a false-positive rate of 0.2 at dose 0 and 0.08 at
    dose 1. Only the constant plan (-1, -1) meets equalized odds <= 0.05."""
    y = np.tile([0, 1], 400)
    groups = np.repeat([0, 1], 400)
    negatives_1 = np.flatnonzero((groups == 1) & (y == 0))
    predictions = np.stack([np.zeros(800, int), y.copy(), y.copy()])
    predictions[1, negatives_1[:40]] = 1  # FPR 40 / 200
    predictions[2, negatives_1[:16]] = 1  # FPR 16 / 200
    return PlanSearch(
        predictions,
        y,
        groups,
        np.ones(800),
        n_groups=2,
        n_classes=2,
        metric="equalized_odds_difference",
        grid=[-1.0, 0.0, 1.0],
        max_accuracy_loss=max_accuracy_loss,
    )


def test_without_an_accuracy_floor_a_constant_plan_meets_the_bound():
    search = _collapse_search(None)
    best = search.run(2, 0.05)
    assert best == (0, 0)
    assert search.score(best)[:2] == pytest.approx((0.5, 0.0))
    assert search.plain_plan == (1, 1)
    assert search.score(search.plain_plan)[:2] == pytest.approx((0.95, 0.2))


def test_accuracy_floor_keeps_the_least_disparate_plan_within_the_loss():
    search = _collapse_search(0.05)
    assert search.accuracy_floor == pytest.approx(0.90)
    # the constant plan is out; no plan within the loss meets the bound, so
    # the least disparate within it is kept (ties: strengths nearest 0)
    best = search.run(2, 0.05)
    assert best == (1, 2)
    assert search.score(best)[:2] == pytest.approx((0.98, 0.08))
    assert not search.meets(search.score((0, 0)), 0.05)
    assert not search.meets(search.score(best), 0.05)
    assert search.meets(search.score(best), 0.1)
    # a model below the floor ranks below every model within it
    low = search.rank_of(search.score((0, 0)), 0.05)
    assert low < search.rank_of(search.score((1, 1)), 0.05)
    with pytest.warns(UserWarning) as caught:
        warn_if_out_of_bound(
            search, search.score(best), {"a": 0.0, "b": 1.0}, 0.05, student=False
        )
    message = str(caught[0].message)
    assert "0.0800 at accuracy 0.9800, is used (a=0, b=1)" in message
    assert (
        "The bound costs 0.45 of accuracy: the most accurate plan within it "
        "scores 0.5000 against the plain plan's 0.9500" in message
    )
    assert "raise max_accuracy_loss" in message


def test_a_model_below_the_accuracy_floor_is_kept_only_with_a_warning():
    search = _collapse_search(0.05)
    with pytest.warns(
        UserWarning,
        match=r"No model found .* is within "
        r"max_accuracy_loss=0.05 of the plain plan's accuracy "
        r"\(0.9500, strength 0 for every group\)",
    ):
        warn_if_out_of_bound(
            search, search.score((0, 0)), {"a": -1.0, "b": -1.0}, 0.05, student=True
        )
    # within the floor and the bound: nothing to say
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_if_out_of_bound(
            search, search.score((1, 2)), {"a": 0.0, "b": 1.0}, 0.1, student=True
        )


# ------------------------------------------------------------ cross-fitting
def test_cross_fit_folds_hold_out_every_row_once_stratified_by_cell():
    groups, classes = _cells([[60, 20], [25, 45]])
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
    groups, classes = _cells([[30, 3], [30, 7]])
    cells = groups * 2 + classes
    # a cell smaller than the folds: stratified by class instead
    folds = cross_fit_folds(5, cells, classes, seed=0)
    for _, test in folds:
        assert np.bincount(classes[test]).tolist() == [12, 2]
    with pytest.raises(ValueError, match="cv=11 needs at least 11 rows of each"):
        cross_fit_folds(11, cells, classes, seed=0)
    with pytest.raises(ValueError, match="hold out every row exactly once"):
        cross_fit_folds(ShuffleSplit(3, random_state=0), cells, classes, seed=0)


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


# ------------------------------------------------------- confidence bounds
def _simulated_search(rng, n_rows, tpr, fpr, fold_noise=0.0, n_folds=5):
    """A one-plan search on held-out predictions drawn with known population
    rates per group (group 1's rates shifted by ``fold_noise`` per fold, as
    fold teachers that differ), and the population's accuracy and EOD."""
    groups = rng.integers(0, 2, n_rows)
    y = (rng.random(n_rows) < 0.4).astype(int)
    folds = rng.permutation(np.arange(n_rows) % n_folds)
    shift = rng.normal(0.0, fold_noise, n_folds)[folds] * groups
    rate = np.where(y == 1, np.take(tpr, groups), np.take(fpr, groups)) + shift
    y_pred = (rng.random(n_rows) < rate).astype(int)
    search = PlanSearch(
        y_pred[None, :],
        y,
        groups,
        np.ones(n_rows),
        n_groups=2,
        n_classes=2,
        metric="equalized_odds_difference",
        fold_codes=folds,
        confidence=0.9,
    )
    return search.score((0, 0))


def test_confidence_bounds_cover_the_population_at_their_level():
    """Each one-sided 0.9 bound holds in at least 0.9 of 400 seeded
    simulations, less 0.045 (three binomial standard errors of a 0.9 share
    over 400), and in at most 0.98: the standard error is the larger of the
    sampling noise and the folds' spread, two estimates of the same noise
    here, so the bounds are a little conservative when the folds agree."""
    rng = np.random.default_rng(0)
    tpr, fpr = np.array([0.70, 0.76]), np.array([0.20, 0.22])
    true_eod = 0.06  # the TPR gap; the FPR gap is 0.02
    true_accuracy = 0.4 * tpr.mean() + 0.6 * (1 - fpr.mean())
    scores = [_simulated_search(rng, 2000, tpr, fpr) for _ in range(400)]
    upper = np.mean([s.disparity_upper >= true_eod for s in scores])
    lower = np.mean([s.disparity_lower <= true_eod for s in scores])
    acc_upper = np.mean([s.accuracy_upper >= true_accuracy for s in scores])
    acc_lower = np.mean([s.accuracy_lower <= true_accuracy for s in scores])
    for share in (upper, lower, acc_upper, acc_lower):
        assert 0.9 - 0.045 <= share <= 0.98
    # the interval is about (1.28 + 1.95) standard errors of the TPR gap
    # wide: the lower bound holds for the four ordered differences at once
    # (0.9 ** (1 / 4) each)
    se = np.sqrt(2 * 0.73 * 0.27 / 400)  # 400 positives per group
    width = np.median([s.disparity_upper - s.disparity_lower for s in scores])
    assert width == pytest.approx((1.2816 + 1.9507) * se, rel=0.2)


def test_lower_bound_on_a_zero_disparity_holds_at_its_level():
    """Equal rates: the lower bound is above the disparity (0) when any of
    the four ordered differences is above its bound, so each is bounded at
    0.9 ** (1 / 4); at 0.9 each, it was above 0 in a third of the draws."""
    rng = np.random.default_rng(2)
    tpr, fpr = np.array([0.70, 0.70]), np.array([0.20, 0.20])
    scores = [_simulated_search(rng, 2000, tpr, fpr) for _ in range(400)]
    assert np.mean([s.disparity_lower <= 0 for s in scores]) >= 0.9 - 0.045
    assert np.mean([s.disparity_upper >= 0 for s in scores]) == 1


def test_folds_that_disagree_widen_the_bound():
    """Fold teachers that differ (a model-to-model spread of 0.1 in a
    group's rates) widen the upper bound beyond the rows' sampling noise."""
    tpr, fpr = np.array([0.70, 0.76]), np.array([0.20, 0.22])
    margins = {}
    for noise in (0.0, 0.1):
        rng = np.random.default_rng(1)
        scores = [_simulated_search(rng, 2000, tpr, fpr, noise) for _ in range(50)]
        margins[noise] = np.median([s.disparity_upper - s.disparity for s in scores])
    assert margins[0.1] > 1.3 * margins[0.0]


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


def test_recalibration_shifts_every_plan_by_what_the_student_showed():
    """A student that shows group 1's true-positive rate 0.1 above its
    plan's moves that rate by 0.1 in every plan, and the next search
    excludes the plans already tried."""
    rng = np.random.default_rng(0)
    n_doses, n_rows = 4, 4000
    y = rng.integers(0, 2, n_rows)
    groups = rng.integers(0, 2, n_rows)
    predictions = np.where(rng.random((n_doses, n_rows)) < 0.8, y, 1 - y)
    search = PlanSearch(
        predictions,
        y,
        groups,
        np.ones(n_rows),
        n_groups=2,
        n_classes=2,
        metric="equal_opportunity_difference",
    )
    first = search.run(2, max_disparity=0.05)
    before = {plan: search.score(plan).disparity for plan in search.scores}
    tpr = {plan: search.plan_rates(plan)[0, 1] for plan in before}
    student = search.plan_rates(first).copy()
    student[0, 1, 1] += 0.1
    search.recalibrate(first, student)
    second = search.run(2, max_disparity=0.05, exclude={first})
    assert second != first
    for plan in before:
        shifted = tpr[plan] + np.array([0.0, 0.1])
        assert search.score(plan).disparity == pytest.approx(np.ptp(shifted))
    # the table still shows the teachers' own scores
    table = search.table(DOSE_GRID[:n_doses], pd.Index([0, 1]), second)
    np.testing.assert_allclose(
        table["equal_opportunity_difference"], list(before.values())
    )
    # a model's scores: its own rates, bounds from the rows' sampling noise
    score, rates = search.score_model(predictions[0])
    np.testing.assert_allclose(rates, search.plan_rates((0, 0)))
    assert score.accuracy == pytest.approx(np.mean(predictions[0] == y))


def test_cv_folds_that_would_train_a_useless_teacher_are_errors(fast_params):
    """Folds whose fit rows lack a class or a group, group splitters, used-up
    generators and out-of-range indices are errors naming the fix, raised
    before any training, and the estimator stays unfitted."""
    groups, classes = _cells([[60, 20], [25, 45]])
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
    assert len(search) <= len(DOSE_GRID) + 2 * 121
    assert len(clf.trigger_strength_) == 121
    messages = [str(w.message) for w in caught]
    assert max(len(m) for m in messages) < 600
    assert any(
        m.startswith("Groups [100, 101, 102, 103, 104] and 16 more have a total")
        for m in messages
    )
    assert any("and 116 more groups: see trigger_strength_" in m for m in messages)


def test_spread_bounds_of_many_groups_pair_the_extreme_ones():
    """Beyond PAIRED_GROUPS groups only the extreme groups are paired: on
    random rates of 40 groups the bounds stay within 0.005 of those over
    every pair."""
    from sklearn_dwb import _disparity

    rng = np.random.default_rng(0)
    for _ in range(50):
        rates = rng.uniform(0.2, 0.8, (1, 3, 40))
        variances = rng.uniform(1e-5, 4e-3, (1, 3, 40))
        folds = rates[None] + rng.normal(0, 0.03, (5, 1, 3, 40))
        paired = _disparity.spread_bounds(rates, variances, folds, 1.28)
        every = _disparity.PAIRED_GROUPS
        try:
            _disparity.PAIRED_GROUPS = 1000
            full = _disparity.spread_bounds(rates, variances, folds, 1.28)
        finally:
            _disparity.PAIRED_GROUPS = every
        for got, expected in zip(paired, full, strict=True):
            np.testing.assert_allclose(got, expected, atol=0.005)


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


class _FixedStudent:
    """A fitted stand-in with fixed class probabilities."""

    classes_ = np.array([0, 1])

    def __init__(self, positive):
        self.positive = np.asarray(positive, dtype=float)

    def predict_proba(self, X):
        return np.column_stack([1 - self.positive, self.positive])


def _blend_search(students, y, groups):
    """A search on fixed rows and the students scored by it (plan -> entry)."""
    search = PlanSearch(
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
        score, _ = search.score_model(student.predict_proba(None).argmax(1))
        tried[plan] = (None, student, score)
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
    assert [t[2].disparity for t in tried.values()] == pytest.approx([0.1, 0.1])
    data = types.SimpleNamespace(X=np.zeros((400, 1)), classes=np.array([0, 1]))
    clf = BackdoorDebiasClassifier(max_disparity=0.02)
    pair, weight, score = clf._best_blend(None, data, search, tried)
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
    clf.set_params(max_disparity=0.2)
    assert clf._best_blend(None, data, search, tried) is None


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
    assert len(clf.plan_search_) == len(DOSE_GRID) ** 2
