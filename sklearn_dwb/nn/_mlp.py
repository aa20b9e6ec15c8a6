"""The default network of teacher and student."""

import functools
import math

import torch

_ACTIVATIONS = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "gelu": torch.nn.GELU}


class TabularMLP(torch.nn.Module):
    """Fully connected network for tabular features that returns class logits.

    The default ``module`` of :class:`~sklearn_dwb.BackdoorDebiasClassifier`
    (a torch module, not an estimator: see
    :class:`~sklearn.neural_network.MLPClassifier` for scikit-learn's own).

    Parameters
    ----------
    n_features : int
        Number of input columns.
    n_classes : int
        Number of output logits.
    hidden_layer_sizes : tuple of int, default=(64, 64)
        Width of each hidden layer.
    dropout : float, default=0.0
        Dropout probability after each hidden activation.
    activation : {"relu", "tanh", "gelu"}, default="relu"
        Hidden-layer non-linearity.

    Examples
    --------
    >>> import torch
    >>> from sklearn_dwb.nn import TabularMLP
    >>> net = TabularMLP(n_features=5, n_classes=3, hidden_layer_sizes=(8,))
    >>> net(torch.zeros(4, 5)).shape
    torch.Size([4, 3])
    """

    # every random draw (initial weights, dropout masks) can come from a
    # generator of the caller's: see ``generator``
    draws_from_generator = True

    def __init__(
        self,
        n_features,
        n_classes,
        hidden_layer_sizes=(64, 64),
        dropout=0.0,
        activation="relu",
        generator=None,
    ):
        super().__init__()
        # float32 whatever torch's default dtype: weights drawn in float64 and
        # cast would differ from the float32 draws of the same seed
        linear = functools.partial(torch.nn.Linear, dtype=torch.float32)
        if generator is not None:  # no draw from torch's global generator
            linear = functools.partial(
                torch.nn.utils.skip_init, torch.nn.Linear, dtype=torch.float32
            )
        layers = []
        width = n_features
        for size in hidden_layer_sizes:
            layers += [linear(width, size), _ACTIVATIONS[activation]()]
            if dropout > 0:
                layers.append(Dropout(dropout, generator))
            width = size
        layers.append(linear(width, n_classes))
        self.layers = torch.nn.Sequential(*layers)
        if generator is not None:
            self.reset_parameters(generator)

    def reset_parameters(self, generator=None):
        """Draw the initial weights as :class:`torch.nn.Linear` does, from
        ``generator`` (torch's global generator if None)."""
        for layer in self.layers:
            if isinstance(layer, torch.nn.Linear):
                torch.nn.init.kaiming_uniform_(
                    layer.weight, a=math.sqrt(5), generator=generator
                )
                bound = 1 / math.sqrt(layer.in_features) if layer.in_features else 0
                torch.nn.init.uniform_(layer.bias, -bound, bound, generator=generator)

    def set_generator(self, generator):
        """Draw the dropout masks from ``generator`` (None: torch's global
        generator); not pickled with a generator (set None before saving)."""
        for layer in self.layers:
            if isinstance(layer, Dropout):
                layer.generator = generator

    def forward(self, X):
        return self.layers(X)


class Dropout(torch.nn.Dropout):
    """:class:`torch.nn.Dropout` whose masks come from ``generator`` when one
    is set (the same mask for the same generator state as torch's own CPU
    dropout draws from its global generator)."""

    def __init__(self, p=0.5, generator=None):
        super().__init__(p)
        self.generator = generator

    def forward(self, X):
        if self.generator is None or not self.training or self.p == 0:
            return super().forward(X)
        if self.p == 1:
            return X * 0.0
        noise = torch.empty_like(X).bernoulli_(1 - self.p, generator=self.generator)
        noise.div_(1 - self.p)
        return X * noise
