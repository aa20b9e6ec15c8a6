"""Every method picks its setting on training data: does the bound hold on test?

Run ``python benchmarks/honest.py`` from the repository root, after
``benchmarks/run.py`` (``--help`` lists the options; the ``benchmark`` extra
and ``make benchmark-install`` install what it needs). For every task, seed
and bound (EOD <= 0.05, EOD <= 0.03, DPD <= 0.02), each peer chooses its
setting from the training rows alone, the way its documentation tells users
(``comparison/selection.py``): FairGBM's tolerance, DwB's fixed strength and
reweighing's strength by 5-fold cross-validation with the fairness scorers
and ``fair_refit``; ExponentiatedGradient with its ``difference_bound`` at the
bound; ThresholdOptimizer, OxonFair (groups given, and inferred) and
error-parity with thresholds fitted on 30% of the training rows; each point
of fairlearn's GridSearch grid (over LogisticRegression) cross-validated like
the knobs. DwB's ``"auto"`` at the bound
(``confidence=0.9``, the default, and ``confidence=None``) and the plain
models are read from the comparison's ``results.csv``: they choose on the
training rows already. The seeds are the comparison's (``TASK_SEEDS``).

Raw rows go to ``honest.csv`` (runs already there are skipped, so an
interrupted run resumes); the report (per task and bound: mean test accuracy
and disparity with 95% intervals, the share of splits within the bound, the
ranking of the methods that keep it, each DwB estimator's record) to
``honest.md`` and ``honest.json``, one plot per task to ``honest_<task>.png``.
``--quick`` runs the cheap jobs on german-sex and compas-race, 2 seeds;
``--report-only`` runs nothing and writes the report over the seeds the
selection has run (a seed counts once one of its jobs is in ``honest.csv``).
"""

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))  # also when imported by path

from comparison.honest_report import candidates, plot_task, report  # noqa: E402
from comparison.selection import (  # noqa: E402
    SELECTION_COLUMNS,
    run_selection_job,
    selection_jobs,
)
from comparison.tasks import TASKS, task_seeds  # noqa: E402
from ranking import noise_floors  # noqa: E402
from run import (  # noqa: E402
    _check_methods,
    _output_dir,
    nonzero_int,
    pending_runs,
    positive_int,
)

HERE = Path(__file__).parent
#: Files this script writes (in docs/benchmarks, unless told otherwise); a
#: test checks that every file there is written by a script.
OUTPUTS = ("honest.csv", "honest.md", "honest.json", "honest_*.png")
PROG = "python benchmarks/honest.py"
#: The jobs ``--quick`` runs (a few seconds each on the small tasks).
QUICK_JOBS = ("fairgbm_cv", "postprocessing_lr", "grid_lr", "eg_lr")
#: Jobs run last: dozens of boosted fits each.
COSTLY_JOBS = ("dwb_hgb_cv", "eg_hgb")


def _parser():
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", choices=list(TASKS), default=None)
    parser.add_argument(
        "--seeds",
        type=positive_int,
        default=None,
        help="number of seeds (0, 1, ...) on every task (default: TASK_SEEDS)",
    )
    parser.add_argument(
        "--output-dir", default=str(HERE.parent / "docs" / "benchmarks")
    )
    parser.add_argument(
        "--results",
        default=None,
        help="the comparison's results.csv (default: the one in --output-dir)",
    )
    parser.add_argument(
        "--noise-floor", default=str(HERE / "results" / "noise_floor.json")
    )
    parser.add_argument("--n-jobs", type=nonzero_int, default=1)
    parser.add_argument("--quick", action="store_true", help=QUICK_HELP)
    parser.add_argument("--methods", nargs="+", default=None, metavar="PATTERN")
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="run nothing: write the report from the rows already in honest.csv",
    )
    return parser


QUICK_HELP = "the cheap jobs on german-sex and compas-race, 2 seeds"


def _arguments(argv):
    parser = _parser()
    args = parser.parse_args(argv)
    every = selection_jobs()
    if args.quick:
        every = [(name, run) for name, run in every if name in QUICK_JOBS]
    _check_methods(parser, every, args.methods, args.quick)
    if args.methods:
        from comparison.methods import select_jobs

        every = select_jobs(every, args.methods)
    tasks = args.tasks or (["german-sex", "compas-race"] if args.quick else list(TASKS))
    seeds = 2 if args.quick else args.seeds
    out = _output_dir(parser, args.output_dir)
    results = Path(args.results) if args.results else out / "results.csv"
    return args, tasks, seeds, out, results, every


def _run_all(todo, csv, n_jobs):
    """Run the jobs, appending each one's rows to ``csv`` as it ends."""
    from joblib import Parallel, delayed

    parallel = Parallel(n_jobs=n_jobs, return_as="generator_unordered")
    outputs = parallel(
        delayed(run_selection_job)(task, seed, name, run)
        for task, seed, name, run in todo
    )
    for count, rows in enumerate(outputs, start=1):
        frame = pd.DataFrame(rows, columns=[*SELECTION_COLUMNS, "job"])
        frame.to_csv(csv, mode="a", header=not csv.exists(), index=False)
        first = rows[0]
        print(
            f"[{count}/{len(todo)}] {first['task']} {first['job']} seed "
            f"{first['seed']}: {len(rows)} rows, {first['fit_time_s']:.1f} s",
            flush=True,
        )


def main(argv=None):
    """Run the selection jobs not yet in ``honest.csv``, then write the
    report from it and the comparison's results; returns every method's
    rows (a DataFrame)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args, tasks, seeds, out, results_csv, selected = _arguments(argv)
    csv = out / "honest.csv"
    todo, done = pending_runs(csv, "job", tasks, seeds, selected)
    # seed by seed (an interrupted run leaves whole seeds), costly jobs last
    todo.sort(key=lambda job: (job[1], job[2] in COSTLY_JOBS))
    if args.report_only:
        todo = []
    print(f"{len(todo)} runs to do ({done} already in {csv})", flush=True)
    _run_all(todo, csv, args.n_jobs)
    selected_rows = pd.read_csv(csv)
    comparison = pd.read_csv(results_csv) if results_csv.exists() else None
    everything = candidates(selected_rows, comparison)
    # the tasks and seeds of this run (candidates keeps those the selection ran)
    runs = {(task, seed) for task in tasks for seed in task_seeds(task, seeds)}
    keys = zip(everything["task"], everything["seed"], strict=True)
    everything = everything[[key in runs for key in keys]]
    floors = noise_floors(args.noise_floor) if Path(args.noise_floor).exists() else {}
    text, summary = report(everything, floors)
    (out / "honest.md").write_text(text + "\n")
    (out / "honest.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    try:
        for task in sorted(set(everything["task"])):
            plot_task(everything, task, out / f"honest_{task}.png")
    except ImportError:
        print("matplotlib is not installed: no plots (pip install matplotlib)")
    print(f"report: {out / 'honest.md'}")
    return everything


if __name__ == "__main__":
    # Parallel workers look the run functions up by module: run them from
    # this file imported as the module ``honest`` (see run.py).
    import honest

    honest.main()
