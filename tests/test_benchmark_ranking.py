"""The ranking at a bound (``benchmarks/ranking.py``) and the noise floor
(``benchmarks/noise_floor.py``): paired differences, wins, ties and losses, and
each bound's floor."""

import importlib.util
import json
import sys

import _helpers_benchmark
import numpy as np
import pandas as pd
import pytest
from _helpers_benchmark import ROOT, _results

# the scripts imported as modules: fixtures of _helpers_benchmark
ranking = _helpers_benchmark.ranking


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
