"""Default network vs LogisticRegression on Adult (official train/test split).

Checks that the estimator's default network, unmitigated
(``trigger_strength=0``) and debiased (``target="global"``, strength 1,
sensitive feature ``sex``), is as accurate as LogisticRegression on
adult.test. Writes ``benchmarks/results/adult_defaults.json``.

Usage: SKLEARN_DWB_DATA=../shared/datasets python benchmarks/adult_defaults.py
"""

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
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import sklearn_dwb
from sklearn_dwb import BackdoorDebiasClassifier

COLUMNS = [
    "age", "workclass", "fnlwgt", "education", "education-num",
    "marital-status", "occupation", "relationship", "race", "sex",
    "capital-gain", "capital-loss", "hours-per-week", "native-country", "income",
]  # fmt: skip


def read_adult(path, skiprows=0):
    frame = pd.read_csv(
        path, names=COLUMNS, sep=",", skipinitialspace=True, na_values="?",
        skiprows=skiprows,
    )  # fmt: skip
    frame = frame.dropna(subset=["income"])
    y = frame.pop("income").str.rstrip(".").eq(">50K").astype(int).to_numpy()
    return frame, y


def main(seeds=(0, 1, 2)):
    home = Path(os.environ.get("SKLEARN_DWB_DATA", "../shared/datasets")) / "adult"
    X_train, y_train = read_adult(home / "adult.data")
    X_test, y_test = read_adult(home / "adult.test", skiprows=1)
    categorical = list(X_train.select_dtypes(exclude="number").columns)
    numeric = [c for c in X_train.columns if c not in categorical]

    def encoder():
        return ColumnTransformer(
            [
                ("cat", OneHotEncoder(handle_unknown="ignore"), categorical),
                ("num", StandardScaler(), numeric),
            ],
            sparse_threshold=0,
        )

    runs = [("LogisticRegression", None, lambda seed: LogisticRegression(max_iter=2000))]
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
    results = []
    for name, strength, make in runs:
        for seed in seeds:
            model = make_pipeline(encoder(), make(seed))
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
            print(json.dumps(row), flush=True)
            results.append(row)
            if strength is None:
                break  # LogisticRegression is deterministic
    summary = (
        pd.DataFrame(results)
        .groupby("model", sort=False)[
            ["accuracy", "equalized_odds_difference", "demographic_parity_difference", "fit_time_s"]
        ]
        .agg(["mean", "std"])
    )
    print(summary.round(4).to_string())
    out = Path(__file__).parent / "results" / "adult_defaults.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "command": "SKLEARN_DWB_DATA=../shared/datasets python benchmarks/adult_defaults.py",
                "seeds": list(seeds),
                "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.platform()}",
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


if __name__ == "__main__":
    main()
