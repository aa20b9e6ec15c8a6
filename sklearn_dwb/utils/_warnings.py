"""Warnings that point at the caller's line, not at the package's."""

import os
import sys
import warnings

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
# scikit-learn's fit wrapper (_fit_context) sits between the caller and fit
_FIT_WRAPPER = os.sep + os.path.join("sklearn", "base.py")


def warn_caller(message, category=UserWarning):
    """``warnings.warn`` at the first frame outside this package (and
    scikit-learn's fit wrapper): the user's ``fit`` call, or the
    scikit-learn code that made it (a Pipeline, a search)."""
    frame, level = sys._getframe(1), 2
    while frame is not None and (
        frame.f_code.co_filename.startswith(_PACKAGE)
        or frame.f_code.co_filename.endswith(_FIT_WRAPPER)
    ):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)
