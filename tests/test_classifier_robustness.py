"""BackdoorDebiasClassifier: determinism (also in threads), interrupted and diverged
fits, torch's default dtype, predict_log_proba, verbose output and held-out scores."""

import copy
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor

import _helpers_classifier
import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_dwb import BackdoorDebiasClassifier

# the module-scoped fits of _helpers_classifier, one per test module
student_only = _helpers_classifier.student_only


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
