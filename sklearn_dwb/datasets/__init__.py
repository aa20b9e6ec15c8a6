"""Datasets: real fairness benchmarks and a generator of group-biased problems."""

from ._encoding import make_tabular_encoder
from ._fetch import (
    fetch_adult,
    fetch_bank_marketing,
    fetch_compas,
    fetch_credit_default,
    fetch_german,
    get_data_home,
)
from ._synthetic import make_biased_classification

__all__ = [
    "fetch_adult",
    "fetch_bank_marketing",
    "fetch_compas",
    "fetch_credit_default",
    "fetch_german",
    "get_data_home",
    "make_biased_classification",
    "make_tabular_encoder",
]
