"""Fairness scorers and reports on top of :mod:`fairlearn.metrics`."""

from ._scorers import (
    FAIRNESS_METRICS,
    average_odds_difference,
    fairness_report,
    fairness_scorer,
    group_balanced_accuracy,
)

__all__ = [
    "FAIRNESS_METRICS",
    "average_odds_difference",
    "fairness_report",
    "fairness_scorer",
    "group_balanced_accuracy",
]
