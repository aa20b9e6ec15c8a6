"""What a fit works on: the validated training data, its seeds, the
settings of the trigger plan, and a teacher at a plan (a candidate)."""

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state

from ._trigger import TriggerPlan


class TrainingData(NamedTuple):
    """Validated training inputs, groups and classes as integer codes."""

    X: np.ndarray  # float32 features (for a wrapped estimator, as given)
    classes: np.ndarray
    y_codes: np.ndarray
    group_labels: pd.Index
    group_codes: np.ndarray
    sample_weight: np.ndarray  # float32

    @property
    def shape(self):
        """(n_groups, n_classes): the shape of the bias matrix."""
        return len(self.group_labels), len(self.classes)

    @property
    def cell_codes(self):
        return self.group_codes * len(self.classes) + self.y_codes

    @property
    def labels(self):
        """skorch's ``y``: class codes and weights (the losses' targets)."""
        return {"label": self.y_codes.astype(np.int64), "weight": self.sample_weight}


class Seeds(NamedTuple):
    """One seed per random stage of a fit, drawn from ``random_state``."""

    stamp_seed: int  # rows stamped per cell, rows probed by the diagnostic
    split_seed: int  # validation split, folds
    teacher_seed: int  # teacher initialisation, shuffling, dropout
    student_seed: int  # student initialisation, shuffling, dropout

    @classmethod
    def draw(cls, random_state):
        rng = check_random_state(random_state)
        return cls(*rng.randint(np.iinfo(np.int32).max, size=4).tolist())


class TriggerSettings(NamedTuple):
    """How the rows are stamped: the target distribution, the smallest
    group that gets triggers, and the trigger's value."""

    target: str
    min_group_size: int
    value: float


class Candidate(NamedTuple):
    """A teacher and the trigger plan it stands for."""

    strength: object  # float, or a Series of per-group strengths
    plan: TriggerPlan
    teacher: object  # a skorch net or a scikit-learn classifier (or a list)
    clean_logits: np.ndarray  # the teacher's logits on clean rows
    clean_input: Callable  # rows -> the teacher's input for them, no trigger
    trigger_columns: np.ndarray  # teacher input column of each stamped cell
    plain: bool  # the teacher takes X as it is: nothing to distil


class FitResult(NamedTuple):
    """What a strategy (a fixed strength, "auto" without a bound, the search
    for a bound) hands the estimator: the candidate kept, its student where
    the strategy distilled one, ``plan_search_`` and ``held_out_scores_``
    where it has them."""

    candidate: Candidate
    student: object
    table: pd.DataFrame | None
    held_out_scores: pd.Series | None
    measures_triggers: bool  # False: no trigger to measure (reweighing)
