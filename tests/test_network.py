"""The skorch side of the estimator: batch iterator, weighted and
distillation losses, training modes, early stopping, interrupts, diverged
training, the module's checks and dtype, seeding (also in threads)."""

import threading
import time

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from skorch.dataset import Dataset
from skorch.helper import predefined_split

from sklearn_dwb._network import (
    EarlyStopping,
    TensorBatchIterator,
    TrainingDiverged,
    WeightedDistillationNet,
    seeded_training,
    train,
)
from sklearn_dwb.nn import TabularMLP


def test_iterator_yields_every_row_once_per_epoch_in_seeded_order():
    X = np.arange(1003, dtype=np.float32)[:, None]
    y = {"label": np.arange(1003), "weight": np.ones(1003, dtype=np.float32)}
    iterator = TensorBatchIterator(Dataset(X, y), batch_size=100, shuffle=True)
    assert len(iterator) == 11

    def epoch():
        batches = list(iterator)
        rows = torch.cat([Xb[:, 0] for Xb, _ in batches]).long()
        labels = torch.cat([yb["label"] for _, yb in batches])
        assert torch.equal(rows, labels)  # X and y stay aligned
        assert [len(Xb) for Xb, _ in batches] == [100] * 10 + [3]
        return rows

    torch.manual_seed(0)
    first, second = epoch(), epoch()
    for rows in (first, second):
        assert sorted(rows.tolist()) == list(range(1003))
    assert not torch.equal(first, second)  # a new order every epoch
    torch.manual_seed(0)
    assert torch.equal(epoch(), first)  # seeded

    ordered = TensorBatchIterator(Dataset(X, None), batch_size=500)
    assert torch.equal(torch.cat([Xb for Xb, _ in ordered]), torch.from_numpy(X))


def _net(**kwargs):
    net = WeightedDistillationNet(
        TabularMLP,
        module__n_features=3,
        module__n_classes=3,
        criterion=torch.nn.CrossEntropyLoss,
        classes=[0, 1, 2],
        **kwargs,
    )
    return net.initialize()


def test_teacher_loss_is_weighted_cross_entropy():
    torch.manual_seed(0)
    logits = torch.randn(6, 3)
    label = torch.tensor([0, 1, 2, 0, 1, 2])
    weight = torch.tensor([1.0, 0.0, 2.0, 1.0, 3.0, 0.5])
    loss = _net().get_loss(logits, {"label": label, "weight": weight})
    per_row = F.cross_entropy(logits, label, reduction="none")
    torch.testing.assert_close(loss, (per_row * weight).sum() / weight.sum())


def test_student_loss_is_the_distillation_objective():
    torch.manual_seed(0)
    student, teacher = torch.randn(5, 3), torch.randn(5, 3)
    label = torch.tensor([0, 1, 2, 1, 0])
    weight = torch.tensor([1.0, 2.0, 1.0, 0.5, 1.0])
    T, lam = 2.0, 0.7
    loss = _net(distill_temperature=T, distill_weight=lam).get_loss(
        student, {"label": label, "weight": weight, "teacher_logits": teacher}
    )
    p_teacher = torch.softmax(teacher / T, dim=1)
    kl = (p_teacher * (p_teacher.log() - torch.log_softmax(student / T, dim=1))).sum(1)
    ce = F.cross_entropy(student, label, reduction="none")
    expected = ((lam * T**2 * kl + (1 - lam) * ce) * weight).sum() / weight.sum()
    torch.testing.assert_close(loss, expected)
    # pure distillation of the teacher's own logits costs nothing
    zero = _net(distill_weight=1.0).get_loss(
        teacher, {"label": label, "weight": weight, "teacher_logits": teacher}
    )
    torch.testing.assert_close(zero, torch.tensor(0.0), atol=1e-6, rtol=0)


class ModeRecorder(torch.nn.Module):
    """Records, at every forward pass, the mode of its innermost submodule."""

    def __init__(self, n_features, n_classes):
        super().__init__()
        linear = torch.nn.Linear(n_features, n_classes)
        self.inner = torch.nn.Sequential(torch.nn.Sequential(linear))
        self.modes = []

    def forward(self, X):
        self.modes.append(self.inner[0][0].training)
        return self.inner(X)


def test_training_mode_reaches_every_submodule():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3)).astype(np.float32)
    y = {"label": rng.integers(0, 3, 40), "weight": np.ones(40, dtype=np.float32)}
    net = WeightedDistillationNet(
        ModeRecorder,
        module__n_features=3,
        module__n_classes=3,
        classes=[0, 1, 2],
        criterion=torch.nn.CrossEntropyLoss,
        max_epochs=2,
        batch_size=10,
        train_split=None,
        iterator_train=TensorBatchIterator,
        iterator_valid=TensorBatchIterator,
        verbose=0,
    )
    net.fit(X, y)
    # the check of the module's output (one forward pass in evaluation mode),
    # then 2 epochs of 4 batches in training mode
    assert net.module_.modes == [False] + [True] * 8
    net.module_.modes.clear()
    net.predict_proba(X)
    assert net.module_.modes == [False] * 4
    net.module_.modes.clear()
    net.partial_fit(X, y)
    assert net.module_.modes == [True] * 8


def _small_task(n_rows=40):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n_rows, 3)).astype(np.float32)
    y = {"label": rng.integers(0, 3, n_rows), "weight": np.ones(n_rows, np.float32)}
    return X, y


class InterruptOnThirdBatch(torch.nn.Module):
    def __init__(self, n_features, n_classes):
        super().__init__()
        self.linear = torch.nn.Linear(n_features, n_classes)
        self.calls = 0

    def forward(self, X):
        self.calls += 1
        if self.calls == 3:
            raise KeyboardInterrupt
        return self.linear(X)


def _trainable(module, **kwargs):
    return WeightedDistillationNet(
        module,
        module__n_features=3,
        module__n_classes=3,
        classes=[0, 1, 2],
        batch_size=10,
        iterator_train=TensorBatchIterator,
        iterator_valid=TensorBatchIterator,
        verbose=0,
        **kwargs,
    )


def test_train_stops_early_and_drops_the_validation_rows():
    X, y = _small_task()
    valid = Dataset(X[:10], {key: value[:10] for key, value in y.items()})
    net = _trainable(
        TabularMLP,
        lr=0.0,  # the validation loss never improves
        max_epochs=20,
        train_split=predefined_split(valid),
        callbacks=[("early_stopping", EarlyStopping(patience=1))],
    )
    assert train(net, X, y) is net
    # the first epoch sets the best loss, the second misses it and stops
    assert len(net.history) == 2
    assert net.train_split is None
    assert net.predict_proba(X).shape == (40, 3)


def test_train_passes_on_an_interrupt():
    X, y = _small_task()
    net = _trainable(InterruptOnThirdBatch, max_epochs=5, train_split=None)
    with pytest.raises(KeyboardInterrupt, match="training interrupted"):
        train(net, X, y)
    assert net.module_.calls == 3


def test_seeded_training_draws_from_its_own_generator(biased_data):
    """The default network's initial weights, dropout masks and batch order
    come from the training's generator: the global generator is untouched,
    and the same seed gives the same net whatever the global state."""
    X, y, _ = biased_data
    X = X.astype(np.float32)
    labels = {"label": y.astype(np.int64), "weight": np.ones(len(y), np.float32)}

    def trained(global_seed):
        net = WeightedDistillationNet(
            TabularMLP,
            module__n_features=X.shape[1],
            module__n_classes=2,
            module__dropout=0.2,
            max_epochs=2,
            batch_size=64,
            iterator_train=TensorBatchIterator,
            iterator_train__shuffle=True,
            iterator_valid=TensorBatchIterator,
            train_split=None,
            classes=[0, 1],
            verbose=0,
        )
        torch.manual_seed(global_seed)
        state = torch.get_rng_state()
        with seeded_training(net, 3):
            train(net, X, labels)
        assert torch.equal(torch.get_rng_state(), state)  # never drawn from
        assert net.iterator_train__generator is None  # nothing to pickle
        assert all(
            layer.generator is None
            for layer in net.module_.layers
            if hasattr(layer, "generator")
        )
        return [p.detach().clone() for p in net.module_.parameters()]

    first, second = trained(0), trained(1)
    assert all(torch.equal(a, b) for a, b in zip(first, second, strict=True))


class NaNAfterTwoEpochs(torch.nn.Module):
    """Returns NaN logits from its 9th training forward pass (epoch 3 of 4
    batches) on."""

    def __init__(self, n_features, n_classes):
        super().__init__()
        self.linear = torch.nn.Linear(n_features, n_classes)
        self.calls = 0

    def forward(self, X):
        out = self.linear(X)
        if self.training:
            self.calls += 1
            if self.calls > 8:
                out = out * torch.nan
        return out


@pytest.mark.parametrize("early_stopping", [False, True])
def test_a_non_finite_training_loss_stops_training_with_an_error(early_stopping):
    X, y = _small_task()
    kwargs = {"max_epochs": 50, "train_split": None}
    if early_stopping:
        valid = Dataset(X[:10], {key: value[:10] for key, value in y.items()})
        kwargs["train_split"] = predefined_split(valid)
        kwargs["callbacks"] = [("early_stopping", EarlyStopping(patience=100))]
    net = _trainable(NaNAfterTwoEpochs, label="teacher", **kwargs)
    with pytest.raises(TrainingDiverged) as error:
        train(net, X, y)
    assert str(error.value).startswith(
        "Training the teacher diverged: the training loss of epoch 3 is not finite"
    )
    assert "lr=0.01" in str(error.value)
    assert len(net.history) == 3  # stopped at once, not after 50 epochs
    assert isinstance(error.value, ValueError)


def test_module_is_cast_to_float32_and_checked_once_built():
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        net = _net()
    finally:
        torch.set_default_dtype(default)
    assert {p.dtype for p in net.module_.parameters()} == {torch.float32}
    X, _ = _small_task()
    assert net.predict_proba(X).shape == (40, 3)
    four_logits = WeightedDistillationNet(
        TabularMLP, module__n_features=3, module__n_classes=4, classes=[0, 1, 2]
    )
    with pytest.raises(ValueError, match=r"= \(2, 3\) .* shape \(2, 4\)"):
        four_logits.initialize()


def test_seeded_sections_of_custom_modules_in_threads_take_turns():
    """A custom module draws from torch's global generator: its seeded
    training sections take turns and restore the caller's state."""
    events = []
    first_inside = threading.Event()

    def custom_net():
        return WeightedDistillationNet(torch.nn.Linear, device="cpu")

    def first():
        with seeded_training(custom_net(), 1):
            first_inside.set()
            time.sleep(0.2)
            events.append(("first", torch.rand(3)))

    def second():
        first_inside.wait()
        with seeded_training(custom_net(), 2):
            events.append(("second", torch.rand(3)))

    torch.manual_seed(0)
    state = torch.get_rng_state()
    threads = [threading.Thread(target=f) for f in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [name for name, _ in events] == ["first", "second"]
    for (_, drawn), seed in zip(events, (1, 2), strict=True):
        torch.manual_seed(seed)
        assert torch.equal(drawn, torch.rand(3))
    torch.set_rng_state(state)  # (the manual seeds above changed it)
    assert torch.equal(torch.get_rng_state(), state)
