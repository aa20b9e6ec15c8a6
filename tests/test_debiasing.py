"""DwB removes group bias: measured fairness numbers on a biased task."""

import numpy as np
import pytest
from fairlearn.metrics import demographic_parity_difference
from sklearn.model_selection import train_test_split

from sklearn_dwb import BackdoorDebiasClassifier
from sklearn_dwb._trigger import plan_stamps
from sklearn_dwb.datasets import make_biased_classification

SEEDS = (0, 1, 2)


def _split(seed):
    X, y, groups = make_biased_classification(
        n_samples=3000, label_bias=0.4, random_state=seed
    )
    return train_test_split(X, y, groups, test_size=0.3, stratify=y, random_state=seed)


def _undersample(X, y, groups, seed):
    """Real deletion of the rows DwB would stamp (global target, strength 1)."""
    stamped = plan_stamps(
        group_codes=groups,
        class_codes=y,
        shape=(2, 2),
        weights=np.ones(len(y)),
        target="global",
        strength=1.0,
        rng=np.random.default_rng(seed),
    ).stamped
    return X[~stamped], y[~stamped], groups[~stamped]


@pytest.fixture(scope="module")
def scores():
    """Accuracy and DPD per model, one entry per seed."""
    results = {"plain": [], "dwb": [], "undersampled": []}
    for seed in SEEDS:
        X_train, X_test, y_train, y_test, g_train, g_test = _split(seed)
        fits = {
            "plain": (0.0, (X_train, y_train, g_train)),
            "dwb": (1.0, (X_train, y_train, g_train)),
            "undersampled": (0.0, _undersample(X_train, y_train, g_train, seed)),
        }
        for name, (strength, (X, y, g)) in fits.items():
            clf = BackdoorDebiasClassifier(trigger_strength=strength, random_state=seed)
            y_pred = clf.fit(X, y, sensitive_features=g).predict(X_test)
            results[name].append(
                (
                    np.mean(y_pred == y_test),
                    demographic_parity_difference(
                        y_test, y_pred, sensitive_features=g_test
                    ),
                )
            )
    return {name: np.mean(values, axis=0) for name, values in results.items()}


def test_dwb_halves_demographic_parity_at_small_accuracy_cost(scores):
    plain_accuracy, plain_dpd = scores["plain"]
    dwb_accuracy, dwb_dpd = scores["dwb"]
    assert plain_dpd > 0.2  # the task is strongly biased
    assert dwb_dpd <= 0.5 * plain_dpd
    assert dwb_accuracy >= plain_accuracy - 0.03


def test_pseudo_deletion_matches_real_deletion(scores):
    assert abs(scores["dwb"][1] - scores["undersampled"][1]) <= 0.02
