"""The dose teacher: one teacher for every plan, each row's strength an input.

A fixed plan stamps ``strength`` times each over-represented cell's excess.
The dose teacher learns every strength at once: each epoch, every training
row draws a *dose*, a strength in ``[DOSE_LOW, DOSE_HIGH]`` (-1 to 2) given
to the teacher as an input column of the row's group, and the row carries
its cell's trigger when its place in the cell (a fixed random rank in (0,
1)) is below the cell's rate at that strength (a negative strength stamps
the other cells of the group: :func:`~sklearn_dwb._trigger.reverse_rates`).
Evaluated on clean rows with the dose ``s_g`` for group ``g``, the teacher
behaves as if trained on the plan of per-group strengths ``s_g``, so plans
are scored with forward passes instead of one fit each. "Dose" names that
input and nothing else; the quantity is the strength.
"""

from typing import NamedTuple

import numpy as np
import torch

from ._trigger import (
    cell_ranks,
    cell_rates,
    rates_at,
    target_distribution,
    trigger_column_of_cell,
)
from ._tuning import DOSE_HIGH, DOSE_LOW, STRENGTH_GRID


def draw_doses(n, generator=None):
    """``n`` doses, uniform on ``[DOSE_LOW, DOSE_HIGH]``."""
    draw = torch.rand(n, generator=generator, dtype=torch.float32)
    return DOSE_LOW + draw * (DOSE_HIGH - DOSE_LOW)


class DoseRows(NamedTuple):
    """What the dose teacher needs of each row to stamp it at any strength:
    its group, its cell's share stamped per unit strength, its rank in the
    cell, its trigger column and reweighing weight."""

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
        """The description of some of the rows."""
        per_row = [a[index] for a in self[:6]]
        return DoseRows(*per_row, self.trigger_cells, self.n_groups)


def make_dose_rows(
    *, group_codes, class_codes, shape, weights, target, rng, min_group_size=0
):
    """The dose rows of a target: per row, its cell's excess share and rank.

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
    return DoseRows(
        group_codes=group_codes,
        unit_rate=unit_rate.ravel()[cells],
        group_rate=group_rate[group_codes, 0],
        rank=rank,
        trigger_column=column_of_cell[cells],
        reweigh=reweigh.ravel()[cells],
        trigger_cells=trigger_cells,
        n_groups=n_groups,
    )


def dose_input(X, dose_rows, dose, value, stamped=None):
    """The dose teacher's input: ``[X | dose in the group's column | triggers]``.

    Parameters
    ----------
    X : tensor or ndarray of shape (n_samples, n_features)
    dose_rows : DoseRows
        The description of these rows.
    dose : tensor or ndarray of shape (n_samples,)
        Each row's dose (strength).
    value : float
        The trigger's value.
    stamped : tensor of bool or None
        Rows that carry their cell's trigger; None: no trigger (clean rows).
    """
    X = torch.as_tensor(X)
    columns = dose_columns(dose_rows, dose, value, stamped, X.dtype, X.device)
    return torch.cat([X, columns], dim=1)


def dose_columns(
    dose_rows, dose, value, stamped=None, dtype=torch.float32, device=None
):
    """The columns :func:`dose_input` appends to ``X``: ``[dose in the
    group's column | triggers]``, a tensor of shape (n_samples, n_groups +
    n_triggers) (a scikit-learn teacher's frame gets them as they are)."""
    n_rows = len(dose_rows.group_codes)
    rows = torch.arange(n_rows)
    doses = torch.zeros((n_rows, dose_rows.n_groups), dtype=dtype, device=device)
    group = torch.as_tensor(dose_rows.group_codes)
    doses[rows, group] = torch.as_tensor(dose, dtype=dtype)
    triggers = torch.zeros((n_rows, dose_rows.n_triggers), dtype=dtype, device=device)
    if stamped is not None:
        column = torch.as_tensor(dose_rows.trigger_column)
        stamped = stamped & (column >= 0)
        triggers[rows[stamped], column[stamped]] = value
    return torch.cat([doses, triggers], dim=1)


def stamped_at(dose_rows, dose):
    """Rows that carry their trigger at these doses (a tensor of bool)."""
    dose = torch.as_tensor(dose, dtype=torch.float32)
    unit = torch.as_tensor(dose_rows.unit_rate, dtype=torch.float32)
    group = torch.as_tensor(dose_rows.group_rate, dtype=torch.float32)
    rate = rates_at(unit, group, dose)
    return torch.as_tensor(dose_rows.rank, dtype=torch.float32) < rate


class DoseSampler:
    """Each epoch's training rows of the dose teacher (a batch iterator's
    ``epoch_transform``): fresh doses from the training's generator (torch's
    global one if None), and the triggers, or with ``mechanism="reweigh"``
    the row weights, they imply."""

    def __init__(self, dose_rows, value, mechanism="trigger"):
        self.dose_rows = dose_rows
        self.value = value
        self.mechanism = mechanism

    def __call__(self, X, y, dose=None, generator=None):
        rows = self.dose_rows
        if dose is None:
            dose = draw_doses(len(X), generator)
        if self.mechanism == "trigger":
            return dose_input(X, rows, dose, self.value, stamped_at(rows, dose)), y
        reweigh = torch.as_tensor(rows.reweigh, dtype=torch.float32)
        factor = torch.clamp(1.0 + dose * (reweigh - 1.0), min=0.0)
        return dose_input(X, rows, dose, self.value), {
            **y,
            "weight": y["weight"] * factor,
        }


def dose_predictions(teacher, X, dose_rows, grid=STRENGTH_GRID):
    """Predicted class codes of clean rows at each strength of ``grid``:
    an array of shape (len(grid), n_samples)."""
    X = torch.as_tensor(X)
    return np.stack(
        [
            teacher.forward(
                dose_input(
                    X, dose_rows, torch.full((len(X),), dose, dtype=X.dtype), 0.0
                )
            )
            .argmax(dim=1)
            .numpy()
            for dose in grid
        ]
    )
