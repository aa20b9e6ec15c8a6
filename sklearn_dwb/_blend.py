"""The model kept: a student, or a blend of two checked students, and the
choice of the blend in the search for a bound."""

import itertools
from typing import NamedTuple

import numpy as np
import torch
from scipy.special import logsumexp
from skorch import NeuralNet

from ._learners import is_int
from ._plan_scores import model_score
from ._tuning import BLEND_WEIGHTS


def proba_of(model, X, n_classes):
    """Probabilities of every class code; a class a model never saw (a
    student whose copies of it all weigh too little) gets 0."""
    proba = np.asarray(model.predict_proba(X), dtype=np.float64)
    codes = np.asarray(model.classes_).astype(np.intp)
    if len(codes) == n_classes and np.array_equal(codes, np.arange(n_classes)):
        return proba
    full = np.zeros((len(proba), n_classes))
    full[:, codes] = proba
    return full


def _float32(X):
    """A network's input: float32, as the networks are trained."""
    return X if isinstance(X, torch.Tensor) else np.asarray(X, dtype=np.float32)


def student_proba(student, X, n_classes):
    """Class probabilities of one student (a skorch network, a scikit-learn
    classifier or a :class:`StudentBlend` of them), in float64, each row
    summing to 1."""
    if isinstance(student, StudentBlend):
        return student.predict_proba(X)
    if isinstance(student, NeuralNet):
        proba = student.predict_proba(_float32(X)).astype(np.float64)
        return proba / proba.sum(axis=1, keepdims=True)
    return proba_of(student, X, n_classes)


def student_log_proba(student, X, n_classes):
    """Log-probabilities of one student: a network's from its logits with a
    log-softmax in float64 (finite where a probability rounds to 0), a
    blend's from its members'."""
    if isinstance(student, StudentBlend):
        return student.predict_log_proba(X)
    if isinstance(student, NeuralNet):
        logits = student.forward(_float32(X), device="cpu").to(torch.float64)
        return torch.log_softmax(logits, dim=1).numpy()
    with np.errstate(divide="ignore"):
        return np.log(proba_of(student, X, n_classes))


def _blend_weights(weights, n_students):
    """A blend's weights, checked: one per student, non-negative, sum 1."""
    weights = np.asarray(weights, dtype=np.float64)
    if n_students == 0 or weights.shape != (n_students,):
        raise ValueError(
            f"StudentBlend got {weights.size} weight(s) for {n_students} "
            "student(s): give one weight per student, at least one student."
        )
    if not np.all(np.isfinite(weights) & (weights >= 0)) or not np.isclose(
        weights.sum(), 1.0
    ):
        raise ValueError(
            f"StudentBlend weights must be non-negative and sum to 1, got "
            f"{weights.tolist()} (sum {weights.sum():g}): each row's blended "
            "probabilities would not sum to 1."
        )
    return weights


def _check_class_codes(student, number, n_classes):
    """A blended student must predict class codes 0 .. n_classes - 1, as the
    students of a fit do (their probabilities are added column by column)."""
    if isinstance(student, NeuralNet):
        return
    codes = np.asarray(getattr(student, "classes_", []))
    valid = codes.size > 0 and np.issubdtype(codes.dtype, np.integer)
    if not valid or codes.min() < 0 or codes.max() >= n_classes:
        raise ValueError(
            f"Student {number} of the StudentBlend predicts classes "
            f"{codes.tolist()}; blended students must be fitted on the class "
            f"codes 0 .. {n_classes - 1} (as the students of "
            "BackdoorDebiasClassifier are), so that their probabilities add "
            "up class by class."
        )


class StudentBlend:
    """Students of the search for a bound kept as one model: the weighted
    mean of their class probabilities.

    ``BackdoorDebiasClassifier(blend_students=True)`` keeps a blend of two
    checked students when a mix of them ranks above each student alone on
    its own check (the training rows, whose labels no student learned).
    It is the fitted ``student_`` then; predict through the classifier.

    Parameters
    ----------
    students : list
        Fitted students (skorch networks, or scikit-learn classifiers or
        Pipelines trained on class codes 0, 1, ...), in the order they were
        distilled. A student whose ``classes_`` are not such codes is
        refused.
    weights : array-like of shape (n_students,)
        Weight of each student's probabilities: non-negative, one per
        student, summing to 1 (checked).
    n_classes : int
        Number of classes (columns of the probabilities).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class codes 0, 1, ...; the labels they stand for are the
        classifier's ``classes_``.
    is_network : bool
        Whether the students are skorch networks (their input is cast to
        float32, as they were trained).
    """

    def __init__(self, students, weights, n_classes):
        self.students = list(students)
        self.weights = _blend_weights(weights, len(self.students))
        if not is_int(n_classes) or n_classes < 2:
            raise ValueError(f"n_classes must be an int >= 2, got {n_classes!r}.")
        self.n_classes = int(n_classes)
        for number, student in enumerate(self.students, start=1):
            _check_class_codes(student, number, n_classes)

    @property
    def classes_(self):
        """The class codes the students predict: 0, 1, ..., n_classes - 1."""
        return np.arange(self.n_classes)

    def predict(self, X):
        """The class code of largest blended probability."""
        return self.predict_proba(X).argmax(axis=1)

    def predict_proba(self, X):
        """The weighted mean of the students' class probabilities."""
        return sum(
            weight * student_proba(student, X, self.n_classes)
            for student, weight in zip(self.students, self.weights, strict=True)
        )

    def predict_log_proba(self, X):
        """Its logarithm, from the students' log-probabilities (finite where
        a probability rounds to 0)."""
        return logsumexp(
            [
                np.log(weight) + student_log_proba(student, X, self.n_classes)
                for student, weight in zip(self.students, self.weights, strict=True)
            ],
            axis=0,
        )

    @property
    def is_network(self):
        return isinstance(self.students[0], NeuralNet)

    def __repr__(self):
        members = ", ".join(
            f"{weight:g} x {type(student).__name__}"
            for student, weight in zip(self.students, self.weights, strict=True)
        )
        return f"StudentBlend({members})"


class Blend(NamedTuple):
    """The best mix of two checked students: their plans, the weight of the
    first, and the mix's own check."""

    plans: tuple
    weight: float
    score: object


def best_blend(scores, X, tried, max_disparity, n_classes):
    """The best mix of two checked students, if it sorts above every student
    alone by the search's rule (the most accurate within the bound, else the
    least disparate): a :class:`Blend`, or None. ``tried`` maps each plan
    to its checked student and score; each pair's class probabilities are
    mixed at every weight of ``BLEND_WEIGHTS`` and the mix is checked on the
    rows ``X`` as a student is."""
    best_key = max(scores.sort_key(score, max_disparity) for _, score in tried.values())
    proba = {
        plan: student_proba(student, X, n_classes)
        for plan, (student, _) in tried.items()
    }
    best = None
    for first, second in itertools.combinations(tried, 2):
        for weight in BLEND_WEIGHTS:
            mixed = weight * proba[first] + (1.0 - weight) * proba[second]
            score, _ = model_score(
                mixed.argmax(axis=1), scores.rows, scores.metric, scores.confidence
            )
            key = scores.sort_key(score, max_disparity)
            if key > best_key:
                best, best_key = Blend((first, second), float(weight), score), key
    return best
