"""Synthetic classification data whose labels are biased by group."""

from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.datasets import make_classification
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, validate_params


def _group_proportions(group_weights, n_groups):
    """The group proportions: ``group_weights`` checked and normalised to sum
    to 1, or equal proportions when None."""
    if group_weights is None:
        return np.full(n_groups, 1.0 / n_groups)
    weights = np.asarray(group_weights, dtype=float)
    if (
        weights.shape != (n_groups,)
        or not np.isfinite(weights).all()
        or (weights < 0).any()
        or weights.sum() <= 0
    ):
        raise ValueError(
            f"group_weights must hold {n_groups} finite, non-negative numbers "
            f"with a positive sum; got {group_weights!r}."
        )
    return weights / weights.sum()


def _as_frame(X, y, groups, y_fair, n_plain, group_column):
    """``X`` as a DataFrame (columns ``x0``, ``x1``, ..., ``group``) and the
    labels and groups as named Series."""
    columns = [f"x{i}" for i in range(n_plain)]
    columns += ["group"] if group_column else []
    return [
        pd.DataFrame(X, columns=columns),
        pd.Series(y, name="label"),
        pd.Series(groups, name="group"),
        pd.Series(y_fair, name="fair_label"),
    ]


@validate_params(
    {
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "n_features": [Interval(Integral, 2, None, closed="left")],
        "n_informative": [Interval(Integral, 1, None, closed="left")],
        "n_classes": [Interval(Integral, 2, None, closed="left")],
        "n_groups": [Interval(Integral, 2, None, closed="left")],
        "group_weights": ["array-like", None],
        "label_bias": [Interval(Real, 0, 1, closed="both")],
        "class_sep": [Interval(Real, 0, None, closed="neither")],
        "group_column": ["boolean"],
        "as_frame": ["boolean"],
        "return_fair_labels": ["boolean"],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_biased_classification(
    n_samples=2000,
    *,
    n_features=10,
    n_informative=5,
    n_classes=2,
    n_groups=2,
    group_weights=None,
    label_bias=0.4,
    class_sep=1.0,
    group_column=True,
    as_frame=False,
    return_fair_labels=False,
    random_state=None,
):
    """Generate a classification problem whose labels are biased by group.

    A group-independent ("fair") label comes from
    :func:`sklearn.datasets.make_classification`. Then, in every group ``g``,
    each row's label is replaced with probability ``label_bias`` by the
    group's favoured class ``g % n_classes``. The observed label thus depends
    on the group, as historical decisions do in real data, while the features
    other than the group column carry no group information.

    Parameters
    ----------
    n_samples : int, default=2000
        Number of rows.
    n_features : int, default=10
        Number of columns of ``X``, the group column included when
        ``group_column=True``.
    n_informative : int, default=5
        Informative features of the fair label (see ``make_classification``).
    n_classes : int, default=2
        Number of classes.
    n_groups : int, default=2
        Number of groups.
    group_weights : array-like of shape (n_groups,), default=None
        Group proportions (normalised to sum to 1); equal sizes by default.
    label_bias : float in [0, 1], default=0.4
        Probability that a row's label is overwritten by its group's favoured
        class; 0 makes the label independent of the group.
    class_sep : float, default=1.0
        Class separation of the fair label (see ``make_classification``).
    group_column : bool, default=True
        Put the group code (0 .. n_groups - 1) in the last column of ``X``,
        so that a model can pick up the bias from the features.
    as_frame : bool, default=False
        Return ``X`` as a DataFrame (columns ``x0``, ``x1``, ..., ``group``)
        and ``y`` and ``groups`` as Series.
    return_fair_labels : bool, default=False
        Also return the labels drawn before the bias is applied: the ground
        truth a fair process would have produced. A model that learned the
        decision rule rather than the bias scores well against them.
    random_state : int, RandomState instance or None, default=None
        Seed for reproducible output.

    Returns
    -------
    X : ndarray or DataFrame of shape (n_samples, n_features)
        Features.
    y : ndarray or Series of shape (n_samples,)
        Observed (biased) labels.
    groups : ndarray or Series of shape (n_samples,)
        Group code of each row, to pass as ``sensitive_features``.
    y_fair : ndarray or Series of shape (n_samples,)
        Only with ``return_fair_labels=True``: the group-independent labels
        before the bias was applied.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_dwb.datasets import make_biased_classification
    >>> X, y, groups = make_biased_classification(
    ...     n_samples=1000, label_bias=0.4, random_state=0)
    >>> X.shape
    (1000, 10)
    >>> rates = [y[groups == g].mean() for g in (0, 1)]
    >>> bool(rates[1] - rates[0] > 0.3)
    True
    >>> X, y, groups, y_fair = make_biased_classification(
    ...     n_samples=1000, label_bias=0.4, return_fair_labels=True, random_state=0)
    >>> fair_rates = [y_fair[groups == g].mean() for g in (0, 1)]
    >>> bool(abs(fair_rates[1] - fair_rates[0]) < 0.1)
    True
    """
    rng = check_random_state(random_state)
    n_plain = n_features - 1 if group_column else n_features
    if n_informative > n_plain:
        raise ValueError(
            f"n_informative={n_informative} exceeds the {n_plain} non-group "
            "features; raise n_features or lower n_informative."
        )
    X, y = make_classification(
        n_samples=n_samples,
        n_features=n_plain,
        n_informative=n_informative,
        n_redundant=0,
        n_classes=n_classes,
        n_clusters_per_class=1,
        class_sep=class_sep,
        flip_y=0.0,
        random_state=rng,
    )
    weights = _group_proportions(group_weights, n_groups)
    groups = rng.choice(n_groups, size=n_samples, p=weights)
    overwrite = rng.random_sample(n_samples) < label_bias
    y_fair = y
    y = np.where(overwrite, groups % n_classes, y_fair)
    if group_column:
        X = np.hstack([X, groups[:, None].astype(float)])
    out = [X, y, groups, y_fair]
    if as_frame:
        out = _as_frame(X, y, groups, y_fair, n_plain, group_column)
    return tuple(out) if return_fair_labels else tuple(out[:3])
