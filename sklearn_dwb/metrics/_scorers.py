"""Scorers for ``GridSearchCV`` that know where the groups are."""

import numpy as np
import pandas as pd
from fairlearn.metrics import (
    MetricFrame,
    count,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from sklearn.metrics import accuracy_score, balanced_accuracy_score
from sklearn.pipeline import Pipeline
from sklearn.utils.metadata_routing import MetadataRequest

from .._disparity import DISPARITY_METRICS
from .._groups import sensitive_frame
from ..utils._validation import check_sensitive_features
from ..utils._warnings import warn_caller


def scored_rows(y_true, y_pred, groups, sample_weight):
    """The rows a metric scores, checked: one label, prediction, group and
    weight per row; the rows of a group whose weights are all zero are left
    out (it takes no part in the metric, where fairlearn would refuse its
    zero weights)."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    lengths = {"y_true": len(y_true), "y_pred": len(y_pred), "groups": len(groups)}
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight, dtype=float)
        lengths["sample_weight"] = len(sample_weight)
    if len(set(lengths.values())) > 1:
        given = ", ".join(f"{name} {n}" for name, n in lengths.items())
        raise ValueError(
            f"The inputs of the metric have different numbers of rows ({given}); "
            "pass one label, group and weight per row of X."
        )
    if sample_weight is None:
        return y_true, y_pred, groups, None
    codes = groups.apply(tuple, axis=1) if groups.shape[1] > 1 else groups.iloc[:, 0]
    total = pd.Series(sample_weight).groupby(codes.to_numpy()).transform("sum")
    keep = (total > 0).to_numpy()
    if keep.all():
        return y_true, y_pred, groups, sample_weight
    kept = groups[keep].reset_index(drop=True)
    return y_true[keep], y_pred[keep], kept, sample_weight[keep]


def group_balanced_accuracy(y_true, y_pred, *, sensitive_features, sample_weight=None):
    """Mean accuracy over the (group, class) cells: the paper's "EACC".

    Each cell counts once, however many rows it has, so a model cannot score
    well by serving only the large cells.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted labels (any number of classes).
    sensitive_features : array-like
        Group of each row.
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights within each cell.

    Returns
    -------
    float
        Unweighted mean of the cells' accuracies.

    Examples
    --------
    >>> group_balanced_accuracy([1, 1, 1, 0], [1, 1, 0, 0],
    ...                         sensitive_features=["a", "a", "b", "b"])
    0.6666666666666666
    """
    frame = sensitive_frame(None, sensitive_features, None)
    y_true, y_pred, frame, sample_weight = scored_rows(
        y_true, y_pred, frame, sample_weight
    )
    cells = pd.concat([frame, pd.Series(y_true, name="_class")], axis=1)
    params = (
        None if sample_weight is None else {"sample_weight": np.asarray(sample_weight)}
    )
    by_cell = MetricFrame(
        metrics=accuracy_score,
        y_true=y_true,
        y_pred=np.asarray(y_pred),
        sensitive_features=cells,
        sample_params=params,
    ).by_group
    return float(by_cell.dropna().mean())


# name -> (metric, sign): disparities are negated so that greater is better.
FAIRNESS_METRICS = {
    **{name: (function, -1) for name, function in DISPARITY_METRICS.items()},
    "group_balanced_accuracy": (group_balanced_accuracy, 1),
}


def default_pos_label(labels):
    """The positive label of binary labels, as scikit-learn takes it: 1 for
    labels among {0, 1} or {-1, 1}, else the larger of the two labels as
    sorted by numpy (``"yes"`` of ``"no"``/``"yes"``)."""
    labels = np.unique(np.asarray(labels))
    if len(labels) > 2:
        raise ValueError(
            f"The labels hold {len(labels)} classes ({list(labels[:5])}); the "
            "group disparities compare one positive class with the rest: pass "
            "pos_label."
        )
    if all(label in (0, 1) for label in labels) or all(
        label in (-1, 1) for label in labels
    ):
        return 1
    return labels[-1]


def binary_labels(y_true, y_pred, pos_label, labels=None):
    """True and predicted labels as 0/1 (1 for ``pos_label``): fairlearn's
    rates take 1 as the positive class.

    A ``pos_label`` that is not among ``labels`` (by default the labels of
    ``y_true`` and ``y_pred``) is an error: every row would count as
    negative, and every disparity would read 0.
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if pos_label is None:
        pos_label = default_pos_label(np.concatenate([y_true, y_pred]))
    else:
        check_pos_label(
            pos_label, np.concatenate([y_true, y_pred]) if labels is None else labels
        )
    return (y_true == pos_label).astype(int), (y_pred == pos_label).astype(int)


def check_pos_label(pos_label, labels):
    """A ``ValueError`` naming the labels when ``pos_label`` is not one."""
    labels = np.unique(np.asarray(labels))
    if not np.any(labels == pos_label):
        raise ValueError(
            f"pos_label={pos_label!r} is not among the labels {labels.tolist()}; "
            "pass one of them (labels are compared exactly: '>50k' is not "
            "'>50K', and 1 is not '1')."
        )


def estimator_pos_label(estimator):
    """The fitted estimator's positive class, ``classes_[1]`` when binary
    (a Pipeline's ``classes_`` are its last step's); None if unknown."""
    classes = getattr(estimator, "classes_", None)
    if classes is not None and len(classes) == 2:
        return classes[1]
    return None


def sensitive_features_from_estimator(estimator, X):
    """Groups of the rows of X as the fitted estimator's ``sensitive_columns``
    name them, reading X as it reaches the last step of a Pipeline."""
    # a fitted search (GridSearchCV) predicts with its best estimator
    estimator = getattr(estimator, "best_estimator_", estimator)
    final = estimator
    if isinstance(estimator, Pipeline):
        final = estimator[-1]
        if len(estimator) > 1:
            X = estimator[:-1].transform(X)
    columns = getattr(final, "sensitive_columns", None)
    if columns is None:
        raise ValueError(
            "The fairness scorer got no sensitive_features and the estimator has "
            "no sensitive_columns to read them from X. Either set "
            "sensitive_columns on the estimator, or enable metadata routing "
            "(sklearn.set_config(enable_metadata_routing=True)) and pass "
            "sensitive_features to the search's fit."
        )
    # a category unseen in training (handle_unknown="ignore") has no one-hot
    # column: its rows are kept ungrouped, and the scorer leaves them out
    return sensitive_frame(X, None, columns, unset_one_hot="keep")


class FairnessScorer:
    """A fairness metric as a scorer: ``scorer(estimator, X, y)``.

    Made by :func:`fairness_scorer`. A plain callable that declares, through
    :meth:`get_metadata_routing`, that it consumes ``sensitive_features``
    (and ``sample_weight`` when requested with :meth:`set_score_request`).

    Parameters
    ----------
    metric : str
        A key of :data:`FAIRNESS_METRICS`.
    pos_label : object, default=None
        Positive class of the disparities; None: the fitted estimator's
        ``classes_[1]`` when it has two classes.
    """

    def __init__(self, metric, pos_label=None):
        self.metric = metric
        self.pos_label = pos_label
        self._requests = {"sensitive_features": True, "sample_weight": None}

    def __call__(
        self, estimator, X, y_true, *, sensitive_features=None, sample_weight=None
    ):
        """Score ``estimator`` on ``X``; disparities are negated.

        Parameters
        ----------
        estimator : fitted classifier or Pipeline
            Model whose ``predict`` is scored.
        X : array-like of shape (n_samples, n_features)
            Features.
        y_true : array-like of shape (n_samples,)
            True labels.
        sensitive_features : array-like, Series or DataFrame, default=None
            Groups of the rows; if None, read from X with the estimator's
            ``sensitive_columns``.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights.

        Returns
        -------
        float
            The metric, negated for disparities (greater is better).
        """
        check_sensitive_features(sensitive_features)
        y_pred = estimator.predict(X)
        if sensitive_features is not None:
            sensitive_features = sensitive_frame(None, sensitive_features, None)
        else:
            sensitive_features = sensitive_features_from_estimator(estimator, X)
            ungrouped = sensitive_features.isna().any(axis=1).to_numpy()
            if ungrouped.any():
                warn_caller(
                    f"{int(ungrouped.sum())} of {len(ungrouped)} rows have no "
                    f"group: none of the one-hot columns of "
                    f"{list(sensitive_features.columns)} is set (a category "
                    "the encoder did not see in training, with "
                    "handle_unknown='ignore'). The "
                    f"{self.metric} is computed on the other rows.",
                )
                keep = ~ungrouped
                y_true, y_pred = np.asarray(y_true)[keep], y_pred[keep]
                sensitive_features = sensitive_features[keep]
                if sample_weight is not None:
                    sample_weight = np.asarray(sample_weight)[keep]
        y_true, y_pred, sensitive_features, sample_weight = scored_rows(
            y_true, y_pred, sensitive_features, sample_weight
        )
        function, sign = FAIRNESS_METRICS[self.metric]
        if self.metric in DISPARITY_METRICS:
            pos_label, labels = self.pos_label, getattr(estimator, "classes_", None)
            if pos_label is None:
                pos_label = estimator_pos_label(estimator)
            y_true, y_pred = binary_labels(y_true, y_pred, pos_label, labels)
        value = function(
            y_true,
            y_pred,
            sensitive_features=sensitive_features,
            sample_weight=sample_weight,
        )
        return sign * float(value)

    def set_score_request(self, *, sensitive_features=None, sample_weight=None):
        """Which metadata the scorer asks for when routing is enabled.

        Parameters
        ----------
        sensitive_features : bool, str or None, default=None
            True (the default request), False, or an alias; None keeps it.
        sample_weight : bool, str or None, default=None
            Likewise (not requested by default); None keeps it.

        Returns
        -------
        self : FairnessScorer
            The scorer.
        """
        for param, alias in [
            ("sensitive_features", sensitive_features),
            ("sample_weight", sample_weight),
        ]:
            if alias is not None:
                self._requests[param] = alias
        return self

    def get_metadata_routing(self):
        """The metadata the scorer consumes, for scikit-learn's routing.

        Returns
        -------
        sklearn.utils.metadata_routing.MetadataRequest
        """
        request = MetadataRequest(owner=self)
        for param, alias in self._requests.items():
            request.score.add_request(param=param, alias=alias)
        return request

    def __repr__(self):
        if self.pos_label is None:
            return f"fairness_scorer({self.metric!r})"
        return f"fairness_scorer({self.metric!r}, pos_label={self.pos_label!r})"


def fairness_scorer(metric, pos_label=None):
    """An sklearn scorer for a fairness metric, greater is better.

    Disparities are negated (like sklearn's ``neg_*`` scorers), so
    ``GridSearchCV`` maximises every score. Groups reach the scorer by
    metadata routing (``sklearn.set_config(enable_metadata_routing=True)``
    and ``sensitive_features`` passed to the search's ``fit``: the scorer
    requests it by default) or, without routing, from the fitted estimator's
    ``sensitive_columns``, also when the estimator is a ``Pipeline`` (the
    columns are read from X as it reaches the last step).

    Parameters
    ----------
    metric : str
        One of ``"equalized_odds_difference"``,
        ``"demographic_parity_difference"``,
        ``"equal_opportunity_difference"`` (true-positive-rate gap),
        ``"average_odds_difference"`` (mean of the TPR and FPR gaps) and
        ``"group_balanced_accuracy"`` (mean accuracy over (group, class)
        cells). The first four come from :mod:`fairlearn.metrics` and
        compare one positive class with the rest.
    pos_label : object, default=None
        Positive class of the disparities (labels are encoded as 1 for it
        and 0 otherwise before fairlearn sees them, so string labels work).
        None: the fitted estimator's ``classes_[1]`` when it has two
        classes (a Pipeline's are its last step's), else 1 for labels among
        {0, 1} or {-1, 1} and the larger label otherwise. Unused by
        ``"group_balanced_accuracy"``, which takes any labels.

    Returns
    -------
    scorer : FairnessScorer
        ``scorer(estimator, X, y, sensitive_features=None, sample_weight=None)``.

    Examples
    --------
    >>> from sklearn_dwb import BackdoorDebiasClassifier
    >>> from sklearn_dwb.datasets import make_biased_classification
    >>> from sklearn_dwb.metrics import fairness_scorer
    >>> X, y, groups = make_biased_classification(n_samples=400, random_state=0)
    >>> clf = BackdoorDebiasClassifier(sensitive_columns=[-1], max_epochs=5,
    ...                                random_state=0).fit(X, y)
    >>> score = fairness_scorer("demographic_parity_difference")(clf, X, y)
    >>> bool(-1 <= score <= 0)
    True
    """
    if metric not in FAIRNESS_METRICS:
        raise ValueError(
            f"Unknown fairness metric {metric!r}; choose one of "
            f"{sorted(FAIRNESS_METRICS)}."
        )
    return FairnessScorer(metric, pos_label)


def fairness_report(
    y_true, y_pred, *, sensitive_features, sample_weight=None, pos_label=None
):
    """Per-group performance and the disparities between groups.

    Built on :class:`fairlearn.metrics.MetricFrame`.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted labels: two classes (any labels, e.g. strings),
        or more with ``pos_label`` (the report is then that of ``pos_label``
        against the rest).
    sensitive_features : array-like, Series or DataFrame
        Group of each row; several columns form intersectional groups.
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights.
    pos_label : object, default=None
        The positive class: rates and disparities are computed with labels
        encoded as 1 for it and 0 otherwise. None: 1 for labels among
        {0, 1} or {-1, 1} (as scikit-learn), else the larger of the two
        labels as sorted by numpy (``"yes"`` of ``"no"`` and ``"yes"``).

    Returns
    -------
    report : pandas.DataFrame
        One row per group with ``count``, ``accuracy``,
        ``balanced_accuracy``, ``selection_rate``, ``true_positive_rate`` and
        ``false_positive_rate``, then a row ``"overall"`` and a row
        ``"difference"`` (largest minus smallest group value). The scalar
        disparities (``equalized_odds_difference``,
        ``demographic_parity_difference``, ``equal_opportunity_difference``,
        ``average_odds_difference``, ``group_balanced_accuracy``) are in
        ``report.attrs["disparities"]``.

    Examples
    --------
    >>> report = fairness_report([1, 0, 1, 0], [1, 0, 0, 0],
    ...                          sensitive_features=["a", "a", "b", "b"])
    >>> report.loc["difference", "true_positive_rate"]
    np.float64(1.0)
    >>> report.attrs["disparities"]["demographic_parity_difference"]
    0.5
    """
    check_sensitive_features(sensitive_features)
    y_true, y_pred = binary_labels(y_true, y_pred, pos_label)
    groups = sensitive_frame(None, sensitive_features, None)
    y_true, y_pred, groups, sample_weight = scored_rows(
        y_true, y_pred, groups, sample_weight
    )
    if groups.shape[1] == 1:
        groups = groups.iloc[:, 0]
    metrics = {
        "count": count,
        "accuracy": accuracy_score,
        "balanced_accuracy": balanced_accuracy_score,
        "selection_rate": selection_rate,
        "true_positive_rate": true_positive_rate,
        "false_positive_rate": false_positive_rate,
    }
    params = None
    if sample_weight is not None:
        weight = np.asarray(sample_weight)
        params = {
            name: {"sample_weight": weight} for name in metrics if name != "count"
        }
    frame = MetricFrame(
        metrics=metrics,
        y_true=y_true,
        y_pred=y_pred,
        sensitive_features=groups,
        sample_params=params,
    )
    report = frame.by_group.copy()
    if isinstance(report.index, pd.MultiIndex):
        report.index = report.index.to_flat_index()
    report.loc["overall"] = frame.overall
    report.loc["difference"] = frame.difference()
    report.loc["difference", "count"] = np.nan
    report.attrs["disparities"] = {
        name: float(
            function(
                y_true,
                y_pred,
                sensitive_features=groups,
                sample_weight=sample_weight,
            )
        )
        for name, (function, _) in FAIRNESS_METRICS.items()
    }
    return report
