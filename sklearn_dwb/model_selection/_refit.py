"""``GridSearchCV(refit=fair_refit(...))``: the best model under a disparity bound."""

import warnings
from numbers import Real

import numpy as np
from sklearn.utils._param_validation import Interval, validate_params


class _FairRefit:
    def __init__(self, disparity, performance, max_disparity):
        self.disparity = disparity
        self.performance = performance
        self.max_disparity = max_disparity

    def _column(self, cv_results, name):
        key = f"mean_test_{name}"
        if key not in cv_results:
            scorers = sorted(
                k[len("mean_test_") :] for k in cv_results if k.startswith("mean_test_")
            )
            raise KeyError(
                f"cv_results_ has no {key!r}; name one of the search's scorers "
                f"{scorers} (pass scoring as a dict, e.g. {{'accuracy': 'accuracy', "
                f"'{self.disparity}': "
                "fairness_scorer('equalized_odds_difference')})."
            )
        return np.asarray(cv_results[key], dtype=float)

    def __call__(self, cv_results):
        performance = self._column(cv_results, self.performance)
        # fairness scorers are negated disparities: the bound is on |score|
        disparity = np.abs(self._column(cv_results, self.disparity))
        # a candidate whose mean score is NaN failed (or was undefined) on a
        # fold: it is never refitted
        scored = np.isfinite(performance) & np.isfinite(disparity)
        within = np.flatnonzero(scored & (disparity <= self.max_disparity))
        if len(within):
            return int(within[np.argmax(performance[within])])
        if not scored.any():
            raise ValueError(
                f"Every candidate's mean {self.performance} or {self.disparity} "
                "is NaN: the scorers failed or were undefined on some fold of "
                "every candidate (a fold without one of the groups, or fit "
                "errors turned into NaN by error_score). Check the search's "
                "cv_results_ and its split_test_ scores."
            )
        candidates = np.flatnonzero(scored)
        best = int(candidates[np.argmin(disparity[candidates])])
        failed = len(disparity) - len(candidates)
        also = ""
        if failed:
            also = (
                f" ({failed} candidate{'s' * (failed > 1)} failed, with NaN "
                "scores, and are not refitted)"
            )
        warnings.warn(
            f"No candidate has a mean {self.disparity} within {self.max_disparity}"
            f"{also}; refitting the least disparate one that scored (index "
            f"{best}, {disparity[best]:.4f}).",
            UserWarning,
            stacklevel=2,
        )
        return best

    def __repr__(self):
        return (
            f"fair_refit(disparity={self.disparity!r}, "
            f"performance={self.performance!r}, max_disparity={self.max_disparity!r})"
        )


@validate_params(
    {
        "disparity": [str],
        "performance": [str],
        "max_disparity": [Interval(Real, 0, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def fair_refit(*, disparity, performance, max_disparity):
    """A ``refit`` callable for ``GridSearchCV``: the best mean ``performance``
    among candidates whose mean ``disparity`` is at most ``max_disparity``.

    If no candidate is within the bound, the least disparate one is refitted,
    with a warning.

    Parameters
    ----------
    disparity : str
        Name of the disparity scorer in the search's ``scoring`` dict. Its
        absolute mean test score is compared with the bound, so the negated
        scorers of :func:`sklearn_dwb.metrics.fairness_scorer` work as they
        are.
    performance : str
        Name of the performance scorer (greater is better).
    max_disparity : float
        Largest acceptable mean disparity.

    Returns
    -------
    refit : callable
        ``refit(cv_results) -> index`` of the chosen candidate.

    Examples
    --------
    >>> from sklearn_dwb.model_selection import fair_refit
    >>> cv_results = {
    ...     "mean_test_accuracy": [0.86, 0.85, 0.84],
    ...     "mean_test_eod": [-0.09, -0.04, -0.02],
    ... }
    >>> refit = fair_refit(disparity="eod", performance="accuracy", max_disparity=0.05)
    >>> refit(cv_results)
    1
    """
    return _FairRefit(disparity, performance, max_disparity)
