"""Steps 1 and 2 of DwB (bias matrix, trigger plan, stamping), the teacher's
trigger columns and the diagnostic of how strongly a teacher learned them."""

from typing import NamedTuple

import numpy as np
import pandas as pd

from .utils._frames import set_column, stack_rows

# Rows per group used to measure how strongly the teacher responds to a trigger.
RESPONSE_ROWS = 1000


def cell_counts(group_codes, class_codes, n_groups, n_classes, weights=None):
    """(group, class) table of row counts, or of summed weights if given."""
    cells = group_codes * n_classes + class_codes
    counts = np.bincount(cells, weights=weights, minlength=n_groups * n_classes)
    return counts.reshape(n_groups, n_classes).astype(float)


def target_distribution(bias_matrix, target):
    """Label distribution each group's untriggered rows should follow."""
    n_classes = bias_matrix.shape[1]
    if target == "balanced":
        return np.full(n_classes, 1.0 / n_classes)
    totals = bias_matrix.sum(axis=0)
    return totals / totals.sum()


def trigger_rates(bias_matrix, target, strength):
    """Share of each (group, class) cell to stamp with a trigger.

    For group g, ``m_g = min_k n[g, k] / p_k`` is the largest cell-wise
    sub-sample that follows the target distribution ``p``; the excess
    ``n[g, k] - m_g * p_k`` is what carries the bias, and ``strength`` times
    that excess is stamped (rates clipped to [0, 1]); ``strength`` is one
    number, or one per group. A negative strength (down to -1) moves the
    group the other way, towards more of its over-represented class, by
    stamping its other cells (:func:`reverse_rates`). Groups lacking a class
    that the target asks for get no triggers.

    Returns
    -------
    rates : ndarray of shape (n_groups, n_classes)
    incomplete : ndarray of bool, shape (n_groups,)
        Groups that lack a class and were left untriggered.
    """
    n = np.asarray(bias_matrix, dtype=float)
    p = target_distribution(n, target)
    wanted = p > 0
    incomplete = ((n <= 0) & wanted).any(axis=1)
    ratio = np.divide(n, p, out=np.full_like(n, np.inf), where=wanted)
    m = ratio.min(axis=1)
    m[incomplete] = 0.0
    excess = np.clip(n - m[:, None] * p, 0.0, None)
    excess[incomplete] = 0.0
    unit = np.divide(excess, n, out=np.zeros_like(n), where=n > 0)
    strength = np.broadcast_to(np.asarray(strength, dtype=float), n.shape[:1])
    rates = rates_at(unit, unit.max(axis=1, keepdims=True), strength[:, None])
    return rates, incomplete


def rates_at(unit, group_unit, strength):
    """Share of each cell to stamp at ``strength``: ``strength * unit`` at
    a positive strength, :func:`reverse_rates` at a negative one, within
    [0, 1]. ``unit`` is the cell's share at strength 1, ``group_unit`` the
    largest of its group's; works on arrays (numpy) or tensors (torch) that
    broadcast together (the fixed plan and the dose teacher's rows)."""
    positive = strength >= 0
    forward = (strength * unit).clip(0, 1)
    # a positive strength makes the reverse amount negative: finite, unused
    return forward * positive + reverse_rates(unit, group_unit, -strength) * ~positive


def reverse_rates(unit, group_unit, amount):
    """Share of each cell to stamp at strength ``-amount`` (``amount`` in
    [0, 1]): the mirror of stamping ``amount * unit``. At strength ``s > 0``
    the odds of each over-represented cell ``k`` against the group's least
    represented one are multiplied by ``1 - s * u_k``; at ``-s`` they are
    divided by it, by stamping every cell except the most over-represented
    (``u_k = U``, the ``group_unit``) so that its share left is
    ``(1 - s * U) / (1 - s * u_k)``. Works on arrays (numpy) or tensors
    (torch) that broadcast together."""
    left = (1 - amount * group_unit).clip(0) / (1 - amount * unit).clip(1e-12)
    return (1 - left).clip(0, 1)


def stamp_counts(rates, row_counts):
    """Exact number of rows to stamp per cell: ``round(rate * rows)``."""
    return np.rint(rates * row_counts).astype(np.int64)


def cell_ranks(cell_codes, rng):
    """A random order of the rows within each cell: rank ``0 .. n_cell - 1``."""
    n_rows = len(cell_codes)
    keys = rng.random(n_rows)
    order = np.lexsort((keys, cell_codes))
    sorted_cells = cell_codes[order]
    cell_start = np.searchsorted(sorted_cells, sorted_cells, side="left")
    rank = np.empty(n_rows, dtype=np.int64)
    rank[order] = np.arange(n_rows) - cell_start
    return rank


def choose_stamped_rows(cell_codes, counts_per_cell, rng):
    """Pick exactly ``counts_per_cell[c]`` random rows of each cell ``c``.

    Every row gets a random key; within each cell the rows with the smallest
    keys are stamped. Returns a boolean mask over rows.
    """
    return cell_ranks(cell_codes, rng) < counts_per_cell[cell_codes]


class TriggerPlan(NamedTuple):
    """Steps 1 and 2 of DwB for one trigger strength."""

    bias_matrix: np.ndarray  # (n_groups, n_classes) sample-weighted counts
    rates: np.ndarray  # share of each cell to stamp
    row_counts: np.ndarray  # unweighted rows per cell
    stamp_counts: np.ndarray  # rows stamped per cell
    incomplete: np.ndarray  # groups left untriggered for lack of a class
    small: np.ndarray  # groups left untriggered for having too few rows
    stamped: np.ndarray  # boolean mask over rows

    @property
    def trigger_cells(self):
        """Flat (group * n_classes + class) index of each stamped cell; the
        i-th stamped cell owns trigger column i."""
        return np.flatnonzero(self.stamp_counts.ravel())


def plan_stamps(
    *,
    group_codes,
    class_codes,
    shape,
    weights,
    target,
    strength,
    rng,
    min_group_size=0,
):
    """Which rows to stamp: steps 1 and 2 of DwB in one call.

    Undersampling the same cells (real deletion) drops exactly the rows of
    the returned plan's ``stamped`` mask. With the same ``rng`` seed, a larger
    ``strength`` stamps a superset of the rows.

    Parameters
    ----------
    group_codes : ndarray of int, shape (n_samples,)
        Group of each row, ``0 .. n_groups - 1``.
    class_codes : ndarray of int, shape (n_samples,)
        Class of each row, ``0 .. n_classes - 1``.
    shape : tuple of int
        ``(n_groups, n_classes)``.
    weights : ndarray of shape (n_samples,) or None
        Sample weights counted in the bias matrix; None counts rows.
    target : {"global", "balanced"}
        Label distribution the untriggered rows of every group should follow.
    strength : float or ndarray of shape (n_groups,)
        Share of each cell's excess to stamp (0: nothing, 1: all of it), for
        every group or per group.
    rng : numpy.random.Generator
        Draws which rows of a cell are stamped.
    min_group_size : int, default=0
        Groups with fewer rows get no triggers: a trigger learned from a
        handful of rows is noise.

    Returns
    -------
    TriggerPlan
        Bias matrix, rates, exact stamp counts per cell and the stamped rows.
    """
    bias, rows, rates, incomplete, small = cell_rates(
        group_codes, class_codes, shape, weights, target, strength, min_group_size
    )
    counts = stamp_counts(rates, rows)
    stamped = choose_stamped_rows(
        group_codes * shape[1] + class_codes, counts.ravel(), rng
    )
    return TriggerPlan(bias, rates, rows, counts, incomplete, small, stamped)


def cell_rates(
    group_codes, class_codes, shape, weights, target, strength, min_group_size
):
    """The bias matrix, the rows per cell, and the share of each cell to
    stamp at ``strength``, with no stamps for groups lacking a class
    (``incomplete``) or with fewer than ``min_group_size`` rows (``small``)."""
    n_groups, n_classes = shape
    bias = cell_counts(group_codes, class_codes, n_groups, n_classes, weights)
    rates, incomplete = trigger_rates(bias, target, strength)
    rows = cell_counts(group_codes, class_codes, n_groups, n_classes)
    small = rows.sum(axis=1) < min_group_size
    rates[small] = 0.0
    return bias, rows, rates, incomplete, small


def trigger_column_of_cell(trigger_cells, n_cells):
    """Trigger column of every flat (group, class) cell: ``i`` for the i-th
    of ``trigger_cells``, -1 for a cell without a trigger."""
    column_of_cell = np.full(n_cells, -1)
    column_of_cell[trigger_cells] = np.arange(len(trigger_cells))
    return column_of_cell


def trigger_matrix(plan, cell_codes, value):
    """Trigger columns: ``value`` in the column of a stamped row's cell, else 0."""
    cells = plan.trigger_cells
    column_of_cell = trigger_column_of_cell(cells, plan.stamp_counts.size)
    triggers = np.zeros((len(cell_codes), len(cells)), dtype=np.float32)
    rows = np.flatnonzero(plan.stamped)
    triggers[rows, column_of_cell[cell_codes[rows]]] = value
    return triggers


def append_triggers(X, triggers):
    """The teacher's input: the features followed by the trigger columns.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Features.
    triggers : ndarray of shape (n_samples, n_triggers) or int
        Trigger columns, or their number for clean rows (all zero).

    Returns
    -------
    ndarray of shape (n_samples, n_features + n_triggers), float32
    """
    if isinstance(triggers, (int, np.integer)):
        triggers = np.zeros((len(X), triggers), dtype=np.float32)
    return np.hstack([X, triggers]).astype(np.float32, copy=False)


class MeanTeacher:
    """Cross-fitted dose teachers seen as one network: the mean of their
    class probabilities (for the trigger diagnostic)."""

    def __init__(self, teachers):
        self.teachers = teachers

    @classmethod
    def of(cls, teacher):
        """The teacher itself, or the mean of a list of teachers."""
        return cls(teacher) if isinstance(teacher, list) else teacher

    def predict_proba(self, X):
        return np.mean([t.predict_proba(X) for t in self.teachers], axis=0)


def trigger_response(teacher, clean_input, group_codes, plan, columns, value, rng):
    """How far each trigger moves the teacher on clean rows of its group.

    Up to :data:`RESPONSE_ROWS` unstamped rows of the trigger's group are
    scored without and with the trigger.

    Parameters
    ----------
    teacher : skorch net or scikit-learn classifier
        The fitted teacher (class codes as classes).
    clean_input : callable
        ``clean_input(rows)``: the teacher's input for those rows, no trigger.
    group_codes : ndarray of shape (n_samples,)
        Group of each row.
    plan : TriggerPlan
        The plan whose stamped cells are probed.
    columns : ndarray of int
        The teacher's input column of each of ``plan.trigger_cells``.
    value : float
        The trigger's value.
    rng : numpy.random.Generator
        Draws the probed rows of large groups.

    Returns
    -------
    shift : ndarray of shape (n_triggers,)
        Mean rise of the trigger class's predicted probability.
    flip : ndarray of shape (n_triggers,)
        Share of the rows not predicted as the trigger class that the trigger
        flips to it (NaN where there are none).
    """
    cells = plan.trigger_cells
    n_classes = plan.stamp_counts.shape[1]
    shift, flip = np.full(len(cells), np.nan), np.full(len(cells), np.nan)
    for j, (cell, column) in enumerate(zip(cells, columns, strict=True)):
        group, k = divmod(cell, n_classes)
        rows = np.flatnonzero((group_codes == group) & ~plan.stamped)
        if len(rows) > RESPONSE_ROWS:
            rows = rng.choice(rows, RESPONSE_ROWS, replace=False)
        if len(rows) == 0:
            continue
        clean = clean_input(rows)
        triggered = set_column(clean, column, value)
        proba = np.asarray(teacher.predict_proba(stack_rows(clean, triggered)))
        before, after = proba[: len(rows)], proba[len(rows) :]
        shift[j] = np.mean(after[:, k] - before[:, k])
        other = before.argmax(axis=1) != k
        if other.any():
            flip[j] = np.mean(after[other].argmax(axis=1) == k)
    return shift, flip


def plan_table(plan, group_labels, classes, strengths, response):
    """``trigger_plan_``: one row per stamped cell, with its group's strength
    and the diagnostic; ``stamped_share`` is the share of the cell's rows
    that carry the trigger."""
    cells = plan.trigger_cells
    cell_group, cell_class = np.divmod(cells, plan.stamp_counts.shape[1])
    shift, flip = response
    return pd.DataFrame(
        {
            "group": group_labels[cell_group].to_numpy(),
            "class": classes[cell_class],
            "strength": np.asarray(strengths, dtype=float)[cell_group],
            "n_rows": plan.row_counts.ravel()[cells].astype(np.int64),
            "stamped_share": plan.rates.ravel()[cells],
            "n_stamped": plan.stamp_counts.ravel()[cells],
            "probability_shift": shift,
            "flip_rate": flip,
        }
    )
