"""Demo: unmitigated network vs DwB on a group-biased synthetic task.

Run with ``python -m sklearn_dwb.demo``. Prints accuracy, equalized-odds
difference and demographic-parity difference on a held-out split for the
same network trained without mitigation (``trigger_strength=0``) and with
DwB (``target="global"``, ``trigger_strength=1``).
"""

import argparse
import time

import pandas as pd
from fairlearn.metrics import (
    demographic_parity_difference,
    equalized_odds_difference,
)
from sklearn.model_selection import train_test_split

from sklearn_dwb import BackdoorDebiasClassifier
from sklearn_dwb.datasets import make_biased_classification


def run(n_samples=6000, label_bias=0.4, random_state=0):
    """Fit both models and return their test metrics as a DataFrame.

    Parameters
    ----------
    n_samples : int, default=6000
        Rows of the synthetic task (70% train, 30% test).
    label_bias : float, default=0.4
        See :func:`sklearn_dwb.datasets.make_biased_classification`.
    random_state : int, default=0
        Seed of the data, the split and both models.

    Returns
    -------
    pandas.DataFrame
        Accuracy, equalized-odds and demographic-parity difference and fit
        time of the unmitigated network and the DwB student.

    Examples
    --------
    >>> from sklearn_dwb.demo import run
    >>> table = run(n_samples=1000)
    >>> list(table.index)
    ['unmitigated network', 'DwB student']
    """
    X, y, groups = make_biased_classification(
        n_samples=n_samples, label_bias=label_bias, random_state=random_state
    )
    X_train, X_test, y_train, y_test, g_train, g_test = train_test_split(
        X, y, groups, test_size=0.3, stratify=y, random_state=random_state
    )
    rows = []
    for name, strength in [("unmitigated network", 0.0), ("DwB student", 1.0)]:
        model = BackdoorDebiasClassifier(
            trigger_strength=strength, random_state=random_state
        )
        start = time.perf_counter()
        model.fit(X_train, y_train, sensitive_features=g_train)
        fit_time = time.perf_counter() - start
        y_pred = model.predict(X_test)
        rows.append(
            {
                "model": name,
                "trigger_strength": strength,
                "accuracy": (y_pred == y_test).mean(),
                "equalized_odds_difference": equalized_odds_difference(
                    y_test, y_pred, sensitive_features=g_test
                ),
                "demographic_parity_difference": demographic_parity_difference(
                    y_test, y_pred, sensitive_features=g_test
                ),
                "fit_time_s": fit_time,
            }
        )
    return pd.DataFrame(rows).set_index("model")


def main(argv=None):
    """Print the demo's table (``python -m sklearn_dwb.demo``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=6000)
    parser.add_argument("--label-bias", type=float, default=0.4)
    parser.add_argument("--random-state", type=int, default=0)
    args = parser.parse_args(argv)
    print(
        f"make_biased_classification(n_samples={args.n_samples}, "
        f"label_bias={args.label_bias}, random_state={args.random_state}); "
        "70/30 split, sensitive feature: group"
    )
    print(run(args.n_samples, args.label_bias, args.random_state).round(3).to_string())


if __name__ == "__main__":
    main()
