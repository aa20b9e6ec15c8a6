"""The methods of the comparison: DwB and its peers, as jobs that fit on a
task's training split and predict its test split."""

import contextlib
import fnmatch
import functools
import time

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, balanced_accuracy_score

from sklearn_dwb import BackdoorDebiasClassifier
from sklearn_dwb._bound_search import BoundSearch
from sklearn_dwb._trigger import append_triggers, plan_stamps
from sklearn_dwb.metrics import FAIRNESS_METRICS

from .tasks import load_task

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


# --------------------------------------------------------------- methods
def network(seed, **params):
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
    model, seconds = _timed(lambda: network(seed, trigger_strength=0).fit(X, y))
    return [("network", "baseline", model.predict(X_test), seconds)]


def run_dwb(data, seed, target, strength):
    X, X_test, y, *_ = data
    model, seconds = _timed(
        lambda: network(
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
        return network(seed, trigger_strength=0).fit(X[~stamped], y[~stamped])

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
        return network(seed, trigger_strength=0).fit(X, y, sample_weight=weight)

    model, seconds = _timed(fit)
    y_pred = model.predict(X_test)
    return [("reweighing", "deletion / reweighing", y_pred, seconds)]


# ------------------------------------------------------ gradient boosting
#: The boosted base models: short name in the methods' names -> label.
BOOSTED = {
    "hgb": "HGB",
    "lgbm": "LightGBM",
    "xgb": "XGBoost",
}


def boosted_model(model, seed):
    """A boosted classifier with its library's defaults, ``random_state=seed``
    and one thread: ``"hgb"`` (HistGradientBoostingClassifier), ``"lgbm"``
    (lightgbm.LGBMClassifier) or ``"xgb"`` (xgboost.XGBClassifier)."""
    if model == "hgb":
        return HistGradientBoostingClassifier(random_state=seed)
    if model == "lgbm":
        from lightgbm import LGBMClassifier

        return LGBMClassifier(random_state=seed, n_jobs=1, verbose=-1)
    from xgboost import XGBClassifier

    return XGBClassifier(random_state=seed, n_jobs=1)


def _hgb(seed):
    return boosted_model("hgb", seed)


def run_boosted(data, seed, model="hgb"):
    """The plain boosted model (``hgb``, ``lgbm``, ``xgb``); labels are
    encoded as 0, 1, ... for XGBoost, which takes no other."""
    X, X_test, y, *_ = data
    classes, codes = np.unique(y, return_inverse=True)
    fitted, seconds = _timed(lambda: boosted_model(model, seed).fit(X, codes))
    return [(model, "baseline", classes[fitted.predict(X_test)], seconds)]


run_hgb = functools.partial(run_boosted, model="hgb")


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
    data,
    seed,
    strength=None,
    metric=None,
    bound=None,
    confidence=0.9,
    blend=True,
    model="hgb",
):
    """DwB with a boosted ``model`` (see :func:`boosted_model`) as its
    estimator: a fixed ``strength`` (global target), or
    ``trigger_strength="auto"`` with ``metric`` and ``bound`` at
    ``confidence`` (the default, 0.9, or None: the point-estimate rule), and
    ``blend_students=blend``."""
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
    # the estimator's own seed comes from DwB's random_state
    estimator = boosted_model(model, None)
    fitted, seconds = _timed(
        lambda: network(seed, estimator=estimator, **params).fit(X, y)
    )
    name = _dwb_hgb_name(strength, metric, bound, confidence, blend, model)
    family = f"DwB-{BOOSTED[model]} student"
    return [(name, family, fitted.predict(X_test), seconds)]


def _dwb_hgb_name(
    strength=None, metric=None, bound=None, confidence=0.9, blend=True, model="hgb"
):
    """``dwb_<model>_global_<strength>``, or ``dwb_<model>_auto_<metric>_<bound>``
    at the default confidence (``_confidence_none`` appended without one,
    ``_no_blend`` with ``blend_students=False``)."""
    if strength is not None:
        return f"dwb_{model}_global_{strength:g}"
    short = {m: s for s, m, _ in DWB_HGB_BOUNDS}[metric]
    suffix = "_confidence_none" if confidence is None else ""
    suffix += "" if blend else "_no_blend"
    return f"dwb_{model}_auto_{short}_{bound:g}{suffix}"


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
        "network": lambda: network(seed, trigger_strength=0),
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


def _dwb_hgb_job(
    strength=None, metric=None, bound=None, confidence=0.9, blend=True, model="hgb"
):
    run = functools.partial(
        run_dwb_hgb,
        strength=strength,
        metric=metric,
        bound=bound,
        confidence=confidence,
        blend=blend,
        model=model,
    )
    return _dwb_hgb_name(strength, metric, bound, confidence, blend, model), run


def library_boosting_jobs():
    """LightGBM and XGBoost, plain and as DwB's estimator (strength 0.5, and
    ``"auto"`` at each bound of ``DWB_HGB_BOUNDS`` at the default confidence;
    for LightGBM, the base of FairGBM, also without one)."""
    found = []
    for model in ("lgbm", "xgb"):
        found.append((model, functools.partial(run_boosted, model=model)))
        found.append(_dwb_hgb_job(strength=0.5, model=model))
        confidences = (0.9, None) if model == "lgbm" else (0.9,)
        found += [
            _dwb_hgb_job(metric=m, bound=b, confidence=confidence, model=model)
            for confidence in confidences
            for _, m, b in DWB_HGB_BOUNDS
        ]
    return found


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
    dwb += [
        _dwb_hgb_job(metric=m, bound=b, confidence=None) for _, m, b in DWB_HGB_BOUNDS
    ]
    # the search kept to single students (blend_students=False)
    dwb += [
        _dwb_hgb_job(metric="equalized_odds_difference", bound=b, blend=False)
        for b in (0.05, 0.03)
    ]
    return [*peers, *dwb, *library_boosting_jobs()]


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
    dwb.append(_auto_job("equalized_odds_difference", 0.05, "trigger", confidence=0.9))
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


@contextlib.contextmanager
def one_torch_thread():
    """One torch thread inside the block (one core per run: parallel runs
    share the machine), the caller's count restored after it (in-process
    runs, n_jobs=1, leave no trace)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _run_job(task, seed, run):
    with one_torch_thread():
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
