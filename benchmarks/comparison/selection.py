"""The peers of the comparison with their setting chosen on the training rows
alone, the way their documentation tells users, at each bound.

- A knob with a grid (FairGBM's tolerance, DwB's fixed strength over
  HistGradientBoosting, reweighing's strength, the points of fairlearn's
  GridSearch grid): 5-fold cross-validation on
  the training rows (folds stratified by (group, class) cell) with the
  fairness scorers, the setting ``fair_refit(max_disparity=bound)`` picks,
  refitted on all training rows.
- ExponentiatedGradient, too costly to cross-validate over a boosted model:
  its constraint's ``difference_bound`` set to the bound.
- Post-processing (ThresholdOptimizer, OxonFair, error-parity): the base
  model on 70% of the training rows, the thresholds fitted on the other 30%
  at the bound.

DwB's ``trigger_strength="auto"`` needs no such step: it is fitted at the
bound in ``methods.py`` and read from the comparison's results.
"""

import functools
import time
import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from sklearn_dwb import BackdoorDebiasClassifier
from sklearn_dwb.metrics import FAIRNESS_METRICS, fairness_scorer
from sklearn_dwb.model_selection import fair_refit

from . import postprocessing
from .methods import (
    FAIRGBM_TOLERANCES,
    FAIRGBM_TREES,
    STRENGTHS,
    boosted_model,
    evaluate,
    fairgbm_params,
    one_torch_thread,
    reweighing_weights,
)
from .tasks import blind_columns, load_task

#: The bounds (metric, bound) every method is fitted for.
BOUNDS = (
    ("equalized_odds_difference", 0.05),
    ("equalized_odds_difference", 0.03),
    ("demographic_parity_difference", 0.02),
)
SHORT = {"equalized_odds_difference": "EOD", "demographic_parity_difference": "DPD"}
#: The grids cross-validated (each with the plain model, strength 0).
DWB_STRENGTHS = (0.0, *STRENGTHS)
REWEIGHING_STRENGTHS = (0.0, 0.25, 0.5, 1.0)
CV_FOLDS = 5
#: Share of the training rows the post-processing peers fit thresholds on.
VALIDATION_SIZE = 0.3
SELECTION_COLUMNS = [
    "task",
    "bound",
    "method",
    "seed",
    "setting",
    "accuracy",
    "balanced_accuracy",
    *FAIRNESS_METRICS,
    "fit_time_s",
]


def bound_title(metric, bound):
    """``"EOD <= 0.03"``, the label of a bound in tables and files."""
    return f"{SHORT[metric]} <= {bound:g}"


def _cells(y, groups):
    return np.char.add(np.asarray(groups).astype(str), np.asarray(y).astype(str))


def _timed(fit):
    start = time.perf_counter()
    result = fit()
    return result, time.perf_counter() - start


# ------------------------------------------------- models for the grids
class FairGBMModel(ClassifierMixin, BaseEstimator):
    """FairGBM (``fairgbm.train``, equalized-odds constraints at
    ``tolerance``) as a scikit-learn classifier; the group is read from the
    last column of X, as every model of the comparison gets it.

    Parameters
    ----------
    tolerance : float, default=0.02
        FairGBM's tolerance on the groups' FNR and FPR differences.
    n_trees : int, default=FAIRGBM_TREES
        Boosting rounds.
    random_state : int, default=0
        FairGBM's seed.
    """

    #: where the fairness scorers read the groups from
    sensitive_columns = [-1]

    def __init__(self, tolerance=0.02, n_trees=FAIRGBM_TREES, random_state=0):
        self.tolerance = tolerance
        self.n_trees = n_trees
        self.random_state = random_state

    def fit(self, X, y):
        import fairgbm

        self.classes_, codes = np.unique(y, return_inverse=True)
        groups = np.asarray(X)[:, -1].astype(int)
        train = fairgbm.Dataset(X, label=codes, constraint_group=groups)
        params = fairgbm_params(self.tolerance, self.random_state)
        self.booster_ = fairgbm.train(params, train, num_boost_round=self.n_trees)
        return self

    def predict(self, X):
        return self.classes_[(self.booster_.predict(X) >= 0.5).astype(int)]


class ReweighedModel(ClassifierMixin, BaseEstimator):
    """``estimator`` fitted with Kamiran-Calders weights moved from 1 by
    ``strength``: ``1 + strength * (P(g) P(y) / P(g, y) - 1)``, the group
    read from the last column of X.

    Parameters
    ----------
    estimator : classifier
        The model fitted with the weights.
    strength : float, default=1.0
        0 fits the plain model, 1 Kamiran and Calders' weights.
    """

    sensitive_columns = [-1]

    def __init__(self, estimator, strength=1.0):
        self.estimator = estimator
        self.strength = strength

    def fit(self, X, y):
        weight = reweighing_weights(y, np.asarray(X)[:, -1])
        weight = 1 + self.strength * (weight - 1)
        self.estimator_ = clone(self.estimator).fit(X, y, sample_weight=weight)
        self.classes_ = self.estimator_.classes_
        return self

    def predict(self, X):
        return self.estimator_.predict(X)


# ------------------------------------------------- cross-validated grids
def _scoring():
    return {
        "accuracy": "accuracy",
        **{short: fairness_scorer(metric) for metric, short in SHORT.items()},
    }


def cv_select(estimator, grid, X, y, groups, seed, bounds=BOUNDS):
    """Cross-validate ``grid`` on the training rows once, then per bound
    the setting ``fair_refit`` picks, refitted on all rows: yields
    ``(bound, setting, fitted model, seconds)`` (the seconds include the
    search; a setting picked for several bounds is fitted once)."""
    folds = StratifiedKFold(CV_FOLDS, shuffle=True, random_state=seed)
    search = GridSearchCV(
        estimator,
        grid,
        scoring=_scoring(),
        refit=False,
        cv=list(folds.split(X, _cells(y, groups))),
    )
    _, search_seconds = _timed(lambda: search.fit(X, y))
    fitted = {}
    for metric, bound in bounds:
        refit = fair_refit(
            disparity=SHORT[metric], performance="accuracy", max_disparity=bound
        )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            index = refit(search.cv_results_)
        params = search.cv_results_["params"][index]
        setting = ", ".join(f"{key}={value:g}" for key, value in params.items())
        if caught:
            setting += " (none within the bound in CV: the least disparate)"
        if index not in fitted:
            model = clone(estimator).set_params(**params)
            fitted[index] = _timed(lambda model=model: model.fit(X, y))
        model, seconds = fitted[index]
        yield bound_title(metric, bound), setting, model, search_seconds + seconds


def run_cv_grid(data, seed, task, name, make, grid):
    """A ``cv_select`` job: ``make(seed)`` is the estimator, ``grid`` its
    parameter grid."""
    X, X_test, y, _, g, _ = data
    return [
        (bound, name, setting, model.predict(X_test), seconds)
        for bound, setting, model, seconds in cv_select(make(seed), grid, X, y, g, seed)
    ]


def _dwb_hgb(seed):
    return BackdoorDebiasClassifier(
        estimator=boosted_model("hgb", None), sensitive_columns=[-1], random_state=seed
    )


def _fairgbm(seed):
    return FairGBMModel(random_state=seed)


def _reweighed_hgb(seed):
    return ReweighedModel(boosted_model("hgb", seed))


# ------------------------------------------------- ExponentiatedGradient
def run_eg_at_bound(data, seed, task, base):
    """ExponentiatedGradient (fairlearn's defaults, ``max_iter=50``) with
    its constraint's ``difference_bound`` set to each bound: equalized odds
    for the EOD bounds, demographic parity for the DPD bound."""
    from fairlearn.reductions import ExponentiatedGradient

    X, X_test, y, _, g, _ = data
    X, X_test = X.astype(np.float64), X_test.astype(np.float64)
    rows = []
    for metric, bound in BOUNDS:
        model = ExponentiatedGradient(
            _base(base, seed), constraints=_reduction_constraint(metric, bound)
        )
        model, seconds = _timed(lambda m=model: m.fit(X, y, sensitive_features=g))
        y_pred = np.asarray(model.predict(X_test, random_state=seed))
        setting = f"difference_bound={bound:g}"
        rows.append(
            (bound_title(metric, bound), f"eg_{base}", setting, y_pred, seconds)
        )
    return rows


def _base(base, seed):
    if base == "lr":
        return LogisticRegression(max_iter=2000)
    return boosted_model(base, seed)


# ------------------------------------------------- on a validation part
def _postprocessing_peers(base, seed, X_fit, y_fit, g_fit, blind):
    """name -> (fit function, fitted base model, the feature columns it
    reads (None: all), extra arguments, seconds of the base fits):
    ThresholdOptimizer, OxonFair and error-parity over ``base`` with the
    group, and OxonFair over ``base`` fitted on the ``blind`` columns, its
    groups inferred by a group classifier fitted on them too."""
    model, seconds = _timed(lambda: _base(base, seed).fit(X_fit, y_fit))
    # without the group and the columns it comes from: a model and a group
    # classifier that need no group at predict
    blind_model, blind_seconds = _timed(
        lambda: _base(base, seed).fit(X_fit[:, blind], y_fit)
    )
    group_model, group_seconds = _timed(
        lambda: _base(base, seed).fit(X_fit[:, blind], g_fit)
    )
    error_parity = functools.partial(postprocessing.error_parity, seed=seed)
    inferred = {"group_model": group_model}
    return {
        "threshold": (postprocessing.threshold_optimizer, model, None, {}, seconds),
        "oxonfair": (postprocessing.oxonfair, model, None, {}, seconds),
        "oxonfair_inferred": (
            postprocessing.oxonfair,
            blind_model,
            blind,
            inferred,
            blind_seconds + group_seconds,
        ),
        "error_parity": (error_parity, model, None, {}, seconds),
    }


def run_postprocessing(data, seed, task, base):
    """The post-processing peers of ``_postprocessing_peers``, fitted on
    70% of the training rows, their thresholds on the other 30% at each
    bound; the model without groups reads the task's ``blind_columns``."""
    X, X_test, y, _, g, g_test = data
    X, X_test = X.astype(np.float64), X_test.astype(np.float64)
    X_fit, X_val, y_fit, y_val, g_fit, g_val = postprocessing.validation_split(
        X, y, g, seed, validation_size=VALIDATION_SIZE
    )
    setting = f"thresholds on {VALIDATION_SIZE:.0%} of the training rows"
    rows = []
    blind = blind_columns(task, seed)
    peers = _postprocessing_peers(base, seed, X_fit, y_fit, g_fit, blind)
    for name, (fit, model, columns, extra, base_seconds) in peers.items():
        X_v, X_t = (
            (X_val, X_test)
            if columns is None
            else (X_val[:, columns], X_test[:, columns])
        )
        for metric, bound in BOUNDS:
            start = time.perf_counter()
            predict = fit(model, X_v, y_val, g_val, metric, bound, **extra)
            seconds = base_seconds + time.perf_counter() - start
            y_pred = np.asarray(predict(X_t, g_test, seed))
            title = bound_title(metric, bound)
            rows.append((title, f"{name}_{base}", setting, y_pred, seconds))
    return rows


def _reduction_constraint(metric, bound=None):
    """fairlearn's constraint object for a metric (equalized odds or
    demographic parity), with ``difference_bound=bound`` when given."""
    from fairlearn.reductions import DemographicParity, EqualizedOdds

    constraint = {
        "equalized_odds_difference": EqualizedOdds,
        "demographic_parity_difference": DemographicParity,
    }[metric]
    return constraint() if bound is None else constraint(difference_bound=bound)


class GridPoint(ClassifierMixin, BaseEstimator):
    """One point of fairlearn's GridSearch: LogisticRegression fitted for
    the Lagrange multipliers ``grid[point]``, the group read from the last
    column of X.

    Parameters
    ----------
    metric : str, default="equalized_odds_difference"
        The constraint's metric (see ``_reduction_constraint``).
    grid : pandas.DataFrame, default=None
        The multipliers, one column per point (GridSearch's ``lambda_vecs_``).
    point : int, default=0
        The column of ``grid`` fitted.
    """

    sensitive_columns = [-1]

    def __init__(self, metric="equalized_odds_difference", grid=None, point=0):
        self.metric = metric
        self.grid = grid
        self.point = point

    def fit(self, X, y):
        from fairlearn.reductions import GridSearch

        search = GridSearch(
            LogisticRegression(max_iter=2000),
            constraints=_reduction_constraint(self.metric),
            grid=self.grid.iloc[:, [self.point]],
        )
        self.search_ = search.fit(X, y, sensitive_features=np.asarray(X)[:, -1])
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return self.search_.predict(X)


def run_gridsearch(data, seed, task):
    """fairlearn's GridSearch over LogisticRegression (equalized odds for
    the EOD bounds, demographic parity for the DPD bound, ``grid_size=10``):
    its grid of multipliers drawn on the training rows, each point
    cross-validated (``cv_select``) and the one ``fair_refit`` picks
    refitted."""
    from fairlearn.reductions import GridSearch

    X, X_test, y, _, g, _ = data
    X, X_test = X.astype(np.float64), X_test.astype(np.float64)
    # the group as GridPoint reads it (the indicator column): the grid's
    # index names the groups
    indicator = X[:, -1]
    rows = []
    for metric in dict.fromkeys(metric for metric, _ in BOUNDS):
        bounds = [(m, b) for m, b in BOUNDS if m == metric]
        search = GridSearch(
            LogisticRegression(max_iter=2000),
            constraints=_reduction_constraint(metric),
            grid_size=10,
        )
        search, grid_seconds = _timed(
            lambda s=search: s.fit(X, y, sensitive_features=indicator)
        )
        model = GridPoint(metric, grid=search.lambda_vecs_)
        points = {"point": list(range(search.lambda_vecs_.shape[1]))}
        chosen = cv_select(model, points, X, y, g, seed, bounds)
        for title, setting, fitted, seconds in chosen:
            y_pred = fitted.predict(X_test)
            rows.append((title, "grid_lr", setting, y_pred, grid_seconds + seconds))
    return rows


# ------------------------------------------------- jobs
def selection_jobs():
    """Every (name, run function) pair of the selected peers."""
    return [
        (
            "fairgbm_cv",
            functools.partial(
                run_cv_grid,
                name="fairgbm_cv",
                make=_fairgbm,
                grid={"tolerance": list(FAIRGBM_TOLERANCES)},
            ),
        ),
        (
            "reweighing_hgb_cv",
            functools.partial(
                run_cv_grid,
                name="reweighing_hgb_cv",
                make=_reweighed_hgb,
                grid={"strength": list(REWEIGHING_STRENGTHS)},
            ),
        ),
        (
            "dwb_hgb_cv",
            functools.partial(
                run_cv_grid,
                name="dwb_hgb_cv",
                make=_dwb_hgb,
                grid={"trigger_strength": list(DWB_STRENGTHS)},
            ),
        ),
        ("postprocessing_hgb", functools.partial(run_postprocessing, base="hgb")),
        ("postprocessing_lr", functools.partial(run_postprocessing, base="lr")),
        ("grid_lr", run_gridsearch),
        ("eg_lr", functools.partial(run_eg_at_bound, base="lr")),
        ("eg_hgb", functools.partial(run_eg_at_bound, base="hgb")),
    ]


def run_selection_job(task, seed, job, run):
    """The rows of one job on one task and seed (one torch thread)."""
    with one_torch_thread():
        data = load_task(task, seed)
        return [
            {
                "task": task,
                "bound": bound,
                "method": method,
                "seed": seed,
                "setting": setting,
                **evaluate(data[3], y_pred, data[5]),
                "fit_time_s": seconds,
                "job": job,
            }
            for bound, method, setting, y_pred, seconds in run(data, seed, task)
        ]
