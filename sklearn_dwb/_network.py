"""Steps 3 and 4 of DwB on skorch: the net that trains teacher and student
with one weighted loss, a fast batch iterator, early stopping, seeding."""

import functools
import math
import re
import sys
import threading
import time
from contextlib import contextmanager

import numpy as np
import torch
import torch.nn.functional as F
from skorch import NeuralNetClassifier
from skorch import callbacks as skorch_callbacks
from skorch.callbacks import Callback, EpochTimer, PassthroughScoring, PrintLog
from skorch.utils import to_tensor

# Every network trains in float32, the dtype of the validated data, whatever
# torch's default dtype.
DTYPE = torch.float32
# Rows of the forward pass that checks a module's output before training.
_PROBE_ROWS = 2
# Held while torch's global generator is seeded for the training of a custom
# module (see ``seeded_training``): such fits in several threads take turns.
_TORCH_RNG_LOCK = threading.RLock()


def _take(data, index):
    if isinstance(data, dict):
        return {key: value[index] for key, value in data.items()}
    return data[index]


def _as_tensor(data):
    if isinstance(data, dict):
        return {key: _as_tensor(value) for key, value in data.items()}
    return torch.as_tensor(data)


class TensorBatchIterator:
    """Mini-batches sliced from whole tensors, handed to skorch as its iterator.

    skorch's default ``DataLoader`` fetches and collates one row at a time.
    Here each epoch gathers the rows once, in a fresh random order when
    shuffling, and the batches are slices (views) of that copy. The order is
    drawn from ``generator``, the training's own (see :func:`seeded_training`;
    torch's global generator if None), so every epoch gets a new,
    reproducible order in which each row appears exactly once.

    ``epoch_transform(X, y, generator=...) -> (X, y)``, if given, makes each
    epoch's rows from the dataset's before they are shuffled (the
    dose-trained teacher draws its doses and triggers there).
    """

    def __init__(
        self, dataset, batch_size, shuffle=False, epoch_transform=None, generator=None
    ):
        self.X = _as_tensor(dataset.X)
        self.y = None if dataset.y is None else _as_tensor(dataset.y)
        self.n_rows = len(self.X)
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.epoch_transform = epoch_transform
        self.generator = generator

    def __len__(self):
        return math.ceil(self.n_rows / self.batch_size)

    def __iter__(self):
        X, y = self.X, self.y
        if self.epoch_transform is not None:
            X, y = self.epoch_transform(X, y, generator=self.generator)
        if self.shuffle:
            order = torch.randperm(self.n_rows, generator=self.generator)
            X = _take(X, order)
            y = None if y is None else _take(y, order)
        for start in range(0, self.n_rows, self.batch_size):
            index = slice(start, start + self.batch_size)
            yield _take(X, index), None if y is None else _take(y, index)


class TrainingInterrupted(Exception):
    """A KeyboardInterrupt inside skorch's fit loop, passed on.

    skorch ends training quietly on KeyboardInterrupt, as if it had finished;
    a half-trained teacher must not turn into a fitted estimator.
    """


class StopTraining(KeyboardInterrupt):
    """How early stopping ends training (skorch's own callback raises a plain
    KeyboardInterrupt, which would be mistaken for the user's)."""


class TrainingDiverged(ValueError):
    """Training produced a non-finite loss, weight or output."""


def diverged(net, what):
    """The error of a diverged net: what is not finite (e.g. "the training
    loss of epoch 1 is"), and the likely causes."""
    causes = (
        f"a learning rate that is too large (lr={net.lr!r}; lower it), "
        "unscaled features (standardise X, e.g. with StandardScaler), or a "
        "trigger_value too large for the features' scale"
    )
    decay = getattr(net, "optimizer__weight_decay", 0.0) or 0.0
    if decay >= 1 and net.lr * decay >= 1:
        # AdamW multiplies every weight by 1 - lr * weight_decay each step
        causes = (
            f"a weight decay that is too large (weight_decay={decay!r} with "
            f"lr={net.lr!r}: each step multiplies the weights by 1 - lr * "
            f"weight_decay = {1 - net.lr * decay:g}; keep weight_decay well "
            f"below 1 / lr, e.g. 1e-4), or {causes}"
        )
    return TrainingDiverged(
        f"Training the {net.label} diverged: {what} not finite (NaN or "
        "infinity), so the model would predict nothing meaningful. Likely "
        f"causes: {causes}."
    )


class StopOnNonFiniteLoss(Callback):
    """Ends training with :class:`TrainingDiverged` after an epoch whose
    training or validation loss is not finite."""

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        for key, name in (("train_loss", "training"), ("valid_loss", "validation")):
            if key in row and not math.isfinite(row[key]):
                what = f"the {name} loss of epoch {row['epoch']} is"
                raise diverged(net, what)


def _show(text):
    """Print a line of training output; colour codes only on a terminal."""
    if not sys.stdout.isatty():
        text = _ANSI.sub("", text)
    print(text, flush=True)


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class TrainingLog(Callback):
    """What a fit prints, by ``verbose``: nothing at 0; one line per network
    at 1 ("teacher: 12 epochs, ..."); at 2 a labelled per-epoch table too;
    from 3 a progress bar over each epoch's batches as well."""

    def on_train_begin(self, net, **kwargs):
        self.start_ = time.perf_counter()
        if net.verbose >= 2:
            _show(f"{net.label}:")

    def on_train_end(self, net, **kwargs):
        if not net.verbose:
            return
        history = net.history
        text = f"{net.label}: {len(history)} epochs"
        if len(history) < net.max_epochs:
            text += " (early stopping)"
        text += f", train loss {history[-1, 'train_loss']:.4f}"
        valid = [row.get("valid_loss") for row in history]
        if valid[-1] is not None:
            best = int(np.nanargmin(np.asarray(valid, dtype=float)))
            text += f", best valid loss {valid[best]:.4f} at epoch {best + 1}"
        _show(text + f", {time.perf_counter() - self.start_:.1f} s")


class EpochTable(PrintLog):
    """skorch's per-epoch table, from ``verbose=2`` on, without colour codes
    when the output is not a terminal."""

    def __init__(self):
        super().__init__(sink=_show)

    def _sink(self, text, verbose):
        if verbose >= 2:
            self.sink(text)


class EarlyStopping(skorch_callbacks.EarlyStopping):
    """skorch's early stopping, ending training with :class:`StopTraining`;
    its message is part of the per-epoch output (``verbose >= 2``)."""

    def _sink(self, text, verbose):
        if verbose >= 2:
            _show(text)

    def on_epoch_end(self, net, **kwargs):
        try:
            super().on_epoch_end(net, **kwargs)
        except KeyboardInterrupt:
            raise StopTraining from None


def softmax(logits):
    """The nets' output non-linearity: class probabilities from logits."""
    return torch.softmax(logits, dim=-1)


class WeightedDistillationNet(NeuralNetClassifier):
    """skorch classifier trained on ``y = {"label", "weight"[, "teacher_logits"]}``.

    Without ``teacher_logits`` the loss is the sample-weighted cross-entropy
    (the teacher). With them it is the distillation loss of the student,
    ``w * T**2 * KL(softmax(t / T) || softmax(s / T)) + (1 - w) * CE(s, y)``,
    with ``T = distill_temperature`` and ``w = distill_weight``, weighted per
    row by the sample weights. The module returns logits; ``predict_proba``
    applies :func:`softmax`. ``label`` names the net in what the fit prints
    (see :class:`TrainingLog`) and in its errors.
    """

    def __init__(
        self,
        module,
        *args,
        criterion=torch.nn.CrossEntropyLoss,
        predict_nonlinearity=softmax,
        distill_temperature=1.0,
        distill_weight=1.0,
        label="network",
        **kwargs,
    ):
        kwargs.setdefault("criterion__reduction", "none")  # weighted per row
        super().__init__(
            module,
            *args,
            criterion=criterion,
            predict_nonlinearity=predict_nonlinearity,
            **kwargs,
        )
        self.distill_temperature = distill_temperature
        self.distill_weight = distill_weight
        self.label = label

    @property
    def _default_callbacks(self):
        # skorch's valid_acc scorer compares predictions with y, which is a
        # dict here; the losses are all that early stopping needs.
        return [
            ("epoch_timer", EpochTimer()),
            ("train_loss", PassthroughScoring(name="train_loss", on_train=True)),
            ("valid_loss", PassthroughScoring(name="valid_loss")),
            ("print_log", EpochTable()),
            ("training_log", TrainingLog()),
            ("finite_loss", StopOnNonFiniteLoss()),
        ]

    def initialize_module(self):
        """Build the module, check it, and cast it to float32.

        One forward pass on a small batch of zeros, before any training,
        checks that the module returns float logits of shape
        ``(batch, n_classes)``.
        """
        kwargs = self.get_params_for("module")
        generators = getattr(self, "generators_", None)
        own = generators is not None and draws_from_generator(self.module)
        if own:
            kwargs["generator"] = generators[0]
        self.module_ = module = self.initialized_instance(self.module, kwargs)
        if own:  # dropout on the net's device
            module.set_generator(generators[1])
        if not any(p.requires_grad for p in module.parameters()):
            raise ValueError(
                f"The module {type(module).__name__} has no trainable parameters "
                "(module.parameters() is empty or frozen), so there is nothing "
                "to train; give it at least one layer with weights."
            )
        module.to(DTYPE)
        kwargs = self.get_params_for("module")
        n_classes = kwargs.get("n_classes")
        if self.classes is not None:
            n_classes = len(self.classes)
        check_module_output(module, kwargs.get("n_features"), n_classes)
        return self

    def fit_loop(self, *args, **kwargs):
        try:
            return super().fit_loop(*args, **kwargs)
        except StopTraining:
            raise  # skorch ends training normally
        except KeyboardInterrupt as interrupt:
            raise TrainingInterrupted from interrupt

    def check_data(self, X, y):
        # The estimator validated the data and fixed ``classes``.
        pass

    def _set_training(self, training=True):
        # skorch sets the mode before every batch, walking the whole module
        # tree; ``train``/``eval`` set the flag of every submodule at once, so
        # the top-level flags tell whether the walk is needed.
        for name in self._modules + self._criteria:
            module = getattr(self, name + "_")
            if isinstance(module, torch.nn.Module) and module.training != training:
                super()._set_training(training)
                return

    def get_loss(self, y_pred, y_true, X=None, training=False):
        y_true = to_tensor(y_true, device=self.device)
        weight = y_true["weight"]
        if "teacher_logits" not in y_true:
            loss = self.criterion_(y_pred, y_true["label"])
        else:
            temperature = self.distill_temperature
            kl = F.kl_div(
                F.log_softmax(y_pred / temperature, dim=1),
                F.log_softmax(y_true["teacher_logits"] / temperature, dim=1),
                log_target=True,
                reduction="none",
            ).sum(dim=1)
            loss = self.distill_weight * temperature**2 * kl
            if self.distill_weight < 1:  # the default (1) needs no label term
                label_loss = self.criterion_(y_pred, y_true["label"])
                loss = loss + (1.0 - self.distill_weight) * label_loss
        return (loss * weight).sum() / weight.sum().clamp_min(1e-12)


def check_module_output(module, n_features, n_classes):
    """One forward pass on zeros: the module must return float logits of
    shape ``(batch, n_classes)``, else a ValueError says what came back."""
    if n_features is None or n_classes is None:
        return
    parameter = next(module.parameters())
    probe = torch.zeros(_PROBE_ROWS, n_features, dtype=DTYPE, device=parameter.device)
    training = module.training
    module.eval()
    try:
        with torch.no_grad():
            output = module(probe)
    finally:
        module.train(training)
    expected = (_PROBE_ROWS, n_classes)
    if isinstance(output, torch.Tensor):
        if tuple(output.shape) == expected and output.is_floating_point():
            return
        got = f"a tensor of shape {tuple(output.shape)} and dtype {output.dtype}"
    else:
        got = f"a {type(output).__name__}"
    raise ValueError(
        f"The module {type(module).__name__} must return float class logits of "
        f"shape (batch, n_classes) = {expected} for a batch of {_PROBE_ROWS} rows "
        f"of {n_features} features; it returned {got}. Its forward should end "
        "with a layer of n_classes outputs (no softmax, no squeeze)."
    )


def check_finite_logits(net, logits):
    """Raise :class:`TrainingDiverged` if some of a trained net's logits are
    not finite."""
    if not torch.isfinite(torch.as_tensor(logits)).all():
        what = "its outputs (logits) on the training rows are"
        raise diverged(net, what)


def resolve_device(device):
    """Map ``"auto"`` to ``"cuda"`` when a GPU is visible, else ``"cpu"``;
    refuse a device that this machine does not have, before any work."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        parsed = torch.device(device)
    except RuntimeError as error:
        raise ValueError(
            f"device={device!r} is not a torch device; use 'auto', 'cpu' or "
            f"'cuda' (or 'cuda:<index>'). torch said: {error}"
        ) from None
    if parsed.type == "meta":
        raise ValueError(
            f"device={device!r} holds no data (tensors on it have shapes but no "
            "values), so nothing can be trained there; use 'auto', 'cpu' or "
            "'cuda'."
        )
    if parsed.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(
            f"device={device!r} was requested, but MPS is not available on this "
            "machine. Use device='auto' or device='cpu'."
        )
    if parsed.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={device!r} was requested, but CUDA is not available on "
                "this machine (no GPU visible, or torch built without CUDA). "
                "Use device='auto' (CUDA when available, else the CPU) or "
                "device='cpu'."
            )
        count = torch.cuda.device_count()
        if parsed.index is not None and parsed.index >= count:
            raise ValueError(
                f"device={device!r} was requested, but this machine has {count} "
                f"CUDA device(s) (indices 0 to {count - 1})."
            )
    return device


def train(net, X, y):
    """Fit a skorch net, passing on an interrupt, and drop its validation
    data; a non-finite loss or weight raises :class:`TrainingDiverged`."""
    try:
        net.fit(X, y)
    except TrainingInterrupted:
        raise KeyboardInterrupt(
            "training interrupted; the estimator is unfitted"
        ) from None
    net.train_split = None  # holds the validation rows: do not ship them
    # a dose teacher's sampler holds every training row's group, cell and rank
    if getattr(net, "iterator_train__epoch_transform", None) is not None:
        net.iterator_train__epoch_transform = None
    if not all(torch.isfinite(p).all() for p in net.module_.parameters()):
        raise diverged(net, "its weights are")
    return net


def draws_from_generator(module):
    """Whether a module class (or partial) draws every random number from a
    generator it is given (``generator=`` and ``set_generator``), as
    :class:`~sklearn_dwb.nn.TabularMLP` does."""
    while isinstance(module, functools.partial):
        module = module.func
    return bool(getattr(module, "draws_from_generator", False))


@contextmanager
def seeded_training(net, seed):
    """Train ``net`` inside the block with random numbers of its own.

    A ``torch.Generator`` seeded with ``seed`` draws the batch order, the
    dose teacher's doses and, for a module that takes a generator
    (:func:`draws_from_generator`: the default network), the initial weights
    and the dropout masks (on the net's device). Torch's global generator is
    then never touched, and fits in several threads run side by side, each
    one as it runs alone, whatever other torch code does meanwhile. A custom
    module draws from the global generator: it is seeded inside the block,
    under a process-wide lock (fits with custom modules take turns), and the
    caller's state is restored after.
    """
    seed = int(seed)
    device = torch.device(net.device)
    generator = torch.Generator().manual_seed(seed)
    on_device = generator
    if device.type != "cpu":
        on_device = torch.Generator(device=device).manual_seed(seed)
    net.generators_ = (generator, on_device)
    net.iterator_train__generator = generator  # handed to the batch iterator
    own = draws_from_generator(net.module)
    try:
        if own:
            yield
        else:
            cuda = [device.index or 0] if device.type == "cuda" else []
            with _TORCH_RNG_LOCK, torch.random.fork_rng(devices=cuda):
                torch.manual_seed(seed)
                yield
    finally:
        # a generator is no part of the fitted net (nor of its pickle)
        del net.generators_
        net.iterator_train__generator = None
        module = getattr(net, "module_", None)
        if module is not None and own:
            module.set_generator(None)
