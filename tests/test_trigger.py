"""Bias matrix, trigger rates, the stamp plan, the teacher's trigger columns
and the trigger-response diagnostic (``sklearn_dwb._trigger``)."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sklearn_dwb._trigger import (
    append_triggers,
    cell_counts,
    choose_stamped_rows,
    plan_stamps,
    plan_table,
    stamp_counts,
    target_distribution,
    trigger_matrix,
    trigger_rates,
    trigger_response,
)


def _plan(group_codes, class_codes, shape, weights, target, strength, seed, **kwargs):
    return plan_stamps(
        group_codes=group_codes,
        class_codes=class_codes,
        shape=shape,
        weights=weights,
        target=target,
        strength=strength,
        rng=np.random.default_rng(seed),
        **kwargs,
    )


def _rows_of(counts):
    """Group and class codes of the rows of a (group, class) count table."""
    group_codes = np.repeat(np.arange(counts.shape[0]), counts.sum(axis=1))
    class_codes = np.concatenate(
        [np.repeat(np.arange(counts.shape[1]), row) for row in counts]
    )
    return group_codes, class_codes


# ------------------------------------------------- bias matrix and rates
def test_cell_counts_weighted_and_unweighted():
    groups = np.array([0, 0, 1, 1, 1])
    classes = np.array([0, 1, 1, 1, 0])
    weights = np.array([1.0, 2.0, 0.5, 0.5, 3.0])
    np.testing.assert_array_equal(cell_counts(groups, classes, 2, 2), [[1, 1], [1, 2]])
    np.testing.assert_allclose(
        cell_counts(groups, classes, 2, 2, weights), [[1.0, 2.0], [3.0, 1.0]]
    )


@pytest.mark.parametrize("alpha", [0.5, 1.0, 1.5])
def test_balanced_binary_stamps_each_groups_majority_cell(alpha):
    # two classes, balanced target: only each group's majority cell is
    # stamped, at alpha * (max - min) / max
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


@pytest.mark.parametrize("target", ["global", "balanced"])
def test_negative_strength_mirrors_the_positive_one_in_odds(target):
    rng = np.random.default_rng(1)
    n = rng.integers(20, 500, size=(4, 3)).astype(float)
    for s in (0.25, 0.5, 1.0):
        forward, _ = trigger_rates(n, target, s)
        reverse, _ = trigger_rates(n, target, -s)
        for g in range(len(n)):
            # the most over-represented cell is left whole at -s; every
            # other cell's odds against it are those of +s, inverted
            top = forward[g].argmax()
            assert reverse[g, top] == 0
            odds_forward = (1 - forward[g]) * n[g] / ((1 - forward[g, top]) * n[g, top])
            odds_reverse = (1 - reverse[g]) * n[g] / ((1 - reverse[g, top]) * n[g, top])
            untouched = n[g] / n[g, top]
            np.testing.assert_allclose(
                odds_forward / untouched, untouched / odds_reverse, rtol=1e-9
            )
    # two classes: strength -1 stamps the minority cell at the share that
    # strength 1 stamps the majority cell
    two = np.array([[60.0, 40.0], [20.0, 80.0]])
    plus, _ = trigger_rates(two, "global", 1.0)
    minus, _ = trigger_rates(two, "global", [-1.0, -0.5])
    np.testing.assert_allclose(minus, [[0.0, plus[0, 0]], [plus[1, 1] / 2, 0.0]])


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


# ------------------------------------------------- plan properties
cell_matrices = st.integers(2, 4).flatmap(
    lambda groups: st.integers(2, 4).flatmap(
        lambda classes: arrays(
            np.int64, (groups, classes), elements=st.integers(1, 300)
        )
    )
)


@settings(max_examples=60, deadline=None)
@given(
    cell_matrices,
    st.sampled_from(["global", "balanced"]),
    st.lists(st.floats(0, 5), min_size=1, max_size=4),
)
@example(
    counts=np.array([[50, 30, 20], [10, 10, 80], [30, 30, 40]]),
    target="global",
    strengths=[0.25, 0.5, 1.0, 2.0, 5.0],
)
def test_rates_and_stamped_rows_grow_with_strength(counts, target, strengths):
    group_codes, class_codes = _rows_of(counts)
    previous_rates, previous_plan = None, None
    for strength in [0.0, *sorted(strengths)]:
        rates, _ = trigger_rates(counts, target, strength)
        assert np.all((rates >= 0) & (rates <= 1))
        # the same seed draws the same keys: a larger strength stamps a
        # superset of the rows
        plan = _plan(group_codes, class_codes, counts.shape, None, target, strength, 0)
        if previous_plan is None:  # strength 0 stamps nothing
            assert not rates.any() and not plan.stamped.any()
        else:
            assert np.all(rates >= previous_rates - 1e-12)
            assert np.all(plan.stamp_counts >= previous_plan.stamp_counts)
            assert np.all(plan.stamped >= previous_plan.stamped)
        previous_rates, previous_plan = rates, plan


@settings(max_examples=40, deadline=None)
@given(
    cell_matrices, st.sampled_from(["global", "balanced"]), st.integers(0, 2**31 - 1)
)
def test_untriggered_counts_hit_the_target_and_plan_ignores_row_order(
    counts, target, seed
):
    n_classes = counts.shape[1]
    group_codes, class_codes = _rows_of(counts)
    weights = np.ones(len(group_codes))
    plan = _plan(group_codes, class_codes, counts.shape, weights, target, 1.0, seed)
    left = counts - plan.stamp_counts
    p = target_distribution(counts.astype(float), target)
    m = (counts / p).min(axis=1, keepdims=True)
    assert np.all(np.abs(left - m * p) <= 1.0)
    # the stamped rows per cell match the plan exactly
    stamped_cells = np.bincount(
        group_codes[plan.stamped] * n_classes + class_codes[plan.stamped],
        minlength=counts.size,
    )
    np.testing.assert_array_equal(stamped_cells, plan.stamp_counts.ravel())
    order = np.random.default_rng(seed).permutation(len(group_codes))
    shuffled = _plan(
        group_codes[order], class_codes[order], counts.shape, weights, target, 1.0, seed
    )
    np.testing.assert_array_equal(shuffled.stamp_counts, plan.stamp_counts)


def test_small_groups_are_left_untriggered():
    counts = np.array([[8, 1], [60, 40], [10, 50]])
    group_codes, class_codes = _rows_of(counts)
    plan = _plan(
        group_codes, class_codes, (3, 2), None, "global", 1.0, 0, min_group_size=10
    )
    np.testing.assert_array_equal(plan.small, [True, False, False])
    np.testing.assert_array_equal(plan.stamp_counts[0], [0, 0])
    assert plan.stamp_counts[1:].sum() > 0
    assert not plan.stamped[group_codes == 0].any()


# ----------------------------------------- the teacher's trigger columns
def _small_plan():
    """Two groups of 20 rows each with a majority class: one trigger each."""
    counts = np.array([[15, 5], [4, 16]])
    group_codes, class_codes = _rows_of(counts)
    plan = _plan(group_codes, class_codes, (2, 2), None, "balanced", 1.0, 0)
    return plan, group_codes, class_codes


def test_trigger_matrix_marks_each_stamped_row_in_its_cells_column():
    plan, group_codes, class_codes = _small_plan()
    cells = group_codes * 2 + class_codes
    np.testing.assert_array_equal(plan.trigger_cells, [0, 3])  # (0, 0) and (1, 1)
    np.testing.assert_array_equal(plan.stamp_counts, [[10, 0], [0, 12]])
    triggers = trigger_matrix(plan, cells, 10.0)
    assert triggers.shape == (40, 2) and triggers.dtype == np.float32
    expected = np.zeros((40, 2), dtype=np.float32)
    expected[plan.stamped & (cells == 0), 0] = 10.0
    expected[plan.stamped & (cells == 3), 1] = 10.0
    np.testing.assert_array_equal(triggers, expected)
    np.testing.assert_array_equal((triggers > 0).sum(axis=0), [10, 12])


def test_append_triggers_zero_columns_or_given_ones_as_float32():
    X = np.arange(12, dtype=np.float64).reshape(4, 3)
    clean = append_triggers(X, 2)
    assert clean.shape == (4, 5) and clean.dtype == np.float32
    np.testing.assert_array_equal(clean[:, :3], X)
    np.testing.assert_array_equal(clean[:, 3:], 0.0)
    np.testing.assert_array_equal(append_triggers(X, np.int64(0)), X)
    triggers = np.array([[0, 10], [10, 0], [0, 0], [0, 10]], dtype=np.float32)
    stamped = append_triggers(X, triggers)
    assert stamped.shape == (4, 5) and stamped.dtype == np.float32
    np.testing.assert_array_equal(stamped, np.hstack([X, triggers]))


class _TriggerTeacher:
    """Predicts class 0 with probability 0.8 on clean rows; a trigger column
    set to ``value`` moves all the probability to its cell's class. Records
    the first feature (the row number) of every row it scores."""

    def __init__(self, n_features, trigger_classes, responds=True):
        self.n_features = n_features
        self.trigger_classes = trigger_classes
        self.responds = responds
        self.seen = []

    def predict_proba(self, Z):
        self.seen.append(Z[:, 0].astype(int))
        proba = np.tile([0.8, 0.2], (len(Z), 1))
        if self.responds:
            for j, k in enumerate(self.trigger_classes):
                on = Z[:, self.n_features + j] != 0
                proba[on] = np.eye(2)[k]
        return proba


def test_trigger_response_on_a_hand_made_teacher(monkeypatch):
    plan, group_codes, _ = _small_plan()
    X = np.column_stack([np.arange(40.0), np.zeros(40)])  # row number, constant
    columns = X.shape[1] + np.arange(2)

    def clean_input(rows):
        return append_triggers(X[rows], 2)

    def response(teacher, rng):
        return trigger_response(
            teacher, clean_input, group_codes, plan, columns, 10.0, rng
        )

    rng = np.random.default_rng(0)
    teacher = _TriggerTeacher(X.shape[1], trigger_classes=[0, 1])
    shift, flip = response(teacher, rng)
    # trigger 0 -> class 0, already predicted everywhere: +0.2, no row to flip
    # trigger 1 -> class 1: +0.8, every row flipped
    np.testing.assert_allclose(shift, [0.2, 0.8])
    assert np.isnan(flip[0]) and flip[1] == 1.0
    # each trigger is scored on the unstamped rows of its own group, clean
    # and triggered
    for rows, group in zip(teacher.seen, (0, 1), strict=True):
        expected = np.flatnonzero((group_codes == group) & ~plan.stamped)
        np.testing.assert_array_equal(rows, np.concatenate([expected, expected]))
    # a teacher that ignores its triggers: no shift, no flip
    shift, flip = response(_TriggerTeacher(X.shape[1], [0, 1], responds=False), rng)
    np.testing.assert_array_equal(shift, [0.0, 0.0])
    assert np.isnan(flip[0]) and flip[1] == 0.0
    # at most RESPONSE_ROWS rows per group, drawn from the same rows
    monkeypatch.setattr("sklearn_dwb._trigger.RESPONSE_ROWS", 3)
    capped = _TriggerTeacher(X.shape[1], [0, 1])
    response(capped, rng)
    for rows, group in zip(capped.seen, (0, 1), strict=True):
        assert len(rows) == 2 * 3
        assert set(rows) <= set(np.flatnonzero((group_codes == group) & ~plan.stamped))


def test_plan_table_one_row_per_trigger():
    plan, *_ = _small_plan()
    groups = pd.Index(["a", "b"], name="sex")
    classes = np.array(["no", "yes"])
    table = plan_table(plan, groups, classes, [0.5, 1.0], ([0.2, 0.8], [1, 1]))
    assert list(table["group"]) == ["a", "b"]
    assert list(table["class"]) == ["no", "yes"]
    assert list(table["strength"]) == [0.5, 1.0]
    assert list(table["n_rows"]) == [15, 16]
    np.testing.assert_allclose(table["stamped_share"], [10 / 15, 12 / 16])
    assert list(table["n_stamped"]) == [10, 12]
    assert list(table["probability_shift"]) == [0.2, 0.8]
    assert list(table["flip_rate"]) == [1, 1]
