"""Every student the bound's search checks: its EOD on the rows it learned
from, on its validation rows, and on the population.

A diagnostic for ``benchmarks/coverage.py`` (same task, seeds and
population). For each seed, ``BackdoorDebiasClassifier(trigger_strength=
"auto", auto_metric="equalized_odds_difference", max_disparity=0.03,
confidence=0.9)`` is fitted on ``--n-train`` rows, and every student the
search distils is recorded (by wrapping the network learner's ``distil``,
and the estimator's ``_validation_split`` for its validation rows: private
names, so this script follows the package's internals). Each student's EOD
and accuracy are measured on all training rows (what the check scores), on
the rows it learned from, on its validation rows (which it never learned)
and on the population; ``kept`` marks the student the fit returned.
Beside them, the EOD of the teachers' held-out predictions at the
student's plan (what the search scored), and a "soft" EOD of the teachers
and of the student: the gaps in mean probability of class 1 instead of in
rates of predicted 1. And a label-free EOD of the student on the training
rows: each row counted as a positive with weight its probability of class
1 under the teachers at strength 0 (held out, the teacher of its fold),
and as a negative with the rest, in place of its label.
Writes ``benchmarks/results/coverage_students_<n-train>.json`` and prints
the means per student (first, second, third) and the check's error
(population minus checked EOD). Run from the repository root:

    OMP_NUM_THREADS=1 python benchmarks/coverage_students.py --seeds 50 \\
        --n-train 30000 --n-jobs 2
"""

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from coverage import write_json_report  # benchmarks/ is first on sys.path
from joblib import Parallel, delayed

RESULTS = Path(__file__).parent / "results"
METRIC = "equalized_odds_difference"


def students_of(seed, n_train, n_population):
    import torch

    torch.set_num_threads(1)
    sys.path.insert(0, str(Path(__file__).parent))
    from coverage import fit_warned, population, search_for_bound

    import sklearn_dwb._classifier as classifier
    import sklearn_dwb._learners as learners
    from sklearn_dwb._disparity import disparity_from_rates, group_rates

    (X, y, g), (X_pop, y_pop, g_pop) = population(seed, n_train, n_population, 0.4)
    seen = {"students": [], "teachers": []}
    split, distil, candidate = (
        classifier.BackdoorDebiasClassifier._validation_split,
        learners.NetworkLearner.distil,
        classifier.BackdoorDebiasClassifier._dose_candidate,
    )

    def record_split(self, *args, **kwargs):
        seen["split"] = split(self, *args, **kwargs)
        return seen["split"]

    def record_teachers(self, learner, teachers, folds, plan, strengths, *rest):
        chosen = candidate(self, learner, teachers, folds, plan, strengths, *rest)
        seen["teachers"].append(chosen.clean_logits)
        if "plain" not in seen:  # the teachers at strength 0 for every group
            zero = np.zeros_like(strengths)
            plain = candidate(self, learner, teachers, folds, plan, zero, *rest)
            seen["plain"] = plain.clean_logits
        return chosen

    def record_student(self, *args, **kwargs):
        student = distil(self, *args, **kwargs)
        seen["students"].append(student)
        return student

    classifier.BackdoorDebiasClassifier._validation_split = record_split
    learners.NetworkLearner.distil = record_student
    classifier.BackdoorDebiasClassifier._dose_candidate = record_teachers
    # single students (as recorded): the students checked are those of a
    # blending fit, only the model kept may differ
    model = search_for_bound(seed, METRIC, 0.9, blend=False)
    try:
        warned = fit_warned(model, X, y, g)
    finally:
        classifier.BackdoorDebiasClassifier._validation_split = split
        learners.NetworkLearner.distil = distil
        classifier.BackdoorDebiasClassifier._dose_candidate = candidate
    learned, valid = seen["split"]
    y, g = np.asarray(y), np.asarray(g).astype(int)
    y_pop, g_pop = np.asarray(y_pop), np.asarray(g_pop).astype(int)
    final = model.predict(X_pop)

    def eod(y_true, y_pred, groups, weight=None):
        rates = group_rates(y_true, y_pred, groups, 2, 2, sample_weight=weight)
        return float(disparity_from_rates(METRIC, rates))

    def proba_of_1(logits):
        return torch.softmax(torch.as_tensor(logits), dim=1)[:, 1].numpy()

    # a probability p as a vote: two copies of each row, the first voting 1
    # with weight p, the second 0 with weight 1 - p
    def twice(a):
        return np.concatenate([a, a])

    def votes(proba):
        return np.repeat([1, 0], len(proba)), np.concatenate([proba, 1 - proba])

    def soft_eod(y_true, logits, groups):
        # predictions as votes: the gaps in mean probability of class 1
        # among positives and among negatives
        predicted, weight = votes(proba_of_1(logits))
        return eod(twice(y_true), predicted, twice(groups), weight)

    def label_free_eod(y_pred, proba, groups):
        # labels as votes: each row a positive with weight proba and a
        # negative with the rest
        actual, weight = votes(proba)
        return eod(actual, twice(y_pred), twice(groups), weight)

    plain = proba_of_1(seen["plain"])

    rows = []
    for k, (student, teachers) in enumerate(
        zip(seen["students"], seen["teachers"], strict=True)
    ):
        with torch.no_grad():
            own_logits = student.forward(np.asarray(X, np.float32), device="cpu")
            new_logits = student.forward(np.asarray(X_pop, np.float32), device="cpu")
        own, new = own_logits.argmax(1).numpy(), new_logits.argmax(1).numpy()
        rows.append(
            {
                "seed": seed,
                "student": k + 1,
                "students": len(seen["students"]),
                "warned": warned,
                "kept": bool((new == final).all()),
                "eod_teachers": eod(y, teachers.argmax(1), g),
                "eod_checked": eod(y, own, g),
                "eod_label_free": label_free_eod(own, plain, g),
                "eod_learned": eod(y[learned], own[learned], g[learned]),
                "eod_valid": eod(y[valid], own[valid], g[valid]),
                "eod_population": eod(y_pop, new, g_pop),
                "soft_eod_teachers": soft_eod(y, teachers, g),
                "soft_eod_checked": soft_eod(y, own_logits, g),
                "soft_eod_population": soft_eod(y_pop, new_logits, g_pop),
                "accuracy_learned": float((own[learned] == y[learned]).mean()),
                "accuracy_valid": float((own[valid] == y[valid]).mean()),
                "accuracy_population": float((new == y_pop).mean()),
            }
        )
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=50)
    parser.add_argument("--n-train", type=int, default=10_000)
    parser.add_argument("--n-population", type=int, default=1_000_000)
    parser.add_argument("--n-jobs", type=int, default=1)
    args = parser.parse_args(argv)
    per_seed = Parallel(n_jobs=args.n_jobs)(
        delayed(students_of)(seed, args.n_train, args.n_population)
        for seed in range(args.seeds)
    )
    table = pd.DataFrame([row for rows in per_seed for row in rows])
    table["error_checked"] = table["eod_population"] - table["eod_checked"]
    table["error_valid"] = table["eod_population"] - table["eod_valid"]
    table["error_label_free"] = table["eod_population"] - table["eod_label_free"]
    output = RESULTS / f"coverage_students_{args.n_train}.json"
    rows = table.to_dict(orient="records")
    write_json_report(output, "coverage_students.py", argv, rows=rows)
    columns = [
        c for c in table.columns if c.startswith(("eod_", "soft_eod_", "accuracy_"))
    ]
    print(table.groupby("student")[columns].mean().round(4).to_string())
    errors = ["error_checked", "error_valid", "error_label_free"]
    for by in ("student", "kept"):
        print(table.groupby(by)[errors].agg(["mean", "std", "count"]).round(4))


if __name__ == "__main__":
    main()
