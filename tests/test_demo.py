"""The demo (``python -m sklearn_dwb.demo``)."""

import pytest

from sklearn_dwb.demo import explain, main, run


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dwb_beats_the_network_against_the_fair_labels(seed):
    table = run(n_samples=3000, random_state=seed)
    plain, dwb = table.loc["unmitigated network"], table.loc["DwB student"]
    assert dwb["fair", "accuracy"] > plain["fair", "accuracy"] + 0.03
    assert dwb["fair", "EOD"] < plain["fair", "EOD"] - 0.05
    assert dwb["fair", "DPD"] < plain["fair", "DPD"]
    # the observed labels carry the bias: DPD is the same against either
    assert dwb["fair", "DPD"] == dwb["observed", "DPD"]


def test_demo_prints_both_views_and_what_they_mean(capsys):
    main(["--n-samples", "1500"])
    out = capsys.readouterr().out
    assert "observed" in out and "fair" in out
    assert "unmitigated network" in out and "DwB student" in out
    assert "fair decision rule" in out and "max_disparity" in out


def test_explanation_quotes_the_table():
    table = run(n_samples=1500, random_state=0)
    text = explain(table)
    assert f"{table.loc['DwB student', ('fair', 'EOD')]:.3f}" in text
    assert len(text.splitlines()) == 3
