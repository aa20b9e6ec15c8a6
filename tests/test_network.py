"""The batch iterator and the distillation loss of the skorch net."""

import numpy as np
import torch
import torch.nn.functional as F
from skorch.dataset import Dataset

from sklearn_dwb._network import TensorBatchIterator, WeightedDistillationNet
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
        TabularMLP, module__n_features=3, module__n_classes=3,
        criterion=torch.nn.CrossEntropyLoss, classes=[0, 1, 2], **kwargs,
    )  # fmt: skip
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
        ModeRecorder, module__n_features=3, module__n_classes=3, classes=[0, 1, 2],
        criterion=torch.nn.CrossEntropyLoss, max_epochs=2, batch_size=10,
        train_split=None, iterator_train=TensorBatchIterator,
        iterator_valid=TensorBatchIterator, verbose=0,
    )  # fmt: skip
    net.fit(X, y)
    assert net.module_.modes == [True] * 8  # 2 epochs of 4 batches
    net.module_.modes.clear()
    net.predict_proba(X)
    assert net.module_.modes == [False] * 4
    net.module_.modes.clear()
    net.partial_fit(X, y)
    assert net.module_.modes == [True] * 8
