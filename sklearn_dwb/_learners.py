"""How a teacher learns with trigger or dose columns, and how a student
learns the teacher's soft labels: one small interface, two implementations.

The estimator orchestrates DwB's four steps (bias matrix, trigger plan,
teacher, student); a learner trains and queries the models:

- ``append(X, columns)``: the teacher's input, X followed by trigger (or
  dose and trigger) columns;
- ``fit_teacher(data, X_in, seed, train_rows, valid_rows, label)``: a
  teacher on the hard labels of rows with their triggers;
- ``fit_dose_teachers(data, plan, folds, seeds, train_rows, valid_rows)``:
  one dose teacher per fold (every strength at once) and the class each
  held-out row is predicted at every dose of the grid;
- ``logits(model, X_in)``: log-probabilities (up to a constant per row) of
  every class;
- ``distil(data, teacher_logits, seed, train_rows, valid_rows)``: the
  student, on the rows without triggers, against the teacher's outputs;
- ``predict_codes(model, X)``: predicted class codes.

:class:`NetworkLearner` trains skorch networks (teacher and student of one
architecture). :class:`EstimatorLearner` trains clones of any scikit-learn
classifier that takes ``sample_weight`` and has ``predict_proba``:

- the dose teacher, which has no epochs to draw fresh doses in, learns
  :data:`DOSE_COPIES` copies of its rows, each with doses drawn afresh;
- the student learns soft labels as weighted copies of its rows: one copy
  per class, labelled with it and weighted by the row's weight times the
  target probability of that class (the teacher's, mixed with the hard
  label by ``distill_weight``). With these weights, the weighted log-loss
  of the copies equals the cross-entropy against the soft targets, so a
  student that minimises the log-loss (boosting, logistic regression) fits
  the teacher's probabilities.
"""

import inspect
import itertools
from numbers import Integral

import numpy as np
import torch
from scipy import sparse
from scipy.special import logsumexp
from sklearn import get_config
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.exceptions import UnsetMetadataPassedError
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import has_fit_parameter
from skorch import NeuralNet
from skorch.callbacks import ProgressBar
from skorch.dataset import Dataset
from skorch.helper import predefined_split

from ._dose import (
    DOSE_GRID,
    DoseSampler,
    dose_columns,
    dose_predictions,
    draw_doses,
)
from ._network import (
    EarlyStopping,
    TensorBatchIterator,
    WeightedDistillationNet,
    check_finite_logits,
    seeded_training,
    train,
)
from ._trigger import append_triggers
from .nn import TabularMLP
from .utils._frames import append_columns, repeat_rows, take_rows

# AdamW's fused kernel (one call for all parameters) runs on the CPU from
# torch 2.4 on and on CUDA before that; it computes the same update faster.
_FUSED_ADAMW = tuple(int(v) for v in torch.__version__.split(".")[:2]) >= (2, 4)
MODULE_PREFIX = "module__"
#: Copies of its rows a scikit-learn dose teacher learns, each with fresh
#: doses (a network draws fresh doses every epoch instead).
DOSE_COPIES = 1
#: Soft-label copies lighter than this share of their row's weight are left
#: out of the student's rows (they change its fit by less than the noise of
#: the teacher's probabilities, and cost a row each).
MIN_COPY_SHARE = 1e-3
#: A boosted dose teacher is asked at every BISECT_STEP-th dose of the grid
#: first, then between them by bisection where its answers differ
#: (:meth:`EstimatorLearner._grid_codes`).
BISECT_STEP = 4
#: A soft label is decisive when one class has at least this probability:
#: on those rows a student must agree with its soft labels more often than
#: a constant model (:func:`check_student_follows`).
DECISIVE_SHARE = 0.6
#: Teachers whose answers at two doses, when equal, hold between them.
_BOOSTED_TREES = (HistGradientBoostingClassifier,)


def _rows(labels, index):
    return {key: value[index] for key, value in labels.items()}


def _as_tensors(labels):
    return {key: torch.as_tensor(value) for key, value in labels.items()}


def _as_arrays(labels):
    return {key: np.asarray(value) for key, value in labels.items()}


def _is_int(value):
    """An integer that is not a bool (True passes ``Integral``)."""
    return isinstance(value, Integral) and not isinstance(value, (bool, np.bool_))


def _softmax(logits):
    logits = np.asarray(logits, dtype=np.float64)
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


# ------------------------------------------------------------ the network
class NetworkLearner:
    """Teacher and student as skorch networks of one architecture, set up by
    the estimator's network parameters (``owner``)."""

    #: What trains the models longer (named in warnings).
    train_longer = "max_epochs, n_iter_no_change"

    def __init__(self, owner, n_classes, device):
        self.owner = owner
        self.template = self._template_net(n_classes, device)

    def prepare(self, X, y, seed):
        """The features every model of the fit learns from: X itself."""
        return X

    def finish(self, student):
        """The model kept as ``student_``: the student itself."""
        return student

    def append(self, X, columns):
        return append_triggers(X, columns)

    def fit_teacher(self, data, X_in, seed, train_rows, valid_rows, label):
        labels = data.labels
        teacher = self._derive_net(X_in, labels, valid_rows, label=label)
        with seeded_training(teacher, seed):
            train(teacher, X_in[train_rows], _rows(labels, train_rows))
        return teacher

    def logits(self, model, X_in):
        logits = model.forward(X_in, device="cpu").numpy()
        check_finite_logits(model, logits)
        return logits

    def predict_codes(self, model, X):
        return model.forward(X, device="cpu").argmax(dim=1).numpy()

    def fit_dose_teachers(self, data, plan, folds, seeds, train_rows, valid_rows):
        owner = self.owner
        sampler = DoseSampler(plan, owner.trigger_value, owner._dose_mechanism)
        # early stopping watches one fixed draw of doses on the validation rows
        fixed = torch.Generator().manual_seed(seeds.stamp_seed)
        dose = draw_doses(len(data.X), generator=fixed)
        X_fixed, labels_fixed = sampler(data.X, _as_tensors(data.labels), dose=dose)
        X_fixed, labels_fixed = X_fixed.numpy(), _as_arrays(labels_fixed)
        teachers, predictions = [], np.empty((len(DOSE_GRID), len(data.X)), np.intp)
        for fold, (fold_rows, held_out) in enumerate(folds, start=1):
            fit_rows = train_rows[np.isin(train_rows, fold_rows)]
            stop_rows = valid_rows[np.isin(valid_rows, fold_rows)]
            if owner.early_stopping and len(stop_rows) == 0:
                owner._too_few_validation_rows(
                    valid_rows,
                    len(data.X),
                    10 * len(folds),
                    f"the teacher of fold {fold} of {len(folds)} learns none "
                    "of them, so its early stopping has nothing to watch",
                    ", or set early_stopping=False",
                )
            label = "teacher (every strength)"
            if len(folds) > 1:
                label = f"teacher (every strength, fold {fold} of {len(folds)})"
            teacher = self._derive_net(
                X_fixed, labels_fixed, stop_rows, label=label
            ).set_params(
                iterator_train__epoch_transform=DoseSampler(
                    plan.rows(fit_rows), owner.trigger_value, owner._dose_mechanism
                )
            )
            with seeded_training(teacher, seeds.teacher_seed):
                train(teacher, data.X[fit_rows], _rows(data.labels, fit_rows))
            predictions[:, held_out] = dose_predictions(
                teacher, data.X[held_out], plan.rows(held_out)
            )
            teachers.append(teacher)
        return teachers, predictions

    def distil(self, data, teacher_logits, seed, train_rows, valid_rows):
        owner = self.owner
        labels = {**data.labels, "teacher_logits": teacher_logits}
        student = self._derive_net(
            data.X,
            labels,
            valid_rows,
            label="student",
            distill_temperature=owner.distill_temperature,
            distill_weight=owner.distill_weight,
        )
        with seeded_training(student, seed):
            train(student, data.X[train_rows], _rows(labels, train_rows))
        check_finite_logits(student, student.forward(data.X, device="cpu"))
        return student

    # --------------------------------------------------------- the template
    def _module_and_kwargs(self):
        """The torch module (class or partial) and its keyword arguments."""
        owner = self.owner
        kwargs = owner._module_kwargs()
        if owner.module is not None:
            if isinstance(owner.module, torch.nn.Module):
                raise ValueError(
                    "module must be a torch.nn.Module class or a "
                    "functools.partial of one, not an instance: teacher and "
                    "student are built with different input widths. Pass the "
                    "class and give its arguments as module__<name>=value."
                )
            return owner.module, kwargs
        given = kwargs.get("hidden_layer_sizes", owner.hidden_layer_sizes)
        sizes = (given,) if isinstance(given, Integral) else tuple(given)
        if not all(_is_int(s) and s > 0 for s in sizes):
            raise ValueError(
                "hidden_layer_sizes must hold positive integers, e.g. (64, 64); "
                f"got {given!r}."
            )
        defaults = {"dropout": owner.dropout, "activation": owner.activation}
        return TabularMLP, {**defaults, **kwargs, "hidden_layer_sizes": sizes}

    def _template_net(self, n_classes, device):
        """The skorch net that teacher and student are derived from."""
        owner = self.owner
        module, module_kwargs = self._module_and_kwargs()
        callbacks = []
        if owner.early_stopping:
            stopping = EarlyStopping(
                monitor="valid_loss",
                patience=owner.n_iter_no_change,
                threshold=owner.tol,
                threshold_mode="rel",
                load_best=True,
            )
            callbacks.append(("early_stopping", stopping))
        if owner.verbose >= 3:
            callbacks.append(("progress_bar", ProgressBar()))
        return WeightedDistillationNet(
            module,
            module__n_classes=n_classes,
            **{MODULE_PREFIX + name: value for name, value in module_kwargs.items()},
            optimizer=torch.optim.AdamW,
            lr=owner.lr,
            optimizer__weight_decay=owner.weight_decay,
            optimizer__fused=_FUSED_ADAMW,
            max_epochs=owner.max_epochs,
            batch_size=owner.batch_size,
            iterator_train=TensorBatchIterator,
            iterator_train__shuffle=True,
            iterator_valid=TensorBatchIterator,
            iterator_valid__batch_size=max(owner.batch_size, 4096),
            train_split=None,
            callbacks=callbacks,
            classes=list(range(n_classes)),
            device=device,
            verbose=owner.verbose,
        )

    def _derive_net(self, X, labels, valid_rows, **params):
        """A copy of the template for inputs like X, validated on valid_rows."""
        split = None
        if self.owner.early_stopping:
            valid = Dataset(X[valid_rows], _rows(labels, valid_rows))
            split = predefined_split(valid)
        return clone(self.template).set_params(
            module__n_features=X.shape[1], train_split=split, **params
        )


# ------------------------------------------------ any scikit-learn classifier
def check_wrapped_estimator(estimator):
    """A clear error for a classifier DwB cannot train: it needs
    ``predict_proba`` (the teacher's soft labels) and ``sample_weight`` in
    ``fit`` (the sample weights, the dose copies and the soft labels).

    A meta-estimator may offer ``predict_proba`` only once fitted (a
    ``StackingClassifier``, through scikit-learn's ``available_if``): one
    whose class defines it passes here and is checked after its first fit
    (:func:`check_has_predict_proba`). ``sample_weight`` passes as a
    parameter of ``fit`` or through its ``**kwargs`` (``VotingClassifier``,
    ``GridSearchCV``); a fit that then refuses it is reported by
    :func:`fit_weighted`."""
    if not hasattr(type(estimator), "predict_proba"):
        check_has_predict_proba(estimator)
    final = estimator[-1] if isinstance(estimator, Pipeline) else estimator
    if final is not None and final != "passthrough" and not _takes_sample_weight(final):
        raise ValueError(
            f"estimator={type(estimator).__name__}(...) does not take "
            f"sample_weight in fit ({type(final).__name__}.fit has no such "
            "parameter, nor **kwargs to pass it on). DwB gives a scikit-learn "
            "student the teacher's soft labels as weighted copies of its "
            "rows, so it needs one: use a classifier whose fit takes "
            "sample_weight (e.g. HistGradientBoostingClassifier, "
            "LogisticRegression, RandomForestClassifier)."
        )


def _takes_sample_weight(estimator):
    if has_fit_parameter(estimator, "sample_weight"):
        return True
    parameters = inspect.signature(estimator.fit).parameters.values()
    return any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)


def check_has_predict_proba(model):
    """Refuse a model without ``predict_proba`` (checked on the unfitted
    estimator, or once fitted where its class offers it only then)."""
    if hasattr(model, "predict_proba"):
        return
    raise ValueError(
        f"estimator={type(model).__name__}(...) has no predict_proba, which "
        "DwB needs for the teacher's soft labels. Use a classifier with "
        "predict_proba, or wrap it in sklearn.calibration.CalibratedClassifierCV "
        "(e.g. CalibratedClassifierCV(SVC(), ensemble=False))."
    )


def check_student_follows(estimator, predicted, target, weight):
    """Refuse a student that predicts the class its soft labels favour less
    often than a constant model would, on the rows whose soft label is
    decisive (:data:`DECISIVE_SHARE`): its fit did not learn from the
    weighted copies that carry the teacher's probabilities."""
    decisive = target.max(axis=1) >= DECISIVE_SHARE
    weight = weight[decisive]
    if weight.sum() <= 0:
        return
    wanted = target[decisive].argmax(axis=1)
    agreement = np.average(predicted[decisive] == wanted, weights=weight)
    constant = np.bincount(wanted, weight).max() / weight.sum()
    if agreement >= constant:
        return
    name = type(estimator).__name__
    raise ValueError(
        f"The student, a clone of estimator={name}(...), predicts the class "
        f"its soft labels favour on {agreement:.0%} of the training rows, "
        f"fewer than a constant model would ({constant:.0%}): it did not "
        "learn from the weighted copies of rows that carry the teacher's "
        "probabilities (SVC(probability=True), for one, calibrates by an "
        "internal cross-validation that ignores sample_weight). Wrap the "
        "classifier in sklearn.calibration.CalibratedClassifierCV, e.g. "
        "CalibratedClassifierCV(SVC(), ensemble=False), or use one whose fit "
        "weighs rows throughout (HistGradientBoostingClassifier, "
        "LogisticRegression)."
    )


#: Per-feature settings of scikit-learn, LightGBM and XGBoost classifiers,
#: and the value a teacher's trigger and dose columns get in them: not
#: categorical, no monotonic constraint.
PER_FEATURE_PARAMS = {
    "categorical_features": False,
    "monotonic_cst": 0,
    "monotone_constraints": 0,
}


def widen_per_feature_params(model, n_features, n_extra):
    """``model`` with its per-feature settings given per column of the
    user's ``n_features`` (a boolean mask, a list of constraints) extended
    to the ``n_extra`` columns a teacher learns besides them."""
    params = model.get_params(deep=False)
    widened = {}
    for name, fill in PER_FEATURE_PARAMS.items():
        value = params.get(name)
        if value is None or isinstance(value, (str, dict)):
            continue  # by name, from dtypes, or none: nothing to extend
        array = np.asarray(value)
        if array.ndim != 1 or len(array) != n_features:
            continue
        if fill is False and array.dtype != bool:
            continue  # categorical features by index: extra columns unnamed
        padded = [*array.tolist(), *[fill] * n_extra]
        widened[name] = (
            type(value)(padded)
            if isinstance(value, (list, tuple))
            else (np.asarray(padded, dtype=array.dtype))
        )
    return model.set_params(**widened)


def own_random_state(estimator):
    """The first integer ``random_state`` of ``estimator`` (its own or a
    step's), or None."""
    for name, value in estimator.get_params(deep=True).items():
        if (name == "random_state" or name.endswith("__random_state")) and _is_int(
            value
        ):
            return int(value)
    return None


def seeded_clone(estimator, seed):
    """A clone of ``estimator`` with every ``random_state`` it has (its own
    and its steps', for a Pipeline) set to ``seed``, as scikit-learn's
    ensembles seed their members; with ``seed=None``, a clone that keeps
    them."""
    model = clone(estimator)
    if seed is None:
        return model
    seeded = {
        name: int(seed)
        for name in model.get_params(deep=True)
        if name == "random_state" or name.endswith("__random_state")
    }
    return model.set_params(**seeded)


def fit_weighted(model, X, y, sample_weight):
    """``model.fit(X, y)`` with row weights; a Pipeline passes them to its
    last step (with metadata routing on, the clone's last step requests
    them unless its request was set)."""
    routing = get_config()["enable_metadata_routing"]
    if isinstance(model, Pipeline) and not routing:
        params = {f"{model.steps[-1][0]}__sample_weight": sample_weight}
    else:
        params = {"sample_weight": sample_weight}
        if isinstance(model, Pipeline):
            last = model.steps[-1][1]
            requests = last.get_metadata_routing().fit.requests
            if requests.get("sample_weight") is None:
                last.set_fit_request(sample_weight=True)
    try:
        return model.fit(X, y, **params)
    except UnsetMetadataPassedError as error:
        raise ValueError(
            f"With metadata routing on, estimator={type(model).__name__}(...) "
            "passes sample_weight on only to the estimators inside it that "
            "request it, and DwB's soft labels are weights: call "
            "set_fit_request(sample_weight=True) on the classifier inside it."
        ) from error
    except TypeError as error:
        if "sample_weight" not in str(error):
            raise
        raise ValueError(
            f"estimator={type(model).__name__}(...) refused sample_weight in "
            f"fit ({error}). DwB gives a scikit-learn student the teacher's "
            "soft labels as weighted copies of its rows, so it needs a "
            "classifier whose fit takes sample_weight."
        ) from error
    except ValueError as error:
        hint = next(
            (fix for found, fix in _INPUT_FIXES.items() if found in str(error)), None
        )
        if hint is None:
            raise
        raise ValueError(
            f"estimator={type(model).__name__}(...) refused the training "
            f"input ({error}). DwB passes X to the estimator as it is: {hint}"
        ) from error


#: Input a wrapped estimator refuses (a fragment of its error) and the fix.
_INPUT_FIXES = {
    "could not convert string to float": (
        "encode the text columns first (e.g. a Pipeline of a ColumnTransformer "
        "with a OneHotEncoder and the classifier, as estimator), or use a "
        "model that takes them (HistGradientBoostingClassifier("
        "categorical_features='from_dtype') with pandas categoricals)."
    ),
    "contains NaN": (
        "impute the missing values first (e.g. make_pipeline(SimpleImputer(), "
        "classifier) as estimator), or use a model that takes them "
        "(HistGradientBoostingClassifier)."
    ),
}


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
        if not _is_int(n_classes) or n_classes < 2:
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


class EstimatorLearner:
    """Teacher and student as clones of a scikit-learn classifier (the
    owner's ``estimator``), seeded by ``random_state`` and trained through
    ``sample_weight``."""

    train_longer = "the estimator's iterations, e.g. estimator__max_iter"

    def __init__(self, owner, n_classes, keep_own_seeds=False):
        self.owner = owner
        self.n_classes = n_classes
        # the clones keep the estimator's own random_state (see the
        # classifier's random_state), or get one drawn by the fit
        self.keep_own_seeds = keep_own_seeds
        estimator = owner.estimator
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

    def prepare(self, X, y, seed):
        """The features every model of the fit learns from: X, or the
        output of a Pipeline's transformers fitted on it (dense)."""
        if self.steps is not None:
            transformer = seeded_clone(Pipeline(self.steps[:-1]), self._seed(seed))
            X = transformer.fit_transform(X, y)
            self.transformer = transformer
            X = X.toarray() if sparse.issparse(X) else X
        self.n_features = X.shape[1]
        return X

    def finish(self, student):
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

    def fit_teacher(self, data, X_in, seed, train_rows, valid_rows, label):
        return self._fit(
            seed,
            take_rows(X_in, train_rows),
            data.y_codes[train_rows],
            data.sample_weight[train_rows],
        )

    def logits(self, model, X_in):
        proba = proba_of(model, X_in, self.n_classes)
        return np.log(np.clip(proba, 1e-12, None)).astype(np.float32)

    def predict_codes(self, model, X):
        return proba_of(model, X, self.n_classes).argmax(axis=1)

    def fit_dose_teachers(self, data, plan, folds, seeds, train_rows, valid_rows):
        """Each fold's teacher learns :data:`DOSE_COPIES` copies of the
        fold's rows (validation rows included: no early stopping here), each
        copy with fresh doses and the triggers (or weights) they imply."""
        owner = self.owner
        teachers, predictions = [], np.empty((len(DOSE_GRID), len(data.X)), np.intp)
        for fold, (fit_rows, held_out) in enumerate(folds):
            generator = torch.Generator().manual_seed(seeds.teacher_seed + fold)
            rows = np.tile(fit_rows, DOSE_COPIES)
            sampler = DoseSampler(
                plan.rows(rows), owner.trigger_value, owner._dose_mechanism
            )
            weight = {"weight": torch.as_tensor(data.sample_weight[rows])}
            dose = draw_doses(len(rows), generator=generator)
            # the sampler on no features: the dose and trigger columns alone
            extra, weight = sampler(np.zeros((len(rows), 0), np.float32), weight, dose)
            X_fit = append_columns(
                repeat_rows(data.X, fit_rows, DOSE_COPIES), extra.numpy()
            )
            teacher = self._fit(
                seeds.teacher_seed, X_fit, data.y_codes[rows], weight["weight"].numpy()
            )
            predictions[:, held_out] = self._grid_codes(
                teacher, take_rows(data.X, held_out), plan.rows(held_out)
            )
            teachers.append(teacher)
        return teachers, predictions

    def _grid_codes(self, teacher, X, plan):
        """Predicted class codes of clean rows at every dose of the grid, an
        array of shape (len(DOSE_GRID), n_samples).

        A boosted tree ensemble's probabilities are a function of the sum of
        one leaf value per tree, and the doses that reach a leaf form an
        interval: where a row's probabilities are equal at two doses, it
        reached the same leaves at both (barring sums of different leaf
        values that are equal to the last bit), so also at every dose
        between them. Such a teacher is asked at every
        :data:`BISECT_STEP`-th dose, then, by bisection, only for the rows
        whose probabilities differ at an interval's ends; the codes are
        those of asking every row at every dose. Other teachers are asked
        at every dose.
        """
        n_doses, rows = len(DOSE_GRID), np.arange(len(plan.group_codes))

        def answers(j, rows):
            if len(rows) < len(plan.group_codes):
                X_rows, plan_rows = take_rows(X, rows), plan.rows(rows)
            else:
                X_rows, plan_rows = X, plan
            doses = np.full(len(rows), DOSE_GRID[j], dtype=np.float32)
            columns = dose_columns(plan_rows, doses, 0.0).numpy()
            return proba_of(teacher, append_columns(X_rows, columns), self.n_classes)

        if not isinstance(teacher, _BOOSTED_TREES):
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

    def distil(self, data, teacher_logits, seed, train_rows, valid_rows):
        """The student on weighted copies of the rows, one per class (see
        the module's docstring); copies under :data:`MIN_COPY_SHARE` of
        their row's weight are left out."""
        weight = self.owner.distill_weight
        target = _softmax(teacher_logits[train_rows])
        if weight < 1:
            hard = np.eye(self.n_classes)[data.y_codes[train_rows]]
            target = weight * target + (1.0 - weight) * hard
        # the copies, class by class: class code and position of each
        codes, positions = np.nonzero(target.T >= MIN_COPY_SHARE)
        rows = train_rows[positions]
        student = self._fit(
            seed,
            take_rows(data.X, rows),
            codes,
            data.sample_weight[rows] * target[positions, codes],
        )
        X_train = take_rows(data.X, train_rows)
        predicted = proba_of(student, X_train, self.n_classes).argmax(axis=1)
        check_student_follows(
            self.estimator, predicted, target, data.sample_weight[train_rows]
        )
        return student
