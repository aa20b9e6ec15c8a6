"""Scores of every plan, with bounds and the accuracy floor (``_plan_scores.py``)."""

import warnings

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import equalized_odds_difference

from sklearn_dwb._bound_search import search_plans
from sklearn_dwb._bound_warnings import warn_if_out_of_bound
from sklearn_dwb._disparity import (
    DISPARITY_METRICS,
    disparity_from_rates,
    group_rates,
    one_vs_rest_disparity,
)
from sklearn_dwb._plan_scores import PlanScores, ScoringRows, model_score
from sklearn_dwb._tables import plan_search_table


def _plan_scores(predictions, y, groups, weight, *, n_groups, n_classes, **kwargs):
    """Plan scores of hand-made predictions of rows ``y`` in ``groups``."""
    rows = ScoringRows(y, groups, weight, n_groups, n_classes)
    return PlanScores(predictions, rows, **kwargs)


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


def test_plan_search_scores_every_plan_or_one_group_at_a_time():
    rng = np.random.default_rng(0)
    n_doses, n_rows = 5, 600
    y = rng.integers(0, 2, n_rows)
    predictions = np.where(rng.random((n_doses, n_rows)) < 0.8, y, 1 - y)
    for n_groups, expected_plans in [(2, n_doses**2), (6, None)]:
        groups = rng.integers(0, n_groups, n_rows)
        search = _plan_scores(
            predictions,
            y,
            groups,
            np.ones(n_rows),
            n_groups=n_groups,
            n_classes=2,
            metric="equalized_odds_difference",
        )
        best = search_plans(search, 0.1)
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
    return _plan_scores(
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
    best = search_plans(search, 0.05)
    assert best == (0, 0)
    assert search.score(best)[:2] == pytest.approx((0.5, 0.0))
    assert search.plain_plan == (1, 1)
    assert search.score(search.plain_plan)[:2] == pytest.approx((0.95, 0.2))


def test_accuracy_floor_keeps_the_least_disparate_plan_within_the_loss():
    search = _collapse_search(0.05)
    assert search.accuracy_floor == pytest.approx(0.90)
    # the constant plan is out; no plan within the loss meets the bound, so
    # the least disparate within it is kept (ties: strengths nearest 0)
    best = search_plans(search, 0.05)
    assert best == (1, 2)
    assert search.score(best)[:2] == pytest.approx((0.98, 0.08))
    assert not search.meets(search.score((0, 0)), 0.05)
    assert not search.meets(search.score(best), 0.05)
    assert search.meets(search.score(best), 0.1)
    # a model below the floor ranks below every model within it
    low = search.sort_key(search.score((0, 0)), 0.05)
    assert low < search.sort_key(search.score((1, 1)), 0.05)
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
    search = _plan_scores(
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


def test_a_shift_moves_every_plan_by_what_the_student_showed():
    """A student that shows group 1's true-positive rate 0.1 above its
    plan's moves that rate by 0.1 in every plan, and the next search
    excludes the plans already tried."""
    rng = np.random.default_rng(0)
    n_doses, n_rows = 4, 4000
    y = rng.integers(0, 2, n_rows)
    groups = rng.integers(0, 2, n_rows)
    predictions = np.where(rng.random((n_doses, n_rows)) < 0.8, y, 1 - y)
    search = _plan_scores(
        predictions,
        y,
        groups,
        np.ones(n_rows),
        n_groups=2,
        n_classes=2,
        metric="equal_opportunity_difference",
    )
    first = search_plans(search, 0.05)
    before = {plan: search.score(plan).disparity for plan in search.scores}
    tpr = {plan: search.plan_rates(plan)[0, 1] for plan in before}
    student = search.plan_rates(first).copy()
    student[0, 1, 1] += 0.1
    search.shift_rates(first, student)
    second = search_plans(search, 0.05, exclude={first})
    assert second != first
    for plan in before:
        shifted = tpr[plan] + np.array([0.0, 0.1])
        assert search.score(plan).disparity == pytest.approx(np.ptp(shifted))
    # the table still shows the teachers' own scores
    table = plan_search_table(search, pd.Index([0, 1]), second)
    np.testing.assert_allclose(
        table["equal_opportunity_difference"], list(before.values())
    )
    # a model's scores: its own rates, bounds from the rows' sampling noise
    score, rates = model_score(
        predictions[0], search.rows, search.metric, search.confidence
    )
    np.testing.assert_allclose(rates, search.plan_rates((0, 0)))
    assert score.accuracy == pytest.approx(np.mean(predictions[0] == y))


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
