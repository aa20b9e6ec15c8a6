"""Measurement floor of the equalized-odds and demographic-parity differences
on the benchmark's test splits.

How large a test EOD does a classifier show whose true TPR and FPR are exactly
equal across groups, only because the test split is finite? And how large a
test DPD does one show whose true selection rate is the same in every group?
For every task and seed of ``benchmarks/run.py`` (same splits, via its
``load_task``):

1. fit ``LogisticRegression(max_iter=2000)`` on the training split and take
   its pooled TPR, FPR and selection rate (share predicted positive) on the
   test split (positive label: the larger of the two labels, 1 here, as
   fairlearn takes it);
2. draw ``--draws`` "exactly equalized-odds fair" classifiers on the test
   split: each row is predicted positive with probability TPR if its label is
   positive, FPR if negative, whatever its group
   (``numpy.random.default_rng(seed)``);
3. compute each draw's EOD (fairlearn's ``equalized_odds_difference``: the
   larger of the between-group TPR and FPR gaps) from per-group counts with
   ``numpy.bincount``, checked against fairlearn on the first draws;
4. then, from the same generator (after all the EOD draws, so those are the
   same as without this step), draw ``--draws`` "exactly demographic-parity
   fair" classifiers: each row is predicted positive with probability the
   pooled selection rate, whatever its group and label;
5. compute each of these draws' DPD (fairlearn's
   ``demographic_parity_difference``: the between-group gap in selection
   rate) from per-group counts with ``numpy.bincount``, checked against
   fairlearn on the first draws.

Writes the per-split mean, median, 90th and 95th percentile of the fair draws'
EOD (``floor_mean``, ``floor_median``, ``floor_p90``, ``floor_p95``) and DPD
(``dpd_floor_mean``, ``dpd_floor_median``, ``dpd_floor_p90``,
``dpd_floor_p95``), and a per-task summary (means over seeds), to
``benchmarks/results/noise_floor.json``. Run from the repository root:

    OMP_NUM_THREADS=1 SKLEARN_DWB_DATA=../shared/datasets \\
        python benchmarks/noise_floor.py
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from comparison.report import environment  # benchmarks/ is first on sys.path
from comparison.tasks import (  # benchmarks/ is first on sys.path
    TASKS,
    load_task,
    task_seeds,
)
from fairlearn.metrics import demographic_parity_difference, equalized_odds_difference
from sklearn.linear_model import LogisticRegression

#: Files this script writes (in benchmarks/results, unless told otherwise); a
#: test checks that every file there is written by a script.
OUTPUTS = ("noise_floor.json",)

N_CHECKED = 5  # draws per split checked against fairlearn


def eod_from_counts(y_pred, positive, codes, n_groups):
    """fairlearn's equalized-odds difference (between groups, max of the TPR
    and FPR gaps) of 0/1 predictions, from per-group counts."""
    tp = np.bincount(codes, weights=y_pred * positive, minlength=n_groups)
    fp = np.bincount(codes, weights=y_pred * ~positive, minlength=n_groups)
    p = np.bincount(codes, weights=positive, minlength=n_groups)
    n = np.bincount(codes, weights=~positive, minlength=n_groups)
    tpr, fpr = tp / p, fp / n
    return max(np.ptp(tpr), np.ptp(fpr))


def dpd_from_counts(y_pred, codes, n_groups):
    """fairlearn's demographic-parity difference (between groups: the gap
    between the largest and smallest selection rate) of 0/1 predictions,
    from per-group counts."""
    selected = np.bincount(codes, weights=y_pred, minlength=n_groups)
    size = np.bincount(codes, minlength=n_groups)
    return np.ptp(selected / size)


def _stats(values, prefix):
    return {
        f"{prefix}mean": float(values.mean()),
        f"{prefix}median": float(np.median(values)),
        f"{prefix}p90": float(np.percentile(values, 90)),
        f"{prefix}p95": float(np.percentile(values, 95)),
    }


def _eod_draws(rng, positive, p_row, g_test, draws, check):
    """EOD of ``draws`` equalized-odds-fair draws (row ``i`` predicted positive
    with probability ``p_row[i]``), the first ``N_CHECKED`` checked against
    fairlearn; ``check`` (task, seed) labels a failed check."""
    groups, codes = np.unique(g_test, return_inverse=True)
    eods = np.empty(draws)
    for i in range(draws):
        y_pred = (rng.random(len(positive)) < p_row).astype(int)
        eods[i] = eod_from_counts(y_pred, positive, codes, len(groups))
        if i < N_CHECKED:
            expected = equalized_odds_difference(
                positive.astype(int), y_pred, sensitive_features=g_test
            )
            assert abs(eods[i] - expected) <= 1e-12, (*check, i, eods[i])
    return eods


def _dpd_draws(rng, positive, selection_rate, g_test, draws, check):
    """DPD of ``draws`` demographic-parity-fair draws (every row predicted
    positive with probability ``selection_rate``), the first ``N_CHECKED``
    checked against fairlearn; ``check`` (task, seed) labels a failed check."""
    groups, codes = np.unique(g_test, return_inverse=True)
    dpds = np.empty(draws)
    for i in range(draws):
        y_pred = (rng.random(len(positive)) < selection_rate).astype(int)
        dpds[i] = dpd_from_counts(y_pred, codes, len(groups))
        if i < N_CHECKED:
            expected = demographic_parity_difference(
                positive.astype(int), y_pred, sensitive_features=g_test
            )
            assert abs(dpds[i] - expected) <= 1e-12, (*check, i, dpds[i])
    return dpds


def _group_counts(positive, g_test):
    """Test rows and positive test rows per group, keyed by the group's name."""
    groups, codes = np.unique(g_test, return_inverse=True)
    return {
        "group_sizes": {str(g): int((codes == k).sum()) for k, g in enumerate(groups)},
        "positives_per_group": {
            str(g): int(positive[codes == k].sum()) for k, g in enumerate(groups)
        },
    }


def noise_floor(task, seed, draws):
    """The fair draws' EOD and DPD statistics on one task's split ``seed``."""
    X_train, X_test, y_train, y_test, g_train, g_test = load_task(task, seed)
    pos_label = np.unique(y_test)[-1]
    model = LogisticRegression(max_iter=2000).fit(X_train, y_train)
    positive = y_test == pos_label
    predicted = model.predict(X_test) == pos_label
    tpr, fpr = predicted[positive].mean(), predicted[~positive].mean()
    rng = np.random.default_rng(seed)
    p_row = np.where(positive, tpr, fpr)
    eods = _eod_draws(rng, positive, p_row, g_test, draws, (task, seed))
    # demographic parity: after every EOD draw, from the same generator
    selection_rate = predicted.mean()
    dpds = _dpd_draws(rng, positive, selection_rate, g_test, draws, (task, seed))
    return {
        "task": task,
        "seed": seed,
        "rng_seed": seed,
        "n_test": len(y_test),
        **_group_counts(positive, g_test),
        "tpr": float(tpr),
        "fpr": float(fpr),
        "lr_eod": float(
            equalized_odds_difference(
                y_test, model.predict(X_test), sensitive_features=g_test
            )
        ),
        **_stats(eods, "floor_"),
        "selection_rate": float(selection_rate),
        "lr_dpd": float(
            demographic_parity_difference(
                y_test, model.predict(X_test), sensitive_features=g_test
            )
        ),
        **_stats(dpds, "dpd_floor_"),
    }


def _parse_args(argv):
    """The command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", choices=list(TASKS), default=list(TASKS))
    parser.add_argument(
        "--seeds",
        type=int,
        default=None,
        help="number of seeds (0, 1, ...) on every task (default: run.py's TASK_SEEDS)",
    )
    parser.add_argument("--draws", type=int, default=2000)
    parser.add_argument(
        "--output", default=str(Path(__file__).parent / "results" / "noise_floor.json")
    )
    return parser.parse_args(argv)


def _summary(rows, tasks):
    """Per task, the mean over its seeds of the summary statistics."""
    return {
        task: {
            stat: float(np.mean([r[stat] for r in rows if r["task"] == task]))
            for stat in (
                "floor_mean",
                "floor_p95",
                "lr_eod",
                "dpd_floor_mean",
                "dpd_floor_p95",
                "lr_dpd",
            )
        }
        for task in tasks
    }


def _result(argv, args, rows, summary, seconds):
    """The JSON document written to ``--output``."""
    return {
        "command": " ".join(["python benchmarks/noise_floor.py", *argv]),
        "environment": (
            f"{environment()}; OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}"
        ),
        "parameters": {
            "seeds": {task: list(task_seeds(task, args.seeds)) for task in args.tasks},
            "draws": args.draws,
            "model": "LogisticRegression(max_iter=2000)",
            "rng": (
                "numpy.random.default_rng(seed), one per task and seed: the EOD"
                " draws, then the DPD draws"
            ),
            "percentiles": "numpy.percentile, linear interpolation",
        },
        "run_time_s": seconds,
        "splits": rows,
        "summary_mean_over_seeds": summary,
    }


def _print_splits(rows):
    """Print the per-split table."""
    print(
        f"{'task':<12} {'seed':>4} {'n_test':>6} {'TPR':>6} {'FPR':>6} "
        f"{'mean':>6} {'median':>6} {'p90':>6} {'p95':>6} {'LR EOD':>6} "
        f"{'sel':>6} {'DPD mn':>6} {'DPD md':>6} {'DPD90':>6} {'DPD95':>6} "
        f"{'LR DPD':>6}"
    )
    for r in rows:
        print(
            f"{r['task']:<12} {r['seed']:>4} {r['n_test']:>6} {r['tpr']:>6.3f} "
            f"{r['fpr']:>6.3f} {r['floor_mean']:>6.3f} {r['floor_median']:>6.3f} "
            f"{r['floor_p90']:>6.3f} {r['floor_p95']:>6.3f} {r['lr_eod']:>6.3f} "
            f"{r['selection_rate']:>6.3f} {r['dpd_floor_mean']:>6.3f} "
            f"{r['dpd_floor_median']:>6.3f} {r['dpd_floor_p90']:>6.3f} "
            f"{r['dpd_floor_p95']:>6.3f} {r['lr_dpd']:>6.3f}"
        )


def _print_summary(summary, draws, seconds):
    """Print the per-task table of means over seeds."""
    print(f"\nmean over seeds ({draws} fair draws per split, {seconds:.1f} s):")
    print(
        f"{'task':<12} {'EOD floor mean':>14} {'EOD floor p95':>13} {'LR EOD':>8} "
        f"{'DPD floor mean':>14} {'DPD floor p95':>13} {'LR DPD':>8}"
    )
    for task, s in summary.items():
        print(
            f"{task:<12} {s['floor_mean']:>14.3f} {s['floor_p95']:>13.3f} "
            f"{s['lr_eod']:>8.3f} {s['dpd_floor_mean']:>14.3f} "
            f"{s['dpd_floor_p95']:>13.3f} {s['lr_dpd']:>8.3f}"
        )


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = _parse_args(argv)
    start = time.perf_counter()
    rows = []
    for task in args.tasks:
        for seed in task_seeds(task, args.seeds):
            rows.append(noise_floor(task, seed, args.draws))
    summary = _summary(rows, args.tasks)
    seconds = time.perf_counter() - start
    result = _result(argv, args, rows, summary, seconds)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(result, indent=2) + "\n")

    _print_splits(rows)
    _print_summary(summary, args.draws, seconds)
    print(f"results: {args.output}")
    return result


if __name__ == "__main__":
    main()
