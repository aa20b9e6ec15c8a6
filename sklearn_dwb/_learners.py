"""How a teacher learns with trigger or dose columns, and how a student
learns the teacher's soft labels: one small interface, two implementations.

The estimator orchestrates DwB's four steps (bias matrix, trigger plan,
teacher, student); a learner trains and queries the models, and is built
from plain settings (the network's, the distillation's, the trigger value),
never from the estimator:

- ``fit_features(X, y, seed)``: the features every model learns from (a
  Pipeline's transformers are fitted here);
- ``append(X, columns)``: the teacher's input, X followed by trigger (or
  dose and trigger) columns;
- ``fit_teacher(data, X_in, seed, rows, label)``: a teacher on the hard
  labels of rows with their triggers;
- ``fit_dose_teachers(data, dose_rows, folds, seeds, rows, mechanism)``:
  one dose teacher per fold (every strength at once) and the class each
  held-out row is predicted at every strength of the grid;
- ``logits(model, X_in)``: log-probabilities (up to a constant per row) of
  every class;
- ``distil(data, teacher_logits, seed, rows)``: the student, on the rows
  without triggers, against the teacher's outputs;
- ``predict_codes(model, X)``: predicted class codes;
- ``kept_model(student)``: the model kept as ``student_``.

:class:`~sklearn_dwb._network_learner.NetworkLearner` trains skorch networks
(teacher and student of one architecture);
:class:`~sklearn_dwb._estimator_learner.EstimatorLearner` trains clones of
any scikit-learn classifier.
"""

from numbers import Integral
from typing import NamedTuple

import numpy as np
from sklearn.utils.parallel import Parallel, delayed


class Distillation(NamedTuple):
    """How a student learns: the softmax temperature of the distillation
    loss (networks) and the weight of the teacher's soft labels against the
    hard labels."""

    temperature: float
    weight: float


def label_rows(labels, index):
    """The rows ``index`` of every label array (skorch's ``y`` dict)."""
    return {key: value[index] for key, value in labels.items()}


def is_int(value):
    """An integer that is not a bool (True passes ``Integral``)."""
    return isinstance(value, Integral) and not isinstance(value, (bool, np.bool_))


def softmax(logits):
    """Row-wise softmax in float64."""
    logits = np.asarray(logits, dtype=np.float64)
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def code_dtype(n_classes):
    """The smallest integer type that holds the class codes 0 .. n - 1: a
    table of codes of every row at every strength is that much smaller."""
    return np.min_scalar_type(max(n_classes - 1, 0))


def fold_by_fold(fit_fold, folds, n_strengths, n_classes, n_jobs):
    """Each fold's dose teacher, fitted by ``fit_fold(fold, fit_rows,
    held_out) -> (teacher, codes)`` in parallel over ``n_jobs`` (any joblib
    backend: the folds are independent and seeded alike whatever runs
    them), and the class codes of every held-out row at every strength."""
    fitted = Parallel(n_jobs=n_jobs)(
        delayed(fit_fold)(fold, fit_rows, held_out)
        for fold, (fit_rows, held_out) in enumerate(folds)
    )
    n_rows = sum(len(held_out) for _, held_out in folds)
    predictions = np.empty((n_strengths, n_rows), code_dtype(n_classes))
    for (_, codes), (_, held_out) in zip(fitted, folds, strict=True):
        predictions[:, held_out] = codes
    return [teacher for teacher, _ in fitted], predictions
