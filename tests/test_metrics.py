"""Disparities (``sklearn_dwb._disparity``), the fairness scorers and report
(``sklearn_dwb.metrics``), and how the package's modules build on each other."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sklearn
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    equal_opportunity_difference,
    equalized_odds_difference,
    false_positive_rate,
    true_positive_rate,
)
from sklearn.base import clone
from sklearn.metrics import accuracy_score
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

import sklearn_dwb
from conftest import FAST
from sklearn_dwb import BackdoorDebiasClassifier
from sklearn_dwb._disparity import DISPARITY_METRICS, one_vs_rest_disparity
from sklearn_dwb.datasets import make_biased_classification
from sklearn_dwb.metrics import FAIRNESS_METRICS, fairness_report, fairness_scorer


@pytest.fixture(scope="module")
def fitted():
    X, y, groups = make_biased_classification(n_samples=600, random_state=0)
    clf = BackdoorDebiasClassifier(sensitive_columns=[-1], **FAST).fit(X, y)
    return clf, X, y, groups


def _gaps(y, y_pred, groups):
    frame = MetricFrame(
        metrics={"tpr": true_positive_rate, "fpr": false_positive_rate},
        y_true=y,
        y_pred=y_pred,
        sensitive_features=groups,
    )
    return frame.difference()


# ---------------------------------------------------------- disparities
def test_one_vs_rest_disparity_binary_and_multiclass():
    rng = np.random.default_rng(0)
    groups = rng.integers(0, 2, 400)
    y, y_pred = rng.integers(0, 2, 400), rng.integers(0, 2, 400)
    for name, function in DISPARITY_METRICS.items():
        expected = function(y, y_pred, sensitive_features=groups)
        assert one_vs_rest_disparity(name, y, y_pred, groups, 2) == pytest.approx(
            expected, abs=1e-12
        )
    y, y_pred = rng.integers(0, 3, 400), rng.integers(0, 3, 400)
    per_class = [
        demographic_parity_difference(y == k, y_pred == k, sensitive_features=groups)
        for k in range(3)
    ]
    assert len(set(per_class)) == 3  # the maximum is one of three values
    got = one_vs_rest_disparity(
        "demographic_parity_difference", y, y_pred, groups, n_classes=3
    )
    assert got == pytest.approx(max(per_class), abs=1e-12)


def test_average_odds_difference_is_the_mean_rate_gap():
    rng = np.random.default_rng(1)
    groups = rng.integers(0, 2, 300)
    y, y_pred = rng.integers(0, 2, 300), rng.integers(0, 2, 300)
    gaps = _gaps(y, y_pred, groups)
    value = DISPARITY_METRICS["average_odds_difference"](
        y, y_pred, sensitive_features=groups
    )
    assert value == pytest.approx((gaps["tpr"] + gaps["fpr"]) / 2, abs=1e-12)


# -------------------------------------------------------------- scorers
def test_scorers_equal_fairlearn(fitted):
    clf, X, y, groups = fitted
    y_pred = clf.predict(X)
    gaps = _gaps(y, y_pred, groups)
    cells = pd.DataFrame({"g": groups, "y": y})

    def negated(metric):
        return -metric(y, y_pred, sensitive_features=groups)

    expected = {
        "equalized_odds_difference": negated(equalized_odds_difference),
        "demographic_parity_difference": negated(demographic_parity_difference),
        "equal_opportunity_difference": negated(equal_opportunity_difference),
        "average_odds_difference": -(gaps["tpr"] + gaps["fpr"]) / 2,
        "group_balanced_accuracy": MetricFrame(
            metrics=accuracy_score, y_true=y, y_pred=y_pred, sensitive_features=cells
        ).by_group.mean(),
    }
    for name, value in expected.items():
        scorer = fairness_scorer(name)
        # groups from the estimator's sensitive_columns, and passed explicitly
        assert scorer(clf, X, y) == pytest.approx(value, abs=1e-12)
        assert scorer(clf, X, y, sensitive_features=groups) == pytest.approx(
            value, abs=1e-12
        )
    assert expected["equalized_odds_difference"] < 0  # disparities are negated


def test_unknown_metric_and_no_groups(fitted):
    clf, X, y, groups = fitted
    with pytest.raises(ValueError, match="Unknown fairness metric"):
        fairness_scorer("parity")
    plain = BackdoorDebiasClassifier(max_epochs=2).fit(X, y, sensitive_features=groups)
    with pytest.raises(ValueError, match="no sensitive_columns"):
        fairness_scorer("equalized_odds_difference")(plain, X, y)


def test_scorer_gives_identical_cv_results_with_routing_on_and_off(fast_params):
    X, y, groups = make_biased_classification(n_samples=400, random_state=0)

    def search(routing):
        clf = BackdoorDebiasClassifier(sensitive_columns=[-1], **fast_params)
        if routing:  # the groups go to the scorers only
            clf.set_fit_request(sensitive_features=False)
        return GridSearchCV(
            clf,
            {"trigger_strength": [0, 1]},
            scoring={
                "eod": fairness_scorer("equalized_odds_difference"),
                "dpd": fairness_scorer("demographic_parity_difference"),
            },
            refit=False,
            cv=2,
        )

    with sklearn.config_context(enable_metadata_routing=False):
        off = search(False).fit(X, y).cv_results_
    with sklearn.config_context(enable_metadata_routing=True):
        on = search(True).fit(X, y, sensitive_features=groups).cv_results_
    for key in ("mean_test_eod", "mean_test_dpd", "split0_test_eod", "split1_test_dpd"):
        np.testing.assert_array_equal(on[key], off[key])
    assert np.all(off["mean_test_eod"] <= 0)


# --------------------------------------------------------------- report
def test_fairness_report(fitted):
    clf, X, y, groups = fitted
    y_pred = clf.predict(X)
    report = fairness_report(y, y_pred, sensitive_features=groups)
    assert list(report.index) == [0, 1, "overall", "difference"]
    assert report.loc[0, "count"] + report.loc[1, "count"] == len(y)
    rates = [np.mean(y_pred[groups == g]) for g in (0, 1)]
    assert report.loc[1, "selection_rate"] == pytest.approx(rates[1], abs=1e-12)
    disparities = report.attrs["disparities"]
    assert disparities["demographic_parity_difference"] == pytest.approx(
        abs(rates[1] - rates[0]), abs=1e-12
    )
    assert disparities["equalized_odds_difference"] == pytest.approx(
        max(report.loc["difference", ["true_positive_rate", "false_positive_rate"]]),
        abs=1e-12,
    )


# ---------------------------------------------------------- string labels
def _named(y):
    return np.where(y == 1, "yes", "no")


@pytest.fixture(scope="module")
def fitted_on_strings(fitted):
    """The fit of ``fitted`` on labels "no"/"yes" (the same fit: classes
    sort in the same order), alone and at the end of a Pipeline."""
    _, X, y, _ = fitted
    clf = BackdoorDebiasClassifier(sensitive_columns=[-1], **FAST)
    pipe = make_pipeline(FunctionTransformer(), clone(clf))
    return clf.fit(X, _named(y)), pipe.fit(X, _named(y))


def test_scorers_with_string_labels_equal_the_0_1_result(fitted, fitted_on_strings):
    clf, X, y, groups = fitted
    np.testing.assert_array_equal(
        fitted_on_strings[0].predict(X), _named(clf.predict(X))
    )
    for name in FAIRNESS_METRICS:
        expected = fairness_scorer(name)(clf, X, y)
        for estimator in fitted_on_strings:
            got = fairness_scorer(name)(estimator, X, _named(y))
            assert got == pytest.approx(expected, abs=1e-12), name
        # "yes" named explicitly, and the other class as the positive one
        named = fitted_on_strings[0]
        explicit = fairness_scorer(name, pos_label="yes")(named, X, _named(y))
        assert explicit == pytest.approx(expected, abs=1e-12)
        flipped = fairness_scorer(name, pos_label="no")(named, X, _named(y))
        assert flipped == pytest.approx(
            fairness_scorer(name, pos_label=0)(clf, X, y), abs=1e-12
        )
    assert fairness_scorer("demographic_parity_difference")(clf, X, y) < -0.01
    assert repr(fairness_scorer("equalized_odds_difference", pos_label="yes")) == (
        "fairness_scorer('equalized_odds_difference', pos_label='yes')"
    )


def test_a_pos_label_that_is_no_label_is_an_error(fitted, fitted_on_strings):
    """A positive label absent from the labels would count every row as
    negative and read every disparity as 0: it is refused, naming the labels,
    and in a search with fair_refit no candidate passes by mistake."""
    clf, X, y, groups = fitted
    named = fitted_on_strings[0]
    message = r"pos_label=1 is not among the labels \['no', 'yes'\]; pass one"
    with pytest.raises(ValueError, match=message):
        fairness_scorer("equalized_odds_difference", pos_label=1)(named, X, _named(y))
    with pytest.raises(ValueError, match=r"pos_label='YES' is not among the labels"):
        fairness_report(
            _named(y), named.predict(X), sensitive_features=groups, pos_label="YES"
        )
    search = GridSearchCV(
        BackdoorDebiasClassifier(sensitive_columns=[-1], **FAST),
        {"trigger_strength": [0.0, 1.0]},
        scoring={
            "acc": "accuracy",
            "eod": fairness_scorer("equalized_odds_difference", pos_label=1),
        },
        refit=False,
        cv=2,
        error_score="raise",
    )
    with pytest.raises(ValueError, match=message):
        search.fit(X, _named(y))


def test_report_with_string_labels_equals_the_0_1_report(fitted):
    clf, X, y, groups = fitted
    y_pred = clf.predict(X)
    expected = fairness_report(y, y_pred, sensitive_features=groups)
    for kwargs in ({}, {"pos_label": "yes"}):
        report = fairness_report(
            _named(y), _named(y_pred), sensitive_features=groups, **kwargs
        )
        pd.testing.assert_frame_equal(report, expected)
        assert report.attrs["disparities"] == pytest.approx(
            expected.attrs["disparities"], abs=1e-12
        )
    flipped = fairness_report(
        _named(y), _named(y_pred), sensitive_features=groups, pos_label="no"
    )
    pd.testing.assert_frame_equal(
        flipped, fairness_report(1 - y, 1 - y_pred, sensitive_features=groups)
    )
    with pytest.raises(ValueError, match="3 classes.*pass pos_label"):
        fairness_report(y + y_pred, y_pred, sensitive_features=groups)
    one_vs_rest = fairness_report(
        y + y_pred, y_pred, sensitive_features=groups, pos_label=2
    )
    assert one_vs_rest.loc["overall", "selection_rate"] == 0.0


def test_scorer_and_report_refuse_groups_as_a_string_or_dict(fitted):
    clf, X, y, groups = fitted
    scorer = fairness_scorer("demographic_parity_difference")
    with pytest.raises(ValueError, match="sensitive_features is the string"):
        scorer(clf, X, y, sensitive_features="group")
    with pytest.raises(ValueError, match="sensitive_features is a dict"):
        fairness_report(y, y, sensitive_features={"g": groups})


# ---------------------------------------------------- intersectional groups
def test_intersectional_groups_in_report_and_scorer(fitted):
    clf, X, y, groups = fitted
    y_pred = clf.predict(X)
    pair = pd.DataFrame({"g": groups, "half": np.arange(len(y)) % 2})
    joined = pair.astype(str).agg(", ".join, axis=1)
    expected = demographic_parity_difference(y, y_pred, sensitive_features=joined)
    report = fairness_report(y, y_pred, sensitive_features=pair)
    assert len(report) == 4 + 2  # four intersectional groups, overall, difference
    disparities = report.attrs["disparities"]
    assert disparities["demographic_parity_difference"] == pytest.approx(
        expected, abs=1e-12
    )
    scorer = fairness_scorer("demographic_parity_difference")
    assert scorer(clf, X, y, sensitive_features=pair) == pytest.approx(
        -expected, abs=1e-12
    )


def test_fairlearn_takes_several_sensitive_columns_as_intersectional_groups():
    rng = np.random.default_rng(0)
    y, y_pred = rng.integers(0, 2, 300), rng.integers(0, 2, 300)
    pair = pd.DataFrame(
        {"a": rng.choice(["x", "y"], 300), "b": rng.integers(0, 3, 300)}
    )
    joined = pair.astype(str).agg(", ".join, axis=1)
    for metric in (
        equalized_odds_difference,
        demographic_parity_difference,
        equal_opportunity_difference,
    ):
        assert metric(y, y_pred, sensitive_features=pair) == pytest.approx(
            metric(y, y_pred, sensitive_features=joined), abs=1e-12
        )


# -------------------------------------------------------------- layering
def test_package_layering():
    """The core estimator builds on no user-facing module and no private scorer."""
    root = Path(sklearn_dwb.__file__).parent
    for path in root.rglob("*.py"):
        assert "sklearn.metrics._scorer" not in path.read_text(), path
    classifier = (root / "_classifier.py").read_text()
    assert (
        "metrics" not in classifier.split('"""', 2)[0] + classifier.split("class ")[0]
    )
    disparity = (root / "_disparity.py").read_text()
    assert "from ." not in disparity and "import sklearn_dwb" not in disparity


def _sex_frame(n=400, seed=0):
    X, y, groups = make_biased_classification(n_samples=n, random_state=seed)
    frame = pd.DataFrame(X[:, :-1], columns=[f"x{i}" for i in range(X.shape[1] - 1)])
    frame["sex"] = np.where(groups == 1, "M", "F")
    return frame, y


def _one_hot_pipeline(**encoder):
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OneHotEncoder

    encode = ColumnTransformer(
        [("sex", OneHotEncoder(sparse_output=False, **encoder), ["sex"])],
        remainder="passthrough",
    ).set_output(transform="pandas")
    return make_pipeline(
        encode, BackdoorDebiasClassifier(sensitive_columns="sex", **FAST)
    )


@pytest.mark.parametrize("drop", ["if_binary", "first"])
def test_a_dropped_one_hot_category_is_named_with_the_fix(drop):
    X, y = _sex_frame()
    with pytest.raises(
        ValueError,
        match=r"sensitive_columns='sex' is read from the one-hot columns "
        r"\['sex__sex_M'\] of X, and 2\d\d rows have none of them set .*the "
        r"encoder dropped a category .*sensitive_columns='sex__sex_M'",
    ):
        _one_hot_pipeline(drop=drop).fit(X, y)


def test_scorer_leaves_out_rows_of_a_category_unseen_in_training():
    """Rows whose category the encoder never saw (handle_unknown='ignore')
    have no group: the scorer says so and scores the other rows, as
    fairlearn scores them."""
    X, y = _sex_frame()
    model = _one_hot_pipeline(handle_unknown="ignore").fit(X, y)
    X_test, y_test = _sex_frame(seed=1)
    X_test.loc[:49, "sex"] = "unknown"
    scorer = fairness_scorer("equalized_odds_difference")
    with pytest.warns(UserWarning, match=r"50 of 400 rows have no group"):
        score = scorer(model, X_test, y_test)
    kept = X_test["sex"] != "unknown"
    expected = equalized_odds_difference(
        y_test[kept],
        model.predict(X_test)[kept],
        sensitive_features=X_test["sex"][kept],
    )
    assert score == pytest.approx(-expected)


def test_a_group_without_weight_takes_no_part_in_the_metrics(fitted):
    clf, X, y, groups = fitted
    groups = np.where(np.arange(len(y)) < 40, "weightless", groups.astype(str))
    weight = np.where(groups == "weightless", 0.0, 1.0)
    rest = groups != "weightless"
    y_pred = clf.predict(X)
    for name in FAIRNESS_METRICS:
        scorer = fairness_scorer(name)
        got = scorer(clf, X, y, sensitive_features=groups, sample_weight=weight)
        expected = scorer(clf, X[rest], y[rest], sensitive_features=groups[rest])
        assert got == pytest.approx(expected), name
    report = fairness_report(y, y_pred, sensitive_features=groups, sample_weight=weight)
    assert "weightless" not in report.index
    expected = fairness_report(y[rest], y_pred[rest], sensitive_features=groups[rest])
    pd.testing.assert_frame_equal(report, expected)


def test_scorer_inputs_of_other_lengths_are_named(fitted):
    clf, X, y, groups = fitted
    scorer = fairness_scorer("equalized_odds_difference")
    with pytest.raises(
        ValueError,
        match=r"different numbers of rows \(y_true 600, y_pred 600, groups 600, "
        r"sample_weight 5\)",
    ):
        scorer(clf, X, y, sensitive_features=groups, sample_weight=np.ones(5))


def test_scorer_reads_the_groups_through_a_fitted_search(fitted):
    _, X, y, groups = fitted
    search = GridSearchCV(
        BackdoorDebiasClassifier(sensitive_columns=[-1], **FAST),
        {"trigger_strength": [0.0]},
        cv=2,
    ).fit(X, y)
    scorer = fairness_scorer("demographic_parity_difference")
    assert scorer(search, X, y) == pytest.approx(
        -demographic_parity_difference(y, search.predict(X), sensitive_features=groups)
    )
