"""Does the search for a bound still keep a near-constant model? With and
without ``max_accuracy_loss``, on the synthetic cases where it collapsed.

Each case draws ``make_biased_classification(n + 200000, label_bias=0.4,
random_state=seed)`` (the wide cases with ``n_features=20,
n_informative=8``), float32; the first ``n`` rows train, the other 200,000
test. On each, plain ``HistGradientBoostingClassifier`` and DwB-HGB
``"auto"`` (EOD <= 0.03, ``confidence=0.9``, ``random_state=seed``) with
``max_accuracy_loss=None`` (no floor) and with the default (0.05) are fitted
on one thread; the test accuracy and EOD of each, whether the fit warned,
and its seconds are one row of ``benchmarks/studies/results/accuracy_floor.csv``.

Run from the repository root:

    OMP_NUM_THREADS=1 python benchmarks/studies/accuracy_floor.py
"""

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from fairlearn.metrics import equalized_odds_difference
from sklearn.ensemble import HistGradientBoostingClassifier

from sklearn_dwb import BackdoorDebiasClassifier
from sklearn_dwb.datasets import make_biased_classification

#: Files this script writes (in benchmarks/studies/results, unless told otherwise); a
#: test checks that every file there is written by a script.
OUTPUTS = ("accuracy_floor.csv",)

RESULTS = Path(__file__).parent / "results"
TEST_ROWS = 200_000
#: (training rows, wide features, seed)
CASES = [
    *[(30_000, False, seed) for seed in range(1000, 1006)],
    (100_000, True, 0),
    (300_000, True, 0),
]
LOSSES = {"none": None, "default": 0.05}


def draw(n, wide, seed):
    extra = dict(n_features=20, n_informative=8) if wide else {}
    X, y, g = make_biased_classification(
        n + TEST_ROWS, label_bias=0.4, random_state=seed, **extra
    )
    X = X.astype(np.float32)
    return (X[:n], y[:n], g[:n]), (X[n:], y[n:], g[n:])


def scored(fitted, X, y, g, **row):
    y_pred = fitted.predict(X)
    return {
        **row,
        "accuracy": np.mean(y_pred == y),
        "eod": equalized_odds_difference(y, y_pred, sensitive_features=g),
        "positive_share": np.mean(y_pred == 1),
    }


def run_case(n, wide, seed):
    (X, y, g), test = draw(n, wide, seed)
    case = dict(n_rows=n, wide=wide, seed=seed)
    start = time.perf_counter()
    plain = HistGradientBoostingClassifier(random_state=seed).fit(X, y)
    rows = [
        scored(
            plain,
            *test,
            **case,
            model="hgb",
            warned=False,
            seconds=time.perf_counter() - start,
        )
    ]
    for name, loss in LOSSES.items():
        model = BackdoorDebiasClassifier(
            estimator=HistGradientBoostingClassifier(),
            trigger_strength="auto",
            auto_metric="equalized_odds_difference",
            max_disparity=0.03,
            max_accuracy_loss=loss,
            random_state=seed,
        )
        start = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model.fit(X, y, sensitive_features=g)
        seconds = time.perf_counter() - start
        scores = model.held_out_scores_
        rows.append(
            scored(
                model,
                *test,
                **case,
                model=f"dwb_hgb_auto_loss_{name}",
                warned=any(
                    "No plan" in str(w.message) or "No model" in str(w.message)
                    for w in caught
                ),
                seconds=seconds,
                checked_accuracy=scores["accuracy"],
                checked_eod_upper=scores["equalized_odds_difference_upper"],
            )
        )
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=RESULTS / "accuracy_floor.csv")
    args = parser.parse_args(argv)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    for case in CASES:
        rows += run_case(*case)
        frame = pd.DataFrame(rows)
        print(frame.tail(3).round(4).to_string(index=False), flush=True)
        frame.to_csv(args.output, index=False)


if __name__ == "__main__":
    main()
