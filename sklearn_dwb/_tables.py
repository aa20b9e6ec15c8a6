"""The fitted tables of a search: ``plan_search_`` and ``held_out_scores_``,
built here and nowhere else."""

import numpy as np
import pandas as pd

from ._tuning import MAX_STRENGTH_COLUMNS


def strength_column_names(group_labels):
    """``plan_search_``'s column of each group's strength: ``strength[<group>]``."""
    return [
        "strength[" + (", ".join(map(str, g)) if isinstance(g, tuple) else str(g)) + "]"
        for g in group_labels
    ]


def named_scores(score, metric, bounded):
    """A score's values under ``plan_search_``'s column names (the bounds
    only with a confidence level)."""
    names = {"accuracy": score.accuracy}
    if bounded:
        names["accuracy_lower"] = score.accuracy_lower
        names["accuracy_upper"] = score.accuracy_upper
    names[metric] = score.disparity
    if bounded:
        names[metric + "_lower"] = score.disparity_lower
        names[metric + "_upper"] = score.disparity_upper
    return names


def held_out_scores(score, metric, confidence, scored):
    """``held_out_scores_``: the kept model's score, named as in
    ``plan_search_``, the confidence level (NaN without one) and what was
    ``scored``."""
    return pd.Series(
        {
            **named_scores(score, metric, confidence is not None),
            "confidence": np.nan if confidence is None else confidence,
            "scored": scored,
        },
        name="held_out_scores",
        dtype=object,
    )


def _strength_columns(strengths, group_labels):
    """Each plan's strength per group, or with many groups a summary."""
    if len(group_labels) <= MAX_STRENGTH_COLUMNS:
        return pd.DataFrame(strengths, columns=strength_column_names(group_labels))
    # a column per group would dwarf the rest: a summary per plan
    return pd.DataFrame(
        {
            "strength_min": strengths.min(axis=1),
            "strength_mean": strengths.mean(axis=1),
            "strength_max": strengths.max(axis=1),
        }
    )


def plan_search_table(scores, group_labels, chosen, checked=None, weights=None):
    """``plan_search_`` of a search for a bound: one row per plan scored, by
    the teachers' held-out predictions (``scores``, a
    :class:`~sklearn_dwb._plan_scores.PlanScores`, before any shift), with
    the scores of the students ``checked`` (plan -> PlanScore) where a
    student was distilled, with ``weights`` (plan -> weight) each checked
    student's weight in the model kept, and which plan was ``chosen``."""
    checked = checked or {}
    teacher = dict(scores.teacher_scores)
    teacher.update((plan, scores.teacher_score(plan)) for plan in checked)
    plans = list(teacher)
    bounded, metric = scores.z is not None, scores.metric
    strengths = np.asarray(scores.grid)[np.asarray(plans)]
    table = pd.concat(
        [
            _strength_columns(strengths, group_labels),
            pd.DataFrame([named_scores(teacher[p], metric, bounded) for p in plans]),
        ],
        axis=1,
    )
    if checked:
        student = [checked.get(plan) for plan in plans]
        columns = {"student_accuracy": "accuracy", "student_" + metric: "disparity"}
        if bounded:
            columns["student_" + metric + "_upper"] = "disparity_upper"
        for column, field in columns.items():
            table[column] = [
                np.nan if s is None else getattr(s, field) for s in student
            ]
    if weights is not None:
        table["student_weight"] = [
            weights.get(plan, 0.0) if plan in checked else np.nan for plan in plans
        ]
    table["selected"] = [plan == chosen for plan in plans]
    return table


def strength_search_table(strengths, scores, group_labels, metric, tolerance):
    """``plan_search_`` of ``trigger_strength="auto"`` without a bound: one
    row per strength (the same for every group) with its validation
    ``scores`` (accuracy, disparity), and the strength chosen: the smallest
    disparity among those within ``tolerance`` of the best accuracy (ties:
    the smaller strength)."""
    columns = strength_column_names(group_labels)
    table = pd.DataFrame(
        [
            {
                **dict.fromkeys(columns, strength),
                "accuracy": accuracy,
                metric: disparity,
            }
            for strength, (accuracy, disparity) in zip(strengths, scores, strict=True)
        ]
    )
    eligible = table["accuracy"] >= table["accuracy"].max() - tolerance
    # idxmin takes the first of equals: the smallest strength
    table["selected"] = table.index == table.loc[eligible, metric].idxmin()
    return table
