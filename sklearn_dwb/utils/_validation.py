"""Input checks shared by the estimator's fit and predict, and by the
fairness scorers."""

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.utils.validation import _check_sample_weight

from ._warnings import warn_caller


def check_numeric_columns(X):
    """Refuse a DataFrame with non-numeric columns, naming them and the fix."""
    if not isinstance(X, pd.DataFrame):
        return
    bad = [
        column
        for column, dtype in X.dtypes.items()
        if not (
            pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)
        )
    ]
    if bad:
        raise ValueError(
            f"X has non-numeric columns {bad[:10]}; BackdoorDebiasClassifier needs "
            "numeric input. Encode them first, e.g. "
            "make_pipeline(ColumnTransformer([('cat', OneHotEncoder(), "
            f"{bad[:3]!r})], remainder=StandardScaler()), "
            "BackdoorDebiasClassifier(...))."
        )


def check_sample_weight(sample_weight, X):
    """Non-negative, finite float32 weights, not all zero (ones if None).

    Weights are checked in float64; weights whose largest is beyond float32's
    normal range (tiny, such as 1e-50, or huge) are divided by it first, so
    that the cast neither turns them to zero nor to infinity; weights within
    the range are cast as they are."""
    weight = _check_sample_weight(
        sample_weight, X, dtype=np.float64, ensure_non_negative=True
    )
    largest = weight.max()
    limits = np.finfo(np.float32)
    if largest < limits.smallest_normal or largest > limits.max / len(weight):
        weight = weight / largest
    return weight.astype(np.float32)


def check_sensitive_features(sensitive_features):
    """Refuse a plain string or a dict as ``sensitive_features``, with the fix."""
    if isinstance(sensitive_features, str):
        raise ValueError(
            f"sensitive_features is the string {sensitive_features!r}; pass the "
            "group of every row (an array, Series or DataFrame), or, to read "
            f"groups from a column of X, set sensitive_columns={sensitive_features!r} "
            "on the estimator instead."
        )
    if isinstance(sensitive_features, dict):
        raise ValueError(
            "sensitive_features is a dict; pass the group of every row as an "
            "array, Series or DataFrame. For several sensitive features, pass "
            "pandas.DataFrame(sensitive_features), one column per feature."
        )
    if sparse.issparse(sensitive_features):
        raise ValueError(
            "sensitive_features is a scipy sparse matrix; pass the groups dense "
            "(an array, Series or DataFrame), e.g. sensitive_features.toarray()."
        )


def _is_bool(value):
    return isinstance(value, (bool, np.bool_))


def check_sensitive_columns(sensitive_columns):
    """Refuse a boolean mask as ``sensitive_columns`` (True would pass for
    column 1 and False for column 0), with the fix."""
    columns = sensitive_columns
    if callable(columns) or columns is None or isinstance(columns, str):
        return
    if _is_bool(columns) or (
        isinstance(columns, (list, tuple)) and any(_is_bool(c) for c in columns)
    ):
        raise ValueError(
            "sensitive_columns holds booleans, like a mask of the columns of X "
            "(True would be read as column 1, False as column 0); pass column "
            "names or integer positions instead, e.g. "
            "sensitive_columns=list(numpy.flatnonzero(mask)) or "
            "list(X.columns[mask])."
        )


def check_index_alignment(X, **others):
    """Warn when pandas inputs carry indexes that differ from X's: inputs are
    matched by position (as in scikit-learn), not by index label."""
    if not isinstance(X, pd.DataFrame):
        return
    differ = [
        name
        for name, value in others.items()
        if isinstance(value, (pd.Series, pd.DataFrame))
        and len(value) == len(X)  # other lengths are an error of their own
        and not value.index.equals(X.index)
    ]
    if differ:
        verb = (
            "has an index that differs"
            if len(differ) == 1
            else "have indexes that differ"
        )
        warn_caller(
            f"{', '.join(differ)} {verb} from X's. Inputs are matched by "
            "position, not by index label: row i of each input belongs to row i "
            "of X. If the rows do not correspond, align them first (e.g. "
            "y.loc[X.index]); if they do, reset the indexes "
            "(reset_index(drop=True)) to silence this warning.",
        )
