"""API and behaviour of BackdoorDebiasClassifier."""

import functools
import pickle
import warnings

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


def test_fit_predict_shapes_and_fitted_attributes(biased_data, fast_params):
    X, y, groups = biased_data
    clf = BackdoorDebiasClassifier(**fast_params).fit(X, y, sensitive_features=groups)
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
        "group", "class", "n_rows", "rate", "n_stamped", "trigger_column",
        "probability_shift", "flip_rate",
    ]  # fmt: skip
    assert len(plan) == 2
    np.testing.assert_array_equal(plan["n_stamped"], np.rint(plan["rate"] * plan["n_rows"]))
    assert 0.0 <= clf.score(X, y) <= 1.0


def test_trigger_strength_zero_stamps_nothing(biased_data, fast_params):
    X, y, groups = biased_data
    clf = BackdoorDebiasClassifier(trigger_strength=0, keep_teacher=True, **fast_params)
    clf.fit(X, y, sensitive_features=groups)
    assert clf.trigger_plan_.empty
    # the teacher sees no trigger columns at all and, having no backdoor,
    # serves as the student without a distillation step
    assert clf.teacher_.module_.layers[0].in_features == X.shape[1]
    assert clf.student_ is clf.teacher_


def test_plan_counts_in_fit_match_design(fast_params):
    X, y, groups = make_biased_classification(
        n_samples=1000, n_classes=3, n_groups=3, n_features=8, n_informative=4,
        label_bias=0.4, random_state=1,
    )  # fmt: skip
    clf = BackdoorDebiasClassifier(
        target="balanced", trigger_strength=0.8, keep_teacher=True, **fast_params
    ).fit(X, y, sensitive_features=groups)
    n = pd.crosstab(groups, y).to_numpy().astype(float)
    m = (n * 3).min(axis=1, keepdims=True) / 3  # p_k = 1/3
    rate = np.clip(0.8 * (n - m) / n, 0, 1)
    expected = np.rint(rate * n)
    plan = clf.trigger_plan_
    got = np.zeros_like(n)
    got[plan["group"].to_numpy(int), plan["class"].to_numpy(int)] = plan["n_stamped"]
    np.testing.assert_array_equal(got, expected)
    assert clf.teacher_.module_.layers[0].in_features == X.shape[1] + len(plan)
    np.testing.assert_array_equal(
        plan["trigger_column"], X.shape[1] + np.arange(len(plan))
    )


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
    clf = BackdoorDebiasClassifier(**fast_params).fit(X, labels, sensitive_features=names)
    np.testing.assert_array_equal(clf.classes_, ["no", "yes"])
    np.testing.assert_array_equal(clf.groups_, ["a", "b"])
    assert set(clf.predict(X)) <= {"no", "yes"}
    assert set(clf.trigger_plan_["group"]) <= {"a", "b"}


def test_same_seed_same_predictions_and_global_rng_untouched(biased_data, fast_params):
    X, y, groups = biased_data
    torch.manual_seed(123)
    state = torch.get_rng_state()
    first = BackdoorDebiasClassifier(**fast_params).fit(X, y, sensitive_features=groups)
    assert torch.equal(torch.get_rng_state(), state)
    second = BackdoorDebiasClassifier(**fast_params).fit(X, y, sensitive_features=groups)
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    other = BackdoorDebiasClassifier(**{**fast_params, "random_state": 1})
    other.fit(X, y, sensitive_features=groups)
    assert not np.array_equal(first.predict_proba(X), other.predict_proba(X))


def test_sensitive_columns_by_name_index_and_callable(fast_params):
    X, y, groups = make_biased_classification(
        n_samples=600, as_frame=True, random_state=0
    )
    by_features = BackdoorDebiasClassifier(**fast_params).fit(
        X, y, sensitive_features=groups
    )
    by_name = BackdoorDebiasClassifier(sensitive_columns="group", **fast_params).fit(X, y)
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


def test_teacher_kept_only_on_request(biased_data, fast_params):
    X, y, groups = biased_data
    clf = BackdoorDebiasClassifier(keep_teacher=True, **fast_params)
    clf.fit(X, y, sensitive_features=groups)
    n_triggers = len(clf.trigger_plan_)
    assert clf.teacher_.module_.layers[0].in_features == X.shape[1] + n_triggers
    clf.set_params(keep_teacher=False).fit(X, y, sensitive_features=groups)
    assert not hasattr(clf, "teacher_")
    # nothing of the teacher or of the training rows ships with the model
    state = pickle.dumps(clf)
    assert b"teacher_logits" not in state and b"teacher_" not in state
    assert clf.student_.train_split is None


def test_salient_trigger_is_learned_weak_one_is_reported(biased_data, fast_params):
    X, y, groups = biased_data
    strong = BackdoorDebiasClassifier(**fast_params).fit(X, y, sensitive_features=groups)
    assert strong.trigger_plan_["flip_rate"].min() >= 0.9
    assert strong.trigger_plan_["probability_shift"].min() > 0.3
    weak = BackdoorDebiasClassifier(
        trigger_value=0.01, **{**fast_params, "max_epochs": 3}
    )
    with pytest.warns(UserWarning, match="barely responds to its triggers"):
        weak.fit(X, y, sensitive_features=groups)
    assert weak.trigger_plan_["flip_rate"].max() < 0.5


def test_custom_module(biased_data, fast_params):
    class Linear(torch.nn.Module):
        def __init__(self, n_features, n_classes, bias=True):
            super().__init__()
            self.linear = torch.nn.Linear(n_features, n_classes, bias=bias)

        def forward(self, X):
            return self.linear(X)

    X, y, groups = biased_data
    params = {**fast_params, "max_epochs": 60, "lr": 1e-2}
    clf = BackdoorDebiasClassifier(
        module=Linear, module__bias=False, **params
    ).fit(X, y, sensitive_features=groups)
    assert isinstance(clf.student_.module_, Linear)
    assert clf.student_.module_.linear.bias is None
    assert (clf.predict(X) == y).mean() > 0.6


def test_pickle_round_trip_and_cpu_device(biased_data, fast_params):
    X, y, groups = biased_data
    clf = BackdoorDebiasClassifier(**fast_params).fit(X, y, sensitive_features=groups)
    assert clf.student_.device == ("cuda" if torch.cuda.is_available() else "cpu")
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))


def test_pipeline_with_column_transformer(fast_params):
    X, y, groups = make_biased_classification(n_samples=600, as_frame=True, random_state=0)
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


def test_caller_data_not_modified(biased_data, fast_params):
    X, y, groups = biased_data
    X32 = X.astype(np.float32)
    copies = X32.copy(), y.copy(), groups.copy()
    weight = np.ones(len(y))
    BackdoorDebiasClassifier(**fast_params).fit(
        X32, y, sensitive_features=groups, sample_weight=weight
    )
    np.testing.assert_array_equal(X32, copies[0])
    np.testing.assert_array_equal(y, copies[1])
    np.testing.assert_array_equal(groups, copies[2])
    np.testing.assert_array_equal(weight, 1.0)


@pytest.mark.parametrize(
    "kwargs, fit_kwargs, message",
    [
        ({}, {}, "No groups given"),
        ({"sensitive_columns": 0}, {"sensitive_features": "groups"}, "Groups given twice"),
        ({}, {"sensitive_features": "one_group"}, "Only one group"),
        ({}, {"sensitive_features": "short"}, "sensitive features have 10 rows"),
        ({"sensitive_columns": 99}, {}, "out of range"),
        ({"sensitive_columns": "sex"}, {}, "without column names"),
        ({}, {"sensitive_features": "missing"}, "missing values"),
        ({"max_groups": 5}, {"sensitive_features": "continuous"}, "likely continuous"),
        ({}, {"sensitive_features": "groups", "sample_weight": "negative"}, "Negative values"),
        ({}, {"sensitive_features": "groups", "sample_weight": "zeros"}, "at least one non-zero"),
        ({"hidden_layer_sizes": (8, 0)}, {"sensitive_features": "groups"}, "positive integers"),
    ],
)
def test_bad_input_errors(biased_data, kwargs, fit_kwargs, message):
    X, y, groups = biased_data
    values = {
        "groups": groups,
        "one_group": np.zeros(len(y)),
        "short": groups[:10],
        "missing": np.where(np.arange(len(y)) == 3, np.nan, groups),
        "continuous": np.arange(len(y)),
        "negative": np.where(np.arange(len(y)) == 0, -1.0, 1.0),
        "zeros": np.zeros(len(y)),
    }
    fit_kwargs = {key: values[value] for key, value in fit_kwargs.items()}
    with pytest.raises(ValueError, match=message):
        BackdoorDebiasClassifier(max_epochs=1, **kwargs).fit(X, y, **fit_kwargs)


def test_non_numeric_x_hints_column_transformer(biased_data):
    X, y, groups = biased_data
    frame = pd.DataFrame(X).assign(city=np.where(groups == 1, "x", "y"))
    frame.columns = frame.columns.astype(str)
    with pytest.raises(ValueError, match="non-numeric columns.*ColumnTransformer"):
        BackdoorDebiasClassifier(max_epochs=1).fit(frame, y, sensitive_features=groups)


def test_unknown_column_name_and_length_mismatch():
    X, y, groups = make_biased_classification(n_samples=200, as_frame=True, random_state=0)
    with pytest.raises(ValueError, match="'sex', which is not a column of X"):
        BackdoorDebiasClassifier(sensitive_columns="sex", max_epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        BackdoorDebiasClassifier(max_epochs=1).fit(X, y[:-1], sensitive_features=groups)


def test_single_class_and_bad_parameters(biased_data):
    X, y, groups = biased_data
    with pytest.raises(ValueError, match="only one class"):
        BackdoorDebiasClassifier().fit(X, np.zeros(len(y)), sensitive_features=groups)
    with pytest.raises(ValueError, match="trigger_strength"):
        BackdoorDebiasClassifier(trigger_strength=-1).fit(X, y, sensitive_features=groups)
    with pytest.raises(ValueError, match="target"):
        BackdoorDebiasClassifier(target="fair").fit(X, y, sensitive_features=groups)


def test_group_missing_a_class_warns(biased_data, fast_params):
    X, y, groups = biased_data
    groups = groups.copy()
    groups[(groups == 0) & (y == 1)] = 2  # group 2 holds only class 1
    groups[(groups == 1) & (y == 1)][:5] = 0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf = BackdoorDebiasClassifier(**fast_params).fit(X, y, sensitive_features=groups)
    assert any("lack at least one class" in str(w.message) for w in caught)
    assert 0 not in set(clf.trigger_plan_["group"])  # group 0 has only class 0
    assert 2 not in set(clf.trigger_plan_["group"])


def test_model_saved_from_cuda_loads_on_cpu(biased_data, fast_params):
    # skorch maps CUDA tensors to the CPU when unpickling on a machine
    # without a GPU; simulate a CUDA-trained student by its device setting.
    X, y, groups = biased_data
    clf = BackdoorDebiasClassifier(**fast_params).fit(X, y, sensitive_features=groups)
    expected = clf.predict_proba(X)
    clf.student_.device = "cuda"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        restored = pickle.loads(pickle.dumps(clf))
    if not torch.cuda.is_available():
        assert torch.device(restored.student_.device).type == "cpu"
    np.testing.assert_allclose(restored.predict_proba(X), expected, rtol=1e-5)


def test_early_stopping_stops_early_and_keeps_the_fit(biased_data):
    X, y, groups = biased_data
    clf = BackdoorDebiasClassifier(
        hidden_layer_sizes=(32,), max_epochs=200, n_iter_no_change=2, random_state=0
    ).fit(X, y, sensitive_features=groups)
    for net in (clf.student_,):
        assert 2 < len(net.history) < 200  # stopped by early stopping, still fitted
    assert (clf.predict(X) == y).mean() > 0.6


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


def test_module_keyword_arguments_route_like_skorch(biased_data, fast_params):
    X, y, groups = biased_data
    clf = BackdoorDebiasClassifier(module__hidden_layer_sizes=(8, 4), **fast_params)
    assert clf.get_params()["module__hidden_layer_sizes"] == (8, 4)
    clf.set_params(module__hidden_layer_sizes=(6,), module__dropout=0.0)
    copy = clone(clf)
    assert copy.get_params()["module__hidden_layer_sizes"] == (6,)
    assert "module__hidden_layer_sizes=(6,)" in repr(copy)
    copy.fit(X, y, sensitive_features=groups)
    widths = [m.out_features for m in copy.student_.module_.modules() if hasattr(m, "out_features")]
    assert widths == [6, 2]
    with pytest.raises(TypeError, match="prefixed with 'module__'"):
        BackdoorDebiasClassifier(hidden=3)


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
    assert best.layers[0].out_features == search.best_params_["module__hidden_layer_sizes"][0]


def test_module_instance_is_refused(biased_data):
    X, y, groups = biased_data
    clf = BackdoorDebiasClassifier(module=TabularMLP(X.shape[1], 2))
    with pytest.raises(ValueError, match="not an instance"):
        clf.fit(X, y, sensitive_features=groups)


def test_nets_output_probabilities_through_an_explicit_softmax(biased_data, fast_params):
    X, y, groups = biased_data
    clf = BackdoorDebiasClassifier(**fast_params).fit(X, y, sensitive_features=groups)
    logits = clf.student_.forward(X[:20].astype(np.float32)).numpy()
    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(clf.predict_proba(X[:20]), expected, rtol=1e-5)
