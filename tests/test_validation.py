"""Input checks and the shared docstring text (``sklearn_dwb.utils``); the
errors as ``fit`` raises them are in test_classifier_validation.py."""

import inspect

import numpy as np
import pandas as pd
import pytest

from sklearn_dwb.utils._docstring import Substitution
from sklearn_dwb.utils._validation import check_numeric_columns, check_sample_weight


def test_numeric_columns_pass_and_others_are_named_with_the_fix():
    numeric = pd.DataFrame({"a": [1, 2], "b": [0.5, 1.5], "c": [True, False]})
    assert check_numeric_columns(numeric) is None
    assert check_numeric_columns(np.array([["x", "y"]], dtype=object)) is None
    mixed = numeric.assign(city=["x", "y"], kind=pd.Categorical(["u", "v"]))
    with pytest.raises(ValueError) as error:
        check_numeric_columns(mixed)
    message = str(error.value)
    assert message.startswith("X has non-numeric columns ['city', 'kind']")
    assert "ColumnTransformer([('cat', OneHotEncoder(), ['city', 'kind'])]" in message


def test_sample_weight_defaults_to_float32_ones():
    X = np.zeros((4, 2))
    weight = check_sample_weight(None, X)
    assert weight.dtype == np.float32
    np.testing.assert_array_equal(weight, np.ones(4))
    given = np.array([0.0, 1.0, 2.5, 1.0])
    weight = check_sample_weight(given, X)
    assert weight.dtype == np.float32
    np.testing.assert_array_equal(weight, given)
    with pytest.raises(ValueError, match="Negative values"):
        check_sample_weight(-given, X)


def test_substitution_indents_the_shared_text_like_its_placeholder():
    @Substitution(x="x : int\n    The input.", y="y : str")
    def f(x, y):
        """Parameters
        ----------
        %(x)s
        %(y)s

        Returns 100% of {x} and %d.
        """

    assert inspect.getdoc(f) == (
        "Parameters\n----------\nx : int\n    The input.\ny : str\n\n"
        "Returns 100% of {x} and %d."
    )
