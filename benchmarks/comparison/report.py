"""The comparison's report: the summary table, the best setting under a
bound, the Pareto fronts and their plots."""

import os
import platform
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from sklearn_dwb import __version__

from .methods import BOOSTED, METRICS


# --------------------------------------------------------------- reports
def summarise(results):
    """Mean and standard deviation over seeds per task and method."""
    grouped = results.groupby(["task", "family", "method"], sort=False)
    summary = grouped[[*METRICS, "fit_time_s"]].agg(["mean", "std"])
    summary[("n_seeds", "")] = grouped.size()
    return summary


def boosted_of(method):
    """The boosted model a method is fitted over ("HGB", "LightGBM",
    "XGBoost"; see ``BOOSTED``), or None."""
    for short, label in BOOSTED.items():
        if method == short or method.endswith(f"_{short}"):
            return label
        if method.startswith(f"dwb_{short}_"):
            return label
    return None


def uses_hgb(method):
    """Whether a method is fitted over HistGradientBoostingClassifier."""
    return boosted_of(method) == "HGB"


#: Families with their own rows for their members over a boosted model
#: (tables and plots): "fairlearn (HGB)", "baseline (LightGBM)", ...
SPLIT_BY_MODEL = ("baseline", "deletion / reweighing", "fairlearn")


def peer_group(family, method):
    """The family a method is shown under: its family, with the boosted
    model in brackets (" (HGB)", " (LightGBM)", ...) for the members over a
    boosted model of the families that also hold the LogisticRegression and
    network members."""
    model = boosted_of(method)
    if family in SPLIT_BY_MODEL and model is not None:
        return f"{family} ({model})"
    return family


def _with_peer_groups(results):
    family = [
        peer_group(f, m)
        for f, m in zip(results["family"], results["method"], strict=True)
    ]
    return results.assign(family=family)


def best_under_bound(results, bound=0.05, metric="equalized_odds_difference"):
    """Per task and family (``peer_group``): the most accurate method whose
    mean ``metric`` is at most ``bound``, with its mean fit time."""
    means = (
        _with_peer_groups(results)
        .groupby(["task", "family", "method"], sort=False)[
            ["accuracy", metric, "fit_time_s"]
        ]
        .mean()
    )
    within = means[means[metric] <= bound].reset_index()
    best = within.loc[within.groupby(["task", "family"])["accuracy"].idxmax()]
    return best.set_index(["task", "family"])


def environment():
    import fairlearn
    import sklearn
    import skorch
    import torch

    return (
        f"sklearn-dwb {__version__}, Python {sys.version.split()[0]}, "
        f"scikit-learn {sklearn.__version__}, torch {torch.__version__}, "
        f"skorch {skorch.__version__}, fairlearn {fairlearn.__version__}; "
        f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()}"
    )


def _fmt(mean, std):
    return f"{mean:.3f} ± {std:.3f}" if np.isfinite(std) else f"{mean:.3f}"


SHOWN = {
    "accuracy": "accuracy",
    "equalized_odds_difference": "EOD",
    "demographic_parity_difference": "DPD",
    "equal_opportunity_difference": "EOpD",
    "group_balanced_accuracy": "EACC",
    "fit_time_s": "fit time (s)",
}


FRONTS_TEXT = (
    "Per task: the DwB students on DwB's Pareto front (most accurate for "
    "their EOD), and those a fairlearn method over LogisticRegression or "
    "the network beats on both accuracy and EOD; likewise the DwB-HGB "
    "students' front against FairGBM and fairlearn over "
    "HistGradientBoosting, and the DwB-LightGBM students' front against "
    "FairGBM (built on LightGBM)."
)


def write_summary(results, path, command):
    summary = summarise(results)
    lines = [
        "# Benchmark results",
        "",
        f"Command: `{command}`",
        "",
        f"Environment: {environment()}",
        "",
        f"Seeds: {sorted(results['seed'].unique().tolist())}. Mean ± standard "
        "deviation over seeds; EOD = equalized-odds difference, DPD = "
        "demographic-parity difference, EOpD = equal-opportunity difference, "
        "EACC = mean accuracy over (group, class) cells.",
        "",
    ]
    for task, part in summary.groupby(level="task", sort=False):
        columns = {
            label: [
                _fmt(mean, std)
                for mean, std in zip(
                    part[(col, "mean")], part[(col, "std")], strict=True
                )
            ]
            for col, label in SHOWN.items()
        }
        table = pd.DataFrame(columns, index=part.index.droplevel("task"))
        table["seeds"] = part[("n_seeds", "")].to_numpy()
        lines += [f"## {task}", "", table.reset_index().to_markdown(index=False), ""]
    for bound in (0.05, 0.03):
        best = best_under_bound(results, bound)
        if len(best):
            best_table = best.reset_index().to_markdown(index=False, floatfmt=".3f")
        else:
            best_table = "none"
        title = f"## Best accuracy at EOD <= {bound} (means over seeds)"
        lines += [title, "", best_table, ""]
    fronts = dominated_front_points(results)
    lines += [
        "## DwB's accuracy-EOD front against fairlearn (means over seeds)",
        "",
        FRONTS_TEXT,
        "",
        fronts.to_markdown(index=False),
        "",
    ]
    Path(path).write_text("\n".join(lines))


def pareto_front(points):
    """Rows of ``points`` (columns accuracy, EOD) that no other row beats on
    both: higher accuracy and lower EOD, one of them strictly."""
    acc = points["accuracy"].to_numpy()
    eod = points["equalized_odds_difference"].to_numpy()
    keep = [
        not np.any((acc >= a) & (eod <= e) & ((acc > a) | (eod < e)))
        for a, e in zip(acc, eod, strict=True)
    ]
    return points[keep]


#: (front's family, its column, the rivals' families (``peer_group``), their
#: column) compared by ``dominated_front_points``
FRONTS = (
    ("DwB student", "DwB front", ("fairlearn",), "dominated by fairlearn"),
    (
        "DwB-HGB student",
        "DwB-HGB front",
        ("FairGBM", "fairlearn (HGB)"),
        "dominated by FairGBM / fairlearn (HGB)",
    ),
    (
        "DwB-LightGBM student",
        "DwB-LightGBM front",
        ("FairGBM",),
        "dominated by FairGBM",
    ),
)


def dominated_front_points(results):
    """Per task: DwB's front and the front points a fairlearn method (over
    LogisticRegression or the network) dominates; DwB-HGB's front and the
    front points FairGBM or a fairlearn method over HistGradientBoosting
    dominates; DwB-LightGBM's front and those FairGBM dominates ("not run"
    where a task has no row of the front's family)."""
    metric = "equalized_odds_difference"
    means = (
        _with_peer_groups(results)
        .groupby(["task", "family", "method"], sort=False)[["accuracy", metric]]
        .mean()
    )
    rows = []
    for task, part in means.groupby(level="task", sort=False):
        part = part.droplevel("task")
        families = part.index.get_level_values("family")
        row = {"task": task}
        for family, front_column, rivals, rival_column in FRONTS:
            if family not in families:
                row[front_column] = row[rival_column] = "not run"
                continue
            front = pareto_front(part[families == family].droplevel("family"))
            rival = part[families.isin(rivals)].droplevel("family")
            beaten = [
                method
                for method, point in front.iterrows()
                if np.any(
                    (rival["accuracy"] > point["accuracy"])
                    & (rival[metric] < point[metric])
                )
            ]
            row[front_column] = ", ".join(front.index) or "none"
            row[rival_column] = ", ".join(beaten) or "none"
        rows.append(row)
    return pd.DataFrame(rows)


FAMILY_STYLE = {
    "baseline": ("black", "s"),
    "DwB student": ("tab:blue", "o"),
    "DwB teacher": ("tab:cyan", "v"),
    "deletion / reweighing": ("tab:green", "D"),
    "fairlearn": ("tab:red", "^"),
    "baseline (HGB)": ("dimgrey", "P"),
    "deletion / reweighing (HGB)": ("olive", "d"),
    "fairlearn (HGB)": ("tab:pink", "<"),
    "FairGBM": ("tab:orange", "*"),
    "DwB-HGB student": ("tab:purple", "h"),
    "baseline (LightGBM)": ("saddlebrown", "X"),
    "DwB-LightGBM student": ("tab:brown", "p"),
    "baseline (XGBoost)": ("darkslategray", "8"),
    "DwB-XGBoost student": ("tab:olive", "H"),
}


def plot_pareto(results, task, path):
    """Accuracy against EOD and DPD, one marker per method, error bars over
    seeds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    part = _with_peer_groups(results[results["task"] == task])
    stats = part.groupby(["family", "method"])[
        ["accuracy", "equalized_odds_difference", "demographic_parity_difference"]
    ].agg(["mean", "std"])
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True)
    for ax, metric, label in [
        (axes[0], "equalized_odds_difference", "equalized-odds difference"),
        (axes[1], "demographic_parity_difference", "demographic-parity difference"),
    ]:
        for family, rows in stats.groupby(level="family"):
            color, marker = FAMILY_STYLE.get(family, ("grey", "x"))
            ax.errorbar(
                rows[(metric, "mean")],
                rows[("accuracy", "mean")],
                xerr=rows[(metric, "std")].fillna(0),
                yerr=rows[("accuracy", "std")].fillna(0),
                fmt=marker,
                color=color,
                label=family,
                capsize=2,
            )
            for (_, method), row in rows.iterrows():
                point = (row[(metric, "mean")], row[("accuracy", "mean")])
                ax.annotate(method, point, fontsize=6, alpha=0.7)
        ax.set_xlabel(f"{label} (lower is fairer)")
    axes[0].set_ylabel("accuracy")
    axes[0].legend(fontsize=8)
    fig.suptitle(f"{task}: mean ± std over seeds")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
