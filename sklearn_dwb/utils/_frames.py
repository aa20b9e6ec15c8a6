"""Rows and columns of an input that may be an array or a DataFrame.

A scikit-learn estimator wrapped by DwB may take a DataFrame (pandas
categorical columns for ``HistGradientBoostingClassifier(
categorical_features="from_dtype")``, named columns for a ``Pipeline``):
the trigger and dose columns are appended to it without turning it into an
array, and rows are taken by position.
"""

import numpy as np
import pandas as pd
from sklearn.utils import _safe_indexing

#: Name stem of the columns DwB appends to a DataFrame.
EXTRA_COLUMN = "dwb_extra"


def take_rows(X, rows):
    """Rows of an array or DataFrame, by position."""
    return _safe_indexing(X, rows, axis=0)


def repeat_rows(X, rows, times):
    """``rows`` of X, ``times`` over (the blocks one after the other)."""
    index = np.tile(np.asarray(rows), times)
    return take_rows(X, index)


def append_columns(X, columns):
    """X followed by ``columns`` (an array of shape (n_samples, n_new)).

    An array gets them with ``hstack``. A DataFrame keeps its columns and
    their dtypes, its index is reset (rows are matched by position), and the
    new columns are named ``dwb_extra_<i>`` (or, where every column name is
    an int, numbered on from the largest); X itself is returned when there
    is nothing to append.
    """
    columns = np.asarray(columns)
    if columns.ndim != 2 or len(columns) != len(X):
        raise ValueError("columns must have one row per row of X")
    if columns.shape[1] == 0:
        return X
    if not isinstance(X, pd.DataFrame):
        X = np.asarray(X)
        if X.dtype.kind in "fiub":
            dtype = np.result_type(X.dtype, columns.dtype)
            return np.hstack([X, columns]).astype(dtype, copy=False)
        return np.hstack([X, columns.astype(object)])
    names = _new_names(X.columns, columns.shape[1])
    frame = X.reset_index(drop=True)
    extra = pd.DataFrame(columns, columns=names, index=frame.index)
    return pd.concat([frame, extra], axis=1)


def _new_names(existing, n_new):
    existing = list(existing)
    if existing and all(isinstance(name, (int, np.integer)) for name in existing):
        start = int(max(existing)) + 1
        return list(range(start, start + n_new))
    taken = set(map(str, existing))
    stem = EXTRA_COLUMN
    # letters, digits and underscores only: LightGBM and XGBoost refuse
    # brackets and other JSON or markup characters in feature names
    while any(f"{stem}_{i}" in taken for i in range(n_new)):
        stem = "_" + stem
    return [f"{stem}_{i}" for i in range(n_new)]


def set_column(X, position, value):
    """A copy of X with the column at ``position`` set to ``value``."""
    X = X.copy()
    if isinstance(X, pd.DataFrame):
        X.iloc[:, position] = value
    else:
        X[:, position] = value
    return X


def stack_rows(first, second):
    """The rows of ``first``, then those of ``second``."""
    if isinstance(first, pd.DataFrame):
        return pd.concat([first, second], axis=0, ignore_index=True)
    return np.vstack([first, second])
