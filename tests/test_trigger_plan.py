"""Bias matrix and trigger plan: DESIGN step 1 and 2, checked by hand."""

import numpy as np
import pytest

from sklearn_dwb._trigger import (
    cell_counts,
    choose_stamped_rows,
    stamp_counts,
    target_distribution,
    trigger_rates,
)


def test_cell_counts_weighted_and_unweighted():
    groups = np.array([0, 0, 1, 1, 1])
    classes = np.array([0, 1, 1, 1, 0])
    weights = np.array([1.0, 2.0, 0.5, 0.5, 3.0])
    np.testing.assert_array_equal(
        cell_counts(groups, classes, 2, 2), [[1, 1], [1, 2]]
    )
    np.testing.assert_allclose(
        cell_counts(groups, classes, 2, 2, weights), [[1.0, 2.0], [3.0, 1.0]]
    )


@pytest.mark.parametrize("alpha", [0.5, 1.0, 1.5])
def test_balanced_binary_is_the_authors_rule(alpha):
    # Authors' rule: only each group's majority cell is stamped, at
    # alpha * (max - min) / max.
    n = np.array([[800.0, 200.0], [300.0, 700.0]])
    rates, incomplete = trigger_rates(n, "balanced", alpha)
    expected = np.zeros_like(n)
    expected[0, 0] = min(1.0, alpha * (800 - 200) / 800)
    expected[1, 1] = min(1.0, alpha * (700 - 300) / 700)
    np.testing.assert_allclose(rates, expected)
    assert not incomplete.any()


def test_global_target_by_hand():
    n = np.array([[60.0, 40.0], [20.0, 80.0]])
    # p = column totals / total = (0.4, 0.6)
    np.testing.assert_allclose(target_distribution(n, "global"), [0.4, 0.6])
    rates, _ = trigger_rates(n, "global", 1.0)
    # group 0: m = min(60/.4, 40/.6) = 66.67 -> t = (26.67, 40) -> e = (33.33, 0)
    # group 1: m = min(20/.4, 80/.6) = 50 -> t = (20, 30) -> e = (0, 50)
    np.testing.assert_allclose(rates, [[(60 - 80 / 3) / 60, 0.0], [0.0, 50 / 80]])


def test_untriggered_rows_follow_the_target_at_strength_one():
    rng = np.random.default_rng(0)
    n = rng.integers(20, 500, size=(4, 3)).astype(float)
    for target in ("global", "balanced"):
        rates, _ = trigger_rates(n, target, 1.0)
        left = n - stamp_counts(rates, n)
        p = target_distribution(n, target)
        # every group's untriggered counts are proportional to p (to a row)
        scale = left.sum(axis=1, keepdims=True)
        assert np.all(np.abs(left - scale * p) <= 1.0 + 1e-9)


def test_three_classes_rates_in_unit_interval_and_monotone():
    n = np.array([[50.0, 30.0, 20.0], [10.0, 10.0, 80.0], [30.0, 30.0, 40.0]])
    previous = np.zeros_like(n)
    for alpha in (0.0, 0.25, 0.5, 1.0, 2.0, 5.0):
        rates, _ = trigger_rates(n, "global", alpha)
        assert rates.min() >= 0 and rates.max() <= 1
        assert np.all(rates >= previous - 1e-12)
        previous = rates
    # alpha = 0 stamps nothing
    assert not trigger_rates(n, "global", 0.0)[0].any()


def test_group_missing_a_class_gets_no_triggers():
    n = np.array([[50.0, 0.0], [20.0, 80.0]])
    rates, incomplete = trigger_rates(n, "global", 1.0)
    np.testing.assert_array_equal(incomplete, [True, False])
    np.testing.assert_array_equal(rates[0], [0.0, 0.0])
    assert rates[1, 1] > 0


def test_stamp_counts_round():
    rates = np.array([[0.25, 0.0], [0.5, 1.0]])
    rows = np.array([[10, 7], [3, 5]])
    # round(2.5) = 2 (banker's rounding of numpy), round(1.5) = 2
    np.testing.assert_array_equal(stamp_counts(rates, rows), [[2, 0], [2, 5]])


def test_choose_stamped_rows_exact_counts_and_seeded():
    rng = np.random.default_rng(1)
    cells = rng.integers(0, 6, size=1000)
    counts = np.array([0, 5, 17, 100, 3, 999])
    mask = choose_stamped_rows(cells, counts, np.random.default_rng(7))
    per_cell = np.bincount(cells[mask], minlength=6)
    np.testing.assert_array_equal(per_cell, np.minimum(counts, np.bincount(cells)))
    again = choose_stamped_rows(cells, counts, np.random.default_rng(7))
    np.testing.assert_array_equal(mask, again)
    other = choose_stamped_rows(cells, counts, np.random.default_rng(8))
    assert (mask != other).any()
