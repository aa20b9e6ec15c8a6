"""Default network vs LogisticRegression on Adult (official train/test split).

Checks that the estimator's default network, unmitigated
(``trigger_strength=0``) and debiased (``target="global"``, strength 1,
sensitive feature ``sex``), is as accurate as LogisticRegression on
adult.test. Writes ``benchmarks/studies/results/adult_defaults.json``.

Usage: SKLEARN_DWB_DATA=../shared/datasets python benchmarks/studies/adult_defaults.py
"""

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
import torch
from fairlearn.metrics import (
    demographic_parity_difference,
    equalized_odds_difference,
)
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

import sklearn_dwb
from sklearn_dwb import BackdoorDebiasClassifier
from sklearn_dwb.datasets import fetch_adult, make_tabular_encoder

#: Files this script writes (in benchmarks/studies/results, unless told otherwise); a
#: test checks that every file there is written by a script.
OUTPUTS = ("adult_defaults.json",)


def _candidates():
    """The models compared: (name, trigger strength or None for
    LogisticRegression, function of the seed that builds the model)."""
    runs = [
        ("LogisticRegression", None, lambda seed: LogisticRegression(max_iter=2000))
    ]
    for strength in (0.0, 1.0):
        runs.append(
            (
                f"BackdoorDebiasClassifier(trigger_strength={strength})",
                strength,
                lambda seed, s=strength: BackdoorDebiasClassifier(
                    trigger_strength=s, random_state=seed
                ),
            )
        )
    return runs


def _fit_and_score(name, strength, model, train, test, seed):
    """Fit the pipeline ``model`` on ``train`` (with ``sex`` as sensitive
    feature unless ``strength`` is None); its row of test scores."""
    (X_train, y_train), (X_test, y_test) = train, test
    start = time.perf_counter()
    if strength is None:
        model.fit(X_train, y_train)
    else:
        model.fit(
            X_train,
            y_train,
            backdoordebiasclassifier__sensitive_features=X_train["sex"],
        )
    fit_time = time.perf_counter() - start
    pred = model.predict(X_test)
    row = {
        "model": name,
        "seed": seed,
        "accuracy": float(np.mean(pred == y_test)),
        "equalized_odds_difference": float(
            equalized_odds_difference(y_test, pred, sensitive_features=X_test["sex"])
        ),
        "demographic_parity_difference": float(
            demographic_parity_difference(
                y_test, pred, sensitive_features=X_test["sex"]
            )
        ),
        "fit_time_s": fit_time,
    }
    if strength is not None:
        row["epochs_student"] = len(model[-1].student_.history)
    return row


def _print_summary(results):
    """Print each model's mean and standard deviation over the seeds."""
    summary = (
        pd.DataFrame(results)
        .groupby("model", sort=False)[
            [
                "accuracy",
                "equalized_odds_difference",
                "demographic_parity_difference",
                "fit_time_s",
            ]
        ]
        .agg(["mean", "std"])
    )
    print(summary.round(4).to_string())


def _write_report(out, seeds, results):
    """Write the command, seeds, machine, versions and runs to ``out``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "command": (
                    "SKLEARN_DWB_DATA=../shared/datasets "
                    "python benchmarks/studies/adult_defaults.py"
                ),
                "seeds": list(seeds),
                "machine": (
                    f"{platform.machine()}, {os.cpu_count()} cores, "
                    f"{platform.platform()}"
                ),
                "versions": {
                    "python": sys.version.split()[0],
                    "sklearn_dwb": sklearn_dwb.__version__,
                    "scikit-learn": sklearn.__version__,
                    "torch": torch.__version__,
                    "torch_threads": torch.get_num_threads(),
                },
                "runs": results,
            },
            indent=2,
        )
    )


def main(argv=None, seeds=(0, 1, 2)):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--output",
        type=Path,
        default=Path(__file__).parent / "results" / "adult_defaults.json",
    )
    args = parser.parse_args(argv)
    train = fetch_adult(subset="train", return_X_y=True)
    test = fetch_adult(subset="test", return_X_y=True)
    results = []
    for name, strength, make in _candidates():
        for seed in seeds:
            model = make_pipeline(make_tabular_encoder(), make(seed))
            row = _fit_and_score(name, strength, model, train, test, seed)
            print(json.dumps(row), flush=True)
            results.append(row)
            if strength is None:
                break  # LogisticRegression is deterministic
    _print_summary(results)
    _write_report(args.output, seeds, results)


if __name__ == "__main__":
    main()
