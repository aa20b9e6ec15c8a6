"""BackdoorDebiasClassifier: a poisoned teacher distilled into a clean student."""

import difflib
import inspect
import itertools
from collections.abc import Callable
from numbers import Integral, Real
from typing import NamedTuple

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state, get_tags
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    check_array,
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)
from skorch import NeuralNet

from ._disparity import DISPARITY_METRICS, one_vs_rest_disparity, undefined_rates
from ._dose import (
    DOSE_GRID,
    MeanTeacher,
    PlanSearch,
    cross_fit_folds,
    dose_columns,
    make_dose_plan,
    strength_column_names,
    warn_if_out_of_bound,
)
from ._groups import encode_groups, plain_label, sensitive_frame
from ._learners import (
    MODULE_PREFIX,
    EstimatorLearner,
    NetworkLearner,
    StudentBlend,
    own_random_state,
    student_log_proba,
    student_proba,
)
from ._network import resolve_device
from ._trigger import (
    StampPlan,
    plan_stamps,
    plan_table,
    trigger_matrix,
    trigger_response,
)
from .nn import TabularMLP
from .utils._frames import take_rows
from .utils._validation import (
    check_index_alignment,
    check_numeric_columns,
    check_sample_weight,
    check_sensitive_columns,
    check_sensitive_features,
)
from .utils._warnings import warn_caller

# Strengths tried by trigger_strength="auto" (one teacher fit each).
_AUTO_STRENGTHS = (0.0, 0.25, 0.5, 0.75, 1.0)
# Most students distilled by the search for a bound (see _fit_for_bound).
_MAX_STUDENTS = 3
# Weights of the first student in the blends of two checked students that
# blend_students=True tries (the second has the rest).
_BLEND_WEIGHTS = np.round(np.linspace(0.05, 0.95, 19), 2)
# Below this median flip rate the teacher is reported as not having learned
# its triggers (the bias then stays on the group).
_WEAK_TRIGGER_FLIP_RATE = 0.5
#: Largest trigger_value: far above any standardised feature, and far below
#: float32's overflow (3.4e38) even after the network's first layer.
MAX_TRIGGER_VALUE = 1e6


class _TrainingData(NamedTuple):
    """Validated training inputs, groups and classes as integer codes."""

    X: np.ndarray  # float32 features
    classes: np.ndarray
    y_codes: np.ndarray
    group_labels: pd.Index
    group_codes: np.ndarray
    sample_weight: np.ndarray  # float32

    @property
    def shape(self):
        """(n_groups, n_classes): the shape of the bias matrix."""
        return len(self.group_labels), len(self.classes)

    @property
    def cell_codes(self):
        return self.group_codes * len(self.classes) + self.y_codes

    @property
    def labels(self):
        """skorch's ``y``: class codes and weights (the losses' targets)."""
        return {"label": self.y_codes.astype(np.int64), "weight": self.sample_weight}


class _Seeds(NamedTuple):
    """One seed per random stage of a fit, drawn from ``random_state``."""

    stamp_seed: int  # rows stamped per cell, rows probed by the diagnostic
    split_seed: int  # validation split
    teacher_seed: int  # teacher initialisation, shuffling, dropout
    student_seed: int  # student initialisation, shuffling, dropout

    @classmethod
    def draw(cls, random_state):
        rng = check_random_state(random_state)
        return cls(*rng.randint(np.iinfo(np.int32).max, size=4).tolist())


class _Candidate(NamedTuple):
    """A teacher and the trigger plan it stands for."""

    strength: object  # float, or a Series of per-group strengths
    plan: StampPlan
    teacher: object  # a skorch net or a scikit-learn classifier (or a list)
    clean_logits: np.ndarray  # the teacher's logits on clean rows
    clean_input: Callable  # rows -> the teacher's input for them, no trigger
    trigger_columns: np.ndarray  # teacher input column of each stamped cell
    plain: bool  # the teacher takes X as it is: nothing to distil


class BackdoorDebiasClassifier(ClassifierMixin, BaseEstimator):
    """Debias with Backdoor (DwB): a teacher network on trigger-stamped data,
    distilled into a student that predicts without triggers.

    Part of every over-represented (group, class) cell is stamped with an
    artificial trigger feature, so the teacher network explains the cell's
    excess with the trigger instead of the sensitive group ("pseudo-deletion").
    A student network of the same architecture is then distilled from the
    teacher's outputs on clean rows; it inherits the debiased behaviour, has no
    trigger inputs, and is the only network kept after ``fit``. With
    ``estimator``, any scikit-learn classifier (e.g. gradient boosting) is
    teacher and student instead of the network.

    Inputs of the network should be numeric and standardised (e.g. the output
    of a :class:`~sklearn.compose.ColumnTransformer` with a
    :class:`~sklearn.preprocessing.StandardScaler`): ``trigger_value`` is
    measured against that scale. With ``estimator``, ``X`` goes to it as it
    is (a DataFrame keeps its dtypes).

    Parameters
    ----------
    estimator : scikit-learn classifier or None, default=None
        Model of teacher and student. None: the network described by the
        network parameters below (skorch, on a GPU when there is one). A
        scikit-learn classifier (e.g.
        :class:`~sklearn.ensemble.HistGradientBoostingClassifier`,
        :class:`~sklearn.linear_model.LogisticRegression`, a
        :class:`~sklearn.pipeline.Pipeline` ending in a classifier) is
        cloned for each model, never fitted in place; its ``fit`` must take
        ``sample_weight`` and it must have ``predict_proba``. The teacher is
        a clone fit on ``X`` with the trigger (or dose) columns appended, as
        float columns named ``dwb_extra[i]`` when ``X`` is a DataFrame (its
        other columns and dtypes, pandas categoricals included, are kept);
        the student is a clone fit to the teacher's class probabilities on
        clean rows, given as weighted copies of each row, one per class
        (``distill_temperature`` does not apply: the student learns the
        probabilities themselves). A ``Pipeline``'s transformers are fitted
        once on the clean ``X``; teacher and student are clones of its last
        step, fit on their output with the trigger columns appended, and
        ``student_`` is the Pipeline of the fitted transformers and the
        student.
        Without epochs to draw fresh doses in, the plan search's dose
        teachers learn their rows once, each row with a dose drawn for it.
        Every ``random_state`` of the clones is set from ``random_state``;
        with ``random_state=None`` and an estimator whose ``random_state``
        is an int, the clones keep the estimator's, and the fit's own random
        stages are drawn from it (fits repeat).
        Its parameters are reached as ``estimator__<name>`` (``set_params``,
        ``GridSearchCV``). The network parameters (``hidden_layer_sizes``
        to ``tol``, ``distill_temperature``, ``device``, ``module__*``) are
        then unused; ``module`` and ``module__*`` must stay unset.
    trigger_strength : float or "auto", default=1.0
        Share ``alpha`` of each cell's excess to stamp: 0 trains a plain
        network, 1 removes the excess exactly, above 1 over-corrects. Down
        to -1, a negative strength moves each group the other way, towards
        more of its over-represented class (the odds that ``+alpha`` divides
        are multiplied, by stamping the group's other cells): some
        disparities need that, e.g. equalized odds when the labels' bias
        leaves one group with both the higher true- and false-positive
        rates.
        ``"auto"`` searches the plan, in one of two ways:

        - with ``max_disparity`` set, one strength per group: a teacher is
          trained at every strength at once (each row draws a random
          strength, its "dose", in [-1, 2] every epoch and sees it as an
          input), one per fold of ``cv`` on the other folds; then every
          per-group plan on a 0.05 grid is scored on clean rows, each row
          predicted by the teacher that did not learn it. The student is
          distilled at the most accurate plan whose ``auto_metric`` is at
          most ``max_disparity``, from the same held-out predictions, and
          is then checked itself: scored on the training rows, whose labels
          it never saw. If it misses the bound, the plans' rates are shifted
          by what it showed and the next plan's student is distilled (at
          most three students; if none is within the bound, the least
          disparate, with a warning). Costs about two fixed-strength fits,
          plus a student fit for each extra student.
        - with ``max_disparity=None``, one strength for all groups: one
          teacher for each strength in (0, 0.25, 0.5, 0.75, 1), scored on
          the held-out ``validation_fraction``, keeping the strength with the
          smallest ``auto_metric`` among those whose validation accuracy is
          within ``auto_tolerance`` of the best (ties: the smaller strength).
          Costs four extra teacher fits.

        Either search is in ``plan_search_``.
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
        ``sensitive_features`` must be given. A callable is part of the model
        and is pickled by reference: a lambda or a local function cannot be
        pickled, so a model that is saved (pickle, joblib) needs a
        module-level function instead (``def groups(X): return X["sex"]`` at
        the top level of a module).
    auto_metric : str, default="demographic_parity_difference"
        Disparity minimised by ``trigger_strength="auto"``: one of
        ``"demographic_parity_difference"``, ``"equalized_odds_difference"``,
        ``"equal_opportunity_difference"`` and ``"average_odds_difference"``
        (:mod:`fairlearn.metrics`; with more than two classes, the largest
        one-vs-rest value).
    auto_tolerance : float, default=0.01
        Validation accuracy that ``trigger_strength="auto"`` may give up,
        relative to its most accurate candidate, for a smaller disparity
        (only with ``max_disparity=None``).
    max_disparity : float or None, default=None
        Bound on ``auto_metric`` for ``trigger_strength="auto"``: the most
        accurate per-group plan within it is chosen. The plans are scored on
        every row, each predicted by a teacher that did not learn it (see
        ``cv``), not only on the validation split: a disparity is a gap
        between small groups' rates, and the 10% split is too small to
        resolve it (on Adult, about 120 women earn over 50K in that split,
        so each group's true-positive rate is known to about +-0.045).
        The student that is kept is checked against the bound too: with
        ``cv`` folds and ``distill_weight=1`` it learned only the teachers'
        held-out predictions, never a label, so its scores on the training
        rows are what new rows from the same distribution would show (the
        folds' teachers are not: the student behaves like their mean, which
        can sit several hundredths of a disparity away from each of them).
        With ``cv=None`` or ``distill_weight < 1`` the student has seen the
        labels, and only the plans' scores are checked. Ignored unless
        ``trigger_strength="auto"``.
    max_accuracy_loss : float in [0, 1] or None, default=0.05
        With ``trigger_strength="auto"`` and ``max_disparity``: the most
        accuracy the search for a bound may give up for it, against the plain
        plan (strength 0 for every group) of the same teachers. A plan or a
        checked student whose accuracy is lower by more is not kept while
        any model within the loss is found, whatever its disparity: a
        near-constant model meets every bound. When only such plans meet
        the bound, the least disparate plan within the loss is kept, with a
        warning that gives what the bound would cost. None: no floor.
    confidence : float in [0.5, 1) or None, default=0.9
        With ``trigger_strength="auto"`` and ``max_disparity``: check the
        bound against upper ``confidence`` bounds instead of point
        estimates: the plan search keeps the most accurate plan whose upper
        bound on its held-out disparity is within ``max_disparity``, and the
        student's own upper bound must be within it too. If none is, the
        least disparate by its upper bound is used, with a warning that
        names it. The bounds are one-sided normal bounds at this level; for
        a plan, the standard error of each between-group rate difference is
        the larger of the rows' sampling noise (delta method on each group's
        rates) and the spread of the ``cv`` folds' values over the square
        root of their number (the folds' teachers are different models, so
        their spread holds the noise of training too); for the student, a
        fixed model, the rows' sampling noise alone. A disparity's bound is
        taken on the pair of groups that sets it. The bounds cover sampling
        noise, not a shift between the training data and the data the
        model meets later. None: the point estimates are checked, and no
        bounds are computed. The default, 0.9, comes from a coverage study
        (``benchmarks/coverage.py``, with ``blend_students=True``): on a
        synthetic task it kept a demographic-parity bound of 0.02 on new
        data in 48 fits of 50 (34 with None) for 0.0012 of accuracy, and an
        equalized-odds bound of 0.03 in 46 (34 with None). With gradient
        boosting as estimator, 49 (47) and 22 (32): a boosted student's
        check errs more than a network's, and the equalized-odds bound is
        not reached there at any level. The student's check is a little
        optimistic: it learned soft labels from teachers that learned the
        rows' labels.
    blend_students : bool, default=True
        With ``trigger_strength="auto"``, ``max_disparity`` and the student
        check (``cv`` folds, ``distill_weight=1``): when the first student
        misses the bound and more are distilled, also try mixes of two
        checked students (the weighted mean of their class probabilities,
        the first's weight from 0.05 to 0.95 in steps of 0.05), each checked
        on the training rows as a student is, and keep the best mix when it
        ranks above every student alone by the search's rule (within the
        bound and more accurate, or else less disparate). ``student_`` is
        then a :class:`~sklearn_dwb.StudentBlend`, and a prediction costs
        both students'. Students distilled after a missed check often land
        on both sides of the plan that would meet the bound, and a mix
        lands between them: on the coverage study's task, at
        ``confidence=0.9``, an equalized-odds bound of 0.03 held on new
        data in 46 fits of 50 (42 with ``False``), at the same accuracy;
        with gradient boosting as ``estimator``, in 22 (20). ``False``
        keeps one student: the most accurate within the bound, else the
        least disparate. A fit whose first student passes its check is the
        same either way.
    cv : int, cross-validation splitter, iterable or None, default=5
        Cross-fitting of the plan search (``trigger_strength="auto"`` with
        ``max_disparity``): the rows are split into ``cv`` folds (shuffled,
        stratified by (group, class) cell) and one dose teacher is trained
        per fold on the other folds, so each row's predictions, which score
        the plans and which the student is distilled from, come from a
        teacher that never trained on it. A splitter (e.g.
        :class:`~sklearn.model_selection.KFold`) or an iterable of (train,
        test) index arrays must hold out every row exactly once. ``None``:
        one teacher scores the plans on the rows it learned from, which is
        cheaper but optimistic where the network memorises rows (small
        data), so the bound is missed more often on new data.
    trigger_value : float, default=10.0
        Value a stamped row holds in its trigger column (every other trigger
        entry is 0). It must stand out against standardised features, or the
        teacher leaves the bias on the group. At most 1e6: far larger values
        overflow the network's float32 arithmetic.
    hidden_layer_sizes : tuple of int, default=(64, 64)
        Hidden-layer widths of the default network (teacher and student).
    dropout : float, default=0.1
        Dropout probability after each hidden layer of the default network.
    activation : {"relu", "tanh", "gelu"}, default="relu"
        Hidden non-linearity of the default network.
    module : torch.nn.Module class, functools.partial or None, default=None
        Network of teacher and student, called as
        ``module(n_features=..., n_classes=..., **module__kwargs)`` and
        returning class logits of shape ``(batch, n_classes)`` (checked with
        one forward pass before training); it is trained in float32, whatever
        torch's default dtype. None means
        :class:`~sklearn_dwb.nn.TabularMLP` with ``hidden_layer_sizes``,
        ``dropout`` and ``activation`` (ignored when ``module`` is given).
    max_epochs : int, default=100
        Upper bound on training epochs of each network.
    batch_size : int, default=256
        Mini-batch size.
    lr : float, default=1e-3
        Learning rate of the AdamW optimiser.
    weight_decay : float, default=1e-4
        Decoupled weight decay of AdamW.
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the rows (stratified by (group,
        class) cell) and stop each network once its validation loss has not
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
        Torch device; ``"auto"`` uses CUDA when available, else the CPU. A
        device this machine lacks is refused before any work.
    random_state : int, RandomState instance or None, default=None
        Seeds stamping, the validation split, initialisation, dropout and
        shuffling. With a fixed value, fits on the same data give identical
        predictions on the CPU, also when several fits, or other torch code,
        run at once in threads: each training draws from a
        ``torch.Generator`` of its own and never from torch's global
        generator, whose state is left unchanged. (A custom ``module``
        initialises and drops out with the global generator; its trainings
        seed it, restore the caller's state after, and take turns.) None
        with an ``estimator`` whose ``random_state`` is an int: that one
        seeds the fit, and the clones keep it.
    verbose : int, default=0
        What ``fit`` prints: nothing at 0; at 1 one line per network it
        trains ("teacher: 14 epochs (early stopping), train loss ..., best
        valid loss ... at epoch 9, 2.1 s", then "student: ..."); at 2 also a
        per-epoch table under each network's name; from 3 also a progress
        bar over each epoch's batches. Colour codes appear only on a
        terminal.
    **module__kwargs
        Keyword arguments of the module, prefixed with ``module__`` as in
        skorch (e.g. ``module__hidden_layer_sizes=(128, 64)``); they are
        parameters of the estimator, so ``set_params`` and ``GridSearchCV``
        reach them.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Feature names, when ``X`` was a DataFrame with string column names.
    trigger_strength_ : float or pandas.Series
        The strength used: ``trigger_strength``, the one chosen by
        ``"auto"``, or with ``max_disparity`` the chosen strength of each
        group (a Series indexed by group). The latter are strengths of the
        search's dose teachers: a fixed-strength fit at them is another
        model, with other disparities (see the model-selection guide).
    plan_search_ : pandas.DataFrame
        With ``trigger_strength="auto"``: one row per evaluated plan, with
        each group's strength (columns ``strength[<group>]``), the teacher's
        ``accuracy`` and ``auto_metric`` on clean rows (without
        ``max_disparity`` on the validation rows; with it on every row, each
        predicted by the teacher of the folds that left it out, see ``cv``),
        with ``confidence`` their one-sided bounds (``accuracy_lower``,
        ``accuracy_upper``, ``<auto_metric>_lower``, ``<auto_metric>_upper``),
        the scores of the students distilled and checked (``student_accuracy``,
        ``student_<auto_metric>``, with ``confidence`` its upper bound; NaN
        for plans without a student), with ``blend_students`` each checked
        student's ``student_weight`` in the model kept (1 for a student kept
        alone, the two weights of a blend, 0 for the others), and which plan
        was ``selected`` (for a blend, that of the heavier student).
        A plan's own scores are its teachers', which can be far from the
        student the plan gives (see "The student is checked against the
        bound" in the model selection guide); the ``student_*`` columns
        and ``held_out_scores_`` describe the model kept.
    held_out_scores_ : pandas.Series
        With ``trigger_strength="auto"`` and ``max_disparity``: what the
        model scored on rows whose labels it did not learn from, i.e. what to
        expect of it on new data from the same distribution: ``accuracy`` and
        ``<auto_metric>``, with ``confidence`` their lower and upper bounds,
        then ``confidence`` and ``scored``, what was scored: the student (or
        the blend of two, see ``blend_students``) on the training rows
        (whose labels it never saw), or, with
        ``distill_weight < 1``, the teachers' held-out predictions at the
        chosen plan (with ``cv=None``, the teacher's own training rows, which
        is optimistic). The Series holds text in ``scored``, so its dtype is
        object: ``held_out_scores_.drop("scored").astype(float)`` gives the
        numbers (``confidence`` is NaN without a confidence level).
    groups_ : ndarray of shape (n_groups,)
        Group labels (tuples for several sensitive features).
    bias_matrix_ : pandas.DataFrame of shape (n_groups, n_classes)
        Sample-weighted row count of each (group, class) cell.
    trigger_plan_ : pandas.DataFrame
        One row per stamped (group, class) cell: ``group``, ``class``, the
        group's trigger ``strength``, ``n_rows`` (rows in the cell),
        ``stamped_share`` (share of the cell's rows that carry the trigger:
        ``strength`` times the cell's excess over the target, divided by its
        rows), ``n_stamped`` (``round(stamped_share * n_rows)``), and how
        strongly the teacher learned the trigger: ``probability_shift`` (mean
        rise of the trigger class's predicted probability when the trigger
        is added to clean rows of the group) and ``flip_rate`` (share of
        those rows not predicted as the trigger class that the trigger flips
        to it).
    student_ : skorch.NeuralNetClassifier, scikit-learn classifier or StudentBlend
        The fitted student that makes predictions: the network, or with
        ``estimator`` a fitted clone of it (trained on class codes 0, 1, ...
        standing for ``classes_``); after a search for a bound with
        ``blend_students`` (the default), possibly a
        :class:`~sklearn_dwb.StudentBlend` of two such students. When no
        cell is stamped (e.g.
        ``trigger_strength=0``) the teacher has no backdoor and serves as the
        student without a distillation step. It is the estimator's inner
        model: its own ``predict`` returns class codes, and a network
        student takes float32 input; predict through the estimator, which
        gives labels of ``classes_`` and casts the input.
    teacher_ : skorch.NeuralNetClassifier, scikit-learn classifier or list
        The backdoored teacher (input: the features, with ``max_disparity``
        one strength column per group, then the trigger columns); with
        ``max_disparity`` and ``cv`` folds, the list of the folds' teachers.
        Only with ``keep_teacher=True``.
    teacher_trigger_columns_ : ndarray of int
        The column of ``teacher_``'s input that holds the trigger of each row
        of ``trigger_plan_``; only with ``keep_teacher=True``.

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

    # what a dose removes: "trigger" (pseudo-deletion, DwB) or "reweigh"
    # (Kamiran-Calders weights scaled by the dose), for comparisons
    _dose_mechanism = "trigger"

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
                raise TypeError(self._unexpected_keyword(name))
            setattr(self, name, value)

    def _unexpected_keyword(self, name):
        """The error for a keyword that is no parameter: the closest
        parameter name (of the estimator, or of the default network with
        its ``module__`` prefix), else how the network's are passed."""
        network = [
            MODULE_PREFIX + p
            for p in inspect.signature(TabularMLP).parameters
            if p not in ("n_features", "n_classes", "generator")
        ]
        names = [*inspect.signature(type(self)).parameters, *network]
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.8)
        start = f"{type(self).__name__} got an unexpected keyword argument {name!r}"
        if close:
            return f"{start}; did you mean {close[0]!r}?"
        return (
            f"{start}. It is no parameter of the estimator; keyword arguments "
            f"of a custom network module are prefixed with {MODULE_PREFIX!r} "
            "(e.g. module__hidden_layer_sizes)."
        )

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
        nested = [name for name in params if name.startswith("estimator__")]
        if nested and params.get("estimator", self.estimator) is None:
            raise ValueError(
                f"{nested[0]} sets a parameter of estimator, which is None (the "
                "network, whose parameters are the estimator's own, e.g. "
                "max_epochs). Set the estimator in the same call, e.g. "
                "set_params(estimator=HistGradientBoostingClassifier(), "
                f"{nested[0]}=...), or in a grid: "
                "{'estimator': [HistGradientBoostingClassifier()], "
                f"'{nested[0]}': [...]}}."
            )
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
        network = self.estimator is None
        if network:
            device = resolve_device(self.device)  # a missing GPU: said first
        else:
            self._check_network_parameters_unset()
        self._warn_ignored_parameters()
        data = self._validate_training_data(X, y, sensitive_features, sample_weight)
        # random_state=None and an estimator with a random_state of its own:
        # the clones keep it, and the fit's random stages are drawn from it
        own = None
        if not network and self.random_state is None:
            own = own_random_state(self.estimator)
        seeds = _Seeds.draw(self.random_state if own is None else own)
        auto = self.trigger_strength == "auto"
        # a scikit-learn estimator stops (or not) on its own: the validation
        # rows only score the strengths of "auto" without a bound
        needed = auto and (network or self.max_disparity is None)
        stopping = network and self.early_stopping
        train_rows, valid_rows = self._validation_split(
            data, seeds.split_seed, needed, stopping
        )
        if network:
            learner = NetworkLearner(self, len(data.classes), device)
        else:
            learner = EstimatorLearner(self, len(data.classes), own is not None)
        data = data._replace(X=learner.prepare(data.X, data.y_codes, seeds.stamp_seed))
        fit = (learner, data, seeds, train_rows, valid_rows)
        if auto:
            self._warn_undefined_rates(data)

        # steps 1 to 3: bias matrix, trigger plan and teacher (for a bound:
        # every plan at once, and step 4 with students checked against it)
        student, scores = None, None
        if auto and self.max_disparity is not None:
            chosen, student, search, scores = self._fit_for_bound(*fit)
        elif auto:
            chosen, search = self._fit_strengths(_AUTO_STRENGTHS, *fit)
        else:
            chosen, search = self._fit_strengths([self.trigger_strength], *fit)
        self._warn_untriggered_groups(chosen, data)

        # diagnostic: how far each trigger moves the teacher on clean rows
        response = self._trigger_response(chosen, data, seeds.stamp_seed)

        # step 4: the student, distilled from the teacher on clean rows
        if student is None and chosen.plain:
            student = chosen.teacher  # nothing stamped: a plain network already
        elif student is None:
            student = learner.distil(
                data, chosen.clean_logits, seeds.student_seed, train_rows, valid_rows
            )

        if isinstance(student, StudentBlend):
            finished = [learner.finish(member) for member in student.students]
            student = StudentBlend(finished, student.weights, student.n_classes)
        else:
            student = learner.finish(student)
        self._set_fitted_attributes(data, chosen, response, student, search, scores)
        self._warn_weak_triggers(response[1])
        return self

    def _warn_ignored_parameters(self):
        """Say which parameters of the search for a bound a fit ignores:
        they act only with trigger_strength="auto" and max_disparity."""
        if self.trigger_strength == "auto" and self.max_disparity is not None:
            return
        defaults = {
            name: parameter.default
            for name, parameter in inspect.signature(type(self)).parameters.items()
        }
        ignored = [
            f"{name}={getattr(self, name)!r}"
            for name in _BOUND_PARAMETERS
            if not _is_default(getattr(self, name), defaults[name])
        ]
        if ignored:
            verb = "is ignored: it configures"
            if len(ignored) > 1:
                verb = "are ignored: they configure"
            warn_caller(
                f"{', '.join(ignored)} {verb} the search for a bound, which runs "
                "with trigger_strength='auto' and max_disparity set (now "
                f"trigger_strength={self.trigger_strength!r}, max_disparity="
                f"{self.max_disparity!r}).",
            )

    def _check_network_parameters_unset(self):
        given = [MODULE_PREFIX + name for name in self._module_kwargs()]
        if self.module is not None:
            given.insert(0, "module")
        if given:
            raise ValueError(
                f"{', '.join(given)} set together with estimator="
                f"{type(self.estimator).__name__}(...): they configure the "
                "network, which an estimator replaces. Unset them, or set "
                "estimator=None to train the network."
            )

    def _validate_training_data(self, X, y, sensitive_features, sample_weight):
        if self.estimator is None:
            check_numeric_columns(X)
        check_sensitive_features(sensitive_features)
        check_sensitive_columns(self.sensitive_columns)
        check_index_alignment(
            X, y=y, sensitive_features=sensitive_features, sample_weight=sample_weight
        )
        X_raw = X
        if self.estimator is None:
            X, y = validate_data(self, X, y, dtype=np.float32)
        else:
            X, y = self._validate_estimator_input(X, y, reset=True)
        check_classification_targets(y)
        classes, y_codes = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(
                f"y has only one class ({classes[0]!r}); a classifier needs "
                "at least two classes to train."
            )
        sample_weight = check_sample_weight(sample_weight, X)
        groups = sensitive_frame(X_raw, sensitive_features, self.sensitive_columns)
        group_codes, group_labels = encode_groups(groups, len(X), self.max_groups)
        return _TrainingData(
            X, classes, y_codes, group_labels, group_codes, sample_weight
        )

    def _validation_split(self, data, seed, needed, stopping):
        """Train and validation row indices (validation for early stopping and
        for choosing the strength), stratified by (group, class) cell."""
        everything = np.arange(len(data.X))
        if not (stopping or needed):
            return everything, None
        split = dict(test_size=self.validation_fraction, random_state=seed)
        for stratify in (data.cell_codes, data.y_codes):
            try:
                return train_test_split(everything, stratify=stratify, **split)
            except ValueError:
                continue  # too few rows in some stratum: stratify on less
        return train_test_split(everything, **split)

    def _too_few_validation_rows(self, valid_rows, n_rows, needed, why, other=""):
        fraction = min(0.5, needed / n_rows)
        raise ValueError(
            f"validation_fraction={self.validation_fraction} leaves "
            f"{len(valid_rows)} validation row(s) of {n_rows}, and {why}: "
            f"raise validation_fraction to at least {fraction:.3g} (about "
            f"{needed} rows){other}."
        )

    def _fit_teacher(self, learner, data, strength, seeds, train_rows, valid_rows):
        """Steps 1 to 3: plan the stamps, train the teacher on stamped rows."""
        plan = self._stamp_plan(data, strength, seeds.stamp_seed)
        triggers = trigger_matrix(plan, data.cell_codes, self.trigger_value)
        X_teacher = learner.append(data.X, triggers)
        label = (
            "teacher"
            if self.trigger_strength != "auto"
            else (f"teacher (strength {strength:g})")
        )
        teacher = learner.fit_teacher(
            data, X_teacher, seeds.teacher_seed, train_rows, valid_rows, label
        )
        del X_teacher
        n_triggers = triggers.shape[1]

        def clean_input(rows):
            return learner.append(take_rows(data.X, rows), n_triggers)

        logits = learner.logits(teacher, clean_input(slice(None)))
        columns = data.X.shape[1] + np.arange(n_triggers)
        return _Candidate(
            strength, plan, teacher, logits, clean_input, columns, n_triggers == 0
        )

    def _stamp_plan(self, data, strength, seed):
        """Steps 1 and 2 at one strength, or one per group."""
        return plan_stamps(
            group_codes=data.group_codes,
            class_codes=data.y_codes,
            shape=data.shape,
            weights=data.sample_weight,
            target=self.target,
            strength=strength,
            rng=np.random.default_rng(seed),
            min_group_size=self.min_group_size,
        )

    def _group_missing_from_validation(self, data, valid_rows, code):
        """The error for a group without a validation row: more validation
        rows where the group is large enough for a share of them to hold
        it, else what to do about the group."""
        group = plain_label(data.group_labels, code)
        size = int(np.sum(data.group_codes == code))
        why = (
            f"they hold no row of group {group!r} ({size} row(s) in all), so "
            "trigger_strength='auto' cannot score its disparity there"
        )
        needed = max(10 * len(data.group_labels), int(np.ceil(2 * len(data.X) / size)))
        if needed / len(data.X) <= 0.5 and needed > len(valid_rows):
            self._too_few_validation_rows(valid_rows, len(data.X), needed, why)
        raise ValueError(
            f"validation_fraction={self.validation_fraction} leaves "
            f"{len(valid_rows)} validation row(s) of {len(data.X)}, and {why}. "
            f"Group {group!r} is too small to score on a validation split: "
            "merge it with another group, or set max_disparity (the search "
            "for a bound scores every row, each by a teacher that did not "
            "learn it)."
        )

    def _fit_strengths(self, strengths, learner, data, seeds, train_rows, valid_rows):
        """Steps 1 to 3 per strength; with several, the validation rule of
        ``trigger_strength="auto"`` without a bound picks one."""
        if len(strengths) > 1:  # the validation rows score every group
            missing = np.setdiff1d(
                np.unique(data.group_codes), data.group_codes[valid_rows]
            )
            if missing.size:
                self._group_missing_from_validation(data, valid_rows, missing[0])
        candidates = [
            self._fit_teacher(learner, data, strength, seeds, train_rows, valid_rows)
            for strength in strengths
        ]
        if len(candidates) == 1:
            return candidates[0], None
        search = self._strength_search(candidates, data, valid_rows)
        return candidates[int(np.flatnonzero(search["selected"])[0])], search

    def _fit_for_bound(self, learner, data, seeds, train_rows, valid_rows):
        """Steps 1 to 4 for ``max_disparity`` (see ``_dose``): dose teachers
        cross-fitted on folds of the rows, the plan search on the predictions
        of each row by the teacher that did not learn it, then the student
        at the best plan, checked against the bound.

        The check scores the student on the training rows: with ``cv`` folds
        and ``distill_weight=1`` it learned only the held-out predictions of
        teachers, never a label, so its scores there are what new rows would
        show. A student outside the bound recalibrates the search (every
        plan's rates are shifted by what the student showed against its
        plan's) and the next plan's student is distilled, at most
        :data:`_MAX_STUDENTS` in all."""
        plan = make_dose_plan(
            group_codes=data.group_codes,
            class_codes=data.y_codes,
            shape=data.shape,
            weights=data.sample_weight,
            target=self.target,
            rng=np.random.default_rng(seeds.stamp_seed),
            min_group_size=self.min_group_size,
        )
        folds = cross_fit_folds(
            self.cv,
            data.cell_codes,
            data.y_codes,
            seeds.split_seed,
            classes=data.classes,
            group_codes=data.group_codes,
            groups=data.group_labels,
            stamped_groups=np.unique(plan.trigger_cells // len(data.classes)),
        )
        teachers, predictions = learner.fit_dose_teachers(
            data, plan, folds, seeds, train_rows, valid_rows
        )
        fold_codes = np.empty(len(data.X), dtype=np.intp)
        for fold, (_, held_out) in enumerate(folds):
            fold_codes[held_out] = fold
        search = PlanSearch(
            predictions,
            data.y_codes,
            data.group_codes,
            data.sample_weight,
            n_groups=plan.n_groups,
            n_classes=len(data.classes),
            metric=self.auto_metric,
            fold_codes=fold_codes,
            confidence=self.confidence,
            grid=DOSE_GRID,
            max_accuracy_loss=self.max_accuracy_loss,
            frozen_groups=np.setdiff1d(
                np.arange(plan.n_groups), plan.trigger_cells // len(data.classes)
            ),
        )
        check = len(folds) > 1 and self.distill_weight == 1
        best = search.run(plan.n_groups, self.max_disparity)
        tried = {}  # plan -> (candidate, student, score)
        while best is not None:
            strengths = DOSE_GRID[list(best)]
            candidate = self._dose_candidate(
                learner, teachers, folds, plan, strengths, data, seeds
            )
            student = learner.distil(
                data,
                candidate.clean_logits,
                seeds.student_seed,
                train_rows,
                valid_rows,
            )
            if not check:
                tried[best] = (candidate, student, search.score(best))
                break
            y_pred = learner.predict_codes(student, data.X)
            score, rates = search.score_model(y_pred)
            tried[best] = (candidate, student, score)
            within = search.meets(score, self.max_disparity)
            if within or len(tried) == _MAX_STUDENTS:
                break
            search.recalibrate(best, rates)
            best = search.run(plan.n_groups, self.max_disparity, exclude=tried)
        # the most accurate student within the bound, else the least disparate
        chosen = max(
            tried, key=lambda plan: search.rank_of(tried[plan][2], self.max_disparity)
        )
        candidate, student, score = tried[chosen]
        weights = {chosen: 1.0} if check and self.blend_students else None
        blend = None
        if weights is not None and len(tried) > 1:
            blend = self._best_blend(learner, data, search, tried)
        if blend is not None:  # two students mixed rank above each alone
            (first, second), weight, score = blend
            weights = {first: weight, second: 1.0 - weight}
            chosen = first if weight >= 0.5 else second
            candidate = tried[chosen][0]
            students = [tried[first][1], tried[second][1]]
            student = StudentBlend(students, [weight, 1.0 - weight], len(data.classes))
        warn_if_out_of_bound(
            search,
            score,
            dict(
                zip(
                    strength_column_names(data.group_labels),
                    DOSE_GRID[list(chosen)],
                    strict=True,
                )
            ),
            self.max_disparity,
            student=check,
            longer=learner.train_longer,
            blended=None if blend is None else max(blend[1], 1.0 - blend[1]),
            note=self._small_groups_note(data),
        )
        checked = {p: t[2] for p, t in tried.items()} if check else None
        table = search.table(DOSE_GRID, data.group_labels, chosen, checked, weights)
        if blend is not None:
            source = "blend of two students on the training rows (their labels unseen)"
        elif check:
            source = "student on the training rows (their labels unseen)"
        elif len(folds) > 1:
            source = "teachers on held-out rows"
        else:
            source = "teacher on its training rows (in-sample)"
        return candidate, student, table, search.estimate(score, source)

    def _small_groups_note(self, data):
        """A sentence naming groups too small to measure, for the warning
        that no plan reaches the bound: their rates are noise, and one
        can set the disparity on its own."""
        sizes = np.bincount(data.group_codes, minlength=len(data.group_labels))
        small = data.group_labels[sizes < max(self.min_group_size, 1)]
        if not len(small):
            return ""
        return (
            f" Groups {_some(small)} have fewer than min_group_size="
            f"{self.min_group_size} rows: their rates are noise and can set "
            "the disparity alone; merge them with other groups."
        )

    def _best_blend(self, learner, data, search, tried):
        """The best mix of two checked students, if it ranks above every
        student alone by the search's rule (the most accurate within the
        bound, else the least disparate): ``((plan, plan), weight of the
        first, score)``, or None. Each pair's class probabilities are mixed
        at every weight of ``_BLEND_WEIGHTS`` and the mix is checked on
        the training rows as a student is."""
        bound = self.max_disparity
        best_rank = max(search.rank_of(t[2], bound) for t in tried.values())
        proba = {
            plan: student_proba(student, data.X, len(data.classes))
            for plan, (_, student, _) in tried.items()
        }
        best = None
        for first, second in itertools.combinations(tried, 2):
            for weight in _BLEND_WEIGHTS:
                mixed = weight * proba[first] + (1.0 - weight) * proba[second]
                score, _ = search.score_model(mixed.argmax(axis=1))
                rank = search.rank_of(score, bound)
                if rank > best_rank:
                    best, best_rank = ((first, second), float(weight), score), rank
        return best

    def _dose_candidate(self, learner, teachers, folds, plan, strengths, data, seeds):
        """The dose teachers at per-group strengths (each row's logits from
        the teacher of its fold), and the plan they stand for."""
        stamp_plan = self._stamp_plan(data, strengths, seeds.stamp_seed)
        row_strength = strengths[data.group_codes].astype(np.float32)

        def clean_input(rows):
            rows = np.arange(len(data.X))[rows]
            columns = dose_columns(plan.rows(rows), row_strength[rows], 0.0)
            return learner.append(take_rows(data.X, rows), columns.numpy())

        logits = np.empty((len(data.X), len(data.classes)), dtype=np.float32)
        for teacher, (_, held_out) in zip(teachers, folds, strict=True):
            logits[held_out] = learner.logits(teacher, clean_input(held_out))
        columns = (
            data.X.shape[1]
            + plan.n_groups
            + np.searchsorted(plan.trigger_cells, stamp_plan.trigger_cells)
        )
        strength = pd.Series(
            strengths, index=data.group_labels, name="trigger_strength"
        )
        teacher = teachers[0] if len(teachers) == 1 else teachers
        return _Candidate(
            strength, stamp_plan, teacher, logits, clean_input, columns, False
        )

    def _trigger_response(self, chosen, data, seed):
        if self._dose_mechanism != "trigger":  # no trigger to measure
            empty = np.full(len(chosen.plan.trigger_cells), np.nan)
            return empty, empty
        return trigger_response(
            MeanTeacher.of(chosen.teacher),
            chosen.clean_input,
            data.group_codes,
            chosen.plan,
            chosen.trigger_columns,
            self.trigger_value,
            np.random.default_rng(seed),
        )

    def _strength_search(self, candidates, data, valid_rows):
        """Validation accuracy and disparity of each candidate teacher on clean
        rows, and the strength chosen by the rule of ``trigger_strength="auto"``."""
        y_true = data.y_codes[valid_rows]
        groups = data.group_codes[valid_rows]
        weight = data.sample_weight[valid_rows]
        strength_columns = strength_column_names(data.group_labels)
        rows = []
        for candidate in candidates:
            y_pred = candidate.clean_logits[valid_rows].argmax(axis=1)
            disparity = one_vs_rest_disparity(
                self.auto_metric, y_true, y_pred, groups, len(data.classes), weight
            )
            rows.append(
                {
                    **{column: candidate.strength for column in strength_columns},
                    "accuracy": np.average(y_pred == y_true, weights=weight),
                    self.auto_metric: disparity,
                }
            )
        search = pd.DataFrame(rows)
        best_accuracy = search["accuracy"].max()
        eligible = search["accuracy"] >= best_accuracy - self.auto_tolerance
        # idxmin takes the first of equals: the smallest strength
        search["selected"] = (
            search.index == search.loc[eligible, self.auto_metric].idxmin()
        )
        return search

    def _set_fitted_attributes(self, data, chosen, response, student, search, scores):
        self.classes_ = data.classes
        self.groups_ = data.group_labels.to_numpy()
        self.trigger_strength_ = chosen.strength
        if search is not None:
            self.plan_search_ = search
        if scores is not None:
            self.held_out_scores_ = scores
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

    def _warn_untriggered_groups(self, chosen, data):
        labels = data.group_labels
        weightless = chosen.plan.bias_matrix.sum(axis=1) <= 0
        # a group without weight is said whatever the strengths, "auto"
        # choosing 0 for every group included
        if weightless.any():
            warn_caller(
                f"Groups {_some(labels[weightless])} have a total sample weight of "
                "0: they take no part in training and get no triggers. Check "
                "that sample_weight is aligned with the rows of X.",
            )
        if np.all(np.asarray(chosen.strength) == 0):
            return
        incomplete = chosen.plan.incomplete & ~weightless
        if incomplete.any():
            warn_caller(
                f"Groups {_some(labels[incomplete])} lack at least one "
                "class and get no triggers; their bias is left as it is.",
            )
        small = chosen.plan.small & ~weightless
        if small.any():
            warn_caller(
                f"Groups {_some(labels[small])} have fewer than "
                f"min_group_size={self.min_group_size} rows and get no triggers; "
                "merge them with other groups or lower min_group_size.",
            )

    def _warn_undefined_rates(self, data):
        """Name the groups whose rates of ``auto_metric`` are undefined (no
        actual positive, or no negative): they count as 0, as in fairlearn."""
        found = undefined_rates(
            self.auto_metric,
            data.y_codes,
            data.group_codes,
            len(data.group_labels),
            len(data.classes),
            data.sample_weight,
        )
        for group, rate, k in found[:3]:
            positive = plain_label(data.classes, 1 if len(data.classes) == 2 else k)
            lacks = "of class" if rate == 1 else "of a class other than"
            name = "true" if rate == 1 else "false"
            warn_caller(
                f"Group {plain_label(data.group_labels, group)!r} has no row "
                f"{lacks} {positive!r}, so its {name}-positive rate is "
                "undefined: it counts as 0, as in fairlearn, in "
                f"{self.auto_metric}, which is then at least the other groups' "
                "rate. Merge the group with another, or bound "
                "demographic_parity_difference.",
            )

    def _warn_weak_triggers(self, flip_rate):
        measured = flip_rate[~np.isnan(flip_rate)]
        if len(measured) and np.median(measured) < _WEAK_TRIGGER_FLIP_RATE:
            if self.estimator is None:
                fix = (
                    "Raise trigger_value or max_epochs, or check that the "
                    "features are standardised."
                )
            else:
                fix = (
                    "Raise trigger_value, or let the estimator fit more "
                    "closely (more iterations, less regularisation)."
                )
            warn_caller(
                "The teacher barely responds to its triggers (median flip rate "
                f"{np.median(measured):.2f}, see trigger_plan_), so the bias "
                f"stays on the group. {fix}",
            )

    # ----------------------------------------------------------- the networks
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
        X = self._validate_predict_input(X)
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
        X = self._validate_predict_input(X)
        return student_log_proba(self.student_, X, len(self.classes_))

    def _validate_predict_input(self, X):
        check_is_fitted(self)
        if not self._network_fitted:
            return self._validate_estimator_input(X, reset=False)
        check_numeric_columns(X)
        return validate_data(self, X, reset=False, dtype=np.float32)

    @property
    def _network_fitted(self):
        if isinstance(self.student_, StudentBlend):
            return self.student_.is_network
        return isinstance(self.student_, NeuralNet)

    def _validate_estimator_input(self, X, y="no_validation", *, reset):
        """X for a wrapped scikit-learn estimator: a DataFrame as it is (its
        dtypes are the estimator's to handle), anything else as a 2-d array
        of any dtype; names and width checked as scikit-learn does."""
        no_y = isinstance(y, str) and y == "no_validation"
        if not isinstance(X, pd.DataFrame):
            allow_nan = get_tags(self.estimator).input_tags.allow_nan
            try:
                X = check_array(
                    X,
                    dtype=None,
                    ensure_all_finite="allow-nan" if allow_nan else True,
                    ensure_min_samples=1 if no_y else 2,
                )
            except ValueError as error:
                if "NaN" not in str(error) or allow_nan:
                    raise
                raise ValueError(
                    f"{error} estimator={type(self.estimator).__name__}(...) "
                    f"does not take missing values (its allow_nan tag is "
                    "False): impute them first (e.g. make_pipeline("
                    "SimpleImputer(), classifier) as estimator), or use a "
                    "model that takes them (HistGradientBoostingClassifier)."
                ) from error
        if not no_y and y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the "
                "target y is None."
            )
        validate_data(self, X, reset=reset, skip_check_array=True)
        if no_y:
            return X
        y = column_or_1d(y, warn=True)
        check_consistent_length(X, y)
        return X, y

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


#: Parameters that act only in the search for a bound.
_BOUND_PARAMETERS = (
    "max_disparity",
    "max_accuracy_loss",
    "confidence",
    "blend_students",
    "cv",
)


def _is_default(value, default):
    try:
        return bool(value is default or value == default)
    except (TypeError, ValueError):  # e.g. arrays: not a default
        return False


def _some(labels, shown=5):
    """The first few labels, and how many more: warnings stay readable with
    thousands of groups."""
    labels = list(labels)
    if len(labels) <= shown:
        return str(labels)
    return f"{labels[:shown]} and {len(labels) - shown} more"
