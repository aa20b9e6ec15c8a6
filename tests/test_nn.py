"""TabularMLP, the default network of teacher and student."""

import pytest
import torch

from sklearn_dwb.nn import TabularMLP
from sklearn_dwb.nn._mlp import Dropout


def test_layer_widths_and_output_shape():
    net = TabularMLP(n_features=5, n_classes=3, hidden_layer_sizes=(8, 4))
    linear = [m for m in net.modules() if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linear] == [(5, 8), (8, 4), (4, 3)]
    assert net(torch.zeros(7, 5)).shape == (7, 3)
    # no hidden layer: a linear model of the features
    (only,) = TabularMLP(5, 2, hidden_layer_sizes=()).layers
    assert (only.in_features, only.out_features) == (5, 2)


@pytest.mark.parametrize(
    "name, activation",
    [("relu", torch.nn.ReLU), ("tanh", torch.nn.Tanh), ("gelu", torch.nn.GELU)],
)
def test_activation_follows_every_hidden_layer(name, activation):
    net = TabularMLP(5, 2, hidden_layer_sizes=(8, 4), activation=name)
    kinds = [type(m) for m in net.layers]
    assert kinds == [torch.nn.Linear, activation] * 2 + [torch.nn.Linear]


def test_dropout_only_when_asked_and_only_in_training():
    assert not any(
        isinstance(m, torch.nn.Dropout) for m in TabularMLP(5, 2, (8, 4)).modules()
    )
    net = TabularMLP(5, 2, hidden_layer_sizes=(64, 64), dropout=0.5)
    dropouts = [m for m in net.layers if isinstance(m, torch.nn.Dropout)]
    assert [m.p for m in dropouts] == [0.5, 0.5]
    assert [type(m) for m in net.layers[:3]] == [
        torch.nn.Linear,
        torch.nn.ReLU,
        Dropout,  # torch's Dropout, which can draw from a generator
    ]
    X = torch.ones(16, 5)
    torch.manual_seed(0)
    net.train()
    assert not torch.equal(net(X), net(X))  # a new dropout mask every pass
    net.eval()
    assert torch.equal(net(X), net(X))


def test_a_generator_draws_the_weights_and_masks_torch_would_draw():
    """With a generator, the weights and dropout masks are those torch's
    global generator gives for the same seed, and it is never touched."""
    torch.manual_seed(3)
    plain = TabularMLP(7, 2, (8, 5), dropout=0.3)
    torch.manual_seed(99)
    state = torch.get_rng_state()
    own = TabularMLP(
        7, 2, (8, 5), dropout=0.3, generator=torch.Generator().manual_seed(3)
    )
    for a, b in zip(plain.parameters(), own.parameters(), strict=True):
        assert torch.equal(a, b)
    X = torch.randn(16, 7)
    state = torch.get_rng_state()
    own.set_generator(torch.Generator().manual_seed(5))
    masked = own(X)
    assert torch.equal(torch.get_rng_state(), state)
    torch.manual_seed(5)
    assert torch.equal(masked, plain(X))
    own.set_generator(None)  # back to torch's global generator
    assert all(m.generator is None for m in own.modules() if isinstance(m, Dropout))
