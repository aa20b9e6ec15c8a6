"""Does the kept model's accuracy interval cover its accuracy on new data?

Reads the coverage study's rows (``benchmarks/results/coverage.csv`` for the
network, ``coverage_hgb.csv`` for gradient boosting: one fit per seed, its
checked accuracy on the training rows and its accuracy on a large
population). A student's bounds are its sampling noise on the checked rows,
``accuracy +- z * sqrt(accuracy * (1 - accuracy) / n)`` with unit weights,
so they follow from the recorded accuracy. Per file and confidence level:
the share of fits whose lower (upper) bound is below (above) the population
accuracy, and the mean of checked minus population accuracy. Written to
``benchmarks/studies/results/accuracy_coverage.json``.

Run from the repository root (no fitting, a second):

    python benchmarks/studies/accuracy_coverage.py
"""

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import norm

#: Files this script writes (in benchmarks/studies/results, unless told otherwise); a
#: test checks that every file there is written by a script.
OUTPUTS = ("accuracy_coverage.json",)

BENCHMARKS = Path(__file__).parents[1]
RESULTS = Path(__file__).parent / "results"
SOURCES = {"network": "coverage.csv", "hgb": "coverage_hgb.csv"}


def coverage(rows):
    """The accuracy interval's coverage per confidence level of ``rows``."""
    rows = rows[rows["scored"].str.contains("student") & rows["confidence"].notna()]
    summary = []
    for level, fits in rows.groupby("confidence"):
        accuracy, n = fits["search_accuracy"], fits["n_train"]
        margin = norm.ppf(level) * np.sqrt(accuracy * (1 - accuracy) / n)
        population = fits["population_accuracy"]
        summary.append(
            {
                "confidence": float(level),
                "fits": len(fits),
                "lower_covers": float(np.mean(population >= accuracy - margin)),
                "upper_covers": float(np.mean(population <= accuracy + margin)),
                "checked_minus_population": float(np.mean(accuracy - population)),
            }
        )
    return summary


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--output", type=Path, default=RESULTS / "accuracy_coverage.json"
    )
    args = parser.parse_args(argv)
    report = {
        model: coverage(pd.read_csv(BENCHMARKS / "results" / name))
        for model, name in SOURCES.items()
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
