"""Fairness scorers, fair_refit, grid search with and without routing, auto strength."""

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
from sklearn.compose import ColumnTransformer
from sklearn.metrics import accuracy_score
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sklearn_dwb import BackdoorDebiasClassifier
from sklearn_dwb.datasets import make_biased_classification
from sklearn_dwb.metrics import fairness_report, fairness_scorer
from sklearn_dwb.model_selection import fair_refit


@pytest.fixture(scope="module")
def fitted():
    X, y, groups = make_biased_classification(n_samples=600, random_state=0)
    clf = BackdoorDebiasClassifier(
        sensitive_columns=[-1], hidden_layer_sizes=(16,), max_epochs=10, random_state=0
    ).fit(X, y)
    return clf, X, y, groups


def _gaps(y, y_pred, groups):
    frame = MetricFrame(
        metrics={"tpr": true_positive_rate, "fpr": false_positive_rate},
        y_true=y, y_pred=y_pred, sensitive_features=groups,
    )  # fmt: skip
    return frame.difference()


def test_scorers_equal_fairlearn(fitted):
    clf, X, y, groups = fitted
    y_pred = clf.predict(X)
    gaps = _gaps(y, y_pred, groups)
    cells = pd.DataFrame({"g": groups, "y": y})
    expected = {
        "equalized_odds_difference": -equalized_odds_difference(y, y_pred, sensitive_features=groups),
        "demographic_parity_difference": -demographic_parity_difference(y, y_pred, sensitive_features=groups),
        "equal_opportunity_difference": -equal_opportunity_difference(y, y_pred, sensitive_features=groups),
        "average_odds_difference": -(gaps["tpr"] + gaps["fpr"]) / 2,
        "group_balanced_accuracy": MetricFrame(
            metrics=accuracy_score, y_true=y, y_pred=y_pred, sensitive_features=cells
        ).by_group.mean(),
    }  # fmt: skip
    for name, value in expected.items():
        scorer = fairness_scorer(name)
        # groups from the estimator's sensitive_columns, and passed explicitly
        assert scorer(clf, X, y) == pytest.approx(value, abs=1e-12)
        assert scorer(clf, X, y, sensitive_features=groups) == pytest.approx(value, abs=1e-12)
    assert expected["equalized_odds_difference"] < 0  # disparities are negated


def test_unknown_metric_and_no_groups(fitted):
    clf, X, y, groups = fitted
    with pytest.raises(ValueError, match="Unknown fairness metric"):
        fairness_scorer("parity")
    plain = BackdoorDebiasClassifier(max_epochs=2).fit(X, y, sensitive_features=groups)
    with pytest.raises(ValueError, match="no sensitive_columns"):
        fairness_scorer("equalized_odds_difference")(plain, X, y)


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


CV_RESULTS = {
    "mean_test_accuracy": np.array([0.86, 0.85, 0.84, 0.80]),
    "mean_test_eod": np.array([-0.09, -0.045, -0.02, -0.01]),
}


@pytest.mark.parametrize("bound, expected", [(0.05, 1), (0.02, 2), (0.1, 0), (0.01, 3)])
def test_fair_refit_picks_most_accurate_within_bound(bound, expected):
    refit = fair_refit(disparity="eod", performance="accuracy", max_disparity=bound)
    assert refit(CV_RESULTS) == expected


def test_fair_refit_falls_back_to_least_disparate():
    refit = fair_refit(disparity="eod", performance="accuracy", max_disparity=0.001)
    with pytest.warns(UserWarning, match="No candidate"):
        assert refit(CV_RESULTS) == 3
    with pytest.raises(KeyError, match="mean_test_dpd"):
        fair_refit(disparity="dpd", performance="accuracy", max_disparity=0.1)(CV_RESULTS)


def _scoring():
    return {
        "accuracy": "accuracy",
        "dpd": fairness_scorer("demographic_parity_difference"),
    }


GRID = {"trigger_strength": [0.0, 1.0]}
FAST = dict(hidden_layer_sizes=(32,), max_epochs=40, batch_size=64, random_state=0)


def test_grid_search_with_metadata_routing():
    X, y, groups = make_biased_classification(n_samples=900, label_bias=0.5, random_state=0)
    with sklearn.config_context(enable_metadata_routing=True):
        clf = BackdoorDebiasClassifier(**FAST).set_fit_request(sensitive_features=True)
        search = GridSearchCV(
            make_pipeline(StandardScaler(), clf),
            {f"backdoordebiasclassifier__{k}": v for k, v in GRID.items()},
            scoring=_scoring(),
            refit=fair_refit(disparity="dpd", performance="accuracy", max_disparity=0.2),
            cv=3,
        ).fit(X, y, sensitive_features=groups)
    dpd = -search.cv_results_["mean_test_dpd"]
    assert dpd[1] < 0.5 * dpd[0]  # strength 1 removes most of the parity gap
    assert search.best_params_ == {"backdoordebiasclassifier__trigger_strength": 1.0}
    assert search.best_estimator_[-1].trigger_strength_ == 1.0


def test_grid_search_without_routing_on_a_dataframe_pipeline():
    X, y, groups = make_biased_classification(
        n_samples=900, label_bias=0.5, as_frame=True, random_state=0
    )
    X = X.assign(sex=np.where(groups == 1, "male", "female")).drop(columns="group")
    encoder = ColumnTransformer(
        [("sex", OneHotEncoder(drop="first", sparse_output=False), ["sex"])],
        remainder=StandardScaler(),
        verbose_feature_names_out=False,
    ).set_output(transform="pandas")
    pipe = make_pipeline(encoder, BackdoorDebiasClassifier(sensitive_columns="sex_male", **FAST))
    search = GridSearchCV(
        pipe,
        {f"backdoordebiasclassifier__{k}": v for k, v in GRID.items()},
        scoring=_scoring(),
        refit=fair_refit(disparity="dpd", performance="accuracy", max_disparity=0.1),
        cv=3,
    ).fit(X, y)
    dpd = -search.cv_results_["mean_test_dpd"]
    assert dpd[1] < 0.5 * dpd[0]
    assert search.best_index_ == 1
    # the scorer read the groups from X as it reached the classifier
    y_pred = search.predict(X)
    assert fairness_scorer("demographic_parity_difference")(search.best_estimator_, X, y) == (
        pytest.approx(-demographic_parity_difference(y, y_pred, sensitive_features=groups))
    )


def test_auto_strength_follows_its_rule():
    X, y, groups = make_biased_classification(n_samples=1500, label_bias=0.5, random_state=0)
    clf = BackdoorDebiasClassifier(trigger_strength="auto", random_state=0, max_epochs=30)
    clf.fit(X, y, sensitive_features=groups)
    search = clf.strength_search_
    assert list(search["trigger_strength"]) == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert search["selected"].sum() == 1
    chosen = search[search["selected"]].iloc[0]
    assert clf.trigger_strength_ == chosen["trigger_strength"]
    eligible = search[search["accuracy"] >= search["accuracy"].max() - clf.auto_tolerance]
    assert chosen["demographic_parity_difference"] == eligible["demographic_parity_difference"].min()
    # on this strongly biased task the search trades little accuracy for parity
    assert clf.trigger_strength_ > 0
    assert chosen["demographic_parity_difference"] < search.loc[0, "demographic_parity_difference"]


def test_intersectional_groups_in_report_and_scorer(fitted):
    clf, X, y, groups = fitted
    y_pred = clf.predict(X)
    pair = pd.DataFrame({"g": groups, "half": np.arange(len(y)) % 2})
    joined = pair.astype(str).agg(", ".join, axis=1)
    expected = demographic_parity_difference(y, y_pred, sensitive_features=joined)
    report = fairness_report(y, y_pred, sensitive_features=pair)
    assert len(report) == 4 + 2  # four intersectional groups, overall, difference
    assert report.attrs["disparities"]["demographic_parity_difference"] == pytest.approx(
        expected, abs=1e-12
    )
    scorer = fairness_scorer("demographic_parity_difference")
    assert scorer(clf, X, y, sensitive_features=pair) == pytest.approx(-expected, abs=1e-12)


def test_fairlearn_takes_several_sensitive_columns_as_intersectional_groups():
    rng = np.random.default_rng(0)
    y, y_pred = rng.integers(0, 2, 300), rng.integers(0, 2, 300)
    pair = pd.DataFrame({"a": rng.choice(["x", "y"], 300), "b": rng.integers(0, 3, 300)})
    joined = pair.astype(str).agg(", ".join, axis=1)
    for metric in (
        equalized_odds_difference,
        demographic_parity_difference,
        equal_opportunity_difference,
    ):
        assert metric(y, y_pred, sensitive_features=pair) == pytest.approx(
            metric(y, y_pred, sensitive_features=joined), abs=1e-12
        )


def test_scorer_gives_identical_cv_results_with_routing_on_and_off():
    X, y, groups = make_biased_classification(n_samples=400, random_state=0)

    def search(routing):
        clf = BackdoorDebiasClassifier(
            sensitive_columns=[-1], hidden_layer_sizes=(8,), max_epochs=5, random_state=0
        )
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


def test_package_layering():
    """The core estimator builds on no user-facing module and no private scorer."""
    import sklearn_dwb

    root = Path(sklearn_dwb.__file__).parent
    for path in root.rglob("*.py"):
        assert "sklearn.metrics._scorer" not in path.read_text(), path
    classifier = (root / "_classifier.py").read_text()
    assert "metrics" not in classifier.split('"""', 2)[0] + classifier.split("class ")[0]
    disparity = (root / "_disparity.py").read_text()
    assert "from ." not in disparity and "import sklearn_dwb" not in disparity
