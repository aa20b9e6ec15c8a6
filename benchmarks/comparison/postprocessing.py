"""The post-processing peers of the comparison, fitted as their documentation
tells users: a base model on part of the training rows, then group thresholds
on the held-out rest (:func:`validation_split`) at a disparity bound. Each
returns ``predict(X_test, g_test, seed)`` -> labels of ``y``'s label space; the
libraries get 0/1 labels, 1 for the base model's ``classes_[1]``."""

import contextlib
import logging

import numpy as np
from sklearn.model_selection import train_test_split

# the benchmark's metric -> the constraint of fairlearn and error-parity
CONSTRAINTS = {
    "equalized_odds_difference": "equalized_odds",
    "demographic_parity_difference": "demographic_parity",
}


def _constraint(metric):
    if metric not in CONSTRAINTS:
        raise ValueError(f"metric must be one of {sorted(CONSTRAINTS)}, got {metric!r}")
    return CONSTRAINTS[metric]


def _positive(base, y):
    """0/1 labels: 1 where ``y`` is the base model's positive class."""
    return (np.asarray(y) == base.classes_[1]).astype(int)


def _labels(base, predicted):
    """0/1 predictions mapped back to the base model's labels."""
    return base.classes_[np.asarray(predicted).astype(int)]


def validation_split(X, y, groups, seed, validation_size=0.3):
    """Hold out validation rows, stratified by (group, class) cell.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Training features.
    y : array-like of shape (n_samples,)
        Training labels (any two labels).
    groups : array-like of shape (n_samples,)
        Group label of each row.
    seed : int
        Seed of the split.
    validation_size : float, default=0.3
        Share of the rows held out; every (group, class) cell keeps this
        share up to rounding.

    Returns
    -------
    X_fit, X_val, y_fit, y_val, g_fit, g_val : ndarray
        Rows to fit the base model on, and rows to fit the thresholds on.
    """
    y, groups = np.asarray(y), np.asarray(groups)
    strata = np.char.add(np.char.add(groups.astype(str), "|"), y.astype(str))
    return train_test_split(
        np.asarray(X),
        y,
        groups,
        test_size=validation_size,
        stratify=strata,
        random_state=seed,
    )


def threshold_optimizer(base, X_val, y_val, g_val, metric, bound):
    """fairlearn's ThresholdOptimizer over a fitted base model.

    Parameters
    ----------
    base : classifier
        Fitted scikit-learn classifier with ``predict_proba``; not refitted.
    X_val, y_val, g_val : array-like
        Validation features, labels and groups the thresholds are fitted on.
    metric : {"equalized_odds_difference", "demographic_parity_difference"}
        Disparity to bound (as ``fairlearn.metrics`` defines it).
    bound : float
        Largest disparity allowed (``tol``). fairlearn raises on a ``tol``
        for equalized odds: there the exact constraint (``tol=None``) is
        fitted, which meets every bound.

    Returns
    -------
    predict : callable
        ``predict(X_test, g_test, seed)`` -> labels; randomised (group
        thresholds are interpolated), reproducible given ``seed``.
    """
    from fairlearn.postprocessing import ThresholdOptimizer

    constraint = _constraint(metric)
    optimizer = ThresholdOptimizer(
        estimator=base,
        constraints=constraint,
        prefit=True,
        predict_method="predict_proba",
        tol=None if constraint == "equalized_odds" else bound,
    )
    optimizer.fit(X_val, _positive(base, y_val), sensitive_features=np.asarray(g_val))

    def predict(X_test, g_test, seed):
        predicted = optimizer.predict(
            X_test, sensitive_features=np.asarray(g_test), random_state=seed
        )
        return _labels(base, predicted)

    return predict


def _uncertain_threshold(group_model, X_val, default=2 / 3):
    """FairPredictor's ``threshold``: rows whose inferred group is less likely
    form an "uncertain" group. oxonfair 0.3's grid search fails ("truth value
    of an array ... is ambiguous") if that group is empty on the validation
    rows (a group read off a feature): then 0, no uncertain group."""
    confidence = np.asarray(group_model.predict_proba(X_val)).max(axis=1)
    return default if (confidence < default).any() else 0


def oxonfair(base, X_val, y_val, g_val, metric, bound, group_model=None):
    """OxonFair's FairPredictor over a fitted base model.

    Parameters
    ----------
    base : classifier
        Fitted scikit-learn classifier with ``predict_proba``; not refitted.
    X_val, y_val, g_val : array-like
        Validation features, labels and groups the thresholds are fitted on
        (fairness is measured with ``g_val`` even when groups are inferred).
    metric : {"equalized_odds_difference", "demographic_parity_difference"}
        Disparity to bound (as ``fairlearn.metrics`` defines it).
    bound : float
        Largest disparity allowed; accuracy is maximised subject to it. If no
        threshold pair meets it, OxonFair logs a warning and keeps the one
        closest to it.
    group_model : classifier, default=None
        Fitted classifier predicting the group from ``X``. If given, thresholds
        are applied by its inferred groups, so none are needed at predict.

    Returns
    -------
    predict : callable
        ``predict(X_test, g_test, seed)`` -> labels; deterministic (``seed``
        is unused), and ``g_test`` is ignored when groups are inferred.
    """
    from oxonfair import FairPredictor
    from oxonfair import group_metrics as gm

    # fairlearn's definitions, the largest gap between two groups; not
    # gm.equalized_odds (mean of the TPR and TNR gaps) nor gm.demographic_parity
    # (mean of the pairwise gaps: max_diff only with two groups)
    constraint = {
        "equalized_odds": gm.equalized_odds_max,
        "demographic_parity": gm.pos_pred_rate.max_diff,
    }[_constraint(metric)]
    validation = {
        "data": np.asarray(X_val),
        "target": _positive(base, y_val),
        "groups": np.asarray(g_val),
    }
    inferred = {}
    if group_model is not None:
        threshold = _uncertain_threshold(group_model, validation["data"])
        inferred = {"inferred_groups": group_model, "threshold": threshold}
    fair = FairPredictor(base, validation, **inferred)
    fair.fit(gm.accuracy, constraint, bound)

    def predict(X_test, g_test, seed):
        X_test, g_test = np.asarray(X_test), np.asarray(g_test)
        if group_model is not None:
            return _labels(base, fair.predict(X_test))
        # FairPredictor asks for a 'target' beside the data, never reads it
        test = {"data": X_test, "target": np.zeros(len(X_test)), "groups": g_test}
        return _labels(base, fair.predict(test))

    return predict


@contextlib.contextmanager
def _seeded(classifier, seed):
    """Seed error-parity's coin tosses for one call: the generators of its
    group classifiers, and numpy's global one (a target inside a group's ROC
    hull mixes in ``np.random.random``), whose state is put back after."""
    for index, group_classifier in enumerate(classifier.group_to_clf.values()):
        if hasattr(group_classifier, "rng"):
            group_classifier.rng = np.random.default_rng([seed, index])
    state = np.random.get_state()  # noqa: NPY002
    np.random.seed(seed)  # noqa: NPY002
    try:
        yield
    finally:
        np.random.set_state(state)  # noqa: NPY002


@contextlib.contextmanager
def _root_logging_untouched():
    """Take off root handlers added meanwhile: error-parity's ``logging.info``
    calls give an unconfigured root logger a stderr handler (basicConfig)."""
    handlers = list(logging.root.handlers)
    try:
        yield
    finally:
        for handler in list(logging.root.handlers):
            if handler not in handlers:
                logging.root.removeHandler(handler)


def error_parity(base, X_val, y_val, g_val, metric, bound, seed):
    """error-parity's RelaxedThresholdOptimizer over a fitted base model.

    Parameters
    ----------
    base : classifier
        Fitted scikit-learn classifier with ``predict_proba``; its score is
        ``predict_proba(X)[:, 1]``.
    X_val, y_val, g_val : array-like
        Validation features, labels and groups the thresholds are fitted on.
    metric : {"equalized_odds_difference", "demographic_parity_difference"}
        Disparity to bound: equalized odds with ``l_p_norm=inf`` (the larger
        of the TPR and FPR gaps) or demographic parity.
    bound : float
        ``tolerance`` of the constraint (met in expectation over the
        randomised predictions).
    seed : int
        ``seed`` of RelaxedThresholdOptimizer (predict reseeds its coin
        tosses with its own ``seed`` at every call).

    Returns
    -------
    predict : callable
        ``predict(X_test, g_test, seed)`` -> labels; randomised, reproducible
        given ``seed``. Groups must have been seen in ``g_val``.
    """
    from error_parity import RelaxedThresholdOptimizer

    # error-parity wants groups numbered 0 .. n_groups - 1 and 0/1 labels
    names, codes = np.unique(np.asarray(g_val), return_inverse=True)
    optimizer = RelaxedThresholdOptimizer(
        predictor=lambda X: base.predict_proba(X)[:, 1],
        constraint=_constraint(metric),
        tolerance=bound,
        l_p_norm=np.inf,
        seed=seed,
    )
    with _root_logging_untouched():
        optimizer.fit(np.asarray(X_val), _positive(base, y_val), group=codes)

    def predict(X_test, g_test, seed):
        g_test = np.asarray(g_test)
        if not np.isin(g_test, names).all():
            raise ValueError("g_test holds groups that were not in g_val")
        with _seeded(optimizer._realized_classifier, seed):
            predicted = optimizer.predict(
                np.asarray(X_test), group=np.searchsorted(names, g_test)
            )
        return _labels(base, predicted)

    return predict
