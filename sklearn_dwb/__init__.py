"""Debias with Backdoor (DwB) as a scikit-learn estimator."""

from ._blend import StudentBlend
from ._classifier import BackdoorDebiasClassifier
from ._version import __version__

__all__ = ["BackdoorDebiasClassifier", "StudentBlend", "__version__"]
