"""How torch's thread count changes one fit's time when another fit runs.

Run ``python benchmarks/studies/torch_threads.py``: one fit of
``BackdoorDebiasClassifier`` (defaults, 3,000 rows of
``make_biased_classification``) timed alone and while a second process runs
the same fit, with torch's default thread count and with one thread per
process. Results go to ``benchmarks/studies/results/torch_threads.json``.
"""

import argparse
import json
import multiprocessing
import os
import time
from pathlib import Path

#: Files this script writes (in benchmarks/studies/results, unless told otherwise); a
#: test checks that every file there is written by a script.
OUTPUTS = ("torch_threads.json",)


def fit_time(threads, repeats=3):
    """Best wall time of a fit with ``threads`` torch threads (None: default)."""
    import torch

    from sklearn_dwb import BackdoorDebiasClassifier
    from sklearn_dwb.datasets import make_biased_classification

    if threads is not None:
        torch.set_num_threads(threads)
    X, y, groups = make_biased_classification(n_samples=3000, random_state=0)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        BackdoorDebiasClassifier(random_state=0).fit(X, y, sensitive_features=groups)
        times.append(time.perf_counter() - start)
    return min(times), torch.get_num_threads()


def _background(threads, stop):
    while not stop.is_set():
        fit_time(threads, repeats=1)


def measure(threads, with_neighbour):
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    neighbour = None
    if with_neighbour:
        neighbour = context.Process(target=_background, args=(threads, stop))
        neighbour.start()
        time.sleep(5)  # let it start training
    try:
        return fit_time(threads)
    finally:
        stop.set()
        if neighbour is not None:
            neighbour.join()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--output",
        type=Path,
        default=Path(__file__).parent / "results" / "torch_threads.json",
    )
    args = parser.parse_args(argv)
    runs = []
    for threads in (None, 1):
        for with_neighbour in (False, True):
            seconds, used = measure(threads, with_neighbour)
            runs.append(
                {
                    "torch_threads": used,
                    "another_fit_running": with_neighbour,
                    "fit_time_s": seconds,
                }
            )
            print(runs[-1], flush=True)
    out = args.output
    out.write_text(
        json.dumps(
            {
                "command": "python benchmarks/studies/torch_threads.py",
                "cpu_count": os.cpu_count(),
                "runs": runs,
            },
            indent=1,
        )
    )
    print(f"written: {out}")


if __name__ == "__main__":
    main()
