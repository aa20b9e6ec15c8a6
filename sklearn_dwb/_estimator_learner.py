"""Teacher and student as clones of any scikit-learn classifier that takes
``sample_weight`` and has ``predict_proba`` (the learner interface is
described in :mod:`sklearn_dwb._learners`):

- the dose teacher, which has no epochs to draw fresh doses in, learns
  ``DOSE_COPIES`` copies of its rows, each with doses drawn afresh;
- the student learns soft labels as weighted copies of its rows: one copy
  per class, labelled with it and weighted by the row's weight times the
  target probability of that class (the teacher's, mixed with the hard
  label by the distillation weight). With these weights, the weighted
  log-loss of the copies equals the cross-entropy against the soft targets,
  so a student that minimises the log-loss (boosting, logistic regression)
  fits the teacher's probabilities.
"""

import functools
import itertools
from numbers import Integral

import numpy as np
import torch
from scipy import sparse
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import Pipeline

from ._blend import proba_of
from ._dose import DoseSampler, dose_columns, draw_doses
from ._learners import fold_by_fold, softmax
from ._tuning import BISECT_STEP, DOSE_COPIES, MIN_COPY_SHARE, STRENGTH_GRID
from ._wrapped import (
    check_has_predict_proba,
    check_student_follows,
    check_wrapped_estimator,
    fit_weighted,
    seeded_clone,
    widen_per_feature_params,
)
from .utils._frames import append_columns, repeat_rows, take_rows

#: Teachers whose answers at two strengths, when equal, hold between them:
#: sums of one leaf per tree (scikit-learn's, LightGBM's and XGBoost's
#: boosted trees, known by their classes' modules without importing them).
_BOOSTED_TREES = (HistGradientBoostingClassifier,)
_BOOSTED_TREE_MODULES = ("lightgbm.", "xgboost.")


def answers_hold_between_strengths(teacher):
    """Whether a teacher is a boosted tree ensemble (see ``_grid_codes``)."""
    module = type(teacher).__module__ + "."
    return isinstance(teacher, _BOOSTED_TREES) or module.startswith(
        _BOOSTED_TREE_MODULES
    )


class EstimatorLearner:
    """Teacher and student as clones of a scikit-learn classifier, seeded
    by the fit's seeds (or, with ``keep_own_seeds``, keeping the estimator's
    own ``random_state``) and trained through ``sample_weight``."""

    train_longer = "the estimator's iterations, e.g. estimator__max_iter"

    def __init__(
        self, estimator, n_classes, distill_weight, trigger_value, keep_own_seeds
    ):
        self.n_classes = n_classes
        self.distill_weight = distill_weight
        self.trigger_value = trigger_value
        self.keep_own_seeds = keep_own_seeds
        check_wrapped_estimator(estimator)
        # a Pipeline's transformers are fitted once, on the clean features;
        # teachers and students are clones of its last step, which so sees
        # the trigger and dose columns whatever the transformers keep
        self.steps, self.transformer = None, None
        if isinstance(estimator, Pipeline) and len(estimator.steps) > 1:
            self.steps = estimator.steps
            estimator = estimator.steps[-1][1]
        self.estimator = estimator

    def _seed(self, seed):
        return None if self.keep_own_seeds else seed

    def fit_features(self, X, y, seed):
        """The features every model of the fit learns from: X, or the
        output of a Pipeline's transformers fitted on it (dense)."""
        if self.steps is not None:
            transformer = seeded_clone(Pipeline(self.steps[:-1]), self._seed(seed))
            X = transformer.fit_transform(X, y)
            self.transformer = transformer
            X = X.toarray() if sparse.issparse(X) else X
        self.n_features = X.shape[1]
        return X

    def kept_model(self, student):
        """The model kept as ``student_``: the student, after the fitted
        transformers of a Pipeline."""
        if self.transformer is None:
            return student
        return Pipeline([*self.transformer.steps, (self.steps[-1][0], student)])

    def append(self, X, columns):
        if isinstance(columns, Integral):
            columns = np.zeros((len(X), columns), dtype=np.float32)
        return append_columns(X, columns)

    def _fit(self, seed, X, y, sample_weight):
        model = seeded_clone(self.estimator, self._seed(seed))
        n_extra = X.shape[1] - self.n_features
        if n_extra > 0:  # a teacher: per-feature settings cover its columns
            model = widen_per_feature_params(model, self.n_features, n_extra)
        model = fit_weighted(model, X, y, sample_weight)
        check_has_predict_proba(model)
        return model

    def fit_teacher(self, data, X_in, seed, rows, label):
        return self._fit(
            seed,
            take_rows(X_in, rows.train),
            data.y_codes[rows.train],
            data.sample_weight[rows.train],
        )

    def logits(self, model, X_in):
        proba = proba_of(model, X_in, self.n_classes)
        return np.log(np.clip(proba, 1e-12, None)).astype(np.float32)

    def predict_codes(self, model, X):
        return proba_of(model, X, self.n_classes).argmax(axis=1)

    def fit_dose_teachers(
        self, data, dose_rows, folds, seeds, rows, mechanism, n_jobs=None
    ):
        """Each fold's teacher learns ``DOSE_COPIES`` copies of the fold's
        rows (validation rows included: no early stopping here), each copy
        with fresh doses and the triggers (or weights) they imply."""
        return fold_by_fold(
            functools.partial(self._fit_fold, data, dose_rows, seeds, mechanism),
            folds,
            len(STRENGTH_GRID),
            self.n_classes,
            n_jobs,
        )

    def _fit_fold(self, data, dose_rows, seeds, mechanism, fold, fit_rows, held_out):
        """The dose teacher of one fold, and its held-out rows' codes."""
        generator = torch.Generator().manual_seed(seeds.teacher_seed + fold)
        copies = np.tile(fit_rows, DOSE_COPIES)
        sampler = DoseSampler(dose_rows.rows(copies), self.trigger_value, mechanism)
        weight = {"weight": torch.as_tensor(data.sample_weight[copies])}
        dose = draw_doses(len(copies), generator=generator)
        # the sampler on no features: the dose and trigger columns alone
        no_features = np.zeros((len(copies), 0), np.float32)
        extra, weight = sampler(no_features, weight, dose)
        X_fit = append_columns(
            repeat_rows(data.X, fit_rows, DOSE_COPIES), extra.numpy()
        )
        teacher = self._fit(
            seeds.teacher_seed, X_fit, data.y_codes[copies], weight["weight"].numpy()
        )
        del X_fit
        codes = self._grid_codes(
            teacher, take_rows(data.X, held_out), dose_rows.rows(held_out)
        )
        return teacher, codes

    def _grid_codes(self, teacher, X, dose_rows):
        """Predicted class codes of clean rows at every strength of the grid,
        an array of shape (len(STRENGTH_GRID), n_samples).

        A boosted tree ensemble's probabilities are a function of the sum of
        one leaf value per tree, and the doses that reach a leaf form an
        interval: where a row's probabilities are equal at two doses, it
        reached the same leaves at both (barring sums of different leaf
        values that are equal to the last bit), so also at every dose
        between them. Such a teacher is asked at every
        ``BISECT_STEP``-th dose, then, by bisection, only for the rows
        whose probabilities differ at an interval's ends; the codes are
        those of asking every row at every dose. Other teachers are asked
        at every dose.
        """
        n_doses, rows = len(STRENGTH_GRID), np.arange(len(dose_rows.group_codes))

        def answers(j, rows):
            if len(rows) < len(dose_rows.group_codes):
                X_rows, these = take_rows(X, rows), dose_rows.rows(rows)
            else:
                X_rows, these = X, dose_rows
            doses = np.full(len(rows), STRENGTH_GRID[j], dtype=np.float32)
            columns = dose_columns(these, doses, 0.0).numpy()
            return proba_of(teacher, append_columns(X_rows, columns), self.n_classes)

        if not answers_hold_between_strengths(teacher):
            return np.stack([answers(j, rows).argmax(axis=1) for j in range(n_doses)])

        proba = np.empty((n_doses, len(rows), self.n_classes))
        ends = sorted({*range(0, n_doses, BISECT_STEP), n_doses - 1})
        for j in ends:
            proba[j] = answers(j, rows)
        intervals = [(a, b, rows) for a, b in itertools.pairwise(ends)]
        while intervals:
            a, b, rows = intervals.pop()
            if b - a < 2:
                continue
            differ = np.any(proba[a, rows] != proba[b, rows], axis=1)
            proba[a + 1 : b, rows[~differ]] = proba[a, rows[~differ]]
            rows, middle = rows[differ], (a + b) // 2
            if len(rows):
                proba[middle, rows] = answers(middle, rows)
                intervals += [(a, middle, rows), (middle, b, rows)]
        return proba.argmax(axis=2)

    def distil(self, data, teacher_logits, seed, rows):
        """The student on weighted copies of the rows, one per class (see
        the module's docstring); copies under ``MIN_COPY_SHARE`` of their
        row's weight are left out."""
        weight, train_rows = self.distill_weight, rows.train
        target = softmax(teacher_logits[train_rows])
        if weight < 1:
            hard = np.eye(self.n_classes)[data.y_codes[train_rows]]
            target = weight * target + (1.0 - weight) * hard
        # the copies, class by class: class code and position of each
        codes, positions = np.nonzero(target.T >= MIN_COPY_SHARE)
        copies = train_rows[positions]
        student = self._fit(
            seed,
            take_rows(data.X, copies),
            codes,
            data.sample_weight[copies] * target[positions, codes],
        )
        X_train = take_rows(data.X, train_rows)
        predicted = proba_of(student, X_train, self.n_classes).argmax(axis=1)
        check_student_follows(
            self.estimator, predicted, target, data.sample_weight[train_rows]
        )
        return student
