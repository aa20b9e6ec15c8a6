"""The inputs of ``fit`` and ``predict``, validated as scikit-learn does
(names, widths, dtypes) with the package's own checks and messages."""

import numpy as np
import pandas as pd
from sklearn.utils import get_tags
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    check_array,
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)
from skorch import NeuralNet

from ._blend import StudentBlend
from ._data import TrainingData
from ._groups import encode_groups, sensitive_frame
from .utils._validation import (
    check_index_alignment,
    check_numeric_columns,
    check_sample_weight,
    check_sensitive_columns,
    check_sensitive_features,
)


def validate_training_data(estimator, X, y, sensitive_features, sample_weight):
    """The training data of ``estimator.fit``, validated: features, class
    codes, group codes and weights (``n_features_in_`` and
    ``feature_names_in_`` are set on the estimator)."""
    network = estimator.estimator is None
    if network:
        check_numeric_columns(X)
    check_sensitive_features(sensitive_features)
    check_sensitive_columns(estimator.sensitive_columns)
    check_index_alignment(
        X, y=y, sensitive_features=sensitive_features, sample_weight=sample_weight
    )
    X_raw = X
    if network:
        X, y = validate_data(estimator, X, y, dtype=np.float32)
    else:
        X, y = validate_estimator_input(estimator, X, y, reset=True)
    check_classification_targets(y)
    classes, y_codes = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise ValueError(
            f"y has only one class ({classes[0]!r}); a classifier needs "
            "at least two classes to train."
        )
    sample_weight = check_sample_weight(sample_weight, X)
    groups = sensitive_frame(X_raw, sensitive_features, estimator.sensitive_columns)
    group_codes, group_labels = encode_groups(groups, len(X), estimator.max_groups)
    return TrainingData(X, classes, y_codes, group_labels, group_codes, sample_weight)


def validate_predict_input(estimator, X):
    """X for the fitted estimator's student: float32 numbers for a network,
    as the wrapped estimator takes them otherwise."""
    check_is_fitted(estimator)
    student = estimator.student_
    network = isinstance(student, NeuralNet) or (
        isinstance(student, StudentBlend) and student.is_network
    )
    if not network:
        return validate_estimator_input(estimator, X, reset=False)
    check_numeric_columns(X)
    return validate_data(estimator, X, reset=False, dtype=np.float32)


def validate_estimator_input(estimator, X, y="no_validation", *, reset):
    """X for a wrapped scikit-learn estimator: a DataFrame as it is (its
    dtypes are the estimator's to handle), anything else as a 2-d array
    of any dtype; names and width checked as scikit-learn does."""
    no_y = isinstance(y, str) and y == "no_validation"
    if not isinstance(X, pd.DataFrame):
        allow_nan = get_tags(estimator.estimator).input_tags.allow_nan
        try:
            X = check_array(
                X,
                dtype=None,
                ensure_all_finite="allow-nan" if allow_nan else True,
                ensure_min_samples=1 if no_y else 2,
            )
        except ValueError as error:
            if "NaN" not in str(error) or allow_nan:
                raise
            raise ValueError(
                f"{error} estimator={type(estimator.estimator).__name__}(...) "
                f"does not take missing values (its allow_nan tag is "
                "False): impute them first (e.g. make_pipeline("
                "SimpleImputer(), classifier) as estimator), or use a "
                "model that takes them (HistGradientBoostingClassifier)."
            ) from error
    if not no_y and y is None:
        raise ValueError(
            f"{type(estimator).__name__} requires y to be passed, but the "
            "target y is None."
        )
    validate_data(estimator, X, reset=reset, skip_check_array=True)
    if no_y:
        return X
    y = column_or_1d(y, warn=True)
    check_consistent_length(X, y)
    return X, y
