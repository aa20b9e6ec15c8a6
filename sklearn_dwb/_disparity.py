"""Disparities between groups, on :mod:`fairlearn.metrics`.

The core of the package (``trigger_strength="auto"``) and the user-facing
:mod:`sklearn_dwb.metrics` both use this module; it imports nothing of the
package.
"""

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
