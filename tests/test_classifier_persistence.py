"""BackdoorDebiasClassifier: pickle and joblib round trips, what a saved model holds,
the caller's data left as given, and the backdoor that the teacher learns and the
student never ships."""

import copy
import io
import pickle
import warnings

import _helpers_classifier
import joblib
import numpy as np
import pandas as pd
import pytest
import torch

from sklearn_dwb import BackdoorDebiasClassifier
from sklearn_dwb._trigger import append_triggers
from sklearn_dwb.datasets import make_biased_classification

# the module-scoped fits of _helpers_classifier, one per test module
student_only = _helpers_classifier.student_only
with_teacher = _helpers_classifier.with_teacher


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
