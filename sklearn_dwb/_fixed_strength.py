"""A fixed strength, and ``trigger_strength="auto"`` without a bound: a
teacher per strength on stamped rows, one strength for every group, chosen
on the validation rows."""

import numpy as np

from ._data import Candidate
from ._disparity import one_vs_rest_disparity
from ._folds import check_validation_holds_every_group
from ._tables import strength_search_table
from ._trigger import plan_stamps, trigger_matrix
from .utils._frames import take_rows


def stamp_plan(data, strength, seed, triggers):
    """Steps 1 and 2 at one strength, or one per group: the bias matrix and
    the rows stamped in each cell."""
    return plan_stamps(
        group_codes=data.group_codes,
        class_codes=data.y_codes,
        shape=data.shape,
        weights=data.sample_weight,
        target=triggers.target,
        strength=strength,
        rng=np.random.default_rng(seed),
        min_group_size=triggers.min_group_size,
    )


def fit_teacher(learner, data, strength, seeds, rows, triggers, label):
    """Steps 1 to 3: plan the stamps, train the teacher on stamped rows."""
    plan = stamp_plan(data, strength, seeds.stamp_seed, triggers)
    stamps = trigger_matrix(plan, data.cell_codes, triggers.value)
    X_teacher = learner.append(data.X, stamps)
    teacher = learner.fit_teacher(data, X_teacher, seeds.teacher_seed, rows, label)
    del X_teacher
    n_triggers = stamps.shape[1]

    def clean_input(index):
        return learner.append(take_rows(data.X, index), n_triggers)

    logits = learner.logits(teacher, clean_input(slice(None)))
    columns = data.X.shape[1] + np.arange(n_triggers)
    return Candidate(
        strength, plan, teacher, logits, clean_input, columns, n_triggers == 0
    )


def fit_strength(learner, data, strength, seeds, rows, triggers):
    """A teacher at the user's fixed strength."""
    return fit_teacher(learner, data, strength, seeds, rows, triggers, "teacher")


def search_strength(learner, data, seeds, rows, triggers, strengths, rule):
    """``trigger_strength="auto"`` without a bound: a teacher per strength,
    scored on the validation rows; the chosen candidate and
    ``plan_search_``. ``rule`` holds the metric, the accuracy tolerance and
    the validation fraction."""
    metric, tolerance, fraction = rule
    check_validation_holds_every_group(
        fraction, rows.valid, data.group_codes, data.group_labels
    )
    candidates = [
        fit_teacher(
            learner,
            data,
            strength,
            seeds,
            rows,
            triggers,
            f"teacher (strength {strength:g})",
        )
        for strength in strengths
    ]
    table = strength_search_table(
        strengths,
        [_validation_scores(c, data, rows.valid, metric) for c in candidates],
        data.group_labels,
        metric,
        tolerance,
    )
    return candidates[int(np.flatnonzero(table["selected"])[0])], table


def _validation_scores(candidate, data, valid_rows, metric):
    """A teacher's accuracy and disparity on the clean validation rows."""
    y_true = data.y_codes[valid_rows]
    weight = data.sample_weight[valid_rows]
    y_pred = candidate.clean_logits[valid_rows].argmax(axis=1)
    disparity = one_vs_rest_disparity(
        metric,
        y_true,
        y_pred,
        data.group_codes[valid_rows],
        len(data.classes),
        weight,
    )
    return np.average(y_pred == y_true, weights=weight), disparity
