"""The report of the selection on training data: per task and bound, each
method's mean test accuracy with its interval, its mean test disparity and
the share of splits that keep the bound; the ranking of the methods that
keep it; each DwB estimator's wins, ties and losses."""

import numpy as np
import pandas as pd
from scipy import stats

from .selection import BOUNDS, SHORT, bound_title

#: Methods read from the comparison's results (``results.csv``): method ->
#: its setting there, one for every bound (a str) or one per bound (a dict
#: keyed by the bound's title). All choose on the training rows alone.
FROM_COMPARISON = {
    "logistic_regression": "logistic_regression",
    "network": "network",
    "hgb": "hgb",
    "lgbm": "lgbm",
    "xgb": "xgb",
}
#: DwB's ``"auto"`` and the same search with reweighing, per bound:
#: method -> (setting prefix, setting suffix).
AUTO_FROM_COMPARISON = {
    "dwb_auto": ("dwb_auto", "_confidence_0.9"),
    "dwb_auto_confidence_none": ("dwb_auto", ""),
    "reweighing_auto_confidence_none": ("reweighing_auto", ""),
    "dwb_hgb_auto": ("dwb_hgb_auto", ""),
    "dwb_hgb_auto_confidence_none": ("dwb_hgb_auto", "_confidence_none"),
    "dwb_lgbm_auto": ("dwb_lgbm_auto", ""),
    "dwb_lgbm_auto_confidence_none": ("dwb_lgbm_auto", "_confidence_none"),
    "dwb_xgb_auto": ("dwb_xgb_auto", ""),
}
#: How each method picks its setting (the legend of the report).
LEGEND = {
    "logistic_regression": "plain LogisticRegression",
    "network": "plain network (DwB at strength 0)",
    "hgb": "plain HistGradientBoosting",
    "lgbm": "plain LightGBM",
    "xgb": "plain XGBoost",
    "dwb_auto": 'DwB (network), `trigger_strength="auto"` at the bound, '
    "`confidence=0.9` (the default)",
    "dwb_auto_confidence_none": 'DwB (network), `"auto"`, `confidence=None`',
    "reweighing_auto_confidence_none": "the same search with reweighing in "
    "place of triggers, `confidence=None`",
    "dwb_hgb_auto": 'DwB-HGB, `"auto"` at the bound, `confidence=0.9`',
    "dwb_hgb_auto_confidence_none": 'DwB-HGB, `"auto"`, `confidence=None`',
    "dwb_lgbm_auto": 'DwB-LightGBM, `"auto"` at the bound, `confidence=0.9`',
    "dwb_lgbm_auto_confidence_none": 'DwB-LightGBM, `"auto"`, `confidence=None`',
    "dwb_xgb_auto": 'DwB-XGBoost, `"auto"` at the bound, `confidence=0.9`',
    "dwb_hgb_cv": "DwB-HGB, fixed strength (0, 0.25, 0.5, 1) by 5-fold CV "
    "and `fair_refit`",
    "fairgbm_cv": "FairGBM, tolerance (0.01 ... 0.05) by 5-fold CV and `fair_refit`",
    "reweighing_hgb_cv": "HGB with Kamiran-Calders weights, strength "
    "(0, 0.25, 0.5, 1) by 5-fold CV and `fair_refit`",
    "eg_hgb": "ExponentiatedGradient over HGB, `difference_bound` = the bound",
    "eg_lr": "ExponentiatedGradient over LogisticRegression, "
    "`difference_bound` = the bound",
    "grid_lr": "fairlearn GridSearch over LogisticRegression: each point of "
    "its grid of 10 multipliers by 5-fold CV and `fair_refit`",
    "threshold_hgb": "ThresholdOptimizer over HGB (70% / 30% validation; "
    "exact equalized odds, `tol` = the bound for demographic parity)",
    "threshold_lr": "ThresholdOptimizer over LogisticRegression, likewise",
    "oxonfair_hgb": "OxonFair over HGB, thresholds on 30% validation at the bound",
    "oxonfair_inferred_hgb": "OxonFair over HGB without the group's "
    "columns, groups inferred by a group classifier (none needed at predict)",
    "oxonfair_lr": "OxonFair over LogisticRegression",
    "oxonfair_inferred_lr": "OxonFair over LogisticRegression, groups inferred",
    "error_parity_hgb": "error-parity RelaxedThresholdOptimizer over HGB, "
    "`tolerance` = the bound, on 30% validation",
    "error_parity_lr": "error-parity over LogisticRegression",
}
#: The DwB estimators whose wins, ties and losses the report counts.
FOCALS = ("dwb_hgb_auto", "dwb_lgbm_auto", "dwb_auto")
LEVEL = 0.95


def candidates(selected, comparison):
    """One frame of every method's test rows per bound: the selection's
    rows (``honest.csv``) and those read from the comparison's results
    (``FROM_COMPARISON``, ``AUTO_FROM_COMPARISON``) on the tasks and seeds
    the selection ran; columns task, bound, method, seed, setting and the
    metrics."""
    frames = [selected.drop(columns=["job"], errors="ignore")]
    if comparison is None:
        return frames[0]
    ran = set(zip(selected["task"], selected["seed"], strict=True))
    keys = zip(comparison["task"], comparison["seed"], strict=True)
    comparison = comparison[[key in ran for key in keys]]
    for metric, bound in BOUNDS:
        title = bound_title(metric, bound)
        short = {"EOD": "eod", "DPD": "dpd"}[SHORT[metric]]
        names = dict(FROM_COMPARISON)
        names.update(
            {
                method: f"{prefix}_{short}_{bound:g}{suffix}"
                for method, (prefix, suffix) in AUTO_FROM_COMPARISON.items()
            }
        )
        for method, setting in names.items():
            rows = comparison[comparison["method"] == setting]
            frames.append(
                rows.assign(bound=title, method=method, setting=setting).drop(
                    columns=["family"], errors="ignore"
                )
            )
    return pd.concat(frames, ignore_index=True)


def _interval(values):
    """Mean of ``values`` and its t-interval's half width (nan below two)."""
    values = np.asarray(values, dtype=float)
    n = len(values)
    if n < 2:
        return float(values.mean()) if n else np.nan, np.nan
    half = stats.t.ppf((1 + LEVEL) / 2, n - 1) * values.std(ddof=1) / np.sqrt(n)
    return float(values.mean()), float(half)


def method_table(rows, metric, bound):
    """Per method (rows of one task and bound): mean test accuracy and its
    interval, mean test disparity and its interval, the share of splits
    within the bound, the seeds, whether the mean keeps the bound; most
    accurate first among those that keep it, then the others."""
    table = []
    for method, part in rows.groupby("method"):
        accuracy, accuracy_half = _interval(part["accuracy"])
        disparity, disparity_half = _interval(part[metric])
        table.append(
            {
                "method": method,
                "accuracy": accuracy,
                "accuracy_half": accuracy_half,
                "disparity": disparity,
                "disparity_half": disparity_half,
                "kept_share": float((part[metric] <= bound).mean()),
                "seeds": len(part),
                "keeps": disparity <= bound,
            }
        )
    table = pd.DataFrame(table)
    if table.empty:
        return table
    return table.sort_values(["keeps", "accuracy"], ascending=False).reset_index(
        drop=True
    )


def paired(rows, a, b):
    """Mean paired test-accuracy difference (a - b) over the seeds both
    ran, with its t-interval: (mean, lower, upper)."""
    accuracy = rows.pivot_table(index="seed", columns="method", values="accuracy")
    if a not in accuracy or b not in accuracy:
        return np.nan, np.nan, np.nan
    mean, half = _interval((accuracy[a] - accuracy[b]).dropna())
    return mean, mean - half, mean + half


def rank(rows, table):
    """("first", [method]) or ("tied", [methods]) among the methods that
    keep the bound (``("none", [])`` where none does), with the top's
    paired differences against the others that keep it."""
    keepers = table[table["keeps"]]
    if keepers.empty:
        return "none", [], []
    top = keepers.iloc[0]["method"]
    tied, pairs = [top], []
    for other in keepers["method"].iloc[1:]:
        mean, lower, upper = paired(rows, top, other)
        pairs.append((other, mean, lower, upper))
        if not lower > 0:
            tied.append(other)
    return ("first" if len(tied) == 1 else "tied"), tied, pairs


def _floor(floors, metric, task):
    return floors.get(metric, {}).get(task, np.nan)


def _outcome(rows, table, focal, peer):
    """The count a task adds to ``focal``'s record against ``peer``."""
    shown = table.set_index("method")
    if focal not in shown.index or peer not in shown.index:
        return "not run"
    focal_keeps, peer_keeps = shown.loc[focal, "keeps"], shown.loc[peer, "keeps"]
    if not focal_keeps:
        return "misses, the peer keeps" if peer_keeps else "both miss"
    if not peer_keeps:
        return "the peer misses"
    _, lower, upper = paired(rows, focal, peer)
    return "wins" if lower > 0 else "losses" if upper < 0 else "ties"


OUTCOMES = (
    "wins",
    "ties",
    "losses",
    "the peer misses",
    "misses, the peer keeps",
    "both miss",
    "cannot rank",
    "not run",
)


def record(everything, floors, metric, bound, focal):
    """Per peer: ``focal``'s outcomes over the tasks at a bound (see
    ``OUTCOMES``: paired intervals where both keep the bound; a task whose
    noise floor of the metric is above the bound cannot be ranked)."""
    title = bound_title(metric, bound)
    at_bound = everything[everything["bound"] == title]
    peers = sorted(set(at_bound["method"]) - {focal})
    counts = {peer: dict.fromkeys(OUTCOMES, 0) for peer in peers}
    for task, rows in at_bound.groupby("task"):
        table = method_table(rows, metric, bound)
        rankable = not _floor(floors, metric, task) > bound
        for peer in peers:
            outcome = _outcome(rows, table, focal, peer)
            if outcome != "not run" and not rankable:
                outcome = "cannot rank"
            counts[peer][outcome] += 1
    return counts


def behind(everything, floors, metric, bound, focal):
    """Tasks (that can be ranked) where ``focal`` is behind a method that
    keeps the bound at least as often: (task, peer, mean, lower, upper) for
    a paired difference (peer - focal) whose interval is above zero; where
    ``focal`` misses the bound, (task, most accurate method keeping it,
    nan, nan, nan)."""
    title = bound_title(metric, bound)
    found = []
    at_bound = everything[everything["bound"] == title]
    for task, rows in at_bound.groupby("task"):
        if _floor(floors, metric, task) > bound:
            continue
        table = method_table(rows, metric, bound).set_index("method")
        if focal not in table.index:
            continue
        keepers = table[table["keeps"]].drop(index=focal, errors="ignore")
        if not table.loc[focal, "keeps"]:
            if len(keepers):
                found.append((task, keepers.index[0], *[np.nan] * 3))
            continue
        share = table.loc[focal, "kept_share"]
        for peer in keepers[keepers["kept_share"] >= share].index:
            mean, lower, upper = paired(rows, peer, focal)
            if lower > 0:
                found.append((task, peer, mean, lower, upper))
    return found


def _cell(mean, half):
    if np.isnan(half):
        return f"{mean:.4f}"
    return f"{mean:.4f} ± {half:.4f}"


def task_section(rows, floors, metric, bound, task):
    """The markdown of one task at one bound: the ranking's line and the
    method table."""
    table = method_table(rows, metric, bound)
    floor = _floor(floors, metric, task)
    status, tied, pairs = rank(rows, table)
    if floor > bound:
        line = f"cannot be ranked: the noise floor ({floor:.3f}) is above the bound"
    elif status == "none":
        line = "no method keeps the bound"
    else:
        line = f"{status}: {', '.join(f'`{m}`' for m in tied)}"
        differences = "; ".join(
            f"vs `{other}` {mean:+.4f} [{lower:+.4f}, {upper:+.4f}]"
            for other, mean, lower, upper in pairs[:3]
        )
        line += f" ({differences})" if differences else ""
    short = SHORT[metric]
    lines = [
        f"### {task} (noise floor of {short} {floor:.3f})",
        "",
        line,
        "",
        f"| method | test accuracy | test {short} | share of splits within "
        "| splits | keeps the bound |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| `{r.method}` | {_cell(r.accuracy, r.accuracy_half)} | "
        f"{_cell(r.disparity, r.disparity_half)} | {r.kept_share:.0%} | {r.seeds} "
        f"| {'yes' if r.keeps else 'misses the bound'} |"
        for r in table.itertuples()
    ]
    return lines + [""]


def record_section(everything, floors, metric, bound, focal):
    """The markdown of ``focal``'s record at a bound and where it is behind."""
    counts = record(everything, floors, metric, bound, focal)
    title = bound_title(metric, bound)
    lines = [
        f"`{focal}` against each method at {title}, over the tasks:",
        "",
        "| method | " + " | ".join(OUTCOMES) + " |",
        "|---|" + "---|" * len(OUTCOMES),
    ]
    lines += [
        f"| `{peer}` | " + " | ".join(str(c[o]) for o in OUTCOMES) + " |"
        for peer, c in counts.items()
    ]
    lines += ["", f"Where `{focal}` is behind at {title}:", ""]
    gaps = behind(everything, floors, metric, bound, focal)
    lines += [
        f"- {task}: `{focal}` misses the bound; `{peer}` keeps it"
        if np.isnan(mean)
        else f"- {task}: `{peer}` {mean:+.4f} [{lower:+.4f}, {upper:+.4f}]"
        for task, peer, mean, lower, upper in gaps
    ] or ["- nowhere"]
    return lines + [""], counts, gaps


def _json_numbers(**values):
    """Numbers for JSON: nan as None (JSON has no NaN)."""
    return {k: None if np.isnan(v) else round(float(v), 6) for k, v in values.items()}


INTRODUCTION = [
    "# Selection on training data: does the bound hold on new data?",
    "",
    "Generated by `python benchmarks/honest.py` from `honest.csv` and the",
    "comparison's `results.csv`. Every method chooses its setting from the",
    "training rows alone (see the legend); the numbers are on the test",
    "splits. Per task and bound: mean test accuracy and mean test disparity",
    "with 95% t-intervals over the splits, and the share of splits whose test",
    "disparity is within the bound. A method whose mean test disparity is",
    "above the bound *misses the bound*; the others are ranked by paired",
    "differences of test accuracy (first: its interval against every other",
    "is above zero; tied: the methods whose interval against the most",
    "accurate holds zero). A task whose noise floor (`noise_floor.json`) is",
    "above the bound cannot be ranked at it.",
    "",
]


def _glance_cell(rows, floors, metric, bound, task):
    """A task's ranking at a bound in a few words."""
    if _floor(floors, metric, task) > bound:
        return "cannot be ranked"
    status, tied, _ = rank(rows, method_table(rows, metric, bound))
    if status == "none":
        return "none keeps the bound"
    shown = ", ".join(f"`{m}`" for m in tied[:4])
    more = f" and {len(tied) - 4} more" if len(tied) > 4 else ""
    return f"{status}: {shown}{more}"


def glance(everything, floors):
    """The markdown table of every task's ranking at every bound."""
    titles = [bound_title(metric, bound) for metric, bound in BOUNDS]
    lines = ["| task | " + " | ".join(titles) + " |", "|---|" + "---|" * len(titles)]
    for task, part in everything.groupby("task"):
        cells = [
            _glance_cell(part[part["bound"] == title], floors, metric, bound, task)
            for title, (metric, bound) in zip(titles, BOUNDS, strict=True)
        ]
        lines.append(f"| {task} | " + " | ".join(cells) + " |")
    return lines + [""]


def report(everything, floors):
    """The markdown report and its summary (records and behind lists per
    bound and DwB estimator)."""
    lines = list(INTRODUCTION)
    lines += ["## At a glance", "", "The methods first or tied first:", ""]
    lines += glance(everything, floors)
    lines += ["## Methods", "", "| method | how it picks its setting |", "|---|---|"]
    shown = sorted(set(everything["method"]))
    lines += [f"| `{m}` | {LEGEND.get(m, m)} |" for m in shown] + [""]
    summary = {}
    for metric, bound in BOUNDS:
        title = bound_title(metric, bound)
        at_bound = everything[everything["bound"] == title]
        lines += [f"## {title}", ""]
        summary[title] = {}
        for focal in FOCALS:
            if focal not in set(at_bound["method"]):
                continue
            text, counts, gaps = record_section(
                everything, floors, metric, bound, focal
            )
            lines += text
            summary[title][focal] = {
                "record": counts,
                "behind": [
                    {
                        "task": task,
                        "method": peer,
                        **_json_numbers(mean=mean, lower=lower, upper=upper),
                    }
                    for task, peer, mean, lower, upper in gaps
                ],
            }
        for task, rows in at_bound.groupby("task"):
            lines += task_section(rows, floors, metric, bound, task)
    return "\n".join(lines), summary


def plot_task(everything, task, path):
    """Test accuracy against test disparity (95% intervals) of every method,
    one panel per bound, the bound drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(BOUNDS), figsize=(6 * len(BOUNDS), 5))
    for ax, (metric, bound) in zip(axes, BOUNDS, strict=True):
        title = bound_title(metric, bound)
        rows = everything[(everything["task"] == task) & (everything["bound"] == title)]
        table = method_table(rows, metric, bound)
        for r in table.itertuples():
            dwb = r.method.startswith("dwb_")
            ax.errorbar(
                r.disparity,
                r.accuracy,
                xerr=np.nan_to_num(r.disparity_half),
                yerr=np.nan_to_num(r.accuracy_half),
                fmt="o" if dwb else "s",
                color="tab:blue" if dwb else ("tab:red" if r.keeps else "grey"),
                capsize=2,
                markersize=4,
            )
            ax.annotate(r.method, (r.disparity, r.accuracy), fontsize=6, alpha=0.8)
        ax.axvline(bound, color="black", linestyle="--", linewidth=1)
        ax.set_xlim(left=0)  # a disparity is never negative
        ax.set_xlabel(f"test {SHORT[metric]} (mean, 95% interval)")
        ax.set_title(title)
    axes[0].set_ylabel("test accuracy (mean, 95% interval)")
    fig.suptitle(
        f"{task}: settings chosen on training data (blue: DwB; red: peers "
        "keeping the bound; grey: missing it)"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
