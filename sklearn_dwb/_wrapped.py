"""What DwB needs of a wrapped scikit-learn classifier (``estimator=``):
the checks, with their fixes, the seeded clones, and fits with row
weights."""

import inspect

import numpy as np
from sklearn import get_config
from sklearn.base import clone
from sklearn.exceptions import UnsetMetadataPassedError
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import has_fit_parameter

from ._learners import is_int
from ._tuning import DECISIVE_SHARE


def check_wrapped_estimator(estimator):
    """A clear error for a classifier DwB cannot train: it needs
    ``predict_proba`` (the teacher's soft labels) and ``sample_weight`` in
    ``fit`` (the sample weights, the dose copies and the soft labels).

    A meta-estimator may offer ``predict_proba`` only once fitted (a
    ``StackingClassifier``, through scikit-learn's ``available_if``): one
    whose class defines it passes here and is checked after its first fit
    (:func:`check_has_predict_proba`). ``sample_weight`` passes as a
    parameter of ``fit`` or through its ``**kwargs`` (``VotingClassifier``,
    ``GridSearchCV``); a fit that then refuses it is reported by
    :func:`fit_weighted`."""
    if not hasattr(type(estimator), "predict_proba"):
        check_has_predict_proba(estimator)
    final = estimator[-1] if isinstance(estimator, Pipeline) else estimator
    if final is not None and final != "passthrough" and not _takes_sample_weight(final):
        raise ValueError(
            f"estimator={type(estimator).__name__}(...) does not take "
            f"sample_weight in fit ({type(final).__name__}.fit has no such "
            "parameter, nor **kwargs to pass it on). DwB gives a scikit-learn "
            "student the teacher's soft labels as weighted copies of its "
            "rows, so it needs one: use a classifier whose fit takes "
            "sample_weight (e.g. HistGradientBoostingClassifier, "
            "LogisticRegression, RandomForestClassifier)."
        )


def _takes_sample_weight(estimator):
    if has_fit_parameter(estimator, "sample_weight"):
        return True
    parameters = inspect.signature(estimator.fit).parameters.values()
    return any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)


def check_has_predict_proba(model):
    """Refuse a model without ``predict_proba`` (checked on the unfitted
    estimator, or once fitted where its class offers it only then)."""
    if hasattr(model, "predict_proba"):
        return
    raise ValueError(
        f"estimator={type(model).__name__}(...) has no predict_proba, which "
        "DwB needs for the teacher's soft labels. Use a classifier with "
        "predict_proba, or wrap it in sklearn.calibration.CalibratedClassifierCV "
        "(e.g. CalibratedClassifierCV(SVC(), ensemble=False))."
    )


def check_student_follows(estimator, predicted, target, weight):
    """Refuse a student that predicts the class its soft labels favour less
    often than a constant model would, on the rows whose soft label is
    decisive (:data:`DECISIVE_SHARE`): its fit did not learn from the
    weighted copies that carry the teacher's probabilities."""
    decisive = target.max(axis=1) >= DECISIVE_SHARE
    weight = weight[decisive]
    if weight.sum() <= 0:
        return
    wanted = target[decisive].argmax(axis=1)
    agreement = np.average(predicted[decisive] == wanted, weights=weight)
    constant = np.bincount(wanted, weight).max() / weight.sum()
    if agreement >= constant:
        return
    name = type(estimator).__name__
    raise ValueError(
        f"The student, a clone of estimator={name}(...), predicts the class "
        f"its soft labels favour on {agreement:.0%} of the training rows, "
        f"fewer than a constant model would ({constant:.0%}): it did not "
        "learn from the weighted copies of rows that carry the teacher's "
        "probabilities (SVC(probability=True), for one, calibrates by an "
        "internal cross-validation that ignores sample_weight). Wrap the "
        "classifier in sklearn.calibration.CalibratedClassifierCV, e.g. "
        "CalibratedClassifierCV(SVC(), ensemble=False), or use one whose fit "
        "weighs rows throughout (HistGradientBoostingClassifier, "
        "LogisticRegression)."
    )


#: Per-feature settings of scikit-learn, LightGBM and XGBoost classifiers,
#: and the value a teacher's trigger and dose columns get in them: not
#: categorical, no monotonic constraint.
PER_FEATURE_PARAMS = {
    "categorical_features": False,
    "monotonic_cst": 0,
    "monotone_constraints": 0,
}


def widen_per_feature_params(model, n_features, n_extra):
    """``model`` with its per-feature settings given per column of the
    user's ``n_features`` (a boolean mask, a list of constraints) extended
    to the ``n_extra`` columns a teacher learns besides them."""
    params = model.get_params(deep=False)
    widened = {}
    for name, fill in PER_FEATURE_PARAMS.items():
        value = params.get(name)
        if value is None or isinstance(value, (str, dict)):
            continue  # by name, from dtypes, or none: nothing to extend
        array = np.asarray(value)
        if array.ndim != 1 or len(array) != n_features:
            continue
        if fill is False and array.dtype != bool:
            continue  # categorical features by index: extra columns unnamed
        padded = [*array.tolist(), *[fill] * n_extra]
        widened[name] = (
            type(value)(padded)
            if isinstance(value, (list, tuple))
            else (np.asarray(padded, dtype=array.dtype))
        )
    return model.set_params(**widened)


def own_random_state(estimator):
    """The first integer ``random_state`` of ``estimator`` (its own or a
    step's), or None."""
    for name, value in estimator.get_params(deep=True).items():
        if (name == "random_state" or name.endswith("__random_state")) and is_int(
            value
        ):
            return int(value)
    return None


def seeded_clone(estimator, seed):
    """A clone of ``estimator`` with every ``random_state`` it has (its own
    and its steps', for a Pipeline) set to ``seed``, as scikit-learn's
    ensembles seed their members; with ``seed=None``, a clone that keeps
    them."""
    model = clone(estimator)
    if seed is None:
        return model
    seeded = {
        name: int(seed)
        for name in model.get_params(deep=True)
        if name == "random_state" or name.endswith("__random_state")
    }
    return model.set_params(**seeded)


def fit_weighted(model, X, y, sample_weight):
    """``model.fit(X, y)`` with row weights; a Pipeline passes them to its
    last step (with metadata routing on, the clone's last step requests
    them unless its request was set). Weights that are all 1 are not
    passed: scikit-learn's estimators fit the same model without them, and
    some fit it faster (HistGradientBoosting bins weighted rows by weighted
    percentiles, several times slower)."""
    routing = get_config()["enable_metadata_routing"]
    if np.all(np.asarray(sample_weight) == 1):
        params = {}
    elif isinstance(model, Pipeline) and not routing:
        params = {f"{model.steps[-1][0]}__sample_weight": sample_weight}
    else:
        params = {"sample_weight": sample_weight}
        if isinstance(model, Pipeline):
            last = model.steps[-1][1]
            requests = last.get_metadata_routing().fit.requests
            if requests.get("sample_weight") is None:
                last.set_fit_request(sample_weight=True)
    try:
        return model.fit(X, y, **params)
    except UnsetMetadataPassedError as error:
        raise ValueError(
            f"With metadata routing on, estimator={type(model).__name__}(...) "
            "passes sample_weight on only to the estimators inside it that "
            "request it, and DwB's soft labels are weights: call "
            "set_fit_request(sample_weight=True) on the classifier inside it."
        ) from error
    except TypeError as error:
        if "sample_weight" not in str(error):
            raise
        raise ValueError(
            f"estimator={type(model).__name__}(...) refused sample_weight in "
            f"fit ({error}). DwB gives a scikit-learn student the teacher's "
            "soft labels as weighted copies of its rows, so it needs a "
            "classifier whose fit takes sample_weight."
        ) from error
    except ValueError as error:
        hint = next(
            (fix for found, fix in _INPUT_FIXES.items() if found in str(error)), None
        )
        if hint is None:
            raise
        raise ValueError(
            f"estimator={type(model).__name__}(...) refused the training "
            f"input ({error}). DwB passes X to the estimator as it is: {hint}"
        ) from error


#: Input a wrapped estimator refuses (a fragment of its error) and the fix.
_INPUT_FIXES = {
    "could not convert string to float": (
        "encode the text columns first (e.g. a Pipeline of a ColumnTransformer "
        "with a OneHotEncoder and the classifier, as estimator), or use a "
        "model that takes them (HistGradientBoostingClassifier("
        "categorical_features='from_dtype') with pandas categoricals)."
    ),
    "contains NaN": (
        "impute the missing values first (e.g. make_pipeline(SimpleImputer(), "
        "classifier) as estimator), or use a model that takes them "
        "(HistGradientBoostingClassifier)."
    ),
}
