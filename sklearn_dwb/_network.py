"""Steps 3 and 4 of DwB on skorch: the net that trains teacher and student
with one weighted loss, a fast batch iterator, early stopping, seeding."""

import math
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from skorch import NeuralNetClassifier
from skorch import callbacks as skorch_callbacks
from skorch.callbacks import EpochTimer, PassthroughScoring, PrintLog
from skorch.utils import to_tensor


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
    drawn from torch's global generator, which the estimator seeds inside
    ``fit``, so every epoch gets a new, reproducible order in which each row
    appears exactly once.

    ``epoch_transform(X, y) -> (X, y)``, if given, makes each epoch's rows
    from the dataset's before they are shuffled (the dose-trained teacher
    draws its doses and triggers there).
    """

    def __init__(self, dataset, batch_size, shuffle=False, epoch_transform=None):
        self.X = _as_tensor(dataset.X)
        self.y = None if dataset.y is None else _as_tensor(dataset.y)
        self.n_rows = len(self.X)
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.epoch_transform = epoch_transform

    def __len__(self):
        return math.ceil(self.n_rows / self.batch_size)

    def __iter__(self):
        X, y = self.X, self.y
        if self.epoch_transform is not None:
            X, y = self.epoch_transform(X, y)
        if self.shuffle:
            order = torch.randperm(self.n_rows)
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


class EarlyStopping(skorch_callbacks.EarlyStopping):
    """skorch's early stopping, ending training with :class:`StopTraining`."""

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
    applies :func:`softmax`.
    """

    def __init__(
        self,
        module,
        *args,
        criterion=torch.nn.CrossEntropyLoss,
        predict_nonlinearity=softmax,
        distill_temperature=1.0,
        distill_weight=1.0,
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

    @property
    def _default_callbacks(self):
        # skorch's valid_acc scorer compares predictions with y, which is a
        # dict here; the losses are all that early stopping needs.
        return [
            ("epoch_timer", EpochTimer()),
            ("train_loss", PassthroughScoring(name="train_loss", on_train=True)),
            ("valid_loss", PassthroughScoring(name="valid_loss")),
            ("print_log", PrintLog()),
        ]

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


def resolve_device(device):
    """Map ``"auto"`` to ``"cuda"`` when a GPU is visible, else ``"cpu"``."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def train(net, X, y):
    """Fit a skorch net, passing on an interrupt, and drop its validation data."""
    try:
        net.fit(X, y)
    except TrainingInterrupted:
        raise KeyboardInterrupt(
            "training interrupted; the estimator is unfitted"
        ) from None
    net.train_split = None  # holds the validation rows: do not ship them
    return net


@contextmanager
def seeded_torch(seed, device):
    """Seed torch inside the block and restore the caller's RNG state after."""
    device = torch.device(device)
    cuda = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda):
        torch.manual_seed(int(seed))
        yield
