"""The accuracy-disparity front of a search, drawn in scikit-learn's style."""

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from ..metrics import fairness_scorer


def non_dominated(accuracy, disparity):
    """Positions of the points no other point dominates (at least as
    accurate and at most as disparate, better in one), by disparity."""
    accuracy, disparity = np.asarray(accuracy), np.asarray(disparity)
    valid = np.flatnonzero(np.isfinite(accuracy) & np.isfinite(disparity))
    # by disparity, then by accuracy descending: a point is on the front
    # when it is more accurate than every point before it
    order = valid[np.lexsort((-accuracy[valid], disparity[valid]))]
    front, best = [], -np.inf
    for i in order:
        if accuracy[i] > best:
            front.append(i)
            best = accuracy[i]
    return np.asarray(front, dtype=int)


def _interval(frame, name):
    """The lower and upper bound columns of ``name``, or None."""
    columns = [f"{name}_lower", f"{name}_upper"]
    if all(column in frame for column in columns):
        return frame[columns].to_numpy(dtype=float)
    return None


def _final_step(estimator):
    return estimator[-1] if isinstance(estimator, Pipeline) else estimator


class FrontDisplay:
    """Accuracy against disparity: every candidate, the non-dominated front,
    the bound, and the model kept.

    Make it with :meth:`from_estimator` (a fitted
    :class:`~sklearn_dwb.BackdoorDebiasClassifier` whose
    ``trigger_strength="auto"`` scored its plans) or :meth:`from_cv_results`
    (a fitted ``GridSearchCV`` or ``RandomizedSearchCV`` with a performance
    and a fairness scorer), then call :meth:`plot`. matplotlib is needed to
    plot only.

    Parameters
    ----------
    points : pandas.DataFrame
        One row per candidate: ``accuracy`` and ``disparity``, and where
        known ``accuracy_lower``, ``accuracy_upper``, ``disparity_lower``
        and ``disparity_upper`` (bounds), or ``accuracy_std`` and
        ``disparity_std`` (spreads over folds).
    metric : str
        Name of the disparity (the x-axis label).
    bound : float or None, default=None
        The bound on the disparity, drawn as a vertical line.
    plain : pandas.Series or None, default=None
        The plain candidate (strength 0 for every group), marked.
    checked : pandas.DataFrame or None, default=None
        The checked students: ``accuracy``, ``disparity`` and where known
        ``disparity_upper``.
    kept : pandas.Series or None, default=None
        The model kept: ``accuracy`` and ``disparity``, with bounds where
        known.
    test : pandas.Series or None, default=None
        The kept model's ``accuracy`` and ``disparity`` on test rows.

    Attributes
    ----------
    front_ : ndarray of int
        Positions in ``points`` of the non-dominated candidates, by
        disparity.
    ax_ : matplotlib Axes
        The axes drawn on (after :meth:`plot`).
    figure_ : matplotlib Figure
        Its figure.
    points_ : matplotlib PathCollection
        Every candidate, faint.
    front_line_ : matplotlib Line2D
        The front (its error bars are ``front_errorbar_``).
    bound_line_ : matplotlib Line2D or None
        The bound.
    plain_marker_, checked_markers_, kept_marker_, test_marker_ : artists or None
        The plain candidate, the checked students, the kept model and its
        test scores.

    Examples
    --------
    >>> from sklearn_dwb import BackdoorDebiasClassifier
    >>> from sklearn_dwb.datasets import make_biased_classification
    >>> from sklearn_dwb.inspection import FrontDisplay
    >>> X, y, groups = make_biased_classification(n_samples=600, random_state=0)
    >>> clf = BackdoorDebiasClassifier(
    ...     trigger_strength="auto", max_epochs=3, random_state=0
    ... ).fit(X, y, sensitive_features=groups)
    >>> display = FrontDisplay.from_estimator(clf, plot=False)
    >>> len(display.front_) <= len(display.points)
    True
    """

    def __init__(
        self,
        points,
        metric,
        *,
        bound=None,
        plain=None,
        checked=None,
        kept=None,
        test=None,
    ):
        self.points = points.reset_index(drop=True)
        self.metric = metric
        self.bound = bound
        self.plain = plain
        self.checked = checked
        self.kept = kept
        self.test = test
        self.front_ = non_dominated(self.points["accuracy"], self.points["disparity"])

    # ---------------------------------------------------------- builders
    @classmethod
    def from_estimator(cls, estimator, *, test=None, ax=None, plot=True, **kwargs):
        """The front of a fitted estimator's search (``plan_search_``).

        Parameters
        ----------
        estimator : BackdoorDebiasClassifier or Pipeline ending in one
            Fitted with ``trigger_strength="auto"``.
        test : tuple (X, y, sensitive_features) or None, default=None
            Rows the kept model is scored on besides (``estimator`` predicts
            them as given, a Pipeline's transformers included).
        ax : matplotlib Axes or None, default=None
            Where to draw; a new figure if None.
        plot : bool, default=True
            Draw at once (False: build the display only).
        **kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        display : FrontDisplay
        """
        model = _final_step(estimator)
        check_is_fitted(model)
        table = getattr(model, "plan_search_", None)
        if table is None:
            raise ValueError(
                f"{type(model).__name__} has no plan_search_: the front is that "
                "of a search, so fit it with trigger_strength='auto' (with "
                "max_disparity for every per-group plan), or draw a grid "
                "search's candidates with FrontDisplay.from_cv_results."
            )
        metric = model.auto_metric
        display = cls(
            _plan_points(table, metric),
            metric,
            bound=model.max_disparity,
            plain=_plain_plan(table, metric),
            checked=_checked_students(table, metric),
            kept=_kept_scores(model, table, metric),
            test=_test_scores(estimator, metric, test),
        )
        return display.plot(ax=ax, **kwargs) if plot else display

    @classmethod
    def from_cv_results(
        cls, search, *, performance, disparity, ax=None, plot=True, **kwargs
    ):
        """The front of a fitted grid (or randomized) search's candidates.

        Parameters
        ----------
        search : GridSearchCV or RandomizedSearchCV
            Fitted with a scoring dict holding both scorers.
        performance : str
            Name of the performance scorer (greater is better).
        disparity : str
            Name of the fairness scorer; its absolute value is drawn (the
            fairness scorers are negated disparities).
        ax, plot, **kwargs
            As in :meth:`from_estimator`.

        Returns
        -------
        display : FrontDisplay
        """
        results = search.cv_results_
        columns = {}
        for name, key in (("accuracy", performance), ("disparity", disparity)):
            if f"mean_test_{key}" not in results:
                raise ValueError(
                    f"cv_results_ has no mean_test_{key}: name one of the "
                    "search's scorers (pass scoring as a dict)."
                )
            mean = np.asarray(results[f"mean_test_{key}"], dtype=float)
            columns[name] = np.abs(mean) if name == "disparity" else mean
            columns[f"{name}_std"] = np.asarray(results[f"std_test_{key}"], dtype=float)
        points = pd.DataFrame(columns)
        kept = None
        if hasattr(search, "best_index_"):
            kept = points.loc[search.best_index_, ["accuracy", "disparity"]]
        refit = getattr(search, "refit", None)
        display = cls(
            points,
            disparity,
            bound=getattr(refit, "max_disparity", None),
            kept=kept,
        )
        return display.plot(ax=ax, **kwargs) if plot else display

    # ------------------------------------------------------------- plot
    def plot(self, ax=None, *, name=None):
        """Draw the display.

        Parameters
        ----------
        ax : matplotlib Axes or None, default=None
            Where to draw; a new figure if None.
        name : str or None, default=None
            Title of the axes.

        Returns
        -------
        display : FrontDisplay
            This display, with its artists.
        """
        plt = _pyplot()
        if ax is None:
            _, ax = plt.subplots()
        points, front = self.points, self.points.loc[self.front_]
        self.points_ = ax.scatter(
            _values(points, "disparity"),
            _values(points, "accuracy"),
            s=6,
            color="0.7",
            label="plans",
        )
        xerr, yerr = _errors(front, "disparity"), _errors(front, "accuracy")
        self.front_errorbar_ = ax.errorbar(
            _values(front, "disparity"),
            _values(front, "accuracy"),
            xerr=xerr,
            yerr=yerr,
            color="C0",
            marker="o",
            markersize=3,
            linewidth=1.2,
            elinewidth=0.6,
            label="front",
        )
        self.front_line_ = self.front_errorbar_.lines[0]
        self.bound_line_ = None
        if self.bound is not None:
            self.bound_line_ = ax.axvline(
                self.bound, color="C3", linestyle="--", label="bound"
            )
        self._mark(ax)
        ax.set_xlabel(self.metric)
        ax.set_ylabel("accuracy")
        if name is not None:
            ax.set_title(name)
        ax.legend(fontsize="small")
        self.ax_, self.figure_ = ax, ax.figure
        return self

    def _mark(self, ax):
        """The plain candidate, the checked students, the kept model and its
        test scores."""
        self.plain_marker_ = self.checked_markers_ = None
        self.kept_marker_ = self.test_marker_ = None
        if self.plain is not None:
            (self.plain_marker_,) = ax.plot(
                self.plain["disparity"], self.plain["accuracy"], "ks",
                label="strength 0",
            )  # fmt: skip
        if self.checked is not None and len(self.checked):
            self.checked_markers_ = ax.errorbar(
                _values(self.checked, "disparity"),
                _values(self.checked, "accuracy"),
                xerr=_errors(self.checked, "disparity"),
                fmt="^",
                color="C1",
                label="checked students",
            )
        if self.kept is not None:
            self.kept_marker_ = ax.errorbar(
                [float(self.kept["disparity"])],
                [float(self.kept["accuracy"])],
                xerr=_errors(self.kept.to_frame().T, "disparity"),
                yerr=_errors(self.kept.to_frame().T, "accuracy"),
                fmt="*",
                markersize=12,
                color="C2",
                label="kept",
            )
        if self.test is not None:
            (self.test_marker_,) = ax.plot(
                self.test["disparity"], self.test["accuracy"], "D",
                color="C4", label="kept, on test rows",
            )  # fmt: skip


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError(
            "FrontDisplay draws with matplotlib, which is not installed: "
            'pip install "sklearn-dwb[plot]" (or matplotlib).'
        ) from error
    return plt


def _values(frame, name):
    return frame[name].to_numpy(dtype=float)


def _errors(frame, name):
    """Error-bar lengths (2, n) from bounds, or from spreads, or None."""
    bounds = _interval(frame, name)
    values = frame[name].to_numpy(dtype=float)
    if bounds is not None:
        return np.abs(np.vstack([values - bounds[:, 0], bounds[:, 1] - values]))
    if f"{name}_upper" in frame:  # an upper bound alone (checked students)
        upper = frame[f"{name}_upper"].to_numpy(dtype=float)
        return np.vstack([np.zeros_like(values), np.abs(upper - values)])
    if f"{name}_std" in frame:
        std = frame[f"{name}_std"].to_numpy(dtype=float)
        return np.vstack([std, std])
    return None


def _plan_points(table, metric):
    """Every plan of ``plan_search_``, under the display's column names."""
    names = {"accuracy": "accuracy", metric: "disparity"}
    for suffix in ("_lower", "_upper"):
        names["accuracy" + suffix] = "accuracy" + suffix
        names[metric + suffix] = "disparity" + suffix
    return table[[c for c in names if c in table]].rename(columns=names)


def _plain_plan(table, metric):
    strengths = table.filter(like="strength[")
    plain = table[(strengths == 0).all(axis=1)] if strengths.shape[1] else table[:0]
    if not len(plain):
        return None
    return _plan_points(plain, metric).iloc[0]


def _checked_students(table, metric):
    column = "student_" + metric
    if column not in table:
        return None
    checked = table.dropna(subset=[column])
    frame = pd.DataFrame(
        {"accuracy": checked["student_accuracy"], "disparity": checked[column]}
    )
    if column + "_upper" in checked:
        frame["disparity_upper"] = checked[column + "_upper"]
    return frame.reset_index(drop=True)


def _kept_scores(model, table, metric):
    """The kept model's checked scores, else its plan's."""
    scores = getattr(model, "held_out_scores_", None)
    if scores is not None:
        kept = scores.drop(["confidence", "scored"]).astype(float)
        return kept.rename(lambda name: name.replace(metric, "disparity"))
    chosen = table[table["selected"]]
    return _plan_points(chosen, metric).iloc[0]


def _test_scores(estimator, metric, test):
    """The kept model's accuracy and disparity on test rows."""
    if test is None:
        return None
    X, y, groups = test
    disparity = -fairness_scorer(metric)(estimator, X, y, sensitive_features=groups)
    return pd.Series({"accuracy": estimator.score(X, y), "disparity": float(disparity)})
