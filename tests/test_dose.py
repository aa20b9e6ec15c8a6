"""The dose teacher's rows and inputs (``_dose.py``)."""

import numpy as np
import torch

from conftest import cells_of
from sklearn_dwb._dose import DoseSampler, dose_input, make_dose_rows, stamped_at
from sklearn_dwb._trigger import plan_stamps


def _plans(counts, strengths=None):
    """The global-target plan of a table of cell counts: the dose plan, or
    with ``strengths`` the fixed plan (both drawn from seed 0)."""
    groups, classes = cells_of(counts)
    common = dict(
        group_codes=groups,
        class_codes=classes,
        shape=counts.shape,
        weights=None,
        target="global",
        rng=np.random.default_rng(0),
    )
    if strengths is None:
        return make_dose_rows(**common)
    return plan_stamps(**common, strength=np.asarray(strengths))


def test_per_group_strengths_stamp_exact_counts_per_cell():
    counts = np.array([[300, 100], [80, 220], [150, 150]])
    groups, classes = cells_of(counts)
    strengths = np.array([0.5, 1.0, 2.0])
    plan = _plans(counts, strengths)
    # global target: 530 / 1000 of class 0; each group's excess cell
    p = counts.sum(axis=0) / counts.sum()
    m = (counts / p).min(axis=1, keepdims=True)
    excess = counts - m * p
    expected = np.rint(np.clip(strengths[:, None] * excess / counts, 0, 1) * counts)
    np.testing.assert_array_equal(plan.stamp_counts, expected)
    stamped_per_cell = np.bincount(
        (groups * 2 + classes)[plan.stamped], minlength=counts.size
    ).reshape(counts.shape)
    np.testing.assert_array_equal(stamped_per_cell, expected)


def test_dose_plan_stamps_what_the_fixed_plan_stamps_at_each_strength():
    counts = np.array([[300, 100], [80, 220]])
    groups, classes = cells_of(counts)
    dose_plan = _plans(counts)
    # every cell of a group with an excess: the over-represented ones are
    # stamped at positive strengths, the others at negative ones
    assert dose_plan.n_triggers == 4
    for strengths in (
        [0.0, 0.0],
        [0.3, 1.0],
        [1.0, 0.5],
        [2.0, 2.0],
        [-0.5, 0.4],
        [-1.0, -0.3],
    ):
        fixed = _plans(counts, strengths)
        dose = torch.tensor(strengths, dtype=torch.float32)[groups]
        stamped = stamped_at(dose_plan, dose).numpy()
        per_cell = np.bincount((groups * 2 + classes)[stamped], minlength=4)
        assert np.abs(per_cell - fixed.stamp_counts.ravel()).max() <= 1


def test_dose_input_and_sampler():
    counts = np.array([[30, 10], [8, 22]])
    groups, classes = cells_of(counts)
    plan = _plans(counts)
    X = torch.ones(len(groups), 3)
    dose = torch.full((len(groups),), 0.7)
    clean = dose_input(X, plan, dose, 10.0)
    assert clean.shape == (70, 3 + 2 + 4)
    np.testing.assert_allclose(
        clean[:, 3:5].numpy(), np.eye(2)[groups] * 0.7, rtol=1e-6
    )
    assert not clean[:, 5:].any()
    torch.manual_seed(0)
    y = {"label": torch.as_tensor(classes), "weight": torch.ones(70)}
    X_epoch, y_epoch = DoseSampler(plan, 10.0)(X, y)
    triggers = X_epoch[:, 5:].numpy()
    stamped = triggers.max(axis=1) > 0
    assert set(np.unique(triggers)) <= {0.0, 10.0}
    # a stamped row carries its own cell's trigger: the over-represented
    # cells (0 and 3) at positive doses, the others at negative ones
    cells = groups * 2 + classes
    doses = X_epoch[:, 3:5].numpy()[np.arange(70), groups]
    assert doses.min() >= -1 and doses.max() <= 2
    np.testing.assert_array_equal(np.flatnonzero(triggers[stamped]) % 4, cells[stamped])
    over = np.isin(cells, [0, 3])
    assert np.all(doses[stamped & over] > 0) and np.all(doses[stamped & ~over] < 0)
    # reweighing: the dose scales each cell's weight towards P(g)P(y)/P(g,y)
    _, y_weighted = DoseSampler(plan, 10.0, "reweigh")(X, y, dose=torch.ones(70))
    share = counts / counts.sum()
    expected = share.sum(axis=1)[:, None] * share.sum(axis=0) / share
    np.testing.assert_allclose(
        y_weighted["weight"].numpy(), expected[groups, classes], rtol=1e-6
    )
