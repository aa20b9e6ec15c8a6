"""BackdoorDebiasClassifier: a poisoned teacher distilled into a clean student."""

import warnings
from contextlib import contextmanager
from numbers import Integral, Real

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)
from skorch.dataset import Dataset
from skorch.helper import predefined_split

from ._groups import encode_groups, sensitive_frame
from ._network import (
    MLP,
    EarlyStopping,
    TensorBatchIterator,
    TrainingInterrupted,
    WeightedDistillationNet,
    resolve_device,
)
from ._trigger import plan_stamps, trigger_matrix
from .metrics._scorers import DISPARITY_METRICS, one_vs_rest_disparity

# AdamW's fused kernel (one call for all parameters) runs on the CPU from
# torch 2.4 on and on CUDA before that; it computes the same update faster.
_FUSED_ADAMW = tuple(int(v) for v in torch.__version__.split(".")[:2]) >= (2, 4)
# Strengths tried by trigger_strength="auto" (one teacher fit each).
_AUTO_STRENGTHS = (0.0, 0.25, 0.5, 0.75, 1.0)
# Rows per group used to measure how strongly the teacher responds to a trigger.
_RESPONSE_ROWS = 1000
# Below this median flip rate the teacher is reported as not having learned
# its triggers (the bias then stays on the group).
_WEAK_TRIGGER_FLIP_RATE = 0.5


class BackdoorDebiasClassifier(ClassifierMixin, BaseEstimator):
    """Debias with Backdoor (DwB): a teacher network on trigger-stamped data,
    distilled into a student that predicts without triggers.

    Part of every over-represented (group, class) cell is stamped with an
    artificial trigger feature, so the teacher network explains the cell's
    excess with the trigger instead of the sensitive group ("pseudo-deletion").
    A student network of the same architecture is then distilled from the
    teacher's outputs on clean rows; it inherits the debiased behaviour, has no
    trigger inputs, and is the only network kept after ``fit``.

    Inputs should be numeric and standardised (e.g. the output of a
    :class:`~sklearn.compose.ColumnTransformer` with a
    :class:`~sklearn.preprocessing.StandardScaler`): ``trigger_value`` is
    measured against that scale.

    Parameters
    ----------
    trigger_strength : float or "auto", default=1.0
        Share ``alpha`` of each cell's excess to stamp: 0 trains a plain
        network, 1 removes the excess exactly, above 1 over-corrects.
        ``"auto"`` fits one teacher for each strength in (0, 0.25, 0.5, 0.75,
        1) on the training part of the rows, scores each on the held-out
        ``validation_fraction`` (clean rows, as the student will see them),
        and keeps the strength with the smallest ``auto_metric`` among those
        whose validation accuracy is within ``auto_tolerance`` of the best
        (ties: the smaller strength). Costs four extra teacher fits; the
        search is in ``strength_search_``.
    target : {"global", "balanced"}, default="global"
        Label distribution the untriggered rows of every group should follow.
        ``"global"`` keeps the overall class frequencies (the label becomes
        independent of the group, base rate kept); ``"balanced"`` makes every
        group's untriggered rows class-balanced, as in the original paper.
    sensitive_columns : str, int, list of those, callable or None, default=None
        Where the groups come from when ``sensitive_features`` is not passed
        to ``fit``: column names of a DataFrame ``X``, integer positions of
        ``X``, or a callable ``X -> groups``. The columns stay in ``X`` as
        features. Exactly one of ``sensitive_columns`` and
        ``sensitive_features`` must be given.
    auto_metric : str, default="demographic_parity_difference"
        Disparity minimised by ``trigger_strength="auto"``: one of
        ``"demographic_parity_difference"``, ``"equalized_odds_difference"``,
        ``"equal_opportunity_difference"`` and ``"average_odds_difference"``
        (:mod:`fairlearn.metrics`; with more than two classes, the largest
        one-vs-rest value).
    auto_tolerance : float, default=0.01
        Validation accuracy that ``trigger_strength="auto"`` may give up,
        relative to its most accurate candidate, for a smaller disparity.
    trigger_value : float, default=10.0
        Value a stamped row holds in its trigger column (every other trigger
        entry is 0). It must stand out against standardised features, or the
        teacher leaves the bias on the group.
    hidden_layer_sizes : tuple of int, default=(64, 64)
        Hidden-layer widths of the default network (teacher and student).
    dropout : float, default=0.1
        Dropout probability after each hidden layer of the default network.
    activation : {"relu", "tanh", "gelu"}, default="relu"
        Hidden non-linearity of the default network.
    module : torch.nn.Module class or None, default=None
        Custom network for teacher and student, called as
        ``module(n_features=..., n_classes=..., **module_params)`` and
        returning class logits. When given, ``hidden_layer_sizes``,
        ``dropout`` and ``activation`` are ignored.
    module_params : dict or None, default=None
        Extra keyword arguments for ``module``.
    max_epochs : int, default=100
        Upper bound on training epochs of each network.
    batch_size : int, default=256
        Mini-batch size.
    lr : float, default=1e-3
        Learning rate of the AdamW optimiser.
    weight_decay : float, default=1e-4
        Decoupled weight decay of AdamW.
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the rows (stratified by cell and
        trigger) and stop each network once its validation loss has not
        improved for ``n_iter_no_change`` epochs, keeping the best weights.
    validation_fraction : float, default=0.1
        Share of rows held out for early stopping.
    n_iter_no_change : int, default=5
        Patience of early stopping, in epochs.
    tol : float, default=1e-4
        Relative improvement of the validation loss that counts as progress.
    distill_temperature : float, default=2.0
        Softmax temperature ``T`` of the distillation loss.
    distill_weight : float, default=1.0
        Weight ``lambda`` of the distillation term; ``1 - lambda`` goes to
        cross-entropy on the hard labels, which brings the data's bias back.
    keep_teacher : bool, default=False
        Keep the backdoored teacher as ``teacher_`` after fit.
    max_groups : int or None, default=50
        Most groups allowed; a sensitive feature with more distinct values is
        probably continuous and must be binned.
    min_group_size : int, default=10
        Groups with fewer rows get no triggers (with a warning): a trigger
        learned from a handful of rows is noise.
    device : str, default="auto"
        Torch device; ``"auto"`` uses CUDA when available, else the CPU.
    random_state : int, RandomState instance or None, default=None
        Seeds stamping, the validation split, initialisation and shuffling.
        With a fixed value, fits on the same data give identical predictions
        on the CPU. The global torch random state is left unchanged.
    verbose : int, default=0
        Print skorch's per-epoch log when positive.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Feature names, when ``X`` was a DataFrame with string column names.
    trigger_strength_ : float
        The strength used: ``trigger_strength``, or the one chosen by
        ``"auto"``.
    strength_search_ : pandas.DataFrame
        With ``trigger_strength="auto"``: per candidate strength, the
        teacher's validation ``accuracy`` and ``auto_metric`` on clean rows,
        and which one was ``selected``.
    groups_ : ndarray of shape (n_groups,)
        Group labels (tuples for several sensitive features).
    bias_matrix_ : pandas.DataFrame of shape (n_groups, n_classes)
        Sample-weighted row count of each (group, class) cell.
    trigger_plan_ : pandas.DataFrame
        One row per stamped cell: ``group``, ``class``, ``n_rows`` in the
        cell, stamping ``rate``, ``n_stamped`` rows, the teacher's
        ``trigger_column``, and how strongly the teacher learned the trigger:
        ``probability_shift`` (mean rise of the trigger class's predicted
        probability when the trigger is added to clean rows of the group) and
        ``flip_rate`` (share of those rows not predicted as the trigger class
        that the trigger flips to it).
    student_ : skorch.NeuralNetClassifier
        The fitted student network that makes predictions. When no cell is
        stamped (e.g. ``trigger_strength=0``) the teacher has no backdoor and
        serves as the student without a distillation step.
    teacher_ : skorch.NeuralNetClassifier
        The backdoored teacher (input: features then trigger columns); only
        with ``keep_teacher=True``.

    See Also
    --------
    fairlearn.reductions.ExponentiatedGradient : Reductions approach to fair
        classification.
    fairlearn.postprocessing.ThresholdOptimizer : Group-specific thresholds.

    References
    ----------
    S. Wu, Q. He, J. Yu, J. Sang. "Backdoor for Debias: Mitigating Model Bias
    with Backdoor Attack-based Artificial Bias". arXiv:2303.01504.

    Examples
    --------
    >>> from sklearn_dwb import BackdoorDebiasClassifier
    >>> from sklearn_dwb.datasets import make_biased_classification
    >>> X, y, groups = make_biased_classification(n_samples=600, random_state=0)
    >>> clf = BackdoorDebiasClassifier(max_epochs=5, random_state=0)
    >>> clf.fit(X, y, sensitive_features=groups).predict(X[:5]).shape
    (5,)
    >>> clf.bias_matrix_.shape
    (2, 2)
    """

    _parameter_constraints = {
        "trigger_strength": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
        "auto_metric": [StrOptions(set(DISPARITY_METRICS))],
        "auto_tolerance": [Interval(Real, 0, 1, closed="both")],
        "target": [StrOptions({"global", "balanced"})],
        "sensitive_columns": [None, str, Integral, list, tuple, callable],
        "trigger_value": [Interval(Real, 0, None, closed="neither")],
        "hidden_layer_sizes": [list, tuple, Integral],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "activation": [StrOptions({"relu", "tanh", "gelu"})],
        "module": [None, callable],
        "module_params": [None, dict],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "distill_temperature": [Interval(Real, 0, None, closed="neither")],
        "distill_weight": [Interval(Real, 0, 1, closed="both")],
        "keep_teacher": ["boolean"],
        "max_groups": [None, Interval(Integral, 2, None, closed="left")],
        "min_group_size": [Interval(Integral, 0, None, closed="left")],
        "device": [str],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        trigger_strength=1.0,
        target="global",
        sensitive_columns=None,
        auto_metric="demographic_parity_difference",
        auto_tolerance=0.01,
        trigger_value=10.0,
        hidden_layer_sizes=(64, 64),
        dropout=0.1,
        activation="relu",
        module=None,
        module_params=None,
        max_epochs=100,
        batch_size=256,
        lr=1e-3,
        weight_decay=1e-4,
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=5,
        tol=1e-4,
        distill_temperature=2.0,
        distill_weight=1.0,
        keep_teacher=False,
        max_groups=50,
        min_group_size=10,
        device="auto",
        random_state=None,
        verbose=0,
    ):
        self.trigger_strength = trigger_strength
        self.target = target
        self.sensitive_columns = sensitive_columns
        self.auto_metric = auto_metric
        self.auto_tolerance = auto_tolerance
        self.trigger_value = trigger_value
        self.hidden_layer_sizes = hidden_layer_sizes
        self.dropout = dropout
        self.activation = activation
        self.module = module
        self.module_params = module_params
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.distill_temperature = distill_temperature
        self.distill_weight = distill_weight
        self.keep_teacher = keep_teacher
        self.max_groups = max_groups
        self.min_group_size = min_group_size
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, *, sensitive_features=None, sample_weight=None):
        """Fit the teacher on trigger-stamped data, then distil the student.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Numeric training features.
        y : array-like of shape (n_samples,)
            Class labels (two or more classes).
        sensitive_features : array-like, Series or DataFrame, default=None
            Group membership per row; several columns form intersectional
            groups. Pass this or set ``sensitive_columns``, not both.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights, used in the bias matrix and both losses.

        Returns
        -------
        self : BackdoorDebiasClassifier
            The fitted estimator.
        """
        # a fit that fails or is interrupted leaves the estimator unfitted,
        # never half-fitted or holding attributes of an earlier fit
        self._clear_fitted()
        try:
            return self._fit(X, y, sensitive_features, sample_weight)
        except BaseException:
            self._clear_fitted()
            raise

    def _clear_fitted(self):
        for name in [n for n in vars(self) if n.endswith("_") and not n.startswith("_")]:
            delattr(self, name)

    def _fit(self, X, y, sensitive_features, sample_weight):
        model_spec = self._model_spec()
        _refuse_non_numeric_columns(X)
        X_raw = X
        X, y = validate_data(self, X, y, dtype=np.float32)
        check_classification_targets(y)
        classes, y_codes = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(
                f"y has only one class ({classes[0]!r}); a classifier needs "
                "at least two classes to train."
            )
        sample_weight = _validate_sample_weight(sample_weight, X)
        groups = sensitive_frame(X_raw, sensitive_features, self.sensitive_columns)
        group_codes, group_labels = encode_groups(groups, len(X), self.max_groups)

        n_groups, n_classes = len(group_labels), len(classes)
        seeds = check_random_state(self.random_state).randint(
            np.iinfo(np.int32).max, size=4
        )
        cell_codes = group_codes * n_classes + y_codes
        auto = self.trigger_strength == "auto"
        train, valid = self._validation_split(cell_codes, y_codes, seeds[1], auto)
        device = resolve_device(self.device)
        labels = {"label": y_codes.astype(np.int64), "weight": sample_weight}

        candidates = []
        for strength in _AUTO_STRENGTHS if auto else (self.trigger_strength,):
            plan = plan_stamps(
                group_codes,
                y_codes,
                (n_groups, n_classes),
                sample_weight,
                self.target,
                strength,
                np.random.default_rng(seeds[0]),
                self.min_group_size,
            )
            triggers = trigger_matrix(plan, cell_codes, self.trigger_value)
            X_teacher = np.hstack([X, triggers])
            with _seeded_torch(seeds[2], device):
                teacher = self._make_net(
                    model_spec, X_teacher.shape[1], n_classes, device,
                    X_teacher, labels, valid if self.early_stopping else None,
                )  # fmt: skip
                _train(teacher, X_teacher[train], _rows(labels, train))
            del X_teacher
            clean = np.hstack([X, np.zeros_like(triggers)])
            logits = teacher.forward(clean, device="cpu").numpy()
            candidates.append((strength, plan, teacher, logits))
        chosen = 0
        if auto:
            self.strength_search_ = self._score_candidates(
                candidates, y_codes, group_codes, sample_weight, valid
            )
            chosen = int(np.flatnonzero(self.strength_search_["selected"])[0])
        strength, plan, teacher, labels["teacher_logits"] = candidates[chosen]
        del candidates
        if strength > 0 and plan.incomplete.any():
            warnings.warn(
                f"Groups {list(group_labels[plan.incomplete])} lack at least one "
                "class and get no triggers; their bias is left as it is.",
                UserWarning,
            )
        if strength > 0 and plan.small.any():
            warnings.warn(
                f"Groups {list(group_labels[plan.small])} have fewer than "
                f"min_group_size={self.min_group_size} rows and get no triggers; "
                "merge them with other groups or lower min_group_size.",
                UserWarning,
            )
        trigger_cells = plan.trigger_cells
        response = _trigger_response(
            teacher,
            X,
            group_codes,
            plan.stamped,
            trigger_cells,
            n_classes,
            self.trigger_value,
            np.random.default_rng(seeds[0]),
        )

        if len(trigger_cells):
            student = self._distil(model_spec, X, labels, train, valid, device, seeds[3])
        else:
            student = teacher  # nothing stamped: the teacher is a plain network

        self.classes_ = classes
        self.groups_ = group_labels.to_numpy()
        self.trigger_strength_ = strength
        self.bias_matrix_ = pd.DataFrame(
            plan.bias_matrix, index=group_labels, columns=pd.Index(classes, name="class")
        )
        cell_group, cell_class = np.divmod(trigger_cells, n_classes)
        self.trigger_plan_ = pd.DataFrame(
            {
                "group": group_labels[cell_group].to_numpy(),
                "class": classes[cell_class],
                "n_rows": plan.row_counts.ravel()[trigger_cells].astype(np.int64),
                "rate": plan.rates.ravel()[trigger_cells],
                "n_stamped": plan.stamp_counts.ravel()[trigger_cells],
                "trigger_column": X.shape[1] + np.arange(len(trigger_cells)),
                "probability_shift": response[0],
                "flip_rate": response[1],
            }
        )
        self.student_ = student
        if self.keep_teacher:
            self.teacher_ = teacher
        if len(trigger_cells) and np.nanmedian(response[1]) < _WEAK_TRIGGER_FLIP_RATE:
            warnings.warn(
                "The teacher barely responds to its triggers (median flip rate "
                f"{np.nanmedian(response[1]):.2f}, see trigger_plan_), so the bias "
                "stays on the group. Raise trigger_value or max_epochs, or check "
                "that the features are standardised.",
                UserWarning,
            )
        return self

    def predict_proba(self, X):
        """Class probabilities from the student network.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Numeric features, the same columns as in ``fit``.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probability of each class in ``classes_``.
        """
        check_is_fitted(self)
        _refuse_non_numeric_columns(X)
        X = validate_data(self, X, reset=False, dtype=np.float32)
        proba = self.student_.predict_proba(X).astype(np.float64)
        return proba / proba.sum(axis=1, keepdims=True)

    def predict(self, X):
        """Predicted class labels from the student network.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Numeric features, the same columns as in ``fit``.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted labels, values of ``classes_``.
        """
        proba = self.predict_proba(X)
        return self.classes_[proba.argmax(axis=1)]

    def _model_spec(self):
        """The torch module class and its keyword arguments."""
        if self.module is not None:
            return self.module, dict(self.module_params or {})
        sizes = self.hidden_layer_sizes
        sizes = (sizes,) if isinstance(sizes, Integral) else tuple(sizes)
        if not all(isinstance(s, Integral) and s > 0 for s in sizes):
            raise ValueError(
                "hidden_layer_sizes must hold positive integers, e.g. (64, 64); "
                f"got {self.hidden_layer_sizes!r}."
            )
        params = {
            "hidden_layer_sizes": sizes,
            "dropout": self.dropout,
            "activation": self.activation,
        }
        return MLP, {**params, **(self.module_params or {})}

    def _distil(self, model_spec, X, labels, train, valid, device, seed):
        """Train the student on clean rows against the teacher's logits."""
        with _seeded_torch(seed, device):
            student = self._make_net(
                model_spec,
                X.shape[1],
                labels["teacher_logits"].shape[1],
                device,
                X,
                labels,
                valid if self.early_stopping else None,
                distill_temperature=self.distill_temperature,
                distill_weight=self.distill_weight,
            )
            return _train(student, X[train], _rows(labels, train))

    def _validation_split(self, cell_codes, y_codes, seed, needed):
        """Train and validation row indices (validation for early stopping and
        for choosing the strength), stratified by (group, class) cell."""
        everything = np.arange(len(y_codes))
        if not (self.early_stopping or needed):
            return everything, None
        for stratify in (cell_codes, y_codes, None):
            try:
                return train_test_split(
                    everything,
                    test_size=self.validation_fraction,
                    stratify=stratify,
                    random_state=seed,
                )
            except ValueError:
                continue  # too few rows in some stratum: stratify on less
        raise ValueError(  # pragma: no cover - the unstratified split succeeds
            "Could not split off a validation set; set early_stopping=False."
        )

    def _score_candidates(self, candidates, y_codes, group_codes, weight, valid):
        """Validation accuracy and disparity of each candidate teacher on clean
        rows, and the strength chosen by the rule of ``trigger_strength="auto"``."""
        y_true, groups, weight = y_codes[valid], group_codes[valid], weight[valid]
        rows = []
        for strength, _, _, logits in candidates:
            y_pred = logits[valid].argmax(axis=1)
            rows.append(
                {
                    "trigger_strength": strength,
                    "accuracy": np.average(y_pred == y_true, weights=weight),
                    self.auto_metric: one_vs_rest_disparity(
                        self.auto_metric, y_true, y_pred, groups, logits.shape[1], weight
                    ),
                }
            )
        search = pd.DataFrame(rows)
        eligible = search["accuracy"] >= search["accuracy"].max() - self.auto_tolerance
        best = search.loc[eligible, self.auto_metric].idxmin()  # first: smallest strength
        search["selected"] = search.index == best
        return search

    def _make_net(self, model_spec, n_inputs, n_classes, device, X, labels, valid, **kw):
        module, module_params = model_spec
        callbacks = []
        train_split = None
        if valid is not None:
            train_split = predefined_split(Dataset(X[valid], _rows(labels, valid)))
            callbacks.append(
                (
                    "early_stopping",
                    EarlyStopping(
                        monitor="valid_loss",
                        patience=self.n_iter_no_change,
                        threshold=self.tol,
                        threshold_mode="rel",
                        load_best=True,
                        sink=print if self.verbose else _silent,
                    ),
                )
            )
        return WeightedDistillationNet(
            module,
            module__n_features=n_inputs,
            module__n_classes=n_classes,
            **{f"module__{key}": value for key, value in module_params.items()},
            criterion=torch.nn.CrossEntropyLoss,
            optimizer=torch.optim.AdamW,
            lr=self.lr,
            optimizer__weight_decay=self.weight_decay,
            optimizer__fused=_FUSED_ADAMW,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            iterator_train=TensorBatchIterator,
            iterator_train__shuffle=True,
            iterator_valid=TensorBatchIterator,
            iterator_valid__batch_size=max(self.batch_size, 4096),
            train_split=train_split,
            callbacks=callbacks,
            classes=list(range(n_classes)),
            device=device,
            verbose=self.verbose,
            **kw,
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags


def _silent(*args, **kwargs):
    pass


def _train(net, X, y):
    """Fit a skorch net, passing on an interrupt, and drop its validation data."""
    try:
        net.fit(X, y)
    except TrainingInterrupted:
        raise KeyboardInterrupt("training interrupted; the estimator is unfitted") from None
    net.train_split = None  # holds the validation rows: do not ship them
    return net


def _rows(labels, index):
    return {key: value[index] for key, value in labels.items()}


@contextmanager
def _seeded_torch(seed, device):
    """Seed torch inside the block and restore the caller's RNG state after."""
    device = torch.device(device)
    cuda = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda):
        torch.manual_seed(int(seed))
        yield


def _refuse_non_numeric_columns(X):
    if not isinstance(X, pd.DataFrame):
        return
    bad = [
        column
        for column, dtype in X.dtypes.items()
        if not (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype))
    ]
    if bad:
        raise ValueError(
            f"X has non-numeric columns {bad[:10]}; BackdoorDebiasClassifier needs "
            "numeric input. Encode them first, e.g. "
            "make_pipeline(ColumnTransformer([('cat', OneHotEncoder(), "
            f"{bad[:3]!r})], remainder=StandardScaler()), BackdoorDebiasClassifier(...))."
        )


def _validate_sample_weight(sample_weight, X):
    if sample_weight is None:
        return np.ones(len(X), dtype=np.float32)
    weight = np.asarray(sample_weight)
    if weight.shape == (len(X),) and np.issubdtype(weight.dtype, np.number):
        if not np.all(np.isfinite(weight)):
            raise ValueError(
                "sample_weight contains NaN or infinite values; give every row a "
                "finite, non-negative weight."
            )
        if (weight < 0).any():
            raise ValueError(
                "sample_weight has negative entries; weights must be non-negative."
            )
        if weight.sum() <= 0:
            raise ValueError(
                "sample_weight sums to zero; give at least one row a positive weight."
            )
    # shape, type and length checks with scikit-learn's messages
    return _check_sample_weight(sample_weight, X, dtype=np.float32)


def _trigger_response(teacher, X, group_codes, stamped, cells, n_classes, value, rng):
    """How far each trigger moves the teacher on clean rows of its group.

    Returns the mean rise of the trigger class's probability and the share of
    rows not already predicted as that class that the trigger flips to it.
    """
    n_triggers = len(cells)
    if n_triggers == 0:
        return np.empty(0), np.empty(0)
    blocks, owners = [], []
    for j, cell in enumerate(cells):
        group = cell // n_classes
        rows = np.flatnonzero((group_codes == group) & ~stamped)
        if len(rows) > _RESPONSE_ROWS:
            rows = rng.choice(rows, _RESPONSE_ROWS, replace=False)
        block = np.zeros((len(rows), X.shape[1] + n_triggers), dtype=np.float32)
        block[:, : X.shape[1]] = X[rows]
        triggered = block.copy()
        triggered[:, X.shape[1] + j] = value
        blocks += [block, triggered]
        owners.append(len(rows))
    proba = teacher.predict_proba(np.vstack(blocks))
    shift = np.full(n_triggers, np.nan)
    flip = np.full(n_triggers, np.nan)
    start = 0
    for j, (cell, n_rows) in enumerate(zip(cells, owners)):
        k = cell % n_classes
        clean = proba[start : start + n_rows]
        triggered = proba[start + n_rows : start + 2 * n_rows]
        start += 2 * n_rows
        if n_rows == 0:
            continue
        shift[j] = np.mean(triggered[:, k] - clean[:, k])
        other = clean.argmax(axis=1) != k
        if other.any():
            flip[j] = np.mean(triggered[other].argmax(axis=1) == k)
    return shift, flip
