"""The example scripts run and print their results."""

import runpy
from pathlib import Path

import matplotlib
import pytest
import sklearn

from sklearn_dwb.datasets import get_data_home

pytestmark = pytest.mark.slow

EXAMPLES = sorted((Path(__file__).parents[1] / "examples").glob("plot_*.py"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(path, monkeypatch, capsys):
    if "fetch_adult" in path.read_text() and not (get_data_home() / "adult").exists():
        pytest.skip(f"Adult not found in {get_data_home()}; set SKLEARN_DWB_DATA")
    matplotlib.use("Agg")
    monkeypatch.setenv("SKLEARN_DWB_QUICK", "1")  # examples subsample for speed
    monkeypatch.setattr("matplotlib.pyplot.show", lambda *a, **k: None)
    with sklearn.config_context():  # examples may switch on metadata routing
        namespace = runpy.run_path(str(path), run_name="__main__")
    results = namespace.get("results")
    assert results is not None and len(results) > 0
    assert results["accuracy"].between(0.6, 1.0).all()
    assert "accuracy" in capsys.readouterr().out
