"""BackdoorDebiasClassifier: bad input, the user's module checked before training,
inputs matched by position, and the errors and warnings that name the fix."""

import functools
import warnings

import _helpers_classifier
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression

from sklearn_dwb import BackdoorDebiasClassifier
from sklearn_dwb.datasets import make_biased_classification

# the module-scoped fits of _helpers_classifier, one per test module
student_only = _helpers_classifier.student_only


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
