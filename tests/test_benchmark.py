"""The benchmark's quick mode (run in CI), resuming, and reweighing weights."""

import numpy as np
import pandas as pd
import pytest
import torch

from sklearn_dwb.benchmark import main, reweighing_weights
from sklearn_dwb.datasets import get_data_home


def test_reweighing_weights_make_group_and_class_independent():
    groups = np.array(["a"] * 60 + ["b"] * 40)
    y = np.array([1] * 45 + [0] * 15 + [1] * 10 + [0] * 30)
    weight = reweighing_weights(y, groups)
    # P(g) P(y) / P(g, y) for cell (a, 1): 0.6 * 0.55 / 0.45
    assert weight[0] == pytest.approx(0.6 * 0.55 / 0.45)
    weighted = pd.crosstab(groups, y, values=weight, aggfunc="sum", normalize="index")
    np.testing.assert_allclose(weighted.loc["a"], weighted.loc["b"])


def test_quick_benchmark_writes_results_and_resumes(tmp_path, capsys):
    if not (get_data_home() / "german").exists():
        pytest.skip("datasets not found; set SKLEARN_DWB_DATA")
    threads = torch.get_num_threads()
    results = main(["--quick", "--output-dir", str(tmp_path)])
    assert torch.get_num_threads() == threads  # in-process runs restore torch's threads
    methods = {"logistic_regression", "network", "dwb_global_1", "dwb_global_1_teacher",
               "undersampling", "reweighing", "eg_eo_lr", "threshold_eo_lr"}  # fmt: skip
    assert set(results["task"]) == {"german-sex", "compas-race"}
    assert set(results["method"]) == methods and len(results) == 2 * len(methods)
    assert results["accuracy"].between(0.55, 0.9).all()
    assert results["equalized_odds_difference"].between(0, 1).all()
    assert (results["fit_time_s"] > 0).all()
    # on COMPAS the mitigators close most of the network's parity gap
    compas = results[results["task"] == "compas-race"].set_index("method")
    gap = compas["demographic_parity_difference"]
    assert gap[["dwb_global_1", "undersampling", "eg_eo_lr"]].max() < 0.5 * gap["network"]
    summary = (tmp_path / "summary.md").read_text()
    assert "## compas-race" in summary and "dwb_global_1" in summary
    assert (tmp_path / "pareto_german-sex.png").stat().st_size > 10_000
    capsys.readouterr()
    again = main(["--quick", "--output-dir", str(tmp_path)])
    assert "0 runs to do" in capsys.readouterr().out
    assert len(again) == len(results)
