"""Benchmark DwB against fairlearn's mitigators on real data.

Run ``python benchmarks/run.py`` from the repository root (``--help`` lists
the options; the ``benchmark`` extra installs what it needs beyond the
package). For every task (dataset, sensitive feature) and seed, every method
is fitted on the same training split and scored on the same test split:

- unmitigated LogisticRegression, and the network DwB uses (strength 0);
- DwB students over a ``trigger_strength`` grid for both targets, and each
  DwB teacher evaluated on clean inputs;
- undersampling of the cells DwB stamps (real deletion, global target,
  strength 1) and Kamiran-Calders reweighing, with the same network;
- fairlearn's ExponentiatedGradient (demographic parity, equalized odds),
  GridSearch (equalized odds) and ThresholdOptimizer (equalized odds) with
  LogisticRegression, and ExponentiatedGradient with the same network;
- gradient-boosting peers over scikit-learn's HistGradientBoostingClassifier
  (default settings, ``random_state=seed``): plain (``hgb``), with
  Kamiran-Calders reweighing (``reweighing_hgb``), under fairlearn's
  ExponentiatedGradient (``eg_eo_hgb``, ``eg_dp_hgb``: fairlearn's default
  ``max_iter=50`` and default ``difference_bound``, 0.01, as for the other
  ExponentiatedGradient rows) and ThresholdOptimizer (``threshold_eo_hgb``,
  equalized odds, on ``predict_proba``);
- FairGBM (the ``fairgbm`` package, 0.9.14 in ``constraints.txt``):
  ``fairgbm.train`` with the ``constrained_cross_entropy`` objective under
  equalized-odds constraints (``constraint_type="FNR,FPR"``), the same
  tolerance for both (``constraint_fnr_tolerance`` =
  ``constraint_fpr_tolerance`` = 0.01 ... 0.05: ``fairgbm_<tolerance>``), 200
  trees, learning rate 0.1, ``seed=seed``, one thread; the groups are used at
  training only, and predictions are the predicted probability thresholded at
  0.5;
- DwB with HistGradientBoostingClassifier as its model (``dwb_hgb_*``: fixed
  strengths for the global target, and ``trigger_strength="auto"`` under a
  bound), family "DwB-HGB student";
- LightGBM (``lightgbm.LGBMClassifier``) and XGBoost (``xgboost.XGBClassifier``)
  with their libraries' defaults and one thread, plain (``lgbm``, ``xgb``)
  and as DwB's estimator (``dwb_lgbm_*``, ``dwb_xgb_*``: strength 0.5 for
  the global target, and ``"auto"`` under each bound), families
  "DwB-LightGBM student" and "DwB-XGBoost student".

``--methods`` restricts a run to the jobs whose name matches one of its
fnmatch patterns, e.g. ``--methods hgb '*_hgb' 'fairgbm_*'`` for the
boosting peers without the ``dwb_hgb_*`` rows.

Features are one-hot encoded (categorical) and standardised (numeric) on the
training split; the binary group indicator is appended as the last column, so
every method sees the sensitive feature. Adult uses its official train/test
split for every seed (the seed changes the models' randomness); the other
tasks draw a 70/30 split from the seed, stratified by (group, class) cell.

Seeds: 10 per task, 20 on compas-race, german-sex and german-age, whose small
test splits make every disparity noisier (``TASK_SEEDS``); ``--seeds N``
runs seeds 0 to N - 1 on every task instead.

Raw results go to ``results.csv`` (one row per task, method and seed; runs
already there are skipped, so an interrupted run resumes), the mean and
standard deviation to ``summary.md``, and per task a Pareto plot of accuracy
against equalized-odds and demographic-parity difference to
``pareto_<task>.png``.
"""

import argparse
import difflib
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))  # also when imported by path

# the comparison's parts; the names the tests and other scripts reach
# through this module are imported here too
from comparison.methods import (  # noqa: E402, F401
    RESULT_COLUMNS,
    _run_job,
    evaluate,
    fairgbm_params,
    jobs,
    network,
    reweighing_weights,
    run_boosted,
    run_cost,
    run_dwb_hgb,
    run_fairgbm,
    run_fairlearn,
    run_hgb,
    run_reweighing_hgb,
    select_jobs,
)
from comparison.report import (  # noqa: E402, F401
    FAMILY_STYLE,
    best_under_bound,
    boosted_of,
    dominated_front_points,
    environment,
    peer_group,
    plot_pareto,
    uses_hgb,
    write_summary,
)
from comparison.tasks import TASKS, _split, load_task, task_seeds  # noqa: E402, F401

#: Files this script writes (in docs/benchmarks, unless told otherwise); a
#: test checks that every file there is written by a script.
OUTPUTS = (
    "results.csv",
    "summary.md",
    "pareto_*.png",
)

PROG = "python benchmarks/run.py"


# ------------------------------------------------------------------ main
def positive_int(text):
    """``--seeds``: an integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of seeds: give a positive integer "
            "(--seeds 3 runs seeds 0, 1 and 2), or leave --seeds out for "
            "every task's TASK_SEEDS"
        )
    return value


def nonzero_int(text):
    """``--n-jobs``: any integer joblib takes, that is any but 0 (-1 is
    every core, -2 every core but one, ...)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value == 0:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of processes: give a positive integer "
            "(1 runs in this process), or -1 for every core (-2 for every "
            "core but one, ...)"
        )
    return value


def _check_methods(parser, all_jobs, patterns, quick=False):
    """Refuse a ``--methods`` pattern that matches no job, naming the
    closest method names (or the first few)."""
    names = [name for name, _ in all_jobs]
    for pattern in patterns or ():
        if select_jobs(all_jobs, [pattern]):
            continue
        near = difflib.get_close_matches(pattern, names, n=5, cutoff=0.5)
        shown = ", ".join(near or names[:5])
        parser.error(
            f"argument --methods: {pattern!r} matches no method of this run; "
            f"give a name or fnmatch pattern of one, e.g. {shown} "
            f"({len(names)} methods{' with --quick' if quick else ''})"
        )


def _output_dir(parser, path):
    """Create ``--output-dir`` (and its parents), or refuse with the path
    that stands in the way."""
    out = Path(path)
    blocking = next(
        (p for p in [out, *out.parents] if p.exists() and not p.is_dir()), None
    )
    if blocking is not None:
        parser.error(
            f"argument --output-dir: {blocking} is a file, not a folder; move "
            "it or give --output-dir another folder"
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        parser.error(
            f"argument --output-dir: cannot create {out} ({error.strerror}); "
            "give --output-dir a folder you can write to"
        )
    return out


def _parser():
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "DwB against fairlearn's mitigators on Adult, COMPAS and German credit."
        ),
    )
    parser.add_argument("--tasks", nargs="+", choices=list(TASKS), default=None)
    parser.add_argument(
        "--seeds",
        type=positive_int,
        default=None,
        help="number of seeds (0, 1, ...) on every task (default: TASK_SEEDS)",
    )
    parser.add_argument("--output-dir", default="benchmark_results")
    parser.add_argument(
        "--n-jobs",
        type=nonzero_int,
        default=1,
        help=(
            "parallel runs (processes); as joblib takes it, -1 for every core, "
            "-2 for all but one, ..."
        ),
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a small subset for CI: german-sex and compas-race, one seed, 8 methods",
    )
    parser.add_argument(
        "--methods",
        nargs="+",
        default=None,
        metavar="PATTERN",
        help=(
            "run only the methods whose name matches one of these fnmatch "
            "patterns, e.g. --methods hgb '*_hgb' 'fairgbm_*' (default: all)"
        ),
    )
    return parser


def _arguments(argv):
    """The parsed command line, checked before any work: the tasks, the
    seeds (None: ``TASK_SEEDS``), the output folder (created) and the jobs
    to run."""
    parser = _parser()
    args = parser.parse_args(argv)
    all_jobs = jobs(args.quick)
    _check_methods(parser, all_jobs, args.methods, args.quick)
    if args.tasks:
        tasks = args.tasks
    else:
        tasks = ["german-sex", "compas-race"] if args.quick else list(TASKS)
    seeds = 1 if args.quick else args.seeds
    out = _output_dir(parser, args.output_dir)
    _check_previous_results(parser, out / "results.csv")
    return args, tasks, seeds, out, select_jobs(all_jobs, args.methods)


def _check_previous_results(parser, csv):
    """A results table already in the output folder is resumed: it must be
    one this script wrote."""
    if not csv.exists():
        return
    try:
        columns = set(pd.read_csv(csv, nrows=0).columns)
    except (ValueError, UnicodeDecodeError) as error:
        columns, reason = set(), f"cannot be read ({error})"
    else:
        reason = "lacks the columns " + ", ".join(
            c for c in RESULT_COLUMNS if c not in columns
        )
    if not set(RESULT_COLUMNS) <= columns:
        parser.error(
            f"argument --output-dir: {csv} is not a results table of this script "
            f"({reason}), and a run resumes it; move it away or give "
            "--output-dir another folder"
        )


def _run_all(todo, csv, n_jobs):
    """Run the jobs, appending each one's rows to ``csv`` as it ends."""
    from joblib import Parallel, delayed

    parallel = Parallel(n_jobs=n_jobs, return_as="generator_unordered")
    outputs = parallel(
        delayed(_run_job)(task, seed, run) for task, seed, _, run in todo
    )
    for count, rows in enumerate(outputs, start=1):
        frame = pd.DataFrame(rows, columns=RESULT_COLUMNS)
        frame.to_csv(csv, mode="a", header=not csv.exists(), index=False)
        for row in rows:
            print(
                f"[{count}/{len(todo)}] {row['task']} {row['method']} "
                f"seed {row['seed']}: accuracy {row['accuracy']:.3f}, "
                f"EOD {row['equalized_odds_difference']:.3f}, "
                f"DPD {row['demographic_parity_difference']:.3f}, "
                f"{row['fit_time_s']:.1f} s",
                flush=True,
            )


def pending_runs(csv, column, tasks, seeds, selected):
    """The (task, seed, name, run) of every selected job whose rows are not
    yet in ``csv`` (matched on task, seed and the name in ``column``), and
    the number of (task, name, seed) already there: how a run resumes."""
    done = set()
    if csv.exists():
        previous = pd.read_csv(csv)
        done = set(
            zip(previous["task"], previous[column], previous["seed"], strict=True)
        )
    todo = [
        (task, seed, name, run)
        for task in tasks
        for seed in task_seeds(task, seeds)
        for name, run in selected
        if (task, name, seed) not in done
    ]
    return todo, len(done)


def main(argv=None):
    """Run the benchmark.

    Parameters
    ----------
    argv : list of str, default=None
        Command-line arguments (``--help`` lists them); ``sys.argv[1:]`` if
        None.

    Returns
    -------
    pandas.DataFrame
        The raw results of the tasks run, one row per task, method and seed.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    args, tasks, seeds, out, selected = _arguments(argv)
    csv = out / "results.csv"
    todo, done = pending_runs(csv, "method", tasks, seeds, selected)
    # reductions cost dozens of fits each: run them last
    todo.sort(key=lambda job: run_cost(job[2]))
    print(f"{len(todo)} runs to do ({done} results already in {csv})", flush=True)
    _run_all(todo, csv, args.n_jobs)

    results = pd.read_csv(csv)
    results = results[results["task"].isin(tasks)]
    command = " ".join([PROG, *argv])
    write_summary(results, out / "summary.md", command)
    try:
        for task in tasks:
            plot_pareto(results, task, out / f"pareto_{task}.png")
    except ImportError:
        print("matplotlib is not installed: no plots (pip install matplotlib)")
    print(f"results: {csv}, summary: {out / 'summary.md'}")
    return results


if __name__ == "__main__":
    # Parallel workers (--n-jobs) look the run functions up by module and name,
    # which __main__ does not allow: run them from this file imported as the
    # module ``run`` (its folder is first on sys.path, in the workers too).
    import run

    run.main()
