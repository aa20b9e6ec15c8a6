"""What the benchmark scripts' test modules share: the paths, the scripts
imported as modules (fixtures, bound as module attributes by each test module)
and a small results table."""

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "run.py"


@pytest.fixture(scope="module")
def harness():
    """``benchmarks/run.py`` imported as a module (it is not installed)."""
    spec = importlib.util.spec_from_file_location("benchmark_run", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def ranking():
    spec = importlib.util.spec_from_file_location(
        "benchmark_ranking", ROOT / "benchmarks" / "ranking.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _results(task, accuracies, eod):
    """A results table of one task: setting -> per-seed accuracies and a
    constant test EOD."""
    return pd.DataFrame(
        [
            {
                "task": task,
                "method": setting,
                "seed": seed,
                "accuracy": accuracy,
                "equalized_odds_difference": eod[setting],
            }
            for setting, per_seed in accuracies.items()
            for seed, accuracy in enumerate(per_seed)
        ]
    )
