"""How low can a plan go? The population EOD of every plan the search tries.

A diagnostic for ``benchmarks/coverage.py`` (same task, seeds, training rows
and population). For each seed, ``BackdoorDebiasClassifier(trigger_strength=
"auto", auto_metric="equalized_odds_difference", max_disparity=0.03,
confidence=0.9)`` is fitted as in the coverage study, and its dose teachers
(one per fold) are kept by wrapping the learner's ``fit_dose_teachers`` (a
private name: this script follows the package's internals). Every row of the
first ``--n-scored`` population rows is then predicted at every strength of
the search's grid for its group, by the mean of the fold teachers'
probabilities (smoother than any one teacher, as a student is), and each
plan's population EOD and accuracy follow from each group's rates at its
strength. Per seed: the *floor* (the least population EOD over the grid's
plans, and the plan and accuracy there), how many plans are within 0.03 and
0.02, the EOD a grid step away from the floor, and beside them what the fit
itself returned (its student's population EOD, and whether it warned).

The same predictions give the *mixture*'s EOD at every plan: each teacher's
own predictions, their rates averaged over the teachers, which is what the
search's held-out score estimates (each row predicted by the one teacher
that did not learn it). Where the teachers disagree, the mixture and the
mean teacher (and the students, which learn from all folds at once) part:
the script reports the mixture's floor, the mean teacher's EOD there, their
mean gap over the plans where the mixture is within 0.05, and both at the
plan the fit returned.

Writes ``benchmarks/results/plan_floor_<estimator>_<n-train>.json``. Run from
the repository root, one thread per process:

    OMP_NUM_THREADS=1 python benchmarks/plan_floor.py --seeds 20 --n-jobs 2
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from coverage import write_json_report  # benchmarks/ is first on sys.path
from joblib import Parallel, delayed

RESULTS = Path(__file__).parent / "results"
METRIC = "equalized_odds_difference"
BOUND = 0.03


def surface(rates):
    """EOD of every plan (strength of group 0, strength of group 1) from
    each group's rates at every strength (``rates[strength, ..., group]``)."""
    from sklearn_dwb._disparity import disparity_from_rates

    plans = np.stack(
        np.broadcast_arrays(rates[:, None, ..., 0], rates[None, :, ..., 1]),
        axis=-1,
    )
    return disparity_from_rates(METRIC, plans)


def floor_of(seed, args):
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    threadpool_limits(1)
    sys.path.insert(0, str(Path(__file__).parent))
    from coverage import fit_warned, population, search_for_bound

    import sklearn_dwb._learners as learners
    from sklearn_dwb._disparity import disparity_from_rates, group_rates
    from sklearn_dwb._dose import DOSE_GRID

    (X, y, g), (X_pop, y_pop, g_pop) = population(
        seed, args.n_train, args.n_population, 0.4
    )
    hgb = args.estimator == "hgb"
    kind = learners.EstimatorLearner if hgb else learners.NetworkLearner
    fit_teachers, kept = kind.fit_dose_teachers, {}

    def keep_teachers(self, data, plan, *rest):
        teachers, predictions = fit_teachers(self, data, plan, *rest)
        kept.update(learner=self, teachers=teachers, plan=plan)
        return teachers, predictions

    kind.fit_dose_teachers = keep_teachers
    # single students (as recorded): the students checked are those of a
    # blending fit, only the model kept may differ
    model = search_for_bound(seed, METRIC, 0.9, args.estimator, blend=False)
    try:
        warned = fit_warned(model, X, y, g)
    finally:
        kind.fit_dose_teachers = fit_teachers
    y_pop, g_pop = np.asarray(y_pop), np.asarray(g_pop).astype(int)
    final = model.predict(X_pop)
    fitted_eod = disparity_from_rates(METRIC, group_rates(y_pop, final, g_pop, 2, 2))

    learner, teachers, plan = kept["learner"], kept["teachers"], kept["plan"]
    X_s = np.asarray(X_pop[: args.n_scored], dtype=np.float32)
    y_s, g_s = y_pop[: args.n_scored], g_pop[: args.n_scored]
    # per strength and group, the group's rates (group_rates' layout, one
    # group at a time) and correct count under the mean teacher (the fold
    # teachers' mean probability), and its rates under the mixture (each
    # teacher's own predictions, their rates averaged: what the held-out
    # score estimates, each row being predicted by its fold's teacher)
    n = len(DOSE_GRID)
    rates, correct = np.empty((n, 1, 3, 2)), np.empty((n, 2))
    mixture = np.empty((n, 1, 3, 2))
    for group in range(2):
        rows = g_s == group
        alone = np.zeros(rows.sum(), dtype=np.intp)
        for j, strength in enumerate(DOSE_GRID):
            columns = np.zeros(
                (rows.sum(), plan.n_groups + plan.n_triggers), dtype=np.float32
            )
            columns[:, group] = strength
            X_in = learner.append(X_s[rows], columns)
            probas = [
                torch.softmax(torch.as_tensor(learner.logits(t, X_in)), 1).numpy()
                for t in teachers
            ]
            y_hat = np.mean(probas, axis=0).argmax(axis=1)
            rates[j, ..., group] = group_rates(y_s[rows], y_hat, alone, 1, 2)[..., 0]
            correct[j, group] = (y_hat == y_s[rows]).sum()
            mixture[j, ..., group] = np.mean(
                [
                    group_rates(y_s[rows], p.argmax(axis=1), alone, 1, 2)[..., 0]
                    for p in probas
                ],
                axis=0,
            )
    eod, mixture_eod = (surface(r) for r in (rates, mixture))
    accuracy = (correct[:, None, 0] + correct[None, :, 1]) / len(y_s)
    i, j = np.unravel_index(eod.argmin(), eod.shape)
    zero = int(np.argmin(np.abs(DOSE_GRID)))
    neighbours = [
        eod[a, b]
        for a, b in ((i - 1, j), (i + 1, j), (i, j - 1), (i, j + 1))
        if 0 <= a < n and 0 <= b < n
    ]
    fitted = tuple(
        int(np.argmin(np.abs(DOSE_GRID - s))) for s in model.trigger_strength_
    )
    mixture_floor = np.unravel_index(mixture_eod.argmin(), mixture_eod.shape)
    near = mixture_eod <= 0.05
    return {
        "seed": seed,
        "estimator": args.estimator,
        "floor_eod": float(eod[i, j]),
        "floor_strengths": [float(DOSE_GRID[i]), float(DOSE_GRID[j])],
        "floor_accuracy": float(accuracy[i, j]),
        "neighbours_mean_eod": float(np.mean(neighbours)),
        "plain_eod": float(eod[zero, zero]),
        "plans": int(eod.size),
        "plans_within_0.03": int((eod <= BOUND).sum()),
        "plans_within_0.02": int((eod <= 0.02).sum()),
        "best_accuracy_within_0.03": float(
            accuracy[eod <= BOUND].max() if (eod <= BOUND).any() else np.nan
        ),
        "mixture_floor_eod": float(mixture_eod[mixture_floor]),
        "mixture_floor_strengths": [float(DOSE_GRID[k]) for k in mixture_floor],
        "mean_teacher_eod_at_mixture_floor": float(eod[mixture_floor]),
        "mean_gap_where_mixture_within_0.05": float(
            np.abs(mixture_eod - eod)[near].mean()
        ),
        "mixture_eod_at_fitted_plan": float(mixture_eod[fitted]),
        "mean_teacher_eod_at_fitted_plan": float(eod[fitted]),
        "fitted_population_eod": float(fitted_eod),
        "fitted_population_accuracy": float((final == y_pop).mean()),
        "fitted_warned": warned,
        "fitted_strengths": [float(s) for s in model.trigger_strength_],
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--n-train", type=int, default=10_000)
    parser.add_argument("--n-population", type=int, default=1_000_000)
    parser.add_argument(
        "--n-scored",
        type=int,
        default=200_000,
        help="population rows predicted at every strength (an EOD to about 0.004)",
    )
    parser.add_argument("--estimator", choices=["network", "hgb"], default="network")
    parser.add_argument("--n-jobs", type=int, default=1)
    args = parser.parse_args(argv)
    rows = Parallel(n_jobs=args.n_jobs)(
        delayed(floor_of)(seed, args) for seed in range(args.seeds)
    )
    table = pd.DataFrame(rows)
    summary = {
        "seeds": len(table),
        "mean_floor_eod": table["floor_eod"].mean(),
        "floors_within_0.02": int((table["floor_eod"] <= 0.02).sum()),
        "mean_neighbours_eod": table["neighbours_mean_eod"].mean(),
        "mean_plain_eod": table["plain_eod"].mean(),
        "median_plans_within_0.03": float(table["plans_within_0.03"].median()),
        "plans_per_seed": int(table["plans"].iloc[0]),
        "mean_fitted_population_eod": table["fitted_population_eod"].mean(),
        "fitted_within_0.03": int((table["fitted_population_eod"] <= BOUND).sum()),
        "mean_mixture_floor_eod": table["mixture_floor_eod"].mean(),
        "mean_teacher_eod_at_mixture_floor": table[
            "mean_teacher_eod_at_mixture_floor"
        ].mean(),
        "mean_gap_where_mixture_within_0.05": table[
            "mean_gap_where_mixture_within_0.05"
        ].mean(),
        "mixture_eod_at_fitted_plan": table["mixture_eod_at_fitted_plan"].mean(),
        "mean_teacher_eod_at_fitted_plan": table[
            "mean_teacher_eod_at_fitted_plan"
        ].mean(),
    }
    output = RESULTS / f"plan_floor_{args.estimator}_{args.n_train}.json"
    write_json_report(output, "plan_floor.py", argv, summary=summary, rows=rows)
    print(table.drop(columns=["estimator"]).round(4).to_string())
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
