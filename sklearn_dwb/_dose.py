"""The trigger plan as a dial: dose-trained teachers, plans searched per group.

A fixed plan stamps ``strength`` times each over-represented cell's excess.
The dose-trained teacher sees every strength: each epoch, every training row
draws a dose ``d`` in ``[DOSE_LOW, DOSE_HIGH]`` (-1 to 2), given to the
teacher as an input column of the row's group, and the row carries its cell's
trigger when its place in the cell (a fixed random rank in (0, 1)) is below
the cell's rate at strength ``d`` (a negative strength stamps the other cells
of the group: :func:`~sklearn_dwb._trigger.reverse_rates`). Evaluated on
clean rows with dose ``d_g`` for group ``g``, the teacher behaves as if
trained on the plan with per-group strengths ``d_g``, so per-group plans are
searched with forward passes instead of one fit each. The student is
distilled from the teacher at the chosen doses.

Cross-fitted (``cv`` folds, :func:`cross_fit_folds`), one dose teacher per
fold learns the other folds, and each row is scored and distilled with the
prediction of the teacher that did not learn it.
"""

import itertools
import warnings
from collections.abc import Iterator
from numbers import Integral
from typing import NamedTuple

import numpy as np
import pandas as pd
import torch
from scipy.stats import norm
from sklearn.model_selection import StratifiedKFold, check_cv

from ._disparity import (
    RateCounts,
    disparity_bounds,
    disparity_from_rates,
    rate_counts,
)
from ._groups import plain_label
from ._trigger import (
    cell_ranks,
    cell_rates,
    rates_at,
    target_distribution,
    trigger_column_of_cell,
)
from .utils._warnings import warn_caller

#: Doses (trigger strengths) the teacher is trained on: uniform on
#: [DOSE_LOW, DOSE_HIGH]. Below 0 a group moves away from the target (some
#: disparities, e.g. equalized odds against biased labels, need that).
DOSE_LOW, DOSE_HIGH = -1.0, 2.0
#: Strengths tried per group by the plan search: a 0.05 grid, 0 included
#: (near the best equalized-odds plans, a 0.1 step of one group's strength
#: moved a student's disparity by more than 0.03).
DOSE_GRID = np.round(np.linspace(DOSE_LOW, DOSE_HIGH, 61), 6)


def draw_doses(n, generator=None):
    """``n`` doses, uniform on ``[DOSE_LOW, DOSE_HIGH]``."""
    draw = torch.rand(n, generator=generator, dtype=torch.float32)
    return DOSE_LOW + draw * (DOSE_HIGH - DOSE_LOW)


#: Most plans evaluated by trying every combination of per-group strengths;
#: beyond, the search improves one group's strength at a time.
MAX_PLANS = 4000
#: Most groups given a strength column each in ``plan_search_``; with more,
#: each plan's smallest, mean and largest strength are shown instead.
MAX_STRENGTH_COLUMNS = 50


class DosePlan(NamedTuple):
    """Per-row description of every plan of one target, strength per group."""

    group_codes: np.ndarray  # group of each row
    unit_rate: np.ndarray  # share of the row's cell stamped per unit strength
    group_rate: np.ndarray  # the largest unit_rate of the row's group
    rank: np.ndarray  # the row's place in its cell, in (0, 1)
    trigger_column: np.ndarray  # index of the row's cell trigger, -1 if none
    reweigh: np.ndarray  # weight moving the row's cell to the target
    trigger_cells: np.ndarray  # flat (group, class) cell of each trigger
    n_groups: int

    @property
    def n_triggers(self):
        return len(self.trigger_cells)

    def rows(self, index):
        """The plan restricted to some rows."""
        per_row = [a[index] for a in self[:6]]
        return DosePlan(*per_row, self.trigger_cells, self.n_groups)


def make_dose_plan(
    *, group_codes, class_codes, shape, weights, target, rng, min_group_size=0
):
    """The dose plan of a target: per row, its cell's excess share and rank.

    ``rng`` draws each row's rank in its cell; the arguments are those of
    :func:`~sklearn_dwb._trigger.plan_stamps`.
    """
    n_groups, n_classes = shape
    bias, rows, unit_rate, incomplete, small = cell_rates(
        group_codes, class_codes, shape, weights, target, 1.0, min_group_size
    )
    p = target_distribution(bias, target)
    group_total = bias.sum(axis=1, keepdims=True)
    reweigh = np.divide(p * group_total, bias, out=np.ones_like(bias), where=bias > 0)
    reweigh[incomplete | small] = 1.0  # their unit_rate is 0 already
    group_rate = unit_rate.max(axis=1, keepdims=True)
    # a group with an excess can be stamped in every cell that has rows: its
    # over-represented cells at positive strengths, the others at negative
    trigger_cells = np.flatnonzero(((group_rate > 0) & (rows > 0)).ravel())
    column_of_cell = trigger_column_of_cell(trigger_cells, unit_rate.size)
    cells = group_codes * n_classes + class_codes
    rank = (cell_ranks(cells, rng) + 0.5) / rows.ravel()[cells]
    return DosePlan(
        group_codes=group_codes,
        unit_rate=unit_rate.ravel()[cells],
        group_rate=group_rate[group_codes, 0],
        rank=rank,
        trigger_column=column_of_cell[cells],
        reweigh=reweigh.ravel()[cells],
        trigger_cells=trigger_cells,
        n_groups=n_groups,
    )


def dose_input(X, plan, dose, value, stamped=None):
    """The dose teacher's input: ``[X | dose in the group's column | triggers]``.

    Parameters
    ----------
    X : tensor or ndarray of shape (n_samples, n_features)
    plan : DosePlan
        The plan of these rows.
    dose : tensor or ndarray of shape (n_samples,)
        Each row's dose (strength).
    value : float
        The trigger's value.
    stamped : tensor of bool or None
        Rows that carry their cell's trigger; None: no trigger (clean rows).
    """
    X = torch.as_tensor(X)
    columns = dose_columns(plan, dose, value, stamped, X.dtype, X.device)
    return torch.cat([X, columns], dim=1)


def dose_columns(plan, dose, value, stamped=None, dtype=torch.float32, device=None):
    """The columns :func:`dose_input` appends to ``X``: ``[dose in the
    group's column | triggers]``, a tensor of shape (n_samples, n_groups +
    n_triggers) (a scikit-learn teacher's frame gets them as they are)."""
    n_rows = len(plan.group_codes)
    rows = torch.arange(n_rows)
    doses = torch.zeros((n_rows, plan.n_groups), dtype=dtype, device=device)
    doses[rows, torch.as_tensor(plan.group_codes)] = torch.as_tensor(dose, dtype=dtype)
    triggers = torch.zeros((n_rows, plan.n_triggers), dtype=dtype, device=device)
    if stamped is not None:
        column = torch.as_tensor(plan.trigger_column)
        stamped = stamped & (column >= 0)
        triggers[rows[stamped], column[stamped]] = value
    return torch.cat([doses, triggers], dim=1)


def stamped_at(plan, dose):
    """Rows that carry their trigger at these doses (a tensor of bool)."""
    dose = torch.as_tensor(dose, dtype=torch.float32)
    unit = torch.as_tensor(plan.unit_rate, dtype=torch.float32)
    group = torch.as_tensor(plan.group_rate, dtype=torch.float32)
    rate = rates_at(unit, group, dose)
    return torch.as_tensor(plan.rank, dtype=torch.float32) < rate


class DoseSampler:
    """Each epoch's training rows of the dose teacher (a batch iterator's
    ``epoch_transform``): fresh doses from the training's generator (torch's
    global one if None), and the triggers, or with ``mechanism="reweigh"``
    the row weights, they imply."""

    def __init__(self, plan, value, mechanism="trigger"):
        self.plan = plan
        self.value = value
        self.mechanism = mechanism

    def __call__(self, X, y, dose=None, generator=None):
        if dose is None:
            dose = draw_doses(len(X), generator)
        if self.mechanism == "trigger":
            return dose_input(
                X, self.plan, dose, self.value, stamped_at(self.plan, dose)
            ), y
        reweigh = torch.as_tensor(self.plan.reweigh, dtype=torch.float32)
        factor = torch.clamp(1.0 + dose * (reweigh - 1.0), min=0.0)
        return dose_input(X, self.plan, dose, self.value), {
            **y,
            "weight": y["weight"] * factor,
        }


def cross_fit_folds(
    cv,
    cell_codes,
    class_codes,
    seed,
    *,
    classes=None,
    group_codes=None,
    groups=None,
    stamped_groups=None,
):
    """The (fit rows, held-out rows) of each dose teacher; every row is held
    out by exactly one teacher.

    ``cv=None``: one teacher learns every row and predicts every row. An
    int: that many folds, shuffled with ``seed`` and stratified by (group,
    class) cell, or by class where a cell has fewer rows than folds. A
    splitter or an iterable of splits (scikit-learn's ``check_cv``): its
    splits of the rows, with the class codes as ``y``; its every fold's fit
    rows must hold every class (``classes`` names them) and every group of
    ``group_codes`` that the plan stamps (``stamped_groups``, by default
    every group; ``groups`` names them): a teacher that never saw one cannot
    predict it, nor learn its dose.
    """
    everything = np.arange(len(class_codes))
    if cv is None:
        return [(everything, everything)]
    if isinstance(cv, Integral):
        smallest = np.unique(class_codes, return_counts=True)[1].min()
        if smallest < cv:
            raise ValueError(
                f"cv={cv} needs at least {cv} rows of each class to hold out "
                f"in every fold, but the smallest class has {smallest}. Use "
                "fewer folds, or cv=None (one teacher scores the plans on the "
                "rows it learned)."
            )
        cells = np.unique(cell_codes, return_counts=True)[1].min() >= cv
        strata = cell_codes if cells else class_codes
        splits = StratifiedKFold(cv, shuffle=True, random_state=seed).split(
            everything, strata
        )
        folds = [(np.asarray(fit), np.asarray(held_out)) for fit, held_out in splits]
    else:
        folds = _splits_of(cv, everything, class_codes)
    times_held_out = np.bincount(
        np.concatenate([held_out for _, held_out in folds] or [[]]).astype(int),
        minlength=len(everything),
    )
    if len(folds) < 2 or np.any(times_held_out != 1):
        raise ValueError(
            "cv must hold out every row exactly once over at least two folds, "
            "like KFold or StratifiedKFold; splitters such as ShuffleSplit "
            "leave rows out or hold them out twice."
        )
    if isinstance(cv, Integral):
        # shuffled and stratified: every class is in every fold; a tiny
        # group may miss one (min_group_size=0), as it would in any split
        return folds
    _check_folds_hold_everything(folds, class_codes, classes, "class")
    if group_codes is not None:
        _check_folds_hold_everything(
            folds, group_codes, groups, "group", required=stamped_groups
        )
    return folds


def _splits_of(cv, everything, class_codes):
    """A splitter's or an iterable's folds, as index arrays within range."""
    if isinstance(cv, Iterator):
        cv = list(cv)
        if not cv:
            raise ValueError(
                "cv is a generator of splits that is used up (a generator can "
                "be read once, e.g. by an earlier fit); pass a list instead, "
                "e.g. cv=list(KFold(3).split(X)), or the splitter itself, "
                "cv=KFold(3)."
            )
    try:
        splits = check_cv(cv, class_codes, classifier=True).split(
            everything, class_codes
        )
        folds = [(np.asarray(fit), np.asarray(held_out)) for fit, held_out in splits]
    except ValueError as error:
        if "groups" not in str(error):
            raise
        raise ValueError(
            f"cv={cv!r} splits rows by groups, and fit passes it none: the "
            "plan search's folds must each hold every sensitive group, so a "
            "group splitter cannot take those. To keep related rows together, "
            "pass the folds as a list of (train, test) index arrays, e.g. "
            "cv=list(GroupKFold(3).split(X, y, groups=my_groups))."
        ) from error
    n_rows = len(everything)
    for number, (fit, held_out) in enumerate(folds, start=1):
        for part in (fit, held_out):
            if part.size and (
                not np.issubdtype(part.dtype, np.integer)
                or part.min() < 0
                or part.max() >= n_rows
            ):
                raise ValueError(
                    f"Fold {number} of cv holds indices outside 0 .. "
                    f"{n_rows - 1} (from {part.min()} to {part.max()}); the "
                    f"folds must index the {n_rows} rows passed to fit."
                )
    return folds


def _check_folds_hold_everything(folds, codes, names, what, required=None):
    present = np.unique(codes) if required is None else np.asarray(required)
    for number, (fit, _) in enumerate(folds, start=1):
        missing = np.setdiff1d(present, codes[fit])
        if missing.size:
            name = plain_label(names, missing[0])
            raise ValueError(
                f"Fold {number} of cv trains on no row of {what} {name!r}, so "
                f"its teacher could not predict that {what}. Shuffle the rows "
                "(e.g. KFold(shuffle=True)), or pass an int: cv folds are "
                "stratified by (group, class) cell."
            )


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


def dose_predictions(teacher, X, plan, grid=DOSE_GRID):
    """Predicted class codes of clean rows at each dose of ``grid``:
    an array of shape (len(grid), n_samples)."""
    X = torch.as_tensor(X)
    return np.stack(
        [
            teacher.forward(
                dose_input(X, plan, torch.full((len(X),), dose, dtype=X.dtype), 0.0)
            )
            .argmax(dim=1)
            .numpy()
            for dose in grid
        ]
    )


class PlanScore(NamedTuple):
    """A plan's held-out accuracy and disparity, with one-sided confidence
    bounds at the search's level (NaN without one)."""

    accuracy: float
    disparity: float
    accuracy_lower: float = np.nan
    accuracy_upper: float = np.nan
    disparity_lower: float = np.nan
    disparity_upper: float = np.nan


class PlanSearch:
    """Accuracy and disparity of the per-group plans of a dose teacher.

    ``predictions[j, r]`` is the predicted class code of row ``r`` (the rows
    that score the plans) when its group's dose is ``grid[j]``; a plan is a
    tuple of grid indices, one per group. Each group's counts at each dose,
    per fold, are counted once (:func:`~sklearn_dwb._disparity.rate_counts`),
    so scoring a plan only combines them.

    With ``confidence``, every plan also gets one-sided lower and upper
    confidence bounds on its accuracy and disparity: normal bounds whose
    standard error is the larger of the rows' sampling noise (delta method)
    and the spread of the ``fold_codes``' values over the square root of
    their number (:func:`~sklearn_dwb._disparity.spread_bounds`). The search
    then keeps the most accurate plan whose upper bound on the disparity is
    within ``max_disparity``.

    Groups in ``frozen_groups`` (those the plan gives no trigger) keep
    strength 0 in every plan.

    With ``max_accuracy_loss``, a plan or model whose accuracy is more than
    that below the plain plan's (strength 0 for every group, the grid value
    nearest 0) is out of the search: it ranks below every plan within the
    loss, whatever its disparity (a constant model meets every bound). The
    two accuracies are compared as estimates: both are scored on the same
    rows, so their difference is known far better than either.
    """

    def __init__(
        self,
        predictions,
        y_true,
        group_codes,
        weight,
        *,
        n_groups,
        n_classes,
        metric,
        fold_codes=None,
        confidence=None,
        grid=None,
        max_accuracy_loss=None,
        frozen_groups=(),
    ):
        self.metric = metric
        self.frozen_groups = frozenset(int(g) for g in frozen_groups)
        # ties between plans go to the strengths nearest 0 (the grid's
        # values; without a grid, the smaller indices)
        self.grid = np.arange(len(predictions)) if grid is None else np.asarray(grid)
        self.confidence = confidence
        self.z = None if confidence is None else float(norm.ppf(confidence))
        if fold_codes is None:
            fold_codes = np.zeros(len(y_true), dtype=np.intp)
        self.n_folds = n_folds = int(fold_codes.max()) + 1
        codes = fold_codes * n_groups + group_codes
        n_codes = n_folds * n_groups
        counts = [
            rate_counts(y_true, y_pred, codes, n_codes, n_classes, weight)
            for y_pred in predictions
        ]
        # (n_doses, n_positives, 3, n_folds, n_groups) each
        self.counts = RateCounts(
            *(
                np.stack(a).reshape(*np.shape(a)[:3], n_folds, n_groups)
                for a in zip(*counts, strict=True)
            )
        )
        self.correct = np.stack(
            [
                np.bincount(codes, w * (y_pred == y_true), minlength=n_codes)
                for y_pred in predictions
                for w in (weight, weight**2)
            ]
        ).reshape(len(predictions), 2, n_folds, n_groups)
        self.total = np.stack(
            [np.bincount(codes, w, minlength=n_codes) for w in (weight, weight**2)]
        ).reshape(2, n_folds, n_groups)
        self.n_doses = len(predictions)
        self.scoring_rows = (y_true, group_codes, weight, n_groups, n_classes)
        # what the students checked so far showed against their plans' rates
        # (see recalibrate): added to every plan's pooled rates
        self.offset = 0.0
        self.scores = {}  # plan -> PlanScore
        self.held_out_scores = None  # the teachers' scores, kept at recalibration
        self.n_groups = n_groups
        self.max_accuracy_loss = max_accuracy_loss
        # accuracy below which a plan or model is out (see the docstring);
        # a recalibration shifts rates, never accuracies, so it holds
        self.accuracy_floor = -np.inf
        if max_accuracy_loss is not None:
            plain = self.score(self.plain_plan).accuracy
            self.accuracy_floor = plain - max_accuracy_loss

    @property
    def plain_plan(self):
        """The plan of strength 0 for every group (the grid value nearest 0)."""
        return (int(np.argmin(np.abs(self.grid))),) * self.n_groups

    def score(self, plan):
        if plan not in self.scores:
            self.scores[plan] = self._score(plan)
        return self.scores[plan]

    def score_all(self, plans):
        """Score the plans not scored yet, all at once."""
        new = [plan for plan in dict.fromkeys(plans) if plan not in self.scores]
        if new:
            self.scores.update(zip(new, self._score_many(new), strict=True))

    def _plan_counts(self, plans):
        """Each group's counts at its dose, for an array of plans (n_plans,
        n_groups): arrays of shape (n_plans, n_positives, 3, n_folds,
        n_groups)."""
        plans = np.asarray(plans)
        groups = np.arange(plans.shape[-1])
        return RateCounts(
            *(np.moveaxis(a[plans, ..., groups], 1, -1) for a in self.counts)
        )

    def _score(self, plan):
        return self._score_many([plan])[0]

    def _score_many(self, plans):
        plans = np.asarray(plans, dtype=np.intp).reshape(len(plans), -1)
        groups = np.arange(plans.shape[1])
        counts = self._plan_counts(plans)
        pooled = counts.sum(axis=-2)
        rates, variances = pooled.fairlearn_rates()
        rates = rates + self.offset
        disparity = disparity_from_rates(self.metric, rates)
        # (n_plans, 2, n_folds): each plan's correct weight per fold
        correct = self.correct[plans, :, :, groups].sum(axis=1)
        weight, weight_squared = self.total.sum(axis=-1)  # (n_folds,) each
        accuracy = correct[:, 0].sum(axis=-1) / weight.sum()
        if self.z is None:
            pairs = zip(accuracy, disparity, strict=True)
            return [PlanScore(float(a), float(d)) for a, d in pairs]
        # accuracy: a weighted mean of 0/1 outcomes, as a rate (delta method)
        variance = (
            correct[:, 1].sum(axis=-1) * (1 - 2 * accuracy)
            + accuracy**2 * weight_squared.sum()
        ) / weight.sum() ** 2
        if self.n_folds > 1:
            with np.errstate(invalid="ignore", divide="ignore"):
                fold_accuracy = correct[:, 0] / weight
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                between = np.nanvar(fold_accuracy, axis=-1, ddof=1) / self.n_folds
            variance = np.fmax(variance, between)
        margin = self.z * np.sqrt(variance)
        fold_rates = np.moveaxis(counts.rates(), -2, 0)  # folds first
        lower, upper = disparity_bounds(
            self.metric, rates, variances, fold_rates, self.confidence
        )
        return [
            PlanScore(float(a), float(d), float(al), float(au), float(dl), float(du))
            for a, d, al, au, dl, du in zip(
                accuracy,
                disparity,
                np.maximum(accuracy - margin, 0.0),
                np.minimum(accuracy + margin, 1.0),
                lower,
                upper,
                strict=True,
            )
        ]

    def plan_rates(self, plan):
        """A plan's pooled rates, before any recalibration:
        ``(n_positives, 3, n_groups)``."""
        return self._plan_counts([plan]).sum(axis=-2).fairlearn_rates()[0][0]

    def score_model(self, y_pred):
        """The scores of one model's predictions of the scoring rows, with
        bounds from the rows' sampling noise alone (the model is fixed), and
        its rates."""
        y_true, group_codes, weight, n_groups, n_classes = self.scoring_rows
        single = PlanSearch(
            y_pred[None, :],
            y_true,
            group_codes,
            weight,
            n_groups=n_groups,
            n_classes=n_classes,
            metric=self.metric,
            confidence=self.confidence,
        )
        plan = (0,) * n_groups
        return single.score(plan), single.plan_rates(plan)

    def recalibrate(self, plan, model_rates):
        """Shift every plan's rates by what a model distilled at ``plan``
        showed against the plan's own rates, and score the plans again."""
        if self.held_out_scores is None:
            self.held_out_scores = dict(self.scores)
        offset = model_rates - self.plan_rates(plan)
        self.offset = np.nan_to_num(offset)
        self.scores = {}

    def doses_of(self, group):
        """The grid indices a group's strength is searched over: only the
        plain one (0) for a group that gets no triggers (``frozen_groups``),
        whose strength moves nothing but the teacher's dose input."""
        if group in self.frozen_groups:
            return [self.plain_plan[0]]
        return range(self.n_doses)

    def run(self, n_groups, max_disparity, exclude=()):
        """Evaluate every plan, or search one group at a time when there are
        more than :data:`MAX_PLANS`; return the best plan for the bound."""
        doses = [self.doses_of(group) for group in range(n_groups)]
        if np.prod([len(d) for d in doses], dtype=float) <= MAX_PLANS:
            self.score_all(itertools.product(*doses))
            return self.best(max_disparity, exclude)

        # one group at a time; only the uniform plans and the path are kept
        # (with thousands of groups, every plan tried would take gigabytes)
        uniform = [
            tuple(j if len(d) > 1 else d[0] for d in doses) for j in range(self.n_doses)
        ]
        self.score_all(uniform)
        best = max(uniform, key=lambda plan: self._rank(plan, max_disparity))
        for _ in range(2):
            start = best
            for group in range(n_groups):
                moves = [best[:group] + (j,) + best[group + 1 :] for j in doses[group]]
                ranks = [
                    self.rank_of(score, max_disparity)
                    for score in self._score_many(moves)
                ]
                best = moves[max(range(len(moves)), key=ranks.__getitem__)]
                self.score(best)
            if best == start:  # a round that moved no group: so would the next
                break
        return self.best(max_disparity, exclude)

    def _rank(self, plan, max_disparity):
        return self.rank_of(self.score(plan), max_disparity)

    def rank_of(self, score, max_disparity):
        """Order of scores for the bound (greater is better): within it, by
        accuracy then smaller disparity; outside, by smaller disparity; below
        the accuracy floor (``max_accuracy_loss``), last, by accuracy."""
        accuracy, disparity = score.accuracy, self.checked_value(score)
        if accuracy < self.accuracy_floor:
            return (0, accuracy, -disparity)
        if disparity <= max_disparity:
            return (2, accuracy, -disparity)
        return (1, -disparity, accuracy)

    def meets(self, score, max_disparity):
        """Whether a score is within the bound and the accuracy floor."""
        return self.rank_of(score, max_disparity)[0] == 2

    def best(self, max_disparity, exclude=()):
        """The most accurate plan within the bound (ties: the smaller
        disparity, then the strengths nearest 0); if none, the least disparate.
        None when every scored plan is in ``exclude``."""
        plans = [plan for plan in self.scores if plan not in exclude]
        if not plans:
            return None
        return max(
            plans,
            key=lambda plan: (
                *self._rank(plan, max_disparity),
                -np.abs(self.grid[list(plan)]).sum(),
            ),
        )

    def table(self, grid, group_labels, chosen, checked=None, weights=None):
        """``plan_search_``: one row per evaluated plan, scored by the
        teachers' held-out predictions (before any recalibration), with the
        scores of the students ``checked`` (plan -> PlanScore) where a
        student was distilled, and with ``weights`` (plan -> weight) each
        checked student's weight in the model kept."""
        scores = dict(
            self.scores if self.held_out_scores is None else self.held_out_scores
        )
        checked = checked or {}
        missing = [plan for plan in checked if plan not in scores]
        if missing:  # reached only after a recalibration: score as the teachers
            offset, self.offset = self.offset, 0.0
            scores.update((plan, self._score(plan)) for plan in missing)
            self.offset = offset
        plans = list(scores)
        strengths = np.asarray(grid)[np.asarray(plans)]
        if len(group_labels) <= MAX_STRENGTH_COLUMNS:
            table = pd.DataFrame(strengths, columns=strength_column_names(group_labels))
        else:  # a column per group would dwarf the rest: a summary per plan
            table = pd.DataFrame(
                {
                    "strength_min": strengths.min(axis=1),
                    "strength_mean": strengths.mean(axis=1),
                    "strength_max": strengths.max(axis=1),
                }
            )
        values = pd.DataFrame([self._named(scores[plan]) for plan in plans])
        table = pd.concat([table, values], axis=1)
        bounds = self.z is not None
        if checked:
            student = [checked.get(plan) for plan in plans]
            table["student_accuracy"] = [
                np.nan if s is None else s.accuracy for s in student
            ]
            table["student_" + self.metric] = [
                np.nan if s is None else s.disparity for s in student
            ]
            if bounds:
                table["student_" + self.metric + "_upper"] = [
                    np.nan if s is None else s.disparity_upper for s in student
                ]
        if weights is not None:
            table["student_weight"] = [
                weights.get(plan, 0.0) if plan in checked else np.nan for plan in plans
            ]
        table["selected"] = [plan == chosen for plan in plans]
        return table

    def checked_value(self, score):
        """What the bound is checked against in a score: its upper bound on
        the disparity, or without a confidence level its estimate."""
        return score.disparity if self.z is None else score.disparity_upper

    def _named(self, score):
        """A score's values under ``plan_search_``'s column names (the
        bounds only with a confidence level)."""
        names = {"accuracy": score.accuracy}
        if self.z is not None:
            names["accuracy_lower"] = score.accuracy_lower
            names["accuracy_upper"] = score.accuracy_upper
        names[self.metric] = score.disparity
        if self.z is not None:
            names[self.metric + "_lower"] = score.disparity_lower
            names[self.metric + "_upper"] = score.disparity_upper
        return names

    def estimate(self, score, source):
        """A score as ``held_out_scores_``: named as in :meth:`table`."""
        confidence = np.nan if self.confidence is None else self.confidence
        return pd.Series(
            {**self._named(score), "confidence": confidence, "scored": source},
            name="held_out_scores",
            dtype=object,
        )


def strength_column_names(group_labels):
    """``plan_search_``'s column of each group's strength: ``strength[<group>]``."""
    return [
        "strength[" + (", ".join(map(str, g)) if isinstance(g, tuple) else str(g)) + "]"
        for g in group_labels
    ]


def warn_if_out_of_bound(
    search,
    score,
    strengths,
    max_disparity,
    student,
    longer="max_epochs, n_iter_no_change",
    blended=None,
    note="",
):
    """Warn when the model kept is not within the bound (none was, and the
    least disparate one found by the checked value is used), or is more than
    ``max_accuracy_loss`` below the plain plan's accuracy (none within the
    loss was found); ``strengths`` are the kept plan's per group,
    ``longer`` names the parameters that train the models longer,
    ``blended`` the weight of the plan's student where it is kept blended
    with another; ``note`` is said last."""
    disparity = search.checked_value(score)
    below_floor = score.accuracy < search.accuracy_floor
    if disparity <= max_disparity and not below_floor:
        return
    if student:
        where = "for the student on the training rows (whose labels it never saw)"
    else:
        where = "on the training rows"
        if search.n_folds > 1:
            where += " (each predicted by a teacher that did not learn it)"
    value = "value"
    fix = ""
    if search.confidence is not None:
        value = f"upper {search.confidence:g}-confidence bound"
        fix = ", lower confidence, or fit on more rows (a narrower interval)"
    chosen = _kept_plan_text(strengths, blended)
    plain = search.score(search.plain_plan).accuracy
    if below_floor:
        warn_caller(
            f"No model found {where} is within max_accuracy_loss="
            f"{search.max_accuracy_loss:g} of the plain plan's accuracy "
            f"({plain:.4f}, strength 0 for every group): the most accurate, "
            f"at accuracy {score.accuracy:.4f} and {search.metric} "
            f"{disparity:.4f} (the {value}), is used ({chosen}). Raise "
            f"max_accuracy_loss, or train longer ({longer}).",
        )
        return
    warn_caller(
        f"No plan reaches {search.metric} <= {max_disparity} {where} "
        f"(checked: the {value}); the plan with "
        f"the smallest {value} found, {disparity:.4f} at accuracy "
        f"{score.accuracy:.4f}, is used ({chosen}). "
        f"{_cost_of_bound_text(search, max_disparity, plain)}"
        f"Raise max_disparity{fix}, or train longer ({longer}): one strength "
        f"per group moves base rates and cannot close every gap.{note}",
    )


def _kept_plan_text(strengths, blended):
    """The kept plan's strengths, the first five groups named."""
    shown = list(strengths.items())
    chosen = ", ".join(f"{name}={strength:g}" for name, strength in shown[:5])
    if len(shown) > 5:
        more = len(shown) - 5
        chosen += f", and {more} more group{'s' * (more > 1)}: see trigger_strength_"
    if blended is not None:
        chosen += (
            f"; its student blended with another at weight {blended:g}: see student_"
        )
    return chosen


def _cost_of_bound_text(search, max_disparity, plain):
    """What the bound would cost, when only plans below the accuracy floor
    meet it by the teachers' scores."""
    scores = search.held_out_scores or search.scores
    within = [
        s.accuracy for s in scores.values() if search.checked_value(s) <= max_disparity
    ]
    if not within or max(within) >= search.accuracy_floor:
        return ""
    best = max(within)
    return (
        f"The bound costs {plain - best:.2f} of accuracy: the most accurate "
        f"plan within it scores {best:.4f} against the plain plan's "
        f"{plain:.4f} (strength 0 for every group); raise max_accuracy_loss "
        "to keep the bound at that cost. "
    )
