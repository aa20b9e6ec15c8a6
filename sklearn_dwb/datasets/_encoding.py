"""The usual encoding of a tabular DataFrame for a neural network."""

from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.preprocessing import OneHotEncoder, StandardScaler


def make_tabular_encoder():
    """One-hot encode the non-numeric columns, standardise the numeric ones.

    The dense output suits :class:`~sklearn_dwb.BackdoorDebiasClassifier`,
    whose ``trigger_value`` is measured against standardised features. With
    ``.set_output(transform="pandas")`` the encoded columns keep names such
    as ``categorical__sex_Female``, from which the estimator's
    ``sensitive_columns="sex"`` finds the groups.

    Returns
    -------
    encoder : sklearn.compose.ColumnTransformer
        Unfitted; unknown categories at predict time encode as all zeros.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_dwb.datasets import make_tabular_encoder
    >>> frame = pd.DataFrame({"sex": ["F", "M", "M"], "age": [20.0, 30.0, 40.0]})
    >>> make_tabular_encoder().fit_transform(frame).round(2).tolist()
    [[1.0, 0.0, -1.22], [0.0, 1.0, 0.0], [0.0, 1.0, 1.22]]
    >>> encoder = make_tabular_encoder().set_output(transform="pandas")
    >>> list(encoder.fit_transform(frame).columns)
    ['categorical__sex_F', 'categorical__sex_M', 'numeric__age']
    """
    return ColumnTransformer(
        [
            (
                "categorical",
                OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                make_column_selector(dtype_exclude="number"),
            ),
            ("numeric", StandardScaler(), make_column_selector(dtype_include="number")),
        ],
        sparse_threshold=0,
    )
