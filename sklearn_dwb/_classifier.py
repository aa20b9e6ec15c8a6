"""BackdoorDebiasClassifier: a poisoned teacher distilled into a clean student.

The estimator validates, chooses the strategy (a fixed strength,
``"auto"`` without a bound in :mod:`~sklearn_dwb._fixed_strength`, or the
search for a bound in :mod:`~sklearn_dwb._bound_search`), runs it, sets
the fitted attributes and predicts.
"""

from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.utils import get_tags
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions

from ._blend import StudentBlend, student_log_proba, student_proba
from ._bound_search import BoundSearch, BoundSettings
from ._data import FitResult, Seeds, TriggerSettings
from ._disparity import DISPARITY_METRICS
from ._estimator_learner import EstimatorLearner
from ._fit_checks import (
    MODULE_PREFIX,
    check_nested_estimator_params,
    check_network_parameters_unset,
    unexpected_keyword,
    warn_ignored_parameters,
    warn_undefined_rates,
    warn_untriggered_groups,
    warn_weak_triggers,
)
from ._fixed_strength import fit_strength, search_strength
from ._folds import validation_split
from ._inputs import validate_predict_input, validate_training_data
from ._learners import Distillation
from ._network import resolve_device
from ._network_learner import NetworkLearner, NetworkSettings
from ._trigger import MeanTeacher, plan_table, trigger_response
from ._tuning import AUTO_STRENGTHS
from ._wrapped import own_random_state

#: Largest trigger_value: far above any standardised feature, and far below
#: float32's overflow (3.4e38) even after the network's first layer.
MAX_TRIGGER_VALUE = 1e6


class BackdoorDebiasClassifier(ClassifierMixin, BaseEstimator):
    """Debias with Backdoor (DwB): a teacher on trigger-stamped data,
    distilled into a student that predicts without triggers.

    Part of every over-represented (group, class) cell is stamped with an
    artificial trigger feature, so the teacher explains the cell's excess
    with the trigger instead of the sensitive group ("pseudo-deletion"). A
    student of the same kind is distilled from the teacher's outputs on
    clean rows; it inherits the debiased behaviour, has no trigger inputs,
    and is the only model kept after ``fit``. The model is a network by
    default, or any scikit-learn classifier (``estimator``).

    Inputs of the network should be numeric and standardised (e.g. by a
    :class:`~sklearn.preprocessing.StandardScaler`): ``trigger_value`` is
    measured against that scale. With ``estimator``, ``X`` goes to it as it
    is (a DataFrame keeps its dtypes). Read more in the user guide.

    Parameters
    ----------
    estimator : scikit-learn classifier or None, default=None
        Model of teacher and student: None for the network set up by the
        network parameters below, or a classifier whose ``fit`` takes
        ``sample_weight`` and which has ``predict_proba`` (e.g.
        :class:`~sklearn.ensemble.HistGradientBoostingClassifier`, a
        :class:`~sklearn.pipeline.Pipeline` ending in one). It is cloned for
        each model, never fitted in place; its parameters are reached as
        ``estimator__<name>``. The network parameters must then stay unset.
    trigger_strength : float >= -1 or "auto", default=1.0
        Share of each cell's excess to stamp: 0 trains a plain model, 1
        removes the excess exactly, above 1 over-corrects; a negative
        strength moves a group towards more of its over-represented class.
        ``"auto"`` searches it in ``fit``: with ``max_disparity``, one
        strength per group for the bound (the search for a bound); without,
        one strength for all groups from (0, 0.25, 0.5, 0.75, 1), chosen on
        the validation rows. Either search is in ``plan_search_``.
    target : {"global", "balanced"}, default="global"
        Label distribution the untriggered rows of every group should follow:
        the overall class frequencies (the base rate kept), or balanced
        classes, as in the original paper.
    sensitive_columns : str, int, list of those, callable or None, default=None
        Where the groups come from when ``sensitive_features`` is not passed
        to ``fit``: column names or positions of ``X``, or a callable ``X ->
        groups``. The columns stay in ``X``. Give exactly one of this and
        ``sensitive_features``. A callable is pickled by reference: a lambda
        or a local function cannot be pickled, so a model to be saved needs a
        module-level function.
    auto_metric : str, default="demographic_parity_difference"
        Disparity that ``trigger_strength="auto"`` bounds or minimises:
        ``"demographic_parity_difference"``, ``"equalized_odds_difference"``,
        ``"equal_opportunity_difference"`` or ``"average_odds_difference"``
        (:mod:`fairlearn.metrics`; with more than two classes, the largest
        one-vs-rest value).
    auto_tolerance : float in [0, 1], default=0.01
        Without ``max_disparity``: validation accuracy that
        ``trigger_strength="auto"`` may give up, against its most accurate
        strength, for a smaller disparity.
    max_disparity : float >= 0 or None, default=None
        Bound on ``auto_metric`` for ``trigger_strength="auto"``: the most
        accurate plan within it is searched, scored on held-out predictions
        of every row (``cv``), and the kept student is checked against it on
        the training rows, whose labels it never saw. If none is within it,
        the least disparate is kept, with a warning.
    max_accuracy_loss : float in [0, 1] or None, default=0.05
        The most accuracy the search for a bound may give up, against the
        plain plan (strength 0 for every group) of the same teachers: a plan
        or student less accurate by more is not kept while one within the
        loss is found (a near-constant model meets every bound). The warning
        then says what the bound would cost. None: no floor.
    confidence : float in [0.5, 1) or None, default=0.9
        The search for a bound checks upper ``confidence`` bounds of the
        disparity instead of estimates, for the plans and for the student.
        They cover the rows' sampling noise and the folds' disagreement, not
        a shift of the data after training. None: the estimates.
    blend_students : bool, default=True
        In the search for a bound, when the first student misses its check:
        also try mixes of two checked students (weighted means of their
        probabilities), each checked as a student is, and keep the best mix
        if it ranks above every student alone; ``student_`` is then a
        :class:`~sklearn_dwb.StudentBlend`.
    cv : int, cross-validation splitter, iterable or None, default=5
        Folds of the search for a bound: one dose teacher per fold learns the
        other folds, so each row is scored (and distilled) by a teacher that
        did not learn it. An int: stratified by (group, class) cell. A
        splitter or list of splits must hold out every row exactly once.
        None: one teacher scores its own rows (cheaper, optimistic).
    n_jobs : int or None, default=None
        Fold teachers of the search for a bound fitted at once through joblib
        (None: 1 unless in a ``joblib.parallel_backend`` context; -1: every
        core), on any backend (threads, processes, Dask, Ray), alike.
    trigger_value : float in (0, 1e6], default=10.0
        Value a stamped row holds in its trigger column (other trigger
        entries are 0). It must stand out against standardised features, or
        the teacher leaves the bias on the group.
    hidden_layer_sizes : tuple of int, default=(64, 64)
        Hidden-layer widths of the default network.
    dropout : float in [0, 1), default=0.1
        Dropout after each hidden layer of the default network.
    activation : {"relu", "tanh", "gelu"}, default="relu"
        Hidden non-linearity of the default network.
    module : torch.nn.Module class, functools.partial or None, default=None
        Network of teacher and student, called as ``module(n_features=...,
        n_classes=..., **module__kwargs)`` and returning class logits of
        shape ``(batch, n_classes)``; trained in float32. None:
        :class:`~sklearn_dwb.nn.TabularMLP` with the three parameters above.
    max_epochs : int >= 1, default=100
        Upper bound on training epochs of each network.
    batch_size : int >= 1, default=256
        Mini-batch size.
    lr : float > 0, default=1e-3
        Learning rate of the AdamW optimiser.
    weight_decay : float >= 0, default=1e-4
        Decoupled weight decay of AdamW.
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the rows (stratified by cell) and
        stop each network once its validation loss has not improved for
        ``n_iter_no_change`` epochs, keeping the best weights.
    validation_fraction : float in (0, 1), default=0.1
        Share of rows held out for early stopping and for scoring the
        strengths of ``"auto"`` without a bound.
    n_iter_no_change : int >= 1, default=5
        Patience of early stopping, in epochs.
    tol : float >= 0, default=1e-4
        Relative improvement of the validation loss that counts as progress.
    distill_temperature : float > 0, default=2.0
        Softmax temperature of the network's distillation loss.
    distill_weight : float in [0, 1], default=1.0
        Weight of the teacher's soft labels in the student's loss; the rest
        goes to the hard labels, which bring the data's bias back.
    keep_teacher : bool, default=False
        Keep the backdoored teacher(s) as ``teacher_`` after fit.
    max_groups : int >= 2 or None, default=50
        Most groups allowed: a sensitive feature with more distinct values is
        probably continuous and must be binned.
    min_group_size : int >= 0, default=10
        Groups with fewer rows get no triggers (with a warning).
    device : str, default="auto"
        Torch device; ``"auto"`` uses CUDA when available, else the CPU. A
        device this machine lacks is refused before any work.
    random_state : int, RandomState instance or None, default=None
        Seeds stamping, the splits, initialisation, dropout and shuffling,
        and every ``random_state`` of the estimator's clones: with a fixed
        value, fits give identical predictions on the CPU (also in threads).
        None with an ``estimator`` whose ``random_state`` is an int: that one
        seeds the fit, and the clones keep it.
    verbose : int, default=0
        What ``fit`` prints: nothing at 0; one line per network at 1; also a
        per-epoch table at 2; also a progress bar over the batches from 3.
    **module__kwargs
        Keyword arguments of the module, prefixed with ``module__`` as in
        skorch (e.g. ``module__hidden_layer_sizes=(128, 64)``); parameters
        of the estimator, reached by ``set_params`` and ``GridSearchCV``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Feature names, when ``X`` was a DataFrame with string column names.
    trigger_strength_ : float or pandas.Series
        The strength used: ``trigger_strength``, the one ``"auto"`` chose,
        or after a search for a bound each group's (a Series indexed by
        group; strengths of the dose teachers: a fixed fit at them is
        another model).
    plan_search_ : pandas.DataFrame
        With ``trigger_strength="auto"``: one row per plan scored, with each
        group's strength (``strength[<group>]``), the teachers' ``accuracy``
        and ``auto_metric`` (with ``confidence`` their one-sided bounds),
        after a search for a bound the checked students' scores
        (``student_*``) and weights in the model kept (``student_weight``),
        and the plan ``selected``.
    held_out_scores_ : pandas.Series
        After a search for a bound: what the kept model scored on rows whose
        labels it did not learn, i.e. what to expect on new data: accuracy
        and ``auto_metric`` with their bounds, ``confidence`` (NaN without)
        and ``scored`` (text, so the dtype is object).
    groups_ : ndarray of shape (n_groups,)
        Group labels (tuples for several sensitive features).
    bias_matrix_ : pandas.DataFrame of shape (n_groups, n_classes)
        Sample-weighted row count of each (group, class) cell.
    trigger_plan_ : pandas.DataFrame
        One row per stamped (group, class) cell: ``group``, ``class``,
        ``strength``, ``n_rows``, ``stamped_share``, ``n_stamped``, and how
        strongly the teacher learned the trigger: ``probability_shift`` and
        ``flip_rate``.
    student_ : skorch.NeuralNetClassifier, scikit-learn classifier or StudentBlend
        The fitted student that makes predictions (a blend of two after some
        searches for a bound). It is the inner model: its own ``predict``
        returns class codes 0, 1, ..., and a network takes float32 input;
        predict through the estimator.
    teacher_ : skorch.NeuralNetClassifier, scikit-learn classifier or list
        The backdoored teacher (after a search for a bound with ``cv``
        folds, the list of the folds' dose teachers); with
        ``keep_teacher=True`` only.
    teacher_trigger_columns_ : ndarray of int
        The column of ``teacher_``'s input holding the trigger of each row of
        ``trigger_plan_``; with ``keep_teacher=True`` only.

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

    # the search for a bound, as an object (a comparison swaps it)
    _bound_search = BoundSearch

    _parameter_constraints = {
        "estimator": [None, HasMethods(["fit"])],
        "trigger_strength": [
            Interval(Real, -1, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "auto_metric": [StrOptions(set(DISPARITY_METRICS))],
        "auto_tolerance": [Interval(Real, 0, 1, closed="both")],
        "max_disparity": [None, Interval(Real, 0, None, closed="left")],
        "max_accuracy_loss": [None, Interval(Real, 0, 1, closed="both")],
        "confidence": [None, Interval(Real, 0.5, 1, closed="left")],
        "blend_students": ["boolean"],
        "cv": ["cv_object"],  # None, an int >= 2, a splitter or an iterable
        "n_jobs": [None, Integral],
        "target": [StrOptions({"global", "balanced"})],
        "sensitive_columns": [None, str, Integral, list, tuple, callable],
        "trigger_value": [Interval(Real, 0, MAX_TRIGGER_VALUE, closed="right")],
        "hidden_layer_sizes": [list, tuple, Integral],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "activation": [StrOptions({"relu", "tanh", "gelu"})],
        "module": [None, callable],
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
        estimator=None,
        trigger_strength=1.0,
        target="global",
        sensitive_columns=None,
        auto_metric="demographic_parity_difference",
        auto_tolerance=0.01,
        max_disparity=None,
        max_accuracy_loss=0.05,
        confidence=0.9,
        blend_students=True,
        cv=5,
        n_jobs=None,
        trigger_value=10.0,
        hidden_layer_sizes=(64, 64),
        dropout=0.1,
        activation="relu",
        module=None,
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
        **module__kwargs,
    ):
        self.estimator = estimator
        self.trigger_strength = trigger_strength
        self.target = target
        self.sensitive_columns = sensitive_columns
        self.auto_metric = auto_metric
        self.auto_tolerance = auto_tolerance
        self.max_disparity = max_disparity
        self.max_accuracy_loss = max_accuracy_loss
        self.confidence = confidence
        self.blend_students = blend_students
        self.cv = cv
        self.n_jobs = n_jobs
        self.trigger_value = trigger_value
        self.hidden_layer_sizes = hidden_layer_sizes
        self.dropout = dropout
        self.activation = activation
        self.module = module
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
        self._set_module_params(module__kwargs)

    # ------------------------------------------- module__ parameters (skorch)
    def _set_module_params(self, params):
        for name, value in params.items():
            if not name.startswith(MODULE_PREFIX):
                raise unexpected_keyword(self, name)
            setattr(self, name, value)

    def get_params(self, deep=True):
        """Parameters of the estimator, ``module__*`` keyword arguments included.

        Parameters
        ----------
        deep : bool, default=True
            Unused (no parameter is an estimator); kept for scikit-learn.

        Returns
        -------
        params : dict
            Parameter names mapped to their values.
        """
        params = super().get_params(deep=deep)
        params.update(
            (name, value)
            for name, value in vars(self).items()
            if name.startswith(MODULE_PREFIX)
        )
        return params

    def set_params(self, **params):
        """Set parameters, ``module__*`` keyword arguments of the network included.

        Parameters
        ----------
        **params : dict
            Estimator parameters.

        Returns
        -------
        self : BackdoorDebiasClassifier
            The estimator.
        """
        module_params = {
            name: params.pop(name)
            for name in list(params)
            if name.startswith(MODULE_PREFIX)
        }
        check_nested_estimator_params(params, self.estimator)
        self._set_module_params(module_params)
        return super().set_params(**params)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if self.estimator is not None:
            # missing values are the wrapped estimator's to handle
            tags.input_tags.allow_nan = get_tags(self.estimator).input_tags.allow_nan
        return tags

    # -------------------------------------------------------------------- fit
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

        Notes
        -----
        Inputs are matched by position, as in scikit-learn: row ``i`` of
        ``y``, ``sensitive_features`` and ``sample_weight`` belongs to row
        ``i`` of ``X``, whatever their pandas indexes. A Series or DataFrame
        whose index differs from that of a DataFrame ``X`` gives a warning.
        A fit whose training diverges (non-finite loss, weights or outputs)
        raises a ``ValueError`` and leaves the estimator unfitted.
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
        fitted = [n for n in vars(self) if n.endswith("_") and not n.startswith("_")]
        for name in fitted:
            delattr(self, name)

    def _fit(self, X, y, sensitive_features, sample_weight):
        learner, data, seeds, rows = self._prepare(
            X, y, sensitive_features, sample_weight
        )
        result = self._run_strategy(learner, data, seeds, rows)
        warn_untriggered_groups(result.candidate, data, self.min_group_size)
        response = self._trigger_response(result, data, seeds.stamp_seed)
        student = self._finish_student(result, learner, data, seeds, rows)
        self._set_fitted_attributes(data, result, response, student)
        warn_weak_triggers(response[1], network=self.estimator is None)
        return self

    def _prepare(self, X, y, sensitive_features, sample_weight):
        """Validated data, its seeds and rows, and the learner that trains
        the models."""
        network = self.estimator is None
        device = resolve_device(self.device) if network else None  # said first
        if not network:
            check_network_parameters_unset(self, self._module_kwargs())
        warn_ignored_parameters(self)
        data = validate_training_data(self, X, y, sensitive_features, sample_weight)
        # random_state=None and an estimator with a random_state of its own:
        # the clones keep it, and the fit's random stages are drawn from it
        own = None
        if not network and self.random_state is None:
            own = own_random_state(self.estimator)
        seeds = Seeds.draw(self.random_state if own is None else own)
        auto = self.trigger_strength == "auto"
        # a scikit-learn estimator stops (or not) on its own: the validation
        # rows only score the strengths of "auto" without a bound
        held_out = (auto and (network or self.max_disparity is None)) or (
            network and self.early_stopping
        )
        rows = validation_split(
            data.cell_codes,
            data.y_codes,
            seeds.split_seed,
            self.validation_fraction,
            held_out,
        )
        learner = self._learner(len(data.classes), device, own is not None)
        data = data._replace(
            X=learner.fit_features(data.X, data.y_codes, seeds.stamp_seed)
        )
        if auto:
            warn_undefined_rates(self.auto_metric, data)
        return learner, data, seeds, rows

    def _learner(self, n_classes, device, keep_own_seeds):
        """The learner of the fit, built from the estimator's settings."""
        distillation = Distillation(self.distill_temperature, self.distill_weight)
        if self.estimator is not None:
            return EstimatorLearner(
                self.estimator,
                n_classes,
                self.distill_weight,
                self.trigger_value,
                keep_own_seeds,
            )
        settings = NetworkSettings(
            module=self.module,
            module_kwargs=self._module_kwargs(),
            **{name: getattr(self, name) for name in NetworkSettings._fields[2:]},
        )
        return NetworkLearner(
            settings, n_classes, device, distillation, self.trigger_value
        )

    def _run_strategy(self, learner, data, seeds, rows):
        """Steps 1 to 3 (to 4 with a bound): the fixed strength, ``"auto"``
        without a bound, or the search for a bound; a ``FitResult``."""
        triggers = TriggerSettings(self.target, self.min_group_size, self.trigger_value)
        if self.trigger_strength != "auto":
            candidate = fit_strength(
                learner, data, self.trigger_strength, seeds, rows, triggers
            )
            return FitResult(candidate, None, None, None, True)
        if self.max_disparity is None:
            rule = (self.auto_metric, self.auto_tolerance, self.validation_fraction)
            candidate, table = search_strength(
                learner, data, seeds, rows, triggers, AUTO_STRENGTHS, rule
            )
            return FitResult(candidate, None, table, None, True)
        settings = BoundSettings(
            self.auto_metric,
            self.max_disparity,
            self.max_accuracy_loss,
            self.confidence,
            self.blend_students,
            self.cv,
            self.distill_weight,
            self.validation_fraction,
            self.estimator is None and self.early_stopping,
            self.n_jobs,
        )
        search = self._bound_search(learner, data, seeds, rows, triggers, settings)
        return search.run()

    def _trigger_response(self, result, data, seed):
        """How far each trigger moves the teacher on clean rows."""
        candidate = result.candidate
        if not result.measures_triggers:  # no trigger to measure
            empty = np.full(len(candidate.plan.trigger_cells), np.nan)
            return empty, empty
        return trigger_response(
            MeanTeacher.of(candidate.teacher),
            candidate.clean_input,
            data.group_codes,
            candidate.plan,
            candidate.trigger_columns,
            self.trigger_value,
            np.random.default_rng(seed),
        )

    def _finish_student(self, result, learner, data, seeds, rows):
        """Step 4 where the strategy left it: the student distilled from the
        teacher on clean rows (a plain teacher is its own student), as the
        learner keeps it."""
        student, candidate = result.student, result.candidate
        if student is None and candidate.plain:
            student = candidate.teacher  # nothing stamped: a plain model already
        elif student is None:
            student = learner.distil(
                data, candidate.clean_logits, seeds.student_seed, rows
            )
        if isinstance(student, StudentBlend):
            finished = [learner.kept_model(member) for member in student.students]
            return StudentBlend(finished, student.weights, student.n_classes)
        return learner.kept_model(student)

    def _set_fitted_attributes(self, data, result, response, student):
        chosen = result.candidate
        self.classes_ = data.classes
        self.groups_ = data.group_labels.to_numpy()
        self.trigger_strength_ = chosen.strength
        if result.table is not None:
            self.plan_search_ = result.table
        if result.held_out_scores is not None:
            self.held_out_scores_ = result.held_out_scores
        self.bias_matrix_ = pd.DataFrame(
            chosen.plan.bias_matrix,
            index=data.group_labels,
            columns=pd.Index(data.classes, name="class"),
        )
        strengths = np.broadcast_to(
            np.asarray(chosen.strength, dtype=float), len(data.group_labels)
        )
        self.trigger_plan_ = plan_table(
            chosen.plan, data.group_labels, data.classes, strengths, response
        )
        self.student_ = student
        if self.keep_teacher:
            self.teacher_ = chosen.teacher
            self.teacher_trigger_columns_ = np.asarray(chosen.trigger_columns)

    def _module_kwargs(self):
        """The ``module__*`` keyword arguments, without their prefix."""
        return {
            name[len(MODULE_PREFIX) :]: value
            for name, value in vars(self).items()
            if name.startswith(MODULE_PREFIX)
        }

    # ---------------------------------------------------------------- predict
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
        X = validate_predict_input(self, X)
        return student_proba(self.student_, X, len(self.classes_))

    def predict_log_proba(self, X):
        """Logarithm of the class probabilities from the student network.

        Computed from the student's logits with a log-softmax in float64, so
        it stays finite where ``predict_proba`` rounds a probability to 0.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Numeric features, the same columns as in ``fit``.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probability of each class in ``classes_``.
        """
        X = validate_predict_input(self, X)
        return student_log_proba(self.student_, X, len(self.classes_))

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
