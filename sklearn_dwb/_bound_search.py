"""The search for a bound: ``trigger_strength="auto"`` with ``max_disparity``.

One object runs it and keeps a record of what it tried:

1. dose teachers cross-fitted on folds of the rows (each row held out by one
   teacher, :mod:`~sklearn_dwb._folds`), and every plan scored on the
   held-out predictions (:mod:`~sklearn_dwb._plan_scores`);
2. the student distilled at the best plan, and *checked*: with ``cv`` folds
   and ``distill_weight=1`` it learned only the teachers' held-out
   predictions, never a label, so its scores on the training rows are what
   new rows would show. A student outside the bound (or below the accuracy
   floor) *shifts* every plan's rates by what it showed against its plan's,
   and the next plan's student is distilled, at most ``MAX_STUDENTS``;
3. the model kept: the best checked student by the scores' sort key, or a
   blend of two (:mod:`~sklearn_dwb._blend`), with a warning when it misses
   the bound or the accuracy floor (:mod:`~sklearn_dwb._bound_warnings`);
4. one result: the kept model, its candidate (plan and teachers),
   ``plan_search_`` and ``held_out_scores_``.
"""

import itertools
from typing import NamedTuple

import numpy as np
import pandas as pd

from ._blend import StudentBlend, best_blend
from ._bound_warnings import warn_if_out_of_bound
from ._data import Candidate, FitResult
from ._dose import dose_columns, make_dose_rows
from ._fixed_strength import stamp_plan
from ._folds import check_every_fold_stops_early, cross_fit_folds, fold_codes
from ._plan_scores import PlanScores, ScoringRows, model_score
from ._tables import held_out_scores, plan_search_table, strength_column_names
from ._tuning import MAX_PLANS, MAX_STUDENTS, STRENGTH_GRID
from .utils._frames import take_rows


class BoundSettings(NamedTuple):
    """The parameters of the search for a bound, as the estimator has them."""

    metric: str
    max_disparity: float
    max_accuracy_loss: float | None
    confidence: float | None
    blend_students: bool
    cv: object
    distill_weight: float
    validation_fraction: float
    early_stopping: bool
    n_jobs: int | None = None


class Tried(NamedTuple):
    """A plan whose student was distilled: the teachers at the plan, the
    student, and the student's checked score (the plan's, unchecked)."""

    candidate: Candidate
    student: object
    score: object


class Kept(NamedTuple):
    """The model the search keeps, and the weight of each checked student in
    it (None without blending)."""

    plan: tuple
    candidate: Candidate
    student: object
    score: object
    weights: dict | None
    blend: object


def search_plans(scores, max_disparity, exclude=()):
    """Score every plan, or search one group at a time when there are more
    than ``MAX_PLANS``; the best plan for the bound (None when every plan
    is in ``exclude``)."""
    options = [scores.strengths_of(group) for group in range(scores.n_groups)]
    if np.prod([len(o) for o in options], dtype=float) <= MAX_PLANS:
        scores.score_all(itertools.product(*options))
        return scores.best(max_disparity, exclude)
    # one group at a time; only the uniform plans and the path are kept
    # (with thousands of groups, every plan tried would take gigabytes)
    uniform = [
        tuple(j if len(o) > 1 else o[0] for o in options)
        for j in range(scores.n_strengths)
    ]
    scores.score_all(uniform)
    best = max(
        uniform, key=lambda plan: scores.sort_key(scores.score(plan), max_disparity)
    )
    for _ in range(2):
        start = best
        for group, strengths in enumerate(options):
            moves = [best[:group] + (j,) + best[group + 1 :] for j in strengths]
            keys = [
                scores.sort_key(score, max_disparity)
                for score in scores.score_many(moves)
            ]
            best = moves[max(range(len(moves)), key=keys.__getitem__)]
            scores.score(best)
        if best == start:  # a round that moved no group: so would the next
            break
    return scores.best(max_disparity, exclude)


class BoundSearch:
    """The search for a bound, run once by :meth:`run`.

    ``mechanism`` is what a strength removes from the dose teachers'
    training rows: ``"trigger"`` (DwB's pseudo-deletion) or ``"reweigh"``
    (Kamiran-Calders weights scaled by the strength), the latter for
    comparisons. ``tried`` records every plan whose student was distilled.
    """

    mechanism = "trigger"

    def __init__(self, learner, data, seeds, rows, triggers, settings):
        self.learner, self.data, self.seeds = learner, data, seeds
        self.rows, self.triggers, self.settings = rows, triggers, settings
        self.tried = {}  # plan -> Tried

    def run(self):
        """The search, start to end: a :class:`FitResult`."""
        self._fit_teachers()
        self._distil_students()
        kept = self._keep()
        self._warn(kept)
        return FitResult(
            kept.candidate,
            kept.student,
            self._table(kept),
            self._held_out_scores(kept),
            self.mechanism == "trigger",
        )

    # ------------------------------------------------------------ steps
    def _fit_teachers(self):
        """Dose teachers on the folds, and every plan's held-out scores."""
        data, settings, triggers = self.data, self.settings, self.triggers
        self.dose_rows = make_dose_rows(
            group_codes=data.group_codes,
            class_codes=data.y_codes,
            shape=data.shape,
            weights=data.sample_weight,
            target=triggers.target,
            rng=np.random.default_rng(self.seeds.stamp_seed),
            min_group_size=triggers.min_group_size,
        )
        stamped = np.unique(self.dose_rows.trigger_cells // len(data.classes))
        self.folds = cross_fit_folds(
            settings.cv,
            data.cell_codes,
            data.y_codes,
            self.seeds.split_seed,
            classes=data.classes,
            group_codes=data.group_codes,
            groups=data.group_labels,
            stamped_groups=stamped,
        )
        check_every_fold_stops_early(
            settings.validation_fraction, self.rows, self.folds, settings.early_stopping
        )
        self.teachers, predictions = self.learner.fit_dose_teachers(
            data,
            self.dose_rows,
            self.folds,
            self.seeds,
            self.rows,
            self.mechanism,
            settings.n_jobs,
        )
        self.scores = PlanScores(
            predictions,
            ScoringRows(
                data.y_codes,
                data.group_codes,
                data.sample_weight,
                self.dose_rows.n_groups,
                len(data.classes),
            ),
            metric=settings.metric,
            fold_codes=fold_codes(self.folds, len(data.X)),
            confidence=settings.confidence,
            grid=STRENGTH_GRID,
            max_accuracy_loss=settings.max_accuracy_loss,
            frozen_groups=np.setdiff1d(np.arange(self.dose_rows.n_groups), stamped),
        )

    @property
    def checks_students(self):
        """Whether a student's scores on the training rows are honest: it
        learned held-out predictions only, never a label."""
        return len(self.folds) > 1 and self.settings.distill_weight == 1

    def _distil_students(self):
        """The student loop: distil at the best plan, check, shift, repeat."""
        bound, scores = self.settings.max_disparity, self.scores
        plan = search_plans(scores, bound)
        while plan is not None:
            candidate = self._candidate(plan)
            student = self.learner.distil(
                self.data, candidate.clean_logits, self.seeds.student_seed, self.rows
            )
            if not self.checks_students:
                self.tried[plan] = Tried(candidate, student, scores.score(plan))
                return
            y_pred = self.learner.predict_codes(student, self.data.X)
            score, rates = model_score(
                y_pred, scores.rows, scores.metric, scores.confidence
            )
            self.tried[plan] = Tried(candidate, student, score)
            if scores.meets(score, bound) or len(self.tried) == MAX_STUDENTS:
                return
            scores.shift_rates(plan, rates)
            plan = search_plans(scores, bound, exclude=self.tried)

    def _candidate(self, plan):
        """The dose teachers at a plan's strengths (each row's logits from the
        teacher of its fold), and the trigger plan they stand for."""
        data, dose_rows, learner = self.data, self.dose_rows, self.learner
        strengths = STRENGTH_GRID[list(plan)]
        trigger_plan = stamp_plan(data, strengths, self.seeds.stamp_seed, self.triggers)
        row_strength = strengths[data.group_codes].astype(np.float32)

        def clean_input(index):
            index = np.arange(len(data.X))[index]
            columns = dose_columns(dose_rows.rows(index), row_strength[index], 0.0)
            return learner.append(take_rows(data.X, index), columns.numpy())

        logits = np.empty((len(data.X), len(data.classes)), dtype=np.float32)
        for teacher, (_, held_out) in zip(self.teachers, self.folds, strict=True):
            logits[held_out] = learner.logits(teacher, clean_input(held_out))
        columns = (
            data.X.shape[1]
            + dose_rows.n_groups
            + np.searchsorted(dose_rows.trigger_cells, trigger_plan.trigger_cells)
        )
        strength = pd.Series(
            strengths, index=data.group_labels, name="trigger_strength"
        )
        teachers = self.teachers[0] if len(self.teachers) == 1 else self.teachers
        return Candidate(
            strength, trigger_plan, teachers, logits, clean_input, columns, False
        )

    def _keep(self):
        """The best checked student by the sort key (the most accurate within
        the bound, else the least disparate), or a blend of two that sorts
        above each alone."""
        bound, tried = self.settings.max_disparity, self.tried
        plan = max(tried, key=lambda p: self.scores.sort_key(tried[p].score, bound))
        candidate, student, score = tried[plan]
        blending = self.checks_students and self.settings.blend_students
        weights = {plan: 1.0} if blending else None
        blend = None
        if blending and len(tried) > 1:
            blend = best_blend(
                self.scores,
                self.data.X,
                {p: (t.student, t.score) for p, t in tried.items()},
                bound,
                len(self.data.classes),
            )
        if blend is None:
            return Kept(plan, candidate, student, score, weights, None)
        (first, second), weight = blend.plans, blend.weight
        plan = first if weight >= 0.5 else second
        student = StudentBlend(
            [tried[first].student, tried[second].student],
            [weight, 1.0 - weight],
            len(self.data.classes),
        )
        weights = {first: weight, second: 1.0 - weight}
        return Kept(plan, tried[plan].candidate, student, blend.score, weights, blend)

    def _warn(self, kept):
        """Say it when the kept model misses the bound or the floor."""
        names = strength_column_names(self.data.group_labels)
        strengths = STRENGTH_GRID[list(kept.plan)]
        blended = None
        if kept.blend is not None:
            blended = max(kept.blend.weight, 1.0 - kept.blend.weight)
        warn_if_out_of_bound(
            self.scores,
            kept.score,
            dict(zip(names, strengths, strict=True)),
            self.settings.max_disparity,
            student=self.checks_students,
            longer=self.learner.train_longer,
            blended=blended,
            note=self._small_groups_note(),
        )

    def _small_groups_note(self):
        """A sentence naming groups too small to measure: their rates are
        noise, and one can set the disparity on its own."""
        data, smallest = self.data, self.triggers.min_group_size
        sizes = np.bincount(data.group_codes, minlength=len(data.group_labels))
        small = data.group_labels[sizes < max(smallest, 1)]
        if not len(small):
            return ""
        shown = list(small[:5])
        more = f" and {len(small) - 5} more" if len(small) > 5 else ""
        return (
            f" Groups {shown}{more} have fewer than min_group_size={smallest} "
            "rows: their rates are noise and can set the disparity alone; merge "
            "them with other groups."
        )

    def _table(self, kept):
        checked = None
        if self.checks_students:
            checked = {plan: t.score for plan, t in self.tried.items()}
        return plan_search_table(
            self.scores, self.data.group_labels, kept.plan, checked, kept.weights
        )

    def _held_out_scores(self, kept):
        if kept.blend is not None:
            scored = "blend of two students on the training rows (their labels unseen)"
        elif self.checks_students:
            scored = "student on the training rows (their labels unseen)"
        elif len(self.folds) > 1:
            scored = "teachers on held-out rows"
        else:
            scored = "teacher on its training rows (in-sample)"
        return held_out_scores(
            kept.score, self.settings.metric, self.settings.confidence, scored
        )
