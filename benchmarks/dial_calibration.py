"""Does a strength mean the same in the plan search's dial as in a fixed fit?

For each task and seed of ``benchmarks/run.py`` (training split only), the
rows are split into 5 folds once (stratified by (group, class) cell). Then:

- the dial: ``trigger_strength="auto"`` with ``max_disparity`` and those
  folds as ``cv``; ``plan_search_`` gives the held-out accuracy and
  equalized-odds difference of the dose teachers at every plan, read here
  at strength 0 and 1 for every group;
- fixed fits: for strength 0 (the plain network) and 1, one fit per fold
  on the other folds, each predicting its held-out fold; the pooled
  held-out predictions are scored like the dial's. With ``--fixed-seeds
  k``, the fixed fits are repeated from k model seeds: their range is how
  far two fixed fits that differ only in their seed are apart.

- the dial's students (``--students``): the same search made to distil
  its first student at strength 0 (then 1) for every group, with no bound
  to miss, so that student is kept; its scores are those the search's
  check gives a student (on the training rows, whose labels it never
  learned: ``held_out_scores_``). A plan's scores in ``plan_search_`` are
  its fold teachers'; the student is the model a plan gives.

The differences (dial minus fixed) go to
``benchmarks/results/dial_calibration.json``. Run from the repository root:

    OMP_NUM_THREADS=1 python benchmarks/dial_calibration.py

``--estimator hgb`` measures the dial of DwB around
``HistGradientBoostingClassifier`` (``estimator=``) instead of the network;
its results go to ``dial_calibration_hgb.json``.
"""

import argparse
import json
import sys
import time
import warnings
from pathlib import Path
from unittest import mock

import numpy as np
from run import environment, load_task, network  # benchmarks/ is first
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import StratifiedKFold

from sklearn_dwb._disparity import disparity_from_rates, group_rates
from sklearn_dwb._dose import DOSE_GRID, PlanSearch

RESULTS = Path(__file__).parent / "results"
METRIC = "equalized_odds_difference"


def scores(y_codes, y_pred, group_codes, n_groups):
    rates = group_rates(y_codes, y_pred, group_codes, n_groups, 2)
    return {
        "accuracy": float(np.mean(y_pred == y_codes)),
        METRIC: float(disparity_from_rates(METRIC, rates)),
    }


def _model(seed, estimator, **params):
    if estimator == "hgb":
        params["estimator"] = HistGradientBoostingClassifier()
    return network(seed, **params)


def _dial(X, y, folds, seed, estimator, max_disparity):
    """The search for ``max_disparity`` on the given folds, fitted (its
    warnings silenced)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return _model(
            seed,
            estimator,
            trigger_strength="auto",
            auto_metric=METRIC,
            max_disparity=max_disparity,
            cv=folds,
        ).fit(X, y)


def dial_student(X, y, folds, seed, estimator, strength):
    """Accuracy and disparity of the dial's student at ``strength`` for every
    group, as the search's check scores it: the search's first plan is
    replaced by that one (every plan is still scored), and with
    ``max_disparity=1`` its student passes the check and is kept."""
    index = int(np.flatnonzero(np.isclose(DOSE_GRID, strength))[0])
    run = PlanSearch.run

    def forced(search, n_groups, max_disparity, exclude=()):
        run(search, n_groups, max_disparity, exclude)
        return (index,) * n_groups

    with mock.patch.object(PlanSearch, "run", forced):
        model = _dial(X, y, folds, seed, estimator, max_disparity=1.0)
    assert np.allclose(model.trigger_strength_, strength)
    scores = model.held_out_scores_
    assert scores["scored"].startswith("student on the training rows")
    return {name: float(scores[name]) for name in ("accuracy", METRIC)}


def calibration(task, seed, estimator="network", fixed_seeds=1, students=False):
    import torch

    torch.set_num_threads(1)
    X, _, y, _, groups, _ = load_task(task, seed)
    classes, y_codes = np.unique(y, return_inverse=True)
    labels, group_codes = np.unique(groups, return_inverse=True)
    cells = group_codes * 2 + y_codes
    folds = list(StratifiedKFold(5, shuffle=True, random_state=seed).split(X, cells))
    start = time.perf_counter()
    dial = _dial(X, y, folds, seed, estimator, max_disparity=0.03)
    dial_seconds = time.perf_counter() - start
    search = dial.plan_search_
    strength_columns = [c for c in search.columns if c.startswith("strength[")]
    row = {
        "task": task,
        "seed": seed,
        "estimator": estimator,
        "dial_fit_s": dial_seconds,
    }
    for strength in (0.0, 1.0):
        at = search[(search[strength_columns] == strength).all(axis=1)].iloc[0]
        student = (
            dial_student(X, y, folds, seed, estimator, strength) if students else None
        )
        fixed = []
        for model_seed in range(seed, seed + fixed_seeds):
            held_out = np.empty(len(y), dtype=object)
            for fit_rows, test_rows in folds:
                model = _model(model_seed, estimator, trigger_strength=strength)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", UserWarning)
                    model.fit(X[fit_rows], y[fit_rows])
                held_out[test_rows] = model.predict(X[test_rows])
            y_pred = np.searchsorted(classes, held_out.astype(classes.dtype))
            fixed.append(scores(y_codes, y_pred, group_codes, len(labels)))
        for name in ("accuracy", METRIC):
            values = [f[name] for f in fixed]
            row[f"fixed_{strength:g}_{name}"] = values[0]
            if fixed_seeds > 1:
                # the same fixed fits, trained from other seeds: how far two
                # fixed fits are apart
                row[f"fixed_{strength:g}_{name}_seeds"] = values
                row[f"fixed_{strength:g}_{name}_range"] = max(values) - min(values)
            # the dial's plan, and its student: each minus the first fixed
            # fit and, with more seeds, minus their mean
            dial = {"": float(at[name])}
            if student is not None:
                dial["student_"] = student[name]
            for prefix, value in dial.items():
                row[f"dial_{prefix}{strength:g}_{name}"] = value
                row[f"{prefix}difference_{strength:g}_{name}"] = value - values[0]
                if fixed_seeds > 1:
                    row[f"{prefix}difference_to_mean_{strength:g}_{name}"] = (
                        value - float(np.mean(values))
                    )
    print(json.dumps(row), flush=True)
    return row


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=["adult-sex", "compas-race"])
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--estimator", choices=["network", "hgb"], default="network")
    parser.add_argument(
        "--fixed-seeds",
        type=int,
        default=1,
        help="fixed fits per strength, from that many model seeds (their "
        "spread is the noise of training a model)",
    )
    parser.add_argument(
        "--students",
        action="store_true",
        help="also score the dial's student at each strength, as the "
        "search's check does",
    )
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    rows = [
        calibration(task, seed, args.estimator, args.fixed_seeds, args.students)
        for task in args.tasks
        for seed in range(args.seeds)
    ]
    report = {
        "command": "python benchmarks/dial_calibration.py " + " ".join(argv),
        "environment": environment(),
        "criterion": "dial within 0.02 (disparity) and 0.005 (accuracy) of the "
        "5-fold fixed fits at strength 0 and 1",
        "rows": rows,
    }
    name = "dial_calibration.json"
    if args.estimator == "hgb":
        name = "dial_calibration_hgb.json"
    (RESULTS / name).write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
