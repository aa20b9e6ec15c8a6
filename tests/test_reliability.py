"""Bad input, persistence, the backdoor that never ships, determinism, interrupts."""

import io
import pickle
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV

from sklearn_dwb import BackdoorDebiasClassifier
from sklearn_dwb._trigger import (
    append_triggers,
    plan_stamps,
    target_distribution,
    trigger_rates,
)
from sklearn_dwb.datasets import make_biased_classification

FAST = dict(hidden_layer_sizes=(32,), max_epochs=15, batch_size=128, random_state=0)


@pytest.fixture(scope="module")
def data():
    return make_biased_classification(n_samples=800, label_bias=0.5, random_state=0)


@pytest.fixture(scope="module")
def fitted(data):
    X, y, groups = data
    return BackdoorDebiasClassifier(keep_teacher=True, **FAST).fit(
        X, y, sensitive_features=groups
    )


# ------------------------------------------------------------ bad input
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_or_inf_in_X(data, bad):
    X, y, groups = data
    X = X.copy()
    X[3, 2] = bad
    with pytest.raises(ValueError, match="Input X contains (NaN|infinity)"):
        BackdoorDebiasClassifier(max_epochs=1).fit(X, y, sensitive_features=groups)


def test_sparse_X_is_refused_with_the_fix(data):
    X, y, groups = data
    with pytest.raises(TypeError, match=r"dense data is required.*toarray"):
        BackdoorDebiasClassifier(max_epochs=1).fit(
            sp.csr_matrix(X), y, sensitive_features=groups
        )


def test_continuous_y(data):
    X, y, groups = data
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        BackdoorDebiasClassifier(max_epochs=1).fit(
            X, y + 0.5 * np.random.rand(len(y)), sensitive_features=groups
        )


def test_sample_weight_length_and_nan(data):
    X, y, groups = data
    with pytest.raises(ValueError, match=r"sample_weight.shape == \(10,\)"):
        BackdoorDebiasClassifier(max_epochs=1).fit(
            X, y, sensitive_features=groups, sample_weight=np.ones(10)
        )
    with pytest.raises(ValueError, match="sample_weight contains NaN"):
        BackdoorDebiasClassifier(max_epochs=1).fit(
            X, y, sensitive_features=groups, sample_weight=np.full(len(y), np.nan)
        )


def test_tiny_group_gets_no_triggers(data):
    X, y, groups = data
    groups = groups.copy()
    groups[:5] = 7
    with pytest.warns(UserWarning, match=r"Groups \[7\] have fewer than min_group_size=10"):
        clf = BackdoorDebiasClassifier(**FAST).fit(X, y, sensitive_features=groups)
    assert 7 not in set(clf.trigger_plan_["group"])
    assert set(clf.trigger_plan_["group"]) == {0, 1}


def test_predict_checks_columns_and_fit(data, fitted):
    X, y, groups = data
    with pytest.raises(NotFittedError):
        BackdoorDebiasClassifier().predict(X)
    with pytest.raises(ValueError, match="X has 9 features, but BackdoorDebiasClassifier"):
        fitted.predict(X[:, :9])
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    clf = BackdoorDebiasClassifier(**FAST).fit(frame, y, sensitive_features=groups)
    with pytest.raises(ValueError, match="same order"):
        clf.predict(frame[frame.columns[::-1]])


def test_caller_frames_are_not_modified(data):
    X, y, groups = data
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    labels, sensitive = pd.Series(y, name="y"), pd.Series(groups, name="g")
    copies = frame.copy(), labels.copy(), sensitive.copy()
    BackdoorDebiasClassifier(**FAST).fit(frame, labels, sensitive_features=sensitive)
    pd.testing.assert_frame_equal(frame, copies[0])
    pd.testing.assert_series_equal(labels, copies[1])
    pd.testing.assert_series_equal(sensitive, copies[2])


# ---------------------------------------------------------- persistence
def test_pickle_and_joblib_round_trips(data, fitted):
    X, *_ = data
    expected = fitted.predict_proba(X)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(fitted)).predict_proba(X), expected)
    buffer = io.BytesIO()
    joblib.dump(fitted, buffer)
    buffer.seek(0)
    np.testing.assert_array_equal(joblib.load(buffer).predict_proba(X), expected)


def _tensor_shapes(obj):
    """Shapes of every tensor held by the pickled state of ``obj``."""
    state = pickle.loads(pickle.dumps(obj))
    return [
        tuple(p.shape)
        for net in vars(state).values()
        if hasattr(net, "module_")
        for p in net.module_.parameters()
    ]


def test_pickled_model_holds_no_teacher_or_trigger_columns(data, fitted):
    X, y, groups = data
    n_features, n_triggers = X.shape[1], len(fitted.trigger_plan_)
    assert n_triggers == 2
    clean = BackdoorDebiasClassifier(**FAST).fit(X, y, sensitive_features=groups)
    state = pickle.loads(pickle.dumps(clean))
    assert not hasattr(state, "teacher_")
    first_layers = [s for s in _tensor_shapes(clean) if len(s) == 2 and s[1] != 32]
    assert first_layers == [(32, n_features)]  # the student's input layer only
    # with keep_teacher=True the backdoored teacher is there, trigger inputs and all
    shapes = _tensor_shapes(fitted)
    assert (32, n_features + n_triggers) in shapes


# ---------------------------------------------------- backdoor evidence
def test_teacher_learned_the_backdoor_and_student_has_none(data, fitted):
    X, y, groups = data
    teacher, plan = fitted.teacher_, fitted.trigger_plan_
    n_triggers = len(plan)
    for _, row in plan.iterrows():
        rows = X[groups == row["group"]]
        clean = append_triggers(rows, n_triggers)
        triggered = clean.copy()
        triggered[:, int(row["trigger_column"])] = fitted.trigger_value
        before = teacher.predict(clean)
        after = teacher.predict(triggered)
        target = list(fitted.classes_).index(row["class"])
        attack_success = np.mean(after[before != target] == target)
        assert attack_success >= 0.9
    assert fitted.student_.module_.layers[0].in_features == X.shape[1]
    with pytest.raises(ValueError, match=f"X has {X.shape[1] + 1} features"):
        fitted.predict(np.hstack([X, np.full((len(X), 1), 10.0)]))


# ------------------------------------------------ trigger plan properties
cell_matrices = st.integers(2, 4).flatmap(
    lambda groups: st.integers(2, 4).flatmap(
        lambda classes: arrays(np.int64, (groups, classes), elements=st.integers(1, 300))
    )
)


@settings(max_examples=60, deadline=None)
@given(cell_matrices, st.sampled_from(["global", "balanced"]), st.floats(0, 3))
def test_rates_in_unit_interval_and_monotone(counts, target, strength):
    rates, _ = trigger_rates(counts, target, strength)
    assert np.all((rates >= 0) & (rates <= 1))
    more, _ = trigger_rates(counts, target, strength + 0.25)
    assert np.all(more >= rates - 1e-12)


@settings(max_examples=40, deadline=None)
@given(cell_matrices, st.sampled_from(["global", "balanced"]), st.integers(0, 2**31 - 1))
def test_untriggered_counts_hit_the_target_and_plan_ignores_row_order(counts, target, seed):
    n_groups, n_classes = counts.shape
    group_codes = np.repeat(np.arange(n_groups), counts.sum(axis=1))
    class_codes = np.concatenate([np.repeat(np.arange(n_classes), row) for row in counts])
    weights = np.ones(len(group_codes))
    plan = _plan(group_codes, class_codes, counts.shape, weights, target, 1.0, seed)
    left = counts - plan.stamp_counts
    p = target_distribution(counts.astype(float), target)
    m = (counts / p).min(axis=1, keepdims=True)
    assert np.all(np.abs(left - m * p) <= 1.0)
    # the stamped rows per cell match the plan exactly
    stamped_cells = np.bincount(
        group_codes[plan.stamped] * n_classes + class_codes[plan.stamped],
        minlength=counts.size,
    )
    np.testing.assert_array_equal(stamped_cells, plan.stamp_counts.ravel())
    order = np.random.default_rng(seed).permutation(len(group_codes))
    shuffled = _plan(
        group_codes[order], class_codes[order], counts.shape, weights, target, 1.0, seed
    )
    np.testing.assert_array_equal(shuffled.stamp_counts, plan.stamp_counts)


@settings(max_examples=30, deadline=None)
@given(cell_matrices, st.floats(0, 2), st.floats(0, 2))
def test_stamped_rows_grow_with_strength(counts, low, extra):
    group_codes = np.repeat(np.arange(counts.shape[0]), counts.sum(axis=1))
    class_codes = np.concatenate([np.repeat(np.arange(counts.shape[1]), r) for r in counts])
    plans = [
        _plan(
            group_codes, class_codes, counts.shape, None, "global", strength, seed=0
        )
        for strength in (low, low + extra)
    ]
    assert np.all(plans[1].stamp_counts >= plans[0].stamp_counts)
    assert np.all(plans[1].stamped >= plans[0].stamped)  # same seed: a superset of rows


# ---------------------------------------------- determinism, interrupts
@pytest.mark.filterwarnings("ignore:The teacher barely responds")
def test_same_results_across_n_jobs(data):
    X, y, groups = data
    searches = [
        GridSearchCV(
            BackdoorDebiasClassifier(sensitive_columns=[-1], hidden_layer_sizes=(16,),
                                     max_epochs=5, random_state=0),
            {"trigger_strength": [0.0, 1.0]}, cv=2, n_jobs=n_jobs,
        ).fit(X, y)
        for n_jobs in (1, 2)
    ]  # fmt: skip
    np.testing.assert_array_equal(
        searches[0].cv_results_["mean_test_score"], searches[1].cv_results_["mean_test_score"]
    )
    np.testing.assert_array_equal(searches[0].predict_proba(X), searches[1].predict_proba(X))


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


def test_interrupted_fit_leaves_the_estimator_unfitted(data):
    X, y, groups = data
    clf = BackdoorDebiasClassifier(**FAST).fit(X, y, sensitive_features=groups)
    clf.set_params(module=InterruptedModule)
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X, y, sensitive_features=groups)
    with pytest.raises(NotFittedError):
        clf.predict(X)
    assert not [name for name in vars(clf) if name.endswith("_") and not name.startswith("_")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.set_params(module=None).fit(X, y, sensitive_features=groups)
    assert clf.predict(X).shape == (len(X),)


def _plan(group_codes, class_codes, shape, weights, target, strength, seed):
    return plan_stamps(
        group_codes=group_codes,
        class_codes=class_codes,
        shape=shape,
        weights=weights,
        target=target,
        strength=strength,
        rng=np.random.default_rng(seed),
    )
