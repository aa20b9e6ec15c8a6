"""Does ``max_disparity`` hold on new data? Coverage of the plan search's bound.

Synthetic study: for every seed, ``make_biased_classification`` draws
``--n-train`` training rows and a population of ``--n-population`` rows
(1,000,000 by default: its disparity is known to about 0.002). For each bound
(EOD <= 0.03, DPD <= 0.02) and each ``confidence`` (None, 0.5, 0.8, 0.9,
0.95), ``BackdoorDebiasClassifier(trigger_strength="auto", ...)`` is fitted
on the training rows with the seed as ``random_state``, and its student is
scored on the population. A fit *covers* when its population disparity is
within the bound; a fit *claims* the bound when it does not warn that no
plan reaches it (``held_out_scores_``, the value checked, is then within the
bound). Every fit is one row of ``benchmarks/results/coverage.csv``
(resumable: rows already there are not fitted again); the summary (share of
fits within the bound and mean accuracy, per bound and confidence) goes to
``benchmarks/results/coverage.json``.

Run from the repository root, one torch thread per process:

    OMP_NUM_THREADS=1 python benchmarks/coverage.py --seeds 50 --n-jobs 2

``--estimator hgb`` studies DwB around scikit-learn's
``HistGradientBoostingClassifier`` (``estimator=``, default settings) instead
of the network; its rows go to ``coverage_hgb.csv`` and ``.json``.
``--no-blend-students`` fits with ``blend_students=False`` (single students
only; rows in ``coverage_no_blend.csv``, or ``coverage_hgb_no_blend.csv``).
"""

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from comparison.report import environment  # benchmarks/ is first on sys.path
from joblib import Parallel, delayed
from sklearn.ensemble import HistGradientBoostingClassifier

from sklearn_dwb import BackdoorDebiasClassifier
from sklearn_dwb._disparity import disparity_from_rates, group_rates
from sklearn_dwb.datasets import make_biased_classification

#: Files this script writes (in benchmarks/results, unless told otherwise); a
#: test checks that every file there is written by a script.
OUTPUTS = (
    "coverage.csv",
    "coverage.json",
    "coverage_hgb.csv",
    "coverage_hgb.json",
    "coverage_no_blend.csv",
    "coverage_no_blend.json",
    "coverage_hgb_no_blend.csv",
    "coverage_hgb_no_blend.json",
)

RESULTS = Path(__file__).parent / "results"
BOUNDS = {
    "equalized_odds_difference": 0.03,
    "demographic_parity_difference": 0.02,
}
CONFIDENCES = (None, 0.5, 0.8, 0.9, 0.95)
KEY = ["seed", "metric", "confidence"]


def population(seed, n_train, n_population, label_bias):
    """Training rows and a large population drawn from the same task."""
    X, y, groups = make_biased_classification(
        n_train + n_population, label_bias=label_bias, random_state=seed
    )
    return (X[:n_train], y[:n_train], groups[:n_train]), (
        X[n_train:],
        y[n_train:],
        groups[n_train:],
    )


def search_for_bound(seed, metric, confidence, estimator="network", blend=True):
    """The model of the study: the search for ``metric``'s bound, seeded."""
    return BackdoorDebiasClassifier(
        estimator=HistGradientBoostingClassifier() if estimator == "hgb" else None,
        trigger_strength="auto",
        auto_metric=metric,
        max_disparity=BOUNDS[metric],
        confidence=confidence,
        blend_students=blend,
        random_state=seed,
    )


def write_json_report(output, script, argv, **parts):
    """Write ``{"command": ..., **parts}`` to ``output`` as indented JSON:
    the diagnostics' record of the command that ran (``script`` with
    ``argv``, or the command line's arguments when None) and what it
    measured."""
    command = f"python benchmarks/{script} " + " ".join(
        sys.argv[1:] if argv is None else argv
    )
    output.write_text(json.dumps({"command": command, **parts}, indent=1) + "\n")


def fit_warned(model, X, y, groups):
    """Fit ``model``; True when it warned that no plan reaches the bound."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X, y, sensitive_features=groups)
    return any("No plan reaches" in str(w.message) for w in caught)


def fit_and_score(seed, metric, confidence, args):
    import torch

    torch.set_num_threads(1)
    (X, y, groups), (X_pop, y_pop, g_pop) = population(
        seed, args.n_train, args.n_population, args.label_bias
    )
    model = search_for_bound(
        seed, metric, confidence, args.estimator, not args.no_blend_students
    )
    start = time.perf_counter()
    warned = fit_warned(model, X, y, groups)
    seconds = time.perf_counter() - start
    y_pred = model.predict(X_pop)
    rates = group_rates(y_pop, y_pred, g_pop, 2, 2)
    scores = model.held_out_scores_
    return {
        "scored": scores["scored"],
        "seed": seed,
        "metric": metric,
        "bound": BOUNDS[metric],
        "confidence": np.nan if confidence is None else confidence,
        "search_disparity": scores[metric],
        "search_upper": scores.get(metric + "_upper", np.nan),
        "search_accuracy": scores["accuracy"],
        "population_disparity": float(disparity_from_rates(metric, rates)),
        "population_accuracy": float(np.mean(y_pred == y_pop)),
        "no_plan_within": warned,
        "strengths": " ".join(f"{s:g}" for s in model.trigger_strength_),
        "fit_time_s": seconds,
        "n_train": args.n_train,
        "estimator": args.estimator,
        "blend_students": not args.no_blend_students,
    }


def summarise(table):
    covered = table["population_disparity"] <= table["bound"]
    claimed = ~table["no_plan_within"].astype(bool)
    table = table.assign(
        covered=covered,
        claimed=claimed,
        claimed_within=covered & claimed,
        confidence=table["confidence"].fillna(-1),
    )
    summary = (
        table.groupby(["metric", "confidence"])
        .agg(
            fits=("seed", "size"),
            within_bound=("covered", "sum"),
            share_within=("covered", "mean"),
            mean_accuracy=("population_accuracy", "mean"),
            mean_disparity=("population_disparity", "mean"),
            p90_disparity=("population_disparity", lambda d: d.quantile(0.9)),
            no_plan_within=("no_plan_within", "sum"),
            claimed=("claimed", "sum"),
            claimed_within=("claimed_within", "sum"),
        )
        .reset_index()
    )
    summary["share_within_when_claimed"] = (
        summary["claimed_within"] / summary["claimed"]
    )
    summary["confidence"] = summary["confidence"].map(
        lambda c: "None" if c < 0 else f"{c:g}"
    )
    return summary


def _parse_args(argv):
    """The command-line options, with ``--output`` defaulting to the CSV of
    the estimator and blending studied."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=50)
    parser.add_argument("--n-train", type=int, default=10_000)
    parser.add_argument("--n-population", type=int, default=1_000_000)
    parser.add_argument("--label-bias", type=float, default=0.4)
    parser.add_argument(
        "--confidence",
        nargs="+",
        default=["None", *map(str, CONFIDENCES[1:])],
        help="levels to study; 'None' is the point-estimate rule",
    )
    parser.add_argument("--metrics", nargs="+", default=list(BOUNDS))
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument(
        "--estimator",
        choices=["network", "hgb"],
        default="network",
        help="the network, or HistGradientBoostingClassifier as estimator=",
    )
    parser.add_argument(
        "--no-blend-students",
        action="store_true",
        help="fit with blend_students=False (rows in coverage[_hgb]_no_blend.csv)",
    )
    parser.add_argument("--output", default=None)
    args = parser.parse_args(argv)
    if args.output is None:
        name = "coverage" if args.estimator == "network" else "coverage_hgb"
        name += "_no_blend" if args.no_blend_students else ""
        args.output = str(RESULTS / f"{name}.csv")
    return args


def _pending_jobs(args, output):
    """The (seed, metric, confidence) fits not yet in ``output``, and the
    number of fits already there."""
    confidences = [None if c == "None" else float(c) for c in args.confidence]
    done = pd.read_csv(output) if output.exists() else pd.DataFrame(columns=KEY)
    seen = {
        (int(s), m, None if pd.isna(c) else float(c))
        for s, m, c in done[KEY].itertuples(index=False)
    }
    jobs = [
        (seed, metric, confidence)
        for seed in range(args.seeds)
        for metric in args.metrics
        for confidence in confidences
        if (seed, metric, confidence) not in seen
    ]
    return jobs, len(seen)


def _run_jobs(jobs, args, output):
    """Fit ``jobs`` in batches of ``4 * n_jobs``, appending each batch's rows
    to ``output`` and printing them."""
    batch = max(args.n_jobs * 4, 1)
    for start in range(0, len(jobs), batch):
        rows = Parallel(n_jobs=args.n_jobs)(
            delayed(fit_and_score)(*job, args) for job in jobs[start : start + batch]
        )
        new = pd.DataFrame(rows)
        new.to_csv(output, mode="a", header=not output.exists(), index=False)
        print(
            new[["seed", "metric", "confidence", "population_disparity"]].to_string(
                header=False, index=False
            ),
            flush=True,
        )


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = _parse_args(argv)
    output = Path(args.output)
    jobs, n_seen = _pending_jobs(args, output)
    print(f"{len(jobs)} fits to run ({n_seen} already in {output})", flush=True)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    _run_jobs(jobs, args, output)
    table = pd.read_csv(output)
    summary = summarise(table)
    print(summary.to_string(index=False))
    report = {
        "command": "python benchmarks/coverage.py " + " ".join(argv),
        "environment": environment(),
        "n_train": args.n_train,
        "n_population": args.n_population,
        "label_bias": args.label_bias,
        "estimator": args.estimator,
        "bounds": BOUNDS,
        "summary": summary.to_dict(orient="records"),
    }
    output.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
