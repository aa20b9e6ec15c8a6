"""Model selection under a fairness bound."""

from ._refit import fair_refit

__all__ = ["fair_refit"]
