"""What thread-safe fits cost: one fit, and a grid search in two threads.

Fits seed torch's global generator (initialisation, shuffling, dropout) and
restore the caller's state afterwards; a process-wide lock makes two fits in
two threads take turns through that seeded section. This script measures,
on ``make_biased_classification``, with one torch thread:

1. the wall time of one fit (3,000 rows, and 30,000 rows, about Adult's
   size), best of ``--rounds``;
2. the wall time of ``GridSearchCV(n_jobs=2)`` (3 strengths x 3 folds, then
   the refit) under ``joblib.parallel_backend("threading")`` against the same
   search with ``n_jobs=1``, best of ``--rounds`` interleaved rounds;
3. whether the threaded search agrees with the sequential one (best
   parameters, largest difference of the refitted model's predicted
   probabilities) and leaves ``torch.random.get_rng_state()`` unchanged.

Run ``python benchmarks/studies/thread_safety.py --label after``; the results go to
``benchmarks/studies/results/thread_safety.json`` under that label (an entry of the
same label is replaced, others are kept, so runs before and after a change
sit side by side).
"""

import argparse
import json
import platform
import time
from contextlib import nullcontext
from pathlib import Path

import joblib
import numpy as np
import torch
from sklearn.model_selection import GridSearchCV

from sklearn_dwb import BackdoorDebiasClassifier, __version__
from sklearn_dwb.datasets import make_biased_classification

#: Files this script writes (in benchmarks/studies/results, unless told otherwise); a
#: test checks that every file there is written by a script.
OUTPUTS = ("thread_safety.json",)

OUTPUT = Path(__file__).parent / "results" / "thread_safety.json"
PARAMS = dict(max_epochs=20, random_state=0)
GRID = {"trigger_strength": [0.0, 0.5, 1.0]}


def fit_time(n_samples, rounds):
    X, y, groups = make_biased_classification(n_samples=n_samples, random_state=0)
    times = []
    for _ in range(rounds):
        clf = BackdoorDebiasClassifier(**PARAMS)
        start = time.perf_counter()
        clf.fit(X, y, sensitive_features=groups)
        times.append(time.perf_counter() - start)
    return times


def search(X, y, threads):
    """A fitted grid search, its wall time, and whether it kept the caller's
    torch random state."""
    clf = BackdoorDebiasClassifier(sensitive_columns=[-1], **PARAMS)
    backend = joblib.parallel_backend("threading") if threads else nullcontext()
    torch.manual_seed(123)
    state = torch.random.get_rng_state()
    start = time.perf_counter()
    with backend:
        fitted = GridSearchCV(clf, GRID, cv=3, n_jobs=2 if threads else 1).fit(X, y)
    seconds = time.perf_counter() - start
    return fitted, seconds, bool(torch.equal(torch.random.get_rng_state(), state))


def search_round(X, y):
    """One round: the sequential search, then the threaded one, their wall
    times and whether they agree."""
    sequential, seq_s, _ = search(X, y, threads=False)
    threaded, thr_s, kept = search(X, y, threads=True)
    difference = np.abs(threaded.predict_proba(X) - sequential.predict_proba(X))
    return {
        "sequential_s": seq_s,
        "threading_n_jobs_2_s": thr_s,
        "same_best_params": threaded.best_params_ == sequential.best_params_,
        "sequential_best_params": sequential.best_params_,
        "threading_best_params": threaded.best_params_,
        "same_cv_scores": bool(
            np.array_equal(
                threaded.cv_results_["mean_test_score"],
                sequential.cv_results_["mean_test_score"],
            )
        ),
        "max_proba_difference": float(difference.max()),
        "global_rng_state_kept": kept,
    }


def save_entry(output, label, entry):
    """Store ``entry`` under ``label`` in the JSON file ``output``, keeping
    its other labels."""
    results = json.loads(output.read_text()) if output.exists() else {}
    results.setdefault(
        "command", "python benchmarks/studies/thread_safety.py --label LABEL"
    )
    results[label] = entry
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=1))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", required=True, help="e.g. before, after")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--output", default=str(OUTPUT))
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    fits = {n: fit_time(n, args.rounds) for n in (3000, 30000)}
    for n, times in fits.items():
        print(f"one fit, {n} rows: best {min(times):.2f} s", flush=True)
    X, y, _ = make_biased_classification(n_samples=3000, random_state=0)
    rounds = []
    for _ in range(args.rounds):
        rounds.append(search_round(X, y))
        print(rounds[-1], flush=True)
    best_seq = min(r["sequential_s"] for r in rounds)
    best_thr = min(r["threading_n_jobs_2_s"] for r in rounds)
    entry = {
        "environment": (
            f"sklearn-dwb {__version__}, torch {torch.__version__}, "
            f"{platform.machine()}, 1 torch thread"
        ),
        "one_fit_s": {f"{n} rows": times for n, times in fits.items()},
        "one_fit_best_s": {f"{n} rows": min(times) for n, times in fits.items()},
        "grid_search": rounds,
        "grid_search_best_s": {"sequential": best_seq, "threading_n_jobs_2": best_thr},
        "threading_over_sequential": best_thr / best_seq,
    }
    output = Path(args.output)
    save_entry(output, args.label, entry)
    print(f"threading / sequential search wall time: {best_thr / best_seq:.2f}")
    print(f"written: {output}")


if __name__ == "__main__":
    main()
