"""Disparities between groups, on :mod:`fairlearn.metrics`.

The core of the package (``trigger_strength="auto"``) and the user-facing
:mod:`sklearn_dwb.metrics` both use this module; it imports nothing of the
package.
"""

import warnings
from typing import NamedTuple

import numpy as np
from fairlearn.metrics import (
    demographic_parity_difference,
    equal_opportunity_difference,
    equalized_odds_difference,
)
from scipy.special import ndtri


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


class RateCounts(NamedTuple):
    """Weighted counts behind every group's selection, true-positive and
    false-positive rate, per positive class: arrays of shape
    ``(n_positives, 3, n_codes)``, the second axis in that order.

    ``numerator`` sums the weight of the predicted-positive rows of each
    rate's denominator (all rows, the actual positives, the actual
    negatives); the ``*_squared`` counts sum the squared weights, from which
    :meth:`variances` follows.
    """

    numerator: np.ndarray
    denominator: np.ndarray
    numerator_squared: np.ndarray
    denominator_squared: np.ndarray

    def rates(self):
        """The rates: NaN where a group has no row in a rate's denominator."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.numerator / self.denominator

    def variances(self):
        """Sampling variance of each rate (delta method for a weighted mean
        of 0/1 predictions: ``sum w^2 (pred - rate)^2 / (sum w)^2``)."""
        rate = self.rates()
        with np.errstate(invalid="ignore", divide="ignore"):
            return (
                self.numerator_squared * (1 - 2 * rate)
                + rate**2 * self.denominator_squared
            ) / self.denominator**2

    def fairlearn_rates(self):
        """The rates and their variances as fairlearn counts them, for
        counts whose last two axes are (rate, group): a true- or
        false-positive rate whose group has rows but none in its
        denominator (no actual positive, or no negative) is 0, with no
        sampling noise; a group without rows has none (NaN)."""
        rates, variances = self.rates(), self.variances()
        undefined = (self.denominator <= 0) & (self.denominator[..., :1, :] > 0)
        return np.where(undefined, 0.0, rates), np.where(undefined, 0.0, variances)

    def sum(self, axis):
        """Counts of merged codes (e.g. a fold axis summed away)."""
        return RateCounts(*(a.sum(axis=axis) for a in self))


def rate_counts(y_true, y_pred, codes, n_codes, n_classes, sample_weight=None):
    """:class:`RateCounts` of every code (a group, or a group within a fold)
    from one ``bincount`` per mask, for class codes ``0 .. K-1`` (class 1 as
    positive for two classes, else each class against the rest)."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    weight = (
        np.ones(len(y_true)) if sample_weight is None else np.asarray(sample_weight)
    )
    counts = {w: [] for w in ("w", "w2")}
    for k in [1] if n_classes == 2 else range(n_classes):
        actual, predicted = y_true == k, y_pred == k
        denominators = (np.ones(len(y_true), dtype=bool), actual, ~actual)
        for name, w in (("w", weight), ("w2", weight**2)):
            counts[name].append(
                [
                    [
                        np.bincount(codes, w * (den & predicted), minlength=n_codes),
                        np.bincount(codes, w * den, minlength=n_codes),
                    ]
                    for den in denominators
                ]
            )
    w, w2 = (np.asarray(counts[name]) for name in ("w", "w2"))
    return RateCounts(w[:, :, 0], w[:, :, 1], w2[:, :, 0], w2[:, :, 1])


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
        NaN where a group has no row; as in fairlearn, 0 for the true- or
        false-positive rate of a group with no positive or negative row.
    """
    counts = rate_counts(
        y_true, y_pred, group_codes, n_groups, n_classes, sample_weight
    )
    return counts.fairlearn_rates()[0]


def rate_spread(rates):
    """Between-group spread (largest minus smallest) of each rate, over the
    last axis; 0 where fewer than two groups have the rate."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rates
        spread = np.nanmax(rates, axis=-1) - np.nanmin(rates, axis=-1)
    return np.nan_to_num(spread)


#: Most groups whose every pair is formed by :func:`spread_bounds`.
PAIRED_GROUPS = 20


def spread_bounds(rates, variances, fold_rates, z):
    """Lower and upper confidence bounds on :func:`rate_spread`.

    Every ordered pair of groups (g, h) has the difference ``r_g - r_h``
    with standard error ``sqrt(v_g + v_h)`` (the rows' sampling noise,
    ``variances``), or, where larger, the standard error of the mean of the
    folds' differences, ``std_f(r_fg - r_fh) / sqrt(n_folds)``: the folds'
    teachers are different models, so their spread also holds the noise of
    training. The upper bound is the largest ``difference + z * se`` over
    the pairs, the lower bound the largest ``difference - z * se`` (at least
    0); with ``z`` the normal quantile of a confidence level, each is a
    one-sided bound at that level on the pair that sets the spread.

    With more than :data:`PAIRED_GROUPS` groups, only the pairs among the
    ``PAIRED_GROUPS // 2`` groups of highest ``r_g + z * s_g`` and as many
    of lowest ``r_g - z * s_g`` are formed (``s_g`` a group's own standard
    error), where the extreme pairs lie: the cost grows with the groups, not
    with their square.

    Parameters
    ----------
    rates, variances : ndarray of shape (..., n_groups)
    fold_rates : ndarray of shape (n_folds, ..., n_groups)
    z : float

    Returns
    -------
    lower, upper : ndarray of shape (...)
    """
    n_groups = rates.shape[-1]
    if n_groups > PAIRED_GROUPS:
        own = variances
        if len(fold_rates) > 1:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                own = np.fmax(
                    own, np.nanvar(fold_rates, axis=0, ddof=1) / len(fold_rates)
                )
        margin = z * np.sqrt(own)
        half = PAIRED_GROUPS // 2
        high = np.argsort(np.nan_to_num(rates + margin, nan=-np.inf), axis=-1)
        low = np.argsort(np.nan_to_num(rates - margin, nan=np.inf), axis=-1)
        keep = np.concatenate([high[..., -half:], low[..., :half]], axis=-1)
        return spread_bounds(
            np.take_along_axis(rates, keep, axis=-1),
            np.take_along_axis(variances, keep, axis=-1),
            np.take_along_axis(
                fold_rates, keep[None].repeat(len(fold_rates), 0), axis=-1
            ),
            z,
        )
    difference = rates[..., :, None] - rates[..., None, :]
    variance = variances[..., :, None] + variances[..., None, :]
    n_folds = len(fold_rates)
    if n_folds > 1:
        fold_difference = fold_rates[..., :, None] - fold_rates[..., None, :]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # < 2 folds with a rate
            between = np.nanvar(fold_difference, axis=0, ddof=1) / n_folds
        variance = np.fmax(variance, between)
    se = np.sqrt(variance)
    off_diagonal = ~np.eye(n_groups, dtype=bool)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN pairs
        upper = np.nanmax((difference + z * se)[..., off_diagonal], axis=-1)
        lower = np.nanmax((difference - z * se)[..., off_diagonal], axis=-1)
    return np.clip(np.nan_to_num(lower), 0, None), np.nan_to_num(upper)


#: The rates (selection, true-positive, false-positive) whose gaps each
#: disparity is made of.
_RATES = {
    "demographic_parity_difference": [0],
    "equalized_odds_difference": [1, 2],
    "equal_opportunity_difference": [1],
    "average_odds_difference": [1, 2],
}


def undefined_rates(metric, y_true, group_codes, n_groups, n_classes, weight):
    """The rates of ``metric`` that a group with rows lacks a denominator
    for (a true-positive rate without an actual positive, a false-positive
    rate without a negative), which count as 0 as in fairlearn: a list of
    ``(group code, rate index, positive class index)``."""
    counts = rate_counts(y_true, y_true, group_codes, n_groups, n_classes, weight)
    denominator = counts.denominator  # (n_positives, 3, n_groups)
    found = []
    for rate in _RATES[metric]:
        missing = (denominator[:, rate] <= 0) & (denominator[:, 0] > 0)
        found += [(g, rate, k) for k, g in zip(*np.nonzero(missing), strict=True)]
    return found


def disparity_bounds(metric, rates, variances, fold_rates, confidence):
    """Lower and upper confidence bounds on a disparity at ``confidence``.

    The upper bound is the largest ``difference + z * se`` over the ordered
    pairs of groups (:func:`spread_bounds`), ``z`` the normal quantile of
    ``confidence``: the disparity is the largest of those differences, and
    it exceeds the bound only if the difference that sets it does (the
    largest of several estimates is, if anything, too high, so the bound is
    conservative when several gaps are close).

    The lower bound is the largest ``difference - z_m * se`` (at least 0)
    over the ``m`` ordered differences that enter the disparity (pairs,
    rates and positive classes), with ``z_m`` the quantile of
    ``confidence ** (1 / m)`` (Sidak): any one of them above its own bound
    would put the lower bound above the disparity, so they must hold
    together (with the quantile of ``confidence`` alone, the 0.9 lower
    bound on an equalized-odds difference of 0 between two groups was above
    0 in a third of the simulated draws).

    Parameters
    ----------
    metric : str
        A name of :data:`DISPARITY_METRICS`.
    rates, variances : ndarray of shape (..., n_positives, 3, n_groups)
    fold_rates : ndarray of shape (n_folds, ..., n_positives, 3, n_groups)
    confidence : float in (0.5, 1)

    Returns
    -------
    lower, upper : ndarray of shape (...)
    """
    z = float(ndtri(confidence))
    upper = disparity_from_spread(
        metric, spread_bounds(rates, variances, fold_rates, z)[1]
    )
    n_groups = min(rates.shape[-1], PAIRED_GROUPS)
    n_differences = n_groups * (n_groups - 1) * len(_RATES[metric]) * rates.shape[-3]
    z_all = float(ndtri(confidence ** (1 / max(n_differences, 1))))
    lower = disparity_from_spread(
        metric, spread_bounds(rates, variances, fold_rates, z_all)[0]
    )
    return lower, upper


def disparity_from_rates(metric, rates):
    """A disparity of :data:`DISPARITY_METRICS` from :func:`group_rates`
    output (``rates[..., n_positives, 3, n_groups]``): as fairlearn, the
    between-group difference of the rates (largest minus smallest), with the
    largest value over the positive classes."""
    return disparity_from_spread(metric, rate_spread(rates))


def disparity_from_spread(metric, spread):
    """A disparity of :data:`DISPARITY_METRICS` from the between-group spread
    of each rate (``spread[..., n_positives, 3]``: selection, true-positive
    and false-positive rate), or from bounds on those spreads."""
    selection, tpr, fpr = spread[..., 0], spread[..., 1], spread[..., 2]
    value = {
        "demographic_parity_difference": selection,
        "equalized_odds_difference": np.maximum(tpr, fpr),
        "equal_opportunity_difference": tpr,
        "average_odds_difference": (tpr + fpr) / 2,
    }[metric]
    return value.max(axis=-1)
