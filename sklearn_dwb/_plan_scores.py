"""Accuracy and disparity of every plan of the dose teachers, with bounds.

A plan is one strength per group, held as a tuple of indices into the
strength grid. ``predictions[j, r]`` is the class the dose teachers predict
for row ``r`` when its group's strength is ``grid[j]`` (each row predicted
by the teacher that did not learn it); since a row's prediction depends
only on its own group's strength, each group's counts at each strength, per
fold, are counted once and scoring a plan only combines them.
"""

import warnings
from typing import NamedTuple

import numpy as np
from scipy.stats import norm

from ._disparity import (
    RateCounts,
    disparity_bounds,
    disparity_from_rates,
    rate_counts,
)


class PlanScore(NamedTuple):
    """A plan's (or a model's) accuracy and disparity, with one-sided
    confidence bounds at the scores' level (NaN without one)."""

    accuracy: float
    disparity: float
    accuracy_lower: float = np.nan
    accuracy_upper: float = np.nan
    disparity_lower: float = np.nan
    disparity_upper: float = np.nan


class ScoringRows(NamedTuple):
    """The rows that score plans and models: labels, groups, weights."""

    y_true: np.ndarray
    group_codes: np.ndarray
    weight: np.ndarray
    n_groups: int
    n_classes: int


class PlanScores:
    """The scores of the per-group plans of the dose teachers.

    With ``confidence``, every plan also gets one-sided lower and upper
    confidence bounds on its accuracy and disparity: normal bounds whose
    standard error is the larger of the rows' sampling noise (delta method)
    and the spread of the ``fold_codes``' values over the square root of
    their number (:func:`~sklearn_dwb._disparity.spread_bounds`); the bound
    is checked against the upper one.

    Groups in ``frozen_groups`` (those the plan gives no trigger) keep
    strength 0 in every plan searched.

    With ``max_accuracy_loss``, a plan or model whose accuracy is more than
    that below the plain plan's (strength 0 for every group, the grid value
    nearest 0) sorts below every plan within the loss, whatever its
    disparity (a constant model meets every bound). The two accuracies are
    compared as estimates: both are scored on the same rows, so their
    difference is known far better than either.

    :meth:`shift_rates` adds what a student showed against its plan's rates
    to every plan's rates, and scores them again; accuracies are not
    shifted, so the floor holds.
    """

    def __init__(
        self,
        predictions,
        rows,
        *,
        metric,
        fold_codes=None,
        confidence=None,
        grid=None,
        max_accuracy_loss=None,
        frozen_groups=(),
    ):
        self.metric, self.rows, self.confidence = metric, rows, confidence
        self.frozen_groups = frozenset(int(g) for g in frozen_groups)
        # ties between plans go to the strengths nearest 0 (the grid's
        # values; without a grid, the smaller indices)
        self.grid = np.arange(len(predictions)) if grid is None else np.asarray(grid)
        self.z = None if confidence is None else float(norm.ppf(confidence))
        if fold_codes is None:
            fold_codes = np.zeros(len(rows.y_true), dtype=np.intp)
        self.n_folds = int(fold_codes.max()) + 1
        self.n_strengths = len(predictions)
        self._count(predictions, fold_codes)
        self.offset = 0.0  # what the checked students showed: shift_rates
        self.scores = {}  # plan -> PlanScore, at the current offset
        self.teacher_scores = {}  # plan -> PlanScore, the teachers' own
        self.max_accuracy_loss = max_accuracy_loss
        self.accuracy_floor = -np.inf
        if max_accuracy_loss is not None:
            plain = self.score(self.plain_plan).accuracy
            self.accuracy_floor = plain - max_accuracy_loss

    def _count(self, predictions, fold_codes):
        """Per strength, fold and group: the counts behind the rates, the
        correct weight and the total weight (each also squared)."""
        y_true, group_codes, weight, n_groups, n_classes = self.rows
        n_folds = self.n_folds
        codes = fold_codes * n_groups + group_codes
        n_codes = n_folds * n_groups
        counts = [
            rate_counts(y_true, y_pred, codes, n_codes, n_classes, weight)
            for y_pred in predictions
        ]
        # (n_strengths, n_positives, 3, n_folds, n_groups) each
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

    @property
    def n_groups(self):
        return self.rows.n_groups

    @property
    def plain_plan(self):
        """The plan of strength 0 for every group (the grid value nearest 0)."""
        return (int(np.argmin(np.abs(self.grid))),) * self.n_groups

    def strengths_of(self, group):
        """The grid indices a group's strength is searched over: only the
        plain one for a group that gets no triggers (``frozen_groups``),
        whose strength moves nothing but the teacher's dose input."""
        if group in self.frozen_groups:
            return [self.plain_plan[0]]
        return range(self.n_strengths)

    def score(self, plan):
        if plan not in self.scores:
            self.score_all([plan])
        return self.scores[plan]

    def score_all(self, plans):
        """Score the plans not scored yet, all at once."""
        new = [plan for plan in dict.fromkeys(plans) if plan not in self.scores]
        if new:
            scored = dict(zip(new, self.score_many(new), strict=True))
            self.scores.update(scored)
            if np.all(self.offset == 0):
                self.teacher_scores.update(scored)

    def teacher_score(self, plan):
        """A plan's score by the teachers alone (before any shift)."""
        if plan not in self.teacher_scores:
            offset, self.offset = self.offset, 0.0
            self.teacher_scores[plan] = self.score_many([plan])[0]
            self.offset = offset
        return self.teacher_scores[plan]

    def _plan_counts(self, plans):
        """Each group's counts at its strength, for an array of plans
        (n_plans, n_groups): arrays of shape (n_plans, n_positives, 3,
        n_folds, n_groups)."""
        plans = np.asarray(plans)
        groups = np.arange(plans.shape[-1])
        return RateCounts(
            *(np.moveaxis(a[plans, ..., groups], 1, -1) for a in self.counts)
        )

    def score_many(self, plans):
        """The scores of a list of plans, at the current offset."""
        plans = np.asarray(plans, dtype=np.intp).reshape(len(plans), -1)
        groups = np.arange(plans.shape[1])
        counts = self._plan_counts(plans)
        pooled = counts.sum(axis=-2)
        rates, variances = pooled.fairlearn_rates()
        rates = rates + self.offset
        disparity = disparity_from_rates(self.metric, rates)
        # (n_plans, 2, n_folds): each plan's correct weight per fold
        correct = self.correct[plans, :, :, groups].sum(axis=1)
        weight = self.total.sum(axis=-1)[0]  # (n_folds,)
        accuracy = correct[:, 0].sum(axis=-1) / weight.sum()
        if self.z is None:
            pairs = zip(accuracy, disparity, strict=True)
            return [PlanScore(float(a), float(d)) for a, d in pairs]
        margin = self.z * np.sqrt(self._accuracy_variance(correct, accuracy))
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

    def _accuracy_variance(self, correct, accuracy):
        """An accuracy's variance: a weighted mean of 0/1 outcomes, as a rate
        (delta method), or where larger the folds' spread over their number."""
        weight, weight_squared = self.total.sum(axis=-1)  # (n_folds,) each
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
        return variance

    def plan_rates(self, plan):
        """A plan's pooled rates by the teachers (before any shift):
        ``(n_positives, 3, n_groups)``."""
        return self._plan_counts([plan]).sum(axis=-2).fairlearn_rates()[0][0]

    def shift_rates(self, plan, model_rates):
        """Shift every plan's rates by what a model distilled at ``plan``
        showed against the plan's own rates, and score the plans again."""
        self.offset = np.nan_to_num(model_rates - self.plan_rates(plan))
        self.scores = {}

    def checked_disparity(self, score):
        """What the bound is checked against in a score: its upper bound on
        the disparity, or without a confidence level its estimate."""
        return score.disparity if self.z is None else score.disparity_upper

    def sort_key(self, score, max_disparity):
        """Order of scores for the bound (greater is better): within it, by
        accuracy then smaller disparity; outside, by smaller disparity; below
        the accuracy floor (``max_accuracy_loss``), last, by accuracy."""
        accuracy, disparity = score.accuracy, self.checked_disparity(score)
        if accuracy < self.accuracy_floor:
            return (0, accuracy, -disparity)
        if disparity <= max_disparity:
            return (2, accuracy, -disparity)
        return (1, -disparity, accuracy)

    def meets(self, score, max_disparity):
        """Whether a score is within the bound and the accuracy floor."""
        return self.sort_key(score, max_disparity)[0] == 2

    def best(self, max_disparity, exclude=()):
        """The best scored plan by :meth:`sort_key` (ties: the strengths
        nearest 0), or None when every scored plan is in ``exclude``."""
        plans = [plan for plan in self.scores if plan not in exclude]
        if not plans:
            return None
        return max(
            plans,
            key=lambda plan: (
                *self.sort_key(self.scores[plan], max_disparity),
                -np.abs(self.grid[list(plan)]).sum(),
            ),
        )


def model_score(y_pred, rows, metric, confidence):
    """The scores of one model's predictions of the scoring rows, with
    bounds from the rows' sampling noise alone (the model is fixed), and
    its rates."""
    one = PlanScores(y_pred[None, :], rows, metric=metric, confidence=confidence)
    plan = (0,) * rows.n_groups
    return one.score(plan), one.plan_rates(plan)
