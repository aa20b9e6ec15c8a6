"""Does the bound hold on the benchmark's test splits? DwB beside fairlearn.

For every task and seed of ``benchmarks/run.py`` (the same splits), the share
of fits whose test disparity is within the bound they were given, for:

- DwB's plan search, ``max_disparity`` = the bound, ``confidence`` None and
  0.9 (the rows ``dwb_auto_eod_0.03``, ``dwb_auto_eod_0.03_confidence_0.9``,
  ``dwb_auto_dpd_0.02`` and ``dwb_auto_dpd_0.02_confidence_0.9`` of
  ``docs/benchmarks/results.csv``: run the benchmark first);
- fairlearn's ``ExponentiatedGradient`` over ``LogisticRegression`` with
  ``difference_bound`` = the bound (``EqualizedOdds`` for EOD <= 0.03,
  ``DemographicParity`` for DPD <= 0.02), fitted here;
- fairlearn's ``ThresholdOptimizer`` over ``LogisticRegression`` with the
  matching constraint (it uses the group at predict time), fitted here.

Next to each task, the test EOD that exactly fair classifiers show on its
splits (``benchmarks/results/noise_floor.json``: mean and 95th percentile).
The fairlearn fits go to ``benchmarks/results/coverage_real.csv``, the
summary to ``benchmarks/results/coverage_real.json``; splits already in the
CSV are not fitted again (delete a task's rows after its splits change). Run
from the repository root:

    OMP_NUM_THREADS=1 python benchmarks/coverage_real.py
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
from comparison.methods import evaluate  # benchmarks/ is first on sys.path
from comparison.report import environment  # benchmarks/ is first on sys.path
from comparison.tasks import load_task, task_seeds  # benchmarks/ is first on sys.path
from sklearn.linear_model import LogisticRegression

#: Files this script writes (in benchmarks/results, unless told otherwise); a
#: test checks that every file there is written by a script.
OUTPUTS = (
    "coverage_real.csv",
    "coverage_real.json",
)

RESULTS = Path(__file__).parent / "results"
BENCHMARK = Path(__file__).parents[1] / "docs" / "benchmarks" / "results.csv"
BOUNDS = {
    "equalized_odds_difference": ("eod", 0.03, "EqualizedOdds", "equalized_odds"),
    "demographic_parity_difference": (
        "dpd",
        0.02,
        "DemographicParity",
        "demographic_parity",
    ),
}


def fairlearn_fits(task, seed):
    from fairlearn import reductions
    from fairlearn.postprocessing import ThresholdOptimizer

    X, X_test, y, y_test, g, g_test = load_task(task, seed)
    X, X_test = X.astype(np.float64), X_test.astype(np.float64)
    rows = []
    for metric, (short, bound, constraint, post) in BOUNDS.items():
        models = {
            f"eg_{short}_{bound:g}_lr": reductions.ExponentiatedGradient(
                LogisticRegression(max_iter=2000),
                constraints=getattr(reductions, constraint)(difference_bound=bound),
            ),
            f"threshold_{short}_lr": ThresholdOptimizer(
                estimator=LogisticRegression(max_iter=2000),
                constraints=post,
                predict_method="predict_proba",
            ),
        }
        for name, model in models.items():
            start = time.perf_counter()
            model.fit(X, y, sensitive_features=g)
            seconds = time.perf_counter() - start
            if name.startswith("threshold"):
                y_pred = model.predict(
                    X_test, sensitive_features=g_test, random_state=seed
                )
            else:
                y_pred = model.predict(X_test, random_state=seed)
            scores = evaluate(y_test, np.asarray(y_pred), g_test)
            rows.append(
                {
                    "task": task,
                    "method": name,
                    "seed": seed,
                    "metric": metric,
                    "bound": bound,
                    "accuracy": scores["accuracy"],
                    "disparity": scores[metric],
                    "fit_time_s": seconds,
                }
            )
    return rows


def dwb_rows(benchmark):
    rows = []
    for metric, (short, bound, _, _) in BOUNDS.items():
        for suffix in ("", "_confidence_0.9"):
            method = f"dwb_auto_{short}_{bound:g}{suffix}"
            part = benchmark[benchmark["method"] == method]
            rows += [
                {
                    "task": r.task,
                    "method": method,
                    "seed": r.seed,
                    "metric": metric,
                    "bound": bound,
                    "accuracy": r.accuracy,
                    "disparity": getattr(r, metric),
                    "fit_time_s": r.fit_time_s,
                }
                for r in part.itertuples()
            ]
    return pd.DataFrame(rows)


def _parse_args(argv):
    """The command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seeds",
        type=int,
        default=None,
        help="number of seeds (0, 1, ...) on every task (default: run.py's TASK_SEEDS)",
    )
    parser.add_argument("--benchmark", default=str(BENCHMARK))
    parser.add_argument(
        "--reuse-fits",
        action="store_true",
        help="read the fairlearn fits from coverage_real.csv and fit no "
        "missing split (after a benchmark re-run of DwB's rows)",
    )
    return parser.parse_args(argv)


def _fairlearn_table(splits, reuse_fits):
    """The fairlearn fits of coverage_real.csv; unless ``reuse_fits``, the
    ``splits`` missing there are fitted first and the CSV rewritten."""
    path = RESULTS / "coverage_real.csv"
    fits = (
        pd.read_csv(path) if path.exists() else pd.DataFrame(columns=["task", "seed"])
    )
    if not reuse_fits:
        # resumable: the splits already fitted are kept
        done = set(zip(fits["task"], fits["seed"], strict=True))
        new = [
            row
            for task, seed in sorted(splits - done)
            for row in fairlearn_fits(task, seed)
        ]
        fits = pd.concat([fits, pd.DataFrame(new)], ignore_index=True)
        fits.to_csv(path, index=False)
    return fits


def _summary(table):
    """Per metric, task and method: fits, fits within the bound, mean
    disparity and accuracy, with each task's EOD noise floor (mean and 95th
    percentile, from noise_floor.json)."""
    table["within"] = table["disparity"] <= table["bound"]
    summary = (
        table.groupby(["metric", "task", "method"])
        .agg(
            fits=("seed", "size"),
            within_bound=("within", "sum"),
            mean_disparity=("disparity", "mean"),
            mean_accuracy=("accuracy", "mean"),
        )
        .reset_index()
    )
    floor = json.loads((RESULTS / "noise_floor.json").read_text())
    floors = pd.DataFrame(floor["splits"]).groupby("task")
    summary["eod_floor_mean"] = summary["task"].map(floors["floor_mean"].mean())
    summary["eod_floor_p95"] = summary["task"].map(floors["floor_p95"].mean())
    return summary


def main(argv=None):
    args = _parse_args(argv)
    dwb = dwb_rows(pd.read_csv(args.benchmark))
    # the splits DwB's rows were run on (every task's seeds by default)
    splits = {
        (task, seed)
        for task, seed in zip(dwb["task"], dwb["seed"], strict=True)
        if seed in task_seeds(task, args.seeds)
    }
    fits = _fairlearn_table(splits, args.reuse_fits)
    table = pd.concat([fits, dwb])
    table = table[
        [(t, s) in splits for t, s in zip(table["task"], table["seed"], strict=True)]
    ]
    summary = _summary(table)
    print(summary.round(4).to_string(index=False))
    report = {
        "command": "python benchmarks/coverage_real.py " + " ".join(argv or []),
        "environment": environment(),
        "summary": summary.to_dict(orient="records"),
    }
    (RESULTS / "coverage_real.json").write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
