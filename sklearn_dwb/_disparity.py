"""Disparities between groups, on :mod:`fairlearn.metrics`.

The core of the package (``trigger_strength="auto"``) and the user-facing
:mod:`sklearn_dwb.metrics` both use this module; it imports nothing of the
package.
"""

import warnings

import numpy as np
from fairlearn.metrics import (
    demographic_parity_difference,
    equal_opportunity_difference,
    equalized_odds_difference,
)


def average_odds_difference(y_true, y_pred, *, sensitive_features, sample_weight=None):
    """Mean of the between-group true- and false-positive-rate gaps.

    The "odd" metric of the DwB paper; fairlearn's
    :func:`~fairlearn.metrics.equalized_odds_difference` with ``agg="mean"``.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        Binary true and predicted labels.
    sensitive_features : array-like, Series or DataFrame
        Group of each row; several columns form intersectional groups.
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights.

    Returns
    -------
    float
        ``(TPR gap + FPR gap) / 2``.

    Examples
    --------
    >>> from sklearn_dwb.metrics import average_odds_difference
    >>> average_odds_difference([1, 1, 0, 0], [1, 0, 1, 0],
    ...                         sensitive_features=["a", "b", "a", "b"])
    1.0
    """
    return float(
        equalized_odds_difference(
            y_true,
            y_pred,
            sensitive_features=sensitive_features,
            sample_weight=sample_weight,
            agg="mean",
        )
    )


#: Disparity name -> function ``f(y_true, y_pred, *, sensitive_features,
#: sample_weight=None)``; 0 means no gap between groups.
DISPARITY_METRICS = {
    "equalized_odds_difference": equalized_odds_difference,
    "demographic_parity_difference": demographic_parity_difference,
    "equal_opportunity_difference": equal_opportunity_difference,
    "average_odds_difference": average_odds_difference,
}


def one_vs_rest_disparity(
    metric, y_true, y_pred, groups, n_classes, sample_weight=None
):
    """A disparity of :data:`DISPARITY_METRICS` for class codes ``0 .. K-1``:
    class 1 as positive for two classes, else the largest one-vs-rest value."""
    function = DISPARITY_METRICS[metric]
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    positives = [1] if n_classes == 2 else range(n_classes)
    return max(
        float(
            function(
                y_true == k,
                y_pred == k,
                sensitive_features=groups,
                sample_weight=sample_weight,
            )
        )
        for k in positives
    )


def group_rates(y_true, y_pred, group_codes, n_groups, n_classes, sample_weight=None):
    """Selection, true-positive and false-positive rate of every group, per
    positive class (class 1 for two classes, else each class against the rest).

    The plan search scores hundreds of plans on tens of thousands of rows:
    these are the (sample-weighted) counts behind fairlearn's
    ``selection_rate``, ``true_positive_rate`` and ``false_positive_rate`` per
    group, from one ``bincount`` each (fairlearn's ``MetricFrame`` took 0.6 s
    per call on Adult's 32,561 rows). :func:`disparity_from_rates` turns them
    into fairlearn's disparities; the tests check both against fairlearn.

    Returns
    -------
    ndarray of shape (n_positives, 3, n_groups)
        NaN where a group has no row (or no positive / negative row).
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    weight = (
        np.ones(len(y_true)) if sample_weight is None else np.asarray(sample_weight)
    )
    rates = []
    for k in [1] if n_classes == 2 else range(n_classes):
        actual, predicted = y_true == k, y_pred == k
        counts = np.stack(
            [
                np.bincount(group_codes, weight * mask, minlength=n_groups)
                for mask in (
                    np.ones(len(y_true), dtype=bool),
                    predicted,
                    actual,
                    actual & predicted,
                    ~actual,
                    ~actual & predicted,
                )
            ]
        )
        with np.errstate(invalid="ignore", divide="ignore"):
            rates.append(counts[[1, 3, 5]] / counts[[0, 2, 4]])
    return np.stack(rates)


def disparity_from_rates(metric, rates):
    """A disparity of :data:`DISPARITY_METRICS` from :func:`group_rates`
    output (``rates[..., n_positives, 3, n_groups]``): as fairlearn, the
    between-group difference of the rates (largest minus smallest), with the
    largest value over the positive classes."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rates
        spread = np.nanmax(rates, axis=-1) - np.nanmin(rates, axis=-1)
    spread = np.nan_to_num(spread)
    selection, tpr, fpr = spread[..., 0], spread[..., 1], spread[..., 2]
    value = {
        "demographic_parity_difference": selection,
        "equalized_odds_difference": np.maximum(tpr, fpr),
        "equal_opportunity_difference": tpr,
        "average_odds_difference": (tpr + fpr) / 2,
    }[metric]
    return value.max(axis=-1)
