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
