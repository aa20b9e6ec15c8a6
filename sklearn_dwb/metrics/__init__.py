"""Fairness scorers and reports on top of :mod:`fairlearn.metrics`."""

from .._disparity import average_odds_difference
from ._scorers import (
    FAIRNESS_METRICS,
    FairnessScorer,
    fairness_report,
    fairness_scorer,
    group_balanced_accuracy,
)

__all__ = [
    "FAIRNESS_METRICS",
    "FairnessScorer",
    "average_odds_difference",
    "fairness_report",
    "fairness_scorer",
    "group_balanced_accuracy",
]
