"""The benchmark harness (``benchmarks/run.py``): its quick mode (run in CI),
resuming, the reweighing weights, splits and methods, the gradient-boosting peers,
and the results files each script declares."""

import ast
import doctest
import fnmatch
import subprocess
import sys

import _helpers_benchmark
import numpy as np
import pandas as pd
import pytest
import torch
from _helpers_benchmark import ROOT
from sklearn.utils import Bunch

from sklearn_dwb.datasets import get_data_home

# the scripts imported as modules: fixtures of _helpers_benchmark
harness = _helpers_benchmark.harness


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


# ---------------------------------------------------- gradient-boosting peers
BOOSTING_PEERS = [
    "hgb",
    "reweighing_hgb",
    "fairgbm_0.01",
    "fairgbm_0.02",
    "fairgbm_0.03",
    "fairgbm_0.04",
    "fairgbm_0.05",
    "threshold_eo_hgb",
    "eg_eo_hgb",
    "eg_dp_hgb",
]
DWB_HGB = [
    "dwb_hgb_global_0.25",
    "dwb_hgb_global_0.5",
    "dwb_hgb_global_1",
    "dwb_hgb_auto_eod_0.05",
    "dwb_hgb_auto_eod_0.03",
    "dwb_hgb_auto_dpd_0.02",
    "dwb_hgb_auto_eod_0.05_confidence_none",
    "dwb_hgb_auto_eod_0.03_confidence_none",
    "dwb_hgb_auto_dpd_0.02_confidence_none",
    "dwb_hgb_auto_eod_0.05_no_blend",
    "dwb_hgb_auto_eod_0.03_no_blend",
]


def test_splits_keep_every_cells_share_and_seeds_follow_the_task(harness):
    # 1,000 rows in four (group, class) cells of unequal size
    rng = np.random.default_rng(0)
    groups = np.repeat(["a", "b"], [700, 300])
    target = np.concatenate([rng.random(700) < 0.3, rng.random(300) < 0.1])
    data = Bunch(data=pd.DataFrame({"x": np.arange(1000)}), target=pd.Series(target))
    cells = pd.crosstab(groups, target, normalize=True)
    for seed in range(3):
        X_train, X_test, y_train, y_test, g_train, g_test = harness._split(
            data, seed, groups
        )
        assert len(X_test) == 300
        for g, y in ((g_train, y_train), (g_test, y_test)):
            # every cell keeps its share to within one row of the split
            assert np.abs(pd.crosstab(g, y, normalize=True) - cells).max().max() < (
                1.5 / len(y)
            )
    assert list(harness.task_seeds("compas-race")) == list(range(20))
    assert list(harness.task_seeds("adult-sex")) == list(range(10))
    assert list(harness.task_seeds("german-age", 3)) == [0, 1, 2]


def test_methods_filter_selects_the_jobs_matching_a_pattern(harness):
    every = harness.jobs()
    names = [name for name, _ in every]
    assert len(names) == len(set(names))
    assert set(BOOSTING_PEERS + DWB_HGB) <= set(names)
    # no pattern: every job, in order
    assert harness.select_jobs(every) == every
    assert harness.select_jobs(every, []) == every
    peers = harness.select_jobs(every, ["hgb", "*_hgb", "fairgbm_*"])
    assert [name for name, _ in peers] == BOOSTING_PEERS
    dwb_hgb = harness.select_jobs(every, ["dwb_hgb_*"])
    assert [name for name, _ in dwb_hgb] == DWB_HGB
    # exact names, and a pattern matching nothing
    picked = harness.select_jobs(every, ["network", "eg_eo_lr", "no_such_*"])
    assert [name for name, _ in picked] == ["network", "eg_eo_lr"]
    # quick mode is unchanged
    quick = [name for name, _ in harness.jobs(quick=True)]
    assert len(quick) == 8 and not any(harness.uses_hgb(name) for name in quick)
    args = harness._parser().parse_args(["--methods", "hgb", "fairgbm_*"])
    assert args.methods == ["hgb", "fairgbm_*"]
    assert harness._parser().parse_args([]).methods is None


def test_lightgbm_and_xgboost_rows_plain_and_under_dwb(harness):
    pytest.importorskip("lightgbm")
    pytest.importorskip("xgboost")
    names = [name for name, _ in harness.jobs()]
    for model in ("lgbm", "xgb"):
        assert {
            model,
            f"dwb_{model}_global_0.5",
            f"dwb_{model}_auto_eod_0.05",
            f"dwb_{model}_auto_eod_0.03",
            f"dwb_{model}_auto_dpd_0.02",
        } <= set(names)
    # without a confidence level: LightGBM, the base of FairGBM
    assert "dwb_lgbm_auto_dpd_0.02_confidence_none" in names
    X, X_test, y, y_test, g, g_test = _toy_task(n=3000)
    # string labels: XGBoost is given codes, predictions come back as labels
    labels = np.array(["no", "yes"])
    data = X, X_test, labels[y], labels[y_test], g, g_test
    gaps = {}
    for model, label in [("lgbm", "LightGBM"), ("xgb", "XGBoost")]:
        ((name, family, plain, _),) = harness.run_boosted(data, 0, model=model)
        assert (name, family) == (model, "baseline")
        assert set(plain) == {"no", "yes"}
        ((name, family, dwb, _),) = harness.run_dwb_hgb(
            data, 0, strength=1.0, model=model
        )
        assert (name, family) == (f"dwb_{model}_global_1", f"DwB-{label} student")
        assert harness.boosted_of(name) == harness.boosted_of(model) == label
        assert harness.peer_group("baseline", model) == f"baseline ({label})"
        gaps[model] = [
            harness.evaluate(y_test, (y_pred == "yes").astype(int), g_test)[
                "demographic_parity_difference"
            ]
            for y_pred in (plain, dwb)
        ]
    for plain_gap, dwb_gap in gaps.values():
        assert dwb_gap < 0.7 * plain_gap


def test_expensive_runs_are_queued_last(harness):
    names = ["eg_eo_network", "eg_eo_hgb", "hgb", "fairgbm_0.02", "eg_dp_hgb"]
    assert sorted(names, key=harness.run_cost) == [
        "hgb",
        "fairgbm_0.02",
        "eg_eo_hgb",
        "eg_dp_hgb",
        "eg_eo_network",
    ]


def _toy_task(n=8000, shift=3.0, seed=0):
    """Half train, half test: the label depends on one feature and, by
    ``shift`` on the logit, on the group (the last column)."""
    rng = np.random.default_rng(seed)
    groups = rng.integers(0, 2, n)
    x = rng.normal(size=(n, 3))
    logit = 2 * x[:, 0] + shift * (groups - 0.5) + rng.logistic(size=n)
    y = (logit > 0).astype(int)
    X = np.hstack([x, groups[:, None]]).astype(np.float32)
    h = n // 2
    return X[:h], X[h:], y[:h], y[h:], groups[:h], groups[h:]


def test_fairgbm_lowers_the_equalized_odds_difference_of_hgb(harness):
    pytest.importorskip("fairgbm")
    data = _toy_task()
    ((name, family, hgb, seconds),) = harness.run_hgb(data, 0)
    assert (name, family) == ("hgb", "baseline") and seconds > 0
    ((name, family, fair, seconds),) = harness.run_fairgbm(data, 0, tolerance=0.02)
    assert (name, family) == ("fairgbm_0.02", "FairGBM") and seconds > 0
    assert fair.shape == hgb.shape == (4000,)
    assert set(fair) == {0, 1}
    plain = harness.evaluate(data[3], hgb, data[5])
    mitigated = harness.evaluate(data[3], fair, data[5])
    # plain HGB 0.41, FairGBM 0.29; accuracy 0.79 and 0.77
    assert plain["equalized_odds_difference"] > 0.3
    assert (
        mitigated["equalized_odds_difference"]
        < 0.8 * plain["equalized_odds_difference"]
    )
    assert mitigated["accuracy"] > plain["accuracy"] - 0.05
    params = harness.fairgbm_params(0.03, seed=4)
    assert params["constraint_type"] == "FNR,FPR"
    assert params["constraint_fnr_tolerance"] == params["constraint_fpr_tolerance"]
    assert params["constraint_fnr_tolerance"] == 0.03 and params["seed"] == 4


def test_reweighing_and_threshold_over_hgb(harness):
    data = _toy_task(n=4000)
    ((name, family, plain, _),) = harness.run_hgb(data, 0)
    ((name, family, reweighed, _),) = harness.run_reweighing_hgb(data, 0)
    assert (name, family) == ("reweighing_hgb", "deletion / reweighing")
    ((name, family, threshold, _),) = harness.run_fairlearn(
        data, 0, method="threshold", constraint="eo", base="hgb"
    )
    assert (name, family) == ("threshold_eo_hgb", "fairlearn")
    gap = {
        key: harness.evaluate(data[3], y_pred, data[5])["equalized_odds_difference"]
        for key, y_pred in [
            ("plain", plain),
            ("reweighed", reweighed),
            ("threshold", threshold),
        ]
    }
    assert reweighed.shape == threshold.shape == (2000,)
    # both close much of the equalized-odds gap of plain HGB (0.25 to 0.09
    # and 0.14)
    assert gap["reweighed"] < 0.7 * gap["plain"]
    assert gap["threshold"] < 0.7 * gap["plain"]


def _means(rows):
    """A results table from (task, family, method, accuracy, EOD) rows,
    two seeds each."""
    return pd.DataFrame(
        [
            {
                "task": task,
                "family": family,
                "method": method,
                "seed": seed,
                "accuracy": accuracy,
                "equalized_odds_difference": eod,
                "fit_time_s": 1.0 + seed,
            }
            for task, family, method, accuracy, eod in rows
            for seed in (0, 1)
        ]
    )


def test_boosting_peers_have_rows_of_their_own_in_the_reports(harness):
    results = _means(
        [
            ("t", "DwB student", "dwb_global_1", 0.80, 0.02),
            ("t", "DwB student", "dwb_global_0.5", 0.82, 0.04),
            ("t", "fairlearn", "eg_eo_network", 0.81, 0.01),
            ("t", "fairlearn", "eg_eo_hgb", 0.86, 0.02),
            ("t", "fairlearn", "threshold_eo_hgb", 0.84, 0.01),
            ("t", "baseline", "hgb", 0.87, 0.08),
            ("t", "FairGBM", "fairgbm_0.02", 0.85, 0.03),
            ("t", "DwB-HGB student", "dwb_hgb_global_1", 0.84, 0.04),
            ("t", "DwB-HGB student", "dwb_hgb_global_0.5", 0.86, 0.05),
            ("t", "DwB-HGB student", "dwb_hgb_global_0.25", 0.83, 0.06),
            ("u", "DwB student", "dwb_global_1", 0.70, 0.02),
            ("u", "fairlearn", "eg_eo_hgb", 0.75, 0.01),
        ]
    )
    best = harness.best_under_bound(results, 0.05)
    # fairlearn over HGB does not hide fairlearn over the network
    assert best.loc[("t", "fairlearn"), "method"] == "eg_eo_network"
    assert best.loc[("t", "fairlearn (HGB)"), "method"] == "eg_eo_hgb"
    assert best.loc[("t", "FairGBM"), "accuracy"] == pytest.approx(0.85)
    assert best.loc[("t", "DwB-HGB student"), "method"] == "dwb_hgb_global_0.5"
    assert best.loc[("t", "DwB-HGB student"), "fit_time_s"] == pytest.approx(1.5)
    assert ("t", "baseline (HGB)") not in best.index  # EOD 0.08
    fronts = harness.dominated_front_points(results).set_index("task")
    # DwB (network) against fairlearn over LR / the network only: eg_eo_hgb
    # (0.86, 0.02) would beat dwb_global_0.5 (0.82, 0.04) too
    assert fronts.loc["t", "DwB front"] == "dwb_global_1, dwb_global_0.5"
    assert fronts.loc["t", "dominated by fairlearn"] == "dwb_global_1"
    # dwb_hgb_global_0.25 is beaten by dwb_hgb_global_1 itself; the eg_eo_hgb
    # point beats dwb_hgb_global_1 (0.84, 0.04) but not dwb_hgb_global_0.5
    assert fronts.loc["t", "DwB-HGB front"] == "dwb_hgb_global_1, dwb_hgb_global_0.5"
    rival = "dominated by FairGBM / fairlearn (HGB)"
    assert fronts.loc["t", rival] == "dwb_hgb_global_1"
    assert fronts.loc["u", "DwB-HGB front"] == "not run"
    assert fronts.loc["u", "dominated by fairlearn"] == "none"
    assert set(harness.FAMILY_STYLE) >= {
        "FairGBM",
        "DwB-HGB student",
        "fairlearn (HGB)",
        "deletion / reweighing (HGB)",
        "baseline (HGB)",
    }


def _declared_outputs(scripts):
    """The file patterns the scripts declare they write (``OUTPUTS``)."""
    patterns = {}
    for script in scripts:
        for node in ast.parse(script.read_text()).body:
            if isinstance(node, ast.Assign) and any(
                getattr(target, "id", None) == "OUTPUTS" for target in node.targets
            ):
                patterns[script.name] = ast.literal_eval(node.value)
    return patterns


@pytest.mark.parametrize(
    "folder, scripts",
    [
        ("benchmarks/results", ["benchmarks/*.py"]),
        ("benchmarks/studies/results", ["benchmarks/studies/*.py"]),
        (
            "docs/benchmarks",
            ["benchmarks/run.py", "benchmarks/ranking.py", "benchmarks/honest.py"],
        ),
    ],
)
def test_every_results_file_is_written_by_a_script(folder, scripts):
    """No results file lies in a results folder that no committed script
    declares it writes; each script declares its outputs."""
    found = sorted(path for pattern in scripts for path in ROOT.glob(pattern))
    declared = _declared_outputs(found)
    patterns = [p for outputs in declared.values() for p in outputs]
    assert patterns
    for result in sorted((ROOT / folder).iterdir()):
        if (
            result.suffix in (".md", ".png", ".csv", ".json")
            and result.name != "index.md"
        ):
            assert any(fnmatch.fnmatch(result.name, p) for p in patterns), result


def test_every_study_has_its_row_in_the_index():
    """benchmarks/studies/: each script is named in the README's index with
    each results file it writes, and takes ``--output``."""
    studies = ROOT / "benchmarks" / "studies"
    index = (studies / "README.md").read_text()
    declared = _declared_outputs(sorted(studies.glob("*.py")))
    assert len(declared) == len(list(studies.glob("*.py")))
    for name, outputs in declared.items():
        assert f"benchmarks/studies/{name}" in index
        for output in outputs:
            assert f"results/{output}" in index
        # its command line writes where it is told
        assert '"--output"' in (studies / name).read_text()
