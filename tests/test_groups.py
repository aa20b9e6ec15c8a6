"""From ``sensitive_features`` / ``sensitive_columns`` to group codes
(``sklearn_dwb._groups``); the errors as ``fit`` raises them are in
test_classifier_validation.py."""

import numpy as np
import pandas as pd
import pytest

from sklearn_dwb._groups import encode_groups, sensitive_frame


def test_sensitive_features_become_a_frame_with_named_columns():
    named = pd.Series(["a", "b", "a"], index=[7, 8, 9], name="sex")
    frame = sensitive_frame(None, named, None)
    assert list(frame.columns) == ["sex"] and list(frame.index) == [0, 1, 2]
    assert list(frame["sex"]) == ["a", "b", "a"]
    for values in (pd.Series([0, 1, 0]), np.array([0, 1, 0]), [0, 1, 0]):
        frame = sensitive_frame(None, values, None)
        assert list(frame.columns) == ["sensitive_feature"]
        assert list(frame["sensitive_feature"]) == [0, 1, 0]
    pair = sensitive_frame(None, np.array([[0, 1], [1, 1]]), None)
    assert list(pair.columns) == ["sensitive_feature_0", "sensitive_feature_1"]
    np.testing.assert_array_equal(pair.to_numpy(), [[0, 1], [1, 1]])


def test_sensitive_columns_by_name_position_or_callable():
    X = pd.DataFrame({"age": [30, 40, 50], "sex": ["f", "m", "f"]}, index=[5, 6, 7])
    by_name = sensitive_frame(X, None, "sex")
    by_position = sensitive_frame(X, None, [-1])
    by_callable = sensitive_frame(X, None, lambda frame: frame["sex"])
    for frame in (by_name, by_position, by_callable):
        assert list(frame.columns) == ["sex"] and list(frame.index) == [0, 1, 2]
        assert list(frame["sex"]) == ["f", "m", "f"]
    array = np.array([[1.0, 0.0], [2.0, 1.0], [3.0, 0.0]])
    frame = sensitive_frame(array, None, [-1, 0])
    assert list(frame.columns) == ["column_1", "column_0"]
    np.testing.assert_array_equal(frame.to_numpy(), array[:, [1, 0]])


@pytest.mark.parametrize(
    "X, features, columns, message",
    [
        (None, np.zeros((2, 2, 2)), None, "got an array with 3 dimensions"),
        (None, pd.DataFrame(index=range(3)), None, "sensitive_features has no columns"),
        (np.zeros((3, 2)), None, [], "sensitive_columns is empty"),
        (np.zeros(3), None, 0, "Expected a 2-D X"),
    ],
)
def test_malformed_sources_are_refused(X, features, columns, message):
    with pytest.raises(ValueError, match=message):
        sensitive_frame(X, features, columns)


def test_group_codes_are_sorted_labels():
    frame = pd.DataFrame({"sex": ["m", "f", "m", "f"]})
    codes, labels = encode_groups(frame, 4, max_groups=50)
    np.testing.assert_array_equal(codes, [1, 0, 1, 0])
    assert codes.dtype == np.intp
    assert list(labels) == ["f", "m"] and labels.name == "sex"
    # values that cannot be ordered keep their order of appearance
    codes, labels = encode_groups(pd.DataFrame({"g": [1, "a", 1]}), 3, None)
    np.testing.assert_array_equal(codes, [0, 1, 0])
    assert list(labels) == [1, "a"]


def test_several_columns_form_intersectional_groups():
    frame = pd.DataFrame({"sex": ["m", "f", "m", "f"], "race": [1, 1, 0, 1]})
    codes, labels = encode_groups(frame, 4, max_groups=3)
    assert isinstance(labels, pd.MultiIndex)
    assert list(labels.names) == ["sex", "race"]
    assert list(labels) == [("f", 1), ("m", 0), ("m", 1)]  # combinations that occur
    np.testing.assert_array_equal(codes, [2, 0, 1, 0])
    with pytest.raises(ValueError, match="form 3 groups, more than max_groups=2"):
        encode_groups(frame, 4, max_groups=2)


def test_a_one_hot_encoded_feature_is_found_by_its_name():
    from sklearn_dwb.datasets import make_tabular_encoder

    raw = pd.DataFrame(
        {"sex": ["F", "M", "M", "F"], "sexy": ["a", "b", "a", "b"], "age": [1.0] * 4}
    )
    encoded = make_tabular_encoder().set_output(transform="pandas").fit_transform(raw)
    frame = sensitive_frame(encoded, None, "sex")
    assert list(frame.columns) == ["sex"]
    assert frame["sex"].tolist() == ["F", "M", "M", "F"]
    # plain OneHotEncoder names (no step prefix) work too
    plain = pd.DataFrame({"sex_F": [1, 0], "sex_M": [0, 1]})
    assert sensitive_frame(plain, None, "sex")["sex"].tolist() == ["F", "M"]
    # a row of an unseen value (all zeros) has no group: a clear error in fit
    unseen = pd.DataFrame({"sex_F": [1, 0], "sex_M": [0, 0]})
    with pytest.raises(ValueError, match="and 1 rows have none of them set"):
        encode_groups(sensitive_frame(unseen, None, "sex"), 2, None)
    not_one_hot = pd.DataFrame({"sex_F": [1, 1], "sex_M": [0, 1]})
    with pytest.raises(ValueError, match="do not one-hot encode 'sex'"):
        sensitive_frame(not_one_hot, None, "sex")
    with pytest.raises(ValueError, match=r"nor one-hot encoded in it"):
        sensitive_frame(plain, None, "race")


def test_groups_mixing_strings_and_numbers_are_one_type_in_fit_and_metrics():
    from sklearn.linear_model import LogisticRegression

    from sklearn_dwb import BackdoorDebiasClassifier
    from sklearn_dwb.datasets import make_biased_classification
    from sklearn_dwb.metrics import fairness_report, group_balanced_accuracy

    X, y, g = make_biased_classification(
        n_samples=800, n_features=6, group_column=False, random_state=0
    )
    # floats with a string for the missing ones, as the NaN error advises
    groups = g.astype(float).astype(object)
    groups[:50] = "unknown"
    original = groups.copy()
    clf = BackdoorDebiasClassifier(estimator=LogisticRegression(), random_state=0)
    clf.fit(X, y, sensitive_features=groups)
    assert list(clf.groups_) == ["0.0", "1.0", "unknown"]
    y_pred = clf.predict(X)
    report = fairness_report(y, y_pred, sensitive_features=groups)
    assert list(report.index) == ["0.0", "1.0", "unknown", "overall", "difference"]
    assert report.loc["unknown", "count"] == 50
    assert 0.5 < group_balanced_accuracy(y, y_pred, sensitive_features=groups) < 1
    np.testing.assert_array_equal(groups, original)  # the caller's array
    # 1 and "1" name one group, with one strength column
    groups = g.astype(object)
    groups[groups == 1] = "1"
    groups[:5] = 1
    clf = BackdoorDebiasClassifier(
        estimator=LogisticRegression(),
        trigger_strength="auto",
        max_disparity=0.1,
        random_state=0,
    ).fit(X, y, sensitive_features=groups)
    assert list(clf.groups_) == ["0", "1"]
    assert list(clf.plan_search_.filter(like="strength[").columns) == [
        "strength[0]",
        "strength[1]",
    ]
