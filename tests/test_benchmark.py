"""The benchmark harness (``benchmarks/run.py``): its quick mode (run in CI),
resuming, the command line, and the reweighing weights."""

import doctest
import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from sklearn_dwb.datasets import get_data_home

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "run.py"


@pytest.fixture(scope="module")
def harness():
    """``benchmarks/run.py`` imported as a module (it is not installed)."""
    spec = importlib.util.spec_from_file_location("benchmark_run", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_runtime_package_does_not_import_the_harness():
    # torch itself loads torch.utils.throughput_benchmark: look at ours only
    code = (
        "import sklearn_dwb, sklearn_dwb.datasets, sklearn_dwb.metrics, sys; "
        "print([m for m in sys.modules if m.startswith('sklearn_dwb') and "
        "'bench' in m])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    )
    assert out.stdout.strip() == "[]"


def test_reweighing_weights_example(harness):
    (example,) = doctest.DocTestFinder().find(
        harness.reweighing_weights,
        "reweighing_weights",
        globs={"reweighing_weights": harness.reweighing_weights},
    )
    result = doctest.DocTestRunner().run(example)
    assert result.attempted == 1 and result.failed == 0


def test_reweighing_weights_make_group_and_class_independent(harness):
    groups = np.array(["a"] * 60 + ["b"] * 40)
    y = np.array([1] * 45 + [0] * 15 + [1] * 10 + [0] * 30)
    weight = harness.reweighing_weights(y, groups)
    # P(g) P(y) / P(g, y) for cell (a, 1): 0.6 * 0.55 / 0.45
    assert weight[0] == pytest.approx(0.6 * 0.55 / 0.45)
    weighted = pd.crosstab(groups, y, values=weight, aggfunc="sum", normalize="index")
    np.testing.assert_allclose(weighted.loc["a"], weighted.loc["b"])


def test_command_line_help():
    out = subprocess.run(
        [sys.executable, str(SCRIPT), "--help"],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert out.stdout.startswith("usage: python benchmarks/run.py")
    for option in ("--quick", "--output-dir", "--n-jobs", "--tasks", "--seeds"):
        assert option in out.stdout


@pytest.mark.slow
def test_quick_benchmark_writes_results_and_resumes(harness, tmp_path, capsys):
    if not (get_data_home() / "german").exists():
        pytest.skip("datasets not found; set SKLEARN_DWB_DATA")
    threads = torch.get_num_threads()
    results = harness.main(["--quick", "--output-dir", str(tmp_path)])
    # in-process runs restore torch's threads
    assert torch.get_num_threads() == threads
    methods = {
        "logistic_regression",
        "network",
        "dwb_global_1",
        "dwb_global_1_teacher",
        "dwb_auto_eod_0.05",
        "undersampling",
        "reweighing",
        "eg_eo_lr",
        "threshold_eo_lr",
    }
    assert set(results["task"]) == {"german-sex", "compas-race"}
    assert set(results["method"]) == methods and len(results) == 2 * len(methods)
    assert results["accuracy"].between(0.55, 0.9).all()
    assert results["equalized_odds_difference"].between(0, 1).all()
    assert (results["fit_time_s"] > 0).all()
    # on COMPAS the mitigators close most of the network's parity gap
    compas = results[results["task"] == "compas-race"].set_index("method")
    gap = compas["demographic_parity_difference"]
    mitigated = gap[["dwb_global_1", "undersampling", "eg_eo_lr"]]
    assert mitigated.max() < 0.5 * gap["network"]
    summary = (tmp_path / "summary.md").read_text()
    command = f"python benchmarks/run.py --quick --output-dir {tmp_path}"
    assert f"Command: `{command}`" in summary
    assert "## compas-race" in summary and "dwb_global_1" in summary
    assert "## Best accuracy at EOD <= 0.03" in summary
    assert "## DwB's accuracy-EOD front against fairlearn" in summary
    assert (tmp_path / "pareto_german-sex.png").stat().st_size > 10_000
    capsys.readouterr()
    again = harness.main(["--quick", "--output-dir", str(tmp_path)])
    assert "0 runs to do" in capsys.readouterr().out
    assert len(again) == len(results)


# ------------------------------------------------------- ranking at a bound
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


def test_paired_differences_rank_a_winner_a_tie_and_an_unrankable_task(ranking):
    noise = np.array([0.004, -0.003, 0.002, -0.004, 0.001])
    base = np.array([0.80, 0.82, 0.81, 0.79, 0.80])
    # "clear": DwB 0.02 above EG on every split; "close": within the noise;
    # the unmitigated network is more accurate but outside the bound
    results = pd.concat(
        [
            _results(
                "clear",
                {
                    "dwb_global_1": base + 0.02,
                    "dwb_global_0.5": base + 0.03,
                    "eg_eo_lr": base,
                    "network": base + 0.05,
                },
                {
                    "dwb_global_1": 0.02,
                    "dwb_global_0.5": 0.08,
                    "eg_eo_lr": 0.01,
                    "network": 0.1,
                },
            ),
            _results(
                "close",
                {"dwb_global_1": base + noise, "eg_eo_lr": base - noise},
                {"dwb_global_1": 0.02, "eg_eo_lr": 0.02},
            ),
            _results(
                "noisy",
                {"dwb_global_1": base + 0.02, "eg_eo_lr": base},
                {"dwb_global_1": 0.02, "eg_eo_lr": 0.02},
            ),
        ]
    )
    best = ranking.best_settings(results, "equalized_odds_difference", 0.05)
    clear = best[best.task == "clear"].set_index("method")
    # the most accurate setting within the bound, not the most accurate one
    assert clear.loc["DwB (network)", "setting"] == "dwb_global_1"
    assert "unmitigated" not in clear.index
    status, tied, pairs = ranking.rank_task(results, "clear", best)
    assert (status, tied) == ("first", ["DwB (network)"])
    (_, other, mean, lower, upper, n) = pairs[0]
    assert other == "ExponentiatedGradient (LR)" and n == 5
    assert mean == pytest.approx(0.02) and lower == pytest.approx(0.02)
    status, tied, pairs = ranking.rank_task(results, "close", best)
    assert status == "tied" and set(tied) == {
        "DwB (network)",
        "ExponentiatedGradient (LR)",
    }
    # t-interval of the paired differences 2 * noise: mean 0, sd 0.0066
    half = 2.776445 * np.std(2 * noise, ddof=1) / np.sqrt(5)  # t(0.975, 4)
    assert pairs[0][3] == pytest.approx(pairs[0][2] - half)
    # a floor above the bound: not ranked, whatever the differences
    floors = {"clear": 0.01, "close": 0.01, "noisy": 0.06}
    counts = ranking.wins_ties_losses(
        results, best, floors, "equalized_odds_difference", 0.05
    )
    eg = counts["ExponentiatedGradient (LR)"]
    assert (eg["wins"], eg["ties"], eg["losses"], eg["cannot rank"]) == (1, 1, 0, 1)
    # the unmitigated network has no setting within the bound: DwB wins
    unmitigated = counts["unmitigated"]
    assert (unmitigated["wins"], unmitigated["cannot rank"]) == (2, 1)
    # neither method within the bound
    tight = ranking.best_settings(results, "equalized_odds_difference", 0.001)
    counts = ranking.wins_ties_losses(
        results, tight, floors, "equalized_odds_difference", 0.001
    )
    assert counts["ExponentiatedGradient (LR)"]["neither"] == 0  # floors above
    counts = ranking.wins_ties_losses(
        results, tight, {}, "equalized_odds_difference", 0.001
    )
    assert counts["ExponentiatedGradient (LR)"]["neither"] == 3
