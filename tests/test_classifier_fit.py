"""BackdoorDebiasClassifier: fitted attributes and trigger plans, groups and labels,
pipelines, the network module and its module__ parameters, and pinned predictions."""

import functools

import _helpers_classifier
import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sklearn_dwb import BackdoorDebiasClassifier
from sklearn_dwb.datasets import make_biased_classification
from sklearn_dwb.nn import TabularMLP

# the module-scoped fits of _helpers_classifier, one per test module
student_only = _helpers_classifier.student_only


# ------------------------------------------------------- fit and predict
def test_fit_predict_shapes_and_fitted_attributes(biased_data, student_only):
    X, y, groups = biased_data
    clf = student_only
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert set(np.unique(clf.predict(X))) <= {0, 1}
    np.testing.assert_array_equal(clf.classes_, [0, 1])
    assert clf.n_features_in_ == X.shape[1]
    np.testing.assert_array_equal(clf.groups_, [0, 1])
    counts = pd.crosstab(groups, y).to_numpy()
    np.testing.assert_array_equal(clf.bias_matrix_.to_numpy(), counts)
    assert not hasattr(clf, "teacher_")
    assert clf.student_.module_.layers[0].in_features == X.shape[1]
    # global target, binary, two groups: one stamped cell per group
    plan = clf.trigger_plan_
    assert list(plan.columns) == [
        "group",
        "class",
        "strength",
        "n_rows",
        "stamped_share",
        "n_stamped",
        "probability_shift",
        "flip_rate",
    ]
    assert len(plan) == 2
    assert (plan["strength"] == clf.trigger_strength).all()
    np.testing.assert_array_equal(
        plan["n_stamped"], np.rint(plan["stamped_share"] * plan["n_rows"])
    )
    assert 0.0 <= clf.score(X, y) <= 1.0


def test_nets_output_probabilities_through_an_explicit_softmax(
    biased_data, student_only
):
    X, *_ = biased_data
    logits = student_only.student_.forward(X[:20].astype(np.float32)).numpy()
    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(student_only.predict_proba(X[:20]), expected, rtol=1e-5)


def test_trigger_strength_zero_stamps_nothing(biased_data, fast_params):
    X, y, groups = biased_data
    clf = BackdoorDebiasClassifier(trigger_strength=0, keep_teacher=True, **fast_params)
    clf.fit(X, y, sensitive_features=groups)
    assert clf.trigger_plan_.empty
    # the teacher sees no trigger columns at all and, having no backdoor,
    # serves as the student without a distillation step
    assert clf.teacher_.module_.layers[0].in_features == X.shape[1]
    assert clf.student_ is clf.teacher_


def test_plan_counts_in_fit_follow_the_rate_formula(fast_params):
    X, y, groups = make_biased_classification(
        n_samples=1000,
        n_classes=3,
        n_groups=3,
        n_features=8,
        n_informative=4,
        label_bias=0.4,
        random_state=1,
    )
    clf = BackdoorDebiasClassifier(
        target="balanced", trigger_strength=0.8, keep_teacher=True, **fast_params
    ).fit(X, y, sensitive_features=groups)
    # rows stamped per cell: round(strength * (n - m p) / n * n), p_k = 1/3
    n = pd.crosstab(groups, y).to_numpy().astype(float)
    m = (n * 3).min(axis=1, keepdims=True) / 3
    rate = np.clip(0.8 * (n - m) / n, 0, 1)
    expected = np.rint(rate * n)
    plan = clf.trigger_plan_
    got = np.zeros_like(n)
    got[plan["group"].to_numpy(int), plan["class"].to_numpy(int)] = plan["n_stamped"]
    np.testing.assert_array_equal(got, expected)
    assert clf.teacher_.module_.layers[0].in_features == X.shape[1] + len(plan)
    np.testing.assert_array_equal(
        clf.teacher_trigger_columns_, X.shape[1] + np.arange(len(plan))
    )


def test_negative_strength_stamps_the_other_cells_and_widens_the_gap(fast_params):
    X, y, groups = make_biased_classification(
        n_samples=2000, label_bias=0.5, random_state=0
    )
    selection = {}
    for strength in (-0.8, 0.0, 1.0):
        clf = BackdoorDebiasClassifier(trigger_strength=strength, **fast_params)
        clf.fit(X, y, sensitive_features=groups)
        y_pred = clf.predict(X)
        selection[strength] = [y_pred[groups == g].mean() for g in (0, 1)]
        if strength < 0:
            # each group's cell of the class it has less of is stamped, at
            # 1 - (1 - 0.8 u) for the share u that strength 1 stamps of the
            # other cell (two classes)
            n = pd.crosstab(groups, y).to_numpy().astype(float)
            p = n.sum(axis=0) / n.sum()
            m = (n / p).min(axis=1, keepdims=True)
            unit = (n - m * p) / n
            plan = clf.trigger_plan_
            expected_class = 1 - unit.argmax(axis=1)
            np.testing.assert_array_equal(plan["class"], expected_class)
            np.testing.assert_allclose(
                plan["stamped_share"], 0.8 * unit.max(axis=1), rtol=1e-12
            )
            assert (plan["strength"] == strength).all()
    gap = {s: abs(rates[1] - rates[0]) for s, rates in selection.items()}
    # group 1 has more positive labels: -0.8 widens its selection-rate gap
    assert selection[-0.8][1] > selection[0.0][1] > selection[1.0][1]
    assert gap[-0.8] > gap[0.0] + 0.05 and gap[1.0] < gap[0.0] - 0.05


def test_three_groups_three_classes(fast_params):
    X, y, groups = make_biased_classification(
        n_samples=900, n_classes=3, n_groups=3, label_bias=0.5, random_state=0
    )
    clf = BackdoorDebiasClassifier(**fast_params).fit(X, y, sensitive_features=groups)
    assert clf.bias_matrix_.shape == (3, 3)
    assert clf.predict_proba(X).shape == (900, 3)
    assert set(np.unique(clf.predict(X))) <= {0, 1, 2}
    assert (clf.predict(X) == y).mean() > 0.5  # well above chance (1/3)
    assert len(clf.trigger_plan_) >= 3


def test_string_labels_and_group_labels(biased_data, fast_params):
    X, y, groups = biased_data
    labels = np.where(y == 1, "yes", "no")
    names = np.where(groups == 1, "b", "a")
    clf = BackdoorDebiasClassifier(**fast_params).fit(
        X, labels, sensitive_features=names
    )
    np.testing.assert_array_equal(clf.classes_, ["no", "yes"])
    np.testing.assert_array_equal(clf.groups_, ["a", "b"])
    assert set(clf.predict(X)) <= {"no", "yes"}
    assert set(clf.trigger_plan_["group"]) <= {"a", "b"}


def test_sensitive_columns_by_name_index_and_callable(fast_params):
    X, y, groups = make_biased_classification(
        n_samples=600, as_frame=True, random_state=0
    )
    by_features = BackdoorDebiasClassifier(**fast_params).fit(
        X, y, sensitive_features=groups
    )
    by_name = BackdoorDebiasClassifier(sensitive_columns="group", **fast_params).fit(
        X, y
    )
    by_index = BackdoorDebiasClassifier(sensitive_columns=[-1], **fast_params).fit(
        X.to_numpy(), y
    )
    by_callable = BackdoorDebiasClassifier(
        sensitive_columns=lambda frame: frame["group"], **fast_params
    ).fit(X, y)
    expected = by_features.predict_proba(X)
    for clf in (by_name, by_callable):
        np.testing.assert_array_equal(clf.predict_proba(X), expected)
        np.testing.assert_array_equal(clf.feature_names_in_, X.columns)
    np.testing.assert_array_equal(by_index.predict_proba(X.to_numpy()), expected)


def test_intersectional_groups(fast_params):
    X, y, groups = make_biased_classification(n_samples=800, n_groups=4, random_state=0)
    pair = pd.DataFrame({"sex": groups % 2, "race": groups // 2})
    clf = BackdoorDebiasClassifier(**fast_params).fit(X, y, sensitive_features=pair)
    assert clf.bias_matrix_.index.names == ["sex", "race"]
    assert clf.bias_matrix_.shape == (4, 2)
    assert set(clf.groups_) == {(0, 0), (0, 1), (1, 0), (1, 1)}
    assert clf.bias_matrix_.to_numpy().sum() == 800


def test_sample_weight_in_bias_matrix_and_zero_weight_rows(biased_data, fast_params):
    X, y, groups = biased_data
    weight = np.ones(len(y))
    weight[:100] = 0.0
    weight[100:200] = 2.5
    clf = BackdoorDebiasClassifier(**fast_params).fit(
        X, y, sensitive_features=groups, sample_weight=weight
    )
    expected = pd.crosstab(groups, y, values=weight, aggfunc="sum").to_numpy()
    np.testing.assert_allclose(clf.bias_matrix_.to_numpy(), expected)


def test_pipeline_with_column_transformer(fast_params):
    X, y, groups = make_biased_classification(
        n_samples=600, as_frame=True, random_state=0
    )
    X = X.assign(colour=np.where(groups == 1, "red", "blue"))
    pipe = make_pipeline(
        ColumnTransformer(
            [("cat", OneHotEncoder(), ["colour"])], remainder=StandardScaler()
        ),
        BackdoorDebiasClassifier(**fast_params),
    )
    pipe.fit(X, y, backdoordebiasclassifier__sensitive_features=groups)
    assert pipe.predict(X).shape == (600,)
    assert pipe[-1].n_features_in_ == X.shape[1] + 1  # colour -> 2 one-hot columns


def test_early_stopping_stops_early_and_keeps_the_fit(biased_data, fast_params):
    X, y, groups = biased_data
    params = {**fast_params, "max_epochs": 200, "n_iter_no_change": 2}
    clf = BackdoorDebiasClassifier(**params).fit(X, y, sensitive_features=groups)
    assert 2 < len(clf.student_.history) < 200  # stopped early, still fitted
    assert (clf.predict(X) == y).mean() > 0.6


# ------------------------------------------------------ the network module
def test_custom_module(biased_data, fast_params):
    class Linear(torch.nn.Module):
        def __init__(self, n_features, n_classes, bias=True):
            super().__init__()
            self.linear = torch.nn.Linear(n_features, n_classes, bias=bias)

        def forward(self, X):
            return self.linear(X)

    X, y, groups = biased_data
    params = {**fast_params, "max_epochs": 60, "lr": 1e-2}
    clf = BackdoorDebiasClassifier(module=Linear, module__bias=False, **params).fit(
        X, y, sensitive_features=groups
    )
    assert isinstance(clf.student_.module_, Linear)
    assert clf.student_.module_.linear.bias is None
    assert (clf.predict(X) == y).mean() > 0.6


def test_module_keyword_arguments_route_like_skorch(biased_data, fast_params):
    X, y, groups = biased_data
    clf = BackdoorDebiasClassifier(module__hidden_layer_sizes=(8, 4), **fast_params)
    assert clf.get_params()["module__hidden_layer_sizes"] == (8, 4)
    clf.set_params(module__hidden_layer_sizes=(6,), module__dropout=0.0)
    copy_ = clone(clf)
    assert copy_.get_params()["module__hidden_layer_sizes"] == (6,)
    assert "module__hidden_layer_sizes=(6,)" in repr(copy_)
    copy_.fit(X, y, sensitive_features=groups)
    widths = [
        m.out_features
        for m in copy_.student_.module_.modules()
        if hasattr(m, "out_features")
    ]
    assert widths == [6, 2]
    with pytest.raises(TypeError, match="prefixed with 'module__'"):
        BackdoorDebiasClassifier(hidden=3)
    # a mistyped parameter: the closest name
    for typo, meant in [("max_epoch", "max_epochs"), ("dropuot", "dropout")]:
        with pytest.raises(TypeError, match=f"did you mean '{meant}'"):
            BackdoorDebiasClassifier(**{typo: 3})


def test_module_as_partial_and_grid_searched_width(biased_data, fast_params):
    X, y, groups = biased_data
    module = functools.partial(TabularMLP, activation="tanh")
    search = GridSearchCV(
        BackdoorDebiasClassifier(module=module, sensitive_columns=[-1], **fast_params),
        {"module__hidden_layer_sizes": [(4,), (16,)]},
        cv=2,
    ).fit(X, y)
    assert len(search.cv_results_["params"]) == 2
    best = search.best_estimator_.student_.module_
    assert isinstance(best.layers[1], torch.nn.Tanh)
    assert (
        best.layers[0].out_features
        == search.best_params_["module__hidden_layer_sizes"][0]
    )


def test_module_instance_is_refused(biased_data):
    X, y, groups = biased_data
    clf = BackdoorDebiasClassifier(module=TabularMLP(X.shape[1], 2))
    with pytest.raises(ValueError, match="not an instance"):
        clf.fit(X, y, sensitive_features=groups)


# Predicted probabilities of class 1 for the first rows, computed with the
# estimator as released in 0.1.0.dev0: a refactor must not move them.
PINNED_PROBABILITIES = {
    "global, strength 1": (
        dict(trigger_strength=1.0),
        [0.432982419, 0.578585250, 0.295117915, 0.714209041, 0.402104205, 0.252824463],
    ),
    "balanced, strength 0.5, distill_weight 0.7": (
        dict(trigger_strength=0.5, target="balanced", distill_weight=0.7),
        [0.445372386, 0.602760154, 0.332229237, 0.697997826, 0.417653424, 0.279590070],
    ),
    "auto, EOD": (
        dict(trigger_strength="auto", auto_metric="equalized_odds_difference"),
        [0.436848700, 0.575806243, 0.303578633, 0.699692288, 0.407969927, 0.266048827],
    ),
    # the two bounded searches were pinned again when the dial gained
    # negative strengths ([-1, 2], was [0, 2]); cv=None is the single dose
    # teacher
    "auto, EOD <= 0.35, one dose teacher": (
        dict(
            trigger_strength="auto",
            auto_metric="equalized_odds_difference",
            max_disparity=0.35,
            cv=None,
            confidence=None,
        ),
        [0.487549334, 0.602643633, 0.521189467, 0.662283421, 0.455481963, 0.374352675],
    ),
    "auto, EOD <= 0.35, cross-fitted (cv=5)": (
        dict(
            trigger_strength="auto",
            auto_metric="equalized_odds_difference",
            max_disparity=0.35,
            confidence=None,
        ),
        [0.508497879, 0.599063057, 0.537499921, 0.660909414, 0.475634575, 0.409763056],
    ),
}


@pytest.mark.parametrize("name", list(PINNED_PROBABILITIES))
def test_predictions_are_pinned(name, fast_params):
    params, expected = PINNED_PROBABILITIES[name]
    X, y, groups = make_biased_classification(
        n_samples=600, label_bias=0.4, random_state=0
    )
    clf = BackdoorDebiasClassifier(**fast_params, **params)
    clf.fit(X, y, sensitive_features=groups)
    np.testing.assert_allclose(clf.predict_proba(X[:6])[:, 1], expected, atol=1e-6)
