"""The figures the README and the guide pages state are those of the
committed result files: the benchmark's means in
``docs/benchmarks/results.csv`` and, for settings chosen on training data,
``docs/benchmarks/honest.csv``, the costs in
``benchmarks/results/estimator_cost.json`` and the coverage study's counts
in ``benchmarks/results/coverage*.csv``. No model is fitted here."""

import json
import re
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
RESULTS = ROOT / "docs" / "benchmarks" / "results.csv"
HONEST = ROOT / "docs" / "benchmarks" / "honest.csv"
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


@pytest.fixture(scope="module")
def selection():
    """Every method's test rows per bound as the selection report reads
    them (honest.csv and results.csv), over the seeds the selection ran."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from comparison.honest_report import candidates

    return candidates(pd.read_csv(HONEST), pd.read_csv(RESULTS))


# (what the README says, as a pattern capturing accuracy, EOD and, where
# stated, the splits within the bound and the splits; the method of the
# selection report at EOD <= 0.03 on adult-sex whose means they are)
SELECTED_AT_EOD = [
    (
        rf"DwB over LightGBM \(`\"auto\"`, `max_disparity=0\.03`\) gets, on "
        rf"`adult-sex`, {NUMBER} at a test EOD of {NUMBER}, within 0\.03 on "
        r"(\d+) of (\d+) splits",
        "dwb_lgbm_auto",
    ),
    (
        rf"over HistGradientBoosting {NUMBER} at {NUMBER} \((\d+) of (\d+)\)",
        "dwb_hgb_auto",
    ),
    (rf"over the network {NUMBER} at {NUMBER} \((\d+) of (\d+)\)", "dwb_auto"),
    (rf"cross-validation gets {NUMBER} at {NUMBER} \((\d+) of (\d+)\)", "fairgbm_cv"),
    (rf"OxonFair {NUMBER} at {NUMBER} \((\d+) of (\d+)\)", "oxonfair_hgb"),
    (rf"error-parity {NUMBER} at {NUMBER} \((\d+) of (\d+)\)", "error_parity_hgb"),
    (rf"bound at 0\.03 {NUMBER} at {NUMBER} \((\d+) of (\d+)\)", "eg_hgb"),
    (
        rf"prediction time, {NUMBER} at {NUMBER} \((\d+) of (\d+)\)",
        "threshold_hgb",
    ),
]


@pytest.mark.parametrize(("pattern", "method"), SELECTED_AT_EOD)
def test_readme_selection_figures_are_the_report_means(
    selection, benchmark_paragraph, pattern, method
):
    """Each accuracy and test EOD of the README's selection sentence is the
    mean over the selection's seeds, rounded to 3 decimals, and the splits
    within EOD <= 0.03 are counted from the same rows."""
    stated = _stated(benchmark_paragraph, pattern)
    rows = selection[
        (selection["task"] == "adult-sex")
        & (selection["bound"] == "EOD <= 0.03")
        & (selection["method"] == method)
    ]
    assert len(rows), f"no rows of {method} in the selection"
    eod = rows["equalized_odds_difference"]
    expected = [f"{rows['accuracy'].mean():.3f}", f"{eod.mean():.3f}"]
    expected += [str(int((eod <= 0.03).sum())), str(len(rows))]
    assert list(stated) == expected, method
    (seeds,) = _stated(benchmark_paragraph, r"(\d+) seeds, means\)")
    assert int(seeds) == len(rows)


def test_readme_best_case_figures_are_the_results_means(results, benchmark_paragraph):
    """The best-case sentence: FairGBM's and DwB-XGBoost's means on
    adult-sex in results.csv, and FairGBM's paired lead."""
    stated = _stated(
        benchmark_paragraph,
        rf"FairGBM \({NUMBER} at {NUMBER}, tolerance 0\.04\) and DwB over "
        rf"XGBoost \({NUMBER} at {NUMBER}, fixed strength 0\.5\)",
    )
    expected = [
        f"{_mean(results, 'adult-sex', method, column):.3f}"
        for method in ("fairgbm_0.04", "dwb_xgb_global_0.5")
        for column in ("accuracy", "equalized_odds_difference")
    ]
    assert list(stated) == expected
    (lead,) = _stated(benchmark_paragraph, rf"FairGBM {NUMBER} ahead")
    expected = _paired_lead(results, "adult-sex", "fairgbm_0.04", "dwb_xgb_global_0.5")
    assert lead == f"{expected:.4f}"


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
