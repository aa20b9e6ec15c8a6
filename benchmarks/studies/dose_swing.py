"""Why do boosted dose teachers swing with the dose, and disagree, on large
tables? Their predictions at uniform strengths, fold by fold.

For each case (``make_biased_classification`` as in ``accuracy_floor.py``),
DwB-HGB ``"auto"`` (EOD <= 0.03, ``keep_teacher=True``) is fitted, with
HistGradientBoosting's default early stopping and without it. Each fold's
dose teacher (``teacher_``) then predicts the 200,000 test rows, clean, at
the same strength for both groups; per strength and fold: accuracy, EOD,
each group's share predicted positive, and the teacher's boosting
iterations. Plain HistGradientBoosting fits on the same fold rows give the
spread of EOD between plain models. Rows go to
``benchmarks/studies/results/dose_swing.csv``.

Run from the repository root:

    OMP_NUM_THREADS=1 python benchmarks/studies/dose_swing.py
"""

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from fairlearn.metrics import equalized_odds_difference
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import StratifiedKFold

sys.path.insert(0, str(Path(__file__).parent))
from accuracy_floor import draw  # noqa: E402

from sklearn_dwb import BackdoorDebiasClassifier  # noqa: E402

#: Files this script writes (in benchmarks/studies/results, unless told otherwise); a
#: test checks that every file there is written by a script.
OUTPUTS = ("dose_swing.csv",)

RESULTS = Path(__file__).parent / "results"
CASES = [(30_000, False, 1003), (30_000, True, 0), (300_000, True, 0)]
STRENGTHS = (-1.0, -0.5, 0.0, 0.5, 1.0, 2.0)


def teacher_rows(teacher, X_test, y, g, strength, **case):
    """One fold teacher on clean test rows, both groups at ``strength``."""
    n_extra = teacher.n_features_in_ - X_test.shape[1]
    extra = np.zeros((len(X_test), n_extra), dtype=np.float32)
    extra[np.arange(len(g)), g] = strength  # the group's dose column
    y_pred = teacher.predict(np.hstack([X_test, extra]))
    return {
        **case,
        "strength": strength,
        "accuracy": np.mean(y_pred == y),
        "eod": equalized_odds_difference(y, y_pred, sensitive_features=g),
        "positive_share_0": np.mean(y_pred[g == 0] == 1),
        "positive_share_1": np.mean(y_pred[g == 1] == 1),
        "n_iter": teacher.n_iter_,
    }


def plain_row(X_fit, y_fit, X_test, y_test, g_test, **case):
    """A plain HistGradientBoosting fit on one fold's rows (the case's
    ``early_stopping`` and ``seed``), on the clean test rows."""
    plain = HistGradientBoostingClassifier(
        early_stopping=case["early_stopping"], random_state=case["seed"]
    ).fit(X_fit, y_fit)
    y_pred = plain.predict(X_test)
    return {
        **case,
        "strength": np.nan,
        "accuracy": np.mean(y_pred == y_test),
        "eod": equalized_odds_difference(y_test, y_pred, sensitive_features=g_test),
        "positive_share_0": np.mean(y_pred[g_test == 0] == 1),
        "positive_share_1": np.mean(y_pred[g_test == 1] == 1),
        "n_iter": plain.n_iter_,
    }


def fit_search(X, y, g, folds, early_stopping, seed):
    """DwB-HGB ``"auto"`` (EOD <= 0.03, ``keep_teacher=True``) fitted with
    the dose teachers' ``folds``, its warnings silenced."""
    model = BackdoorDebiasClassifier(
        estimator=HistGradientBoostingClassifier(early_stopping=early_stopping),
        trigger_strength="auto",
        auto_metric="equalized_odds_difference",
        max_disparity=0.03,
        cv=folds,
        keep_teacher=True,
        random_state=seed,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y, sensitive_features=g)
    return model


def run_case(n, wide, seed, early_stopping):
    (X, y, g), (X_test, y_test, g_test) = draw(n, wide, seed)
    folds = list(
        StratifiedKFold(5, shuffle=True, random_state=seed).split(X, 2 * g + y)
    )
    model = fit_search(X, y, g, folds, early_stopping, seed)
    case = dict(n_rows=n, wide=wide, seed=seed, early_stopping=early_stopping)
    rows = []
    for fold, ((fit_rows, _), teacher) in enumerate(
        zip(folds, model.teacher_, strict=True)
    ):
        for strength in STRENGTHS:
            rows.append(
                teacher_rows(
                    teacher,
                    X_test,
                    y_test,
                    g_test,
                    strength,
                    **case,
                    model="dose_teacher",
                    fold=fold,
                )
            )
        rows.append(
            plain_row(
                X[fit_rows],
                y[fit_rows],
                X_test,
                y_test,
                g_test,
                **case,
                model="plain",
                fold=fold,
            )
        )
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=RESULTS / "dose_swing.csv")
    args = parser.parse_args(argv)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    for case in CASES:
        for early_stopping in ("auto", False):
            rows += run_case(*case, early_stopping)
            frame = pd.DataFrame(rows)
            frame.to_csv(args.output, index=False)
            last = frame[(frame.n_rows == case[0]) & (frame.seed == case[2])]
            print(
                last.groupby(["early_stopping", "model", "strength"], dropna=False)[
                    [
                        "accuracy",
                        "eod",
                        "positive_share_0",
                        "positive_share_1",
                        "n_iter",
                    ]
                ]
                .agg(["mean", "std"])
                .round(3)
                .to_string(),
                flush=True,
            )


if __name__ == "__main__":
    main()
