"""Is FairGBM's lead on Adult the base booster's? Plain gradient boosting and
DwB around it under three settings of ``HistGradientBoostingClassifier``.

The benchmark's gradient-boosting rows (plain, DwB, reweighing, fairlearn)
use ``HistGradientBoostingClassifier()`` with its defaults: at most 100
iterations, stopped early on a tenth of the rows held out (scikit-learn
turns early stopping on above 10,000 rows). FairGBM's rows grow 200 trees
on every row. For each task and seed (``benchmarks/run.py``'s splits, via
its ``load_task``), in one process with one OpenMP thread, this fits

- the plain model and DwB at the fixed strength 0.5 (``estimator=``),
- with the defaults, with ``early_stopping=False`` (100 iterations on every
  row) and with ``early_stopping=False, max_iter=200``,

and writes the test accuracy, EOD and fit time of each, with the means over
the seeds, to ``benchmarks/studies/results/hgb_settings.json``. Run from the
repository root:

    OMP_NUM_THREADS=1 SKLEARN_DWB_DATA=../shared/datasets \\
        python benchmarks/studies/hgb_settings.py --tasks adult-sex adult-race --seeds 5
"""

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).parents[1]))
from comparison.methods import evaluate  # noqa: E402
from comparison.report import environment  # noqa: E402
from comparison.tasks import load_task  # noqa: E402

from sklearn_dwb import BackdoorDebiasClassifier  # noqa: E402

#: Files this script writes (in benchmarks/studies/results, unless told otherwise); a
#: test checks that every file there is written by a script.
OUTPUTS = ("hgb_settings.json",)

SETTINGS = {
    "defaults": {},
    "no early stopping": {"early_stopping": False},
    "no early stopping, 200 iterations": {"early_stopping": False, "max_iter": 200},
}


def _model(setting, dwb, seed):
    estimator = HistGradientBoostingClassifier(random_state=seed, **SETTINGS[setting])
    if not dwb:
        return estimator
    return BackdoorDebiasClassifier(
        estimator=estimator,
        sensitive_columns=[-1],  # load_task puts the group indicator last
        trigger_strength=0.5,
        random_state=seed,
    )


def _fit_and_score(task, seed, setting, dwb, data):
    """Fit the plain model or DwB (``dwb``) under ``setting`` on the split's
    training rows: its run (test accuracy, EOD and fit time)."""
    X, X_test, y, y_test, _, groups_test = data
    model = _model(setting, dwb, seed)
    start = time.perf_counter()
    model.fit(X, y)
    seconds = time.perf_counter() - start
    scores = evaluate(y_test, model.predict(X_test), groups_test)
    return {
        "task": task,
        "seed": seed,
        "setting": setting,
        "model": "DwB, strength 0.5" if dwb else "plain",
        "accuracy": scores["accuracy"],
        "equalized_odds_difference": scores["equalized_odds_difference"],
        "fit_time_s": seconds,
    }


def _means(runs):
    """The runs' mean accuracy, EOD and fit time per task, setting and model,
    keyed by "task | setting | model"."""
    columns = ["accuracy", "equalized_odds_difference", "fit_time_s"]
    means = (
        pd.DataFrame(runs)
        .groupby(["task", "setting", "model"], sort=False)[columns]
        .mean()
        .round(4)
    )
    return {" | ".join(key): value for key, value in means.to_dict("index").items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=["adult-sex", "adult-race"])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument(
        "--output",
        default=str(Path(__file__).parent / "results" / "hgb_settings.json"),
    )
    args = parser.parse_args(argv)
    runs = []
    with threadpool_limits(limits=1, user_api="openmp"), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for task in args.tasks:
            for seed in range(args.seeds):
                data = load_task(task, seed)
                for setting in SETTINGS:
                    for dwb in (False, True):
                        runs.append(_fit_and_score(task, seed, setting, dwb, data))
                        print(json.dumps(runs[-1]), flush=True)
    summary = _means(runs)
    for key, value in summary.items():
        print(key, value)
    report = {
        "command": "python benchmarks/studies/hgb_settings.py --tasks "
        + " ".join(args.tasks)
        + f" --seeds {args.seeds}",
        "environment": environment() + "; 1 OpenMP thread",
        "means": summary,
        "runs": runs,
    }
    Path(args.output).write_text(json.dumps(report, indent=2) + "\n")
    print("written:", args.output)


if __name__ == "__main__":
    main()
