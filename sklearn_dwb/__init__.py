"""Debias with Backdoor (DwB) as a scikit-learn estimator."""

from ._classifier import BackdoorDebiasClassifier
from ._learners import StudentBlend
from ._version import __version__

__all__ = ["BackdoorDebiasClassifier", "StudentBlend", "__version__"]
