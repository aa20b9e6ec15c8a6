"""BackdoorDebiasClassifier: fitted attributes, module__ parameters, pinned
predictions, persistence, the caller's data, bad input, determinism (also in
threads), diverged fits, interrupts and the backdoor that never ships."""

import copy
import functools
import io
import pickle
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor

import joblib
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from conftest import FAST, biased_classification
from sklearn_dwb import BackdoorDebiasClassifier
from sklearn_dwb._trigger import append_triggers
from sklearn_dwb.datasets import make_biased_classification
from sklearn_dwb.nn import TabularMLP


@pytest.fixture(scope="module")
def student_only():
    """The default fit of the task of ``biased_data``: no teacher kept."""
    X, y, groups = biased_classification()
    return BackdoorDebiasClassifier(**FAST).fit(X, y, sensitive_features=groups)


@pytest.fixture(scope="module")
def with_teacher():
    """The same fit with ``keep_teacher=True``."""
    X, y, groups = biased_classification()
    return BackdoorDebiasClassifier(keep_teacher=True, **FAST).fit(
        X, y, sensitive_features=groups
    )


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


# ---------------------------------------------------------- persistence
def test_pickle_and_joblib_round_trips_on_the_fit_device(biased_data, student_only):
    X, *_ = biased_data
    clf = student_only
    assert clf.student_.device == ("cuda" if torch.cuda.is_available() else "cpu")
    expected = clf.predict_proba(X)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), expected)
    buffer = io.BytesIO()
    joblib.dump(clf, buffer)
    buffer.seek(0)
    np.testing.assert_array_equal(joblib.load(buffer).predict_proba(X), expected)


def test_model_saved_from_cuda_loads_on_cpu(biased_data, student_only):
    # skorch maps CUDA tensors to the CPU when unpickling on a machine
    # without a GPU; simulate a CUDA-trained student by its device setting.
    X, *_ = biased_data
    clf = copy.deepcopy(student_only)
    expected = clf.predict_proba(X)
    clf.student_.device = "cuda"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        restored = pickle.loads(pickle.dumps(clf))
    if not torch.cuda.is_available():
        assert torch.device(restored.student_.device).type == "cpu"
    np.testing.assert_allclose(restored.predict_proba(X), expected, rtol=1e-5)


def _tensor_shapes(obj):
    """Shapes of every tensor held by the pickled state of ``obj``."""
    state = pickle.loads(pickle.dumps(obj))
    return [
        tuple(p.shape)
        for net in vars(state).values()
        if hasattr(net, "module_")
        for p in net.module_.parameters()
    ]


def test_pickled_model_holds_no_teacher_or_trigger_columns(
    biased_data, student_only, with_teacher
):
    X, *_ = biased_data
    n_features, n_triggers = X.shape[1], len(with_teacher.trigger_plan_)
    assert n_triggers == 2
    state = pickle.loads(pickle.dumps(student_only))
    assert not hasattr(state, "teacher_")
    first_layers = [
        s for s in _tensor_shapes(student_only) if len(s) == 2 and s[1] != 32
    ]
    assert first_layers == [(32, n_features)]  # the student's input layer only
    # with keep_teacher=True the backdoored teacher is there, trigger inputs and all
    assert (32, n_features + n_triggers) in _tensor_shapes(with_teacher)


def test_teacher_kept_only_on_request(biased_data, with_teacher):
    X, y, groups = biased_data
    n_triggers = len(with_teacher.trigger_plan_)
    assert (
        with_teacher.teacher_.module_.layers[0].in_features == X.shape[1] + n_triggers
    )
    clf = copy.deepcopy(with_teacher)
    clf.set_params(keep_teacher=False).fit(X, y, sensitive_features=groups)
    assert not hasattr(clf, "teacher_")
    # nothing of the teacher or of the training rows ships with the model
    state = pickle.dumps(clf)
    assert b"teacher_logits" not in state and b"teacher_" not in state
    assert clf.student_.train_split is None


def test_kept_dose_teachers_hold_no_training_rows(fast_params):
    """The folds' dose teachers kept with keep_teacher=True ship no per-row
    data (the dose sampler with each row's group, cell and rank, the
    validation rows): a model fitted on ten times the rows pickles to the
    same size."""
    sizes = []
    for n_samples in (300, 3000):
        X, y, g = make_biased_classification(n_samples=n_samples, random_state=0)
        clf = BackdoorDebiasClassifier(
            trigger_strength="auto",
            max_disparity=0.2,
            keep_teacher=True,
            **{**fast_params, "max_epochs": 2},
        ).fit(X, y, sensitive_features=g)
        assert len(clf.teacher_) == 5
        for teacher in clf.teacher_:
            assert teacher.iterator_train__epoch_transform is None
            assert teacher.train_split is None
        sizes.append(len(pickle.dumps(clf)))
    # the dose samplers alone held about 40 bytes per row and teacher (over
    # 400 kB more here); what grows is the training history's per-batch
    # losses (about 9 kB)
    assert abs(sizes[1] - sizes[0]) < 20_000


# ----------------------------------------------------- the caller's data
def _assert_unchanged(original, kept):
    if isinstance(original, pd.DataFrame):
        pd.testing.assert_frame_equal(original, kept)
    elif isinstance(original, pd.Series):
        pd.testing.assert_series_equal(original, kept)
    else:
        np.testing.assert_array_equal(original, kept)
        assert original.dtype == kept.dtype


@pytest.mark.parametrize("container", ["arrays", "frames"])
def test_caller_data_not_modified(biased_data, fast_params, container):
    X, y, groups = biased_data
    weight = np.ones(len(y))
    if container == "arrays":
        X = X.astype(np.float32)  # the nets' dtype: X is used without conversion
    else:
        X = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
        y, groups = pd.Series(y, name="y"), pd.Series(groups, name="g")
        weight = pd.Series(weight, name="w")
    given = X, y, groups, weight
    kept = tuple(value.copy() for value in given)
    BackdoorDebiasClassifier(**fast_params).fit(
        X, y, sensitive_features=groups, sample_weight=weight
    )
    for original, copy_ in zip(given, kept, strict=True):
        _assert_unchanged(original, copy_)
    np.testing.assert_array_equal(weight, 1.0)


# ------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    "kwargs, fit_kwargs, message",
    [
        ({}, {}, "No groups given"),
        (
            {"sensitive_columns": 0},
            {"sensitive_features": "groups"},
            "Groups given twice",
        ),
        ({}, {"sensitive_features": "one_group"}, "Only one group"),
        ({}, {"sensitive_features": "short"}, "sensitive features have 10 rows"),
        ({"sensitive_columns": 99}, {}, "out of range"),
        ({"sensitive_columns": "sex"}, {}, "without column names"),
        ({}, {"sensitive_features": "missing"}, "missing values"),
        ({"max_groups": 5}, {"sensitive_features": "continuous"}, "likely continuous"),
        (
            {},
            {"sensitive_features": "groups", "sample_weight": "negative"},
            "Negative values",
        ),
        (
            {},
            {"sensitive_features": "groups", "sample_weight": "zeros"},
            "at least one non-zero",
        ),
        (
            {},
            {"sensitive_features": "groups", "sample_weight": "ten_ones"},
            r"sample_weight.shape == \(10,\)",
        ),
        (
            {},
            {"sensitive_features": "groups", "sample_weight": "all_nan"},
            "sample_weight contains NaN",
        ),
        (
            {"hidden_layer_sizes": (8, 0)},
            {"sensitive_features": "groups"},
            "positive integers",
        ),
        (
            {"hidden_layer_sizes": (True,)},
            {"sensitive_features": "groups"},
            r"positive integers, e.g. \(64, 64\); got \(True,\)",
        ),
        (
            {"module__hidden_layer_sizes": (16, False)},
            {"sensitive_features": "groups"},
            "positive integers",
        ),
        ({"sensitive_columns": [False, True]}, {}, "sensitive_columns holds booleans"),
        ({"sensitive_columns": True}, {}, "sensitive_columns holds booleans"),
        ({}, {"sensitive_features": "a_string"}, "sensitive_features is the string"),
        ({}, {"sensitive_features": "a_dict"}, "sensitive_features is a dict"),
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
        "ten_ones": np.ones(10),
        "all_nan": np.full(len(y), np.nan),
        "a_string": "group",
        "a_dict": {"group": groups},
    }
    fit_kwargs = {key: values[value] for key, value in fit_kwargs.items()}
    with pytest.raises(ValueError, match=message):
        BackdoorDebiasClassifier(max_epochs=1, **kwargs).fit(X, y, **fit_kwargs)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_or_inf_in_X(biased_data, bad):
    X, y, groups = biased_data
    X[3, 2] = bad
    with pytest.raises(ValueError, match="Input X contains (NaN|infinity)"):
        BackdoorDebiasClassifier(max_epochs=1).fit(X, y, sensitive_features=groups)


def test_sparse_X_is_refused_with_the_fix(biased_data):
    X, y, groups = biased_data
    with pytest.raises(TypeError, match=r"dense data is required.*toarray"):
        BackdoorDebiasClassifier(max_epochs=1).fit(
            sp.csr_matrix(X), y, sensitive_features=groups
        )


def test_non_numeric_x_hints_column_transformer(biased_data):
    X, y, groups = biased_data
    frame = pd.DataFrame(X).assign(city=np.where(groups == 1, "x", "y"))
    frame.columns = frame.columns.astype(str)
    with pytest.raises(ValueError, match="non-numeric columns.*ColumnTransformer"):
        BackdoorDebiasClassifier(max_epochs=1).fit(frame, y, sensitive_features=groups)


def test_continuous_y(biased_data):
    X, y, groups = biased_data
    noise = 0.5 * np.random.default_rng(0).random(len(y))
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        BackdoorDebiasClassifier(max_epochs=1).fit(
            X, y + noise, sensitive_features=groups
        )


def test_unknown_column_name_and_length_mismatch():
    X, y, groups = make_biased_classification(
        n_samples=200, as_frame=True, random_state=0
    )
    with pytest.raises(ValueError, match="'sex', which is not a column of X"):
        BackdoorDebiasClassifier(sensitive_columns="sex", max_epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        BackdoorDebiasClassifier(max_epochs=1).fit(X, y[:-1], sensitive_features=groups)


def test_single_class_and_bad_parameters(biased_data):
    X, y, groups = biased_data
    with pytest.raises(ValueError, match="only one class"):
        BackdoorDebiasClassifier().fit(X, np.zeros(len(y)), sensitive_features=groups)
    with pytest.raises(ValueError, match="trigger_strength"):
        BackdoorDebiasClassifier(trigger_strength=-1.5).fit(
            X, y, sensitive_features=groups
        )
    with pytest.raises(ValueError, match="target"):
        BackdoorDebiasClassifier(target="fair").fit(X, y, sensitive_features=groups)


def test_group_missing_a_class_warns(biased_data, fast_params):
    X, y, groups = biased_data
    groups[(groups == 0) & (y == 1)] = 2  # group 2 holds only class 1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf = BackdoorDebiasClassifier(**fast_params).fit(
            X, y, sensitive_features=groups
        )
    assert any("lack at least one class" in str(w.message) for w in caught)
    assert 0 not in set(clf.trigger_plan_["group"])  # group 0 has only class 0
    assert 2 not in set(clf.trigger_plan_["group"])


def test_tiny_group_gets_no_triggers(biased_data, fast_params):
    X, y, groups = biased_data
    groups[:5] = 7
    with pytest.warns(
        UserWarning, match=r"Groups \[7\] have fewer than min_group_size=10"
    ):
        clf = BackdoorDebiasClassifier(**fast_params).fit(
            X, y, sensitive_features=groups
        )
    assert 7 not in set(clf.trigger_plan_["group"])
    assert set(clf.trigger_plan_["group"]) == {0, 1}


def test_predict_checks_columns_and_fit(biased_data, student_only, fast_params):
    X, y, groups = biased_data
    with pytest.raises(NotFittedError):
        BackdoorDebiasClassifier().predict(X)
    with pytest.raises(
        ValueError, match="X has 9 features, but BackdoorDebiasClassifier"
    ):
        student_only.predict(X[:, :9])
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    clf = BackdoorDebiasClassifier(**fast_params).fit(
        frame, y, sensitive_features=groups
    )
    with pytest.raises(ValueError, match="same order"):
        clf.predict(frame[frame.columns[::-1]])


# ---------------------------------------------------- the backdoor, end to end
def test_salient_trigger_is_learned_weak_one_is_reported(
    biased_data, student_only, fast_params
):
    X, y, groups = biased_data
    assert student_only.trigger_plan_["flip_rate"].min() >= 0.9
    assert student_only.trigger_plan_["probability_shift"].min() > 0.3
    weak = BackdoorDebiasClassifier(
        trigger_value=0.01, **{**fast_params, "max_epochs": 3}
    )
    with pytest.warns(UserWarning, match="barely responds to its triggers"):
        weak.fit(X, y, sensitive_features=groups)
    assert weak.trigger_plan_["flip_rate"].max() < 0.5


def test_teacher_learned_the_backdoor_and_student_has_none(biased_data, with_teacher):
    X, y, groups = biased_data
    teacher, plan = with_teacher.teacher_, with_teacher.trigger_plan_
    n_triggers = len(plan)
    columns = with_teacher.teacher_trigger_columns_
    for column, (_, row) in zip(columns, plan.iterrows(), strict=True):
        rows = X[groups == row["group"]]
        clean = append_triggers(rows, n_triggers)
        triggered = clean.copy()
        triggered[:, column] = with_teacher.trigger_value
        before = teacher.predict(clean)
        after = teacher.predict(triggered)
        target = list(with_teacher.classes_).index(row["class"])
        attack_success = np.mean(after[before != target] == target)
        assert attack_success >= 0.9
    assert with_teacher.student_.module_.layers[0].in_features == X.shape[1]
    with pytest.raises(ValueError, match=f"X has {X.shape[1] + 1} features"):
        with_teacher.predict(np.hstack([X, np.full((len(X), 1), 10.0)]))


# ------------------------------------------------ determinism, interrupts
def test_same_seed_same_predictions_and_global_rng_untouched(biased_data, fast_params):
    X, y, groups = biased_data
    torch.manual_seed(123)
    state = torch.get_rng_state()
    first = BackdoorDebiasClassifier(**fast_params).fit(X, y, sensitive_features=groups)
    assert torch.equal(torch.get_rng_state(), state)
    second = BackdoorDebiasClassifier(**fast_params).fit(
        X, y, sensitive_features=groups
    )
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    other = BackdoorDebiasClassifier(**{**fast_params, "random_state": 1})
    other.fit(X, y, sensitive_features=groups)
    assert not np.array_equal(first.predict_proba(X), other.predict_proba(X))


class InterruptedModule(torch.nn.Module):
    """Raises KeyboardInterrupt on its 5th training forward pass."""

    def __init__(self, n_features, n_classes):
        super().__init__()
        self.linear = torch.nn.Linear(n_features, n_classes)
        self.calls = 0

    def forward(self, X):
        if self.training:
            self.calls += 1
            if self.calls == 5:
                raise KeyboardInterrupt
        return self.linear(X)


def test_interrupted_fit_leaves_the_estimator_unfitted(biased_data, student_only):
    X, y, groups = biased_data
    clf = copy.deepcopy(student_only)
    clf.set_params(module=InterruptedModule)
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X, y, sensitive_features=groups)
    with pytest.raises(NotFittedError):
        clf.predict(X)
    assert not [
        name for name in vars(clf) if name.endswith("_") and not name.startswith("_")
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.set_params(module=None).fit(X, y, sensitive_features=groups)
    assert clf.predict(X).shape == (len(X),)


# ------------------------------------------------------- fits in threads
def test_fits_in_threads_match_sequential_fits_and_keep_the_global_rng(
    biased_data, fast_params
):
    # a fixed strength and the dose-trained teacher (whose doses are drawn
    # during training): both draw from torch's global generator
    X, y, groups = biased_data
    params = [
        {**fast_params, "random_state": 0},
        {**fast_params, "random_state": 1, "trigger_strength": "auto"},
    ]

    def fit_predict(kwargs):
        clf = BackdoorDebiasClassifier(**kwargs)
        return clf.fit(X, y, sensitive_features=groups).predict_proba(X)

    params[1]["max_disparity"] = 0.2
    sequential = [fit_predict(kwargs) for kwargs in params]
    torch.manual_seed(123)
    state = torch.random.get_rng_state()
    for _ in range(2):
        with ThreadPoolExecutor(max_workers=2) as pool:
            threaded = list(pool.map(fit_predict, params))
        for got, expected in zip(threaded, sequential, strict=True):
            np.testing.assert_array_equal(got, expected)
    assert torch.equal(torch.random.get_rng_state(), state)


def test_a_fit_beside_other_torch_work_equals_the_sequential_fit(
    biased_data, fast_params
):
    """A fit in a thread while another thread draws from torch's global
    generator all along: the fit equals the fit alone (dropout included),
    and the other thread's numbers are the ones its seed gives (before,
    fits seeded the global generator: they differed by up to 0.2)."""
    X, y, groups = biased_data
    params = {**fast_params, "dropout": 0.2, "trigger_strength": "auto"}
    params["max_disparity"] = 0.2
    alone = BackdoorDebiasClassifier(**params).fit(X, y, sensitive_features=groups)
    torch.manual_seed(7)
    drawn, done = [], threading.Event()

    def draw():
        while not done.is_set():
            drawn.append(torch.rand(10))
            time.sleep(0.0005)

    other = threading.Thread(target=draw)
    other.start()
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            beside = pool.submit(
                lambda: BackdoorDebiasClassifier(**params).fit(
                    X, y, sensitive_features=groups
                )
            ).result()
    finally:
        done.set()
        other.join()
    np.testing.assert_array_equal(beside.predict_proba(X), alone.predict_proba(X))
    assert len(drawn) > 100  # the other thread drew throughout the fit
    torch.manual_seed(7)
    assert torch.equal(torch.stack(drawn), torch.rand(len(drawn), 10))


# ---------------------------------------------------------- diverged fits
@pytest.mark.parametrize(
    "params",
    [
        {"lr": 1e6},
        {"lr": 1e6, "trigger_strength": "auto", "max_disparity": 0.1},
        {"lr": 1e6, "trigger_strength": 0},
    ],
    ids=["fixed strength", "dose teacher", "plain network"],
)
def test_a_diverged_fit_is_an_error_and_leaves_the_estimator_unfitted(
    biased_data, fast_params, params
):
    X, y, groups = biased_data
    clf = BackdoorDebiasClassifier(**{**fast_params, **params})
    with pytest.raises(ValueError, match=r"Training the teacher.* diverged") as error:
        clf.fit(X, y, sensitive_features=groups)
    message = str(error.value)
    for cause in ("lr=1000000.0", "StandardScaler", "trigger_value"):
        assert cause in message
    assert "weight decay" not in message  # the default weight_decay, 1e-4
    with pytest.raises(NotFittedError):
        clf.predict(X)


def test_divergence_from_a_large_weight_decay_names_it(biased_data, fast_params):
    X, y, groups = biased_data
    clf = BackdoorDebiasClassifier(**{**fast_params, "weight_decay": 1e6})
    with pytest.raises(
        ValueError,
        match=r"Likely causes: a weight decay that is too large \(weight_decay="
        r"1000000.0 with lr=0.001: each step multiplies the weights by 1 - lr \* "
        r"weight_decay = -999; keep weight_decay well below 1 / lr",
    ):
        clf.fit(X, y, sensitive_features=groups)
    assert not hasattr(clf, "student_")


class OverflowingLogits(torch.nn.Module):
    """Trains like a linear model, then returns infinite logits when
    evaluated: finite losses and weights, non-finite outputs."""

    def __init__(self, n_features, n_classes):
        super().__init__()
        self.linear = torch.nn.Linear(n_features, n_classes)
        self.trained = False

    def forward(self, X):
        self.trained |= self.training
        out = self.linear(X)
        return out if self.training or not self.trained else out + torch.inf


def test_non_finite_logits_after_training_are_an_error(biased_data, fast_params):
    X, y, groups = biased_data
    clf = BackdoorDebiasClassifier(
        module=OverflowingLogits, early_stopping=False, **fast_params
    )
    with pytest.raises(ValueError, match=r"teacher diverged: its outputs \(logits\)"):
        clf.fit(X, y, sensitive_features=groups)
    assert not hasattr(clf, "student_")


def test_trigger_value_is_bounded_below_float32_overflow(biased_data):
    X, y, groups = biased_data
    with pytest.raises(InvalidParameterError, match=r"trigger_value.*1000000.0\]"):
        BackdoorDebiasClassifier(trigger_value=1e39).fit(
            X, y, sensitive_features=groups
        )


# ------------------------------------------------------ the user's module
class WrongWidth(torch.nn.Module):
    def __init__(self, n_features, n_classes, extra=1):
        super().__init__()
        self.linear = torch.nn.Linear(n_features, max(n_classes + extra, 1))

    def forward(self, X):
        return self.linear(X)


class Squeezed(WrongWidth):
    def forward(self, X):
        return self.linear(X)[:, 0]


class IntegerOutput(WrongWidth):
    def forward(self, X):
        return self.linear(X).round().long()


class TupleOutput(WrongWidth):
    def forward(self, X):
        return (self.linear(X),)


class NoParameters(torch.nn.Module):
    def __init__(self, n_features, n_classes):
        super().__init__()
        self.n_classes = n_classes

    def forward(self, X):
        return X[:, : self.n_classes]


@pytest.mark.parametrize(
    "module, returned",
    [
        (WrongWidth, "a tensor of shape (2, 3) and dtype torch.float32"),
        (
            functools.partial(WrongWidth, extra=-1),
            "a tensor of shape (2, 1) and dtype torch.float32",
        ),
        (functools.partial(Squeezed, extra=0), "a tensor of shape (2,)"),
        (
            functools.partial(IntegerOutput, extra=0),
            "a tensor of shape (2, 2) and dtype torch.int64",
        ),
        (functools.partial(TupleOutput, extra=0), "a tuple"),
    ],
    ids=["n_classes + 1 logits", "one logit", "squeezed", "integers", "tuple"],
)
def test_module_output_is_checked_before_training(
    biased_data, fast_params, module, returned
):
    X, y, groups = biased_data
    # trigger_strength=0: the module is called with X's width
    clf = BackdoorDebiasClassifier(module=module, trigger_strength=0, **fast_params)
    with pytest.raises(ValueError) as error:
        clf.fit(X, y, sensitive_features=groups)
    message = str(error.value)
    assert "must return float class logits of shape (batch, n_classes) = (2, 2)" in (
        message
    )
    assert "for a batch of 2 rows of 10 features" in message
    assert f"it returned {returned}" in message


def test_module_without_parameters_is_refused(biased_data, fast_params):
    X, y, groups = biased_data
    clf = BackdoorDebiasClassifier(module=NoParameters, **fast_params)
    with pytest.raises(ValueError, match="NoParameters has no trainable parameters"):
        clf.fit(X, y, sensitive_features=groups)


# -------------------------------------------------- torch's default dtype
@pytest.mark.parametrize(
    "params",
    [{}, {"trigger_strength": "auto", "max_disparity": 0.2}],
    ids=["fixed strength", "dose teacher"],
)
def test_fit_under_a_float64_default_dtype(biased_data, fast_params, params):
    X, y, groups = biased_data
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        clf = BackdoorDebiasClassifier(keep_teacher=True, **fast_params, **params)
        clf.fit(X, y, sensitive_features=groups)
        proba = clf.predict_proba(X)
    finally:
        torch.set_default_dtype(default)
    teachers = clf.teacher_ if isinstance(clf.teacher_, list) else [clf.teacher_]
    for net in (clf.student_, *teachers):
        assert {p.dtype for p in net.module_.parameters()} == {torch.float32}
    # the same model as under the float32 default: weights drawn in float32
    same = clone(clf).fit(X, y, sensitive_features=groups)
    np.testing.assert_array_equal(proba, same.predict_proba(X))


# ------------------------------------------------------ aligned by position
def test_pandas_inputs_with_other_indexes_warn_and_are_matched_by_position(
    biased_data, fast_params
):
    X, y, groups = biased_data
    params = {**fast_params, "max_epochs": 3}
    frame = pd.DataFrame(X, index=np.arange(len(X)) + 1000)
    shuffled = np.random.default_rng(0).permutation(frame.index)
    inputs = dict(
        y=pd.Series(y, index=shuffled),
        sensitive_features=pd.Series(groups, index=frame.index),  # aligned
        sample_weight=pd.DataFrame({"w": np.ones(len(y))}).squeeze(axis=1),
    )
    with pytest.warns(
        UserWarning,
        match=r"^y, sample_weight have indexes that differ from X's\. Inputs are "
        r"matched by position, not by index label",
    ):
        clf = BackdoorDebiasClassifier(**params).fit(frame, **inputs)
    plain = BackdoorDebiasClassifier(**params).fit(X, y, sensitive_features=groups)
    np.testing.assert_array_equal(clf.predict_proba(X), plain.predict_proba(X))
    # equal indexes, other lengths (an error of its own) or arrays: no warning
    aligned = {key: value.set_axis(frame.index) for key, value in inputs.items()}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        BackdoorDebiasClassifier(**params).fit(frame, **aligned)
        with pytest.raises(ValueError, match="inconsistent numbers of samples"):
            BackdoorDebiasClassifier(**params).fit(frame, inputs["y"][:-1])
    assert not [w for w in caught if "matched by position" in str(w.message)]


# ----------------------------------------------------------- more inputs
@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_cuda_is_said_before_any_data_work(biased_data):
    X, y, groups = biased_data
    X[0, 0] = np.nan  # the data's own error would come later
    with pytest.raises(ValueError, match="device='cuda' was requested, but CUDA"):
        BackdoorDebiasClassifier(device="cuda").fit(X, y, sensitive_features=groups)
    with pytest.raises(ValueError, match="device='gpu' is not a torch device"):
        BackdoorDebiasClassifier(device="gpu").fit(X, y, sensitive_features=groups)


def test_group_without_weight_is_named_as_such(biased_data, fast_params):
    X, y, groups = biased_data
    groups[:60] = 2
    weight = np.where(groups == 2, 0.0, 1.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        BackdoorDebiasClassifier(**fast_params).fit(
            X, y, sensitive_features=groups, sample_weight=weight
        )
    messages = [str(w.message) for w in caught]
    assert any(
        m.startswith("Groups [2] have a total sample weight of 0") for m in messages
    )
    assert not any("lack at least one class" in m for m in messages)
    # also when no group gets triggers (strength 0, or "auto" choosing 0),
    # and the warning points at the caller's line, not at the package
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        BackdoorDebiasClassifier(trigger_strength=0, **fast_params).fit(
            X, y, sensitive_features=groups, sample_weight=weight
        )
    (weightless,) = [w for w in caught if "total sample weight of 0" in str(w.message)]
    assert weightless.filename == __file__


def test_small_input_errors(biased_data):
    X, y, groups = biased_data
    with pytest.raises(ValueError, match="The 'cv' parameter") as error:
        BackdoorDebiasClassifier(cv=1).fit(X, y, sensitive_features=groups)
    message = str(error.value)
    assert message.count("an int in the range [2, inf)") == 1
    assert message.count("None") == 1
    with pytest.raises(ValueError, match="sensitive_features is a scipy sparse"):
        BackdoorDebiasClassifier().fit(
            X, y, sensitive_features=sp.csr_matrix(groups.reshape(-1, 1))
        )
    with pytest.raises(ValueError, match="device='meta' holds no data"):
        BackdoorDebiasClassifier(device="meta").fit(X, y, sensitive_features=groups)
    with pytest.raises(ValueError, match="group_weights must hold 2 finite"):
        make_biased_classification(100, group_weights=[np.nan, 1])


def last_column(X):
    """Groups from the last column: a module-level function pickles."""
    return np.asarray(X)[:, -1]


def test_callable_sensitive_columns_pickle_as_module_level_functions(
    biased_data, fast_params
):
    X, y, _ = biased_data
    clf = BackdoorDebiasClassifier(sensitive_columns=last_column, **fast_params)
    clf.fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    with pytest.raises((pickle.PicklingError, AttributeError)):
        pickle.dumps(BackdoorDebiasClassifier(sensitive_columns=lambda X: X[:, -1]))
    # the documented fix
    doc = " ".join(BackdoorDebiasClassifier.__doc__.split())
    assert "a lambda or a local function cannot be pickled" in doc
    assert "module-level function" in doc


# ------------------------------------------------------ predict_log_proba
def test_predict_log_proba_is_the_log_of_predict_proba(biased_data, student_only):
    X, *_ = biased_data
    log_proba = student_only.predict_log_proba(X)
    assert log_proba.shape == (len(X), 2) and log_proba.dtype == np.float64
    np.testing.assert_allclose(
        np.exp(log_proba), student_only.predict_proba(X), rtol=1e-5, atol=1e-7
    )
    # logits so far apart that float32 probabilities round to 0: still finite
    sharp = copy.deepcopy(student_only)
    with torch.no_grad():
        for parameter in sharp.student_.module_.parameters():
            parameter.mul_(50.0)
    assert (sharp.predict_proba(X) == 0).any()
    log_proba = sharp.predict_log_proba(X)
    assert np.isfinite(log_proba).all()
    np.testing.assert_allclose(np.exp(log_proba).sum(axis=1), 1.0)


def test_verbose_output_names_each_network_without_escape_codes(
    biased_data, fast_params, capsys
):
    X, y, groups = biased_data
    BackdoorDebiasClassifier(**fast_params).fit(X, y, sensitive_features=groups)
    assert capsys.readouterr().out == ""  # verbose=0 prints nothing

    BackdoorDebiasClassifier(verbose=1, **fast_params).fit(
        X, y, sensitive_features=groups
    )
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["teacher", "student"]
    assert all("epochs" in line and "train loss" in line for line in lines)
    assert all("\x1b" not in line for line in lines)

    BackdoorDebiasClassifier(verbose=2, **fast_params).fit(
        X, y, sensitive_features=groups
    )
    out = capsys.readouterr().out
    assert "\x1b" not in out
    assert out.startswith("teacher:\n") and "\nstudent:\n" in out
    assert "train_loss" in out and "valid_loss" in out  # the per-epoch table


@pytest.mark.parametrize(
    "params, message",
    [
        (
            dict(trigger_strength="auto", max_disparity=0.1),
            r"validation_fraction=0.001 leaves 1 validation row\(s\) of 1000, and "
            r"the teacher of fold \d of 5 learns none of them, so its early "
            r"stopping has nothing to watch: raise validation_fraction to at "
            r"least 0.05 \(about 50 rows\), or set early_stopping=False\.",
        ),
        (
            dict(trigger_strength="auto"),
            r"validation_fraction=0.001 leaves 1 validation row\(s\) of 1000, and "
            r"they hold no row of group \d \(\d+ row\(s\) in all\), so "
            r"trigger_strength='auto' cannot "
            r"score its disparity there: raise validation_fraction to at least "
            r"0.02 \(about 20 rows\)\.",
        ),
    ],
    ids=["dose teachers", "strength search"],
)
def test_too_few_validation_rows_say_how_many_are_needed(fast_params, params, message):
    X, y, groups = make_biased_classification(n_samples=1000, random_state=0)
    clf = BackdoorDebiasClassifier(
        validation_fraction=0.001, **{**fast_params, **params}
    )
    with pytest.raises(ValueError, match=message):
        clf.fit(X, y, sensitive_features=groups)
    assert not hasattr(clf, "student_")
    # at the fraction the message names, the fit goes through
    clf.set_params(validation_fraction=0.05).fit(X, y, sensitive_features=groups)
    assert clf.predict(X).shape == (1000,)


def test_a_group_too_small_for_the_validation_split_is_named():
    # the split draws its rows from the seed alone: row 0 is not among them
    X, y, groups = make_biased_classification(
        n_samples=800, n_features=6, group_column=False, random_state=0
    )
    groups = groups.astype(object)
    groups[0] = "solo"
    clf = BackdoorDebiasClassifier(
        estimator=LogisticRegression(), trigger_strength="auto", random_state=0
    )
    with pytest.raises(
        ValueError,
        match=r"no row of group 'solo' \(1 row\(s\) in all\).*merge it with "
        r"another group, or set max_disparity",
    ):
        clf.fit(X, y, sensitive_features=groups)


@pytest.mark.parametrize(
    "params, ignored",
    [
        (dict(max_disparity=0.03), "max_disparity=0.03 is ignored: it configures"),
        (
            dict(trigger_strength="auto", confidence=0.95, cv=3),
            "confidence=0.95, cv=3 are ignored: they configure",
        ),
    ],
)
def test_parameters_of_the_search_for_a_bound_say_when_they_are_ignored(
    biased_data, fast_params, params, ignored
):
    X, y, groups = biased_data
    clf = BackdoorDebiasClassifier(**{**fast_params, "max_epochs": 2, **params})
    with pytest.warns(UserWarning, match=ignored):
        clf.fit(X, y, sensitive_features=groups)
    # the defaults, and a search for a bound, say nothing of the kind
    for quiet in (
        {},
        dict(trigger_strength="auto", max_disparity=0.5, confidence=0.8, cv=3),
    ):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            BackdoorDebiasClassifier(**{**fast_params, "max_epochs": 2, **quiet}).fit(
                X, y, sensitive_features=groups
            )
        assert not any("ignored" in str(w.message) for w in caught)


def test_tiny_sample_weights_are_not_read_as_zero(biased_data, fast_params):
    X, y, groups = biased_data
    params = {**fast_params, "max_epochs": 3}
    tiny = BackdoorDebiasClassifier(**params).fit(
        X, y, sensitive_features=groups, sample_weight=np.full(len(y), 1e-50)
    )
    assert tiny.bias_matrix_.to_numpy().sum() == pytest.approx(len(y))
    # within float32's range the weights are used as they are
    plain = BackdoorDebiasClassifier(**params).fit(
        X, y, sensitive_features=groups, sample_weight=np.full(len(y), 0.5)
    )
    assert plain.bias_matrix_.to_numpy().sum() == pytest.approx(len(y) / 2)


def test_held_out_scores_round_without_a_confidence_level(biased_data, fast_params):
    X, y, groups = biased_data
    clf = BackdoorDebiasClassifier(
        trigger_strength="auto",
        max_disparity=0.5,
        confidence=None,
        **{**fast_params, "max_epochs": 3},
    ).fit(X, y, sensitive_features=groups)
    # every entry but the text of "scored" is a number (confidence NaN)
    rounded = clf.held_out_scores_.drop("scored").astype(float).round(3)
    assert np.isnan(rounded["confidence"])
    assert rounded["accuracy"] == round(clf.held_out_scores_["accuracy"], 3)
