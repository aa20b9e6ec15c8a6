"""Best case: each method at its most accurate setting within the bound on test.

The ranking users can act on is ``benchmarks/honest.py``'s, where every
method picks its setting from the training rows alone. This one is its
appendix: for each task and bound (EOD <= 0.05, EOD <= 0.03, DPD <= 0.02), each
*method* (a family of settings, see ``METHODS``: every DwB setting of the
network is one method, every ExponentiatedGradient setting over
LogisticRegression another, ...) is represented by its most accurate setting
whose *mean* test disparity over the task's seeds is within the bound. For
every pair of methods, the mean paired difference in test accuracy over the
seeds both ran, with a 95% t-interval (``mean +- t(0.975, n - 1) * sd /
sqrt(n)``, the seeds being the task's splits: the same splits for every
method). A method is "first" only when its interval against every other
method lies above zero; otherwise the most accurate method is "tied" with
the methods whose interval against it holds zero. A task whose noise floor
of the bound's metric (``noise_floor.json``, mean over the seeds: the mean
test EOD of classifiers with exactly equal TPR and FPR in every group for an
equalized-odds bound, the mean test DPD of classifiers with exactly equal
selection rates for a demographic-parity bound) is above the bound "cannot
be ranked at this bound". The methods
over HistGradientBoostingClassifier (``hgb``, ``reweighing_hgb``,
``eg_*_hgb``, ``threshold_eo_hgb``, ``dwb_hgb_*``), LightGBM and XGBoost
(``lgbm``, ``xgb``, ``dwb_lgbm_*``, ``dwb_xgb_*``) and FairGBM
(``fairgbm_*``) are methods of their own ("HGB", "reweighing-HGB", "EG-HGB",
"TO-HGB", "DwB-HGB", "LightGBM", "DwB-LightGBM", "XGBoost", "DwB-XGBoost",
"FairGBM"). Per bound, a table per DwB method (the network, and each
boosted model as its estimator) counts its wins, ties and losses against
each other method; a task where either has no result at all counts as
"not run". Under each
table, the tasks where that DwB is behind another method beyond the
interval, and by how much (``behind``).

Run from the repository root after ``benchmarks/run.py``:

    python benchmarks/ranking.py

It writes ``docs/benchmarks/ranking.md`` and ``ranking.json`` beside the
results.
"""

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

HERE = Path(__file__).parent
BENCHMARK = HERE.parent / "docs" / "benchmarks"
BOUNDS = (
    ("equalized_odds_difference", 0.05),
    ("equalized_odds_difference", 0.03),
    ("demographic_parity_difference", 0.02),
)

#: Files this script writes (in docs/benchmarks, unless told otherwise); a
#: test checks that every file there is written by a script.
OUTPUTS = (
    "ranking.md",
    "ranking.json",
)
SHORT = {"equalized_odds_difference": "EOD", "demographic_parity_difference": "DPD"}


def _student(method):
    """False for the row of a DwB run's teacher (``<setting>_teacher``); the
    ``*_one_teacher`` settings (``cv=None``) are students."""
    return not method.endswith("_teacher") or method.endswith("_one_teacher")


#: The method each benchmark setting belongs to (first matching rule).
METHODS = (
    # over HistGradientBoostingClassifier (and FairGBM): before the rules
    # their names would match too
    (
        "DwB-HGB",
        lambda m: m.startswith("dwb_hgb_") and _student(m),
    ),
    (
        "DwB-LightGBM",
        lambda m: m.startswith("dwb_lgbm_") and _student(m),
    ),
    (
        "DwB-XGBoost",
        lambda m: m.startswith("dwb_xgb_") and _student(m),
    ),
    ("FairGBM", lambda m: m.startswith("fairgbm_")),
    ("EG-HGB", lambda m: m.startswith("eg_") and m.endswith("_hgb")),
    ("TO-HGB", lambda m: m.startswith("threshold_") and m.endswith("_hgb")),
    ("reweighing-HGB", lambda m: m == "reweighing_hgb"),
    ("HGB", lambda m: m == "hgb"),
    ("LightGBM", lambda m: m == "lgbm"),
    ("XGBoost", lambda m: m == "xgb"),
    ("DwB (network)", lambda m: m.startswith("dwb_") and _student(m)),
    ("reweighing (network)", lambda m: m.startswith("reweighing")),
    ("undersampling (network)", lambda m: m == "undersampling"),
    ("ExponentiatedGradient (LR)", lambda m: m.startswith("eg_") and m.endswith("_lr")),
    (
        "ExponentiatedGradient (network)",
        lambda m: m.startswith("eg_") and m.endswith("_network"),
    ),
    ("GridSearch (LR)", lambda m: m.startswith("grid_")),
    ("ThresholdOptimizer (LR)", lambda m: m.startswith("threshold_")),
    ("unmitigated", lambda m: m in ("network", "logistic_regression")),
)
FOCAL = "DwB (network)"
#: The DwB methods whose wins, ties and losses the report counts: the
#: network, and boosted models as the estimator (``estimator=``).
FOCALS = (FOCAL, "DwB-HGB", "DwB-LightGBM", "DwB-XGBoost")


def method_of(setting):
    """The method of a benchmark setting, or None (a teacher's row)."""
    return next((name for name, rule in METHODS if rule(setting)), None)


def best_settings(results, metric, bound):
    """Per task and method, the most accurate setting whose mean test
    disparity is within the bound: columns task, method, setting, accuracy,
    disparity (means over seeds)."""
    results = results.assign(group=results["method"].map(method_of))
    means = (
        results.dropna(subset=["group"])
        .groupby(["task", "group", "method"])[["accuracy", metric]]
        .mean()
        .reset_index()
    )
    within = means[means[metric] <= bound]
    best = within.loc[within.groupby(["task", "group"])["accuracy"].idxmax()]
    return best.rename(
        columns={"group": "method", "method": "setting", metric: "disparity"}
    ).reset_index(drop=True)


def paired_difference(results, task, setting_a, setting_b, level=0.95):
    """Mean paired accuracy difference (a - b) over the seeds both ran, with
    its t-interval: (mean, lower, upper, n)."""
    rows = results[results["task"] == task]
    a = rows[rows["method"] == setting_a].set_index("seed")["accuracy"]
    b = rows[rows["method"] == setting_b].set_index("seed")["accuracy"]
    difference = (a - b).dropna()
    n = len(difference)
    mean = float(difference.mean()) if n else np.nan
    if n < 2:
        return mean, np.nan, np.nan, n
    half = stats.t.ppf((1 + level) / 2, n - 1) * difference.std(ddof=1) / np.sqrt(n)
    return mean, mean - half, mean + half, n


def rank_task(results, task, best):
    """The task's status at a bound: ("first", [winner]), ("tied", [the
    methods tied with the most accurate]) or ("none", []), and every pair's
    difference."""
    chosen = best[best["task"] == task].sort_values("accuracy", ascending=False)
    if chosen.empty:
        return "none", [], []
    top = chosen.iloc[0]
    pairs, tied = [], [top["method"]]
    for other in chosen.iloc[1:].itertuples():
        mean, lower, upper, n = paired_difference(
            results, task, top["setting"], other.setting
        )
        pairs.append((top["method"], other.method, mean, lower, upper, n))
        if not lower > 0:
            tied.append(other.method)
    status = "first" if len(tied) == 1 else "tied"
    return status, tied, pairs


def floor_of(floors, metric, task):
    """The task's noise floor of the metric, or nan where none was measured.

    ``floors`` maps metric -> task -> floor (as ``noise_floors`` returns); a
    flat task -> floor mapping is read as the equalized-odds floor."""
    if all(isinstance(value, dict) for value in floors.values()):
        per_task = floors.get(metric, {})
    else:
        per_task = floors if metric == "equalized_odds_difference" else {}
    return per_task.get(task, np.nan)


def wins_ties_losses(results, best, floors, metric, bound, focal=FOCAL, not_run=False):
    """Per peer method: DwB's wins, ties and losses over the tasks that can
    be ranked (a method with a setting within the bound wins over one
    without), the tasks where neither reaches the bound, and those that
    cannot be ranked (the task's noise floor of the metric above the bound,
    see ``floor_of``). With
    ``not_run=True``, a task without a single result of the peer (or of the
    focal method) counts as "not run" rather than as a win or a loss."""
    counts = {}
    ran = set(zip(results["task"], results["method"].map(method_of), strict=True))
    for task in sorted(results["task"].unique()):
        rankable = not floor_of(floors, metric, task) > bound
        chosen = best[best["task"] == task].set_index("method")
        for peer in [name for name, _ in METHODS if name != focal]:
            row = counts.setdefault(
                peer,
                {
                    "wins": 0,
                    "ties": 0,
                    "losses": 0,
                    "neither": 0,
                    "cannot rank": 0,
                    "not run": 0,
                },
            )
            if not_run and not {(task, peer), (task, focal)} <= ran:
                row["not run"] += 1
                continue
            if not rankable:
                row["cannot rank"] += 1
                continue
            has_focal, has_peer = focal in chosen.index, peer in chosen.index
            if has_focal and has_peer:
                _, lower, upper, _ = paired_difference(
                    results,
                    task,
                    chosen.loc[focal, "setting"],
                    chosen.loc[peer, "setting"],
                )
                key = "wins" if lower > 0 else "losses" if upper < 0 else "ties"
            elif has_focal:
                key = "wins"  # only DwB reaches the bound
            elif has_peer:
                key = "losses"
            else:
                key = "neither"  # no setting of either reaches the bound
            row[key] += 1
    return counts


def behind(results, best, floors, metric, bound, focal=FOCAL):
    """Where the focal method is behind beyond the interval, over the tasks
    that can be ranked: (task, peer, mean, lower, upper) for every peer
    whose paired difference against it (peer - focal) has its interval above
    zero, largest first within a task; where the focal method has no
    setting within the bound and a peer has, (task, peer, nan, nan, nan)
    for the most accurate such peer."""
    rows = []
    for task in sorted(results["task"].unique()):
        if floor_of(floors, metric, task) > bound:
            continue
        chosen = best[best["task"] == task].set_index("method")
        peers = chosen.drop(index=focal, errors="ignore")
        if peers.empty:
            continue
        if focal not in chosen.index:
            rows.append((task, peers["accuracy"].idxmax(), *[np.nan] * 3))
            continue
        found = []
        for peer, row in peers.iterrows():
            mean, lower, upper, _ = paired_difference(
                results, task, row["setting"], chosen.loc[focal, "setting"]
            )
            if lower > 0:
                found.append((task, peer, mean, lower, upper))
        rows += sorted(found, key=lambda r: -r[2])
    return rows


#: The column of ``noise_floor.json``'s splits holding each metric's mean floor.
FLOOR_COLUMNS = {
    "equalized_odds_difference": "floor_mean",
    "demographic_parity_difference": "dpd_floor_mean",
}


def noise_floors(path):
    """Per metric and task, the mean over seeds of the split's mean floor:
    {metric: {task: floor}} (a metric the file lacks is left out)."""
    splits = pd.DataFrame(json.loads(Path(path).read_text())["splits"])
    return {
        metric: splits.groupby("task")[column].mean().to_dict()
        for metric, column in FLOOR_COLUMNS.items()
        if column in splits
    }


INTRODUCTION = [
    "# Best case: each method's setting chosen on the test splits",
    "",
    "Each method is represented by its most accurate setting whose mean",
    "*test* disparity is within the bound: a choice no user can make. The",
    "ranking with every setting chosen on training data is in",
    "[honest.md](honest.md); this page is its best-case appendix.",
    "",
    "Generated by `python benchmarks/ranking.py` from `results.csv`: see",
    "its docstring for the rule. Intervals are 95% t-intervals of the mean",
    "paired accuracy difference over the seeds (the same splits for every",
    "method).",
    "",
]


def _status_line(results, best, floors, metric, bound, task):
    """The row of a task in a bound's status table."""
    floor = floor_of(floors, metric, task)
    if floor > bound:
        return f"| {task} | {floor:.3f} | cannot rank at this bound |"
    status, tied, pairs = rank_task(results, task, best)
    if status == "none":
        return f"| {task} | {floor:.3f} | no method within the bound |"
    top = best[(best.task == task) & (best.method == tied[0])].iloc[0]
    text = (
        f"{status}: {', '.join(tied)} (`{top.setting}` {top.accuracy:.3f},"
        f" {SHORT[metric]} {top.disparity:.3f})"
    )
    differences = "; ".join(
        f"vs {b}: {m:+.4f} [{lo:+.4f}, {hi:+.4f}]" for _, b, m, lo, hi, _ in pairs
    )
    text += f"; {differences}" if differences else ""
    return f"| {task} | {floor:.3f} | {text} |"


def _record_lines(results, best, floors, metric, bound, focal, counts):
    """A DwB method's wins, ties and losses table, and where it is behind."""
    title = f"{SHORT[metric]} <= {bound:g}"
    lines = [
        "",
        f"{focal} against each method at {title}, over the tasks:",
        "",
        "| method | wins | ties | losses | neither within | cannot rank | not run |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [
        "| " + " | ".join([peer, *(str(count) for count in c.values())]) + " |"
        for peer, c in counts.items()
    ]
    lines += ["", f"Where {focal} is behind beyond the interval at {title}:", ""]
    gaps = behind(results, best, floors, metric, bound, focal=focal)
    lines += [
        f"- {task}: {peer}, no setting of {focal} within the bound"
        if np.isnan(mean)
        else f"- {task}: {peer} {mean:+.4f} [{lower:+.4f}, {upper:+.4f}]"
        for task, peer, mean, lower, upper in gaps
    ] or ["- nowhere"]
    return [*lines, ""]


def report(results, floors):
    """The markdown report and its summary (each DwB method's counts per
    bound)."""
    lines, summary = list(INTRODUCTION), {}
    for metric, bound in BOUNDS:
        title = f"{SHORT[metric]} <= {bound:g}"
        best = best_settings(results, metric, bound)
        lines += [
            f"## {title}",
            "",
            f"| task | noise floor ({SHORT[metric]}) | status |",
            "|---|---|---|",
        ]
        lines += [
            _status_line(results, best, floors, metric, bound, task)
            for task in sorted(results["task"].unique())
        ]
        summary[title] = {}
        for focal in FOCALS:
            counts = wins_ties_losses(
                results, best, floors, metric, bound, focal=focal, not_run=True
            )
            lines += _record_lines(results, best, floors, metric, bound, focal, counts)
            summary[title][focal] = counts
    return "\n".join(lines), summary


#: The columns of ``results.csv`` the ranking reads, and those of them that
#: hold numbers.
NUMBER_COLUMNS = ("accuracy", *dict.fromkeys(metric for metric, _ in BOUNDS))
RESULT_COLUMNS = ("task", "method", "seed", *NUMBER_COLUMNS)


def _shown(path):
    """``path`` relative to the working folder where it lies below it."""
    path = Path(path)
    try:
        return path.resolve().relative_to(Path.cwd())
    except ValueError:
        return path


def _check_columns(parser, option, path, frame, needed, numbers, fix, rows):
    """Refuse a table that lacks one of the ``needed`` columns, has no row
    (``rows`` names them), or holds something other than numbers in one of
    the ``numbers`` columns."""
    missing = [column for column in needed if column not in frame]
    if missing:
        parser.error(
            f"argument {option}: {path} lacks the column(s) {', '.join(missing)}; {fix}"
        )
    if frame.empty:
        parser.error(f"argument {option}: {path} holds no {rows}; {fix}")
    wrong = [
        column
        for column in numbers
        if column in frame and not pd.api.types.is_numeric_dtype(frame[column])
    ]
    if wrong:
        parser.error(
            f"argument {option}: {path} holds other values than numbers in "
            f"{', '.join(wrong)}; {fix}"
        )


def read_results(parser, path):
    """``--results`` as a frame, or refuse (one line, with the command that
    writes the file) where it is missing, unreadable, lacks a column the
    ranking needs, or has no row."""
    path = _shown(path)
    if path.name == "results.csv":
        fix = f"write it with `python benchmarks/run.py --output-dir {path.parent}`"
    else:
        fix = "give --results the results.csv `python benchmarks/run.py` writes"
    if not path.is_file():
        parser.error(f"argument --results: no file {path}; {fix}")
    try:
        results = pd.read_csv(path)
    except (ValueError, UnicodeDecodeError) as error:
        reason = str(error).strip().splitlines()[0]
        parser.error(f"argument --results: cannot read {path} ({reason}); {fix}")
    _check_columns(
        parser,
        "--results",
        path,
        results,
        RESULT_COLUMNS,
        NUMBER_COLUMNS,
        fix,
        rows="results",
    )
    return results


def read_noise_floors(parser, path):
    """``noise_floors(path)``, or refuse (one line, with the command that
    writes the file) where it is missing or holds no per-split floors."""
    path = _shown(path)
    fix = f"write it with `python benchmarks/noise_floor.py --output {path}`"
    if not path.is_file():
        parser.error(f"argument --noise-floor: no file {path}; {fix}")
    try:
        splits = pd.DataFrame(json.loads(path.read_text())["splits"])
    except (ValueError, UnicodeDecodeError, KeyError, TypeError) as error:
        reason = f"{type(error).__name__}: {error}".splitlines()[0]
        parser.error(
            f"argument --noise-floor: {path} is not a noise floor file "
            f'(a JSON object with a "splits" list; {reason}); {fix}'
        )
    floors = list(FLOOR_COLUMNS.values())
    # a file without the DPD floors (older runs) still ranks the EOD bounds
    needed = ["task"] + ([] if splits.columns.isin(floors).any() else floors[:1])
    if splits.empty:
        parser.error(f"argument --noise-floor: {path} holds no splits; {fix}")
    _check_columns(
        parser, "--noise-floor", path, splits, needed, floors, fix, rows="splits"
    )
    return noise_floors(path)


def check_output(parser, path):
    """``--output`` as a path, or refuse where its folder does not exist or
    it is a folder itself."""
    path = _shown(path)
    if path.is_dir():
        parser.error(
            f"argument --output: {path} is a folder; give --output a file "
            f"path, e.g. {path / 'ranking.md'}"
        )
    if not path.parent.is_dir():
        parser.error(
            f"argument --output: no folder {path.parent}; create it "
            f"(`mkdir -p {path.parent}`) or give --output a file in an "
            "existing folder"
        )
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python benchmarks/ranking.py", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--results", default=str(BENCHMARK / "results.csv"))
    parser.add_argument(
        "--noise-floor", default=str(HERE / "results" / "noise_floor.json")
    )
    parser.add_argument("--output", default=str(BENCHMARK / "ranking.md"))
    args = parser.parse_args(argv)
    # every input is checked before the report is computed
    output = check_output(parser, args.output)
    results = read_results(parser, args.results)
    floors = read_noise_floors(parser, args.noise_floor)
    text, summary = report(results, floors)
    output.write_text(text + "\n")
    output.with_suffix(".json").write_text(json.dumps(summary, indent=2) + "\n")
    print(text)


if __name__ == "__main__":
    main()
