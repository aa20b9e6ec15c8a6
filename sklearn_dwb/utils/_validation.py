"""Input checks shared by the estimator's fit and predict."""

import numpy as np
import pandas as pd
from sklearn.utils.validation import _check_sample_weight


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
    """Non-negative, finite float32 weights, not all zero (ones if None)."""
    return _check_sample_weight(
        sample_weight, X, dtype=np.float32, ensure_non_negative=True
    )
