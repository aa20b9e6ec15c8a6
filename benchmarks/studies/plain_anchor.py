"""Is the dose teachers' plan at strength 0 the plain model? Held-out accuracy.

The search for a bound measures what a plan costs in accuracy against the
plain plan (strength 0 for every group) of its own dose teachers. This study
fits the search with explicit 5-fold splits and, on the same folds, one
plain model per fold (the same estimator without triggers), and compares the
held-out accuracy of the plain fits with that of the strength-0 plan, beside
the plain model's test accuracy. One row per case in
``benchmarks/studies/results/plain_anchor.csv``.

Run from the repository root, one thread:

    OMP_NUM_THREADS=1 python benchmarks/studies/plain_anchor.py
"""

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import StratifiedKFold

sys.path.insert(0, str(Path(__file__).parents[1]))
from comparison.tasks import load_task  # noqa: E402

from sklearn_dwb import BackdoorDebiasClassifier  # noqa: E402
from sklearn_dwb.datasets import make_biased_classification  # noqa: E402

#: Files this script writes (in benchmarks/studies/results, unless told otherwise); a
#: test checks that every file there is written by a script.
OUTPUTS = ("plain_anchor.csv",)

RESULTS = Path(__file__).parent / "results"
TEST_ROWS = 200_000
#: (name, data, model, seed): synthetic tasks as in issue 33's reports.
CASES = [
    *[("synthetic-30000", "hgb", seed) for seed in range(1000, 1006)],
    ("synthetic-wide-100000", "hgb", 0),
    ("synthetic-wide-300000", "hgb", 0),
    *[("synthetic-10000", "network", seed) for seed in range(3)],
    ("adult-sex", "hgb", 0),
    ("adult-sex", "network", 0),
    ("compas-race", "hgb", 0),
]


def task(name, seed):
    """Train and test features, labels and groups of a case."""
    if not name.startswith("synthetic"):
        X, X_test, y, y_test, g, g_test = load_task(name, seed)
        return (X, y, g), (X_test, y_test, g_test)
    n = int(name.rsplit("-", 1)[1])
    wide = dict(n_features=20, n_informative=8) if "wide" in name else {}
    X, y, g = make_biased_classification(
        n + TEST_ROWS, label_bias=0.4, random_state=seed, **wide
    )
    X = X.astype(np.float32)
    return (X[:n], y[:n], g[:n]), (X[n:], y[n:], g[n:])


def plain_model(model, seed):
    if model == "hgb":
        return HistGradientBoostingClassifier(random_state=seed)
    return BackdoorDebiasClassifier(trigger_strength=0, random_state=seed)


def fit_plain(model, seed, X, y, g):
    estimator = clone(plain_model(model, seed))
    if model == "hgb":
        return estimator.fit(X, y)
    return estimator.fit(X, y, sensitive_features=g)


def run_case(name, model, seed):
    (X, y, g), (X_test, y_test, g_test) = task(name, seed)
    cells = pd.Series(g).astype(str).to_numpy() + "|" + y.astype(str)
    folds = list(StratifiedKFold(5, shuffle=True, random_state=seed).split(X, cells))
    search = BackdoorDebiasClassifier(
        estimator=HistGradientBoostingClassifier() if model == "hgb" else None,
        trigger_strength="auto",
        auto_metric="equalized_odds_difference",
        max_disparity=0.03,
        cv=folds,
        random_state=seed,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search.fit(X, y, sensitive_features=g)
    table = search.plan_search_
    strengths = table.filter(like="strength[")
    dial0 = table.loc[(strengths == 0).all(axis=1), "accuracy"].iloc[0]
    held_out = np.empty(len(y), dtype=bool)
    for fit_rows, test_rows in folds:
        fold = fit_plain(model, seed, X[fit_rows], y[fit_rows], g[fit_rows])
        held_out[test_rows] = fold.predict(X[test_rows]) == y[test_rows]
    plain = fit_plain(model, seed, X, y, g)
    return {
        "case": name,
        "model": model,
        "seed": seed,
        "n_rows": len(y),
        "dial0_accuracy": dial0,
        "plain_cv_accuracy": held_out.mean(),
        "plain_test_accuracy": (plain.predict(X_test) == y_test).mean(),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=RESULTS / "plain_anchor.csv")
    parser.add_argument("--cases", nargs="*", default=None, help="case names")
    args = parser.parse_args(argv)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    for name, model, seed in CASES:
        if args.cases and name not in args.cases:
            continue
        rows.append(run_case(name, model, seed))
        print(pd.DataFrame(rows[-1:]).round(4).to_string(index=False), flush=True)
        pd.DataFrame(rows).to_csv(args.output, index=False)


if __name__ == "__main__":
    main()
