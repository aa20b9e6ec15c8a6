"""Where the student check errs: each group's and class's rates on the
training rows against the population's.

A diagnostic for ``benchmarks/coverage.py`` (same task, seeds, training rows
and population). For each seed, ``BackdoorDebiasClassifier(trigger_strength=
"auto", auto_metric="equalized_odds_difference", max_disparity=0.03,
confidence=0.9)`` is fitted as in the coverage study, and every student the
search distils is kept (by wrapping the learner's ``distil``, and the
estimator's ``_dose_candidate`` for the plan and its teachers: private names,
so this script follows the package's internals). For each student, each
group's true and false positive rates on the training rows (what the check
counts) and on the population; their difference is the check's error per
(group, class) cell. Beside it, the teachers' *memorisation* at the
student's plan: the fold teachers' rates on the rows each learned, averaged
over the folds, minus their rates on the rows each did not learn (the
held-out predictions the student learns from).

The task's groups differ in base rate, so each group has a large and a small
(group, class) cell: group 0's positives and group 1's negatives are the
small ones. Writes ``benchmarks/results/check_leak_<estimator>.json`` (the
rows, and per cell the mean and standard deviation of the check's error, of
the teachers' memorisation, and their correlation over the students). Run
from the repository root, one thread per process:

    OMP_NUM_THREADS=1 python benchmarks/check_leak.py --seeds 20 --n-jobs 2
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from coverage import write_json_report  # benchmarks/ is first on sys.path
from joblib import Parallel, delayed

RESULTS = Path(__file__).parent / "results"
METRIC = "equalized_odds_difference"
#: (rate, group) of each cell, in the order of the JSON's cell lists.
CELLS = ["TPR group 0", "TPR group 1", "FPR group 0", "FPR group 1"]


def students_of(seed, args):
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    sys.path.insert(0, str(Path(__file__).parent))
    from coverage import fit_warned, population, search_for_bound

    import sklearn_dwb._classifier as classifier
    import sklearn_dwb._learners as learners
    from sklearn_dwb._disparity import disparity_from_rates, group_rates
    from sklearn_dwb._dose import dose_columns

    (X, y, g), (X_pop, y_pop, g_pop) = population(
        seed, args.n_train, args.n_population, 0.4
    )

    def cell_rates(y_true, y_pred, groups):
        # (TPR group 0, TPR group 1, FPR group 0, FPR group 1)
        return np.asarray(group_rates(y_true, y_pred, groups, 2, 2))[0, 1:].ravel()

    learner_class = (
        learners.EstimatorLearner
        if args.estimator == "hgb"
        else learners.NetworkLearner
    )
    seen = {"students": [], "plans": [], "memorised": []}
    distil, candidate = (
        learner_class.distil,
        classifier.BackdoorDebiasClassifier._dose_candidate,
    )

    def record_student(self, *rest, **kwargs):
        student = distil(self, *rest, **kwargs)
        seen["students"].append(student)
        return student

    def record_plan(self, learner, teachers, folds, plan, strengths, data, seeds):
        chosen = candidate(self, learner, teachers, folds, plan, strengths, data, seeds)
        row_strength = torch.as_tensor(strengths[data.group_codes], dtype=torch.float32)
        learned = []
        for teacher, (fit, _) in zip(teachers, folds, strict=True):
            columns = dose_columns(plan.rows(fit), row_strength[fit], 0.0)
            X_in = learner.append(data.X[fit], columns.numpy())
            logits = learner.logits(teacher, X_in)
            codes = (data.y_codes[fit], logits.argmax(1), data.group_codes[fit])
            learned.append(cell_rates(*codes))
        held_out = cell_rates(
            data.y_codes, chosen.clean_logits.argmax(1), data.group_codes
        )
        seen["plans"].append(strengths.tolist())
        seen["memorised"].append(np.mean(learned, axis=0) - held_out)
        return chosen

    learner_class.distil = record_student
    classifier.BackdoorDebiasClassifier._dose_candidate = record_plan
    # single students (as recorded): the students checked are those of a
    # blending fit, only the model kept may differ
    model = search_for_bound(seed, METRIC, 0.9, args.estimator, blend=False)
    try:
        with threadpool_limits(1, "openmp"):
            warned = fit_warned(model, X, y, g)
    finally:
        learner_class.distil = distil
        classifier.BackdoorDebiasClassifier._dose_candidate = candidate
    kept = model.student_
    rows = []
    with threadpool_limits(1, "openmp"):
        for k, student in enumerate(seen["students"]):
            model.student_ = student  # predict as the fit would with this one
            own, new = model.predict(X), model.predict(X_pop)
            checked, actual = cell_rates(y, own, g), cell_rates(y_pop, new, g_pop)
            rows.append(
                {
                    "seed": seed,
                    "student": k + 1,
                    "students": len(seen["students"]),
                    "warned": warned,
                    "kept": student is kept,
                    "strengths": seen["plans"][k],
                    "rates_checked": checked.tolist(),
                    "rates_population": actual.tolist(),
                    "check_error": (checked - actual).tolist(),
                    "teachers_memorised": seen["memorised"][k].tolist(),
                    "eod_checked": float(
                        disparity_from_rates(METRIC, group_rates(y, own, g, 2, 2))
                    ),
                    "eod_population": float(
                        disparity_from_rates(
                            METRIC, group_rates(y_pop, new, g_pop, 2, 2)
                        )
                    ),
                }
            )
    model.student_ = kept
    return rows


def summarise(rows):
    error = np.array([r["check_error"] for r in rows])
    memorised = np.array([r["teachers_memorised"] for r in rows])
    by_student = {}
    for k in sorted({r["student"] for r in rows}):
        mine = [r for r in rows if r["student"] == k]
        by_student[str(k)] = {
            "students": len(mine),
            "mean_eod_error": float(
                np.mean([r["eod_population"] - r["eod_checked"] for r in mine])
            ),
        }
    kept = [r for r in rows if r["kept"]]
    return {
        "students": len(rows),
        "cells": CELLS,
        "check_error_mean": error.mean(axis=0).tolist(),
        "check_error_sd": error.std(axis=0, ddof=1).tolist(),
        "teachers_memorised_mean": memorised.mean(axis=0).tolist(),
        "teachers_memorised_sd": memorised.std(axis=0, ddof=1).tolist(),
        "correlation": [
            float(np.corrcoef(error[:, c], memorised[:, c])[0, 1])
            for c in range(len(CELLS))
        ],
        # the check's error on each signed gap (group 0 minus group 1)
        "tpr_gap_error_mean": float((error[:, 0] - error[:, 1]).mean()),
        "fpr_gap_error_mean": float((error[:, 2] - error[:, 3]).mean()),
        "eod_error_by_student": by_student,
        "kept_mean_eod_error": float(
            np.mean([r["eod_population"] - r["eod_checked"] for r in kept])
        ),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--n-train", type=int, default=10_000)
    parser.add_argument("--n-population", type=int, default=1_000_000)
    parser.add_argument("--estimator", choices=["network", "hgb"], default="network")
    parser.add_argument("--n-jobs", type=int, default=1)
    args = parser.parse_args(argv)
    per_seed = Parallel(n_jobs=args.n_jobs)(
        delayed(students_of)(seed, args) for seed in range(args.seeds)
    )
    rows = [row for seed_rows in per_seed for row in seed_rows]
    summary = summarise(rows)
    output = RESULTS / f"check_leak_{args.estimator}.json"
    write_json_report(output, "check_leak.py", argv, summary=summary, rows=rows)
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
