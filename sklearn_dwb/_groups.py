"""Turning ``sensitive_features`` / ``sensitive_columns`` into group codes."""

from numbers import Integral

import numpy as np
import pandas as pd


def _as_frame(values, source):
    """Sensitive values as a DataFrame with one column per feature."""
    if isinstance(values, pd.DataFrame):
        frame = values.reset_index(drop=True)
    elif isinstance(values, pd.Series):
        name = values.name if values.name is not None else "sensitive_feature"
        frame = values.reset_index(drop=True).to_frame(name=name)
    else:
        array = np.asarray(values)
        if array.ndim == 0 or array.ndim > 2:
            raise ValueError(
                f"{source} must be 1-D (one sensitive feature) or 2-D (one column "
                f"per feature); got an array with {array.ndim} dimensions."
            )
        if array.ndim == 1:
            array = array[:, None]
        names = (
            ["sensitive_feature"]
            if array.shape[1] == 1
            else [f"sensitive_feature_{i}" for i in range(array.shape[1])]
        )
        frame = pd.DataFrame(array, columns=names)
    if frame.shape[1] == 0:
        raise ValueError(f"{source} has no columns.")
    return frame


def _select_columns(X, columns, unset_one_hot="raise"):
    """The columns of X named by ``sensitive_columns``, as a DataFrame.

    A group read back from one-hot columns is missing in rows with none of
    them set; ``unset_one_hot="raise"`` refuses such rows (in ``fit`` they
    mean the encoder dropped a category), ``"keep"`` leaves them missing."""
    if isinstance(columns, (str, Integral)) or np.isscalar(columns):
        columns = [columns]
    columns = list(columns)
    if not columns:
        raise ValueError("sensitive_columns is empty; name at least one column of X.")
    if isinstance(X, pd.DataFrame):
        picked = {}
        for column in columns:
            if column in X.columns:
                picked[column] = X[column].reset_index(drop=True)
            elif isinstance(column, Integral) and -X.shape[1] <= column < X.shape[1]:
                picked[X.columns[column]] = X.iloc[:, column].reset_index(drop=True)
            elif isinstance(column, str) and one_hot_columns(X, column):
                values = decode_one_hot(X, column)
                if unset_one_hot == "raise":
                    _check_one_hot_set(X, column, values)
                picked[column] = pd.Series(values)
            else:
                raise ValueError(
                    f"sensitive_columns names {column!r}, which is not a column of X "
                    f"(columns: {list(X.columns)[:20]}) nor one-hot encoded in it "
                    f"(columns named {column}_<value> or <step>__{column}_<value>). "
                    "Pass an existing column name or position."
                )
        return pd.DataFrame(picked)
    array = np.asarray(X)
    if array.ndim != 2:
        raise ValueError(
            f"Expected a 2-D X to take sensitive_columns from; got {array.ndim}-D."
        )
    for column in columns:
        if not isinstance(column, Integral):
            raise ValueError(
                f"sensitive_columns names {column!r}, but X is an array without "
                "column names. Pass integer positions, or X as a pandas DataFrame "
                "(in a Pipeline, make the step before the estimator output one: "
                'encoder.set_output(transform="pandas")).'
            )
        if not -array.shape[1] <= column < array.shape[1]:
            raise ValueError(
                f"sensitive_columns index {column} is out of range for X with "
                f"{array.shape[1]} columns."
            )
    return pd.DataFrame({f"column_{c % array.shape[1]}": array[:, c] for c in columns})


def one_hot_columns(X, feature):
    """The columns of X that one-hot encode ``feature``, mapped to their value.

    Encoders name them ``<feature>_<value>`` (:class:`~sklearn.preprocessing.
    OneHotEncoder`), with a ``<step>__`` prefix inside a
    :class:`~sklearn.compose.ColumnTransformer`.
    """
    found = {}
    for column in X.columns:
        if not isinstance(column, str):
            continue
        name = column.split("__", 1)[1] if "__" in column else column
        if name.startswith(f"{feature}_") and len(name) > len(feature) + 1:
            found[column] = name[len(feature) + 1 :]
    return found


def decode_one_hot(X, feature):
    """The value of ``feature`` in each row, read back from its one-hot
    columns; rows with none of them set (an unknown value) are missing."""
    columns = one_hot_columns(X, feature)
    codes = X[list(columns)].to_numpy(dtype=float)
    counts = codes.sum(axis=1)
    if not (np.isin(codes, (0.0, 1.0)).all() and (counts <= 1).all()):
        raise ValueError(
            f"The columns {list(columns)[:10]} do not one-hot encode "
            f"{feature!r} (each row must hold at most one 1 and otherwise 0s); "
            "name the group column itself, or pass sensitive_features."
        )
    values = np.asarray(list(columns.values()), dtype=object)[codes.argmax(axis=1)]
    return np.where(counts == 1, values, None)


def _check_one_hot_set(X, feature, values):
    unset = np.flatnonzero(pd.isna(values))
    if unset.size:
        columns = list(one_hot_columns(X, feature))
        raise ValueError(
            f"sensitive_columns={feature!r} is read from the one-hot columns "
            f"{columns[:10]} of X, and {unset.size} rows have none of them set "
            f"(e.g. row {unset[0]}): the encoder dropped a category "
            "(OneHotEncoder(drop='first') or drop='if_binary'), or met one it "
            "was not fitted on (handle_unknown='ignore'). Keep every "
            f"category (drop=None), or name a column itself, e.g. "
            f"sensitive_columns={columns[0]!r} (its 0/1 values are the groups)."
        )


def sensitive_frame(X, sensitive_features, sensitive_columns, unset_one_hot="raise"):
    """The sensitive features of the rows of X, from exactly one source
    (``unset_one_hot``: see :func:`_select_columns`)."""
    if sensitive_features is None and sensitive_columns is None:
        raise ValueError(
            "No groups given: pass sensitive_features to fit, or set "
            "sensitive_columns (column names or indices of X, or a callable "
            "X -> groups) on the estimator."
        )
    if sensitive_features is not None and sensitive_columns is not None:
        raise ValueError(
            "Groups given twice: sensitive_features was passed to fit while "
            "sensitive_columns is set. Use exactly one of them (set "
            "sensitive_columns=None to pass sensitive_features)."
        )
    if sensitive_features is not None:
        frame = _as_frame(sensitive_features, "sensitive_features")
    elif callable(sensitive_columns):
        frame = _as_frame(sensitive_columns(X), "sensitive_columns(X)")
    else:
        frame = _select_columns(X, sensitive_columns, unset_one_hot)
    return _uniform_labels(frame)


def _uniform_labels(frame):
    """Group labels of one type per column: a column that mixes strings
    with other values (numbers with a string 'unknown' for missing ones,
    1 beside '1') holds them all as strings, so labels sort, print once and
    name one group each, in fit and in the metrics alike."""
    for column in frame.columns:
        values = frame[column]
        if values.dtype != object:
            continue
        present = values[values.notna()]
        is_string = present.map(lambda v: isinstance(v, str))
        if is_string.any() and not is_string.all():
            frame[column] = values.where(values.isna(), values.map(str)).astype(object)
    return frame


def encode_groups(frame, n_samples, max_groups):
    """Integer group codes per row and the group labels (Index or MultiIndex).

    Several sensitive columns form intersectional groups: one group per
    combination of values that occurs.
    """
    if len(frame) != n_samples:
        raise ValueError(
            f"The sensitive features have {len(frame)} rows but X has {n_samples}; "
            "pass one group entry per row of X."
        )
    missing = frame.isna().any(axis=1).to_numpy()
    if missing.any():
        raise ValueError(
            f"The sensitive features have missing values in {int(missing.sum())} "
            "rows; fill them with a group of their own (e.g. 'unknown') or drop "
            "those rows."
        )
    if frame.shape[1] == 1:
        values = frame.iloc[:, 0]
        try:
            codes, uniques = pd.factorize(values, sort=True)
        except TypeError:  # values of mixed, unorderable types
            codes, uniques = pd.factorize(values, sort=False)
        labels = pd.Index(uniques, name=frame.columns[0])
    else:
        codes, labels = pd.MultiIndex.from_frame(frame).factorize(sort=True)
        labels = labels.set_names(list(frame.columns))
    n_groups = len(labels)
    if n_groups < 2:
        raise ValueError(
            f"Only one group ({labels[0]!r}) was found in the sensitive features; "
            "debiasing needs at least two groups."
        )
    if max_groups is not None and n_groups > max_groups:
        raise ValueError(
            f"The sensitive features form {n_groups} groups, more than "
            f"max_groups={max_groups}; a feature with that many values is likely "
            "continuous. Bin it (e.g. pandas.cut) or raise max_groups."
        )
    return np.asarray(codes, dtype=np.intp), labels


def plain_label(labels, code):
    """The label of a code as a plain Python value, for messages: numpy's
    scalars print as ``np.int64(1)``."""
    label = code if labels is None else labels[code]
    return label.item() if isinstance(label, np.generic) else label
