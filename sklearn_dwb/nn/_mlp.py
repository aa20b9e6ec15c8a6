"""The default network of teacher and student."""

import functools

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

    def __init__(
        self,
        n_features,
        n_classes,
        hidden_layer_sizes=(64, 64),
        dropout=0.0,
        activation="relu",
    ):
        super().__init__()
        # float32 whatever torch's default dtype: weights drawn in float64 and
        # cast would differ from the float32 draws of the same seed
        linear = functools.partial(torch.nn.Linear, dtype=torch.float32)
        layers = []
        width = n_features
        for size in hidden_layer_sizes:
            layers += [linear(width, size), _ACTIVATIONS[activation]()]
            if dropout > 0:
                layers.append(torch.nn.Dropout(dropout))
            width = size
        layers.append(linear(width, n_classes))
        self.layers = torch.nn.Sequential(*layers)

    def forward(self, X):
        return self.layers(X)
