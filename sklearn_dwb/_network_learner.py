"""Teacher and student as skorch networks of one architecture (the learner
interface is described in :mod:`sklearn_dwb._learners`)."""

import functools
from numbers import Integral
from typing import NamedTuple

import numpy as np
import torch
from sklearn.base import clone
from skorch.callbacks import ProgressBar
from skorch.dataset import Dataset
from skorch.helper import predefined_split

from ._dose import DoseSampler, dose_predictions, draw_doses
from ._learners import Distillation, fold_by_fold, is_int, label_rows
from ._network import (
    EarlyStopping,
    TensorBatchIterator,
    WeightedDistillationNet,
    check_finite_logits,
    seeded_training,
    train,
)
from ._trigger import append_triggers
from ._tuning import STRENGTH_GRID
from .nn import TabularMLP

# AdamW's fused kernel (one call for all parameters) runs on the CPU from
# torch 2.4 on and on CUDA before that; it computes the same update faster.
_FUSED_ADAMW = tuple(int(v) for v in torch.__version__.split(".")[:2]) >= (2, 4)
MODULE_PREFIX = "module__"


class NetworkSettings(NamedTuple):
    """The network's parameters, as the estimator was given them."""

    module: object  # a torch module class or partial, or None: TabularMLP
    module_kwargs: dict  # its keyword arguments (module__*, unprefixed)
    hidden_layer_sizes: object
    dropout: float
    activation: str
    max_epochs: int
    batch_size: int
    lr: float
    weight_decay: float
    early_stopping: bool
    n_iter_no_change: int
    tol: float
    verbose: int


def module_and_kwargs(settings):
    """The torch module (class or partial) and its keyword arguments."""
    kwargs = dict(settings.module_kwargs)
    if settings.module is not None:
        if isinstance(settings.module, torch.nn.Module):
            raise ValueError(
                "module must be a torch.nn.Module class or a "
                "functools.partial of one, not an instance: teacher and "
                "student are built with different input widths. Pass the "
                "class and give its arguments as module__<name>=value."
            )
        return settings.module, kwargs
    given = kwargs.get("hidden_layer_sizes", settings.hidden_layer_sizes)
    sizes = (given,) if isinstance(given, Integral) else tuple(given)
    if not all(is_int(s) and s > 0 for s in sizes):
        raise ValueError(
            "hidden_layer_sizes must hold positive integers, e.g. (64, 64); "
            f"got {given!r}."
        )
    defaults = {"dropout": settings.dropout, "activation": settings.activation}
    return TabularMLP, {**defaults, **kwargs, "hidden_layer_sizes": sizes}


def template_net(settings, n_classes, device):
    """The skorch net that teachers and students are derived from."""
    module, module_kwargs = module_and_kwargs(settings)
    callbacks = []
    if settings.early_stopping:
        stopping = EarlyStopping(
            monitor="valid_loss",
            patience=settings.n_iter_no_change,
            threshold=settings.tol,
            threshold_mode="rel",
            load_best=True,
        )
        callbacks.append(("early_stopping", stopping))
    if settings.verbose >= 3:
        callbacks.append(("progress_bar", ProgressBar()))
    return WeightedDistillationNet(
        module,
        module__n_classes=n_classes,
        **{MODULE_PREFIX + name: value for name, value in module_kwargs.items()},
        optimizer=torch.optim.AdamW,
        lr=settings.lr,
        optimizer__weight_decay=settings.weight_decay,
        optimizer__fused=_FUSED_ADAMW,
        max_epochs=settings.max_epochs,
        batch_size=settings.batch_size,
        iterator_train=TensorBatchIterator,
        iterator_train__shuffle=True,
        iterator_valid=TensorBatchIterator,
        iterator_valid__batch_size=max(settings.batch_size, 4096),
        train_split=None,
        callbacks=callbacks,
        classes=list(range(n_classes)),
        device=device,
        verbose=settings.verbose,
    )


def _as_tensors(labels):
    return {key: torch.as_tensor(value) for key, value in labels.items()}


def _as_arrays(labels):
    return {key: np.asarray(value) for key, value in labels.items()}


class NetworkLearner:
    """Teacher and student as skorch networks of one architecture, built
    from the network's settings."""

    #: What trains the models longer (named in warnings).
    train_longer = "max_epochs, n_iter_no_change"

    def __init__(self, settings, n_classes, device, distillation, trigger_value):
        self.early_stopping = settings.early_stopping
        self.distillation = Distillation(*distillation)
        self.trigger_value = trigger_value
        self.template = template_net(settings, n_classes, device)

    def fit_features(self, X, y, seed):
        """The features every model of the fit learns from: X itself."""
        return X

    def kept_model(self, student):
        """The model kept as ``student_``: the student itself."""
        return student

    def append(self, X, columns):
        return append_triggers(X, columns)

    def fit_teacher(self, data, X_in, seed, rows, label):
        labels = data.labels
        teacher = self._derive_net(X_in, labels, rows.valid, label=label)
        with seeded_training(teacher, seed):
            train(teacher, X_in[rows.train], label_rows(labels, rows.train))
        return teacher

    def logits(self, model, X_in):
        logits = model.forward(X_in, device="cpu").numpy()
        check_finite_logits(model, logits)
        return logits

    def predict_codes(self, model, X):
        return model.forward(X, device="cpu").argmax(dim=1).numpy()

    def fit_dose_teachers(
        self, data, dose_rows, folds, seeds, rows, mechanism, n_jobs=None
    ):
        """One dose teacher per fold, each drawing fresh doses every epoch,
        and the class of each held-out row at every strength of the grid."""
        sampler = DoseSampler(dose_rows, self.trigger_value, mechanism)
        # early stopping watches one fixed draw of doses on the validation rows
        fixed = torch.Generator().manual_seed(seeds.stamp_seed)
        dose = draw_doses(len(data.X), generator=fixed)
        X_fixed, labels_fixed = sampler(data.X, _as_tensors(data.labels), dose=dose)
        stopping = (X_fixed.numpy(), _as_arrays(labels_fixed))
        shared = (data, dose_rows, stopping, seeds, rows, mechanism, len(folds))
        return fold_by_fold(
            functools.partial(self._fit_fold, *shared),
            folds,
            len(STRENGTH_GRID),
            len(data.classes),
            n_jobs,
        )

    def _fit_fold(
        self, data, dose_rows, stopping, seeds, rows, mechanism, n_folds, *fold
    ):
        """The dose teacher of one fold, and its held-out rows' codes."""
        fold, fold_rows, held_out = fold
        fit_rows = rows.train[np.isin(rows.train, fold_rows)]
        stop_rows = None
        if rows.valid is not None:
            stop_rows = rows.valid[np.isin(rows.valid, fold_rows)]
        label = "teacher (every strength)"
        if n_folds > 1:
            label = f"teacher (every strength, fold {fold + 1} of {n_folds})"
        teacher = self._derive_net(*stopping, stop_rows, label=label).set_params(
            iterator_train__epoch_transform=DoseSampler(
                dose_rows.rows(fit_rows), self.trigger_value, mechanism
            )
        )
        with seeded_training(teacher, seeds.teacher_seed):
            train(teacher, data.X[fit_rows], label_rows(data.labels, fit_rows))
        codes = dose_predictions(teacher, data.X[held_out], dose_rows.rows(held_out))
        return teacher, codes

    def distil(self, data, teacher_logits, seed, rows):
        labels = {**data.labels, "teacher_logits": teacher_logits}
        student = self._derive_net(
            data.X,
            labels,
            rows.valid,
            label="student",
            distill_temperature=self.distillation.temperature,
            distill_weight=self.distillation.weight,
        )
        with seeded_training(student, seed):
            train(student, data.X[rows.train], label_rows(labels, rows.train))
        check_finite_logits(student, student.forward(data.X, device="cpu"))
        return student

    def _derive_net(self, X, labels, valid_rows, **params):
        """A copy of the template for inputs like X, validated on valid_rows."""
        split = None
        if self.early_stopping:
            valid = Dataset(X[valid_rows], label_rows(labels, valid_rows))
            split = predefined_split(valid)
        return clone(self.template).set_params(
            module__n_features=X.shape[1], train_split=split, **params
        )
