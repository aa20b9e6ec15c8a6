"""The figures the README and the guide pages state are those of the
committed result files: the benchmark's means in
``docs/benchmarks/results.csv``, the costs in
``benchmarks/results/estimator_cost.json`` and the coverage study's counts
in ``benchmarks/results/coverage*.csv``. No model is fitted here."""

import json
import re
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
RESULTS = ROOT / "docs" / "benchmarks" / "results.csv"
COST = ROOT / "benchmarks" / "results" / "estimator_cost.json"
COVERAGE = {
    "the network": ROOT / "benchmarks" / "results" / "coverage.csv",
    "gradient boosting": ROOT / "benchmarks" / "results" / "coverage_hgb.csv",
}
METRICS = {
    "DPD": "demographic_parity_difference",
    "EOD": "equalized_odds_difference",
}
NUMBER = r"(\d+(?:\.\d+)?)"


def _flat(text):
    """The text with every run of whitespace made one space, so that the
    README's line breaks do not matter."""
    return " ".join(text.split())


def _paragraph(text, start):
    """The paragraph of ``text`` that begins with ``start``, flattened."""
    begin = text.index(start)
    end = text.find("\n\n", begin)
    return _flat(text[begin : end if end >= 0 else None])


def _section(text, heading):
    """The markdown section under ``heading``, up to the next heading of the
    same or a higher level."""
    level = heading.split(" ", 1)[0]
    begin = text.index(heading + "\n")
    following = re.compile(rf"^#{{1,{len(level)}}} ", re.MULTILINE)
    found = following.search(text, begin + len(heading))
    return text[begin : found.start() if found else None]


def _markdown_table(text):
    """The first pipe table of ``text``: its header cells and its rows."""
    lines = [line for line in text.splitlines() if line.startswith("|")]
    cells = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]
    return cells[0], cells[2:]


def _stated(paragraph, pattern):
    """The numbers that ``pattern`` captures in ``paragraph``."""
    found = re.search(pattern, paragraph)
    assert found, f"the README no longer states {pattern!r}: {paragraph}"
    return found.groups()


@pytest.fixture(scope="module")
def results():
    return pd.read_csv(RESULTS)


@pytest.fixture(scope="module")
def benchmark_paragraph():
    return _paragraph(README.read_text(), "Over the [benchmark]")


def _mean(results, task, method, column):
    rows = results[(results["task"] == task) & (results["method"] == method)]
    assert len(rows), f"no rows of {method} on {task} in {RESULTS.name}"
    return rows[column].mean()


def _paired_lead(results, task, first, second):
    """The mean accuracy difference of ``first`` over ``second``, paired by
    seed (every method of a task runs on the same splits)."""
    rows = results[results["task"] == task]
    accuracy = rows.pivot(index="seed", columns="method", values="accuracy")
    return (accuracy[first] - accuracy[second]).dropna().mean()


# (what the README says, as a pattern capturing each figure; the
# (task, method, column) whose mean over the seeds each figure is)
ACCURACY_AT_EOD = [
    (
        rf"on `adult-sex`, {NUMBER} at a test EOD of {NUMBER} "
        r"with `max_disparity=0\.03`",
        "adult-sex",
        "dwb_hgb_auto_eod_0.03",
    ),
    (
        rf"\(the network: {NUMBER} and {NUMBER}\)",
        "adult-sex",
        "dwb_auto_eod_0.03_confidence_0.9",
    ),
    (
        rf"and {NUMBER} at {NUMBER} at the fixed strength 0\.5\.",
        "adult-sex",
        "dwb_hgb_global_0.5",
    ),
    (
        rf"ExponentiatedGradient \(EqualizedOdds\) gets {NUMBER} at {NUMBER} in",
        "adult-sex",
        "eg_eo_hgb",
    ),
    (
        rf"FairGBM {NUMBER} at {NUMBER} \(tolerance 0\.02\)",
        "adult-sex",
        "fairgbm_0.02",
    ),
    (
        rf"and {NUMBER} at {NUMBER} \(tolerance 0\.04\)",
        "adult-sex",
        "fairgbm_0.04",
    ),
    (
        rf"by {NUMBER} \({NUMBER} at {NUMBER} against",
        "adult-race",
        "fairgbm_0.01",
    ),
    (
        rf"against DwB's {NUMBER} at {NUMBER}, at the fixed strength 0\.5\)",
        "adult-race",
        "dwb_hgb_global_0.5",
    ),
]


@pytest.mark.parametrize(
    ("pattern", "task", "method"),
    ACCURACY_AT_EOD,
    ids=[f"{task}-{method}" for _, task, method in ACCURACY_AT_EOD],
)
def test_readme_benchmark_figures_are_the_results_means(
    results, benchmark_paragraph, pattern, task, method
):
    """Each accuracy and test EOD of the README's benchmark paragraph is
    the mean over the task's seeds in results.csv, rounded to 3 decimals."""
    stated = _stated(benchmark_paragraph, pattern)[-2:]
    expected = [
        f"{_mean(results, task, method, column):.3f}"
        for column in ("accuracy", "equalized_odds_difference")
    ]
    assert list(stated) == expected, f"{method} on {task}"


def test_readme_benchmark_seeds_leads_and_fit_time(results, benchmark_paragraph):
    """The number of seeds, the two paired leads of FairGBM over DwB, and
    ExponentiatedGradient's fit time are those of results.csv; at
    EOD <= 0.03 on adult-sex every FairGBM and ExponentiatedGradient mean is
    above the bound, and DwB's within it."""
    (seeds,) = _stated(benchmark_paragraph, r"\((\d+) seeds, means\)")
    for task in ("adult-sex", "adult-race"):
        assert results.loc[results["task"] == task, "seed"].nunique() == int(seeds)

    (lead,) = _stated(benchmark_paragraph, rf"{NUMBER} ahead of DwB")
    expected = _paired_lead(results, "adult-sex", "fairgbm_0.04", "dwb_hgb_global_0.5")
    assert lead == f"{expected:.4f}"
    (lead,) = _stated(benchmark_paragraph, rf"at EOD <= 0\.03 by {NUMBER}")
    expected = _paired_lead(results, "adult-race", "fairgbm_0.01", "dwb_hgb_global_0.5")
    assert lead == f"{expected:.4f}"

    (seconds,) = _stated(benchmark_paragraph, rf"in {NUMBER} s,")
    fit_time = _mean(results, "adult-sex", "eg_eo_hgb", "fit_time_s")
    assert seconds == f"{fit_time:.0f}"

    adult = results[results["task"] == "adult-sex"]
    eod = adult.groupby("method")["equalized_odds_difference"].mean()
    above = eod[eod.index.str.startswith("fairgbm_") | (eod.index == "eg_eo_hgb")]
    assert len(above) > 1 and (above > 0.03).all()
    assert eod["dwb_hgb_auto_eod_0.03"] <= 0.03


def test_readme_costs_are_the_committed_ratios(benchmark_paragraph):
    """The cost of a fixed-strength fit against a plain fit, and of "auto"
    with a bound against a fixed-strength fit, are the means of the per-seed
    ratios in estimator_cost.json."""
    fixed, auto = _stated(
        benchmark_paragraph,
        rf"costs {NUMBER} times a plain fit of the model, "
        rf"`\"auto\"` with a bound {NUMBER} times a fixed-strength fit",
    )
    runs = pd.DataFrame(json.loads(COST.read_text())["runs"])
    times = runs.pivot(index="seed", columns="config", values="fit_time_s")
    fixed_ratio = (times["DwB, strength 0.5"] / times["plain"]).mean()
    auto_ratio = (times["DwB, auto, EOD <= 0.03"] / times["DwB, strength 0.5"]).mean()
    assert (fixed, auto) == (f"{fixed_ratio:.1f}", f"{auto_ratio:.1f}")


def _coverage(model, metric, bound, confidence):
    """Fits of the coverage study, and how many were within the bound on
    the population; ``confidence=None`` is the rows without a level."""
    rows = pd.read_csv(COVERAGE[model])
    rows = rows[(rows["metric"] == metric) & (rows["bound"] == bound)]
    if confidence is None:
        rows = rows[rows["confidence"].isna()]
    else:
        rows = rows[rows["confidence"] == confidence]
    within = int((rows["population_disparity"] <= rows["bound"]).sum())
    return within, len(rows)


def _bounds(header):
    """(column, metric, bound) of every header cell naming a bound."""
    found = []
    for column, cell in enumerate(header):
        match = re.search(rf"\b(DPD|EOD) <= {NUMBER}", cell)
        if match:
            found.append((column, METRICS[match[1]], float(match[2])))
    return found


def _counts(cell):
    match = re.search(r"(\d+) of (\d+)", cell)
    assert match, f"no count in {cell!r}"
    return int(match[1]), int(match[2])


def _readme_promise():
    section = _section(README.read_text(), "## What the bound promises")
    assert "`confidence=0.9`" in section
    return _markdown_table(section)


def test_readme_promise_table_counts_are_the_coverage_rows():
    """The promise table: for each model and bound, the fits within the
    bound at confidence=0.9 in the committed coverage rows."""
    header, rows = _readme_promise()
    bounds = _bounds(header)
    assert [metric for _, metric, _ in bounds] == list(METRICS.values())
    models = {row[0].split(" (")[0]: row for row in rows}
    assert set(models) == set(COVERAGE)
    for model, row in models.items():
        for column, metric, bound in bounds:
            stated = _counts(row[column])
            assert stated == _coverage(model, metric, bound, 0.9), (model, metric)


def _list_table(text):
    """The rows of the first reStructuredText list-table in ``text``."""
    rows = []
    for line in text.splitlines():
        item = re.match(r"\s*(\*)? +- (.*)", line)
        if not item or "list-table" in line:
            continue
        if item[1]:
            rows.append([])
        rows[-1].append(item[2].strip())
    return rows


def test_landing_page_promise_table_is_the_readme_table():
    """docs/index.rst repeats the README's promise table, cell for cell."""
    header, rows = _readme_promise()
    landing = (ROOT / "docs" / "index.rst").read_text()
    table = landing[landing.index(".. list-table::") :]
    assert _list_table(table) == [header, *rows]


def test_configuration_confidence_table_is_the_coverage_rows():
    """The network's counts by confidence level on the configuration page
    are the committed coverage rows."""
    page = (ROOT / "docs" / "configuration.md").read_text()
    header, rows = _markdown_table(_section(page, "## How sure: choosing `confidence`"))
    bounds = _bounds(header)
    assert len(bounds) == 2
    for row in rows:
        level = re.search(rf"^(?:None|{NUMBER})", row[0].strip("` "))
        assert level, row[0]
        confidence = None if level[0] == "None" else float(level[0])
        for column, metric, bound in bounds:
            stated = _counts(row[column])
            expected = _coverage("the network", metric, bound, confidence)
            assert stated == expected, (confidence, metric)


def test_benchmark_page_noise_floor_table_is_the_committed_floor():
    """The benchmark page's noise-floor table: each task's mean and 95th
    percentile test EOD and DPD of an exactly fair classifier, as
    benchmarks/noise_floor.py wrote them."""
    floors = json.loads(
        (ROOT / "benchmarks" / "results" / "noise_floor.json").read_text()
    )["summary_mean_over_seeds"]
    page = (ROOT / "docs" / "benchmarks" / "index.md").read_text()
    for task, floor in floors.items():
        values = [
            floor[key]
            for key in ("floor_mean", "floor_p95", "dpd_floor_mean", "dpd_floor_p95")
        ]
        row = f"| {task} | " + " | ".join(f"{v:.3f}" for v in values) + " |"
        assert row in page, row
