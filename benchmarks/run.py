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
  bound), family "DwB-HGB student".

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
import fnmatch
import functools
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, balanced_accuracy_score
from sklearn.model_selection import train_test_split

from sklearn_dwb import BackdoorDebiasClassifier, __version__
from sklearn_dwb._bound_search import BoundSearch
from sklearn_dwb._trigger import append_triggers, plan_stamps
from sklearn_dwb.datasets import (
    fetch_adult,
    fetch_bank_marketing,
    fetch_compas,
    fetch_credit_default,
    fetch_german,
    make_tabular_encoder,
)
from sklearn_dwb.metrics import FAIRNESS_METRICS

PROG = "python benchmarks/run.py"
STRENGTHS = (0.25, 0.5, 1.0)
# trigger_strength="auto" with a bound: (short name, auto_metric, max_disparity)
AUTO_BOUNDS = (
    ("eod", "equalized_odds_difference", 0.05),
    ("eod", "equalized_odds_difference", 0.03),
    ("dpd", "demographic_parity_difference", 0.02),
    ("eopd", "equal_opportunity_difference", 0.03),
)
# FairGBM's tolerance on the groups' FNR and FPR differences (fairgbm_<tol>)
FAIRGBM_TOLERANCES = (0.01, 0.02, 0.03, 0.04, 0.05)
FAIRGBM_TREES = 200
FAIRGBM_LEARNING_RATE = 0.1
# DwB over HistGradientBoostingClassifier: (short name, auto_metric, bound)
DWB_HGB_BOUNDS = (
    ("eod", "equalized_odds_difference", 0.05),
    ("eod", "equalized_odds_difference", 0.03),
    ("dpd", "demographic_parity_difference", 0.02),
)
# ExponentiatedGradient iterations (network fits) with the network as base
# estimator; fairlearn's default of 50 is kept for LogisticRegression.
EG_NETWORK_MAX_ITER = 20
TARGETS = ("global", "balanced")
METRICS = ["accuracy", "balanced_accuracy", *FAIRNESS_METRICS]
RESULT_COLUMNS = ["task", "method", "family", "seed", *METRICS, "fit_time_s"]


# ----------------------------------------------------------------- tasks
def _adult(seed, column, binarise):
    train, test = fetch_adult(subset="train"), fetch_adult(subset="test")
    return (
        train.data,
        test.data,
        train.target.to_numpy(),
        test.target.to_numpy(),
        binarise(train.data[column]),
        binarise(test.data[column]),
    )


def _split(data, seed, groups):
    """70/30 split stratified by (group, class) cell: every split keeps
    each cell's share, so its disparities vary only with the rows drawn."""
    strata = (
        pd.Series(groups).astype(str).to_numpy()
        + "|"
        + data.target.to_numpy().astype(str)
    )
    return train_test_split(
        data.data,
        data.target.to_numpy(),
        groups,
        test_size=0.3,
        stratify=strata,
        random_state=seed,
    )


def _compas_race(seed):
    data = fetch_compas()
    keep = data.data["race"].isin(["African-American", "Caucasian"]).to_numpy()
    data.data = data.data[keep].reset_index(drop=True)
    data.target = data.target[keep]
    return _split(data, seed, data.data["race"].to_numpy())


def _german(seed, column):
    data = fetch_german()
    groups = data.data[column].to_numpy()
    if column == "age":
        groups = np.where(groups > 25, "over 25", "25 or under")
    return _split(data, seed, groups)


def _bank_age(seed):
    data = fetch_bank_marketing()
    return _split(data, seed, data.data["age_group"].to_numpy())


def _credit_sex(seed):
    data = fetch_credit_default()
    return _split(data, seed, data.data["SEX"].to_numpy())


def _as_array(groups):
    return groups.to_numpy()


def _white_or_not(groups):
    return np.where(groups == "White", "White", "non-White")


TASKS = {
    "adult-sex": functools.partial(_adult, column="sex", binarise=_as_array),
    "adult-race": functools.partial(_adult, column="race", binarise=_white_or_not),
    "compas-race": _compas_race,
    "german-sex": functools.partial(_german, column="sex"),
    "german-age": functools.partial(_german, column="age"),
    "bank-age": _bank_age,
    "credit-sex": _credit_sex,
}


#: Seeds run per task by default (seeds 0 to n - 1).
TASK_SEEDS = {
    "adult-sex": 10,
    "adult-race": 10,
    "compas-race": 20,
    "german-sex": 20,
    "german-age": 20,
    "bank-age": 10,
    "credit-sex": 10,
}


def task_seeds(task, seeds=None):
    """The seeds run on a task: ``range(seeds)``, or the task's
    :data:`TASK_SEEDS` when None."""
    return range(TASK_SEEDS[task] if seeds is None else seeds)


@functools.lru_cache(maxsize=4)
def load_task(task, seed):
    """Encoded float32 train/test features (group indicator last), labels,
    and group labels of one task and seed."""
    X_train, X_test, y_train, y_test, g_train, g_test = TASKS[task](seed)
    encoder = make_tabular_encoder()
    privileged = np.unique(g_train)[-1]
    features = []
    for X, g, fit in ((X_train, g_train, True), (X_test, g_test, False)):
        encoded = encoder.fit_transform(X) if fit else encoder.transform(X)
        indicator = (g == privileged).astype(np.float32)[:, None]
        features.append(np.hstack([encoded, indicator]).astype(np.float32))
    return features[0], features[1], y_train, y_test, g_train, g_test


# --------------------------------------------------------------- methods
def _network(seed, **params):
    # the group indicator is the last column: models that are fitted without
    # groups (inside fairlearn's reductions) read it from there
    return BackdoorDebiasClassifier(sensitive_columns=[-1], random_state=seed, **params)


def _timed(fit):
    start = time.perf_counter()
    model = fit()
    return model, time.perf_counter() - start


def run_logistic_regression(data, seed):
    X, X_test, y, *_ = data
    model, seconds = _timed(lambda: LogisticRegression(max_iter=2000).fit(X, y))
    return [("logistic_regression", "baseline", model.predict(X_test), seconds)]


def run_network(data, seed):
    X, X_test, y, *_ = data
    model, seconds = _timed(lambda: _network(seed, trigger_strength=0).fit(X, y))
    return [("network", "baseline", model.predict(X_test), seconds)]


def run_dwb(data, seed, target, strength):
    X, X_test, y, *_ = data
    model, seconds = _timed(
        lambda: _network(
            seed, trigger_strength=strength, target=target, keep_teacher=True
        ).fit(X, y)
    )
    # the teacher on clean inputs: every trigger column at zero
    clean = append_triggers(X_test, len(model.trigger_plan_))
    teacher = model.classes_[model.teacher_.predict_proba(clean).argmax(axis=1)]
    name = f"dwb_{target}_{strength:g}"
    return [
        (name, "DwB student", model.predict(X_test), seconds),
        (f"{name}_teacher", "DwB teacher", teacher, seconds),
    ]


class ReweighingBoundSearch(BoundSearch):
    """The search for a bound with Kamiran-Calders weights in place of
    triggers: each row's dose scales its cell's weight from 1 (strength 0)
    to ``P(g) P(y) / P(g, y)`` (strength 1) and beyond; the teachers,
    scores and distilled students are otherwise the same."""

    mechanism = "reweigh"


class ReweighingPlanSearch(BackdoorDebiasClassifier):
    """``trigger_strength="auto"`` with a bound, searched by
    :class:`ReweighingBoundSearch`."""

    _bound_search = ReweighingBoundSearch


def run_auto(data, seed, metric, bound, mechanism, cv=5, confidence=None, blend=True):
    X, X_test, y, *_ = data
    estimator = (
        BackdoorDebiasClassifier if mechanism == "trigger" else (ReweighingPlanSearch)
    )
    params = dict(
        trigger_strength="auto",
        auto_metric=metric,
        max_disparity=bound,
        cv=cv,
        confidence=confidence,
        blend_students=blend,
    )
    model, seconds = _timed(
        lambda: estimator(sensitive_columns=[-1], random_state=seed, **params).fit(X, y)
    )
    name, family = _auto_name(metric, bound, mechanism, cv, confidence, blend)
    return [(name, family, model.predict(X_test), seconds)]


def _auto_name(metric, bound, mechanism, cv=5, confidence=None, blend=True):
    short = {m: s for s, m, _ in AUTO_BOUNDS}[metric]
    suffix = "" if cv is not None else "_one_teacher"
    if confidence is not None:
        suffix += f"_confidence_{confidence:g}"
    suffix += "" if blend else "_no_blend"
    if mechanism == "trigger":
        return f"dwb_auto_{short}_{bound:g}{suffix}", "DwB student"
    return f"reweighing_auto_{short}_{bound:g}{suffix}", "deletion / reweighing"


def run_undersampling(data, seed):
    X, X_test, y, _, g, _ = data
    groups, group_codes = np.unique(g, return_inverse=True)
    classes, class_codes = np.unique(y, return_inverse=True)

    def fit():
        stamped = plan_stamps(
            group_codes=group_codes,
            class_codes=class_codes,
            shape=(len(groups), len(classes)),
            weights=np.ones(len(y)),
            target="global",
            strength=1.0,
            rng=np.random.default_rng(seed),
        ).stamped
        return _network(seed, trigger_strength=0).fit(X[~stamped], y[~stamped])

    model, seconds = _timed(fit)
    y_pred = model.predict(X_test)
    return [("undersampling", "deletion / reweighing", y_pred, seconds)]


def reweighing_weights(y, groups):
    """Kamiran and Calders' weights ``P(g) P(y) / P(g, y)``.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Labels.
    groups : array-like of shape (n_samples,)
        Group of each row.

    Returns
    -------
    ndarray of shape (n_samples,)
        The weight of each row; weighted, the label is independent of the group.

    Examples
    --------
    >>> reweighing_weights([1, 1, 1, 0], ["a", "a", "b", "b"]).round(2).tolist()
    [0.75, 0.75, 1.5, 0.5]
    """
    table = pd.crosstab(groups, y, normalize=True)
    expected = np.outer(table.sum(axis=1), table.sum(axis=0))
    observed = table.to_numpy()
    # an empty cell has no row to weigh: leave its weight at 0, not inf
    ratio = np.divide(
        expected, observed, out=np.zeros_like(expected), where=observed > 0
    )
    return ratio[table.index.get_indexer(groups), table.columns.get_indexer(y)]


def run_reweighing(data, seed):
    X, X_test, y, _, g, _ = data

    def fit():
        weight = reweighing_weights(y, g)
        return _network(seed, trigger_strength=0).fit(X, y, sample_weight=weight)

    model, seconds = _timed(fit)
    y_pred = model.predict(X_test)
    return [("reweighing", "deletion / reweighing", y_pred, seconds)]


# ------------------------------------------------------ gradient boosting
def _hgb(seed):
    return HistGradientBoostingClassifier(random_state=seed)


def run_hgb(data, seed):
    X, X_test, y, *_ = data
    model, seconds = _timed(lambda: _hgb(seed).fit(X, y))
    return [("hgb", "baseline", model.predict(X_test), seconds)]


def run_reweighing_hgb(data, seed):
    X, X_test, y, _, g, _ = data

    def fit():
        return _hgb(seed).fit(X, y, sample_weight=reweighing_weights(y, g))

    model, seconds = _timed(fit)
    y_pred = model.predict(X_test)
    return [("reweighing_hgb", "deletion / reweighing", y_pred, seconds)]


def fairgbm_params(tolerance, seed):
    """``fairgbm.train`` parameters of ``fairgbm_<tolerance>``: equalized
    odds (the groups' FNR and FPR within ``tolerance`` of each other)."""
    return {
        "objective": "constrained_cross_entropy",
        "constraint_type": "FNR,FPR",
        "constraint_fnr_tolerance": tolerance,
        "constraint_fpr_tolerance": tolerance,
        "learning_rate": FAIRGBM_LEARNING_RATE,
        "seed": seed,
        "num_threads": 1,
        "verbose": -1,
    }


def run_fairgbm(data, seed, tolerance, n_trees=FAIRGBM_TREES):
    """FairGBM through ``fairgbm.train`` (its scikit-learn wrapper passes
    ``force_all_finite`` to ``check_X_y``, which scikit-learn 1.9 rejects).
    The groups are needed to train only; the positive class is predicted
    where its probability is at least 0.5."""
    import fairgbm

    X, X_test, y, _, g, _ = data
    classes, y_codes = np.unique(y, return_inverse=True)
    _, group_codes = np.unique(g, return_inverse=True)

    def fit():
        train = fairgbm.Dataset(X, label=y_codes, constraint_group=group_codes)
        params = fairgbm_params(tolerance, seed)
        return fairgbm.train(params, train, num_boost_round=n_trees)

    booster, seconds = _timed(fit)
    y_pred = classes[(booster.predict(X_test) >= 0.5).astype(int)]
    return [(f"fairgbm_{tolerance:g}", "FairGBM", y_pred, seconds)]


def run_dwb_hgb(
    data, seed, strength=None, metric=None, bound=None, confidence=0.9, blend=True
):
    """DwB with HistGradientBoostingClassifier as its model: a fixed
    ``strength`` (global target), or ``trigger_strength="auto"`` with
    ``metric`` and ``bound`` at ``confidence`` (the default, 0.9, or None:
    the point-estimate rule), and ``blend_students=blend``."""
    X, X_test, y, *_ = data
    if strength is None:
        params = dict(
            trigger_strength="auto",
            auto_metric=metric,
            max_disparity=bound,
            confidence=confidence,
            blend_students=blend,
        )
    else:
        params = dict(trigger_strength=strength)
    model, seconds = _timed(
        lambda: _network(
            seed, estimator=HistGradientBoostingClassifier(), **params
        ).fit(X, y)
    )
    name = _dwb_hgb_name(strength, metric, bound, confidence, blend)
    return [(name, "DwB-HGB student", model.predict(X_test), seconds)]


def _dwb_hgb_name(strength=None, metric=None, bound=None, confidence=0.9, blend=True):
    """``dwb_hgb_global_<strength>``, or ``dwb_hgb_auto_<metric>_<bound>`` at
    the default confidence (``_confidence_none`` appended without one,
    ``_no_blend`` with ``blend_students=False``)."""
    if strength is not None:
        return f"dwb_hgb_global_{strength:g}"
    short = {m: s for s, m, _ in DWB_HGB_BOUNDS}[metric]
    suffix = "_confidence_none" if confidence is None else ""
    suffix += "" if blend else "_no_blend"
    return f"dwb_hgb_auto_{short}_{bound:g}{suffix}"


def run_fairlearn(data, seed, method, constraint, base):
    from fairlearn.postprocessing import ThresholdOptimizer
    from fairlearn.reductions import (
        DemographicParity,
        EqualizedOdds,
        ExponentiatedGradient,
        GridSearch,
    )

    X, X_test, y, _, g, g_test = data
    # float64: fairlearn's post-processing mixes float32 scores with float64
    X, X_test = X.astype(np.float64), X_test.astype(np.float64)
    make_base = {
        "lr": lambda: LogisticRegression(max_iter=2000),
        "network": lambda: _network(seed, trigger_strength=0),
        "hgb": lambda: _hgb(seed),
    }[base]
    constraints = {"dp": DemographicParity, "eo": EqualizedOdds}[constraint]
    if method == "threshold":
        model = ThresholdOptimizer(
            estimator=make_base(),
            constraints="equalized_odds",
            predict_method="predict_proba",
        )
    elif method == "eg":
        # each iteration is one base fit: bound the network variant's cost
        max_iter = EG_NETWORK_MAX_ITER if base == "network" else 50
        model = ExponentiatedGradient(
            make_base(), constraints=constraints(), max_iter=max_iter
        )
    else:
        model = GridSearch(make_base(), constraints=constraints(), grid_size=10)
    model, seconds = _timed(lambda: model.fit(X, y, sensitive_features=g))
    if method == "threshold":
        y_pred = model.predict(X_test, sensitive_features=g_test, random_state=seed)
    elif method == "eg":
        y_pred = model.predict(X_test, random_state=seed)
    else:
        y_pred = model.predict(X_test)
    name = f"{method}_{constraint}_{base}"
    return [(name, "fairlearn", np.asarray(y_pred), seconds)]


def _dwb_job(target, strength):
    name = f"dwb_{target}_{strength:g}"
    return name, functools.partial(run_dwb, target=target, strength=strength)


def _auto_job(metric, bound, mechanism, cv=5, confidence=None, blend=True):
    name = _auto_name(metric, bound, mechanism, cv, confidence, blend)[0]
    run = functools.partial(
        run_auto,
        metric=metric,
        bound=bound,
        mechanism=mechanism,
        cv=cv,
        confidence=confidence,
        blend=blend,
    )
    return name, run


def _fairlearn_job(method, constraint, base):
    name = f"{method}_{constraint}_{base}"
    run = functools.partial(
        run_fairlearn, method=method, constraint=constraint, base=base
    )
    return name, run


def _fairgbm_job(tolerance):
    return f"fairgbm_{tolerance:g}", functools.partial(run_fairgbm, tolerance=tolerance)


def _dwb_hgb_job(strength=None, metric=None, bound=None, confidence=0.9, blend=True):
    run = functools.partial(
        run_dwb_hgb,
        strength=strength,
        metric=metric,
        bound=bound,
        confidence=confidence,
        blend=blend,
    )
    return _dwb_hgb_name(strength, metric, bound, confidence, blend), run


def boosting_jobs():
    """The gradient-boosting peers, then DwB over HistGradientBoosting."""
    peers = [
        ("hgb", run_hgb),
        ("reweighing_hgb", run_reweighing_hgb),
        *[_fairgbm_job(tolerance) for tolerance in FAIRGBM_TOLERANCES],
        _fairlearn_job("threshold", "eo", "hgb"),
        _fairlearn_job("eg", "eo", "hgb"),
        _fairlearn_job("eg", "dp", "hgb"),
    ]
    dwb = [_dwb_hgb_job(strength=strength) for strength in STRENGTHS]
    dwb += [_dwb_hgb_job(metric=m, bound=b) for _, m, b in DWB_HGB_BOUNDS]
    # the point-estimate rule, beside the default confidence level
    dwb.append(
        _dwb_hgb_job(metric="equalized_odds_difference", bound=0.03, confidence=None)
    )
    # the search kept to single students (blend_students=False)
    dwb += [
        _dwb_hgb_job(metric="equalized_odds_difference", bound=b, blend=False)
        for b in (0.05, 0.03)
    ]
    return [*peers, *dwb]


def select_jobs(all_jobs, patterns=None):
    """The jobs whose name matches one of the fnmatch ``patterns`` (every
    job when None), in their order."""
    if not patterns:
        return list(all_jobs)
    return [
        (name, run)
        for name, run in all_jobs
        if any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)
    ]


def run_cost(name):
    """Order of a run in the queue: cheap runs first, then
    ExponentiatedGradient over HistGradientBoosting, then the reductions over
    the network (dozens of network fits each)."""
    if name.endswith("_network"):
        return 2
    return int(name.startswith("eg_") and name.endswith("_hgb"))


def jobs(quick=False):
    """Every (name, run function) pair; the name is the method the run
    reports first (DwB runs report their teacher too)."""
    baselines = [
        ("logistic_regression", run_logistic_regression),
        ("network", run_network),
    ]
    deletion = [("undersampling", run_undersampling), ("reweighing", run_reweighing)]
    if quick:
        return [
            *baselines,
            _dwb_job("global", 1.0),
            _auto_job("equalized_odds_difference", 0.05, "trigger"),
            *deletion,
            _fairlearn_job("eg", "eo", "lr"),
            _fairlearn_job("threshold", "eo", "lr"),
        ]
    dwb = [_dwb_job(target, strength) for target in TARGETS for strength in STRENGTHS]
    dwb += [_auto_job(m, b, "trigger") for _, m, b in AUTO_BOUNDS]
    deletion += [_auto_job(m, b, "reweigh") for _, m, b in AUTO_BOUNDS]
    # the plan search without cross-fitting: one dose teacher scores the plans
    # on the rows it learned
    dwb.append(_auto_job("equalized_odds_difference", 0.03, "trigger", cv=None))
    # the bound checked against upper 0.9 confidence bounds
    dwb += [
        _auto_job(m, b, "trigger", confidence=0.9, blend=blend)
        for blend in (True, False)  # False: single students only
        for m, b in [
            ("equalized_odds_difference", 0.03),
            ("demographic_parity_difference", 0.02),
        ]
    ]
    deletion.append(_auto_job("equalized_odds_difference", 0.03, "reweigh", cv=None))
    fairlearn = [
        _fairlearn_job(*spec)
        for spec in [
            ("eg", "dp", "lr"),
            ("eg", "eo", "lr"),
            ("grid", "eo", "lr"),
            ("threshold", "eo", "lr"),
            ("eg", "dp", "network"),
            ("eg", "eo", "network"),
        ]
    ]
    return [*baselines, *dwb, *deletion, *fairlearn, *boosting_jobs()]


def evaluate(y_true, y_pred, groups):
    """The benchmark's metrics for one set of test predictions."""
    row = {
        "accuracy": accuracy_score(y_true, y_pred),
        "balanced_accuracy": balanced_accuracy_score(y_true, y_pred),
    }
    for name, (function, _) in FAIRNESS_METRICS.items():
        row[name] = float(function(y_true, y_pred, sensitive_features=groups))
    return row


def _run_job(task, seed, run):
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # one core per run; parallel runs share the machine
    try:
        data = load_task(task, seed)
        return [
            {
                "task": task,
                "method": method,
                "family": family,
                "seed": seed,
                **evaluate(data[3], y_pred, data[5]),
                "fit_time_s": seconds,
            }
            for method, family, y_pred, seconds in run(data, seed)
        ]
    finally:
        torch.set_num_threads(threads)  # in-process runs (n_jobs=1) leave no trace


# --------------------------------------------------------------- reports
def summarise(results):
    """Mean and standard deviation over seeds per task and method."""
    grouped = results.groupby(["task", "family", "method"], sort=False)
    summary = grouped[[*METRICS, "fit_time_s"]].agg(["mean", "std"])
    summary[("n_seeds", "")] = grouped.size()
    return summary


def uses_hgb(method):
    """Whether a method is fitted over HistGradientBoostingClassifier."""
    return method == "hgb" or method.endswith("_hgb") or method.startswith("dwb_hgb_")


#: Families with their own rows for their members over HistGradientBoosting
#: (tables and plots): "fairlearn (HGB)", ...
SPLIT_BY_MODEL = ("baseline", "deletion / reweighing", "fairlearn")


def peer_group(family, method):
    """The family a method is shown under: its family, with " (HGB)" for the
    members over HistGradientBoosting of the families that also hold the
    LogisticRegression and network members."""
    if family in SPLIT_BY_MODEL and uses_hgb(method):
        return f"{family} (HGB)"
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


def _environment():
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


def write_summary(results, path, command):
    summary = summarise(results)
    lines = [
        "# Benchmark results",
        "",
        f"Command: `{command}`",
        "",
        f"Environment: {_environment()}",
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
        "Per task: the DwB students on DwB's Pareto front (most accurate for "
        "their EOD), and those a fairlearn method over LogisticRegression or "
        "the network beats on both accuracy and EOD; likewise the DwB-HGB "
        "students' front against FairGBM and fairlearn over "
        "HistGradientBoosting.",
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
)


def dominated_front_points(results):
    """Per task: DwB's front and the front points a fairlearn method (over
    LogisticRegression or the network) dominates; DwB-HGB's front and the
    front points FairGBM or a fairlearn method over HistGradientBoosting
    dominates ("not run" where a task has no row of the front's family)."""
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
    return args, tasks, seeds, out, select_jobs(all_jobs, args.methods)


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
    done = set()
    if csv.exists():
        previous = pd.read_csv(csv)
        done = set(
            zip(previous["task"], previous["method"], previous["seed"], strict=True)
        )
    todo = [
        (task, seed, name, run)
        for task in tasks
        for seed in task_seeds(task, seeds)
        for name, run in selected
        if (task, name, seed) not in done
    ]
    # reductions cost dozens of fits each: run them last
    todo.sort(key=lambda job: run_cost(job[2]))
    print(f"{len(todo)} runs to do ({len(done)} results already in {csv})", flush=True)
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
