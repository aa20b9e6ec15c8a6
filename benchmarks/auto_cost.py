"""Fit time of ``trigger_strength="auto"`` with a bound against a fixed strength.

Run ``python benchmarks/auto_cost.py``: on the benchmark's adult-sex task
(``run.load_task``, the estimator as ``run.py`` builds it), for each seed, one
fit at ``trigger_strength=1`` and one with ``trigger_strength="auto"``,
``auto_metric="equalized_odds_difference"``, ``max_disparity=0.03`` (the
default ``cv=5`` cross-fitted dose teachers, and ``cv=None``, one dose
teacher), one after the other in one process with one torch thread, and the
ratio of their wall times to the fixed strength's. Results go to
``benchmarks/results/auto_cost.json``.
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from comparison.methods import evaluate, network  # benchmarks/ is first on sys.path
from comparison.report import environment  # benchmarks/ is first on sys.path
from comparison.tasks import load_task  # benchmarks/ is first on sys.path

#: Files this script writes (in benchmarks/results, unless told otherwise); a
#: test checks that every file there is written by a script.
OUTPUTS = ("auto_cost.json",)

CONFIGS = {
    "fixed strength 1": dict(trigger_strength=1.0),
    "auto, EOD <= 0.03": dict(
        trigger_strength="auto",
        auto_metric="equalized_odds_difference",
        max_disparity=0.03,
    ),
    "auto, EOD <= 0.03, cv=None": dict(
        trigger_strength="auto",
        auto_metric="equalized_odds_difference",
        max_disparity=0.03,
        cv=None,
    ),
}


def _fit_and_score(name, seed, data):
    """Fit configuration ``name`` at ``seed`` on the task's training rows: its
    fit time and test accuracy, EOD and DPD."""
    X, X_test, y, y_test, _, groups_test = data
    model = network(seed, **CONFIGS[name])
    start = time.perf_counter()
    model.fit(X, y)
    seconds = time.perf_counter() - start
    scores = evaluate(y_test, model.predict(X_test), groups_test)
    run = {"config": name, "seed": seed, "fit_time_s": seconds}
    for metric in (
        "accuracy",
        "equalized_odds_difference",
        "demographic_parity_difference",
    ):
        run[metric] = scores[metric]
    return run


def _ratios(runs):
    """Per "auto" configuration, its fit time over the fixed strength's, per
    seed."""
    times = {
        name: [r["fit_time_s"] for r in runs if r["config"] == name] for name in CONFIGS
    }
    return {
        name: [
            a / f for f, a in zip(times["fixed strength 1"], times[name], strict=True)
        ]
        for name in CONFIGS
        if name != "fixed strength 1"
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument(
        "--output", default=str(Path(__file__).parent / "results" / "auto_cost.json")
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    # the benchmark's adult-sex task (Adult's official split, whatever the seed)
    data = load_task("adult-sex", 0)
    runs = []
    for seed in range(args.seeds):
        for name in CONFIGS:
            run = _fit_and_score(name, seed, data)
            runs.append(run)
            print(
                f"seed {seed} {name}: {run['fit_time_s']:.1f} s, accuracy "
                f"{run['accuracy']:.4f}, EOD {run['equalized_odds_difference']:.4f}",
                flush=True,
            )
    ratios = _ratios(runs)
    summary = {
        "command": "python benchmarks/auto_cost.py --seeds " + str(args.seeds),
        "environment": f"{environment()}; 1 torch thread",
        "runs": runs,
        "over_fixed_fit_time": ratios,
        "mean_ratio": {name: float(np.mean(r)) for name, r in ratios.items()},
    }
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(summary, indent=1))
    for name, r in ratios.items():
        print(f"{name} / fixed fit time per seed: {np.round(r, 2).tolist()}")
    print(f"written: {args.output}")


if __name__ == "__main__":
    main()
