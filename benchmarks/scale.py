"""DwB at the sizes users have: time, memory, accuracy and disparity against
the number of rows, for gradient boosting and its fair peers.

For each number of training rows ``n`` (30,000 to 1,000,000 by default),
``make_biased_classification(n + 200000, n_features=20, n_informative=8,
label_bias=0.4, random_state=0)`` is drawn once, in float32; the first ``n``
rows train and the other 200,000 test. Each model is fitted and predicts the
test rows in a process of its own, with one thread (``OMP_NUM_THREADS=1``):

- plain ``HistGradientBoostingClassifier`` and plain ``lightgbm.LGBMClassifier``
  (defaults, ``random_state=0``, one thread);
- DwB over each (``estimator=``) at the fixed strength 0.5, and
  ``trigger_strength="auto"`` with ``max_disparity=0.03`` on
  ``equalized_odds_difference`` (defaults otherwise, ``random_state=0``);
- FairGBM at tolerance 0.02 (the comparison's ``fairgbm_0.02``).

A row per model and size holds the wall seconds of fit plus prediction, the
extra peak memory (the process's peak resident memory above what it held
once the data was loaded), the test accuracy, equalized-odds and
demographic-parity differences, and whether the fit warned. Rows go to
``benchmarks/results/scale.csv`` (resumable: rows already there are kept),
the log-log plot of time and memory against rows to ``scale.png``.

Run from the repository root (about an hour on one core up to 1,000,000
rows; ``--rows`` chooses the sizes, ``--models`` the models):

    python benchmarks/scale.py
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

RESULTS = Path(__file__).parent / "results"
#: Files this script writes (in benchmarks/results, unless told otherwise); a
#: test checks that every file there is written by a script.
OUTPUTS = ("scale.csv", "scale.png")
TEST_ROWS = 200_000
ROWS = (30_000, 100_000, 300_000, 1_000_000)
BOUND = 0.03
MODELS = (
    "hgb",
    "dwb_hgb_0.5",
    "dwb_hgb_auto",
    "lightgbm",
    "dwb_lightgbm_0.5",
    "dwb_lightgbm_auto",
    "fairgbm_0.02",
)


def draw(n_rows, folder):
    """The task's training and test rows, saved as .npy files in ``folder``."""
    from sklearn_dwb.datasets import make_biased_classification

    X, y, groups = make_biased_classification(
        n_rows + TEST_ROWS,
        n_features=20,
        n_informative=8,
        label_bias=0.4,
        random_state=0,
    )
    for name, value in (("X", X.astype(np.float32)), ("y", y), ("groups", groups)):
        np.save(folder / f"{name}.npy", value)


def base_model(name):
    """The gradient-boosting model of a row name, seeded, one thread."""
    if "lightgbm" in name:
        from lightgbm import LGBMClassifier

        return LGBMClassifier(random_state=0, n_jobs=1, verbose=-1)
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(random_state=0)


def fit(name, X, y, groups):
    """Fit the model ``name`` on the training rows; a predict function."""
    if name.startswith("fairgbm"):
        sys.path.insert(0, str(Path(__file__).parent))
        import fairgbm
        from comparison.methods import fairgbm_params

        dataset = fairgbm.Dataset(X, y, constraint_group=groups)
        booster = fairgbm.train(
            fairgbm_params(float(name.split("_")[1]), 0), dataset, num_boost_round=200
        )
        return lambda X_test: (booster.predict(X_test) > 0.5).astype(int)
    if not name.startswith("dwb"):
        model = base_model(name).fit(X, y)
        return model.predict
    from sklearn_dwb import BackdoorDebiasClassifier

    strength = name.rsplit("_", 1)[1]
    if strength != "auto":
        params = dict(trigger_strength=float(strength))
    else:
        params = dict(
            trigger_strength="auto",
            auto_metric="equalized_odds_difference",
            max_disparity=BOUND,
        )
    model = BackdoorDebiasClassifier(
        estimator=base_model(name), random_state=0, **params
    ).fit(X, y, sensitive_features=groups)
    return model.predict


def _resident_kb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class PeakMemory:
    """The largest resident memory of this process while in the ``with``
    block, sampled every 10 ms, above what it held on entering."""

    def __enter__(self):
        self.start = self.peak = _resident_kb()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._done.wait(0.01):
            self.peak = max(self.peak, _resident_kb())

    def __exit__(self, *exc):
        self._done.set()
        self._thread.join()
        self.peak = max(self.peak, _resident_kb())

    @property
    def extra_mb(self):
        return (self.peak - self.start) / 1024


def measure(name, folder, n_rows):
    """One model at one size, in this process: its row of results."""
    import fairgbm  # noqa: F401  every model's imports before the baseline
    import lightgbm  # noqa: F401
    from fairlearn.metrics import (
        demographic_parity_difference,
        equalized_odds_difference,
    )

    import sklearn_dwb  # noqa: F401

    X, y, groups = (np.load(folder / f"{n}.npy") for n in ("X", "y", "groups"))
    X_train, y_train, g_train = X[:n_rows], y[:n_rows], groups[:n_rows]
    X_test, y_test, g_test = X[n_rows:], y[n_rows:], groups[n_rows:]
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught, PeakMemory() as memory:
        warnings.simplefilter("always")
        predict = fit(name, X_train, y_train, g_train)
        y_pred = predict(X_test)
    seconds = time.perf_counter() - start
    return {
        "model": name,
        "n_rows": n_rows,
        "seconds": seconds,
        "extra_peak_mb": memory.extra_mb,
        "accuracy": float(np.mean(y_pred == y_test)),
        "eod": equalized_odds_difference(y_test, y_pred, sensitive_features=g_test),
        "dpd": demographic_parity_difference(y_test, y_pred, sensitive_features=g_test),
        "warned": any(
            "No plan" in str(w.message) or "No model" in str(w.message) for w in caught
        ),
    }


def run_child(name, folder, n_rows):
    """:func:`measure` in a fresh process with one thread, so that its
    peak memory is its own."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    out = subprocess.run(
        [sys.executable, __file__, "--child", name, str(folder), str(n_rows)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def plot(results, path):
    """Time and extra peak memory against rows, log-log, a line per model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for name, rows in results.groupby("model", sort=False):
        rows = rows.sort_values("n_rows")
        style = "--" if name.startswith(("hgb", "lightgbm")) else "-"
        for ax, column in zip(axes, ("seconds", "extra_peak_mb"), strict=True):
            ax.loglog(rows["n_rows"], rows[column], style, marker="o", label=name)
    axes[0].set_ylabel("fit and predict 200,000 rows (s, one thread)")
    axes[1].set_ylabel("extra peak memory (MB)")
    for ax in axes:
        ax.set_xlabel("training rows")
        ax.grid(True, which="both", alpha=0.3)
    axes[1].legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=list(ROWS))
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--output", type=Path, default=RESULTS / "scale.csv")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        name, folder, n_rows = args.child
        print(json.dumps(measure(name, Path(folder), int(n_rows))))
        return
    done = pd.read_csv(args.output) if args.output.exists() else None
    rows = [] if done is None else done.to_dict("records")
    for n_rows in args.rows:
        todo = [
            m
            for m in args.models
            if not any(r["model"] == m and r["n_rows"] == n_rows for r in rows)
        ]
        if not todo:
            continue
        with tempfile.TemporaryDirectory() as folder:
            draw(n_rows, Path(folder))
            for name in todo:
                rows.append(run_child(name, Path(folder), n_rows))
                print(pd.DataFrame(rows[-1:]).round(4).to_string(index=False))
                pd.DataFrame(rows).to_csv(args.output, index=False)
    results = pd.DataFrame(rows)
    plot(results, args.output.with_suffix(".png"))
    print(f"written: {args.output} and {args.output.with_suffix('.png')}")


if __name__ == "__main__":
    main()
