"""Fit time of DwB around gradient boosting against one plain fit of it.

Run ``python benchmarks/estimator_cost.py``: on the benchmark's adult-sex
task (``run.load_task``: Adult's official split, encoded features with the
group indicator last), for each seed, one after the other in one process
with one OpenMP thread:

- a plain ``HistGradientBoostingClassifier`` (default settings);
- DwB with it as teacher and student (``estimator=``) at the fixed strength
  0.5;
- DwB ``trigger_strength="auto"``, ``auto_metric="equalized_odds_difference"``,
  ``max_disparity=0.03`` (defaults otherwise: ``cv=5``, ``confidence=0.9``).

It reports the ratios of fixed DwB to the plain fit (the limit is 3.5) and of
``"auto"`` to fixed DwB (the limit is 4), with the test accuracy and EOD of
each fit. Results go to ``benchmarks/results/estimator_cost.json``.
"""

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
from comparison.methods import evaluate  # benchmarks/ is first on sys.path
from comparison.report import environment  # benchmarks/ is first on sys.path
from comparison.tasks import load_task  # benchmarks/ is first on sys.path
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

from sklearn_dwb import BackdoorDebiasClassifier

AUTO = dict(
    trigger_strength="auto",
    auto_metric="equalized_odds_difference",
    max_disparity=0.03,
)

#: Files this script writes (in benchmarks/results, unless told otherwise); a
#: test checks that every file there is written by a script.
OUTPUTS = ("estimator_cost.json",)
CONFIGS = ("plain", "DwB, strength 0.5", "DwB, auto, EOD <= 0.03")


def _model(config, seed):
    estimator = HistGradientBoostingClassifier(random_state=seed)
    if config == "plain":
        return estimator
    params = dict(trigger_strength=0.5) if config == CONFIGS[1] else AUTO
    return BackdoorDebiasClassifier(
        estimator=estimator, sensitive_columns=[-1], random_state=seed, **params
    )


def _fit_and_score(config, seed, data):
    """Fit ``config`` at ``seed`` on the task's training rows: its fit time,
    test accuracy and EOD, whether it warned that no plan reaches the bound
    (and, for "auto", the strengths chosen and the students checked)."""
    X, X_test, y, y_test, _, groups_test = data
    model = _model(config, seed)
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X, y)
    seconds = time.perf_counter() - start
    scores = evaluate(y_test, model.predict(X_test), groups_test)
    run = {
        "config": config,
        "seed": seed,
        "fit_time_s": seconds,
        "accuracy": scores["accuracy"],
        "equalized_odds_difference": scores["equalized_odds_difference"],
        "warned": any("No plan reaches" in str(w.message) for w in caught),
    }
    if config == CONFIGS[2]:
        run["strengths"] = model.trigger_strength_.tolist()
        run["students"] = int(model.plan_search_["student_accuracy"].notna().sum())
    return run


def _ratios(runs):
    """Per seed, fixed DwB's fit time over the plain fit's, and "auto"'s over
    fixed DwB's."""
    times = {c: [r["fit_time_s"] for r in runs if r["config"] == c] for c in CONFIGS}
    return {
        "fixed DwB / plain": [
            f / p for p, f in zip(times[CONFIGS[0]], times[CONFIGS[1]], strict=True)
        ],
        "auto / fixed DwB": [
            a / f for f, a in zip(times[CONFIGS[1]], times[CONFIGS[2]], strict=True)
        ],
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument(
        "--output",
        default=str(Path(__file__).parent / "results" / "estimator_cost.json"),
    )
    args = parser.parse_args(argv)
    data = load_task("adult-sex", 0)
    runs = []
    with threadpool_limits(limits=1, user_api="openmp"):
        for seed in range(args.seeds):
            for config in CONFIGS:
                run = _fit_and_score(config, seed, data)
                runs.append(run)
                print(
                    f"seed {seed} {config}: {run['fit_time_s']:.1f} s, accuracy "
                    f"{run['accuracy']:.4f}, "
                    f"EOD {run['equalized_odds_difference']:.4f}",
                    flush=True,
                )
    ratios = _ratios(runs)
    summary = {
        "command": f"python benchmarks/estimator_cost.py --seeds {args.seeds}",
        "environment": f"{environment()}; 1 OpenMP thread",
        "runs": runs,
        "ratios": ratios,
        "mean_ratio": {name: float(np.mean(r)) for name, r in ratios.items()},
    }
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(summary, indent=1))
    for name, r in ratios.items():
        print(f"{name} per seed: {np.round(r, 2).tolist()}, mean {np.mean(r):.2f}")
    print(f"written: {args.output}")


if __name__ == "__main__":
    main()
