"""Selection on training data (``benchmarks/honest.py``): the grids chosen by
cross-validation, the report's tables, ranking and records, and a quick run."""

import importlib.util
import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from comparison import honest_report, selection  # noqa: E402
from comparison.tasks import blind_columns, load_task  # noqa: E402


@pytest.fixture(scope="module")
def honest():
    """``benchmarks/honest.py`` imported as a module (it is not installed)."""
    spec = importlib.util.spec_from_file_location(
        "honest", ROOT / "benchmarks" / "honest.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _toy(n=3000, shift=3.0, seed=0):
    """Features with the group indicator last; the label leans on the group
    by ``shift`` on the logit."""
    rng = np.random.default_rng(seed)
    groups = rng.integers(0, 2, n)
    x = rng.normal(size=(n, 3))
    y = (2 * x[:, 0] + shift * (groups - 0.5) + rng.logistic(size=n) > 0).astype(int)
    return np.hstack([x, groups[:, None]]).astype(np.float32), y, groups


def test_cv_select_keeps_the_bound_in_cross_validation_or_the_least_disparate():
    X, y, groups = _toy()
    model = selection.ReweighedModel(LogisticRegression())
    grid = {"strength": [0.0, 0.5, 1.0]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        chosen = list(selection.cv_select(model, grid, X, y, groups, seed=0))
    # the search itself, to read each candidate's cross-validated scores
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    search = GridSearchCV(
        model,
        grid,
        scoring=selection._scoring(),
        refit=False,
        cv=list(folds.split(X, selection._cells(y, groups))),
    ).fit(X, y)
    results = search.cv_results_
    assert [bound for bound, *_ in chosen] == [
        "EOD <= 0.05",
        "EOD <= 0.03",
        "DPD <= 0.02",
    ]
    for (_, setting, fitted, seconds), (metric, bound) in zip(
        chosen, selection.BOUNDS, strict=True
    ):
        short = selection.SHORT[metric]
        disparity = -np.asarray(results[f"mean_test_{short}"])
        accuracy = np.asarray(results["mean_test_accuracy"])
        index = [f"strength={s:g}" for s in grid["strength"]].index(
            setting.split(" ")[0]
        )
        assert fitted.strength == grid["strength"][index] and seconds > 0
        within = disparity <= bound
        if within.any():
            # the most accurate candidate within the bound
            assert within[index] and accuracy[index] == accuracy[within].max()
            assert "none within" not in setting
        else:
            assert disparity[index] == disparity.min() and "none within" in setting
    # the plain model (strength 0) is far from the bound on this task
    assert -results["mean_test_DPD"][0] > 0.3


def test_reweighed_model_moves_the_weights_by_its_strength():
    X, y, groups = _toy()
    plain = selection.ReweighedModel(LogisticRegression(), strength=0).fit(X, y)
    direct = LogisticRegression().fit(X, y)
    np.testing.assert_allclose(plain.estimator_.coef_, direct.coef_, rtol=1e-6)
    rates = {}
    for strength in (0.0, 1.0):
        model = selection.ReweighedModel(LogisticRegression(), strength).fit(X, y)
        pred = model.predict(X)
        rates[strength] = abs(pred[groups == 1].mean() - pred[groups == 0].mean())
    assert rates[1.0] < 0.8 * rates[0.0]


def test_grid_point_is_one_point_of_fairlearns_grid_search():
    from fairlearn.reductions import GridSearch

    X, y, groups = _toy(n=1000)
    X = X.astype(np.float64)
    search = GridSearch(
        LogisticRegression(max_iter=2000),
        constraints=selection._reduction_constraint("demographic_parity_difference"),
        grid_size=5,
    ).fit(X, y, sensitive_features=X[:, -1])
    for point in (0, 4):
        model = selection.GridPoint(
            "demographic_parity_difference", grid=search.lambda_vecs_, point=point
        ).fit(X, y)
        expected = search.predictors_[point].predict(X)
        np.testing.assert_array_equal(model.predict(X), expected)


def test_fairgbm_model_lowers_the_equalized_odds_difference():
    pytest.importorskip("fairgbm")
    from fairlearn.metrics import equalized_odds_difference

    X, y, groups = _toy()
    gaps = [
        equalized_odds_difference(
            y,
            selection.FairGBMModel(tolerance=tol, n_trees=50).fit(X, y).predict(X),
            sensitive_features=groups,
        )
        for tol in (0.5, 0.01)
    ]
    assert gaps[1] < 0.7 * gaps[0]


def test_blind_columns_leave_out_the_group_and_its_source_columns():
    X, *_ = load_task("german-sex", 0)
    keep = blind_columns("german-sex", 0)
    # 63 encoded columns and the indicator: sex (2) and personal status (4)
    # one-hot columns and the indicator are left out
    assert X.shape[1] == 64 and len(keep) == 64 - 7
    assert X.shape[1] - 1 not in keep


def _rows(task, bound, method, accuracy, disparity, metric="equalized_odds_difference"):
    return pd.DataFrame(
        {
            "task": task,
            "bound": bound,
            "method": method,
            "seed": range(len(accuracy)),
            "setting": "",
            "accuracy": accuracy,
            metric: disparity,
        }
    )


def test_method_table_rank_and_record():
    bound = "EOD <= 0.03"
    rows = pd.concat(
        [
            # keeps the bound, most accurate by 0.01 on every seed
            _rows("t", bound, "dwb_hgb_auto", [0.86, 0.87, 0.88], [0.02, 0.03, 0.02]),
            _rows("t", bound, "peer", [0.85, 0.86, 0.87], [0.01, 0.02, 0.04]),
            # more accurate, but its mean disparity is above the bound
            _rows("t", bound, "plain", [0.9, 0.9, 0.9], [0.1, 0.1, 0.1]),
        ]
    )
    table = honest_report.method_table(rows, "equalized_odds_difference", 0.03)
    assert list(table["method"]) == ["dwb_hgb_auto", "peer", "plain"]
    assert list(table["keeps"]) == [True, True, False]
    assert table["kept_share"].tolist() == pytest.approx([1, 2 / 3, 0])
    assert table.loc[0, "accuracy"] == pytest.approx(0.87)
    status, tied, pairs = honest_report.rank(rows, table)
    # the paired difference is 0.01 on every seed: zero width, above zero
    assert (status, tied) == ("first", ["dwb_hgb_auto"])
    assert pairs[0][0] == "peer" and pairs[0][1] == pytest.approx(0.01)
    counts = honest_report.record(
        rows, {}, "equalized_odds_difference", 0.03, "dwb_hgb_auto"
    )
    assert counts["peer"]["wins"] == 1 and counts["plain"]["the peer misses"] == 1
    # a noise floor above the bound: the task cannot be ranked
    floors = {"equalized_odds_difference": {"t": 0.05}}
    counts = honest_report.record(
        rows, floors, "equalized_odds_difference", 0.03, "dwb_hgb_auto"
    )
    assert counts["peer"]["cannot rank"] == 1 and counts["peer"]["wins"] == 0
    assert honest_report.behind(rows, {}, "equalized_odds_difference", 0.03, "peer")[0][
        :2
    ] == ("t", "dwb_hgb_auto")


def test_candidates_read_each_bound_from_the_comparison():
    comparison = pd.DataFrame(
        {
            "task": "t",
            "family": "x",
            "seed": [0, 0, 0, 1],
            "method": ["hgb", "dwb_hgb_auto_eod_0.03", "dwb_hgb_auto_dpd_0.02", "hgb"],
            "accuracy": [0.9, 0.8, 0.7, 0.6],
        }
    )
    selected = pd.DataFrame(
        {"task": ["t"], "bound": ["EOD <= 0.03"], "method": ["eg_lr"], "seed": [0]}
    )
    frame = honest_report.candidates(selected.assign(job="eg_lr"), comparison)
    shown = frame.set_index(["bound", "method"])["setting"].dropna().to_dict()
    # the plain model is a candidate at every bound, DwB's "auto" at its own
    assert shown[("EOD <= 0.05", "hgb")] == "hgb"
    assert shown[("EOD <= 0.03", "dwb_hgb_auto")] == "dwb_hgb_auto_eod_0.03"
    assert shown[("DPD <= 0.02", "dwb_hgb_auto")] == "dwb_hgb_auto_dpd_0.02"
    assert ("EOD <= 0.05", "dwb_hgb_auto") not in shown
    assert "job" not in frame
    # only the seeds the selection ran: seed 1 of the comparison is left out
    assert set(frame["seed"]) == {0}


def test_quick_run_writes_the_report_and_resumes(honest, tmp_path, capsys):
    pytest.importorskip("oxonfair")
    pytest.importorskip("error_parity")
    argv = [
        "--quick",
        "--tasks",
        "german-sex",
        "--methods",
        "eg_lr",
        "postprocessing_lr",
        "--output-dir",
        str(tmp_path),
        "--results",
        str(tmp_path / "none.csv"),
    ]
    everything = honest.main(argv)
    rows = pd.read_csv(tmp_path / "honest.csv")
    # 2 seeds x 3 bounds x (ExponentiatedGradient + 4 post-processing peers)
    assert len(rows) == 2 * 3 * 5 and set(rows["seed"]) == {0, 1}
    assert set(everything["method"]) == {
        "eg_lr",
        "threshold_lr",
        "oxonfair_lr",
        "oxonfair_inferred_lr",
        "error_parity_lr",
    }
    assert rows["accuracy"].between(0.5, 1).all()
    text = (tmp_path / "honest.md").read_text()
    assert "### german-sex" in text and "cannot be ranked" in text
    assert set(json.loads((tmp_path / "honest.json").read_text())) == {
        "EOD <= 0.05",
        "EOD <= 0.03",
        "DPD <= 0.02",
    }
    assert (tmp_path / "honest_german-sex.png").stat().st_size > 0
    capsys.readouterr()
    honest.main(argv)
    assert "0 runs to do" in capsys.readouterr().out
    assert len(pd.read_csv(tmp_path / "honest.csv")) == len(rows)
    # the task's default seeds, reporting only: nothing runs, and the report
    # covers the two seeds whose selection ran
    capsys.readouterr()
    report_only = [*argv[1:], "--report-only"]
    everything = honest.main(report_only)
    assert "0 runs to do" in capsys.readouterr().out
    assert len(pd.read_csv(tmp_path / "honest.csv")) == len(rows)
    assert set(everything["seed"]) == {0, 1}
