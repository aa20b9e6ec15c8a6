"""The benchmark harness (``benchmarks/run.py``): its quick mode (run in CI),
resuming, the command line, and the reweighing weights."""

import ast
import doctest
import fnmatch
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.utils import Bunch

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


NOISE = np.array([0.004, -0.003, 0.002, -0.004, 0.001])


def _three_tasks():
    """Three tasks. "clear": DwB 0.02 above EG on every split; "close":
    within the noise; "noisy": like "clear", its floor above the bound in
    the tests; the unmitigated network is more accurate but outside the
    bound."""
    base = np.array([0.80, 0.82, 0.81, 0.79, 0.80])
    noise = NOISE
    return pd.concat(
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


def test_paired_differences_rank_a_winner_and_a_tie(ranking):
    results = _three_tasks()
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
    half = 2.776445 * np.std(2 * NOISE, ddof=1) / np.sqrt(5)  # t(0.975, 4)
    assert pairs[0][3] == pytest.approx(pairs[0][2] - half)


FLOORS = {"clear": 0.01, "close": 0.01, "noisy": 0.06}


def test_wins_ties_losses_leave_out_an_unrankable_task(ranking):
    results = _three_tasks()
    best = ranking.best_settings(results, "equalized_odds_difference", 0.05)
    # a floor above the bound: not ranked, whatever the differences
    floors = FLOORS
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


def test_behind_names_the_peer_and_the_gap(ranking):
    results, floors = _three_tasks(), FLOORS
    best = ranking.best_settings(results, "equalized_odds_difference", 0.05)
    # where DwB is behind beyond the interval: nowhere here, but EG is
    # behind DwB on "clear" by 0.02, and not on the tied or unrankable tasks
    assert (
        ranking.behind(results, best, floors, "equalized_odds_difference", 0.05) == []
    )
    gaps = ranking.behind(
        results,
        best,
        floors,
        "equalized_odds_difference",
        0.05,
        focal="ExponentiatedGradient (LR)",
    )
    assert [(task, peer) for task, peer, *_ in gaps] == [("clear", "DwB (network)")]
    assert gaps[0][2] == pytest.approx(0.02) and gaps[0][3] == pytest.approx(0.02)
    # a focal method without a setting within the bound: the best peer named
    strict = ranking.best_settings(results, "equalized_odds_difference", 0.015)
    gaps = ranking.behind(results, strict, floors, "equalized_odds_difference", 0.015)
    assert [(t, p) for t, p, *_ in gaps] == [("clear", "ExponentiatedGradient (LR)")]
    assert np.isnan(gaps[0][2])


@pytest.fixture(scope="module")
def noise_floor():
    """``benchmarks/noise_floor.py`` imported as a module (it imports
    ``run`` from beside it)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        spec = importlib.util.spec_from_file_location(
            "benchmark_noise_floor", ROOT / "benchmarks" / "noise_floor.py"
        )
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    return module


def test_demographic_parity_floor_from_counts(noise_floor):
    from fairlearn.metrics import demographic_parity_difference

    # a: 2 of 4 selected (0.5), b: 1 of 5 (0.2), c: 3 of 3 (1.0)
    groups = np.array(["a"] * 4 + ["b"] * 5 + ["c"] * 3)
    y_pred = np.array([1, 1, 0, 0] + [1, 0, 0, 0, 0] + [1, 1, 1])
    _, codes = np.unique(groups, return_inverse=True)
    assert noise_floor.dpd_from_counts(y_pred, codes, 3) == pytest.approx(0.8)
    two = groups != "c"
    assert noise_floor.dpd_from_counts(y_pred[two], codes[two], 2) == pytest.approx(0.3)
    # fairlearn's demographic-parity difference on random draws
    rng = np.random.default_rng(0)
    for _ in range(5):
        groups = rng.choice(["x", "y", "z"], size=200, p=[0.6, 0.3, 0.1])
        y_pred = (rng.random(200) < 0.4).astype(int)
        _, codes = np.unique(groups, return_inverse=True)
        expected = demographic_parity_difference(
            rng.integers(0, 2, 200), y_pred, sensitive_features=groups
        )
        assert noise_floor.dpd_from_counts(y_pred, codes, 3) == pytest.approx(
            expected, abs=1e-12
        )


def test_ranking_takes_the_floor_of_the_bounds_metric(ranking, tmp_path):
    base = np.array([0.80, 0.82, 0.81, 0.79, 0.80])
    accuracies = {"dwb_global_1": base + 0.02, "eg_dp_lr": base}
    disparity = {"dwb_global_1": 0.01, "eg_dp_lr": 0.01}
    results = pd.concat(
        [_results(task, accuracies, disparity) for task in ("wide", "narrow")]
    ).assign(demographic_parity_difference=lambda r: r.equalized_odds_difference)
    # noise_floor.json: "wide" has a DPD floor of 0.03 (above 0.02), an EOD
    # floor of 0.01; "narrow" 0.01 and 0.06
    splits = [
        {"task": task, "seed": seed, "floor_mean": eod, "dpd_floor_mean": dpd}
        for task, eod, dpd in (("wide", 0.01, 0.03), ("narrow", 0.06, 0.01))
        for seed in range(2)
    ]
    path = tmp_path / "noise_floor.json"
    path.write_text(json.dumps({"splits": splits}))
    floors = ranking.noise_floors(path)
    assert floors == {
        "equalized_odds_difference": {"narrow": 0.06, "wide": 0.01},
        "demographic_parity_difference": {"narrow": 0.01, "wide": 0.03},
    }
    dpd = "demographic_parity_difference"
    best = ranking.best_settings(results, dpd, 0.02)
    eg = ranking.wins_ties_losses(results, best, floors, dpd, 0.02)[
        "ExponentiatedGradient (LR)"
    ]
    assert (eg["wins"], eg["cannot rank"]) == (1, 1)  # "narrow" won
    eod = "equalized_odds_difference"
    best = ranking.best_settings(results, eod, 0.05)
    eg = ranking.wins_ties_losses(results, best, floors, eod, 0.05)[
        "ExponentiatedGradient (LR)"
    ]
    assert (eg["wins"], eg["cannot rank"]) == (1, 1)  # "wide" won
    # a flat task -> floor mapping is the equalized-odds floor
    flat = {"wide": 0.03, "narrow": 0.06}
    assert ranking.floor_of(flat, eod, "wide") == 0.03
    assert np.isnan(ranking.floor_of(flat, dpd, "wide"))
    # the report names each bound's metric and uses its floor
    text, summary = ranking.report(results, floors)
    dpd_section = text.split("## DPD <= 0.02")[1]
    assert "| task | noise floor (DPD) | status |" in dpd_section
    assert "| wide | 0.030 | cannot rank at this bound |" in dpd_section
    assert "| narrow | 0.010 | first: DwB (network)" in dpd_section
    assert "| task | noise floor (EOD) | status |" in text.split("## EOD <= 0.03")[1]
    dwb = summary["DPD <= 0.02"]["DwB (network)"]
    assert dwb["ExponentiatedGradient (LR)"]["cannot rank"] == 1
    # DwB on gradient boosting has its own table; it has no rows here
    assert (
        summary["DPD <= 0.02"]["DwB-HGB"]["ExponentiatedGradient (LR)"]["not run"] == 2
    )
    assert "DwB-HGB against each method at DPD <= 0.02" in text


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


def test_ranking_knows_the_boosting_methods(ranking):
    expected = {
        "dwb_hgb_global_1": "DwB-HGB",
        "dwb_hgb_auto_eod_0.03": "DwB-HGB",
        "fairgbm_0.02": "FairGBM",
        "eg_eo_hgb": "EG-HGB",
        "eg_dp_hgb": "EG-HGB",
        "threshold_eo_hgb": "TO-HGB",
        "reweighing_hgb": "reweighing-HGB",
        "hgb": "HGB",
        "lgbm": "LightGBM",
        "xgb": "XGBoost",
        "dwb_lgbm_auto_eod_0.03": "DwB-LightGBM",
        "dwb_xgb_global_0.5": "DwB-XGBoost",
        # the earlier methods keep theirs
        "dwb_global_1": "DwB (network)",
        "dwb_global_1_teacher": None,
        "reweighing": "reweighing (network)",
        "threshold_eo_lr": "ThresholdOptimizer (LR)",
        "eg_eo_network": "ExponentiatedGradient (network)",
    }
    assert {m: ranking.method_of(m) for m in expected} == expected
    base = np.array([0.80, 0.82, 0.81, 0.79, 0.80])
    results = pd.concat(
        [
            _results(
                "a",
                {"dwb_global_1": base, "fairgbm_0.02": base + 0.01},
                {"dwb_global_1": 0.02, "fairgbm_0.02": 0.02},
            ),
            _results("b", {"dwb_global_1": base}, {"dwb_global_1": 0.02}),
        ]
    )
    best = ranking.best_settings(results, "equalized_odds_difference", 0.05)
    counts = ranking.wins_ties_losses(
        results, best, {}, "equalized_odds_difference", 0.05, not_run=True
    )
    # FairGBM 0.01 above DwB on every split of "a"; not run on "b"
    assert counts["FairGBM"]["losses"] == 1 and counts["FairGBM"]["not run"] == 1
    assert counts["DwB-HGB"]["not run"] == 2 and counts["DwB-HGB"]["wins"] == 0
    # without not_run, a method with no result counts as beaten
    counts = ranking.wins_ties_losses(
        results, best, {}, "equalized_odds_difference", 0.05
    )
    assert counts["FairGBM"]["wins"] == 1 and counts["FairGBM"]["not run"] == 0


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
        ("benchmarks/results", "benchmarks/*.py"),
        ("benchmarks/studies/results", "benchmarks/studies/*.py"),
        ("docs/benchmarks", "benchmarks/[rr][ua]n*.py"),
    ],
)
def test_every_results_file_is_written_by_a_script(folder, scripts):
    """No results file lies in a results folder that no committed script
    declares it writes; each script declares its outputs."""
    found = sorted(ROOT.glob(scripts))
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


# ------------------------------------------------ command-line refusals
def _refusal(main, argv, capsys):
    """``main(argv)`` exits as argparse refuses (status 2, no traceback):
    the error line it prints."""
    with pytest.raises(SystemExit) as refused:
        main(argv)
    assert refused.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "error: argument" in err[-1] and "Traceback" not in "\n".join(err)
    return err[-1]


@pytest.mark.parametrize("seeds", ["0", "-1", "two"])
def test_run_refuses_a_number_of_seeds_below_one(harness, tmp_path, seeds, capsys):
    out = tmp_path / "out"
    line = _refusal(harness.main, ["--seeds", seeds, "--output-dir", str(out)], capsys)
    assert f"argument --seeds: {seeds!r} is not a number of seeds" in line
    assert "give a positive integer" in line
    assert not out.exists()  # refused before any work
    assert harness._parser().parse_args(["--seeds", "3"]).seeds == 3


def test_run_refuses_methods_that_match_nothing(harness, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["--output-dir", str(out), "--methods", "network", "dwb_hgb_glob*x"]
    line = _refusal(harness.main, argv, capsys)
    assert "argument --methods: 'dwb_hgb_glob*x' matches no method" in line
    # the closest names are offered
    assert "e.g. dwb_hgb_global_" in line
    assert f"({len(harness.jobs())} methods)" in line
    assert not out.exists()
    # with --quick, only the quick methods count
    argv = ["--quick", "--output-dir", str(out), "--methods", "hgb"]
    line = _refusal(harness.main, argv, capsys)
    assert "'hgb' matches no method" in line and "with --quick" in line
    assert "logistic_regression" in line and not out.exists()


def test_run_takes_the_numbers_of_jobs_joblib_takes(harness, tmp_path, capsys):
    parse = harness._parser().parse_args
    for n_jobs in (1, 4, -1, -2):
        assert parse(["--n-jobs", str(n_jobs)]).n_jobs == n_jobs
    for bad in ("0", "many"):
        argv = ["--n-jobs", bad, "--output-dir", str(tmp_path / "out")]
        line = _refusal(harness.main, argv, capsys)
        assert f"argument --n-jobs: {bad!r} is not a number of processes" in line
        assert "-1 for every core" in line
    assert not (tmp_path / "out").exists()


def test_run_refuses_an_output_dir_under_a_file(harness, tmp_path, capsys):
    blocking = tmp_path / "file"
    blocking.write_text("")
    for out in (blocking / "results", blocking):
        line = _refusal(harness.main, ["--output-dir", str(out)], capsys)
        assert f"argument --output-dir: {blocking} is a file, not a folder" in line


@pytest.fixture
def ranking_inputs(tmp_path):
    """A folder with a small valid results.csv and noise_floor.json."""
    base = np.array([0.80, 0.82, 0.81])
    accuracies = {"dwb_global_1": base + 0.01, "eg_eo_lr": base}
    disparity = {"dwb_global_1": 0.01, "eg_eo_lr": 0.02}
    results = _results("t", accuracies, disparity)
    results["demographic_parity_difference"] = 0.01
    results.to_csv(tmp_path / "results.csv", index=False)
    splits = [{"task": "t", "seed": 0, "floor_mean": 0.01, "dpd_floor_mean": 0.01}]
    (tmp_path / "noise_floor.json").write_text(json.dumps({"splits": splits}))
    return tmp_path


def _ranking_argv(
    folder, results="results.csv", noise_floor="noise_floor.json", output="ranking.md"
):
    return [
        *("--results", str(folder / results)),
        *("--noise-floor", str(folder / noise_floor)),
        *("--output", str(folder / output)),
    ]


def test_ranking_refuses_missing_or_garbled_inputs(ranking, ranking_inputs, capsys):
    folder = ranking_inputs
    (folder / "semicolons.csv").write_text("task;method\nt;hgb\n")
    header = (folder / "results.csv").read_text().splitlines()[0]
    (folder / "header.csv").write_text(header + "\n")
    (folder / "text.csv").write_text(header + "\nt,hgb,0,high,0.1,0.1\n")
    (folder / "broken.json").write_text("{")
    cases = [
        (
            {"results": "none/results.csv"},
            f"--results: no file {folder / 'none' / 'results.csv'}",
            f"`python benchmarks/run.py --output-dir {folder / 'none'}`",
        ),
        (
            {"results": "semicolons.csv"},
            "lacks the column(s) task, method, seed, accuracy",
            "give --results the results.csv `python benchmarks/run.py` writes",
        ),
        ({"results": "header.csv"}, "header.csv holds no results", "run.py"),
        ({"results": "text.csv"}, "other values than numbers in accuracy", "run.py"),
        (
            {"noise_floor": "floor.json"},
            "--noise-floor: no file",
            f"`python benchmarks/noise_floor.py --output {folder / 'floor.json'}`",
        ),
        (
            {"noise_floor": "broken.json"},
            "is not a noise floor file",
            "benchmarks/noise_floor.py --output",
        ),
        (
            {"output": "missing/ranking.md"},
            f"--output: no folder {folder / 'missing'}",
            f"(`mkdir -p {folder / 'missing'}`)",
        ),
    ]
    for paths, problem, fix in cases:
        line = _refusal(ranking.main, _ranking_argv(folder, **paths), capsys)
        assert problem in line and fix in line, line
    assert not (folder / "ranking.md").exists()
    # the valid inputs give the report
    ranking.main(_ranking_argv(folder))
    assert "## EOD <= 0.05" in (folder / "ranking.md").read_text()
    assert (folder / "ranking.json").exists()


def test_ranking_command_line_prints_one_error_line(ranking_inputs):
    argv = _ranking_argv(ranking_inputs, results="none.csv")
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "ranking.py"), *argv],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert (
        out.stderr.strip()
        .splitlines()[-1]
        .startswith("python benchmarks/ranking.py: error: argument --results: no file")
    )


def test_run_refuses_to_resume_a_table_it_did_not_write(harness, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.csv").write_text("a,b\n1,2\n")
    line = _refusal(harness.main, ["--output-dir", str(out)], capsys)
    assert "results.csv is not a results table of this script" in line
    assert "lacks the columns task, method, family, seed" in line
